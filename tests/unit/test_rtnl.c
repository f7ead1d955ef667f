/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rtnetlink and interface ioctl emulation (src/daemon/rtnl.c, ifioctl.c).
 * The requests are the bytes Debian 12's iproute2 6.1 and net-tools send
 * (captured with strace in a network namespace); the replies are parsed
 * back and checked against the vimage's state.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/fib_rules.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/pkt_sched.h>
#include <linux/gen_stats.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <net/route.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "daemon/procnet.h"
#include "daemon/rtnl.h"
#include "harness/test.h"
#include "vimage/net.h"

#define PORTID 31491u
#define SEQ 0x6b057fe0u /* what the captured requests carry */

/* ---- capture of replies ----------------------------------------------------- */
struct cap {
	uint8_t *d[64];
	size_t len[64];
	int n;
};

static void cap_emit(void *arg, const void *dgram, size_t len)
{
	struct cap *c = arg;

	REQUIRE(c->n < 64);
	c->d[c->n] = malloc(len);
	REQUIRE(c->d[c->n]);
	memcpy(c->d[c->n], dgram, len);
	c->len[c->n++] = len;
}

static void cap_free(struct cap *c)
{
	for (int i = 0; i < c->n; i++)
		free(c->d[i]);
	c->n = 0;
}

/* Every message of every datagram, in order; checks the framing. */
static int cap_msgs(struct cap *c, const struct nlmsghdr **out, int max)
{
	int n = 0;

	for (int i = 0; i < c->n; i++) {
		size_t off = 0;

		while (off < c->len[i]) {
			const struct nlmsghdr *h = (const void *)(c->d[i] + off);

			REQUIRE(c->len[i] - off >= NLMSG_HDRLEN);
			REQUIRE(h->nlmsg_len >= NLMSG_HDRLEN);
			REQUIRE(h->nlmsg_len <= c->len[i] - off);
			REQUIRE(n < max);
			out[n++] = h;
			off += NLMSG_ALIGN(h->nlmsg_len);
		}
	}
	return n;
}

/* ---- world ---------------------------------------------------------------------- */
static struct world *mkworld(struct vimage **vi)
{
	struct world_config cfg = {.seed = 7, .start_ns = 1000000000000ull};
	struct world *w = NULL;

	REQUIRE(world_create(&cfg, &w) == 0);
	REQUIRE(vimage_create(w, "rt", vi) == 0);
	return w;
}

static int talk(struct vimage *vi, const void *req, size_t len, struct cap *c)
{
	struct rtnl_out out = {cap_emit, c};

	cap_free(c);
	return rtnl_request(vi, PORTID, req, len, &out);
}

/* The errno of the single NLMSG_ERROR answer, after checking its form. */
static int answer_errno(struct cap *c, const void *req)
{
	const struct nlmsghdr *m[8];
	const struct nlmsghdr *q = req;
	const struct nlmsgerr *e;
	int n = cap_msgs(c, m, 8);

	REQUIRE_EQ(n, 1);
	REQUIRE_EQ(m[0]->nlmsg_type, NLMSG_ERROR);
	CHECK_EQ(m[0]->nlmsg_pid, PORTID);
	CHECK_EQ(m[0]->nlmsg_seq, q->nlmsg_seq);
	e = NLMSG_DATA(m[0]);
	CHECK_EQ(e->msg.nlmsg_type, q->nlmsg_type);
	CHECK_EQ(e->msg.nlmsg_seq, q->nlmsg_seq);
	if (e->error == 0) {
		CHECK_EQ(m[0]->nlmsg_len, 36);
		CHECK(m[0]->nlmsg_flags & NLM_F_CAPPED);
	} else {
		/* the whole request echoed */
		CHECK_EQ(m[0]->nlmsg_len, NLMSG_HDRLEN + 4 + q->nlmsg_len);
		CHECK_MEM(&e->msg, q, q->nlmsg_len);
	}
	return e->error;
}

static const struct nlattr *find_attr(const void *start, size_t len, int type)
{
	const uint8_t *p = start;

	while (len >= NLA_HDRLEN) {
		const struct nlattr *a = (const void *)p;

		if (a->nla_len < NLA_HDRLEN || a->nla_len > len)
			return NULL;
		if ((a->nla_type & NLA_TYPE_MASK) == type)
			return a;
		if (NLA_ALIGN(a->nla_len) >= len)
			break;
		len -= NLA_ALIGN(a->nla_len);
		p += NLA_ALIGN(a->nla_len);
	}
	return NULL;
}

static const struct nlattr *msg_attr(const struct nlmsghdr *h, size_t hdr, int type)
{
	size_t off = NLMSG_HDRLEN + NLMSG_ALIGN(hdr);

	if (h->nlmsg_len <= off)
		return NULL;
	return find_attr((const uint8_t *)h + off, h->nlmsg_len - off, type);
}

static const void *adata(const struct nlattr *a)
{
	return (const uint8_t *)a + NLA_HDRLEN;
}

static uint32_t au32(const struct nlattr *a)
{
	uint32_t v;

	REQUIRE(a);
	memcpy(&v, adata(a), 4);
	return v;
}

static uint32_t ain4(const struct nlattr *a)
{
	return ntohl(au32(a));
}

/* ---- request builder ------------------------------------------------------------ */
struct req {
	uint8_t b[512] __attribute__((aligned(4)));
	size_t len;
	size_t nest[4];
	int depth;
};

static void rq_hdr(struct req *r, uint16_t type, uint16_t flags, uint32_t seq,
		   const void *fam, size_t famlen)
{
	struct nlmsghdr h = {.nlmsg_type = type, .nlmsg_flags = flags, .nlmsg_seq = seq};

	memset(r, 0, sizeof(*r));
	memcpy(r->b, &h, sizeof(h));
	memcpy(r->b + NLMSG_HDRLEN, fam, famlen);
	r->len = NLMSG_HDRLEN + NLMSG_ALIGN(famlen);
}

static void rq_attr(struct req *r, uint16_t type, const void *data, size_t len)
{
	struct nlattr a = {.nla_len = (uint16_t)(NLA_HDRLEN + len), .nla_type = type};

	memcpy(r->b + r->len, &a, sizeof(a));
	if (len)
		memcpy(r->b + r->len + NLA_HDRLEN, data, len);
	r->len += NLA_ALIGN(NLA_HDRLEN + len);
}

static void rq_u32(struct req *r, uint16_t type, uint32_t v)
{
	rq_attr(r, type, &v, 4);
}

static void rq_in4(struct req *r, uint16_t type, const char *a)
{
	struct in_addr in;

	REQUIRE(inet_pton(AF_INET, a, &in) == 1);
	rq_attr(r, type, &in, 4);
}

static void rq_str(struct req *r, uint16_t type, const char *s)
{
	rq_attr(r, type, s, strlen(s) + 1);
}

static void rq_nest(struct req *r, uint16_t type)
{
	r->nest[r->depth++] = r->len;
	rq_attr(r, type, NULL, 0);
}

static void rq_end_nest(struct req *r)
{
	size_t at = r->nest[--r->depth];
	struct nlattr *a = (void *)(r->b + at);

	a->nla_len = (uint16_t)(r->len - at);
}

static void *rq_done(struct req *r)
{
	((struct nlmsghdr *)r->b)->nlmsg_len = (uint32_t)r->len;
	return r->b;
}

static int do_ack(struct vimage *vi, struct req *r, struct cap *c)
{
	void *m = rq_done(r);

	CHECK_EQ(talk(vi, m, r->len, c), 0);
	return answer_errno(c, m);
}

/* Requests as ip(8) builds them. */
static int link_set(struct vimage *vi, struct cap *c, unsigned idx,
		    unsigned flags, unsigned change, struct req *r)
{
	struct ifinfomsg ifi = {.ifi_index = (int)idx, .ifi_flags = flags,
				.ifi_change = change};

	(void)vi;
	(void)c;
	rq_hdr(r, RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, SEQ, &ifi, sizeof(ifi));
	return 0;
}

static int addr_add(struct vimage *vi, struct cap *c, unsigned idx,
		    const char *a, unsigned plen, bool add)
{
	struct ifaddrmsg ifa = {.ifa_family = AF_INET, .ifa_prefixlen = (uint8_t)plen,
				.ifa_index = idx};
	struct req r;

	rq_hdr(&r, add ? RTM_NEWADDR : RTM_DELADDR,
	       NLM_F_REQUEST | NLM_F_ACK | (add ? NLM_F_EXCL | NLM_F_CREATE : 0),
	       SEQ, &ifa, sizeof(ifa));
	rq_in4(&r, IFA_LOCAL, a);
	rq_in4(&r, IFA_ADDRESS, a);
	return do_ack(vi, &r, c);
}

/* A dump of the given request; messages out, DONE checked. */
static int dump(struct vimage *vi, const void *req, size_t len, struct cap *c,
		const struct nlmsghdr **m, int max)
{
	const struct nlmsghdr *q = req;
	int n;

	CHECK_EQ(talk(vi, req, len, c), 0);
	n = cap_msgs(c, m, max);
	REQUIRE(n >= 1);
	REQUIRE_EQ(m[n - 1]->nlmsg_type, NLMSG_DONE);
	CHECK_EQ(m[n - 1]->nlmsg_len, NLMSG_HDRLEN + 4);
	CHECK_EQ(*(const int *)NLMSG_DATA(m[n - 1]), 0);
	for (int i = 0; i < n; i++) {
		CHECK_EQ(m[i]->nlmsg_pid, PORTID);
		CHECK_EQ(m[i]->nlmsg_seq, q->nlmsg_seq);
		CHECK(m[i]->nlmsg_flags & NLM_F_MULTI);
	}
	return n - 1;
}

/* ---- captured requests (iproute2 6.1) ------------------------------------------ */
/* ip link probe: RTM_NEWLINK, NLM_F_REQUEST|NLM_F_ACK, seq 0, empty. */
static const uint8_t ip_probe[32] = {
	0x20, 0, 0, 0, 0x10, 0, 0x05, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};
/* ip -j link show: RTM_GETLINK dump, AF_PACKET, IFLA_EXT_MASK VF. */
static const uint8_t ip_link_dump[40] = {
	0x28, 0, 0, 0, 0x12, 0, 0x01, 0x03, 0xe0, 0x7f, 0x05, 0x6b, 0, 0, 0, 0,
	0x11, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0x08, 0, 0x1d, 0, 0x01, 0, 0, 0,
};
/* ip link show dev eth0: RTM_GETLINK, IFLA_EXT_MASK VF|SKIP_STATS,
 * IFLA_IFNAME "eth0". */
static const uint8_t ip_link_get_eth0[52] = {
	0x34, 0, 0, 0, 0x12, 0, 0x01, 0, 0xe0, 0x7f, 0x05, 0x6b, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0x08, 0, 0x1d, 0, 0x09, 0, 0, 0,
	0x09, 0, 0x03, 0, 'e', 't', 'h', '0', 0, 0, 0, 0,
};
/* ip link add v0 type veth peer name v1 */
static const uint8_t ip_veth_add[84] = {
	0x54, 0, 0, 0, 0x10, 0, 0x05, 0x06, 0xe0, 0x7f, 0x05, 0x6b, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0x07, 0, 0x03, 0, 'v', '0', 0, 0,
	0x2c, 0, 0x12, 0,
	0x08, 0, 0x01, 0, 'v', 'e', 't', 'h',
	0x20, 0, 0x02, 0,
	0x1c, 0, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0x07, 0, 0x03, 0, 'v', '1', 0, 0,
};
/* ip link add br0 type bridge */
static const uint8_t ip_bridge_add[56] = {
	0x38, 0, 0, 0, 0x10, 0, 0x05, 0x06, 0xe0, 0x7f, 0x05, 0x6b, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0x08, 0, 0x03, 0, 'b', 'r', '0', 0,
	0x10, 0, 0x12, 0, 0x0a, 0, 0x01, 0, 'b', 'r', 'i', 'd', 'g', 'e', 0, 0,
};
/* ip -j addr: RTM_GETADDR dump AF_UNSPEC, sent from a 152-byte buffer
 * (the zero padding must not be answered). */
static uint8_t ip_addr_dump[152] = {
	0x18, 0, 0, 0, 0x16, 0, 0x01, 0x03, 0xe1, 0x7f, 0x05, 0x6b, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0,
};
/* ip -j route: RTM_GETROUTE dump AF_INET, RTA_TABLE main, 156 bytes. */
static uint8_t ip_route_dump[156] = {
	0x24, 0, 0, 0, 0x1a, 0, 0x01, 0x03, 0xe0, 0x7f, 0x05, 0x6b, 0, 0, 0, 0,
	0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0x08, 0, 0x0f, 0, 0xfe, 0, 0, 0,
};
/* ip route get 10.0.0.5 */
static const uint8_t ip_route_get[36] = {
	0x24, 0, 0, 0, 0x1a, 0, 0x01, 0, 0xe0, 0x7f, 0x05, 0x6b, 0, 0, 0, 0,
	0x02, 0x20, 0, 0, 0, 0, 0, 0, 0, 0x10, 0, 0,
	0x08, 0, 0x01, 0, 10, 0, 0, 5,
};
/* ip route add 10.1.0.0/16 via 10.0.0.2 */
static const uint8_t ip_route_add_via[44] = {
	0x2c, 0, 0, 0, 0x18, 0, 0x05, 0x06, 0xe0, 0x7f, 0x05, 0x6b, 0, 0, 0, 0,
	0x02, 0x10, 0, 0, 0xfe, 0x03, 0, 0x01, 0, 0, 0, 0,
	0x08, 0, 0x01, 0, 10, 1, 0, 0,
	0x08, 0, 0x05, 0, 10, 0, 0, 2,
};
/* ip route add default via 10.0.0.2 */
static const uint8_t ip_route_add_default[36] = {
	0x24, 0, 0, 0, 0x18, 0, 0x05, 0x06, 0xe0, 0x7f, 0x05, 0x6b, 0, 0, 0, 0,
	0x02, 0, 0, 0, 0xfe, 0x03, 0, 0x01, 0, 0, 0, 0,
	0x08, 0, 0x05, 0, 10, 0, 0, 2,
};
/* ip route del 10.1.0.0/16 */
static const uint8_t ip_route_del[36] = {
	0x24, 0, 0, 0, 0x19, 0, 0x05, 0, 0xe1, 0x7f, 0x05, 0x6b, 0, 0, 0, 0,
	0x02, 0x10, 0, 0, 0xfe, 0, 0xff, 0, 0, 0, 0, 0,
	0x08, 0, 0x01, 0, 10, 1, 0, 0,
};
/* ip -j neigh: RTM_GETNEIGH dump AF_UNSPEC (284-byte buffer) */
static uint8_t ip_neigh_dump[284] = {
	0x1c, 0, 0, 0, 0x1e, 0, 0x01, 0x03, 0xe2, 0x7f, 0x05, 0x6b, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};
