/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * TCP support: the per-vimage module (knobs, counters, teardown), the
 * connection tables, initial sequence numbers and ephemeral ports, the
 * connection timers, RTT estimation and the retransmission timeout, the
 * route cache, MSS, and closing.
 *
 * RFCs: 9293 (TCP), 6298 (RTO), 6528 (ISNs), 6056 (ephemeral ports), 6691
 * (MSS), 7323 (timestamps), 5961 section 10 (challenge ACK limit).
 *
 * Tables. Established (and embryonic, closing, TIME_WAIT) connections are
 * found by their 4-tuple in htab. Every connection that owns a local port
 * (bound, listening, or connected from this side) is also in ltab by that
 * port, which serves listener lookup, bind conflicts and ephemeral port
 * choice; a connection accepted from a listener shares its listener's port
 * and is only in htab, so 10,000 accepted connections never lengthen the
 * chain a SYN walks.
 */
#include <stdlib.h>
#include <string.h>

#include "netinet/tcp_var.h"
#include "socket/socket_var.h"

#define TCP_HASH_MIN 64u
#define TCP_PORT_STEP 500u /* random step between ephemeral choices */

/* ---- tables ---------------------------------------------------------------- */
static uint32_t tcp_hash4(const struct tcp_state *ts, uint32_t laddr,
			  uint16_t lport, uint32_t faddr, uint16_t fport)
{
	uint64_t k = ((uint64_t)faddr << 32 | laddr) ^
		     ((uint64_t)fport << 16 | lport) * 0x9e3779b97f4a7c15ull;

	return (uint32_t)(mix64(k ^ ts->secret) >> 32);
}

static uint32_t tcp_lhash(uint16_t lport, uint32_t cap)
{
	return (uint32_t)(lport * 0x9e3779b1u) & (cap - 1);
}

static int tcp_grow(struct tcpcb ***tab, uint32_t *cap, bool listen,
		    struct tcp_state *ts)
{
	uint32_t ncap = *cap ? *cap * 2 : TCP_HASH_MIN;
	struct tcpcb **nt = calloc(ncap, sizeof(*nt));

	if (!nt)
		return -ENOMEM;
	for (uint32_t i = 0; i < *cap; i++) {
		struct tcpcb *tp = (*tab)[i], *next;

		for (; tp; tp = next) {
			uint32_t h;

			/* Each table chains through its own link. */
			if (listen) {
				next = tp->lnext;
				h = tcp_lhash(tp->lport, ncap);
				tp->lnext = nt[h];
			} else {
				next = tp->hnext;
				h = tcp_hash4(ts, tp->laddr, tp->lport,
					      tp->faddr, tp->fport) &
				    (ncap - 1);
				tp->hnext = nt[h];
			}
			nt[h] = tp;
		}
	}
	free(*tab);
	*tab = nt;
	*cap = ncap;
	return 0;
}

void tcp_hash_insert(struct tcpcb *tp)
{
	struct tcp_state *ts = vimage_tcp(tp->vi);
	uint32_t h;

	if (tp->in_hash)
		return;
	if (ts->hcount + 1 > ts->hcap &&
	    tcp_grow(&ts->htab, &ts->hcap, false, ts) && !ts->hcap)
		return; /* no table at all: the pcb stays unreachable */
	h = tcp_hash4(ts, tp->laddr, tp->lport, tp->faddr, tp->fport) &
	    (ts->hcap - 1);
	tp->hnext = ts->htab[h];
	ts->htab[h] = tp;
	ts->hcount++;
	tp->in_hash = true;
}

void tcp_hash_remove(struct tcpcb *tp)
{
	struct tcp_state *ts = vimage_tcp(tp->vi);
	struct tcpcb **pp;

	if (!tp->in_hash)
		return;
	pp = &ts->htab[tcp_hash4(ts, tp->laddr, tp->lport, tp->faddr,
				 tp->fport) &
		       (ts->hcap - 1)];
	for (; *pp; pp = &(*pp)->hnext) {
		if (*pp == tp) {
			*pp = tp->hnext;
			break;
		}
	}
	tp->hnext = NULL;
	ts->hcount--;
	tp->in_hash = false;
}

