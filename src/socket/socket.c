/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The socket layer: BSD sockets over the datagram protocols, with the
 * vimage explicit. POSIX.1-2017 (socket, bind, connect, sendto, recvfrom,
 * getsockopt, setsockopt, shutdown) and the Linux manual pages socket(7),
 * ip(7), udp(7), raw(7) and icmp(7) for the details a program can see: every
 * errno here is the one Linux returns in the same situation, including its
 * quirks (shutdown of an unconnected datagram socket takes effect yet
 * returns -ENOTCONN; raw bind does not look at sin_family).
 *
 * This file owns what all protocols share: creation and the protocol
 * switch, sockaddr validation, the receive queue and its accounting, socket
 * options, readiness, and closing. Protocol tables (ports, identifiers)
 * belong to udp.c and raw.c, reached through struct vproto.
 *
 * Nothing blocks: where Linux would sleep, -EAGAIN is returned and the
 * notify callback says when to try again. The daemon emulates blocking and
 * timeouts (SO_RCVTIMEO is stored for it).
 */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/time.h>
#include <linux/sockios.h>

#include "netinet/inet.h"
#include "socket/socket_var.h"

/* Linux's net.core.{r,w}mem_default and _max: the default buffer, and the
 * largest value SO_RCVBUF/SO_SNDBUF accept before doubling. */
#define SO_BUF_DEFAULT 212992u
#define SO_BUF_MAX     212992u
/* Linux's floors (SOCK_MIN_RCVBUF/SNDBUF on x86-64): room for one skb. */
#define SO_MIN_RCVBUF 2304u
#define SO_MIN_SNDBUF 4608u
/* Linux charges a datagram's truesize (buffer + sk_buff) to the receive
 * buffer, not its payload; a flat overhead per datagram keeps the number of
 * small datagrams a default buffer holds close to Linux's. */
#define SO_DGRAM_OVERHEAD 256u

#define SOCK_TYPE_MASK_ 0xf
#define SOCK_MAX_	(SOCK_PACKET + 1)
#ifndef ICMP_FILTER
#define ICMP_FILTER 1 /* <linux/icmp.h>, which clashes with wire.h */
#endif

/* The protocol switch, in Linux's inetsw order: for a type, protocol 0
 * picks the first entry; a wildcard entry (protocol 0) takes any protocol
 * but not 0 itself. */
static const struct vproto *const so_protos[] = {
    &tcp_proto,
    &udp_proto,
    &ping_proto,
    &raw_proto,
};

/* ---- helpers shared with the protocols ---------------------------------- */
bool so_addr_is_bcast(struct vimage *vi, uint32_t a)
{
	const struct rtentry *re;

	if (a == INADDR_BCAST_H)
		return true;
	re = fib4_lookup(vimage_route(vi), a);
	return re && re->r.type == VRT_BROADCAST;
}

bool so_addr_bindable(struct vimage *vi, uint32_t a)
{
	const struct rtentry *re;

	/* Linux's inet_addr_type calls 0.0.0.0/8 and the limited broadcast
	 * "broadcast", and accepts broadcast and multicast for binding. */
	if (a == 0 || a == INADDR_BCAST_H || IN_ZERONET_H(a) ||
	    IN_MULTICAST_H(a))
		return true;
	re = fib4_lookup(vimage_route(vi), a);
	return re && (re->r.type == VRT_LOCAL || re->r.type == VRT_BROADCAST);
}

struct ifnet *so_bound_ifp(const struct vsocket *so, int *err)
{
	struct ifnet *ifp;

	*err = 0;
	if (!so->bound_ifindex)
		return NULL;
	ifp = vif_by_index(so->vi, so->bound_ifindex);
	if (!ifp)
		*err = -ENODEV;
	return ifp;
}

int so_route(struct vsocket *so, uint32_t dst, struct ip_route *rt)
{
	uint32_t a = so->laddr.v4;
	struct ifnet *ifp;
	int err;

	ifp = so_bound_ifp(so, &err);
	if (err)
		return err;
	err = ip_route_out(so->vi, dst, ifp, rt);
	if (err)
		return err;
	if (rt->bcast && !(so->options & SOF_BROADCAST))
		return -EACCES;
	/* A socket bound to a broadcast or multicast address sends from an
	 * address of the outgoing interface, as Linux does. */
	if (a && a != rt->src && !IN_MULTICAST_H(a) && !IN_ZERONET_H(a) &&
	    !so_addr_is_bcast(so->vi, a))
		rt->src = a;
	return 0;
}

