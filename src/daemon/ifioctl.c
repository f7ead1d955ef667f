/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Interface ioctls (see rtnl.h): what Linux's dev_ioctl, devinet_ioctl,
 * ip_rt_ioctl and arp_ioctl do, over the vimage's state, so that
 * net-tools (ifconfig, route, arp) and programs asking SIOCGIFINDEX and
 * friends work inside a vimage and agree with what ip(8) shows.
 *
 * IPv4 interface addresses have no labels here: an alias name
 * ("eth0:1") names no interface (-ENODEV).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <net/route.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <string.h>
#include <sys/ioctl.h>

#include <vimage/net.h>

#include "daemon/rtnl.h"

static uint32_t mask4(unsigned plen)
{
	return plen ? ~0u << (32 - plen) : 0;
}

/* A contiguous netmask (host order) and its length, else -1 (bad_mask). */
static int mask_len(uint32_t mask)
{
	uint32_t inv = ~mask;

	if (inv & (inv + 1))
		return -1;
	return mask ? 32 - __builtin_ctz(mask) : 0;
}

static uint32_t sin_addr_of(const struct sockaddr *sa)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;

	return ntohl(sin->sin_addr.s_addr);
}

static void sin_set(struct sockaddr *sa, uint32_t host)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)sa;

	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(host);
}

/* The interface ifr names; the name is terminated in place, as the kernel
 * does on its copy. */
static struct ifnet *ifr_dev(struct vimage *vi, struct ifreq *ifr)
{
	ifr->ifr_name[IFNAMSIZ - 1] = 0;
	return vif_lookup(vi, ifr->ifr_name);
}

/* The first IPv4 address: the one devinet_ioctl finds by label. */
static int first_one(void *ctx, const struct vif_addr_info *a)
{
	if (a->addr.family != AF_INET)
		return 0;
	*(struct vif_addr_info *)ctx = *a;
	return 1;
}

static bool first_addr(struct ifnet *ifp, struct vif_addr_info *a)
{
	memset(a, 0, sizeof(*a));
	return vif_addr_walk(ifp, first_one, a) == 1;
}

/* inet_abc_len: the classful prefix SIOCSIFADDR gives a new address. */
static int abc_len(uint32_t a)
{
	if (a == 0 || a == 0xffffffffu)
		return 0;
	if ((a & 0x80000000u) == 0)
		return 8;
	if ((a & 0xc0000000u) == 0x80000000u)
		return 16;
	if ((a & 0xe0000000u) == 0xc0000000u)
		return 24;
	if ((a & 0xf0000000u) == 0xf0000000u)
		return 32; /* class E */
	return -1;         /* multicast */
}

/* ---- SIOCGIFCONF ----------------------------------------------------------- */
struct gifconf {
	struct ifconf_flat *fc;
	struct ifnet *ifp;
	size_t used, room;
	bool count_only;
};

static int gifconf_one(void *ctx, const struct vif_addr_info *a)
{
	struct gifconf *g = ctx;
	struct ifreq r;

	if (a->addr.family != AF_INET)
		return 0;
	if (g->count_only) {
		g->used += sizeof(r);
		return 0;
	}
	/* inet_gifconf stops at the first record that does not fit. */
	if (g->room - g->used < sizeof(r))
		return 1;
	memset(&r, 0, sizeof(r));
	strncpy(r.ifr_name, vif_name(g->ifp), IFNAMSIZ - 1);
	sin_set(&r.ifr_addr, a->addr.v4);
	memcpy(g->fc->buf + g->used, &r, sizeof(r));
	g->used += sizeof(r);
	return 0;
}

static int gifconf(struct vimage *vi, void *arg, size_t arglen)
{
	struct gifconf g = {.fc = arg};

	if (arglen < sizeof(struct ifconf_flat))
		return -EINVAL;
	g.count_only = g.fc->null_buf != 0;
	if (!g.count_only) {
		if (g.fc->len < 0 ||
		    (size_t)g.fc->len > arglen - sizeof(struct ifconf_flat))
			return -EINVAL;
		g.room = (size_t)g.fc->len;
	}
	for (struct ifnet *ifp = vif_first(vi); ifp; ifp = vif_next(ifp)) {
		g.ifp = ifp;
		if (vif_addr_walk(ifp, gifconf_one, &g) == 1)
			break;
	}
	g.fc->len = (int32_t)g.used;
	return 0;
}

/* ---- addresses ---------------------------------------------------------------- */
/* Replace addr/old_plen by addr/new_plen, as inet_del_ifa + insert; the
 * old one comes back if the new one cannot be added. */
static int readdr(struct ifnet *ifp, const struct vif_addr_info *old,
		  uint32_t addr, unsigned plen)
{
	struct vaddr va = vaddr_v4(addr);
	int err;

	err = vif_addr_del(ifp, &old->addr, old->plen);
	if (err)
		return err;
	err = vif_addr_add(ifp, &va, plen);
	if (err)
		vif_addr_add(ifp, &old->addr, old->plen);
	return err;
}

