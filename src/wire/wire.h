/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Wire formats: validated parsing and emission of protocol headers.
 *
 * Every protocol has a parsed representation (a "repr") and two functions:
 *   xxx_parse(buf, len, &repr)  checks every length once; on success the
 *                               repr is filled and no later step reads past
 *                               buf + len. On failure returns a negative
 *                               WIRE_E* code saying why, so that the caller
 *                               can count and drop.
 *   xxx_emit(&repr, buf, ...)   writes the header in network byte order.
 * Multi-byte fields go through the rd16/wr16/rd32/wr32 helpers: we never cast
 * packed structs onto buffers.
 *
 * IPv4 addresses are host-order uint32_t in reprs (so prefix arithmetic is
 * plain integer arithmetic); IPv6 addresses are 16-byte arrays.
 *
 * RFCs: 791 (IPv4), 792 (ICMP), 768 (UDP), 826 (ARP), 894 (IPv4 over
 * Ethernet), 1071/1624 (Internet checksum and its incremental update),
 * 8200 (IPv6), 4443 (ICMPv6), 9293 (TCP header).
 */
#ifndef VIMAGE_WIRE_H
#define VIMAGE_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Why a parse failed. Negative so that they can share a return value. */
enum wire_error {
	WIRE_OK = 0,
	WIRE_ETRUNC = -1,   /* buffer shorter than the header or a length field */
	WIRE_EBADLEN = -2,  /* a length field is inconsistent (e.g. IHL < 5) */
	WIRE_ECKSUM = -3,   /* checksum does not verify */
	WIRE_EVERSION = -4, /* wrong IP version */
	WIRE_EOPTION = -5,  /* malformed option (length running past the header) */
	WIRE_EUNSUPP = -6,  /* well-formed but not a variant we handle */
	WIRE_EFIELD = -7,   /* a field holds a value the protocol forbids */
};

const char *wire_strerror(int err);

/* --- byte order ------------------------------------------------------- */
static inline uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}
static inline uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}
static inline void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}
static inline void wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* --- Internet checksum (RFC 1071) ------------------------------------- */
/* Accumulate a 32-bit partial sum of len bytes (any alignment, odd len ok;
 * an odd-length block is padded with a zero byte, so only the last block of
 * a sum may have odd length). */
uint32_t cksum_partial(const void *data, size_t len, uint32_t sum);
/* Fold a partial sum to 16 bits and complement it: the value to store. */
uint16_t cksum_finish(uint32_t sum);
/* Partial sum of the IPv4 pseudo-header (RFC 768/9293). */
uint32_t cksum_pseudo4(uint32_t src, uint32_t dst, uint8_t proto, uint32_t len);
/* Partial sum of the IPv6 pseudo-header (RFC 8200 8.1). */
uint32_t cksum_pseudo6(const uint8_t src[16], const uint8_t dst[16],
		       uint8_t next, uint32_t len);
/* RFC 1624 eqn. 3: new checksum after a 16-bit field changes old -> new. */
uint16_t cksum_update16(uint16_t cksum, uint16_t old, uint16_t new_);

/* --- Ethernet II ------------------------------------------------------ */
#define ETH_ALEN 6
#define ETH_HLEN 14
#define ETH_MIN_FRAME 60 /* without FCS */
#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_ARP 0x0806
#define ETHERTYPE_IPV6 0x86dd
#define ETHERTYPE_VLAN 0x8100

struct eth_repr {
	uint8_t dst[ETH_ALEN];
	uint8_t src[ETH_ALEN];
	uint16_t ethertype;
};
int eth_parse(const uint8_t *buf, size_t len, struct eth_repr *r);
void eth_emit(const struct eth_repr *r, uint8_t *buf); /* ETH_HLEN bytes */
static inline bool eth_is_broadcast(const uint8_t *a)
{
	return (a[0] & a[1] & a[2] & a[3] & a[4] & a[5]) == 0xff;
}
static inline bool eth_is_multicast(const uint8_t *a)
{
	return (a[0] & 1) != 0; /* includes broadcast */
}

/* --- ARP for IPv4 over Ethernet (RFC 826) ------------------------------ */
#define ARP_LEN 28
#define ARP_OP_REQUEST 1
#define ARP_OP_REPLY 2
struct arp_repr {
	uint16_t op;
	uint8_t sha[ETH_ALEN];
	uint32_t spa;
	uint8_t tha[ETH_ALEN];
	uint32_t tpa;
};
/* Accepts only htype 1 (Ethernet), ptype 0x0800, hlen 6, plen 4 (else
 * WIRE_EUNSUPP); op must be request or reply (else WIRE_EFIELD). Trailing
 * bytes (Ethernet padding) are ignored. */
