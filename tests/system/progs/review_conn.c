/* Review: TCP connection semantics compared with Linux.
 *   review_conn MODE [ADDR PORT]
 * Loopback modes (listener and client in this process, 127.0.0.1:PORT):
 *   reconnect      blocking connect, connect() again (EISCONN), then 5 bytes
 *                  written: the server must read exactly those 5 bytes.
 *   nbreconnect    non-blocking connect, POLLOUT, connect() again (0 or
 *                  EISCONN), again (EISCONN); 5 bytes; server reads 5.
 *   reset_unread   the client closes with unread data: the server's recv
 *                  fails with ECONNRESET.
 *   reset_linger0  the server closes with SO_LINGER {1,0}: the client's recv
 *                  fails with ECONNRESET.
 *   halfclose      client shutdown(SHUT_WR), server reads EOF then replies
 *                  100000 bytes, client reads them all then EOF.
 *   listen_read    read() on a listening socket with a connection queued:
 *                  ENOTCONN.
 * Remote modes (ADDR must not answer ARP):
 *   nbwrite        non-blocking connect (EINPROGRESS), write at once:
 *                  EAGAIN; connect again: EALREADY.
 *   sndtimeo       SO_SNDTIMEO 500 ms, blocking connect: EINPROGRESS after
 *                  about 0.5 s.
 * Prints "ok NAME" or "FAIL NAME: why". */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static struct sockaddr_in sa;

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static const char *en(int e)
{
	static char b[32];
	switch (e) {
	case 0: return "0";
	case EISCONN: return "EISCONN";
	case EALREADY: return "EALREADY";
	case EINPROGRESS: return "EINPROGRESS";
	case EAGAIN: return "EAGAIN";
	case ECONNRESET: return "ECONNRESET";
	case EPIPE: return "EPIPE";
	case ENOTCONN: return "ENOTCONN";
	case EHOSTUNREACH: return "EHOSTUNREACH";
	case ETIMEDOUT: return "ETIMEDOUT";
	case EINVAL: return "EINVAL";
	}
	snprintf(b, sizeof(b), "errno %d", e);
	return b;
}

static int listener(void)
{
	int one = 1, l = socket(AF_INET, SOCK_STREAM, 0);

	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (l < 0 || bind(l, (void *)&sa, sizeof(sa)) || listen(l, 8)) {
		printf("FAIL setup: listener: %s\n", strerror(errno));
		exit(1);
	}
	return l;
}

/* Read until EOF (or 3 s); the byte count, or -errno. */
static long drain(int fd, long *zeros)
{
	char b[65536];
	long n = 0;
	struct pollfd pf = {.fd = fd, .events = POLLIN};

	*zeros = 0;
	for (;;) {
		if (poll(&pf, 1, 3000) <= 0)
			return n;
		ssize_t k = recv(fd, b, sizeof(b), 0);
		if (k < 0)
			return -errno;
		if (k == 0)
			return n;
		for (ssize_t i = 0; i < k; i++)
			*zeros += b[i] == 0;
		n += k;
	}
}

