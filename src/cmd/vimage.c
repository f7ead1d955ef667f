/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vimage(8): manage the vimages of a vimaged, with the verbs of the
 * original FreeBSD utility (-c, -d, -l, -i, NAME [command]) and long
 * options for scripts. Every operation is one request on the control
 * socket; the daemon is started on demand unless --no-autostart.
 *
 * Exit codes: 0 ok, 1 the daemon refused or the operation failed, 2 usage
 * error, 3 the daemon is not reachable, 4 the program cannot be run inside
 * a vimage (static, Go). `vimage NAME cmd` execs cmd, so its exit status is
 * cmd's.
 */
#include <arpa/inet.h>
#include <elf.h>
#include <fcntl.h>
#include <sys/xattr.h>
#include <sys/ioctl.h>
#include <net/if.h>
#include <linux/if_tun.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <vimage/ctl.h>

#define VIMAGE_NAME_MAX_ 127

enum { EX_OK = 0, EX_FAIL = 1, EX_USAGE = 2, EX_NODAEMON = 3, EX_UNREACHABLE = 4 };

struct opts {
	const char *socket;
	int pass_fd; /* a descriptor to send with the request, or -1 */
	bool autostart, json, recursive, verbose, force;
	bool explicit_path; /* --socket or $VIMAGE_SOCKET, not the default */
	char path[108];
};

static const char usage_text[] =
    "usage: vimage [global options] VERB ...\n"
    "\n"
    "The original verbs:\n"
    "  vimage -c NAME                 create a vimage (a.b needs a)\n"
    "  vimage -d [-f] NAME            destroy a vimage; -f also with "
    "children\n"
    "                                 or processes attached\n"
    "  vimage -l [-r] [-v] [NAME]     list (-r descendants, -v interfaces "
    "and routes)\n"
    "  vimage -i NAME IF [NEWNAME]    move IF from NAME's parent into NAME\n"
    "  vimage NAME [command ...]      run a command inside (default: $SHELL)\n"
    "For scripts:\n"
    "  vimage --ve A:IFA B:IFB [SHAPE] a ve pair, IFA in vimage A, IFB in B,\n"
    "                                 optionally shaped both ways\n"
    "  vimage --shape NAME IF [in|out] SHAPE | off\n"
    "                                 shape a direction (default out); only\n"
    "                                 the parameters given change\n"
    "     SHAPE: rate 10mbit  delay 5ms  jitter 1ms  loss 0.5%  ber 1e-9\n"
    "            duplicate 1%  reorder 2%  limit 100  limit-bytes 150000\n"
    "  vimage --shape-show NAME IF [in|out]  parameters and counters\n"
    "  vimage --bridge NAME BR [IF ...]      make bridge BR, add ports\n"
    "  vimage --bridge-add|--bridge-del NAME BR IF ...\n"
    "  vimage --fdb NAME BR           the bridge's learned addresses\n"
    "  vimage --tap NAME IF TAPDEV    attach Linux TAP device TAPDEV as IF\n"
    "                                 (unprivileged: a TAP made for the user,\n"
    "                                 ip tuntap add dev TAPDEV mode tap user U)\n"
    "  vimage --tap-del NAME IF       detach it\n"
    "  vimage --up NAME IF            set IF up (--down: down)\n"
    "  vimage --addr NAME IF A.B.C.D/LEN       add an IPv4 address\n"
    "  vimage --addr-del NAME IF A.B.C.D/LEN   remove it\n"
    "  vimage --route NAME default|PREFIX [via GW] [dev IF]\n"
    "  vimage --route-del NAME default|PREFIX\n"
    "  vimage --sysctl NAME KEY=VALUE  set a knob (KEY alone: show it;\n"
    "                                 no KEY: show all)\n"
    "  vimage --capture NAME IF FILE  write a pcap of IF to FILE (new file)\n"
    "  vimage --capture-stop NAME IF  stop it\n"
    "  vimage --ping NAME A.B.C.D [COUNT]  echo requests from NAME\n"
    "  vimage --stats [NAME]          counters of NAME or of the daemon\n"
    "  vimage --log-level [NAME] LVL  error|warn|info|debug: the daemon's "
    "log,\n"
    "                                 or NAME's (debug traces its packets)\n"
    "  vimage --status                is the daemon running (never starts "
    "it)\n"
    "  vimage --shutdown              stop the daemon\n"
    "Global options:\n"
    "  --socket PATH    control socket (else $VIMAGE_SOCKET, else\n"
    "                   $XDG_RUNTIME_DIR/vimage/ctl, else "
    "/tmp/vimage-$UID/ctl)\n"
    "  --no-autostart   do not start vimaged when it is not running\n"
    "  --json           machine-readable output (-l, --stats, --sysctl,\n"
    "                   --ping, --status)\n"
    "  -h, --help       this text\n"
    "Exit status: 0 ok, 1 refused or failed, 2 usage error, 3 daemon not\n"
    "reachable, 4 the program cannot run inside a vimage (static or Go).\n"
    "A command run inside exits with its own status. See vimage(8).\n";

static int usage_err(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static int usage_err(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "vimage: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n(vimage --help for usage)\n");
	return EX_USAGE;
}

/* ---- talking to the daemon --------------------------------------------------
 */
static int resolve_path(struct opts *o)
{
	const char *env = getenv("VIMAGE_SOCKET");
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	int n;

	o->explicit_path = o->socket || (env && *env);
	if (o->socket)
		n = snprintf(o->path, sizeof(o->path), "%s", o->socket);
	else if (env && *env)
		n = snprintf(o->path, sizeof(o->path), "%s", env);
	else if (xdg && *xdg)
		n = snprintf(o->path, sizeof(o->path), "%s/vimage/ctl", xdg);
	else
		n = snprintf(o->path, sizeof(o->path), "/tmp/vimage-%u/ctl",
			     (unsigned)getuid());
	return n > 0 && (size_t)n < sizeof(o->path) ? 0 : -1;
}

static int try_connect(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int e = -errno;

		close(fd);
		return e;
	}
	return fd;
}

/* vimaged beside this binary, else from PATH. It forks into the
 * background once its socket listens, so waiting for it is enough. */
static int spawn_daemon(const char *path, bool explicit_path)
{
	char self[PATH_MAX], exe[PATH_MAX + 16];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	const char *prog = "vimaged";
	pid_t pid;
	int status;

	if (n > 0) {
		char *slash;

		self[n] = 0;
		slash = strrchr(self, '/');
		if (slash) {
			*slash = 0;
			snprintf(exe, sizeof(exe), "%s/vimaged", self);
			if (access(exe, X_OK) == 0)
				prog = exe;
		}
	}
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		/* The default path is left to vimaged, which makes its
		 * directory (0700) and checks who owns it. */
		if (explicit_path)
			execlp(prog, "vimaged", "--socket", path, (char *)NULL);
		else
			execlp(prog, "vimaged", (char *)NULL);
		fprintf(stderr, "vimage: cannot run %s: %s\n", prog,
			strerror(errno));
		_exit(127);
	}
	for (int i = 0; i < 500; i++) { /* 5 s */
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			return WIFEXITED(status) && WEXITSTATUS(status) == 0
				   ? 0
				   : -ECHILD;
		usleep(10000);
	}
	return -ETIMEDOUT;
}

static int daemon_connect(struct opts *o, bool autostart)
{
	int fd = try_connect(o->path), rc;

	if (fd >= 0)
		return fd;
	if (!autostart || !o->autostart) {
		fprintf(stderr,
			"vimage: vimaged is not running (cannot connect to "
			"%s: %s)\n",
			o->path, strerror(-fd));
		return -1;
	}
	if (fd != -ENOENT && fd != -ECONNREFUSED) {
		fprintf(stderr, "vimage: cannot connect to %s: %s\n", o->path,
			strerror(-fd));
		return -1;
	}
	rc = spawn_daemon(o->path, o->explicit_path);
	if (rc) {
		fprintf(stderr,
			"vimage: could not start vimaged for %s (%s); see its "
			"log beside the socket\n",
			o->path, strerror(-rc));
		return -1;
	}
	fd = try_connect(o->path);
	if (fd < 0)
		fprintf(stderr,
			"vimage: started vimaged but cannot connect to %s: "
			"%s\n",
			o->path, strerror(-fd));
	return fd < 0 ? -1 : fd;
}

static int read_full(int fd, uint8_t *buf, size_t len, int timeout_ms)
{
	size_t got = 0;

	while (got < len) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t n;

		if (poll(&p, 1, timeout_ms) <= 0)
			return -ETIMEDOUT;
		n = recv(fd, buf + got, len - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -ECONNRESET;
		got += (size_t)n;
	}
	return 0;
}

struct reply {
	uint8_t *buf;
	struct ctl_msg m;
	int err;
	char msg[1100];
};

