/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * TCP reassembly queue and SACK scoreboard.
 *
 *   RFC 9293 3.10.7.4  segment text above RCV.NXT is held until the gap fills
 *   RFC 2018           SACK option; section 4: which blocks a receiver reports
 *   RFC 6675           SACK-based loss recovery: IsLost, SetPipe, NextSeg
 *
 * Receiver. The queue is a sorted singly linked list of packets with no
 * byte held twice. New data usually arrives in order behind a hole, so
 * insertion checks the tail first and walks only for data that lands
 * further down. A segment that covers held segments entirely replaces
 * them (freed) rather than being split around them: a pkt cannot hold two
 * pieces, and the covered segments were usually retransmitted-over
 * anyway.
 *
 * For SACK reporting q->recent keeps "anchors": byte ranges that were held
 * when recorded (the inserted segment, or a block we reported). Held
 * bytes leave the queue only from below (pop), so the part of an anchor
 * above rcv_nxt is still held and lies in exactly one contiguous range;
 * tcp_reass_sack maps each anchor to that range when building the option,
 * so merged or grown ranges are reported as they are now.
 *
 * Sender. The scoreboard is a sorted array of disjoint, non-adjacent
 * SACKed ranges. IsLost is monotone in the sequence number: the further
 * below the SACKed data an un-SACKed byte lies, the more SACKed ranges
 * and bytes are above it. So there is one "lost boundary" (the start of
 * some SACKed range) below which every un-SACKed byte is lost and above
 * which none is; SetPipe and NextSeg work from it in O(ranges).
 */
#include <stdlib.h>
#include <string.h>

#include "netinet/tcp_sack.h"

/* ---- receiver: out-of-order queue ------------------------------------- */

static inline uint32_t seg_seq(const struct pkt *p)
{
	return (uint32_t)p->cb.u64[0];
}

static inline uint32_t seg_end(const struct pkt *p)
{
	return seg_seq(p) + p->len;
}

static inline void seg_set_seq(struct pkt *p, uint32_t seq)
{
	p->cb.u64[0] = seq;
}

static bool blk_overlaps(const struct tcp_sack_block *a,
			 const struct tcp_sack_block *b)
{
	return SEQ_LT(a->start, b->end) && SEQ_LT(b->start, a->end);
}

void tcp_reass_init(struct tcp_reass *q)
{
	memset(q, 0, sizeof(*q));
}

/*
 * [start, end) is held now: make it the newest anchor. Anchors it touches
 * are in the same contiguous range: fold them in rather than let several
 * anchors of one range push the other reported blocks out of the history
 * (data arriving in order behind a hole touches the block reported last).
 */
static void reass_note_recent(struct tcp_reass *q, uint32_t start, uint32_t end)
{
	struct tcp_sack_block b = {start, end};
	size_t i = 0, n = q->nrecent;

	while (i < n) {
		struct tcp_sack_block *r = &q->recent[i];

		if (SEQ_LEQ(b.start, r->end) && SEQ_LEQ(r->start, b.end)) {
			b.start = SEQ_MIN(b.start, r->start);
			b.end = SEQ_MAX(b.end, r->end);
			memmove(r, r + 1, (n - i - 1) * sizeof(*r));
			n--;
		} else {
			i++;
		}
	}
	if (n == TCP_MAX_SACK)
		n--; /* forget the oldest */
	memmove(&q->recent[1], &q->recent[0], n * sizeof(q->recent[0]));
	q->recent[0] = b;
	q->nrecent = (uint8_t)(n + 1);
}

static void reass_unlink_free(struct world *w, struct tcp_reass *q,
			      struct pkt *prev, struct pkt *p)
{
	if (prev)
		prev->next = p->next;
	else
		q->head = p->next;
	if (q->tail == p)
		q->tail = prev;
	q->bytes -= p->len;
	q->count--;
	pkt_free(w, p);
}

