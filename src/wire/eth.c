/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Ethernet II framing.
 *
 * RFCs: 894 (IP datagrams over Ethernet), IEEE 802.3 for the header layout.
 *
 * The FCS is never seen (TAP and our virtual links strip or never add it),
 * and short frames are accepted: padding to ETH_MIN_FRAME is the sender's
 * job, and TAP delivers runts from the host that are otherwise fine.
 */
#include "wire/wire.h"

#include <string.h>

int eth_parse(const uint8_t *buf, size_t len, struct eth_repr *r)
{
	if (len < ETH_HLEN)
		return WIRE_ETRUNC;
	memcpy(r->dst, buf, ETH_ALEN);
	memcpy(r->src, buf + ETH_ALEN, ETH_ALEN);
	r->ethertype = rd16(buf + 2 * ETH_ALEN);
	return WIRE_OK;
}

void eth_emit(const struct eth_repr *r, uint8_t *buf)
{
	memcpy(buf, r->dst, ETH_ALEN);
	memcpy(buf + ETH_ALEN, r->src, ETH_ALEN);
	wr16(buf + 2 * ETH_ALEN, r->ethertype);
}
