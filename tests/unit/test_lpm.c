/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Tests of the longest-prefix match (src/route/lpm.c): the API contract on
 * small hand-made tables, then differential tests against a brute-force
 * reference on random tables that cross the small/large threshold both
 * ways.
 */
#include "route/lpm.h"

#include <errno.h>
#include <stdlib.h>

#include "../harness/test.h"

static const uint8_t *v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d,
			 uint8_t buf[4])
{
	buf[0] = a;
	buf[1] = b;
	buf[2] = c;
	buf[3] = d;
	return buf;
}

static uintptr_t look4(const struct lpm *t, uint8_t a, uint8_t b, uint8_t c,
		       uint8_t d)
{
	uint8_t buf[4];
	uintptr_t bytes = lpm_lookup(t, v4(a, b, c, d, buf));
	uintptr_t fast = lpm_lookup4(t, (uint32_t)a << 24 | (uint32_t)b << 16 |
						(uint32_t)c << 8 | d);

	CHECK_EQ(bytes, fast);
	return bytes;
}

static int ins4(struct lpm *t, uint8_t a, uint8_t b, uint8_t c, uint8_t d,
		unsigned plen, uintptr_t v)
{
	uint8_t buf[4];

	return lpm_insert(t, v4(a, b, c, d, buf), plen, v);
}

TEST(lpm_create_rejects_bad_keybits)
{
	CHECK(lpm_create(0) == NULL);
	CHECK(lpm_create(64) == NULL);
	struct lpm *t = lpm_create(32);

	REQUIRE(t);
	CHECK_EQ(lpm_count(t), 0);
	CHECK_EQ(look4(t, 1, 2, 3, 4), 0);
	lpm_destroy(t);
}

TEST(lpm_longest_prefix_wins)
{
	struct lpm *t = lpm_create(32);

	REQUIRE(t);
	CHECK_EQ(ins4(t, 10, 0, 0, 0, 8, 1), 0);
	CHECK_EQ(ins4(t, 10, 1, 0, 0, 16, 2), 0);
	CHECK_EQ(ins4(t, 10, 1, 2, 0, 24, 3), 0);
	CHECK_EQ(look4(t, 10, 9, 9, 9), 1);
	CHECK_EQ(look4(t, 10, 1, 9, 9), 2);
	CHECK_EQ(look4(t, 10, 1, 2, 9), 3);
	CHECK_EQ(look4(t, 11, 1, 2, 9), 0);
	lpm_destroy(t);
}

TEST(lpm_default_route_matches_everything)
{
	struct lpm *t = lpm_create(32);
	uint8_t buf[4];

	REQUIRE(t);
	CHECK_EQ(lpm_insert(t, v4(0, 0, 0, 0, buf), 0, 7), 0);
	CHECK_EQ(look4(t, 0, 0, 0, 0), 7);
	CHECK_EQ(look4(t, 255, 255, 255, 255), 7);
	CHECK_EQ(look4(t, 192, 168, 1, 1), 7);
	CHECK_EQ(lpm_get(t, v4(0, 0, 0, 0, buf), 0), 7);
	lpm_destroy(t);
}

TEST(lpm_host_route_beats_network)
{
	struct lpm *t = lpm_create(32);

	REQUIRE(t);
	CHECK_EQ(ins4(t, 192, 168, 1, 0, 24, 1), 0);
	CHECK_EQ(ins4(t, 192, 168, 1, 77, 32, 2), 0);
	CHECK_EQ(look4(t, 192, 168, 1, 77), 2);
	CHECK_EQ(look4(t, 192, 168, 1, 76), 1);
	CHECK_EQ(look4(t, 192, 168, 1, 78), 1);
	lpm_destroy(t);
}

TEST(lpm_insert_duplicate_is_eexist)
{
	struct lpm *t = lpm_create(32);
	uint8_t buf[4];

	REQUIRE(t);
	CHECK_EQ(ins4(t, 10, 0, 0, 0, 8, 1), 0);
	/* same prefix written with host bits set is still the same prefix */
	CHECK_EQ(ins4(t, 10, 9, 9, 9, 8, 2), -EEXIST);
	CHECK_EQ(lpm_get(t, v4(10, 0, 0, 0, buf), 8), 1);
	CHECK_EQ(lpm_count(t), 1);
	lpm_destroy(t);
}

