/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The learning bridge (src/net/bridge.c) seen from its ports.
 *
 * Layer-2 tests put a bridge in a vimage "hub" with external interfaces as
 * ports: a frame handed in with vif_ext_input is what a station behind that
 * port sent, and each port's transmit callback records what the bridge sent
 * out of it. Layer-3 tests put hosts h1, h2, h3 behind ve pairs into the
 * hub and talk through br0 (10.0.0.254/24) with ping, UDP and TCP.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "core/kern.h"
#include "harness/test.h"
#include "simnet.h"
#include "tcpx.h"

#define SEC	       (NSEC_PER_SEC)
#define NPORTS	       4
#define ETHERTYPE_TEST 0x88b5 /* IEEE local experimental */

struct sink {
	unsigned frames;
	uint8_t last[2048];
	size_t last_len;
};

static void sink_transmit(void *ctx, struct ifnet *ifp, const uint8_t *frame,
			  size_t len)
{
	struct sink *s = ctx;

	(void)ifp;
	s->frames++;
	s->last_len = len < sizeof(s->last) ? len : sizeof(s->last);
	memcpy(s->last, frame, s->last_len);
}

static const struct vif_ext_ops sink_ops = {.transmit = sink_transmit};

struct l2 {
	struct simnet *sn;
	struct vimage *hub;
	struct ifnet *br;
	struct ifnet *port[NPORTS];
	struct sink sink[NPORTS];
};

/* Station n's address: 02:00:00:00:00:n (n > 0). */
static void station(uint8_t mac[6], unsigned n)
{
	static const uint8_t base[6] = {0x02, 0, 0, 0, 0, 0};

	memcpy(mac, base, 6);
	mac[4] = (uint8_t)(n >> 8);
	mac[5] = (uint8_t)n;
}

static void l2_open(struct l2 *t)
{
	char name[16];

	memset(t, 0, sizeof(*t));
	t->sn = simnet_new(7);
	REQUIRE(t->sn);
	t->hub = simnet_node(t->sn, "hub");
	REQUIRE(t->hub);
	REQUIRE_EQ(vif_bridge_create(t->hub, NULL, &t->br), 0);
	CHECK(strcmp(vif_name(t->br), "br0") == 0);
	CHECK_EQ(vif_type(t->br), VIF_BRIDGE);
	for (int i = 0; i < NPORTS; i++) {
		snprintf(name, sizeof(name), "p%d", i);
		REQUIRE_EQ(vif_ext_create(t->hub, name, &sink_ops, &t->sink[i],
					  &t->port[i]),
			   0);
		REQUIRE_EQ(vif_bridge_add_port(t->br, t->port[i]), 0);
		REQUIRE_EQ(vif_set_up(t->port[i], true), 0);
	}
	REQUIRE_EQ(vif_set_up(t->br, true), 0);
	world_run(t->sn->w);
	memset(t->sink, 0, sizeof(t->sink));
}

static void l2_close(struct l2 *t)
{
	CHECK_EQ(simnet_free(t->sn), 0);
}

/* Station src behind port `in` sends a frame to dst. */
static void l2_send(struct l2 *t, int in, const uint8_t dst[6],
		    const uint8_t src[6])
{
	uint8_t f[60] = {0};

	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	f[12] = ETHERTYPE_TEST >> 8;
	f[13] = ETHERTYPE_TEST & 0xff;
	REQUIRE_EQ(vif_ext_input(t->port[in], f, sizeof(f)), 0);
	world_run(t->sn->w);
}

static void l2_send_st(struct l2 *t, int in, unsigned dst, unsigned src)
{
	uint8_t d[6], s[6];

	station(d, dst);
	station(s, src);
	l2_send(t, in, d, s);
}

/* Frames received by each port's sink since the last call, as a bitmask
 * of ports that got exactly one (-1 if any got more). */
