/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * /proc/net emulation (src/daemon/procnet.c). The headers and line layouts
 * are compared with what Linux 6.x prints (captured from a network
 * namespace with the same interfaces, routes, neighbours and sockets); the
 * entries are parsed back the way net-tools and ss parse them and checked
 * against the vimage's state.
 *
 * With PROCNET_DUMP=<dir> in the environment, the fixture's files are also
 * written there, to feed the real tools by hand (see the report).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/sockios.h>
#include <net/route.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <string.h>

#include "daemon/procnet.h"
#include "harness/test.h"
#include "vimage/net.h"
#include "vimage/socket.h"

#define SA(s) ((struct sockaddr *)&(s))

/* ---- fixture ---------------------------------------------------------------------
 * "h" (10.0.0.1/24 on ve0) faces "p" (10.0.0.2/24). h has routes via
 * 10.0.0.2 and a default via 10.0.0.254, a permanent neighbour 10.0.0.3,
 * a TCP listener on 8080 with one accepted connection (5 unread bytes)
 * and one waiting in accept, an outgoing connection to p's 9090, UDP
 * sockets (bound, connected, unbound), a ping socket and a raw socket. */
enum { S_LSN, S_ACC, S_OUT, S_UDP, S_UDPC, S_UDPX, S_PING, S_RAW, S_N };

struct fx {
	struct world *w;
	struct vimage *h, *p;
	struct ifnet *ve_h, *ve_p;
	struct procnet_sock s[S_N];
	struct vsocket *peer[4]; /* p's sockets */
	uint16_t out_port, udpc_port, ping_port, cli_port;
};

static struct sockaddr_in sin4(const char *a, uint16_t port)
{
	struct sockaddr_in s = {.sin_family = AF_INET, .sin_port = htons(port)};

	inet_pton(AF_INET, a, &s.sin_addr);
	return s;
}

static uint16_t lport(struct vsocket *so)
{
	struct sockaddr_in s;
	socklen_t len = sizeof(s);

	REQUIRE(vsock_getsockname(so, SA(s), &len) == 0);
	return ntohs(s.sin_port);
}

static void walk(void *wctx, struct vimage *vi,
		 int (*fn)(void *fctx, const struct procnet_sock *s), void *fctx)
{
	struct fx *f = wctx;

	if (vi != f->h)
		return;
	for (int i = 0; i < S_N; i++)
		if (f->s[i].so && fn(fctx, &f->s[i]))
			return;
}

static struct vsocket *mksock(struct vimage *vi, int type, int proto)
{
	struct vsocket *so = NULL;

	REQUIRE(vsock_socket(vi, AF_INET, type, proto, &so) == 0);
	return so;
}

