/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The socket layer, UDP, raw and ping sockets: the errno of every refusal
 * is the one Linux gives (checked against Linux 6.x by hand: socket(7),
 * udp(7), raw(7), icmp(7) and the sources' behaviour), the options read
 * back as Linux reports them, and datagrams round-trip through lo0.
 *
 * The fixture is one host "h" (10.0.0.1/24 on ve0) whose ve0 leads to a
 * peer "p" (10.0.0.2/24), so that directed broadcasts and devices exist.
 */
#include <arpa/inet.h>
#include <string.h>

#include "../harness/test.h"
#include "core/kern.h"
#include "netinet/inet.h"
#include "socket/socket_var.h"
#include "vimage/net.h"
#include "vimage/socket.h"
#include "wire/wire.h"

#ifndef ICMP_FILTER
#define ICMP_FILTER 1
#endif

struct fx {
	struct world *w;
	struct vimage *h, *p;
	struct ifnet *ve_h, *ve_p;
};

static void fx_init(struct fx *f)
{
	struct world_config cfg = {.seed = 42};
	struct vaddr a = VADDR4(10, 0, 0, 1), b = VADDR4(10, 0, 0, 2);

	memset(f, 0, sizeof(*f));
	REQUIRE(world_create(&cfg, &f->w) == 0);
	REQUIRE(vimage_create(f->w, "h", &f->h) == 0);
	REQUIRE(vimage_create(f->w, "p", &f->p) == 0);
	REQUIRE(vif_ve_create(f->h, "ve0", f->p, "ve0", &f->ve_h, &f->ve_p) ==
		0);
	REQUIRE(vif_addr_add(f->ve_h, &a, 24) == 0);
	REQUIRE(vif_addr_add(f->ve_p, &b, 24) == 0);
	REQUIRE(vif_set_up(f->ve_h, true) == 0);
	REQUIRE(vif_set_up(f->ve_p, true) == 0);
	world_run(f->w);
}

static void fx_free(struct fx *f)
{
	struct world_counts wc;

	CHECK_EQ(vimage_destroy(f->h), 0);
	CHECK_EQ(vimage_destroy(f->p), 0);
	world_counts(f->w, &wc);
	CHECK_EQ(wc.sockets, 0);
	CHECK_EQ(wc.pkts, 0);
	world_destroy(f->w);
}

static struct sockaddr_in sin4(const char *addr, uint16_t port)
{
	struct sockaddr_in s = {.sin_family = AF_INET, .sin_port = htons(port)};

	inet_pton(AF_INET, addr, &s.sin_addr);
	return s;
}
#define SA(s) ((struct sockaddr *)&(s))

static struct vsocket *udp_sock(struct vimage *vi)
{
	struct vsocket *so = NULL;

	REQUIRE(vsock_socket(vi, AF_INET, SOCK_DGRAM, 0, &so) == 0);
	return so;
}

static int bind_to(struct vsocket *so, const char *addr, uint16_t port)
{
	struct sockaddr_in s = sin4(addr, port);

	return vsock_bind(so, SA(s), sizeof(s));
}

static uint16_t local_port(struct vsocket *so)
{
	struct sockaddr_in s;
	socklen_t len = sizeof(s);

	REQUIRE(vsock_getsockname(so, SA(s), &len) == 0);
	return ntohs(s.sin_port);
}

static int get_int(struct vsocket *so, int level, int name)
{
	int v = -12345;
	socklen_t len = sizeof(v);

	REQUIRE(vsock_getsockopt(so, level, name, &v, &len) == 0);
	CHECK_EQ(len, sizeof(int));
	return v;
}

static int set_int(struct vsocket *so, int level, int name, int v)
{
	return vsock_setsockopt(so, level, name, &v, sizeof(v));
}

/* ---- socket() ------------------------------------------------------------ */
TEST(socket_bad_family_is_eafnosupport)
{
	struct fx f;
	struct vsocket *so;

	fx_init(&f);
	CHECK_EQ(vsock_socket(f.h, AF_INET6, SOCK_DGRAM, 0, &so),
		 -EAFNOSUPPORT);
	CHECK_EQ(vsock_socket(f.h, AF_UNIX, SOCK_DGRAM, 0, &so), -EAFNOSUPPORT);
	CHECK_EQ(vsock_socket(f.h, 9999, SOCK_DGRAM, 0, &so), -EAFNOSUPPORT);
	CHECK_EQ(vsock_socket(f.h, -1, SOCK_DGRAM, 0, &so), -EAFNOSUPPORT);
	fx_free(&f);
}

TEST(socket_bad_type_or_flags_is_einval)
{
	struct fx f;
	struct vsocket *so;

	fx_init(&f);
	CHECK_EQ(vsock_socket(f.h, AF_INET, 12, 0, &so), -EINVAL);
	CHECK_EQ(vsock_socket(f.h, AF_INET, SOCK_DGRAM | 0x100, 0, &so),
		 -EINVAL);
	/* Unknown flags are refused before the family is looked at. */
	CHECK_EQ(vsock_socket(f.h, AF_INET6, SOCK_DGRAM | 0x100, 0, &so),
		 -EINVAL);
	CHECK_EQ(vsock_socket(f.h, AF_INET, SOCK_DGRAM, 256, &so), -EINVAL);
	CHECK_EQ(vsock_socket(f.h, AF_INET, SOCK_DGRAM, -1, &so), -EINVAL);
	fx_free(&f);
}

TEST(socket_unknown_type_is_esocktnosupport)
{
	struct fx f;
	struct vsocket *so;

	fx_init(&f);
	CHECK_EQ(vsock_socket(f.h, AF_INET, SOCK_SEQPACKET, 0, &so),
		 -ESOCKTNOSUPPORT);
	CHECK_EQ(vsock_socket(f.h, AF_INET, SOCK_RDM, 0, &so),
		 -ESOCKTNOSUPPORT);
	fx_free(&f);
}

TEST(socket_wrong_protocol_is_eprotonosupport)
{
	struct fx f;
	struct vsocket *so;

	fx_init(&f);
	CHECK_EQ(vsock_socket(f.h, AF_INET, SOCK_DGRAM, IPPROTO_TCP, &so),
		 -EPROTONOSUPPORT);
	CHECK_EQ(vsock_socket(f.h, AF_INET, SOCK_STREAM, IPPROTO_UDP, &so),
		 -EPROTONOSUPPORT);
	REQUIRE(vsock_socket(f.h, AF_INET, SOCK_STREAM, 0, &so) == 0);
	CHECK_EQ(get_int(so, SOL_SOCKET, SO_PROTOCOL), IPPROTO_TCP);
	vsock_close(so);
	REQUIRE(vsock_socket(f.h, AF_INET, SOCK_STREAM, IPPROTO_TCP, &so) == 0);
	vsock_close(so);
	fx_free(&f);
}

TEST(raw_socket_protocol_zero_rejected)
{
	struct fx f;
	struct vsocket *so;

	fx_init(&f);
	CHECK_EQ(vsock_socket(f.h, AF_INET, SOCK_RAW, 0, &so),
		 -EPROTONOSUPPORT);
	REQUIRE(vsock_socket(f.h, AF_INET, SOCK_RAW, 253, &so) == 0);
	CHECK_EQ(get_int(so, SOL_SOCKET, SO_PROTOCOL), 253);
	vsock_close(so);
	fx_free(&f);
}

TEST(socket_flags_accepted_and_identity_reported)
{
	struct fx f;
	struct vsocket *so, *ps, *rs;

	fx_init(&f);
	REQUIRE(vsock_socket(f.h, AF_INET,
			     SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
			     &so) == 0);
	CHECK_EQ(get_int(so, SOL_SOCKET, SO_TYPE), SOCK_DGRAM);
	CHECK_EQ(get_int(so, SOL_SOCKET, SO_DOMAIN), AF_INET);
	CHECK_EQ(get_int(so, SOL_SOCKET, SO_PROTOCOL), IPPROTO_UDP);
	REQUIRE(vsock_socket(f.h, AF_INET, SOCK_DGRAM, IPPROTO_ICMP, &ps) == 0);
	CHECK_EQ(get_int(ps, SOL_SOCKET, SO_PROTOCOL), IPPROTO_ICMP);
	REQUIRE(vsock_socket(f.h, AF_INET, SOCK_RAW, IPPROTO_RAW, &rs) == 0);
	CHECK_EQ(get_int(rs, SOL_SOCKET, SO_TYPE), SOCK_RAW);
	/* IPPROTO_RAW implies IP_HDRINCL. */
	CHECK_EQ(get_int(rs, IPPROTO_IP, IP_HDRINCL), 1);
	CHECK_EQ(vsock_vimage(so), f.h);
	CHECK_EQ(f.w->sockets_live, 3);
	vsock_close(so);
	vsock_close(ps);
	vsock_close(rs);
	CHECK_EQ(f.w->sockets_live, 0);
	fx_free(&f);
}

/* ---- bind ---------------------------------------------------------------- */
TEST(udp_bind_twice_is_einval)
{
	struct fx f;
	struct vsocket *so;

	fx_init(&f);
	so = udp_sock(f.h);
	CHECK_EQ(bind_to(so, "0.0.0.0", 5000), 0);
	CHECK_EQ(bind_to(so, "0.0.0.0", 5001), -EINVAL);
	CHECK_EQ(local_port(so), 5000);
	vsock_close(so);
	fx_free(&f);
}

TEST(udp_bind_short_addrlen_is_einval)
{
	struct fx f;
	struct vsocket *so;
	struct sockaddr_in s = sin4("10.0.0.1", 5000);

	fx_init(&f);
	so = udp_sock(f.h);
	CHECK_EQ(vsock_bind(so, SA(s), sizeof(s) - 1), -EINVAL);
	CHECK_EQ(vsock_bind(so, NULL, 0), -EINVAL);
	vsock_close(so);
	fx_free(&f);
}

TEST(udp_bind_wrong_family_is_eafnosupport)
{
	struct fx f;
	struct vsocket *so;
	struct sockaddr_in s = sin4("10.0.0.1", 5000);

	fx_init(&f);
	so = udp_sock(f.h);
	s.sin_family = AF_INET6;
	CHECK_EQ(vsock_bind(so, SA(s), sizeof(s)), -EAFNOSUPPORT);
	/* AF_UNSPEC passes only with INADDR_ANY (Linux's compatibility). */
	s.sin_family = AF_UNSPEC;
	CHECK_EQ(vsock_bind(so, SA(s), sizeof(s)), -EAFNOSUPPORT);
	s.sin_addr.s_addr = htonl(INADDR_ANY);
	CHECK_EQ(vsock_bind(so, SA(s), sizeof(s)), 0);
	vsock_close(so);
	fx_free(&f);
}

TEST(udp_bind_nonlocal_is_eaddrnotavail)
{
	struct fx f;
	struct vsocket *so;

	fx_init(&f);
	so = udp_sock(f.h);
	CHECK_EQ(bind_to(so, "10.0.0.2", 5000),
		 -EADDRNOTAVAIL); /* the peer's */
	CHECK_EQ(bind_to(so, "192.0.2.1", 5000), -EADDRNOTAVAIL);
	CHECK_EQ(bind_to(so, "10.0.0.1", 5000), 0);
	vsock_close(so);
	/* Broadcast addresses may be bound (DHCP servers do). */
	so = udp_sock(f.h);
	CHECK_EQ(bind_to(so, "10.0.0.255", 5000), 0);
	vsock_close(so);
	fx_free(&f);
}

TEST(udp_bind_same_port_is_eaddrinuse)
{
	struct fx f;
	struct vsocket *a, *b, *c;

	fx_init(&f);
	a = udp_sock(f.h);
	b = udp_sock(f.h);
	c = udp_sock(f.h);
	CHECK_EQ(bind_to(a, "0.0.0.0", 5000), 0);
	CHECK_EQ(bind_to(b, "0.0.0.0", 5000), -EADDRINUSE);
	/* A specific address conflicts with the wildcard too. */
	CHECK_EQ(bind_to(b, "10.0.0.1", 5000), -EADDRINUSE);
	/* A failed bind leaves the socket unbound. */
	CHECK_EQ(bind_to(b, "0.0.0.0", 5001), 0);
	/* Different specific addresses do not conflict. */
	CHECK_EQ(bind_to(c, "127.0.0.1", 6000), 0);
	vsock_close(c);
	c = udp_sock(f.h);
	CHECK_EQ(bind_to(c, "10.0.0.1", 6000), 0);
	vsock_close(a);
	vsock_close(b);
	vsock_close(c);
	fx_free(&f);
}

TEST(udp_closing_frees_the_port)
{
	struct fx f;
	struct vsocket *a, *b;

	fx_init(&f);
	a = udp_sock(f.h);
	CHECK_EQ(bind_to(a, "0.0.0.0", 5000), 0);
	vsock_close(a);
	b = udp_sock(f.h);
	CHECK_EQ(bind_to(b, "0.0.0.0", 5000), 0);
	vsock_close(b);
	fx_free(&f);
}

TEST(udp_reuseaddr_allows_shared_port)
{
	struct fx f;
	struct vsocket *a, *b, *c;

	fx_init(&f);
	a = udp_sock(f.h);
	b = udp_sock(f.h);
	c = udp_sock(f.h);
	CHECK_EQ(set_int(a, SOL_SOCKET, SO_REUSEADDR, 1), 0);
	CHECK_EQ(get_int(a, SOL_SOCKET, SO_REUSEADDR), 1);
	CHECK_EQ(bind_to(a, "0.0.0.0", 5000), 0);
	/* Both must ask. */
	CHECK_EQ(bind_to(c, "0.0.0.0", 5000), -EADDRINUSE);
	CHECK_EQ(set_int(b, SOL_SOCKET, SO_REUSEADDR, 1), 0);
	CHECK_EQ(bind_to(b, "10.0.0.1", 5000), 0);
	vsock_close(a);
	vsock_close(b);
	vsock_close(c);
	fx_free(&f);
}

TEST(udp_reuseport_allows_shared_port)
{
	struct fx f;
	struct vsocket *a, *b, *c;

	fx_init(&f);
	a = udp_sock(f.h);
	b = udp_sock(f.h);
	c = udp_sock(f.h);
	CHECK_EQ(set_int(a, SOL_SOCKET, SO_REUSEPORT, 1), 0);
	CHECK_EQ(set_int(b, SOL_SOCKET, SO_REUSEPORT, 1), 0);
	CHECK_EQ(set_int(c, SOL_SOCKET, SO_REUSEADDR, 1), 0);
	CHECK_EQ(bind_to(a, "0.0.0.0", 5000), 0);
	CHECK_EQ(bind_to(b, "0.0.0.0", 5000), 0);
	/* SO_REUSEADDR does not join an SO_REUSEPORT group. */
	CHECK_EQ(bind_to(c, "0.0.0.0", 5000), -EADDRINUSE);
	vsock_close(a);
	vsock_close(b);
	vsock_close(c);
	fx_free(&f);
}

TEST(udp_ephemeral_ports_in_range_and_distinct)
{
	enum { N = 200 };
	struct fx f;
	struct vsocket *so[N];
	uint16_t port[N];

	fx_init(&f);
	for (int i = 0; i < N; i++) {
		so[i] = udp_sock(f.h);
		REQUIRE(bind_to(so[i], "0.0.0.0", 0) == 0);
		port[i] = local_port(so[i]);
		CHECK(port[i] >= 32768 && port[i] <= 60999);
		for (int j = 0; j < i; j++)
			CHECK(port[i] != port[j]);
	}
	/* Not simply sequential. */
	CHECK(port[1] != port[0] + 1 || port[2] != port[1] + 1);
	for (int i = 0; i < N; i++)
		vsock_close(so[i]);
	fx_free(&f);
}

TEST(udp_ephemeral_range_exhausted)
{
	struct fx f;
	struct vsocket *a, *b, *c;
	struct sockaddr_in to = sin4("10.0.0.2", 7);

	fx_init(&f);
	CHECK_EQ(vimage_sysctl_set(f.h, "net.inet.udp.port_lo", 40000), 0);
	CHECK_EQ(vimage_sysctl_set(f.h, "net.inet.udp.port_hi", 40001), 0);
	CHECK_EQ(vimage_sysctl_set(f.h, "net.inet.udp.port_hi", 70000),
		 -EINVAL);
	a = udp_sock(f.h);
	b = udp_sock(f.h);
	c = udp_sock(f.h);
	CHECK_EQ(bind_to(a, "0.0.0.0", 0), 0);
	CHECK_EQ(vsock_sendto(b, "x", 1, 0, SA(to), sizeof(to)), 1);
	CHECK(local_port(a) >= 40000 && local_port(a) <= 40001);
	CHECK(local_port(b) >= 40000 && local_port(b) <= 40001);
	/* Linux: an explicit bind says EADDRINUSE, an implicit one EAGAIN. */
	CHECK_EQ(bind_to(c, "0.0.0.0", 0), -EADDRINUSE);
	CHECK_EQ(vsock_sendto(c, "x", 1, 0, SA(to), sizeof(to)), -EAGAIN);
	CHECK_EQ(vsock_connect(c, SA(to), sizeof(to)), -EAGAIN);
	vsock_close(a);
	vsock_close(b);
	vsock_close(c);
	world_run(f.w);
	fx_free(&f);
}

/* ---- connect, names ------------------------------------------------------ */
TEST(udp_connect_sets_peer_and_source)
{
	struct fx f;
	struct vsocket *so;
	struct sockaddr_in to = sin4("10.0.0.2", 53), s;
	socklen_t len = sizeof(s);

	fx_init(&f);
	so = udp_sock(f.h);
	CHECK_EQ(vsock_getpeername(so, SA(s), &len), -ENOTCONN);
	CHECK_EQ(vsock_connect(so, SA(to), sizeof(to)), 0);
	len = sizeof(s);
	CHECK_EQ(vsock_getpeername(so, SA(s), &len), 0);
	CHECK_EQ(len, sizeof(s));
	CHECK_EQ(ntohs(s.sin_port), 53);
	CHECK_EQ(ntohl(s.sin_addr.s_addr), 0x0a000002);
	len = sizeof(s);
	CHECK_EQ(vsock_getsockname(so, SA(s), &len), 0);
	CHECK_EQ(ntohl(s.sin_addr.s_addr), 0x0a000001); /* chosen by route */
	CHECK(ntohs(s.sin_port) >= 32768);
	/* A short buffer gets a truncated copy and the real size. */
	len = 4;
	memset(&s, 0xee, sizeof(s));
	CHECK_EQ(vsock_getsockname(so, SA(s), &len), 0);
	CHECK_EQ(len, sizeof(s));
	CHECK_EQ(s.sin_family, AF_INET);
	CHECK_EQ(s.sin_addr.s_addr, 0xeeeeeeee);
	vsock_close(so);
	fx_free(&f);
}

TEST(udp_connect_errors)
{
	struct fx f;
	struct vsocket *so;
	struct sockaddr_in to = sin4("10.0.0.2", 53);

	fx_init(&f);
	so = udp_sock(f.h);
	CHECK_EQ(vsock_connect(so, SA(to), 1), -EINVAL);
	CHECK_EQ(vsock_connect(so, SA(to), sizeof(to) - 1), -EINVAL);
	to.sin_family = AF_INET6;
	CHECK_EQ(vsock_connect(so, SA(to), sizeof(to)), -EAFNOSUPPORT);
	to = sin4("192.0.2.1", 53); /* no route */
	CHECK_EQ(vsock_connect(so, SA(to), sizeof(to)), -ENETUNREACH);
	vsock_close(so);
	fx_free(&f);
}

TEST(udp_connect_unspec_disconnects)
{
	struct fx f;
	struct vsocket *so, *fixed;
	struct sockaddr_in to = sin4("10.0.0.2", 53), s;
	struct sockaddr unspec = {.sa_family = AF_UNSPEC};
	socklen_t len = sizeof(s);

	fx_init(&f);
	so = udp_sock(f.h);
	CHECK_EQ(vsock_connect(so, SA(to), sizeof(to)), 0);
	CHECK_EQ(vsock_connect(so, &unspec, sizeof(unspec)), 0);
	CHECK_EQ(vsock_getpeername(so, SA(s), &len), -ENOTCONN);
	/* The implicit binding goes with the connection (Linux). */
	CHECK_EQ(local_port(so), 0);
	CHECK_EQ(vsock_sendto(so, "x", 1, 0, NULL, 0), -EDESTADDRREQ);
	/* An explicit one stays. */
	fixed = udp_sock(f.h);
	CHECK_EQ(bind_to(fixed, "10.0.0.1", 4444), 0);
	CHECK_EQ(vsock_connect(fixed, SA(to), sizeof(to)), 0);
	CHECK_EQ(vsock_connect(fixed, &unspec, sizeof(unspec)), 0);
	CHECK_EQ(local_port(fixed), 4444);
	vsock_close(so);
	vsock_close(fixed);
	fx_free(&f);
}

/* ---- send ---------------------------------------------------------------- */
TEST(udp_sendto_without_address_is_edestaddrreq)
{
	struct fx f;
	struct vsocket *so;

	fx_init(&f);
	so = udp_sock(f.h);
	CHECK_EQ(vsock_sendto(so, "x", 1, 0, NULL, 0), -EDESTADDRREQ);
	vsock_close(so);
	fx_free(&f);
}

TEST(udp_sendto_bad_address_is_refused)
{
	struct fx f;
	struct vsocket *so;
	struct sockaddr_in to = sin4("10.0.0.2", 0);

	fx_init(&f);
	so = udp_sock(f.h);
	CHECK_EQ(vsock_sendto(so, "x", 1, 0, SA(to), sizeof(to)),
		 -EINVAL); /* port 0 */
	to.sin_port = htons(9);
	CHECK_EQ(vsock_sendto(so, "x", 1, 0, SA(to), sizeof(to) - 1), -EINVAL);
	CHECK_EQ(vsock_sendto(so, "x", 1, 0, SA(to), 0), -EINVAL);
	to.sin_family = AF_INET6;
	CHECK_EQ(vsock_sendto(so, "x", 1, 0, SA(to), sizeof(to)),
		 -EAFNOSUPPORT);
	to.sin_family = AF_UNSPEC; /* taken as AF_INET by UDP */
	CHECK_EQ(vsock_sendto(so, "x", 1, 0, SA(to), sizeof(to)), 1);
	CHECK_EQ(vsock_sendto(so, "x", 1, MSG_OOB, SA(to), sizeof(to)),
		 -EOPNOTSUPP);
	vsock_close(so);
	world_run(f.w);
	fx_free(&f);
}

TEST(udp_sendto_oversize_is_emsgsize)
{
	static uint8_t big[70000];
	struct fx f;
	struct vsocket *so;
	struct sockaddr_in to = sin4("10.0.0.2", 9);

	fx_init(&f);
	so = udp_sock(f.h);
	CHECK_EQ(vsock_sendto(so, big, 65508, 0, SA(to), sizeof(to)),
		 -EMSGSIZE);
	CHECK_EQ(vsock_sendto(so, big, 70000, 0, SA(to), sizeof(to)),
		 -EMSGSIZE);
	vsock_close(so);
	fx_free(&f);
}

TEST(udp_broadcast_without_so_broadcast_is_eacces)
{
	struct fx f;
	struct vsocket *so;
	struct sockaddr_in dir = sin4("10.0.0.255", 9),
			   lim = sin4("255.255.255.255", 9);

	fx_init(&f);
	so = udp_sock(f.h);
	CHECK_EQ(vsock_setsockopt(so, SOL_SOCKET, SO_BINDTODEVICE, "ve0", 4),
		 0);
	CHECK_EQ(vsock_sendto(so, "x", 1, 0, SA(dir), sizeof(dir)), -EACCES);
	CHECK_EQ(vsock_sendto(so, "x", 1, 0, SA(lim), sizeof(lim)), -EACCES);
	CHECK_EQ(vsock_connect(so, SA(dir), sizeof(dir)), -EACCES);
	CHECK_EQ(set_int(so, SOL_SOCKET, SO_BROADCAST, 1), 0);
	CHECK_EQ(get_int(so, SOL_SOCKET, SO_BROADCAST), 1);
	CHECK_EQ(vsock_sendto(so, "x", 1, 0, SA(dir), sizeof(dir)), 1);
	CHECK_EQ(vsock_sendto(so, "x", 1, 0, SA(lim), sizeof(lim)), 1);
	vsock_close(so);
	world_run(f.w);
	fx_free(&f);
}

TEST(udp_send_after_shutdown_wr_is_epipe)
{
	struct fx f;
	struct vsocket *so;
	struct sockaddr_in to = sin4("10.0.0.2", 9);

	fx_init(&f);
	so = udp_sock(f.h);
	CHECK_EQ(vsock_connect(so, SA(to), sizeof(to)), 0);
	CHECK_EQ(vsock_shutdown(so, SHUT_WR), 0);
	CHECK_EQ(vsock_sendto(so, "x", 1, 0, NULL, 0), -EPIPE);
	CHECK_EQ(vsock_shutdown(so, 3), -EINVAL);
	vsock_close(so);
	fx_free(&f);
}

/* ---- receive over lo0 ---------------------------------------------------- */
TEST(udp_loopback_roundtrip_peek_trunc)
{
	struct fx f;
	struct vsocket *srv, *cli;
	struct sockaddr_in to = sin4("127.0.0.1", 7000), from;
	socklen_t fl = sizeof(from);
	char buf[64];

	fx_init(&f);
	srv = udp_sock(f.h);
	cli = udp_sock(f.h);
	REQUIRE(bind_to(srv, "127.0.0.1", 7000) == 0);
	CHECK_EQ(vsock_recvfrom(srv, buf, sizeof(buf), 0, NULL, NULL), -EAGAIN);
	CHECK_EQ(vsock_poll(srv), POLLOUT);
	CHECK_EQ(vsock_sendto(cli, "hello world", 11, 0, SA(to), sizeof(to)),
		 11);
	CHECK_EQ(vsock_sendto(cli, "second", 6, 0, SA(to), sizeof(to)), 6);
	world_run(f.w);
	CHECK_EQ(vsock_poll(srv), POLLIN | POLLOUT);
	/* Peek leaves it; MSG_TRUNC reports the real length. */
	CHECK_EQ(vsock_recvfrom(srv, buf, 5, MSG_PEEK | MSG_TRUNC, NULL, NULL),
		 11);
	CHECK_EQ(vsock_recvfrom(srv, buf, sizeof(buf), MSG_PEEK, SA(from), &fl),
		 11);
	CHECK_EQ(memcmp(buf, "hello world", 11), 0);
	CHECK_EQ(fl, sizeof(from));
	CHECK_EQ(ntohl(from.sin_addr.s_addr), 0x7f000001);
	CHECK_EQ(ntohs(from.sin_port), local_port(cli));
	/* A short buffer truncates, and the rest is gone. */
	memset(buf, 0, sizeof(buf));
	CHECK_EQ(vsock_recvfrom(srv, buf, 5, 0, NULL, NULL), 5);
	CHECK_EQ(memcmp(buf, "hello", 5), 0);
	CHECK_EQ(
	    vsock_recvfrom(srv, buf, sizeof(buf), MSG_DONTWAIT, NULL, NULL), 6);
	CHECK_EQ(memcmp(buf, "second", 6), 0);
	CHECK_EQ(vsock_recvfrom(srv, buf, sizeof(buf), 0, NULL, NULL), -EAGAIN);
	vsock_close(srv);
	vsock_close(cli);
	fx_free(&f);
}

TEST(udp_connected_socket_filters_other_sources)
{
	struct fx f;
	struct vsocket *a, *b, *c;
	struct sockaddr_in to_a = sin4("127.0.0.1", 7000);
	struct sockaddr_in b_addr = sin4("127.0.0.1", 7001);
	char buf[16];

	fx_init(&f);
	a = udp_sock(f.h);
	b = udp_sock(f.h);
	c = udp_sock(f.h);
	REQUIRE(bind_to(a, "127.0.0.1", 7000) == 0);
	REQUIRE(bind_to(b, "127.0.0.1", 7001) == 0);
	REQUIRE(vsock_connect(a, SA(b_addr), sizeof(b_addr)) == 0);
	CHECK_EQ(vsock_sendto(c, "from c", 6, 0, SA(to_a), sizeof(to_a)), 6);
	CHECK_EQ(vsock_sendto(b, "from b", 6, 0, SA(to_a), sizeof(to_a)), 6);
	world_run(f.w);
	CHECK_EQ(vsock_recvfrom(a, buf, sizeof(buf), 0, NULL, NULL), 6);
	CHECK_EQ(memcmp(buf, "from b", 6), 0);
	CHECK_EQ(vsock_recvfrom(a, buf, sizeof(buf), 0, NULL, NULL), -EAGAIN);
	vsock_close(a);
	vsock_close(b);
	vsock_close(c);
	fx_free(&f);
}

TEST(udp_unicast_prefers_specific_binding)
{
	struct fx f;
	struct vsocket *wild, *spec, *cli;
	struct sockaddr_in to = sin4("127.0.0.1", 7000);
	char buf[16];

	fx_init(&f);
	spec = udp_sock(f.h);
	wild = udp_sock(f.h);
	cli = udp_sock(f.h);
	CHECK_EQ(set_int(spec, SOL_SOCKET, SO_REUSEADDR, 1), 0);
	CHECK_EQ(set_int(wild, SOL_SOCKET, SO_REUSEADDR, 1), 0);
	REQUIRE(bind_to(spec, "127.0.0.1", 7000) == 0);
	REQUIRE(bind_to(wild, "0.0.0.0", 7000) ==
		0); /* newer, but less specific */
	CHECK_EQ(vsock_sendto(cli, "x", 1, 0, SA(to), sizeof(to)), 1);
	world_run(f.w);
	CHECK_EQ(vsock_recvfrom(spec, buf, sizeof(buf), 0, NULL, NULL), 1);
	CHECK_EQ(vsock_recvfrom(wild, buf, sizeof(buf), 0, NULL, NULL),
		 -EAGAIN);
	vsock_close(spec);
	vsock_close(wild);
	vsock_close(cli);
	fx_free(&f);
}

TEST(udp_port_unreachable_over_loopback_is_econnrefused)
{
	struct fx f;
	struct vsocket *so;
	struct sockaddr_in to = sin4("127.0.0.1", 9999);
	char buf[8];
	uint64_t noports = 0;

	fx_init(&f);
	so = udp_sock(f.h);
	REQUIRE(vsock_connect(so, SA(to), sizeof(to)) == 0);
	CHECK_EQ(vsock_sendto(so, "x", 1, 0, NULL, 0), 1);
	world_run(f.w);
	CHECK_EQ(vimage_stat_get(f.h, "udp.no_ports", &noports), 0);
	CHECK_EQ(noports, 1);
	CHECK(vsock_poll(so) & POLLERR);
	CHECK_EQ(vsock_recvfrom(so, buf, sizeof(buf), 0, NULL, NULL),
		 -ECONNREFUSED);
	CHECK_EQ(vsock_recvfrom(so, buf, sizeof(buf), 0, NULL, NULL), -EAGAIN);
	vsock_close(so);
	fx_free(&f);
}

TEST(udp_receive_buffer_full_drops_and_counts)
{
	struct fx f;
	struct vsocket *srv, *cli;
	struct sockaddr_in to = sin4("127.0.0.1", 7000);
	uint8_t payload[1000] = {0};
	uint64_t errs = 0;
	int n = 0;

	fx_init(&f);
	srv = udp_sock(f.h);
	cli = udp_sock(f.h);
	REQUIRE(bind_to(srv, "127.0.0.1", 7000) == 0);
	CHECK_EQ(set_int(srv, SOL_SOCKET, SO_RCVBUF, 0), 0); /* the floor */
	for (int i = 0; i < 10; i++)
		CHECK_EQ(vsock_sendto(cli, payload, sizeof(payload), 0, SA(to),
				      sizeof(to)),
			 (ssize_t)sizeof(payload));
	world_run(f.w);
	while (vsock_recvfrom(srv, payload, sizeof(payload), 0, NULL, NULL) > 0)
		n++;
	CHECK(n >= 1 && n < 10);
	CHECK_EQ(vimage_stat_get(f.h, "udp.rcvbuf_errors", &errs), 0);
	CHECK_EQ(errs, (uint64_t)(10 - n));
	vsock_close(srv);
	vsock_close(cli);
	fx_free(&f);
}

static unsigned notified_events;
static int notified_count;

static void on_notify(void *ctx, struct vsocket *so, unsigned events)
{
	(void)ctx;
	(void)so;
	notified_events = events;
	notified_count++;
}

TEST(notify_fires_when_a_datagram_arrives)
{
	struct fx f;
	struct vsocket *srv, *cli;
	struct sockaddr_in to = sin4("127.0.0.1", 7000);

	fx_init(&f);
	srv = udp_sock(f.h);
	cli = udp_sock(f.h);
	REQUIRE(bind_to(srv, "127.0.0.1", 7000) == 0);
	notified_count = 0;
	vsock_set_notify(srv, on_notify, NULL);
	CHECK_EQ(vsock_sendto(cli, "x", 1, 0, SA(to), sizeof(to)), 1);
	world_run(f.w);
	CHECK_EQ(notified_count, 1);
	CHECK(notified_events & POLLIN);
	vsock_close(srv);
	vsock_close(cli);
	fx_free(&f);
}

TEST(shutdown_unconnected_is_enotconn_but_hangs_up)
{
	struct fx f;
	struct vsocket *so;
	char buf[4];

	fx_init(&f);
	so = udp_sock(f.h);
	CHECK_EQ(vsock_shutdown(so, SHUT_RDWR), -ENOTCONN);
	CHECK_EQ(vsock_poll(so) & (POLLHUP | POLLIN), POLLHUP | POLLIN);
	/* Blocking read semantics: end of file, not a wait. */
	CHECK_EQ(vsock_recvfrom(so, buf, sizeof(buf), 0, NULL, NULL), 0);
	CHECK_EQ(vsock_recvfrom(so, buf, sizeof(buf), MSG_DONTWAIT, NULL, NULL),
		 -EAGAIN);
	vsock_close(so);
	fx_free(&f);
}

/* ---- options ------------------------------------------------------------- */
TEST(sockopt_rcvbuf_doubles)
{
	struct fx f;
	struct vsocket *so;

	fx_init(&f);
	so = udp_sock(f.h);
	CHECK_EQ(get_int(so, SOL_SOCKET, SO_RCVBUF), 212992);
	CHECK_EQ(get_int(so, SOL_SOCKET, SO_SNDBUF), 212992);
	CHECK_EQ(set_int(so, SOL_SOCKET, SO_RCVBUF, 65536), 0);
	CHECK_EQ(get_int(so, SOL_SOCKET, SO_RCVBUF), 131072);
	CHECK_EQ(set_int(so, SOL_SOCKET, SO_RCVBUF, 1 << 30), 0);
	CHECK_EQ(get_int(so, SOL_SOCKET, SO_RCVBUF), 425984); /* rmem_max * 2 */
	CHECK_EQ(set_int(so, SOL_SOCKET, SO_RCVBUF, -1), 0);
	CHECK_EQ(get_int(so, SOL_SOCKET, SO_RCVBUF), 425984);
	CHECK_EQ(set_int(so, SOL_SOCKET, SO_RCVBUF, 1), 0);
	CHECK_EQ(get_int(so, SOL_SOCKET, SO_RCVBUF), 2304);
	CHECK_EQ(set_int(so, SOL_SOCKET, SO_SNDBUF, 1), 0);
	CHECK_EQ(get_int(so, SOL_SOCKET, SO_SNDBUF), 4608);
	CHECK_EQ(vsock_setsockopt(so, SOL_SOCKET, SO_RCVBUF, "ab", 2), -EINVAL);
	vsock_close(so);
	fx_free(&f);
}

TEST(so_error_read_clears)
{
	struct fx f;
	struct vsocket *so;

	fx_init(&f);
	so = udp_sock(f.h);
	CHECK_EQ(get_int(so, SOL_SOCKET, SO_ERROR), 0);
	so_set_error(so, -EHOSTUNREACH);
	CHECK(vsock_poll(so) & POLLERR);
	CHECK_EQ(get_int(so, SOL_SOCKET, SO_ERROR), EHOSTUNREACH);
	CHECK_EQ(get_int(so, SOL_SOCKET, SO_ERROR), 0);
	CHECK(!(vsock_poll(so) & POLLERR));
	CHECK_EQ(set_int(so, SOL_SOCKET, SO_ERROR, 1), -ENOPROTOOPT);
	vsock_close(so);
	fx_free(&f);
}

TEST(ttl_option_range)
{
	struct fx f;
	struct vsocket *so;
	unsigned char c = 7;
	socklen_t len = 1;

	fx_init(&f);
	so = udp_sock(f.h);
	CHECK_EQ(get_int(so, IPPROTO_IP, IP_TTL), 64); /* net.inet.ip.ttl */
	CHECK_EQ(set_int(so, IPPROTO_IP, IP_TTL, 0), -EINVAL);
	CHECK_EQ(set_int(so, IPPROTO_IP, IP_TTL, 256), -EINVAL);
	CHECK_EQ(set_int(so, IPPROTO_IP, IP_TTL, -2), -EINVAL);
	CHECK_EQ(vsock_setsockopt(so, IPPROTO_IP, IP_TTL, &c, 0), -EINVAL);
	CHECK_EQ(set_int(so, IPPROTO_IP, IP_TTL, 1), 0);
	CHECK_EQ(get_int(so, IPPROTO_IP, IP_TTL), 1);
	CHECK_EQ(set_int(so, IPPROTO_IP, IP_TTL, 255), 0);
	CHECK_EQ(get_int(so, IPPROTO_IP, IP_TTL), 255);
	/* One byte is accepted, and a one-byte buffer reads one back. */
	CHECK_EQ(vsock_setsockopt(so, IPPROTO_IP, IP_TTL, &c, 1), 0);
	c = 0;
	CHECK_EQ(vsock_getsockopt(so, IPPROTO_IP, IP_TTL, &c, &len), 0);
	CHECK_EQ(len, 1);
	CHECK_EQ(c, 7);
	CHECK_EQ(set_int(so, IPPROTO_IP, IP_TTL, -1), 0);
	CHECK_EQ(get_int(so, IPPROTO_IP, IP_TTL), 64);
	CHECK_EQ(set_int(so, IPPROTO_IP, IP_TOS, 0x10), 0);
	CHECK_EQ(get_int(so, IPPROTO_IP, IP_TOS), 0x10);
	vsock_close(so);
	fx_free(&f);
}

TEST(unknown_options_are_enoprotoopt)
{
	struct fx f;
	struct vsocket *so;
	int v = 1;
	socklen_t len = sizeof(v);

	fx_init(&f);
	so = udp_sock(f.h);
	CHECK_EQ(set_int(so, SOL_SOCKET, SO_PEEK_OFF, 1), -ENOPROTOOPT);
	CHECK_EQ(set_int(so, IPPROTO_IP, IP_MINTTL, 1), -ENOPROTOOPT);
	CHECK_EQ(set_int(so, IPPROTO_IP, IP_HDRINCL, 1),
		 -ENOPROTOOPT); /* not raw */
	CHECK_EQ(set_int(so, IPPROTO_TCP, 1, 1), -ENOPROTOOPT);
	CHECK_EQ(vsock_getsockopt(so, IPPROTO_IP, IP_MINTTL, &v, &len),
		 -ENOPROTOOPT);
	/* Stored (their effects are not modelled yet), checked as Linux. */
	CHECK_EQ(set_int(so, IPPROTO_IP, IP_MTU_DISCOVER, 6), -EINVAL);
	CHECK_EQ(set_int(so, IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DO), 0);
	CHECK_EQ(vsock_getsockopt(so, IPPROTO_IP, IP_MTU_DISCOVER, &v, &len), 0);
	CHECK_EQ(v, IP_PMTUDISC_DO);
	CHECK_EQ(set_int(so, IPPROTO_IP, IP_MULTICAST_TTL, 256), -EINVAL);
	CHECK_EQ(set_int(so, SOL_RAW, ICMP_FILTER, 1), -ENOPROTOOPT);
	vsock_close(so);
	fx_free(&f);
}

TEST(sockopt_flags_and_timeouts_are_stored)
{
	struct fx f;
	struct vsocket *so;
	struct timeval tv = {.tv_sec = 2, .tv_usec = 500000}, out;
	socklen_t len = sizeof(out);

	fx_init(&f);
	so = udp_sock(f.h);
	CHECK_EQ(set_int(so, SOL_SOCKET, SO_KEEPALIVE, 1), 0);
	CHECK_EQ(get_int(so, SOL_SOCKET, SO_KEEPALIVE), 1);
	CHECK_EQ(vsock_setsockopt(so, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)),
		 0);
	CHECK_EQ(vsock_getsockopt(so, SOL_SOCKET, SO_RCVTIMEO, &out, &len), 0);
	CHECK_EQ(len, sizeof(out));
	CHECK_EQ(out.tv_sec, 2);
	CHECK_EQ(out.tv_usec, 500000);
	tv.tv_usec = 1000000;
	CHECK_EQ(vsock_setsockopt(so, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)),
		 -EDOM);
	CHECK_EQ(vsock_setsockopt(so, SOL_SOCKET, SO_SNDTIMEO, &tv, 4),
		 -EINVAL);
	vsock_close(so);
	fx_free(&f);
}

