/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The socket service: every socket a program makes through
 * libvimage-preload.so is a socket in the stack (a struct vsocket) plus an
 * AF_UNIX socketpair. The program holds one end as its socket descriptor;
 * vimaged holds the other and moves bytes between it and the vsocket. So
 * read/write, poll/select/epoll, fork, dup and exec work on the program's
 * side with no help, and the socketpair's buffer is the backpressure.
 *
 * A socket is named by the inode of the program's end (its "id"), which
 * any process holding the descriptor can find with fstat: a shim that lost
 * its table (after exec) rebuilds it from that.
 *
 * Per kind:
 *  - stream (TCP): a SOCK_STREAM pair carrying the byte stream as it is.
 *    End of stream from the peer is shutdown(SHUT_WR) on our end; the
 *    program's shutdown(SHUT_WR) or close shows here as EPOLLRDHUP/HUP.
 *    While a connect is in progress the shim has written FILLER bytes into
 *    its end, which keeps the program's end from polling writable; they are
 *    discarded when the connection is resolved, so POLLOUT means what it
 *    means on Linux.
 *  - listener: the pair carries one token byte while connections wait to
 *    be accepted, so the listening descriptor polls readable. ACCEPT tells
 *    the shim when to take the token back (DRAIN).
 *  - datagram (UDP, ICMP, raw): a SOCK_SEQPACKET pair; every message is a
 *    struct ctl_dgram header followed by the datagram.
 *  - netlink (NETLINK_ROUTE): a SOCK_SEQPACKET pair carrying netlink
 *    datagrams unchanged; requests go to the rtnetlink emulation.
 *
 * The stack's readiness callbacks only mark a socket dirty (a callback must
 * not close the socket); ss_run moves the data. Nothing here blocks.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/sockios.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "daemon.h"
#include "procnet.h"
#include "sockdiag.h"
#include "rtnl.h"

#define SS_SCRATCH    (256u << 10)
#define SS_BUDGET     (1u << 20) /* bytes per socket per pass */
#define SS_NLQ_MAX    (4u << 20) /* netlink replies a program may leave */
#define SS_PAIR_BUF   (1u << 20) /* our end's SO_SNDBUF/SO_RCVBUF ask */

enum ss_kind { SS_STREAM, SS_LISTEN, SS_DGRAM, SS_NETLINK };

struct nlq {
	struct nlq *next;
	size_t len;
	uint8_t data[];
};

struct ssock {
	int kind; /* EPK_SSOCK */
	struct daemon *d;
	struct ssock *next, **pprev; /* d->ssocks */
	struct ssock *hnext;	     /* d->ss_hash */
	struct ssock *dnext;	     /* d->ss_dirty or d->ss_dead */
	struct vimage *vi;
	struct vsocket *so; /* NULL for netlink */
	uint64_t id;
	int fd;
	enum ss_kind sk;
	int domain, type, proto;
	uint32_t portid;  /* netlink */
	unsigned nlopts;  /* netlink: RTNL_F_* */
	uint32_t events;  /* what epoll watches */
	uint32_t filler;  /* bytes the shim wrote to hold POLLOUT back */
	unsigned tokens;  /* listener: token bytes written and not drained */
	int err;	  /* an error the program's end could not be told */
	uint8_t *pend;	  /* program bytes the stack did not take yet */
	size_t pend_len, pend_off;
	struct nlq *nlq, **nlq_tail;
	size_t nlq_bytes;
	bool dirty, dead;
	uint64_t zombie_until; /* nonzero: connection gone, kept for SO_ERROR */
	struct ssock *znext;
	bool connecting;
	bool established; /* data may move (not before, not after a failed
			   * connect: its error waits for SO_ERROR) */
	bool in_eof;	  /* the program will send no more */
	bool out_eof;	  /* we told the program: end of stream */
	bool out_blocked; /* the program's end is full */
};

static void ss_zombie_unlink(struct ssock *ss);
static void procnet_walk(void *wctx, struct vimage *vi,
			 int (*fn)(void *fctx, const struct procnet_sock *s),
			 void *fctx);

/* ---- table ---------------------------------------------------------------
 */
static uint64_t ss_mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	return x;
}

static size_t ss_slot(const struct daemon *d, uint64_t id)
{
	return (size_t)(ss_mix(id) & (d->ss_hash_size - 1));
}

static struct ssock *ss_find(struct daemon *d, uint64_t id)
{
	for (struct ssock *s = d->ss_hash[ss_slot(d, id)]; s; s = s->hnext)
		if (s->id == id && !s->dead)
			return s;
	return NULL;
}

static int ss_hash_grow(struct daemon *d)
{
	size_t n = d->ss_hash_size * 2;
	struct ssock **h = calloc(n, sizeof(*h));

	if (!h)
		return -ENOMEM;
	for (size_t i = 0; i < d->ss_hash_size; i++) {
		for (struct ssock *s = d->ss_hash[i], *nx; s; s = nx) {
			size_t k = (size_t)(ss_mix(s->id) & (n - 1));

			nx = s->hnext;
			s->hnext = h[k];
			h[k] = s;
		}
	}
	free(d->ss_hash);
	d->ss_hash = h;
	d->ss_hash_size = n;
	return 0;
}

int ss_init(struct daemon *d)
{
	d->ss_zombie_tail = &d->ss_zombies;
	d->ss_hash_size = 256;
	d->ss_hash = calloc(d->ss_hash_size, sizeof(*d->ss_hash));
	d->scratch = malloc(SS_SCRATCH);
	d->sendbuf = malloc(sizeof(*d->sendbuf));
	return d->ss_hash && d->scratch && d->sendbuf ? 0 : -ENOMEM;
}

static void ss_mark_dirty(struct ssock *ss)
{
	if (ss->dirty || ss->dead)
		return;
	ss->dirty = true;
	ss->dnext = ss->d->ss_dirty;
	ss->d->ss_dirty = ss;
}