/* ip rule: RTM_GETRULE dump AF_INET */
static const uint8_t ip_rule_dump[28] = {
	0x1c, 0, 0, 0, 0x22, 0, 0x01, 0x03, 0xe1, 0x7f, 0x05, 0x6b, 0, 0, 0, 0,
	0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};

static struct ifnet *mk_ve(struct vimage *vi, const char *a, const char *b,
			   struct ifnet **pb)
{
	struct ifnet *x, *y;

	REQUIRE(vif_ve_create(vi, a, vi, b, &x, &y) == 0);
	if (pb)
		*pb = y;
	return x;
}

/* ---- links ----------------------------------------------------------------------- */
TEST(rtnl_probe_newlink_without_device_is_enodev)
{
	struct vimage *vi;
	struct world *w = mkworld(&vi);
	struct cap c = {0};
	const struct nlmsghdr *m[4];

	CHECK_EQ(talk(vi, ip_probe, sizeof(ip_probe), &c), 0);
	CHECK_EQ(answer_errno(&c, ip_probe), -ENODEV);
	REQUIRE_EQ(cap_msgs(&c, m, 4), 1);
	CHECK_EQ(m[0]->nlmsg_seq, 0);
	CHECK_EQ(m[0]->nlmsg_flags, 0); /* an error echoes all: not capped */
	cap_free(&c);
	world_destroy(w);
}

TEST(rtnl_link_dump_as_ip_link_show)
{
	struct vimage *vi;
	struct world *w = mkworld(&vi);
	struct cap c = {0};
	const struct nlmsghdr *m[16];
	struct ifnet *e0, *e1, *br;
	int n, seen = 0;

	e0 = mk_ve(vi, "eth0", "eth1", &e1);
	REQUIRE(vif_bridge_create(vi, "br0", &br) == 0);
	REQUIRE(vif_bridge_add_port(br, e1) == 0);
	REQUIRE(vif_set_up(e0, true) == 0);
	n = dump(vi, ip_link_dump, sizeof(ip_link_dump), &c, m, 16);
	REQUIRE_EQ(n, 4);
	for (int i = 0; i < n; i++) {
		const struct ifinfomsg *ifi = NLMSG_DATA(m[i]);
		const struct nlattr *name = msg_attr(m[i], sizeof(*ifi), IFLA_IFNAME);
		const struct nlattr *li = msg_attr(m[i], sizeof(*ifi), IFLA_LINKINFO);
		const struct nlattr *kind = NULL;

		REQUIRE_EQ(m[i]->nlmsg_type, RTM_NEWLINK);
		REQUIRE(name);
		CHECK(msg_attr(m[i], sizeof(*ifi), IFLA_STATS64) != NULL);
		CHECK(msg_attr(m[i], sizeof(*ifi), IFLA_STATS) != NULL);
		CHECK_EQ(au32(msg_attr(m[i], sizeof(*ifi), IFLA_TXQLEN)), 1000);
		if (li)
			kind = find_attr(adata(li), li->nla_len - NLA_HDRLEN,
					 IFLA_INFO_KIND);
		if (strcmp(adata(name), "lo0") == 0) {
			CHECK_EQ(ifi->ifi_index, 1);
			CHECK_EQ(ifi->ifi_type, ARPHRD_LOOPBACK);
			CHECK_EQ(ifi->ifi_flags, IFF_UP | IFF_LOOPBACK | IFF_RUNNING |
							 VIFF_LOWER_UP);
			CHECK(kind == NULL);
			seen |= 1;
		} else if (strcmp(adata(name), "eth0") == 0) {
			uint8_t mac[6];
			const struct nlattr *a =
				msg_attr(m[i], sizeof(*ifi), IFLA_ADDRESS);

			CHECK_EQ(ifi->ifi_index, (int)vif_index(e0));
			CHECK_EQ(ifi->ifi_type, ARPHRD_ETHER);
			/* up, but the peer is down: no carrier */
			CHECK_EQ(ifi->ifi_flags, IFF_UP | IFF_BROADCAST | IFF_MULTICAST);
			CHECK_EQ(*(const uint8_t *)adata(msg_attr(m[i], sizeof(*ifi),
								   IFLA_OPERSTATE)),
				 3 /* IF_OPER_LOWERLAYERDOWN */);
			CHECK_EQ(au32(msg_attr(m[i], sizeof(*ifi), IFLA_LINK)),
				 vif_index(e1));
			CHECK(msg_attr(m[i], sizeof(*ifi), IFLA_LINK_NETNSID) == NULL);
			CHECK_EQ(au32(msg_attr(m[i], sizeof(*ifi), IFLA_MTU)), 1500);
			vif_mac(e0, mac);
			REQUIRE(a);
			CHECK_MEM(adata(a), mac, 6);
			REQUIRE(kind);
			CHECK_STR(adata(kind), "veth");
			seen |= 2;
		} else if (strcmp(adata(name), "eth1") == 0) {
			CHECK_EQ(au32(msg_attr(m[i], sizeof(*ifi), IFLA_MASTER)),
				 vif_index(br));
			CHECK_EQ(ifi->ifi_flags, IFF_BROADCAST | IFF_MULTICAST);
			REQUIRE(kind);
			CHECK_STR(adata(kind), "veth");
			CHECK(find_attr(adata(li), li->nla_len - NLA_HDRLEN,
					IFLA_INFO_SLAVE_KIND) != NULL);
			seen |= 4;
		} else if (strcmp(adata(name), "br0") == 0) {
			REQUIRE(kind);
			CHECK_STR(adata(kind), "bridge");
			seen |= 8;
		}
	}
	CHECK_EQ(seen, 15);
	/* ip link show master br0: filtered by the "kernel" */
	{
		struct ifinfomsg ifi = {.ifi_family = AF_PACKET};
		struct req r;

		rq_hdr(&r, RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, 9, &ifi, sizeof(ifi));
		rq_u32(&r, IFLA_MASTER, vif_index(br));
		n = dump(vi, rq_done(&r), r.len, &c, m, 16);
		REQUIRE_EQ(n, 1);
		CHECK(m[0]->nlmsg_flags & NLM_F_DUMP_FILTERED);
		CHECK_EQ(((const struct ifinfomsg *)NLMSG_DATA(m[0]))->ifi_index,
			 (int)vif_index(e1));
	}
	cap_free(&c);
	world_destroy(w);
}

TEST(rtnl_link_get_by_name_and_index)
{
	struct vimage *vi;
	struct world *w = mkworld(&vi);
	struct cap c = {0};
	const struct nlmsghdr *m[4];
	struct ifnet *e0 = mk_ve(vi, "eth0", "eth1", NULL);
	struct req r;
	struct ifinfomsg ifi = {.ifi_index = (int)vif_index(e0)};

	CHECK_EQ(talk(vi, ip_link_get_eth0, sizeof(ip_link_get_eth0), &c), 0);
	REQUIRE_EQ(cap_msgs(&c, m, 4), 1);
	CHECK_EQ(m[0]->nlmsg_type, RTM_NEWLINK);
	CHECK_EQ(m[0]->nlmsg_flags, 0);
	CHECK_EQ(m[0]->nlmsg_seq, SEQ);
	CHECK_EQ(m[0]->nlmsg_pid, PORTID);
	CHECK_EQ(((const struct ifinfomsg *)NLMSG_DATA(m[0]))->ifi_index,
		 (int)vif_index(e0));
	/* RTEXT_FILTER_SKIP_STATS */
	CHECK(msg_attr(m[0], sizeof(ifi), IFLA_STATS64) == NULL);

	rq_hdr(&r, RTM_GETLINK, NLM_F_REQUEST, 5, &ifi, sizeof(ifi));
	CHECK_EQ(talk(vi, rq_done(&r), r.len, &c), 0);
	REQUIRE_EQ(cap_msgs(&c, m, 4), 1);
	CHECK_STR(adata(msg_attr(m[0], sizeof(ifi), IFLA_IFNAME)), "eth0");
	CHECK(msg_attr(m[0], sizeof(ifi), IFLA_STATS64) != NULL);

	/* unknown name, unknown index, neither */
	ifi.ifi_index = 0;
	rq_hdr(&r, RTM_GETLINK, NLM_F_REQUEST, 6, &ifi, sizeof(ifi));
	rq_str(&r, IFLA_IFNAME, "nosuch");
	CHECK_EQ(do_ack(vi, &r, &c), -ENODEV);
	ifi.ifi_index = 99;
	rq_hdr(&r, RTM_GETLINK, NLM_F_REQUEST, 7, &ifi, sizeof(ifi));
	CHECK_EQ(do_ack(vi, &r, &c), -ENODEV);
	ifi.ifi_index = 0;
	rq_hdr(&r, RTM_GETLINK, NLM_F_REQUEST, 8, &ifi, sizeof(ifi));
	CHECK_EQ(do_ack(vi, &r, &c), -EINVAL);
	cap_free(&c);
	world_destroy(w);
}

TEST(rtnl_link_add_veth_and_bridge_as_ip_link_add)
{
	struct vimage *vi;
	struct world *w = mkworld(&vi);
	struct cap c = {0};
	struct ifnet *v0, *v1, *br;

	CHECK_EQ(talk(vi, ip_veth_add, sizeof(ip_veth_add), &c), 0);
	CHECK_EQ(answer_errno(&c, ip_veth_add), 0);
	v0 = vif_lookup(vi, "v0");
	v1 = vif_lookup(vi, "v1");
	REQUIRE(v0 && v1);
	CHECK(vif_ve_peer(v0) == v1);
	CHECK_EQ(vif_type(v0), VIF_VE);
	/* again: NLM_F_EXCL */
	CHECK_EQ(talk(vi, ip_veth_add, sizeof(ip_veth_add), &c), 0);
	CHECK_EQ(answer_errno(&c, ip_veth_add), -EEXIST);

	CHECK_EQ(talk(vi, ip_bridge_add, sizeof(ip_bridge_add), &c), 0);
	CHECK_EQ(answer_errno(&c, ip_bridge_add), 0);
	br = vif_lookup(vi, "br0");
	REQUIRE(br);
	CHECK_EQ(vif_type(br), VIF_BRIDGE);

	/* unknown kind; create without NLM_F_CREATE */
	{
		struct ifinfomsg ifi = {0};
		struct req r;

		rq_hdr(&r, RTM_NEWLINK,
		       NLM_F_REQUEST | NLM_F_ACK | NLM_F_EXCL | NLM_F_CREATE, 3,
		       &ifi, sizeof(ifi));
		rq_str(&r, IFLA_IFNAME, "d0");
		rq_nest(&r, IFLA_LINKINFO);
		rq_str(&r, IFLA_INFO_KIND, "dummy");
		rq_end_nest(&r);
		CHECK_EQ(do_ack(vi, &r, &c), -EOPNOTSUPP);
		rq_hdr(&r, RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, 4, &ifi,
		       sizeof(ifi));
		rq_str(&r, IFLA_IFNAME, "b1");
		rq_nest(&r, IFLA_LINKINFO);
		rq_str(&r, IFLA_INFO_KIND, "bridge");
		rq_end_nest(&r);
		CHECK_EQ(do_ack(vi, &r, &c), -ENODEV);
		CHECK(vif_lookup(vi, "b1") == NULL);
		/* a veth with an MTU and no peer name: the core names it */
		rq_hdr(&r, RTM_NEWLINK,
		       NLM_F_REQUEST | NLM_F_ACK | NLM_F_EXCL | NLM_F_CREATE, 5,
		       &ifi, sizeof(ifi));
		rq_str(&r, IFLA_IFNAME, "x0");
		rq_u32(&r, IFLA_MTU, 9000);
		rq_nest(&r, IFLA_LINKINFO);
		rq_str(&r, IFLA_INFO_KIND, "veth");
		rq_end_nest(&r);
		CHECK_EQ(do_ack(vi, &r, &c), 0);
		REQUIRE(vif_lookup(vi, "x0"));
		CHECK_EQ(vif_mtu(vif_lookup(vi, "x0")), 9000);
		CHECK(vif_ve_peer(vif_lookup(vi, "x0")) != NULL);
	}
	cap_free(&c);
	world_destroy(w);
}

