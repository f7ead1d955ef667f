/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * simnet: building blocks for simulated networks in tests. A simnet owns a
 * world and the vimages ("nodes") and ve links made through it, so a test
 * says what it wants (two hosts on a /24, a chain, a star...) in a line and
 * tears it all down with simnet_free, which also checks nothing leaked.
 *
 * Builders return NULL (or a negative errno) on failure; tests REQUIRE
 * them. Addresses are text with a prefix ("10.0.0.1/24"). Add new shapes
 * (chain, grid, star) as functions built from simnet_node/simnet_link.
 */
#ifndef SIMNET_H
#define SIMNET_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "vimage/net.h"
#include "vimage/socket.h"
#include "vimage/vimage.h"

#define SIMNET_MAX_NODES 1024
#define SIMNET_MAX_LINKS 2048

struct simnet_link {
	struct ifnet *a, *b; /* the two ends */
};

struct simnet {
	struct world *w;
	size_t nnodes, nlinks;
	struct vimage *node[SIMNET_MAX_NODES];
	struct simnet_link link[SIMNET_MAX_LINKS];
};

/* An empty network: a world seeded with seed, its clock at 0. */
struct simnet *simnet_new(uint64_t seed);
/* Add a vimage named name; NULL on failure. */
struct vimage *simnet_node(struct simnet *sn, const char *name);
/* Join a and b with a ve pair (interface names ifa/ifb, NULL picks), give
 * each end its address ("10.0.0.1/24", or NULL for none) and bring both
 * up. Returns the link index (>= 0) or a negative errno. */
int simnet_link(struct simnet *sn, struct vimage *a, const char *ifa,
		const char *addr_a, struct vimage *b, const char *ifb,
		const char *addr_b);
/* Two hosts "a" (10.0.0.1/24 on ve0) and "b" (10.0.0.2/24 on ve0). */
struct simnet *simnet_pair(uint64_t seed);
/* Destroy one node (and its children) before the rest; its links go
 * with it. */
int simnet_destroy_node(struct simnet *sn, struct vimage *vi);
/* Add a route dst/plen ("0.0.0.0/0") via gw ("10.0.0.2") in vi. */
int simnet_route(struct vimage *vi, const char *prefix, const char *gw);

/* Advance virtual time by ns, running everything due. */
void simnet_run(struct simnet *sn, uint64_t ns);

/* Destroy every node and the world. Returns 0 when everything created
 * was returned (packets, sockets, timers, interfaces, routes), else -1
 * (and prints what leaked). */
int simnet_free(struct simnet *sn);

/* A struct sockaddr_in for "10.0.0.1" and a host-order port. */
struct sockaddr_in simnet_sin(const char *addr, uint16_t port);
/* A UDP socket in vi bound to addr:port (addr NULL: the wildcard); NULL
 * on failure. */
struct vsocket *simnet_udp(struct vimage *vi, const char *addr, uint16_t port);

#endif