static void ss_notify(void *ctx, struct vsocket *so, unsigned events)
{
	ss_mark_dirty(ctx);
}

static void ss_set_events(struct ssock *ss, uint32_t want)
{
	struct epoll_event ev = {.events = want | EPOLLRDHUP, .data.ptr = ss};

	if (ss->dead || ss->fd < 0 || ev.events == ss->events)
		return;
	epoll_ctl(ss->d->ep, EPOLL_CTL_MOD, ss->fd, &ev);
	ss->events = ev.events;
}

/* Close a socket: the stack side is closed now, the struct freed after the
 * batch (events already fetched may still name it). */
static void ss_kill(struct ssock *ss, bool abort)
{
	struct daemon *d = ss->d;

	if (ss->dead)
		return;
	if (ss->zombie_until)
		ss_zombie_unlink(ss);
	if (ss->so) {
		if (abort) {
			struct linger l = {.l_onoff = 1, .l_linger = 0};

			vsock_setsockopt(ss->so, SOL_SOCKET, SO_LINGER, &l,
					 sizeof(l));
		}
		vsock_set_notify(ss->so, NULL, NULL);
		vsock_close(ss->so);
		ss->so = NULL;
	}
	if (ss->fd >= 0)
		close(ss->fd);
	ss->fd = -1;
	/* Out of the table and the list now; onto the dead list. */
	for (struct ssock **pp = &d->ss_hash[ss_slot(d, ss->id)]; *pp;
	     pp = &(*pp)->hnext) {
		if (*pp == ss) {
			*pp = ss->hnext;
			break;
		}
	}
	*ss->pprev = ss->next;
	if (ss->next)
		ss->next->pprev = ss->pprev;
	d->nssocks--;
	if (ss->dirty) {
		for (struct ssock **pp = &d->ss_dirty; *pp;
		     pp = &(*pp)->dnext) {
			if (*pp == ss) {
				*pp = ss->dnext;
				break;
			}
		}
	}
	ss->dead = true;
	ss->dnext = d->ss_dead;
	d->ss_dead = ss;
}

void ss_reap(struct daemon *d)
{
	uint64_t now = d->ss_zombies ? daemon_now(d) : 0;

	while (d->ss_zombies && d->ss_zombies->zombie_until <= now)
		ss_kill(d->ss_zombies, false);
	while (d->ss_dead) {
		struct ssock *ss = d->ss_dead;

		d->ss_dead = ss->dnext;
		free(ss->pend);
		while (ss->nlq) {
			struct nlq *q = ss->nlq;

			ss->nlq = q->next;
			free(q);
		}
		free(ss);
	}
}

void ss_fini(struct daemon *d)
{
	while (d->ssocks)
		ss_kill(d->ssocks, false);
	ss_reap(d);
	free(d->ss_hash);
	free(d->scratch);
	free(d->sendbuf);
	d->sendbuf = NULL;
	d->ss_hash = NULL;
	d->scratch = NULL;
}

void ss_release_subtree(struct daemon *d, struct vimage *top)
{
	for (struct ssock *ss = d->ssocks, *nx; ss; ss = nx) {
		nx = ss->next;
		for (struct vimage *v = ss->vi; v; v = vimage_parent(v)) {
			if (v == top) {
				ss_kill(ss, true);
				break;
			}
		}
	}
	for (struct client *c = d->clients; c; c = c->next) {
		for (struct vimage *v = c->vi; v; v = vimage_parent(v)) {
			if (v == top) {
				c->vi = NULL;
				break;
			}
		}
	}
}

unsigned ss_procs(struct daemon *d, const struct vimage *vi)
{
	unsigned n = 0;

	for (struct client *c = d->clients; c; c = c->next)
		n += c->attached && c->vi == vi;
	return n;
}

/* A new socket with its pair; *cfd gets the program's end. */
static int ss_new(struct daemon *d, struct vimage *vi, struct vsocket *so,
		  enum ss_kind sk, int domain, int type, int proto, int *cfd,
		  struct ssock **out)
{
	struct epoll_event ev;
	struct ssock *ss;
	struct stat st;
	int sv[2], sz = SS_PAIR_BUF;

	if (d->nssocks * 2 >= d->ss_hash_size && ss_hash_grow(d))
		return -ENOMEM;
	if (socketpair(AF_UNIX,
		       (sk == SS_STREAM || sk == SS_LISTEN ? SOCK_STREAM
							   : SOCK_SEQPACKET) |
			   SOCK_CLOEXEC,
		       0, sv))
		return -errno;
	ss = calloc(1, sizeof(*ss));
	if (!ss || fstat(sv[1], &st)) {
		free(ss);
		close(sv[0]);
		close(sv[1]);
		return -ENOMEM;
	}
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	/* Bigger buffers mean fewer wakeups; the kernel caps them at
	 * wmem_max/rmem_max. */
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	ss->kind = EPK_SSOCK;
	ss->d = d;
	ss->vi = vi;
	ss->so = so;
	ss->id = (uint64_t)st.st_ino;
	ss->fd = sv[0];
	ss->sk = sk;
	ss->domain = domain;
	ss->type = type;
	ss->proto = proto;
	ss->nlq_tail = &ss->nlq;
	ss->portid = 0x80000000u | (uint32_t)(ss->id & 0x7fffffff);
	ev.events = ss->events = EPOLLRDHUP |
				 (sk == SS_DGRAM || sk == SS_NETLINK ? EPOLLIN
								     : 0);
	ev.data.ptr = ss;
	if (epoll_ctl(d->ep, EPOLL_CTL_ADD, sv[0], &ev)) {
		int e = -errno;

		close(sv[0]);
		close(sv[1]);
		free(ss);
		return e;
	}
	ss->next = d->ssocks;
	if (ss->next)
		ss->next->pprev = &ss->next;
	ss->pprev = &d->ssocks;
	d->ssocks = ss;
	{
		size_t k = ss_slot(d, ss->id);

		ss->hnext = d->ss_hash[k];
		d->ss_hash[k] = ss;
	}
	d->nssocks++;
	if (so)
		vsock_set_notify(so, ss_notify, ss);
	*cfd = sv[1];
	*out = ss;
	return 0;
}