TEST(rtnl_link_set_up_mtu_name_address_master)
{
	struct vimage *vi;
	struct world *w = mkworld(&vi);
	struct cap c = {0};
	struct ifnet *e1, *e0 = mk_ve(vi, "v0", "v1", &e1), *br;
	static const uint8_t mac[6] = {2, 0, 0, 0, 0, 5};
	uint8_t got[6];
	struct req r;

	REQUIRE(vif_bridge_create(vi, "br0", &br) == 0);
	/* ip link set v0 up: ifi_flags IFF_UP, ifi_change 1 */
	link_set(vi, &c, vif_index(e0), IFF_UP, IFF_UP, &r);
	CHECK_EQ(do_ack(vi, &r, &c), 0);
	CHECK(vif_flags(e0) & VIFF_UP);
	/* ip link set v0 mtu 1400 */
	link_set(vi, &c, vif_index(e0), 0, 0, &r);
	rq_u32(&r, IFLA_MTU, 1400);
	CHECK_EQ(do_ack(vi, &r, &c), 0);
	CHECK_EQ(vif_mtu(e0), 1400);
	link_set(vi, &c, vif_index(e0), 0, 0, &r);
	rq_u32(&r, IFLA_MTU, 10);
	CHECK_EQ(do_ack(vi, &r, &c), -EINVAL);
	/* ip link set v1 name v9 (down: allowed), then v0 while up: busy */
	link_set(vi, &c, vif_index(e1), 0, 0, &r);
	rq_str(&r, IFLA_IFNAME, "v9");
	CHECK_EQ(do_ack(vi, &r, &c), 0);
	CHECK(vif_lookup(vi, "v9") == e1);
	link_set(vi, &c, vif_index(e0), 0, 0, &r);
	rq_str(&r, IFLA_IFNAME, "v8");
	CHECK_EQ(do_ack(vi, &r, &c), -EBUSY);
	/* ip link set v0 address 02:00:00:00:00:05 */
	link_set(vi, &c, vif_index(e0), 0, 0, &r);
	rq_attr(&r, IFLA_ADDRESS, mac, 6);
	CHECK_EQ(do_ack(vi, &r, &c), 0);
	vif_mac(e0, got);
	CHECK_MEM(got, mac, 6);
	/* ip link set v9 master br0 / nomaster */
	link_set(vi, &c, vif_index(e1), 0, 0, &r);
	rq_u32(&r, IFLA_MASTER, vif_index(br));
	CHECK_EQ(do_ack(vi, &r, &c), 0);
	CHECK(vif_bridge_port_of(e1) == br);
	link_set(vi, &c, vif_index(e1), 0, 0, &r);
	rq_u32(&r, IFLA_MASTER, 0);
	CHECK_EQ(do_ack(vi, &r, &c), 0);
	CHECK(vif_bridge_port_of(e1) == NULL);
	link_set(vi, &c, vif_index(e1), 0, 0, &r);
	rq_u32(&r, IFLA_MASTER, vif_index(e0));
	CHECK_EQ(do_ack(vi, &r, &c), -EOPNOTSUPP);
	/* by name (ifi_index 0): ip link set dev v0 down */
	link_set(vi, &c, 0, 0, IFF_UP, &r);
	rq_str(&r, IFLA_IFNAME, "v0");
	CHECK_EQ(do_ack(vi, &r, &c), 0);
	CHECK(!(vif_flags(e0) & VIFF_UP));
	/* promisc is not modelled */
	link_set(vi, &c, vif_index(e0), IFF_PROMISC, IFF_PROMISC, &r);
	CHECK_EQ(do_ack(vi, &r, &c), -EOPNOTSUPP);
	cap_free(&c);
	world_destroy(w);
}

TEST(rtnl_link_del)
{
	struct vimage *vi;
	struct world *w = mkworld(&vi);
	struct cap c = {0};
	struct ifnet *e0 = mk_ve(vi, "v0", "v1", NULL);
	struct ifinfomsg ifi = {.ifi_index = (int)vif_index(e0)};
	struct req r;

	rq_hdr(&r, RTM_DELLINK, NLM_F_REQUEST | NLM_F_ACK, 1, &ifi, sizeof(ifi));
	CHECK_EQ(do_ack(vi, &r, &c), 0);
	CHECK(vif_lookup(vi, "v0") == NULL);
	CHECK(vif_lookup(vi, "v1") == NULL); /* the peer goes too */
	CHECK_EQ(do_ack(vi, &r, &c), -ENODEV);
	ifi.ifi_index = 1; /* lo0 */
	rq_hdr(&r, RTM_DELLINK, NLM_F_REQUEST | NLM_F_ACK, 2, &ifi, sizeof(ifi));
	CHECK_EQ(do_ack(vi, &r, &c), -EOPNOTSUPP);
	cap_free(&c);
	world_destroy(w);
}

/* ---- addresses -------------------------------------------------------------------- */
TEST(rtnl_addr_add_dump_del_as_ip_addr)
{
	struct vimage *vi;
	struct world *w = mkworld(&vi);
	struct cap c = {0};
	const struct nlmsghdr *m[16];
	struct ifnet *e0 = mk_ve(vi, "v0", "v1", NULL);
	struct vroute rt;
	struct vaddr dst = VADDR4(10, 0, 0, 77);
	int n, lo = 0, v0 = 0;

	CHECK_EQ(addr_add(vi, &c, vif_index(e0), "10.0.0.1", 24, true), 0);
	CHECK_EQ(addr_add(vi, &c, vif_index(e0), "10.0.0.1", 24, true), -EEXIST);
	CHECK_EQ(addr_add(vi, &c, 42, "10.0.0.1", 24, true), -ENODEV);
	CHECK_EQ(vroute_get(vi, &dst, &rt), 0);
	CHECK(rt.ifp == e0);

	n = dump(vi, ip_addr_dump, sizeof(ip_addr_dump), &c, m, 16);
	REQUIRE_EQ(n, 2);
	for (int i = 0; i < n; i++) {
		const struct ifaddrmsg *ifa = NLMSG_DATA(m[i]);
		const struct nlattr *ci = msg_attr(m[i], sizeof(*ifa), IFA_CACHEINFO);

		CHECK_EQ(m[i]->nlmsg_type, RTM_NEWADDR);
		CHECK_EQ(ifa->ifa_family, AF_INET);
		CHECK(ifa->ifa_flags & IFA_F_PERMANENT);
		REQUIRE(ci);
		CHECK_EQ(((const struct ifa_cacheinfo *)adata(ci))->ifa_valid,
			 0xffffffffu);
		if (ifa->ifa_index == 1) {
			CHECK_EQ(ifa->ifa_prefixlen, 8);
			CHECK_EQ(ifa->ifa_scope, RT_SCOPE_HOST);
			CHECK_EQ(ain4(msg_attr(m[i], sizeof(*ifa), IFA_LOCAL)),
				 0x7f000001);
			CHECK_STR(adata(msg_attr(m[i], sizeof(*ifa), IFA_LABEL)),
				  "lo0");
			lo++;
		} else {
			CHECK_EQ(ifa->ifa_index, vif_index(e0));
			CHECK_EQ(ifa->ifa_prefixlen, 24);
			CHECK_EQ(ifa->ifa_scope, RT_SCOPE_UNIVERSE);
			CHECK_EQ(ain4(msg_attr(m[i], sizeof(*ifa), IFA_ADDRESS)),
				 0x0a000001);
			CHECK_EQ(ain4(msg_attr(m[i], sizeof(*ifa), IFA_LOCAL)),
				 0x0a000001);
			CHECK_EQ(ain4(msg_attr(m[i], sizeof(*ifa), IFA_BROADCAST)),
				 0x0a0000ff);
			CHECK_STR(adata(msg_attr(m[i], sizeof(*ifa), IFA_LABEL)),
				  "v0");
			v0++;
		}
	}
	CHECK_EQ(lo, 1);
	CHECK_EQ(v0, 1);

	/* IPv6: an empty dump, changes refused */
	{
		struct ifaddrmsg ifa = {.ifa_family = AF_INET6};
		struct req r;

		rq_hdr(&r, RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP, 3, &ifa, sizeof(ifa));
		CHECK_EQ(dump(vi, rq_done(&r), r.len, &c, m, 16), 0);
		ifa.ifa_prefixlen = 64;
		ifa.ifa_index = vif_index(e0);
		rq_hdr(&r, RTM_NEWADDR, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE, 4,
		       &ifa, sizeof(ifa));
		rq_attr(&r, IFA_LOCAL, "\xfe\x80\0\0\0\0\0\0\0\0\0\0\0\0\0\1", 16);
		CHECK_EQ(do_ack(vi, &r, &c), -EAFNOSUPPORT);
	}

	CHECK_EQ(addr_add(vi, &c, vif_index(e0), "10.0.0.1", 16, false),
		 -EADDRNOTAVAIL);
	CHECK_EQ(addr_add(vi, &c, vif_index(e0), "10.0.0.1", 24, false), 0);
	CHECK_EQ(vroute_get(vi, &dst, &rt), -ENETUNREACH);
	n = dump(vi, ip_addr_dump, sizeof(ip_addr_dump), &c, m, 16);
	CHECK_EQ(n, 1);
	cap_free(&c);
	world_destroy(w);
}

/* ---- routes ------------------------------------------------------------------------- */
TEST(rtnl_route_add_dump_get_del_as_ip_route)
{
	struct vimage *vi;
	struct world *w = mkworld(&vi);
	struct cap c = {0};
	const struct nlmsghdr *m[32];
	struct ifnet *e1, *e0 = mk_ve(vi, "v0", "v1", &e1);
	struct vaddr d = VADDR4(10, 1, 2, 3);
	struct vroute rt;
	int n, conn = 0, via = 0, def = 0;

	REQUIRE(vif_set_up(e0, true) == 0);
	REQUIRE(vif_set_up(e1, true) == 0);
	CHECK_EQ(addr_add(vi, &c, vif_index(e0), "10.0.0.1", 24, true), 0);
	CHECK_EQ(talk(vi, ip_route_add_via, sizeof(ip_route_add_via), &c), 0);
	CHECK_EQ(answer_errno(&c, ip_route_add_via), 0);
	CHECK_EQ(vroute_get(vi, &d, &rt), 0);
	CHECK_EQ(rt.gw.v4, 0x0a000002);
	CHECK_EQ(rt.plen, 16);
	CHECK_EQ(rt.proto, VRT_PROTO_BOOT);
	CHECK_EQ(talk(vi, ip_route_add_via, sizeof(ip_route_add_via), &c), 0);
	CHECK_EQ(answer_errno(&c, ip_route_add_via), -EEXIST);
	CHECK_EQ(talk(vi, ip_route_add_default, sizeof(ip_route_add_default), &c), 0);
	CHECK_EQ(answer_errno(&c, ip_route_add_default), 0);

	n = dump(vi, ip_route_dump, sizeof(ip_route_dump), &c, m, 32);
	REQUIRE_EQ(n, 3); /* main only: connected, 10.1/16, default */
	for (int i = 0; i < n; i++) {
		const struct rtmsg *r = NLMSG_DATA(m[i]);

		CHECK_EQ(m[i]->nlmsg_type, RTM_NEWROUTE);
		CHECK(m[i]->nlmsg_flags & NLM_F_DUMP_FILTERED);
		CHECK_EQ(r->rtm_table, RT_TABLE_MAIN);
		CHECK_EQ(au32(msg_attr(m[i], sizeof(*r), RTA_TABLE)), RT_TABLE_MAIN);
		CHECK_EQ(r->rtm_type, RTN_UNICAST);
		CHECK_EQ(r->rtm_flags & RTNH_F_LINKDOWN, 0);
		CHECK_EQ(au32(msg_attr(m[i], sizeof(*r), RTA_OIF)), vif_index(e0));
		if (r->rtm_dst_len == 24) {
			CHECK_EQ(r->rtm_protocol, RTPROT_KERNEL);
			CHECK_EQ(r->rtm_scope, RT_SCOPE_LINK);
			CHECK_EQ(ain4(msg_attr(m[i], sizeof(*r), RTA_DST)), 0x0a000000);
			CHECK_EQ(ain4(msg_attr(m[i], sizeof(*r), RTA_PREFSRC)),
				 0x0a000001);
			CHECK(msg_attr(m[i], sizeof(*r), RTA_GATEWAY) == NULL);
			conn++;
		} else if (r->rtm_dst_len == 16) {
			CHECK_EQ(r->rtm_protocol, RTPROT_BOOT);
			CHECK_EQ(r->rtm_scope, RT_SCOPE_UNIVERSE);
			CHECK_EQ(ain4(msg_attr(m[i], sizeof(*r), RTA_GATEWAY)),
				 0x0a000002);
			via++;
		} else if (r->rtm_dst_len == 0) {
			CHECK(msg_attr(m[i], sizeof(*r), RTA_DST) == NULL);
			CHECK_EQ(ain4(msg_attr(m[i], sizeof(*r), RTA_GATEWAY)),
				 0x0a000002);
			def++;
		}
	}
	CHECK_EQ(conn + via + def, 3);
	CHECK_EQ(conn * via * def, 1);

	/* ip route show table local: local 10.0.0.1, broadcast 10.0.0.255,
	 * local 127.0.0.0/8 */
	ip_route_dump[32] = RT_TABLE_LOCAL;
	n = dump(vi, ip_route_dump, sizeof(ip_route_dump), &c, m, 32);
	ip_route_dump[32] = RT_TABLE_MAIN;
	REQUIRE_EQ(n, 3);
	for (int i = 0; i < n; i++) {
		const struct rtmsg *r = NLMSG_DATA(m[i]);

		CHECK_EQ(r->rtm_table, RT_TABLE_LOCAL);
		if (r->rtm_type == RTN_LOCAL)
			CHECK_EQ(r->rtm_scope, RT_SCOPE_HOST);
		else
			CHECK(r->rtm_type == RTN_BROADCAST &&
			      r->rtm_scope == RT_SCOPE_LINK);
	}

	/* ip route get 10.0.0.5 */
	CHECK_EQ(talk(vi, ip_route_get, sizeof(ip_route_get), &c), 0);
	REQUIRE_EQ(cap_msgs(&c, m, 32), 1);
	{
		const struct rtmsg *r = NLMSG_DATA(m[0]);

		CHECK_EQ(m[0]->nlmsg_type, RTM_NEWROUTE);
		CHECK_EQ(m[0]->nlmsg_seq, SEQ);
		CHECK(r->rtm_flags & RTM_F_CLONED);
		CHECK_EQ(r->rtm_dst_len, 32);
		CHECK_EQ(ain4(msg_attr(m[0], sizeof(*r), RTA_DST)), 0x0a000005);
		CHECK_EQ(au32(msg_attr(m[0], sizeof(*r), RTA_OIF)), vif_index(e0));
		CHECK_EQ(ain4(msg_attr(m[0], sizeof(*r), RTA_PREFSRC)), 0x0a000001);
		CHECK(msg_attr(m[0], sizeof(*r), RTA_GATEWAY) == NULL);
	}
	/* ... and through the gateway */
	{
		struct rtmsg q = {.rtm_family = AF_INET, .rtm_dst_len = 32};
		struct req r;

		rq_hdr(&r, RTM_GETROUTE, NLM_F_REQUEST, 11, &q, sizeof(q));
		rq_in4(&r, RTA_DST, "10.1.9.9");
		CHECK_EQ(talk(vi, rq_done(&r), r.len, &c), 0);
		REQUIRE_EQ(cap_msgs(&c, m, 32), 1);
		CHECK_EQ(ain4(msg_attr(m[0], sizeof(q), RTA_GATEWAY)), 0x0a000002);
		/* a local address: through lo0, table local */
		rq_hdr(&r, RTM_GETROUTE, NLM_F_REQUEST, 12, &q, sizeof(q));
		rq_in4(&r, RTA_DST, "10.0.0.1");
		CHECK_EQ(talk(vi, rq_done(&r), r.len, &c), 0);
		REQUIRE_EQ(cap_msgs(&c, m, 32), 1);
		CHECK_EQ(((const struct rtmsg *)NLMSG_DATA(m[0]))->rtm_type, RTN_LOCAL);
		CHECK_EQ(au32(msg_attr(m[0], sizeof(q), RTA_OIF)), 1);
		CHECK_EQ(au32(msg_attr(m[0], sizeof(q), RTA_TABLE)), RT_TABLE_LOCAL);
	}
	/* replace 10.1/16 by a device route (NLM_F_REPLACE) */
	{
		struct rtmsg q = {.rtm_family = AF_INET, .rtm_dst_len = 16,
				  .rtm_table = RT_TABLE_MAIN,
				  .rtm_protocol = RTPROT_BOOT,
				  .rtm_scope = RT_SCOPE_LINK,
				  .rtm_type = RTN_UNICAST};
		struct req r;

		rq_hdr(&r, RTM_NEWROUTE,
		       NLM_F_REQUEST | NLM_F_ACK | NLM_F_REPLACE | NLM_F_CREATE, 13,
		       &q, sizeof(q));
		rq_in4(&r, RTA_DST, "10.1.0.0");
		rq_u32(&r, RTA_OIF, vif_index(e0));
		CHECK_EQ(do_ack(vi, &r, &c), 0);
		CHECK_EQ(vroute_get(vi, &d, &rt), 0);
		CHECK_EQ(rt.gw.family, 0);
		CHECK(rt.ifp == e0);
		/* a gateway off-link */
		rq_hdr(&r, RTM_NEWROUTE,
		       NLM_F_REQUEST | NLM_F_ACK | NLM_F_EXCL | NLM_F_CREATE, 14,
		       &q, sizeof(q));
		rq_in4(&r, RTA_DST, "10.2.0.0");
		rq_in4(&r, RTA_GATEWAY, "192.168.9.9");
		CHECK_EQ(do_ack(vi, &r, &c), -ENETUNREACH);
	}
	CHECK_EQ(talk(vi, ip_route_del, sizeof(ip_route_del), &c), 0);
	CHECK_EQ(answer_errno(&c, ip_route_del), 0);
	CHECK_EQ(talk(vi, ip_route_del, sizeof(ip_route_del), &c), 0);
	CHECK_EQ(answer_errno(&c, ip_route_del), -ESRCH);
	CHECK_EQ(vroute_get(vi, &d, &rt), 0); /* now by the default */
	CHECK_EQ(rt.plen, 0);

	/* unreachable */
	{
		struct rtmsg q = {.rtm_family = AF_INET, .rtm_dst_len = 0,
				  .rtm_table = RT_TABLE_MAIN};
		struct req r;

		rq_hdr(&r, RTM_DELROUTE, NLM_F_REQUEST | NLM_F_ACK, 15, &q, sizeof(q));
		CHECK_EQ(do_ack(vi, &r, &c), 0);
		q.rtm_dst_len = 32;
		rq_hdr(&r, RTM_GETROUTE, NLM_F_REQUEST, 16, &q, sizeof(q));
		rq_in4(&r, RTA_DST, "192.0.2.1");
		CHECK_EQ(do_ack(vi, &r, &c), -ENETUNREACH);
	}
	cap_free(&c);
	world_destroy(w);
}

