/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The control protocol between vimaged and its clients (vimage(8), later the
 * rtnetlink emulation): versioned, length-prefixed, validated field by field.
 *
 * A message is a fixed 16-byte header followed by attributes, all integers
 * in network byte order:
 *
 *   0  magic    u32  CTL_MAGIC ("VIMC")
 *   4  version  u8   CTL_VERSION
 *   5  flags    u8   CTL_F_* (unknown bits are an error)
 *   6  type     u16  CTL_T_* for a request; CTL_T_REPLY | type for a reply
 *   8  length   u32  the whole message, header included
 *  12  id       u32  chosen by the client, echoed in the reply
 *
 * An attribute is an 8-byte header (type u16, reserved u16 = 0, length u32
 * of the value) and the value, unpadded. Values: integers (u8, u32, u64,
 * i32, i64 of exactly that size), strings (bytes without a NUL, printable
 * ASCII, length bounded per attribute), IPv4 addresses (4 bytes), MACs (6)
 * and nests (a sequence of attributes; at most CTL_NEST_MAX deep).
 *
 * ctl_msg_parse checks everything once: the header, every attribute's type,
 * size and contents, the nesting, duplicates at the top level and, for a
 * request, the attributes its type requires. After it succeeds, the
 * accessors below cannot read out of bounds. On failure it returns a
 * negative errno and writes a message naming what was wrong.
 *
 * A reply carries CTL_A_ERRNO (0 or a negative errno) and, on error,
 * CTL_A_MSG, a sentence naming the vimage, interface or value at fault. A
 * message that cannot be parsed gets a reply of type CTL_T_REPLY (no request
 * type) with the id of the header when the header was readable, else 0.
 *
 * The library holds no state: buffers belong to the caller.
 */
#ifndef VIMAGE_CTL_H
#define VIMAGE_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CTL_MAGIC	 0x56494d43u /* "VIMC" */
#define CTL_VERSION	 1
#define CTL_HDR_LEN	 16
#define CTL_ATTR_HDR_LEN 8
#define CTL_REQ_MAX	 65536u	     /* largest request the daemon reads */
#define CTL_REPLY_MAX	 (64u << 20) /* largest reply a client accepts */
#define CTL_NEST_MAX	 4
#define CTL_STR_MAX	 4096 /* longest string value (paths) */
#define CTL_ERRMSG_MAX	 256  /* room for a parse error message */
#define CTL_DATA_MAX	 65000 /* longest CTL_A_DATA value */

/* CTL_T_IOCTL on a socket: is there a route to the IPv4 address in DATA
 * (network byte order)? 0, -ENETUNREACH, or the error the route gives. The
 * shim asks before a datagram's first send to a destination, so that an
 * unroutable sendto fails at once as on Linux. */
#define CTL_IOC_ROUTE 0x89E1

/* CTL_T_BRIDGE operations (CTL_A_ARG). */
enum { CTL_BR_CREATE = 0, CTL_BR_ADDIF = 1, CTL_BR_DELIF = 2, CTL_BR_DESTROY = 3 };

/* Header flags. */
#define CTL_F_FORCE	0x01 /* destroy: also with children */
#define CTL_F_RECURSIVE 0x02 /* list: descendants too */
#define CTL_F_VERBOSE	0x04 /* list: interfaces, addresses, routes */
#define CTL_F_ALL	0x07

