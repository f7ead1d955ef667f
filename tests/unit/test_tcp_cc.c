/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Tests of TCP congestion control (src/netinet/tcp_cc.c): NewReno against
 * RFC 5681/3465/6582/6928 arithmetic, CUBIC against RFC 9438's curve and
 * Reno-friendly estimate under a simulated ACK clock (one window of
 * one-segment ACKs spread over each RTT), and the bounds no input may break.
 */
#include "netinet/tcp_cc.h"

#include <math.h>

#include "../harness/test.h"

#define MSS 1460u
#define MS  1000000ull
#define SEC 1000000000ull
#define T0  (5 * SEC) /* an arbitrary clock origin */

static const struct tcp_cc_ops *const both[] = {&tcp_cc_newreno, &tcp_cc_cubic};

static struct tcp_cc cc_new(const struct tcp_cc_ops *ops, uint32_t mss)
{
	struct tcp_cc cc;

	memset(&cc, 0, sizeof(cc));
	cc.ops = ops;
	ops->init(&cc, mss, T0);
	return cc;
}

static void ack(struct tcp_cc *cc, uint32_t acked, uint32_t rtt_us,
		uint64_t now)
{
	cc->ops->on_ack(cc, acked, cc->cwnd, true, rtt_us, rtt_us, now);
}

/* One round trip of the ACK clock: the window sent at the start comes back
 * as one-segment ACKs evenly spread over the RTT. Returns the time after. */
static uint64_t one_rtt(struct tcp_cc *cc, uint64_t now, uint64_t rtt_ns)
{
	uint32_t n = cc->cwnd / cc->mss ? cc->cwnd / cc->mss : 1;

	for (uint32_t i = 1; i <= n; i++)
		ack(cc, cc->mss, (uint32_t)(rtt_ns / 1000),
		    now + rtt_ns * i / n);
	return now + rtt_ns;
}

/* Put cc in avoidance after a loss at a window of w_max segments. */
static void loss_at(struct tcp_cc *cc, uint32_t w_max_segs, uint64_t now)
{
	cc->cwnd = w_max_segs * cc->mss;
	cc->ops->on_loss(cc, cc->cwnd, now);
}

/* RFC 9438 figure 1 in segments. */
static double w_cubic_segs(double t, double k, double w_max)
{
	return 0.4 * (t - k) * (t - k) * (t - k) + w_max;
}

TEST(tcp_cc_iw_per_rfc6928)
{
	for (int a = 0; a < 2; a++) {
		struct tcp_cc cc = cc_new(both[a], 536);

		CHECK_EQ(cc.cwnd, 5360); /* 10 * 536 */
		CHECK_EQ(cc.ssthresh, UINT32_MAX);
		cc = cc_new(both[a], 1460);
		CHECK_EQ(cc.cwnd, 14600);
		cc = cc_new(both[a], 65483);
		CHECK_EQ(cc.cwnd, 2 * 65483);
		cc = cc_new(both[a], 4000);
		CHECK_EQ(cc.cwnd, 14600); /* max(8000, 14600) */

		/* An MSS change keeps the window; a cached ssthresh stays. */
		cc.ssthresh = 30000;
		cc.cwnd = 50000;
		both[a]->init(&cc, 1200, T0);
		CHECK_EQ(cc.cwnd, 50000);
		CHECK_EQ(cc.ssthresh, 30000);
		CHECK_EQ(cc.mss, 1200);
	}
}

TEST(tcp_cc_slow_start_doubles_per_rtt)
{
	for (int a = 0; a < 2; a++) {
		struct tcp_cc cc = cc_new(both[a], MSS);
		uint64_t now = T0;

		for (int r = 0; r < 5; r++) {
			uint32_t before = cc.cwnd;

			now = one_rtt(&cc, now, 50 * MS);
			CHECK_EQ(cc.cwnd, 2 * before);
		}
		/* Delayed ACKs (two segments each) double it as well. */
		uint32_t before = cc.cwnd;

		for (uint32_t i = 0; i < before / (2 * MSS); i++)
			ack(&cc, 2 * MSS, 50000, now += MS);
		CHECK_EQ(cc.cwnd, 2 * before);
	}
}

