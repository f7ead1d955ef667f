/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The interop node's TCP applications (see tcp_apps.h). One connection is
 * in progress at a time; each step runs its state machine until a socket
 * call answers -EAGAIN, and the readiness callback only raises a flag, so
 * no socket call is ever made from inside the stack.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sha256.h"
#include "tcp_apps.h"
#include "vimage/socket.h"

enum conn_state {
	C_NONE,	      /* no connection: accept (servers) or done */
	C_CONNECTING, /* clients: waiting for the handshake */
	C_REQUEST,    /* http-server: reading a request head */
	C_SEND,	      /* sending a response head and body, or the data */
	C_RECV,	      /* sink and fetch: reading to the end */
	C_DRAIN,      /* our side shut down: reading until the peer's FIN */
};

static const char *const conn_state_names[] = {
    "none", "connecting", "request", "send", "recv", "drain",
};

struct tcp_app {
	struct tcp_app_config cfg;
	struct vimage *vi;
	struct vsocket *lsn, *so;
	bool kick;
	int status;
	char why[200];
	int accepted, conns_done, aborted, requests;
	/* The caller's clock; the sink starts reading at read_at. */
	uint64_t now, read_at;
	enum conn_state st;
	char head[8192]; /* request or response head being read */
	size_t head_len;
	bool head_done;
	char resp[256]; /* response head being sent */
	size_t resp_len, resp_off;
	/* Bytes to send, or the Content-Length (UINT64_MAX: unknown); and
	 * the bytes of the body or data sent or received so far. */
	uint64_t len, done;
	bool keep_alive;
	struct sha256 sha;
	FILE *outf;
	uint8_t buf[65536];
};

/* splitmix64: every 8-byte word of the pattern is a hash of its index. */
static uint64_t pattern_word(uint64_t i)
{
	uint64_t z = i + 0x9e3779b97f4a7c15ull;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

void pattern_fill(uint8_t *buf, uint64_t off, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		uint64_t pos = off + i;

		buf[i] = (uint8_t)(pattern_word(pos >> 3) >> ((pos & 7) * 8));
	}
}

static void app_fail(struct tcp_app *a, const char *fmt, ...)
{
	va_list ap;

	if (a->status < 0)
		return;
	va_start(ap, fmt);
	vsnprintf(a->why, sizeof(a->why), fmt, ap);
	va_end(ap);
	a->status = -1;
}

static void app_notify(void *ctx, struct vsocket *so, unsigned events)
{
	struct tcp_app *a = ctx;

	a->kick = true;
}

static void conn_begin(struct tcp_app *a, enum conn_state st)
{
	a->st = st;
	a->head_len = 0;
	a->head_done = false;
	a->resp_len = a->resp_off = 0;
	a->len = UINT64_MAX;
	a->done = 0;
	a->requests = 0;
	sha256_init(&a->sha);
}

static void conn_close(struct tcp_app *a)
{
	vsock_close(a->so);
	a->so = NULL;
	a->st = C_NONE;
}

/* Send from buf; false when the socket takes no more now (or failed). */
static bool send_some(struct tcp_app *a, const void *buf, size_t len,
		      size_t *sent)
{
	ssize_t n = vsock_sendto(a->so, buf, len, 0, NULL, 0);

	if (n == -EAGAIN)
		return false;
	if (n < 0) {
		app_fail(a, "send: %s", strerror((int)-n));
		return false;
	}
	*sent = (size_t)n;
	return true;
}

/* Send the pattern from a->done to a->len; true once all of it is queued. */
static bool send_pattern(struct tcp_app *a, bool hash)
{
	while (a->done < a->len) {
		size_t chunk =
		    a->len - a->done < 16384 ? a->len - a->done : 16384;
		size_t sent;

		pattern_fill(a->buf, a->done, chunk);
		if (!send_some(a, a->buf, chunk, &sent))
			return false;
		if (hash)
			sha256_update(&a->sha, a->buf, sent);
		a->done += sent;
	}
	return true;
}

/* Read into a->buf: bytes read, 0 at the end, -EAGAIN, or fails the app. */
static ssize_t recv_some(struct tcp_app *a)
{
	ssize_t n =
	    vsock_recvfrom(a->so, a->buf, sizeof(a->buf), 0, NULL, NULL);

	if (n < 0 && n != -EAGAIN)
		app_fail(a, "recv after %llu bytes: %s",
			 (unsigned long long)a->done, strerror((int)-n));
	return n;
}

/* Wait for the peer's FIN after ours, discarding anything it still sends;
 * true when the connection is closed. */
static bool drain(struct tcp_app *a)
{
	for (;;) {
		ssize_t n = recv_some(a);

		if (n < 0)
			return false;
		if (n == 0) {
			conn_close(a);
			return true;
		}
	}
}

