/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Malformed input from outside the world (an external interface, as a TAP
 * would deliver it): every bad frame is counted under its reason and
 * dropped; nothing crashes, nothing leaks, and good traffic still flows.
 */
#include <string.h>

#include "core/kern.h"
#include "harness/test.h"
#include "vimage/net.h"
#include "vimage/socket.h"
#include "wire/wire.h"

#include <arpa/inet.h>

struct sent {
	int frames;
	uint8_t last[128];
	size_t last_len;
};

static void capture_tx(void *ctx, struct ifnet *ifp, const uint8_t *f, size_t n)
{
	struct sent *s = ctx;

	s->frames++;
	s->last_len = n < sizeof(s->last) ? n : sizeof(s->last);
	memcpy(s->last, f, s->last_len);
}

static const struct vif_ext_ops ops = {.transmit = capture_tx};

struct rig {
	struct world *w;
	struct vimage *vi;
	struct ifnet *ext;
	struct sent sent;
	uint8_t mac[6];
};

static void rig_up(struct rig *r)
{
	struct world_config cfg = {.seed = 9};
	struct vaddr a = VADDR4(192, 0, 2, 1);

	memset(r, 0, sizeof(*r));
	REQUIRE(world_create(&cfg, &r->w) == 0);
	REQUIRE(vimage_create(r->w, "v", &r->vi) == 0);
	REQUIRE(vif_ext_create(r->vi, "eth0", &ops, &r->sent, &r->ext) == 0);
	REQUIRE(vif_addr_add(r->ext, &a, 24) == 0);
	vif_set_up(r->ext, true);
	vif_mac(r->ext, r->mac);
	world_run(r->w);
	r->sent.frames = 0;
}

static void rig_down(struct rig *r)
{
	struct world_counts c;

	CHECK_EQ(vimage_destroy(r->vi), 0);
	world_counts(r->w, &c);
	CHECK_EQ(c.pkts, 0);
	CHECK_EQ(c.pbufs, 0);
	CHECK_EQ(c.timers, 0);
	CHECK_EQ(c.reass_queues, 0);
	world_destroy(r->w);
}

static uint64_t stat(struct rig *r, const char *name)
{
	uint64_t v = 0;

	REQUIRE(vimage_stat_get(r->vi, name, &v) == 0);
	return v;
}

/* An ICMP echo request from 192.0.2.9 to us, as a whole frame. */
static size_t echo_frame(struct rig *r, uint8_t *f)
{
	struct eth_repr eh = {.ethertype = ETHERTYPE_IPV4,
			      .src = {2, 0, 0, 0, 0, 9}};
	struct ipv4_repr ip = {.hlen = 20, .total_len = 20 + 8 + 16, .ttl = 64,
			       .proto = IPPROTO_ICMP_, .src = 0xc0000209,
			       .dst = 0xc0000201};
	struct icmp4_repr ic = {.type = ICMP_ECHO, .ident = 1, .seq = 1};

	memcpy(eh.dst, r->mac, 6);
	eth_emit(&eh, f);
	ipv4_emit(&ip, f + 14);
	memset(f + 42, 0x33, 16);
	icmp4_emit(&ic, f + 34, 16);
	return 14 + 20 + 8 + 16;
}