TEST(tcp_cc_slow_start_abc_limit)
{
	for (int a = 0; a < 2; a++) {
		struct tcp_cc cc = cc_new(both[a], MSS);

		ack(&cc, 10 * MSS, 0, T0);
		CHECK_EQ(cc.cwnd, 14600 + 2 * MSS);
		ack(&cc, 100, 0, T0);
		CHECK_EQ(cc.cwnd, 14600 + 2 * MSS + 100);
	}
}

TEST(tcp_cc_reno_avoidance_one_mss_per_rtt)
{
	struct tcp_cc cc = cc_new(&tcp_cc_newreno, MSS);
	uint64_t now = T0;

	cc.cwnd = 20 * MSS;
	cc.ssthresh = 10 * MSS;
	for (int i = 0; i < 19; i++)
		ack(&cc, MSS, 0, now += MS);
	CHECK_EQ(cc.cwnd, 20 * MSS);
	ack(&cc, MSS, 0, now += MS);
	CHECK_EQ(cc.cwnd, 21 * MSS);
	CHECK_EQ(cc.bytes_acked, 0);
	for (int r = 0; r < 10; r++)
		now = one_rtt(&cc, now, 10 * MS);
	CHECK_EQ(cc.cwnd, 31 * MSS);

	/* Delayed ACKs: still one MSS per window of data. */
	for (int r = 0; r < 10; r++) {
		uint32_t w = cc.cwnd;

		for (uint32_t i = 0; i < w / (2 * MSS); i++)
			ack(&cc, 2 * MSS, 0, now += MS);
		if (w / MSS % 2)
			ack(&cc, MSS, 0, now += MS);
	}
	CHECK_EQ(cc.cwnd, 41 * MSS);
}

TEST(tcp_cc_reno_loss_halves_flight)
{
	struct tcp_cc cc = cc_new(&tcp_cc_newreno, MSS);

	cc.cwnd = 40 * MSS;
	cc.bytes_acked = 5000;
	tcp_cc_newreno.on_loss(&cc, 20 * MSS, T0); /* from flight, not cwnd */
	CHECK_EQ(cc.ssthresh, 10 * MSS);
	CHECK_EQ(cc.cwnd, 10 * MSS); /* no 3*SMSS inflation */
	CHECK_EQ(cc.bytes_acked, 0);
	tcp_cc_newreno.on_loss(&cc, 3 * MSS, T0);
	CHECK_EQ(cc.ssthresh, 2 * MSS);
	CHECK_EQ(cc.cwnd, 2 * MSS);
	tcp_cc_newreno.on_loss(&cc, 0, T0);
	CHECK_EQ(cc.cwnd, 2 * MSS);
}

TEST(tcp_cc_cubic_loss_beta)
{
	struct tcp_cc cc = cc_new(&tcp_cc_cubic, MSS);

	loss_at(&cc, 100, T0);
	CHECK_EQ(cc.ssthresh, 70 * MSS);
	CHECK_EQ(cc.cwnd, 70 * MSS);
	CHECK_EQ(cc.w_max, 100 * MSS);
	CHECK_EQ(cc.cwnd_prior, 100 * MSS);
	CHECK_EQ(cc.epoch_ns, 0);
	loss_at(&cc, 2, T0);
	CHECK_EQ(cc.ssthresh, 2 * MSS);
	CHECK_EQ(cc.cwnd, 2 * MSS);
	cc.cwnd = MSS;
	tcp_cc_cubic.on_loss(&cc, MSS, T0);
	CHECK_EQ(cc.cwnd, 2 * MSS);
}

TEST(tcp_cc_cubic_fast_convergence)
{
	struct tcp_cc cc = cc_new(&tcp_cc_cubic, MSS);

	loss_at(&cc, 100, T0);
	CHECK_EQ(cc.w_max, 100 * MSS);
	/* The next loss comes below the last maximum: the bottleneck is
	 * shared now, so W_max goes down to cwnd * (1 + beta) / 2. */
	loss_at(&cc, 80, T0);
	CHECK_EQ(cc.w_max, 68 * MSS);
	CHECK_EQ(cc.w_last_max, 100 * MSS);
	CHECK_EQ(cc.ssthresh, 56 * MSS);
	/* Above it: W_max is the window before the reduction. */
	loss_at(&cc, 120, T0);
	CHECK_EQ(cc.w_max, 120 * MSS);
	CHECK_EQ(cc.ssthresh, 84 * MSS);
}

