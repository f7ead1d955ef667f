/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * TCP at scale, in virtual time: 10,000 concurrent connections between two
 * vimages and 100,000 across 1,000 vimages (500 client/server pairs, each
 * on its own ve link), every one opened, used (the client sends 8 bytes
 * that name it, the server checks and echoes them, the client checks the
 * echo), closed from the client and run past TIME_WAIT, with no socket,
 * connection, packet or timer left; then vimages destroyed under 1,000
 * busy connections (unread data, unacknowledged and unsent data, frames
 * in flight both ways, unaccepted connections, TIME_WAIT), the counts
 * back to baseline at once and the surviving ends failing cleanly (or
 * reset, when the lost side comes back at its address). The last tests
 * are the smallest cases of what these found.
 *
 * TCP_SCALE_DIV=n divides the connection count of the 100,000 test, for
 * slow builds (the sanitizer build takes about 3 s without it). With -v
 * the idle cost of a connection is printed (heap in use, both ends, from
 * mallinfo2; nothing under ASan, whose allocator it does not see).
 */
#include <arpa/inet.h>
#include <linux/sockios.h>
#include <malloc.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "core/kern.h"
#include "harness/test.h"
#include "netinet/tcp_var.h"
#include "simnet.h"
#include "socket/socket_var.h"

#define SA(s)	   ((struct sockaddr *)&(s))
#define MS	   (NSEC_PER_MSEC)
#define SEC	   (NSEC_PER_SEC)
#define MSG_LEN	   8
#define SCALE_PORT 80

/* ---- a fleet of connections ---------------------------------------------- */

/* n = npairs * per_pair connections; connection i runs from client vimage
 * cvi[i / per_pair] to the listener of svi[i / per_pair]. */
struct fleet {
	struct simnet *sn;
	size_t npairs, per_pair, n;
	struct vimage **cvi, **svi;
	struct sockaddr_in *sin; /* the server address of each pair */
	struct vsocket **lsn;	 /* each pair's listener */
	struct vsocket **cli, **srv;
	uint16_t *cport;      /* each client's local port */
	struct vsocket **acc; /* accepted, not yet matched to a client */
	size_t *acc_pair;
	size_t nacc;
	size_t *todo, ntodo;
	unsigned bad;
	int rcvbuf; /* SO_RCVBUF of listeners and clients (0: default) */
};

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);

	REQUIRE(p);
	return p;
}

static struct fleet *fleet_new(struct simnet *sn, size_t npairs,
			       size_t per_pair)
{
	struct fleet *f = xcalloc(1, sizeof(*f));

	f->sn = sn;
	f->npairs = npairs;
	f->per_pair = per_pair;
	f->n = npairs * per_pair;
	f->cvi = xcalloc(npairs, sizeof(*f->cvi));
	f->svi = xcalloc(npairs, sizeof(*f->svi));
	f->sin = xcalloc(npairs, sizeof(*f->sin));
	f->lsn = xcalloc(npairs, sizeof(*f->lsn));
	f->cli = xcalloc(f->n, sizeof(*f->cli));
	f->srv = xcalloc(f->n, sizeof(*f->srv));
	f->cport = xcalloc(f->n, sizeof(*f->cport));
	f->acc = xcalloc(f->n, sizeof(*f->acc));
	f->acc_pair = xcalloc(f->n, sizeof(*f->acc_pair));
	f->todo = xcalloc(f->n, sizeof(*f->todo));
	return f;
}

/* Close whatever the test still holds (sockets of destroyed vimages must
 * have been forgotten first) and free the fleet. */
static void fleet_free(struct fleet *f)
{
	for (size_t i = 0; i < f->n; i++) {
		if (f->cli[i])
			vsock_close(f->cli[i]);
		if (f->srv[i])
			vsock_close(f->srv[i]);
		if (f->acc[i])
			vsock_close(f->acc[i]);
	}
	for (size_t p = 0; p < f->npairs; p++)
		if (f->lsn[p])
			vsock_close(f->lsn[p]);
	free(f->cvi);
	free(f->svi);
	free(f->sin);
	free(f->lsn);
	free(f->cli);
	free(f->srv);
	free(f->cport);
	free(f->acc);
	free(f->acc_pair);
	free(f->todo);
	free(f);
}

/* A problem with one connection: counted, the first few printed. */
static void __attribute__((format(printf, 3, 4)))
fleet_bad(struct fleet *f, size_t i, const char *fmt, ...)
{
	va_list ap;

	if (f->bad++ >= 8)
		return;
	printf("  conn %zu: ", i);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

/* The bytes connection i sends: its index and a tag that depends on it. */
static void conn_msg(size_t i, uint8_t m[MSG_LEN])
{
	uint32_t idx = (uint32_t)i, tag = idx * 2654435761u ^ 0x5ca1ab1eu;

	memcpy(m, &idx, 4);
	memcpy(m + 4, &tag, 4);
}

static uint16_t sock_port(struct vsocket *so, bool peer)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int err = peer ? vsock_getpeername(so, SA(sin), &len)
		       : vsock_getsockname(so, SA(sin), &len);

	return err ? 0 : ntohs(sin.sin_port);
}

