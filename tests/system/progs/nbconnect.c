/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * nbconnect nonblock|block ADDR PORT: connect and print what happened.
 *   nonblock: "connect: EINPROGRESS" (or "connect: 0"), then after poll for
 *             POLLOUT (5 s at most) "poll: POLLOUT" and "so_error: NAME"
 *   block:    "connect: 0" or "connect: NAME"
 * NAME is the errno's symbolic name (0 for none). Exit 0 in every case in
 * which the calls themselves behaved; the script checks the lines.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char *ename(int e)
{
	static char buf[32];

	switch (e) {
	case 0: return "0";
	case EINPROGRESS: return "EINPROGRESS";
	case ECONNREFUSED: return "ECONNREFUSED";
	case ETIMEDOUT: return "ETIMEDOUT";
	case ENETUNREACH: return "ENETUNREACH";
	case EHOSTUNREACH: return "EHOSTUNREACH";
	case EAGAIN: return "EAGAIN";
	case EALREADY: return "EALREADY";
	case EISCONN: return "EISCONN";
	case ECONNRESET: return "ECONNRESET";
	case EINVAL: return "EINVAL";
	}
	snprintf(buf, sizeof(buf), "errno%d", e);
	return buf;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	int s, nb, err = 0;
	socklen_t len = sizeof(err);

	if (argc != 4 || inet_pton(AF_INET, argv[2], &sin.sin_addr) != 1) {
		fprintf(stderr, "usage: nbconnect nonblock|block ADDR PORT\n");
		return 2;
	}
	nb = !strcmp(argv[1], "nonblock");
	sin.sin_port = htons(atoi(argv[3]));
	s = socket(AF_INET, SOCK_STREAM | (nb ? SOCK_NONBLOCK : 0), 0);
	if (s < 0) {
		perror("socket");
		return 1;
	}
	if (connect(s, (struct sockaddr *)&sin, sizeof(sin)) == 0) {
		printf("connect: 0\n");
	} else {
		printf("connect: %s\n", ename(errno));
		if (!nb || errno != EINPROGRESS)
			return 0;
		struct pollfd p = {.fd = s, .events = POLLOUT};
		int n = poll(&p, 1, 5000);

		if (n <= 0) {
			printf("poll: %s\n", n ? strerror(errno) : "timeout");
			return 1;
		}
		printf("poll:%s%s%s%s\n", p.revents & POLLOUT ? " POLLOUT" : "",
		       p.revents & POLLERR ? " POLLERR" : "",
		       p.revents & POLLHUP ? " POLLHUP" : "",
		       p.revents & POLLIN ? " POLLIN" : "");
	}
	if (getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &len)) {
		perror("getsockopt SO_ERROR");
		return 1;
	}
	printf("so_error: %s\n", ename(err));
	if (!err) {
		/* Connected: the connection must carry bytes. */
		if (nb) {
			int fl = fcntl(s, F_GETFL);

			fcntl(s, F_SETFL, fl & ~O_NONBLOCK);
		}
		if (write(s, "ping\n", 5) != 5) {
			perror("write");
			return 1;
		}
		char buf[16];
		ssize_t r = read(s, buf, sizeof(buf));

		printf("echo: %zd\n", r);
	}
	close(s);
	return 0;
}
