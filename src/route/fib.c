/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The forwarding tables of a vimage, after Linux's split: a local table
 * (addresses of this vimage and directed broadcasts) consulted first, and the
 * main table (connected, static, default, blackhole/unreachable/prohibit
 * routes). Both are longest-prefix-match structures (lpm.c) created on first
 * use, so a vimage that never routes pays for none.
 *
 * Every change is announced to subscribers (a routing daemon's view).
 * RFC 1812 5.2.4 for the lookup rules.
 */
#include <stdlib.h>
#include <string.h>

#include "net/if_var.h"
#include "route/fib.h"

static void key_of(const struct vaddr *a, uint8_t key[16])
{
	if (a->family == AF_INET) {
		key[0] = (uint8_t)(a->v4 >> 24);
		key[1] = (uint8_t)(a->v4 >> 16);
		key[2] = (uint8_t)(a->v4 >> 8);
		key[3] = (uint8_t)a->v4;
	} else {
		memcpy(key, a->v6, 16);
	}
}

static struct lpm **table_of(struct route_state *rs, int family, bool local)
{
	if (family == AF_INET)
		return local ? &rs->local4 : &rs->main4;
	if (family == AF_INET6)
		return local ? &rs->local6 : &rs->main6;
	return NULL;
}

static unsigned family_bits(int family)
{
	return family == AF_INET ? 32 : 128;
}

static void vaddr_mask(struct vaddr *a, unsigned plen)
{
	if (a->family == AF_INET) {
		a->v4 &= plen ? ~0u << (32 - plen) : 0;
		return;
	}
	for (unsigned i = 0; i < 16; i++) {
		unsigned keep = plen > i * 8 ? plen - i * 8 : 0;

		if (keep < 8)
			a->v6[i] &= (uint8_t)(0xff00 >> keep);
	}
}

static void fib_notify(struct route_state *rs, enum vroute_event ev,
		       const struct vroute *r)
{
	for (struct vroute_sub *s = rs->subs; s; s = s->next)
		s->fn(s->ctx, ev, r);
}

int fib_add(struct vimage *vi, const struct vroute *r, bool local, bool replace)
{
	struct route_state *rs = vimage_route(vi);
	struct lpm **t = table_of(rs, r->dst.family, local);
	struct rtentry *re, *old;
	uint8_t key[16];
	int err;

	if (!t || r->plen > family_bits(r->dst.family))
		return -EINVAL;
	if (!*t) {
		*t = lpm_create(family_bits(r->dst.family));
		if (!*t)
			return -ENOMEM;
	}
	re = malloc(sizeof(*re));
	if (!re)
		return -ENOMEM;
	re->r = *r;
	re->local = local;
	vaddr_mask(&re->r.dst, r->plen);
	key_of(&re->r.dst, key);
	old = (struct rtentry *)lpm_get(*t, key, r->plen);
	if (old && !replace) {
		free(re);
		return -EEXIST;
	}
	if (old) {
		err = lpm_replace(*t, key, r->plen, (uintptr_t)re);
		if (!err) {
			list_remove(&old->iflink);
			fib_notify(rs, VROUTE_DELETED, &old->r);
			free(old);
			vi->world->routes_live--;
		}
	} else {
		err = lpm_insert(*t, key, r->plen, (uintptr_t)re);
	}
	if (err) {
		free(re);
		return err;
	}
	if (re->r.ifp)
		list_insert_tail(&re->r.ifp->routes, &re->iflink);
	else
		list_init(&re->iflink);
	rs->count++;
	if (old)
		rs->count--;
	rs->changes++;
	vi->world->routes_live++;
	fib_notify(rs, VROUTE_ADDED, &re->r);
	return 0;
}

int fib_del(struct vimage *vi, const struct vaddr *dst, unsigned plen,
	    bool local, struct ifnet *only_ifp)
{
	struct route_state *rs = vimage_route(vi);
	struct lpm **t = table_of(rs, dst->family, local);
	struct vaddr d = *dst;
	struct rtentry *re;
	uint8_t key[16];

	if (!t || plen > family_bits(dst->family))
		return -EINVAL;
	if (!*t)
		return -ESRCH;
	vaddr_mask(&d, plen);
	key_of(&d, key);
	re = (struct rtentry *)lpm_get(*t, key, plen);
	if (!re || (only_ifp && re->r.ifp != only_ifp))
		return -ESRCH;
	lpm_delete(*t, key, plen, NULL);
	list_remove(&re->iflink);
	rs->count--;
	rs->changes++;
	vi->world->routes_live--;
	fib_notify(rs, VROUTE_DELETED, &re->r);
	free(re);
	return 0;
}

static void fib_purge_all(struct vimage *vi);

struct purge_ctx {
	struct rtentry **v;
	size_t n, cap;
	bool nomem;
};

static int purge_collect(void *ctx, const uint8_t *key, unsigned plen,
			 uintptr_t value)
{
	struct purge_ctx *pc = ctx;
	struct rtentry *re = (struct rtentry *)value;

	if (pc->n == pc->cap) {
		size_t cap = pc->cap ? pc->cap * 2 : 16;
		struct rtentry **v = realloc(pc->v, cap * sizeof(*v));

		if (!v) {
			pc->nomem = true;
			return 1;
		}
		pc->v = v;
		pc->cap = cap;
	}
	pc->v[pc->n++] = re;
	return 0;
}

void fib_purge_ifp(struct vimage *vi, struct ifnet *ifp)
{
	if (ifp) {
		while (!list_empty(&ifp->routes)) {
			struct rtentry *re =
				container_of(ifp->routes.next, struct rtentry, iflink);

			fib_del(vi, &re->r.dst, re->r.plen, re->local, NULL);
		}
		return;
	}
	fib_purge_all(vi);
}

static void fib_purge_all(struct vimage *vi)
{
	struct route_state *rs = vimage_route(vi);
	struct lpm *tables[4] = {rs->local4, rs->main4, rs->local6, rs->main6};
	const bool local[4] = {true, false, true, false};

	for (int i = 0; i < 4; i++) {
		struct purge_ctx pc = {0};

		if (!tables[i])
			continue;
		/* Collect first: the table must not change during a walk.
		 * Out of memory mid-walk: delete what we have and go again. */
		do {
			pc.n = 0;
			pc.nomem = false;
			lpm_walk(tables[i], purge_collect, &pc);
			for (size_t k = 0; k < pc.n; k++)
				fib_del(vi, &pc.v[k]->r.dst, pc.v[k]->r.plen,
					local[i], NULL);
		} while (pc.nomem && pc.n);
		free(pc.v);
	}
}

/* ---- the public API ---------------------------------------------------------- */
static bool prefix_has_host_bits(const struct vaddr *a, unsigned plen)
{
	struct vaddr m = *a;

	vaddr_mask(&m, plen);
	return !vaddr_eq(&m, a);
}

static int vroute_check(struct vimage *vi, const struct vroute *in,
			struct vroute *out)
{
	struct route_state *rs = vimage_route(vi);

	*out = *in;
	if (in->dst.family != AF_INET && in->dst.family != AF_INET6)
		return -EAFNOSUPPORT;
	if (in->dst.family == AF_INET6)
		return -EAFNOSUPPORT; /* IPv6 forwarding arrives later */
	if (in->plen > 32 || prefix_has_host_bits(&in->dst, in->plen))
		return -EINVAL;
	if (in->ifp && in->ifp->vi != vi)
		return -ENODEV;
	if (!out->proto)
		out->proto = VRT_PROTO_BOOT;
	switch (in->type) {
	case VRT_BLACKHOLE:
	case VRT_UNREACHABLE:
	case VRT_PROHIBIT:
		out->gw.family = 0;
		return 0;
	case VRT_UNICAST:
		break;
	default:
		return -EINVAL;
	}
	if (in->gw.family) {
		struct rtentry *via;

		if (in->gw.family != AF_INET)
			return -EINVAL;
		/* The gateway must be on a connected network (RFC 1812). */
		via = fib4_lookup_main(rs, in->gw.v4);
		if (!via || via->r.gw.family || via->r.type != VRT_UNICAST ||
		    !via->r.ifp)
			return -ENETUNREACH;
		if (in->ifp && in->ifp != via->r.ifp)
			return -ENETUNREACH;
		out->ifp = via->r.ifp;
		return 0;
	}
	return in->ifp ? 0 : -EINVAL;
}

int vroute_add(struct vimage *vi, const struct vroute *r)
{
	struct vroute c;
	int err = vroute_check(vi, r, &c);

	return err ? err : fib_add(vi, &c, false, false);
}

int vroute_replace(struct vimage *vi, const struct vroute *r)
{
	struct vroute c;
	int err = vroute_check(vi, r, &c);

	return err ? err : fib_add(vi, &c, false, true);
}

int vroute_del(struct vimage *vi, const struct vaddr *dst, unsigned plen)
{
	return fib_del(vi, dst, plen, false, NULL);
}

int vroute_get(struct vimage *vi, const struct vaddr *dst, struct vroute *r)
{
	struct rtentry *re;

	if (dst->family != AF_INET)
		return -EAFNOSUPPORT;
	re = fib4_lookup(vimage_route(vi), dst->v4);
	if (!re)
		return -ENETUNREACH;
	*r = re->r;
	return 0;
}

struct walk_ctx {
	int (*fn)(void *ctx, const struct vroute *r);
	void *ctx;
};

static int walk_one(void *ctx, const uint8_t *key, unsigned plen,
		    uintptr_t value)
{
	struct walk_ctx *wc = ctx;

	return wc->fn(wc->ctx, &((struct rtentry *)value)->r);
}

int vroute_walk(struct vimage *vi, int family, bool local,
		int (*fn)(void *ctx, const struct vroute *r), void *ctx)
{
	struct lpm **t = table_of(vimage_route(vi), family, local);
	struct walk_ctx wc = {fn, ctx};

	if (!t)
		return -EAFNOSUPPORT;
	return *t ? lpm_walk(*t, walk_one, &wc) : 0;
}

int vroute_subscribe(struct vimage *vi,
		     void (*fn)(void *ctx, enum vroute_event ev,
				const struct vroute *r),
		     void *ctx, struct vroute_sub **out)
{
	struct route_state *rs = vimage_route(vi);
	struct vroute_sub *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->fn = fn;
	s->ctx = ctx;
	s->next = rs->subs;
	rs->subs = s;
	if (out)
		*out = s;
	return 0;
}

void vroute_unsubscribe(struct vimage *vi, struct vroute_sub *sub)
{
	struct route_state *rs = vimage_route(vi);

	for (struct vroute_sub **pp = &rs->subs; *pp; pp = &(*pp)->next) {
		if (*pp == sub) {
			*pp = sub->next;
			free(sub);
			return;
		}
	}
}

/* ---- the module -------------------------------------------------------------- */
static int route_init(struct vimage *vi, void *state)
{
	return 0;
}

static void route_destroy(struct vimage *vi, void *state)
{
	struct route_state *rs = state;

	fib_purge_ifp(vi, NULL);
	while (rs->subs) {
		struct vroute_sub *s = rs->subs;

		rs->subs = s->next;
		free(s);
	}
	lpm_destroy(rs->local4);
	lpm_destroy(rs->main4);
	lpm_destroy(rs->local6);
	lpm_destroy(rs->main6);
}

static const struct vstat route_stats[] = {
	{"route.count", offsetof(struct route_state, count)},
	{"route.changes", offsetof(struct route_state, changes)},
};

const struct vmodule route_module = {
	.name = "route",
	.id = VMOD_ROUTE,
	.size = sizeof(struct route_state),
	.init = route_init,
	.destroy = route_destroy,
	.stats = route_stats,
	.nstats = ARRAY_SIZE(route_stats),
};