static void reconnect(int nb)
{
	const char *name = nb ? "nonblocking_connect_again_no_stray_bytes"
			      : "connect_again_eisconn_no_stray_bytes";
	int l = listener(), c = socket(AF_INET, SOCK_STREAM, 0), s, r1, e1 = 0,
	    r2, e2 = 0;
	long zeros, got;

	if (nb)
		fcntl(c, F_SETFL, O_NONBLOCK);
	r1 = connect(c, (void *)&sa, sizeof(sa));
	if (r1 && errno == EINPROGRESS) {
		struct pollfd pf = {.fd = c, .events = POLLOUT};
		poll(&pf, 1, 3000);
	} else if (r1) {
		printf("FAIL %s: first connect: %s\n", name, en(errno));
		return;
	}
	r1 = connect(c, (void *)&sa, sizeof(sa));
	e1 = r1 ? errno : 0;
	r2 = connect(c, (void *)&sa, sizeof(sa));
	e2 = r2 ? errno : 0;
	s = accept(l, NULL, NULL);
	if (send(c, "hello", 5, 0) != 5)
		printf("FAIL %s: send: %s\n", name, en(errno));
	shutdown(c, SHUT_WR);
	got = drain(s, &zeros);
	/* Linux: blocking: EISCONN twice; non-blocking: 0 then EISCONN. */
	if (got == 5 && e2 == EISCONN && (nb ? (e1 == 0 || e1 == EISCONN) : e1 == EISCONN))
		printf("ok %s\n", name);
	else
		printf("FAIL %s: connect again gave %s then %s; the server read %ld bytes (%ld of them zero) for the 5 written (Linux: %s, EISCONN, 5 bytes)\n",
		       name, en(e1), en(e2), got, zeros, nb ? "0" : "EISCONN");
	close(c);
	close(s);
	close(l);
}

static void reset(int unread)
{
	const char *name = unread ? "close_with_unread_data_peer_econnreset"
				  : "so_linger0_close_peer_econnreset";
	int l = listener(), c = socket(AF_INET, SOCK_STREAM, 0), s;
	char b[256];
	ssize_t n;

	if (connect(c, (void *)&sa, sizeof(sa))) {
		printf("FAIL %s: connect: %s\n", name, en(errno));
		return;
	}
	s = accept(l, NULL, NULL);
	if (unread) {
		/* The server sends; the client closes without reading. */
		send(s, "unread data", 11, 0);
		usleep(300000);
		close(c);
		usleep(300000);
		n = recv(s, b, sizeof(b), MSG_DONTWAIT);
		if (n < 0 && errno == ECONNRESET)
			printf("ok %s\n", name);
		else
			printf("FAIL %s: the peer's recv gave %s (Linux: ECONNRESET)\n",
			       name, n < 0 ? en(errno) : n == 0 ? "0 (EOF)" : "data");
	} else {
		struct linger lg = {1, 0};

		setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		close(s);
		usleep(300000);
		struct pollfd pf = {.fd = c, .events = POLLIN};
		poll(&pf, 1, 2000);
		n = recv(c, b, sizeof(b), MSG_DONTWAIT);
		if (n < 0 && errno == ECONNRESET)
			printf("ok %s\n", name);
		else
			printf("FAIL %s: the peer's recv gave %s (Linux: ECONNRESET)\n",
			       name, n < 0 ? en(errno) : n == 0 ? "0 (EOF)" : "data");
		s = -1;
	}
	close(c);
	if (s >= 0)
		close(s);
	close(l);
}

static void halfclose(void)
{
	const char *name = "half_close_then_read_reply";
	int l = listener(), c = socket(AF_INET, SOCK_STREAM, 0), s;
	static char big[100000];
	long zeros, got, srv;

	if (connect(c, (void *)&sa, sizeof(sa))) {
		printf("FAIL %s: connect: %s\n", name, en(errno));
		return;
	}
	s = accept(l, NULL, NULL);
	send(c, "request", 7, 0);
	shutdown(c, SHUT_WR);
	srv = drain(s, &zeros);
	memset(big, 'x', sizeof(big));
	for (size_t off = 0; off < sizeof(big);) {
		ssize_t k = send(s, big + off, sizeof(big) - off, 0);
		if (k <= 0)
			break;
		off += (size_t)k;
	}
	close(s);
	got = drain(c, &zeros);
	if (srv == 7 && got == (long)sizeof(big))
		printf("ok %s\n", name);
	else
		printf("FAIL %s: server read %ld of 7, client read %ld of %zu\n",
		       name, srv, got, sizeof(big));
	close(c);
	close(l);
}

