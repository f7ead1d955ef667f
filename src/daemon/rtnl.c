/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rtnetlink emulation (see rtnl.h): requests a program sent on a
 * NETLINK_ROUTE socket, answered from the vimage's state the way Linux's
 * rtnetlink answers them, message for message, so that iproute2 cannot tell.
 *
 * The layout of every reply follows the kernel's fill functions
 * (rtnl_fill_ifinfo, inet_fill_ifaddr, fib_dump_info, neigh_fill_info);
 * attributes ip(8) never reads are left out. Dumps are produced in one go
 * (the state cannot change under us: one thread drives the world) and cut
 * into datagrams of RTNL_DGRAM_MAX bytes.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/fib_rules.h>
#include <linux/gen_stats.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/in_route.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/pkt_sched.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if_arp.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <vimage/net.h>

#include "daemon/nlmsg.h"
#include "daemon/rtnl.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---- replies --------------------------------------------------------------- */
static int rq_fail(struct nlbuf *q, int err, const char *why)
{
	q->why = why;
	return err;
}

/* IPv4 addresses travel in network order. */
static void attr_in4(struct nlbuf *q, uint16_t type, uint32_t host)
{
	uint32_t be = htonl(host);

	nl_attr_put(q, type, &be, 4);
}

/* ---- request parsing ---------------------------------------------------------- */
/* The fixed header after the nlmsghdr, zero-filled when the sender sent
 * less: old programs (glibc's getifaddrs among them) send dumps with a
 * one-byte struct rtgenmsg, which Linux accepts. */
static size_t req_hdr(const struct nlmsghdr *nlh, void *hdr, size_t size)
{
	size_t have = nlh->nlmsg_len - NLMSG_HDRLEN;

	memset(hdr, 0, size);
	if (have > size)
		have = size;
	memcpy(hdr, NLMSG_DATA(nlh), have);
	return have;
}

/* Split an attribute stream into tb (types above max are ignored, as
 * Linux's liberal parse does). Lengths must be exact: an attribute shorter
 * than its header or longer than what remains is -EINVAL, where Linux's
 * liberal parse would stop with a warning. */
static int parse_stream(const uint8_t *p, size_t len, const struct nlattr **tb,
			unsigned max)
{
	memset(tb, 0, (max + 1) * sizeof(*tb));
	while (len > 0) {
		const struct nlattr *a = (const void *)p;
		size_t step;

		if (len < NLA_HDRLEN || a->nla_len < NLA_HDRLEN || a->nla_len > len)
			return -EINVAL;
		if ((a->nla_type & NLA_TYPE_MASK) <= max)
			tb[a->nla_type & NLA_TYPE_MASK] = a;
		step = NLA_ALIGN(a->nla_len);
		if (step >= len)
			break;
		p += step;
		len -= step;
	}
	return 0;
}

/* The attributes after a fixed header of hdrlen bytes, which must be
 * complete. */
static int parse_attrs(struct nlbuf *q, const struct nlmsghdr *nlh,
		       size_t hdrlen, const struct nlattr **tb, unsigned max)
{
	size_t off = NLMSG_HDRLEN + NLMSG_ALIGN(hdrlen);

	memset(tb, 0, (max + 1) * sizeof(*tb));
	if (nlh->nlmsg_len < NLMSG_HDRLEN + hdrlen)
		return rq_fail(q, -EINVAL, "Invalid header for request");
	if (off >= nlh->nlmsg_len)
		return 0;
	if (parse_stream((const uint8_t *)nlh + off, nlh->nlmsg_len - off, tb, max))
		return rq_fail(q, -EINVAL, "Malformed attribute");
	return 0;
}

/* Dumps tolerate a short fixed header (see req_hdr); attributes count
 * only when the header is complete. */
static int parse_dump(struct nlbuf *q, const struct nlmsghdr *nlh, void *hdr,
		      size_t hdrlen, const struct nlattr **tb, unsigned max)
{
	if (req_hdr(nlh, hdr, hdrlen) < hdrlen) {
		memset(tb, 0, (max + 1) * sizeof(*tb));
		return 0;
	}
	return parse_attrs(q, nlh, hdrlen, tb, max);
}

static const void *attr_data(const struct nlattr *a)
{
	return (const uint8_t *)a + NLA_HDRLEN;
}

static size_t attr_len(const struct nlattr *a)
{
	return a->nla_len - NLA_HDRLEN;
}

/* Typed readers: absent leaves *v alone and returns 0, too short is
 * -EINVAL (Linux's policy check). */
static int get_u32(struct nlbuf *q, const struct nlattr *a, uint32_t *v)
{
	if (!a)
		return 0;
	if (attr_len(a) < 4)
		return rq_fail(q, -EINVAL, "Attribute too short");
	memcpy(v, attr_data(a), 4);
	return 0;
}

static int get_in4(struct nlbuf *q, const struct nlattr *a, uint32_t *host)
{
	uint32_t be;

	if (!a)
		return 0;
	if (attr_len(a) < 4)
		return rq_fail(q, -EINVAL, "Invalid IPv4 address");
	memcpy(&be, attr_data(a), 4);
	*host = ntohl(be);
	return 0;
}

/* A name attribute: NUL within IFNAMSIZ, as nla_strscpy with the
 * IFNAMSIZ policy. */
static int get_name(struct nlbuf *q, const struct nlattr *a, char name[VIF_NAMESIZ])
{
	size_t n;

	name[0] = 0;
	if (!a)
		return 0;
	n = strnlen(attr_data(a), attr_len(a));
	if (n >= VIF_NAMESIZ)
		return rq_fail(q, -EINVAL, "Interface name too long");
	memcpy(name, attr_data(a), n);
	name[n] = 0;
	return 0;
}

static int get_mac(struct nlbuf *q, const struct nlattr *a, uint8_t mac[6])
{
	if (attr_len(a) < 6)
		return rq_fail(q, -EINVAL, "Invalid link address");
	memcpy(mac, attr_data(a), 6);
	return 0;
}

/* A short string attribute (a kind), NUL-terminated into buf. */
static int get_str(struct nlbuf *q, const struct nlattr *a, char *buf,
		   size_t size)
{
	size_t n;

	buf[0] = 0;
	if (!a)
		return 0;
	n = strnlen(attr_data(a), attr_len(a));
	if (n >= size)
		return rq_fail(q, -EINVAL, "String attribute too long");
	memcpy(buf, attr_data(a), n);
	buf[n] = 0;
	return 0;
}

/* ---- interfaces as Linux shows them -------------------------------------------- */
static int port_has_carrier(void *ctx, struct ifnet *port)
{
	return rtnl_if_carrier(port) ? 1 : 0;
}

/* Linux's netif_carrier_ok: a veth has carrier while its peer is up, a
 * bridge while one of its ports has, loopback and external devices
 * always; nothing has while down. */
bool rtnl_if_carrier(struct ifnet *ifp)
{
	struct ifnet *peer;

	if (!(vif_flags(ifp) & VIFF_UP))
		return false;
	switch (vif_type(ifp)) {
	case VIF_VE:
		peer = vif_ve_peer(ifp);
		return peer && (vif_flags(peer) & VIFF_UP);
	case VIF_BRIDGE:
		return vif_bridge_port_walk(ifp, port_has_carrier, NULL) == 1;
	default:
		return true;
	}
}

/* dev_get_flags: RUNNING and LOWER_UP follow the carrier. */
uint32_t rtnl_if_flags(struct ifnet *ifp)
{
	uint32_t f = vif_flags(ifp) & ~(uint32_t)(IFF_RUNNING | IFF_LOWER_UP);

	if (rtnl_if_carrier(ifp))
		f |= IFF_RUNNING | IFF_LOWER_UP;
	return f;
}

static uint8_t if_operstate(struct ifnet *ifp)
{
	if (!(vif_flags(ifp) & VIFF_UP))
		return IF_OPER_DOWN;
	if (vif_type(ifp) == VIF_LOOPBACK)
		return IF_OPER_UNKNOWN; /* lo has no operstate driver */
	if (rtnl_if_carrier(ifp))
		return IF_OPER_UP;
	/* A device stacked on another (veth: iflink is the peer) waits for
	 * the lower layer; a bridge without ports is simply down. */
	return vif_type(ifp) == VIF_VE ? IF_OPER_LOWERLAYERDOWN : IF_OPER_DOWN;
}

static const char *if_kind(const struct ifnet *ifp)
{
	switch (vif_type(ifp)) {
	case VIF_VE:
		return "veth";
	case VIF_BRIDGE:
		return "bridge";
	default:
		return NULL; /* lo and external devices have no rtnl_link_ops */
	}
}

static void fill_stats(struct nlbuf *q, struct ifnet *ifp)
{
	struct vif_stats st;
	struct rtnl_link_stats64 s64 = {0};
	struct rtnl_link_stats s32 = {0};

	vif_get_stats(ifp, &st);
	s64.rx_packets = st.ipackets;
	s64.tx_packets = st.opackets;
	s64.rx_bytes = st.ibytes;
	s64.tx_bytes = st.obytes;
	s64.rx_errors = st.ierrors;
	s64.tx_errors = st.oerrors;
	s64.rx_dropped = st.idrops;
	s64.tx_dropped = st.odrops;
	s64.multicast = st.imcasts;
	/* The 32-bit copy wraps, as the kernel's copy_rtnl_link_stats. */
	s32.rx_packets = (uint32_t)s64.rx_packets;
	s32.tx_packets = (uint32_t)s64.tx_packets;
	s32.rx_bytes = (uint32_t)s64.rx_bytes;
	s32.tx_bytes = (uint32_t)s64.tx_bytes;
	s32.rx_errors = (uint32_t)s64.rx_errors;
	s32.tx_errors = (uint32_t)s64.tx_errors;
	s32.rx_dropped = (uint32_t)s64.rx_dropped;
	s32.tx_dropped = (uint32_t)s64.tx_dropped;
	s32.multicast = (uint32_t)s64.multicast;
	nl_attr_put(q, IFLA_STATS64, &s64, sizeof(s64));
	nl_attr_put(q, IFLA_STATS, &s32, sizeof(s32));
}

/* The root qdisc (see the traffic control section below). */
#define QDISC_HANDLE 0x80010000u /* 8001: */
#define PROB_U32_MAX 0xffffffffull

enum qkind { QK_NONE, QK_NETEM, QK_TBF };

static const char *qkind_name(enum qkind k, bool up)
{
	switch (k) {
	case QK_NETEM:
		return "netem";
	case QK_TBF:
		return "tbf";
	default:
		return up ? "noqueue" : "noop";
	}
}

