/* Review: blocking accept and signals / SO_RCVTIMEO, compared with Linux.
 *   review_sig MODE PORT   (listens on 127.0.0.1:PORT)
 * MODE accept_restart: SIGALRM with SA_RESTART fires at 0.5 s, a child
 *   connects at 1.2 s: Linux restarts accept, which returns the connection.
 * MODE accept_eintr: the same without SA_RESTART: accept fails with EINTR.
 * MODE accept_rcvtimeo: SO_RCVTIMEO 300 ms, nobody connects: Linux's accept
 *   fails with EAGAIN after ~0.3 s.
 * Prints "ok NAME" or "FAIL NAME: why". */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t fired, guard;
static void on_alarm(int s) { (void)s; fired++; }
static void on_guard(int s) { (void)s; guard = 1; }

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static void timer_at(double s)
{
	struct itimerval it = {{0, 0}, {(time_t)s, (suseconds_t)((s - (time_t)s) * 1e6)}};
	setitimer(ITIMER_REAL, &it, NULL);
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	int port = argc > 2 ? atoi(argv[2]) : 7300;
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
	struct sigaction act;
	int one = 1, l, c;
	double t0;

	setvbuf(stdout, NULL, _IONBF, 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	l = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (l < 0 || bind(l, (void *)&sa, sizeof(sa)) || listen(l, 8)) {
		printf("FAIL %s: setup: %s\n", mode, strerror(errno));
		return 1;
	}
	memset(&act, 0, sizeof(act));
	if (!strcmp(mode, "accept_restart") || !strcmp(mode, "accept_eintr")) {
		pid_t pid = fork();

		if (pid == 0) {
			int s;
			usleep(1200000);
			s = socket(AF_INET, SOCK_STREAM, 0);
			connect(s, (void *)&sa, sizeof(sa));
			sleep(2);
			_exit(0);
		}
		act.sa_handler = on_alarm;
		act.sa_flags = strcmp(mode, "accept_restart") ? 0 : SA_RESTART;
		sigaction(SIGALRM, &act, NULL);
		timer_at(0.5);
		t0 = now();
		c = accept(l, NULL, NULL);
		int e = errno;
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		if (!strcmp(mode, "accept_restart")) {
			if (c >= 0 && fired == 1)
				printf("ok accept_restarted_after_sa_restart_signal\n");
			else
				printf("FAIL accept_restarted_after_sa_restart_signal: accept %s after %.2f s (Linux restarts accept and returns the connection)\n",
				       c >= 0 ? "returned a connection" : strerror(e), now() - t0);
		} else {
			if (c < 0 && e == EINTR)
				printf("ok accept_eintr_without_sa_restart\n");
			else
				printf("FAIL accept_eintr_without_sa_restart: accept returned %d (%s)\n",
				       c, c < 0 ? strerror(e) : "fd");
		}
		return 0;
	}
	if (!strcmp(mode, "accept_rcvtimeo")) {
		struct timeval tv = {0, 300000};

		if (setsockopt(l, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)))
			printf("FAIL accept_so_rcvtimeo_eagain: setsockopt: %s\n", strerror(errno));
		act.sa_handler = on_guard; /* no SA_RESTART: ends a hang */
		sigaction(SIGALRM, &act, NULL);
		timer_at(3.0);
		t0 = now();
		c = accept(l, NULL, NULL);
		int e = errno;
		double dt = now() - t0;
		if (c < 0 && (e == EAGAIN || e == EWOULDBLOCK) && dt < 1.5)
			printf("ok accept_so_rcvtimeo_eagain\n");
		else
			printf("FAIL accept_so_rcvtimeo_eagain: accept gave %s after %.2f s%s (Linux: EAGAIN after 0.3 s)\n",
			       c >= 0 ? "a connection" : strerror(e), dt,
			       guard ? ", only ended by a 3 s guard alarm" : "");
		return 0;
	}
	printf("FAIL %s: unknown mode\n", mode);
	return 2;
}