static int l2_out(struct l2 *t)
{
	int mask = 0;

	for (int i = 0; i < NPORTS; i++) {
		if (t->sink[i].frames > 1)
			mask = -1;
		else if (t->sink[i].frames == 1 && mask >= 0)
			mask |= 1 << i;
		t->sink[i].frames = 0;
	}
	return mask;
}

static struct vif_bridge_stats br_stats(struct ifnet *br)
{
	struct vif_bridge_stats st;

	REQUIRE_EQ(vif_bridge_stats(br, &st), 0);
	return st;
}

struct fdb_find {
	uint8_t mac[6];
	int found;
	unsigned port;
	uint64_t age;
	unsigned n, local;
};

static int fdb_find_fn(void *ctx, const struct vif_bridge_fdb_entry *e)
{
	struct fdb_find *f = ctx;

	f->n++;
	if (e->is_local)
		f->local++;
	if (memcmp(e->mac, f->mac, 6) == 0) {
		f->found++;
		f->port = e->port;
		f->age = e->age_ns;
	}
	return 0;
}

static struct fdb_find fdb_lookup(struct ifnet *br, unsigned st)
{
	struct fdb_find f = {0};

	station(f.mac, st);
	REQUIRE_EQ(vif_bridge_fdb_walk(br, fdb_find_fn, &f), 0);
	return f;
}

/* ---- layer 2 ------------------------------------------------------------ */

TEST(bridge_learns_and_forwards_known_unicast_to_one_port)
{
	struct l2 t;
	struct fdb_find f;

	l2_open(&t);
	l2_send_st(&t, 0, 2, 1); /* A (1) on p0 to B (2): unknown, flooded */
	CHECK_EQ(l2_out(&t), 0xe);
	l2_send_st(&t, 1, 1, 2); /* B answers: A is known on p0 */
	CHECK_EQ(l2_out(&t), 0x1);
	l2_send_st(&t, 2, 1, 3); /* C on p2 to A: only p0 */
	CHECK_EQ(l2_out(&t), 0x1);
	l2_send_st(&t, 0, 3, 1); /* A to C: only p2 */
	CHECK_EQ(l2_out(&t), 0x4);
	CHECK_EQ(t.sink[2].last_len, 60);
	f = fdb_lookup(t.br, 1);
	CHECK_EQ(f.found, 1);
	CHECK_EQ(f.port, vif_index(t.port[0]));
	CHECK_EQ(f.n, 4); /* the bridge's own address and A, B, C */
	CHECK_EQ(f.local, 1);
	CHECK_EQ(fdb_lookup(t.br, 3).port, vif_index(t.port[2]));
	{
		struct vif_bridge_stats st = br_stats(t.br);
		struct vif_bridge_port_stats ps;

		CHECK_EQ(st.learned, 3);
		CHECK_EQ(st.flooded, 1);
		CHECK_EQ(st.forwarded, 3);
		CHECK_EQ(st.fdb_entries, 3);
		REQUIRE_EQ(vif_bridge_port_stats(t.port[0], &ps), 0);
		CHECK_EQ(ps.rx, 2);
		CHECK_EQ(ps.tx, 2);
		CHECK_EQ(ps.flooded, 0);
		REQUIRE_EQ(vif_bridge_port_stats(t.port[3], &ps), 0);
		CHECK_EQ(ps.tx, 1);
		CHECK_EQ(ps.flooded, 1);
	}
	/* A station that moves is learned on its new port. */
	l2_send_st(&t, 3, 2, 1);
	CHECK_EQ(l2_out(&t), 0x2);
	CHECK_EQ(fdb_lookup(t.br, 1).port, vif_index(t.port[3]));
	CHECK_EQ(br_stats(t.br).moved, 1);
	l2_close(&t);
}

