/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Review findings for the TCP implementation: each test demonstrates one
 * bug found in review (all fixed; they stay as regression tests). The
 * comment above each test says what the code did before the fix ("here"
 * is the code as it was reviewed) and what Linux does. The rig is
 * tcp_rig.h: the test plays the peer over an external interface
 * (192.0.2.9 -> us at 192.0.2.1), crafts every segment and reads every
 * segment we send.
 */
#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>

#include "core/kern.h"
#include "harness/test.h"
#include "vimage/net.h"
#include "vimage/socket.h"
#include "wire/wire.h"

#include "tcp_rig.h"

/* ---- helpers for this file ------------------------------------------------ */

/* Passive open where the peer's SYN carries `opts` (MSS 1000 when
 * TCPO_MSS); the handshake's ACK has window 65535. Returns the accepted
 * socket; *iss our ISS. */
static struct vsocket *passive_open_opts(struct rig *r, struct vsocket *lsn,
					 uint8_t opts, uint32_t *iss)
{
	struct tcp_repr t, syn = {.sport = 4000, .dport = 80, .seq = 1000,
				  .flags = TCPF_SYN, .win = 65535,
				  .opts = opts, .mss = 1000};
	struct vsocket *so = NULL;

	peer_send(r, &syn, NULL, 0);
	REQUIRE(got(r, &t, NULL));
	REQUIRE(t.flags == (TCPF_SYN | TCPF_ACK));
	*iss = t.seq;
	seg(r, 80, TCPF_ACK, 1001, t.seq + 1, NULL, 0);
	REQUIRE(vsock_accept(lsn, &so, NULL, NULL) == 0);
	drain(r);
	return so;
}

static void set_reno_nodelay(struct vsocket *so)
{
	int one = 1;

	REQUIRE(vsock_setsockopt(so, IPPROTO_TCP, TCP_CONGESTION, "reno",
				 4) == 0);
	REQUIRE(vsock_setsockopt(so, IPPROTO_TCP, TCP_NODELAY, &one,
				 sizeof(one)) == 0);
}

/* A pure ACK from the peer (seq 1001, window 65535) with SACK blocks
 * [b[2i], b[2i+1]). */
static void peer_ack_sack(struct rig *r, uint32_t ack, const uint32_t *b,
			  int nblk)
{
	struct tcp_repr t = {.sport = 4000, .dport = 80, .seq = 1001,
			     .ack = ack, .flags = TCPF_ACK, .win = 65535};

	for (int i = 0; i < nblk; i++) {
		t.sack[i].start = b[2 * i];
		t.sack[i].end = b[2 * i + 1];
	}
	t.nsack = (uint8_t)nblk;
	if (nblk)
		t.opts |= TCPO_SACK;
	peer_send(r, &t, NULL, 0);
}

/* Collect the data segments we sent: seq of each in seqs (up to max). */
static int sent_data(struct rig *r, uint32_t *seqs, int max)
{
	struct tcp_repr t;
	int n = 0;

	while (got(r, &t, NULL)) {
		if (!t.payload_len)
			continue;
		if (n < max)
			seqs[n] = t.seq;
		n++;
	}
	return n;
}

static bool sent_seq(const uint32_t *seqs, int n, uint32_t seq)
{
	for (int i = 0; i < n; i++)
		if (seqs[i] == seq)
			return true;
	return false;
}

/* Active open to PEER:4000 with the peer's SYN-ACK carrying MSS mss. */
static struct vsocket *active_open_mss(struct rig *r, uint16_t mss,
				       uint32_t *iss)
{
	struct sockaddr_in sin = {.sin_family = AF_INET,
				  .sin_port = htons(4000),
				  .sin_addr.s_addr = htonl(PEER)};
	struct vsocket *so;
	struct tcp_repr t, sa = {.sport = 4000, .seq = 7000, .win = 65535,
				 .flags = TCPF_SYN | TCPF_ACK,
				 .opts = TCPO_MSS, .mss = mss};

	REQUIRE(vsock_socket(r->vi, AF_INET, SOCK_STREAM, 0, &so) == 0);
	REQUIRE(vsock_connect(so, SA(sin), sizeof(sin)) == -EINPROGRESS);
	REQUIRE(got(r, &t, NULL));
	REQUIRE(t.flags == TCPF_SYN);
	*iss = t.seq;
	sa.dport = t.sport;
	sa.ack = t.seq + 1;
	peer_send(r, &sa, NULL, 0);
	REQUIRE(got(r, &t, NULL));
	REQUIRE(t.flags == TCPF_ACK);
	drain(r);
	return so;
}

/* An ICMP "fragmentation needed" (next-hop MTU mtu) from the peer quoting
 * our segment lport -> PEER:4000 with sequence number seq. */