int arp_parse(const uint8_t *buf, size_t len, struct arp_repr *r);
void arp_emit(const struct arp_repr *r, uint8_t *buf); /* ARP_LEN bytes */

/* --- IPv4 (RFC 791) --------------------------------------------------- */
#define IPV4_HLEN 20
#define IPV4_MAX_HLEN 60
#define IPPROTO_ICMP_ 1
#define IPPROTO_TCP_ 6
#define IPPROTO_UDP_ 17
#define IPV4_FLAG_DF 0x4000
#define IPV4_FLAG_MF 0x2000
#define IPV4_OFFMASK 0x1fff
struct ipv4_repr {
	uint8_t hlen;       /* header length in bytes, 20..60 */
	uint8_t tos;        /* DSCP + ECN */
	uint16_t total_len; /* header + payload */
	uint16_t id;
	bool df, mf;
	uint16_t frag_off; /* in bytes (field * 8) */
	uint8_t ttl;
	uint8_t proto;
	uint32_t src, dst;
};
/* Checks: len >= 20, version 4, IHL >= 5, hlen <= total_len <= len, and the
 * header checksum when verify_cksum. Bytes past total_len (Ethernet padding)
 * are not an error: the caller trims to total_len. */
int ipv4_parse(const uint8_t *buf, size_t len, struct ipv4_repr *r,
	       bool verify_cksum);
/* Writes a 20-byte header (r->hlen is taken as 20) with a fresh checksum. */
void ipv4_emit(const struct ipv4_repr *r, uint8_t *buf);
/* Decrement the TTL of a valid header in place, updating the checksum
 * incrementally (RFC 1624). */
void ipv4_dec_ttl(uint8_t *hdr);

/* --- ICMPv4 (RFC 792) ------------------------------------------------- */
#define ICMP_HLEN 8
#define ICMP_ECHOREPLY 0
#define ICMP_UNREACH 3
#define ICMP_UNREACH_NET 0
#define ICMP_UNREACH_HOST 1
#define ICMP_UNREACH_PROTO 2
#define ICMP_UNREACH_PORT 3
#define ICMP_UNREACH_NEEDFRAG 4
#define ICMP_UNREACH_FILTER 13
#define ICMP_REDIRECT 5
#define ICMP_ECHO 8
#define ICMP_TIMXCEED 11
#define ICMP_TIMXCEED_INTRANS 0
#define ICMP_TIMXCEED_REASS 1
#define ICMP_PARAMPROB 12
struct icmp4_repr {
	uint8_t type, code;
	uint16_t cksum;
	/* The 4 bytes after the checksum, by type: echo ident/seq; unreach
	 * needfrag next-hop MTU (low 16 bits); parameter problem pointer. */
	uint16_t ident, seq; /* echo / echo reply */
	uint16_t mtu;        /* ICMP_UNREACH_NEEDFRAG */
	uint32_t rest;       /* raw 4 bytes, always filled */
	const uint8_t *payload; /* points into buf */
	size_t payload_len;
};
/* Checks len >= 8 and the checksum over the whole message when verify. */
int icmp4_parse(const uint8_t *buf, size_t len, struct icmp4_repr *r,
		bool verify_cksum);
/* Writes the 8-byte header; payload_len bytes of payload must already follow
 * it in buf (at buf + 8); computes the checksum over header + payload. The
 * header's 4 rest bytes come from ident/seq for echo types, from mtu for
 * needfrag, else from rest. */
void icmp4_emit(const struct icmp4_repr *r, uint8_t *buf, size_t payload_len);

/* --- UDP (RFC 768) ---------------------------------------------------- */
#define UDP_HLEN 8
struct udp_repr {
	uint16_t sport, dport;
	uint16_t len; /* header + payload, from the header */
	uint16_t cksum;
};
/* Checks len >= 8, 8 <= length field <= len. When verify_cksum and the
 * checksum field is non-zero, verifies it against the IPv4 pseudo-header of
 * src/dst (host order). A zero checksum means "none" in IPv4 and passes. */
int udp4_parse(const uint8_t *buf, size_t len, struct udp_repr *r,
	       uint32_t src, uint32_t dst, bool verify_cksum);
/* Writes the header for payload_len bytes of payload already at buf + 8, and
 * its checksum (a computed 0 is sent as 0xffff) when with_cksum, else 0. */
void udp4_emit(const struct udp_repr *r, uint8_t *buf, size_t payload_len,
	       uint32_t src, uint32_t dst, bool with_cksum);

