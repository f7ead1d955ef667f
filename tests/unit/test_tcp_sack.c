/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Tests for src/netinet/tcp_sack.c: the receiver's out-of-order queue
 * (exact bytes after every insertion order, trimming, the SACK blocks it
 * reports, checked against a byte-map model) and the sender's scoreboard
 * (merging, IsLost, SetPipe and NextSeg against per-byte reference
 * implementations). Sequence numbers around 2^32 appear throughout.
 */
#include <stdlib.h>

#include "core/kern.h"
#include "harness/test.h"
#include "netinet/tcp_sack.h"
#include "vimage/vimage.h"

/* ---- receiver ----------------------------------------------------------- */

struct fx {
	struct world *w;
	uint64_t pkts0, pbufs0;
	struct tcp_reass q;
};

static void fx_init(struct fx *f)
{
	struct world_config cfg = {.seed = 1};

	REQUIRE_EQ(world_create(&cfg, &f->w), 0);
	f->pkts0 = f->w->pool.live_pkts;
	f->pbufs0 = f->w->pool.live_pbufs;
	tcp_reass_init(&f->q);
}

static void fx_check_leaks(struct fx *f)
{
	CHECK_EQ(f->w->pool.live_pkts, f->pkts0);
	CHECK_EQ(f->w->pool.live_pbufs, f->pbufs0);
}

static void fx_fini(struct fx *f)
{
	tcp_reass_purge(f->w, &f->q);
	CHECK_EQ(f->q.bytes, 0);
	CHECK_EQ(f->q.count, 0);
	CHECK(f->q.head == NULL && f->q.tail == NULL);
	fx_check_leaks(f);
	world_destroy(f->w);
}

/* The byte at sequence number seq of the one stream every test sends. */
static uint8_t pat(uint32_t seq)
{
	return (uint8_t)((seq * 0x9e3779b1u) >> 24);
}

static struct pkt *mkseg(struct world *w, uint32_t seq, uint32_t len)
{
	struct pkt *p = pkt_alloc(w, 64, len);
	uint8_t *d;

	REQUIRE(p != NULL);
	d = pkt_put(p, len);
	for (uint32_t i = 0; i < len; i++)
		d[i] = pat(seq + i);
	return p;
}

static uint32_t ins(struct fx *f, uint32_t seq, uint32_t len, uint32_t rcv_nxt)
{
	return tcp_reass_insert(f->w, &f->q, mkseg(f->w, seq, len), seq,
				rcv_nxt);
}

/* Sorted, disjoint, non-empty packets holding the right bytes; the
 * counters and the tail exact. */
static void check_queue(const struct tcp_reass *q)
{
	const struct pkt *p, *last = NULL;
	uint32_t bytes = 0, count = 0;

	for (p = q->head; p; p = p->next) {
		uint32_t s = (uint32_t)p->cb.u64[0];

		CHECK(p->len > 0);
		if (last)
			CHECK(
			    SEQ_LEQ((uint32_t)last->cb.u64[0] + last->len, s));
		for (uint32_t i = 0; i < p->len; i++) {
			if (p->data[i] != pat(s + i)) {
				CHECK(!"held byte differs");
				break;
			}
		}
		bytes += p->len;
		count++;
		last = p;
	}
	CHECK(q->tail == last);
	CHECK_EQ(q->bytes, bytes);
	CHECK_EQ(q->count, count);
}

/* Pop everything that starts at *rcv_nxt, checking each byte. */
static uint32_t drain(struct fx *f, uint32_t *rcv_nxt)
{
	struct pkt *p;
	uint32_t n = 0;

	while ((p = tcp_reass_pop(f->w, &f->q, *rcv_nxt))) {
		CHECK(p->len > 0);
		CHECK(p->next == NULL);
		for (uint32_t i = 0; i < p->len; i++) {
			if (p->data[i] != pat(*rcv_nxt + i)) {
				CHECK(!"popped byte differs");
				break;
			}
		}
		*rcv_nxt += p->len;
		n += p->len;
		pkt_free(f->w, p);
	}
	return n;
}

static void check_blocks(const struct tcp_sack_block *got, size_t ngot,
			 const struct tcp_sack_block *want, size_t nwant)
{
	CHECK_EQ(ngot, nwant);
	for (size_t i = 0; i < ngot && i < nwant; i++) {
		CHECK_EQ(got[i].start, want[i].start);
		CHECK_EQ(got[i].end, want[i].end);
	}
}

TEST(tcp_reass_in_order_pop)
{
	struct fx f;
	uint32_t rcv = 5000;

	fx_init(&f);
	CHECK(tcp_reass_pop(f.w, &f.q, rcv) == NULL);
	CHECK_EQ(ins(&f, rcv, 100, rcv), 100);
	CHECK_EQ(drain(&f, &rcv), 100);
	CHECK_EQ(rcv, 5100);
	/* Out of order, then the hole. */
	CHECK_EQ(ins(&f, 5200, 100, rcv), 100);
	CHECK_EQ(ins(&f, 5300, 50, rcv), 50);
	CHECK(tcp_reass_pop(f.w, &f.q, rcv) == NULL);
	CHECK_EQ(ins(&f, 5100, 100, rcv), 100);
	check_queue(&f.q);
	CHECK_EQ(f.q.count, 3);
	CHECK_EQ(drain(&f, &rcv), 250);
	CHECK_EQ(rcv, 5350);
	CHECK(f.q.head == NULL && f.q.tail == NULL);
	CHECK_EQ(f.q.bytes, 0);
	CHECK_EQ(f.q.nrecent, 0); /* no stale SACK history */
	fx_fini(&f);
}

TEST(tcp_reass_old_and_empty_segments_freed)
{
	struct fx f;
	struct tcp_sack_block b[TCP_MAX_SACK];

	fx_init(&f);
	CHECK_EQ(ins(&f, 900, 100, 1000), 0);  /* ends at rcv_nxt */
	CHECK_EQ(ins(&f, 1200, 0, 1000), 0);   /* no payload */
	CHECK_EQ(ins(&f, 950, 100, 1000), 50); /* front below rcv_nxt */
	check_queue(&f.q);
	CHECK_EQ((uint32_t)f.q.head->cb.u64[0], 1000);
	CHECK_EQ(f.q.count, 1);
	/* Nothing above rcv_nxt to report: the held range starts at it. */
	CHECK_EQ(tcp_reass_sack(&f.q, 1000, b, TCP_MAX_SACK), 0);
	fx_fini(&f);
}

