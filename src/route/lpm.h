/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Longest-prefix match over fixed-width keys (32 bits for IPv4, 128 for
 * IPv6), mapping a prefix to an opaque non-zero value (the FIB stores a
 * route pointer). Small when it holds a few prefixes (a host has three or
 * four), fast when it holds a million (a full table or a benchmark).
 *
 * Keys are passed as network-order byte arrays (4 or 16 bytes); the IPv4
 * fast path takes a host-order uint32_t. Bits of the key past plen are
 * ignored (the prefix is masked on insert).
 *
 * No globals; one lpm is used from one thread at a time.
 */
#ifndef VIMAGE_LPM_H
#define VIMAGE_LPM_H

#include <stddef.h>
#include <stdint.h>

struct lpm;

/* keybits is 32 or 128. Returns NULL on allocation failure or bad keybits. */
struct lpm *lpm_create(unsigned keybits);
void lpm_destroy(struct lpm *t);

/* Insert prefix/plen -> value (value != 0). -EEXIST if that exact prefix is
 * present (nothing changes), -EINVAL for plen > keybits or value == 0,
 * -ENOMEM (nothing changes). */
int lpm_insert(struct lpm *t, const uint8_t *key, unsigned plen, uintptr_t value);
/* Replace the value of an existing exact prefix: -ENOENT if absent. */
int lpm_replace(struct lpm *t, const uint8_t *key, unsigned plen, uintptr_t value);
/* Remove an exact prefix; its value in *old if old != NULL. -ENOENT. */
int lpm_delete(struct lpm *t, const uint8_t *key, unsigned plen, uintptr_t *old);
/* Value of the exact prefix, or 0. */
uintptr_t lpm_get(const struct lpm *t, const uint8_t *key, unsigned plen);
/* Value of the longest prefix covering addr, or 0 when none does. */
uintptr_t lpm_lookup(const struct lpm *t, const uint8_t *addr);
/* IPv4 fast path (keybits 32 only): addr in host byte order. */
uintptr_t lpm_lookup4(const struct lpm *t, uint32_t addr);

/* Visit every prefix in order of (key, plen); stop early when fn returns
 * non-zero and return that. The table must not change during the walk. */
int lpm_walk(const struct lpm *t,
	     int (*fn)(void *ctx, const uint8_t *key, unsigned plen, uintptr_t value),
	     void *ctx);
size_t lpm_count(const struct lpm *t);
/* Bytes of memory the structure holds (for benchmarks and statistics). */
size_t lpm_memory(const struct lpm *t);

#endif
