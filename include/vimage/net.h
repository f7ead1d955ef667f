/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Interfaces, addresses and routes of a vimage.
 *
 * Addresses are family-agnostic (struct vaddr): IPv4 addresses are stored in
 * host byte order in v4, IPv6 as 16 bytes in v6.
 */
#ifndef VIMAGE_NET_H
#define VIMAGE_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "vimage.h"

#define VIF_NAMESIZ 16 /* including the NUL, as Linux's IFNAMSIZ */

struct vaddr {
	uint8_t family; /* AF_INET or AF_INET6 */
	union {
		uint32_t v4; /* host byte order */
		uint8_t v6[16];
	};
};

static inline struct vaddr vaddr_v4(uint32_t host_order)
{
	struct vaddr a = {.family = AF_INET};
	a.v4 = host_order;
	return a;
}
#define VADDR4(a, b, c, d)                                                 \
	vaddr_v4((uint32_t)(a) << 24 | (uint32_t)(b) << 16 |             \
		 (uint32_t)(c) << 8 | (uint32_t)(d))
bool vaddr_eq(const struct vaddr *a, const struct vaddr *b);
/* "10.0.0.1" or "fe80::1" -> vaddr; -EINVAL when not an address. */
int vaddr_parse(const char *s, struct vaddr *out);
/* "10.0.0.0/24" -> address + prefix length; -EINVAL naming nothing more. */
int vaddr_parse_prefix(const char *s, struct vaddr *out, unsigned *plen);
/* Text form into buf (at least 46 bytes). Returns buf. */
char *vaddr_format(const struct vaddr *a, char *buf, size_t len);

/* ---- interfaces --------------------------------------------------------- */
enum vif_type { VIF_LOOPBACK = 1, VIF_VE = 2, VIF_EXT = 3, VIF_BRIDGE = 4 };

/* Flags, with Linux's IFF_* values so that they pass through unchanged. */
#define VIFF_UP 0x1
#define VIFF_BROADCAST 0x2
#define VIFF_LOOPBACK 0x8
#define VIFF_POINTOPOINT 0x10
#define VIFF_RUNNING 0x40
#define VIFF_NOARP 0x80
#define VIFF_PROMISC 0x100
#define VIFF_MULTICAST 0x1000
#define VIFF_LOWER_UP 0x10000

struct vif_stats {
	uint64_t ipackets, ibytes, ierrors, idrops, imcasts;
	uint64_t opackets, obytes, oerrors, odrops;
};

struct ifnet *vif_lookup(struct vimage *vi, const char *name);
struct ifnet *vif_by_index(struct vimage *vi, unsigned index);
/* Iterate over a vimage's interfaces in index order. */
struct ifnet *vif_first(struct vimage *vi);
struct ifnet *vif_next(struct ifnet *ifp);
const char *vif_name(const struct ifnet *ifp);
unsigned vif_index(const struct ifnet *ifp);
struct vimage *vif_vimage(const struct ifnet *ifp);
/* Where it was created: a vimage's destroy returns the interfaces moved
 * into it to their parent vimage, and destroys those it created. */
struct vimage *vif_home(const struct ifnet *ifp);
enum vif_type vif_type(const struct ifnet *ifp);
uint32_t vif_flags(const struct ifnet *ifp);
unsigned vif_mtu(const struct ifnet *ifp);
void vif_mac(const struct ifnet *ifp, uint8_t mac[6]);
void vif_get_stats(const struct ifnet *ifp, struct vif_stats *st);

/* Bring up/down (VIFF_UP). Going down flushes its neighbour entries. */
int vif_set_up(struct ifnet *ifp, bool up);
/* 68..65535 for Ethernet-like interfaces; -EINVAL outside. */
int vif_set_mtu(struct ifnet *ifp, unsigned mtu);
int vif_set_mac(struct ifnet *ifp, const uint8_t mac[6]);
/* Rename; -EEXIST if the name is taken in the vimage, -EINVAL if bad,
 * -EBUSY while up (as Linux). */
int vif_rename(struct ifnet *ifp, const char *name);
/* Destroy an interface (lo0 cannot be: -EPERM). A ve end takes its peer. */
int vif_destroy(struct ifnet *ifp);
/* Move to another vimage, which must be the current one's parent or child
 * (-EPERM otherwise), optionally renamed (newname may be NULL). The
 * interface goes down and loses its addresses and routes, as in FreeBSD's
 * if_vmove. -EEXIST on a name clash there. */
