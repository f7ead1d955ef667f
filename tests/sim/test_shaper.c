/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The traffic shaper (src/net/shaper.c) measured from the outside: UDP
 * datagrams from a (10.0.0.1) to b (10.0.0.2) across a ve pair, in virtual
 * time, each carrying its sequence number and the instant it was sent. The
 * run stops at every timer deadline and reads b's socket there, so each
 * arrival is stamped with the exact instant it arrived.
 *
 * Frames are Ethernet frames without preamble or FCS: a UDP payload of L
 * bytes is a frame of L + 42 (Ethernet 14, IPv4 20, UDP 8), which is what
 * the shaper's bandwidth and bit-error rate count. Rates are checked
 * against the 99% confidence interval of a binomial, p +- 2.576 *
 * sqrt(p (1 - p) / n).
 *
 * With SHAPER_TABLE=path the tests also write what they configured and
 * measured as a Markdown table (docs/PERFORMANCE.md shows it).
 */
#include <arpa/inet.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/kern.h"
#include "harness/test.h"
#include "simnet.h"
#include "tcpx.h"

#define SA(s)  ((struct sockaddr *)&(s))
#define US     (NSEC_PER_USEC)
#define MS     (NSEC_PER_MSEC)
#define SEC    (NSEC_PER_SEC)
#define HDRS   42 /* Ethernet + IPv4 + UDP headers of a datagram's frame */
#define PCT(x) ((uint64_t)(x) * (VSHAPE_PROB_ONE / 100))

struct arrival {
	uint32_t seq, len;
	uint64_t sent, at;
};

struct rxlog {
	struct arrival *v;
	size_t n, cap;
	uint64_t bytes;
};

struct rig {
	struct simnet *sn;
	struct world *w;
	struct vimage *a, *b;
	struct ifnet *ea, *eb; /* a's ve0 and b's ve0 */
	struct vsocket *tx, *rx;
	struct sockaddr_in to;
	struct rxlog log;
	uint32_t seq;
};

static void log_add(struct rxlog *l, const struct arrival *a)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 1024;
		l->v = realloc(l->v, l->cap * sizeof(*l->v));
		REQUIRE(l->v);
	}
	l->v[l->n++] = *a;
	l->bytes += a->len;
}

/* Read every datagram waiting at b, stamped with the current instant. */
static void rig_drain(struct rig *r)
{
	uint8_t buf[2048];
	ssize_t n;

	while ((n = vsock_recvfrom(r->rx, buf, sizeof(buf), 0, NULL, NULL)) >=
	       12) {
		struct arrival a = {.len = (uint32_t)n, .at = world_now(r->w)};

		memcpy(&a.seq, buf, 4);
		memcpy(&a.sent, buf + 4, 8);
		log_add(&r->log, &a);
	}
}

/* Send one datagram of len payload bytes (>= 12) and process what it
 * starts at this instant. */
static void rig_send(struct rig *r, size_t len)
{
	uint8_t buf[1472] = {0};
	uint64_t now = world_now(r->w);

	memcpy(buf, &r->seq, 4);
	memcpy(buf + 4, &now, 8);
	r->seq++;
	REQUIRE_EQ(vsock_sendto(r->tx, buf, len, 0, SA(r->to), sizeof(r->to)),
		   (ssize_t)len);
	world_run(r->w);
	rig_drain(r);
}

/* Advance to `until`, stopping at every deadline on the way to read b. */
static void rig_run_to(struct rig *r, uint64_t until)
{
	for (;;) {
		uint64_t next = world_next_deadline(r->w);

		if (next > until)
			next = until;
		world_advance(r->w, next);
		rig_drain(r);
		if (world_now(r->w) >= until)
			return;
	}
}

static void rig_open(struct rig *r, uint64_t seed)
{
	memset(r, 0, sizeof(*r));
	r->sn = simnet_pair(seed);
	REQUIRE(r->sn);
	r->w = r->sn->w;
	r->a = r->sn->node[0];
	r->b = r->sn->node[1];
	r->ea = vif_lookup(r->a, "ve0");
	r->eb = vif_lookup(r->b, "ve0");
	r->rx = simnet_udp(r->b, NULL, 9000);
	r->tx = simnet_udp(r->a, "10.0.0.1", 0);
	REQUIRE(r->ea && r->eb && r->rx && r->tx);
	r->to = simnet_sin("10.0.0.2", 9000);
	/* Resolve ARP both ways before any shaper sees a frame. */
	rig_send(r, 12);
	rig_run_to(r, world_now(r->w) + 10 * MS);
	REQUIRE_EQ(r->log.n, 1);
	r->log.n = 0;
	r->log.bytes = 0;
}

static void rig_close(struct rig *r)
{
	vsock_close(r->tx);
	vsock_close(r->rx);
	free(r->log.v);
	CHECK_EQ(simnet_free(r->sn), 0);
}

static struct vshaper_stats shaper_stats(struct ifnet *ifp, int dir)
{
	struct vshaper_stats st;

	REQUIRE_EQ(vif_shaper_stats(ifp, dir, &st), 0);
	return st;
}

/* k successes in n trials inside the 99% interval around p? */
static bool within_99(uint64_t k, uint64_t n, double p)
{
	double half = 2.576 * sqrt(p * (1 - p) / (double)n);
	double f = (double)k / (double)n;

	if (test_verbose())
		printf("    %llu / %llu = %.6f, expected %.6f +- %.6f\n",
		       (unsigned long long)k, (unsigned long long)n, f, p,
		       half);
	return f >= p - half && f <= p + half;
}

/* Every counted frame is accounted for. */
static void check_balance(const struct vshaper_stats *st)
{
	CHECK_EQ(st->enqueued + st->duplicated,
		 st->sent + st->dropped_loss + st->dropped_ber +
		     st->dropped_queue + st->flushed + st->queued_pkts);
}

/* ---- the configured-vs-measured table ------------------------------------ */

/*
 * With SHAPER_TABLE=path, the tests below also write what they configured
 * and measured as rows of a Markdown table (docs/PERFORMANCE.md carries
 * it). The file is started afresh by the first row of a run; the rows
 * come in the order the tests run. Only what the tests already measure is
 * written, in virtual time, so the table is the same on every machine.
 * The "within?" cell repeats the test's own condition for that row.
 */
static bool table_started;

