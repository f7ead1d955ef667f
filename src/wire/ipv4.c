/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The IPv4 header.
 *
 * RFCs: 791 (IPv4), 1122 section 3.2.1 (what a host must check on input),
 * 1812 section 5.3.1 (TTL decrement when forwarding), 1624 (incremental
 * checksum update).
 *
 * Options are covered by the length and checksum checks but not interpreted
 * here: the repr only says where the payload starts (hlen).
 */
#include "wire/wire.h"

int ipv4_parse(const uint8_t *buf, size_t len, struct ipv4_repr *r,
	       bool verify_cksum)
{
	size_t hlen, total;
	uint16_t frag;

	if (len < IPV4_HLEN)
		return WIRE_ETRUNC;
	if (buf[0] >> 4 != 4)
		return WIRE_EVERSION;
	hlen = (size_t)(buf[0] & 0x0f) * 4;
	if (hlen < IPV4_HLEN)
		return WIRE_EBADLEN;
	if (hlen > len)
		return WIRE_ETRUNC;
	total = rd16(buf + 2);
	if (total < hlen)
		return WIRE_EBADLEN;
	if (total > len)
		return WIRE_ETRUNC;
	if (verify_cksum && cksum_finish(cksum_partial(buf, hlen, 0)) != 0)
		return WIRE_ECKSUM;

	frag = rd16(buf + 6);
	r->hlen = (uint8_t)hlen;
	r->tos = buf[1];
	r->total_len = (uint16_t)total;
	r->id = rd16(buf + 4);
	r->df = (frag & IPV4_FLAG_DF) != 0;
	r->mf = (frag & IPV4_FLAG_MF) != 0;
	r->frag_off = (uint16_t)((frag & IPV4_OFFMASK) * 8);
	r->ttl = buf[8];
	r->proto = buf[9];
	r->src = rd32(buf + 12);
	r->dst = rd32(buf + 16);
	return WIRE_OK;
}

void ipv4_emit(const struct ipv4_repr *r, uint8_t *buf)
{
	/* frag_off is in bytes; the field counts 8-byte units, and a caller
	 * fragmenting on 8-byte boundaries loses nothing to the shift. */
	uint16_t frag = (uint16_t)((r->frag_off >> 3) & IPV4_OFFMASK);

	if (r->df)
		frag |= IPV4_FLAG_DF;
	if (r->mf)
		frag |= IPV4_FLAG_MF;
	buf[0] = 0x45;
	buf[1] = r->tos;
	wr16(buf + 2, r->total_len);
	wr16(buf + 4, r->id);
	wr16(buf + 6, frag);
	buf[8] = r->ttl;
	buf[9] = r->proto;
	wr16(buf + 10, 0);
	wr32(buf + 12, r->src);
	wr32(buf + 16, r->dst);
	wr16(buf + 10, cksum_finish(cksum_partial(buf, IPV4_HLEN, 0)));
}

void ipv4_dec_ttl(uint8_t *hdr)
{
	/* TTL shares its 16-bit checksum word with the protocol byte. A TTL
	 * of 0 wraps to 255 with a checksum that still verifies; forwarding
	 * must have dropped such a packet already. */
	uint16_t old = rd16(hdr + 8);
	uint16_t new_ = (uint16_t)(old - 0x100);

	wr16(hdr + 8, new_);
	wr16(hdr + 10, cksum_update16(rd16(hdr + 10), old, new_));
}
