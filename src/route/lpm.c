/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Longest-prefix match: see lpm.h for the contract.
 *
 * Two representations, chosen by size.
 *
 * Small (up to LPM_SMALL_MAX prefixes): one allocation holding parallel
 * arrays of values, keys and prefix lengths, sorted longest prefix first,
 * so a lookup is a linear scan that stops at the first match. A table of
 * eight IPv4 routes costs 160 bytes all told, which is what lets a
 * process hold a hundred thousand vimages.
 *
 * Large: a multibit trie with a stride of 6 bits (so a node's slots fit
 * one 64-bit bitmap), in the manner of poptrie. A node is one block:
 *  - `vector`, a bit per slot that has a child, and the children's
 *    pointers in slot order, found by counting the bits below the slot;
 *  - leaf-pushed lookup results for the childless slots, with runs of
 *    equal results stored once (a bit in `leafvec` starts a run), found by
 *    counting the bits of `leafvec` up to the slot;
 *  - the prefixes the node owns (lengths depth+1 .. depth+6; the root also
 *    owns /0), each as a value and a one-byte code. These are the
 *    authoritative set, used by get, insert, delete and walk; nothing
 *    else stores the prefixes, so no second structure doubles the memory.
 * A lookup is a loop of a shift, a bit test and a popcount per 6 bits,
 * comparing no prefix, and its last step reads bitmaps and result from
 * the same block. Keys are zero-padded past their width, so the last level
 * of IPv4 (bits 30-31) and IPv6 (126-127) is an ordinary node of which
 * only some slots are ever used. Large IPv4 tables (from LPM_TOP_ON
 * prefixes) also keep a direct index of the 4096 depth-12 nodes, which
 * saves the two upper steps every lookup would otherwise take (about a
 * third of the time at a million routes).
 *
 * Updates are incremental: a node's results depend only on its own
 * prefixes and on the result it inherits from above, so an insert or a
 * delete recomputes the owning node and then only those descendants whose
 * inherited result actually changed (and which no longer prefix of their
 * own shadows). Inserting a /24 touches one or two nodes; inserting a /8
 * touches the nodes below it that the /8 shows through; /0 touches the
 * whole trie, once.
 *
 * The lookup results are derived data. If memory runs out while
 * recomputing them, the authoritative prefixes are already consistent, so
 * the table is marked stale and lookups fall back to a slower walk over
 * the owned prefixes until a later update manages a full recompute.
 *
 * IPv6 uses the same trie without the direct index. It is not tuned (a
 * /128 host route costs a chain of up to 21 nodes; ~340 bytes a prefix on
 * the test's random mix) but it is correct and a lookup visits at most 22
 * nodes.
 */
#include "route/lpm.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define LPM_SMALL_MAX 64 /* beyond this, switch to the trie */
#define LPM_SMALL_BACK 32 /* below this, back to the array (hysteresis) */

#define PT_STRIDE 6
#define PT_SLOTS 64
#define PT_MAX_LEVELS 22 /* ceil(128 / 6) */

/* IPv4 tables this big also index the depth-12 nodes directly */
#define LPM_TOP_BITS 12
#define LPM_TOP_ON 4096
#define LPM_TOP_OFF 2048

/* A key as two 64-bit words, most significant bit of the address first. */
struct lpm_key {
	uint64_t w[2];
};

struct pt_node {
	uint64_t vector; /* slot has a child */
	uint64_t leafvec; /* childless slot starts a run of equal results */
	uint8_t nchild; /* popcount(vector) */
	uint8_t nleaf; /* popcount(leafvec) */
	uint8_t npfx; /* owned prefixes */
	/*
	 * nchild children in slot order, then nleaf results (uintptr_t),
	 * npfx owned values (uintptr_t) and npfx codes (uint8_t), the owned
	 * prefixes sorted in walk order.
	 */
	struct pt_node *kids[];
};

_Static_assert(sizeof(uintptr_t) == sizeof(struct pt_node *),
	       "leaves and values share the array of child pointers");

#if (defined(__x86_64__) || defined(__i386__)) && !defined(__POPCNT__)
#define LPM_POPCNT_DISPATCH 1
#else
#define LPM_POPCNT_DISPATCH 0
#endif

struct lpm {
	size_t count;
	size_t mem;
	uint8_t keybits;
	bool large;
	bool stale; /* large only: leaves are not trustworthy */
	bool popcnt; /* the CPU has popcnt: use the lookups built for it */
	uint8_t small_cap;
	union {
		void *small; /* vals[cap], keys[cap * keybits / 32], plens[cap] */
		struct pt_node *root;
	};
	/* large IPv4 only, or NULL: the node at depth 12 for each value of
	 * the top 12 bits (NULL where there is none) */
	struct pt_node **top;
};

/* ---- memory accounting ---- */

/*
 * What the allocator really spends on a block: glibc's malloc adds an
 * 8-byte header, rounds to 16 and never hands out less than 32. Counting
 * this instead of the requested size keeps lpm_memory honest for the many
 * tiny blocks that a trie is made of.
 */
static size_t lpm_acct(size_t n)
{
	if (!n)
		return 0;
	n = (n + 8 + 15) & ~(size_t)15;
	return n < 32 ? 32 : n;
}

static void *lpm_alloc(struct lpm *t, size_t n)
{
	void *p;

	if (!n)
		return NULL;
	p = malloc(n);
	if (p)
		t->mem += lpm_acct(n);
	return p;
}

static void lpm_free(struct lpm *t, void *p, size_t n)
{
	if (!p)
		return;
	free(p);
	t->mem -= lpm_acct(n);
}

static unsigned popc(uint64_t x)
{
	return (unsigned)__builtin_popcountll(x);
}

/* ---- keys ---- */

static struct lpm_key key_load(const uint8_t *b, unsigned keybits)
{
	struct lpm_key k = {{0, 0}};

	for (unsigned i = 0; i < keybits / 8; i++)
		k.w[i / 8] |= (uint64_t)b[i] << (56 - 8 * (i % 8));
	return k;
}

static void key_store(const struct lpm_key *k, unsigned keybits, uint8_t *b)
{
	for (unsigned i = 0; i < keybits / 8; i++)
		b[i] = (uint8_t)(k->w[i / 8] >> (56 - 8 * (i % 8)));
}

static struct lpm_key key_mask(struct lpm_key k, unsigned plen)
{
	if (plen < 64) {
		k.w[0] &= plen ? ~0ULL << (64 - plen) : 0;
		k.w[1] = 0;
	} else if (plen < 128) {
		k.w[1] &= plen > 64 ? ~0ULL << (128 - plen) : 0;
	}
	return k;
}

static bool key_eq(const struct lpm_key *a, const struct lpm_key *b)
{
	return a->w[0] == b->w[0] && a->w[1] == b->w[1];
}

/* Order of (key, plen), the order of lpm_walk. */
static int key_cmp(const struct lpm_key *a, unsigned alen,
		   const struct lpm_key *b, unsigned blen)
{
	for (int i = 0; i < 2; i++)
		if (a->w[i] != b->w[i])
			return a->w[i] < b->w[i] ? -1 : 1;
	return alen < blen ? -1 : alen > blen;
}

static void key_shl6(struct lpm_key *k)
{
	k->w[0] = k->w[0] << PT_STRIDE | k->w[1] >> (64 - PT_STRIDE);
	k->w[1] <<= PT_STRIDE;
}

/* Set the 6-bit chunk at bit offset d (bits past 127 fall off). */
static void key_or_chunk(struct lpm_key *k, unsigned d, unsigned v)
{
	for (unsigned i = 0; i < PT_STRIDE; i++) {
		unsigned p = d + i;

		if (p < 128 && (v >> (PT_STRIDE - 1 - i) & 1))
			k->w[p / 64] |= 1ULL << (63 - p % 64);
	}
}

/* ---- small representation ---- */

static unsigned small_kw(const struct lpm *t)
{
	return t->keybits / 32;
}

static uintptr_t *small_vals(const struct lpm *t)
{
	return t->small;
}

static uint32_t *small_keys(const struct lpm *t)
{
	return (uint32_t *)(small_vals(t) + t->small_cap);
}

static uint8_t *small_plens(const struct lpm *t)
{
	return (uint8_t *)(small_keys(t) + t->small_cap * small_kw(t));
}

static size_t small_size(const struct lpm *t, unsigned cap)
{
	return cap * (sizeof(uintptr_t) + 4 * small_kw(t) + 1);
}

static struct lpm_key small_key(const struct lpm *t, unsigned i)
{
	const uint32_t *w = small_keys(t) + i * small_kw(t);
	struct lpm_key k = {{(uint64_t)w[0] << 32, 0}};

	if (small_kw(t) == 4) {
		k.w[0] |= w[1];
		k.w[1] = (uint64_t)w[2] << 32 | w[3];
	}
	return k;
}

static void small_set(struct lpm *t, unsigned i, const struct lpm_key *k,
		      unsigned plen, uintptr_t value)
{
	uint32_t *w = small_keys(t) + i * small_kw(t);

	w[0] = (uint32_t)(k->w[0] >> 32);
	if (small_kw(t) == 4) {
		w[1] = (uint32_t)k->w[0];
		w[2] = (uint32_t)(k->w[1] >> 32);
		w[3] = (uint32_t)k->w[1];
	}
	small_plens(t)[i] = (uint8_t)plen;
	small_vals(t)[i] = value;
}

/* Move entry i to j (layout of the current capacity). */
static void small_move(struct lpm *t, unsigned j, unsigned i)
{
	struct lpm_key k = small_key(t, i);

	small_set(t, j, &k, small_plens(t)[i], small_vals(t)[i]);
}

/* Reallocate to cap entries (cap >= count), copying the entries across. */
static int small_set_cap(struct lpm *t, unsigned cap)
{
	struct lpm old = *t;
	void *blk = lpm_alloc(t, small_size(t, cap));

	if (!blk && cap)
		return -ENOMEM;
	t->small = blk;
	t->small_cap = (uint8_t)cap;
	for (unsigned i = 0; i < t->count; i++) {
		struct lpm_key k = small_key(&old, i);

		small_set(t, i, &k, small_plens(&old)[i], small_vals(&old)[i]);
	}
	lpm_free(t, old.small, small_size(&old, old.small_cap));
	return 0;
}

/* Index of the exact prefix, or the insert position as -(pos + 1). */
static int small_find(const struct lpm *t, const struct lpm_key *k,
		      unsigned plen)
{
	unsigned i;

	/* sorted by plen descending, then key ascending */
	for (i = 0; i < t->count; i++) {
		unsigned p = small_plens(t)[i];
		struct lpm_key e;
		int c;

		if (p > plen)
			continue;
		if (p < plen)
			break;
		e = small_key(t, i);
		c = key_cmp(&e, p, k, plen);
		if (c == 0)
			return (int)i;
		if (c > 0)
			break;
	}
	return -(int)i - 1;
}

static int small_insert(struct lpm *t, const struct lpm_key *k, unsigned plen,
			uintptr_t value)
{
	int pos = small_find(t, k, plen);
	int err;

	if (pos >= 0)
		return -EEXIST;
	pos = -pos - 1;
	if (t->count == t->small_cap) {
		/* exact fit: small tables rarely change and must stay small */
		err = small_set_cap(t, t->small_cap + 1);
		if (err)
			return err;
	}
	for (unsigned i = (unsigned)t->count; i > (unsigned)pos; i--)
		small_move(t, i, i - 1);
	small_set(t, (unsigned)pos, k, plen, value);
	t->count++;
	return 0;
}

static void small_remove(struct lpm *t, unsigned pos)
{
	for (unsigned i = pos; i + 1 < t->count; i++)
		small_move(t, i, i + 1);
	t->count--;
	/* giving memory back is optional: keep the block if that fails */
	small_set_cap(t, (unsigned)t->count);
}

static uintptr_t small_lookup4(const struct lpm *t, uint32_t addr)
{
	const uint32_t *keys;
	const uint8_t *plens;

	if (!t->count) /* no block at all */
		return 0;
	keys = small_keys(t);
	plens = small_plens(t);
	for (size_t i = 0; i < t->count; i++) {
		uint32_t mask = plens[i] ? ~0U << (32 - plens[i]) : 0;

		if (((addr ^ keys[i]) & mask) == 0)
			return small_vals(t)[i];
	}
	return 0;
}

static uintptr_t small_lookup(const struct lpm *t, const struct lpm_key *a)
{
	for (unsigned i = 0; i < t->count; i++) {
		struct lpm_key m = key_mask(*a, small_plens(t)[i]);
		struct lpm_key e = small_key(t, i);

		if (key_eq(&m, &e))
			return small_vals(t)[i];
	}
	return 0;
}

/* ---- trie: node blocks ---- */

/*
 * A node is one block: the header, then its children (pointers, in slot
 * order), its leaves, its owned values and their codes. Keeping a node's
 * leaves beside its bitmaps means the last step of a lookup touches one
 * block, not two, which matters when the trie is far bigger than the
 * cache and the TLB.
 */
static size_t pt_size(unsigned nc, unsigned nl, unsigned np)
{
	return sizeof(struct pt_node) + (nc + nl + np) * sizeof(uintptr_t) + np;
}

static size_t pt_bytes(const struct pt_node *n)
{
	return pt_size(n->nchild, n->nleaf, n->npfx);
}

static uintptr_t *pt_leafv(const struct pt_node *n)
{
	return (uintptr_t *)(n->kids + n->nchild);
}

static uintptr_t *pt_pvals(const struct pt_node *n)
{
	return pt_leafv(n) + n->nleaf;
}

static uint8_t *pt_codes(const struct pt_node *n)
{
	return (uint8_t *)(pt_pvals(n) + n->npfx);
}

/* Resize a node block; shrinking keeps the old block if realloc fails. */
static int pt_resize(struct lpm *t, struct pt_node **pn, size_t old, size_t n)
{
	struct pt_node *q = realloc(*pn, n);

	if (!q)
		return n > old ? -ENOMEM : 0;
	t->mem = t->mem - lpm_acct(old) + lpm_acct(n);
	*pn = q;
	return 0;
}

/* ---- trie: owned prefixes ---- */

/*
 * A prefix owned by a node is coded in one byte as (1 << len) | bits,
 * where len (0..6) is its length past the node's depth and bits are its
 * len bits there: unique per prefix, and under 128.
 */
static unsigned code_len(unsigned code)
{
	return 31 - (unsigned)__builtin_clz(code);
}

static unsigned code_start(unsigned code)
{
	unsigned len = code_len(code);

	return (code & ((1U << len) - 1)) << (PT_STRIDE - len);
}

/* Walk order inside a node: first slot covered, then length. */
static unsigned code_rank(unsigned code)
{
	return code_start(code) << 3 | code_len(code);
}

/* Index of code, or the insert position as -(pos + 1). */
static int pfx_find(const struct pt_node *n, unsigned code)
{
	const uint8_t *codes = pt_codes(n);
	unsigned rank = code_rank(code);
	unsigned i;

	for (i = 0; i < n->npfx; i++) {
		unsigned r = code_rank(codes[i]);

		if (r == rank)
			return (int)i;
		if (r > rank)
			break;
	}
	return -(int)i - 1;
}

static int pfx_insert(struct lpm *t, struct pt_node **pn, unsigned pos,
		      unsigned code, uintptr_t value)
{
	size_t size = pt_bytes(*pn);
	unsigned cnt = (*pn)->npfx;
	uint8_t *old_codes, *codes;
	uintptr_t *vals;
	int err;

	err = pt_resize(t, pn, size, size + sizeof(uintptr_t) + 1);
	if (err)
		return err;
	vals = pt_pvals(*pn);
	old_codes = (uint8_t *)(vals + cnt);
	codes = (uint8_t *)(vals + cnt + 1);
	/* the codes move up past the new value: tail first, then head */
	memmove(codes + pos + 1, old_codes + pos, cnt - pos);
	memmove(codes, old_codes, pos);
	memmove(vals + pos + 1, vals + pos, (cnt - pos) * sizeof(*vals));
	vals[pos] = value;
	codes[pos] = (uint8_t)code;
	(*pn)->npfx = (uint8_t)(cnt + 1);
	return 0;
}

static void pfx_remove(struct lpm *t, struct pt_node **pn, unsigned pos)
{
	size_t size = pt_bytes(*pn);
	unsigned cnt = (*pn)->npfx;
	uintptr_t *vals = pt_pvals(*pn);
	uint8_t *old_codes = (uint8_t *)(vals + cnt);
	uint8_t *codes = (uint8_t *)(vals + cnt - 1);

	memmove(vals + pos, vals + pos + 1, (cnt - pos - 1) * sizeof(*vals));
	memmove(codes, old_codes, pos);
	memmove(codes + pos, old_codes + pos + 1, cnt - pos - 1);
	(*pn)->npfx = (uint8_t)(cnt - 1);
	pt_resize(t, pn, size, size - sizeof(uintptr_t) - 1);
}

/* The code of prefix key/plen at a node of depth d (d <= plen <= d + 6). */
static unsigned pt_code(const struct lpm_key *key, unsigned d, unsigned plen)
{
	unsigned len = plen - d;
	struct lpm_key k = *key;

	for (unsigned i = 0; i < d / PT_STRIDE; i++)
		key_shl6(&k);
	return 1U << len | (unsigned)(len ? k.w[0] >> (64 - len) : 0);
}

/*
 * For every slot: the value of the longest owned prefix covering it, or
 * dflt (what the node inherits) with own[slot] = -1.
 */
static void pt_raw(const struct pt_node *n, uintptr_t dflt,
		   uintptr_t raw[PT_SLOTS], int8_t own[PT_SLOTS])
{
	const uint8_t *codes = pt_codes(n);
	const uintptr_t *vals = pt_pvals(n);

	for (unsigned s = 0; s < PT_SLOTS; s++) {
		raw[s] = dflt;
		own[s] = -1;
	}
	for (unsigned j = 0; j < n->npfx; j++) {
		unsigned len = code_len(codes[j]);
		unsigned start = code_start(codes[j]);
		unsigned end = start + (1U << (PT_STRIDE - len));

		for (unsigned s = start; s < end; s++) {
			if ((int)len > own[s]) {
				own[s] = (int8_t)len;
				raw[s] = vals[j];
			}
		}
	}
}

/* What a child at slot inherits: the longest owned prefix over it, or dflt. */
static uintptr_t pt_inherit(const struct pt_node *n, unsigned slot,
			    uintptr_t dflt)
{
	const uint8_t *codes = pt_codes(n);
	int best = -1;

	for (unsigned j = 0; j < n->npfx; j++) {
		unsigned len = code_len(codes[j]);
		unsigned span = 1U << (PT_STRIDE - len);

		if (code_start(codes[j]) == (slot & ~(span - 1)) &&
		    (int)len > best) {
			best = (int)len;
			dflt = pt_pvals(n)[j];
		}
	}
	return dflt;
}

/* ---- trie: lookup results ---- */

/* Recompute the leaves of *pn from its raw results (children excluded). */
static int pt_leaves(struct lpm *t, struct pt_node **pn,
		     const uintptr_t raw[PT_SLOTS])
{
	struct pt_node *n = *pn;
	uintptr_t tmp[PT_SLOTS];
	uint64_t lv = 0;
	unsigned nl = 0;

	for (unsigned s = 0; s < PT_SLOTS; s++) {
		if (n->vector >> s & 1)
			continue;
		if (!nl || raw[s] != tmp[nl - 1]) {
			lv |= 1ULL << s;
			tmp[nl++] = raw[s];
		}
	}
	if (nl != n->nleaf) {
		/* the owned prefixes behind the leaves move with them */
		size_t size = pt_bytes(n);
		size_t tail = n->npfx * (sizeof(uintptr_t) + 1);
		size_t at = size - tail;
		size_t nsize = pt_size(n->nchild, nl, n->npfx);
		size_t nat = nsize - tail;
		int err;

		if (nl < n->nleaf)
			memmove((char *)n + nat, (char *)n + at, tail);
		err = pt_resize(t, pn, size, nsize);
		if (err)
			return err;
		n = *pn;
		if (nl > n->nleaf)
			memmove((char *)n + nat, (char *)n + at, tail);
		n->nleaf = (uint8_t)nl;
	}
	memcpy(pt_leafv(n), tmp, nl * sizeof(*tmp));
	n->leafvec = lv;
	return 0;
}

/*
 * *pn now inherits dflt: recompute it and the children that see dflt
 * through it. Keeps going after a failure so as much as possible is right.
 */
static int pt_push(struct lpm *t, struct pt_node **pn, uintptr_t dflt)
{
	uintptr_t raw[PT_SLOTS];
	int8_t own[PT_SLOTS];
	unsigned idx = 0;
	int err;

	pt_raw(*pn, dflt, raw, own);
	err = pt_leaves(t, pn, raw);
	for (uint64_t v = (*pn)->vector; v; v &= v - 1, idx++) {
		unsigned s = (unsigned)__builtin_ctzll(v);

		if (own[s] < 0 && pt_push(t, &(*pn)->kids[idx], dflt))
			err = -ENOMEM;
	}
	return err;
}

/* *pn's owned prefixes changed (results were old_raw): recompute below. */
static int pt_update(struct lpm *t, struct pt_node **pn, uintptr_t dflt,
		     const uintptr_t old_raw[PT_SLOTS])
{
	uintptr_t raw[PT_SLOTS];
	int8_t own[PT_SLOTS];
	unsigned idx = 0;
	int err;

	pt_raw(*pn, dflt, raw, own);
	err = pt_leaves(t, pn, raw);
	for (uint64_t v = (*pn)->vector; v; v &= v - 1, idx++) {
		unsigned s = (unsigned)__builtin_ctzll(v);

		if (raw[s] != old_raw[s] &&
		    pt_push(t, &(*pn)->kids[idx], raw[s]))
			err = -ENOMEM;
	}
	return err;
}

/* Recompute every node (recovery after running out of memory). */
static int pt_rebuild(struct lpm *t, struct pt_node **pn, uintptr_t dflt)
{
	uintptr_t raw[PT_SLOTS];
	int8_t own[PT_SLOTS];
	unsigned idx = 0;
	int err;

	pt_raw(*pn, dflt, raw, own);
	err = pt_leaves(t, pn, raw);
	for (uint64_t v = (*pn)->vector; v; v &= v - 1, idx++) {
		unsigned s = (unsigned)__builtin_ctzll(v);

		if (pt_rebuild(t, &(*pn)->kids[idx], raw[s]))
			err = -ENOMEM;
	}
	return err;
}

static void pt_relayout(struct lpm *t, struct pt_node **pn, uintptr_t dflt)
{
	uintptr_t raw[PT_SLOTS];
	int8_t own[PT_SLOTS];

	pt_raw(*pn, dflt, raw, own);
	if (pt_leaves(t, pn, raw))
		t->stale = true;
}

/* ---- trie: structure ---- */

static struct pt_node *pt_new(struct lpm *t)
{
	struct pt_node *n = lpm_alloc(t, pt_size(0, 0, 0));

	if (n)
		memset(n, 0, sizeof(*n));
	return n;
}

/* Give *pn an empty child at slot; its leaves are stale until relayout. */
static int pt_child_add(struct lpm *t, struct pt_node **pn, unsigned slot)
{
	size_t size = pt_bytes(*pn);
	unsigned pos = popc((*pn)->vector & ((1ULL << slot) - 1));
	struct pt_node *c = pt_new(t), *n;
	size_t at;

	if (!c)
		return -ENOMEM;
	if (pt_resize(t, pn, size, size + sizeof(c))) {
		lpm_free(t, c, pt_size(0, 0, 0));
		return -ENOMEM;
	}
	n = *pn;
	at = (size_t)((char *)(n->kids + pos) - (char *)n);
	memmove(n->kids + pos + 1, n->kids + pos, size - at);
	n->kids[pos] = c;
	n->nchild++;
	n->vector |= 1ULL << slot;
	return 0;
}

static void pt_free(struct lpm *t, struct pt_node *n)
{
	for (unsigned i = 0; i < n->nchild; i++)
		pt_free(t, n->kids[i]);
	lpm_free(t, n, pt_bytes(n));
}

/* Remove the (empty) child at slot. */
static void pt_child_del(struct lpm *t, struct pt_node **pn, unsigned slot)
{
	struct pt_node *n = *pn;
	size_t size = pt_bytes(n);
	unsigned pos = popc(n->vector & ((1ULL << slot) - 1));
	size_t at = (size_t)((char *)(n->kids + pos + 1) - (char *)n);

	pt_free(t, n->kids[pos]);
	memmove(n->kids + pos, n->kids + pos + 1, size - at);
	n->nchild--;
	n->vector &= ~(1ULL << slot);
	pt_resize(t, pn, size, size - sizeof(n));
}

/*
 * The nodes from the root to the one owning a prefix, as the places that
 * point to them (so a node's block can move). ref[i + 1] lies inside
 * node i, so changes that move blocks go bottom-up.
 */
struct pt_path {
	struct pt_node **ref[PT_MAX_LEVELS];
	uintptr_t dflt[PT_MAX_LEVELS]; /* what node i inherits */
	uint8_t slot[PT_MAX_LEVELS]; /* slot of node i + 1 in node i */
	bool grew[PT_MAX_LEVELS]; /* node i gained a child */
	unsigned n;
};

/*
 * Find (or with create, make) the node owning key/plen. On failure
 * path->n still describes the nodes visited, so they can be pruned.
 */
static int pt_descend(struct lpm *t, const struct lpm_key *key, unsigned plen,
		      bool create, struct pt_path *path)
{
	struct pt_node **pn = &t->root;
	struct lpm_key k = *key;
	uintptr_t dflt = 0;
	unsigned d = 0, i = 0;
	int err;

	for (;;) {
		unsigned slot = (unsigned)(k.w[0] >> (64 - PT_STRIDE));
		struct pt_node *n = *pn;

		path->ref[i] = pn;
		path->dflt[i] = dflt;
		path->grew[i] = false;
		path->n = i + 1;
		if (plen <= d + PT_STRIDE)
			return 0;
		path->slot[i] = (uint8_t)slot;
		if (!(n->vector >> slot & 1)) {
			if (!create)
				return -ENOENT;
			err = pt_child_add(t, pn, slot);
			if (err)
				return err;
			n = *pn;
			path->grew[i] = true;
		}
		dflt = pt_inherit(n, slot, dflt);
		pn = &n->kids[popc(n->vector & ((1ULL << slot) - 1))];
		key_shl6(&k);
		d += PT_STRIDE;
		i++;
	}
}

/* Remove empty nodes at the bottom of path, fixing their parents' leaves. */
static void pt_prune(struct lpm *t, struct pt_path *path)
{
	for (unsigned i = path->n - 1; i > 0; i--) {
		struct pt_node *n = *path->ref[i];

		if (n->npfx || n->vector)
			break;
		pt_child_del(t, path->ref[i - 1], path->slot[i - 1]);
		path->n = i;
		pt_relayout(t, path->ref[i - 1], path->dflt[i - 1]);
	}
}

static int pt_insert(struct lpm *t, const struct lpm_key *key, unsigned plen,
		     uintptr_t value)
{
	uintptr_t old_raw[PT_SLOTS];
	int8_t own[PT_SLOTS];
	struct pt_path path;
	struct pt_node **owner;
	unsigned code, last;
	int pos, err;

	err = pt_descend(t, key, plen, true, &path);
	if (err)
		goto fail;
	last = path.n - 1;
	owner = path.ref[last];
	code = pt_code(key, last * PT_STRIDE, plen);
	pos = pfx_find(*owner, code);
	if (pos >= 0)
		return -EEXIST; /* the path existed already: nothing was made */
	pt_raw(*owner, path.dflt[last], old_raw, own);
	err = pfx_insert(t, owner, (unsigned)(-pos - 1), code, value);
	if (err)
		goto fail;
	t->count++;

	/* the prefix is in; now bring the lookup results up to date */
	if (pt_update(t, owner, path.dflt[last], old_raw))
		t->stale = true;
	for (unsigned i = last; i-- > 0;)
		if (path.grew[i])
			pt_relayout(t, path.ref[i], path.dflt[i]);
	return 0;
fail:
	pt_prune(t, &path);
	return err;
}

/* Find the owner and the index of the exact prefix in it. */
static int pt_find(const struct lpm *t, const struct lpm_key *key,
		   unsigned plen, struct pt_path *path, int *idx)
{
	/* without create, descending changes nothing */
	int err = pt_descend((struct lpm *)t, key, plen, false, path);
	unsigned last = path->n - 1;

	if (err)
		return err;
	*idx = pfx_find(*path->ref[last], pt_code(key, last * PT_STRIDE, plen));
	return *idx < 0 ? -ENOENT : 0;
}

static int pt_delete(struct lpm *t, const struct lpm_key *key, unsigned plen,
		     uintptr_t *old)
{
	uintptr_t old_raw[PT_SLOTS];
	int8_t own[PT_SLOTS];
	struct pt_path path;
	struct pt_node **owner;
	unsigned last;
	int idx, err;

	err = pt_find(t, key, plen, &path, &idx);
	if (err)
		return err;
	last = path.n - 1;
	owner = path.ref[last];
	if (old)
		*old = pt_pvals(*owner)[idx];
	pt_raw(*owner, path.dflt[last], old_raw, own);
	pfx_remove(t, owner, (unsigned)idx);
	t->count--;
	if (pt_update(t, owner, path.dflt[last], old_raw))
		t->stale = true;
	pt_prune(t, &path);
	return 0;
}

static int pt_replace(struct lpm *t, const struct lpm_key *key, unsigned plen,
		      uintptr_t value)
{
	uintptr_t old_raw[PT_SLOTS];
	int8_t own[PT_SLOTS];
	struct pt_path path;
	struct pt_node **owner;
	int idx, err;

	err = pt_find(t, key, plen, &path, &idx);
	if (err)
		return err;
	owner = path.ref[path.n - 1];
	pt_raw(*owner, path.dflt[path.n - 1], old_raw, own);
	pt_pvals(*owner)[idx] = value;
	if (pt_update(t, owner, path.dflt[path.n - 1], old_raw))
		t->stale = true;
	return 0;
}

/*
 * The lookups proper. They are written once, inline, and instantiated
 * twice on x86: baseline x86-64 has no popcnt instruction and the library
 * fallback doubles the lookup time, so a table built on a CPU that has it
 * uses the copy compiled for it.
 */
/* k: the rest of the address, left-aligned, from n's depth on */
static inline __attribute__((always_inline)) uintptr_t
pt_lookup4_body(const struct pt_node *n, uint64_t k)
{
	for (;;) {
		uint64_t bit = 1ULL << (k >> (64 - PT_STRIDE));

		if (!(n->vector & bit))
			return pt_leafv(n)[popc(n->leafvec & ((bit << 1) - 1)) - 1];
		n = n->kids[popc(n->vector & (bit - 1))];
		k <<= PT_STRIDE;
	}
}

static inline __attribute__((always_inline)) uintptr_t
pt_lookup_body(const struct pt_node *n, struct lpm_key k)
{
	for (;;) {
		uint64_t bit = 1ULL << (k.w[0] >> (64 - PT_STRIDE));

		if (!(n->vector & bit))
			return pt_leafv(n)[popc(n->leafvec & ((bit << 1) - 1)) - 1];
		n = n->kids[popc(n->vector & (bit - 1))];
		key_shl6(&k);
	}
}

static uintptr_t pt_lookup4(const struct pt_node *n, uint64_t k)
{
	return pt_lookup4_body(n, k);
}

static uintptr_t pt_lookup(const struct pt_node *n, struct lpm_key k)
{
	return pt_lookup_body(n, k);
}

#if LPM_POPCNT_DISPATCH
__attribute__((target("popcnt"))) static uintptr_t
pt_lookup4_popcnt(const struct pt_node *n, uint64_t k)
{
	return pt_lookup4_body(n, k);
}

__attribute__((target("popcnt"))) static uintptr_t
pt_lookup_popcnt(const struct pt_node *n, struct lpm_key k)
{
	return pt_lookup_body(n, k);
}
#endif

/* Lookup from the owned prefixes alone, for when the leaves are stale. */
static uintptr_t pt_lookup_slow(const struct pt_node *n, struct lpm_key k)
{
	uintptr_t best = 0;

	for (;;) {
		unsigned slot = (unsigned)(k.w[0] >> (64 - PT_STRIDE));

		best = pt_inherit(n, slot, best);
		if (!(n->vector >> slot & 1))
			return best;
		n = n->kids[popc(n->vector & ((1ULL << slot) - 1))];
		key_shl6(&k);
	}
}

typedef int (*lpm_walk_fn)(void *ctx, const uint8_t *key, unsigned plen,
			   uintptr_t value);

static int pt_walk(const struct lpm *t, const struct pt_node *n, unsigned d,
		   struct lpm_key base, lpm_walk_fn fn, void *ctx)
{
	const uint8_t *codes = pt_codes(n);
	uint8_t bytes[16];
	unsigned j = 0, idx = 0;
	int r;

	/* an owned prefix sorts before the child at every slot >= its start */
	for (unsigned s = 0; s < PT_SLOTS; s++) {
		for (; j < n->npfx && code_start(codes[j]) <= s; j++) {
			struct lpm_key k = base;
			unsigned plen = d + code_len(codes[j]);

			key_or_chunk(&k, d, code_start(codes[j]));
			k = key_mask(k, plen);
			key_store(&k, t->keybits, bytes);
			r = fn(ctx, bytes, plen, pt_pvals(n)[j]);
			if (r)
				return r;
		}
		if (n->vector >> s & 1) {
			struct lpm_key k = base;

			key_or_chunk(&k, d, s);
			r = pt_walk(t, n->kids[idx++], d + PT_STRIDE, k, fn, ctx);
			if (r)
				return r;
		}
	}
	return 0;
}

/* ---- direct index of the top bits (large IPv4) ---- */

static struct pt_node *pt_top_node(const struct lpm *t, uint32_t i)
{
	struct pt_node *n = t->root;
	uint64_t k = (uint64_t)i << (64 - LPM_TOP_BITS);

	for (unsigned l = 0; l < LPM_TOP_BITS / PT_STRIDE; l++) {
		uint64_t bit = 1ULL << (k >> (64 - PT_STRIDE));

		if (!(n->vector & bit))
			return NULL;
		n = n->kids[popc(n->vector & (bit - 1))];
		k <<= PT_STRIDE;
	}
	return n;
}

static void lpm_top_free(struct lpm *t)
{
	lpm_free(t, t->top, sizeof(*t->top) << LPM_TOP_BITS);
	t->top = NULL;
}

/*
 * A change to key/plen may have created, freed or moved (by realloc) the
 * depth-12 nodes under it, and only those: refresh their entries. The
 * index is an accelerator: without memory for it, lookups go without.
 */
static void lpm_top_sync(struct lpm *t, const struct lpm_key *key,
			 unsigned plen)
{
	uint32_t first, span;

	if (t->keybits != 32 || !t->large || t->count < LPM_TOP_OFF) {
		lpm_top_free(t);
		return;
	}
	if (!t->top) {
		if (t->count < LPM_TOP_ON)
			return;
		t->top = lpm_alloc(t, sizeof(*t->top) << LPM_TOP_BITS);
		if (!t->top)
			return;
		plen = 0;
	}
	if (plen > LPM_TOP_BITS)
		plen = LPM_TOP_BITS;
	span = 1U << (LPM_TOP_BITS - plen);
	first = (uint32_t)(key->w[0] >> (64 - LPM_TOP_BITS)) & ~(span - 1);
	for (uint32_t i = first; i < first + span; i++)
		t->top[i] = pt_top_node(t, i);
}

/* ---- switching representation ---- */

static int lpm_to_large(struct lpm *t)
{
	struct lpm tmp = {.keybits = t->keybits, .large = true};
	int err = -ENOMEM;

	tmp.root = pt_new(&tmp);
	if (!tmp.root)
		return -ENOMEM;
	for (unsigned i = 0; i < t->count; i++) {
		struct lpm_key k = small_key(t, i);

		err = pt_insert(&tmp, &k, small_plens(t)[i], small_vals(t)[i]);
		if (err)
			goto fail;
	}
	if (tmp.stale) {
		err = -ENOMEM;
		goto fail;
	}
	lpm_free(t, t->small, small_size(t, t->small_cap));
	t->mem += tmp.mem;
	t->root = tmp.root;
	t->large = true;
	t->small_cap = 0;
	return 0;
fail:
	pt_free(&tmp, tmp.root);
	return err;
}

static int small_collect(void *ctx, const uint8_t *key, unsigned plen,
			 uintptr_t value)
{
	struct lpm *s = ctx;
	struct lpm_key k = key_load(key, s->keybits);

	return small_insert(s, &k, plen, value);
}

static void lpm_to_small(struct lpm *t)
{
	struct lpm tmp = {.keybits = t->keybits};

	/* a failure just leaves the table large, which is fine */
	if (small_set_cap(&tmp, (unsigned)t->count))
		return;
	if (pt_walk(t, t->root, 0, (struct lpm_key){{0, 0}}, small_collect,
		    &tmp)) {
		lpm_free(&tmp, tmp.small, small_size(&tmp, tmp.small_cap));
		return;
	}
	pt_free(t, t->root);
	lpm_top_free(t);
	t->mem += tmp.mem;
	t->small = tmp.small;
	t->small_cap = tmp.small_cap;
	t->large = false;
	t->stale = false;
}

/* ---- API ---- */

struct lpm *lpm_create(unsigned keybits)
{
	struct lpm *t;

	if (keybits != 32 && keybits != 128)
		return NULL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->keybits = (uint8_t)keybits;
	t->mem = lpm_acct(sizeof(*t));
#if LPM_POPCNT_DISPATCH
	__builtin_cpu_init();
	t->popcnt = __builtin_cpu_supports("popcnt");
#endif
	return t;
}

void lpm_destroy(struct lpm *t)
{
	if (!t)
		return;
	if (t->large) {
		lpm_top_free(t);
		pt_free(t, t->root);
	} else {
		lpm_free(t, t->small, small_size(t, t->small_cap));
	}
	free(t);
}

static bool lpm_args_ok(const struct lpm *t, const uint8_t *key, unsigned plen)
{
	return t && key && plen <= t->keybits;
}

/* A failed recompute left the leaves stale: retry before changing more. */
static void lpm_recover(struct lpm *t)
{
	static const struct lpm_key all;

	if (!t->large || !t->stale)
		return;
	if (pt_rebuild(t, &t->root, 0) == 0)
		t->stale = false;
	lpm_top_sync(t, &all, 0);
}

int lpm_insert(struct lpm *t, const uint8_t *key, unsigned plen, uintptr_t value)
{
	struct lpm_key k;
	int err;

	if (!lpm_args_ok(t, key, plen) || !value)
		return -EINVAL;
	k = key_mask(key_load(key, t->keybits), plen);
	lpm_recover(t);
	if (!t->large && t->count < LPM_SMALL_MAX)
		return small_insert(t, &k, plen, value);
	if (!t->large) {
		if (small_find(t, &k, plen) >= 0)
			return -EEXIST;
		err = lpm_to_large(t);
		if (err)
			return err;
	}
	err = pt_insert(t, &k, plen, value);
	lpm_top_sync(t, &k, plen);
	return err;
}

int lpm_replace(struct lpm *t, const uint8_t *key, unsigned plen, uintptr_t value)
{
	struct lpm_key k;
	int pos;

	if (!lpm_args_ok(t, key, plen) || !value)
		return -EINVAL;
	k = key_mask(key_load(key, t->keybits), plen);
	lpm_recover(t);
	if (t->large) {
		int err = pt_replace(t, &k, plen, value);

		lpm_top_sync(t, &k, plen);
		return err;
	}
	pos = small_find(t, &k, plen);
	if (pos < 0)
		return -ENOENT;
	small_vals(t)[pos] = value;
	return 0;
}

int lpm_delete(struct lpm *t, const uint8_t *key, unsigned plen, uintptr_t *old)
{
	struct lpm_key k;
	int pos, err;

	if (!lpm_args_ok(t, key, plen))
		return -EINVAL;
	k = key_mask(key_load(key, t->keybits), plen);
	lpm_recover(t);
	if (t->large) {
		err = pt_delete(t, &k, plen, old);
		lpm_top_sync(t, &k, plen);
		if (!err && t->count < LPM_SMALL_BACK)
			lpm_to_small(t);
		return err;
	}
	pos = small_find(t, &k, plen);
	if (pos < 0)
		return -ENOENT;
	if (old)
		*old = small_vals(t)[pos];
	small_remove(t, (unsigned)pos);
	return 0;
}

uintptr_t lpm_get(const struct lpm *t, const uint8_t *key, unsigned plen)
{
	struct pt_path path;
	struct lpm_key k;
	int pos;

	if (!lpm_args_ok(t, key, plen))
		return 0;
	k = key_mask(key_load(key, t->keybits), plen);
	if (t->large) {
		if (pt_find(t, &k, plen, &path, &pos))
			return 0;
		return pt_pvals(*path.ref[path.n - 1])[pos];
	}
	pos = small_find(t, &k, plen);
	return pos < 0 ? 0 : small_vals(t)[pos];
}

uintptr_t lpm_lookup4(const struct lpm *t, uint32_t addr)
{
	const struct pt_node *n;
	uint64_t k;

	if (t->keybits != 32)
		return 0;
	if (!t->large)
		return small_lookup4(t, addr);
	if (__builtin_expect(t->stale, 0))
		return pt_lookup_slow(t->root,
				      (struct lpm_key){{(uint64_t)addr << 32, 0}});
	n = t->root;
	k = (uint64_t)addr << 32;
	if (t->top && t->top[addr >> (32 - LPM_TOP_BITS)]) {
		n = t->top[addr >> (32 - LPM_TOP_BITS)];
		k <<= LPM_TOP_BITS;
	}
#if LPM_POPCNT_DISPATCH
	if (t->popcnt)
		return pt_lookup4_popcnt(n, k);
#endif
	return pt_lookup4(n, k);
}

uintptr_t lpm_lookup(const struct lpm *t, const uint8_t *addr)
{
	struct lpm_key k;

	if (t->keybits == 32)
		return lpm_lookup4(t, (uint32_t)addr[0] << 24 |
					      (uint32_t)addr[1] << 16 |
					      (uint32_t)addr[2] << 8 | addr[3]);
	k = key_load(addr, t->keybits);
	if (!t->large)
		return small_lookup(t, &k);
	if (__builtin_expect(t->stale, 0))
		return pt_lookup_slow(t->root, k);
#if LPM_POPCNT_DISPATCH
	if (t->popcnt)
		return pt_lookup_popcnt(t->root, k);
#endif
	return pt_lookup(t->root, k);
}

int lpm_walk(const struct lpm *t, lpm_walk_fn fn, void *ctx)
{
	struct lpm_key last = {{0, 0}};
	unsigned last_plen = 0;
	uint8_t bytes[16];

	if (t->large)
		return pt_walk(t, t->root, 0, (struct lpm_key){{0, 0}}, fn, ctx);
	/* the array is sorted for lookups; pick entries in walk order */
	for (size_t done = 0; done < t->count; done++) {
		struct lpm_key best = {{0, 0}};
		unsigned best_plen = 0;
		int bi = -1;
		int r;

		for (unsigned i = 0; i < t->count; i++) {
			struct lpm_key k = small_key(t, i);
			unsigned p = small_plens(t)[i];

			if (done && key_cmp(&k, p, &last, last_plen) <= 0)
				continue;
			if (bi < 0 || key_cmp(&k, p, &best, best_plen) < 0) {
				best = k;
				best_plen = p;
				bi = (int)i;
			}
		}
		key_store(&best, t->keybits, bytes);
		r = fn(ctx, bytes, best_plen, small_vals(t)[bi]);
		if (r)
			return r;
		last = best;
		last_plen = best_plen;
	}
	return 0;
}

size_t lpm_count(const struct lpm *t)
{
	return t->count;
}

size_t lpm_memory(const struct lpm *t)
{
	return t->mem;
}
