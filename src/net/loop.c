/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * lo0, the loopback interface every vimage has. Frames carry an Ethernet
 * header with zero addresses, as Linux's lo does, so that one receive path
 * serves every interface and captures of lo0 read like Linux's.
 */
#include "net/if_var.h"

static void loop_transmit(struct ifnet *ifp, struct pkt *p)
{
	/* Through the run queue, never by recursion: a socket sending to
	 * itself must not re-enter the socket layer. In-world: no checksum. */
	p->flags |= PKT_CSUM_OK;
	world_enqueue_rx(ifp->vi->world, ifp, p);
}

static const struct if_ops loop_ops = {
	.kind = "loopback",
	.transmit = loop_transmit,
};

int loop_create(struct vimage *vi, struct ifnet **out);
int loop_create(struct vimage *vi, struct ifnet **out)
{
	return if_create(vi, "lo0", NULL, VIF_LOOPBACK, &loop_ops, out);
}
