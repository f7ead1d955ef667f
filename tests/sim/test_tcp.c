/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * TCP between vimages in virtual time: handshake, bulk transfer with the
 * bytes hashed end to end, close in every order, resets, listen backlog,
 * TIME_WAIT, keepalive, zero-window probing, and teardown with live
 * connections. Every test ends with simnet_free's leak check.
 */
#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>

#include "core/kern.h"
#include "harness/test.h"
#include "simnet.h"
#include "tcpx.h"

#define SA(s) ((struct sockaddr *)&(s))
#define MS (NSEC_PER_MSEC)
#define SEC (NSEC_PER_SEC)

static uint64_t stat_of(struct vimage *vi, const char *name)
{
	uint64_t v = 0;

	REQUIRE(vimage_stat_get(vi, name, &v) == 0);
	return v;
}

static struct vsocket *tcp_sock(struct vimage *vi)
{
	struct vsocket *so = NULL;

	REQUIRE(vsock_socket(vi, AF_INET, SOCK_STREAM, 0, &so) == 0);
	return so;
}

static struct vsocket *tcp_listener(struct vimage *vi, uint16_t port,
				    int backlog)
{
	struct sockaddr_in sin = simnet_sin("0.0.0.0", port);
	struct vsocket *so = tcp_sock(vi);

	REQUIRE(vsock_bind(so, SA(sin), sizeof(sin)) == 0);
	REQUIRE(vsock_listen(so, backlog) == 0);
	return so;
}

/* Connect from a to b:port and accept; both ends established. */
static void tcp_pair(struct simnet *sn, struct vsocket *lsn, const char *addr,
		     uint16_t port, struct vsocket **cli, struct vsocket **srv)
{
	struct sockaddr_in sin = simnet_sin(addr, port);

	*cli = tcp_sock(sn->node[0]);
	REQUIRE(vsock_connect(*cli, SA(sin), sizeof(sin)) == -EINPROGRESS);
	simnet_run(sn, 10 * MS);
	REQUIRE(vsock_accept(lsn, srv, NULL, NULL) == 0);
}

TEST(tcp_handshake_and_echo)
{
	struct simnet *sn = simnet_pair(1);
	struct vsocket *lsn, *cli, *srv;
	struct sockaddr_in peer;
	socklen_t pl = sizeof(peer);
	char buf[64];
	int err = 0;
	socklen_t el = sizeof(err);

	REQUIRE(sn);
	lsn = tcp_listener(sn->node[1], 80, 16);
	CHECK_EQ(vsock_poll(lsn) & POLLIN, 0);
	tcp_pair(sn, lsn, "10.0.0.2", 80, &cli, &srv);
	CHECK(vsock_poll(cli) & POLLOUT);
	CHECK_EQ(vsock_getsockopt(cli, SOL_SOCKET, SO_ERROR, &err, &el), 0);
	CHECK_EQ(err, 0);
	CHECK_EQ(vsock_getpeername(srv, SA(peer), &pl), 0);
	CHECK_EQ(ntohl(peer.sin_addr.s_addr), 0x0a000001);
	CHECK_EQ(vsock_sendto(cli, "hello", 5, 0, NULL, 0), 5);
	simnet_run(sn, 10 * MS);
	CHECK(vsock_poll(srv) & POLLIN);
	CHECK_EQ(vsock_recvfrom(srv, buf, sizeof(buf), 0, NULL, NULL), 5);
	CHECK_MEM(buf, "hello", 5);
	CHECK_EQ(vsock_recvfrom(srv, buf, sizeof(buf), 0, NULL, NULL),
		 -EAGAIN);
	CHECK_EQ(vsock_sendto(srv, "world!", 6, 0, NULL, 0), 6);
	simnet_run(sn, 10 * MS);
	CHECK_EQ(vsock_recvfrom(cli, buf, sizeof(buf), 0, NULL, NULL), 6);
	CHECK_MEM(buf, "world!", 6);
	vsock_close(cli);
	simnet_run(sn, 10 * MS);
	CHECK_EQ(vsock_recvfrom(srv, buf, sizeof(buf), 0, NULL, NULL), 0);
	vsock_close(srv);
	vsock_close(lsn);
	simnet_run(sn, 120 * SEC); /* TIME_WAIT runs out */
	CHECK_EQ(simnet_free(sn), 0);
}

TEST(tcp_bulk_transfer_intact)
{
	static const uint64_t sizes[] = {1, 1000, 1448, 1449, 65536, 1000000,
					 10000000};
	struct simnet *sn = simnet_pair(2);

	REQUIRE(sn);
	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		struct tcpx x;

		REQUIRE(tcpx_open(&x, sn, sn->node[0], sn->node[1], "10.0.0.2",
				  (uint16_t)(1000 + i)) == 0);
		CHECK_EQ(tcpx_transfer(&x, sizes[i], 600 * SEC), 0);
		if (x.err)
			printf("size %llu: err %d sent %llu rcvd %llu\n",
			       (unsigned long long)sizes[i], x.err,
			       (unsigned long long)x.sent,
			       (unsigned long long)x.rcvd);
		tcpx_close(&x);
	}
	simnet_run(sn, 120 * SEC);
	CHECK_EQ(simnet_free(sn), 0);
}

TEST(tcp_connect_refused_no_listener)
{
	struct simnet *sn = simnet_pair(3);
	struct sockaddr_in sin = simnet_sin("10.0.0.2", 81);
	struct vsocket *cli;
	int err = 0;
	socklen_t el = sizeof(err);

	REQUIRE(sn);
	cli = tcp_sock(sn->node[0]);
	REQUIRE(vsock_connect(cli, SA(sin), sizeof(sin)) == -EINPROGRESS);
	simnet_run(sn, 10 * MS);
	CHECK(vsock_poll(cli) & POLLERR);
	CHECK_EQ(vsock_getsockopt(cli, SOL_SOCKET, SO_ERROR, &err, &el), 0);
	CHECK_EQ(err, ECONNREFUSED);
	CHECK(stat_of(sn->node[1], "tcp.no_port") >= 1);
	CHECK(stat_of(sn->node[1], "tcp.out_rsts") >= 1);
	vsock_close(cli);
	CHECK_EQ(simnet_free(sn), 0);
}
