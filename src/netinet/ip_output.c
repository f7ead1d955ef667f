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

static bool is_bcast_on(const struct ifnet *ifp, uint32_t a)
{
	if (a == INADDR_BCAST_H)
		return true;
	for (struct ifaddr *ia = ifp->addrs; ia; ia = ia->next)
		if (ia->bcast && ia->bcast == a)
			return true;
	return false;
}

void ip_xmit_one(struct ifnet *ifp, struct pkt *p, uint32_t nh)
{
	if (ifp->type == VIF_LOOPBACK)
		ether_send(ifp, p, zero_mac, ETHERTYPE_IPV4);
	else if (is_bcast_on(ifp, nh))
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

/* A source address on ifp for next hop nh: one in nh's subnet, else the
 * first. 0 when the interface has none. */
static uint32_t src_on_ifp(const struct ifnet *ifp, uint32_t nh)
{
	struct ifaddr *first = NULL;

	for (struct ifaddr *ia = ifp->addrs; ia; ia = ia->next) {
		uint32_t m = ia->plen ? ~0u << (32 - ia->plen) : 0;

		if (ia->addr.family != AF_INET)
			continue;
		if (((ia->addr.v4 ^ nh) & m) == 0)
			return ia->addr.v4;
		if (!first)
			first = ia;
	}
	return first ? first->addr.v4 : 0;
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

struct ip_route_result {
	struct ifnet *ifp;
	uint32_t nh, src, mtu;
};

static int ip_route_out(struct vimage *vi, uint32_t dst, struct ifnet *force,
			struct ip_route_result *rr)
{
	struct if_state *is = vimage_if(vi);
	struct rtentry *re = fib4_lookup(vimage_route(vi), dst);

	rr->nh = dst;
	if (dst == INADDR_BCAST_H || (force && !re)) {
		/* Limited broadcast (or a bound device): out of the forced
		 * interface, else the default route's, on the link. */
		rr->ifp = force ? force : (re ? re->r.ifp : NULL);
		if (!rr->ifp)
			return -ENETUNREACH;
		rr->src = src_on_ifp(rr->ifp, dst);
		rr->mtu = rr->ifp->mtu;
		return 0;
	}
	if (!re)
		return -ENETUNREACH;
	switch (re->r.type) {
	case VRT_LOCAL:
		rr->ifp = is->lo;
		rr->src = dst;
		rr->mtu = is->lo->mtu;
		return 0;
	case VRT_BROADCAST:
	case VRT_UNICAST:
		break;
	case VRT_UNREACHABLE:
		return -EHOSTUNREACH;
	case VRT_PROHIBIT:
		return -EACCES;
	default: /* blackhole */
		return -EINVAL;
	}
	rr->ifp = force ? force : re->r.ifp;
	if (re->r.gw.family && !force)
		rr->nh = re->r.gw.v4;
	rr->src = re->r.prefsrc.family ? re->r.prefsrc.v4
				       : src_on_ifp(rr->ifp, rr->nh);
	rr->mtu = re->r.mtu ? re->r.mtu : rr->ifp->mtu;
	return 0;
}

int ip_select_src(struct vimage *vi, uint32_t dst, uint32_t *src)
{
	struct ip_route_result rr;
	int err = ip_route_out(vi, dst, NULL, &rr);

	if (err)
		return err;
	*src = rr.src ? rr.src : src_any(vi);
	return *src ? 0 : -EADDRNOTAVAIL;
}

int ip_output(struct vimage *vi, struct pkt *p, const struct ip_out *o)
{
	struct ip_state *ip = vimage_ip(vi);
	struct ip_route_result rr;
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
	err = ip_route_out(vi, dst, o->ifp, &rr);
	if (err)
		goto fail;
	if (!o->bcast_ok && is_bcast_on(rr.ifp, dst) &&
	    rr.ifp->type != VIF_LOOPBACK) {
		err = -EACCES;
		goto fail;
	}
	if (o->hdrincl) {
		hdr = p->data;
		wr16(hdr + 2, (uint16_t)p->len);
		if (rd16(hdr + 4) == 0)
			wr16(hdr + 4, ip->next_id++);
		if (rd32(hdr + 12) == 0)
			wr32(hdr + 12, rr.src ? rr.src : src_any(vi));
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
			.src = o->src ? o->src : (rr.src ? rr.src : src_any(vi)),
			.dst = dst,
		};
		if (!h.src && dst != INADDR_BCAST_H) {
			err = -EADDRNOTAVAIL;
			goto fail;
		}
		hdr = pkt_push(p, IPV4_HLEN);
		if (!hdr) {
			err = -ENOBUFS;
			goto fail;
		}
		ipv4_emit(&h, hdr);
	}
	ip->st.localout++;
	return ip_output_ifp(vi, rr.ifp, p, rr.nh, rr.mtu);
fail:
	ip->st.odropped++;
	pkt_free(vi->world, p);
	return err;
}
