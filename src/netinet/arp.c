/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ARP: the IPv4 neighbour cache of a vimage (RFC 826, RFC 1122 2.3.2.1,
 * RFC 5227 for announcements).
 *
 * Entries are kept in a hash table that is allocated on first use and grows
 * with the load, keyed by (interface, address). An unresolved entry holds a
 * bounded queue of packets (maxhold) and retransmits its request every
 * retrans_ms, maxtries times; then the held packets are dropped with ICMP
 * host unreachable to their sources and the entry stays FAILED for down_s so
 * that a dead neighbour is not asked for every packet. A resolved entry lives
 * keep_s and is then removed (re-resolved on next use). RFC 826's merge rule:
 * a packet from a known sender refreshes its entry whoever it was for; a new
 * entry is created only when we are the target.
 */
#include <stdlib.h>
#include <string.h>

#include "netinet/inet.h"

static const uint8_t eth_bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

static uint32_t neigh_hash(const struct ifnet *ifp, uint32_t ip)
{
	uint64_t h = ((uint64_t)ip * 0x9e3779b97f4a7c15ull) ^
		     ((uintptr_t)ifp * 0xc2b2ae3d27d4eb4full);

	return (uint32_t)(h >> 32);
}

static struct neigh *neigh_find(struct arp_state *as, const struct ifnet *ifp,
				uint32_t ip)
{
	struct neigh *n;

	if (!as->tab)
		return NULL;
	n = as->tab[neigh_hash(ifp, ip) & (as->cap - 1)];
	while (n && !(n->ip == ip && n->ifp == ifp))
		n = n->hnext;
	return n;
}

static int neigh_grow(struct arp_state *as)
{
	uint32_t cap = as->cap ? as->cap * 2 : 8;
	struct neigh **t = calloc(cap, sizeof(*t));

	if (!t)
		return -ENOMEM;
	for (uint32_t i = 0; i < as->cap; i++) {
		struct neigh *n = as->tab[i];

		while (n) {
			struct neigh *next = n->hnext;
			uint32_t b = neigh_hash(n->ifp, n->ip) & (cap - 1);

			n->hnext = t[b];
			t[b] = n;
			n = next;
		}
	}
	free(as->tab);
	as->tab = t;
	as->cap = cap;
	return 0;
}

static void neigh_timer(struct world *w, struct timer *t);

static struct neigh *neigh_create(struct vimage *vi, struct ifnet *ifp,
				  uint32_t ip)
{
	struct arp_state *as = vimage_arp(vi);
	struct neigh *n;
	uint32_t b;

	if (as->count + 1 > as->cap && neigh_grow(as))
		return NULL;
	n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	n->ifp = ifp;
	n->ip = ip;
	n->vi = vi;
	timer_init(&n->timer, neigh_timer);
	pktq_init(&n->hold);
	b = neigh_hash(ifp, ip) & (as->cap - 1);
	n->hnext = as->tab[b];
	as->tab[b] = n;
	as->count++;
	vi->world->neigh_live++;
	return n;
}

static void neigh_free(struct vimage *vi, struct neigh *n)
{
	struct arp_state *as = vimage_arp(vi);
	struct neigh **pp = &as->tab[neigh_hash(n->ifp, n->ip) & (as->cap - 1)];

	while (*pp != n)
		pp = &(*pp)->hnext;
	*pp = n->hnext;
	timer_cancel(vi->world, &n->timer);
	as->st.dropped_unresolved += n->hold.count;
	pktq_purge(vi->world, &n->hold);
	as->count--;
	vi->world->neigh_live--;
	free(n);
}

