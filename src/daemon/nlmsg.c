/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Netlink reply buffers and request framing shared by the emulated netlink
 * families (see nlmsg.h).
 */
#include <errno.h>
#include <linux/netlink.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/nlmsg.h"

/* ---- reply buffer -------------------------------------------------------- */
bool nl_reserve(struct nlbuf *q, size_t more)
{
	size_t cap;
	uint8_t *p;

	if (q->nomem)
		return false;
	if (q->len + more <= q->cap)
		return true;
	cap = q->cap ? q->cap : RTNL_DGRAM_MAX + 4096;
	while (cap < q->len + more)
		cap *= 2;
	p = realloc(q->buf, cap);
	if (!p) {
		q->nomem = true;
		return false;
	}
	q->buf = p;
	q->cap = cap;
	return true;
}

void *nl_put(struct nlbuf *q, const void *data, size_t len)
{
	size_t alen = NLMSG_ALIGN(len);
	uint8_t *p;

	if (!nl_reserve(q, alen))
		return NULL;
	p = q->buf + q->len;
	if (data)
		memcpy(p, data, len);
	else
		memset(p, 0, len);
	memset(p + len, 0, alen - len);
	q->len += alen;
	return p;
}

void nl_flush(struct nlbuf *q)
{
	if (q->len && !q->nomem)
		q->out->emit(q->out->arg, q->buf, q->len);
	q->len = 0;
	q->msg = 0;
}

/* ---- messages and attributes --------------------------------------------- */
void nl_msg_begin(struct nlbuf *q, uint16_t type, uint16_t flags)
{
	struct nlmsghdr h = {
		.nlmsg_type = type,
		.nlmsg_flags = flags,
		.nlmsg_seq = q->nlh->nlmsg_seq,
		.nlmsg_pid = q->portid,
	};

	q->msg = q->len;
	q->depth = 0;
	nl_put(q, &h, sizeof(h));
}

void nl_msg_end(struct nlbuf *q, bool dump)
{
	size_t mlen;

	if (q->nomem)
		return;
	mlen = q->len - q->msg;
	((struct nlmsghdr *)(q->buf + q->msg))->nlmsg_len = (uint32_t)mlen;
	if (dump && q->msg > 0 && q->len > RTNL_DGRAM_MAX) {
		q->out->emit(q->out->arg, q->buf, q->msg);
		memmove(q->buf, q->buf + q->msg, mlen);
		q->len = mlen;
		q->msg = 0;
	}
}

void nl_attr_put(struct nlbuf *q, uint16_t type, const void *data, size_t len)
{
	struct nlattr a = {.nla_len = (uint16_t)(NLA_HDRLEN + len),
			   .nla_type = type};

	if (!nl_reserve(q, NLA_HDRLEN + NLA_ALIGN(len)))
		return;
	if (nl_put(q, &a, sizeof(a)))
		nl_put(q, data, len);
}

void nl_attr_u8(struct nlbuf *q, uint16_t type, uint8_t v)
{
	nl_attr_put(q, type, &v, 1);
}

void nl_attr_u32(struct nlbuf *q, uint16_t type, uint32_t v)
{
	nl_attr_put(q, type, &v, 4);
}

void nl_attr_str(struct nlbuf *q, uint16_t type, const char *s)
{
	nl_attr_put(q, type, s, strlen(s) + 1);
}

void nl_nest_begin(struct nlbuf *q, uint16_t type)
{
	if (q->depth == NL_NEST_MAX) {
		q->nomem = true; /* a bug, not an input: never deeper */
		return;
	}
	q->nest[q->depth++] = q->len;
	nl_attr_put(q, type, NULL, 0);
}

void nl_nest_end(struct nlbuf *q)
{
	size_t at;

	if (q->depth == 0 || q->nomem)
		return;
	at = q->nest[--q->depth];
	((struct nlattr *)(q->buf + at))->nla_len = (uint16_t)(q->len - at);
}

/* ---- control messages ---------------------------------------------------- */
/* Linux echoes the whole request after an error and only its header after
 * a success (flagged NLM_F_CAPPED), or only the header whenever
 * NETLINK_CAP_ACK is set; NETLINK_EXT_ACK adds the error's text. */
