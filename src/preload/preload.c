/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libvimage-preload.so: runs an unmodified dynamically linked program
 * inside a vimage. `vimage NAME cmd` sets LD_PRELOAD, VIMAGE_SOCKET and
 * VIMAGE_NAME; without VIMAGE_NAME the library does nothing.
 *
 * Every socket the program makes in AF_INET, AF_INET6 (as IPv4-mapped
 * dual-stack) or AF_NETLINK (NETLINK_ROUTE) is a real descriptor: one end
 * of an AF_UNIX socketpair whose other end vimaged holds (src/daemon/sock.c
 * says what travels on it). So read/write, poll/select/epoll, fork, dup and
 * exec need nothing from here. What needs the stack goes over a control
 * connection to vimaged (one per process, made at start and again in a
 * forked child): socket, bind, connect, listen, accept, names, options,
 * shutdown, ioctls. Datagram sockets carry a small header per datagram, so
 * their send/recv family is interposed too; a table indexed by descriptor
 * says which descriptors are ours (a lookup is one load).
 *
 * After exec the table is rebuilt: each inherited socket's inode is asked
 * about (the daemon names sockets by the inode of the program's end).
 *
 * Not reachable this way (documented in docs/PRELOAD.md): static binaries,
 * raw syscalls (Go), and glibc's own internal socket calls (the DNS
 * resolver, getaddrinfo's netlink probe), which do not go through symbol
 * lookup.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <limits.h>
#include <linux/errqueue.h>
#include <linux/if_packet.h>
#include <linux/netlink.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <net/route.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include <vimage/ctl.h>
#include <linux/if_link.h>

#include "daemon/rtnl.h"

#define EXPORT __attribute__((visibility("default")))

/* ---- the real functions ---------------------------------------------------
 */
struct real {
	int (*socket)(int, int, int);
	int (*bind)(int, const struct sockaddr *, socklen_t);
	int (*connect)(int, const struct sockaddr *, socklen_t);
	int (*listen)(int, int);
	int (*accept4)(int, struct sockaddr *, socklen_t *, int);
	int (*getsockname)(int, struct sockaddr *, socklen_t *);
	int (*getpeername)(int, struct sockaddr *, socklen_t *);
	int (*setsockopt)(int, int, int, const void *, socklen_t);
	int (*getsockopt)(int, int, int, void *, socklen_t *);
	int (*shutdown)(int, int);
	int (*ioctl)(int, unsigned long, ...);
	int (*close)(int);
	int (*dup)(int);
	int (*dup2)(int, int);
	int (*dup3)(int, int, int);
	int (*fcntl)(int, int, ...);
	ssize_t (*send)(int, const void *, size_t, int);
	ssize_t (*sendto)(int, const void *, size_t, int,
			  const struct sockaddr *, socklen_t);
	ssize_t (*sendmsg)(int, const struct msghdr *, int);
	int (*sendmmsg)(int, struct mmsghdr *, unsigned, int);
	ssize_t (*recv)(int, void *, size_t, int);
	ssize_t (*recvfrom)(int, void *, size_t, int, struct sockaddr *,
			    socklen_t *);
	ssize_t (*recvmsg)(int, struct msghdr *, int);
	int (*recvmmsg)(int, struct mmsghdr *, unsigned, int,
			struct timespec *);
	ssize_t (*read)(int, void *, size_t);
	ssize_t (*readv)(int, const struct iovec *, int);
	ssize_t (*write)(int, const void *, size_t);
	ssize_t (*writev)(int, const struct iovec *, int);
	int (*close_range)(unsigned, unsigned, int);
	int (*open)(const char *, int, ...);
	int (*openat)(int, const char *, int, ...);
	FILE *(*fopen)(const char *, const char *);
	FILE *(*fopen64)(const char *, const char *);
};

/* Per descriptor. */
enum pk { PK_NONE, PK_STREAM, PK_LISTEN, PK_DGRAM, PK_NETLINK };

struct pfd {
	uint8_t kind;	/* enum pk */
	uint8_t v6;	/* made as AF_INET6: addresses are IPv4-mapped */
	uint8_t v6only; /* IPV6_V6ONLY: no IPv4, so nothing at all here */
	uint8_t connected;
	uint8_t recvttl, recvtos, timestamp, pktinfo, recverr;
	int type, proto;
	uint32_t portid;
	uint64_t id;
	struct errrec *errq; /* IP_RECVERR records read ahead of their time */
	uint32_t routed[4];  /* destinations known to have a route */
	uint8_t routed_next;
};

struct errrec {
	struct errrec *next;
	struct ctl_dgram h;
	struct ctl_dgram_err ee;
	size_t len;
	uint8_t quote[];
};

#define TABLE_MAX 65536

static struct {
	bool active;
	bool inited;
	struct real r;
	pthread_mutex_t lock; /* the control connection */
	int ctl;	      /* control connection, -1 when none */
	pid_t ctl_pid;	      /* the process that made it */
	ino_t ctl_ino;	      /* its identity: the number may be reused */
	uint32_t seq;
	char path[108];
	char name[VIMAGE_NAME_MAX + 1];
	struct pfd *tab; /* TABLE_MAX entries, allocated at start */
} g = {.lock = PTHREAD_MUTEX_INITIALIZER, .ctl = -1};

static void *sym(const char *n)
{
	void *p = dlsym(RTLD_NEXT, n);

	if (!p) {
		fprintf(stderr, "libvimage-preload: no %s in libc\n", n);
		abort();
	}
	return p;
}

static void load_real(void)
{
	g.r.socket = sym("socket");
	g.r.bind = sym("bind");
	g.r.connect = sym("connect");
	g.r.listen = sym("listen");
	g.r.accept4 = sym("accept4");
	g.r.getsockname = sym("getsockname");
	g.r.getpeername = sym("getpeername");
	g.r.setsockopt = sym("setsockopt");
	g.r.getsockopt = sym("getsockopt");
	g.r.shutdown = sym("shutdown");
	g.r.ioctl = sym("ioctl");
	g.r.close = sym("close");
	g.r.dup = sym("dup");
	g.r.dup2 = sym("dup2");
	g.r.dup3 = sym("dup3");
	g.r.fcntl = sym("fcntl");
	g.r.send = sym("send");
	g.r.sendto = sym("sendto");
	g.r.sendmsg = sym("sendmsg");
	g.r.sendmmsg = sym("sendmmsg");
	g.r.recv = sym("recv");
	g.r.recvfrom = sym("recvfrom");
	g.r.recvmsg = sym("recvmsg");
	g.r.recvmmsg = sym("recvmmsg");
	g.r.read = sym("read");
	g.r.readv = sym("readv");
	g.r.write = sym("write");
	g.r.writev = sym("writev");
	g.r.close_range = dlsym(RTLD_NEXT, "close_range");
	g.r.open = sym("open");
	g.r.openat = sym("openat");
	g.r.fopen = sym("fopen");
	g.r.fopen64 = sym("fopen64");
}

static void preload_init(void);
#define ENSURE()                                                               \
	do {                                                                   \
		if (!g.inited)                                                 \
			preload_init();                                        \
	} while (0)

static struct pfd *pfd_of(int fd)
{
	ENSURE();
	if (!g.active || fd < 0 || fd >= TABLE_MAX || !g.tab)
		return NULL;
	return g.tab[fd].kind ? &g.tab[fd] : NULL;
}

static void pfd_clear(int fd)
{
	if (g.tab && fd >= 0 && fd < TABLE_MAX) {
		while (g.tab[fd].errq) {
			struct errrec *e = g.tab[fd].errq;

			g.tab[fd].errq = e->next;
			free(e);
		}
		memset(&g.tab[fd], 0, sizeof(g.tab[fd]));
	}
}

static int set_errno(int neg)
{
	errno = -neg;
	return -1;
}

/* ---- the control connection ------------------------------------------------
 */
static void warn_once(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void warn_once(const char *fmt, ...)
{
	static atomic_int said;
	va_list ap;

	if (atomic_exchange(&said, 1))
		return;
	fprintf(stderr, "libvimage-preload: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int io_full(int fd, uint8_t *buf, size_t len, bool out, int *fd_in)
{
	size_t off = 0;

	while (off < len) {
		ssize_t n;

		if (out) {
			n = g.r.send(fd, buf + off, len - off, MSG_NOSIGNAL);
		} else {
			union {
				struct cmsghdr h;
				char b[CMSG_SPACE(sizeof(int))];
			} cm;
			struct iovec iov = {buf + off, len - off};
			struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};

			if (fd_in) {
				mh.msg_control = cm.b;
				mh.msg_controllen = sizeof(cm.b);
			}
			n = g.r.recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
			if (n > 0 && fd_in && mh.msg_controllen) {
				struct cmsghdr *c = CMSG_FIRSTHDR(&mh);

				if (c && c->cmsg_level == SOL_SOCKET &&
				    c->cmsg_type == SCM_RIGHTS)
					memcpy(fd_in, CMSG_DATA(c), sizeof(int));
			}
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -ENETDOWN;
		off += (size_t)n;
	}
	return 0;
}

/* Connect to vimaged and attach this process to the vimage. */
static int ctl_open(void)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct ctl_buf b;
	uint8_t hdr[CTL_HDR_LEN], *rb = NULL;
	struct ctl_hdr h;
	struct ctl_msg m;
	struct ctl_attr a;
	int fd, rc = -ENETDOWN;

	fd = g.r.socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", g.path);
	if (g.r.connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		rc = -errno;
		g.r.close(fd);
		return rc;
	}
	ctl_buf_init(&b, CTL_REQ_MAX);
	ctl_msg_begin(&b, CTL_T_ATTACH, 0, 1);
	ctl_put_str(&b, CTL_A_NAME, g.name);
	if (!ctl_msg_end(&b) && !io_full(fd, b.data, b.len, true, NULL) &&
	    !io_full(fd, hdr, sizeof(hdr), false, NULL) &&
	    !ctl_hdr_parse(hdr, sizeof(hdr), CTL_REQ_MAX, &h, NULL, 0) &&
	    (rb = malloc(h.length)) != NULL) {
		memcpy(rb, hdr, sizeof(hdr));
		if (!io_full(fd, rb + CTL_HDR_LEN, h.length - CTL_HDR_LEN,
			     false, NULL) &&
		    !ctl_msg_parse(rb, h.length, CTL_REQ_MAX, false, &m, NULL,
				   0) &&
		    ctl_attr_find(m.attrs, m.attrs_len, CTL_A_ERRNO, &a))
			rc = ctl_attr_i32(&a);
	}
	ctl_buf_free(&b);
	free(rb);
	if (rc) {
		g.r.close(fd);
		return rc;
	}
	/* Out of the way of the program's own descriptors (which it may
	 * close wholesale, or dup2 over): high, and guarded in close,
	 * close_range, dup2 and dup3. */
	{
		int hi = g.r.fcntl(fd, F_DUPFD_CLOEXEC, 900);
		struct stat st;

		if (hi >= 0) {
			g.r.close(fd);
			fd = hi;
		}
		g.ctl_ino = fstat(fd, &st) ? 0 : st.st_ino;
	}
	g.ctl = fd;
	g.ctl_pid = getpid();
	return 0;
}

/* Is the control connection still ours under its number? */
static bool ctl_valid(void)
{
	struct stat st;

	return g.ctl >= 0 && !fstat(g.ctl, &st) && st.st_ino == g.ctl_ino;
}

struct rpc {
	uint8_t *buf;
	struct ctl_msg m;
	int fd; /* a descriptor that came with the reply, or -1 */
};

/* One request, one reply. Returns the reply's errno (0 or negative), or
 * -ENETDOWN when vimaged cannot be reached. */
static int rpc(struct ctl_buf *req, struct rpc *r)
{
	uint8_t hdr[CTL_HDR_LEN];
	struct ctl_hdr h;
	struct ctl_attr a;
	int rc;

	r->buf = NULL;
	r->fd = -1;
	if (ctl_msg_end(req))
		return -EMSGSIZE;
	pthread_mutex_lock(&g.lock);
	if (g.ctl >= 0 && g.ctl_pid != getpid()) {
		/* A child that did not pass through our fork handler
		 * (vfork, clone): the connection is the parent's. */
		if (ctl_valid())
			g.r.close(g.ctl);
		g.ctl = -1;
	}
	if (g.ctl >= 0 && !ctl_valid())
		g.ctl = -1; /* closed behind our back (a raw close) */
	if (g.ctl < 0 && ctl_open()) {
		pthread_mutex_unlock(&g.lock);
		warn_once("cannot reach vimaged at %s", g.path);
		return -ENETDOWN;
	}
	rc = io_full(g.ctl, req->data, req->len, true, NULL);
	if (!rc)
		rc = io_full(g.ctl, hdr, sizeof(hdr), false, &r->fd);
	if (!rc)
		rc = ctl_hdr_parse(hdr, sizeof(hdr), CTL_REPLY_MAX, &h, NULL, 0)
			 ? -EPROTO
			 : 0;
	if (!rc) {
		r->buf = malloc(h.length);
		rc = r->buf ? 0 : -ENOMEM;
	}
	if (!rc) {
		memcpy(r->buf, hdr, sizeof(hdr));
		rc = io_full(g.ctl, r->buf + CTL_HDR_LEN,
			     h.length - CTL_HDR_LEN, false, NULL);
	}
	if (rc) {
		/* The connection is out of step or gone. */
		if (ctl_valid())
			g.r.close(g.ctl);
		g.ctl = -1;
	}
	pthread_mutex_unlock(&g.lock);
	if (!rc && ctl_msg_parse(r->buf, h.length, CTL_REPLY_MAX, false, &r->m,
				 NULL, 0))
		rc = -EPROTO;
	if (!rc)
		rc = ctl_attr_find(r->m.attrs, r->m.attrs_len, CTL_A_ERRNO, &a)
			 ? ctl_attr_i32(&a)
			 : -EPROTO;
	if (rc == -ENETDOWN)
		warn_once("lost vimaged at %s", g.path);
	return rc;
}

static void rpc_done(struct rpc *r)
{
	free(r->buf);
	if (r->fd >= 0)
		g.r.close(r->fd);
	r->buf = NULL;
	r->fd = -1;
}

static bool rattr(const struct rpc *r, uint16_t t, struct ctl_attr *a)
{
	return r->buf && ctl_attr_find(r->m.attrs, r->m.attrs_len, t, a);
}

static void req_begin(struct ctl_buf *b, uint16_t type, const struct pfd *p)
{
	ctl_buf_init(b, CTL_REQ_MAX);
	ctl_msg_begin(b, type, 0, ++g.seq);
	if (p)
		ctl_put_u64(b, CTL_A_SOCKID, p->id);
}

/* A simple request on a socket: the errno. */
static int simple(uint16_t type, const struct pfd *p, int32_t arg)
{
	struct ctl_buf b;
	struct rpc r;
	int rc;

	req_begin(&b, type, p);
	ctl_put_i32(&b, CTL_A_ARG, arg);
	rc = rpc(&b, &r);
	ctl_buf_free(&b);
	rpc_done(&r);
	return rc;
}

/* ---- addresses ------------------------------------------------------------
 */
/* A program's address to the stack's (IPv4). */
static int addr_in(const struct pfd *p, const struct sockaddr *sa,
		   socklen_t len, struct sockaddr_in *out, bool bind)
{
	const struct sockaddr_in6 *s6 = (const void *)sa;

	if (!sa || len < sizeof(sa_family_t))
		return -EINVAL;
	if (sa->sa_family != AF_INET6) {
		if (len > sizeof(*out))
			len = sizeof(*out);
		memset(out, 0, sizeof(*out));
		memcpy(out, sa, len);
		return 0;
	}
	if (len < sizeof(*s6))
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->sin_family = AF_INET;
	out->sin_port = s6->sin6_port;
	if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
		memcpy(&out->sin_addr, &s6->sin6_addr.s6_addr[12], 4);
	} else if (IN6_IS_ADDR_UNSPECIFIED(&s6->sin6_addr)) {
		out->sin_addr.s_addr = htonl(INADDR_ANY);
	} else if (IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr)) {
		out->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	} else {
		/* No IPv6 in the stack yet. */
		return bind ? -EADDRNOTAVAIL : -ENETUNREACH;
	}
	return 0;
}

/* The stack's address to the program's: IPv4-mapped for an AF_INET6
 * socket. */
static void addr_out(const struct pfd *p, const void *sa, socklen_t salen,
		     struct sockaddr *to, socklen_t *tolen)
{
	struct sockaddr_in sin;
	struct sockaddr_in6 s6;
	const void *src = sa;
	socklen_t n = salen;

	if (!to || !tolen)
		return;
	if (p && p->v6 && salen >= sizeof(sin)) {
		memcpy(&sin, sa, sizeof(sin));
		if (sin.sin_family == AF_INET) {
			memset(&s6, 0, sizeof(s6));
			s6.sin6_family = AF_INET6;
			s6.sin6_port = sin.sin_port;
			if (sin.sin_addr.s_addr != htonl(INADDR_ANY)) {
				s6.sin6_addr.s6_addr[10] = 0xff;
				s6.sin6_addr.s6_addr[11] = 0xff;
				memcpy(&s6.sin6_addr.s6_addr[12],
				       &sin.sin_addr, 4);
			}
			src = &s6;
			n = sizeof(s6);
		}
	}
	memcpy(to, src, n < *tolen ? n : *tolen);
	*tolen = n;
}

/* ---- the table after exec --------------------------------------------------
 */
static void adopt(int fd, uint64_t id)
{
	struct ctl_buf b;
	struct ctl_attr a;
	struct rpc r;
	struct pfd p = {.id = id};
	int32_t dom = 0, type = 0;

	req_begin(&b, CTL_T_SOCK_LOOKUP, &p);
	if (!rpc(&b, &r)) {
		if (rattr(&r, CTL_A_DOMAIN, &a))
			dom = ctl_attr_i32(&a);
		if (rattr(&r, CTL_A_STYPE, &a))
			type = ctl_attr_i32(&a);
		if (rattr(&r, CTL_A_PROTO, &a))
			p.proto = ctl_attr_i32(&a);
		if (rattr(&r, CTL_A_ARG, &a))
			p.portid = (uint32_t)ctl_attr_i32(&a);
		p.type = type < 0 ? SOCK_STREAM : type;
		p.kind = dom == AF_NETLINK	? PK_NETLINK
			 : type < 0		? PK_LISTEN
			 : type == SOCK_STREAM ? PK_STREAM
					       : PK_DGRAM;
		p.v6 = dom == AF_INET6;
		p.connected = 1; /* we cannot know; sends may then omit */
		g.tab[fd] = p;
	}
	ctl_buf_free(&b);
	rpc_done(&r);
}

static void rebuild(void)
{
	/* Descriptors below the limit that are AF_UNIX sockets may be ours;
	 * ask about each. Cheap when there are none. */
	DIR *dir = opendir("/proc/self/fd");
	struct dirent *e;

	if (!dir)
		return;
	while ((e = readdir(dir))) {
		char *end;
		long fd = strtol(e->d_name, &end, 10);
		struct stat st;
		int dom = 0;
		socklen_t l = sizeof(dom);

		if (*end || fd < 0 || fd >= TABLE_MAX || fd == dirfd(dir) ||
		    fd == g.ctl)
			continue;
		if (fstat((int)fd, &st) || !S_ISSOCK(st.st_mode))
			continue;
		if (g.r.getsockopt((int)fd, SOL_SOCKET, SO_DOMAIN, &dom, &l) ||
		    dom != AF_UNIX)
			continue;
		adopt((int)fd, (uint64_t)st.st_ino);
	}
	closedir(dir);
}

static void atfork_child(void)
{
	/* The inherited control connection is the parent's: make ours. */
	if (g.ctl >= 0)
		g.r.close(g.ctl);
	g.ctl = -1;
	pthread_mutex_init(&g.lock, NULL);
	if (ctl_open())
		warn_once("cannot reach vimaged at %s", g.path);
}

__attribute__((constructor)) static void preload_init(void)
{
	const char *name = getenv("VIMAGE_NAME");
	const char *path = getenv("VIMAGE_SOCKET");

	if (g.inited)
		return;
	g.inited = true;
	load_real();
	if (!name || !*name || !path || !*path)
		return;
	if (strlen(path) >= sizeof(g.path) ||
	    strlen(name) >= sizeof(g.name)) {
		fprintf(stderr, "libvimage-preload: VIMAGE_SOCKET or "
				"VIMAGE_NAME too long\n");
		_exit(127);
	}
	strcpy(g.path, path);
	strcpy(g.name, name);
	g.tab = calloc(TABLE_MAX, sizeof(*g.tab));
	if (!g.tab) {
		fprintf(stderr, "libvimage-preload: out of memory\n");
		_exit(127);
	}
	g.active = true;
	if (ctl_open()) {
		/* Fail closed: the program must not reach the host network
		 * instead; its socket calls will fail with ENETDOWN. */
		warn_once("cannot reach vimaged at %s (socket calls will "
			  "fail)",
			  g.path);
	}
	pthread_atfork(NULL, NULL, atfork_child);
	rebuild();
}

/* ---- sockets ---------------------------------------------------------------
 */
static const char zeros[1 << 16];

EXPORT int socket(int domain, int type, int protocol)
{
	int base = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
	struct ctl_buf b;
	struct ctl_attr a;
	struct rpc r;
	struct pfd p = {0};
	int rc, fd;

	ENSURE();
	if (!g.active || (domain != AF_INET && domain != AF_INET6 &&
			  domain != AF_NETLINK))
		return g.r.socket(domain, type, protocol);
	if (domain == AF_NETLINK && protocol != NETLINK_ROUTE &&
	    protocol != NETLINK_SOCK_DIAG)
		return set_errno(-EPROTONOSUPPORT);
	req_begin(&b, CTL_T_SOCKET, NULL);
	ctl_put_i32(&b, CTL_A_DOMAIN, domain == AF_INET6 ? AF_INET : domain);
	ctl_put_i32(&b, CTL_A_STYPE, base);
	ctl_put_i32(&b, CTL_A_PROTO,
		    domain == AF_INET6 && protocol == IPPROTO_ICMPV6
			? IPPROTO_ICMP
			: protocol);
	rc = rpc(&b, &r);
	ctl_buf_free(&b);
	if (rc || r.fd < 0 || !rattr(&r, CTL_A_SOCKID, &a)) {
		rpc_done(&r);
		/* Success without its descriptor: the kernel dropped it on
		 * the way in, at our descriptor limit. The daemon's end sees
		 * it closed and frees the socket. */
		return set_errno(rc ? rc : -EMFILE);
	}
	p.id = ctl_attr_u64(&a);
	if (rattr(&r, CTL_A_ARG, &a))
		p.portid = (uint32_t)ctl_attr_i32(&a);
	fd = r.fd;
	r.fd = -1;
	rpc_done(&r);
	if (fd >= TABLE_MAX) {
		g.r.close(fd);
		return set_errno(-EMFILE);
	}
	p.kind = domain == AF_NETLINK ? PK_NETLINK
		 : base == SOCK_STREAM ? PK_STREAM
				       : PK_DGRAM;
	p.v6 = domain == AF_INET6;
	p.type = base;
	p.proto = protocol;
	g.tab[fd] = p;
	/* The descriptor came with close-on-exec; keep it only if asked. */
	if (!(type & SOCK_CLOEXEC))
		g.r.fcntl(fd, F_SETFD, 0);
	if (type & SOCK_NONBLOCK)
		g.r.fcntl(fd, F_SETFL, g.r.fcntl(fd, F_GETFL) | O_NONBLOCK);
	return fd;
}

EXPORT int bind(int fd, const struct sockaddr *sa, socklen_t len)
{
	struct pfd *p = pfd_of(fd);
	struct sockaddr_in sin;
	struct ctl_buf b;
	struct rpc r;
	int rc;

	if (!p)
		return g.r.bind(fd, sa, len);
	if (p->kind == PK_NETLINK)
		return 0; /* the daemon chose the port id */
	if (p->v6only)
		return 0; /* no IPv6: bound to nothing that exists */
	rc = addr_in(p, sa, len, &sin, true);
	if (rc)
		return set_errno(rc);
	req_begin(&b, CTL_T_BIND, p);
	ctl_put(&b, CTL_A_SOCKADDR, &sin, sizeof(sin));
	rc = rpc(&b, &r);
	ctl_buf_free(&b);
	rpc_done(&r);
	return rc ? set_errno(rc) : 0;
}

static bool nonblocking(int fd)
{
	int fl = g.r.fcntl(fd, F_GETFL);

	return fl >= 0 && (fl & O_NONBLOCK);
}

static int sock_error(struct pfd *p)
{
	struct ctl_buf b;
	struct ctl_attr a;
	struct rpc r;
	int rc, e = 0;

	req_begin(&b, CTL_T_GETSOCKOPT, p);
	ctl_put_i32(&b, CTL_A_OPTLEVEL, SOL_SOCKET);
	ctl_put_i32(&b, CTL_A_OPTNAME, SO_ERROR);
	ctl_put_i32(&b, CTL_A_ARG, sizeof(int));
	rc = rpc(&b, &r);
	ctl_buf_free(&b);
	if (!rc && rattr(&r, CTL_A_DATA, &a) && a.len == sizeof(int))
		memcpy(&e, a.val, sizeof(int));
	rpc_done(&r);
	return rc ? rc : -e;
}

EXPORT int connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	struct pfd *p = pfd_of(fd);
	struct sockaddr_in sin;
	struct ctl_buf b;
	struct rpc r;
	uint32_t filler = 0;
	int rc;

	if (!p)
		return g.r.connect(fd, sa, len);
	if (p->kind == PK_NETLINK)
		return 0;
	if (p->v6only)
		return set_errno(-ENETUNREACH);
	if (sa && len >= sizeof(sa_family_t) && sa->sa_family == AF_UNSPEC) {
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_UNSPEC;
	} else {
		rc = addr_in(p, sa, len, &sin, false);
		if (rc)
			return set_errno(rc);
	}
	if (p->kind == PK_STREAM && sin.sin_family == AF_INET &&
	    !p->connected) {
		/* Hold writes back until the connection is resolved: fill
		 * our end's whole send allowance (so it neither polls
		 * writable nor takes a write); vimaged discards the filler.
		 * Only on a socket not connected yet: on one that is, the
		 * pair may carry data, and the daemon answers EISCONN. */
		ssize_t n;

		while (filler < (16u << 20)) {
			n = g.r.send(fd, zeros, sizeof(zeros),
				     MSG_DONTWAIT | MSG_NOSIGNAL);
			if (n <= 0)
				break;
			filler += (uint32_t)n;
		}
	}
	req_begin(&b, CTL_T_CONNECT, p);
	ctl_put(&b, CTL_A_SOCKADDR, &sin,
		sin.sin_family == AF_UNSPEC ? sizeof(sa_family_t)
					    : sizeof(sin));
	if (filler)
		ctl_put_u32(&b, CTL_A_FILLER, filler);
	rc = rpc(&b, &r);
	ctl_buf_free(&b);
	rpc_done(&r);
	if (p->kind == PK_DGRAM) {
		if (!rc)
			p->connected = sin.sin_family == AF_INET;
		return rc ? set_errno(rc) : 0;
	}
	if (rc == 0 || rc == -EINPROGRESS)
		p->connected = 1;
	if (rc != -EINPROGRESS)
		return rc ? set_errno(rc) : 0;
	if (nonblocking(fd))
		return set_errno(-EINPROGRESS);
	/* Blocking connect: the end turns writable when it is resolved,
	 * within SO_SNDTIMEO (then EINPROGRESS, as Linux). */
	{
		struct timeval tv = {0};
		socklen_t l = sizeof(tv);
		int ms = -1;

		if (!g.r.getsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, &l) &&
		    (tv.tv_sec || tv.tv_usec))
			ms = (int)(tv.tv_sec * 1000 + (tv.tv_usec + 999) / 1000);
		for (;;) {
			struct pollfd pf = {.fd = fd, .events = POLLOUT};
			int n = poll(&pf, 1, ms);

			if (n < 0)
				return -1; /* EINTR: it goes on */
			if (n == 0)
				return set_errno(-EINPROGRESS);
			break;
		}
	}
	rc = sock_error(p);
	if (rc)
		p->connected = 0; /* a later connect() starts afresh */
	return rc ? set_errno(rc) : 0;
}