static void fleet_listen(struct fleet *f, uint16_t port)
{
	for (size_t p = 0; p < f->npairs; p++) {
		struct sockaddr_in any = simnet_sin("0.0.0.0", port);

		REQUIRE(vsock_socket(f->svi[p], AF_INET, SOCK_STREAM, 0,
				     &f->lsn[p]) == 0);
		if (f->rcvbuf)
			vsock_setsockopt(f->lsn[p], SOL_SOCKET, SO_RCVBUF,
					 &f->rcvbuf, sizeof(f->rcvbuf));
		REQUIRE(vsock_bind(f->lsn[p], SA(any), sizeof(any)) == 0);
		REQUIRE(vsock_listen(f->lsn[p], 65535) == 0);
		f->sin[p].sin_port = htons(port);
	}
}

static void fleet_connect(struct fleet *f)
{
	for (size_t i = 0; i < f->n; i++) {
		size_t p = i / f->per_pair;
		int err;

		REQUIRE(vsock_socket(f->cvi[p], AF_INET, SOCK_STREAM, 0,
				     &f->cli[i]) == 0);
		if (f->rcvbuf)
			vsock_setsockopt(f->cli[i], SOL_SOCKET, SO_RCVBUF,
					 &f->rcvbuf, sizeof(f->rcvbuf));
		err =
		    vsock_connect(f->cli[i], SA(f->sin[p]), sizeof(f->sin[p]));
		if (err != -EINPROGRESS)
			fleet_bad(f, i, "connect: %d", err);
		f->cport[i] = sock_port(f->cli[i], false);
	}
}

/* Accept on every listener until n connections are in or limit_ns of
 * virtual time has passed. */
static void fleet_accept(struct fleet *f, uint64_t limit_ns)
{
	uint64_t end = world_now(f->sn->w) + limit_ns;

	f->nacc = 0;
	for (;;) {
		for (size_t p = 0; p < f->npairs; p++) {
			struct vsocket *s;

			while (f->nacc < f->n &&
			       vsock_accept(f->lsn[p], &s, NULL, NULL) == 0) {
				f->acc[f->nacc] = s;
				f->acc_pair[f->nacc++] = p;
			}
		}
		if (f->nacc == f->n || world_now(f->sn->w) >= end)
			break;
		simnet_run(f->sn, 100 * MS);
	}
	if (f->nacc != f->n)
		fleet_bad(f, f->nacc, "accepted %zu of %zu", f->nacc, f->n);
}

/* A step on item j: 1 done, 0 not yet (try again after step_ns of virtual
 * time), -1 failed (fleet_bad has counted it). */
typedef int (*fleet_step)(struct fleet *f, size_t j);

static void fleet_phase(struct fleet *f, const char *what, size_t count,
			fleet_step fn, uint64_t step_ns, unsigned rounds)
{
	f->ntodo = 0;
	for (size_t j = 0; j < count; j++)
		f->todo[f->ntodo++] = j;
	for (unsigned r = 0; r < rounds && f->ntodo; r++) {
		size_t k = 0;

		for (size_t t = 0; t < f->ntodo; t++)
			if (fn(f, f->todo[t]) == 0)
				f->todo[k++] = f->todo[t];
		f->ntodo = k;
		simnet_run(f->sn, step_ns);
	}
	if (f->ntodo)
		fleet_bad(f, f->todo[0], "%s: %zu never done", what, f->ntodo);
}

static int step_connected(struct fleet *f, size_t i)
{
	unsigned ev = vsock_poll(f->cli[i]);
	int err = 0;
	socklen_t len = sizeof(err);

	vsock_getsockopt(f->cli[i], SOL_SOCKET, SO_ERROR, &err, &len);
	if ((ev & POLLERR) || err) {
		fleet_bad(f, i, "connect failed: %d", err);
		return -1;
	}
	return ev & POLLOUT ? 1 : 0;
}

static int step_send_msg(struct fleet *f, size_t i)
{
	uint8_t m[MSG_LEN];
	ssize_t n;

	conn_msg(i, m);
	n = vsock_sendto(f->cli[i], m, MSG_LEN, 0, NULL, 0);
	if (n != MSG_LEN) {
		fleet_bad(f, i, "send: %zd", n);
		return -1;
	}
	return 1;
}

