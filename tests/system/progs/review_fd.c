/* Review: descriptor handling of sockets compared with Linux.
 *   review_fd MODE
 * fioclex      ioctl(FIOCLEX/FIONCLEX) on a socket: 0, and it sets the flag.
 * closeall     a daemon-style "close every descriptor above 2", then
 *              open(/dev/null) (gets 3) and socket(): socket works and the
 *              program's descriptor 3 stays open.
 * highfd_exec  a bound UDP socket dup2'd to 1500 and to 40, exec of self:
 *              getsockname works on both after exec.
 * emfile       RLIMIT_NOFILE 40, sockets until one fails: errno EMFILE.
 * dupfd        F_DUPFD_CLOEXEC and dup2 over another socket; close one
 *              copy, the other works; exec with a CLOEXEC socket: gone.
 * Prints "ok NAME" or "FAIL NAME: why". */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

static int port_of(int fd, int *fam)
{
	struct sockaddr_storage ss;
	socklen_t l = sizeof(ss);

	memset(&ss, 0, sizeof(ss));
	if (getsockname(fd, (void *)&ss, &l))
		return -errno;
	*fam = ss.ss_family;
	return ss.ss_family == AF_INET ? ntohs(((struct sockaddr_in *)&ss)->sin_port) : 0;
}

static int bound_udp(int port)
{
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(s, (void *)&a, sizeof(a)))
		printf("FAIL setup: bind %d: %s\n", port, strerror(errno));
	return s;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";

	setvbuf(stdout, NULL, _IONBF, 0);
	if (!strcmp(mode, "fioclex")) {
		int s = socket(AF_INET, SOCK_STREAM, 0);
		int r1 = ioctl(s, FIOCLEX), e1 = errno, fd1 = fcntl(s, F_GETFD);
		int r2 = ioctl(s, FIONCLEX), e2 = errno, fd2 = fcntl(s, F_GETFD);

		if (!r1 && !r2 && (fd1 & FD_CLOEXEC) && !(fd2 & FD_CLOEXEC))
			printf("ok ioctl_fioclex_fionclex_on_socket\n");
		else
			printf("FAIL ioctl_fioclex_fionclex_on_socket: FIOCLEX %d (%s) FIONCLEX %d (%s) (Linux: 0, 0)\n",
			       r1, r1 ? strerror(e1) : "", r2, r2 ? strerror(e2) : "");
		return 0;
	}
	if (!strcmp(mode, "closeall")) {
		int fd, s, fl;

		for (fd = 3; fd < 1024; fd++)
			close(fd);
		fd = open("/dev/null", O_RDWR);
		s = socket(AF_INET, SOCK_STREAM, 0);
		int e = errno;
		fl = fcntl(fd, F_GETFD);
		if (s >= 0 && fl >= 0)
			printf("ok socket_after_closing_all_descriptors\n");
		else
			printf("FAIL socket_after_closing_all_descriptors: open gave %d, socket gave %d (%s), then fd %d is %s (Linux: a socket, fd %d still open)\n",
			       fd, s, s < 0 ? strerror(e) : "ok", fd, fl >= 0 ? "open" : "CLOSED behind the program's back", fd);
		return 0;
	}
	if (!strcmp(mode, "highfd_exec")) {
		int s = bound_udp(7330), t = bound_udp(7331);

		if (dup2(s, 1500) != 1500 || dup2(t, 40) != 40) {
			printf("FAIL highfd_exec: dup2: %s\n", strerror(errno));
			return 0;
		}
		close(s);
		close(t);
		execl("/proc/self/exe", argv[0], "highfd_child", (char *)NULL);
		printf("FAIL highfd_exec: exec: %s\n", strerror(errno));
		return 0;
	}
	if (!strcmp(mode, "highfd_child")) {
		int fam = 0, p = port_of(40, &fam);

		if (p == 7331)
			printf("ok exec_inherits_socket_fd_40\n");
		else
			printf("FAIL exec_inherits_socket_fd_40: getsockname gave port %d family %d\n", p, fam);
		fam = 0;
		p = port_of(1500, &fam);
		if (p == 7330)
			printf("ok exec_inherits_socket_fd_1500\n");
		else
			printf("FAIL exec_inherits_socket_fd_1500: getsockname gave %s%d, family %d (Linux: AF_INET port 7330)\n",
			       p < 0 ? "error " : "port ", p < 0 ? -p : p, fam);
		/* A datagram through it. */
		{
			int c = socket(AF_INET, SOCK_DGRAM, 0);
			struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(7330)};
			char b[16];
			ssize_t n;

			a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
			sendto(c, "hi", 2, 0, (void *)&a, sizeof(a));
			usleep(200000);
			n = recv(1500, b, sizeof(b), MSG_DONTWAIT);
			if (n == 2 && !memcmp(b, "hi", 2))
				printf("ok exec_inherited_fd_1500_receives_datagram\n");
			else
				printf("FAIL exec_inherited_fd_1500_receives_datagram: recv gave %zd (%s)\n",
				       n, n < 0 ? strerror(errno) : "wrong bytes");
		}
		return 0;
	}
	if (!strcmp(mode, "emfile")) {
		struct rlimit rl = {40, 40};
		int n = 0, s, e = 0;

		setrlimit(RLIMIT_NOFILE, &rl);
		for (;;) {
			s = socket(AF_INET, SOCK_STREAM, 0);
			if (s < 0) {
				e = errno;
				break;
			}
			if (++n > 100)
				break;
		}
		if (s < 0 && e == EMFILE)
			printf("ok socket_at_rlimit_nofile_emfile\n");
		else
			printf("FAIL socket_at_rlimit_nofile_emfile: after %d sockets socket gave %s (Linux: EMFILE)\n",
			       n, s < 0 ? strerror(e) : "more");
		return 0;
	}
	if (!strcmp(mode, "dupfd")) {
		int s = bound_udp(7332), t = bound_udp(7333), fam = 0, d;

		d = fcntl(s, F_DUPFD_CLOEXEC, 100);
		if (d >= 100 && (fcntl(d, F_GETFD) & FD_CLOEXEC) && port_of(d, &fam) == 7332)
			printf("ok f_dupfd_cloexec_socket\n");
		else
			printf("FAIL f_dupfd_cloexec_socket: fd %d port %d\n", d, port_of(d, &fam));
		/* dup2 over another vimage socket: t now names s's socket. */
		dup2(s, t);
		close(s);
		if (port_of(t, &fam) == 7332 && port_of(d, &fam) == 7332)
			printf("ok dup2_over_socket_then_close_original\n");
		else
			printf("FAIL dup2_over_socket_then_close_original: port %d / %d\n",
			       port_of(t, &fam), port_of(d, &fam));
		/* exec with a CLOEXEC socket (d) and a plain one at fd 60 */
		dup2(t, 60);
		char a[16];
		snprintf(a, sizeof(a), "%d", d);
		execl("/proc/self/exe", argv[0], "dupfd_child", a, (char *)NULL);
		return 0;
	}
	if (!strcmp(mode, "dupfd_child")) {
		int d = atoi(argv[2]), fam = 0;

		if (fcntl(d, F_GETFD) < 0 && errno == EBADF && port_of(60, &fam) == 7332)
			printf("ok exec_closes_cloexec_socket_keeps_other\n");
		else
			printf("FAIL exec_closes_cloexec_socket_keeps_other: fd %d %s, fd 60 port %d\n",
			       d, fcntl(d, F_GETFD) < 0 ? "gone" : "still open", port_of(60, &fam));
		return 0;
	}
	printf("FAIL %s: unknown mode\n", mode);
	return 2;
}
