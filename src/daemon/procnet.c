/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * /proc/net emulation (see procnet.h): the vimage's interfaces, routes,
 * neighbours, sockets and counters in the text Linux's /proc/net files
 * hold, column for column.
 *
 * Every format string is the kernel's (net/core/net-procfs.c,
 * net/ipv4/fib_trie.c, arp.c, tcp_ipv4.c, udp.c, raw.c, ping.c, proc.c).
 * Where Linux pads a line with seq_setwidth/seq_pad, so do we. Addresses
 * are printed as Linux prints a __be32 with %08X: the network-order bytes
 * read as a host integer (0100000A for 10.0.0.1 on x86); ports in host
 * order. Kernel pointers print as %pK does for an unprivileged reader
 * (zeros), and values we do not keep (timers, refcounts) as Linux shows
 * them on an idle socket.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/sockios.h>
#include <net/route.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include <vimage/net.h>
#include <vimage/socket.h>

#include "daemon/procnet.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Linux's sk_state numbers (include/net/tcp_states.h). */
#define LX_TCP_ESTABLISHED 1
#define LX_TCP_CLOSE 7
#define LX_TCP_CLOSE_WAIT 8
#define LX_TCP_LISTEN 10

#define LX_TCP_INFINITE_SSTHRESH 0x7fffffffu
#define USER_HZ 100 /* clock_t ticks, as jiffies_to_clock_t reports */

/* ---- text buffer ------------------------------------------------------------- */
struct pbuf {
	char *b;
	size_t len, cap;
	size_t line; /* offset where the current line began */
	bool nomem;
};

static bool pb_reserve(struct pbuf *p, size_t more)
{
	size_t cap;
	char *nb;

	if (p->nomem)
		return false;
	if (p->len + more + 1 <= p->cap)
		return true;
	cap = p->cap ? p->cap : 4096;
	while (cap < p->len + more + 1)
		cap *= 2;
	nb = realloc(p->b, cap);
	if (!nb) {
		p->nomem = true;
		return false;
	}
	p->b = nb;
	p->cap = cap;
	return true;
}

