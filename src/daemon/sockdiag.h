/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NETLINK_SOCK_DIAG emulation: the inet_diag answers Linux gives to a
 * program that asks about sockets (iproute2's ss), computed from the
 * vimage's sockets. Pure functions over the core's API: no I/O, no
 * globals. The daemon carries the datagrams of the program's
 * NETLINK_SOCK_DIAG socket (protocol 4) here as it carries NETLINK_ROUTE
 * ones to rtnl_request.
 *
 * Handled, as net/core/sock_diag.c, net/ipv4/inet_diag.c, tcp_diag.c,
 * udp_diag.c and raw_diag.c answer them:
 *
 * - SOCK_DIAG_BY_FAMILY with struct inet_diag_req_v2, AF_INET: dumps of
 *   IPPROTO_TCP (listeners first, then the other states; a TCP socket in
 *   CLOSE is in no table and never listed), IPPROTO_UDP and UDPLITE (no
 *   UDP-Lite here: empty) and IPPROTO_RAW (raw sockets of every protocol,
 *   with INET_DIAG_PROTOCOL; like raw_diag, no state filter). The request
 *   attribute INET_DIAG_REQ_PROTOCOL overrides sdiag_protocol. Other
 *   protocols (ICMP, DCCP, SCTP, MPTCP...) have no handler, as on Linux:
 *   the dump is an NLMSG_DONE carrying -ENOENT.
 * - The old TCPDIAG_GETSOCK/DCCPDIAG_GETSOCK with struct inet_diag_req
 *   (dumps are over both families, replies keep the request's type).
 * - Filters as Linux's dumps apply them: the state mask idiag_states, the
 *   family and id.idiag_sport/idiag_dport (a listener only when
 *   TCPF_LISTEN is asked and no dport is given). Linux's dumps ignore the
 *   id's addresses and interface; so do these. The bytecode filter
 *   INET_DIAG_REQ_BYTECODE is NOT run: every socket that passes the
 *   state/port filters is returned (ss re-applies its filter expression to
 *   every answer, so `ss dst 10.0.0.2` still shows what Linux shows).
 * - Requests without NLM_F_DUMP look one socket up by its id (addresses,
 *   ports, and cookie unless INET_DIAG_NOCOOKIE), as inet_diag_cmd_exact:
 *   one message, not multipart, or NLMSG_ERROR -ENOENT.
 * - Each inet_diag_msg carries idiag_state in Linux's numbering, the
 *   addresses and ports in network order, idiag_inode and idiag_uid from
 *   the walk, idiag_cookie the inode (Linux's cookies are opaque unique
 *   numbers too), idiag_rqueue/idiag_wqueue as tcp_diag_get_info (a
 *   listener: connections waiting in accept / its backlog; otherwise bytes
 *   unread / bytes not yet acknowledged) and udp/raw_diag_get_info (bytes
 *   queued), then the attributes inet_sk_diag_fill puts, in its order:
 *   INET_DIAG_SHUTDOWN (derived from the TCP state: a FIN received sets
 *   RCV_SHUTDOWN, one sent SEND_SHUTDOWN; 0 for datagram sockets),
 *   INET_DIAG_TOS and INET_DIAG_CLASS_ID when asked, INET_DIAG_SOCKOPT,
 *   INET_DIAG_MEMINFO and INET_DIAG_SKMEMINFO when asked (byte counts and
 *   the buffer sizes; no truesize accounting here), INET_DIAG_PROTOCOL for
 *   raw sockets, and for TCP INET_DIAG_INFO (struct tcp_info as
 *   getsockopt(TCP_INFO) gives it, Linux 6.1's layout) and INET_DIAG_CONG
 *   ("cubic" or "reno") when asked. Left out as for an unprivileged
 *   caller or a kernel without them: INET_DIAG_MARK, INET_DIAG_CGROUP_ID,
 *   timers (idiag_timer 0) and connections not yet accepted (the stack
 *   keeps them out of the caller's walk).
 * - AF_INET6 dumps are empty (a vimage's AF_INET6 sockets are IPv4 sockets
 *   in the stack and are listed, as in /proc/net/tcp, in the AF_INET
 *   dump); AF_UNIX, AF_PACKET and AF_NETLINK dumps are empty (AF_UNIX and
 *   AF_NETLINK exact lookups: -ENOENT; AF_PACKET/AF_NETLINK ones:
 *   -EOPNOTSUPP, as Linux); other families -ENOENT (no handler).
 *   SOCK_DESTROY (ss -K) is -EOPNOTSUPP, which ss takes as "cannot be
 *   closed".
 * - Errors are NLMSG_ERROR with the negative errno and the whole request
 *   echoed: -EINVAL for a payload shorter than the request structure, an
 *   unknown message type, a family >= AF_MAX, a malformed attribute
 *   stream or an INET_DIAG_REQ_PROTOCOL that is not 4 bytes. Framing
 *   follows rtnl_request (see rtnl.h): nlmsg_len below 16 ends the
 *   datagram silently, a header cut short or claiming more than remains
 *   gets -EINVAL. Messages without NLM_F_REQUEST, and control messages,
 *   are only acked when NLM_F_ACK asks.
 *
 * Replies go out through out->emit, one datagram per call (a dump packs
 * its messages into datagrams of at most RTNL_DGRAM_MAX bytes, the
 * NLMSG_DONE in the last when it fits), all before sockdiag_request
 * returns. nlmsg_seq is the request's, nlmsg_pid is portid.
 */
#ifndef VIMAGED_SOCKDIAG_H
#define VIMAGED_SOCKDIAG_H

#include <stddef.h>
#include <stdint.h>
#include <vimage/vimage.h>

#include "procnet.h"
#include "rtnl.h" /* struct rtnl_out, RTNL_DGRAM_MAX */

/* One datagram that a program in vi sent on a NETLINK_SOCK_DIAG socket
 * whose port id is portid; walk(wctx, ...) lists the program's sockets
 * (may be NULL: none). Returns 0, -EINVAL when the datagram could not be
 * framed (an error reply has still been emitted when there was a header
 * to answer), or -ENOMEM. */
int sockdiag_request(struct vimage *vi, uint32_t portid, const void *dgram,
		     size_t len, procnet_walk_fn walk, void *wctx,
		     const struct rtnl_out *out);

#endif