/* ---- neighbours ------------------------------------------------------------------ */
static int count_neigh(void *ctx, const struct vneigh_info *n)
{
	(*(int *)ctx)++;
	return 0;
}

TEST(rtnl_neigh_add_dump_flush)
{
	struct vimage *vi;
	struct world *w = mkworld(&vi);
	struct cap c = {0};
	const struct nlmsghdr *m[16];
	struct ifnet *e0 = mk_ve(vi, "v0", "v1", NULL);
	static const uint8_t mac[6] = {2, 0, 0, 0, 0, 7};
	struct ndmsg nd = {.ndm_family = AF_INET, .ndm_ifindex = (int)vif_index(e0),
			   .ndm_state = NUD_PERMANENT};
	struct req r, batch;
	int n, cnt = 0;

	CHECK_EQ(addr_add(vi, &c, vif_index(e0), "10.0.0.1", 24, true), 0);
	/* ip neigh add 10.0.0.7 lladdr 02:00:00:00:00:07 dev v0 nud permanent */
	rq_hdr(&r, RTM_NEWNEIGH, NLM_F_REQUEST | NLM_F_ACK | NLM_F_EXCL | NLM_F_CREATE,
	       SEQ + 2, &nd, sizeof(nd));
	rq_in4(&r, NDA_DST, "10.0.0.7");
	rq_attr(&r, NDA_LLADDR, mac, 6);
	CHECK_EQ(do_ack(vi, &r, &c), 0);
	CHECK_EQ(do_ack(vi, &r, &c), -EEXIST);
	rq_hdr(&r, RTM_NEWNEIGH, NLM_F_REQUEST | NLM_F_ACK | NLM_F_EXCL | NLM_F_CREATE,
	       SEQ + 3, &nd, sizeof(nd));
	rq_in4(&r, NDA_DST, "10.0.0.8");
	rq_attr(&r, NDA_LLADDR, mac, 6);
	CHECK_EQ(do_ack(vi, &r, &c), 0);

	n = dump(vi, ip_neigh_dump, sizeof(ip_neigh_dump), &c, m, 16);
	REQUIRE_EQ(n, 2);
	for (int i = 0; i < n; i++) {
		const struct ndmsg *x = NLMSG_DATA(m[i]);
		uint32_t a = ain4(msg_attr(m[i], sizeof(*x), NDA_DST));

		CHECK_EQ(m[i]->nlmsg_type, RTM_NEWNEIGH);
		CHECK_EQ(x->ndm_family, AF_INET);
		CHECK_EQ(x->ndm_ifindex, (int)vif_index(e0));
		CHECK_EQ(x->ndm_state, NUD_PERMANENT);
		CHECK(a == 0x0a000007 || a == 0x0a000008);
		CHECK_MEM(adata(msg_attr(m[i], sizeof(*x), NDA_LLADDR)), mac, 6);
	}
	/* ip neigh flush: one datagram of RTM_DELNEIGH without ACK; success
	 * is silent, a failure answers */
	memset(&batch, 0, sizeof(batch));
	for (int i = 0; i < 3; i++) {
		rq_hdr(&r, RTM_DELNEIGH, NLM_F_REQUEST, SEQ + 10 + i, &nd, sizeof(nd));
		rq_in4(&r, NDA_DST, i == 0 ? "10.0.0.7" : i == 1 ? "10.0.0.8" : "10.0.0.9");
		rq_done(&r);
		memcpy(batch.b + batch.len, r.b, r.len);
		batch.len += r.len;
	}
	CHECK_EQ(talk(vi, batch.b, batch.len, &c), 0);
	REQUIRE_EQ(cap_msgs(&c, m, 16), 1);
	CHECK_EQ(m[0]->nlmsg_type, NLMSG_ERROR);
	CHECK_EQ(m[0]->nlmsg_seq, SEQ + 12);
	CHECK_EQ(((const struct nlmsgerr *)NLMSG_DATA(m[0]))->error, -ENOENT);
	vneigh_walk(vi, count_neigh, &cnt);
	CHECK_EQ(cnt, 0);
	cap_free(&c);
	world_destroy(w);
}

/* ---- everything else ------------------------------------------------------------------ */
TEST(rtnl_other_requests_always_answered)
{
	struct vimage *vi;
	struct world *w = mkworld(&vi);
	struct cap c = {0};
	const struct nlmsghdr *m[16];
	static const uint16_t empty_dumps[] = {RTM_GETNETCONF, RTM_GETNSID,
					       RTM_GETTCLASS, RTM_GETNEXTHOP,
					       RTM_GETSTATS};
	struct rtgenmsg g = {.rtgen_family = AF_UNSPEC};
	struct req r;
	int n;

	n = dump(vi, ip_rule_dump, sizeof(ip_rule_dump), &c, m, 16);
	REQUIRE_EQ(n, 3);
	CHECK_EQ(au32(msg_attr(m[0], sizeof(struct fib_rule_hdr), FRA_TABLE)),
		 RT_TABLE_LOCAL);
	CHECK_EQ(au32(msg_attr(m[1], sizeof(struct fib_rule_hdr), FRA_PRIORITY)),
		 32766);
	for (unsigned i = 0; i < sizeof(empty_dumps) / sizeof(empty_dumps[0]); i++) {
		rq_hdr(&r, empty_dumps[i], NLM_F_REQUEST | NLM_F_DUMP, 20 + i, &g,
		       sizeof(g));
		CHECK_EQ(dump(vi, rq_done(&r), r.len, &c, m, 16), 0);
	}
	/* glibc getifaddrs: RTM_GETLINK dump with a bare rtgenmsg */
	rq_hdr(&r, RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, 30, &g, sizeof(g));
	CHECK_EQ(dump(vi, rq_done(&r), r.len, &c, m, 16), 1);
	/* IPv6 and MPLS route dumps: empty */
	g.rtgen_family = AF_INET6;
	rq_hdr(&r, RTM_GETROUTE, NLM_F_REQUEST | NLM_F_DUMP, 31, &g, sizeof(g));
	CHECK_EQ(dump(vi, rq_done(&r), r.len, &c, m, 16), 0);
	g.rtgen_family = 28; /* AF_MPLS */
	rq_hdr(&r, RTM_GETROUTE, NLM_F_REQUEST | NLM_F_DUMP, 32, &g, sizeof(g));
	CHECK_EQ(dump(vi, rq_done(&r), r.len, &c, m, 16), 0);
	/* a GET with no handler, a change with none, a type past RTM_MAX */
	rq_hdr(&r, RTM_GETTCLASS, NLM_F_REQUEST, 33, &g, sizeof(g));
	CHECK_EQ(do_ack(vi, &r, &c), -EOPNOTSUPP);
	rq_hdr(&r, RTM_NEWRULE, NLM_F_REQUEST | NLM_F_ACK, 34, &g, sizeof(g));
	CHECK_EQ(do_ack(vi, &r, &c), -EOPNOTSUPP);
	rq_hdr(&r, RTM_MAX + 1, NLM_F_REQUEST, 35, &g, sizeof(g));
	CHECK_EQ(do_ack(vi, &r, &c), -EOPNOTSUPP);
	/* NLMSG_NOOP with NLM_F_ACK: acked; without: silence */
	rq_hdr(&r, NLMSG_NOOP, NLM_F_REQUEST | NLM_F_ACK, 36, &g, sizeof(g));
	CHECK_EQ(do_ack(vi, &r, &c), 0);
	rq_hdr(&r, NLMSG_NOOP, NLM_F_REQUEST, 37, &g, sizeof(g));
	CHECK_EQ(talk(vi, rq_done(&r), r.len, &c), 0);
	CHECK_EQ(c.n, 0);
	cap_free(&c);
	world_destroy(w);
}

TEST(rtnl_many_messages_in_one_datagram_in_order)
{
	struct vimage *vi;
	struct world *w = mkworld(&vi);
	struct cap c = {0};
	const struct nlmsghdr *m[16];
	uint8_t buf[sizeof(ip_veth_add) + sizeof(ip_probe) + sizeof(ip_link_dump)];
	int n;

	memcpy(buf, ip_veth_add, sizeof(ip_veth_add));
	memcpy(buf + sizeof(ip_veth_add), ip_link_dump, sizeof(ip_link_dump));
	memcpy(buf + sizeof(ip_veth_add) + sizeof(ip_link_dump), ip_probe,
	       sizeof(ip_probe));
	CHECK_EQ(talk(vi, buf, sizeof(buf), &c), 0);
	n = cap_msgs(&c, m, 16);
	/* ack, 3 links, DONE, -ENODEV */
	REQUIRE_EQ(n, 6);
	CHECK_EQ(m[0]->nlmsg_type, NLMSG_ERROR);
	CHECK_EQ(((const struct nlmsgerr *)NLMSG_DATA(m[0]))->error, 0);
	CHECK_EQ(m[1]->nlmsg_type, RTM_NEWLINK);
	CHECK_EQ(m[3]->nlmsg_type, RTM_NEWLINK);
	CHECK_EQ(m[4]->nlmsg_type, NLMSG_DONE);
	CHECK_EQ(m[5]->nlmsg_type, NLMSG_ERROR);
	CHECK_EQ(((const struct nlmsgerr *)NLMSG_DATA(m[5]))->error, -ENODEV);
	/* every reply is its own datagram but the dump's (one here) */
	CHECK_EQ(c.n, 3);
	cap_free(&c);
	world_destroy(w);
}

TEST(rtnl_large_dump_is_split_into_datagrams)
{
	struct vimage *vi;
	struct world *w = mkworld(&vi);
	struct cap c = {0};
	const struct nlmsghdr **m = calloc(512, sizeof(*m));
	int n;

	REQUIRE(m);
	for (int i = 0; i < 40; i++)
		mk_ve(vi, NULL, NULL, NULL);
	n = dump(vi, ip_link_dump, sizeof(ip_link_dump), &c, m, 512);
	CHECK_EQ(n, 81);
	CHECK(c.n > 1);
	for (int i = 0; i < c.n; i++)
		CHECK(c.len[i] <= RTNL_DGRAM_MAX);
	free(m);
	cap_free(&c);
	world_destroy(w);
}

/* ---- malformed input ------------------------------------------------------------------ */
static int err_of_only_reply(struct cap *c)
{
	const struct nlmsghdr *m[4];

	REQUIRE_EQ(cap_msgs(c, m, 4), 1);
	REQUIRE_EQ(m[0]->nlmsg_type, NLMSG_ERROR);
	REQUIRE(m[0]->nlmsg_len >= NLMSG_HDRLEN + sizeof(struct nlmsgerr));
	return ((const struct nlmsgerr *)NLMSG_DATA(m[0]))->error;
}

