/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Interfaces: creation, naming, indexes, flags, MTU, counters, capture, the
 * receive and transmit entry points, and moving between vimages.
 *
 * Every vimage has lo0 (index 1). Interface names are unique within a
 * vimage, indexes are per vimage as in Linux network namespaces. An
 * interface remembers its "home", the vimage that created it: when a vimage
 * is destroyed its own interfaces are destroyed and the ones moved in are
 * handed back to the parent (vimage(8) -d). Moving an interface up to the
 * parent hands ownership to the parent too, so a destroyed vimage never has
 * to look for its interfaces elsewhere.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/if_var.h"
#include "netinet/inet.h"
#include "route/fib.h"
#include "wire/wire.h"

#define IF_MTU_MIN 68
#define IF_MTU_MAX 65535
#define IF_MTU_DEFAULT 1500
#define LO_MTU 65535

static void if_free(struct ifnet *ifp);
int loop_create(struct vimage *vi, struct ifnet **out); /* loop.c */

static bool if_name_ok(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n >= VIF_NAMESIZ)
		return false;
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return false;
	for (const char *p = name; *p; p++)
		if (*p == '/' || *p == ':' || *p <= ' ' || *p == 0x7f)
			return false;
	return true;
}

/* Most vimages have two or three interfaces and a list scan is the fastest
 * lookup; a hub with thousands (one ve end per neighbour) gets a hash. */
#define IF_HASH_THRESHOLD 16

static uint32_t if_name_hash(const char *name)
{
	uint32_t h = 2166136261u;

	while (*name) {
		h ^= (unsigned char)*name++;
		h *= 16777619u;
	}
	return h;
}

static void if_hash_insert(struct if_state *is, struct ifnet *ifp)
{
	uint32_t b = if_name_hash(ifp->name) & (is->hcap - 1);

	ifp->hnext = is->htab[b];
	is->htab[b] = ifp;
}

static void if_index_insert(struct if_state *is, struct ifnet *ifp)
{
	uint32_t b = ifp->index & (is->hcap - 1);

	ifp->inext = is->itab[b];
	is->itab[b] = ifp;
}

static void if_index_remove(struct if_state *is, struct ifnet *ifp)
{
	struct ifnet **pp = &is->itab[ifp->index & (is->hcap - 1)];

	while (*pp && *pp != ifp)
		pp = &(*pp)->inext;
	if (*pp)
		*pp = ifp->inext;
}

static void if_hash_remove(struct if_state *is, struct ifnet *ifp)
{
	struct ifnet **pp = &is->htab[if_name_hash(ifp->name) & (is->hcap - 1)];

	while (*pp && *pp != ifp)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = ifp->hnext;
}

/* Keep the table at most 1/2 full; allocation failure just keeps the old
 * table (or the list scan), which stays correct. */
static void if_hash_resize(struct if_state *is)
{
	uint32_t cap = is->hcap ? is->hcap : 32;
	struct ifnet **t, **ti;
	struct list *pos, *tmp;

	if (is->count < IF_HASH_THRESHOLD || (is->htab && is->count * 2 < is->hcap))
		return;
	while (cap < is->count * 4)
		cap *= 2;
	t = calloc(cap, sizeof(*t));
	ti = calloc(cap, sizeof(*ti));
	if (!t || !ti) {
		free(t);
		free(ti);
		return;
	}
	free(is->htab);
	free(is->itab);
	is->htab = t;
	is->itab = ti;
	is->hcap = cap;
	list_for_each_safe(pos, tmp, &is->ifs)
	{
		if_hash_insert(is, container_of(pos, struct ifnet, link));
		if_index_insert(is, container_of(pos, struct ifnet, link));
	}
}

struct ifnet *vif_lookup(struct vimage *vi, const char *name)
{
	struct if_state *is = vimage_if(vi);
	struct list *pos, *tmp;

	if (!name)
		return NULL;
	if (is->htab) {
		struct ifnet *ifp = is->htab[if_name_hash(name) & (is->hcap - 1)];

		while (ifp && strcmp(ifp->name, name) != 0)
			ifp = ifp->hnext;
		return ifp;
	}
	list_for_each_safe(pos, tmp, &is->ifs)
	{
		struct ifnet *ifp = container_of(pos, struct ifnet, link);

		if (strcmp(ifp->name, name) == 0)
			return ifp;
	}
	return NULL;
}

