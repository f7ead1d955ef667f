/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * TCP's side of the socket calls (struct vproto): bind, listen, accept,
 * connect, send, recv, shutdown, close, poll, options and TCP_INFO.
 *
 * Nothing blocks: connect answers -EINPROGRESS, send takes what fits in the
 * send buffer, recv takes what is there; readiness changes are announced
 * through the socket's notify callback. Errors are the ones Linux gives
 * (tcp(7), and the code paths of inet_stream_connect, tcp_sendmsg,
 * tcp_recvmsg, inet_shutdown where the manual is silent).
 */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/sockios.h>

#include "netinet/tcp_var.h"
#include "socket/socket_var.h"

static struct tcpcb *sotp(const struct vsocket *so)
{
	return so->pcb;
}

static int tcp_attach(struct vsocket *so)
{
	struct tcp_state *ts = vimage_tcp(so->vi);
	struct tcpcb *tp = tcp_pcb_new(so->vi);

	if (!tp)
		return -ENOMEM;
	tp->so = so;
	so->pcb = tp;
	so->rcvbuf = tp->rcvbuf;
	so->sndbuf = tp->sndbuf;
	tp->keepidle_s = (uint32_t)ts->keepidle_s;
	tp->keepintvl_s = (uint32_t)ts->keepintvl_s;
	tp->keepcnt = (uint8_t)ts->keepcnt;
	return 0;
}

/* The shift that lets the window cover the largest receive buffer. */
static uint8_t tcp_pick_rcv_scale(const struct tcp_state *ts, uint32_t rcvbuf)
{
	uint64_t max = (uint64_t)(rcvbuf > ts->rmem_max ? rcvbuf : ts->rmem_max);
	uint8_t s = 0;

	while (s < TCP_MAX_WSCALE && ((uint64_t)0xffff << s) < max)
		s++;
	return s;
}

static void tcp_set_opts_flags(struct tcpcb *tp)
{
	struct tcp_state *ts = vimage_tcp(tp->vi);

	tp->flags &= ~(TF_REQ_TS | TF_REQ_SCALE | TF_SACK_REQ);
	if (ts->do_ts)
		tp->flags |= TF_REQ_TS;
	if (ts->do_wscale) {
		tp->flags |= TF_REQ_SCALE;
		tp->req_rcv_scale = tcp_pick_rcv_scale(ts, tp->rcvbuf);
	}
	if (ts->do_sack)
		tp->flags |= TF_SACK_REQ;
}

/* Unaccepted connections are reset and embryonic ones forgotten (Linux's
 * inet_csk_listen_stop); the pcb goes back to CLOSED, still bound. */
static void tcp_stop_listening(struct tcpcb *tp)
{
	struct list *l, *tmp;

	list_for_each_safe(l, tmp, &tp->lq->acceptq)
	    tcp_drop(container_of(l, struct tcpcb, qlink), 0);
	list_for_each_safe(l, tmp, &tp->lq->synq)
	    tcp_pcb_free(container_of(l, struct tcpcb, qlink));
	free(tp->lq);
	tp->lq = NULL;
	tcp_set_state(tp, TCPS_CLOSED);
}

/* Close: abort or let the connection finish as an orphan. */
static void tcp_detach(struct vsocket *so)
{
	struct tcpcb *tp = sotp(so);
	struct tcp_state *ts;

	if (!tp)
		return;
	ts = vimage_tcp(tp->vi);
	so->pcb = NULL;
	tp->so = NULL;
	if (so->vi->dying) {
		tcp_pcb_free(tp);
		return;
	}
	if (tp->state == TCPS_LISTEN) {
		tcp_stop_listening(tp);
		tcp_pcb_free(tp);
		return;
	}
	if (tp->state < TCPS_SYN_RECEIVED || tp->state == TCPS_TIME_WAIT) {
		if (tp->state == TCPS_TIME_WAIT)
			return; /* TIME_WAIT runs its course (not an orphan) */
		tcp_pcb_free(tp);
		return;
	}
	/* Unread data, SO_LINGER 0, or too many orphans: reset (RFC 2525
	 * 2.17, Linux's tcp_close). */
	if (tp->rcvq.bytes - tp->rcvq_off || so->linger_s == 0 ||
	    (int64_t)ts->orphans >= ts->max_orphans) {
		tcp_drop(tp, 0);
		return;
	}
	tp->flags |= TF_ORPHAN;
	ts->orphans++;
	switch (tp->state) {
	case TCPS_SYN_RECEIVED:
		/* The FIN follows once our SYN is acknowledged
		 * (tcp_established moves to FIN_WAIT_1). */
		tp->flags |= TF_NEEDFIN;
		return;
	case TCPS_ESTABLISHED:
		tp->flags |= TF_NEEDFIN;
		tcp_set_state(tp, TCPS_FIN_WAIT_1);
		break;
	case TCPS_CLOSE_WAIT:
		tp->flags |= TF_NEEDFIN;
		tcp_set_state(tp, TCPS_LAST_ACK);
		break;
	case TCPS_FIN_WAIT_2:
		tcp_timer_set(tp, TT_2MSL,
			      (uint64_t)ts->fin_timeout_s * NSEC_PER_SEC);
		return;
	default:
		break;
	}
	tcp_output(tp);
}