/* Send a request and wait for its reply. Returns an exit code. */
static int transact(struct opts *o, struct ctl_buf *req, struct reply *r,
		    int timeout_ms, bool autostart)
{
	uint8_t hdr[CTL_HDR_LEN];
	struct ctl_hdr h;
	struct ctl_attr a;
	char err[CTL_ERRMSG_MAX];
	size_t off = 0;
	int fd, rc;

	memset(r, 0, sizeof(*r));
	if (ctl_msg_end(req)) {
		fprintf(stderr, "vimage: request too large\n");
		return EX_USAGE;
	}
	fd = daemon_connect(o, autostart);
	if (fd < 0)
		return EX_NODAEMON;
	while (off < req->len) {
		ssize_t n;

		if (off == 0 && o->pass_fd >= 0) {
			union {
				struct cmsghdr h;
				char b[CMSG_SPACE(sizeof(int))];
			} cm;
			struct iovec iov = {req->data, req->len};
			struct msghdr mh = {.msg_iov = &iov,
					    .msg_iovlen = 1,
					    .msg_control = cm.b,
					    .msg_controllen = sizeof(cm.b)};

			memset(&cm, 0, sizeof(cm));
			cm.h.cmsg_level = SOL_SOCKET;
			cm.h.cmsg_type = SCM_RIGHTS;
			cm.h.cmsg_len = CMSG_LEN(sizeof(int));
			memcpy(CMSG_DATA(&cm.h), &o->pass_fd, sizeof(int));
			n = sendmsg(fd, &mh, MSG_NOSIGNAL);
		} else {
			n = send(fd, req->data + off, req->len - off,
				 MSG_NOSIGNAL);
		}

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr, "vimage: lost vimaged at %s: %s\n",
				o->path, strerror(errno));
			close(fd);
			return EX_NODAEMON;
		}
		off += (size_t)n;
	}
	rc = read_full(fd, hdr, sizeof(hdr), timeout_ms);
	if (!rc)
		rc = ctl_hdr_parse(hdr, sizeof(hdr), CTL_REPLY_MAX, &h, err,
				   sizeof(err));
	if (!rc) {
		r->buf = malloc(h.length);
		if (!r->buf)
			rc = -ENOMEM;
	}
	if (!rc) {
		memcpy(r->buf, hdr, sizeof(hdr));
		rc = read_full(fd, r->buf + CTL_HDR_LEN, h.length - CTL_HDR_LEN,
			       timeout_ms);
	}
	if (!rc)
		rc = ctl_msg_parse(r->buf, h.length, CTL_REPLY_MAX, false,
				   &r->m, err, sizeof(err));
	close(fd);
	if (rc) {
		fprintf(stderr,
			"vimage: bad or no reply from vimaged at %s: %s\n",
			o->path,
			rc == -ETIMEDOUT || rc == -ECONNRESET || rc == -ENOMEM
			    ? strerror(-rc)
			    : err);
		return EX_NODAEMON;
	}
	if (ctl_attr_find(r->m.attrs, r->m.attrs_len, CTL_A_ERRNO, &a))
		r->err = ctl_attr_i32(&a);
	if (ctl_attr_find(r->m.attrs, r->m.attrs_len, CTL_A_MSG, &a))
		ctl_attr_str(&a, r->msg, sizeof(r->msg));
	if (r->err) {
		fprintf(stderr, "vimage: %s\n",
			r->msg[0] ? r->msg : strerror(-r->err));
		return EX_FAIL;
	}
	return EX_OK;
}

/* A request with no output beyond success. */
static int simple(struct opts *o, struct ctl_buf *req)
{
	struct reply r;
	int rc = transact(o, req, &r, 30000, true);

	free(r.buf);
	return rc;
}

/* ---- argument helpers
 * --------------------------------------------------------- */
static int parse_prefix(const char *s, uint32_t *addr, uint8_t *plen,
			bool need_len)
{
	char buf[64], *slash, *end;
	struct in_addr in;
	unsigned long l = 32;

	if (!strcmp(s, "default")) {
		*addr = 0;
		*plen = 0;
		return 0;
	}
	if (snprintf(buf, sizeof(buf), "%s", s) >= (int)sizeof(buf))
		return -1;
	slash = strchr(buf, '/');
	if (slash) {
		*slash = 0;
		errno = 0;
		l = strtoul(slash + 1, &end, 10);
		if (!slash[1] || *end || l > 32 || errno)
			return -1;
	} else if (need_len) {
		return -1;
	}
	if (inet_pton(AF_INET, buf, &in) != 1)
		return -1;
	*addr = ntohl(in.s_addr);
	*plen = (uint8_t)l;
	return 0;
}

static int check_ifname(const char *s)
{
	if (!*s || strlen(s) > 15)
		return usage_err("bad interface name '%s' (1 to 15 characters)",
				 s);
	return 0;
}

static const char *fmt4(uint32_t a, char *buf)
{
	struct in_addr in = {.s_addr = htonl(a)};

	return inet_ntop(AF_INET, &in, buf, INET_ADDRSTRLEN);
}

static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	}
	putchar('"');
}

static uint32_t nest_u32(const struct ctl_attr *n, uint16_t t)
{
	struct ctl_attr a;

	return ctl_attr_find(n->val, n->len, t, &a) ? ctl_attr_u32(&a) : 0;
}

static uint64_t nest_u64(const struct ctl_attr *n, uint16_t t)
{
	struct ctl_attr a;

	return ctl_attr_find(n->val, n->len, t, &a) ? ctl_attr_u64(&a) : 0;
}

static void nest_str(const struct ctl_attr *n, uint16_t t, char *buf,
		     size_t size)
{
	struct ctl_attr a;

	buf[0] = 0;
	if (ctl_attr_find(n->val, n->len, t, &a))
		ctl_attr_str(&a, buf, size);
}

/* ---- list -------------------------------------------------------------------
 */
static const char *iftype_name(uint32_t t)
{
	return t == 1	? "loopback"
	       : t == 2 ? "ve"
	       : t == 3 ? "ext"
	       : t == 4 ? "bridge"
			: "other";
}

static void print_if_text(const struct ctl_attr *ifn)
{
	char name[32], peer[200], ab[INET_ADDRSTRLEN];
	struct ctl_attr a, mac;
	size_t pos = 0;
	uint32_t flags = nest_u32(ifn, CTL_A_FLAGS);

	nest_str(ifn, CTL_A_IFNAME, name, sizeof(name));
	nest_str(ifn, CTL_A_PEER_OF, peer, sizeof(peer));
	printf("    %-10s %-8s %-4s mtu %-5u", name,
	       iftype_name(nest_u32(ifn, CTL_A_IFTYPE)),
	       flags & 1 ? "UP" : "DOWN", nest_u32(ifn, CTL_A_MTU));
	if (ctl_attr_find(ifn->val, ifn->len, CTL_A_MAC, &mac))
		printf(" %02x:%02x:%02x:%02x:%02x:%02x", mac.val[0], mac.val[1],
		       mac.val[2], mac.val[3], mac.val[4], mac.val[5]);
	while (ctl_attr_next(ifn->val, ifn->len, &pos, &a)) {
		if (a.type != CTL_A_ADDR)
			continue;
		printf(" %s/%u", fmt4(nest_u32(&a, CTL_A_ADDR4), ab),
		       ctl_attr_find(a.val, a.len, CTL_A_PLEN, &mac)
			   ? ctl_attr_u8(&mac)
			   : 0);
	}
	if (peer[0])
		printf(" peer %s", peer);
	printf(" rx %llu tx %llu%s\n",
	       (unsigned long long)nest_u64(ifn, CTL_A_RX_PACKETS),
	       (unsigned long long)nest_u64(ifn, CTL_A_TX_PACKETS),
	       ctl_attr_find(ifn->val, ifn->len, CTL_A_CAPTURING, &a) &&
		       ctl_attr_u8(&a)
		   ? " capturing"
		   : "");
}

static void print_route(const struct ctl_attr *rt, bool json)
{
	char dst[INET_ADDRSTRLEN], gw[INET_ADDRSTRLEN], dev[32];
	struct ctl_attr a;
	uint8_t plen = 0;
	bool has_gw = ctl_attr_find(rt->val, rt->len, CTL_A_GW4, &a);

	if (has_gw)
		fmt4(ctl_attr_addr4(&a), gw);
	fmt4(nest_u32(rt, CTL_A_DST4), dst);
	if (ctl_attr_find(rt->val, rt->len, CTL_A_PLEN, &a))
		plen = ctl_attr_u8(&a);
	nest_str(rt, CTL_A_IFNAME, dev, sizeof(dev));
	if (json) {
		printf("{\"dst\":\"%s/%u\"", dst, plen);
		if (has_gw)
			printf(",\"gateway\":\"%s\"", gw);
		if (dev[0])
			printf(",\"dev\":\"%s\"", dev);
		printf("}");
		return;
	}
	if (plen == 0)
		printf("    route default");
	else
		printf("    route %s/%u", dst, plen);
	if (has_gw)
		printf(" via %s", gw);
	if (dev[0])
		printf(" dev %s", dev);
	printf("\n");
}

