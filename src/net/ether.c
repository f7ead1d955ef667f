/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Ethernet II framing (RFC 894): demultiplex received frames by ethertype,
 * and prepend headers on the way out. Frames not for us (another unicast
 * address, while not promiscuous) are dropped here, as a NIC filter would.
 */
#include <string.h>

#include "net/if_var.h"
#include "netinet/inet.h"

void ether_input(struct ifnet *ifp, struct pkt *p)
{
	struct world *w = ifp->vi->world;
	struct eth_repr eh;

	if (eth_parse(p->data, p->len, &eh) != 0) {
		ifp->st.ierrors++;
		goto drop;
	}
	if (eth_is_multicast(eh.dst)) {
		p->flags |= eth_is_broadcast(eh.dst) ? PKT_BCAST : PKT_MCAST;
		ifp->st.imcasts++;
	} else if (ifp->type != VIF_LOOPBACK && memcmp(eh.dst, ifp->mac, 6) != 0 &&
		   !(ifp->flags & VIFF_PROMISC)) {
		ifp->st.idrops++;
		goto drop;
	}
	pkt_pull(p, ETH_HLEN);
	switch (eh.ethertype) {
	case ETHERTYPE_IPV4:
		ip_input(ifp, p);
		return;
	case ETHERTYPE_ARP:
		arp_input(ifp, p);
		return;
	default:
		/* IPv6 and others: not handled yet, counted as unknown. */
		ifp->st.idrops++;
		goto drop;
	}
drop:
	pkt_free(w, p);
}

void ether_send(struct ifnet *ifp, struct pkt *p, const uint8_t dst[6],
		uint16_t ethertype)
{
	struct eth_repr eh;
	uint8_t *h = pkt_push(p, ETH_HLEN);

	if (unlikely(!h)) {
		ifp->st.oerrors++;
		pkt_free(ifp->vi->world, p);
		return;
	}
	memcpy(eh.dst, dst, 6);
	memcpy(eh.src, ifp->mac, 6);
	eh.ethertype = ethertype;
	eth_emit(&eh, h);
	if_transmit(ifp, p);
}
