/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * TCP (internal): the connection block, the per-vimage state, and the
 * interfaces between tcp_subr.c (tables, timers, RTT), tcp_input.c (the
 * state machine), tcp_output.c (what to send) and tcp_usrreq.c (the socket
 * calls).
 *
 * A connection (struct tcpcb) lives independently of its socket: a socket
 * closed with data still to send leaves an orphan that finishes the close
 * (FIN_WAIT_*, LAST_ACK, TIME_WAIT), and a connection completed by a
 * listener waits in the accept queue with no socket until accept() makes
 * one. So the connection owns its send and receive queues; the socket
 * points at it.
 */
#ifndef VIMAGE_TCP_VAR_H
#define VIMAGE_TCP_VAR_H

#include "netinet/inet.h"
#include "netinet/tcp_cc.h"
#include "netinet/tcp_sack.h"

/* RFC 9293 states, in FreeBSD's order so that ranges mean something:
 * >= ESTABLISHED is synchronized, >= FIN_WAIT_1 has sent a FIN. */
enum tcp_fsm {
	TCPS_CLOSED,
	TCPS_LISTEN,
	TCPS_SYN_SENT,
	TCPS_SYN_RECEIVED,
	TCPS_ESTABLISHED,
	TCPS_CLOSE_WAIT,
	TCPS_FIN_WAIT_1,
	TCPS_CLOSING,
	TCPS_LAST_ACK,
	TCPS_FIN_WAIT_2,
	TCPS_TIME_WAIT,
	TCPS_COUNT
};
#define TCPS_HAVEESTABLISHED(s) ((s) >= TCPS_ESTABLISHED)
#define TCPS_HAVERCVDFIN(s)                                                 \
	((s) == TCPS_CLOSE_WAIT || (s) == TCPS_CLOSING ||                   \
	 (s) == TCPS_LAST_ACK || (s) == TCPS_TIME_WAIT)

/* The connection's timers share one wheel timer: each has a deadline
 * (0: not running), the wheel timer is armed at the earliest, and a
 * deadline moved later costs nothing until the wheel timer fires. */
enum tcp_timer_id {
	TT_REXMT,   /* retransmission (and SYN, SYN-ACK, FIN) */
	TT_PERSIST, /* zero-window probe */
	TT_DELACK,  /* delayed ACK */
	TT_KEEP,    /* keepalive; connection-establishment timeout */
	TT_2MSL,    /* TIME_WAIT; FIN_WAIT_2 timeout of an orphan */
	TT_COUNT
};

/* tp->flags */
#define TF_ACKNOW 0x1       /* send an ACK now */
#define TF_DELACK 0x2       /* an ACK is owed (delayed) */
#define TF_NODELAY 0x4      /* TCP_NODELAY: no Nagle */
#define TF_CORK 0x8         /* TCP_CORK: full segments only */
#define TF_SENTFIN 0x10     /* our FIN has been sent (snd_max covers it) */
#define TF_NEEDFIN 0x20     /* user closed/shut down: send a FIN after data */
#define TF_REQ_TS 0x40      /* we offer / use timestamps */
#define TF_RCVD_TS 0x80     /* the peer sent timestamps */
#define TF_REQ_SCALE 0x100  /* we offer window scaling */
#define TF_RCVD_SCALE 0x200 /* the peer agreed */
#define TF_SACK_PERMIT 0x400 /* both sides do SACK */
#define TF_INRECOVERY 0x800 /* fast recovery (NewReno or SACK) */
#define TF_ORPHAN 0x1000    /* the socket has been closed */
#define TF_ACCEPTED 0x2000  /* handed to a socket by accept */
#define TF_ECN 0x4000       /* ECN negotiated (RFC 3168) */
#define TF_ECE 0x8000       /* send ECE until the peer answers CWR */
#define TF_SENDCWR 0x10000  /* send CWR on the next data segment */
#define TF_QUICKACK 0x40000 /* ACK every segment (start of connection) */
#define TF_SACK_REQ 0x200000 /* we offer SACK */
#define TF_SYNQ 0x400000    /* on the listener's SYN queue (else accept q) */
#define TF_RCVFIN_OOO 0x800000 /* a FIN is waiting above a hole */
#define TF_WASCONN 0x1000000 /* reached ESTABLISHED once */
#define TF_FORCE 0x2000000   /* probe timer: send window-limited data */
#define TF_GOTFIN 0x4000000  /* the peer's FIN was taken (Linux SOCK_DONE) */

