/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * TCP applications for the interop node, written against the non-blocking
 * vsock API the way a program on an event loop would be: each one is a
 * small state machine that advances whenever its sockets may have become
 * ready, and never waits.
 *
 *   http-server  answers "GET /<n>" with n bytes of the pattern, one
 *                connection after another, HTTP/1.1 keep-alive included;
 *                a connection that fails is logged and the next served
 *   sink         accepts one connection and reads it to the end, after
 *                an optional pause that lets its receive window fill
 *   fetch        GETs a path from an HTTP server, body into a file
 *   source       sends n bytes of the pattern, then closes
 *
 * The pattern is a function of the byte offset alone (tap_node --pattern
 * writes it), so a reordered, repeated or lost segment changes the hash.
 */
#ifndef INTEROP_TCP_APPS_H
#define INTEROP_TCP_APPS_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vimage/vimage.h"

enum tcp_app_mode {
	TCP_APP_NONE,
	TCP_APP_HTTP_SERVER,
	TCP_APP_SINK,
	TCP_APP_FETCH,
	TCP_APP_SOURCE,
};

struct tcp_app_config {
	enum tcp_app_mode mode;
	struct sockaddr_in addr; /* where to listen, or whom to connect to */
	const char *path;	 /* fetch: the path requested */
	const char *out;	 /* fetch: the file the body goes to */
	uint64_t nbytes;	 /* source: how much to send */
	int conns;		 /* http-server: stop after N (0: never) */
	int pause_ms;		 /* sink: read nothing so long at first */
};

struct tcp_app;

int tcp_app_start(struct vimage *vi, const struct tcp_app_config *cfg,
		  struct tcp_app **out);
/* True when a socket's readiness may have changed since the last step, or
 * a pause is over. now is the caller's clock (ns), the same in every call. */
bool tcp_app_kicked(const struct tcp_app *a, uint64_t now);
/* When a pause ends (UINT64_MAX: none): the loop must wake by then. */
uint64_t tcp_app_wake_at(const struct tcp_app *a);
/* Do whatever the sockets allow now, without waiting. */
void tcp_app_step(struct tcp_app *a, uint64_t now);
/* 0 still running, 1 finished as it should, -1 failed (see tcp_app_why). */
int tcp_app_status(const struct tcp_app *a);
const char *tcp_app_why(const struct tcp_app *a);
/* The state of the connection in progress, for a timeout message. */
void tcp_app_describe(const struct tcp_app *a, char *buf, size_t len);
void tcp_app_destroy(struct tcp_app *a);

/* Bytes [off, off + len) of the test pattern. */
void pattern_fill(uint8_t *buf, uint64_t off, size_t len);

#endif
