/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * TCP benchmarks: single-stream throughput between two vimages over a ve
 * pair (MTU 1500 and 65535) in real time on one core, the rate of
 * connection setup + teardown, and the memory of an idle established
 * connection. The Linux figures come from bench/linux/netns_tcp.sh (iperf3
 * between two namespaces over veth, and the same connect/close loop).
 */
#include <errno.h>
#include <malloc.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "vimage/net.h"
#include "vimage/socket.h"
#include "vimage/vimage.h"

struct rig {
	struct world *w;
	struct vimage *a, *b;
	struct ifnet *ea, *eb;
};

static void rig_make(struct rig *r, unsigned mtu)
{
	struct world_config cfg = {.seed = 7};
	struct vaddr a4 = VADDR4(10, 0, 0, 1), b4 = VADDR4(10, 0, 0, 2);

	if (world_create(&cfg, &r->w) || vimage_create(r->w, "a", &r->a) ||
	    vimage_create(r->w, "b", &r->b) ||
	    vif_ve_create(r->a, "ve0", r->b, "ve0", &r->ea, &r->eb)) {
		fprintf(stderr, "bench_tcp: setup failed\n");
		exit(1);
	}
	vif_set_mtu(r->ea, mtu);
	vif_set_mtu(r->eb, mtu);
	vif_addr_add(r->ea, &a4, 24);
	vif_addr_add(r->eb, &b4, 24);
	vif_set_up(r->ea, true);
	vif_set_up(r->eb, true);
}

/* Real time drives the world: the clock follows CLOCK_MONOTONIC. */
static void rig_tick(struct rig *r)
{
	world_advance(r->w, bench_now_ns());
}

static void tcp_connect_pair(struct rig *r, uint16_t port, struct vsocket **lsn,
			     struct vsocket **cli, struct vsocket **srv)
{
	struct sockaddr_in sin = {.sin_family = AF_INET,
				  .sin_port = htons(port),
				  .sin_addr.s_addr = htonl(0x0a000002)};
	int one = 1;