static void arp_send(struct ifnet *ifp, uint16_t op, const uint8_t *tha,
		     uint32_t tpa, uint32_t spa, const uint8_t *eth_dst)
{
	struct world *w = ifp->vi->world;
	struct arp_state *as = vimage_arp(ifp->vi);
	struct arp_repr ar = {.op = op, .spa = spa, .tpa = tpa};
	struct pkt *p = pkt_alloc(w, PKT_HEADROOM, ETH_MIN_FRAME);

	if (!p)
		return;
	memcpy(ar.sha, ifp->mac, 6);
	if (tha)
		memcpy(ar.tha, tha, 6);
	arp_emit(&ar, pkt_put(p, ARP_LEN));
	/* Pad to the Ethernet minimum, as a NIC would. */
	memset(pkt_put(p, ETH_MIN_FRAME - ETH_HLEN - ARP_LEN), 0,
	       ETH_MIN_FRAME - ETH_HLEN - ARP_LEN);
	if (op == ARP_OP_REQUEST)
		as->st.tx_requests++;
	else
		as->st.tx_replies++;
	ether_send(ifp, p, eth_dst, ETHERTYPE_ARP);
}

static void arp_request(struct neigh *n)
{
	struct arp_state *as = vimage_arp(n->vi);

	n->tries++;
	arp_send(n->ifp, ARP_OP_REQUEST, NULL, n->ip,
		 in_src_on_ifp(n->ifp, n->ip), eth_bcast);
	timer_arm(n->vi->world, &n->timer,
		  n->vi->world->now + (uint64_t)as->retrans_ms * NSEC_PER_MSEC);
}

static void neigh_fail(struct neigh *n)
{
	struct vimage *vi = n->vi;
	struct arp_state *as = vimage_arp(vi);
	struct pkt *p;

	as->st.timeouts++;
	/* RFC 1122 2.3.2.2: tell the sources their packets died here. */
	while ((p = pktq_pop(&n->hold))) {
		as->st.dropped_unresolved++;
		icmp_error(vi, p, ICMP_UNREACH, ICMP_UNREACH_HOST, 0);
		pkt_free(vi->world, p);
	}
	n->state = VNEIGH_FAILED;
	n->expires = vi->world->now + (uint64_t)as->down_s * NSEC_PER_SEC;
	timer_arm(vi->world, &n->timer, n->expires);
}

static void neigh_timer(struct world *w, struct timer *t)
{
	struct neigh *n = container_of(t, struct neigh, timer);
	struct arp_state *as = vimage_arp(n->vi);

	switch (n->state) {
	case VNEIGH_INCOMPLETE:
		if (n->tries >= as->maxtries)
			neigh_fail(n);
		else
			arp_request(n);
		return;
	default:
		vlog(n->vi, VLOG_DEBUG, "arp: entry for %u.%u.%u.%u expired",
		     n->ip >> 24, (n->ip >> 16) & 255, (n->ip >> 8) & 255,
		     n->ip & 255);
		neigh_free(n->vi, n);
		return;
	}
}

static void neigh_resolved(struct neigh *n, const uint8_t *mac)
{
	struct world *w = n->vi->world;
	struct arp_state *as = vimage_arp(n->vi);
	struct pkt *p;

	if (n->state == VNEIGH_PERMANENT)
		return;
	if (n->state != VNEIGH_REACHABLE)
		as->st.resolved++;
	memcpy(n->mac, mac, 6);
	n->state = VNEIGH_REACHABLE;
	n->tries = 0;
	n->expires = w->now + (uint64_t)as->keep_s * NSEC_PER_SEC;
	timer_arm(w, &n->timer, n->expires);
	while ((p = pktq_pop(&n->hold)))
		ether_send(n->ifp, p, n->mac, ETHERTYPE_IPV4);
}

void arp_output(struct ifnet *ifp, struct pkt *p, uint32_t nh)
{
	struct vimage *vi = ifp->vi;
	struct arp_state *as = vimage_arp(vi);
	struct neigh *n = neigh_find(as, ifp, nh);

	if (likely(n && (n->state == VNEIGH_REACHABLE ||
			 n->state == VNEIGH_PERMANENT))) {
		ether_send(ifp, p, n->mac, ETHERTYPE_IPV4);
		return;
	}
	if (!n) {
		n = neigh_create(vi, ifp, nh);
		if (!n)
			goto drop;
		n->state = VNEIGH_INCOMPLETE;
		pktq_push(&n->hold, p);
		arp_request(n);
		return;
	}
	if (n->state == VNEIGH_FAILED)
		goto drop;
	/* INCOMPLETE: hold, dropping the oldest beyond the bound. */
	if (n->hold.count >= (uint32_t)as->maxhold) {
		as->st.hold_overflow++;
		pkt_free(vi->world, pktq_pop(&n->hold));
	}
	pktq_push(&n->hold, p);
	return;
drop:
	as->st.dropped_unresolved++;
	pkt_free(vi->world, p);
}

