/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Raw IPv4 sockets and ICMP echo ("ping") sockets.
 *
 * Raw sockets (SOCK_RAW, Linux raw(7)): each gets a copy of every incoming
 * datagram of its protocol, IP header included, filtered by a bound local
 * address, a connected peer, a bound device and, for ICMP, ICMP_FILTER.
 * Sending wraps the payload in an IP header of the socket's protocol, or
 * with IP_HDRINCL (implied by IPPROTO_RAW) takes the caller's header, in
 * which ip_output fills in the total length, checksum, and a zero id or
 * source (RFC 791 fields).
 *
 * Ping sockets (SOCK_DGRAM + IPPROTO_ICMP, Linux icmp(7)): unprivileged
 * echo. The socket's local port is its echo identifier (RFC 792); it
 * sends ICMP echo requests whose identifier and checksum it rewrites, and
 * receives the echo replies carrying its identifier, without IP header.
 *
 * Both kinds sit on plain lists: a host has a handful of them at most, and
 * raw_input returns at once when there is none.
 */
#include <stdlib.h>
#include <string.h>

#include "netinet/inet.h"
#include "socket/socket_var.h"

/* ---- raw sockets --------------------------------------------------------- */
static bool raw_match(const struct vsocket *so, const struct pkt *p,
		      const struct ipv4_repr *ip, uint32_t ifindex)
{
	uint8_t type;

	/* IPPROTO_RAW is send-only (raw(7)). */
	if (so->protocol != ip->proto || so->protocol == IPPROTO_RAW)
		return false;
	if (so->laddr.v4 && so->laddr.v4 != ip->dst)
		return false;
	if (so->connected && so->faddr.v4 != ip->src)
		return false;
	if (!so_dev_ok(so, ifindex))
		return false;
	if (ip->proto == IPPROTO_ICMP_ && so->icmp_filter) {
		/* A message too short to have a type is filtered; types past
		 * 31 are never (Linux's icmp_filter). */
		if (p->len <= ip->hlen)
			return false;
		type = p->data[ip->hlen];
		if (type < 32 && (so->icmp_filter & (1u << type)))
			return false;
	}
	return true;
}

static void raw_fill_cb(struct pkt *p, const struct ipv4_repr *ip,
			uint32_t ifindex)
{
	struct dgram_cb *cb = (struct dgram_cb *)p->cb.bytes;

	memset(cb, 0, sizeof(*cb));
	cb->from = vaddr_v4(ip->src);
	cb->port = 0; /* raw and ping sockets report port 0 */
	cb->ifindex = ifindex;
	cb->ttl = ip->ttl;
	cb->tos = ip->tos;
}

void raw_input(struct vimage *vi, const struct pkt *p,
	       const struct ipv4_repr *ip)
{
	struct raw_state *rs = vimage_raw(vi);
	uint32_t ifindex = p->ifp ? vif_index(p->ifp) : 0;
	struct list *l, *tmp;

	if (!rs->nraw)
		return;
	list_for_each_safe(l, tmp, &rs->socks)
	{
		struct vsocket *so = container_of(l, struct vsocket, plink);
		struct pkt *c;

		if (!raw_match(so, p, ip, ifindex))
			continue;
		/* A private copy: the packet goes on up the stack, and ICMP
		 * may turn its bytes into a reply in place. */
		c = pkt_copy(vi->world, p, 0);
		if (!c) {
			rs->st.rcvbuf_errors++;
			continue;
		}
		raw_fill_cb(c, ip, ifindex);
		if (!so_enqueue_dgram(so, c)) {
			rs->st.rcvbuf_errors++;
			pkt_free(vi->world, c);
			continue;
		}
		rs->st.delivered++;
	}
}

bool raw_has_proto(struct vimage *vi, uint8_t proto)
{
	struct raw_state *rs = vimage_raw(vi);
	struct list *l, *tmp;

	if (!rs->nraw || proto == IPPROTO_RAW)
		return false;
	list_for_each_safe(l, tmp, &rs->socks)
	{
		if (container_of(l, struct vsocket, plink)->protocol == proto)
			return true;
	}
	return false;
}

static int raw_attach(struct vsocket *so)
{
	struct raw_state *rs = vimage_raw(so->vi);

	list_insert_tail(&rs->socks, &so->plink);
	rs->nraw++;
	/* Linux shows the protocol as the local "port" of a raw socket. */
	so->lport = (uint16_t)so->protocol;
	so->hdrincl = so->protocol == IPPROTO_RAW;
	return 0;
}