struct tcpcb *tcp_lookup(struct tcp_state *ts, uint32_t laddr, uint16_t lport,
			 uint32_t faddr, uint16_t fport)
{
	struct tcpcb *tp;

	if (!ts->hcap)
		return NULL;
	tp = ts->htab[tcp_hash4(ts, laddr, lport, faddr, fport) &
		      (ts->hcap - 1)];
	for (; tp; tp = tp->hnext)
		if (tp->lport == lport && tp->fport == fport &&
		    tp->laddr == laddr && tp->faddr == faddr)
			return tp;
	return NULL;
}

/* A pcb that owns its port and is connected is in both tables: ltab
 * chains go through lnext, htab chains through hnext. */
void tcp_lhash_insert(struct tcpcb *tp)
{
	struct tcp_state *ts = vimage_tcp(tp->vi);
	uint32_t h;

	if (tp->in_lhash)
		return;
	if (ts->lcount + 1 > ts->lcap &&
	    tcp_grow(&ts->ltab, &ts->lcap, true, ts) && !ts->lcap)
		return;
	h = tcp_lhash(tp->lport, ts->lcap);
	tp->lnext = ts->ltab[h];
	ts->ltab[h] = tp;
	ts->lcount++;
	tp->in_lhash = true;
}

void tcp_lhash_remove(struct tcpcb *tp)
{
	struct tcp_state *ts = vimage_tcp(tp->vi);
	struct tcpcb **pp;

	if (!tp->in_lhash)
		return;
	pp = &ts->ltab[tcp_lhash(tp->lport, ts->lcap)];
	for (; *pp; pp = &(*pp)->lnext) {
		if (*pp == tp) {
			*pp = tp->lnext;
			break;
		}
	}
	tp->lnext = NULL;
	ts->lcount--;
	tp->in_lhash = false;
}

struct tcpcb *tcp_lookup_listen(struct tcp_state *ts, uint32_t laddr,
				uint16_t lport)
{
	struct tcpcb *tp, *wild = NULL;

	if (!ts->lcap)
		return NULL;
	for (tp = ts->ltab[tcp_lhash(lport, ts->lcap)]; tp; tp = tp->lnext) {
		if (tp->lport != lport || tp->state != TCPS_LISTEN)
			continue;
		if (tp->laddr == laddr)
			return tp;
		if (tp->laddr == 0 && !wild)
			wild = tp;
	}
	return wild;
}

bool tcp_port_conflict(struct tcp_state *ts, const struct tcpcb *me,
		       uint32_t laddr, uint16_t lport, bool reuse)
{
	struct tcpcb *tp;

	if (!ts->lcap)
		return false;
	for (tp = ts->ltab[tcp_lhash(lport, ts->lcap)]; tp; tp = tp->lnext) {
		if (tp == me || tp->lport != lport)
			continue;
		if (tp->laddr && laddr && tp->laddr != laddr)
			continue;
		/* Linux: SO_REUSEPORT on both shares the port; SO_REUSEADDR
		 * on both shares it unless the other is listening. */
		if (me && (me->sopts & tp->sopts & SOF_REUSEPORT))
			continue;
		if (reuse && (tp->sopts & SOF_REUSEADDR) &&
		    tp->state != TCPS_LISTEN)
			continue;
		return true;
	}
	return false;
}

struct tcp_busy_ctx {
	struct tcp_state *ts;
	const struct tcpcb *tp;
	uint32_t laddr, faddr;
	uint16_t fport;
};

/* A port is usable when no bound or listening socket holds it and the
 * 4-tuple is free: one port serves many peers, as on Linux. */
static bool tcp_port_busy(void *ctx, uint16_t port)
{
	const struct tcp_busy_ctx *c = ctx;
	struct tcp_state *ts = c->ts;
	struct tcpcb *o;

	if (ts->lcap) {
		for (o = ts->ltab[tcp_lhash(port, ts->lcap)]; o; o = o->lnext) {
			if (o->lport != port || o == c->tp)
				continue;
			/* Another connection from this port to a different
			 * peer does not conflict. */
			if (o->state == TCPS_LISTEN || !o->faddr ||
			    (o->faddr == c->faddr && o->fport == c->fport &&
			     (!o->laddr || o->laddr == c->laddr)))
				return true;
		}
	}
	return tcp_lookup(ts, c->laddr, port, c->faddr, c->fport) != NULL;
}

