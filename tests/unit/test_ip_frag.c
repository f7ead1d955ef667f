/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Tests for src/netinet/ip_frag.c: IPv4 reassembly driven directly with
 * hand-built fragments, and fragmentation observed on the far end of a ve
 * pair. Every test ends by destroying the vimage and checking that no
 * packet, reassembly queue or timer is left behind.
 */
#include "../harness/test.h"
#include "core/kern.h"
#include "netinet/inet.h"

#include <stdlib.h>

#define SRC	  0x0a000001u /* 10.0.0.1 */
#define DST	  0x0a000002u /* 10.0.0.2 */
#define PROTO	  253	      /* RFC 3692 experimentation: nobody listens */
#define TIMEOUT_S 30

struct fx {
	struct world *w;
	struct vimage *vi;
	struct ip_state *ip;
};

static void fx_init(struct fx *fx)
{
	struct world_config cfg = {.seed = 1, .start_ns = NSEC_PER_SEC};

	REQUIRE_EQ(world_create(&cfg, &fx->w), 0);
	REQUIRE_EQ(vimage_create(fx->w, "a", &fx->vi), 0);
	fx->ip = vimage_ip(fx->vi);
	fx->ip->frag_timeout_s = TIMEOUT_S;
	fx->ip->frag_maxbytes = 4 << 20;
	fx->ip->frag_maxqueues = 64;
}

/* Destroy the vimage, check nothing it held survives, destroy the world. */
static void fx_fini(struct fx *fx)
{
	struct world_counts c;

	CHECK_EQ(vimage_destroy(fx->vi), 0);
	world_run(fx->w);
	world_counts(fx->w, &c);
	CHECK_EQ(c.pkts, 0);
	CHECK_EQ(c.pbufs, 0);
	CHECK_EQ(c.reass_queues, 0);
	CHECK_EQ(c.vimages, 1); /* the root */
	world_destroy(fx->w);
}

/* The byte at offset i of datagram id's payload. */
static uint8_t pattern(uint16_t id, uint32_t i)
{
	return (uint8_t)(id * 31u + i * 7u + (i >> 8));
}

struct fspec {
	uint32_t src, dst;
	uint16_t id;
	uint8_t proto, tos;
	uint16_t off, len;
	bool mf;
	bool opt; /* a 24-byte header: one word of NOP options */
};

static struct pkt *mk_frag(struct world *w, const struct fspec *s)
{
	struct ipv4_repr r = {
	    .hlen = IPV4_HLEN,
	    .tos = s->tos,
	    .total_len = (uint16_t)(IPV4_HLEN + s->len),
	    .id = s->id,
	    .mf = s->mf,
	    .frag_off = s->off,
	    .ttl = 64,
	    .proto = s->proto ? s->proto : PROTO,
	    .src = s->src ? s->src : SRC,
	    .dst = s->dst ? s->dst : DST,
	};
	uint32_t hl = s->opt ? 24 : IPV4_HLEN;
	struct pkt *p = pkt_alloc(w, PKT_HEADROOM, hl + s->len);
	uint8_t *b;

	REQUIRE(p != NULL);
	b = pkt_put(p, hl + s->len);
	r.total_len = (uint16_t)(hl + s->len);
	ipv4_emit(&r, b);
	if (s->opt) {
		b[0] = 0x46;
		memset(b + IPV4_HLEN, 1, 4); /* NOP */
		wr16(b + 10, 0);
		wr16(b + 10, cksum_finish(cksum_partial(b, hl, 0)));
	}
	for (uint32_t i = 0; i < s->len; i++)
		b[hl + i] = pattern(s->id, s->off + i);
	return p;
}

/* Feed one fragment to ip_reass as ip_input would: parsed, verified. */
static struct pkt *feed_spec(struct fx *fx, const struct fspec *s)
{
	struct pkt *p = mk_frag(fx->w, s);
	struct ipv4_repr r;

	REQUIRE_EQ(ipv4_parse(p->data, p->len, &r, true), WIRE_OK);
	return ip_reass(fx->vi, p, &r);
}

static struct pkt *feed(struct fx *fx, uint16_t id, uint16_t off, uint16_t len,
			bool mf)
{
	struct fspec s = {.id = id, .off = off, .len = len, .mf = mf};

	return feed_spec(fx, &s);
}

/* out is the whole datagram id with total payload bytes: a clean header
 * and the bytes of the pattern. Frees out. */