void so_wakeup(struct vsocket *so)
{
	if (so->notify)
		so->notify(so->notify_ctx, so, vsock_poll(so));
}

void so_set_error(struct vsocket *so, int err)
{
	so->error = err < 0 ? err : -err;
	so_wakeup(so);
}

void so_queue_err(struct vsocket *so, int err, const struct icmp_ee *ee,
		  uint32_t dst, uint16_t dport, const uint8_t *quote,
		  size_t len)
{
	struct world *w = so->vi->world;
	struct err_cb *cb;
	struct pkt *p;

	/* Bounded as Linux's sock_queue_err_skb: by the receive buffer. */
	if (so->errq.bytes + len > so->rcvbuf || so->errq.count >= 64)
		return;
	p = pkt_alloc(w, 0, len);
	if (!p)
		return;
	memcpy(pkt_put(p, len), quote, len);
	cb = (struct err_cb *)p->cb.bytes;
	memset(cb, 0, sizeof(*cb));
	cb->err = err < 0 ? -err : err;
	cb->type = ee->type;
	cb->code = ee->code;
	cb->ttl = ee->ttl;
	cb->info = ee->info;
	cb->offender = ee->offender;
	cb->dst = dst;
	cb->dport = dport;
	pktq_push(&so->errq, p);
	so_wakeup(so);
}

bool so_enqueue_dgram(struct vsocket *so, struct pkt *p)
{
	uint64_t charged = (uint64_t)so->rcvq.bytes +
			   (uint64_t)so->rcvq.count * SO_DGRAM_OVERHEAD;

	/* As Linux: refuse only once the buffer is already over, so one
	 * datagram larger than the whole buffer still gets through. */
	if (charged > so->rcvbuf)
		return false;
	pktq_push(&so->rcvq, p);
	so_wakeup(so);
	return true;
}

/* ---- sockaddr handling --------------------------------------------------- */
enum sa_rule {
	SA_INET,       /* AF_INET only */
	SA_UNSPEC_ANY, /* also AF_UNSPEC with 0.0.0.0 (bind) */
	SA_UNSPEC_OK,  /* also AF_UNSPEC, taken as AF_INET (UDP/raw sendto) */
	SA_ANY_FAMILY, /* family not looked at (raw bind) */
};

static int so_sockaddr_in(const struct sockaddr *sa, socklen_t len,
			  enum sa_rule rule, struct vaddr *a, uint16_t *port)
{
	struct sockaddr_in sin;

	if (!sa || len < sizeof(sin))
		return -EINVAL;
	/* The caller's buffer may be unaligned: copy, never cast. */
	memcpy(&sin, sa, sizeof(sin));
	*a = vaddr_v4(ntohl(sin.sin_addr.s_addr));
	*port = ntohs(sin.sin_port);
	if (sin.sin_family == AF_INET || rule == SA_ANY_FAMILY)
		return 0;
	if (sin.sin_family == AF_UNSPEC &&
	    (rule == SA_UNSPEC_OK || (rule == SA_UNSPEC_ANY && a->v4 == 0)))
		return 0;
	return -EAFNOSUPPORT;
}

/* Copy out as move_addr_to_user: truncate to *len, report the full size. */
static void so_put_sockaddr(const struct vaddr *a, uint16_t port,
			    struct sockaddr *out, socklen_t *len)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	size_t n;

	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(a->v4);
	n = *len < sizeof(sin) ? *len : sizeof(sin);
	if (n)
		memcpy(out, &sin, n);
	*len = sizeof(sin);
}

/* ---- life cycle ---------------------------------------------------------- */
static int so_find_proto(int type, int *protocol, const struct vproto **out)
{
	int err = -ESOCKTNOSUPPORT;

	for (size_t i = 0; i < ARRAY_SIZE(so_protos); i++) {
		const struct vproto *pr = so_protos[i];

		if (pr->type != type)
			continue;
		err = 0;
		if (*protocol == pr->protocol) {
			if (*protocol != 0)
				goto found;
		} else {
			if (*protocol == 0) {
				*protocol = pr->protocol;
				goto found;
			}
			if (pr->protocol == 0)
				goto found;
		}
		err = -EPROTONOSUPPORT;
		continue;
	found:
		*out = pr;
		return 0;
	}
	return err;
}

static int so_create(struct vimage *vi, const struct vproto *pr, int domain,
		     int type, int protocol, struct vsocket **out);