static void raw_detach(struct vsocket *so)
{
	list_remove(&so->plink);
	vimage_raw(so->vi)->nraw--;
}

static int raw_bind(struct vsocket *so, const struct vaddr *a, uint16_t port)
{
	/* Linux's raw_bind: rebinding is allowed while unconnected, the
	 * port is ignored, and the address is not "locked" (a disconnect
	 * forgets it). */
	if (so->connected)
		return -EINVAL;
	so->laddr = *a;
	so->bound = a->v4 != 0;
	return 0;
}

/* Datagram connect shared by raw and ping sockets (ip4_datagram_connect). */
static int raw_dgram_connect(struct vsocket *so, const struct vaddr *a,
			     uint16_t port)
{
	struct ip_route rt;
	int err;

	err = so_route(so, a->v4, &rt);
	if (err)
		return err;
	if (!so->laddr.v4)
		so->laddr = vaddr_v4(rt.src);
	so->faddr = *a;
	so->fport = port;
	so->connected = true;
	return 0;
}

static int raw_disconnect(struct vsocket *so)
{
	so->connected = false;
	so->faddr = vaddr_v4(0);
	so->fport = 0;
	if (!so->addr_locked) {
		so->laddr = vaddr_v4(0);
		so->bound = false;
	}
	return 0;
}

/* Destination of a send: the given address, else the connected peer. */
static int raw_dest(const struct vsocket *so, const struct vaddr *dst,
		    uint32_t *daddr)
{
	if (dst) {
		*daddr = dst->v4;
		return 0;
	}
	if (!so->connected)
		return -EDESTADDRREQ;
	*daddr = so->faddr.v4;
	return 0;
}

static ssize_t raw_send(struct vsocket *so, const void *buf, size_t len,
			int flags, const struct vaddr *dst, uint16_t port)
{
	struct vimage *vi = so->vi;
	struct ip_out o = {0};
	struct ip_route rt;
	struct pkt *p;
	uint32_t daddr;
	int err;

	if (so->shut_wr)
		return -EPIPE;
	err = raw_dest(so, dst, &daddr);
	if (err)
		return err;
	err = so_route(so, daddr, &rt);
	if (err)
		return err;
	if (so->hdrincl) {
		/* ip_output validates the header and routes by its
		 * destination. */
		if (len < IPV4_HLEN)
			return -EINVAL;
	} else if (len > 0xffff - IPV4_HLEN) {
		return -EMSGSIZE;
	}
	p = pkt_alloc(vi->world, PKT_HEADROOM, len);
	if (!p)
		return -ENOBUFS;
	if (len)
		memcpy(pkt_put(p, len), buf, len);
	o.rt = &rt;
	o.src = rt.src;
	o.dst = daddr;
	o.proto = (uint8_t)so->protocol;
	o.ttl = so->ttl;
	o.tos = so->tos;
	o.hdrincl = so->hdrincl;
	o.bcast_ok = (so->options & SOF_BROADCAST) != 0;
	if (so->hdrincl) /* ip_output routes by the header's destination */
		o.ifp = so_bound_ifp(so, &err);
	err = ip_output(vi, p, &o);
	return err ? err : (ssize_t)len;
}

const struct vproto raw_proto = {
    .type = SOCK_RAW,
    .protocol = 0, /* any protocol, but not 0 itself */
    .attach = raw_attach,
    .detach = raw_detach,
    .bind = raw_bind,
    .connect = raw_dgram_connect,
    .disconnect = raw_disconnect,
    .send = raw_send,
};

/* ---- ping sockets -------------------------------------------------------- */
static struct vsocket *ping_find(struct raw_state *rs, uint16_t ident)
{
	struct list *l, *tmp;

	list_for_each_safe(l, tmp, &rs->pings)
	{
		struct vsocket *so = container_of(l, struct vsocket, plink);

		if (so->bound && so->lport == ident)
			return so;
	}
	return NULL;
}

/* Claim an identifier: a given one unless another socket holds it (both
 * with SO_REUSEADDR may share), or 0 for any free one, searched from a
 * random start. Unlike UDP ports, identifiers ignore addresses (Linux's
 * ping_get_port). */
