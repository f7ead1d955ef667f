/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * TCP output: deciding what to send (data within the peer's window and the
 * congestion window, SYN, FIN, ACKs, window updates), Nagle and TCP_CORK,
 * SACK-based loss recovery's choice of segments (RFC 6675 NextSeg), and
 * building segments.
 *
 * RFCs: 9293 3.8.6 (silly window avoidance, Nagle), 7323 (timestamps and
 * window scaling), 2018 (SACK option), 6675 (SACK recovery), 5681.
 *
 * Segments are built without copying where possible: the send queue holds
 * payload in packets with headroom, and a segment that starts at a queued
 * packet whose buffer nobody else holds is a clone of it with the headers
 * pushed in front. The clone shares the buffer, so while it is alive (on a
 * link, in the peer's receive queue) a retransmission of the same bytes is
 * built by copying instead, and new data is never appended to a packet
 * once part of it has been sent.
 *
 * Inside the world, segments carry no checksum (PKT_CSUM_NONE), as between
 * virtual NICs that offload it; the IP layer fills it in where a frame
 * leaves the world (an external interface, a capture, fragmentation).
 */
#include <string.h>

#include "netinet/tcp_var.h"
#include "socket/socket_var.h"

static const uint8_t tcp_outflags[TCPS_COUNT] = {
    [TCPS_CLOSED] = TCPF_RST | TCPF_ACK,
    [TCPS_LISTEN] = 0,
    [TCPS_SYN_SENT] = TCPF_SYN,
    [TCPS_SYN_RECEIVED] = TCPF_SYN | TCPF_ACK,
    [TCPS_ESTABLISHED] = TCPF_ACK,
    [TCPS_CLOSE_WAIT] = TCPF_ACK,
    [TCPS_FIN_WAIT_1] = TCPF_FIN | TCPF_ACK,
    [TCPS_CLOSING] = TCPF_FIN | TCPF_ACK,
    [TCPS_LAST_ACK] = TCPF_FIN | TCPF_ACK,
    [TCPS_FIN_WAIT_2] = TCPF_ACK,
    [TCPS_TIME_WAIT] = TCPF_ACK,
};

/* The window to advertise (bytes, before scaling): what the receive
 * buffer has room for, never moving the right edge back (RFC 9293
 * 3.8.6.2.2's "shrinking" rule) and not opening it in slivers. */
static uint32_t tcp_adv_window(struct tcpcb *tp)
{
	uint32_t space = tcp_rcv_space(tp);
	uint32_t cur = SEQ_GT(tp->rcv_adv, tp->rcv_nxt)
			   ? tp->rcv_adv - tp->rcv_nxt
			   : 0;
	uint32_t max = (uint32_t)0xffff << tp->rcv_scale;

	if (space < tp->rcvbuf / 4 && space < tp->mss)
		space = 0; /* receiver-side SWS avoidance */
	if (space > max)
		space = max;
	if (space < cur)
		space = cur;
	/* The scaled field loses the low bits: round up would promise
	 * more than we have, so round down (and keep what was promised). */
	space &= ~((1u << tp->rcv_scale) - 1);
	if (space < cur)
		space = cur;
	return space;
}

/* Find the send-queue packet holding sequence seq; *off: the offset. */
static struct pkt *tcp_sndq_find(struct tcpcb *tp, uint32_t seq,
				 uint32_t *off)
{
	struct pkt *p = tp->snd_hint;

	if (!p || SEQ_GT((uint32_t)p->cb.u64[0], seq))
		p = tp->sndq.head;
	for (; p; p = p->next) {
		uint32_t s = (uint32_t)p->cb.u64[0];

		if (SEQ_GEQ(seq, s) && SEQ_LT(seq, s + p->len)) {
			*off = seq - s;
			return p;
		}
	}
	return NULL;
}

/* A packet holding [seq, seq+len) of the send queue with headroom for
 * the headers: a clone when possible, else a copy. */
static struct pkt *tcp_seg_data(struct tcpcb *tp, uint32_t seq, uint32_t len)
{
	struct world *w = tp->vi->world;
	struct pkt *q, *p;
	uint32_t off, done = 0;

	q = tcp_sndq_find(tp, seq, &off);
	if (!q)
		return NULL;
	if (off == 0 && len <= q->len && q->buf->refcnt == 1 &&
	    pkt_headroom(q) >= TCP_MAX_HLEN + IPV4_HLEN + ETH_HLEN) {
		p = pkt_clone(w, q);
		if (!p)
			return NULL;
		p->flags = 0;
		pkt_trim(p, len);
		tp->snd_hint = len == q->len ? q->next : q;
		return p;
	}
	p = pkt_alloc(w, PKT_HEADROOM, len);
	if (!p)
		return NULL;
	while (done < len && q) {
		uint32_t n = q->len - off;

		if (n > len - done)
			n = len - done;
		memcpy(pkt_put(p, n), q->data + off, n);
		done += n;
		off = 0;
		if (done < len)
			q = q->next;
	}
	if (done < len) {
		pkt_free(w, p);
		return NULL;
	}
	tp->snd_hint = q;
	return p;
}

/* Build and send one segment. len bytes of data from seq (0: none). */
static int tcp_xmit(struct tcpcb *tp, uint32_t seq, uint32_t len,
		    uint8_t flags, bool rxt)
{
	struct tcp_state *ts = vimage_tcp(tp->vi);
	struct world *w = tp->vi->world;
	const struct ip_route *rt;
	struct tcp_repr r = {0};
	struct ip_out o = {0};
	uint32_t win;
	size_t hlen;
	struct pkt *p;
	uint8_t *hdr;
	int err;

	rt = tcp_route(tp, &err);
	if (!rt)
		return err;
	r.sport = tp->lport;
	r.dport = tp->fport;
	r.seq = seq;
	r.flags = flags;
	if (flags & TCPF_SYN) {
		/* RFC 3168 6.1.1: an ECN-setup SYN carries ECE and CWR, its
		 * SYN-ACK ECE alone. */
		if (tp->flags & TF_ECN)
			r.flags |= (flags & TCPF_ACK) ? TCPF_ECE
						      : TCPF_ECE | TCPF_CWR;
		r.opts |= TCPO_MSS;
		r.mss = tcp_mss_for_route(tp, rt);
		if (tp->flags & TF_REQ_SCALE) {
			r.opts |= TCPO_WSCALE;
			r.wscale = tp->req_rcv_scale;
		}
		if (tp->flags & TF_SACK_REQ)
			r.opts |= TCPO_SACK_PERM;
	}
	if ((tp->flags & TF_REQ_TS) &&
	    ((flags & TCPF_SYN) || (tp->flags & TF_RCVD_TS))) {
		r.opts |= TCPO_TS;
		r.tsval = tcp_ts_now(tp);
		r.tsecr = tp->ts_recent;
	}
	if (flags & TCPF_ACK) {
		r.ack = tp->rcv_nxt;
		if ((tp->flags & TF_SACK_PERMIT) && tp->reass.count) {
			r.nsack = (uint8_t)tcp_reass_sack(
			    &tp->reass, tp->rcv_nxt, r.sack,
			    (r.opts & TCPO_TS) ? 3 : TCP_MAX_SACK);
			if (r.nsack)
				r.opts |= TCPO_SACK;
		}
	}
	if (flags & TCPF_SYN) {
		win = tcp_rcv_space(tp);
		r.win = win > 0xffff ? 0xffff : (uint16_t)win;
		win = r.win;
	} else {
		win = tcp_adv_window(tp);
		r.win = (uint16_t)(win >> tp->rcv_scale);
	}
	if (tp->flags & TF_ECN) {
		if ((tp->flags & TF_ECE) && !(flags & TCPF_SYN))
			r.flags |= TCPF_ECE;
		if ((tp->flags & TF_SENDCWR) && len && !rxt) {
			r.flags |= TCPF_CWR;
			tp->flags &= ~TF_SENDCWR;
		}
	}
	hlen = TCP_HLEN + tcp_opts_len(&r);
	if (len) {
		p = tcp_seg_data(tp, seq, len);
	} else {
		p = pkt_alloc(w, PKT_HEADROOM, 0);
	}
	if (!p)
		return -ENOBUFS;
	hdr = pkt_push(p, hlen);
	if (!hdr) {
		pkt_free(w, p);
		return -ENOBUFS;
	}
	tcp4_emit(&r, hdr, len, rt->src, tp->faddr, !ts->in_world_csum);
	if (ts->in_world_csum)
		p->flags |= PKT_CSUM_NONE;

	/* What this segment tells the peer. */
	if (flags & TCPF_ACK) {
		tp->last_ack_sent = tp->rcv_nxt;
		if (SEQ_GT(tp->rcv_nxt + win, tp->rcv_adv))
			tp->rcv_adv = tp->rcv_nxt + win;
		tp->flags &= ~(TF_ACKNOW | TF_DELACK);
		tp->tt[TT_DELACK] = 0;
	}
	tp->ic.segs_out++;
	ts->st.out_segs++;
	if (len) {
		tp->ic.data_segs_out++;
		tp->ic.bytes_sent += len;
		if (rxt) {
			tp->ic.bytes_retrans += len;
			tp->ic.total_retrans++;
			ts->st.retrans_segs++;
		}
	} else if (flags == TCPF_ACK) {
		ts->st.pure_acks++;
	}
	if (flags & TCPF_RST)
		ts->st.out_rsts++;
	o.rt = rt;
	o.src = rt->src;
	o.dst = tp->faddr;
	o.proto = IPPROTO_TCP_;
	o.ttl = tp->ttl;
	o.tos = tp->tos;
	o.df = true;
	err = ip_output(tp->vi, p, &o);
	if (err == -EMSGSIZE) {
		/* The route's MTU shrank under us: take it now. */
		tp->rt_valid = false;
		tcp_route(tp, &err);
		tcp_mss_update(tp);
		err = -EMSGSIZE;
	}
	return err;
}

/* Account a segment that carried sequence space [seq, seq+n) and arm the
 * retransmission timer and the RTT measurement. */
static void tcp_sent(struct tcpcb *tp, uint32_t seq, uint32_t n, bool rxt)
{
	struct world *w = tp->vi->world;

	if (!n)
		return;
	if (!rxt && !tp->rtt_start) {
		tp->rtt_start = w->now ? w->now : 1; /* 0 means "none" */
		tp->rtt_seq = seq;
	}
	if (!tcp_timer_on(tp, TT_REXMT)) {
		tp->tt[TT_PERSIST] = 0;
		tcp_timer_set(tp, TT_REXMT, tcp_rto_ns(tp));
	}
	tp->last_send = w->now;
}

/* Largest payload of a data segment now (SACK blocks take option room). */
static uint32_t tcp_maxseg(const struct tcpcb *tp)
{
	uint32_t m = tp->mss;

	if ((tp->flags & TF_SACK_PERMIT) && tp->reass.count) {
		uint32_t blocks = (tp->flags & TF_RCVD_TS) ? 3 : 4;

		if (tp->reass.count < blocks)
			blocks = tp->reass.count;
		m -= 4 + 8 * blocks;
	}
	return m;
}

/* SACK loss recovery (RFC 6675 5): send while pipe < cwnd. */
static int tcp_output_sack_recovery(struct tcpcb *tp)
{
	uint32_t maxseg = tcp_maxseg(tp);
	uint32_t pipe = tcp_sb_pipe(&tp->sb, tp->snd_una, tp->snd_max,
				    tp->mss, 3);
	int sent = 0;

	while (pipe < tp->cc.cwnd && sent < 1024) {
		uint32_t seq, len, unsent = tp->snd_end - tp->snd_max;
		uint8_t fl = TCPF_ACK;
		bool rxt, rescue = tp->sb.rescue_valid;

		if (SEQ_GT(tp->snd_max, tp->snd_end))
			unsent = 0;
		if (!tcp_sb_next_seg(&tp->sb, tp->snd_una, tp->snd_max, unsent,
				     tp->snd_una + tp->snd_wnd, maxseg, 3, &seq,
				     &len, &rxt))
			break;
		/* Rule 4 (the rescue retransmission) leaves HighRxt alone. */
		rescue = !rescue && tp->sb.rescue_valid;
		if (SEQ_GT(seq + len, tp->snd_end))
			len = tp->snd_end - seq;
		if (!len)
			break;
		if ((tp->flags & TF_SENTFIN) && seq + len == tp->snd_end)
			fl |= TCPF_FIN;
		if (tcp_xmit(tp, seq, len, fl, rxt))
			break;
		if (rxt) {
			if (!rescue && SEQ_GT(seq + len, tp->sb.high_rxt))
				tp->sb.high_rxt = seq + len;
		} else {
			tp->snd_nxt = seq + len;
			if (SEQ_GT(tp->snd_nxt, tp->snd_max))
				tp->snd_max = tp->snd_nxt;
		}
		tcp_sent(tp, seq, len, rxt);
		pipe += len;
		sent++;
	}
	return 0;
}

int tcp_output(struct tcpcb *tp)
{
	struct world *w = tp->vi->world;
	int loops = 0;

	if (tp->state == TCPS_LISTEN || tp->state == TCPS_CLOSED)
		return 0;
	/* Idle restart (RFC 5681 4.1). */
	if (tp->snd_max == tp->snd_una && TCPS_HAVEESTABLISHED(tp->state) &&
	    tp->last_send && w->now - tp->last_send > tcp_rto_ns(tp) &&
	    tp->cc.ops->on_idle)
		tp->cc.ops->on_idle(&tp->cc, w->now);
	if ((tp->flags & TF_INRECOVERY) && (tp->flags & TF_SACK_PERMIT)) {
		tcp_output_sack_recovery(tp);
		/* An ACK may still be owed. */
		if (tp->flags & TF_ACKNOW)
			tcp_send_ack(tp);
		return 0;
	}
	for (;;) {
		uint8_t flags = tcp_outflags[tp->state];
		uint32_t off = tp->snd_nxt - tp->snd_una;
		uint32_t win = tp->snd_wnd < tp->cc.cwnd ? tp->snd_wnd
							 : tp->cc.cwnd;
		uint32_t maxseg = tcp_maxseg(tp);
		uint32_t avail = SEQ_LT(tp->snd_nxt, tp->snd_end)
				     ? tp->snd_end - tp->snd_nxt
				     : 0;
		uint32_t len, adv, seq = tp->snd_nxt;
		bool sendit = false, fin_ok;

		if (++loops > 100000)
			break; /* bounded; a sane caller never gets here */
		/* A SYN goes once, unless we are retransmitting it. */
		if ((flags & TCPF_SYN) && tp->snd_nxt != tp->iss)
			flags &= (uint8_t)~TCPF_SYN;
		/* In SYN_SENT/SYN_RECEIVED with the SYN out, nothing else. */
		if (!TCPS_HAVEESTABLISHED(tp->state) && !(flags & TCPF_SYN) &&
		    !(tp->flags & TF_ACKNOW))
			break;
		len = win > off ? win - off : 0;
		if (len > avail)
			len = avail;
		if (flags & TCPF_SYN)
			len = 0;
		if (len > maxseg)
			len = maxseg;
		/* FIN: only with the last byte of data, when the user asked
		 * for it and it has not gone yet (or is being resent). */
		fin_ok = (flags & TCPF_FIN) && (tp->flags & TF_NEEDFIN) &&
			 seq + len == tp->snd_end &&
			 (!(tp->flags & TF_SENTFIN) || seq == tp->snd_end);
		if (!fin_ok)
			flags &= (uint8_t)~TCPF_FIN;
		if (len) {
			/* A full segment, or the probe timer's override of
			 * the rules below (RFC 1122 4.2.3.4). */
			if (len == maxseg || (tp->flags & TF_FORCE))
				sendit = true;
			else if ((tp->flags & TF_CORK) && !fin_ok)
				sendit = false; /* wait for a full segment */
			else if (len == avail &&
				 ((tp->flags & TF_NODELAY) ||
				  tp->snd_max == tp->snd_una))
				sendit = true; /* Nagle: nothing unacked */
			else if (tp->max_sndwnd && len >= tp->max_sndwnd / 2)
				sendit = true;
			else if (SEQ_LT(tp->snd_nxt, tp->snd_max))
				sendit = true; /* retransmission */
			else if (fin_ok)
				sendit = true;
		}
		if (flags & (TCPF_SYN | TCPF_RST))
			sendit = true;
		if (fin_ok && len == 0)
			sendit = true;
		if (tp->flags & TF_ACKNOW)
			sendit = true;
		/* Window update: the right edge can move by 2 segments or
		 * half the buffer (RFC 9293 3.8.6.2.2). */
		if (!sendit && TCPS_HAVEESTABLISHED(tp->state) &&
		    !TCPS_HAVERCVDFIN(tp->state)) {
			uint32_t cur = SEQ_GT(tp->rcv_adv, tp->rcv_nxt)
					   ? tp->rcv_adv - tp->rcv_nxt
					   : 0;
			uint32_t space = tcp_rcv_space(tp);
			uint32_t max = (uint32_t)0xffff << tp->rcv_scale;

			if (space > max)
				space = max;
			adv = space > cur ? space - cur : 0;
			if (adv >= 2u * tp->mss || adv >= tp->rcvbuf / 2)
				sendit = true;
		}
		if (!sendit) {
			if (avail)
				tcp_arm_probe(tp);
			break;
		}
		{
			int err = tcp_xmit(tp, seq, len, flags,
					   SEQ_LT(seq, tp->snd_max));

			if (err == -EMSGSIZE && loops < 4)
				continue; /* the MSS was just lowered */
			if (err) {
				/* Not sent (no route, no buffers): keep a
				 * timer so that it is tried again. */
				if (!tcp_timer_on(tp, TT_REXMT) &&
				    !tcp_timer_on(tp, TT_PERSIST))
					tcp_timer_set(tp, TT_REXMT,
						      tcp_rto_ns(tp));
				break;
			}
		}
		{
			uint32_t n = len + !!(flags & TCPF_SYN) +
				     !!(flags & TCPF_FIN);
			bool rxt = SEQ_LT(seq, tp->snd_max);

			if (flags & TCPF_FIN)
				tp->flags |= TF_SENTFIN;
			tp->snd_nxt = seq + n;
			if (SEQ_GT(tp->snd_nxt, tp->snd_max))
				tp->snd_max = tp->snd_nxt;
			tcp_sent(tp, seq, n, rxt);
		}
		if (!len)
			break; /* control segments go one at a time */
	}
	return 0;
}

void tcp_arm_probe(struct tcpcb *tp)
{
	uint64_t t;

	if (tp->snd_max != tp->snd_una || tcp_timer_on(tp, TT_REXMT) ||
	    tcp_timer_on(tp, TT_PERSIST) || !TCPS_HAVEESTABLISHED(tp->state))
		return;
	t = tcp_rto_ns(tp);
	/* tcp(7): corked output waits at most 200 ms. */
	if ((tp->flags & TF_CORK) && tp->snd_wnd && t > 200 * NSEC_PER_MSEC)
		t = 200 * NSEC_PER_MSEC;
	if (tp->snd_wnd == 0)
		tp->persist_shift = 0;
	tcp_timer_set(tp, TT_PERSIST, t);
}

int tcp_output_seg(struct tcpcb *tp, uint32_t seq, uint32_t len, bool rxt)
{
	int err = tcp_xmit(tp, seq, len, TCPF_ACK, rxt);

	if (!err)
		tcp_sent(tp, seq, len, rxt);
	return err;
}

void tcp_send_ack(struct tcpcb *tp)
{
	tcp_xmit(tp, tp->snd_max, 0, TCPF_ACK, false);
}

void tcp_send_keepalive(struct tcpcb *tp)
{
	/* seq snd_una - 1: an old sequence number that makes the peer
	 * answer with an ACK (RFC 9293 3.8.4). */
	tcp_xmit(tp, tp->snd_una - 1, 0, TCPF_ACK, false);
}

void tcp_send_probe(struct tcpcb *tp)
{
	/* A zero-window probe the way Linux sends one: an out-of-window
	 * sequence number; the ACK it draws carries the current window. */
	tcp_xmit(tp, tp->snd_una - 1, 0, TCPF_ACK, false);
}

void tcp_send_rst(struct tcpcb *tp)
{
	tcp_xmit(tp, tp->snd_max, 0, TCPF_RST | TCPF_ACK, false);
}

void tcp_retransmit_head(struct tcpcb *tp)
{
	tp->snd_nxt = tp->snd_una;
	tp->snd_hint = NULL;
	tcp_output(tp);
}

void tcp_respond(struct vimage *vi, uint32_t laddr, uint16_t lport,
		 uint32_t faddr, uint16_t fport, uint32_t seq, uint32_t ack,
		 uint8_t flags)
{
	struct tcp_state *ts = vimage_tcp(vi);
	struct tcp_repr r = {
	    .sport = lport,
	    .dport = fport,
	    .seq = seq,
	    .ack = ack,
	    .flags = flags,
	};
	struct ip_out o = {
	    .src = laddr,
	    .dst = faddr,
	    .proto = IPPROTO_TCP_,
	    .df = true,
	};
	struct pkt *p;
	uint8_t *hdr;

	p = pkt_alloc(vi->world, PKT_HEADROOM, 0);
	if (!p)
		return;
	hdr = pkt_push(p, TCP_HLEN);
	tcp4_emit(&r, hdr, 0, laddr, faddr, true);
	ts->st.out_segs++;
	if (flags & TCPF_RST)
		ts->st.out_rsts++;
	ip_output(vi, p, &o);
}
