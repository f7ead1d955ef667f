/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ve: virtual Ethernet pairs, the original VIMAGE's if_ve. A frame sent on
 * one end is received on the other, through the world's run queue (never by
 * recursion), without copying: the packet itself moves. Each end can live in
 * any vimage; destroying one end destroys the pair.
 */
#include <string.h>

#include "net/if_var.h"

static void ve_transmit(struct ifnet *ifp, struct pkt *p)
{
	struct ifnet *peer = ifp->peer;

	if (unlikely(!peer || !(peer->flags & VIFF_UP))) {
		ifp->st.odrops++;
		pkt_free(ifp->vi->world, p);
		return;
	}
	/* A frame made in this world needs no checksum check at the other
	 * end (a virtual NIC's offload). A forwarded frame keeps what its
	 * input said: one that came from outside unverified stays so. */
	if (!(p->flags & PKT_FORWARDED))
		p->flags |= PKT_CSUM_OK;
	world_enqueue_rx(ifp->vi->world, peer, p);
}

static const struct if_ops ve_ops = {
	.kind = "ve",
	.transmit = ve_transmit,
};

int vif_ve_create(struct vimage *vi_a, const char *name_a,
		  struct vimage *vi_b, const char *name_b, struct ifnet **a,
		  struct ifnet **b)
{
	struct ifnet *ea, *eb;
	int err;

	if (vi_a == vi_b && name_a && name_b && strcmp(name_a, name_b) == 0)
		return -EEXIST;
	err = if_create(vi_a, name_a, "ve", VIF_VE, &ve_ops, &ea);
	if (err)
		return err;
	err = if_create(vi_b, name_b, "ve", VIF_VE, &ve_ops, &eb);
	if (err) {
		vif_destroy(ea);
		return err;
	}
	ea->peer = eb;
	eb->peer = ea;
	if (a)
		*a = ea;
	if (b)
		*b = eb;
	return 0;
}

struct ifnet *vif_ve_peer(const struct ifnet *ifp)
{
	return ifp->type == VIF_VE ? ifp->peer : NULL;
}