static enum qkind shaper_kind(const struct ifnet *ifp, struct vshaper_params *p)
{
	if (vif_shaper_get(ifp, VSHAPE_EGRESS, p) != 0)
		return QK_NONE;
	if (p->bandwidth && p->queue_bytes && !p->queue_pkts && !p->delay_ns &&
	    !p->jitter_ns && !p->loss && !p->ber && !p->duplicate && !p->reorder)
		return QK_TBF;
	return QK_NETEM;
}

/* The root qdisc's kind, as dev->qdisc->ops->id. */
static const char *qdisc_of(struct ifnet *ifp)
{
	struct vshaper_params p;

	return qkind_name(shaper_kind(ifp, &p), vif_flags(ifp) & VIFF_UP);
}

static void fill_link(struct nlbuf *q, struct ifnet *ifp, uint16_t flags,
		      bool stats, bool dump)
{
	static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	static const uint8_t zero[6];
	bool lo = vif_type(ifp) == VIF_LOOPBACK;
	struct ifinfomsg ifi = {
		.ifi_family = AF_UNSPEC,
		.ifi_type = lo ? ARPHRD_LOOPBACK : ARPHRD_ETHER,
		.ifi_index = (int)vif_index(ifp),
		.ifi_flags = rtnl_if_flags(ifp),
	};
	struct rtnl_link_ifmap map = {0};
	struct ifnet *peer = vif_ve_peer(ifp), *master = vif_bridge_port_of(ifp);
	const char *kind = if_kind(ifp);
	bool carrier = rtnl_if_carrier(ifp);
	uint8_t mac[6];

	nl_msg_begin(q, RTM_NEWLINK, flags);
	nl_put(q, &ifi, sizeof(ifi));
	nl_attr_str(q, IFLA_IFNAME, vif_name(ifp));
	nl_attr_u32(q, IFLA_TXQLEN, 1000);
	nl_attr_u8(q, IFLA_OPERSTATE, if_operstate(ifp));
	nl_attr_u8(q, IFLA_LINKMODE, 0);
	nl_attr_u32(q, IFLA_MTU, vif_mtu(ifp));
	nl_attr_u32(q, IFLA_MIN_MTU, lo ? 0 : 68);
	nl_attr_u32(q, IFLA_MAX_MTU, lo ? 0 : 65535);
	nl_attr_u32(q, IFLA_GROUP, 0);
	nl_attr_u32(q, IFLA_PROMISCUITY, 0);
	nl_attr_u32(q, IFLA_NUM_TX_QUEUES, 1);
	nl_attr_u32(q, IFLA_GSO_MAX_SEGS, 65535);
	nl_attr_u32(q, IFLA_GSO_MAX_SIZE, 65536);
	nl_attr_u32(q, IFLA_NUM_RX_QUEUES, 1);
	nl_attr_u8(q, IFLA_CARRIER, carrier);
	/* Linux attaches noqueue to virtual devices when they come up. */
	nl_attr_str(q, IFLA_QDISC, qdisc_of(ifp));
	nl_attr_u32(q, IFLA_CARRIER_CHANGES, 0);
	nl_attr_u8(q, IFLA_PROTO_DOWN, 0);
	if (peer) {
		nl_attr_u32(q, IFLA_LINK, vif_index(peer));
		/* A peer in another vimage: its index means nothing here, and
		 * Linux says so with a netns id (ip prints "@ifN"). */
		if (vif_vimage(peer) != vif_vimage(ifp))
			nl_attr_u32(q, IFLA_LINK_NETNSID, 0);
	}
	if (master)
		nl_attr_u32(q, IFLA_MASTER, vif_index(master));
	nl_attr_put(q, IFLA_MAP, &map, sizeof(map));
	vif_mac(ifp, mac);
	nl_attr_put(q, IFLA_ADDRESS, lo ? zero : mac, 6);
	nl_attr_put(q, IFLA_BROADCAST, lo ? zero : bcast, 6);
	if (stats)
		fill_stats(q, ifp);
	if (kind || master) {
		nl_nest_begin(q, IFLA_LINKINFO);
		if (kind)
			nl_attr_str(q, IFLA_INFO_KIND, kind);
		if (master)
			nl_attr_str(q, IFLA_INFO_SLAVE_KIND, "bridge");
		nl_nest_end(q);
	}
	nl_msg_end(q, dump);
}

/* The interface a link request names: by index, else by IFLA_IFNAME. */
static int find_link(struct nlbuf *q, const struct ifinfomsg *ifi,
		     const struct nlattr **tb, struct ifnet **out)
{
	char name[VIF_NAMESIZ];
	int err;

	*out = NULL;
	if (ifi->ifi_index > 0) {
		*out = vif_by_index(q->vi, (unsigned)ifi->ifi_index);
		return *out ? 0 : rq_fail(q, -ENODEV, "Device not found");
	}
	err = get_name(q, tb[IFLA_IFNAME], name);
	if (err)
		return err;
	if (name[0])
		*out = vif_lookup(q->vi, name);
	return 0;
}

static int do_getlink(struct nlbuf *q, const struct nlmsghdr *nlh)
{
	const struct nlattr *tb[IFLA_MAX + 1];
	struct ifinfomsg ifi;
	uint32_t mask = 0;
	struct ifnet *ifp;
	int err;

	err = parse_attrs(q, nlh, sizeof(ifi), tb, IFLA_MAX);
	if (!err)
		err = get_u32(q, tb[IFLA_EXT_MASK], &mask);
	if (err)
		return err;
	req_hdr(nlh, &ifi, sizeof(ifi));
	if (ifi.ifi_index <= 0 && !tb[IFLA_IFNAME] && !tb[IFLA_ALT_IFNAME])
		return rq_fail(q, -EINVAL, "Missing ifindex or ifname");
	err = find_link(q, &ifi, tb, &ifp);
	if (err)
		return err;
	if (!ifp)
		return rq_fail(q, -ENODEV, "Device not found");
	fill_link(q, ifp, 0, !(mask & RTEXT_FILTER_SKIP_STATS), false);
	nl_flush(q);
	return 0;
}

static int dump_link(struct nlbuf *q, const struct nlmsghdr *nlh)
{
	const struct nlattr *tb[IFLA_MAX + 1], *li[IFLA_INFO_MAX + 1];
	struct ifinfomsg ifi;
	uint32_t mask = 0, master = 0;
	char kind[32] = "";
	uint16_t flags = NLM_F_MULTI;
	int err;

	err = parse_dump(q, nlh, &ifi, sizeof(ifi), tb, IFLA_MAX);
	if (!err)
		err = get_u32(q, tb[IFLA_EXT_MASK], &mask);
	if (!err)
		err = get_u32(q, tb[IFLA_MASTER], &master);
	if (err)
		return err;
	/* ip link show master BR / type KIND: the kernel filters. */
	if (tb[IFLA_LINKINFO]) {
		if (parse_stream(attr_data(tb[IFLA_LINKINFO]),
				 attr_len(tb[IFLA_LINKINFO]), li, IFLA_INFO_MAX))
			return rq_fail(q, -EINVAL, "Malformed IFLA_LINKINFO");
		err = get_str(q, li[IFLA_INFO_KIND], kind, sizeof(kind));
		if (err)
			return err;
	}
	if (master || kind[0])
		flags |= NLM_F_DUMP_FILTERED;
	/* AF_BRIDGE asks for bridge port details (bridge link): none. */
	if (ifi.ifi_family != AF_BRIDGE) {
		for (struct ifnet *ifp = vif_first(q->vi); ifp; ifp = vif_next(ifp)) {
			struct ifnet *br = vif_bridge_port_of(ifp);
			const char *k = if_kind(ifp);

			if (master && (!br || vif_index(br) != master))
				continue;
			if (kind[0] && (!k || strcmp(k, kind) != 0))
				continue;
			fill_link(q, ifp, flags, !(mask & RTEXT_FILTER_SKIP_STATS),
				  true);
		}
	}
	nl_send_done(q, 0);
	return 0;
}

/* ---- link changes -------------------------------------------------------------- */
static int set_master(struct nlbuf *q, struct ifnet *ifp, uint32_t idx)
{
	struct ifnet *cur = vif_bridge_port_of(ifp), *br;
	int err;

	if (idx == 0)
		return cur ? vif_bridge_del_port(cur, ifp) : 0;
	br = vif_by_index(q->vi, idx);
	if (!br)
		return rq_fail(q, -EINVAL, "Master device not found");
	if (br == cur)
		return 0;
	if (vif_type(br) != VIF_BRIDGE)
		return rq_fail(q, -EOPNOTSUPP, "Master is not a bridge");
	if (cur) {
		err = vif_bridge_del_port(cur, ifp);
		if (err)
			return err;
	}
	return vif_bridge_add_port(br, ifp);
}

static int set_flags(struct nlbuf *q, struct ifnet *ifp, const struct ifinfomsg *ifi)
{
	uint32_t cur = rtnl_if_flags(ifp), want;

	if (!ifi->ifi_flags && !ifi->ifi_change)
		return 0;
	/* rtnl_dev_combine_flags: no change mask means every flag. */
	want = ifi->ifi_flags;
	if (ifi->ifi_change)
		want = (want & ifi->ifi_change) | (cur & ~ifi->ifi_change);
	/* The other changeable flags have no model here: say so rather
	 * than pretend (only when a change is really asked for). */
	if (ifi->ifi_change &&
	    ((want ^ cur) & ifi->ifi_change &
	     (IFF_NOARP | IFF_PROMISC | IFF_ALLMULTI)))
		return rq_fail(q, -EOPNOTSUPP, "Flag change not supported");
	return vif_set_up(ifp, want & IFF_UP);
}

/* What Linux's do_setlink changes, in its order (name, address, MTU,
 * flags, master); earlier changes stay when a later one fails, as there. */
static int setlink(struct nlbuf *q, struct ifnet *ifp,
		   const struct ifinfomsg *ifi, const struct nlattr **tb,
		   bool by_index)
{
	char name[VIF_NAMESIZ];
	uint32_t v = 0;
	int err;

	if (tb[IFLA_NET_NS_PID] || tb[IFLA_NET_NS_FD] || tb[IFLA_TARGET_NETNSID])
		return rq_fail(q, -EOPNOTSUPP,
			       "Moving to another namespace is not supported");
	err = get_name(q, tb[IFLA_IFNAME], name);
	if (err)
		return err;
	if (by_index && name[0] && strcmp(name, vif_name(ifp)) != 0) {
		err = vif_rename(ifp, name);
		if (err)
			return err;
	}
	if (tb[IFLA_ADDRESS]) {
		uint8_t mac[6];

		err = get_mac(q, tb[IFLA_ADDRESS], mac);
		if (!err)
			err = vif_set_mac(ifp, mac);
		if (err)
			return err;
	}
	if (tb[IFLA_MTU]) {
		err = get_u32(q, tb[IFLA_MTU], &v);
		if (!err)
			err = vif_set_mtu(ifp, v);
		if (err)
			return rq_fail(q, err, "Invalid MTU");
	}
	err = set_flags(q, ifp, ifi);
	if (err)
		return err;
	if (tb[IFLA_MASTER]) {
		err = get_u32(q, tb[IFLA_MASTER], &v);
		if (!err)
			err = set_master(q, ifp, v);
		if (err)
			return err;
	}
	if (tb[IFLA_TXQLEN]) {
		err = get_u32(q, tb[IFLA_TXQLEN], &v);
		if (!err && v != 1000)
			err = rq_fail(q, -EOPNOTSUPP, "txqueuelen is fixed");
		if (err)
			return err;
	}
	return 0;
}

