/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The control protocol's encoder and validating decoder (see
 * include/vimage/ctl.h for the format). Shared by vimaged and its clients.
 *
 * The decoder checks each length once, in ctl_msg_parse, against a table
 * that says for every attribute type what its value must look like; the
 * accessors then trust the message. Nothing here allocates while decoding,
 * so a hostile message can cost the daemon no more than its own bytes.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vimage/ctl.h>

enum ctl_kind {
	K_NONE,
	K_U8,
	K_U32,
	K_I32,
	K_U64,
	K_I64,
	K_ADDR4,
	K_MAC,
	K_NEST,
	K_NAME,
	K_IFNAME,
	K_KEY,
	K_TEXT,
	K_PATH,
	K_BYTES /* any bytes, at most max */
};

struct ctl_attr_desc {
	const char *name;
	enum ctl_kind kind;
	uint32_t min, max; /* integer range for K_U8/K_U32 (max 0: any) */
	bool repeatable;   /* may appear more than once in one area */
};

static const struct ctl_attr_desc ctl_attrs[CTL_A_MAX_] = {
    [CTL_A_ERRNO] = {"errno", K_I32, 0, 0, false},
    [CTL_A_MSG] = {"msg", K_TEXT, 0, 0, false},
    [CTL_A_NAME] = {"name", K_NAME, 0, 0, false},
    [CTL_A_IFNAME] = {"ifname", K_IFNAME, 0, 0, false},
    [CTL_A_NEWNAME] = {"newname", K_IFNAME, 0, 0, false},
    [CTL_A_PEER] = {"peer", K_NAME, 0, 0, false},
    [CTL_A_PEER_IFNAME] = {"peer-ifname", K_IFNAME, 0, 0, false},
    [CTL_A_UP] = {"up", K_U8, 0, 1, false},
    [CTL_A_ADDR4] = {"addr4", K_ADDR4, 0, 0, false},
    [CTL_A_PLEN] = {"plen", K_U8, 0, 32, false},
    [CTL_A_DST4] = {"dst4", K_ADDR4, 0, 0, false},
    [CTL_A_GW4] = {"gw4", K_ADDR4, 0, 0, false},
    [CTL_A_KEY] = {"key", K_KEY, 0, 0, false},
    [CTL_A_I64] = {"i64", K_I64, 0, 0, false},
    [CTL_A_U64] = {"u64", K_U64, 0, 0, false},
    [CTL_A_PATH] = {"path", K_PATH, 0, 0, false},
    [CTL_A_SNAPLEN] = {"snaplen", K_U32, 0, 262144, false},
    [CTL_A_COUNT] = {"count", K_U32, 1, 1000, false},
    [CTL_A_TIMEOUT_MS] = {"timeout-ms", K_U32, 1, 600000, false},
    [CTL_A_SENT] = {"sent", K_U32, 0, 0, false},
    [CTL_A_RECEIVED] = {"received", K_U32, 0, 0, false},
    [CTL_A_RTT_NS] = {"rtt-ns", K_U64, 0, 0, true},
    [CTL_A_PID] = {"pid", K_U32, 0, 0, false},
    [CTL_A_UID] = {"uid", K_U32, 0, 0, false},
    [CTL_A_VERSION] = {"version", K_U32, 0, 0, false},
    [CTL_A_LEVEL] = {"level", K_U32, 0, 3, false},
    [CTL_A_VIMAGE] = {"vimage", K_NEST, 0, 0, true},
    [CTL_A_N_IFS] = {"n-ifs", K_U32, 0, 0, false},
    [CTL_A_N_ADDRS] = {"n-addrs", K_U32, 0, 0, false},
    [CTL_A_N_ROUTES] = {"n-routes", K_U32, 0, 0, false},
    [CTL_A_N_SOCKETS] = {"n-sockets", K_U32, 0, 0, false},
    [CTL_A_N_PROCS] = {"n-procs", K_U32, 0, 0, false},
    [CTL_A_N_CHILDREN] = {"n-children", K_U32, 0, 0, false},
    [CTL_A_IF] = {"if", K_NEST, 0, 0, true},
    [CTL_A_IFTYPE] = {"iftype", K_U32, 0, 0, false},
    [CTL_A_FLAGS] = {"flags", K_U32, 0, 0, false},
    [CTL_A_MTU] = {"mtu", K_U32, 0, 0, false},
    [CTL_A_MAC] = {"mac", K_MAC, 0, 0, false},
    [CTL_A_ADDR] = {"addr", K_NEST, 0, 0, true},
    [CTL_A_RX_PACKETS] = {"rx-packets", K_U64, 0, 0, false},
    [CTL_A_TX_PACKETS] = {"tx-packets", K_U64, 0, 0, false},
    [CTL_A_RX_BYTES] = {"rx-bytes", K_U64, 0, 0, false},
    [CTL_A_TX_BYTES] = {"tx-bytes", K_U64, 0, 0, false},
    [CTL_A_ROUTE] = {"route", K_NEST, 0, 0, true},
    [CTL_A_RTTYPE] = {"rttype", K_U32, 0, 0, false},
    [CTL_A_STAT] = {"stat", K_NEST, 0, 0, true},
    [CTL_A_PEER_OF] = {"peer-of", K_TEXT, 0, 0, false},
    [CTL_A_CAPTURING] = {"capturing", K_U8, 0, 1, false},
    [CTL_A_SOCKID] = {"sockid", K_U64, 0, 0, false},
    [CTL_A_DOMAIN] = {"domain", K_I32, 0, 0, false},
    [CTL_A_STYPE] = {"type", K_I32, 0, 0, false},
    [CTL_A_PROTO] = {"protocol", K_I32, 0, 0, false},
    [CTL_A_SOCKADDR] = {"sockaddr", K_BYTES, 0, 128, false},
    [CTL_A_OPTLEVEL] = {"optlevel", K_I32, 0, 0, false},
    [CTL_A_OPTNAME] = {"optname", K_I32, 0, 0, false},
    [CTL_A_DATA] = {"data", K_BYTES, 0, CTL_DATA_MAX, false},
    [CTL_A_ARG] = {"arg", K_I32, 0, 0, false},
    [CTL_A_REQ] = {"req", K_U32, 0, 0, false},
    [CTL_A_FILLER] = {"filler", K_U32, 0, 1u << 24, false},
    [CTL_A_DRAIN] = {"drain", K_U8, 0, 1, false},
    [CTL_A_BLOB] = {"blob", K_BYTES, 0, 16u << 20, false},
};