TEST(malformed_frames_counted_and_dropped)
{
	struct rig r;
	uint8_t f[2000], bad[2000];
	size_t n;
	struct vif_stats st;

	rig_up(&r);
	/* Teach ARP who 192.0.2.9 is, so that replies can leave. */
	uint8_t mac9[6] = {2, 0, 0, 0, 0, 9};
	struct vaddr a9 = VADDR4(192, 0, 2, 9);
	REQUIRE(vneigh_add_permanent(r.ext, &a9, mac9) == 0);
	n = echo_frame(&r, f);

	/* The good frame is answered. */
	CHECK_EQ(vif_ext_input(r.ext, f, n), 0);
	world_run(r.w);
	CHECK_EQ(r.sent.frames, 1);
	CHECK_EQ(r.sent.last[34], ICMP_ECHOREPLY);

	/* Truncated Ethernet, and a frame longer than the MTU allows. */
	CHECK_EQ(vif_ext_input(r.ext, f, 10), -EMSGSIZE);
	CHECK_EQ(vif_ext_input(r.ext, f, 1600), -EMSGSIZE);
	vif_get_stats(r.ext, &st);
	CHECK_EQ(st.ierrors, 2);

	/* Truncated inside the IP header. */
	vif_ext_input(r.ext, f, 14 + 12);
	/* IHL below five. */
	memcpy(bad, f, n);
	bad[14] = 0x44;
	vif_ext_input(r.ext, bad, n);
	/* IHL past the buffer. */
	memcpy(bad, f, n);
	bad[14] = 0x4f;
	vif_ext_input(r.ext, bad, 14 + 40);
	/* Bad header checksum. */
	memcpy(bad, f, n);
	bad[14 + 10] ^= 0x55;
	vif_ext_input(r.ext, bad, n);
	/* Total length past the frame. */
	memcpy(bad, f, n);
	wr16(bad + 14 + 2, 1400);
	bad[14 + 10] = bad[14 + 11] = 0;
	wr16(bad + 14 + 10, cksum_finish(cksum_partial(bad + 14, 20, 0)));
	vif_ext_input(r.ext, bad, n);
	/* Version 6 in an IPv4 ethertype. */
	memcpy(bad, f, n);
	bad[14] = 0x65;
	vif_ext_input(r.ext, bad, n);
	/* Bad ICMP checksum: IP accepts it, ICMP drops it. */
	memcpy(bad, f, n);
	bad[34 + 8] ^= 1;
	vif_ext_input(r.ext, bad, n);
	world_run(r.w);
	CHECK_EQ(r.sent.frames, 1); /* none answered */
	/* truncated, IHL past the buffer, total length past the frame */
	CHECK_EQ(stat(&r, "ip.tooshort"), 3);
	CHECK_EQ(stat(&r, "ip.badhlen"), 1);
	CHECK_EQ(stat(&r, "ip.badsum"), 1);
	CHECK_EQ(stat(&r, "ip.badvers"), 1);
	CHECK_EQ(stat(&r, "icmp.badsum"), 1);

	/* ARP of odd sizes and kinds. */
	{
		struct eth_repr eh = {.ethertype = ETHERTYPE_ARP,
				      .dst = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
				      .src = {2, 0, 0, 0, 0, 7}};
		struct arp_repr ar = {.op = ARP_OP_REQUEST, .sha = {2, 0, 0, 0, 0, 7},
				      .spa = 0xc0000207, .tpa = 0xc0000201};
		uint8_t af[64] = {0};

		eth_emit(&eh, af);
		arp_emit(&ar, af + 14);
		vif_ext_input(r.ext, af, 14 + 27); /* one byte short */
		af[14 + 4] = 5;                    /* hlen 5 */
		vif_ext_input(r.ext, af, 60);
		arp_emit(&ar, af + 14);
		af[14 + 7] = 9; /* op 9 */
		vif_ext_input(r.ext, af, 60);
		world_run(r.w);
		CHECK_EQ(stat(&r, "arp.rx_bad"), 3);
		CHECK_EQ(r.sent.frames, 1);
		/* The well-formed request is answered. */
		arp_emit(&ar, af + 14);
		vif_ext_input(r.ext, af, 60);
		world_run(r.w);
		CHECK_EQ(r.sent.frames, 2);
		CHECK_EQ(rd16(r.sent.last + 14 + 6), ARP_OP_REPLY);
	}

	/* Bogus fragments: offset past 64 KiB, and an overlap. */
	{
		uint8_t fr[200];
		struct eth_repr eh = {.ethertype = ETHERTYPE_IPV4,
				      .src = {2, 0, 0, 0, 0, 9}};
		struct ipv4_repr ip = {.hlen = 20, .total_len = 20 + 64, .ttl = 64,
				       .proto = IPPROTO_UDP_, .src = 0xc0000209,
				       .dst = 0xc0000201, .id = 77, .mf = true,
				       .frag_off = 65528};

		memcpy(eh.dst, r.mac, 6);
		eth_emit(&eh, fr);
		memset(fr + 34, 0xab, 64);
		ipv4_emit(&ip, fr + 14);
		vif_ext_input(r.ext, fr, 14 + 20 + 64);
		world_run(r.w);
		/* Dropped alone: no queue is kept for it. */
		CHECK_EQ(stat(&r, "ip.fragdropped"), 1);
		struct world_counts wc;
		world_counts(r.w, &wc);
		CHECK_EQ(wc.reass_queues, 0);
		ip.id = 78;
		ip.frag_off = 0;
		ipv4_emit(&ip, fr + 14);
		vif_ext_input(r.ext, fr, 14 + 20 + 64);
		ip.frag_off = 32; /* overlaps [0, 64) */
		ipv4_emit(&ip, fr + 14);
		vif_ext_input(r.ext, fr, 14 + 20 + 64);
		world_run(r.w);
		/* the one past 64 KiB, then both pieces of the overlap */
		CHECK_EQ(stat(&r, "ip.fragdropped"), 3);
		CHECK_EQ(stat(&r, "ip.reassembled"), 0);
	}
	/* After all that, the good frame is still answered. */
	vif_ext_input(r.ext, f, n);
	world_run(r.w);
	CHECK_EQ(r.sent.frames, 3);
	rig_down(&r);
}