TEST(bridge_entry_ages_out_and_is_flooded_again)
{
	struct l2 t;
	uint64_t aging;

	l2_open(&t);
	REQUIRE_EQ(vif_bridge_get_aging(t.br, &aging), 0);
	CHECK_EQ(aging, 300 * SEC);
	l2_send_st(&t, 0, 2, 1);
	l2_out(&t);
	simnet_run(t.sn, 299 * SEC);
	CHECK_EQ(fdb_lookup(t.br, 1).age, 299 * SEC);
	l2_send_st(&t, 2, 1, 3); /* still known */
	CHECK_EQ(l2_out(&t), 0x1);
	simnet_run(t.sn, 1 * SEC);
	CHECK_EQ(fdb_lookup(t.br, 1).found, 0);
	l2_send_st(&t, 2, 1, 3); /* expired: flooded */
	CHECK_EQ(l2_out(&t), 0xb);
	/* The collector frees expired entries (C, learned at 299 s, stays). */
	simnet_run(t.sn, 60 * SEC);
	CHECK_EQ(br_stats(t.br).fdb_entries, 1);
	simnet_run(t.sn, 600 * SEC);
	CHECK_EQ(br_stats(t.br).fdb_entries, 0);
	/* A shorter aging time, refreshed by traffic. */
	REQUIRE_EQ(vif_bridge_set_aging(t.br, 10 * SEC), 0);
	l2_send_st(&t, 0, 2, 1);
	for (int i = 0; i < 5; i++) {
		simnet_run(t.sn, 5 * SEC);
		l2_send_st(&t, 0, 2, 1); /* A keeps talking */
	}
	l2_out(&t);
	l2_send_st(&t, 1, 1, 2);
	CHECK_EQ(l2_out(&t), 0x1);
	simnet_run(t.sn, 10 * SEC);
	l2_send_st(&t, 1, 1, 2);
	CHECK_EQ(l2_out(&t), 0xd);
	l2_close(&t);
}

TEST(bridge_floods_broadcast_and_multicast_to_every_other_port)
{
	static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	static const uint8_t mcast[6] = {0x01, 0x00, 0x5e, 0x00, 0x00, 0x01};
	struct l2 t;
	uint8_t a[6], b[6];

	l2_open(&t);
	station(a, 1);
	station(b, 2);
	l2_send(&t, 1, b, a); /* A learned on p1 */
	l2_out(&t);
	l2_send(&t, 1, bcast, a);
	CHECK_EQ(l2_out(&t), 0xd);
	l2_send(&t, 2, mcast, b);
	CHECK_EQ(l2_out(&t), 0xb);
	CHECK(memcmp(t.sink[0].last, mcast, 6) == 0);
	/* Both went up the bridge's own stack too. */
	CHECK_EQ(br_stats(t.br).local, 2);
	/* A multicast source is no station: dropped, counted. */
	l2_send(&t, 0, b, mcast);
	CHECK_EQ(l2_out(&t), 0);
	CHECK_EQ(br_stats(t.br).bad_src, 1);
	l2_close(&t);
}

TEST(bridge_never_sends_a_frame_back_to_its_ingress_port)
{
	struct l2 t;

	l2_open(&t);
	l2_send_st(&t, 0, 9, 1); /* A and B both behind p0 */
	l2_send_st(&t, 0, 9, 2);
	l2_out(&t);
	l2_send_st(&t, 0, 2, 1);
	CHECK_EQ(l2_out(&t), 0);
	CHECK_EQ(br_stats(t.br).filtered, 1);
	/* Floods skip the ingress port as well. */
	l2_send_st(&t, 3, 77, 3);
	CHECK_EQ(l2_out(&t), 0x7);
	l2_close(&t);
}

