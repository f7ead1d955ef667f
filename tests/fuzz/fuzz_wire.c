/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libFuzzer harness for src/wire: every parser over the raw input and over
 * the layers of the input taken as an Ethernet frame. Each successful parse
 * is emitted into a scratch buffer and parsed again; the two reprs must
 * agree, and emitted checksums must verify. Any mismatch aborts.
 *
 * Build: clang -fsanitize=fuzzer,address,undefined -Iinclude -Isrc \
 *        tests/fuzz/fuzz_wire.c src/wire/\*.c
 */
#include "wire/wire.h"

#include <stdlib.h>
#include <string.h>

#define SCRATCH 65536 /* the largest IPv4 packet, with room for anything */

static void require(bool ok)
{
	if (!ok)
		abort();
}

static void check_cksum(const uint8_t *d, size_t n)
{
	/* Splitting a sum at any even point must not change it. */
	size_t cut = n ? (d[0] * 2u) % (n + 1) & ~(size_t)1 : 0;
	uint32_t whole = cksum_partial(d, n, 0);
	uint32_t split = cksum_partial(d + cut, n - cut,
				       cksum_partial(d, cut, 0));

	require(cksum_finish(whole) == cksum_finish(split));
}

static void check_eth(const uint8_t *d, size_t n)
{
	struct eth_repr r, r2;
	uint8_t buf[ETH_HLEN];

	if (eth_parse(d, n, &r) != WIRE_OK) {
		require(n < ETH_HLEN);
		return;
	}
	eth_emit(&r, buf);
	require(memcmp(buf, d, ETH_HLEN) == 0);
	require(eth_parse(buf, sizeof(buf), &r2) == WIRE_OK);
	require(memcmp(r.dst, r2.dst, ETH_ALEN) == 0);
	require(memcmp(r.src, r2.src, ETH_ALEN) == 0);
	require(r.ethertype == r2.ethertype);
}

static void check_arp(const uint8_t *d, size_t n)
{
	struct arp_repr r, r2;
	uint8_t buf[ARP_LEN];

	if (arp_parse(d, n, &r) != WIRE_OK)
		return;
	arp_emit(&r, buf);
	/* Everything arp_parse accepts is reproduced byte for byte. */
	require(memcmp(buf, d, ARP_LEN) == 0);
	require(arp_parse(buf, sizeof(buf), &r2) == WIRE_OK);
	require(r.op == r2.op && r.spa == r2.spa && r.tpa == r2.tpa);
	require(memcmp(r.sha, r2.sha, ETH_ALEN) == 0);
	require(memcmp(r.tha, r2.tha, ETH_ALEN) == 0);
}

static void check_icmp4(const uint8_t *d, size_t n, uint8_t *buf)
{
	struct icmp4_repr r, r2;
	int verified = icmp4_parse(d, n, &r, true);

	if (icmp4_parse(d, n, &r, false) != WIRE_OK)
		return;
	require(verified == WIRE_OK || verified == WIRE_ECKSUM);
	require(r.payload == d + ICMP_HLEN && r.payload_len == n - ICMP_HLEN);
	memcpy(buf + ICMP_HLEN, r.payload, r.payload_len);
	icmp4_emit(&r, buf, r.payload_len);
	require(icmp4_parse(buf, n, &r2, true) == WIRE_OK);
	require(r.type == r2.type && r.code == r2.code);
	require(r.ident == r2.ident && r.seq == r2.seq && r.mtu == r2.mtu);
	if (r.type != ICMP_ECHO && r.type != ICMP_ECHOREPLY &&
	    !(r.type == ICMP_UNREACH && r.code == ICMP_UNREACH_NEEDFRAG))
		require(r.rest == r2.rest);
	require(r2.payload_len == r.payload_len);
	require(memcmp(r2.payload, r.payload, r.payload_len) == 0);
	/* A message that verified keeps its bytes, bar the checksum's two
	 * zeros and RFC 1191's unused bits. */
	if (verified == WIRE_OK && r.rest == r2.rest)
		require(memcmp(buf + 4, d + 4, n - 4) == 0 && buf[0] == d[0] &&
			buf[1] == d[1]);
}

