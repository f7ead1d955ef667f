/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Routed chains in virtual time: h0 - r1 - r2 - ... - rN - h1, every link a
 * ve pair with its own /24 (link i is 10.0.i.0/24, left end .1, right .2).
 * Ping end to end, walk the TTL like traceroute and check every ICMP time
 * exceeded comes from the right router address, fragment a 60 KiB datagram
 * over a 1500-byte hop, and tear it all down with nothing leaked.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/kern.h"
#include "harness/test.h"
#include "vimage/net.h"
#include "vimage/socket.h"

#define MAXN 64

struct chain {
	struct world *w;
	int routers;
	struct vimage *node[MAXN + 2]; /* 0 = h0, 1..N routers, N+1 = h1 */
	struct ifnet *west[MAXN + 2], *east[MAXN + 2];
};

static uint32_t link_addr(int link, int side)
{
	return (10u << 24) | ((uint32_t)link << 8) | (uint32_t)side;
}

static void add_route(struct vimage *vi, uint32_t dst, unsigned plen, uint32_t gw)
{
	struct vroute r = {.dst = vaddr_v4(dst), .plen = plen,
			   .type = VRT_UNICAST, .gw = vaddr_v4(gw)};

	REQUIRE(vroute_add(vi, &r) == 0);
}

static void chain_build(struct chain *c, int routers, unsigned mid_mtu_link,
			unsigned mtu_big)
{
	struct world_config cfg = {.seed = 11};
	char name[32];
	int n = routers + 2;

	memset(c, 0, sizeof(*c));
	c->routers = routers;
	REQUIRE(world_create(&cfg, &c->w) == 0);
	for (int i = 0; i < n; i++) {
		snprintf(name, sizeof(name), i == 0 ? "h0" : i == n - 1 ? "h1" : "r%d", i);
		REQUIRE(vimage_create(c->w, name, &c->node[i]) == 0);
	}
	for (int l = 0; l < n - 1; l++) {
		struct vaddr a = vaddr_v4(link_addr(l, 1)), b = vaddr_v4(link_addr(l, 2));
		unsigned mtu = (mid_mtu_link && (unsigned)l == mid_mtu_link) ? 1500 : mtu_big;

		REQUIRE(vif_ve_create(c->node[l], "east", c->node[l + 1], "west",
				      &c->east[l], &c->west[l + 1]) == 0);
		REQUIRE(vif_set_mtu(c->east[l], mtu) == 0);
		REQUIRE(vif_set_mtu(c->west[l + 1], mtu) == 0);
		REQUIRE(vif_addr_add(c->east[l], &a, 24) == 0);
		REQUIRE(vif_addr_add(c->west[l + 1], &b, 24) == 0);
		vif_set_up(c->east[l], true);
		vif_set_up(c->west[l + 1], true);
	}
	add_route(c->node[0], 0, 0, link_addr(0, 2));
	add_route(c->node[n - 1], 0, 0, link_addr(n - 2, 1));
	for (int k = 1; k <= routers; k++) {
		REQUIRE(vimage_sysctl_set(c->node[k], "net.inet.ip.forwarding", 1) == 0);
		if (k < routers)
			add_route(c->node[k], 0, 0, link_addr(k, 2));
		if (k > 1)
			add_route(c->node[k], link_addr(0, 0), 24, link_addr(k - 1, 1));
	}
}

static void chain_free(struct chain *c)
{
	struct world_counts wc;

	for (int i = 0; i < c->routers + 2; i++)
		CHECK_EQ(vimage_destroy(c->node[i]), 0);
	world_counts(c->w, &wc);
	CHECK_EQ(wc.vimages, 1);
	CHECK_EQ(wc.ifnets, 1);
	CHECK_EQ(wc.pkts, 0);
	CHECK_EQ(wc.pbufs, 0);
	CHECK_EQ(wc.timers, 0);
	CHECK_EQ(wc.routes, 1); /* the root's lo0: local 127.0.0.0/8 */
	CHECK_EQ(wc.sockets, 0);
	world_destroy(c->w);
}

static void run_for(struct world *w, uint64_t ns)
{
	world_run_until(w, world_now(w) + ns);
}

