/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NETLINK_SOCK_DIAG emulation (see sockdiag.h): inet_diag dumps of a
 * vimage's sockets, laid out as Linux's inet_sk_diag_fill lays them out,
 * so that iproute2's ss reads them as it reads the kernel's.
 *
 * The sockets are read once per request (one thread drives the world: they
 * cannot change under us), then filtered and packed into datagrams of
 * RTNL_DGRAM_MAX bytes as the kernel's dump skbs are.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <vimage/socket.h>

#include "daemon/nlmsg.h"
#include "daemon/sockdiag.h"

/* Linux's sk_state numbers (include/net/tcp_states.h). */
#define LX_TCP_ESTABLISHED 1
#define LX_TCP_FIN_WAIT1 4
#define LX_TCP_FIN_WAIT2 5
#define LX_TCP_TIME_WAIT 6
#define LX_TCP_CLOSE 7
#define LX_TCP_CLOSE_WAIT 8
#define LX_TCP_LAST_ACK 9
#define LX_TCP_LISTEN 10
#define LX_TCP_CLOSING 11

#define LX_RCV_SHUTDOWN 1
#define LX_SEND_SHUTDOWN 2

/* struct inet_diag_sockopt's bits (first byte). */
#define SOCKOPT_RECVERR 0x01
#define SOCKOPT_IS_ICSK 0x02
#define SOCKOPT_HDRINCL 0x08
#define SOCKOPT_MC_LOOP 0x10
#define SOCKOPT_MC_ALL 0x40

#define TCPINFO_MAX 256 /* more than Linux 6.x's struct tcp_info */
#define CC_NAME_MAX 16  /* TCP_CA_NAME_MAX */

/* ---- the sockets ----------------------------------------------------------------- */
enum sk_kind { SK_TCP, SK_UDP, SK_RAW };

struct sk {
	struct procnet_sock ps;
	enum sk_kind kind;
	int protocol;
	uint8_t state, shutdown, tos, sockopt;
	struct sockaddr_in local, remote;
	uint32_t rxq, txq;
	uint32_t rcvbuf, sndbuf;
	size_t info_len;
	uint8_t info[TCPINFO_MAX];
	char cc[CC_NAME_MAX];
};

struct sk_list {
	struct sk *s;
	size_t n;
};

static int get_opt(struct vsocket *so, int level, int name, int *v)
{
	socklen_t len = sizeof(*v);

	*v = 0;
	return vsock_getsockopt(so, level, name, v, &len);
}

/* What a FIN in each direction has done to sk_shutdown by this state. */
static uint8_t tcp_shutdown(uint8_t state)
{
	uint8_t sh = 0;

	switch (state) {
	case LX_TCP_FIN_WAIT1:
	case LX_TCP_FIN_WAIT2:
		sh = LX_SEND_SHUTDOWN;
		break;
	case LX_TCP_CLOSE_WAIT:
		sh = LX_RCV_SHUTDOWN;
		break;
	case LX_TCP_LAST_ACK:
	case LX_TCP_CLOSING:
	case LX_TCP_TIME_WAIT:
		sh = LX_RCV_SHUTDOWN | LX_SEND_SHUTDOWN;
		break;
	default:
		break;
	}
	return sh;
}

