/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NETLINK_SOCK_DIAG emulation (src/daemon/sockdiag.c). The requests are
 * the bytes Debian 12's ss (iproute2 6.1) sends, captured with strace in a
 * network namespace; the replies are parsed the way ss parses them and
 * checked against the fixture's sockets and against the layout Linux gave
 * for the same sockets (a listener, an established pair, a UDP socket).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/sockdiag.h"
#include "harness/test.h"
#include "vimage/net.h"
#include "vimage/socket.h"

#define SA(s) ((struct sockaddr *)&(s))
#define PORTID 4242u
#define SEQ 123456u

/* ---- requests ss sends (strace -xx of ss 6.1) ------------------------------------- */
/* nlmsghdr {len, SOCK_DIAG_BY_FAMILY, REQUEST|DUMP, seq 123456, pid 0}
 * then inet_diag_req_v2 {family, protocol, ext, pad, states, id zero}. */
#define SS_HDR(len) len, 0, 0, 0, 0x14, 0, 0x01, 0x03, 0x40, 0xe2, 0x01, 0, \
		    0, 0, 0, 0
#define ZERO8 0, 0, 0, 0, 0, 0, 0, 0
#define ID_ZERO ZERO8, ZERO8, ZERO8, ZERO8, ZERO8, ZERO8
#define SS_V2(fam, proto, ext, s0, s1) \
	SS_HDR(0x48), fam, proto, ext, 0, s0, s1, 0, 0, ID_ZERO

/* ss -tuanp */
static const uint8_t req_udp[] = {SS_V2(0x02, 0x11, 0x00, 0xff, 0x0f)};
static const uint8_t req_tcp[] = {SS_V2(0x02, 0x06, 0x00, 0xff, 0x0f)};
static const uint8_t req_tcp6[] = {SS_V2(0x0a, 0x06, 0x00, 0xff, 0x0f)};
/* ss -tlnp: TCPF_CLOSE | TCPF_LISTEN */
static const uint8_t req_tlnp[] = {SS_V2(0x02, 0x06, 0x00, 0x80, 0x04)};
/* ss -ti: INFO|VEGASINFO|CONG, all states but LISTEN/SYN_RECV/TW/CLOSE */
static const uint8_t req_ti[] = {SS_V2(0x02, 0x06, 0x0e, 0x37, 0x0b)};
/* ss -tanm: MEMINFO|SKMEMINFO */
static const uint8_t req_tanm[] = {SS_V2(0x02, 0x06, 0x41, 0xff, 0x0f)};
/* ss -t state established */
static const uint8_t req_estab[] = {SS_V2(0x02, 0x06, 0x00, 0x02, 0x00)};
/* ss -w and ss -wa */
static const uint8_t req_raw[] = {SS_V2(0x02, 0xff, 0x00, 0x02, 0x00)};
static const uint8_t req_raw_all[] = {SS_V2(0x02, 0xff, 0x00, 0xff, 0x0f)};
/* ss -x: unix_diag_req {AF_UNIX, 0, pad, states 0xb37, ino 0,
 * show NAME|PEER|RQLEN, cookie} sent with sendto */
static const uint8_t req_unix[] = {
	SS_HDR(0x28), 0x01, 0, 0, 0, 0x37, 0x0b, 0, 0, 0, 0, 0, 0,
	0x15, 0, 0, 0, ZERO8};
/* ss -tn dst 127.0.0.1: the bytecode attribute after the request */
static const uint8_t req_bc[] = {
	SS_HDR(0x5c), 0x02, 0x06, 0, 0, 0x37, 0x0b, 0, 0, ID_ZERO,
	0x14, 0x00, 0x01, 0x00, 0x08, 0x10, 0x14, 0x00, 0x02, 0x20, 0x00, 0x00,
	0xff, 0xff, 0xff, 0xff, 0x7f, 0x00, 0x00, 0x01};

/* ---- fixture ------------------------------------------------------------------------
 * "h" (10.0.0.1/24) faces "p" (10.0.0.2/24). h has a TCP listener on
 * 10.0.0.1:8080 (backlog 7) with one accepted connection holding 5 unread
 * bytes and one waiting in accept, an outgoing connection to p's 9090, a
 * TCP socket never bound, UDP sockets (bound *:5353, connected to
 * 10.0.0.2:53, unbound), a ping socket and a raw ICMP socket. */
enum { S_LSN, S_ACC, S_OUT, S_FRESH, S_UDP, S_UDPC, S_UDPX, S_PING, S_RAW,
       S_N };

struct fx {
	struct world *w;
	struct vimage *h, *p;
	struct ifnet *ve_h, *ve_p;
	struct procnet_sock s[S_N];
	struct vsocket *peer[4];
	uint16_t out_port, udpc_port, cli_port;
	int repeat; /* walk lists S_LSN this many extra times */
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
	for (int i = 0; i < f->repeat; i++) {
		struct procnet_sock s = f->s[S_LSN];

		s.inode = 9000000 + (uint64_t)i;
		if (fn(fctx, &s))
			return;
	}
}