TEST(lpm_insert_rejects_bad_arguments)
{
	struct lpm *t = lpm_create(32);
	uint8_t buf[4];

	REQUIRE(t);
	CHECK_EQ(lpm_insert(t, v4(10, 0, 0, 0, buf), 33, 1), -EINVAL);
	CHECK_EQ(lpm_insert(t, v4(10, 0, 0, 0, buf), 8, 0), -EINVAL);
	CHECK_EQ(lpm_replace(t, v4(10, 0, 0, 0, buf), 8, 0), -EINVAL);
	CHECK_EQ(lpm_count(t), 0);
	lpm_destroy(t);
}

TEST(lpm_delete_missing_is_enoent)
{
	struct lpm *t = lpm_create(32);
	uint8_t buf[4];
	uintptr_t old = 99;

	REQUIRE(t);
	CHECK_EQ(lpm_delete(t, v4(10, 0, 0, 0, buf), 8, &old), -ENOENT);
	CHECK_EQ(old, 99);
	CHECK_EQ(ins4(t, 10, 0, 0, 0, 8, 1), 0);
	/* a covering or covered prefix is not the same prefix */
	CHECK_EQ(lpm_delete(t, v4(10, 0, 0, 0, buf), 9, NULL), -ENOENT);
	CHECK_EQ(lpm_delete(t, v4(10, 0, 0, 0, buf), 7, NULL), -ENOENT);
	CHECK_EQ(lpm_delete(t, v4(10, 0, 0, 0, buf), 8, &old), 0);
	CHECK_EQ(old, 1);
	CHECK_EQ(lpm_count(t), 0);
	CHECK_EQ(look4(t, 10, 1, 1, 1), 0);
	lpm_destroy(t);
}

TEST(lpm_replace_changes_value_only_when_present)
{
	struct lpm *t = lpm_create(32);
	uint8_t buf[4];

	REQUIRE(t);
	CHECK_EQ(lpm_replace(t, v4(10, 0, 0, 0, buf), 8, 5), -ENOENT);
	CHECK_EQ(ins4(t, 10, 0, 0, 0, 8, 1), 0);
	CHECK_EQ(lpm_replace(t, v4(10, 0, 0, 0, buf), 8, 5), 0);
	CHECK_EQ(look4(t, 10, 2, 3, 4), 5);
	CHECK_EQ(lpm_count(t), 1);
	lpm_destroy(t);
}

TEST(lpm_key_bits_past_plen_are_ignored)
{
	struct lpm *t = lpm_create(32);
	uint8_t buf[4];

	REQUIRE(t);
	CHECK_EQ(ins4(t, 172, 16, 255, 255, 12, 1), 0);
	CHECK_EQ(lpm_get(t, v4(172, 16, 0, 0, buf), 12), 1);
	CHECK_EQ(lpm_get(t, v4(172, 31, 1, 2, buf), 12), 1);
	CHECK_EQ(look4(t, 172, 20, 0, 1), 1);
	CHECK_EQ(look4(t, 172, 32, 0, 1), 0);
	CHECK_EQ(lpm_delete(t, v4(172, 17, 0, 0, buf), 12, NULL), 0);
	lpm_destroy(t);
}

TEST(lpm_slash0_and_slash32_edges_v4)
{
	struct lpm *t = lpm_create(32);
	uint8_t buf[4];

	REQUIRE(t);
	CHECK_EQ(ins4(t, 255, 255, 255, 255, 32, 3), 0);
	CHECK_EQ(ins4(t, 0, 0, 0, 0, 32, 4), 0);
	CHECK_EQ(ins4(t, 1, 2, 3, 4, 0, 5), 0);
	CHECK_EQ(look4(t, 255, 255, 255, 255), 3);
	CHECK_EQ(look4(t, 255, 255, 255, 254), 5);
	CHECK_EQ(look4(t, 0, 0, 0, 0), 4);
	CHECK_EQ(look4(t, 0, 0, 0, 1), 5);
	CHECK_EQ(lpm_get(t, v4(0, 0, 0, 0, buf), 0), 5);
	lpm_destroy(t);
}

TEST(lpm_slash128_and_slash0_edges_v6)
{
	struct lpm *t = lpm_create(128);
	uint8_t a[16], b[16];

	REQUIRE(t);
	memset(a, 0xff, sizeof(a));
	memset(b, 0, sizeof(b));
	CHECK_EQ(lpm_insert(t, a, 128, 1), 0);
	CHECK_EQ(lpm_insert(t, b, 128, 2), 0);
	CHECK_EQ(lpm_insert(t, a, 0, 3), 0);
	CHECK_EQ(lpm_insert(t, a, 0, 4), -EEXIST);
	CHECK_EQ(lpm_lookup(t, a), 1);
	CHECK_EQ(lpm_lookup(t, b), 2);
	a[15] = 0xfe;
	CHECK_EQ(lpm_lookup(t, a), 3);
	CHECK_EQ(lpm_lookup4(t, 1), 0); /* the IPv4 fast path is IPv4 only */
	lpm_destroy(t);
}

