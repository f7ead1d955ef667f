/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * IPv4 input and forwarding (RFC 791, RFC 1122 3.2.1, RFC 1812 5.2-5.3).
 *
 * One lookup decides a packet's fate: the local table answers "ours"
 * (addresses, directed broadcasts), otherwise the main table gives the
 * forwarding route. Forwarding is off by default, as on a host, and
 * switched per vimage with net.inet.ip.forwarding. Every malformed packet is
 * counted under its reason and dropped.
 */
#include <string.h>

#include "netinet/inet.h"
#include "netinet/tcp_var.h"

static void ip_count_parse_error(struct ip_state *ip, int err)
{
	switch (err) {
	case WIRE_ETRUNC:
		ip->st.tooshort++;
		break;
	case WIRE_ECKSUM:
		ip->st.badsum++;
		break;
	case WIRE_EVERSION:
		ip->st.badvers++;
		break;
	case WIRE_EBADLEN:
		ip->st.badhlen++;
		break;
	default:
		ip->st.badlen++;
		break;
	}
}

void ip_deliver(struct vimage *vi, struct ifnet *ifp, struct pkt *p,
		const struct ipv4_repr *h)
{
	struct ip_state *ip = vimage_ip(vi);

	ip->st.delivered++;
	raw_input(vi, p, h);
	pkt_pull(p, h->hlen);
	switch (h->proto) {
	case IPPROTO_ICMP_:
		icmp_input(vi, ifp, p, h);
		return;
	case IPPROTO_UDP_:
		udp_input(vi, ifp, p, h);
		return;
	case IPPROTO_TCP_:
		tcp_input(vi, ifp, p, h);
		return;
	default:
		if (!raw_has_proto(vi, h->proto)) {
			ip->st.noproto++;
			pkt_push(p, h->hlen);
			if (!(p->flags & (PKT_BCAST | PKT_MCAST)))
				icmp_error(vi, p, ICMP_UNREACH,
					   ICMP_UNREACH_PROTO, 0);
		}
		pkt_free(vi->world, p);
		return;
	}
}

static void ip_forward(struct vimage *vi, struct ifnet *in, struct pkt *p,
		       const struct ipv4_repr *h, const struct rtentry *re)
{
	struct ip_state *ip = vimage_ip(vi);
	struct ifnet *out;
	uint32_t nh, mtu;

	if (!ip->forwarding || (p->flags & (PKT_BCAST | PKT_MCAST)) ||
	    IN_MULTICAST_H(h->dst) || IN_ZERONET_H(h->dst) ||
	    IN_ZERONET_H(h->src)) { /* RFC 1812 5.3.7: "this network" */
		ip->st.cantforward++;
		goto drop;
	}
	if (h->ttl <= 1) {
		ip->st.ttl_exceeded++;
		icmp_error(vi, p, ICMP_TIMXCEED, ICMP_TIMXCEED_INTRANS, 0);
		goto drop;
	}
	if (!re) {
		ip->st.noroute++;
		icmp_error(vi, p, ICMP_UNREACH, ICMP_UNREACH_NET, 0);
		goto drop;
	}
	switch (re->r.type) {
	case VRT_UNICAST:
		break;
	case VRT_BLACKHOLE:
		ip->st.blackholed++;
		goto drop;
	case VRT_UNREACHABLE:
		ip->st.unreachable_rt++;
		icmp_error(vi, p, ICMP_UNREACH, ICMP_UNREACH_HOST, 0);
		goto drop;
	case VRT_PROHIBIT:
		ip->st.prohibited_rt++;
		icmp_error(vi, p, ICMP_UNREACH, ICMP_UNREACH_FILTER, 0);
		goto drop;
	default:
		ip->st.cantforward++;
		goto drop;
	}
	out = re->r.ifp;
	nh = re->r.gw.family ? re->r.gw.v4 : h->dst;
	mtu = re->r.mtu ? re->r.mtu : out->mtu;
	if (p->len > mtu && h->df) {
		ip->st.cantfrag++;
		icmp_error(vi, p, ICMP_UNREACH, ICMP_UNREACH_NEEDFRAG,
			   (uint16_t)(mtu > 0xffff ? 0xffff : mtu));
		goto drop;
	}
	if (pkt_make_writable(vi->world, p)) {
		ip->st.odropped++;
		goto drop;
	}
	ipv4_dec_ttl(p->data);
	/* Forwarding keeps what the checksum state was: verified, or not
	 * filled in because it never left the world. */
	p->flags = (p->flags & (PKT_CSUM_OK | PKT_CSUM_NONE)) | PKT_FORWARDED;
	ip->st.forward++;
	if (unlikely(vi->log_level >= VLOG_DEBUG))
		vlog(vi, VLOG_DEBUG, "ip: forward %s -> %s len %u",
		     in->name, out->name, p->len);
	if (p->len > mtu) {
		ip_fragment(vi, out, p, nh, mtu);
		return;
	}
	ip_xmit_one(out, p, nh);
	return;
drop:
	pkt_free(vi->world, p);
}

