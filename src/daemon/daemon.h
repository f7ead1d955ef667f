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
#include <vimage/host.h>
#include <vimage/net.h>
#include <vimage/socket.h>
#include <vimage/vimage.h>

/* Output a client may leave unread before it is dropped. */
#define CLIENT_OUT_MAX (CTL_REPLY_MAX + CTL_REQ_MAX)
#define CLIENTS_MAX    4096

/* What an epoll event's data.ptr points at: each such struct starts with
 * its kind. */
enum ep_kind { EPK_CLIENT = 1, EPK_SSOCK, EPK_TAP };

struct client {
	int kind; /* EPK_CLIENT */
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
	/* The socket service: the vimage this process is attached to (a
	 * process of the preload library), or NULL. */
	struct vimage *vi;
	bool attached;
	int passed_fd; /* a descriptor that came with the request, or -1 */
};

struct ssock;

struct capture {
	struct capture *next;
	struct ifnet *ifp;
	int fd;
	int err; /* first write error, negative errno */
	char path[CTL_STR_MAX];
};

/* An interface attached to a Linux TAP device (libvimage-host). */
struct tap_att {
	int kind; /* EPK_TAP */
	struct tap_att *next;
	struct vtap *t;
	char dev[16];
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
	struct client *dead_clients;
	bool clients_rescan; /* a deferred reply went out: look at all */
	struct capture *captures;
	struct ping_job *pings;
	struct tap_att *taps;
	struct tap_att *dead_taps; /* freed after the batch of events */
	/* The socket service (sock.c). */
	struct ssock *ssocks;	     /* every socket */
	struct ssock **ss_hash;	     /* by id */
	size_t ss_hash_size, nssocks;
	struct ssock *ss_dirty;	     /* readiness changed in the stack */
	struct ssock *ss_dead;	     /* closed, freed after the batch */
	struct ssock *ss_zombies, **ss_zombie_tail; /* oldest first */
	uint8_t *scratch;	     /* SS_SCRATCH bytes */
	struct vsock_sendbuf *sendbuf; /* for vsock_send_reserve */
	uint64_t ss_bad_dgrams;	     /* malformed datagram headers */
	uint64_t ss_dropped;	     /* datagrams the stack refused */
};

uint64_t daemon_now(const struct daemon *d);
void daemon_log(struct daemon *d, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Queue a message for a client (copied); drops the client on overflow. */
void client_send(struct daemon *d, struct client *c, const uint8_t *buf,
		 size_t len);

/* Send a reply with a file descriptor (SCM_RIGHTS); the fd is closed here
 * in every case. Returns 0 or a negative errno. */
int client_send_fd(struct daemon *d, struct client *c, const uint8_t *buf,
		   size_t len, int fd);

/* ---- the socket service (sock.c) ---- */
int ss_init(struct daemon *d);
void ss_fini(struct daemon *d);
/* An epoll event on a socket's daemon end. */
void ss_event(struct daemon *d, struct ssock *ss, uint32_t events);
/* Let the stack run and move data until nothing is left to do now. */
void ss_run(struct daemon *d);
/* Free what was closed during the last batch of events. */
void ss_reap(struct daemon *d);
/* Close every socket of vimages in the subtree of top (a destroy). */
void ss_release_subtree(struct daemon *d, struct vimage *top);
/* Socket requests (CTL_T_SOCKET .. CTL_T_IOCTL): fill the reply; *fd_out
 * gets a descriptor to pass with it (or stays -1). */
struct op;
int ss_op(struct daemon *d, struct client *c, const struct ctl_msg *m,
	  struct ctl_buf *rep, int *fd_out, char *err, size_t errlen);
/* Processes attached to a vimage. */
unsigned ss_procs(struct daemon *d, const struct vimage *vi);

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
/* Frames arrived on a TAP device. */
void ops_tap_input(struct daemon *d, struct tap_att *ta);
/* Free the TAP attachments detached during the last batch. */
void ops_taps_reap(struct daemon *d);

#endif