int vsock_socket(struct vimage *vi, int domain, int type, int protocol,
		 struct vsocket **out)
{
	const struct vproto *pr = NULL;
	int err;

	/* The order of the checks is Linux's (__sys_socket, __sock_create,
	 * inet_create). */
	if (type & ~(SOCK_TYPE_MASK_ | SOCK_NONBLOCK | SOCK_CLOEXEC))
		return -EINVAL;
	type &= SOCK_TYPE_MASK_;
	if (domain < 0 || domain >= AF_MAX)
		return -EAFNOSUPPORT;
	if (type >= SOCK_MAX_)
		return -EINVAL;
	if (domain != AF_INET)
		return -EAFNOSUPPORT; /* AF_INET6 arrives with IPv6 */
	if (protocol < 0 || protocol > 255)
		return -EINVAL;
	err = so_find_proto(type, &protocol, &pr);
	if (err)
		return err;
	return so_create(vi, pr, domain, type, protocol, out);
}

static int so_create(struct vimage *vi, const struct vproto *pr, int domain,
		     int type, int protocol, struct vsocket **out)
{
	struct socket_state *ss = vimage_socket(vi);
	struct vsocket *so;
	int err;

	so = calloc(1, sizeof(*so));
	if (!so)
		return -ENOMEM;
	so->vi = vi;
	so->proto = pr;
	so->domain = domain;
	so->type = type;
	so->protocol = protocol;
	so->laddr = vaddr_v4(0);
	so->faddr = vaddr_v4(0);
	so->rcvbuf = SO_BUF_DEFAULT;
	so->sndbuf = SO_BUF_DEFAULT;
	so->linger_s = -1;
	so->mc_ttl = 1;
	so->rcvlowat = 1;
	list_init(&so->link);
	list_init(&so->plink);
	pktq_init(&so->rcvq);
	pktq_init(&so->errq);
	err = pr->attach ? pr->attach(so) : 0;
	if (err) {
		free(so);
		return err;
	}
	list_insert_tail(&ss->socks, &so->link);
	ss->count++;
	vi->world->sockets_live++;
	*out = so;
	return 0;
}

int vsock_close(struct vsocket *so)
{
	struct socket_state *ss;

	if (!so)
		return -EBADF;
	ss = vimage_socket(so->vi);
	if (so->proto->detach)
		so->proto->detach(so);
	pktq_purge(so->vi->world, &so->rcvq);
	pktq_purge(so->vi->world, &so->errq);
	list_remove(&so->link);
	ss->count--;
	so->vi->world->sockets_live--;
	free(so);
	return 0;
}

struct vimage *vsock_vimage(const struct vsocket *so)
{
	return so->vi;
}

unsigned vsock_count(const struct vimage *vi)
{
	return vimage_socket(vi)->count;
}

/* ---- addresses ----------------------------------------------------------- */
int vsock_bind(struct vsocket *so, const struct sockaddr *addr, socklen_t len)
{
	enum sa_rule rule =
	    so->type == SOCK_RAW ? SA_ANY_FAMILY : SA_UNSPEC_ANY;
	struct vaddr a;
	uint16_t port;
	int err;

	err = so_sockaddr_in(addr, len, rule, &a, &port);
	if (err)
		return err;
	if (!so_addr_bindable(so->vi, a.v4))
		return -EADDRNOTAVAIL;
	return so->proto->bind(so, &a, port);
}

int vsock_connect(struct vsocket *so, const struct sockaddr *addr,
		  socklen_t len)
{
	sa_family_t family;
	struct vaddr a;
	uint16_t port;
	int err;

	if (!addr || len < sizeof(family))
		return -EINVAL;
	memcpy(&family, &addr->sa_family, sizeof(family));
	if (family == AF_UNSPEC)
		return so->proto->disconnect(so);
	err = so_sockaddr_in(addr, len, SA_INET, &a, &port);
	if (err)
		return err;
	return so->proto->connect(so, &a, port);
}

int vsock_getsockname(struct vsocket *so, struct sockaddr *addr, socklen_t *len)
{
	if (!addr || !len)
		return -EFAULT;
	so_put_sockaddr(&so->laddr, so->lport, addr, len);
	return 0;
}

int vsock_getpeername(struct vsocket *so, struct sockaddr *addr, socklen_t *len)
{
	if (!addr || !len)
		return -EFAULT;
	if (!so->connected)
		return -ENOTCONN;
	so_put_sockaddr(&so->faddr, so->fport, addr, len);
	return 0;
}