/* A listener: SYN queue (embryonic) and accept queue (complete). */
struct tcp_lq {
	struct list synq, acceptq;
	uint32_t qlen, q0len, backlog;
};

struct tcp_info_counts {
	uint64_t bytes_acked, bytes_received, bytes_sent, bytes_retrans;
	uint32_t segs_out, segs_in, data_segs_out, data_segs_in;
	uint32_t total_retrans;
	uint32_t rcv_ooopack;
};

struct tcpcb {
	struct tcpcb *hnext;   /* connection hash chain (htab) */
	struct tcpcb *lnext;   /* local port chain (ltab) */
	struct list link;      /* every connection of the vimage */
	struct list qlink;     /* a listener's SYN or accept queue */
	struct vimage *vi;
	struct vsocket *so;    /* NULL for an orphan or before accept */
	struct tcpcb *listener; /* while on a listener's queue */

	uint32_t laddr, faddr; /* host order */
	uint16_t lport, fport;
	uint8_t state;
	uint8_t rxtshift;     /* retransmissions of the current segment */
	uint8_t dupacks;
	uint8_t snd_scale, rcv_scale; /* window scale shifts in force */
	uint8_t req_rcv_scale; /* the shift we offer */
	uint8_t keepcnt_sent;
	uint8_t sopts;         /* SOF_REUSEADDR/REUSEPORT at bind time */
	bool in_lhash, in_hash;
	uint8_t quickacks;     /* segments still to ACK at once */
	bool rcvbuf_locked, sndbuf_locked;
	uint8_t persist_shift; /* probe backoff */
	uint8_t probes_out;    /* probes without any ACK in answer */
	uint32_t flags;

	/* Send sequence space (RFC 9293 3.3.1). snd_max is the highest
	 * sequence sent (snd_nxt drops back below it to retransmit). */
	uint32_t iss, snd_una, snd_nxt, snd_max, snd_wl1, snd_wl2;
	uint32_t snd_end; /* after the last byte queued (a FIN goes here) */
	uint32_t snd_wnd, max_sndwnd;
	uint32_t snd_recover; /* RFC 6582 "recover" */
	/* Receive sequence space. rcv_adv: the right edge we advertised. */
	uint32_t irs, rcv_nxt, rcv_adv;
	uint32_t last_ack_sent;
	uint32_t rcv_fin_seq; /* a FIN seen above rcv_nxt (TF_RCVFIN_OOO) */
	uint32_t ts_recent;   /* RFC 7323 TS.Recent */
	uint64_t ts_recent_age; /* ns */
	uint64_t app_read;    /* bytes the user has read (autotuning) */
	uint32_t ts_off;      /* our TSval offset (per connection) */

	uint16_t mss;     /* SMSS: payload per segment, without options */
	uint16_t peer_mss; /* what the peer announced (536 when none) */
	uint16_t user_mss; /* TCP_MAXSEG (0: none) */

	/* RTT (RFC 6298), microseconds. */
	uint32_t srtt_us, rttvar_us, rto_us, min_rtt_us, last_rtt_us;
	uint32_t rtt_seq;  /* timed segment when no timestamps */
	uint64_t rtt_start; /* ns; 0: nothing timed */

	struct tcp_cc cc;
	struct tcp_sb sb;
	struct tcp_reass reass;

	/* Send queue: payload from snd_una on, in packets whose first
	 * sequence number is in cb.u64[0]. snd_hint caches the packet that
	 * holds snd_nxt. */
	struct pktq sndq;
	struct pkt *snd_hint;
	uint32_t sndbuf, rcvbuf;
	/* In-order received data not yet read (payload packets). */
	struct pktq rcvq;
	uint32_t rcvq_off; /* bytes already read from the head packet */

	struct timer timer;
	uint64_t tt[TT_COUNT];
	uint64_t last_rcv;  /* ns: anything received (keepalive) */
	uint64_t last_send; /* ns: data last sent (idle restart) */
	uint64_t rcv_space_time; /* receive-buffer autotuning epoch */
	uint64_t rcv_space_seq; /* app_read at the start of the epoch */

	/* Options set by the user. */
	uint32_t keepidle_s, keepintvl_s;
	uint8_t keepcnt;
	uint8_t syncnt;
	int16_t linger_s; /* -1: off */
	uint32_t user_timeout_ms;
	uint32_t notsent_lowat;

	/* A listener's queues, allocated by listen (NULL otherwise). */
	struct tcp_lq *lq;

