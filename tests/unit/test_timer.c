/* SPDX-License-Identifier: BSD-2-Clause */
/* The timer wheel: exact deadlines, order, cancel, re-arm, far futures. */
#include <stdlib.h>

#include "core/kern.h"
#include "harness/test.h"

struct rec {
	struct timer t;
	uint64_t fired_at;
	int fired;
	int order;
	int *counter;
};

static void rec_fire(struct world *w, struct timer *t)
{
	struct rec *r = container_of(t, struct rec, t);

	r->fired++;
	r->fired_at = world_now(w);
	r->order = (*r->counter)++;
}

static struct world *mkworld(uint64_t start)
{
	struct world_config cfg = {.seed = 1, .start_ns = start};
	struct world *w = NULL;

	REQUIRE(world_create(&cfg, &w) == 0);
	return w;
}

TEST(timer_fires_at_exact_deadline)
{
	struct world *w = mkworld(0);
	int counter = 0;
	struct rec r = {.counter = &counter};

	timer_init(&r.t, rec_fire);
	timer_arm(w, &r.t, 1234567);
	CHECK_EQ(world_next_deadline(w), 1234567);
	world_advance(w, 1234566);
	CHECK_EQ(r.fired, 0);
	world_advance(w, 1234567);
	CHECK_EQ(r.fired, 1);
	CHECK_EQ(r.fired_at, 1234567);
	CHECK(!timer_pending(&r.t));
	CHECK_EQ(world_next_deadline(w), UINT64_MAX);
	world_destroy(w);
}

TEST(timer_fires_in_deadline_order_across_levels)
{
	struct world *w = mkworld(5000);
	int counter = 0;
	enum { N = 2000 };
	struct rec *r = calloc(N, sizeof(*r));
	uint64_t seed = 42;

	REQUIRE(r);
	for (int i = 0; i < N; i++) {
		/* Deadlines from nanoseconds to hours, in random order. */
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		uint64_t span = 1ull << (seed >> 58); /* 1 .. 2^63 */
		uint64_t d = 5000 + ((seed >> 7) % (span > (1ull << 42) ? (1ull << 42) : span));
		r[i].counter = &counter;
		timer_init(&r[i].t, rec_fire);
		timer_arm(w, &r[i].t, d);
	}
	world_advance(w, 5000 + (1ull << 42));
	for (int i = 0; i < N; i++) {
		CHECK_EQ(r[i].fired, 1);
		CHECK_EQ(r[i].fired_at, r[i].t.expires);
		for (int j = 0; j < N && r[i].fired; j += 97)
			if (r[j].t.expires < r[i].t.expires)
				CHECK(r[j].order < r[i].order);
	}
	free(r);
	world_destroy(w);
}

TEST(timer_cancel_prevents_firing)
{
	struct world *w = mkworld(0);
	int counter = 0;
	struct rec a = {.counter = &counter}, b = {.counter = &counter};

	timer_init(&a.t, rec_fire);
	timer_init(&b.t, rec_fire);
	timer_arm(w, &a.t, 1000000);
	timer_arm(w, &b.t, 2000000);
	timer_cancel(w, &a.t);
	timer_cancel(w, &a.t); /* twice is harmless */
	world_advance(w, 3000000);
	CHECK_EQ(a.fired, 0);
	CHECK_EQ(b.fired, 1);
	world_destroy(w);
}

TEST(timer_rearm_moves_deadline)
{
	struct world *w = mkworld(0);
	int counter = 0;
	struct rec a = {.counter = &counter};

	timer_init(&a.t, rec_fire);
	timer_arm(w, &a.t, 10 * NSEC_PER_SEC);
	timer_arm(w, &a.t, 1 * NSEC_PER_SEC);
	CHECK_EQ(world_next_deadline(w), NSEC_PER_SEC);
	world_advance(w, 2 * NSEC_PER_SEC);
	CHECK_EQ(a.fired, 1);
	world_advance(w, 20 * NSEC_PER_SEC);
	CHECK_EQ(a.fired, 1);
	world_destroy(w);
}

TEST(timer_in_the_past_fires_on_next_advance)
{
	struct world *w = mkworld(NSEC_PER_SEC);
	int counter = 0;
	struct rec a = {.counter = &counter};

	timer_init(&a.t, rec_fire);
	timer_arm(w, &a.t, 10);
	world_advance(w, NSEC_PER_SEC);
	CHECK_EQ(a.fired, 1);
	world_destroy(w);
}

