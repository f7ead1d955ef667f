/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * IPv4 protocol modules: per-instance state and the interfaces between them
 * (internal). Each module's state lives in the vimage block and is reached
 * through its accessor: struct ip_state *ip = vimage_ip(vi);
 */
#ifndef VIMAGE_INET_H
#define VIMAGE_INET_H

#include "core/kern.h"
#include "net/if_var.h"
#include "route/fib.h"
#include "wire/wire.h"

#define INADDR_BCAST_H 0xffffffffu
#define IN_LOOPBACK_H(a) (((a) >> 24) == 127)
#define IN_MULTICAST_H(a) (((a) >> 28) == 0xe)
#define IN_ZERONET_H(a) (((a) >> 24) == 0)

/* ---- ARP (arp.c) ---------------------------------------------------------- */
struct neigh {
	struct neigh *hnext;
	struct ifnet *ifp;
	uint32_t ip; /* host order */
	uint8_t mac[6];
	uint8_t state; /* enum vneigh_state */
	uint8_t tries;
	uint64_t expires; /* ns; 0 for permanent */
	struct timer timer;
	struct pktq hold; /* awaiting resolution */
	struct vimage *vi;
};

struct arp_stats {
	uint64_t rx_requests, rx_replies, tx_requests, tx_replies;
	uint64_t rx_bad, rx_bogus_source, dropped_unresolved, hold_overflow;
	uint64_t resolved, timeouts, gratuitous_sent;
};

struct arp_state {
	struct neigh **tab;
	uint32_t cap, count;
	int64_t keep_s;      /* lifetime of a resolved entry */
	int64_t retrans_ms;  /* interval between requests */
	int64_t maxtries;    /* requests before giving up */
	int64_t maxhold;     /* packets held per unresolved entry */
	int64_t down_s;      /* how long a failed entry holds off new requests */
	struct arp_stats st;
};
static inline struct arp_state *vimage_arp(const struct vimage *vi)
{
	return vimage_state(vi, VMOD_ARP);
}
extern const struct vmodule arp_module;
void arp_input(struct ifnet *ifp, struct pkt *p);
/* Send IPv4 packet p (starting at the IP header) to next hop nh (host order)
 * out of Ethernet interface ifp: resolves, holds, or drops. Consumes p. */
void arp_output(struct ifnet *ifp, struct pkt *p, uint32_t nh);
void arp_announce(struct ifnet *ifp, uint32_t addr);
void arp_flush_ifp(struct vimage *vi, struct ifnet *ifp);

/* ---- IPv4 (ip_input.c, ip_output.c, ip_frag.c) ------------------------ */
struct ip_stats {
	uint64_t total, badsum, tooshort, toosmall, badhlen, badlen, badvers;
	uint64_t badoptions, fragments, fragdropped, fragtimeout, reassembled;
	uint64_t delivered, forward, cantforward, noroute, localout, odropped;
	uint64_t fragmented, ofragments, cantfrag, noproto, ttl_exceeded;
	uint64_t martians, blackholed, unreachable_rt, prohibited_rt;
};

struct reass_queue; /* ip_frag.c */

struct ip_state {
	int64_t forwarding;  /* net.inet.ip.forwarding, 0 on a host */
	int64_t default_ttl; /* net.inet.ip.ttl */
	int64_t frag_maxbytes; /* net.inet.ip.maxfragbytes: reassembly memory */
	int64_t frag_timeout_s;
	int64_t frag_maxqueues;
	uint16_t next_id;
	struct list reass; /* reassembly queues, oldest first */
	uint64_t reass_bytes;
	uint32_t reass_count;
	struct ip_stats st;
};
static inline struct ip_state *vimage_ip(const struct vimage *vi)
{
	return vimage_state(vi, VMOD_IP);
}
extern const struct vmodule ip_module;

/* IPv4 input from an interface: p->data at the IP header. Consumes p. */
void ip_input(struct ifnet *ifp, struct pkt *p);

