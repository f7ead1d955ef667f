/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libFuzzer harness for the frame input path: frames handed to an external
 * interface of a router vimage r with addresses, forwarding on, a second
 * link to a host h, UDP/raw/ping sockets bound, and TCP in several states;
 * time advances between frames. Every frame goes through Ethernet, ARP,
 * IPv4 (reassembly, forwarding, ICMP errors), ICMP, UDP, raw delivery and
 * TCP. At the end everything is closed and destroyed and the world must
 * hold no packet, buffer, timer, neighbour, reassembly queue, socket or
 * TCP connection: a leak aborts (FUZZ_FRAME_STRICT=1: TCP connections
 * must also have ended by themselves an hour after their sockets closed).
 *
 * TCP state before the first fuzzed frame, all through the outside link
 * from a peer 10.0.0.2 the harness plays (it reads r's answers off the
 * link): a listener on r:80 (small backlog and receive buffer), one
 * connection the peer opened to it (accepted, r has sent 3000 bytes the
 * peer has not acknowledged), one connection r opened to the peer:9000
 * (SYN_SENT), and one from h to r:80 over the inner link.
 *
 * Input: one setup byte (bit 0: the peer offers timestamps, bit 1: window
 * scaling, bit 2: SACK), then records: kind byte, 2-byte length, body.
 * kind & 7 says what the body is:
 *   0, 1  a whole Ethernet frame, as is;
 *   2     a TCP segment to the listener from port 50000 + body[3];
 *   3, 4  a TCP segment on the accepted connection, sequence and
 *         acknowledgement numbers relative to where the peer is;
 *   5     a TCP segment on r's own connection attempt (ack relative to
 *         its ISN);
 *   6     a TCP segment to a port body[3] from an address body[4];
 *   7     nothing: only the application and clock steps below.
 * A TCP body is: flags, 2-byte seq (delta), 2-byte ack (delta), 2-byte
 * window, option length (bit 6: make SACK blocks relative to the last
 * ack from the option bytes), position and XOR value of a corruption
 * applied to the TCP header before the checksum, options, payload.
 * Missing bytes read as zero. kind bits 3-4 make r's applications act
 * (send; read and accept; shut down, then close), bits 5-7 advance the
 * clock (0 to 60 s).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vimage/net.h"
#include "vimage/socket.h"
#include "vimage/vimage.h"
#include "wire/wire.h"

#define R_ADDR	     0x0a000001u /* 10.0.0.1, r on the outside link */
#define PEER_ADDR    0x0a000002u /* 10.0.0.2, the peer the harness plays */
#define PEER_PORT    40000
#define PEER_ISS     1000000u
#define ACTIVE_PORT  9000 /* the peer port r connects to */
#define MAX_ACCEPTED 8
#define NSEC	     1000000000ull

/* What the harness knows of the outside link. */
struct fz {
	uint8_t r_mac[6], peer_mac[6];
	bool ts, ws, sack; /* options the peer offers in its SYN */
	/* r's side of the accepted connection, as seen on the link. */
	uint32_t r_iss, r_snd_max, r_tsval;
	/* the peer's side. */
	uint32_t peer_nxt, peer_ack, peer_tsval;
	/* r's connection attempt. */
	uint16_t act_port;
	uint32_t act_iss;
	uint16_t ip_id;
};

/* r transmits on the outside link: follow the TCP numbers. */
static void sink(void *ctx, struct ifnet *ifp, const uint8_t *f, size_t n)
{
	struct fz *z = ctx;
	const uint8_t *ip, *th;
	size_t ihl, thl, plen;
	uint16_t sport, dport;
	uint32_t seq, end;
	uint8_t flags;

	(void)ifp;
	if (n < 14 + 20 + 20 || rd16(f + 12) != 0x0800)
		return;
	ip = f + 14;
	ihl = (size_t)(ip[0] & 15) * 4;
	if (ip[9] != IPPROTO_TCP || ihl < 20 || rd16(ip + 2) > n - 14 ||
	    rd16(ip + 2) < ihl + 20)
		return;
	th = ip + ihl;
	thl = (size_t)(th[12] >> 4) * 4;
	if (thl < 20 || thl > rd16(ip + 2) - ihl)
		return;
	plen = rd16(ip + 2) - ihl - thl;
	sport = rd16(th);
	dport = rd16(th + 2);
	seq = rd32(th + 4);
	flags = th[13];
	end = seq + (uint32_t)plen + !!(flags & 0x02) + !!(flags & 0x01);
	if (sport == 80 && dport == PEER_PORT) {
		if ((flags & 0x12) == 0x12)
			z->r_iss = z->r_snd_max = seq;
		if ((int32_t)(end - z->r_snd_max) > 0)
			z->r_snd_max = end;
		for (size_t i = 20; i + 10 <= thl;) {
			if (th[i] == 0 || th[i] == 1) {
				i++;
				continue;
			}
			if (th[i] == 8 && th[i + 1] == 10)
				z->r_tsval = rd32(th + i + 2);
			if (th[i + 1] < 2)
				break;
			i += th[i + 1];
		}
	} else if (dport == ACTIVE_PORT && (flags & 0x12) == 0x02) {
		z->act_port = sport;
		z->act_iss = seq;
	}
}

