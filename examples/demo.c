/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * make demo: a routed network of vimages in one process, in virtual time.
 *
 *   alice --- r1 --- r2 --- r3 --- bob        (each link a ve pair, /24)
 *                    |
 *                  carol (a child vimage of r2: r2.carol)
 *
 * It pings across, walks the TTL like traceroute, sends a 60 KiB UDP
 * datagram over a 1500-byte hop (fragmented by r2, reassembled by bob),
 * writes a pcap of r2's link to bob, moves 20 MB over TCP through the r2-r3
 * hop shaped to 100 Mbit/s with 5 ms delay and 0.5% loss (SACK recovery at
 * work), prints what each vimage counted, then builds 10,000 more vimages
 * to show what one costs, and tears it all down.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "vimage/net.h"
#include "vimage/socket.h"
#include "vimage/vimage.h"

#define DIE(...)                                                              \
	do {                                                                  \
		fprintf(stderr, "demo: " __VA_ARGS__);                        \
		fputc('\n', stderr);                                          \
		exit(1);                                                      \
	} while (0)

static uint64_t wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static struct vimage *mk(struct world *w, const char *name)
{
	struct vimage *vi;
	int err = vimage_create(w, name, &vi);

	if (err)
		DIE("create %s: %s", name, strerror(-err));
	return vi;
}

static void link2(struct vimage *a, const char *an, const char *aaddr,
		  struct vimage *b, const char *bn, const char *baddr,
		  unsigned mtu)
{
	struct ifnet *x, *y;
	struct vaddr va, vb;
	unsigned pa, pb;

	if (vif_ve_create(a, an, b, bn, &x, &y))
		DIE("ve pair %s/%s", an, bn);
	vaddr_parse_prefix(aaddr, &va, &pa);
	vaddr_parse_prefix(baddr, &vb, &pb);
	vif_set_mtu(x, mtu);
	vif_set_mtu(y, mtu);
	if (vif_addr_add(x, &va, pa) || vif_addr_add(y, &vb, pb))
		DIE("addresses %s %s", aaddr, baddr);
	vif_set_up(x, true);
	vif_set_up(y, true);
}

static void route(struct vimage *vi, const char *dst, const char *gw)
{
	struct vroute r = {.type = VRT_UNICAST};

	if (vaddr_parse_prefix(dst, &r.dst, &r.plen) || vaddr_parse(gw, &r.gw) ||
	    vroute_add(vi, &r))
		DIE("%s: route %s via %s", vimage_name(vi), dst, gw);
}

static struct sockaddr_in sa(const char *ip, int port)
{
	struct sockaddr_in s = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};

	inet_pton(AF_INET, ip, &s.sin_addr);
	return s;
}

static void pcap_sink(void *ctx, const void *d, size_t n)
{
	fwrite(d, 1, n, ctx);
}

static int print_stat(void *ctx, const char *name, uint64_t v)
{
	if (v && (strstr(name, "forward") || strstr(name, "fragment") ||
		  strstr(name, "reassembled") || strstr(name, "echo") ||
		  strstr(name, "timxceed") || strstr(name, "resolved")))
		printf(" %s=%llu", name, (unsigned long long)v);
	return 0;
}