static void check_udp4(const uint8_t *d, size_t n, uint32_t src,
		       uint32_t dst, uint8_t *buf)
{
	struct udp_repr r, r2;
	int verified = udp4_parse(d, n, &r, src, dst, true);

	if (udp4_parse(d, n, &r, src, dst, false) != WIRE_OK) {
		require(verified == udp4_parse(d, n, &r, src, dst, false));
		return;
	}
	require(verified == WIRE_OK || verified == WIRE_ECKSUM);
	require(r.len >= UDP_HLEN && r.len <= n);
	if (r.cksum == 0)
		require(verified == WIRE_OK);
	memcpy(buf + UDP_HLEN, d + UDP_HLEN, r.len - UDP_HLEN);
	udp4_emit(&r, buf, r.len - UDP_HLEN, src, dst, true);
	require(rd16(buf + 6) != 0);
	require(udp4_parse(buf, r.len, &r2, src, dst, true) == WIRE_OK);
	require(r.sport == r2.sport && r.dport == r2.dport &&
		r.len == r2.len);
	/* A non-zero checksum that verifies has one representation on the
	 * wire (a computed 0 is sent as 0xffff), so the bytes match. */
	if (verified == WIRE_OK && r.cksum != 0)
		require(memcmp(buf, d, r.len) == 0);
	udp4_emit(&r, buf, r.len - UDP_HLEN, src, dst, false);
	require(rd16(buf + 6) == 0);
	require(udp4_parse(buf, r.len, &r2, src ^ 1, dst, true) == WIRE_OK);
}

/* The SACK blocks tcp4_emit has room for beside the other options, worked
 * out from its documented layout rather than from its code. */
static unsigned int tcp_sack_fit(const struct tcp_repr *r)
{
	unsigned int other = 0, fit;

	if (!(r->opts & TCPO_SACK))
		return 0;
	if (r->opts & TCPO_MSS)
		other += 4;
	if (r->opts & TCPO_TS)
		other += 12;
	else if (r->opts & TCPO_SACK_PERM)
		other += 4;
	if (r->opts & TCPO_WSCALE)
		other += 4;
	fit = (40 - other - 4) / 8;
	return r->nsack < fit ? r->nsack : fit;
}

static void check_tcp4(const uint8_t *d, size_t n, uint32_t src, uint32_t dst,
		       uint8_t *buf)
{
	struct tcp_repr r, r2;
	int verified = tcp4_parse(d, n, &r, src, dst, true);
	int plain = tcp4_parse(d, n, &r, src, dst, false);
	size_t hlen, olen;
	unsigned int nsack;
	uint16_t ck;

	/* The checksum is checked before the options, so verifying can only
	 * turn an answer into WIRE_ECKSUM. */
	require(verified == plain || verified == WIRE_ECKSUM);
	if (plain != WIRE_OK)
		return;
	require(r.doff >= TCP_HLEN && r.doff <= TCP_MAX_HLEN &&
		r.doff % 4 == 0 && r.doff <= n);
	require(r.payload == d + r.doff && r.payload_len == n - r.doff);
	require(r.nsack <= TCP_MAX_SACK);
	require(!(r.opts & TCPO_SACK) == (r.nsack == 0));

	olen = tcp_opts_len(&r);
	require(olen % 4 == 0 && olen <= TCP_MAX_HLEN - TCP_HLEN);
	nsack = tcp_sack_fit(&r);
	memcpy(buf + TCP_HLEN + olen, r.payload, r.payload_len);
	hlen = tcp4_emit(&r, buf, r.payload_len, src, dst, true);
	require(hlen == TCP_HLEN + olen);
	require(tcp4_parse(buf, hlen + r.payload_len, &r2, src, dst, true) ==
		WIRE_OK);
	require(r.sport == r2.sport && r.dport == r2.dport && r.seq == r2.seq &&
		r.ack == r2.ack && r.flags == r2.flags && r.win == r2.win &&
		r.urp == r2.urp);
	require(r2.doff == hlen);
	require(r2.opts == (nsack ? r.opts : (r.opts & ~TCPO_SACK)));
	require(r.mss == r2.mss && r.wscale == r2.wscale &&
		r.tsval == r2.tsval && r.tsecr == r2.tsecr);
	require(r2.nsack == nsack);
	for (unsigned int i = 0; i < nsack; i++)
		require(r.sack[i].start == r2.sack[i].start &&
			r.sack[i].end == r2.sack[i].end);
	require(r2.payload_len == r.payload_len);
	require(memcmp(r2.payload, r.payload, r.payload_len) == 0);
	/* Header bytes outside the options, the reserved bits and the
	 * checksum are reproduced as they came. */
	require(memcmp(buf, d, 12) == 0 && memcmp(buf + 13, d + 13, 3) == 0 &&
		memcmp(buf + 18, d + 18, 2) == 0);
	/* A segment that verified and that we reproduce byte for byte gets
	 * its checksum back, up to -0 (0xffff) against +0, of which emit
	 * always sends +0. */
	ck = rd16(buf + 16);
	if (verified == WIRE_OK && hlen == r.doff && buf[12] == d[12] &&
	    memcmp(buf + TCP_HLEN, d + TCP_HLEN, hlen - TCP_HLEN) == 0)
		require(ck == r.cksum || (ck == 0 && r.cksum == 0xffff));

	/* Offloaded: a zero field, filled in later to the same value. */
	tcp4_emit(&r, buf, r.payload_len, src, dst, false);
	require(rd16(buf + 16) == 0);
	tcp4_fill_cksum(buf, hlen + r.payload_len, src, dst);
	require(rd16(buf + 16) == ck);
}

