/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Interface addresses (RFC 1122 3.3.1, RFC 950 for subnets) and the kernel
 * routes derived from them: for each address a local route (its /32 in the
 * local table), a connected route for its prefix in the main table, and a
 * directed-broadcast route for prefixes up to /30. Several interfaces may
 * hold addresses in one prefix; the derived routes are recomputed from all
 * remaining addresses when one goes, so they always reflect the set.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netinet/inet.h"

bool vaddr_eq(const struct vaddr *a, const struct vaddr *b)
{
	if (a->family != b->family)
		return false;
	if (a->family == AF_INET)
		return a->v4 == b->v4;
	if (a->family == AF_INET6)
		return memcmp(a->v6, b->v6, 16) == 0;
	return true;
}

int vaddr_parse(const char *s, struct vaddr *out)
{
	struct in_addr a4;

	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, s, &a4) == 1) {
		out->family = AF_INET;
		out->v4 = ntohl(a4.s_addr);
		return 0;
	}
	if (inet_pton(AF_INET6, s, out->v6) == 1) {
		out->family = AF_INET6;
		return 0;
	}
	return -EINVAL;
}

int vaddr_parse_prefix(const char *s, struct vaddr *out, unsigned *plen)
{
	char buf[64];
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	unsigned max;
	char *end;
	unsigned long v;

	if (n >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (vaddr_parse(buf, out))
		return -EINVAL;
	max = out->family == AF_INET ? 32 : 128;
	if (!slash) {
		*plen = max;
		return 0;
	}
	if (!slash[1])
		return -EINVAL;
	v = strtoul(slash + 1, &end, 10);
	if (*end || v > max)
		return -EINVAL;
	*plen = (unsigned)v;
	return 0;
}

char *vaddr_format(const struct vaddr *a, char *buf, size_t len)
{
	if (a->family == AF_INET) {
		struct in_addr a4 = {htonl(a->v4)};

		inet_ntop(AF_INET, &a4, buf, (socklen_t)len);
	} else if (a->family == AF_INET6) {
		inet_ntop(AF_INET6, a->v6, buf, (socklen_t)len);
	} else {
		snprintf(buf, len, "none");
	}
	return buf;
}

static inline uint32_t mask4(unsigned plen)
{
	return plen ? ~0u << (32 - plen) : 0;
}

struct ifaddr *if_first_addr4(const struct ifnet *ifp)
{
	for (struct ifaddr *ia = ifp->addrs; ia; ia = ia->next)
		if (ia->addr.family == AF_INET)
			return ia;
	return NULL;
}

uint32_t in_src_on_ifp(const struct ifnet *ifp, uint32_t to)
{
	uint32_t first = 0;

	for (const struct ifaddr *ia = ifp->addrs; ia; ia = ia->next) {
		if (ia->addr.family != AF_INET)
			continue;
		if (((ia->addr.v4 ^ to) & mask4(ia->plen)) == 0)
			return ia->addr.v4;
		if (!first)
			first = ia->addr.v4;
	}
	return first;
}

/* Add the routes one address implies, where absent. */
static void in_add_kernel_routes(struct vimage *vi, const struct ifaddr *ia)
{
	uint32_t a = ia->addr.v4, m = mask4(ia->plen);
	bool lo = ia->ifp->type == VIF_LOOPBACK;
	struct vroute r = {
		/* On lo0 the whole prefix is ours, as Linux's "local
		 * 127.0.0.0/8 dev lo": any 127.x address can be bound. */
		.dst = vaddr_v4(lo ? a & m : a),
		.plen = lo ? ia->plen : 32,
		.type = VRT_LOCAL,
		.proto = VRT_PROTO_KERNEL,
		.ifp = ia->ifp,
		.prefsrc = ia->addr,
	};

	fib_add(vi, &r, true, false);
	if (ia->plen < 32 && !lo) {
		r.dst = vaddr_v4(a & m);
		r.plen = ia->plen;
		r.type = VRT_UNICAST;
		fib_add(vi, &r, false, false);
	}
	if (ia->bcast) {
		r.dst = vaddr_v4(ia->bcast);
		r.plen = 32;
		r.type = VRT_BROADCAST;
		fib_add(vi, &r, true, false);
	}
}

static void in_sync_kernel_routes(struct vimage *vi, const struct ifaddr *gone)
{
	uint32_t a = gone->addr.v4, m = mask4(gone->plen);
	bool lo = gone->ifp->type == VIF_LOOPBACK;
	struct vaddr d;

	d = vaddr_v4(lo ? a & m : a);
	fib_del(vi, &d, lo ? gone->plen : 32, true, NULL);
	if (gone->plen < 32 && !lo) {
		d = vaddr_v4(a & m);
		fib_del(vi, &d, gone->plen, false, gone->ifp);
	}
	if (gone->bcast) {
		d = vaddr_v4(gone->bcast);
		fib_del(vi, &d, 32, true, NULL);
	}
	/* Another address may imply the same routes: re-add from those only.
	 * A dying vimage needs none (its tables are flushed next). */
	if (vi->dying)
		return;
	for (struct ifnet *ifp = vif_first(vi); ifp; ifp = vif_next(ifp)) {
		for (struct ifaddr *ia = ifp->addrs; ia; ia = ia->next) {
			if (ia == gone || ia->addr.family != AF_INET)
				continue;
			if (ia->addr.v4 == a ||
			    (ia->plen == gone->plen && ((ia->addr.v4 ^ a) & m) == 0) ||
			    (gone->bcast && ia->bcast == gone->bcast))
				in_add_kernel_routes(vi, ia);
		}
	}
}

int vif_addr_add(struct ifnet *ifp, const struct vaddr *addr, unsigned plen)
{
	struct ifaddr *ia, **tail;

	if (addr->family == AF_INET6)
		return -EAFNOSUPPORT; /* IPv6 arrives with its own issue */
	if (addr->family != AF_INET || plen > 32)
		return -EINVAL;
	if (addr->v4 == 0 || addr->v4 == INADDR_BCAST_H ||
	    IN_MULTICAST_H(addr->v4))
		return -EINVAL;
	for (tail = &ifp->addrs; *tail; tail = &(*tail)->next)
		if ((*tail)->addr.family == AF_INET && (*tail)->addr.v4 == addr->v4)
			return -EEXIST;
	ia = calloc(1, sizeof(*ia));
	if (!ia)
		return -ENOMEM;
	ia->ifp = ifp;
	ia->addr = *addr;
	ia->plen = (uint8_t)plen;
	if (plen <= 30 && ifp->type != VIF_LOOPBACK)
		ia->bcast = addr->v4 | ~mask4(plen);
	*tail = ia;
	in_add_kernel_routes(ifp->vi, ia);
	if ((ifp->flags & VIFF_UP) && ifp->type != VIF_LOOPBACK)
		arp_announce(ifp, addr->v4);
	return 0;
}

static void in_addr_unlink(struct ifnet *ifp, struct ifaddr **pp)
{
	struct ifaddr *ia = *pp;

	*pp = ia->next;
	in_sync_kernel_routes(ifp->vi, ia);
	free(ia);
}

int vif_addr_del(struct ifnet *ifp, const struct vaddr *addr, unsigned plen)
{
	for (struct ifaddr **pp = &ifp->addrs; *pp; pp = &(*pp)->next) {
		struct ifaddr *ia = *pp;

		if (vaddr_eq(&ia->addr, addr) && ia->plen == plen) {
			in_addr_unlink(ifp, pp);
			return 0;
		}
	}
	return -EADDRNOTAVAIL;
}

int in_addr_remove_all(struct ifnet *ifp)
{
	while (ifp->addrs)
		in_addr_unlink(ifp, &ifp->addrs);
	return 0;
}

int vif_addr_walk(struct ifnet *ifp,
		  int (*fn)(void *ctx, const struct vif_addr_info *a), void *ctx)
{
	for (struct ifaddr *ia = ifp->addrs; ia; ia = ia->next) {
		struct vif_addr_info info = {.addr = ia->addr, .plen = ia->plen};
		int r;

		if (ia->bcast)
			info.broadcast = vaddr_v4(ia->bcast);
		r = fn(ctx, &info);
		if (r)
			return r;
	}
	return 0;
}

int inet_pick_port(struct rng *rng, const struct ephemeral_pick *ep,
		   uint32_t laddr, uint32_t faddr, uint16_t fport,
		   uint16_t *out)
{
	int64_t lo = ep->lo < ep->hi ? ep->lo : ep->hi;
	int64_t hi = ep->lo < ep->hi ? ep->hi : ep->lo;
	uint32_t num = (uint32_t)(hi - lo + 1);
	uint32_t offset = (uint32_t)(mix64(ep->key ^
					   mix64((uint64_t)laddr << 32 | faddr) ^
					   fport) >>
				     32);

	for (uint32_t i = 0; i < num; i++) {
		uint16_t port =
		    (uint16_t)(lo + (offset + *ep->counter + i) % num);

		if (!ep->busy(ep->ctx, port)) {
			*ep->counter += i + 1 + (uint32_t)rng_below(rng, ep->step);
			*out = port;
			return 0;
		}
	}
	*ep->counter += num;
	return -1;
}
