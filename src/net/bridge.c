/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A learning Ethernet bridge, after IEEE 802.1D-2004 clause 7 (relay,
 * learning, filtering database, aging) without the spanning tree; the
 * behaviour a caller relies on is in vimage/net.h.
 *
 * The bridge is an interface (type VIF_BRIDGE) whose transmit looks up the
 * destination in the filtering database (FDB) and sends out of one port or
 * floods. if_input_unshaped hands every frame received on a port to
 * bridge_input, after the port's counters and capture: the port's own stack
 * never sees it. Nothing is queued here: a forwarded frame goes to the
 * port's if_transmit, and so through the port's egress shaper and driver to
 * the run queue; frames for the bridge itself go to if_input on the bridge.
 *
 * The FDB is a chained hash table, created on the first station learned and
 * grown by doubling; buckets are keyed with a per-bridge secret so that a
 * sender cannot choose addresses that share a chain. Expiry is decided where
 * an entry is used (an entry older than the aging time is as good as
 * absent), so one timer per bridge is enough and need not be exact: it
 * collects expired entries, firing at the earliest expiry but no more often
 * than every aging/16, and costs a scan of the table when it fires.
 *
 * Loops: every forwarding adds one to a count kept in the frame's flag bits
 * (PKT_BR_HOPS_MASK, which survive a ve crossing as the packet itself moves
 * and are cleared when a router forwards). At VIF_BRIDGE_HOP_LIMIT the frame
 * is dropped, so a looping frame dies after that many bridges. A meshed loop
 * multiplies copies at every flood, so flooding also takes a token from a
 * per-bridge bucket refilled in virtual time: the storm a loop can start at
 * one instant is bounded by the burst, and afterwards by the rate.
 */
#include <stdlib.h>
#include <string.h>

#include "net/if_var.h"
#include "wire/wire.h"

#define BRIDGE_FDB_MIN_BUCKETS 64

struct fdb_entry {
	struct fdb_entry *next;
	struct bridge_port *port;
	uint64_t seen; /* ns */
	uint8_t mac[6];
};

struct bridge_port {
	struct list link; /* in the bridge's ports */
	struct bridge *br;
	struct ifnet *ifp;
	struct vif_bridge_port_stats st;
};

struct bridge {
	struct ifnet *ifp;
	struct world *w;
	struct list ports;
	struct fdb_entry **tab; /* cap buckets, NULL until the first entry */
	uint32_t cap, count, max;
	uint64_t key;
	uint64_t aging;
	struct timer gc;
	uint64_t flood_tokens, flood_stamp;
	struct vif_bridge_stats st;
};

static uint64_t mac_u64(const uint8_t *m)
{
	return (uint64_t)m[0] << 40 | (uint64_t)m[1] << 32 |
	       (uint64_t)m[2] << 24 | (uint64_t)m[3] << 16 |
	       (uint64_t)m[4] << 8 | m[5];
}

static uint32_t fdb_bucket(const struct bridge *br, const uint8_t *mac)
{
	return (uint32_t)mix64(mac_u64(mac) ^ br->key) & (br->cap - 1);
}

static bool fdb_expired(const struct bridge *br, const struct fdb_entry *e)
{
	return br->w->now - e->seen >= br->aging;
}

static struct fdb_entry *fdb_find(const struct bridge *br, const uint8_t *mac)
{
	struct fdb_entry *e;

	if (!br->tab)
		return NULL;
	for (e = br->tab[fdb_bucket(br, mac)]; e; e = e->next)
		if (memcmp(e->mac, mac, 6) == 0)
			return e;
	return NULL;
}

/* Double the table (or create it); on failure the old one stays, longer
 * chains but correct. */
static void fdb_grow(struct bridge *br)
{
	uint32_t ncap = br->cap ? br->cap * 2 : BRIDGE_FDB_MIN_BUCKETS;
	struct fdb_entry **nt = calloc(ncap, sizeof(*nt));
	uint32_t ocap = br->cap;
	struct fdb_entry **ot = br->tab;

	if (!nt)
		return;
	br->tab = nt;
	br->cap = ncap;
	for (uint32_t i = 0; i < ocap; i++) {
		struct fdb_entry *e = ot[i], *next;

		for (; e; e = next) {
			uint32_t b = fdb_bucket(br, e->mac);

			next = e->next;
			e->next = nt[b];
			nt[b] = e;
		}
	}
	free(ot);
}

static void fdb_arm_gc(struct bridge *br, uint64_t at)
{
	uint64_t floor = br->w->now + br->aging / 16;

	timer_arm(br->w, &br->gc, at > floor ? at : floor);
}

/* Remove the entries matching port (NULL: all), or, with expired_only,
 * those past the aging time; returns the earliest expiry of what stays
 * (UINT64_MAX when nothing). */