uint32_t tcp_reass_insert(struct world *w, struct tcp_reass *q, struct pkt *p,
			  uint32_t seq, uint32_t rcv_nxt)
{
	struct pkt *prev = NULL, *next, *n;
	uint32_t end = seq + p->len, freed = 0;

	if (p->len == 0 || SEQ_LEQ(end, rcv_nxt))
		goto drop;
	if (SEQ_LT(seq, rcv_nxt)) {
		pkt_pull(p, rcv_nxt - seq);
		seq = rcv_nxt;
	}
	/* Every byte of [seq, end) is held once this returns. */
	reass_note_recent(q, seq, end);

	/* prev: the last held segment starting at or before seq. */
	if (q->tail && SEQ_GEQ(seq, seg_seq(q->tail))) {
		prev = q->tail;
	} else {
		for (n = q->head; n && SEQ_LEQ(seg_seq(n), seq); n = n->next)
			prev = n;
	}
	if (prev && SEQ_GT(seg_end(prev), seq)) {
		if (SEQ_GEQ(seg_end(prev), end))
			goto drop;
		pkt_pull(p, seg_end(prev) - seq);
		seq = seg_end(prev);
	}
	next = prev ? prev->next : q->head;
	while (next && SEQ_LT(seg_seq(next), end)) {
		if (SEQ_GT(seg_end(next), end)) {
			if (seg_seq(next) == seq)
				goto drop; /* prev and next hold it all */
			pkt_trim(p, seg_seq(next) - seq);
			break;
		}
		/* p covers next: p's copy of those bytes replaces it. */
		n = next->next;
		freed += next->len;
		reass_unlink_free(w, q, prev, next);
		next = n;
	}

	seg_set_seq(p, seq);
	p->next = next;
	if (prev)
		prev->next = p;
	else
		q->head = p;
	if (!next)
		q->tail = p;
	q->bytes += p->len;
	q->count++;
	return p->len - freed;
drop:
	pkt_free(w, p);
	return 0;
}

struct pkt *tcp_reass_pop(struct world *w, struct tcp_reass *q,
			  uint32_t rcv_nxt)
{
	struct pkt *p;

	/* Held data entirely below rcv_nxt: the caller got it elsewhere. */
	while ((p = q->head) && SEQ_LEQ(seg_end(p), rcv_nxt))
		reass_unlink_free(w, q, NULL, p);
	if (!p || SEQ_GT(seg_seq(p), rcv_nxt)) {
		if (!p)
			q->nrecent = 0;
		return NULL;
	}
	if (SEQ_LT(seg_seq(p), rcv_nxt)) {
		uint32_t d = rcv_nxt - seg_seq(p);

		pkt_pull(p, d);
		q->bytes -= d;
		seg_set_seq(p, rcv_nxt);
	}
	q->head = p->next;
	if (!q->head) {
		q->tail = NULL;
		q->nrecent = 0; /* nothing left to report */
	}
	q->bytes -= p->len;
	q->count--;
	p->next = NULL;
	return p;
}

/* Has every anchor either found its range or ended below `below`? */
static bool reass_anchors_done(const struct tcp_reass *q, const bool *found,
			       uint32_t below)
{
	for (size_t i = 0; i < q->nrecent; i++)
		if (!found[i] && SEQ_GT(q->recent[i].end, below))
			return false;
	return true;
}

/*
 * One walk over the queue, range by range: each reportable range (above
 * rcv_nxt) either belongs to an anchor of q->recent, or is a candidate to
 * fill the option, lowest first. The option is then the anchors' ranges
 * in recency order (duplicates dropped), then the fillers. What is
 * reported becomes the new history.
 */
size_t tcp_reass_sack(struct tcp_reass *q, uint32_t rcv_nxt,
		      struct tcp_sack_block *out, size_t max)
{
	struct tcp_sack_block range[TCP_MAX_SACK], fill[TCP_MAX_SACK], cur;
	bool found[TCP_MAX_SACK] = {false};
	size_t nfill = 0, k = 0;
	const struct pkt *p = q->head;

	/* No more than fits in a TCP header. */
	if (max > TCP_MAX_SACK)
		max = TCP_MAX_SACK;
	if (max == 0)
		return 0;
	while (p) {
		bool hit = false;

		cur.start = seg_seq(p);
		cur.end = seg_end(p);
		for (p = p->next; p && seg_seq(p) == cur.end; p = p->next)
			cur.end = seg_end(p);
		if (SEQ_LEQ(cur.start, rcv_nxt))
			continue;
		for (size_t i = 0; i < q->nrecent; i++) {
			if (!found[i] && blk_overlaps(&q->recent[i], &cur)) {
				range[i] = cur;
				found[i] = true;
				hit = true;
			}
		}
		if (!hit && nfill < max)
			fill[nfill++] = cur;
		if (nfill == max && reass_anchors_done(q, found, cur.end))
			break;
	}

	for (size_t i = 0; i < q->nrecent && k < max; i++) {
		bool dup = false;

		if (!found[i])
			continue;
		for (size_t j = 0; j < k; j++)
			dup |= out[j].start == range[i].start;
		if (!dup)
			out[k++] = range[i];
	}
	for (size_t j = 0; j < nfill && k < max; j++)
		out[k++] = fill[j];
	memcpy(q->recent, out, k * sizeof(*out));
	q->nrecent = (uint8_t)k;
	return k;
}