static bool sk_read_tcp(struct sk *k)
{
	struct vsocket *so = k->ps.so;
	struct vsock_tcp_view tv;
	socklen_t len;

	if (vsock_tcp_view(so, &tv))
		return false;
	if (tv.state == LX_TCP_CLOSE)
		return false; /* in no lookup table: never dumped */
	k->kind = SK_TCP;
	k->state = tv.state;
	k->local = tv.local;
	k->remote = tv.remote;
	k->shutdown = tcp_shutdown(tv.state);
	/* tcp_diag_get_info: a listener's sk_ack_backlog and
	 * sk_max_ack_backlog, else rcv_nxt - copied_seq and
	 * write_seq - snd_una. */
	k->rxq = tv.rx_queue;
	k->txq = tv.state == LX_TCP_LISTEN ? tv.backlog : tv.tx_queue;
	k->sockopt |= SOCKOPT_IS_ICSK;
	len = sizeof(k->info);
	if (vsock_getsockopt(so, IPPROTO_TCP, TCP_INFO, k->info, &len) == 0 &&
	    len > 0) {
		k->info_len = len;
	} else {
		/* Never without one: tcp_get_info fills any TCP socket. */
		memset(k->info, 0, sizeof(k->info));
		k->info[0] = k->state;
		k->info_len = offsetof(struct tcp_info, tcpi_rcv_rtt);
	}
	len = sizeof(k->cc);
	if (vsock_getsockopt(so, IPPROTO_TCP, TCP_CONGESTION, k->cc, &len) ||
	    !k->cc[0])
		strcpy(k->cc, "cubic");
	k->cc[sizeof(k->cc) - 1] = 0;
	return true;
}

static bool sk_read_dgram(struct sk *k, int type)
{
	struct vsocket *so = k->ps.so;
	socklen_t len;
	int v;

	if (type == SOCK_DGRAM && k->protocol == IPPROTO_UDP)
		k->kind = SK_UDP;
	else if (type == SOCK_RAW)
		k->kind = SK_RAW;
	else
		return false; /* ping sockets: no diag handler on Linux */
	len = sizeof(k->local);
	if (vsock_getsockname(so, (struct sockaddr *)&k->local, &len))
		return false;
	len = sizeof(k->remote);
	if (vsock_getpeername(so, (struct sockaddr *)&k->remote, &len) == 0) {
		k->state = LX_TCP_ESTABLISHED;
	} else {
		memset(&k->remote, 0, sizeof(k->remote));
		k->state = LX_TCP_CLOSE;
	}
	k->local.sin_family = k->remote.sin_family = AF_INET;
	if (k->kind == SK_RAW) {
		/* inet_sport of a raw socket is its protocol. */
		k->local.sin_port = htons((uint16_t)k->protocol);
		k->remote.sin_port = 0;
		if (get_opt(so, IPPROTO_IP, IP_HDRINCL, &v) == 0 && v)
			k->sockopt |= SOCKOPT_HDRINCL;
	} else if (k->local.sin_port == 0) {
		return false; /* UDP: hashed once a port is bound */
	}
	if (vsock_ioctl(so, SIOCINQ, &v) == 0 && v > 0)
		k->rxq = (uint32_t)v;
	if (vsock_ioctl(so, SIOCOUTQ, &v) == 0 && v > 0)
		k->txq = (uint32_t)v;
	return true;
}

/* Everything a reply may need, read once; false when Linux would not list
 * the socket. */
static bool sk_read(struct sk *k)
{
	struct vsocket *so = k->ps.so;
	int type = 0, v;

	if (get_opt(so, SOL_SOCKET, SO_TYPE, &type) ||
	    get_opt(so, SOL_SOCKET, SO_PROTOCOL, &k->protocol))
		return false;
	k->sockopt = SOCKOPT_MC_LOOP | SOCKOPT_MC_ALL; /* inet_create */
	if (get_opt(so, IPPROTO_IP, IP_RECVERR, &v) == 0 && v)
		k->sockopt |= SOCKOPT_RECVERR;
	if (get_opt(so, IPPROTO_IP, IP_TOS, &v) == 0)
		k->tos = (uint8_t)v;
	if (get_opt(so, SOL_SOCKET, SO_RCVBUF, &v) == 0 && v > 0)
		k->rcvbuf = (uint32_t)v;
	if (get_opt(so, SOL_SOCKET, SO_SNDBUF, &v) == 0 && v > 0)
		k->sndbuf = (uint32_t)v;
	if (type == SOCK_STREAM)
		return sk_read_tcp(k);
	return sk_read_dgram(k, type);
}

static bool sk_load(void *rec, const struct procnet_sock *s)
{
	struct sk *k = rec;

	k->ps = *s;
	return sk_read(k);
}

