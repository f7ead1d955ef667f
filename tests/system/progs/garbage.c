/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * garbage ADDR PORT: bad input on socket descriptors, written with raw
 * system calls that bypass the preload library, straight into the pairs
 * vimaged reads:
 *  - a UDP socket gets an empty message, a 5-byte message and a message
 *    with a bad header magic; then a real datagram to ADDR:PORT, which must
 *    still arrive (the peer echoes it: "udp ok" when it comes back);
 *  - a netlink route socket gets a truncated nlmsghdr and a message whose
 *    length runs past its end: each must be answered with NLMSG_ERROR
 *    ("netlink errors N").
 * Exit 0 when all of that held.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <stdlib.h>
#include <unistd.h>

static long raw_send(int fd, const void *b, size_t n)
{
	return syscall(SYS_sendto, fd, b, n, 0, NULL, 0);
}

int main(int argc, char **argv)
{
	struct sockaddr_in to = {.sin_family = AF_INET};
	char junk[64], buf[256];
	int u, nl, errs = 0;
	ssize_t n;

	if (argc != 3 || inet_pton(AF_INET, argv[1], &to.sin_addr) != 1)
		return 2;
	to.sin_port = htons((unsigned short)atoi(argv[2]));
	u = socket(AF_INET, SOCK_DGRAM, 0);
	if (u < 0)
		return 3;
	memset(junk, 0xab, sizeof(junk));
	raw_send(u, junk, 0);
	raw_send(u, junk, 5);
	raw_send(u, junk, sizeof(junk));
	if (sendto(u, "ping", 4, 0, (struct sockaddr *)&to, sizeof(to)) != 4)
		return 4;
	{
		struct pollfd p = {.fd = u, .events = POLLIN};

		if (poll(&p, 1, 5000) != 1)
			return 5;
	}
	n = recv(u, buf, sizeof(buf), 0);
	if (n == 4 && !memcmp(buf, "ping", 4))
		printf("udp ok\n");
	else
		return 6;

	nl = socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
	if (nl < 0)
		return 7;
	{
		struct nlmsghdr h = {.nlmsg_len = 200, /* past the end */
				     .nlmsg_type = RTM_GETLINK,
				     .nlmsg_flags = NLM_F_REQUEST,
				     .nlmsg_seq = 1};

		raw_send(nl, &h, 10); /* truncated header */
		raw_send(nl, &h, sizeof(h));
	}
	for (int i = 0; i < 2; i++) {
		struct pollfd p = {.fd = nl, .events = POLLIN};
		struct nlmsghdr *r = (struct nlmsghdr *)buf;

		if (poll(&p, 1, 3000) != 1)
			break;
		n = recv(nl, buf, sizeof(buf), 0);
		if (n >= (ssize_t)sizeof(*r) && r->nlmsg_type == NLMSG_ERROR)
			errs++;
	}
	printf("netlink errors %d\n", errs);
	return errs == 2 ? 0 : 8;
}
