/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rtnetlink and interface ioctl emulation: what a program inside a vimage
 * sees when it talks to "the kernel" about interfaces, addresses, routes and
 * neighbours. Pure functions over the core's API: no I/O, no globals. The
 * preload shim carries the bytes; this decides what Linux would answer, so
 * that Debian's unmodified ip(8), ifconfig(8), route(8) and arp(8) work.
 *
 * IPv4 only: IPv6 dumps are empty, IPv6 changes fail with -EAFNOSUPPORT.
 */
#ifndef VIMAGED_RTNL_H
#define VIMAGED_RTNL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <net/route.h>
#include <vimage/vimage.h>

/* ---- rtnetlink --------------------------------------------------------- */

/* Where replies go: emit is called once per reply datagram (a datagram may
 * hold several nlmsghdr; dumps end with NLMSG_DONE, flagged NLM_F_MULTI
 * like Linux). The data is only valid during the call: copy it. */
struct rtnl_out {
	void (*emit)(void *arg, const void *dgram, size_t len);
	void *arg;
};

/* Handle one datagram that a program in vi sent on a NETLINK_ROUTE socket
 * whose port id is portid. Every nlmsghdr in it is processed in order.
 * Requests with NLM_F_ACK get an NLMSG_ERROR ack (error 0); failures get
 * NLMSG_ERROR with the negative errno Linux gives, with the original
 * header echoed. Malformed messages (bad lengths, truncated attributes)
 * get an NLMSG_ERROR -EINVAL and never crash. Returns 0, or a negative
 * errno if the datagram could not be parsed at all.
 *
 * Framing follows the kernel's netlink_rcv_skb with one exception: a
 * header whose nlmsg_len is below 16 ends the datagram silently (ip(8)
 * sends its dump requests from a zero-padded buffer: the padding reads as
 * nlmsg_len 0 and must not be answered), but a header cut short by the end
 * of the datagram, or one claiming more bytes than remain, is answered
 * with -EINVAL where Linux would stay silent, so that a broken sender is
 * not left waiting. All replies to one datagram are emitted before
 * rtnl_request returns: a caller that queues them at once lets a program's
 * recv(MSG_DONTWAIT|MSG_PEEK) right after its send see errors, which is how
 * ip(8)'s batched deletions (neigh flush) learn of failures. */
int rtnl_request(struct vimage *vi, uint32_t portid, const void *dgram,
		 size_t len, const struct rtnl_out *out);

/* Socket options of the program's netlink socket that change replies. */
#define RTNL_F_EXT_ACK 0x1 /* NETLINK_EXT_ACK: errors carry a message */
#define RTNL_F_CAP_ACK 0x2 /* NETLINK_CAP_ACK: errors echo the header only */

/* rtnl_request with the socket's options (RTNL_F_*). */
int rtnl_request_opts(struct vimage *vi, uint32_t portid, const void *dgram,
		      size_t len, unsigned opts, const struct rtnl_out *out);

/* Largest reply datagram a dump packs messages into, as the kernel's
 * 16 KiB dump buffers (a single message larger than this still goes out
 * whole, alone in its datagram). */
#define RTNL_DGRAM_MAX 16384

/* What Linux's dev_get_flags and netif_carrier_ok would say of ifp: a
 * veth has carrier while its peer is up, a bridge while one of its ports
 * has; RUNNING and LOWER_UP follow the carrier. Shared with ifioctl. */
bool rtnl_if_carrier(struct ifnet *ifp);
uint32_t rtnl_if_flags(struct ifnet *ifp);

/* ---- interface ioctls ---------------------------------------------------- */

/* Interface ioctls as Linux's dev_ioctl/inet_ioctl: req is the ioctl number,
 * arg points to the caller's structure (struct ifreq, struct rtentry, struct
 * arpreq, or the flat forms below) of arglen bytes, read and written in
 * place. Returns 0 or a negative errno (-ENODEV unknown interface, -EINVAL,
 * -EOPNOTSUPP for what is not emulated, -EEXIST...).
 *
 * Handled: SIOCGIFCONF, SIOCGIFFLAGS/SIOCSIFFLAGS (IFF_UP), SIOCGIFADDR/
 * SIOCSIFADDR, SIOCGIFNETMASK/SIOCSIFNETMASK, SIOCGIFBRDADDR/SIOCSIFBRDADDR
 * (only the broadcast the address implies), SIOCGIFDSTADDR, SIOCGIFMTU/
 * SIOCSIFMTU, SIOCGIFHWADDR/SIOCSIFHWADDR, SIOCGIFINDEX, SIOCGIFNAME,
 * SIOCGIFMETRIC, SIOCGIFTXQLEN, SIOCGIFMAP, SIOCSIFNAME, SIOCADDRT/SIOCDELRT
 * (struct rtentry_flat), SIOCGARP/SIOCSARP/SIOCDARP.
 *
 * Pointers cannot cross processes, so two requests take a flat form that
 * the shim builds from the program's structure and copies back from: */

/* SIOCGIFCONF: in place of struct ifconf. The shim allocates
 * sizeof(struct ifconf_flat) + ifc_len bytes, sets len to the program's
 * ifc_len and null_buf to 1 when ifc_buf was NULL (Linux then only reports
 * the length needed), and copies len bytes of buf back to ifc_buf and len
 * to ifc_len. buf receives struct ifreq records (name, AF_INET address),
 * one per IPv4 address, as many as fit. */
struct ifconf_flat {
	int32_t len;      /* in: bytes of buf; out: bytes used (or needed) */
	int32_t null_buf; /* in: nonzero when the program's ifc_buf is NULL */
	uint8_t buf[];
};

/* SIOCADDRT/SIOCDELRT: struct rtentry followed by the interface name
 * that rt_dev pointed to (empty when rt_dev was NULL). rt.rt_dev itself is
 * ignored. arglen must be sizeof(struct rtentry_flat). */
#define RTENTRY_FLAT_DEVSIZ 16 /* IFNAMSIZ */
struct rtentry_flat {
	struct rtentry rt;
	char dev[RTENTRY_FLAT_DEVSIZ]; /* NUL-terminated; "" for no rt_dev */
};

int ifioctl(struct vimage *vi, unsigned long req, void *arg, size_t arglen);

#endif