static void check_datagram(struct fx *fx, struct pkt *out, uint16_t id,
			   uint32_t total)
{
	struct ipv4_repr r;
	bool same = true;

	REQUIRE(out != NULL);
	REQUIRE_EQ(out->len, IPV4_HLEN + total);
	REQUIRE_EQ(ipv4_parse(out->data, out->len, &r, true), WIRE_OK);
	CHECK_EQ(r.total_len, IPV4_HLEN + total);
	CHECK_EQ(r.id, id);
	CHECK(!r.mf);
	CHECK_EQ(r.frag_off, 0);
	CHECK_EQ(r.src, SRC);
	CHECK_EQ(r.dst, DST);
	for (uint32_t i = 0; i < total; i++)
		same = same && out->data[IPV4_HLEN + i] == pattern(id, i);
	CHECK(same);
	pkt_free(fx->w, out);
}

static void check_empty(struct fx *fx)
{
	CHECK_EQ(fx->ip->reass_count, 0);
	CHECK_EQ(fx->ip->reass_bytes, 0);
	CHECK_EQ(fx->w->reass_live, 0);
}

TEST(reass_in_order)
{
	struct fx fx;

	fx_init(&fx);
	CHECK(feed(&fx, 7, 0, 1480, true) == NULL);
	CHECK_EQ(fx.ip->reass_count, 1);
	CHECK_EQ(fx.w->reass_live, 1);
	CHECK(fx.ip->reass_bytes > 0);
	CHECK(feed(&fx, 7, 1480, 1480, true) == NULL);
	check_datagram(&fx, feed(&fx, 7, 2960, 100, false), 7, 3060);
	CHECK_EQ(fx.ip->st.reassembled, 1);
	CHECK_EQ(fx.ip->st.fragdropped, 0);
	check_empty(&fx);
	fx_fini(&fx);
}

TEST(reass_out_of_order_and_reverse)
{
	struct fx fx;

	fx_init(&fx);
	/* Middle, last, first. */
	CHECK(feed(&fx, 1, 800, 800, true) == NULL);
	CHECK(feed(&fx, 1, 1600, 13, false) == NULL);
	check_datagram(&fx, feed(&fx, 1, 0, 800, true), 1, 1613);
	/* Strictly reversed, in 8-byte pieces. */
	CHECK(feed(&fx, 2, 64, 5, false) == NULL);
	for (int off = 56; off > 0; off -= 8)
		CHECK(feed(&fx, 2, (uint16_t)off, 8, true) == NULL);
	check_datagram(&fx, feed(&fx, 2, 0, 8, true), 2, 69);
	CHECK_EQ(fx.ip->st.reassembled, 2);
	CHECK_EQ(fx.ip->st.fragdropped, 0);
	check_empty(&fx);
	fx_fini(&fx);
}

TEST(reass_not_a_fragment_passes_through)
{
	struct fx fx;
	struct pkt *p, *q;
	struct ipv4_repr r;
	struct fspec s = {.id = 3, .len = 100};

	fx_init(&fx);
	p = mk_frag(fx.w, &s);
	REQUIRE_EQ(ipv4_parse(p->data, p->len, &r, true), WIRE_OK);
	q = ip_reass(fx.vi, p, &r);
	CHECK(q == p);
	CHECK_EQ(fx.ip->reass_count, 0);
	pkt_free(fx.w, q);
	fx_fini(&fx);
}

TEST(reass_exact_duplicate_ignored)
{
	struct fx fx;
	uint64_t held;

	fx_init(&fx);
	CHECK(feed(&fx, 9, 0, 160, true) == NULL);
	held = fx.ip->reass_bytes;
	CHECK(feed(&fx, 9, 0, 160, true) == NULL);
	CHECK_EQ(fx.ip->reass_bytes, held);
	CHECK_EQ(fx.ip->st.fragdropped, 1);
	check_datagram(&fx, feed(&fx, 9, 160, 40, false), 9, 200);
	CHECK_EQ(fx.ip->st.reassembled, 1);
	check_empty(&fx);
	/* A copy arriving after completion starts a new queue: nothing
	 * remembers a finished datagram. It would time out; the vimage's
	 * destruction frees it. */
	CHECK(feed(&fx, 9, 0, 160, true) == NULL);
	CHECK_EQ(fx.ip->reass_count, 1);
	fx_fini(&fx);
}

