/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * netns_mk: create N Linux network namespaces as fast as the kernel allows,
 * for bench/linux/netns_create.sh (the Linux baseline of vimage_create_us).
 *
 *   netns_mk PREFIX N HUB
 *
 * For each i in 0..N-1, in one process (no fork/exec of ip(8)):
 *   - create /run/netns/PREFIX<i>, unshare(CLONE_NEWNET) and bind-mount the
 *     new namespace there (what `ip netns add` does, so ip(8) sees it);
 *   - one rtnetlink batch inside it: lo up; a veth pair "veth0" (up, ifindex 2)
 *     whose peer p<i> is created straight in the namespace HUB (an
 *     existing /run/netns entry); on veth0 the address
 *     10.<200+i/65534>.0.0/16 with host part i%65534+1 (each namespace has
 *     its own, so they never clash);
 *   - wait for the three acks, then set the hub end up through a netlink
 *     socket opened in the hub at start (a fourth request, fourth ack).
 * Prints "elapsed_ns <wall> cpu_ns <cpu>": the wall time of all of the above
 * for the N namespaces, and the CPU time of the whole process (user+system;
 * the difference is mostly waiting, e.g. for RCU grace periods, or other
 * tasks on a busy machine).
 * On error it stops and exits 1; the caller deletes what was made (by name).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define NS_DIR "/run/netns/"
#define VETH_IFINDEX 2 /* a new namespace holds only lo (1) */

struct nlbuf {
	char data[2048];
	size_t len; /* bytes of complete messages */
};

static struct nlmsghdr *nl_begin(struct nlbuf *b, uint16_t type, uint16_t flags,
				 uint32_t seq, const void *hdr, size_t hdrlen)
{
	struct nlmsghdr *n = (struct nlmsghdr *)(b->data + b->len);

	memset(n, 0, NLMSG_SPACE(hdrlen));
	n->nlmsg_len = NLMSG_LENGTH(hdrlen);
	n->nlmsg_type = type;
	n->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	n->nlmsg_seq = seq;
	memcpy(NLMSG_DATA(n), hdr, hdrlen);
	return n;
}

static void nl_end(struct nlbuf *b, struct nlmsghdr *n)
{
	b->len += NLMSG_ALIGN(n->nlmsg_len);
}

static struct rtattr *nl_attr(struct nlmsghdr *n, uint16_t type, const void *data,
			      size_t len)
{
	struct rtattr *a = (struct rtattr *)((char *)n + NLMSG_ALIGN(n->nlmsg_len));

	a->rta_type = type;
	a->rta_len = RTA_LENGTH(len);
	if (len)
		memcpy(RTA_DATA(a), data, len);
	n->nlmsg_len = NLMSG_ALIGN(n->nlmsg_len) + RTA_ALIGN(a->rta_len);
	return a;
}

static void nl_nest_end(struct nlmsghdr *n, struct rtattr *a)
{
	a->rta_len = (unsigned short)((char *)n + n->nlmsg_len - (char *)a);
}

/* Queues the three requests that configure one namespace into b. */
static void build_requests(struct nlbuf *b, unsigned i, const char *peer, int hub_fd)
{
	struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
	struct ifaddrmsg ifa = {.ifa_family = AF_INET, .ifa_prefixlen = 16};
	struct nlmsghdr *n;
	struct rtattr *info, *data, *peer_a;
	uint32_t addr;

	b->len = 0;

	/* lo up */
	ifi.ifi_index = 1;
	ifi.ifi_flags = ifi.ifi_change = IFF_UP;
	n = nl_begin(b, RTM_NEWLINK, 0, 1, &ifi, sizeof(ifi));
	nl_end(b, n);

	/* veth0 (up, ifindex 2) with its peer made directly in the hub */
	ifi.ifi_index = VETH_IFINDEX;
	n = nl_begin(b, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 2, &ifi, sizeof(ifi));
	nl_attr(n, IFLA_IFNAME, "veth0", sizeof("veth0"));
	info = nl_attr(n, IFLA_LINKINFO, NULL, 0);
	nl_attr(n, IFLA_INFO_KIND, "veth", sizeof("veth") - 1);
	data = nl_attr(n, IFLA_INFO_DATA, NULL, 0);
	{
		/* the peer cannot be created up: veth_open() fails with
		 * ENOTCONN until both halves exist, so it is set up below */
		struct ifinfomsg pi = {.ifi_family = AF_UNSPEC};

		peer_a = nl_attr(n, VETH_INFO_PEER, &pi, sizeof(pi));
	}
	nl_attr(n, IFLA_IFNAME, peer, strlen(peer) + 1);
	nl_attr(n, IFLA_NET_NS_FD, &hub_fd, sizeof(hub_fd));
	nl_nest_end(n, peer_a);
	nl_nest_end(n, data);
	nl_nest_end(n, info);
	nl_end(b, n);

	/* the address */
	ifa.ifa_index = VETH_IFINDEX;
	addr = htonl((10u << 24) | ((200u + i / 65534) << 16) | (i % 65534 + 1));
	n = nl_begin(b, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, 3, &ifa, sizeof(ifa));
	nl_attr(n, IFA_LOCAL, &addr, 4);
	nl_attr(n, IFA_ADDRESS, &addr, 4);
	nl_end(b, n);
}

