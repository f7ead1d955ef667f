/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * UDP, ping and raw sockets between vimages in virtual time: two hosts
 * a (10.0.0.1) and b (10.0.0.2) on a ve pair, built by simnet_pair. Bytes
 * are verified end to end, errors arrive as ICMP would deliver them, and
 * every test ends with nothing leaked (simnet_free checks the counts).
 */
#include <arpa/inet.h>
#include <string.h>

#include "core/kern.h"
#include "harness/test.h"
#include "simnet.h"
#include "wire/wire.h"

#ifndef ICMP_FILTER
#define ICMP_FILTER 1
#endif

#define SA(s) ((struct sockaddr *)&(s))
#define MS    (NSEC_PER_MSEC)

static int set_int(struct vsocket *so, int level, int name, int v)
{
	return vsock_setsockopt(so, level, name, &v, sizeof(v));
}

static uint64_t stat_of(struct vimage *vi, const char *name)
{
	uint64_t v = 0;

	REQUIRE(vimage_stat_get(vi, name, &v) == 0);
	return v;
}

static void fill(uint8_t *buf, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		buf[i] = (uint8_t)(i * 31 + seed * 7 + (i >> 8));
}

TEST(udp_echo_across_ve_pair)
{
	static const size_t sizes[] = {0,    1,	   18,	 512,  1472,
				       1473, 4000, 9000, 65507};
	static uint8_t out[65507], in[65536];
	struct simnet *sn = simnet_pair(1);
	struct vimage *a, *b;
	struct vsocket *srv, *cli;
	struct sockaddr_in to = simnet_sin("10.0.0.2", 7), from;
	socklen_t fl;
	ssize_t n;

	REQUIRE(sn);
	a = sn->node[0];
	b = sn->node[1];
	srv = simnet_udp(b, NULL, 7);
	cli = simnet_udp(a, "10.0.0.1", 0);
	REQUIRE(srv && cli);
	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		size_t len = sizes[i];

		fill(out, len, (unsigned)i);
		REQUIRE_EQ(vsock_sendto(cli, out, len, 0, SA(to), sizeof(to)),
			   (ssize_t)len);
		simnet_run(sn, 10 * MS);
		/* The echo server: whatever comes in goes back to its source.
		 */
		fl = sizeof(from);
		n = vsock_recvfrom(srv, in, sizeof(in), 0, SA(from), &fl);
		REQUIRE_EQ(n, (ssize_t)len);
		CHECK_EQ(ntohl(from.sin_addr.s_addr), 0x0a000001);
		REQUIRE_EQ(vsock_sendto(srv, in, (size_t)n, 0, SA(from), fl),
			   n);
		simnet_run(sn, 10 * MS);
		memset(in, 0, len);
		fl = sizeof(from);
		n = vsock_recvfrom(cli, in, sizeof(in), 0, SA(from), &fl);
		CHECK_EQ(n, (ssize_t)len);
		CHECK_MEM(in, out, len);
		CHECK_EQ(ntohl(from.sin_addr.s_addr), 0x0a000002);
		CHECK_EQ(ntohs(from.sin_port), 7);
	}
	CHECK_EQ(stat_of(b, "udp.in_datagrams"), ARRAY_SIZE(sizes));
	CHECK_EQ(stat_of(a, "udp.out_datagrams"), ARRAY_SIZE(sizes));
	CHECK_EQ(stat_of(a, "udp.in_datagrams"), ARRAY_SIZE(sizes));
	vsock_close(srv);
	vsock_close(cli);
	CHECK_EQ(simnet_free(sn), 0);
}