static void fx_init(struct fx *f)
{
	struct world_config cfg = {.seed = 11, .start_ns = 1000000000000ull};
	struct vaddr a = VADDR4(10, 0, 0, 1), b = VADDR4(10, 0, 0, 2);
	struct vaddr n3 = VADDR4(10, 0, 0, 3);
	uint8_t mac3[6] = {0x02, 0, 0, 0, 0, 0x03};
	struct vroute r;
	struct sockaddr_in s;
	struct vsocket *so;
	uint8_t icmp[8] = {8, 0, 0, 0, 0, 0, 0, 1};

	memset(f, 0, sizeof(*f));
	REQUIRE(world_create(&cfg, &f->w) == 0);
	REQUIRE(vimage_create(f->w, "h", &f->h) == 0);
	REQUIRE(vimage_create(f->w, "p", &f->p) == 0);
	REQUIRE(vif_ve_create(f->h, "ve0", f->p, "ve0", &f->ve_h, &f->ve_p) ==
		0);
	REQUIRE(vif_addr_add(f->ve_h, &a, 24) == 0);
	REQUIRE(vif_addr_add(f->ve_p, &b, 24) == 0);
	REQUIRE(vif_set_up(f->ve_h, true) == 0);
	REQUIRE(vif_set_up(f->ve_p, true) == 0);
	REQUIRE(vneigh_add_permanent(f->ve_h, &n3, mac3) == 0);

	memset(&r, 0, sizeof(r));
	r.type = VRT_UNICAST;
	r.proto = VRT_PROTO_STATIC;
	r.gw = b;
	REQUIRE(vaddr_parse("192.168.5.0", &r.dst) == 0);
	r.plen = 24;
	REQUIRE(vroute_add(f->h, &r) == 0);
	REQUIRE(vaddr_parse("172.16.0.1", &r.dst) == 0);
	r.plen = 32;
	REQUIRE(vroute_add(f->h, &r) == 0);
	r.dst = vaddr_v4(0);
	r.plen = 0;
	r.gw = VADDR4(10, 0, 0, 254);
	r.metric = 5;
	REQUIRE(vroute_add(f->h, &r) == 0);
	memset(&r, 0, sizeof(r));
	r.type = VRT_UNREACHABLE;
	r.proto = VRT_PROTO_STATIC;
	REQUIRE(vaddr_parse("203.0.113.0", &r.dst) == 0);
	r.plen = 24;
	REQUIRE(vroute_add(f->h, &r) == 0);
	world_run(f->w);

	/* TCP: h listens on 10.0.0.1:8080; p connects twice. */
	so = mksock(f->h, SOCK_STREAM, 0);
	s = sin4("10.0.0.1", 8080);
	REQUIRE(vsock_bind(so, SA(s), sizeof(s)) == 0);
	REQUIRE(vsock_listen(so, 7) == 0);
	f->s[S_LSN].so = so;
	for (int i = 0; i < 2; i++) {
		f->peer[i] = mksock(f->p, SOCK_STREAM, 0);
		REQUIRE(vsock_connect(f->peer[i], SA(s), sizeof(s)) ==
			-EINPROGRESS);
		world_run_until(f->w, world_now(f->w) + 100000000ull);
	}
	f->cli_port = lport(f->peer[0]);
	REQUIRE(vsock_accept(f->s[S_LSN].so, &f->s[S_ACC].so, NULL, NULL) ==
		0);
	REQUIRE(vsock_sendto(f->peer[0], "hello", 5, 0, NULL, 0) == 5);
	world_run_until(f->w, world_now(f->w) + 100000000ull);

	/* h connects to p's 9090. */
	f->peer[2] = mksock(f->p, SOCK_STREAM, 0);
	s = sin4("0.0.0.0", 9090);
	REQUIRE(vsock_bind(f->peer[2], SA(s), sizeof(s)) == 0);
	REQUIRE(vsock_listen(f->peer[2], 5) == 0);
	so = mksock(f->h, SOCK_STREAM, 0);
	s = sin4("10.0.0.2", 9090);
	REQUIRE(vsock_connect(so, SA(s), sizeof(s)) == -EINPROGRESS);
	world_run_until(f->w, world_now(f->w) + 100000000ull);
	f->s[S_OUT].so = so;
	f->out_port = lport(so);
	REQUIRE(vsock_accept(f->peer[2], &f->peer[3], NULL, NULL) == 0);

	/* UDP: bound to *:5353, connected to 10.0.0.2:53, unbound. */
	so = mksock(f->h, SOCK_DGRAM, 0);
	s = sin4("0.0.0.0", 5353);
	REQUIRE(vsock_bind(so, SA(s), sizeof(s)) == 0);
	f->s[S_UDP].so = so;
	so = mksock(f->h, SOCK_DGRAM, 0);
	s = sin4("10.0.0.2", 53);
	REQUIRE(vsock_connect(so, SA(s), sizeof(s)) == 0);
	f->s[S_UDPC].so = so;
	f->udpc_port = lport(so);
	f->s[S_UDPX].so = mksock(f->h, SOCK_DGRAM, 0);

	/* A ping socket that has sent (so has its identifier), a raw one. */
	so = mksock(f->h, SOCK_DGRAM, IPPROTO_ICMP);
	s = sin4("10.0.0.2", 0);
	REQUIRE(vsock_sendto(so, icmp, sizeof(icmp), 0, SA(s), sizeof(s)) ==
		sizeof(icmp));
	f->s[S_PING].so = so;
	f->ping_port = lport(so);
	f->s[S_RAW].so = mksock(f->h, SOCK_RAW, IPPROTO_ICMP);
	world_run_until(f->w, world_now(f->w) + 100000000ull);

	for (int i = 0; i < S_N; i++) {
		f->s[i].inode = 4242000 + (uint64_t)i;
		f->s[i].uid = i == S_UDP ? 1000 : 0;
	}
}