TEST(bridge_port_removed_or_down_neither_receives_nor_sends)
{
	struct l2 t;
	struct vif_stats vs;
	struct fdb_find f;

	l2_open(&t);
	l2_send_st(&t, 2, 9, 3); /* C learned on p2 */
	l2_out(&t);
	REQUIRE_EQ(vif_set_up(t.port[2], false), 0);
	l2_send_st(&t, 0, 3, 1); /* C's port is down: flooded to the up ones */
	CHECK_EQ(l2_out(&t), 0xa);
	l2_send_st(&t, 2, 1, 3); /* a down port takes nothing in */
	CHECK_EQ(l2_out(&t), 0);
	vif_get_stats(t.port[2], &vs);
	CHECK_EQ(vs.idrops, 1);
	REQUIRE_EQ(vif_set_up(t.port[2], true), 0);
	l2_send_st(&t, 0, 3, 1); /* up again: C's entry is good */
	CHECK_EQ(l2_out(&t), 0x4);

	/* Removal: the port's entries go, floods skip it. */
	REQUIRE_EQ(vif_bridge_del_port(t.br, t.port[2]), 0);
	CHECK(vif_bridge_port_of(t.port[2]) == NULL);
	f = fdb_lookup(t.br, 3);
	CHECK_EQ(f.found, 0);
	l2_send_st(&t, 0, 3, 1);
	CHECK_EQ(l2_out(&t), 0xa);
	/* Frames on a released port go to its own stack, not the bridge. */
	l2_send_st(&t, 2, 1, 3);
	CHECK_EQ(l2_out(&t), 0);
	CHECK_EQ(fdb_lookup(t.br, 3).found, 0);
	CHECK_EQ(vif_bridge_del_port(t.br, t.port[2]), -ENOENT);
	/* A flush by port and for all. */
	l2_send_st(&t, 1, 1, 2);
	l2_out(&t);
	CHECK_EQ(br_stats(t.br).fdb_entries, 2);
	CHECK_EQ(vif_bridge_fdb_flush(t.br, t.port[1]), 0);
	CHECK_EQ(br_stats(t.br).fdb_entries, 1);
	CHECK_EQ(vif_bridge_fdb_flush(t.br, NULL), 0);
	CHECK_EQ(br_stats(t.br).fdb_entries, 0);
	/* A bridge that is down forwards nothing. */
	REQUIRE_EQ(vif_set_up(t.br, false), 0);
	l2_send_st(&t, 0, 2, 1);
	CHECK_EQ(l2_out(&t), 0);
	CHECK_EQ(br_stats(t.br).down_drops, 1);
	l2_close(&t);
}

TEST(bridge_fdb_full_stops_learning_and_floods)
{
	struct l2 t;
	struct vif_bridge_stats st;

	l2_open(&t);
	REQUIRE_EQ(vif_bridge_set_fdb_max(t.br, 4), 0);
	for (unsigned s = 1; s <= 10; s++)
		l2_send_st(&t, (int)(s % 2), 100, s);
	l2_out(&t);
	st = br_stats(t.br);
	CHECK_EQ(st.fdb_entries, 4);
	CHECK_EQ(st.learned, 4);
	CHECK_EQ(st.fdb_full, 6);
	l2_send_st(&t, 2, 10, 100); /* 10 was not learned: flooded */
	CHECK_EQ(l2_out(&t), 0xb);
	l2_send_st(&t, 2, 1, 100); /* 1 was: one port */
	CHECK_EQ(l2_out(&t), 0x2);
	/* The default bound: 8192 stations, then no more. */
	REQUIRE_EQ(vif_bridge_set_fdb_max(t.br, VIF_BRIDGE_FDB_DEFAULT), 0);
	REQUIRE_EQ(vif_bridge_fdb_flush(t.br, NULL), 0);
	for (unsigned s = 1; s <= 9000; s++)
		l2_send_st(&t, 3, 0xffff, s);
	st = br_stats(t.br);
	CHECK_EQ(st.fdb_entries, 8192);
	/* 100 itself was refused twice above. */
	CHECK_EQ(st.fdb_full, 8 + 9000 - 8192);
	l2_close(&t);
}

static int count_port(void *ctx, struct ifnet *port)
{
	(void)port;
	++*(int *)ctx;
	return 0;
}

