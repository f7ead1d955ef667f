/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Core benchmarks: the cost of a vimage and of forwarding through one.
 *
 * vimage_create: 100,000 vimages, each with lo0, one end of a ve pair (pairs
 *   join vimages 2k and 2k+1), an IPv4 address on it, up. Time and resident
 *   memory per vimage (each pair's gratuitous ARPs are processed, so the
 *   neighbour entries they create are counted); then all are destroyed and
 *   the memory left over is reported (after malloc_trim, so freed memory is
 *   given back; the world's bounded packet free list stays).
 * fwd: 64-byte frames (14 Ethernet + 20 IP + 8 UDP + 22 payload) through a
 *   chain h0 - r1 - ... - r32 - h1 on one core, injected on r1's first
 *   interface as a NIC would deliver them, received by a UDP socket in h1.
 *   ns per hop = (ns per packet through 32 routers - ns per packet straight
 *   into h1) / 32, the method of the Linux baseline.
 */
#include <arpa/inet.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "core/kern.h"
#include "net/if_var.h"
#include "vimage/net.h"
#include "vimage/socket.h"
#include "wire/wire.h"

BENCH(bench_vimage_create)
{
	enum { N = 100000 };
	struct world_config cfg = {.seed = 1};
	struct world *w;
	struct vimage **v = malloc(N * sizeof(*v));
	uint64_t rss0, rss1, rss2, t0, t1;
	char name[32];

	if (!v || world_create(&cfg, &w))
		abort();
	malloc_trim(0);
	rss0 = bench_rss_kib();
	t0 = bench_now_ns();
	for (int i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "v%d", i);
		if (vimage_create(w, name, &v[i]))
			abort();
		if (i & 1) {
			struct ifnet *a, *b;
			struct vaddr aa = vaddr_v4(0x0a000000u | (uint32_t)(i - 1) << 1);
			struct vaddr bb = vaddr_v4(0x0a000000u | (uint32_t)(i - 1) << 1 | 1);

			if (vif_ve_create(v[i - 1], "eth0", v[i], "eth0", &a, &b) ||
			    vif_addr_add(a, &aa, 31) || vif_addr_add(b, &bb, 31))
				abort();
			vif_set_up(a, true);
			vif_set_up(b, true);
			world_run(w); /* the pair's gratuitous ARPs are received */
		}
	}
	t1 = bench_now_ns();
	rss1 = bench_rss_kib();
	bench_report("vimage_create_us", (double)(t1 - t0) / 1e3 / N, "us");
	bench_report("vimage_mem_kib", (double)(rss1 - rss0) / N, "KiB");
	t0 = bench_now_ns();
	for (int i = 0; i < N; i++)
		vimage_destroy(v[i]);
	world_run(w);
	t1 = bench_now_ns();
	malloc_trim(0);
	rss2 = bench_rss_kib();
	bench_report("vimage_destroy_us", (double)(t1 - t0) / 1e3 / N, "us");
	bench_report("vimage_destroy_residual_kib",
		     rss2 > rss0 ? (double)(rss2 - rss0) : 0, "KiB");
	world_destroy(w);
	free(v);
}

static uint32_t la(int link, int side)
{
	return (10u << 24) | ((uint32_t)link << 8) | (uint32_t)side;
}

static void add_gw(struct vimage *vi, uint32_t dst, unsigned plen, uint32_t gw)
{
	struct vroute r = {.dst = vaddr_v4(dst), .plen = plen,
			   .type = VRT_UNICAST, .gw = vaddr_v4(gw)};

	if (vroute_add(vi, &r))
		abort();
}

/* ns per packet to push N frames from r1's first interface through a chain
 * of `hops` routers (0: straight into h1) and into a UDP socket in h1. */
