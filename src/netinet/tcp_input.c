/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * TCP input: the RFC 9293 section 3.10.7 "SEGMENT ARRIVES" event for every
 * state, with RFC 5961 (blind reset/SYN/data injection: challenge ACKs),
 * RFC 7323 (PAWS, timestamps, window scaling), RFC 2018 + RFC 6675 (SACK
 * and SACK-based recovery), RFC 5681 + RFC 6582 (fast retransmit, NewReno
 * recovery without SACK), RFC 6298 (RTT), RFC 3168 (ECN), and the timers
 * whose expiry is input-like: retransmission, persist, keepalive, 2MSL.
 *
 * Malformed segments (bad checksum, data offset, options) are counted and
 * dropped before any state is looked at. Segments for no connection are
 * answered with a RST as RFC 9293 3.10.7.1 says, never a RST for a RST.
 */
#include <string.h>

#include "netinet/tcp_var.h"
#include "socket/socket_var.h"

#define DUPTHRESH 3
#define QUICKACK_SEGS 16 /* ACK every segment at the start (Linux-like) */

struct seg {
	struct tcp_repr th;
	uint32_t seq, end; /* end: seq + len + SYN + FIN */
	uint32_t len;
	uint8_t flags;
	uint32_t laddr, faddr;
	uint8_t tos;
};

static void tcp_reply_rst(struct vimage *vi, const struct seg *s)
{
	if (s->flags & TCPF_RST)
		return;
	if (s->flags & TCPF_ACK)
		tcp_respond(vi, s->laddr, s->th.dport, s->faddr, s->th.sport,
			    s->th.ack, 0, TCPF_RST);
	else
		tcp_respond(vi, s->laddr, s->th.dport, s->faddr, s->th.sport, 0,
			    s->seq + s->len + !!(s->flags & TCPF_SYN) +
				!!(s->flags & TCPF_FIN),
			    TCPF_RST | TCPF_ACK);
}

/* Options of a SYN (RFC 7323 1.3: window scale and SACK-permitted only
 * count on a SYN; the timestamp option starts timestamps). */
static void tcp_syn_options(struct tcpcb *tp, const struct seg *s)
{
	struct tcp_state *ts = vimage_tcp(tp->vi);
	const struct tcp_repr *th = &s->th;

	/* A zero or absent MSS means the default (RFC 9293 3.7.1); Linux
	 * ignores an MSS option of 0 the same way. */
	tp->peer_mss = (th->opts & TCPO_MSS) && th->mss ? th->mss
						       : (uint16_t)ts->mssdflt;
	if ((th->opts & TCPO_WSCALE) && (tp->flags & TF_REQ_SCALE)) {
		tp->flags |= TF_RCVD_SCALE;
		/* RFC 7323 2.3: a shift above 14 is used as 14. */
		tp->snd_scale = th->wscale > TCP_MAX_WSCALE ? TCP_MAX_WSCALE
							    : th->wscale;
		tp->rcv_scale = tp->req_rcv_scale;
	} else {
		tp->snd_scale = tp->rcv_scale = 0;
		tp->flags &= ~TF_REQ_SCALE;
	}
	if ((th->opts & TCPO_TS) && (tp->flags & TF_REQ_TS)) {
		tp->flags |= TF_RCVD_TS;
		tp->ts_recent = th->tsval;
		tp->ts_recent_age = tp->vi->world->now;
	} else {
		tp->flags &= ~TF_REQ_TS;
	}
	if ((th->opts & TCPO_SACK_PERM) && (tp->flags & TF_SACK_REQ))
		tp->flags |= TF_SACK_PERMIT;
}

static void tcp_established(struct tcpcb *tp)
{
	struct world *w = tp->vi->world;

	int err;

	/* A close or shutdown in SYN_RECEIVED waited for the handshake. */
	tcp_set_state(tp, (tp->flags & TF_NEEDFIN) ? TCPS_FIN_WAIT_1
						   : TCPS_ESTABLISHED);
	tp->flags |= TF_WASCONN;
	tp->last_rcv = w->now;
	tcp_route(tp, &err);
	tcp_mss_update(tp);
	tp->cc.cwnd = 0;
	tp->cc.ops->init(&tp->cc, tp->mss, w->now);
	tp->quickacks = QUICKACK_SEGS;
	tp->rcv_space_time = w->now;
	tp->rcv_space_seq = tp->app_read;
	if (tp->so && (tp->so->options & SOF_KEEPALIVE))
		tcp_timer_set(tp, TT_KEEP,
			      (uint64_t)tp->keepidle_s * NSEC_PER_SEC);
}

