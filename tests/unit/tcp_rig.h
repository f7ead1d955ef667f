/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The TCP unit-test rig: the test plays the peer. Our vimage (192.0.2.1)
 * sits on an external interface whose far side is the test, which crafts
 * every segment (from 192.0.2.9) and reads every segment we send, with its
 * checksum verified as a frame leaving the world. Shared by
 * test_tcp_fsm.c and test_tcp_review.c; the helpers are static so that
 * each file gets its own copy without link clashes.
 */
#ifndef TCP_RIG_H
#define TCP_RIG_H

#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>

#include "core/kern.h"
#include "harness/test.h"
#include "vimage/net.h"
#include "vimage/socket.h"
#include "wire/wire.h"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"

#define US 0xc0000201u
#define PEER 0xc0000209u
#define MS NSEC_PER_MSEC
#define SEC NSEC_PER_SEC
#define SA(s) ((struct sockaddr *)&(s))

struct frame {
	uint8_t b[2048];
	size_t n;
};

struct rig {
	struct world *w;
	struct vimage *vi;
	struct ifnet *ext;
	uint8_t mac[6];
	struct frame q[64];
	unsigned head, tail;
	uint32_t peer_ts;
};

static void tx(void *ctx, struct ifnet *ifp, const uint8_t *f, size_t n)
{
	struct rig *r = ctx;
	struct frame *fr;

	if (r->tail - r->head >= ARRAY_SIZE(r->q))
		return; /* the test reads segments as they come */
	fr = &r->q[r->tail++ % ARRAY_SIZE(r->q)];
	fr->n = n < sizeof(fr->b) ? n : sizeof(fr->b);
	memcpy(fr->b, f, fr->n);
}

static const struct vif_ext_ops ops = {.transmit = tx};

static void rig_up(struct rig *r)
{
	struct world_config cfg = {.seed = 5, .start_ns = 1000 * SEC};
	struct vaddr a = VADDR4(192, 0, 2, 1), p = VADDR4(192, 0, 2, 9);
	uint8_t pmac[6] = {2, 0, 0, 0, 0, 9};

	memset(r, 0, sizeof(*r));
	REQUIRE(world_create(&cfg, &r->w) == 0);
	REQUIRE(vimage_create(r->w, "v", &r->vi) == 0);
	REQUIRE(vif_ext_create(r->vi, "eth0", &ops, r, &r->ext) == 0);
	REQUIRE(vif_addr_add(r->ext, &a, 24) == 0);
	REQUIRE(vneigh_add_permanent(r->ext, &p, pmac) == 0);
	vif_set_up(r->ext, true);
	vif_mac(r->ext, r->mac);
	world_run(r->w);
	r->head = r->tail = 0;
	r->peer_ts = 5000;
}

static void rig_down(struct rig *r)
{
	struct world_counts c;

	CHECK_EQ(vimage_destroy(r->vi), 0);
	world_counts(r->w, &c);
	CHECK_EQ(c.pkts, 0);
	CHECK_EQ(c.pbufs, 0);
	CHECK_EQ(c.timers, 0);
	CHECK_EQ(c.sockets, 0);
	CHECK_EQ(c.tcp_conns, 0);
	world_destroy(r->w);
}

static uint64_t stat(struct rig *r, const char *name)
{
	uint64_t v = 0;

	REQUIRE(vimage_stat_get(r->vi, name, &v) == 0);
	return v;
}

static void advance(struct rig *r, uint64_t ns)
{
	world_run_until(r->w, world_now(r->w) + ns);
}

/* The peer sends a segment (checksummed) and the world runs. */
static void peer_send(struct rig *r, struct tcp_repr *t, const void *data,
		      size_t len)
{
	uint8_t f[2048];
	struct eth_repr eh = {.ethertype = ETHERTYPE_IPV4,
			      .src = {2, 0, 0, 0, 0, 9}};
	struct ipv4_repr ip = {.hlen = 20, .ttl = 64, .proto = IPPROTO_TCP_,
			       .src = PEER, .dst = US};
	size_t hl;

	memcpy(eh.dst, r->mac, 6);
	hl = TCP_HLEN + tcp_opts_len(t);
	REQUIRE(14 + 20 + hl + len <= sizeof(f));
	if (len)
		memcpy(f + 14 + 20 + hl, data, len);
	tcp4_emit(t, f + 34, len, PEER, US, true);
	ip.total_len = (uint16_t)(20 + hl + len);
	eth_emit(&eh, f);
	ipv4_emit(&ip, f + 14);
	REQUIRE(vif_ext_input(r->ext, f, 34 + hl + len) == 0);
	world_run(r->w);
}

