/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * TCP between vimages in virtual time: handshake, bulk transfer with the
 * bytes hashed end to end, close in every order, resets, listen backlog,
 * TIME_WAIT, keepalive, zero-window probing, and teardown with live
 * connections. Every test ends with simnet_free's leak check.
 */
#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/ioctl.h>

#include "core/kern.h"
#include "harness/test.h"
#include "simnet.h"
#include "tcpx.h"
#include "wire/wire.h"

#define SA(s) ((struct sockaddr *)&(s))
#define MS (NSEC_PER_MSEC)
#define SEC (NSEC_PER_SEC)

static uint64_t stat_of(struct vimage *vi, const char *name)
{
	uint64_t v = 0;

	REQUIRE(vimage_stat_get(vi, name, &v) == 0);
	return v;
}

static struct vsocket *tcp_sock(struct vimage *vi)
{
	struct vsocket *so = NULL;

	REQUIRE(vsock_socket(vi, AF_INET, SOCK_STREAM, 0, &so) == 0);
	return so;
}

static struct vsocket *tcp_listener(struct vimage *vi, uint16_t port,
				    int backlog)
{
	struct sockaddr_in sin = simnet_sin("0.0.0.0", port);
	struct vsocket *so = tcp_sock(vi);

	REQUIRE(vsock_bind(so, SA(sin), sizeof(sin)) == 0);
	REQUIRE(vsock_listen(so, backlog) == 0);
	return so;
}

/* Connect from a to b:port and accept; both ends established. */
static void tcp_pair(struct simnet *sn, struct vsocket *lsn, const char *addr,
		     uint16_t port, struct vsocket **cli, struct vsocket **srv)
{
	struct sockaddr_in sin = simnet_sin(addr, port);

	*cli = tcp_sock(sn->node[0]);
	REQUIRE(vsock_connect(*cli, SA(sin), sizeof(sin)) == -EINPROGRESS);
	simnet_run(sn, 10 * MS);
	REQUIRE(vsock_accept(lsn, srv, NULL, NULL) == 0);
}

TEST(tcp_handshake_and_echo)
{
	struct simnet *sn = simnet_pair(1);
	struct vsocket *lsn, *cli, *srv;
	struct sockaddr_in peer;
	socklen_t pl = sizeof(peer);
	char buf[64];
	int err = 0;
	socklen_t el = sizeof(err);

	REQUIRE(sn);
	lsn = tcp_listener(sn->node[1], 80, 16);
	CHECK_EQ(vsock_poll(lsn) & POLLIN, 0);
	tcp_pair(sn, lsn, "10.0.0.2", 80, &cli, &srv);
	CHECK(vsock_poll(cli) & POLLOUT);
	CHECK_EQ(vsock_getsockopt(cli, SOL_SOCKET, SO_ERROR, &err, &el), 0);
	CHECK_EQ(err, 0);
	CHECK_EQ(vsock_getpeername(srv, SA(peer), &pl), 0);
	CHECK_EQ(ntohl(peer.sin_addr.s_addr), 0x0a000001);
	CHECK_EQ(vsock_sendto(cli, "hello", 5, 0, NULL, 0), 5);
	simnet_run(sn, 10 * MS);
	CHECK(vsock_poll(srv) & POLLIN);
	CHECK_EQ(vsock_recvfrom(srv, buf, sizeof(buf), 0, NULL, NULL), 5);
	CHECK_MEM(buf, "hello", 5);
	CHECK_EQ(vsock_recvfrom(srv, buf, sizeof(buf), 0, NULL, NULL),
		 -EAGAIN);
	CHECK_EQ(vsock_sendto(srv, "world!", 6, 0, NULL, 0), 6);
	simnet_run(sn, 10 * MS);
	CHECK_EQ(vsock_recvfrom(cli, buf, sizeof(buf), 0, NULL, NULL), 6);
	CHECK_MEM(buf, "world!", 6);
	vsock_close(cli);
	simnet_run(sn, 10 * MS);
	CHECK_EQ(vsock_recvfrom(srv, buf, sizeof(buf), 0, NULL, NULL), 0);
	vsock_close(srv);
	vsock_close(lsn);
	simnet_run(sn, 120 * SEC); /* TIME_WAIT runs out */
	CHECK_EQ(simnet_free(sn), 0);
}