/* Clients: true once connected, failing the app if it did not work. */
static bool connected(struct tcp_app *a)
{
	unsigned ev = vsock_poll(a->so);
	int err = 0;
	socklen_t el = sizeof(err);

	if (!(ev & (POLLOUT | POLLERR | POLLHUP)))
		return false;
	vsock_getsockopt(a->so, SOL_SOCKET, SO_ERROR, &err, &el);
	if (err) {
		app_fail(a, "connect to %s:%u: %s",
			 inet_ntoa(a->cfg.addr.sin_addr),
			 ntohs(a->cfg.addr.sin_port), strerror(err));
		return false;
	}
	return true;
}

/* ---- http-server --------------------------------------------------------- */

/* Parse the request head in a->head[0..end) and queue the response head. */
static void http_answer(struct tcp_app *a, size_t end)
{
	unsigned long long n;
	int minor, status = 200;
	char c;

	a->head[end] = 0;
	if (sscanf(a->head, "GET /%llu HTTP/1.%d%c", &n, &minor, &c) != 3 ||
	    c != '\r') {
		status = 400;
		n = 0;
		minor = 0;
	}
	a->keep_alive =
	    minor == 1 && !strcasestr(a->head, "\nconnection: close");
	a->resp_len = (size_t)snprintf(
	    a->resp, sizeof(a->resp),
	    "HTTP/1.%d %d %s\r\nContent-Type: application/octet-stream\r\n"
	    "Content-Length: %llu\r\nConnection: %s\r\n\r\n",
	    minor, status, status == 200 ? "OK" : "Bad Request", n,
	    a->keep_alive ? "keep-alive" : "close");
	a->resp_off = 0;
	a->len = n;
	a->done = 0;
	printf("http: GET /%llu HTTP/1.%d -> %d%s\n", n, minor, status,
	       a->keep_alive ? " (keep-alive)" : "");
	if (status != 200)
		app_fail(a, "bad request: %.60s", a->head);
}

/* Advance the connection; true when it is over (closed). */
static bool http_conn_step(struct tcp_app *a)
{
	for (;;) {
		if (a->status < 0)
			return false;
		switch (a->st) {
		case C_REQUEST: {
			char *end = strstr(a->head, "\r\n\r\n");
			ssize_t n;

			if (end) {
				size_t hl = (size_t)(end + 4 - a->head);

				http_answer(a, hl);
				/* Keep a pipelined request that followed. */
				memmove(a->head, a->head + hl,
					a->head_len - hl);
				a->head_len -= hl;
				a->head[a->head_len] = 0;
				a->st = C_SEND;
				continue;
			}
			if (a->head_len >= sizeof(a->head) - 1) {
				app_fail(a, "request head too long");
				return false;
			}
			n = vsock_recvfrom(a->so, a->head + a->head_len,
					   sizeof(a->head) - 1 - a->head_len, 0,
					   NULL, NULL);
			if (n == -EAGAIN)
				return false;
			if (n < 0) {
				app_fail(a, "recv request: %s",
					 strerror((int)-n));
				return false;
			}
			if (n == 0) {
				/* A client ends a kept-alive connection. */
				if (a->head_len || !a->requests)
					app_fail(a, "end of stream in a "
						    "request head");
				else
					conn_close(a);
				return a->status == 0;
			}
			a->head_len += (size_t)n;
			a->head[a->head_len] = 0;
			break;
		}
		case C_SEND:
			while (a->resp_off < a->resp_len) {
				size_t sent;

				if (!send_some(a, a->resp + a->resp_off,
					       a->resp_len - a->resp_off,
					       &sent))
					return false;
				a->resp_off += sent;
			}
			if (!send_pattern(a, false))
				return false;
			a->requests++;
			if (a->keep_alive) {
				a->st = C_REQUEST;
				break;
			}
			vsock_shutdown(a->so, SHUT_WR);
			a->st = C_DRAIN;
			break;
		case C_DRAIN:
			return drain(a);
		default:
			app_fail(a, "http: bad state %d", a->st);
			return false;
		}
	}
}

/* A failed connection is that client's problem: log it, serve the next. */
static void http_conn_aborted(struct tcp_app *a)
{
	printf("http: connection %d aborted after %llu bytes: %s\n",
	       a->accepted, (unsigned long long)a->done, a->why);
	conn_close(a);
	a->aborted++;
	a->status = 0;
	a->why[0] = 0;
}