/* ---- data ---------------------------------------------------------------- */
ssize_t vsock_sendto(struct vsocket *so, const void *buf, size_t len, int flags,
		     const struct sockaddr *to, socklen_t tolen)
{
	enum sa_rule rule = so->proto == &ping_proto ? SA_INET : SA_UNSPEC_OK;
	struct vaddr a;
	uint16_t port = 0;
	int err;

	if (so->type == SOCK_STREAM) {
		if (!buf && len)
			return -EFAULT;
		return so->proto->send(so, buf, len, flags, NULL, 0);
	}
	if (len > 0xffff)
		return -EMSGSIZE;
	if (flags & MSG_OOB)
		return -EOPNOTSUPP;
	if (!buf && len)
		return -EFAULT;
	if (to && tolen > sizeof(struct sockaddr_storage))
		return -EINVAL;
	/* raw_sendmsg looks at the name's length, UDP and ping at its
	 * pointer: an empty name means "none" only to raw. */
	if (to && tolen == 0 && so->type == SOCK_RAW)
		to = NULL;
	if (to) {
		err = so_sockaddr_in(to, tolen, rule, &a, &port);
		if (err)
			return err;
	}
	return so->proto->send(so, buf, len, flags, to ? &a : NULL, port);
}

ssize_t vsock_recvfrom(struct vsocket *so, void *buf, size_t len, int flags,
		       struct sockaddr *from, socklen_t *fromlen)
{
	const struct dgram_cb *cb;
	struct pkt *p;
	size_t copy;
	ssize_t ret;
	int err;

	if (so->proto->recv) {
		if (fromlen)
			*fromlen = 0; /* a stream recvfrom names no sender */
		return so->proto->recv(so, buf, len, flags);
	}
	if ((flags & MSG_OOB) && so->proto != &udp_proto)
		return -EOPNOTSUPP;
	if (flags & MSG_ERRQUEUE)
		return -EAGAIN; /* vsock_recv_err reads the error queue */
	if (so->error) {
		/* Linux reports a pending error before queued data. */
		err = so->error;
		so->error = 0;
		return err;
	}
	p = so->rcvq.head;
	if (!p) {
		/* A blocking Linux socket returns 0 after SHUT_RD instead of
		 * sleeping; a non-blocking one says -EAGAIN. */
		if (so->shut_rd && !(flags & MSG_DONTWAIT))
			return 0;
		return -EAGAIN;
	}
	if (!buf && len)
		return -EFAULT;
	copy = len < p->len ? len : p->len;
	if (copy)
		memcpy(buf, p->data, copy);
	if (from && fromlen) {
		cb = (const struct dgram_cb *)p->cb.bytes;
		so_put_sockaddr(&cb->from, cb->port, from, fromlen);
	}
	ret = (flags & MSG_TRUNC) ? (ssize_t)p->len : (ssize_t)copy;
	if (!(flags & MSG_PEEK))
		pkt_free(so->vi->world, pktq_pop(&so->rcvq));
	return ret;
}

ssize_t vsock_send_reserve(struct vsocket *so, size_t len,
			   struct vsock_sendbuf *sb)
{
	sb->n = 0;
	sb->tail = false;
	if (!so->proto->send_reserve)
		return -EOPNOTSUPP;
	return so->proto->send_reserve(so, len, sb);
}

ssize_t vsock_send_commit(struct vsocket *so, struct vsock_sendbuf *sb,
			  size_t used)
{
	if (!so->proto->send_commit)
		return -EOPNOTSUPP;
	return so->proto->send_commit(so, sb, used);
}

int vsock_peek_iov(struct vsocket *so, struct iovec *iov, int n, size_t len)
{
	if (!so->proto->peek_iov)
		return -EOPNOTSUPP;
	if (n <= 0 || !iov)
		return -EINVAL;
	return so->proto->peek_iov(so, iov, n, len);
}

ssize_t vsock_recv_err(struct vsocket *so, void *buf, size_t len,
		       struct vsock_ee *ee)
{
	const struct err_cb *cb;
	struct pkt *p = so->errq.head;
	size_t copy;