/* ---- moving data ---------------------------------------------------------
 */
/* The connection died (reset, timeout): the program must see it on its
 * descriptor. Our end is closed: with the program's own writes still
 * unread in it, its next call fails with ECONNRESET (AF_UNIX's rule);
 * otherwise reads see the end of the stream and writes EPIPE, which the
 * shim turns into the error by asking SO_ERROR. For that the socket stays
 * findable, without descriptor or connection, for SS_ZOMBIE_NS: nothing
 * tells us when the program closes its end now. */
#define SS_ZOMBIE_NS (30ull * 1000000000ull)

static void ss_conn_dead(struct ssock *ss, int err)
{
	struct daemon *d = ss->d;
	int inq = 0;

	ss->err = ss->err ? ss->err : err;
	ss->in_eof = ss->out_eof = true;
	free(ss->pend);
	ss->pend = NULL;
	ioctl(ss->fd, SIOCINQ, &inq);
	daemon_log(d, VLOG_DEBUG,
		   "socket %llu: connection gone (%s), %d bytes unread in the "
		   "pair",
		   (unsigned long long)ss->id, strerror(err), inq);
	close(ss->fd);
	ss->fd = -1;
	vsock_set_notify(ss->so, NULL, NULL);
	vsock_close(ss->so);
	ss->so = NULL;
	ss->zombie_until = daemon_now(d) + SS_ZOMBIE_NS;
	*d->ss_zombie_tail = ss;
	d->ss_zombie_tail = &ss->znext;
}

/* Zombies whose time is up; and a zombie that is closed otherwise must
 * leave the list first. */
static void ss_zombie_unlink(struct ssock *ss)
{
	struct daemon *d = ss->d;

	for (struct ssock **pp = &d->ss_zombies; *pp; pp = &(*pp)->znext) {
		if (*pp == ss) {
			*pp = ss->znext;
			if (d->ss_zombie_tail == &ss->znext)
				d->ss_zombie_tail = pp;
			ss->zombie_until = 0;
			return;
		}
	}
}

/* Stack -> program for a stream: write straight from the receive queue's
 * buffers what the pair takes, then consume that much. */
static void ss_stream_out(struct ssock *ss)
{
	struct iovec iov[64];
	size_t moved = 0;

	while (!ss->out_eof && !ss->out_blocked && moved < SS_BUDGET) {
		struct msghdr mh = {.msg_iov = iov};
		int k = vsock_peek_iov(ss->so, iov, 64, SS_SCRATCH);
		ssize_t n, w;

		if (k == 0) {
			n = vsock_recvfrom(ss->so, ss->d->scratch, 0, 0, NULL,
					   NULL);
			if (n == -EAGAIN)
				return;
			if (n < 0) {
				ss_conn_dead(ss, (int)-n);
				return;
			}
			/* The peer's FIN. */
			shutdown(ss->fd, SHUT_WR);
			ss->out_eof = true;
			return;
		}
		if (k < 0)
			return;
		mh.msg_iovlen = (size_t)k;
		n = 0;
		for (int i = 0; i < k; i++)
			n += (ssize_t)iov[i].iov_len;
		w = sendmsg(ss->fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				ss->out_blocked = true;
				return;
			}
			/* The program shut its reading side: discard, as a
			 * socket that will never be read. */
			w = n;
		}
		if (vsock_recvfrom(ss->so, ss->d->scratch, (size_t)w, MSG_TRUNC,
				   NULL, NULL) != w)
			return; /* cannot happen: it was just peeked */
		moved += (size_t)w;
		if (w < n) {
			ss->out_blocked = true;
			return;
		}
	}
	if (moved >= SS_BUDGET)
		ss_mark_dirty(ss);
}

/* Program -> stack for a stream. */
static void ss_stream_in(struct ssock *ss)
{
	size_t moved = 0;

	while ((ss->pend || !ss->in_eof) && moved < SS_BUDGET) {
		ssize_t n, s;

		if (ss->pend) {
			s = vsock_sendto(ss->so, ss->pend + ss->pend_off,
					 ss->pend_len - ss->pend_off, 0, NULL,
					 0);
			if (s == -EAGAIN)
				return;
			if (s < 0) {
				if (ss->fd < 0) {
					/* The program is gone: nobody to
					 * tell. */
					free(ss->pend);
					ss->pend = NULL;
					return;
				}
				ss_conn_dead(ss, (int)-s);
				return;
			}
			ss->pend_off += (size_t)s;
			moved += (size_t)s;
			if (ss->pend_off < ss->pend_len)
				return;
			free(ss->pend);
			ss->pend = NULL;
			continue;
		}
		if (ss->in_eof)
			return;
		/* Straight into the send queue's own buffers: what the pair
		 * holds is read into them and queued, no copy between. */
		{
			struct vsock_sendbuf *sb = ss->d->sendbuf;
			struct msghdr mh = {.msg_iov = sb->iov};

			s = vsock_send_reserve(ss->so, SS_SCRATCH, sb);
			if (s < 0 && s != -EAGAIN) {
				/* The connection is gone: what the program
				 * wrote is lost, as with a reset on Linux. */
				ss_conn_dead(ss, (int)-s);
				return;
			}
			if (s <= 0)
				return; /* wait for POLLOUT */
			mh.msg_iovlen = (size_t)sb->n;
			n = recvmsg(ss->fd, &mh, MSG_DONTWAIT);
			vsock_send_commit(ss->so, sb, n > 0 ? (size_t)n : 0);
		}
		if (n < 0)
			return; /* EAGAIN; errors show as HUP */
		if (n == 0) {
			ss->in_eof = true;
			vsock_shutdown(ss->so, SHUT_WR);
			return;
		}
		moved += (size_t)n;
	}
	if (moved >= SS_BUDGET)
		ss_mark_dirty(ss);
}

