/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The interop node: one vimage attached to a Linux TAP device, driven in
 * real time by a small epoll loop, so that the Linux kernel can be its peer.
 *
 *   tap_node --tap DEV --addr A/P [--gw G] [--udp-echo PORT]
 *            [--ping DST --count N] [--udp-send DST:PORT:TEXT]
 *            [--http-server PORT [--conns N] | --sink PORT [--pause MS] |
 *             --fetch HOST:PORT:PATH --out FILE | --source HOST:PORT:NBYTES]
 *            [--duration SECONDS] [--delay MS] [--pcap FILE] [--log LEVEL]
 *            [--impair loss=PCT,dup=PCT,reorder=PCT,delay=MS,jitter=MS]
 *   tap_node --pattern NBYTES     (the TCP test pattern, to stdout)
 *
 * Prints one line per event ("ping reply ...", "udp echo ...", "sink: ...")
 * and, last, "tap_node: ok" or "tap_node: FAIL <why>"; exits 0 only on ok.
 * Actions start after --delay ms (default 300), when the Linux side is
 * configured; servers listen at once. A TCP client or sink that has not
 * finished by --duration fails; the TCP counters are printed at the end.
 * --impair puts the vimage's own link shaper on both directions of its TAP
 * interface (this kernel may have no netem), so that Linux's TCP and ours
 * meet loss, duplication and reordering.
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

#include "tcp_apps.h"
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

static void log_stderr(void *ctx, int level, const struct vimage *vi,
		       const char *msg)
{
	fprintf(stderr, "[%d] %s\n", level, msg);
}

static int print_tcp_stat(void *ctx, const char *name, uint64_t val)
{
	if (val && !strncmp(name, "tcp.", 4))
		printf(" %s=%llu", name + 4, (unsigned long long)val);
	return 0;
}

static int write_pattern(const char *arg)
{
	uint8_t buf[65536];
	uint64_t n = strtoull(arg, NULL, 10), off = 0;

	while (off < n) {
		size_t chunk = n - off < sizeof(buf) ? n - off : sizeof(buf);

		pattern_fill(buf, off, chunk);
		if (fwrite(buf, 1, chunk, stdout) != chunk)
			return 1;
		off += chunk;
	}
	return fflush(stdout) ? 1 : 0;
}

static int sockaddr_of(const char *ip, int port, struct sockaddr_in *sin)
{
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)port);
	return inet_pton(AF_INET, ip, &sin->sin_addr) == 1 ? 0 : -EINVAL;
}

/* "loss=1,dup=0.5,reorder=1,delay=2,jitter=1" (percent and ms). */
static int parse_impair(const char *spec, struct vshaper_params *p)
{
	char buf[256], *save = NULL;

	if (strlen(spec) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, spec);
	memset(p, 0, sizeof(*p));
	for (char *kv = strtok_r(buf, ",", &save); kv;
	     kv = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(kv, '=');
		double v;

		if (!eq)
			return -EINVAL;
		*eq = 0;
		v = atof(eq + 1);
		if (v < 0 || v > 100)
			return -EINVAL;
		if (!strcmp(kv, "loss"))
			p->loss = (uint64_t)(v * (VSHAPE_PROB_ONE / 100));
		else if (!strcmp(kv, "dup"))
			p->duplicate = (uint64_t)(v * (VSHAPE_PROB_ONE / 100));
		else if (!strcmp(kv, "reorder"))
			p->reorder = (uint64_t)(v * (VSHAPE_PROB_ONE / 100));
		else if (!strcmp(kv, "delay"))
			p->delay_ns = (uint64_t)(v * 1e6);
		else if (!strcmp(kv, "jitter"))
			p->jitter_ns = (uint64_t)(v * 1e6);
		else
			return -EINVAL;
	}
	return 0;
}

/* "HOST:PORT:REST" -> address and the REST; -EINVAL when malformed. */
static int split_target(const char *arg, struct sockaddr_in *sin,
			const char **rest)
{
	char host[64];
	const char *c1 = strchr(arg, ':'),
		   *c2 = c1 ? strchr(c1 + 1, ':') : NULL;

	if (!c2 || (size_t)(c1 - arg) >= sizeof(host))
		return -EINVAL;
	memcpy(host, arg, (size_t)(c1 - arg));
	host[c1 - arg] = 0;
	*rest = c2 + 1;
	return sockaddr_of(host, atoi(c1 + 1), sin);
}