TEST(reass_duplicate_then_complete)
{
	struct fx fx;

	fx_init(&fx);
	CHECK(feed(&fx, 9, 160, 40, false) == NULL);
	CHECK(feed(&fx, 9, 160, 40, false) == NULL);
	CHECK_EQ(fx.ip->st.fragdropped, 1);
	check_datagram(&fx, feed(&fx, 9, 0, 160, true), 9, 200);
	CHECK_EQ(fx.ip->st.reassembled, 1);
	check_empty(&fx);
	fx_fini(&fx);
}

TEST(reass_overlap_drops_datagram)
{
	struct fx fx;

	fx_init(&fx);
	/* Teardrop: the second fragment lies inside the first. */
	CHECK(feed(&fx, 4, 0, 800, true) == NULL);
	CHECK(feed(&fx, 4, 24, 8, false) == NULL);
	CHECK_EQ(fx.ip->st.fragdropped, 2);
	check_empty(&fx);
	/* Nothing is remembered: the missing pieces start a fresh queue
	 * that cannot complete without fragment zero. */
	CHECK(feed(&fx, 4, 800, 8, false) == NULL);
	CHECK_EQ(fx.ip->reass_count, 1);
	CHECK_EQ(fx.ip->st.reassembled, 0);

	/* Overlap with the next fragment, and same offset other length. */
	CHECK(feed(&fx, 5, 800, 800, true) == NULL);
	CHECK(feed(&fx, 5, 0, 808, true) == NULL);
	CHECK_EQ(fx.ip->reass_count, 1);
	CHECK(feed(&fx, 6, 0, 800, true) == NULL);
	CHECK(feed(&fx, 6, 0, 400, true) == NULL);
	CHECK_EQ(fx.ip->reass_count, 1);
	/* Same offset and length but another MF is a conflict, not a copy. */
	CHECK(feed(&fx, 8, 0, 800, true) == NULL);
	CHECK(feed(&fx, 8, 800, 800, true) == NULL);
	CHECK(feed(&fx, 8, 800, 800, false) == NULL);
	CHECK_EQ(fx.ip->reass_count, 1);
	CHECK_EQ(fx.ip->st.reassembled, 0);
	fx_fini(&fx);
}

TEST(reass_second_last_fragment_drops_datagram)
{
	struct fx fx;

	fx_init(&fx);
	CHECK(feed(&fx, 1, 800, 100, false) == NULL);
	CHECK(feed(&fx, 1, 1600, 100, false) == NULL);
	CHECK_EQ(fx.ip->st.fragdropped, 2);
	check_empty(&fx);
	/* Data past a known end. */
	CHECK(feed(&fx, 2, 800, 100, false) == NULL);
	CHECK(feed(&fx, 2, 1600, 800, true) == NULL);
	check_empty(&fx);
	/* A last fragment ending before data already held. */
	CHECK(feed(&fx, 3, 1600, 800, true) == NULL);
	CHECK(feed(&fx, 3, 800, 100, false) == NULL);
	check_empty(&fx);
	CHECK_EQ(fx.ip->st.fragdropped, 6);
	fx_fini(&fx);
}

TEST(reass_nonmultiple_of_8_dropped)
{
	struct fx fx;

	fx_init(&fx);
	CHECK(feed(&fx, 1, 0, 801, true) == NULL);
	CHECK_EQ(fx.ip->st.fragdropped, 1);
	check_empty(&fx);
	/* Only the fragment goes: the datagram is still completed. */
	CHECK(feed(&fx, 2, 0, 800, true) == NULL);
	CHECK(feed(&fx, 2, 800, 13, true) == NULL);
	CHECK_EQ(fx.ip->reass_count, 1);
	check_datagram(&fx, feed(&fx, 2, 800, 13, false), 2, 813);
	CHECK_EQ(fx.ip->st.fragdropped, 2);
	fx_fini(&fx);
}

TEST(reass_zero_length_dropped)
{
	struct fx fx;

	fx_init(&fx);
	CHECK(feed(&fx, 1, 800, 0, false) == NULL);
	CHECK(feed(&fx, 1, 0, 0, true) == NULL);
	CHECK_EQ(fx.ip->st.fragdropped, 2);
	check_empty(&fx);
	fx_fini(&fx);
}