TEST(lpm_small_table_stays_small)
{
	struct lpm *t = lpm_create(32);
	struct lpm *t6 = lpm_create(128);
	uint8_t k6[16] = {0x20, 0x01, 0x0d, 0xb8};

	REQUIRE(t && t6);
	CHECK_EQ(ins4(t, 0, 0, 0, 0, 0, 1), 0);
	CHECK_EQ(ins4(t, 127, 0, 0, 0, 8, 2), 0);
	CHECK_EQ(ins4(t, 192, 168, 1, 0, 24, 3), 0);
	CHECK_EQ(ins4(t, 192, 168, 1, 10, 32, 4), 0);
	CHECK(lpm_memory(t) < 512);
	for (unsigned i = 4; i < 8; i++)
		CHECK_EQ(ins4(t, 10, (uint8_t)i, 0, 0, 16, i + 1), 0);
	CHECK(lpm_memory(t) < 256);
	for (unsigned i = 0; i < 8; i++) {
		k6[4] = (uint8_t)i;
		CHECK_EQ(lpm_insert(t6, k6, 40 + i, i + 1), 0);
	}
	CHECK(lpm_memory(t6) < 512);
	if (test_verbose())
		printf("  8 prefixes: %zu bytes (IPv4), %zu bytes (IPv6)\n",
		       lpm_memory(t), lpm_memory(t6));
	lpm_destroy(t);
	lpm_destroy(t6);
}

struct walk_rec {
	uint8_t key[16];
	unsigned plen;
	uintptr_t value;
};

struct walk_ctx {
	struct walk_rec *recs;
	size_t n, cap;
	size_t stop_after;
};

static int walk_collect(void *ctx, const uint8_t *key, unsigned plen,
			uintptr_t value)
{
	struct walk_ctx *w = ctx;

	if (w->n == w->cap)
		return -ENOSPC;
	memcpy(w->recs[w->n].key, key, 16);
	w->recs[w->n].plen = plen;
	w->recs[w->n].value = value;
	w->n++;
	return w->stop_after && w->n == w->stop_after ? 42 : 0;
}

TEST(lpm_walk_visits_in_key_then_length_order)
{
	struct lpm *t = lpm_create(32);
	struct walk_rec recs[8];
	struct walk_ctx w = {recs, 0, 8, 0};

	REQUIRE(t);
	memset(recs, 0, sizeof(recs));
	CHECK_EQ(ins4(t, 10, 1, 0, 0, 16, 1), 0);
	CHECK_EQ(ins4(t, 10, 0, 0, 0, 8, 2), 0);
	CHECK_EQ(ins4(t, 0, 0, 0, 0, 0, 3), 0);
	CHECK_EQ(ins4(t, 10, 0, 0, 0, 16, 4), 0);
	CHECK_EQ(ins4(t, 9, 255, 0, 0, 16, 5), 0);
	CHECK_EQ(lpm_walk(t, walk_collect, &w), 0);
	REQUIRE_EQ(w.n, 5);
	CHECK_EQ(recs[0].value, 3);
	CHECK_EQ(recs[1].value, 5);
	CHECK_EQ(recs[2].value, 2);
	CHECK_EQ(recs[3].value, 4);
	CHECK_EQ(recs[4].value, 1);
	CHECK_EQ(recs[3].plen, 16);
	CHECK_EQ(recs[1].key[0], 9);
	CHECK_EQ(recs[1].key[1], 255);
	lpm_destroy(t);
}

TEST(lpm_walk_stops_when_callback_returns_nonzero)
{
	struct lpm *t = lpm_create(32);
	struct walk_rec recs[8];
	struct walk_ctx w = {recs, 0, 8, 2};

	REQUIRE(t);
	for (unsigned i = 0; i < 5; i++)
		CHECK_EQ(ins4(t, 10, (uint8_t)i, 0, 0, 16, i + 1), 0);
	CHECK_EQ(lpm_walk(t, walk_collect, &w), 42);
	CHECK_EQ(w.n, 2);
	lpm_destroy(t);
}

