/* SPDX-License-Identifier: BSD-2-Clause */
/* Interfaces: ve pairs, names, indexes, moves, the -d rule, addresses. */
#include <errno.h>
#include <string.h>

#include "core/kern.h"
#include "harness/test.h"
#include "vimage/net.h"

static struct world *mkworld(void)
{
	struct world_config cfg = {.seed = 3};
	struct world *w = NULL;

	REQUIRE(world_create(&cfg, &w) == 0);
	return w;
}

TEST(ve_pair_ends_in_two_vimages)
{
	struct world *w = mkworld();
	struct vimage *a, *b;
	struct ifnet *ea, *eb;
	uint8_t ma[6], mb[6];

	REQUIRE(vimage_create(w, "a", &a) == 0);
	REQUIRE(vimage_create(w, "b", &b) == 0);
	REQUIRE(vif_ve_create(a, "eth0", b, "eth0", &ea, &eb) == 0);
	CHECK(vif_ve_peer(ea) == eb);
	CHECK(vif_vimage(eb) == b);
	CHECK_EQ(vif_index(ea), 2); /* after lo0 */
	vif_mac(ea, ma);
	vif_mac(eb, mb);
	CHECK(memcmp(ma, mb, 6) != 0);
	CHECK_EQ(ma[0] & 1, 0); /* unicast */
	CHECK_EQ(ma[0] & 2, 2); /* locally administered */
	CHECK_EQ(vif_ve_create(a, "eth0", b, "x", NULL, NULL), -EEXIST);
	CHECK_EQ(vif_ve_create(a, "bad/name", b, "x", NULL, NULL), -EINVAL);
	CHECK_EQ(vif_destroy(ea), 0); /* takes the peer */
	CHECK(vif_lookup(b, "eth0") == NULL);
	world_destroy(w);
}

TEST(ve_macs_unique_in_world)
{
	struct world *w = mkworld();
	struct vimage *a;
	uint8_t macs[200][6];

	REQUIRE(vimage_create(w, "a", &a) == 0);
	for (int i = 0; i < 100; i++) {
		struct ifnet *x, *y;
		REQUIRE(vif_ve_create(a, NULL, a, NULL, &x, &y) == 0);
		vif_mac(x, macs[2 * i]);
		vif_mac(y, macs[2 * i + 1]);
	}
	for (int i = 0; i < 200; i++)
		for (int j = i + 1; j < 200; j++)
			CHECK(memcmp(macs[i], macs[j], 6) != 0);
	world_destroy(w);
}

TEST(if_mtu_bounds)
{
	struct world *w = mkworld();
	struct vimage *a;
	struct ifnet *x, *y;

	REQUIRE(vimage_create(w, "a", &a) == 0);
	REQUIRE(vif_ve_create(a, "x", a, "y", &x, &y) == 0);
	CHECK_EQ(vif_mtu(x), 1500);
	CHECK_EQ(vif_set_mtu(x, 65535), 0);
	CHECK_EQ(vif_set_mtu(x, 65536), -EINVAL);
	CHECK_EQ(vif_set_mtu(x, 67), -EINVAL);
	CHECK_EQ(vif_set_mtu(x, 68), 0);
	world_destroy(w);
}

TEST(if_rename_rules)
{
	struct world *w = mkworld();
	struct vimage *a;
	struct ifnet *x, *y;

	REQUIRE(vimage_create(w, "a", &a) == 0);
	REQUIRE(vif_ve_create(a, "x", a, "y", &x, &y) == 0);
	CHECK_EQ(vif_rename(x, "y"), -EEXIST);
	CHECK_EQ(vif_rename(x, "0123456789abcdef"), -EINVAL); /* 16 chars */
	CHECK_EQ(vif_rename(x, "wan0"), 0);
	CHECK(vif_lookup(a, "wan0") == x);
	vif_set_up(x, true);
	CHECK_EQ(vif_rename(x, "wan1"), -EBUSY);
	CHECK_EQ(vif_destroy(vif_lookup(a, "lo0")), -EPERM);
	world_destroy(w);
}