static void check_ipv4(const uint8_t *d, size_t n, uint8_t *buf)
{
	struct ipv4_repr r, r2;
	int verified = ipv4_parse(d, n, &r, true);
	size_t plen;

	if (ipv4_parse(d, n, &r, false) != WIRE_OK) {
		require(verified != WIRE_OK);
		return;
	}
	require(verified == WIRE_OK || verified == WIRE_ECKSUM);
	require(r.hlen >= IPV4_HLEN && r.hlen <= IPV4_MAX_HLEN);
	require(r.hlen <= r.total_len && r.total_len <= n);
	require(r.frag_off % 8 == 0);

	/* Re-emit with a plain 20-byte header around the same payload. */
	plen = (size_t)r.total_len - r.hlen;
	r.total_len = (uint16_t)(IPV4_HLEN + plen);
	ipv4_emit(&r, buf);
	memcpy(buf + IPV4_HLEN, d + r.hlen, plen);
	require(ipv4_parse(buf, r.total_len, &r2, true) == WIRE_OK);
	require(r2.hlen == IPV4_HLEN && r2.total_len == r.total_len);
	require(r.tos == r2.tos && r.id == r2.id && r.df == r2.df &&
		r.mf == r2.mf && r.frag_off == r2.frag_off &&
		r.ttl == r2.ttl && r.proto == r2.proto && r.src == r2.src &&
		r.dst == r2.dst);

	/* The incremental TTL update gives exactly what a full recompute
	 * gives, even when d carried the -0 form (0xffff). */
	if (verified == WIRE_OK) {
		uint8_t h[IPV4_MAX_HLEN];
		uint16_t inc;

		memcpy(h, d, r.hlen);
		ipv4_dec_ttl(h);
		require(h[8] == (uint8_t)(d[8] - 1));
		inc = rd16(h + 10);
		wr16(h + 10, 0);
		require(inc == cksum_finish(cksum_partial(h, r.hlen, 0)));
	}

	/* Walk up one layer, as ip_input would. */
	if (r.mf || r.frag_off)
		return;
	if (r.proto == IPPROTO_ICMP_)
		check_icmp4(d + r.hlen, plen, buf);
	else if (r.proto == IPPROTO_UDP_)
		check_udp4(d + r.hlen, plen, r.src, r.dst, buf);
	else if (r.proto == IPPROTO_TCP_)
		check_tcp4(d + r.hlen, plen, r.src, r.dst, buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *buf = malloc(SCRATCH);
	struct eth_repr e;

	if (!buf)
		return 0;
	if (size > SCRATCH - 64)
		size = SCRATCH - 64;

	check_cksum(data, size);
	/* Every parser at offset 0, as if a lower layer had stripped its
	 * header. */
	check_eth(data, size);
	check_arp(data, size);
	check_ipv4(data, size, buf);
	check_icmp4(data, size, buf);
	if (size >= 8)
		check_udp4(data, size, rd32(data), ~rd32(data + 4), buf);
	if (size >= TCP_HLEN)
		check_tcp4(data, size, rd32(data), ~rd32(data + 8), buf);

	/* And as a frame, demultiplexed by ethertype. */
	if (eth_parse(data, size, &e) == WIRE_OK) {
		if (e.ethertype == ETHERTYPE_ARP)
			check_arp(data + ETH_HLEN, size - ETH_HLEN);
		else if (e.ethertype == ETHERTYPE_IPV4)
			check_ipv4(data + ETH_HLEN, size - ETH_HLEN, buf);
	}
	free(buf);
	return 0;
}