static void print_if_json(const struct ctl_attr *ifn)
{
	char name[32], peer[200], ab[INET_ADDRSTRLEN];
	struct ctl_attr a, mac;
	size_t pos = 0;
	bool first = true;

	nest_str(ifn, CTL_A_IFNAME, name, sizeof(name));
	nest_str(ifn, CTL_A_PEER_OF, peer, sizeof(peer));
	printf("{\"name\":");
	json_str(name);
	printf(",\"type\":\"%s\",\"up\":%s,\"flags\":%u,\"mtu\":%u",
	       iftype_name(nest_u32(ifn, CTL_A_IFTYPE)),
	       nest_u32(ifn, CTL_A_FLAGS) & 1 ? "true" : "false",
	       nest_u32(ifn, CTL_A_FLAGS), nest_u32(ifn, CTL_A_MTU));
	if (ctl_attr_find(ifn->val, ifn->len, CTL_A_MAC, &mac))
		printf(",\"mac\":\"%02x:%02x:%02x:%02x:%02x:%02x\"", mac.val[0],
		       mac.val[1], mac.val[2], mac.val[3], mac.val[4],
		       mac.val[5]);
	printf(",\"addresses\":[");
	while (ctl_attr_next(ifn->val, ifn->len, &pos, &a)) {
		if (a.type != CTL_A_ADDR)
			continue;
		printf("%s\"%s/%u\"", first ? "" : ",",
		       fmt4(nest_u32(&a, CTL_A_ADDR4), ab),
		       ctl_attr_find(a.val, a.len, CTL_A_PLEN, &mac)
			   ? ctl_attr_u8(&mac)
			   : 0);
		first = false;
	}
	printf("]");
	if (peer[0]) {
		printf(",\"peer\":");
		json_str(peer);
	}
	printf(",\"rx_packets\":%llu,\"tx_packets\":%llu,\"rx_bytes\":%llu,"
	       "\"tx_bytes\":%llu,\"capturing\":%s}",
	       (unsigned long long)nest_u64(ifn, CTL_A_RX_PACKETS),
	       (unsigned long long)nest_u64(ifn, CTL_A_TX_PACKETS),
	       (unsigned long long)nest_u64(ifn, CTL_A_RX_BYTES),
	       (unsigned long long)nest_u64(ifn, CTL_A_TX_BYTES),
	       ctl_attr_find(ifn->val, ifn->len, CTL_A_CAPTURING, &a) &&
		       ctl_attr_u8(&a)
		   ? "true"
		   : "false");
}

static void print_list(const struct opts *o, const struct reply *r)
{
	struct ctl_attr v, a;
	size_t pos = 0;
	bool first = true;

	if (o->json)
		printf("[");
	else
		printf("%-24s %5s %5s %6s %7s %5s %8s\n", "NAME", "IFS",
		       "ADDRS", "ROUTES", "SOCKETS", "PROCS", "CHILDREN");
	while (ctl_attr_next(r->m.attrs, r->m.attrs_len, &pos, &v)) {
		char name[VIMAGE_NAME_MAX_ + 1];
		size_t p2 = 0;
		bool f2 = true;

		if (v.type != CTL_A_VIMAGE)
			continue;
		nest_str(&v, CTL_A_NAME, name, sizeof(name));
		if (!o->json) {
			printf("%-24s %5u %5u %6u %7u %5u %8u\n", name,
			       nest_u32(&v, CTL_A_N_IFS),
			       nest_u32(&v, CTL_A_N_ADDRS),
			       nest_u32(&v, CTL_A_N_ROUTES),
			       nest_u32(&v, CTL_A_N_SOCKETS),
			       nest_u32(&v, CTL_A_N_PROCS),
			       nest_u32(&v, CTL_A_N_CHILDREN));
			while (o->verbose &&
			       ctl_attr_next(v.val, v.len, &p2, &a))
				if (a.type == CTL_A_IF)
					print_if_text(&a);
			p2 = 0;
			while (o->verbose &&
			       ctl_attr_next(v.val, v.len, &p2, &a))
				if (a.type == CTL_A_ROUTE)
					print_route(&a, false);
			continue;
		}
		printf("%s\n {\"name\":", first ? "" : ",");
		json_str(name);
		printf(",\"interfaces\":%u,\"addresses\":%u,\"routes\":%u,"
		       "\"sockets\":%u,\"processes\":%u,\"children\":%u",
		       nest_u32(&v, CTL_A_N_IFS), nest_u32(&v, CTL_A_N_ADDRS),
		       nest_u32(&v, CTL_A_N_ROUTES),
		       nest_u32(&v, CTL_A_N_SOCKETS),
		       nest_u32(&v, CTL_A_N_PROCS),
		       nest_u32(&v, CTL_A_N_CHILDREN));
		first = false;
		if (o->verbose) {
			printf(",\"links\":[");
			while (ctl_attr_next(v.val, v.len, &p2, &a)) {
				if (a.type != CTL_A_IF)
					continue;
				printf("%s", f2 ? "" : ",");
				print_if_json(&a);
				f2 = false;
			}
			printf("],\"route_table\":[");
			p2 = 0;
			f2 = true;
			while (ctl_attr_next(v.val, v.len, &p2, &a)) {
				if (a.type != CTL_A_ROUTE)
					continue;
				printf("%s", f2 ? "" : ",");
				print_route(&a, true);
				f2 = false;
			}
			printf("]");
		}
		printf("}");
	}
	if (o->json)
		printf("\n]\n");
}

/* STAT nests: KEY with U64 or I64. */
static void print_stats(const struct opts *o, const struct reply *r)
{
	struct ctl_attr v, a;
	size_t pos = 0;
	bool first = true;

	if (o->json)
		printf("{");
	while (ctl_attr_next(r->m.attrs, r->m.attrs_len, &pos, &v)) {
		char key[128];
		long long val = 0;

		if (v.type != CTL_A_STAT)
			continue;
		nest_str(&v, CTL_A_KEY, key, sizeof(key));
		if (ctl_attr_find(v.val, v.len, CTL_A_U64, &a))
			val = (long long)ctl_attr_u64(&a);
		else if (ctl_attr_find(v.val, v.len, CTL_A_I64, &a))
			val = (long long)ctl_attr_i64(&a);
		if (o->json) {
			printf("%s\n \"%s\":%lld", first ? "" : ",", key, val);
			first = false;
		} else {
			printf("%s=%lld\n", key, val);
		}
	}
	if (o->json)
		printf("\n}\n");
}

/* ---- verbs ------------------------------------------------------------------
 */
static void req_begin(struct ctl_buf *b, uint16_t type, uint8_t flags)
{
	ctl_msg_begin(b, type, flags, (uint32_t)getpid());
}

static int verb_list(struct opts *o, char **args, int n)
{
	struct ctl_buf b;
	struct reply r;
	int rc;

	if (n > 1)
		return usage_err("-l takes at most one vimage name");
	ctl_buf_init(&b, CTL_REQ_MAX);
	req_begin(&b, CTL_T_LIST,
		  (uint8_t)((o->recursive ? CTL_F_RECURSIVE : 0) |
			    (o->verbose ? CTL_F_VERBOSE : 0)));
	if (n)
		ctl_put_str(&b, CTL_A_NAME, args[0]);
	rc = transact(o, &b, &r, 30000, true);
	if (rc == EX_OK)
		print_list(o, &r);
	free(r.buf);
	ctl_buf_free(&b);
	return rc;
}

static int verb_ping(struct opts *o, char **args, int n)
{
	struct ctl_buf b;
	struct reply r;
	struct ctl_attr a;
	uint32_t dst, count = 3, sent = 0, recvd = 0;
	uint8_t plen;
	char *end;
	int rc;

	if (n < 2 || n > 3)
		return usage_err("--ping NAME A.B.C.D [COUNT]");
	if (parse_prefix(args[1], &dst, &plen, false) ||
	    !strcmp(args[1], "default"))
		return usage_err("bad address '%s' (expected A.B.C.D)",
				 args[1]);
	if (n == 3) {
		count = (uint32_t)strtoul(args[2], &end, 10);
		if (*end || count < 1 || count > 1000)
			return usage_err("bad count '%s' (1..1000)", args[2]);
	}
	ctl_buf_init(&b, CTL_REQ_MAX);
	req_begin(&b, CTL_T_PING, 0);
	ctl_put_str(&b, CTL_A_NAME, args[0]);
	ctl_put_addr4(&b, CTL_A_DST4, dst);
	ctl_put_u32(&b, CTL_A_COUNT, count);
	ctl_put_u32(&b, CTL_A_TIMEOUT_MS, 2000);
	rc = transact(o, &b, &r, 30000 + (int)count * 200, true);
	if (rc == EX_OK) {
		size_t pos = 0;

		if (ctl_attr_find(r.m.attrs, r.m.attrs_len, CTL_A_SENT, &a))
			sent = ctl_attr_u32(&a);
		if (ctl_attr_find(r.m.attrs, r.m.attrs_len, CTL_A_RECEIVED, &a))
			recvd = ctl_attr_u32(&a);
		if (o->json)
			printf("{\"sent\":%u,\"received\":%u,\"rtt_us\":[",
			       sent, recvd);
		else
			printf("%s -> %s: %u sent, %u received", args[0],
			       args[1], sent, recvd);
		for (bool first = true;
		     ctl_attr_next(r.m.attrs, r.m.attrs_len, &pos, &a);) {
			if (a.type != CTL_A_RTT_NS)
				continue;
			printf(o->json ? "%s%.1f" : "%s%.1f us",
			       first ? (o->json ? "" : ", rtt ")
				     : (o->json ? "," : " "),
			       (double)ctl_attr_u64(&a) / 1e3);
			first = false;
		}
		printf(o->json ? "]}\n" : "\n");
		if (recvd < count) {
			fprintf(stderr,
				"vimage: %s: %u of %u echo requests to %s "
				"answered\n",
				args[0], recvd, count, args[1]);
			rc = EX_FAIL;
		}
	}
	free(r.buf);
	ctl_buf_free(&b);
	return rc;
}