EXPORT int listen(int fd, int backlog)
{
	struct pfd *p = pfd_of(fd);
	int rc;

	if (!p)
		return g.r.listen(fd, backlog);
	if (p->kind == PK_NETLINK || p->kind == PK_DGRAM)
		return set_errno(-EOPNOTSUPP);
	if (p->v6only) {
		p->kind = PK_LISTEN;
		return 0;
	}
	rc = simple(CTL_T_LISTEN, p, backlog);
	if (rc)
		return set_errno(rc);
	p->kind = PK_LISTEN;
	return 0;
}

EXPORT int accept4(int fd, struct sockaddr *sa, socklen_t *len, int flags)
{
	struct pfd *p = pfd_of(fd);

	if (!p)
		return g.r.accept4(fd, sa, len, flags);
	if (p->kind != PK_LISTEN)
		return set_errno(p->kind == PK_STREAM ? -EINVAL : -EOPNOTSUPP);
	for (;;) {
		struct ctl_buf b;
		struct ctl_attr a;
		struct rpc r;
		struct pfd np = {0};
		int rc, nfd = -1;
		char tok;

		if (p->v6only) {
			rc = -EAGAIN;
		} else {
			req_begin(&b, CTL_T_ACCEPT, p);
			rc = rpc(&b, &r);
			ctl_buf_free(&b);
			if (rattr(&r, CTL_A_DRAIN, &a) && ctl_attr_u8(&a))
				g.r.recv(fd, &tok, 1, MSG_DONTWAIT);
			if (!rc && r.fd >= 0 && rattr(&r, CTL_A_SOCKID, &a)) {
				np.id = ctl_attr_u64(&a);
				nfd = r.fd;
				r.fd = -1;
				if (rattr(&r, CTL_A_SOCKADDR, &a))
					addr_out(p, a.val, (socklen_t)a.len, sa,
						 len);
			} else if (!rc) {
				rc = -EMFILE; /* see socket() */
			}
			rpc_done(&r);
		}
		if (nfd >= 0) {
			if (nfd >= TABLE_MAX) {
				g.r.close(nfd);
				return set_errno(-EMFILE);
			}
			np.kind = PK_STREAM;
			np.v6 = p->v6;
			np.type = SOCK_STREAM;
			np.proto = p->proto;
			np.connected = 1;
			g.tab[nfd] = np;
			if (!(flags & SOCK_CLOEXEC))
				g.r.fcntl(nfd, F_SETFD, 0);
			if (flags & SOCK_NONBLOCK)
				g.r.fcntl(nfd, F_SETFL,
					  g.r.fcntl(nfd, F_GETFL) |
					      O_NONBLOCK);
			return nfd;
		}
		if (rc != -EAGAIN || nonblocking(fd))
			return set_errno(rc);
		{
			/* Wait for the token as a blocking read would, so
			 * that SA_RESTART and SO_RCVTIMEO act as on Linux. */
			char c;
			ssize_t k = g.r.recv(fd, &c, 1, MSG_PEEK);

			if (k < 0)
				return -1; /* EINTR, EAGAIN (timeout) */
			if (k == 0)
				return set_errno(-ECONNABORTED); /* daemon gone */
		}
	}
}