static void peer_icmp_needfrag(struct rig *r, uint16_t lport, uint32_t seq,
			       uint16_t mtu)
{
	uint8_t f[14 + 20 + 8 + 20 + 8];
	struct eth_repr eh = {.ethertype = ETHERTYPE_IPV4,
			      .src = {2, 0, 0, 0, 0, 9}};
	struct ipv4_repr ip = {.hlen = 20, .ttl = 64, .proto = IPPROTO_ICMP_,
			       .src = PEER, .dst = US,
			       .total_len = 20 + 8 + 20 + 8};
	struct ipv4_repr in = {.hlen = 20, .ttl = 64, .proto = IPPROTO_TCP_,
			       .src = US, .dst = PEER, .total_len = 1500,
			       .df = true};
	struct icmp4_repr ic = {.type = ICMP_UNREACH,
				.code = ICMP_UNREACH_NEEDFRAG, .mtu = mtu};
	uint8_t *q = f + 14 + 20 + 8;

	memcpy(eh.dst, r->mac, 6);
	eth_emit(&eh, f);
	ipv4_emit(&ip, f + 14);
	ipv4_emit(&in, q);
	wr16(q + 20, lport);
	wr16(q + 22, 4000);
	wr32(q + 24, seq);
	icmp4_emit(&ic, f + 34, 28);
	REQUIRE(vif_ext_input(r->ext, f, sizeof(f)) == 0);
	world_run(r->w);
}

/* ---- loss recovery ------------------------------------------------------- */

/*
 * RFC 6675 5 (C): every ACK during recovery, partial ACKs included, lets
 * the sender send while pipe < cwnd. tcp_do_segment calls tcp_output after
 * an ACK only when unsent data, a FIN or an ACK is pending, so at the tail
 * of a transfer (all data sent) the holes left when pipe reached cwnd wait
 * for the retransmission timer.
 */
TEST(established_sack_recovery_partial_ack_sends_next_hole)
{
	struct rig r;
	struct vsocket *lsn, *so;
	static uint8_t data[10000];
	uint32_t iss, una, seqs[64], b[2];
	int n;

	rig_up(&r);
	lsn = listener(&r, 80);
	so = passive_open_opts(&r, lsn, TCPO_MSS | TCPO_SACK_PERM, &iss);
	set_reno_nodelay(so);
	una = iss + 1;
	/* Ten segments of 1000 (the initial window). */
	REQUIRE(vsock_sendto(so, data, sizeof(data), 0, NULL, 0) == 10000);
	REQUIRE_EQ(sent_data(&r, seqs, 64), 10);
	/* Segments 0..5 lost, 6..9 arrive: four SACKed dupacks. */
	for (int k = 1; k <= 4; k++) {
		b[0] = una + 6000;
		b[1] = una + 6000 + 1000u * (uint32_t)k;
		peer_ack_sack(&r, una, b, 1);
	}
	/* Recovery (cwnd = ssthresh = 5 segments) resent 0..4. */
	n = sent_data(&r, seqs, 64);
	CHECK_EQ(n, 5);
	CHECK(!sent_seq(seqs, n, una + 5000));
	/* The peer gets the resent segment 0: a partial ACK. pipe is now
	 * four segments, below cwnd: segment 5 should go at once. */
	b[0] = una + 6000;
	b[1] = una + 10000;
	peer_ack_sack(&r, una + 1000, b, 1);
	n = sent_data(&r, seqs, 64);
	CHECK(sent_seq(seqs, n, una + 5000));
	vsock_close(so);
	vsock_close(lsn);
	rig_down(&r);
}

/*
 * RFC 6582 3.2 step 1: fast retransmit when the cumulative ACK covers more
 * than "recover" (the highest sequence number sent, snd_max - 1). The code
 * keeps snd_recover = snd_max and asks for SEQ_GT(snd_una, snd_recover),
 * so after a recovery that ended with an ACK of exactly snd_max, losing the
 * first new segment gets no fast retransmit: only the RTO.
 */
TEST(established_loss_right_after_recovery_fast_retransmits)
{
	struct rig r;
	struct vsocket *lsn, *so;
	static uint8_t data[5000];
	uint32_t iss, una, seqs[64];
	int n;

	rig_up(&r);
	lsn = listener(&r, 80);
	so = passive_open_opts(&r, lsn, TCPO_MSS, &iss); /* no SACK */
	set_reno_nodelay(so);
	una = iss + 1;
	REQUIRE(vsock_sendto(so, data, 5000, 0, NULL, 0) == 5000);
	REQUIRE_EQ(sent_data(&r, seqs, 64), 5);
	/* Segment 0 lost: three dupacks, fast retransmit. */
	for (int k = 0; k < 3; k++)
		peer_ack_sack(&r, una, NULL, 0);
	n = sent_data(&r, seqs, 64);
	REQUIRE(sent_seq(seqs, n, una));
	/* Everything acknowledged: recovery over (ACK == old snd_max). */
	peer_ack_sack(&r, una + 5000, NULL, 0);
	una += 5000;
	drain(&r);
	/* The next flight: its first segment is lost. Each dupack releases
	 * one new segment (limited transmit), the third must retransmit. */
	REQUIRE(vsock_sendto(so, data, 5000, 0, NULL, 0) == 5000);
	n = sent_data(&r, seqs, 64);
	REQUIRE(n >= 2);
	for (int k = 0; k < 3; k++)
		peer_ack_sack(&r, una, NULL, 0);
	n = sent_data(&r, seqs, 64);
	CHECK(sent_seq(seqs, n, una));
	vsock_close(so);
	vsock_close(lsn);
	rig_down(&r);
}

