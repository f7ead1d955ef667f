/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * forkuse ADDR PORT: connect to an echo server, fork; the parent closes its
 * copy of the socket at once and waits; the child, after the parent's
 * close, sends 20 messages on the inherited socket and checks each echo,
 * then checks getpeername. Prints "child: 20 echoed, peer ADDR:PORT".
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sockaddr_in sin = {.sin_family = AF_INET}, peer;
	socklen_t plen = sizeof(peer);
	int s, p[2], st;
	pid_t pid;
	char c;

	if (argc != 3 || inet_pton(AF_INET, argv[1], &sin.sin_addr) != 1) {
		fprintf(stderr, "usage: forkuse ADDR PORT\n");
		return 2;
	}
	sin.sin_port = htons(atoi(argv[2]));
	s = socket(AF_INET, SOCK_STREAM, 0);
	if (s < 0 || connect(s, (struct sockaddr *)&sin, sizeof(sin))) {
		perror("forkuse: connect");
		return 1;
	}
	if (pipe(p))
		return 1;
	pid = fork();
	if (pid < 0) {
		perror("forkuse: fork");
		return 1;
	}
	if (pid == 0) {
		char msg[64], buf[64];

		close(p[1]);
		/* Wait until the parent has closed its copy. */
		if (read(p[0], &c, 1) != 1)
			return 1;
		for (int i = 0; i < 20; i++) {
			int len = snprintf(msg, sizeof(msg), "child %02d\n", i);
			int got = 0;

			if (write(s, msg, len) != len) {
				fprintf(stderr, "forkuse: child write %d: %s\n",
					i, strerror(errno));
				return 1;
			}
			while (got < len) {
				ssize_t r = read(s, buf + got, len - got);

				if (r <= 0) {
					fprintf(stderr,
						"forkuse: child read %d: %zd %s\n",
						i, r, r ? strerror(errno) : "EOF");
					return 1;
				}
				got += r;
			}
			if (memcmp(msg, buf, len)) {
				fprintf(stderr, "forkuse: echo %d garbled\n", i);
				return 1;
			}
		}
		if (getpeername(s, (struct sockaddr *)&peer, &plen)) {
			perror("forkuse: child getpeername");
			return 1;
		}
		printf("child: 20 echoed, peer %s:%d\n",
		       inet_ntoa(peer.sin_addr), ntohs(peer.sin_port));
		close(s);
		return 0;
	}
	close(p[0]);
	if (close(s)) {
		perror("forkuse: parent close");
		return 1;
	}
	if (write(p[1], "x", 1) != 1)
		return 1;
	if (waitpid(pid, &st, 0) < 0)
		return 1;
	if (!WIFEXITED(st)) {
		fprintf(stderr, "forkuse: child died by signal %d\n",
			WTERMSIG(st));
		return 1;
	}
	return WEXITSTATUS(st);
}
