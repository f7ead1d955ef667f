/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Tests for src/wire: parse known packets, emit them back byte for byte,
 * round-trip, and reject each kind of malformed input with its own code.
 *
 * The reference frames below were written out by hand, field by field, and
 * their checksums were checked with an independent implementation and with
 * Wireshark's dissectors (all reported "correct").
 */
#include "../harness/test.h"
#include "wire/wire.h"

#include <stdlib.h>

/* Ethernet 52:54:00:12:34:56 -> broadcast, ARP who-has 10.0.0.2 tell
 * 10.0.0.1, padded to the 60-byte minimum frame. */
static const uint8_t arp_req_frame[60] = {
	/* Ethernet: dst, src, type */
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56,
	0x08, 0x06,
	/* ARP: htype 1, ptype 0x0800, hlen 6, plen 4, op 1 (request) */
	0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01,
	/* sha, spa 10.0.0.1, tha (unknown), tpa 10.0.0.2 */
	0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x0a, 0x00, 0x00, 0x01,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x02,
	/* padding */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

/* A ping from 10.0.0.1 to 10.0.0.2: ICMP echo request, ident 0x1c2b,
 * seq 1, 48 bytes of data (an 8-byte timestamp, then 0x10..0x37). */
#define ECHO_IP_OFF ETH_HLEN
#define ECHO_ICMP_OFF (ETH_HLEN + IPV4_HLEN)
static const uint8_t icmp_echo_frame[90] = {
	/* Ethernet */
	0x52, 0x54, 0x00, 0xab, 0xcd, 0xef, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56,
	0x08, 0x00,
	/* IPv4: 45, tos 0, total 76, id 0x4c2e, DF, ttl 64, proto 1,
	 * cksum 0xda80, 10.0.0.1 -> 10.0.0.2 */
	0x45, 0x00, 0x00, 0x4c, 0x4c, 0x2e, 0x40, 0x00, 0x40, 0x01, 0xda, 0x80,
	0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x02,
	/* ICMP: type 8, code 0, cksum 0xc1a7, ident 0x1c2b, seq 1 */
	0x08, 0x00, 0xc1, 0xa7, 0x1c, 0x2b, 0x00, 0x01,
	/* data */
	0xb1, 0xf3, 0xa9, 0x65, 0x00, 0x00, 0x00, 0x00, 0x10, 0x11, 0x12, 0x13,
	0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
	0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x2b,
	0x2c, 0x2d, 0x2e, 0x2f, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37,
};

/* A DNS query for example.com/A from 10.0.0.1:54321 to 10.0.0.53:53. The
 * UDP length is 37, odd, so its checksum exercises the zero pad. */
#define DNS_UDP_OFF (ETH_HLEN + IPV4_HLEN)
#define DNS_SRC 0x0a000001u
#define DNS_DST 0x0a000035u
static const uint8_t udp_dns_frame[71] = {
	/* Ethernet */
	0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x52, 0x54, 0x00, 0xab, 0xcd, 0xef,
	0x08, 0x00,
	/* IPv4: total 57, id 0xbeef, no flags, ttl 64, proto 17, 0xa78f */
	0x45, 0x00, 0x00, 0x39, 0xbe, 0xef, 0x00, 0x00, 0x40, 0x11, 0xa7, 0x8f,
	0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x35,
	/* UDP: 54321 -> 53, length 37, cksum 0x3566 */
	0xd4, 0x31, 0x00, 0x35, 0x00, 0x25, 0x35, 0x66,
	/* DNS: id 0x1234, RD, 1 question, example.com A IN */
	0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x07, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0x03, 'c', 'o', 'm', 0x00,
	0x00, 0x01, 0x00, 0x01,
};

/* An IGMPv2 report for 224.0.0.251: IHL 6 with a Router Alert option
 * (RFC 2113), tos 0xc0, ttl 1, DF. */
static const uint8_t ipv4_opt_pkt[32] = {
	0x46, 0xc0, 0x00, 0x20, 0x00, 0x00, 0x40, 0x00, 0x01, 0x02, 0xf9, 0x1b,
	0x0a, 0x00, 0x00, 0x01, 0xe0, 0x00, 0x00, 0xfb,
	/* option: Router Alert, length 4, value 0 */
	0x94, 0x04, 0x00, 0x00,
	/* IGMP: type 0x16, cksum 0x0904, group */
	0x16, 0x00, 0x09, 0x04, 0xe0, 0x00, 0x00, 0xfb,
};

/* A middle fragment: MF set, offset 1480 (field 185), id 0x1c46, 24 bytes
 * of payload. */
static const uint8_t ipv4_frag_pkt[44] = {
	0x45, 0x00, 0x00, 0x2c, 0x1c, 0x46, 0x20, 0xb9, 0x40, 0x01, 0x29, 0xd0,
	0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x02,
	0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49, 0x4a, 0x4b, 0x4c,
	0x4d, 0x4e, 0x4f, 0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58,
};

static const uint8_t mac_a[ETH_ALEN] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
static const uint8_t mac_b[ETH_ALEN] = {0x52, 0x54, 0x00, 0xab, 0xcd, 0xef};

/* --- helpers ------------------------------------------------------------ */

/* splitmix64: a fixed seed keeps every run identical. */
static uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void rng_fill(uint64_t *s, uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)rng_next(s);
}

