/* SPDX-License-Identifier: BSD-2-Clause */
/* simnet: see simnet.h. Test code: it may allocate freely and print. */
#include "simnet.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct simnet *simnet_new(uint64_t seed)
{
	struct world_config cfg = {.seed = seed};
	struct simnet *sn = calloc(1, sizeof(*sn));

	if (!sn)
		return NULL;
	if (world_create(&cfg, &sn->w) != 0) {
		free(sn);
		return NULL;
	}
	return sn;
}

struct vimage *simnet_node(struct simnet *sn, const char *name)
{
	struct vimage *vi;

	if (sn->nnodes == SIMNET_MAX_NODES)
		return NULL;
	if (vimage_create(sn->w, name, &vi) != 0)
		return NULL;
	sn->node[sn->nnodes++] = vi;
	return vi;
}

static int simnet_addr(struct ifnet *ifp, const char *addr)
{
	struct vaddr a;
	unsigned plen;
	int err;

	if (!addr)
		return 0;
	err = vaddr_parse_prefix(addr, &a, &plen);
	return err ? err : vif_addr_add(ifp, &a, plen);
}

int simnet_link(struct simnet *sn, struct vimage *a, const char *ifa,
		const char *addr_a, struct vimage *b, const char *ifb,
		const char *addr_b)
{
	struct simnet_link *l;
	int err;

	if (sn->nlinks == SIMNET_MAX_LINKS)
		return -ENOSPC;
	l = &sn->link[sn->nlinks];
	err = vif_ve_create(a, ifa, b, ifb, &l->a, &l->b);
	if (err)
		return err;
	err = simnet_addr(l->a, addr_a);
	if (!err)
		err = simnet_addr(l->b, addr_b);
	if (!err)
		err = vif_set_up(l->a, true);
	if (!err)
		err = vif_set_up(l->b, true);
	if (err) {
		vif_destroy(l->a);
		return err;
	}
	return (int)sn->nlinks++;
}

struct simnet *simnet_pair(uint64_t seed)
{
	struct simnet *sn = simnet_new(seed);
	struct vimage *a, *b;

	if (!sn)
		return NULL;
	a = simnet_node(sn, "a");
	b = simnet_node(sn, "b");
	if (!a || !b ||
	    simnet_link(sn, a, "ve0", "10.0.0.1/24", b, "ve0", "10.0.0.2/24") <
		0) {
		simnet_free(sn);
		return NULL;
	}
	return sn;
}

int simnet_destroy_node(struct simnet *sn, struct vimage *vi)
{
	char name[VIMAGE_NAME_MAX + 2];
	size_t i, len;

	for (i = 0; i < sn->nnodes && sn->node[i] != vi; i++)
		;
	if (i == sn->nnodes)
		return -ENOENT;
	/* Forget it and its descendants ("name.*") while they still exist,
	 * then destroy (which takes the descendants along). */
	snprintf(name, sizeof(name), "%s.", vimage_name(vi));
	len = strlen(name);
	for (size_t j = 0; j < sn->nnodes;) {
		if (sn->node[j] == vi ||
		    strncmp(vimage_name(sn->node[j]), name, len) == 0) {
			memmove(&sn->node[j], &sn->node[j + 1],
				(sn->nnodes - j - 1) * sizeof(sn->node[0]));
			sn->nnodes--;
			continue;
		}
		j++;
	}
	return vimage_destroy(vi);
}

int simnet_route(struct vimage *vi, const char *prefix, const char *gw)
{
	struct vroute r = {.type = VRT_UNICAST};
	int err;

	err = vaddr_parse_prefix(prefix, &r.dst, &r.plen);
	if (!err && gw)
		err = vaddr_parse(gw, &r.gw);
	return err ? err : vroute_add(vi, &r);
}

void simnet_run(struct simnet *sn, uint64_t ns)
{
	world_run_until(sn->w, world_now(sn->w) + ns);
}

int simnet_free(struct simnet *sn)
{
	struct world_counts wc;
	int leaked = 0;

	if (!sn)
		return 0;
	/* Newest first, so that children (a.b) go before parents. */
	while (sn->nnodes)
		vimage_destroy(sn->node[--sn->nnodes]);
	/* Frames still queued for destroyed interfaces are dropped as the
	 * queue drains (that is when a dead interface is reaped). */
	world_run(sn->w);
	world_counts(sn->w, &wc);
	/* What the root keeps: itself, lo0, and lo0's route (local 127/8). */
	if (wc.vimages != 1 || wc.ifnets != 1 || wc.sockets || wc.pkts ||
	    wc.pbufs || wc.timers || wc.routes != 1 || wc.neighbours ||
	    wc.reass_queues || wc.tcp_conns) {
		fprintf(
		    stderr,
		    "  simnet: leaked vimages %llu ifnets %llu sockets %llu "
		    "pkts %llu pbufs %llu timers %llu routes %llu "
		    "neighbours %llu reass %llu tcp %llu\n",
		    (unsigned long long)wc.vimages,
		    (unsigned long long)wc.ifnets,
		    (unsigned long long)wc.sockets, (unsigned long long)wc.pkts,
		    (unsigned long long)wc.pbufs, (unsigned long long)wc.timers,
		    (unsigned long long)wc.routes,
		    (unsigned long long)wc.neighbours,
		    (unsigned long long)wc.reass_queues,
		    (unsigned long long)wc.tcp_conns);
		leaked = -1;
	}
	world_destroy(sn->w);
	free(sn);
	return leaked;
}

struct sockaddr_in simnet_sin(const char *addr, uint16_t port)
{
	struct sockaddr_in s = {.sin_family = AF_INET, .sin_port = htons(port)};

	inet_pton(AF_INET, addr, &s.sin_addr);
	return s;
}

struct vsocket *simnet_udp(struct vimage *vi, const char *addr, uint16_t port)
{
	struct sockaddr_in s = simnet_sin(addr ? addr : "0.0.0.0", port);
	struct vsocket *so;

	if (vsock_socket(vi, AF_INET, SOCK_DGRAM, 0, &so) != 0)
		return NULL;
	if (vsock_bind(so, (struct sockaddr *)&s, sizeof(s)) != 0) {
		vsock_close(so);
		return NULL;
	}
	return so;
}