/* Drive CUBIC with the ACK clock for rtts round trips of 100 ms after a
 * loss at w_max segments. RFC 9438: cwnd chases W_cubic(t + RTT), so it
 * lies between W_cubic(t) and W_cubic(t + RTT), unless the Reno-friendly
 * estimate (alpha = 9/17 segments per RTT up to the old window, then 1)
 * is above. Returns how far in segments cwnd went from the lower bound. */
static double run_curve(double w_max, int rtts)
{
	struct tcp_cc cc = cc_new(&tcp_cc_cubic, MSS);
	const uint64_t rtt = 100 * MS;
	const double k = cbrt(w_max * (1 - 0.7) / 0.4);
	uint64_t now = T0;
	double west = w_max * 0.7, worst = 0;

	loss_at(&cc, (uint32_t)w_max, now);
	ack(&cc, MSS, 100000, now);
	REQUIRE(cc.epoch_ns == now);
	CHECK(fabs(cc.k_ns / 1e9 - k) < 1e-3);
	CHECK_EQ(cc.w_est, (uint32_t)(w_max * 0.7) * MSS); /* cwnd_epoch */
	for (int r = 0; r < rtts; r++) {
		now = one_rtt(&cc, now, rtt);
		west += west >= w_max ? 1 : 9.0 / 17;
		double t = (now - cc.epoch_ns) / 1e9;
		double lo = fmax(w_cubic_segs(t, k, w_max), west);
		double hi = fmax(w_cubic_segs(t + rtt / 1e9, k, w_max), west);
		double w = (double)cc.cwnd / MSS;

		/* W_est moves in whole segments: up to one behind. */
		if (w < lo - 1.5 || w > hi + 1) {
			test_fail(__FILE__, __LINE__,
				  "rtt %d t %.2f cwnd %.2f not in [%.2f, %.2f]",
				  r, t, w, lo, hi);
			break;
		}
		worst = fmax(worst, fabs(w - lo));
	}
	if (test_verbose())
		printf("  w_max %.0f: worst |cwnd - W(t)| %.2f segments\n",
		       w_max, worst);
	return (double)cc.cwnd / MSS;
}

TEST(tcp_cc_cubic_follows_cubic_curve)
{
	/* K = cbrt(75) = 4.2 s: concave, plateau, then the Reno-friendly
	 * estimate overtakes the convex start after about 6 s. */
	double w = run_curve(100, 80);

	CHECK(w >= 122 && w <= 125); /* W_est: 100 after 57 RTTs, +23 */
	/* K = cbrt(750) = 9.1 s; pure cubic: W_est stays far below. */
	w = run_curve(1000, 120);
	CHECK(fabs(w - w_cubic_segs(12, cbrt(750), 1000)) < 15);
}

TEST(tcp_cc_cubic_reno_friendly_at_short_rtt)
{
	struct tcp_cc cc = cc_new(&tcp_cc_cubic, MSS);
	struct tcp_cc reno = cc_new(&tcp_cc_newreno, MSS);
	const uint64_t rtt = 1 * MS;
	uint64_t now = T0;
	double west = 70;

	loss_at(&cc, 100, now);
	loss_at(&reno, 100, now);
	for (int r = 0; r < 300; r++) {
		now = one_rtt(&cc, now, rtt);
		one_rtt(&reno, now, rtt);
		/* RFC 9438 4.3: alpha = 9/17 per RTT until W_est reaches
		 * cwnd_prior (100), then 1. */
		west += west >= 100 ? 1 : 9.0 / 17;
	}
	double t = (now - cc.epoch_ns) / 1e9;
	/* At 1 ms the curve has barely moved: W(0.3 s) = 76 segments. */
	CHECK(w_cubic_segs(t, cbrt(75), 100) < 80);
	CHECK(cc.cwnd >= (west - 3) * MSS);
	CHECK(cc.cwnd <= (west + 3) * MSS);
	/* ...and at least as much as Reno got from its halved window. */
	CHECK(cc.cwnd >= reno.cwnd - 10 * MSS);
	CHECK(reno.cwnd >= 340 * MSS);
}

TEST(tcp_cc_cubic_avoidance_slower_than_slow_start)
{
	struct tcp_cc cc = cc_new(&tcp_cc_cubic, MSS);
	uint64_t now = T0;

	loss_at(&cc, 20, now);
	ack(&cc, MSS, 100000, now);
	/* Hours later the curve is far above: growth is capped at
	 * (1.5*cwnd - cwnd)/cwnd per segment, half of slow start's. */
	now += 3 * 3600 * SEC;
	for (int i = 0; i < 100; i++) {
		uint32_t before = cc.cwnd;

		ack(&cc, MSS, 100000, now += MS);
		CHECK(cc.cwnd - before <= MSS / 2 + 1);
		CHECK(cc.cwnd > before);
	}
}