static void dgram_addr(const struct ctl_dgram *h, struct sockaddr_in *sin)
{
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = h->port;
	memcpy(&sin->sin_addr, &h->addr, 4);
}

/* An IP_RECVERR record to the program. Returns nonzero when the pair is
 * full (the record is lost then: errors are unreliable on Linux too). */
static int ss_dgram_err(struct ssock *ss, const struct vsock_ee *v,
			const uint8_t *quote, size_t len)
{
	struct ctl_dgram h = {.magic = CTL_DGRAM_MAGIC,
			      .flags = CTL_DG_ERR | CTL_DG_ADDR,
			      .ttl = v->ttl,
			      .stamp_ns = daemon_now(ss->d)};
	struct ctl_dgram_err ee = {.err = (uint32_t)v->err,
				   .origin = CTL_EE_ICMP,
				   .type = v->type,
				   .code = v->code,
				   .info = v->info,
				   .offender = v->offender.sin_addr.s_addr};
	struct iovec iov[3] = {{&h, sizeof(h)}, {&ee, sizeof(ee)},
			       {(void *)quote, len}};
	struct msghdr mh = {.msg_iov = iov, .msg_iovlen = 3};

	h.port = v->dst.sin_port;
	memcpy(&h.addr, &v->dst.sin_addr, 4);
	if (sendmsg(ss->fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) < 0 &&
	    (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)) {
		ss->out_blocked = true;
		return 1;
	}
	return 0;
}

