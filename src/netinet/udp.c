/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * UDP over IPv4: RFC 768, RFC 1122 4.1 (checksums always sent and checked,
 * ICMP port unreachable for unbound ports but never for broadcasts, ICMP
 * errors passed up), RFC 6056 for ephemeral ports (algorithm 3: a keyed
 * hash of the connection identifiers plus a counter, which moves in random
 * steps as in algorithm 5), and Linux udp(7) for
 * what a program sees: SO_REUSEADDR/SO_REUSEPORT sharing, errors reported
 * only on connected sockets, -EACCES for broadcasts without SO_BROADCAST.
 *
 * The port table is a hash by local port, chained through so->pnext, newest
 * binding first. It is allocated on the first bind and freed with the last
 * socket: with 100,000 vimages in a process, a host without UDP sockets
 * must cost nothing.
 */
#include <stdlib.h>
#include <string.h>

#include "netinet/inet.h"
#include "socket/socket_var.h"

#define UDP_MAX_PAYLOAD (0xffff - IPV4_HLEN - UDP_HLEN) /* 65507 */
#define UDP_HASH_MIN	16
#define UDP_PORT_STEP	500 /* RFC 6056 algorithm 5's default N */

/* The module state: the public part (inet.h) and what only this file uses.
 * vimage_udp() returns the public part, which comes first. */
struct udp_priv {
	struct udp_state s;
	uint32_t next_ephemeral; /* RFC 6056 algorithm 3's counter */
};

/* ---- the port table ------------------------------------------------------ */
static uint32_t udp_bucket(const struct udp_state *us, uint16_t port)
{
	/* Fibonacci hashing: consecutive ports spread over the table. */
	return ((uint32_t)port * 0x9e3779b1u >> 16) & (us->cap - 1);
}

/* Rehash into ncap buckets keeping each chain's order (newest first), on
 * which lookups rely to prefer the most recent binding. */
static int udp_hash_resize(struct udp_state *us, uint32_t ncap)
{
	struct vsocket **old = us->ports, **nt;
	uint32_t ocap = us->cap;

	nt = calloc(ncap, sizeof(*nt));
	if (!nt)
		return -ENOMEM;
	us->ports = nt;
	us->cap = ncap;
	for (uint32_t i = 0; i < ocap; i++) {
		struct vsocket *rev = NULL, *so, *next;

		for (so = old[i]; so; so = next) {
			next = so->pnext;
			so->pnext = rev;
			rev = so;
		}
		for (so = rev; so; so = next) {
			uint32_t b = udp_bucket(us, so->lport);

			next = so->pnext;
			so->pnext = nt[b];
			nt[b] = so;
		}
	}
	free(old);
	return 0;
}

static int udp_hash_insert(struct udp_state *us, struct vsocket *so)
{
	uint32_t b;
	int err;

	if (!us->ports || us->count >= us->cap * 2) {
		err = udp_hash_resize(us, us->cap ? us->cap * 2 : UDP_HASH_MIN);
		/* A full table only makes chains longer. */
		if (err && !us->ports)
			return err;
	}
	b = udp_bucket(us, so->lport);
	so->pnext = us->ports[b];
	us->ports[b] = so;
	us->count++;
	return 0;
}

static void udp_hash_remove(struct udp_state *us, struct vsocket *so)
{
	struct vsocket **pp = &us->ports[udp_bucket(us, so->lport)];

	for (; *pp; pp = &(*pp)->pnext) {
		if (*pp == so) {
			*pp = so->pnext;
			so->pnext = NULL;
			us->count--;
			break;
		}
	}
	if (us->count == 0) {
		free(us->ports);
		us->ports = NULL;
		us->cap = 0;
	}
}

static struct vsocket *udp_chain(const struct udp_state *us, uint16_t port)
{
	return us->ports ? us->ports[udp_bucket(us, port)] : NULL;
}

/* Would so, bound to laddr:port, clash with another socket (Linux's
 * udp_lib_lport_inuse)? Devices and addresses that differ never clash;
 * the wildcard clashes with everything; sharing needs both sockets to
 * have asked for it the same way. */