static double fwd_run(int hops, int n)
{
	enum { BATCH = 256, MAXH = 64 };
	struct world_config cfg = {.seed = 1};
	struct vimage *node[MAXH + 2];
	struct ifnet *east[MAXH + 2], *west[MAXH + 2];
	struct world *w;
	struct vsocket *rx, *ps;
	uint8_t frame[64];
	char name[16];
	uint64_t t0, t1, got = 0, sent = 0;
	struct ifnet *entry;

	if (world_create(&cfg, &w))
		abort();
	for (int i = 0; i < hops + 2; i++) {
		snprintf(name, sizeof(name), "n%d", i);
		if (vimage_create(w, name, &node[i]))
			abort();
	}
	for (int l = 0; l <= hops; l++) {
		struct vaddr a = vaddr_v4(la(l, 1)), b = vaddr_v4(la(l, 2));

		if (vif_ve_create(node[l], "east", node[l + 1], "west", &east[l],
				  &west[l + 1]) ||
		    vif_addr_add(east[l], &a, 24) || vif_addr_add(west[l + 1], &b, 24))
			abort();
		vif_set_up(east[l], true);
		vif_set_up(west[l + 1], true);
	}
	add_gw(node[0], 0, 0, la(0, 2));
	add_gw(node[hops + 1], 0, 0, la(hops, 1));
	for (int k = 1; k <= hops; k++) {
		vimage_sysctl_set(node[k], "net.inet.ip.forwarding", 1);
		if (k < hops)
			add_gw(node[k], 0, 0, la(k, 2));
		if (k > 1)
			add_gw(node[k], la(0, 0), 24, la(k - 1, 1));
	}
	/* Warm up: resolve every ARP entry along the path with one ping. */
	if (vsock_socket(node[0], AF_INET, SOCK_DGRAM, IPPROTO_ICMP, &ps))
		abort();
	{
		uint8_t req[16] = {8, 0};
		struct sockaddr_in to = {.sin_family = AF_INET};

		to.sin_addr.s_addr = htonl(la(hops, 2));
		vsock_sendto(ps, req, sizeof(req), 0, (struct sockaddr *)&to, sizeof(to));
		world_run_until(w, world_now(w) + NSEC_PER_SEC);
		vsock_close(ps);
	}
	if (vsock_socket(node[hops + 1], AF_INET, SOCK_DGRAM, 0, &rx))
		abort();
	{
		struct sockaddr_in any = {.sin_family = AF_INET, .sin_port = htons(9)};

		vsock_bind(rx, (struct sockaddr *)&any, sizeof(any));
	}
	/* The frame h0 sends to its next hop. */
	entry = west[1];
	{
		struct eth_repr eh = {.ethertype = ETHERTYPE_IPV4};
		struct ipv4_repr ip = {.hlen = 20, .total_len = 50, .ttl = 64,
				       .proto = IPPROTO_UDP_, .src = la(0, 1),
				       .dst = la(hops, 2)};
		struct udp_repr u = {.sport = 5555, .dport = 9};

		memcpy(eh.dst, entry->mac, 6);
		memcpy(eh.src, east[0]->mac, 6);
		eth_emit(&eh, frame);
		ipv4_emit(&ip, frame + 14);
		memset(frame + 42, 0x5a, 22);
		udp4_emit(&u, frame + 34, 22, ip.src, ip.dst, true);
	}
	t0 = bench_now_ns();
	while (sent < (uint64_t)n) {
		for (int i = 0; i < BATCH; i++) {
			struct pkt *p = pkt_alloc(w, PKT_HEADROOM, sizeof(frame));

			memcpy(pkt_put(p, sizeof(frame)), frame, sizeof(frame));
			p->flags = PKT_CSUM_OK; /* as a ve end would mark it */
			world_enqueue_rx(w, entry, p);
		}
		sent += BATCH;
		world_run(w);
		for (;;) {
			uint8_t buf[64];

			if (vsock_recvfrom(rx, buf, sizeof(buf), 0, NULL, NULL) < 0)
				break;
			got++;
		}
	}
	t1 = bench_now_ns();
	if (got != sent)
		fprintf(stderr, "bench_fwd: %llu of %llu delivered with %d hops\n",
			(unsigned long long)got, (unsigned long long)sent, hops);
	vsock_close(rx);
	world_destroy(w);
	return (double)(t1 - t0) / (double)sent;
}

/* As the Linux baseline (bench/linux/netns_chain.sh) does it: the cost per
 * packet through 32 routers minus the cost straight into the receiver,
 * divided by 32, best of three interleaved runs. */
BENCH(bench_fwd)
{
	enum { HOPS = 32, N = 1 << 20 };
	double best32 = 1e18, best0 = 1e18;

	for (int r = 0; r < 3; r++) {
		double t32 = fwd_run(HOPS, N), t0 = fwd_run(0, N);

		if (t32 < best32)
			best32 = t32;
		if (t0 < best0)
			best0 = t0;
	}
	bench_report("fwd_ns_per_hop", (best32 - best0) / HOPS, "ns");
	bench_report("fwd_mpps_chain32", 1e3 / best32, "Mpps");
}