	if (!p)
		return -EAGAIN;
	cb = (const struct err_cb *)p->cb.bytes;
	memset(ee, 0, sizeof(*ee));
	ee->err = cb->err;
	ee->type = cb->type;
	ee->code = cb->code;
	ee->ttl = cb->ttl;
	ee->info = cb->info;
	ee->offender.sin_family = AF_INET;
	ee->offender.sin_addr.s_addr = htonl(cb->offender);
	ee->dst.sin_family = AF_INET;
	ee->dst.sin_addr.s_addr = htonl(cb->dst);
	ee->dst.sin_port = htons(cb->dport);
	copy = len < p->len ? len : p->len;
	if (copy)
		memcpy(buf, p->data, copy);
	pkt_free(so->vi->world, pktq_pop(&so->errq));
	/* Linux reports the next entry's error, if any, as SO_ERROR. */
	return (ssize_t)copy;
}

int vsock_dgram_meta(struct vsocket *so, struct vsock_dgram_meta *m)
{
	const struct dgram_cb *cb;

	if (so->proto->recv)
		return -EOPNOTSUPP;
	if (!so->rcvq.head)
		return -EAGAIN;
	cb = (const struct dgram_cb *)so->rcvq.head->cb.bytes;
	m->ttl = cb->ttl;
	m->tos = cb->tos;
	m->ifindex = cb->ifindex;
	return 0;
}

int vsock_shutdown(struct vsocket *so, int how)
{
	if (how < SHUT_RD || how > SHUT_RDWR)
		return -EINVAL;
	if (so->proto->shutdown)
		return so->proto->shutdown(so, how);
	if (how != SHUT_WR)
		so->shut_rd = true;
	if (how != SHUT_RD)
		so->shut_wr = true;
	/* Linux applies the shutdown to an unconnected datagram socket too,
	 * so that pollers see POLLHUP, but still answers -ENOTCONN. */
	so_wakeup(so);
	return so->connected ? 0 : -ENOTCONN;
}

unsigned vsock_poll(struct vsocket *so)
{
	unsigned ev = POLLOUT; /* datagrams never wait for send space */

	if (so->proto->poll)
		return so->proto->poll(so);
	if (so->error || so->errq.count)
		ev |= POLLERR;
	if (so->shut_rd)
		ev |= POLLIN | POLLRDHUP;
	if (so->shut_rd && so->shut_wr)
		ev |= POLLHUP;
	if (so->rcvq.count)
		ev |= POLLIN;
	return ev;
}

void vsock_set_notify(struct vsocket *so,
		      void (*fn)(void *ctx, struct vsocket *so,
				 unsigned events),
		      void *ctx)
{
	so->notify = fn;
	so->notify_ctx = ctx;
}

/* ---- socket options ------------------------------------------------------ */
/* Copy an option value out as Linux does: truncated to *len, *len set to
 * what was copied. */
int so_put_opt(void *val, socklen_t *len, const void *v, size_t vlen)
{
	size_t n = *len < vlen ? *len : vlen;

	if (n && !val)
		return -EFAULT;
	if (n)
		memcpy(val, v, n);
	*len = (socklen_t)n;
	return 0;
}

static int so_get_timeo(uint64_t ns, void *val, socklen_t *len)
{
	struct timeval tv = {
	    .tv_sec = (time_t)(ns / NSEC_PER_SEC),
	    .tv_usec = (suseconds_t)(ns % NSEC_PER_SEC / NSEC_PER_USEC),
	};

	return so_put_opt(val, len, &tv, sizeof(tv));
}

static int so_set_timeo(uint64_t *ns, const void *val, socklen_t len)
{
	struct timeval tv;

	if (len < sizeof(tv))
		return -EINVAL;
	memcpy(&tv, val, sizeof(tv));
	if (tv.tv_usec < 0 || tv.tv_usec >= 1000000)
		return -EDOM;
	/* Linux takes a negative time as "do not wait" rather than an error,
	 * and zero as "forever"; both are stored as 0 here. */
	if (tv.tv_sec < 0) {
		*ns = 0;
		return 0;
	}
	*ns = (uint64_t)tv.tv_sec * NSEC_PER_SEC +
	      (uint64_t)tv.tv_usec * NSEC_PER_USEC;
	return 0;
}

static void so_set_flag(struct vsocket *so, uint32_t flag, int on)
{
	if (on)
		so->options |= flag;
	else
		so->options &= ~flag;
}

/* The new size as Linux's sock_setsockopt: clamp to the maximum as an
 * unsigned value (so negatives clamp too), double for bookkeeping
 * overhead, and keep a floor. */
static uint32_t so_buf_size(int v, uint32_t floor)
{
	uint32_t u = (uint32_t)v;

	if (u > SO_BUF_MAX)
		u = SO_BUF_MAX;
	u *= 2;
	return u < floor ? floor : u;
}