static struct sockaddr_in sin4(uint32_t host, uint16_t port)
{
	struct sockaddr_in s = {.sin_family = AF_INET, .sin_port = htons(port)};

	s.sin_addr.s_addr = htonl(host);
	return s;
}

/* Send one echo request from a ping socket; returns the reply's source or 0. */
static uint32_t ping_once(struct world *w, struct vsocket *ps, uint32_t dst,
			  uint16_t seq, size_t payload)
{
	uint8_t req[2048] = {8, 0}, rep[2048];
	struct sockaddr_in to = sin4(dst, 0), from;
	socklen_t fl = sizeof(from);
	ssize_t n;

	req[6] = (uint8_t)(seq >> 8);
	req[7] = (uint8_t)seq;
	for (size_t i = 0; i < payload; i++)
		req[8 + i] = (uint8_t)(i * 7 + seq);
	n = vsock_sendto(ps, req, 8 + payload, 0, (struct sockaddr *)&to, sizeof(to));
	if (n != (ssize_t)(8 + payload))
		return 0;
	run_for(w, 5 * NSEC_PER_SEC);
	n = vsock_recvfrom(ps, rep, sizeof(rep), 0, (struct sockaddr *)&from, &fl);
	if (n != (ssize_t)(8 + payload) || rep[0] != 0 ||
	    (uint16_t)(rep[6] << 8 | rep[7]) != seq ||
	    memcmp(rep + 8, req + 8, payload) != 0)
		return 0;
	return ntohl(from.sin_addr.s_addr);
}

TEST(ping_across_ve_pair)
{
	struct chain c;
	struct vsocket *ps;

	chain_build(&c, 0, 0, 1500);
	REQUIRE(vsock_socket(c.node[0], AF_INET, SOCK_DGRAM, IPPROTO_ICMP, &ps) == 0);
	for (uint16_t seq = 1; seq <= 3; seq++)
		CHECK_EQ(ping_once(c.w, ps, link_addr(0, 2), seq, 56), link_addr(0, 2));
	vsock_close(ps);
	chain_free(&c);
}

TEST(ping_across_32_routers)
{
	struct chain c;
	struct vsocket *ps;
	uint64_t fwd = 0;

	chain_build(&c, 32, 0, 1500);
	REQUIRE(vsock_socket(c.node[0], AF_INET, SOCK_DGRAM, IPPROTO_ICMP, &ps) == 0);
	CHECK_EQ(ping_once(c.w, ps, link_addr(32, 2), 1, 56), link_addr(32, 2));
	CHECK_EQ(ping_once(c.w, ps, link_addr(32, 2), 2, 1400), link_addr(32, 2));
	for (int k = 1; k <= 32; k++) {
		uint64_t v = 0;
		CHECK_EQ(vimage_stat_get(c.node[k], "ip.forward", &v), 0);
		fwd += v;
	}
	CHECK_EQ(fwd, 32 * 2 * 2); /* two pings, both ways, 32 routers */
	vsock_close(ps);
	chain_free(&c);
}

TEST(ttl_walk_gets_time_exceeded_from_each_router)
{
	struct chain c;
	struct vsocket *us, *raw;
	int hops = 32;

	chain_build(&c, hops, 0, 1500);
	REQUIRE(vsock_socket(c.node[0], AF_INET, SOCK_DGRAM, 0, &us) == 0);
	REQUIRE(vsock_socket(c.node[0], AF_INET, SOCK_RAW, IPPROTO_ICMP, &raw) == 0);
	for (int ttl = 1; ttl <= hops + 1; ttl++) {
		struct sockaddr_in to = sin4(link_addr(hops, 2), (uint16_t)(33434 + ttl));
		uint8_t buf[1500];
		ssize_t n;

		REQUIRE(vsock_setsockopt(us, IPPROTO_IP, IP_TTL, &ttl, sizeof(ttl)) == 0);
		REQUIRE(vsock_sendto(us, "probe", 5, 0, (struct sockaddr *)&to, sizeof(to)) == 5);
		run_for(c.w, 2 * NSEC_PER_SEC);
		n = vsock_recvfrom(raw, buf, sizeof(buf), 0, NULL, NULL);
		REQUIRE(n >= 28);
		size_t hl = (size_t)(buf[0] & 15) * 4;
		uint32_t src = (uint32_t)buf[12] << 24 | (uint32_t)buf[13] << 16 |
			       (uint32_t)buf[14] << 8 | buf[15];
		if (ttl <= hops) {
			CHECK_EQ(buf[hl], 11); /* time exceeded */
			CHECK_EQ(buf[hl + 1], 0);
			/* The router's address on the link towards us. */
			CHECK_EQ(src, link_addr(ttl - 1, 2));
		} else {
			CHECK_EQ(buf[hl], 3); /* port unreachable from h1 */
			CHECK_EQ(buf[hl + 1], 3);
			CHECK_EQ(src, link_addr(hops, 2));
		}
		/* The quote carries our probe's UDP port. */
		CHECK_EQ((size_t)n >= hl + 8 + 20 + 4, 1);
		CHECK_EQ(buf[hl + 8 + 20 + 2] << 8 | buf[hl + 8 + 20 + 3], 33434 + ttl);
		CHECK(vsock_recvfrom(raw, buf, sizeof(buf), 0, NULL, NULL) == -EAGAIN);
	}
	vsock_close(us);
	vsock_close(raw);
	chain_free(&c);
}