static const struct vif_ext_ops ext_ops = {.transmit = sink};

static uint32_t csum_tcp(uint32_t src, uint32_t dst, const uint8_t *th,
			 size_t len)
{
	uint32_t s = cksum_pseudo4(src, dst, IPPROTO_TCP, (uint32_t)len);

	return cksum_finish(cksum_partial(th, len, s));
}

struct seg {
	uint32_t saddr;
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t win;
	const uint8_t *opt;
	size_t optlen; /* padded with zeros to a multiple of 4, <= 40 */
	const uint8_t *data;
	size_t len;
	uint8_t corrupt_at, corrupt_xor;
};

/* Ethernet + IPv4 + TCP from the peer to r, checksums right. Returns the
 * frame length. */
static size_t seg_frame(struct fz *z, const struct seg *s, uint8_t *f)
{
	size_t optlen = (s->optlen + 3) & ~(size_t)3;
	size_t thl = 20 + optlen, tot = 20 + thl + s->len;
	uint8_t *ip = f + 14, *th = ip + 20;

	memcpy(f, z->r_mac, 6);
	memcpy(f + 6, z->peer_mac, 6);
	wr16(f + 12, 0x0800);
	memset(ip, 0, 20);
	ip[0] = 0x45;
	wr16(ip + 2, (uint16_t)tot);
	wr16(ip + 4, z->ip_id++);
	wr16(ip + 6, 0x4000); /* DF */
	ip[8] = 64;
	ip[9] = IPPROTO_TCP;
	wr32(ip + 12, s->saddr);
	wr32(ip + 16, R_ADDR);
	wr16(ip + 10, cksum_finish(cksum_partial(ip, 20, 0)));
	wr16(th, s->sport);
	wr16(th + 2, s->dport);
	wr32(th + 4, s->seq);
	wr32(th + 8, s->ack);
	th[12] = (uint8_t)(thl / 4 << 4);
	th[13] = s->flags;
	wr16(th + 14, s->win);
	wr32(th + 16, 0);
	memset(th + 20, 0, optlen);
	if (s->optlen)
		memcpy(th + 20, s->opt, s->optlen);
	if (s->len)
		memcpy(th + thl, s->data, s->len);
	if (s->corrupt_xor)
		th[s->corrupt_at % thl] ^= s->corrupt_xor;
	wr16(th + 16, csum_tcp(s->saddr, R_ADDR, th, thl + s->len));
	return 14 + tot;
}

static void send_seg(struct ifnet *ext, struct fz *z, const struct seg *s)
{
	uint8_t f[14 + 20 + 60 + 1500];

	vif_ext_input(ext, f, seg_frame(z, s, f));
}

/* The peer's SYN options: MSS, then what the setup byte asked for. */
static size_t syn_options(const struct fz *z, uint8_t *o)
{
	size_t n = 0;

	o[n++] = 2, o[n++] = 4, o[n++] = 1460 >> 8, o[n++] = 1460 & 255;
	if (z->ws)
		o[n++] = 1, o[n++] = 3, o[n++] = 3, o[n++] = 7;
	if (z->sack)
		o[n++] = 1, o[n++] = 1, o[n++] = 4, o[n++] = 2;
	if (z->ts) {
		o[n++] = 1, o[n++] = 1, o[n++] = 8, o[n++] = 10;
		wr32(o + n, z->peer_tsval);
		wr32(o + n + 4, 0);
		n += 8;
	}
	return n;
}

/* A timestamp option for a segment on the accepted connection. */
static size_t ts_option(struct fz *z, uint8_t *o)
{
	o[0] = 1, o[1] = 1, o[2] = 8, o[3] = 10;
	wr32(o + 4, ++z->peer_tsval);
	wr32(o + 8, z->r_tsval);
	return 12;
}

