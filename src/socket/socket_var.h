/* SPDX-License-Identifier: BSD-2-Clause */
/* The socket layer (internal): struct vsocket and the protocol switch. */
#ifndef VIMAGE_SOCKET_VAR_H
#define VIMAGE_SOCKET_VAR_H

#include "core/kern.h"
#include "vimage/socket.h"

struct vsocket;
struct ip_route;

/* What a protocol implements for the socket layer. Addresses arrive already
 * validated and converted (struct vaddr, host-order port). */
struct vproto {
	/* Matching as Linux's inetsw: socket(..., 0) takes the first entry
	 * of its type; an entry with protocol 0 is a wildcard for any
	 * protocol except 0 itself (SOCK_RAW). */
	int type, protocol;
	int (*attach)(struct vsocket *so);
	void (*detach)(struct vsocket *so); /* unhook from protocol tables */
	int (*bind)(struct vsocket *so, const struct vaddr *a, uint16_t port);
	int (*connect)(struct vsocket *so, const struct vaddr *a,
		       uint16_t port);
	int (*disconnect)(struct vsocket *so);
	/* dst NULL: the connected peer (-EDESTADDRREQ when none). */
	ssize_t (*send)(struct vsocket *so, const void *buf, size_t len,
			int flags, const struct vaddr *dst, uint16_t port);
	/* Stream protocols (NULL for datagram ones). */
	int (*listen)(struct vsocket *so, int backlog);
	/* Attach a completed connection to the new socket nso. */
	int (*accept)(struct vsocket *so, struct vsocket *nso);
	ssize_t (*recv)(struct vsocket *so, void *buf, size_t len, int flags);
	/* vsock_send_reserve / vsock_send_commit. */
	ssize_t (*send_reserve)(struct vsocket *so, size_t len,
				struct vsock_sendbuf *sb);
	ssize_t (*send_commit)(struct vsocket *so, struct vsock_sendbuf *sb,
			       size_t used);
	/* iovecs over the first len queued bytes (vsock_peek_iov). */
	int (*peek_iov)(struct vsocket *so, struct iovec *iov, int n,
			size_t len);
	int (*shutdown)(struct vsocket *so, int how);
	unsigned (*poll)(struct vsocket *so);
	/* Protocol-level options (IPPROTO_TCP); also told of SOL_SOCKET
	 * changes after the socket layer applied them (return ignored). */
	int (*setsockopt)(struct vsocket *so, int level, int name,
			  const void *val, socklen_t len);
	int (*getsockopt)(struct vsocket *so, int level, int name, void *val,
			  socklen_t *len);
	/* FIONREAD/SIOCINQ and SIOCOUTQ/SIOCOUTQNSD byte counts. */
	int (*ioctl)(struct vsocket *so, unsigned long req, int *val);
};

/* Per-datagram metadata kept in pkt->cb while queued on a socket. */
struct dgram_cb {
	struct vaddr from;
	uint16_t port;
	uint32_t ifindex;
	uint8_t ttl, tos;
};

/* An IP_RECVERR error queue entry: the pkt holds the quoted payload. */
struct err_cb {
	int32_t err; /* positive errno */
	uint8_t type, code, ttl;
	uint32_t info;	    /* next-hop MTU for needfrag */
	uint32_t offender;  /* the ICMP message's source */
	uint32_t dst;	    /* the quoted packet's destination */
	uint16_t dport;
};
/* What an ICMP error said, for the transports' error queues. */
struct icmp_ee {
	uint8_t type, code, ttl;
	uint32_t info, offender;
};
/* Queue an error (IP_RECVERR) with len bytes of the quoted packet. */
void so_queue_err(struct vsocket *so, int err, const struct icmp_ee *ee,
		  uint32_t dst, uint16_t dport, const uint8_t *quote,
		  size_t len);

#define SOF_REUSEADDR 0x1
#define SOF_BROADCAST 0x2
#define SOF_REUSEPORT 0x4
#define SOF_KEEPALIVE 0x8
#define SOF_DONTROUTE 0x10
#define SOF_LISTENING 0x20