/* Server side: read exactly the 8 bytes of one client, find which, echo. */
static int step_serve(struct fleet *f, size_t j)
{
	struct vsocket *s = f->acc[j];
	uint8_t buf[2 * MSG_LEN], m[MSG_LEN];
	uint32_t idx;
	ssize_t n;

	n = vsock_recvfrom(s, buf, sizeof(buf), 0, NULL, NULL);
	if (n == -EAGAIN)
		return 0;
	if (n != MSG_LEN) {
		fleet_bad(f, j, "server read %zd", n);
		return -1;
	}
	memcpy(&idx, buf, 4);
	if (idx >= f->n || idx / f->per_pair != f->acc_pair[j]) {
		fleet_bad(f, j, "index %u from the wrong pair", idx);
		return -1;
	}
	conn_msg(idx, m);
	if (memcmp(buf, m, MSG_LEN) != 0 || f->srv[idx]) {
		fleet_bad(f, idx, "bad or repeated message");
		return -1;
	}
	if (sock_port(s, true) != f->cport[idx]) {
		fleet_bad(f, idx, "peer port %u, client bound %u",
			  sock_port(s, true), f->cport[idx]);
		return -1;
	}
	f->srv[idx] = s;
	f->acc[j] = NULL;
	n = vsock_sendto(s, buf, MSG_LEN, 0, NULL, 0);
	if (n != MSG_LEN) {
		fleet_bad(f, idx, "echo send: %zd", n);
		return -1;
	}
	return 1;
}

static int step_check_echo(struct fleet *f, size_t i)
{
	uint8_t buf[2 * MSG_LEN], m[MSG_LEN];
	ssize_t n = vsock_recvfrom(f->cli[i], buf, sizeof(buf), 0, NULL, NULL);

	if (n == -EAGAIN)
		return 0;
	conn_msg(i, m);
	if (n != MSG_LEN || memcmp(buf, m, MSG_LEN) != 0) {
		fleet_bad(f, i, "echo: read %zd", n);
		return -1;
	}
	return 1;
}

static int step_client_close(struct fleet *f, size_t i)
{
	vsock_close(f->cli[i]);
	f->cli[i] = NULL;
	return 1;
}

static int step_server_eof_close(struct fleet *f, size_t i)
{
	uint8_t buf[16];
	ssize_t n;

	if (!f->srv[i])
		return -1; /* never matched: already counted */
	n = vsock_recvfrom(f->srv[i], buf, sizeof(buf), 0, NULL, NULL);
	if (n == -EAGAIN)
		return 0;
	if (n != 0) {
		fleet_bad(f, i, "server expected EOF, read %zd", n);
		return -1;
	}
	vsock_close(f->srv[i]);
	f->srv[i] = NULL;
	return 1;
}

/* Open every connection and exchange the messages; both ends stay open. */
static void fleet_open_and_use(struct fleet *f)
{
	fleet_listen(f, SCALE_PORT);
	fleet_connect(f);
	/* SYNs beyond the ARP hold queue are dropped while the first
	 * resolution runs: those connect on the SYN retransmission. */
	fleet_accept(f, 30 * SEC);
	fleet_phase(f, "connected", f->n, step_connected, 0, 1);
	fleet_phase(f, "send", f->n, step_send_msg, 50 * MS, 1);
	fleet_phase(f, "serve", f->nacc, step_serve, 50 * MS, 20);
	fleet_phase(f, "echo", f->n, step_check_echo, 50 * MS, 20);
}

/* Close from the client, let the server read the end and close, and run
 * past TIME_WAIT (2 MSL = 60 s by default). */
static void fleet_close_all(struct fleet *f)
{
	fleet_phase(f, "client close", f->n, step_client_close, 50 * MS, 1);
	fleet_phase(f, "server eof", f->n, step_server_eof_close, 50 * MS, 20);
	simnet_run(f->sn, 120 * SEC);
}

static struct world_counts counts(struct simnet *sn)
{
	struct world_counts c;

	world_counts(sn->w, &c);
	return c;
}

static size_t heap_in_use(void)
{
	return mallinfo2().uordblks;
}

/* Heap with every connection open and idle, less heap once they are all
 * gone (tables and pools stay as they grew): what an idle connection
 * costs, both ends. */
static void print_idle_cost(const char *what, size_t heap_idle,
			    size_t heap_done, size_t n)
{
	if (!test_verbose() || heap_idle <= heap_done || !n)
		return;
	printf("  %s: %zu bytes of heap per idle connection (both ends; "
	       "struct tcpcb %zu, struct vsocket %zu)\n",
	       what, (heap_idle - heap_done) / n, sizeof(struct tcpcb),
	       sizeof(struct vsocket));
}

/* ---- 10,000 connections between two vimages ------------------------------ */

TEST(tcp_scale_10k_connections_one_vimage)
{
	const size_t n = 10000;
	struct simnet *sn = simnet_pair(11);
	struct world_counts c;
	struct fleet *f;
	size_t heap_idle, heap_done;

	REQUIRE(sn);
	f = fleet_new(sn, 1, n);
	f->cvi[0] = sn->node[0];
	f->svi[0] = sn->node[1];
	f->sin[0] = simnet_sin("10.0.0.2", 0);
	fleet_open_and_use(f);
	REQUIRE_EQ(f->bad, 0);
	simnet_run(sn, 1 * SEC); /* delayed ACKs out: everything idle */
	heap_idle = heap_in_use();
	c = counts(sn);
	CHECK_EQ(c.sockets, 2 * n + 1);
	CHECK_EQ(c.tcp_conns, 2 * n + 1);
	CHECK_EQ(c.pkts, 0);

	fleet_close_all(f);
	CHECK_EQ(f->bad, 0);
	c = counts(sn);
	CHECK_EQ(c.sockets, 1); /* the listener */
	CHECK_EQ(c.tcp_conns, 1);
	CHECK_EQ(c.pkts, 0);
	heap_done = heap_in_use();
	print_idle_cost("10k", heap_idle, heap_done, n);
	fleet_free(f);
	c = counts(sn);
	CHECK_EQ(c.sockets, 0);
	CHECK_EQ(c.tcp_conns, 0);
	CHECK_EQ(simnet_free(sn), 0);
}