static void http_server_step(struct tcp_app *a)
{
	while (a->status == 0) {
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);

		if (!a->so) {
			int err;

			if (a->cfg.conns && a->accepted >= a->cfg.conns) {
				a->status = 1;
				return;
			}
			err = vsock_accept(a->lsn, &a->so,
					   (struct sockaddr *)&from, &fl);
			if (err == -EAGAIN)
				return;
			if (err) {
				app_fail(a, "accept: %s", strerror(-err));
				return;
			}
			vsock_set_notify(a->so, app_notify, a);
			conn_begin(a, C_REQUEST);
			a->head[0] = 0;
			a->accepted++;
			printf("http: connection %d from %s:%u\n", a->accepted,
			       inet_ntoa(from.sin_addr), ntohs(from.sin_port));
		}
		if (!http_conn_step(a)) {
			if (a->status < 0)
				http_conn_aborted(a);
			else
				return;
			continue;
		}
		a->conns_done++;
		printf("http: connection %d closed after %d requests\n",
		       a->accepted, a->requests);
	}
}

/* ---- sink ---------------------------------------------------------------- */

static void sink_step(struct tcp_app *a)
{
	if (!a->so) {
		int err = vsock_accept(a->lsn, &a->so, NULL, NULL);

		if (err == -EAGAIN)
			return;
		if (err) {
			app_fail(a, "accept: %s", strerror(-err));
			return;
		}
		vsock_set_notify(a->so, app_notify, a);
		conn_begin(a, C_RECV);
		/* One connection only: later ones are refused. */
		vsock_close(a->lsn);
		a->lsn = NULL;
		a->read_at = a->now + (uint64_t)a->cfg.pause_ms * 1000000;
		if (a->cfg.pause_ms)
			printf("sink: not reading for %d ms\n",
			       a->cfg.pause_ms);
	}
	if (a->now < a->read_at)
		return;
	a->read_at = 0;
	for (;;) {
		ssize_t n = recv_some(a);
		char hex[65];

		if (n < 0)
			return;
		if (n == 0) {
			sha256_hex(&a->sha, hex);
			printf("sink: %llu bytes sha256 %s\n",
			       (unsigned long long)a->done, hex);
			conn_close(a);
			a->status = 1;
			return;
		}
		sha256_update(&a->sha, a->buf, (size_t)n);
		a->done += (uint64_t)n;
	}
}

/* ---- fetch --------------------------------------------------------------- */

/* Take the response head from the front of what arrived; the rest of the
 * bytes, if any, start the body. */
static int fetch_head(struct tcp_app *a, const uint8_t *p, size_t n,
		      size_t *used)
{
	size_t room = sizeof(a->head) - 1 - a->head_len, take;
	char *end, *cl;
	int minor, status;

	take = n < room ? n : room;
	memcpy(a->head + a->head_len, p, take);
	a->head[a->head_len + take] = 0;
	end = strstr(a->head, "\r\n\r\n");
	if (!end) {
		a->head_len += take;
		*used = take;
		return a->head_len < sizeof(a->head) - 1 ? 0 : -EMSGSIZE;
	}
	*used = (size_t)(end + 4 - a->head) - a->head_len;
	a->head_len = (size_t)(end + 4 - a->head);
	*end = 0;
	a->head_done = true;
	if (sscanf(a->head, "HTTP/1.%d %d", &minor, &status) != 2)
		return -EPROTO;
	cl = strcasestr(a->head, "\ncontent-length:");
	if (cl)
		a->len = strtoull(cl + 16, NULL, 10);
	printf("fetch: HTTP/1.%d %d, content-length %lld\n", minor, status,
	       cl ? (long long)a->len : -1ll);
	return status == 200 ? 0 : -ENOENT;
}

static void fetch_step(struct tcp_app *a)
{
	if (a->st == C_CONNECTING) {
		int len;
		size_t sent;

		if (!connected(a))
			return;
		len = snprintf((char *)a->buf, sizeof(a->buf),
			       "GET %s HTTP/1.1\r\nHost: %s:%u\r\n"
			       "User-Agent: vimage-tap_node\r\n"
			       "Connection: close\r\n\r\n",
			       a->cfg.path, inet_ntoa(a->cfg.addr.sin_addr),
			       ntohs(a->cfg.addr.sin_port));
		/* A fresh connection has the whole send buffer free. */
		if (!send_some(a, a->buf, (size_t)len, &sent) ||
		    sent != (size_t)len) {
			app_fail(a, "could not send the request");
			return;
		}
		a->st = C_RECV;
	}
	for (;;) {
		ssize_t n = recv_some(a);
		size_t used = 0;

		if (n < 0)
			return;
		if (n == 0)
			break;
		if (!a->head_done) {
			int err = fetch_head(a, a->buf, (size_t)n, &used);

			if (err) {
				app_fail(a, "bad response head (%s): %.80s",
					 strerror(-err), a->head);
				return;
			}
		}
		if ((size_t)n > used) {
			size_t body = (size_t)n - used;

			if (fwrite(a->buf + used, 1, body, a->outf) != body) {
				app_fail(a, "writing %s: %s", a->cfg.out,
					 strerror(errno));
				return;
			}
			a->done += body;
		}
	}
	/* The server closed: the body must be complete. */
	if (!a->head_done)
		app_fail(a, "end of stream before the response head");
	else if (a->len != UINT64_MAX && a->done != a->len)
		app_fail(a, "body of %llu bytes, content-length %llu",
			 (unsigned long long)a->done,
			 (unsigned long long)a->len);
	else if (fflush(a->outf))
		app_fail(a, "writing %s: %s", a->cfg.out, strerror(errno));
	if (a->status < 0)
		return;
	printf("fetch: %llu bytes into %s\n", (unsigned long long)a->done,
	       a->cfg.out);
	conn_close(a);
	a->status = 1;
}