void ip_input(struct ifnet *ifp, struct pkt *p)
{
	struct vimage *vi = ifp->vi;
	struct ip_state *ip = vimage_ip(vi);
	struct ipv4_repr h;
	struct rtentry *re;
	int err;

	ip->st.total++;
	err = ipv4_parse(p->data, p->len, &h, true);
	if (unlikely(err)) {
		ip_count_parse_error(ip, err);
		goto drop;
	}
	pkt_trim(p, h.total_len);
	/* RFC 1812 5.3.7: martian sources are never accepted, and 127/8 is
	 * only ever seen on lo0, either way (RFC 1122 3.2.1.3). */
	if (unlikely(IN_MULTICAST_H(h.src) || h.src == INADDR_BCAST_H ||
		     (ifp->type != VIF_LOOPBACK &&
		      (IN_LOOPBACK_H(h.src) || IN_LOOPBACK_H(h.dst))))) {
		ip->st.martians++;
		goto drop;
	}
	if (h.dst == INADDR_BCAST_H) {
		p->flags |= PKT_BCAST;
		goto local;
	}
	re = fib4_lookup(vimage_route(vi), h.dst);
	if (re && (re->r.type == VRT_LOCAL || re->r.type == VRT_BROADCAST)) {
		if (re->r.type == VRT_BROADCAST)
			p->flags |= PKT_BCAST;
		goto local;
	}
	if (IN_MULTICAST_H(h.dst)) {
		/* No multicast membership yet: not for us. */
		ip->st.cantforward++;
		goto drop;
	}
	ip_forward(vi, ifp, p, &h, re);
	return;
local:
	if (h.mf || h.frag_off) {
		ip->st.fragments++;
		p = ip_reass(vi, p, &h);
		if (!p)
			return;
		if (ipv4_parse(p->data, p->len, &h, false) != 0) {
			ip->st.badlen++;
			goto drop;
		}
	}
	ip_deliver(vi, ifp, p, &h);
	return;
drop:
	pkt_free(vi->world, p);
}

/* ---- the module -------------------------------------------------------------- */
static int ip_init(struct vimage *vi, void *state)
{
	struct ip_state *ip = state;

	ip->forwarding = 0;
	ip->default_ttl = 64;
	ip->frag_maxbytes = 4 << 20; /* Linux's ipfrag_high_thresh */
	ip->frag_timeout_s = 30;
	ip->frag_maxqueues = 1024;
	ip->next_id = (uint16_t)world_random(vi->world);
	list_init(&ip->reass);
	return 0;
}

static void ip_destroy(struct vimage *vi, void *state)
{
	ip_reass_flush(vi);
}

#define IP_KNOB(n, f, lo, hi) {n, offsetof(struct ip_state, f), lo, hi}
static const struct vknob ip_knobs[] = {
	IP_KNOB("net.inet.ip.forwarding", forwarding, 0, 1),
	IP_KNOB("net.inet.ip.ttl", default_ttl, 1, 255),
	IP_KNOB("net.inet.ip.maxfragbytes", frag_maxbytes, 0, 1 << 30),
	IP_KNOB("net.inet.ip.fragttl", frag_timeout_s, 1, 3600),
	IP_KNOB("net.inet.ip.maxfragpackets", frag_maxqueues, 0, 1 << 20),
};

#define IP_STAT(f) {"ip." #f, offsetof(struct ip_state, st.f)}
static const struct vstat ip_stats[] = {
	IP_STAT(total),       IP_STAT(badsum),       IP_STAT(tooshort),
	IP_STAT(toosmall),    IP_STAT(badhlen),      IP_STAT(badlen),
	IP_STAT(badvers),     IP_STAT(badoptions),   IP_STAT(fragments),
	IP_STAT(fragdropped), IP_STAT(fragtimeout),  IP_STAT(reassembled),
	IP_STAT(delivered),   IP_STAT(forward),      IP_STAT(cantforward),
	IP_STAT(noroute),     IP_STAT(localout),     IP_STAT(odropped),
	IP_STAT(fragmented),  IP_STAT(ofragments),   IP_STAT(cantfrag),
	IP_STAT(noproto),     IP_STAT(ttl_exceeded), IP_STAT(martians),
	IP_STAT(blackholed),  IP_STAT(unreachable_rt), IP_STAT(prohibited_rt),
};

const struct vmodule ip_module = {
	.name = "ip",
	.id = VMOD_IP,
	.size = sizeof(struct ip_state),
	.init = ip_init,
	.destroy = ip_destroy,
	.knobs = ip_knobs,
	.nknobs = ARRAY_SIZE(ip_knobs),
	.stats = ip_stats,
	.nstats = ARRAY_SIZE(ip_stats),
};