/* ---- LISTEN ---------------------------------------------------------------- */
static void tcp_listen_input(struct tcpcb *lp, struct seg *s, struct pkt *p)
{
	struct vimage *vi = lp->vi;
	struct tcp_state *ts = vimage_tcp(vi);
	struct tcpcb *tp;
	uint32_t q0max;

	if (s->flags & TCPF_RST)
		goto drop;
	if (s->flags & TCPF_ACK) {
		tcp_reply_rst(vi, s);
		goto drop;
	}
	if (!(s->flags & TCPF_SYN))
		goto drop;
	/* The accept queue full: drop the SYN (Linux does, the peer
	 * retries). The SYN queue has its own bound. */
	q0max = lp->lq->backlog < 256 ? 256 : lp->lq->backlog;
	/* Linux's sk_acceptq_is_full: more than backlog are waiting. */
	if (lp->lq->qlen > lp->lq->backlog) {
		ts->st.listen_overflows++;
		ts->st.listen_drops++;
		goto drop;
	}
	if (lp->lq->q0len >= q0max) {
		ts->st.syn_dropped++;
		ts->st.listen_drops++;
		goto drop;
	}
	tp = tcp_pcb_new(vi);
	if (!tp) {
		ts->st.listen_drops++;
		goto drop;
	}
	tp->laddr = s->laddr;
	tp->faddr = s->faddr;
	tp->lport = s->th.dport;
	tp->fport = s->th.sport;
	tp->flags |= lp->flags & (TF_NODELAY | TF_CORK | TF_REQ_TS |
				  TF_REQ_SCALE | TF_SACK_REQ);
	tp->req_rcv_scale = lp->req_rcv_scale;
	tp->user_mss = lp->user_mss;
	tp->keepidle_s = lp->keepidle_s;
	tp->keepintvl_s = lp->keepintvl_s;
	tp->keepcnt = lp->keepcnt;
	tp->linger_s = lp->linger_s;
	tp->rcvbuf = lp->rcvbuf;
	tp->sndbuf = lp->sndbuf;
	tp->rcvbuf_locked = lp->rcvbuf_locked;
	tp->sndbuf_locked = lp->sndbuf_locked;
	tp->ttl = lp->ttl;
	tp->tos = lp->tos;
	tp->bound_ifindex = lp->bound_ifindex;
	tcp_cc_switch(&tp->cc, lp->cc.ops, vi->world->now);
	tp->irs = s->seq;
	tp->rcv_nxt = s->seq + 1;
	tp->rcv_adv = tp->rcv_nxt;
	tcp_syn_options(tp, s);
	if ((s->flags & (TCPF_ECE | TCPF_CWR)) == (TCPF_ECE | TCPF_CWR) &&
	    ts->do_ecn)
		tp->flags |= TF_ECN;
	tp->iss = tcp_new_isn(ts, vi->world, tp->laddr, tp->lport, tp->faddr,
			      tp->fport);
	tp->snd_una = tp->snd_nxt = tp->snd_max = tp->iss;
	tp->snd_end = tp->iss + 1;
	tp->snd_wnd = s->th.win; /* never scaled in a SYN */
	tp->max_sndwnd = tp->snd_wnd;
	tp->snd_wl1 = s->seq;
	tp->snd_wl2 = tp->iss;
	tp->snd_recover = tp->iss;
	tcp_set_state(tp, TCPS_SYN_RECEIVED);
	tcp_hash_insert(tp);
	tp->listener = lp;
	tp->flags |= TF_SYNQ;
	list_insert_tail(&lp->lq->synq, &tp->qlink);
	lp->lq->q0len++;
	{
		int err;

		tcp_route(tp, &err);
	}
	tcp_mss_update(tp);
	tcp_output(tp);
drop:
	pkt_free(vi->world, p);
}

/* A listener's child completed the handshake: into the accept queue. */
void tcp_listen_complete(struct tcpcb *tp)
{
	struct tcpcb *lp = tp->listener;

	if (!lp)
		return;
	list_remove(&tp->qlink);
	lp->lq->q0len--;
	tp->flags &= ~TF_SYNQ;
	list_insert_tail(&lp->lq->acceptq, &tp->qlink);
	lp->lq->qlen++;
	vimage_tcp(tp->vi)->st.passive_opens++;
	if (lp->so)
		so_wakeup(lp->so);
}

/* ---- SYN_SENT ---------------------------------------------------------------- */
static void tcp_syn_sent_input(struct tcpcb *tp, struct seg *s, struct pkt *p)
{
	struct vimage *vi = tp->vi;
	struct tcp_state *ts = vimage_tcp(vi);
	bool ack_ok = false;

	if (s->flags & TCPF_ACK) {
		if (SEQ_LEQ(s->th.ack, tp->iss) ||
		    SEQ_GT(s->th.ack, tp->snd_max)) {
			tcp_reply_rst(vi, s);
			goto drop;
		}
		ack_ok = SEQ_LEQ(tp->snd_una, s->th.ack);
	}
	if (s->flags & TCPF_RST) {
		if (ack_ok) {
			ts->st.attempt_fails++;
			tcp_drop(tp, -ECONNREFUSED);
		}
		goto drop;
	}
	if (!(s->flags & TCPF_SYN))
		goto drop;
	tp->irs = s->seq;
	tp->rcv_nxt = s->seq + 1;
	tp->rcv_adv = tp->rcv_nxt;
	tcp_syn_options(tp, s);
	if (tp->flags & TF_ECN) {
		/* RFC 3168 6.1.1: the SYN-ACK answers with ECE, no CWR. */
		if ((s->flags & (TCPF_ECE | TCPF_CWR)) != TCPF_ECE)
			tp->flags &= ~TF_ECN;
	}
	tp->snd_wnd = s->th.win;
	tp->max_sndwnd = tp->snd_wnd;
	tp->snd_wl1 = s->seq;
	tp->snd_wl2 = s->th.ack;
	if (ack_ok) {
		tp->snd_una = s->th.ack;
		if (SEQ_LT(tp->snd_nxt, tp->snd_una))
			tp->snd_nxt = tp->snd_una;
		tp->tt[TT_REXMT] = 0;
		tp->rxtshift = 0;
		if (tp->rtt_start) {
			tcp_rtt_sample(
			    tp, (uint32_t)((vi->world->now - tp->rtt_start) /
					   NSEC_PER_USEC));
			tp->rtt_start = 0;
		}
		tcp_established(tp);
		ts->st.active_opens++;
		tp->flags |= TF_ACKNOW;
		/* Data in the SYN-ACK is rare; the peer will resend it. */
		tcp_output(tp);
		tcp_wakeup(tp);
	} else {
		/* Simultaneous open (RFC 9293 3.5 figure 8). */
		tcp_set_state(tp, TCPS_SYN_RECEIVED);
		tp->snd_nxt = tp->iss;
		tcp_output(tp);
	}
drop:
	pkt_free(vi->world, p);
}

/* ---- TIME_WAIT --------------------------------------------------------------- */
/* Returns true when the segment should go on to a listener (a new SYN
 * that may reuse the 4-tuple, RFC 6191's rule on sequence numbers or
 * timestamps). */
static bool tcp_timewait_input(struct tcpcb *tp, struct seg *s, struct pkt *p)
{
	struct tcp_state *ts = vimage_tcp(tp->vi);

	if ((s->flags & (TCPF_SYN | TCPF_ACK | TCPF_RST)) == TCPF_SYN) {
		bool newer = SEQ_GT(s->seq, tp->rcv_nxt);

		if ((tp->flags & TF_RCVD_TS) && (s->th.opts & TCPO_TS))
			newer = SEQ_GT(s->th.tsval, tp->ts_recent);
		/* Only a closed connection's TIME_WAIT gives way; one whose
		 * socket is still open keeps its pcb. */
		if (newer && !tp->so) {
			ts->st.timewait_reused++;
			tcp_pcb_free(tp);
			return true;
		}
	}
	/* RFC 1337: a RST in TIME_WAIT does not end it early. */
	if (s->flags & TCPF_RST)
		goto drop;
	if ((s->flags & TCPF_FIN) && s->seq + s->len + 1 == tp->rcv_nxt) {
		/* A retransmitted FIN: our ACK was lost. */
		tcp_timer_set(tp, TT_2MSL,
			      2 * (uint64_t)ts->msl_ms * NSEC_PER_MSEC);
	}
	if (s->len || (s->flags & (TCPF_SYN | TCPF_FIN)))
		tcp_send_ack(tp);
drop:
	pkt_free(tp->vi->world, p);
	return false;
}