static int split_end(const char *s, char *vi, size_t vlen, char *ifn,
		     size_t ilen)
{
	const char *colon = strrchr(s, ':');

	if (!colon || colon == s || !colon[1] || (size_t)(colon - s) >= vlen ||
	    strlen(colon + 1) >= ilen)
		return usage_err("bad ve end '%s' (expected VIMAGE:IFNAME)", s);
	memcpy(vi, s, (size_t)(colon - s));
	vi[colon - s] = 0;
	strcpy(ifn, colon + 1);
	return 0;
}

static int verb_route(struct opts *o, char **args, int n, bool add)
{
	struct ctl_buf b;
	uint32_t dst, gw = 0;
	uint8_t plen;
	const char *dev = NULL;
	bool has_gw = false;
	int rc;

	if (n < 2)
		return usage_err(add ? "--route NAME default|PREFIX [via GW] "
				       "[dev IF]"
				     : "--route-del NAME default|PREFIX");
	if (parse_prefix(args[1], &dst, &plen, false))
		return usage_err("bad route destination '%s' (expected default "
				 "or A.B.C.D/LEN)",
				 args[1]);
	for (int i = 2; i < n; i += 2) {
		if (!add || i + 1 >= n)
			return usage_err("unexpected '%s' in the route",
					 args[i]);
		if (!strcmp(args[i], "via")) {
			uint8_t gl;

			if (parse_prefix(args[i + 1], &gw, &gl, false) ||
			    gl != 32 || !strcmp(args[i + 1], "default"))
				return usage_err("bad gateway '%s' (expected "
						 "A.B.C.D)",
						 args[i + 1]);
			has_gw = true;
		} else if (!strcmp(args[i], "dev")) {
			if (check_ifname(args[i + 1]))
				return EX_USAGE;
			dev = args[i + 1];
		} else {
			return usage_err("unexpected '%s' in the route "
					 "(expected via or dev)",
					 args[i]);
		}
	}
	if (add && !has_gw && !dev)
		return usage_err("route %s needs 'via GW' or 'dev IF'",
				 args[1]);
	ctl_buf_init(&b, CTL_REQ_MAX);
	req_begin(&b, add ? CTL_T_ROUTE_ADD : CTL_T_ROUTE_DEL, 0);
	ctl_put_str(&b, CTL_A_NAME, args[0]);
	ctl_put_addr4(&b, CTL_A_DST4, dst);
	ctl_put_u8(&b, CTL_A_PLEN, plen);
	if (has_gw)
		ctl_put_addr4(&b, CTL_A_GW4, gw);
	if (dev)
		ctl_put_str(&b, CTL_A_IFNAME, dev);
	rc = simple(o, &b);
	ctl_buf_free(&b);
	return rc;
}

static int verb_sysctl(struct opts *o, char **args, int n)
{
	struct ctl_buf b;
	struct reply r;
	char key[128], *eq, *end;
	long long v;
	int rc;

	if (n < 1 || n > 2)
		return usage_err("--sysctl NAME [KEY[=VALUE]]");
	ctl_buf_init(&b, CTL_REQ_MAX);
	eq = n == 2 ? strchr(args[1], '=') : NULL;
	if (n == 2 && (strlen(args[1]) >= sizeof(key) || args[1][0] == '='))
		return usage_err("bad sysctl '%s'", args[1]);
	if (eq) {
		snprintf(key, sizeof(key), "%.*s", (int)(eq - args[1]),
			 args[1]);
		errno = 0;
		v = strtoll(eq + 1, &end, 0);
		if (!eq[1] || *end || errno)
			return usage_err("bad value '%s' for sysctl '%s' "
					 "(expected an integer)",
					 eq + 1, key);
		req_begin(&b, CTL_T_SYSCTL_SET, 0);
		ctl_put_str(&b, CTL_A_NAME, args[0]);
		ctl_put_str(&b, CTL_A_KEY, key);
		ctl_put_i64(&b, CTL_A_I64, v);
		rc = simple(o, &b);
		ctl_buf_free(&b);
		return rc;
	}
	req_begin(&b, CTL_T_SYSCTL_GET, 0);
	ctl_put_str(&b, CTL_A_NAME, args[0]);
	if (n == 2)
		ctl_put_str(&b, CTL_A_KEY, args[1]);
	rc = transact(o, &b, &r, 30000, true);
	if (rc == EX_OK)
		print_stats(o, &r);
	free(r.buf);
	ctl_buf_free(&b);
	return rc;
}

static int verb_capture(struct opts *o, char **args, int n)
{
	char abs[PATH_MAX + 2], dir[PATH_MAX], *slash;
	struct ctl_buf b;
	int rc;

	if (n != 3)
		return usage_err("--capture NAME IF FILE");
	if (check_ifname(args[1]))
		return EX_USAGE;
	/* The daemon resolves nothing relative to our directory. */
	snprintf(dir, sizeof(dir), "%s", args[2]);
	slash = strrchr(dir, '/');
	if (slash == dir) {
		snprintf(abs, sizeof(abs), "%s", args[2]);
	} else {
		char real[PATH_MAX];
		const char *base = args[2];

		if (slash) {
			*slash = 0;
			base = slash + 1;
		} else {
			strcpy(dir, ".");
		}
		if (!realpath(dir, real)) {
			fprintf(stderr, "vimage: capture file '%s': %s: %s\n",
				args[2], dir, strerror(errno));
			return EX_FAIL;
		}
		if (snprintf(abs, sizeof(abs), "%s/%s", real, base) >=
		    (int)sizeof(abs))
			return usage_err("capture path too long");
	}
	ctl_buf_init(&b, CTL_REQ_MAX);
	req_begin(&b, CTL_T_CAPTURE_START, 0);
	ctl_put_str(&b, CTL_A_NAME, args[0]);
	ctl_put_str(&b, CTL_A_IFNAME, args[1]);
	ctl_put_str(&b, CTL_A_PATH, abs);
	rc = simple(o, &b);
	ctl_buf_free(&b);
	return rc;
}

static int verb_status(struct opts *o, bool shutdown)
{
	struct ctl_buf b;
	struct reply r;
	struct ctl_attr a;
	int rc;

	ctl_buf_init(&b, CTL_REQ_MAX);
	req_begin(&b, shutdown ? CTL_T_SHUTDOWN : CTL_T_HELLO, 0);
	rc = transact(o, &b, &r, 10000, false);
	if (rc == EX_OK && !shutdown) {
		uint32_t pid = 0, uid = 0;

		if (ctl_attr_find(r.m.attrs, r.m.attrs_len, CTL_A_PID, &a))
			pid = ctl_attr_u32(&a);
		if (ctl_attr_find(r.m.attrs, r.m.attrs_len, CTL_A_UID, &a))
			uid = ctl_attr_u32(&a);
		if (o->json)
			printf("{\"pid\":%u,\"uid\":%u,\"socket\":\"%s\"}\n",
			       pid, uid, o->path);
		else
			printf("vimaged pid %u uid %u on %s\n", pid, uid,
			       o->path);
	}
	if (rc == EX_OK && shutdown) {
		/* Wait (bounded) until the socket is gone. */
		for (int i = 0; i < 500 && access(o->path, F_OK) == 0; i++)
			usleep(10000);
	}
	free(r.buf);
	ctl_buf_free(&b);
	return rc;
}

enum verb {
	V_NONE,
	V_CREATE,
	V_DESTROY,
	V_LIST,
	V_MOVE,
	V_VE,
	V_UP,
	V_DOWN,
	V_ADDR,
	V_ADDR_DEL,
	V_ROUTE,
	V_ROUTE_DEL,
	V_SYSCTL,
	V_CAPTURE,
	V_CAPTURE_STOP,
	V_PING,
	V_STATS,
	V_STATUS,
	V_SHUTDOWN,
	V_LOG_LEVEL,
	V_SHAPE,
	V_SHAPE_SHOW,
	V_BRIDGE,
	V_BRIDGE_ADD,
	V_BRIDGE_DEL,
	V_FDB,
	V_TAP,
	V_TAP_DEL,
};

static const struct {
	const char *name;
	enum verb verb;
} long_verbs[] = {
    {"--create", V_CREATE},
    {"--destroy", V_DESTROY},
    {"--list", V_LIST},
    {"--move", V_MOVE},
    {"--ve", V_VE},
    {"--up", V_UP},
    {"--down", V_DOWN},
    {"--addr", V_ADDR},
    {"--addr-del", V_ADDR_DEL},
    {"--route", V_ROUTE},
    {"--route-del", V_ROUTE_DEL},
    {"--sysctl", V_SYSCTL},
    {"--capture", V_CAPTURE},
    {"--capture-stop", V_CAPTURE_STOP},
    {"--ping", V_PING},
    {"--stats", V_STATS},
    {"--status", V_STATUS},
    {"--shutdown", V_SHUTDOWN},
    {"--log-level", V_LOG_LEVEL},
    {"--shape", V_SHAPE},
    {"--shape-show", V_SHAPE_SHOW},
    {"--bridge", V_BRIDGE},
    {"--bridge-add", V_BRIDGE_ADD},
    {"--bridge-del", V_BRIDGE_DEL},
    {"--fdb", V_FDB},
    {"--tap", V_TAP},
    {"--tap-del", V_TAP_DEL},
};