TEST(tcp_cc_rto_one_segment_first_only)
{
	for (int a = 0; a < 2; a++) {
		struct tcp_cc cc = cc_new(both[a], MSS);
		bool cubic = both[a] == &tcp_cc_cubic;

		cc.cwnd = 40 * MSS;
		cc.bytes_acked = 1000;
		both[a]->on_rto(&cc, 30 * MSS, true, T0);
		CHECK_EQ(cc.cwnd, MSS);
		/* NewReno: flight/2 (RFC 5681 eq. 4); CUBIC: beta * cwnd. */
		CHECK_EQ(cc.ssthresh, cubic ? 28 * MSS : 15 * MSS);
		CHECK_EQ(cc.bytes_acked, 0);
		/* Backed-off retransmissions leave ssthresh alone. */
		both[a]->on_rto(&cc, 30 * MSS, false, T0 + SEC);
		CHECK_EQ(cc.cwnd, MSS);
		CHECK_EQ(cc.ssthresh, cubic ? 28 * MSS : 15 * MSS);
		both[a]->on_rto(&cc, MSS, true, T0 + 3 * SEC);
		CHECK_EQ(cc.ssthresh, 2 * MSS);
		CHECK_EQ(cc.cwnd, MSS);
	}
}

TEST(tcp_cc_cubic_after_rto_k_zero)
{
	struct tcp_cc cc = cc_new(&tcp_cc_cubic, MSS);
	uint64_t now = T0;

	loss_at(&cc, 100, now);
	now = one_rtt(&cc, now, 100 * MS);
	uint32_t pre = cc.cwnd;

	tcp_cc_cubic.on_rto(&cc, cc.cwnd, true, now);
	CHECK_EQ(cc.ssthresh, (uint64_t)pre * 7 / 10);
	CHECK_EQ(cc.cwnd_prior, pre);
	CHECK_EQ(cc.w_max, 100 * MSS); /* kept until avoidance starts */
	/* Slow start back to ssthresh, then the first avoidance stage after
	 * the timeout: K = 0 and W_max = its starting cwnd (RFC 9438 4.8),
	 * not a concave climb back to the old W_max. */
	while (cc.cwnd < cc.ssthresh)
		ack(&cc, MSS, 100000, now += MS);
	CHECK_EQ(cc.epoch_ns, 0);
	uint32_t start = cc.cwnd;

	ack(&cc, MSS, 100000, now);
	CHECK_EQ(cc.k_ns, 0);
	CHECK_EQ(cc.w_max, start);
	CHECK_EQ(cc.w_est, start);
	/* Convex from the start: slow at first. */
	now = one_rtt(&cc, now, 100 * MS);
	CHECK(cc.cwnd - start <= 2 * MSS);
}

TEST(tcp_cc_no_growth_when_not_cwnd_limited)
{
	for (int a = 0; a < 2; a++) {
		struct tcp_cc cc = cc_new(both[a], MSS);
		uint64_t now = T0;

		for (int i = 0; i < 100; i++)
			both[a]->on_ack(&cc, MSS, MSS, false, 1000, 1000,
					now += MS);
		CHECK_EQ(cc.cwnd, 14600);
		loss_at(&cc, 100, now);
		for (int i = 0; i < 1000; i++)
			both[a]->on_ack(&cc, MSS, MSS, false, 1000, 1000,
					now += 10 * MS);
		CHECK_EQ(cc.cwnd,
			 both[a] == &tcp_cc_cubic ? 70 * MSS : 50 * MSS);
	}
}

TEST(tcp_cc_cubic_app_limited_time_not_counted)
{
	struct tcp_cc cc = cc_new(&tcp_cc_cubic, MSS);
	const uint64_t rtt = 100 * MS;
	uint64_t now = T0;

	loss_at(&cc, 100, now);
	for (int r = 0; r < 5; r++)
		now = one_rtt(&cc, now, rtt);
	uint32_t before = cc.cwnd;

	/* 30 s of application-limited sending: ACKs, but no growth, and
	 * the curve's clock must not run (W(30 s) would be thousands of
	 * segments, and growth would jump to the 1.5x cap). */
	for (int i = 0; i < 300; i++)
		tcp_cc_cubic.on_ack(&cc, MSS, 10 * MSS, false, 100000, 100000,
				    now += rtt);
	CHECK_EQ(cc.cwnd, before);
	now = one_rtt(&cc, now, rtt);
	CHECK(cc.cwnd > before);
	CHECK(cc.cwnd - before < 3 * MSS);
}