void tcp_reass_purge(struct world *w, struct tcp_reass *q)
{
	pkt_free_chain(w, q->head);
	tcp_reass_init(q);
}

/* ---- sender: scoreboard ----------------------------------------------- */

/*
 * A receiver reports at most 4 blocks per ACK, so real boards stay small;
 * the cap bounds what a peer can make us allocate. At the cap a block
 * that would open a new range is ignored, while blocks that extend or
 * join known ranges still apply (and, by joining, make room). Dropping
 * the new range rather than evicting the lowest one keeps the sender
 * conservative: the unknown bytes are new (usually the highest) and
 * count as in flight and not lost, whereas forgetting a low range would
 * retransmit data the receiver already holds.
 */
#define TCP_SB_MAX_RANGES 256
#define TCP_SB_MIN_CAP	  8

static inline uint32_t blk_len(const struct tcp_sack_block *b)
{
	return b->end - b->start;
}

static inline uint32_t seq_clamp(uint32_t x, uint32_t lo, uint32_t hi)
{
	if (SEQ_LT(x, lo))
		return lo;
	if (SEQ_GT(x, hi))
		return hi;
	return x;
}

void tcp_sb_init(struct tcp_sb *sb)
{
	memset(sb, 0, sizeof(*sb));
}

void tcp_sb_free(struct tcp_sb *sb)
{
	free(sb->r);
	tcp_sb_init(sb);
}

void tcp_sb_clear(struct tcp_sb *sb)
{
	sb->n = 0;
	sb->sacked = 0;
	sb->rescue_valid = false;
}

static int sb_reserve(struct tcp_sb *sb, uint32_t want)
{
	struct tcp_sack_block *r;
	uint32_t cap = sb->cap ? sb->cap : TCP_SB_MIN_CAP;

	if (want > TCP_SB_MAX_RANGES)
		want = TCP_SB_MAX_RANGES;
	if (want <= sb->cap)
		return 0;
	while (cap < want)
		cap *= 2;
	if (cap > TCP_SB_MAX_RANGES)
		cap = TCP_SB_MAX_RANGES;
	r = realloc(sb->r, cap * sizeof(*r));
	if (!r)
		return -ENOMEM;
	sb->r = r;
	sb->cap = cap;
	return 0;
}

/* Merge [s, e) into the board; returns the bytes it adds. */
static uint32_t sb_merge(struct tcp_sb *sb, uint32_t s, uint32_t e)
{
	struct tcp_sack_block *r = sb->r;
	uint32_t i = 0, j, old = 0, ns, ne;

	/* r[i..j) are the ranges that overlap or touch [s, e). */
	while (i < sb->n && SEQ_LT(r[i].end, s))
		i++;
	for (j = i; j < sb->n && SEQ_LEQ(r[j].start, e); j++)
		old += blk_len(&r[j]);
	if (i == j) {
		if (sb->n == sb->cap)
			return 0; /* at TCP_SB_MAX_RANGES: see above */
		memmove(&r[i + 1], &r[i], (sb->n - i) * sizeof(*r));
		r[i] = (struct tcp_sack_block){s, e};
		sb->n++;
		sb->sacked += e - s;
		return e - s;
	}
	ns = SEQ_MIN(s, r[i].start);
	ne = SEQ_MAX(e, r[j - 1].end);
	r[i] = (struct tcp_sack_block){ns, ne};
	memmove(&r[i + 1], &r[j], (sb->n - j) * sizeof(*r));
	sb->n -= j - i - 1;
	sb->sacked += (ne - ns) - old;
	return (ne - ns) - old;
}

/* The caller applies the cumulative ACK (tcp_sb_ack) first. */
int64_t tcp_sb_update(struct tcp_sb *sb, uint32_t snd_una, uint32_t snd_max,
		      const struct tcp_sack_block *blk, size_t n)
{
	uint32_t valid = 0;
	int64_t added = 0;
	size_t i;

	for (i = 0; i < n; i++)
		valid += SEQ_GT(blk[i].start, snd_una) &&
			 SEQ_LT(blk[i].start, blk[i].end) &&
			 SEQ_LEQ(blk[i].end, snd_max);
	if (!valid)
		return 0;
	/* Room for every block to open a range: after this nothing fails. */
	if (sb_reserve(sb, sb->n + valid) < 0)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		if (SEQ_GT(blk[i].start, snd_una) &&
		    SEQ_LT(blk[i].start, blk[i].end) &&
		    SEQ_LEQ(blk[i].end, snd_max))
			added += sb_merge(sb, blk[i].start, blk[i].end);
	return added;
}

