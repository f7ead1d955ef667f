/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Tests for src/wire/tcp.c: parse hand-written segments, emit them back byte
 * for byte, round-trip every option combination, and reject each kind of
 * malformed header with its own code.
 *
 * The reference segments were written out field by field; their checksums
 * were computed with an independent implementation (a few lines of Python
 * summing the pseudo-header and segment as big-endian words).
 */
#include "../harness/test.h"
#include "wire/wire.h"

#define A_10_0_0_1 0x0a000001u
#define A_10_0_0_2 0x0a000002u

/* Linux's SYN from 10.0.0.1:40000 to 10.0.0.2:80: seq 0x12345678, win
 * 64240, MSS 1460, SACK_PERM, TS val 123456 ecr 0, WS 7. */
static const uint8_t linux_syn[40] = {
	0x9c, 0x40, 0x00, 0x50,                         /* ports */
	0x12, 0x34, 0x56, 0x78, 0x00, 0x00, 0x00, 0x00, /* seq, ack */
	0xa0, 0x02, 0xfa, 0xf0,                         /* doff 10, SYN, win */
	0x51, 0x8e, 0x00, 0x00,                         /* cksum, urp */
	/* MSS 1460 */
	0x02, 0x04, 0x05, 0xb4,
	/* SACK_PERM, TS 123456 0 */
	0x04, 0x02, 0x08, 0x0a, 0x00, 0x01, 0xe2, 0x40, 0x00, 0x00, 0x00, 0x00,
	/* NOP, WS 7 */
	0x01, 0x03, 0x03, 0x07,
};

/* The reply's first data: 10.0.0.2:80 -> 10.0.0.1:40000, ACK|PSH, win 509,
 * NOP NOP TS 0xabcdef 123456, "hello\n". */
static const uint8_t linux_data[38] = {
	0x00, 0x50, 0x9c, 0x40, 0x9a, 0xbc, 0xde, 0xf0, 0x12, 0x34, 0x56, 0x79,
	0x80, 0x18, 0x01, 0xfd, 0xed, 0x0b, 0x00, 0x00,
	0x01, 0x01, 0x08, 0x0a, 0x00, 0xab, 0xcd, 0xef, 0x00, 0x01, 0xe2, 0x40,
	'h', 'e', 'l', 'l', 'o', '\n',
};

/* --- helpers ------------------------------------------------------------ */

static struct tcp_repr syn_repr(void)
{
	struct tcp_repr r = {
		.sport = 40000, .dport = 80, .seq = 0x12345678, .ack = 0,
		.flags = TCPF_SYN, .win = 64240, .urp = 0,
		.opts = TCPO_MSS | TCPO_SACK_PERM | TCPO_TS | TCPO_WSCALE,
		.mss = 1460, .wscale = 7, .tsval = 123456, .tsecr = 0,
	};
	return r;
}

/* Option bytes our emit would take beside SACK, and so the blocks that fit:
 * derived from the layout table in tcp.c, not from its code. */
static unsigned int sack_blocks_that_fit(uint8_t opts, unsigned int nsack)
{
	unsigned int other = 0, fit;

	if (opts & TCPO_MSS)
		other += 4;
	if (opts & TCPO_TS)
		other += 12;
	else if (opts & TCPO_SACK_PERM)
		other += 4;
	if (opts & TCPO_WSCALE)
		other += 4;
	if (!(opts & TCPO_SACK))
		return 0;
	fit = (40 - other - 4) / 8;
	return nsack < fit ? nsack : fit;
}

/* Emit r with payload_len bytes of payload, parse it back with the checksum
 * verified, and check every field survived. */