static int tcp_bind(struct vsocket *so, const struct vaddr *a, uint16_t port)
{
	struct tcp_state *ts = vimage_tcp(so->vi);
	struct tcpcb *tp = sotp(so);
	int err;

	if (!tp)
		return -EINVAL;
	if (so->bound || tp->state != TCPS_CLOSED)
		return -EINVAL;
	/* Broadcast and multicast are no TCP endpoints (Linux: EADDRNOTAVAIL
	 * for multicast; broadcast binds but can never connect). */
	if (IN_MULTICAST_H(a->v4))
		return -EADDRNOTAVAIL;
	tp->sopts = (uint8_t)(so->options & (SOF_REUSEADDR | SOF_REUSEPORT));
	if (port == 0) {
		err = tcp_pick_port(ts, tp, a->v4, 0, 0, &port);
		if (err)
			return -EADDRINUSE;
	} else if (tcp_port_conflict(ts, tp, a->v4, port,
				     so->options & SOF_REUSEADDR)) {
		return -EADDRINUSE;
	}
	tp->laddr = a->v4;
	tp->lport = port;
	so->laddr = *a;
	so->lport = port;
	so->bound = true;
	so->addr_locked = a->v4 != 0;
	so->port_locked = true;
	tcp_lhash_insert(tp);
	return 0;
}

static int tcp_listen(struct vsocket *so, int backlog)
{
	struct tcp_state *ts = vimage_tcp(so->vi);
	struct tcpcb *tp = sotp(so);
	struct vaddr any = vaddr_v4(0);
	int err;

	if (!tp || (tp->state != TCPS_CLOSED && tp->state != TCPS_LISTEN) ||
	    (tp->flags & TF_WASCONN))
		return -EINVAL; /* Linux: only a fresh socket listens */
	if (tp->state == TCPS_LISTEN) {
		tp->lq->backlog = (uint32_t)backlog; /* re-listen */
		return 0;
	}
	if (!so->bound) {
		err = tcp_bind(so, &any, 0);
		if (err)
			return err;
	} else {
		/* Binding with SO_REUSEADDR let us share the port with a
		 * connection; listening on it does not (Linux re-checks). */
		tp->sopts &= (uint8_t)~SOF_REUSEADDR;
		if (tcp_port_conflict(ts, tp, tp->laddr, tp->lport, false))
			return -EADDRINUSE;
	}
	tp->sopts = (uint8_t)(so->options & (SOF_REUSEADDR | SOF_REUSEPORT));
	tp->lq = calloc(1, sizeof(*tp->lq));
	if (!tp->lq)
		return -ENOMEM;
	list_init(&tp->lq->synq);
	list_init(&tp->lq->acceptq);
	tp->lq->backlog = (uint32_t)backlog;
	tp->rcvbuf = so->rcvbuf > tp->rcvbuf || tp->rcvbuf_locked ? so->rcvbuf
								    : tp->rcvbuf;
	tcp_set_opts_flags(tp);
	tcp_set_state(tp, TCPS_LISTEN);
	so->options |= SOF_LISTENING;
	return 0;
}

static int tcp_accept(struct vsocket *so, struct vsocket *nso)
{
	struct tcpcb *lp = sotp(so), *tp, *old;

	if (!lp || lp->state != TCPS_LISTEN)
		return -EINVAL;
	if (list_empty(&lp->lq->acceptq))
		return -EAGAIN;
	tp = container_of(lp->lq->acceptq.next, struct tcpcb, qlink);
	list_remove(&tp->qlink);
	lp->lq->qlen--;
	tp->listener = NULL;
	tp->flags |= TF_ACCEPTED;
	/* nso was attached with a fresh pcb: replace it. */
	old = sotp(nso);
	if (old) {
		old->so = NULL;
		tcp_pcb_free(old);
	}
	nso->pcb = tp;
	tp->so = nso;
	nso->laddr = vaddr_v4(tp->laddr);
	nso->lport = tp->lport;
	nso->faddr = vaddr_v4(tp->faddr);
	nso->fport = tp->fport;
	nso->bound = true;
	nso->connected = TCPS_HAVEESTABLISHED(tp->state);
	nso->options = so->options & ~SOF_LISTENING;
	nso->rcvbuf = tp->rcvbuf;
	nso->sndbuf = tp->sndbuf;
	nso->linger_s = so->linger_s;
	nso->ttl = so->ttl;
	nso->tos = so->tos;
	nso->bound_ifindex = so->bound_ifindex;
	if ((nso->options & SOF_KEEPALIVE) && TCPS_HAVEESTABLISHED(tp->state))
		tcp_timer_set(tp, TT_KEEP,
			      (uint64_t)tp->keepidle_s * NSEC_PER_SEC);
	return 0;
}

/* What a new connection must not inherit from an earlier attempt on the
 * same socket (Linux's tcp_connect_init starts afresh). */
static void tcp_fresh(struct tcpcb *tp)
{
	struct tcp_state *ts = vimage_tcp(tp->vi);

	tp->flags &= TF_NODELAY | TF_CORK;
	tp->snd_wnd = tp->max_sndwnd = 0;
	tp->rxtshift = tp->dupacks = tp->persist_shift = tp->probes_out = 0;
	tp->keepcnt_sent = 0;
	tp->srtt_us = tp->rttvar_us = tp->min_rtt_us = tp->last_rtt_us = 0;
	tp->rto_us = (uint32_t)ts->rto_init_ms * 1000;
	tp->rtt_start = 0;
	tp->ts_recent = 0;
	tp->cc.cwnd = tp->cc.ssthresh = 0;
	tp->rt_valid = false;
	tp->peer_mss = (uint16_t)ts->mssdflt;
	tp->error = 0;
	memset(&tp->ic, 0, sizeof(tp->ic));
}

