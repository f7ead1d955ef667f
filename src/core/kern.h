/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Internal definitions shared by the core: the world, vimages, the module
 * registry, timers, packets and logging. Not part of the public API.
 */
#ifndef VIMAGE_KERN_H
#define VIMAGE_KERN_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vimage/net.h"
#include "vimage/vimage.h"

#define container_of(ptr, type, member)                                    \
	((type *)(void *)((char *)(ptr)-offsetof(type, member)))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

#define NSEC_PER_USEC 1000ull
#define NSEC_PER_MSEC 1000000ull
#define NSEC_PER_SEC 1000000000ull

/* ---- intrusive doubly-linked list ------------------------------------- */
struct list {
	struct list *next, *prev;
};
static inline void list_init(struct list *l)
{
	l->next = l->prev = l;
}
static inline bool list_empty(const struct list *l)
{
	return l->next == l;
}
static inline void list_insert_tail(struct list *head, struct list *n)
{
	n->prev = head->prev;
	n->next = head;
	head->prev->next = n;
	head->prev = n;
}
static inline void list_insert_head(struct list *head, struct list *n)
{
	n->next = head->next;
	n->prev = head;
	head->next->prev = n;
	head->next = n;
}
static inline void list_remove(struct list *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	n->next = n->prev = n;
}
#define list_for_each_safe(pos, tmp, head)                                  \
	for ((pos) = (head)->next, (tmp) = (pos)->next; (pos) != (head);     \
	     (pos) = (tmp), (tmp) = (pos)->next)

/* ---- timers (timer.c) ---------------------------------------------------
 * A hierarchical timing wheel: 9 levels of 64 slots over ticks of 1024 ns,
 * which covers the whole 64-bit nanosecond range, so there is no overflow
 * list. A timer sits at the level of the highest 6-bit group in which its
 * tick differs from the wheel's current tick; reaching a slot of a higher
 * level cascades its timers down. Timers fire at their exact nanosecond. */
struct world;
struct timer;
typedef void (*timer_fn)(struct world *w, struct timer *t);

struct timer {
	struct timer *next, **pprev; /* pprev == NULL: not armed */
	uint64_t expires;            /* ns */
	timer_fn fn;
	uint16_t slot; /* level * 64 + index while armed */
};

#define TW_LEVELS 9
#define TW_SLOTS 64
#define TW_TICK_SHIFT 10

#define TW_SLOT_DUE 0xffff /* t->slot while on the due list */

struct timer_wheel {
	uint64_t cur_tick;
	uint64_t occupied[TW_LEVELS];
	struct timer *slots[TW_LEVELS][TW_SLOTS];
	struct timer *due; /* taken off a slot, about to fire, still cancellable */
	uint64_t armed;
};

static inline void timer_init(struct timer *t, timer_fn fn)
{
	t->next = NULL;
	t->pprev = NULL;
	t->expires = 0;
	t->fn = fn;
	t->slot = 0;
}
static inline bool timer_pending(const struct timer *t)
{
	return t->pprev != NULL;
}
/* Arm (or re-arm) t to fire at expires_ns; a time in the past fires at the
 * next world_advance/world_run_until. */
void timer_arm(struct world *w, struct timer *t, uint64_t expires_ns);
void timer_cancel(struct world *w, struct timer *t);
void tw_init(struct timer_wheel *tw, uint64_t now_ns);
uint64_t tw_next_expiry(const struct timer_wheel *tw);
/* A time at or before the next expiry, found without scanning a slot:
 * exact for timers due within the current 64 ticks, the start of the
 * slot's span otherwise. Advancing to it is always safe. */
uint64_t tw_next_bound(const struct timer_wheel *tw);
/* Fire every timer with expires <= now_ns, in expiry order per slot. */
void tw_run(struct world *w, struct timer_wheel *tw, uint64_t now_ns);

/* ---- RNG (rng.c): xoshiro256** seeded through splitmix64 ---------------- */
struct rng {
	uint64_t s[4];
};
void rng_seed(struct rng *r, uint64_t seed);
uint64_t rng_next(struct rng *r);
/* Uniform in [0, n) without modulo bias; n > 0. */
uint64_t rng_below(struct rng *r, uint64_t n);
/* MurmurHash3's 64-bit finaliser: every input bit affects every output bit.
 * Keyed with a secret it makes values unguessable to someone who does not
 * know the key (RFC 6056 port offsets, RFC 6528 ISNs); it is not a
 * cryptographic PRF. */