static bool udp_port_in_use(const struct udp_state *us,
			    const struct vsocket *so, uint32_t laddr,
			    uint16_t port)
{
	for (const struct vsocket *o = udp_chain(us, port); o; o = o->pnext) {
		if (o == so || o->lport != port)
			continue;
		if (o->bound_ifindex && so->bound_ifindex &&
		    o->bound_ifindex != so->bound_ifindex)
			continue;
		if (o->laddr.v4 && laddr && o->laddr.v4 != laddr)
			continue;
		if (o->options & so->options & (SOF_REUSEADDR | SOF_REUSEPORT))
			continue;
		return true;
	}
	return false;
}

struct udp_busy_ctx {
	const struct udp_state *us;
	const struct vsocket *so;
	uint32_t laddr;
};

static bool udp_port_busy(void *ctx, uint16_t port)
{
	const struct udp_busy_ctx *c = ctx;

	return udp_port_in_use(c->us, c->so, c->laddr, port);
}

/* RFC 6056 (inet_pick_port). Most UDP binds happen before any peer is
 * known (bind to port 0, a resolver's first sendto), so the offset is often
 * the same for all; the random step keeps successive ports from being
 * consecutive, which is what off-path DNS spoofing feeds on. */
static int udp_pick_port(struct udp_priv *up, const struct vsocket *so,
			 uint32_t laddr, uint32_t faddr, uint16_t fport,
			 uint16_t *out)
{
	struct udp_busy_ctx c = {&up->s, so, laddr};
	struct ephemeral_pick ep = {
	    .lo = up->s.port_lo,
	    .hi = up->s.port_hi,
	    .key = up->s.port_key,
	    .counter = &up->next_ephemeral,
	    .step = UDP_PORT_STEP,
	    .busy = udp_port_busy,
	    .ctx = &c,
	};

	if (inet_pick_port(&so->vi->world->rng, &ep, laddr, faddr, fport,
			   out))
		return -EADDRINUSE;
	return 0;
}

/* Bind so to laddr:port (port 0: an ephemeral one, chosen with the peer
 * when known). -EADDRINUSE when taken or when the range is exhausted. */
static int udp_get_port(struct vsocket *so, uint32_t laddr, uint16_t port,
			uint32_t faddr, uint16_t fport)
{
	struct udp_priv *up = (struct udp_priv *)vimage_udp(so->vi);
	int err;

	if (port) {
		if (udp_port_in_use(&up->s, so, laddr, port))
			return -EADDRINUSE;
	} else {
		err = udp_pick_port(up, so, laddr, faddr, fport, &port);
		if (err)
			return err;
	}
	so->lport = port;
	so->laddr = vaddr_v4(laddr);
	err = udp_hash_insert(&up->s, so);
	if (err) {
		so->lport = 0;
		so->laddr = vaddr_v4(0);
		return err;
	}
	so->bound = true;
	return 0;
}

/* The implicit bind of a first send or connect: Linux's inet_autobind,
 * which reports an exhausted range as -EAGAIN. */
static int udp_autobind(struct vsocket *so, uint32_t faddr, uint16_t fport)
{
	int err;

	if (so->bound)
		return 0;
	err = udp_get_port(so, 0, 0, faddr, fport);
	return err == -EADDRINUSE ? -EAGAIN : err;
}

/* How well so matches a unicast datagram, -1 not at all: a connected
 * 4-tuple beats a bound address beats the wildcard, a bound device adds a
 * little. ifindex 0 (an ICMP error's inner header) matches any device. */
static int udp_score(const struct vsocket *so, uint32_t src, uint16_t sport,
		     uint32_t dst, uint16_t dport, uint32_t ifindex)
{
	int score = 0;

	if (so->lport != dport || (ifindex && !so_dev_ok(so, ifindex)))
		return -1;
	if (so->laddr.v4) {
		if (so->laddr.v4 != dst)
			return -1;
		score += 2;
	}
	if (so->connected) {
		if (so->faddr.v4 != src || so->fport != sport)
			return -1;
		score += 4;
	}
	if (so->bound_ifindex)
		score += 1;
	return score;
}

/* The socket for a unicast datagram: the best score; among equals the
 * newest binding (chains are newest first), or for an SO_REUSEPORT group
 * one chosen by a keyed hash of the source, so that a flow stays on one
 * socket. */
