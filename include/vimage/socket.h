/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The in-process socket API: BSD sockets with the vimage explicit.
 *
 * Constants and address structures are the host's (AF_INET, SOCK_DGRAM,
 * struct sockaddr_in, SOL_SOCKET, SO_REUSEADDR, IP_TTL, ...), so a socket
 * call can be forwarded from a real program unchanged. Every call is
 * non-blocking: where a Linux socket would block, -EAGAIN is returned and the
 * readiness callback fires when the condition may have changed. Errors are
 * the negative errno Linux gives in the same situation.
 *
 * Supported now: AF_INET SOCK_STREAM (TCP), SOCK_DGRAM (UDP), SOCK_RAW (any
 * protocol; IP header included on receive, IP_HDRINCL on send), and
 * SOCK_DGRAM IPPROTO_ICMP ("ping sockets": the echo identifier is the
 * socket's local port).
 *
 * Stream sockets: connect returns -EINPROGRESS and completes in the
 * background (POLLOUT, then SO_ERROR says how it went); send accepts what
 * fits in the send buffer (-EAGAIN when nothing does); recv with
 * MSG_WAITALL returns -EAGAIN until the whole length, end of stream or an
 * error is there; close lets the connection finish sending (or resets it
 * under SO_LINGER with a zero timeout) without blocking.
 */
#ifndef VIMAGE_SOCKET_H
#define VIMAGE_SOCKET_H

#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "vimage.h"

struct vsocket;

int vsock_socket(struct vimage *vi, int domain, int type, int protocol,
		 struct vsocket **out);
/* Closing aborts whatever is pending and frees the socket. */
int vsock_close(struct vsocket *so);
int vsock_bind(struct vsocket *so, const struct sockaddr *addr, socklen_t len);
/* Datagram connect sets the default peer; AF_UNSPEC dissolves it. */
int vsock_connect(struct vsocket *so, const struct sockaddr *addr,
		  socklen_t len);
ssize_t vsock_sendto(struct vsocket *so, const void *buf, size_t len,
		     int flags, const struct sockaddr *to, socklen_t tolen);
/* MSG_PEEK and MSG_TRUNC as Linux; *fromlen in/out as recvfrom(2). */
ssize_t vsock_recvfrom(struct vsocket *so, void *buf, size_t len, int flags,
		       struct sockaddr *from, socklen_t *fromlen);
/* What IP said about the next queued datagram (for IP_TTL, IP_TOS and
 * IP_PKTINFO ancillary data): -EAGAIN when none is queued, -EOPNOTSUPP
 * on a stream socket. */
struct vsock_dgram_meta {
	uint8_t ttl, tos;
	uint32_t ifindex;
};
int vsock_dgram_meta(struct vsocket *so, struct vsock_dgram_meta *m);
/* A stream socket's send without a copy: vsock_send_reserve offers buffers
 * for up to len more bytes of the send queue (no more than the send space)
 * as sb->iov[0..sb->n); the caller fills them (a readv, say) and then must
 * call vsock_send_commit with how many bytes it wrote, which queues that
 * many (0 gives the buffers back) and sends. Nothing else may call into the
 * stack in between. reserve returns the bytes offered, 0 when the queue is
 * full, or the error a send would give (-EPIPE, -EAGAIN while connecting,
 * a pending error). */
#define VSOCK_SENDBUF_MAX 192
struct vsock_sendbuf {
	int n;
	bool tail; /* iov[0] is room in the queue's last segment */
	struct iovec iov[VSOCK_SENDBUF_MAX];
	void *buf[VSOCK_SENDBUF_MAX]; /* the stack's own */
};
ssize_t vsock_send_reserve(struct vsocket *so, size_t len,
			   struct vsock_sendbuf *sb);
ssize_t vsock_send_commit(struct vsocket *so, struct vsock_sendbuf *sb,
			  size_t used);
/* A stream socket's queued bytes without a copy: fills at most n iovecs
 * over at most len bytes at the head of the receive queue and returns how
 * many it filled (0: nothing queued; -EOPNOTSUPP for datagrams). They stay
 * valid until the next call into the stack; consume what was used with
 * vsock_recvfrom(..., MSG_TRUNC). */
struct iovec;
int vsock_peek_iov(struct vsocket *so, struct iovec *iov, int n, size_t len);
/* IP_RECVERR: the oldest queued ICMP error, as recvmsg(MSG_ERRQUEUE)
 * gives it (sock_extended_err with SO_EE_ORIGIN_ICMP): the quoted bytes in
 * buf, the rest in *ee. -EAGAIN when the queue is empty. */
struct vsock_ee {
	int err; /* positive errno */
	uint8_t type, code, ttl;
	uint32_t info;
	struct sockaddr_in offender; /* who sent the ICMP error */
	struct sockaddr_in dst;	     /* where the quoted packet went */
};
ssize_t vsock_recv_err(struct vsocket *so, void *buf, size_t len,
		       struct vsock_ee *ee);
int vsock_getsockname(struct vsocket *so, struct sockaddr *addr,
		      socklen_t *len);
int vsock_getpeername(struct vsocket *so, struct sockaddr *addr,
		      socklen_t *len);
int vsock_setsockopt(struct vsocket *so, int level, int name, const void *val,
		     socklen_t len);
int vsock_getsockopt(struct vsocket *so, int level, int name, void *val,
		     socklen_t *len);
int vsock_shutdown(struct vsocket *so, int how);
/* Stream sockets: listen with a backlog (clamped to 1..65535 as Linux's
 * somaxconn would); accept a completed connection as a new socket (the
 * peer's address in addr as accept(2)), -EAGAIN when none is queued. */
int vsock_listen(struct vsocket *so, int backlog);
int vsock_accept(struct vsocket *so, struct vsocket **out,
		 struct sockaddr *addr, socklen_t *addrlen);
/* What a stream socket's send would take now (ours, not Linux's: a
 * process-private ioctl number). */
#define VSIOCSNDSPACE 0x89E0 /* SIOCPROTOPRIVATE */
/* FIONREAD (SIOCINQ), SIOCOUTQ, SIOCOUTQNSD and VSIOCSNDSPACE: a byte
 * count in *val. */
int vsock_ioctl(struct vsocket *so, unsigned long req, int *val);
/* What Linux's /proc/net/tcp shows of a TCP socket (read-only): its state
 * in Linux's numbering (1 ESTABLISHED .. 10 LISTEN, 7 CLOSE), both
 * addresses (the peer's from connect on, SYN_SENT included; zero when
 * none) and the queue columns: rx_queue the bytes received and not read,
 * or for a listener the connections waiting in accept; tx_queue the bytes
 * sent and not acknowledged (0 for a listener), backlog a listener's
 * limit. -EOPNOTSUPP when so is not a TCP socket. */
struct vsock_tcp_view {
	uint8_t state;
	struct sockaddr_in local, remote;
	uint32_t rx_queue, tx_queue, backlog;
};
int vsock_tcp_view(struct vsocket *so, struct vsock_tcp_view *v);
/* Current readiness: POLLIN, POLLOUT, POLLERR, POLLHUP bits. */
unsigned vsock_poll(struct vsocket *so);
/* fn(ctx, so, events) is called when readiness may have changed. */
void vsock_set_notify(struct vsocket *so,
		      void (*fn)(void *ctx, struct vsocket *so, unsigned events),
		      void *ctx);
struct vimage *vsock_vimage(const struct vsocket *so);
/* The number of open sockets of a vimage (for statistics). */
unsigned vsock_count(const struct vimage *vi);

#endif