struct ifnet *vif_by_index(struct vimage *vi, unsigned index)
{
	struct if_state *is = vimage_if(vi);
	struct list *pos, *tmp;

	if (is->itab) {
		struct ifnet *ifp = is->itab[index & (is->hcap - 1)];

		while (ifp && ifp->index != index)
			ifp = ifp->inext;
		return ifp;
	}
	list_for_each_safe(pos, tmp, &is->ifs)
	{
		struct ifnet *ifp = container_of(pos, struct ifnet, link);

		if (ifp->index == index)
			return ifp;
	}
	return NULL;
}

struct ifnet *vif_first(struct vimage *vi)
{
	struct if_state *is = vimage_if(vi);

	return list_empty(&is->ifs) ? NULL
				    : container_of(is->ifs.next, struct ifnet, link);
}

struct ifnet *vif_next(struct ifnet *ifp)
{
	struct if_state *is = vimage_if(ifp->vi);

	return ifp->link.next == &is->ifs
		       ? NULL
		       : container_of(ifp->link.next, struct ifnet, link);
}

const char *vif_name(const struct ifnet *ifp) { return ifp->name; }
unsigned vif_index(const struct ifnet *ifp) { return ifp->index; }
struct vimage *vif_vimage(const struct ifnet *ifp) { return ifp->vi; }
struct vimage *vif_home(const struct ifnet *ifp) { return ifp->home; }
enum vif_type vif_type(const struct ifnet *ifp) { return (enum vif_type)ifp->type; }
uint32_t vif_flags(const struct ifnet *ifp) { return ifp->flags; }
unsigned vif_mtu(const struct ifnet *ifp) { return ifp->mtu; }

void vif_mac(const struct ifnet *ifp, uint8_t mac[6])
{
	memcpy(mac, ifp->mac, 6);
}

void vif_get_stats(const struct ifnet *ifp, struct vif_stats *st)
{
	*st = ifp->st;
}

/* Pick "<prefix>N" free in the vimage, counting on from the last pick so
 * that naming the n-th interface costs O(1), not O(n). */
static int if_pick_name(struct vimage *vi, const char *prefix, char *out)
{
	struct if_state *is = vimage_if(vi);

	for (unsigned tries = 0; tries < 1000000; tries++) {
		unsigned n = is->pick_hint++ % 1000000;

		snprintf(out, VIF_NAMESIZ, "%s%u", prefix, n);
		if (!vif_lookup(vi, out))
			return 0;
	}
	return -ENFILE;
}

/* Link into vi's list (kept in index order) with a fresh index. */
static void if_link(struct vimage *vi, struct ifnet *ifp)
{
	struct if_state *is = vimage_if(vi);

	ifp->vi = vi;
	ifp->index = ++is->next_index;
	list_insert_tail(&is->ifs, &ifp->link);
	is->count++;
	if (is->htab) {
		if_hash_insert(is, ifp);
		if_index_insert(is, ifp);
	}
	if_hash_resize(is);
}

static void if_unlink(struct ifnet *ifp)
{
	struct if_state *is = vimage_if(ifp->vi);

	list_remove(&ifp->link);
	is->count--;
	if (is->htab) {
		if_hash_remove(is, ifp);
		if_index_remove(is, ifp);
	}
}

int if_create(struct vimage *vi, const char *name, const char *prefix,
	      enum vif_type type, const struct if_ops *ops, struct ifnet **out)
{
	struct world *w = vi->world;
	char picked[VIF_NAMESIZ];
	struct ifnet *ifp;
	int err;