static struct vsocket *udp_lookup(const struct udp_state *us, uint32_t src,
				  uint16_t sport, uint32_t dst, uint16_t dport,
				  uint32_t ifindex)
{
	struct vsocket *best = NULL, *so;
	int best_score = -1, score;
	uint32_t nreuse = 0, pick;

	for (so = udp_chain(us, dport); so; so = so->pnext) {
		score = udp_score(so, src, sport, dst, dport, ifindex);
		if (score > best_score) {
			best = so;
			best_score = score;
			nreuse = 1;
		} else if (score >= 0 && score == best_score &&
			   (so->options & SOF_REUSEPORT)) {
			nreuse++;
		}
	}
	if (nreuse < 2 || !(best->options & SOF_REUSEPORT))
		return best;
	pick =
	    (uint32_t)(mix64(us->port_key ^ ((uint64_t)src << 16 | sport)) %
		       nreuse);
	for (so = best; so; so = so->pnext) {
		if (!(so->options & SOF_REUSEPORT) ||
		    udp_score(so, src, sport, dst, dport, ifindex) !=
			best_score)
			continue;
		if (pick-- == 0)
			return so;
	}
	return best;
}

/* Does so take a broadcast datagram (Linux's __udp_is_mcast_sock)? A socket
 * bound to a unicast address does not. */
static bool udp_bcast_match(const struct vsocket *so, uint32_t src,
			    uint16_t sport, uint32_t dst, uint16_t dport,
			    uint32_t ifindex)
{
	return so->lport == dport && (!so->laddr.v4 || so->laddr.v4 == dst) &&
	       (!so->connected ||
		(so->faddr.v4 == src && so->fport == sport)) &&
	       so_dev_ok(so, ifindex);
}

/* ---- input --------------------------------------------------------------- */
static void udp_deliver(struct vimage *vi, struct vsocket *so, struct pkt *p,
			bool bcast)
{
	struct udp_state *us = vimage_udp(vi);

	if (!so_enqueue_dgram(so, p)) {
		us->st.rcvbuf_errors++;
		us->st.in_errors++;
		pkt_free(vi->world, p);
		return;
	}
	us->st.in_datagrams++;
	if (bcast)
		us->st.bcast_delivered++;
}

/* Strip to the payload and record where it came from. */
static void udp_prepare(struct pkt *p, const struct udp_repr *u,
			const struct ipv4_repr *ip, uint32_t ifindex)
{
	struct dgram_cb *cb = (struct dgram_cb *)p->cb.bytes;

	pkt_trim(p, u->len);
	pkt_pull(p, UDP_HLEN);
	memset(cb, 0, sizeof(*cb));
	cb->from = vaddr_v4(ip->src);
	cb->port = u->sport;
	cb->ifindex = ifindex;
	cb->ttl = ip->ttl;
	cb->tos = ip->tos;
}

static void udp_input_bcast(struct vimage *vi, struct pkt *p,
			    const struct udp_repr *u,
			    const struct ipv4_repr *ip, uint32_t ifindex)
{
	struct udp_state *us = vimage_udp(vi);
	struct vsocket *so, *prev = NULL;

	udp_prepare(p, u, ip, ifindex);
	for (so = udp_chain(us, u->dport); so; so = so->pnext) {
		struct pkt *c;

		if (!udp_bcast_match(so, ip->src, u->sport, ip->dst, u->dport,
				     ifindex))
			continue;
		if (prev) {
			/* Receivers only read: they can share the bytes. */
			c = pkt_clone(vi->world, p);
			if (c)
				udp_deliver(vi, prev, c, true);
			else
				us->st.rcvbuf_errors++;
		}
		prev = so;
	}
	/* Nobody listening to a broadcast is not an error (RFC 1122 4.1.3.1:
	 * no port unreachable), so it is not counted in no_ports either,
	 * like Linux's IgnoredMulti. */
	if (prev)
		udp_deliver(vi, prev, p, true);
	else
		pkt_free(vi->world, p);
}