/* ---- stalls ---------------------------------------------------------------- */

/*
 * Sender SWS avoidance without its override (RFC 1122 4.2.3.4 (d); Linux
 * sends window-limited data from its probe timer): the peer's window is
 * smaller than a segment and than half the largest window seen, nothing is
 * in flight, and more data is queued than fits. tcp_output holds the data
 * and arms the persist timer only for a window of exactly zero: nothing is
 * ever sent.
 */
TEST(established_small_window_nothing_in_flight_data_is_sent)
{
	struct rig r;
	struct vsocket *lsn, *so;
	static uint8_t data[1000];
	struct tcp_repr t, w = {.sport = 4000, .dport = 80, .seq = 1001,
				.flags = TCPF_ACK, .win = 100};
	uint32_t iss;
	int n = 0;

	rig_up(&r);
	lsn = listener(&r, 80);
	so = passive_open(&r, lsn, &iss); /* window 65535, MSS 536 */
	w.ack = iss + 1;
	peer_send(&r, &w, NULL, 0); /* the window shrinks to 100 */
	CHECK_EQ(vsock_sendto(so, data, sizeof(data), 0, NULL, 0), 1000);
	for (int i = 0; i < 100 && !n; i++) {
		advance(&r, 100 * MS);
		while (got(&r, &t, NULL))
			if (t.payload_len)
				n++;
	}
	CHECK(n > 0); /* Linux: 100 bytes within an RTO */
	vsock_close(so);
	vsock_close(lsn);
	rig_down(&r);
}

/*
 * A segment that fails to leave (here EMSGSIZE after the interface MTU
 * shrank while idle; also a route missing for a moment) makes tcp_output
 * stop, and with nothing in flight no timer is armed: the queued data waits
 * for the application or the peer to do something. tcp_xmit even fixes the
 * MSS for the next try, which never comes. Linux arms its probe timer
 * (tcp_check_probe_timer) whenever data is queued and nothing is out.
 */
TEST(established_mtu_drop_while_idle_data_still_sent)
{
	struct rig r;
	struct vsocket *so;
	static uint8_t data[3000];
	struct tcp_repr t;
	uint32_t iss;
	int n = 0;

	rig_up(&r);
	so = active_open_mss(&r, 1460, &iss);
	REQUIRE(vif_set_mtu(r.ext, 1000) == 0);
	CHECK_EQ(vsock_sendto(so, data, sizeof(data), 0, NULL, 0), 3000);
	for (int i = 0; i < 100 && !n; i++) {
		advance(&r, 100 * MS);
		while (got(&r, &t, NULL)) {
			if (t.payload_len) {
				CHECK(t.payload_len <= 960);
				n++;
			}
		}
	}
	CHECK(n > 0);
	vsock_close(so);
	rig_down(&r);
}

/*
 * TCP_CORK: tcp(7) "there is a 200 millisecond ceiling on the time for
 * which output is corked"; here a corked partial segment waits forever.
 */
TEST(established_cork_partial_segment_sent_after_200ms)
{
	struct rig r;
	struct vsocket *lsn, *so;
	struct tcp_repr t;
	uint32_t iss;
	int one = 1, n = 0;

	rig_up(&r);
	lsn = listener(&r, 80);
	so = passive_open(&r, lsn, &iss);
	REQUIRE(vsock_setsockopt(so, IPPROTO_TCP, TCP_CORK, &one,
				 sizeof(one)) == 0);
	CHECK_EQ(vsock_sendto(so, "abc", 3, 0, NULL, 0), 3);
	CHECK(!got(&r, &t, NULL));
	for (int i = 0; i < 20 && !n; i++) {
		advance(&r, 100 * MS);
		while (got(&r, &t, NULL))
			if (t.payload_len == 3)
				n++;
	}
	CHECK(n > 0); /* Linux: after max(RTO, 200 ms) */
	vsock_close(so);
	vsock_close(lsn);
	rig_down(&r);
}

/* ---- MSS / PMTU ------------------------------------------------------------ */

/*
 * tcp_ctlinput sets tp->mss = mtu - 40 (- 12) from an ICMP "fragmentation
 * needed", ignoring the peer's MSS (and TCP_MAXSEG): a next-hop MTU above
 * the peer's MSS raises our segment size beyond what the peer accepts
 * (RFC 9293 3.7.1, RFC 1191: the segment size is the minimum of both).
 */