#define BIT(a) (1ull << (a))
/* The attributes each request needs. */
static const uint64_t ctl_required[CTL_T_MAX_] = {
    [CTL_T_CREATE] = BIT(CTL_A_NAME),
    [CTL_T_DESTROY] = BIT(CTL_A_NAME),
    [CTL_T_MOVE] = BIT(CTL_A_NAME) | BIT(CTL_A_IFNAME),
    [CTL_T_VE] = BIT(CTL_A_NAME) | BIT(CTL_A_IFNAME) | BIT(CTL_A_PEER) |
		 BIT(CTL_A_PEER_IFNAME),
    [CTL_T_LINK] = BIT(CTL_A_NAME) | BIT(CTL_A_IFNAME) | BIT(CTL_A_UP),
    [CTL_T_ADDR_ADD] = BIT(CTL_A_NAME) | BIT(CTL_A_IFNAME) | BIT(CTL_A_ADDR4) |
		       BIT(CTL_A_PLEN),
    [CTL_T_ADDR_DEL] = BIT(CTL_A_NAME) | BIT(CTL_A_IFNAME) | BIT(CTL_A_ADDR4) |
		       BIT(CTL_A_PLEN),
    [CTL_T_ROUTE_ADD] = BIT(CTL_A_NAME) | BIT(CTL_A_DST4) | BIT(CTL_A_PLEN),
    [CTL_T_ROUTE_DEL] = BIT(CTL_A_NAME) | BIT(CTL_A_DST4) | BIT(CTL_A_PLEN),
    [CTL_T_SYSCTL_SET] = BIT(CTL_A_NAME) | BIT(CTL_A_KEY) | BIT(CTL_A_I64),
    [CTL_T_SYSCTL_GET] = BIT(CTL_A_NAME),
    [CTL_T_CAPTURE_START] =
	BIT(CTL_A_NAME) | BIT(CTL_A_IFNAME) | BIT(CTL_A_PATH),
    [CTL_T_CAPTURE_STOP] = BIT(CTL_A_NAME) | BIT(CTL_A_IFNAME),
    [CTL_T_PING] = BIT(CTL_A_NAME) | BIT(CTL_A_DST4),
    [CTL_T_LOG_LEVEL] = BIT(CTL_A_LEVEL),
    [CTL_T_ATTACH] = BIT(CTL_A_NAME),
    [CTL_T_SOCKET] = BIT(CTL_A_DOMAIN) | BIT(CTL_A_STYPE) | BIT(CTL_A_PROTO),
    [CTL_T_SOCK_LOOKUP] = BIT(CTL_A_SOCKID),
    [CTL_T_BIND] = BIT(CTL_A_SOCKID) | BIT(CTL_A_SOCKADDR),
    [CTL_T_CONNECT] = BIT(CTL_A_SOCKID) | BIT(CTL_A_SOCKADDR),
    [CTL_T_LISTEN] = BIT(CTL_A_SOCKID) | BIT(CTL_A_ARG),
    [CTL_T_ACCEPT] = BIT(CTL_A_SOCKID),
    [CTL_T_GETNAME] = BIT(CTL_A_SOCKID) | BIT(CTL_A_ARG),
    [CTL_T_SETSOCKOPT] = BIT(CTL_A_SOCKID) | BIT(CTL_A_OPTLEVEL) |
			 BIT(CTL_A_OPTNAME) | BIT(CTL_A_DATA),
    [CTL_T_GETSOCKOPT] = BIT(CTL_A_SOCKID) | BIT(CTL_A_OPTLEVEL) |
			 BIT(CTL_A_OPTNAME) | BIT(CTL_A_ARG),
    [CTL_T_SOCK_SHUTDOWN] = BIT(CTL_A_SOCKID) | BIT(CTL_A_ARG),
    [CTL_T_IOCTL] = BIT(CTL_A_REQ) | BIT(CTL_A_DATA),
    [CTL_T_PROCNET] = BIT(CTL_A_KEY),
    [CTL_T_SHAPE] = BIT(CTL_A_NAME) | BIT(CTL_A_IFNAME) | BIT(CTL_A_ARG),
    [CTL_T_SHAPE_GET] = BIT(CTL_A_NAME) | BIT(CTL_A_IFNAME) | BIT(CTL_A_ARG),
    [CTL_T_BRIDGE] = BIT(CTL_A_NAME) | BIT(CTL_A_IFNAME) | BIT(CTL_A_ARG),
    [CTL_T_BRIDGE_FDB] = BIT(CTL_A_NAME) | BIT(CTL_A_IFNAME),
    [CTL_T_TAP] = BIT(CTL_A_NAME) | BIT(CTL_A_IFNAME) | BIT(CTL_A_PEER_IFNAME),
    [CTL_T_TAP_DEL] = BIT(CTL_A_NAME) | BIT(CTL_A_IFNAME),
};

