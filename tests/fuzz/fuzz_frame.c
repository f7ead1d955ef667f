/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libFuzzer harness for the frame input path: the input is a sequence of
 * frames (2-byte length + bytes) handed to an external interface of a router
 * vimage with addresses, forwarding on, a second link, UDP/raw/ping sockets
 * bound, and time advancing between frames. Every frame goes through
 * Ethernet, ARP, IPv4 (reassembly, forwarding, ICMP errors), ICMP, UDP and
 * raw delivery. At the end everything is destroyed and the world must hold
 * no packet, buffer, timer, neighbour or reassembly queue: a leak aborts.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "vimage/net.h"
#include "vimage/socket.h"
#include "vimage/vimage.h"

static void sink(void *ctx, struct ifnet *ifp, const uint8_t *f, size_t n)
{
	(void)ctx;
	(void)ifp;
	(void)f;
	(void)n;
}

static const struct vif_ext_ops ext_ops = {.transmit = sink};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct world_config cfg = {.seed = 1};
	struct world *w;
	struct vimage *r, *h;
	struct ifnet *ext, *a, *b;
	struct vsocket *u, *raw, *ping;
	struct vaddr x = VADDR4(10, 0, 0, 1), y = VADDR4(10, 1, 0, 1),
		     z = VADDR4(10, 1, 0, 2);
	struct sockaddr_in any = {.sin_family = AF_INET, .sin_port = htons(7)};
	struct world_counts c;

	if (world_create(&cfg, &w) || vimage_create(w, "r", &r) ||
	    vimage_create(w, "h", &h))
		abort();
	if (vif_ext_create(r, "eth0", &ext_ops, NULL, &ext) ||
	    vif_ve_create(r, "eth1", h, "eth0", &a, &b))
		abort();
	vif_addr_add(ext, &x, 24);
	vif_addr_add(a, &y, 24);
	vif_addr_add(b, &z, 24);
	vif_set_up(ext, true);
	vif_set_up(a, true);
	vif_set_up(b, true);
	vimage_sysctl_set(r, "net.inet.ip.forwarding", 1);
	vsock_socket(r, AF_INET, SOCK_DGRAM, 0, &u);
	vsock_bind(u, (struct sockaddr *)&any, sizeof(any));
	vsock_socket(r, AF_INET, SOCK_RAW, IPPROTO_ICMP, &raw);
	vsock_socket(h, AF_INET, SOCK_DGRAM, IPPROTO_ICMP, &ping);
	while (size >= 2) {
		size_t n = (size_t)data[0] << 8 | data[1];

		data += 2;
		size -= 2;
		if (n > size)
			n = size;
		vif_ext_input(ext, data, n);
		data += n;
		size -= n;
		world_advance(w, world_now(w) + (n & 7) * 700000000ull);
	}
	world_advance(w, world_now(w) + 120 * 1000000000ull);
	vsock_close(u);
	vsock_close(raw);
	vsock_close(ping);
	vimage_destroy(r);
	vimage_destroy(h);
	world_counts(w, &c);
	if (c.pkts || c.pbufs || c.timers || c.neighbours || c.reass_queues ||
	    c.sockets || c.vimages != 1 || c.ifnets != 1)
		abort();
	world_destroy(w);
	return 0;
}