TEST(udp_port_unreachable_sets_econnrefused_on_connected_socket)
{
	struct simnet *sn = simnet_pair(2);
	struct vimage *a, *b;
	struct vsocket *conn, *unconn;
	struct sockaddr_in to = simnet_sin("10.0.0.2", 9999);
	int err = -1;
	socklen_t len = sizeof(err);
	char buf[8];

	REQUIRE(sn);
	a = sn->node[0];
	b = sn->node[1];
	REQUIRE(vsock_socket(a, AF_INET, SOCK_DGRAM, 0, &conn) == 0);
	REQUIRE(vsock_socket(a, AF_INET, SOCK_DGRAM, 0, &unconn) == 0);
	REQUIRE(vsock_connect(conn, SA(to), sizeof(to)) == 0);
	CHECK_EQ(vsock_sendto(conn, "knock", 5, 0, NULL, 0), 5);
	CHECK_EQ(vsock_sendto(unconn, "knock", 5, 0, SA(to), sizeof(to)), 5);
	simnet_run(sn, 10 * MS);
	CHECK_EQ(stat_of(b, "udp.no_ports"), 2);
	/* Only the connected socket hears of it (no IP_RECVERR). */
	CHECK(vsock_poll(conn) & POLLERR);
	CHECK(!(vsock_poll(unconn) & POLLERR));
	CHECK_EQ(vsock_getsockopt(conn, SOL_SOCKET, SO_ERROR, &err, &len), 0);
	CHECK_EQ(err, ECONNREFUSED);
	/* Read-and-clear: the next send and receive work normally. */
	CHECK_EQ(vsock_recvfrom(conn, buf, sizeof(buf), 0, NULL, NULL),
		 -EAGAIN);
	CHECK_EQ(vsock_sendto(conn, "knock", 5, 0, NULL, 0), 5);
	simnet_run(sn, 2 * NSEC_PER_SEC); /* past the ICMP rate limit */
	CHECK_EQ(vsock_recvfrom(conn, buf, sizeof(buf), 0, NULL, NULL),
		 -ECONNREFUSED);
	CHECK_EQ(vsock_recvfrom(unconn, buf, sizeof(buf), 0, NULL, NULL),
		 -EAGAIN);
	vsock_close(conn);
	vsock_close(unconn);
	CHECK_EQ(simnet_free(sn), 0);
}

