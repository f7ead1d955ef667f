/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vimaged: the daemon that hosts a world of vimages and drives it in real
 * time. One epoll loop: the control socket, its clients, a signalfd, and a
 * timeout at the world's next deadline (or a pending ping's).
 *
 * The control socket is per user: only the daemon's own uid and root may
 * talk to it (SO_PEERCRED). Clients are non-blocking with bounded buffers;
 * a malformed message gets an error reply, and a client whose framing is
 * lost (bad header) is disconnected after it, so nothing a client sends can
 * block or crash the daemon.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"

static const char *const level_names[] = {"error", "warn", "info", "debug"};

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The world's clock: monotonic, so it never goes back, but offset to read
 * as the wall clock at start, so that capture timestamps make sense. */
uint64_t daemon_now(const struct daemon *d)
{
	return clock_ns(CLOCK_MONOTONIC) + d->clock_off;
}

static void log_line(FILE *f, int level, const char *vi, const char *msg)
{
	struct timespec ts;
	struct tm tm;
	char when[32];

	if (!f)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
	fprintf(f, "%s.%03ld vimaged[%d] %s: %s%s%s%s\n", when,
		ts.tv_nsec / 1000000, (int)getpid(),
		level_names[level < 0	? 0
			    : level > 3 ? 3
					: level],
		vi ? "[" : "", vi ? vi : "", vi ? "] " : "", msg);
	fflush(f);
}

void daemon_log(struct daemon *d, int level, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (level > d->log_level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_line(d->log, level, NULL, msg);
}

/* The world's log: per-vimage levels are applied by the core. */
static void world_log(void *ctx, int level, const struct vimage *vi,
		      const char *msg)
{
	struct daemon *d = ctx;

	log_line(d->log, level, vi ? vimage_name(vi) : NULL, msg);
}

/* ---- clients ---------------------------------------------------------------
 */
static void client_close(struct daemon *d, struct client *c)
{
	for (struct client **pp = &d->clients; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	ops_client_gone(d, c);
	if (c->passed_fd >= 0)
		close(c->passed_fd);
	c->passed_fd = -1;
	epoll_ctl(d->ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
	free(c->in);
	free(c->out);
	c->in = c->out = NULL;
	d->nclients--;
	/* Freed after the batch: later events of it may name it. */
	c->next = d->dead_clients;
	d->dead_clients = c;
}

static void clients_reap(struct daemon *d)
{
	while (d->dead_clients) {
		struct client *c = d->dead_clients;

		d->dead_clients = c->next;
		free(c);
	}
}

/* Watch for input only while it can be consumed (not while a deferred
 * reply is pending, the buffer is full or the client is closing): epoll is
 * level-triggered, so unread input would otherwise spin the loop. */
static void client_events(struct daemon *d, struct client *c)
{
	struct epoll_event ev = {.events = 0, .data.ptr = c};

	if (!c->closing && !c->waiting && !c->eof && c->in_len < CTL_REQ_MAX)
		ev.events |= EPOLLIN;
	if (c->out_off < c->out_len)
		ev.events |= EPOLLOUT;
	if (ev.events == c->events)
		return;
	epoll_ctl(d->ep, EPOLL_CTL_MOD, c->fd, &ev);
	c->events = ev.events;
}

/* Write what the socket takes; false when the client is gone. */
static bool client_flush(struct daemon *d, struct client *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n =
		    send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
			 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			client_events(d, c);
			return true;
		}
		if (n <= 0)
			return false;
		c->out_off += (size_t)n;
	}
	c->out_off = c->out_len = 0;
	client_events(d, c);
	return !c->closing;
}

void client_send(struct daemon *d, struct client *c, const uint8_t *buf,
		 size_t len)
{
	uint8_t *p;

	if (c->out_off) {
		memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
		c->out_len -= c->out_off;
		c->out_off = 0;
	}
	if (len > CLIENT_OUT_MAX - c->out_len) {
		daemon_log(d, VLOG_WARN,
			   "client pid %d does not read its replies; dropped",
			   (int)c->pid);
		c->closing = true;
		c->out_len = 0;
		return;
	}
	p = realloc(c->out, c->out_len + len);
	if (!p) {
		c->closing = true;
		return;
	}
	c->out = p;
	memcpy(c->out + c->out_len, buf, len);
	c->out_len += len;
}

int client_send_fd(struct daemon *d, struct client *c, const uint8_t *buf,
		   size_t len, int fd)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int))];
	} cm;
	struct iovec iov = {(void *)buf, len};
	struct msghdr mh = {.msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = cm.b,
			    .msg_controllen = sizeof(cm.b)};
	ssize_t n;

	/* A descriptor travels with the first byte of its reply; a client
	 * with replies still queued is pipelining, which the socket service
	 * does not do. */
	if (c->out_off < c->out_len || c->closing) {
		close(fd);
		return -EBUSY;
	}
	memset(&cm, 0, sizeof(cm));
	cm.h.cmsg_level = SOL_SOCKET;
	cm.h.cmsg_type = SCM_RIGHTS;
	cm.h.cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(&cm.h), &fd, sizeof(int));
	do
		n = sendmsg(c->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	close(fd);
	if (n <= 0) {
		c->closing = true;
		return n < 0 ? -errno : -EIO;
	}
	if ((size_t)n < len)
		client_send(d, c, buf + n, len - (size_t)n);
	return 0;
}

