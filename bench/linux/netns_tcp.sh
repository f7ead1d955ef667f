#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# netns_tcp.sh   (needs root; about 35 s, 26 s with NETNS_TCP_EXTRA=0)
#
# Linux baseline for tcp_gbps_mtu1500, tcp_gbps_mtu65535, tcp_conn_per_s and
# tcp_bytes_per_idle_conn (bench/bench_tcp.c), between two network
# namespaces vbench_tcp_<pid>_a (10.203.0.1, client) and vbench_tcp_<pid>_b
# (10.203.0.2, server) joined by one veth pair (e0 -- e1). IPv6 is disabled
# in both (no background ND/MLD). Both namespaces are deleted by name on
# exit, whatever happens; only processes started here are ever killed, by
# PID. All traffic stays inside the two namespaces.
#
# Everything runs pinned to ONE CPU ($TCP_CPU, default 0) with taskset, like
# our benchmarks, which run both ends in one thread: on veth the receive
# path runs in softirq on the sending CPU, so the whole stack work, both
# ends and (for iperf3) both processes share that CPU.
#
# tcp_gbps_mtu1500 / tcp_gbps_mtu65535: one iperf3 TCP stream (iperf3 -c -t 5
# -J, server `iperf3 -s -1`, client and server both pinned to $TCP_CPU) with
# the MTU of both veth ends set to 1500, then to 65535 (veth's maximum on
# this kernel; if `ip -d link` shows a lower maxmtu, that is used and said
# on stderr). The figure is the receiver's rate (end.sum_received) in
# Gbit/s, the better of two runs (1500, 65535, 1500, 65535): on this shared
# 2-CPU machine one 5 s run of the MTU 1500 case varied from 7.7 to 17
# Gbit/s. Beware: veth keeps the default offloads (TSO/GSO), so at MTU 1500
# the sender still hands ~64 KB GSO packets to veth, which passes them to the
# peer unsegmented: Linux's MTU 1500 figure is not a 1500-byte-packet
# figure. For comparison, three more 3 s runs are shown on stderr only
# (not with NETNS_TCP_EXTRA=0): MTU 1500 with GSO off (gso_max_segs 1 on the
# sending end, so that every skb is one MSS: this gives well under
# 1 Gbit/s here, with the CPU busy, mostly in softirq and ksoftirqd/N,
# which iperf3's "CPU host/remote" percentages do not include), and each
# MTU unpinned (client and server free to use both CPUs; expect
# retransmissions from veth backlog drops at MTU 1500).
#
# tcp_conn_per_s: build/bench/tcpconn (bench/linux/tcpconn.c; $TCPCONN
# overrides; built here with gcc when missing or stale, like `make
# build/bench/tcpconn`) in ONE process pinned to $TCP_CPU: listener in b,
# then per connection, as bench_tcp.c does: socket + blocking connect in a,
# accept in b, client sends 1 byte, server reads it, client closes, server
# closes; for 2.5 s (at most 200,000 connections). The figure is completed
# connections / wall time; CPU time is shown on stderr.
# TIME_WAIT: ours sets the MSL to 0; Linux has no knob for the TIME_WAIT
# length (60 s). The client namespace gets net.ipv4.tcp_tw_reuse=1 (the
# default 2 only reuses on loopback) and ip_local_port_range 1024 65535:
# connect() then takes a port whose TIME_WAIT socket is older than
# tcp_tw_reuse_delay (1 s, left at the default) and has timestamps (on by
# default), killing that TIME_WAIT socket. Every connection therefore still
# does the full FIN/ACK teardown and the client still goes through
# TIME_WAIT (a tw_sock is created each time), which is what a busy Linux
# client does. SO_LINGER 0 was not used: it would replace the teardown by
# an RST. Connects that find no port (EADDRNOTAVAIL) are counted on stderr;
# there should be none as long as the rate stays below ~64,000/s.
#
# tcp_bytes_per_idle_conn: tcpconn idle opens 10,000 established pairs
# (connect + accept, no data; client ends held by one process, server ends
# by a child forked before the first reading, because the hard
# RLIMIT_NOFILE here is 20,000 and cannot be raised without
# CAP_SYS_RESOURCE; net.core.somaxconn is raised in b so that the 10,000
# fit in the accept queue) and divides the rise of kernel memory by 20,000
# connection ends. This runs first, in fresh namespaces, before the
# connection loop fills the client with TIME_WAIT sockets.
# Counted ("objects"): the footprint of the active objects of every slab
# cache in /proc/slabinfo (active_objs x pagesperslab*PAGE/objperslab) +
# Percpu + KernelStack + PageTables; the fd tables of both processes are
# grown before the first reading so that they are not counted. The caches
# that grew most, the rise of Slab pages and the drop of MemAvailable are
# shown on stderr as checks (SLUB merges caches of the same size and flags:
# one slabinfo line stands for all the caches merged with it, e.g.
# tcp_bind_bucket and tcp_bind2_bucket appear as eventpoll_epi here; the
# merged names are listed). Something outside this project on this machine
# reads /proc/PID/fd of every process every few seconds; when that falls
# between the two readings, it adds one proc inode + dentry + LSM inode
# blob per descriptor (~940 B per end); tcpconn takes those out (one of
# each per new proc_inode_cache object) and says so. The machine is shared:
# others' allocations between the two readings add noise (3700-4050 B seen).
#
# A missing iperf3 or tcpconn is said on stderr and its figures are printed
# as null (exit 0); a measurement that fails gives null too, and exit 1.
#
# Output (stdout), exactly:
#   LINUX tcp_gbps_mtu1500 <Gbit/s|null>
#   LINUX tcp_gbps_mtu65535 <Gbit/s|null>
#   LINUX tcp_conn_per_s <conn/s|null>
#   LINUX tcp_bytes_per_idle_conn <B|null>
set -u

