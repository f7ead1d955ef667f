/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The Internet checksum.
 *
 * RFCs: 1071 (computing the Internet checksum), 1141 and 1624 (incremental
 * update), 768/9293 (the IPv4 pseudo-header), 8200 section 8.1 (the IPv6
 * pseudo-header).
 *
 * cksum_partial is on the path of every packet, so it loads 8 bytes at a time
 * in host byte order. RFC 1071 section 2(B): the one's complement sum is
 * independent of byte order, so summing host-order words and swapping the
 * folded 16-bit result once gives the same value as summing big-endian words.
 * Loads go through memcpy, which compiles to one unaligned load and keeps us
 * clear of alignment and strict-aliasing trouble for buffers at any offset.
 *
 * Every partial sum returned here is "network order valued": a 32-bit value
 * congruent (mod 0xffff) to the sum of the big-endian 16-bit words, so sums
 * from cksum_partial and cksum_pseudo4/6 can be added and finished together.
 */
#include "wire/wire.h"

#include <string.h>

/* Largest block summed into the 64-bit accumulators before folding: each
 * step adds less than 2^33, so 2^30 bytes keep s0 + s1 below 2^61. */
#define CKSUM_BLOCK ((size_t)1 << 30)

static uint32_t fold64(uint64_t s)
{
	s = (s & 0xffffffffu) + (s >> 32);
	s = (s & 0xffffffffu) + (s >> 32);
	return (uint32_t)s;
}

static uint16_t fold32(uint32_t s)
{
	s = (s & 0xffffu) + (s >> 16);
	s = (s & 0xffffu) + (s >> 16);
	return (uint16_t)s;
}

/* One's complement sum of len bytes as host-order 16-bit words, folded to
 * 16 bits. An odd last byte is padded with zero in memory order. */
static uint16_t sum_host_order(const uint8_t *p, size_t len)
{
	uint64_t s0 = 0, s1 = 0;
	uint64_t a, b;
	uint32_t w;
	uint16_t h;

	/* Two independent accumulators let the adds of the two loads run in
	 * parallel. Splitting each 64-bit load into 32-bit halves means a
	 * carry never leaves the accumulator, so no add-with-carry is needed. */
	while (len >= 16) {
		memcpy(&a, p, 8);
		memcpy(&b, p + 8, 8);
		s0 += (a & 0xffffffffu) + (a >> 32);
		s1 += (b & 0xffffffffu) + (b >> 32);
		p += 16;
		len -= 16;
	}
	if (len >= 8) {
		memcpy(&a, p, 8);
		s0 += (a & 0xffffffffu) + (a >> 32);
		p += 8;
		len -= 8;
	}
	if (len >= 4) {
		memcpy(&w, p, 4);
		s1 += w;
		p += 4;
		len -= 4;
	}
	if (len >= 2) {
		memcpy(&h, p, 2);
		s0 += h;
		p += 2;
		len -= 2;
	}
	if (len) {
		/* Pad in memory order so the byte lands in the high half of a
		 * big-endian word on any host. */
		uint8_t last[2] = {p[0], 0};

		memcpy(&h, last, 2);
		s1 += h;
	}
	return fold32(fold64(s0 + s1));
}

uint32_t cksum_partial(const void *data, size_t len, uint32_t sum)
{
	const uint8_t *p = data;
	uint64_t acc = sum;

	while (len) {
		size_t n = len < CKSUM_BLOCK ? len : CKSUM_BLOCK;
		uint16_t h = sum_host_order(p, n);

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
		h = (uint16_t)(h << 8 | h >> 8);
#endif
		acc += h;
		p += n;
		len -= n;
	}
	return fold64(acc);
}

uint16_t cksum_finish(uint32_t sum)
{
	return (uint16_t)~fold32(sum);
}

uint32_t cksum_pseudo4(uint32_t src, uint32_t dst, uint8_t proto, uint32_t len)
{
	uint64_t s = (uint64_t)(src >> 16) + (src & 0xffffu) + (dst >> 16) +
		     (dst & 0xffffu) + proto + (len >> 16) + (len & 0xffffu);

	return fold64(s);
}

uint32_t cksum_pseudo6(const uint8_t src[16], const uint8_t dst[16],
		       uint8_t next, uint32_t len)
{
	uint32_t s = cksum_partial(src, 16, 0);

	s = cksum_partial(dst, 16, s);
	/* The upper-layer length is 32 bits, then 24 zero bits and the next
	 * header: as 16-bit words that is len >> 16, len & 0xffff, 0, next. */
	return fold64((uint64_t)s + (len >> 16) + (len & 0xffffu) + next);
}

uint16_t cksum_update16(uint16_t cksum, uint16_t old, uint16_t new_)
{
	/* RFC 1624 eqn. 3, HC' = ~(~HC + ~m + m'). Unlike eqn. 2 it never
	 * turns a valid header into one carrying -0 where a full recompute
	 * would give +0. */
	uint32_t s = (uint32_t)(uint16_t)~cksum + (uint16_t)~old + new_;

	return (uint16_t)~fold32(s);
}