static int inet_ioctl(struct ifnet *ifp, unsigned long req, struct ifreq *ifr)
{
	struct vif_addr_info a;
	bool have = first_addr(ifp, &a);
	uint32_t v = 0;
	int plen;

	switch (req) {
	case SIOCSIFADDR:
	case SIOCSIFBRDADDR:
	case SIOCSIFDSTADDR:
	case SIOCSIFNETMASK:
		if (ifr->ifr_addr.sa_family != AF_INET)
			return -EINVAL;
		v = sin_addr_of(&ifr->ifr_addr);
		break;
	default:
		break;
	}
	if (!have && req != SIOCSIFADDR)
		return -EADDRNOTAVAIL;
	switch (req) {
	case SIOCGIFADDR:
		sin_set(&ifr->ifr_addr, a.addr.v4);
		return 0;
	case SIOCGIFBRDADDR:
		sin_set(&ifr->ifr_broadaddr,
			a.broadcast.family == AF_INET ? a.broadcast.v4 : 0);
		return 0;
	case SIOCGIFDSTADDR:
		/* ifa_address: the local address on a broadcast link */
		sin_set(&ifr->ifr_dstaddr, a.addr.v4);
		return 0;
	case SIOCGIFNETMASK:
		sin_set(&ifr->ifr_netmask, mask4(a.plen));
		return 0;
	case SIOCSIFADDR:
		plen = abc_len(v);
		if (plen < 0)
			return -EINVAL;
		if (have && a.addr.v4 == v)
			return 0;
		if (v == 0) {
			/* "ifconfig eth0 0.0.0.0": the address goes, none
			 * comes (inet_insert_ifa drops a zero local). */
			return have ? vif_addr_del(ifp, &a.addr, a.plen) : 0;
		}
		if (have)
			return readdr(ifp, &a, v, (unsigned)plen);
		{
			struct vaddr va = vaddr_v4(v);

			return vif_addr_add(ifp, &va, (unsigned)plen);
		}
	case SIOCSIFNETMASK:
		plen = mask_len(v);
		if (plen < 0)
			return -EINVAL;
		if ((unsigned)plen == a.plen)
			return 0;
		return readdr(ifp, &a, a.addr.v4, (unsigned)plen);
	case SIOCSIFBRDADDR:
		/* The broadcast follows the prefix here; only that one. */
		if (a.broadcast.family == AF_INET && a.broadcast.v4 == v)
			return 0;
		return -EOPNOTSUPP;
	case SIOCSIFDSTADDR:
		/* No point-to-point links: the peer is the address. */
		return v == a.addr.v4 ? 0 : -EOPNOTSUPP;
	}
	return -EOPNOTSUPP;
}

/* ---- the interface itself ------------------------------------------------------- */
static int dev_ioctl(struct vimage *vi, unsigned long req, struct ifreq *ifr)
{
	struct ifnet *ifp;
	uint8_t mac[6];
	uint32_t cur, want;

	if (req == SIOCGIFNAME) {
		ifp = ifr->ifr_ifindex > 0 ?
			      vif_by_index(vi, (unsigned)ifr->ifr_ifindex) : NULL;
		if (!ifp)
			return -ENODEV;
		memset(ifr->ifr_name, 0, IFNAMSIZ);
		strncpy(ifr->ifr_name, vif_name(ifp), IFNAMSIZ - 1);
		return 0;
	}
	ifp = ifr_dev(vi, ifr);
	if (!ifp)
		return -ENODEV;
	switch (req) {
	case SIOCGIFINDEX:
		ifr->ifr_ifindex = (int)vif_index(ifp);
		return 0;
	case SIOCGIFFLAGS:
		/* a short: IFF_LOWER_UP and above do not fit, as on Linux */
		ifr->ifr_flags = (short)(rtnl_if_flags(ifp) & 0xffff);
		return 0;
	case SIOCSIFFLAGS:
		cur = rtnl_if_flags(ifp);
		want = (uint16_t)ifr->ifr_flags;
		/* Only IFF_UP is modelled; refuse what would change others. */
		if ((cur ^ want) & (IFF_NOARP | IFF_PROMISC | IFF_ALLMULTI))
			return -EOPNOTSUPP;
		return vif_set_up(ifp, want & IFF_UP);
	case SIOCGIFMETRIC:
		ifr->ifr_metric = 0;
		return 0;
	case SIOCGIFMTU:
		ifr->ifr_mtu = (int)vif_mtu(ifp);
		return 0;
	case SIOCSIFMTU:
		if (ifr->ifr_mtu < 0)
			return -EINVAL;
		return vif_set_mtu(ifp, (unsigned)ifr->ifr_mtu);
	case SIOCGIFHWADDR:
		memset(&ifr->ifr_hwaddr, 0, sizeof(ifr->ifr_hwaddr));
		ifr->ifr_hwaddr.sa_family = vif_type(ifp) == VIF_LOOPBACK ?
						    ARPHRD_LOOPBACK : ARPHRD_ETHER;
		if (vif_type(ifp) != VIF_LOOPBACK) {
			vif_mac(ifp, mac);
			memcpy(ifr->ifr_hwaddr.sa_data, mac, 6);
		}
		return 0;
	case SIOCSIFHWADDR:
		if (ifr->ifr_hwaddr.sa_family !=
		    (vif_type(ifp) == VIF_LOOPBACK ? ARPHRD_LOOPBACK : ARPHRD_ETHER))
			return -EINVAL;
		memcpy(mac, ifr->ifr_hwaddr.sa_data, 6);
		return vif_set_mac(ifp, mac);
	case SIOCGIFTXQLEN:
		ifr->ifr_qlen = 1000;
		return 0;
	case SIOCSIFTXQLEN:
		return ifr->ifr_qlen == 1000 ? 0 : -EOPNOTSUPP;
	case SIOCGIFMAP:
		memset(&ifr->ifr_map, 0, sizeof(ifr->ifr_map));
		return 0;
	case SIOCSIFNAME:
		ifr->ifr_newname[IFNAMSIZ - 1] = 0;
		return vif_rename(ifp, ifr->ifr_newname);
	default:
		return inet_ioctl(ifp, req, ifr);
	}
}