static inline uint64_t mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return x;
}

/* ---- packets (pkt.c) ----------------------------------------------------- */
#define PKT_HEADROOM 128
#define PBUF_SMALL 2048 /* data bytes of a pooled buffer */

struct pbuf {
	uint32_t refcnt;
	uint32_t size; /* bytes in data[] */
	struct pbuf *next_free;
	uint8_t data[];
};

/* Flags of a packet. */
#define PKT_BCAST 0x1    /* link-layer broadcast */
#define PKT_MCAST 0x2    /* link-layer multicast */
#define PKT_CSUM_OK 0x4  /* L4 checksum need not be verified (in-world) */
#define PKT_CSUM_NONE 0x8 /* L4 checksum not filled in (in-world offload) */
#define PKT_FORWARDED 0x10

struct pkt {
	struct pkt *next; /* queue link */
	struct pbuf *buf;
	uint8_t *data;
	uint32_t len;
	uint32_t flags;
	struct ifnet *ifp; /* receiving interface (or run-queue target) */
	/* Scratch space owned by whichever layer holds the packet, like skb->cb. */
	union {
		uint64_t u64[6];
		uint8_t bytes[48];
	} cb;
};

struct pkt_pool {
	struct pkt *free_pkts;
	struct pbuf *free_small;
	uint32_t nfree_pkts, nfree_small;
	uint64_t live_pkts, live_pbufs;
};

void pkt_pool_init(struct pkt_pool *pp);
void pkt_pool_fini(struct pkt_pool *pp);
/* A packet with room for headroom + size bytes; len 0, data at headroom. */
struct pkt *pkt_alloc(struct world *w, size_t headroom, size_t size);
void pkt_free(struct world *w, struct pkt *p);
void pkt_free_chain(struct world *w, struct pkt *p);
/* Share the buffer: a second packet with its own data/len/flags. */
struct pkt *pkt_clone(struct world *w, const struct pkt *p);
/* A private copy of the bytes with the same headroom. */
struct pkt *pkt_copy(struct world *w, const struct pkt *p, size_t headroom);
/* Make the bytes private to p (copies when shared). 0 or -ENOMEM. */
int pkt_make_writable(struct world *w, struct pkt *p);
static inline size_t pkt_headroom(const struct pkt *p)
{
	return (size_t)(p->data - p->buf->data);
}
static inline size_t pkt_tailroom(const struct pkt *p)
{
	return p->buf->size - pkt_headroom(p) - p->len;
}
/* Append n bytes at the tail (caller ensured tailroom); returns them. */
static inline uint8_t *pkt_put(struct pkt *p, size_t n)
{
	uint8_t *t = p->data + p->len;
	p->len += (uint32_t)n;
	return t;
}
/* Prepend n bytes (NULL when the headroom is short). */
static inline uint8_t *pkt_push(struct pkt *p, size_t n)
{
	if (pkt_headroom(p) < n)
		return NULL;
	p->data -= n;
	p->len += (uint32_t)n;
	return p->data;
}
static inline void pkt_pull(struct pkt *p, size_t n)
{
	p->data += n;
	p->len -= (uint32_t)n;
}
static inline void pkt_trim(struct pkt *p, size_t len)
{
	if (len < p->len)
		p->len = (uint32_t)len;
}

/* A FIFO of packets. */
struct pktq {
	struct pkt *head, **tailp;
	uint32_t count;
	uint32_t bytes;
};
static inline void pktq_init(struct pktq *q)
{
	q->head = NULL;
	q->tailp = &q->head;
	q->count = 0;
	q->bytes = 0;
}
static inline void pktq_push(struct pktq *q, struct pkt *p)
{
	p->next = NULL;
	*q->tailp = p;
	q->tailp = &p->next;
	q->count++;
	q->bytes += p->len;
}
static inline struct pkt *pktq_pop(struct pktq *q)
{
	struct pkt *p = q->head;
	if (!p)
		return NULL;
	q->head = p->next;
	if (!q->head)
		q->tailp = &q->head;
	q->count--;
	q->bytes -= p->len;
	p->next = NULL;
	return p;
}
void pktq_purge(struct world *w, struct pktq *q);