/* ---- 100,000 connections across 1,000 vimages ---------------------------- */

static size_t scale_div(void)
{
	const char *e = getenv("TCP_SCALE_DIV");

	return e && atoi(e) > 0 ? (size_t)atoi(e) : 1;
}

/* 500 pairs c<p> -> s<p>, pair p on 10.<p/256>.<p%256>.0/24. */
TEST(tcp_scale_100k_connections_1000_vimages)
{
	const size_t npairs = 500, per_pair = 200 / scale_div();
	struct simnet *sn = simnet_new(12);
	struct world_counts c;
	struct fleet *f;
	size_t heap_idle, heap_done;

	REQUIRE(sn);
	REQUIRE(per_pair > 0);
	f = fleet_new(sn, npairs, per_pair);
	for (size_t p = 0; p < npairs; p++) {
		char cn[16], sname[16], ca[32], sa[32], sip[16];

		snprintf(cn, sizeof(cn), "c%zu", p);
		snprintf(sname, sizeof(sname), "s%zu", p);
		snprintf(sip, sizeof(sip), "10.%zu.%zu.2", p / 256, p % 256);
		snprintf(ca, sizeof(ca), "10.%zu.%zu.1/24", p / 256, p % 256);
		snprintf(sa, sizeof(sa), "%s/24", sip);
		f->cvi[p] = simnet_node(sn, cn);
		f->svi[p] = simnet_node(sn, sname);
		REQUIRE(f->cvi[p] && f->svi[p]);
		REQUIRE(simnet_link(sn, f->cvi[p], "ve0", ca, f->svi[p], "ve0",
				    sa) >= 0);
		f->sin[p] = simnet_sin(sip, 0);
	}
	REQUIRE_EQ(counts(sn).vimages, 1 + 2 * npairs);
	fleet_open_and_use(f);
	REQUIRE_EQ(f->bad, 0);
	simnet_run(sn, 1 * SEC);
	heap_idle = heap_in_use();
	c = counts(sn);
	CHECK_EQ(c.sockets, 2 * f->n + npairs);
	CHECK_EQ(c.tcp_conns, 2 * f->n + npairs);
	CHECK_EQ(c.pkts, 0);

	fleet_close_all(f);
	CHECK_EQ(f->bad, 0);
	c = counts(sn);
	CHECK_EQ(c.sockets, npairs);
	CHECK_EQ(c.tcp_conns, npairs);
	CHECK_EQ(c.pkts, 0);
	heap_done = heap_in_use();
	print_idle_cost("100k", heap_idle, heap_done, f->n);
	if (test_verbose())
		printf("  %zu connections over %zu vimage pairs\n", f->n,
		       npairs);
	fleet_free(f);
	c = counts(sn);
	CHECK_EQ(c.sockets, 0);
	CHECK_EQ(c.tcp_conns, 0);
	CHECK_EQ(simnet_free(sn), 0);
}

/* ---- destroying a vimage under busy connections -------------------------- */

#define BUSY_N	1000 /* established, data queued and in flight both ways */
#define UNACC_N 100  /* completed, never accepted; the client sent data */
#define TW_N	50   /* closed by the server first: TIME_WAIT there */

enum destroy_which { DESTROY_SERVER, DESTROY_CLIENT, DESTROY_BOTH };

struct busy {
	struct simnet *sn;
	struct vimage *a, *b; /* client, server */
	struct fleet *f;      /* the BUSY_N connections, port 80 */
	struct vsocket *lsn_unacc, *lsn_tw;
	struct vsocket *unacc[UNACC_N];		/* client ends */
	struct vsocket *surv[BUSY_N + UNACC_N]; /* the side that survives */
	size_t nsurv;
};

static struct vsocket *listener(struct vimage *vi, uint16_t port)
{
	struct sockaddr_in any = simnet_sin("0.0.0.0", port);
	struct vsocket *so;

	REQUIRE(vsock_socket(vi, AF_INET, SOCK_STREAM, 0, &so) == 0);
	REQUIRE(vsock_bind(so, SA(any), sizeof(any)) == 0);
	REQUIRE(vsock_listen(so, 65535) == 0);
	return so;
}

static struct vsocket *connect_to(struct vimage *vi, uint16_t port)
{
	struct sockaddr_in sin = simnet_sin("10.0.0.2", port);
	struct vsocket *so;