/* ---- differential tests against a brute-force reference ---- */

/* xorshift64*: deterministic across runs and platforms */
static uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

static void mask_key(uint8_t *k, unsigned bytes, unsigned plen)
{
	for (unsigned i = 0; i < bytes; i++) {
		if (plen >= 8 * (i + 1))
			continue;
		if (plen <= 8 * i)
			k[i] = 0;
		else
			k[i] &= (uint8_t)(0xff << (8 - (plen - 8 * i)));
	}
}

/* Realistic-ish length mixes: BGP-like for IPv4, /32-/64 heavy for IPv6. */
static unsigned rnd_plen(uint64_t *s, unsigned keybits)
{
	unsigned r = (unsigned)(rnd(s) % 100);

	if (keybits == 32) {
		if (r < 55)
			return 24;
		if (r < 85)
			return 16 + (unsigned)(rnd(s) % 8);
		if (r < 93)
			return 8 + (unsigned)(rnd(s) % 8);
		if (r < 99)
			return 25 + (unsigned)(rnd(s) % 8);
		return (unsigned)(rnd(s) % 8);
	}
	if (r < 40)
		return 48;
	if (r < 70)
		return 32 + (unsigned)(rnd(s) % 32);
	if (r < 85)
		return 64;
	if (r < 95)
		return 65 + (unsigned)(rnd(s) % 64);
	return (unsigned)(rnd(s) % 32);
}

struct ref {
	unsigned bytes;
	struct walk_rec *e;
	size_t n;
	bool present[129]; /* some entry has this length */
};

static int ref_cmp(const void *a, const void *b)
{
	const struct walk_rec *x = a, *y = b;
	int c = memcmp(x->key, y->key, 16);

	if (c)
		return c;
	return (x->plen > y->plen) - (x->plen < y->plen);
}

/*
 * Obviously right rather than clever: for every length, longest first,
 * look for addr masked to that length among the entries (sorted by key,
 * then length) with a binary search.
 */
static uintptr_t ref_lookup(const struct ref *r, const uint8_t *addr)
{
	for (int plen = 8 * (int)r->bytes; plen >= 0; plen--) {
		struct walk_rec probe, *e;

		if (!r->present[plen])
			continue;
		memset(&probe, 0, sizeof(probe));
		memcpy(probe.key, addr, r->bytes);
		mask_key(probe.key, r->bytes, (unsigned)plen);
		probe.plen = (unsigned)plen;
		e = bsearch(&probe, r->e, r->n, sizeof(*r->e), ref_cmp);
		if (e && e->value)
			return e->value;
	}
	return 0;
}

/* Entries sorted by (key, plen) and deduplicated; dead ones have value 0. */
static void ref_build(struct ref *r)
{
	size_t o = 0;

	qsort(r->e, r->n, sizeof(*r->e), ref_cmp);
	for (size_t i = 0; i < r->n; i++)
		if (!o || ref_cmp(&r->e[o - 1], &r->e[i]) != 0)
			r->e[o++] = r->e[i];
	r->n = o;
	memset(r->present, 0, sizeof(r->present));
	for (size_t i = 0; i < r->n; i++)
		r->present[r->e[i].plen] = true;
}

static void rnd_addr(uint64_t *s, const struct ref *r, uint8_t *addr)
{
	for (unsigned i = 0; i < r->bytes; i++)
		addr[i] = (uint8_t)rnd(s);
	/* most probes land inside a stored prefix, to hit the deep paths */
	if (r->n && rnd(s) % 4) {
		const struct walk_rec *e = &r->e[rnd(s) % r->n];
		uint8_t rest[16];

		memcpy(rest, addr, r->bytes);
		memcpy(addr, e->key, r->bytes);
		for (unsigned b = e->plen; b < 8 * r->bytes; b++) {
			uint8_t bit = (uint8_t)(0x80 >> (b % 8));

			addr[b / 8] = (uint8_t)((addr[b / 8] & ~bit) |
						(rest[b / 8] & bit));
		}
	}
}