/* ---- shapers and bridges --------------------------------------------------
 */
/* The shaper's parameters as the command line spells them, and the keys
 * of the protocol. */
enum shape_unit { SU_RATE, SU_TIME, SU_PCT, SU_FRAC, SU_COUNT };
static const struct {
	const char *word, *key;
	enum shape_unit unit;
} shape_words[] = {
    {"rate", "rate", SU_RATE},		{"delay", "delay_ns", SU_TIME},
    {"jitter", "jitter_ns", SU_TIME},	{"loss", "loss", SU_PCT},
    {"ber", "ber", SU_FRAC},		{"duplicate", "duplicate", SU_PCT},
    {"reorder", "reorder", SU_PCT},	{"limit", "limit", SU_COUNT},
    {"limit-bytes", "limit_bytes", SU_COUNT},
};
#define NSHAPE (sizeof(shape_words) / sizeof(shape_words[0]))

/* A non-negative decimal with an optional fraction and, when exp_ok, an
 * exponent (1e-9), as value x 10^scale exactly: -1 when it is not such a
 * number, when it overflows, or when it has digits finer than 10^-scale
 * that are not zero (such a value cannot be represented: refused, never
 * rounded). *end is where the number stopped. */
typedef unsigned __int128 u128;
#define U128_LIM ((u128)1 << 100)

static int parse_fixed(const char *s, unsigned scale, bool exp_ok, u128 *out,
		       const char **end)
{
	u128 v = 0;
	int frac = 0, extra = 0;
	bool dot = false, digit = false;
	long exp = 0;

	for (; *s; s++) {
		if (*s == '.' && !dot) {
			dot = true;
			continue;
		}
		if (*s < '0' || *s > '9')
			break;
		digit = true;
		if (v > U128_LIM)
			return -1;
		v = v * 10 + (unsigned)(*s - '0');
		frac += dot;
	}
	if (!digit)
		return -1;
	if (exp_ok && (*s == 'e' || *s == 'E')) {
		const char *e = s + 1;
		bool neg = *e == '-';

		if (*e == '-' || *e == '+')
			e++;
		if (*e < '0' || *e > '9')
			return -1; /* "1e", "1e -9" */
		for (; *e >= '0' && *e <= '9'; e++) {
			exp = exp * 10 + (*e - '0');
			if (exp > 60)
				return -1;
		}
		exp = neg ? -exp : exp;
		s = e;
	}
	/* v x 10^(exp - frac) x 10^scale */
	extra = (int)exp - frac + (int)scale;
	for (; extra > 0; extra--) {
		if (v > U128_LIM)
			return -1;
		v *= 10;
	}
	for (; extra < 0; extra++) {
		if (v % 10)
			return -1; /* finer than the resolution */
		v /= 10;
	}
	*out = v;
	*end = s;
	return 0;
}

/* The daemon's limits (include/vimage/net.h VSHAPE_*), checked here too so
 * that nothing is made before a value is found out of range. */
#define SHAPE_RATE_MAX	 1000000000000ull	 /* 1 Tbit/s */
#define SHAPE_TIME_MAX	 3600000000000ull	 /* one hour in ns */
#define SHAPE_PROB_ONE	 1000000000000000000ull /* 1 in 10^18 */

/* "10mbit" -> bit/s. tc's units: bit, kbit, mbit, gbit, tbit; bps, kbps,
 * mbps, gbps are bytes per second. Returns 0, -1 (not understood) or -2
 * (out of range). */
static int parse_shape_value(enum shape_unit u, const char *s, uint64_t *out)
{
	static const struct {
		const char *sfx;
		uint64_t mul;
	} rate[] = {{"bit", 1},		  {"kbit", 1000},
		    {"mbit", 1000000},	  {"gbit", 1000000000},
		    {"tbit", 1000000000000}, {"bps", 8},
		    {"kbps", 8000},	  {"mbps", 8000000},
		    {"gbps", 8000000000}},
	  tm[] = {{"ns", 1}, {"us", 1000}, {"ms", 1000000}, {"s", 1000000000}};
	const char *end;
	u128 v;

	switch (u) {
	case SU_RATE:
	case SU_TIME: {
		size_t n = u == SU_RATE ? sizeof(rate) / sizeof(rate[0])
					: sizeof(tm) / sizeof(tm[0]);

		/* The number in units of 10^-12, then the unit. */
		if (parse_fixed(s, 12, false, &v, &end))
			return -1;
		for (size_t i = 0; i < n; i++) {
			uint64_t mul = u == SU_RATE ? rate[i].mul : tm[i].mul;
			u128 x;

			if (strcasecmp(end, u == SU_RATE ? rate[i].sfx
							 : tm[i].sfx))
				continue;
			x = v * mul;
			if (x % 1000000000000ull)
				return -1; /* finer than 1 bit/s or 1 ns */
			x /= 1000000000000ull;
			if (x > (u == SU_RATE ? SHAPE_RATE_MAX : SHAPE_TIME_MAX))
				return -2;
			*out = (uint64_t)x;
			return 0;
		}
		return -1;
	}
	case SU_PCT: /* percent -> parts per 10^18 */
		if (parse_fixed(s, 16, false, &v, &end) || strcmp(end, "%"))
			return -1;
		break;
	case SU_FRAC: /* a fraction, 0.000001 or 1e-6 -> parts per 10^18 */
		if (parse_fixed(s, 18, true, &v, &end) || *end)
			return -1;
		break;
	case SU_COUNT:
		if (parse_fixed(s, 0, false, &v, &end) || *end)
			return -1;
		if (v > UINT64_MAX)
			return -2;
		*out = (uint64_t)v;
		return 0;
	}
	if (v > SHAPE_PROB_ONE)
		return -2;
	*out = (uint64_t)v;
	return 0;
}

/* Parse "WORD VALUE ..." into values[] (set[] marks which); 0 or exit. */
static int parse_shape_args(char **args, int n, uint64_t *values, bool *set)
{
	static const char *const hint[] = {
	    [SU_RATE] = "a rate such as 10mbit, 1gbit, 500kbit or 2mbps",
	    [SU_TIME] = "a time with a unit: ns, us, ms or s (10ms)",
	    [SU_PCT] = "a percentage such as 1% or 0.05%",
	    [SU_FRAC] = "a fraction such as 1e-9 or 0.000001",
	    [SU_COUNT] = "a whole number",
	};

	for (int i = 0; i < n; i += 2) {
		size_t k;

		for (k = 0; k < NSHAPE; k++)
			if (!strcmp(args[i], shape_words[k].word))
				break;
		if (k == NSHAPE)
			return usage_err("unknown shaper parameter '%s' (rate, "
					 "delay, jitter, loss, ber, duplicate, "
					 "reorder, limit, limit-bytes)",
					 args[i]);
		if (i + 1 >= n)
			return usage_err("%s needs a value: %s", args[i],
					 hint[shape_words[k].unit]);
		switch (parse_shape_value(shape_words[k].unit, args[i + 1],
					  &values[k])) {
		case 0:
			break;
		case -2:
			return usage_err(
			    "%s '%s': out of range (%s)", args[i], args[i + 1],
			    shape_words[k].unit == SU_RATE   ? "at most 1tbit"
			    : shape_words[k].unit == SU_TIME ? "at most 3600s"
			    : shape_words[k].unit == SU_PCT  ? "at most 100%"
			    : shape_words[k].unit == SU_FRAC ? "at most 1"
							     : "too large");
		default:
			return usage_err("%s '%s': expected %s (exactly: "
					 "finer than 1 bit/s, 1 ns or 1e-18 "
					 "cannot be set)",
					 args[i], args[i + 1],
					 hint[shape_words[k].unit]);
		}
		set[k] = true;
	}
	return 0;
}

static void put_shape(struct ctl_buf *b, const uint64_t *values)
{
	for (size_t k = 0; k < NSHAPE; k++) {
		if (!values[k])
			continue;
		ctl_nest_begin(b, CTL_A_STAT);
		ctl_put_str(b, CTL_A_KEY, shape_words[k].key);
		ctl_put_u64(b, CTL_A_U64, values[k]);
		ctl_nest_end(b);
	}
}

/* The parameters in force (all zero when none). */
static int shape_get(struct opts *o, const char *name, const char *ifn,
		     int dir, uint64_t *values, struct reply *r)
{
	struct ctl_buf b;
	struct ctl_attr v, a;
	size_t pos = 0;
	int rc;

	ctl_buf_init(&b, CTL_REQ_MAX);
	req_begin(&b, CTL_T_SHAPE_GET, 0);
	ctl_put_str(&b, CTL_A_NAME, name);
	ctl_put_str(&b, CTL_A_IFNAME, ifn);
	ctl_put_i32(&b, CTL_A_ARG, dir);
	rc = transact(o, &b, r, 10000, true);
	ctl_buf_free(&b);
	if (rc != EX_OK)
		return rc;
	if (r->err) {
		fprintf(stderr, "vimage: %s\n", r->msg);
		return EX_FAIL;
	}
	memset(values, 0, NSHAPE * sizeof(*values));
	while (ctl_attr_next(r->m.attrs, r->m.attrs_len, &pos, &v)) {
		char key[64];

		if (v.type != CTL_A_STAT)
			continue;
		nest_str(&v, CTL_A_KEY, key, sizeof(key));
		for (size_t k = 0; k < NSHAPE; k++)
			if (!strcmp(key, shape_words[k].key) &&
			    ctl_attr_find(v.val, v.len, CTL_A_U64, &a))
				values[k] = ctl_attr_u64(&a);
	}
	return EX_OK;
}

