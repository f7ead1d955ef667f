/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * banner server PORT TEXT NCONN [ADDR]: listen on ADDR (else INADDR_ANY)
 * port PORT, write TEXT and a newline to each of NCONN connections, then
 * exit 0 (exit 1 after 15 s without a connection). Prints "listening"
 * once listen() succeeded.
 * banner client ADDR PORT: connect and print what the server wrote.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	int s, one = 1;

	if ((argc == 5 || argc == 6) && !strcmp(argv[1], "server")) {
		int n = atoi(argv[4]);

		if (argc == 6 && inet_pton(AF_INET, argv[5], &sin.sin_addr) != 1)
			return 2;

		sin.sin_port = htons(atoi(argv[2]));
		s = socket(AF_INET, SOCK_STREAM, 0);
		setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (s < 0 || bind(s, (struct sockaddr *)&sin, sizeof(sin)) ||
		    listen(s, 4)) {
			printf("banner: %s\n", strerror(errno));
			return 1;
		}
		printf("listening\n");
		fflush(stdout);
		for (int i = 0; i < n; i++) {
			struct pollfd p = {.fd = s, .events = POLLIN};
			int c;

			if (poll(&p, 1, 15000) != 1) {
				printf("banner: no client\n");
				return 1;
			}
			c = accept(s, NULL, NULL);
			if (c < 0) {
				printf("banner: accept: %s\n", strerror(errno));
				return 1;
			}
			dprintf(c, "%s\n", argv[3]);
			close(c);
		}
		return 0;
	}
	if (argc == 4 && !strcmp(argv[1], "client")) {
		char buf[256];
		ssize_t r, got = 0;

		sin.sin_port = htons(atoi(argv[3]));
		if (inet_pton(AF_INET, argv[2], &sin.sin_addr) != 1)
			return 2;
		s = socket(AF_INET, SOCK_STREAM, 0);
		if (s < 0 || connect(s, (struct sockaddr *)&sin, sizeof(sin))) {
			printf("connect: %s\n", strerror(errno));
			return 1;
		}
		while ((r = read(s, buf + got, sizeof(buf) - 1 - got)) > 0)
			got += r;
		buf[got] = 0;
		fputs(buf, stdout);
		return 0;
	}
	fprintf(stderr, "usage: banner server PORT TEXT NCONN [ADDR] | "
			"banner client ADDR PORT\n");
	return 2;
}