TEST(tcp_reass_trims_against_held_data)
{
	struct fx f;
	uint32_t rcv = 0;

	fx_init(&f);
	CHECK_EQ(ins(&f, 100, 100, rcv), 100); /* [100,200) */
	CHECK_EQ(ins(&f, 300, 100, rcv), 100); /* [300,400) */
	CHECK_EQ(ins(&f, 150, 100, rcv), 50);  /* front overlaps prev */
	CHECK_EQ(ins(&f, 250, 100, rcv), 50);  /* tail overlaps next */
	CHECK_EQ(ins(&f, 120, 200, rcv), 0);   /* covered by held data */
	CHECK_EQ(ins(&f, 200, 100, rcv), 0);   /* exactly between two */
	check_queue(&f.q);
	CHECK_EQ(f.q.bytes, 300);
	/* A superset replaces the segments it covers: [90, 420). */
	CHECK_EQ(ins(&f, 90, 330, rcv), 30);
	check_queue(&f.q);
	CHECK_EQ(f.q.count, 1);
	CHECK_EQ(f.q.bytes, 330);
	/* A segment spanning an inner held one and more on both sides. */
	CHECK_EQ(ins(&f, 600, 10, rcv), 10);
	CHECK_EQ(ins(&f, 500, 200, rcv), 190);
	check_queue(&f.q);
	CHECK_EQ(f.q.count, 2);
	CHECK_EQ(f.q.bytes, 530);
	CHECK_EQ(ins(&f, 0, 90, rcv), 90);
	CHECK_EQ(drain(&f, &rcv), 420);
	CHECK_EQ(ins(&f, 420, 80, rcv), 80);
	CHECK_EQ(drain(&f, &rcv), 280);
	CHECK_EQ(rcv, 700);
	fx_fini(&f);
}

TEST(tcp_reass_pop_trims_below_rcv_nxt)
{
	struct fx f;
	struct pkt *p;

	fx_init(&f);
	CHECK_EQ(ins(&f, 100, 100, 0), 100);
	CHECK_EQ(ins(&f, 200, 100, 0), 100);
	CHECK_EQ(ins(&f, 400, 100, 0), 100);
	/* The caller took [0, 150) from elsewhere. */
	p = tcp_reass_pop(f.w, &f.q, 150);
	REQUIRE(p != NULL);
	CHECK_EQ(p->len, 50);
	CHECK_EQ(p->data[0], pat(150));
	pkt_free(f.w, p);
	CHECK_EQ(f.q.bytes, 200);
	/* ... and then [150, 450): the next held segment is dropped whole. */
	p = tcp_reass_pop(f.w, &f.q, 450);
	REQUIRE(p != NULL);
	CHECK_EQ(p->len, 50);
	CHECK_EQ(p->data[0], pat(450));
	pkt_free(f.w, p);
	check_queue(&f.q);
	CHECK(f.q.head == NULL);
	/* Everything held lies below rcv_nxt: all freed, history too. */
	CHECK_EQ(ins(&f, 600, 100, 500), 100);
	CHECK(tcp_reass_pop(f.w, &f.q, 800) == NULL);
	check_queue(&f.q);
	CHECK(f.q.head == NULL);
	CHECK_EQ(f.q.nrecent, 0);
	fx_check_leaks(&f);
	fx_fini(&f);
}

struct seg {
	int32_t off;
	uint32_t len;
};

#define PERM_N	   5
#define PERM_TOTAL 500

/* Each set covers [0, 500) from rcv_nxt (some bytes lie below it). */
static const struct seg perm_sets[][PERM_N] = {
    {{0, 100}, {100, 100}, {200, 100}, {300, 100}, {400, 100}},
    {{0, 150}, {100, 150}, {200, 150}, {300, 100}, {350, 150}},
    {{100, 100}, {300, 50}, {0, 500}, {100, 100}, {250, 200}},
    {{-50, 120}, {70, 30}, {60, 200}, {250, 250}, {100, 20}},
    {{1, 499}, {0, 1}, {0, 500}, {200, 1}, {499, 1}},
    {{10, 480}, {0, 20}, {480, 20}, {5, 10}, {400, 50}},
};

static bool next_perm(int *a, int n)
{
	int i = n - 2, j = n - 1, t;

	while (i >= 0 && a[i] >= a[i + 1])
		i--;
	if (i < 0)
		return false;
	while (a[j] <= a[i])
		j--;
	t = a[i], a[i] = a[j], a[j] = t;
	for (i++, j = n - 1; i < j; i++, j--)
		t = a[i], a[i] = a[j], a[j] = t;
	return true;
}

TEST(tcp_reass_every_order_reassembles)
{
	static const uint32_t bases[] = {1000, 0xffffff00u, 0xfffffe10u};
	struct fx f;

	fx_init(&f);
	for (size_t s = 0; s < ARRAY_SIZE(perm_sets); s++) {
		for (size_t b = 0; b < ARRAY_SIZE(bases); b++) {
			for (int mode = 0; mode < 2; mode++) {
				int idx[PERM_N] = {0, 1, 2, 3, 4};

				do {
					uint32_t rcv = bases[b], added = 0;

					for (int k = 0; k < PERM_N; k++) {
						const struct seg *g =
						    &perm_sets[s][idx[k]];

						added += ins(
						    &f,
						    bases[b] + (uint32_t)g->off,
						    g->len, rcv);
						check_queue(&f.q);
						if (mode == 0)
							drain(&f, &rcv);
					}
					drain(&f, &rcv);
					CHECK_EQ(rcv - bases[b], PERM_TOTAL);
					CHECK_EQ(added, PERM_TOTAL);
					CHECK(f.q.head == NULL);
					CHECK_EQ(f.q.bytes, 0);
					fx_check_leaks(&f);
				} while (next_perm(idx, PERM_N));
			}
		}
	}
	fx_fini(&f);
}