EXPORT int accept(int fd, struct sockaddr *sa, socklen_t *len)
{
	return accept4(fd, sa, len, 0);
}

static int getname(int fd, struct sockaddr *sa, socklen_t *len, bool peer)
{
	struct pfd *p = pfd_of(fd);
	struct ctl_buf b;
	struct ctl_attr a;
	struct rpc r;
	int rc;

	if (!p)
		return peer ? g.r.getpeername(fd, sa, len)
			    : g.r.getsockname(fd, sa, len);
	if (!sa || !len)
		return set_errno(-EFAULT);
	if (p->v6only) {
		struct sockaddr_in6 s6 = {.sin6_family = AF_INET6};

		if (peer)
			return set_errno(-ENOTCONN);
		memcpy(sa, &s6, *len < sizeof(s6) ? *len : sizeof(s6));
		*len = sizeof(s6);
		return 0;
	}
	req_begin(&b, CTL_T_GETNAME, p);
	ctl_put_i32(&b, CTL_A_ARG, peer);
	rc = rpc(&b, &r);
	ctl_buf_free(&b);
	if (!rc && rattr(&r, CTL_A_SOCKADDR, &a))
		addr_out(p, a.val, (socklen_t)a.len, sa, len);
	rpc_done(&r);
	return rc ? set_errno(rc) : 0;
}