	if (name) {
		if (!if_name_ok(name))
			return -EINVAL;
		if (vif_lookup(vi, name))
			return -EEXIST;
	} else {
		err = if_pick_name(vi, prefix, picked);
		if (err)
			return err;
		name = picked;
	}
	ifp = calloc(1, sizeof(*ifp));
	if (!ifp)
		return -ENOMEM;
	strcpy(ifp->name, name);
	list_init(&ifp->routes);
	ifp->home = vi;
	ifp->ops = ops;
	ifp->type = (uint8_t)type;
	if (type == VIF_LOOPBACK) {
		ifp->flags = VIFF_LOOPBACK | VIFF_RUNNING | VIFF_LOWER_UP;
		ifp->mtu = LO_MTU;
	} else {
		uint64_t seq = ++w->mac_seq;

		ifp->flags = VIFF_BROADCAST | VIFF_MULTICAST;
		ifp->mtu = IF_MTU_DEFAULT;
		/* Locally administered, unicast; unique within the world. */
		ifp->mac[0] = 0x02;
		ifp->mac[1] = (uint8_t)(seq >> 32);
		ifp->mac[2] = (uint8_t)(seq >> 24);
		ifp->mac[3] = (uint8_t)(seq >> 16);
		ifp->mac[4] = (uint8_t)(seq >> 8);
		ifp->mac[5] = (uint8_t)seq;
	}
	if_link(vi, ifp);
	w->ifnets_live++;
	vlog(vi, VLOG_INFO, "interface %s created (index %u)", ifp->name,
	     ifp->index);
	*out = ifp;
	return 0;
}

/* Everything the vimage knows about ifp goes: queued frames, addresses,
 * routes through it, neighbour entries. */
static void if_detach_from_vimage(struct ifnet *ifp)
{
	struct vimage *vi = ifp->vi;

	in_addr_remove_all(ifp);
	fib_purge_ifp(vi, ifp);
	arp_flush_ifp(vi, ifp);
}

static void if_free(struct ifnet *ifp)
{
	struct world *w = ifp->vi->world;

	if (unlikely(ifp->brport || ifp->bridge))
		bridge_ifdetach(ifp);
	if_detach_from_vimage(ifp);
	if_unlink(ifp);
	shaper_detach(ifp);
	if (ifp->ops && ifp->ops->destroy)
		ifp->ops->destroy(ifp);
	free(ifp->cap);
	ifp->cap = NULL;
	w->ifnets_live--;
	ifp->dead = true;
	ifp->peer = NULL;
	if (!ifp->rx_pending)
		if_reap(ifp);
}

void if_reap(struct ifnet *ifp)
{
	free(ifp);
}

/* Free ifp and, for a ve end, its peer: a pair lives and dies together. */
static void if_free_pair(struct ifnet *ifp)
{
	struct ifnet *peer = ifp->peer;

	if (peer) {
		peer->peer = NULL;
		ifp->peer = NULL;
		if_free(peer);
	}
	if_free(ifp);
}

int vif_destroy(struct ifnet *ifp)
{
	if (ifp->type == VIF_LOOPBACK)
		return -EPERM;
	vlog(ifp->vi, VLOG_INFO, "interface %s destroyed", ifp->name);
	if_free_pair(ifp);
	return 0;
}

int vif_set_up(struct ifnet *ifp, bool up)
{
	if (up == !!(ifp->flags & VIFF_UP))
		return 0;
	if (up) {
		ifp->flags |= VIFF_UP | VIFF_RUNNING | VIFF_LOWER_UP;
		/* Announce our addresses, as an address change would. */
		if (ifp->type != VIF_LOOPBACK)
			for (struct ifaddr *ia = ifp->addrs; ia; ia = ia->next)
				if (ia->addr.family == AF_INET)
					arp_announce(ifp, ia->addr.v4);
	} else {
		ifp->flags &= ~(uint32_t)VIFF_UP;
		if (ifp->type != VIF_LOOPBACK)
			ifp->flags &= ~(uint32_t)(VIFF_RUNNING | VIFF_LOWER_UP);
		arp_flush_ifp(ifp->vi, ifp);
	}
	vlog(ifp->vi, VLOG_INFO, "interface %s %s", ifp->name, up ? "up" : "down");
	return 0;
}

int vif_set_mtu(struct ifnet *ifp, unsigned mtu)
{
	if (mtu < IF_MTU_MIN || mtu > IF_MTU_MAX)
		return -EINVAL;
	ifp->mtu = mtu;
	/* Cached routes (TCP's) carry the MTU: make them look again. */
	vimage_route(ifp->vi)->changes++;
	return 0;
}