TEST(tcp_reass_sack_order)
{
	struct fx f;
	struct tcp_sack_block b[TCP_MAX_SACK];
	const uint32_t R = 0xfffffc00u; /* the blocks straddle 2^32 */
	uint32_t rcv = R;
	size_t n;

#define BLK(s, e) {R + (s), R + (e)}
	fx_init(&f);
	ins(&f, R + 100, 100, rcv);
	n = tcp_reass_sack(&f.q, rcv, b, TCP_MAX_SACK);
	check_blocks(b, n, (struct tcp_sack_block[]){BLK(100, 200)}, 1);
	ins(&f, R + 300, 100, rcv);
	n = tcp_reass_sack(&f.q, rcv, b, TCP_MAX_SACK);
	check_blocks(
	    b, n, (struct tcp_sack_block[]){BLK(300, 400), BLK(100, 200)}, 2);
	ins(&f, R + 500, 100, rcv);
	ins(&f, R + 700, 100, rcv); /* two inserts before one ACK */
	n = tcp_reass_sack(&f.q, rcv, b, TCP_MAX_SACK);
	check_blocks(b, n,
		     (struct tcp_sack_block[]){BLK(700, 800), BLK(500, 600),
					       BLK(300, 400), BLK(100, 200)},
		     4);
	ins(&f, R + 900, 100, rcv);
	n = tcp_reass_sack(&f.q, rcv, b, TCP_MAX_SACK);
	check_blocks(b, n,
		     (struct tcp_sack_block[]){BLK(900, 1000), BLK(700, 800),
					       BLK(500, 600), BLK(300, 400)},
		     4);
	/* Growing an old range makes it first; the oldest report goes. */
	ins(&f, R + 200, 50, rcv);
	n = tcp_reass_sack(&f.q, rcv, b, TCP_MAX_SACK);
	check_blocks(b, n,
		     (struct tcp_sack_block[]){BLK(100, 250), BLK(900, 1000),
					       BLK(700, 800), BLK(500, 600)},
		     4);
	/* In order behind a reported block: reported as the grown range,
	 * once, and the other reported blocks stay. */
	ins(&f, R + 1000, 100, rcv);
	n = tcp_reass_sack(&f.q, rcv, b, TCP_MAX_SACK);
	check_blocks(b, n,
		     (struct tcp_sack_block[]){BLK(900, 1100), BLK(100, 250),
					       BLK(700, 800), BLK(500, 600)},
		     4);
	/* Asking again reports the same. */
	n = tcp_reass_sack(&f.q, rcv, b, TCP_MAX_SACK);
	check_blocks(b, n,
		     (struct tcp_sack_block[]){BLK(900, 1100), BLK(100, 250),
					       BLK(700, 800), BLK(500, 600)},
		     4);
	/* Room for 3 (timestamps); then 4 again fills lowest first. */
	n = tcp_reass_sack(&f.q, rcv, b, 3);
	check_blocks(b, n,
		     (struct tcp_sack_block[]){BLK(900, 1100), BLK(100, 250),
					       BLK(700, 800)},
		     3);
	n = tcp_reass_sack(&f.q, rcv, b, TCP_MAX_SACK);
	check_blocks(b, n,
		     (struct tcp_sack_block[]){BLK(900, 1100), BLK(100, 250),
					       BLK(700, 800), BLK(300, 400)},
		     4);
	ins(&f, R + 1200, 100, rcv);
	ins(&f, R + 1400, 100, rcv);
	n = tcp_reass_sack(&f.q, rcv, b, TCP_MAX_SACK);
	check_blocks(b, n,
		     (struct tcp_sack_block[]){BLK(1400, 1500), BLK(1200, 1300),
					       BLK(900, 1100), BLK(100, 250)},
		     4);
	/* Filling a hole joins two ranges. */
	ins(&f, R + 250, 50, rcv);
	n = tcp_reass_sack(&f.q, rcv, b, TCP_MAX_SACK);
	check_blocks(b, n,
		     (struct tcp_sack_block[]){BLK(100, 400), BLK(1400, 1500),
					       BLK(1200, 1300), BLK(900, 1100)},
		     4);
	/* The range at rcv_nxt is acknowledged, never SACKed. */
	ins(&f, R, 100, rcv);
	n = tcp_reass_sack(&f.q, rcv, b, TCP_MAX_SACK);
	check_blocks(b, n,
		     (struct tcp_sack_block[]){BLK(1400, 1500), BLK(1200, 1300),
					       BLK(900, 1100), BLK(500, 600)},
		     4);
	CHECK_EQ(drain(&f, &rcv), 400);
	n = tcp_reass_sack(&f.q, rcv, b, TCP_MAX_SACK);
	check_blocks(b, n,
		     (struct tcp_sack_block[]){BLK(1400, 1500), BLK(1200, 1300),
					       BLK(900, 1100), BLK(500, 600)},
		     4);
	CHECK_EQ(tcp_reass_sack(&f.q, rcv, b, 0), 0);
	check_queue(&f.q);
	fx_fini(&f);
#undef BLK
}

/* Two remembered blocks that a later segment joined into one range: the
 * range is reported once. */
TEST(tcp_reass_sack_reports_a_range_once)
{
	struct fx f;
	struct tcp_sack_block b[TCP_MAX_SACK];
	size_t n;

	fx_init(&f);
	ins(&f, 100, 100, 0);
	CHECK_EQ(tcp_reass_sack(&f.q, 0, b, TCP_MAX_SACK), 1);
	for (uint32_t i = 0; i < 4; i++) /* [100, 200) leaves the history */
		ins(&f, 1000 + i * 100, 10, 0);
	n = tcp_reass_sack(&f.q, 0, b, TCP_MAX_SACK);
	check_blocks(
	    b, n,
	    (struct tcp_sack_block[]){
		{1300, 1310}, {1200, 1210}, {1100, 1110}, {1000, 1010}},
	    4);
	CHECK_EQ(ins(&f, 150, 10, 0), 0); /* a duplicate inside it */
	CHECK_EQ(ins(&f, 200, 100, 0), 100);
	n = tcp_reass_sack(&f.q, 0, b, TCP_MAX_SACK);
	check_blocks(b, n,
		     (struct tcp_sack_block[]){
			 {100, 300}, {1300, 1310}, {1200, 1210}, {1000, 1010}},
		     4);
	check_queue(&f.q);
	fx_fini(&f);
}

