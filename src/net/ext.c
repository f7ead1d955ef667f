/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * External interfaces: Ethernet interfaces whose far side is outside the
 * world (a TAP device, a UDP tunnel), driven by the shell. The core hands
 * each outgoing frame to the driver's transmit callback and takes incoming
 * frames with vif_ext_input; it never touches a file descriptor. Frames
 * leaving the world must carry real checksums, so none is left offloaded.
 */
#include <string.h>

#include "net/if_var.h"
#include "netinet/inet.h"

static void ext_transmit(struct ifnet *ifp, struct pkt *p)
{
	if ((p->flags & PKT_CSUM_NONE) &&
	    pkt_make_writable(ifp->vi->world, p) == 0) {
		ether_csum_fill(p->data, p->len);
		p->flags &= ~(uint32_t)PKT_CSUM_NONE;
	}
	ifp->ext_ops->transmit(ifp->ext_ctx, ifp, p->data, p->len);
	pkt_free(ifp->vi->world, p);
}

static void ext_destroy(struct ifnet *ifp)
{
	if (ifp->ext_ops->destroy)
		ifp->ext_ops->destroy(ifp->ext_ctx, ifp);
}

static const struct if_ops ext_ops = {
	.kind = "ext",
	.transmit = ext_transmit,
	.destroy = ext_destroy,
};

int vif_ext_create(struct vimage *vi, const char *name,
		   const struct vif_ext_ops *ops, void *ctx, struct ifnet **out)
{
	struct ifnet *ifp;
	int err;

	if (!ops || !ops->transmit)
		return -EINVAL;
	err = if_create(vi, name, "ext", VIF_EXT, &ext_ops, &ifp);
	if (err)
		return err;
	ifp->ext_ops = ops;
	ifp->ext_ctx = ctx;
	*out = ifp;
	return 0;
}

int vif_ext_input(struct ifnet *ifp, const uint8_t *frame, size_t len)
{
	struct world *w = ifp->vi->world;
	struct pkt *p;

	if (len < 14 || len > (size_t)ifp->mtu + 18) {
		ifp->st.ierrors++;
		return -EMSGSIZE;
	}
	p = pkt_alloc(w, PKT_HEADROOM, len);
	if (!p) {
		ifp->st.idrops++;
		return -ENOBUFS;
	}
	memcpy(pkt_put(p, len), frame, len);
	world_enqueue_rx(w, ifp, p);
	return 0;
}