static void check_roundtrip(const struct tcp_repr *r, size_t payload_len)
{
	uint8_t buf[TCP_MAX_HLEN + 256];
	struct tcp_repr p;
	unsigned int want_sack = sack_blocks_that_fit(r->opts, r->nsack);
	uint8_t want_opts = r->opts;
	size_t hlen;

	REQUIRE(payload_len <= 256);
	if (want_sack == 0)
		want_opts &= (uint8_t)~TCPO_SACK;
	hlen = TCP_HLEN + tcp_opts_len(r);
	CHECK_EQ(hlen % 4, 0);
	REQUIRE(hlen <= TCP_MAX_HLEN);
	for (size_t i = 0; i < payload_len; i++)
		buf[hlen + i] = (uint8_t)(i * 7 + 3);
	REQUIRE_EQ(tcp4_emit(r, buf, payload_len, A_10_0_0_1, A_10_0_0_2, true),
		   hlen);
	REQUIRE_EQ(tcp4_parse(buf, hlen + payload_len, &p, A_10_0_0_1,
			      A_10_0_0_2, true),
		   WIRE_OK);
	CHECK_EQ(p.sport, r->sport);
	CHECK_EQ(p.dport, r->dport);
	CHECK_EQ(p.seq, r->seq);
	CHECK_EQ(p.ack, r->ack);
	CHECK_EQ(p.doff, hlen);
	CHECK_EQ(p.flags, r->flags);
	CHECK_EQ(p.win, r->win);
	CHECK_EQ(p.urp, r->urp);
	CHECK_EQ(p.cksum, rd16(buf + 16));
	CHECK_EQ(p.opts, want_opts);
	CHECK_EQ(p.mss, r->opts & TCPO_MSS ? r->mss : 0);
	CHECK_EQ(p.wscale, r->opts & TCPO_WSCALE ? r->wscale : 0);
	CHECK_EQ(p.tsval, r->opts & TCPO_TS ? r->tsval : 0);
	CHECK_EQ(p.tsecr, r->opts & TCPO_TS ? r->tsecr : 0);
	REQUIRE_EQ(p.nsack, want_sack);
	for (unsigned int i = 0; i < want_sack; i++) {
		CHECK_EQ(p.sack[i].start, r->sack[i].start);
		CHECK_EQ(p.sack[i].end, r->sack[i].end);
	}
	CHECK(p.payload == buf + hlen);
	CHECK_EQ(p.payload_len, payload_len);
}

/* A 20-byte header from 10.0.0.1 to 10.0.0.2 followed by optlen bytes of
 * options (a multiple of 4) and payload_len bytes of payload, with a
 * correct checksum so that only the options can fail. Returns the length. */
static size_t make_seg(uint8_t *buf, const uint8_t *opts, size_t optlen,
		       size_t payload_len)
{
	struct tcp_repr r = {.sport = 1234, .dport = 80, .seq = 1000,
			     .ack = 2000, .flags = TCPF_ACK, .win = 4096};
	size_t len = TCP_HLEN + optlen + payload_len;

	tcp4_emit(&r, buf, 0, 0, 0, false);
	buf[12] = (uint8_t)((TCP_HLEN + optlen) / 4 << 4);
	memcpy(buf + TCP_HLEN, opts, optlen);
	memset(buf + TCP_HLEN + optlen, 'x', payload_len);
	tcp4_fill_cksum(buf, len, A_10_0_0_1, A_10_0_0_2);
	return len;
}

/* Parse a segment carrying these option bytes, both with and without
 * checksum verification; both must give err. */
static void check_opts_parse(const uint8_t *opts, size_t optlen, int err,
			     struct tcp_repr *r)
{
	uint8_t buf[TCP_MAX_HLEN + 8];
	size_t len;

	REQUIRE(optlen % 4 == 0 && optlen <= 40);
	len = make_seg(buf, opts, optlen, 8);
	CHECK_EQ(tcp4_parse(buf, len, r, A_10_0_0_1, A_10_0_0_2, true), err);
	CHECK_EQ(tcp4_parse(buf, len, r, A_10_0_0_1, A_10_0_0_2, false), err);
}

/* --- known segments ----------------------------------------------------- */

TEST(wire_tcp_parse_linux_syn)
{
	struct tcp_repr r;

	REQUIRE_EQ(tcp4_parse(linux_syn, sizeof(linux_syn), &r, A_10_0_0_1,
			      A_10_0_0_2, true),
		   WIRE_OK);
	CHECK_EQ(r.sport, 40000);
	CHECK_EQ(r.dport, 80);
	CHECK_EQ(r.seq, 0x12345678);
	CHECK_EQ(r.ack, 0);
	CHECK_EQ(r.doff, 40);
	CHECK_EQ(r.flags, TCPF_SYN);
	CHECK_EQ(r.win, 64240);
	CHECK_EQ(r.cksum, 0x518e);
	CHECK_EQ(r.urp, 0);
	CHECK_EQ(r.opts, TCPO_MSS | TCPO_SACK_PERM | TCPO_TS | TCPO_WSCALE);
	CHECK_EQ(r.mss, 1460);
	CHECK_EQ(r.wscale, 7);
	CHECK_EQ(r.tsval, 123456);
	CHECK_EQ(r.tsecr, 0);
	CHECK_EQ(r.nsack, 0);
	CHECK(r.payload == linux_syn + 40);
	CHECK_EQ(r.payload_len, 0);
}