/* --- TCP (RFC 9293; options RFC 7323, RFC 2018) ------------------------ */
#define TCP_HLEN 20
#define TCP_MAX_HLEN 60
#define TCPF_FIN 0x01
#define TCPF_SYN 0x02
#define TCPF_RST 0x04
#define TCPF_PSH 0x08
#define TCPF_ACK 0x10
#define TCPF_URG 0x20
#define TCPF_ECE 0x40
#define TCPF_CWR 0x80
#define TCPOPT_EOL 0
#define TCPOPT_NOP 1
#define TCPOPT_MSS 2
#define TCPOPT_WSCALE 3
#define TCPOPT_SACK_PERM 4
#define TCPOPT_SACK 5
#define TCPOPT_TIMESTAMP 8
#define TCP_MAX_WSCALE 14
#define TCP_MAX_SACK 4 /* blocks that fit in 40 option bytes */

/* Which options a parsed or to-be-emitted header carries. */
#define TCPO_MSS 0x1
#define TCPO_WSCALE 0x2
#define TCPO_SACK_PERM 0x4
#define TCPO_SACK 0x8
#define TCPO_TS 0x10

struct tcp_sack_block {
	uint32_t start, end; /* [start, end) in sequence space */
};

struct tcp_repr {
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t doff;  /* header length in bytes, 20..60 */
	uint8_t flags; /* TCPF_* (the 8 flag bits) */
	uint16_t win;  /* raw, unscaled */
	uint16_t cksum;
	uint16_t urp;
	/* Options: opts says which are present. */
	uint8_t opts;
	uint8_t wscale;  /* as received; the caller clamps > 14 (RFC 7323) */
	uint16_t mss;
	uint32_t tsval, tsecr;
	uint8_t nsack;
	struct tcp_sack_block sack[TCP_MAX_SACK];
	/* Payload: points into the parsed buffer. */
	const uint8_t *payload;
	size_t payload_len;
};
/* Parses the segment in buf[0..len) (len = the IP payload length). Checks
 * len >= 20, 20 <= data offset <= len, the checksum against the IPv4
 * pseudo-header of src/dst (host order) when verify_cksum, and every
 * option: an option whose length is < 2 or runs past the header, or a
 * known option with the wrong length, is WIRE_EOPTION. Unknown options are
 * skipped. More than TCP_MAX_SACK SACK blocks is WIRE_EOPTION. Options in
 * a SYN-only option (MSS, WSCALE, SACK_PERM) are reported whatever the
 * flags; the state machine decides what to honour. */
int tcp4_parse(const uint8_t *buf, size_t len, struct tcp_repr *r,
	       uint32_t src, uint32_t dst, bool verify_cksum);
/* Bytes of options tcp_emit will write for r (padded to 4). */
size_t tcp_opts_len(const struct tcp_repr *r);
/* Writes the header (TCP_HLEN + tcp_opts_len(r) bytes; r->doff ignored)
 * at buf, with payload_len bytes of payload already following it. When
 * with_cksum, computes the checksum over header + payload with the IPv4
 * pseudo-header; else leaves 0 (in-world offload, filled in later by
 * tcp4_fill_cksum). Returns the header length. Layout of options is
 * Linux's: MSS, then SACK_PERM+TS as "NOP NOP TS" or "SACKOK TS", NOP+WS,
 * and "NOP NOP SACK" blocks. */
size_t tcp4_emit(const struct tcp_repr *r, uint8_t *buf, size_t payload_len,
		 uint32_t src, uint32_t dst, bool with_cksum);
/* Compute and store the checksum of a whole TCP segment (header+payload,
 * len bytes) in place. */
void tcp4_fill_cksum(uint8_t *seg, size_t len, uint32_t src, uint32_t dst);

/* --- pcap (the classic libpcap file format, microsecond or nanosecond) -- */
#define PCAP_FILE_HLEN 24
#define PCAP_REC_HLEN 16
#define PCAP_LINKTYPE_ETHERNET 1
#define PCAP_LINKTYPE_RAW 101 /* raw IPv4/IPv6, for lo0 and tunnels */
/* Nanosecond-resolution magic 0xa1b23c4d, written in little-endian. */
void pcap_file_header_emit(uint8_t buf[PCAP_FILE_HLEN], uint32_t snaplen,
			   uint32_t linktype);
void pcap_record_header_emit(uint8_t buf[PCAP_REC_HLEN], uint64_t ts_ns,
			     uint32_t caplen, uint32_t origlen);

#endif