static const char *const ctl_types[CTL_T_MAX_] = {
    [CTL_T_HELLO] = "hello",
    [CTL_T_CREATE] = "create",
    [CTL_T_DESTROY] = "destroy",
    [CTL_T_LIST] = "list",
    [CTL_T_MOVE] = "move",
    [CTL_T_VE] = "ve",
    [CTL_T_LINK] = "link",
    [CTL_T_ADDR_ADD] = "addr-add",
    [CTL_T_ADDR_DEL] = "addr-del",
    [CTL_T_ROUTE_ADD] = "route-add",
    [CTL_T_ROUTE_DEL] = "route-del",
    [CTL_T_SYSCTL_SET] = "sysctl-set",
    [CTL_T_SYSCTL_GET] = "sysctl-get",
    [CTL_T_CAPTURE_START] = "capture-start",
    [CTL_T_CAPTURE_STOP] = "capture-stop",
    [CTL_T_STATS] = "stats",
    [CTL_T_PING] = "ping",
    [CTL_T_SHUTDOWN] = "shutdown",
    [CTL_T_LOG_LEVEL] = "log-level",
    [CTL_T_ATTACH] = "attach",
    [CTL_T_SOCKET] = "socket",
    [CTL_T_SOCK_LOOKUP] = "sock-lookup",
    [CTL_T_BIND] = "bind",
    [CTL_T_CONNECT] = "connect",
    [CTL_T_LISTEN] = "listen",
    [CTL_T_ACCEPT] = "accept",
    [CTL_T_GETNAME] = "getname",
    [CTL_T_SETSOCKOPT] = "setsockopt",
    [CTL_T_GETSOCKOPT] = "getsockopt",
    [CTL_T_SOCK_SHUTDOWN] = "sock-shutdown",
    [CTL_T_IOCTL] = "ioctl",
    [CTL_T_PROCNET] = "procnet",
    [CTL_T_SHAPE] = "shape",
    [CTL_T_SHAPE_GET] = "shape-get",
    [CTL_T_BRIDGE] = "bridge",
    [CTL_T_BRIDGE_FDB] = "bridge-fdb",
    [CTL_T_TAP] = "tap",
    [CTL_T_TAP_DEL] = "tap-del",
};

