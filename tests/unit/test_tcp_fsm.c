/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The TCP state machine, one event at a time. The test plays the peer:
 * our vimage (192.0.2.1) sits on an external interface whose far side is
 * this file, which crafts every segment (192.0.2.9 -> us) and reads every
 * segment we send. Tests are named state_event_outcome, after smoltcp.
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

/* ---- LISTEN ---------------------------------------------------------- */
TEST(listen_syn_gets_syn_ack_with_options)
{
	struct rig r;
	struct vsocket *lsn;
	struct tcp_repr t, syn = {.sport = 4000, .dport = 80, .seq = 1000,
				  .flags = TCPF_SYN, .win = 29200,
				  .opts = TCPO_MSS | TCPO_WSCALE |
					  TCPO_SACK_PERM | TCPO_TS,
				  .mss = 1460, .wscale = 7, .tsval = 99};

	rig_up(&r);
	lsn = listener(&r, 80);
	peer_send(&r, &syn, NULL, 0);
	REQUIRE(got(&r, &t, NULL));
	CHECK_EQ(t.flags, TCPF_SYN | TCPF_ACK);
	CHECK_EQ(t.ack, 1001);
	CHECK(t.opts & TCPO_MSS);
	CHECK_EQ(t.mss, 1460); /* the interface MTU 1500 - 40 */
	CHECK(t.opts & TCPO_WSCALE);
	CHECK(t.opts & TCPO_SACK_PERM);
	CHECK(t.opts & TCPO_TS);
	CHECK_EQ(t.tsecr, 99);
	vsock_close(lsn);
	rig_down(&r);
}

TEST(listen_ack_gets_rst)
{
	struct rig r;
	struct vsocket *lsn;
	struct tcp_repr t;

	rig_up(&r);
	lsn = listener(&r, 80);
	seg(&r, 80, TCPF_ACK, 1000, 4242, NULL, 0);
	REQUIRE(got(&r, &t, NULL));
	CHECK_EQ(t.flags, TCPF_RST);
	CHECK_EQ(t.seq, 4242); /* <SEQ=SEG.ACK><CTL=RST> */
	vsock_close(lsn);
	rig_down(&r);
}

TEST(listen_rst_ignored)
{
	struct rig r;
	struct vsocket *lsn;
	struct tcp_repr t;

	rig_up(&r);
	lsn = listener(&r, 80);
	seg(&r, 80, TCPF_RST, 1000, 0, NULL, 0);
	CHECK(!got(&r, &t, NULL));
	vsock_close(lsn);
	rig_down(&r);
}

TEST(closed_port_syn_gets_rst_ack)
{
	struct rig r;
	struct tcp_repr t;

	rig_up(&r);
	seg(&r, 81, TCPF_SYN, 1000, 0, "abc", 3);
	REQUIRE(got(&r, &t, NULL));
	CHECK_EQ(t.flags, TCPF_RST | TCPF_ACK);
	CHECK_EQ(t.seq, 0);
	CHECK_EQ(t.ack, 1004); /* SEG.SEQ + SEG.LEN (SYN and 3 bytes) */
	CHECK_EQ(stat(&r, "tcp.no_port"), 1);
	/* Never a RST for a RST. */
	seg(&r, 81, TCPF_RST, 1000, 0, NULL, 0);
	CHECK(!got(&r, &t, NULL));
	rig_down(&r);
}

TEST(listen_backlog_full_drops_syn)
{
	struct rig r;
	struct vsocket *lsn;
	struct sockaddr_in sin = {.sin_family = AF_INET,
				  .sin_port = htons(80)};
	struct tcp_repr t, s = {.dport = 80, .flags = TCPF_SYN, .win = 1000};

	rig_up(&r);
	REQUIRE(vsock_socket(r.vi, AF_INET, SOCK_STREAM, 0, &lsn) == 0);
	REQUIRE(vsock_bind(lsn, SA(sin), sizeof(sin)) == 0);
	REQUIRE(vsock_listen(lsn, 1) == 0);
	/* Two connections complete and wait in the accept queue (Linux
	 * holds backlog + 1). */
	for (uint16_t port = 5000; port < 5002; port++) {
		s.sport = port;
		s.flags = TCPF_SYN;
		s.seq = 10;
		s.ack = 0;
		peer_send(&r, &s, NULL, 0);
		REQUIRE(got(&r, &t, NULL));
		s.flags = TCPF_ACK;
		s.seq = 11;
		s.ack = t.seq + 1;
		peer_send(&r, &s, NULL, 0);
	}
	CHECK(vsock_poll(lsn) & POLLIN);
	/* The next SYN finds the queue full: dropped, counted. */
	s.sport = 5002;
	s.flags = TCPF_SYN;
	s.seq = 20;
	s.ack = 0;
	peer_send(&r, &s, NULL, 0);
	CHECK(!got(&r, &t, NULL));
	CHECK_EQ(stat(&r, "tcp.listen_overflows"), 1);
	vsock_close(lsn); /* resets the unaccepted connections */
	REQUIRE(got(&r, &t, NULL));
	CHECK(t.flags & TCPF_RST);
	REQUIRE(got(&r, &t, NULL));
	CHECK(t.flags & TCPF_RST);
	rig_down(&r);
}

/* ---- SYN_RECEIVED --------------------------------------------------------- */
TEST(syn_received_ack_too_low_gets_rst)
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
	seg(&r, 80, TCPF_ACK, 1001, iss, NULL, 0); /* acks nothing new */
	REQUIRE(got(&r, &t, NULL));
	CHECK_EQ(t.flags, TCPF_RST);
	CHECK_EQ(t.seq, iss);
	CHECK(!(vsock_poll(lsn) & POLLIN));
	vsock_close(lsn);
	rig_down(&r);
}