static int ping_get_port(struct vsocket *so, uint16_t ident)
{
	struct raw_state *rs = vimage_raw(so->vi);
	struct list *l, *tmp;
	uint32_t start;

	if (ident) {
		list_for_each_safe(l, tmp, &rs->pings)
		{
			struct vsocket *o =
			    container_of(l, struct vsocket, plink);

			if (o != so && o->bound && o->lport == ident &&
			    !(o->options & so->options & SOF_REUSEADDR))
				return -EADDRINUSE;
		}
		goto found;
	}
	start = (uint32_t)world_random(so->vi->world);
	for (uint32_t i = 0; i < 0xffff; i++) {
		ident = (uint16_t)((start + i) % 0xffff + 1);
		if (!ping_find(rs, ident))
			goto found;
	}
	return -EADDRINUSE;
found:
	so->lport = ident;
	so->bound = true;
	return 0;
}

static int ping_autobind(struct vsocket *so)
{
	int err;

	if (so->bound)
		return 0;
	err = ping_get_port(so, 0);
	return err == -EADDRINUSE ? -EAGAIN : err;
}

static int ping_attach(struct vsocket *so)
{
	struct raw_state *rs = vimage_raw(so->vi);

	list_insert_tail(&rs->pings, &so->plink);
	rs->nping++;
	return 0;
}

static void ping_detach(struct vsocket *so)
{
	list_remove(&so->plink);
	vimage_raw(so->vi)->nping--;
}

static int ping_bind(struct vsocket *so, const struct vaddr *a, uint16_t port)
{
	int err;

	if (so->bound)
		return -EINVAL;
	err = ping_get_port(so, port);
	if (err)
		return err;
	so->laddr = *a;
	so->addr_locked = a->v4 != 0;
	so->port_locked = port != 0;
	return 0;
}

static int ping_connect(struct vsocket *so, const struct vaddr *a,
			uint16_t port)
{
	int err = ping_autobind(so);

	return err ? err : raw_dgram_connect(so, a, port);
}

static int ping_disconnect(struct vsocket *so)
{
	so->connected = false;
	so->faddr = vaddr_v4(0);
	so->fport = 0;
	if (!so->addr_locked)
		so->laddr = vaddr_v4(0);
	if (!so->port_locked) {
		so->bound = false;
		so->lport = 0;
	}
	return 0;
}

static ssize_t ping_send(struct vsocket *so, const void *buf, size_t len,
			 int flags, const struct vaddr *dst, uint16_t port)
{
	struct vimage *vi = so->vi;
	struct raw_state *rs = vimage_raw(vi);
	const uint8_t *b = buf;
	struct icmp4_repr ic;
	struct ip_out o = {0};
	struct ip_route rt;
	struct pkt *p;
	uint32_t daddr;
	int err;

	/* Linux's order: autobind (inet_send_prepare), then the length, then
	 * the message type. */
	err = ping_autobind(so);
	if (err)
		return err;
	if (len < ICMP_HLEN)
		return -EINVAL;
	if (so->shut_wr)
		return -EPIPE;
	err = raw_dest(so, dst, &daddr);
	if (err)
		return err;
	if (b[0] != ICMP_ECHO || b[1] != 0)
		return -EINVAL;
	err = so_route(so, daddr, &rt);
	if (err)
		return err;
	if (len > 0xffff - IPV4_HLEN)
		return -EMSGSIZE;
	p = pkt_alloc(vi->world, PKT_HEADROOM, len);
	if (!p)
		return -ENOBUFS;
	memcpy(pkt_put(p, len), buf, len);
	/* The identifier is the socket's, whatever the caller wrote. */
	ic = (struct icmp4_repr){
	    .type = ICMP_ECHO,
	    .code = 0,
	    .ident = so->lport,
	    .seq = rd16(b + 6),
	};
	icmp4_emit(&ic, p->data, len - ICMP_HLEN);
	o.rt = &rt;
	o.src = rt.src;
	o.dst = daddr;
	o.proto = IPPROTO_ICMP_;
	o.ttl = so->ttl;
	o.tos = so->tos;
	o.bcast_ok = (so->options & SOF_BROADCAST) != 0;
	err = ip_output(vi, p, &o);
	if (err)
		return err;
	rs->st.ping_out++;
	return (ssize_t)len;
}