TEST(tcp_reass_wraparound)
{
	struct fx f;
	struct tcp_sack_block b[TCP_MAX_SACK];
	uint32_t rcv = 0xffffff80u;

	fx_init(&f);
	/* [2^32+0x40, 2^32+0xc0) arrives first, then one crossing 0. */
	CHECK_EQ(ins(&f, 0x40, 0x80, rcv), 0x80);
	CHECK_EQ(ins(&f, 0xffffffc0u, 0x100, rcv), 0x40 + 0x40);
	check_queue(&f.q);
	CHECK_EQ(tcp_reass_sack(&f.q, rcv, b, TCP_MAX_SACK), 1);
	CHECK_EQ(b[0].start, 0xffffffc0u);
	CHECK_EQ(b[0].end, 0xc0);
	CHECK(tcp_reass_pop(f.w, &f.q, rcv) == NULL);
	/* Below the held block, partly below rcv_nxt. */
	CHECK_EQ(ins(&f, 0xffffff00u, 0xd0, rcv), 0x40);
	check_queue(&f.q);
	CHECK_EQ(drain(&f, &rcv), 0x140);
	CHECK_EQ(rcv, 0xc0);
	CHECK(f.q.head == NULL);
	fx_fini(&f);
}

TEST(tcp_reass_purge_frees_everything)
{
	struct fx f;
	struct tcp_sack_block b[TCP_MAX_SACK];
	struct pkt *p, *c;

	fx_init(&f);
	for (uint32_t i = 0; i < 200; i++)
		ins(&f, 1000 + i * 300, 200 + (i % 3) * 50, 0);
	/* A clone shares a buffer: freed as a packet, not as a buffer. */
	p = mkseg(f.w, 100000, 500);
	c = pkt_clone(f.w, p);
	REQUIRE(c != NULL);
	tcp_reass_insert(f.w, &f.q, c, 100000, 0);
	pkt_free(f.w, p);
	check_queue(&f.q);
	CHECK(f.q.count > 0);
	tcp_reass_purge(f.w, &f.q);
	CHECK(f.q.head == NULL && f.q.tail == NULL);
	CHECK_EQ(f.q.count, 0);
	CHECK_EQ(f.q.bytes, 0);
	CHECK_EQ(f.q.nrecent, 0);
	CHECK_EQ(tcp_reass_sack(&f.q, 0, b, TCP_MAX_SACK), 0);
	fx_check_leaks(&f);
	fx_fini(&f);
}

/*
 * Random segments against a byte map. The model says which stream bytes
 * are held; after each insertion the return value, the counters, every
 * held byte and the SACK blocks are checked, then everything poppable is
 * popped. Blocks must be maximal held ranges above rcv_nxt, distinct, as
 * many as fit; the first holds the segment just inserted, followed by the
 * blocks reported last (RFC 2018 4), as far as the history keeps them.
 */
#define RM_T	 24000u /* stream bytes per round */
#define RM_AHEAD 3000u	/* how far above rcv_nxt segments start */
#define RM_ITERS 5000

struct model {
	uint8_t held[RM_T];
	uint32_t rcv; /* stream offset of rcv_nxt */
};

/* The reportable held run containing offset o. */
static bool model_run(const struct model *m, uint32_t o, uint32_t *s,
		      uint32_t *e)
{
	uint32_t a = o, z = o;

	if (o >= RM_T || o < m->rcv || !m->held[o])
		return false;
	while (a > m->rcv && m->held[a - 1])
		a--;
	while (z < RM_T && m->held[z])
		z++;
	*s = a;
	*e = z;
	return a > m->rcv;
}

/* The reportable run still holding the un-popped part of [s, e). */
static bool model_block_run(const struct model *m, uint32_t s, uint32_t e,
			    uint32_t *rs, uint32_t *re)
{
	uint32_t p = s > m->rcv ? s : m->rcv;

	return p < e && model_run(m, p, rs, re);
}

static size_t model_nruns(const struct model *m)
{
	size_t n = 0;

	for (uint32_t o = m->rcv + 1; o < RM_T; o++)
		n += m->held[o] && !m->held[o - 1];
	return n;
}

TEST(tcp_reass_random_against_model)
{
	struct fx f;
	struct rng r;
	struct model *m = calloc(1, sizeof(*m));
	struct tcp_sack_block prev[TCP_MAX_SACK], out[TCP_MAX_SACK];
	size_t nprev = 0;
	uint32_t base = 0xffffffffu - 9000u, rounds = 0;

	REQUIRE(m != NULL);
	fx_init(&f);
	rng_seed(&r, 0x5ac4);
	for (int it = 0; it < RM_ITERS; it++) {
		int64_t off = (int64_t)m->rcv +
			      (int64_t)rng_below(&r, RM_AHEAD + 300) - 300;
		uint32_t len = 1 + (uint32_t)rng_below(&r, 700), lo, fresh = 0;
		uint32_t rcv_nxt = base + m->rcv, got, want[TCP_MAX_SACK][2];
		size_t max = rng_below(&r, 4) ? TCP_MAX_SACK : 3, n, nw = 0;
		bool anchored;

		if (off < 0)
			off = 0;
		if (off >= RM_T)
			continue;
		if (off + len > RM_T)
			len = RM_T - (uint32_t)off;
		if (len == 0)
			continue;
		lo = (uint32_t)off > m->rcv ? (uint32_t)off : m->rcv;
		for (uint32_t o = lo; o < (uint32_t)off + len; o++) {
			fresh += !m->held[o];
			m->held[o] = 1;
		}
		got = ins(&f, base + (uint32_t)off, len, rcv_nxt);
		CHECK_EQ(got, fresh);
		check_queue(&f.q);
		{
			uint32_t held = 0;

			for (uint32_t o = m->rcv; o < RM_T; o++)
				held += m->held[o];
			CHECK_EQ(f.q.bytes, held);
		}

		/* The expected head of the option. */
		anchored = (uint32_t)off + len > m->rcv;
		if (anchored) {
			uint32_t s, e;

			if (model_run(m, lo, &s, &e))
				want[nw][0] = s, want[nw][1] = e, nw++;
		}
		for (size_t i = 0; i < nprev && i < (anchored ? 3u : 4u); i++) {
			uint32_t s, e;
			bool dup = false;

			if (!model_block_run(m, prev[i].start - base,
					     prev[i].end - base, &s, &e))
				continue;
			for (size_t j = 0; j < nw; j++)
				dup |= want[j][0] == s;
			if (!dup)
				want[nw][0] = s, want[nw][1] = e, nw++;
		}

		n = tcp_reass_sack(&f.q, rcv_nxt, out, max);
		CHECK_EQ(n, model_nruns(m) < max ? model_nruns(m) : max);
		for (size_t i = 0; i < n; i++) {
			uint32_t s = out[i].start - base, e = out[i].end - base;
			uint32_t rs = 0, re = 0;

			CHECK(model_run(m, s, &rs, &re));
			CHECK_EQ(rs, s);
			CHECK_EQ(re, e);
			for (size_t j = 0; j < i; j++)
				CHECK(out[j].start != out[i].start);
			if (i < nw) {
				CHECK_EQ(s, want[i][0]);
				CHECK_EQ(e, want[i][1]);
			}
		}
		memcpy(prev, out, n * sizeof(*out));
		nprev = n;

		{
			uint32_t rcv = rcv_nxt, popped = drain(&f, &rcv);

			for (uint32_t o = m->rcv; o < m->rcv + popped; o++)
				CHECK(m->held[o]);
			m->rcv += popped;
			CHECK(m->rcv == RM_T || !m->held[m->rcv]);
		}
		if (m->rcv == RM_T) { /* next round, another base */
			CHECK(f.q.head == NULL);
			fx_check_leaks(&f);
			memset(m, 0, sizeof(*m));
			base = (uint32_t)rng_next(&r);
			nprev = 0;
			rounds++;
		}
	}
	CHECK(rounds >= 2);
	free(m);
	fx_fini(&f);
}