TEST(syn_received_ack_too_high_gets_rst)
{
	struct rig r;
	struct vsocket *lsn;
	struct tcp_repr t;

	rig_up(&r);
	lsn = listener(&r, 80);
	seg(&r, 80, TCPF_SYN, 1000, 0, NULL, 0);
	REQUIRE(got(&r, &t, NULL));
	seg(&r, 80, TCPF_ACK, 1001, t.seq + 5, NULL, 0);
	REQUIRE(got(&r, &t, NULL));
	CHECK_EQ(t.flags, TCPF_RST);
	vsock_close(lsn);
	rig_down(&r);
}

TEST(syn_received_rst_forgets_embryo)
{
	struct rig r;
	struct vsocket *lsn, *so;
	struct tcp_repr t;
	struct world_counts c;

	rig_up(&r);
	lsn = listener(&r, 80);
	seg(&r, 80, TCPF_SYN, 1000, 0, NULL, 0);
	REQUIRE(got(&r, &t, NULL));
	world_counts(r.w, &c);
	CHECK_EQ(c.tcp_conns, 2);
	seg(&r, 80, TCPF_RST, 1001, 0, NULL, 0);
	world_counts(r.w, &c);
	CHECK_EQ(c.tcp_conns, 1);
	CHECK_EQ(vsock_accept(lsn, &so, NULL, NULL), -EAGAIN);
	vsock_close(lsn);
	rig_down(&r);
}

TEST(syn_received_synack_retransmitted_then_dropped)
{
	struct rig r;
	struct vsocket *lsn;
	struct tcp_repr t;
	struct world_counts c;
	int n = 0;

	rig_up(&r);
	lsn = listener(&r, 80);
	seg(&r, 80, TCPF_SYN, 1000, 0, NULL, 0);
	advance(&r, 200 * SEC);
	while (got(&r, &t, NULL)) {
		CHECK_EQ(t.flags, TCPF_SYN | TCPF_ACK);
		n++;
	}
	CHECK_EQ(n, 1 + 5); /* the first and net.inet.tcp.synack_retries */
	world_counts(r.w, &c);
	CHECK_EQ(c.tcp_conns, 1); /* only the listener is left */
	vsock_close(lsn);
	rig_down(&r);
}

/* ---- SYN_SENT ---------------------------------------------------------------- */
TEST(syn_sent_rst_with_good_ack_is_refused)
{
	struct rig r;
	struct sockaddr_in sin = {.sin_family = AF_INET,
				  .sin_port = htons(4000),
				  .sin_addr.s_addr = htonl(PEER)};
	struct vsocket *so;
	struct tcp_repr t;

	rig_up(&r);
	REQUIRE(vsock_socket(r.vi, AF_INET, SOCK_STREAM, 0, &so) == 0);
	REQUIRE(vsock_connect(so, SA(sin), sizeof(sin)) == -EINPROGRESS);
	CHECK_EQ(vsock_connect(so, SA(sin), sizeof(sin)), -EALREADY);
	REQUIRE(got(&r, &t, NULL));
	/* A RST without an acceptable ACK is ignored... */
	seg(&r, t.sport, TCPF_RST, 0, 0, NULL, 0);
	CHECK_EQ(so_err(so), 0);
	/* ...one acknowledging our SYN refuses the connection. */
	seg(&r, t.sport, TCPF_RST | TCPF_ACK, 0, t.seq + 1, NULL, 0);
	CHECK_EQ(so_err(so), ECONNREFUSED);
	CHECK(vsock_poll(so) & POLLHUP);
	vsock_close(so);
	rig_down(&r);
}

TEST(syn_sent_bad_ack_gets_rst)
{
	struct rig r;
	uint32_t iss;
	struct sockaddr_in sin = {.sin_family = AF_INET,
				  .sin_port = htons(4000),
				  .sin_addr.s_addr = htonl(PEER)};
	struct vsocket *so;
	struct tcp_repr t;

	rig_up(&r);
	REQUIRE(vsock_socket(r.vi, AF_INET, SOCK_STREAM, 0, &so) == 0);
	REQUIRE(vsock_connect(so, SA(sin), sizeof(sin)) == -EINPROGRESS);
	REQUIRE(got(&r, &t, NULL));
	iss = t.seq;
	seg(&r, t.sport, TCPF_SYN | TCPF_ACK, 7000, iss + 100, NULL, 0);
	REQUIRE(got(&r, &t, NULL));
	CHECK_EQ(t.flags, TCPF_RST);
	CHECK_EQ(t.seq, iss + 100);
	CHECK_EQ(so_err(so), 0); /* still trying */
	vsock_close(so);
	rig_down(&r);
}

TEST(syn_sent_syn_only_is_simultaneous_open)
{
	struct rig r;
	struct sockaddr_in sin = {.sin_family = AF_INET,
				  .sin_port = htons(4000),
				  .sin_addr.s_addr = htonl(PEER)};
	struct vsocket *so;
	struct tcp_repr t;
	uint32_t iss;
	uint16_t lp;

	rig_up(&r);
	REQUIRE(vsock_socket(r.vi, AF_INET, SOCK_STREAM, 0, &so) == 0);
	REQUIRE(vsock_connect(so, SA(sin), sizeof(sin)) == -EINPROGRESS);
	REQUIRE(got(&r, &t, NULL));
	iss = t.seq;
	lp = t.sport;
	seg(&r, lp, TCPF_SYN, 7000, 0, NULL, 0);
	REQUIRE(got(&r, &t, NULL));
	CHECK_EQ(t.flags, TCPF_SYN | TCPF_ACK);
	CHECK_EQ(t.seq, iss);
	CHECK_EQ(t.ack, 7001);
	seg(&r, lp, TCPF_ACK, 7001, iss + 1, NULL, 0);
	CHECK(vsock_poll(so) & POLLOUT);
	CHECK_EQ(vsock_sendto(so, "x", 1, 0, NULL, 0), 1);
	vsock_close(so);
	rig_down(&r);
}

