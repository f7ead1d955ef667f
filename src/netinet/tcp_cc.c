/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * TCP congestion control: NewReno and CUBIC behind struct tcp_cc_ops.
 *
 *   RFC 5681  slow start, congestion avoidance, restart after idle (4.1),
 *             ssthresh after a timeout (eq. 4)
 *   RFC 3465  byte counting: L = 2*SMSS in slow start, one SMSS per cwnd
 *             bytes acknowledged in avoidance
 *   RFC 6582  NewReno: the window when recovery ends (3.2 step 3)
 *   RFC 6928  the initial window
 *   RFC 9438  CUBIC: C = 0.4, beta = 0.7, fast convergence (4.7), the
 *             Reno-friendly region (4.3), concave and convex growth toward
 *             W_cubic(t + RTT) (4.2, 4.4, 4.5), timeouts (4.8), no growth
 *             and no clock while application-limited (5.8)
 *
 * The connection detects losses and runs recovery itself (SACK pipe, RFC
 * 6675), so on_loss sets cwnd = ssthresh without Reno's 3*SMSS inflation.
 * Everything is in bytes; CUBIC's formulas, written in segments, are
 * scaled by the MSS. HyStart++ is not implemented: CUBIC slow-starts like
 * NewReno (RFC 9438 4.10 allows it).
 *
 * CUBIC's two fractional quantities: W_est grows by alpha*acked/cwnd
 * segments per ACK, often well under one byte, and adds up over an epoch,
 * so it is counted like Reno's avoidance: bytes_acked collects acked bytes
 * and W_est gains one MSS per cwnd/alpha of them. cwnd itself chases an
 * absolute target, W_cubic(t + RTT), which is recomputed on every ACK; a
 * rounded per-ACK increment cannot drift, it only leaves cwnd a fraction of
 * a byte per ACK behind the target, so it is computed directly.
 */
#include "netinet/tcp_cc.h"

#include <math.h>
#include <string.h>

#define TCP_CC_IW_BYTES 14600 /* RFC 6928 */

/* RFC 9438: beta_cubic = 7/10, alpha_cubic = 3(1-beta)/(1+beta) = 9/17,
 * and fast convergence's (1+beta)/2 = 17/20, as ratios for integer math. */
#define CUBIC_BETA_NUM	7
#define CUBIC_BETA_DEN	10
#define CUBIC_ALPHA_NUM 9
#define CUBIC_ALPHA_DEN 17
#define CUBIC_FC_NUM	17
#define CUBIC_FC_DEN	20
#define CUBIC_C		0.4 /* segments / s^3 */
/* k_ns after a timeout: the next epoch takes K = 0 and W_max = its own
 * starting cwnd (RFC 9438 4.8); W_max stays meaningful until then, for fast
 * convergence if a loss comes first. */
#define CUBIC_K_AFTER_RTO UINT64_MAX