static uint64_t fdb_sweep(struct bridge *br, struct bridge_port *port,
			  bool expired_only)
{
	uint64_t next = UINT64_MAX;

	for (uint32_t i = 0; i < br->cap; i++) {
		struct fdb_entry **pp = &br->tab[i], *e;

		while ((e = *pp)) {
			bool gone = expired_only ? fdb_expired(br, e)
						 : !port || e->port == port;

			if (gone) {
				*pp = e->next;
				free(e);
				br->count--;
				continue;
			}
			if (e->seen + br->aging < next)
				next = e->seen + br->aging;
			pp = &e->next;
		}
	}
	if (!br->count)
		timer_cancel(br->w, &br->gc);
	return next;
}

static void bridge_gc(struct world *w, struct timer *t)
{
	struct bridge *br = container_of(t, struct bridge, gc);
	uint64_t next = fdb_sweep(br, NULL, true);

	(void)w;
	if (br->count)
		fdb_arm_gc(br, next);
}

/* Record that src was seen on port. The common case, a known station on
 * the same port, is a lookup and a store. */
static void fdb_learn(struct bridge *br, struct bridge_port *port,
		      const uint8_t *src)
{
	struct fdb_entry *e = fdb_find(br, src);
	uint32_t b;

	if (likely(e != NULL)) {
		if (unlikely(e->port != port)) {
			e->port = port;
			br->st.moved++;
		}
		e->seen = br->w->now;
		return;
	}
	if (memcmp(src, br->ifp->mac, 6) == 0)
		return; /* our own address, looped back: not a station */
	if (br->count >= br->max) {
		br->st.fdb_full++;
		return;
	}
	if (br->count >= br->cap)
		fdb_grow(br);
	e = br->tab ? malloc(sizeof(*e)) : NULL;
	if (!e) {
		br->st.fdb_full++;
		return;
	}
	memcpy(e->mac, src, 6);
	e->port = port;
	e->seen = br->w->now;
	b = fdb_bucket(br, src);
	e->next = br->tab[b];
	br->tab[b] = e;
	br->count++;
	br->st.learned++;
	if (!timer_pending(&br->gc))
		fdb_arm_gc(br, e->seen + br->aging);
}

/* The port a unicast destination lives on, or NULL: unknown, expired, or
 * on a port that is down (as Linux flushes a port's entries on carrier
 * loss, so the station is looked for elsewhere). */
static struct bridge_port *fdb_port(const struct bridge *br, const uint8_t *dst)
{
	struct fdb_entry *e = fdb_find(br, dst);

	if (!e || fdb_expired(br, e) || !(e->port->ifp->flags & VIFF_UP))
		return NULL;
	return e->port;
}

/* A token for one flood, from a bucket refilled in virtual time. */
static bool bridge_flood_ok(struct bridge *br)
{
	uint64_t now = br->w->now;

	if (now != br->flood_stamp) {
		uint64_t dt = now - br->flood_stamp;
		uint64_t add = dt >= NSEC_PER_SEC
				   ? VIF_BRIDGE_FLOOD_BURST
				   : dt * VIF_BRIDGE_FLOOD_RATE / NSEC_PER_SEC;

		/* Keep the remainder of a partial token for later. */
		if (add) {
			br->flood_tokens += add;
			if (br->flood_tokens > VIF_BRIDGE_FLOOD_BURST)
				br->flood_tokens = VIF_BRIDGE_FLOOD_BURST;
			br->flood_stamp = now;
		}
	}
	if (!br->flood_tokens) {
		br->st.flood_limited++;
		return false;
	}
	br->flood_tokens--;
	return true;
}

static void bridge_port_send(struct bridge_port *bp, struct pkt *p, bool flood)
{
	bp->st.tx++;
	if (flood)
		bp->st.flooded++;
	if_transmit(bp->ifp, p);
}

/* Send p out of every up port but `from`: clones share the bytes, the
 * last port takes p itself. Consumes p. */
static void bridge_flood(struct bridge *br, struct bridge_port *from,
			 struct pkt *p)
{
	struct bridge_port *last = NULL;
	struct list *pos, *tmp;

	if (!bridge_flood_ok(br)) {
		if (from)
			from->st.drops++;
		pkt_free(br->w, p);
		return;
	}
	br->st.flooded++;
	list_for_each_safe(pos, tmp, &br->ports)
	{
		struct bridge_port *bp =
		    container_of(pos, struct bridge_port, link);
		struct pkt *c;

		if (bp == from || !(bp->ifp->flags & VIFF_UP))
			continue;
		if (last && (c = pkt_clone(br->w, p)))
			bridge_port_send(last, c, true);
		last = bp;
	}
	if (last)
		bridge_port_send(last, p, true);
	else
		pkt_free(br->w, p);
}