TEST(tcp_bulk_transfer_intact)
{
	static const uint64_t sizes[] = {1, 1000, 1448, 1449, 65536, 1000000,
					 10000000};
	struct simnet *sn = simnet_pair(2);

	REQUIRE(sn);
	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		struct tcpx x;

		REQUIRE(tcpx_open(&x, sn, sn->node[0], sn->node[1], "10.0.0.2",
				  (uint16_t)(1000 + i)) == 0);
		CHECK_EQ(tcpx_transfer(&x, sizes[i], 600 * SEC), 0);
		if (x.err)
			printf("size %llu: err %d sent %llu rcvd %llu\n",
			       (unsigned long long)sizes[i], x.err,
			       (unsigned long long)x.sent,
			       (unsigned long long)x.rcvd);
		tcpx_close(&x);
	}
	simnet_run(sn, 120 * SEC);
	CHECK_EQ(simnet_free(sn), 0);
}

TEST(tcp_connect_refused_no_listener)
{
	struct simnet *sn = simnet_pair(3);
	struct sockaddr_in sin = simnet_sin("10.0.0.2", 81);
	struct vsocket *cli;
	int err = 0;
	socklen_t el = sizeof(err);

	REQUIRE(sn);
	cli = tcp_sock(sn->node[0]);
	REQUIRE(vsock_connect(cli, SA(sin), sizeof(sin)) == -EINPROGRESS);
	simnet_run(sn, 10 * MS);
	CHECK(vsock_poll(cli) & POLLERR);
	CHECK_EQ(vsock_getsockopt(cli, SOL_SOCKET, SO_ERROR, &err, &el), 0);
	CHECK_EQ(err, ECONNREFUSED);
	CHECK(stat_of(sn->node[1], "tcp.no_port") >= 1);
	CHECK(stat_of(sn->node[1], "tcp.out_rsts") >= 1);
	vsock_close(cli);
	CHECK_EQ(simnet_free(sn), 0);
}

/* A capture file is outside the world: every TCP segment in it carries a
 * correct checksum although none was computed on the link. */
struct capbuf {
	uint8_t *b;
	size_t n, cap;
};

static void cap_sink(void *ctx, const void *data, size_t len)
{
	struct capbuf *c = ctx;

	if (c->n + len > c->cap)
		return;
	memcpy(c->b + c->n, data, len);
	c->n += len;
}

TEST(tcp_capture_carries_valid_checksums)
{
	static uint8_t store[4 << 20];
	struct capbuf cb = {store, 0, sizeof(store)};
	struct simnet *sn = simnet_pair(4);
	struct tcpx x;
	size_t off = PCAP_FILE_HLEN;
	unsigned segs = 0, bad = 0;

	REQUIRE(sn);
	REQUIRE(vif_capture_start(sn->link[0].a, cap_sink, &cb, 0) == 0);
	REQUIRE(tcpx_open(&x, sn, sn->node[0], sn->node[1], "10.0.0.2",
			  2000) == 0);
	CHECK_EQ(tcpx_transfer(&x, 300000, 60 * SEC), 0);
	tcpx_close(&x);
	vif_capture_stop(sn->link[0].a);
	while (off + PCAP_REC_HLEN <= cb.n) {
		uint32_t caplen = (uint32_t)store[off + 8] |
				  (uint32_t)store[off + 9] << 8 |
				  (uint32_t)store[off + 10] << 16 |
				  (uint32_t)store[off + 11] << 24;
		const uint8_t *f = store + off + PCAP_REC_HLEN;
		struct ipv4_repr ip;
		struct tcp_repr t;

		off += PCAP_REC_HLEN + caplen;
		if (off > cb.n)
			break;
		if (caplen < 34 || rd16(f + 12) != ETHERTYPE_IPV4 ||
		    ipv4_parse(f + 14, caplen - 14, &ip, true) ||
		    ip.proto != IPPROTO_TCP_)
			continue;
		segs++;
		if (tcp4_parse(f + 14 + ip.hlen, ip.total_len - ip.hlen, &t,
			       ip.src, ip.dst, true))
			bad++;
	}
	CHECK(segs > 100);
	CHECK_EQ(bad, 0);
	simnet_run(sn, 120 * SEC);
	CHECK_EQ(simnet_free(sn), 0);
}