TEST(established_icmp_needfrag_keeps_peer_mss)
{
	struct rig r;
	struct vsocket *so;
	static uint8_t data[3000];
	struct tcp_repr t;
	uint32_t iss;
	int n = 0;

	rig_up(&r);
	so = active_open_mss(&r, 536, &iss);
	/* Nothing in flight: the quoted seq is snd_una == snd_max. */
	peer_icmp_needfrag(&r, local_port(so), iss + 1, 1200);
	CHECK_EQ(vsock_sendto(so, data, sizeof(data), 0, NULL, 0), 3000);
	while (got(&r, &t, NULL)) {
		if (!t.payload_len)
			continue;
		CHECK(t.payload_len <= 536);
		n++;
	}
	CHECK(n > 0);
	vsock_close(so);
	rig_down(&r);
}

/* ---- listeners --------------------------------------------------------------- */

/*
 * Linux's accept queue holds backlog + 1 connections (sk_acceptq_is_full
 * is "ack_backlog > max_ack_backlog"); listen(fd, 0) accepts one. Here
 * qlen >= backlog drops every SYN of a listen(fd, 0) socket: nobody can
 * ever connect (checked on Linux 6.18: the connection is accepted).
 */
TEST(listen_backlog_zero_still_completes_a_connection)
{
	struct rig r;
	struct vsocket *lsn, *so = NULL;
	struct sockaddr_in sin = {.sin_family = AF_INET,
				  .sin_port = htons(80)};
	struct tcp_repr t = {0};

	rig_up(&r);
	REQUIRE(vsock_socket(r.vi, AF_INET, SOCK_STREAM, 0, &lsn) == 0);
	REQUIRE(vsock_bind(lsn, SA(sin), sizeof(sin)) == 0);
	REQUIRE(vsock_listen(lsn, 0) == 0);
	seg(&r, 80, TCPF_SYN, 1000, 0, NULL, 0);
	CHECK(got(&r, &t, NULL)); /* here: dropped, no SYN-ACK */
	CHECK_EQ(t.flags, TCPF_SYN | TCPF_ACK);
	if (t.flags == (TCPF_SYN | TCPF_ACK))
		seg(&r, 80, TCPF_ACK, 1001, t.seq + 1, NULL, 0);
	CHECK_EQ(vsock_accept(lsn, &so, NULL, NULL), 0);
	CHECK_EQ(stat(&r, "tcp.listen_overflows"), 0);
	if (so)
		vsock_close(so);
	vsock_close(lsn);
	rig_down(&r);
}

/*
 * shutdown(SHUT_RD or SHUT_RDWR) on a listener: Linux disconnects it
 * (inet_shutdown -> tcp_disconnect): new SYNs are refused and accept says
 * EINVAL. Here only so->shut_rd is set: the listener keeps completing
 * handshakes and accept keeps returning them.
 */
TEST(listen_shutdown_rd_stops_listening)
{
	struct rig r;
	struct vsocket *lsn, *so = NULL;
	struct tcp_repr t;

	rig_up(&r);
	lsn = listener(&r, 80);
	CHECK_EQ(vsock_shutdown(lsn, SHUT_RD), 0);
	seg(&r, 80, TCPF_SYN, 1000, 0, NULL, 0);
	REQUIRE(got(&r, &t, NULL));
	CHECK(t.flags & TCPF_RST); /* Linux: RST, connection refused */
	if (!(t.flags & TCPF_RST))
		seg(&r, 80, TCPF_ACK, 1001, t.seq + 1, NULL, 0);
	CHECK_EQ(vsock_accept(lsn, &so, NULL, NULL), -EINVAL);
	if (so)
		vsock_close(so);
	vsock_close(lsn);
	rig_down(&r);
}

/* Linux: shutdown(listen_fd, SHUT_WR) returns 0 (inet_shutdown's
 * TCP_LISTEN case only acts on RCV_SHUTDOWN); here -ENOTCONN. */
TEST(listen_shutdown_wr_returns_zero)
{
	struct rig r;
	struct vsocket *lsn;

	rig_up(&r);
	lsn = listener(&r, 80);
	CHECK_EQ(vsock_shutdown(lsn, SHUT_WR), 0);
	vsock_close(lsn);
	rig_down(&r);
}

/* ---- errno / socket calls ------------------------------------------------- */

/*
 * connect(AF_UNSPEC) aborts a connection (tcp_disconnect) and on Linux
 * leaves the socket reusable: a new connect works (checked on Linux 6.18).
 * Here TF_WASCONN stays and connect answers -EISCONN.
 */
TEST(established_connect_after_af_unspec_reconnects)
{
	struct rig r;
	struct vsocket *so;
	struct sockaddr_in sin = {.sin_family = AF_INET,
				  .sin_port = htons(4000),
				  .sin_addr.s_addr = htonl(PEER)};
	struct sockaddr unspec = {.sa_family = AF_UNSPEC};
	struct tcp_repr t;
	uint32_t iss;

	rig_up(&r);
	so = active_open(&r, &iss);
	CHECK_EQ(vsock_connect(so, &unspec, sizeof(unspec)), 0);
	REQUIRE(got(&r, &t, NULL));
	CHECK(t.flags & TCPF_RST);
	CHECK_EQ(vsock_connect(so, SA(sin), sizeof(sin)), -EINPROGRESS);
	vsock_close(so);
	rig_down(&r);
}

