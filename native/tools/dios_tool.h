/*
 * dios_tool.h - what the dios tool's subcommands in other files share with
 * dios.c: finding the daemon and its admin socket (docs/PROTOCOL.md, section 12).
 */
#ifndef DIOS_TOOL_H
#define DIOS_TOOL_H

#include <stddef.h>

/* The socket the shim would use, then the system service's if that one does not exist. */
const char *default_socket(char *buf, size_t size);

/*
 * s made safe to print (dios.c): C0 controls, DEL and C1 controls become \xHH,
 * so nothing a task named can send the terminal an escape.  Returns s when it
 * is clean, else a new string (exits 1 when out of memory).
 */
char *clean_field(char *s);

/* A copy of s made safe to print as clean_field does (s may be NULL: ""); exits 1 when out of memory. */
const char *printable(const char *s);

/* Connects to the admin socket beside `sock` (15 s send/receive timeouts); exits 1 with a message on failure. */
int connect_admin(const char *sock);

/*
 * dios trace [--task ID] [--raw]: tails every call of the daemon at `sock`
 * (NULL: the default) until Ctrl-C (docs/PROTOCOL.md, section 13).  argv holds
 * the arguments after "trace"; raw: --raw was given before it.  Returns the
 * exit status.
 */
int dios_trace_main(const char *sock, int raw, int argc, char **argv);

/* dios_brand.c: `dios brand`, no daemon needed.  argv[0] is "brand". */
int dios_brand_main(int argc, char **argv);

/* dios_run.c: `dios run`, a task of the daemon (through libdlibc).  argv[0] is "run". */
int dios_run_main(int argc, char **argv);

#endif