EXPORT int getsockname(int fd, struct sockaddr *sa, socklen_t *len)
{
	return getname(fd, sa, len, false);
}

EXPORT int getpeername(int fd, struct sockaddr *sa, socklen_t *len)
{
	return getname(fd, sa, len, true);
}

EXPORT int setsockopt(int fd, int level, int name, const void *val,
		      socklen_t len)
{
	struct pfd *p = pfd_of(fd);
	struct ctl_buf b;
	struct rpc r;
	int rc;

	if (!p)
		return g.r.setsockopt(fd, level, name, val, len);
	if (p->kind == PK_NETLINK && level != SOL_NETLINK)
		return 0; /* buffer sizes: the pair has its own */
	if (level == IPPROTO_IPV6) {
		if (!p->v6)
			return set_errno(-ENOPROTOOPT);
		if (name == IPV6_V6ONLY && val && len >= sizeof(int))
			p->v6only = *(const int *)val != 0;
		return 0; /* no IPv6 traffic to apply it to */
	}
	if (level == SOL_SOCKET &&
	    (name == SO_RCVTIMEO || name == SO_SNDTIMEO ||
	     name == SO_ATTACH_FILTER || name == SO_DETACH_FILTER))
		/* Timeouts act on our end; a BPF filter would see our
		 * framing, and the stack delivers only what it should. */
		return name == SO_RCVTIMEO || name == SO_SNDTIMEO
			   ? g.r.setsockopt(fd, level, name, val, len)
			   : 0;
	if (len > CTL_DATA_MAX || (len && !val))
		return set_errno(len ? -EFAULT : -EINVAL);
	if (p->kind == PK_DGRAM && val && len >= sizeof(int)) {
		/* Ancillary data the shim makes from the pair's header and
		 * its own clock; the stack has nothing to do for them. */
		uint8_t on = *(const int *)val != 0, *flag = NULL;

		/* IP_RECVERR is the stack's too (it queues the records);
		 * remember it and fall through to forward it. */
		if (level == IPPROTO_IP && name == IP_RECVERR)
			p->recverr = on;

		if (level == IPPROTO_IP && name == IP_RECVTTL)
			flag = &p->recvttl;
		else if (level == IPPROTO_IP && name == IP_RECVTOS)
			flag = &p->recvtos;
		else if (level == IPPROTO_IP && name == IP_PKTINFO)
			flag = &p->pktinfo;
		else if (level == SOL_SOCKET && name == SO_TIMESTAMP)
			flag = &p->timestamp;
		if (flag) {
			*flag = on;
			return 0;
		}
		if (level == IPPROTO_IP && name == IP_RETOPTS)
			return 0; /* no IP options are ever received */
	}
	req_begin(&b, CTL_T_SETSOCKOPT, p);
	ctl_put_i32(&b, CTL_A_OPTLEVEL, level);
	ctl_put_i32(&b, CTL_A_OPTNAME, name);
	ctl_put(&b, CTL_A_DATA, val, len);
	rc = rpc(&b, &r);
	ctl_buf_free(&b);
	rpc_done(&r);
	return rc ? set_errno(rc) : 0;
}

EXPORT int getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
	struct pfd *p = pfd_of(fd);
	struct ctl_buf b;
	struct ctl_attr a;
	struct rpc r;
	int rc, v = -1;

	if (!p)
		return g.r.getsockopt(fd, level, name, val, len);
	if (!val || !len)
		return set_errno(-EFAULT);
	if (level == SOL_SOCKET) {
		switch (name) {
		case SO_TYPE:
			v = p->type;
			break;
		case SO_DOMAIN:
			v = p->kind == PK_NETLINK ? AF_NETLINK
			    : p->v6		 ? AF_INET6
						 : AF_INET;
			break;
		case SO_PROTOCOL:
			v = p->proto ? p->proto
			    : p->type == SOCK_STREAM ? IPPROTO_TCP
			    : p->type == SOCK_DGRAM  ? IPPROTO_UDP
						     : 0;
			break;
		case SO_RCVTIMEO:
		case SO_SNDTIMEO:
			return g.r.getsockopt(fd, level, name, val, len);
		}
	}
	if (level == IPPROTO_IPV6 && p->v6) {
		v = name == IPV6_V6ONLY ? p->v6only : 0;
	}
	if (v >= 0 || p->kind == PK_NETLINK) {
		if (v < 0)
			v = 0;
		memcpy(val, &v, *len < sizeof(v) ? *len : sizeof(v));
		*len = *len < sizeof(v) ? *len : sizeof(v);
		return 0;
	}
	req_begin(&b, CTL_T_GETSOCKOPT, p);
	ctl_put_i32(&b, CTL_A_OPTLEVEL, level);
	ctl_put_i32(&b, CTL_A_OPTNAME, name);
	ctl_put_i32(&b, CTL_A_ARG, (int32_t)(*len > CTL_DATA_MAX ? CTL_DATA_MAX
								   : *len));
	rc = rpc(&b, &r);
	ctl_buf_free(&b);
	if (!rc && rattr(&r, CTL_A_DATA, &a)) {
		memcpy(val, a.val, a.len < *len ? a.len : *len);
		*len = a.len < *len ? a.len : *len;
		if (p->kind == PK_STREAM && level == SOL_SOCKET &&
		    name == SO_ERROR && a.len >= sizeof(int)) {
			int e;

			memcpy(&e, a.val, sizeof(e));
			if (e)
				p->connected = 0; /* the attempt failed */
		}
	}
	rpc_done(&r);
	return rc ? set_errno(rc) : 0;
}

EXPORT int shutdown(int fd, int how)
{
	struct pfd *p = pfd_of(fd);
	int rc = 0;

	if (!p)
		return g.r.shutdown(fd, how);
	if (how < SHUT_RD || how > SHUT_RDWR)
		return set_errno(-EINVAL);
	if (p->kind == PK_NETLINK)
		return g.r.shutdown(fd, how);
	/* The write side is the pair's own end of stream, so the FIN
	 * follows the data already written; the stack is told about the
	 * rest (and a listener or datagram socket about everything). */
	if (p->kind != PK_STREAM || how != SHUT_WR)
		rc = simple(CTL_T_SOCK_SHUTDOWN, p,
			    p->kind == PK_STREAM ? SHUT_RD : how);
	if (rc)
		return set_errno(rc);
	if (p->kind == PK_STREAM)
		g.r.shutdown(fd, how);
	return 0;
}

/* ---- datagrams -------------------------------------------------------------
 */
/* Linux fails a sendto to an unroutable address at once; our datagrams
 * travel without a round trip, so the first send to a destination asks
 * the daemon (a few recent ones are remembered per socket). Broadcast and
 * multicast are left to the stack. */
static int route_known(struct pfd *p, uint32_t be)
{
	uint32_t h = ntohl(be);
	struct ctl_buf b;
	struct rpc r;
	int rc;

	if (h == INADDR_BROADCAST || (h >> 28) == 14 || h == INADDR_ANY)
		return 0;
	for (size_t i = 0; i < sizeof(p->routed) / sizeof(p->routed[0]); i++)
		if (p->routed[i] == be)
			return 0;
	req_begin(&b, CTL_T_IOCTL, p);
	ctl_put_u32(&b, CTL_A_REQ, CTL_IOC_ROUTE);
	ctl_put(&b, CTL_A_DATA, &be, sizeof(be));
	rc = rpc(&b, &r);
	ctl_buf_free(&b);
	rpc_done(&r);
	if (rc == -ENETUNREACH || rc == -EHOSTUNREACH || rc == -EACCES ||
	    rc == -EINVAL)
		return rc;
	p->routed[p->routed_next++ % 4] = be;
	return 0; /* (other trouble: the send will say) */
}

static ssize_t dgram_send(struct pfd *p, int fd, const struct iovec *iov,
			  int iovcnt, int flags, const struct sockaddr *to,
			  socklen_t tolen)
{
	struct ctl_dgram h = {.magic = CTL_DGRAM_MAGIC};
	struct iovec v[UIO_MAXIOV];
	struct msghdr mh = {.msg_iov = v};
	size_t total = 0;
	ssize_t n;

	if (iovcnt < 0 || iovcnt >= UIO_MAXIOV)
		return set_errno(-EINVAL);
	if (to && tolen) {
		struct sockaddr_in sin;
		int rc = addr_in(p, to, tolen, &sin, false);

		if (rc)
			return set_errno(rc);
		if (sin.sin_family != AF_INET)
			return set_errno(-EAFNOSUPPORT);
		rc = route_known(p, sin.sin_addr.s_addr);
		if (rc)
			return set_errno(rc);
		h.flags = CTL_DG_ADDR;
		h.port = sin.sin_port;
		memcpy(&h.addr, &sin.sin_addr, 4);
	} else if (!p->connected) {
		return set_errno(-EDESTADDRREQ);
	}
	v[0] = (struct iovec){&h, sizeof(h)};
	for (int i = 0; i < iovcnt; i++) {
		v[i + 1] = iov[i];
		total += iov[i].iov_len;
	}
	/* The IPv4 limit: 65535 minus the IP and UDP headers (a raw
	 * socket's own limit is checked by the stack). */
	if (total > (p->type == SOCK_RAW ? 65535u : 65507u))
		return set_errno(-EMSGSIZE);
	mh.msg_iovlen = (size_t)iovcnt + 1;
	n = g.r.sendmsg(fd, &mh,
			(flags & (MSG_DONTWAIT)) | MSG_NOSIGNAL);
	if (n < 0)
		return -1;
	return n >= (ssize_t)sizeof(h) ? n - (ssize_t)sizeof(h) : 0;
}

/* The daemon's arrival stamp, or now when it gave none. */
static struct timeval stamp_tv(uint64_t ns)
{
	struct timeval tv;