/* --shape NAME IF [in|out] (off | WORD VALUE ...): only the words given
 * change; "off" removes the shaper. */
static int verb_shape(struct opts *o, char **args, int n)
{
	uint64_t values[NSHAPE] = {0}, cur[NSHAPE];
	bool set[NSHAPE] = {false}, off = false;
	struct ctl_buf b;
	struct reply r;
	int dir = 0, rc, k = 2;

	if (n < 3)
		return usage_err("--shape NAME IF [in|out] off | PARAM VALUE "
				 "...");
	if (check_ifname(args[1]))
		return EX_USAGE;
	if (!strcmp(args[2], "in") || !strcmp(args[2], "out")) {
		dir = !strcmp(args[2], "in");
		k = 3;
	}
	if (k == n - 1 && !strcmp(args[k], "off"))
		off = true;
	else if (k >= n)
		return usage_err("--shape: no parameters (or 'off')");
	else if ((rc = parse_shape_args(args + k, n - k, values, set)))
		return rc;
	if (!off) {
		rc = shape_get(o, args[0], args[1], dir, cur, &r);
		free(r.buf);
		if (rc != EX_OK)
			return rc;
		for (size_t i = 0; i < NSHAPE; i++)
			if (!set[i])
				values[i] = cur[i];
	}
	ctl_buf_init(&b, CTL_REQ_MAX);
	req_begin(&b, CTL_T_SHAPE, 0);
	ctl_put_str(&b, CTL_A_NAME, args[0]);
	ctl_put_str(&b, CTL_A_IFNAME, args[1]);
	ctl_put_i32(&b, CTL_A_ARG, dir);
	if (!off)
		put_shape(&b, values);
	rc = simple(o, &b);
	ctl_buf_free(&b);
	return rc;
}

static int verb_shape_show(struct opts *o, char **args, int n)
{
	uint64_t values[NSHAPE];
	struct reply r;
	int dir = 0, rc;

	if (n < 2 || n > 3 ||
	    (n == 3 && strcmp(args[2], "in") && strcmp(args[2], "out")))
		return usage_err("--shape-show NAME IF [in|out]");
	if (check_ifname(args[1]))
		return EX_USAGE;
	dir = n == 3 && !strcmp(args[2], "in");
	rc = shape_get(o, args[0], args[1], dir, values, &r);
	if (rc == EX_OK)
		print_stats(o, &r);
	free(r.buf);
	return rc;
}

static int verb_bridge(struct opts *o, enum verb verb, char **args, int n)
{
	struct ctl_buf b;
	int rc = EX_OK;
	bool made = false;

	if (n < 2 || (verb == V_BRIDGE_ADD && n < 3))
		return usage_err("%s NAME BRIDGE%s",
				 verb == V_BRIDGE	  ? "--bridge"
				 : verb == V_BRIDGE_ADD ? "--bridge-add"
							: "--bridge-del",
				 verb == V_BRIDGE_ADD ? " IF ..." : " [IF ...]");
	for (int i = 1; i < n; i++)
		if (check_ifname(args[i]))
			return EX_USAGE;
	if (verb == V_BRIDGE) {
		ctl_buf_init(&b, CTL_REQ_MAX);
		req_begin(&b, CTL_T_BRIDGE, 0);
		ctl_put_str(&b, CTL_A_NAME, args[0]);
		ctl_put_str(&b, CTL_A_IFNAME, args[1]);
		ctl_put_i32(&b, CTL_A_ARG, CTL_BR_CREATE);
		rc = simple(o, &b);
		ctl_buf_free(&b);
		made = rc == EX_OK;
	}
	for (int i = 2; i < n && rc == EX_OK; i++) {
		ctl_buf_init(&b, CTL_REQ_MAX);
		req_begin(&b, CTL_T_BRIDGE, 0);
		ctl_put_str(&b, CTL_A_NAME, args[0]);
		ctl_put_str(&b, CTL_A_IFNAME, args[1]);
		ctl_put_str(&b, CTL_A_NEWNAME, args[i]);
		ctl_put_i32(&b, CTL_A_ARG,
			    verb == V_BRIDGE_DEL ? CTL_BR_DELIF : CTL_BR_ADDIF);
		rc = simple(o, &b);
		ctl_buf_free(&b);
	}
	/* --bridge-del NAME BR alone destroys the bridge; a --bridge whose
	 * port could not be added leaves nothing made. */
	if ((verb == V_BRIDGE_DEL && n == 2) ||
	    (made && rc != EX_OK)) {
		int rc2;

		ctl_buf_init(&b, CTL_REQ_MAX);
		req_begin(&b, CTL_T_BRIDGE, 0);
		ctl_put_str(&b, CTL_A_NAME, args[0]);
		ctl_put_str(&b, CTL_A_IFNAME, args[1]);
		ctl_put_i32(&b, CTL_A_ARG, CTL_BR_DESTROY);
		rc2 = simple(o, &b);
		ctl_buf_free(&b);
		if (rc == EX_OK)
			rc = rc2;
	}
	return rc;
}

static int verb_fdb(struct opts *o, char **args, int n)
{
	struct ctl_buf b;
	struct reply r;
	struct ctl_attr v, a;
	size_t pos = 0;
	bool first = true;
	int rc;

	if (n != 2)
		return usage_err("--fdb NAME BRIDGE");
	if (check_ifname(args[1]))
		return EX_USAGE;
	ctl_buf_init(&b, CTL_REQ_MAX);
	req_begin(&b, CTL_T_BRIDGE_FDB, 0);
	ctl_put_str(&b, CTL_A_NAME, args[0]);
	ctl_put_str(&b, CTL_A_IFNAME, args[1]);
	rc = transact(o, &b, &r, 10000, true);
	ctl_buf_free(&b);
	if (rc == EX_OK && r.err) {
		fprintf(stderr, "vimage: %s\n", r.msg);
		rc = EX_FAIL;
	}
	if (rc != EX_OK) {
		free(r.buf);
		return rc;
	}
	if (o->json)
		printf("[");
	else
		printf("%-17s %-15s %-6s %s\n", "MAC", "PORT", "LOCAL",
		       "AGE");
	while (ctl_attr_next(r.m.attrs, r.m.attrs_len, &pos, &v)) {
		char port[16] = "?";
		uint8_t mac[6] = {0};
		uint64_t age = 0;
		bool local = false;

		if (v.type != CTL_A_IF)
			continue;
		nest_str(&v, CTL_A_IFNAME, port, sizeof(port));
		if (ctl_attr_find(v.val, v.len, CTL_A_MAC, &a))
			memcpy(mac, a.val, 6);
		if (ctl_attr_find(v.val, v.len, CTL_A_U64, &a))
			age = ctl_attr_u64(&a);
		if (ctl_attr_find(v.val, v.len, CTL_A_FLAGS, &a))
			local = ctl_attr_u32(&a) != 0;
		if (o->json)
			printf("%s{\"mac\":\"%02x:%02x:%02x:%02x:%02x:%02x\","
			       "\"port\":\"%s\",\"local\":%s,\"age_ms\":%llu}",
			       first ? "" : ",", mac[0], mac[1], mac[2],
			       mac[3], mac[4], mac[5], port,
			       local ? "true" : "false",
			       (unsigned long long)(age / 1000000));
		else
			printf("%02x:%02x:%02x:%02x:%02x:%02x %-15s %-6s "
			       "%.1fs\n",
			       mac[0], mac[1], mac[2], mac[3], mac[4], mac[5],
			       port, local ? "yes" : "no", (double)age / 1e9);
		first = false;
	}
	if (o->json)
		printf("]\n");
	free(r.buf);
	return EX_OK;
}

