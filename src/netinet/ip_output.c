/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * IPv4 output (RFC 791, RFC 1122 3.3.4 for source selection): route, pick a
 * source address, build the header, fragment when needed, and hand the
 * packet to the link layer. Packets to one of our own addresses go through
 * lo0, as on Linux and FreeBSD.
 */
#include <string.h>

#include "netinet/inet.h"

static const uint8_t zero_mac[6];
static const uint8_t bcast_mac[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

/* Is a a directed broadcast of one of ifp's subnets? */
static bool is_bcast_on(const struct ifnet *ifp, uint32_t a)
{
	for (struct ifaddr *ia = ifp->addrs; ia; ia = ia->next)
		if (ia->bcast && ia->bcast == a)
			return true;
	return false;
}

void ip_xmit_one(struct ifnet *ifp, struct pkt *p, uint32_t nh)
{
	if (ifp->type == VIF_LOOPBACK)
		ether_send(ifp, p, zero_mac, ETHERTYPE_IPV4);
	else if (nh == INADDR_BCAST_H)
		ether_send(ifp, p, bcast_mac, ETHERTYPE_IPV4);
	else
		arp_output(ifp, p, nh);
}

int ip_output_ifp(struct vimage *vi, struct ifnet *ifp, struct pkt *p,
		  uint32_t nh, uint32_t mtu)
{
	if (p->len > mtu) {
		if (p->data[6] & (IPV4_FLAG_DF >> 8)) {
			vimage_ip(vi)->st.cantfrag++;
			pkt_free(vi->world, p);
			return -EMSGSIZE;
		}
		return ip_fragment(vi, ifp, p, nh, mtu);
	}
	ip_xmit_one(ifp, p, nh);
	return 0;
}

/* Any usable address of the vimage, non-loopback first. */
static uint32_t src_any(struct vimage *vi)
{
	uint32_t lo = 0;

	for (struct ifnet *ifp = vif_first(vi); ifp; ifp = vif_next(ifp)) {
		struct ifaddr *ia = if_first_addr4(ifp);

		if (!ia)
			continue;
		if (ifp->type != VIF_LOOPBACK)
			return ia->addr.v4;
		lo = ia->addr.v4;
	}
	return lo;
}

static int ip_route_resolve(struct vimage *vi, uint32_t dst,
			    struct ifnet *force, struct ip_route *rt)
{
	struct if_state *is = vimage_if(vi);
	struct rtentry *re = fib4_lookup(vimage_route(vi), dst);

	*rt = (struct ip_route){.nh = dst};
	if (dst == INADDR_BCAST_H || (force && !re)) {
		/* Limited broadcast (or a bound device): out of the forced
		 * interface, else the default route's, on the link. */
		rt->ifp = force ? force : (re ? re->r.ifp : NULL);
		if (!rt->ifp)
			return -ENETUNREACH;
		rt->bcast = dst == INADDR_BCAST_H || is_bcast_on(rt->ifp, dst);
		rt->src = in_src_on_ifp(rt->ifp, dst);
		rt->mtu = rt->ifp->mtu;
		goto out;
	}
	if (!re)
		return -ENETUNREACH;
	switch (re->r.type) {
	case VRT_LOCAL:
		rt->ifp = is->lo;
		rt->src = dst;
		rt->mtu = is->lo->mtu;
		return 0;
	case VRT_BROADCAST:
		rt->bcast = true;
		break;
	case VRT_UNICAST:
		break;
	case VRT_UNREACHABLE:
		return -EHOSTUNREACH;
	case VRT_PROHIBIT:
		return -EACCES;
	default: /* blackhole */
		return -EINVAL;
	}
	rt->ifp = force ? force : re->r.ifp;
	if (re->r.gw.family && rt->ifp == re->r.ifp)
		rt->nh = re->r.gw.v4;
	rt->src = re->r.prefsrc.family ? re->r.prefsrc.v4
				       : in_src_on_ifp(rt->ifp, rt->nh);
	rt->mtu = re->r.mtu ? re->r.mtu : rt->ifp->mtu;
out:
	if (rt->bcast)
		rt->nh = INADDR_BCAST_H;
	return 0;
}

int ip_route_out(struct vimage *vi, uint32_t dst, struct ifnet *force,
		 struct ip_route *rt)
{
	int err = ip_route_resolve(vi, dst, force, rt);

	if (err)
		return err;
	if (!rt->src)
		rt->src = src_any(vi);
	return rt->src ? 0 : -EADDRNOTAVAIL;
}

int ip_output(struct vimage *vi, struct pkt *p, const struct ip_out *o)
{
	struct ip_state *ip = vimage_ip(vi);
	struct ip_route rr;
	struct ipv4_repr h;
	uint32_t dst = o->dst;
	uint8_t *hdr;
	int err;

	if (o->hdrincl) {
		/* The caller wrote the header; fill in what Linux fills in. */
		if (p->len < IPV4_HLEN || (p->data[0] >> 4) != 4 ||
		    (size_t)(p->data[0] & 15) * 4 > p->len ||
		    (p->data[0] & 15) < 5) {
			err = -EINVAL;
			goto fail;
		}
		dst = rd32(p->data + 16);
	}
	if (o->rt && !o->hdrincl) {
		rr = *o->rt;
	} else {
		err = ip_route_out(vi, dst, o->ifp, &rr);
		if (err)
			goto fail;
	}
	if (!o->bcast_ok && rr.bcast && rr.ifp->type != VIF_LOOPBACK) {
		err = -EACCES;
		goto fail;
	}
	if (o->hdrincl) {
		hdr = p->data;
		wr16(hdr + 2, (uint16_t)p->len);
		if (rd16(hdr + 4) == 0)
			wr16(hdr + 4, ip->next_id++);
		if (rd32(hdr + 12) == 0)
			wr32(hdr + 12, rr.src);
		wr16(hdr + 10, 0);
		wr16(hdr + 10, cksum_finish(cksum_partial(hdr, (size_t)(hdr[0] & 15) * 4, 0)));
	} else {
		if (p->len + IPV4_HLEN > 0xffff) {
			err = -EMSGSIZE;
			goto fail;
		}
		h = (struct ipv4_repr){
			.hlen = IPV4_HLEN,
			.tos = o->tos,
			.total_len = (uint16_t)(p->len + IPV4_HLEN),
			.id = ip->next_id++,
			.df = o->df,
			.ttl = o->ttl ? o->ttl : (uint8_t)ip->default_ttl,
			.proto = o->proto,
			.src = o->src ? o->src : rr.src,
			.dst = dst,
		};
		hdr = pkt_push(p, IPV4_HLEN);
		if (!hdr) {
			err = -ENOBUFS;
			goto fail;
		}
		ipv4_emit(&h, hdr);
	}
	/* 127/8 never leaves lo0 (RFC 1122 3.2.1.3; Linux says EINVAL). */
	if (rr.ifp->type != VIF_LOOPBACK && IN_LOOPBACK_H(rd32(p->data + 12))) {
		err = -EINVAL;
		goto fail;
	}
	ip->st.localout++;
	return ip_output_ifp(vi, rr.ifp, p, rr.nh, rr.mtu);
fail:
	ip->st.odropped++;
	pkt_free(vi->world, p);
	return err;
}

void ip_csum_fill(uint8_t *buf, size_t len)
{
	struct ipv4_repr h;

	if (ipv4_parse(buf, len, &h, false) != WIRE_OK || h.mf ||
	    h.frag_off || h.proto != IPPROTO_TCP_ ||
	    h.total_len < h.hlen + TCP_HLEN)
		return;
	tcp4_fill_cksum(buf + h.hlen, (size_t)h.total_len - h.hlen, h.src,
			h.dst);
}

void ether_csum_fill(uint8_t *frame, size_t len)
{
	if (len < ETH_HLEN || rd16(frame + 12) != ETHERTYPE_IPV4)
		return;
	ip_csum_fill(frame + ETH_HLEN, len - ETH_HLEN);
}