TEST(wire_tcp_emit_linux_syn_byte_for_byte)
{
	struct tcp_repr r = syn_repr();
	uint8_t buf[TCP_MAX_HLEN];

	CHECK_EQ(tcp_opts_len(&r), 20);
	memset(buf, 0xee, sizeof(buf));
	REQUIRE_EQ(tcp4_emit(&r, buf, 0, A_10_0_0_1, A_10_0_0_2, true), 40);
	CHECK_MEM(buf, linux_syn, sizeof(linux_syn));
	/* doff in the repr is an output of parse, not an input of emit. */
	r.doff = 60;
	REQUIRE_EQ(tcp4_emit(&r, buf, 0, A_10_0_0_1, A_10_0_0_2, true), 40);
	CHECK_MEM(buf, linux_syn, sizeof(linux_syn));
}

TEST(wire_tcp_parse_linux_data_segment)
{
	struct tcp_repr r;

	REQUIRE_EQ(tcp4_parse(linux_data, sizeof(linux_data), &r, A_10_0_0_2,
			      A_10_0_0_1, true),
		   WIRE_OK);
	CHECK_EQ(r.sport, 80);
	CHECK_EQ(r.dport, 40000);
	CHECK_EQ(r.seq, 0x9abcdef0);
	CHECK_EQ(r.ack, 0x12345679);
	CHECK_EQ(r.doff, 32);
	CHECK_EQ(r.flags, TCPF_ACK | TCPF_PSH);
	CHECK_EQ(r.win, 509);
	CHECK_EQ(r.opts, TCPO_TS);
	CHECK_EQ(r.tsval, 0xabcdef);
	CHECK_EQ(r.tsecr, 123456);
	CHECK_EQ(r.payload_len, 6);
	REQUIRE(r.payload == linux_data + 32);
	CHECK_MEM(r.payload, "hello\n", 6);
}

TEST(wire_tcp_emit_linux_data_segment_byte_for_byte)
{
	struct tcp_repr r = {
		.sport = 80, .dport = 40000, .seq = 0x9abcdef0,
		.ack = 0x12345679, .flags = TCPF_ACK | TCPF_PSH, .win = 509,
		.opts = TCPO_TS, .tsval = 0xabcdef, .tsecr = 123456,
	};
	uint8_t buf[64];

	REQUIRE_EQ(tcp_opts_len(&r), 12);
	memcpy(buf + 32, "hello\n", 6);
	REQUIRE_EQ(tcp4_emit(&r, buf, 6, A_10_0_0_2, A_10_0_0_1, true), 32);
	CHECK_MEM(buf, linux_data, sizeof(linux_data));
}

/* --- emitted option layouts -------------------------------------------- */

static void check_layout(uint8_t opts, unsigned int nsack, const uint8_t *want,
			 size_t want_len)
{
	struct tcp_repr r = {.opts = opts, .mss = 0x0102, .wscale = 0x03,
			     .tsval = 0x04050607, .tsecr = 0x08090a0b,
			     .nsack = (uint8_t)nsack};
	uint8_t buf[TCP_MAX_HLEN];

	for (unsigned int i = 0; i < TCP_MAX_SACK; i++) {
		r.sack[i].start = 0x10101010u * (2 * i + 1);
		r.sack[i].end = 0x10101010u * (2 * i + 2);
	}
	CHECK_EQ(tcp_opts_len(&r), want_len);
	REQUIRE_EQ(tcp4_emit(&r, buf, 0, 0, 0, false), TCP_HLEN + want_len);
	CHECK_EQ(buf[12], (TCP_HLEN + want_len) / 4 << 4);
	CHECK_EQ(rd16(buf + 16), 0);
	CHECK_MEM(buf + TCP_HLEN, want, want_len);
}