TEST(reass_offset_past_64k_dropped)
{
	struct fx fx;

	fx_init(&fx);
	/* Ping of death: the last fragment would end past 65535. */
	CHECK(feed(&fx, 1, 0, 1480, true) == NULL);
	CHECK(feed(&fx, 1, 65528, 100, false) == NULL);
	CHECK_EQ(fx.ip->st.fragdropped, 1);
	CHECK_EQ(fx.ip->reass_count, 1);
	/* The largest legal datagram still goes through: 65515 payload
	 * bytes behind a 20-byte header. */
	CHECK(feed(&fx, 2, 0, 32760, true) == NULL);
	check_datagram(&fx, feed(&fx, 2, 32760, 32755, false), 2, 65515);
	fx_fini(&fx);
}

TEST(reass_total_past_64k_with_options_dropped)
{
	struct fx fx;
	struct fspec s = {.id = 3, .len = 32760, .mf = true, .opt = true};

	fx_init(&fx);
	/* Each piece is legal, but behind fragment zero's 24-byte header the
	 * 65512 bytes would make a 65536-byte datagram. */
	CHECK(feed_spec(&fx, &s) == NULL);
	CHECK(feed(&fx, 3, 32760, 32752, false) == NULL);
	CHECK_EQ(fx.ip->st.fragdropped, 2);
	CHECK_EQ(fx.ip->st.reassembled, 0);
	check_empty(&fx);
	/* One byte less fits; the options stay in the datagram's header. */
	s.id = 4;
	CHECK(feed_spec(&fx, &s) == NULL);
	struct pkt *out = feed(&fx, 4, 32760, 32751, false);
	REQUIRE(out != NULL);
	CHECK_EQ(out->len, 65535);
	CHECK_EQ(out->data[0], 0x46);
	CHECK_EQ(rd16(out->data + 2), 65535);
	pkt_free(fx.w, out);
	fx_fini(&fx);
}

TEST(reass_different_ids_separate)
{
	struct fx fx;
	struct fspec s = {.id = 1, .off = 0, .len = 800, .mf = true};

	fx_init(&fx);
	CHECK(feed(&fx, 1, 0, 800, true) == NULL);
	CHECK(feed(&fx, 2, 800, 200, false) == NULL);
	/* Same id, other source / protocol: other datagrams. */
	s.off = 800;
	s.len = 200;
	s.mf = false;
	s.src = 0x0a000009u;
	CHECK(feed_spec(&fx, &s) == NULL);
	s.src = 0;
	s.proto = 17;
	CHECK(feed_spec(&fx, &s) == NULL);
	CHECK_EQ(fx.ip->reass_count, 4);
	check_datagram(&fx, feed(&fx, 2, 0, 800, true), 2, 1000);
	check_datagram(&fx, feed(&fx, 1, 800, 200, false), 1, 1000);
	CHECK_EQ(fx.ip->reass_count, 2);
	CHECK_EQ(fx.ip->st.reassembled, 2);
	fx_fini(&fx);
}

TEST(reass_timeout_frees_queue)
{
	struct fx fx;
	struct world_counts c;
	uint64_t t0;

	fx_init(&fx);
	t0 = world_now(fx.w);
	CHECK(feed(&fx, 1, 0, 800, true) == NULL);
	CHECK(feed(&fx, 1, 1600, 8, false) == NULL);
	world_counts(fx.w, &c);
	CHECK_EQ(c.reass_queues, 1);
	CHECK(c.timers >= 1);
	world_advance(fx.w, t0 + (TIMEOUT_S - 1) * NSEC_PER_SEC);
	CHECK_EQ(fx.ip->reass_count, 1);
	world_advance(fx.w, t0 + TIMEOUT_S * NSEC_PER_SEC);
	check_empty(&fx);
	CHECK_EQ(fx.ip->st.fragtimeout, 2);
	/* The timer does not restart with later fragments. */
	CHECK(feed(&fx, 2, 800, 8, false) == NULL);
	world_advance(fx.w, world_now(fx.w) + 10 * NSEC_PER_SEC);
	CHECK(feed(&fx, 2, 0, 400, true) == NULL);
	world_advance(fx.w, world_now(fx.w) + (TIMEOUT_S - 10) * NSEC_PER_SEC);
	check_empty(&fx);
	CHECK_EQ(fx.ip->st.fragtimeout, 4);
	fx_fini(&fx);
}

/* Two vimages on a ve pair, addresses up: "a" has a route back to SRC so
 * that its ICMP errors really leave. */
struct pair {
	struct fx fx;
	struct vimage *b;
	struct ifnet *ea, *eb;
};