/* Handle the complete messages in the input buffer. */
static void client_process(struct daemon *d, struct client *c)
{
	size_t off = 0;
	char err[CTL_ERRMSG_MAX];

	while (!c->closing && !c->waiting && !d->stop) {
		struct ctl_hdr h;
		struct ctl_msg m;
		int rc;

		rc = ctl_hdr_parse(c->in + off, c->in_len - off, CTL_REQ_MAX,
				   &h, err, sizeof(err));
		if (rc == -EAGAIN)
			break;
		if (rc) {
			/* The framing is lost: answer and hang up. */
			daemon_log(d, VLOG_INFO,
				   "client pid %d: bad message: %s",
				   (int)c->pid, err);
			ops_reply_error(
			    d, c, 0,
			    rc == -EBADMSG && h.magic != CTL_MAGIC ? 0 : h.id,
			    rc, err);
			c->closing = true;
			break;
		}
		if (c->in_len - off < h.length)
			break;
		rc = ctl_msg_parse(c->in + off, h.length, CTL_REQ_MAX, true, &m,
				   err, sizeof(err));
		if (rc) {
			daemon_log(d, VLOG_INFO,
				   "client pid %d: malformed %s request: %s",
				   (int)c->pid, ctl_type_name(h.type), err);
			ops_reply_error(d, c, h.type < CTL_T_MAX_ ? h.type : 0,
					h.id, rc, err);
		} else {
			ops_dispatch(d, c, &m);
		}
		/* A descriptor belongs to the message it came with: one the
		 * request did not take is not kept. */
		if (c->passed_fd >= 0) {
			close(c->passed_fd);
			c->passed_fd = -1;
		}
		off += h.length;
	}
	if (off) {
		memmove(c->in, c->in + off, c->in_len - off);
		c->in_len -= off;
	}
}