TEST(udp_broadcast_reaches_all_bound_sockets)
{
	struct simnet *sn = simnet_pair(3);
	struct vimage *a, *b;
	struct vsocket *wild1, *wild2, *bcast, *uni, *other, *tx;
	struct sockaddr_in dir = simnet_sin("10.0.0.255", 67);
	struct sockaddr_in lim = simnet_sin("255.255.255.255", 67);
	struct sockaddr_in nobody = simnet_sin("10.0.0.255", 9999);
	char buf[16];

	REQUIRE(sn);
	a = sn->node[0];
	b = sn->node[1];
	struct vsocket **rx[] = {&wild1, &wild2, &bcast, &uni};
	const char *addr[] = {NULL, NULL, "10.0.0.255", "10.0.0.2"};
	for (int i = 0; i < 4; i++) {
		struct sockaddr_in s =
		    simnet_sin(addr[i] ? addr[i] : "0.0.0.0", 67);

		REQUIRE(vsock_socket(b, AF_INET, SOCK_DGRAM, 0, rx[i]) == 0);
		REQUIRE(set_int(*rx[i], SOL_SOCKET, SO_REUSEADDR, 1) == 0);
		REQUIRE(vsock_bind(*rx[i], SA(s), sizeof(s)) == 0);
	}
	other = simnet_udp(b, NULL, 68);
	REQUIRE(other);
	REQUIRE(vsock_socket(a, AF_INET, SOCK_DGRAM, 0, &tx) == 0);
	REQUIRE(set_int(tx, SOL_SOCKET, SO_BROADCAST, 1) == 0);
	CHECK_EQ(vsock_sendto(tx, "directed", 8, 0, SA(dir), sizeof(dir)), 8);
	/* The limited broadcast needs a device (there is no default route). */
	CHECK_EQ(vsock_sendto(tx, "limited", 7, 0, SA(lim), sizeof(lim)),
		 -ENETUNREACH);
	REQUIRE(vsock_setsockopt(tx, SOL_SOCKET, SO_BINDTODEVICE, "ve0", 4) ==
		0);
	CHECK_EQ(vsock_sendto(tx, "limited", 7, 0, SA(lim), sizeof(lim)), 7);
	CHECK_EQ(vsock_sendto(tx, "nobody", 6, 0, SA(nobody), sizeof(nobody)),
		 6);
	simnet_run(sn, 10 * MS);
	/* Wildcard sockets get both; the one bound to the subnet broadcast
	 * gets the directed one; a unicast binding gets neither. */
	CHECK_EQ(vsock_recvfrom(wild1, buf, sizeof(buf), 0, NULL, NULL), 8);
	CHECK_EQ(vsock_recvfrom(wild1, buf, sizeof(buf), 0, NULL, NULL), 7);
	CHECK_EQ(vsock_recvfrom(wild2, buf, sizeof(buf), 0, NULL, NULL), 8);
	CHECK_EQ(memcmp(buf, "directed", 8), 0);
	CHECK_EQ(vsock_recvfrom(wild2, buf, sizeof(buf), 0, NULL, NULL), 7);
	CHECK_EQ(memcmp(buf, "limited", 7), 0);
	CHECK_EQ(vsock_recvfrom(bcast, buf, sizeof(buf), 0, NULL, NULL), 8);
	CHECK_EQ(vsock_recvfrom(bcast, buf, sizeof(buf), 0, NULL, NULL),
		 -EAGAIN);
	CHECK_EQ(vsock_recvfrom(uni, buf, sizeof(buf), 0, NULL, NULL), -EAGAIN);
	CHECK_EQ(vsock_recvfrom(other, buf, sizeof(buf), 0, NULL, NULL),
		 -EAGAIN);
	CHECK_EQ(stat_of(b, "udp.bcast_delivered"), 5);
	/* A broadcast to an unbound port is not answered (RFC 1122). */
	CHECK_EQ(stat_of(b, "icmp.out_unreach"), 0);
	CHECK_EQ(stat_of(b, "udp.no_ports"), 0);
	vsock_close(wild1);
	vsock_close(wild2);
	vsock_close(bcast);
	vsock_close(uni);
	vsock_close(other);
	vsock_close(tx);
	CHECK_EQ(simnet_free(sn), 0);
}

TEST(udp_same_port_in_two_vimages)
{
	struct simnet *sn = simnet_pair(4);
	struct vsocket *sa, *sb;
	struct sockaddr_in to_a = simnet_sin("10.0.0.1", 5000);
	struct sockaddr_in to_b = simnet_sin("10.0.0.2", 5000);
	char buf[16];

	REQUIRE(sn);
	/* Port tables are per vimage: no EADDRINUSE across them. */
	sa = simnet_udp(sn->node[0], NULL, 5000);
	sb = simnet_udp(sn->node[1], NULL, 5000);
	REQUIRE(sa && sb);
	CHECK_EQ(vsock_sendto(sa, "to b", 4, 0, SA(to_b), sizeof(to_b)), 4);
	CHECK_EQ(vsock_sendto(sb, "to a", 4, 0, SA(to_a), sizeof(to_a)), 4);
	simnet_run(sn, 10 * MS);
	CHECK_EQ(vsock_recvfrom(sa, buf, sizeof(buf), 0, NULL, NULL), 4);
	CHECK_EQ(memcmp(buf, "to a", 4), 0);
	CHECK_EQ(vsock_recvfrom(sb, buf, sizeof(buf), 0, NULL, NULL), 4);
	CHECK_EQ(memcmp(buf, "to b", 4), 0);
	vsock_close(sa);
	vsock_close(sb);
	CHECK_EQ(simnet_free(sn), 0);
}