/* A TAP device opened with the caller's privileges, or -1. */
static int open_tap(const char *dev)
{
	struct ifreq ifr;
	int fd;

	/* TUNSETIFF would create a missing device: attach only. */
	if (!if_nametoindex(dev))
		return -1;
	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", dev);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* ---- running a program inside --------------------------------------------
 */
/* The preload library: $VIMAGE_PRELOAD, else beside this binary, else in
 * ../lib/vimage/ from it. */
static int find_preload(char *buf, size_t size)
{
	const char *env = getenv("VIMAGE_PRELOAD");
	char self[PATH_MAX], *slash;
	ssize_t n;

	if (env && *env) {
		if (env[0] != '/' || access(env, R_OK))
			return -1;
		snprintf(buf, size, "%s", env);
		return 0;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return -1;
	self[n] = 0;
	slash = strrchr(self, '/');
	if (!slash)
		return -1;
	*slash = 0;
	n = snprintf(buf, size, "%s/libvimage-preload.so", self);
	if (n > 0 && (size_t)n < size && !access(buf, R_OK))
		return 0;
	n = snprintf(buf, size, "%s/../lib/vimage/libvimage-preload.so", self);
	return n > 0 && (size_t)n < size && !access(buf, R_OK) ? 0 : -1;
}

/* The file execvp would run for cmd. */
static int find_command(const char *cmd, char *buf, size_t size)
{
	const char *path = getenv("PATH");

	if (strchr(cmd, '/')) {
		snprintf(buf, size, "%s", cmd);
		return access(buf, X_OK) ? -errno : 0;
	}
	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		const char *end = strchr(path, ':');
		size_t len = end ? (size_t)(end - path) : strlen(path);

		snprintf(buf, size, "%.*s/%s", (int)len, len ? path : ".", cmd);
		if (!access(buf, X_OK))
			return 0;
		path += len + (end ? 1 : 0);
	}
	return -ENOENT;
}

struct elf_facts {
	bool elf, dynamic, go;
	char interp[PATH_MAX];
};

/* What the preload library can and cannot reach: a static binary has no
 * dynamic loader; a Go binary makes its own system calls. */
static void inspect_elf(const char *file, struct elf_facts *f)
{
	Elf64_Ehdr eh;
	int fd = open(file, O_RDONLY | O_CLOEXEC);

	memset(f, 0, sizeof(*f));
	if (fd < 0)
		return;
	if (pread(fd, &eh, sizeof(eh), 0) != sizeof(eh) ||
	    memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum > 256) {
		close(fd);
		return;
	}
	f->elf = true;
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;

		if (pread(fd, &ph, sizeof(ph),
			  (off_t)(eh.e_phoff + i * sizeof(ph))) != sizeof(ph))
			break;
		if (ph.p_type == PT_INTERP && ph.p_filesz > 1 &&
		    ph.p_filesz < sizeof(f->interp)) {
			if (pread(fd, f->interp, ph.p_filesz,
				  (off_t)ph.p_offset) == (ssize_t)ph.p_filesz) {
				f->interp[ph.p_filesz - 1] = 0;
				f->dynamic = true;
			}
		}
	}
	/* Go's linker names a section .note.go.buildid; its build info
	 * carries this magic. */
	if (eh.e_shentsize == sizeof(Elf64_Shdr) && eh.e_shnum < 4096 &&
	    eh.e_shstrndx < eh.e_shnum) {
		Elf64_Shdr sh, strs;

		if (pread(fd, &strs, sizeof(strs),
			  (off_t)(eh.e_shoff +
				  eh.e_shstrndx * sizeof(Elf64_Shdr))) ==
		    sizeof(strs)) {
			for (unsigned i = 0; i < eh.e_shnum && !f->go; i++) {
				char name[24] = "";

				if (pread(fd, &sh, sizeof(sh),
					  (off_t)(eh.e_shoff +
						  i * sizeof(sh))) != sizeof(sh))
					break;
				if (pread(fd, name, sizeof(name) - 1,
					  (off_t)(strs.sh_offset +
						  sh.sh_name)) <= 0)
					continue;
				f->go = !strcmp(name, ".note.go.buildid") ||
					!strcmp(name, ".go.buildinfo");
			}
		}
	}
	close(fd);
}

/* Does exec of file run in secure-execution mode (setuid/setgid or file
 * capabilities), where the loader ignores LD_PRELOAD? */
static bool secure_exec(const char *file)
{
	struct stat st;

	if (stat(file, &st))
		return false;
	if ((st.st_mode & S_ISUID) && st.st_uid != getuid())
		return true;
	if ((st.st_mode & S_ISGID) && st.st_gid != getgid())
		return true;
	return getxattr(file, "security.capability", NULL, 0) > 0;
}

static int setenv_prepend(const char *key, const char *val)
{
	const char *old = getenv(key);
	char *v;
	int rc;

	if (!old || !*old)
		return setenv(key, val, 1);
	if (asprintf(&v, "%s:%s", val, old) < 0)
		return -1;
	rc = setenv(key, v, 1);
	free(v);
	return rc;
}

static int run_inside(struct opts *o, const char *name, int argc, char **argv)
{
	char lib[PATH_MAX], file[PATH_MAX];
	const char *shell = getenv("SHELL");
	char *sh_argv[2];
	struct elf_facts ef;
	struct ctl_buf b;
	struct reply r;
	int rc;

	if (find_preload(lib, sizeof(lib))) {
		fprintf(stderr,
			"vimage: cannot find libvimage-preload.so (beside "
			"vimage, in ../lib/vimage, or $VIMAGE_PRELOAD)\n");
		return EX_FAIL;
	}
	/* The vimage must exist (and the daemon run: started if need be). */
	ctl_buf_init(&b, CTL_REQ_MAX);
	req_begin(&b, CTL_T_LIST, 0);
	ctl_put_str(&b, CTL_A_NAME, name);
	rc = transact(o, &b, &r, 10000, true);
	ctl_buf_free(&b);
	if (rc == EX_OK && r.err) {
		fprintf(stderr, "vimage: %s\n", r.msg);
		rc = EX_FAIL;
	}
	free(r.buf);
	if (rc != EX_OK)
		return rc;
	if (argc == 0) {
		sh_argv[0] = (char *)(shell && *shell ? shell : "/bin/sh");
		sh_argv[1] = NULL;
		argv = sh_argv;
		argc = 1;
	}
	rc = find_command(argv[0], file, sizeof(file));
	if (rc) {
		fprintf(stderr, "vimage: %s: command not found\n", argv[0]);
		return 127;
	}
	inspect_elf(file, &ef);
	if (ef.elf && !ef.dynamic) {
		fprintf(stderr,
			"vimage: %s is statically linked: its socket calls "
			"cannot be redirected into vimage '%s' (see vimage(8), "
			"LIMITATIONS)\n",
			file, name);
		return EX_UNREACHABLE;
	}
	if (ef.go) {
		fprintf(stderr,
			"vimage: %s is a Go program: Go makes its own system "
			"calls, which the preload library cannot redirect into "
			"vimage '%s' (see vimage(8), LIMITATIONS)\n",
			file, name);
		return EX_UNREACHABLE;
	}
	if (setenv_prepend("LD_PRELOAD", lib) ||
	    setenv("VIMAGE_SOCKET", o->path, 1) ||
	    setenv("VIMAGE_NAME", name, 1)) {
		perror("vimage: setenv");
		return EX_FAIL;
	}
	if (ef.dynamic && secure_exec(file)) {
		/* The loader would ignore LD_PRELOAD for a program with
		 * file capabilities or set-id bits (Debian's ping): run it
		 * through the loader, which has neither, so the program runs
		 * unprivileged with the preload library. Inside a vimage its
		 * privileged sockets come from the stack, not the kernel. */
		char **v = calloc((size_t)argc + 6, sizeof(*v));
		int k = 0;

		if (!v)
			return EX_FAIL;
		v[k++] = ef.interp;
		v[k++] = (char *)"--preload";
		v[k++] = lib;
		v[k++] = (char *)"--argv0";
		v[k++] = argv[0];
		v[k++] = file;
		for (int i = 1; i < argc; i++)
			v[k++] = argv[i];
		v[k] = NULL;
		execv(ef.interp, v);
		fprintf(stderr, "vimage: cannot run %s through %s: %s\n", file,
			ef.interp, strerror(errno));
		free(v);
		return 126;
	}
	execv(file, argv);
	fprintf(stderr, "vimage: cannot run %s: %s\n", file, strerror(errno));
	return 126;
}