void udp_input(struct vimage *vi, struct ifnet *ifp, struct pkt *p,
	       const struct ipv4_repr *ip)
{
	struct udp_state *us = vimage_udp(vi);
	uint32_t ifindex = ifp ? vif_index(ifp) : 0;
	struct vsocket *so;
	struct udp_repr u;
	bool bcast;
	int err;

	err = udp4_parse(p->data, p->len, &u, ip->src, ip->dst,
			 !(p->flags & PKT_CSUM_OK));
	if (err) {
		us->st.in_errors++;
		if (err == WIRE_ECKSUM)
			us->st.badsum++;
		else
			us->st.badlen++;
		goto drop;
	}
	/* ip_input marks every IP broadcast with PKT_BCAST, so unicast
	 * datagrams skip the route lookup; a unicast datagram that merely
	 * came in a link-layer broadcast frame is still unicast. */
	bcast =
	    IN_MULTICAST_H(ip->dst) || ((p->flags & (PKT_BCAST | PKT_MCAST)) &&
					so_addr_is_bcast(vi, ip->dst));
	if (bcast) {
		udp_input_bcast(vi, p, &u, ip, ifindex);
		return;
	}
	so = udp_lookup(us, ip->src, u.sport, ip->dst, u.dport, ifindex);
	if (!so) {
		us->st.no_ports++;
		/* icmp_error quotes the datagram from its IP header; no error
		 * for what arrived in a link-layer broadcast (RFC 1122
		 * 3.2.2). */
		if (!(p->flags & (PKT_BCAST | PKT_MCAST)) &&
		    pkt_push(p, ip->hlen))
			icmp_error(vi, p, ICMP_UNREACH, ICMP_UNREACH_PORT, 0);
		goto drop;
	}
	udp_prepare(p, &u, ip, ifindex);
	udp_deliver(vi, so, p, false);
	return;
drop:
	pkt_free(vi->world, p);
}

void udp_ctlinput(struct vimage *vi, int err, const struct icmp_ee *ee,
		  const struct ipv4_repr *inner, const uint8_t *l4,
		  size_t l4len)
{
	struct vsocket *so;
	uint16_t sport, dport;

	if (l4len < 4)
		return;
	sport = rd16(l4);
	dport = rd16(l4 + 2);
	/* Look up as if the reply came back from the peer; Linux reports
	 * the error only to a connected socket (without IP_RECVERR). */
	so =
	    udp_lookup(vimage_udp(vi), inner->dst, dport, inner->src, sport, 0);
	if (!so)
		return;
	if (so->recverr) {
		/* Linux's ip_icmp_error: the quoted datagram's payload. With
		 * the record queued, the pending error is its to report. */
		if (l4len >= 8)
			so_queue_err(so, err, ee, inner->dst, dport, l4 + 8,
				     l4len - 8);
		return;
	}
	if (!so->connected)
		return;
	so_set_error(so, err);
}

/* ---- the protocol switch ------------------------------------------------- */
static int udp_attach(struct vsocket *so)
{
	return 0;
}

static void udp_detach(struct vsocket *so)
{
	if (so->bound)
		udp_hash_remove(vimage_udp(so->vi), so);
	so->bound = false;
}

static int udp_bind(struct vsocket *so, const struct vaddr *a, uint16_t port)
{
	int err;

	if (so->bound)
		return -EINVAL;
	err = udp_get_port(so, a->v4, port, 0, 0);
	if (err)
		return err;
	so->addr_locked = a->v4 != 0;
	so->port_locked = port != 0;
	return 0;
}

static int udp_connect(struct vsocket *so, const struct vaddr *a, uint16_t port)
{
	struct ip_route rt;
	int err;

	err = so_route(so, a->v4, &rt);
	if (err)
		return err;
	err = udp_autobind(so, a->v4, port);
	if (err)
		return err;
	/* The local address is fixed now (getsockname shows it), unless
	 * the user chose one; disconnect forgets it again. */
	if (!so->laddr.v4)
		so->laddr = vaddr_v4(rt.src);
	so->faddr = *a;
	so->fport = port;
	so->connected = true;
	return 0;
}

static int udp_disconnect(struct vsocket *so)
{
	so->connected = false;
	so->faddr = vaddr_v4(0);
	so->fport = 0;
	if (!so->addr_locked)
		so->laddr = vaddr_v4(0);
	/* A port the user did not choose goes back to the pool. */
	if (!so->port_locked && so->bound) {
		udp_hash_remove(vimage_udp(so->vi), so);
		so->bound = false;
		so->lport = 0;
	}
	return 0;
}