TEST(rtnl_malformed_messages_get_einval_and_never_crash)
{
	struct vimage *vi;
	struct world *w = mkworld(&vi);
	struct cap c = {0};
	uint8_t buf[256];
	struct req r;
	struct ifinfomsg ifi = {0};

	/* a truncated nlmsghdr */
	memcpy(buf, ip_probe, 10);
	CHECK_EQ(talk(vi, buf, 10, &c), -EINVAL);
	CHECK_EQ(err_of_only_reply(&c), -EINVAL);
	/* nlmsg_len past the end */
	memcpy(buf, ip_veth_add, sizeof(ip_veth_add));
	CHECK_EQ(talk(vi, buf, 60, &c), -EINVAL);
	CHECK_EQ(err_of_only_reply(&c), -EINVAL);
	CHECK(vif_lookup(vi, "v0") == NULL);
	/* an attribute longer than the message */
	rq_hdr(&r, RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE, 1, &ifi,
	       sizeof(ifi));
	rq_str(&r, IFLA_IFNAME, "zz");
	((struct nlattr *)(r.b + 32))->nla_len = 200;
	CHECK_EQ(do_ack(vi, &r, &c), -EINVAL);
	/* a zero-length attribute (nla_len 0) */
	rq_hdr(&r, RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, 2, &ifi, sizeof(ifi));
	rq_str(&r, IFLA_IFNAME, "zz");
	((struct nlattr *)(r.b + 32))->nla_len = 0;
	CHECK_EQ(do_ack(vi, &r, &c), -EINVAL);
	/* an attribute shorter than its type needs */
	rq_hdr(&r, RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, 3, &ifi, sizeof(ifi));
	rq_attr(&r, IFLA_MTU, "\1", 1);
	ifi.ifi_index = 1;
	memcpy(r.b + NLMSG_HDRLEN, &ifi, sizeof(ifi));
	CHECK_EQ(do_ack(vi, &r, &c), -EINVAL);
	/* a malformed nest inside IFLA_LINKINFO */
	ifi.ifi_index = 0;
	rq_hdr(&r, RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE, 4, &ifi,
	       sizeof(ifi));
	rq_nest(&r, IFLA_LINKINFO);
	rq_str(&r, IFLA_INFO_KIND, "veth");
	rq_end_nest(&r);
	((struct nlattr *)(r.b + 36))->nla_len = 60;
	CHECK_EQ(do_ack(vi, &r, &c), -EINVAL);
	/* a fixed header cut short (a change needs all of it) */
	rq_hdr(&r, RTM_NEWADDR, NLM_F_REQUEST | NLM_F_ACK, 5, "\2", 1);
	r.len = NLMSG_HDRLEN + 4;
	CHECK_EQ(do_ack(vi, &r, &c), -EINVAL);
	/* an unknown type */
	rq_hdr(&r, 0x7777, NLM_F_REQUEST | NLM_F_ACK, 6, &ifi, sizeof(ifi));
	CHECK_EQ(do_ack(vi, &r, &c), -EOPNOTSUPP);
	/* a veth peer too short for its ifinfomsg */
	rq_hdr(&r, RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE, 7, &ifi,
	       sizeof(ifi));
	rq_str(&r, IFLA_IFNAME, "p0");
	rq_nest(&r, IFLA_LINKINFO);
	rq_str(&r, IFLA_INFO_KIND, "veth");
	rq_nest(&r, IFLA_INFO_DATA);
	rq_attr(&r, VETH_INFO_PEER, "\0\0\0\0", 4);
	rq_end_nest(&r);
	rq_end_nest(&r);
	CHECK_EQ(do_ack(vi, &r, &c), -EINVAL);
	CHECK(vif_lookup(vi, "p0") == NULL);
	/* an interface name without room for its NUL */
	rq_hdr(&r, RTM_GETLINK, NLM_F_REQUEST, 8, &ifi, sizeof(ifi));
	rq_attr(&r, IFLA_IFNAME, "0123456789abcdefgh", 18);
	CHECK_EQ(do_ack(vi, &r, &c), -EINVAL);
	/* every length of a good request, cut: never a crash, always an
	 * answer or silence */
	for (size_t len = 0; len <= sizeof(ip_veth_add); len++) {
		memcpy(buf, ip_veth_add, sizeof(ip_veth_add));
		((struct nlmsghdr *)buf)->nlmsg_len = (uint32_t)len;
		talk(vi, buf, sizeof(ip_veth_add), &c);
		if (vif_lookup(vi, "v0"))
			vif_destroy(vif_lookup(vi, "v0"));
	}
	/* random bytes */
	for (int round = 0; round < 2000; round++) {
		uint64_t x = world_random(w);
		size_t len = 16 + (x % 200);

		for (size_t i = 0; i < len; i++)
			buf[i] = (uint8_t)(world_random(w) >> 13);
		((struct nlmsghdr *)buf)->nlmsg_len = (uint32_t)(x >> 8) % (len + 8);
		((struct nlmsghdr *)buf)->nlmsg_type = (uint16_t)(16 + (x >> 20) % 80);
		((struct nlmsghdr *)buf)->nlmsg_flags |= NLM_F_REQUEST;
		talk(vi, buf, len, &c);
	}
	cap_free(&c);
	world_destroy(w);
}

TEST(rtnl_ext_ack_message_and_cap_ack)
{
	struct vimage *vi;
	struct world *w = mkworld(&vi);
	struct cap c = {0};
	struct rtnl_out out = {cap_emit, &c};
	const struct nlmsghdr *m[4];
	const struct nlattr *a;

	CHECK_EQ(rtnl_request_opts(vi, PORTID, ip_probe, sizeof(ip_probe),
				   RTNL_F_EXT_ACK | RTNL_F_CAP_ACK, &out), 0);
	REQUIRE_EQ(cap_msgs(&c, m, 4), 1);
	CHECK(m[0]->nlmsg_flags & NLM_F_CAPPED);
	CHECK(m[0]->nlmsg_flags & NLM_F_ACK_TLVS);
	a = find_attr((const uint8_t *)m[0] + 36, m[0]->nlmsg_len - 36,
		      NLMSGERR_ATTR_MSG);
	REQUIRE(a);
	CHECK(strlen(adata(a)) > 0);
	cap_free(&c);
	world_destroy(w);
}

/* ---- traffic control: tc(8) and the shaper ---------------------------------------- */
/* Requests captured from Debian 12's tc (iproute2 6.1) with strace in a
 * network namespace (device index 3 there, patched to the test's by
 * tc_req). tc qdisc add dev e0 root netem delay 10ms 2ms loss 1%
 * duplicate 0.5% reorder 5% limit 1000 rate 10mbit: */
static const uint8_t tc_netem_full[108] = {
	0x6c, 0, 0, 0, 0x24, 0, 0x05, 0x06, 0xe0, 0x7f, 0x05, 0x6b, 0, 0, 0, 0,
	0, 0, 0, 0, 0x03, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0,
	0x0a, 0, 0x01, 0, 'n', 'e', 't', 'e', 'm', 0, 0, 0,
	0x3c, 0, 0x02, 0,
	0x5a, 0x62, 0x02, 0, 0xe8, 0x03, 0, 0, 0x29, 0x5c, 0x8f, 0x02,
	0x01, 0, 0, 0, 0x14, 0xae, 0x47, 0x01, 0x12, 0x7a, 0, 0,
	0x0c, 0, 0x03, 0, 0xcd, 0xcc, 0xcc, 0x0c, 0, 0, 0, 0,
	0x14, 0, 0x06, 0, 0xd0, 0x12, 0x13, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};
/* tc qdisc add dev e0 root netem delay 10ms */
static const uint8_t tc_netem_10ms[76] = {
	0x4c, 0, 0, 0, 0x24, 0, 0x05, 0x06, 0xe0, 0x7f, 0x05, 0x6b, 0, 0, 0, 0,
	0, 0, 0, 0, 0x03, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0,
	0x0a, 0, 0x01, 0, 'n', 'e', 't', 'e', 'm', 0, 0, 0,
	0x1c, 0, 0x02, 0,
	0x5a, 0x62, 0x02, 0, 0xe8, 0x03, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};
/* tc qdisc change dev e0 root netem delay 20ms (flags: no CREATE) */
static const uint8_t tc_netem_change_20ms[76] = {
	0x4c, 0, 0, 0, 0x24, 0, 0x05, 0, 0xe0, 0x7f, 0x05, 0x6b, 0, 0, 0, 0,
	0, 0, 0, 0, 0x03, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0,
	0x0a, 0, 0x01, 0, 'n', 'e', 't', 'e', 'm', 0, 0, 0,
	0x1c, 0, 0x02, 0,
	0xb4, 0xc4, 0x04, 0, 0xe8, 0x03, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};
/* tc qdisc replace dev e0 root netem delay 20ms (CREATE|REPLACE) */
static const uint8_t tc_netem_replace_20ms[76] = {
	0x4c, 0, 0, 0, 0x24, 0, 0x05, 0x05, 0xe0, 0x7f, 0x05, 0x6b, 0, 0, 0, 0,
	0, 0, 0, 0, 0x03, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0,
	0x0a, 0, 0x01, 0, 'n', 'e', 't', 'e', 'm', 0, 0, 0,
	0x1c, 0, 0x02, 0,
	0xb4, 0xc4, 0x04, 0, 0xe8, 0x03, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};
/* tc qdisc del dev e0 root */
static const uint8_t tc_del_root[36] = {
	0x24, 0, 0, 0, 0x25, 0, 0x05, 0, 0xe0, 0x7f, 0x05, 0x6b, 0, 0, 0, 0,
	0, 0, 0, 0, 0x03, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0,
};
/* tc qdisc show dev e0 (tc filters by device itself) */
static const uint8_t tc_show[36] = {
	0x24, 0, 0, 0, 0x26, 0, 0x01, 0x03, 0xe0, 0x7f, 0x05, 0x6b, 0, 0, 0, 0,
	0, 0, 0, 0, 0x03, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};
/* tc qdisc add dev e0 root netem delay 10ms 2ms 25% (a correlation) */
static const uint8_t tc_netem_corr[92] = {
	0x5c, 0, 0, 0, 0x24, 0, 0x05, 0x06, 0xe0, 0x7f, 0x05, 0x6b, 0, 0, 0, 0,
	0, 0, 0, 0, 0x03, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0,
	0x0a, 0, 0x01, 0, 'n', 'e', 't', 'e', 'm', 0, 0, 0,
	0x2c, 0, 0x02, 0,
	0x5a, 0x62, 0x02, 0, 0xe8, 0x03, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0x12, 0x7a, 0, 0,
	0x10, 0, 0x01, 0, 0, 0, 0, 0x40, 0, 0, 0, 0, 0, 0, 0, 0,
};
/* tc qdisc add dev e0 root netem loss state 1% 10% */
static const uint8_t tc_netem_loss_state[104] = {
	0x68, 0, 0, 0, 0x24, 0, 0x05, 0x06, 0xe0, 0x7f, 0x05, 0x6b, 0, 0, 0, 0,
	0, 0, 0, 0, 0x03, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0,
	0x0a, 0, 0x01, 0, 'n', 'e', 't', 'e', 'm', 0, 0, 0,
	0x38, 0, 0x02, 0,
	0, 0, 0, 0, 0xe8, 0x03, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0x1c, 0, 0x05, 0x80, 0x18, 0, 0x01, 0, 0x29, 0x5c, 0x8f, 0x02,
	0x9a, 0x99, 0x99, 0x19, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff,
};
/* tc qdisc add dev e0 ingress */
static const uint8_t tc_ingress[48] = {
	0x30, 0, 0, 0, 0x24, 0, 0x05, 0x06, 0xe0, 0x7f, 0x05, 0x6b, 0, 0, 0, 0,
	0, 0, 0, 0, 0x03, 0, 0, 0, 0, 0, 0xff, 0xff, 0xf1, 0xff, 0xff, 0xff, 0, 0, 0, 0,
	0x0c, 0, 0x01, 0, 'i', 'n', 'g', 'r', 'e', 's', 's', 0,
};
/* tc qdisc add dev e0 root handle 1: netem delay 1ms */
static const uint8_t tc_netem_handle1[76] = {
	0x4c, 0, 0, 0, 0x24, 0, 0x05, 0x06, 0xe0, 0x7f, 0x05, 0x6b, 0, 0, 0, 0,
	0, 0, 0, 0, 0x03, 0, 0, 0, 0, 0, 0x01, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0,
	0x0a, 0, 0x01, 0, 'n', 'e', 't', 'e', 'm', 0, 0, 0,
	0x1c, 0, 0x02, 0,
	0x09, 0x3d, 0, 0, 0xe8, 0x03, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};
/* tc qdisc add dev e0 root tbf rate 10mbit burst 32kbit latency 400ms:
 * TCA_TBF_PARMS and TCA_TBF_BURST as captured; the 1024-byte
 * TCA_TBF_RTAB that follows them is rebuilt zeroed (nobody reads it). */
static const uint8_t tc_tbf_parms[36] = {
	0x03, 0x01, 0, 0, 0xff, 0xff, 0, 0, 0xd0, 0x12, 0x13, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0x20, 0xb1, 0x07, 0, 0xf3, 0xc7, 0, 0, 0, 0, 0, 0,
};

struct bigreq {
	uint8_t b[1200] __attribute__((aligned(4)));
	size_t len;
};

static void big_attr(struct bigreq *r, uint16_t type, const void *d, size_t n)
{
	struct nlattr a = {.nla_len = (uint16_t)(NLA_HDRLEN + n), .nla_type = type};

	memcpy(r->b + r->len, &a, sizeof(a));
	if (d)
		memcpy(r->b + r->len + NLA_HDRLEN, d, n);
	else
		memset(r->b + r->len + NLA_HDRLEN, 0, n);
	r->len += NLA_ALIGN(NLA_HDRLEN + n);
}

