/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vimaged's private state, shared by the event loop (vimaged.c) and the
 * operations of the control protocol (ops.c).
 */
#ifndef VIMAGED_DAEMON_H
#define VIMAGED_DAEMON_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include <vimage/ctl.h>
#include <vimage/net.h>
#include <vimage/socket.h>
#include <vimage/vimage.h>

/* Output a client may leave unread before it is dropped. */
#define CLIENT_OUT_MAX (CTL_REPLY_MAX + CTL_REQ_MAX)
#define CLIENTS_MAX    256

struct client {
	struct client *next;
	int fd;
	uid_t uid;
	pid_t pid;
	uint8_t *in;
	size_t in_len;
	uint8_t *out;
	size_t out_len, out_off;
	bool closing;	 /* close once the output is flushed */
	bool waiting;	 /* a deferred reply (ping) is pending */
	bool eof;	 /* the client sent all it will send */
	uint32_t events; /* what epoll watches for it now */
};

struct capture {
	struct capture *next;
	struct ifnet *ifp;
	int fd;
	int err; /* first write error, negative errno */
	char path[CTL_STR_MAX];
};

struct ping_job {
	struct ping_job *next;
	struct client *client;
	uint32_t id;
	struct vimage *vi;
	struct vsocket *so;
	uint32_t dst;
	uint32_t count, sent, received;
	uint64_t interval_ns, next_send, deadline;
	uint64_t sent_at[1000];
	uint64_t rtt[1000];
	uint32_t nrtt;
};

struct daemon {
	struct world *w;
	int ep, lfd, sigfd;
	char sock_path[108];
	dev_t sock_dev;
	ino_t sock_ino;
	uid_t uid;
	uint64_t clock_off; /* CLOCK_REALTIME - CLOCK_MONOTONIC at start */
	FILE *log;
	int log_level;
	bool stop;
	unsigned nclients;
	struct client *clients;
	struct capture *captures;
	struct ping_job *pings;
};

uint64_t daemon_now(const struct daemon *d);
void daemon_log(struct daemon *d, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Queue a message for a client (copied); drops the client on overflow. */
void client_send(struct daemon *d, struct client *c, const uint8_t *buf,
		 size_t len);

/* Handle one validated request: the reply is sent, or deferred (ping). */
void ops_dispatch(struct daemon *d, struct client *c, const struct ctl_msg *m);
/* Send an error reply of type CTL_T_REPLY | type. */
void ops_reply_error(struct daemon *d, struct client *c, uint16_t type,
		     uint32_t id, int err, const char *msg);
/* Advance the pending pings; returns the earliest time they need. */
uint64_t ops_pings_run(struct daemon *d);
/* A client went away: its pending jobs are dropped. */
void ops_client_gone(struct daemon *d, struct client *c);
/* Stop every capture and ping (shutdown). */
void ops_cleanup(struct daemon *d);

#endif