static int tcp_connect(struct vsocket *so, const struct vaddr *a,
		       uint16_t port)
{
	struct tcp_state *ts = vimage_tcp(so->vi);
	struct tcpcb *tp = sotp(so);
	const struct ip_route *rt;
	uint32_t faddr = a->v4;
	int err;

	if (!tp)
		return -EINVAL;
	switch (tp->state) {
	case TCPS_CLOSED:
		break;
	case TCPS_SYN_SENT:
	case TCPS_SYN_RECEIVED:
		return -EALREADY;
	default:
		return -EISCONN;
	}
	if (so->error) {
		/* The previous attempt's verdict, once (Linux reports a
		 * failed non-blocking connect on the next connect). */
		err = so->error;
		so->error = 0;
		return err;
	}
	if (tp->flags & TF_WASCONN)
		return -EISCONN; /* a used connection is not reused */
	tcp_fresh(tp);
	so->shut_rd = so->shut_wr = false;
	if (port == 0)
		return -ECONNREFUSED; /* Linux: nothing listens on port 0 */
	if (faddr == 0)
		faddr = 0x7f000001; /* INADDR_ANY means this host (Linux) */
	if (IN_MULTICAST_H(faddr) || faddr == INADDR_BCAST_H ||
	    so_addr_is_bcast(so->vi, faddr))
		return -ENETUNREACH;
	tp->faddr = faddr;
	tp->fport = port;
	tp->bound_ifindex = so->bound_ifindex;
	tp->ttl = so->ttl;
	tp->tos = so->tos;
	tp->rt_valid = false;
	rt = tcp_route(tp, &err);
	if (!rt) {
		tp->faddr = 0;
		tp->fport = 0;
		return err;
	}
	if (!so->bound || !tp->laddr) {
		/* The route picks the source address. */
		tp->laddr = rt->src;
	}
	if (!so->bound) {
		tp->sopts = (uint8_t)(so->options &
				      (SOF_REUSEADDR | SOF_REUSEPORT));
		err = tcp_pick_port(ts, tp, tp->laddr, faddr, port, &tp->lport);
		if (err) {
			tp->faddr = tp->laddr = 0;
			tp->fport = 0;
			return err;
		}
		so->bound = true;
		tcp_lhash_insert(tp);
	} else if (tcp_lookup(ts, tp->laddr, tp->lport, faddr, port)) {
		tp->faddr = 0;
		tp->fport = 0;
		return -EADDRNOTAVAIL;
	}
	tp->rt.src = tp->laddr;
	so->laddr = vaddr_v4(tp->laddr);
	so->lport = tp->lport;
	so->faddr = vaddr_v4(faddr);
	so->fport = port;
	tp->rcvbuf = so->rcvbuf;
	tp->sndbuf = so->sndbuf;
	tcp_set_opts_flags(tp);
	if (ts->do_ecn)
		tp->flags |= TF_ECN;
	tp->iss = tcp_new_isn(ts, so->vi->world, tp->laddr, tp->lport, faddr,
			      port);
	tp->snd_una = tp->snd_nxt = tp->snd_max = tp->iss;
	tp->snd_end = tp->iss + 1;
	tp->snd_recover = tp->iss;
	tp->flags &= ~(TF_NEEDFIN | TF_SENTFIN);
	tcp_set_state(tp, TCPS_SYN_SENT);
	tcp_hash_insert(tp);
	tcp_mss_update(tp);
	tcp_output(tp);
	return -EINPROGRESS;
}

static int tcp_disconnect(struct vsocket *so)
{
	/* connect(AF_UNSPEC) on a stream socket: Linux aborts the
	 * connection (tcp_disconnect) and leaves the socket as new, still
	 * bound if the user bound it, so that it can connect again. */
	struct tcpcb *tp = sotp(so);
	struct world *w = so->vi->world;

	if (!tp)
		return 0;
	if (tp->state == TCPS_LISTEN) {
		tcp_stop_listening(tp);
		so->options &= ~SOF_LISTENING;
	} else if (tp->state != TCPS_CLOSED) {
		tcp_drop(tp, 0);
	}
	tcp_hash_remove(tp);
	if (!so->port_locked) {
		tcp_lhash_remove(tp);
		tp->lport = 0;
		so->lport = 0;
		so->bound = false;
	}
	if (!so->addr_locked) {
		tp->laddr = 0;
		so->laddr = vaddr_v4(0);
	}
	tp->faddr = 0;
	tp->fport = 0;
	so->faddr = vaddr_v4(0);
	so->fport = 0;
	so->connected = false;
	so->shut_rd = so->shut_wr = false;
	so->error = 0;
	pktq_purge(w, &tp->rcvq);
	tp->rcvq_off = 0;
	tcp_fresh(tp);
	return 0;
}

/* Append user data to the send queue: fill the unsent tail packet, then
 * packets of one segment each (so that a segment is one clone). */