static ssize_t udp_send(struct vsocket *so, const void *buf, size_t len,
			int flags, const struct vaddr *dst, uint16_t port)
{
	struct vimage *vi = so->vi;
	struct udp_state *us = vimage_udp(vi);
	struct udp_repr u;
	struct ip_out o;
	struct ip_route rt;
	struct pkt *p;
	uint32_t daddr;
	uint16_t dport;
	int err;

	if (so->shut_wr)
		return -EPIPE;
	if (dst) {
		if (port == 0)
			return -EINVAL;
		daddr = dst->v4;
		dport = port;
	} else {
		if (!so->connected)
			return -EDESTADDRREQ;
		daddr = so->faddr.v4;
		dport = so->fport;
	}
	err = so_route(so, daddr, &rt);
	if (err)
		return err;
	if (len > UDP_MAX_PAYLOAD)
		return -EMSGSIZE;
	err = udp_autobind(so, daddr, dport);
	if (err)
		return err;
	p = pkt_alloc(vi->world, PKT_HEADROOM, UDP_HLEN + len);
	if (!p)
		return -ENOBUFS;
	pkt_put(p, UDP_HLEN + len);
	if (len)
		memcpy(p->data + UDP_HLEN, buf, len);
	u = (struct udp_repr){.sport = so->lport, .dport = dport};
	udp4_emit(&u, p->data, len, rt.src, daddr, true);
	o = (struct ip_out){
	    .rt = &rt,
	    .src = rt.src,
	    .dst = daddr,
	    .proto = IPPROTO_UDP_,
	    .ttl = so->ttl,
	    .tos = so->tos,
	    .bcast_ok = (so->options & SOF_BROADCAST) != 0,
	};
	err = ip_output(vi, p, &o);
	if (err)
		return err;
	us->st.out_datagrams++;
	return (ssize_t)len;
}

const struct vproto udp_proto = {
    .type = SOCK_DGRAM,
    .protocol = IPPROTO_UDP,
    .attach = udp_attach,
    .detach = udp_detach,
    .bind = udp_bind,
    .connect = udp_connect,
    .disconnect = udp_disconnect,
    .send = udp_send,
};

/* ---- the module ---------------------------------------------------------- */
static int udp_init(struct vimage *vi, void *state)
{
	struct udp_priv *up = state;

	up->s.port_lo = 32768; /* Linux's ip_local_port_range */
	up->s.port_hi = 60999;
	up->s.port_key = world_random(vi->world);
	up->next_ephemeral = (uint32_t)world_random(vi->world);
	return 0;
}

static void udp_destroy(struct vimage *vi, void *state)
{
	struct udp_priv *up = state;

	/* The socket module closed every socket first; this only matters
	 * if that ever changes. */
	free(up->s.ports);
	up->s.ports = NULL;
	up->s.cap = up->s.count = 0;
}

#define UDP_KNOB(n, f)                                                         \
	{                                                                      \
		"net.inet.udp." n, offsetof(struct udp_state, f), 1, 65535     \
	}
static const struct vknob udp_knobs[] = {
    UDP_KNOB("port_lo", port_lo),
    UDP_KNOB("port_hi", port_hi),
};

#define UDP_STAT(f)                                                            \
	{                                                                      \
		"udp." #f, offsetof(struct udp_state, st.f)                    \
	}
static const struct vstat udp_stats[] = {
    UDP_STAT(in_datagrams),  UDP_STAT(no_ports),	UDP_STAT(in_errors),
    UDP_STAT(badsum),	     UDP_STAT(badlen),		UDP_STAT(rcvbuf_errors),
    UDP_STAT(out_datagrams), UDP_STAT(bcast_delivered),
};

const struct vmodule udp_module = {
    .name = "udp",
    .id = VMOD_UDP,
    .size = sizeof(struct udp_priv),
    .init = udp_init,
    .destroy = udp_destroy,
    .knobs = udp_knobs,
    .nknobs = ARRAY_SIZE(udp_knobs),
    .stats = udp_stats,
    .nstats = ARRAY_SIZE(udp_stats),
};
