/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The traffic shaper: bandwidth, delay, jitter, loss, bit errors,
 * duplication, reordering and a drop-tail queue on one direction of an
 * interface, after FreeBSD's ng_pipe(4) and dummynet(4) and Linux's
 * tc-netem(8). The semantics a caller relies on are in vimage/net.h.
 *
 * The model is a link. A serialisation clock (next_free) says when the link
 * finishes sending what it has accepted: a frame departs at
 * max(now, next_free) + 8 * len / bandwidth, with the sub-nanosecond
 * remainder carried to the next frame so that a long run keeps the exact
 * rate. It is then released delay (+ jitter) later, but never before the
 * frame ahead of it, so the queue is one FIFO in release order and a single
 * timer on the world's wheel, armed at the head's release time, serves it
 * (netem keeps a tree of per-packet times; with FIFO release a list does).
 *
 * The queue limits count the backlog: frames whose departure is still in
 * the future, which is what dummynet's queue holds. Since departures are
 * non-decreasing along the FIFO, the backlog is a suffix of it; `backlog`
 * points at its first frame and moves forward lazily as time passes.
 *
 * Release hands an egress frame to the driver and an ingress frame to the
 * rest of the receive path (if_input_unshaped). Either may run code that
 * removes the shaper or destroys the interface (a socket notification
 * calling back into the API); `busy` defers the free until the shaper's own
 * frames are out of our hands.
 *
 * Randomness is drawn from the world's generator, and only for the knobs
 * that are set, so a run replays exactly from the world's seed.
 */
#include <stdlib.h>
#include <string.h>

#include "net/if_var.h"

/* Where a queued frame keeps its times (the shaper owns cb meanwhile). */
enum { CB_DEPART = 0, CB_RELEASE = 1 };

/* A frame that would leave further ahead than this is dropped as queue
 * overflow: it keeps the clock arithmetic far from wrapping however slow
 * the link and however long the unlimited queue (2^62 ns is 146 years). */
#define SHAPER_HORIZON (1ull << 62)

struct shaper {
	struct world *w;
	struct ifnet *ifp;
	int dir;
	struct vshaper_params par;
	uint64_t ber_keep; /* per-bit survival probability, 0.64 fixed point */
	struct pktq q;	   /* in release order */
	struct pkt *backlog; /* first frame of q not yet departed, or NULL */
	uint64_t backlog_pkts, backlog_bytes;
	uint64_t next_free; /* when the link has sent all it accepted */
	uint64_t rem;	    /* next_free's fraction, in 1/bandwidth ns */
	uint64_t last_release;
	struct timer timer;
	struct vshaper_stats st;
	unsigned busy; /* handing frames on: freeing must wait */
	bool doomed;   /* removed while busy */
};

static void shaper_timer(struct world *w, struct timer *t);

static bool shaper_chance(struct world *w, uint64_t prob)
{
	return rng_below(&w->rng, VSHAPE_PROB_ONE) < prob;
}

/* 0.64 fixed-point product; UINT64_MAX stands for 1. */
static uint64_t q64_mul(uint64_t a, uint64_t b)
{
	return (uint64_t)(((unsigned __int128)a * b) >> 64);
}

/* The per-bit survival probability 1 - ber in 0.64 fixed point. */
static uint64_t shaper_ber_keep(uint64_t ber)
{
	unsigned __int128 flip =
	    ((unsigned __int128)ber << 64) / VSHAPE_PROB_ONE;

	if (flip >> 64)
		return 0; /* ber is 1: every bit flips */
	return (uint64_t)0 - (uint64_t)flip;
}

/* Does a frame of len bytes cross without a bit error? It survives with
 * probability keep^(8 len), raised by squaring: about 40 multiplications
 * for the longest frame, rounding errors near 2^-58. */
static bool shaper_ber_survives(struct shaper *sh, uint32_t len)
{
	uint64_t keep = UINT64_MAX, base = sh->ber_keep;

	for (uint64_t bits = (uint64_t)len * 8; bits; bits >>= 1) {
		if (bits & 1)
			keep = q64_mul(keep, base);
		base = q64_mul(base, base);
	}
	return rng_next(&sh->w->rng) < keep;
}

/* Move the backlog cursor past the frames that have departed by now. */
static void shaper_settle(struct shaper *sh, uint64_t now)
{
	struct pkt *p = sh->backlog;

	while (p && p->cb.u64[CB_DEPART] <= now) {
		sh->backlog_pkts--;
		sh->backlog_bytes -= p->len;
		p = p->next;
	}
	sh->backlog = p;
}

