/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * TCP reassembly and SACK (internal).
 *
 * Receiver side: the out-of-order queue (struct tcp_reass). Segments that
 * arrive above rcv_nxt wait here, sorted and trimmed so that no byte is
 * held twice; the SACK blocks to advertise (RFC 2018 section 4: the block
 * holding the most recently received segment first, then the most recently
 * reported others) come from it.
 *
 * Sender side: the scoreboard (struct tcp_sb) of SACKed ranges above
 * snd_una, with the RFC 6675 functions over it: IsLost, SetPipe (as
 * "pipe"), NextSeg, and the HighRxt / RescueRxt bookkeeping.
 *
 * Sequence numbers are compared modulo 2^32 (the SEQ_LT family below).
 */
#ifndef VIMAGE_TCP_SACK_H
#define VIMAGE_TCP_SACK_H

#include "core/kern.h"
#include "wire/wire.h"

#define SEQ_LT(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) < 0)
#define SEQ_LEQ(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) <= 0)
#define SEQ_GT(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) > 0)
#define SEQ_GEQ(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) >= 0)
#define SEQ_MIN(a, b) (SEQ_LT(a, b) ? (a) : (b))
#define SEQ_MAX(a, b) (SEQ_GT(a, b) ? (a) : (b))

/* ---- receiver: out-of-order queue ---------------------------------------
 * Packets are held with p->data at their payload and the first sequence
 * number in p->cb.u64[0] (the queue owns p->cb while it holds p). */
struct tcp_reass {
	struct pkt *head, *tail; /* sorted by seq, linked through p->next */
	uint32_t bytes;          /* payload bytes held */
	uint32_t count;          /* packets held */
	/* The blocks most recently reported, newest first (RFC 2018 4). */
	struct tcp_sack_block recent[TCP_MAX_SACK];
	uint8_t nrecent;
};
void tcp_reass_init(struct tcp_reass *q);
/* Take segment p (data at payload, p->len bytes, first byte seq) which
 * lies at least partly above rcv_nxt. Bytes below rcv_nxt and bytes the
 * queue already holds are trimmed off (a segment may be split against
 * held data or replace several smaller held ones); p is consumed (queued
 * or freed). Returns the number of new bytes queued. Records the block
 * that now contains seq as the most recent for SACK. */
uint32_t tcp_reass_insert(struct world *w, struct tcp_reass *q, struct pkt *p,
			  uint32_t seq, uint32_t rcv_nxt);
/* The packet that starts at rcv_nxt, removed from the queue (NULL when
 * the head does not start there). Held bytes below rcv_nxt (which cannot
 * happen when the caller advances rcv_nxt only through this function)
 * are trimmed. */
struct pkt *tcp_reass_pop(struct world *w, struct tcp_reass *q,
			  uint32_t rcv_nxt);
/* Fill up to max SACK blocks (contiguous held ranges, RFC 2018 order) for
 * an ACK of rcv_nxt. Returns how many. Blocks at or below rcv_nxt are
 * never reported. */
size_t tcp_reass_sack(struct tcp_reass *q, uint32_t rcv_nxt,
		      struct tcp_sack_block *out, size_t max);
void tcp_reass_purge(struct world *w, struct tcp_reass *q);

/* ---- sender: scoreboard (RFC 6675) ---------------------------------------
 * The SACKed ranges above snd_una, sorted and disjoint (merged on insert),
 * in a small array grown on demand (no memory until the first SACK). */
struct tcp_sb {
	struct tcp_sack_block *r;
	uint32_t n, cap;
	uint32_t sacked;    /* bytes covered by r */
	uint32_t high_rxt;  /* HighRxt: highest retransmitted seq + 1 */
	uint32_t rescue_rxt; /* RescueRxt */
	bool rescue_valid;
};
void tcp_sb_init(struct tcp_sb *sb);
void tcp_sb_free(struct tcp_sb *sb);
/* Record received SACK blocks. Blocks not inside (snd_una, snd_max] (RFC
 * 2018 invalid or D-SACK-like below snd_una) are ignored. Returns the
 * number of newly SACKed bytes; -ENOMEM leaves the board unchanged. */
int64_t tcp_sb_update(struct tcp_sb *sb, uint32_t snd_una, uint32_t snd_max,
		      const struct tcp_sack_block *blk, size_t n);
/* snd_una advanced: forget ranges below it. */
void tcp_sb_ack(struct tcp_sb *sb, uint32_t snd_una);
/* Forget everything (RTO: RFC 6675 5.1 allows keeping; we clear as
 * RFC 2018 8 recommends when a reneging receiver is possible). */
void tcp_sb_clear(struct tcp_sb *sb);
/* RFC 6675 IsLost(seq) with DupThresh dupthresh and SMSS mss. */
bool tcp_sb_is_lost(const struct tcp_sb *sb, uint32_t seq, uint32_t mss,
		    uint32_t dupthresh);
/* RFC 6675 SetPipe: bytes in flight between snd_una and snd_max. */
uint32_t tcp_sb_pipe(const struct tcp_sb *sb, uint32_t snd_una,
		     uint32_t snd_max, uint32_t mss, uint32_t dupthresh);
/* RFC 6675 NextSeg over [snd_una, snd_max) plus unsent data
 * [snd_max, snd_max + unsent) within the peer window up to wnd_end.
 * Fills *seq and *len (len <= mss) and returns true when something may be
 * sent; rule 1 (lost, not yet retransmitted: seq >= high_rxt), rule 2
 * (new data), rule 3 (not SACKed, above high_rxt, when cwnd allows and
 * the segment is not lost), rule 4 (rescue retransmission) as in 4.
 * *is_rxt says whether it is a retransmission. The caller sets high_rxt
 * after sending. */
bool tcp_sb_next_seg(struct tcp_sb *sb, uint32_t snd_una, uint32_t snd_max,
		     uint32_t unsent, uint32_t wnd_end, uint32_t mss,
		     uint32_t dupthresh, uint32_t *seq, uint32_t *len,
		     bool *is_rxt);
/* Is [seq, seq+len) fully SACKed? */
bool tcp_sb_is_sacked(const struct tcp_sb *sb, uint32_t seq, uint32_t len);

#endif
