/* SPDX-License-Identifier: BSD-2-Clause */
#include "tcpx.h"

#include <errno.h>
#include <poll.h>
#include <string.h>

#include "vimage/socket.h"

#define FNV_OFF 0xcbf29ce484222325ull
#define FNV_PRIME 0x100000001b3ull

uint64_t tcpx_fnv(uint64_t h, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * FNV_PRIME;
	return h;
}

int tcpx_open(struct tcpx *x, struct simnet *sn, struct vimage *src,
	      struct vimage *dst, const char *dst_addr, uint16_t port)
{
	struct sockaddr_in sin = simnet_sin(dst_addr, port);
	int err, one = 1;

	memset(x, 0, sizeof(*x));
	x->sn = sn;
	x->seed = port;
	x->chunk = 65536;
	x->hash_tx = x->hash_rx = FNV_OFF;
	err = vsock_socket(dst, AF_INET, SOCK_STREAM, 0, &x->lsn);
	if (err)
		return err;
	vsock_setsockopt(x->lsn, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	err = vsock_bind(x->lsn, (struct sockaddr *)&sin, sizeof(sin));
	if (err)
		return err;
	err = vsock_listen(x->lsn, 128);
	if (err)
		return err;
	err = vsock_socket(src, AF_INET, SOCK_STREAM, 0, &x->cli);
	if (err)
		return err;
	x->start_ns = world_now(sn->w);
	err = vsock_connect(x->cli, (struct sockaddr *)&sin, sizeof(sin));
	return err == -EINPROGRESS ? 0 : err;
}

void tcpx_settle(struct simnet *sn, uint64_t until_ns)
{
	for (int i = 0; i < 1000000; i++) {
		uint64_t next;

		if (world_run(sn->w))
			continue;
		next = world_next_deadline(sn->w);
		if (next > until_ns)
			break;
		world_advance(sn->w, next);
	}
}

/* One round of the two applications: send what fits, read what is
 * there. Returns true when something moved. */
static bool tcpx_pump(struct tcpx *x)
{
	static uint8_t buf[1 << 17];
	bool moved = false;
	ssize_t n;

	if (!x->srv) {
		struct vsocket *s = NULL;

		if (vsock_accept(x->lsn, &s, NULL, NULL) == 0) {
			x->srv = s;
			moved = true;
		}
	}
	while (x->sent < x->total) {
		/* Generate the pattern once per chunk, not per attempt: a
		 * full send buffer refuses most attempts. */
		if (x->pend_off == x->pend_len) {
			size_t len = x->chunk;

			if (len > x->total - x->sent)
				len = (size_t)(x->total - x->sent);
			if (len > sizeof(x->pend))
				len = sizeof(x->pend);
			for (size_t i = 0; i < len; i++)
				x->pend[i] = tcpx_byte(x->seed, x->sent + i);
			x->pend_off = 0;
			x->pend_len = len;
		}
		n = vsock_sendto(x->cli, x->pend + x->pend_off,
				 x->pend_len - x->pend_off, 0, NULL, 0);
		if (n == -EAGAIN)
			break;
		if (n < 0) {
			x->err = (int)n;
			x->failed = true;
			return false;
		}
		x->hash_tx = tcpx_fnv(x->hash_tx, x->pend + x->pend_off,
				      (size_t)n);
		x->pend_off += (size_t)n;
		x->sent += (uint64_t)n;
		moved = true;
	}
	if (x->sent == x->total && !x->cli_closed) {
		vsock_shutdown(x->cli, SHUT_WR);
		x->cli_closed = true;
		moved = true;
	}
	while (x->srv && !x->srv_eof) {
		n = vsock_recvfrom(x->srv, buf, sizeof(buf), 0, NULL, NULL);
		if (n == -EAGAIN)
			break;
		if (n < 0) {
			x->err = (int)n;
			x->failed = true;
			return false;
		}
		if (n == 0) {
			x->srv_eof = true;
			x->end_ns = world_now(x->sn->w);
			vsock_shutdown(x->srv, SHUT_WR);
			moved = true;
			break;
		}
		x->hash_rx = tcpx_fnv(x->hash_rx, buf, (size_t)n);
		x->rcvd += (uint64_t)n;
		if (!x->mid_ns && x->rcvd * 2 >= x->total) {
			x->mid_ns = world_now(x->sn->w);
			x->mid_bytes = x->rcvd;
		}
		moved = true;
	}
	if (x->cli_closed && !x->cli_eof) {
		n = vsock_recvfrom(x->cli, buf, sizeof(buf), 0, NULL, NULL);
		if (n == 0) {
			x->cli_eof = true;
			moved = true;
		} else if (n > 0 || (n < 0 && n != -EAGAIN)) {
			x->err = n > 0 ? -EPROTO : (int)n;
			x->failed = true;
		}
	}
	return moved;
}

int tcpx_transfer(struct tcpx *x, uint64_t total, uint64_t limit_ns)
{
	struct world *w = x->sn->w;
	uint64_t end = world_now(w) + limit_ns;

	x->total = total;
	for (uint64_t i = 0; i < 400000000ull; i++) {
		uint64_t next;

		if (x->failed)
			return -1;
		if (x->srv_eof && x->cli_eof)
			break;
		if (tcpx_pump(x))
			continue;
		if (world_run(w))
			continue;
		next = world_next_deadline(w);
		if (next == UINT64_MAX || next > end) {
			x->err = -ETIMEDOUT;
			return -1;
		}
		world_advance(w, next);
	}
	if (!(x->srv_eof && x->cli_eof)) {
		x->err = -ETIMEDOUT;
		return -1;
	}
	if (x->rcvd != x->total || x->hash_rx != x->hash_tx) {
		x->err = -EIO;
		return -1;
	}
	return 0;
}

void tcpx_close(struct tcpx *x)
{
	if (x->cli)
		vsock_close(x->cli);
	if (x->srv)
		vsock_close(x->srv);
	if (x->lsn)
		vsock_close(x->lsn);
	x->cli = x->srv = x->lsn = NULL;
}
