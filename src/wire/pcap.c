/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pcap file and record headers.
 *
 * Format: the classic libpcap savefile (draft-ietf-opsawg-pcap), with the
 * nanosecond-resolution magic so that virtual time keeps its precision.
 * Fields are written little-endian on every host; readers detect the byte
 * order from the magic, and a fixed order makes files byte-identical across
 * machines, which tests rely on.
 */
#include "wire/wire.h"

#define PCAP_MAGIC_NS 0xa1b23c4du
#define PCAP_VERSION_MAJOR 2
#define PCAP_VERSION_MINOR 4
#define NS_PER_SEC 1000000000u

static void wrle16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void wrle32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

void pcap_file_header_emit(uint8_t buf[PCAP_FILE_HLEN], uint32_t snaplen,
			   uint32_t linktype)
{
	wrle32(buf, PCAP_MAGIC_NS);
	wrle16(buf + 4, PCAP_VERSION_MAJOR);
	wrle16(buf + 6, PCAP_VERSION_MINOR);
	wrle32(buf + 8, 0);  /* thiszone: timestamps are UTC */
	wrle32(buf + 12, 0); /* sigfigs: always 0 in practice */
	wrle32(buf + 16, snaplen);
	wrle32(buf + 20, linktype);
}

void pcap_record_header_emit(uint8_t buf[PCAP_REC_HLEN], uint64_t ts_ns,
			     uint32_t caplen, uint32_t origlen)
{
	/* The seconds field is 32 bits unsigned: it wraps in 2106. */
	wrle32(buf, (uint32_t)(ts_ns / NS_PER_SEC));
	wrle32(buf + 4, (uint32_t)(ts_ns % NS_PER_SEC));
	wrle32(buf + 8, caplen);
	wrle32(buf + 12, origlen);
}