TEST(wire_tcp_emit_option_layouts)
{
	static const uint8_t mss[] = {0x02, 0x04, 0x01, 0x02};
	static const uint8_t ts[] = {0x01, 0x01, 0x08, 0x0a, 0x04, 0x05,
				     0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b};
	static const uint8_t sp_ts[] = {0x04, 0x02, 0x08, 0x0a, 0x04, 0x05,
					0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b};
	static const uint8_t sp[] = {0x01, 0x01, 0x04, 0x02};
	static const uint8_t ws[] = {0x01, 0x03, 0x03, 0x03};
	static const uint8_t sack1[] = {0x01, 0x01, 0x05, 0x0a,
					0x10, 0x10, 0x10, 0x10,
					0x20, 0x20, 0x20, 0x20};
	static const uint8_t none[1] = {0};
	static const uint8_t mss_sp_ws[] = {0x02, 0x04, 0x01, 0x02,
					    0x01, 0x01, 0x04, 0x02,
					    0x01, 0x03, 0x03, 0x03};

	check_layout(0, 0, none, 0);
	check_layout(TCPO_MSS, 0, mss, sizeof(mss));
	check_layout(TCPO_TS, 0, ts, sizeof(ts));
	check_layout(TCPO_TS | TCPO_SACK_PERM, 0, sp_ts, sizeof(sp_ts));
	check_layout(TCPO_SACK_PERM, 0, sp, sizeof(sp));
	check_layout(TCPO_WSCALE, 0, ws, sizeof(ws));
	check_layout(TCPO_SACK, 1, sack1, sizeof(sack1));
	check_layout(TCPO_MSS | TCPO_SACK_PERM | TCPO_WSCALE, 0, mss_sp_ws,
		     sizeof(mss_sp_ws));
	/* The SACK bit with no blocks, and blocks without the bit, emit
	 * nothing. */
	check_layout(TCPO_SACK, 0, none, 0);
	check_layout(0, 3, none, 0);
}

TEST(wire_tcp_emit_ts_and_sack_blocks_like_linux)
{
	/* NOP NOP TS, NOP NOP SACK: 3 blocks fit beside timestamps (40
	 * bytes); a 4th is dropped, and the kept ones are the first. */
	uint8_t want[40] = {
		0x01, 0x01, 0x08, 0x0a, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09,
		0x0a, 0x0b, 0x01, 0x01, 0x05, 0x1a, 0x10, 0x10, 0x10, 0x10,
		0x20, 0x20, 0x20, 0x20, 0x30, 0x30, 0x30, 0x30, 0x40, 0x40,
		0x40, 0x40, 0x50, 0x50, 0x50, 0x50, 0x60, 0x60, 0x60, 0x60,
	};

	check_layout(TCPO_TS | TCPO_SACK, 3, want, 40);
	check_layout(TCPO_TS | TCPO_SACK, 4, want, 40);
	want[15] = 2 + 8;
	check_layout(TCPO_TS | TCPO_SACK, 1, want, 24);
}

TEST(wire_tcp_emit_sack_truncated_to_fit_40_bytes)
{
	struct tcp_repr r = syn_repr();

	/* MSS, SACK_PERM+TS, WS take 20 bytes: 2 blocks fit. */
	r.opts |= TCPO_SACK;
	for (unsigned int n = 1; n <= TCP_MAX_SACK; n++) {
		r.nsack = (uint8_t)n;
		CHECK_EQ(tcp_opts_len(&r), 20 + 4 + 8 * (n < 2 ? n : 2));
	}
	/* Without other options all 4 fit (36 bytes); more than
	 * TCP_MAX_SACK asked for is clamped. */
	r.opts = TCPO_SACK;
	r.nsack = 4;
	CHECK_EQ(tcp_opts_len(&r), 36);
	r.nsack = 200;
	CHECK_EQ(tcp_opts_len(&r), 36);
}

/* --- round trips ------------------------------------------------------- */

TEST(wire_tcp_roundtrip_bare_header)
{
	struct tcp_repr r = {.sport = 1, .dport = 65535, .seq = 0xffffffff,
			     .ack = 0x80000000, .flags = 0xff, .win = 0xffff,
			     .urp = 0xabcd};

	CHECK_EQ(tcp_opts_len(&r), 0);
	check_roundtrip(&r, 0);
	check_roundtrip(&r, 1);
	check_roundtrip(&r, 255);
}

TEST(wire_tcp_roundtrip_syn_all_options)
{
	struct tcp_repr r = syn_repr();

	check_roundtrip(&r, 0);
	r.flags = TCPF_SYN | TCPF_ACK | TCPF_ECE;
	r.mss = 65535;
	r.wscale = 14;
	r.tsval = 0xffffffff;
	r.tsecr = 0x01020304;
	check_roundtrip(&r, 0);
}