/* ---- rules every stack must keep, checked from outside ------------------ */

/* An IPv4 frame to our eth0 MAC (or `mac`) carrying `l4` as protocol
 * `proto`; UDP gets its checksum (or `bad_cksum`). */
static size_t ip_frame(struct rig *r, uint8_t *f, const uint8_t *mac,
		       uint32_t src, uint32_t dst, uint8_t proto, uint8_t ttl,
		       uint16_t frag_off, const uint8_t *l4, size_t l4len)
{
	struct eth_repr eh = {.ethertype = ETHERTYPE_IPV4,
			      .src = {2, 0, 0, 0, 0, 9}};
	struct ipv4_repr ip = {.hlen = 20, .total_len = (uint16_t)(20 + l4len),
			       .ttl = ttl, .proto = proto, .src = src,
			       .dst = dst, .frag_off = frag_off};

	memcpy(eh.dst, mac ? mac : r->mac, 6);
	eth_emit(&eh, f);
	ipv4_emit(&ip, f + 14);
	memcpy(f + 34, l4, l4len);
	return 34 + l4len;
}

static size_t udp_l4(uint8_t *l4, uint32_t src, uint32_t dst, uint16_t dport,
		     bool bad_cksum)
{
	struct udp_repr u = {.sport = 4444, .dport = dport};

	memcpy(l4 + 8, "data", 4);
	udp4_emit(&u, l4, 4, src, dst, true);
	if (bad_cksum)
		l4[6] ^= 0x5a;
	return 12;
}

static void rig_teach(struct rig *r, uint32_t ip)
{
	uint8_t mac[6] = {2, 0, 0, 0, 0, 9};
	struct vaddr a = vaddr_v4(ip);

	REQUIRE(vneigh_add_permanent(r->ext, &a, mac) == 0);
}

TEST(loopback_addresses_from_outside_are_martians)
{
	struct rig r;
	uint8_t f[200], l4[64];
	struct vsocket *so;
	struct sockaddr_in lo = {.sin_family = AF_INET, .sin_port = htons(9)};
	char buf[16];
	size_t n;

	rig_up(&r);
	lo.sin_addr.s_addr = htonl(0x7f000001);
	REQUIRE(vsock_socket(r.vi, AF_INET, SOCK_DGRAM, 0, &so) == 0);
	REQUIRE(vsock_bind(so, (struct sockaddr *)&lo, sizeof(lo)) == 0);
	n = ip_frame(&r, f, NULL, 0xc0000209, 0x7f000001, IPPROTO_UDP_, 64, 0, l4,
		     udp_l4(l4, 0xc0000209, 0x7f000001, 9, false));
	vif_ext_input(r.ext, f, n);
	n = ip_frame(&r, f, NULL, 0x7f000005, 0xc0000201, IPPROTO_UDP_, 64, 0, l4,
		     udp_l4(l4, 0x7f000005, 0xc0000201, 9, false));
	vif_ext_input(r.ext, f, n);
	world_run(r.w);
	CHECK_EQ(vsock_recvfrom(so, buf, sizeof(buf), 0, NULL, NULL), -EAGAIN);
	CHECK_EQ(stat(&r, "ip.martians"), 2);
	/* And 127/8 never goes out on eth0. */
	struct sockaddr_in out = {.sin_family = AF_INET, .sin_port = htons(9)};
	out.sin_addr.s_addr = htonl(0xc0000209);
	rig_teach(&r, 0xc0000209);
	CHECK_EQ(vsock_sendto(so, "x", 1, 0, (struct sockaddr *)&out, sizeof(out)), -EINVAL);
	world_run(r.w);
	CHECK_EQ(r.sent.frames, 0);
	vsock_close(so);
	rig_down(&r);
}