static void listen_read(void)
{
	const char *name = "read_on_listener_enotconn";
	int l = listener(), c = socket(AF_INET, SOCK_STREAM, 0);
	char b[16];
	ssize_t n;

	connect(c, (void *)&sa, sizeof(sa));
	usleep(200000);
	fcntl(l, F_SETFL, O_NONBLOCK);
	n = read(l, b, sizeof(b));
	if (n < 0 && errno == ENOTCONN)
		printf("ok %s\n", name);
	else
		printf("FAIL %s: read gave %s (Linux: ENOTCONN)\n", name,
		       n < 0 ? en(errno) : n == 0 ? "0" : "bytes");
	/* And the connection is still there to accept. */
	int s = accept(l, NULL, NULL);
	if (s >= 0)
		printf("ok accept_after_read_on_listener\n");
	else
		printf("FAIL accept_after_read_on_listener: %s\n", en(errno));
	close(c);
	close(l);
}

static void nbwrite(void)
{
	const char *name = "write_before_nonblocking_connect_resolves_eagain";
	int c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), r, e;
	ssize_t n;

	r = connect(c, (void *)&sa, sizeof(sa));
	if (!(r < 0 && errno == EINPROGRESS)) {
		printf("FAIL %s: connect gave %s\n", name, r ? en(errno) : "0");
		return;
	}
	n = send(c, "abc", 3, MSG_NOSIGNAL);
	e = errno;
	if (n < 0 && (e == EAGAIN || e == EWOULDBLOCK))
		printf("ok %s\n", name);
	else
		printf("FAIL %s: send gave %s (Linux: EAGAIN)\n", name,
		       n < 0 ? en(e) : "3 bytes accepted");
	r = connect(c, (void *)&sa, sizeof(sa));
	e = r ? errno : 0;
	if (e == EALREADY)
		printf("ok connect_again_while_connecting_ealready\n");
	else
		printf("FAIL connect_again_while_connecting_ealready: %s\n", en(e));
	close(c);
}

static volatile sig_atomic_t guard;
static void on_guard(int s) { (void)s; guard = 1; }

static void sndtimeo(void)
{
	const char *name = "blocking_connect_so_sndtimeo_einprogress";
	int c = socket(AF_INET, SOCK_STREAM, 0), r, e;
	struct timeval tv = {0, 500000};
	struct sigaction act = {.sa_handler = on_guard};
	double t0, dt;

	sigaction(SIGALRM, &act, NULL);
	alarm(6);
	setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	t0 = now();
	r = connect(c, (void *)&sa, sizeof(sa));
	e = r ? errno : 0;
	dt = now() - t0;
	if (e == EINPROGRESS && dt < 1.5)
		printf("ok %s\n", name);
	else
		printf("FAIL %s: connect gave %s after %.2f s (Linux: EINPROGRESS after 0.5 s)\n",
		       name, en(e), dt);
	close(c);
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";

	setvbuf(stdout, NULL, _IONBF, 0);
	signal(SIGPIPE, SIG_IGN);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons(7310);
	if (argc > 3) {
		inet_pton(AF_INET, argv[2], &sa.sin_addr);
		sa.sin_port = htons(atoi(argv[3]));
	} else if (argc > 2) {
		sa.sin_port = htons(atoi(argv[2]));
	}
	if (!strcmp(mode, "reconnect"))
		reconnect(0);
	else if (!strcmp(mode, "nbreconnect"))
		reconnect(1);
	else if (!strcmp(mode, "reset_unread"))
		reset(1);
	else if (!strcmp(mode, "reset_linger0"))
		reset(0);
	else if (!strcmp(mode, "halfclose"))
		halfclose();
	else if (!strcmp(mode, "listen_read"))
		listen_read();
	else if (!strcmp(mode, "nbwrite"))
		nbwrite();
	else if (!strcmp(mode, "sndtimeo"))
		sndtimeo();
	else {
		printf("FAIL %s: unknown mode\n", mode);
		return 2;
	}
	return 0;
}