TEST(timer_same_tick_different_ns_fire_separately)
{
	struct world *w = mkworld(0);
	int counter = 0;
	struct rec a = {.counter = &counter}, b = {.counter = &counter};

	timer_init(&a.t, rec_fire);
	timer_init(&b.t, rec_fire);
	timer_arm(w, &a.t, 100);
	timer_arm(w, &b.t, 900); /* both in the first 1024-ns tick */
	world_advance(w, 500);
	CHECK_EQ(a.fired, 1);
	CHECK_EQ(b.fired, 0);
	CHECK_EQ(world_next_deadline(w), 900);
	world_advance(w, 900);
	CHECK_EQ(b.fired, 1);
	CHECK_EQ(b.fired_at, 900);
	world_destroy(w);
}

static void rearm_fire(struct world *w, struct timer *t)
{
	struct rec *r = container_of(t, struct rec, t);

	r->fired++;
	if (r->fired < 1000)
		timer_arm(w, t, world_now(w) + 333);
}

TEST(timer_periodic_rearm_from_callback)
{
	struct world *w = mkworld(0);
	struct rec a = {0};

	timer_init(&a.t, rearm_fire);
	timer_arm(w, &a.t, 333);
	world_advance(w, 333 * 2000);
	CHECK_EQ(a.fired, 1000);
	CHECK(!timer_pending(&a.t));
	world_destroy(w);
}

TEST(timer_far_future_is_reached_without_stepping)
{
	struct world *w = mkworld(0);
	int counter = 0;
	struct rec a = {.counter = &counter};

	timer_init(&a.t, rec_fire);
	timer_arm(w, &a.t, 1ull << 62); /* ~146 years */
	CHECK_EQ(world_next_deadline(w), 1ull << 62);
	world_advance(w, world_next_deadline(w));
	CHECK_EQ(a.fired, 1);
	world_destroy(w);
}

TEST(timer_same_tick_armed_in_reverse_fire_in_deadline_order)
{
	struct world *w = mkworld(0);
	int counter = 0;
	struct rec a = {.counter = &counter}, b = {.counter = &counter},
		   c = {.counter = &counter};

	timer_init(&a.t, rec_fire);
	timer_init(&b.t, rec_fire);
	timer_init(&c.t, rec_fire);
	/* All three in one 1024-ns tick, armed latest first. */
	timer_arm(w, &c.t, 700);
	timer_arm(w, &b.t, 500);
	timer_arm(w, &a.t, 300);
	world_advance(w, 1000);
	CHECK_EQ(a.order, 0);
	CHECK_EQ(b.order, 1);
	CHECK_EQ(c.order, 2);
	CHECK_EQ(c.fired_at, 700);
	world_destroy(w);
}

static void cancel_other(struct world *w, struct timer *t)
{
	struct rec *r = container_of(t, struct rec, t);
	struct rec *other = (struct rec *)(void *)r->counter;

	r->fired++;
	timer_cancel(w, &other->t);
}

TEST(timer_callback_cancels_another_due_at_the_same_instant)
{
	struct world *w = mkworld(0);
	struct rec a = {0}, b = {0};
	struct world_counts wc;

	a.counter = (int *)(void *)&b; /* a cancels b */
	b.counter = (int *)(void *)&a;
	timer_init(&a.t, cancel_other);
	timer_init(&b.t, cancel_other);
	timer_arm(w, &a.t, 5000);
	timer_arm(w, &b.t, 5000);
	world_advance(w, 6000);
	/* Whichever fired first cancelled the other. */
	CHECK_EQ(a.fired + b.fired, 1);
	world_counts(w, &wc);
	CHECK_EQ(wc.timers, 0);
	world_destroy(w);
}

TEST(timer_many_at_one_instant_all_fire_once)
{
	enum { N = 50000 };
	struct world *w = mkworld(0);
	int counter = 0;
	struct rec *r = calloc(N, sizeof(*r));

	REQUIRE(r);
	for (int i = 0; i < N; i++) {
		r[i].counter = &counter;
		timer_init(&r[i].t, rec_fire);
		timer_arm(w, &r[i].t, 3 * NSEC_PER_SEC);
	}
	world_advance(w, 3 * NSEC_PER_SEC);
	CHECK_EQ(counter, N);
	for (int i = 0; i < N; i++)
		CHECK_EQ(r[i].fired, 1);
	/* Equal deadlines fire in arming order, across cascades too. */
	CHECK_EQ(r[0].order, 0);
	CHECK_EQ(r[N - 1].order, N - 1);
	free(r);
	world_destroy(w);
}
