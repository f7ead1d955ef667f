/* SPDX-License-Identifier: BSD-2-Clause */
/* vimage lifecycle: names, hierarchy, destruction, knobs, counters. */
#include <errno.h>
#include <stdio.h>

#include "core/kern.h"
#include "harness/test.h"
#include "vimage/net.h"
#include "vimage/vimage.h"

static struct world *mkworld(void)
{
	struct world_config cfg = {.seed = 7};
	struct world *w = NULL;

	REQUIRE(world_create(&cfg, &w) == 0);
	return w;
}

static void check_no_leaks(struct world *w)
{
	struct world_counts c;

	world_counts(w, &c);
	CHECK_EQ(c.vimages, 1); /* the root */
	CHECK_EQ(c.ifnets, 1);  /* the root's lo0 */
	CHECK_EQ(c.sockets, 0);
	CHECK_EQ(c.pkts, 0);
	CHECK_EQ(c.pbufs, 0);
	CHECK_EQ(c.timers, 0);
	CHECK_EQ(c.neighbours, 0);
	CHECK_EQ(c.reass_queues, 0);
	CHECK_EQ(c.routes, 1); /* the root's local 127.0.0.0/8 */
}

TEST(vimage_name_rules)
{
	const char *why = NULL;

	CHECK_EQ(vimage_name_check("a", NULL), 0);
	CHECK_EQ(vimage_name_check("a.b-c_d.E9", NULL), 0);
	CHECK_EQ(vimage_name_check("", &why), -EINVAL);
	CHECK(why != NULL);
	CHECK_EQ(vimage_name_check(".a", NULL), -EINVAL);
	CHECK_EQ(vimage_name_check("a.", NULL), -EINVAL);
	CHECK_EQ(vimage_name_check("a..b", NULL), -EINVAL);
	CHECK_EQ(vimage_name_check("a b", NULL), -EINVAL);
	CHECK_EQ(vimage_name_check("a/b", NULL), -EINVAL);
	CHECK_EQ(vimage_name_check("abcdefghijabcdefghijabcdefghij12", NULL), -EINVAL);
	CHECK_EQ(vimage_name_check("abcdefghijabcdefghijabcdefghij1", NULL), 0);
}

TEST(vimage_create_lookup_destroy)
{
	struct world *w = mkworld();
	struct vimage *a, *ab;

	CHECK_EQ(vimage_create(w, "a", &a), 0);
	CHECK_EQ(vimage_create(w, "a", NULL), -EEXIST);
	CHECK_EQ(vimage_create(w, "a.b", &ab), 0);
	CHECK_EQ(vimage_create(w, "x.y", NULL), -ENOENT);
	CHECK(vimage_lookup(w, "a.b") == ab);
	CHECK(vimage_parent(ab) == a);
	CHECK(vimage_parent(a) == world_root(w));
	CHECK_STR(vimage_name(ab), "a.b");
	CHECK(vif_lookup(ab, "lo0") != NULL);
	CHECK_EQ(vimage_destroy(world_root(w)), -EPERM);
	CHECK_EQ(vimage_destroy(a), 0); /* takes a.b */
	CHECK(vimage_lookup(w, "a") == NULL);
	CHECK(vimage_lookup(w, "a.b") == NULL);
	check_no_leaks(w);
	world_destroy(w);
}

TEST(vimage_every_instance_has_lo0_with_127_0_0_1)
{
	struct world *w = mkworld();
	struct vimage *a;
	struct vroute r;
	struct vaddr lo = VADDR4(127, 0, 0, 1);

	REQUIRE(vimage_create(w, "a", &a) == 0);
	struct ifnet *ifp = vif_lookup(a, "lo0");
	REQUIRE(ifp);
	CHECK_EQ(vif_index(ifp), 1);
	CHECK(vif_flags(ifp) & VIFF_UP);
	CHECK(vif_flags(ifp) & VIFF_LOOPBACK);
	CHECK_EQ(vroute_get(a, &lo, &r), 0);
	CHECK_EQ(r.type, VRT_LOCAL);
	/* As on Linux, all of 127/8 is local, not only 127.0.0.1. */
	struct vaddr lo2 = VADDR4(127, 5, 6, 7);
	CHECK_EQ(vroute_get(a, &lo2, &r), 0);
	CHECK_EQ(r.type, VRT_LOCAL);
	world_destroy(w);
}