TEST(frame_for_another_mac_is_dropped)
{
	struct rig r;
	uint8_t f[200];
	uint8_t other[6] = {2, 0, 0, 0, 0x99, 0x99};
	size_t n;
	struct vif_stats st;

	rig_up(&r);
	rig_teach(&r, 0xc0000209);
	n = echo_frame(&r, f);
	memcpy(f, other, 6);
	vif_ext_input(r.ext, f, n);
	world_run(r.w);
	CHECK_EQ(r.sent.frames, 0);
	vif_get_stats(r.ext, &st);
	CHECK_EQ(st.idrops, 1);
	CHECK_EQ(stat(&r, "ip.total"), 0);
	rig_down(&r);
}

static int count_neigh(void *ctx, const struct vneigh_info *n)
{
	(*(int *)ctx)++;
	return 0;
}

TEST(arp_learns_only_from_requests_for_us)
{
	struct rig r;
	struct eth_repr eh = {.ethertype = ETHERTYPE_ARP,
			      .dst = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
			      .src = {2, 0, 0, 0, 0, 7}};
	struct arp_repr ar = {.op = ARP_OP_REQUEST, .sha = {2, 0, 0, 0, 0, 7},
			      .spa = 0xc0000207, .tpa = 0xc0000232};
	uint8_t af[60] = {0};
	int n = 0;

	rig_up(&r);
	eth_emit(&eh, af);
	arp_emit(&ar, af + 14);
	vif_ext_input(r.ext, af, sizeof(af)); /* for someone else */
	world_run(r.w);
	vneigh_walk(r.vi, count_neigh, &n);
	CHECK_EQ(n, 0);
	CHECK_EQ(r.sent.frames, 0);
	/* A probe (sender 0.0.0.0) for our address is answered, not learnt. */
	ar.spa = 0;
	ar.tpa = 0xc0000201;
	arp_emit(&ar, af + 14);
	vif_ext_input(r.ext, af, sizeof(af));
	world_run(r.w);
	n = 0;
	vneigh_walk(r.vi, count_neigh, &n);
	CHECK_EQ(n, 0);
	REQUIRE_EQ(r.sent.frames, 1);
	CHECK_EQ(rd16(r.sent.last + 14 + 6), ARP_OP_REPLY);
	CHECK_MEM(r.sent.last, ar.sha, 6);
	rig_down(&r);
}

/* Make the rig a router: forwarding on, and a host 10.1.0.2 behind eth1. */
static struct vimage *rig_add_host(struct rig *r, const char *name)
{
	struct vimage *host;
	struct ifnet *a, *b;
	struct vaddr ya = VADDR4(10, 1, 0, 1), yb = VADDR4(10, 1, 0, 2);

	REQUIRE(vimage_create(r->w, name, &host) == 0);
	REQUIRE(vif_ve_create(r->vi, "eth1", host, "eth0", &a, &b) == 0);
	REQUIRE(vif_addr_add(a, &ya, 24) == 0);
	REQUIRE(vif_addr_add(b, &yb, 24) == 0);
	vif_set_up(a, true);
	vif_set_up(b, true);
	REQUIRE(vimage_sysctl_set(r->vi, "net.inet.ip.forwarding", 1) == 0);
	return host;
}