/* ---- sender ----------------------------------------------------------------
 */

static int64_t upd1(struct tcp_sb *sb, uint32_t una, uint32_t max, uint32_t s,
		    uint32_t e)
{
	struct tcp_sack_block b = {s, e};

	return tcp_sb_update(sb, una, max, &b, 1);
}

static void check_ranges(const struct tcp_sb *sb,
			 const struct tcp_sack_block *want, uint32_t n)
{
	uint32_t sum = 0;

	CHECK_EQ(sb->n, n);
	for (uint32_t i = 0; i < sb->n && i < n; i++) {
		CHECK_EQ(sb->r[i].start, want[i].start);
		CHECK_EQ(sb->r[i].end, want[i].end);
	}
	for (uint32_t i = 0; i < sb->n; i++)
		sum += sb->r[i].end - sb->r[i].start;
	CHECK_EQ(sb->sacked, sum);
}

TEST(tcp_sb_update_merges)
{
	struct tcp_sb sb;
	struct tcp_sack_block three[] = {
	    {7000, 7100}, {6500, 6600}, {7100, 7200}};

	tcp_sb_init(&sb);
	CHECK_EQ(upd1(&sb, 1000, 10000, 2000, 3000), 1000);
	CHECK_EQ(upd1(&sb, 1000, 10000, 4000, 5000), 1000);
	check_ranges(&sb, (struct tcp_sack_block[]){{2000, 3000}, {4000, 5000}},
		     2);
	CHECK_EQ(upd1(&sb, 1000, 10000, 3000, 3500), 500); /* adjacent */
	check_ranges(&sb, (struct tcp_sack_block[]){{2000, 3500}, {4000, 5000}},
		     2);
	CHECK_EQ(upd1(&sb, 1000, 10000, 3400, 4100), 500); /* joins two */
	check_ranges(&sb, (struct tcp_sack_block[]){{2000, 5000}}, 1);
	CHECK_EQ(upd1(&sb, 1000, 10000, 1500, 6000), 1500); /* superset */
	CHECK_EQ(upd1(&sb, 1000, 10000, 2000, 3000), 0);    /* duplicate */
	check_ranges(&sb, (struct tcp_sack_block[]){{1500, 6000}}, 1);
	CHECK_EQ(tcp_sb_update(&sb, 1000, 10000, three, 3), 300);
	check_ranges(
	    &sb,
	    (struct tcp_sack_block[]){{1500, 6000}, {6500, 6600}, {7000, 7200}},
	    3);
	CHECK(tcp_sb_is_sacked(&sb, 1500, 4500));
	CHECK(tcp_sb_is_sacked(&sb, 7000, 200));
	CHECK(tcp_sb_is_sacked(&sb, 6599, 1));
	CHECK(!tcp_sb_is_sacked(&sb, 6599, 2));
	CHECK(!tcp_sb_is_sacked(&sb, 1499, 2));
	CHECK(!tcp_sb_is_sacked(&sb, 6000, 1));
	CHECK(!tcp_sb_is_sacked(&sb, 8000, 1));
	tcp_sb_free(&sb);
	CHECK(sb.r == NULL);
	CHECK_EQ(sb.n, 0);
}

TEST(tcp_sb_update_ignores_out_of_window)
{
	struct tcp_sb sb;
	struct tcp_sack_block bad[] = {
	    {1000, 1500},  /* starts at snd_una */
	    {500, 1500},   /* below snd_una: D-SACK */
	    {600, 900},	   /* entirely below */
	    {9000, 10001}, /* beyond snd_max */
	    {3000, 3000},  /* empty */
	    {4000, 3000},  /* reversed */
	};

	tcp_sb_init(&sb);
	CHECK_EQ(tcp_sb_update(&sb, 1000, 10000, bad, ARRAY_SIZE(bad)), 0);
	CHECK_EQ(sb.n, 0);
	CHECK(sb.r == NULL); /* no memory until a real SACK */
	CHECK_EQ(upd1(&sb, 1000, 10000, 9000, 10000), 1000);
	CHECK_EQ(sb.n, 1);
	tcp_sb_free(&sb);
}

TEST(tcp_sb_ack_trims)
{
	struct tcp_sb sb;
	struct tcp_sack_block b[] = {{2000, 3000}, {4000, 5000}, {6000, 7000}};

	tcp_sb_init(&sb);
	CHECK_EQ(tcp_sb_update(&sb, 1000, 10000, b, 3), 3000);
	tcp_sb_ack(&sb, 1500);
	check_ranges(&sb, b, 3);
	tcp_sb_ack(&sb, 2500);
	check_ranges(
	    &sb,
	    (struct tcp_sack_block[]){{2500, 3000}, {4000, 5000}, {6000, 7000}},
	    3);
	tcp_sb_ack(&sb, 5000);
	check_ranges(&sb, (struct tcp_sack_block[]){{6000, 7000}}, 1);
	tcp_sb_ack(&sb, 8000);
	check_ranges(&sb, NULL, 0);
	CHECK_EQ(upd1(&sb, 8000, 10000, 9000, 9100), 100);
	tcp_sb_clear(&sb);
	check_ranges(&sb, NULL, 0);
	tcp_sb_free(&sb);
}