/* ip link add NAME type veth [peer name PEER]: the peer's ifinfomsg and
 * attributes sit in IFLA_INFO_DATA / VETH_INFO_PEER. */
static int new_veth(struct nlbuf *q, const char *name,
		    const struct nlattr *data, struct ifnet **out)
{
	const struct nlattr *vd[VETH_INFO_MAX + 1], *ptb[IFLA_MAX + 1];
	char pname[VIF_NAMESIZ] = "";
	struct ifinfomsg pifi = {0};
	struct ifnet *a, *b;
	int err;

	memset(ptb, 0, sizeof(ptb));
	if (data) {
		if (parse_stream(attr_data(data), attr_len(data), vd, VETH_INFO_MAX))
			return rq_fail(q, -EINVAL, "Malformed IFLA_INFO_DATA");
		if (vd[VETH_INFO_PEER]) {
			const struct nlattr *p = vd[VETH_INFO_PEER];

			if (attr_len(p) < sizeof(pifi))
				return rq_fail(q, -EINVAL, "Invalid peer header");
			memcpy(&pifi, attr_data(p), sizeof(pifi));
			if (parse_stream((const uint8_t *)attr_data(p) + sizeof(pifi),
					 attr_len(p) - sizeof(pifi), ptb, IFLA_MAX))
				return rq_fail(q, -EINVAL, "Malformed peer attributes");
			err = get_name(q, ptb[IFLA_IFNAME], pname);
			if (err)
				return err;
		}
	}
	if (ptb[IFLA_NET_NS_PID] || ptb[IFLA_NET_NS_FD] || ptb[IFLA_TARGET_NETNSID])
		return rq_fail(q, -EOPNOTSUPP,
			       "Peer in another namespace is not supported");
	err = vif_ve_create(q->vi, name[0] ? name : NULL, q->vi,
			    pname[0] ? pname : NULL, &a, &b);
	if (err)
		return err;
	/* The peer's own settings (address, MTU, up), as veth_newlink. */
	pifi.ifi_index = 0;
	err = setlink(q, b, &pifi, ptb, false);
	if (err) {
		vif_destroy(a);
		return err;
	}
	*out = a;
	return 0;
}

static int do_newlink(struct nlbuf *q, const struct nlmsghdr *nlh)
{
	const struct nlattr *tb[IFLA_MAX + 1], *li[IFLA_INFO_MAX + 1];
	char name[VIF_NAMESIZ], kind[32] = "";
	struct ifinfomsg ifi;
	struct ifnet *ifp;
	int err;

	err = parse_attrs(q, nlh, sizeof(ifi), tb, IFLA_MAX);
	if (err)
		return err;
	req_hdr(nlh, &ifi, sizeof(ifi));
	memset(li, 0, sizeof(li));
	if (tb[IFLA_LINKINFO]) {
		if (parse_stream(attr_data(tb[IFLA_LINKINFO]),
				 attr_len(tb[IFLA_LINKINFO]), li, IFLA_INFO_MAX))
			return rq_fail(q, -EINVAL, "Malformed IFLA_LINKINFO");
		err = get_str(q, li[IFLA_INFO_KIND], kind, sizeof(kind));
		if (err)
			return err;
	}
	err = find_link(q, &ifi, tb, &ifp);
	if (err)
		return err;
	if (ifp) {
		if (nlh->nlmsg_flags & NLM_F_EXCL)
			return rq_fail(q, -EEXIST, "Device exists");
		if (kind[0] && (!if_kind(ifp) || strcmp(kind, if_kind(ifp)) != 0))
			return rq_fail(q, -EOPNOTSUPP, "Device of another kind");
		return setlink(q, ifp, &ifi, tb, ifi.ifi_index > 0);
	}
	if (!(nlh->nlmsg_flags & NLM_F_CREATE))
		return rq_fail(q, -ENODEV, "Device not found");
	if (!kind[0])
		return rq_fail(q, -EOPNOTSUPP, "Missing kind");
	err = get_name(q, tb[IFLA_IFNAME], name);
	if (err)
		return err;
	if (strcmp(kind, "veth") == 0)
		err = new_veth(q, name, li[IFLA_INFO_DATA], &ifp);
	else if (strcmp(kind, "bridge") == 0)
		err = vif_bridge_create(q->vi, name[0] ? name : NULL, &ifp);
	else
		return rq_fail(q, -EOPNOTSUPP, "Unknown device type");
	if (err)
		return err;
	/* rtnl_newlink then applies the rest (MTU, address, flags, master)
	 * to the new device; a failure there takes it away again. */
	err = setlink(q, ifp, &ifi, tb, false);
	if (err)
		vif_destroy(ifp);
	return err;
}

static int do_dellink(struct nlbuf *q, const struct nlmsghdr *nlh)
{
	const struct nlattr *tb[IFLA_MAX + 1];
	struct ifinfomsg ifi;
	struct ifnet *ifp;
	int err;

	err = parse_attrs(q, nlh, sizeof(ifi), tb, IFLA_MAX);
	if (err)
		return err;
	req_hdr(nlh, &ifi, sizeof(ifi));
	if (ifi.ifi_index <= 0 && !tb[IFLA_IFNAME])
		return rq_fail(q, -EINVAL, "Missing ifindex or ifname");
	err = find_link(q, &ifi, tb, &ifp);
	if (err)
		return err;
	if (!ifp)
		return rq_fail(q, -ENODEV, "Device not found");
	/* lo and the daemon's external devices have no dellink. */
	if (!if_kind(ifp))
		return rq_fail(q, -EOPNOTSUPP, "Device cannot be deleted");
	return vif_destroy(ifp);
}

/* ---- addresses ------------------------------------------------------------------ */
static uint32_t mask4(unsigned plen)
{
	return plen ? ~0u << (32 - plen) : 0;
}

struct addr_walk {
	struct nlbuf *q;
	struct ifnet *ifp;
	uint16_t flags;
	/* primaries of this interface so far, to mark secondaries */
	struct vif_addr_info prim[32];
	unsigned nprim;
	/* a single match (RTM_DELADDR) */
	const uint32_t *local, *prefix;
	uint8_t plen;
	struct vif_addr_info found;
	bool have;
};

static void fill_addr(struct addr_walk *d, const struct vif_addr_info *a,
		      bool secondary)
{
	struct nlbuf *q = d->q;
	uint32_t ip = a->addr.v4;
	struct ifaddrmsg ifa = {
		.ifa_family = AF_INET,
		.ifa_prefixlen = (uint8_t)a->plen,
		.ifa_flags = IFA_F_PERMANENT | (secondary ? IFA_F_SECONDARY : 0),
		.ifa_scope = (ip >> 24) == 127 ? RT_SCOPE_HOST : RT_SCOPE_UNIVERSE,
		.ifa_index = vif_index(d->ifp),
	};
	/* Hundredths of a second, as the kernel's jiffies-based stamps. */
	uint32_t stamp = (uint32_t)(world_now(vimage_world(q->vi)) / 10000000u);
	struct ifa_cacheinfo ci = {
		.ifa_prefered = 0xffffffffu,
		.ifa_valid = 0xffffffffu,
		.cstamp = stamp,
		.tstamp = stamp,
	};

	nl_msg_begin(q, RTM_NEWADDR, d->flags);
	nl_put(q, &ifa, sizeof(ifa));
	attr_in4(q, IFA_ADDRESS, ip);
	attr_in4(q, IFA_LOCAL, ip);
	if (a->broadcast.family == AF_INET)
		attr_in4(q, IFA_BROADCAST, a->broadcast.v4);
	nl_attr_str(q, IFA_LABEL, vif_name(d->ifp));
	nl_attr_u32(q, IFA_FLAGS, ifa.ifa_flags);
	nl_attr_put(q, IFA_CACHEINFO, &ci, sizeof(ci));
	nl_msg_end(q, true);
}

static int addr_one(void *ctx, const struct vif_addr_info *a)
{
	struct addr_walk *d = ctx;
	bool secondary = false;

	if (a->addr.family != AF_INET)
		return 0;
	/* Linux makes a further address in a subnet the interface already
	 * has a secondary (IFA_F_SECONDARY). */
	for (unsigned i = 0; i < d->nprim; i++)
		if (d->prim[i].plen == a->plen &&
		    ((d->prim[i].addr.v4 ^ a->addr.v4) & mask4(a->plen)) == 0)
			secondary = true;
	if (!secondary && d->nprim < ARRAY_LEN(d->prim))
		d->prim[d->nprim++] = *a;
	fill_addr(d, a, secondary);
	return 0;
}

static int dump_addr(struct nlbuf *q, const struct nlmsghdr *nlh)
{
	const struct nlattr *tb[IFA_MAX + 1];
	struct addr_walk d = {.q = q};
	struct ifaddrmsg ifm;
	int err;

	err = parse_dump(q, nlh, &ifm, sizeof(ifm), tb, IFA_MAX);
	if (err)
		return err;
	d.flags = NLM_F_MULTI | (ifm.ifa_index ? NLM_F_DUMP_FILTERED : 0);
	if (ifm.ifa_family == AF_INET || ifm.ifa_family == AF_UNSPEC) {
		for (struct ifnet *ifp = vif_first(q->vi); ifp; ifp = vif_next(ifp)) {
			if (ifm.ifa_index && vif_index(ifp) != ifm.ifa_index)
				continue;
			d.ifp = ifp;
			d.nprim = 0;
			vif_addr_walk(ifp, addr_one, &d);
		}
	}
	nl_send_done(q, 0);
	return 0;
}

static int addr_match(void *ctx, const struct vif_addr_info *a)
{
	struct addr_walk *d = ctx;

	if (a->addr.family != AF_INET)
		return 0;
	if (d->local && a->addr.v4 != *d->local)
		return 0;
	if (d->prefix && (a->plen != d->plen ||
			  ((a->addr.v4 ^ *d->prefix) & mask4(a->plen))))
		return 0;
	d->found = *a;
	d->have = true;
	return 1;
}