/* ---- data ------------------------------------------------------------------- */
static void tcp_rcv_autotune(struct tcpcb *tp)
{
	struct tcp_state *ts = vimage_tcp(tp->vi);
	uint64_t now = tp->vi->world->now;
	/* The path's RTT is the minimum seen (the handshake measures it with
	 * empty queues); smoothed RTT includes queueing, and a window sized
	 * from it feeds the queue that inflated it — between vimages in one
	 * process the path RTT is microseconds and the queue would be the
	 * whole window. The reader's rate is measured over at least a
	 * millisecond so that a clock that moves in steps (real time driven
	 * by an event loop) cannot fake a high rate. */
	uint64_t rtt = tp->min_rtt_us ? tp->min_rtt_us * NSEC_PER_USEC
				      : NSEC_PER_MSEC;
	uint64_t epoch = rtt > NSEC_PER_MSEC ? rtt : NSEC_PER_MSEC;
	uint64_t got, want;

	if (tp->rcvbuf_locked || now - tp->rcv_space_time < epoch)
		return;
	/* Dynamic right-sizing: twice the bandwidth-delay product (the
	 * reader's rate times the RTT) lets the sender double while the
	 * reader keeps up. The buffer never shrinks below the default. */
	got = tp->app_read - tp->rcv_space_seq;
	want = got * 2 * rtt / (now - tp->rcv_space_time) + 4u * tp->mss;
	if (want > (uint64_t)ts->rmem_max)
		want = (uint64_t)ts->rmem_max;
	if (want > tp->rcvbuf) {
		tp->rcvbuf = (uint32_t)want;
		if (tp->so)
			tp->so->rcvbuf = tp->rcvbuf; /* SO_RCVBUF shows it */
	}
	tp->rcv_space_time = now;
	tp->rcv_space_seq = tp->app_read;
}

/* Take in-order payload p (data at payload, seq == rcv_nxt). */
static void tcp_deliver(struct tcpcb *tp, struct pkt *p)
{
	struct pkt *q;

	tp->rcv_nxt += p->len;
	tp->ic.bytes_received += p->len;
	pktq_push(&tp->rcvq, p);
	while ((q = tcp_reass_pop(tp->vi->world, &tp->reass, tp->rcv_nxt))) {
		tp->rcv_nxt += q->len;
		tp->ic.bytes_received += q->len;
		pktq_push(&tp->rcvq, q);
	}
}

/* ---- ACK processing ------------------------------------------------------- */
static void tcp_sndq_drop(struct tcpcb *tp, uint32_t acked_to)
{
	struct world *w = tp->vi->world;
	struct pkt *q;

	while ((q = tp->sndq.head)) {
		uint32_t s = (uint32_t)q->cb.u64[0];

		if (SEQ_LEQ(s + q->len, acked_to)) {
			if (tp->snd_hint == q)
				tp->snd_hint = NULL;
			pkt_free(w, pktq_pop(&tp->sndq));
			continue;
		}
		if (SEQ_GT(acked_to, s)) {
			uint32_t n = acked_to - s;

			pkt_pull(q, n);
			tp->sndq.bytes -= n;
			q->cb.u64[0] = acked_to;
		}
		break;
	}
}

static bool tcp_cwnd_limited(const struct tcpcb *tp, uint32_t flight)
{
	if (tp->cc.cwnd < tp->cc.ssthresh)
		return flight * 2 >= tp->cc.cwnd;
	return flight + tp->mss >= tp->cc.cwnd;
}

/* The length of the segment at snd_una to retransmit. */
static uint32_t tcp_first_seg_len(const struct tcpcb *tp)
{
	uint32_t len = tp->snd_max - tp->snd_una;

	if (SEQ_GT(tp->snd_max, tp->snd_end))
		len = tp->snd_end - tp->snd_una; /* not the FIN */
	return len > tp->mss ? tp->mss : len;
}

static void tcp_enter_recovery(struct tcpcb *tp)
{
	struct tcp_state *ts = vimage_tcp(tp->vi);
	uint32_t flight = tp->snd_max - tp->snd_una;
	uint32_t len;

	tp->flags |= TF_INRECOVERY;
	/* "recover" is kept one past the highest sequence sent: an ACK
	 * covers more than the RFC's recover when it reaches it. */
	tp->snd_recover = tp->snd_max;
	tp->rtt_start = 0; /* Karn: the timed segment may be resent */
	tp->cc.ops->on_loss(&tp->cc, flight, tp->vi->world->now);
	ts->st.fast_retrans++;
	if (tp->flags & TF_ECN)
		tp->flags |= TF_SENDCWR;
	/* Retransmit the first unacknowledged segment now (RFC 6675 5
	 * step 4.3, RFC 6582 3.2 step 2). */
	len = tcp_first_seg_len(tp);
	if (tp->flags & TF_SACK_PERMIT) {
		ts->st.sack_recoveries++;
		tp->sb.high_rxt = tp->snd_una;
		tp->sb.rescue_valid = false;
		if (len && tcp_output_seg(tp, tp->snd_una, len, true) == 0)
			tp->sb.high_rxt = tp->snd_una + len;
		tcp_output(tp);
	} else {
		if (len)
			tcp_output_seg(tp, tp->snd_una, len, true);
		/* RFC 6582 3.2 step 2: inflate by the three dupacks. */
		tp->cc.cwnd = tp->cc.ssthresh + DUPTHRESH * tp->mss;
	}
}

/* Process the ACK field of a segment in a synchronized state. Returns
 * false when the segment must be dropped (tp may be gone: *gone). */
