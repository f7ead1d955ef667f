/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ICMP for IPv4 (RFC 792, RFC 1122 3.2.2, RFC 1812 4.3.2): echo service,
 * error generation with the rules that keep errors from multiplying, a
 * per-vimage token-bucket rate limit on errors, and the dispatch of received
 * errors to the transport that sent the offending datagram.
 */
#include <string.h>

#include "netinet/inet.h"
#include "socket/socket_var.h"
#include "netinet/tcp_var.h"

/* Errors carry the offending header and as much of its data as keeps the
 * whole error within 576 bytes (RFC 1812 4.3.2.3). */
#define ICMP_ERR_MAX_QUOTE (576 - IPV4_HLEN - ICMP_HLEN)

static bool icmp_is_error_type(uint8_t type)
{
	return type == ICMP_UNREACH || type == ICMP_TIMXCEED ||
	       type == ICMP_PARAMPROB || type == ICMP_REDIRECT || type == 4;
}

static bool icmp_ratelimit_ok(struct icmp_state *ic, uint64_t now)
{
	uint64_t cost, cap;

	if (ic->ratelimit <= 0)
		return true;
	cost = NSEC_PER_SEC / (uint64_t)ic->ratelimit;
	cap = cost * (uint64_t)(ic->ratelimit_burst > 0 ? ic->ratelimit_burst : 1);
	ic->tokens_ns += now - ic->last_ns;
	ic->last_ns = now;
	if (ic->tokens_ns > cap)
		ic->tokens_ns = cap;
	if (ic->tokens_ns < cost)
		return false;
	ic->tokens_ns -= cost;
	return true;
}

void icmp_error(struct vimage *vi, const struct pkt *orig, uint8_t type,
		uint8_t code, uint16_t mtu)
{
	struct icmp_state *ic = vimage_icmp(vi);
	struct ipv4_repr h;
	struct icmp4_repr r = {.type = type, .code = code, .mtu = mtu};
	struct ip_out o = {.proto = IPPROTO_ICMP_};
	struct ip_route rt;
	size_t quote;
	struct pkt *p;

	if (ipv4_parse(orig->data, orig->len, &h, false) != 0)
		return;
	/* RFC 1122 3.2.2: never about broadcasts, multicasts, non-first
	 * fragments, odd sources, or other ICMP errors. */
	if ((orig->flags & (PKT_BCAST | PKT_MCAST)) || h.frag_off ||
	    h.dst == INADDR_BCAST_H || IN_MULTICAST_H(h.dst) || h.src == 0 ||
	    h.src == INADDR_BCAST_H || IN_MULTICAST_H(h.src) ||
	    IN_ZERONET_H(h.src))
		return;
	if (h.proto == IPPROTO_ICMP_ && orig->len >= (size_t)h.hlen + 1 &&
	    icmp_is_error_type(orig->data[h.hlen]))
		return;
	/* Route first: a source we cannot reach, or a broadcast one (not a
	 * single host, RFC 1122 3.2.2), gets nothing and costs no token. */
	if (ip_route_out(vi, h.src, NULL, &rt) || rt.bcast)
		return;
	if (!icmp_ratelimit_ok(ic, vi->world->now)) {
		ic->st.ratelimited++;
		return;
	}
	quote = orig->len < ICMP_ERR_MAX_QUOTE ? orig->len : ICMP_ERR_MAX_QUOTE;
	p = pkt_alloc(vi->world, PKT_HEADROOM, ICMP_HLEN + quote);
	if (!p)
		return;
	pkt_put(p, ICMP_HLEN);
	memcpy(pkt_put(p, quote), orig->data, quote);
	icmp4_emit(&r, p->data, quote);
	o.rt = &rt;
	o.dst = h.src;
	ic->st.out_msgs++;
	if (type == ICMP_UNREACH)
		ic->st.out_unreach++;
	else if (type == ICMP_TIMXCEED)
		ic->st.out_timxceed++;
	ip_output(vi, p, &o);
}

static void icmp_echo_reply(struct vimage *vi, struct pkt *req,
			    const struct ipv4_repr *h, const struct icmp4_repr *r)
{
	struct icmp_state *ic = vimage_icmp(vi);
	struct icmp4_repr rep = {.type = ICMP_ECHOREPLY, .ident = r->ident,
				 .seq = r->seq};
	struct ip_out o = {.proto = IPPROTO_ICMP_, .dst = h->src, .tos = h->tos};
	struct pkt *p;

	/* Reply from the address asked, unless that was a broadcast. */
	if (!(req->flags & (PKT_BCAST | PKT_MCAST)))
		o.src = h->dst;
	p = pkt_alloc(vi->world, PKT_HEADROOM, ICMP_HLEN + r->payload_len);
	if (!p)
		return;
	pkt_put(p, ICMP_HLEN);
	memcpy(pkt_put(p, r->payload_len), r->payload, r->payload_len);
	icmp4_emit(&rep, p->data, r->payload_len);
	ic->st.out_msgs++;
	ic->st.out_echo_replies++;
	ip_output(vi, p, &o);
}