static void fx_free(struct fx *f)
{
	struct world_counts wc;

	for (int i = 0; i < S_N; i++)
		if (f->s[i].so)
			vsock_close(f->s[i].so);
	for (int i = 0; i < 4; i++)
		if (f->peer[i])
			vsock_close(f->peer[i]);
	CHECK_EQ(vimage_destroy(f->h), 0);
	CHECK_EQ(vimage_destroy(f->p), 0);
	world_counts(f->w, &wc);
	CHECK_EQ(wc.sockets, 0);
	world_destroy(f->w);
}

/* ---- text helpers ---------------------------------------------------------------- */
struct text {
	char *buf;
	size_t len;
	char *line[64];
	int n;
};

static void render(struct fx *f, struct vimage *vi, const char *name,
		   struct text *t)
{
	char *s;

	memset(t, 0, sizeof(*t));
	REQUIRE(procnet_render(vi, name, walk, f, &t->buf, &t->len) == 0);
	REQUIRE(t->buf);
	CHECK_EQ(strlen(t->buf), t->len);
	CHECK(t->len == 0 || t->buf[t->len - 1] == '\n');
	/* Split in place: lines without their newline. */
	s = t->buf;
	while (*s) {
		char *e = strchr(s, '\n');

		REQUIRE(e);
		REQUIRE(t->n < 64);
		*e = 0;
		t->line[t->n++] = s;
		s = e + 1;
	}
}

static void text_free(struct text *t)
{
	free(t->buf);
	t->buf = NULL;
}

/* A /proc/net/{tcp,udp,raw,icmp} entry, as ss and netstat read it. */
struct entry {
	int sl;
	uint32_t laddr, raddr; /* host order */
	unsigned lport, rport, st, txq, rxq, tr, retr, uid;
	unsigned long when;
	int timeout;
	unsigned long long inode;
	char rest[160];
};

static bool parse_entry(const char *line, struct entry *e)
{
	unsigned la, ra;

	memset(e, 0, sizeof(*e));
	if (sscanf(line,
		   "%d: %x:%x %x:%x %x %x:%x %x:%lx %x %u %d %llu %159[^\n]",
		   &e->sl, &la, &e->lport, &ra, &e->rport, &e->st, &e->txq,
		   &e->rxq, &e->tr, &e->when, &e->retr, &e->uid, &e->timeout,
		   &e->inode, e->rest) != 15)
		return false;
	e->laddr = ntohl(la);
	e->raddr = ntohl(ra);
	return true;
}

static const struct entry *find_inode(const struct entry *es, int n,
				      uint64_t inode)
{
	for (int i = 0; i < n; i++)
		if (es[i].inode == inode)
			return &es[i];
	return NULL;
}

static const char TCP_HDR[] =
	"  sl  local_address rem_address   st tx_queue rx_queue tr tm->when "
	"retrnsmt   uid  timeout inode";
static const char DGRAM_HDR[] =
	"  sl  local_address rem_address   st tx_queue rx_queue tr tm->when "
	"retrnsmt   uid  timeout inode ref pointer drops";

/* The line, without its padding, and the padding is to width. */
static void check_padded(const char *line, const char *want, size_t width)
{
	size_t n = strlen(want);

	CHECK_EQ(strlen(line), width);
	CHECK(strncmp(line, want, n) == 0);
	for (size_t i = n; i < strlen(line); i++)
		CHECK(line[i] == ' ');
}