int vif_move(struct ifnet *ifp, struct vimage *to, const char *newname);

/* A virtual Ethernet pair: one end in each vimage (they may be the same). */
int vif_ve_create(struct vimage *vi_a, const char *name_a,
		  struct vimage *vi_b, const char *name_b,
		  struct ifnet **a, struct ifnet **b);
struct ifnet *vif_ve_peer(const struct ifnet *ifp);

/* An Ethernet interface whose far side is outside the world (TAP, UDP...):
 * transmit is called with each frame leaving the vimage (the driver copies
 * what it needs; the frame is freed after the call returns). Received
 * frames are handed in with vif_ext_input. */
struct vif_ext_ops {
	void (*transmit)(void *ctx, struct ifnet *ifp, const uint8_t *frame,
			 size_t len);
	void (*destroy)(void *ctx, struct ifnet *ifp); /* may be NULL */
};
int vif_ext_create(struct vimage *vi, const char *name,
		   const struct vif_ext_ops *ops, void *ctx,
		   struct ifnet **out);
/* Queue a received frame (copied); processed by the next world_run.
 * -EMSGSIZE for frames longer than MTU + header, counted in ierrors. */
int vif_ext_input(struct ifnet *ifp, const uint8_t *frame, size_t len);

/* ---- bridges ---------------------------------------------------------------
 * A learning Ethernet bridge (802.1D without spanning tree), as Linux's
 * bridge or FreeBSD's if_bridge. The bridge is itself an interface: give it
 * addresses and its stack talks through its ports. A port is a ve or ext
 * interface of the bridge's vimage; while enslaved, every frame it receives
 * goes to the bridge and its own stack sees none (as on Linux). A port
 * that is down neither receives nor sends; a bridge that is down forwards
 * nothing.
 *
 * The bridge learns source addresses per port (never multicast sources:
 * such frames are dropped and counted), forwards known unicast out of its
 * one port (never back out of the port it came in on), and floods unknown
 * unicast, broadcast and multicast to every other up port. Frames for the
 * bridge's own address, broadcast and multicast also go up its stack.
 * Learned entries age out after the aging time (300 s by default, as
 * Linux) and the table is bounded (8192 entries by default): when it is
 * full, new stations are not learned (their frames are flooded) and the
 * refusal is counted.
 *
 * Loops: there is no STP. A frame carries the number of bridges that
 * forwarded it; one that has crossed VIF_BRIDGE_HOP_LIMIT bridges is
 * dropped (hop_drops), so a loop runs dry after that many turns. Each
 * bridge also floods at most VIF_BRIDGE_FLOOD_BURST frames at one instant
 * and VIF_BRIDGE_FLOOD_RATE per second of virtual time (flood_limited),
 * which bounds the storm of a meshed loop, whose copies multiply at every
 * turn. Destroying a port, or moving it to another vimage, removes it from
 * its bridge; destroying or moving a bridge releases its ports, which
 * become ordinary interfaces again. */
#define VIF_BRIDGE_HOP_LIMIT 32
#define VIF_BRIDGE_FLOOD_BURST 4096
#define VIF_BRIDGE_FLOOD_RATE 1000000 /* floods per second */
#define VIF_BRIDGE_AGING_DEFAULT 300000000000ull /* ns */
#define VIF_BRIDGE_AGING_MAX 1000000000000000ull /* 10^6 s, as Linux */
#define VIF_BRIDGE_FDB_DEFAULT 8192
#define VIF_BRIDGE_FDB_MAX (1u << 20)

struct vif_bridge_stats {
	uint64_t learned;        /* entries created */
	uint64_t moved;          /* stations seen on another port */
	uint64_t fdb_full;       /* stations not learned: table full */
	uint64_t bad_src;        /* dropped: multicast/broadcast source */
	uint64_t forwarded;      /* known unicast sent out of one port */
	uint64_t flooded;        /* frames flooded (not counting copies) */
	uint64_t local;          /* frames passed up the bridge's stack */
	uint64_t filtered;       /* dropped: destination on the ingress port */
	uint64_t hop_drops;      /* dropped by the hop limit */
	uint64_t flood_limited;  /* dropped by the flood rate limit */
	uint64_t down_drops;     /* dropped: bridge down */
	uint64_t fdb_entries;    /* learned entries now (including expired
				  * ones not yet collected) */
};