static uint32_t tcp_sndq_append(struct tcpcb *tp, const uint8_t *buf,
				uint32_t len)
{
	struct world *w = tp->vi->world;
	struct pkt *t = tp->sndq.head
			    ? container_of(tp->sndq.tailp, struct pkt, next)
			    : NULL;
	uint32_t done = 0, seg = tp->mss ? tp->mss : 536;

	if (t && SEQ_GEQ((uint32_t)t->cb.u64[0], tp->snd_max) &&
	    t->buf->refcnt == 1 && t->len < seg) {
		uint32_t room = (uint32_t)pkt_tailroom(t);
		uint32_t n = seg - t->len;

		if (n > room)
			n = room;
		if (n > len)
			n = len;
		memcpy(pkt_put(t, n), buf, n);
		tp->sndq.bytes += n;
		done = n;
	}
	while (done < len) {
		uint32_t n = len - done;
		struct pkt *p;

		if (n > seg)
			n = seg;
		/* Small writes get room to grow to a segment in place. */
		p = pkt_alloc(w, PKT_HEADROOM, n < seg && seg <= PBUF_SMALL
						   ? PBUF_SMALL
						   : n);
		if (!p)
			break;
		memcpy(pkt_put(p, n), buf + done, n);
		p->cb.u64[0] = tp->snd_end + done;
		pktq_push(&tp->sndq, p);
		done += n;
	}
	tp->snd_end += done;
	return done;
}

/* The checks of a send, in Linux's order: 0 when data may be queued now. */
static int tcp_send_ok(struct vsocket *so, struct tcpcb *tp, int flags)
{
	int err;

	if (so->error) {
		err = so->error;
		so->error = 0;
		return err;
	}
	if (!tp)
		return -EPIPE;
	if (flags & MSG_OOB)
		return -EOPNOTSUPP; /* no urgent data */
	switch (tp->state) {
	case TCPS_ESTABLISHED:
	case TCPS_CLOSE_WAIT:
		break;
	case TCPS_SYN_SENT:
	case TCPS_SYN_RECEIVED:
		return -EAGAIN; /* Linux waits for the connection */
	default:
		/* Linux's sk_stream_wait_connect: EPIPE in any state that
		 * is not connecting, even a socket never connected. */
		return -EPIPE;
	}
	if (so->shut_wr || (tp->flags & TF_NEEDFIN))
		return -EPIPE;
	return 0;
}

/* What the send queue takes now. */
static uint32_t tcp_snd_space(const struct tcpcb *tp)
{
	return tp->sndbuf > tp->sndq.bytes ? tp->sndbuf - tp->sndq.bytes : 0;
}

static ssize_t tcp_send_reserve(struct vsocket *so, size_t len,
				struct vsock_sendbuf *sb)
{
	struct tcpcb *tp = sotp(so);
	struct world *w;
	struct pkt *t;
	uint32_t space, seg;
	size_t offered = 0;
	int err = tcp_send_ok(so, tp, 0);

	if (err)
		return err;
	w = tp->vi->world;
	seg = tp->mss ? tp->mss : 536;
	space = tcp_snd_space(tp);
	if (len > space)
		len = space;
	/* First the room left in the last segment, as tcp_sndq_append. */
	t = tp->sndq.head ? container_of(tp->sndq.tailp, struct pkt, next)
			  : NULL;
	if (len && t && SEQ_GEQ((uint32_t)t->cb.u64[0], tp->snd_max) &&
	    t->buf->refcnt == 1 && t->len < seg && pkt_tailroom(t)) {
		size_t room = seg - t->len;

		if (room > pkt_tailroom(t))
			room = pkt_tailroom(t);
		if (room > len)
			room = len;
		sb->iov[0] = (struct iovec){t->data + t->len, room};
		sb->buf[0] = t;
		sb->tail = true;
		sb->n = 1;
		offered = room;
	}
	while (offered < len && sb->n < VSOCK_SENDBUF_MAX) {
		size_t m = len - offered;
		struct pkt *p;

		if (m > seg)
			m = seg;
		p = pkt_alloc(w, PKT_HEADROOM, seg);
		if (!p)
			break;
		sb->iov[sb->n] = (struct iovec){p->data, m};
		sb->buf[sb->n++] = p;
		offered += m;
	}
	return (ssize_t)offered;
}

static ssize_t tcp_send_commit(struct vsocket *so, struct vsock_sendbuf *sb,
			       size_t used)
{
	struct tcpcb *tp = sotp(so);
	struct world *w = so->vi->world;
	uint32_t done = 0;

	for (int i = 0; i < sb->n; i++) {
		struct pkt *p = sb->buf[i];
		size_t m = sb->iov[i].iov_len;

		if (m > used - done)
			m = used - done;
		if (i == 0 && sb->tail) {
			pkt_put(p, m);
			tp->sndq.bytes += (uint32_t)m;
		} else if (m) {
			pkt_put(p, m);
			p->cb.u64[0] = tp->snd_end + done;
			pktq_push(&tp->sndq, p);
		} else {
			pkt_free(w, p);
		}
		done += (uint32_t)m;
	}
	sb->n = 0;
	if (!done)
		return 0;
	tp->snd_end += done;
	tcp_output(tp);
	return done;
}

static ssize_t tcp_send(struct vsocket *so, const void *buf, size_t len,
			int flags, const struct vaddr *dst, uint16_t port)
{
	struct tcpcb *tp = sotp(so);
	uint32_t space, n;
	int err;

	(void)dst;
	(void)port;
	err = tcp_send_ok(so, tp, flags);
	if (err)
		return err;
	if (len == 0)
		return 0;
	space = tcp_snd_space(tp);
	if (!space)
		return -EAGAIN;
	if (len > space)
		len = space;
	n = tcp_sndq_append(tp, buf, (uint32_t)len);
	if (!n)
		return -ENOBUFS;
	if (flags & MSG_MORE) {
		uint32_t f = tp->flags;

		tp->flags |= TF_CORK;
		tcp_output(tp);
		tp->flags = (tp->flags & ~TF_CORK) | (f & TF_CORK);
	} else {
		tcp_output(tp);
	}
	return n;
}