TEST(tcp_sb_is_lost_segments_vs_bytes)
{
	struct tcp_sb sb;
	struct tcp_sack_block small[] = {
	    {1100, 1200}, {1300, 1400}, {1500, 1600}};

	tcp_sb_init(&sb);
	/* Three small SACKed segments above: lost by count. */
	CHECK_EQ(tcp_sb_update(&sb, 0, 10000, small, 3), 300);
	CHECK(tcp_sb_is_lost(&sb, 1000, 1000, 3));
	CHECK(tcp_sb_is_lost(&sb, 1050, 1000, 3));
	CHECK(!tcp_sb_is_lost(&sb, 1250, 1000, 3)); /* two above, 200 bytes */
	CHECK(!tcp_sb_is_lost(&sb, 1600, 1000, 3));
	CHECK(tcp_sb_is_lost(&sb, 1250, 1000, 2)); /* DupThresh 2 */
	tcp_sb_clear(&sb);
	/* One range: lost only past (DupThresh - 1) * SMSS bytes. */
	CHECK_EQ(upd1(&sb, 0, 10000, 2000, 4000), 2000);
	CHECK(!tcp_sb_is_lost(&sb, 1000, 1000, 3));
	CHECK_EQ(upd1(&sb, 0, 10000, 4000, 4001), 1);
	CHECK(tcp_sb_is_lost(&sb, 1000, 1000, 3));
	CHECK(tcp_sb_is_lost(&sb, 1999, 1000, 3));
	CHECK(!tcp_sb_is_lost(&sb, 2000, 1000, 3)); /* 2000 bytes above it */
	tcp_sb_free(&sb);
}

TEST(tcp_sb_growth_cap)
{
	struct tcp_sb sb;
	uint32_t i;

	tcp_sb_init(&sb);
	for (i = 0; i < 300; i++) {
		int64_t got = upd1(&sb, 0, 1000000, 10 + i * 10, 15 + i * 10);

		CHECK_EQ(got, i < 256 ? 5 : 0);
	}
	CHECK_EQ(sb.n, 256);
	CHECK_EQ(sb.cap, 256);
	CHECK_EQ(sb.sacked, 256 * 5);
	/* The known ranges are kept; the new ones were dropped. */
	CHECK_EQ(sb.r[0].start, 10);
	CHECK_EQ(sb.r[255].end, 15 + 255 * 10);
	CHECK(!tcp_sb_is_sacked(&sb, 10 + 256 * 10, 5));
	/* Extending a known range still works at the cap. */
	CHECK_EQ(upd1(&sb, 0, 1000000, 15, 17), 2);
	CHECK_EQ(sb.n, 256);
	/* Joining two makes room for one new range. */
	CHECK_EQ(upd1(&sb, 0, 1000000, 17, 20), 3);
	CHECK_EQ(sb.n, 255);
	CHECK_EQ(upd1(&sb, 0, 1000000, 900000, 900100), 100);
	CHECK_EQ(sb.n, 256);
	CHECK_EQ(upd1(&sb, 0, 1000000, 800000, 800100), 0);
	CHECK_EQ(sb.sacked, 256 * 5 + 5 + 100);
	tcp_sb_ack(&sb, 1000000);
	CHECK_EQ(sb.n, 0);
	CHECK_EQ(sb.sacked, 0);
	tcp_sb_free(&sb);
}

TEST(tcp_sb_wraparound)
{
	struct tcp_sb sb;
	const uint32_t una = 0xfffff000u, max = una + 0x3000; /* 0x2000 */
	uint32_t seq, len;
	bool rxt;

	tcp_sb_init(&sb);
	CHECK_EQ(upd1(&sb, una, max, una + 0x800, una + 0x1800), 0x1000);
	CHECK_EQ(upd1(&sb, una, max, una + 0x2000, una + 0x2400), 0x400);
	CHECK_EQ(upd1(&sb, una, max, una + 0x1800, una + 0x1900), 0x100);
	check_ranges(
	    &sb,
	    (struct tcp_sack_block[]){{0xfffff800u, 0x900}, {0x1000, 0x1400}},
	    2);
	CHECK(tcp_sb_is_sacked(&sb, 0xfffffff0u, 0x20));
	CHECK(!tcp_sb_is_sacked(&sb, 0x8f0, 0x20));
	/* 0x1500 SACKed bytes above the first hole > 2 * 0x500. */
	CHECK(tcp_sb_is_lost(&sb, una, 0x500, 3));
	CHECK(!tcp_sb_is_lost(&sb, 0x900, 0x500, 3));
	sb.high_rxt = una;
	CHECK(tcp_sb_next_seg(&sb, una, max, 0, max + 0x10000, 0x500, 3, &seq,
			      &len, &rxt));
	CHECK_EQ(seq, una);
	CHECK_EQ(len, 0x500);
	CHECK(rxt);
	/* Pipe: lost hole [una, una+0x800) not counted; [0x900, 0x1000)
	 * and [0x1400, 0x2000) are. */
	CHECK_EQ(tcp_sb_pipe(&sb, una, max, 0x500, 3), 0x700 + 0xc00);
	tcp_sb_ack(&sb, 0x100);
	check_ranges(
	    &sb, (struct tcp_sack_block[]){{0x100, 0x900}, {0x1000, 0x1400}},
	    2);
	CHECK_EQ(sb.high_rxt, 0x100);
	tcp_sb_free(&sb);
}

