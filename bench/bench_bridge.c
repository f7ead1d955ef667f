/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The learning bridge on one core: a 2-port bridge whose ports are external
 * interfaces. Frames are injected on the first port as a NIC would deliver
 * them (a packet from the pool, the bytes copied in, queued on the run
 * queue), cross the bridge as known unicast (the destination was learned on
 * the second port) and are consumed by the second port's driver callback,
 * which counts them.
 *
 * bridge_mpps_64: 64-byte frames, millions of frames per second.
 * bridge_gbps_1500: 1500-byte frames, Gbit/s of frame bytes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "core/kern.h"
#include "net/if_var.h"
#include "vimage/net.h"

static void count_tx(void *ctx, struct ifnet *ifp, const uint8_t *frame,
		     size_t len)
{
	(void)ifp;
	(void)frame;
	(void)len;
	++*(uint64_t *)ctx;
}

static const struct vif_ext_ops count_ops = {.transmit = count_tx};

/* ns per frame of `len` bytes across the bridge. */
static double bridge_run(size_t len, uint64_t n)
{
	enum { BATCH = 256 };
	static const uint8_t src[6] = {0x02, 0, 0, 0, 0, 1};
	static const uint8_t dst[6] = {0x02, 0, 0, 0, 0, 2};
	struct world_config cfg = {.seed = 1};
	struct world *w;
	struct vimage *vi;
	struct ifnet *br, *in, *out;
	uint64_t got_in = 0, got = 0, sent = 0, t0, t1;
	uint8_t frame[1514] = {0};

	if (world_create(&cfg, &w) || vimage_create(w, "sw", &vi) ||
	    vif_bridge_create(vi, "br0", &br) ||
	    vif_ext_create(vi, "in", &count_ops, &got_in, &in) ||
	    vif_ext_create(vi, "out", &count_ops, &got, &out) ||
	    vif_bridge_add_port(br, in) || vif_bridge_add_port(br, out))
		abort();
	vif_set_up(in, true);
	vif_set_up(out, true);
	vif_set_up(br, true);
	/* The destination station speaks first: it is learned on "out". */
	memcpy(frame, src, 6);
	memcpy(frame + 6, dst, 6);
	frame[12] = 0x88;
	frame[13] = 0xb5;
	if (vif_ext_input(out, frame, 60))
		abort();
	world_run(w);
	memcpy(frame, dst, 6);
	memcpy(frame + 6, src, 6);
	got = 0;
	t0 = bench_now_ns();
	while (sent < n) {
		for (int i = 0; i < BATCH; i++) {
			struct pkt *p = pkt_alloc(w, PKT_HEADROOM, len);

			memcpy(pkt_put(p, len), frame, len);
			world_enqueue_rx(w, in, p);
		}
		sent += BATCH;
		world_run(w);
	}
	t1 = bench_now_ns();
	if (got != sent)
		fprintf(stderr, "bench_bridge: %llu of %llu frames crossed\n",
			(unsigned long long)got, (unsigned long long)sent);
	world_destroy(w);
	return (double)(t1 - t0) / (double)sent;
}

/* Best of three runs. */
static double bridge_best(size_t len, uint64_t n)
{
	double best = 0;

	for (int r = 0; r < 3; r++) {
		double ns = bridge_run(len, n);

		if (r == 0 || ns < best)
			best = ns;
	}
	return best;
}

BENCH(bench_bridge)
{
	double ns64 = bridge_best(64, 4000000);
	double ns1500 = bridge_best(1500, 2000000);

	bench_report("bridge_mpps_64", 1e3 / ns64, "Mpps");
	bench_report("bridge_gbps_1500", 1500.0 * 8 / ns1500, "Gbit/s");
}