TEST(icmp_errors_are_never_sent_about_what_rfc1122_forbids)
{
	struct rig r;
	struct vimage *far;
	uint8_t f[200], l4[64];
	uint64_t base;
	size_t n;

	rig_up(&r);
	far = rig_add_host(&r, "far");
	rig_teach(&r, 0xc0000209);
	world_run(r.w);
	r.sent.frames = 0;

	/* The control: TTL 1 through us earns a time exceeded. */
	n = ip_frame(&r, f, NULL, 0xc0000209, 0x0a010002, IPPROTO_UDP_, 1, 0, l4,
		     udp_l4(l4, 0xc0000209, 0x0a010002, 9, false));
	vif_ext_input(r.ext, f, n);
	world_run(r.w);
	CHECK_EQ(stat(&r, "icmp.out_timxceed"), 1);
	CHECK_EQ(r.sent.frames, 1);
	base = stat(&r, "icmp.out_msgs");

	/* Not about a non-first fragment. */
	n = ip_frame(&r, f, NULL, 0xc0000209, 0x0a010002, IPPROTO_UDP_, 1, 64,
		     l4, 16);
	vif_ext_input(r.ext, f, n);
	/* Not about an ICMP error. */
	{
		struct icmp4_repr ic = {.type = ICMP_UNREACH, .code = 3};
		uint8_t m[36] = {0};

		memcpy(m + 8, f + 14, 28);
		icmp4_emit(&ic, m, 28);
		n = ip_frame(&r, f, NULL, 0xc0000209, 0x0a010002, IPPROTO_ICMP_, 1,
			     0, m, sizeof(m));
		vif_ext_input(r.ext, f, n);
	}
	/* Not about a link-layer broadcast. */
	{
		uint8_t bmac[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

		n = ip_frame(&r, f, bmac, 0xc0000209, 0xc0000201, IPPROTO_UDP_, 64,
			     0, l4, udp_l4(l4, 0xc0000209, 0xc0000201, 9, false));
		vif_ext_input(r.ext, f, n);
	}
	/* Not to a source that is one of our broadcast addresses. */
	n = ip_frame(&r, f, NULL, 0xc00002ff, 0xc0000201, IPPROTO_UDP_, 64, 0, l4,
		     udp_l4(l4, 0xc00002ff, 0xc0000201, 9, false));
	vif_ext_input(r.ext, f, n);
	world_run(r.w);
	CHECK_EQ(stat(&r, "icmp.out_msgs"), base);
	CHECK_EQ(stat(&r, "ip.odropped"), 0);
	CHECK_EQ(r.sent.frames, 1);
	CHECK_EQ(vimage_destroy(far), 0);
	rig_down(&r);
}

TEST(forwarded_frame_from_outside_keeps_its_checksum_checked)
{
	struct rig r;
	struct vimage *host;
	struct vsocket *so;
	struct sockaddr_in any = {.sin_family = AF_INET, .sin_port = htons(9)};
	uint8_t f[200], l4[64];
	char buf[16];
	uint64_t bad = 0;
	size_t n;

	rig_up(&r);
	host = rig_add_host(&r, "host");
	REQUIRE(vsock_socket(host, AF_INET, SOCK_DGRAM, 0, &so) == 0);
	REQUIRE(vsock_bind(so, (struct sockaddr *)&any, sizeof(any)) == 0);
	n = ip_frame(&r, f, NULL, 0xc0000209, 0x0a010002, IPPROTO_UDP_, 64, 0, l4,
		     udp_l4(l4, 0xc0000209, 0x0a010002, 9, true));
	vif_ext_input(r.ext, f, n);
	world_run_until(r.w, world_now(r.w) + 1000000000ull);
	CHECK_EQ(vsock_recvfrom(so, buf, sizeof(buf), 0, NULL, NULL), -EAGAIN);
	CHECK_EQ(vimage_stat_get(host, "udp.badsum", &bad), 0);
	CHECK_EQ(bad, 1);
	/* The same datagram with a good checksum arrives. */
	n = ip_frame(&r, f, NULL, 0xc0000209, 0x0a010002, IPPROTO_UDP_, 64, 0, l4,
		     udp_l4(l4, 0xc0000209, 0x0a010002, 9, false));
	vif_ext_input(r.ext, f, n);
	world_run(r.w);
	CHECK_EQ(vsock_recvfrom(so, buf, sizeof(buf), 0, NULL, NULL), 4);
	vsock_close(so);
	CHECK_EQ(vimage_destroy(host), 0);
	rig_down(&r);
}