TEST(syn_sent_zero_mss_and_big_wscale_handled)
{
	struct rig r;
	struct sockaddr_in sin = {.sin_family = AF_INET,
				  .sin_port = htons(4000),
				  .sin_addr.s_addr = htonl(PEER)};
	struct vsocket *so;
	struct tcp_repr t, sa = {.sport = 4000, .seq = 7000, .win = 65535,
				 .flags = TCPF_SYN | TCPF_ACK,
				 .opts = TCPO_MSS | TCPO_WSCALE, .mss = 0,
				 .wscale = 20};
	static uint8_t big[4000];
	uint8_t info[232];
	socklen_t il = sizeof(info);

	rig_up(&r);
	REQUIRE(vsock_socket(r.vi, AF_INET, SOCK_STREAM, 0, &so) == 0);
	REQUIRE(vsock_connect(so, SA(sin), sizeof(sin)) == -EINPROGRESS);
	REQUIRE(got(&r, &t, NULL));
	sa.dport = t.sport;
	sa.ack = t.seq + 1;
	peer_send(&r, &sa, NULL, 0);
	REQUIRE(got(&r, &t, NULL));
	CHECK_EQ(t.flags, TCPF_ACK);
	REQUIRE(vsock_getsockopt(so, IPPROTO_TCP, TCP_INFO, info, &il) == 0);
	CHECK_EQ(info[6] & 15, 14); /* snd_wscale clamped to 14 */
	/* The SYN-ACK's window is never scaled; segments take the default
	 * MSS of 536 for a zero MSS option. */
	CHECK_EQ(vsock_sendto(so, big, sizeof(big), 0, NULL, 0), 4000);
	REQUIRE(got(&r, &t, NULL));
	CHECK_EQ(t.payload_len, 536);
	vsock_close(so);
	rig_down(&r);
}

/* ---- ESTABLISHED ----------------------------------------------------------- */
TEST(established_rst_exact_resets)
{
	struct rig r;
	struct vsocket *lsn = NULL, *so;
	uint32_t iss;
	char b[4];

	rig_up(&r);
	lsn = listener(&r, 80);
	so = passive_open(&r, lsn, &iss);
	seg(&r, 80, TCPF_RST, 1001, 0, NULL, 0);
	CHECK(vsock_poll(so) & POLLERR);
	CHECK_EQ(vsock_recvfrom(so, b, 4, 0, NULL, NULL), -ECONNRESET);
	CHECK_EQ(vsock_recvfrom(so, b, 4, 0, NULL, NULL), 0);
	CHECK_EQ(vsock_sendto(so, b, 4, 0, NULL, 0), -EPIPE);
	CHECK_EQ(stat(&r, "tcp.estab_resets"), 1);
	vsock_close(so);
	vsock_close(lsn);
	rig_down(&r);
}

TEST(established_rst_in_window_gets_challenge_ack)
{
	struct rig r;
	struct vsocket *lsn, *so;
	struct tcp_repr t;
	uint32_t iss;

	rig_up(&r);
	lsn = listener(&r, 80);
	so = passive_open(&r, lsn, &iss);
	seg(&r, 80, TCPF_RST, 1001 + 100, 0, NULL, 0);
	REQUIRE(got(&r, &t, NULL));
	CHECK_EQ(t.flags, TCPF_ACK);
	CHECK_EQ(t.ack, 1001);
	CHECK_EQ(so_err(so), 0);
	CHECK_EQ(stat(&r, "tcp.challenge_acks"), 1);
	/* Out of the window entirely: silently dropped. */
	seg(&r, 80, TCPF_RST, 1001 + 10000000, 0, NULL, 0);
	CHECK(!got(&r, &t, NULL));
	CHECK_EQ(so_err(so), 0);
	vsock_close(so);
	vsock_close(lsn);
	rig_down(&r);
}

TEST(established_syn_gets_challenge_ack)
{
	struct rig r;
	struct vsocket *lsn, *so;
	struct tcp_repr t;
	uint32_t iss;

	rig_up(&r);
	lsn = listener(&r, 80);
	so = passive_open(&r, lsn, &iss);
	seg(&r, 80, TCPF_SYN, 1001, 0, NULL, 0);
	REQUIRE(got(&r, &t, NULL));
	CHECK_EQ(t.flags, TCPF_ACK);
	CHECK_EQ(t.seq, iss + 1);
	CHECK_EQ(t.ack, 1001);
	CHECK_EQ(so_err(so), 0);
	vsock_close(so);
	vsock_close(lsn);
	rig_down(&r);
}