static int do_addr(struct nlbuf *q, const struct nlmsghdr *nlh, bool add)
{
	const struct nlattr *tb[IFA_MAX + 1];
	struct addr_walk d = {.q = q};
	struct ifaddrmsg ifm;
	uint32_t local = 0, address = 0;
	struct vaddr va;
	int err;

	err = parse_attrs(q, nlh, sizeof(ifm), tb, IFA_MAX);
	if (err)
		return err;
	req_hdr(nlh, &ifm, sizeof(ifm));
	if (ifm.ifa_family != AF_INET)
		return rq_fail(q, -EAFNOSUPPORT, "Only IPv4 addresses are supported");
	err = get_in4(q, tb[IFA_LOCAL], &local);
	if (!err)
		err = get_in4(q, tb[IFA_ADDRESS], &address);
	if (err)
		return err;
	if (ifm.ifa_prefixlen > 32)
		return rq_fail(q, -EINVAL, "Invalid prefix length");
	d.ifp = vif_by_index(q->vi, ifm.ifa_index);
	if (!d.ifp)
		return rq_fail(q, -ENODEV, "Device not found");
	if (add) {
		/* inet_rtm_newaddr: IFA_LOCAL is the address, IFA_ADDRESS
		 * the peer (the same on a broadcast link). */
		if (!tb[IFA_LOCAL] && !tb[IFA_ADDRESS])
			return rq_fail(q, -EINVAL, "Missing address");
		if (!tb[IFA_LOCAL])
			local = address;
		va = vaddr_v4(local);
		err = vif_addr_add(d.ifp, &va, ifm.ifa_prefixlen);
		/* An existing address is only refreshed by NLM_F_REPLACE. */
		if (err == -EEXIST && (nlh->nlmsg_flags & NLM_F_REPLACE) &&
		    !(nlh->nlmsg_flags & NLM_F_EXCL))
			err = 0;
		return err;
	}
	/* inet_rtm_deladdr: what the request names must match. */
	if (tb[IFA_LOCAL])
		d.local = &local;
	if (tb[IFA_ADDRESS]) {
		d.prefix = &address;
		d.plen = ifm.ifa_prefixlen;
	}
	vif_addr_walk(d.ifp, addr_match, &d);
	if (!d.have)
		return rq_fail(q, -EADDRNOTAVAIL, "Address not found");
	return vif_addr_del(d.ifp, &d.found.addr, d.found.plen);
}

/* ---- routes ----------------------------------------------------------------------- */
struct route_walk {
	struct nlbuf *q;
	uint8_t table;
	uint8_t type, proto; /* filters, 0: any */
	uint32_t oif;
	uint16_t flags;
	/* a single match (route_find) */
	uint32_t dst;
	unsigned plen;
	struct vroute found;
	bool have;
};

static uint8_t route_scope(const struct vroute *r)
{
	switch (r->type) {
	case VRT_LOCAL:
		return RT_SCOPE_HOST;
	case VRT_BROADCAST:
		return RT_SCOPE_LINK;
	case VRT_UNICAST:
		return r->gw.family ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
	default:
		return RT_SCOPE_UNIVERSE;
	}
}

/* The source the stack picks on ifp towards dst: an address in dst's
 * subnet, else the first (RFC 1122 3.3.4.3), as ip_output does. */
struct src_pick {
	uint32_t to, first, match;
};

static int src_one(void *ctx, const struct vif_addr_info *a)
{
	struct src_pick *s = ctx;

	if (a->addr.family != AF_INET)
		return 0;
	if (!s->first)
		s->first = a->addr.v4;
	if (((a->addr.v4 ^ s->to) & mask4(a->plen)) == 0) {
		s->match = a->addr.v4;
		return 1;
	}
	return 0;
}

static uint32_t pick_src(struct ifnet *ifp, uint32_t to)
{
	struct src_pick s = {.to = to};

	vif_addr_walk(ifp, src_one, &s);
	return s.match ? s.match : s.first;
}

static void fill_route(struct nlbuf *q, const struct vroute *r, uint8_t table,
		       uint16_t flags)
{
	struct rtmsg rtm = {
		.rtm_family = AF_INET,
		.rtm_dst_len = (uint8_t)r->plen,
		.rtm_table = table,
		.rtm_protocol = (uint8_t)r->proto,
		.rtm_scope = route_scope(r),
		.rtm_type = (uint8_t)r->type,
	};

	/* Linux marks a next hop whose device has no carrier "linkdown". */
	if (r->ifp && r->type != VRT_LOCAL && !rtnl_if_carrier(r->ifp))
		rtm.rtm_flags |= RTNH_F_LINKDOWN;
	nl_msg_begin(q, RTM_NEWROUTE, flags);
	nl_put(q, &rtm, sizeof(rtm));
	nl_attr_u32(q, RTA_TABLE, table);
	if (r->plen)
		attr_in4(q, RTA_DST, r->dst.v4);
	if (r->metric)
		nl_attr_u32(q, RTA_PRIORITY, r->metric);
	if (r->prefsrc.family == AF_INET)
		attr_in4(q, RTA_PREFSRC, r->prefsrc.v4);
	if (r->mtu) {
		nl_nest_begin(q, RTA_METRICS);
		nl_attr_u32(q, RTAX_MTU, r->mtu);
		nl_nest_end(q);
	}
	if (r->gw.family == AF_INET)
		attr_in4(q, RTA_GATEWAY, r->gw.v4);
	if (r->ifp)
		nl_attr_u32(q, RTA_OIF, vif_index(r->ifp));
	nl_msg_end(q, true);
}

static int route_one(void *ctx, const struct vroute *r)
{
	struct route_walk *d = ctx;

	if (r->dst.family != AF_INET)
		return 0;
	if (d->type && d->type != r->type)
		return 0;
	if (d->proto && d->proto != r->proto)
		return 0;
	if (d->oif && (!r->ifp || vif_index(r->ifp) != d->oif))
		return 0;
	fill_route(d->q, r, d->table, d->flags);
	return 0;
}

static int dump_route(struct nlbuf *q, const struct nlmsghdr *nlh)
{
	const struct nlattr *tb[RTA_MAX + 1];
	struct route_walk d = {.q = q, .flags = NLM_F_MULTI};
	uint32_t table;
	struct rtmsg rtm;
	int err;

	err = parse_dump(q, nlh, &rtm, sizeof(rtm), tb, RTA_MAX);
	table = rtm.rtm_table;
	if (!err)
		err = get_u32(q, tb[RTA_TABLE], &table);
	if (!err)
		err = get_u32(q, tb[RTA_OIF], &d.oif);
	if (err)
		return err;
	d.type = rtm.rtm_type;
	d.proto = rtm.rtm_protocol;
	if (table || d.type || d.proto || d.oif)
		d.flags |= NLM_F_DUMP_FILTERED;
	/* Main then local, as a Linux dump of every table lists them. */
	if (rtm.rtm_family == AF_INET || rtm.rtm_family == AF_UNSPEC) {
		if (table == RT_TABLE_UNSPEC || table == RT_TABLE_MAIN) {
			d.table = RT_TABLE_MAIN;
			vroute_walk(q->vi, AF_INET, false, route_one, &d);
		}
		if (table == RT_TABLE_UNSPEC || table == RT_TABLE_LOCAL) {
			d.table = RT_TABLE_LOCAL;
			vroute_walk(q->vi, AF_INET, true, route_one, &d);
		}
	}
	nl_send_done(q, 0);
	return 0;
}

static struct ifnet *loopback_of(struct vimage *vi)
{
	for (struct ifnet *ifp = vif_first(vi); ifp; ifp = vif_next(ifp))
		if (vif_type(ifp) == VIF_LOOPBACK)
			return ifp;
	return NULL;
}

/* ip route get: the lookup's result, shown as Linux's inet_rtm_getroute
 * shows the route it made for it (RTM_F_CLONED). */
static int do_getroute(struct nlbuf *q, const struct nlmsghdr *nlh)
{
	const struct nlattr *tb[RTA_MAX + 1];
	uint32_t dst = 0, src = 0, oif = 0, prefsrc;
	struct rta_cacheinfo ci = {0};
	struct rtmsg rtm, out;
	struct ifnet *dev;
	struct vroute r;
	struct vaddr va;
	int err;

	err = parse_attrs(q, nlh, sizeof(rtm), tb, RTA_MAX);
	if (err)
		return err;
	req_hdr(nlh, &rtm, sizeof(rtm));
	if (rtm.rtm_family != AF_INET)
		return rq_fail(q, -EAFNOSUPPORT, "Only IPv4 routes are supported");
	err = get_in4(q, tb[RTA_DST], &dst);
	if (!err)
		err = get_in4(q, tb[RTA_SRC], &src);
	if (!err)
		err = get_u32(q, tb[RTA_OIF], &oif);
	if (err)
		return err;
	if (oif && !vif_by_index(q->vi, oif))
		return rq_fail(q, -ENODEV, "Device not found");
	va = vaddr_v4(dst);
	err = vroute_get(q->vi, &va, &r);
	if (err)
		return err;
	/* fib_props: what each kind of reject route answers. */
	switch (r.type) {
	case VRT_BLACKHOLE:
		return -EINVAL;
	case VRT_UNREACHABLE:
		return -EHOSTUNREACH;
	case VRT_PROHIBIT:
		return -EACCES;
	default:
		break;
	}
	out = (struct rtmsg){
		.rtm_family = AF_INET,
		.rtm_dst_len = 32,
		.rtm_src_len = tb[RTA_SRC] ? 32 : 0,
		.rtm_table = r.type == VRT_UNICAST ? RT_TABLE_MAIN : RT_TABLE_LOCAL,
		.rtm_protocol = RTPROT_UNSPEC,
		.rtm_scope = RT_SCOPE_UNIVERSE,
		.rtm_type = (uint8_t)r.type,
		.rtm_flags = RTM_F_CLONED,
	};
	/* Traffic to ourselves leaves through lo, as Linux's output route;
	 * the cache flags say local/broadcast ("cache <local,brd>"). */
	dev = r.ifp;
	if (r.type == VRT_LOCAL) {
		dev = loopback_of(q->vi);
		out.rtm_flags |= RTCF_LOCAL;
	} else if (r.type == VRT_BROADCAST) {
		out.rtm_flags |= RTCF_LOCAL | RTCF_BROADCAST;
	}
	if (r.type == VRT_LOCAL)
		prefsrc = dst; /* a local destination answers from itself */
	else if (r.prefsrc.family == AF_INET)
		prefsrc = r.prefsrc.v4;
	else
		prefsrc = r.ifp ? pick_src(r.ifp, r.gw.family ? r.gw.v4 : dst) : 0;
	nl_msg_begin(q, RTM_NEWROUTE, 0);
	nl_put(q, &out, sizeof(out));
	nl_attr_u32(q, RTA_TABLE, out.rtm_table);
	attr_in4(q, RTA_DST, dst);
	if (tb[RTA_SRC])
		attr_in4(q, RTA_SRC, src);
	if (dev)
		nl_attr_u32(q, RTA_OIF, vif_index(dev));
	if (prefsrc && !tb[RTA_SRC])
		attr_in4(q, RTA_PREFSRC, prefsrc);
	if (r.gw.family == AF_INET)
		attr_in4(q, RTA_GATEWAY, r.gw.v4);
	nl_attr_u32(q, RTA_UID, 0);
	nl_attr_put(q, RTA_CACHEINFO, &ci, sizeof(ci));
	nl_msg_end(q, false);
	nl_flush(q);
	return 0;
}

