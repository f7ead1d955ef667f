/* Review: UDP semantics compared with Linux, all over 127.0.0.1.
 *   review_udp PORT   (uses PORT and PORT+1; PORT+2 must be closed)
 * Needs no route to 192.0.2.1.
 * Prints "ok NAME" or "FAIL NAME: why" per check. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

static int okc, failc;
#define CHECK(name, cond, ...)                                                 \
	do {                                                                   \
		if (cond) {                                                    \
			printf("ok %s\n", name);                               \
			okc++;                                                 \
		} else {                                                       \
			printf("FAIL %s: ", name);                             \
			printf(__VA_ARGS__);                                   \
			printf("\n");                                          \
			failc++;                                               \
		}                                                              \
	} while (0)

static void settle(int fd)
{
	struct pollfd pf = {.fd = fd, .events = POLLIN};
	poll(&pf, 1, 1000);
	usleep(100000);
}

static char big[70000];

int main(int argc, char **argv)
{
	int port = argc > 1 ? atoi(argv[1]) : 7320;
	struct sockaddr_in ra = {.sin_family = AF_INET}, sa2, from, closed;
	socklen_t fl;
	int r, s, v;
	ssize_t n;
	char buf[100];

	setvbuf(stdout, NULL, _IONBF, 0);
	ra.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ra.sin_port = htons(port);
	closed = ra;
	closed.sin_port = htons(port + 2);
	r = socket(AF_INET, SOCK_DGRAM, 0);
	s = socket(AF_INET, SOCK_DGRAM, 0);
	if (bind(r, (void *)&ra, sizeof(ra))) {
		printf("FAIL setup: bind: %s\n", strerror(errno));
		return 1;
	}
	/* getsockname after bind to port 0 */
	sa2 = ra;
	sa2.sin_port = 0;
	bind(s, (void *)&sa2, sizeof(sa2));
	fl = sizeof(sa2);
	getsockname(s, (void *)&sa2, &fl);
	CHECK("udp_getsockname_after_bind_port0", sa2.sin_port != 0 && fl == sizeof(sa2),
	      "port %d len %u", ntohs(sa2.sin_port), fl);

	/* FIONREAD: the size of the first datagram */
	sendto(s, "0123456789", 10, 0, (void *)&ra, sizeof(ra));
	sendto(s, "01234567890123456789", 20, 0, (void *)&ra, sizeof(ra));
	settle(r);
	v = -1;
	ioctl(r, FIONREAD, &v);
	CHECK("udp_fionread_is_first_datagram_size", v == 10,
	      "FIONREAD %d with datagrams of 10 and 20 bytes queued (Linux: 10)", v);
	/* MSG_PEEK then recv */
	n = recv(r, buf, sizeof(buf), MSG_PEEK);
	ssize_t n2 = recv(r, buf, sizeof(buf), 0);
	CHECK("udp_peek_then_recv", n == 10 && n2 == 10, "peek %zd recv %zd", n, n2);
	/* truncation: recvmsg flags, recv(MSG_TRUNC) return value */
	{
		struct iovec iov = {buf, 5};
		struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};

		sendto(s, "01234567890123456789", 20, 0, (void *)&ra, sizeof(ra));
		settle(r);
		n = recvmsg(r, &mh, MSG_PEEK);
		n2 = recv(r, buf, 5, MSG_TRUNC);
		CHECK("udp_truncation_msg_trunc", n == 5 && (mh.msg_flags & MSG_TRUNC) && n2 == 20,
		      "recvmsg %zd flags 0x%x, recv(MSG_TRUNC) %zd", n, mh.msg_flags, n2);
		n = recv(r, buf, sizeof(buf), MSG_DONTWAIT);
		CHECK("udp_truncated_datagram_consumed", n == 20, "next recv %zd (%s)", n, n < 0 ? strerror(errno) : "");
	}
	/* zero-length datagram */
	n = sendto(s, "", 0, 0, (void *)&ra, sizeof(ra));
	settle(r);
	fl = sizeof(from);
	n2 = recvfrom(r, buf, sizeof(buf), MSG_DONTWAIT, (void *)&from, &fl);
	CHECK("udp_zero_length_datagram", n == 0 && n2 == 0 && from.sin_port == sa2.sin_port,
	      "send %zd recv %zd", n, n2);
	/* the largest datagram, and one more byte */
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)(i * 7);
	{
		int sz = 1 << 20;
		setsockopt(r, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
		setsockopt(s, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	}
	n = sendto(s, big, 65507, 0, (void *)&ra, sizeof(ra));
	settle(r);
	{
		static char rb[70000];
		n2 = recv(r, rb, sizeof(rb), MSG_DONTWAIT);
		CHECK("udp_65507_byte_datagram", n == 65507 && n2 == 65507 && !memcmp(rb, big, 65507),
		      "send %zd recv %zd", n, n2);
	}
	n = sendto(s, big, 65508, 0, (void *)&ra, sizeof(ra));
	CHECK("udp_65508_byte_datagram_emsgsize", n < 0 && errno == EMSGSIZE,
	      "send gave %zd (%s) (Linux: EMSGSIZE; here it is dropped after a successful send)", n, n < 0 ? strerror(errno) : "accepted");
	{ int e2 = 0; socklen_t l2 = sizeof(e2); getsockopt(s, SOL_SOCKET, SO_ERROR, &e2, &l2); }
	usleep(100000);
	while (recv(r, buf, sizeof(buf), MSG_DONTWAIT) >= 0)
		;
	/* an unroutable destination: the error comes back from sendto */
	{
		struct sockaddr_in nr = {.sin_family = AF_INET, .sin_port = htons(9)};

		inet_pton(AF_INET, "192.0.2.1", &nr.sin_addr);
		n = sendto(s, "x", 1, 0, (void *)&nr, sizeof(nr));
		CHECK("udp_sendto_unroutable_enetunreach", n < 0 && errno == ENETUNREACH,
		      "sendto gave %zd (%s) (Linux: ENETUNREACH)", n, n < 0 ? strerror(errno) : "accepted");
		v = 0;
		fl = sizeof(v);
		getsockopt(s, SOL_SOCKET, SO_ERROR, &v, &fl);
	}
	/* unconnected without address */
	n = send(s, "x", 1, 0);
	CHECK("udp_send_unconnected_edestaddrreq", n < 0 && errno == EDESTADDRREQ,
	      "send gave %zd (%s)", n, n < 0 ? strerror(errno) : "");
	/* sendmmsg / recvmmsg */
	{
		struct mmsghdr mm[3];
		struct iovec iov[3];
		char rbufs[3][32];

		memset(mm, 0, sizeof(mm));
		for (int i = 0; i < 3; i++) {
			iov[i].iov_base = (void *)"abcdefgh";
			iov[i].iov_len = 3 + i;
			mm[i].msg_hdr.msg_iov = &iov[i];
			mm[i].msg_hdr.msg_iovlen = 1;
			mm[i].msg_hdr.msg_name = &ra;
			mm[i].msg_hdr.msg_namelen = sizeof(ra);
		}
		int k = sendmmsg(s, mm, 3, 0);
		settle(r);
		memset(mm, 0, sizeof(mm));
		for (int i = 0; i < 3; i++) {
			iov[i].iov_base = rbufs[i];
			iov[i].iov_len = sizeof(rbufs[i]);
			mm[i].msg_hdr.msg_iov = &iov[i];
			mm[i].msg_hdr.msg_iovlen = 1;
		}
		int k2 = recvmmsg(r, mm, 3, MSG_DONTWAIT, NULL);
		CHECK("udp_sendmmsg_recvmmsg", k == 3 && k2 == 3 && mm[0].msg_len == 3 &&
						   mm[2].msg_len == 5,
		      "sendmmsg %d recvmmsg %d", k, k2);
	}
	/* connected UDP: write/read, and ICMP port unreachable */
	{
		int c = socket(AF_INET, SOCK_DGRAM, 0);

		connect(c, (void *)&ra, sizeof(ra));
		n = write(c, "conn", 4);
		settle(r);
		n2 = recv(r, buf, sizeof(buf), MSG_DONTWAIT);
		CHECK("udp_connected_write", n == 4 && n2 == 4, "write %zd recv %zd", n, n2);
		close(c);
		c = socket(AF_INET, SOCK_DGRAM, 0);
		connect(c, (void *)&closed, sizeof(closed));
		send(c, "x", 1, 0);
		usleep(300000);
		n = recv(c, buf, sizeof(buf), MSG_DONTWAIT);
		CHECK("udp_connected_port_unreachable_econnrefused", n < 0 && errno == ECONNREFUSED,
		      "recv gave %zd (%s) (Linux: ECONNREFUSED)", n, n < 0 ? strerror(errno) : "");
		close(c);
	}
	/* receive buffer overflow: drops, no error, no hang */
	{
		int sz = 4096, got = 0;

		setsockopt(r, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
		for (int i = 0; i < 2000; i++)
			sendto(s, big, 1000, MSG_DONTWAIT, (void *)&ra, sizeof(ra));
		usleep(300000);
		while (recv(r, buf, sizeof(buf), MSG_DONTWAIT) >= 0)
			got++;
		CHECK("udp_small_rcvbuf_drops", got > 0 && got < 2000, "received %d of 2000", got);
	}
	return failc ? 1 : 0;
}