int tcp_pick_port(struct tcp_state *ts, struct tcpcb *tp, uint32_t laddr,
		  uint32_t faddr, uint16_t fport, uint16_t *out)
{
	struct tcp_busy_ctx c = {ts, tp, laddr, faddr, fport};
	struct ephemeral_pick ep = {
	    .lo = ts->port_lo,
	    .hi = ts->port_hi,
	    .key = ts->secret,
	    .counter = &ts->next_ephemeral,
	    .step = TCP_PORT_STEP,
	    .busy = tcp_port_busy,
	    .ctx = &c,
	};

	if (inet_pick_port(&tp->vi->world->rng, &ep, laddr, faddr, fport, out))
		return -EADDRNOTAVAIL; /* Linux's answer: the range is used up */
	return 0;
}

/* RFC 6528: ISN = M + F(localip, localport, remoteip, remoteport, key)
 * with M a 4-microsecond clock. */
uint32_t tcp_new_isn(struct tcp_state *ts, struct world *w, uint32_t laddr,
		     uint16_t lport, uint32_t faddr, uint16_t fport)
{
	uint64_t f = mix64(ts->secret ^ mix64((uint64_t)laddr << 32 | faddr) ^
			   ((uint64_t)lport << 16 | fport));

	return (uint32_t)(w->now / 4000) + (uint32_t)(f >> 32);
}

uint32_t tcp_ts_now(const struct tcpcb *tp)
{
	return (uint32_t)(tp->vi->world->now / NSEC_PER_MSEC) + tp->ts_off;
}

/* ---- timers ---------------------------------------------------------------- */
static void tcp_timer_rearm(struct tcpcb *tp)
{
	uint64_t next = UINT64_MAX;

	for (int i = 0; i < TT_COUNT; i++)
		if (tp->tt[i] && tp->tt[i] < next)
			next = tp->tt[i];
	if (next == UINT64_MAX) {
		timer_cancel(tp->vi->world, &tp->timer);
		return;
	}
	/* An earlier deadline re-arms; a later one waits for the wheel
	 * timer to fire early and re-arm (restarting the retransmission
	 * timer on every ACK then costs a store). */
	if (!timer_pending(&tp->timer) || next < tp->timer.expires)
		timer_arm(tp->vi->world, &tp->timer, next);
}

void tcp_timer_set(struct tcpcb *tp, enum tcp_timer_id id, uint64_t delta_ns)
{
	tp->tt[id] = tp->vi->world->now + (delta_ns ? delta_ns : 1);
	tcp_timer_rearm(tp);
}

void tcp_timer_stop(struct tcpcb *tp, enum tcp_timer_id id)
{
	tp->tt[id] = 0;
	/* Left armed: firing with nothing due just re-arms. */
}

static bool tcp_timer_delack(struct tcpcb *tp)
{
	tp->flags |= TF_ACKNOW;
	vimage_tcp(tp->vi)->st.delayed_acks++;
	tcp_output(tp);
	return true;
}

static void tcp_timer_fire(struct world *w, struct timer *t)
{
	struct tcpcb *tp = container_of(t, struct tcpcb, timer);
	static bool (*const fn[TT_COUNT])(struct tcpcb *) = {
	    [TT_REXMT] = tcp_timer_rexmt,
	    [TT_PERSIST] = tcp_timer_persist,
	    [TT_DELACK] = tcp_timer_delack,
	    [TT_KEEP] = tcp_timer_keep,
	    [TT_2MSL] = tcp_timer_2msl,
	};

	for (int i = 0; i < TT_COUNT; i++) {
		if (!tp->tt[i] || tp->tt[i] > w->now)
			continue;
		tp->tt[i] = 0;
		if (!fn[i](tp))
			return; /* freed */
	}
	tcp_timer_rearm(tp);
}