static void pair_init(struct pair *pr)
{
	struct vaddr a = vaddr_v4(DST), b = vaddr_v4(SRC);

	fx_init(&pr->fx);
	REQUIRE_EQ(vimage_create(pr->fx.w, "b", &pr->b), 0);
	REQUIRE_EQ(
	    vif_ve_create(pr->fx.vi, "ve0", pr->b, "ve0", &pr->ea, &pr->eb), 0);
	REQUIRE_EQ(vif_set_up(pr->ea, true), 0);
	REQUIRE_EQ(vif_set_up(pr->eb, true), 0);
	REQUIRE_EQ(vif_addr_add(pr->ea, &a, 24), 0);
	REQUIRE_EQ(vif_addr_add(pr->eb, &b, 24), 0);
	world_run(pr->fx.w);
}

static void pair_fini(struct pair *pr)
{
	CHECK_EQ(vimage_destroy(pr->b), 0);
	fx_fini(&pr->fx);
}

TEST(reass_timeout_sends_time_exceeded)
{
	struct pair pr;
	struct icmp_state *ia, *ib;

	pair_init(&pr);
	ia = vimage_icmp(pr.fx.vi);
	ib = vimage_icmp(pr.b);
	CHECK(feed(&pr.fx, 1, 0, 800, true) == NULL);
	world_advance(pr.fx.w,
		      world_now(pr.fx.w) + (TIMEOUT_S + 1) * NSEC_PER_SEC);
	check_empty(&pr.fx);
	CHECK_EQ(pr.fx.ip->st.fragtimeout, 1);
	CHECK_EQ(ia->st.out_timxceed, 1);
	CHECK_EQ(ib->st.in_timxceed, 1);
	pair_fini(&pr);
}

TEST(reass_timeout_without_first_fragment_is_silent)
{
	struct pair pr;
	struct icmp_state *ia;

	pair_init(&pr);
	ia = vimage_icmp(pr.fx.vi);
	CHECK(feed(&pr.fx, 1, 800, 800, true) == NULL);
	CHECK(feed(&pr.fx, 1, 1600, 8, false) == NULL);
	world_advance(pr.fx.w,
		      world_now(pr.fx.w) + (TIMEOUT_S + 1) * NSEC_PER_SEC);
	check_empty(&pr.fx);
	CHECK_EQ(pr.fx.ip->st.fragtimeout, 2);
	CHECK_EQ(ia->st.out_timxceed, 0);
	pair_fini(&pr);
}

TEST(reass_memory_bound_evicts_oldest)
{
	struct fx fx;
	uint64_t one;

	fx_init(&fx);
	CHECK(feed(&fx, 1, 0, 800, true) == NULL);
	one = fx.ip->reass_bytes;
	REQUIRE(one > 800);
	/* Room for three fragments of this size. */
	fx.ip->frag_maxbytes = (int64_t)(3 * one);
	CHECK(feed(&fx, 2, 0, 800, true) == NULL);
	CHECK(feed(&fx, 3, 0, 800, true) == NULL);
	CHECK_EQ(fx.ip->reass_count, 3);
	/* A fourth evicts datagram 1, the oldest. */
	CHECK(feed(&fx, 4, 0, 800, true) == NULL);
	CHECK_EQ(fx.ip->reass_count, 3);
	CHECK_EQ(fx.ip->reass_bytes, 3 * one);
	CHECK_EQ(fx.ip->st.fragdropped, 1);
	/* 2 is still whole enough to complete; 1 is gone. */
	check_datagram(&fx, feed(&fx, 2, 800, 8, false), 2, 808);
	CHECK(feed(&fx, 1, 800, 8, false) == NULL);
	CHECK_EQ(fx.ip->st.reassembled, 1);
	/* Growing datagram 4 evicts 3 (older), never 4 itself. */
	CHECK(feed(&fx, 4, 800, 800, true) == NULL);
	CHECK(feed(&fx, 4, 1600, 800, true) == NULL);
	CHECK_EQ(fx.ip->reass_count, 1);
	CHECK_EQ(fx.w->reass_live, 1);
	/* A datagram that cannot fit alone is dropped, leaving the others. */
	CHECK(feed(&fx, 5, 0, 800, true) == NULL);
	CHECK(feed(&fx, 5, 800, 800, true) == NULL);
	CHECK(feed(&fx, 5, 1600, 800, true) == NULL);
	CHECK(feed(&fx, 5, 2400, 800, true) == NULL);
	CHECK_EQ(fx.ip->reass_count, 0);
	CHECK(fx.ip->reass_bytes <= (uint64_t)fx.ip->frag_maxbytes);
	check_empty(&fx);
	fx_fini(&fx);
}