TEST(bridge_bad_arguments_are_refused)
{
	struct l2 t;
	struct ifnet *br2, *lo, *c0, *c1;
	struct vimage *child;
	struct vif_bridge_port_stats ps;
	uint64_t ns;
	int n = 0;

	l2_open(&t);
	lo = vif_lookup(t.hub, "lo0");
	REQUIRE(lo);
	REQUIRE_EQ(vif_bridge_create(t.hub, "br0", &br2), -EEXIST);
	REQUIRE_EQ(vif_bridge_create(t.hub, "a/b", &br2), -EINVAL);
	REQUIRE_EQ(vif_bridge_create(t.hub, "lan", &br2), 0);
	CHECK_EQ(vif_bridge_add_port(t.br, lo), -EINVAL);
	CHECK_EQ(vif_bridge_add_port(t.br, br2), -EINVAL);
	CHECK_EQ(vif_bridge_add_port(t.br, t.br), -EINVAL);
	CHECK_EQ(vif_bridge_add_port(t.port[0], t.port[1]), -EINVAL);
	CHECK_EQ(vif_bridge_add_port(t.br, t.port[0]), -EBUSY);
	CHECK_EQ(vif_bridge_add_port(br2, t.port[0]), -EBUSY);
	child = simnet_node(t.sn, "hub.c");
	REQUIRE(child);
	REQUIRE_EQ(vif_ve_create(child, "c0", child, "c1", &c0, &c1), 0);
	CHECK_EQ(vif_bridge_add_port(t.br, c0), -EXDEV);
	CHECK_EQ(vif_bridge_del_port(t.br, c0), -ENOENT);
	CHECK_EQ(vif_bridge_del_port(t.port[0], t.port[1]), -EINVAL);
	CHECK_EQ(vif_bridge_del_port(br2, t.port[0]), -ENOENT);
	CHECK_EQ(vif_bridge_set_aging(t.br, 0), -EINVAL);
	CHECK_EQ(vif_bridge_set_aging(t.br, VIF_BRIDGE_AGING_MAX + 1), -EINVAL);
	CHECK_EQ(vif_bridge_set_aging(t.port[0], SEC), -EINVAL);
	CHECK_EQ(vif_bridge_get_aging(t.port[0], &ns), -EINVAL);
	CHECK_EQ(vif_bridge_set_fdb_max(t.br, 0), -EINVAL);
	CHECK_EQ(vif_bridge_set_fdb_max(t.br, VIF_BRIDGE_FDB_MAX + 1), -EINVAL);
	CHECK_EQ(vif_bridge_fdb_walk(t.port[0], fdb_find_fn, NULL), -EINVAL);
	CHECK_EQ(vif_bridge_fdb_flush(t.port[0], NULL), -EINVAL);
	CHECK_EQ(vif_bridge_fdb_flush(br2, t.port[0]), -ENOENT);
	CHECK_EQ(vif_bridge_port_stats(lo, &ps), -EINVAL);
	CHECK(vif_bridge_port_of(t.port[0]) == t.br);
	CHECK(vif_bridge_port_of(lo) == NULL);
	CHECK_EQ(vif_bridge_port_walk(t.br, count_port, &n), 0);
	CHECK_EQ(n, NPORTS);
	CHECK_EQ(vif_bridge_port_walk(br2, count_port, &n), 0);
	CHECK_EQ(n, NPORTS);
	l2_close(&t);
}