TEST(if_move_to_child_and_back_with_rename)
{
	struct world *w = mkworld();
	struct vimage *root = world_root(w), *a, *ab, *b;
	struct ifnet *x, *y;
	struct vaddr addr = VADDR4(10, 0, 0, 1);

	REQUIRE(vimage_create(w, "a", &a) == 0);
	REQUIRE(vimage_create(w, "a.b", &ab) == 0);
	REQUIRE(vimage_create(w, "b", &b) == 0);
	REQUIRE(vif_ve_create(root, "ve0", root, "ve1", &x, &y) == 0);
	REQUIRE(vif_addr_add(x, &addr, 24) == 0);
	CHECK_EQ(vif_move(x, ab, NULL), -EPERM); /* not a child of root */
	CHECK_EQ(vif_move(x, a, "eth0"), 0);
	CHECK(vif_vimage(x) == a);
	CHECK(vif_lookup(root, "ve0") == NULL);
	CHECK(vif_lookup(a, "eth0") == x);
	CHECK_EQ(vif_index(x), 2);
	/* Addresses and routes stay behind (FreeBSD's if_vmove). */
	struct vroute r;
	CHECK_EQ(vroute_get(root, &addr, &r), -ENETUNREACH);
	CHECK(!(vif_flags(x) & VIFF_UP));
	CHECK_EQ(vif_move(x, b, NULL), -EPERM); /* sibling */
	CHECK_EQ(vif_move(x, ab, NULL), 0);
	CHECK_EQ(vif_move(x, a, NULL), 0);
	CHECK_EQ(vif_move(x, root, "ve0"), 0);
	CHECK(vif_lookup(root, "ve0") == x);
	world_destroy(w);
}

TEST(destroy_returns_moved_in_and_destroys_own_interfaces)
{
	struct world *w = mkworld();
	struct vimage *root = world_root(w), *a;
	struct ifnet *x, *y, *own, *own_peer;
	struct world_counts c0, c1;

	REQUIRE(vimage_create(w, "a", &a) == 0);
	REQUIRE(vif_ve_create(root, "ve0", root, "ve1", &x, &y) == 0);
	world_counts(w, &c0);
	REQUIRE(vif_move(x, a, "eth0") == 0);
	/* A pair created inside a, with its peer moved up to the root. */
	REQUIRE(vif_ve_create(a, "in0", a, "in1", &own, &own_peer) == 0);
	REQUIRE(vif_move(own_peer, root, "up0") == 0);
	CHECK_EQ(vimage_destroy(a), 0);
	/* eth0 came back as ve0; a's own pair is gone with its peer. */
	CHECK(vif_lookup(root, "ve0") == x);
	CHECK(vif_vimage(x) == root);
	CHECK(vif_lookup(root, "up0") == NULL);
	world_counts(w, &c1);
	CHECK_EQ(c1.ifnets, c0.ifnets - 1); /* a's lo0 */
	world_destroy(w);
}

TEST(addr_add_creates_connected_local_and_broadcast_routes)
{
	struct world *w = mkworld();
	struct vimage *a;
	struct ifnet *x, *y;
	struct vaddr addr = VADDR4(192, 168, 7, 9), net = VADDR4(192, 168, 7, 200),
		     bc = VADDR4(192, 168, 7, 255);
	struct vroute r;

	REQUIRE(vimage_create(w, "a", &a) == 0);
	REQUIRE(vif_ve_create(a, "x", a, "y", &x, &y) == 0);
	CHECK_EQ(vif_addr_add(x, &addr, 24), 0);
	CHECK_EQ(vif_addr_add(x, &addr, 24), -EEXIST);
	CHECK_EQ(vroute_get(a, &addr, &r), 0);
	CHECK_EQ(r.type, VRT_LOCAL);
	CHECK_EQ(vroute_get(a, &net, &r), 0);
	CHECK_EQ(r.type, VRT_UNICAST);
	CHECK(r.ifp == x);
	CHECK_EQ(r.plen, 24);
	CHECK_EQ(vroute_get(a, &bc, &r), 0);
	CHECK_EQ(r.type, VRT_BROADCAST);
	CHECK_EQ(vif_addr_del(x, &addr, 24), 0);
	CHECK_EQ(vif_addr_del(x, &addr, 24), -EADDRNOTAVAIL);
	CHECK_EQ(vroute_get(a, &net, &r), -ENETUNREACH);
	CHECK_EQ(vroute_get(a, &addr, &r), -ENETUNREACH);
	CHECK_EQ(vroute_get(a, &bc, &r), -ENETUNREACH);
	world_destroy(w);
}