static struct vsocket *mksock(struct vimage *vi, int type, int proto)
{
	struct vsocket *so = NULL;

	REQUIRE(vsock_socket(vi, AF_INET, type, proto, &so) == 0);
	return so;
}

static void fx_init(struct fx *f)
{
	struct world_config cfg = {.seed = 7, .start_ns = 1000000000000ull};
	struct vaddr a = VADDR4(10, 0, 0, 1), b = VADDR4(10, 0, 0, 2);
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
	world_run(f->w);

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
	f->s[S_FRESH].so = mksock(f->h, SOCK_STREAM, 0);

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

	so = mksock(f->h, SOCK_DGRAM, IPPROTO_ICMP);
	s = sin4("10.0.0.2", 0);
	REQUIRE(vsock_sendto(so, icmp, sizeof(icmp), 0, SA(s), sizeof(s)) ==
		sizeof(icmp));
	f->s[S_PING].so = so;
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

/* ---- replies ----------------------------------------------------------------------- */
struct dgram {
	uint8_t *b;
	size_t len;
};

struct cap {
	struct dgram d[64];
	int n;
};

static void emit(void *arg, const void *dgram, size_t len)
{
	struct cap *c = arg;

	REQUIRE(c->n < 64);
	CHECK(len <= RTNL_DGRAM_MAX);
	c->d[c->n].b = malloc(len);
	REQUIRE(c->d[c->n].b);
	memcpy(c->d[c->n].b, dgram, len);
	c->d[c->n].len = len;
	c->n++;
}

static void cap_free(struct cap *c)
{
	for (int i = 0; i < c->n; i++)
		free(c->d[i].b);
	c->n = 0;
}

/* One message of a reply, parsed as ss's parse_diag_msg does. */
struct msg {
	struct nlmsghdr h;
	struct inet_diag_msg m;
	const struct nlattr *tb[INET_DIAG_MAX + 1];
	int err; /* NLMSG_ERROR / NLMSG_DONE payload */
	int dgram;
};

struct reply {
	struct cap cap;
	struct msg m[400];
	int n;
};

static int request(struct fx *f, const void *req, size_t len, struct reply *r)
{
	struct rtnl_out out = {.emit = emit, .arg = &r->cap};
	int ret;

	memset(r, 0, sizeof(*r));
	ret = sockdiag_request(f->h, PORTID, req, len, walk, f, &out);
	for (int d = 0; d < r->cap.n; d++) {
		const uint8_t *p = r->cap.d[d].b;
		size_t left = r->cap.d[d].len;

		while (left >= NLMSG_HDRLEN) {
			const struct nlmsghdr *h = (const void *)p;
			struct msg *m = &r->m[r->n];

			REQUIRE(r->n < 400);
			REQUIRE(h->nlmsg_len >= NLMSG_HDRLEN &&
				h->nlmsg_len <= left);
			memset(m, 0, sizeof(*m));
			m->h = *h;
			m->dgram = d;
			if (h->nlmsg_type == NLMSG_ERROR ||
			    h->nlmsg_type == NLMSG_DONE) {
				REQUIRE(h->nlmsg_len >= NLMSG_LENGTH(4));
				memcpy(&m->err, NLMSG_DATA(h), 4);
			} else {
				const uint8_t *a;
				size_t alen;

				REQUIRE(h->nlmsg_len >=
					NLMSG_LENGTH(sizeof(m->m)));
				memcpy(&m->m, NLMSG_DATA(h), sizeof(m->m));
				a = p + NLMSG_LENGTH(sizeof(m->m));
				alen = h->nlmsg_len - NLMSG_LENGTH(sizeof(m->m));
				while (alen >= NLA_HDRLEN) {
					const struct nlattr *na = (const void *)a;

					REQUIRE(na->nla_len >= NLA_HDRLEN &&
						na->nla_len <= alen);
					if (na->nla_type <= INET_DIAG_MAX)
						m->tb[na->nla_type] = na;
					if (NLA_ALIGN(na->nla_len) >= alen)
						break;
					alen -= NLA_ALIGN(na->nla_len);
					a += NLA_ALIGN(na->nla_len);
				}
			}
			r->n++;
			if (NLMSG_ALIGN(h->nlmsg_len) >= left)
				break;
			left -= NLMSG_ALIGN(h->nlmsg_len);
			p += NLMSG_ALIGN(h->nlmsg_len);
		}
	}
	return ret;
}

static void reply_free(struct reply *r)
{
	cap_free(&r->cap);
}

static const void *adata(const struct nlattr *a)
{
	return (const uint8_t *)a + NLA_HDRLEN;
}

static size_t alen(const struct nlattr *a)
{
	return a->nla_len - NLA_HDRLEN;
}

/* A dump: sockets, then NLMSG_DONE with status, all multipart with the
 * request's sequence number and our port id. */
static int check_dump(const struct reply *r, uint16_t type, int status)
{
	REQUIRE(r->n >= 1);
	for (int i = 0; i < r->n; i++) {
		CHECK_EQ(r->m[i].h.nlmsg_seq, SEQ);
		CHECK_EQ(r->m[i].h.nlmsg_pid, PORTID);
		CHECK_EQ(r->m[i].h.nlmsg_flags, NLM_F_MULTI);
		if (i < r->n - 1)
			CHECK_EQ(r->m[i].h.nlmsg_type, type);
	}
	CHECK_EQ(r->m[r->n - 1].h.nlmsg_type, NLMSG_DONE);
	CHECK_EQ(r->m[r->n - 1].h.nlmsg_len, NLMSG_LENGTH(4));
	CHECK_EQ(r->m[r->n - 1].err, status);
	return r->n - 1;
}

static const struct msg *find_inode(const struct reply *r, uint64_t inode)
{
	for (int i = 0; i < r->n; i++)
		if (r->m[i].h.nlmsg_type != NLMSG_DONE &&
		    r->m[i].h.nlmsg_type != NLMSG_ERROR &&
		    r->m[i].m.idiag_inode == inode)
			return &r->m[i];
	return NULL;
}

static void check_addr(const struct inet_diag_msg *m, const char *src,
		       uint16_t sport, const char *dst, uint16_t dport)
{
	struct in_addr a;

	CHECK_EQ(m->idiag_family, AF_INET);
	inet_pton(AF_INET, src, &a);
	CHECK_EQ(m->id.idiag_src[0], a.s_addr);
	inet_pton(AF_INET, dst, &a);
	CHECK_EQ(m->id.idiag_dst[0], a.s_addr);
	CHECK_EQ(m->id.idiag_sport, htons(sport));
	CHECK_EQ(m->id.idiag_dport, htons(dport));
	CHECK_EQ(m->id.idiag_src[1] | m->id.idiag_src[2] | m->id.idiag_src[3],
		 0);
	CHECK_EQ(m->id.idiag_if, 0);
}

/* ---- tests ------------------------------------------------------------------------- */
TEST(sockdiag_tcp_dump_listener_first_queues_inodes)
{
	struct fx f;
	struct reply r;
	const struct msg *m;

	fx_init(&f);
	CHECK_EQ(request(&f, req_tcp, sizeof(req_tcp), &r), 0);
	CHECK_EQ(r.cap.n, 1); /* one datagram, DONE included */
	REQUIRE_EQ(check_dump(&r, SOCK_DIAG_BY_FAMILY, 0), 3);
	/* The listening hash first, as inet_diag_dump_icsk. */
	m = &r.m[0];
	CHECK_EQ(m->m.idiag_inode, f.s[S_LSN].inode);
	CHECK_EQ(m->m.idiag_state, 10);
	CHECK_EQ(m->m.idiag_rqueue, 1); /* waiting in accept */
	CHECK_EQ(m->m.idiag_wqueue, 7); /* backlog */
	check_addr(&m->m, "10.0.0.1", 8080, "0.0.0.0", 0);
	/* What Linux puts by default: SHUTDOWN and SOCKOPT (is_icsk,
	 * mc_loop, mc_all = 0x52), no INFO. Message length as Linux's
	 * without MARK and CGROUP_ID. */
	REQUIRE(m->tb[INET_DIAG_SHUTDOWN]);
	CHECK_EQ(alen(m->tb[INET_DIAG_SHUTDOWN]), 1);
	CHECK_EQ(*(const uint8_t *)adata(m->tb[INET_DIAG_SHUTDOWN]), 0);
	REQUIRE(m->tb[INET_DIAG_SOCKOPT]);
	CHECK_EQ(alen(m->tb[INET_DIAG_SOCKOPT]), 2);
	CHECK_EQ(*(const uint8_t *)adata(m->tb[INET_DIAG_SOCKOPT]), 0x52);
	CHECK(!m->tb[INET_DIAG_INFO]);
	CHECK(!m->tb[INET_DIAG_CONG]);
	CHECK_EQ(m->h.nlmsg_len, 16 + 72 + 8 + 8);
	CHECK_EQ(m->m.id.idiag_cookie[0], (uint32_t)f.s[S_LSN].inode);

	m = find_inode(&r, f.s[S_ACC].inode);
	REQUIRE(m);
	CHECK_EQ(m->m.idiag_state, 1);
	CHECK_EQ(m->m.idiag_rqueue, 5);
	CHECK_EQ(m->m.idiag_wqueue, 0);
	CHECK_EQ(m->m.idiag_uid, 0);
	check_addr(&m->m, "10.0.0.1", 8080, "10.0.0.2", f.cli_port);

	m = find_inode(&r, f.s[S_OUT].inode);
	REQUIRE(m);
	CHECK_EQ(m->m.idiag_state, 1);
	check_addr(&m->m, "10.0.0.1", f.out_port, "10.0.0.2", 9090);
	/* The never-bound socket is in no table. */
	CHECK(!find_inode(&r, f.s[S_FRESH].inode));
	reply_free(&r);
	fx_free(&f);
}

TEST(sockdiag_udp_dump_bound_and_connected)
{
	struct fx f;
	struct reply r;
	const struct msg *m;

	fx_init(&f);
	CHECK_EQ(request(&f, req_udp, sizeof(req_udp), &r), 0);
	REQUIRE_EQ(check_dump(&r, SOCK_DIAG_BY_FAMILY, 0), 2);
	m = find_inode(&r, f.s[S_UDP].inode);
	REQUIRE(m);
	CHECK_EQ(m->m.idiag_state, 7); /* TCP_CLOSE: unconnected */
	CHECK_EQ(m->m.idiag_uid, 1000);
	check_addr(&m->m, "0.0.0.0", 5353, "0.0.0.0", 0);
	REQUIRE(m->tb[INET_DIAG_SOCKOPT]);
	CHECK_EQ(*(const uint8_t *)adata(m->tb[INET_DIAG_SOCKOPT]), 0x50);
	CHECK(!m->tb[INET_DIAG_PROTOCOL]);
	m = find_inode(&r, f.s[S_UDPC].inode);
	REQUIRE(m);
	CHECK_EQ(m->m.idiag_state, 1);
	check_addr(&m->m, "10.0.0.1", f.udpc_port, "10.0.0.2", 53);
	CHECK(!find_inode(&r, f.s[S_UDPX].inode)); /* no port: not hashed */
	CHECK(!find_inode(&r, f.s[S_PING].inode));
	reply_free(&r);
	fx_free(&f);
}

TEST(sockdiag_ss_ti_tcp_info_and_congestion)
{
	struct fx f;
	struct reply r;
	const struct msg *m;

	fx_init(&f);
	CHECK_EQ(request(&f, req_ti, sizeof(req_ti), &r), 0);
	/* The state mask leaves the listener out. */
	REQUIRE_EQ(check_dump(&r, SOCK_DIAG_BY_FAMILY, 0), 2);
	CHECK(!find_inode(&r, f.s[S_LSN].inode));
	for (int i = 0; i < 2; i++) {
		const struct tcp_info *ti;
		char cc[16] = {0};
		socklen_t len = sizeof(cc);

		m = &r.m[i];
		CHECK_EQ(m->m.idiag_state, 1);
		REQUIRE(m->tb[INET_DIAG_INFO]);
		/* Linux 6.1's struct tcp_info: 232 bytes. */
		CHECK_EQ(alen(m->tb[INET_DIAG_INFO]), 232);
		ti = adata(m->tb[INET_DIAG_INFO]);
		CHECK_EQ(ti->tcpi_state, 1);
		CHECK(ti->tcpi_snd_mss > 0);
		CHECK(ti->tcpi_snd_cwnd > 0);
		REQUIRE(m->tb[INET_DIAG_CONG]);
		REQUIRE(vsock_getsockopt(f.s[S_ACC].so, IPPROTO_TCP,
					 TCP_CONGESTION, cc, &len) == 0);
		CHECK_STR(adata(m->tb[INET_DIAG_CONG]), cc);
		CHECK(strcmp(cc, "cubic") == 0 || strcmp(cc, "reno") == 0);
		CHECK_EQ(alen(m->tb[INET_DIAG_CONG]), strlen(cc) + 1);
	}
	m = find_inode(&r, f.s[S_ACC].inode);
	REQUIRE(m);
	{
		/* tcpi_bytes_received: past glibc's struct, at Linux's 128 */
		uint64_t got;

		memcpy(&got, (const uint8_t *)adata(m->tb[INET_DIAG_INFO]) + 128,
		       sizeof(got));
		CHECK_EQ(got, 5);
	}
	reply_free(&r);
	fx_free(&f);
}

TEST(sockdiag_state_filters)
{
	struct fx f;
	struct reply r;

	fx_init(&f);
	/* ss -tlnp */
	CHECK_EQ(request(&f, req_tlnp, sizeof(req_tlnp), &r), 0);
	REQUIRE_EQ(check_dump(&r, SOCK_DIAG_BY_FAMILY, 0), 1);
	CHECK_EQ(r.m[0].m.idiag_inode, f.s[S_LSN].inode);
	reply_free(&r);
	/* ss -t state established */
	CHECK_EQ(request(&f, req_estab, sizeof(req_estab), &r), 0);
	REQUIRE_EQ(check_dump(&r, SOCK_DIAG_BY_FAMILY, 0), 2);
	CHECK(find_inode(&r, f.s[S_ACC].inode));
	CHECK(find_inode(&r, f.s[S_OUT].inode));
	reply_free(&r);
	/* No state at all: nothing. */
	{
		uint8_t req[sizeof(req_tcp)];

		memcpy(req, req_tcp, sizeof(req));
		memset(req + 20, 0, 4);
		CHECK_EQ(request(&f, req, sizeof(req), &r), 0);
		CHECK_EQ(check_dump(&r, SOCK_DIAG_BY_FAMILY, 0), 0);
		reply_free(&r);
	}
	fx_free(&f);
}

TEST(sockdiag_port_filters_as_linux_dumps)
{
	struct fx f;
	struct reply r;
	uint8_t req[sizeof(req_tcp)];
	struct inet_diag_req_v2 *v2 = (void *)(req + NLMSG_HDRLEN);

	fx_init(&f);
	memcpy(req, req_tcp, sizeof(req));
	v2->id.idiag_sport = htons(8080);
	CHECK_EQ(request(&f, req, sizeof(req), &r), 0);
	REQUIRE_EQ(check_dump(&r, SOCK_DIAG_BY_FAMILY, 0), 2);
	CHECK(find_inode(&r, f.s[S_LSN].inode));
	CHECK(find_inode(&r, f.s[S_ACC].inode));
	reply_free(&r);
	/* A dport leaves listeners out. */
	v2->id.idiag_sport = 0;
	v2->id.idiag_dport = htons(9090);
	CHECK_EQ(request(&f, req, sizeof(req), &r), 0);
	REQUIRE_EQ(check_dump(&r, SOCK_DIAG_BY_FAMILY, 0), 1);
	CHECK_EQ(r.m[0].m.idiag_inode, f.s[S_OUT].inode);
	reply_free(&r);
	/* Addresses are not a dump filter on Linux either. */
	v2->id.idiag_dport = 0;
	inet_pton(AF_INET, "192.0.2.1", &v2->id.idiag_src[0]);
	CHECK_EQ(request(&f, req, sizeof(req), &r), 0);
	CHECK_EQ(check_dump(&r, SOCK_DIAG_BY_FAMILY, 0), 3);
	reply_free(&r);
	fx_free(&f);
}

TEST(sockdiag_bytecode_is_not_run)
{
	struct fx f;
	struct reply r;

	fx_init(&f);
	/* ss -tn dst 127.0.0.1: every non-listening TCP socket comes back;
	 * ss applies its own filter to the answers. */
	CHECK_EQ(request(&f, req_bc, sizeof(req_bc), &r), 0);
	CHECK_EQ(check_dump(&r, SOCK_DIAG_BY_FAMILY, 0), 2);
	reply_free(&r);
	fx_free(&f);
}

TEST(sockdiag_meminfo_and_skmeminfo)
{
	struct fx f;
	struct reply r;
	const struct msg *m;
	const uint32_t *mem;
	const struct inet_diag_meminfo *mi;

	fx_init(&f);
	CHECK_EQ(request(&f, req_tanm, sizeof(req_tanm), &r), 0);
	REQUIRE_EQ(check_dump(&r, SOCK_DIAG_BY_FAMILY, 0), 3);
	m = find_inode(&r, f.s[S_ACC].inode);
	REQUIRE(m);
	REQUIRE(m->tb[INET_DIAG_MEMINFO]);
	CHECK_EQ(alen(m->tb[INET_DIAG_MEMINFO]), sizeof(*mi));
	mi = adata(m->tb[INET_DIAG_MEMINFO]);
	CHECK_EQ(mi->idiag_rmem, 5);
	REQUIRE(m->tb[INET_DIAG_SKMEMINFO]);
	CHECK_EQ(alen(m->tb[INET_DIAG_SKMEMINFO]), 4 * SK_MEMINFO_VARS);
	mem = adata(m->tb[INET_DIAG_SKMEMINFO]);
	CHECK_EQ(mem[SK_MEMINFO_RMEM_ALLOC], 5);
	CHECK(mem[SK_MEMINFO_RCVBUF] > 0);
	CHECK(mem[SK_MEMINFO_SNDBUF] > 0);
	CHECK(!m->tb[INET_DIAG_INFO]);
	reply_free(&r);
	fx_free(&f);
}

TEST(sockdiag_raw_dump_has_protocol)
{
	struct fx f;
	struct reply r;
	const struct msg *m;

	fx_init(&f);
	/* raw_diag applies no state mask: ss -w's ESTABLISHED-only request
	 * still gets the unconnected raw socket, as from Linux. */
	for (int i = 0; i < 2; i++) {
		CHECK_EQ(request(&f, i ? req_raw_all : req_raw,
				 sizeof(req_raw), &r),
			 0);
		REQUIRE_EQ(check_dump(&r, SOCK_DIAG_BY_FAMILY, 0), 1);
		m = &r.m[0];
		CHECK_EQ(m->m.idiag_inode, f.s[S_RAW].inode);
		CHECK_EQ(m->m.idiag_state, 7);
		check_addr(&m->m, "0.0.0.0", IPPROTO_ICMP, "0.0.0.0", 0);
		REQUIRE(m->tb[INET_DIAG_PROTOCOL]);
		CHECK_EQ(*(const uint8_t *)adata(m->tb[INET_DIAG_PROTOCOL]),
			 IPPROTO_ICMP);
		reply_free(&r);
	}
	fx_free(&f);
}

TEST(sockdiag_empty_families_and_unknown_protocols)
{
	struct fx f;
	struct reply r;
	uint8_t req[sizeof(req_tcp)];

	fx_init(&f);
	CHECK_EQ(request(&f, req_tcp6, sizeof(req_tcp6), &r), 0);
	CHECK_EQ(check_dump(&r, SOCK_DIAG_BY_FAMILY, 0), 0);
	reply_free(&r);
	CHECK_EQ(request(&f, req_unix, sizeof(req_unix), &r), 0);
	CHECK_EQ(check_dump(&r, SOCK_DIAG_BY_FAMILY, 0), 0);
	CHECK_EQ(r.m[0].h.nlmsg_seq, SEQ);
	reply_free(&r);
	/* AF_PACKET, AF_NETLINK dumps: empty. */
	memcpy(req, req_tcp, sizeof(req));
	req[16] = AF_PACKET;
	CHECK_EQ(request(&f, req, sizeof(req), &r), 0);
	CHECK_EQ(check_dump(&r, SOCK_DIAG_BY_FAMILY, 0), 0);
	reply_free(&r);
	req[16] = AF_NETLINK;
	CHECK_EQ(request(&f, req, sizeof(req), &r), 0);
	CHECK_EQ(check_dump(&r, SOCK_DIAG_BY_FAMILY, 0), 0);
	reply_free(&r);
	/* ICMP has no inet_diag handler: DONE carries -ENOENT, as Linux
	 * answered ss -w without raw_diag loaded. */
	req[16] = AF_INET;
	req[17] = IPPROTO_ICMP;
	CHECK_EQ(request(&f, req, sizeof(req), &r), 0);
	CHECK_EQ(check_dump(&r, SOCK_DIAG_BY_FAMILY, -ENOENT), 0);
	reply_free(&r);
	/* INET_DIAG_REQ_PROTOCOL overrides sdiag_protocol. */
	{
		uint8_t big[sizeof(req_tcp) + 8];
		struct nlattr a = {.nla_len = 8,
				   .nla_type = INET_DIAG_REQ_PROTOCOL};
		uint32_t udp = IPPROTO_UDP;

		memcpy(big, req_tcp, sizeof(req_tcp));
		big[0] = sizeof(big);
		memcpy(big + sizeof(req_tcp), &a, 4);
		memcpy(big + sizeof(req_tcp) + 4, &udp, 4);
		CHECK_EQ(request(&f, big, sizeof(big), &r), 0);
		CHECK_EQ(check_dump(&r, SOCK_DIAG_BY_FAMILY, 0), 2);
		CHECK(find_inode(&r, f.s[S_UDP].inode));
		reply_free(&r);
	}
	fx_free(&f);
}

TEST(sockdiag_old_tcpdiag_getsock)
{
	struct fx f;
	struct reply r;
	struct {
		struct nlmsghdr h;
		struct inet_diag_req rq;
	} req;

	fx_init(&f);
	memset(&req, 0, sizeof(req));
	req.h.nlmsg_len = sizeof(req);
	req.h.nlmsg_type = TCPDIAG_GETSOCK;
	req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	req.h.nlmsg_seq = SEQ;
	req.rq.idiag_family = AF_INET;
	req.rq.idiag_states = 0xfff;
	req.rq.idiag_ext = 1 << (INET_DIAG_INFO - 1);
	CHECK_EQ(request(&f, &req, sizeof(req), &r), 0);
	REQUIRE_EQ(check_dump(&r, TCPDIAG_GETSOCK, 0), 3);
	CHECK(r.m[0].tb[INET_DIAG_INFO]);
	reply_free(&r);
	req.h.nlmsg_type = DCCPDIAG_GETSOCK;
	CHECK_EQ(request(&f, &req, sizeof(req), &r), 0);
	CHECK_EQ(check_dump(&r, DCCPDIAG_GETSOCK, -ENOENT), 0);
	reply_free(&r);
	fx_free(&f);
}

TEST(sockdiag_exact_lookup_and_cookie)
{
	struct fx f;
	struct reply r;
	uint8_t req[sizeof(req_tcp)];
	struct nlmsghdr *h = (void *)req;
	struct inet_diag_req_v2 *v2 = (void *)(req + NLMSG_HDRLEN);
	uint64_t ino;

	fx_init(&f);
	ino = f.s[S_ACC].inode;
	memcpy(req, req_tcp, sizeof(req));
	h->nlmsg_flags = NLM_F_REQUEST;
	v2->id.idiag_sport = htons(8080);
	v2->id.idiag_dport = htons(f.cli_port);
	inet_pton(AF_INET, "10.0.0.1", &v2->id.idiag_src[0]);
	inet_pton(AF_INET, "10.0.0.2", &v2->id.idiag_dst[0]);
	v2->id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
	v2->id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
	CHECK_EQ(request(&f, req, sizeof(req), &r), 0);
	REQUIRE_EQ(r.n, 1);
	CHECK_EQ(r.m[0].h.nlmsg_type, SOCK_DIAG_BY_FAMILY);
	CHECK_EQ(r.m[0].h.nlmsg_flags, 0);
	CHECK_EQ(r.m[0].m.idiag_inode, ino);
	reply_free(&r);
	/* The cookie that came with it, then a stale one. */
	v2->id.idiag_cookie[0] = (uint32_t)ino;
	v2->id.idiag_cookie[1] = (uint32_t)(ino >> 32);
	CHECK_EQ(request(&f, req, sizeof(req), &r), 0);
	REQUIRE_EQ(r.n, 1);
	CHECK_EQ(r.m[0].m.idiag_inode, ino);
	reply_free(&r);
	v2->id.idiag_cookie[0]++;
	CHECK_EQ(request(&f, req, sizeof(req), &r), 0);
	REQUIRE_EQ(r.n, 1);
	CHECK_EQ(r.m[0].h.nlmsg_type, NLMSG_ERROR);
	CHECK_EQ(r.m[0].err, -ENOENT);
	reply_free(&r);
	/* Another peer port: the listener answers for the address. */
	v2->id.idiag_cookie[0] = v2->id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
	v2->id.idiag_dport = htons(1);
	CHECK_EQ(request(&f, req, sizeof(req), &r), 0);
	REQUIRE_EQ(r.n, 1);
	CHECK_EQ(r.m[0].m.idiag_inode, f.s[S_LSN].inode);
	reply_free(&r);
	/* Nothing on that port; with NLM_F_ACK a found socket is acked. */
	v2->id.idiag_sport = htons(1);
	CHECK_EQ(request(&f, req, sizeof(req), &r), 0);
	REQUIRE_EQ(r.n, 1);
	CHECK_EQ(r.m[0].err, -ENOENT);
	reply_free(&r);
	v2->id.idiag_sport = htons(8080);
	h->nlmsg_flags |= NLM_F_ACK;
	CHECK_EQ(request(&f, req, sizeof(req), &r), 0);
	REQUIRE_EQ(r.n, 2);
	CHECK_EQ(r.m[1].h.nlmsg_type, NLMSG_ERROR);
	CHECK_EQ(r.m[1].err, 0);
	CHECK_EQ(r.m[1].h.nlmsg_flags, NLM_F_CAPPED);
	reply_free(&r);
	fx_free(&f);
}

static void check_error(struct fx *f, const void *req, size_t len, int err,
			size_t echo)
{
	struct reply r;

	request(f, req, len, &r);
	REQUIRE_EQ(r.n, 1);
	CHECK_EQ(r.m[0].h.nlmsg_type, NLMSG_ERROR);
	CHECK_EQ(r.m[0].err, err);
	CHECK_EQ(r.m[0].h.nlmsg_pid, PORTID);
	CHECK_EQ(r.m[0].h.nlmsg_len,
		 NLMSG_ALIGN(NLMSG_LENGTH(sizeof(struct nlmsgerr)) + echo -
			     NLMSG_HDRLEN));
	if (len >= 12) /* else the sequence number was cut off too */
		CHECK_EQ(r.m[0].h.nlmsg_seq, SEQ);
	reply_free(&r);
}

TEST(sockdiag_malformed_requests)
{
	struct fx f;
	struct reply r;
	uint8_t req[sizeof(req_tcp) + 16];
	struct nlmsghdr *h = (void *)req;

	fx_init(&f);
	/* Payload shorter than inet_diag_req_v2: -EINVAL, request echoed. */
	memcpy(req, req_tcp, sizeof(req_tcp));
	h->nlmsg_len = 40;
	check_error(&f, req, 40, -EINVAL, 40);
	/* Shorter than sock_diag_req. */
	h->nlmsg_len = 17;
	check_error(&f, req, 17, -EINVAL, 17);
	/* A length beyond the datagram: the header alone is echoed. */
	h->nlmsg_len = sizeof(req_tcp) + 100;
	check_error(&f, req, sizeof(req_tcp), -EINVAL, NLMSG_HDRLEN);
	/* A header cut short. */
	check_error(&f, req, 10, -EINVAL, NLMSG_HDRLEN);
	h->nlmsg_len = sizeof(req_tcp);
	/* Unknown message type. */
	h->nlmsg_type = 99;
	check_error(&f, req, sizeof(req_tcp), -EINVAL, sizeof(req_tcp));
	h->nlmsg_type = SOCK_DIAG_BY_FAMILY;
	/* Family beyond AF_MAX; a family without a handler. */
	req[16] = 200;
	check_error(&f, req, sizeof(req_tcp), -EINVAL, sizeof(req_tcp));
	req[16] = AF_APPLETALK;
	check_error(&f, req, sizeof(req_tcp), -ENOENT, sizeof(req_tcp));
	req[16] = AF_INET;
	/* SOCK_DESTROY (ss -K): not supported. */
	h->nlmsg_type = SOCK_DESTROY;
	h->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	check_error(&f, req, sizeof(req_tcp), -EOPNOTSUPP, sizeof(req_tcp));
	h->nlmsg_type = SOCK_DIAG_BY_FAMILY;
	h->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	/* A truncated attribute; a REQ_PROTOCOL that is not a u32. */
	{
		struct nlattr a = {.nla_len = 12,
				   .nla_type = INET_DIAG_REQ_PROTOCOL};

		memset(req + sizeof(req_tcp), 0, 16);
		memcpy(req + sizeof(req_tcp), &a, sizeof(a));
		h->nlmsg_len = sizeof(req_tcp) + 8;
		check_error(&f, req, h->nlmsg_len, -EINVAL, h->nlmsg_len);
		h->nlmsg_len = sizeof(req_tcp) + 12;
		check_error(&f, req, h->nlmsg_len, -EINVAL, h->nlmsg_len);
		h->nlmsg_len = sizeof(req_tcp);
	}
	/* Not a request: silence. Zero padding: silence. */
	h->nlmsg_flags = NLM_F_DUMP;
	CHECK_EQ(request(&f, req, sizeof(req_tcp), &r), 0);
	CHECK_EQ(r.n, 0);
	reply_free(&r);
	memset(req, 0, sizeof(req));
	CHECK_EQ(request(&f, req, sizeof(req), &r), 0);
	CHECK_EQ(r.n, 0);
	reply_free(&r);
	CHECK_EQ(request(&f, req, 0, &r), -EINVAL);
	CHECK_EQ(r.n, 0);
	reply_free(&r);
	fx_free(&f);
}

TEST(sockdiag_two_requests_in_one_datagram)
{
	struct fx f;
	struct reply r;
	uint8_t req[sizeof(req_tcp) + sizeof(req_udp)];

	fx_init(&f);
	memcpy(req, req_tcp, sizeof(req_tcp));
	memcpy(req + sizeof(req_tcp), req_udp, sizeof(req_udp));
	CHECK_EQ(request(&f, req, sizeof(req), &r), 0);
	REQUIRE_EQ(r.n, 3 + 1 + 2 + 1);
	CHECK_EQ(r.m[3].h.nlmsg_type, NLMSG_DONE);
	CHECK_EQ(r.m[6].h.nlmsg_type, NLMSG_DONE);
	CHECK_EQ(r.m[4].m.idiag_inode, f.s[S_UDP].inode);
	reply_free(&r);
	fx_free(&f);
}

TEST(sockdiag_large_dump_spans_datagrams)
{
	struct fx f;
	struct reply r;
	int n;

	fx_init(&f);
	f.repeat = 300; /* 300 more "listeners" */
	CHECK_EQ(request(&f, req_ti, sizeof(req_ti), &r), 0);
	CHECK_EQ(check_dump(&r, SOCK_DIAG_BY_FAMILY, 0), 2);
	reply_free(&r);
	CHECK_EQ(request(&f, req_tanm, sizeof(req_tanm), &r), 0);
	n = check_dump(&r, SOCK_DIAG_BY_FAMILY, 0);
	CHECK_EQ(n, 303);
	CHECK(r.cap.n > 1);
	for (int d = 0; d < r.cap.n; d++)
		CHECK(r.cap.d[d].len <= RTNL_DGRAM_MAX &&
		      (d == r.cap.n - 1 ||
		       r.cap.d[d].len > RTNL_DGRAM_MAX - 400));
	reply_free(&r);
	{
		/* -ti with INFO on every listener: 300 messages of ~330 B. */
		uint8_t req[sizeof(req_ti)];

		memcpy(req, req_ti, sizeof(req));
		req[20] = 0xff;
		req[21] = 0x0f;
		CHECK_EQ(request(&f, req, sizeof(req), &r), 0);
		CHECK_EQ(check_dump(&r, SOCK_DIAG_BY_FAMILY, 0), 303);
		CHECK(r.cap.n >= 6);
		for (int i = 0; i < r.n - 1; i++)
			CHECK(r.m[i].tb[INET_DIAG_INFO]);
		reply_free(&r);
	}
	fx_free(&f);
}

/* With SOCKDIAG_DUMP=<file>, the replies to ss -tai's request are written
 * there, to feed ss itself: TCPDIAG_FILE=<file> ss -tai reads a dump from
 * a file instead of the kernel. */
TEST(sockdiag_dump_for_ss)
{
	const char *path = getenv("SOCKDIAG_DUMP");
	uint8_t req[sizeof(req_ti)];
	struct fx f;
	struct reply r;
	FILE *fp;

	if (!path)
		return;
	fx_init(&f);
	memcpy(req, req_ti, sizeof(req));
	req[18] |= 1 << (INET_DIAG_SKMEMINFO - 1);
	req[20] = 0xff;
	req[21] = 0x0f;
	CHECK_EQ(request(&f, req, sizeof(req), &r), 0);
	fp = fopen(path, "w");
	REQUIRE(fp);
	for (int d = 0; d < r.cap.n; d++)
		CHECK_EQ(fwrite(r.cap.d[d].b, 1, r.cap.d[d].len, fp),
			 r.cap.d[d].len);
	fclose(fp);
	reply_free(&r);
	fx_free(&f);
}