static bool tcp_ack(struct tcpcb *tp, struct seg *s, bool *gone)
{
	struct vimage *vi = tp->vi;
	struct tcp_state *ts = vimage_tcp(vi);
	struct world *w = vi->world;
	uint32_t ack = s->th.ack;
	uint32_t flight = tp->snd_max - tp->snd_una;
	uint32_t acked;
	uint32_t win = (uint32_t)s->th.win << tp->snd_scale;
	int64_t sacked = 0;
	bool fin_acked;

	/* RFC 5961 5.2: acceptable ACKs lie in [snd_una - max_sndwnd,
	 * snd_max]. */
	if (SEQ_GT(ack, tp->snd_max)) {
		tcp_send_ack(tp);
		return false;
	}
	if (SEQ_LT(ack, tp->snd_una - tp->max_sndwnd)) {
		if (tcp_challenge_ok(ts, w->now))
			tcp_send_ack(tp);
		return false;
	}
	if ((tp->flags & TF_SACK_PERMIT) && (s->th.opts & TCPO_SACK) &&
	    flight)
		sacked = tcp_sb_update(&tp->sb, tp->snd_una, tp->snd_max,
				       s->th.sack, s->th.nsack);
	tp->probes_out = 0; /* the peer is alive */
	if (tp->flags & TF_ECN) {
		if ((s->flags & TCPF_ECE) && !(tp->flags & TF_INRECOVERY) &&
		    SEQ_GEQ(ack, tp->snd_recover)) {
			/* RFC 3168 6.1.2: react once per window. */
			tp->cc.ops->on_loss(&tp->cc, flight, w->now);
			tp->snd_recover = tp->snd_max;
			tp->flags |= TF_SENDCWR;
		}
	}

	if (SEQ_LEQ(ack, tp->snd_una)) {
		/* RFC 5681 2: a duplicate ACK carries no data, does not
		 * change the window, and data is outstanding. SACK blocks
		 * make any such ACK count (RFC 6675 2). */
		bool dup = ack == tp->snd_una && s->len == 0 &&
			   !(s->flags & (TCPF_SYN | TCPF_FIN)) && flight &&
			   (win == tp->snd_wnd || sacked > 0);

		/* With SACK, only news counts (as Linux counts SACKed
		 * segments): an ACK that SACKs nothing new is what a
		 * duplicated segment draws, not a sign of loss. */
		if ((tp->flags & TF_SACK_PERMIT) && sacked <= 0 &&
		    (s->th.opts & TCPO_SACK))
			dup = false;

		if (!dup) {
			tp->dupacks = 0;
			return true;
		}
		ts->st.rcv_dupack++;
		tp->dupacks++;
		if (tp->flags & TF_INRECOVERY) {
			if (!(tp->flags & TF_SACK_PERMIT))
				tp->cc.cwnd += tp->mss; /* RFC 6582 step 3 */
			tcp_output(tp);
			return true;
		}
		if ((tp->dupacks >= DUPTHRESH ||
		     ((tp->flags & TF_SACK_PERMIT) &&
		      tcp_sb_is_lost(&tp->sb, tp->snd_una, tp->mss,
				     DUPTHRESH))) &&
		    SEQ_GEQ(tp->snd_una, tp->snd_recover)) {
			tcp_enter_recovery(tp);
			return true;
		}
		/* Limited transmit (RFC 3042): the first two dupacks may
		 * send one new segment each. */
		if (tp->dupacks <= 2) {
			uint32_t cw = tp->cc.cwnd;

			tp->cc.cwnd = flight + tp->dupacks * tp->mss;
			if (tp->cc.cwnd < cw)
				tp->cc.cwnd = cw;
			tcp_output(tp);
			tp->cc.cwnd = cw;
		}
		return true;
	}

	/* New data acknowledged. */
	acked = ack - tp->snd_una;
	fin_acked = (tp->flags & TF_SENTFIN) && ack == tp->snd_max &&
		    SEQ_GT(tp->snd_max, tp->snd_end);
	tp->ic.bytes_acked += acked;
	/* RTT: timestamps (RFC 7323 4.2 — only when the echoed value is
	 * ours and sane) are millisecond-coarse; the timed segment gives
	 * nanoseconds, so it is used, Karn-safe because retransmission
	 * clears it. */
	if (tp->rtt_start && SEQ_GT(ack, tp->rtt_seq)) {
		tcp_rtt_sample(tp, (uint32_t)((w->now - tp->rtt_start) /
					      NSEC_PER_USEC));
		tp->rtt_start = 0;
	}
	if (tp->flags & TF_INRECOVERY) {
		if (SEQ_GEQ(ack, tp->snd_recover)) {
			/* Full ACK: recovery is over. */
			tp->flags &= ~TF_INRECOVERY;
			tp->cc.ops->on_recovery_end(&tp->cc,
						    tp->snd_max - ack);
		} else if (!(tp->flags & TF_SACK_PERMIT)) {
			/* NewReno partial ACK (RFC 6582 3.2 step 5):
			 * retransmit the next hole, deflate. */
			uint32_t cw = tp->cc.cwnd, len;

			tp->snd_una = ack;
			tcp_sndq_drop(tp, ack);
			len = tcp_first_seg_len(tp);
			if (len)
				tcp_output_seg(tp, ack, len, true);
			tp->cc.cwnd = cw > acked ? cw - acked : tp->mss;
			if (acked >= tp->mss)
				tp->cc.cwnd += tp->mss;
		}
	} else {
		tp->cc.ops->on_ack(&tp->cc, acked, flight,
				   tcp_cwnd_limited(tp, flight), tp->srtt_us,
				   tp->last_rtt_us, w->now);
	}
	tp->dupacks = 0;
	tp->snd_una = ack;
	if (SEQ_LT(tp->snd_nxt, ack))
		tp->snd_nxt = ack;
	/* Drag "recover" along so that it never falls 2^31 behind. */
	if (SEQ_GT(ack, tp->snd_recover))
		tp->snd_recover = ack;
	tcp_sndq_drop(tp, SEQ_GT(ack, tp->snd_end) ? tp->snd_end : ack);
	tcp_sb_ack(&tp->sb, ack);
	/* Timers: all acknowledged stops the clock, else restart it. */
	tp->rxtshift = 0;
	if (ack == tp->snd_max)
		tp->tt[TT_REXMT] = 0;
	else
		tcp_timer_set(tp, TT_REXMT, tcp_rto_ns(tp));
	/* Send buffer autotuning: room for twice the congestion window. */
	if (!tp->sndbuf_locked) {
		uint64_t want = 2ull * tp->cc.cwnd;

		if (want > (uint64_t)ts->wmem_max)
			want = (uint64_t)ts->wmem_max;
		if (want > tp->sndbuf) {
			tp->sndbuf = (uint32_t)want;
			if (tp->so)
				tp->so->sndbuf = tp->sndbuf;
		}
	}
	if (tp->so)
		so_wakeup(tp->so);

	if (fin_acked) {
		switch (tp->state) {
		case TCPS_FIN_WAIT_1:
			tcp_set_state(tp, TCPS_FIN_WAIT_2);
			/* An orphan does not wait forever for the peer's
			 * FIN (Linux's tcp_fin_timeout). */
			if (tp->flags & TF_ORPHAN)
				tcp_timer_set(tp, TT_2MSL,
					      (uint64_t)ts->fin_timeout_s *
						  NSEC_PER_SEC);
			tcp_wakeup(tp);
			break;
		case TCPS_CLOSING:
			tcp_enter_time_wait(tp);
			break;
		case TCPS_LAST_ACK:
			*gone = tcp_close(tp) == NULL;
			return false;
		default:
			break;
		}
	}
	return true;
}