/* tbf as tc sends it (1124 bytes), flags as given. */
static void *tc_tbf(struct bigreq *r, unsigned ifindex, uint16_t flags)
{
	struct nlmsghdr h = {.nlmsg_type = RTM_NEWQDISC, .nlmsg_flags = flags,
			     .nlmsg_seq = SEQ};
	struct tcmsg t = {.tcm_ifindex = (int)ifindex, .tcm_parent = TC_H_ROOT};
	uint32_t burst = 4096;
	size_t opt;

	memset(r, 0, sizeof(*r));
	memcpy(r->b + NLMSG_HDRLEN, &t, sizeof(t));
	r->len = NLMSG_HDRLEN + sizeof(t);
	big_attr(r, TCA_KIND, "tbf", 4);
	opt = r->len;
	big_attr(r, TCA_OPTIONS, NULL, 0);
	big_attr(r, TCA_TBF_PARMS, tc_tbf_parms, sizeof(tc_tbf_parms));
	big_attr(r, TCA_TBF_BURST, &burst, 4);
	big_attr(r, TCA_TBF_RTAB, NULL, 1024);
	((struct nlattr *)(r->b + opt))->nla_len = (uint16_t)(r->len - opt);
	h.nlmsg_len = (uint32_t)r->len;
	memcpy(r->b, &h, sizeof(h));
	REQUIRE_EQ(r->len, 1124);
	return r->b;
}

/* A captured request with the device index patched in. */
static const void *tc_req(uint8_t *buf, const uint8_t *req, size_t len,
			  unsigned ifindex)
{
	int32_t idx = (int32_t)ifindex;

	memcpy(buf, req, len);
	memcpy(buf + NLMSG_HDRLEN + 4, &idx, 4);
	return buf;
}

/* Send one captured tc request; the errno of its ack. */
static int tc_do(struct vimage *vi, struct cap *c, const uint8_t *req,
		 size_t len, unsigned ifindex)
{
	uint8_t buf[256] __attribute__((aligned(4)));
	const void *m = tc_req(buf, req, len, ifindex);

	REQUIRE(len <= sizeof(buf));
	CHECK_EQ(talk(vi, m, len, c), 0);
	return answer_errno(c, m);
}

/* The same with NETLINK_EXT_ACK; the errno, and the message in msg. */
static int tc_do_ext(struct vimage *vi, struct cap *c, const uint8_t *req,
		     size_t len, unsigned ifindex, char *msg, size_t msglen)
{
	uint8_t buf[256] __attribute__((aligned(4)));
	const void *m = tc_req(buf, req, len, ifindex);
	struct rtnl_out out = {cap_emit, c};
	const struct nlmsghdr *r[4];
	const struct nlmsgerr *e;
	const struct nlattr *a;
	size_t off;

	cap_free(c);
	CHECK_EQ(rtnl_request_opts(vi, PORTID, m, len, RTNL_F_EXT_ACK, &out), 0);
	REQUIRE_EQ(cap_msgs(c, r, 4), 1);
	REQUIRE_EQ(r[0]->nlmsg_type, NLMSG_ERROR);
	e = NLMSG_DATA(r[0]);
	msg[0] = 0;
	off = NLMSG_HDRLEN + sizeof(*e) - sizeof(e->msg) + NLMSG_ALIGN(len);
	if (e->error && (r[0]->nlmsg_flags & NLM_F_ACK_TLVS)) {
		a = find_attr((const uint8_t *)r[0] + off, r[0]->nlmsg_len - off,
			      NLMSGERR_ATTR_MSG);
		if (a)
			snprintf(msg, msglen, "%s", (const char *)adata(a));
	}
	return e->error;
}

/* The qdisc messages of a dump (tc qdisc show). */
static int tc_dump(struct vimage *vi, struct cap *c, const struct nlmsghdr **m,
		   int max)
{
	int n = dump(vi, tc_show, sizeof(tc_show), c, m, max);

	for (int i = 0; i < n; i++)
		CHECK_EQ(m[i]->nlmsg_type, RTM_NEWQDISC);
	return n;
}

/* The message of the qdisc of ifindex in a dump, or NULL. */
static const struct nlmsghdr *tc_find(const struct nlmsghdr **m, int n,
				      unsigned ifindex)
{
	for (int i = 0; i < n; i++) {
		const struct tcmsg *t = NLMSG_DATA(m[i]);

		if (t->tcm_ifindex == (int)ifindex)
			return m[i];
	}
	return NULL;
}

static const char *tc_kind(const struct nlmsghdr *h)
{
	const struct nlattr *a = msg_attr(h, sizeof(struct tcmsg), TCA_KIND);

	REQUIRE(a);
	return adata(a);
}

TEST(rtnl_tc_psched_renders_as_linux)
{
	struct vimage *vi;
	struct world *w = mkworld(&vi);
	char *out;
	size_t len;

	REQUIRE(procnet_render(vi, "psched", NULL, NULL, &out, &len) == 0);
	CHECK_STR(out, "000003e8 00000040 000f4240 3b9aca00\n");
	CHECK_EQ(len, 36);
	free(out);
	CHECK(procnet_path("/proc/net/psched", NULL));
	world_destroy(w);
}

TEST(rtnl_tc_noqueue_dump_and_del_without_qdisc)
{
	struct vimage *vi;
	struct world *w = mkworld(&vi);
	struct cap c = {0};
	const struct nlmsghdr *m[16], *h;
	struct ifnet *e1, *e0 = mk_ve(vi, "e0", "e1", &e1);
	const struct tcmsg *t;
	char msg[128];
	int n;

	REQUIRE(vif_set_up(e0, true) == 0);
	/* lo0 and e0 are up: noqueue; e1 is down: the noop qdisc, hidden */
	n = tc_dump(vi, &c, m, 16);
	CHECK_EQ(n, 2);
	h = tc_find(m, n, vif_index(e0));
	REQUIRE(h);
	CHECK(tc_find(m, n, vif_index(e1)) == NULL);
	t = NLMSG_DATA(h);
	CHECK_EQ(t->tcm_handle, 0);
	CHECK_EQ(t->tcm_parent, TC_H_ROOT);
	CHECK_EQ(t->tcm_info, 2);
	CHECK_STR(tc_kind(h), "noqueue");
	CHECK(msg_attr(h, sizeof(*t), TCA_OPTIONS) == NULL);
	CHECK(msg_attr(h, sizeof(*t), TCA_STATS2) != NULL);
	CHECK(msg_attr(h, sizeof(*t), TCA_STATS) != NULL);
	CHECK_EQ(*(const uint8_t *)adata(msg_attr(h, sizeof(*t), TCA_HW_OFFLOAD)), 0);
	/* del with none: Linux's answer for a noqueue device */
	CHECK_EQ(tc_do_ext(vi, &c, tc_del_root, sizeof(tc_del_root),
			   vif_index(e0), msg, sizeof(msg)), -ENOENT);
	CHECK_STR(msg, "Cannot delete qdisc with handle of zero");
	/* change with none: -ENOENT, create needs NLM_F_CREATE */
	CHECK_EQ(tc_do(vi, &c, tc_netem_change_20ms, sizeof(tc_netem_change_20ms),
		       vif_index(e0)), -ENOENT);
	/* an unknown device */
	CHECK_EQ(tc_do(vi, &c, tc_netem_10ms, sizeof(tc_netem_10ms), 99), -ENODEV);
	cap_free(&c);
	world_destroy(w);
}

TEST(rtnl_tc_netem_add_maps_every_field_and_dumps_it_back)
{
	struct vimage *vi;
	struct world *w = mkworld(&vi);
	struct cap c = {0};
	const struct nlmsghdr *m[16], *h;
	struct ifnet *e0 = mk_ve(vi, "e0", "e1", NULL);
	struct vshaper_params p;
	const struct tcmsg *t;
	const struct nlattr *opt, *a;
	struct tc_netem_reorder ro;
	struct tc_netem_rate rate;
	int64_t lat;
	int n;

	REQUIRE(vif_set_up(e0, true) == 0);
	CHECK_EQ(tc_do(vi, &c, tc_netem_full, sizeof(tc_netem_full),
		       vif_index(e0)), 0);
	REQUIRE_EQ(vif_shaper_get(e0, VSHAPE_EGRESS, &p), 0);
	CHECK_EQ(p.bandwidth, 10000000ull);          /* 1250000 B/s */
	CHECK_EQ(p.delay_ns, 10000000ull);           /* 156250 ticks of 64 ns */
	CHECK_EQ(p.jitter_ns, 2000000ull);           /* 31250 ticks */
	CHECK_EQ(p.loss, 10000000000000000ull);      /* 1%: 42949673 / 2^32-1 */
	CHECK_EQ(p.duplicate, 5000000000000000ull);  /* 0.5% */
	CHECK_EQ(p.reorder, 50000000000000000ull);   /* 5%, gap 1 */
	CHECK_EQ(p.queue_pkts, 1000);
	CHECK_EQ(p.queue_bytes, 0);
	CHECK_EQ(p.ber, 0);

	n = tc_dump(vi, &c, m, 16);
	h = tc_find(m, n, vif_index(e0));
	REQUIRE(h);
	t = NLMSG_DATA(h);
	CHECK_EQ(t->tcm_handle, 0x80010000u);
	CHECK_EQ(t->tcm_parent, TC_H_ROOT);
	CHECK_STR(tc_kind(h), "netem");
	opt = msg_attr(h, sizeof(*t), TCA_OPTIONS);
	REQUIRE(opt);
	/* the qopt comes back byte for byte as tc sent it */
	REQUIRE(opt->nla_len >= NLA_HDRLEN + 24);
	CHECK_MEM(adata(opt), tc_netem_full + 52, 24);
	a = find_attr((const uint8_t *)adata(opt) + 24, opt->nla_len - NLA_HDRLEN - 24,
		      TCA_NETEM_REORDER);
	REQUIRE(a);
	memcpy(&ro, adata(a), sizeof(ro));
	CHECK_EQ(ro.probability, 0x0ccccccdu);
	CHECK_EQ(ro.correlation, 0);
	a = find_attr((const uint8_t *)adata(opt) + 24, opt->nla_len - NLA_HDRLEN - 24,
		      TCA_NETEM_RATE);
	REQUIRE(a);
	memcpy(&rate, adata(a), sizeof(rate));
	CHECK_EQ(rate.rate, 1250000u);
	a = find_attr((const uint8_t *)adata(opt) + 24, opt->nla_len - NLA_HDRLEN - 24,
		      TCA_NETEM_LATENCY64);
	REQUIRE(a);
	memcpy(&lat, adata(a), 8);
	CHECK_EQ(lat, 10000000);
	CHECK(find_attr((const uint8_t *)adata(opt) + 24,
			opt->nla_len - NLA_HDRLEN - 24, TCA_NETEM_LOSS) == NULL);

	/* a second add: Linux's EEXIST */
	CHECK_EQ(tc_do(vi, &c, tc_netem_10ms, sizeof(tc_netem_10ms), vif_index(e0)),
		 -EEXIST);
	/* change: netem fields from the request, the rate kept (netem_change
	 * leaves it when TCA_NETEM_RATE is absent) */
	CHECK_EQ(tc_do(vi, &c, tc_netem_change_20ms, sizeof(tc_netem_change_20ms),
		       vif_index(e0)), 0);
	REQUIRE_EQ(vif_shaper_get(e0, VSHAPE_EGRESS, &p), 0);
	CHECK_EQ(p.delay_ns, 20000000ull);
	CHECK_EQ(p.jitter_ns, 0);
	CHECK_EQ(p.loss, 0);
	CHECK_EQ(p.duplicate, 0);
	CHECK_EQ(p.reorder, 0);
	CHECK_EQ(p.bandwidth, 10000000ull);
	/* replace of the same kind is a change too */
	CHECK_EQ(tc_do(vi, &c, tc_netem_replace_20ms, sizeof(tc_netem_replace_20ms),
		       vif_index(e0)), 0);
	REQUIRE_EQ(vif_shaper_get(e0, VSHAPE_EGRESS, &p), 0);
	CHECK_EQ(p.delay_ns, 20000000ull);
	/* the link says so too */
	{
		struct ifinfomsg ifi = {.ifi_index = (int)vif_index(e0)};
		struct req r;
		const struct nlmsghdr *lm[4];

		rq_hdr(&r, RTM_GETLINK, NLM_F_REQUEST, SEQ, &ifi, sizeof(ifi));
		CHECK_EQ(talk(vi, rq_done(&r), r.len, &c), 0);
		REQUIRE_EQ(cap_msgs(&c, lm, 4), 1);
		a = msg_attr(lm[0], sizeof(ifi), IFLA_QDISC);
		REQUIRE(a);
		CHECK_STR(adata(a), "netem");
	}
	/* del, then del again */
	CHECK_EQ(tc_do(vi, &c, tc_del_root, sizeof(tc_del_root), vif_index(e0)), 0);
	CHECK_EQ(vif_shaper_get(e0, VSHAPE_EGRESS, &p), -ENOENT);
	CHECK_EQ(tc_do(vi, &c, tc_del_root, sizeof(tc_del_root), vif_index(e0)),
		 -ENOENT);
	n = tc_dump(vi, &c, m, 16);
	h = tc_find(m, n, vif_index(e0));
	REQUIRE(h);
	CHECK_STR(tc_kind(h), "noqueue");
	cap_free(&c);
	world_destroy(w);
}

TEST(rtnl_tc_netem_dump_of_shaper_set_elsewhere_and_stats)
{
	struct vimage *vi;
	struct world *w = mkworld(&vi);
	struct cap c = {0};
	const struct nlmsghdr *m[16], *h;
	struct ifnet *e0 = mk_ve(vi, "e0", "e1", NULL);
	struct vshaper_params p = {.delay_ns = 5000000, .loss = VSHAPE_PROB_ONE / 100,
				   .duplicate = VSHAPE_PROB_ONE,
				   .bandwidth = 80000000000ull};
	struct tc_netem_qopt qo;
	const struct nlattr *opt, *a, *st2;
	struct gnet_stats_basic sb;
	uint64_t r64;
	int n;

	/* a shaper set through vimage(8), on a down device: still shown */
	REQUIRE(vif_shaper_set(e0, VSHAPE_EGRESS, &p) == 0);
	n = tc_dump(vi, &c, m, 16);
	h = tc_find(m, n, vif_index(e0));
	REQUIRE(h);
	CHECK_STR(tc_kind(h), "netem");
	opt = msg_attr(h, sizeof(struct tcmsg), TCA_OPTIONS);
	REQUIRE(opt);
	memcpy(&qo, adata(opt), sizeof(qo));
	CHECK_EQ(qo.latency, 78125u);
	CHECK_EQ(qo.loss, 42949673u);
	CHECK_EQ(qo.duplicate, 0xffffffffu);
	CHECK_EQ(qo.gap, 0);
	CHECK_EQ(qo.limit, 0);
	/* 10 GB/s does not fit in 32 bits: RATE64 and rate ~0 */
	a = find_attr((const uint8_t *)adata(opt) + 24, opt->nla_len - NLA_HDRLEN - 24,
		      TCA_NETEM_RATE64);
	REQUIRE(a);
	memcpy(&r64, adata(a), 8);
	CHECK_EQ(r64, 10000000000ull);
	st2 = msg_attr(h, sizeof(struct tcmsg), TCA_STATS2);
	REQUIRE(st2);
	a = find_attr(adata(st2), st2->nla_len - NLA_HDRLEN, TCA_STATS_BASIC);
	REQUIRE(a);
	memcpy(&sb, adata(a), sizeof(sb));
	CHECK_EQ(sb.packets, 0);
	REQUIRE(find_attr(adata(st2), st2->nla_len - NLA_HDRLEN, TCA_STATS_QUEUE));
	cap_free(&c);
	world_destroy(w);
}