TEST(wire_tcp_roundtrip_ts_and_sack_1_to_4_blocks)
{
	struct tcp_repr r = {.sport = 80, .dport = 40000, .seq = 7, .ack = 9,
			     .flags = TCPF_ACK, .win = 1000,
			     .opts = TCPO_TS | TCPO_SACK, .tsval = 11,
			     .tsecr = 12};

	for (unsigned int i = 0; i < TCP_MAX_SACK; i++) {
		r.sack[i].start = 1000 * (i + 1);
		r.sack[i].end = 1000 * (i + 1) + 500;
	}
	for (unsigned int n = 1; n <= TCP_MAX_SACK; n++) {
		r.nsack = (uint8_t)n;
		check_roundtrip(&r, 100);
	}
	/* Without timestamps all 4 blocks go out. */
	r.opts = TCPO_SACK;
	check_roundtrip(&r, 100);
}

TEST(wire_tcp_roundtrip_every_option_combination)
{
	struct tcp_repr r = {.sport = 5, .dport = 6, .seq = 0xdeadbeef,
			     .ack = 0xfeedface, .flags = TCPF_ACK, .win = 77,
			     .mss = 1400, .wscale = 9, .tsval = 0x11223344,
			     .tsecr = 0x55667788};
	uint8_t all = TCPO_MSS | TCPO_WSCALE | TCPO_SACK_PERM | TCPO_SACK |
		      TCPO_TS;

	for (unsigned int i = 0; i < TCP_MAX_SACK; i++) {
		r.sack[i].start = 0xa0000000u + i;
		r.sack[i].end = 0xb0000000u + i;
	}
	for (unsigned int opts = 0; opts <= all; opts++) {
		if (opts & ~(unsigned int)all)
			continue;
		for (unsigned int n = 0; n <= TCP_MAX_SACK; n++) {
			size_t ol;

			r.opts = (uint8_t)opts;
			r.nsack = (uint8_t)n;
			ol = tcp_opts_len(&r);
			CHECK_EQ(ol % 4, 0);
			CHECK(ol <= 40);
			check_roundtrip(&r, n * 3);
		}
	}
}

/* --- checksum ----------------------------------------------------------- */

TEST(wire_tcp_cksum_good_and_bad)
{
	uint8_t buf[sizeof(linux_data)];
	struct tcp_repr r;

	memcpy(buf, linux_data, sizeof(buf));
	CHECK_EQ(tcp4_parse(buf, sizeof(buf), &r, A_10_0_0_2, A_10_0_0_1, true),
		 WIRE_OK);
	/* Another source address is another pseudo-header. */
	CHECK_EQ(tcp4_parse(buf, sizeof(buf), &r, 0x0a000003, A_10_0_0_1, true),
		 WIRE_ECKSUM);
	/* A damaged payload byte, and a damaged header byte. */
	buf[sizeof(buf) - 1] ^= 0x40;
	CHECK_EQ(tcp4_parse(buf, sizeof(buf), &r, A_10_0_0_2, A_10_0_0_1, true),
		 WIRE_ECKSUM);
	CHECK_EQ(tcp4_parse(buf, sizeof(buf), &r, A_10_0_0_2, A_10_0_0_1,
			    false),
		 WIRE_OK);
	memcpy(buf, linux_data, sizeof(buf));
	buf[4] ^= 0x01;
	CHECK_EQ(tcp4_parse(buf, sizeof(buf), &r, A_10_0_0_2, A_10_0_0_1, true),
		 WIRE_ECKSUM);
	/* The checksum covers len bytes: a segment cut short fails. */
	CHECK_EQ(tcp4_parse(linux_data, sizeof(linux_data) - 1, &r, A_10_0_0_2,
			    A_10_0_0_1, true),
		 WIRE_ECKSUM);
	/* A zero checksum is not "none" in TCP. */
	memcpy(buf, linux_data, sizeof(buf));
	wr16(buf + 16, 0);
	CHECK_EQ(tcp4_parse(buf, sizeof(buf), &r, A_10_0_0_2, A_10_0_0_1, true),
		 WIRE_ECKSUM);
}