	REQUIRE(vsock_socket(vi, AF_INET, SOCK_STREAM, 0, &so) == 0);
	REQUIRE(vsock_connect(so, SA(sin), sizeof(sin)) == -EINPROGRESS);
	return so;
}

static int sock_q(struct vsocket *so, unsigned long req)
{
	int v = -1;

	return vsock_ioctl(so, req, &v) == 0 ? v : -1;
}

/* Send until the send buffer refuses; returns the bytes taken. */
static size_t send_fill(struct vsocket *so)
{
	static const uint8_t junk[4096];
	size_t total = 0;
	ssize_t n;

	while ((n = vsock_sendto(so, junk, sizeof(junk), 0, NULL, 0)) > 0)
		total += (size_t)n;
	return total;
}

/* The connections a destroy test starts from; see the counts below. */
static void busy_setup(struct busy *bz, uint64_t seed)
{
	static const uint8_t k1[1000];
	struct vsocket *tw_cli[TW_N], *tw_srv[TW_N];
	struct fleet *f;
	uint8_t buf[64];

	memset(bz, 0, sizeof(*bz));
	bz->sn = simnet_pair(seed);
	REQUIRE(bz->sn);
	bz->a = bz->sn->node[0];
	bz->b = bz->sn->node[1];
	bz->f = f = fleet_new(bz->sn, 1, BUSY_N);
	f->cvi[0] = bz->a;
	f->svi[0] = bz->b;
	f->sin[0] = simnet_sin("10.0.0.2", 0);
	/* Small receive buffers: a few sends close the window. */
	f->rcvbuf = 4096;
	fleet_open_and_use(f);
	REQUIRE_EQ(f->bad, 0);

	bz->lsn_unacc = listener(bz->b, 81);
	bz->lsn_tw = listener(bz->b, 82);
	for (size_t k = 0; k < UNACC_N; k++)
		bz->unacc[k] = connect_to(bz->a, 81);
	for (size_t k = 0; k < TW_N; k++)
		tw_cli[k] = connect_to(bz->a, 82);
	simnet_run(bz->sn, 1 * SEC);
	for (size_t k = 0; k < TW_N; k++)
		REQUIRE(vsock_accept(bz->lsn_tw, &tw_srv[k], NULL, NULL) == 0);
	for (size_t k = 0; k < UNACC_N; k++)
		REQUIRE(vsock_sendto(bz->unacc[k], k1, 100, 0, NULL, 0) == 100);
	for (size_t k = 0; k < TW_N; k++)
		vsock_close(tw_srv[k]);
	simnet_run(bz->sn, 1 * SEC);
	for (size_t k = 0; k < TW_N; k++) {
		CHECK_EQ(
		    vsock_recvfrom(tw_cli[k], buf, sizeof(buf), 0, NULL, NULL),
		    0);
		vsock_close(tw_cli[k]);
	}

	/* Class 0 fills both windows (unread data at both ends, unsent
	 * data behind a zero window, persist timers); classes 1 and 2
	 * leave 1000 unread bytes at both ends; class 2 then has 1000
	 * more bytes in flight each way, unacknowledged. */
	for (size_t i = 0; i < BUSY_N; i++) {
		if (i % 3 == 0)
			continue;
		REQUIRE(vsock_sendto(f->cli[i], k1, 1000, 0, NULL, 0) == 1000);
		REQUIRE(vsock_sendto(f->srv[i], k1, 1000, 0, NULL, 0) == 1000);
	}
	for (int round = 0; round < 8; round++) {
		for (size_t i = 0; i < BUSY_N; i += 3) {
			send_fill(f->cli[i]);
			send_fill(f->srv[i]);
		}
		simnet_run(bz->sn, 500 * MS);
	}
	for (size_t i = 2; i < BUSY_N; i += 3) {
		REQUIRE(vsock_sendto(f->cli[i], k1, 1000, 0, NULL, 0) == 1000);
		REQUIRE(vsock_sendto(f->srv[i], k1, 1000, 0, NULL, 0) == 1000);
	}
	for (size_t i = 0; i < BUSY_N; i++) {
		struct vsocket *end[2] = {f->cli[i], f->srv[i]};

		for (int e = 0; e < 2; e++) {
			int inq = sock_q(end[e], FIONREAD);
			int outq = sock_q(end[e], SIOCOUTQ);

			if (i % 3 == 0 ? inq <= 0 || outq <= 0
				       : inq != 1000 ||
					     outq != (i % 3 == 2 ? 1000 : 0))
				fleet_bad(f, i, "end %d: inq %d outq %d", e,
					  inq, outq);
		}
	}
	REQUIRE_EQ(f->bad, 0);
}

/* Every survivor sends (or has data waiting to be sent already); all must
 * fail within limit_ns: POLLERR or POLLHUP, then recv gives the data left
 * and an error (want_err when not 0). */