TEST(established_old_duplicate_is_acked_not_delivered)
{
	struct rig r;
	struct vsocket *lsn, *so;
	struct tcp_repr t;
	uint32_t iss;
	char b[16];

	rig_up(&r);
	lsn = listener(&r, 80);
	so = passive_open(&r, lsn, &iss);
	seg(&r, 80, TCPF_ACK | TCPF_PSH, 1001, iss + 1, "hello", 5);
	drain(&r);
	seg(&r, 80, TCPF_ACK | TCPF_PSH, 1001, iss + 1, "hello", 5);
	REQUIRE(got(&r, &t, NULL));
	CHECK_EQ(t.ack, 1006);
	CHECK_EQ(vsock_recvfrom(so, b, sizeof(b), 0, NULL, NULL), 5);
	CHECK_EQ(vsock_recvfrom(so, b, sizeof(b), 0, NULL, NULL), -EAGAIN);
	/* Partly old, partly new: only the new bytes count. */
	seg(&r, 80, TCPF_ACK, 1003, iss + 1, "llo world", 9);
	CHECK_EQ(vsock_recvfrom(so, b, sizeof(b), 0, NULL, NULL), 6);
	CHECK_MEM(b, " world", 6);
	vsock_close(so);
	vsock_close(lsn);
	rig_down(&r);
}

TEST(established_out_of_window_data_acked_and_dropped)
{
	struct rig r;
	struct vsocket *lsn, *so;
	struct tcp_repr t;
	uint32_t iss;
	char b[8];

	rig_up(&r);
	lsn = listener(&r, 80);
	so = passive_open(&r, lsn, &iss);
	seg(&r, 80, TCPF_ACK, 1001 + 50000000, iss + 1, "zz", 2);
	REQUIRE(got(&r, &t, NULL));
	CHECK_EQ(t.flags, TCPF_ACK);
	CHECK_EQ(t.ack, 1001);
	CHECK_EQ(vsock_recvfrom(so, b, sizeof(b), 0, NULL, NULL), -EAGAIN);
	CHECK_EQ(stat(&r, "tcp.rcv_oow"), 1);
	vsock_close(so);
	vsock_close(lsn);
	rig_down(&r);
}

TEST(established_ack_of_unsent_data_is_acked_and_dropped)
{
	struct rig r;
	struct vsocket *lsn, *so;
	struct tcp_repr t;
	uint32_t iss;
	char b[8];

	rig_up(&r);
	lsn = listener(&r, 80);
	so = passive_open(&r, lsn, &iss);
	seg(&r, 80, TCPF_ACK, 1001, iss + 1000, "ab", 2);
	REQUIRE(got(&r, &t, NULL));
	CHECK_EQ(t.flags, TCPF_ACK);
	CHECK_EQ(t.ack, 1001); /* the data was not taken */
	CHECK_EQ(vsock_recvfrom(so, b, sizeof(b), 0, NULL, NULL), -EAGAIN);
	vsock_close(so);
	vsock_close(lsn);
	rig_down(&r);
}

TEST(established_out_of_order_gets_sack)
{
	struct rig r;
	struct vsocket *lsn, *so;
	struct tcp_repr t, syn = {.sport = 4000, .dport = 80, .seq = 1000,
				  .flags = TCPF_SYN, .win = 65535,
				  .opts = TCPO_SACK_PERM};
	uint32_t iss;
	char b[16];

	rig_up(&r);
	lsn = listener(&r, 80);
	peer_send(&r, &syn, NULL, 0);
	REQUIRE(got(&r, &t, NULL));
	iss = t.seq;
	seg(&r, 80, TCPF_ACK, 1001, iss + 1, NULL, 0);
	REQUIRE(vsock_accept(lsn, &so, NULL, NULL) == 0);
	seg(&r, 80, TCPF_ACK, 1006, iss + 1, "world", 5);
	REQUIRE(got(&r, &t, NULL));
	CHECK_EQ(t.ack, 1001); /* a duplicate ACK at once */
	REQUIRE(t.opts & TCPO_SACK);
	CHECK_EQ(t.nsack, 1);
	CHECK_EQ(t.sack[0].start, 1006);
	CHECK_EQ(t.sack[0].end, 1011);
	CHECK_EQ(vsock_recvfrom(so, b, sizeof(b), 0, NULL, NULL), -EAGAIN);
	seg(&r, 80, TCPF_ACK, 1001, iss + 1, "hello", 5);
	REQUIRE(got(&r, &t, NULL));
	CHECK_EQ(t.ack, 1011); /* the hole filled: ACKed at once */
	CHECK(!(t.opts & TCPO_SACK));
	CHECK_EQ(vsock_recvfrom(so, b, sizeof(b), 0, NULL, NULL), 10);
	CHECK_MEM(b, "helloworld", 10);
	vsock_close(so);
	vsock_close(lsn);
	rig_down(&r);
}

TEST(established_paws_drops_old_timestamp)
{
	struct rig r;
	struct vsocket *lsn, *so;
	struct tcp_repr t, s = {.sport = 4000, .dport = 80, .seq = 1000,
				.flags = TCPF_SYN, .win = 65535,
				.opts = TCPO_TS, .tsval = 100};
	uint32_t iss;
	char b[8];

	rig_up(&r);
	lsn = listener(&r, 80);
	peer_send(&r, &s, NULL, 0);
	REQUIRE(got(&r, &t, NULL));
	iss = t.seq;
	s.flags = TCPF_ACK;
	s.seq = 1001;
	s.ack = iss + 1;
	s.tsval = 200;
	peer_send(&r, &s, NULL, 0);
	REQUIRE(vsock_accept(lsn, &so, NULL, NULL) == 0);
	drain(&r);
	s.tsval = 150; /* older than TS.Recent: a wrapped old duplicate */
	peer_send(&r, &s, "old", 3);
	REQUIRE(got(&r, &t, NULL));
	CHECK_EQ(t.ack, 1001);
	CHECK_EQ(t.tsecr, 200);
	CHECK_EQ(vsock_recvfrom(so, b, sizeof(b), 0, NULL, NULL), -EAGAIN);
	CHECK_EQ(stat(&r, "tcp.rcv_old"), 1);
	vsock_close(so);
	vsock_close(lsn);
	rig_down(&r);
}