void nl_send_error(struct nlbuf *q, int err)
{
	const struct nlmsghdr *req = q->nlh;
	struct nlmsgerr e = {.error = err, .msg = *req};
	bool capped = err == 0 || (q->opts & RTNL_F_CAP_ACK);
	uint16_t flags = capped ? NLM_F_CAPPED : 0;
	bool tlv = err && q->why && (q->opts & RTNL_F_EXT_ACK);

	if (tlv)
		flags |= NLM_F_ACK_TLVS;
	nl_flush(q);
	nl_msg_begin(q, NLMSG_ERROR, flags);
	nl_put(q, &e, sizeof(e));
	if (!capped && req->nlmsg_len > sizeof(*req))
		nl_put(q, req + 1, req->nlmsg_len - sizeof(*req));
	if (tlv)
		nl_attr_str(q, NLMSGERR_ATTR_MSG, q->why);
	nl_msg_end(q, false);
	nl_flush(q);
	q->why = NULL;
}

void nl_send_done(struct nlbuf *q, int status)
{
	if (q->len + NLMSG_SPACE(sizeof(status)) > RTNL_DGRAM_MAX)
		nl_flush(q);
	nl_msg_begin(q, NLMSG_DONE, NLM_F_MULTI);
	nl_put(q, &status, sizeof(status));
	nl_msg_end(q, false);
	nl_flush(q);
}

/* ---- framing ------------------------------------------------------------- */
static bool all_zero(const uint8_t *p, size_t len)
{
	while (len--)
		if (*p++)
			return false;
	return true;
}

/* A header the datagram cuts short: answered with what there is of it. */
static void framing_error(struct nlbuf *q, const uint8_t *p, size_t len)
{
	struct nlmsghdr h = {0};
	unsigned opts = q->opts;

	memcpy(&h, p, len < sizeof(h) ? len : sizeof(h));
	h.nlmsg_len = sizeof(h); /* the rest is not there to echo */
	q->nlh = &h;
	q->opts |= q->trunc_opts;
	q->why = "Truncated message";
	nl_send_error(q, -EINVAL);
	q->opts = opts;
	q->nlh = NULL;
}

/* One message, copied to aligned memory: a program may send from any
 * offset, and the handlers read structures in place. */
static int one_message(struct nlbuf *q, const uint8_t *p, uint32_t len,
		       nl_handle_fn handle, void *ctx)
{
	struct nlmsghdr *m = calloc(1, NLMSG_ALIGN(len) + NLMSG_ALIGNTO);
	int err = 0;

	if (!m)
		return -ENOMEM;
	memcpy(m, p, len);
	q->nlh = m;
	q->why = NULL;
	/* Only requests are handled; control messages (NOOP, DONE,
	 * ERROR...) and answers are at most acked. */
	if ((m->nlmsg_flags & NLM_F_REQUEST) && m->nlmsg_type >= NLMSG_MIN_TYPE)
		err = handle(q, m, ctx);
	if (q->nomem && err != -EINTR)
		err = -ENOMEM;
	q->nomem = false;
	q->len = 0;
	if (err != -EINTR && (err || (m->nlmsg_flags & NLM_F_ACK)))
		nl_send_error(q, err);
	q->nlh = NULL;
	free(m);
	return 0;
}

int nl_rcv(struct nlbuf *q, const void *dgram, size_t len, nl_handle_fn handle,
	   void *ctx)
{
	const uint8_t *p = dgram;
	int ret = 0;

	if (!dgram || len < NLMSG_HDRLEN) {
		if (dgram && len && !all_zero(p, len))
			framing_error(q, p, len);
		ret = -EINVAL;
		goto out;
	}
	while (len > 0) {
		uint32_t mlen;
		size_t step;

		if (len < NLMSG_HDRLEN) {
			/* Trailing bytes: zero padding is no message. */
			if (!all_zero(p, len)) {
				framing_error(q, p, len);
				ret = -EINVAL;
			}
			break;
		}
		memcpy(&mlen, p, sizeof(mlen));
		/* netlink_rcv_skb: a length below the header ends the
		 * datagram (ip's zero padding after a dump request). */
		if (mlen < NLMSG_HDRLEN)
			break;
		if (mlen > len) {
			framing_error(q, p, len);
			ret = -EINVAL;
			break;
		}
		ret = one_message(q, p, mlen, handle, ctx);
		if (ret)
			break;
		step = NLMSG_ALIGN(mlen);
		if (step >= len)
			break;
		p += step;
		len -= step;
	}
out:
	free(q->buf);
	q->buf = NULL;
	q->len = q->cap = 0;
	return ret;
}