/* The sockets of vi, read (procnet_gather); -ENOMEM. */
static int sk_gather(struct vimage *vi, procnet_walk_fn walk, void *wctx,
		     struct sk_list *l)
{
	void *s = NULL;
	int rc = procnet_gather(vi, walk, wctx, sizeof(struct sk), sk_load, &s,
				&l->n);

	l->s = s;
	return rc;
}

/* ---- one socket's message ----------------------------------------------------------- */
/* The request, whichever form it came in. */
struct dreq {
	uint16_t type;	 /* echoed in the replies */
	uint8_t family;	 /* AF_UNSPEC: both (the old requests' dumps) */
	uint32_t protocol;
	uint8_t ext;
	uint8_t raw_protocol; /* inet_diag_req_raw's sdiag_raw_protocol */
	uint32_t states;
	struct inet_diag_sockid id;
};

static bool want(const struct dreq *r, int ext)
{
	return r->ext & (1u << (ext - 1));
}

/* inet_sk_diag_fill */
static void fill_sock(struct nlbuf *q, const struct dreq *r, const struct sk *k,
		      uint16_t flags)
{
	struct inet_diag_msg m;
	uint8_t sockopt[2] = {k->sockopt, 0};

	memset(&m, 0, sizeof(m));
	m.idiag_family = AF_INET;
	m.idiag_state = k->state;
	m.id.idiag_sport = k->local.sin_port;
	m.id.idiag_dport = k->remote.sin_port;
	m.id.idiag_src[0] = k->local.sin_addr.s_addr;
	m.id.idiag_dst[0] = k->remote.sin_addr.s_addr;
	m.id.idiag_cookie[0] = (uint32_t)k->ps.inode;
	m.id.idiag_cookie[1] = (uint32_t)(k->ps.inode >> 32);
	m.idiag_rqueue = k->rxq;
	m.idiag_wqueue = k->txq;
	m.idiag_uid = (uint32_t)k->ps.uid;
	m.idiag_inode = (uint32_t)k->ps.inode;

	nl_msg_begin(q, r->type, flags);
	nl_put(q, &m, sizeof(m));
	nl_attr_u8(q, INET_DIAG_SHUTDOWN, k->shutdown);
	if (want(r, INET_DIAG_TOS))
		nl_attr_u8(q, INET_DIAG_TOS, k->tos);
	if (want(r, INET_DIAG_TCLASS))
		nl_attr_u32(q, INET_DIAG_CLASS_ID, 0); /* sk_priority */
	nl_attr_put(q, INET_DIAG_SOCKOPT, sockopt, sizeof(sockopt));
	if (want(r, INET_DIAG_MEMINFO)) {
		struct inet_diag_meminfo mi = {
			.idiag_rmem = k->rxq,
			.idiag_wmem = k->kind == SK_TCP &&
					      k->state != LX_TCP_LISTEN
				      ? k->txq
				      : 0,
		};

		nl_attr_put(q, INET_DIAG_MEMINFO, &mi, sizeof(mi));
	}
	if (want(r, INET_DIAG_SKMEMINFO)) {
		uint32_t mem[SK_MEMINFO_VARS] = {0};
		bool tcp_q = k->kind == SK_TCP && k->state != LX_TCP_LISTEN;

		mem[SK_MEMINFO_RMEM_ALLOC] = tcp_q || k->kind != SK_TCP
						     ? k->rxq
						     : 0;
		mem[SK_MEMINFO_RCVBUF] = k->rcvbuf;
		mem[SK_MEMINFO_WMEM_ALLOC] = k->kind == SK_TCP ? 0 : k->txq;
		mem[SK_MEMINFO_SNDBUF] = k->sndbuf;
		mem[SK_MEMINFO_WMEM_QUEUED] = tcp_q ? k->txq : 0;
		nl_attr_put(q, INET_DIAG_SKMEMINFO, mem, sizeof(mem));
	}
	if (k->kind == SK_RAW)
		nl_attr_u8(q, INET_DIAG_PROTOCOL, (uint8_t)k->protocol);
	if (k->kind == SK_TCP) {
		if (want(r, INET_DIAG_INFO))
			nl_attr_put(q, INET_DIAG_INFO, k->info, k->info_len);
		if (want(r, INET_DIAG_CONG))
			nl_attr_str(q, INET_DIAG_CONG, k->cc);
	}
	nl_msg_end(q, flags & NLM_F_MULTI);
}

