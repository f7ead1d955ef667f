/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vimage — clonable network stacks in user space: the core library's API.
 *
 * A world is the "kernel": it owns every vimage (stack instance), the timer
 * wheel, the packet pool, the run queue and a seeded random generator. The
 * core does no I/O and reads no clock: the caller drives it by handing it
 * frames, advancing its time (real or virtual) and making socket calls.
 *
 * Conventions a caller may rely on:
 *  - functions return 0 (or a count) on success and a negative errno on
 *    failure; the errno is the one a Linux program would see;
 *  - no function blocks, sleeps or performs I/O; anything leaving the world
 *    goes through a callback the caller installed (interface drivers, pcap
 *    sinks, the log function, socket readiness notifications);
 *  - one world is used by one thread at a time; worlds are independent.
 */
#ifndef VIMAGE_VIMAGE_H
#define VIMAGE_VIMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct world;
struct vimage;
struct ifnet;

/* ---- world ------------------------------------------------------------ */
struct world_config {
	uint64_t seed;     /* RNG seed; everything random derives from it */
	uint64_t start_ns; /* initial value of the clock */
	/* Log sink; NULL discards. level: VLOG_ERR..VLOG_DEBUG. vi may be NULL. */
	void (*log_fn)(void *ctx, int level, const struct vimage *vi,
		       const char *msg);
	void *log_ctx;
};

enum { VLOG_ERR = 0, VLOG_WARN = 1, VLOG_INFO = 2, VLOG_DEBUG = 3 };

int world_create(const struct world_config *cfg, struct world **out);
/* Destroys every vimage (children first) and frees everything. */
void world_destroy(struct world *w);

uint64_t world_now(const struct world *w);
/* Advance the clock to now_ns (never backwards), fire due timers and process
 * queued frames until the world is quiet at that instant. */
void world_advance(struct world *w, uint64_t now_ns);
/* Process queued frames at the current time (no clock change). Returns the
 * number of frames processed. */
size_t world_run(struct world *w);
/* The earliest pending timer deadline, or UINT64_MAX when none. */
uint64_t world_next_deadline(const struct world *w);
/* Virtual time: jump from deadline to deadline until end_ns (inclusive) or
 * until nothing is pending; the clock ends at end_ns. */
void world_run_until(struct world *w, uint64_t end_ns);
/* A random 64-bit value from the world's seeded generator. */
uint64_t world_random(struct world *w);

/* Live object counts, for leak checks and statistics. */
struct world_counts {
	uint64_t vimages, ifnets, sockets, pkts, pbufs, timers, routes,
		neighbours, reass_queues, tcp_conns;
};
void world_counts(const struct world *w, struct world_counts *c);

/* ---- vimages ------------------------------------------------------------ */
#define VIMAGE_NAME_MAX 127 /* whole dotted name */
#define VIMAGE_COMPONENT_MAX 31

/* The root instance (FreeBSD's vnet0); its name is ".". */
struct vimage *world_root(struct world *w);
/* Validate a dotted name: 0, or -EINVAL (empty component, bad character,
 * too long) with a reason in *why when why != NULL. */
int vimage_name_check(const char *name, const char **why);
/* Create a vimage; "a.b" needs "a" to exist (-ENOENT), -EEXIST if present. */
int vimage_create(struct world *w, const char *name, struct vimage **out);
/* Destroy a vimage and its descendants (deepest first): sockets aborted,
 * timers cancelled, interfaces created inside destroyed, interfaces moved in
 * handed back to the parent. The root cannot be destroyed (-EPERM). */
int vimage_destroy(struct vimage *vi);
struct vimage *vimage_lookup(struct world *w, const char *name);
const char *vimage_name(const struct vimage *vi);
struct vimage *vimage_parent(const struct vimage *vi);
struct world *vimage_world(const struct vimage *vi);
/* Iterate: first child, next sibling (NULL at the end). */
struct vimage *vimage_first_child(const struct vimage *vi);
struct vimage *vimage_next_sibling(const struct vimage *vi);
/* Per-vimage log level (default VLOG_WARN); VLOG_DEBUG traces every packet. */
void vimage_set_log_level(struct vimage *vi, int level);

/* sysctl-like knobs, e.g. "net.inet.ip.forwarding". -ENOENT unknown name,
 * -EINVAL value out of range (nothing changes). */
int vimage_sysctl_get(struct vimage *vi, const char *name, int64_t *val);
int vimage_sysctl_set(struct vimage *vi, const char *name, int64_t val);
/* Visit every knob (name, value); stops when fn returns non-zero. */
int vimage_sysctl_walk(struct vimage *vi,
		       int (*fn)(void *ctx, const char *name, int64_t val),
		       void *ctx);
/* netstat -s style counters: ("ip.forwarded", n), ... */
int vimage_stats_walk(struct vimage *vi,
		      int (*fn)(void *ctx, const char *name, uint64_t val),
		      void *ctx);
/* One counter by name; -ENOENT unknown. */
int vimage_stat_get(struct vimage *vi, const char *name, uint64_t *val);

#endif