/* Where a locally sent datagram goes, resolved once per send. */
struct ip_route {
	struct ifnet *ifp;
	uint32_t nh;  /* next hop; INADDR_BCAST_H for any broadcast */
	uint32_t src; /* the source the route implies; never 0 on success */
	uint32_t mtu;
	bool bcast;   /* the destination is a (limited or directed) broadcast */
};
/* Resolve dst (host order), through `force` when SO_BINDTODEVICE says so.
 * 0, or -ENETUNREACH, -EHOSTUNREACH, -EACCES (prohibit), -EINVAL
 * (blackhole), -EADDRNOTAVAIL (no address to send from). */
int ip_route_out(struct vimage *vi, uint32_t dst, struct ifnet *force,
		 struct ip_route *rt);

struct ip_out {
	const struct ip_route *rt; /* already resolved, or NULL */
	uint32_t src; /* 0: the route's */
	uint32_t dst;
	uint8_t proto;
	uint8_t ttl; /* 0: default */
	uint8_t tos;
	bool df;
	bool hdrincl; /* p already holds an IP header (raw IP_HDRINCL) */
	bool bcast_ok; /* SO_BROADCAST */
	struct ifnet *ifp; /* force the interface (broadcast, SO_BINDTODEVICE) */
};
/* Send p (data = transport header, or IP header with hdrincl). Consumes p.
 * Returns 0 or -ENETUNREACH, -EHOSTUNREACH, -EACCES, -EMSGSIZE, -ENOBUFS. */
int ip_output(struct vimage *vi, struct pkt *p, const struct ip_out *o);
/* Transmit a complete IPv4 packet towards next hop nh out of ifp, fragmenting
 * as needed (unless DF: -EMSGSIZE). Consumes p. */
int ip_output_ifp(struct vimage *vi, struct ifnet *ifp, struct pkt *p,
		  uint32_t nh, uint32_t mtu);
/* Fragment p (a whole IPv4 packet, header valid, DF clear) for mtu and
 * transmit each fragment with ip_xmit_one. Consumes p. */
int ip_fragment(struct vimage *vi, struct ifnet *ifp, struct pkt *p,
		uint32_t nh, uint32_t mtu);
/* Fill in the transport checksum left out inside the world
 * (PKT_CSUM_NONE) of the IPv4 packet in buf[0..len): TCP only, the one
 * protocol that offloads it. Leaves anything else alone. */
void ip_csum_fill(uint8_t *buf, size_t len);
/* The same for an Ethernet frame carrying IPv4. */
void ether_csum_fill(uint8_t *frame, size_t len);
/* Hand one finished IPv4 packet to the link layer; nh INADDR_BCAST_H means
 * the link broadcast. Consumes p. */
void ip_xmit_one(struct ifnet *ifp, struct pkt *p, uint32_t nh);
/* Reassembly: p is a fragment (header parsed into *ip). Returns the whole
 * datagram (header rewritten: no MF, offset 0, new total length) when the
 * last piece arrived, else NULL (p kept or dropped). */
struct pkt *ip_reass(struct vimage *vi, struct pkt *p, const struct ipv4_repr *ip);
void ip_reass_flush(struct vimage *vi);
/* Local delivery of a complete datagram (after reassembly). */
void ip_deliver(struct vimage *vi, struct ifnet *ifp, struct pkt *p,
		const struct ipv4_repr *ip);

/* ---- ICMP (icmp.c) -------------------------------------------------------- */
struct icmp_stats {
	uint64_t in_msgs, in_errors, in_echos, in_echo_replies, in_unreach,
		in_timxceed, out_msgs, out_echo_replies, out_unreach,
		out_timxceed, ratelimited, badcode, badlen, badsum;
};
struct icmp_state {
	int64_t ratelimit;     /* errors per second (token bucket), 0: off */
	int64_t ratelimit_burst;
	int64_t echo_ignore_all;
	int64_t echo_ignore_broadcasts;
	uint64_t tokens_ns; /* bucket level expressed as time credit */
	uint64_t last_ns;
	struct icmp_stats st;
};
static inline struct icmp_state *vimage_icmp(const struct vimage *vi)
{
	return vimage_state(vi, VMOD_ICMP);
}
extern const struct vmodule icmp_module;
void icmp_input(struct vimage *vi, struct ifnet *ifp, struct pkt *p,
		const struct ipv4_repr *ip);