static int so_set_bindtodevice(struct vsocket *so, const void *val,
			       socklen_t len)
{
	char name[VIF_NAMESIZ] = {0};
	struct ifnet *ifp;

	if (len > VIF_NAMESIZ - 1)
		len = VIF_NAMESIZ - 1;
	if (len && !val)
		return -EFAULT;
	if (len)
		memcpy(name, val, len);
	if (!name[0]) {
		so->bound_ifindex = 0;
		return 0;
	}
	ifp = vif_lookup(so->vi, name);
	if (!ifp)
		return -ENODEV;
	so->bound_ifindex = vif_index(ifp);
	return 0;
}

int so_get_int_opt(const void *val, socklen_t len, int *v)
{
	if (len < sizeof(int))
		return -EINVAL;
	if (!val)
		return -EFAULT;
	memcpy(v, val, sizeof(*v));
	return 0;
}

static int so_set_linger(struct vsocket *so, const void *val, socklen_t len)
{
	struct linger l;

	if (len < sizeof(l))
		return -EINVAL;
	if (!val)
		return -EFAULT;
	memcpy(&l, val, sizeof(l));
	if (!l.l_onoff)
		so->linger_s = -1;
	else
		so->linger_s = l.l_linger < 0 ? 0 : l.l_linger;
	return 0;
}

static int so_setsockopt_sol(struct vsocket *so, int name, const void *val,
			     socklen_t len)
{
	int v;

	if (name == SO_BINDTODEVICE)
		return so_set_bindtodevice(so, val, len);
	if (name == SO_LINGER)
		return so_set_linger(so, val, len);
	if (len < sizeof(int))
		return -EINVAL;
	if (!val)
		return -EFAULT;
	memcpy(&v, val, sizeof(v));
	switch (name) {
	case SO_REUSEADDR:
		so_set_flag(so, SOF_REUSEADDR, v);
		return 0;
	case SO_REUSEPORT:
		so_set_flag(so, SOF_REUSEPORT, v);
		return 0;
	case SO_BROADCAST:
		so_set_flag(so, SOF_BROADCAST, v);
		return 0;
	case SO_KEEPALIVE:
		so_set_flag(so, SOF_KEEPALIVE, v);
		return 0;
	case SO_DONTROUTE:
		so_set_flag(so, SOF_DONTROUTE, v);
		return 0;
	case SO_RCVBUF:
		so->rcvbuf = so_buf_size(v, SO_MIN_RCVBUF);
		return 0;
	case SO_SNDBUF:
		so->sndbuf = so_buf_size(v, SO_MIN_SNDBUF);
		return 0;
	case SO_RCVTIMEO:
		return so_set_timeo(&so->rcvtimeo_ns, val, len);
	case SO_SNDTIMEO:
		return so_set_timeo(&so->sndtimeo_ns, val, len);
	case SO_RCVLOWAT:
		so->rcvlowat = v <= 0 ? 1 : (uint32_t)v;
		return 0;
	default:
		return -ENOPROTOOPT; /* includes the read-only SO_ERROR, SO_TYPE
				      */
	}
}

static int so_getsockopt_sol(struct vsocket *so, int name, void *val,
			     socklen_t *len)
{
	struct ifnet *ifp;
	const char *ifname;
	int v, err;

	switch (name) {
	case SO_REUSEADDR:
		v = !!(so->options & SOF_REUSEADDR);
		break;
	case SO_REUSEPORT:
		v = !!(so->options & SOF_REUSEPORT);
		break;
	case SO_BROADCAST:
		v = !!(so->options & SOF_BROADCAST);
		break;
	case SO_KEEPALIVE:
		v = !!(so->options & SOF_KEEPALIVE);
		break;
	case SO_DONTROUTE:
		v = !!(so->options & SOF_DONTROUTE);
		break;
	case SO_RCVBUF:
		v = (int)so->rcvbuf;
		break;
	case SO_SNDBUF:
		v = (int)so->sndbuf;
		break;
	case SO_ERROR:
		/* Reading the error clears it (sock_error). */
		v = -so->error;
		so->error = 0;
		break;
	case SO_TYPE:
		v = so->type;
		break;
	case SO_DOMAIN:
		v = so->domain;
		break;
	case SO_PROTOCOL:
		v = so->protocol;
		break;
	case SO_RCVTIMEO:
		return so_get_timeo(so->rcvtimeo_ns, val, len);
	case SO_SNDTIMEO:
		return so_get_timeo(so->sndtimeo_ns, val, len);
	case SO_RCVLOWAT:
		v = (int)so->rcvlowat;
		break;
	case SO_ACCEPTCONN:
		v = (so->options & SOF_LISTENING) != 0;
		break;
	case SO_LINGER: {
		struct linger l = {.l_onoff = so->linger_s >= 0,
				   .l_linger = so->linger_s >= 0 ? so->linger_s
								 : 0};

		return so_put_opt(val, len, &l, sizeof(l));
	}
	case SO_BINDTODEVICE:
		ifp = so_bound_ifp(so, &err);
		if (!ifp) {
			*len = 0; /* not bound (or the device has gone) */
			return 0;
		}
		ifname = vif_name(ifp);
		if (*len < strlen(ifname) + 1)
			return -EINVAL;
		return so_put_opt(val, len, ifname, strlen(ifname) + 1);
	default:
		return -ENOPROTOOPT;
	}
	return so_put_opt(val, len, &v, sizeof(v));
}