	if (!ns) {
		gettimeofday(&tv, NULL);
		return tv;
	}
	tv.tv_sec = (time_t)(ns / 1000000000u);
	tv.tv_usec = (suseconds_t)(ns % 1000000000u / 1000u);
	return tv;
}

/* Append one control message; its space, or 0 (and MSG_CTRUNC) when it
 * does not fit. */
static size_t put_cmsg(uint8_t *at, size_t room, int level, int type,
		       const void *data, size_t len, struct msghdr *msg)
{
	struct cmsghdr c = {.cmsg_len = CMSG_LEN(len),
			    .cmsg_level = level,
			    .cmsg_type = type};

	if (room < CMSG_SPACE(len)) {
		msg->msg_flags |= MSG_CTRUNC;
		return 0;
	}
	memset(at, 0, CMSG_SPACE(len));
	memcpy(at, &c, sizeof(c));
	memcpy(at + ((uint8_t *)CMSG_DATA((struct cmsghdr *)at) - at), data,
	       len);
	return CMSG_SPACE(len);
}

static void errq_stash(struct pfd *p, const struct ctl_dgram *h,
		       const struct ctl_dgram_err *ee, const uint8_t *q,
		       size_t len)
{
	struct errrec *e = malloc(sizeof(*e) + len), **tail = &p->errq;

	if (!e)
		return;
	e->next = NULL;
	e->h = *h;
	e->ee = *ee;
	e->len = len;
	memcpy(e->quote, q, len);
	while (*tail)
		tail = &(*tail)->next;
	*tail = e;
}

/* recvmsg(MSG_ERRQUEUE): a stashed record, else one at the head of the
 * pair (a datagram there stays for the next recv). */
static ssize_t errq_recv(struct pfd *p, int fd, struct msghdr *msg, int flags)
{
	struct errrec *e = p->errq;
	struct sock_extended_err se;
	struct sockaddr_in off = {.sin_family = AF_INET};
	uint8_t ebuf[sizeof(se) + sizeof(off)];
	size_t done = 0;

	if (!e) {
		struct ctl_dgram h;
		uint8_t buf[sizeof(struct ctl_dgram) + sizeof(struct ctl_dgram_err) +
			    1024];
		ssize_t n = g.r.recv(fd, &h, sizeof(h), MSG_PEEK | MSG_DONTWAIT);

		if (n < (ssize_t)sizeof(h) || !(h.flags & CTL_DG_ERR))
			return set_errno(-EAGAIN);
		n = g.r.recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < (ssize_t)(sizeof(h) + sizeof(struct ctl_dgram_err)))
			return set_errno(-EAGAIN);
		{
			struct ctl_dgram_err ee;

			memcpy(&ee, buf + sizeof(h), sizeof(ee));
			if (ee.origin != CTL_EE_ICMP)
				return set_errno(-EAGAIN); /* consumed */
			errq_stash(p, &h, &ee, buf + sizeof(h) + sizeof(ee),
				   (size_t)n - sizeof(h) - sizeof(ee));
		}
		e = p->errq;
		if (!e)
			return set_errno(-ENOMEM);
	}
	if (!(flags & MSG_PEEK))
		p->errq = e->next;
	for (size_t i = 0; i < msg->msg_iovlen && done < e->len; i++) {
		size_t k = msg->msg_iov[i].iov_len;

		if (k > e->len - done)
			k = e->len - done;
		memcpy(msg->msg_iov[i].iov_base, e->quote + done, k);
		done += k;
	}
	msg->msg_flags = MSG_ERRQUEUE | (done < e->len ? MSG_TRUNC : 0);
	if (msg->msg_name) {
		struct sockaddr_in sin = {.sin_family = AF_INET,
					  .sin_port = e->h.port};

		memcpy(&sin.sin_addr, &e->h.addr, 4);
		addr_out(p, &sin, sizeof(sin), msg->msg_name,
			 &msg->msg_namelen);
	}
	if (msg->msg_control) {
		size_t room = msg->msg_controllen, used = 0;
		uint8_t *cb = msg->msg_control;

		memset(&se, 0, sizeof(se));
		se.ee_errno = e->ee.err;
		se.ee_origin = SO_EE_ORIGIN_ICMP;
		se.ee_type = e->ee.type;
		se.ee_code = e->ee.code;
		se.ee_info = e->ee.info;
		off.sin_addr.s_addr = e->ee.offender;
		memcpy(ebuf, &se, sizeof(se));
		memcpy(ebuf + sizeof(se), &off, sizeof(off));
		msg->msg_controllen = 0;
		if (p->timestamp) {
			struct timeval tv = stamp_tv(e->h.stamp_ns);

			used += put_cmsg(cb + used, room - used, SOL_SOCKET,
					 SO_TIMESTAMP, &tv, sizeof(tv), msg);
		}
		used += put_cmsg(cb + used, room - used, IPPROTO_IP, IP_RECVERR,
				 ebuf, sizeof(ebuf), msg);
		if (p->recvttl) {
			int ttl = e->h.ttl;

			used += put_cmsg(cb + used, room - used, IPPROTO_IP,
					 IP_TTL, &ttl, sizeof(ttl), msg);
		}
		msg->msg_controllen = used;
	}
	if (!(flags & MSG_PEEK))
		free(e);
	return (ssize_t)done;
}

static ssize_t dgram_recv(struct pfd *p, int fd, struct msghdr *msg,
			  int flags)
{
	struct ctl_dgram h;
	struct iovec v[UIO_MAXIOV];
	struct msghdr mh = {.msg_iov = v};
	ssize_t n;

	if (msg->msg_iovlen >= UIO_MAXIOV)
		return set_errno(-EINVAL);
	if (flags & MSG_ERRQUEUE)
		return errq_recv(p, fd, msg, flags);
	v[0] = (struct iovec){&h, sizeof(h)};
	for (size_t i = 0; i < msg->msg_iovlen; i++)
		v[i + 1] = msg->msg_iov[i];
	mh.msg_iovlen = msg->msg_iovlen + 1;
	n = g.r.recvmsg(fd, &mh, flags & (MSG_DONTWAIT | MSG_PEEK | MSG_TRUNC |
					  MSG_WAITALL));
	if (n < 0)
		return -1;
	if (n < (ssize_t)sizeof(h) || h.magic != CTL_DGRAM_MAGIC) {
		/* Only vimaged writes here: nothing at all means its end
		 * is closed (the daemon died, or the vimage was destroyed),
		 * which a datagram socket can only report as an error. */
		return set_errno(n == 0 ? -ENETDOWN : -EIO);
	}
	if (h.flags & CTL_DG_ERR) {
		/* An error instead of a datagram: the recv fails with it
		 * (Linux's pending socket error) and an IP_RECVERR record
		 * waits for MSG_ERRQUEUE. Its body landed in the caller's
		 * buffer; take it back from there. */
		struct ctl_dgram_err ee;
		size_t got = (size_t)n - sizeof(h), off = 0;
		uint8_t body[sizeof(ee) + 1024];

		for (size_t i = 0; i < msg->msg_iovlen && off < got; i++) {
			size_t k = msg->msg_iov[i].iov_len;

			if (k > got - off)
				k = got - off;
			if (k > sizeof(body) - off)
				k = sizeof(body) - off;
			memcpy(body + off, msg->msg_iov[i].iov_base, k);
			off += k;
		}
		if (off < sizeof(ee))
			return set_errno(-EIO);
		memcpy(&ee, body, sizeof(ee));
		if (ee.origin == CTL_EE_ICMP && p->recverr)
			errq_stash(p, &h, &ee, body + sizeof(ee),
				   off - sizeof(ee));
		return set_errno(-(int)(ee.err ? ee.err : EIO));
	}
	msg->msg_flags = mh.msg_flags & MSG_TRUNC;
	if (msg->msg_name) {
		struct sockaddr_in sin = {.sin_family = AF_INET,
					  .sin_port = h.port};

		memcpy(&sin.sin_addr, &h.addr, 4);
		addr_out(p, &sin, sizeof(sin), msg->msg_name,
			 &msg->msg_namelen);
	}
	if (msg->msg_control) {
		size_t room = msg->msg_controllen, used = 0;
		uint8_t *cb = msg->msg_control;

		msg->msg_controllen = 0;
		if (p->timestamp) {
			struct timeval tv = stamp_tv(h.stamp_ns);

			used += put_cmsg(cb + used, room - used, SOL_SOCKET,
					 SO_TIMESTAMP, &tv, sizeof(tv), msg);
		}
		if (p->pktinfo) {
			struct in_pktinfo pi = {.ipi_ifindex =
						    (int)ntohl(h.resv2)};

			used += put_cmsg(cb + used, room - used, IPPROTO_IP,
					 IP_PKTINFO, &pi, sizeof(pi), msg);
		}
		if (p->recvttl) {
			int ttl = h.ttl;

			used += put_cmsg(cb + used, room - used, IPPROTO_IP,
					 IP_TTL, &ttl, sizeof(ttl), msg);
		}
		if (p->recvtos)
			used += put_cmsg(cb + used, room - used, IPPROTO_IP,
					 IP_TOS, &h.tos, 1, msg);
		msg->msg_controllen = used;
	}
	return n - (ssize_t)sizeof(h);
}

/* Netlink: the pair carries the datagrams as they are; the source is the
 * kernel (port 0) as far as the program can tell. */
static ssize_t nl_recv(int fd, struct msghdr *msg, int flags)
{
	ssize_t n;
	void *name = msg->msg_name;
	socklen_t namelen = msg->msg_namelen;

	msg->msg_name = NULL;
	msg->msg_namelen = 0;
	n = g.r.recvmsg(fd, msg, flags);
	msg->msg_name = name;
	if (name && n >= 0) {
		struct sockaddr_nl nl = {.nl_family = AF_NETLINK};

		memcpy(name, &nl, namelen < sizeof(nl) ? namelen : sizeof(nl));
		msg->msg_namelen = sizeof(nl);
	} else {
		msg->msg_namelen = namelen;
	}
	return n;
}

/* A stream's pair says only "end of stream" (read) or EPIPE (write) when
 * the connection died; the daemon knows whether it was a reset. Asked
 * only on those paths. */
static ssize_t stream_read_done(struct pfd *p, ssize_t n, size_t len)
{
	int e;

	if (n != 0 || len == 0)
		return n;
	e = sock_error(p);
	return e == -ECONNRESET || e == -ETIMEDOUT || e == -EHOSTUNREACH ||
		       e == -ENETUNREACH
		   ? set_errno(e)
		   : 0;
}

/* Writes go with MSG_NOSIGNAL: a reset is ECONNRESET without a signal,
 * as on Linux; a plain EPIPE raises SIGPIPE unless the caller said
 * MSG_NOSIGNAL. */