void bridge_input(struct ifnet *port, struct pkt *p)
{
	struct bridge_port *bp = port->brport, *to;
	struct bridge *br = bp->br;
	const uint8_t *dst = p->data, *src = p->data + 6;
	struct pkt *up = NULL;
	uint32_t hops;

	bp->st.rx++;
	if (unlikely(!(br->ifp->flags & VIFF_UP))) {
		br->st.down_drops++;
		goto drop;
	}
	if (unlikely(eth_is_multicast(src))) {
		br->st.bad_src++;
		goto drop;
	}
	fdb_learn(br, bp, src);
	if (eth_is_multicast(dst)) {
		/* Up the bridge's stack and out of every other port. */
		up = pkt_clone(br->w, p);
		to = NULL;
	} else if (memcmp(dst, br->ifp->mac, 6) == 0) {
		br->st.local++;
		if_input(br->ifp, p);
		return;
	} else {
		to = fdb_port(br, dst);
		if (unlikely(to == bp)) {
			br->st.filtered++;
			goto drop;
		}
	}
	hops = (p->flags & PKT_BR_HOPS_MASK) >> PKT_BR_HOPS_SHIFT;
	if (unlikely(hops >= VIF_BRIDGE_HOP_LIMIT)) {
		br->st.hop_drops++;
		bp->st.drops++;
		pkt_free(br->w, p);
	} else {
		/* Forwarded: the receiver checks checksums as the first
		 * receiving stack would have (ve keeps the mark). */
		p->flags += 1u << PKT_BR_HOPS_SHIFT;
		p->flags |= PKT_FORWARDED;
		if (to) {
			br->st.forwarded++;
			bridge_port_send(to, p, false);
		} else {
			bridge_flood(br, bp, p);
		}
	}
	/* Last: the stack may call back into the API, even destroy us. */
	if (up) {
		br->st.local++;
		up->flags &= ~PKT_BR_HOPS_MASK;
		if_input(br->ifp, up);
	}
	return;
drop:
	bp->st.drops++;
	pkt_free(br->w, p);
}

/* Frames from the bridge's own stack (after its counters and capture). */
static void bridge_transmit(struct ifnet *ifp, struct pkt *p)
{
	struct bridge *br = ifp->bridge;
	struct bridge_port *to = NULL;

	if (!eth_is_multicast(p->data))
		to = fdb_port(br, p->data);
	if (to) {
		br->st.forwarded++;
		bridge_port_send(to, p, false);
		return;
	}
	bridge_flood(br, NULL, p);
}

static void bridge_port_free(struct bridge_port *bp)
{
	struct bridge *br = bp->br;

	if (br->tab)
		fdb_sweep(br, bp, false);
	list_remove(&bp->link);
	bp->ifp->brport = NULL;
	vlog(br->ifp->vi, VLOG_INFO, "bridge %s: port %s released",
	     br->ifp->name, bp->ifp->name);
	free(bp);
}

static void bridge_release_ports(struct bridge *br)
{
	while (!list_empty(&br->ports))
		bridge_port_free(
		    container_of(br->ports.next, struct bridge_port, link));
}

void bridge_ifdetach(struct ifnet *ifp)
{
	if (ifp->brport)
		bridge_port_free(ifp->brport);
	if (ifp->bridge)
		bridge_release_ports(ifp->bridge);
}

static void bridge_destroy(struct ifnet *ifp)
{
	struct bridge *br = ifp->bridge;

	bridge_release_ports(br);
	if (br->tab)
		fdb_sweep(br, NULL, false);
	timer_cancel(br->w, &br->gc);
	free(br->tab);
	free(br);
	ifp->bridge = NULL;
}

static const struct if_ops bridge_ops = {
    .kind = "bridge",
    .transmit = bridge_transmit,
    .destroy = bridge_destroy,
};

/* ---- the API ------------------------------------------------------------- */
static struct bridge *bridge_of(const struct ifnet *ifp)
{
	return ifp && ifp->type == VIF_BRIDGE ? ifp->bridge : NULL;
}

int vif_bridge_create(struct vimage *vi, const char *name, struct ifnet **out)
{
	struct bridge *br = calloc(1, sizeof(*br));
	struct ifnet *ifp;
	int err;

	if (!br)
		return -ENOMEM;
	err = if_create(vi, name, "br", VIF_BRIDGE, &bridge_ops, &ifp);
	if (err) {
		free(br);
		return err;
	}
	br->ifp = ifp;
	br->w = vi->world;
	list_init(&br->ports);
	br->max = VIF_BRIDGE_FDB_DEFAULT;
	br->aging = VIF_BRIDGE_AGING_DEFAULT;
	br->key = rng_next(&br->w->rng);
	br->flood_tokens = VIF_BRIDGE_FLOOD_BURST;
	br->flood_stamp = br->w->now;
	timer_init(&br->gc, bridge_gc);
	ifp->bridge = br;
	*out = ifp;
	return 0;
}