/* Per port, counted by the bridge; the port's own vif_stats count every
 * frame it receives and sends as usual. */
struct vif_bridge_port_stats {
	uint64_t rx;      /* frames taken from the port */
	uint64_t tx;      /* frames the bridge sent out of it */
	uint64_t flooded; /* of tx: flood copies */
	uint64_t drops;   /* frames from the port the bridge dropped */
};

struct vif_bridge_fdb_entry {
	uint8_t mac[6];
	unsigned port;   /* the port's ifindex; the bridge's own for local */
	uint64_t age_ns; /* since last seen; 0 for local */
	bool is_local;   /* the bridge's own address */
};

/* Create a bridge in vi (name NULL picks "brN"). Down, no ports, a MAC of
 * its own. -EINVAL/-EEXIST for names as every interface. */
int vif_bridge_create(struct vimage *vi, const char *name, struct ifnet **out);
/* Enslave port. -EINVAL: br is not a bridge, or port is not a ve or ext
 * interface (a bridge, lo0); -EXDEV: port is in another vimage; -EBUSY:
 * port already belongs to a bridge (this one included); -ENOMEM. */
int vif_bridge_add_port(struct ifnet *br, struct ifnet *port);
/* Release port (its learned entries go). -EINVAL: br is not a bridge;
 * -ENOENT: port is not one of br's. */
int vif_bridge_del_port(struct ifnet *br, struct ifnet *port);
/* The bridge ifp is a port of, or NULL. */
struct ifnet *vif_bridge_port_of(const struct ifnet *ifp);
/* Visit br's ports in the order they were added; stop when fn returns
 * non-zero (which is returned). -EINVAL if br is not a bridge. */
int vif_bridge_port_walk(struct ifnet *br,
			 int (*fn)(void *ctx, struct ifnet *port), void *ctx);
/* Aging time in ns: 1 ns .. VIF_BRIDGE_AGING_MAX, else -EINVAL. Entries
 * older than the new time expire at once. */
int vif_bridge_set_aging(struct ifnet *br, uint64_t ns);
int vif_bridge_get_aging(const struct ifnet *br, uint64_t *ns);
/* Bound of the learned table: 1 .. VIF_BRIDGE_FDB_MAX, else -EINVAL.
 * Lowering it below the current count evicts nothing; learning resumes
 * when entries age out. */
int vif_bridge_set_fdb_max(struct ifnet *br, unsigned max);
/* Visit the table: the bridge's own address (is_local), then the live
 * learned entries in no particular order. Stops when fn returns non-zero
 * (which is returned). -EINVAL if br is not a bridge. */
int vif_bridge_fdb_walk(struct ifnet *br,
			int (*fn)(void *ctx, const struct vif_bridge_fdb_entry *e),
			void *ctx);
/* Forget the learned entries of one port (port NULL: all). -EINVAL if br
 * is not a bridge, -ENOENT if port is not one of its ports. */
int vif_bridge_fdb_flush(struct ifnet *br, struct ifnet *port);
int vif_bridge_stats(const struct ifnet *br, struct vif_bridge_stats *st);
/* -EINVAL if port is not a bridge port. */
int vif_bridge_port_stats(const struct ifnet *port,
			  struct vif_bridge_port_stats *st);

/* ---- capture ------------------------------------------------------------ */
/* Write a pcap stream of every frame the interface sends or receives to
 * sink (the core formats, the caller writes). One capture per interface;
 * -EBUSY if one runs. snaplen 0 means 65535. */
typedef void (*vif_capture_sink)(void *ctx, const void *data, size_t len);
int vif_capture_start(struct ifnet *ifp, vif_capture_sink sink, void *ctx,
		      uint32_t snaplen);
int vif_capture_stop(struct ifnet *ifp);