/* RFC 9293 3.10.7.4 first check: is the segment acceptable? */
static bool tcp_seq_ok(const struct tcpcb *tp, const struct seg *s)
{
	uint32_t wnd = SEQ_GT(tp->rcv_adv, tp->rcv_nxt)
			   ? tp->rcv_adv - tp->rcv_nxt
			   : 0;
	uint32_t seg_len = s->end - s->seq;

	if (seg_len == 0) {
		if (wnd == 0)
			return s->seq == tp->rcv_nxt;
		return SEQ_GEQ(s->seq, tp->rcv_nxt) &&
		       SEQ_LT(s->seq, tp->rcv_nxt + wnd);
	}
	if (wnd == 0)
		return false;
	return (SEQ_GEQ(s->seq, tp->rcv_nxt) &&
		SEQ_LT(s->seq, tp->rcv_nxt + wnd)) ||
	       (SEQ_GT(s->end, tp->rcv_nxt) &&
		SEQ_LEQ(s->end, tp->rcv_nxt + wnd));
}

static void tcp_rst_input(struct tcpcb *tp)
{
	struct tcp_state *ts = vimage_tcp(tp->vi);

	ts->st.rcv_rst++;
	switch (tp->state) {
	case TCPS_SYN_RECEIVED:
		/* A passive open goes back to listening (the child just
		 * disappears); an active one was refused. */
		if (tp->listener) {
			tcp_pcb_free(tp);
			return;
		}
		ts->st.attempt_fails++;
		tcp_drop(tp, -ECONNREFUSED);
		return;
	case TCPS_ESTABLISHED:
	case TCPS_CLOSE_WAIT:
		ts->st.estab_resets++;
		/* fall through */
	case TCPS_FIN_WAIT_1:
	case TCPS_FIN_WAIT_2:
		/* Linux's tcp_reset: EPIPE once the peer had closed its
		 * side (recv still says end of stream), else ECONNRESET. */
		if (tp->so)
			tp->so->error = tp->state == TCPS_CLOSE_WAIT
					    ? -EPIPE
					    : -ECONNRESET;
		tcp_close(tp);
		return;
	default:
		tcp_close(tp);
		return;
	}
}

/* The rest of RFC 9293 3.10.7.4 for SYN_RECEIVED and the synchronized
 * states. Consumes p. */
