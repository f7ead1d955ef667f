/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The TCP grid: two vimages over a shaped ve link (1 Gbit/s, a 1000-frame
 * drop-tail queue each way) with loss {0, 0.1%, 1%, 5%} x one-way delay
 * {0, 1 ms, 50 ms} x reordering {off, 1%} x duplication {off, 1%}, in
 * virtual time. Every transfer must arrive byte-identical (hashed) and
 * close cleanly both ways; the goodput of each cell is printed and, with
 * TCP_GRID_TABLE=path, written as a Markdown table (make bench puts it in
 * docs/PERFORMANCE.md). Deterministic: the world's seed fixes everything.
 *
 * Sizes: 100 MB without loss, less where loss makes the sender slow, and
 * divided by TCP_GRID_DIV (the sanitizer run sets it) to bound wall time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/kern.h"
#include "harness/test.h"
#include "simnet.h"
#include "tcpx.h"

#define MS (NSEC_PER_MSEC)
#define SEC (NSEC_PER_SEC)
#define PPM(x) (VSHAPE_PROB_ONE / 1000000 * (x))

struct cell {
	uint64_t loss_ppm, delay_ns;
	bool reorder, dup;
};

static uint64_t grid_size(const struct cell *c)
{
	uint64_t div = 1;
	const char *e = getenv("TCP_GRID_DIV");

	if (e && atoi(e) > 0)
		div = (uint64_t)atoi(e);
	if (c->loss_ppm >= 50000)
		return 2000000 / div;
	if (c->loss_ppm >= 10000)
		return 10000000 / div;
	if (c->loss_ppm >= 1000)
		return 30000000 / div;
	return 100000000 / div;
}

static void shape(struct ifnet *ifp, const struct cell *c)
{
	struct vshaper_params p = {
	    .bandwidth = 1000000000ull,
	    .delay_ns = c->delay_ns,
	    .loss = PPM(c->loss_ppm),
	    .reorder = c->reorder ? PPM(10000) : 0,
	    .duplicate = c->dup ? PPM(10000) : 0,
	    .queue_pkts = 1000,
	};

	REQUIRE(vif_shaper_set(ifp, VSHAPE_EGRESS, &p) == 0);
}

static int print_stat(void *ctx, const char *name, uint64_t v)
{
	(void)ctx;
	if (v && strncmp(name, "tcp.", 4) == 0)
		printf(" %s=%llu", name + 4, (unsigned long long)v);
	return 0;
}

/* Run one cell; returns goodput in Mbit/s (virtual time), < 0 on
 * failure. */
static double run_cell(const struct cell *c, uint64_t seed, uint64_t *bytes)
{
	struct simnet *sn = simnet_pair(seed);
	struct tcpx x;
	double mbps = -1;
	int rc;

	REQUIRE(sn);
	shape(sn->link[0].a, c);
	shape(sn->link[0].b, c);
	*bytes = grid_size(c);
	REQUIRE(tcpx_open(&x, sn, sn->node[0], sn->node[1], "10.0.0.2",
			  5001) == 0);
	rc = tcpx_transfer(&x, *bytes, 3600 * SEC);
	CHECK_EQ(rc, 0);
	if (rc) {
		printf("  cell loss=%llu ppm delay=%llu ns reorder=%d dup=%d: "
		       "err %d sent %llu rcvd %llu\n",
		       (unsigned long long)c->loss_ppm,
		       (unsigned long long)c->delay_ns, c->reorder, c->dup,
		       x.err, (unsigned long long)x.sent,
		       (unsigned long long)x.rcvd);
	} else if (x.end_ns > x.start_ns) {
		mbps = (double)x.rcvd * 8 / ((double)(x.end_ns - x.start_ns) /
					     1e9) / 1e6;
	}
	if (getenv("TCP_GRID_STATS")) {
		/* Debugging aid: the sender's TCP counters for this cell. */
		vimage_stats_walk(sn->node[0], print_stat, NULL);
		printf("\n");
	}
	tcpx_close(&x);
	/* TIME_WAIT and the last timers run out; then nothing is left. */
	simnet_run(sn, 120 * SEC);
	CHECK_EQ(simnet_free(sn), 0);
	return mbps;
}

TEST(tcp_grid_loss_delay_reorder_dup)
{
	static const uint64_t losses[] = {0, 1000, 10000, 50000};
	static const uint64_t delays[] = {0, 1 * MS, 50 * MS};
	const char *path = getenv("TCP_GRID_TABLE");
	/* TCP_GRID_CELL=n runs one cell (for profiling). */
	const char *only = getenv("TCP_GRID_CELL");
	FILE *out = path ? fopen(path, "w") : NULL;
	unsigned n = 0;

	if (out)
		fprintf(out, "| loss | one-way delay | reorder | dup | bytes | "
			     "goodput Mbit/s |\n|---|---|---|---|---|---|\n");
	for (size_t li = 0; li < ARRAY_SIZE(losses); li++)
		for (size_t di = 0; di < ARRAY_SIZE(delays); di++)
			for (int r = 0; r < 2; r++)
				for (int d = 0; d < 2; d++) {
					struct cell c = {losses[li], delays[di],
							 r != 0, d != 0};
					uint64_t bytes;
					double g;

					if (only && (unsigned)atoi(only) != n) {
						n++;
						continue;
					}
					g = run_cell(&c, 100 + n++, &bytes);

					if (test_verbose() || out)
						printf("  loss %.1f%% delay %3llu ms "
						       "reorder %d dup %d: %llu B "
						       "%.1f Mbit/s\n",
						       (double)c.loss_ppm / 1e4,
						       (unsigned long long)(c.delay_ns / MS),
						       r, d, (unsigned long long)bytes, g);
					if (out)
						fprintf(out, "| %.1f%% | %llu ms | %s | %s | %llu | %.1f |\n",
							(double)c.loss_ppm / 1e4,
							(unsigned long long)(c.delay_ns / MS),
							r ? "1%" : "off", d ? "1%" : "off",
							(unsigned long long)bytes, g);
				}
	if (out)
		fclose(out);
}