TEST(two_addresses_same_prefix_keep_connected_route)
{
	struct world *w = mkworld();
	struct vimage *a;
	struct ifnet *x, *y;
	struct vaddr a1 = VADDR4(10, 1, 0, 1), a2 = VADDR4(10, 1, 0, 2),
		     other = VADDR4(10, 1, 0, 77);
	struct vroute r;

	REQUIRE(vimage_create(w, "a", &a) == 0);
	REQUIRE(vif_ve_create(a, "x", a, "y", &x, &y) == 0);
	REQUIRE(vif_addr_add(x, &a1, 24) == 0);
	REQUIRE(vif_addr_add(y, &a2, 24) == 0);
	CHECK_EQ(vif_addr_del(x, &a1, 24), 0);
	CHECK_EQ(vroute_get(a, &other, &r), 0);
	CHECK(r.ifp == y);
	world_destroy(w);
}

TEST(route_add_checks)
{
	struct world *w = mkworld();
	struct vimage *a;
	struct ifnet *x, *y;
	struct vaddr addr = VADDR4(10, 0, 0, 1);
	struct vroute r = {.dst = VADDR4(172, 16, 0, 0), .plen = 12,
			   .type = VRT_UNICAST, .gw = VADDR4(10, 0, 0, 254)};
	struct vroute got;
	struct vaddr probe = VADDR4(172, 20, 1, 1);

	REQUIRE(vimage_create(w, "a", &a) == 0);
	REQUIRE(vif_ve_create(a, "x", a, "y", &x, &y) == 0);
	CHECK_EQ(vroute_add(a, &r), -ENETUNREACH); /* gateway not on link */
	REQUIRE(vif_addr_add(x, &addr, 24) == 0);
	CHECK_EQ(vroute_add(a, &r), 0);
	CHECK_EQ(vroute_add(a, &r), -EEXIST);
	CHECK_EQ(vroute_get(a, &probe, &got), 0);
	CHECK(got.ifp == x);
	CHECK(got.gw.v4 == r.gw.v4);
	struct vroute bad = r;
	bad.dst = VADDR4(172, 16, 0, 1); /* host bits set */
	CHECK_EQ(vroute_add(a, &bad), -EINVAL);
	struct vroute bh = {.dst = VADDR4(0, 0, 0, 0), .plen = 0, .type = VRT_BLACKHOLE};
	CHECK_EQ(vroute_add(a, &bh), 0);
	CHECK_EQ(vroute_del(a, &r.dst, 12), 0);
	CHECK_EQ(vroute_del(a, &r.dst, 12), -ESRCH);
	CHECK_EQ(vroute_get(a, &probe, &got), 0);
	CHECK_EQ(got.type, VRT_BLACKHOLE);
	/* Deleting the address takes the gateway route's interface routes. */
	world_destroy(w);
}

struct notes {
	int added, deleted;
};
static void note_route(void *ctx, enum vroute_event ev, const struct vroute *r)
{
	struct notes *n = ctx;

	if (ev == VROUTE_ADDED)
		n->added++;
	else
		n->deleted++;
}