static void tcp_do_segment(struct tcpcb *tp, struct seg *s, struct pkt *p)
{
	struct vimage *vi = tp->vi;
	struct tcp_state *ts = vimage_tcp(vi);
	struct world *w = vi->world;
	bool gone = false;
	uint32_t win;

	tp->ic.segs_in++;
	if (s->len)
		tp->ic.data_segs_in++;

	/* The peer resent its SYN: our SYN-ACK was lost. Answer it now
	 * rather than with an ACK its SYN_SENT would drop (Linux's
	 * tcp_check_req). */
	if (tp->state == TCPS_SYN_RECEIVED &&
	    (s->flags & (TCPF_SYN | TCPF_ACK | TCPF_RST)) == TCPF_SYN &&
	    s->seq == tp->irs) {
		tp->snd_nxt = tp->iss;
		tcp_output(tp);
		goto drop;
	}

	/* PAWS (RFC 7323 5.3). */
	if ((tp->flags & TF_RCVD_TS) && (s->th.opts & TCPO_TS) &&
	    !(s->flags & TCPF_RST) && tp->ts_recent &&
	    SEQ_LT(s->th.tsval, tp->ts_recent)) {
		/* A ts_recent idle for 24 days is invalid (5.5). */
		if (w->now - tp->ts_recent_age > 24ull * 86400 * NSEC_PER_SEC) {
			tp->ts_recent = 0;
		} else {
			ts->st.rcv_old++;
			if (s->end != s->seq)
				tcp_send_ack(tp);
			goto drop;
		}
	}
	/* 1. Sequence number check. */
	if (!tcp_seq_ok(tp, s)) {
		ts->st.rcv_oow++;
		if (!(s->flags & TCPF_RST))
			tcp_send_ack(tp);
		goto drop;
	}
	/* An acceptable segment: the peer is alive (keepalive, user
	 * timeout); spoofed out-of-window ones do not count. */
	tp->last_rcv = w->now;
	tp->keepcnt_sent = 0;
	/* RFC 7323 4.3: remember the timestamp of the segment that
	 * advances the left edge. */
	if ((s->th.opts & TCPO_TS) && (tp->flags & TF_RCVD_TS) &&
	    SEQ_GEQ(s->th.tsval, tp->ts_recent) &&
	    SEQ_LEQ(s->seq, tp->last_ack_sent)) {
		tp->ts_recent = s->th.tsval;
		tp->ts_recent_age = w->now;
	}
	/* 2. RST (RFC 5961 3.2): exact match resets, in-window
	 * challenges. */
	if (s->flags & TCPF_RST) {
		if (s->seq == tp->rcv_nxt)
			tcp_rst_input(tp);
		else if (tcp_challenge_ok(ts, w->now))
			tcp_send_ack(tp);
		goto drop;
	}
	/* 4. SYN in a synchronized state or SYN_RECEIVED (RFC 5961 4):
	 * challenge ACK. */
	if (s->flags & TCPF_SYN) {
		if (tcp_challenge_ok(ts, w->now))
			tcp_send_ack(tp);
		goto drop;
	}
	/* Trim what lies before rcv_nxt and beyond the window. */
	if (SEQ_LT(s->seq, tp->rcv_nxt)) {
		uint32_t n = tp->rcv_nxt - s->seq;

		if (n >= s->len) {
			/* All old data: keep a FIN that is new. */
			if ((s->flags & TCPF_FIN) &&
			    s->seq + s->len == tp->rcv_nxt) {
				n = s->len;
			} else if (s->flags & TCPF_FIN) {
				s->flags &= (uint8_t)~TCPF_FIN;
				n = s->len;
			} else {
				n = s->len;
			}
			tp->flags |= TF_ACKNOW; /* a duplicate: ACK at once */
			ts->st.rcv_dupack += s->len ? 1 : 0;
		}
		pkt_pull(p, n);
		s->seq += n;
		s->len -= n;
	}
	{
		uint32_t wnd = SEQ_GT(tp->rcv_adv, tp->rcv_nxt)
				   ? tp->rcv_adv - tp->rcv_nxt
				   : 0;
		uint32_t space = tcp_rcv_space(tp);

		/* Accept up to what we promised, or what fits. */
		if (space > wnd)
			wnd = space;
		if (SEQ_GT(s->seq + s->len, tp->rcv_nxt + wnd)) {
			uint32_t keep = SEQ_GT(tp->rcv_nxt + wnd, s->seq)
					    ? tp->rcv_nxt + wnd - s->seq
					    : 0;

			pkt_trim(p, keep);
			s->len = keep;
			s->flags &= (uint8_t)~TCPF_FIN;
			tp->flags |= TF_ACKNOW;
		}
	}
	/* 5. ACK. */
	if (!(s->flags & TCPF_ACK))
		goto drop;
	if (tp->state == TCPS_SYN_RECEIVED) {
		if (SEQ_LEQ(s->th.ack, tp->snd_una) ||
		    SEQ_GT(s->th.ack, tp->snd_max)) {
			tcp_reply_rst(vi, s);
			goto drop;
		}
		if (tp->listener) {
			struct tcpcb *lp = tp->listener;

			if (lp->lq->qlen > lp->lq->backlog) {
				/* Accept queue full: ignore the ACK, the
				 * SYN-ACK timer will try again (Linux). */
				ts->st.listen_overflows++;
				ts->st.listen_drops++;
				goto drop;
			}
		}
		if (tp->rtt_start) {
			tcp_rtt_sample(tp, (uint32_t)((w->now - tp->rtt_start) /
						      NSEC_PER_USEC));
			tp->rtt_start = 0;
		}
		tcp_established(tp);
		tp->snd_wnd = (uint32_t)s->th.win << tp->snd_scale;
		tp->max_sndwnd = tp->snd_wnd;
		tp->snd_wl1 = s->seq;
		tp->snd_wl2 = s->th.ack;
		tp->snd_una = s->th.ack;
		tp->tt[TT_REXMT] = 0;
		tp->rxtshift = 0;
		if (tp->listener)
			tcp_listen_complete(tp);
		else
			ts->st.active_opens++;
		tcp_wakeup(tp);
	}
	if (!tcp_ack(tp, s, &gone)) {
		if (gone) {
			pkt_free(w, p);
			return;
		}
		goto drop;
	}
	/* Window update (RFC 9293 3.10.7.4, fifth check). */
	win = (uint32_t)s->th.win << tp->snd_scale;
	if (SEQ_LT(tp->snd_wl1, s->seq) ||
	    (tp->snd_wl1 == s->seq && SEQ_LEQ(tp->snd_wl2, s->th.ack))) {
		bool opened = win > tp->snd_wnd;

		tp->snd_wnd = win;
		tp->snd_wl1 = s->seq;
		tp->snd_wl2 = s->th.ack;
		if (win > tp->max_sndwnd)
			tp->max_sndwnd = win;
		if (win && opened && tcp_timer_on(tp, TT_PERSIST)) {
			tp->tt[TT_PERSIST] = 0;
			tp->persist_shift = 0;
		}
	}
	if (tp->state == TCPS_TIME_WAIT) {
		/* Our FIN was acked from CLOSING; the ACK was all. */
		goto drop;
	}
	/* 7. Segment text. */
	if (s->len && (tp->state == TCPS_ESTABLISHED ||
		       tp->state == TCPS_FIN_WAIT_1 ||
		       tp->state == TCPS_FIN_WAIT_2)) {
		if (tp->flags & TF_ORPHAN) {
			/* Data for a closed socket: nobody will read it
			 * (RFC 9293 3.10.7.4; Linux resets). */
			ts->st.rcv_afterclose++;
			tcp_drop(tp, 0);
			pkt_free(w, p);
			return;
		}
		if ((s->th.flags & TCPF_CWR) && (tp->flags & TF_ECN))
			tp->flags &= ~TF_ECE;
		if (s->seq == tp->rcv_nxt && !tp->reass.count) {
			uint32_t len = s->len;

			tcp_deliver(tp, p);
			p = NULL;
			if (tp->quickacks) {
				tp->quickacks--;
				tp->flags |= TF_ACKNOW;
			} else if ((tp->flags & TF_DELACK) ||
				   len >= 2u * tp->mss) {
				tp->flags |= TF_ACKNOW;
			} else {
				tp->flags |= TF_DELACK;
				if (!tcp_timer_on(tp, TT_DELACK))
					tcp_timer_set(
					    tp, TT_DELACK,
					    (uint64_t)ts->delack_ms *
						NSEC_PER_MSEC);
			}
		} else {
			/* Out of order, or filling a hole: ACK at once
			 * (RFC 5681 4.2) so the sender sees the news. */
			if (s->seq == tp->rcv_nxt) {
				tcp_deliver(tp, p);
			} else {
				ts->st.ooo_segs++;
				tp->ic.rcv_ooopack++;
				tcp_reass_insert(w, &tp->reass, p, s->seq,
						 tp->rcv_nxt);
			}
			p = NULL;
			tp->flags |= TF_ACKNOW;
		}
		tcp_rcv_autotune(tp);
		tcp_wakeup(tp);
	}
	/* 8. FIN. */
	if (s->flags & TCPF_FIN) {
		/* Taken below once rcv_nxt reaches it: at once when in order,
		 * else when the hole before it fills. */
		tp->flags |= TF_RCVFIN_OOO | TF_ACKNOW;
		tp->rcv_fin_seq = s->seq + s->len;
	}
	if ((tp->flags & TF_RCVFIN_OOO) && tp->rcv_fin_seq == tp->rcv_nxt &&
	    !TCPS_HAVERCVDFIN(tp->state)) {
		tp->flags &= ~TF_RCVFIN_OOO;
		tp->flags |= TF_GOTFIN | TF_ACKNOW;
		tp->rcv_nxt++;
		switch (tp->state) {
		case TCPS_SYN_RECEIVED:
		case TCPS_ESTABLISHED:
			tcp_set_state(tp, TCPS_CLOSE_WAIT);
			break;
		case TCPS_FIN_WAIT_1:
			tcp_set_state(tp, TCPS_CLOSING);
			break;
		case TCPS_FIN_WAIT_2:
			tcp_enter_time_wait(tp);
			break;
		default:
			break;
		}
		tcp_wakeup(tp);
	}
	/* An ACK may have opened the window, ended or advanced recovery
	 * (RFC 6675 5 (C): send while pipe < cwnd on every ACK), or we owe
	 * one. */
	tcp_output(tp);
drop:
	if (p)
		pkt_free(w, p);
}