/* ---- source -------------------------------------------------------------- */

static void source_step(struct tcp_app *a)
{
	if (a->st == C_CONNECTING) {
		if (!connected(a))
			return;
		a->len = a->cfg.nbytes;
		a->st = C_SEND;
	}
	if (a->st == C_SEND) {
		char hex[65];

		if (!send_pattern(a, true))
			return;
		sha256_hex(&a->sha, hex);
		printf("source: sent %llu bytes sha256 %s\n",
		       (unsigned long long)a->done, hex);
		vsock_shutdown(a->so, SHUT_WR);
		a->st = C_DRAIN;
	}
	if (a->st == C_DRAIN && drain(a))
		a->status = 1;
}

/* ---- the interface ------------------------------------------------------- */

bool tcp_app_kicked(const struct tcp_app *a, uint64_t now)
{
	return (a->kick || (a->read_at && now >= a->read_at)) && a->status == 0;
}

uint64_t tcp_app_wake_at(const struct tcp_app *a)
{
	return a->read_at && a->status == 0 ? a->read_at : UINT64_MAX;
}

void tcp_app_step(struct tcp_app *a, uint64_t now)
{
	a->kick = false;
	a->now = now;
	if (a->status)
		return;
	switch (a->cfg.mode) {
	case TCP_APP_HTTP_SERVER:
		http_server_step(a);
		break;
	case TCP_APP_SINK:
		sink_step(a);
		break;
	case TCP_APP_FETCH:
		fetch_step(a);
		break;
	case TCP_APP_SOURCE:
		source_step(a);
		break;
	default:
		break;
	}
}

int tcp_app_status(const struct tcp_app *a)
{
	return a->status;
}

const char *tcp_app_why(const struct tcp_app *a)
{
	return a->why;
}

void tcp_app_describe(const struct tcp_app *a, char *buf, size_t len)
{
	unsigned ev = a->so ? vsock_poll(a->so) : 0;

	snprintf(buf, len,
		 "state %s, %llu bytes done, %d connections (%d closed, %d "
		 "aborted), poll 0x%x",
		 conn_state_names[a->st], (unsigned long long)a->done,
		 a->accepted, a->conns_done, a->aborted, ev);
}

int tcp_app_start(struct vimage *vi, const struct tcp_app_config *cfg,
		  struct tcp_app **out)
{
	struct tcp_app *a = calloc(1, sizeof(*a));
	bool server =
	    cfg->mode == TCP_APP_HTTP_SERVER || cfg->mode == TCP_APP_SINK;
	int err;

	if (!a)
		return -ENOMEM;
	a->cfg = *cfg;
	a->vi = vi;
	if (cfg->mode == TCP_APP_FETCH) {
		a->outf = fopen(cfg->out, "wb");
		if (!a->outf) {
			err = -errno;
			goto fail;
		}
	}
	err = vsock_socket(vi, AF_INET, SOCK_STREAM, 0,
			   server ? &a->lsn : &a->so);
	if (err)
		goto fail;
	if (server) {
		int one = 1;

		vsock_setsockopt(a->lsn, SOL_SOCKET, SO_REUSEADDR, &one,
				 sizeof(one));
		err = vsock_bind(a->lsn, (const struct sockaddr *)&cfg->addr,
				 sizeof(cfg->addr));
		if (!err)
			err = vsock_listen(a->lsn, 16);
		if (err)
			goto fail;
		vsock_set_notify(a->lsn, app_notify, a);
		a->st = C_NONE;
	} else {
		vsock_set_notify(a->so, app_notify, a);
		conn_begin(a, C_CONNECTING);
		err = vsock_connect(a->so, (const struct sockaddr *)&cfg->addr,
				    sizeof(cfg->addr));
		if (err && err != -EINPROGRESS)
			goto fail;
	}
	a->kick = true;
	*out = a;
	return 0;
fail:
	tcp_app_destroy(a);
	return err;
}

void tcp_app_destroy(struct tcp_app *a)
{
	if (!a)
		return;
	if (a->so)
		vsock_close(a->so);
	if (a->lsn)
		vsock_close(a->lsn);
	if (a->outf)
		fclose(a->outf);
	free(a);
}
