/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * epoll_echo: an echo server on a non-blocking listener driven by epoll
 * (level- or edge-triggered), and its client.
 *
 *   epoll_echo server PORT lt|et NCONN   serve NCONN connections, then exit 0
 *   epoll_echo client ADDR PORT COUNT    send COUNT messages, check each echo
 *
 * The client prints "client: COUNT echoed" and exits 0 when every echo came
 * back intact; the server prints "server: NCONN connections, N bytes".
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

static void die(const char *what)
{
	fprintf(stderr, "epoll_echo: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int serve(int port, int et, int nconn)
{
	struct sockaddr_in sin = {.sin_family = AF_INET,
				  .sin_port = htons(port)};
	struct epoll_event ev, evs[64];
	int ls, ep, one = 1, done = 0;
	long bytes = 0;
	char buf[4096];

	ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (ls < 0)
		die("socket");
	if (setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)))
		die("SO_REUSEADDR");
	if (bind(ls, (struct sockaddr *)&sin, sizeof(sin)))
		die("bind");
	if (listen(ls, 16))
		die("listen");
	ep = epoll_create1(0);
	if (ep < 0)
		die("epoll_create1");
	ev.events = EPOLLIN | (et ? EPOLLET : 0);
	ev.data.fd = ls;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev))
		die("epoll_ctl listener");
	while (done < nconn) {
		int n = epoll_wait(ep, evs, 64, 10000);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die("epoll_wait");
		if (n == 0) {
			fprintf(stderr, "epoll_echo: server idle 10 s\n");
			return 1;
		}
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;

			if (fd == ls) {
				for (;;) {
					int c = accept4(ls, NULL, NULL,
							SOCK_NONBLOCK);

					if (c < 0) {
						if (errno == EAGAIN ||
						    errno == EWOULDBLOCK)
							break;
						die("accept4");
					}
					ev.events = EPOLLIN | EPOLLRDHUP |
						    (et ? EPOLLET : 0);
					ev.data.fd = c;
					if (epoll_ctl(ep, EPOLL_CTL_ADD, c,
						      &ev))
						die("epoll_ctl conn");
					if (!et)
						break; /* level: come back */
				}
				continue;
			}
			for (;;) {
				ssize_t r = read(fd, buf, sizeof(buf));

				if (r > 0) {
					ssize_t off = 0;

					bytes += r;
					while (off < r) {
						ssize_t w = write(fd, buf + off,
								  r - off);
						if (w < 0 && errno == EAGAIN) {
							usleep(1000);
							continue;
						}
						if (w < 0)
							die("write");
						off += w;
					}
					if (!et)
						break;
					continue;
				}
				if (r < 0 && (errno == EAGAIN ||
					      errno == EWOULDBLOCK))
					break;
				if (r < 0 && errno != ECONNRESET)
					die("read");
				epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
				close(fd);
				done++;
				break;
			}
		}
	}
	printf("server: %d connections, %ld bytes\n", done, bytes);
	return 0;
}

static int client(const char *addr, int port, int count)
{
	struct sockaddr_in sin = {.sin_family = AF_INET,
				  .sin_port = htons(port)};
	char msg[64], buf[64];
	int s;

	if (inet_pton(AF_INET, addr, &sin.sin_addr) != 1) {
		fprintf(stderr, "epoll_echo: bad address %s\n", addr);
		return 2;
	}
	s = socket(AF_INET, SOCK_STREAM, 0);
	if (s < 0)
		die("socket");
	if (connect(s, (struct sockaddr *)&sin, sizeof(sin)))
		die("connect");
	for (int i = 0; i < count; i++) {
		int len = snprintf(msg, sizeof(msg), "message %04d\n", i);
		int got = 0;

		if (write(s, msg, len) != len)
			die("write");
		while (got < len) {
			ssize_t r = read(s, buf + got, len - got);

			if (r <= 0) {
				fprintf(stderr,
					"epoll_echo: message %d: read %zd (%s)\n",
					i, r, r ? strerror(errno) : "EOF");
				return 1;
			}
			got += r;
		}
		if (memcmp(buf, msg, len)) {
			fprintf(stderr, "epoll_echo: message %d garbled\n", i);
			return 1;
		}
	}
	close(s);
	printf("client: %d echoed\n", count);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 5 && !strcmp(argv[1], "server"))
		return serve(atoi(argv[2]), !strcmp(argv[3], "et"),
			     atoi(argv[4]));
	if (argc == 5 && !strcmp(argv[1], "client"))
		return client(argv[2], atoi(argv[3]), atoi(argv[4]));
	fprintf(stderr, "usage: epoll_echo server PORT lt|et NCONN\n"
			"       epoll_echo client ADDR PORT COUNT\n");
	return 2;
}