void tcp_sb_ack(struct tcp_sb *sb, uint32_t snd_una)
{
	uint32_t k = 0;

	while (k < sb->n && SEQ_LEQ(sb->r[k].end, snd_una))
		sb->sacked -= blk_len(&sb->r[k++]);
	if (k) {
		memmove(sb->r, sb->r + k, (sb->n - k) * sizeof(*sb->r));
		sb->n -= k;
	}
	if (sb->n && SEQ_LT(sb->r[0].start, snd_una)) {
		sb->sacked -= snd_una - sb->r[0].start;
		sb->r[0].start = snd_una;
	}
	/* Below snd_una it means nothing; keep it from going stale by 2^31. */
	if (SEQ_LT(sb->high_rxt, snd_una))
		sb->high_rxt = snd_una;
}

static bool lost_rule(uint32_t ranges, uint64_t bytes, uint32_t mss,
		      uint32_t dupthresh)
{
	return ranges >= dupthresh || bytes > (uint64_t)(dupthresh - 1) * mss;
}

/* A DupThresh of 0 would call everything lost; treat it as 1. */
static uint32_t dupthresh_sane(uint32_t dupthresh)
{
	return dupthresh ? dupthresh : 1;
}

bool tcp_sb_is_lost(const struct tcp_sb *sb, uint32_t seq, uint32_t mss,
		    uint32_t dupthresh)
{
	uint32_t above = seq + 1, ranges = 0;
	uint64_t bytes = 0;

	dupthresh = dupthresh_sane(dupthresh);
	/* SACKed ranges with a byte above seq, highest first. */
	for (uint32_t k = sb->n; k-- > 0 && SEQ_GT(sb->r[k].end, above);) {
		ranges++;
		bytes += sb->r[k].end - SEQ_MAX(sb->r[k].start, above);
		if (lost_rule(ranges, bytes, mss, dupthresh))
			return true;
	}
	return false;
}

/*
 * Every un-SACKed byte below the returned sequence number is lost, none
 * above it is. An un-SACKed byte below r[k].start has exactly the ranges
 * r[k..n) above it, so the boundary is the start of the highest range
 * whose suffix satisfies IsLost (snd_una when none does).
 */
static uint32_t sb_lost_bound(const struct tcp_sb *sb, uint32_t snd_una,
			      uint32_t mss, uint32_t dupthresh)
{
	uint64_t bytes = 0;

	dupthresh = dupthresh_sane(dupthresh);
	for (uint32_t k = sb->n; k-- > 0;) {
		bytes += blk_len(&sb->r[k]);
		if (lost_rule(sb->n - k, bytes, mss, dupthresh))
			return sb->r[k].start;
	}
	return snd_una;
}

/* SACKed bytes within [a, b). */
static uint32_t sb_sacked_in(const struct tcp_sb *sb, uint32_t a, uint32_t b)
{
	uint32_t sum = 0;

	for (uint32_t k = 0; k < sb->n; k++) {
		uint32_t s = SEQ_MAX(sb->r[k].start, a);
		uint32_t e = SEQ_MIN(sb->r[k].end, b);

		if (SEQ_LT(s, e))
			sum += e - s;
	}
	return sum;
}

/* Un-SACKed bytes within [a, b) (a <= b). */
static uint32_t sb_unsacked_in(const struct tcp_sb *sb, uint32_t a, uint32_t b)
{
	return (b - a) - sb_sacked_in(sb, a, b);
}

/*
 * SetPipe per byte: +1 if not lost (the un-SACKed bytes at or above the
 * lost boundary), +1 if retransmitted (the un-SACKed bytes below
 * HighRxt).
 */
uint32_t tcp_sb_pipe(const struct tcp_sb *sb, uint32_t snd_una,
		     uint32_t snd_max, uint32_t mss, uint32_t dupthresh)
{
	uint32_t lost = sb_lost_bound(sb, snd_una, mss, dupthresh);
	uint32_t hr = seq_clamp(sb->high_rxt, snd_una, snd_max);

	lost = seq_clamp(lost, snd_una, snd_max);
	return sb_unsacked_in(sb, lost, snd_max) +
	       sb_unsacked_in(sb, snd_una, hr);
}

/*
 * The first un-SACKed byte at or above `from` and below `limit`, and the
 * end of its hole (the next SACKed range, or limit). False when none.
 */