/* ---- dumps ----------------------------------------------------------------------- */
static bool proto_kind(uint32_t protocol, enum sk_kind *kind)
{
	switch (protocol) {
	case IPPROTO_TCP:
		*kind = SK_TCP;
		return true;
	case IPPROTO_UDP:
		*kind = SK_UDP;
		return true;
	case IPPROTO_RAW:
		*kind = SK_RAW;
		return true;
	default:
		return false;
	}
}

/* The filters Linux's dump functions apply before the bytecode
 * (inet_diag_dump_icsk, udp_dump, raw_diag_dump). pass 0 is TCP's
 * listening hash, pass 1 the rest. */
static bool dump_match(const struct dreq *r, const struct sk *k, int pass)
{
	if (k->kind == SK_TCP) {
		bool listen = k->state == LX_TCP_LISTEN;

		if (listen != (pass == 0))
			return false;
		if (listen && r->id.idiag_dport)
			return false;
	} else if (pass != 0) {
		return false; /* one table */
	}
	if (k->kind != SK_RAW && !(r->states & (1u << k->state)))
		return false;
	if (r->id.idiag_sport && r->id.idiag_sport != k->local.sin_port)
		return false;
	if (r->id.idiag_dport && r->id.idiag_dport != k->remote.sin_port)
		return false;
	return true;
}

static int dump_inet(struct nlbuf *q, const struct dreq *r, struct vimage *vi,
		     procnet_walk_fn walk, void *wctx)
{
	struct sk_list l;
	enum sk_kind kind;

	if (r->protocol == IPPROTO_UDPLITE) {
		nl_send_done(q, 0);
		return 0;
	}
	if (!proto_kind(r->protocol, &kind)) {
		nl_send_done(q, -ENOENT); /* inet_diag_lock_handler */
		return 0;
	}
	if (r->family == AF_INET6) {
		nl_send_done(q, 0);
		return 0;
	}
	if (sk_gather(vi, walk, wctx, &l))
		return -ENOMEM;
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < l.n; i++)
			if (l.s[i].kind == kind && dump_match(r, &l.s[i], pass))
				fill_sock(q, r, &l.s[i], NLM_F_MULTI);
	free(l.s);
	if (q->nomem)
		return -ENOMEM;
	nl_send_done(q, 0);
	return 0;
}

/* inet_diag_cmd_exact: the socket the id names, the connected one before
 * a wildcard (established before listening), the cookie checked. */
static int exact_score(const struct dreq *r, const struct sk *k)
{
	const struct inet_diag_sockid *id = &r->id;
	bool wild_local = k->local.sin_addr.s_addr == INADDR_ANY;
	bool wild_remote = k->remote.sin_addr.s_addr == INADDR_ANY &&
			   k->remote.sin_port == 0;

	if (k->kind == SK_RAW) {
		if (k->protocol != r->raw_protocol)
			return 0;
	} else if (id->idiag_sport != k->local.sin_port) {
		return 0;
	}
	if (!wild_local && id->idiag_src[0] != k->local.sin_addr.s_addr)
		return 0;
	if (wild_remote)
		return 1;
	if (id->idiag_dst[0] != k->remote.sin_addr.s_addr ||
	    (k->kind != SK_RAW && id->idiag_dport != k->remote.sin_port))
		return 0;
	return 2;
}