TEST(wire_tcp_emit_without_cksum_then_fill)
{
	struct tcp_repr r = syn_repr();
	uint8_t with[TCP_MAX_HLEN + 33], without[TCP_MAX_HLEN + 33];
	size_t hlen;

	/* An odd payload length exercises the checksum's zero pad. */
	r.flags = TCPF_ACK;
	memset(with + 40, 0x5a, 33);
	memset(without + 40, 0x5a, 33);
	hlen = tcp4_emit(&r, with, 33, A_10_0_0_1, A_10_0_0_2, true);
	REQUIRE_EQ(hlen, 40);
	REQUIRE_EQ(tcp4_emit(&r, without, 33, A_10_0_0_1, A_10_0_0_2, false),
		   40);
	CHECK_EQ(rd16(without + 16), 0);
	CHECK_MEM(with, without, 16);
	CHECK_MEM(with + 18, without + 18, hlen + 33 - 18);
	/* Fill even over a stale value. */
	wr16(without + 16, 0x1234);
	tcp4_fill_cksum(without, hlen + 33, A_10_0_0_1, A_10_0_0_2);
	CHECK_MEM(with, without, hlen + 33);
	CHECK_EQ(tcp4_parse(without, hlen + 33, &r, A_10_0_0_1, A_10_0_0_2,
			    true),
		 WIRE_OK);
}

/* --- malformed headers -------------------------------------------------- */

TEST(wire_tcp_rejects_short_segment)
{
	struct tcp_repr r;

	for (size_t len = 0; len < TCP_HLEN; len++) {
		CHECK_EQ(tcp4_parse(linux_data, len, &r, 0, 0, false),
			 WIRE_ETRUNC);
		CHECK_EQ(tcp4_parse(linux_data, len, &r, 0, 0, true),
			 WIRE_ETRUNC);
	}
}

TEST(wire_tcp_rejects_doff_below_5)
{
	uint8_t buf[sizeof(linux_data)];
	struct tcp_repr r;

	memcpy(buf, linux_data, sizeof(buf));
	for (unsigned int doff = 0; doff < 5; doff++) {
		buf[12] = (uint8_t)(doff << 4);
		CHECK_EQ(tcp4_parse(buf, sizeof(buf), &r, 0, 0, false),
			 WIRE_EBADLEN);
		CHECK_EQ(tcp4_parse(buf, sizeof(buf), &r, 0, 0, true),
			 WIRE_EBADLEN);
	}
}

TEST(wire_tcp_rejects_doff_past_len)
{
	struct tcp_repr r;
	uint8_t buf[TCP_MAX_HLEN];

	/* linux_data has doff 32: every shorter buffer is truncated. */
	for (size_t len = TCP_HLEN; len < 32; len++)
		CHECK_EQ(tcp4_parse(linux_data, len, &r, 0, 0, false),
			 WIRE_ETRUNC);
	CHECK_EQ(tcp4_parse(linux_data, 32, &r, 0, 0, false), WIRE_OK);
	CHECK_EQ(r.payload_len, 0);
	/* doff 15 (60 bytes) in a 56-byte segment. */
	memset(buf, 0, sizeof(buf));
	buf[12] = 0xf0;
	CHECK_EQ(tcp4_parse(buf, 56, &r, 0, 0, false), WIRE_ETRUNC);
	CHECK_EQ(tcp4_parse(buf, 60, &r, 0, 0, false), WIRE_OK);
	CHECK_EQ(r.doff, 60);
}

TEST(wire_tcp_rejects_option_length_0_and_1)
{
	static const uint8_t len0[] = {0x01, 0x01, 30, 0};
	static const uint8_t len1[] = {0x01, 0x01, 30, 1};
	static const uint8_t mss_len0[] = {0x02, 0x00, 0x01, 0x01};
	struct tcp_repr r;

	check_opts_parse(len0, sizeof(len0), WIRE_EOPTION, &r);
	check_opts_parse(len1, sizeof(len1), WIRE_EOPTION, &r);
	check_opts_parse(mss_len0, sizeof(mss_len0), WIRE_EOPTION, &r);
}

