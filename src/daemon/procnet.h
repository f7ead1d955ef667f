/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * /proc/net emulation: the text of a vimage's /proc/net files, laid out
 * byte for byte as Linux's seq_file show functions lay them out
 * (dev_seq_show, fib_route_seq_show, arp_seq_show, tcp4_seq_show,
 * udp4_seq_show, raw_seq_show, ping_v4_seq_show, snmp_seq_show,
 * netstat_seq_show, sockstat_seq_show), so that Debian's unmodified
 * ifconfig, route -n, arp -n, netstat and ss (which reads /proc/net/tcp
 * when its NETLINK_SOCK_DIAG socket fails) show the vimage's state.
 * Pure functions over the core's API: no I/O, no globals. The preload shim
 * serves open("/proc/net/NAME") with the text.
 *
 * IPv4 only: the IPv6 files have their header line alone (or nothing, when
 * Linux's have no header), as on a Linux host without IPv6 addresses or
 * sockets; no multicast group is joined, so dev_mcast and igmp are empty.
 */
#ifndef VIMAGED_PROCNET_H
#define VIMAGED_PROCNET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <vimage/vimage.h>

struct vsocket;

/* One socket the caller knows (the daemon knows each program socket's
 * inode: the inode of the program's end of its socketpair, which is what
 * `ss -p`/`netstat -p` will match against /proc/PID/fd links). */
struct procnet_sock {
	struct vsocket *so;
	uint64_t inode;
	uid_t uid;
};

/* The caller's sockets of vi: calls fn for each until fn returns nonzero. */
typedef void (*procnet_walk_fn)(void *wctx, struct vimage *vi,
				int (*fn)(void *fctx,
					  const struct procnet_sock *s),
				void *fctx);

/* Render /proc/net/<name> of vi into a malloc'd buffer (*out, *len,
 * NUL-terminated; *len excludes the NUL). Names: "dev", "route", "arp",
 * "tcp", "udp", "raw", "icmp", "snmp", "netstat", "sockstat", and with no
 * entries: "if_inet6", "tcp6", "udp6", "raw6", "icmp6", "sockstat6",
 * "dev_mcast", "igmp", "igmp6". walk may be NULL (no sockets are listed).
 * Returns 0, -ENOENT for a name not emulated, -ENOMEM. */
int procnet_render(struct vimage *vi, const char *name, procnet_walk_fn walk,
		   void *wctx, char **out, size_t *len);

/* Every socket of vi that walk gives, read into an array of elem-byte
 * records: read(rec, s) fills a zeroed record and says whether to keep it.
 * *out (malloc'd, the caller frees it) and *n; -ENOMEM. Shared by the
 * /proc/net files and sock_diag, which read different things. */
int procnet_gather(struct vimage *vi, procnet_walk_fn walk, void *wctx,
		   size_t elem,
		   bool (*read)(void *rec, const struct procnet_sock *s),
		   void **out, size_t *n);

/* Is path one of the files above ("/proc/net/tcp", "/proc/self/net/tcp",
 * "/proc/thread-self/net/tcp", "/proc/<pid>/net/tcp")? Sets *name to the
 * last component (a pointer into path). */
bool procnet_path(const char *path, const char **name);

#endif
