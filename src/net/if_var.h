/* SPDX-License-Identifier: BSD-2-Clause */
/* Interfaces: internal definitions (the public API is vimage/net.h). */
#ifndef VIMAGE_IF_VAR_H
#define VIMAGE_IF_VAR_H

#include "core/kern.h"

struct ifaddr {
	struct ifaddr *next;
	struct ifnet *ifp;
	struct vaddr addr;
	uint8_t plen;
	uint32_t bcast; /* IPv4 directed broadcast, host order; 0 if none */
};

struct if_capture {
	vif_capture_sink sink;
	void *ctx;
	uint32_t snaplen;
};

struct if_ops {
	const char *kind; /* "loopback", "ve", "ext" */
	/* Send a complete link-layer frame; consumes p. */
	void (*transmit)(struct ifnet *ifp, struct pkt *p);
	/* Release driver state (the ifnet itself is freed by if.c). */
	void (*destroy)(struct ifnet *ifp);
};

struct ifnet {
	struct list link; /* in the vimage's interface list, index order */
	struct ifnet *hnext; /* name hash chain */
	struct ifnet *inext; /* index hash chain */
	struct vimage *vi;
	struct vimage *home; /* where it was created (see if_vimage_gone) */
	const struct if_ops *ops;
	char name[VIF_NAMESIZ];
	char parent_name[VIF_NAMESIZ]; /* its name before it moved down */
	uint32_t index;
	uint32_t flags;
	uint32_t mtu;
	uint8_t mac[6];
	uint8_t type; /* enum vif_type */
	struct ifaddr *addrs;
	struct if_capture *cap;
	struct vif_stats st;
	struct ifnet *peer; /* ve: the other end */
	/* Frames for this interface waiting on the run queue. An interface
	 * destroyed while some are queued stays allocated, marked dead, until
	 * the queue has dropped them: destroy is O(1), not O(queue). */
	uint32_t rx_pending;
	bool dead;
	struct list routes; /* struct rtentry through iflink */
	const struct vif_ext_ops *ext_ops;
	void *ext_ctx;
	/* Traffic shapers by direction (VSHAPE_EGRESS, VSHAPE_INGRESS),
	 * allocated only when set: NULL costs the data path one branch. */
	struct shaper *shaper[2];
	/* Bridges (bridge.c): the bridge's state on a bridge interface, the
	 * port's on an enslaved one; NULL costs the data path one branch. */
	struct bridge *bridge;
	struct bridge_port *brport;
};

struct if_state {
	struct list ifs;
	uint32_t next_index;
	uint32_t count;
	uint32_t pick_hint; /* next number to try for a generated name */
	struct ifnet *lo;
	/* name -> ifnet and index -> ifnet, allocated once a vimage has many
	 * interfaces; both have hcap buckets */
	struct ifnet **htab, **itab;
	uint32_t hcap;
};

static inline struct if_state *vimage_if(const struct vimage *vi)
{
	return vimage_state(vi, VMOD_IF);
}

extern const struct vmodule if_module;

/* Free the memory of a dead interface once nothing is queued for it. */
void if_reap(struct ifnet *ifp);
/* Receive path: a frame arrived on ifp (called by world_run). */
void if_input(struct ifnet *ifp, struct pkt *p);
/* Transmit a complete frame: counters, capture, driver. Consumes p. */
void if_transmit(struct ifnet *ifp, struct pkt *p);
/* Capture hook used by both directions. */
void if_capture_frame(struct ifnet *ifp, const struct pkt *p);
/* Create an interface in vi; name NULL picks "<prefix>N". */
int if_create(struct vimage *vi, const char *name, const char *prefix,
	      enum vif_type type, const struct if_ops *ops, struct ifnet **out);
/* The first IPv4 address of ifp, or NULL. */
struct ifaddr *if_first_addr4(const struct ifnet *ifp);
/* The IPv4 address of ifp to use towards `to` (host order): one in to's
 * subnet, else the first; 0 when ifp has none (RFC 1122 3.3.4.3). */
uint32_t in_src_on_ifp(const struct ifnet *ifp, uint32_t to);

/* Traffic shaper (shaper.c). shaper_enqueue consumes p; the shaper later
 * hands it to the driver (egress) or to if_input_unshaped (ingress). */
struct shaper;
void shaper_enqueue(struct shaper *sh, struct pkt *p);
/* Drop the frames queued in ifp's shapers, keeping their parameters. */
void shaper_flush(struct ifnet *ifp);
/* Free ifp's shapers and what they hold. */
void shaper_detach(struct ifnet *ifp);
/* The receive path after the ingress shaper. */
void if_input_unshaped(struct ifnet *ifp, struct pkt *p);

/* Bridges (bridge.c). Frames a bridge forwarded carry the count in these
 * flag bits (routing clears them: ip_input keeps only checksum flags). */
#define PKT_BR_HOPS_SHIFT 24
#define PKT_BR_HOPS_MASK (0xffu << PKT_BR_HOPS_SHIFT)
struct bridge;
struct bridge_port;
/* A frame received on a bridge port (after its counters and capture). */
void bridge_input(struct ifnet *port, struct pkt *p);
/* ifp leaves its vimage (destroyed or moved): a port leaves its bridge,
 * a bridge releases its ports. */
void bridge_ifdetach(struct ifnet *ifp);

/* Ethernet (ether.c) */
void ether_input(struct ifnet *ifp, struct pkt *p);
/* Prepend an Ethernet header to p and transmit. */
void ether_send(struct ifnet *ifp, struct pkt *p, const uint8_t dst[6],
		uint16_t ethertype);

/* Address helpers (in.c) */
int in_addr_remove_all(struct ifnet *ifp);

#endif
