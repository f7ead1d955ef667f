/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Netlink plumbing shared by the emulated netlink families (rtnl.c for
 * NETLINK_ROUTE, sockdiag.c for NETLINK_SOCK_DIAG): a reply buffer that
 * packs messages into datagrams of at most RTNL_DGRAM_MAX bytes and hands
 * them to a struct rtnl_out, helpers that append messages and attributes,
 * NLMSG_ERROR and NLMSG_DONE as Linux builds them, and the walk over the
 * nlmsghdrs of a request datagram with the framing rules rtnl.h describes.
 *
 * Allocation failures are sticky: once the buffer cannot grow, appends do
 * nothing and nomem stays set until the message being answered is done.
 */
#ifndef VIMAGED_NLMSG_H
#define VIMAGED_NLMSG_H

#include <linux/netlink.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <vimage/vimage.h>

#include "rtnl.h" /* struct rtnl_out, RTNL_F_*, RTNL_DGRAM_MAX */

#define NL_NEST_MAX 4

/* The replies to one request datagram. */
struct nlbuf {
	struct vimage *vi;   /* the vimage the request came from */
	uint32_t portid;     /* nlmsg_pid of every reply */
	unsigned opts;	     /* the socket's RTNL_F_* */
	unsigned trunc_opts; /* added to opts to answer a header cut short */
	const struct rtnl_out *out;
	const struct nlmsghdr *nlh; /* the request being answered */
	uint8_t *buf;
	size_t len, cap;
	size_t msg;		  /* offset of the message being built */
	size_t nest[NL_NEST_MAX]; /* offsets of open nests */
	int depth;
	bool nomem;
	const char *why; /* extended ack text for the error, if any */
};

/* Room for more bytes; false (and nomem set) when there is none. */
bool nl_reserve(struct nlbuf *q, size_t more);
/* Append len bytes of data (zeros when data is NULL), padded to
 * NLMSG_ALIGNTO; returns where they went, or NULL. */
void *nl_put(struct nlbuf *q, const void *data, size_t len);
/* Emit what the buffer holds as one datagram and empty it. */
void nl_flush(struct nlbuf *q);

/* Open a message answering q->nlh (its nlmsg_seq, q->portid). */
void nl_msg_begin(struct nlbuf *q, uint16_t type, uint16_t flags);
/* Close the message; in a dump, one that overflows the datagram moves to
 * the next, as the kernel's dump does when its skb is full. */
void nl_msg_end(struct nlbuf *q, bool dump);

void nl_attr_put(struct nlbuf *q, uint16_t type, const void *data, size_t len);
void nl_attr_u8(struct nlbuf *q, uint16_t type, uint8_t v);
void nl_attr_u32(struct nlbuf *q, uint16_t type, uint32_t v);
void nl_attr_str(struct nlbuf *q, uint16_t type, const char *s);
void nl_nest_begin(struct nlbuf *q, uint16_t type);
void nl_nest_end(struct nlbuf *q);

/* NLMSG_ERROR for q->nlh, alone in its datagram. */
void nl_send_error(struct nlbuf *q, int err);
/* NLMSG_DONE carrying status, in the dump's last datagram when it fits. */
void nl_send_done(struct nlbuf *q, int status);

/* Answers one request (aligned, nlmsg_len bytes, q->nlh == nlh): 0 or a
 * negative errno, answered with NLMSG_ERROR (0 only when NLM_F_ACK asks),
 * or -EINTR for a dump, answered already and never acked. */
typedef int (*nl_handle_fn)(struct nlbuf *q, const struct nlmsghdr *nlh,
			    void *ctx);

/* Walk the nlmsghdrs of one request datagram, passing each request to
 * handle; q->buf is freed before it returns. Returns 0, -EINVAL when the
 * datagram could not be framed, or -ENOMEM. */
int nl_rcv(struct nlbuf *q, const void *dgram, size_t len, nl_handle_fn handle,
	   void *ctx);

#endif