if [ "$(id -u)" -ne 0 ]; then
	echo "netns_tcp: needs root" >&2
	exit 2
fi

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TCPCONN_DEFAULT=$ROOT/build/bench/tcpconn
TCPCONN=${TCPCONN:-$TCPCONN_DEFAULT}
IPERF3=${IPERF3:-iperf3}
CPU=${TCP_CPU:-0}
EXTRA=${NETNS_TCP_EXTRA:-1}
SECS=5
EXTRA_SECS=3
IPERF_PORT=5201
CONN_PORT=9920
IDLE_PORT=9921
IDLE_N=10000
WANT_MTU=65535

P=vbench_tcp_$$
A=${P}_a
B=${P}_b
IP_A=10.203.0.1
IP_B=10.203.0.2
TMP=$(mktemp -d /tmp/${P}.XXXXXX) || exit 1
SERVER_PID=
status=0

cleanup() {
	if [ -n "$SERVER_PID" ]; then
		kill "$SERVER_PID" 2>/dev/null
		wait "$SERVER_PID" 2>/dev/null
		SERVER_PID=
	fi
	ip netns del "$A" 2>/dev/null
	ip netns del "$B" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { echo "netns_tcp: $*" >&2; }
die() {
	say "$*"
	exit 1
}

# --- helper --------------------------------------------------------------
# Only the default path under build/ is (re)built; a $TCPCONN given by the
# caller is used as it is.
if [ "$TCPCONN" = "$TCPCONN_DEFAULT" ] &&
	{ [ ! -x "$TCPCONN" ] || [ "$ROOT/bench/linux/tcpconn.c" -nt "$TCPCONN" ]; }; then
	if command -v "${CC:-gcc}" >/dev/null && mkdir -p "$(dirname "$TCPCONN")" &&
		"${CC:-gcc}" -O2 -Wall -o "$TCPCONN.tmp$$" "$ROOT/bench/linux/tcpconn.c"; then
		mv -f "$TCPCONN.tmp$$" "$TCPCONN"
	else
		rm -f "$TCPCONN.tmp$$"
	fi
fi
HAVE_TCPCONN=1
if [ ! -x "$TCPCONN" ]; then
	say "$TCPCONN missing and could not be built (make build/bench/tcpconn): tcp_conn_per_s and tcp_bytes_per_idle_conn will be null"
	HAVE_TCPCONN=
fi
HAVE_IPERF=1
if ! command -v "$IPERF3" >/dev/null; then
	say "$IPERF3 not found (apt-get install iperf3): tcp_gbps_mtu1500 and tcp_gbps_mtu65535 will be null"
	HAVE_IPERF=
fi

# --- namespaces ----------------------------------------------------------
ip netns add "$A" || die "ip netns add $A failed"
ip netns add "$B" || die "ip netns add $B failed"
ip link add e0 netns "$A" type veth peer name e1 netns "$B" || die "veth creation failed"
conf() { # ns dev addr
	ip netns exec "$1" sh -c '
		echo 1 >/proc/sys/net/ipv6/conf/all/disable_ipv6 &&
		echo 1 >/proc/sys/net/ipv6/conf/default/disable_ipv6 &&
		ip link set lo up && ip addr add "$1/24" dev "$0" && ip link set "$0" up' "$2" "$3"
}
conf "$A" e0 "$IP_A" || die "configuring $A failed"
conf "$B" e1 "$IP_B" || die "configuring $B failed"
ip netns exec "$A" sh -c '
	echo 1 >/proc/sys/net/ipv4/tcp_tw_reuse &&
	echo "1024 65535" >/proc/sys/net/ipv4/ip_local_port_range' ||
	die "client sysctls failed"
ip netns exec "$B" sh -c 'echo 65535 >/proc/sys/net/core/somaxconn' || die "server sysctl failed"
ip netns exec "$A" ping -c 1 -W 2 "$IP_B" >/dev/null 2>&1 || die "no ping reply from $IP_B"

set_mtu() {
	ip -n "$A" link set e0 mtu "$1" && ip -n "$B" link set e1 mtu "$1"
}

MAX_MTU=$(ip -n "$A" -d link show e0 | awk '{for (i = 1; i < NF; i++) if ($i == "maxmtu") print $(i + 1)}')
BIG_MTU=$WANT_MTU
if [ -n "$MAX_MTU" ] && [ "$MAX_MTU" -lt "$WANT_MTU" ]; then
	say "note: veth maxmtu is $MAX_MTU here, below $WANT_MTU: tcp_gbps_mtu65535 is measured at MTU $MAX_MTU"
	BIG_MTU=$MAX_MTU
fi

# --- tcp_bytes_per_idle_conn ----------------------------------------------
idle_b=null
if [ -n "$HAVE_TCPCONN" ]; then
	if out=$(taskset -c "$CPU" "$TCPCONN" idle "$A" "$B" "$IP_B" $IDLE_PORT -n $IDLE_N); then
		idle_b=$(awk '$1 == "pairs" {
			n = 2 * $2
			printf "netns_tcp: idle: %d pairs; per connection end: objects %.0f B, slab pages %.0f B, MemAvailable drop %.0f B (not taken out of it: %.0f B of /proc/PID/fd inodes)\n",
				$2, $4 / n, $6 / n, $8 / n, $10 / n > "/dev/stderr"
			printf "%.0f\n", $4 / n
		}' <<<"$out")
		[ -n "$idle_b" ] || idle_b=null
	fi
	if [ "$idle_b" = null ]; then
		say "idle connection measurement failed"
		status=1
	fi
fi

# --- tcp_conn_per_s ------------------------------------------------------
conn=null
if [ -n "$HAVE_TCPCONN" ]; then
	if out=$(taskset -c "$CPU" "$TCPCONN" rate "$A" "$B" "$IP_B" $CONN_PORT -t 2500 -n 200000); then
		conn=$(awk '$1 == "conns" && $2 > 0 {
			printf "netns_tcp: conn loop: %d connections (%d connects failed) in %.3f s wall, %.3f s CPU: %.0f conn/s, %.1f us CPU each\n",
				$2, $4, $6 / 1e9, $8 / 1e9, $2 * 1e9 / $6, $8 / $2 / 1e3 > "/dev/stderr"
			printf "%.0f\n", $2 * 1e9 / $6
		}' <<<"$out")
		[ -n "$conn" ] || conn=null
	fi
	tw=$(ip netns exec "$A" ss -Htan state time-wait 2>/dev/null | wc -l)
	say "conn loop: $tw TIME_WAIT sockets in the client namespace afterwards"
	if [ "$conn" = null ]; then
		say "connection loop failed"
		status=1
	fi
fi

# --- iperf3 --------------------------------------------------------------
# iperf_gbps SECONDS PIN(1|0) -> receiver Gbit/s on stdout (empty on failure);
# details on stderr.
NRUN=0
iperf_gbps() {
	local secs=$1 pin=$2 out i ts=()
	NRUN=$((NRUN + 1))
	out=$TMP/iperf.$NRUN
	[ "$pin" = 1 ] && ts=(taskset -c "$CPU")
	ip netns exec "$B" "${ts[@]}" "$IPERF3" -s -1 -B "$IP_B" -p $IPERF_PORT >"$out.server" 2>&1 &
	SERVER_PID=$!
	for ((i = 0; i < 100; i++)); do # at most 5 s
		ip netns exec "$B" ss -Hltn "sport = :$IPERF_PORT" 2>/dev/null | grep -q . && break
		kill -0 "$SERVER_PID" 2>/dev/null || break
		sleep 0.05
	done
	timeout $((secs + 20)) ip netns exec "$A" "${ts[@]}" "$IPERF3" -c "$IP_B" -p $IPERF_PORT \
		-t "$secs" -J >"$out" 2>"$out.err"
	for ((i = 0; i < 50; i++)); do # the one-off server exits by itself
		kill -0 "$SERVER_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill "$SERVER_PID" 2>/dev/null
	wait "$SERVER_PID" 2>/dev/null
	SERVER_PID=
	# end.sum_received.bits_per_second, and a few details, from the JSON
	tr -d '\n\t ' <"$out" | awk '
		function field(s, key,    i, r) {
			i = index(s, "\"" key "\":")
			if (!i) return ""
			r = substr(s, i + length(key) + 3)
			sub(/[,}].*/, "", r)
			return r
		}
		{
			e = index($0, "\"end\":")
			if (!e) { print "netns_tcp: iperf3 gave no result: " substr($0, 1, 300) > "/dev/stderr"; exit }
			end = substr($0, e)
			rx = substr(end, index(end, "\"sum_received\":"))
			tx = substr(end, index(end, "\"sum_sent\":"))
			bps = field(rx, "bits_per_second")
			if (bps == "" || index(end, "\"sum_received\":") == 0) exit
			printf "netns_tcp: iperf3: %.2f Gbit/s received (%s s), %s retransmits, mss at start %s, CPU host %.0f%% remote %.0f%%\n",
				bps / 1e9, field(rx, "seconds"), field(tx, "retransmits"), field($0, "tcp_mss_default"),
				field(end, "host_total"), field(end, "remote_total") > "/dev/stderr"
			printf "%.3f\n", bps / 1e9
		}'
	[ -s "$out.err" ] && sed 's/^/netns_tcp: iperf3: /' "$out.err" | head -5 >&2
}