/* ---- traffic shaper ------------------------------------------------------
 * A shaper on one direction of an interface, with the knobs of FreeBSD's
 * ng_pipe/dummynet and Linux's netem. Egress frames are shaped after the
 * interface's counters and capture have seen them (on their way to the
 * driver); ingress frames before (on their way in from the link), so
 * counters and capture always sit on the stack's side of the shaper, which
 * models the link. Frames are Ethernet frames without preamble or FCS: the
 * bandwidth and the bit-error rate count those bytes.
 *
 * Per frame, in this order: loss (drop); duplication (an extra copy is
 * made, which then takes the remaining steps on its own); bit errors (a
 * frame of n bytes is dropped with probability 1 - (1 - ber)^(8n));
 * reordering (the frame skips the queue, the bandwidth and the delay and
 * leaves at once, as netem's reorder); the queue limit (drop-tail); then the
 * link: departure = max(now, previous departure) + 8 * bytes / bandwidth,
 * release = departure + delay + jitter, jitter uniform in
 * [-jitter_ns, +jitter_ns] (the sum never below zero), and never before the
 * previous frame's release: jitter does not reorder (netem's FIFO).
 *
 * The queue limits bound the backlog waiting for the bandwidth (frames
 * whose departure is still ahead), as dummynet's queue or a router's
 * buffer; frames already on the delay line do not count, so a long fat link
 * needs no huge limit. Without a bandwidth there is no backlog and the
 * limits never drop. A frame released while its interface is down is
 * dropped there and counted in the interface's odrops/idrops. Randomness
 * comes from the world's seeded generator, drawn only for the knobs that
 * are set: a run replays exactly from its seed. */

/* Probabilities are integers in parts per 10^18: 1% is VSHAPE_PROB_ONE /
 * 100, a bit-error rate of 1e-9 is 10^9. Exact for decimal rates, fine
 * enough for any bit-error rate worth emulating. */
#define VSHAPE_PROB_ONE 1000000000000000000ull
#define VSHAPE_BANDWIDTH_MAX 1000000000000ull /* 1 Tbit/s */
#define VSHAPE_DELAY_MAX 3600000000000ull     /* one hour, in ns */

enum { VSHAPE_EGRESS = 0, VSHAPE_INGRESS = 1 };

struct vshaper_params {
	uint64_t bandwidth;   /* bit/s, 0: unlimited; <= VSHAPE_BANDWIDTH_MAX */
	uint64_t delay_ns;    /* <= VSHAPE_DELAY_MAX */
	uint64_t jitter_ns;   /* <= VSHAPE_DELAY_MAX */
	uint64_t loss;        /* probabilities, <= VSHAPE_PROB_ONE */
	uint64_t ber;         /* per bit */
	uint64_t duplicate;
	uint64_t reorder;
	uint64_t queue_pkts;  /* backlog limit in frames, 0: none */
	uint64_t queue_bytes; /* backlog limit in bytes, 0: none */
};

struct vshaper_stats {
	uint64_t enqueued;      /* frames offered (duplicates not included) */
	uint64_t sent;          /* frames that left (duplicates included) */
	uint64_t dropped_loss;  /* by the loss probability */
	uint64_t dropped_ber;   /* by bit errors */
	uint64_t dropped_queue; /* by the queue limits */
	uint64_t duplicated;    /* copies made */
	uint64_t reordered;     /* frames sent ahead of the queue */
	uint64_t flushed;       /* dropped from the queue by a move */
	uint64_t queued_pkts;   /* in the shaper now (backlog and delay line) */
	uint64_t queued_bytes;
};

/* Set, change or remove (p NULL or all zero) the shaper of one direction.
 * A change keeps the frames queued, with the times they were given; later
 * frames get the new parameters. Removing drops what is queued (removing
 * none is not an error). -EINVAL, with nothing changed, for a bad
 * direction or a value out of range; -ENOMEM. */
int vif_shaper_set(struct ifnet *ifp, int dir, const struct vshaper_params *p);
/* The parameters in force; -ENOENT (and *p zeroed) when none. */
int vif_shaper_get(const struct ifnet *ifp, int dir, struct vshaper_params *p);
/* The shaper's counters since it was set; -ENOENT when none. */
int vif_shaper_stats(const struct ifnet *ifp, int dir,
		     struct vshaper_stats *st);

/* ---- addresses ---------------------------------------------------------- */
/* Add addr/plen to an interface: connected and local routes appear; an up
 * Ethernet interface announces it with a gratuitous ARP. -EEXIST if the
 * interface has it, -EINVAL for a bad prefix length or address. */
