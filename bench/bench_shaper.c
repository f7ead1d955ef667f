/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The traffic shaper's cost when it is configured but does not limit.
 *
 * Two vimages joined by a ve pair (10.9.0.1/24 -- 10.9.0.2/24). A UDP socket
 * in the first sends 64-byte frames (14 Ethernet + 20 IP + 8 UDP + 22
 * payload) to a socket in the second, in batches of 256 sends, each batch
 * followed by world_run and draining the receiver, on one core.
 *
 * shaper_ns_per_pkt: ns per delivered packet with an egress shaper on the
 * sender's ve end minus ns per packet without one. The shaper has only a
 * queue limit (queue_pkts 1000): no bandwidth, delay, jitter, loss, bit
 * errors, duplication or reordering. It is on the path (if_transmit hands
 * every frame to shaper_enqueue, which queues it and releases it at once,
 * as nothing makes it wait) but never delays or drops a frame; its counters
 * are checked for that. Best of three interleaved runs of each; the two
 * per-packet figures are printed on stderr.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "core/kern.h"
#include "net/if_var.h"
#include "vimage/net.h"
#include "vimage/socket.h"

/* ns per packet for n datagrams, with or without the idle shaper. */
static double shaper_run(bool shaped, uint64_t n)
{
	enum { BATCH = 256, PORT = 9 };
	struct world_config cfg = {.seed = 1};
	struct vshaper_params par = {.queue_pkts = 1000};
	struct vshaper_stats st;
	struct world *w;
	struct vimage *va, *vb;
	struct ifnet *ea, *eb;
	struct vsocket *tx, *rx;
	struct vaddr aa = vaddr_v4(0x0a090001u), ab = vaddr_v4(0x0a090002u);
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(PORT)};
	struct sockaddr_in any = {.sin_family = AF_INET, .sin_port = htons(PORT)};
	uint8_t payload[22], buf[64];
	uint64_t sent = 0, got = 0, t0, t1;

	memset(payload, 0x5a, sizeof(payload));
	to.sin_addr.s_addr = htonl(0x0a090002u);
	if (world_create(&cfg, &w) || vimage_create(w, "a", &va) ||
	    vimage_create(w, "b", &vb) ||
	    vif_ve_create(va, "eth0", vb, "eth0", &ea, &eb) ||
	    vif_addr_add(ea, &aa, 24) || vif_addr_add(eb, &ab, 24))
		abort();
	vif_set_up(ea, true);
	vif_set_up(eb, true);
	if (shaped && vif_shaper_set(ea, VSHAPE_EGRESS, &par))
		abort();
	if (vsock_socket(va, AF_INET, SOCK_DGRAM, 0, &tx) ||
	    vsock_socket(vb, AF_INET, SOCK_DGRAM, 0, &rx) ||
	    vsock_bind(rx, (struct sockaddr *)&any, sizeof(any)) ||
	    vsock_connect(tx, (struct sockaddr *)&to, sizeof(to)))
		abort();
	/* Warm up: resolve ARP with one datagram. */
	if (vsock_sendto(tx, payload, sizeof(payload), 0, NULL, 0) < 0)
		abort();
	world_run_until(w, world_now(w) + NSEC_PER_SEC);
	while (vsock_recvfrom(rx, buf, sizeof(buf), 0, NULL, NULL) >= 0)
		;
	t0 = bench_now_ns();
	while (sent < n) {
		for (int i = 0; i < BATCH; i++)
			if (vsock_sendto(tx, payload, sizeof(payload), 0, NULL, 0) ==
			    (ssize_t)sizeof(payload))
				sent++;
		world_run(w);
		while (vsock_recvfrom(rx, buf, sizeof(buf), 0, NULL, NULL) >= 0)
			got++;
	}
	t1 = bench_now_ns();
	if (got != sent)
		fprintf(stderr, "bench_shaper: %llu of %llu delivered (%s)\n",
			(unsigned long long)got, (unsigned long long)sent,
			shaped ? "shaped" : "unshaped");
	if (shaped) {
		if (vif_shaper_stats(ea, VSHAPE_EGRESS, &st))
			abort();
		if (st.sent != st.enqueued || st.dropped_queue || st.queued_pkts)
			fprintf(stderr,
				"bench_shaper: the shaper limited: enqueued %llu sent %llu dropped %llu queued %llu\n",
				(unsigned long long)st.enqueued,
				(unsigned long long)st.sent,
				(unsigned long long)st.dropped_queue,
				(unsigned long long)st.queued_pkts);
	}
	vsock_close(tx);
	vsock_close(rx);
	world_destroy(w);
	return got ? (double)(t1 - t0) / (double)got : 1e18;
}

BENCH(bench_shaper)
{
	enum { N = 1 << 22 };
	double best0 = 1e18, best1 = 1e18;

	for (int r = 0; r < 3; r++) {
		double t0 = shaper_run(false, N), t1 = shaper_run(true, N);

		if (t0 < best0)
			best0 = t0;
		if (t1 < best1)
			best1 = t1;
	}
	fprintf(stderr,
		"bench_shaper: %.1f ns/pkt without a shaper, %.1f ns/pkt with an idle one\n",
		best0, best1);
	bench_report("shaper_ns_per_pkt", best1 - best0, "ns");
}