better() { # a b -> the larger, "null" counting as nothing
	awk -v a="$1" -v b="$2" 'BEGIN {print a == "null" ? b : b == "null" ? a : (b + 0 > a + 0 ? b : a)}'
}
g1500=null
g64k=null
if [ -n "$HAVE_IPERF" ]; then
	for round in 1 2; do
		for mtu in 1500 "$BIG_MTU"; do
			set_mtu "$mtu" || die "setting MTU $mtu failed"
			say "iperf3 ($round/2), MTU $mtu, one stream, client and server pinned to CPU $CPU, $SECS s"
			g=$(iperf_gbps $SECS 1)
			[ -n "$g" ] || {
				say "iperf3 at MTU $mtu failed"
				g=null
			}
			if [ "$mtu" = 1500 ]; then g1500=$(better "$g1500" "$g"); else g64k=$(better "$g64k" "$g"); fi
		done
	done
	if [ "$g1500" = null ] || [ "$g64k" = null ]; then
		status=1
	fi
	if [ "$EXTRA" != 0 ]; then
		set_mtu 1500
		segs=$(ip -n "$A" -d link show e0 | awk '{for (i = 1; i < NF; i++) if ($i == "gso_max_segs") print $(i + 1)}')
		if [ -n "$segs" ] && ip -n "$A" link set e0 gso_max_segs 1; then
			say "(extra) iperf3, MTU 1500, GSO off on the sender (gso_max_segs 1), pinned, $EXTRA_SECS s"
			iperf_gbps $EXTRA_SECS 1 >/dev/null
			ip -n "$A" link set e0 gso_max_segs "$segs"
		fi
		for mtu in 1500 "$BIG_MTU"; do
			set_mtu "$mtu"
			say "(extra) iperf3, MTU $mtu, unpinned (both CPUs), $EXTRA_SECS s"
			iperf_gbps $EXTRA_SECS 0 >/dev/null
		done
	fi
fi

# --- results -------------------------------------------------------------
echo "LINUX tcp_gbps_mtu1500 $g1500"
echo "LINUX tcp_gbps_mtu65535 $g64k"
echo "LINUX tcp_conn_per_s $conn"
echo "LINUX tcp_bytes_per_idle_conn $idle_b"

cleanup
TMP=$(mktemp -d /tmp/${P}.XXXXXX)
left=$(ip netns list | awk -v p="$P" 'index($1, p) == 1' | wc -l)
[ "$left" -eq 0 ] || die "$left namespaces left behind"
exit $status
