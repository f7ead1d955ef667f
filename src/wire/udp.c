/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * UDP over IPv4.
 *
 * RFCs: 768 (UDP), 1122 section 4.1.3.4 (a zero checksum means none; a
 * computed zero is sent as all ones).
 *
 * The datagram ends at the UDP length field, not at the end of the buffer:
 * bytes past it (IP padding) are outside the checksum.
 */
#include "wire/wire.h"

int udp4_parse(const uint8_t *buf, size_t len, struct udp_repr *r,
	       uint32_t src, uint32_t dst, bool verify_cksum)
{
	uint16_t ulen, ck;

	if (len < UDP_HLEN)
		return WIRE_ETRUNC;
	ulen = rd16(buf + 4);
	if (ulen < UDP_HLEN)
		return WIRE_EBADLEN;
	if (ulen > len)
		return WIRE_ETRUNC;
	ck = rd16(buf + 6);
	if (verify_cksum && ck != 0) {
		uint32_t s = cksum_pseudo4(src, dst, IPPROTO_UDP_, ulen);

		if (cksum_finish(cksum_partial(buf, ulen, s)) != 0)
			return WIRE_ECKSUM;
	}
	r->sport = rd16(buf);
	r->dport = rd16(buf + 2);
	r->len = ulen;
	r->cksum = ck;
	return WIRE_OK;
}

void udp4_emit(const struct udp_repr *r, uint8_t *buf, size_t payload_len,
	       uint32_t src, uint32_t dst, bool with_cksum)
{
	/* The caller keeps payload_len <= 65535 - 8 (the IPv4 layer cannot
	 * carry more); the length field is what limits it. */
	uint16_t ulen = (uint16_t)(UDP_HLEN + payload_len);
	uint16_t ck;

	wr16(buf, r->sport);
	wr16(buf + 2, r->dport);
	wr16(buf + 4, ulen);
	wr16(buf + 6, 0);
	if (!with_cksum)
		return;
	ck = cksum_finish(
		cksum_partial(buf, ulen, cksum_pseudo4(src, dst, IPPROTO_UDP_,
							ulen)));
	wr16(buf + 6, ck == 0 ? 0xffff : ck);
}