static void shaper_deliver(struct shaper *sh, struct pkt *p)
{
	struct ifnet *ifp = sh->ifp;

	sh->st.sent++;
	if (sh->dir == VSHAPE_INGRESS) {
		if_input_unshaped(ifp, p);
		return;
	}
	/* The interface went down while the frame was on the link. */
	if (unlikely(!(ifp->flags & VIFF_UP))) {
		ifp->st.odrops++;
		pkt_free(sh->w, p);
		return;
	}
	ifp->ops->transmit(ifp, p);
}

/* Drop the shaper's hold; true when that freed it. */
static bool shaper_unhold(struct shaper *sh)
{
	if (--sh->busy == 0 && sh->doomed) {
		free(sh);
		return true;
	}
	return false;
}

/* Hand on every frame due by now, then arm the timer for the next. */
static void shaper_release(struct shaper *sh)
{
	uint64_t now = sh->w->now;
	struct pkt *p;

	sh->busy++;
	shaper_settle(sh, now); /* released frames have departed: none is
				 * the backlog cursor */
	while (!sh->doomed && (p = sh->q.head) &&
	       p->cb.u64[CB_RELEASE] <= now) {
		pktq_pop(&sh->q);
		sh->st.queued_pkts--;
		sh->st.queued_bytes -= p->len;
		shaper_deliver(sh, p);
	}
	if (!sh->doomed) {
		if (sh->q.head)
			timer_arm(sh->w, &sh->timer,
				  sh->q.head->cb.u64[CB_RELEASE]);
		else
			timer_cancel(sh->w, &sh->timer);
	}
	shaper_unhold(sh);
}

static void shaper_timer(struct world *w, struct timer *t)
{
	(void)w;
	shaper_release(container_of(t, struct shaper, timer));
}

/* The delay this frame gets after its departure: delay_ns plus a uniform
 * draw in [-jitter_ns, +jitter_ns], never below zero. */
static uint64_t shaper_delay(struct shaper *sh)
{
	uint64_t j = sh->par.jitter_ns, d = sh->par.delay_ns;

	if (!j)
		return d;
	d += rng_below(&sh->w->rng, 2 * j + 1);
	return d > j ? d - j : 0;
}

/* Bit errors, reordering, the queue limit, then onto the link. */
static void shaper_admit(struct shaper *sh, struct pkt *p)
{
	struct world *w = sh->w;
	uint64_t now = w->now, start, dep, rel, num, rem = 0;
	const struct vshaper_params *par = &sh->par;

	if (par->ber && !shaper_ber_survives(sh, p->len)) {
		sh->st.dropped_ber++;
		pkt_free(w, p);
		return;
	}
	if (par->reorder && shaper_chance(w, par->reorder)) {
		sh->st.reordered++;
		shaper_deliver(sh, p);
		return;
	}
	shaper_settle(sh, now);
	start = sh->next_free > now ? sh->next_free : now;
	dep = start;
	if (par->bandwidth) {
		num = (uint64_t)p->len * 8 * NSEC_PER_SEC;
		if (start > now)
			num += sh->rem; /* an idle link starts afresh */
		dep += num / par->bandwidth;
		rem = num % par->bandwidth;
	}
	/* A frame that does not wait is never refused. */
	if (dep > now &&
	    ((par->queue_pkts && sh->backlog_pkts >= par->queue_pkts) ||
	     (par->queue_bytes &&
	      sh->backlog_bytes + p->len > par->queue_bytes) ||
	     dep - now > SHAPER_HORIZON)) {
		sh->st.dropped_queue++;
		pkt_free(w, p);
		return;
	}
	sh->next_free = dep;
	sh->rem = rem;
	rel = dep + shaper_delay(sh);
	if (rel < sh->last_release)
		rel = sh->last_release; /* jitter never reorders */
	sh->last_release = rel;
	p->cb.u64[CB_DEPART] = dep;
	p->cb.u64[CB_RELEASE] = rel;
	pktq_push(&sh->q, p);
	sh->st.queued_pkts++;
	sh->st.queued_bytes += p->len;
	if (dep > now) {
		if (!sh->backlog)
			sh->backlog = p;
		sh->backlog_pkts++;
		sh->backlog_bytes += p->len;
	}
	/* Nothing to wait for (a shaper of loss only, say): out now, as an
	 * unshaped frame would go, not at the next turn of the wheel. */
	if (sh->q.head->cb.u64[CB_RELEASE] <= now)
		shaper_release(sh);
	else if (sh->q.head == p)
		timer_arm(w, &sh->timer, rel);
}