static ssize_t stream_write_done(struct pfd *p, ssize_t n, int flags)
{
	int e;

	if (n >= 0 || errno != EPIPE)
		return n;
	e = sock_error(p);
	if (e == -ECONNRESET || e == -ETIMEDOUT || e == -EHOSTUNREACH ||
	    e == -ENETUNREACH)
		return set_errno(e);
	if (!(flags & MSG_NOSIGNAL))
		raise(SIGPIPE);
	return set_errno(-EPIPE);
}

EXPORT ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	struct pfd *p = pfd_of(fd);

	if (!p)
		return g.r.sendmsg(fd, msg, flags);
	if (p->kind == PK_DGRAM)
		return dgram_send(p, fd, msg->msg_iov, (int)msg->msg_iovlen,
				  flags, msg->msg_name, msg->msg_namelen);
	{
		struct msghdr m = *msg;

		m.msg_name = NULL;
		m.msg_namelen = 0;
		if (p->kind != PK_NETLINK) {
			m.msg_control = NULL; /* no ancillary data on TCP */
			m.msg_controllen = 0;
			return stream_write_done(
			    p,
			    g.r.sendmsg(fd, &m,
					(flags & ~MSG_MORE) | MSG_NOSIGNAL),
			    flags);
		}
		return g.r.sendmsg(fd, &m, flags & ~MSG_MORE);
	}
}

EXPORT ssize_t sendto(int fd, const void *buf, size_t len, int flags,
		      const struct sockaddr *to, socklen_t tolen)
{
	struct pfd *p = pfd_of(fd);
	struct iovec iov = {(void *)buf, len};

	if (!p)
		return g.r.sendto(fd, buf, len, flags, to, tolen);
	if (p->kind == PK_DGRAM)
		return dgram_send(p, fd, &iov, 1, flags, to, tolen);
	if (p->kind == PK_NETLINK)
		return g.r.send(fd, buf, len, flags);
	return stream_write_done(
	    p, g.r.send(fd, buf, len, (flags & ~MSG_MORE) | MSG_NOSIGNAL),
	    flags);
}

EXPORT ssize_t send(int fd, const void *buf, size_t len, int flags)
{
	return sendto(fd, buf, len, flags, NULL, 0);
}

EXPORT int sendmmsg(int fd, struct mmsghdr *v, unsigned n, int flags)
{
	struct pfd *p = pfd_of(fd);
	unsigned i;

	if (!p)
		return g.r.sendmmsg(fd, v, n, flags);
	for (i = 0; i < n; i++) {
		ssize_t k = sendmsg(fd, &v[i].msg_hdr, flags);

		if (k < 0)
			return i ? (int)i : -1;
		v[i].msg_len = (unsigned)k;
	}
	return (int)i;
}

EXPORT ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
	struct pfd *p = pfd_of(fd);
	ssize_t n;

	if (!p)
		return g.r.recvmsg(fd, msg, flags);
	if (p->kind == PK_LISTEN)
		return set_errno(-ENOTCONN);
	if (p->kind == PK_DGRAM)
		return dgram_recv(p, fd, msg, flags);
	if (p->kind == PK_NETLINK)
		return nl_recv(fd, msg, flags);
	{
		void *ctl = msg->msg_control;

		size_t len = 0;

		for (size_t i = 0; i < msg->msg_iovlen; i++)
			len += msg->msg_iov[i].iov_len;
		msg->msg_control = NULL;
		msg->msg_controllen = 0;
		n = g.r.recvmsg(fd, msg, flags);
		msg->msg_control = ctl;
		msg->msg_namelen = 0; /* TCP does not give the source */
		return stream_read_done(p, n, len);
	}
}

EXPORT ssize_t recvfrom(int fd, void *buf, size_t len, int flags,
			struct sockaddr *from, socklen_t *fromlen)
{
	struct pfd *p = pfd_of(fd);
	struct iovec iov = {buf, len};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	ssize_t n;

	if (!p)
		return g.r.recvfrom(fd, buf, len, flags, from, fromlen);
	if (p->kind == PK_LISTEN)
		return set_errno(-ENOTCONN); /* its pair carries a token */
	if (p->kind == PK_STREAM) {
		n = stream_read_done(p, g.r.recv(fd, buf, len, flags), len);
		if (n >= 0 && from && fromlen)
			*fromlen = 0;
		return n;
	}
	if (from && fromlen) {
		mh.msg_name = from;
		mh.msg_namelen = *fromlen;
	}
	n = recvmsg(fd, &mh, flags);
	if (n >= 0 && from && fromlen)
		*fromlen = mh.msg_namelen;
	return n;
}

EXPORT ssize_t recv(int fd, void *buf, size_t len, int flags)
{
	return recvfrom(fd, buf, len, flags, NULL, NULL);
}

EXPORT int recvmmsg(int fd, struct mmsghdr *v, unsigned n, int flags,
		    struct timespec *t)
{
	struct pfd *p = pfd_of(fd);
	unsigned i;

	if (!p)
		return g.r.recvmmsg(fd, v, n, flags, t);
	for (i = 0; i < n; i++) {
		ssize_t k = recvmsg(fd, &v[i].msg_hdr,
				    (flags & ~MSG_WAITFORONE) |
					(i && (flags & MSG_WAITFORONE)
					     ? MSG_DONTWAIT
					     : 0));

		if (k < 0)
			return i ? (int)i : -1;
		v[i].msg_len = (unsigned)k;
	}
	return (int)i;
}

EXPORT ssize_t read(int fd, void *buf, size_t len)
{
	struct pfd *p = pfd_of(fd);

	if (!p)
		return g.r.read(fd, buf, len);
	if (p->kind == PK_STREAM)
		return stream_read_done(p, g.r.read(fd, buf, len), len);
	return recvfrom(fd, buf, len, 0, NULL, NULL);
}

EXPORT ssize_t readv(int fd, const struct iovec *iov, int n)
{
	struct pfd *p = pfd_of(fd);
	struct msghdr mh = {.msg_iov = (struct iovec *)iov};

	if (!p || n < 0)
		return g.r.readv(fd, iov, n);
	mh.msg_iovlen = (size_t)n;
	return recvmsg(fd, &mh, 0);
}

EXPORT ssize_t write(int fd, const void *buf, size_t len)
{
	struct pfd *p = pfd_of(fd);

	if (!p || p->kind == PK_NETLINK || p->kind == PK_LISTEN)
		return g.r.write(fd, buf, len);
	return sendto(fd, buf, len, 0, NULL, 0);
}

EXPORT ssize_t writev(int fd, const struct iovec *iov, int n)
{
	struct pfd *p = pfd_of(fd);

	struct msghdr mh = {.msg_iov = (struct iovec *)iov};

	if (!p || n < 0 || p->kind == PK_NETLINK || p->kind == PK_LISTEN)
		return g.r.writev(fd, iov, n);
	mh.msg_iovlen = (size_t)n;
	return sendmsg(fd, &mh, 0);
}

/* Fortified callers reach these instead. */
ssize_t __read_chk(int fd, void *buf, size_t len, size_t buflen);
ssize_t __recv_chk(int fd, void *buf, size_t len, size_t buflen, int flags);
ssize_t __recvfrom_chk(int fd, void *buf, size_t len, size_t buflen,
		       int flags, struct sockaddr *from, socklen_t *fromlen);
EXPORT ssize_t __read_chk(int fd, void *buf, size_t len, size_t buflen)
{
	if (len > buflen)
		abort();
	return read(fd, buf, len);
}

EXPORT ssize_t __recv_chk(int fd, void *buf, size_t len, size_t buflen,
			  int flags)
{
	if (len > buflen)
		abort();
	return recv(fd, buf, len, flags);
}

EXPORT ssize_t __recvfrom_chk(int fd, void *buf, size_t len, size_t buflen,
			      int flags, struct sockaddr *from,
			      socklen_t *fromlen)
{
	if (len > buflen)
		abort();
	return recvfrom(fd, buf, len, flags, from, fromlen);
}

/* ---- descriptors -----------------------------------------------------------
 */
EXPORT int close(int fd)
{
	ENSURE();
	if (fd >= 0 && fd == g.ctl)
		return 0; /* ours, not the program's: it never had it */
	pfd_clear(fd);
	return g.r.close(fd);
}

EXPORT int close_range(unsigned first, unsigned last, int flags)
{
	ENSURE();
	if (!g.r.close_range)
		return set_errno(-ENOSYS);
	if (!(flags & CLOSE_RANGE_CLOEXEC))
		for (unsigned fd = first; fd <= last && fd < TABLE_MAX; fd++)
			pfd_clear((int)fd);
	if (g.ctl >= 0 && (unsigned)g.ctl >= first && (unsigned)g.ctl <= last) {
		/* Around the control connection. */
		int rc = 0;

		if ((unsigned)g.ctl > first)
			rc = g.r.close_range(first, (unsigned)g.ctl - 1, flags);
		if (!rc && (unsigned)g.ctl < last)
			rc = g.r.close_range((unsigned)g.ctl + 1, last, flags);
		return rc;
	}
	return g.r.close_range(first, last, flags);
}

static int dup_done(int from, int to)
{
	if (to >= 0 && to != from) {
		struct pfd *p = pfd_of(from);

		if (to >= TABLE_MAX) {
			if (p) {
				g.r.close(to);
				return set_errno(-EMFILE);
			}
		} else if (g.tab) {
			pfd_clear(to);
			if (p) {
				g.tab[to] = *p;
				g.tab[to].errq = NULL;
			}
		}
	}
	return to;
}

EXPORT int dup(int fd)
{
	ENSURE();
	return dup_done(fd, g.r.dup(fd));
}

/* The program wants the number of our control connection: move it. */
static void ctl_move_from(int fd)
{
	if (fd >= 0 && fd == g.ctl) {
		int nfd = g.r.fcntl(g.ctl, F_DUPFD_CLOEXEC, 900);

		pthread_mutex_lock(&g.lock);
		if (nfd >= 0) {
			g.r.close(g.ctl);
			g.ctl = nfd;
		} else {
			g.ctl = -1; /* reconnects when next needed */
		}
		pthread_mutex_unlock(&g.lock);
	}
}

EXPORT int dup2(int fd, int to)
{
	ENSURE();
	ctl_move_from(to);
	return dup_done(fd, g.r.dup2(fd, to));
}

EXPORT int dup3(int fd, int to, int flags)
{
	ENSURE();
	ctl_move_from(to);
	return dup_done(fd, g.r.dup3(fd, to, flags));
}

EXPORT int fcntl(int fd, int cmd, ...)
{
	va_list ap;
	long arg;
	int rc;

	ENSURE();
	va_start(ap, cmd);
	arg = va_arg(ap, long);
	va_end(ap);
	rc = g.r.fcntl(fd, cmd, arg);
	if (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC)
		return dup_done(fd, rc);
	return rc;
}