TEST(reass_queue_bound_evicts_oldest)
{
	struct fx fx;

	fx_init(&fx);
	fx.ip->frag_maxqueues = 4;
	for (uint16_t id = 1; id <= 10; id++)
		CHECK(feed(&fx, id, 0, 8, true) == NULL);
	CHECK_EQ(fx.ip->reass_count, 4);
	CHECK_EQ(fx.w->reass_live, 4);
	CHECK_EQ(fx.ip->st.fragdropped, 6);
	/* The newest survive. */
	check_datagram(&fx, feed(&fx, 10, 8, 8, false), 10, 16);
	check_datagram(&fx, feed(&fx, 7, 8, 8, false), 7, 16);
	fx.ip->frag_maxqueues = 0; /* reassembly off */
	CHECK(feed(&fx, 8, 8, 8, false) == NULL);
	CHECK_EQ(fx.ip->reass_count, 2);
	fx_fini(&fx);
}

TEST(reass_ecn_ce_propagates_and_mix_drops)
{
	struct fx fx;
	struct fspec s = {.id = 1, .off = 0, .len = 8, .mf = true, .tos = 0x02};
	struct pkt *out;

	fx_init(&fx);
	CHECK(feed_spec(&fx, &s) == NULL);
	s.off = 8;
	s.mf = false;
	s.tos = 0x03; /* CE */
	out = feed_spec(&fx, &s);
	REQUIRE(out != NULL);
	CHECK_EQ(out->data[1] & 3, 3);
	check_datagram(&fx, out, 1, 16);
	/* Not-ECT mixed with ECT(0): not one sender's datagram. */
	s.id = 2;
	s.off = 0;
	s.mf = true;
	s.tos = 0x00;
	CHECK(feed_spec(&fx, &s) == NULL);
	s.off = 8;
	s.mf = false;
	s.tos = 0x02;
	CHECK(feed_spec(&fx, &s) == NULL);
	CHECK_EQ(fx.ip->st.fragdropped, 2);
	check_empty(&fx);
	fx_fini(&fx);
}

TEST(reass_flush_on_vimage_destroy)
{
	struct fx fx;

	fx_init(&fx);
	for (uint16_t id = 1; id <= 5; id++)
		CHECK(feed(&fx, id, 0, 800, true) == NULL);
	CHECK_EQ(fx.w->reass_live, 5);
	fx_fini(&fx); /* checks reass_queues and pkts back to 0 */
}

/* ---- ip_fragment, seen on the far end of a ve pair ---------------------- */
#define CAP_MAX 64
struct cap {
	int state; /* 0: file header, 1: record header, 2: frame */
	size_t n;
	bool bad;	   /* an IPv4 frame that does not parse */
	size_t badpayload; /* frames whose bytes are not pattern(id, ...) */
	struct ipv4_repr r[CAP_MAX];
	uint8_t hdr[CAP_MAX][IPV4_MAX_HLEN];
};

static void cap_sink(void *ctx, const void *data, size_t len)
{
	struct cap *c = ctx;
	const uint8_t *f = data;
	struct ipv4_repr r;

	if (c->state != 2) {
		c->state = c->state == 0 ? 1 : 2;
		return;
	}
	c->state = 1;
	if (len < ETH_HLEN || rd16(f + 12) != ETHERTYPE_IPV4)
		return;
	if (ipv4_parse(f + ETH_HLEN, len - ETH_HLEN, &r, true) != WIRE_OK) {
		c->bad = true;
		return;
	}
	if (r.proto != PROTO || c->n == CAP_MAX)
		return;
	for (uint32_t j = 0; j < (uint32_t)r.total_len - r.hlen; j++) {
		if (f[ETH_HLEN + r.hlen + j] != pattern(r.id, r.frag_off + j)) {
			c->badpayload++;
			break;
		}
	}
	c->r[c->n] = r;
	memcpy(c->hdr[c->n], f + ETH_HLEN, r.hlen);
	c->n++;
}

/* The captured fragments tile [0, total) in order, every payload but the
 * last's a multiple of 8, MF on all but the last, DF on none. */