static size_t check_lookups(const struct lpm *t, const struct ref *r,
			    uint64_t *s, unsigned n)
{
	uint8_t addr[16];
	size_t bad = 0;

	for (unsigned i = 0; i < n; i++) {
		uintptr_t want, got;

		rnd_addr(s, r, addr);
		want = ref_lookup(r, addr);
		got = lpm_lookup(t, addr);
		if (r->bytes == 4) {
			uint32_t a = (uint32_t)addr[0] << 24 |
				     (uint32_t)addr[1] << 16 |
				     (uint32_t)addr[2] << 8 | addr[3];

			if (lpm_lookup4(t, a) != got)
				bad++;
		}
		if (want != got && bad++ < 5)
			test_fail(__FILE__, __LINE__,
				  "lookup %02x%02x%02x%02x...: want %ju got %ju",
				  addr[0], addr[1], addr[2], addr[3],
				  (uintmax_t)want, (uintmax_t)got);
	}
	return bad;
}

static void check_walk(const struct lpm *t, const struct ref *r)
{
	struct walk_ctx w;
	size_t live = 0, j = 0;

	for (size_t i = 0; i < r->n; i++)
		live += r->e[i].value != 0;
	w.recs = calloc(live + 1, sizeof(*w.recs));
	w.n = 0;
	w.cap = live + 1;
	w.stop_after = 0;
	REQUIRE(w.recs);
	CHECK_EQ(lpm_walk(t, walk_collect, &w), 0);
	CHECK_EQ(w.n, live);
	CHECK_EQ(lpm_count(t), live);
	for (size_t i = 0; i < r->n && j < w.n; i++) {
		if (!r->e[i].value)
			continue;
		if (memcmp(w.recs[j].key, r->e[i].key, r->bytes) ||
		    w.recs[j].plen != r->e[i].plen ||
		    w.recs[j].value != r->e[i].value) {
			test_fail(__FILE__, __LINE__, "walk differs at %zu", j);
			break;
		}
		j++;
	}
	free(w.recs);
}

static void differential(unsigned keybits, unsigned nprefix, unsigned nlookup)
{
	struct ref r = {.bytes = keybits / 8};
	struct lpm *t = lpm_create(keybits);
	uint64_t s = 0x9e3779b97f4a7c15ULL ^ keybits;
	size_t empty = lpm_memory(t), bad;
	uint8_t key[16];

	REQUIRE(t);
	r.e = calloc(nprefix, sizeof(*r.e));
	REQUIRE(r.e);
	/* insert, checking each outcome against what the reference knows */
	for (unsigned i = 0; i < nprefix; i++) {
		struct walk_rec *e = &r.e[r.n];
		int err;

		memset(e, 0, sizeof(*e));
		for (unsigned b = 0; b < r.bytes; b++)
			e->key[b] = (uint8_t)rnd(&s);
		e->plen = rnd_plen(&s, keybits);
		e->value = i + 1;
		memcpy(key, e->key, 16); /* unmasked: lpm must mask it */
		mask_key(e->key, r.bytes, e->plen);
		err = lpm_insert(t, key, e->plen, e->value);
		if (err == -EEXIST) {
			CHECK(lpm_get(t, e->key, e->plen) != 0);
			continue;
		}
		CHECK_EQ(err, 0);
		r.n++;
		if (r.n == 40 || r.n == 200) {
			/* look around both sides of the small/large switch */
			struct ref tmp = r;

			tmp.e = malloc(r.n * sizeof(*r.e));
			REQUIRE(tmp.e);
			memcpy(tmp.e, r.e, r.n * sizeof(*r.e));
			ref_build(&tmp);
			CHECK_EQ(check_lookups(t, &tmp, &s, 2000), 0);
			check_walk(t, &tmp);
			free(tmp.e);
		}
	}
	ref_build(&r);
	CHECK_EQ(lpm_count(t), r.n);
	CHECK_EQ(check_lookups(t, &r, &s, nlookup), 0);
	check_walk(t, &r);
	if (test_verbose())
		printf("  %zu /%u prefixes: %zu bytes, %.1f per prefix\n", r.n,
		       keybits, lpm_memory(t),
		       (double)lpm_memory(t) / (double)r.n);

	/* delete half (every other one), with some replaces on the rest */
	for (size_t i = 0; i < r.n; i++) {
		uintptr_t old = 0;

		if (i % 2 == 0) {
			CHECK_EQ(lpm_delete(t, r.e[i].key, r.e[i].plen, &old), 0);
			CHECK_EQ(old, r.e[i].value);
			r.e[i].value = 0;
		} else if (i % 7 == 1) {
			r.e[i].value += 1000000;
			CHECK_EQ(lpm_replace(t, r.e[i].key, r.e[i].plen,
					     r.e[i].value),
				 0);
		}
	}
	CHECK_EQ(check_lookups(t, &r, &s, nlookup / 2), 0);
	check_walk(t, &r);
	for (size_t i = 0; i < r.n; i += 97)
		CHECK_EQ(lpm_get(t, r.e[i].key, r.e[i].plen), r.e[i].value);

	/* delete the rest, in an order unrelated to insertion, down through
	 * the large->small switch, checking on the way */
	for (size_t left = r.n / 2, i = 0; left; i = (i + 7919) % r.n) {
		if (!r.e[i].value)
			continue;
		CHECK_EQ(lpm_delete(t, r.e[i].key, r.e[i].plen, NULL), 0);
		r.e[i].value = 0;
		left--;
		if (left == 40 || left == 20) {
			CHECK_EQ(check_lookups(t, &r, &s, 2000), 0);
			check_walk(t, &r);
		}
	}
	CHECK_EQ(lpm_count(t), 0);
	CHECK_EQ(lpm_memory(t), empty);
	bad = check_lookups(t, &r, &s, 100);
	CHECK_EQ(bad, 0);
	free(r.e);
	lpm_destroy(t);
}