EXPORT int fcntl64(int fd, int cmd, ...)
{
	va_list ap;
	long arg;

	va_start(ap, cmd);
	arg = va_arg(ap, long);
	va_end(ap);
	return fcntl(fd, cmd, arg);
}

/* ---- ioctls ----------------------------------------------------------------
 */
/* An interface ioctl, done by vimaged on the caller's structure (flat: no
 * pointers cross). */
static int if_ioctl(unsigned long req, void *arg, size_t len)
{
	struct ctl_buf b;
	struct ctl_attr a;
	struct rpc r;
	int rc;

	req_begin(&b, CTL_T_IOCTL, NULL);
	ctl_put_u32(&b, CTL_A_REQ, (uint32_t)req);
	ctl_put(&b, CTL_A_DATA, arg, len);
	rc = rpc(&b, &r);
	ctl_buf_free(&b);
	if (!rc && rattr(&r, CTL_A_DATA, &a))
		memcpy(arg, a.val, a.len < len ? a.len : len);
	rpc_done(&r);
	return rc;
}

static int ioctl_ifconf(struct ifconf *ifc)
{
	size_t room = ifc->ifc_len > 0 ? (size_t)ifc->ifc_len : 0;
	struct ifconf_flat *f;
	int rc;

	if (room > CTL_DATA_MAX - sizeof(*f))
		room = CTL_DATA_MAX - sizeof(*f);
	f = calloc(1, sizeof(*f) + room);
	if (!f)
		return -ENOMEM;
	f->len = (int32_t)room;
	f->null_buf = !ifc->ifc_buf;
	rc = if_ioctl(SIOCGIFCONF, f, sizeof(*f) + room);
	if (!rc) {
		if (ifc->ifc_buf && f->len > 0)
			memcpy(ifc->ifc_buf, f->buf,
			       (size_t)f->len < room ? (size_t)f->len : room);
		ifc->ifc_len = f->len;
	}
	free(f);
	return rc;
}

static int ioctl_rtentry(unsigned long req, struct rtentry *rt)
{
	struct rtentry_flat f;

	memset(&f, 0, sizeof(f));
	f.rt = *rt;
	f.rt.rt_dev = NULL;
	if (rt->rt_dev)
		snprintf(f.dev, sizeof(f.dev), "%s", rt->rt_dev);
	return if_ioctl(req, &f, sizeof(f));
}

EXPORT int ioctl(int fd, unsigned long req, ...)
{
	struct pfd *p;
	va_list ap;
	void *arg;
	int rc;

	ENSURE();
	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	p = pfd_of(fd);
	if (!p)
		return g.r.ioctl(fd, req, arg);
	switch (req) {
	case FIONBIO:
	case FIOASYNC:
	case FIOCLEX:
	case FIONCLEX:
		/* The descriptor's own flags: the kernel's business. */
		return g.r.ioctl(fd, req, arg);
	case SIOCINQ: /* FIONREAD */
		if (p->kind == PK_DGRAM) {
			/* Linux: the size of the next datagram. The pair's
			 * own answer counts every queued message; the next
			 * one's length is what a truncating peek says. */
			struct ctl_dgram h;
			ssize_t n = g.r.recv(fd, &h, sizeof(h),
					     MSG_PEEK | MSG_TRUNC |
						 MSG_DONTWAIT);
			int v = n > (ssize_t)sizeof(h) &&
					!(h.flags & CTL_DG_ERR)
				    ? (int)(n - (ssize_t)sizeof(h))
				    : 0;

			memcpy(arg, &v, sizeof(v));
			return 0;
		}
		if (p->kind == PK_LISTEN)
			return set_errno(-EINVAL);
		return g.r.ioctl(fd, req, arg);
	case SIOCOUTQ:
	case SIOCOUTQNSD: {
		struct ctl_buf b;
		struct ctl_attr a;
		struct rpc r;

		req_begin(&b, CTL_T_IOCTL, p);
		ctl_put_u32(&b, CTL_A_REQ, (uint32_t)req);
		ctl_put(&b, CTL_A_DATA, NULL, 0);
		rc = rpc(&b, &r);
		ctl_buf_free(&b);
		if (!rc && rattr(&r, CTL_A_DATA, &a) && a.len == sizeof(int))
			memcpy(arg, a.val, sizeof(int));
		rpc_done(&r);
		return rc ? set_errno(rc) : 0;
	}
	case SIOCGIFCONF:
		rc = ioctl_ifconf(arg);
		return rc ? set_errno(rc) : 0;
	case SIOCADDRT:
	case SIOCDELRT:
		rc = ioctl_rtentry(req, arg);
		return rc ? set_errno(rc) : 0;
	case SIOCGARP:
	case SIOCSARP:
	case SIOCDARP:
		rc = if_ioctl(req, arg, sizeof(struct arpreq));
		return rc ? set_errno(rc) : 0;
	}
	if ((req >= 0x8910 && req <= 0x8970)) { /* SIOC[GS]IF* */
		rc = if_ioctl(req, arg, sizeof(struct ifreq));
		return rc ? set_errno(rc) : 0;
	}
	return set_errno(-ENOTTY);
}

/* ---- /proc/net ---------------------------------------------------------------
 */
/* The absolute, normalised form of path as open would resolve it from
 * dirfd (no symlinks followed except the directory's own name), into buf;
 * false when it cannot be worked out (then the path is not ours). */
static bool abs_path(int dirfd, const char *path, char *buf, size_t size)
{
	char tmp[PATH_MAX * 2], *comp[PATH_MAX / 2], *save = NULL, *t;
	size_t n = 0, off = 0;
	int k;

	if (path[0] == '/') {
		k = snprintf(tmp, sizeof(tmp), "%s", path);
	} else {
		char base[PATH_MAX];

		if (dirfd == AT_FDCWD) {
			if (!getcwd(base, sizeof(base)))
				return false;
		} else {
			char link[64];
			ssize_t m;

			snprintf(link, sizeof(link), "/proc/self/fd/%d", dirfd);
			m = readlink(link, base, sizeof(base) - 1);
			if (m <= 0)
				return false;
			base[m] = 0;
		}
		/* Only what lies under /proc can be ours. */
		if (strncmp(base, "/proc", 5) || (base[5] && base[5] != '/'))
			return false;
		k = snprintf(tmp, sizeof(tmp), "%s/%s", base, path);
	}
	if (k <= 0 || (size_t)k >= sizeof(tmp))
		return false;
	for (t = strtok_r(tmp, "/", &save); t; t = strtok_r(NULL, "/", &save)) {
		if (!strcmp(t, "."))
			continue;
		if (!strcmp(t, "..")) {
			if (n)
				n--;
			continue;
		}
		if (n == sizeof(comp) / sizeof(comp[0]))
			return false;
		comp[n++] = t;
	}
	buf[0] = 0;
	for (size_t i = 0; i < n; i++) {
		k = snprintf(buf + off, size - off, "/%s", comp[i]);
		if (k <= 0 || (size_t)k >= size - off)
			return false;
		off += (size_t)k;
	}
	if (!n)
		snprintf(buf, size, "/");
	return true;
}

/* A file of the vimage's /proc/net (/proc/net, /proc/self/net,
 * /proc/thread-self/net, /proc/PID/net): its name; PROCNET_OTHER for
 * anything deeper (never the host's), NULL when the path is not under
 * such a directory or is the directory itself. */
static const char PROCNET_OTHER[] = "";

static const char *procnet_name(int dirfd, const char *path, char *buf,
				size_t size)
{
	const char *p;

	if (!g.active || !path)
		return NULL;
	/* Cheap refusals first: open is called a lot. */
	if (path[0] == '/' && strncmp(path, "/proc/", 6))
		return NULL;
	if (!abs_path(dirfd, path, buf, size) || strncmp(buf, "/proc/", 6))
		return NULL;
	p = buf + 6;
	if (!strncmp(p, "net/", 4))
		p += 4;
	else if (!strncmp(p, "self/net/", 9))
		p += 9;
	else if (!strncmp(p, "thread-self/net/", 16))
		p += 16;
	else if (*p >= '0' && *p <= '9') {
		while (*p >= '0' && *p <= '9')
			p++;
		if (strncmp(p, "/net/", 5))
			return NULL;
		p += 5;
	} else {
		return NULL;
	}
	return strchr(p, '/') ? PROCNET_OTHER : p;
}

/* The vimage's version of the file, as an anonymous file positioned at
 * its start. */
static int procnet_open(const char *name, int flags)
{
	struct ctl_buf b;
	struct ctl_attr a;
	struct rpc r;
	int rc, fd;

	if ((flags & O_ACCMODE) != O_RDONLY)
		return set_errno(-EACCES);
	if (name == PROCNET_OTHER)
		return set_errno(-ENOENT);
	if (flags & O_DIRECTORY)
		return set_errno(-ENOTDIR);
	req_begin(&b, CTL_T_PROCNET, NULL);
	ctl_put_str(&b, CTL_A_KEY, name);
	rc = rpc(&b, &r);
	ctl_buf_free(&b);
	if (rc || !rattr(&r, CTL_A_BLOB, &a)) {
		rpc_done(&r);
		return set_errno(rc ? rc : -EPROTO);
	}
	fd = memfd_create(name, (flags & O_CLOEXEC) ? MFD_CLOEXEC : 0);
	if (fd >= 0) {
		size_t off = 0;

		while (off < a.len) {
			ssize_t n = g.r.write(fd, a.val + off, a.len - off);

			if (n <= 0)
				break;
			off += (size_t)n;
		}
		lseek(fd, 0, SEEK_SET);
	}
	rpc_done(&r);
	if (fd >= 0) {
		/* Read-only, as the real file: reopen the memfd so. */
		char link[64];
		int ro;

		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		ro = g.r.open(link,
			      O_RDONLY | (flags & O_CLOEXEC ? O_CLOEXEC : 0));
		g.r.close(fd);
		fd = ro;
	}
	if (fd >= 0 && fd < TABLE_MAX)
		pfd_clear(fd);
	return fd;
}

static int open_common(int dirfd, const char *path, int flags, mode_t mode,
		       bool at)
{
	char buf[PATH_MAX];
	const char *name = procnet_name(at ? dirfd : AT_FDCWD, path, buf,
					sizeof(buf));

	if (name)
		return procnet_open(name, flags);
	if (at)
		return g.r.openat(dirfd, path, flags, mode);
	return g.r.open(path, flags, mode);
}

static mode_t open_mode(int flags, va_list ap)
{
	return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE
		   ? (mode_t)va_arg(ap, int)
		   : 0;
}

EXPORT int open(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	ENSURE();
	va_start(ap, flags);
	mode = open_mode(flags, ap);
	va_end(ap);
	return open_common(AT_FDCWD, path, flags, mode, false);
}

