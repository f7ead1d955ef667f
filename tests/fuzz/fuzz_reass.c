/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libFuzzer harness for IPv4 reassembly (src/netinet/ip_frag.c).
 *
 * The input is a configuration byte followed by 4-byte records, each one
 * fragment fed to ip_reass of one vimage:
 *   byte 0: bits 0-1 which datagram (four keys: three ids, and one id
 *           again from another source), bit 2 MF, bit 3 offsets in 256-byte
 *           steps (reaching past 64 KiB) instead of 8-byte steps, bit 4
 *           advance time by byte 3 % 40 seconds first, bit 5 add byte 3 % 8
 *           to the length, bit 6 take the ECN bits from byte 3, bit 7 a
 *           24-byte header (one option word);
 *   byte 1: offset; byte 2: length in 8-byte units; byte 3: extra.
 * The configuration byte picks frag_maxqueues and frag_maxbytes, small
 * enough for eviction to happen.
 *
 * Every payload byte is a function of the datagram key and its offset, so a
 * datagram that comes out must have exactly those bytes, a clean header and
 * a verifying checksum. The bounds hold after every fragment. At the end
 * the vimage is destroyed and the world must hold no packet and no queue.
 * Any violation aborts.
 *
 * Build: see tests/fuzz/README or the command in the task; it needs the
 * whole core library (src/core src/wire src/net src/netinet src/route
 * src/socket).
 */
#include <stdlib.h>
#include <string.h>

#include "core/kern.h"
#include "netinet/inet.h"

#define SRC_A 0x0a000001u
#define SRC_B 0x0a000009u
#define DST   0x0a000002u

static void require(bool ok)
{
	if (!ok)
		abort();
}

static uint8_t pattern(uint32_t key, uint32_t i)
{
	return (uint8_t)(key * 131u + i * 7u + (i >> 8));
}

static uint32_t key_of(uint32_t src, uint16_t id)
{
	return id ^ (src & 0xff) << 4;
}

static void check_datagram(struct world *w, struct pkt *out)
{
	struct ipv4_repr r;
	uint32_t key;

	require(ipv4_parse(out->data, out->len, &r, true) == WIRE_OK);
	require(r.total_len == out->len);
	require(!r.mf && r.frag_off == 0);
	require(r.dst == DST);
	key = key_of(r.src, r.id);
	for (uint32_t i = 0; i < (uint32_t)r.total_len - r.hlen; i++)
		require(out->data[r.hlen + i] == pattern(key, i));
	pkt_free(w, out);
}

static void feed(struct world *w, struct vimage *vi, const uint8_t *rec)
{
	static const uint16_t ids[4] = {0x100, 0x200, 0x300, 0x100};
	uint8_t ctl = rec[0], extra = rec[3];
	uint32_t src = (ctl & 3) == 3 ? SRC_B : SRC_A;
	uint16_t id = ids[ctl & 3];
	uint32_t key = key_of(src, id);
	uint32_t off =
	    ctl & 0x08 ? (uint32_t)rec[1] * 256 : (uint32_t)rec[1] * 8;
	uint32_t len = (uint32_t)rec[2] * 8 + (ctl & 0x20 ? extra % 8 : 0);
	uint32_t hlen = ctl & 0x80 ? 24 : IPV4_HLEN;
	struct ipv4_repr r = {
	    .hlen = (uint8_t)hlen,
	    .tos = ctl & 0x40 ? extra & 3 : 0,
	    .id = id,
	    .mf = (ctl & 0x04) != 0,
	    .frag_off = (uint16_t)(off > 65528 ? 65528 : off),
	    .ttl = 64,
	    .proto = 17,
	    .src = src,
	    .dst = DST,
	};
	struct pkt *p, *out;
	uint8_t *b;

	if (ctl & 0x10)
		world_advance(w, world_now(w) +
				     (uint64_t)(extra % 40) * NSEC_PER_SEC);
	if (hlen + len > 65535)
		len = 65535 - hlen;
	r.total_len = (uint16_t)(hlen + len);
	p = pkt_alloc(w, PKT_HEADROOM, hlen + len);
	if (!p)
		return;
	b = pkt_put(p, hlen + len);
	ipv4_emit(&r, b);
	if (hlen > IPV4_HLEN) {
		b[0] = (uint8_t)(0x40 | hlen >> 2);
		memset(b + IPV4_HLEN, 1, hlen - IPV4_HLEN); /* NOPs */
		wr16(b + 10, 0);
		wr16(b + 10, cksum_finish(cksum_partial(b, hlen, 0)));
	}
	for (uint32_t i = 0; i < len; i++)
		b[hlen + i] = pattern(key, r.frag_off + i);
	out = ip_reass(vi, p, &r);
	if (out)
		check_datagram(w, out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int64_t maxqueues[4] = {1, 2, 8, 64};
	static const int64_t maxbytes[4] = {5000, 20000, 200000, 4 << 20};
	struct world_config cfg = {.seed = 1, .start_ns = NSEC_PER_SEC};
	struct world_counts c;
	struct world *w;
	struct vimage *vi;
	struct ip_state *ip;

	if (size < 1)
		return 0;
	require(world_create(&cfg, &w) == 0);
	require(vimage_create(w, "f", &vi) == 0);
	ip = vimage_ip(vi);
	ip->frag_maxqueues = maxqueues[data[0] & 3];
	ip->frag_maxbytes = maxbytes[data[0] >> 2 & 3];
	ip->frag_timeout_s = 30;
	for (size_t i = 1; i + 4 <= size; i += 4) {
		feed(w, vi, data + i);
		require(ip->reass_count == w->reass_live);
		require(ip->reass_count <= (uint64_t)ip->frag_maxqueues);
		require(ip->reass_bytes <= (uint64_t)ip->frag_maxbytes);
		require((ip->reass_count == 0) == (ip->reass_bytes == 0));
	}
	require(vimage_destroy(vi) == 0);
	world_run(w);
	world_counts(w, &c);
	require(c.pkts == 0);
	require(c.reass_queues == 0);
	world_destroy(w);
	return 0;
}