/* Across routers: segments are forwarded with their checksum still
 * offloaded, and arrive intact. */
TEST(tcp_transfer_across_three_routers)
{
	struct simnet *sn = simnet_new(6);
	struct vimage *h0, *h1, *r[3];
	struct tcpx x;

	REQUIRE(sn);
	h0 = simnet_node(sn, "h0");
	h1 = simnet_node(sn, "h1");
	for (int i = 0; i < 3; i++) {
		char nm[16];

		snprintf(nm, sizeof(nm), "r%d", i);
		r[i] = simnet_node(sn, nm);
		REQUIRE(r[i]);
		REQUIRE(vimage_sysctl_set(r[i], "net.inet.ip.forwarding", 1) ==
			0);
	}
	REQUIRE(simnet_link(sn, h0, NULL, "10.0.1.1/24", r[0], NULL,
			    "10.0.1.2/24") >= 0);
	REQUIRE(simnet_link(sn, r[0], NULL, "10.0.2.1/24", r[1], NULL,
			    "10.0.2.2/24") >= 0);
	REQUIRE(simnet_link(sn, r[1], NULL, "10.0.3.1/24", r[2], NULL,
			    "10.0.3.2/24") >= 0);
	REQUIRE(simnet_link(sn, r[2], NULL, "10.0.4.1/24", h1, NULL,
			    "10.0.4.2/24") >= 0);
	REQUIRE(simnet_route(h0, "0.0.0.0/0", "10.0.1.2") == 0);
	REQUIRE(simnet_route(r[0], "10.0.4.0/24", "10.0.2.2") == 0);
	REQUIRE(simnet_route(r[1], "10.0.4.0/24", "10.0.3.2") == 0);
	REQUIRE(simnet_route(r[1], "10.0.1.0/24", "10.0.2.1") == 0);
	REQUIRE(simnet_route(r[2], "10.0.1.0/24", "10.0.3.1") == 0);
	REQUIRE(simnet_route(h1, "0.0.0.0/0", "10.0.4.1") == 0);
	REQUIRE(tcpx_open(&x, sn, h0, h1, "10.0.4.2", 3000) == 0);
	CHECK_EQ(tcpx_transfer(&x, 5000000, 60 * SEC), 0);
	tcpx_close(&x);
	simnet_run(sn, 120 * SEC);
	CHECK_EQ(simnet_free(sn), 0);
}

TEST(tcp_connect_errors)
{
	struct simnet *sn = simnet_pair(7);
	struct sockaddr_in nonet = simnet_sin("192.168.9.9", 80);
	struct sockaddr_in nohost = simnet_sin("10.0.0.77", 80);
	struct sockaddr_in bcast = simnet_sin("10.0.0.255", 80);
	struct vsocket *so;
	int err = 0;
	socklen_t el = sizeof(err);

	REQUIRE(sn);
	so = tcp_sock(sn->node[0]);
	CHECK_EQ(vsock_connect(so, SA(nonet), sizeof(nonet)), -ENETUNREACH);
	CHECK_EQ(vsock_connect(so, SA(bcast), sizeof(bcast)), -ENETUNREACH);
	/* Nobody answers ARP: the attempt times out. */
	CHECK_EQ(vsock_connect(so, SA(nohost), sizeof(nohost)), -EINPROGRESS);
	simnet_run(sn, 300 * SEC);
	CHECK(vsock_poll(so) & POLLERR);
	CHECK_EQ(vsock_getsockopt(so, SOL_SOCKET, SO_ERROR, &err, &el), 0);
	CHECK(err == ETIMEDOUT || err == EHOSTUNREACH);
	CHECK_EQ(vsock_sendto(so, "x", 1, 0, NULL, 0), -EPIPE); /* as Linux */
	vsock_close(so);
	CHECK_EQ(simnet_free(sn), 0);
}