/* RFC 6675 4, NextSeg, one constructed case per rule. */
TEST(tcp_sb_next_seg_rules)
{
	struct tcp_sb sb;
	struct tcp_sack_block b[] = {
	    {1000, 2000}, {3000, 4000}, {5000, 6000}, {7000, 8000}};
	uint32_t seq = 0, len = 0;
	bool rxt = false;

	tcp_sb_init(&sb);
	/* Holes [0,1000) [2000,3000) [4000,5000) [6000,7000) [8000,10000);
	 * with SMSS 1000 and DupThresh 3 the first two are lost. */
	CHECK_EQ(tcp_sb_update(&sb, 0, 10000, b, 4), 4000);
	sb.high_rxt = 0;
	/* Rule 1: the first lost hole, even when new data could go. */
	CHECK(tcp_sb_next_seg(&sb, 0, 10000, 5000, 20000, 1000, 3, &seq, &len,
			      &rxt));
	CHECK_EQ(seq, 0);
	CHECK_EQ(len, 1000);
	CHECK(rxt);
	/* A smaller SMSS: one segment of it. */
	CHECK(tcp_sb_next_seg(&sb, 0, 10000, 5000, 20000, 600, 3, &seq, &len,
			      &rxt));
	CHECK_EQ(seq, 0);
	CHECK_EQ(len, 600);
	sb.high_rxt = 600;
	CHECK(tcp_sb_next_seg(&sb, 0, 10000, 5000, 20000, 600, 3, &seq, &len,
			      &rxt));
	CHECK_EQ(seq, 600);
	CHECK_EQ(len, 400); /* stops at the SACKed range */
	sb.high_rxt = 1000;
	CHECK(tcp_sb_next_seg(&sb, 0, 10000, 5000, 20000, 1000, 3, &seq, &len,
			      &rxt));
	CHECK_EQ(seq, 2000);
	CHECK_EQ(len, 1000);
	CHECK(rxt);
	/* Rule 2: no more lost holes above HighRxt: new data. */
	sb.high_rxt = 3000;
	CHECK(tcp_sb_next_seg(&sb, 0, 10000, 5000, 20000, 1000, 3, &seq, &len,
			      &rxt));
	CHECK_EQ(seq, 10000);
	CHECK_EQ(len, 1000);
	CHECK(!rxt);
	/* ... limited by what is unsent and by the peer's window. */
	CHECK(tcp_sb_next_seg(&sb, 0, 10000, 300, 20000, 1000, 3, &seq, &len,
			      &rxt));
	CHECK_EQ(len, 300);
	CHECK(tcp_sb_next_seg(&sb, 0, 10000, 5000, 10200, 1000, 3, &seq, &len,
			      &rxt));
	CHECK_EQ(len, 200);
	/* Rule 3: no new data (or no window): a hole not yet lost, above
	 * HighRxt and below the highest SACK. */
	CHECK(tcp_sb_next_seg(&sb, 0, 10000, 0, 20000, 1000, 3, &seq, &len,
			      &rxt));
	CHECK_EQ(seq, 4000);
	CHECK_EQ(len, 1000);
	CHECK(rxt);
	CHECK(tcp_sb_next_seg(&sb, 0, 10000, 5000, 10000, 1000, 3, &seq, &len,
			      &rxt));
	CHECK_EQ(seq, 4000);
	/* Rule 4: every hole below the highest SACK retransmitted; the tail
	 * [8000, 10000) is neither lost nor eligible for rule 3. */
	sb.high_rxt = 7000;
	CHECK(!sb.rescue_valid);
	CHECK(tcp_sb_next_seg(&sb, 0, 10000, 0, 20000, 1000, 3, &seq, &len,
			      &rxt));
	CHECK_EQ(seq, 9000);
	CHECK_EQ(len, 1000);
	CHECK(rxt);
	CHECK(sb.rescue_valid);
	CHECK_EQ(sb.high_rxt, 7000); /* RFC 6675: rule 4 leaves HighRxt */
	/* Only one rescue per recovery. */
	CHECK(!tcp_sb_next_seg(&sb, 0, 10000, 0, 20000, 1000, 3, &seq, &len,
			       &rxt));
	CHECK(!tcp_sb_next_seg(&sb, 500, 10000, 0, 20000, 1000, 3, &seq, &len,
			       &rxt));
	tcp_sb_free(&sb);
}

TEST(tcp_sb_next_seg_rescue_below_top)
{
	struct tcp_sb sb;
	struct tcp_sack_block b[] = {{1000, 2000}, {2500, 3000}};
	uint32_t seq = 0, len = 0;
	bool rxt = false;

	tcp_sb_init(&sb);
	CHECK_EQ(tcp_sb_update(&sb, 0, 3000, b, 2), 1500);
	/* Everything un-SACKed is retransmitted already; the highest
	 * un-SACKed byte is 2499: the rescue ends there. */
	sb.high_rxt = 2500;
	CHECK(tcp_sb_next_seg(&sb, 0, 3000, 0, 5000, 300, 3, &seq, &len, &rxt));
	CHECK_EQ(seq, 2200);
	CHECK_EQ(len, 300);
	/* A rescue from an earlier recovery does not stop this one once
	 * snd_una passed it. */
	sb.rescue_rxt = 0;
	sb.rescue_valid = true;
	CHECK(
	    !tcp_sb_next_seg(&sb, 0, 3000, 0, 5000, 300, 3, &seq, &len, &rxt));
	tcp_sb_ack(&sb, 100);
	CHECK(tcp_sb_next_seg(&sb, 100, 3000, 0, 5000, 1000, 3, &seq, &len,
			      &rxt));
	CHECK_EQ(seq, 2000);
	CHECK_EQ(len, 500);
	/* All of it SACKed but the start: nothing to send. */
	tcp_sb_clear(&sb);
	CHECK_EQ(upd1(&sb, 0, 3000, 1, 3000), 2999);
	sb.high_rxt = 1;
	/* All SACKed but the first byte, already retransmitted: that byte
	 * is the rescue. */
	CHECK(
	    tcp_sb_next_seg(&sb, 0, 3000, 0, 3000, 1000, 3, &seq, &len, &rxt));
	CHECK_EQ(seq, 0);
	CHECK_EQ(len, 1);
	CHECK(
	    !tcp_sb_next_seg(&sb, 0, 3000, 0, 3000, 1000, 3, &seq, &len, &rxt));
	tcp_sb_free(&sb);
}

/*
 * Per-byte reference implementations of IsLost, SetPipe and NextSeg over
 * a byte map of SACKed data built independently of the scoreboard.
 */
#define RB_MAX 6000u

struct ref {
	uint32_t flight; /* snd_max - snd_una */
	uint8_t sacked[RB_MAX];
	uint32_t runs_above[RB_MAX + 1], bytes_above[RB_MAX + 1];
};

