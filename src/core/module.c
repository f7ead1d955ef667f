/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The module registry: the one place that lists the protocol modules, in the
 * spirit of FreeBSD's VNET_SYSINIT but as a plain table. The position in the
 * table is the init order (destroy runs in reverse):
 *
 *   route, arp, ip, icmp, udp, raw, tcp, socket: protocol state first
 *   (socket is destroyed before tcp, so closing its sockets can still
 *   reach the connection tables; tcp then frees the orphans);
 *   if last: creating lo0 and its addresses needs routes and ARP ready, and
 *   on destroy the interfaces must be detached (handed back or destroyed,
 *   their routes and neighbours removed) while those modules still exist.
 *
 * Also: the sysctl-like knobs and netstat-like counters each module declares.
 */
#include <string.h>

#include "kern.h"
#include "net/if_var.h"
#include "netinet/inet.h"
#include "netinet/tcp_var.h"
#include "route/fib.h"
#include "socket/socket_var.h"

const struct vmodule *const vmodule_table[VMOD_COUNT] = {
	&route_module, &arp_module, &ip_module,     &icmp_module,
	&udp_module,   &raw_module, &tcp_module,    &socket_module,
	&if_module,
};

/* The table is indexed by position; each module's id is its position. */
_Static_assert(VMOD_ROUTE == 0 && VMOD_ARP == 1 && VMOD_IP == 2 &&
		       VMOD_ICMP == 3 && VMOD_UDP == 4 && VMOD_RAW == 5 &&
		       VMOD_TCP == 6 && VMOD_SOCKET == 7 && VMOD_IF == 8,
	       "vmod_id order must match vmodule_table");

static const struct vknob *knob_find(struct vimage *vi, const char *name,
				     void **state)
{
	for (size_t i = 0; i < VMOD_COUNT; i++) {
		const struct vmodule *m = vmodule_table[i];

		for (size_t k = 0; k < m->nknobs; k++) {
			if (strcmp(m->knobs[k].name, name) == 0) {
				*state = vimage_state(vi, m->id);
				return &m->knobs[k];
			}
		}
	}
	return NULL;
}

int vimage_sysctl_get(struct vimage *vi, const char *name, int64_t *val)
{
	void *state;
	const struct vknob *k = knob_find(vi, name, &state);

	if (!k)
		return -ENOENT;
	memcpy(val, (char *)state + k->offset, sizeof(*val));
	return 0;
}

int vimage_sysctl_set(struct vimage *vi, const char *name, int64_t val)
{
	void *state;
	const struct vknob *k = knob_find(vi, name, &state);

	if (!k)
		return -ENOENT;
	if (val < k->min || val > k->max)
		return -EINVAL;
	memcpy((char *)state + k->offset, &val, sizeof(val));
	return 0;
}

int vimage_sysctl_walk(struct vimage *vi,
		       int (*fn)(void *ctx, const char *name, int64_t val),
		       void *ctx)
{
	for (size_t i = 0; i < VMOD_COUNT; i++) {
		const struct vmodule *m = vmodule_table[i];
		const char *state = vimage_state(vi, m->id);

		for (size_t k = 0; k < m->nknobs; k++) {
			int64_t v;
			int r;

			memcpy(&v, state + m->knobs[k].offset, sizeof(v));
			r = fn(ctx, m->knobs[k].name, v);
			if (r)
				return r;
		}
	}
	return 0;
}

int vimage_stats_walk(struct vimage *vi,
		      int (*fn)(void *ctx, const char *name, uint64_t val),
		      void *ctx)
{
	for (size_t i = 0; i < VMOD_COUNT; i++) {
		const struct vmodule *m = vmodule_table[i];
		const char *state = vimage_state(vi, m->id);

		for (size_t k = 0; k < m->nstats; k++) {
			uint64_t v;
			int r;

			memcpy(&v, state + m->stats[k].offset, sizeof(v));
			r = fn(ctx, m->stats[k].name, v);
			if (r)
				return r;
		}
	}
	return 0;
}

int vimage_stat_get(struct vimage *vi, const char *name, uint64_t *val)
{
	for (size_t i = 0; i < VMOD_COUNT; i++) {
		const struct vmodule *m = vmodule_table[i];

		for (size_t k = 0; k < m->nstats; k++) {
			if (strcmp(m->stats[k].name, name) == 0) {
				memcpy(val,
				       (char *)vimage_state(vi, m->id) +
					       m->stats[k].offset,
				       sizeof(*val));
				return 0;
			}
		}
	}
	return -ENOENT;
}