/* ---- tests ------------------------------------------------------------------------- */
TEST(procnet_dev_lists_interfaces_with_counters)
{
	struct fx f;
	struct text t;
	struct vif_stats st;
	char want[256];

	fx_init(&f);
	render(&f, f.h, "dev", &t);
	REQUIRE_EQ(t.n, 4);
	CHECK_STR(t.line[0], "Inter-|   Receive                            "
			     "                    |  Transmit");
	CHECK_STR(t.line[1], " face |bytes    packets errs drop fifo frame "
			     "compressed multicast|bytes    packets errs "
			     "drop fifo colls carrier compressed");
	CHECK(strncmp(t.line[2], "   lo0:", 7) == 0);
	vif_get_stats(f.ve_h, &st);
	CHECK(st.ibytes > 0 && st.obytes > 0);
	snprintf(want, sizeof(want),
		 "   ve0: %7llu %7llu %4llu %4llu    0     0          0 %9llu "
		 "%8llu %7llu %4llu %4llu    0     0       0          0",
		 (unsigned long long)st.ibytes, (unsigned long long)st.ipackets,
		 (unsigned long long)st.ierrors, (unsigned long long)st.idrops,
		 (unsigned long long)st.imcasts, (unsigned long long)st.obytes,
		 (unsigned long long)st.opackets, (unsigned long long)st.oerrors,
		 (unsigned long long)st.odrops);
	CHECK_STR(t.line[3], want);
	text_free(&t);
	fx_free(&f);
}

TEST(procnet_route_main_table_in_linux_hex)
{
	struct fx f;
	struct text t;

	fx_init(&f);
	render(&f, f.h, "route", &t);
	REQUIRE_EQ(t.n, 6);
	check_padded(t.line[0],
		     "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric"
		     "\tMask\t\tMTU\tWindow\tIRTT",
		     127);
	/* In the trie's order; RTF_UP|RTF_GATEWAY|RTF_HOST|RTF_REJECT. */
	check_padded(t.line[1], "ve0\t00000000\tFE00000A\t0003\t0\t0\t5\t"
				"00000000\t0\t0\t0", 127);
	check_padded(t.line[2], "ve0\t0000000A\t00000000\t0001\t0\t0\t0\t"
				"00FFFFFF\t0\t0\t0", 127);
	check_padded(t.line[3], "ve0\t010010AC\t0200000A\t0007\t0\t0\t0\t"
				"FFFFFFFF\t0\t0\t0", 127);
	check_padded(t.line[4], "ve0\t0005A8C0\t0200000A\t0003\t0\t0\t0\t"
				"00FFFFFF\t0\t0\t0", 127);
	check_padded(t.line[5], "*\t007100CB\t00000000\t0201\t0\t0\t0\t"
				"00FFFFFF\t0\t0\t0", 127);
	/* The hex reads back as the addresses (what route(8) does). */
	{
		unsigned d, g, fl, m;
		char ifn[16];

		REQUIRE(sscanf(t.line[3], "%15s %x %x %x %*d %*d %*d %x", ifn,
			       &d, &g, &fl, &m) == 5);
		CHECK_EQ(ntohl(d), 0xac100001u);
		CHECK_EQ(ntohl(g), 0x0a000002u);
		CHECK_EQ(ntohl(m), 0xffffffffu);
		CHECK_EQ(fl, RTF_UP | RTF_GATEWAY | RTF_HOST);
	}
	text_free(&t);
	fx_free(&f);
}