/* Linux: send() on a never-connected TCP socket is EPIPE
 * (sk_stream_wait_connect), not ENOTCONN (checked on Linux 6.18). */
TEST(closed_send_on_unconnected_socket_is_epipe)
{
	struct rig r;
	struct vsocket *so;

	rig_up(&r);
	REQUIRE(vsock_socket(r.vi, AF_INET, SOCK_STREAM, 0, &so) == 0);
	CHECK_EQ(vsock_sendto(so, "x", 1, 0, NULL, 0), -EPIPE);
	vsock_close(so);
	rig_down(&r);
}

/*
 * A RST after the peer's FIN (CLOSE_WAIT): Linux's tcp_reset sets EPIPE for
 * CLOSE_WAIT, and recv returns the EOF (SOCK_DONE) rather than an error
 * (checked on Linux 6.18: recv -> 0, 0). Here recv returns -ECONNRESET.
 */
TEST(close_wait_rst_recv_still_returns_eof)
{
	struct rig r;
	struct vsocket *lsn, *so;
	uint32_t iss;
	char b[8];

	rig_up(&r);
	lsn = listener(&r, 80);
	so = passive_open(&r, lsn, &iss);
	seg(&r, 80, TCPF_ACK | TCPF_FIN, 1001, iss + 1, NULL, 0);
	drain(&r);
	seg(&r, 80, TCPF_RST, 1002, 0, NULL, 0);
	CHECK(vsock_poll(so) & POLLERR);
	CHECK_EQ(vsock_recvfrom(so, b, sizeof(b), 0, NULL, NULL), 0);
	CHECK_EQ(vsock_sendto(so, b, 1, 0, NULL, 0), -EPIPE);
	vsock_close(so);
	vsock_close(lsn);
	rig_down(&r);
}

/* ---- simultaneous open ------------------------------------------------------ */

/*
 * shutdown(SHUT_WR) (or close) in SYN_RECEIVED moves to FIN_WAIT_1 before
 * our SYN is acknowledged. The retransmission timer then rewinds to
 * snd_una == iss but FIN_WAIT_1's flags have no SYN, and tcp_established
 * never ran (cwnd 0): if our SYN-ACK was lost nothing useful is ever
 * resent. Linux retransmits the SYN-ACK (it is the head of its queue).
 */
TEST(syn_received_shutdown_then_lost_synack_is_retransmitted)
{
	struct rig r;
	struct sockaddr_in sin = {.sin_family = AF_INET,
				  .sin_port = htons(4000),
				  .sin_addr.s_addr = htonl(PEER)};
	struct vsocket *so;
	struct tcp_repr t;
	uint16_t lp;
	int syns = 0;

	rig_up(&r);
	REQUIRE(vsock_socket(r.vi, AF_INET, SOCK_STREAM, 0, &so) == 0);
	REQUIRE(vsock_connect(so, SA(sin), sizeof(sin)) == -EINPROGRESS);
	REQUIRE(got(&r, &t, NULL));
	lp = t.sport;
	seg(&r, lp, TCPF_SYN, 7000, 0, NULL, 0); /* simultaneous open */
	REQUIRE(got(&r, &t, NULL));
	REQUIRE(t.flags == (TCPF_SYN | TCPF_ACK));
	CHECK_EQ(vsock_shutdown(so, SHUT_WR), 0);
	drain(&r); /* the SYN-ACK (and FIN) are lost */
	for (int i = 0; i < 30 && !syns; i++) {
		advance(&r, 200 * MS);
		while (got(&r, &t, NULL))
			if (t.flags & TCPF_SYN)
				syns++;
	}
	CHECK(syns > 0);
	vsock_close(so);
	rig_down(&r);
}

/*
 * RFC 6675 2: with SACK, a duplicate ACK is one that SACKs new data; the
 * window need not be the same (the comment in tcp_ack says so, the code
 * still requires win == snd_wnd, and any other ACK resets dupacks to 0).
 * Linux's receive window grows with rcv_ssthresh on every segment, in
 * order or not, so its dupacks early in a connection carry growing
 * windows: no fast retransmit, the loss waits for the RTO. (Our own
 * receiver's autotuning does the same.)
 */