/* Message types. */
enum ctl_type {
	CTL_T_HELLO = 1,     /* -> PID, UID, VERSION */
	CTL_T_CREATE,	     /* NAME */
	CTL_T_DESTROY,	     /* NAME [F_FORCE] */
	CTL_T_LIST,	     /* [NAME] [F_RECURSIVE] [F_VERBOSE] -> VIMAGE* */
	CTL_T_MOVE,	     /* NAME IFNAME [NEWNAME] */
	CTL_T_VE,	     /* NAME IFNAME PEER PEER_IFNAME */
	CTL_T_LINK,	     /* NAME IFNAME UP */
	CTL_T_ADDR_ADD,	     /* NAME IFNAME ADDR4 PLEN */
	CTL_T_ADDR_DEL,	     /* NAME IFNAME ADDR4 PLEN */
	CTL_T_ROUTE_ADD,     /* NAME DST4 PLEN [GW4] [IFNAME] */
	CTL_T_ROUTE_DEL,     /* NAME DST4 PLEN */
	CTL_T_SYSCTL_SET,    /* NAME KEY I64 */
	CTL_T_SYSCTL_GET,    /* NAME [KEY] -> STAT* (KEY, I64) */
	CTL_T_CAPTURE_START, /* NAME IFNAME PATH [SNAPLEN] */
	CTL_T_CAPTURE_STOP,  /* NAME IFNAME */
	CTL_T_STATS,	     /* [NAME] -> STAT* (KEY, U64) */
	CTL_T_PING,	 /* NAME DST4 [COUNT] [TIMEOUT_MS] -> SENT RECEIVED */
	CTL_T_SHUTDOWN,	 /* stop the daemon */
	CTL_T_LOG_LEVEL, /* [NAME] LEVEL */
	/* The socket service (libvimage-preload.so). A socket is named by
	 * the inode of the program's end of its socketpair (SOCKID). */
	CTL_T_ATTACH,	   /* NAME: this process lives in vimage NAME */
	CTL_T_SOCKET,	   /* DOMAIN STYPE PROTO -> SOCKID, the fd */
	CTL_T_SOCK_LOOKUP, /* SOCKID -> DOMAIN STYPE PROTO */
	CTL_T_BIND,	   /* SOCKID SOCKADDR */
	CTL_T_CONNECT,	   /* SOCKID SOCKADDR [FILLER] */
	CTL_T_LISTEN,	   /* SOCKID ARG(backlog) */
	CTL_T_ACCEPT,	   /* SOCKID -> SOCKID SOCKADDR DRAIN, the fd */
	CTL_T_GETNAME,	   /* SOCKID ARG(0 local, 1 peer) -> SOCKADDR */
	CTL_T_SETSOCKOPT,  /* SOCKID OPTLEVEL OPTNAME DATA */
	CTL_T_GETSOCKOPT,  /* SOCKID OPTLEVEL OPTNAME ARG(optlen) -> DATA */
	CTL_T_SOCK_SHUTDOWN, /* SOCKID ARG(how) */
	CTL_T_IOCTL,	     /* [SOCKID] REQ DATA -> DATA */
	CTL_T_PROCNET,	     /* KEY (a /proc/net file name) -> BLOB */
	/* Links: shapers and bridges. */
	CTL_T_SHAPE,	  /* NAME IFNAME ARG(dir) STAT*: set (none: remove) */
	CTL_T_SHAPE_GET,  /* NAME IFNAME ARG(dir) -> STAT* */
	CTL_T_BRIDGE,	  /* NAME IFNAME ARG(op) [NEWNAME(port)] */
	CTL_T_BRIDGE_FDB, /* NAME IFNAME -> IF* (MAC IFNAME U64 FLAGS) */
	CTL_T_TAP,	  /* NAME IFNAME PEER_IFNAME(TAP device) */
	CTL_T_TAP_DEL,	  /* NAME IFNAME */
	CTL_T_MAX_
};
#define CTL_T_REPLY 0x8000