TEST(udp_60k_datagram_fragmented_over_1500_hop)
{
	struct chain c;
	struct vsocket *tx, *rx;
	struct sockaddr_in dst;
	enum { LEN = 60 * 1024 };
	uint8_t *out = malloc(LEN), *in = malloc(LEN + 16);
	uint64_t frags = 0, reasm = 0;

	REQUIRE(out && in);
	/* h0 -(65535)- r1 -(1500)- r2 -(65535)- h1: r1 fragments. */
	chain_build(&c, 2, 1, 65535);
	for (size_t i = 0; i < LEN; i++)
		out[i] = (uint8_t)(i * 131 + (i >> 8));
	REQUIRE(vsock_socket(c.node[0], AF_INET, SOCK_DGRAM, 0, &tx) == 0);
	REQUIRE(vsock_socket(c.node[3], AF_INET, SOCK_DGRAM, 0, &rx) == 0);
	dst = sin4(0, 9999);
	REQUIRE(vsock_bind(rx, (struct sockaddr *)&dst, sizeof(dst)) == 0);
	dst = sin4(link_addr(2, 2), 9999);
	CHECK_EQ(vsock_sendto(tx, out, LEN, 0, (struct sockaddr *)&dst, sizeof(dst)), LEN);
	run_for(c.w, NSEC_PER_SEC);

	CHECK_EQ(vsock_recvfrom(rx, in, LEN + 16, 0, NULL, NULL), LEN);
	CHECK_MEM(in, out, LEN);
	CHECK_EQ(vimage_stat_get(c.node[1], "ip.ofragments", &frags), 0);
	CHECK(frags >= 41); /* 60 KiB in 1480-byte pieces */
	CHECK_EQ(vimage_stat_get(c.node[3], "ip.reassembled", &reasm), 0);
	CHECK_EQ(reasm, 1);
	/* With DF the router refuses and says so; the sender learns EMSGSIZE. */
	vsock_close(tx);
	vsock_close(rx);
	free(out);
	free(in);
	chain_free(&c);
}

TEST(udp_bound_to_device_still_uses_the_gateway)
{
	struct chain c;
	struct vsocket *tx, *rx;
	struct sockaddr_in any = sin4(0, 4000), to = sin4(link_addr(3, 2), 4000);
	char buf[16];

	chain_build(&c, 3, 0, 1500);
	REQUIRE(vsock_socket(c.node[0], AF_INET, SOCK_DGRAM, 0, &tx) == 0);
	REQUIRE(vsock_socket(c.node[4], AF_INET, SOCK_DGRAM, 0, &rx) == 0);
	REQUIRE(vsock_bind(rx, (struct sockaddr *)&any, sizeof(any)) == 0);
	REQUIRE(vsock_setsockopt(tx, SOL_SOCKET, SO_BINDTODEVICE, "east", 5) == 0);
	CHECK_EQ(vsock_sendto(tx, "via gw", 6, 0, (struct sockaddr *)&to, sizeof(to)), 6);
	run_for(c.w, NSEC_PER_SEC);
	CHECK_EQ(vsock_recvfrom(rx, buf, sizeof(buf), 0, NULL, NULL), 6);
	CHECK_MEM(buf, "via gw", 6);
	vsock_close(tx);
	vsock_close(rx);
	chain_free(&c);
}