int vif_addr_add(struct ifnet *ifp, const struct vaddr *addr, unsigned plen);
int vif_addr_del(struct ifnet *ifp, const struct vaddr *addr, unsigned plen);
struct vif_addr_info {
	struct vaddr addr;
	unsigned plen;
	struct vaddr broadcast; /* IPv4 only */
};
/* Visit the interface's addresses; stop when fn returns non-zero. */
int vif_addr_walk(struct ifnet *ifp,
		  int (*fn)(void *ctx, const struct vif_addr_info *a), void *ctx);

/* ---- routes ------------------------------------------------------------- */
enum vrt_type {
	VRT_UNICAST = 1,     /* RTN_UNICAST */
	VRT_LOCAL = 2,       /* RTN_LOCAL: an address of this vimage */
	VRT_BROADCAST = 3,   /* RTN_BROADCAST */
	VRT_BLACKHOLE = 6,   /* RTN_BLACKHOLE: silently dropped */
	VRT_UNREACHABLE = 7, /* RTN_UNREACHABLE: ICMP host unreachable */
	VRT_PROHIBIT = 8,    /* RTN_PROHIBIT: ICMP administratively prohibited */
};
enum vrt_proto { VRT_PROTO_KERNEL = 2, VRT_PROTO_BOOT = 3, VRT_PROTO_STATIC = 4 };

struct vroute {
	struct vaddr dst;
	unsigned plen;
	enum vrt_type type;
	enum vrt_proto proto;
	struct vaddr gw;     /* family 0 when directly connected */
	struct ifnet *ifp;   /* may be NULL for blackhole/unreachable/prohibit */
	uint32_t metric;
	uint32_t mtu;        /* 0: the interface's */
	struct vaddr prefsrc; /* family 0: chosen from the interface */
};

/* Add a route to the main table. A gateway must be reachable through a
 * connected route (-ENETUNREACH); ifp may be NULL with a gateway (derived).
 * -EEXIST for an existing dst/plen. */
int vroute_add(struct vimage *vi, const struct vroute *r);
/* Replace or add. */
int vroute_replace(struct vimage *vi, const struct vroute *r);
/* Delete dst/plen from the main table; -ESRCH when absent (as Linux). */
int vroute_del(struct vimage *vi, const struct vaddr *dst, unsigned plen);
/* Route lookup for dst as the forwarding path would do it: -ENETUNREACH when
 * no route; the route in *r. The local table is consulted first. */
int vroute_get(struct vimage *vi, const struct vaddr *dst, struct vroute *r);
/* Visit the main table (local=false) or the local table (local=true). */
int vroute_walk(struct vimage *vi, int family, bool local,
		int (*fn)(void *ctx, const struct vroute *r), void *ctx);

/* Route change notifications (what a routing daemon subscribes to). */
enum vroute_event { VROUTE_ADDED = 1, VROUTE_DELETED = 2 };
struct vroute_sub;
int vroute_subscribe(struct vimage *vi,
		     void (*fn)(void *ctx, enum vroute_event ev,
				const struct vroute *r),
		     void *ctx, struct vroute_sub **out);
void vroute_unsubscribe(struct vimage *vi, struct vroute_sub *sub);

/* ---- neighbours (ARP) --------------------------------------------------- */
enum vneigh_state { VNEIGH_INCOMPLETE = 1, VNEIGH_REACHABLE = 2, VNEIGH_STALE = 3,
		    VNEIGH_PERMANENT = 4, VNEIGH_FAILED = 5 };
struct vneigh_info {
	struct vaddr addr;
	struct ifnet *ifp;
	uint8_t mac[6];
	enum vneigh_state state;
	uint64_t expires_ns; /* 0: none */
};
int vneigh_walk(struct vimage *vi,
		int (*fn)(void *ctx, const struct vneigh_info *n), void *ctx);
/* Flush every entry of an interface (NULL: all interfaces). */
void vneigh_flush(struct vimage *vi, struct ifnet *ifp);
/* Add a permanent entry (arp -s). */
int vneigh_add_permanent(struct ifnet *ifp, const struct vaddr *addr,
			 const uint8_t mac[6]);
/* Remove one entry, whatever its state (ip neigh del, arp -d); packets
 * it holds are dropped. -ENOENT when absent, -EAFNOSUPPORT for IPv6. */
int vneigh_del(struct ifnet *ifp, const struct vaddr *addr);

#endif