static void table_row(bool ok, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void table_row(bool ok, const char *fmt, ...)
{
	const char *path = getenv("SHAPER_TABLE");
	FILE *out;
	va_list ap;

	if (!path)
		return;
	out = fopen(path, table_started ? "a" : "w");
	if (!out) {
		fprintf(stderr, "  SHAPER_TABLE: cannot write %s\n", path);
		return;
	}
	if (!table_started)
		fprintf(out, "| parameter | configured | measured | "
			     "expected (and tolerance) | within? |\n"
			     "|---|---|---|---|---|\n");
	table_started = true;
	fputs("| ", out);
	va_start(ap, fmt);
	vfprintf(out, fmt, ap);
	va_end(ap);
	fprintf(out, " | %s |\n", ok ? "yes" : "**no**");
	fclose(out);
}

/* A bit rate for the table: "1 Mbit/s", "972.259 kbit/s". */
static const char *rate_str(char *buf, size_t len, double bps)
{
	if (bps >= 1e9)
		snprintf(buf, len, "%.6g Gbit/s", bps / 1e9);
	else if (bps >= 1e6)
		snprintf(buf, len, "%.6g Mbit/s", bps / 1e6);
	else
		snprintf(buf, len, "%.6g kbit/s", bps / 1e3);
	return buf;
}

/* Half the width of the 99% interval of a binomial rate p over n. */
static double ci99_half(double p, uint64_t n)
{
	return 2.576 * sqrt(p * (1 - p) / (double)n);
}

/* A row for a rate checked with within_99 (the same condition). */
static void table_rate(const char *param, const char *configured, uint64_t k,
		       uint64_t n, double p)
{
	double f = (double)k / (double)n, half = ci99_half(p, n);

	table_row(f >= p - half && f <= p + half,
		  "%s | %s | %.3f%% (%llu of %llu) | %.3f%% ± %.3f%% (99%% "
		  "interval)",
		  param, configured, 100 * f, (unsigned long long)k,
		  (unsigned long long)n, 100 * p, 100 * half);
}

/* ---- bandwidth and delay ------------------------------------------------- */

/* Offer 110% of the rate for 1000 frames through a 50-frame queue and
 * measure goodput between arrivals once the queue has filled. */
static double goodput_at(uint64_t bw, double *wire_ratio)
{
	const size_t len = 1472, frame = len + HDRS, n = 1000;
	struct vshaper_params sp = {.bandwidth = bw, .queue_pkts = 50};
	uint64_t gap = frame * 8 * SEC * 10 / (bw * 11), t0, dt;
	struct vshaper_stats st;
	struct rig r;
	double goodput;
	size_t first;

	rig_open(&r, 11);
	REQUIRE_EQ(vif_shaper_set(r.ea, VSHAPE_EGRESS, &sp), 0);
	t0 = world_now(r.w);
	for (size_t i = 0; i < n; i++) {
		rig_run_to(&r, t0 + i * gap);
		rig_send(&r, len);
	}
	rig_run_to(&r, world_now(r.w) + 60 * frame * 8 * SEC / bw);
	st = shaper_stats(r.ea, VSHAPE_EGRESS);
	CHECK(st.dropped_queue > 0); /* the link was saturated */
	CHECK_EQ(st.queued_pkts, 0);
	CHECK_EQ(r.log.n, st.sent);
	check_balance(&st);
	/* Skip the start, before the backlog built up. */
	first = r.log.n / 5;
	REQUIRE(r.log.n > first + 100);
	dt = r.log.v[r.log.n - 1].at - r.log.v[first].at;
	goodput = (double)(r.log.n - 1 - first) * len * 8 * SEC / (double)dt;
	*wire_ratio = goodput * frame / len / (double)bw;
	rig_close(&r);
	return goodput;
}

TEST(shaper_bandwidth_goodput_within_2_percent)
{
	static const uint64_t rates[] = {1000000ull, 100000000ull,
					 10000000000ull};

	for (size_t i = 0; i < ARRAY_SIZE(rates); i++) {
		double wire, g = goodput_at(rates[i], &wire);
		double want = (double)rates[i] * 1472 / (1472 + HDRS);
		char c[32], m[32], e[32];

		if (test_verbose())
			printf("    %llu bit/s: goodput %.1f bit/s, %.5f of "
			       "the payload share, wire %.6f of the rate\n",
			       (unsigned long long)rates[i], g, g / want, wire);
		CHECK(fabs(g / want - 1) < 0.02);
		CHECK(fabs(wire - 1) < 0.001);
		table_row(fabs(g / want - 1) < 0.02 && fabs(wire - 1) < 0.001,
			  "UDP goodput (1472-byte payloads, 110%% offered, "
			  "50-frame queue) | %s | %s (%.5f × expected; frames "
			  "on the wire at %.4f%% of the rate) | %s = rate × "
			  "1472/1514 ± 2%%; wire rate ± 0.1%%",
			  rate_str(c, sizeof(c), (double)rates[i]),
			  rate_str(m, sizeof(m), g), g / want, 100 * wire,
			  rate_str(e, sizeof(e), want));
	}
}

/* The round trip of a 12-byte datagram a -> b -> a, b answering from its
 * socket the instant the datagram arrives: virtual ns, or UINT64_MAX when
 * no answer came within a second. For the table only: nothing here is a
 * check. */
static uint64_t echo_rtt(struct rig *r)
{
	struct vsocket *at[2] = {r->rx, r->tx};
	uint64_t t0 = world_now(r->w), limit = t0 + 1 * SEC;
	struct sockaddr_in from;
	uint8_t buf[64] = {0};
	socklen_t fl;
	ssize_t n;

	if (vsock_sendto(r->tx, buf, 12, 0, SA(r->to), sizeof(r->to)) != 12)
		return UINT64_MAX;
	world_run(r->w);
	for (int leg = 0; leg < 2; leg++) {
		for (;;) {
			uint64_t next;

			fl = sizeof(from);
			n = vsock_recvfrom(at[leg], buf, sizeof(buf), 0,
					   SA(from), &fl);
			if (n >= 0)
				break;
			next = world_next_deadline(r->w);
			if (next > limit)
				return UINT64_MAX;
			world_advance(r->w, next);
		}
		if (leg == 0 &&
		    vsock_sendto(r->rx, buf, (size_t)n, 0, SA(from), fl) != n)
			return UINT64_MAX;
		world_run(r->w);
	}
	return world_now(r->w) - t0;
}

TEST(shaper_delay_adds_10ms_one_way)
{
	struct vshaper_params sp = {.delay_ns = 10 * MS};
	uint64_t dmin = UINT64_MAX, dmax = 0, rtt0, rtt1;
	struct rig r;

	rig_open(&r, 12);
	/* Unshaped first: one way takes no virtual time. */
	rig_send(&r, 100);
	REQUIRE_EQ(r.log.n, 1);
	CHECK_EQ(r.log.v[0].at - r.log.v[0].sent, 0);
	REQUIRE_EQ(vif_shaper_set(r.ea, VSHAPE_EGRESS, &sp), 0);
	for (int i = 0; i < 100; i++) {
		rig_run_to(&r, world_now(r.w) + 1 * MS);
		rig_send(&r, 100);
	}
	rig_run_to(&r, world_now(r.w) + 20 * MS);
	REQUIRE_EQ(r.log.n, 101);
	for (size_t i = 1; i < r.log.n; i++) {
		uint64_t d = r.log.v[i].at - r.log.v[i].sent;

		CHECK(d >= 10 * MS - 10 * US && d <= 10 * MS + 10 * US);
		CHECK_EQ(r.log.v[i].seq, i + 1);
		dmin = d < dmin ? d : dmin;
		dmax = d > dmax ? d : dmax;
	}
	table_row(dmin >= 10 * MS - 10 * US && dmax <= 10 * MS + 10 * US,
		  "one-way delay (100 datagrams 1 ms apart; unshaped: %llu ns) "
		  "| 10 ms | min %.6f ms, max %.6f ms | 10 ms ± 10 µs",
		  (unsigned long long)(r.log.v[0].at - r.log.v[0].sent),
		  (double)dmin / MS, (double)dmax / MS);
	/* With a bandwidth, serialisation adds 8 * 1142 bits / 1 Mbit/s. */
	sp.bandwidth = 1000000;
	REQUIRE_EQ(vif_shaper_set(r.ea, VSHAPE_EGRESS, &sp), 0);
	rig_send(&r, 1100);
	rig_run_to(&r, world_now(r.w) + 30 * MS);
	REQUIRE_EQ(r.log.n, 102);
	CHECK_EQ(r.log.v[101].at - r.log.v[101].sent, 10 * MS + 9136 * US);
	table_row(r.log.v[101].at - r.log.v[101].sent == 10 * MS + 9136 * US,
		  "one-way delay + serialisation (1142-byte frame) | 10 ms, "
		  "1 Mbit/s | %.6f ms | 10 ms + 8 × 1142 bits / 1 Mbit/s = "
		  "19.136 ms (exact)",
		  (double)(r.log.v[101].at - r.log.v[101].sent) / MS);
	/* For the table: the round trip, unshaped and with 10 ms on a's
	 * egress only (b's answer comes back unshaped). */
	REQUIRE_EQ(vif_shaper_set(r.ea, VSHAPE_EGRESS, NULL), 0);
	rtt0 = echo_rtt(&r);
	sp = (struct vshaper_params){.delay_ns = 10 * MS};
	REQUIRE_EQ(vif_shaper_set(r.ea, VSHAPE_EGRESS, &sp), 0);
	rtt1 = echo_rtt(&r);
	table_row(rtt0 != UINT64_MAX && rtt1 != UINT64_MAX &&
		      rtt1 - rtt0 >= 10 * MS - 10 * US &&
		      rtt1 - rtt0 <= 10 * MS + 10 * US,
		  "RTT added (UDP echo a → b → a, delay on a's egress only; "
		  "unshaped RTT %llu ns) | 10 ms | %.6f ms | 10 ms ± 10 µs",
		  (unsigned long long)rtt0, (double)(rtt1 - rtt0) / MS);
	rig_close(&r);
}

TEST(shaper_jitter_uniform_and_never_reorders)
{
	struct vshaper_params sp = {.delay_ns = 10 * MS, .jitter_ns = 2 * MS};
	const int n = 2000;
	uint64_t bins[4] = {0};
	double sum = 0, mean;
	uint64_t dmin = UINT64_MAX, dmax = 0, misordered = 0;
	bool quarters_ok = true;
	struct rig r;

	rig_open(&r, 13);
	REQUIRE_EQ(vif_shaper_set(r.ea, VSHAPE_EGRESS, &sp), 0);
	/* Spaced wider than the jitter's span: each delay is a free draw. */
	for (int i = 0; i < n; i++) {
		rig_run_to(&r, world_now(r.w) + 5 * MS);
		rig_send(&r, 12);
	}
	rig_run_to(&r, world_now(r.w) + 20 * MS);
	REQUIRE_EQ(r.log.n, (size_t)n);
	for (size_t i = 0; i < r.log.n; i++) {
		uint64_t d = r.log.v[i].at - r.log.v[i].sent;

		CHECK(d >= 8 * MS && d <= 12 * MS);
		if (d >= 8 * MS && d <= 12 * MS)
			bins[d == 12 * MS ? 3 : (d - 8 * MS) / MS]++;
		sum += (double)d;
		dmin = d < dmin ? d : dmin;
		dmax = d > dmax ? d : dmax;
	}
	/* Uniform on [8, 12] ms: mean 10 ms (sd 1.155 ms), quarters equal. */
	mean = sum / n;
	if (test_verbose())
		printf("    mean %.1f ns, quarters %llu %llu %llu %llu\n", mean,
		       (unsigned long long)bins[0], (unsigned long long)bins[1],
		       (unsigned long long)bins[2],
		       (unsigned long long)bins[3]);
	CHECK(fabs(mean - 10.0 * MS) < 2.576 * 1.155 * MS / sqrt(n));
	for (int b = 0; b < 4; b++)
		CHECK(within_99(bins[b], n, 0.25));
	for (int b = 0; b < 4; b++)
		quarters_ok = quarters_ok &&
			      fabs((double)bins[b] / n - 0.25) <=
				  ci99_half(0.25, (uint64_t)n);
	table_row(fabs(mean - 10.0 * MS) < 2.576 * 1.155 * MS / sqrt(n),
		  "jitter: mean one-way delay (%d datagrams 5 ms apart) | "
		  "10 ms ± 2 ms (uniform) | %.4f ms | 10 ms ± %.4f ms (99%% "
		  "interval of the mean, sd 1.155 ms)",
		  n, mean / MS, 2.576 * 1.155 / sqrt(n));
	table_row(quarters_ok && dmin >= 8 * MS && dmax <= 12 * MS,
		  "jitter: distribution (quarters of [8, 12] ms) | "
		  "10 ms ± 2 ms (uniform) | %llu / %llu / %llu / %llu; "
		  "min %.3f ms, max %.3f ms | %d each ± %.0f (25%% ± %.2f%%, "
		  "99%% interval); all in [8, 12] ms",
		  (unsigned long long)bins[0], (unsigned long long)bins[1],
		  (unsigned long long)bins[2], (unsigned long long)bins[3],
		  (double)dmin / MS, (double)dmax / MS, n / 4,
		  n * ci99_half(0.25, (uint64_t)n),
		  100 * ci99_half(0.25, (uint64_t)n));
	dmin = UINT64_MAX;
	dmax = 0;
	/* Closer than the jitter: FIFO order holds, delays stay in range. */
	r.log.n = 0;
	for (int i = 0; i < n; i++) {
		rig_run_to(&r, world_now(r.w) + 100 * US);
		rig_send(&r, 12);
	}
	rig_run_to(&r, world_now(r.w) + 20 * MS);
	REQUIRE_EQ(r.log.n, (size_t)n);
	for (size_t i = 1; i < r.log.n; i++) {
		uint64_t d = r.log.v[i].at - r.log.v[i].sent;

		CHECK(r.log.v[i].seq == r.log.v[i - 1].seq + 1);
		CHECK(d >= 8 * MS && d <= 12 * MS);
		misordered += r.log.v[i].seq != r.log.v[i - 1].seq + 1;
		dmin = d < dmin ? d : dmin;
		dmax = d > dmax ? d : dmax;
	}
	CHECK_EQ(shaper_stats(r.ea, VSHAPE_EGRESS).reordered, 0);
	table_row(misordered == 0 && dmin >= 8 * MS && dmax <= 12 * MS &&
		      shaper_stats(r.ea, VSHAPE_EGRESS).reordered == 0,
		  "jitter: order (%d datagrams 100 µs apart) | 10 ms ± 2 ms "
		  "| %llu out of order; min %.3f ms, max %.3f ms | FIFO: 0 "
		  "out of order, all in [8, 12] ms",
		  n, (unsigned long long)misordered, (double)dmin / MS,
		  (double)dmax / MS);
	rig_close(&r);
}

/* ---- loss, duplication, reordering, bit errors --------------------------- */

TEST(shaper_loss_1_percent_within_99_percent_interval)
{
	struct vshaper_params sp = {.loss = PCT(1)};
	const uint64_t n = 100000;
	struct vshaper_stats st;
	struct rig r;

	rig_open(&r, 14);
	REQUIRE_EQ(vif_shaper_set(r.ea, VSHAPE_EGRESS, &sp), 0);
	for (uint64_t i = 0; i < n; i++)
		rig_send(&r, 12);
	st = shaper_stats(r.ea, VSHAPE_EGRESS);
	CHECK_EQ(st.enqueued, n);
	CHECK_EQ(r.log.n, n - st.dropped_loss);
	CHECK_EQ(st.sent, r.log.n);
	CHECK(within_99(st.dropped_loss, n, 0.01));
	table_rate("loss (egress)", "1%", st.dropped_loss, n, 0.01);
	check_balance(&st);
	rig_close(&r);
}

TEST(shaper_duplicate_1_percent_within_99_percent_interval)
{
	struct vshaper_params sp = {.duplicate = PCT(1)};
	const uint64_t n = 100000;
	struct vshaper_stats st;
	uint64_t twins = 0;
	struct rig r;

	rig_open(&r, 15);
	REQUIRE_EQ(vif_shaper_set(r.ea, VSHAPE_EGRESS, &sp), 0);
	for (uint64_t i = 0; i < n; i++)
		rig_send(&r, 12);
	st = shaper_stats(r.ea, VSHAPE_EGRESS);
	CHECK_EQ(r.log.n, n + st.duplicated);
	/* A copy follows its original, byte for byte. */
	for (size_t i = 1; i < r.log.n; i++)
		if (r.log.v[i].seq == r.log.v[i - 1].seq)
			twins++;
	CHECK_EQ(twins, st.duplicated);
	CHECK(within_99(st.duplicated, n, 0.01));
	table_rate("duplication (each copy right behind its original)", "1%",
		   st.duplicated, n, 0.01);
	check_balance(&st);
	rig_close(&r);
}

/* Arrivals that overtook an earlier datagram: those with a smaller
 * sequence number still arriving after them. */
static uint64_t count_early(const struct rxlog *l)
{
	uint32_t min_after = UINT32_MAX;
	uint64_t early = 0;

	for (size_t i = l->n; i-- > 0;) {
		if (min_after < l->v[i].seq)
			early++;
		if (l->v[i].seq < min_after)
			min_after = l->v[i].seq;
	}
	return early;
}

TEST(shaper_reorder_at_configured_rate)
{
	struct vshaper_params sp = {.delay_ns = 10 * MS, .reorder = PCT(5)};
	const uint64_t n = 20000;
	struct vshaper_stats st;
	uint64_t skipped = 0;
	struct rig r;

	rig_open(&r, 16);
	REQUIRE_EQ(vif_shaper_set(r.ea, VSHAPE_EGRESS, &sp), 0);
	for (uint64_t i = 0; i < n; i++) {
		rig_run_to(&r, world_now(r.w) + 100 * US);
		rig_send(&r, 12);
	}
	rig_run_to(&r, world_now(r.w) + 20 * MS);
	st = shaper_stats(r.ea, VSHAPE_EGRESS);
	REQUIRE_EQ(r.log.n, n);
	/* A reordered datagram skips the delay (netem's reorder)... */
	for (size_t i = 0; i < r.log.n; i++)
		if (r.log.v[i].at == r.log.v[i].sent)
			skipped++;
	CHECK_EQ(skipped, st.reordered);
	/* ...and so overtakes the 100 queued behind the 10 ms delay; only
	 * the first few, sent while the queue was empty, overtake nothing. */
	CHECK(count_early(&r.log) <= st.reordered);
	CHECK(count_early(&r.log) + 10 >= st.reordered);
	CHECK(within_99(st.reordered, n, 0.05));
	table_rate("reordering (10 ms delay, 100 µs apart; a reordered "
		   "datagram skips the delay)",
		   "5%", st.reordered, n, 0.05);
	check_balance(&st);
	rig_close(&r);
}

/* Datagrams of payload len whose frames crossed a link of the shaper's
 * bit-error rate, out of n. */
static uint64_t ber_survivors(struct rig *r, size_t len, uint64_t n)
{
	size_t before = r->log.n;

	for (uint64_t i = 0; i < n; i++)
		rig_send(r, len);
	return r->log.n - before;
}

TEST(shaper_ber_drops_scale_with_frame_size)
{
	/* 1e-5 per bit: frames of 60 and 1500 bytes. */
	struct vshaper_params sp = {.ber = VSHAPE_PROB_ONE / 100000};
	const uint64_t n = 20000;
	uint64_t small, large;
	double ps = 1 - pow(1 - 1e-5, 8 * 60), pl = 1 - pow(1 - 1e-5, 8 * 1500);
	struct vshaper_stats st;
	struct rig r;

	rig_open(&r, 17);
	REQUIRE_EQ(vif_shaper_set(r.ea, VSHAPE_EGRESS, &sp), 0);
	small = n - ber_survivors(&r, 60 - HDRS, n);
	large = n - ber_survivors(&r, 1500 - HDRS, n);
	st = shaper_stats(r.ea, VSHAPE_EGRESS);
	CHECK_EQ(st.dropped_ber, small + large);
	CHECK(within_99(small, n, ps));
	CHECK(within_99(large, n, pl));
	table_rate("BER drops, 60-byte frames (p = 1 − (1 − BER)^480)",
		   "BER 1e-5", small, n, ps);
	table_rate("BER drops, 1500-byte frames (p = 1 − (1 − BER)^12000)",
		   "BER 1e-5", large, n, pl);
	/* A rate of 1 drops everything, 0 bits of error nothing. */
	sp.ber = VSHAPE_PROB_ONE;
	REQUIRE_EQ(vif_shaper_set(r.ea, VSHAPE_EGRESS, &sp), 0);
	CHECK_EQ(ber_survivors(&r, 12, 10), 0);
	check_balance(&st);
	rig_close(&r);
}

/* ---- the queue ----------------------------------------------------------- */

TEST(shaper_queue_limit_drops_exactly_the_excess_of_a_burst)
{
	struct vshaper_params sp = {.bandwidth = 1000000, .queue_pkts = 10};
	struct vshaper_stats st;
	uint64_t drop1, drop2;
	size_t got1, got2;
	struct rig r;

	rig_open(&r, 18);
	REQUIRE_EQ(vif_shaper_set(r.ea, VSHAPE_EGRESS, &sp), 0);
	for (int i = 0; i < 25; i++)
		rig_send(&r, 1000);
	st = shaper_stats(r.ea, VSHAPE_EGRESS);
	CHECK_EQ(st.dropped_queue, 15);
	CHECK_EQ(st.queued_pkts, 10);
	CHECK_EQ(st.queued_bytes, 10 * 1042);
	rig_run_to(&r, world_now(r.w) + 1 * SEC);
	CHECK_EQ(r.log.n, 10);
	drop1 = st.dropped_queue;
	got1 = r.log.n;
	table_row(drop1 == 15 && got1 == 10,
		  "queue limit in frames (burst of 25 × 1042-byte frames at "
		  "1 Mbit/s) | 10 frames | %llu dropped, %zu delivered | 15 "
		  "dropped, 10 delivered (exact)",
		  (unsigned long long)drop1, got1);
	/* The same in bytes: 9 frames of 1042 fit in 10000, the 10th not. */
	sp.queue_pkts = 0;
	sp.queue_bytes = 10000;
	REQUIRE_EQ(vif_shaper_set(r.ea, VSHAPE_EGRESS, &sp), 0);
	for (int i = 0; i < 25; i++)
		rig_send(&r, 1000);
	st = shaper_stats(r.ea, VSHAPE_EGRESS);
	CHECK_EQ(st.dropped_queue, 15 + 16);
	rig_run_to(&r, world_now(r.w) + 1 * SEC);
	CHECK_EQ(r.log.n, 19);
	drop2 = st.dropped_queue;
	got2 = r.log.n;
	table_row(drop2 - drop1 == 16 && got2 - got1 == 9,
		  "queue limit in bytes (the same burst) | 10000 bytes | %llu "
		  "dropped, %zu delivered | 16 dropped, 9 delivered (9 × 1042 "
		  "fit; exact)",
		  (unsigned long long)(drop2 - drop1), got2 - got1);
	/* Both limits: the tighter one counts. */
	sp.queue_pkts = 5;
	REQUIRE_EQ(vif_shaper_set(r.ea, VSHAPE_EGRESS, &sp), 0);
	for (int i = 0; i < 25; i++)
		rig_send(&r, 1000);
	rig_run_to(&r, world_now(r.w) + 1 * SEC);
	st = shaper_stats(r.ea, VSHAPE_EGRESS);
	CHECK_EQ(st.dropped_queue, 15 + 16 + 20);
	CHECK_EQ(r.log.n, 24);
	table_row(st.dropped_queue - drop2 == 20 && r.log.n - got2 == 5,
		  "queue limit, both (the same burst) | 5 frames and 10000 "
		  "bytes | %llu dropped, %zu delivered | 20 dropped, 5 "
		  "delivered (the tighter limit; exact)",
		  (unsigned long long)(st.dropped_queue - drop2),
		  r.log.n - got2);
	check_balance(&st);
	rig_close(&r);
}

TEST(shaper_queue_limit_counts_backlog_not_delay_line)
{
	/* 10 frames of 1042 bytes take 83.36 ms at 1 Mbit/s, then 100 ms on
	 * the delay line: at 90 ms all have departed and none arrived. */
	struct vshaper_params sp = {
	    .bandwidth = 1000000, .delay_ns = 100 * MS, .queue_pkts = 10};
	struct vshaper_stats st;
	struct rig r;

	rig_open(&r, 19);
	REQUIRE_EQ(vif_shaper_set(r.ea, VSHAPE_EGRESS, &sp), 0);
	for (int i = 0; i < 10; i++)
		rig_send(&r, 1000);
	rig_run_to(&r, world_now(r.w) + 90 * MS);
	CHECK_EQ(r.log.n, 0);
	for (int i = 0; i < 10; i++)
		rig_send(&r, 1000);
	st = shaper_stats(r.ea, VSHAPE_EGRESS);
	CHECK_EQ(st.dropped_queue, 0);
	CHECK_EQ(st.queued_pkts, 20);
	rig_send(&r, 1000); /* the backlog is full again */
	CHECK_EQ(shaper_stats(r.ea, VSHAPE_EGRESS).dropped_queue, 1);
	table_row(st.dropped_queue == 0 && st.queued_pkts == 20 &&
		      shaper_stats(r.ea, VSHAPE_EGRESS).dropped_queue == 1,
		  "queue limit counts the backlog, not the delay line (10 "
		  "frames on a 100 ms delay, then 11 more) | 10 frames, 1 "
		  "Mbit/s, 100 ms | %llu queued, %llu dropped; the 21st: "
		  "%llu dropped | 20 queued, 0 dropped; the 21st: 1 dropped",
		  (unsigned long long)st.queued_pkts,
		  (unsigned long long)st.dropped_queue,
		  (unsigned long long)shaper_stats(r.ea, VSHAPE_EGRESS)
		      .dropped_queue);
	rig_run_to(&r, world_now(r.w) + 1 * SEC);
	CHECK_EQ(r.log.n, 20);
	for (size_t i = 0; i < r.log.n; i++)
		CHECK_EQ(r.log.v[i].seq, i + 1);
	rig_close(&r);
}

TEST(shaper_rate_change_keeps_queued_frames)
{
	struct vshaper_params sp = {.bandwidth = 1000000};
	const uint64_t tx_slow = 8 * 1514 * US; /* 12.112 ms at 1 Mbit/s */
	uint64_t t0;
	struct rig r;

	rig_open(&r, 20);
	REQUIRE_EQ(vif_shaper_set(r.ea, VSHAPE_EGRESS, &sp), 0);
	t0 = world_now(r.w);
	for (int i = 0; i < 5; i++)
		rig_send(&r, 1472);
	rig_run_to(&r, t0 + 1 * MS);
	sp.bandwidth = 100000000;
	REQUIRE_EQ(vif_shaper_set(r.ea, VSHAPE_EGRESS, &sp), 0);
	CHECK_EQ(shaper_stats(r.ea, VSHAPE_EGRESS).queued_pkts, 5);
	rig_send(&r, 1472);
	rig_run_to(&r, t0 + 1 * SEC);
	REQUIRE_EQ(r.log.n, 6);
	/* The queued five keep their slow times; the new frame follows them
	 * at the new rate (8 * 1514 bits at 100 Mbit/s: 121.12 us). */
	for (int i = 0; i < 5; i++)
		CHECK_EQ(r.log.v[i].at, t0 + (uint64_t)(i + 1) * tx_slow);
	CHECK_EQ(r.log.v[5].at, t0 + 5 * tx_slow + 121120);
	rig_close(&r);
}

/* ---- the API and the lifecycle ------------------------------------------- */

TEST(shaper_bad_params_change_nothing)
{
	const struct vshaper_params good = {
	    .bandwidth = 5000000, .delay_ns = 3 * MS, .loss = PCT(2)};
	struct vshaper_params bad[] = {good, good, good, good,
				       good, good, good};
	struct vshaper_params got, edge = {.bandwidth = VSHAPE_BANDWIDTH_MAX,
					   .delay_ns = VSHAPE_DELAY_MAX,
					   .jitter_ns = VSHAPE_DELAY_MAX,
					   .loss = VSHAPE_PROB_ONE};
	struct vshaper_stats st;
	struct rig r;

	bad[0].loss = VSHAPE_PROB_ONE + 1;
	bad[1].bandwidth = VSHAPE_BANDWIDTH_MAX + 1;
	bad[2].delay_ns = VSHAPE_DELAY_MAX + 1;
	bad[3].jitter_ns = VSHAPE_DELAY_MAX + 1;
	bad[4].ber = VSHAPE_PROB_ONE + 1;
	bad[5].duplicate = UINT64_MAX;
	bad[6].reorder = VSHAPE_PROB_ONE * 2;
	rig_open(&r, 21);
	/* No shaper yet: a bad value does not create one. */
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		CHECK_EQ(vif_shaper_set(r.ea, VSHAPE_INGRESS, &bad[i]),
			 -EINVAL);
	CHECK_EQ(vif_shaper_get(r.ea, VSHAPE_INGRESS, &got), -ENOENT);
	CHECK_EQ(vif_shaper_stats(r.ea, VSHAPE_INGRESS, &st), -ENOENT);
	REQUIRE_EQ(vif_shaper_set(r.ea, VSHAPE_EGRESS, &good), 0);
	for (int i = 0; i < 100; i++)
		rig_send(&r, 12);
	st = shaper_stats(r.ea, VSHAPE_EGRESS);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		CHECK_EQ(vif_shaper_set(r.ea, VSHAPE_EGRESS, &bad[i]), -EINVAL);
	CHECK_EQ(vif_shaper_set(r.ea, 2, &good), -EINVAL);
	CHECK_EQ(vif_shaper_set(r.ea, -1, NULL), -EINVAL);
	CHECK_EQ(vif_shaper_get(r.ea, 7, &got), -EINVAL);
	REQUIRE_EQ(vif_shaper_get(r.ea, VSHAPE_EGRESS, &got), 0);
	CHECK_MEM(&got, &good, sizeof(got));
	{
		struct vshaper_stats now = shaper_stats(r.ea, VSHAPE_EGRESS);

		CHECK_MEM(&now, &st, sizeof(now));
	}
	/* The limits themselves are accepted. */
	CHECK_EQ(vif_shaper_set(r.ea, VSHAPE_EGRESS, &edge), 0);
	REQUIRE_EQ(vif_shaper_get(r.ea, VSHAPE_EGRESS, &got), 0);
	CHECK_MEM(&got, &edge, sizeof(got));
	/* All zero removes, as NULL does. */
	memset(&got, 0, sizeof(got));
	CHECK_EQ(vif_shaper_set(r.ea, VSHAPE_EGRESS, &got), 0);
	CHECK_EQ(vif_shaper_get(r.ea, VSHAPE_EGRESS, &got), -ENOENT);
	CHECK_EQ(vif_shaper_set(r.ea, VSHAPE_EGRESS, NULL), 0);
	rig_close(&r);
}

/* Queue n frames on each direction of both ends, held by a long delay. */
static void fill_both_ways(struct rig *r, int n)
{
	struct vshaper_params sp = {.delay_ns = 1 * SEC};
	struct world_counts wc;

	REQUIRE_EQ(vif_shaper_set(r->ea, VSHAPE_EGRESS, &sp), 0);
	REQUIRE_EQ(vif_shaper_set(r->eb, VSHAPE_INGRESS, &sp), 0);
	for (int i = 0; i < n; i++)
		rig_send(r, 100);
	rig_run_to(r, world_now(r->w) + 1500 * MS); /* now all at b's door */
	for (int i = 0; i < n; i++)
		rig_send(r, 100);
	CHECK_EQ(shaper_stats(r->ea, VSHAPE_EGRESS).queued_pkts, n);
	CHECK_EQ(shaper_stats(r->eb, VSHAPE_INGRESS).queued_pkts, n);
	world_counts(r->w, &wc);
	CHECK(wc.pkts >= 2 * (uint64_t)n);
	CHECK_EQ(r->log.n, 0);
}

TEST(shaper_removed_with_frames_queued_leaks_nothing)
{
	struct world_counts before, wc;
	struct rig r;

	rig_open(&r, 22);
	world_counts(r.w, &before);
	fill_both_ways(&r, 50);
	REQUIRE_EQ(vif_shaper_set(r.ea, VSHAPE_EGRESS, NULL), 0);
	REQUIRE_EQ(vif_shaper_set(r.eb, VSHAPE_INGRESS, NULL), 0);
	world_counts(r.w, &wc);
	CHECK_EQ(wc.pkts, before.pkts);
	CHECK_EQ(wc.pbufs, before.pbufs);
	CHECK_EQ(wc.timers, before.timers);
	rig_run_to(&r, world_now(r.w) + 3 * SEC);
	CHECK_EQ(r.log.n, 0);
	rig_close(&r);
}

TEST(shaper_interface_destroyed_or_moved_with_frames_queued)
{
	struct vshaper_params got;
	struct vshaper_stats st;
	struct vimage *c;
	struct ifnet *ifp;
	struct rig r;

	/* Destroying a ve end takes its peer and both shapers' frames. */
	rig_open(&r, 23);
	fill_both_ways(&r, 30);
	REQUIRE_EQ(vif_destroy(r.ea), 0);
	rig_close(&r);
	/* Destroying the vimages with everything in place. */
	rig_open(&r, 24);
	fill_both_ways(&r, 30);
	rig_close(&r);
	/* Moving drops the frames, keeps the parameters. */
	rig_open(&r, 25);
	fill_both_ways(&r, 30);
	c = simnet_node(r.sn, "b.c");
	REQUIRE(c);
	REQUIRE_EQ(vif_move(r.eb, c, "moved"), 0);
	ifp = vif_lookup(c, "moved");
	REQUIRE(ifp == r.eb);
	CHECK_EQ(vif_shaper_get(ifp, VSHAPE_INGRESS, &got), 0);
	CHECK_EQ(got.delay_ns, 1 * SEC);
	st = shaper_stats(ifp, VSHAPE_INGRESS);
	CHECK_EQ(st.flushed, 30);
	CHECK_EQ(st.queued_pkts, 0);
	check_balance(&st);
	rig_run_to(&r, world_now(r.w) + 3 * SEC);
	/* a's frames found b's end down in c and were dropped there. */
	CHECK_EQ(r.log.n, 0);
	rig_close(&r);
}

TEST(shaper_ingress_delays_and_counts_after_the_shaper)
{
	struct vshaper_params sp = {.bandwidth = 10000000, .delay_ns = 5 * MS};
	struct vif_stats vs0, vs;
	struct rig r;

	rig_open(&r, 26);
	REQUIRE_EQ(vif_shaper_set(r.eb, VSHAPE_INGRESS, &sp), 0);
	vif_get_stats(r.eb, &vs0);
	rig_send(&r, 1000);
	rig_send(&r, 1000);
	/* On the link, not yet received: b's counters have not seen them. */
	rig_run_to(&r, world_now(r.w) + 5 * MS);
	vif_get_stats(r.eb, &vs);
	CHECK_EQ(vs.ipackets, vs0.ipackets);
	CHECK_EQ(shaper_stats(r.eb, VSHAPE_INGRESS).queued_pkts, 2);
	rig_run_to(&r, world_now(r.w) + 10 * MS);
	REQUIRE_EQ(r.log.n, 2);
	/* 8 * 1042 bits at 10 Mbit/s: 833.6 us each, then 5 ms. */
	CHECK_EQ(r.log.v[0].at - r.log.v[0].sent, 5 * MS + 833600);
	CHECK_EQ(r.log.v[1].at - r.log.v[1].sent, 5 * MS + 2 * 833600);
	vif_get_stats(r.eb, &vs);
	CHECK_EQ(vs.ipackets, vs0.ipackets + 2);
	/* Loss on the way in. */
	sp = (struct vshaper_params){.loss = PCT(50)};
	REQUIRE_EQ(vif_shaper_set(r.eb, VSHAPE_INGRESS, &sp), 0);
	for (int i = 0; i < 1000; i++)
		rig_send(&r, 12);
	CHECK_EQ(r.log.n,
		 2 + 1000 - shaper_stats(r.eb, VSHAPE_INGRESS).dropped_loss);
	CHECK(within_99(shaper_stats(r.eb, VSHAPE_INGRESS).dropped_loss, 1000,
			0.5));
	table_rate("loss (ingress)", "50%",
		   shaper_stats(r.eb, VSHAPE_INGRESS).dropped_loss, 1000, 0.5);
	rig_close(&r);
}

struct capture_count {
	uint64_t records;
};

static void count_sink(void *ctx, const void *data, size_t len)
{
	struct capture_count *c = ctx;

	(void)data;
	if (len == 16) /* a record header (the file header is 24) */
		c->records++;
}

TEST(shaper_capture_sits_on_the_stack_side)
{
	struct vshaper_params drop = {.loss = VSHAPE_PROB_ONE};
	struct capture_count ca = {0}, cb = {0};
	struct rig r;

	rig_open(&r, 27);
	REQUIRE_EQ(vif_capture_start(r.ea, count_sink, &ca, 0), 0);
	REQUIRE_EQ(vif_capture_start(r.eb, count_sink, &cb, 0), 0);
	REQUIRE_EQ(vif_shaper_set(r.ea, VSHAPE_EGRESS, &drop), 0);
	/* Egress: captured as sent, then lost on the link. */
	for (int i = 0; i < 5; i++)
		rig_send(&r, 12);
	CHECK_EQ(ca.records, 5);
	CHECK_EQ(cb.records, 0);
	/* Ingress: lost before the receiver's capture sees it. */
	REQUIRE_EQ(vif_shaper_set(r.ea, VSHAPE_EGRESS, NULL), 0);
	REQUIRE_EQ(vif_shaper_set(r.eb, VSHAPE_INGRESS, &drop), 0);
	for (int i = 0; i < 5; i++)
		rig_send(&r, 12);
	CHECK_EQ(ca.records, 10);
	CHECK_EQ(cb.records, 0);
	CHECK_EQ(r.log.n, 0);
	vif_capture_stop(r.ea);
	vif_capture_stop(r.eb);
	rig_close(&r);
}

/* Everything random at once, twice from one seed: the same run. */
static uint64_t chaos_run(uint64_t seed, struct vshaper_stats *st)
{
	struct vshaper_params sp = {.bandwidth = 10000000,
				    .delay_ns = 2 * MS,
				    .jitter_ns = 1 * MS,
				    .loss = PCT(3),
				    .ber = VSHAPE_PROB_ONE / 1000000,
				    .duplicate = PCT(2),
				    .reorder = PCT(4),
				    .queue_pkts = 20};
	uint64_t h = 14695981039346656037ull;
	struct rig r;

	rig_open(&r, seed);
	REQUIRE_EQ(vif_shaper_set(r.ea, VSHAPE_EGRESS, &sp), 0);
	for (int i = 0; i < 3000; i++) {
		rig_run_to(&r, world_now(r.w) + 300 * US);
		rig_send(&r, 12 + (size_t)(i % 7) * 200);
	}
	rig_run_to(&r, world_now(r.w) + 50 * MS);
	*st = shaper_stats(r.ea, VSHAPE_EGRESS);
	CHECK_EQ(st->sent, r.log.n);
	check_balance(st);
	for (size_t i = 0; i < r.log.n; i++)
		h = (h ^ (r.log.v[i].seq ^ r.log.v[i].at)) * 1099511628211ull;
	rig_close(&r);
	return h;
}

TEST(shaper_same_seed_same_run)
{
	struct vshaper_stats s1, s2, s3;

	CHECK_EQ(chaos_run(28, &s1), chaos_run(28, &s2));
	CHECK_MEM(&s1, &s2, sizeof(s1));
	CHECK(s1.dropped_loss && s1.dropped_ber && s1.dropped_queue &&
	      s1.duplicated && s1.reordered);
	chaos_run(29, &s3);
	CHECK(memcmp(&s1, &s3, sizeof(s1)) != 0);
}

/* A socket callback that removes the shaper handing it the datagram. */
static void remove_on_read(void *ctx, struct vsocket *so, unsigned events)
{
	struct ifnet *ifp = ctx;

	(void)so;
	if (events & POLLIN)
		vif_shaper_set(ifp, VSHAPE_INGRESS, NULL);
}

TEST(shaper_removed_from_inside_its_own_delivery)
{
	struct vshaper_params held = {.delay_ns = 1 * MS};
	struct vshaper_params now = {.duplicate = VSHAPE_PROB_ONE,
				     .reorder = VSHAPE_PROB_ONE};
	struct vshaper_params got;
	struct rig r;

	rig_open(&r, 30);
	vsock_set_notify(r.rx, remove_on_read, r.eb);
	/* Five released by one timer: the first one's delivery removes the
	 * shaper, the other four go with it. */
	REQUIRE_EQ(vif_shaper_set(r.eb, VSHAPE_INGRESS, &held), 0);
	for (int i = 0; i < 5; i++)
		vsock_sendto(r.tx, "0123456789ab", 12, 0, SA(r.to),
			     sizeof(r.to));
	world_advance(r.w, world_now(r.w) + 2 * MS);
	CHECK_EQ(vif_shaper_get(r.eb, VSHAPE_INGRESS, &got), -ENOENT);
	rig_drain(&r);
	CHECK_EQ(r.log.n, 1);
	/* Delivered at once (reordered) with a copy still to go: the copy
	 * dies with the shaper. */
	REQUIRE_EQ(vif_shaper_set(r.eb, VSHAPE_INGRESS, &now), 0);
	rig_send(&r, 12);
	CHECK_EQ(vif_shaper_get(r.eb, VSHAPE_INGRESS, &got), -ENOENT);
	CHECK_EQ(r.log.n, 2);
	vsock_set_notify(r.rx, NULL, NULL);
	rig_close(&r);
}

/* TCP through a shaped link fills it: goodput is the configured rate times
 * the payload share of each frame (1448 bytes of payload in a 1514-byte
 * frame: Ethernet 14 + IPv4 20 + TCP 20 + timestamps 12), within 2%, from
 * 1 Mbit/s to 10 Gbit/s, measured over the second half of the transfer
 * (after slow start). The queue is deep enough that CUBIC's probing does
 * not overflow it. */
TEST(shaper_tcp_goodput_matches_rate)
{
	static const uint64_t rates[] = {1000000ull, 100000000ull,
					 1000000000ull, 10000000000ull};

	for (size_t i = 0; i < ARRAY_SIZE(rates); i++) {
		struct simnet *sn = simnet_pair(40 + i);
		struct vshaper_params p = {.bandwidth = rates[i],
					   .delay_ns = 1000000,
					   .queue_pkts = 2000};
		/* About 8 s of virtual time at each rate, at least 1 MB. */
		uint64_t bytes = rates[i] / 8 * 8;
		double want = (double)rates[i] * 1448.0 / 1514.0, got;
		char c[32], m[32], e[32];
		struct tcpx x;

		if (bytes < 1000000)
			bytes = 1000000;
		if (bytes > 200000000)
			bytes = 200000000;
		REQUIRE(sn);
		REQUIRE(vif_shaper_set(sn->link[0].a, VSHAPE_EGRESS, &p) == 0);
		REQUIRE(vif_shaper_set(sn->link[0].b, VSHAPE_EGRESS, &p) == 0);
		REQUIRE(tcpx_open(&x, sn, sn->node[0], sn->node[1], "10.0.0.2",
				  6000) == 0);
		REQUIRE(tcpx_transfer(&x, bytes, 3600 * NSEC_PER_SEC) == 0);
		/* The second half: past slow start and window growth. */
		got = (double)(x.rcvd - x.mid_bytes) * 8 /
		      ((double)(x.end_ns - x.mid_ns) / 1e9);
		if (test_verbose())
			printf("  %llu bit/s: TCP goodput %.0f bit/s, %.4f of "
			       "the payload rate\n",
			       (unsigned long long)rates[i], got, got / want);
		CHECK(got > want * 0.98);
		CHECK(got < want * 1.001);
		table_row(got > want * 0.98 && got < want * 1.001,
			  "TCP goodput (CUBIC, 1448-byte segments, 1 ms each "
			  "way, 2000-frame queue, second half of %llu MB) | %s | "
			  "%s (%.5f × expected) | %s = rate × 1448/1514, −2%% / "
			  "+0.1%%",
			  (unsigned long long)(bytes / 1000000),
			  rate_str(c, sizeof(c), (double)rates[i]),
			  rate_str(m, sizeof(m), got), got / want,
			  rate_str(e, sizeof(e), want));
		tcpx_close(&x);
		world_run_until(sn->w, world_now(sn->w) + 120 * NSEC_PER_SEC);
		CHECK_EQ(simnet_free(sn), 0);
	}
}