static void client_readable(struct daemon *d, struct client *c)
{
	for (;;) {
		ssize_t n;

		if (c->in_len == CTL_REQ_MAX) {
			/* A full buffer is one maximal message waiting for
			 * a deferred reply; read again later. */
			break;
		}
		{
			/* A request may bring one descriptor (a TAP device
			 * opened by a privileged vimage(8)); more are closed. */
			union {
				struct cmsghdr h;
				char b[CMSG_SPACE(4 * sizeof(int))];
			} cm;
			struct iovec iov = {c->in + c->in_len,
					    CTL_REQ_MAX - c->in_len};
			struct msghdr mh = {.msg_iov = &iov,
					    .msg_iovlen = 1,
					    .msg_control = cm.b,
					    .msg_controllen = sizeof(cm.b)};

			n = recvmsg(c->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
			for (struct cmsghdr *h = n > 0 ? CMSG_FIRSTHDR(&mh)
						       : NULL;
			     h; h = CMSG_NXTHDR(&mh, h)) {
				size_t k;

				if (h->cmsg_level != SOL_SOCKET ||
				    h->cmsg_type != SCM_RIGHTS)
					continue;
				k = (h->cmsg_len - CMSG_LEN(0)) / sizeof(int);
				for (size_t i = 0; i < k; i++) {
					int fd;

					memcpy(&fd,
					       CMSG_DATA(h) + i * sizeof(int),
					       sizeof(int));
					if (c->passed_fd >= 0)
						close(c->passed_fd);
					c->passed_fd = fd;
				}
			}
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n < 0) {
			client_close(d, c);
			return;
		}
		if (n == 0) {
			/* End of input: the replies already queued (or
			 * deferred) still go out, then the client is closed. */
			c->eof = true;
			if (!c->waiting)
				c->closing = true;
			break;
		}
		c->in_len += (size_t)n;
		client_process(d, c);
		if (c->closing)
			break;
	}
	if (!client_flush(d, c))
		client_close(d, c);
}

static void accept_clients(struct daemon *d)
{
	for (;;) {
		struct ucred cred;
		socklen_t cl = sizeof(cred);
		struct client *c;
		int fd;

		fd = accept4(d->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) ||
		    (cred.uid != d->uid && cred.uid != 0) ||
		    d->nclients >= CLIENTS_MAX) {
			struct client tmp = {.fd = fd};
			char msg[160];
			bool full = d->nclients >= CLIENTS_MAX;

			snprintf(msg, sizeof(msg),
				 full ? "too many clients (%u)"
				      : "permission denied: uid %u may not "
					"use the vimaged of uid %u",
				 full ? d->nclients : (unsigned)cred.uid,
				 (unsigned)d->uid);
			daemon_log(d, VLOG_WARN, "refused a client: %s", msg);
			ops_reply_error(d, &tmp, 0, 0, full ? -EAGAIN : -EACCES,
					msg);
			if (tmp.out_len)
				send(fd, tmp.out, tmp.out_len,
				     MSG_NOSIGNAL | MSG_DONTWAIT);
			free(tmp.out);
			close(fd);
			continue;
		}
		c = calloc(1, sizeof(*c));
		if (c)
			c->in = malloc(CTL_REQ_MAX);
		if (!c || !c->in) {
			if (c)
				free(c);
			close(fd);
			continue;
		}
		c->kind = EPK_CLIENT;
		c->passed_fd = -1;
		c->fd = fd;
		c->uid = cred.uid;
		c->pid = cred.pid;
		{
			struct epoll_event ev = {.events = EPOLLIN,
						 .data.ptr = c};

			c->events = EPOLLIN;
			epoll_ctl(d->ep, EPOLL_CTL_ADD, fd, &ev);
		}
		c->next = d->clients;
		d->clients = c;
		d->nclients++;
		daemon_log(d, VLOG_DEBUG, "client pid %d uid %u connected",
			   (int)c->pid, (unsigned)c->uid);
	}
}

/* ---- the socket ------------------------------------------------------------
 */
