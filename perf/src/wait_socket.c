/* wait_socket PATH SECONDS - exit 0 once a SOCK_SEQPACKET connect to PATH succeeds, 1 on timeout. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: %s PATH SECONDS\n", argv[0]);
		return 2;
	}
	struct sockaddr_un a;
	memset(&a, 0, sizeof(a));
	a.sun_family = AF_UNIX;
	if (strlen(argv[1]) >= sizeof(a.sun_path))
		return 2;
	strcpy(a.sun_path, argv[1]);
	time_t end = time(NULL) + atoi(argv[2]);
	do {
		int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
		if (s >= 0 && connect(s, (struct sockaddr *)&a, sizeof(a)) == 0) {
			close(s);
			return 0;
		}
		if (s >= 0)
			close(s);
		usleep(20000);
	} while (time(NULL) < end);
	fprintf(stderr, "wait_socket: nothing accepted on %s within %s s\n", argv[1], argv[2]);
	return 1;
}
