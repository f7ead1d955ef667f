/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tcpx: drive TCP connections between vimages in virtual time, for tests
 * and benchmarks. A transfer streams a deterministic byte pattern (a
 * function of the offset, so no buffer of the whole size is needed) from a
 * client to a server and hashes both ends, so "arrived intact" is a hash
 * comparison whatever the size.
 */
#ifndef TCPX_H
#define TCPX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "simnet.h"

/* The pattern byte at offset off of stream seed. */
static inline uint8_t tcpx_byte(uint64_t seed, uint64_t off)
{
	uint64_t x = (off >> 3) * 0x9e3779b97f4a7c15ull ^ seed;

	x ^= x >> 29;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 32;
	return (uint8_t)(x >> ((off & 7) * 8));
}

struct tcpx {
	struct simnet *sn;
	struct vsocket *lsn, *cli, *srv;
	uint64_t total, sent, rcvd;
	uint64_t hash_tx, hash_rx;
	uint64_t seed;
	uint64_t start_ns, end_ns; /* first SYN to the last byte read */
	uint64_t mid_ns, mid_bytes; /* when half the bytes had been read */
	bool cli_closed, srv_eof, srv_closed, cli_eof, failed;
	int err;
	size_t chunk; /* bytes per send call */
	size_t pend_off, pend_len;
	uint8_t pend[65536]; /* generated, not yet accepted by send */
};

/* A listener on dst vimage at addr:port, a client in src connecting to
 * it. Returns 0 or a negative errno. */
int tcpx_open(struct tcpx *x, struct simnet *sn, struct vimage *src,
	      struct vimage *dst, const char *dst_addr, uint16_t port);
/* Stream total bytes client -> server, then close both ways cleanly.
 * Runs virtual time until done or limit_ns passes. Returns 0 when every
 * byte arrived, hashes match and both ends saw the end of stream; else a
 * negative value (x->err says more). */
int tcpx_transfer(struct tcpx *x, uint64_t total, uint64_t limit_ns);
/* Close whatever is still open. */
void tcpx_close(struct tcpx *x);
/* Run the world until nothing is queued and no timer is due before
 * until_ns. */
void tcpx_settle(struct simnet *sn, uint64_t until_ns);
uint64_t tcpx_fnv(uint64_t h, const uint8_t *p, size_t n);

#endif