/* Body byte i, zero past the end. */
static uint8_t at(const uint8_t *b, size_t n, size_t i)
{
	return i < n ? b[i] : 0;
}

struct rig {
	struct world *w;
	struct vimage *r, *h;
	struct ifnet *ext;
	struct vsocket *u, *raw, *ping;
	struct vsocket *lsn, *est, *act, *hcli;
	struct vsocket *acc[MAX_ACCEPTED];
	size_t nacc;
	bool est_shut;
	struct fz z;
};

/* A TCP record: build the segment its kind and body describe. */
static void tcp_record(struct rig *g, unsigned kind, const uint8_t *b, size_t n)
{
	struct fz *z = &g->z;
	uint8_t opt[40];
	struct seg s = {
	    .saddr = PEER_ADDR,
	    .flags = at(b, n, 0),
	    .win = (uint16_t)(at(b, n, 5) << 8 | at(b, n, 6)),
	    .corrupt_at = at(b, n, 8),
	    .corrupt_xor = at(b, n, 9),
	};
	int16_t dseq = (int16_t)(at(b, n, 1) << 8 | at(b, n, 2));
	int16_t dack = (int16_t)(at(b, n, 3) << 8 | at(b, n, 4));
	size_t optlen = at(b, n, 7) & 63, body = n > 10 ? n - 10 : 0;
	const uint8_t *rest = body ? b + 10 : b;

	if (optlen > 40)
		optlen = 40;
	if (optlen > body)
		optlen = body;
	memcpy(opt, rest, optlen);
	s.data = rest + optlen;
	s.len = body - optlen;
	if (s.len > 1460)
		s.len = 1460;
	switch (kind) {
	case 2: /* to the listener from one of 256 peers' ports */
		s.sport = (uint16_t)(50000 + at(b, n, 3));
		s.dport = 80;
		s.seq = (uint32_t)dseq * 65537u;
		s.ack = (uint32_t)(uint16_t)dack << 16;
		break;
	case 3:
	case 4: /* on the accepted connection */
		s.sport = PEER_PORT;
		s.dport = 80;
		s.seq = z->peer_nxt + (uint32_t)(int32_t)dseq;
		s.ack = z->r_snd_max + (uint32_t)(int32_t)dack;
		if ((at(b, n, 7) & 64) && optlen >= 2) {
			/* SACK blocks from pairs of option bytes, above
			 * the last ack the peer sent. */
			size_t nb = optlen / 2 > 4 ? 4 : optlen / 2, k = 0;
			uint8_t v[8];

			memcpy(v, opt, nb * 2);
			opt[k++] = 1, opt[k++] = 1, opt[k++] = 5;
			opt[k++] = (uint8_t)(2 + 8 * nb);
			for (size_t i = 0; i < nb; i++) {
				uint32_t l = z->peer_ack + v[2 * i] * 100u;

				wr32(opt + k, l);
				wr32(opt + k + 4, l + 1 + v[2 * i + 1] * 100u);
				k += 8;
			}
			optlen = k;
		} else if (!optlen && z->ts) {
			optlen = ts_option(z, opt);
		}
		if (!dseq && !(s.flags & 0x04))
			z->peer_nxt = s.seq + (uint32_t)s.len +
				      !!(s.flags & 0x02) + !!(s.flags & 0x01);
		if (s.flags & 0x10)
			z->peer_ack = s.ack;
		break;
	case 5: /* on r's connection attempt */
		s.sport = ACTIVE_PORT;
		s.dport = z->act_port;
		s.seq = (uint32_t)(uint16_t)dseq << 16;
		s.ack = z->act_iss + 1 + (uint32_t)(int32_t)dack;
		break;
	default: /* anywhere */
		s.sport = (uint16_t)dseq;
		s.dport = at(b, n, 3);
		s.saddr = PEER_ADDR + at(b, n, 4);
		s.seq = (uint32_t)dseq << 16 | (uint16_t)dack;
		s.ack = (uint32_t)dack * 40503u;
		break;
	}
	s.opt = opt;
	s.optlen = optlen;
	send_seg(g->ext, z, &s);
}