TEST(so_bindtodevice_by_name)
{
	struct fx f;
	struct vsocket *so;
	char name[16];
	socklen_t len = sizeof(name);

	fx_init(&f);
	so = udp_sock(f.h);
	CHECK_EQ(vsock_getsockopt(so, SOL_SOCKET, SO_BINDTODEVICE, name, &len),
		 0);
	CHECK_EQ(len, 0);
	CHECK_EQ(vsock_setsockopt(so, SOL_SOCKET, SO_BINDTODEVICE, "nope0", 6),
		 -ENODEV);
	CHECK_EQ(vsock_setsockopt(so, SOL_SOCKET, SO_BINDTODEVICE, "ve0", 3),
		 0);
	len = sizeof(name);
	CHECK_EQ(vsock_getsockopt(so, SOL_SOCKET, SO_BINDTODEVICE, name, &len),
		 0);
	CHECK_EQ(len, 4);
	CHECK_STR(name, "ve0");
	len = 2;
	CHECK_EQ(vsock_getsockopt(so, SOL_SOCKET, SO_BINDTODEVICE, name, &len),
		 -EINVAL);
	/* An empty name unbinds. */
	CHECK_EQ(vsock_setsockopt(so, SOL_SOCKET, SO_BINDTODEVICE, "", 0), 0);
	len = sizeof(name);
	CHECK_EQ(vsock_getsockopt(so, SOL_SOCKET, SO_BINDTODEVICE, name, &len),
		 0);
	CHECK_EQ(len, 0);
	vsock_close(so);
	fx_free(&f);
}