/* ---- RTT and RTO (RFC 6298) ---------------------------------------------- */
void tcp_rtt_sample(struct tcpcb *tp, uint32_t rtt_us)
{
	struct tcp_state *ts = vimage_tcp(tp->vi);
	uint64_t rto;

	if (rtt_us == 0)
		rtt_us = 1;
	tp->last_rtt_us = rtt_us;
	if (!tp->min_rtt_us || rtt_us < tp->min_rtt_us)
		tp->min_rtt_us = rtt_us;
	if (!tp->srtt_us) {
		tp->srtt_us = rtt_us;
		tp->rttvar_us = rtt_us / 2;
	} else {
		uint32_t d = rtt_us > tp->srtt_us ? rtt_us - tp->srtt_us
						  : tp->srtt_us - rtt_us;

		/* alpha 1/8, beta 1/4 */
		tp->rttvar_us = tp->rttvar_us - tp->rttvar_us / 4 + d / 4;
		tp->srtt_us = tp->srtt_us - tp->srtt_us / 8 + rtt_us / 8;
	}
	/* G, the clock granularity, is 1 us here. */
	rto = (uint64_t)tp->srtt_us +
	      (tp->rttvar_us * 4u > 1 ? tp->rttvar_us * 4u : 1);
	if (rto < (uint64_t)ts->rto_min_ms * 1000)
		rto = (uint64_t)ts->rto_min_ms * 1000;
	if (rto > (uint64_t)ts->rto_max_ms * 1000)
		rto = (uint64_t)ts->rto_max_ms * 1000;
	tp->rto_us = (uint32_t)rto;
	tp->rxtshift = 0; /* RFC 6298 5.7 after a valid sample */
}

uint64_t tcp_rto_ns(const struct tcpcb *tp)
{
	struct tcp_state *ts = vimage_tcp(tp->vi);
	uint64_t rto = (uint64_t)tp->rto_us * NSEC_PER_USEC;
	uint64_t max = (uint64_t)ts->rto_max_ms * NSEC_PER_MSEC;

	rto <<= tp->rxtshift < 30 ? tp->rxtshift : 30;
	return rto > max ? max : rto;
}

/* ---- route and MSS ---------------------------------------------------------- */
const struct ip_route *tcp_route(struct tcpcb *tp, int *err)
{
	struct route_state *rs = vimage_route(tp->vi);
	struct ifnet *force = NULL;

	*err = 0;
	if (tp->rt_valid && tp->rt_gen == (uint32_t)rs->changes &&
	    !tp->bound_ifindex)
		return &tp->rt;
	if (tp->bound_ifindex) {
		force = vif_by_index(tp->vi, tp->bound_ifindex);
		if (!force) {
			*err = -ENODEV;
			return NULL;
		}
	}
	*err = ip_route_out(tp->vi, tp->faddr, force, &tp->rt);
	if (*err) {
		tp->rt_valid = false;
		return NULL;
	}
	if (tp->rt.bcast) {
		*err = -ENETUNREACH;
		tp->rt_valid = false;
		return NULL;
	}
	if (tp->laddr)
		tp->rt.src = tp->laddr;
	tp->rt_gen = (uint32_t)rs->changes;
	tp->rt_valid = true;
	/* The route's MTU may have changed (that bumps the generation). */
	if (TCPS_HAVEESTABLISHED(tp->state))
		tcp_mss_update(tp);
	return &tp->rt;
}

uint16_t tcp_mss_for_route(const struct tcpcb *tp, const struct ip_route *rt)
{
	uint32_t mtu = rt ? rt->mtu : 576;
	uint32_t mss = mtu > 40 + 8 ? mtu - 40 : 8;

	if (tp->user_mss && tp->user_mss < mss)
		mss = tp->user_mss;
	return (uint16_t)(mss > 65495 ? 65495 : mss);
}

void tcp_mss_update(struct tcpcb *tp)
{
	const struct ip_route *rt = tp->rt_valid ? &tp->rt : NULL;
	uint32_t mss;

	mss = tcp_mss_for_route(tp, rt);
	if (tp->peer_mss && tp->peer_mss < mss)
		mss = tp->peer_mss;
	if (tp->flags & TF_RCVD_TS)
		mss -= 12; /* Linux's mss_cache: room for the timestamp */
	if (mss < 64)
		mss = 64; /* a floor against silly peers (Linux: 48 + opts) */
	tp->mss = (uint16_t)mss;
	tp->cc.mss = mss;
}