/* r's applications: send, read and accept, or wind the connection down. */
static void app_step(struct rig *g, unsigned what)
{
	static const uint8_t junk[1000];
	uint8_t buf[2048];
	struct vsocket *s;

	if (what == 1) {
		if (g->est)
			vsock_sendto(g->est, junk, sizeof(junk), 0, NULL, 0);
		vsock_sendto(g->act, junk, 100, 0, NULL, 0);
		return;
	}
	if (what == 2) {
		if (g->est)
			while (vsock_recvfrom(g->est, buf, sizeof(buf), 0, NULL,
					      NULL) > 0)
				;
		vsock_recvfrom(g->act, buf, sizeof(buf), 0, NULL, NULL);
		for (size_t i = 0; i < g->nacc; i++)
			vsock_recvfrom(g->acc[i], buf, sizeof(buf), 0, NULL,
				       NULL);
		while (vsock_accept(g->lsn, &s, NULL, NULL) == 0) {
			if (g->nacc == MAX_ACCEPTED) {
				vsock_close(g->acc[0]);
				memmove(g->acc, g->acc + 1,
					sizeof(g->acc[0]) * (MAX_ACCEPTED - 1));
				g->nacc--;
			}
			g->acc[g->nacc++] = s;
		}
		return;
	}
	if (!g->est)
		return;
	if (!g->est_shut) {
		vsock_shutdown(g->est, SHUT_WR);
		g->est_shut = true;
	} else {
		vsock_close(g->est);
		g->est = NULL;
	}
}

static void step_clock(struct world *w, unsigned code)
{
	static const uint64_t ns[8] = {
	    0,	      NSEC / 1000, NSEC / 100, NSEC / 25,
	    NSEC / 5, NSEC,	   5 * NSEC,   60 * NSEC,
	};

	world_run(w);
	world_advance(w, world_now(w) + ns[code & 7]);
}

static void tcp_setup(struct rig *g)
{
	struct sockaddr_in any = {.sin_family = AF_INET, .sin_port = htons(80)};
	struct sockaddr_in peer = {.sin_family = AF_INET,
				   .sin_port = htons(ACTIVE_PORT),
				   .sin_addr.s_addr = htonl(PEER_ADDR)};
	struct sockaddr_in inner = {.sin_family = AF_INET,
				    .sin_port = htons(80),
				    .sin_addr.s_addr = htonl(0x0a010001)};
	static const uint8_t junk[3000];
	struct fz *z = &g->z;
	uint8_t f[128], opt[40];
	int rcvbuf = 8192;
	struct seg s = {.saddr = PEER_ADDR,
			.sport = PEER_PORT,
			.dport = 80,
			.win = 65535,
			.opt = opt};

	if (vsock_socket(g->r, AF_INET, SOCK_STREAM, 0, &g->lsn) ||
	    vsock_setsockopt(g->lsn, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
			     sizeof(rcvbuf)) ||
	    vsock_bind(g->lsn, (struct sockaddr *)&any, sizeof(any)) ||
	    vsock_listen(g->lsn, 4))
		abort();
	/* ARP: the peer asks for r, so r learns the peer. */
	memset(f, 0xff, 6);
	memcpy(f + 6, z->peer_mac, 6);
	wr16(f + 12, 0x0806);
	wr16(f + 14, 1);
	wr16(f + 16, 0x0800);
	f[18] = 6, f[19] = 4;
	wr16(f + 20, 1);
	memcpy(f + 22, z->peer_mac, 6);
	wr32(f + 28, PEER_ADDR);
	memset(f + 32, 0, 6);
	wr32(f + 38, R_ADDR);
	vif_ext_input(g->ext, f, 42);
	world_run(g->w);
	/* The peer opens a connection to the listener... */
	z->peer_tsval = 7;
	s.seq = PEER_ISS;
	s.flags = 0x02;
	s.optlen = syn_options(z, opt);
	send_seg(g->ext, z, &s);
	world_run(g->w);
	z->peer_nxt = PEER_ISS + 1;
	z->peer_ack = z->r_iss + 1;
	s.seq = z->peer_nxt;
	s.ack = z->peer_ack;
	s.flags = 0x10;
	s.win = z->ws ? 65535 >> 7 : 65535;
	s.optlen = z->ts ? ts_option(z, opt) : 0;
	send_seg(g->ext, z, &s);
	world_run(g->w);
	if (vsock_accept(g->lsn, &g->est, NULL, NULL))
		abort(); /* the harness lost its way, not the stack */
	vsock_sendto(g->est, junk, sizeof(junk), 0, NULL, 0);
	/* ... r opens one to the peer, and h one to r. */
	if (vsock_socket(g->r, AF_INET, SOCK_STREAM, 0, &g->act) ||
	    vsock_connect(g->act, (struct sockaddr *)&peer, sizeof(peer)) !=
		-EINPROGRESS ||
	    vsock_socket(g->h, AF_INET, SOCK_STREAM, 0, &g->hcli) ||
	    vsock_connect(g->hcli, (struct sockaddr *)&inner, sizeof(inner)) !=
		-EINPROGRESS)
		abort();
	world_run(g->w);
}