TEST(icmp_filter_only_on_raw_icmp)
{
	struct fx f;
	struct vsocket *ri, *ru;
	uint32_t filt = ~(1u << 0), out = 0;
	socklen_t len = sizeof(out);

	fx_init(&f);
	REQUIRE(vsock_socket(f.h, AF_INET, SOCK_RAW, IPPROTO_ICMP, &ri) == 0);
	REQUIRE(vsock_socket(f.h, AF_INET, SOCK_RAW, IPPROTO_UDP, &ru) == 0);
	CHECK_EQ(
	    vsock_setsockopt(ri, SOL_RAW, ICMP_FILTER, &filt, sizeof(filt)), 0);
	CHECK_EQ(vsock_getsockopt(ri, SOL_RAW, ICMP_FILTER, &out, &len), 0);
	CHECK_EQ(out, filt);
	CHECK_EQ(
	    vsock_setsockopt(ru, SOL_RAW, ICMP_FILTER, &filt, sizeof(filt)),
	    -EOPNOTSUPP);
	CHECK_EQ(vsock_setsockopt(ri, SOL_RAW, 2, &filt, sizeof(filt)),
		 -ENOPROTOOPT);
	CHECK_EQ(set_int(ru, IPPROTO_IP, IP_HDRINCL, 1), 0);
	CHECK_EQ(get_int(ru, IPPROTO_IP, IP_HDRINCL), 1);
	vsock_close(ri);
	vsock_close(ru);
	fx_free(&f);
}

