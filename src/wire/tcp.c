/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * TCP header over IPv4.
 *
 * RFCs: 9293 (TCP header, options in general: sections 3.1 and 3.2), 7323
 * (window scale and timestamps), 2018 (SACK-permitted and SACK), 6691 (the
 * MSS option).
 *
 * Parsing is strict about option framing, because a length that is wrong
 * here would make every later option read garbage: each option other than
 * EOL and NOP must have its length byte inside the header, a length of at
 * least 2, and must not run past the header; the options we know must have
 * their one correct length. Values are reported as received; the state
 * machine judges them (a wscale above 14, an MSS of 0).
 *
 * Emission uses Linux's option layout, each piece a whole 32-bit word:
 *
 *   MSS                 02 04 mm mm
 *   SACK_PERM + TS      04 02 08 0a  tsval  tsecr
 *   TS alone            01 01 08 0a  tsval  tsecr
 *   SACK_PERM alone     01 01 04 02
 *   WSCALE              01 03 03 ws
 *   SACK, n blocks      01 01 05 (2+8n)  n x (start end)
 *
 * Peers and middleboxes have seen this layout for decades, and its fixed
 * shape lets emit store words with no walk. The pieces other than SACK take
 * at most 20 bytes, so there is always room for 2 SACK blocks; when the
 * requested blocks do not fit in the 40 option bytes, the first ones (the
 * most recent, RFC 2018 section 4) are sent and the rest dropped, as Linux
 * does (3 blocks beside timestamps).
 */
#include "wire/wire.h"

#define TCP_MAX_OPTLEN (TCP_MAX_HLEN - TCP_HLEN)

/* Option words, kind and length in network order. */
#define OPTW_MSS	      0x02040000u /* | mss */
#define OPTW_SACKPERM_TS      0x0402080au
#define OPTW_NOP_NOP_TS	      0x0101080au
#define OPTW_NOP_NOP_SACKPERM 0x01010402u
#define OPTW_NOP_WS	      0x01030300u /* | wscale */
#define OPTW_NOP_NOP_SACK     0x01010500u /* | 2 + 8n */

/* Bytes of the fixed-size pieces of the emitted option block. */
static size_t opts_fixed_len(uint8_t opts)
{
	size_t n = 0;

	if (opts & TCPO_MSS)
		n += 4;
	if (opts & TCPO_TS)
		n += 12;
	else if (opts & TCPO_SACK_PERM)
		n += 4;
	if (opts & TCPO_WSCALE)
		n += 4;
	return n;
}

/* SACK blocks emit sends after fixed bytes of other options. */
static unsigned int sack_emit_count(const struct tcp_repr *r, size_t fixed)
{
	unsigned int n = r->nsack;
	unsigned int room = (unsigned int)(TCP_MAX_OPTLEN - fixed - 4) / 8;

	if (!(r->opts & TCPO_SACK))
		return 0;
	if (n > TCP_MAX_SACK)
		n = TCP_MAX_SACK;
	return n < room ? n : room;
}

size_t tcp_opts_len(const struct tcp_repr *r)
{
	size_t fixed = opts_fixed_len(r->opts);
	unsigned int nsack = sack_emit_count(r, fixed);

	return fixed + (nsack ? 4 + 8 * (size_t)nsack : 0);
}

/* Walks the option block p[0..len). Returns WIRE_OK or WIRE_EOPTION. */
static int tcp_parse_opts(const uint8_t *p, size_t len, struct tcp_repr *r)
{
	size_t i = 0;

	/* Linux sends "NOP NOP TS" alone on every data segment of a
	 * timestamped connection: take it without the walk. */
	if (len == 12 && rd32(p) == OPTW_NOP_NOP_TS) {
		r->opts = TCPO_TS;
		r->tsval = rd32(p + 4);
		r->tsecr = rd32(p + 8);
		return WIRE_OK;
	}
	while (i < len) {
		const uint8_t *o = p + i;
		unsigned int olen;

		if (o[0] == TCPOPT_EOL)
			break;
		if (o[0] == TCPOPT_NOP) {
			i++;
			continue;
		}
		if (len - i < 2)
			return WIRE_EOPTION;
		olen = o[1];
		if (olen < 2 || olen > len - i)
			return WIRE_EOPTION;
		switch (o[0]) {
		case TCPOPT_MSS:
			if (olen != 4)
				return WIRE_EOPTION;
			r->opts |= TCPO_MSS;
			r->mss = rd16(o + 2);
			break;
		case TCPOPT_WSCALE:
			if (olen != 3)
				return WIRE_EOPTION;
			r->opts |= TCPO_WSCALE;
			r->wscale = o[2];
			break;
		case TCPOPT_SACK_PERM:
			if (olen != 2)
				return WIRE_EOPTION;
			r->opts |= TCPO_SACK_PERM;
			break;
		case TCPOPT_TIMESTAMP:
			if (olen != 10)
				return WIRE_EOPTION;
			r->opts |= TCPO_TS;
			r->tsval = rd32(o + 2);
			r->tsecr = rd32(o + 6);
			break;
		case TCPOPT_SACK: {
			unsigned int nb = (olen - 2) / 8;

			if ((olen - 2) % 8 != 0 || nb < 1 || nb > TCP_MAX_SACK)
				return WIRE_EOPTION;
			r->opts |= TCPO_SACK;
			r->nsack = (uint8_t)nb;
			for (unsigned int b = 0; b < nb; b++) {
				r->sack[b].start = rd32(o + 2 + 8 * b);
				r->sack[b].end = rd32(o + 6 + 8 * b);
			}
			break;
		}
		default:
			break; /* unknown: skipped by its length */
		}
		i += olen;
	}
	return WIRE_OK;
}