	/* Cached route: valid while the vimage's route generation matches. */
	struct ip_route rt;
	uint32_t rt_gen; /* low bits of the route generation */
	uint32_t bound_ifindex; /* SO_BINDTODEVICE at connect time */
	bool rt_valid;
	uint8_t ttl, tos;
	int error; /* pending error for the socket (negative errno) */
	struct tcp_info_counts ic;
};

struct tcp_stats {
	uint64_t active_opens, passive_opens, attempt_fails, estab_resets;
	uint64_t in_segs, out_segs, retrans_segs, in_errs, out_rsts;
	uint64_t badsum, badoff, badopt, badflags, no_port, rcv_rst;
	uint64_t rcv_dupack, rcv_oow, rcv_old, rcv_afterclose;
	uint64_t listen_overflows, listen_drops, syn_dropped;
	uint64_t challenge_acks, fast_retrans, sack_recoveries, rto_fired;
	uint64_t persist_probes, keep_probes, keep_drops, timewait_reused;
	uint64_t delayed_acks, pure_acks, predicted_data, predicted_acks;
	uint64_t ooo_segs, rcvbuf_prunes, ecn_ce;
};

struct tcp_state {
	struct tcpcb **htab; /* connections by 4-tuple */
	uint32_t hcap, hcount;
	struct tcpcb **ltab; /* listeners (and bound, unconnected) by lport */
	uint32_t lcap, lcount;
	struct list all;
	uint32_t count;      /* tcpcbs alive (incl. orphans, TIME_WAIT) */
	uint32_t orphans;
	uint64_t secret;     /* RFC 6528 ISN key; RFC 6056 port key */
	uint32_t next_ephemeral;
	/* Knobs (net.inet.tcp.*) */
	int64_t port_lo, port_hi;
	int64_t mssdflt;      /* default MSS towards a peer without one */
	int64_t rto_min_ms, rto_max_ms, rto_init_ms;
	int64_t msl_ms;       /* TIME_WAIT lasts 2*MSL */
	int64_t fin_timeout_s; /* orphan FIN_WAIT_2 */
	int64_t keepidle_s, keepintvl_s, keepcnt;
	int64_t syn_retries, synack_retries, retries2;
	int64_t delack_ms;
	int64_t do_sack, do_ts, do_wscale, do_ecn;
	int64_t rmem_default, rmem_max, wmem_default, wmem_max;
	int64_t max_orphans;
	int64_t challenge_ack_limit; /* per second (RFC 5961 10) */
	uint64_t chal_window_start;
	int64_t chal_count;
	int64_t cc_default; /* 0: cubic, 1: reno */
	int64_t in_world_csum; /* 1: offload checksums inside the world */
	struct tcp_stats st;
};
static inline struct tcp_state *vimage_tcp(const struct vimage *vi)
{
	return vimage_state(vi, VMOD_TCP);
}
extern const struct vmodule tcp_module;
extern const struct vproto tcp_proto;

/* ---- tcp_subr.c ----------------------------------------------------------- */
struct tcpcb *tcp_pcb_new(struct vimage *vi);
/* Take tp out of every table and queue and free it (and its data). */
void tcp_pcb_free(struct tcpcb *tp);
void tcp_hash_insert(struct tcpcb *tp);
void tcp_hash_remove(struct tcpcb *tp);
struct tcpcb *tcp_lookup(struct tcp_state *ts, uint32_t laddr, uint16_t lport,
			 uint32_t faddr, uint16_t fport);
struct tcpcb *tcp_lookup_listen(struct tcp_state *ts, uint32_t laddr,
				uint16_t lport);
void tcp_lhash_insert(struct tcpcb *tp);
void tcp_lhash_remove(struct tcpcb *tp);
/* Is lport bound by someone else in a way that conflicts with so? */
bool tcp_port_conflict(struct tcp_state *ts, const struct tcpcb *me,
		       uint32_t laddr, uint16_t lport, bool reuse);
int tcp_pick_port(struct tcp_state *ts, struct tcpcb *tp, uint32_t laddr,
		  uint32_t faddr, uint16_t fport, uint16_t *out);
uint32_t tcp_new_isn(struct tcp_state *ts, struct world *w, uint32_t laddr,
		     uint16_t lport, uint32_t faddr, uint16_t fport);
