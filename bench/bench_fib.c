/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Forwarding-table lookups: ns per IPv4 lookup of a random address in
 * tables of 10, 10,000 and 1,000,000 random prefixes, with a BGP-like mix
 * of lengths; bytes per route and ns per insert at a million.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench.h"
#include "route/lpm.h"

#define LOOKUPS (4u << 20)

/* xorshift64*: the same tables on every run */
static uint64_t fib_rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

/* Mostly /24, many /16-/23, some /8-/15 and /25-/32. */
static unsigned fib_plen(uint64_t *s)
{
	unsigned r = (unsigned)(fib_rnd(s) % 100);

	if (r < 60)
		return 24;
	if (r < 90)
		return 16 + (unsigned)(fib_rnd(s) % 8);
	if (r < 95)
		return 8 + (unsigned)(fib_rnd(s) % 8);
	return 25 + (unsigned)(fib_rnd(s) % 8);
}

/* Fill t with n distinct random prefixes; returns ns spent inserting. */
static uint64_t fib_fill(struct lpm *t, size_t n, uint64_t seed)
{
	uint64_t s = seed, t0 = bench_now_ns();

	/* timed as a whole: a clock read per insert would cost as much */
	while (lpm_count(t) < n) {
		uint32_t a = (uint32_t)fib_rnd(&s);
		unsigned plen = fib_plen(&s);
		uint8_t key[4] = {(uint8_t)(a >> 24), (uint8_t)(a >> 16),
				  (uint8_t)(a >> 8), (uint8_t)a};
		int err = lpm_insert(t, key, plen, lpm_count(t) + 1);

		if (err && err != -EEXIST) { /* a repeat: draw again */
			fprintf(stderr, "bench_fib: insert failed: %d\n", err);
			exit(1);
		}
	}
	return bench_now_ns() - t0;
}

static double fib_lookup_ns(const struct lpm *t, const uint32_t *addrs)
{
	volatile uintptr_t sink;
	uintptr_t sum = 0;
	uint64_t t0;

	for (unsigned i = 0; i < LOOKUPS / 8; i++) /* warm up */
		sum += lpm_lookup4(t, addrs[i]);
	t0 = bench_now_ns();
	for (unsigned i = 0; i < LOOKUPS; i++)
		sum += lpm_lookup4(t, addrs[i]);
	t0 = bench_now_ns() - t0;
	sink = sum;
	(void)sink;
	return (double)t0 / LOOKUPS;
}

BENCH(bench_fib)
{
	static const struct {
		const char *name;
		size_t n;
	} sizes[] = {
		{"fib_lookup_ns_10", 10},
		{"fib_lookup_ns_10k", 10000},
		{"fib_lookup_ns_1m", 1000000},
	};
	uint32_t *addrs = malloc(LOOKUPS * sizeof(*addrs));
	uint64_t s = 0x5eed;

	if (!addrs) {
		fprintf(stderr, "bench_fib: out of memory\n");
		exit(1);
	}
	for (unsigned i = 0; i < LOOKUPS; i++)
		addrs[i] = (uint32_t)fib_rnd(&s);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct lpm *t = lpm_create(32);
		uint64_t insert_ns;

		if (!t) {
			fprintf(stderr, "bench_fib: out of memory\n");
			exit(1);
		}
		insert_ns = fib_fill(t, sizes[i].n, 0xf1b + i);
		bench_report(sizes[i].name, fib_lookup_ns(t, addrs), "ns");
		if (sizes[i].n == 1000000) {
			bench_report("fib_bytes_per_route",
				     (double)lpm_memory(t) / (double)lpm_count(t),
				     "B");
			bench_report("fib_insert_ns_1m",
				     (double)insert_ns / (double)lpm_count(t),
				     "ns");
		}
		lpm_destroy(t);
	}
	free(addrs);
}
