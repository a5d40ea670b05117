/*
 * brand_hello - the tiny program t_brand.sh brands: prints "hello" and exits
 * 0 (a branded copy must still run as a plain program: Linux ignores the
 * brand).  With the argument "wait" it sleeps up to 10 s first, so the test
 * can try to brand a running program.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "wait") == 0)
		sleep(10);
	printf("hello\n");
	return 0;
}
