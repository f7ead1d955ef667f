/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vimaged's operations: one function per request type of the control
 * protocol, each turning a validated request into core calls and a reply.
 * Every error names what was wrong: the vimage, the interface, the value.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "daemon.h"

#define ERRLEN 512

struct op {
	struct daemon *d;
	struct client *c;
	const struct ctl_msg *m;
	struct ctl_buf *rep;
	/* The caller's world: the root, or for a program running inside a
	 * vimage (vimage(8) under the preload library) that vimage. Names
	 * are relative to it and nothing outside it can be named. */
	struct vimage *scope;
	bool jailed;
	char err[ERRLEN];
};

/* name relative to the scope -> the absolute name (false: too long). */
static bool op_abs(struct op *o, const char *name, char *out, size_t size)
{
	int n;

	if (!o->jailed)
		n = snprintf(out, size, "%s", name);
	else if (!strcmp(name, "."))
		n = snprintf(out, size, "%s", vimage_name(o->scope));
	else
		n = snprintf(out, size, "%s.%s", vimage_name(o->scope), name);
	return n > 0 && (size_t)n < size;
}

/* The name the caller knows a vimage by. */
static const char *op_rel(const struct op *o, const struct vimage *vi)
{
	const char *n = vimage_name(vi);
	size_t k;

	if (!o->jailed)
		return n;
	if (vi == o->scope)
		return ".";
	k = strlen(vimage_name(o->scope));
	return n + k + 1;
}