TEST(established_sack_dupacks_with_growing_window_fast_retransmit)
{
	struct rig r;
	struct vsocket *lsn, *so;
	static uint8_t data[10000];
	struct tcp_repr a = {.sport = 4000, .dport = 80, .seq = 1001,
			     .flags = TCPF_ACK, .opts = TCPO_SACK, .nsack = 1};
	uint32_t iss, una, seqs[64];
	int n;

	rig_up(&r);
	lsn = listener(&r, 80);
	so = passive_open_opts(&r, lsn, TCPO_MSS | TCPO_SACK_PERM, &iss);
	set_reno_nodelay(so);
	una = iss + 1;
	a.ack = una;
	a.win = 30000; /* the peer's window before the flight */
	a.opts = 0;
	a.nsack = 0;
	peer_send(&r, &a, NULL, 0);
	a.opts = TCPO_SACK;
	a.nsack = 1;
	REQUIRE(vsock_sendto(so, data, 10000, 0, NULL, 0) == 10000);
	REQUIRE_EQ(sent_data(&r, seqs, 64), 10);
	/* Segment 0 lost; 1..4 SACKed, each ACK's window a bit larger. */
	for (int k = 1; k <= 4; k++) {
		a.win = (uint16_t)(30000 + 1000 * k);
		a.sack[0].start = una + 1000;
		a.sack[0].end = una + 1000 + 1000u * (uint32_t)k;
		peer_send(&r, &a, NULL, 0);
	}
	n = sent_data(&r, seqs, 64);
	CHECK(sent_seq(seqs, n, una)); /* fast retransmit of segment 0 */
	vsock_close(so);
	vsock_close(lsn);
	rig_down(&r);
}

/* ---- ECN ------------------------------------------------------------------- */

/*
 * net.inet.tcp.ecn=1 (RFC 3168 6.1.1): our SYN must carry ECE|CWR and our
 * SYN-ACK to an ECN-setup SYN must carry ECE. tcp_xmit never sets either on
 * a SYN, so an active open never negotiates ECN and a passive one believes
 * it did (TF_ECN) while the peer, without ECE in the SYN-ACK, does not.
 */
TEST(listen_ecn_setup_syn_gets_ece_syn_ack)
{
	struct rig r;
	struct vsocket *lsn;
	struct tcp_repr t;

	rig_up(&r);
	REQUIRE(vimage_sysctl_set(r.vi, "net.inet.tcp.ecn", 1) == 0);
	lsn = listener(&r, 80);
	seg(&r, 80, TCPF_SYN | TCPF_ECE | TCPF_CWR, 1000, 0, NULL, 0);
	REQUIRE(got(&r, &t, NULL));
	CHECK_EQ(t.flags, TCPF_SYN | TCPF_ACK | TCPF_ECE);
	vsock_close(lsn);
	rig_down(&r);
}

TEST(syn_sent_ecn_enabled_syn_carries_ece_cwr)
{
	struct rig r;
	struct vsocket *so;
	struct sockaddr_in sin = {.sin_family = AF_INET,
				  .sin_port = htons(4000),
				  .sin_addr.s_addr = htonl(PEER)};
	struct tcp_repr t;

	rig_up(&r);
	REQUIRE(vimage_sysctl_set(r.vi, "net.inet.tcp.ecn", 1) == 0);
	REQUIRE(vsock_socket(r.vi, AF_INET, SOCK_STREAM, 0, &so) == 0);
	REQUIRE(vsock_connect(so, SA(sin), sizeof(sin)) == -EINPROGRESS);
	REQUIRE(got(&r, &t, NULL));
	CHECK_EQ(t.flags, TCPF_SYN | TCPF_ECE | TCPF_CWR);
	vsock_close(so);
	rig_down(&r);
}

/* ---- persist --------------------------------------------------------------- */

/*
 * Zero window, then the peer falls silent: tcp_timer_persist probes every
 * 60 s forever and never counts unanswered probes, so the connection (and
 * an orphan in the same state) never ends. Linux aborts after tcp_retries2
 * unanswered probes (tcp_probe_timer, icsk_probes_out reset by any ACK).
 */
TEST(established_zero_window_unanswered_probes_time_out)
{
	struct rig r;
	struct vsocket *lsn, *so;
	struct tcp_repr z = {.sport = 4000, .dport = 80, .seq = 1001,
			     .flags = TCPF_ACK, .win = 0};
	uint32_t iss;

	rig_up(&r);
	lsn = listener(&r, 80);
	so = passive_open(&r, lsn, &iss);
	z.ack = iss + 1;
	peer_send(&r, &z, NULL, 0); /* window closes */
	CHECK_EQ(vsock_sendto(so, "data", 4, 0, NULL, 0), 4);
	for (int i = 0; i < 400 && !(vsock_poll(so) & POLLERR); i++) {
		advance(&r, 30 * SEC); /* the peer never answers */
		drain(&r);
	}
	CHECK(vsock_poll(so) & POLLERR);
	CHECK_EQ(so_err(so), ETIMEDOUT);
	vsock_close(so);
	vsock_close(lsn);
	rig_down(&r);
}

/*
 * An orphan (closed with unsent data) facing a window the peer keeps at
 * zero lives forever here: Linux kills orphans after tcp_orphan_retries
 * probes even when answered (tcp_probe_timer, "alive" only extends it).
 */