TEST(lpm_random_matches_reference_v4)
{
	differential(32, 20000, 200000);
}

TEST(lpm_random_matches_reference_v6)
{
	differential(128, 20000, 200000);
}

TEST(lpm_threshold_crossing_both_ways_keeps_answers)
{
	struct ref r = {.bytes = 4};
	struct lpm *t = lpm_create(32);
	uint64_t s = 12345;
	uint8_t key[4];

	REQUIRE(t);
	r.e = calloc(300, sizeof(*r.e));
	REQUIRE(r.e);
	/* up and down across the switch several times, checking each step */
	for (unsigned round = 0; round < 3; round++) {
		for (unsigned i = 0; i < 100; i++) {
			struct walk_rec *e = &r.e[r.n];

			for (unsigned b = 0; b < 4; b++)
				e->key[b] = key[b] = (uint8_t)rnd(&s);
			e->plen = rnd_plen(&s, 32);
			mask_key(e->key, 4, e->plen);
			e->value = 1 + round * 1000 + i;
			if (lpm_insert(t, key, e->plen, e->value) == 0)
				r.n++;
			ref_build(&r);
			CHECK_EQ(check_lookups(t, &r, &s, 50), 0);
		}
		for (size_t i = 0; i < r.n; i++) {
			if (rnd(&s) % 4 == 0)
				continue;
			CHECK_EQ(lpm_delete(t, r.e[i].key, r.e[i].plen, NULL), 0);
			r.e[i] = r.e[--r.n];
			ref_build(&r);
			CHECK_EQ(check_lookups(t, &r, &s, 50), 0);
			i--;
		}
		check_walk(t, &r);
	}
	free(r.e);
	lpm_destroy(t);
}

TEST(lpm_short_prefix_under_many_long_ones_updates_all_below)
{
	struct lpm *t = lpm_create(32);

	REQUIRE(t);
	/* many /24s and /28s, then /8 and /0 beneath them: the leaves that
	 * showed "no route" must now show the short prefix, and go back */
	for (unsigned i = 0; i < 200; i++) {
		CHECK_EQ(ins4(t, 10, (uint8_t)i, (uint8_t)i, 0, 24, 100 + i), 0);
		CHECK_EQ(ins4(t, 10, (uint8_t)i, 200, 16, 28, 1000 + i), 0);
	}
	CHECK_EQ(look4(t, 10, 5, 6, 1), 0);
	CHECK_EQ(ins4(t, 10, 0, 0, 0, 8, 1), 0);
	CHECK_EQ(ins4(t, 0, 0, 0, 0, 0, 2), 0);
	CHECK_EQ(look4(t, 10, 5, 6, 1), 1);
	CHECK_EQ(look4(t, 10, 5, 5, 1), 105);
	CHECK_EQ(look4(t, 10, 5, 200, 17), 1005);
	CHECK_EQ(look4(t, 10, 5, 200, 15), 1);
	CHECK_EQ(look4(t, 11, 5, 200, 17), 2);
	CHECK_EQ(lpm_delete(t, v4(10, 0, 0, 0, (uint8_t[4]){0}), 8, NULL), 0);
	CHECK_EQ(look4(t, 10, 5, 6, 1), 2);
	CHECK_EQ(look4(t, 10, 5, 200, 15), 2);
	CHECK_EQ(look4(t, 10, 5, 5, 1), 105);
	lpm_destroy(t);
}