int vif_set_mac(struct ifnet *ifp, const uint8_t mac[6])
{
	static const uint8_t zero[6];

	if (ifp->type == VIF_LOOPBACK)
		return -EOPNOTSUPP;
	if (eth_is_multicast(mac) || memcmp(mac, zero, 6) == 0)
		return -EADDRNOTAVAIL;
	memcpy(ifp->mac, mac, 6);
	return 0;
}

int vif_rename(struct ifnet *ifp, const char *name)
{
	struct ifnet *other;

	if (!if_name_ok(name))
		return -EINVAL;
	other = vif_lookup(ifp->vi, name);
	if (other == ifp)
		return 0;
	if (other)
		return -EEXIST;
	if (ifp->flags & VIFF_UP)
		return -EBUSY;
	if (vimage_if(ifp->vi)->htab)
		if_hash_remove(vimage_if(ifp->vi), ifp);
	strcpy(ifp->name, name);
	if (vimage_if(ifp->vi)->htab)
		if_hash_insert(vimage_if(ifp->vi), ifp);
	return 0;
}

/* The move itself; the caller has checked that `to` may take ifp. */
static int if_move(struct ifnet *ifp, struct vimage *to, const char *name)
{
	struct vimage *from = ifp->vi;
	char keep[VIF_NAMESIZ];

	if (!if_name_ok(name))
		return -EINVAL;
	if (vif_lookup(to, name))
		return -EEXIST;
	strcpy(keep, name);
	if (ifp->brport || ifp->bridge)
		bridge_ifdetach(ifp);
	vif_set_up(ifp, false);
	world_purge_rx(from->world, ifp); /* frames in flight die with the move */
	shaper_flush(ifp);
	if_detach_from_vimage(ifp);
	if_unlink(ifp);
	if (from->parent == to && ifp->home == from)
		ifp->home = to; /* moving up hands ownership up */
	if (to->parent == from)
		strcpy(ifp->parent_name, ifp->name);
	strcpy(ifp->name, keep);
	if_link(to, ifp);
	vlog(to, VLOG_INFO, "interface %s moved in from %s", ifp->name,
	     from->name);
	return 0;
}

int vif_move(struct ifnet *ifp, struct vimage *to, const char *newname)
{
	struct vimage *from = ifp->vi;

	if (to == from)
		return newname ? vif_rename(ifp, newname) : 0;
	if (to->parent != from && from->parent != to)
		return -EPERM;
	if (ifp->type == VIF_LOOPBACK)
		return -EPERM;
	if (to->dying)
		return -ENOENT;
	return if_move(ifp, to, newname ? newname : ifp->name);
}

/* ---- capture ----------------------------------------------------------- */
int vif_capture_start(struct ifnet *ifp, vif_capture_sink sink, void *ctx,
		      uint32_t snaplen)
{
	uint8_t hdr[PCAP_FILE_HLEN];

	if (ifp->cap)
		return -EBUSY;
	if (!sink)
		return -EINVAL;
	ifp->cap = calloc(1, sizeof(*ifp->cap));
	if (!ifp->cap)
		return -ENOMEM;
	ifp->cap->sink = sink;
	ifp->cap->ctx = ctx;
	ifp->cap->snaplen = snaplen ? snaplen : 65535;
	pcap_file_header_emit(hdr, ifp->cap->snaplen, PCAP_LINKTYPE_ETHERNET);
	sink(ctx, hdr, sizeof(hdr));
	return 0;
}

int vif_capture_stop(struct ifnet *ifp)
{
	if (!ifp->cap)
		return -ENOENT;
	free(ifp->cap);
	ifp->cap = NULL;
	return 0;
}