TEST(orphan_zero_window_forever_is_reclaimed)
{
	struct rig r;
	struct vsocket *lsn, *so;
	struct tcp_repr t, z = {.sport = 4000, .dport = 80, .seq = 1001,
				.flags = TCPF_ACK, .win = 0};
	struct world_counts c;
	uint32_t iss;

	rig_up(&r);
	lsn = listener(&r, 80);
	so = passive_open(&r, lsn, &iss);
	z.ack = iss + 1;
	peer_send(&r, &z, NULL, 0);
	CHECK_EQ(vsock_sendto(so, "data", 4, 0, NULL, 0), 4);
	vsock_close(so);
	for (int i = 0; i < 2000; i++) {
		advance(&r, 5 * SEC);
		/* The peer answers every probe: still zero. */
		while (got(&r, &t, NULL))
			if (!(t.flags & TCPF_RST))
				peer_send(&r, &z, NULL, 0);
		world_counts(r.w, &c);
		if (c.tcp_conns == 1)
			break;
	}
	world_counts(r.w, &c);
	CHECK_EQ(c.tcp_conns, 1); /* only the listener */
	vsock_close(lsn);
	rig_down(&r);
}

/* ---- orphans ------------------------------------------------------------- */

/* Passive open from the peer's port sport (no options). */
static struct vsocket *passive_open_from(struct rig *r, struct vsocket *lsn,
					 uint16_t sport, uint32_t *iss)
{
	struct tcp_repr t, s = {.sport = sport, .dport = 80, .seq = 1000,
				.flags = TCPF_SYN, .win = 65535};
	struct vsocket *so = NULL;

	peer_send(r, &s, NULL, 0);
	REQUIRE(got(r, &t, NULL));
	REQUIRE(t.flags == (TCPF_SYN | TCPF_ACK));
	*iss = t.seq;
	s.flags = TCPF_ACK;
	s.seq = 1001;
	s.ack = t.seq + 1;
	peer_send(r, &s, NULL, 0);
	REQUIRE(vsock_accept(lsn, &so, NULL, NULL) == 0);
	drain(r);
	return so;
}

/*
 * Closed connections in TIME_WAIT keep TF_ORPHAN and count in
 * ts->orphans, which tcp_detach compares with max_orphans: once TIME_WAITs
 * fill it (65536 = about 1100 closes a second for 60 s), every close is an
 * abort (RST, unsent data lost) instead of a FIN. Linux counts TIME_WAIT
 * apart (tcp_max_tw_buckets; over it TIME_WAIT is skipped, never a RST).
 */
TEST(time_wait_does_not_count_as_orphan)
{
	struct rig r;
	struct vsocket *lsn, *a, *b;
	struct tcp_repr t, s = {.sport = 5001, .dport = 80, .win = 65535};
	uint32_t iss;

	rig_up(&r);
	REQUIRE(vimage_sysctl_set(r.vi, "net.inet.tcp.max_orphans", 1) == 0);
	lsn = listener(&r, 80);
	a = passive_open_from(&r, lsn, 5001, &iss);
	vsock_close(a); /* FIN_WAIT_1, an orphan */
	REQUIRE(got(&r, &t, NULL));
	REQUIRE(t.flags & TCPF_FIN);
	s.flags = TCPF_ACK | TCPF_FIN; /* acks our FIN, sends its own */
	s.seq = 1001;
	s.ack = iss + 2;
	peer_send(&r, &s, NULL, 0); /* -> TIME_WAIT */
	drain(&r);
	CHECK_EQ(stat(&r, "tcp.out_rsts"), 0);
	b = passive_open_from(&r, lsn, 5002, &iss);
	CHECK_EQ(vsock_sendto(b, "bye", 3, 0, NULL, 0), 3);
	drain(&r);
	vsock_close(b); /* a graceful close: FIN, not RST */
	REQUIRE(got(&r, &t, NULL));
	CHECK(t.flags & TCPF_FIN);
	CHECK(!(t.flags & TCPF_RST));
	vsock_close(lsn);
	rig_down(&r);
}

/*
 * The peer shrinks its window to zero while data is in flight (it ACKs part
 * of it with window 0; RFC 9293 3.8.6.2.1 tolerates it, Linux can with
 * net.ipv4.tcp_shrink_window). The RTO rewinds snd_nxt but tcp_output
 * sends nothing into a zero window, and the persist timer is not armed
 * while REXMT runs: no probe ever goes out, so a lost window update is
 * never recovered, and after retries2 empty "retransmissions" the live
 * connection is dropped. Linux retransmits the head anyway as a probe
 * (tcp_retransmit_timer, "receiver dastardly shrinks window").
 */