/* ---- entry ------------------------------------------------------------------ */
void tcp_input(struct vimage *vi, struct ifnet *ifp, struct pkt *p,
	       const struct ipv4_repr *ip)
{
	struct tcp_state *ts = vimage_tcp(vi);
	struct tcpcb *tp;
	struct seg s;
	int err;

	ts->st.in_segs++;
	err = tcp4_parse(p->data, p->len, &s.th, ip->src, ip->dst,
			 !(p->flags & (PKT_CSUM_OK | PKT_CSUM_NONE)));
	if (err) {
		ts->st.in_errs++;
		if (err == WIRE_ECKSUM)
			ts->st.badsum++;
		else if (err == WIRE_EOPTION)
			ts->st.badopt++;
		else
			ts->st.badoff++;
		goto drop;
	}
	/* Never to a broadcast or multicast address (RFC 1122 4.2.3.10):
	 * ip_input marked every IP broadcast it delivers with PKT_BCAST
	 * (limited and directed alike) and dropped multicast and broadcast
	 * sources as martians, so no route lookup is needed here. */
	if ((p->flags & (PKT_BCAST | PKT_MCAST)) || s.th.sport == 0 ||
	    s.th.dport == 0) {
		ts->st.in_errs++;
		goto drop;
	}
	s.flags = s.th.flags;
	/* SYN+FIN and SYN+RST have no meaning in any state; Linux and
	 * FreeBSD drop them. */
	if ((s.flags & TCPF_SYN) && (s.flags & (TCPF_FIN | TCPF_RST))) {
		ts->st.badflags++;
		ts->st.in_errs++;
		goto drop;
	}
	pkt_pull(p, s.th.doff);
	s.len = (uint32_t)s.th.payload_len;
	pkt_trim(p, s.len);
	s.seq = s.th.seq;
	s.end = s.seq + s.len + !!(s.flags & TCPF_SYN) + !!(s.flags & TCPF_FIN);
	s.laddr = ip->dst;
	s.faddr = ip->src;
	s.tos = ip->tos;
	if ((ip->tos & 3) == 3)
		ts->st.ecn_ce++;

	tp = tcp_lookup(ts, ip->dst, s.th.dport, ip->src, s.th.sport);
	if (tp && tp->state == TCPS_TIME_WAIT) {
		if (!tcp_timewait_input(tp, &s, p))
			return;
		tp = NULL; /* reused: on to the listener */
	}
	if (tp && (tp->flags & TF_ECN) && (ip->tos & 3) == 3)
		tp->flags |= TF_ECE | TF_ACKNOW;
	if (!tp) {
		struct tcpcb *lp = tcp_lookup_listen(ts, ip->dst, s.th.dport);

		if (lp) {
			tcp_listen_input(lp, &s, p);
			return;
		}
		ts->st.no_port++;
		tcp_reply_rst(vi, &s);
		goto drop;
	}
	switch (tp->state) {
	case TCPS_CLOSED:
		tcp_reply_rst(vi, &s);
		goto drop;
	case TCPS_LISTEN:
		tcp_listen_input(tp, &s, p);
		return;
	case TCPS_SYN_SENT:
		tcp_syn_sent_input(tp, &s, p);
		return;
	default:
		tcp_do_segment(tp, &s, p);
		return;
	}
drop:
	pkt_free(vi->world, p);
}

/* An ICMP error about a segment we sent (RFC 5927: check that the
 * quoted sequence number is in flight; RFC 1191 PMTU discovery). */
void tcp_ctlinput(struct vimage *vi, int err, uint16_t mtu,
		  const struct ipv4_repr *inner, const uint8_t *l4,
		  size_t l4len)
{
	struct tcp_state *ts = vimage_tcp(vi);
	struct tcpcb *tp;
	uint32_t seq;

	if (l4len < 8)
		return;
	tp = tcp_lookup(ts, inner->src, rd16(l4), inner->dst, rd16(l4 + 2));
	if (!tp || tp->state == TCPS_TIME_WAIT)
		return;
	seq = rd32(l4 + 4);
	if (SEQ_LT(seq, tp->snd_una) || SEQ_GT(seq, tp->snd_max))
		return;
	if (err == EMSGSIZE) {
		/* Route MTU: clamp and resend at the smaller size. */
		if (mtu >= 68 && tp->rt_valid && mtu < tp->rt.mtu) {
			uint16_t old = tp->mss;

			/* The cached route carries the path MTU until the
			 * routes change; the segment size stays within the
			 * peer's MSS and TCP_MAXSEG too. */
			tp->rt.mtu = mtu;
			tcp_mss_update(tp);
			if (tp->mss < old)
				tcp_retransmit_head(tp);
		}
		return;
	}
	/* An unreachable destination ends a connection attempt at once
	 * (Linux's tcp_v4_err); an established connection keeps trying
	 * (RFC 1122 4.2.3.9) and reports the error if it times out. */
	if (tp->state == TCPS_SYN_SENT) {
		vimage_tcp(vi)->st.attempt_fails++;
		tcp_drop(tp, -err);
		return;
	}
	tp->error = -err;
}

