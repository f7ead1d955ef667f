/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ARP packets for IPv4 over Ethernet.
 *
 * RFCs: 826 (ARP), 5227 (only to note that probes, with spa 0, and
 * announcements, with spa == tpa, are ordinary requests at this layer).
 *
 * Only the one hardware/protocol pairing we speak is accepted; anything else
 * is well-formed ARP that is not for us (WIRE_EUNSUPP), so that a caller can
 * count it apart from garbage.
 */
#include "wire/wire.h"

#include <string.h>

#define ARP_HTYPE_ETHER 1

int arp_parse(const uint8_t *buf, size_t len, struct arp_repr *r)
{
	uint16_t op;

	if (len < ARP_LEN)
		return WIRE_ETRUNC;
	if (rd16(buf) != ARP_HTYPE_ETHER || rd16(buf + 2) != ETHERTYPE_IPV4 ||
	    buf[4] != ETH_ALEN || buf[5] != 4)
		return WIRE_EUNSUPP;
	op = rd16(buf + 6);
	if (op != ARP_OP_REQUEST && op != ARP_OP_REPLY)
		return WIRE_EFIELD;
	r->op = op;
	memcpy(r->sha, buf + 8, ETH_ALEN);
	r->spa = rd32(buf + 14);
	memcpy(r->tha, buf + 18, ETH_ALEN);
	r->tpa = rd32(buf + 24);
	return WIRE_OK;
}

void arp_emit(const struct arp_repr *r, uint8_t *buf)
{
	wr16(buf, ARP_HTYPE_ETHER);
	wr16(buf + 2, ETHERTYPE_IPV4);
	buf[4] = ETH_ALEN;
	buf[5] = 4;
	wr16(buf + 6, r->op);
	memcpy(buf + 8, r->sha, ETH_ALEN);
	wr32(buf + 14, r->spa);
	memcpy(buf + 18, r->tha, ETH_ALEN);
	wr32(buf + 24, r->tpa);
}