static bool tcp_rcv_eof(const struct tcpcb *tp)
{
	return TCPS_HAVERCVDFIN(tp->state) ||
	       (tp->state == TCPS_CLOSED && (tp->flags & TF_WASCONN));
}

static ssize_t tcp_recv(struct vsocket *so, void *buf, size_t len, int flags)
{
	struct tcpcb *tp = sotp(so);
	struct world *w = so->vi->world;
	uint32_t avail, done = 0, off;
	struct pkt *p;
	int err;

	if (flags & MSG_OOB)
		return -EINVAL; /* no urgent data is ever pending */
	if (!tp)
		return 0;
	if (tp->state == TCPS_LISTEN)
		return -ENOTCONN;
	avail = tp->rcvq.bytes - tp->rcvq_off;
	if (!avail) {
		/* Linux's order: the peer's FIN, then a pending error, then
		 * a shut read side, then "not connected". */
		if (tp->flags & TF_GOTFIN)
			return 0;
		if (so->error) {
			err = so->error;
			so->error = 0;
			return err;
		}
		if (tcp_rcv_eof(tp) || so->shut_rd)
			return 0;
		if (tp->state == TCPS_CLOSED)
			return -ENOTCONN;
		return -EAGAIN;
	}
	if (!buf && len)
		return -EFAULT;
	if ((flags & MSG_WAITALL) && !(flags & (MSG_PEEK | MSG_DONTWAIT)) &&
	    avail < len && !tcp_rcv_eof(tp) && !so->error &&
	    avail < tp->rcvbuf / 2)
		return -EAGAIN;
	if (len > avail)
		len = avail;
	off = tp->rcvq_off;
	p = tp->rcvq.head;
	while (done < len && p) {
		uint32_t n = p->len - off;

		if (n > len - done)
			n = (uint32_t)len - done;
		if (!(flags & MSG_TRUNC))
			memcpy((uint8_t *)buf + done, p->data + off, n);
		done += n;
		off += n;
		if (off == p->len) {
			struct pkt *next = p->next;

			if (!(flags & MSG_PEEK)) {
				pkt_free(w, pktq_pop(&tp->rcvq));
				tp->rcvq_off = 0;
			}
			off = 0;
			p = next;
		} else if (!(flags & MSG_PEEK)) {
			tp->rcvq_off = off;
		}
	}
	if (!(flags & MSG_PEEK)) {
		tp->app_read += done;
		/* A window update when reading opened the window enough
		 * (tcp_output decides). */
		if (TCPS_HAVEESTABLISHED(tp->state) &&
		    !TCPS_HAVERCVDFIN(tp->state))
			tcp_output(tp);
	}
	return done;
}

static int tcp_peek_iov(struct vsocket *so, struct iovec *iov, int n,
			size_t len)
{
	struct tcpcb *tp = sotp(so);
	uint32_t off;
	int k = 0;

	if (!tp)
		return 0;
	off = tp->rcvq_off;
	for (struct pkt *p = tp->rcvq.head; p && k < n && len; p = p->next) {
		size_t m = p->len - off;

		if (m > len)
			m = len;
		iov[k].iov_base = p->data + off;
		iov[k].iov_len = m;
		k++;
		len -= m;
		off = 0;
	}
	return k;
}

static int tcp_shutdown(struct vsocket *so, int how)
{
	struct tcpcb *tp = sotp(so);

	if (!tp)
		return -ENOTCONN;
	switch (tp->state) {
	case TCPS_CLOSED:
		return -ENOTCONN;
	case TCPS_LISTEN:
		if (how == SHUT_WR)
			return 0; /* Linux: a no-op on a listener */
		/* Shutting down reading stops listening (Linux's
		 * tcp_disconnect): queued connections are reset, new SYNs
		 * refused, accept says EINVAL; the port stays bound. */
		tcp_stop_listening(tp);
		so->options &= ~SOF_LISTENING;
		so_wakeup(so);
		return 0;
	case TCPS_SYN_SENT:
		tcp_close(tp);
		so->shut_rd = how != SHUT_WR;
		so->shut_wr = how != SHUT_RD;
		so_wakeup(so);
		return 0;
	default:
		break;
	}
	if (how != SHUT_WR)
		so->shut_rd = true;
	if (how != SHUT_RD && !so->shut_wr) {
		so->shut_wr = true;
		if (tp->state == TCPS_SYN_RECEIVED) {
			/* FIN_WAIT_1 once our SYN is acknowledged. */
			tp->flags |= TF_NEEDFIN;
		} else if (tp->state == TCPS_ESTABLISHED) {
			tp->flags |= TF_NEEDFIN;
			tcp_set_state(tp, TCPS_FIN_WAIT_1);
		} else if (tp->state == TCPS_CLOSE_WAIT) {
			tp->flags |= TF_NEEDFIN;
			tcp_set_state(tp, TCPS_LAST_ACK);
		}
		tcp_output(tp);
	}
	so_wakeup(so);
	return 0;
}