/* ---- raw and ping -------------------------------------------------------- */
TEST(ping_send_requires_echo_request)
{
	struct fx f;
	struct vsocket *ps;
	struct sockaddr_in to = sin4("10.0.0.2", 0);
	uint8_t req[16] = {ICMP_ECHO, 0};

	fx_init(&f);
	REQUIRE(vsock_socket(f.h, AF_INET, SOCK_DGRAM, IPPROTO_ICMP, &ps) == 0);
	CHECK_EQ(vsock_sendto(ps, req, 7, 0, SA(to), sizeof(to)), -EINVAL);
	req[0] = ICMP_ECHOREPLY;
	CHECK_EQ(vsock_sendto(ps, req, 8, 0, SA(to), sizeof(to)), -EINVAL);
	req[0] = ICMP_ECHO;
	req[1] = 1;
	CHECK_EQ(vsock_sendto(ps, req, 8, 0, SA(to), sizeof(to)), -EINVAL);
	req[1] = 0;
	CHECK_EQ(vsock_sendto(ps, req, 8, 0, NULL, 0), -EDESTADDRREQ);
	to.sin_family = AF_UNSPEC; /* ping, unlike UDP, wants AF_INET */
	CHECK_EQ(vsock_sendto(ps, req, 8, 0, SA(to), sizeof(to)),
		 -EAFNOSUPPORT);
	to.sin_family = AF_INET;
	CHECK_EQ(vsock_sendto(ps, req, 16, 0, SA(to), sizeof(to)), 16);
	/* Sending bound it: the identifier is its port. */
	CHECK(local_port(ps) != 0);
	vsock_close(ps);
	world_run(f.w);
	fx_free(&f);
}

