/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libFuzzer harness for the netlink emulations (src/daemon/rtnl.c for
 * NETLINK_ROUTE, src/daemon/sockdiag.c for NETLINK_SOCK_DIAG, chosen by bit
 * 2 of each datagram's first byte): what a program inside a vimage sends,
 * parsed by the daemon. The input is split into datagrams at 0xff 0xfe markers; each goes
 * to rtnl_request on a vimage that starts with a ve pair, addresses and
 * routes (so that requests find things to change and delete). Every reply
 * datagram must be a well-formed run of nlmsghdrs addressed to the port
 * that asked. At the end the world is destroyed and must hold nothing:
 * whatever the requests created (veth pairs, bridges, addresses, routes,
 * neighbours) is freed with it. Any violation aborts.
 */
#include <linux/netlink.h>
#include <stdlib.h>
#include <string.h>

#include <vimage/net.h>
#include <vimage/vimage.h>

#include "daemon/rtnl.h"
#include "daemon/sockdiag.h"

#define PORT 0x80001234u

static void require(bool ok)
{
	if (!ok)
		abort();
}

static void check_reply(void *arg, const void *dgram, size_t len)
{
	const uint8_t *p = dgram;
	size_t off = 0;

	(void)arg;
	require(len >= sizeof(struct nlmsghdr));
	while (off < len) {
		struct nlmsghdr h;

		require(len - off >= sizeof(h));
		memcpy(&h, p + off, sizeof(h));
		require(h.nlmsg_len >= sizeof(h) && h.nlmsg_len <= len - off);
		require(h.nlmsg_pid == PORT);
		off += NLMSG_ALIGN(h.nlmsg_len);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct world_config cfg = {.seed = 1};
	struct rtnl_out out = {.emit = check_reply};
	struct world_counts wc;
	struct world *w;
	struct vimage *a = NULL, *b = NULL;
	struct ifnet *ea, *eb;
	struct vaddr x = vaddr_v4(0x0a000001), gw = vaddr_v4(0x0a000002);
	struct vroute r;
	size_t start = 0;

	require(!world_create(&cfg, &w));
	require(!vimage_create(w, "a", &a) && !vimage_create(w, "b", &b));
	require(!vif_ve_create(a, "e0", b, "e0", &ea, &eb));
	vif_set_up(ea, true);
	require(!vif_addr_add(ea, &x, 24));
	memset(&r, 0, sizeof(r));
	r.dst = vaddr_v4(0x0a010000);
	r.plen = 16;
	r.gw = gw;
	vroute_add(a, &r);
	for (size_t i = 0; i <= size; i++) {
		bool cut = i == size ||
			   (i + 1 < size && data[i] == 0xff && data[i + 1] == 0xfe);

		if (!cut)
			continue;
		/* As the daemon: each datagram in its own (aligned) buffer,
		 * as recv() leaves it. */
		{
			size_t n = i - start;
			uint8_t *dg = malloc(n ? n : 1);

			require(dg != NULL);
			memcpy(dg, data + start, n);
			uint8_t sel = n ? data[start] : 0;

			if (sel & 4)
				sockdiag_request(a, PORT, dg, n, NULL, NULL,
						 &out);
			else
				rtnl_request_opts(a, PORT, dg, n, sel & 3,
						  &out);
			free(dg);
		}
		world_run(w);
		start = i + 2;
		i++;
	}
	vimage_destroy(a);
	vimage_destroy(b);
	world_counts(w, &wc);
	require(wc.vimages == 1 && wc.ifnets == 1 && wc.pkts == 0);
	world_destroy(w);
	return 0;
}