static void busy_survivors_fail(struct busy *bz, int want_err,
				uint64_t limit_ns)
{
	static const uint8_t hello[10];
	struct simnet *sn = bz->sn;
	uint64_t t0 = world_now(sn->w);
	unsigned nerr[4] = {0}; /* ECONNRESET, ETIMEDOUT, unreachable, else */
	size_t failed = 0;
	uint8_t buf[4096];

	for (size_t k = 0; k < bz->nsurv; k++)
		vsock_sendto(bz->surv[k], hello, sizeof(hello), 0, NULL, 0);
	for (uint64_t t = 0; t < limit_ns; t += 10 * SEC) {
		failed = 0;
		for (size_t k = 0; k < bz->nsurv; k++)
			failed += (vsock_poll(bz->surv[k]) &
				   (POLLERR | POLLHUP)) != 0;
		if (failed == bz->nsurv)
			break;
		simnet_run(sn, 10 * SEC);
	}
	CHECK_EQ(failed, bz->nsurv);
	for (size_t k = 0, shown = 0; k < bz->nsurv; k++) {
		struct vsocket *so = bz->surv[k];
		struct tcpcb *tp = so->pcb;
		ssize_t n;

		if (vsock_poll(so) & (POLLERR | POLLHUP)) {
			while ((n = vsock_recvfrom(so, buf, sizeof(buf), 0,
						   NULL, NULL)) > 0)
				;
			if (n == -ECONNRESET)
				nerr[0]++;
			else if (n == -ETIMEDOUT)
				nerr[1]++;
			else if (n == -EHOSTUNREACH || n == -ENETUNREACH)
				nerr[2]++;
			else
				nerr[3]++;
			if (n >= 0 || n == -EAGAIN ||
			    (want_err && n != want_err))
				fleet_bad(bz->f, k, "survivor read %zd", n);
			continue;
		}
		if (shown++ < 5 && tp)
			printf("  survivor %zu alive after %llu s: state %d "
			       "sndq %u rcvq %u rxtshift %u snd_wnd %u timers "
			       "rexmt %llu persist %llu keep %llu\n",
			       k, (unsigned long long)(limit_ns / SEC),
			       tp->state, tp->sndq.bytes, tp->rcvq.bytes,
			       tp->rxtshift, tp->snd_wnd,
			       (unsigned long long)tp->tt[TT_REXMT],
			       (unsigned long long)tp->tt[TT_PERSIST],
			       (unsigned long long)tp->tt[TT_KEEP]);
	}
	if (test_verbose())
		printf("  %zu of %zu survivors failed within %llu s virtual: "
		       "ECONNRESET %u ETIMEDOUT %u unreachable %u other %u\n",
		       failed, bz->nsurv,
		       (unsigned long long)((world_now(sn->w) - t0) / SEC),
		       nerr[0], nerr[1], nerr[2], nerr[3]);
}