TEST(ping_bind_identifier_in_use_is_eaddrinuse)
{
	struct fx f;
	struct vsocket *a, *b;

	fx_init(&f);
	REQUIRE(vsock_socket(f.h, AF_INET, SOCK_DGRAM, IPPROTO_ICMP, &a) == 0);
	REQUIRE(vsock_socket(f.h, AF_INET, SOCK_DGRAM, IPPROTO_ICMP, &b) == 0);
	CHECK_EQ(bind_to(a, "0.0.0.0", 77), 0);
	CHECK_EQ(local_port(a), 77);
	/* Identifiers ignore addresses. */
	CHECK_EQ(bind_to(b, "10.0.0.1", 77), -EADDRINUSE);
	CHECK_EQ(bind_to(b, "10.0.0.1", 0), 0);
	CHECK(local_port(b) != 0 && local_port(b) != 77);
	CHECK_EQ(bind_to(b, "10.0.0.1", 0), -EINVAL);
	vsock_close(a);
	vsock_close(b);
	fx_free(&f);
}

TEST(raw_socket_reports_protocol_as_port_and_rebinds)
{
	struct fx f;
	struct vsocket *rs;

	fx_init(&f);
	REQUIRE(vsock_socket(f.h, AF_INET, SOCK_RAW, IPPROTO_ICMP, &rs) == 0);
	CHECK_EQ(local_port(rs), IPPROTO_ICMP);
	CHECK_EQ(bind_to(rs, "10.0.0.1", 0), 0);
	CHECK_EQ(bind_to(rs, "127.0.0.1", 0), 0); /* Linux lets raw rebind */
	CHECK_EQ(bind_to(rs, "10.0.0.2", 0), -EADDRNOTAVAIL);
	CHECK_EQ(raw_has_proto(f.h, IPPROTO_ICMP), true);
	CHECK_EQ(raw_has_proto(f.h, IPPROTO_UDP), false);
	vsock_close(rs);
	CHECK_EQ(raw_has_proto(f.h, IPPROTO_ICMP), false);
	fx_free(&f);
}