const char *ctl_type_name(uint16_t type)
{
	if (type == CTL_T_REPLY)
		return "reply";
	type &= (uint16_t)~CTL_T_REPLY;
	if (type < CTL_T_MAX_ && ctl_types[type])
		return ctl_types[type];
	return "unknown";
}

const char *ctl_attr_name(uint16_t type)
{
	if (type < CTL_A_MAX_ && ctl_attrs[type].name)
		return ctl_attrs[type].name;
	return "unknown";
}

/* ---- byte order ------------------------------------------------------------
 */
static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)(v >> 32));
	put32(p + 4, (uint32_t)v);
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}

static uint64_t get64(const uint8_t *p)
{
	return (uint64_t)get32(p) << 32 | get32(p + 4);
}

/* ---- encoding --------------------------------------------------------------
 */
void ctl_buf_init(struct ctl_buf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
}

void ctl_buf_free(struct ctl_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

static uint8_t *ctl_buf_reserve(struct ctl_buf *b, size_t n)
{
	uint8_t *p;
	size_t cap;

	if (b->err)
		return NULL;
	if (n > b->max || b->len > b->max - n) {
		b->err = -EMSGSIZE;
		return NULL;
	}
	if (b->len + n > b->cap) {
		cap = b->cap ? b->cap : 256;
		while (cap < b->len + n)
			cap *= 2;
		p = realloc(b->data, cap);
		if (!p) {
			b->err = -ENOMEM;
			return NULL;
		}
		b->data = p;
		b->cap = cap;
	}
	p = b->data + b->len;
	b->len += n;
	return p;
}

void ctl_msg_begin(struct ctl_buf *b, uint16_t type, uint8_t flags, uint32_t id)
{
	uint8_t *p;

	b->len = 0;
	b->err = 0;
	b->depth = 0;
	p = ctl_buf_reserve(b, CTL_HDR_LEN);
	if (!p)
		return;
	put32(p, CTL_MAGIC);
	p[4] = CTL_VERSION;
	p[5] = flags;
	put16(p + 6, type);
	put32(p + 8, CTL_HDR_LEN);
	put32(p + 12, id);
}

int ctl_msg_end(struct ctl_buf *b)
{
	if (!b->err && b->depth)
		b->err = -EINVAL; /* an unclosed nest */
	if (b->err)
		return b->err;
	put32(b->data + 8, (uint32_t)b->len);
	return 0;
}

void ctl_put(struct ctl_buf *b, uint16_t type, const void *val, size_t len)
{
	uint8_t *p;

	if (len > UINT32_MAX) {
		b->err = b->err ? b->err : -EMSGSIZE;
		return;
	}
	p = ctl_buf_reserve(b, CTL_ATTR_HDR_LEN + len);
	if (!p)
		return;
	put16(p, type);
	put16(p + 2, 0);
	put32(p + 4, (uint32_t)len);
	if (len)
		memcpy(p + CTL_ATTR_HDR_LEN, val, len);
}

void ctl_put_u8(struct ctl_buf *b, uint16_t type, uint8_t v)
{
	ctl_put(b, type, &v, 1);
}

void ctl_put_u32(struct ctl_buf *b, uint16_t type, uint32_t v)
{
	uint8_t x[4];

	put32(x, v);
	ctl_put(b, type, x, sizeof(x));
}

void ctl_put_i32(struct ctl_buf *b, uint16_t type, int32_t v)
{
	ctl_put_u32(b, type, (uint32_t)v);
}

void ctl_put_u64(struct ctl_buf *b, uint16_t type, uint64_t v)
{
	uint8_t x[8];

	put64(x, v);
	ctl_put(b, type, x, sizeof(x));
}

void ctl_put_i64(struct ctl_buf *b, uint16_t type, int64_t v)
{
	ctl_put_u64(b, type, (uint64_t)v);
}

void ctl_put_str(struct ctl_buf *b, uint16_t type, const char *s)
{
	ctl_put(b, type, s, strlen(s));
}

void ctl_put_addr4(struct ctl_buf *b, uint16_t type, uint32_t host_order)
{
	uint8_t x[4];

	put32(x, host_order);
	ctl_put(b, type, x, sizeof(x));
}

void ctl_nest_begin(struct ctl_buf *b, uint16_t type)
{
	if (b->err)
		return;
	if (b->depth >= CTL_NEST_MAX) {
		b->err = -EINVAL;
		return;
	}
	b->nest[b->depth++] = b->len;
	ctl_put(b, type, NULL, 0);
}

void ctl_nest_end(struct ctl_buf *b)
{
	size_t start;

	if (b->err)
		return;
	if (!b->depth) {
		b->err = -EINVAL;
		return;
	}
	start = b->nest[--b->depth];
	put32(b->data + start + 4,
	      (uint32_t)(b->len - start - CTL_ATTR_HDR_LEN));
}

/* ---- decoding --------------------------------------------------------------
 */
static int ctl_fail(char *err, size_t errlen, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int ctl_fail(char *err, size_t errlen, int code, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return code;
}

int ctl_hdr_parse(const uint8_t *buf, size_t len, size_t max, struct ctl_hdr *h,
		  char *err, size_t errlen)
{
	if (len < CTL_HDR_LEN)
		return ctl_fail(err, errlen, -EAGAIN,
				"truncated header: %zu of %d bytes", len,
				CTL_HDR_LEN);
	h->magic = get32(buf);
	h->version = buf[4];
	h->flags = buf[5];
	h->type = get16(buf + 6);
	h->length = get32(buf + 8);
	h->id = get32(buf + 12);
	if (h->magic != CTL_MAGIC)
		return ctl_fail(err, errlen, -EBADMSG,
				"bad magic 0x%08x (not a vimage control "
				"message)",
				h->magic);
	if (h->version != CTL_VERSION)
		return ctl_fail(err, errlen, -EPROTONOSUPPORT,
				"protocol version %u not supported (this side "
				"speaks %u)",
				h->version, CTL_VERSION);
	if (h->length < CTL_HDR_LEN)
		return ctl_fail(err, errlen, -EBADMSG,
				"message length %u shorter than the header",
				h->length);
	if (h->length > max)
		return ctl_fail(err, errlen, -EMSGSIZE,
				"message length %u exceeds the limit %zu",
				h->length, max);
	return 0;
}

static bool ctl_chars_ok(const uint8_t *s, uint32_t len, const char *extra,
			 bool alnum_only)
{
	for (uint32_t i = 0; i < len; i++) {
		uint8_t c = s[i];

		if (c < 0x20 || c > 0x7e)
			return false;
		if (!alnum_only)
			continue;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || strchr(extra, c)))
			return false;
	}
	return true;
}