/* ---- the module registry (module.c) --------------------------------------
 * Each protocol module declares its per-instance state: a name, its size, an
 * order, and init/destroy functions. Creating a vimage allocates one block
 * holding every module's state and runs the inits in ascending order;
 * destroying runs the destroys in descending order. The table lives in
 * module.c; vimage.c never names a protocol. */
enum vmod_id {
	VMOD_ROUTE,
	VMOD_ARP,
	VMOD_IP,
	VMOD_ICMP,
	VMOD_UDP,
	VMOD_RAW,
	VMOD_TCP,
	VMOD_SOCKET,
	VMOD_IF,
	VMOD_COUNT
};

struct vmodule {
	const char *name;
	enum vmod_id id;
	size_t size;
	int order; /* init ascending, destroy descending */
	int (*init)(struct vimage *vi, void *state);
	void (*destroy)(struct vimage *vi, void *state);
	/* Optional: the module's sysctl knobs and counters. */
	const struct vknob *knobs;
	size_t nknobs;
	const struct vstat *stats;
	size_t nstats;
};

/* A knob is an int64 at an offset in the module's state. */
struct vknob {
	const char *name; /* "net.inet.ip.forwarding" */
	size_t offset;
	int64_t min, max;
};
/* A counter is a uint64 at an offset in the module's state. */
struct vstat {
	const char *name; /* "ip.forwarded" */
	size_t offset;
};

extern const struct vmodule *const vmodule_table[VMOD_COUNT];

/* ---- the world and vimages (world.c, vimage.c) --------------------------- */
struct world {
	uint64_t now;
	struct timer_wheel wheel;
	struct rng rng;
	struct pkt_pool pool;
	struct pktq runq; /* frames crossing links, processed in order */
	struct vimage *root;
	/* name -> vimage, open hashing with chaining through vimage->hnext */
	struct vimage **names;
	size_t names_cap, names_count;
	uint32_t next_vid;
	uint64_t mac_seq; /* locally administered MACs unique in the world */
	uint64_t ifnets_live, sockets_live, routes_live, neigh_live, reass_live;
	uint64_t tcpcb_live;
	size_t mod_offset[VMOD_COUNT];
	size_t vimage_size;
	bool in_run; /* world_run is draining: nested calls return */
	void (*log_fn)(void *ctx, int level, const struct vimage *vi,
		       const char *msg);
	void *log_ctx;
};

struct vimage {
	struct world *world;
	struct vimage *parent;
	struct list children; /* of struct vimage, through sibling */
	struct list sibling;
	struct vimage *hnext; /* name hash chain */
	uint32_t id;
	uint8_t log_level;
	bool dying;
	char name[VIMAGE_NAME_MAX + 1];
	/* module states follow, at world->mod_offset[] */
	_Alignas(16) unsigned char states[];
};

static inline void *vimage_state(const struct vimage *vi, enum vmod_id id)
{
	return (char *)vi + vi->world->mod_offset[id];
}

/* ---- logging (log.c) -------------------------------------------------------*/
void vlog_emit(const struct world *w, const struct vimage *vi, int level,
	       const char *fmt, ...) __attribute__((format(printf, 4, 5)));
#define vlog(vi, level, ...)                                                \
	do {                                                                \
		const struct vimage *vlog_vi_ = (vi);                       \
		if (unlikely((level) <= vlog_vi_->log_level))               \
			vlog_emit(vlog_vi_->world, vlog_vi_, (level),       \
				  __VA_ARGS__);                             \
	} while (0)

int vimage_create_root(struct world *w);
void vimage_destroy_root(struct world *w);

/* Run-queue entry point: the frame p will be received on ifp by world_run. */
void world_enqueue_rx(struct world *w, struct ifnet *ifp, struct pkt *p);
/* Drop every queued frame destined to ifp (it is going away). */
void world_purge_rx(struct world *w, struct ifnet *ifp);

#endif
