/*
 * dios brand - stamp or show the DIOS brand of ELF files (dios_brand.h).
 *
 *   dios brand --pure|--limbo|--legacy-limbo FILE...
 *   dios brand --show FILE...
 *
 * Branding writes two bytes in place, e_ident[EI_OSABI] = 0xD1 and
 * e_ident[EI_ABIVERSION] = the brand, after checking that the file is an ELF
 * file of this machine's class (32/64-bit) and byte order: a DIOS task runs
 * here.  Every file is tried; the exit status is 1 if any could not be
 * branded (or, with --show, if any is not branded), 2 for a bad command line.
 */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <dios/dios_brand.h>

#include "dios_tool.h"

static const char brand_usage[] =
	"usage: dios brand --pure|--limbo|--legacy-limbo FILE...\n"
	"       dios brand --show FILE...\n"
	"  --pure          Pure DIOS: runs under the seccomp allowlist (docs/PURE_DIOS.md)\n"
	"  --limbo         DIOS Limbo: DIOS calls and Linux calls\n"
	"  --legacy-limbo  Legacy Limbo: a Linux program run as a DIOS task\n"
	"  --show          print each FILE's brand; exit 1 unless all are branded\n";

#if __SIZEOF_POINTER__ == 8
#define HOST_CLASS ELFCLASS64
#else
#define HOST_CLASS ELFCLASS32
#endif
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define HOST_DATA ELFDATA2LSB
#else
#define HOST_DATA ELFDATA2MSB
#endif

/* Reads the 16-byte ident; returns bytes read (< 16 for a short file) or -1 with errno. */
static ssize_t read_ident(int fd, unsigned char ident[EI_NIDENT])
{
	size_t got = 0;
	while (got < EI_NIDENT) {
		ssize_t n = pread(fd, ident + got, EI_NIDENT - got, (off_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

static int is_elf(const unsigned char *ident, ssize_t n)
{
	return n == EI_NIDENT && memcmp(ident, ELFMAG, SELFMAG) == 0;
}

/* --show one file: 0 branded, 1 not (or unreadable). */
static int show(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "dios brand: %s: %s\n", printable(path), strerror(errno));
		return 1;
	}
	unsigned char ident[EI_NIDENT];
	ssize_t n = read_ident(fd, ident);
	int e = errno;
	close(fd);
	if (n < 0) {
		fprintf(stderr, "dios brand: %s: %s\n", printable(path), strerror(e));
		return 1;
	}
	if (!is_elf(ident, n)) {
		printf("%s: not an ELF file\n", printable(path));
		return 1;
	}
	int b = dios_elf_brand_of(ident);
	if (b < 0) {
		printf("%s: unbranded (OSABI 0x%02x ABIVERSION 0x%02x)\n", printable(path),
		       ident[EI_OSABI], ident[EI_ABIVERSION]);
		return 1;
	}
	printf("%s: %s\n", printable(path), dios_brand_name(b));
	return 0;
}

/* Brand one file: 0 done, 1 refused or failed (with a message). */
static int stamp(const char *path, int brand)
{
	int fd = open(path, O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		int e = errno;
		if (e == ETXTBSY)
			fprintf(stderr, "dios brand: %s: %s (the program is running; brand a copy)\n",
				path, strerror(e));
		else
			fprintf(stderr, "dios brand: %s: %s\n", printable(path), strerror(e));
		return 1;
	}
	unsigned char ident[EI_NIDENT];
	ssize_t n = read_ident(fd, ident);
	if (n < 0) {
		fprintf(stderr, "dios brand: %s: %s\n", printable(path), strerror(errno));
		close(fd);
		return 1;
	}
	const char *why = NULL;
	if (!is_elf(ident, n))
		why = "not an ELF file";
	else if (ident[EI_CLASS] != HOST_CLASS)
		why = HOST_CLASS == ELFCLASS64 ? "not a 64-bit ELF file (this machine runs 64-bit programs)"
					       : "not a 32-bit ELF file (this machine runs 32-bit programs)";
	else if (ident[EI_DATA] != HOST_DATA)
		why = "ELF file of the other byte order than this machine's";
	if (why) {
		fprintf(stderr, "dios brand: %s: %s; not branded\n", printable(path), why);
		close(fd);
		return 1;
	}
	/* EI_OSABI and EI_ABIVERSION are adjacent: one 2-byte write */
	unsigned char b[2] = { DIOS_ELF_OSABI, (unsigned char)brand };
	_Static_assert(DIOS_ELF_EI_ABIVERSION == DIOS_ELF_EI_OSABI + 1 && DIOS_ELF_EI_OSABI == EI_OSABI,
		       "OSABI and ABIVERSION are adjacent");
	ssize_t w;
	do
		w = pwrite(fd, b, sizeof b, DIOS_ELF_EI_OSABI);
	while (w < 0 && errno == EINTR);
	int e = errno;
	if (close(fd) != 0 && w == (ssize_t)sizeof b) {
		w = -1;
		e = errno;
	}
	if (w != (ssize_t)sizeof b) {
		fprintf(stderr, "dios brand: %s: writing the brand: %s\n", printable(path),
			w < 0 ? strerror(e) : "short write");
		return 1;
	}
	return 0;
}

int dios_brand_main(int argc, char **argv)
{
	int brand = 0, do_show = 0, nfiles = 0, rc = 0;
	const char *mode = NULL;
	int i = 1;
	for (; i < argc; i++) {
		const char *a = argv[i];
		int b = -1;
		if (strcmp(a, "--") == 0) {
			i++;
			break;
		} else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			fputs(brand_usage, stdout);
			return 0;
		} else if (strcmp(a, "--pure") == 0) {
			b = DIOS_BRAND_PURE;
		} else if (strcmp(a, "--limbo") == 0) {
			b = DIOS_BRAND_LIMBO;
		} else if (strcmp(a, "--legacy-limbo") == 0) {
			b = DIOS_BRAND_LEGACY_LIMBO;
		} else if (strcmp(a, "--show") == 0) {
			b = 0;
		} else if (a[0] == '-' && a[1]) {
			fprintf(stderr, "dios brand: unknown option '%s'\n%s", printable(a), brand_usage);
			return 2;
		} else {
			break;
		}
		if (mode && strcmp(mode, a) != 0) {
			fprintf(stderr, "dios brand: %s and %s: one at a time\n%s", mode, printable(a), brand_usage);
			return 2;
		}
		mode = a;
		if (b == 0)
			do_show = 1;
		else
			brand = b;
	}
	if (!mode) {
		fprintf(stderr, "dios brand: say --pure, --limbo, --legacy-limbo or --show\n%s", brand_usage);
		return 2;
	}
	for (; i < argc; i++) {
		nfiles++;
		rc |= do_show ? show(argv[i]) : stamp(argv[i], brand);
	}
	if (nfiles == 0) {
		fprintf(stderr, "dios brand: no FILE given\n%s", brand_usage);
		return 2;
	}
	if (fflush(stdout) != 0) {
		fprintf(stderr, "dios brand: writing the output: %s\n", strerror(errno));
		return 1;
	}
	return rc;
}