/* Send an ICMP error about offending packet p (data at its IP header).
 * Does not consume p. Applies RFC 1812 4.3.2.7 and the rate limit. */
void icmp_error(struct vimage *vi, const struct pkt *p, uint8_t type,
		uint8_t code, uint16_t mtu);

/* ---- ephemeral ports (in.c) ------------------------------------------------
 * RFC 6056 algorithm 3: offset = F(laddr, faddr, fport, key), then try
 * lo + (offset + *counter + i) % num, moving the counter past every port
 * tried plus a random step below `step` (algorithm 5), so that successive
 * choices are not consecutive. busy(ctx, port) says whether a port is
 * taken. 0 and the port in *out, or -1 when the range is used up. */
struct ephemeral_pick {
	int64_t lo, hi;   /* the range, either order */
	uint64_t key;     /* the vimage's secret */
	uint32_t *counter;
	uint32_t step;
	bool (*busy)(void *ctx, uint16_t port);
	void *ctx;
};
int inet_pick_port(struct rng *rng, const struct ephemeral_pick *ep,
		   uint32_t laddr, uint32_t faddr, uint16_t fport,
		   uint16_t *out);

/* ---- UDP (udp.c) and raw/ping sockets (raw.c) --------------------------- */
struct udp_stats {
	uint64_t in_datagrams, no_ports, in_errors, badsum, badlen,
		rcvbuf_errors, out_datagrams, bcast_delivered;
};
struct vsocket;
struct udp_state {
	struct vsocket **ports; /* hash by local port, chains via so->pnext */
	uint32_t cap, count;
	int64_t port_lo, port_hi; /* ephemeral range */
	uint64_t port_key;        /* secret for RFC 6056 selection */
	struct udp_stats st;
};
static inline struct udp_state *vimage_udp(const struct vimage *vi)
{
	return vimage_state(vi, VMOD_UDP);
}
extern const struct vmodule udp_module;
void udp_input(struct vimage *vi, struct ifnet *ifp, struct pkt *p,
	       const struct ipv4_repr *ip);
/* An ICMP error arrived about a datagram we sent (inner headers given). */
struct icmp_ee;
void udp_ctlinput(struct vimage *vi, int err, const struct icmp_ee *ee,
		  const struct ipv4_repr *inner, const uint8_t *l4,
		  size_t l4len);
/* The same for raw and ping sockets (an ICMP error quoting our ICMP or
 * another protocol raw sockets handle). */
void raw_ctlinput(struct vimage *vi, int err, const struct icmp_ee *ee,
		  const struct ipv4_repr *inner, const uint8_t *l4,
		  size_t l4len);

struct raw_stats {
	uint64_t delivered, rcvbuf_errors, ping_in, ping_out;
};
struct raw_state {
	struct list socks; /* SOCK_RAW sockets */
	struct list pings; /* SOCK_DGRAM/IPPROTO_ICMP sockets */
	uint32_t nraw, nping;
	int64_t ping_lo, ping_hi; /* net.inet.ip.ping_group_range analogue */
	struct raw_stats st;
};
static inline struct raw_state *vimage_raw(const struct vimage *vi)
{
	return vimage_state(vi, VMOD_RAW);
}
extern const struct vmodule raw_module;
/* Give every matching raw socket a copy of p (data at the IP header). */
void raw_input(struct vimage *vi, const struct pkt *p, const struct ipv4_repr *ip);
/* An echo reply for a ping socket: true if one took it (p not consumed). */
bool ping_input(struct vimage *vi, const struct pkt *p,
		const struct ipv4_repr *ip, const struct icmp4_repr *ic);
bool raw_has_proto(struct vimage *vi, uint8_t proto);

#endif