void arp_input(struct ifnet *ifp, struct pkt *p)
{
	struct vimage *vi = ifp->vi;
	struct arp_state *as = vimage_arp(vi);
	struct arp_repr ar;
	struct rtentry *re;
	struct neigh *n;
	bool for_us;

	if (arp_parse(p->data, p->len, &ar) != 0 || (ifp->flags & VIFF_NOARP)) {
		as->st.rx_bad++;
		goto drop;
	}
	if (ar.op == ARP_OP_REQUEST)
		as->st.rx_requests++;
	else
		as->st.rx_replies++;
	for_us = false;
	for (struct ifaddr *ia = ifp->addrs; ia; ia = ia->next)
		if (ia->addr.family == AF_INET && ia->addr.v4 == ar.tpa)
			for_us = true;
	/* RFC 5227 2.1.1: a probe (sender 0.0.0.0) for an address we hold
	 * gets an answer, so the prober backs off; we learn nothing from it. */
	if (ar.spa == 0 && ar.op == ARP_OP_REQUEST && for_us &&
	    !eth_is_multicast(ar.sha)) {
		arp_send(ifp, ARP_OP_REPLY, ar.sha, 0, ar.tpa, ar.sha);
		goto drop;
	}
	/* A sender claiming a broadcast/multicast MAC or our own address is
	 * bogus (RFC 1812 3.3.2, and address conflict detection of RFC 5227
	 * is left to the owner: we only refuse to learn it). */
	if (eth_is_multicast(ar.sha) || memcmp(ar.sha, ifp->mac, 6) == 0 ||
	    ar.spa == 0 || IN_MULTICAST_H(ar.spa) || ar.spa == INADDR_BCAST_H) {
		as->st.rx_bogus_source++;
		goto drop;
	}
	re = fib4_lookup(vimage_route(vi), ar.spa);
	if (re && re->r.type == VRT_LOCAL) { /* someone claims our address */
		as->st.rx_bogus_source++;
		goto drop;
	}
	n = neigh_find(as, ifp, ar.spa);
	if (n)
		neigh_resolved(n, ar.sha);
	else if (for_us && (n = neigh_create(vi, ifp, ar.spa)))
		neigh_resolved(n, ar.sha);
	if (for_us && ar.op == ARP_OP_REQUEST)
		arp_send(ifp, ARP_OP_REPLY, ar.sha, ar.spa, ar.tpa, ar.sha);
drop:
	pkt_free(vi->world, p);
}

void arp_announce(struct ifnet *ifp, uint32_t addr)
{
	struct arp_state *as = vimage_arp(ifp->vi);

	if (!(ifp->flags & VIFF_UP) || ifp->type == VIF_LOOPBACK ||
	    (ifp->flags & VIFF_NOARP))
		return;
	/* RFC 5227 2.3: an ARP request with sender and target both ours. */
	as->st.gratuitous_sent++;
	arp_send(ifp, ARP_OP_REQUEST, NULL, addr, addr, eth_bcast);
}

void arp_flush_ifp(struct vimage *vi, struct ifnet *ifp)
{
	struct arp_state *as = vimage_arp(vi);

	for (uint32_t i = 0; as->tab && i < as->cap; i++) {
		struct neigh *n = as->tab[i];

		while (n) {
			struct neigh *next = n->hnext;

			if (!ifp || n->ifp == ifp)
				neigh_free(vi, n);
			n = next;
		}
	}
}

void vneigh_flush(struct vimage *vi, struct ifnet *ifp)
{
	arp_flush_ifp(vi, ifp);
}