/* Attribute types. */
enum ctl_attr_type {
	CTL_A_ERRNO = 1,   /* i32 */
	CTL_A_MSG,	   /* string */
	CTL_A_NAME,	   /* string: a vimage name ("." the root) */
	CTL_A_IFNAME,	   /* string: an interface name */
	CTL_A_NEWNAME,	   /* string: an interface name */
	CTL_A_PEER,	   /* string: a vimage name */
	CTL_A_PEER_IFNAME, /* string: an interface name */
	CTL_A_UP,	   /* u8: 0 or 1 */
	CTL_A_ADDR4,	   /* 4 bytes */
	CTL_A_PLEN,	   /* u8: 0..32 */
	CTL_A_DST4,	   /* 4 bytes */
	CTL_A_GW4,	   /* 4 bytes */
	CTL_A_KEY,	   /* string: a sysctl or counter name */
	CTL_A_I64,	   /* i64 */
	CTL_A_U64,	   /* u64 */
	CTL_A_PATH,	   /* string: an absolute file path */
	CTL_A_SNAPLEN,	   /* u32 */
	CTL_A_COUNT,	   /* u32: 1..1000 */
	CTL_A_TIMEOUT_MS,  /* u32: 1..600000 */
	CTL_A_SENT,	   /* u32 */
	CTL_A_RECEIVED,	   /* u32 */
	CTL_A_RTT_NS,	   /* u64 */
	CTL_A_PID,	   /* u32 */
	CTL_A_UID,	   /* u32 */
	CTL_A_VERSION,	   /* u32 */
	CTL_A_LEVEL,	   /* u32: 0..3 (VLOG_*) */
	CTL_A_VIMAGE,	   /* nest: NAME N_* IF* ROUTE* */
	CTL_A_N_IFS,	   /* u32 */
	CTL_A_N_ADDRS,	   /* u32 */
	CTL_A_N_ROUTES,	   /* u32 */
	CTL_A_N_SOCKETS,   /* u32 */
	CTL_A_N_PROCS,	   /* u32 */
	CTL_A_N_CHILDREN,  /* u32 */
	CTL_A_IF,	   /* nest: IFNAME IFTYPE FLAGS MTU MAC ADDR* RX/TX */
	CTL_A_IFTYPE,	   /* u32: VIF_* */
	CTL_A_FLAGS,	   /* u32: VIFF_* */
	CTL_A_MTU,	   /* u32 */
	CTL_A_MAC,	   /* 6 bytes */
	CTL_A_ADDR,	   /* nest: ADDR4 PLEN */
	CTL_A_RX_PACKETS,  /* u64 */
	CTL_A_TX_PACKETS,  /* u64 */
	CTL_A_RX_BYTES,	   /* u64 */
	CTL_A_TX_BYTES,	   /* u64 */
	CTL_A_ROUTE,	   /* nest: DST4 PLEN [GW4] [IFNAME] RTTYPE */
	CTL_A_RTTYPE,	   /* u32: VRT_* */
	CTL_A_STAT,	   /* nest: KEY (U64 | I64) */
	CTL_A_PEER_OF,	   /* string: "vimage:ifname" of a ve peer */
	CTL_A_CAPTURING,   /* u8: a capture runs */
	CTL_A_SOCKID,	   /* u64: inode of the program's end */
	CTL_A_DOMAIN,	   /* i32: AF_* */
	CTL_A_STYPE,	   /* i32: SOCK_* (flags masked off) */
	CTL_A_PROTO,	   /* i32 */
	CTL_A_SOCKADDR,	   /* bytes: a struct sockaddr, at most 128 */
	CTL_A_OPTLEVEL,	   /* i32 */
	CTL_A_OPTNAME,	   /* i32 */
	CTL_A_DATA,	   /* bytes: at most CTL_DATA_MAX */
	CTL_A_ARG,	   /* i32: backlog, how, optlen */
	CTL_A_REQ,	   /* u32: an ioctl request */
	CTL_A_FILLER,	   /* u32: bytes written to hold POLLOUT back */
	CTL_A_DRAIN,	   /* u8: read the listener's token byte */
	CTL_A_BLOB,	   /* bytes: up to 16 MiB (file contents) */
	CTL_A_MAX_
};

/* Attribute bits are kept in a 64-bit mask while parsing. */
_Static_assert(CTL_A_MAX_ <= 64, "too many attribute types");

/* A datagram on a datagram socket's pair (both directions): this 24-byte
 * header,
 * then the datagram. addr/port in network byte order; valid with
 * CTL_DG_ADDR (the source on the way to the program, the destination on the
 * way to the stack; without it a send goes to the connected peer). */
#define CTL_DGRAM_MAGIC 0xd6
#define CTL_DG_ADDR	0x01
/* To the program only: an error instead of a datagram. A struct
 * ctl_dgram_err follows the header; with origin CTL_EE_ICMP (IP_RECVERR)
 * the quoted bytes follow it and addr/port name the quoted packet's
 * destination, ttl the ICMP message's. With origin CTL_EE_NONE it is the
 * socket's pending error (a recv fails with it). */
#define CTL_DG_ERR	0x02
#define CTL_EE_NONE	0
#define CTL_EE_ICMP	2 /* SO_EE_ORIGIN_ICMP */
struct ctl_dgram_err {
	uint32_t err; /* positive errno */
	uint8_t origin, type, code, pad;
	uint32_t info;
	uint32_t offender; /* network byte order */
};
_Static_assert(sizeof(struct ctl_dgram_err) == 16, "ctl_dgram_err layout");
struct ctl_dgram {
	uint8_t magic;
	uint8_t flags;
	uint8_t ttl, tos;
	uint16_t port;
	uint16_t resv;
	uint32_t addr;
	uint32_t resv2; /* to the program: the receiving ifindex */
	/* To the program: when the datagram entered its socket (the pair),
	 * CLOCK_REALTIME in ns, for SO_TIMESTAMP as the kernel stamps on
	 * arrival. */
	uint64_t stamp_ns;
};
_Static_assert(sizeof(struct ctl_dgram) == 24, "ctl_dgram layout");