TEST(established_delayed_ack_fires_after_40ms)
{
	struct rig r;
	struct vsocket *lsn, *so;
	struct tcp_repr t;
	uint32_t iss, seq = 1001;
	int v = 0;

	rig_up(&r);
	lsn = listener(&r, 80);
	so = passive_open(&r, lsn, &iss);
	REQUIRE(vsock_setsockopt(so, IPPROTO_TCP, TCP_QUICKACK, &v,
				 sizeof(v)) == 0);
	seg(&r, 80, TCPF_ACK, seq, iss + 1, "a", 1);
	CHECK(!got(&r, &t, NULL));
	advance(&r, 39 * MS);
	CHECK(!got(&r, &t, NULL));
	advance(&r, 2 * MS);
	REQUIRE(got(&r, &t, NULL));
	CHECK_EQ(t.ack, 1002);
	/* A second segment before the timer: ACKed at once. */
	seg(&r, 80, TCPF_ACK, 1002, iss + 1, "b", 1);
	CHECK(!got(&r, &t, NULL));
	seg(&r, 80, TCPF_ACK, 1003, iss + 1, "c", 1);
	REQUIRE(got(&r, &t, NULL));
	CHECK_EQ(t.ack, 1004);
	vsock_close(so);
	vsock_close(lsn);
	rig_down(&r);
}

TEST(established_nagle_holds_small_segment_nodelay_does_not)
{
	struct rig r;
	struct vsocket *lsn, *so;
	struct tcp_repr t;
	uint32_t iss;
	int one = 1;

	rig_up(&r);
	lsn = listener(&r, 80);
	so = passive_open(&r, lsn, &iss);
	CHECK_EQ(vsock_sendto(so, "a", 1, 0, NULL, 0), 1);
	REQUIRE(got(&r, &t, NULL)); /* nothing in flight: goes */
	CHECK_EQ(t.payload_len, 1);
	CHECK_EQ(vsock_sendto(so, "b", 1, 0, NULL, 0), 1);
	CHECK(!got(&r, &t, NULL)); /* Nagle: "a" is unacknowledged */
	seg(&r, 80, TCPF_ACK, 1001, iss + 2, NULL, 0);
	REQUIRE(got(&r, &t, NULL)); /* the ACK releases "b" */
	CHECK_EQ(t.seq, iss + 2);
	REQUIRE(vsock_setsockopt(so, IPPROTO_TCP, TCP_NODELAY, &one,
				 sizeof(one)) == 0);
	CHECK_EQ(vsock_sendto(so, "c", 1, 0, NULL, 0), 1);
	REQUIRE(got(&r, &t, NULL)); /* no waiting with TCP_NODELAY */
	CHECK_EQ(t.seq, iss + 3);
	vsock_close(so);
	vsock_close(lsn);
	rig_down(&r);
}

TEST(established_cork_waits_for_full_segment)
{
	struct rig r;
	struct vsocket *lsn, *so;
	struct tcp_repr t;
	uint32_t iss;
	int one = 1, zero = 0;

	rig_up(&r);
	lsn = listener(&r, 80);
	so = passive_open(&r, lsn, &iss);
	REQUIRE(vsock_setsockopt(so, IPPROTO_TCP, TCP_CORK, &one,
				 sizeof(one)) == 0);
	CHECK_EQ(vsock_sendto(so, "abc", 3, 0, NULL, 0), 3);
	CHECK(!got(&r, &t, NULL));
	REQUIRE(vsock_setsockopt(so, IPPROTO_TCP, TCP_CORK, &zero,
				 sizeof(zero)) == 0);
	REQUIRE(got(&r, &t, NULL));
	CHECK_EQ(t.payload_len, 3);
	vsock_close(so);
	vsock_close(lsn);
	rig_down(&r);
}

TEST(established_zero_window_probed_until_it_opens)
{
	struct rig r;
	struct vsocket *lsn, *so;
	struct tcp_repr t;
	uint32_t iss;
	int probes = 0;
	struct tcp_repr z = {.sport = 4000, .dport = 80, .seq = 1001,
			     .flags = TCPF_ACK, .win = 0};

	rig_up(&r);
	lsn = listener(&r, 80);
	so = passive_open(&r, lsn, &iss);
	z.ack = iss + 1;
	peer_send(&r, &z, NULL, 0); /* window closes */
	CHECK_EQ(vsock_sendto(so, "data", 4, 0, NULL, 0), 4);
	CHECK(!got(&r, &t, NULL));
	advance(&r, 10 * SEC);
	while (got(&r, &t, NULL)) {
		CHECK_EQ(t.payload_len, 0);
		CHECK_EQ(t.seq, iss); /* snd_una - 1: draws an ACK */
		probes++;
	}
	CHECK(probes >= 3);
	CHECK(stat(&r, "tcp.persist_probes") >= 3);
	z.win = 1000; /* the window opens */
	peer_send(&r, &z, NULL, 0);
	REQUIRE(got(&r, &t, NULL));
	CHECK_EQ(t.payload_len, 4);
	CHECK_EQ(t.seq, iss + 1);
	vsock_close(so);
	vsock_close(lsn);
	rig_down(&r);
}