	vsock_socket(r->b, AF_INET, SOCK_STREAM, 0, lsn);
	vsock_setsockopt(*lsn, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (vsock_bind(*lsn, (struct sockaddr *)&sin, sizeof(sin)) ||
	    vsock_listen(*lsn, 1024)) {
		fprintf(stderr, "bench_tcp: listen failed\n");
		exit(1);
	}
	vsock_socket(r->a, AF_INET, SOCK_STREAM, 0, cli);
	if (vsock_connect(*cli, (struct sockaddr *)&sin, sizeof(sin)) !=
	    -EINPROGRESS) {
		fprintf(stderr, "bench_tcp: connect failed\n");
		exit(1);
	}
	for (int i = 0; i < 1000 && vsock_accept(*lsn, srv, NULL, NULL); i++)
		rig_tick(r);
}

static double tcp_stream_gbps(unsigned mtu, uint64_t seconds_ns)
{
	static uint8_t buf[1 << 18];
	struct vsocket *lsn, *cli, *srv = NULL;
	uint64_t t0, t1, rcvd = 0;
	struct rig r;

	rig_make(&r, mtu);
	tcp_connect_pair(&r, 5201, &lsn, &cli, &srv);
	if (!srv) {
		fprintf(stderr, "bench_tcp: no connection\n");
		exit(1);
	}
	memset(buf, 0x5a, sizeof(buf));
	t0 = bench_now_ns();
	for (;;) {
		ssize_t n;

		while (vsock_sendto(cli, buf, sizeof(buf), 0, NULL, 0) > 0)
			;
		world_run(r.w);
		while ((n = vsock_recvfrom(srv, buf, sizeof(buf), 0, NULL,
					   NULL)) > 0)
			rcvd += (uint64_t)n;
		t1 = bench_now_ns();
		world_advance(r.w, t1);
		if (t1 - t0 >= seconds_ns)
			break;
	}
	vsock_close(cli);
	vsock_close(srv);
	vsock_close(lsn);
	world_destroy(r.w);
	return (double)rcvd * 8 / (double)(t1 - t0);
}

BENCH(bench_tcp_stream_1500)
{
	bench_report("tcp_gbps_mtu1500", tcp_stream_gbps(1500, 3000000000ull),
		     "Gbit/s");
}

BENCH(bench_tcp_stream_65535)
{
	bench_report("tcp_gbps_mtu65535",
		     tcp_stream_gbps(65535, 3000000000ull), "Gbit/s");
}

BENCH(bench_tcp_conn)
{
	enum { N = 20000 };
	struct vsocket *lsn, *cli, *srv;
	struct sockaddr_in sin = {.sin_family = AF_INET,
				  .sin_port = htons(80),
				  .sin_addr.s_addr = htonl(0x0a000002)};
	struct world_counts c0, c1;
	uint64_t t0, t1;
	struct rig r;
	int one = 1, done = 0;
	char b;

	rig_make(&r, 1500);
	/* Short TIME_WAIT so that 20,000 connections do not exhaust the
	 * ports of one client address (Linux's loop reuses with tw_reuse). */
	vimage_sysctl_set(r.a, "net.inet.tcp.msl_ms", 0);
	vimage_sysctl_set(r.b, "net.inet.tcp.msl_ms", 0);
	vsock_socket(r.b, AF_INET, SOCK_STREAM, 0, &lsn);
	vsock_setsockopt(lsn, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	vsock_bind(lsn, (struct sockaddr *)&sin, sizeof(sin));
	vsock_listen(lsn, 4096);
	t0 = bench_now_ns();
	for (int i = 0; i < N; i++) {
		vsock_socket(r.a, AF_INET, SOCK_STREAM, 0, &cli);
		vsock_connect(cli, (struct sockaddr *)&sin, sizeof(sin));
		world_run(r.w);
		if (vsock_accept(lsn, &srv, NULL, NULL) == 0) {
			vsock_sendto(cli, "x", 1, 0, NULL, 0);
			world_run(r.w);
			if (vsock_recvfrom(srv, &b, 1, 0, NULL, NULL) == 1)
				done++;
			vsock_close(cli);
			world_run(r.w);
			vsock_close(srv);
			world_run(r.w);
		} else {
			vsock_close(cli);
		}
		world_advance(r.w, world_now(r.w) + 1000);
	}
	t1 = bench_now_ns();
	if (done != N)
		fprintf(stderr, "bench_tcp_conn: only %d of %d completed\n",
			done, N);
	bench_report("tcp_conn_per_s", (double)done * 1e9 / (double)(t1 - t0),
		     "conn/s");
	vsock_close(lsn);
	world_destroy(r.w);

	/* Memory of idle established connections: 10,000 pairs, no data
	 * buffered; the growth of the bytes malloc has handed out (so a
	 * heap already grown by earlier benchmarks cannot hide it, as it
	 * does with RSS), including the connection tables, per end. */
	rig_make(&r, 1500);
	vsock_socket(r.b, AF_INET, SOCK_STREAM, 0, &lsn);
	vsock_bind(lsn, (struct sockaddr *)&sin, sizeof(sin));
	vsock_listen(lsn, 65535);
	world_counts(r.w, &c0);
	{
		enum { M = 10000 };
		static struct vsocket *cs[M], *ss[M];
		size_t heap0 = mallinfo2().uordblks, heap1;

		for (int i = 0; i < M; i++) {
			vsock_socket(r.a, AF_INET, SOCK_STREAM, 0, &cs[i]);
			vsock_connect(cs[i], (struct sockaddr *)&sin,
				      sizeof(sin));
			world_run(r.w);
			ss[i] = NULL;
			vsock_accept(lsn, &ss[i], NULL, NULL);
		}
		world_run(r.w);
		heap1 = mallinfo2().uordblks;
		world_counts(r.w, &c1);
		if (c1.tcp_conns - c0.tcp_conns != 2 * M)
			fprintf(stderr, "bench_tcp_conn: %llu connections, not %d\n",
				(unsigned long long)(c1.tcp_conns - c0.tcp_conns),
				2 * M);
		bench_report("tcp_bytes_per_idle_conn",
			     (double)(heap1 - heap0) / (2.0 * M), "B");
		for (int i = 0; i < M; i++) {
			vsock_close(cs[i]);
			if (ss[i])
				vsock_close(ss[i]);
		}
	}
	vsock_close(lsn);
	world_destroy(r.w);
}