/* ---- timers ----------------------------------------------------------------- */
bool tcp_timer_rexmt(struct tcpcb *tp)
{
	struct tcp_state *ts = vimage_tcp(tp->vi);
	uint32_t flight = tp->snd_max - tp->snd_una;
	int64_t limit = ts->retries2;

	if (tp->state == TCPS_SYN_SENT)
		limit = tp->syncnt ? tp->syncnt : ts->syn_retries;
	else if (tp->state == TCPS_SYN_RECEIVED)
		limit = ts->synack_retries;
	if (tp->rxtshift >= limit ||
	    (tp->user_timeout_ms && tp->last_rcv &&
	     tp->vi->world->now - tp->last_rcv >
		 (uint64_t)tp->user_timeout_ms * NSEC_PER_MSEC)) {
		if (tp->state == TCPS_SYN_SENT)
			ts->st.attempt_fails++;
		return tcp_drop(tp, tp->error ? tp->error : -ETIMEDOUT) !=
		       NULL;
	}
	if (tp->snd_una == tp->snd_max && tp->snd_end == tp->snd_nxt &&
	    !((tp->flags & TF_NEEDFIN) && !(tp->flags & TF_SENTFIN)))
		return true; /* nothing outstanding, nothing waiting */
	tp->rxtshift++;
	ts->st.rto_fired++;
	if (TCPS_HAVEESTABLISHED(tp->state))
		tp->cc.ops->on_rto(&tp->cc, flight, tp->rxtshift == 1,
				   tp->vi->world->now);
	tp->flags &= ~TF_INRECOVERY;
	tp->dupacks = 0;
	tp->rtt_start = 0;
	tp->snd_recover = tp->snd_max;
	tcp_sb_clear(&tp->sb);
	if (tp->state == TCPS_SYN_SENT || tp->state == TCPS_SYN_RECEIVED)
		tp->snd_nxt = tp->iss;
	else
		tp->snd_nxt = tp->snd_una;
	tp->snd_hint = NULL;
	/* Resend with the backed-off timer. */
	tcp_timer_set(tp, TT_REXMT, tcp_rto_ns(tp));
	if (tp->snd_wnd == 0 && SEQ_LT(tp->snd_una, tp->snd_end) &&
	    TCPS_HAVEESTABLISHED(tp->state)) {
		/* The peer shrank its window to zero under data in flight:
		 * resend the head anyway, as a probe (Linux does). */
		uint32_t len = tp->snd_end - tp->snd_una;

		if (len > tp->mss)
			len = tp->mss;
		if (tcp_output_seg(tp, tp->snd_una, len, true) == 0)
			tp->snd_nxt = tp->snd_una + len;
		return true;
	}
	tcp_output(tp);
	return true;
}

bool tcp_timer_persist(struct tcpcb *tp)
{
	struct tcp_state *ts = vimage_tcp(tp->vi);
	uint64_t t;

	if (tp->snd_end == tp->snd_nxt && !(tp->flags & TF_NEEDFIN)) {
		tp->persist_shift = 0;
		return true;
	}
	if (tp->snd_wnd) {
		/* A window too small for a segment, or TCP_CORK's 200 ms
		 * ceiling: send what the window takes (RFC 1122 4.2.3.4's
		 * override timer). */
		tp->persist_shift = 0;
		tp->flags |= TF_FORCE;
		tcp_output(tp);
		tp->flags &= ~TF_FORCE;
		return true;
	}
	/* Zero window. Unanswered probes end the connection like
	 * unanswered retransmissions (Linux's tcp_probe_timer); an orphan
	 * gets a few probes even if answered. */
	if (tp->probes_out >= ts->retries2 ||
	    ((tp->flags & TF_ORPHAN) && tp->persist_shift >= 8)) {
		return tcp_drop(tp, -ETIMEDOUT) != NULL;
	}
	ts->st.persist_probes++;
	tp->probes_out++;
	tcp_send_probe(tp);
	if (tp->persist_shift < 16)
		tp->persist_shift++;
	t = (uint64_t)(tp->rto_us ? tp->rto_us : 200000) * NSEC_PER_USEC
	    << tp->persist_shift;
	if (t > 60 * NSEC_PER_SEC)
		t = 60 * NSEC_PER_SEC;
	if (t < 200 * NSEC_PER_MSEC)
		t = 200 * NSEC_PER_MSEC;
	tcp_timer_set(tp, TT_PERSIST, t);
	return true;
}

bool tcp_timer_keep(struct tcpcb *tp)
{
	struct tcp_state *ts = vimage_tcp(tp->vi);
	struct world *w = tp->vi->world;
	uint64_t idle = w->now - tp->last_rcv;
	uint64_t keepidle = (uint64_t)tp->keepidle_s * NSEC_PER_SEC;

	if (!tp->so || !(tp->so->options & SOF_KEEPALIVE) ||
	    tp->state < TCPS_ESTABLISHED || tp->state == TCPS_TIME_WAIT)
		return true;
	if (idle < keepidle) {
		tp->keepcnt_sent = 0;
		tcp_timer_set(tp, TT_KEEP, keepidle - idle);
		return true;
	}
	if (tp->keepcnt_sent >= tp->keepcnt) {
		ts->st.keep_drops++;
		return tcp_drop(tp, -ETIMEDOUT) != NULL;
	}
	ts->st.keep_probes++;
	tp->keepcnt_sent++;
	tcp_send_keepalive(tp);
	tcp_timer_set(tp, TT_KEEP, (uint64_t)tp->keepintvl_s * NSEC_PER_SEC);
	return true;
}

bool tcp_timer_2msl(struct tcpcb *tp)
{
	if (tp->state == TCPS_TIME_WAIT)
		return tcp_close(tp) != NULL;
	if (tp->state == TCPS_FIN_WAIT_2 && (tp->flags & TF_ORPHAN))
		return tcp_drop(tp, 0) != NULL;
	return true;
}
