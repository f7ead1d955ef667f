/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * TCP congestion control (internal): a small switch of algorithms, chosen
 * per socket with TCP_CONGESTION. NewReno (RFC 5681, RFC 6582) and CUBIC
 * (RFC 9438, the default). The connection owns loss detection and the
 * recovery episode (tcp_input.c); an algorithm only moves cwnd and
 * ssthresh when told what happened. All sizes are in bytes, times in ns.
 */
#ifndef VIMAGE_TCP_CC_H
#define VIMAGE_TCP_CC_H

#include <stdbool.h>
#include <stdint.h>

#define TCP_CC_NAME_MAX 16 /* Linux's TCP_CA_NAME_MAX */

struct tcp_cc {
	const struct tcp_cc_ops *ops;
	uint32_t cwnd, ssthresh; /* bytes; ssthresh starts "infinite" */
	uint32_t mss;            /* SMSS: the effective send MSS */
	uint32_t bytes_acked;    /* RFC 3465 byte counting in avoidance */
	/* CUBIC (unused by NewReno) */
	uint32_t w_max;      /* bytes, window before the last reduction */
	uint32_t w_last_max; /* for fast convergence */
	uint32_t cwnd_prior; /* cwnd at the last congestion event */
	uint64_t epoch_ns;   /* start of the current avoidance epoch; 0: none */
	uint64_t k_ns;       /* K: time to reach w_max again */
	uint32_t w_est;      /* Reno-friendly estimate, bytes */
	uint32_t min_rtt_us;
};

struct tcp_cc_ops {
	const char *name; /* "cubic", "reno" (Linux's names) */
	/* Connection established (or MSS changed): initial window per RFC
	 * 6928 (min(10*mss, max(2*mss, 14600))) unless cwnd already set. */
	void (*init)(struct tcp_cc *cc, uint32_t mss, uint64_t now_ns);
	/* New data acknowledged outside recovery: acked bytes, flight size
	 * before the ACK, smoothed RTT (us, 0 when unknown). Grows cwnd:
	 * slow start (RFC 5681 3.1, with ABC L=2*SMSS) below ssthresh, else
	 * avoidance. Not called when the sender was not cwnd-limited
	 * (the caller says so through cwnd_limited: growth only when true). */
	void (*on_ack)(struct tcp_cc *cc, uint32_t acked, uint32_t flight,
		       bool cwnd_limited, uint32_t srtt_us, uint32_t rtt_us,
		       uint64_t now_ns);
	/* Loss detected by duplicate ACKs/SACK (or an ECN echo): enter
	 * recovery. Sets ssthresh (and cwnd = ssthresh) from flight. */
	void (*on_loss)(struct tcp_cc *cc, uint32_t flight, uint64_t now_ns);
	/* Recovery ended (all data outstanding at its start acknowledged):
	 * RFC 6582 3.2 step 3: cwnd = min(ssthresh, max(flight, mss) + mss). */
	void (*on_recovery_end)(struct tcp_cc *cc, uint32_t flight);
	/* Retransmission timeout: RFC 5681 eq. 4 (ssthresh from flight, cwnd
	 * = one segment, the loss window); CUBIC resets its epoch too. Only
	 * the first timeout of a backoff series reduces ssthresh (the caller
	 * passes first=true). */
	void (*on_rto)(struct tcp_cc *cc, uint32_t flight, bool first,
		       uint64_t now_ns);
	/* Idle for more than an RTO (RFC 5681 4.1 / RFC 7661): restart
	 * window. */
	void (*on_idle)(struct tcp_cc *cc, uint64_t now_ns);
};

extern const struct tcp_cc_ops tcp_cc_newreno;
extern const struct tcp_cc_ops tcp_cc_cubic;
/* By Linux name ("reno", "cubic"); NULL when unknown. */
const struct tcp_cc_ops *tcp_cc_find(const char *name);
/* Switch algorithm keeping cwnd/ssthresh (TCP_CONGESTION mid-connection). */
void tcp_cc_switch(struct tcp_cc *cc, const struct tcp_cc_ops *ops,
		   uint64_t now_ns);

#endif