int main(void)
{
	struct world_config cfg = {.seed = 2026};
	struct world *w;
	struct vimage *alice, *r1, *r2, *r3, *bob, *carol;
	struct vsocket *ps, *us, *raw, *rx;
	uint8_t buf[65536];
	FILE *pcap;
	uint64_t t0;

	printf("vimage demo: clonable network stacks, one process, virtual time\n\n");
	if (world_create(&cfg, &w))
		DIE("world");
	alice = mk(w, "alice");
	r1 = mk(w, "r1");
	r2 = mk(w, "r2");
	r3 = mk(w, "r3");
	bob = mk(w, "bob");
	carol = mk(w, "r2.carol");
	link2(alice, "eth0", "10.0.1.2/24", r1, "eth0", "10.0.1.1/24", 9000);
	link2(r1, "eth1", "10.0.2.1/24", r2, "eth0", "10.0.2.2/24", 9000);
	link2(r2, "eth1", "10.0.3.1/24", r3, "eth0", "10.0.3.2/24", 1500);
	link2(r3, "eth1", "10.0.4.1/24", bob, "eth0", "10.0.4.2/24", 9000);
	link2(r2, "eth2", "10.0.5.1/24", carol, "eth0", "10.0.5.2/24", 1500);
	route(alice, "0.0.0.0/0", "10.0.1.1");
	route(bob, "0.0.0.0/0", "10.0.4.1");
	route(carol, "0.0.0.0/0", "10.0.5.1");
	route(r1, "0.0.0.0/0", "10.0.2.2");
	route(r2, "10.0.1.0/24", "10.0.2.1");
	route(r2, "10.0.4.0/24", "10.0.3.2");
	route(r3, "0.0.0.0/0", "10.0.3.1");
	vimage_sysctl_set(r1, "net.inet.ip.forwarding", 1);
	vimage_sysctl_set(r2, "net.inet.ip.forwarding", 1);
	vimage_sysctl_set(r3, "net.inet.ip.forwarding", 1);
	printf("topology: alice - r1 - r2 - r3 - bob, and r2.carol behind r2\n");
	printf("          (links 10.0.1-5.0/24; r2-r3 has MTU 1500, the rest 9000)\n\n");

	pcap = fopen("build/demo-r2-eth1.pcap", "wb");
	if (pcap)
		vif_capture_start(vif_lookup(r2, "eth1"), pcap_sink, pcap, 0);

	/* ping alice -> bob and alice -> carol */
	if (vsock_socket(alice, AF_INET, SOCK_DGRAM, IPPROTO_ICMP, &ps))
		DIE("ping socket");
	const char *targets[] = {"10.0.4.2", "10.0.5.2"};
	for (int t = 0; t < 2; t++) {
		int replies = 0;

		for (int seq = 1; seq <= 3; seq++) {
			uint8_t req[64] = {8, 0, 0, 0, 0, 0, 0, (uint8_t)seq};
			struct sockaddr_in to = sa(targets[t], 0);

			vsock_sendto(ps, req, sizeof(req), 0, (struct sockaddr *)&to, sizeof(to));
			world_run_until(w, world_now(w) + 100 * 1000000ull);
			if (vsock_recvfrom(ps, buf, sizeof(buf), 0, NULL, NULL) == 64 &&
			    buf[0] == 0)
				replies++;
		}
		printf("alice$ ping -c 3 %s: %d/3 replies\n", targets[t], replies);
	}

	/* traceroute alice -> bob */
	vsock_socket(alice, AF_INET, SOCK_DGRAM, 0, &us);
	vsock_socket(alice, AF_INET, SOCK_RAW, IPPROTO_ICMP, &raw);
	printf("alice$ traceroute 10.0.4.2\n");
	for (int ttl = 1; ttl <= 8; ttl++) {
		struct sockaddr_in to = sa("10.0.4.2", 33434 + ttl);
		ssize_t n;

		vsock_setsockopt(us, IPPROTO_IP, IP_TTL, &ttl, sizeof(ttl));
		vsock_sendto(us, "probe", 5, 0, (struct sockaddr *)&to, sizeof(to));
		world_run_until(w, world_now(w) + 100 * 1000000ull);
		n = vsock_recvfrom(raw, buf, sizeof(buf), 0, NULL, NULL);
		if (n < 28) {
			printf("  %d  *\n", ttl);
			continue;
		}
		size_t hl = (size_t)(buf[0] & 15) * 4;
		printf("  %d  %u.%u.%u.%u  (%s)\n", ttl, buf[12], buf[13], buf[14],
		       buf[15], buf[hl] == 11 ? "time exceeded" : "port unreachable: arrived");
		if (buf[hl] != 11)
			break;
	}

	/* 60 KiB of UDP over the 1500-byte hop */
	{
		struct sockaddr_in any = sa("0.0.0.0", 7000), to = sa("10.0.4.2", 7000);
		static uint8_t big[60 * 1024];
		ssize_t n;
		uint64_t frags = 0, reasm = 0;

		for (size_t i = 0; i < sizeof(big); i++)
			big[i] = (uint8_t)(i * 31);
		vsock_socket(bob, AF_INET, SOCK_DGRAM, 0, &rx);
		vsock_bind(rx, (struct sockaddr *)&any, sizeof(any));
		vsock_sendto(us, big, sizeof(big), 0, (struct sockaddr *)&to, sizeof(to));
		world_run_until(w, world_now(w) + 100 * 1000000ull);
		n = vsock_recvfrom(rx, buf, sizeof(buf), 0, NULL, NULL);
		vimage_stat_get(r2, "ip.ofragments", &frags);
		vimage_stat_get(bob, "ip.reassembled", &reasm);
		printf("alice -> bob: 60 KiB UDP datagram: r2 cut %llu fragments, "
		       "bob reassembled %llu, %s\n",
		       (unsigned long long)frags, (unsigned long long)reasm,
		       n == (ssize_t)sizeof(big) && !memcmp(buf, big, sizeof(big))
			       ? "bytes identical"
			       : "MISMATCH");
	}
	vsock_close(ps);
	vsock_close(us);
	vsock_close(raw);
	vsock_close(rx);
	if (pcap) {
		vif_capture_stop(vif_lookup(r2, "eth1"));
		fclose(pcap);
		printf("capture of r2/eth1: build/demo-r2-eth1.pcap (tcpdump -nr ...)\n");
	}
	/* TCP: 20 MB from alice to bob over the shaped r2-r3 hop. */
	{
		struct vshaper_params sh = {
		    .bandwidth = 100000000ull, /* 100 Mbit/s */
		    .delay_ns = 5000000ull,    /* 5 ms each way */
		    .loss = VSHAPE_PROB_ONE / 200, /* 0.5% */
		    .queue_pkts = 200,
		};
		struct sockaddr_in any = sa("0.0.0.0", 80), to = sa("10.0.4.2", 80);
		struct vsocket *lsn, *cli, *srv = NULL;
		static uint8_t chunk[65536], rbuf[65536];
		uint64_t total = 20000000, sent = 0, got = 0, h_tx = 1, h_rx = 1;
		uint64_t vt0 = world_now(w), rexmit = 0, sacks = 0;
		int eof = 0;

		vif_shaper_set(vif_lookup(r2, "eth1"), VSHAPE_EGRESS, &sh);
		vif_shaper_set(vif_lookup(r3, "eth0"), VSHAPE_EGRESS, &sh);
		for (size_t i = 0; i < sizeof(chunk); i++)
			chunk[i] = (uint8_t)(i * 7 + 3);
		vsock_socket(bob, AF_INET, SOCK_STREAM, 0, &lsn);
		vsock_bind(lsn, (struct sockaddr *)&any, sizeof(any));
		vsock_listen(lsn, 16);
		vsock_socket(alice, AF_INET, SOCK_STREAM, 0, &cli);
		vsock_connect(cli, (struct sockaddr *)&to, sizeof(to));
		for (int guard = 0; guard < 50000000 && !eof; guard++) {
			ssize_t n;
			int moved = 0;

			if (!srv && vsock_accept(lsn, &srv, NULL, NULL) == 0)
				moved = 1;
			while (sent < total) {
				size_t len = total - sent < sizeof(chunk)
						 ? (size_t)(total - sent)
						 : sizeof(chunk);
				size_t off = (size_t)(sent % sizeof(chunk));

				if (len > sizeof(chunk) - off)
					len = sizeof(chunk) - off;
				n = vsock_sendto(cli, chunk + off, len, 0, NULL, 0);
				if (n <= 0)
					break;
				for (ssize_t i = 0; i < n; i++)
					h_tx = h_tx * 31 + chunk[off + (size_t)i];
				sent += (uint64_t)n;
				moved = 1;
				if (sent == total)
					vsock_shutdown(cli, SHUT_WR);
			}
			while (srv && (n = vsock_recvfrom(srv, rbuf, sizeof(rbuf), 0,
							  NULL, NULL)) >= 0) {
				if (n == 0) {
					eof = 1;
					break;
				}
				for (ssize_t i = 0; i < n; i++)
					h_rx = h_rx * 31 + rbuf[i];
				got += (uint64_t)n;
				moved = 1;
			}
			if (!moved && !world_run(w)) {
				uint64_t next = world_next_deadline(w);

				if (next == UINT64_MAX)
					break;
				world_advance(w, next);
			}
		}
		vimage_stat_get(alice, "tcp.retrans_segs", &rexmit);
		vimage_stat_get(alice, "tcp.sack_recoveries", &sacks);
		printf("alice -> bob: TCP, 20 MB through r2-r3 shaped to 100 Mbit/s, "
		       "5 ms, 0.5%% loss:\n  %.1f Mbit/s goodput (virtual time), "
		       "%llu segments resent, %llu SACK recoveries, %s\n",
		       (double)got * 8 / ((double)(world_now(w) - vt0) / 1e9) / 1e6,
		       (unsigned long long)rexmit, (unsigned long long)sacks,
		       got == total && h_rx == h_tx ? "bytes identical"
						    : "MISMATCH");
		if (got != total || h_rx != h_tx)
			return 1;
		vsock_close(cli);
		if (srv)
			vsock_close(srv);
		vsock_close(lsn);
		vif_shaper_set(vif_lookup(r2, "eth1"), VSHAPE_EGRESS, NULL);
		vif_shaper_set(vif_lookup(r3, "eth0"), VSHAPE_EGRESS, NULL);
	}
	printf("\ncounters:\n");
	struct vimage *all[] = {alice, r1, r2, r3, bob, carol};
	for (int i = 0; i < 6; i++) {
		printf("  %-9s", vimage_name(all[i]));
		vimage_stats_walk(all[i], print_stat, NULL);
		printf("\n");
	}
	printf("virtual time elapsed: %.1f ms\n\n", (double)world_now(w) / 1e6);

	/* What a vimage costs. */
	{
		enum { N = 10000 };
		char name[32];
		struct rusage ru0, ru1;

		getrusage(RUSAGE_SELF, &ru0);
		t0 = wall_ns();
		for (int i = 0; i < N; i++) {
			struct vimage *v;
			struct ifnet *x, *y;
			struct vaddr a = {.family = AF_INET, .v4 = 0x0b000000u | (uint32_t)i << 2 | 1};

			snprintf(name, sizeof(name), "bulk%d", i);
			v = mk(w, name);
			vif_ve_create(v, "eth0", r1, NULL, &x, &y);
			vif_addr_add(x, &a, 30);
			vif_set_up(x, true);
		}
		uint64_t dt = wall_ns() - t0;
		getrusage(RUSAGE_SELF, &ru1);
		printf("created %d more vimages (lo0 + ve pair + address each) in %.1f ms: "
		       "%.2f us each\n", N, (double)dt / 1e6, (double)dt / 1e3 / N);
		(void)ru0;
		(void)ru1;
		t0 = wall_ns();
		for (int i = 0; i < N; i++) {
			snprintf(name, sizeof(name), "bulk%d", i);
			vimage_destroy(vimage_lookup(w, name));
		}
		printf("destroyed them in %.1f ms\n", (double)(wall_ns() - t0) / 1e6);
	}
	{
		struct world_counts c;

		vimage_destroy(alice);
		vimage_destroy(r1);
		vimage_destroy(r2); /* takes r2.carol */
		vimage_destroy(r3);
		vimage_destroy(bob);
		world_run(w); /* frames in flight to destroyed interfaces drop */
		world_counts(w, &c);
		printf("teardown: %llu vimages (the root), %llu packets, %llu timers, "
		       "%llu TCP connections left\n",
		       (unsigned long long)c.vimages, (unsigned long long)c.pkts,
		       (unsigned long long)c.timers,
		       (unsigned long long)c.tcp_conns);
		if (c.vimages != 1 || c.pkts || c.timers || c.tcp_conns)
			DIE("something leaked");
	}
	world_destroy(w);
	printf("demo: ok\n");
	return 0;
}
