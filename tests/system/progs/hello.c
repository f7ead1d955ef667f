/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * hello: makes a TCP socket and prints "hello NAME" with the vimage it
 * runs in. The script also builds it with -static, which vimage(8) must
 * refuse (a static binary's socket calls cannot be interposed).
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

int main(void)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	const char *n = getenv("VIMAGE_NAME");

	if (s < 0) {
		perror("socket");
		return 1;
	}
	close(s);
	printf("hello %s\n", n ? n : "(none)");
	return 0;
}