static int so_setsockopt_ip(struct vsocket *so, int name, const void *val,
			    socklen_t len)
{
	int v = 0;

	/* ip_setsockopt takes these as an int, or a single byte when the
	 * caller passes less; an empty value counts as 0. */
	if (len && !val)
		return -EFAULT;
	if (len >= sizeof(int))
		memcpy(&v, val, sizeof(v));
	else if (len >= 1)
		v = *(const unsigned char *)val;
	switch (name) {
	case IP_TTL:
		if (len < 1 || (v != -1 && (v < 1 || v > 255)))
			return -EINVAL;
		so->ttl = v == -1 ? 0 : (uint8_t)v;
		return 0;
	case IP_TOS:
		so->tos = (uint8_t)v;
		return 0;
	case IP_HDRINCL:
		if (so->type != SOCK_RAW)
			return -ENOPROTOOPT;
		so->hdrincl = v != 0;
		return 0;
	case IP_MTU_DISCOVER:
		if (len < 1 || v < IP_PMTUDISC_DONT || v > IP_PMTUDISC_OMIT)
			return -EINVAL;
		so->pmtudisc = (uint8_t)v;
		return 0;
	case IP_MULTICAST_TTL:
		if (len < 1 || v < -1 || v > 255)
			return -EINVAL;
		so->mc_ttl = v == -1 ? 1 : (uint8_t)v;
		return 0;
	case IP_MULTICAST_LOOP:
		so->mc_noloop = v == 0;
		return 0;
	case IP_RECVERR:
		so->recverr = v != 0;
		if (!so->recverr)
			pktq_purge(so->vi->world, &so->errq);
		return 0;
	default:
		return -ENOPROTOOPT;
	}
}

static int so_getsockopt_ip(struct vsocket *so, int name, void *val,
			    socklen_t *len)
{
	unsigned char c;
	int v;

	switch (name) {
	case IP_TTL:
		v = so->ttl ? so->ttl : (int)vimage_ip(so->vi)->default_ttl;
		break;
	case IP_TOS:
		v = so->tos;
		break;
	case IP_HDRINCL:
		v = so->hdrincl;
		break;
	case IP_MTU_DISCOVER:
		v = so->pmtudisc;
		break;
	case IP_RECVERR:
		v = so->recverr;
		break;
	case IP_MULTICAST_TTL:
		v = so->mc_ttl;
		break;
	case IP_MULTICAST_LOOP:
		v = !so->mc_noloop;
		break;
	default:
		return -ENOPROTOOPT;
	}
	/* ip_getsockopt answers a short buffer with one byte. */
	if (*len > 0 && *len < sizeof(int) && v >= 0 && v <= 255) {
		c = (unsigned char)v;
		*len = 1;
		return so_put_opt(val, len, &c, 1);
	}
	return so_put_opt(val, len, &v, sizeof(v));
}

/* SOL_RAW is only meaningful on raw sockets, and ICMP_FILTER only on raw
 * ICMP ones (iputils ping installs one). */
static int so_raw_level_check(const struct vsocket *so, int name)
{
	if (so->type != SOCK_RAW || name != ICMP_FILTER)
		return -ENOPROTOOPT;
	if (so->protocol != IPPROTO_ICMP)
		return -EOPNOTSUPP;
	return 0;
}