uint32_t tcp_rcv_space(const struct tcpcb *tp)
{
	uint32_t held = tp->rcvq.bytes - tp->rcvq_off + tp->reass.bytes;

	return held >= tp->rcvbuf ? 0 : tp->rcvbuf - held;
}

/* ---- life cycle -------------------------------------------------------------- */
struct tcpcb *tcp_pcb_new(struct vimage *vi)
{
	struct tcp_state *ts = vimage_tcp(vi);
	struct tcpcb *tp = calloc(1, sizeof(*tp));

	if (!tp)
		return NULL;
	tp->vi = vi;
	list_init(&tp->qlink);
	pktq_init(&tp->sndq);
	pktq_init(&tp->rcvq);
	tcp_reass_init(&tp->reass);
	tcp_sb_init(&tp->sb);
	timer_init(&tp->timer, tcp_timer_fire);
	tp->cc.ops = ts->cc_default ? &tcp_cc_newreno : &tcp_cc_cubic;
	tp->rto_us = (uint32_t)ts->rto_init_ms * 1000;
	tp->peer_mss = (uint16_t)ts->mssdflt;
	tp->linger_s = -1;
	tp->sndbuf = (uint32_t)ts->wmem_default;
	tp->rcvbuf = (uint32_t)ts->rmem_default;
	tp->ts_off = (uint32_t)rng_next(&vi->world->rng);
	list_insert_tail(&ts->all, &tp->link);
	ts->count++;
	vi->world->tcpcb_live++;
	return tp;
}

void tcp_pcb_free(struct tcpcb *tp)
{
	struct tcp_state *ts = vimage_tcp(tp->vi);
	struct world *w = tp->vi->world;
	struct list *l, *tmp;

	/* A listener's embryonic and unaccepted connections go with it. */
	if (tp->lq) {
		list_for_each_safe(l, tmp, &tp->lq->synq)
		    tcp_pcb_free(container_of(l, struct tcpcb, qlink));
		list_for_each_safe(l, tmp, &tp->lq->acceptq)
		    tcp_pcb_free(container_of(l, struct tcpcb, qlink));
		free(tp->lq);
		tp->lq = NULL;
	}
	if (tp->listener) {
		if (tp->flags & TF_SYNQ)
			tp->listener->lq->q0len--;
		else
			tp->listener->lq->qlen--;
		list_remove(&tp->qlink);
		tp->listener = NULL;
	}
	tcp_hash_remove(tp);
	tcp_lhash_remove(tp);
	timer_cancel(w, &tp->timer);
	pktq_purge(w, &tp->sndq);
	pktq_purge(w, &tp->rcvq);
	tcp_reass_purge(w, &tp->reass);
	tcp_sb_free(&tp->sb);
	if (tp->flags & TF_ORPHAN)
		ts->orphans--;
	if (tp->so) {
		tp->so->pcb = NULL;
		tp->so = NULL;
	}
	list_remove(&tp->link);
	ts->count--;
	w->tcpcb_live--;
	free(tp);
}

void tcp_set_state(struct tcpcb *tp, enum tcp_fsm s)
{
	vlog(tp->vi, VLOG_DEBUG, "tcp %u->%u state %d -> %d", tp->lport,
	     tp->fport, tp->state, s);
	tp->state = (uint8_t)s;
	if (tp->so)
		tp->so->connected = TCPS_HAVEESTABLISHED(s);
}

void tcp_wakeup(struct tcpcb *tp)
{
	if (tp->so) {
		so_wakeup(tp->so);
		return;
	}
	if (tp->listener && tp->listener->so && !(tp->flags & TF_SYNQ))
		so_wakeup(tp->listener->so);
}

struct tcpcb *tcp_close(struct tcpcb *tp)
{
	struct world *w = tp->vi->world;

