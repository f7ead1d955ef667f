/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The interop node: one vimage attached to a Linux TAP device, driven in
 * real time by a small epoll loop, so that the Linux kernel can be its peer.
 *
 *   tap_node --tap DEV --addr A/P [--gw G] [--udp-echo PORT]
 *            [--ping DST --count N] [--udp-send DST:PORT:TEXT]
 *            [--duration SECONDS] [--pcap FILE]
 *
 * Prints one line per event ("ping reply ...", "udp echo ...") and, last,
 * "tap_node: ok" or "tap_node: FAIL <why>"; exits 0 only on ok. Actions start
 * after --delay ms (default 300), when the Linux side is configured.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "vimage/host.h"
#include "vimage/net.h"
#include "vimage/socket.h"
#include "vimage/vimage.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void pcap_sink(void *ctx, const void *data, size_t len)
{
	fwrite(data, 1, len, ctx);
	fflush(ctx);
}

static int sockaddr_of(const char *ip, int port, struct sockaddr_in *sin)
{
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)port);
	return inet_pton(AF_INET, ip, &sin->sin_addr) == 1 ? 0 : -EINVAL;
}

int main(int argc, char **argv)
{
	const char *tap = NULL, *addr = NULL, *gw = NULL, *ping_dst = NULL;
	const char *udp_send = NULL, *pcap = NULL;
	int echo_port = 0, count = 3, delay_ms = 300, got_replies = 0;
	double duration = 5;
	struct world *w;
	struct vimage *vi;
	struct vtap *t;
	struct vsocket *echo = NULL, *ping = NULL;
	int ep, err, sent_pings = 0, echoed = 0;
	bool udp_sent = false;
	uint64_t start, ping_sent_at[64] = {0};
	struct world_config cfg = {.seed = 1};

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!v)
			goto usage;
		if (!strcmp(a, "--tap"))
			tap = v;
		else if (!strcmp(a, "--addr"))
			addr = v;
		else if (!strcmp(a, "--gw"))
			gw = v;
		else if (!strcmp(a, "--udp-echo"))
			echo_port = atoi(v);
		else if (!strcmp(a, "--ping"))
			ping_dst = v;
		else if (!strcmp(a, "--count"))
			count = atoi(v);
		else if (!strcmp(a, "--udp-send"))
			udp_send = v;
		else if (!strcmp(a, "--duration"))
			duration = atof(v);
		else if (!strcmp(a, "--delay"))
			delay_ms = atoi(v);
		else if (!strcmp(a, "--pcap"))
			pcap = v;
		else
			goto usage;
		i++;
	}
	if (!tap || !addr || count < 0 || count > 64)
		goto usage;
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	start = now_ns();
	cfg.start_ns = start;
	if (world_create(&cfg, &w) || vimage_create(w, "node", &vi)) {
		fprintf(stderr, "tap_node: cannot create the world\n");
		return 2;
	}
	err = vtap_attach(vi, tap, "eth0", &t);
	if (err) {
		fprintf(stderr, "tap_node: TAP %s: %s\n", tap, strerror(-err));
		return 2;
	}
	{
		struct vaddr a;
		unsigned plen;

		if (vaddr_parse_prefix(addr, &a, &plen) ||
		    vif_addr_add(vtap_ifp(t), &a, plen)) {
			fprintf(stderr, "tap_node: bad --addr %s\n", addr);
			return 2;
		}
		vif_set_up(vtap_ifp(t), true);
		if (gw) {
			struct vroute r = {.type = VRT_UNICAST, .plen = 0};

			r.dst.family = AF_INET;
			if (vaddr_parse(gw, &r.gw) || vroute_add(vi, &r)) {
				fprintf(stderr, "tap_node: bad --gw %s\n", gw);
				return 2;
			}
		}
	}
	if (pcap) {
		FILE *f = fopen(pcap, "wb");

		if (!f || vif_capture_start(vtap_ifp(t), pcap_sink, f, 0)) {
			fprintf(stderr, "tap_node: cannot capture to %s\n", pcap);
			return 2;
		}
	}
	if (echo_port) {
		struct sockaddr_in sin;

		sockaddr_of("0.0.0.0", echo_port, &sin);
		if (vsock_socket(vi, AF_INET, SOCK_DGRAM, 0, &echo) ||
		    vsock_bind(echo, (struct sockaddr *)&sin, sizeof(sin))) {
			fprintf(stderr, "tap_node: cannot bind UDP %d\n", echo_port);
			return 2;
		}
	}
	if (ping_dst && vsock_socket(vi, AF_INET, SOCK_DGRAM, IPPROTO_ICMP, &ping)) {
		fprintf(stderr, "tap_node: cannot open a ping socket\n");
		return 2;
	}
	ep = epoll_create1(EPOLL_CLOEXEC);
	{
		struct epoll_event ev = {.events = EPOLLIN};

		epoll_ctl(ep, EPOLL_CTL_ADD, vtap_fd(t), &ev);
	}
	printf("tap_node: %s on %s up\n", addr, tap);
	fflush(stdout);
	while (!stop) {
		uint64_t now = now_ns(), next, el = now - start;
		struct epoll_event ev;
		int timeout_ms;
		uint8_t buf[2048];
		struct sockaddr_in from;
		socklen_t fl;
		ssize_t n;

		if (el > (uint64_t)(duration * 1e9))
			break;
		world_advance(w, now);
		/* Actions, once the Linux side is ready. */
		if (el > (uint64_t)delay_ms * 1000000) {
			uint64_t since = el - (uint64_t)delay_ms * 1000000;

			if (ping && sent_pings < count &&
			    since > (uint64_t)sent_pings * 200000000ull) {
				uint8_t req[64] = {8, 0, 0, 0, 0, 0, 0, 0};
				struct sockaddr_in to;

				req[6] = (uint8_t)(sent_pings >> 8);
				req[7] = (uint8_t)sent_pings;
				memset(req + 8, 0xa5, sizeof(req) - 8);
				sockaddr_of(ping_dst, 0, &to);
				ping_sent_at[sent_pings] = now;
				err = (int)vsock_sendto(ping, req, sizeof(req), 0,
							(struct sockaddr *)&to,
							sizeof(to));
				if (err < 0)
					printf("ping send: %s\n", strerror(-err));
				sent_pings++;
			}
			if (udp_send && !udp_sent) {
				char ip[64], *p1, *p2;
				struct vsocket *s;
				struct sockaddr_in to;

				snprintf(ip, sizeof(ip), "%s", udp_send);
				p1 = strchr(ip, ':');
				p2 = p1 ? strchr(p1 + 1, ':') : NULL;
				if (!p2) {
					printf("tap_node: FAIL bad --udp-send\n");
					return 2;
				}
				*p1 = *p2 = 0;
				sockaddr_of(ip, atoi(p1 + 1), &to);
				if (vsock_socket(vi, AF_INET, SOCK_DGRAM, 0, &s) == 0) {
					n = vsock_sendto(s, p2 + 1, strlen(p2 + 1), 0,
							 (struct sockaddr *)&to, sizeof(to));
					printf("udp sent %zd bytes to %s\n", n, udp_send);
					vsock_close(s);
				}
				udp_sent = true;
			}
			world_advance(w, now_ns());
		}
		while (ping) {
			fl = sizeof(from);
			n = vsock_recvfrom(ping, buf, sizeof(buf), 0,
					   (struct sockaddr *)&from, &fl);
			if (n < 8)
				break;
			unsigned seq = (unsigned)buf[6] << 8 | buf[7];
			if (buf[0] == 0 && seq < 64) {
				got_replies++;
				printf("ping reply from %s seq %u rtt %.1f us\n",
				       inet_ntoa(from.sin_addr), seq,
				       (double)(now_ns() - ping_sent_at[seq]) / 1e3);
			}
		}
		while (echo) {
			fl = sizeof(from);
			n = vsock_recvfrom(echo, buf, sizeof(buf), 0,
					   (struct sockaddr *)&from, &fl);
			if (n < 0)
				break;
			vsock_sendto(echo, buf, (size_t)n, 0,
				     (struct sockaddr *)&from, fl);
			echoed++;
			printf("udp echo %zd bytes for %s:%u\n", n,
			       inet_ntoa(from.sin_addr), ntohs(from.sin_port));
		}
		fflush(stdout);
		if (ping && got_replies >= count && !echo_port && !udp_send)
			break;
		next = world_next_deadline(w);
		now = now_ns();
		timeout_ms = next == UINT64_MAX || next <= now
				     ? (next <= now ? 0 : 20)
				     : (int)((next - now) / 1000000 + 1);
		if (timeout_ms > 20)
			timeout_ms = 20;
		if (epoll_wait(ep, &ev, 1, timeout_ms) > 0)
			vtap_input(t, 256);
	}
	{
		struct vif_stats st;

		vif_get_stats(vtap_ifp(t), &st);
		printf("eth0: rx %llu pkts (%llu errors), tx %llu pkts\n",
		       (unsigned long long)st.ipackets,
		       (unsigned long long)st.ierrors,
		       (unsigned long long)st.opackets);
	}
	if (ping && got_replies < count) {
		printf("tap_node: FAIL %d of %d ping replies\n", got_replies, count);
		return 1;
	}
	printf("tap_node: ok (%d echoed)\n", echoed);
	if (echo)
		vsock_close(echo);
	if (ping)
		vsock_close(ping);
	vtap_detach(t);
	world_destroy(w);
	return 0;
usage:
	fprintf(stderr, "usage: tap_node --tap DEV --addr A/P [--gw G] "
			"[--udp-echo PORT] [--ping DST --count N] "
			"[--udp-send DST:PORT:TEXT] [--duration S] [--delay MS] "
			"[--pcap FILE]\n");
	return 2;
}