static uint32_t clamp32(uint64_t v)
{
	return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

static uint32_t max32(uint32_t a, uint32_t b)
{
	return a > b ? a : b;
}

static uint32_t min32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

/* The MSS as a divisor: a connection always has one, but a zero must not
 * become a division by zero or a zero window. */
static uint32_t cc_smss(const struct tcp_cc *cc)
{
	return cc->mss ? cc->mss : 1;
}

/* RFC 6928: min(10*MSS, max(2*MSS, 14600)); also the restart window. */
static uint32_t cc_iw(const struct tcp_cc *cc)
{
	uint64_t mss = cc_smss(cc);
	uint64_t least = 2 * mss > TCP_CC_IW_BYTES ? 2 * mss : TCP_CC_IW_BYTES;

	return clamp32(10 * mss < least ? 10 * mss : least);
}

static void cc_reset_private(struct tcp_cc *cc)
{
	cc->bytes_acked = 0;
	cc->w_max = 0;
	cc->w_last_max = 0;
	cc->cwnd_prior = 0;
	cc->epoch_ns = 0;
	cc->k_ns = 0;
	cc->w_est = 0;
	cc->min_rtt_us = 0;
}

static void cc_init(struct tcp_cc *cc, uint32_t mss, uint64_t now_ns)
{
	(void)now_ns;

	cc->mss = mss;
	if (cc->cwnd == 0) {
		cc_reset_private(cc);
		cc->cwnd = cc_iw(cc);
	}
	if (cc->ssthresh == 0)
		cc->ssthresh = UINT32_MAX;
}

/* RFC 5681 3.1 with RFC 3465's limit L = 2*SMSS per ACK. */
static void cc_slow_start(struct tcp_cc *cc, uint32_t acked)
{
	uint64_t limit = 2 * (uint64_t)cc_smss(cc);

	cc->cwnd = clamp32(cc->cwnd + (acked < limit ? acked : limit));
}

/* ssthresh never below 2*SMSS (RFC 5681 eq. 4, RFC 9438 figure 5). */
static uint32_t cc_ssthresh_floor(const struct tcp_cc *cc, uint64_t v)
{
	uint64_t least = 2 * (uint64_t)cc_smss(cc);

	return clamp32(v > least ? v : least);
}

/* RFC 6582 3.2 step 3 (and the same for CUBIC, which keeps NewReno's
 * recovery). */
static void cc_recovery_end(struct tcp_cc *cc, uint32_t flight)
{
	uint32_t mss = cc_smss(cc);
	uint32_t w = clamp32((uint64_t)max32(flight, mss) + mss);

	cc->cwnd = max32(min32(cc->ssthresh, w), mss);
}

/* ---- NewReno ------------------------------------------------------------ */

static void newreno_on_ack(struct tcp_cc *cc, uint32_t acked, uint32_t flight,
			   bool cwnd_limited, uint32_t srtt_us, uint32_t rtt_us,
			   uint64_t now_ns)
{
	uint64_t credit, n;

	(void)flight;
	(void)srtt_us;
	(void)rtt_us;
	(void)now_ns;

	if (!cwnd_limited || acked == 0)
		return;
	if (cc->cwnd < cc->ssthresh) {
		cc_slow_start(cc, acked);
		return;
	}
	/* RFC 3465 2.1: one SMSS per cwnd bytes acknowledged. An ACK for more
	 * than a window (cwnd just shrank) earns every SMSS it covers. */
	credit = (uint64_t)cc->bytes_acked + acked;
	n = cc->cwnd ? credit / cc->cwnd : 0;
	cc->bytes_acked = clamp32(credit - n * cc->cwnd);
	cc->cwnd = clamp32(cc->cwnd + n * cc_smss(cc));
}

static void newreno_on_loss(struct tcp_cc *cc, uint32_t flight, uint64_t now_ns)
{
	(void)now_ns;

	cc->ssthresh = cc_ssthresh_floor(cc, flight / 2);
	cc->cwnd = cc->ssthresh;
	cc->bytes_acked = 0;
}

static void newreno_on_rto(struct tcp_cc *cc, uint32_t flight, bool first,
			   uint64_t now_ns)
{
	(void)now_ns;

	if (first)
		cc->ssthresh = cc_ssthresh_floor(cc, flight / 2);
	cc->cwnd = cc_smss(cc);
	cc->bytes_acked = 0;
}

static void newreno_on_idle(struct tcp_cc *cc, uint64_t now_ns)
{
	(void)now_ns;

	/* RFC 5681 4.1: RW = min(IW, cwnd). */
	cc->cwnd = min32(cc->cwnd, cc_iw(cc));
}

const struct tcp_cc_ops tcp_cc_newreno = {
    .name = "reno",
    .init = cc_init,
    .on_ack = newreno_on_ack,
    .on_loss = newreno_on_loss,
    .on_recovery_end = cc_recovery_end,
    .on_rto = newreno_on_rto,
    .on_idle = newreno_on_idle,
};

/* ---- CUBIC -------------------------------------------------------------- */

/* W_cubic(t) = C*(t-K)^3 + W_max (RFC 9438 figure 1), in bytes, clamped to
 * what cwnd can hold. */
static uint32_t cubic_w(const struct tcp_cc *cc, double t_s)
{
	double d = t_s - (double)cc->k_ns / 1e9;
	double w = CUBIC_C * cc_smss(cc) * d * d * d + cc->w_max;

	if (!(w > 0))
		return 0;
	if (w >= (double)UINT32_MAX)
		return UINT32_MAX;
	return (uint32_t)w;
}

/* The first ACK of a congestion avoidance stage (RFC 9438 4.2). */
static void cubic_epoch_start(struct tcp_cc *cc, uint64_t now_ns)
{
	/* 0 means "no epoch"; virtual time may start at 0. */
	cc->epoch_ns = now_ns ? now_ns : 1;
	/* The first slow start ended without a loss (RFC 9438 4.10). */
	if (cc->cwnd_prior == 0)
		cc->cwnd_prior = cc->cwnd;
	if (cc->k_ns == CUBIC_K_AFTER_RTO || cc->w_max <= cc->cwnd) {
		/* No saturation point ahead: none seen yet (4.10), forgotten
		 * by a timeout (4.8), or already passed (cwnd went beyond it,
		 * then the clock restarted). Probe from here: K = 0, the
		 * curve's plateau at the current window. */
		cc->w_max = cc->cwnd;
		cc->k_ns = 0;
	} else {
		double segs = (double)(cc->w_max - cc->cwnd) / cc_smss(cc);

		cc->k_ns = (uint64_t)(cbrt(segs / CUBIC_C) * 1e9);
	}
	cc->w_est = cc->cwnd;
}

/* RFC 9438 4.3, figure 4 in bytes: W_est += alpha * SMSS * acked / cwnd,
 * counted as one SMSS per cwnd/alpha bytes acknowledged. alpha becomes 1
 * once W_est reaches the window before the last reduction. */
static void cubic_reno_friendly(struct tcp_cc *cc, uint32_t acked)
{
	uint64_t per_mss =
	    cc->w_est >= cc->cwnd_prior
		? cc->cwnd
		: (uint64_t)cc->cwnd * CUBIC_ALPHA_DEN / CUBIC_ALPHA_NUM;
	uint64_t credit = (uint64_t)cc->bytes_acked + acked;
	uint64_t n;

	if (per_mss == 0)
		per_mss = 1;
	n = credit / per_mss;
	cc->bytes_acked = clamp32(credit - n * per_mss);
	cc->w_est = clamp32(cc->w_est + n * cc_smss(cc));
}

static void cubic_on_ack(struct tcp_cc *cc, uint32_t acked, uint32_t flight,
			 bool cwnd_limited, uint32_t srtt_us, uint32_t rtt_us,
			 uint64_t now_ns)
{
	uint32_t rtt, target, cap;
	uint64_t inc;
	double t;

	(void)flight;

	if (rtt_us && (cc->min_rtt_us == 0 || rtt_us < cc->min_rtt_us))
		cc->min_rtt_us = rtt_us;
	if (acked == 0)
		return;
	if (!cwnd_limited) {
		/* RFC 9438 5.8: t must not count time spent
		 * application-limited. The next limited ACK starts a new
		 * epoch at the current cwnd; below W_max that is the same
		 * curve, shifted by the time lost. */
		cc->epoch_ns = 0;
		return;
	}
	if (cc->cwnd < cc->ssthresh) {
		cc_slow_start(cc, acked);
		return;
	}
	if (cc->epoch_ns == 0)
		cubic_epoch_start(cc, now_ns);
	cubic_reno_friendly(cc, acked);

	t = now_ns > cc->epoch_ns ? (double)(now_ns - cc->epoch_ns) / 1e9 : 0;
	if (cubic_w(cc, t) < cc->w_est) {
		/* Reno-friendly region; never shrink on an ACK. */
		cc->cwnd = max32(cc->cwnd, cc->w_est);
		return;
	}
	/* Concave and convex regions (4.4, 4.5): target = W_cubic(t + RTT)
	 * bounded to [cwnd, 1.5*cwnd]; cwnd grows by (target - cwnd)/cwnd
	 * per segment acknowledged. */
	rtt = srtt_us ? srtt_us : cc->min_rtt_us;
	target = cubic_w(cc, t + rtt / 1e6);
	cap = clamp32((uint64_t)cc->cwnd + cc->cwnd / 2);
	if (target > cap)
		target = cap;
	if (target <= cc->cwnd)
		return;
	inc = ((uint64_t)acked * (target - cc->cwnd) + cc->cwnd / 2) / cc->cwnd;
	if (inc > target - cc->cwnd)
		inc = target - cc->cwnd;
	cc->cwnd += (uint32_t)inc;
}

/* A congestion event (RFC 9438 4.6, 4.7). ssthresh comes from cwnd, not
 * flight: 4.6 allows it because on_ack never grows a window the sender
 * does not fill. */
static void cubic_on_loss(struct tcp_cc *cc, uint32_t flight, uint64_t now_ns)
{
	uint64_t cwnd = cc->cwnd;

	(void)flight;
	(void)now_ns;

	cc->w_last_max = cc->w_max;
	if (cwnd < cc->w_max)
		cc->w_max = clamp32(cwnd * CUBIC_FC_NUM / CUBIC_FC_DEN);
	else
		cc->w_max = cc->cwnd;
	cc->cwnd_prior = cc->cwnd;
	cc->ssthresh =
	    cc_ssthresh_floor(cc, cwnd * CUBIC_BETA_NUM / CUBIC_BETA_DEN);
	cc->cwnd = cc->ssthresh;
	cc->epoch_ns = 0;
	cc->k_ns = 0;
	cc->bytes_acked = 0;
}

static void cubic_on_rto(struct tcp_cc *cc, uint32_t flight, bool first,
			 uint64_t now_ns)
{
	(void)flight;
	(void)now_ns;

	if (first) {
		cc->cwnd_prior = cc->cwnd;
		cc->ssthresh = cc_ssthresh_floor(
		    cc, (uint64_t)cc->cwnd * CUBIC_BETA_NUM / CUBIC_BETA_DEN);
	}
	cc->cwnd = cc_smss(cc);
	cc->epoch_ns = 0;
	cc->k_ns = CUBIC_K_AFTER_RTO;
	cc->bytes_acked = 0;
}

static void cubic_on_idle(struct tcp_cc *cc, uint64_t now_ns)
{
	(void)now_ns;

	cc->cwnd = min32(cc->cwnd, cc_iw(cc));
	/* The idle time is not part of the curve (RFC 9438 5.8). */
	cc->epoch_ns = 0;
}

const struct tcp_cc_ops tcp_cc_cubic = {
    .name = "cubic",
    .init = cc_init,
    .on_ack = cubic_on_ack,
    .on_loss = cubic_on_loss,
    .on_recovery_end = cc_recovery_end,
    .on_rto = cubic_on_rto,
    .on_idle = cubic_on_idle,
};

/* ---- the switch --------------------------------------------------------- */

static const struct tcp_cc_ops *const tcp_cc_all[] = {
    &tcp_cc_cubic,
    &tcp_cc_newreno,
};

const struct tcp_cc_ops *tcp_cc_find(const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < sizeof(tcp_cc_all) / sizeof(tcp_cc_all[0]); i++)
		if (strncmp(name, tcp_cc_all[i]->name, TCP_CC_NAME_MAX) == 0)
			return tcp_cc_all[i];
	return NULL;
}

void tcp_cc_switch(struct tcp_cc *cc, const struct tcp_cc_ops *ops,
		   uint64_t now_ns)
{
	(void)now_ns;

	if (!ops)
		return;
	cc_reset_private(cc);
	cc->ops = ops;
}