TEST(raw_socket_receives_protocol_with_ip_header)
{
	struct fx f;
	struct vsocket *rx, *tx;
	struct sockaddr_in to = sin4("127.0.0.1", 0), from;
	socklen_t fl = sizeof(from);
	uint8_t buf[64];

	fx_init(&f);
	REQUIRE(vsock_socket(f.h, AF_INET, SOCK_RAW, 253, &rx) == 0);
	REQUIRE(vsock_socket(f.h, AF_INET, SOCK_RAW, 253, &tx) == 0);
	CHECK_EQ(vsock_sendto(tx, "experiment", 10, 0, SA(to), sizeof(to)), 10);
	world_run(f.w);
	/* Both raw sockets of protocol 253 get a copy. */
	CHECK_EQ(vsock_recvfrom(rx, buf, sizeof(buf), 0, SA(from), &fl), 30);
	CHECK_EQ(buf[0], 0x45);
	CHECK_EQ(buf[9], 253);
	CHECK_EQ(memcmp(buf + 20, "experiment", 10), 0);
	CHECK_EQ(ntohl(from.sin_addr.s_addr), 0x7f000001);
	CHECK_EQ(ntohs(from.sin_port), 0);
	CHECK_EQ(vsock_recvfrom(tx, buf, sizeof(buf), 0, NULL, NULL), 30);
	vsock_close(rx);
	vsock_close(tx);
	fx_free(&f);
}