TEST(bridge_port_destroyed_or_moved_leaves_and_bridge_releases_ports)
{
	struct l2 t;
	struct vimage *child;
	int n = 0;

	l2_open(&t);
	l2_send_st(&t, 3, 9, 3);
	l2_out(&t);
	REQUIRE_EQ(vif_destroy(t.port[3]), 0);
	CHECK_EQ(br_stats(t.br).fdb_entries, 0);
	child = simnet_node(t.sn, "hub.c");
	REQUIRE(child);
	REQUIRE_EQ(vif_move(t.port[2], child, NULL), 0);
	CHECK(vif_bridge_port_of(t.port[2]) == NULL);
	CHECK_EQ(vif_bridge_port_walk(t.br, count_port, &n), 0);
	CHECK_EQ(n, 2);
	l2_send_st(&t, 0, 9, 1);
	CHECK_EQ(l2_out(&t), 0x2);
	/* Destroying the bridge makes its ports ordinary interfaces. */
	REQUIRE_EQ(vif_destroy(t.br), 0);
	CHECK(vif_bridge_port_of(t.port[0]) == NULL);
	CHECK(vif_bridge_port_of(t.port[1]) == NULL);
	l2_send_st(&t, 0, 9, 1);
	CHECK_EQ(l2_out(&t), 0);
	/* A new bridge may take them; the vimage's end frees it all. */
	REQUIRE_EQ(vif_bridge_create(t.hub, NULL, &t.br), 0);
	REQUIRE_EQ(vif_bridge_add_port(t.br, t.port[0]), 0);
	REQUIRE_EQ(vif_bridge_add_port(t.br, t.port[1]), 0);
	REQUIRE_EQ(vif_set_up(t.br, true), 0);
	l2_send_st(&t, 0, 9, 1);
	CHECK_EQ(l2_out(&t), 0x2);
	CHECK_EQ(br_stats(t.br).fdb_entries, 1);
	l2_close(&t); /* timer armed, entries learned: no leak allowed */
}

/* ---- loops -------------------------------------------------------------- */

/* Two bridges joined by two ve pairs, one broadcast: the loop runs dry by
 * the hop limit, the world's queue drains, nothing leaks. */
TEST(bridge_loop_of_two_bridges_terminates)
{
	static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	struct l2 t;
	struct ifnet *b2, *a1, *a2, *z1, *z2;
	struct vif_bridge_stats s1, s2;
	uint8_t a[6];
	size_t steps;

	l2_open(&t);
	REQUIRE_EQ(vif_bridge_create(t.hub, NULL, &b2), 0);
	REQUIRE_EQ(vif_ve_create(t.hub, "a1", t.hub, "z1", &a1, &z1), 0);
	REQUIRE_EQ(vif_ve_create(t.hub, "a2", t.hub, "z2", &a2, &z2), 0);
	REQUIRE_EQ(vif_bridge_add_port(t.br, a1), 0);
	REQUIRE_EQ(vif_bridge_add_port(t.br, a2), 0);
	REQUIRE_EQ(vif_bridge_add_port(b2, z1), 0);
	REQUIRE_EQ(vif_bridge_add_port(b2, z2), 0);
	vif_set_up(a1, true);
	vif_set_up(a2, true);
	vif_set_up(z1, true);
	vif_set_up(z2, true);
	vif_set_up(b2, true);
	world_run(t.sn->w);
	memset(t.sink, 0, sizeof(t.sink));
	station(a, 1);
	{
		uint8_t f[60] = {0};

		memcpy(f, bcast, 6);
		memcpy(f + 6, a, 6);
		f[12] = ETHERTYPE_TEST >> 8;
		f[13] = ETHERTYPE_TEST & 0xff;
		REQUIRE_EQ(vif_ext_input(t.port[0], f, sizeof(f)), 0);
	}
	steps = world_run(t.sn->w);
	CHECK(steps < 1000);
	CHECK_EQ(t.sn->w->runq.count, 0);
	s1 = br_stats(t.br);
	s2 = br_stats(b2);
	if (test_verbose())
		printf("    %zu frames processed, hop drops %llu + %llu\n",
		       steps, (unsigned long long)s1.hop_drops,
		       (unsigned long long)s2.hop_drops);
	/* Each of the two copies dies once it has crossed the limit. */
	CHECK_EQ(s1.hop_drops + s2.hop_drops, 2);
	CHECK(t.sink[1].frames > 1); /* the storm reached the other ports */
	l2_close(&t);
}

/* Three bridges, each joined to the other two by two ve pairs: copies
 * multiply at every turn, and the flood limit bounds the storm. */