/* The default directory is made here with 0700 and must be ours. */
static int runtime_dir(const char *dir)
{
	struct stat st;

	if (mkdir(dir, 0700) && errno != EEXIST) {
		fprintf(stderr, "vimaged: cannot create %s: %s\n", dir,
			strerror(errno));
		return -1;
	}
	if (lstat(dir, &st)) {
		fprintf(stderr, "vimaged: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode) || st.st_uid != getuid() ||
	    (st.st_mode & 077)) {
		fprintf(stderr,
			"vimaged: %s must be a directory owned by uid %u with "
			"mode 0700 (it is %s, uid %u, mode %04o)\n",
			dir, (unsigned)getuid(),
			S_ISDIR(st.st_mode) ? "a directory" : "not a directory",
			(unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
		return -1;
	}
	return 0;
}

/* The socket path: --socket, $VIMAGE_SOCKET, $XDG_RUNTIME_DIR/vimage/ctl or
 * /tmp/vimage-$UID/ctl. The same rule as vimage(8). */
static int socket_path(const char *opt, char *buf, size_t size)
{
	const char *env = getenv("VIMAGE_SOCKET");
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int n;

	if (opt || (env && *env)) {
		n = snprintf(buf, size, "%s", opt ? opt : env);
		return n > 0 && (size_t)n < size ? 0 : -1;
	}
	if (xdg && *xdg)
		n = snprintf(dir, sizeof(dir), "%s/vimage", xdg);
	else
		n = snprintf(dir, sizeof(dir), "/tmp/vimage-%u",
			     (unsigned)getuid());
	if (n <= 0 || (size_t)n >= sizeof(dir) || runtime_dir(dir))
		return -1;
	n = snprintf(buf, size, "%s/ctl", dir);
	return n > 0 && (size_t)n < size ? 0 : -1;
}

static int listen_socket(struct daemon *d)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct stat st;
	mode_t old;
	int fd;

	if (strlen(d->sock_path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "vimaged: socket path too long: %s\n",
			d->sock_path);
		return -1;
	}
	strcpy(sa.sun_path, d->sock_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (lstat(d->sock_path, &st) == 0) {
		int probe;

		if (!S_ISSOCK(st.st_mode)) {
			fprintf(stderr,
				"vimaged: %s exists and is not a socket\n",
				d->sock_path);
			goto fail;
		}
		probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (probe >= 0 &&
		    connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			close(probe);
			fprintf(stderr,
				"vimaged: a daemon already listens on %s\n",
				d->sock_path);
			goto fail;
		}
		if (probe >= 0)
			close(probe);
		unlink(d->sock_path); /* stale, from a daemon that died */
	}
	old = umask(0177);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		umask(old);
		fprintf(stderr, "vimaged: cannot bind %s: %s\n", d->sock_path,
			strerror(errno));
		goto fail;
	}
	umask(old);
	chmod(d->sock_path, 0600);
	if (listen(fd, 64) || stat(d->sock_path, &st)) {
		fprintf(stderr, "vimaged: cannot listen on %s: %s\n",
			d->sock_path, strerror(errno));
		unlink(d->sock_path);
		goto fail;
	}
	d->sock_dev = st.st_dev;
	d->sock_ino = st.st_ino;
	d->lfd = fd;
	return 0;
fail:
	close(fd);
	return -1;
}

/* Unlink the socket only if it is still ours. */
static void unlink_socket(struct daemon *d)
{
	struct stat st;

	if (lstat(d->sock_path, &st) == 0 && st.st_dev == d->sock_dev &&
	    st.st_ino == d->sock_ino)
		unlink(d->sock_path);
}

/* Double fork and setsid; the original process exits 0 once the socket is
 * listening (it is bound before this), so a client may connect at once. */
static int daemonize(void)
{
	pid_t pid;
	int fd;

	pid = fork();
	if (pid < 0)
		return -1;
	if (pid > 0)
		_exit(0);
	if (setsid() < 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid > 0)
		_exit(0);
	if (chdir("/"))
		return -1;
	fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (fd >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
	return 0;
}

/* ---- the loop --------------------------------------------------------------
 */
static int timeout_ms(uint64_t next, uint64_t now)
{
	if (next <= now)
		return 0;
	if (next - now >= 1000000000ull)
		return 1000;
	return (int)((next - now + 999999) / 1000000);
}

static void run(struct daemon *d)
{
	struct epoll_event evs[64];
	uint64_t next, pnext;
	int n;

	while (!d->stop) {
		world_advance(d->w, daemon_now(d));
		pnext = ops_pings_run(d);
		world_advance(d->w, daemon_now(d));
		ss_run(d);
		next = world_next_deadline(d->w);
		if (pnext < next)
			next = pnext;
		/* A deferred reply queued just now goes out without waiting
		 * for the next event. */
		n = epoll_wait(d->ep, evs, 64,
			       d->clients_rescan ? 0
						 : timeout_ms(next, daemon_now(d)));
		if (n < 0 && errno != EINTR) {
			daemon_log(d, VLOG_ERR, "epoll_wait: %s",
				   strerror(errno));
			break;
		}
		world_advance(d->w, daemon_now(d));
		for (int i = 0; i < n; i++) {
			void *p = evs[i].data.ptr;

			if (p == &d->lfd) {
				accept_clients(d);
			} else if (p == &d->sigfd) {
				struct signalfd_siginfo si;

				if (read(d->sigfd, &si, sizeof(si)) ==
				    sizeof(si)) {
					daemon_log(d, VLOG_INFO,
						   "signal %u: shutting down",
						   si.ssi_signo);
					d->stop = true;
				}
			} else if (*(int *)p == EPK_SSOCK) {
				ss_event(d, p, evs[i].events);
			} else if (*(int *)p == EPK_TAP) {
				ops_tap_input(d, p);
			} else {
				struct client *c = p;

				/* The client may have been closed by an
				 * earlier event of this batch. */
				if (c->fd < 0)
					continue;
				if (evs[i].events & EPOLLIN)
					client_readable(d, c);
				else if (evs[i].events & (EPOLLERR | EPOLLHUP))
					client_close(d, c);
				else if (!client_flush(d, c))
					client_close(d, c);
			}
		}
		/* Deferred replies were queued outside client_readable;
		 * input held back while one was pending may now be handled.
		 * Only then: with many programs attached, a walk of every
		 * client per event would cost more than the event. */
		for (struct client *c = d->clients_rescan ? d->clients : NULL,
				   *nx;
		     c; c = nx) {
			nx = c->next;
			if (!c->waiting && c->in_len && !c->closing)
				client_process(d, c);
			if (c->eof && !c->waiting)
				c->closing = true;
			if ((c->out_len || c->closing) && !client_flush(d, c))
				client_close(d, c);
			else
				client_events(d, c);
		}
		d->clients_rescan = false;
		ss_run(d);
		ss_reap(d);
		clients_reap(d);
		ops_taps_reap(d);
	}
	/* Give the shutdown reply its chance to leave. */
	for (struct client *c = d->clients; c; c = c->next)
		client_flush(d, c);
}

static void usage(FILE *f)
{
	fprintf(
	    f, "usage: vimaged [options]\n"
	       "Host a world of vimages (user-space network stacks) and serve "
	       "the control\nsocket that vimage(8) talks to.\n\n"
	       "  -F, --foreground      stay in the foreground, log to stderr\n"
	       "  -s, --socket PATH     control socket (default: "
	       "$VIMAGE_SOCKET, else\n"
	       "                        $XDG_RUNTIME_DIR/vimage/ctl, else "
	       "/tmp/vimage-$UID/ctl)\n"
	       "  -L, --log-level LVL   error, warn, info or debug (default "
	       "warn)\n"
	       "  -o, --log-file PATH   log here (default in the background: "
	       "vimaged.log\n"
	       "                        beside the socket)\n"
	       "  -h, --help            this text\n\n"
	       "SIGTERM or SIGINT stop it cleanly: the world is destroyed and "
	       "the socket\nremoved. See vimaged(8).\n");
}

static int parse_level(const char *s)
{
	for (int i = 0; i < 4; i++)
		if (!strcmp(s, level_names[i]))
			return i;
	if (s[0] >= '0' && s[0] <= '3' && !s[1])
		return s[0] - '0';
	return -1;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"foreground", no_argument, NULL, 'F'},
	    {"socket", required_argument, NULL, 's'},
	    {"log-level", required_argument, NULL, 'L'},
	    {"log-file", required_argument, NULL, 'o'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct daemon d = {
	    .lfd = -1, .sigfd = -1, .ep = -1, .log_level = VLOG_WARN};
	const char *sock_opt = NULL, *log_file = NULL;
	bool foreground = false;
	char logpath[sizeof(d.sock_path) + 16];
	sigset_t mask;
	int c, rc = 1;

	while ((c = getopt_long(argc, argv, "Fs:L:o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'F':
			foreground = true;
			break;
		case 's':
			sock_opt = optarg;
			break;
		case 'o':
			log_file = optarg;
			break;
		case 'L':
			d.log_level = parse_level(optarg);
			if (d.log_level < 0) {
				fprintf(stderr,
					"vimaged: bad log level '%s' (error, "
					"warn, info, debug)\n",
					optarg);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "vimaged: unexpected argument '%s'\n",
			argv[optind]);
		return 2;
	}
	d.uid = getuid();
	d.clock_off = clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_MONOTONIC);
	if (socket_path(sock_opt, d.sock_path, sizeof(d.sock_path))) {
		fprintf(stderr, "vimaged: no usable socket path\n");
		return 1;
	}
	if (listen_socket(&d))
		return 1;
	if (log_file || !foreground) {
		if (!log_file) {
			char *slash;

			snprintf(logpath, sizeof(logpath), "%s", d.sock_path);
			slash = strrchr(logpath, '/');
			if (slash)
				strcpy(slash + 1, "vimaged.log");
			else
				strcpy(logpath, "vimaged.log");
			log_file = logpath;
		}
		d.log = fopen(log_file, "ae");
		if (!d.log) {
			fprintf(stderr, "vimaged: cannot open log %s: %s\n",
				log_file, strerror(errno));
			goto out;
		}
	} else {
		d.log = stderr;
	}
	if (!foreground && daemonize()) {
		daemon_log(&d, VLOG_ERR, "cannot daemonize: %s",
			   strerror(errno));
		goto out;
	}
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	d.sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	d.ep = epoll_create1(EPOLL_CLOEXEC);
	if (d.sigfd < 0 || d.ep < 0)
		goto out;
	{
		struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &d.lfd};

		epoll_ctl(d.ep, EPOLL_CTL_ADD, d.lfd, &ev);
		ev.data.ptr = &d.sigfd;
		epoll_ctl(d.ep, EPOLL_CTL_ADD, d.sigfd, &ev);
	}
	{
		struct world_config cfg = {
		    .seed = daemon_now(&d) ^ (uint64_t)getpid() << 32,
		    .start_ns = daemon_now(&d),
		    .log_fn = world_log,
		    .log_ctx = &d,
		};

		if (world_create(&cfg, &d.w) || ss_init(&d)) {
			daemon_log(&d, VLOG_ERR, "cannot create the world");
			goto out;
		}
	}
	daemon_log(&d, VLOG_INFO, "listening on %s (uid %u)", d.sock_path,
		   (unsigned)d.uid);
	run(&d);
	rc = 0;
out:
	while (d.clients)
		client_close(&d, d.clients);
	clients_reap(&d);
	ops_cleanup(&d);
	if (d.ss_hash)
		ss_fini(&d);
	if (d.w)
		world_destroy(d.w);
	if (d.lfd >= 0) {
		close(d.lfd);
		unlink_socket(&d);
	}
	if (d.sigfd >= 0)
		close(d.sigfd);
	if (d.ep >= 0)
		close(d.ep);
	daemon_log(&d, VLOG_INFO, "stopped");
	if (d.log && d.log != stderr)
		fclose(d.log);
	return rc;
}