bool ping_input(struct vimage *vi, const struct pkt *p,
		const struct ipv4_repr *ip, const struct icmp4_repr *ic)
{
	struct raw_state *rs = vimage_raw(vi);
	uint32_t ifindex = p->ifp ? vif_index(p->ifp) : 0;
	const uint8_t *msg;
	struct vsocket *so = NULL;
	struct list *l, *tmp;
	struct pkt *c;
	size_t mlen;

	if (!rs->nping || ic->type != ICMP_ECHOREPLY)
		return false;
	list_for_each_safe(l, tmp, &rs->pings)
	{
		struct vsocket *s = container_of(l, struct vsocket, plink);

		/* Linux's ping_lookup: identifier, bound address, device;
		 * not the connected peer. */
		if (s->bound && s->lport == ic->ident &&
		    (!s->laddr.v4 || s->laddr.v4 == ip->dst) &&
		    so_dev_ok(s, ifindex)) {
			so = s;
			break;
		}
	}
	if (!so)
		return false;
	/* The message starts 8 bytes before the parsed payload, wherever the
	 * caller left p->data (at the IP or the ICMP header). */
	msg = ic->payload - ICMP_HLEN;
	mlen = ic->payload_len + ICMP_HLEN;
	c = pkt_alloc(vi->world, 0, mlen);
	if (!c) {
		rs->st.rcvbuf_errors++;
		return true;
	}
	memcpy(pkt_put(c, mlen), msg, mlen);
	raw_fill_cb(c, ip, ifindex);
	if (!so_enqueue_dgram(so, c)) {
		rs->st.rcvbuf_errors++;
		pkt_free(vi->world, c);
		return true;
	}
	rs->st.ping_in++;
	return true;
}

void raw_ctlinput(struct vimage *vi, int err, const struct icmp_ee *ee,
		  const struct ipv4_repr *inner, const uint8_t *l4,
		  size_t l4len)
{
	struct raw_state *rs = vimage_raw(vi);
	bool hard = ee->type == ICMP_UNREACH;
	struct list *l, *tmp;

	/* Ping sockets: the one whose identifier the quoted echo carries. */
	if (rs->nping && inner->proto == IPPROTO_ICMP_ && l4len >= 8 &&
	    l4[0] == ICMP_ECHO) {
		struct vsocket *so = ping_find(rs, rd16(l4 + 4));

		if (so && so->recverr)
			so_queue_err(so, err, ee, inner->dst, 0, l4, l4len);
		else if (so && so->connected && hard)
			so_set_error(so, err);
	}
	if (!rs->nraw)
		return;
	list_for_each_safe(l, tmp, &rs->socks)
	{
		struct vsocket *so = container_of(l, struct vsocket, plink);

		if (so->protocol != inner->proto)
			continue;
		if (so->recverr)
			so_queue_err(so, err, ee, inner->dst, 0, l4, l4len);
		else if (so->connected && hard)
			so_set_error(so, err);
	}
}

const struct vproto ping_proto = {
    .type = SOCK_DGRAM,
    .protocol = IPPROTO_ICMP,
    .attach = ping_attach,
    .detach = ping_detach,
    .bind = ping_bind,
    .connect = ping_connect,
    .disconnect = ping_disconnect,
    .send = ping_send,
};

/* ---- the module ---------------------------------------------------------- */
static int raw_init(struct vimage *vi, void *state)
{
	struct raw_state *rs = state;

	list_init(&rs->socks);
	list_init(&rs->pings);
	/* Every group may open ping sockets, as Debian configures
	 * net.ipv4.ping_group_range; there are no groups to check yet. */
	rs->ping_lo = 0;
	rs->ping_hi = 2147483647;
	return 0;
}

#define RAW_STAT(f)                                                            \
	{                                                                      \
		"raw." #f, offsetof(struct raw_state, st.f)                    \
	}
static const struct vstat raw_stats[] = {
    RAW_STAT(delivered),
    RAW_STAT(rcvbuf_errors),
    RAW_STAT(ping_in),
    RAW_STAT(ping_out),
};

const struct vmodule raw_module = {
    .name = "raw",
    .id = VMOD_RAW,
    .size = sizeof(struct raw_state),
    .init = raw_init,
    .stats = raw_stats,
    .nstats = ARRAY_SIZE(raw_stats),
};
