/* Review: many connections, threads, forks, compared with Linux.
 *   review_many MODE [N]   (all over 127.0.0.1)
 * acceptdrain N  N non-blocking connects queued; a non-blocking accept4
 *                (SOCK_NONBLOCK|SOCK_CLOEXEC) loop until EAGAIN takes all N,
 *                with the flags set; the listener then does not poll
 *                readable; one more connect makes it readable again.
 * concurrent N   N connections open at once, a byte echoed through each.
 * threads        8 threads x 40 socket/connect/send/close concurrently.
 * forkbomb N     N children each make a socket and connect, then exit.
 * Prints "ok NAME" or "FAIL NAME: why". */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static struct sockaddr_in sa;

static int listener(int port, int nb)
{
	int one = 1, l = socket(AF_INET, SOCK_STREAM | (nb ? SOCK_NONBLOCK : 0), 0);

	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons(port);
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (l < 0 || bind(l, (void *)&sa, sizeof(sa)) || listen(l, 512)) {
		printf("FAIL setup: listener: %s\n", strerror(errno));
		exit(1);
	}
	return l;
}

static int readable(int fd, int ms)
{
	struct pollfd pf = {.fd = fd, .events = POLLIN};
	return poll(&pf, 1, ms) > 0 && (pf.revents & POLLIN);
}

static void acceptdrain(int n)
{
	int l = listener(7340, 1), *c = calloc(n, sizeof(int)), got = 0, badflags = 0;

	for (int i = 0; i < n; i++) {
		c[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		connect(c[i], (void *)&sa, sizeof(sa));
	}
	for (int i = 0; i < n; i++) {
		struct pollfd pf = {.fd = c[i], .events = POLLOUT};
		poll(&pf, 1, 3000);
	}
	usleep(200000);
	if (!readable(l, 2000))
		printf("FAIL accept_drain: listener not readable with %d queued\n", n);
	for (;;) {
		int s = accept4(l, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (s < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				printf("FAIL accept_drain: accept4: %s\n", strerror(errno));
			break;
		}
		if (!(fcntl(s, F_GETFL) & O_NONBLOCK) || !(fcntl(s, F_GETFD) & FD_CLOEXEC))
			badflags++;
		got++;
		if (got > n + 5)
			break;
	}
	if (got == n && !badflags)
		printf("ok accept4_drain_loop_takes_all_%d\n", n);
	else
		printf("FAIL accept4_drain_loop_takes_all_%d: accepted %d, %d without NONBLOCK|CLOEXEC\n",
		       n, got, badflags);
	if (!readable(l, 300))
		printf("ok listener_not_readable_after_drain\n");
	else
		printf("FAIL listener_not_readable_after_drain: still POLLIN (a blocking accept loop would spin or block)\n");
	int x = socket(AF_INET, SOCK_STREAM, 0);
	connect(x, (void *)&sa, sizeof(sa));
	int r = readable(l, 2000), s = accept(l, NULL, NULL);
	if (r && s >= 0)
		printf("ok listener_readable_again_for_new_connection\n");
	else
		printf("FAIL listener_readable_again_for_new_connection: readable %d accept %d (%s)\n", r, s,
		       s < 0 ? strerror(errno) : "");
}

static void concurrent(int n)
{
	int l = listener(7341, 0), *c = calloc(n, sizeof(int)), *s = calloc(n, sizeof(int)), good = 0;
	struct rlimit rl = {4096, 4096};

	setrlimit(RLIMIT_NOFILE, &rl);
	for (int i = 0; i < n; i++) {
		c[i] = socket(AF_INET, SOCK_STREAM, 0);
		if (connect(c[i], (void *)&sa, sizeof(sa))) {
			printf("FAIL concurrent_%d_connections: connect %d: %s\n", n, i, strerror(errno));
			return;
		}
		s[i] = accept(l, NULL, NULL);
	}
	for (int i = 0; i < n; i++) {
		char b = (char)i, r = 0;
		send(c[i], &b, 1, 0);
		if (readable(s[i], 2000) && recv(s[i], &r, 1, 0) == 1 && r == b) {
			send(s[i], &r, 1, 0);
			if (readable(c[i], 2000) && recv(c[i], &r, 1, 0) == 1 && r == b)
				good++;
		}
	}
	if (good == n)
		printf("ok concurrent_%d_connections\n", n);
	else
		printf("FAIL concurrent_%d_connections: %d echoed\n", n, good);
	printf("fds: highest %d\n", s[n - 1]);
}

static int tl;
static void *worker(void *arg __attribute__((unused)))
{
	long bad = 0;

	for (int i = 0; i < 40; i++) {
		int c = socket(AF_INET, SOCK_STREAM, 0);
		if (c < 0 || connect(c, (void *)&sa, sizeof(sa)) || send(c, "t", 1, 0) != 1)
			bad++;
		close(c);
	}
	return (void *)bad;
}
static void *acceptor(void *arg __attribute__((unused)))
{
	for (;;) {
		int s = accept(tl, NULL, NULL);
		if (s < 0)
			break;
		char b;
		recv(s, &b, 1, 0);
		close(s);
	}
	return NULL;
}

static void threads(void)
{
	pthread_t t[8], a;
	long bad = 0;

	tl = listener(7342, 0);
	pthread_create(&a, NULL, acceptor, NULL);
	for (int i = 0; i < 8; i++)
		pthread_create(&t[i], NULL, worker, NULL);
	for (int i = 0; i < 8; i++) {
		void *r;
		pthread_join(t[i], &r);
		bad += (long)r;
	}
	if (!bad)
		printf("ok threads_concurrent_socket_connect\n");
	else
		printf("FAIL threads_concurrent_socket_connect: %ld of 320 failed\n", bad);
}

static void forkbomb(int n)
{
	int l = listener(7343, 0), bad = 0;
	pid_t *p = calloc(n, sizeof(pid_t));

	for (int i = 0; i < n; i++) {
		p[i] = fork();
		if (p[i] == 0) {
			int c = socket(AF_INET, SOCK_STREAM, 0);
			int u = socket(AF_INET, SOCK_DGRAM, 0);
			(void)u;
			_exit(connect(c, (void *)&sa, sizeof(sa)) ? 1 : 0);
		}
	}
	for (int i = 0; i < n; i++) {
		int st = 0;
		waitpid(p[i], &st, 0);
		bad += !WIFEXITED(st) || WEXITSTATUS(st);
	}
	/* Take what was queued. */
	fcntl(l, F_SETFL, O_NONBLOCK);
	while (1) {
		int s = accept(l, NULL, NULL);
		if (s < 0)
			break;
		close(s);
	}
	if (!bad)
		printf("ok forkbomb_%d_children_connect\n", n);
	else
		printf("FAIL forkbomb_%d_children_connect: %d failed\n", n, bad);
	close(l);
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	int n = argc > 2 ? atoi(argv[2]) : 50;

	setvbuf(stdout, NULL, _IONBF, 0);
	if (!strcmp(mode, "acceptdrain"))
		acceptdrain(n);
	else if (!strcmp(mode, "concurrent"))
		concurrent(n);
	else if (!strcmp(mode, "threads"))
		threads();
	else if (!strcmp(mode, "forkbomb"))
		forkbomb(n);
	else {
		printf("FAIL %s: unknown mode\n", mode);
		return 2;
	}
	return 0;
}