static int ctl_check_value(const struct ctl_attr_desc *d,
			   const struct ctl_attr *a, int depth, char *err,
			   size_t errlen);

/* A string value for a message: unprintable bytes as '?', shortened. */
static void ctl_show(const struct ctl_attr *a, char *buf, size_t size)
{
	size_t n = a->len < size - 1 ? a->len : size - 1;

	for (size_t i = 0; i < n; i++)
		buf[i] =
		    a->val[i] >= 0x20 && a->val[i] <= 0x7e && a->val[i] != '\\'
			? (char)a->val[i]
			: '?';
	buf[n] = 0;
	if (n < a->len && n >= 3)
		memcpy(buf + n - 3, "...", 3);
}

static int ctl_check_area(const uint8_t *area, size_t len, int depth, bool top,
			  uint64_t *seen, char *err, size_t errlen)
{
	size_t pos = 0;
	uint64_t dup = 0;
	int rc;

	if (depth > CTL_NEST_MAX)
		return ctl_fail(err, errlen, -EBADMSG,
				"attributes nested deeper than %d",
				CTL_NEST_MAX);
	while (pos < len) {
		struct ctl_attr a;
		const struct ctl_attr_desc *d;

		if (len - pos < CTL_ATTR_HDR_LEN)
			return ctl_fail(err, errlen, -EBADMSG,
					"truncated attribute header at offset "
					"%zu",
					pos);
		a.type = get16(area + pos);
		if (get16(area + pos + 2))
			return ctl_fail(err, errlen, -EBADMSG,
					"attribute at offset %zu: reserved "
					"field not zero",
					pos);
		a.len = get32(area + pos + 4);
		if (a.len > len - pos - CTL_ATTR_HDR_LEN)
			return ctl_fail(err, errlen, -EBADMSG,
					"attribute %s: length %u runs past the "
					"end (%zu bytes left)",
					ctl_attr_name(a.type), a.len,
					len - pos - CTL_ATTR_HDR_LEN);
		a.val = area + pos + CTL_ATTR_HDR_LEN;
		if (a.type == 0 || a.type >= CTL_A_MAX_ ||
		    !ctl_attrs[a.type].name)
			return ctl_fail(err, errlen, -EBADMSG,
					"unknown attribute type %u", a.type);
		d = &ctl_attrs[a.type];
		if (!d->repeatable && (dup & BIT(a.type)))
			return ctl_fail(err, errlen, -EBADMSG,
					"duplicate attribute %s", d->name);
		dup |= BIT(a.type);
		rc = ctl_check_value(d, &a, depth, err, errlen);
		if (rc)
			return rc;
		pos += CTL_ATTR_HDR_LEN + a.len;
	}
	if (top && seen)
		*seen = dup;
	return 0;
}