static void pb_printf(struct pbuf *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void pb_printf(struct pbuf *p, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !pb_reserve(p, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(p->b + p->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	p->len += (size_t)n;
}

static void pb_puts(struct pbuf *p, const char *s)
{
	size_t n = strlen(s);

	if (!pb_reserve(p, n))
		return;
	memcpy(p->b + p->len, s, n + 1);
	p->len += n;
}

/* seq_setwidth(width) at the line's start, then seq_pad('\n'): spaces up
 * to width characters, then the newline. */
static void pb_pad(struct pbuf *p, size_t width)
{
	size_t used = p->len - p->line;

	if (used < width && pb_reserve(p, width - used)) {
		memset(p->b + p->len, ' ', width - used);
		p->len += width - used;
	}
	pb_puts(p, "\n");
	p->line = p->len;
}

static void pb_newline(struct pbuf *p)
{
	pb_puts(p, "\n");
	p->line = p->len;
}

/* A host-order IPv4 address as Linux's %08X of the __be32. */
static uint32_t lx_addr(uint32_t host)
{
	return htonl(host);
}

/* ---- dev ------------------------------------------------------------------------- */
static void render_dev(struct vimage *vi, struct pbuf *p)
{
	struct ifnet *ifp;

	pb_puts(p, "Inter-|   Receive                            "
		   "                    |  Transmit\n"
		   " face |bytes    packets errs drop fifo frame "
		   "compressed multicast|bytes    packets errs "
		   "drop fifo colls carrier compressed\n");
	for (ifp = vif_first(vi); ifp; ifp = vif_next(ifp)) {
		struct vif_stats st;

		vif_get_stats(ifp, &st);
		pb_printf(p,
			  "%6s: %7llu %7llu %4llu %4llu %4llu %5llu %10llu "
			  "%9llu %8llu %7llu %4llu %4llu %4llu %5llu %7llu "
			  "%10llu\n",
			  vif_name(ifp), (unsigned long long)st.ibytes,
			  (unsigned long long)st.ipackets,
			  (unsigned long long)st.ierrors,
			  (unsigned long long)st.idrops, 0ull, 0ull, 0ull,
			  (unsigned long long)st.imcasts,
			  (unsigned long long)st.obytes,
			  (unsigned long long)st.opackets,
			  (unsigned long long)st.oerrors,
			  (unsigned long long)st.odrops, 0ull, 0ull, 0ull, 0ull);
	}
	p->line = p->len;
}

/* ---- route ----------------------------------------------------------------------- */
struct rt_list {
	struct vroute *r;
	size_t n, cap;
	bool nomem;
};

static int rt_collect(void *ctx, const struct vroute *r)
{
	struct rt_list *l = ctx;

	if (r->dst.family != AF_INET)
		return 0;
	if (r->type == VRT_BROADCAST || r->type == VRT_LOCAL)
		return 0; /* fib_route_seq_show skips broadcast (and local
			   * routes live in the local table) */
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		struct vroute *nr = realloc(l->r, cap * sizeof(*nr));

		if (!nr) {
			l->nomem = true;
			return 1;
		}
		l->r = nr;
		l->cap = cap;
	}
	l->r[l->n++] = *r;
	return 0;
}

/* The trie's order: by prefix, the longer prefix of one key first, then
 * by priority (metric). */
static int rt_cmp(const void *a, const void *b)
{
	const struct vroute *x = a, *y = b;

	if (x->dst.v4 != y->dst.v4)
		return x->dst.v4 < y->dst.v4 ? -1 : 1;
	if (x->plen != y->plen)
		return x->plen > y->plen ? -1 : 1;
	if (x->metric != y->metric)
		return x->metric < y->metric ? -1 : 1;
	return 0;
}

static uint32_t plen_mask(unsigned plen)
{
	return plen == 0 ? 0 : plen >= 32 ? 0xffffffffu : ~0u << (32 - plen);
}

static void render_route(struct vimage *vi, struct pbuf *p)
{
	struct rt_list l = {0};

	pb_printf(p, "%-127s\n",
		  "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric"
		  "\tMask\t\tMTU\tWindow\tIRTT");
	p->line = p->len;
	vroute_walk(vi, AF_INET, false, rt_collect, &l);
	if (l.nomem) {
		free(l.r);
		p->nomem = true;
		return;
	}
	if (l.n)
		qsort(l.r, l.n, sizeof(*l.r), rt_cmp);
	for (size_t i = 0; i < l.n; i++) {
		const struct vroute *r = &l.r[i];
		uint32_t mask = plen_mask(r->plen);
		uint32_t gw = r->gw.family == AF_INET ? r->gw.v4 : 0;
		unsigned flags = RTF_UP; /* fib_flag_trans */

		if (r->type == VRT_UNREACHABLE || r->type == VRT_PROHIBIT)
			flags |= RTF_REJECT;
		if (gw)
			flags |= RTF_GATEWAY;
		if (mask == 0xffffffffu)
			flags |= RTF_HOST;
		pb_printf(p, "%s\t%08X\t%08X\t%04X\t%d\t%u\t%d\t%08X\t%d\t%u\t%u",
			  r->ifp ? vif_name(r->ifp) : "*",
			  lx_addr(r->dst.v4 & mask), lx_addr(gw), flags, 0, 0u,
			  (int)r->metric, lx_addr(mask), 0, 0u, 0u);
		pb_pad(p, 127);
	}
	free(l.r);
}

/* ---- arp ------------------------------------------------------------------------- */
static int arp_line(void *ctx, const struct vneigh_info *n)
{
	struct pbuf *p = ctx;
	char ip[INET_ADDRSTRLEN], hw[18];
	struct in_addr a;
	unsigned flags;
	uint8_t mac[6] = {0};

	if (n->addr.family != AF_INET || !n->ifp)
		return 0;
	switch (n->state) { /* arp_state_to_flags */
	case VNEIGH_PERMANENT:
		flags = 0x6; /* ATF_PERM | ATF_COM */
		memcpy(mac, n->mac, 6);
		break;
	case VNEIGH_REACHABLE:
	case VNEIGH_STALE:
		flags = 0x2; /* ATF_COM */
		memcpy(mac, n->mac, 6);
		break;
	case VNEIGH_FAILED:
		flags = 0;
		memcpy(mac, n->mac, 6);
		break;
	default:
		flags = 0; /* incomplete: no address yet */
		break;
	}
	a.s_addr = htonl(n->addr.v4);
	inet_ntop(AF_INET, &a, ip, sizeof(ip));
	snprintf(hw, sizeof(hw), "%02x:%02x:%02x:%02x:%02x:%02x", mac[0],
		 mac[1], mac[2], mac[3], mac[4], mac[5]);
	pb_printf(p, "%-16s 0x%-10x0x%-10x%-17s     *        %s\n", ip,
		  vif_type(n->ifp) == VIF_LOOPBACK ? 772u : 1u, flags, hw,
		  vif_name(n->ifp));
	return 0;
}

static void render_arp(struct vimage *vi, struct pbuf *p)
{
	pb_puts(p, "IP address       HW type     Flags       "
		   "HW address            Mask     Device\n");
	vneigh_walk(vi, arp_line, p);
	p->line = p->len;
}

/* ---- sockets --------------------------------------------------------------------- */
enum sk_kind { SK_OTHER, SK_TCP, SK_UDP, SK_RAW, SK_ICMP };

/* One socket, read once. */
struct sk {
	struct procnet_sock ps;
	enum sk_kind kind;
	int protocol;
	uint8_t state;
	struct sockaddr_in local, remote;
	uint32_t txq, rxq;
	struct tcp_info ti;
	bool have_ti;
};

struct sk_list {
	struct sk *s;
	size_t n;
};

static int get_int(struct vsocket *so, int name, int *v)
{
	socklen_t len = sizeof(*v);

	return vsock_getsockopt(so, SOL_SOCKET, name, v, &len);
}

/* Fill in what Linux's show functions print; false when Linux would not
 * list the socket (not hashed). */
static bool sk_read(struct sk *k)
{
	struct vsocket *so = k->ps.so;
	struct vsock_tcp_view tv;
	socklen_t len;
	int type = 0, v;

	k->local.sin_family = k->remote.sin_family = AF_INET;
	if (get_int(so, SO_TYPE, &type) || get_int(so, SO_PROTOCOL,
						   &k->protocol))
		return false;
	if (type == SOCK_STREAM) {
		if (vsock_tcp_view(so, &tv))
			return false;
		/* Closed sockets are in no lookup table: never listed. */
		if (tv.state == LX_TCP_CLOSE)
			return false;
		k->kind = SK_TCP;
		k->state = tv.state;
		k->local = tv.local;
		k->remote = tv.remote;
		k->rxq = tv.rx_queue;
		k->txq = tv.tx_queue;
		len = sizeof(k->ti);
		k->have_ti = vsock_getsockopt(so, IPPROTO_TCP, TCP_INFO,
					      &k->ti, &len) == 0 &&
			     len >= offsetof(struct tcp_info, tcpi_rcv_rtt);
		return true;
	}
	if (type == SOCK_DGRAM && k->protocol == IPPROTO_UDP)
		k->kind = SK_UDP;
	else if (type == SOCK_DGRAM && k->protocol == IPPROTO_ICMP)
		k->kind = SK_ICMP;
	else if (type == SOCK_RAW)
		k->kind = SK_RAW;
	else
		return false;
	len = sizeof(k->local);
	if (vsock_getsockname(so, (struct sockaddr *)&k->local, &len))
		return false;
	len = sizeof(k->remote);
	if (vsock_getpeername(so, (struct sockaddr *)&k->remote, &len) == 0)
		k->state = LX_TCP_ESTABLISHED;
	else {
		memset(&k->remote, 0, sizeof(k->remote));
		k->state = LX_TCP_CLOSE;
	}
	if (k->kind == SK_RAW) {
		/* Raw sockets are hashed by protocol from socket() on; the
		 * "port" columns are the protocol and 0. */
		k->local.sin_port = htons((uint16_t)k->protocol);
		k->remote.sin_port = 0;
	} else if (k->local.sin_port == 0) {
		return false; /* UDP and ping: hashed once a port is bound */
	}
	if (vsock_ioctl(so, SIOCINQ, &v) == 0 && v > 0)
		k->rxq = (uint32_t)v;
	if (vsock_ioctl(so, SIOCOUTQ, &v) == 0 && v > 0)
		k->txq = (uint32_t)v;
	return true;
}

/* ---- the caller's sockets, gathered --------------------------------------- */
struct gather {
	struct vimage *vi;
	size_t elem, n, cap;
	uint8_t *recs;
	bool (*read)(void *rec, const struct procnet_sock *s);
	bool nomem;
};

static int gather_one(void *ctx, const struct procnet_sock *s)
{
	struct gather *g = ctx;
	uint8_t *rec;

	if (!s || !s->so || vsock_vimage(s->so) != g->vi)
		return 0;
	if (g->n == g->cap) {
		size_t cap = g->cap ? g->cap * 2 : 16;
		uint8_t *nr = realloc(g->recs, cap * g->elem);

		if (!nr) {
			g->nomem = true;
			return 1;
		}
		g->recs = nr;
		g->cap = cap;
	}
	rec = g->recs + g->n * g->elem;
	memset(rec, 0, g->elem);
	if (g->read(rec, s))
		g->n++;
	return 0;
}

int procnet_gather(struct vimage *vi, procnet_walk_fn walk, void *wctx,
		   size_t elem, bool (*read)(void *rec,
					     const struct procnet_sock *s),
		   void **out, size_t *n)
{
	struct gather g = {.vi = vi, .elem = elem, .read = read};

	if (walk)
		walk(wctx, vi, gather_one, &g);
	if (g.nomem) {
		free(g.recs);
		*out = NULL;
		*n = 0;
		return -ENOMEM;
	}
	*out = g.recs;
	*n = g.n;
	return 0;
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

/* get_tcp4_sock */
static void tcp_line(struct pbuf *p, int i, const struct sk *k)
{
	const struct tcp_info *ti = &k->ti;
	bool listen = k->state == LX_TCP_LISTEN;
	unsigned long rto = 0, ato = 0;
	unsigned cwnd = 0, retrans = 0;
	int probes = 0, ssthresh = 0;

	if (k->have_ti) {
		rto = ti->tcpi_rto / (1000000 / USER_HZ);
		ato = listen ? 0 : ti->tcpi_ato / (1000000 / USER_HZ);
		cwnd = ti->tcpi_snd_cwnd;
		if (listen && cwnd == 0)
			cwnd = 10; /* TCP_INIT_CWND, set by tcp_init_sock */
		retrans = ti->tcpi_retransmits;
		probes = ti->tcpi_probes;
		if (!listen) {
			uint64_t bytes = (uint64_t)ti->tcpi_snd_ssthresh *
					 (ti->tcpi_snd_mss ? ti->tcpi_snd_mss
							   : 1);

			ssthresh = bytes >= LX_TCP_INFINITE_SSTHRESH ||
					   ti->tcpi_snd_ssthresh >=
						   LX_TCP_INFINITE_SSTHRESH
				       ? -1
				       : (int)ti->tcpi_snd_ssthresh;
		}
	}
	pb_printf(p,
		  "%4d: %08X:%04X %08X:%04X %02X %08X:%08X %02X:%08lX "
		  "%08X %5u %8d %llu %d %016x %lu %lu %u %u %d",
		  i, (unsigned)k->local.sin_addr.s_addr, ntohs(k->local.sin_port),
		  (unsigned)k->remote.sin_addr.s_addr, ntohs(k->remote.sin_port),
		  k->state, k->txq, k->rxq, 0, 0ul, retrans,
		  (unsigned)k->ps.uid, probes, (unsigned long long)k->ps.inode,
		  listen ? 2 : 1, 0u, rto, ato, 0u, cwnd, ssthresh);
	pb_pad(p, 149);
}

/* udp4_format_sock, ping_v4_format_sock and __raw_sock_seq_show share one
 * layout; only the width of sl and the padding differ. */
static void dgram_line(struct pbuf *p, int i, const struct sk *k, bool raw)
{
	pb_printf(p,
		  raw ? "%4d: %08X:%04X %08X:%04X %02X %08X:%08X %02X:%08lX "
			"%08X %5u %8d %llu %d %016x %u"
		      : "%5d: %08X:%04X %08X:%04X %02X %08X:%08X %02X:%08lX "
			"%08X %5u %8d %llu %d %016x %u",
		  i, (unsigned)k->local.sin_addr.s_addr, ntohs(k->local.sin_port),
		  (unsigned)k->remote.sin_addr.s_addr, ntohs(k->remote.sin_port),
		  k->state, k->txq, k->rxq, 0, 0ul, 0u, (unsigned)k->ps.uid, 0,
		  (unsigned long long)k->ps.inode, 2, 0u, 0u);
	if (raw)
		pb_newline(p);
	else
		pb_pad(p, 127);
}

static const char hdr_inet[] =
	"  sl  local_address rem_address   st tx_queue rx_queue tr tm->when "
	"retrnsmt   uid  timeout inode";
static const char hdr_inet_dgram[] =
	"  sl  local_address rem_address   st tx_queue rx_queue tr tm->when "
	"retrnsmt   uid  timeout inode ref pointer drops";

static int render_socks(struct vimage *vi, enum sk_kind kind,
			procnet_walk_fn walk, void *wctx, struct pbuf *p)
{
	struct sk_list l;
	int sl = 0;

	switch (kind) {
	case SK_TCP:
		pb_puts(p, hdr_inet);
		pb_pad(p, 149);
		break;
	case SK_UDP:
		pb_printf(p, " %s", hdr_inet_dgram);
		pb_pad(p, 127);
		break;
	case SK_ICMP:
		pb_puts(p, hdr_inet_dgram);
		pb_pad(p, 127);
		break;
	default:
		pb_puts(p, hdr_inet_dgram);
		pb_newline(p);
		break;
	}
	if (sk_gather(vi, walk, wctx, &l))
		return -ENOMEM;
	/* TCP lists the listening hash before the established one. */
	for (int pass = 0; pass < (kind == SK_TCP ? 2 : 1); pass++) {
		for (size_t i = 0; i < l.n; i++) {
			const struct sk *k = &l.s[i];

			if (k->kind != kind)
				continue;
			if (kind == SK_TCP) {
				if ((k->state == LX_TCP_LISTEN) != (pass == 0))
					continue;
				tcp_line(p, sl++, k);
			} else {
				dgram_line(p, sl++, k, kind == SK_RAW);
			}
		}
	}
	free(l.s);
	return 0;
}

/* ---- snmp, netstat ---------------------------------------------------------------- */
static uint64_t st(struct vimage *vi, const char *name)
{
	uint64_t v = 0;

	if (vimage_stat_get(vi, name, &v))
		return 0;
	return v;
}

/* One "Group: names" line and one "Group: values" line. */
static void snmp_group(struct pbuf *p, const char *group,
		       const char *const *names, const int64_t *vals, size_t n)
{
	pb_printf(p, "%s:", group);
	for (size_t i = 0; i < n; i++)
		pb_printf(p, " %s", names[i]);
	pb_printf(p, "\n%s:", group);
	for (size_t i = 0; i < n; i++)
		pb_printf(p, " %lld", (long long)vals[i]);
	pb_newline(p);
}

static int count_estab(struct vimage *vi, procnet_walk_fn walk, void *wctx,
		       int64_t *n)
{
	struct sk_list l;

	*n = 0;
	if (sk_gather(vi, walk, wctx, &l))
		return -ENOMEM;
	for (size_t i = 0; i < l.n; i++)
		if (l.s[i].kind == SK_TCP &&
		    (l.s[i].state == LX_TCP_ESTABLISHED ||
		     l.s[i].state == LX_TCP_CLOSE_WAIT))
			(*n)++;
	free(l.s);
	return 0;
}

static int render_snmp(struct vimage *vi, procnet_walk_fn walk, void *wctx,
		       struct pbuf *p)
{
	static const char *const ip_n[] = {
		"Forwarding", "DefaultTTL", "InReceives", "InHdrErrors",
		"InAddrErrors", "ForwDatagrams", "InUnknownProtos",
		"InDiscards", "InDelivers", "OutRequests", "OutDiscards",
		"OutNoRoutes", "ReasmTimeout", "ReasmReqds", "ReasmOKs",
		"ReasmFails", "FragOKs", "FragFails", "FragCreates",
		"OutTransmits"};
	static const char *const icmp_n[] = {
		"InMsgs", "InErrors", "InCsumErrors", "InDestUnreachs",
		"InTimeExcds", "InParmProbs", "InSrcQuenchs", "InRedirects",
		"InEchos", "InEchoReps", "InTimestamps", "InTimestampReps",
		"InAddrMasks", "InAddrMaskReps", "OutMsgs", "OutErrors",
		"OutRateLimitGlobal", "OutRateLimitHost", "OutDestUnreachs",
		"OutTimeExcds", "OutParmProbs", "OutSrcQuenchs",
		"OutRedirects", "OutEchos", "OutEchoReps", "OutTimestamps",
		"OutTimestampReps", "OutAddrMasks", "OutAddrMaskReps"};
	static const char *const tcp_n[] = {
		"RtoAlgorithm", "RtoMin", "RtoMax", "MaxConn", "ActiveOpens",
		"PassiveOpens", "AttemptFails", "EstabResets", "CurrEstab",
		"InSegs", "OutSegs", "RetransSegs", "InErrs", "OutRsts",
		"InCsumErrors"};
	static const char *const udp_n[] = {
		"InDatagrams", "NoPorts", "InErrors", "OutDatagrams",
		"RcvbufErrors", "SndbufErrors", "InCsumErrors",
		"IgnoredMulti", "MemErrors"};
	int64_t ip[ARRAY_LEN(ip_n)] = {0}, icmp[ARRAY_LEN(icmp_n)] = {0};
	int64_t tcp[ARRAY_LEN(tcp_n)] = {0}, udp[ARRAY_LEN(udp_n)] = {0};
	int64_t v = 0, estab;
	/* IcmpMsg: the per-type counters we keep, as InTypeN/OutTypeN. */
	struct {
		const char *name;
		uint64_t val;
	} msg[] = {
		{"InType0", st(vi, "icmp.in_echo_replies")},
		{"InType3", st(vi, "icmp.in_unreach")},
		{"InType8", st(vi, "icmp.in_echos")},
		{"InType11", st(vi, "icmp.in_timxceed")},
		{"OutType0", st(vi, "icmp.out_echo_replies")},
		{"OutType3", st(vi, "icmp.out_unreach")},
		{"OutType8", st(vi, "raw.ping_out")},
		{"OutType11", st(vi, "icmp.out_timxceed")},
	};
	size_t nmsg = 0;

	if (count_estab(vi, walk, wctx, &estab))
		return -ENOMEM;

	vimage_sysctl_get(vi, "net.inet.ip.forwarding", &v);
	ip[0] = v ? 1 : 2;
	v = 64;
	vimage_sysctl_get(vi, "net.inet.ip.ttl", &v);
	ip[1] = v;
	ip[2] = st(vi, "ip.total");
	ip[3] = st(vi, "ip.badsum") + st(vi, "ip.tooshort") +
		st(vi, "ip.toosmall") + st(vi, "ip.badhlen") +
		st(vi, "ip.badlen") + st(vi, "ip.badvers") +
		st(vi, "ip.badoptions") + st(vi, "ip.ttl_exceeded");
	ip[4] = st(vi, "ip.martians") + st(vi, "ip.cantforward");
	ip[5] = st(vi, "ip.forward");
	ip[6] = st(vi, "ip.noproto");
	ip[8] = st(vi, "ip.delivered");
	ip[9] = st(vi, "ip.localout");
	ip[10] = st(vi, "ip.odropped");
	ip[11] = st(vi, "ip.noroute");
	ip[12] = st(vi, "ip.fragtimeout");
	ip[13] = st(vi, "ip.fragments");
	ip[14] = st(vi, "ip.reassembled");
	ip[15] = st(vi, "ip.fragdropped") + st(vi, "ip.fragtimeout");
	ip[16] = st(vi, "ip.fragmented");
	ip[17] = st(vi, "ip.cantfrag");
	ip[18] = st(vi, "ip.ofragments");
	ip[19] = st(vi, "ip.localout") + st(vi, "ip.forward");

	icmp[0] = st(vi, "icmp.in_msgs");
	icmp[1] = st(vi, "icmp.in_errors");
	icmp[2] = st(vi, "icmp.badsum");
	icmp[3] = st(vi, "icmp.in_unreach");
	icmp[4] = st(vi, "icmp.in_timxceed");
	icmp[8] = st(vi, "icmp.in_echos");
	icmp[9] = st(vi, "icmp.in_echo_replies");
	icmp[14] = st(vi, "icmp.out_msgs") + st(vi, "raw.ping_out");
	icmp[16] = st(vi, "icmp.ratelimited");
	icmp[18] = st(vi, "icmp.out_unreach");
	icmp[19] = st(vi, "icmp.out_timxceed");
	icmp[23] = st(vi, "raw.ping_out");
	icmp[24] = st(vi, "icmp.out_echo_replies");

	tcp[0] = 1;
	tcp[1] = 200;
	tcp[2] = 120000;
	tcp[3] = -1;
	tcp[4] = st(vi, "tcp.active_opens");
	tcp[5] = st(vi, "tcp.passive_opens");
	tcp[6] = st(vi, "tcp.attempt_fails");
	tcp[7] = st(vi, "tcp.estab_resets");
	tcp[8] = estab;
	tcp[9] = st(vi, "tcp.in_segs");
	tcp[10] = st(vi, "tcp.out_segs");
	tcp[11] = st(vi, "tcp.retrans_segs");
	tcp[12] = st(vi, "tcp.in_errs");
	tcp[13] = st(vi, "tcp.out_rsts");
	tcp[14] = st(vi, "tcp.badsum");

	udp[0] = st(vi, "udp.in_datagrams");
	udp[1] = st(vi, "udp.no_ports");
	udp[2] = st(vi, "udp.in_errors");
	udp[3] = st(vi, "udp.out_datagrams");
	udp[4] = st(vi, "udp.rcvbuf_errors");
	udp[6] = st(vi, "udp.badsum");

	snmp_group(p, "Ip", ip_n, ip, ARRAY_LEN(ip_n));
	snmp_group(p, "Icmp", icmp_n, icmp, ARRAY_LEN(icmp_n));
	/* icmpmsg_put: only the types seen, and no lines when none. */
	for (size_t i = 0; i < ARRAY_LEN(msg); i++)
		if (msg[i].val)
			msg[nmsg++] = msg[i];
	if (nmsg) {
		pb_puts(p, "IcmpMsg:");
		for (size_t i = 0; i < nmsg; i++)
			pb_printf(p, " %s", msg[i].name);
		pb_puts(p, "\nIcmpMsg:");
		for (size_t i = 0; i < nmsg; i++)
			pb_printf(p, " %llu", (unsigned long long)msg[i].val);
		pb_newline(p);
	}
	snmp_group(p, "Tcp", tcp_n, tcp, ARRAY_LEN(tcp_n));
	snmp_group(p, "Udp", udp_n, udp, ARRAY_LEN(udp_n));
	memset(udp, 0, sizeof(udp));
	snmp_group(p, "UdpLite", udp_n, udp, ARRAY_LEN(udp_n));
	return 0;
}

/* netstat_seq_show: TcpExt and IpExt (no MPTcpExt: no MPTCP here, as a
 * kernel built without it). The names are Linux 6.x's snmp4_net_list. */
static const char *const tcpext_n[] = {
	"SyncookiesSent", "SyncookiesRecv", "SyncookiesFailed",
	"EmbryonicRsts", "PruneCalled", "RcvPruned", "OfoPruned",
	"OutOfWindowIcmps", "LockDroppedIcmps", "ArpFilter", "TW",
	"TWRecycled", "TWKilled", "PAWSActive", "PAWSEstab", "BeyondWindow",
	"TSEcrRejected", "PAWSOldAck", "PAWSTimewait", "DelayedACKs",
	"DelayedACKLocked", "DelayedACKLost", "ListenOverflows",
	"ListenDrops", "TCPHPHits", "TCPPureAcks", "TCPHPAcks",
	"TCPRenoRecovery", "TCPSackRecovery", "TCPSACKReneging",
	"TCPSACKReorder", "TCPRenoReorder", "TCPTSReorder", "TCPFullUndo",
	"TCPPartialUndo", "TCPDSACKUndo", "TCPLossUndo", "TCPLostRetransmit",
	"TCPRenoFailures", "TCPSackFailures", "TCPLossFailures",
	"TCPFastRetrans", "TCPSlowStartRetrans", "TCPTimeouts",
	"TCPLossProbes", "TCPLossProbeRecovery", "TCPRenoRecoveryFail",
	"TCPSackRecoveryFail", "TCPRcvCollapsed", "TCPBacklogCoalesce",
	"TCPDSACKOldSent", "TCPDSACKOfoSent", "TCPDSACKRecv",
	"TCPDSACKOfoRecv", "TCPAbortOnData", "TCPAbortOnClose",
	"TCPAbortOnMemory", "TCPAbortOnTimeout", "TCPAbortOnLinger",
	"TCPAbortFailed", "TCPMemoryPressures", "TCPMemoryPressuresChrono",
	"TCPSACKDiscard", "TCPDSACKIgnoredOld", "TCPDSACKIgnoredNoUndo",
	"TCPSpuriousRTOs", "TCPMD5NotFound", "TCPMD5Unexpected",
	"TCPMD5Failure", "TCPSackShifted", "TCPSackMerged",
	"TCPSackShiftFallback", "TCPBacklogDrop", "PFMemallocDrop",
	"TCPMinTTLDrop", "TCPDeferAcceptDrop", "IPReversePathFilter",
	"TCPTimeWaitOverflow", "TCPReqQFullDoCookies", "TCPReqQFullDrop",
	"TCPRetransFail", "TCPRcvCoalesce", "TCPOFOQueue", "TCPOFODrop",
	"TCPOFOMerge", "TCPChallengeACK", "TCPSYNChallenge",
	"TCPFastOpenActive", "TCPFastOpenActiveFail", "TCPFastOpenPassive",
	"TCPFastOpenPassiveFail", "TCPFastOpenListenOverflow",
	"TCPFastOpenCookieReqd", "TCPFastOpenBlackhole",
	"TCPSpuriousRtxHostQueues", "BusyPollRxPackets", "TCPAutoCorking",
	"TCPFromZeroWindowAdv", "TCPToZeroWindowAdv", "TCPWantZeroWindowAdv",
	"TCPSynRetrans", "TCPOrigDataSent", "TCPHystartTrainDetect",
	"TCPHystartTrainCwnd", "TCPHystartDelayDetect", "TCPHystartDelayCwnd",
	"TCPACKSkippedSynRecv", "TCPACKSkippedPAWS", "TCPACKSkippedSeq",
	"TCPACKSkippedFinWait2", "TCPACKSkippedTimeWait",
	"TCPACKSkippedChallenge", "TCPWinProbe", "TCPKeepAlive",
	"TCPMTUPFail", "TCPMTUPSuccess", "TCPDelivered", "TCPDeliveredCE",
	"TCPAckCompressed", "TCPZeroWindowDrop", "TCPRcvQDrop",
	"TCPWqueueTooBig", "TCPFastOpenPassiveAltKey", "TcpTimeoutRehash",
	"TcpDuplicateDataRehash", "TCPDSACKRecvSegs",
	"TCPDSACKIgnoredDubious", "TCPMigrateReqSuccess",
	"TCPMigrateReqFailure", "TCPPLBRehash", "TCPAORequired", "TCPAOBad",
	"TCPAOKeyNotFound", "TCPAOGood", "TCPAODroppedIcmps"};

static const char *const ipext_n[] = {
	"InNoRoutes", "InTruncatedPkts", "InMcastPkts", "OutMcastPkts",
	"InBcastPkts", "OutBcastPkts", "InOctets", "OutOctets",
	"InMcastOctets", "OutMcastOctets", "InBcastOctets", "OutBcastOctets",
	"InCsumErrors", "InNoECTPkts", "InECT1Pkts", "InECT0Pkts",
	"InCEPkts", "ReasmOverlaps"};

static size_t name_index(const char *const *names, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(names[i], s) == 0)
			return i;
	return n;
}

static void render_netstat(struct vimage *vi, struct pbuf *p)
{
	/* The TcpExt counters we keep. */
	static const struct {
		const char *lx, *ours;
	} map[] = {
		{"PruneCalled", "tcp.rcvbuf_prunes"},
		{"DelayedACKs", "tcp.delayed_acks"},
		{"ListenOverflows", "tcp.listen_overflows"},
		{"ListenDrops", "tcp.listen_drops"},
		{"TCPHPHits", "tcp.predicted_data"},
		{"TCPPureAcks", "tcp.pure_acks"},
		{"TCPHPAcks", "tcp.predicted_acks"},
		{"TCPSackRecovery", "tcp.sack_recoveries"},
		{"TCPFastRetrans", "tcp.fast_retrans"},
		{"TCPTimeouts", "tcp.rto_fired"},
		{"TCPAbortOnTimeout", "tcp.keep_drops"},
		{"TCPOFOQueue", "tcp.ooo_segs"},
		{"TCPChallengeACK", "tcp.challenge_acks"},
		{"TCPWinProbe", "tcp.persist_probes"},
		{"TCPKeepAlive", "tcp.keep_probes"},
		{"TWRecycled", "tcp.timewait_reused"},
		{"TCPReqQFullDrop", "tcp.syn_dropped"},
	};
	int64_t tcpext[ARRAY_LEN(tcpext_n)] = {0};
	int64_t ipext[ARRAY_LEN(ipext_n)] = {0};
	struct ifnet *ifp;

	for (size_t i = 0; i < ARRAY_LEN(map); i++) {
		size_t at = name_index(tcpext_n, ARRAY_LEN(tcpext_n), map[i].lx);

		if (at < ARRAY_LEN(tcpext_n))
			tcpext[at] += (int64_t)st(vi, map[i].ours);
	}
	ipext[12] = st(vi, "ip.badsum");
	ipext[13] = st(vi, "ip.total");
	for (ifp = vif_first(vi); ifp; ifp = vif_next(ifp)) {
		struct vif_stats s;

		vif_get_stats(ifp, &s);
		ipext[2] += s.imcasts;
	}
	snmp_group(p, "TcpExt", tcpext_n, tcpext, ARRAY_LEN(tcpext_n));
	snmp_group(p, "IpExt", ipext_n, ipext, ARRAY_LEN(ipext_n));
}

/* sockstat_seq_show; memory is not accounted in pages here: 0. */
static int render_sockstat(struct vimage *vi, procnet_walk_fn walk,
			   void *wctx, struct pbuf *p)
{
	struct sk_list l;
	unsigned tcp = 0, udp = 0, raw = 0;

	if (sk_gather(vi, walk, wctx, &l))
		return -ENOMEM;
	for (size_t i = 0; i < l.n; i++) {
		switch (l.s[i].kind) {
		case SK_TCP:
			tcp++;
			break;
		case SK_UDP:
			udp++;
			break;
		case SK_RAW:
			raw++;
			break;
		default:
			break;
		}
	}
	free(l.s);
	pb_printf(p,
		  "sockets: used %u\n"
		  "TCP: inuse %u orphan 0 tw 0 alloc %u mem 0\n"
		  "UDP: inuse %u mem 0\n"
		  "UDPLITE: inuse 0\n"
		  "RAW: inuse %u\n"
		  "FRAG: inuse 0 memory 0\n",
		  vsock_count(vi), tcp, tcp, udp, raw);
	p->line = p->len;
	return 0;
}

/* ---- the files ------------------------------------------------------------------ */
enum pn_file {
	PN_DEV, PN_ROUTE, PN_ARP, PN_TCP, PN_UDP, PN_RAW, PN_ICMP, PN_SNMP,
	PN_NETSTAT, PN_SOCKSTAT, PN_IF_INET6, PN_TCP6, PN_UDP6, PN_RAW6,
	PN_ICMP6, PN_SOCKSTAT6, PN_DEV_MCAST, PN_IGMP, PN_IGMP6, PN_PSCHED,
};

static const struct {
	const char *name;
	enum pn_file f;
} pn_files[] = {
	{"dev", PN_DEV},	     {"route", PN_ROUTE},
	{"arp", PN_ARP},	     {"tcp", PN_TCP},
	{"udp", PN_UDP},	     {"raw", PN_RAW},
	{"icmp", PN_ICMP},	     {"snmp", PN_SNMP},
	{"netstat", PN_NETSTAT},     {"sockstat", PN_SOCKSTAT},
	{"if_inet6", PN_IF_INET6},   {"tcp6", PN_TCP6},
	{"udp6", PN_UDP6},	     {"raw6", PN_RAW6},
	{"icmp6", PN_ICMP6},	     {"sockstat6", PN_SOCKSTAT6},
	{"dev_mcast", PN_DEV_MCAST}, {"igmp", PN_IGMP},
	{"igmp6", PN_IGMP6},	     {"psched", PN_PSCHED},
};

static int pn_lookup(const char *name)
{
	for (size_t i = 0; i < ARRAY_LEN(pn_files); i++)
		if (strcmp(pn_files[i].name, name) == 0)
			return (int)pn_files[i].f;
	return -1;
}

static const char hdr_inet6[] =
	"  sl  local_address                         remote_address           "
	"             st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout "
	"inode";

int procnet_render(struct vimage *vi, const char *name, procnet_walk_fn walk,
		   void *wctx, char **out, size_t *len)
{
	struct pbuf p = {0};
	int f = name ? pn_lookup(name) : -1;
	int err = 0;

	*out = NULL;
	*len = 0;
	if (f < 0)
		return -ENOENT;
	if (pb_reserve(&p, 0)) /* an empty file is still a string */
		p.b[0] = 0;
	switch ((enum pn_file)f) {
	case PN_DEV:
		render_dev(vi, &p);
		break;
	case PN_ROUTE:
		render_route(vi, &p);
		break;
	case PN_ARP:
		render_arp(vi, &p);
		break;
	case PN_TCP:
		err = render_socks(vi, SK_TCP, walk, wctx, &p);
		break;
	case PN_UDP:
		err = render_socks(vi, SK_UDP, walk, wctx, &p);
		break;
	case PN_RAW:
		err = render_socks(vi, SK_RAW, walk, wctx, &p);
		break;
	case PN_ICMP:
		err = render_socks(vi, SK_ICMP, walk, wctx, &p);
		break;
	case PN_SNMP:
		err = render_snmp(vi, walk, wctx, &p);
		break;
	case PN_NETSTAT:
		render_netstat(vi, &p);
		break;
	case PN_SOCKSTAT:
		err = render_sockstat(vi, walk, wctx, &p);
		break;
	case PN_TCP6:
		pb_printf(&p, "%s\n", hdr_inet6);
		break;
	case PN_UDP6:
	case PN_RAW6:
	case PN_ICMP6:
		pb_printf(&p, "%s ref pointer drops\n", hdr_inet6);
		break;
	case PN_SOCKSTAT6:
		pb_puts(&p, "TCP6: inuse 0\nUDP6: inuse 0\nUDPLITE6: inuse 0\n"
			    "RAW6: inuse 0\nFRAG6: inuse 0 memory 0\n");
		break;
	case PN_IGMP:
		pb_puts(&p, "Idx\tDevice    : Count Querier\tGroup    Users "
			    "Timer\tReporter\n");
		break;
	case PN_PSCHED:
		/* psched_show: NSEC_PER_USEC, PSCHED_TICKS2NS(1) (a tick is
		 * 64 ns), 1000000, NSEC_PER_SEC / hrtimer_resolution (1 ns
		 * with high-resolution timers), as this machine's kernel.
		 * tc(8) converts times to ticks with these: tick_in_usec =
		 * 1000 / 64, so "delay 10ms" arrives as 156250 ticks, which
		 * rtnl's qdisc code turns back into ns the kernel's way. */
		pb_puts(&p, "000003e8 00000040 000f4240 3b9aca00\n");
		break;
	case PN_IF_INET6:
	case PN_DEV_MCAST:
	case PN_IGMP6:
		break; /* no header: empty */
	}
	if (err || p.nomem) {
		free(p.b);
		return err ? err : -ENOMEM;
	}
	*out = p.b;
	*len = p.len;
	return 0;
}

/* ---- paths ---------------------------------------------------------------------- */
bool procnet_path(const char *path, const char **name)
{
	const char *s, *base;

	if (!path || strncmp(path, "/proc/", 6) != 0)
		return false;
	s = path + 6;
	if (strncmp(s, "net/", 4) == 0) {
		s += 4;
	} else {
		const char *e = strchr(s, '/');
		size_t n;

		if (!e || strncmp(e, "/net/", 5) != 0)
			return false;
		n = (size_t)(e - s);
		if (!((n == 4 && strncmp(s, "self", 4) == 0) ||
		      (n == 11 && strncmp(s, "thread-self", 11) == 0))) {
			if (n == 0 || n > 10)
				return false;
			for (const char *c = s; c < e; c++)
				if (*c < '0' || *c > '9')
					return false;
		}
		s = e + 5;
	}
	base = s;
	if (pn_lookup(base) < 0)
		return false;
	if (name)
		*name = base;
	return true;
}