static unsigned tcp_poll(struct vsocket *so)
{
	struct tcpcb *tp = sotp(so);
	unsigned ev = 0;
	uint32_t avail;

	if (so->error)
		ev |= POLLERR;
	if (!tp)
		return ev | POLLHUP | POLLIN | POLLOUT;
	if (tp->state == TCPS_LISTEN) {
		if (tp->lq->qlen)
			ev |= POLLIN | POLLRDNORM;
		return ev;
	}
	avail = tp->rcvq.bytes - tp->rcvq_off;
	/* Linux: hang-up when both directions are shut, a received FIN
	 * counting as the read side's shutdown. */
	if (((so->shut_rd || tcp_rcv_eof(tp)) && so->shut_wr) ||
	    tp->state == TCPS_CLOSED)
		ev |= POLLHUP;
	if (tcp_rcv_eof(tp) || so->shut_rd)
		ev |= POLLIN | POLLRDHUP;
	if (avail && avail >= so->rcvlowat)
		ev |= POLLIN;
	if (tp->state != TCPS_SYN_SENT && tp->state != TCPS_SYN_RECEIVED) {
		/* Writable with a third of the buffer free (Linux wakes at
		 * half; a third keeps pipelines moving sooner), or when
		 * writing can only fail. */
		if (so->shut_wr || tp->state == TCPS_CLOSED ||
		    tp->sndq.bytes + tp->sndbuf / 3 <= tp->sndbuf)
			ev |= POLLOUT;
	}
	if (ev & POLLIN)
		ev |= POLLRDNORM;
	if (ev & POLLOUT)
		ev |= POLLWRNORM;
	return ev;
}

/* struct tcp_info as Linux lays it out (include/uapi/linux/tcp.h), so a
 * program's getsockopt(TCP_INFO) reads what it expects; glibc's copy of
 * the struct stops at tcpi_total_retrans. */
struct vtcp_info {
	uint8_t state, ca_state, retransmits, probes, backoff, options;
	uint8_t wscale; /* snd:4, rcv:4 */
	uint8_t delivery_rate_app_limited_fastopen;
	uint32_t rto, ato, snd_mss, rcv_mss;
	uint32_t unacked, sacked, lost, retrans, fackets;
	uint32_t last_data_sent, last_ack_sent, last_data_recv, last_ack_recv;
	uint32_t pmtu, rcv_ssthresh, rtt, rttvar, snd_ssthresh, snd_cwnd;
	uint32_t advmss, reordering, rcv_rtt, rcv_space, total_retrans;
	uint64_t pacing_rate, max_pacing_rate, bytes_acked, bytes_received;
	uint32_t segs_out, segs_in, notsent_bytes, min_rtt;
	uint32_t data_segs_in, data_segs_out;
	uint64_t delivery_rate, busy_time, rwnd_limited, sndbuf_limited;
	uint32_t delivered, delivered_ce;
	uint64_t bytes_sent, bytes_retrans;
	uint32_t dsack_dups, reord_seen, rcv_ooopack, snd_wnd;
};

static const uint8_t tcp_linux_state[TCPS_COUNT] = {
    [TCPS_CLOSED] = 7,      [TCPS_LISTEN] = 10,    [TCPS_SYN_SENT] = 2,
    [TCPS_SYN_RECEIVED] = 3, [TCPS_ESTABLISHED] = 1, [TCPS_CLOSE_WAIT] = 8,
    [TCPS_FIN_WAIT_1] = 4,  [TCPS_CLOSING] = 11,   [TCPS_LAST_ACK] = 9,
    [TCPS_FIN_WAIT_2] = 5,  [TCPS_TIME_WAIT] = 6,
};