void shaper_enqueue(struct shaper *sh, struct pkt *p)
{
	struct world *w = sh->w;
	struct pkt *dup = NULL;

	sh->st.enqueued++;
	if (sh->par.loss && shaper_chance(w, sh->par.loss)) {
		sh->st.dropped_loss++;
		pkt_free(w, p);
		return;
	}
	if (sh->par.duplicate && shaper_chance(w, sh->par.duplicate)) {
		dup = pkt_copy(w, p, pkt_headroom(p));
		if (dup)
			sh->st.duplicated++;
	}
	sh->busy++;
	shaper_admit(sh, p);
	if (dup) {
		if (sh->doomed)
			pkt_free(w, dup);
		else
			shaper_admit(sh, dup);
	}
	shaper_unhold(sh);
}

/* Drop what is queued; the link is idle afterwards. */
static uint64_t shaper_purge(struct shaper *sh)
{
	uint64_t n = sh->q.count;

	pktq_purge(sh->w, &sh->q);
	timer_cancel(sh->w, &sh->timer);
	sh->backlog = NULL;
	sh->backlog_pkts = sh->backlog_bytes = 0;
	sh->next_free = sh->rem = sh->last_release = 0;
	sh->st.queued_pkts = sh->st.queued_bytes = 0;
	return n;
}

static void shaper_free(struct shaper *sh)
{
	if (!sh)
		return;
	shaper_purge(sh);
	sh->ifp->shaper[sh->dir] = NULL;
	sh->ifp = NULL;
	if (sh->busy)
		sh->doomed = true;
	else
		free(sh);
}

void shaper_flush(struct ifnet *ifp)
{
	for (int dir = 0; dir < 2; dir++)
		if (ifp->shaper[dir])
			ifp->shaper[dir]->st.flushed +=
			    shaper_purge(ifp->shaper[dir]);
}

void shaper_detach(struct ifnet *ifp)
{
	shaper_free(ifp->shaper[VSHAPE_EGRESS]);
	shaper_free(ifp->shaper[VSHAPE_INGRESS]);
}

/* ---- the API ------------------------------------------------------------- */
static bool shaper_dir_ok(int dir)
{
	return dir == VSHAPE_EGRESS || dir == VSHAPE_INGRESS;
}

static bool shaper_params_zero(const struct vshaper_params *p)
{
	static const struct vshaper_params zero;

	return memcmp(p, &zero, sizeof(zero)) == 0;
}

static bool shaper_params_ok(const struct vshaper_params *p)
{
	return p->bandwidth <= VSHAPE_BANDWIDTH_MAX &&
	       p->delay_ns <= VSHAPE_DELAY_MAX &&
	       p->jitter_ns <= VSHAPE_DELAY_MAX && p->loss <= VSHAPE_PROB_ONE &&
	       p->ber <= VSHAPE_PROB_ONE && p->duplicate <= VSHAPE_PROB_ONE &&
	       p->reorder <= VSHAPE_PROB_ONE;
}

int vif_shaper_set(struct ifnet *ifp, int dir, const struct vshaper_params *p)
{
	struct shaper *sh;

	if (!shaper_dir_ok(dir))
		return -EINVAL;
	if (!p || shaper_params_zero(p)) {
		shaper_free(ifp->shaper[dir]);
		return 0;
	}
	if (!shaper_params_ok(p))
		return -EINVAL;
	sh = ifp->shaper[dir];
	if (!sh) {
		sh = calloc(1, sizeof(*sh));
		if (!sh)
			return -ENOMEM;
		sh->w = ifp->vi->world;
		sh->ifp = ifp;
		sh->dir = dir;
		pktq_init(&sh->q);
		timer_init(&sh->timer, shaper_timer);
		ifp->shaper[dir] = sh;
	}
	/* Queued frames keep their times; the remainder was in units of the
	 * old rate. */
	if (sh->par.bandwidth != p->bandwidth)
		sh->rem = 0;
	sh->par = *p;
	sh->ber_keep = shaper_ber_keep(p->ber);
	return 0;
}

int vif_shaper_get(const struct ifnet *ifp, int dir, struct vshaper_params *p)
{
	memset(p, 0, sizeof(*p));
	if (!shaper_dir_ok(dir))
		return -EINVAL;
	if (!ifp->shaper[dir])
		return -ENOENT;
	*p = ifp->shaper[dir]->par;
	return 0;
}

int vif_shaper_stats(const struct ifnet *ifp, int dir, struct vshaper_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (!shaper_dir_ok(dir))
		return -EINVAL;
	if (!ifp->shaper[dir])
		return -ENOENT;
	*st = ifp->shaper[dir]->st;
	return 0;
}