TEST(udp_reuseport_group_keeps_a_flow_on_one_socket)
{
	struct simnet *sn = simnet_pair(5);
	struct vsocket *g[4], *cli[8];
	struct sockaddr_in to = simnet_sin("10.0.0.2", 5353);
	int got[4] = {0}, used = 0;
	char buf[8];

	REQUIRE(sn);
	for (int i = 0; i < 4; i++) {
		struct sockaddr_in s = simnet_sin("0.0.0.0", 5353);

		REQUIRE(vsock_socket(sn->node[1], AF_INET, SOCK_DGRAM, 0,
				     &g[i]) == 0);
		REQUIRE(set_int(g[i], SOL_SOCKET, SO_REUSEPORT, 1) == 0);
		REQUIRE(vsock_bind(g[i], SA(s), sizeof(s)) == 0);
	}
	for (int c = 0; c < 8; c++) {
		cli[c] = simnet_udp(sn->node[0], NULL, 0);
		REQUIRE(cli[c]);
		for (int k = 0; k < 3; k++)
			CHECK_EQ(
			    vsock_sendto(cli[c], "q", 1, 0, SA(to), sizeof(to)),
			    1);
		simnet_run(sn, 10 * MS);
		/* All three datagrams of one client land on one socket. */
		for (int i = 0; i < 4; i++) {
			int n = 0;

			while (vsock_recvfrom(g[i], buf, sizeof(buf), 0, NULL,
					      NULL) == 1)
				n++;
			CHECK(n == 0 || n == 3);
			got[i] += n;
		}
	}
	for (int i = 0; i < 4; i++)
		used += got[i] > 0;
	CHECK(used >= 2); /* 8 flows do not all hash to one socket */
	for (int i = 0; i < 4; i++)
		vsock_close(g[i]);
	for (int c = 0; c < 8; c++)
		vsock_close(cli[c]);
	CHECK_EQ(simnet_free(sn), 0);
}

/* Send an echo request with seq and a patterned payload from ps to dst. */
static void ping_send(struct vsocket *ps, const char *dst, uint16_t seq,
		      uint8_t *req, size_t payload)
{
	struct sockaddr_in to = simnet_sin(dst, 0);

	memset(req, 0, 8);
	req[0] = 8;
	req[4] = 0xde; /* an identifier the socket must overwrite */
	req[5] = 0xad;
	req[6] = (uint8_t)(seq >> 8);
	req[7] = (uint8_t)seq;
	fill(req + 8, payload, seq);
	REQUIRE_EQ(vsock_sendto(ps, req, 8 + payload, 0, SA(to), sizeof(to)),
		   (ssize_t)(8 + payload));
}

TEST(ping_socket_echo_roundtrip)
{
	struct simnet *sn = simnet_pair(6);
	struct vsocket *ps;
	struct sockaddr_in me, from;
	socklen_t ml = sizeof(me), fl = sizeof(from);
	uint8_t req[1508], rep[1600];

	REQUIRE(sn);
	REQUIRE(vsock_socket(sn->node[0], AF_INET, SOCK_DGRAM, IPPROTO_ICMP,
			     &ps) == 0);
	for (uint16_t seq = 1; seq <= 3; seq++) {
		ping_send(ps, "10.0.0.2", seq, req, 1400);
		simnet_run(sn, 10 * MS);
		fl = sizeof(from);
		REQUIRE_EQ(
		    vsock_recvfrom(ps, rep, sizeof(rep), 0, SA(from), &fl),
		    1408);
		CHECK_EQ(rep[0], 0); /* echo reply, without the IP header */
		CHECK_EQ(rd16(rep + 6), seq);
		CHECK_MEM(rep + 8, req + 8, 1400);
		CHECK_EQ(ntohl(from.sin_addr.s_addr), 0x0a000002);
		CHECK_EQ(ntohs(from.sin_port), 0);
	}
	/* The identifier on the wire was the socket's port. */
	REQUIRE(vsock_getsockname(ps, SA(me), &ml) == 0);
	CHECK_EQ(rd16(rep + 4), ntohs(me.sin_port));
	CHECK_EQ(stat_of(sn->node[0], "raw.ping_out"), 3);
	CHECK_EQ(stat_of(sn->node[0], "raw.ping_in"), 3);
	vsock_close(ps);
	CHECK_EQ(simnet_free(sn), 0);
}