TEST(established_retransmits_with_backoff_then_times_out)
{
	struct rig r;
	struct vsocket *lsn, *so;
	struct tcp_repr t;
	uint32_t iss;
	uint64_t last = 0, gap = 0;
	int n = 0;
	char b[4];

	rig_up(&r);
	lsn = listener(&r, 80);
	so = passive_open(&r, lsn, &iss);
	CHECK_EQ(vsock_sendto(so, "lost", 4, 0, NULL, 0), 4);
	REQUIRE(got(&r, &t, NULL));
	for (int i = 0; i < 40000 && !(vsock_poll(so) & POLLERR); i++) {
		advance(&r, 100 * MS);
		while (got(&r, &t, NULL)) {
			uint64_t now = world_now(r.w);

			if (t.flags & TCPF_RST)
				continue; /* the abort tells the peer */
			CHECK_EQ(t.seq, iss + 1);
			CHECK_EQ(t.payload_len, 4);
			if (last)
				CHECK(now - last >= gap); /* backs off */
			gap = last ? now - last : 0;
			last = now;
			n++;
		}
	}
	CHECK_EQ(n, 15); /* net.inet.tcp.retries2 */
	CHECK_EQ(vsock_recvfrom(so, b, 4, 0, NULL, NULL), -ETIMEDOUT);
	vsock_close(so);
	vsock_close(lsn);
	rig_down(&r);
}

TEST(established_keepalive_probes_then_drops)
{
	struct rig r;
	struct vsocket *lsn, *so;
	struct tcp_repr t;
	uint32_t iss;
	int one = 1, idle = 10, intvl = 2, cnt = 3, probes = 0;

	rig_up(&r);
	lsn = listener(&r, 80);
	so = passive_open(&r, lsn, &iss);
	REQUIRE(vsock_setsockopt(so, IPPROTO_TCP, TCP_KEEPIDLE, &idle,
				 sizeof(idle)) == 0);
	REQUIRE(vsock_setsockopt(so, IPPROTO_TCP, TCP_KEEPINTVL, &intvl,
				 sizeof(intvl)) == 0);
	REQUIRE(vsock_setsockopt(so, IPPROTO_TCP, TCP_KEEPCNT, &cnt,
				 sizeof(cnt)) == 0);
	REQUIRE(vsock_setsockopt(so, SOL_SOCKET, SO_KEEPALIVE, &one,
				 sizeof(one)) == 0);
	advance(&r, 9 * SEC);
	CHECK(!got(&r, &t, NULL));
	advance(&r, 2 * SEC);
	REQUIRE(got(&r, &t, NULL));
	CHECK_EQ(t.seq, iss); /* snd_una - 1 */
	/* An answer resets the count. */
	seg(&r, 80, TCPF_ACK, 1001, iss + 1, NULL, 0);
	advance(&r, 100 * SEC);
	while (got(&r, &t, NULL))
		probes++;
	CHECK_EQ(probes, 3 + 1); /* keepcnt probes, then the RST */
	CHECK_EQ(so_err(so), ETIMEDOUT);
	vsock_close(so);
	vsock_close(lsn);
	rig_down(&r);
}

/* ---- closing ------------------------------------------------------------------- */
TEST(established_fin_goes_close_wait_then_last_ack)
{
	struct rig r;
	struct vsocket *lsn, *so;
	struct tcp_repr t;
	uint32_t iss;
	char b[8];
	struct world_counts c;

	rig_up(&r);
	lsn = listener(&r, 80);
	so = passive_open(&r, lsn, &iss);
	seg(&r, 80, TCPF_ACK | TCPF_FIN, 1001, iss + 1, "bye", 3);
	REQUIRE(got(&r, &t, NULL));
	CHECK_EQ(t.ack, 1005); /* data and FIN */
	CHECK(vsock_poll(so) & POLLRDHUP);
	CHECK_EQ(vsock_recvfrom(so, b, sizeof(b), 0, NULL, NULL), 3);
	CHECK_EQ(vsock_recvfrom(so, b, sizeof(b), 0, NULL, NULL), 0);
	CHECK_EQ(vsock_sendto(so, "ok", 2, 0, NULL, 0), 2); /* half-close */
	REQUIRE(got(&r, &t, NULL));
	CHECK_EQ(t.payload_len, 2);
	vsock_close(so); /* LAST_ACK */
	REQUIRE(got(&r, &t, NULL));
	CHECK(t.flags & TCPF_FIN);
	CHECK_EQ(t.seq, iss + 3);
	seg(&r, 80, TCPF_ACK, 1005, iss + 4, NULL, 0);
	world_counts(r.w, &c);
	CHECK_EQ(c.tcp_conns, 1); /* gone; only the listener */
	vsock_close(lsn);
	rig_down(&r);
}

TEST(fin_wait_1_fin_goes_closing_then_time_wait)
{
	struct rig r;
	struct vsocket *lsn, *so;
	struct tcp_repr t;
	uint32_t iss;
	struct world_counts c;

	rig_up(&r);
	lsn = listener(&r, 80);
	so = passive_open(&r, lsn, &iss);
	CHECK_EQ(vsock_shutdown(so, SHUT_WR), 0);
	REQUIRE(got(&r, &t, NULL));
	CHECK(t.flags & TCPF_FIN);
	/* Simultaneous close: the peer's FIN crosses ours. */
	seg(&r, 80, TCPF_ACK | TCPF_FIN, 1001, iss + 1, NULL, 0);
	REQUIRE(got(&r, &t, NULL));
	CHECK_EQ(t.ack, 1002);
	seg(&r, 80, TCPF_ACK, 1002, iss + 2, NULL, 0); /* acks our FIN */
	vsock_close(so);
	world_counts(r.w, &c);
	CHECK_EQ(c.tcp_conns, 2); /* TIME_WAIT holds on */
	/* A retransmitted FIN in TIME_WAIT is acknowledged again. */
	seg(&r, 80, TCPF_ACK | TCPF_FIN, 1001, iss + 2, NULL, 0);
	REQUIRE(got(&r, &t, NULL));
	CHECK_EQ(t.ack, 1002);
	/* RFC 1337: a RST does not end TIME_WAIT. */
	seg(&r, 80, TCPF_RST, 1002, 0, NULL, 0);
	world_counts(r.w, &c);
	CHECK_EQ(c.tcp_conns, 2);
	advance(&r, 61 * SEC); /* 2 MSL */
	world_counts(r.w, &c);
	CHECK_EQ(c.tcp_conns, 1);
	vsock_close(lsn);
	rig_down(&r);
}

