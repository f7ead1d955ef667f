/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ICMP for IPv4.
 *
 * RFCs: 792 (ICMP), 1191 section 4 (next-hop MTU in "fragmentation needed"),
 * 1122 section 3.2.2 (a host must verify the checksum).
 *
 * The checksum covers the whole message, so the caller passes the IPv4
 * payload trimmed to total_len - hlen.
 */
#include "wire/wire.h"

static bool icmp4_is_echo(uint8_t type)
{
	return type == ICMP_ECHO || type == ICMP_ECHOREPLY;
}

static bool icmp4_is_needfrag(uint8_t type, uint8_t code)
{
	return type == ICMP_UNREACH && code == ICMP_UNREACH_NEEDFRAG;
}

int icmp4_parse(const uint8_t *buf, size_t len, struct icmp4_repr *r,
		bool verify_cksum)
{
	if (len < ICMP_HLEN)
		return WIRE_ETRUNC;
	if (verify_cksum && cksum_finish(cksum_partial(buf, len, 0)) != 0)
		return WIRE_ECKSUM;

	r->type = buf[0];
	r->code = buf[1];
	r->cksum = rd16(buf + 2);
	r->rest = rd32(buf + 4);
	/* The typed views are zero when they do not apply, so a repr never
	 * carries stale values from a previous use. */
	r->ident = 0;
	r->seq = 0;
	r->mtu = 0;
	if (icmp4_is_echo(r->type)) {
		r->ident = rd16(buf + 4);
		r->seq = rd16(buf + 6);
	} else if (icmp4_is_needfrag(r->type, r->code)) {
		r->mtu = rd16(buf + 6);
	}
	r->payload = buf + ICMP_HLEN;
	r->payload_len = len - ICMP_HLEN;
	return WIRE_OK;
}

void icmp4_emit(const struct icmp4_repr *r, uint8_t *buf, size_t payload_len)
{
	buf[0] = r->type;
	buf[1] = r->code;
	wr16(buf + 2, 0);
	if (icmp4_is_echo(r->type)) {
		wr16(buf + 4, r->ident);
		wr16(buf + 6, r->seq);
	} else if (icmp4_is_needfrag(r->type, r->code)) {
		/* RFC 1191: the high 16 bits are unused and must be zero. */
		wr16(buf + 4, 0);
		wr16(buf + 6, r->mtu);
	} else {
		wr32(buf + 4, r->rest);
	}
	wr16(buf + 2,
	     cksum_finish(cksum_partial(buf, ICMP_HLEN + payload_len, 0)));
}