static int route_find_one(void *ctx, const struct vroute *r)
{
	struct route_walk *f = ctx;

	if (r->dst.family == AF_INET && r->dst.v4 == f->dst && r->plen == f->plen) {
		f->found = *r;
		f->have = true;
		return 1;
	}
	return 0;
}

/* The main table's route for exactly dst/plen. */
static bool route_find(struct vimage *vi, uint32_t dst, unsigned plen,
		       struct vroute *out)
{
	struct route_walk f = {.dst = dst, .plen = plen};

	vroute_walk(vi, AF_INET, false, route_find_one, &f);
	if (f.have && out)
		*out = f.found;
	return f.have;
}

static int do_route(struct nlbuf *q, const struct nlmsghdr *nlh, bool add)
{
	const struct nlattr *tb[RTA_MAX + 1];
	uint32_t dst = 0, gw = 0, oif = 0, prio = 0, prefsrc = 0, table;
	uint16_t f = nlh->nlmsg_flags;
	struct vroute r = {0}, cur;
	struct vaddr d;
	struct rtmsg rtm;
	int err;

	err = parse_attrs(q, nlh, sizeof(rtm), tb, RTA_MAX);
	if (err)
		return err;
	req_hdr(nlh, &rtm, sizeof(rtm));
	if (rtm.rtm_family != AF_INET)
		return rq_fail(q, -EAFNOSUPPORT, "Only IPv4 routes are supported");
	table = rtm.rtm_table;
	err = get_u32(q, tb[RTA_TABLE], &table);
	if (!err)
		err = get_in4(q, tb[RTA_DST], &dst);
	if (!err)
		err = get_in4(q, tb[RTA_GATEWAY], &gw);
	if (!err)
		err = get_u32(q, tb[RTA_OIF], &oif);
	if (!err)
		err = get_u32(q, tb[RTA_PRIORITY], &prio);
	if (!err)
		err = get_in4(q, tb[RTA_PREFSRC], &prefsrc);
	if (err)
		return err;
	if (rtm.rtm_dst_len > 32)
		return rq_fail(q, -EINVAL, "Invalid prefix length");
	if (table != RT_TABLE_MAIN && table != RT_TABLE_UNSPEC)
		return rq_fail(q, -EOPNOTSUPP, "Only the main table can be changed");
	if (tb[RTA_MULTIPATH] || tb[RTA_VIA] || tb[RTA_ENCAP] || tb[RTA_NH_ID])
		return rq_fail(q, -EOPNOTSUPP,
			       "Multipath, via, encap and nexthop objects are not supported");
	if (dst & ~mask4(rtm.rtm_dst_len))
		return rq_fail(q, -EINVAL, "Invalid prefix for given prefix length");
	if (oif && !(r.ifp = vif_by_index(q->vi, oif)))
		return rq_fail(q, -ENODEV, "Device not found");
	d = vaddr_v4(dst);
	if (!add) {
		/* fib_table_delete: what the request names must match. */
		if (!route_find(q->vi, dst, rtm.rtm_dst_len, &cur) ||
		    (tb[RTA_GATEWAY] && (cur.gw.family != AF_INET || cur.gw.v4 != gw)) ||
		    (oif && cur.ifp != r.ifp) ||
		    (rtm.rtm_type && rtm.rtm_type != (uint8_t)cur.type) ||
		    (rtm.rtm_protocol && rtm.rtm_protocol != (uint8_t)cur.proto) ||
		    (tb[RTA_PRIORITY] && prio != cur.metric))
			return rq_fail(q, -ESRCH, "No such route");
		return vroute_del(q->vi, &d, rtm.rtm_dst_len);
	}
	switch (rtm.rtm_type) {
	case RTN_UNICAST:
	case RTN_BLACKHOLE:
	case RTN_UNREACHABLE:
	case RTN_PROHIBIT:
		r.type = (enum vrt_type)rtm.rtm_type;
		break;
	default:
		return rq_fail(q, -EOPNOTSUPP, "Route type not supported");
	}
	r.dst = d;
	r.plen = rtm.rtm_dst_len;
	/* Protocol numbers pass through (zebra, bird, dhcp...). */
	r.proto = rtm.rtm_protocol ? (enum vrt_proto)rtm.rtm_protocol : VRT_PROTO_BOOT;
	r.metric = prio;
	if (gw)
		r.gw = vaddr_v4(gw);
	if (tb[RTA_PREFSRC])
		r.prefsrc = vaddr_v4(prefsrc);
	if (tb[RTA_METRICS]) {
		const struct nlattr *mx[RTAX_MAX + 1];

		if (parse_stream(attr_data(tb[RTA_METRICS]),
				 attr_len(tb[RTA_METRICS]), mx, RTAX_MAX))
			return rq_fail(q, -EINVAL, "Malformed RTA_METRICS");
		err = get_u32(q, mx[RTAX_MTU], &r.mtu);
		if (err)
			return err;
	}
	if (r.type == VRT_UNICAST && !r.gw.family && !r.ifp)
		return rq_fail(q, -ENODEV, "Nexthop device required");
	if (f & NLM_F_REPLACE) {
		if (!(f & NLM_F_CREATE) && !route_find(q->vi, dst, r.plen, NULL))
			return rq_fail(q, -ENOENT, "Route not found");
		return vroute_replace(q->vi, &r);
	}
	return vroute_add(q->vi, &r);
}

/* Default policy rules, as a fresh Linux namespace has them, so that ip
 * rule shows what it shows there. */
static int dump_rule(struct nlbuf *q, const struct nlmsghdr *nlh)
{
	static const struct {
		uint32_t pref;
		uint8_t table;
	} rules[] = {{0, RT_TABLE_LOCAL}, {32766, RT_TABLE_MAIN},
		     {32767, RT_TABLE_DEFAULT}};
	struct fib_rule_hdr h;

	req_hdr(nlh, &h, sizeof(h));
	if (h.family == AF_INET || h.family == AF_UNSPEC) {
		for (unsigned i = 0; i < ARRAY_LEN(rules); i++) {
			struct fib_rule_hdr fr = {
				.family = AF_INET,
				.table = rules[i].table,
				.action = FR_ACT_TO_TBL,
			};

			nl_msg_begin(q, RTM_NEWRULE, NLM_F_MULTI);
			nl_put(q, &fr, sizeof(fr));
			nl_attr_u32(q, FRA_TABLE, rules[i].table);
			nl_attr_u32(q, FRA_SUPPRESS_PREFIXLEN, 0xffffffffu);
			if (rules[i].pref)
				nl_attr_u32(q, FRA_PRIORITY, rules[i].pref);
			nl_attr_u8(q, FRA_PROTOCOL, RTPROT_KERNEL);
			nl_msg_end(q, true);
		}
	}
	nl_send_done(q, 0);
	return 0;
}

/* ---- neighbours ----------------------------------------------------------------- */
struct neigh_walk {
	struct nlbuf *q;
	uint32_t ifindex; /* filter, 0: any */
	uint16_t flags;
	/* a single match */
	struct ifnet *ifp;
	uint32_t ip;
	bool have;
};

static uint16_t nud_of(enum vneigh_state s)
{
	switch (s) {
	case VNEIGH_INCOMPLETE:
		return NUD_INCOMPLETE;
	case VNEIGH_REACHABLE:
		return NUD_REACHABLE;
	case VNEIGH_STALE:
		return NUD_STALE;
	case VNEIGH_PERMANENT:
		return NUD_PERMANENT;
	case VNEIGH_FAILED:
		return NUD_FAILED;
	}
	return NUD_NONE;
}

static int neigh_one(void *ctx, const struct vneigh_info *n)
{
	struct neigh_walk *d = ctx;
	struct nlbuf *q = d->q;
	uint16_t state = nud_of(n->state);
	struct ndmsg nd = {
		.ndm_family = AF_INET,
		.ndm_ifindex = (int)vif_index(n->ifp),
		.ndm_state = state,
		.ndm_type = RTN_UNICAST,
	};
	struct nda_cacheinfo ci = {0};

	if (n->addr.family != AF_INET)
		return 0;
	if (d->ifindex && vif_index(n->ifp) != d->ifindex)
		return 0;
	nl_msg_begin(q, RTM_NEWNEIGH, d->flags);
	nl_put(q, &nd, sizeof(nd));
	attr_in4(q, NDA_DST, n->addr.v4);
	/* neigh_fill_info: the link address only while it is valid. */
	if (state & (NUD_REACHABLE | NUD_STALE | NUD_PERMANENT))
		nl_attr_put(q, NDA_LLADDR, n->mac, 6);
	nl_attr_u32(q, NDA_PROBES, 0);
	nl_attr_put(q, NDA_CACHEINFO, &ci, sizeof(ci));
	nl_msg_end(q, true);
	return 0;
}

static int dump_neigh(struct nlbuf *q, const struct nlmsghdr *nlh)
{
	const struct nlattr *tb[NDA_MAX + 1];
	struct neigh_walk d = {.q = q, .flags = NLM_F_MULTI};
	struct ndmsg nd;
	int err;

	err = parse_dump(q, nlh, &nd, sizeof(nd), tb, NDA_MAX);
	d.ifindex = nd.ndm_ifindex > 0 ? (uint32_t)nd.ndm_ifindex : 0;
	if (!err)
		err = get_u32(q, tb[NDA_IFINDEX], &d.ifindex);
	if (err)
		return err;
	if (d.ifindex)
		d.flags |= NLM_F_DUMP_FILTERED;
	if (nd.ndm_family == AF_INET || nd.ndm_family == AF_UNSPEC)
		vneigh_walk(q->vi, neigh_one, &d);
	nl_send_done(q, 0);
	return 0;
}