TEST(fin_wait_2_fin_goes_time_wait_and_new_syn_reuses_it)
{
	struct rig r;
	struct vsocket *lsn, *so;
	struct tcp_repr t;
	uint32_t iss;

	rig_up(&r);
	lsn = listener(&r, 80);
	so = passive_open(&r, lsn, &iss);
	vsock_close(so);
	REQUIRE(got(&r, &t, NULL));
	CHECK(t.flags & TCPF_FIN);
	seg(&r, 80, TCPF_ACK, 1001, iss + 2, NULL, 0); /* FIN_WAIT_2 */
	seg(&r, 80, TCPF_ACK | TCPF_FIN, 1001, iss + 2, NULL, 0);
	REQUIRE(got(&r, &t, NULL));
	CHECK_EQ(t.ack, 1002);
	/* A new SYN with a higher sequence number takes over the tuple. */
	seg(&r, 80, TCPF_SYN, 90000, 0, NULL, 0);
	REQUIRE(got(&r, &t, NULL));
	CHECK_EQ(t.flags, TCPF_SYN | TCPF_ACK);
	CHECK_EQ(t.ack, 90001);
	CHECK_EQ(stat(&r, "tcp.timewait_reused"), 1);
	vsock_close(lsn);
	rig_down(&r);
}

TEST(close_with_unread_data_sends_rst)
{
	struct rig r;
	struct vsocket *lsn, *so;
	struct tcp_repr t;
	uint32_t iss;

	rig_up(&r);
	lsn = listener(&r, 80);
	so = passive_open(&r, lsn, &iss);
	seg(&r, 80, TCPF_ACK, 1001, iss + 1, "unread", 6);
	drain(&r);
	vsock_close(so);
	REQUIRE(got(&r, &t, NULL));
	CHECK(t.flags & TCPF_RST);
	vsock_close(lsn);
	rig_down(&r);
}

TEST(close_with_linger_zero_sends_rst)
{
	struct rig r;
	struct vsocket *lsn, *so;
	struct tcp_repr t;
	uint32_t iss;
	struct linger l = {.l_onoff = 1, .l_linger = 0};

	rig_up(&r);
	lsn = listener(&r, 80);
	so = passive_open(&r, lsn, &iss);
	REQUIRE(vsock_setsockopt(so, SOL_SOCKET, SO_LINGER, &l, sizeof(l)) ==
		0);
	vsock_close(so);
	REQUIRE(got(&r, &t, NULL));
	CHECK_EQ(t.flags, TCPF_RST | TCPF_ACK);
	CHECK_EQ(t.seq, iss + 1);
	vsock_close(lsn);
	rig_down(&r);
}

TEST(orphan_data_after_close_gets_rst)
{
	struct rig r;
	struct vsocket *lsn, *so;
	struct tcp_repr t;
	uint32_t iss;
	struct world_counts c;

	rig_up(&r);
	lsn = listener(&r, 80);
	so = passive_open(&r, lsn, &iss);
	vsock_close(so);
	drain(&r);
	seg(&r, 80, TCPF_ACK, 1001, iss + 2, "late", 4);
	REQUIRE(got(&r, &t, NULL));
	CHECK(t.flags & TCPF_RST);
	world_counts(r.w, &c);
	CHECK_EQ(c.tcp_conns, 1);
	vsock_close(lsn);
	rig_down(&r);
}

/* ---- malformed ------------------------------------------------------------- */
TEST(malformed_segments_counted_and_dropped)
{
	struct rig r;
	struct vsocket *lsn;
	struct tcp_repr t;
	uint8_t f[128];
	struct eth_repr eh = {.ethertype = ETHERTYPE_IPV4,
			      .src = {2, 0, 0, 0, 0, 9}};
	struct ipv4_repr ip = {.hlen = 20, .ttl = 64, .proto = IPPROTO_TCP_,
			       .src = PEER, .dst = US};
	struct tcp_repr s = {.sport = 4000, .dport = 80, .seq = 1,
			     .flags = TCPF_SYN, .win = 100};

	rig_up(&r);
	lsn = listener(&r, 80);
	/* SYN+FIN */
	seg(&r, 80, TCPF_SYN | TCPF_FIN, 1000, 0, NULL, 0);
	CHECK(!got(&r, &t, NULL));
	CHECK_EQ(stat(&r, "tcp.badflags"), 1);
	/* Data offset below 5, and past the segment. */
	memcpy(eh.dst, r.mac, 6);
	eth_emit(&eh, f);
	ip.total_len = 40;
	ipv4_emit(&ip, f + 14);
	tcp4_emit(&s, f + 34, 0, PEER, US, false);
	f[34 + 12] = 0x40;
	tcp4_fill_cksum(f + 34, 20, PEER, US);
	vif_ext_input(r.ext, f, 54);
	f[34 + 12] = 0xf0;
	tcp4_fill_cksum(f + 34, 20, PEER, US);
	vif_ext_input(r.ext, f, 54);
	world_run(r.w);
	CHECK_EQ(stat(&r, "tcp.badoff"), 2);
	/* An option running past the header. */
	ip.total_len = 44;
	ipv4_emit(&ip, f + 14);
	tcp4_emit(&s, f + 34, 0, PEER, US, false);
	f[34 + 12] = 0x60;
	f[54] = TCPOPT_MSS;
	f[55] = 8;
	f[56] = 5;
	f[57] = 0xb4;
	tcp4_fill_cksum(f + 34, 24, PEER, US);
	vif_ext_input(r.ext, f, 58);
	/* A bad checksum. */
	f[55] = 4;
	tcp4_fill_cksum(f + 34, 24, PEER, US);
	f[34 + 16] ^= 1;
	vif_ext_input(r.ext, f, 58);
	world_run(r.w);
	CHECK_EQ(stat(&r, "tcp.badopt"), 1);
	CHECK_EQ(stat(&r, "tcp.badsum"), 1);
	CHECK(!got(&r, &t, NULL));
	/* And a good SYN still works. */
	seg(&r, 80, TCPF_SYN, 1000, 0, NULL, 0);
	REQUIRE(got(&r, &t, NULL));
	CHECK_EQ(t.flags, TCPF_SYN | TCPF_ACK);
	vsock_close(lsn);
	rig_down(&r);
}