TEST(tcp_ports_bind_conflicts_and_reuse)
{
	struct simnet *sn = simnet_pair(8);
	struct sockaddr_in any = simnet_sin("0.0.0.0", 8080);
	struct sockaddr_in a1 = simnet_sin("10.0.0.1", 8080);
	struct vsocket *l1, *l2, *l3, *s2;
	int one = 1;

	REQUIRE(sn);
	l1 = tcp_listener(sn->node[0], 8080, 8);
	l2 = tcp_sock(sn->node[0]);
	CHECK_EQ(vsock_bind(l2, SA(any), sizeof(any)), -EADDRINUSE);
	CHECK_EQ(vsock_bind(l2, SA(a1), sizeof(a1)), -EADDRINUSE);
	/* SO_REUSEADDR does not share a port with a listener. */
	vsock_setsockopt(l2, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	CHECK_EQ(vsock_bind(l2, SA(any), sizeof(any)), -EADDRINUSE);
	/* The same port in another vimage is another port. */
	l3 = tcp_listener(sn->node[1], 8080, 8);
	/* A listener's address is reused once it is closed. */
	vsock_close(l1);
	CHECK_EQ(vsock_bind(l2, SA(any), sizeof(any)), 0);
	CHECK_EQ(vsock_listen(l2, 8), 0);
	s2 = tcp_sock(sn->node[0]);
	CHECK_EQ(vsock_listen(s2, 8), 0); /* autobinds an ephemeral port */
	vsock_close(s2);
	vsock_close(l2);
	vsock_close(l3);
	CHECK_EQ(simnet_free(sn), 0);
}

TEST(tcp_congestion_control_selectable)
{
	struct simnet *sn = simnet_pair(9);
	struct vsocket *so;
	char name[16] = {0};
	socklen_t l = sizeof(name);

	REQUIRE(sn);
	so = tcp_sock(sn->node[0]);
	CHECK_EQ(vsock_getsockopt(so, IPPROTO_TCP, TCP_CONGESTION, name, &l),
		 0);
	CHECK_STR(name, "cubic");
	CHECK_EQ(vsock_setsockopt(so, IPPROTO_TCP, TCP_CONGESTION, "reno", 4),
		 0);
	l = sizeof(name);
	CHECK_EQ(vsock_getsockopt(so, IPPROTO_TCP, TCP_CONGESTION, name, &l),
		 0);
	CHECK_STR(name, "reno");
	CHECK_EQ(vsock_setsockopt(so, IPPROTO_TCP, TCP_CONGESTION, "bbr9", 4),
		 -ENOENT);
	vsock_close(so);
	CHECK_EQ(simnet_free(sn), 0);
}

TEST(tcp_recv_peek_waitall_and_readiness)
{
	struct simnet *sn = simnet_pair(10);
	struct vsocket *lsn, *cli, *srv;
	char buf[64];
	int v = 0;

	REQUIRE(sn);
	lsn = tcp_listener(sn->node[1], 90, 4);
	tcp_pair(sn, lsn, "10.0.0.2", 90, &cli, &srv);
	CHECK_EQ(vsock_poll(srv) & (POLLIN | POLLHUP | POLLERR), 0);
	CHECK_EQ(vsock_sendto(cli, "abcdef", 6, 0, NULL, 0), 6);
	simnet_run(sn, 10 * MS);
	CHECK_EQ(vsock_ioctl(srv, FIONREAD, &v), 0);
	CHECK_EQ(v, 6);
	CHECK_EQ(vsock_recvfrom(srv, buf, 3, MSG_PEEK, NULL, NULL), 3);
	CHECK_MEM(buf, "abc", 3);
	/* MSG_WAITALL: not enough yet, so "would block". */
	CHECK_EQ(vsock_recvfrom(srv, buf, 10, MSG_WAITALL, NULL, NULL),
		 -EAGAIN);
	CHECK_EQ(vsock_sendto(cli, "ghij", 4, 0, NULL, 0), 4);
	simnet_run(sn, 10 * MS);
	CHECK_EQ(vsock_recvfrom(srv, buf, 10, MSG_WAITALL, NULL, NULL), 10);
	CHECK_MEM(buf, "abcdefghij", 10);
	/* Half-close: the reader sees the end, the writer may still write. */
	CHECK_EQ(vsock_shutdown(cli, SHUT_WR), 0);
	CHECK_EQ(vsock_sendto(cli, "x", 1, 0, NULL, 0), -EPIPE);
	simnet_run(sn, 10 * MS);
	CHECK(vsock_poll(srv) & POLLRDHUP);
	CHECK_EQ(vsock_recvfrom(srv, buf, 10, MSG_WAITALL, NULL, NULL), 0);
	CHECK_EQ(vsock_sendto(srv, "late", 4, 0, NULL, 0), 4);
	simnet_run(sn, 10 * MS);
	CHECK_EQ(vsock_recvfrom(cli, buf, sizeof(buf), 0, NULL, NULL), 4);
	CHECK_EQ(vsock_shutdown(srv, SHUT_WR), 0);
	simnet_run(sn, 10 * MS);
	CHECK(vsock_poll(cli) & POLLHUP);
	CHECK(vsock_poll(srv) & POLLHUP);
	CHECK_EQ(vsock_recvfrom(cli, buf, sizeof(buf), 0, NULL, NULL), 0);
	vsock_close(cli);
	vsock_close(srv);
	vsock_close(lsn);
	simnet_run(sn, 120 * SEC);
	CHECK_EQ(simnet_free(sn), 0);
}

/* The notify callback fires when a connection completes and when data
 * arrives: what the daemon builds blocking calls on. */
struct wake {
	int calls;
	unsigned last;
};

static void on_wake(void *ctx, struct vsocket *so, unsigned ev)
{
	struct wake *wk = ctx;

	(void)so;
	wk->calls++;
	wk->last = ev;
}

TEST(tcp_notify_on_connect_and_data)
{
	struct simnet *sn = simnet_pair(11);
	struct sockaddr_in sin = simnet_sin("10.0.0.2", 91);
	struct vsocket *lsn, *cli, *srv;
	struct wake wl = {0}, wc = {0};

	REQUIRE(sn);
	lsn = tcp_listener(sn->node[1], 91, 4);
	vsock_set_notify(lsn, on_wake, &wl);
	cli = tcp_sock(sn->node[0]);
	vsock_set_notify(cli, on_wake, &wc);
	REQUIRE(vsock_connect(cli, SA(sin), sizeof(sin)) == -EINPROGRESS);
	simnet_run(sn, 10 * MS);
	CHECK(wl.calls >= 1);
	CHECK(wl.last & POLLIN);
	CHECK(wc.calls >= 1);
	CHECK(wc.last & POLLOUT);
	REQUIRE(vsock_accept(lsn, &srv, NULL, NULL) == 0);
	wc.calls = 0;
	CHECK_EQ(vsock_sendto(srv, "z", 1, 0, NULL, 0), 1);
	simnet_run(sn, 10 * MS);
	CHECK(wc.calls >= 1);
	CHECK(wc.last & POLLIN);
	vsock_close(cli);
	vsock_close(srv);
	vsock_close(lsn);
	simnet_run(sn, 120 * SEC);
	CHECK_EQ(simnet_free(sn), 0);
}

/* The copy-free send (vsock_send_reserve/commit, what vimaged reads a
 * program's stream into): offers no more than the send space, fills the
 * last segment first, queues exactly what was committed (a partial fill, or
 * nothing: the buffers go back), and the bytes arrive intact and in order
 * mixed with ordinary sends. */
TEST(tcp_send_reserve_commit_queues_exactly_what_was_written)
{
	static struct vsock_sendbuf sb;
	struct simnet *sn = simnet_pair(1);
	struct vsocket *lsn, *cli, *srv;
	uint8_t want[300000], got[300000];
	size_t sent = 0, rcvd = 0;
	struct world_counts before, after;
	int space = 0;
	ssize_t off;

	REQUIRE(sn);
	lsn = tcp_listener(sn->node[1], 81, 4);
	tcp_pair(sn, lsn, "10.0.0.2", 81, &cli, &srv);
	for (size_t i = 0; i < sizeof(want); i++)
		want[i] = (uint8_t)(i * 7 + (i >> 9));
	/* Small ordinary sends: the first leaves at once, Nagle holds the
	 * second in a partial last segment. */
	CHECK_EQ(vsock_sendto(cli, want, 100, 0, NULL, 0), 100);
	CHECK_EQ(vsock_sendto(cli, want + 100, 50, 0, NULL, 0), 50);
	sent = 150;
	/* Reserve and give everything back: nothing queued, nothing leaked. */
	world_counts(sn->w, &before);
	off = vsock_send_reserve(cli, 50000, &sb);
	CHECK(off > 0 && off <= 50000);
	CHECK(sb.tail); /* the 100-byte segment has room */
	CHECK_EQ(vsock_send_commit(cli, &sb, 0), 0);
	world_counts(sn->w, &after);
	CHECK_EQ(after.pkts, before.pkts);
	/* Never more than the send space. */
	CHECK_EQ(vsock_ioctl(cli, VSIOCSNDSPACE, &space), 0);
	off = vsock_send_reserve(cli, (size_t)space * 4, &sb);
	CHECK(off > 0 && off <= space);
	CHECK_EQ(vsock_send_commit(cli, &sb, 0), 0);
	while (sent < sizeof(want) || rcvd < sizeof(want)) {
		ssize_t n;

		if (sent < sizeof(want)) {
			size_t w = 0;

			off = vsock_send_reserve(cli, sizeof(want) - sent, &sb);
			CHECK(off >= 0);
			/* Fill all but the last 333 bytes offered. */
			for (int i = 0; i < sb.n && off > 333; i++) {
				size_t m = sb.iov[i].iov_len;

				if (w + m > (size_t)off - 333)
					m = (size_t)off - 333 - w;
				memcpy(sb.iov[i].iov_base, want + sent + w, m);
				w += m;
			}
			CHECK_EQ(vsock_send_commit(cli, &sb, w), (ssize_t)w);
			sent += w;
			if (sent + 333 >= sizeof(want) && sent < sizeof(want)) {
				n = vsock_sendto(cli, want + sent,
						 sizeof(want) - sent, 0, NULL, 0);
				if (n > 0)
					sent += (size_t)n;
			}
		}
		simnet_run(sn, 5 * MS);
		n = vsock_recvfrom(srv, got + rcvd, sizeof(got) - rcvd,
				   MSG_DONTWAIT, NULL, NULL);
		if (n > 0)
			rcvd += (size_t)n;
		if (n <= 0 && sent == sizeof(want) && rcvd < sizeof(want))
			simnet_run(sn, 50 * MS);
		REQUIRE(sn->w && world_now(sn->w) < 60 * SEC + 1);
	}
	CHECK_EQ(rcvd, sizeof(want));
	CHECK_MEM(got, want, sizeof(want));
	/* Not on a datagram socket; not before a connection. */
	{
		struct vsocket *u, *t = tcp_sock(sn->node[0]);

		REQUIRE(vsock_socket(sn->node[0], AF_INET, SOCK_DGRAM, 0, &u) ==
			0);
		CHECK_EQ(vsock_send_reserve(u, 10, &sb), -EOPNOTSUPP);
		CHECK_EQ(vsock_send_reserve(t, 10, &sb), -EPIPE);
		vsock_close(u);
		vsock_close(t);
	}
	vsock_close(cli);
	vsock_close(srv);
	vsock_close(lsn);
	simnet_run(sn, 120 * SEC);
	CHECK_EQ(simnet_free(sn), 0);
}