EXPORT int open64(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	ENSURE();
	va_start(ap, flags);
	mode = open_mode(flags, ap);
	va_end(ap);
	return open_common(AT_FDCWD, path, flags, mode, false);
}

EXPORT int openat(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	ENSURE();
	va_start(ap, flags);
	mode = open_mode(flags, ap);
	va_end(ap);
	return open_common(dirfd, path, flags, mode, true);
}

EXPORT int openat64(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	ENSURE();
	va_start(ap, flags);
	mode = open_mode(flags, ap);
	va_end(ap);
	return open_common(dirfd, path, flags, mode, true);
}

int __open_2(const char *path, int flags);
int __open64_2(const char *path, int flags);
int __openat_2(int dirfd, const char *path, int flags);
int __openat64_2(int dirfd, const char *path, int flags);

EXPORT int __open_2(const char *path, int flags)
{
	ENSURE();
	return open_common(AT_FDCWD, path, flags, 0, false);
}

EXPORT int __open64_2(const char *path, int flags)
{
	ENSURE();
	return open_common(AT_FDCWD, path, flags, 0, false);
}

EXPORT int __openat_2(int dirfd, const char *path, int flags)
{
	ENSURE();
	return open_common(dirfd, path, flags, 0, true);
}

EXPORT int __openat64_2(int dirfd, const char *path, int flags)
{
	ENSURE();
	return open_common(dirfd, path, flags, 0, true);
}

/* glibc's fopen opens with an internal call: the stream is made here. */
static FILE *fopen_common(const char *path, const char *mode, bool is64)
{
	char buf[PATH_MAX];
	const char *name = procnet_name(AT_FDCWD, path, buf, sizeof(buf));
	int fd;
	FILE *f;

	if (!name) {
		FILE *(*real)(const char *, const char *) =
		    is64 ? g.r.fopen64 : g.r.fopen;

		return real(path, mode);
	}
	if (strchr(mode, 'w') || strchr(mode, 'a') || strchr(mode, '+')) {
		errno = EACCES;
		return NULL;
	}
	fd = procnet_open(name, strchr(mode, 'e') ? O_CLOEXEC : 0);
	if (fd < 0)
		return NULL;
	f = fdopen(fd, "r");
	if (!f)
		g.r.close(fd);
	return f;
}

EXPORT FILE *fopen(const char *path, const char *mode)
{
	ENSURE();
	return fopen_common(path, mode, false);
}

EXPORT FILE *fopen64(const char *path, const char *mode)
{
	ENSURE();
	return fopen_common(path, mode, true);
}

/* ---- interfaces ------------------------------------------------------------
 */
/* The vimage's interfaces as vimaged lists them (verbose). */
static int list_self(struct rpc *r)
{
	struct ctl_buf b;
	int rc;

	ctl_buf_init(&b, CTL_REQ_MAX);
	ctl_msg_begin(&b, CTL_T_LIST, CTL_F_VERBOSE, ++g.seq);
	ctl_put_str(&b, CTL_A_NAME, g.name);
	rc = rpc(&b, r);
	ctl_buf_free(&b);
	return rc;
}

struct ifa_block {
	struct ifaddrs ifa;
	union {
		struct sockaddr_in in;
		struct sockaddr_ll ll;
	} addr, mask, brd;
	char name[IF_NAMESIZE];
	struct rtnl_link_stats data;
};

EXPORT int getifaddrs(struct ifaddrs **out)
{
	struct rpc r;
	struct ctl_attr vi, ifa, x;
	struct ifaddrs *head = NULL, **tail = &head;
	size_t pos = 0;
	int rc;

	ENSURE();
	if (!g.active) {
		int (*real)(struct ifaddrs **) = sym("getifaddrs");

		return real(out);
	}
	rc = list_self(&r);
	if (rc || !rattr(&r, CTL_A_VIMAGE, &vi)) {
		rpc_done(&r);
		return set_errno(rc ? rc : -ENOENT);
	}
	while (ctl_attr_next(vi.val, vi.len, &pos, &ifa)) {
		char name[IF_NAMESIZE] = "";
		uint32_t flags = 0;
		uint8_t mac[6] = {0};
		struct rtnl_link_stats st = {0};
		struct ifa_block *blk;
		size_t ap = 0;

		if (ifa.type != CTL_A_IF)
			continue;
		if (ctl_attr_find(ifa.val, ifa.len, CTL_A_IFNAME, &x))
			ctl_attr_str(&x, name, sizeof(name));
		if (ctl_attr_find(ifa.val, ifa.len, CTL_A_FLAGS, &x))
			flags = ctl_attr_u32(&x);
		if (ctl_attr_find(ifa.val, ifa.len, CTL_A_MAC, &x))
			memcpy(mac, x.val, 6);
		if (ctl_attr_find(ifa.val, ifa.len, CTL_A_RX_PACKETS, &x))
			st.rx_packets = (uint32_t)ctl_attr_u64(&x);
		if (ctl_attr_find(ifa.val, ifa.len, CTL_A_TX_PACKETS, &x))
			st.tx_packets = (uint32_t)ctl_attr_u64(&x);
		if (ctl_attr_find(ifa.val, ifa.len, CTL_A_RX_BYTES, &x))
			st.rx_bytes = (uint32_t)ctl_attr_u64(&x);
		if (ctl_attr_find(ifa.val, ifa.len, CTL_A_TX_BYTES, &x))
			st.tx_bytes = (uint32_t)ctl_attr_u64(&x);
		/* The link itself (AF_PACKET), as glibc lists it. */
		blk = calloc(1, sizeof(*blk));
		if (!blk)
			break;
		memcpy(blk->name, name, sizeof(name));
		blk->ifa.ifa_name = blk->name;
		blk->ifa.ifa_flags = flags;
		blk->addr.ll.sll_family = AF_PACKET;
		blk->addr.ll.sll_halen = 6;
		memcpy(blk->addr.ll.sll_addr, mac, 6);
		blk->ifa.ifa_addr = (struct sockaddr *)&blk->addr;
		blk->data = st;
		blk->ifa.ifa_data = &blk->data;
		*tail = &blk->ifa;
		tail = &blk->ifa.ifa_next;
		while (ctl_attr_next(ifa.val, ifa.len, &ap, &x)) {
			struct ctl_attr y;
			uint32_t a4 = 0, m = 0;
			unsigned plen = 0;

			if (x.type != CTL_A_ADDR)
				continue;
			if (ctl_attr_find(x.val, x.len, CTL_A_ADDR4, &y))
				a4 = ctl_attr_addr4(&y);
			if (ctl_attr_find(x.val, x.len, CTL_A_PLEN, &y))
				plen = ctl_attr_u8(&y);
			m = plen ? ~0u << (32 - plen) : 0;
			blk = calloc(1, sizeof(*blk));
			if (!blk)
				break;
			memcpy(blk->name, name, sizeof(name));
			blk->ifa.ifa_name = blk->name;
			blk->ifa.ifa_flags = flags;
			blk->addr.in.sin_family = AF_INET;
			blk->addr.in.sin_addr.s_addr = htonl(a4);
			blk->mask.in.sin_family = AF_INET;
			blk->mask.in.sin_addr.s_addr = htonl(m);
			blk->ifa.ifa_addr = (struct sockaddr *)&blk->addr;
			blk->ifa.ifa_netmask = (struct sockaddr *)&blk->mask;
			if (flags & IFF_BROADCAST) {
				blk->brd.in.sin_family = AF_INET;
				blk->brd.in.sin_addr.s_addr = htonl(a4 | ~m);
				blk->ifa.ifa_broadaddr =
				    (struct sockaddr *)&blk->brd;
			}
			*tail = &blk->ifa;
			tail = &blk->ifa.ifa_next;
		}
	}
	rpc_done(&r);
	*out = head;
	return 0;
}

EXPORT void freeifaddrs(struct ifaddrs *ifa)
{
	ENSURE();
	if (!g.active) {
		void (*real)(struct ifaddrs *) = sym("freeifaddrs");

		real(ifa);
		return;
	}
	while (ifa) {
		struct ifaddrs *nx = ifa->ifa_next;

		free(ifa); /* the first member of its block */
		ifa = nx;
	}
}

EXPORT unsigned if_nametoindex(const char *name)
{
	struct ifreq ifr;

	ENSURE();
	if (!g.active) {
		unsigned (*real)(const char *) = sym("if_nametoindex");

		return real(name);
	}
	memset(&ifr, 0, sizeof(ifr));
	if (!name || strlen(name) >= IFNAMSIZ)
		return (unsigned)set_errno(-ENODEV) + 1;
	strcpy(ifr.ifr_name, name);
	if (if_ioctl(SIOCGIFINDEX, &ifr, sizeof(ifr))) {
		errno = ENODEV;
		return 0;
	}
	return (unsigned)ifr.ifr_ifindex;
}

EXPORT char *if_indextoname(unsigned index, char buf[IF_NAMESIZE])
{
	struct ifreq ifr;

	ENSURE();
	if (!g.active) {
		char *(*real)(unsigned, char *) = sym("if_indextoname");

		return real(index, buf);
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_ifindex = (int)index;
	if (if_ioctl(SIOCGIFNAME, &ifr, sizeof(ifr))) {
		errno = ENXIO;
		return NULL;
	}
	memcpy(buf, ifr.ifr_name, IFNAMSIZ);
	buf[IFNAMSIZ - 1] = 0;
	return buf;
}

EXPORT struct if_nameindex *if_nameindex(void)
{
	struct ifaddrs *ifa, *x;
	struct if_nameindex *v;
	size_t n = 0, i = 0;

	ENSURE();
	if (!g.active) {
		struct if_nameindex *(*real)(void) = sym("if_nameindex");

		return real();
	}
	if (getifaddrs(&ifa))
		return NULL;
	for (x = ifa; x; x = x->ifa_next)
		n += x->ifa_addr && x->ifa_addr->sa_family == AF_PACKET;
	v = calloc(n + 1, sizeof(*v) + IF_NAMESIZE);
	if (v) {
		char *names = (char *)(v + n + 1);

		for (x = ifa; x; x = x->ifa_next) {
			if (!x->ifa_addr || x->ifa_addr->sa_family != AF_PACKET)
				continue;
			memcpy(names + i * IF_NAMESIZE, x->ifa_name,
			       IF_NAMESIZE);
			v[i].if_name = names + i * IF_NAMESIZE;
			v[i].if_index = if_nametoindex(x->ifa_name);
			i++;
		}
	}
	freeifaddrs(ifa);
	return v;
}

EXPORT void if_freenameindex(struct if_nameindex *v)
{
	ENSURE();
	if (!g.active) {
		void (*real)(struct if_nameindex *) = sym("if_freenameindex");

		real(v);
		return;
	}
	free(v);
}