TEST(tcp_cc_recovery_end_rfc6582)
{
	for (int a = 0; a < 2; a++) {
		struct tcp_cc cc = cc_new(both[a], MSS);

		loss_at(&cc, 40, T0);
		uint32_t ssthresh = cc.ssthresh;

		both[a]->on_recovery_end(&cc, 40 * MSS);
		CHECK_EQ(cc.cwnd, ssthresh);
		both[a]->on_recovery_end(&cc, 5 * MSS);
		CHECK_EQ(cc.cwnd, 6 * MSS);
		both[a]->on_recovery_end(&cc, 0);
		CHECK_EQ(cc.cwnd, 2 * MSS);
		CHECK_EQ(cc.ssthresh, ssthresh);
		cc.ssthresh = 100; /* set from outside: still one segment */
		both[a]->on_recovery_end(&cc, 0);
		CHECK_EQ(cc.cwnd, MSS);
	}
}

TEST(tcp_cc_idle_restart_window)
{
	for (int a = 0; a < 2; a++) {
		struct tcp_cc cc = cc_new(both[a], MSS);
		uint64_t now = T0;

		for (int r = 0; r < 4; r++)
			now = one_rtt(&cc, now, 10 * MS);
		CHECK(cc.cwnd > 14600);
		both[a]->on_idle(&cc, now + 10 * SEC);
		CHECK_EQ(cc.cwnd, 14600);
		CHECK_EQ(cc.ssthresh, UINT32_MAX);
		cc.cwnd = 4 * MSS;
		both[a]->on_idle(&cc, now + 20 * SEC);
		CHECK_EQ(cc.cwnd, 4 * MSS); /* min(IW, cwnd) */
	}

	/* CUBIC forgets the epoch: the idle hour is not on the curve, which
	 * would otherwise put the target at the 1.5*cwnd cap. */
	struct tcp_cc cc = cc_new(&tcp_cc_cubic, MSS);
	uint64_t now = T0;

	loss_at(&cc, 10, now); /* W_max 10, cwnd 7 segments, K = 1.96 s */
	now = one_rtt(&cc, now, 100 * MS);
	CHECK(cc.epoch_ns != 0);
	now += 3600 * SEC;
	tcp_cc_cubic.on_idle(&cc, now);
	CHECK_EQ(cc.epoch_ns, 0);
	uint32_t start = cc.cwnd;

	now = one_rtt(&cc, now, 100 * MS);
	CHECK(cc.cwnd > start);
	CHECK(cc.cwnd - start < MSS);
}

TEST(tcp_cc_bounds_huge_acks_and_time_jumps)
{
	static const uint32_t msses[] = {1, 536, 1460, 65483};

	for (int a = 0; a < 2; a++) {
		for (int m = 0; m < 4; m++) {
			struct tcp_cc cc = cc_new(both[a], msses[m]);
			uint64_t now = T0;
			bool ok = true, reached_max = false;

			for (int i = 0; i < 1000000 && ok; i++) {
				uint32_t before = cc.cwnd;

				/* Every 1000 ACKs, hours pass. */
				now += i % 1000 ? MS : 5 * 3600 * SEC;
				cc.ops->on_ack(&cc, 65536, cc.cwnd, true, 100,
					       100, now);
				ok = cc.cwnd >= before && cc.cwnd >= cc.mss;
				reached_max |= cc.cwnd == UINT32_MAX;
				if (i == 500000)
					cc.ops->on_loss(&cc, cc.cwnd, now);
			}
			CHECK(ok);
			/* Slow start saturates (2 * 65483 bytes per ACK);
			 * it does not wrap. */
			if (msses[m] == 65483)
				CHECK(reached_max);
			cc.ops->on_loss(&cc, UINT32_MAX, now);
			CHECK(cc.cwnd >= 2 * cc.mss);
			CHECK(cc.cwnd < UINT32_MAX);
			cc.ops->on_recovery_end(&cc, 0);
			CHECK(cc.cwnd >= cc.mss);
			cc.ops->on_rto(&cc, 0, true, now);
			CHECK_EQ(cc.cwnd, cc.mss);
			CHECK(cc.ssthresh >= 2 * cc.mss);
			cc.ops->on_idle(&cc, UINT64_MAX);
			CHECK_EQ(cc.cwnd, cc.mss);
			/* Time running backwards must not grow anything. */
			cc.cwnd = cc.ssthresh = 10 * cc.mss;
			cc.ops->on_ack(&cc, cc.mss, cc.cwnd, true, 0, 0,
				       UINT64_MAX - 1);
			uint32_t w = cc.cwnd;

			cc.ops->on_ack(&cc, cc.mss, cc.cwnd, true, 0, 0, 1);
			CHECK(cc.cwnd >= w && cc.cwnd <= w + cc.mss);
		}
	}
}