TEST(raw_icmp_socket_sees_echo_reply)
{
	struct simnet *sn = simnet_pair(7);
	struct vsocket *ps, *raw, *filtered;
	uint8_t req[64], buf[256];
	uint32_t no_replies = 1u << 0; /* ICMP_FILTER: drop type 0 */
	struct sockaddr_in from;
	socklen_t fl = sizeof(from);
	ssize_t n;

	REQUIRE(sn);
	REQUIRE(vsock_socket(sn->node[0], AF_INET, SOCK_DGRAM, IPPROTO_ICMP,
			     &ps) == 0);
	REQUIRE(vsock_socket(sn->node[0], AF_INET, SOCK_RAW, IPPROTO_ICMP,
			     &raw) == 0);
	REQUIRE(vsock_socket(sn->node[0], AF_INET, SOCK_RAW, IPPROTO_ICMP,
			     &filtered) == 0);
	REQUIRE(vsock_setsockopt(filtered, SOL_RAW, ICMP_FILTER, &no_replies,
				 sizeof(no_replies)) == 0);
	ping_send(ps, "10.0.0.2", 42, req, 32);
	simnet_run(sn, 10 * MS);
	n = vsock_recvfrom(raw, buf, sizeof(buf), 0, SA(from), &fl);
	REQUIRE_EQ(n, 20 + 8 + 32);
	CHECK_EQ(buf[0], 0x45);
	CHECK_EQ(buf[9], IPPROTO_ICMP);
	CHECK_EQ(rd32(buf + 12), 0x0a000002);
	CHECK_EQ(buf[20], 0); /* echo reply */
	CHECK_EQ(rd16(buf + 26), 42);
	CHECK_MEM(buf + 28, req + 8, 32);
	CHECK_EQ(ntohl(from.sin_addr.s_addr), 0x0a000002);
	/* Only the reply came in: raw sockets see input, not our output. */
	CHECK_EQ(vsock_recvfrom(raw, buf, sizeof(buf), 0, NULL, NULL), -EAGAIN);
	CHECK_EQ(vsock_recvfrom(filtered, buf, sizeof(buf), 0, NULL, NULL),
		 -EAGAIN);
	/* The ping socket got its reply as well. */
	CHECK_EQ(vsock_recvfrom(ps, buf, sizeof(buf), 0, NULL, NULL), 40);
	vsock_close(ps);
	vsock_close(raw);
	vsock_close(filtered);
	CHECK_EQ(simnet_free(sn), 0);
}

TEST(raw_socket_for_unknown_protocol_suppresses_protocol_unreachable)
{
	struct simnet *sn = simnet_pair(8);
	struct vsocket *tx, *rx;
	struct sockaddr_in to = simnet_sin("10.0.0.2", 0);
	uint8_t buf[64];

	REQUIRE(sn);
	REQUIRE(vsock_socket(sn->node[0], AF_INET, SOCK_RAW, 253, &tx) == 0);
	CHECK_EQ(vsock_sendto(tx, "one", 3, 0, SA(to), sizeof(to)), 3);
	simnet_run(sn, 10 * MS);
	CHECK_EQ(stat_of(sn->node[1], "icmp.out_unreach"), 1);
	REQUIRE(vsock_socket(sn->node[1], AF_INET, SOCK_RAW, 253, &rx) == 0);
	CHECK_EQ(vsock_sendto(tx, "two", 3, 0, SA(to), sizeof(to)), 3);
	simnet_run(sn, 10 * MS);
	CHECK_EQ(stat_of(sn->node[1], "icmp.out_unreach"), 1);
	CHECK_EQ(vsock_recvfrom(rx, buf, sizeof(buf), 0, NULL, NULL), 23);
	CHECK_EQ(memcmp(buf + 20, "two", 3), 0);
	vsock_close(tx);
	vsock_close(rx);
	CHECK_EQ(simnet_free(sn), 0);
}