static void busy_destroy_case(uint64_t seed, enum destroy_which which,
			      bool restart)
{
	struct busy *bz = xcalloc(1, sizeof(*bz));
	struct fleet *f;
	struct world_counts c;

	busy_setup(bz, seed);
	f = bz->f;
	c = counts(bz->sn);
	CHECK_EQ(c.sockets, 2 * BUSY_N + UNACC_N + 3);
	CHECK_EQ(c.tcp_conns, 2 * BUSY_N + 2 * UNACC_N + TW_N + 3);
	CHECK(c.pkts > 0);

	if (which != DESTROY_CLIENT) {
		/* The server's sockets go with it. */
		REQUIRE(simnet_destroy_node(bz->sn, bz->b) == 0);
		memset(f->srv, 0, f->n * sizeof(*f->srv));
		f->lsn[0] = bz->lsn_unacc = bz->lsn_tw = NULL;
		bz->b = NULL;
	}
	if (which != DESTROY_SERVER) {
		REQUIRE(simnet_destroy_node(bz->sn, bz->a) == 0);
		memset(f->cli, 0, f->n * sizeof(*f->cli));
		memset(bz->unacc, 0, sizeof(bz->unacc));
		bz->a = NULL;
	}
	c = counts(bz->sn);
	switch (which) {
	case DESTROY_SERVER:
		CHECK_EQ(c.sockets, BUSY_N + UNACC_N);
		CHECK_EQ(c.tcp_conns, BUSY_N + UNACC_N);
		for (size_t i = 0; i < BUSY_N; i++)
			bz->surv[bz->nsurv++] = f->cli[i];
		for (size_t k = 0; k < UNACC_N; k++)
			bz->surv[bz->nsurv++] = bz->unacc[k];
		break;
	case DESTROY_CLIENT:
		CHECK_EQ(c.sockets, BUSY_N + 3);
		CHECK_EQ(c.tcp_conns, BUSY_N + UNACC_N + TW_N + 3);
		for (size_t i = 0; i < BUSY_N; i++)
			bz->surv[bz->nsurv++] = f->srv[i];
		/* The unaccepted ones can still be accepted, and fail. */
		for (size_t k = 0; k < UNACC_N; k++) {
			struct vsocket *s = NULL;

			CHECK_EQ(vsock_accept(bz->lsn_unacc, &s, NULL, NULL),
				 0);
			if (s)
				bz->surv[bz->nsurv++] = s;
		}
		break;
	case DESTROY_BOTH:
		/* Nothing left at once, but the frames that were in flight:
		 * they wait in the world's run queue for their dead
		 * interfaces and go the next time it runs (no time
		 * passing). */
		CHECK_EQ(c.sockets, 0);
		CHECK_EQ(c.tcp_conns, 0);
		CHECK_EQ(c.timers, 0);
		world_run(bz->sn->w);
		c = counts(bz->sn);
		CHECK_EQ(c.tcp_conns, 0);
		CHECK_EQ(c.pkts, 0);
		CHECK_EQ(c.pbufs, 0);
		CHECK_EQ(c.timers, 0);
		break;
	}

	if (restart) {
		/* The lost side comes back at its old address with no
		 * connections: whatever the survivors send is reset. */
		struct vimage *vi = simnet_node(bz->sn, "reborn");
		struct vimage *surv = which == DESTROY_SERVER ? bz->a : bz->b;
		const char *old =
		    which == DESTROY_SERVER ? "10.0.0.2/24" : "10.0.0.1/24";
		const char *mine =
		    which == DESTROY_SERVER ? "10.0.0.1/24" : "10.0.0.2/24";

		REQUIRE(vi);
		REQUIRE(simnet_link(bz->sn, surv, "ve1", mine, vi, "ve0",
				    old) >= 0);
	}
	if (bz->nsurv)
		busy_survivors_fail(bz, restart ? -ECONNRESET : 0, 3600 * SEC);
	for (size_t k = 0; k < bz->nsurv; k++)
		vsock_close(bz->surv[k]);
	/* fleet_free closes the fleet's own pointers: forget the ones
	 * just closed. */
	if (which == DESTROY_SERVER) {
		memset(f->cli, 0, f->n * sizeof(*f->cli));
		memset(bz->unacc, 0, sizeof(bz->unacc));
	} else if (which == DESTROY_CLIENT) {
		memset(f->srv, 0, f->n * sizeof(*f->srv));
	}
	if (bz->lsn_unacc)
		vsock_close(bz->lsn_unacc);
	if (bz->lsn_tw)
		vsock_close(bz->lsn_tw);
	fleet_free(f);
	simnet_run(bz->sn, 300 * SEC); /* TIME_WAIT, FIN_WAIT_2 run out */
	c = counts(bz->sn);
	CHECK_EQ(c.sockets, 0);
	CHECK_EQ(c.tcp_conns, 0);
	CHECK_EQ(c.pkts, 0);
	CHECK_EQ(simnet_free(bz->sn), 0);
	free(bz);
}

TEST(tcp_destroy_vimage_with_established_connections)
{
	busy_destroy_case(21, DESTROY_SERVER, false);
}

TEST(tcp_destroy_vimage_with_established_connections_server_reborn)
{
	busy_destroy_case(22, DESTROY_SERVER, true);
}

TEST(tcp_destroy_vimage_with_established_connections_client)
{
	busy_destroy_case(23, DESTROY_CLIENT, false);
}

TEST(tcp_destroy_vimage_with_established_connections_client_reborn)
{
	busy_destroy_case(24, DESTROY_CLIENT, true);
}

TEST(tcp_destroy_vimage_with_established_connections_both)
{
	busy_destroy_case(25, DESTROY_BOTH, false);
}

/* ---- the smallest cases of what the tests above found -------------------- */

/* 65 connections from one vimage: the 65th local port grows the port
 * table past its first 64 slots, and every connection must survive it. */
TEST(tcp_scale_port_table_growth_keeps_connections)
{
	const size_t n = 65;
	struct simnet *sn = simnet_pair(31);
	struct fleet *f;

	REQUIRE(sn);
	f = fleet_new(sn, 1, n);
	f->cvi[0] = sn->node[0];
	f->svi[0] = sn->node[1];
	f->sin[0] = simnet_sin("10.0.0.2", 0);
	fleet_open_and_use(f);
	/* Not CHECK: a broken table can crash the teardown below. */
	REQUIRE_EQ(f->bad, 0);
	fleet_close_all(f);
	CHECK_EQ(f->bad, 0);
	fleet_free(f);
	CHECK_EQ(counts(sn).tcp_conns, 0);
	CHECK_EQ(simnet_free(sn), 0);
}

/* One established connection each way of failing: returns the client
 * end, after the server end has been accepted (into *srv). */
static struct vsocket *one_conn(struct simnet *sn, int rcvbuf,
				struct vsocket **lsn, struct vsocket **srv)
{
	struct vsocket *cli;

	*lsn = listener(sn->node[1], 80);
	if (rcvbuf)
		vsock_setsockopt(*lsn, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
				 sizeof(rcvbuf));
	cli = connect_to(sn->node[0], 80);
	simnet_run(sn, 100 * MS);
	REQUIRE(vsock_accept(*lsn, srv, NULL, NULL) == 0);
	return cli;
}