struct ctl_hdr {
	uint32_t magic;
	uint8_t version;
	uint8_t flags;
	uint16_t type;
	uint32_t length;
	uint32_t id;
};

/* A validated message: the header and its attribute area. */
struct ctl_msg {
	struct ctl_hdr hdr;
	const uint8_t *attrs;
	size_t attrs_len;
};

struct ctl_attr {
	uint16_t type;
	uint32_t len;
	const uint8_t *val;
};

/* ---- encoding ------------------------------------------------------------ */
/* A growing buffer. Errors stick: after one, further puts do nothing and
 * ctl_msg_end returns the error (-ENOMEM, -EMSGSIZE). */
struct ctl_buf {
	uint8_t *data;
	size_t len, cap, max;
	int err;
	int depth;
	size_t nest[CTL_NEST_MAX];
};

void ctl_buf_init(struct ctl_buf *b, size_t max);
void ctl_buf_free(struct ctl_buf *b);
void ctl_msg_begin(struct ctl_buf *b, uint16_t type, uint8_t flags,
		   uint32_t id);
int ctl_msg_end(struct ctl_buf *b);
void ctl_put(struct ctl_buf *b, uint16_t type, const void *val, size_t len);
void ctl_put_u8(struct ctl_buf *b, uint16_t type, uint8_t v);
void ctl_put_u32(struct ctl_buf *b, uint16_t type, uint32_t v);
void ctl_put_i32(struct ctl_buf *b, uint16_t type, int32_t v);
void ctl_put_u64(struct ctl_buf *b, uint16_t type, uint64_t v);
void ctl_put_i64(struct ctl_buf *b, uint16_t type, int64_t v);
void ctl_put_str(struct ctl_buf *b, uint16_t type, const char *s);
/* IPv4 address in host byte order. */
void ctl_put_addr4(struct ctl_buf *b, uint16_t type, uint32_t host_order);
void ctl_nest_begin(struct ctl_buf *b, uint16_t type);
void ctl_nest_end(struct ctl_buf *b);

/* ---- decoding ------------------------------------------------------------ */
/* Check the header at the start of buf (len bytes available). Returns 0 with
 * *h filled when the first CTL_HDR_LEN bytes form a valid header whose
 * length is at most max; -EAGAIN when fewer than CTL_HDR_LEN bytes are
 * there; -EBADMSG (bad magic, bad length), -EPROTONOSUPPORT (version),
 * -EMSGSIZE (too long). err gets a message when not NULL. */
int ctl_hdr_parse(const uint8_t *buf, size_t len, size_t max, struct ctl_hdr *h,
		  char *err, size_t errlen);
/* Validate a whole message of exactly len bytes (see above). is_request
 * adds the checks of a request: a known type, the required attributes. */
int ctl_msg_parse(const uint8_t *buf, size_t len, size_t max, bool is_request,
		  struct ctl_msg *m, char *err, size_t errlen);

/* Iterate over a validated attribute area: *pos starts at 0. Returns true
 * with *a filled, false at the end. */
bool ctl_attr_next(const uint8_t *area, size_t len, size_t *pos,
		   struct ctl_attr *a);
/* First attribute of a type in an area; false when absent. */
bool ctl_attr_find(const uint8_t *area, size_t len, uint16_t type,
		   struct ctl_attr *a);
/* Typed values of validated attributes. */
uint8_t ctl_attr_u8(const struct ctl_attr *a);
uint32_t ctl_attr_u32(const struct ctl_attr *a);
int32_t ctl_attr_i32(const struct ctl_attr *a);
uint64_t ctl_attr_u64(const struct ctl_attr *a);
int64_t ctl_attr_i64(const struct ctl_attr *a);
uint32_t ctl_attr_addr4(const struct ctl_attr *a); /* host byte order */
/* Copy a string value with a NUL into buf (truncated to size - 1). */
void ctl_attr_str(const struct ctl_attr *a, char *buf, size_t size);

/* Names, for messages. */
const char *ctl_type_name(uint16_t type);
const char *ctl_attr_name(uint16_t type);

#endif