/* A segment from the peer's port 4000 to our port 80 (or given). */
static void seg(struct rig *r, uint16_t dport, uint8_t flags, uint32_t seq,
		uint32_t ack, const void *data, size_t len)
{
	struct tcp_repr t = {.sport = 4000, .dport = dport, .seq = seq,
			     .ack = ack, .flags = flags, .win = 65535};

	peer_send(r, &t, data, len);
}

/* The next segment we sent; false when none. */
static bool got(struct rig *r, struct tcp_repr *t, uint8_t *payload)
{
	while (r->head != r->tail) {
		struct frame *fr = &r->q[r->head++ % ARRAY_SIZE(r->q)];
		struct ipv4_repr ip;

		if (fr->n < 34 || rd16(fr->b + 12) != ETHERTYPE_IPV4)
			continue;
		if (ipv4_parse(fr->b + 14, fr->n - 14, &ip, true) ||
		    ip.proto != IPPROTO_TCP_)
			continue;
		/* Frames leaving the world carry real checksums. */
		REQUIRE(tcp4_parse(fr->b + 14 + ip.hlen,
				   ip.total_len - ip.hlen, t, ip.src, ip.dst,
				   true) == 0);
		if (payload && t->payload_len)
			memcpy(payload, t->payload, t->payload_len);
		return true;
	}
	return false;
}

static void drain(struct rig *r)
{
	r->head = r->tail;
}

static struct vsocket *listener(struct rig *r, uint16_t port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET,
				  .sin_port = htons(port)};
	struct vsocket *so;

	REQUIRE(vsock_socket(r->vi, AF_INET, SOCK_STREAM, 0, &so) == 0);
	REQUIRE(vsock_bind(so, SA(sin), sizeof(sin)) == 0);
	REQUIRE(vsock_listen(so, 4) == 0);
	return so;
}

/* Passive open up to ESTABLISHED: returns the accepted socket; *iss our
 * ISS. The peer's ISS is 1000. No options (so no timestamps). */
static struct vsocket *passive_open(struct rig *r, struct vsocket *lsn,
				    uint32_t *iss)
{
	struct tcp_repr t;
	struct vsocket *so = NULL;

	seg(r, 80, TCPF_SYN, 1000, 0, NULL, 0);
	REQUIRE(got(r, &t, NULL));
	REQUIRE(t.flags == (TCPF_SYN | TCPF_ACK));
	*iss = t.seq;
	seg(r, 80, TCPF_ACK, 1001, t.seq + 1, NULL, 0);
	REQUIRE(vsock_accept(lsn, &so, NULL, NULL) == 0);
	drain(r);
	return so;
}

/* Active open: our SYN answered by the peer's SYN-ACK (ISS 7000). */
static struct vsocket *active_open(struct rig *r, uint32_t *iss)
{
	struct sockaddr_in sin = {.sin_family = AF_INET,
				  .sin_port = htons(4000),
				  .sin_addr.s_addr = htonl(PEER)};
	struct vsocket *so;
	struct tcp_repr t, sa = {0};

	REQUIRE(vsock_socket(r->vi, AF_INET, SOCK_STREAM, 0, &so) == 0);
	REQUIRE(vsock_connect(so, SA(sin), sizeof(sin)) == -EINPROGRESS);
	world_run(r->w);
	REQUIRE(got(r, &t, NULL));
	REQUIRE(t.flags == TCPF_SYN);
	*iss = t.seq;
	sa.sport = 4000;
	sa.dport = t.sport;
	sa.seq = 7000;
	sa.ack = t.seq + 1;
	sa.flags = TCPF_SYN | TCPF_ACK;
	sa.win = 65535;
	peer_send(r, &sa, NULL, 0);
	REQUIRE(got(r, &t, NULL));
	REQUIRE(t.flags == TCPF_ACK);
	REQUIRE(t.ack == 7001);
	return so;
}

static int so_err(struct vsocket *so)
{
	int e = 0;
	socklen_t l = sizeof(e);

	vsock_getsockopt(so, SOL_SOCKET, SO_ERROR, &e, &l);
	return e;
}

static uint16_t local_port(struct vsocket *so)
{
	struct sockaddr_in sin;
	socklen_t l = sizeof(sin);

	vsock_getsockname(so, SA(sin), &l);
	return ntohs(sin.sin_port);
}

#pragma GCC diagnostic pop

#endif