uint32_t tcp_ts_now(const struct tcpcb *tp); /* our TSval clock (ms) */
void tcp_timer_set(struct tcpcb *tp, enum tcp_timer_id id, uint64_t delta_ns);
void tcp_timer_stop(struct tcpcb *tp, enum tcp_timer_id id);
static inline bool tcp_timer_on(const struct tcpcb *tp, enum tcp_timer_id id)
{
	return tp->tt[id] != 0;
}
void tcp_rtt_sample(struct tcpcb *tp, uint32_t rtt_us);
uint64_t tcp_rto_ns(const struct tcpcb *tp); /* with backoff */
/* The route to the peer (cached); NULL on failure with *err set. */
const struct ip_route *tcp_route(struct tcpcb *tp, int *err);
/* MSS we announce on a route, and the effective SMSS once the peer's is
 * known (RFC 9293 3.7.1, RFC 6691: without IP/TCP options). */
uint16_t tcp_mss_for_route(const struct tcpcb *tp, const struct ip_route *rt);
/* Recompute SMSS from the route (cached), the peer's MSS and TCP_MAXSEG. */
void tcp_mss_update(struct tcpcb *tp);
/* Arm the probe timer (zero-window probe, or the RFC 1122 4.2.3.4 override
 * that sends window- or cork-limited data) when data waits and nothing is
 * in flight to clock it. */
void tcp_arm_probe(struct tcpcb *tp);
/* Move to a new state (counts, TIME_WAIT/orphan bookkeeping). */
void tcp_set_state(struct tcpcb *tp, enum tcp_fsm s);
/* Tear down: error to the socket (if any), state CLOSED; frees an orphan
 * or embryonic connection (returns NULL), else leaves the pcb to its
 * socket (returns tp). tcp_drop also sends a RST when synchronized. */
struct tcpcb *tcp_drop(struct tcpcb *tp, int err);
struct tcpcb *tcp_close(struct tcpcb *tp);
void tcp_enter_time_wait(struct tcpcb *tp);
/* Wake the socket (and a listener's socket). */
void tcp_wakeup(struct tcpcb *tp);
/* RFC 5961 10: may we send a challenge ACK now? */
bool tcp_challenge_ok(struct tcp_state *ts, uint64_t now);
/* Receive window we can advertise now, bytes. */
uint32_t tcp_rcv_space(const struct tcpcb *tp);

/* ---- tcp_output.c --------------------------------------------------------- */
/* Send what may be sent: data, SYN, FIN, ACKs, window updates. */
int tcp_output(struct tcpcb *tp);
/* A segment outside any connection state: RST or ACK built from fields
 * (tcp_respond), e.g. answering a segment for no connection. */
void tcp_respond(struct vimage *vi, uint32_t laddr, uint16_t lport,
		 uint32_t faddr, uint16_t fport, uint32_t seq, uint32_t ack,
		 uint8_t flags);
/* Send [seq, seq+len) of queued data now, whatever the windows say
 * (fast retransmit); accounts and arms the timer. 0 or negative errno. */
int tcp_output_seg(struct tcpcb *tp, uint32_t seq, uint32_t len, bool rxt);
/* Send a bare ACK now (challenge ACK, keepalive, window probe). */
void tcp_send_ack(struct tcpcb *tp);
/* Keepalive probe: seq snd_una-1, no data. */
void tcp_send_keepalive(struct tcpcb *tp);
/* Zero-window probe: one byte of new data beyond the window. */
void tcp_send_probe(struct tcpcb *tp);
/* Abort: RST to the peer (synchronized states). */
void tcp_send_rst(struct tcpcb *tp);
/* Retransmit from snd_una (RTO) or the given sequence. */
void tcp_retransmit_head(struct tcpcb *tp);

/* ---- tcp_input.c ---------------------------------------------------------- */
void tcp_input(struct vimage *vi, struct ifnet *ifp, struct pkt *p,
	       const struct ipv4_repr *ip);
void tcp_ctlinput(struct vimage *vi, int err, uint16_t mtu,
		  const struct ipv4_repr *inner, const uint8_t *l4,
		  size_t l4len);
/* Timer expiry (tcp_subr.c dispatches here); false when tp was freed. */
bool tcp_timer_rexmt(struct tcpcb *tp);
bool tcp_timer_persist(struct tcpcb *tp);
bool tcp_timer_keep(struct tcpcb *tp);
bool tcp_timer_2msl(struct tcpcb *tp);

/* ---- tcp_usrreq.c --------------------------------------------------------- */
/* A listener's connection became established: queue it for accept. */
void tcp_listen_complete(struct tcpcb *tp);

#endif