TEST(rtnl_tc_tbf_maps_to_rate_and_byte_limit)
{
	struct vimage *vi;
	struct world *w = mkworld(&vi);
	struct cap c = {0};
	const struct nlmsghdr *m[16], *h;
	struct ifnet *e0 = mk_ve(vi, "e0", "e1", NULL);
	struct vshaper_params p;
	struct bigreq br;
	struct tc_tbf_qopt qo;
	const struct nlattr *opt, *a;
	void *req;
	int n;

	REQUIRE(vif_set_up(e0, true) == 0);
	req = tc_tbf(&br, vif_index(e0),
		     NLM_F_REQUEST | NLM_F_ACK | NLM_F_EXCL | NLM_F_CREATE);
	CHECK_EQ(talk(vi, req, br.len, &c), 0);
	CHECK_EQ(answer_errno(&c, req), 0);
	REQUIRE_EQ(vif_shaper_get(e0, VSHAPE_EGRESS, &p), 0);
	CHECK_EQ(p.bandwidth, 10000000ull);
	CHECK_EQ(p.queue_bytes, 504096ull); /* 1250000 B/s x 0.4 s + 4096 */
	CHECK_EQ(p.queue_pkts, 0);
	CHECK_EQ(p.delay_ns, 0);
	n = tc_dump(vi, &c, m, 16);
	h = tc_find(m, n, vif_index(e0));
	REQUIRE(h);
	CHECK_STR(tc_kind(h), "tbf");
	opt = msg_attr(h, sizeof(struct tcmsg), TCA_OPTIONS);
	REQUIRE(opt);
	a = find_attr(adata(opt), opt->nla_len - NLA_HDRLEN, TCA_TBF_PARMS);
	REQUIRE(a);
	memcpy(&qo, adata(a), sizeof(qo));
	CHECK_EQ(qo.rate.rate, 1250000u);
	CHECK_EQ(qo.rate.linklayer, TC_LINKLAYER_ETHERNET);
	CHECK_EQ(qo.limit, 504096u);
	CHECK_EQ(qo.peakrate.rate, 0);
	/* the burst shown: one 1514-byte frame at 10 Mbit/s, 1211.2 us,
	 * rounded up to 1212 us, in 64 ns ticks rounded up */
	CHECK_EQ(qo.buffer, 18938u);
	/* netem change on a tbf: the name must match */
	CHECK_EQ(tc_do(vi, &c, tc_netem_change_20ms, sizeof(tc_netem_change_20ms),
		       vif_index(e0)), -EINVAL);
	/* replace with netem: a new qdisc of the other kind */
	CHECK_EQ(tc_do(vi, &c, tc_netem_replace_20ms, sizeof(tc_netem_replace_20ms),
		       vif_index(e0)), 0);
	REQUIRE_EQ(vif_shaper_get(e0, VSHAPE_EGRESS, &p), 0);
	CHECK_EQ(p.delay_ns, 20000000ull);
	CHECK_EQ(p.bandwidth, 0);
	CHECK_EQ(p.queue_bytes, 0);
	CHECK_EQ(p.queue_pkts, 1000);
	cap_free(&c);
	world_destroy(w);
}

TEST(rtnl_tc_unsupported_netem_and_qdisc_variants_refused_with_message)
{
	struct vimage *vi;
	struct world *w = mkworld(&vi);
	struct cap c = {0};
	struct ifnet *e0 = mk_ve(vi, "e0", "e1", NULL);
	struct vshaper_params p;
	uint8_t dist[96] __attribute__((aligned(4)));
	char msg[160];
	int16_t table[4] = {-4096, 0, 0, 4096};

	CHECK_EQ(tc_do_ext(vi, &c, tc_netem_corr, sizeof(tc_netem_corr),
			   vif_index(e0), msg, sizeof(msg)), -EOPNOTSUPP);
	CHECK(strstr(msg, "correlation") != NULL);
	CHECK_EQ(tc_do_ext(vi, &c, tc_netem_loss_state, sizeof(tc_netem_loss_state),
			   vif_index(e0), msg, sizeof(msg)), -EOPNOTSUPP);
	CHECK(strstr(msg, "Gilbert-Elliott") != NULL);
	CHECK_EQ(tc_do_ext(vi, &c, tc_ingress, sizeof(tc_ingress), vif_index(e0),
			   msg, sizeof(msg)), -EOPNOTSUPP);
	CHECK(strstr(msg, "ingress") != NULL);
	CHECK_EQ(tc_do_ext(vi, &c, tc_netem_handle1, sizeof(tc_netem_handle1),
			   vif_index(e0), msg, sizeof(msg)), -EOPNOTSUPP);
	CHECK(strstr(msg, "handle") != NULL);
	/* delay 10ms 2ms distribution ...: the full request carries a 4096-
	 * entry table; a short one is refused the same way */
	memcpy(dist, tc_netem_full, 52);
	{
		struct nlattr a = {.nla_len = NLA_HDRLEN + 24 + NLA_HDRLEN + 8,
				   .nla_type = TCA_OPTIONS};
		struct nlattr d = {.nla_len = NLA_HDRLEN + 8,
				   .nla_type = TCA_NETEM_DELAY_DIST};
		uint32_t len = 48 + a.nla_len;

		memcpy(dist + 48, &a, 4);
		memcpy(dist + 52, tc_netem_full + 52, 24);
		memcpy(dist + 76, &d, 4);
		memcpy(dist + 80, table, 8);
		memcpy(dist, &len, 4);
		CHECK_EQ(tc_do_ext(vi, &c, dist, len, vif_index(e0), msg,
				   sizeof(msg)), -EOPNOTSUPP);
		CHECK(strstr(msg, "uniform") != NULL);
	}
	/* nothing was set by any of them */
	CHECK_EQ(vif_shaper_get(e0, VSHAPE_EGRESS, &p), -ENOENT);
	/* a short TCA_OPTIONS */
	{
		uint8_t b[76] __attribute__((aligned(4)));

		memcpy(b, tc_netem_10ms, 76);
		b[48] = 4 + 20; /* qopt cut to 20 bytes */
		b[0] = 72;
		CHECK_EQ(tc_do(vi, &c, b, 72, vif_index(e0)), -EINVAL);
	}
	cap_free(&c);
	world_destroy(w);
}

/* ---- ioctls ---------------------------------------------------------------------------- */
static void ifr_init(struct ifreq *ifr, const char *name)
{
	memset(ifr, 0, sizeof(*ifr));
	strncpy(ifr->ifr_name, name, IFNAMSIZ - 1);
}

static void ifr_sin(struct sockaddr *sa, const char *a)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)sa;

	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	REQUIRE(inet_pton(AF_INET, a, &sin->sin_addr) == 1);
}

static uint32_t sin_of(const struct sockaddr *sa)
{
	return ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr);
}

TEST(ifioctl_ifconfig_address_netmask_up)
{
	struct vimage *vi;
	struct world *w = mkworld(&vi);
	struct cap c = {0};
	const struct nlmsghdr *m[8];
	struct ifnet *e0 = mk_ve(vi, "eth0", "eth1", NULL);
	struct ifreq ifr;
	int n;

	/* ifconfig eth0 10.0.0.1 netmask 255.255.255.0 up, as net-tools
	 * issues it */
	ifr_init(&ifr, "eth0");
	ifr_sin(&ifr.ifr_addr, "10.0.0.1");
	CHECK_EQ(ifioctl(vi, SIOCSIFADDR, &ifr, sizeof(ifr)), 0);
	ifr_init(&ifr, "eth0");
	CHECK_EQ(ifioctl(vi, SIOCGIFNETMASK, &ifr, sizeof(ifr)), 0);
	CHECK_EQ(sin_of(&ifr.ifr_netmask), 0xff000000); /* classful first */
	ifr_init(&ifr, "eth0");
	CHECK_EQ(ifioctl(vi, SIOCGIFFLAGS, &ifr, sizeof(ifr)), 0);
	CHECK_EQ(ifr.ifr_flags, IFF_BROADCAST | IFF_MULTICAST);
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	CHECK_EQ(ifioctl(vi, SIOCSIFFLAGS, &ifr, sizeof(ifr)), 0);
	CHECK(vif_flags(e0) & VIFF_UP);
	ifr_init(&ifr, "eth0");
	ifr_sin(&ifr.ifr_netmask, "255.255.255.0");
	CHECK_EQ(ifioctl(vi, SIOCSIFNETMASK, &ifr, sizeof(ifr)), 0);
	ifr_init(&ifr, "eth0");
	ifr_sin(&ifr.ifr_netmask, "255.0.255.0");
	CHECK_EQ(ifioctl(vi, SIOCSIFNETMASK, &ifr, sizeof(ifr)), -EINVAL);

	/* exactly 10.0.0.1/24, as ip addr shows it */
	n = dump(vi, ip_addr_dump, sizeof(ip_addr_dump), &c, m, 8);
	REQUIRE_EQ(n, 2);
	CHECK_EQ(((const struct ifaddrmsg *)NLMSG_DATA(m[1]))->ifa_prefixlen, 24);
	CHECK_EQ(ain4(msg_attr(m[1], sizeof(struct ifaddrmsg), IFA_LOCAL)),
		 0x0a000001);

	/* what ifconfig eth0 then reads */
	ifr_init(&ifr, "eth0");
	CHECK_EQ(ifioctl(vi, SIOCGIFADDR, &ifr, sizeof(ifr)), 0);
	CHECK_EQ(ifr.ifr_addr.sa_family, AF_INET);
	CHECK_EQ(sin_of(&ifr.ifr_addr), 0x0a000001);
	CHECK_EQ(ifioctl(vi, SIOCGIFNETMASK, &ifr, sizeof(ifr)), 0);
	CHECK_EQ(sin_of(&ifr.ifr_netmask), 0xffffff00);
	CHECK_EQ(ifioctl(vi, SIOCGIFBRDADDR, &ifr, sizeof(ifr)), 0);
	CHECK_EQ(sin_of(&ifr.ifr_broadaddr), 0x0a0000ff);
	CHECK_EQ(ifioctl(vi, SIOCGIFDSTADDR, &ifr, sizeof(ifr)), 0);
	CHECK_EQ(sin_of(&ifr.ifr_dstaddr), 0x0a000001);
	CHECK_EQ(ifioctl(vi, SIOCGIFMTU, &ifr, sizeof(ifr)), 0);
	CHECK_EQ(ifr.ifr_mtu, 1500);
	CHECK_EQ(ifioctl(vi, SIOCGIFTXQLEN, &ifr, sizeof(ifr)), 0);
	CHECK_EQ(ifr.ifr_qlen, 1000);
	CHECK_EQ(ifioctl(vi, SIOCGIFMETRIC, &ifr, sizeof(ifr)), 0);
	CHECK_EQ(ifr.ifr_metric, 0);
	CHECK_EQ(ifioctl(vi, SIOCGIFMAP, &ifr, sizeof(ifr)), 0);
	CHECK_EQ(ifioctl(vi, SIOCGIFHWADDR, &ifr, sizeof(ifr)), 0);
	CHECK_EQ(ifr.ifr_hwaddr.sa_family, ARPHRD_ETHER);
	{
		uint8_t mac[6];

		vif_mac(e0, mac);
		CHECK_MEM(ifr.ifr_hwaddr.sa_data, mac, 6);
	}
	/* a new address replaces the first, classful again */
	ifr_init(&ifr, "eth0");
	ifr_sin(&ifr.ifr_addr, "172.16.0.9");
	CHECK_EQ(ifioctl(vi, SIOCSIFADDR, &ifr, sizeof(ifr)), 0);
	CHECK_EQ(ifioctl(vi, SIOCGIFNETMASK, &ifr, sizeof(ifr)), 0);
	CHECK_EQ(sin_of(&ifr.ifr_netmask), 0xffff0000);
	n = dump(vi, ip_addr_dump, sizeof(ip_addr_dump), &c, m, 8);
	CHECK_EQ(n, 2);
	/* 0.0.0.0 removes it */
	ifr_sin(&ifr.ifr_addr, "0.0.0.0");
	CHECK_EQ(ifioctl(vi, SIOCSIFADDR, &ifr, sizeof(ifr)), 0);
	CHECK_EQ(ifioctl(vi, SIOCGIFADDR, &ifr, sizeof(ifr)), -EADDRNOTAVAIL);
	ifr_sin(&ifr.ifr_addr, "224.0.0.1");
	CHECK_EQ(ifioctl(vi, SIOCSIFADDR, &ifr, sizeof(ifr)), -EINVAL);
	/* down */
	CHECK_EQ(ifioctl(vi, SIOCGIFFLAGS, &ifr, sizeof(ifr)), 0);
	ifr.ifr_flags &= ~IFF_UP;
	CHECK_EQ(ifioctl(vi, SIOCSIFFLAGS, &ifr, sizeof(ifr)), 0);
	CHECK(!(vif_flags(e0) & VIFF_UP));
	ifr_init(&ifr, "nosuch");
	CHECK_EQ(ifioctl(vi, SIOCGIFFLAGS, &ifr, sizeof(ifr)), -ENODEV);
	CHECK_EQ(ifioctl(vi, SIOCGIFINDEX, &ifr, sizeof(ifr)), -ENODEV);
	CHECK_EQ(ifioctl(vi, 0x89ff, &ifr, sizeof(ifr)), -EOPNOTSUPP);
	CHECK_EQ(ifioctl(vi, SIOCGIFFLAGS, &ifr, 8), -EINVAL);
	cap_free(&c);
	world_destroy(w);
}