TEST(bridge_meshed_loop_storm_is_bounded)
{
	struct l2 t;
	struct ifnet *b[3], *x, *y;
	uint64_t limited = 0, hops = 0;
	size_t steps;
	char n1[48], n2[48];

	l2_open(&t);
	b[0] = t.br;
	REQUIRE_EQ(vif_bridge_create(t.hub, NULL, &b[1]), 0);
	REQUIRE_EQ(vif_bridge_create(t.hub, NULL, &b[2]), 0);
	for (int i = 0; i < 3; i++) {
		for (int j = i + 1; j < 3; j++) {
			for (int k = 0; k < 2; k++) {
				snprintf(n1, sizeof(n1), "l%d%d%d", i, j, k);
				snprintf(n2, sizeof(n2), "l%d%d%d", j, i, k);
				REQUIRE_EQ(
				    vif_ve_create(t.hub, n1, t.hub, n2, &x, &y),
				    0);
				REQUIRE_EQ(vif_bridge_add_port(b[i], x), 0);
				REQUIRE_EQ(vif_bridge_add_port(b[j], y), 0);
				vif_set_up(x, true);
				vif_set_up(y, true);
			}
		}
		vif_set_up(b[i], true);
	}
	world_run(t.sn->w);
	l2_send_st(&t, 0, 999, 1);   /* unknown unicast: flooded */
	steps = t.sn->w->runq.count; /* (drained by l2_send already) */
	CHECK_EQ(steps, 0);
	for (int i = 0; i < 3; i++) {
		struct vif_bridge_stats st = br_stats(b[i]);

		limited += st.flood_limited;
		hops += st.hop_drops;
		CHECK(st.flooded <= VIF_BRIDGE_FLOOD_BURST);
	}
	CHECK(limited > 0);
	if (test_verbose())
		printf("    flood limited %llu, hop drops %llu\n",
		       (unsigned long long)limited, (unsigned long long)hops);
	l2_close(&t);
}

/* ---- layer 3 through the bridge ----------------------------------------- */

struct lan {
	struct simnet *sn;
	struct vimage *h[3], *hub;
	struct ifnet *br;
};

static void lan_open(struct lan *l)
{
	char name[16], addr[32], pname[16];

	l->sn = simnet_new(3);
	REQUIRE(l->sn);
	l->hub = simnet_node(l->sn, "hub");
	REQUIRE(l->hub);
	REQUIRE_EQ(vif_bridge_create(l->hub, "br0", &l->br), 0);
	for (int i = 0; i < 3; i++) {
		int k;

		snprintf(name, sizeof(name), "h%d", i + 1);
		snprintf(addr, sizeof(addr), "10.0.0.%d/24", i + 1);
		snprintf(pname, sizeof(pname), "p%d", i + 1);
		l->h[i] = simnet_node(l->sn, name);
		REQUIRE(l->h[i]);
		k = simnet_link(l->sn, l->h[i], "eth0", addr, l->hub, pname,
				NULL);
		REQUIRE(k >= 0);
		REQUIRE_EQ(vif_bridge_add_port(l->br, l->sn->link[k].b), 0);
	}
	{
		struct vaddr a;
		unsigned plen;

		REQUIRE_EQ(vaddr_parse_prefix("10.0.0.254/24", &a, &plen), 0);
		REQUIRE_EQ(vif_addr_add(l->br, &a, plen), 0);
	}
	REQUIRE_EQ(vif_set_up(l->br, true), 0);
	world_run(l->sn->w);
}

static bool ping(struct lan *l, struct vimage *from, const char *to_addr,
		 uint16_t seq)
{
	uint8_t req[64] = {8, 0}, rep[64];
	struct sockaddr_in to = simnet_sin(to_addr, 0);
	struct vsocket *ps;
	ssize_t n;

	REQUIRE_EQ(vsock_socket(from, AF_INET, SOCK_DGRAM, IPPROTO_ICMP, &ps),
		   0);
	req[7] = (uint8_t)seq;
	for (int i = 8; i < 64; i++)
		req[i] = (uint8_t)(i * 3 + seq);
	REQUIRE_EQ(vsock_sendto(ps, req, sizeof(req), 0, (struct sockaddr *)&to,
				sizeof(to)),
		   64);
	simnet_run(l->sn, 1 * SEC);
	n = vsock_recvfrom(ps, rep, sizeof(rep), 0, NULL, NULL);
	vsock_close(ps);
	return n == 64 && rep[0] == 0 && rep[7] == (uint8_t)seq &&
	       memcmp(rep + 8, req + 8, 56) == 0;
}