static void rig_close(struct rig *g)
{
	vsock_close(g->u);
	vsock_close(g->raw);
	vsock_close(g->ping);
	vsock_close(g->lsn);
	if (g->est)
		vsock_close(g->est);
	vsock_close(g->act);
	vsock_close(g->hcli);
	for (size_t i = 0; i < g->nacc; i++)
		vsock_close(g->acc[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t peer_mac[6] = {0x02, 0, 0, 0, 0, 0x02};
	struct world_config cfg = {.seed = 1};
	struct rig g = {0};
	struct ifnet *a, *b;
	struct vaddr x = VADDR4(10, 0, 0, 1), y = VADDR4(10, 1, 0, 1),
		     z = VADDR4(10, 1, 0, 2);
	struct sockaddr_in any = {.sin_family = AF_INET, .sin_port = htons(7)};
	struct world_counts c;

	if (world_create(&cfg, &g.w) || vimage_create(g.w, "r", &g.r) ||
	    vimage_create(g.w, "h", &g.h))
		abort();
	if (vif_ext_create(g.r, "eth0", &ext_ops, &g.z, &g.ext) ||
	    vif_ve_create(g.r, "eth1", g.h, "eth0", &a, &b))
		abort();
	vif_addr_add(g.ext, &x, 24);
	vif_addr_add(a, &y, 24);
	vif_addr_add(b, &z, 24);
	vif_set_up(g.ext, true);
	vif_set_up(a, true);
	vif_set_up(b, true);
	vimage_sysctl_set(g.r, "net.inet.ip.forwarding", 1);
	vsock_socket(g.r, AF_INET, SOCK_DGRAM, 0, &g.u);
	vsock_bind(g.u, (struct sockaddr *)&any, sizeof(any));
	vsock_socket(g.r, AF_INET, SOCK_RAW, IPPROTO_ICMP, &g.raw);
	vsock_socket(g.h, AF_INET, SOCK_DGRAM, IPPROTO_ICMP, &g.ping);

	vif_mac(g.ext, g.z.r_mac);
	memcpy(g.z.peer_mac, peer_mac, 6);
	if (size) {
		g.z.ts = data[0] & 1;
		g.z.ws = data[0] & 2;
		g.z.sack = data[0] & 4;
		data++;
		size--;
	}
	tcp_setup(&g);

	while (size >= 3) {
		unsigned kind = data[0];
		size_t n = (size_t)data[1] << 8 | data[2];

		data += 3;
		size -= 3;
		if (n > size)
			n = size;
		switch (kind & 7) {
		case 0:
		case 1:
			vif_ext_input(g.ext, data, n);
			break;
		case 7:
			break;
		default:
			tcp_record(&g, kind & 7, data, n);
			break;
		}
		data += n;
		size -= n;
		world_run(g.w);
		if (kind & 0x18)
			app_step(&g, (kind >> 3) & 3);
		step_clock(g.w, kind >> 5);
	}
	world_advance(g.w, world_now(g.w) + 120 * NSEC);
	rig_close(&g);
	/* Orphans finish (FIN_WAIT, LAST_ACK, TIME_WAIT) or are destroyed
	 * with their vimage: either way nothing may be left. */
	world_advance(g.w, world_now(g.w) + 600 * NSEC);
	/* FUZZ_FRAME_STRICT=1: connections must also end by themselves
	 * within an hour of their sockets closing (retransmission, window
	 * probing and FIN_WAIT_2 all give up long before), not only when
	 * their vimage is destroyed. */
	if (getenv("FUZZ_FRAME_STRICT")) {
		world_advance(g.w, world_now(g.w) + 3000 * NSEC);
		world_counts(g.w, &c);
		if (c.tcp_conns)
			abort();
	}
	vimage_destroy(g.r);
	vimage_destroy(g.h);
	world_run(g.w);
	world_counts(g.w, &c);
	if (c.pkts || c.pbufs || c.timers || c.neighbours || c.reass_queues ||
	    c.sockets || c.tcp_conns || c.vimages != 1 || c.ifnets != 1)
		abort();
	world_destroy(g.w);
	return 0;
}