	tcp_set_state(tp, TCPS_CLOSED);
	for (int i = 0; i < TT_COUNT; i++)
		tp->tt[i] = 0;
	timer_cancel(w, &tp->timer);
	tcp_hash_remove(tp);
	pktq_purge(w, &tp->sndq);
	tp->snd_hint = NULL;
	tcp_reass_purge(w, &tp->reass);
	tcp_sb_clear(&tp->sb);
	if (!tp->so || (tp->flags & TF_ORPHAN)) {
		tcp_pcb_free(tp);
		return NULL;
	}
	/* The socket keeps its port (ltab) until it is closed, as a BSD
	 * socket stays bound; unread data stays readable. Both directions
	 * are shut, as Linux's tcp_done says (poll: POLLHUP|POLLIN). */
	tp->so->shut_rd = tp->so->shut_wr = true;
	tcp_wakeup(tp);
	return tp;
}

struct tcpcb *tcp_drop(struct tcpcb *tp, int err)
{
	if (TCPS_HAVEESTABLISHED(tp->state) && tp->state != TCPS_TIME_WAIT)
		tcp_send_rst(tp);
	if (tp->so && err)
		tp->so->error = err;
	return tcp_close(tp);
}

void tcp_enter_time_wait(struct tcpcb *tp)
{
	struct tcp_state *ts = vimage_tcp(tp->vi);

	tcp_set_state(tp, TCPS_TIME_WAIT);
	/* TIME_WAIT is not an orphan (Linux counts it apart): a close
	 * stays graceful however many connections wait here. */
	if (tp->flags & TF_ORPHAN) {
		tp->flags &= ~TF_ORPHAN;
		ts->orphans--;
	}
	for (int i = 0; i < TT_COUNT; i++)
		tp->tt[i] = 0;
	pktq_purge(tp->vi->world, &tp->sndq);
	tp->snd_hint = NULL;
	tcp_reass_purge(tp->vi->world, &tp->reass);
	tcp_sb_free(&tp->sb);
	tcp_timer_set(tp, TT_2MSL, 2 * (uint64_t)ts->msl_ms * NSEC_PER_MSEC);
	tcp_wakeup(tp);
}

bool tcp_challenge_ok(struct tcp_state *ts, uint64_t now)
{
	if (now - ts->chal_window_start >= NSEC_PER_SEC) {
		ts->chal_window_start = now;
		ts->chal_count = 0;
	}
	if (ts->chal_count >= ts->challenge_ack_limit)
		return false;
	ts->chal_count++;
	ts->st.challenge_acks++;
	return true;
}

/* ---- the module -------------------------------------------------------------- */
static int tcp_init(struct vimage *vi, void *state)
{
	struct tcp_state *ts = state;

	memset(ts, 0, sizeof(*ts));
	list_init(&ts->all);
	ts->secret = world_random(vi->world);
	ts->next_ephemeral = (uint32_t)world_random(vi->world);
	/* Linux's defaults. */
	ts->port_lo = 32768;
	ts->port_hi = 60999;
	ts->mssdflt = 536;
	ts->rto_min_ms = 200;
	ts->rto_max_ms = 120000;
	ts->rto_init_ms = 1000;
	ts->msl_ms = 30000;
	ts->fin_timeout_s = 60;
	ts->keepidle_s = 7200;
	ts->keepintvl_s = 75;
	ts->keepcnt = 9;
	ts->syn_retries = 6;
	ts->synack_retries = 5;
	ts->retries2 = 15;
	ts->delack_ms = 40;
	ts->do_sack = 1;
	ts->do_ts = 1;
	ts->do_wscale = 1;
	ts->do_ecn = 0;
	ts->rmem_default = 131072;
	ts->rmem_max = 6291456;
	ts->wmem_default = 16384;
	ts->wmem_max = 4194304;
	ts->max_orphans = 65536;
	ts->challenge_ack_limit = 1000;
	ts->cc_default = 0;
	ts->in_world_csum = 1;
	return 0;
}

static void tcp_destroy(struct vimage *vi, void *state)
{
	struct tcp_state *ts = state;

	/* Sockets are closed by now (the socket module goes first); what is
	 * left are orphans, TIME_WAIT and unaccepted connections. */
	while (!list_empty(&ts->all))
		tcp_pcb_free(container_of(ts->all.next, struct tcpcb, link));
	free(ts->htab);
	free(ts->ltab);
	ts->htab = ts->ltab = NULL;
	ts->hcap = ts->lcap = 0;
}

#define TCP_KNOB(n, f, lo, hi)                                              \
	{"net.inet.tcp." n, offsetof(struct tcp_state, f), lo, hi}