static void tcp_fill_info(const struct tcpcb *tp, struct vtcp_info *i)
{
	uint64_t now = tp->vi->world->now;
	uint32_t mss = tp->mss ? tp->mss : 536;

	memset(i, 0, sizeof(*i));
	i->state = tcp_linux_state[tp->state];
	i->ca_state = (tp->flags & TF_INRECOVERY) ? 3 /* TCP_CA_Recovery */
			: tp->rxtshift		    ? 4 /* TCP_CA_Loss */
						    : 0;
	i->retransmits = tp->rxtshift;
	i->backoff = tp->rxtshift;
	i->probes = tp->persist_shift;
	if (tp->flags & TF_RCVD_TS)
		i->options |= 1; /* TCPI_OPT_TIMESTAMPS */
	if (tp->flags & TF_SACK_PERMIT)
		i->options |= 2; /* TCPI_OPT_SACK */
	if (tp->flags & TF_RCVD_SCALE) {
		i->options |= 4; /* TCPI_OPT_WSCALE */
		i->wscale = (uint8_t)((tp->snd_scale & 15) |
				      (tp->rcv_scale & 15) << 4);
	}
	if (tp->flags & TF_ECN)
		i->options |= 8; /* TCPI_OPT_ECN */
	i->rto = (uint32_t)(tcp_rto_ns(tp) / NSEC_PER_USEC);
	i->ato = (uint32_t)(vimage_tcp(tp->vi)->delack_ms * 1000);
	i->snd_mss = mss;
	i->rcv_mss = mss;
	i->unacked = (tp->snd_max - tp->snd_una + mss - 1) / mss;
	i->sacked = tp->sb.sacked / mss;
	i->pmtu = tp->rt_valid ? tp->rt.mtu : 0;
	i->rcv_ssthresh = tcp_rcv_space(tp);
	i->rtt = tp->srtt_us;
	i->rttvar = tp->rttvar_us;
	i->snd_ssthresh = tp->cc.ssthresh / mss;
	i->snd_cwnd = tp->cc.cwnd / mss;
	i->advmss = mss;
	i->reordering = 3;
	i->rcv_space = tp->rcvbuf;
	i->total_retrans = tp->ic.total_retrans;
	i->last_data_sent =
	    tp->last_send ? (uint32_t)((now - tp->last_send) / NSEC_PER_MSEC)
			  : 0;
	i->last_data_recv =
	    tp->last_rcv ? (uint32_t)((now - tp->last_rcv) / NSEC_PER_MSEC) : 0;
	i->last_ack_recv = i->last_data_recv;
	i->bytes_acked = tp->ic.bytes_acked;
	i->bytes_received = tp->ic.bytes_received;
	i->segs_out = tp->ic.segs_out;
	i->segs_in = tp->ic.segs_in;
	i->notsent_bytes = SEQ_GT(tp->snd_end, tp->snd_nxt)
			       ? tp->snd_end - tp->snd_nxt
			       : 0;
	i->min_rtt = tp->min_rtt_us;
	i->data_segs_in = tp->ic.data_segs_in;
	i->data_segs_out = tp->ic.data_segs_out;
	i->delivered = (uint32_t)(tp->ic.bytes_acked / mss);
	i->bytes_sent = tp->ic.bytes_sent;
	i->bytes_retrans = tp->ic.bytes_retrans;
	i->rcv_ooopack = tp->ic.rcv_ooopack;
	i->snd_wnd = tp->snd_wnd;
	if (tp->srtt_us)
		i->pacing_rate = (uint64_t)tp->cc.cwnd * 1000000 / tp->srtt_us;
	i->max_pacing_rate = UINT64_MAX;
}

static int tcp_setsockopt(struct vsocket *so, int level, int name,
			  const void *val, socklen_t len)
{
	struct tcpcb *tp = sotp(so);
	int v = 0, err;

	if (!tp)
		return level == IPPROTO_TCP ? -EINVAL : 0;
	if (level == SOL_SOCKET) {
		/* The socket layer has applied it; mirror what TCP uses. */
		switch (name) {
		case SO_RCVBUF:
			tp->rcvbuf = so->rcvbuf;
			tp->rcvbuf_locked = true;
			break;
		case SO_SNDBUF:
			tp->sndbuf = so->sndbuf;
			tp->sndbuf_locked = true;
			break;
		case SO_KEEPALIVE:
			if ((so->options & SOF_KEEPALIVE) &&
			    TCPS_HAVEESTABLISHED(tp->state))
				tcp_timer_set(tp, TT_KEEP,
					      (uint64_t)tp->keepidle_s *
						  NSEC_PER_SEC);
			break;
		case SO_LINGER:
			tp->linger_s = (int16_t)(so->linger_s > 32767
						     ? 32767
						     : so->linger_s);
			break;
		default:
			break;
		}
		return 0;
	}
	if (level == IPPROTO_IP) {
		tp->ttl = so->ttl;
		tp->tos = so->tos;
		return 0;
	}
	if (name == TCP_CONGESTION) {
		char nm[TCP_CC_NAME_MAX] = {0};
		const struct tcp_cc_ops *ops;

		if (!val && len)
			return -EFAULT;
		memcpy(nm, val, len < sizeof(nm) - 1 ? len : sizeof(nm) - 1);
		ops = tcp_cc_find(nm);
		if (!ops)
			return -ENOENT;
		tcp_cc_switch(&tp->cc, ops, so->vi->world->now);
		return 0;
	}
	err = so_get_int_opt(val, len, &v);
	if (err)
		return err;
	switch (name) {
	case TCP_NODELAY:
		if (v)
			tp->flags |= TF_NODELAY;
		else
			tp->flags &= ~TF_NODELAY;
		tcp_output(tp);
		return 0;
	case TCP_CORK:
		if (v) {
			tp->flags |= TF_CORK;
		} else {
			tp->flags &= ~TF_CORK;
			tcp_output(tp); /* push what was held */
		}
		return 0;
	case TCP_MAXSEG:
		if (v && (v < 88 || v > 65495))
			return -EINVAL;
		tp->user_mss = (uint16_t)v;
		return 0;
	case TCP_KEEPIDLE:
		if (v < 1 || v > 32767)
			return -EINVAL;
		tp->keepidle_s = (uint32_t)v;
		if ((so->options & SOF_KEEPALIVE) &&
		    TCPS_HAVEESTABLISHED(tp->state))
			tcp_timer_set(tp, TT_KEEP,
				      (uint64_t)tp->keepidle_s * NSEC_PER_SEC);
		return 0;
	case TCP_KEEPINTVL:
		if (v < 1 || v > 32767)
			return -EINVAL;
		tp->keepintvl_s = (uint32_t)v;
		return 0;
	case TCP_KEEPCNT:
		if (v < 1 || v > 127)
			return -EINVAL;
		tp->keepcnt = (uint8_t)v;
		return 0;
	case TCP_SYNCNT:
		if (v < 1 || v > 127)
			return -EINVAL;
		tp->syncnt = (uint8_t)v;
		return 0;
	case TCP_USER_TIMEOUT:
		if (v < 0)
			return -EINVAL;
		tp->user_timeout_ms = (uint32_t)v;
		return 0;
	case TCP_QUICKACK:
		if (v) {
			tp->quickacks = 16;
			if (tp->flags & TF_DELACK) {
				tp->flags |= TF_ACKNOW;
				tcp_output(tp);
			}
		} else {
			tp->quickacks = 0;
		}
		return 0;
	case TCP_NOTSENT_LOWAT:
		tp->notsent_lowat = (uint32_t)v;
		return 0;
	case TCP_DEFER_ACCEPT:
	case TCP_WINDOW_CLAMP:
	case TCP_LINGER2:
		return 0; /* accepted, not acted on (documented) */
	default:
		return -ENOPROTOOPT;
	}
}