static int neigh_find_one(void *ctx, const struct vneigh_info *n)
{
	struct neigh_walk *d = ctx;

	if (n->ifp == d->ifp && n->addr.family == AF_INET && n->addr.v4 == d->ip) {
		d->have = true;
		return 1;
	}
	return 0;
}

static int do_neigh(struct nlbuf *q, const struct nlmsghdr *nlh, bool add)
{
	const struct nlattr *tb[NDA_MAX + 1];
	struct neigh_walk d = {.q = q};
	uint16_t f = nlh->nlmsg_flags;
	struct ndmsg nd;
	uint8_t mac[6];
	struct vaddr va;
	int err;

	err = parse_attrs(q, nlh, sizeof(nd), tb, NDA_MAX);
	if (err)
		return err;
	req_hdr(nlh, &nd, sizeof(nd));
	if (nd.ndm_family != AF_INET)
		return rq_fail(q, -EAFNOSUPPORT, "Only IPv4 neighbours are supported");
	if (!tb[NDA_DST])
		return rq_fail(q, -EINVAL, "Network address not specified");
	err = get_in4(q, tb[NDA_DST], &d.ip);
	if (err)
		return err;
	if (nd.ndm_ifindex <= 0)
		return rq_fail(q, add ? -EINVAL : -ENOENT, "Device not specified");
	d.ifp = vif_by_index(q->vi, (unsigned)nd.ndm_ifindex);
	if (!d.ifp)
		return rq_fail(q, -ENODEV, "Device not found");
	va = vaddr_v4(d.ip);
	if (!add)
		return vneigh_del(d.ifp, &va);
	vneigh_walk(q->vi, neigh_find_one, &d);
	if (d.have && (f & NLM_F_EXCL))
		return rq_fail(q, -EEXIST, "Neighbour exists");
	if (!d.have && !(f & NLM_F_CREATE))
		return rq_fail(q, -ENOENT, "Neighbour not found");
	/* Only static entries are made by hand here: the other states
	 * belong to the ARP machine. */
	if (!(nd.ndm_state & (NUD_PERMANENT | NUD_NOARP)))
		return rq_fail(q, -EOPNOTSUPP, "Only permanent entries are supported");
	if (!tb[NDA_LLADDR])
		return rq_fail(q, -EINVAL, "Link address required");
	err = get_mac(q, tb[NDA_LLADDR], mac);
	if (err)
		return err;
	return vneigh_add_permanent(d.ifp, &va, mac);
}

/* ---- traffic control: the shaper as the root qdisc ------------------------------ */
/* tc(8) sees an interface's egress shaper (include/vimage/net.h) as the
 * root qdisc of the device, "netem" or "tbf"; without one, as Linux's
 * default for virtual devices, "noqueue" (or nothing while the device is
 * down: the kernel's noop qdisc is built in and never dumped). Only the
 * root of egress exists: no classes, no children, no ingress/clsact, and
 * only the automatic handle, which reads as 8001: (the kernel's first).
 * The kind is not stored anywhere: it is read from the parameters (tbf sets
 * a rate and a byte limit and nothing else; everything else is netem).
 *
 * netem <-> shaper, field by field (tc sends struct tc_netem_qopt, then
 * nested TCA_NETEM_* attributes, inside TCA_OPTIONS):
 *   latency, jitter    psched ticks (64 ns, see /proc/net/psched) or
 *                      TCA_NETEM_LATENCY64/JITTER64 in ns when present
 *                      -> delay_ns, jitter_ns (|jitter| capped at INT_MAX
 *                      ns, as netem_change); without a distribution table
 *                      netem's jitter is uniform in +-jitter, the shaper's.
 *   loss, duplicate,   u32 fractions of 2^32-1 (tc: rint(p * UINT32_MAX))
 *   reorder            -> parts per 10^18: the roundest value that maps
 *                      back to the same u32 (1% -> 10^16 exactly), so that
 *                      show prints what was set. reorder counts only with
 *                      gap 1 (tc's default with reorder; netem: gap 0 never
 *                      reorders, gap alone means 100%); gap > 1 is refused.
 *   limit              -> queue_pkts (the shaper bounds the backlog waiting
 *                      for the rate, netem its whole queue; 0 is no limit).
 *   TCA_NETEM_RATE/64  bytes/s -> bandwidth = 8 x rate; absent on a change,
 *                      the rate in force stays (as netem_change).
 * Refused with -EOPNOTSUPP and a message: correlations, distribution
 * tables (only uniform jitter exists here), the Gilbert-Elliott and 4-state
 * loss models, corrupt, ecn, slot, rate overheads/cells.
 *
 * tbf -> shaper: bandwidth = 8 x rate (TCA_TBF_RATE64 when sent), and
 * queue_bytes = limit, the bytes that may wait for tokens, which tc derives
 * from latency as rate x latency + burst. The shaper has no bucket (each
 * frame leaves at the rate after the one before), so the burst is not kept:
 * show reports one full-size frame (MTU + 14, rounded up to what tc's
 * microsecond arithmetic can show) as the burst. Refused:
 * peakrate, overhead/mpu, link layers other than Ethernet.
 *
 * Statistics (tc -s) come from vif_shaper_stats: packets sent, drops (loss,
 * bit errors, queue, flushed), backlog; the shaper counts no bytes sent, so
 * "Sent 0 bytes". */
/* Parts per 10^18 -> netem's u32, rounded to nearest. */
static uint32_t prob_to_u32(uint64_t p)
{
	unsigned __int128 v = (unsigned __int128)p * 2 * PROB_U32_MAX +
			      VSHAPE_PROB_ONE;

	if (p >= VSHAPE_PROB_ONE)
		return (uint32_t)PROB_U32_MAX;
	return (uint32_t)(v / (2 * (unsigned __int128)VSHAPE_PROB_ONE));
}

/* netem's u32 -> the roundest p whose prob_to_u32 is x: p in
 * [ceil((2x-1)e18 / 2U), ceil((2x+1)e18 / 2U) - 1]. */
static uint64_t prob_from_u32(uint32_t x)
{
	unsigned __int128 one = VSHAPE_PROB_ONE, den = 2 * PROB_U32_MAX;
	uint64_t lo, hi, m = VSHAPE_PROB_ONE;

	if (x == 0)
		return 0;
	lo = (uint64_t)(((2 * (unsigned __int128)x - 1) * one + den - 1) / den);
	hi = (uint64_t)(((2 * (unsigned __int128)x + 1) * one + den - 1) / den) - 1;
	if (hi > VSHAPE_PROB_ONE)
		hi = VSHAPE_PROB_ONE;
	for (;;) {
		uint64_t c = (lo + m - 1) / m * m;

		if (c <= hi)
			return c;
		m /= 10;
	}
}

static int netem_parse(struct nlbuf *q, const struct nlattr *opt,
		       struct vshaper_params *p, bool change)
{
	const struct nlattr *tb[TCA_NETEM_MAX + 1];
	struct tc_netem_qopt qo;
	size_t off = NLA_ALIGN(sizeof(qo));
	int64_t lat, jit;
	uint64_t rate = 0;
	bool have_rate = false;

	if (!opt || attr_len(opt) < sizeof(qo))
		return rq_fail(q, -EINVAL, "netem: missing or short options");
	memcpy(&qo, attr_data(opt), sizeof(qo));
	memset(tb, 0, sizeof(tb));
	if (attr_len(opt) > off &&
	    parse_stream((const uint8_t *)attr_data(opt) + off,
			 attr_len(opt) - off, tb, TCA_NETEM_MAX))
		return rq_fail(q, -EINVAL, "netem: malformed attributes");
	if (tb[TCA_NETEM_DELAY_DIST] || tb[TCA_NETEM_SLOT_DIST])
		return rq_fail(q, -EOPNOTSUPP,
			       "netem: distribution tables are not supported, "
			       "jitter is uniform only");
	if (tb[TCA_NETEM_CORR]) {
		struct tc_netem_corr c = {0};

		if (attr_len(tb[TCA_NETEM_CORR]) < sizeof(c))
			return rq_fail(q, -EINVAL, "netem: short correlation");
		memcpy(&c, attr_data(tb[TCA_NETEM_CORR]), sizeof(c));
		if (c.delay_corr || c.loss_corr || c.dup_corr)
			return rq_fail(q, -EOPNOTSUPP,
				       "netem: correlation is not supported");
	}
	if (tb[TCA_NETEM_LOSS])
		return rq_fail(q, -EOPNOTSUPP,
			       "netem: loss models (Gilbert-Elliott, 4-state) "
			       "are not supported, only random loss");
	if (tb[TCA_NETEM_CORRUPT]) {
		struct tc_netem_corrupt c = {0};

		if (attr_len(tb[TCA_NETEM_CORRUPT]) < sizeof(c))
			return rq_fail(q, -EINVAL, "netem: short corrupt");
		memcpy(&c, attr_data(tb[TCA_NETEM_CORRUPT]), sizeof(c));
		if (c.probability || c.correlation)
			return rq_fail(q, -EOPNOTSUPP,
				       "netem: corrupt is not supported");
	}
	if (tb[TCA_NETEM_ECN]) {
		uint32_t ecn = 0;

		if (get_u32(q, tb[TCA_NETEM_ECN], &ecn))
			return -EINVAL;
		if (ecn)
			return rq_fail(q, -EOPNOTSUPP,
				       "netem: ecn is not supported");
	}
	if (tb[TCA_NETEM_SLOT])
		return rq_fail(q, -EOPNOTSUPP, "netem: slot is not supported");
	if (qo.gap > 1)
		return rq_fail(q, -EOPNOTSUPP,
			       "netem: reorder gap other than 1 is not supported");
	if (tb[TCA_NETEM_RATE]) {
		struct tc_netem_rate r;

		if (attr_len(tb[TCA_NETEM_RATE]) < sizeof(r))
			return rq_fail(q, -EINVAL, "netem: short rate");
		memcpy(&r, attr_data(tb[TCA_NETEM_RATE]), sizeof(r));
		if (r.packet_overhead || r.cell_size || r.cell_overhead)
			return rq_fail(q, -EOPNOTSUPP,
				       "netem: rate overhead and cells are not "
				       "supported");
		rate = r.rate;
		have_rate = true;
		if (tb[TCA_NETEM_RATE64]) {
			uint64_t r64;

			if (attr_len(tb[TCA_NETEM_RATE64]) < 8)
				return rq_fail(q, -EINVAL, "netem: short rate64");
			memcpy(&r64, attr_data(tb[TCA_NETEM_RATE64]), 8);
			if (r64 > rate)
				rate = r64;
		}
	}
	lat = (int64_t)((uint64_t)qo.latency << 6); /* PSCHED_TICKS2NS */
	jit = (int64_t)((uint64_t)qo.jitter << 6);
	if (tb[TCA_NETEM_LATENCY64]) {
		if (attr_len(tb[TCA_NETEM_LATENCY64]) < 8)
			return rq_fail(q, -EINVAL, "netem: short latency64");
		memcpy(&lat, attr_data(tb[TCA_NETEM_LATENCY64]), 8);
	}
	if (tb[TCA_NETEM_JITTER64]) {
		if (attr_len(tb[TCA_NETEM_JITTER64]) < 8)
			return rq_fail(q, -EINVAL, "netem: short jitter64");
		memcpy(&jit, attr_data(tb[TCA_NETEM_JITTER64]), 8);
	}
	if (jit < 0)
		jit = jit == INT64_MIN ? INT64_MAX : -jit;
	if (jit > INT32_MAX)
		jit = INT32_MAX;
	if (lat < 0 || (uint64_t)lat > VSHAPE_DELAY_MAX)
		return rq_fail(q, -EINVAL, "netem: delay out of range");
	if (have_rate && rate > VSHAPE_BANDWIDTH_MAX / 8)
		return rq_fail(q, -EINVAL, "netem: rate out of range");