TEST(vimage_deep_hierarchy_destroyed_by_top)
{
	struct world *w = mkworld();
	char name[VIMAGE_NAME_MAX + 1] = "n";

	for (int depth = 0; depth < 40; depth++) {
		CHECK_EQ(vimage_create(w, name, NULL), 0);
		/* three siblings at each level */
		for (int s = 0; s < 3; s++) {
			char sib[VIMAGE_NAME_MAX + 16];
			snprintf(sib, sizeof(sib), "%s.s%d", name, s);
			CHECK_EQ(vimage_create(w, sib, NULL), 0);
		}
		strcat(name, ".n");
	}
	CHECK_EQ(vimage_destroy(vimage_lookup(w, "n")), 0);
	check_no_leaks(w);
	world_destroy(w);
}

TEST(vimage_many_names_hash_grows)
{
	struct world *w = mkworld();
	char name[32];

	for (int i = 0; i < 5000; i++) {
		snprintf(name, sizeof(name), "v%d", i);
		REQUIRE(vimage_create(w, name, NULL) == 0);
	}
	for (int i = 0; i < 5000; i += 7) {
		snprintf(name, sizeof(name), "v%d", i);
		CHECK(vimage_lookup(w, name) != NULL);
	}
	for (int i = 0; i < 5000; i++) {
		snprintf(name, sizeof(name), "v%d", i);
		CHECK_EQ(vimage_destroy(vimage_lookup(w, name)), 0);
	}
	check_no_leaks(w);
	world_destroy(w);
}

TEST(sysctl_get_set_and_range)
{
	struct world *w = mkworld();
	struct vimage *a, *b;
	int64_t v = -1;

	REQUIRE(vimage_create(w, "a", &a) == 0);
	REQUIRE(vimage_create(w, "b", &b) == 0);
	CHECK_EQ(vimage_sysctl_get(a, "net.inet.ip.forwarding", &v), 0);
	CHECK_EQ(v, 0);
	CHECK_EQ(vimage_sysctl_set(a, "net.inet.ip.forwarding", 1), 0);
	CHECK_EQ(vimage_sysctl_get(a, "net.inet.ip.forwarding", &v), 0);
	CHECK_EQ(v, 1);
	/* Per instance: b is untouched. */
	CHECK_EQ(vimage_sysctl_get(b, "net.inet.ip.forwarding", &v), 0);
	CHECK_EQ(v, 0);
	CHECK_EQ(vimage_sysctl_set(a, "net.inet.ip.forwarding", 2), -EINVAL);
	CHECK_EQ(vimage_sysctl_set(a, "net.inet.ip.ttl", 0), -EINVAL);
	CHECK_EQ(vimage_sysctl_set(a, "net.inet.ip.nonsense", 1), -ENOENT);
	CHECK_EQ(vimage_sysctl_get(a, "net.inet.ip.ttl", &v), 0);
	CHECK_EQ(v, 64);
	world_destroy(w);
}

static int count_stat(void *ctx, const char *name, uint64_t val)
{
	(*(int *)ctx)++;
	return 0;
}

TEST(stats_walk_names_counters)
{
	struct world *w = mkworld();
	struct vimage *a;
	uint64_t v = 99;
	int n = 0;

	REQUIRE(vimage_create(w, "a", &a) == 0);
	CHECK_EQ(vimage_stats_walk(a, count_stat, &n), 0);
	CHECK(n > 30);
	CHECK_EQ(vimage_stat_get(a, "ip.forward", &v), 0);
	CHECK_EQ(v, 0);
	CHECK_EQ(vimage_stat_get(a, "ip.nonsense", &v), -ENOENT);
	world_destroy(w);
}