/* ---- routes (ip_rt_ioctl) -------------------------------------------------------- */
struct rt_find {
	uint32_t dst;
	unsigned plen;
	struct vroute r;
	bool have;
};

static int rt_find_one(void *ctx, const struct vroute *r)
{
	struct rt_find *f = ctx;

	if (r->dst.family == AF_INET && r->dst.v4 == f->dst && r->plen == f->plen) {
		f->r = *r;
		f->have = true;
		return 1;
	}
	return 0;
}

static int rt_ioctl(struct vimage *vi, unsigned long req, void *arg, size_t arglen)
{
	struct rtentry_flat *fl = arg;
	const struct rtentry *rt = &fl->rt;
	struct vroute r = {0};
	uint32_t dst, gw;
	int plen = 32;

	if (arglen < sizeof(*fl))
		return -EINVAL;
	fl->dev[sizeof(fl->dev) - 1] = 0;
	/* rtentry_to_fib_config, check for check */
	if (rt->rt_dst.sa_family != AF_INET)
		return -EAFNOSUPPORT;
	dst = sin_addr_of(&rt->rt_dst);
	if (!(rt->rt_flags & RTF_HOST)) {
		uint32_t mask = sin_addr_of(&rt->rt_genmask);

		if (rt->rt_genmask.sa_family != AF_INET &&
		    (mask || rt->rt_genmask.sa_family))
			return -EAFNOSUPPORT;
		plen = mask_len(mask);
		if (plen < 0 || (dst & ~mask))
			return -EINVAL;
	}
	r.dst = vaddr_v4(dst);
	r.plen = (unsigned)plen;
	r.proto = VRT_PROTO_BOOT;
	r.type = (rt->rt_flags & RTF_REJECT) ? VRT_UNREACHABLE : VRT_UNICAST;
	if (rt->rt_metric)
		r.metric = (uint32_t)rt->rt_metric - 1;
	if (fl->dev[0] && r.type == VRT_UNICAST) {
		r.ifp = vif_lookup(vi, fl->dev);
		if (!r.ifp)
			return -ENODEV;
	}
	gw = sin_addr_of(&rt->rt_gateway);
	if (r.type == VRT_UNICAST && rt->rt_gateway.sa_family == AF_INET && gw)
		r.gw = vaddr_v4(gw);
	if (req == SIOCDELRT) {
		struct rt_find f = {.dst = dst, .plen = r.plen};

		vroute_walk(vi, AF_INET, false, rt_find_one, &f);
		if (!f.have || (r.gw.family && !vaddr_eq(&r.gw, &f.r.gw)) ||
		    (r.ifp && r.ifp != f.r.ifp) ||
		    (rt->rt_metric && r.metric != f.r.metric))
			return -ESRCH;
		return vroute_del(vi, &r.dst, r.plen);
	}
	if ((rt->rt_flags & RTF_GATEWAY) && !r.gw.family && r.type == VRT_UNICAST)
		return -EINVAL;
	if (r.type == VRT_UNICAST && !r.gw.family && !r.ifp)
		return -ENODEV; /* fib_create_info: a link route needs a device */
	return vroute_add(vi, &r);
}