int vif_bridge_add_port(struct ifnet *brif, struct ifnet *port)
{
	struct bridge *br = bridge_of(brif);
	struct bridge_port *bp;

	if (!br || !port || (port->type != VIF_VE && port->type != VIF_EXT))
		return -EINVAL;
	if (port->vi != brif->vi)
		return -EXDEV;
	if (port->brport)
		return -EBUSY;
	bp = calloc(1, sizeof(*bp));
	if (!bp)
		return -ENOMEM;
	bp->br = br;
	bp->ifp = port;
	list_insert_tail(&br->ports, &bp->link);
	port->brport = bp;
	vlog(brif->vi, VLOG_INFO, "bridge %s: port %s added", brif->name,
	     port->name);
	return 0;
}

int vif_bridge_del_port(struct ifnet *brif, struct ifnet *port)
{
	struct bridge *br = bridge_of(brif);

	if (!br || !port)
		return -EINVAL;
	if (!port->brport || port->brport->br != br)
		return -ENOENT;
	bridge_port_free(port->brport);
	return 0;
}

struct ifnet *vif_bridge_port_of(const struct ifnet *ifp)
{
	return ifp && ifp->brport ? ifp->brport->br->ifp : NULL;
}

int vif_bridge_port_walk(struct ifnet *brif,
			 int (*fn)(void *ctx, struct ifnet *port), void *ctx)
{
	struct bridge *br = bridge_of(brif);
	struct list *pos, *tmp;
	int rc;

	if (!br || !fn)
		return -EINVAL;
	list_for_each_safe(pos, tmp, &br->ports)
	{
		rc = fn(ctx, container_of(pos, struct bridge_port, link)->ifp);
		if (rc)
			return rc;
	}
	return 0;
}

int vif_bridge_set_aging(struct ifnet *brif, uint64_t ns)
{
	struct bridge *br = bridge_of(brif);

	if (!br || ns == 0 || ns > VIF_BRIDGE_AGING_MAX)
		return -EINVAL;
	br->aging = ns;
	if (br->count)
		timer_arm(br->w, &br->gc, br->w->now); /* recompute */
	return 0;
}

int vif_bridge_get_aging(const struct ifnet *brif, uint64_t *ns)
{
	const struct bridge *br = bridge_of(brif);

	if (!br || !ns)
		return -EINVAL;
	*ns = br->aging;
	return 0;
}

int vif_bridge_set_fdb_max(struct ifnet *brif, unsigned max)
{
	struct bridge *br = bridge_of(brif);

	if (!br || max == 0 || max > VIF_BRIDGE_FDB_MAX)
		return -EINVAL;
	br->max = max;
	return 0;
}

int vif_bridge_fdb_walk(struct ifnet *brif,
			int (*fn)(void *ctx,
				  const struct vif_bridge_fdb_entry *e),
			void *ctx)
{
	struct bridge *br = bridge_of(brif);
	struct vif_bridge_fdb_entry v = {.is_local = true};
	int rc;

	if (!br || !fn)
		return -EINVAL;
	memcpy(v.mac, brif->mac, 6);
	v.port = brif->index;
	rc = fn(ctx, &v);
	if (rc)
		return rc;
	for (uint32_t i = 0; i < br->cap; i++) {
		for (struct fdb_entry *e = br->tab[i]; e; e = e->next) {
			if (fdb_expired(br, e))
				continue;
			memcpy(v.mac, e->mac, 6);
			v.port = e->port->ifp->index;
			v.age_ns = br->w->now - e->seen;
			v.is_local = false;
			rc = fn(ctx, &v);
			if (rc)
				return rc;
		}
	}
	return 0;
}

int vif_bridge_fdb_flush(struct ifnet *brif, struct ifnet *port)
{
	struct bridge *br = bridge_of(brif);

	if (!br)
		return -EINVAL;
	if (port && (!port->brport || port->brport->br != br))
		return -ENOENT;
	if (br->tab)
		fdb_sweep(br, port ? port->brport : NULL, false);
	return 0;
}

int vif_bridge_stats(const struct ifnet *brif, struct vif_bridge_stats *st)
{
	const struct bridge *br = bridge_of(brif);

	if (!br || !st)
		return -EINVAL;
	*st = br->st;
	st->fdb_entries = br->count;
	return 0;
}

int vif_bridge_port_stats(const struct ifnet *port,
			  struct vif_bridge_port_stats *st)
{
	if (!port || !port->brport || !st)
		return -EINVAL;
	*st = port->brport->st;
	return 0;
}