TEST(tcp_cc_cubic_min_rtt_tracked)
{
	struct tcp_cc cc = cc_new(&tcp_cc_cubic, MSS);

	CHECK_EQ(cc.min_rtt_us, 0);
	tcp_cc_cubic.on_ack(&cc, MSS, MSS, true, 0, 0, T0);
	CHECK_EQ(cc.min_rtt_us, 0); /* no sample */
	tcp_cc_cubic.on_ack(&cc, MSS, MSS, true, 900, 800, T0);
	CHECK_EQ(cc.min_rtt_us, 800);
	tcp_cc_cubic.on_ack(&cc, MSS, MSS, false, 900, 700, T0);
	CHECK_EQ(cc.min_rtt_us, 700); /* app-limited samples count too */
	tcp_cc_cubic.on_ack(&cc, MSS, MSS, true, 900, 2000, T0);
	tcp_cc_cubic.on_ack(&cc, MSS, MSS, true, 900, 0, T0);
	CHECK_EQ(cc.min_rtt_us, 700);
}

TEST(tcp_cc_find_by_name)
{
	CHECK(tcp_cc_find("cubic") == &tcp_cc_cubic);
	CHECK(tcp_cc_find("reno") == &tcp_cc_newreno);
	CHECK(tcp_cc_find("bogus") == NULL);
	CHECK(tcp_cc_find("") == NULL);
	CHECK(tcp_cc_find("cubicx") == NULL);
	CHECK(tcp_cc_find("cubi") == NULL);
	CHECK(tcp_cc_find(NULL) == NULL);
	CHECK_STR(tcp_cc_cubic.name, "cubic");
	CHECK_STR(tcp_cc_newreno.name, "reno");
}

TEST(tcp_cc_switch_keeps_window)
{
	struct tcp_cc cc = cc_new(&tcp_cc_cubic, MSS);
	uint64_t now = T0;

	loss_at(&cc, 100, now);
	now = one_rtt(&cc, now, 100 * MS);
	REQUIRE(cc.epoch_ns != 0 && cc.w_max != 0);
	uint32_t cwnd = cc.cwnd, ssthresh = cc.ssthresh;

	tcp_cc_switch(&cc, tcp_cc_find("reno"), now);
	CHECK(cc.ops == &tcp_cc_newreno);
	CHECK_EQ(cc.cwnd, cwnd);
	CHECK_EQ(cc.ssthresh, ssthresh);
	CHECK_EQ(cc.mss, MSS);
	CHECK_EQ(cc.bytes_acked, 0);
	CHECK_EQ(cc.w_max, 0);
	CHECK_EQ(cc.epoch_ns, 0);
	CHECK_EQ(cc.w_est, 0);
	CHECK_EQ(cc.cwnd_prior, 0);
	/* NewReno avoidance from there: one MSS per cwnd bytes acked. */
	for (uint32_t i = 0; i < (cwnd + MSS - 1) / MSS; i++)
		ack(&cc, MSS, 100000, now += MS);
	CHECK_EQ(cc.cwnd, cwnd + MSS);

	/* Back to CUBIC mid-avoidance: a fresh epoch at the current window,
	 * no saturation point known (K = 0). */
	cwnd = cc.cwnd;
	tcp_cc_switch(&cc, &tcp_cc_cubic, now);
	CHECK(cc.ops == &tcp_cc_cubic);
	CHECK_EQ(cc.cwnd, cwnd);
	ack(&cc, MSS, 100000, now);
	CHECK_EQ(cc.w_max, cwnd);
	CHECK_EQ(cc.k_ns, 0);
}