int main(int argc, char **argv)
{
	struct opts o = {.autostart = true, .pass_fd = -1};
	enum verb verb = V_NONE;
	/* Positional arguments are gathered in place, at the front. */
	char **args = argv + 1;
	struct ctl_buf b;
	int n = 0, rc;
	bool opts_done = false;

	for (int i = 1; i < argc; i++) {
		const char *s = argv[i];
		enum verb v = V_NONE;

		if (opts_done || s[0] != '-' || !s[1]) {
			args[n++] = argv[i];
			/* NAME [command ...]: the rest is the command. */
			if (verb == V_NONE && n == 1)
				opts_done = true;
			continue;
		}
		if (!strcmp(s, "--")) {
			opts_done = true;
			continue;
		}
		if (!strcmp(s, "-h") || !strcmp(s, "--help")) {
			fputs(usage_text, stdout);
			return EX_OK;
		}
		if (!strcmp(s, "--json")) {
			o.json = true;
			continue;
		}
		if (!strcmp(s, "--no-autostart")) {
			o.autostart = false;
			continue;
		}
		if (!strcmp(s, "--socket") || !strncmp(s, "--socket=", 9)) {
			if (s[8] == '=')
				o.socket = s + 9;
			else if (i + 1 < argc)
				o.socket = argv[++i];
			else
				return usage_err("--socket needs a path");
			continue;
		}
		if (s[1] == '-') {
			for (size_t k = 0;
			     k < sizeof(long_verbs) / sizeof(long_verbs[0]);
			     k++)
				if (!strcmp(s, long_verbs[k].name))
					v = long_verbs[k].verb;
			if (v == V_NONE)
				return usage_err("unknown option '%s'", s);
		} else {
			for (const char *p = s + 1; *p; p++) {
				enum verb sv = V_NONE;

				switch (*p) {
				case 'c':
					sv = V_CREATE;
					break;
				case 'd':
					sv = V_DESTROY;
					break;
				case 'l':
					sv = V_LIST;
					break;
				case 'i':
					sv = V_MOVE;
					break;
				case 'r':
					o.recursive = true;
					break;
				case 'v':
					o.verbose = true;
					break;
				case 'f':
					o.force = true;
					break;
				default:
					return usage_err("unknown option '-%c'",
							 *p);
				}
				if (sv != V_NONE && v != V_NONE)
					return usage_err("two verbs in '%s'",
							 s);
				if (sv != V_NONE)
					v = sv;
			}
			if (v == V_NONE)
				continue;
		}
		if (verb != V_NONE)
			return usage_err("more than one verb ('%s')", s);
		verb = v;
	}
	/* Gathered in place: options before them shifted the arguments, so
	 * the list must be closed again for exec. */
	args[n] = NULL;
	if (resolve_path(&o))
		return usage_err("socket path too long");
	ctl_buf_init(&b, CTL_REQ_MAX);
	switch (verb) {
	case V_NONE:
		if (!n) {
			fputs(usage_text, stderr);
			return EX_USAGE;
		}
		return run_inside(&o, args[0], n - 1, args + 1);
	case V_CREATE:
	case V_DESTROY:
		if (n != 1)
			return usage_err("%s takes one vimage name",
					 verb == V_CREATE ? "-c" : "-d");
		req_begin(&b, verb == V_CREATE ? CTL_T_CREATE : CTL_T_DESTROY,
			  o.force ? CTL_F_FORCE : 0);
		ctl_put_str(&b, CTL_A_NAME, args[0]);
		break;
	case V_LIST:
		return verb_list(&o, args, n);
	case V_MOVE:
		if (n < 2 || n > 3)
			return usage_err("-i NAME IF [NEWNAME]");
		if (check_ifname(args[1]) || (n == 3 && check_ifname(args[2])))
			return EX_USAGE;
		req_begin(&b, CTL_T_MOVE, 0);
		ctl_put_str(&b, CTL_A_NAME, args[0]);
		ctl_put_str(&b, CTL_A_IFNAME, args[1]);
		if (n == 3)
			ctl_put_str(&b, CTL_A_NEWNAME, args[2]);
		break;
	case V_VE: {
		char va[VIMAGE_NAME_MAX_ + 1], vb[VIMAGE_NAME_MAX_ + 1];
		char ia[16], ib[16];

		uint64_t values[NSHAPE] = {0};
		bool set[NSHAPE] = {false};

		if (n < 2)
			return usage_err("--ve A:IFA B:IFB [PARAM VALUE ...]");
		if (split_end(args[0], va, sizeof(va), ia, sizeof(ia)) ||
		    split_end(args[1], vb, sizeof(vb), ib, sizeof(ib)))
			return EX_USAGE;
		/* Shaping given with the link applies to both directions:
		 * each end's egress. Checked before anything is made. */
		if (n > 2 && (rc = parse_shape_args(args + 2, n - 2, values,
						     set)))
			return rc;
		req_begin(&b, CTL_T_VE, 0);
		ctl_put_str(&b, CTL_A_NAME, va);
		ctl_put_str(&b, CTL_A_IFNAME, ia);
		ctl_put_str(&b, CTL_A_PEER, vb);
		ctl_put_str(&b, CTL_A_PEER_IFNAME, ib);
		rc = simple(&o, &b);
		ctl_buf_free(&b);
		for (int e = 0; e < 2 && rc == EX_OK && n > 2; e++) {
			ctl_buf_init(&b, CTL_REQ_MAX);
			req_begin(&b, CTL_T_SHAPE, 0);
			ctl_put_str(&b, CTL_A_NAME, e ? vb : va);
			ctl_put_str(&b, CTL_A_IFNAME, e ? ib : ia);
			ctl_put_i32(&b, CTL_A_ARG, 0);
			put_shape(&b, values);
			rc = simple(&o, &b);
			ctl_buf_free(&b);
		}
		return rc;
	}
	case V_UP:
	case V_DOWN:
		if (n != 2)
			return usage_err("--%s NAME IF",
					 verb == V_UP ? "up" : "down");
		if (check_ifname(args[1]))
			return EX_USAGE;
		req_begin(&b, CTL_T_LINK, 0);
		ctl_put_str(&b, CTL_A_NAME, args[0]);
		ctl_put_str(&b, CTL_A_IFNAME, args[1]);
		ctl_put_u8(&b, CTL_A_UP, verb == V_UP);
		break;
	case V_ADDR:
	case V_ADDR_DEL: {
		uint32_t a;
		uint8_t plen;

		if (n != 3)
			return usage_err("--addr%s NAME IF A.B.C.D/LEN",
					 verb == V_ADDR ? "" : "-del");
		if (check_ifname(args[1]))
			return EX_USAGE;
		if (parse_prefix(args[2], &a, &plen, true) ||
		    !strcmp(args[2], "default"))
			return usage_err("bad address '%s' (expected "
					 "A.B.C.D/LEN, LEN 0..32)",
					 args[2]);
		req_begin(&b, verb == V_ADDR ? CTL_T_ADDR_ADD : CTL_T_ADDR_DEL,
			  0);
		ctl_put_str(&b, CTL_A_NAME, args[0]);
		ctl_put_str(&b, CTL_A_IFNAME, args[1]);
		ctl_put_addr4(&b, CTL_A_ADDR4, a);
		ctl_put_u8(&b, CTL_A_PLEN, plen);
		break;
	}
	case V_ROUTE:
		return verb_route(&o, args, n, true);
	case V_ROUTE_DEL:
		return verb_route(&o, args, n, false);
	case V_SYSCTL:
		return verb_sysctl(&o, args, n);
	case V_CAPTURE:
		return verb_capture(&o, args, n);
	case V_CAPTURE_STOP:
		if (n != 2)
			return usage_err("--capture-stop NAME IF");
		req_begin(&b, CTL_T_CAPTURE_STOP, 0);
		ctl_put_str(&b, CTL_A_NAME, args[0]);
		ctl_put_str(&b, CTL_A_IFNAME, args[1]);
		break;
	case V_PING:
		return verb_ping(&o, args, n);
	case V_LOG_LEVEL: {
		static const char *const lv[] = {"error", "warn", "info",
						 "debug"};
		int level = -1;

		if (n < 1 || n > 2)
			return usage_err("--log-level [NAME] LEVEL");
		for (int k = 0; k < 4; k++)
			if (!strcmp(args[n - 1], lv[k]))
				level = k;
		if (level < 0)
			return usage_err(
			    "bad log level '%s' (error, warn, info, "
			    "debug)",
			    args[n - 1]);
		req_begin(&b, CTL_T_LOG_LEVEL, 0);
		if (n == 2)
			ctl_put_str(&b, CTL_A_NAME, args[0]);
		ctl_put_u32(&b, CTL_A_LEVEL, (uint32_t)level);
		break;
	}
	case V_STATS: {
		struct reply r;

		if (n > 1)
			return usage_err("--stats [NAME]");
		req_begin(&b, CTL_T_STATS, 0);
		if (n)
			ctl_put_str(&b, CTL_A_NAME, args[0]);
		rc = transact(&o, &b, &r, 30000, true);
		if (rc == EX_OK)
			print_stats(&o, &r);
		free(r.buf);
		ctl_buf_free(&b);
		return rc;
	}
	case V_STATUS:
	case V_SHUTDOWN:
		if (n)
			return usage_err("unexpected argument '%s'", args[0]);
		return verb_status(&o, verb == V_SHUTDOWN);
	case V_SHAPE:
		return verb_shape(&o, args, n);
	case V_SHAPE_SHOW:
		return verb_shape_show(&o, args, n);
	case V_BRIDGE:
	case V_BRIDGE_ADD:
	case V_BRIDGE_DEL:
		return verb_bridge(&o, verb, args, n);
	case V_FDB:
		return verb_fdb(&o, args, n);
	case V_TAP:
	case V_TAP_DEL:
		if (n != (verb == V_TAP ? 3 : 2))
			return usage_err(verb == V_TAP ? "--tap NAME IF TAPDEV"
						       : "--tap-del NAME IF");
		if (check_ifname(args[1]) ||
		    (verb == V_TAP && check_ifname(args[2])))
			return EX_USAGE;
		req_begin(&b, verb == V_TAP ? CTL_T_TAP : CTL_T_TAP_DEL, 0);
		ctl_put_str(&b, CTL_A_NAME, args[0]);
		ctl_put_str(&b, CTL_A_IFNAME, args[1]);
		if (verb == V_TAP) {
			ctl_put_str(&b, CTL_A_PEER_IFNAME, args[2]);
			/* With our privileges (root may open any TAP): the
			 * daemon gets the open device. Otherwise it tries
			 * by name with its own. */
			o.pass_fd = open_tap(args[2]);
		}
		rc = simple(&o, &b);
		if (o.pass_fd >= 0)
			close(o.pass_fd);
		ctl_buf_free(&b);
		return rc;
	}
	rc = simple(&o, &b);
	ctl_buf_free(&b);
	return rc;
}