/* Stack -> program for datagrams: header + datagram, one message each. */
static void ss_dgram_out(struct ssock *ss)
{
	uint8_t *buf = ss->d->scratch;
	unsigned moved = 0;

	while (!ss->out_blocked && moved < 256) {
		struct ctl_dgram_err ee = {0};
		struct vsock_ee vee;
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		struct ctl_dgram h = {.magic = CTL_DGRAM_MAGIC};
		struct iovec iov[2];
		struct msghdr mh = {.msg_iov = iov, .msg_iovlen = 2};
		ssize_t n;

		memset(&from, 0, sizeof(from));
		/* Errors first: IP_RECVERR records, then a pending error. */
		n = vsock_recv_err(ss->so, buf, 65536, &vee);
		if (n >= 0) {
			if (ss_dgram_err(ss, &vee, buf, (size_t)n))
				return;
			moved++;
			continue;
		}
		n = vsock_recvfrom(ss->so, buf, 65536, MSG_PEEK,
				   (struct sockaddr *)&from, &fl);
		if (n < 0) {
			if (n != -EAGAIN) {
				/* Consumed by this call: the program's next
				 * recv fails with it. */
				ee.err = (uint32_t)-n;
				ee.origin = CTL_EE_NONE;
				h.flags = CTL_DG_ERR;
				iov[0] = (struct iovec){&h, sizeof(h)};
				iov[1] = (struct iovec){&ee, sizeof(ee)};
				if (sendmsg(ss->fd, &mh,
					    MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
					ss->err = (int)-n;
				continue;
			}
			return;
		}
		{
			struct vsock_dgram_meta meta;

			if (!vsock_dgram_meta(ss->so, &meta)) {
				h.ttl = meta.ttl;
				h.tos = meta.tos;
				h.resv2 = htonl(meta.ifindex);
			}
		}
		h.stamp_ns = daemon_now(ss->d);
		if (from.sin_family == AF_INET) {
			h.flags = CTL_DG_ADDR;
			h.port = from.sin_port;
			memcpy(&h.addr, &from.sin_addr, 4);
		}
		iov[0] = (struct iovec){&h, sizeof(h)};
		iov[1] = (struct iovec){buf, (size_t)n};
		if (sendmsg(ss->fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) < 0 &&
		    (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)) {
			ss->out_blocked = true;
			return;
		}
		vsock_recvfrom(ss->so, buf, 0, 0, NULL, NULL);
		moved++;
	}
	if (moved >= 256)
		ss_mark_dirty(ss);
}

/* Program -> stack for datagrams. A message without a valid header is
 * counted and dropped. */
static void ss_dgram_in(struct ssock *ss)
{
	uint8_t *buf = ss->d->scratch;

	for (unsigned i = 0; i < 256; i++) {
		struct ctl_dgram h;
		struct sockaddr_in to;
		ssize_t n = recv(ss->fd, buf, 65536 + sizeof(h), MSG_DONTWAIT);
		ssize_t s;

		if (n <= 0)
			return;
		if ((size_t)n < sizeof(h)) {
			ss->d->ss_bad_dgrams++;
			continue;
		}
		memcpy(&h, buf, sizeof(h));
		if (h.magic != CTL_DGRAM_MAGIC ||
		    (h.flags & ~CTL_DG_ADDR)) {
			ss->d->ss_bad_dgrams++;
			continue;
		}
		dgram_addr(&h, &to);
		s = vsock_sendto(ss->so, buf + sizeof(h), (size_t)n - sizeof(h),
				 0,
				 h.flags & CTL_DG_ADDR ? (struct sockaddr *)&to
						       : NULL,
				 h.flags & CTL_DG_ADDR ? sizeof(to) : 0);
		if (s < 0) {
			ss->d->ss_dropped++;
			ss->err = (int)-s;
		}
	}
	ss_mark_dirty(ss); /* more may be waiting */
}

/* ---- netlink --------------------------------------------------------------
 */
static void nl_emit(void *arg, const void *dgram, size_t len)
{
	struct ssock *ss = arg;
	struct nlq *q;

	if (ss->nlq_bytes + len > SS_NLQ_MAX) {
		ss->d->ss_dropped++;
		return;
	}
	q = malloc(sizeof(*q) + len);
	if (!q)
		return;
	q->next = NULL;
	q->len = len;
	memcpy(q->data, dgram, len);
	*ss->nlq_tail = q;
	ss->nlq_tail = &q->next;
	ss->nlq_bytes += len;
}

static void ss_nl_out(struct ssock *ss)
{
	while (ss->nlq) {
		struct nlq *q = ss->nlq;

		if (send(ss->fd, q->data, q->len, MSG_DONTWAIT | MSG_NOSIGNAL) <
			0 &&
		    (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)) {
			ss->out_blocked = true;
			return;
		}
		ss->nlq = q->next;
		ss->nlq_bytes -= q->len;
		free(q);
	}
	ss->nlq_tail = &ss->nlq;
}

static void ss_nl_in(struct ssock *ss)
{
	struct rtnl_out out = {.emit = nl_emit, .arg = ss};

	/* One request at a time while replies are queued: a program that
	 * never reads cannot make us hold more than SS_NLQ_MAX. */
	for (unsigned i = 0; i < 64 && !ss->nlq; i++) {
		ssize_t n =
		    recv(ss->fd, ss->d->scratch, 65536, MSG_DONTWAIT);

		if (n <= 0)
			break;
		if (!ss->vi) {
			ss->d->ss_bad_dgrams++;
			continue;
		}
		if ((ss->proto == NETLINK_SOCK_DIAG
			 ? sockdiag_request(ss->vi, ss->portid, ss->d->scratch,
					    (size_t)n, procnet_walk, ss->d, &out)
			 : rtnl_request_opts(ss->vi, ss->portid,
					     ss->d->scratch, (size_t)n,
					     ss->nlopts, &out)) < 0)
			ss->d->ss_bad_dgrams++;
		ss_nl_out(ss);
	}
}

/* The program closed its end of a connection. Data it left unread means a
 * reset, as a Linux close with unread data. Otherwise what it wrote last
 * is still in our end: it is taken out, the end closed, and the socket
 * lives on without a descriptor until the stack has taken those bytes;
 * then the connection is closed (the stack finishes sending on its own). */
static void ss_stream_orphan(struct ssock *ss)
{
	struct daemon *d = ss->d;
	int inq = 0, outq = 0;

	struct linger lg = {0};
	socklen_t ll = sizeof(lg);

	ioctl(ss->fd, SIOCOUTQ, &outq);
	vsock_ioctl(ss->so, SIOCINQ, &inq);
	vsock_getsockopt(ss->so, SOL_SOCKET, SO_LINGER, &lg, &ll);
	if (inq > 0 || outq > 0 || (lg.l_onoff && lg.l_linger == 0)) {
		/* Unread data, or SO_LINGER 0: a reset. The vsocket's own
		 * SO_LINGER 0 makes the close abortive. */
		ss_kill(ss, true);
		return;
	}
	for (;;) {
		ssize_t n = recv(ss->fd, d->scratch, SS_SCRATCH, MSG_DONTWAIT);
		uint8_t *p;
		size_t have;

		if (n <= 0)
			break;
		have = ss->pend ? ss->pend_len - ss->pend_off : 0;
		p = malloc(have + (size_t)n);
		if (!p)
			break;
		if (have)
			memcpy(p, ss->pend + ss->pend_off, have);
		memcpy(p + have, d->scratch, (size_t)n);
		free(ss->pend);
		ss->pend = p;
		ss->pend_off = 0;
		ss->pend_len = have + (size_t)n;
	}
	epoll_ctl(d->ep, EPOLL_CTL_DEL, ss->fd, NULL);
	close(ss->fd);
	ss->fd = -1;
	ss->in_eof = true; /* no more from the program */
	ss_mark_dirty(ss);
}

/* ---- one socket's service -------------------------------------------------
 */
static void ss_listen_tokens(struct ssock *ss)
{
	if (ss->tokens == 0 && (vsock_poll(ss->so) & POLLIN) &&
	    send(ss->fd, "", 1, MSG_DONTWAIT | MSG_NOSIGNAL) == 1)
		ss->tokens = 1;
}

static void ss_discard_filler(struct ssock *ss)
{
	while (ss->filler) {
		ssize_t n = recv(ss->fd, ss->d->scratch,
				 ss->filler < SS_SCRATCH ? ss->filler
							 : SS_SCRATCH,
				 MSG_DONTWAIT);

		if (n <= 0)
			break;
		ss->filler -= (uint32_t)n;
	}
	ss->filler = 0;
}

static void ss_service(struct ssock *ss)
{
	uint32_t want = 0;
	unsigned pe;

	if (ss->dead || ss->zombie_until)
		return;
	switch (ss->sk) {
	case SS_LISTEN:
		ss_listen_tokens(ss);
		break;
	case SS_STREAM:
		pe = vsock_poll(ss->so);
		if (ss->fd < 0) {
			/* Orphaned: hand the program's last bytes over, then
			 * close. */
			if (ss->pend && (pe & (POLLOUT | POLLERR | POLLHUP)))
				ss_stream_in(ss);
			if (!ss->pend && !ss->dead) {
				vsock_shutdown(ss->so, SHUT_WR);
				ss_kill(ss, false);
			}
			return;
		}
		if (ss->connecting && (pe & (POLLOUT | POLLERR | POLLHUP))) {
			ss->connecting = false;
			ss->established = !(pe & (POLLERR | POLLHUP));
			ss_discard_filler(ss);
		}
		if (!ss->established)
			break;
		ss_stream_out(ss);
		if (ss->dead || ss->zombie_until)
			return;
		/* Bytes the stack refused earlier; new ones come with
		 * EPOLLIN. */
		if (ss->pend && (pe & POLLOUT))
			ss_stream_in(ss);
		if (ss->out_blocked)
			want |= EPOLLOUT;
		/* Read the program only while the stack takes it. */
		if (!ss->in_eof && !ss->pend && (vsock_poll(ss->so) & POLLOUT))
			want |= EPOLLIN;
		break;
	case SS_DGRAM:
		ss_dgram_out(ss);
		want |= EPOLLIN;
		if (ss->out_blocked)
			want |= EPOLLOUT;
		break;
	case SS_NETLINK:
		ss_nl_out(ss);
		if (!ss->nlq)
			want |= EPOLLIN;
		else
			want |= EPOLLOUT;
		break;
	}
	ss_set_events(ss, want);
}

void ss_event(struct daemon *d, struct ssock *ss, uint32_t events)
{
	if (ss->dead)
		return;
	if (events & (EPOLLHUP | EPOLLERR)) {
		/* Every copy of the program's end is closed (exit, kill -9,
		 * close). */
		if (ss->sk == SS_STREAM && ss->so && !ss->in_eof)
			ss_stream_orphan(ss);
		else
			ss_kill(ss, false);
		return;
	}
	if (events & EPOLLOUT)
		ss->out_blocked = false;
	switch (ss->sk) {
	case SS_STREAM:
		if ((events & (EPOLLIN | EPOLLRDHUP)) && ss->established &&
		    !ss->in_eof)
			ss_stream_in(ss);
		break;
	case SS_DGRAM:
		if (events & EPOLLIN)
			ss_dgram_in(ss);
		break;
	case SS_NETLINK:
		if (events & EPOLLIN)
			ss_nl_in(ss);
		break;
	case SS_LISTEN:
		break;
	}
	ss_service(ss);
}

void ss_run(struct daemon *d)
{
	for (unsigned round = 0; round < 64; round++) {
		bool more = world_run(d->w) > 0;

		while (d->ss_dirty) {
			struct ssock *ss = d->ss_dirty;

			d->ss_dirty = ss->dnext;
			ss->dirty = false;
			ss_service(ss);
			more = true;
		}
		if (!more)
			break;
	}
}

/* ---- requests -------------------------------------------------------------
 */
static int fail(char *err, size_t errlen, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t errlen, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return code;
}

static bool attr_i32(const struct ctl_msg *m, uint16_t t, int32_t *v)
{
	struct ctl_attr a;

	if (!ctl_attr_find(m->attrs, m->attrs_len, t, &a))
		return false;
	*v = ctl_attr_i32(&a);
	return true;
}

static int op_socket(struct daemon *d, struct client *c,
		     const struct ctl_msg *m, struct ctl_buf *rep, int *fd_out,
		     char *err, size_t errlen)
{
	int32_t dom = 0, type = 0, proto = 0;
	struct vsocket *so = NULL;
	struct ssock *ss;
	enum ss_kind sk;
	int rc;

	attr_i32(m, CTL_A_DOMAIN, &dom);
	attr_i32(m, CTL_A_STYPE, &type);
	attr_i32(m, CTL_A_PROTO, &proto);
	if (dom == AF_NETLINK) {
		if (proto != NETLINK_ROUTE && proto != NETLINK_SOCK_DIAG)
			return fail(err, errlen, -EPROTONOSUPPORT,
				    "netlink protocol %d is not emulated "
				    "(only NETLINK_ROUTE and NETLINK_SOCK_DIAG)",
				    proto);
		sk = SS_NETLINK;
	} else {
		rc = vsock_socket(c->vi, dom, type, proto, &so);
		if (rc)
			return fail(err, errlen, rc,
				    "socket(%d, %d, %d): %s", dom, type, proto,
				    strerror(-rc));
		sk = type == SOCK_STREAM ? SS_STREAM : SS_DGRAM;
	}
	rc = ss_new(d, c->vi, so, sk, dom, type, proto, fd_out, &ss);
	if (rc) {
		if (so)
			vsock_close(so);
		return fail(err, errlen, rc, "cannot make the socket's pair: %s",
			    strerror(-rc));
	}
	ctl_put_u64(rep, CTL_A_SOCKID, ss->id);
	ctl_put_i32(rep, CTL_A_ARG, (int32_t)ss->portid);
	return 0;
}

static int op_accept(struct daemon *d, struct client *c, struct ssock *ls,
		     struct ctl_buf *rep, int *fd_out, char *err,
		     size_t errlen)
{
	struct sockaddr_storage sa;
	socklen_t sl = sizeof(sa);
	struct vsocket *nso;
	struct ssock *ss;
	int rc;

	if (ls->sk != SS_LISTEN)
		return fail(err, errlen, -EINVAL, "not a listening socket");
	rc = vsock_accept(ls->so, &nso, (struct sockaddr *)&sa, &sl);
	if (rc == 0) {
		rc = ss_new(d, ls->vi, nso, SS_STREAM, ls->domain, ls->type,
			    ls->proto, fd_out, &ss);
		if (rc) {
			vsock_close(nso);
			return fail(err, errlen, rc, "accept: %s",
				    strerror(-rc));
		}
		ss->established = true;
		ctl_put_u64(rep, CTL_A_SOCKID, ss->id);
		ctl_put(rep, CTL_A_SOCKADDR, &sa, sl);
		ss_mark_dirty(ss); /* data may already be there */
	}
	/* Take the token back when nothing is left to accept. */
	if (ls->tokens && !(vsock_poll(ls->so) & POLLIN)) {
		ls->tokens--;
		ctl_put_u8(rep, CTL_A_DRAIN, 1);
	}
	if (rc == -EAGAIN) {
		ctl_put_i32(rep, CTL_A_ERRNO, -EAGAIN);
		return 1; /* a reply with its drain flag, not an error text */
	}
	return rc ? fail(err, errlen, rc, "accept: %s", strerror(-rc)) : 0;
}

static int op_sockopt(struct ssock *ss, const struct ctl_msg *m, bool set,
		      struct ctl_buf *rep, char *err, size_t errlen)
{
	int32_t level = 0, name = 0, len = 0;
	struct ctl_attr a;
	uint8_t val[1024];
	socklen_t vl;
	int rc;

	attr_i32(m, CTL_A_OPTLEVEL, &level);
	attr_i32(m, CTL_A_OPTNAME, &name);
	if (set) {
		ctl_attr_find(m->attrs, m->attrs_len, CTL_A_DATA, &a);
		return vsock_setsockopt(ss->so, level, name, a.val,
					(socklen_t)a.len);
	}
	attr_i32(m, CTL_A_ARG, &len);
	if (len < 0)
		return -EINVAL;
	if (level == SOL_SOCKET && name == SO_ERROR && ss->err) {
		int e = ss->err;

		ss->err = 0;
		ctl_put(rep, CTL_A_DATA, &e, sizeof(e));
		return 0;
	}
	vl = (socklen_t)(len > (int32_t)sizeof(val) ? sizeof(val) : len);
	rc = vsock_getsockopt(ss->so, level, name, val, &vl);
	if (rc)
		return rc;
	ctl_put(rep, CTL_A_DATA, val, vl);
	(void)err;
	(void)errlen;
	return 0;
}

/* The sockets of a vimage as /proc/net lists them: ours, named by the
 * inode of the program's end (what `ss -p` finds in /proc/PID/fd). */
static void procnet_walk(void *wctx, struct vimage *vi,
			 int (*fn)(void *fctx, const struct procnet_sock *s),
			 void *fctx)
{
	struct daemon *d = wctx;

	for (struct ssock *ss = d->ssocks; ss; ss = ss->next) {
		struct procnet_sock ps = {.so = ss->so,
					  .inode = ss->id,
					  .uid = d->uid};

		if (ss->vi != vi || !ss->so)
			continue;
		if (fn(fctx, &ps))
			break;
	}
}

static int op_procnet(struct daemon *d, struct client *c,
		      const struct ctl_msg *m, struct ctl_buf *rep, char *err,
		      size_t errlen)
{
	char name[64];
	struct ctl_attr a;
	char *out = NULL;
	size_t len = 0;
	int rc;

	ctl_attr_find(m->attrs, m->attrs_len, CTL_A_KEY, &a);
	ctl_attr_str(&a, name, sizeof(name));
	rc = procnet_render(c->vi, name, procnet_walk, d, &out, &len);
	if (rc) {
		free(out);
		return fail(err, errlen, rc, "/proc/net/%s: %s", name,
			    rc == -ENOENT ? "not emulated" : strerror(-rc));
	}
	ctl_put(rep, CTL_A_BLOB, out, len);
	free(out);
	return 0;
}

int ss_op(struct daemon *d, struct client *c, const struct ctl_msg *m,
	  struct ctl_buf *rep, int *fd_out, char *err, size_t errlen)
{
	uint16_t t = m->hdr.type;
	struct ctl_attr a;
	struct ssock *ss = NULL;
	int32_t arg = 0;
	int rc;

	*fd_out = -1;
	if (t == CTL_T_ATTACH) {
		char name[VIMAGE_NAME_MAX + 1];
		struct vimage *vi;

		ctl_attr_find(m->attrs, m->attrs_len, CTL_A_NAME, &a);
		ctl_attr_str(&a, name, sizeof(name));
		vi = strcmp(name, ".") ? vimage_lookup(d->w, name)
				       : world_root(d->w);
		if (!vi)
			return fail(err, errlen, -ENOENT,
				    "no vimage named '%s'", name);
		c->vi = vi;
		c->attached = true;
		daemon_log(d, VLOG_DEBUG, "pid %d attached to %s", (int)c->pid,
			   name);
		return 0;
	}
	if (!c->attached)
		return fail(err, errlen, -EPERM,
			    "%s: the process is not attached to a vimage",
			    ctl_type_name(t));
	if (!c->vi)
		return fail(err, errlen, -ENETDOWN,
			    "the process's vimage was destroyed");
	if (t == CTL_T_SOCKET)
		return op_socket(d, c, m, rep, fd_out, err, errlen);
	if (t == CTL_T_PROCNET)
		return op_procnet(d, c, m, rep, err, errlen);
	if (ctl_attr_find(m->attrs, m->attrs_len, CTL_A_SOCKID, &a)) {
		ss = ss_find(d, ctl_attr_u64(&a));
		/* Only sockets of the caller's own vimage exist for it. */
		if (!ss || ss->vi != c->vi)
			return fail(err, errlen, -ENOTSOCK,
				    "%s: socket %llu is not a vimage socket of "
				    "'%s'",
				    ctl_type_name(t),
				    (unsigned long long)ctl_attr_u64(&a),
				    vimage_name(c->vi));
	}
	if (ss && ss->zombie_until) {
		/* The connection is gone: only its error is left. */
		int32_t level = 0, name = 0;

		attr_i32(m, CTL_A_OPTLEVEL, &level);
		attr_i32(m, CTL_A_OPTNAME, &name);
		if (t == CTL_T_GETSOCKOPT && level == SOL_SOCKET &&
		    name == SO_ERROR) {
			int e = ss->err;

			ss->err = 0;
			ctl_put(rep, CTL_A_DATA, &e, sizeof(e));
			return 0;
		}
		if (t != CTL_T_SOCK_LOOKUP)
			return -ENOTCONN;
	}
	if (t == CTL_T_IOCTL && !ss) {
		ctl_attr_find(m->attrs, m->attrs_len, CTL_A_REQ, &a);
		{
			uint32_t req = ctl_attr_u32(&a);
			uint8_t buf[CTL_DATA_MAX];

			ctl_attr_find(m->attrs, m->attrs_len, CTL_A_DATA, &a);
			memcpy(buf, a.val, a.len);
			rc = ifioctl(c->vi, req, buf, a.len);
			if (rc)
				return rc;
			ctl_put(rep, CTL_A_DATA, buf, a.len);
			return 0;
		}
	}
	if (!ss)
		return fail(err, errlen, -EINVAL, "%s needs a socket",
			    ctl_type_name(t));
	attr_i32(m, CTL_A_ARG, &arg);
	if (ss->sk == SS_NETLINK && t == CTL_T_SETSOCKOPT) {
		int32_t level = 0, name = 0, v = 0;

		attr_i32(m, CTL_A_OPTLEVEL, &level);
		attr_i32(m, CTL_A_OPTNAME, &name);
		ctl_attr_find(m->attrs, m->attrs_len, CTL_A_DATA, &a);
		if (a.len >= sizeof(v))
			memcpy(&v, a.val, sizeof(v));
		if (level == SOL_NETLINK && name == NETLINK_EXT_ACK)
			ss->nlopts = v ? ss->nlopts | RTNL_F_EXT_ACK
				       : ss->nlopts & ~RTNL_F_EXT_ACK;
		if (level == SOL_NETLINK && name == NETLINK_CAP_ACK)
			ss->nlopts = v ? ss->nlopts | RTNL_F_CAP_ACK
				       : ss->nlopts & ~RTNL_F_CAP_ACK;
		return 0;
	}
	if (ss->sk == SS_NETLINK && t != CTL_T_SOCK_LOOKUP &&
	    t != CTL_T_GETNAME)
		return 0; /* bind, other options: nothing to do */
	switch (t) {
	case CTL_T_SOCK_LOOKUP:
		ctl_put_i32(rep, CTL_A_DOMAIN, ss->domain);
		ctl_put_i32(rep, CTL_A_STYPE,
			    ss->sk == SS_LISTEN ? -1 : ss->type);
		ctl_put_i32(rep, CTL_A_PROTO, ss->proto);
		ctl_put_i32(rep, CTL_A_ARG, (int32_t)ss->portid);
		return 0;
	case CTL_T_BIND:
	case CTL_T_CONNECT:
		ctl_attr_find(m->attrs, m->attrs_len, CTL_A_SOCKADDR, &a);
		{
			struct sockaddr_storage sa;

			memset(&sa, 0, sizeof(sa));
			memcpy(&sa, a.val, a.len);
			if (t == CTL_T_BIND)
				return vsock_bind(ss->so,
						  (struct sockaddr *)&sa,
						  (socklen_t)a.len);
			rc = vsock_connect(ss->so, (struct sockaddr *)&sa,
					   (socklen_t)a.len);
		}
		if (ss->sk == SS_STREAM &&
		    ctl_attr_find(m->attrs, m->attrs_len, CTL_A_FILLER, &a)) {
			/* Written by the shim just before this request: all
			 * of it is in our end. Kept until the connection is
			 * resolved, or dropped now if there is nothing to
			 * wait for. */
			ss->filler = ctl_attr_u32(&a);
			if (rc != -EINPROGRESS)
				ss_discard_filler(ss);
		}
		if (ss->sk == SS_STREAM && rc == -EINPROGRESS) {
			ss->connecting = true;
			ss_mark_dirty(ss);
		}
		return rc;
	case CTL_T_LISTEN:
		if (ss->sk != SS_STREAM && ss->sk != SS_LISTEN)
			return -EOPNOTSUPP;
		rc = vsock_listen(ss->so, arg);
		if (!rc) {
			ss->sk = SS_LISTEN;
			ss_mark_dirty(ss);
		}
		return rc;
	case CTL_T_ACCEPT:
		return op_accept(d, c, ss, rep, fd_out, err, errlen);
	case CTL_T_GETNAME: {
		struct sockaddr_storage sa;
		socklen_t sl = sizeof(sa);

		if (ss->sk == SS_NETLINK) {
			struct sockaddr_nl nl = {.nl_family = AF_NETLINK,
						 .nl_pid = ss->portid};

			ctl_put(rep, CTL_A_SOCKADDR, &nl, sizeof(nl));
			return 0;
		}
		rc = arg ? vsock_getpeername(ss->so, (struct sockaddr *)&sa,
					     &sl)
			 : vsock_getsockname(ss->so, (struct sockaddr *)&sa,
					     &sl);
		if (!rc)
			ctl_put(rep, CTL_A_SOCKADDR, &sa, sl);
		return rc;
	}
	case CTL_T_SETSOCKOPT:
	case CTL_T_GETSOCKOPT:
		return op_sockopt(ss, m, t == CTL_T_SETSOCKOPT, rep, err,
				  errlen);
	case CTL_T_SOCK_SHUTDOWN:
		rc = vsock_shutdown(ss->so, arg);
		ss_mark_dirty(ss);
		return rc;
	case CTL_T_IOCTL: {
		int v = 0;

		ctl_attr_find(m->attrs, m->attrs_len, CTL_A_REQ, &a);
		if (ctl_attr_u32(&a) == CTL_IOC_ROUTE) {
			struct vroute rt;
			uint32_t be;

			ctl_attr_find(m->attrs, m->attrs_len, CTL_A_DATA, &a);
			if (a.len != sizeof(be))
				return -EINVAL;
			memcpy(&be, a.val, sizeof(be));
			{
				struct vaddr dst = vaddr_v4(ntohl(be));

				rc = vroute_get(ss->vi, &dst, &rt);
			}
			if (!rc && rt.type == VRT_UNREACHABLE)
				rc = -EHOSTUNREACH;
			else if (!rc && rt.type == VRT_PROHIBIT)
				rc = -EACCES;
			else if (!rc && rt.type == VRT_BLACKHOLE)
				rc = -EINVAL;
			return rc;
		}
		rc = vsock_ioctl(ss->so, ctl_attr_u32(&a), &v);
		if (!rc)
			ctl_put(rep, CTL_A_DATA, &v, sizeof(v));
		return rc;
	}
	}
	return fail(err, errlen, -EOPNOTSUPP, "unknown socket request %u", t);
}