TEST(procnet_arp_permanent_and_learnt_entries)
{
	struct fx f;
	struct text t;
	bool saw3 = false, saw2 = false;
	uint8_t mac[6];
	char want[128];

	fx_init(&f);
	render(&f, f.h, "arp", &t);
	REQUIRE(t.n >= 3);
	CHECK_STR(t.line[0], "IP address       HW type     Flags       "
			     "HW address            Mask     Device");
	vif_mac(f.ve_p, mac);
	snprintf(want, sizeof(want),
		 "10.0.0.2         0x1         0x2         "
		 "%02x:%02x:%02x:%02x:%02x:%02x     *        ve0",
		 mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
	for (int i = 1; i < t.n; i++) {
		if (strcmp(t.line[i], "10.0.0.3         0x1         0x6      "
				      "   02:00:00:00:00:03     *        ve0") ==
		    0)
			saw3 = true;
		if (strcmp(t.line[i], want) == 0)
			saw2 = true;
	}
	CHECK(saw3);
	CHECK(saw2);
	text_free(&t);
	fx_free(&f);
}

TEST(procnet_tcp_listener_connections_states_queues_inodes)
{
	struct fx f;
	struct text t;
	struct entry e[8];
	const struct entry *x;
	int n = 0;

	fx_init(&f);
	render(&f, f.h, "tcp", &t);
	check_padded(t.line[0], TCP_HDR, 149);
	for (int i = 1; i < t.n; i++) {
		REQUIRE(n < 8);
		CHECK_EQ(strlen(t.line[i]), 149);
		REQUIRE(parse_entry(t.line[i], &e[n]));
		CHECK_EQ(e[n].sl, n);
		n++;
	}
	REQUIRE_EQ(n, 3);
	/* The listener comes first (the listening hash). */
	CHECK_EQ(e[0].inode, 4242000 + S_LSN);
	x = find_inode(e, n, 4242000 + S_LSN);
	REQUIRE(x);
	CHECK_EQ(x->laddr, 0x0a000001u);
	CHECK_EQ(x->lport, 8080);
	CHECK_EQ(x->raddr, 0);
	CHECK_EQ(x->rport, 0);
	CHECK_EQ(x->st, 0x0A);
	CHECK_EQ(x->txq, 0);
	CHECK_EQ(x->rxq, 1); /* one connection waiting in accept */
	CHECK(strncmp(t.line[1],
		      "   0: 0100000A:1F90 00000000:0000 0A 00000000:00000001 "
		      "00:00000000 00000000     0        0 4242000 2 "
		      "0000000000000000 ",
		      strlen("   0: 0100000A:1F90 00000000:0000 0A 00000000:00000001 "
			     "00:00000000 00000000     0        0 4242000 2 "
			     "0000000000000000 ")) == 0);

	x = find_inode(e, n, 4242000 + S_ACC);
	REQUIRE(x);
	CHECK_EQ(x->laddr, 0x0a000001u);
	CHECK_EQ(x->lport, 8080);
	CHECK_EQ(x->raddr, 0x0a000002u);
	CHECK_EQ(x->rport, f.cli_port);
	CHECK_EQ(x->st, 0x01);
	CHECK_EQ(x->rxq, 5); /* "hello", unread */
	CHECK_EQ(x->txq, 0);
	CHECK_EQ(x->uid, 0);

	x = find_inode(e, n, 4242000 + S_OUT);
	REQUIRE(x);
	CHECK_EQ(x->laddr, 0x0a000001u);
	CHECK_EQ(x->lport, f.out_port);
	CHECK_EQ(x->raddr, 0x0a000002u);
	CHECK_EQ(x->rport, 9090);
	CHECK_EQ(x->st, 0x01);
	text_free(&t);

	/* Shutting down our side: FIN_WAIT; the peer closing: CLOSE_WAIT. */
	vsock_shutdown(f.s[S_OUT].so, SHUT_WR);
	vsock_close(f.peer[0]);
	f.peer[0] = NULL;
	world_run_until(f.w, world_now(f.w) + 100000000ull);
	render(&f, f.h, "tcp", &t);
	n = 0;
	for (int i = 1; i < t.n && n < 8; i++)
		REQUIRE(parse_entry(t.line[i], &e[n++]));
	x = find_inode(e, n, 4242000 + S_OUT);
	REQUIRE(x);
	CHECK_EQ(x->st, 0x05); /* FIN_WAIT2: p acknowledged our FIN */
	x = find_inode(e, n, 4242000 + S_ACC);
	REQUIRE(x);
	CHECK_EQ(x->st, 0x08); /* CLOSE_WAIT */
	text_free(&t);
	fx_free(&f);
}

TEST(procnet_tcp_syn_sent_shows_the_peer)
{
	struct fx f;
	struct text t;
	struct entry e[8];
	const struct entry *x;
	struct sockaddr_in s = sin4("10.0.0.77", 443);
	int n = 0;

	fx_init(&f);
	/* Nobody answers 10.0.0.77: the connect stays in SYN_SENT. */
	vsock_close(f.s[S_UDPX].so);
	f.s[S_UDPX].so = mksock(f.h, SOCK_STREAM, 0);
	REQUIRE(vsock_connect(f.s[S_UDPX].so, SA(s), sizeof(s)) ==
		-EINPROGRESS);
	world_run(f.w);
	render(&f, f.h, "tcp", &t);
	for (int i = 1; i < t.n && n < 8; i++)
		REQUIRE(parse_entry(t.line[i], &e[n++]));
	x = find_inode(e, n, 4242000 + S_UDPX);
	REQUIRE(x);
	CHECK_EQ(x->st, 0x02);
	CHECK_EQ(x->raddr, 0x0a00004du);
	CHECK_EQ(x->rport, 443);
	CHECK_EQ(x->laddr, 0x0a000001u);
	text_free(&t);
	fx_free(&f);
}

TEST(procnet_udp_bound_and_connected_sockets)
{
	struct fx f;
	struct text t;
	struct entry e[8];
	const struct entry *x;
	int n = 0;

	fx_init(&f);
	render(&f, f.h, "udp", &t);
	REQUIRE(t.n >= 1);
	CHECK_EQ(strlen(t.line[0]), 127);
	CHECK(strncmp(t.line[0], " ", 1) == 0);
	check_padded(t.line[0] + 1, DGRAM_HDR, 126);
	for (int i = 1; i < t.n; i++) {
		REQUIRE(n < 8);
		CHECK_EQ(strlen(t.line[i]), 127);
		REQUIRE(parse_entry(t.line[i], &e[n++]));
	}
	REQUIRE_EQ(n, 2); /* the unbound socket is in no table */
	x = find_inode(e, n, 4242000 + S_UDP);
	REQUIRE(x);
	CHECK_EQ(x->laddr, 0);
	CHECK_EQ(x->lport, 5353);
	CHECK_EQ(x->st, 0x07);
	CHECK_EQ(x->uid, 1000);
	CHECK(strstr(t.line[1 + (int)(x - e)],
		     " 00000000:14E9 00000000:0000 07 00000000:00000000 "
		     "00:00000000 00000000  1000        0 4242003 2 "
		     "0000000000000000 0") != NULL);
	x = find_inode(e, n, 4242000 + S_UDPC);
	REQUIRE(x);
	CHECK_EQ(x->laddr, 0x0a000001u);
	CHECK_EQ(x->lport, f.udpc_port);
	CHECK_EQ(x->raddr, 0x0a000002u);
	CHECK_EQ(x->rport, 53);
	CHECK_EQ(x->st, 0x01);
	text_free(&t);
	fx_free(&f);
}

TEST(procnet_raw_and_icmp_sockets)
{
	struct fx f;
	struct text t;
	struct entry e;
	char want[200];
	int inq = 0;

	fx_init(&f);
	render(&f, f.h, "raw", &t);
	REQUIRE_EQ(t.n, 2);
	CHECK_STR(t.line[0], DGRAM_HDR);
	/* The echo reply to the ping socket reached the raw one too: its
	 * 28 bytes (IP header included) wait in its queue. */
	REQUIRE(vsock_ioctl(f.s[S_RAW].so, SIOCINQ, &inq) == 0);
	CHECK_EQ(inq, 28);
	CHECK_STR(t.line[1], "   0: 00000000:0001 00000000:0000 07 "
			     "00000000:0000001C 00:00000000 00000000     0"
			     "        0 4242007 2 0000000000000000 0");
	text_free(&t);

	render(&f, f.h, "icmp", &t);
	REQUIRE_EQ(t.n, 2);
	check_padded(t.line[0], DGRAM_HDR, 127);
	REQUIRE(parse_entry(t.line[1], &e));
	CHECK_EQ(e.lport, f.ping_port);
	CHECK_EQ(e.inode, 4242000 + S_PING);
	snprintf(want, sizeof(want),
		 "    0: 00000000:%04X 00000000:0000 07 00000000:00000008 ",
		 f.ping_port); /* unbound: no local address; the reply */
	if (strncmp(t.line[1], want, strlen(want)) != 0)
		CHECK_STR(t.line[1], want);
	CHECK_EQ(strlen(t.line[1]), 127);
	text_free(&t);
	fx_free(&f);
}

TEST(procnet_snmp_netstat_sockstat_counters)
{
	struct fx f;
	struct text t;
	uint64_t v;
	char want[64];
	int64_t fwd;

	fx_init(&f);
	render(&f, f.h, "snmp", &t);
	REQUIRE(t.n >= 10);
	CHECK(strncmp(t.line[0], "Ip: Forwarding DefaultTTL InReceives ",
		      37) == 0);
	REQUIRE(vimage_sysctl_get(f.h, "net.inet.ip.forwarding", &fwd) == 0);
	REQUIRE(vimage_stat_get(f.h, "ip.total", &v) == 0);
	snprintf(want, sizeof(want), "Ip: %d 64 %llu ", fwd ? 1 : 2,
		 (unsigned long long)v);
	CHECK(strncmp(t.line[1], want, strlen(want)) == 0);
	for (int i = 0; i + 1 < t.n; i += 2) {
		/* Each group: names then as many values. */
		const char *a = t.line[i], *b = t.line[i + 1];
		size_t g = strcspn(a, ":");
		int na = 0, nb = 0;

		CHECK(strncmp(a, b, g + 1) == 0);
		for (const char *c = a; *c; c++)
			na += *c == ' ';
		for (const char *c = b; *c; c++)
			nb += *c == ' ';
		CHECK_EQ(na, nb);
	}
	/* Tcp: ActiveOpens 1 (ours), PassiveOpens 2, CurrEstab 2. */
	for (int i = 0; i < t.n; i++) {
		if (strncmp(t.line[i], "Tcp: 1 ", 7) == 0)
			CHECK(strncmp(t.line[i], "Tcp: 1 200 120000 -1 1 2 0 0 2 ",
				      31) == 0);
	}
	text_free(&t);

	render(&f, f.h, "netstat", &t);
	REQUIRE_EQ(t.n, 4);
	CHECK(strncmp(t.line[0], "TcpExt: SyncookiesSent ", 23) == 0);
	CHECK(strncmp(t.line[2], "IpExt: InNoRoutes ", 18) == 0);
	text_free(&t);

	render(&f, f.h, "sockstat", &t);
	REQUIRE_EQ(t.n, 6);
	snprintf(want, sizeof(want), "sockets: used %u", vsock_count(f.h));
	CHECK_STR(t.line[0], want);
	CHECK_STR(t.line[1], "TCP: inuse 3 orphan 0 tw 0 alloc 3 mem 0");
	CHECK_STR(t.line[2], "UDP: inuse 2 mem 0");
	CHECK_STR(t.line[4], "RAW: inuse 1");
	text_free(&t);
	fx_free(&f);
}

TEST(procnet_ipv6_and_multicast_files_are_empty)
{
	struct fx f;
	struct text t;

	fx_init(&f);
	render(&f, f.h, "tcp6", &t);
	REQUIRE_EQ(t.n, 1);
	CHECK_STR(t.line[0], "  sl  local_address                         "
			     "remote_address                        st tx_queue"
			     " rx_queue tr tm->when retrnsmt   uid  timeout "
			     "inode");
	text_free(&t);
	render(&f, f.h, "udp6", &t);
	REQUIRE_EQ(t.n, 1);
	CHECK_STR(t.line[0], "  sl  local_address                         "
			     "remote_address                        st tx_queue"
			     " rx_queue tr tm->when retrnsmt   uid  timeout "
			     "inode ref pointer drops");
	text_free(&t);
	render(&f, f.h, "raw6", &t);
	CHECK_EQ(t.n, 1);
	text_free(&t);
	render(&f, f.h, "igmp", &t);
	REQUIRE_EQ(t.n, 1);
	CHECK_STR(t.line[0],
		  "Idx\tDevice    : Count Querier\tGroup    Users Timer\tReporter");
	text_free(&t);
	render(&f, f.h, "if_inet6", &t);
	CHECK_EQ(t.len, 0);
	text_free(&t);
	render(&f, f.h, "dev_mcast", &t);
	CHECK_EQ(t.len, 0);
	text_free(&t);
	fx_free(&f);
}

TEST(procnet_lo0_only_vimage)
{
	struct world_config cfg = {.seed = 3};
	struct world *w;
	struct vimage *vi;
	char *out;
	size_t len;
	static const char *const names[] = {
		"dev", "route", "arp", "tcp", "udp", "raw", "icmp", "if_inet6",
		"tcp6", "udp6", "raw6", "icmp6", "snmp", "netstat", "sockstat",
		"sockstat6", "dev_mcast", "igmp", "igmp6"};

	REQUIRE(world_create(&cfg, &w) == 0);
	REQUIRE(vimage_create(w, "bare", &vi) == 0);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		REQUIRE(procnet_render(vi, names[i], NULL, NULL, &out, &len) ==
			0);
		CHECK_EQ(strlen(out), len);
		if (strcmp(names[i], "dev") == 0) {
			CHECK(strstr(out, "|bytes    packets") != NULL);
			CHECK(strstr(out, "\n   lo0:       0       0    0    0"
					  "    0     0          0         0 "
					  "       0       0    0    0    0     0"
					  "       0          0\n") != NULL);
		} else if (strcmp(names[i], "route") == 0 ||
			   strcmp(names[i], "tcp") == 0 ||
			   strcmp(names[i], "udp") == 0 ||
			   strcmp(names[i], "arp") == 0 ||
			   strcmp(names[i], "raw") == 0) {
			/* the header alone */
			CHECK(strchr(out, '\n') == out + len - 1);
		} else if (strcmp(names[i], "sockstat") == 0) {
			CHECK(strncmp(out, "sockets: used 0\nTCP: inuse 0 ",
				      29) == 0);
		}
		free(out);
	}
	CHECK_EQ(procnet_render(vi, "nf_conntrack", NULL, NULL, &out, &len),
		 -ENOENT);
	CHECK(out == NULL);
	CHECK_EQ(procnet_render(vi, "", NULL, NULL, &out, &len), -ENOENT);
	CHECK_EQ(procnet_render(vi, "../tcp", NULL, NULL, &out, &len),
		 -ENOENT);
	vimage_destroy(vi);
	world_destroy(w);
}