	if (!change)
		memset(p, 0, sizeof(*p));
	p->delay_ns = (uint64_t)lat;
	p->jitter_ns = (uint64_t)jit;
	p->queue_pkts = qo.limit;
	p->loss = prob_from_u32(qo.loss);
	p->duplicate = prob_from_u32(qo.duplicate);
	p->reorder = 0;
	if (qo.gap) {
		p->reorder = VSHAPE_PROB_ONE;
		if (tb[TCA_NETEM_REORDER]) {
			struct tc_netem_reorder r;

			if (attr_len(tb[TCA_NETEM_REORDER]) < sizeof(r))
				return rq_fail(q, -EINVAL, "netem: short reorder");
			memcpy(&r, attr_data(tb[TCA_NETEM_REORDER]), sizeof(r));
			if (r.correlation)
				return rq_fail(q, -EOPNOTSUPP,
					       "netem: correlation is not "
					       "supported");
			p->reorder = prob_from_u32(r.probability);
		}
	}
	if (have_rate)
		p->bandwidth = rate * 8;
	return 0;
}

static int tbf_parse(struct nlbuf *q, const struct nlattr *opt,
		     struct vshaper_params *p)
{
	const struct nlattr *tb[TCA_TBF_MAX + 1];
	struct tc_tbf_qopt qo;
	uint64_t rate;

	if (!opt || parse_stream(attr_data(opt), attr_len(opt), tb, TCA_TBF_MAX))
		return rq_fail(q, -EINVAL, "tbf: missing or malformed options");
	if (!tb[TCA_TBF_PARMS] || attr_len(tb[TCA_TBF_PARMS]) < sizeof(qo))
		return rq_fail(q, -EINVAL, "tbf: missing parameters");
	memcpy(&qo, attr_data(tb[TCA_TBF_PARMS]), sizeof(qo));
	if (qo.peakrate.rate || tb[TCA_TBF_PRATE64])
		return rq_fail(q, -EOPNOTSUPP, "tbf: peakrate is not supported");
	if (qo.rate.overhead || qo.rate.mpu ||
	    ((qo.rate.linklayer & TC_LINKLAYER_MASK) != TC_LINKLAYER_ETHERNET &&
	     (qo.rate.linklayer & TC_LINKLAYER_MASK) != TC_LINKLAYER_UNAWARE))
		return rq_fail(q, -EOPNOTSUPP,
			       "tbf: overhead, mpu and non-Ethernet link layers "
			       "are not supported");
	rate = qo.rate.rate;
	if (tb[TCA_TBF_RATE64]) {
		if (attr_len(tb[TCA_TBF_RATE64]) < 8)
			return rq_fail(q, -EINVAL, "tbf: short rate64");
		memcpy(&rate, attr_data(tb[TCA_TBF_RATE64]), 8);
	}
	if (!tb[TCA_TBF_BURST] && !qo.buffer)
		return rq_fail(q, -EINVAL, "tbf: burst is zero");
	if (rate == 0 || rate > VSHAPE_BANDWIDTH_MAX / 8)
		return rq_fail(q, -EINVAL, "tbf: rate out of range");
	if (qo.limit == 0)
		return rq_fail(q, -EOPNOTSUPP, "tbf: limit 0 is not supported");
	memset(p, 0, sizeof(*p));
	p->bandwidth = rate * 8;
	p->queue_bytes = qo.limit;
	return 0;
}

/* The attributes of one qdisc, in tc_fill_qdisc's order. */
static void fill_qdisc(struct nlbuf *q, struct ifnet *ifp, uint16_t type,
		       uint16_t flags, bool dump)
{
	struct vshaper_params p;
	enum qkind k = shaper_kind(ifp, &p);
	struct vshaper_stats st = {0};
	struct tcmsg t = {
		.tcm_family = AF_UNSPEC,
		.tcm_ifindex = (int)vif_index(ifp),
		.tcm_handle = k == QK_NONE ? 0 : QDISC_HANDLE,
		.tcm_parent = TC_H_ROOT,
		.tcm_info = 2, /* refcnt: the device's and its queue's */
	};
	struct gnet_stats_basic sb = {0};
	struct gnet_stats_queue sq = {0};
	struct tc_stats ts = {0};
	uint64_t rate = p.bandwidth / 8;

	nl_msg_begin(q, type, flags);
	nl_put(q, &t, sizeof(t));
	nl_attr_str(q, TCA_KIND, qkind_name(k, vif_flags(ifp) & VIFF_UP));
	if (k == QK_NETEM) {
		struct tc_netem_qopt qo = {
			.latency = (uint32_t)((p.delay_ns >> 6) > UINT32_MAX
						      ? UINT32_MAX
						      : p.delay_ns >> 6),
			.jitter = (uint32_t)((p.jitter_ns >> 6) > UINT32_MAX
						     ? UINT32_MAX
						     : p.jitter_ns >> 6),
			.limit = (uint32_t)(p.queue_pkts > UINT32_MAX
						    ? UINT32_MAX
						    : p.queue_pkts),
			.loss = prob_to_u32(p.loss),
			.gap = p.reorder ? 1 : 0,
			.duplicate = prob_to_u32(p.duplicate),
		};
		struct tc_netem_corr corr = {0};
		struct tc_netem_reorder ro = {.probability = prob_to_u32(p.reorder)};
		struct tc_netem_corrupt co = {0};
		struct tc_netem_rate nr = {.rate = (uint32_t)rate};
		int64_t lat = (int64_t)p.delay_ns, jit = (int64_t)p.jitter_ns;

		/* netem_dump: TCA_OPTIONS is the qopt and the attributes
		 * after it, one span. */
		nl_nest_begin(q, TCA_OPTIONS);
		nl_put(q, &qo, sizeof(qo));
		nl_attr_put(q, TCA_NETEM_LATENCY64, &lat, 8);
		nl_attr_put(q, TCA_NETEM_JITTER64, &jit, 8);
		nl_attr_put(q, TCA_NETEM_CORR, &corr, sizeof(corr));
		nl_attr_put(q, TCA_NETEM_REORDER, &ro, sizeof(ro));
		nl_attr_put(q, TCA_NETEM_CORRUPT, &co, sizeof(co));
		if (rate >= (1ull << 32)) {
			nl_attr_put(q, TCA_NETEM_RATE64, &rate, 8);
			nr.rate = UINT32_MAX;
		}
		nl_attr_put(q, TCA_NETEM_RATE, &nr, sizeof(nr));
		nl_nest_end(q);
	} else if (k == QK_TBF) {
		struct tc_tbf_qopt qo = {0};
		uint64_t burst = vif_mtu(ifp) + 14;
		/* Rounded up to whole microseconds, then to ticks: tc turns
		 * ticks back into whole microseconds, then bytes, so that it
		 * reads back at least the whole frame (1515b at 10mbit). */
		uint64_t us = (uint64_t)(((unsigned __int128)burst * 8 *
					  1000000u + p.bandwidth - 1) /
					 p.bandwidth);
		uint64_t ns = us * 1000 + 63;

		qo.rate.linklayer = TC_LINKLAYER_ETHERNET;
		qo.rate.rate = rate >= (1ull << 32) ? UINT32_MAX : (uint32_t)rate;
		qo.limit = (uint32_t)(p.queue_bytes > UINT32_MAX ? UINT32_MAX
								  : p.queue_bytes);
		qo.buffer = (uint32_t)((ns >> 6) > UINT32_MAX ? UINT32_MAX : ns >> 6);
		nl_nest_begin(q, TCA_OPTIONS);
		nl_attr_put(q, TCA_TBF_PARMS, &qo, sizeof(qo));
		if (rate >= (1ull << 32))
			nl_attr_put(q, TCA_TBF_RATE64, &rate, 8);
		nl_nest_end(q);
	}
	nl_attr_u8(q, TCA_HW_OFFLOAD, 0);
	if (k != QK_NONE && vif_shaper_stats(ifp, VSHAPE_EGRESS, &st) == 0) {
		sb.packets = (uint32_t)st.sent;
		sq.qlen = (uint32_t)st.queued_pkts;
		sq.backlog = (uint32_t)st.queued_bytes;
		sq.drops = (uint32_t)(st.dropped_loss + st.dropped_ber +
				      st.dropped_queue + st.flushed);
	}
	nl_nest_begin(q, TCA_STATS2);
	nl_attr_put(q, TCA_STATS_BASIC, &sb, sizeof(sb));
	if (st.sent > UINT32_MAX)
		nl_attr_put(q, TCA_STATS_PKT64, &st.sent, 8);
	nl_attr_put(q, TCA_STATS_QUEUE, &sq, sizeof(sq));
	nl_nest_end(q);
	ts.packets = sb.packets;
	ts.drops = sq.drops;
	ts.qlen = sq.qlen;
	ts.backlog = sq.backlog;
	nl_attr_put(q, TCA_STATS, &ts, sizeof(ts));
	nl_msg_end(q, dump);
}

/* tc_dump_qdisc: every device's root, whatever tcm_ifindex says (tc
 * filters by device itself); a down device without a shaper has the
 * built-in noop qdisc, which is never dumped. */
static int dump_qdisc(struct nlbuf *q, const struct nlmsghdr *nlh)
{
	const struct nlattr *tb[TCA_MAX + 1];
	struct tcmsg t;
	int err;

	err = parse_dump(q, nlh, &t, sizeof(t), tb, TCA_MAX);
	if (err)
		return err;
	for (struct ifnet *ifp = vif_first(q->vi); ifp; ifp = vif_next(ifp)) {
		struct vshaper_params p;

		if (shaper_kind(ifp, &p) == QK_NONE &&
		    !(vif_flags(ifp) & VIFF_UP))
			continue;
		fill_qdisc(q, ifp, RTM_NEWQDISC, NLM_F_MULTI, true);
	}
	nl_send_done(q, 0);
	return 0;
}