/* Queues "set the hub end up" (looked up by name) into b. */
static void build_peer_up(struct nlbuf *b, const char *peer)
{
	struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC,
				.ifi_flags = IFF_UP,
				.ifi_change = IFF_UP};
	struct nlmsghdr *n;

	b->len = 0;
	n = nl_begin(b, RTM_NEWLINK, 0, 4, &ifi, sizeof(ifi));
	nl_attr(n, IFLA_IFNAME, peer, strlen(peer) + 1);
	nl_end(b, n);
}

/* Sends the batch and waits for one ack per request; 0 or -errno. */
static int nl_transact(int fd, const struct nlbuf *b, int nreq)
{
	char rx[4096];
	int acks = 0;

	if (send(fd, b->data, b->len, 0) != (ssize_t)b->len)
		return -errno;
	while (acks < nreq) {
		ssize_t r = recv(fd, rx, sizeof(rx), 0);
		struct nlmsghdr *n;

		if (r < 0)
			return -errno;
		for (n = (struct nlmsghdr *)rx; NLMSG_OK(n, (size_t)r); n = NLMSG_NEXT(n, r)) {
			if (n->nlmsg_type != NLMSG_ERROR)
				continue;
			int err = ((struct nlmsgerr *)NLMSG_DATA(n))->error;

			if (err) {
				fprintf(stderr, "netns_mk: request %u: %s\n",
					n->nlmsg_seq, strerror(-err));
				return err;
			}
			acks++;
		}
	}
	return 0;
}

static int make_one(const char *prefix, unsigned i, int hub_fd, int hub_nl)
{
	char path[128], peer[IFNAMSIZ];
	struct nlbuf b;
	int fd, err;

	snprintf(path, sizeof(path), NS_DIR "%s%u", prefix, i);
	snprintf(peer, sizeof(peer), "p%u", i);
	fd = open(path, O_RDONLY | O_CREAT | O_EXCL, 0);
	if (fd < 0) {
		perror(path);
		return -1;
	}
	close(fd);
	if (unshare(CLONE_NEWNET) < 0) {
		perror("unshare");
		unlink(path);
		return -1;
	}
	if (mount("/proc/thread-self/ns/net", path, "none", MS_BIND, NULL) < 0) {
		perror("mount");
		unlink(path);
		return -1;
	}
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0) {
		perror("socket");
		return -1;
	}
	build_requests(&b, i, peer, hub_fd);
	err = nl_transact(fd, &b, 3);
	close(fd);
	if (!err) {
		build_peer_up(&b, peer);
		err = nl_transact(hub_nl, &b, 1);
	}
	if (err) {
		fprintf(stderr, "netns_mk: namespace %s: %s\n", path, strerror(-err));
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct timespec t0, t1;
	struct rusage ru;
	char hub[128];
	long n;
	int hub_fd, hub_nl;

	if (argc != 4 || (n = strtol(argv[2], NULL, 10)) <= 0 || n > 1000000 ||
	    strlen(argv[1]) > 64) {
		fprintf(stderr, "usage: netns_mk PREFIX N HUB\n");
		return 2;
	}
	snprintf(hub, sizeof(hub), NS_DIR "%s", argv[3]);
	hub_fd = open(hub, O_RDONLY | O_CLOEXEC);
	if (hub_fd < 0) {
		perror(hub);
		return 1;
	}
	/* a netlink socket stays in the namespace it was opened in */
	if (setns(hub_fd, CLONE_NEWNET) < 0 ||
	    (hub_nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE)) < 0) {
		perror("hub netlink");
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (long i = 0; i < n; i++)
		if (make_one(argv[1], (unsigned)i, hub_fd, hub_nl) < 0)
			return 1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	getrusage(RUSAGE_SELF, &ru);
	printf("elapsed_ns %lld cpu_ns %lld\n",
	       (long long)(t1.tv_sec - t0.tv_sec) * 1000000000LL + (t1.tv_nsec - t0.tv_nsec),
	       ((long long)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000 +
		ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000);
	return 0;
}