static int exact_inet(struct nlbuf *q, const struct dreq *r, struct vimage *vi,
		      procnet_walk_fn walk, void *wctx)
{
	const struct sk *best = NULL;
	struct sk_list l;
	enum sk_kind kind;
	int best_score = 0, err = 0;

	if (!proto_kind(r->protocol, &kind))
		return -ENOENT; /* no handler, or no UDP-Lite socket */
	if (r->family == AF_INET6)
		return -ENOENT;
	if (r->family != AF_INET)
		return -EINVAL;
	if (sk_gather(vi, walk, wctx, &l))
		return -ENOMEM;
	for (size_t i = 0; i < l.n; i++) {
		int s;

		if (l.s[i].kind != kind)
			continue;
		s = exact_score(r, &l.s[i]);
		if (s > best_score) {
			best_score = s;
			best = &l.s[i];
		}
	}
	if (!best) {
		err = -ENOENT;
	} else if ((r->id.idiag_cookie[0] != INET_DIAG_NOCOOKIE ||
		    r->id.idiag_cookie[1] != INET_DIAG_NOCOOKIE) &&
		   ((uint64_t)r->id.idiag_cookie[1] << 32 |
		    r->id.idiag_cookie[0]) != best->ps.inode) {
		err = -ENOENT; /* sock_diag_check_cookie */
	} else {
		fill_sock(q, r, best, 0);
		if (q->nomem)
			err = -ENOMEM;
		else
			nl_flush(q);
	}
	free(l.s);
	return err;
}

/* ---- requests -------------------------------------------------------------------- */
/* The attributes after the request structure, as inet_diag_parse_attrs
 * reads them: INET_DIAG_REQ_PROTOCOL must be a u32. A stream that does
 * not parse is -EINVAL (Linux stops at the bad attribute). */
static int parse_req_attrs(const struct nlmsghdr *nlh, size_t hdrlen,
			   struct dreq *r)
{
	size_t off = NLMSG_HDRLEN + NLMSG_ALIGN(hdrlen);
	const uint8_t *p = (const uint8_t *)nlh + off;
	size_t len = nlh->nlmsg_len > off ? nlh->nlmsg_len - off : 0;

	while (len > 0) {
		struct nlattr a;
		size_t step;

		if (len < NLA_HDRLEN)
			return -EINVAL;
		memcpy(&a, p, sizeof(a));
		if (a.nla_len < NLA_HDRLEN || a.nla_len > len)
			return -EINVAL;
		if ((a.nla_type & NLA_TYPE_MASK) == INET_DIAG_REQ_PROTOCOL) {
			uint32_t v;

			if (a.nla_len != NLA_HDRLEN + sizeof(v))
				return -EINVAL;
			memcpy(&v, p + NLA_HDRLEN, sizeof(v));
			r->protocol = v;
		}
		/* INET_DIAG_REQ_BYTECODE: not run (see sockdiag.h). */
		step = NLA_ALIGN(a.nla_len);
		if (step >= len)
			break;
		p += step;
		len -= step;
	}
	return 0;
}

