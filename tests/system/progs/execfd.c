/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * execfd ADDR PORT: connect to an echo server, then execve this same
 * binary as "execfd --fd N" with the socket inherited; the new image
 * sends 20 messages on descriptor N, checks every echo, and checks
 * getsockname/getpeername (which need the shim to know N again).
 * Prints "exec: 20 echoed on fd N, peer ADDR:PORT".
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int child(int s)
{
	struct sockaddr_in peer, me;
	socklen_t plen = sizeof(peer), mlen = sizeof(me);
	char msg[64], buf[64];

	for (int i = 0; i < 20; i++) {
		int len = snprintf(msg, sizeof(msg), "exec %02d\n", i);
		int got = 0;

		if (send(s, msg, len, 0) != len) {
			fprintf(stderr, "execfd: send %d: %s\n", i,
				strerror(errno));
			return 1;
		}
		while (got < len) {
			ssize_t r = recv(s, buf + got, len - got, 0);

			if (r <= 0) {
				fprintf(stderr, "execfd: recv %d: %zd %s\n", i,
					r, r ? strerror(errno) : "EOF");
				return 1;
			}
			got += r;
		}
		if (memcmp(msg, buf, len)) {
			fprintf(stderr, "execfd: echo %d garbled\n", i);
			return 1;
		}
	}
	if (getpeername(s, (struct sockaddr *)&peer, &plen) ||
	    getsockname(s, (struct sockaddr *)&me, &mlen)) {
		fprintf(stderr, "execfd: names after exec: %s\n",
			strerror(errno));
		return 1;
	}
	if (peer.sin_family != AF_INET || me.sin_family != AF_INET) {
		fprintf(stderr, "execfd: families %d %d\n", peer.sin_family,
			me.sin_family);
		return 1;
	}
	printf("exec: 20 echoed on fd %d, peer %s:%d\n", s,
	       inet_ntoa(peer.sin_addr), ntohs(peer.sin_port));
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	char fdstr[16];
	int s;

	if (argc == 3 && !strcmp(argv[1], "--fd"))
		return child(atoi(argv[2]));
	if (argc != 3 || inet_pton(AF_INET, argv[1], &sin.sin_addr) != 1) {
		fprintf(stderr, "usage: execfd ADDR PORT\n");
		return 2;
	}
	sin.sin_port = htons(atoi(argv[2]));
	s = socket(AF_INET, SOCK_STREAM, 0);
	if (s < 0 || connect(s, (struct sockaddr *)&sin, sizeof(sin))) {
		perror("execfd: connect");
		return 1;
	}
	/* Move it off the low numbers, so that the new image cannot find it
	 * by accident. */
	if (dup2(s, 37) != 37) {
		perror("execfd: dup2");
		return 1;
	}
	close(s);
	snprintf(fdstr, sizeof(fdstr), "%d", 37);
	execl("/proc/self/exe", "execfd", "--fd", fdstr, (char *)NULL);
	perror("execfd: exec");
	return 1;
}