static int ctl_check_value(const struct ctl_attr_desc *d,
			   const struct ctl_attr *a, int depth, char *err,
			   size_t errlen)
{
	static const uint32_t fixed[] = {
	    [K_U8] = 1,	 [K_U32] = 4,	[K_I32] = 4, [K_U64] = 8,
	    [K_I64] = 8, [K_ADDR4] = 4, [K_MAC] = 6,
	};
	uint32_t v, maxlen = 0;
	const char *extra = "";
	bool strict = false;

	switch (d->kind) {
	case K_U8:
	case K_U32:
	case K_I32:
	case K_U64:
	case K_I64:
	case K_ADDR4:
	case K_MAC:
		if (a->len != fixed[d->kind])
			return ctl_fail(err, errlen, -EBADMSG,
					"attribute %s: length %u, expected %u",
					d->name, a->len, fixed[d->kind]);
		if (d->kind != K_U8 && d->kind != K_U32)
			return 0;
		v = d->kind == K_U8 ? a->val[0] : get32(a->val);
		if (v < d->min || (d->max && v > d->max))
			return ctl_fail(err, errlen, -EINVAL,
					"attribute %s: value %u out of range "
					"%u..%u",
					d->name, v, d->min, d->max);
		return 0;
	case K_NEST:
		return ctl_check_area(a->val, a->len, depth + 1, false, NULL,
				      err, errlen);
	case K_NAME:
		maxlen = 127;
		extra = "._-";
		strict = true;
		break;
	case K_IFNAME:
		maxlen = 15;
		extra = "._-@";
		strict = true;
		break;
	case K_KEY:
		maxlen = 127;
		extra = "._-";
		strict = true;
		break;
	case K_TEXT:
		maxlen = 1024;
		break;
	case K_PATH:
		maxlen = CTL_STR_MAX - 1;
		break;
	case K_BYTES:
		if (a->len > d->max)
			return ctl_fail(err, errlen, -EMSGSIZE,
					"attribute %s: %u bytes, longer than "
					"%u",
					d->name, a->len, d->max);
		return 0;
	case K_NONE:
		return ctl_fail(err, errlen, -EBADMSG, "attribute %s unusable",
				d->name);
	}
	if (a->len == 0 && d->kind != K_TEXT)
		return ctl_fail(err, errlen, -EINVAL, "attribute %s: empty",
				d->name);
	if (a->len > maxlen)
		return ctl_fail(err, errlen, -ENAMETOOLONG,
				"attribute %s: %u bytes, longer than %u",
				d->name, a->len, maxlen);
	if (!ctl_chars_ok(a->val, a->len, extra, strict)) {
		char shown[40];

		ctl_show(a, shown, sizeof(shown));
		return ctl_fail(err, errlen, -EINVAL,
				"attribute %s: invalid character in '%s' "
				"(allowed: %s)",
				d->name, shown,
				strict ? "letters, digits and ._-"
				       : "printable ASCII");
	}
	if (d->kind == K_PATH && a->val[0] != '/') {
		char shown[40];

		ctl_show(a, shown, sizeof(shown));
		return ctl_fail(err, errlen, -EINVAL,
				"attribute %s: '%s' is not an absolute path",
				d->name, shown);
	}
	return 0;
}