int main(int argc, char **argv)
{
	const char *tap = NULL, *addr = NULL, *gw = NULL, *ping_dst = NULL;
	const char *udp_send = NULL, *pcap = NULL, *rest, *impair = NULL;
	int echo_port = 0, count = 3, delay_ms = 300, got_replies = 0;
	int log_level = VLOG_WARN;
	struct tcp_app_config tc = {.mode = TCP_APP_NONE};
	struct tcp_app *app = NULL;
	uint64_t app_done_at = 0;
	double duration = 5;
	struct world *w;
	struct vimage *vi;
	struct vtap *t;
	struct vsocket *echo = NULL, *ping = NULL;
	int ep, err, sent_pings = 0, echoed = 0;
	bool udp_sent = false;
	uint64_t start, ping_sent_at[64] = {0};
	struct world_config cfg = {.seed = 1};

	/* Every option takes one value. */
	for (int i = 1; i < argc; i += 2) {
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
		else if (!strcmp(a, "--impair"))
			impair = v;
		else if (!strcmp(a, "--log"))
			log_level = atoi(v);
		else if (!strcmp(a, "--pattern"))
			return write_pattern(v);
		else if (!strcmp(a, "--http-server") && !tc.mode) {
			tc.mode = TCP_APP_HTTP_SERVER;
			sockaddr_of("0.0.0.0", atoi(v), &tc.addr);
		} else if (!strcmp(a, "--conns"))
			tc.conns = atoi(v);
		else if (!strcmp(a, "--pause"))
			tc.pause_ms = atoi(v);
		else if (!strcmp(a, "--sink") && !tc.mode) {
			tc.mode = TCP_APP_SINK;
			sockaddr_of("0.0.0.0", atoi(v), &tc.addr);
		} else if (!strcmp(a, "--fetch") && !tc.mode) {
			tc.mode = TCP_APP_FETCH;
			if (split_target(v, &tc.addr, &tc.path) ||
			    *tc.path != '/')
				goto usage;
		} else if (!strcmp(a, "--out"))
			tc.out = v;
		else if (!strcmp(a, "--source") && !tc.mode) {
			tc.mode = TCP_APP_SOURCE;
			if (split_target(v, &tc.addr, &rest))
				goto usage;
			tc.nbytes = strtoull(rest, NULL, 10);
		} else
			goto usage;
	}
	if (!tap || !addr || count < 0 || count > 64 ||
	    (tc.mode == TCP_APP_FETCH && !tc.out))
		goto usage;
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	start = now_ns();
	cfg.start_ns = start;
	cfg.log_fn = log_stderr;
	if (world_create(&cfg, &w) || vimage_create(w, "node", &vi)) {
		fprintf(stderr, "tap_node: cannot create the world\n");
		return 2;
	}
	vimage_set_log_level(vi, log_level);
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
	if (impair) {
		struct vshaper_params sp;

		if (parse_impair(impair, &sp) ||
		    vif_shaper_set(vtap_ifp(t), VSHAPE_EGRESS, &sp) ||
		    vif_shaper_set(vtap_ifp(t), VSHAPE_INGRESS, &sp)) {
			fprintf(stderr, "tap_node: bad --impair %s\n", impair);
			return 2;
		}
	}
	if (pcap) {
		FILE *f = fopen(pcap, "wb");

		if (!f || vif_capture_start(vtap_ifp(t), pcap_sink, f, 0)) {
			fprintf(stderr, "tap_node: cannot capture to %s\n",
				pcap);
			return 2;
		}
	}
	if (echo_port) {
		struct sockaddr_in sin;

		sockaddr_of("0.0.0.0", echo_port, &sin);
		if (vsock_socket(vi, AF_INET, SOCK_DGRAM, 0, &echo) ||
		    vsock_bind(echo, (struct sockaddr *)&sin, sizeof(sin))) {
			fprintf(stderr, "tap_node: cannot bind UDP %d\n",
				echo_port);
			return 2;
		}
	}
	if (ping_dst &&
	    vsock_socket(vi, AF_INET, SOCK_DGRAM, IPPROTO_ICMP, &ping)) {
		fprintf(stderr, "tap_node: cannot open a ping socket\n");
		return 2;
	}
	if (tc.mode == TCP_APP_HTTP_SERVER || tc.mode == TCP_APP_SINK) {
		err = tcp_app_start(vi, &tc, &app);
		if (err) {
			fprintf(stderr,
				"tap_node: cannot listen on TCP %u: %s\n",
				ntohs(tc.addr.sin_port), strerror(-err));
			return 2;
		}
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
				err = (int)vsock_sendto(
				    ping, req, sizeof(req), 0,
				    (struct sockaddr *)&to, sizeof(to));
				if (err < 0)
					printf("ping send: %s\n",
					       strerror(-err));
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
					printf(
					    "tap_node: FAIL bad --udp-send\n");
					return 2;
				}
				*p1 = *p2 = 0;
				sockaddr_of(ip, atoi(p1 + 1), &to);
				if (vsock_socket(vi, AF_INET, SOCK_DGRAM, 0,
						 &s) == 0) {
					n = vsock_sendto(
					    s, p2 + 1, strlen(p2 + 1), 0,
					    (struct sockaddr *)&to, sizeof(to));
					printf("udp sent %zd bytes to %s\n", n,
					       udp_send);
					vsock_close(s);
				}
				udp_sent = true;
			}
			if (tc.mode && !app) {
				err = tcp_app_start(vi, &tc, &app);
				if (err) {
					printf("tap_node: FAIL tcp: %s\n",
					       strerror(-err));
					return 1;
				}
			}
			world_advance(w, now_ns());
		}
		/* Bounded, so that the TAP is read even if an application
		 * keeps finding more to do. */
		for (int i = 0; i < 64 && app && tcp_app_kicked(app, now_ns());
		     i++) {
			tcp_app_step(app, now_ns());
			world_run(w);
		}
		if (app && tcp_app_status(app) && !app_done_at)
			app_done_at = now_ns();
		while (ping) {
			fl = sizeof(from);
			n = vsock_recvfrom(ping, buf, sizeof(buf), 0,
					   (struct sockaddr *)&from, &fl);
			if (n < 8)
				break;
			unsigned seq = (unsigned)buf[6] << 8 | buf[7];
			if (buf[0] == 0 && seq < 64) {
				got_replies++;
				printf(
				    "ping reply from %s seq %u rtt %.1f us\n",
				    inet_ntoa(from.sin_addr), seq,
				    (double)(now_ns() - ping_sent_at[seq]) /
					1e3);
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
		/* A finished application lingers a little, so that the last
		 * ACKs and FINs are exchanged before the stack goes away. */
		if ((ping || app) && !echo_port && !udp_send &&
		    (!ping || got_replies >= count) &&
		    (!app ||
		     (app_done_at && now_ns() - app_done_at > 300000000)))
			break;
		/* Sleep until the TAP has input, a timer is due or an
		 * application's pause ends; at most 20 ms, for the pings. */
		next = world_next_deadline(w);
		if (app && tcp_app_wake_at(app) < next)
			next = tcp_app_wake_at(app);
		now = now_ns();
		timeout_ms = next <= now ? 0
			     : next - now >= 20000000ull
				 ? 20
				 : (int)((next - now) / 1000000 + 1);
		if (app && tcp_app_kicked(app, now))
			timeout_ms = 0;
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
		for (int d = 0; impair && d < 2; d++) {
			struct vshaper_stats ss;

			if (vif_shaper_stats(vtap_ifp(t), d, &ss))
				continue;
			printf("impair %s: %llu frames, %llu lost, %llu "
			       "duplicated, %llu reordered\n",
			       d == VSHAPE_EGRESS ? "out" : "in",
			       (unsigned long long)ss.enqueued,
			       (unsigned long long)ss.dropped_loss,
			       (unsigned long long)ss.duplicated,
			       (unsigned long long)ss.reordered);
		}
	}
	printf("tcp stats:");
	vimage_stats_walk(vi, print_tcp_stat, NULL);
	printf("\n");
	if (ping && got_replies < count) {
		printf("tap_node: FAIL %d of %d ping replies\n", got_replies,
		       count);
		return 1;
	}
	if (app && tcp_app_status(app) < 0) {
		printf("tap_node: FAIL %s\n", tcp_app_why(app));
		return 1;
	}
	if (tc.mode && tc.mode != TCP_APP_HTTP_SERVER &&
	    (!app || !tcp_app_status(app))) {
		char st[160] = "not started";

		if (app)
			tcp_app_describe(app, st, sizeof(st));
		printf("tap_node: FAIL tcp unfinished after %.1f s (%s)\n",
		       duration, st);
		return 1;
	}
	tcp_app_destroy(app);
	world_run(w);
	printf("tap_node: ok (%d echoed)\n", echoed);
	if (echo)
		vsock_close(echo);
	if (ping)
		vsock_close(ping);
	vtap_detach(t);
	world_destroy(w);
	return 0;
usage:
	fprintf(stderr,
		"usage: tap_node --tap DEV --addr A/P [--gw G] "
		"[--udp-echo PORT] [--ping DST --count N] "
		"[--udp-send DST:PORT:TEXT] [--http-server PORT "
		"[--conns N] | --sink PORT [--pause MS] | "
		"--fetch HOST:PORT:PATH "
		"--out FILE | --source HOST:PORT:NBYTES] [--duration S] "
		"[--delay MS] [--pcap FILE] [--log LEVEL] "
		"[--impair loss=PCT,dup=PCT,reorder=PCT,delay=MS,"
		"jitter=MS]\n"
		"       tap_node --pattern NBYTES\n");
	return 2;
}