/* A received error: hand it to the transport that sent the quoted packet. */
static void icmp_notify(struct vimage *vi, const struct icmp4_repr *r,
			const struct ipv4_repr *outer)
{
	struct ipv4_repr inner;
	struct icmp_ee ee = {.type = r->type,
			     .code = r->code,
			     .ttl = outer->ttl,
			     .info = r->type == ICMP_UNREACH &&
					     r->code == ICMP_UNREACH_NEEDFRAG
					 ? r->mtu
					 : 0,
			     .offender = outer->src};
	int err;

	uint8_t hdr[IPV4_MAX_HLEN];
	size_t hl;

	/* The quote is usually shorter than the quoted packet's total length:
	 * parse its header alone. */
	if (r->payload_len < IPV4_HLEN)
		return;
	hl = (size_t)(r->payload[0] & 15) * 4;
	if (hl < IPV4_HLEN || hl > r->payload_len)
		return;
	memcpy(hdr, r->payload, hl);
	wr16(hdr + 2, (uint16_t)hl);
	if (ipv4_parse(hdr, hl, &inner, false) != 0)
		return;
	if (r->type == ICMP_UNREACH) {
		switch (r->code) {
		case ICMP_UNREACH_PORT:
		case ICMP_UNREACH_PROTO:
			err = ECONNREFUSED;
			break;
		case ICMP_UNREACH_NEEDFRAG:
			err = EMSGSIZE;
			break;
		case ICMP_UNREACH_NET:
			err = ENETUNREACH;
			break;
		case ICMP_UNREACH_FILTER:
			err = EACCES;
			break;
		default:
			err = EHOSTUNREACH;
			break;
		}
	} else if (r->type == ICMP_TIMXCEED) {
		err = EHOSTUNREACH;
	} else {
		err = EPROTO;
	}
	if (inner.proto == IPPROTO_UDP_ && r->payload_len >= inner.hlen)
		udp_ctlinput(vi, err, &ee, &inner, r->payload + inner.hlen,
			     r->payload_len - inner.hlen);
	if (r->payload_len >= inner.hlen)
		raw_ctlinput(vi, err, &ee, &inner, r->payload + inner.hlen,
			     r->payload_len - inner.hlen);
	if (inner.proto == IPPROTO_TCP_ && r->payload_len >= inner.hlen)
		tcp_ctlinput(vi, err,
			     r->type == ICMP_UNREACH &&
				     r->code == ICMP_UNREACH_NEEDFRAG
				 ? r->mtu
				 : 0,
			     &inner, r->payload + inner.hlen,
			     r->payload_len - inner.hlen);
}

void icmp_input(struct vimage *vi, struct ifnet *ifp, struct pkt *p,
		const struct ipv4_repr *h)
{
	struct icmp_state *ic = vimage_icmp(vi);
	struct icmp4_repr r;
	int err;

	ic->st.in_msgs++;
	err = icmp4_parse(p->data, p->len, &r, !(p->flags & PKT_CSUM_OK));
	if (err) {
		ic->st.in_errors++;
		if (err == WIRE_ECKSUM)
			ic->st.badsum++;
		else
			ic->st.badlen++;
		goto out;
	}
	switch (r.type) {
	case ICMP_ECHO:
		ic->st.in_echos++;
		if (ic->echo_ignore_all ||
		    ((p->flags & (PKT_BCAST | PKT_MCAST)) &&
		     ic->echo_ignore_broadcasts))
			break;
		icmp_echo_reply(vi, p, h, &r);
		break;
	case ICMP_ECHOREPLY:
		ic->st.in_echo_replies++;
		ping_input(vi, p, h, &r);
		break;
	case ICMP_UNREACH:
		ic->st.in_unreach++;
		icmp_notify(vi, &r, h);
		break;
	case ICMP_TIMXCEED:
		ic->st.in_timxceed++;
		icmp_notify(vi, &r, h);
		break;
	default:
		break;
	}
out:
	pkt_free(vi->world, p);
}

static int icmp_init(struct vimage *vi, void *state)
{
	struct icmp_state *ic = state;

	ic->ratelimit = 1000; /* errors per second */
	ic->ratelimit_burst = 50;
	ic->echo_ignore_broadcasts = 1; /* as Linux */
	ic->tokens_ns = (NSEC_PER_SEC / 1000) * 50;
	ic->last_ns = vi->world->now;
	return 0;
}

#define ICMP_KNOB(n, f, lo, hi) {n, offsetof(struct icmp_state, f), lo, hi}
static const struct vknob icmp_knobs[] = {
	ICMP_KNOB("net.inet.icmp.ratelimit", ratelimit, 0, 1000000),
	ICMP_KNOB("net.inet.icmp.ratelimit_burst", ratelimit_burst, 1, 1000000),
	ICMP_KNOB("net.inet.icmp.echo_ignore_all", echo_ignore_all, 0, 1),
	ICMP_KNOB("net.inet.icmp.echo_ignore_broadcasts", echo_ignore_broadcasts, 0, 1),
};

#define ICMP_STAT(f) {"icmp." #f, offsetof(struct icmp_state, st.f)}
static const struct vstat icmp_stats[] = {
	ICMP_STAT(in_msgs),      ICMP_STAT(in_errors),
	ICMP_STAT(in_echos),     ICMP_STAT(in_echo_replies),
	ICMP_STAT(in_unreach),   ICMP_STAT(in_timxceed),
	ICMP_STAT(out_msgs),     ICMP_STAT(out_echo_replies),
	ICMP_STAT(out_unreach),  ICMP_STAT(out_timxceed),
	ICMP_STAT(ratelimited),  ICMP_STAT(badcode),
	ICMP_STAT(badlen),       ICMP_STAT(badsum),
};

const struct vmodule icmp_module = {
	.name = "icmp",
	.id = VMOD_ICMP,
	.size = sizeof(struct icmp_state),
	.init = icmp_init,
	.knobs = icmp_knobs,
	.nknobs = ARRAY_SIZE(icmp_knobs),
	.stats = icmp_stats,
	.nstats = ARRAY_SIZE(icmp_stats),
};