TEST(procnet_path_recognises_proc_net_names)
{
	const char *name = NULL;

	CHECK(procnet_path("/proc/net/tcp", &name));
	CHECK_STR(name, "tcp");
	CHECK(procnet_path("/proc/self/net/route", &name));
	CHECK_STR(name, "route");
	CHECK(procnet_path("/proc/thread-self/net/dev", &name));
	CHECK_STR(name, "dev");
	CHECK(procnet_path("/proc/12345/net/udp", &name));
	CHECK_STR(name, "udp");
	CHECK(procnet_path("/proc/1/net/if_inet6", &name));
	CHECK_STR(name, "if_inet6");
	CHECK(!procnet_path("/proc/net/nf_conntrack", &name));
	CHECK(!procnet_path("/proc/net/", &name));
	CHECK(!procnet_path("/proc/net", &name));
	CHECK(!procnet_path("/proc/net/tcp/", &name));
	CHECK(!procnet_path("/proc/net/stat/tcp", &name));
	CHECK(!procnet_path("/proc/abc/net/tcp", &name));
	CHECK(!procnet_path("/proc//net/tcp", &name));
	CHECK(!procnet_path("/proc/12a/net/tcp", &name));
	CHECK(!procnet_path("/proc/self/tcp", &name));
	CHECK(!procnet_path("/sys/net/tcp", &name));
	CHECK(!procnet_path("proc/net/tcp", &name));
	CHECK(!procnet_path("/proc/net/tcpx", &name));
	CHECK(!procnet_path(NULL, &name));
}

/* With PROCNET_DUMP=dir, write the fixture's files to dir (for feeding
 * the real net-tools and ss by hand); does nothing otherwise. */
TEST(procnet_dump_for_the_real_tools)
{
	static const char *const names[] = {
		"dev", "route", "arp", "tcp", "udp", "raw", "icmp", "if_inet6",
		"tcp6", "udp6", "raw6", "icmp6", "snmp", "netstat", "sockstat",
		"sockstat6", "dev_mcast", "igmp", "igmp6"};
	const char *dir = getenv("PROCNET_DUMP");
	struct fx f;

	if (!dir)
		return;
	fx_init(&f);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char path[512], *out;
		size_t len;
		FILE *fp;

		REQUIRE(procnet_render(f.h, names[i], walk, &f, &out, &len) ==
			0);
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		fp = fopen(path, "w");
		REQUIRE(fp);
		CHECK_EQ(fwrite(out, 1, len, fp), len);
		fclose(fp);
		free(out);
	}
	fx_free(&f);
}