TEST(arp_entry_expires_and_is_resolved_again)
{
	struct chain c;
	struct vsocket *ps;
	uint64_t req0 = 0, req1 = 0, req2 = 0;

	chain_build(&c, 0, 0, 1500);
	REQUIRE(vimage_sysctl_set(c.node[0], "net.link.ether.inet.max_age", 60) == 0);
	REQUIRE(vsock_socket(c.node[0], AF_INET, SOCK_DGRAM, IPPROTO_ICMP, &ps) == 0);
	CHECK_EQ(ping_once(c.w, ps, link_addr(0, 2), 1, 8), link_addr(0, 2));
	vimage_stat_get(c.node[0], "arp.tx_requests", &req0);
	CHECK_EQ(ping_once(c.w, ps, link_addr(0, 2), 2, 8), link_addr(0, 2));
	vimage_stat_get(c.node[0], "arp.tx_requests", &req1);
	CHECK_EQ(req1, req0); /* cached */
	run_for(c.w, 61 * NSEC_PER_SEC);
	CHECK_EQ(ping_once(c.w, ps, link_addr(0, 2), 3, 8), link_addr(0, 2));
	vimage_stat_get(c.node[0], "arp.tx_requests", &req2);
	CHECK_EQ(req2, req1 + 1); /* expired, asked again */
	vsock_close(ps);
	chain_free(&c);
}

TEST(arp_unresolved_gives_up_and_frees_held_packets)
{
	struct chain c;
	struct vsocket *us;
	struct sockaddr_in to = sin4(link_addr(0, 77), 9); /* nobody */
	uint64_t timeouts = 0, req = 0, grat = 0, dropped = 0;
	struct world_counts wc;

	chain_build(&c, 0, 0, 1500);
	REQUIRE(vsock_socket(c.node[0], AF_INET, SOCK_DGRAM, 0, &us) == 0);
	for (int i = 0; i < 40; i++)
		vsock_sendto(us, "x", 1, 0, (struct sockaddr *)&to, sizeof(to));
	run_for(c.w, 10 * NSEC_PER_SEC);
	vimage_stat_get(c.node[0], "arp.timeouts", &timeouts);
	vimage_stat_get(c.node[0], "arp.tx_requests", &req);
	vimage_stat_get(c.node[0], "arp.gratuitous_sent", &grat);
	vimage_stat_get(c.node[0], "arp.dropped_unresolved", &dropped);
	CHECK_EQ(timeouts, 1);
	CHECK_EQ(req - grat, 5); /* maxtries requests, then give up */
	CHECK_EQ(dropped, 40);
	world_counts(c.w, &wc);
	CHECK_EQ(wc.pkts, 0);
	vsock_close(us);
	chain_free(&c);
}

TEST(interface_moved_between_vimages_keeps_working)
{
	struct chain c;
	struct vsocket *ps;
	struct vimage *child;
	struct ifnet *e;
	struct vaddr a = vaddr_v4(link_addr(0, 1));

	chain_build(&c, 0, 0, 1500);
	REQUIRE(vimage_create(c.w, "h0.inner", &child) == 0);
	e = c.east[0];
	REQUIRE(vif_move(e, child, "eth0") == 0);
	REQUIRE(vif_addr_add(e, &a, 24) == 0);
	vif_set_up(e, true);
	REQUIRE(vsock_socket(child, AF_INET, SOCK_DGRAM, IPPROTO_ICMP, &ps) == 0);
	CHECK_EQ(ping_once(c.w, ps, link_addr(0, 2), 1, 56), link_addr(0, 2));
	vsock_close(ps);
	/* Destroying the child hands eth0 back to h0 as "east". */
	CHECK_EQ(vimage_destroy(child), 0);
	CHECK(vif_lookup(c.node[0], "east") == e);
	REQUIRE(vif_addr_add(e, &a, 24) == 0);
	vif_set_up(e, true);
	REQUIRE(vsock_socket(c.node[0], AF_INET, SOCK_DGRAM, IPPROTO_ICMP, &ps) == 0);
	CHECK_EQ(ping_once(c.w, ps, link_addr(0, 2), 2, 56), link_addr(0, 2));
	vsock_close(ps);
	chain_free(&c);
}