TEST(wire_tcp_rejects_option_past_header)
{
	/* An unknown option claiming 6 bytes with 4 left. */
	static const uint8_t unk[] = {0x01, 0x01, 0x01, 0x01, 30, 6, 0, 0};
	/* A kind byte as the last header byte: no room for its length. */
	static const uint8_t nolen[] = {0x01, 0x01, 0x01, 30};
	/* A timestamp cut by the end of the header. */
	static const uint8_t ts_cut[] = {0x01, 0x01, 0x01, 0x01,
					 0x08, 0x0a, 0, 0};
	struct tcp_repr r;

	check_opts_parse(unk, sizeof(unk), WIRE_EOPTION, &r);
	check_opts_parse(nolen, sizeof(nolen), WIRE_EOPTION, &r);
	check_opts_parse(ts_cut, sizeof(ts_cut), WIRE_EOPTION, &r);
}

TEST(wire_tcp_rejects_known_option_with_wrong_length)
{
	static const uint8_t mss3[] = {0x02, 0x03, 0x05, 0x01};
	static const uint8_t mss6[] = {0x02, 0x06, 0x05, 0xb4, 0x00, 0x00,
				       0x01, 0x01};
	static const uint8_t ws4[] = {0x03, 0x04, 0x07, 0x00};
	static const uint8_t ws2[] = {0x03, 0x02, 0x01, 0x01};
	static const uint8_t sp3[] = {0x04, 0x03, 0x00, 0x01};
	static const uint8_t ts9[] = {0x01, 0x01, 0x01, 0x08, 0x09, 0, 0, 0,
				      0, 0, 0, 0};
	static const uint8_t ts12[] = {0x08, 0x0c, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
	struct tcp_repr r;

	check_opts_parse(mss3, sizeof(mss3), WIRE_EOPTION, &r);
	check_opts_parse(mss6, sizeof(mss6), WIRE_EOPTION, &r);
	check_opts_parse(ws4, sizeof(ws4), WIRE_EOPTION, &r);
	check_opts_parse(ws2, sizeof(ws2), WIRE_EOPTION, &r);
	check_opts_parse(sp3, sizeof(sp3), WIRE_EOPTION, &r);
	check_opts_parse(ts9, sizeof(ts9), WIRE_EOPTION, &r);
	check_opts_parse(ts12, sizeof(ts12), WIRE_EOPTION, &r);
}

TEST(wire_tcp_rejects_sack_length_not_2_plus_8n)
{
	uint8_t o[40];
	struct tcp_repr r;

	/* SACK with 0 blocks, 2+7, 2+9, and 38 = 2+36: all within the
	 * header, none a whole number of blocks. */
	static const uint8_t bad[] = {2, 9, 11, 17, 38};

	for (size_t i = 0; i < sizeof(bad); i++) {
		memset(o, TCPOPT_NOP, sizeof(o));
		o[0] = TCPOPT_SACK;
		o[1] = bad[i];
		check_opts_parse(o, 40, WIRE_EOPTION, &r);
	}
	/* 5 blocks would take 42 bytes: past even the largest header. */
	memset(o, 0, sizeof(o));
	o[0] = TCPOPT_SACK;
	o[1] = 42;
	check_opts_parse(o, 40, WIRE_EOPTION, &r);
	/* 4 blocks (34 bytes) is the most, and is accepted. */
	o[1] = 34;
	check_opts_parse(o, 40, WIRE_OK, &r);
	CHECK_EQ(r.opts, TCPO_SACK);
	CHECK_EQ(r.nsack, 4);
}

/* --- what parse reports ------------------------------------------------- */

TEST(wire_tcp_parse_sack_blocks)
{
	static const uint8_t o[] = {
		0x01, 0x01, 0x05, 0x12, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00,
		0x20, 0x00, 0xff, 0xff, 0xff, 0xf0, 0x00, 0x00, 0x00, 0x10,
	};
	struct tcp_repr r;

	check_opts_parse(o, sizeof(o), WIRE_OK, &r);
	CHECK_EQ(r.opts, TCPO_SACK);
	REQUIRE_EQ(r.nsack, 2);
	CHECK_EQ(r.sack[0].start, 0x1000);
	CHECK_EQ(r.sack[0].end, 0x2000);
	CHECK_EQ(r.sack[1].start, 0xfffffff0);
	CHECK_EQ(r.sack[1].end, 0x10);
	CHECK_EQ(r.payload_len, 8);
}

TEST(wire_tcp_eol_stops_option_walk)
{
	/* MSS, EOL, then bytes that would be a malformed option. */
	static const uint8_t o[] = {0x02, 0x04, 0x05, 0xb4,
				    0x00, 0x02, 0x00, 0x00};
	struct tcp_repr r;

	check_opts_parse(o, sizeof(o), WIRE_OK, &r);
	CHECK_EQ(r.opts, TCPO_MSS);
	CHECK_EQ(r.mss, 1460);
	/* An EOL first: nothing is reported. */
	check_opts_parse(o + 4, 4, WIRE_OK, &r);
	CHECK_EQ(r.opts, 0);
	CHECK_EQ(r.mss, 0);
}

TEST(wire_tcp_unknown_option_skipped)
{
	/* An MPTCP-like option (kind 30, length 6), then WS 2 and NOP. */
	static const uint8_t o[] = {30, 6, 0xaa, 0xbb, 0xcc, 0xdd,
				    0x03, 0x03, 0x02, 0x01, 0x00, 0x00};
	struct tcp_repr r;

	check_opts_parse(o, sizeof(o), WIRE_OK, &r);
	CHECK_EQ(r.opts, TCPO_WSCALE);
	CHECK_EQ(r.wscale, 2);
}

TEST(wire_tcp_wscale_15_reported_as_is)
{
	static const uint8_t o[] = {0x01, 0x03, 0x03, 15};
	struct tcp_repr r;

	check_opts_parse(o, sizeof(o), WIRE_OK, &r);
	CHECK_EQ(r.opts, TCPO_WSCALE);
	CHECK_EQ(r.wscale, 15);
}

TEST(wire_tcp_zero_mss_reported_as_zero)
{
	static const uint8_t o[] = {0x02, 0x04, 0x00, 0x00};
	struct tcp_repr r;

	check_opts_parse(o, sizeof(o), WIRE_OK, &r);
	CHECK_EQ(r.opts, TCPO_MSS);
	CHECK_EQ(r.mss, 0);
}

TEST(wire_tcp_syn_options_reported_without_syn)
{
	/* make_seg sends a plain ACK: its SYN-only options still show. */
	static const uint8_t o[] = {0x02, 0x04, 0x02, 0x18, 0x04, 0x02,
				    0x01, 0x01, 0x01, 0x03, 0x03, 0x05};
	struct tcp_repr r;

	check_opts_parse(o, sizeof(o), WIRE_OK, &r);
	CHECK_EQ(r.flags, TCPF_ACK);
	CHECK_EQ(r.opts, TCPO_MSS | TCPO_SACK_PERM | TCPO_WSCALE);
	CHECK_EQ(r.mss, 536);
	CHECK_EQ(r.wscale, 5);
}

TEST(wire_tcp_timestamp_anywhere_in_the_block)
{
	/* The "NOP NOP TS" shortcut and the general walk agree. */
	static const uint8_t nop_first[] = {0x01, 0x01, 0x08, 0x0a, 1, 2, 3,
					    4, 5, 6, 7, 8};
	static const uint8_t ts_first[] = {0x08, 0x0a, 1, 2, 3, 4, 5, 6, 7,
					   8, 0x01, 0x00};
	static const uint8_t nop_mid[] = {0x01, 0x08, 0x0a, 1, 2, 3, 4, 5, 6,
					  7, 8, 0x01};
	const uint8_t *blocks[] = {nop_first, ts_first, nop_mid};
	struct tcp_repr r;

	for (size_t i = 0; i < 3; i++) {
		check_opts_parse(blocks[i], 12, WIRE_OK, &r);
		CHECK_EQ(r.opts, TCPO_TS);
		CHECK_EQ(r.tsval, 0x01020304);
		CHECK_EQ(r.tsecr, 0x05060708);
		CHECK_EQ(r.nsack, 0);
	}
}

TEST(wire_tcp_parse_clears_options_of_a_reused_repr)
{
	struct tcp_repr r;

	REQUIRE_EQ(tcp4_parse(linux_syn, sizeof(linux_syn), &r, A_10_0_0_1,
			      A_10_0_0_2, true),
		   WIRE_OK);
	r.nsack = 3;
	REQUIRE_EQ(tcp4_parse(linux_data, sizeof(linux_data), &r, A_10_0_0_2,
			      A_10_0_0_1, true),
		   WIRE_OK);
	CHECK_EQ(r.opts, TCPO_TS);
	CHECK_EQ(r.mss, 0);
	CHECK_EQ(r.wscale, 0);
	CHECK_EQ(r.nsack, 0);
}