TEST(ifioctl_index_name_mtu_rename_hwaddr)
{
	struct vimage *vi;
	struct world *w = mkworld(&vi);
	struct ifnet *e0 = mk_ve(vi, "eth0", "eth1", NULL);
	struct ifreq ifr;

	ifr_init(&ifr, "eth0");
	CHECK_EQ(ifioctl(vi, SIOCGIFINDEX, &ifr, sizeof(ifr)), 0);
	CHECK_EQ(ifr.ifr_ifindex, (int)vif_index(e0));
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_ifindex = 1;
	CHECK_EQ(ifioctl(vi, SIOCGIFNAME, &ifr, sizeof(ifr)), 0);
	CHECK_STR(ifr.ifr_name, "lo0");
	ifr.ifr_ifindex = 77;
	CHECK_EQ(ifioctl(vi, SIOCGIFNAME, &ifr, sizeof(ifr)), -ENODEV);
	ifr_init(&ifr, "lo0");
	CHECK_EQ(ifioctl(vi, SIOCGIFHWADDR, &ifr, sizeof(ifr)), 0);
	CHECK_EQ(ifr.ifr_hwaddr.sa_family, ARPHRD_LOOPBACK);
	CHECK_EQ(ifioctl(vi, SIOCGIFFLAGS, &ifr, sizeof(ifr)), 0);
	CHECK_EQ(ifr.ifr_flags, IFF_UP | IFF_LOOPBACK | IFF_RUNNING);
	ifr_init(&ifr, "eth0");
	ifr.ifr_mtu = 9000;
	CHECK_EQ(ifioctl(vi, SIOCSIFMTU, &ifr, sizeof(ifr)), 0);
	CHECK_EQ(vif_mtu(e0), 9000);
	ifr.ifr_mtu = 20;
	CHECK_EQ(ifioctl(vi, SIOCSIFMTU, &ifr, sizeof(ifr)), -EINVAL);
	ifr_init(&ifr, "eth0");
	strcpy(ifr.ifr_newname, "wan0");
	CHECK_EQ(ifioctl(vi, SIOCSIFNAME, &ifr, sizeof(ifr)), 0);
	CHECK(vif_lookup(vi, "wan0") == e0);
	ifr_init(&ifr, "wan0");
	strcpy(ifr.ifr_newname, "eth1");
	CHECK_EQ(ifioctl(vi, SIOCSIFNAME, &ifr, sizeof(ifr)), -EEXIST);
	ifr_init(&ifr, "wan0");
	ifr.ifr_hwaddr.sa_family = ARPHRD_ETHER;
	memcpy(ifr.ifr_hwaddr.sa_data, "\x02\x11\x22\x33\x44\x55", 6);
	CHECK_EQ(ifioctl(vi, SIOCSIFHWADDR, &ifr, sizeof(ifr)), 0);
	{
		uint8_t mac[6];

		vif_mac(e0, mac);
		CHECK_MEM(mac, "\x02\x11\x22\x33\x44\x55", 6);
	}
	world_destroy(w);
}

TEST(ifioctl_gifconf)
{
	struct vimage *vi;
	struct world *w = mkworld(&vi);
	struct ifnet *e0 = mk_ve(vi, "eth0", "eth1", NULL);
	struct vaddr a = VADDR4(10, 0, 0, 1);
	union {
		struct ifconf_flat fc;
		uint8_t b[sizeof(struct ifconf_flat) + 3 * sizeof(struct ifreq)];
	} u;
	struct ifreq r[3];

	REQUIRE(vif_addr_add(e0, &a, 24) == 0);
	memset(&u, 0, sizeof(u));
	u.fc.null_buf = 1;
	CHECK_EQ(ifioctl(vi, SIOCGIFCONF, &u, sizeof(struct ifconf_flat)), 0);
	CHECK_EQ(u.fc.len, 2 * (int)sizeof(struct ifreq));
	memset(&u, 0, sizeof(u));
	u.fc.len = 3 * sizeof(struct ifreq);
	CHECK_EQ(ifioctl(vi, SIOCGIFCONF, &u, sizeof(u)), 0);
	REQUIRE_EQ(u.fc.len, 2 * (int)sizeof(struct ifreq));
	memcpy(r, u.fc.buf, 2 * sizeof(struct ifreq));
	CHECK_STR(r[0].ifr_name, "lo0");
	CHECK_EQ(sin_of(&r[0].ifr_addr), 0x7f000001);
	CHECK_STR(r[1].ifr_name, "eth0");
	CHECK_EQ(sin_of(&r[1].ifr_addr), 0x0a000001);
	/* room for one: one */
	memset(&u, 0, sizeof(u));
	u.fc.len = sizeof(struct ifreq) + 10;
	CHECK_EQ(ifioctl(vi, SIOCGIFCONF, &u, sizeof(u)), 0);
	CHECK_EQ(u.fc.len, (int)sizeof(struct ifreq));
	/* a length beyond what was handed in */
	u.fc.len = 4096;
	CHECK_EQ(ifioctl(vi, SIOCGIFCONF, &u, sizeof(u)), -EINVAL);
	world_destroy(w);
}

TEST(ifioctl_route_add_del)
{
	struct vimage *vi;
	struct world *w = mkworld(&vi);
	struct ifnet *e0 = mk_ve(vi, "eth0", "eth1", NULL);
	struct vaddr a = VADDR4(10, 0, 0, 1), d = VADDR4(10, 1, 5, 5);
	struct rtentry_flat fl;
	struct vroute rt;

	REQUIRE(vif_addr_add(e0, &a, 24) == 0);
	/* route add -net 10.1.0.0 netmask 255.255.0.0 gw 10.0.0.2 */
	memset(&fl, 0, sizeof(fl));
	ifr_sin(&fl.rt.rt_dst, "10.1.0.0");
	ifr_sin(&fl.rt.rt_genmask, "255.255.0.0");
	ifr_sin(&fl.rt.rt_gateway, "10.0.0.2");
	fl.rt.rt_flags = RTF_UP | RTF_GATEWAY;
	CHECK_EQ(ifioctl(vi, SIOCADDRT, &fl, sizeof(fl)), 0);
	CHECK_EQ(vroute_get(vi, &d, &rt), 0);
	CHECK_EQ(rt.plen, 16);
	CHECK_EQ(rt.gw.v4, 0x0a000002);
	CHECK(rt.ifp == e0);
	CHECK_EQ(ifioctl(vi, SIOCADDRT, &fl, sizeof(fl)), -EEXIST);
	/* host bits under the mask */
	ifr_sin(&fl.rt.rt_dst, "10.1.0.1");
	CHECK_EQ(ifioctl(vi, SIOCADDRT, &fl, sizeof(fl)), -EINVAL);
	ifr_sin(&fl.rt.rt_dst, "10.1.0.0");
	CHECK_EQ(ifioctl(vi, SIOCDELRT, &fl, sizeof(fl)), 0);
	CHECK_EQ(ifioctl(vi, SIOCDELRT, &fl, sizeof(fl)), -ESRCH);
	/* route add -host 10.9.9.9 dev eth0 */
	memset(&fl, 0, sizeof(fl));
	ifr_sin(&fl.rt.rt_dst, "10.9.9.9");
	fl.rt.rt_flags = RTF_UP | RTF_HOST;
	strcpy(fl.dev, "eth0");
	CHECK_EQ(ifioctl(vi, SIOCADDRT, &fl, sizeof(fl)), 0);
	d = VADDR4(10, 9, 9, 9);
	CHECK_EQ(vroute_get(vi, &d, &rt), 0);
	CHECK_EQ(rt.plen, 32);
	strcpy(fl.dev, "nosuch");
	CHECK_EQ(ifioctl(vi, SIOCADDRT, &fl, sizeof(fl)), -ENODEV);
	/* gateway flag without a gateway; another family */
	memset(&fl, 0, sizeof(fl));
	ifr_sin(&fl.rt.rt_dst, "0.0.0.0");
	fl.rt.rt_flags = RTF_UP | RTF_GATEWAY;
	CHECK_EQ(ifioctl(vi, SIOCADDRT, &fl, sizeof(fl)), -EINVAL);
	fl.rt.rt_dst.sa_family = AF_INET6;
	CHECK_EQ(ifioctl(vi, SIOCADDRT, &fl, sizeof(fl)), -EAFNOSUPPORT);
	CHECK_EQ(ifioctl(vi, SIOCADDRT, &fl, sizeof(fl) - 1), -EINVAL);
	world_destroy(w);
}

TEST(ifioctl_arp_set_get_del)
{
	struct vimage *vi;
	struct world *w = mkworld(&vi);
	struct ifnet *e0 = mk_ve(vi, "eth0", "eth1", NULL);
	struct vaddr a = VADDR4(10, 0, 0, 1);
	struct arpreq r;
	int cnt = 0;

	REQUIRE(vif_addr_add(e0, &a, 24) == 0);
	/* arp -s 10.0.0.7 02:00:00:00:00:07 (no device: by route) */
	memset(&r, 0, sizeof(r));
	ifr_sin(&r.arp_pa, "10.0.0.7");
	r.arp_ha.sa_family = ARPHRD_ETHER;
	memcpy(r.arp_ha.sa_data, "\x02\0\0\0\0\x07", 6);
	r.arp_flags = ATF_PERM | ATF_COM;
	CHECK_EQ(ifioctl(vi, SIOCSARP, &r, sizeof(r)), 0);
	vneigh_walk(vi, count_neigh, &cnt);
	CHECK_EQ(cnt, 1);
	/* SIOCGARP needs a device */
	memset(&r.arp_ha, 0, sizeof(r.arp_ha));
	r.arp_flags = 0;
	CHECK_EQ(ifioctl(vi, SIOCGARP, &r, sizeof(r)), -ENODEV);
	strcpy(r.arp_dev, "eth0");
	CHECK_EQ(ifioctl(vi, SIOCGARP, &r, sizeof(r)), 0);
	CHECK_EQ(r.arp_ha.sa_family, ARPHRD_ETHER);
	CHECK_MEM(r.arp_ha.sa_data, "\x02\0\0\0\0\x07", 6);
	CHECK_EQ(r.arp_flags, ATF_COM | ATF_PERM);
	/* off-link: the route decides */
	memset(&r, 0, sizeof(r));
	ifr_sin(&r.arp_pa, "192.0.2.1");
	r.arp_ha.sa_family = ARPHRD_ETHER;
	CHECK_EQ(ifioctl(vi, SIOCSARP, &r, sizeof(r)), -ENETUNREACH);
	/* arp -d 10.0.0.7 */
	memset(&r, 0, sizeof(r));
	ifr_sin(&r.arp_pa, "10.0.0.7");
	CHECK_EQ(ifioctl(vi, SIOCDARP, &r, sizeof(r)), 0);
	CHECK_EQ(ifioctl(vi, SIOCDARP, &r, sizeof(r)), -ENXIO);
	r.arp_pa.sa_family = AF_INET6;
	CHECK_EQ(ifioctl(vi, SIOCDARP, &r, sizeof(r)), -EPFNOSUPPORT);
	cnt = 0;
	vneigh_walk(vi, count_neigh, &cnt);
	CHECK_EQ(cnt, 0);
	world_destroy(w);
}

/* ---- leaks ------------------------------------------------------------------------------ */
TEST(rtnl_everything_made_is_destroyed)
{
	struct vimage *vi;
	struct world *w = mkworld(&vi);
	struct cap c = {0};
	struct world_counts wc;
	struct ifinfomsg ifi = {0};
	struct req r;
	static const uint8_t mac[6] = {2, 0, 0, 0, 0, 7};
	struct ndmsg nd = {.ndm_family = AF_INET, .ndm_state = NUD_PERMANENT};
	struct ifnet *v0;

	CHECK_EQ(talk(vi, ip_veth_add, sizeof(ip_veth_add), &c), 0);
	CHECK_EQ(talk(vi, ip_bridge_add, sizeof(ip_bridge_add), &c), 0);
	v0 = vif_lookup(vi, "v0");
	REQUIRE(v0);
	CHECK_EQ(addr_add(vi, &c, vif_index(v0), "10.0.0.1", 24, true), 0);
	CHECK_EQ(talk(vi, ip_route_add_via, sizeof(ip_route_add_via), &c), 0);
	nd.ndm_ifindex = (int)vif_index(v0);
	rq_hdr(&r, RTM_NEWNEIGH, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE, 1, &nd,
	       sizeof(nd));
	rq_in4(&r, NDA_DST, "10.0.0.7");
	rq_attr(&r, NDA_LLADDR, mac, 6);
	CHECK_EQ(do_ack(vi, &r, &c), 0);
	world_counts(w, &wc);
	CHECK_EQ(wc.neighbours, 1);
	CHECK(wc.routes > 3);

	/* ip link del v0 (takes v1), ip link del br0 */
	ifi.ifi_index = (int)vif_index(v0);
	rq_hdr(&r, RTM_DELLINK, NLM_F_REQUEST | NLM_F_ACK, 2, &ifi, sizeof(ifi));
	CHECK_EQ(do_ack(vi, &r, &c), 0);
	ifi.ifi_index = 0;
	rq_hdr(&r, RTM_DELLINK, NLM_F_REQUEST | NLM_F_ACK, 3, &ifi, sizeof(ifi));
	rq_str(&r, IFLA_IFNAME, "br0");
	CHECK_EQ(do_ack(vi, &r, &c), 0);
	world_counts(w, &wc);
	CHECK_EQ(wc.ifnets, 2); /* both lo0 */
	CHECK_EQ(wc.neighbours, 0);
	CHECK_EQ(wc.routes, 2); /* both 127/8 */
	REQUIRE(vimage_destroy(vi) == 0);
	world_run(w);
	world_counts(w, &wc);
	CHECK_EQ(wc.vimages, 1);
	CHECK_EQ(wc.ifnets, 1);
	CHECK_EQ(wc.routes, 1);
	CHECK_EQ(wc.neighbours, 0);
	CHECK_EQ(wc.pkts, 0);
	CHECK_EQ(wc.pbufs, 0);
	CHECK_EQ(wc.timers, 0);
	cap_free(&c);
	world_destroy(w);
}
