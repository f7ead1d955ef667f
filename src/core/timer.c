/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The world's timer wheel.
 *
 * Nine levels of 64 slots over 1024-ns ticks cover 2^64 ns, so every timer
 * has a place and there is no overflow list. A timer lives at the level of
 * the highest 6-bit group in which its tick differs from the wheel's current
 * tick (level 0 when they are equal or differ only in the lowest group), in
 * the slot given by that group of its own tick. Hence everything at level l
 * expires after everything at levels below l, and within a level slots are in
 * time order from the current index on. The earliest timer is therefore in
 * the first occupied slot of the lowest non-empty level, found with one
 * count-trailing-zeros per level; virtual time jumps straight to it.
 *
 * Advancing to a higher-level slot's block "cascades" it: its timers are
 * re-inserted relative to the new current tick and land lower. Arm and
 * cancel are O(1); a timer is touched at most once per level on its way down.
 * Within a level-0 slot (one tick) timers keep their exact nanosecond
 * deadline: a slot is fired only up to now, in deadline order, and equal
 * deadlines in arming order (so a simulation replays exactly). World
 * advancing uses tw_next_bound, which never scans a slot: with 100,000 ARP
 * timers minutes away, moving the clock costs a few word operations.
 */
#include "kern.h"

static inline unsigned tw_level_of(uint64_t tick, uint64_t cur)
{
	uint64_t diff = tick ^ cur;

	if (diff < TW_SLOTS)
		return 0;
	return (unsigned)((63 - __builtin_clzll(diff)) / 6);
}

static void tw_link(struct timer_wheel *tw, struct timer *t)
{
	uint64_t tick = t->expires >> TW_TICK_SHIFT;
	unsigned level, idx;

	if (tick < tw->cur_tick)
		tick = tw->cur_tick;
	level = tw_level_of(tick, tw->cur_tick);
	idx = (unsigned)(tick >> (6 * level)) & (TW_SLOTS - 1);
	t->slot = (uint16_t)(level * TW_SLOTS + idx);
	t->next = tw->slots[level][idx];
	if (t->next)
		t->next->pprev = &t->next;
	t->pprev = &tw->slots[level][idx];
	tw->slots[level][idx] = t;
	tw->occupied[level] |= 1ull << idx;
}

static void tw_unlink(struct timer_wheel *tw, struct timer *t)
{
	unsigned level = t->slot / TW_SLOTS, idx = t->slot % TW_SLOTS;

	*t->pprev = t->next;
	if (t->next)
		t->next->pprev = t->pprev;
	t->next = NULL;
	t->pprev = NULL;
	if (t->slot != TW_SLOT_DUE && !tw->slots[level][idx])
		tw->occupied[level] &= ~(1ull << idx);
}

void tw_init(struct timer_wheel *tw, uint64_t now_ns)
{
	*tw = (struct timer_wheel){.cur_tick = now_ns >> TW_TICK_SHIFT};
}

void timer_arm(struct world *w, struct timer *t, uint64_t expires_ns)
{
	struct timer_wheel *tw = &w->wheel;

	if (timer_pending(t))
		tw_unlink(tw, t);
	else
		tw->armed++;
	t->expires = expires_ns;
	tw_link(tw, t);
}

void timer_cancel(struct world *w, struct timer *t)
{
	if (!timer_pending(t))
		return;
	tw_unlink(&w->wheel, t);
	w->wheel.armed--;
}

/* The first occupied slot at or after the current index of the lowest
 * non-empty level: returns its level, or -1 when the wheel is empty. */
static int tw_first_slot(const struct timer_wheel *tw, unsigned *idx_out)
{
	for (unsigned level = 0; level < TW_LEVELS; level++) {
		unsigned cur = (unsigned)(tw->cur_tick >> (6 * level)) &
			       (TW_SLOTS - 1);
		uint64_t occ = tw->occupied[level] & (~0ull << cur);

		if (occ) {
			*idx_out = (unsigned)__builtin_ctzll(occ);
			return (int)level;
		}
	}
	return -1;
}