/* ---- ARP (arp_ioctl) ---------------------------------------------------------------- */
struct arp_find {
	struct ifnet *ifp;
	uint32_t ip;
	struct vneigh_info n;
	bool have;
};

static int arp_find_one(void *ctx, const struct vneigh_info *n)
{
	struct arp_find *f = ctx;

	if (n->ifp == f->ifp && n->addr.family == AF_INET && n->addr.v4 == f->ip) {
		f->n = *n;
		f->have = true;
		return 1;
	}
	return 0;
}

static int arp_ioctl(struct vimage *vi, unsigned long req, void *arg, size_t arglen)
{
	struct arpreq *r = arg;
	struct arp_find f = {0};
	struct vaddr va;
	uint8_t mac[6];

	if (arglen < sizeof(*r))
		return -EINVAL;
	if (r->arp_pa.sa_family != AF_INET)
		return -EPFNOSUPPORT;
	f.ip = sin_addr_of(&r->arp_pa);
	va = vaddr_v4(f.ip);
	r->arp_dev[sizeof(r->arp_dev) - 1] = 0;
	if (r->arp_dev[0]) {
		f.ifp = vif_lookup(vi, r->arp_dev);
		if (!f.ifp)
			return -ENODEV;
		if (!r->arp_ha.sa_family)
			r->arp_ha.sa_family = ARPHRD_ETHER;
		if ((r->arp_flags & ATF_COM) && r->arp_ha.sa_family != ARPHRD_ETHER)
			return -EINVAL;
	} else if (req == SIOCGARP) {
		return -ENODEV;
	}
	if (req != SIOCGARP && (r->arp_flags & ATF_PUBL))
		return -EOPNOTSUPP; /* proxy ARP */
	if (!f.ifp) {
		/* No device named: the one the route to the address uses. */
		struct vroute rt;
		int err = vroute_get(vi, &va, &rt);

		if (err)
			return err;
		if (!rt.ifp)
			return -EINVAL;
		f.ifp = rt.ifp;
	}
	switch (req) {
	case SIOCGARP:
		vneigh_walk(vi, arp_find_one, &f);
		if (!f.have)
			return -ENXIO;
		memset(&r->arp_ha, 0, sizeof(r->arp_ha));
		r->arp_ha.sa_family = ARPHRD_ETHER;
		memcpy(r->arp_ha.sa_data, f.n.mac, 6);
		r->arp_flags = 0;
		if (f.n.state == VNEIGH_REACHABLE || f.n.state == VNEIGH_STALE ||
		    f.n.state == VNEIGH_PERMANENT)
			r->arp_flags |= ATF_COM;
		if (f.n.state == VNEIGH_PERMANENT)
			r->arp_flags |= ATF_PERM;
		return 0;
	case SIOCSARP:
		if (r->arp_ha.sa_family != ARPHRD_ETHER)
			return -EINVAL;
		/* Entries set by hand are kept until deleted, with or
		 * without ATF_PERM (the cache has no other static state). */
		memcpy(mac, r->arp_ha.sa_data, 6);
		return vneigh_add_permanent(f.ifp, &va, mac);
	case SIOCDARP: {
		int err = vneigh_del(f.ifp, &va);

		return err == -ENOENT ? -ENXIO : err; /* arp_invalidate */
	}
	}
	return -EOPNOTSUPP;
}

int ifioctl(struct vimage *vi, unsigned long req, void *arg, size_t arglen)
{
	if (!arg)
		return -EFAULT;
	switch (req) {
	case SIOCGIFCONF:
		return gifconf(vi, arg, arglen);
	case SIOCADDRT:
	case SIOCDELRT:
		return rt_ioctl(vi, req, arg, arglen);
	case SIOCGARP:
	case SIOCSARP:
	case SIOCDARP:
		return arp_ioctl(vi, req, arg, arglen);
	case SIOCGIFNAME:
	case SIOCGIFINDEX:
	case SIOCGIFFLAGS:
	case SIOCSIFFLAGS:
	case SIOCGIFMETRIC:
	case SIOCGIFMTU:
	case SIOCSIFMTU:
	case SIOCGIFHWADDR:
	case SIOCSIFHWADDR:
	case SIOCGIFTXQLEN:
	case SIOCSIFTXQLEN:
	case SIOCGIFMAP:
	case SIOCSIFNAME:
	case SIOCGIFADDR:
	case SIOCSIFADDR:
	case SIOCGIFNETMASK:
	case SIOCSIFNETMASK:
	case SIOCGIFBRDADDR:
	case SIOCSIFBRDADDR:
	case SIOCGIFDSTADDR:
	case SIOCSIFDSTADDR:
		if (arglen < sizeof(struct ifreq))
			return -EINVAL;
		return dev_ioctl(vi, req, arg);
	default:
		return -EOPNOTSUPP;
	}
}