void if_capture_frame(struct ifnet *ifp, const struct pkt *p)
{
	struct if_capture *c = ifp->cap;
	uint8_t rec[PCAP_REC_HLEN];
	uint32_t caplen = p->len < c->snaplen ? p->len : c->snaplen;

	pcap_record_header_emit(rec, ifp->vi->world->now, caplen, p->len);
	c->sink(c->ctx, rec, sizeof(rec));
	if (unlikely(p->flags & PKT_CSUM_NONE)) {
		/* A capture is outside the world: show the checksum the
		 * segment would carry on a wire. */
		uint8_t *copy = malloc(p->len);

		if (copy) {
			memcpy(copy, p->data, p->len);
			ether_csum_fill(copy, p->len);
			c->sink(c->ctx, copy, caplen);
			free(copy);
			return;
		}
	}
	c->sink(c->ctx, p->data, caplen);
}

/* ---- the data path -------------------------------------------------------- */
void if_input(struct ifnet *ifp, struct pkt *p)
{
	if (unlikely(ifp->shaper[VSHAPE_INGRESS] != NULL)) {
		shaper_enqueue(ifp->shaper[VSHAPE_INGRESS], p);
		return;
	}
	if_input_unshaped(ifp, p);
}

void if_input_unshaped(struct ifnet *ifp, struct pkt *p)
{
	struct world *w = ifp->vi->world;

	if (unlikely(!(ifp->flags & VIFF_UP))) {
		ifp->st.idrops++;
		pkt_free(w, p);
		return;
	}
	if (unlikely(p->len < ETH_HLEN || p->len > ifp->mtu + ETH_HLEN + 4)) {
		ifp->st.ierrors++;
		pkt_free(w, p);
		return;
	}
	ifp->st.ipackets++;
	ifp->st.ibytes += p->len;
	if (unlikely(ifp->cap != NULL))
		if_capture_frame(ifp, p);
	if (unlikely(ifp->brport != NULL)) {
		bridge_input(ifp, p);
		return;
	}
	ether_input(ifp, p);
}

void if_transmit(struct ifnet *ifp, struct pkt *p)
{
	if (unlikely(!(ifp->flags & VIFF_UP))) {
		ifp->st.odrops++;
		pkt_free(ifp->vi->world, p);
		return;
	}
	ifp->st.opackets++;
	ifp->st.obytes += p->len;
	if (unlikely(ifp->cap != NULL))
		if_capture_frame(ifp, p);
	if (unlikely(ifp->shaper[VSHAPE_EGRESS] != NULL)) {
		shaper_enqueue(ifp->shaper[VSHAPE_EGRESS], p);
		return;
	}
	ifp->ops->transmit(ifp, p);
}

/* ---- the module -------------------------------------------------------------- */
static int if_init(struct vimage *vi, void *state)
{
	struct if_state *is = state;
	struct vaddr lo = VADDR4(127, 0, 0, 1);
	int err;

	list_init(&is->ifs);
	err = loop_create(vi, &is->lo);
	if (err)
		return err;
	err = vif_addr_add(is->lo, &lo, 8);
	if (err)
		goto fail;
	vif_set_up(is->lo, true);
	return 0;
fail:
	if_free(is->lo);
	is->lo = NULL;
	return err;
}

/* The vimage(8) -d rule: interfaces created here are destroyed, interfaces
 * moved in go back to the parent (renamed if the parent reused the name). */
static void if_destroy_all(struct vimage *vi, void *state)
{
	struct if_state *is = state;

	while (!list_empty(&is->ifs)) {
		struct ifnet *ifp = container_of(is->ifs.next, struct ifnet, link);
		char name[VIF_NAMESIZ];

		/* The parent may be dying too (we are its child, destroyed
		 * first): it takes the interface all the same and applies
		 * this rule again when its own turn comes. */
		if (ifp->type != VIF_LOOPBACK && ifp->home != vi && vi->parent) {
			if (ifp->parent_name[0] &&
			    if_move(ifp, vi->parent, ifp->parent_name) == 0)
				continue;
			if (if_move(ifp, vi->parent, ifp->name) == 0)
				continue;
			if (if_pick_name(vi->parent, "ve", name) == 0 &&
			    if_move(ifp, vi->parent, name) == 0)
				continue;
		}
		if_free_pair(ifp);
	}
	free(is->htab);
	free(is->itab);
	is->htab = is->itab = NULL;
}

const struct vmodule if_module = {
	.name = "if",
	.id = VMOD_IF,
	.size = sizeof(struct if_state),
	.init = if_init,
	.destroy = if_destroy_all,
};