int vsock_setsockopt(struct vsocket *so, int level, int name, const void *val,
		     socklen_t len)
{
	int err;

	if ((int)len < 0)
		return -EINVAL;
	switch (level) {
	case SOL_SOCKET:
		err = so_setsockopt_sol(so, name, val, len);
		if (!err && so->proto->setsockopt)
			so->proto->setsockopt(so, level, name, val, len);
		return err;
	case IPPROTO_IP:
		err = so_setsockopt_ip(so, name, val, len);
		if (!err && so->proto->setsockopt)
			so->proto->setsockopt(so, level, name, val, len);
		return err;
	case IPPROTO_TCP:
		if (!so->proto->setsockopt || so->type != SOCK_STREAM)
			return -ENOPROTOOPT;
		return so->proto->setsockopt(so, level, name, val, len);
	case SOL_RAW:
		err = so_raw_level_check(so, name);
		if (err)
			return err;
		/* Linux copies what it is given, up to the filter's size. */
		if (len > sizeof(so->icmp_filter))
			len = sizeof(so->icmp_filter);
		if (len && !val)
			return -EFAULT;
		memcpy(&so->icmp_filter, val, len);
		return 0;
	default:
		return -ENOPROTOOPT;
	}
}

int vsock_getsockopt(struct vsocket *so, int level, int name, void *val,
		     socklen_t *len)
{
	int err;

	if (!len)
		return -EFAULT;
	if ((int)*len < 0)
		return -EINVAL;
	switch (level) {
	case SOL_SOCKET:
		return so_getsockopt_sol(so, name, val, len);
	case IPPROTO_IP:
		return so_getsockopt_ip(so, name, val, len);
	case IPPROTO_TCP:
		if (!so->proto->getsockopt || so->type != SOCK_STREAM)
			return -ENOPROTOOPT;
		return so->proto->getsockopt(so, level, name, val, len);
	case SOL_RAW:
		err = so_raw_level_check(so, name);
		if (err)
			return err;
		return so_put_opt(val, len, &so->icmp_filter,
				  sizeof(so->icmp_filter));
	default:
		return -ENOPROTOOPT;
	}
}

/* ---- streams ------------------------------------------------------------- */
int vsock_listen(struct vsocket *so, int backlog)
{
	if (!so->proto->listen)
		return -EOPNOTSUPP;
	if (backlog > 65535 || backlog < 0)
		backlog = backlog < 0 ? 0 : 65535;
	return so->proto->listen(so, backlog);
}

int vsock_accept(struct vsocket *so, struct vsocket **out,
		 struct sockaddr *addr, socklen_t *addrlen)
{
	struct vsocket *nso;
	int err;

	if (!so->proto->accept)
		return -EOPNOTSUPP;
	if (!(so->options & SOF_LISTENING))
		return -EINVAL;
	err = so_create(so->vi, so->proto, so->domain, so->type, so->protocol,
			&nso);
	if (err)
		return err;
	err = so->proto->accept(so, nso);
	if (err) {
		vsock_close(nso);
		return err;
	}
	if (addr && addrlen)
		so_put_sockaddr(&nso->faddr, nso->fport, addr, addrlen);
	*out = nso;
	return 0;
}

int vsock_ioctl(struct vsocket *so, unsigned long req, int *val)
{
	if (so->proto->ioctl)
		return so->proto->ioctl(so, req, val);
	switch (req) {
	case FIONREAD: /* == SIOCINQ: the next datagram's size */
		*val = so->rcvq.head ? (int)so->rcvq.head->len : 0;
		return 0;
	case SIOCOUTQ:
		*val = 0; /* datagrams leave at once */
		return 0;
	default:
		return -ENOTTY;
	}
}

/* ---- the module ---------------------------------------------------------- */
static int socket_init(struct vimage *vi, void *state)
{
	struct socket_state *ss = state;

	list_init(&ss->socks);
	ss->count = 0;
	return 0;
}

/* Runs before the protocol modules' destroys (it comes after them in the
 * table), so that closing can still unhook from their tables. */
static void socket_destroy(struct vimage *vi, void *state)
{
	struct socket_state *ss = state;
	struct list *l, *tmp;

	list_for_each_safe(l, tmp, &ss->socks)
	    vsock_close(container_of(l, struct vsocket, link));
}

const struct vmodule socket_module = {
    .name = "socket",
    .id = VMOD_SOCKET,
    .size = sizeof(struct socket_state),
    .init = socket_init,
    .destroy = socket_destroy,
};