/* The kind a request names, "" when none. */
static int qdisc_req(struct nlbuf *q, const struct nlmsghdr *nlh,
		     struct tcmsg *t, const struct nlattr **tb, char kind[16],
		     struct ifnet **ifp)
{
	int err = parse_attrs(q, nlh, sizeof(*t), tb, TCA_MAX);

	if (err)
		return err;
	req_hdr(nlh, t, sizeof(*t));
	err = get_str(q, tb[TCA_KIND], kind, 16);
	if (err)
		return err;
	*ifp = t->tcm_ifindex > 0 ? vif_by_index(q->vi, (unsigned)t->tcm_ifindex)
				  : NULL;
	if (!*ifp)
		return rq_fail(q, -ENODEV, "Device not found");
	return 0;
}

/* RTM_DELQDISC and RTM_GETQDISC: tc_get_qdisc. */
static int do_getdel_qdisc(struct nlbuf *q, const struct nlmsghdr *nlh,
			   bool del)
{
	const struct nlattr *tb[TCA_MAX + 1];
	struct vshaper_params p;
	struct tcmsg t;
	char kind[16];
	struct ifnet *ifp;
	enum qkind k;
	uint32_t handle;
	bool up;
	int err;

	err = qdisc_req(q, nlh, &t, tb, kind, &ifp);
	if (err)
		return err;
	k = shaper_kind(ifp, &p);
	up = vif_flags(ifp) & VIFF_UP;
	handle = k == QK_NONE ? 0 : QDISC_HANDLE;
	if (t.tcm_parent == 0) {
		if (k == QK_NONE || t.tcm_handle != QDISC_HANDLE)
			return rq_fail(q, -ENOENT,
				       "Failed to find qdisc with specified handle");
	} else if (t.tcm_parent == TC_H_INGRESS) {
		return rq_fail(q, -ENOENT,
			       "Cannot find specified qdisc on specified device");
	} else if (t.tcm_parent != TC_H_ROOT) {
		if (k != QK_NONE && TC_H_MAJ(t.tcm_parent) == QDISC_HANDLE)
			return rq_fail(q, -EOPNOTSUPP,
				       "vimage: qdisc classes are not supported");
		return rq_fail(q, -ENOENT,
			       "Failed to find qdisc with specified classid");
	} else if (t.tcm_handle && t.tcm_handle != handle) {
		return rq_fail(q, -EINVAL, "Invalid handle");
	}
	if (kind[0] && strcmp(kind, qkind_name(k, up)) != 0)
		return rq_fail(q, -EINVAL,
			       "Invalid qdisc name: must match existing qdisc");
	if (!del) {
		fill_qdisc(q, ifp, RTM_NEWQDISC, 0, false);
		nl_flush(q);
		return 0;
	}
	if (t.tcm_parent == 0)
		return rq_fail(q, -EINVAL, "Classid cannot be zero");
	if (k == QK_NONE)
		return rq_fail(q, -ENOENT, "Cannot delete qdisc with handle of zero");
	return vif_shaper_set(ifp, VSHAPE_EGRESS, NULL);
}

static int qdisc_create(struct nlbuf *q, struct ifnet *ifp, const char *kind,
			const struct nlattr *opt)
{
	struct vshaper_params p;
	int err;

	if (strcmp(kind, "netem") == 0)
		err = netem_parse(q, opt, &p, false);
	else if (strcmp(kind, "tbf") == 0)
		err = tbf_parse(q, opt, &p);
	else if (!kind[0])
		return rq_fail(q, -ENOENT, "Specified qdisc kind is unknown");
	else
		return rq_fail(q, -EOPNOTSUPP,
			       "vimage: only netem and tbf root qdiscs are "
			       "supported");
	if (err)
		return err;
	err = vif_shaper_set(ifp, VSHAPE_EGRESS, &p);
	return err ? rq_fail(q, err, "vimage: shaper parameters refused") : 0;
}

/* RTM_NEWQDISC: tc_modify_qdisc, for the root of egress only. */
static int do_newqdisc(struct nlbuf *q, const struct nlmsghdr *nlh)
{
	const struct nlattr *tb[TCA_MAX + 1];
	struct vshaper_params p;
	struct tcmsg t;
	char kind[16];
	struct ifnet *ifp;
	enum qkind k;
	uint16_t f = nlh->nlmsg_flags;
	int err;

	err = qdisc_req(q, nlh, &t, tb, kind, &ifp);
	if (err)
		return err;
	k = shaper_kind(ifp, &p);
	if (t.tcm_parent == 0) {
		if (!t.tcm_handle)
			return rq_fail(q, -EINVAL, "Handle cannot be zero");
		if (k == QK_NONE || t.tcm_handle != QDISC_HANDLE)
			return rq_fail(q, -ENOENT, "Specified qdisc not found");
	} else if (t.tcm_parent == TC_H_INGRESS) {
		return rq_fail(q, -EOPNOTSUPP,
			       "vimage: ingress and clsact qdiscs are not "
			       "supported");
	} else if (t.tcm_parent != TC_H_ROOT) {
		if (k != QK_NONE && TC_H_MAJ(t.tcm_parent) == QDISC_HANDLE)
			return rq_fail(q, -EOPNOTSUPP,
				       "vimage: qdisc classes are not supported");
		return rq_fail(q, -ENOENT, "Failed to find specified qdisc");
	} else if (k == QK_NONE || !t.tcm_handle || t.tcm_handle != QDISC_HANDLE) {
		if (t.tcm_handle) {
			if (k != QK_NONE && !(f & NLM_F_REPLACE))
				return rq_fail(q, -EEXIST,
					       "NLM_F_REPLACE needed to override");
			if (TC_H_MIN(t.tcm_handle))
				return rq_fail(q, -EINVAL, "Invalid minor handle");
			return rq_fail(q, -EOPNOTSUPP,
				       "vimage: only the automatic handle is "
				       "supported");
		}
		if (k == QK_NONE ||
		    ((f & NLM_F_CREATE) && (f & NLM_F_REPLACE) &&
		     ((f & NLM_F_EXCL) ||
		      (kind[0] && strcmp(kind, qkind_name(k, true)) != 0)))) {
			if (!(f & NLM_F_CREATE))
				return rq_fail(q, -ENOENT,
					       "Qdisc not found. To create "
					       "specify NLM_F_CREATE flag");
			return qdisc_create(q, ifp, kind, tb[TCA_OPTIONS]);
		}
	}
	/* Change the qdisc in place. */
	if (f & NLM_F_EXCL)
		return rq_fail(q, -EEXIST, "Exclusivity flag on, cannot modify");
	if (kind[0] && strcmp(kind, qkind_name(k, true)) != 0)
		return rq_fail(q, -EINVAL,
			       "Invalid qdisc name: must match existing qdisc");
	if (!tb[TCA_OPTIONS])
		return 0; /* qdisc_change: nothing to change */
	if (k == QK_NETEM)
		err = netem_parse(q, tb[TCA_OPTIONS], &p, true);
	else
		err = tbf_parse(q, tb[TCA_OPTIONS], &p);
	if (err)
		return err;
	err = vif_shaper_set(ifp, VSHAPE_EGRESS, &p);
	return err ? rq_fail(q, err, "vimage: shaper parameters refused") : 0;
}

/* ---- dispatch ------------------------------------------------------------------- */
/* One request. A non-zero return is answered with NLMSG_ERROR by the
 * caller, except -EINTR: a dump, answered already and never acked (the
 * kernel's netlink_rcv_skb does the same). */
static int handle(struct nlbuf *q, const struct nlmsghdr *nlh, void *ctx)
{
	uint16_t type = nlh->nlmsg_type;
	bool dump = (nlh->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP;
	int err;

	if (type > RTM_MAX)
		return rq_fail(q, -EOPNOTSUPP, "Unknown message type");
	/* rtnetlink_rcv_msg: "All the messages must have at least 1 byte". */
	if (nlh->nlmsg_len < NLMSG_LENGTH(1))
		return 0;
	if ((type & 3) == 2 && dump) {
		switch (type) {
		case RTM_GETLINK:
			err = dump_link(q, nlh);
			break;
		case RTM_GETADDR:
			err = dump_addr(q, nlh);
			break;
		case RTM_GETROUTE:
			err = dump_route(q, nlh);
			break;
		case RTM_GETNEIGH:
			err = dump_neigh(q, nlh);
			break;
		case RTM_GETRULE:
			err = dump_rule(q, nlh);
			break;
		case RTM_GETQDISC:
			err = dump_qdisc(q, nlh);
			break;
		default:
			/* Nothing of that kind here (qdiscs, netconf, nsids,
			 * nexthops, stats...): an empty dump, never silence. */
			nl_send_done(q, 0);
			err = 0;
			break;
		}
		return err ? err : -EINTR;
	}
	switch (type) {
	case RTM_GETLINK:
		return do_getlink(q, nlh);
	case RTM_NEWLINK:
		return do_newlink(q, nlh);
	case RTM_DELLINK:
		return do_dellink(q, nlh);
	case RTM_NEWADDR:
	case RTM_DELADDR:
		return do_addr(q, nlh, type == RTM_NEWADDR);
	case RTM_GETROUTE:
		return do_getroute(q, nlh);
	case RTM_NEWROUTE:
	case RTM_DELROUTE:
		return do_route(q, nlh, type == RTM_NEWROUTE);
	case RTM_NEWNEIGH:
	case RTM_DELNEIGH:
		return do_neigh(q, nlh, type == RTM_NEWNEIGH);
	case RTM_NEWQDISC:
		return do_newqdisc(q, nlh);
	case RTM_DELQDISC:
	case RTM_GETQDISC:
		return do_getdel_qdisc(q, nlh, type == RTM_DELQDISC);
	default:
		return rq_fail(q, -EOPNOTSUPP, "Operation not supported");
	}
}

int rtnl_request_opts(struct vimage *vi, uint32_t portid, const void *dgram,
		      size_t len, unsigned opts, const struct rtnl_out *out)
{
	struct nlbuf q = {
		.vi = vi,
		.portid = portid,
		.opts = opts,
		.trunc_opts = RTNL_F_CAP_ACK,
		.out = out,
	};

	return nl_rcv(&q, dgram, len, handle, NULL);
}

int rtnl_request(struct vimage *vi, uint32_t portid, const void *dgram,
		 size_t len, const struct rtnl_out *out)
{
	return rtnl_request_opts(vi, portid, dgram, len, 0, out);
}