int ctl_msg_parse(const uint8_t *buf, size_t len, size_t max, bool is_request,
		  struct ctl_msg *m, char *err, size_t errlen)
{
	uint64_t seen = 0, need;
	uint16_t t;
	int rc;

	memset(m, 0, sizeof(*m));
	rc = ctl_hdr_parse(buf, len, max, &m->hdr, err, errlen);
	if (rc == -EAGAIN)
		rc = -EBADMSG;
	if (rc)
		return rc;
	if (m->hdr.length != len)
		return ctl_fail(err, errlen, -EBADMSG,
				"message length %u but %zu bytes given",
				m->hdr.length, len);
	if (m->hdr.flags & ~CTL_F_ALL)
		return ctl_fail(err, errlen, -EINVAL, "unknown flags 0x%02x",
				m->hdr.flags);
	t = m->hdr.type;
	if (is_request && (t == 0 || t >= CTL_T_MAX_))
		return ctl_fail(err, errlen, -EOPNOTSUPP,
				"unknown request type %u", t);
	if (!is_request && t != CTL_T_REPLY &&
	    (!(t & CTL_T_REPLY) || (t & ~CTL_T_REPLY) == 0 ||
	     (t & ~CTL_T_REPLY) >= CTL_T_MAX_))
		return ctl_fail(err, errlen, -EBADMSG,
				"unknown reply type 0x%04x", t);
	m->attrs = buf + CTL_HDR_LEN;
	m->attrs_len = len - CTL_HDR_LEN;
	rc =
	    ctl_check_area(m->attrs, m->attrs_len, 1, true, &seen, err, errlen);
	if (rc)
		return rc;
	if (is_request) {
		need = ctl_required[t] & ~seen;
		for (unsigned i = 1; need && i < CTL_A_MAX_; i++)
			if (need & BIT(i))
				return ctl_fail(err, errlen, -EINVAL,
						"%s request without the %s "
						"attribute",
						ctl_types[t],
						ctl_attrs[i].name);
	} else if (!(seen & BIT(CTL_A_ERRNO))) {
		return ctl_fail(err, errlen, -EBADMSG,
				"reply without the errno attribute");
	}
	return 0;
}

bool ctl_attr_next(const uint8_t *area, size_t len, size_t *pos,
		   struct ctl_attr *a)
{
	if (*pos >= len || len - *pos < CTL_ATTR_HDR_LEN)
		return false;
	a->type = get16(area + *pos);
	a->len = get32(area + *pos + 4);
	if (a->len > len - *pos - CTL_ATTR_HDR_LEN)
		return false;
	a->val = area + *pos + CTL_ATTR_HDR_LEN;
	*pos += CTL_ATTR_HDR_LEN + a->len;
	return true;
}

bool ctl_attr_find(const uint8_t *area, size_t len, uint16_t type,
		   struct ctl_attr *a)
{
	size_t pos = 0;

	while (ctl_attr_next(area, len, &pos, a))
		if (a->type == type)
			return true;
	return false;
}

uint8_t ctl_attr_u8(const struct ctl_attr *a)
{
	return a->len >= 1 ? a->val[0] : 0;
}

uint32_t ctl_attr_u32(const struct ctl_attr *a)
{
	return a->len >= 4 ? get32(a->val) : 0;
}

int32_t ctl_attr_i32(const struct ctl_attr *a)
{
	return (int32_t)ctl_attr_u32(a);
}

uint64_t ctl_attr_u64(const struct ctl_attr *a)
{
	return a->len >= 8 ? get64(a->val) : 0;
}

int64_t ctl_attr_i64(const struct ctl_attr *a)
{
	return (int64_t)ctl_attr_u64(a);
}

uint32_t ctl_attr_addr4(const struct ctl_attr *a)
{
	return ctl_attr_u32(a);
}

void ctl_attr_str(const struct ctl_attr *a, char *buf, size_t size)
{
	size_t n = a->len;

	if (!size)
		return;
	if (n > size - 1)
		n = size - 1;
	memcpy(buf, a->val, n);
	buf[n] = 0;
}
