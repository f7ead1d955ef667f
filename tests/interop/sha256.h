/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * SHA-256 (FIPS 180-4) for the interop node, so that what crossed a TCP
 * connection can be compared with `sha256sum` on the Linux side.
 */
#ifndef INTEROP_SHA256_H
#define INTEROP_SHA256_H

#include <stddef.h>
#include <stdint.h>

struct sha256 {
	uint32_t h[8];
	uint64_t len; /* bytes hashed so far */
	uint8_t blk[64];
	size_t fill;
};

void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *data, size_t len);
/* Finish and write the digest as 64 lowercase hex digits and a NUL. */
void sha256_hex(struct sha256 *s, char hex[65]);

#endif