TEST(raw_hdrincl_send_fills_length_and_checksum)
{
	struct fx f;
	struct vsocket *rx, *tx;
	struct sockaddr_in to = sin4("127.0.0.1", 0);
	uint8_t pkt[28] = {0x45, 0,   0,   0,	0, 0, 0,   0, 64, 253,
			   0,	 0,   127, 0,	0, 1, 127, 0, 0,  1,
			   'r',	 'a', 'w', '!', 1, 2, 3,   4};
	uint8_t buf[64];

	fx_init(&f);
	REQUIRE(vsock_socket(f.h, AF_INET, SOCK_RAW, 253, &rx) == 0);
	REQUIRE(vsock_socket(f.h, AF_INET, SOCK_RAW, IPPROTO_RAW, &tx) == 0);
	CHECK_EQ(vsock_sendto(tx, pkt, 10, 0, SA(to), sizeof(to)), -EINVAL);
	CHECK_EQ(vsock_sendto(tx, pkt, sizeof(pkt), 0, SA(to), sizeof(to)), 28);
	world_run(f.w);
	CHECK_EQ(vsock_recvfrom(rx, buf, sizeof(buf), 0, NULL, NULL), 28);
	CHECK_EQ(rd16(buf + 2), 28);
	CHECK(rd16(buf + 4) != 0); /* an id was chosen */
	CHECK_EQ(cksum_finish(cksum_partial(buf, 20, 0)), 0);
	CHECK_EQ(memcmp(buf + 20, pkt + 20, 8), 0);
	/* IPPROTO_RAW receives nothing. */
	CHECK_EQ(vsock_recvfrom(tx, buf, sizeof(buf), 0, NULL, NULL), -EAGAIN);
	vsock_close(rx);
	vsock_close(tx);
	fx_free(&f);
}