TEST(established_window_shrunk_to_zero_in_flight_is_probed)
{
	struct rig r;
	struct vsocket *lsn, *so;
	static uint8_t data[2000];
	struct tcp_repr t, z = {.sport = 4000, .dport = 80, .seq = 1001,
				.flags = TCPF_ACK, .win = 0};
	uint32_t iss;
	int out = 0;

	rig_up(&r);
	lsn = listener(&r, 80);
	so = passive_open(&r, lsn, &iss); /* MSS 536 */
	CHECK_EQ(vsock_sendto(so, data, sizeof(data), 0, NULL, 0), 2000);
	drain(&r);
	z.ack = iss + 1 + 536; /* one segment acked, window now zero */
	peer_send(&r, &z, NULL, 0);
	for (int i = 0; i < 100 && !out; i++) {
		advance(&r, 100 * MS);
		while (got(&r, &t, NULL))
			out++; /* a probe or a retransmission */
	}
	CHECK(out > 0);
	vsock_close(so);
	vsock_close(lsn);
	rig_down(&r);
}

/*
 * A refused connect (RST in SYN_SENT): Linux's tcp_done sets
 * sk_shutdown = SHUTDOWN_MASK, so poll reports POLLIN|POLLRDHUP as well as
 * POLLERR|POLLHUP|POLLOUT (0x215d on Linux 6.18). Here POLLIN and POLLRDHUP
 * are missing (tcp_rcv_eof wants TF_WASCONN).
 */
TEST(syn_sent_refused_poll_matches_linux)
{
	struct rig r;
	struct sockaddr_in sin = {.sin_family = AF_INET,
				  .sin_port = htons(4000),
				  .sin_addr.s_addr = htonl(PEER)};
	struct vsocket *so;
	struct tcp_repr t;
	unsigned ev;

	rig_up(&r);
	REQUIRE(vsock_socket(r.vi, AF_INET, SOCK_STREAM, 0, &so) == 0);
	REQUIRE(vsock_connect(so, SA(sin), sizeof(sin)) == -EINPROGRESS);
	REQUIRE(got(&r, &t, NULL));
	seg(&r, t.sport, TCPF_RST | TCPF_ACK, 0, t.seq + 1, NULL, 0);
	ev = vsock_poll(so);
	CHECK_EQ(ev & (POLLIN | POLLRDHUP | POLLERR | POLLHUP | POLLOUT),
		 POLLIN | POLLRDHUP | POLLERR | POLLHUP | POLLOUT);
	vsock_close(so);
	rig_down(&r);
}

/*
 * The peer retransmits its SYN because our SYN-ACK was lost. The child in
 * SYN_RECEIVED finds it unacceptable and answers with a bare ACK, which a
 * peer in SYN_SENT discards (RFC 9293: no SYN, no RST -> drop): the
 * handshake waits for our SYN-ACK timer (1 s, 2 s, ...). Linux answers a
 * retransmitted SYN with the SYN-ACK at once (tcp_check_req).
 */
TEST(syn_received_retransmitted_syn_gets_syn_ack)
{
	struct rig r;
	struct vsocket *lsn;
	struct tcp_repr t;
	uint32_t iss;

	rig_up(&r);
	lsn = listener(&r, 80);
	seg(&r, 80, TCPF_SYN, 1000, 0, NULL, 0);
	REQUIRE(got(&r, &t, NULL));
	iss = t.seq;
	drain(&r); /* the SYN-ACK is lost */
	seg(&r, 80, TCPF_SYN, 1000, 0, NULL, 0);
	REQUIRE(got(&r, &t, NULL));
	CHECK_EQ(t.flags, TCPF_SYN | TCPF_ACK);
	CHECK_EQ(t.seq, iss);
	CHECK_EQ(t.ack, 1001);
	vsock_close(lsn);
	rig_down(&r);
}

/*
 * A second connect() on a socket whose first attempt timed out reuses the
 * tcpcb as it was: rxtshift is still syn_retries (and the RTO backed off),
 * so the new attempt sends one SYN, waits 64 s and fails. On Linux a new
 * attempt starts afresh (tcp_connect_init), with all its SYN retries.
 */
TEST(syn_sent_timed_out_reconnect_retries_fully)
{
	struct rig r;
	struct sockaddr_in sin = {.sin_family = AF_INET,
				  .sin_port = htons(4000),
				  .sin_addr.s_addr = htonl(PEER)};
	struct vsocket *so;
	struct tcp_repr t;
	int syns = 0;

	rig_up(&r);
	REQUIRE(vsock_socket(r.vi, AF_INET, SOCK_STREAM, 0, &so) == 0);
	REQUIRE(vsock_connect(so, SA(sin), sizeof(sin)) == -EINPROGRESS);
	advance(&r, 300 * SEC);
	REQUIRE_EQ(so_err(so), ETIMEDOUT); /* read and cleared */
	drain(&r);
	REQUIRE(vsock_connect(so, SA(sin), sizeof(sin)) == -EINPROGRESS);
	advance(&r, 300 * SEC);
	while (got(&r, &t, NULL))
		if (t.flags & TCPF_SYN)
			syns++;
	CHECK_EQ(syns, 1 + 6); /* the SYN and net.inet.tcp.syn_retries */
	vsock_close(so);
	rig_down(&r);
}