/* The textbook checksum, a byte pair at a time, as the reference. */
static uint16_t naive_cksum(const uint8_t *p, size_t len, uint32_t init)
{
	uint64_t s = init;

	for (size_t i = 0; i + 1 < len; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		s += (uint32_t)p[len - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static struct ipv4_repr echo_ip_repr(void)
{
	struct ipv4_repr r = {
		.hlen = 20, .tos = 0, .total_len = 76, .id = 0x4c2e,
		.df = true, .mf = false, .frag_off = 0, .ttl = 64,
		.proto = IPPROTO_ICMP_, .src = 0x0a000001, .dst = 0x0a000002,
	};
	return r;
}

static void check_ipv4_repr_eq(const struct ipv4_repr *a,
			       const struct ipv4_repr *b)
{
	CHECK_EQ(a->hlen, b->hlen);
	CHECK_EQ(a->tos, b->tos);
	CHECK_EQ(a->total_len, b->total_len);
	CHECK_EQ(a->id, b->id);
	CHECK_EQ(a->df, b->df);
	CHECK_EQ(a->mf, b->mf);
	CHECK_EQ(a->frag_off, b->frag_off);
	CHECK_EQ(a->ttl, b->ttl);
	CHECK_EQ(a->proto, b->proto);
	CHECK_EQ(a->src, b->src);
	CHECK_EQ(a->dst, b->dst);
}

/* --- checksum ----------------------------------------------------------- */

TEST(cksum_matches_rfc1071_worked_example)
{
	/* RFC 1071 section 3: these bytes sum to 0xddf2. */
	static const uint8_t b[8] = {0x00, 0x01, 0xf2, 0x03,
				     0xf4, 0xf5, 0xf6, 0xf7};

	CHECK_EQ(cksum_finish(cksum_partial(b, sizeof(b), 0)), 0x220d);
}

TEST(cksum_matches_known_ipv4_header)
{
	/* The widely quoted example header whose checksum is 0xb861. */
	uint8_t h[20] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40,
			 0x11, 0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8,
			 0x00, 0xc7};

	CHECK_EQ(cksum_finish(cksum_partial(h, sizeof(h), 0)), 0xb861);
	wr16(h + 10, 0xb861);
	CHECK_EQ(cksum_finish(cksum_partial(h, sizeof(h), 0)), 0);
}

TEST(cksum_odd_length_pads_with_zero_byte)
{
	static const uint8_t b[3] = {0x01, 0x02, 0x03};

	/* 0x0102 + 0x0300 = 0x0402 */
	CHECK_EQ(cksum_finish(cksum_partial(b, 3, 0)), 0xfbfd);
	CHECK_EQ(cksum_finish(cksum_partial(b, 1, 0)), 0xfeff);
	CHECK_EQ(cksum_finish(cksum_partial(b, 0, 0)), 0xffff);
}

TEST(cksum_odd_length_at_odd_address)
{
	uint8_t buf[64];

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(0xa5 ^ (i * 37));
	for (size_t off = 0; off < 8; off++)
		for (size_t len = 0; len + off <= sizeof(buf); len++)
			CHECK_EQ(cksum_finish(cksum_partial(buf + off, len, 0)),
				 naive_cksum(buf + off, len, 0));
}

TEST(cksum_partial_matches_naive_on_random_data)
{
	static uint8_t buf[9000 + 16];
	uint64_t seed = 0x5eed0001;

	for (int iter = 0; iter < 3000; iter++) {
		size_t off = rng_next(&seed) % 16;
		size_t len = rng_next(&seed) % 9001;
		uint32_t init = iter % 3 == 0 ? 0 : (uint32_t)rng_next(&seed);

		rng_fill(&seed, buf + off, len);
		CHECK_EQ(cksum_finish(cksum_partial(buf + off, len, init)),
			 naive_cksum(buf + off, len, init));
	}
}

TEST(cksum_partial_handles_all_ones_data_and_sum)
{
	/* Worst case for carries: every word and the incoming sum maximal. */
	static uint8_t buf[4099];

	memset(buf, 0xff, sizeof(buf));
	for (size_t len = 4090; len <= sizeof(buf); len++)
		CHECK_EQ(cksum_finish(cksum_partial(buf, len, 0xffffffffu)),
			 naive_cksum(buf, len, 0xffffffffu));
}

TEST(cksum_partial_chains_across_even_blocks)
{
	uint8_t buf[301];
	uint64_t seed = 7;

	rng_fill(&seed, buf, sizeof(buf));
	uint16_t whole = cksum_finish(cksum_partial(buf, sizeof(buf), 0));
	for (size_t cut = 0; cut <= sizeof(buf); cut += 2) {
		uint32_t s = cksum_partial(buf, cut, 0);

		s = cksum_partial(buf + cut, sizeof(buf) - cut, s);
		CHECK_EQ(cksum_finish(s), whole);
	}
}

TEST(cksum_pseudo4_matches_written_out_header)
{
	uint8_t ph[12];
	uint32_t src = 0xc0a80001, dst = 0x0a0000fe;

	wr32(ph, src);
	wr32(ph + 4, dst);
	ph[8] = 0;
	ph[9] = IPPROTO_UDP_;
	wr16(ph + 10, 1234);
	CHECK_EQ(cksum_finish(cksum_pseudo4(src, dst, IPPROTO_UDP_, 1234)),
		 naive_cksum(ph, sizeof(ph), 0));
}

TEST(cksum_pseudo6_matches_written_out_header)
{
	uint8_t ph[40];
	uint64_t seed = 66;

	rng_fill(&seed, ph, 32);
	wr32(ph + 32, 0x00012345); /* jumbo-sized, to use the high half */
	ph[36] = ph[37] = ph[38] = 0;
	ph[39] = 58;
	CHECK_EQ(cksum_finish(cksum_pseudo6(ph, ph + 16, 58, 0x00012345)),
		 naive_cksum(ph, sizeof(ph), 0));
}

TEST(cksum_update16_matches_recompute)
{
	uint64_t seed = 0x1624;

	for (int iter = 0; iter < 20000; iter++) {
		uint8_t h[20];
		size_t w = 2 * (rng_next(&seed) % 10);

		rng_fill(&seed, h, sizeof(h));
		h[0] = 0x45; /* never all zero, like any real header */
		if (w == 10) /* not the checksum itself */
			w = 12;
		wr16(h + 10, 0);
		wr16(h + 10, cksum_finish(cksum_partial(h, 20, 0)));
		uint16_t old = rd16(h + w);
		uint16_t new_ = (uint16_t)rng_next(&seed);
		if (iter % 4 == 0)
			new_ = (uint16_t)~old; /* drives the sum to extremes */
		uint16_t inc = cksum_update16(rd16(h + 10), old, new_);
		wr16(h + w, new_);
		wr16(h + 10, 0);
		CHECK_EQ(inc, cksum_finish(cksum_partial(h, 20, 0)));
	}
}

/* Make the checksum of h (computed with its current TTL) come out as
 * want, by choosing the identification field. */
static void force_ipv4_cksum(uint8_t *h, uint16_t want)
{
	wr16(h + 4, 0);
	wr16(h + 10, 0);
	uint16_t c = cksum_finish(cksum_partial(h, 20, 0));
	/* With c = ~sum: ~(sum + id) == want needs id = ~want - sum, which
	 * in one's complement is ~want + c. */
	uint32_t id = (uint32_t)c + (uint16_t)~want;
	id = (id & 0xffff) + (id >> 16);
	wr16(h + 4, (uint16_t)id);
	wr16(h + 10, cksum_finish(cksum_partial(h, 20, 0)));
}

static void check_dec_ttl_against_recompute(uint8_t *h)
{
	uint8_t ttl = h[8];

	ipv4_dec_ttl(h);
	CHECK_EQ(h[8], (uint8_t)(ttl - 1));
	uint16_t inc = rd16(h + 10);
	wr16(h + 10, 0);
	CHECK_EQ(inc, cksum_finish(cksum_partial(h, 20, 0)));
	wr16(h + 10, inc);
}

TEST(ipv4_dec_ttl_matches_full_recompute)
{
	uint64_t seed = 0xdec77;

	for (int iter = 0; iter < 20000; iter++) {
		uint8_t h[20];

		rng_fill(&seed, h, sizeof(h));
		h[0] = 0x45;
		if (h[8] == 0)
			h[8] = 1;
		wr16(h + 10, 0);
		wr16(h + 10, cksum_finish(cksum_partial(h, 20, 0)));
		check_dec_ttl_against_recompute(h);
	}
}

TEST(ipv4_dec_ttl_edge_checksums)
{
	uint64_t seed = 0xed6e;

	for (int iter = 0; iter < 2000; iter++) {
		uint8_t h[20];

		rng_fill(&seed, h, sizeof(h));
		h[0] = 0x45;
		h[8] = (uint8_t)(2 + iter % 254);

		/* old checksum 0x0000 */
		force_ipv4_cksum(h, 0x0000);
		REQUIRE_EQ(rd16(h + 10), 0x0000);
		check_dec_ttl_against_recompute(h);

		/* old checksum 0xffff: the same header as 0x0000 but with
		 * -0, which verifies too (RFC 1624 section 3) */
		h[8]++;
		force_ipv4_cksum(h, 0x0000);
		wr16(h + 10, 0xffff);
		REQUIRE_EQ(cksum_finish(cksum_partial(h, 20, 0)), 0);
		check_dec_ttl_against_recompute(h);

		/* new checksum 0x0000: force it one TTL lower, then restore */
		h[8]--;
		force_ipv4_cksum(h, 0x0000);
		h[8]++;
		wr16(h + 10, 0);
		wr16(h + 10, cksum_finish(cksum_partial(h, 20, 0)));
		check_dec_ttl_against_recompute(h);
		CHECK_EQ(rd16(h + 10), 0x0000);

		/* old checksums near the top, where the new one wraps */
		force_ipv4_cksum(h, (uint16_t)(0xff00 + iter % 0xff));
		check_dec_ttl_against_recompute(h);
	}
}

TEST(ipv4_dec_ttl_keeps_known_header_valid)
{
	uint8_t pkt[76];
	struct ipv4_repr r;

	memcpy(pkt, icmp_echo_frame + ECHO_IP_OFF, sizeof(pkt));
	ipv4_dec_ttl(pkt);
	REQUIRE_EQ(ipv4_parse(pkt, sizeof(pkt), &r, true), WIRE_OK);
	CHECK_EQ(r.ttl, 63);
	CHECK_EQ(rd16(pkt + 10), 0xdb80); /* 0xda80 + 0x0100 */
}

/* --- Ethernet ----------------------------------------------------------- */

TEST(eth_parse_known_frame)
{
	struct eth_repr r;

	REQUIRE_EQ(eth_parse(icmp_echo_frame, sizeof(icmp_echo_frame), &r),
		   WIRE_OK);
	CHECK_MEM(r.dst, mac_b, ETH_ALEN);
	CHECK_MEM(r.src, mac_a, ETH_ALEN);
	CHECK_EQ(r.ethertype, ETHERTYPE_IPV4);
	REQUIRE_EQ(eth_parse(arp_req_frame, sizeof(arp_req_frame), &r),
		   WIRE_OK);
	CHECK_EQ(r.ethertype, ETHERTYPE_ARP);
	CHECK(eth_is_broadcast(r.dst));
	CHECK(eth_is_multicast(r.dst));
	CHECK(!eth_is_broadcast(r.src));
	CHECK(!eth_is_multicast(r.src));
}

TEST(eth_emit_matches_known_header)
{
	struct eth_repr r = {.ethertype = ETHERTYPE_IPV4};
	uint8_t buf[ETH_HLEN];

	memcpy(r.dst, mac_b, ETH_ALEN);
	memcpy(r.src, mac_a, ETH_ALEN);
	eth_emit(&r, buf);
	CHECK_MEM(buf, icmp_echo_frame, ETH_HLEN);
}

TEST(eth_parse_emit_round_trip)
{
	struct eth_repr r;
	uint8_t buf[ETH_HLEN];

	REQUIRE_EQ(eth_parse(udp_dns_frame, sizeof(udp_dns_frame), &r),
		   WIRE_OK);
	eth_emit(&r, buf);
	CHECK_MEM(buf, udp_dns_frame, ETH_HLEN);
}

TEST(eth_parse_rejects_truncated_at_every_length)
{
	struct eth_repr r;

	for (size_t len = 0; len < ETH_HLEN; len++)
		CHECK_EQ(eth_parse(icmp_echo_frame, len, &r), WIRE_ETRUNC);
	CHECK_EQ(eth_parse(icmp_echo_frame, ETH_HLEN, &r), WIRE_OK);
}

TEST(eth_multicast_bit_is_the_group_bit)
{
	static const uint8_t mdns[ETH_ALEN] = {0x01, 0x00, 0x5e,
					       0x00, 0x00, 0xfb};

	CHECK(eth_is_multicast(mdns));
	CHECK(!eth_is_broadcast(mdns));
}

/* --- ARP ---------------------------------------------------------------- */

static const uint8_t *const arp_req = arp_req_frame + ETH_HLEN;

TEST(arp_parse_known_request)
{
	static const uint8_t zero[ETH_ALEN];
	struct arp_repr r;

	REQUIRE_EQ(arp_parse(arp_req, ARP_LEN, &r), WIRE_OK);
	CHECK_EQ(r.op, ARP_OP_REQUEST);
	CHECK_MEM(r.sha, mac_a, ETH_ALEN);
	CHECK_EQ(r.spa, 0x0a000001);
	CHECK_MEM(r.tha, zero, ETH_ALEN);
	CHECK_EQ(r.tpa, 0x0a000002);
}

TEST(arp_parse_ignores_ethernet_padding)
{
	struct arp_repr r;

	CHECK_EQ(arp_parse(arp_req, sizeof(arp_req_frame) - ETH_HLEN, &r),
		 WIRE_OK);
}

TEST(arp_emit_matches_known_request)
{
	struct arp_repr r = {.op = ARP_OP_REQUEST,
			     .spa = 0x0a000001,
			     .tpa = 0x0a000002};
	uint8_t buf[ARP_LEN];

	memcpy(r.sha, mac_a, ETH_ALEN);
	memset(buf, 0xee, sizeof(buf)); /* arp_emit must write every byte */
	arp_emit(&r, buf);
	CHECK_MEM(buf, arp_req, ARP_LEN);
}

TEST(arp_reply_round_trip)
{
	struct arp_repr r = {.op = ARP_OP_REPLY,
			     .spa = 0x0a000002,
			     .tpa = 0x0a000001},
			r2;
	uint8_t buf[ARP_LEN];

	memcpy(r.sha, mac_b, ETH_ALEN);
	memcpy(r.tha, mac_a, ETH_ALEN);
	arp_emit(&r, buf);
	REQUIRE_EQ(arp_parse(buf, sizeof(buf), &r2), WIRE_OK);
	CHECK_EQ(r2.op, ARP_OP_REPLY);
	CHECK_MEM(r2.sha, mac_b, ETH_ALEN);
	CHECK_MEM(r2.tha, mac_a, ETH_ALEN);
	CHECK_EQ(r2.spa, 0x0a000002);
	CHECK_EQ(r2.tpa, 0x0a000001);
}

TEST(arp_parse_rejects_truncated_at_every_length)
{
	struct arp_repr r;

	for (size_t len = 0; len < ARP_LEN; len++)
		CHECK_EQ(arp_parse(arp_req, len, &r), WIRE_ETRUNC);
}

static int arp_parse_patched(size_t off, uint8_t v)
{
	uint8_t buf[ARP_LEN];
	struct arp_repr r;

	memcpy(buf, arp_req, ARP_LEN);
	buf[off] = v;
	return arp_parse(buf, sizeof(buf), &r);
}

TEST(arp_parse_rejects_wrong_htype)
{
	CHECK_EQ(arp_parse_patched(1, 6), WIRE_EUNSUPP);  /* IEEE 802 */
	CHECK_EQ(arp_parse_patched(0, 1), WIRE_EUNSUPP);  /* 0x0101 */
}

TEST(arp_parse_rejects_wrong_ptype)
{
	CHECK_EQ(arp_parse_patched(2, 0x86), WIRE_EUNSUPP);
	CHECK_EQ(arp_parse_patched(3, 0x06), WIRE_EUNSUPP);
}

TEST(arp_parse_rejects_wrong_hlen)
{
	CHECK_EQ(arp_parse_patched(4, 8), WIRE_EUNSUPP);
	CHECK_EQ(arp_parse_patched(4, 0), WIRE_EUNSUPP);
}

TEST(arp_parse_rejects_wrong_plen)
{
	CHECK_EQ(arp_parse_patched(5, 16), WIRE_EUNSUPP);
}

TEST(arp_parse_rejects_op_three)
{
	CHECK_EQ(arp_parse_patched(7, 3), WIRE_EFIELD);
}

TEST(arp_parse_rejects_op_zero_and_high_byte)
{
	CHECK_EQ(arp_parse_patched(7, 0), WIRE_EFIELD);
	CHECK_EQ(arp_parse_patched(6, 1), WIRE_EFIELD); /* 0x0101 */
}

/* --- IPv4 --------------------------------------------------------------- */

static const uint8_t *const echo_ip = icmp_echo_frame + ECHO_IP_OFF;
#define ECHO_IP_LEN (sizeof(icmp_echo_frame) - ECHO_IP_OFF)

TEST(ipv4_parse_known_echo_request_header)
{
	struct ipv4_repr r, want = echo_ip_repr();

	REQUIRE_EQ(ipv4_parse(echo_ip, ECHO_IP_LEN, &r, true), WIRE_OK);
	check_ipv4_repr_eq(&r, &want);
}

TEST(ipv4_emit_matches_known_echo_request_header)
{
	struct ipv4_repr r = echo_ip_repr();
	uint8_t buf[IPV4_HLEN];

	memset(buf, 0xee, sizeof(buf));
	ipv4_emit(&r, buf);
	CHECK_MEM(buf, echo_ip, IPV4_HLEN);
}

TEST(ipv4_parse_emit_round_trip)
{
	const uint8_t *udp_ip = udp_dns_frame + ETH_HLEN;
	size_t len = sizeof(udp_dns_frame) - ETH_HLEN;
	struct ipv4_repr r, r2;
	uint8_t buf[64];

	REQUIRE_EQ(ipv4_parse(udp_ip, len, &r, true), WIRE_OK);
	CHECK_EQ(r.proto, IPPROTO_UDP_);
	CHECK(!r.df);
	ipv4_emit(&r, buf);
	CHECK_MEM(buf, udp_ip, IPV4_HLEN);
	memcpy(buf + IPV4_HLEN, udp_ip + IPV4_HLEN, len - IPV4_HLEN);
	REQUIRE_EQ(ipv4_parse(buf, len, &r2, true), WIRE_OK);
	check_ipv4_repr_eq(&r, &r2);
}

TEST(ipv4_parse_header_with_options)
{
	struct ipv4_repr r;

	REQUIRE_EQ(ipv4_parse(ipv4_opt_pkt, sizeof(ipv4_opt_pkt), &r, true),
		   WIRE_OK);
	CHECK_EQ(r.hlen, 24);
	CHECK_EQ(r.total_len, 32);
	CHECK_EQ(r.tos, 0xc0);
	CHECK_EQ(r.ttl, 1);
	CHECK_EQ(r.proto, 2);
	CHECK(r.df);
	CHECK_EQ(r.dst, 0xe00000fb);
	/* The checksum covers the options: corrupt one and it fails. */
	uint8_t buf[sizeof(ipv4_opt_pkt)];
	memcpy(buf, ipv4_opt_pkt, sizeof(buf));
	buf[22] ^= 0x01;
	CHECK_EQ(ipv4_parse(buf, sizeof(buf), &r, true), WIRE_ECKSUM);
}

TEST(ipv4_options_header_emits_without_options)
{
	struct ipv4_repr r, r2;
	uint8_t buf[28];

	REQUIRE_EQ(ipv4_parse(ipv4_opt_pkt, sizeof(ipv4_opt_pkt), &r, true),
		   WIRE_OK);
	/* emit writes a 20-byte header whatever r.hlen says */
	r.total_len = (uint16_t)(r.total_len - (r.hlen - IPV4_HLEN));
	ipv4_emit(&r, buf);
	CHECK_EQ(buf[0], 0x45);
	memcpy(buf + IPV4_HLEN, ipv4_opt_pkt + 24, 8);
	REQUIRE_EQ(ipv4_parse(buf, sizeof(buf), &r2, true), WIRE_OK);
	r.hlen = IPV4_HLEN;
	check_ipv4_repr_eq(&r, &r2);
}

TEST(ipv4_parse_fragment_with_mf_and_offset)
{
	struct ipv4_repr r;

	REQUIRE_EQ(ipv4_parse(ipv4_frag_pkt, sizeof(ipv4_frag_pkt), &r, true),
		   WIRE_OK);
	CHECK(r.mf);
	CHECK(!r.df);
	CHECK_EQ(r.frag_off, 1480);
	CHECK_EQ(r.id, 0x1c46);
	CHECK_EQ(r.total_len, 44);
}

TEST(ipv4_emit_fragment_matches_known_bytes)
{
	struct ipv4_repr r = {
		.hlen = 20, .total_len = 44, .id = 0x1c46, .mf = true,
		.frag_off = 1480, .ttl = 64, .proto = IPPROTO_ICMP_,
		.src = 0x0a000001, .dst = 0x0a000002,
	};
	uint8_t buf[IPV4_HLEN];

	ipv4_emit(&r, buf);
	CHECK_MEM(buf, ipv4_frag_pkt, IPV4_HLEN);
}

TEST(ipv4_parse_accepts_trailing_padding)
{
	/* A 46-byte minimum Ethernet payload around a 32-byte packet. */
	uint8_t buf[46] = {0};
	struct ipv4_repr r;

	memcpy(buf, ipv4_opt_pkt, sizeof(ipv4_opt_pkt));
	REQUIRE_EQ(ipv4_parse(buf, sizeof(buf), &r, true), WIRE_OK);
	CHECK_EQ(r.total_len, 32);
}

TEST(ipv4_parse_rejects_truncated_at_every_length)
{
	struct ipv4_repr r;

	for (size_t len = 0; len < IPV4_HLEN; len++)
		CHECK_EQ(ipv4_parse(echo_ip, len, &r, false), WIRE_ETRUNC);
}

TEST(ipv4_parse_rejects_truncated_options)
{
	struct ipv4_repr r;

	/* IHL says 24 bytes; every shorter buffer of at least 20 fails. */
	for (size_t len = IPV4_HLEN; len < 24; len++)
		CHECK_EQ(ipv4_parse(ipv4_opt_pkt, len, &r, false),
			 WIRE_ETRUNC);
}

TEST(ipv4_parse_rejects_bad_version)
{
	uint8_t buf[ECHO_IP_LEN];
	struct ipv4_repr r;

	memcpy(buf, echo_ip, sizeof(buf));
	for (unsigned v = 0; v < 16; v++) {
		if (v == 4)
			continue;
		buf[0] = (uint8_t)(v << 4 | 5);
		CHECK_EQ(ipv4_parse(buf, sizeof(buf), &r, false),
			 WIRE_EVERSION);
	}
}

TEST(ipv4_parse_rejects_ihl_below_five)
{
	uint8_t buf[ECHO_IP_LEN];
	struct ipv4_repr r;

	memcpy(buf, echo_ip, sizeof(buf));
	for (uint8_t ihl = 0; ihl < 5; ihl++) {
		buf[0] = (uint8_t)(0x40 | ihl);
		CHECK_EQ(ipv4_parse(buf, sizeof(buf), &r, false),
			 WIRE_EBADLEN);
	}
}

TEST(ipv4_parse_rejects_ihl_past_buffer)
{
	uint8_t buf[40];
	struct ipv4_repr r;

	memcpy(buf, echo_ip, sizeof(buf));
	buf[0] = 0x4f; /* 60 bytes of header in a 40-byte buffer */
	wr16(buf + 2, 40);
	CHECK_EQ(ipv4_parse(buf, sizeof(buf), &r, false), WIRE_ETRUNC);
}

TEST(ipv4_parse_rejects_total_len_below_hlen)
{
	uint8_t buf[sizeof(ipv4_opt_pkt)];
	struct ipv4_repr r;

	memcpy(buf, ipv4_opt_pkt, sizeof(buf));
	for (uint16_t tl = 0; tl < 24; tl++) {
		wr16(buf + 2, tl);
		CHECK_EQ(ipv4_parse(buf, sizeof(buf), &r, false),
			 WIRE_EBADLEN);
	}
	wr16(buf + 2, 24); /* header only, no payload: fine */
	CHECK_EQ(ipv4_parse(buf, sizeof(buf), &r, false), WIRE_OK);
}

TEST(ipv4_parse_rejects_total_len_past_buffer)
{
	struct ipv4_repr r;

	for (size_t len = IPV4_HLEN; len < ECHO_IP_LEN; len++)
		CHECK_EQ(ipv4_parse(echo_ip, len, &r, true), WIRE_ETRUNC);
	CHECK_EQ(ipv4_parse(echo_ip, ECHO_IP_LEN, &r, true), WIRE_OK);
}

TEST(ipv4_parse_rejects_bad_checksum)
{
	uint8_t buf[ECHO_IP_LEN];
	struct ipv4_repr r;

	/* Any single-bit error in the header is caught, except in the
	 * fields validated earlier. */
	for (size_t bit = 32; bit < IPV4_HLEN * 8; bit++) {
		memcpy(buf, echo_ip, sizeof(buf));
		buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		CHECK_EQ(ipv4_parse(buf, sizeof(buf), &r, true), WIRE_ECKSUM);
	}
}

TEST(ipv4_parse_skips_checksum_when_not_verifying)
{
	uint8_t buf[ECHO_IP_LEN];
	struct ipv4_repr r;

	memcpy(buf, echo_ip, sizeof(buf));
	wr16(buf + 10, 0x1234);
	CHECK_EQ(ipv4_parse(buf, sizeof(buf), &r, false), WIRE_OK);
}

TEST(ipv4_parse_accepts_negative_zero_checksum)
{
	/* A header whose correct checksum is 0x0000 also verifies with the
	 * other one's complement zero, 0xffff (RFC 1624 section 3). */
	uint8_t h[20];
	struct ipv4_repr r;
	uint64_t seed = 3;

	rng_fill(&seed, h, sizeof(h));
	h[0] = 0x45;
	wr16(h + 2, 20);
	force_ipv4_cksum(h, 0x0000);
	REQUIRE_EQ(rd16(h + 10), 0);
	CHECK_EQ(ipv4_parse(h, sizeof(h), &r, true), WIRE_OK);
	wr16(h + 10, 0xffff);
	CHECK_EQ(ipv4_parse(h, sizeof(h), &r, true), WIRE_OK);
}

/* --- ICMPv4 ------------------------------------------------------------- */

static const uint8_t *const echo_icmp = icmp_echo_frame + ECHO_ICMP_OFF;
#define ECHO_ICMP_LEN (sizeof(icmp_echo_frame) - ECHO_ICMP_OFF)

TEST(icmp4_parse_known_echo_request)
{
	struct icmp4_repr r;

	REQUIRE_EQ(icmp4_parse(echo_icmp, ECHO_ICMP_LEN, &r, true), WIRE_OK);
	CHECK_EQ(r.type, ICMP_ECHO);
	CHECK_EQ(r.code, 0);
	CHECK_EQ(r.cksum, 0xc1a7);
	CHECK_EQ(r.ident, 0x1c2b);
	CHECK_EQ(r.seq, 1);
	CHECK_EQ(r.rest, 0x1c2b0001);
	CHECK_EQ(r.mtu, 0);
	CHECK(r.payload == echo_icmp + ICMP_HLEN);
	CHECK_EQ(r.payload_len, 48);
}

TEST(icmp4_emit_matches_known_echo_request)
{
	struct icmp4_repr r = {.type = ICMP_ECHO, .ident = 0x1c2b, .seq = 1};
	uint8_t buf[ECHO_ICMP_LEN];

	memset(buf, 0xee, ICMP_HLEN);
	memcpy(buf + ICMP_HLEN, echo_icmp + ICMP_HLEN,
	       ECHO_ICMP_LEN - ICMP_HLEN);
	icmp4_emit(&r, buf, ECHO_ICMP_LEN - ICMP_HLEN);
	CHECK_MEM(buf, echo_icmp, ECHO_ICMP_LEN);
}

TEST(icmp4_echo_reply_round_trip)
{
	struct icmp4_repr r, r2;
	uint8_t buf[ECHO_ICMP_LEN];

	REQUIRE_EQ(icmp4_parse(echo_icmp, ECHO_ICMP_LEN, &r, true), WIRE_OK);
	r.type = ICMP_ECHOREPLY;
	memcpy(buf + ICMP_HLEN, r.payload, r.payload_len);
	icmp4_emit(&r, buf, r.payload_len);
	REQUIRE_EQ(icmp4_parse(buf, sizeof(buf), &r2, true), WIRE_OK);
	CHECK_EQ(r2.type, ICMP_ECHOREPLY);
	CHECK_EQ(r2.ident, r.ident);
	CHECK_EQ(r2.seq, r.seq);
	CHECK_EQ(r2.payload_len, r.payload_len);
	CHECK_MEM(r2.payload, r.payload, r.payload_len);
	/* Only the type changed: 8 -> 0 in the high byte of word 0. */
	CHECK_EQ(r2.cksum, cksum_update16(0xc1a7, 0x0800, 0x0000));
}

TEST(icmp4_needfrag_round_trip_carries_mtu)
{
	/* Fragmentation needed, next-hop MTU 1400, quoting the fragment's
	 * header and first 8 bytes of data (RFC 792). */
	uint8_t buf[ICMP_HLEN + 28];
	struct icmp4_repr r = {.type = ICMP_UNREACH,
			       .code = ICMP_UNREACH_NEEDFRAG,
			       .mtu = 1400},
			  r2;

	memcpy(buf + ICMP_HLEN, ipv4_frag_pkt, 28);
	icmp4_emit(&r, buf, 28);
	CHECK_EQ(rd32(buf + 4), 1400);
	REQUIRE_EQ(icmp4_parse(buf, sizeof(buf), &r2, true), WIRE_OK);
	CHECK_EQ(r2.type, ICMP_UNREACH);
	CHECK_EQ(r2.code, ICMP_UNREACH_NEEDFRAG);
	CHECK_EQ(r2.mtu, 1400);
	CHECK_EQ(r2.rest, 1400);
	CHECK_EQ(r2.ident, 0);
	CHECK_EQ(r2.seq, 0);
	CHECK_EQ(r2.payload_len, 28);
	CHECK_MEM(r2.payload, ipv4_frag_pkt, 28);
}

TEST(icmp4_emit_other_types_take_rest)
{
	/* Parameter problem, pointer 9 (the protocol byte). */
	uint8_t buf[ICMP_HLEN + 20];
	struct icmp4_repr r = {.type = ICMP_PARAMPROB, .rest = 9u << 24},
			  r2;

	memcpy(buf + ICMP_HLEN, echo_ip, 20);
	icmp4_emit(&r, buf, 20);
	CHECK_EQ(buf[4], 9);
	REQUIRE_EQ(icmp4_parse(buf, sizeof(buf), &r2, true), WIRE_OK);
	CHECK_EQ(r2.rest, 9u << 24);
	CHECK_EQ(r2.mtu, 0);
	CHECK_EQ(r2.ident, 0);
}

TEST(icmp4_odd_length_message_checksums)
{
	uint8_t buf[ICMP_HLEN + 33];
	struct icmp4_repr r = {.type = ICMP_ECHO, .ident = 0xabcd, .seq = 7},
			  r2;
	uint64_t seed = 99;

	rng_fill(&seed, buf + ICMP_HLEN, 33);
	icmp4_emit(&r, buf, 33);
	REQUIRE_EQ(icmp4_parse(buf, sizeof(buf), &r2, true), WIRE_OK);
	uint16_t ck = rd16(buf + 2);
	wr16(buf + 2, 0);
	CHECK_EQ(ck, naive_cksum(buf, sizeof(buf), 0));
	wr16(buf + 2, ck);
	buf[sizeof(buf) - 1] ^= 0x80; /* the padded last byte counts */
	CHECK_EQ(icmp4_parse(buf, sizeof(buf), &r2, true), WIRE_ECKSUM);
}

TEST(icmp4_parse_rejects_truncated_at_every_length)
{
	struct icmp4_repr r;

	for (size_t len = 0; len < ICMP_HLEN; len++)
		CHECK_EQ(icmp4_parse(echo_icmp, len, &r, false), WIRE_ETRUNC);
}

TEST(icmp4_parse_rejects_bad_checksum)
{
	uint8_t buf[ECHO_ICMP_LEN];
	struct icmp4_repr r;

	memcpy(buf, echo_icmp, sizeof(buf));
	buf[20] ^= 0x04; /* in the payload: covered too */
	CHECK_EQ(icmp4_parse(buf, sizeof(buf), &r, true), WIRE_ECKSUM);
	CHECK_EQ(icmp4_parse(buf, sizeof(buf), &r, false), WIRE_OK);
	/* A message cut short no longer sums to the checksum either. */
	CHECK_EQ(icmp4_parse(echo_icmp, ECHO_ICMP_LEN - 2, &r, true),
		 WIRE_ECKSUM);
}

/* --- UDP ---------------------------------------------------------------- */

static const uint8_t *const dns_udp = udp_dns_frame + DNS_UDP_OFF;
#define DNS_UDP_LEN (sizeof(udp_dns_frame) - DNS_UDP_OFF)

TEST(udp4_parse_known_dns_query)
{
	struct udp_repr r;

	REQUIRE_EQ(udp4_parse(dns_udp, DNS_UDP_LEN, &r, DNS_SRC, DNS_DST,
			      true),
		   WIRE_OK);
	CHECK_EQ(r.sport, 54321);
	CHECK_EQ(r.dport, 53);
	CHECK_EQ(r.len, 37);
	CHECK_EQ(r.cksum, 0x3566);
}

TEST(udp4_emit_matches_known_dns_query)
{
	struct udp_repr r = {.sport = 54321, .dport = 53};
	uint8_t buf[DNS_UDP_LEN];

	memset(buf, 0xee, UDP_HLEN);
	memcpy(buf + UDP_HLEN, dns_udp + UDP_HLEN, DNS_UDP_LEN - UDP_HLEN);
	udp4_emit(&r, buf, DNS_UDP_LEN - UDP_HLEN, DNS_SRC, DNS_DST, true);
	CHECK_MEM(buf, dns_udp, DNS_UDP_LEN);
}

TEST(udp4_parse_emit_round_trip)
{
	struct udp_repr r, r2;
	uint8_t buf[DNS_UDP_LEN];

	REQUIRE_EQ(udp4_parse(dns_udp, DNS_UDP_LEN, &r, DNS_SRC, DNS_DST,
			      true),
		   WIRE_OK);
	memcpy(buf + UDP_HLEN, dns_udp + UDP_HLEN, r.len - UDP_HLEN);
	udp4_emit(&r, buf, r.len - UDP_HLEN, DNS_SRC, DNS_DST, true);
	REQUIRE_EQ(udp4_parse(buf, sizeof(buf), &r2, DNS_SRC, DNS_DST, true),
		   WIRE_OK);
	CHECK_EQ(r2.sport, r.sport);
	CHECK_EQ(r2.dport, r.dport);
	CHECK_EQ(r2.len, r.len);
	CHECK_EQ(r2.cksum, r.cksum);
}

TEST(udp4_zero_checksum_means_none)
{
	uint8_t buf[DNS_UDP_LEN];
	struct udp_repr r;

	memcpy(buf, dns_udp, sizeof(buf));
	wr16(buf + 6, 0);
	buf[20] ^= 0xff; /* would fail any real checksum */
	CHECK_EQ(udp4_parse(buf, sizeof(buf), &r, DNS_SRC, DNS_DST, true),
		 WIRE_OK);
	CHECK_EQ(r.cksum, 0);
}

TEST(udp4_emit_without_checksum_writes_zero)
{
	struct udp_repr r = {.sport = 1, .dport = 2}, r2;
	uint8_t buf[UDP_HLEN + 5] = {0, 0, 0, 0, 0xee, 0xee, 0xee, 0xee,
				     'h', 'e', 'l', 'l', 'o'};

	udp4_emit(&r, buf, 5, DNS_SRC, DNS_DST, false);
	CHECK_EQ(rd16(buf + 4), 13);
	CHECK_EQ(rd16(buf + 6), 0);
	REQUIRE_EQ(udp4_parse(buf, sizeof(buf), &r2, 0, 0, true), WIRE_OK);
	CHECK_EQ(r2.cksum, 0);
}

TEST(udp4_emit_sends_computed_zero_as_all_ones)
{
	struct udp_repr r = {.sport = 1000, .dport = 2000}, r2;
	uint8_t buf[UDP_HLEN + 2] = {0};

	/* With a zero payload word the checksum is c; a payload word of c
	 * brings the sum to 0xffff and the computed checksum to 0. */
	udp4_emit(&r, buf, 2, DNS_SRC, DNS_DST, true);
	uint16_t c = rd16(buf + 6);
	wr16(buf + UDP_HLEN, c);
	udp4_emit(&r, buf, 2, DNS_SRC, DNS_DST, true);
	CHECK_EQ(rd16(buf + 6), 0xffff);
	CHECK_EQ(udp4_parse(buf, sizeof(buf), &r2, DNS_SRC, DNS_DST, true),
		 WIRE_OK);
}

TEST(udp4_parse_rejects_truncated_at_every_length)
{
	struct udp_repr r;

	for (size_t len = 0; len < UDP_HLEN; len++)
		CHECK_EQ(udp4_parse(dns_udp, len, &r, DNS_SRC, DNS_DST, false),
			 WIRE_ETRUNC);
}

TEST(udp4_parse_rejects_length_field_below_eight)
{
	uint8_t buf[DNS_UDP_LEN];
	struct udp_repr r;

	memcpy(buf, dns_udp, sizeof(buf));
	for (uint16_t ul = 0; ul < UDP_HLEN; ul++) {
		wr16(buf + 4, ul);
		CHECK_EQ(udp4_parse(buf, sizeof(buf), &r, DNS_SRC, DNS_DST,
				    false),
			 WIRE_EBADLEN);
	}
}

TEST(udp4_parse_rejects_length_field_past_buffer)
{
	struct udp_repr r;

	for (size_t len = UDP_HLEN; len < DNS_UDP_LEN; len++)
		CHECK_EQ(udp4_parse(dns_udp, len, &r, DNS_SRC, DNS_DST, false),
			 WIRE_ETRUNC);
}

TEST(udp4_parse_rejects_bad_checksum)
{
	uint8_t buf[DNS_UDP_LEN];
	struct udp_repr r;

	memcpy(buf, dns_udp, sizeof(buf));
	buf[DNS_UDP_LEN - 1] ^= 0x01;
	CHECK_EQ(udp4_parse(buf, sizeof(buf), &r, DNS_SRC, DNS_DST, true),
		 WIRE_ECKSUM);
	CHECK_EQ(udp4_parse(buf, sizeof(buf), &r, DNS_SRC, DNS_DST, false),
		 WIRE_OK);
}

TEST(udp4_parse_rejects_wrong_pseudo_header)
{
	struct udp_repr r;

	/* A datagram delivered to the wrong address fails its checksum. */
	CHECK_EQ(udp4_parse(dns_udp, DNS_UDP_LEN, &r, DNS_SRC, DNS_DST + 1,
			    true),
		 WIRE_ECKSUM);
}

TEST(udp4_parse_ignores_bytes_past_length_field)
{
	uint8_t buf[DNS_UDP_LEN + 9];
	struct udp_repr r;

	memcpy(buf, dns_udp, DNS_UDP_LEN);
	memset(buf + DNS_UDP_LEN, 0x5a, 9);
	REQUIRE_EQ(udp4_parse(buf, sizeof(buf), &r, DNS_SRC, DNS_DST, true),
		   WIRE_OK);
	CHECK_EQ(r.len, DNS_UDP_LEN);
}

/* --- a frame down the stack ----------------------------------------------- */

TEST(echo_request_frame_parses_layer_by_layer)
{
	struct eth_repr e;
	struct ipv4_repr ip;
	struct icmp4_repr ic;

	REQUIRE_EQ(eth_parse(icmp_echo_frame, sizeof(icmp_echo_frame), &e),
		   WIRE_OK);
	REQUIRE_EQ(e.ethertype, ETHERTYPE_IPV4);
	const uint8_t *p = icmp_echo_frame + ETH_HLEN;
	REQUIRE_EQ(ipv4_parse(p, sizeof(icmp_echo_frame) - ETH_HLEN, &ip, true),
		   WIRE_OK);
	REQUIRE_EQ(ip.proto, IPPROTO_ICMP_);
	REQUIRE_EQ(icmp4_parse(p + ip.hlen, ip.total_len - ip.hlen, &ic, true),
		   WIRE_OK);
	CHECK_EQ(ic.type, ICMP_ECHO);
	CHECK_EQ(ic.payload_len, 48);
}

TEST(echo_request_frame_emits_layer_by_layer)
{
	uint8_t buf[sizeof(icmp_echo_frame)];
	struct eth_repr e = {.ethertype = ETHERTYPE_IPV4};
	struct ipv4_repr ip = echo_ip_repr();
	struct icmp4_repr ic = {.type = ICMP_ECHO, .ident = 0x1c2b, .seq = 1};

	memcpy(e.dst, mac_b, ETH_ALEN);
	memcpy(e.src, mac_a, ETH_ALEN);
	memcpy(buf + ECHO_ICMP_OFF + ICMP_HLEN, echo_icmp + ICMP_HLEN, 48);
	icmp4_emit(&ic, buf + ECHO_ICMP_OFF, 48);
	ipv4_emit(&ip, buf + ECHO_IP_OFF);
	eth_emit(&e, buf);
	CHECK_MEM(buf, icmp_echo_frame, sizeof(buf));
}

/* --- pcap --------------------------------------------------------------- */

TEST(pcap_file_header_matches_expected_bytes)
{
	static const uint8_t want[PCAP_FILE_HLEN] = {
		0x4d, 0x3c, 0xb2, 0xa1, /* magic, nanosecond */
		0x02, 0x00, 0x04, 0x00, /* version 2.4 */
		0x00, 0x00, 0x00, 0x00, /* thiszone */
		0x00, 0x00, 0x00, 0x00, /* sigfigs */
		0xff, 0xff, 0x00, 0x00, /* snaplen 65535 */
		0x01, 0x00, 0x00, 0x00, /* Ethernet */
	};
	uint8_t buf[PCAP_FILE_HLEN];

	pcap_file_header_emit(buf, 65535, PCAP_LINKTYPE_ETHERNET);
	CHECK_MEM(buf, want, sizeof(want));
	pcap_file_header_emit(buf, 262144, PCAP_LINKTYPE_RAW);
	CHECK_EQ(buf[16], 0x00);
	CHECK_EQ(buf[18], 0x04);
	CHECK_EQ(buf[20], 101);
}

TEST(pcap_record_header_splits_seconds_and_nanoseconds)
{
	static const uint8_t want[PCAP_REC_HLEN] = {
		0x39, 0x30, 0x00, 0x00, /* 12345 s */
		0xff, 0xc9, 0x9a, 0x3b, /* 999999999 ns */
		0x3c, 0x00, 0x00, 0x00, /* caplen 60 */
		0xea, 0x05, 0x00, 0x00, /* origlen 1514 */
	};
	uint8_t buf[PCAP_REC_HLEN];

	pcap_record_header_emit(buf, 12345ull * 1000000000ull + 999999999ull,
				60, 1514);
	CHECK_MEM(buf, want, sizeof(want));
	pcap_record_header_emit(buf, 0, 0, 0);
	for (size_t i = 0; i < sizeof(buf); i++)
		CHECK_EQ(buf[i], 0);
}

/* --- errors ------------------------------------------------------------- */

TEST(wire_strerror_names_every_error)
{
	static const int errs[] = {WIRE_OK,       WIRE_ETRUNC,  WIRE_EBADLEN,
				   WIRE_ECKSUM,   WIRE_EVERSION, WIRE_EOPTION,
				   WIRE_EUNSUPP,  WIRE_EFIELD};
	const char *unknown = wire_strerror(-100);
	size_t n = sizeof(errs) / sizeof(errs[0]);

	REQUIRE(unknown != NULL);
	for (size_t i = 0; i < n; i++) {
		REQUIRE(wire_strerror(errs[i]) != NULL);
		CHECK(strcmp(wire_strerror(errs[i]), unknown) != 0);
		for (size_t j = 0; j < i; j++)
			CHECK(strcmp(wire_strerror(errs[i]),
				     wire_strerror(errs[j])) != 0);
	}
}