/* Data queued while there is no route to the peer (its vimage, and with
 * it the link, destroyed): the connection must still time out, and an
 * orphan in that state must go away. */
TEST(tcp_send_without_route_times_out)
{
	struct simnet *sn = simnet_pair(32);
	struct vsocket *lsn, *srv, *cli, *cli2, *srv2;
	uint8_t buf[16] = {0};

	REQUIRE(sn);
	cli = one_conn(sn, 0, &lsn, &srv);
	cli2 = connect_to(sn->node[0], 80);
	simnet_run(sn, 100 * MS);
	REQUIRE(vsock_accept(lsn, &srv2, NULL, NULL) == 0);
	REQUIRE(simnet_destroy_node(sn, sn->node[1]) == 0);
	CHECK_EQ(vsock_sendto(cli, buf, 10, 0, NULL, 0), 10);
	CHECK_EQ(vsock_sendto(cli2, buf, 10, 0, NULL, 0), 10);
	vsock_close(cli2); /* an orphan with unsent data */
	simnet_run(sn, 3600 * SEC);
	CHECK(vsock_poll(cli) & (POLLERR | POLLHUP));
	CHECK(vsock_recvfrom(cli, buf, sizeof(buf), 0, NULL, NULL) < 0);
	vsock_close(cli);
	simnet_run(sn, 300 * SEC);
	CHECK_EQ(counts(sn).tcp_conns, 0);
	CHECK_EQ(simnet_free(sn), 0);
}

/* The peer closed its window and then fell silent (its interface down):
 * unanswered zero-window probes must end the connection (Linux gives up
 * after tcp_retries2 of them), as unanswered retransmissions do. */
TEST(tcp_zero_window_probes_unanswered_time_out)
{
	struct simnet *sn = simnet_pair(33);
	struct vsocket *lsn, *srv, *cli;
	uint8_t buf[16];

	REQUIRE(sn);
	/* 4344 doubles to 8688, six full segments: the window closes to
	 * exactly zero. */
	cli = one_conn(sn, 4344, &lsn, &srv);
	for (int round = 0; round < 8; round++) {
		send_fill(cli);
		simnet_run(sn, 500 * MS);
	}
	REQUIRE(sock_q(cli, SIOCOUTQ) > 0);
	REQUIRE_EQ(((struct tcpcb *)cli->pcb)->snd_wnd, 0);
	REQUIRE(vif_set_up(sn->link[0].b, false) == 0);
	simnet_run(sn, 3600 * SEC);
	CHECK(vsock_poll(cli) & (POLLERR | POLLHUP));
	CHECK_EQ(vsock_recvfrom(cli, buf, sizeof(buf), 0, NULL, NULL),
		 -ETIMEDOUT);
	vsock_close(cli);
	vsock_close(srv);
	vsock_close(lsn);
	simnet_run(sn, 300 * SEC);
	CHECK_EQ(counts(sn).tcp_conns, 0);
	CHECK_EQ(simnet_free(sn), 0);
}

/* The receiver's buffer (4096 doubles to 8192) takes 5 full segments and
 * leaves less than one: the sender holds its data back (sender SWS
 * avoidance) with nothing in flight. The receiver then reads everything,
 * but the window update is lost. The sender must not wait for an update
 * that will never come: an override timer (RFC 9293 3.8.6.2.1; Linux
 * arms its window probe timer whenever data waits with nothing in
 * flight) sends into the small window and the ACK reopens it. */
TEST(tcp_small_window_lost_update_recovers)
{
	struct simnet *sn = simnet_pair(34);
	struct vshaper_params drop = {.loss = VSHAPE_PROB_ONE}, pass = {0};
	struct vsocket *lsn, *srv, *cli;
	static uint8_t buf[65536];
	ssize_t n, got = 0;

	REQUIRE(sn);
	cli = one_conn(sn, 4096, &lsn, &srv);
	for (int round = 0; round < 8; round++) {
		send_fill(cli);
		simnet_run(sn, 500 * MS);
	}
	REQUIRE(sock_q(cli, SIOCOUTQ) > 0);
	REQUIRE(vif_shaper_set(sn->link[0].b, VSHAPE_EGRESS, &drop) == 0);
	while ((n = vsock_recvfrom(srv, buf, sizeof(buf), 0, NULL, NULL)) > 0)
		;
	simnet_run(sn, 100 * MS);
	REQUIRE(vif_shaper_set(sn->link[0].b, VSHAPE_EGRESS, &pass) == 0);
	for (int t = 0; t < 600; t++) {
		simnet_run(sn, 1 * SEC);
		while ((n = vsock_recvfrom(srv, buf, sizeof(buf), 0, NULL,
					   NULL)) > 0)
			got += n;
	}
	CHECK(got > 0);
	vsock_close(cli);
	vsock_close(srv);
	vsock_close(lsn);
	simnet_run(sn, 300 * SEC);
	CHECK_EQ(counts(sn).tcp_conns, 0);
	CHECK_EQ(simnet_free(sn), 0);
}