static void check_tiling(const struct cap *c, uint32_t total)
{
	uint32_t next = 0;

	CHECK(!c->bad);
	CHECK_EQ(c->badpayload, 0);
	REQUIRE(c->n > 0);
	for (size_t i = 0; i < c->n; i++) {
		const struct ipv4_repr *r = &c->r[i];
		uint32_t plen = r->total_len - r->hlen;

		CHECK_EQ(r->frag_off, next);
		CHECK_EQ(r->mf, i + 1 < c->n);
		CHECK(!r->df);
		if (r->mf)
			CHECK_EQ(plen % 8, 0);
		next += plen;
	}
	CHECK_EQ(next, total);
}

TEST(fragment_sizes_multiple_of_8)
{
	struct pair pr;
	struct cap c = {0};
	struct fspec s = {.id = 77, .len = 3000, .src = DST, .dst = SRC};

	pair_init(&pr);
	REQUIRE_EQ(vif_capture_start(pr.eb, cap_sink, &c, 0), 0);
	/* 576 - 20 = 556, cut to 552 per fragment: 5 * 552 + 240. */
	CHECK_EQ(ip_fragment(pr.fx.vi, pr.ea, mk_frag(pr.fx.w, &s), SRC, 576),
		 0);
	world_run(pr.fx.w);
	CHECK_EQ(pr.fx.ip->st.fragmented, 1);
	CHECK_EQ(pr.fx.ip->st.ofragments, 6);
	REQUIRE_EQ(c.n, 6);
	for (size_t i = 0; i < 5; i++)
		CHECK_EQ(c.r[i].total_len, IPV4_HLEN + 552);
	CHECK_EQ(c.r[5].total_len, IPV4_HLEN + 240);
	check_tiling(&c, 3000);
	/* b put them back together (and found nobody speaking PROTO). */
	CHECK_EQ(vimage_ip(pr.b)->st.reassembled, 1);
	CHECK_EQ(vimage_ip(pr.b)->reass_count, 0);
	vif_capture_stop(pr.eb);
	pair_fini(&pr);
}

TEST(fragment_of_fragment_keeps_offset_and_mf)
{
	struct pair pr;
	struct cap c = {0};
	struct fspec s = {.id = 78,
			  .off = 1600,
			  .len = 1000,
			  .mf = true,
			  .src = DST,
			  .dst = SRC};

	pair_init(&pr);
	REQUIRE_EQ(vif_capture_start(pr.eb, cap_sink, &c, 0), 0);
	CHECK_EQ(ip_fragment(pr.fx.vi, pr.ea, mk_frag(pr.fx.w, &s), SRC, 420),
		 0);
	world_run(pr.fx.w);
	REQUIRE_EQ(c.n, 3); /* 400 + 400 + 200 */
	for (size_t i = 0; i < c.n; i++) {
		CHECK_EQ(c.r[i].frag_off, 1600 + 400 * i);
		CHECK(c.r[i].mf); /* more follow the original, too */
	}
	CHECK_EQ(c.badpayload, 0);
	vif_capture_stop(pr.eb);
	pair_fini(&pr);
}

/* A header with Router Alert (copied) and Record Route (not copied): only
 * the first fragment carries both; the others carry Router Alert. */
TEST(fragment_copies_only_copied_options)
{
	static const uint8_t opts[8] = {0x94, 0x04, 0x00, 0x00, /* RA */
					0x07, 0x03, 0x04,	/* RR */
					0x00};			/* EOL */
	struct pair pr;
	struct cap c = {0};
	struct ipv4_repr r = {.total_len = 28 + 1000,
			      .id = 79,
			      .ttl = 64,
			      .proto = PROTO,
			      .src = DST,
			      .dst = SRC};
	struct pkt *p;
	uint8_t *b;
	uint32_t next = 0;

	pair_init(&pr);
	REQUIRE_EQ(vif_capture_start(pr.eb, cap_sink, &c, 0), 0);
	p = pkt_alloc(pr.fx.w, PKT_HEADROOM, 28 + 1000);
	REQUIRE(p != NULL);
	b = pkt_put(p, 28 + 1000);
	ipv4_emit(&r, b);
	b[0] = 0x47;
	memcpy(b + 20, opts, sizeof(opts));
	wr16(b + 10, 0);
	wr16(b + 10, cksum_finish(cksum_partial(b, 28, 0)));
	for (uint32_t i = 0; i < 1000; i++)
		b[28 + i] = pattern(79, i);
	/* First fragment: (104 - 28) & ~7 = 72; later: (104 - 24) = 80. */
	CHECK_EQ(ip_fragment(pr.fx.vi, pr.ea, p, SRC, 104), 0);
	world_run(pr.fx.w);
	REQUIRE_EQ(c.n, 13); /* 72 + 11 * 80 + 48 */
	CHECK_EQ(c.r[0].hlen, 28);
	CHECK_MEM(c.hdr[0] + 20, opts, 8);
	CHECK_EQ(c.r[0].total_len, 28 + 72);
	for (size_t i = 1; i < c.n; i++) {
		CHECK_EQ(c.r[i].hlen, 24);
		CHECK_MEM(c.hdr[i] + 20, opts, 4);
	}
	CHECK_EQ(c.r[1].total_len, 24 + 80);
	for (size_t i = 0; i < c.n; i++) {
		CHECK_EQ(c.r[i].frag_off, next);
		next += c.r[i].total_len - c.r[i].hlen;
	}
	CHECK_EQ(next, 1000);
	CHECK_EQ(c.badpayload, 0);
	vif_capture_stop(pr.eb);
	pair_fini(&pr);
}

