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
 * Supported now: AF_INET SOCK_DGRAM (UDP), SOCK_RAW (any protocol; IP header
 * included on receive, IP_HDRINCL on send), and SOCK_DGRAM IPPROTO_ICMP
 * ("ping sockets": the echo identifier is the socket's local port).
 */
#ifndef VIMAGE_SOCKET_H
#define VIMAGE_SOCKET_H

#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

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
int vsock_getsockname(struct vsocket *so, struct sockaddr *addr,
		      socklen_t *len);
int vsock_getpeername(struct vsocket *so, struct sockaddr *addr,
		      socklen_t *len);
int vsock_setsockopt(struct vsocket *so, int level, int name, const void *val,
		     socklen_t len);
int vsock_getsockopt(struct vsocket *so, int level, int name, void *val,
		     socklen_t *len);
int vsock_shutdown(struct vsocket *so, int how);
/* Current readiness: POLLIN, POLLOUT, POLLERR, POLLHUP bits. */
unsigned vsock_poll(struct vsocket *so);
/* fn(ctx, so, events) is called when readiness may have changed. */
void vsock_set_notify(struct vsocket *so,
		      void (*fn)(void *ctx, struct vsocket *so, unsigned events),
		      void *ctx);
struct vimage *vsock_vimage(const struct vsocket *so);

#endif