TEST(route_notifications_reach_subscribers)
{
	struct world *w = mkworld();
	struct vimage *a;
	struct ifnet *x, *y;
	struct notes n = {0};
	struct vroute_sub *sub;
	struct vaddr addr = VADDR4(10, 0, 0, 1);

	REQUIRE(vimage_create(w, "a", &a) == 0);
	REQUIRE(vif_ve_create(a, "x", a, "y", &x, &y) == 0);
	REQUIRE(vroute_subscribe(a, note_route, &n, &sub) == 0);
	REQUIRE(vif_addr_add(x, &addr, 24) == 0);
	CHECK_EQ(n.added, 3); /* local, connected, broadcast */
	CHECK_EQ(vif_destroy(x), 0);
	CHECK_EQ(n.deleted, 3);
	vroute_unsubscribe(a, sub);
	world_destroy(w);
}

TEST(destroying_parent_with_interface_moved_into_child)
{
	struct world *w = mkworld();
	struct vimage *a, *ab;
	struct ifnet *x, *y;
	struct world_counts c;

	REQUIRE(vimage_create(w, "a", &a) == 0);
	REQUIRE(vimage_create(w, "a.b", &ab) == 0);
	REQUIRE(vif_ve_create(a, "x", a, "y", &x, &y) == 0);
	REQUIRE(vif_move(x, ab, "eth0") == 0);
	/* a.b goes first and hands eth0 back to a, which is dying too. */
	CHECK_EQ(vimage_destroy(a), 0);
	world_counts(w, &c);
	CHECK_EQ(c.vimages, 1);
	CHECK_EQ(c.ifnets, 1);
	CHECK_EQ(c.routes, 1);
	world_destroy(w);
}

TEST(world_destroy_with_interfaces_moved_down)
{
	struct world *w = mkworld();
	struct vimage *a, *ab;
	struct ifnet *x, *y;
	struct vaddr addr = VADDR4(10, 0, 0, 1);

	REQUIRE(vimage_create(w, "a", &a) == 0);
	REQUIRE(vimage_create(w, "a.b", &ab) == 0);
	REQUIRE(vif_ve_create(world_root(w), "x", world_root(w), "y", &x, &y) == 0);
	REQUIRE(vif_move(x, a, NULL) == 0);
	REQUIRE(vif_move(x, ab, NULL) == 0);
	REQUIRE(vif_move(y, a, NULL) == 0);
	REQUIRE(vif_addr_add(x, &addr, 24) == 0);
	world_destroy(w); /* must return, and ASan must find nothing */
}

TEST(destroy_and_move_with_frames_still_queued)
{
	struct world *w = mkworld();
	struct vimage *a, *b, *bc;
	struct ifnet *x, *y;
	struct vaddr ax = VADDR4(10, 0, 0, 1), by = VADDR4(10, 0, 0, 2);
	struct world_counts c;

	REQUIRE(vimage_create(w, "a", &a) == 0);
	REQUIRE(vimage_create(w, "b", &b) == 0);
	REQUIRE(vimage_create(w, "b.c", &bc) == 0);
	REQUIRE(vif_ve_create(a, "x", b, "y", &x, &y) == 0);
	REQUIRE(vif_addr_add(x, &ax, 24) == 0);
	REQUIRE(vif_addr_add(y, &by, 24) == 0);
	vif_set_up(y, true);
	vif_set_up(x, true); /* x's gratuitous ARP is queued for y */
	world_counts(w, &c);
	REQUIRE_EQ(c.pkts, 1);
	/* Move y away with a frame queued for it: the frame dies. */
	REQUIRE(vif_move(y, bc, NULL) == 0);
	world_counts(w, &c);
	CHECK_EQ(c.pkts, 0);
	/* y's announcement in its new home is queued for x; destroy a (and
	 * x, and y with it) before the queue runs: nothing may touch freed
	 * memory when it does. */
	REQUIRE(vif_addr_add(y, &by, 24) == 0);
	vif_set_up(y, true);
	world_counts(w, &c);
	REQUIRE_EQ(c.pkts, 1);
	REQUIRE(vimage_destroy(a) == 0);
	world_run(w);
	world_counts(w, &c);
	CHECK_EQ(c.pkts, 0);
	CHECK_EQ(c.pbufs, 0);
	world_destroy(w);
}