TEST(destroy_router_mid_traffic_leaks_nothing)
{
	struct chain c;
	struct vsocket *tx;
	struct sockaddr_in to;

	chain_build(&c, 4, 0, 1500);
	REQUIRE(vsock_socket(c.node[0], AF_INET, SOCK_DGRAM, 0, &tx) == 0);
	to = sin4(link_addr(4, 2), 7777);
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < 200; i++)
			vsock_sendto(tx, "payload", 7, 0, (struct sockaddr *)&to, sizeof(to));
		world_run(c.w); /* some in flight, some queued */
		if (round == 1) {
			CHECK_EQ(vimage_destroy(c.node[2]), 0);
			c.node[2] = NULL;
		}
		run_for(c.w, 3 * NSEC_PER_SEC);
	}
	vsock_close(tx);
	for (int i = 0; i < 6; i++)
		if (c.node[i])
			CHECK_EQ(vimage_destroy(c.node[i]), 0);
	struct world_counts wc;
	world_counts(c.w, &wc);
	CHECK_EQ(wc.vimages, 1);
	CHECK_EQ(wc.pkts, 0);
	CHECK_EQ(wc.pbufs, 0);
	CHECK_EQ(wc.timers, 0);
	CHECK_EQ(wc.neighbours, 0);
	world_destroy(c.w);
}

TEST(create_destroy_10000_cycles_with_traffic)
{
	struct world_config cfg = {.seed = 5};
	struct world *w;
	struct vimage *hub;
	struct world_counts wc0, wc1;

	REQUIRE(world_create(&cfg, &w) == 0);
	REQUIRE(vimage_create(w, "hub", &hub) == 0);
	world_counts(w, &wc0);
	for (int i = 0; i < 10000; i++) {
		struct vimage *v, *child;
		struct ifnet *a, *b;
		struct vsocket *s;
		char name[32];
		struct vaddr va = VADDR4(10, 9, 0, 1), vb = VADDR4(10, 9, 0, 2);
		struct sockaddr_in to = sin4((10u << 24) | (9u << 16) | 2, 9);

		snprintf(name, sizeof(name), "c%d", i);
		REQUIRE(vimage_create(w, name, &v) == 0);
		snprintf(name, sizeof(name), "c%d.kid", i);
		REQUIRE(vimage_create(w, name, &child) == 0);
		REQUIRE(vif_ve_create(v, "eth0", hub, NULL, &a, &b) == 0);
		REQUIRE(vif_addr_add(a, &va, 24) == 0);
		REQUIRE(vif_addr_add(b, &vb, 24) == 0);
		vif_set_up(a, true);
		vif_set_up(b, true);
		REQUIRE(vsock_socket(v, AF_INET, SOCK_DGRAM, 0, &s) == 0);
		vsock_sendto(s, "hello", 5, 0, (struct sockaddr *)&to, sizeof(to));
		world_run_until(w, world_now(w) + (i % 3) * NSEC_PER_MSEC);
		if (i % 2)
			vsock_close(s); /* else the destroy must close it */
		REQUIRE(vimage_destroy(v) == 0); /* takes its child and the pair */
	}
	world_run_until(w, world_now(w) + 30 * NSEC_PER_SEC);
	/* The traffic was real: every datagram reached the hub, which has no
	 * socket on port 9 and said so. */
	uint64_t no_ports = 0;
	CHECK_EQ(vimage_stat_get(hub, "udp.no_ports", &no_ports), 0);
	CHECK_EQ(no_ports, 10000);
	world_counts(w, &wc1);
	CHECK_EQ(wc1.vimages, wc0.vimages);
	CHECK_EQ(wc1.ifnets, wc0.ifnets);
	CHECK_EQ(wc1.sockets, 0);
	CHECK_EQ(wc1.pkts, 0);
	CHECK_EQ(wc1.pbufs, 0);
	CHECK_EQ(wc1.timers, wc0.timers);
	CHECK_EQ(wc1.routes, wc0.routes);
	CHECK_EQ(wc1.neighbours, 0);
	world_destroy(w);
}