static int op_fail(struct op *o, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int op_fail(struct op *o, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(o->err, sizeof(o->err), fmt, ap);
	va_end(ap);
	return code;
}

static bool op_str(struct op *o, uint16_t type, char *buf, size_t size)
{
	struct ctl_attr a;

	buf[0] = 0;
	if (!ctl_attr_find(o->m->attrs, o->m->attrs_len, type, &a))
		return false;
	ctl_attr_str(&a, buf, size);
	return true;
}

static bool op_attr(struct op *o, uint16_t type, struct ctl_attr *a)
{
	return ctl_attr_find(o->m->attrs, o->m->attrs_len, type, a);
}

static const char *fmt4(uint32_t a, char *buf)
{
	struct in_addr in = {.s_addr = htonl(a)};

	inet_ntop(AF_INET, &in, buf, INET_ADDRSTRLEN);
	return buf;
}

/* The vimage named by attribute type; "." is the root. */
static int op_vimage(struct op *o, uint16_t type, struct vimage **out)
{
	char name[VIMAGE_NAME_MAX + 1];
	const char *why = NULL;

	char full[VIMAGE_NAME_MAX + 1];

	op_str(o, type, name, sizeof(name));
	if (!strcmp(name, ".")) {
		*out = o->scope;
		return 0;
	}
	if (vimage_name_check(name, &why))
		return op_fail(o, -EINVAL, "bad vimage name '%s': %s", name,
			       why ? why : "invalid");
	if (!op_abs(o, name, full, sizeof(full)))
		return op_fail(o, -ENAMETOOLONG,
			       "vimage name '%s' too long here", name);
	*out = vimage_lookup(o->d->w, full);
	if (!*out)
		return op_fail(o, -ENOENT, "no vimage named '%s'", name);
	return 0;
}

static int op_ifnet(struct op *o, struct vimage *vi, uint16_t type,
		    struct ifnet **out)
{
	char name[VIF_NAMESIZ];

	op_str(o, type, name, sizeof(name));
	*out = vif_lookup(vi, name);
	if (!*out)
		return op_fail(o, -ENODEV, "no interface '%s' in vimage '%s'",
			       name, vimage_name(vi));
	return 0;
}

static bool in_subtree(const struct vimage *vi, const struct vimage *top)
{
	for (; vi; vi = vimage_parent(vi))
		if (vi == top)
			return true;
	return false;
}

/* ---- captures and pings that a destroy would pull the rug from under ---- */
static void capture_sink(void *ctx, const void *data, size_t len)
{
	struct capture *cap = ctx;
	const uint8_t *p = data;

	while (len && !cap->err) {
		ssize_t n = write(cap->fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			cap->err = n < 0 ? -errno : -EIO;
			break;
		}
		p += n;
		len -= (size_t)n;
	}
}

static void capture_free(struct daemon *d, struct capture **pp)
{
	struct capture *cap = *pp;

	vif_capture_stop(cap->ifp);
	close(cap->fd);
	daemon_log(d, VLOG_INFO, "capture of %s into %s stopped",
		   vif_name(cap->ifp), cap->path);
	*pp = cap->next;
	free(cap);
}

/* Stop the captures of one interface (it is about to go). */
static void release_captures_of(struct daemon *d, struct ifnet *ifp)
{
	for (struct capture **pp = &d->captures; *pp;) {
		if ((*pp)->ifp == ifp)
			capture_free(d, pp);
		else
			pp = &(*pp)->next;
	}
}

static void ping_finish(struct daemon *d, struct ping_job **pp, int err,
			const char *msg)
{
	struct ping_job *j = *pp;
	struct ctl_buf b;

	if (j->client) {
		if (err) {
			ops_reply_error(d, j->client, CTL_T_PING, j->id, err,
					msg);
		} else {
			ctl_buf_init(&b, CTL_REPLY_MAX);
			ctl_msg_begin(&b, CTL_T_REPLY | CTL_T_PING, 0, j->id);
			ctl_put_i32(&b, CTL_A_ERRNO, 0);
			ctl_put_u32(&b, CTL_A_SENT, j->sent);
			ctl_put_u32(&b, CTL_A_RECEIVED, j->received);
			for (uint32_t i = 0; i < j->nrtt; i++)
				ctl_put_u64(&b, CTL_A_RTT_NS, j->rtt[i]);
			if (!ctl_msg_end(&b))
				client_send(d, j->client, b.data, b.len);
			ctl_buf_free(&b);
		}
		j->client->waiting = false;
		d->clients_rescan = true; /* its held-back input, its eof */
	}
	vsock_close(j->so);
	*pp = j->next;
	free(j);
}

/* Before a vimage goes: stop what holds pointers into it. Captures are
 * stopped on every interface in the subtree and on ve peers of those (a ve
 * end that dies takes its peer). */
static void release_subtree(struct daemon *d, struct vimage *top)
{
	for (struct capture **pp = &d->captures; *pp;) {
		struct ifnet *peer = vif_ve_peer((*pp)->ifp);

		if (in_subtree(vif_vimage((*pp)->ifp), top) ||
		    (peer && in_subtree(vif_vimage(peer), top)))
			capture_free(d, pp);
		else
			pp = &(*pp)->next;
	}
	for (struct ping_job **pp = &d->pings; *pp;) {
		if (in_subtree((*pp)->vi, top))
			ping_finish(d, pp, -ENOENT,
				    "the vimage was destroyed during the ping");
		else
			pp = &(*pp)->next;
	}
}

static void tap_free(struct daemon *d, struct tap_att **pp)
{
	struct tap_att *ta = *pp;

	*pp = ta->next;
	epoll_ctl(d->ep, EPOLL_CTL_DEL, vtap_fd(ta->t), NULL);
	daemon_log(d, VLOG_INFO, "detached TAP %s", ta->dev);
	vtap_detach(ta->t);
	ta->t = NULL;
	/* An event of this batch may still name it. */
	ta->next = d->dead_taps;
	d->dead_taps = ta;
}

void ops_taps_reap(struct daemon *d)
{
	while (d->dead_taps) {
		struct tap_att *ta = d->dead_taps;

		d->dead_taps = ta->next;
		free(ta);
	}
}

/* TAP attachments whose interface dies with the subtree (or is gone). One
 * that was moved in from outside goes back to the parent and stays
 * attached. */
static void release_taps(struct daemon *d, struct vimage *top)
{
	for (struct tap_att **pp = &d->taps; *pp;) {
		struct ifnet *ifp = vtap_ifp((*pp)->t);

		if (!ifp || in_subtree(vif_home(ifp), top))
			tap_free(d, pp);
		else
			pp = &(*pp)->next;
	}
}

void ops_tap_input(struct daemon *d, struct tap_att *ta)
{
	int n;

	if (!ta->t)
		return;
	n = vtap_input(ta->t, 256);
	if (n < 0)
		daemon_log(d, VLOG_WARN, "TAP %s: %s", ta->dev, strerror(-n));
}

void ops_client_gone(struct daemon *d, struct client *c)
{
	for (struct ping_job *j = d->pings; j; j = j->next)
		if (j->client == c)
			j->client = NULL;
}

void ops_cleanup(struct daemon *d)
{
	while (d->captures)
		capture_free(d, &d->captures);
	while (d->pings)
		ping_finish(d, &d->pings, -ESHUTDOWN, "the daemon is stopping");
	while (d->taps)
		tap_free(d, &d->taps);
	ops_taps_reap(d);
}

/* ---- operations ------------------------------------------------------------
 */
static int op_hello(struct op *o)
{
	ctl_put_u32(o->rep, CTL_A_PID, (uint32_t)getpid());
	ctl_put_u32(o->rep, CTL_A_UID, (uint32_t)o->d->uid);
	ctl_put_u32(o->rep, CTL_A_VERSION, CTL_VERSION);
	return 0;
}

static int op_create(struct op *o)
{
	char name[VIMAGE_NAME_MAX + 1], parent[VIMAGE_NAME_MAX + 1], *dot;
	const char *why = NULL;
	struct vimage *vi;
	int rc;

	char rel[VIMAGE_NAME_MAX + 1];

	op_str(o, CTL_A_NAME, rel, sizeof(rel));
	if (!strcmp(rel, "."))
		return op_fail(o, -EEXIST,
			       "vimage '.' is %s; it always exists",
			       o->jailed ? "this vimage" : "the root");
	if (vimage_name_check(rel, &why))
		return op_fail(o, -EINVAL, "bad vimage name '%s': %s", rel,
			       why ? why : "invalid");
	if (!op_abs(o, rel, name, sizeof(name)) ||
	    vimage_name_check(name, &why))
		return op_fail(o, -ENAMETOOLONG,
			       "vimage name '%s' too long here", rel);
	rc = vimage_create(o->d->w, name, &vi);
	if (rc == -EEXIST)
		return op_fail(o, rc, "vimage '%s' already exists", name);
	if (rc == -ENOENT) {
		snprintf(parent, sizeof(parent), "%s", name);
		dot = strrchr(parent, '.');
		if (dot)
			*dot = 0;
		return op_fail(o, rc,
			       "cannot create '%s': parent vimage '%s' does "
			       "not exist",
			       name, parent);
	}
	if (rc)
		return op_fail(o, rc, "cannot create vimage '%s': %s", name,
			       strerror(-rc));
	daemon_log(o->d, VLOG_INFO, "created vimage %s", name);
	return 0;
}

static int op_destroy(struct op *o)
{
	struct vimage *vi, *ch;
	char name[VIMAGE_NAME_MAX + 1];
	int rc;

	rc = op_vimage(o, CTL_A_NAME, &vi);
	if (rc)
		return rc;
	if (vi == o->scope)
		return op_fail(o, -EPERM,
			       o->jailed ? "a process cannot destroy the "
					   "vimage it runs in"
					 : "the root vimage '.' cannot be "
					   "destroyed");
	ch = vimage_first_child(vi);
	if (ch && !(o->m->hdr.flags & CTL_F_FORCE)) {
		unsigned n = 0;

		for (struct vimage *x = ch; x; x = vimage_next_sibling(x))
			n++;
		return op_fail(o, -ENOTEMPTY,
			       "vimage '%s' has %u child vimage%s (first: "
			       "'%s'); destroy them first or force with -f",
			       vimage_name(vi), n, n == 1 ? "" : "s",
			       vimage_name(ch));
	}
	if (!(o->m->hdr.flags & CTL_F_FORCE)) {
		unsigned np = 0;

		for (struct client *c = o->d->clients; c; c = c->next)
			np += c->attached && c->vi && in_subtree(c->vi, vi);
		if (np)
			return op_fail(o, -EBUSY,
				       "vimage '%s' has %u process%s attached; "
				       "end them first or force with -f",
				       vimage_name(vi), np,
				       np == 1 ? "" : "es");
	}
	snprintf(name, sizeof(name), "%s", vimage_name(vi));
	release_subtree(o->d, vi);
	release_taps(o->d, vi);
	ss_release_subtree(o->d, vi);
	rc = vimage_destroy(vi);
	if (rc)
		return op_fail(o, rc, "cannot destroy vimage '%s': %s", name,
			       strerror(-rc));
	daemon_log(o->d, VLOG_INFO, "destroyed vimage %s", name);
	return 0;
}

struct count_ctx {
	unsigned n;
};

static int count_addr(void *ctx, const struct vif_addr_info *a)
{
	((struct count_ctx *)ctx)->n++;
	return 0;
}

static int count_route(void *ctx, const struct vroute *r)
{
	((struct count_ctx *)ctx)->n++;
	return 0;
}

static int put_addr(void *ctx, const struct vif_addr_info *a)
{
	struct ctl_buf *b = ctx;

	if (a->addr.family != AF_INET)
		return 0;
	ctl_nest_begin(b, CTL_A_ADDR);
	ctl_put_addr4(b, CTL_A_ADDR4, a->addr.v4);
	ctl_put_u8(b, CTL_A_PLEN, (uint8_t)a->plen);
	ctl_nest_end(b);
	return 0;
}

static int put_route(void *ctx, const struct vroute *r)
{
	struct ctl_buf *b = ctx;

	if (r->dst.family != AF_INET)
		return 0;
	ctl_nest_begin(b, CTL_A_ROUTE);
	ctl_put_addr4(b, CTL_A_DST4, r->dst.v4);
	ctl_put_u8(b, CTL_A_PLEN, (uint8_t)r->plen);
	if (r->gw.family == AF_INET)
		ctl_put_addr4(b, CTL_A_GW4, r->gw.v4);
	if (r->ifp)
		ctl_put_str(b, CTL_A_IFNAME, vif_name(r->ifp));
	ctl_put_u32(b, CTL_A_RTTYPE, (uint32_t)r->type);
	ctl_nest_end(b);
	return 0;
}

static bool capturing(struct daemon *d, const struct ifnet *ifp)
{
	for (struct capture *c = d->captures; c; c = c->next)
		if (c->ifp == ifp)
			return true;
	return false;
}

static void put_vimage(struct op *o, struct vimage *vi, bool verbose)
{
	struct ctl_buf *b = o->rep;
	struct count_ctx addrs = {0}, routes = {0};
	unsigned nifs = 0, nch = 0;
	struct ifnet *ifp;

	for (ifp = vif_first(vi); ifp; ifp = vif_next(ifp)) {
		nifs++;
		vif_addr_walk(ifp, count_addr, &addrs);
	}
	vroute_walk(vi, AF_INET, false, count_route, &routes);
	for (struct vimage *x = vimage_first_child(vi); x;
	     x = vimage_next_sibling(x))
		nch++;
	ctl_nest_begin(b, CTL_A_VIMAGE);
	ctl_put_str(b, CTL_A_NAME, op_rel(o, vi));
	ctl_put_u32(b, CTL_A_N_IFS, nifs);
	ctl_put_u32(b, CTL_A_N_ADDRS, addrs.n);
	ctl_put_u32(b, CTL_A_N_ROUTES, routes.n);
	ctl_put_u32(b, CTL_A_N_SOCKETS, vsock_count(vi));
	ctl_put_u32(b, CTL_A_N_PROCS, ss_procs(o->d, vi));
	ctl_put_u32(b, CTL_A_N_CHILDREN, nch);
	for (ifp = vif_first(vi); verbose && ifp; ifp = vif_next(ifp)) {
		struct vif_stats st;
		struct ifnet *peer = vif_ve_peer(ifp);
		uint8_t mac[6];
		char pbuf[VIMAGE_NAME_MAX + VIF_NAMESIZ + 2];

		vif_get_stats(ifp, &st);
		vif_mac(ifp, mac);
		ctl_nest_begin(b, CTL_A_IF);
		ctl_put_str(b, CTL_A_IFNAME, vif_name(ifp));
		ctl_put_u32(b, CTL_A_IFTYPE, (uint32_t)vif_type(ifp));
		ctl_put_u32(b, CTL_A_FLAGS, vif_flags(ifp));
		ctl_put_u32(b, CTL_A_MTU, vif_mtu(ifp));
		ctl_put(b, CTL_A_MAC, mac, sizeof(mac));
		vif_addr_walk(ifp, put_addr, b);
		ctl_put_u64(b, CTL_A_RX_PACKETS, st.ipackets);
		ctl_put_u64(b, CTL_A_TX_PACKETS, st.opackets);
		ctl_put_u64(b, CTL_A_RX_BYTES, st.ibytes);
		ctl_put_u64(b, CTL_A_TX_BYTES, st.obytes);
		if (peer) {
			snprintf(pbuf, sizeof(pbuf), "%s:%s",
				 vimage_name(vif_vimage(peer)), vif_name(peer));
			ctl_put_str(b, CTL_A_PEER_OF, pbuf);
		}
		ctl_put_u8(b, CTL_A_CAPTURING, capturing(o->d, ifp));
		ctl_nest_end(b);
	}
	if (verbose)
		vroute_walk(vi, AF_INET, false, put_route, b);
	ctl_nest_end(b);
}

static void list_tree(struct op *o, struct vimage *vi, bool rec, bool verbose)
{
	for (struct vimage *x = vimage_first_child(vi); x;
	     x = vimage_next_sibling(x)) {
		put_vimage(o, x, verbose);
		if (rec)
			list_tree(o, x, rec, verbose);
	}
}

static int op_list(struct op *o)
{
	bool rec = o->m->hdr.flags & CTL_F_RECURSIVE;
	bool verbose = o->m->hdr.flags & CTL_F_VERBOSE;
	struct ctl_attr a;
	struct vimage *vi;
	int rc;

	if (!op_attr(o, CTL_A_NAME, &a)) {
		list_tree(o, o->scope, rec, verbose);
		return 0;
	}
	rc = op_vimage(o, CTL_A_NAME, &vi);
	if (rc)
		return rc;
	if (vi == o->scope) {
		put_vimage(o, vi, verbose);
		list_tree(o, vi, rec, verbose);
		return 0;
	}
	put_vimage(o, vi, verbose);
	if (rec)
		list_tree(o, vi, rec, verbose);
	return 0;
}

static int op_move(struct op *o)
{
	struct vimage *vi, *parent;
	struct ifnet *ifp;
	char newname[VIF_NAMESIZ], ifname[VIF_NAMESIZ];
	const char *target;
	int rc;

	rc = op_vimage(o, CTL_A_NAME, &vi);
	if (rc)
		return rc;
	parent = vimage_parent(vi);
	if (!parent)
		return op_fail(o, -EPERM,
			       "the root vimage '.' has no parent to take an "
			       "interface from");
	if (vi == o->scope)
		return op_fail(o, -EPERM,
			       "the parent of this vimage is outside it: a "
			       "process may manage only its own vimage's "
			       "descendants");
	op_str(o, CTL_A_IFNAME, ifname, sizeof(ifname));
	ifp = vif_lookup(parent, ifname);
	if (!ifp)
		return op_fail(o, -ENODEV,
			       "no interface '%s' in vimage '%s' (the parent "
			       "of '%s')",
			       ifname, vimage_name(parent), vimage_name(vi));
	op_str(o, CTL_A_NEWNAME, newname, sizeof(newname));
	target = newname[0] ? newname : ifname;
	if (vif_lookup(vi, target))
		return op_fail(o, -EEXIST,
			       "vimage '%s' already has an interface named "
			       "'%s'",
			       vimage_name(vi), target);
	rc = vif_move(ifp, vi, newname[0] ? newname : NULL);
	if (rc == -EPERM && vif_type(ifp) == VIF_LOOPBACK)
		return op_fail(o, rc,
			       "interface '%s' is a loopback; it cannot "
			       "move",
			       ifname);
	if (rc)
		return op_fail(
		    o, rc, "cannot move '%s' from '%s' into '%s': %s", ifname,
		    vimage_name(parent), vimage_name(vi), strerror(-rc));
	return 0;
}

static int op_ve(struct op *o)
{
	struct vimage *va, *vb;
	struct ifnet *a, *b;
	char na[VIF_NAMESIZ], nb[VIF_NAMESIZ];
	int rc;

	if ((rc = op_vimage(o, CTL_A_NAME, &va)) ||
	    (rc = op_vimage(o, CTL_A_PEER, &vb)))
		return rc;
	op_str(o, CTL_A_IFNAME, na, sizeof(na));
	op_str(o, CTL_A_PEER_IFNAME, nb, sizeof(nb));
	if (va == vb && !strcmp(na, nb))
		return op_fail(o, -EEXIST,
			       "both ends of the ve pair are named '%s' in "
			       "vimage '%s'",
			       na, vimage_name(va));
	if (vif_lookup(va, na))
		return op_fail(o, -EEXIST,
			       "vimage '%s' already has an interface named "
			       "'%s'",
			       vimage_name(va), na);
	if (vif_lookup(vb, nb))
		return op_fail(o, -EEXIST,
			       "vimage '%s' already has an interface named "
			       "'%s'",
			       vimage_name(vb), nb);
	rc = vif_ve_create(va, na, vb, nb, &a, &b);
	if (rc)
		return op_fail(o, rc, "cannot create ve pair %s:%s - %s:%s: %s",
			       vimage_name(va), na, vimage_name(vb), nb,
			       strerror(-rc));
	return 0;
}

static int op_link(struct op *o)
{
	struct vimage *vi;
	struct ifnet *ifp;
	struct ctl_attr a;
	int rc;

	if ((rc = op_vimage(o, CTL_A_NAME, &vi)) ||
	    (rc = op_ifnet(o, vi, CTL_A_IFNAME, &ifp)))
		return rc;
	op_attr(o, CTL_A_UP, &a);
	rc = vif_set_up(ifp, ctl_attr_u8(&a));
	if (rc)
		return op_fail(o, rc, "cannot set '%s' in '%s' %s: %s",
			       vif_name(ifp), vimage_name(vi),
			       ctl_attr_u8(&a) ? "up" : "down", strerror(-rc));
	return 0;
}

static int op_addr(struct op *o, bool add)
{
	struct vimage *vi;
	struct ifnet *ifp;
	struct ctl_attr a;
	struct vaddr va;
	unsigned plen;
	char ab[INET_ADDRSTRLEN];
	int rc;

	if ((rc = op_vimage(o, CTL_A_NAME, &vi)) ||
	    (rc = op_ifnet(o, vi, CTL_A_IFNAME, &ifp)))
		return rc;
	op_attr(o, CTL_A_ADDR4, &a);
	va = vaddr_v4(ctl_attr_addr4(&a));
	op_attr(o, CTL_A_PLEN, &a);
	plen = ctl_attr_u8(&a);
	rc = add ? vif_addr_add(ifp, &va, plen) : vif_addr_del(ifp, &va, plen);
	if (rc == -EEXIST)
		return op_fail(o, rc, "'%s' in '%s' already has %s/%u",
			       vif_name(ifp), vimage_name(vi), fmt4(va.v4, ab),
			       plen);
	if (rc == -EADDRNOTAVAIL || (!add && rc == -ENOENT) ||
	    (!add && rc == -ESRCH))
		return op_fail(o, rc, "'%s' in '%s' has no address %s/%u",
			       vif_name(ifp), vimage_name(vi), fmt4(va.v4, ab),
			       plen);
	if (rc)
		return op_fail(o, rc, "cannot %s %s/%u %s '%s' in '%s': %s",
			       add ? "add" : "remove", fmt4(va.v4, ab), plen,
			       add ? "to" : "from", vif_name(ifp),
			       vimage_name(vi), strerror(-rc));
	return 0;
}

static int op_route(struct op *o, bool add)
{
	struct vimage *vi;
	struct vroute r = {0};
	struct ctl_attr a;
	uint32_t mask;
	char ab[INET_ADDRSTRLEN], gb[INET_ADDRSTRLEN];
	int rc;

	rc = op_vimage(o, CTL_A_NAME, &vi);
	if (rc)
		return rc;
	op_attr(o, CTL_A_DST4, &a);
	r.dst = vaddr_v4(ctl_attr_addr4(&a));
	op_attr(o, CTL_A_PLEN, &a);
	r.plen = ctl_attr_u8(&a);
	mask = r.plen ? ~0u << (32 - r.plen) : 0;
	if (r.dst.v4 & ~mask)
		return op_fail(o, -EINVAL,
			       "route %s/%u has bits set beyond the prefix "
			       "length",
			       fmt4(r.dst.v4, ab), r.plen);
	if (!add) {
		rc = vroute_del(vi, &r.dst, r.plen);
		if (rc == -ESRCH)
			return op_fail(o, rc, "no route %s/%u in vimage '%s'",
				       fmt4(r.dst.v4, ab), r.plen,
				       vimage_name(vi));
		if (rc)
			return op_fail(o, rc, "cannot delete %s/%u in '%s': %s",
				       fmt4(r.dst.v4, ab), r.plen,
				       vimage_name(vi), strerror(-rc));
		return 0;
	}
	r.type = VRT_UNICAST;
	r.proto = VRT_PROTO_STATIC;
	if (op_attr(o, CTL_A_GW4, &a))
		r.gw = vaddr_v4(ctl_attr_addr4(&a));
	if (op_attr(o, CTL_A_IFNAME, &a) &&
	    (rc = op_ifnet(o, vi, CTL_A_IFNAME, &r.ifp)))
		return rc;
	if (!r.gw.family && !r.ifp)
		return op_fail(o, -EINVAL,
			       "route %s/%u needs a gateway (via) or an "
			       "interface (dev)",
			       fmt4(r.dst.v4, ab), r.plen);
	rc = vroute_add(vi, &r);
	if (rc == -EEXIST)
		return op_fail(o, rc, "vimage '%s' already has a route %s/%u",
			       vimage_name(vi), fmt4(r.dst.v4, ab), r.plen);
	if (rc == -ENETUNREACH)
		return op_fail(o, rc,
			       "gateway %s is not on a connected network of "
			       "vimage '%s'",
			       fmt4(r.gw.v4, gb), vimage_name(vi));
	if (rc)
		return op_fail(o, rc, "cannot add route %s/%u in '%s': %s",
			       fmt4(r.dst.v4, ab), r.plen, vimage_name(vi),
			       strerror(-rc));
	return 0;
}

static int op_sysctl_set(struct op *o)
{
	struct vimage *vi;
	struct ctl_attr a;
	char key[128];
	int64_t v;
	int rc;

	rc = op_vimage(o, CTL_A_NAME, &vi);
	if (rc)
		return rc;
	op_str(o, CTL_A_KEY, key, sizeof(key));
	op_attr(o, CTL_A_I64, &a);
	v = ctl_attr_i64(&a);
	rc = vimage_sysctl_set(vi, key, v);
	if (rc == -ENOENT)
		return op_fail(o, rc, "unknown sysctl '%s'", key);
	if (rc == -EINVAL)
		return op_fail(o, rc, "value %lld out of range for '%s'",
			       (long long)v, key);
	if (rc)
		return op_fail(o, rc, "cannot set '%s' in '%s': %s", key,
			       vimage_name(vi), strerror(-rc));
	return 0;
}

static int put_knob(void *ctx, const char *name, int64_t val)
{
	struct ctl_buf *b = ctx;

	ctl_nest_begin(b, CTL_A_STAT);
	ctl_put_str(b, CTL_A_KEY, name);
	ctl_put_i64(b, CTL_A_I64, val);
	ctl_nest_end(b);
	return 0;
}

static int put_stat(void *ctx, const char *name, uint64_t val)
{
	struct ctl_buf *b = ctx;

	ctl_nest_begin(b, CTL_A_STAT);
	ctl_put_str(b, CTL_A_KEY, name);
	ctl_put_u64(b, CTL_A_U64, val);
	ctl_nest_end(b);
	return 0;
}

static int op_sysctl_get(struct op *o)
{
	struct vimage *vi;
	char key[128];
	int64_t v;
	int rc;

	rc = op_vimage(o, CTL_A_NAME, &vi);
	if (rc)
		return rc;
	if (!op_str(o, CTL_A_KEY, key, sizeof(key)))
		return vimage_sysctl_walk(vi, put_knob, o->rep);
	rc = vimage_sysctl_get(vi, key, &v);
	if (rc)
		return op_fail(o, rc, "unknown sysctl '%s'", key);
	put_knob(o->rep, key, v);
	return 0;
}

static int op_capture_start(struct op *o)
{
	struct vimage *vi;
	struct ifnet *ifp;
	struct capture *cap;
	struct ctl_attr a;
	uint32_t snaplen = 0;
	int rc;

	if ((rc = op_vimage(o, CTL_A_NAME, &vi)) ||
	    (rc = op_ifnet(o, vi, CTL_A_IFNAME, &ifp)))
		return rc;
	if (capturing(o->d, ifp))
		return op_fail(o, -EBUSY,
			       "a capture of '%s' in '%s' is already running",
			       vif_name(ifp), vimage_name(vi));
	if (op_attr(o, CTL_A_SNAPLEN, &a))
		snaplen = ctl_attr_u32(&a);
	cap = calloc(1, sizeof(*cap));
	if (!cap)
		return op_fail(o, -ENOMEM, "out of memory");
	op_str(o, CTL_A_PATH, cap->path, sizeof(cap->path));
	/* The daemon runs as the client's uid (SO_PEERCRED), so the file is
	 * created with the client's rights; never follow a planted link and
	 * never truncate an existing file. */
	cap->fd =
	    open(cap->path,
		 O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (cap->fd < 0) {
		rc = -errno;
		op_fail(o, rc, "cannot create capture file '%s': %s", cap->path,
			strerror(-rc));
		free(cap);
		return rc;
	}
	cap->ifp = ifp;
	rc = vif_capture_start(ifp, capture_sink, cap, snaplen);
	if (rc) {
		close(cap->fd);
		unlink(cap->path);
		op_fail(o, rc, "cannot capture '%s' in '%s': %s", vif_name(ifp),
			vimage_name(vi), strerror(-rc));
		free(cap);
		return rc;
	}
	cap->next = o->d->captures;
	o->d->captures = cap;
	daemon_log(o->d, VLOG_INFO, "capture of %s in %s into %s",
		   vif_name(ifp), vimage_name(vi), cap->path);
	return 0;
}

static int op_capture_stop(struct op *o)
{
	struct vimage *vi;
	struct ifnet *ifp;
	int rc, err;

	if ((rc = op_vimage(o, CTL_A_NAME, &vi)) ||
	    (rc = op_ifnet(o, vi, CTL_A_IFNAME, &ifp)))
		return rc;
	for (struct capture **pp = &o->d->captures; *pp; pp = &(*pp)->next) {
		if ((*pp)->ifp != ifp)
			continue;
		err = (*pp)->err;
		if (err)
			op_fail(o, err, "capture file '%s': write failed: %s",
				(*pp)->path, strerror(-err));
		capture_free(o->d, pp);
		return err;
	}
	return op_fail(o, -ENOENT, "no capture running on '%s' in '%s'",
		       vif_name(ifp), vimage_name(vi));
}

static int op_stats(struct op *o)
{
	struct vimage *vi;
	struct world_counts wc;
	int rc;

	if (!op_attr(o, CTL_A_NAME, &(struct ctl_attr){0})) {
		world_counts(o->d->w, &wc);
		put_stat(o->rep, "world.vimages", wc.vimages);
		put_stat(o->rep, "world.ifnets", wc.ifnets);
		put_stat(o->rep, "world.sockets", wc.sockets);
		put_stat(o->rep, "world.routes", wc.routes);
		put_stat(o->rep, "world.neighbours", wc.neighbours);
		put_stat(o->rep, "world.timers", wc.timers);
		put_stat(o->rep, "world.pkts", wc.pkts);
		put_stat(o->rep, "world.tcp_conns", wc.tcp_conns);
		put_stat(o->rep, "daemon.clients", o->d->nclients);
		put_stat(o->rep, "daemon.sockets", o->d->nssocks);
		put_stat(o->rep, "daemon.bad_dgrams", o->d->ss_bad_dgrams);
		put_stat(o->rep, "daemon.dropped_dgrams", o->d->ss_dropped);
		return 0;
	}
	rc = op_vimage(o, CTL_A_NAME, &vi);
	if (rc)
		return rc;
	return vimage_stats_walk(vi, put_stat, o->rep);
}

static int op_log_level(struct op *o)
{
	struct vimage *vi;
	struct ctl_attr a;
	int rc;

	op_attr(o, CTL_A_LEVEL, &a);
	if (!op_attr(o, CTL_A_NAME, &(struct ctl_attr){0})) {
		o->d->log_level = (int)ctl_attr_u32(&a);
		return 0;
	}
	rc = op_vimage(o, CTL_A_NAME, &vi);
	if (rc)
		return rc;
	vimage_set_log_level(vi, (int)ctl_attr_u32(&a));
	return 0;
}

/* ---- shapers and bridges ---------------------------------------------------
 */
/* The shaper's parameters by the names the protocol uses. */
static const struct shape_key {
	const char *name;
	size_t off;
	uint64_t max;
	const char *what;
} shape_keys[] = {
    {"rate", offsetof(struct vshaper_params, bandwidth), VSHAPE_BANDWIDTH_MAX,
     "bit/s"},
    {"delay_ns", offsetof(struct vshaper_params, delay_ns), VSHAPE_DELAY_MAX,
     "ns"},
    {"jitter_ns", offsetof(struct vshaper_params, jitter_ns),
     VSHAPE_DELAY_MAX, "ns"},
    {"loss", offsetof(struct vshaper_params, loss), VSHAPE_PROB_ONE,
     "parts per 1e18"},
    {"ber", offsetof(struct vshaper_params, ber), VSHAPE_PROB_ONE,
     "parts per 1e18"},
    {"duplicate", offsetof(struct vshaper_params, duplicate), VSHAPE_PROB_ONE,
     "parts per 1e18"},
    {"reorder", offsetof(struct vshaper_params, reorder), VSHAPE_PROB_ONE,
     "parts per 1e18"},
    {"limit", offsetof(struct vshaper_params, queue_pkts), 0, "frames"},
    {"limit_bytes", offsetof(struct vshaper_params, queue_bytes), 0, "bytes"},
};

static int op_shape_dir(struct op *o, int *dir)
{
	struct ctl_attr a;

	op_attr(o, CTL_A_ARG, &a);
	*dir = ctl_attr_i32(&a);
	if (*dir != VSHAPE_EGRESS && *dir != VSHAPE_INGRESS)
		return op_fail(o, -EINVAL, "shaper direction %d: 0 (egress) or "
					   "1 (ingress)",
			       *dir);
	return 0;
}

static int op_shape(struct op *o)
{
	struct vshaper_params p;
	struct vimage *vi;
	struct ifnet *ifp;
	struct ctl_attr a;
	size_t pos = 0;
	int rc, dir;
	bool any = false;

	if ((rc = op_vimage(o, CTL_A_NAME, &vi)) ||
	    (rc = op_ifnet(o, vi, CTL_A_IFNAME, &ifp)) ||
	    (rc = op_shape_dir(o, &dir)))
		return rc;
	memset(&p, 0, sizeof(p));
	/* Every value is checked before anything changes. */
	while (ctl_attr_next(o->m->attrs, o->m->attrs_len, &pos, &a)) {
		struct ctl_attr k, v;
		char key[64];
		size_t i;

		if (a.type != CTL_A_STAT)
			continue;
		if (!ctl_attr_find(a.val, a.len, CTL_A_KEY, &k) ||
		    !ctl_attr_find(a.val, a.len, CTL_A_U64, &v))
			return op_fail(o, -EINVAL,
				       "a shaper parameter needs a key and a "
				       "u64 value");
		ctl_attr_str(&k, key, sizeof(key));
		for (i = 0; i < sizeof(shape_keys) / sizeof(shape_keys[0]); i++)
			if (!strcmp(key, shape_keys[i].name))
				break;
		if (i == sizeof(shape_keys) / sizeof(shape_keys[0]))
			return op_fail(o, -EINVAL,
				       "unknown shaper parameter '%s'", key);
		if (shape_keys[i].max && ctl_attr_u64(&v) > shape_keys[i].max)
			return op_fail(
			    o, -ERANGE,
			    "shaper %s %llu out of range (at most %llu %s)",
			    key, (unsigned long long)ctl_attr_u64(&v),
			    (unsigned long long)shape_keys[i].max,
			    shape_keys[i].what);
		{
			uint64_t val = ctl_attr_u64(&v);

			memcpy((uint8_t *)&p + shape_keys[i].off, &val,
			       sizeof(val));
		}
		any = true;
	}
	rc = vif_shaper_set(ifp, dir, any ? &p : NULL);
	if (rc)
		return op_fail(o, rc, "cannot shape %s of '%s' in '%s': %s",
			       dir ? "ingress" : "egress", vif_name(ifp),
			       vimage_name(vi), strerror(-rc));
	daemon_log(o->d, VLOG_INFO, "%s %s %s shaper %s", vimage_name(vi),
		   vif_name(ifp), dir ? "ingress" : "egress",
		   any ? "set" : "removed");
	return 0;
}

static int op_shape_get(struct op *o)
{
	struct vshaper_params p;
	struct vshaper_stats st;
	struct vimage *vi;
	struct ifnet *ifp;
	int rc, dir;

	if ((rc = op_vimage(o, CTL_A_NAME, &vi)) ||
	    (rc = op_ifnet(o, vi, CTL_A_IFNAME, &ifp)) ||
	    (rc = op_shape_dir(o, &dir)))
		return rc;
	if (vif_shaper_get(ifp, dir, &p))
		return 0; /* none: no parameters */
	for (size_t i = 0; i < sizeof(shape_keys) / sizeof(shape_keys[0]);
	     i++) {
		uint64_t v;

		memcpy(&v, (const uint8_t *)&p + shape_keys[i].off, sizeof(v));
		put_stat(o->rep, shape_keys[i].name, v);
	}
	if (!vif_shaper_stats(ifp, dir, &st)) {
		put_stat(o->rep, "stat.enqueued", st.enqueued);
		put_stat(o->rep, "stat.sent", st.sent);
		put_stat(o->rep, "stat.dropped_loss", st.dropped_loss);
		put_stat(o->rep, "stat.dropped_ber", st.dropped_ber);
		put_stat(o->rep, "stat.dropped_queue", st.dropped_queue);
		put_stat(o->rep, "stat.duplicated", st.duplicated);
		put_stat(o->rep, "stat.reordered", st.reordered);
		put_stat(o->rep, "stat.queued_pkts", st.queued_pkts);
		put_stat(o->rep, "stat.queued_bytes", st.queued_bytes);
	}
	return 0;
}

static int op_bridge(struct op *o)
{
	struct vimage *vi;
	struct ifnet *br, *port;
	struct ctl_attr a;
	char name[VIF_NAMESIZ];
	int rc, op;

	if ((rc = op_vimage(o, CTL_A_NAME, &vi)))
		return rc;
	op_attr(o, CTL_A_ARG, &a);
	op = ctl_attr_i32(&a);
	if (op == CTL_BR_CREATE) {
		op_str(o, CTL_A_IFNAME, name, sizeof(name));
		rc = vif_bridge_create(vi, name, &br);
		if (rc)
			return op_fail(o, rc, "cannot create bridge '%s' in '%s': %s",
				       name, vimage_name(vi),
				       rc == -EEXIST ? "the name is taken"
						     : strerror(-rc));
		return 0;
	}
	if (op != CTL_BR_ADDIF && op != CTL_BR_DELIF && op != CTL_BR_DESTROY)
		return op_fail(o, -EINVAL, "unknown bridge operation %d", op);
	if ((rc = op_ifnet(o, vi, CTL_A_IFNAME, &br)))
		return rc;
	if (vif_type(br) != VIF_BRIDGE)
		return op_fail(o, -EINVAL, "'%s' in '%s' is not a bridge",
			       vif_name(br), vimage_name(vi));
	if (op == CTL_BR_DESTROY) {
		/* Its ports stay, as plain interfaces. */
		release_captures_of(o->d, br);
		rc = vif_destroy(br);
		return rc ? op_fail(o, rc, "cannot destroy bridge '%s': %s",
				    vif_name(br), strerror(-rc))
			  : 0;
	}
	if (!op_attr(o, CTL_A_NEWNAME, &a))
		return op_fail(o, -EINVAL, "which interface? (a port name)");
	if ((rc = op_ifnet(o, vi, CTL_A_NEWNAME, &port)))
		return rc;
	rc = op == CTL_BR_ADDIF ? vif_bridge_add_port(br, port)
				: vif_bridge_del_port(br, port);
	if (rc)
		return op_fail(o, rc, "cannot %s '%s' %s bridge '%s' in '%s': %s",
			       op == CTL_BR_ADDIF ? "add" : "remove",
			       vif_name(port),
			       op == CTL_BR_ADDIF ? "to" : "from", vif_name(br),
			       vimage_name(vi),
			       rc == -EBUSY ? "it is a port of a bridge already"
			       : rc == -ENOENT
				   ? "it is not a port of this bridge"
				   : strerror(-rc));
	return 0;
}

struct fdb_ctx {
	struct op *o;
	struct vimage *vi;
};

static int put_fdb(void *ctx, const struct vif_bridge_fdb_entry *e)
{
	struct fdb_ctx *f = ctx;
	struct ifnet *port = vif_by_index(f->vi, e->port);
	struct ctl_buf *b = f->o->rep;

	ctl_nest_begin(b, CTL_A_IF);
	ctl_put(b, CTL_A_MAC, e->mac, 6);
	ctl_put_str(b, CTL_A_IFNAME, port ? vif_name(port) : "?");
	ctl_put_u64(b, CTL_A_U64, e->age_ns);
	ctl_put_u32(b, CTL_A_FLAGS, e->is_local);
	ctl_nest_end(b);
	return 0;
}

static int op_bridge_fdb(struct op *o)
{
	struct fdb_ctx f = {.o = o};
	struct ifnet *br;
	int rc;

	if ((rc = op_vimage(o, CTL_A_NAME, &f.vi)) ||
	    (rc = op_ifnet(o, f.vi, CTL_A_IFNAME, &br)))
		return rc;
	if (vif_type(br) != VIF_BRIDGE)
		return op_fail(o, -EINVAL, "'%s' in '%s' is not a bridge",
			       vif_name(br), vimage_name(f.vi));
	vif_bridge_fdb_walk(br, put_fdb, &f);
	return 0;
}

/* ---- TAP attachment ----------------------------------------------------------
 */
static int op_tap(struct op *o)
{
	char ifname[VIF_NAMESIZ], dev[16];
	struct vimage *vi;
	struct tap_att *ta;
	struct epoll_event ev;
	int rc;

	if ((rc = op_vimage(o, CTL_A_NAME, &vi)))
		return rc;
	op_str(o, CTL_A_IFNAME, ifname, sizeof(ifname));
	op_str(o, CTL_A_PEER_IFNAME, dev, sizeof(dev));
	if (vif_lookup(vi, ifname))
		return op_fail(o, -EEXIST, "'%s' already has an interface '%s'",
			       vimage_name(vi), ifname);
	ta = calloc(1, sizeof(*ta));
	if (!ta)
		return op_fail(o, -ENOMEM, "out of memory");
	if (o->c->passed_fd >= 0) {
		/* Opened by the client with its privileges. */
		rc = vtap_attach_fd(vi, o->c->passed_fd, ifname, &ta->t);
		if (!rc)
			o->c->passed_fd = -1;
	} else if (!if_nametoindex(dev)) {
		/* vtap_attach would make one: only for a privileged
		 * daemon, and never by a typo. */
		free(ta);
		return op_fail(o, -ENODEV,
			       "no TAP device '%s' (make it with: ip tuntap add "
			       "dev %s mode tap user UID)",
			       dev, dev);
	} else {
		rc = vtap_attach(vi, dev, ifname, &ta->t);
	}
	if (rc) {
		free(ta);
		return op_fail(
		    o, rc, "cannot attach TAP device '%s': %s%s", dev,
		    strerror(-rc),
		    rc == -EPERM || rc == -EACCES
			? " (an unprivileged daemon needs a TAP device made "
			  "for its user: ip tuntap add dev NAME mode tap user "
			  "UID)"
			: "");
	}
	ta->kind = EPK_TAP;
	snprintf(ta->dev, sizeof(ta->dev), "%s", dev);
	ev.events = EPOLLIN;
	ev.data.ptr = ta;
	if (epoll_ctl(o->d->ep, EPOLL_CTL_ADD, vtap_fd(ta->t), &ev)) {
		rc = -errno;
		vtap_detach(ta->t);
		free(ta);
		return op_fail(o, rc, "epoll: %s", strerror(-rc));
	}
	ta->next = o->d->taps;
	o->d->taps = ta;
	daemon_log(o->d, VLOG_INFO, "%s: %s attached to TAP %s",
		   vimage_name(vi), ifname, dev);
	return 0;
}

static int op_tap_del(struct op *o)
{
	struct vimage *vi;
	struct ifnet *ifp;
	int rc;

	if ((rc = op_vimage(o, CTL_A_NAME, &vi)) ||
	    (rc = op_ifnet(o, vi, CTL_A_IFNAME, &ifp)))
		return rc;
	for (struct tap_att **pp = &o->d->taps; *pp; pp = &(*pp)->next) {
		if (vtap_ifp((*pp)->t) == ifp) {
			tap_free(o->d, pp);
			return 0;
		}
	}
	return op_fail(o, -EINVAL, "'%s' in '%s' is not attached to a TAP",
		       vif_name(ifp), vimage_name(vi));
}

/* ---- ping: the one deferred reply ---------------------------------------- */
static int ping_send(struct daemon *d, struct ping_job *j, uint64_t now)
{
	uint8_t req[64] = {ICMP_ECHO, 0};
	struct sockaddr_in to = {.sin_family = AF_INET};
	ssize_t n;

	to.sin_addr.s_addr = htonl(j->dst);
	req[6] = (uint8_t)(j->sent >> 8);
	req[7] = (uint8_t)j->sent;
	memset(req + 8, 0xa5, sizeof(req) - 8);
	n = vsock_sendto(j->so, req, sizeof(req), 0, (struct sockaddr *)&to,
			 sizeof(to));
	if (n < 0)
		return (int)n;
	j->sent_at[j->sent++] = now;
	j->next_send = now + j->interval_ns;
	return 0;
}

static int op_ping(struct op *o)
{
	struct vimage *vi;
	struct ping_job *j;
	struct ctl_attr a;
	uint32_t timeout_ms = 2000;
	char ab[INET_ADDRSTRLEN];
	int rc;

	rc = op_vimage(o, CTL_A_NAME, &vi);
	if (rc)
		return rc;
	j = calloc(1, sizeof(*j));
	if (!j)
		return op_fail(o, -ENOMEM, "out of memory");
	j->vi = vi;
	j->client = o->c;
	j->id = o->m->hdr.id;
	op_attr(o, CTL_A_DST4, &a);
	j->dst = ctl_attr_addr4(&a);
	j->count = op_attr(o, CTL_A_COUNT, &a) ? ctl_attr_u32(&a) : 3;
	if (op_attr(o, CTL_A_TIMEOUT_MS, &a))
		timeout_ms = ctl_attr_u32(&a);
	j->interval_ns = 100000000ull;
	rc = vsock_socket(vi, AF_INET, SOCK_DGRAM, IPPROTO_ICMP, &j->so);
	if (rc) {
		free(j);
		return op_fail(o, rc, "cannot open a ping socket in '%s': %s",
			       vimage_name(vi), strerror(-rc));
	}
	j->next_send = daemon_now(o->d);
	rc = ping_send(o->d, j, j->next_send);
	if (rc) {
		fmt4(j->dst, ab);
		vsock_close(j->so);
		free(j);
		return op_fail(o, rc, "ping %s from vimage '%s': %s", ab,
			       vimage_name(vi), strerror(-rc));
	}
	world_run(o->d->w);
	j->deadline = daemon_now(o->d) +
		      (uint64_t)(j->count - 1) * j->interval_ns +
		      (uint64_t)timeout_ms * 1000000ull;
	j->next = o->d->pings;
	o->d->pings = j;
	o->c->waiting = true;
	return 1;
}

uint64_t ops_pings_run(struct daemon *d)
{
	uint64_t next = UINT64_MAX, now = daemon_now(d);

	for (struct ping_job **pp = &d->pings; *pp;) {
		struct ping_job *j = *pp;
		uint8_t buf[256];
		ssize_t n;

		if (j->sent < j->count && now >= j->next_send) {
			ping_send(d, j, now);
			/* The virtual links deliver at once: collect the
			 * reply in this pass, so that the RTT is the
			 * stack's, not the loop's. */
			world_run(d->w);
		}
		while ((n = vsock_recvfrom(j->so, buf, sizeof(buf), 0, NULL,
					   NULL)) >= 8) {
			unsigned seq = (unsigned)buf[6] << 8 | buf[7];

			if (buf[0] == ICMP_ECHOREPLY && seq < j->sent &&
			    j->nrtt < j->count) {
				j->received++;
				j->rtt[j->nrtt++] = now - j->sent_at[seq];
			}
		}
		if (j->received >= j->count || now >= j->deadline ||
		    !j->client) {
			ping_finish(d, pp, 0, NULL);
			continue;
		}
		if (j->sent < j->count && j->next_send < next)
			next = j->next_send;
		if (j->deadline < next)
			next = j->deadline;
		pp = &j->next;
	}
	return next;
}

/* ---- dispatch --------------------------------------------------------------
 */
void ops_reply_error(struct daemon *d, struct client *c, uint16_t type,
		     uint32_t id, int err, const char *msg)
{
	struct ctl_buf b;

	ctl_buf_init(&b, CTL_REQ_MAX);
	ctl_msg_begin(&b, (uint16_t)(CTL_T_REPLY | type), 0, id);
	ctl_put_i32(&b, CTL_A_ERRNO, err);
	ctl_put_str(&b, CTL_A_MSG, msg);
	if (!ctl_msg_end(&b))
		client_send(d, c, b.data, b.len);
	ctl_buf_free(&b);
}

void ops_dispatch(struct daemon *d, struct client *c, const struct ctl_msg *m)
{
	struct ctl_buf rep;
	struct op o = {.d = d, .c = c, .m = m};
	uint16_t t = m->hdr.type;
	int rc;

	ctl_buf_init(&rep, CTL_REPLY_MAX);
	o.rep = &rep;
	ctl_msg_begin(&rep, (uint16_t)(CTL_T_REPLY | t), 0, m->hdr.id);
	o.scope = world_root(d->w);
	if (!c->attached) {
		/* A management client that is itself a program inside a
		 * vimage: its preload library attached the same pid. */
		for (struct client *x = d->clients; x; x = x->next) {
			if (x->attached && x->pid == c->pid && x->vi) {
				o.scope = x->vi;
				break;
			}
		}
	}
	o.jailed = o.scope != world_root(d->w);
	if (o.jailed && (t == CTL_T_SHUTDOWN ||
			 (t == CTL_T_LOG_LEVEL &&
			  !op_attr(&o, CTL_A_NAME, &(struct ctl_attr){0})))) {
		ops_reply_error(d, c, t, m->hdr.id, -EPERM,
				"not allowed from inside a vimage");
		ctl_buf_free(&rep);
		return;
	}
	if (t >= CTL_T_ATTACH && t <= CTL_T_PROCNET) {
		int fd = -1;

		rc = ss_op(d, c, m, &rep, &fd, o.err, sizeof(o.err));
		if (rc >= 0) {
			if (rc == 0)
				ctl_put_i32(&rep, CTL_A_ERRNO, 0);
			rc = ctl_msg_end(&rep);
			if (!rc && fd >= 0)
				rc = client_send_fd(d, c, rep.data, rep.len,
						    fd);
			else if (!rc)
				client_send(d, c, rep.data, rep.len);
			else if (fd >= 0)
				close(fd);
			if (rc)
				snprintf(o.err, sizeof(o.err),
					 "the reply cannot be sent (%s)",
					 strerror(-rc));
		}
		if (rc < 0)
			ops_reply_error(d, c, t, m->hdr.id, rc,
					o.err[0] ? o.err : strerror(-rc));
		ctl_buf_free(&rep);
		return;
	}
	switch (t) {
	case CTL_T_HELLO:
		rc = op_hello(&o);
		break;
	case CTL_T_CREATE:
		rc = op_create(&o);
		break;
	case CTL_T_DESTROY:
		rc = op_destroy(&o);
		break;
	case CTL_T_LIST:
		rc = op_list(&o);
		break;
	case CTL_T_MOVE:
		rc = op_move(&o);
		break;
	case CTL_T_VE:
		rc = op_ve(&o);
		break;
	case CTL_T_LINK:
		rc = op_link(&o);
		break;
	case CTL_T_ADDR_ADD:
		rc = op_addr(&o, true);
		break;
	case CTL_T_ADDR_DEL:
		rc = op_addr(&o, false);
		break;
	case CTL_T_ROUTE_ADD:
		rc = op_route(&o, true);
		break;
	case CTL_T_ROUTE_DEL:
		rc = op_route(&o, false);
		break;
	case CTL_T_SYSCTL_SET:
		rc = op_sysctl_set(&o);
		break;
	case CTL_T_SYSCTL_GET:
		rc = op_sysctl_get(&o);
		break;
	case CTL_T_CAPTURE_START:
		rc = op_capture_start(&o);
		break;
	case CTL_T_CAPTURE_STOP:
		rc = op_capture_stop(&o);
		break;
	case CTL_T_STATS:
		rc = op_stats(&o);
		break;
	case CTL_T_PING:
		rc = op_ping(&o);
		break;
	case CTL_T_LOG_LEVEL:
		rc = op_log_level(&o);
		break;
	case CTL_T_SHAPE:
		rc = op_shape(&o);
		break;
	case CTL_T_SHAPE_GET:
		rc = op_shape_get(&o);
		break;
	case CTL_T_BRIDGE:
		rc = op_bridge(&o);
		break;
	case CTL_T_BRIDGE_FDB:
		rc = op_bridge_fdb(&o);
		break;
	case CTL_T_TAP:
		rc = op_tap(&o);
		break;
	case CTL_T_TAP_DEL:
		rc = op_tap_del(&o);
		break;
	case CTL_T_SHUTDOWN:
		daemon_log(d, VLOG_INFO, "shutdown requested by pid %d",
			   (int)c->pid);
		d->stop = true;
		rc = 0;
		break;
	default:
		rc = op_fail(&o, -EOPNOTSUPP, "unknown request type %u", t);
		break;
	}
	if (c->passed_fd >= 0) {
		/* Not taken by the request: not kept either. */
		close(c->passed_fd);
		c->passed_fd = -1;
	}
	if (rc > 0) { /* deferred */
		ctl_buf_free(&rep);
		return;
	}
	if (rc == 0) {
		ctl_put_i32(&rep, CTL_A_ERRNO, 0);
		rc = ctl_msg_end(&rep);
		if (rc)
			snprintf(o.err, sizeof(o.err),
				 "the reply does not fit (%s)", strerror(-rc));
		else
			client_send(d, c, rep.data, rep.len);
	}
	if (rc < 0) {
		if (!o.err[0])
			snprintf(o.err, sizeof(o.err), "%s: %s",
				 ctl_type_name(t), strerror(-rc));
		daemon_log(d, VLOG_DEBUG, "%s refused: %s", ctl_type_name(t),
			   o.err);
		ops_reply_error(d, c, t, m->hdr.id, rc, o.err);
	}
	ctl_buf_free(&rep);
}