int vsock_tcp_view(struct vsocket *so, struct vsock_tcp_view *v)
{
	struct tcpcb *tp = sotp(so);

	if (so->proto != &tcp_proto)
		return -EOPNOTSUPP;
	memset(v, 0, sizeof(*v));
	v->local.sin_family = AF_INET;
	v->remote.sin_family = AF_INET;
	if (!tp) {
		v->state = 7; /* TCP_CLOSE: the connection is gone */
		return 0;
	}
	v->state = tcp_linux_state[tp->state];
	v->local.sin_addr.s_addr = htonl(tp->laddr);
	v->local.sin_port = htons(tp->lport);
	v->remote.sin_addr.s_addr = htonl(tp->faddr);
	v->remote.sin_port = htons(tp->fport);
	if (tp->state == TCPS_LISTEN) {
		v->rx_queue = tp->lq->qlen;
		v->backlog = tp->lq->backlog;
	} else {
		v->rx_queue = (uint32_t)(tp->rcvq.bytes - tp->rcvq_off);
		v->tx_queue = (uint32_t)tp->sndq.bytes;
	}
	return 0;
}

static int tcp_getsockopt(struct vsocket *so, int level, int name, void *val,
			  socklen_t *len)
{
	struct tcpcb *tp = sotp(so);
	struct vtcp_info info;
	int v;

	if (!tp)
		return -EINVAL;
	switch (name) {
	case TCP_NODELAY:
		v = !!(tp->flags & TF_NODELAY);
		break;
	case TCP_CORK:
		v = !!(tp->flags & TF_CORK);
		break;
	case TCP_MAXSEG:
		v = tp->mss ? tp->mss : (tp->user_mss ? tp->user_mss : 536);
		break;
	case TCP_KEEPIDLE:
		v = (int)tp->keepidle_s;
		break;
	case TCP_KEEPINTVL:
		v = (int)tp->keepintvl_s;
		break;
	case TCP_KEEPCNT:
		v = tp->keepcnt;
		break;
	case TCP_SYNCNT:
		v = tp->syncnt ? tp->syncnt
			       : (int)vimage_tcp(so->vi)->syn_retries;
		break;
	case TCP_USER_TIMEOUT:
		v = (int)tp->user_timeout_ms;
		break;
	case TCP_QUICKACK:
		v = tp->quickacks != 0;
		break;
	case TCP_NOTSENT_LOWAT:
		v = (int)tp->notsent_lowat;
		break;
	case TCP_INFO:
		tcp_fill_info(tp, &info);
		return so_put_opt(val, len, &info, sizeof(info));
	case TCP_CONGESTION: {
		char nm[TCP_CC_NAME_MAX] = {0};

		strncpy(nm, tp->cc.ops->name, sizeof(nm) - 1);
		return so_put_opt(val, len, nm, sizeof(nm));
	}
	default:
		return -ENOPROTOOPT;
	}
	return so_put_opt(val, len, &v, sizeof(v));
}

static int tcp_ioctl(struct vsocket *so, unsigned long req, int *val)
{
	struct tcpcb *tp = sotp(so);

	if (!tp)
		return -EINVAL;
	switch (req) {
	case SIOCINQ:
		if (tp->state == TCPS_LISTEN)
			return -EINVAL;
		*val = (int)(tp->rcvq.bytes - tp->rcvq_off);
		return 0;
	case SIOCOUTQ:
		if (tp->state == TCPS_LISTEN)
			return -EINVAL;
		*val = (int)tp->sndq.bytes;
		return 0;
	case VSIOCSNDSPACE:
		*val = (int)tcp_snd_space(tp);
		return 0;
	case SIOCOUTQNSD:
		if (tp->state == TCPS_LISTEN)
			return -EINVAL;
		*val = SEQ_GT(tp->snd_end, tp->snd_nxt)
			   ? (int)(tp->snd_end - tp->snd_nxt)
			   : 0;
		return 0;
	default:
		return -ENOTTY;
	}
}

const struct vproto tcp_proto = {
    .type = SOCK_STREAM,
    .protocol = IPPROTO_TCP,
    .attach = tcp_attach,
    .detach = tcp_detach,
    .bind = tcp_bind,
    .connect = tcp_connect,
    .disconnect = tcp_disconnect,
    .send = tcp_send,
    .listen = tcp_listen,
    .accept = tcp_accept,
    .recv = tcp_recv,
    .peek_iov = tcp_peek_iov,
    .send_reserve = tcp_send_reserve,
    .send_commit = tcp_send_commit,
    .shutdown = tcp_shutdown,
    .poll = tcp_poll,
    .setsockopt = tcp_setsockopt,
    .getsockopt = tcp_getsockopt,
    .ioctl = tcp_ioctl,
};