TEST(mss_clamped_to_interface_mtu)
{
	struct rig r;
	uint32_t iss;
	struct vsocket *so;
	struct tcp_repr t;
	static uint8_t big[3000];
	struct sockaddr_in sin = {.sin_family = AF_INET,
				  .sin_port = htons(4000),
				  .sin_addr.s_addr = htonl(PEER)};
	struct tcp_repr sa = {.sport = 4000, .seq = 7000, .win = 60000,
			      .flags = TCPF_SYN | TCPF_ACK, .opts = TCPO_MSS,
			      .mss = 9000};

	rig_up(&r);
	REQUIRE(vif_set_mtu(r.ext, 1000) == 0);
	REQUIRE(vsock_socket(r.vi, AF_INET, SOCK_STREAM, 0, &so) == 0);
	REQUIRE(vsock_connect(so, SA(sin), sizeof(sin)) == -EINPROGRESS);
	REQUIRE(got(&r, &t, NULL));
	CHECK_EQ(t.mss, 960);
	iss = t.seq;
	sa.dport = t.sport;
	sa.ack = iss + 1;
	peer_send(&r, &sa, NULL, 0);
	drain(&r);
	CHECK_EQ(vsock_sendto(so, big, sizeof(big), 0, NULL, 0), 3000);
	REQUIRE(got(&r, &t, NULL));
	CHECK_EQ(t.payload_len, 960); /* the peer's 9000 clamped to ours */
	vsock_close(so);
	rig_down(&r);
}

TEST(syn_sent_syn_ack_establishes_and_data_flows)
{
	struct rig r;
	struct vsocket *so;
	struct tcp_repr t;
	struct sockaddr_in peer;
	socklen_t pl = sizeof(peer);
	uint32_t iss;
	char b[8];

	rig_up(&r);
	so = active_open(&r, &iss);
	CHECK(vsock_poll(so) & POLLOUT);
	CHECK_EQ(so_err(so), 0);
	CHECK_EQ(vsock_getpeername(so, SA(peer), &pl), 0);
	CHECK_EQ(ntohs(peer.sin_port), 4000);
	CHECK_EQ(vsock_sendto(so, "ping", 4, 0, NULL, 0), 4);
	REQUIRE(got(&r, &t, NULL));
	CHECK_EQ(t.seq, iss + 1);
	CHECK_EQ(t.payload_len, 4);
	seg(&r, local_port(so), TCPF_ACK | TCPF_PSH, 7001, iss + 5, "pong", 4);
	CHECK_EQ(vsock_recvfrom(so, b, sizeof(b), 0, NULL, NULL), 4);
	CHECK_MEM(b, "pong", 4);
	vsock_close(so);
	rig_down(&r);
}

/* RFC 1122 4.2.3.10: a SYN to a broadcast address (here the directed
 * broadcast of our /24, sent to our MAC) gets nothing back, not even a
 * RST; it is counted. */
TEST(listen_syn_to_broadcast_address_is_dropped)
{
	struct rig r;
	struct vsocket *lsn;
	struct tcp_repr t, s = {.sport = 4000, .dport = 80, .seq = 1,
				.flags = TCPF_SYN, .win = 100};
	struct eth_repr eh = {.ethertype = ETHERTYPE_IPV4,
			      .src = {2, 0, 0, 0, 0, 9}};
	struct ipv4_repr ip = {.hlen = 20, .ttl = 64, .proto = IPPROTO_TCP_,
			       .total_len = 40, .src = PEER,
			       .dst = 0xc00002ffu};
	uint8_t f[64];
	uint64_t errs;

	rig_up(&r);
	lsn = listener(&r, 80);
	errs = stat(&r, "tcp.in_errs");
	memcpy(eh.dst, r.mac, 6);
	eth_emit(&eh, f);
	ipv4_emit(&ip, f + 14);
	tcp4_emit(&s, f + 34, 0, PEER, ip.dst, true);
	REQUIRE(vif_ext_input(r.ext, f, 54) == 0);
	world_run(r.w);
	CHECK(!got(&r, &t, NULL));
	CHECK_EQ(stat(&r, "tcp.in_errs"), errs + 1);
	/* The same SYN to our own address is answered. */
	seg(&r, 80, TCPF_SYN, 1, 0, NULL, 0);
	REQUIRE(got(&r, &t, NULL));
	CHECK_EQ(t.flags, TCPF_SYN | TCPF_ACK);
	vsock_close(lsn);
	rig_down(&r);
}