TEST(fragment_df_or_tiny_mtu_refused)
{
	struct fx fx;
	struct fspec s = {.id = 1, .len = 1000};
	struct pkt *p;
	struct ipv4_repr r;

	fx_init(&fx);
	p = mk_frag(fx.w, &s);
	REQUIRE_EQ(ipv4_parse(p->data, p->len, &r, true), WIRE_OK);
	r.df = true;
	ipv4_emit(&r, p->data);
	CHECK_EQ(ip_fragment(fx.vi, NULL, p, SRC, 576), -EMSGSIZE);
	CHECK_EQ(ip_fragment(fx.vi, NULL, mk_frag(fx.w, &s), SRC, 27),
		 -EMSGSIZE);
	CHECK_EQ(fx.ip->st.cantfrag, 2);
	CHECK_EQ(fx.ip->st.ofragments, 0);
	fx_fini(&fx);
}

/* What ip_fragment produces, reassembled by ip_reass in every order the
 * pieces can arrive: forwards, backwards, and odd pieces first. */
TEST(fragment_then_reassemble_any_order)
{
	struct pair pr;
	struct cap c = {0};
	struct fspec s = {.id = 80, .len = 4000, .src = DST, .dst = SRC};
	static const int orders[3] = {0, 1, 2};

	pair_init(&pr);
	REQUIRE_EQ(vif_capture_start(pr.eb, cap_sink, &c, 0), 0);
	CHECK_EQ(ip_fragment(pr.fx.vi, pr.ea, mk_frag(pr.fx.w, &s), SRC, 1000),
		 0);
	world_run(pr.fx.w);
	REQUIRE_EQ(c.n, 5); /* 4 * 976 + 96 */
	check_tiling(&c, 4000);
	for (size_t o = 0; o < ARRAY_SIZE(orders); o++) {
		struct fx fx;
		struct pkt *out = NULL;

		fx_init(&fx);
		for (size_t k = 0; k < c.n; k++) {
			size_t i = orders[o] == 0   ? k
				   : orders[o] == 1 ? c.n - 1 - k
						    : (k * 2 + 1) % (c.n | 1);
			const struct ipv4_repr *r = &c.r[i];
			struct pkt *p =
			    pkt_alloc(fx.w, PKT_HEADROOM, r->total_len);
			struct pkt *res;

			REQUIRE(p != NULL);
			memcpy(pkt_put(p, r->hlen), c.hdr[i], r->hlen);
			for (uint32_t j = 0;
			     j < (uint32_t)r->total_len - r->hlen; j++)
				*pkt_put(p, 1) = pattern(80, r->frag_off + j);
			res = ip_reass(fx.vi, p, r);
			if (res) {
				CHECK(out == NULL);
				out = res;
			}
		}
		REQUIRE(out != NULL);
		CHECK_EQ(rd32(out->data + 12), DST);
		CHECK_EQ(rd16(out->data + 2), IPV4_HLEN + 4000);
		CHECK_EQ(rd16(out->data + 6) & (IPV4_FLAG_MF | IPV4_OFFMASK),
			 0);
		for (uint32_t j = 0; j < 4000; j++)
			if (out->data[IPV4_HLEN + j] != pattern(80, j)) {
				CHECK(!"payload differs");
				break;
			}
		pkt_free(fx.w, out);
		check_empty(&fx);
		fx_fini(&fx);
	}
	vif_capture_stop(pr.eb);
	pair_fini(&pr);
}