static const struct vknob tcp_knobs[] = {
    TCP_KNOB("port_lo", port_lo, 1, 65535),
    TCP_KNOB("port_hi", port_hi, 1, 65535),
    TCP_KNOB("mssdflt", mssdflt, 88, 65495),
    TCP_KNOB("rto_min_ms", rto_min_ms, 1, 60000),
    TCP_KNOB("rto_max_ms", rto_max_ms, 100, 600000),
    TCP_KNOB("rto_init_ms", rto_init_ms, 1, 60000),
    TCP_KNOB("msl_ms", msl_ms, 0, 600000),
    TCP_KNOB("fin_timeout", fin_timeout_s, 1, 86400),
    TCP_KNOB("keepidle", keepidle_s, 1, 32767),
    TCP_KNOB("keepintvl", keepintvl_s, 1, 32767),
    TCP_KNOB("keepcnt", keepcnt, 1, 127),
    TCP_KNOB("syn_retries", syn_retries, 1, 127),
    TCP_KNOB("synack_retries", synack_retries, 1, 127),
    TCP_KNOB("retries2", retries2, 1, 127),
    TCP_KNOB("delack_ms", delack_ms, 0, 500),
    TCP_KNOB("sack", do_sack, 0, 1),
    TCP_KNOB("timestamps", do_ts, 0, 1),
    TCP_KNOB("window_scaling", do_wscale, 0, 1),
    TCP_KNOB("ecn", do_ecn, 0, 1),
    TCP_KNOB("rmem_default", rmem_default, 4096, 1 << 30),
    TCP_KNOB("rmem_max", rmem_max, 4096, 1 << 30),
    TCP_KNOB("wmem_default", wmem_default, 4096, 1 << 30),
    TCP_KNOB("wmem_max", wmem_max, 4096, 1 << 30),
    TCP_KNOB("max_orphans", max_orphans, 0, 1 << 24),
    TCP_KNOB("challenge_ack_limit", challenge_ack_limit, 1, 1 << 30),
    TCP_KNOB("cc_reno", cc_default, 0, 1),
    TCP_KNOB("in_world_csum_offload", in_world_csum, 0, 1),
};

#define TCP_STAT(f) {"tcp." #f, offsetof(struct tcp_state, st.f)}
static const struct vstat tcp_stats_tab[] = {
    TCP_STAT(active_opens),   TCP_STAT(passive_opens),
    TCP_STAT(attempt_fails),  TCP_STAT(estab_resets),
    TCP_STAT(in_segs),        TCP_STAT(out_segs),
    TCP_STAT(retrans_segs),   TCP_STAT(in_errs),
    TCP_STAT(out_rsts),       TCP_STAT(badsum),
    TCP_STAT(badoff),         TCP_STAT(badopt),
    TCP_STAT(badflags),       TCP_STAT(no_port),
    TCP_STAT(rcv_rst),        TCP_STAT(rcv_dupack),
    TCP_STAT(rcv_oow),        TCP_STAT(rcv_old),
    TCP_STAT(rcv_afterclose), TCP_STAT(listen_overflows),
    TCP_STAT(listen_drops),   TCP_STAT(syn_dropped),
    TCP_STAT(challenge_acks), TCP_STAT(fast_retrans),
    TCP_STAT(sack_recoveries), TCP_STAT(rto_fired),
    TCP_STAT(persist_probes), TCP_STAT(keep_probes),
    TCP_STAT(keep_drops),     TCP_STAT(timewait_reused),
    TCP_STAT(delayed_acks),   TCP_STAT(pure_acks),
    TCP_STAT(predicted_data), TCP_STAT(predicted_acks),
    TCP_STAT(ooo_segs),       TCP_STAT(rcvbuf_prunes),
    TCP_STAT(ecn_ce),
};

const struct vmodule tcp_module = {
    .name = "tcp",
    .id = VMOD_TCP,
    .size = sizeof(struct tcp_state),
    .init = tcp_init,
    .destroy = tcp_destroy,
    .knobs = tcp_knobs,
    .nknobs = ARRAY_SIZE(tcp_knobs),
    .stats = tcp_stats_tab,
    .nstats = ARRAY_SIZE(tcp_stats_tab),
};