struct vsocket {
	struct list link;      /* all sockets of the vimage */
	struct list plink;     /* protocol list (raw, ping) */
	struct vsocket *pnext; /* protocol hash chain (udp ports) */
	struct vimage *vi;
	const struct vproto *proto;
	int domain, type, protocol;
	uint32_t options; /* SOF_* */
	int error;	  /* pending SO_ERROR (negative errno) */
	bool bound, connected, shut_rd, shut_wr, hdrincl;
	/* Chosen by the user's bind (Linux's SOCK_BINDADDR/BINDPORT_LOCK):
	 * a datagram disconnect keeps them and releases the rest. */
	bool addr_locked, port_locked;
	struct vaddr laddr, faddr;
	uint16_t lport, fport;
	struct pktq rcvq;
	struct pktq errq; /* IP_RECVERR: ICMP errors (struct err_cb) */
	bool recverr;
	uint32_t rcvbuf, sndbuf;
	uint8_t ttl; /* 0: default */
	uint8_t tos;
	uint8_t pmtudisc; /* IP_MTU_DISCOVER: stored, DF not yet per socket */
	uint8_t mc_ttl;	  /* IP_MULTICAST_TTL (no multicast yet: stored) */
	bool mc_noloop;	  /* !IP_MULTICAST_LOOP */
	uint32_t icmp_filter; /* ICMP_FILTER: bit n drops type n */
	/* SO_BINDTODEVICE as an index, not a pointer: the interface may be
	 * destroyed or moved away while the socket lives (0: none). */
	uint32_t bound_ifindex;
	uint64_t rcvtimeo_ns, sndtimeo_ns; /* stored for the daemon */
	int32_t linger_s;	/* SO_LINGER: -1 off, else seconds */
	uint32_t rcvlowat;	/* SO_RCVLOWAT (stream) */
	void *pcb;		/* the protocol's connection (TCP) */
	void (*notify)(void *ctx, struct vsocket *so, unsigned events);
	void *notify_ctx;
};

struct socket_state {
	struct list socks;
	uint32_t count;
};
static inline struct socket_state *vimage_socket(const struct vimage *vi)
{
	return vimage_state(vi, VMOD_SOCKET);
}
extern const struct vmodule socket_module;

_Static_assert(sizeof(struct err_cb) <= sizeof(((struct pkt *)0)->cb),
	       "err_cb does not fit");
_Static_assert(sizeof(struct dgram_cb) <= sizeof(((struct pkt *)0)->cb),
	       "dgram_cb must fit in pkt->cb");

/* Queue a received datagram on so (cb filled by the caller). Returns false
 * (p not consumed) when the receive buffer is full. */
bool so_enqueue_dgram(struct vsocket *so, struct pkt *p);
/* Is a (host order) a broadcast destination in vi: the limited broadcast
 * or a directed broadcast of one of its subnets? */
bool so_addr_is_bcast(struct vimage *vi, uint32_t a);
/* May a socket bind to a: 0.0.0.0, a local address, a broadcast or a
 * multicast address (Linux's inet_addr_valid_or_nonlocal). */
bool so_addr_bindable(struct vimage *vi, uint32_t a);
/* The interface of SO_BINDTODEVICE: NULL when none; -ENODEV in *err when
 * the interface has gone. */
struct ifnet *so_bound_ifp(const struct vsocket *so, int *err);
/* Route a datagram from so to dst, once per send or connect: through the
 * bound device if any, from the bound address if it is a local unicast one
 * (else the route's source), refusing a broadcast without SO_BROADCAST
 * (-EACCES). 0 or negative errno; the result goes to ip_output as o.rt. */
int so_route(struct vsocket *so, uint32_t dst, struct ip_route *rt);
/* Does so accept a packet received on ifindex (SO_BINDTODEVICE)? */
static inline bool so_dev_ok(const struct vsocket *so, uint32_t ifindex)
{
	return !so->bound_ifindex || so->bound_ifindex == ifindex;
}
/* Tell the owner that readiness may have changed. The callback runs in the
 * middle of packet processing: it must not close the socket (defer that). */
void so_wakeup(struct vsocket *so);
/* Record an asynchronous error (ICMP) and wake. */
void so_set_error(struct vsocket *so, int err);

extern const struct vproto udp_proto;
extern const struct vproto raw_proto;
extern const struct vproto ping_proto;
extern const struct vproto tcp_proto;

/* Copy an option value out as Linux does: truncated to *len, *len set to
 * what was copied. */
int so_put_opt(void *val, socklen_t *len, const void *v, size_t vlen);
/* An int option value in (Linux takes >= sizeof(int)). */
int so_get_int_opt(const void *val, socklen_t len, int *v);

#endif