static bool is_dump(const struct nlmsghdr *nlh)
{
	return (nlh->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP;
}

/* Returns -EINTR when a dump was answered (no ack follows), else 0 or the
 * error to report. */
static int do_inet(struct nlbuf *q, const struct nlmsghdr *nlh, struct dreq *r,
		   size_t hdrlen, struct vimage *vi, procnet_walk_fn walk,
		   void *wctx)
{
	int err;

	if (is_dump(nlh)) {
		err = parse_req_attrs(nlh, hdrlen, r);
		if (!err)
			err = dump_inet(q, r, vi, walk, wctx);
		return err ? err : -EINTR;
	}
	return exact_inet(q, r, vi, walk, wctx);
}

static int do_by_family(struct nlbuf *q, const struct nlmsghdr *nlh,
			struct vimage *vi, procnet_walk_fn walk, void *wctx)
{
	size_t plen = nlh->nlmsg_len - NLMSG_HDRLEN;
	const uint8_t *data = NLMSG_DATA(nlh);
	struct inet_diag_req_v2 v2;
	struct dreq r;

	if (plen < sizeof(struct sock_diag_req))
		return -EINVAL;
	if (data[0] >= AF_MAX)
		return -EINVAL;
	switch (data[0]) {
	case AF_INET:
	case AF_INET6:
		if (plen < sizeof(v2))
			return -EINVAL;
		if (nlh->nlmsg_type == SOCK_DESTROY)
			return -EOPNOTSUPP;
		memcpy(&v2, data, sizeof(v2));
		memset(&r, 0, sizeof(r));
		r.type = nlh->nlmsg_type;
		r.family = v2.sdiag_family;
		r.protocol = v2.sdiag_protocol;
		r.ext = v2.idiag_ext;
		r.raw_protocol = v2.pad;
		r.states = v2.idiag_states;
		r.id = v2.id;
		return do_inet(q, nlh, &r, sizeof(v2), vi, walk, wctx);
	case AF_UNIX: /* unix_diag: struct unix_diag_req, 24 bytes */
		if (plen < 24)
			return -EINVAL;
		if (nlh->nlmsg_type == SOCK_DESTROY)
			return -EOPNOTSUPP;
		if (!is_dump(nlh))
			return -ENOENT;
		nl_send_done(q, 0);
		return -EINTR;
	case AF_PACKET:	 /* struct packet_diag_req, 16 bytes */
	case AF_NETLINK: /* struct netlink_diag_req, 24 bytes */
		if (plen < (data[0] == AF_PACKET ? 16u : 24u))
			return -EINVAL;
		if (nlh->nlmsg_type == SOCK_DESTROY || !is_dump(nlh))
			return -EOPNOTSUPP;
		nl_send_done(q, 0);
		return -EINTR;
	default:
		return -ENOENT; /* no handler for the family */
	}
}

/* TCPDIAG_GETSOCK, DCCPDIAG_GETSOCK: inet_diag_rcv_msg_compat */
static int do_compat(struct nlbuf *q, const struct nlmsghdr *nlh,
		     struct vimage *vi, procnet_walk_fn walk, void *wctx)
{
	struct inet_diag_req rc;
	struct dreq r;

	if (nlh->nlmsg_len - NLMSG_HDRLEN < sizeof(rc))
		return -EINVAL;
	memcpy(&rc, NLMSG_DATA(nlh), sizeof(rc));
	memset(&r, 0, sizeof(r));
	r.type = nlh->nlmsg_type;
	r.family = is_dump(nlh) ? AF_UNSPEC : rc.idiag_family;
	r.protocol = nlh->nlmsg_type == TCPDIAG_GETSOCK ? IPPROTO_TCP
							: IPPROTO_DCCP;
	r.ext = rc.idiag_ext;
	r.states = rc.idiag_states;
	r.id = rc.id;
	return do_inet(q, nlh, &r, sizeof(rc), vi, walk, wctx);
}

static int handle_one(struct nlbuf *q, const struct nlmsghdr *nlh,
		      struct vimage *vi, procnet_walk_fn walk, void *wctx)
{
	switch (nlh->nlmsg_type) {
	case TCPDIAG_GETSOCK:
	case DCCPDIAG_GETSOCK:
		return do_compat(q, nlh, vi, walk, wctx);
	case SOCK_DIAG_BY_FAMILY:
	case SOCK_DESTROY:
		return do_by_family(q, nlh, vi, walk, wctx);
	default:
		return -EINVAL; /* sock_diag_rcv_msg */
	}
}

struct walk_ctx {
	procnet_walk_fn walk;
	void *wctx;
};

/* A reply cut short by a failed allocation is -ENOMEM, dump or not. */
static int handle(struct nlbuf *q, const struct nlmsghdr *nlh, void *ctx)
{
	const struct walk_ctx *w = ctx;
	int err = handle_one(q, nlh, q->vi, w->walk, w->wctx);

	return q->nomem ? -ENOMEM : err;
}

int sockdiag_request(struct vimage *vi, uint32_t portid, const void *dgram,
		     size_t len, procnet_walk_fn walk, void *wctx,
		     const struct rtnl_out *out)
{
	struct nlbuf q = {.vi = vi, .portid = portid, .out = out};
	struct walk_ctx w = {.walk = walk, .wctx = wctx};

	return nl_rcv(&q, dgram, len, handle, &w);
}