static bool sb_first_hole(const struct tcp_sb *sb, uint32_t from,
			  uint32_t limit, uint32_t *start, uint32_t *end)
{
	uint32_t x = from;

	for (uint32_t k = 0; k < sb->n && SEQ_LT(x, limit); k++) {
		if (SEQ_LEQ(sb->r[k].end, x))
			continue;
		if (SEQ_GT(sb->r[k].start, x)) {
			*start = x;
			*end = SEQ_MIN(sb->r[k].start, limit);
			return true;
		}
		x = sb->r[k].end;
	}
	if (!SEQ_LT(x, limit))
		return false;
	*start = x;
	*end = limit;
	return true;
}

/*
 * The hole holding the highest un-SACKed byte below snd_max. Ranges are
 * disjoint and never adjacent, so it is just below the highest range
 * (or at the top when the highest range ends below snd_max).
 */
static bool sb_last_hole(const struct tcp_sb *sb, uint32_t snd_una,
			 uint32_t snd_max, uint32_t *start, uint32_t *end)
{
	uint32_t k = sb->n;

	*end = snd_max;
	while (k > 0 && SEQ_GEQ(sb->r[k - 1].end, *end)) {
		*end = SEQ_MIN(*end, sb->r[k - 1].start);
		k--;
	}
	*start = k > 0 ? SEQ_MAX(sb->r[k - 1].end, snd_una) : snd_una;
	return SEQ_LT(*start, *end) && SEQ_LT(snd_una, *end);
}

/*
 * RFC 6675 NextSeg. HighRxt is the caller's (set after a rule 1 or 3
 * retransmission; RFC 6675 says it must not move for rule 4). For rule 4
 * RescueRxt is set here, to snd_max: RFC 6675 uses RecoveryPoint, which
 * is at most snd_max, and once snd_una passes either the recovery is
 * over, so either allows one rescue per recovery.
 */
bool tcp_sb_next_seg(struct tcp_sb *sb, uint32_t snd_una, uint32_t snd_max,
		     uint32_t unsent, uint32_t wnd_end, uint32_t mss,
		     uint32_t dupthresh, uint32_t *seq, uint32_t *len,
		     bool *is_rxt)
{
	uint32_t hr = seq_clamp(sb->high_rxt, snd_una, snd_max);
	uint32_t top = snd_una, lost, hs = 0, he = 0;
	bool hole;

	if (mss == 0)
		return false;
	if (sb->n)
		top = seq_clamp(sb->r[sb->n - 1].end, snd_una, snd_max);
	lost =
	    seq_clamp(sb_lost_bound(sb, snd_una, mss, dupthresh), snd_una, top);
	/* (1.a), (1.b): the first un-SACKed byte >= HighRxt below the
	 * highest SACKed byte; its hole ends at a SACKed range. */
	hole = sb_first_hole(sb, hr, top, &hs, &he);

	if (hole && SEQ_LT(hs, lost)) { /* rule 1: (1.c) holds too */
		*seq = hs;
		*len = he - hs < mss ? he - hs : mss;
		*is_rxt = true;
		return true;
	}
	if (unsent > 0 && SEQ_GT(wnd_end, snd_max)) { /* rule 2 */
		uint32_t room = wnd_end - snd_max;

		*seq = snd_max;
		*len = unsent < mss ? unsent : mss;
		if (room < *len)
			*len = room;
		*is_rxt = false;
		return true;
	}
	if (hole) { /* rule 3 */
		*seq = hs;
		*len = he - hs < mss ? he - hs : mss;
		*is_rxt = true;
		return true;
	}
	/* rule 4: one rescue retransmission per recovery. */
	if (sb->rescue_valid && SEQ_LEQ(snd_una, sb->rescue_rxt))
		return false;
	if (!sb_last_hole(sb, snd_una, snd_max, &hs, &he))
		return false;
	*seq = he - hs > mss ? he - mss : hs;
	*len = he - *seq;
	*is_rxt = true;
	sb->rescue_rxt = snd_max;
	sb->rescue_valid = true;
	return true;
}

bool tcp_sb_is_sacked(const struct tcp_sb *sb, uint32_t seq, uint32_t len)
{
	uint32_t lo = 0, hi = sb->n;

	if (len == 0)
		return true; /* vacuously */
	/* The last range starting at or before seq. */
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (SEQ_LEQ(sb->r[mid].start, seq))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo > 0 && SEQ_GEQ(sb->r[lo - 1].end, seq + len) &&
	       SEQ_LT(seq, sb->r[lo - 1].end);
}
