/* SPDX-License-Identifier: BSD-2-Clause */
/* The per-vimage forwarding tables (internal). */
#ifndef VIMAGE_FIB_H
#define VIMAGE_FIB_H

#include "core/kern.h"
#include "route/lpm.h"

struct rtentry {
	struct vroute r;
	struct list iflink; /* in r.ifp->routes, so an interface's routes go
			       without a table walk */
	bool local;         /* in the local table */
};

struct vroute_sub {
	struct vroute_sub *next;
	void (*fn)(void *ctx, enum vroute_event ev, const struct vroute *r);
	void *ctx;
};

struct route_state {
	struct lpm *main4, *local4, *main6, *local6;
	struct vroute_sub *subs;
	uint64_t count;
	uint64_t changes;
};

static inline struct route_state *vimage_route(const struct vimage *vi)
{
	return vimage_state(vi, VMOD_ROUTE);
}

extern const struct vmodule route_module;

/* The route the forwarding path uses for an IPv4 destination (host order):
 * the local table first, then the main table. NULL when none. */
static inline struct rtentry *fib4_lookup(const struct route_state *rs,
					  uint32_t dst)
{
	uintptr_t v = 0;

	if (rs->local4)
		v = lpm_lookup4(rs->local4, dst);
	if (!v && rs->main4)
		v = lpm_lookup4(rs->main4, dst);
	return (struct rtentry *)v;
}
/* Main table only. */
static inline struct rtentry *fib4_lookup_main(const struct route_state *rs,
					       uint32_t dst)
{
	return rs->main4 ? (struct rtentry *)lpm_lookup4(rs->main4, dst) : NULL;
}
/* Add/delete in the local (local=true) or main table; kernel-internal
 * variants used by address configuration. */
int fib_add(struct vimage *vi, const struct vroute *r, bool local, bool replace);
int fib_del(struct vimage *vi, const struct vaddr *dst, unsigned plen,
	    bool local, struct ifnet *only_ifp);
/* Remove every route through ifp (it is going away or moving); NULL: every
 * route of the vimage. */
void fib_purge_ifp(struct vimage *vi, struct ifnet *ifp);

#endif