TEST(bridge_hosts_ping_each_other_and_the_bridge_address)
{
	struct lan l;
	struct vif_bridge_port_stats ps;

	lan_open(&l);
	CHECK(ping(&l, l.h[0], "10.0.0.2", 1));
	CHECK(ping(&l, l.h[0], "10.0.0.3", 2));
	CHECK(ping(&l, l.h[0], "10.0.0.254", 3));
	CHECK(ping(&l, l.hub, "10.0.0.3", 4));
	CHECK(ping(&l, l.h[2], "10.0.0.2", 5));
	/* h3's port saw ARP floods, but none of the h1 <-> h2 echoes. */
	REQUIRE_EQ(vif_bridge_port_stats(vif_lookup(l.hub, "p3"), &ps), 0);
	{
		uint64_t before = ps.tx;

		CHECK(ping(&l, l.h[0], "10.0.0.2", 6));
		REQUIRE_EQ(vif_bridge_port_stats(vif_lookup(l.hub, "p3"), &ps),
			   0);
		CHECK_EQ(ps.tx, before);
	}
	CHECK_EQ(simnet_free(l.sn), 0);
}

TEST(bridge_udp_between_hosts_arrives_intact)
{
	struct lan l;
	struct vsocket *tx, *rx;
	struct sockaddr_in to = simnet_sin("10.0.0.3", 7000);
	uint8_t buf[1472], got[1600];
	unsigned ok = 0;

	lan_open(&l);
	rx = simnet_udp(l.h[2], NULL, 7000);
	tx = simnet_udp(l.h[0], NULL, 0);
	REQUIRE(rx && tx);
	for (unsigned i = 0; i < 200; i++) {
		size_t len = 1 + (i * 37) % sizeof(buf);
		ssize_t n;

		for (size_t k = 0; k < len; k++)
			buf[k] = (uint8_t)(k * 13 + i);
		REQUIRE_EQ(vsock_sendto(tx, buf, len, 0, (struct sockaddr *)&to,
					sizeof(to)),
			   (ssize_t)len);
		simnet_run(l.sn, SEC / 1000);
		n = vsock_recvfrom(rx, got, sizeof(got), 0, NULL, NULL);
		if (n == (ssize_t)len && memcmp(got, buf, len) == 0)
			ok++;
	}
	CHECK_EQ(ok, 200);
	vsock_close(tx);
	vsock_close(rx);
	CHECK_EQ(simnet_free(l.sn), 0);
}

TEST(bridge_tcp_between_hosts_transfers_4mb)
{
	struct lan l;
	static struct tcpx x;

	lan_open(&l);
	REQUIRE_EQ(tcpx_open(&x, l.sn, l.h[0], l.h[1], "10.0.0.2", 5001), 0);
	CHECK_EQ(tcpx_transfer(&x, 4u << 20, 120 * SEC), 0);
	CHECK_EQ(x.hash_tx, x.hash_rx);
	tcpx_close(&x);
	simnet_run(l.sn, 120 * SEC);
	CHECK_EQ(br_stats(l.br).flood_limited, 0);
	CHECK_EQ(simnet_free(l.sn), 0);
}

TEST(bridge_hub_vimage_destroyed_with_everything_in_it)
{
	struct lan l;

	lan_open(&l);
	CHECK(ping(&l, l.h[0], "10.0.0.254", 1));
	CHECK(br_stats(l.br).fdb_entries > 0);
	REQUIRE_EQ(simnet_destroy_node(l.sn, l.hub), 0);
	CHECK_EQ(simnet_free(l.sn), 0);
}