int tcp4_parse(const uint8_t *buf, size_t len, struct tcp_repr *r, uint32_t src,
	       uint32_t dst, bool verify_cksum)
{
	size_t doff;

	if (len < TCP_HLEN)
		return WIRE_ETRUNC;
	doff = (size_t)(buf[12] >> 4) * 4;
	if (doff < TCP_HLEN)
		return WIRE_EBADLEN;
	if (doff > len)
		return WIRE_ETRUNC;
	/* Before the options: a segment damaged in transit is counted as a
	 * checksum error, not as whatever its damage looks like. */
	if (verify_cksum) {
		uint32_t s =
		    cksum_pseudo4(src, dst, IPPROTO_TCP_, (uint32_t)len);

		if (cksum_finish(cksum_partial(buf, len, s)) != 0)
			return WIRE_ECKSUM;
	}
	r->opts = 0;
	r->wscale = 0;
	r->mss = 0;
	r->tsval = 0;
	r->tsecr = 0;
	r->nsack = 0;
	if (doff > TCP_HLEN) {
		int err = tcp_parse_opts(buf + TCP_HLEN, doff - TCP_HLEN, r);

		if (err != WIRE_OK)
			return err;
	}
	r->sport = rd16(buf);
	r->dport = rd16(buf + 2);
	r->seq = rd32(buf + 4);
	r->ack = rd32(buf + 8);
	r->doff = (uint8_t)doff;
	r->flags = buf[13];
	r->win = rd16(buf + 14);
	r->cksum = rd16(buf + 16);
	r->urp = rd16(buf + 18);
	r->payload = buf + doff;
	r->payload_len = len - doff;
	return WIRE_OK;
}

size_t tcp4_emit(const struct tcp_repr *r, uint8_t *buf, size_t payload_len,
		 uint32_t src, uint32_t dst, bool with_cksum)
{
	size_t fixed = opts_fixed_len(r->opts);
	unsigned int nsack = sack_emit_count(r, fixed);
	size_t hlen = TCP_HLEN + fixed + (nsack ? 4 + 8 * (size_t)nsack : 0);
	uint8_t *o = buf + TCP_HLEN;

	wr16(buf, r->sport);
	wr16(buf + 2, r->dport);
	wr32(buf + 4, r->seq);
	wr32(buf + 8, r->ack);
	buf[12] = (uint8_t)(hlen / 4 << 4);
	buf[13] = r->flags;
	wr16(buf + 14, r->win);
	wr16(buf + 16, 0);
	wr16(buf + 18, r->urp);

	if (r->opts & TCPO_MSS) {
		wr32(o, OPTW_MSS | r->mss);
		o += 4;
	}
	if (r->opts & TCPO_TS) {
		wr32(o, r->opts & TCPO_SACK_PERM ? OPTW_SACKPERM_TS
						 : OPTW_NOP_NOP_TS);
		wr32(o + 4, r->tsval);
		wr32(o + 8, r->tsecr);
		o += 12;
	} else if (r->opts & TCPO_SACK_PERM) {
		wr32(o, OPTW_NOP_NOP_SACKPERM);
		o += 4;
	}
	if (r->opts & TCPO_WSCALE) {
		wr32(o, OPTW_NOP_WS | r->wscale);
		o += 4;
	}
	if (nsack) {
		wr32(o, OPTW_NOP_NOP_SACK | (2 + 8 * nsack));
		for (unsigned int b = 0; b < nsack; b++) {
			wr32(o + 4 + 8 * b, r->sack[b].start);
			wr32(o + 8 + 8 * b, r->sack[b].end);
		}
	}

	if (with_cksum) {
		/* The caller keeps hlen + payload_len within an IPv4
		 * datagram. */
		uint32_t tlen = (uint32_t)(hlen + payload_len);
		uint32_t s = cksum_pseudo4(src, dst, IPPROTO_TCP_, tlen);

		wr16(buf + 16, cksum_finish(cksum_partial(buf, tlen, s)));
	}
	return hlen;
}

void tcp4_fill_cksum(uint8_t *seg, size_t len, uint32_t src, uint32_t dst)
{
	uint32_t s = cksum_pseudo4(src, dst, IPPROTO_TCP_, (uint32_t)len);

	wr16(seg + 16, 0);
	wr16(seg + 16, cksum_finish(cksum_partial(seg, len, s)));
}