TEST(socket_close_frees_queued_datagrams)
{
	struct fx f;
	struct vsocket *srv, *cli;
	struct sockaddr_in to = sin4("127.0.0.1", 7000);
	struct world_counts wc;

	fx_init(&f);
	srv = udp_sock(f.h);
	cli = udp_sock(f.h);
	REQUIRE(bind_to(srv, "127.0.0.1", 7000) == 0);
	for (int i = 0; i < 5; i++)
		CHECK_EQ(vsock_sendto(cli, "data", 4, 0, SA(to), sizeof(to)),
			 4);
	world_run(f.w);
	world_counts(f.w, &wc);
	CHECK_EQ(wc.pkts, 5);
	vsock_close(srv);
	world_counts(f.w, &wc);
	CHECK_EQ(wc.pkts, 0);
	vsock_close(cli);
	fx_free(&f);
}

/* ---- input validation from outside the world ----------------------------- */
static void ext_tx(void *ctx, struct ifnet *ifp, const uint8_t *frame,
		   size_t len)
{
	(void)ctx;
	(void)ifp;
	(void)frame;
	(void)len;
}

static const struct vif_ext_ops ext_ops = {.transmit = ext_tx};

/* A frame for ifp carrying UDP 10.1.0.9:1111 -> 10.1.0.1:dport. */
static size_t udp_frame(struct ifnet *ifp, uint8_t *f, uint16_t dport,
			const char *payload, int mangle)
{
	size_t plen = strlen(payload), ulen = UDP_HLEN + plen;
	struct eth_repr eh = {.src = {2, 0, 0, 0, 0, 9},
			      .ethertype = ETHERTYPE_IPV4};
	struct ipv4_repr ip = {.hlen = 20,
			       .total_len = (uint16_t)(20 + ulen),
			       .ttl = 64,
			       .proto = IPPROTO_UDP_,
			       .src = 0x0a010009,
			       .dst = 0x0a010001};
	struct udp_repr u = {.sport = 1111, .dport = dport};

	vif_mac(ifp, eh.dst);
	eth_emit(&eh, f);
	ipv4_emit(&ip, f + ETH_HLEN);
	memcpy(f + ETH_HLEN + 20 + UDP_HLEN, payload, plen);
	udp4_emit(&u, f + ETH_HLEN + 20, plen, ip.src, ip.dst, mangle != 2);
	if (mangle == 1)
		f[ETH_HLEN + 20 + 6] ^= 0x55; /* break the checksum */
	if (mangle == 3)
		wr16(f + ETH_HLEN + 20 + 4,
		     (uint16_t)(ulen + 1)); /* too long */
	return ETH_HLEN + 20 + ulen;
}

TEST(udp_bad_checksum_from_outside_is_counted_and_dropped)
{
	struct fx f;
	struct ifnet *ext;
	struct vaddr a = VADDR4(10, 1, 0, 1);
	struct vsocket *so;
	uint8_t frame[128];
	char buf[16];
	uint64_t v;

	fx_init(&f);
	REQUIRE(vif_ext_create(f.h, "ext0", &ext_ops, NULL, &ext) == 0);
	REQUIRE(vif_addr_add(ext, &a, 24) == 0);
	REQUIRE(vif_set_up(ext, true) == 0);
	so = udp_sock(f.h);
	REQUIRE(bind_to(so, "0.0.0.0", 53) == 0);
	CHECK_EQ(vif_ext_input(ext, frame, udp_frame(ext, frame, 53, "bad", 1)),
		 0);
	CHECK_EQ(
	    vif_ext_input(ext, frame, udp_frame(ext, frame, 53, "long", 3)), 0);
	world_run(f.w);
	CHECK_EQ(vsock_recvfrom(so, buf, sizeof(buf), 0, NULL, NULL), -EAGAIN);
	CHECK_EQ(vimage_stat_get(f.h, "udp.badsum", &v), 0);
	CHECK_EQ(v, 1);
	CHECK_EQ(vimage_stat_get(f.h, "udp.badlen", &v), 0);
	CHECK_EQ(v, 1);
	CHECK_EQ(vimage_stat_get(f.h, "udp.in_errors", &v), 0);
	CHECK_EQ(v, 2);
	/* A good checksum, and none at all (0: RFC 768), are accepted. */
	CHECK_EQ(
	    vif_ext_input(ext, frame, udp_frame(ext, frame, 53, "good", 0)), 0);
	CHECK_EQ(
	    vif_ext_input(ext, frame, udp_frame(ext, frame, 53, "none", 2)), 0);
	world_run(f.w);
	CHECK_EQ(vsock_recvfrom(so, buf, sizeof(buf), 0, NULL, NULL), 4);
	CHECK_EQ(memcmp(buf, "good", 4), 0);
	CHECK_EQ(vsock_recvfrom(so, buf, sizeof(buf), 0, NULL, NULL), 4);
	CHECK_EQ(memcmp(buf, "none", 4), 0);
	vsock_close(so);
	fx_free(&f);
}
