/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * blast: a TCP stream without end, for the fault tests.
 *
 *   blast send ADDR PORT   connect and write 64 KiB blocks until a write
 *                          fails; print "send: ERRNO after N bytes", exit 1
 *   blast recv ADDR PORT   listen on ADDR:PORT, print "listening", accept
 *                          one connection and read until end of stream or
 *                          an error; print "recv: EOF after N bytes"
 *                          (exit 0) or "recv: ERRNO after N bytes" (exit 1)
 *
 * ERRNO is the symbolic name (EPIPE, ECONNRESET, ...). SIGPIPE is ignored
 * so that a write to a broken connection fails with EPIPE.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char *ename(int e)
{
	static char buf[32];

	switch (e) {
	case EPIPE: return "EPIPE";
	case ECONNRESET: return "ECONNRESET";
	case ECONNABORTED: return "ECONNABORTED";
	case ENOTCONN: return "ENOTCONN";
	case ETIMEDOUT: return "ETIMEDOUT";
	case ENETDOWN: return "ENETDOWN";
	case EBADF: return "EBADF";
	case EIO: return "EIO";
	}
	snprintf(buf, sizeof(buf), "errno%d", e);
	return buf;
}

int main(int argc, char **argv)
{
	static char buf[65536];
	struct sockaddr_in sin = {.sin_family = AF_INET};
	unsigned long long total = 0;
	int s, one = 1;

	if (argc != 4 || inet_pton(AF_INET, argv[2], &sin.sin_addr) != 1) {
		fprintf(stderr, "usage: blast send|recv ADDR PORT\n");
		return 2;
	}
	sin.sin_port = htons(atoi(argv[3]));
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	s = socket(AF_INET, SOCK_STREAM, 0);
	if (s < 0) {
		printf("socket: %s\n", ename(errno));
		return 1;
	}
	if (!strcmp(argv[1], "send")) {
		if (connect(s, (struct sockaddr *)&sin, sizeof(sin))) {
			printf("connect: %s\n", ename(errno));
			return 1;
		}
		for (;;) {
			ssize_t w = write(s, buf, sizeof(buf));

			if (w < 0) {
				printf("send: %s after %llu bytes\n",
				       ename(errno), total);
				return 1;
			}
			total += (unsigned long long)w;
		}
	}
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(s, (struct sockaddr *)&sin, sizeof(sin)) || listen(s, 1)) {
		printf("listen: %s\n", ename(errno));
		return 1;
	}
	printf("listening\n");
	int c = accept(s, NULL, NULL);

	if (c < 0) {
		printf("accept: %s\n", ename(errno));
		return 1;
	}
	for (;;) {
		ssize_t r = read(c, buf, sizeof(buf));

		if (r == 0) {
			printf("recv: EOF after %llu bytes\n", total);
			return 0;
		}
		if (r < 0) {
			printf("recv: %s after %llu bytes\n", ename(errno),
			       total);
			return 1;
		}
		total += (unsigned long long)r;
	}
}