static void ref_index(struct ref *f)
{
	f->runs_above[f->flight] = 0;
	f->bytes_above[f->flight] = 0;
	for (uint32_t i = f->flight; i-- > 0;) {
		/* A run is counted above i when its last byte is. */
		bool last_of_run = i + 1 < f->flight && f->sacked[i + 1] &&
				   (i + 2 >= f->flight || !f->sacked[i + 2]);

		f->runs_above[i] = f->runs_above[i + 1] + last_of_run;
		f->bytes_above[i] = f->bytes_above[i + 1] +
				    (i + 1 < f->flight && f->sacked[i + 1]);
	}
}

static bool ref_lost(const struct ref *f, uint32_t i, uint32_t mss, uint32_t dt)
{
	return f->runs_above[i] >= dt ||
	       f->bytes_above[i] > (uint64_t)(dt - 1) * mss;
}

/* A segment of up to mss un-SACKed bytes from i. */
static uint32_t ref_seglen(const struct ref *f, uint32_t i, uint32_t mss)
{
	uint32_t n = 0;

	while (i + n < f->flight && !f->sacked[i + n] && n < mss)
		n++;
	return n;
}

TEST(tcp_sb_pipe_and_next_seg_match_bytewise_reference)
{
	struct ref *f = calloc(1, sizeof(*f));
	struct rng r;

	REQUIRE(f != NULL);
	rng_seed(&r, 6675);
	for (int board = 0; board < 400; board++) {
		struct tcp_sb sb;
		uint32_t una0 =
		    board % 3 ? (uint32_t)rng_next(&r)
			      : 0xffffffffu - (uint32_t)rng_below(&r, 4000);
		uint32_t flight = 1 + (uint32_t)rng_below(&r, RB_MAX);
		uint32_t una = una0, mss = 1 + (uint32_t)rng_below(&r, 1500);
		uint32_t dt = 1 + (uint32_t)rng_below(&r, 4), acked = 0;
		int nupd = 1 + (int)rng_below(&r, 6);

		tcp_sb_init(&sb);
		memset(f->sacked, 0, sizeof(f->sacked));
		for (int u = 0; u < nupd; u++) {
			struct tcp_sack_block b[TCP_MAX_SACK];
			size_t nb = 1 + rng_below(&r, TCP_MAX_SACK);
			int64_t want = 0;

			/* Sometimes a cumulative ACK first. */
			if (u > 0 && rng_below(&r, 4) == 0) {
				acked += (uint32_t)rng_below(
				    &r, (flight - acked) / 4 + 1);
				una = una0 + acked;
				tcp_sb_ack(&sb, una);
			}
			for (size_t i = 0; i < nb; i++) {
				int64_t s =
				    (int64_t)rng_below(&r, flight + 100) - 50;
				int64_t e = s + (int64_t)rng_below(&r, 800);

				b[i].start = una0 + (uint32_t)s;
				b[i].end = una0 + (uint32_t)e;
				if (s > acked && s < e && e <= flight)
					for (int64_t o = s; o < e; o++) {
						want += !f->sacked[o];
						f->sacked[o] = 1;
					}
			}
			CHECK_EQ(tcp_sb_update(&sb, una, una0 + flight, b, nb),
				 want);
		}
		/* Re-base the byte map at the current snd_una. */
		f->flight = flight - acked;
		memmove(f->sacked, f->sacked + acked, f->flight);
		ref_index(f);
		{
			uint32_t sum = 0;

			for (uint32_t i = 0; i < f->flight; i++)
				sum += f->sacked[i];
			CHECK_EQ(sb.sacked, sum);
		}

		for (int trial = 0; trial < 4; trial++) {
			uint32_t hr = (uint32_t)rng_below(&r, f->flight + 1);
			uint32_t pipe = 0, top = 0, unsent, wnd;
			uint32_t seq = 0, len = 0, wseq = 0, wlen = 0;
			bool rxt = false, wrxt = false, ok, wok = false;

			sb.high_rxt = una + hr;
			sb.rescue_valid = rng_below(&r, 2);
			sb.rescue_rxt = una - (uint32_t)rng_below(&r, 2);
			for (uint32_t i = 0; i < f->flight; i++) {
				if (f->sacked[i]) {
					top = i + 1;
					continue;
				}
				pipe += !ref_lost(f, i, mss, dt);
				pipe += i < hr;
			}
			CHECK_EQ(
			    tcp_sb_pipe(&sb, una, una + f->flight, mss, dt),
			    pipe);
			for (uint32_t i = 0; i < f->flight; i += 1 + i % 7)
				CHECK_EQ(tcp_sb_is_lost(&sb, una + i, mss, dt),
					 ref_lost(f, i, mss, dt));

			unsent = rng_below(&r, 2)
				     ? (uint32_t)rng_below(&r, 3000)
				     : 0;
			wnd = (uint32_t)rng_below(&r, 2000);
			for (uint32_t i = hr; i < top && !wok; i++) {
				if (!f->sacked[i] && ref_lost(f, i, mss, dt)) {
					wok = wrxt = true;
					wseq = i;
					wlen = ref_seglen(f, i, mss);
				}
			}
			if (!wok && unsent && wnd > f->flight) {
				wok = true;
				wseq = f->flight;
				wlen = mss;
				if (unsent < wlen)
					wlen = unsent;
				if (wnd - f->flight < wlen)
					wlen = wnd - f->flight;
			}
			for (uint32_t i = hr; i < top && !wok; i++) {
				if (!f->sacked[i]) {
					wok = wrxt = true;
					wseq = i;
					wlen = ref_seglen(f, i, mss);
				}
			}
			if (!wok &&
			    (!sb.rescue_valid || SEQ_GT(una, sb.rescue_rxt))) {
				uint32_t h = f->flight;

				while (h > 0 && f->sacked[h - 1])
					h--;
				if (h > 0) { /* h - 1: highest un-SACKed */
					wok = wrxt = true;
					wseq = h;
					while (wseq > 0 &&
					       !f->sacked[wseq - 1] &&
					       h - wseq < mss)
						wseq--;
					wlen = h - wseq;
				}
			}
			ok = tcp_sb_next_seg(&sb, una, una + f->flight, unsent,
					     una + wnd, mss, dt, &seq, &len,
					     &rxt);
			CHECK_EQ(ok, wok);
			if (ok && wok) {
				CHECK_EQ(seq - una, wseq);
				CHECK_EQ(len, wlen);
				CHECK_EQ(rxt, wrxt);
			}
		}
		tcp_sb_free(&sb);
	}
	free(f);
}