/* The tick at which a slot's block begins, relative to the current tick. */
static uint64_t tw_slot_start(const struct timer_wheel *tw, unsigned level,
			      unsigned idx)
{
	unsigned shift = 6 * (level + 1);
	uint64_t high = shift >= 64 ? 0 : tw->cur_tick >> shift << shift;
	uint64_t start = high | (uint64_t)idx << (6 * level);

	return start < tw->cur_tick ? tw->cur_tick : start;
}

uint64_t tw_next_bound(const struct timer_wheel *tw)
{
	unsigned idx;
	int level = tw_first_slot(tw, &idx);

	if (level < 0)
		return UINT64_MAX;
	if (level == 0)
		return tw_next_expiry(tw);
	return tw_slot_start(tw, (unsigned)level, idx) << TW_TICK_SHIFT;
}

uint64_t tw_next_expiry(const struct timer_wheel *tw)
{
	unsigned idx;
	int level = tw_first_slot(tw, &idx);
	uint64_t best = UINT64_MAX;

	if (level < 0)
		return UINT64_MAX;
	for (const struct timer *t = tw->slots[level][idx]; t; t = t->next)
		if (t->expires < best)
			best = t->expires;
	return best;
}

/* Detach a slot's list, returning it. */
static struct timer *tw_take_slot(struct timer_wheel *tw, unsigned level,
				  unsigned idx)
{
	struct timer *list = tw->slots[level][idx];

	tw->slots[level][idx] = NULL;
	tw->occupied[level] &= ~(1ull << idx);
	return list;
}

/* Fire the due timers of one level-0 slot in deadline order. One pass finds
 * the earliest deadline, a second moves every timer due then to the due
 * list, which fires in order; the cost is linear in the slot per distinct
 * deadline, however many timers share one. Callbacks may arm or cancel any
 * timer: one still on the due list is unlinked from it by timer_cancel. */
static void tw_fire_slot(struct world *w, struct timer_wheel *tw, unsigned idx,
			 uint64_t now_ns)
{
	for (;;) {
		uint64_t min = UINT64_MAX;
		struct timer *t, *next;

		for (t = tw->slots[0][idx]; t; t = t->next)
			if (t->expires < min)
				min = t->expires;
		if (min > now_ns)
			return;
		/* Slots are newest-first; prepending to the due list
		 * restores arming order among equal deadlines. */
		for (t = tw->slots[0][idx]; t; t = next) {
			next = t->next;
			if (t->expires != min)
				continue;
			tw_unlink(tw, t);
			t->slot = TW_SLOT_DUE;
			t->next = tw->due;
			if (t->next)
				t->next->pprev = &t->next;
			t->pprev = &tw->due;
			tw->due = t;
		}
		if (min > w->now)
			w->now = min;
		while ((t = tw->due)) {
			tw_unlink(tw, t);
			tw->armed--;
			t->fn(w, t);
		}
	}
}

void tw_run(struct world *w, struct timer_wheel *tw, uint64_t now_ns)
{
	uint64_t target = now_ns >> TW_TICK_SHIFT;

	for (;;) {
		unsigned idx;
		int level = tw_first_slot(tw, &idx);
		uint64_t start;

		if (level < 0)
			break;
		start = tw_slot_start(tw, (unsigned)level, idx);
		if (start > target)
			break;
		tw->cur_tick = start;
		if (level == 0) {
			tw_fire_slot(w, tw, idx, now_ns);
			/* What is left in the slot is due later in this same
			 * tick (anything earlier has fired): wait for time. */
			if (tw->slots[0][idx])
				break;
			continue;
		}
		/* Cascade: re-insert relative to the new current tick,
		 * oldest first, so that slots stay newest-first and a cascade
		 * keeps the relative order of the timers it moves. */
		struct timer *list = tw_take_slot(tw, (unsigned)level, idx);
		struct timer *rev = NULL;

		while (list) {
			struct timer *t = list;

			list = t->next;
			t->next = rev;
			rev = t;
		}
		while (rev) {
			struct timer *t = rev;

			rev = t->next;
			t->next = NULL;
			t->pprev = NULL;
			tw_link(tw, t);
		}
	}
	if (target > tw->cur_tick)
		tw->cur_tick = target;
}