int vneigh_add_permanent(struct ifnet *ifp, const struct vaddr *addr,
			 const uint8_t mac[6])
{
	struct arp_state *as = vimage_arp(ifp->vi);
	struct neigh *n;
	struct pkt *p;

	if (addr->family != AF_INET)
		return -EAFNOSUPPORT;
	if (eth_is_multicast(mac))
		return -EINVAL;
	n = neigh_find(as, ifp, addr->v4);
	if (!n && !(n = neigh_create(ifp->vi, ifp, addr->v4)))
		return -ENOMEM;
	timer_cancel(ifp->vi->world, &n->timer);
	memcpy(n->mac, mac, 6);
	n->state = VNEIGH_PERMANENT;
	n->expires = 0;
	while ((p = pktq_pop(&n->hold)))
		ether_send(n->ifp, p, n->mac, ETHERTYPE_IPV4);
	return 0;
}

int vneigh_del(struct ifnet *ifp, const struct vaddr *addr)
{
	struct neigh *n;

	if (addr->family != AF_INET)
		return -EAFNOSUPPORT;
	n = neigh_find(vimage_arp(ifp->vi), ifp, addr->v4);
	if (!n)
		return -ENOENT;
	neigh_free(ifp->vi, n);
	return 0;
}

int vneigh_walk(struct vimage *vi,
		int (*fn)(void *ctx, const struct vneigh_info *n), void *ctx)
{
	struct arp_state *as = vimage_arp(vi);

	for (uint32_t i = 0; as->tab && i < as->cap; i++) {
		for (struct neigh *n = as->tab[i]; n; n = n->hnext) {
			struct vneigh_info info = {
				.addr = vaddr_v4(n->ip),
				.ifp = n->ifp,
				.state = (enum vneigh_state)n->state,
				.expires_ns = n->expires,
			};
			int r;

			memcpy(info.mac, n->mac, 6);
			r = fn(ctx, &info);
			if (r)
				return r;
		}
	}
	return 0;
}

static int arp_init(struct vimage *vi, void *state)
{
	struct arp_state *as = state;

	as->keep_s = 1200; /* FreeBSD's net.link.ether.inet.max_age */
	as->retrans_ms = 1000;
	as->maxtries = 5;
	as->maxhold = 128; /* Linux holds ~100 packets (unres_qlen) */
	as->down_s = 20;
	return 0;
}

static void arp_destroy(struct vimage *vi, void *state)
{
	struct arp_state *as = state;

	arp_flush_ifp(vi, NULL);
	free(as->tab);
	as->tab = NULL;
}

#define ARP_KNOB(n, f, lo, hi) {n, offsetof(struct arp_state, f), lo, hi}
static const struct vknob arp_knobs[] = {
	ARP_KNOB("net.link.ether.inet.max_age", keep_s, 1, 86400 * 7),
	ARP_KNOB("net.link.ether.inet.retrans_ms", retrans_ms, 10, 60000),
	ARP_KNOB("net.link.ether.inet.maxtries", maxtries, 1, 100),
	ARP_KNOB("net.link.ether.inet.maxhold", maxhold, 1, 1024),
	ARP_KNOB("net.link.ether.inet.down_s", down_s, 0, 3600),
};

#define ARP_STAT(n, f) {"arp." n, offsetof(struct arp_state, st.f)}
static const struct vstat arp_stats[] = {
	ARP_STAT("rx_requests", rx_requests),
	ARP_STAT("rx_replies", rx_replies),
	ARP_STAT("tx_requests", tx_requests),
	ARP_STAT("tx_replies", tx_replies),
	ARP_STAT("rx_bad", rx_bad),
	ARP_STAT("rx_bogus_source", rx_bogus_source),
	ARP_STAT("dropped_unresolved", dropped_unresolved),
	ARP_STAT("hold_overflow", hold_overflow),
	ARP_STAT("resolved", resolved),
	ARP_STAT("timeouts", timeouts),
	ARP_STAT("gratuitous_sent", gratuitous_sent),
};

const struct vmodule arp_module = {
	.name = "arp",
	.id = VMOD_ARP,
	.size = sizeof(struct arp_state),
	.init = arp_init,
	.destroy = arp_destroy,
	.knobs = arp_knobs,
	.nknobs = ARRAY_SIZE(arp_knobs),
	.stats = arp_stats,
	.nstats = ARRAY_SIZE(arp_stats),
};