TEST(udp_socket_close_frees_queued_packets)
{
	struct simnet *sn = simnet_pair(9);
	struct vsocket *srv, *cli;
	struct sockaddr_in to = simnet_sin("10.0.0.2", 7);
	struct world_counts base, wc;
	static uint8_t payload[3000];

	REQUIRE(sn);
	srv = simnet_udp(sn->node[1], NULL, 7);
	cli = simnet_udp(sn->node[0], NULL, 0);
	REQUIRE(srv && cli);
	/* Resolve ARP first so the baseline holds no pending packets. */
	CHECK_EQ(vsock_sendto(cli, "x", 1, 0, SA(to), sizeof(to)), 1);
	simnet_run(sn, 10 * MS);
	CHECK_EQ(vsock_recvfrom(srv, payload, sizeof(payload), 0, NULL, NULL),
		 1);
	world_counts(sn->w, &base);
	for (int i = 0; i < 10; i++)
		CHECK_EQ(vsock_sendto(cli, payload,
				      i % 2 ? 100 : sizeof(payload), 0, SA(to),
				      sizeof(to)),
			 i % 2 ? 100 : (ssize_t)sizeof(payload));
	simnet_run(sn, 10 * MS);
	world_counts(sn->w, &wc);
	CHECK_EQ(wc.pkts, base.pkts + 10); /* reassembled ones are one packet */
	CHECK(vsock_poll(srv) & POLLIN);
	vsock_close(srv);
	world_counts(sn->w, &wc);
	CHECK_EQ(wc.pkts, base.pkts);
	CHECK_EQ(wc.pbufs, base.pbufs);
	CHECK_EQ(wc.sockets, 1);
	vsock_close(cli);
	CHECK_EQ(simnet_free(sn), 0);
}

TEST(vimage_destroy_closes_sockets)
{
	struct simnet *sn = simnet_pair(10);
	struct vimage *a, *b;
	struct vsocket *u1, *u2, *ps, *raw, *peer;
	struct sockaddr_in to_a = simnet_sin("10.0.0.1", 7);
	struct sockaddr_in to_b = simnet_sin("10.0.0.2", 9);
	uint8_t req[16];
	struct world_counts wc;

	REQUIRE(sn);
	a = sn->node[0];
	b = sn->node[1];
	u1 = simnet_udp(a, NULL, 7);
	REQUIRE(u1);
	REQUIRE(vsock_socket(a, AF_INET, SOCK_DGRAM, 0, &u2) == 0);
	REQUIRE(vsock_connect(u2, SA(to_b), sizeof(to_b)) == 0);
	REQUIRE(vsock_socket(a, AF_INET, SOCK_DGRAM, IPPROTO_ICMP, &ps) == 0);
	REQUIRE(vsock_socket(a, AF_INET, SOCK_RAW, IPPROTO_ICMP, &raw) == 0);
	peer = simnet_udp(b, NULL, 0);
	REQUIRE(peer);
	/* Leave datagrams and replies queued in a's sockets. */
	for (int i = 0; i < 4; i++)
		CHECK_EQ(
		    vsock_sendto(peer, "queued", 6, 0, SA(to_a), sizeof(to_a)),
		    6);
	ping_send(ps, "10.0.0.2", 1, req, 8);
	simnet_run(sn, 10 * MS);
	CHECK(vsock_poll(u1) & POLLIN);
	CHECK(vsock_poll(ps) & POLLIN);
	CHECK(vsock_poll(raw) & POLLIN);
	world_counts(sn->w, &wc);
	CHECK_EQ(wc.sockets, 5);
	REQUIRE(simnet_destroy_node(sn, a) == 0);
	world_counts(sn->w, &wc);
	CHECK_EQ(wc.sockets, 1);
	CHECK_EQ(sn->w->sockets_live, 1);
	vsock_close(peer);
	CHECK_EQ(sn->w->sockets_live, 0);
	CHECK_EQ(simnet_free(sn), 0);
}
