#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# netns_bridge.sh   (needs root)
#
# Linux baseline for bridge_mpps_64 and bridge_gbps_1500 (bench/bench_bridge.c:
# a 2-port learning bridge forwarding known-unicast frames on one core).
#
# Topology (namespaces vbench_br_<pid>_{s,r,h,a,b}, all made and deleted
# here, by name, in a trap on EXIT):
#   bridge: s:e0 -- h:p0 [br0 in h] h:p1 -- r:e0
#           h holds a Linux bridge br0 (STP off, forward_delay 0, and
#           bridge-nf-call-{ip,ip6,arp}tables 0 in h when the sysctls exist,
#           so no netfilter on the bridged path) whose two ports are the veth
#           ends p0 and p1. s is 10.203.0.1/24, r is 10.203.0.2/24; h has no
#           address. A warm-up ping resolves ARP in s and lets br0 learn both
#           MACs, so the measured frames are known unicast, as in our bench.
#   pair:   a:e0 -- b:e0, one veth pair (10.204.0.1 -- 10.204.0.2), no bridge.
#   IPv6 is disabled everywhere (no background ND/MLD traffic).
#
# Measured exactly as netns_chain.sh measures forwarding: udpblast
# (bench/linux/udpblast.c, $UDPBLAST or build/bench/udpblast) sends UDP
# datagrams with sendmmsg, pinned to CPU 0 with taskset, for at most
# 2,000,000 datagrams or 2 s, to a sink pinned to CPU 1 that counts the
# datagrams delivered to its socket. veth transmission hands each frame to
# the peer's receive path in softirq on the sending CPU, so the whole path
# (sender's UDP/IP output, veth, the bridge's receive, FDB lookup and
# transmit on the other port, veth, the receiver's IP/UDP input) runs on
# CPU 0 inside the sender's system calls. The time used is the sender's
# thread CPU time (CLOCK_THREAD_CPUTIME_ID), which on this kernel (no IRQ
# time accounting) includes that softirq work:
#   per packet  = sender CPU ns / datagrams delivered to the sink
#   bridge ns   = per packet through the bridge - per packet over the pair
# The subtraction removes what is not bridging (the send system call, UDP/IP
# output, the first veth transmit, the final receive and the delivery to the
# sink's socket): what is left is one bridge forwarding one frame (receive
# on a port, FDB lookup, transmit on the other port, i.e. one more veth
# hop), which is what our bench measures (frames injected on one port,
# consumed by the other port's driver). Each of the four measurements
# (pair/bridge x 64/1500 bytes) is done 3 times, interleaved, and the
# lowest per-packet figure of each is kept.
#   64-byte frames:   22-byte UDP payload (14 + 20 + 8 + 22)
#   1500-byte frames: 1458-byte UDP payload (14 + 20 + 8 + 1458)
# Loss (sent - delivered) is reported on stderr and should be ~0; more than
# 1% prints a warning. The end-to-end figures (sender and receiver stacks
# included, 1e3 / bridge per packet, as netns_chain.sh's fwd_mpps_chain32)
# are printed on stderr too.
#
# Output (stdout), exactly:
#   LINUX bridge_mpps_64 <Mpps>      1e3 / bridge ns for 64-byte frames
#   LINUX bridge_gbps_1500 <Gbit/s>  1500 * 8 / bridge ns for 1500-byte frames
set -u

if [ "$(id -u)" -ne 0 ]; then
	echo "netns_bridge: needs root" >&2
	exit 2
fi

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
UDPBLAST=${UDPBLAST:-$ROOT/build/bench/udpblast}
if [ ! -x "$UDPBLAST" ]; then
	echo "netns_bridge: $UDPBLAST missing (make build/bench/udpblast)" >&2
	exit 2
fi
COUNT=${BLAST_COUNT:-2000000}
SECS=2
ROUNDS=3
PORT=9912
SEND_CPU=0
SINK_CPU=1

P=vbench_br_$$_
NS_S=${P}s
NS_R=${P}r
NS_H=${P}h
NS_A=${P}a
NS_B=${P}b
ALL_NS="$NS_S $NS_R $NS_H $NS_A $NS_B"
TMP=$(mktemp -d /tmp/vbench_br.$$.XXXXXX)
SINK_PID=

cleanup() {
	local n
	if [ -n "$SINK_PID" ]; then
		kill "$SINK_PID" 2>/dev/null
		wait "$SINK_PID" 2>/dev/null
		SINK_PID=
	fi
	for n in $ALL_NS; do
		[ -e "/run/netns/$n" ] && ip netns del "$n" 2>/dev/null
	done
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

die() {
	echo "netns_bridge: $*" >&2
	exit 1
}

# --- build ---------------------------------------------------------------
{
	for n in $ALL_NS; do echo "netns add $n"; done
	echo "link add e0 netns $NS_S type veth peer name p0 netns $NS_H"
	echo "link add e0 netns $NS_R type veth peer name p1 netns $NS_H"
	echo "link add e0 netns $NS_A type veth peer name e0 netns $NS_B"
} >"$TMP/root.batch"
ip -batch "$TMP/root.batch" || die "creating namespaces failed"

configure() { # ns batch-file
	ip netns exec "$1" sh -c '
		echo 1 >/proc/sys/net/ipv6/conf/all/disable_ipv6 &&
		echo 1 >/proc/sys/net/ipv6/conf/default/disable_ipv6 &&
		for f in /proc/sys/net/bridge/bridge-nf-call-iptables \
			 /proc/sys/net/bridge/bridge-nf-call-ip6tables \
			 /proc/sys/net/bridge/bridge-nf-call-arptables; do
			[ -w "$f" ] && echo 0 >"$f"
		done
		ip -batch "$0"' "$2"
}
printf 'link set lo up\naddr add 10.203.0.1/24 dev e0\nlink set e0 up\n' >"$TMP/s.batch"
printf 'link set lo up\naddr add 10.203.0.2/24 dev e0\nlink set e0 up\n' >"$TMP/r.batch"
printf '%s\n' 'link set lo up' \
	'link add br0 type bridge stp_state 0 forward_delay 0' \
	'link set p0 master br0' 'link set p1 master br0' \
	'link set p0 up' 'link set p1 up' 'link set br0 up' >"$TMP/h.batch"
printf 'link set lo up\naddr add 10.204.0.1/24 dev e0\nlink set e0 up\n' >"$TMP/a.batch"
printf 'link set lo up\naddr add 10.204.0.2/24 dev e0\nlink set e0 up\n' >"$TMP/b.batch"
configure "$NS_H" "$TMP/h.batch" || die "configuring $NS_H failed"
configure "$NS_S" "$TMP/s.batch" || die "configuring $NS_S failed"
configure "$NS_R" "$TMP/r.batch" || die "configuring $NS_R failed"
configure "$NS_A" "$TMP/a.batch" || die "configuring $NS_A failed"
configure "$NS_B" "$TMP/b.batch" || die "configuring $NS_B failed"

# Warm-up: ARP in s and a, MAC learning in br0 (bounded: ping's own -c/-W).
warm() { # ns addr
	local i
	for ((i = 0; i < 5; i++)); do
		ip netns exec "$1" ping -c 2 -i 0.2 -W 1 "$2" >/dev/null 2>&1 && return 0
	done
	die "no ping reply from $2 in $1"
}
warm "$NS_S" 10.203.0.2
warm "$NS_A" 10.204.0.2
ip netns exec "$NS_H" bridge fdb show br br0 dynamic 2>/dev/null |
	sed 's/^/netns_bridge: fdb: /' >&2

# --- forwarding ----------------------------------------------------------
KSOFTIRQD=$(ps -eo pid=,comm= | awk -v c="ksoftirqd/$SEND_CPU" '$2 == c {print $1}')
ksoftirqd_ticks() {
	[ -n "$KSOFTIRQD" ] && awk '{print $14 + $15}' "/proc/$KSOFTIRQD/stat" 2>/dev/null || echo 0
}

# blast NAME SRC_NS DST_NS DST_IP PAYLOAD: appends
# "NAME sent failed wall_ns cpu_ns received ksoftirqd_ms" to $TMP/results
# (not run in $(...), so that SINK_PID stays visible to cleanup)
blast() {
	local out i k0 k1 s
	NBLAST=$((NBLAST + 1))
	out=$TMP/sink.$NBLAST
	ip netns exec "$3" taskset -c $SINK_CPU "$UDPBLAST" sink $PORT -t $((SECS + 10)) -i 500 >"$out" &
	SINK_PID=$!
	for ((i = 0; i < 200; i++)); do # at most 10 s
		grep -q ready "$out" 2>/dev/null && break
		kill -0 "$SINK_PID" 2>/dev/null || break
		sleep 0.05
	done
	grep -q ready "$out" || die "sink did not start ($((i * 50)) ms)"
	k0=$(ksoftirqd_ticks)
	s=$(ip netns exec "$2" taskset -c $SEND_CPU "$UDPBLAST" send "$4" $PORT -n "$COUNT" -t $SECS -b 64 -l "$5") ||
		die "sender failed"
	k1=$(ksoftirqd_ticks)
	wait "$SINK_PID"
	SINK_PID=
	awk -v n="$1" -v s="$s" -v kt=$((k1 - k0)) -v hz="$(getconf CLK_TCK)" '$1 == "received" {
		split(s, f, " ")
		print n, f[2], f[4], f[6], f[8], $2, kt * 1000 / hz
	}' "$out" >>"$TMP/results"
}

NBLAST=0
: >"$TMP/results"
for ((round = 1; round <= ROUNDS; round++)); do
	blast pair64 "$NS_A" "$NS_B" 10.204.0.2 22
	blast bridge64 "$NS_S" "$NS_R" 10.203.0.2 22
	blast pair1500 "$NS_A" "$NS_B" 10.204.0.2 1458
	blast bridge1500 "$NS_S" "$NS_R" 10.203.0.2 1458
done

# --- results -------------------------------------------------------------
awk '
	# fields: kind sent failed wall_ns cpu_ns received ksoftirqd_ms
	{
		loss = $2 > 0 ? ($2 - $6) / $2 * 100 : 100
		cpu = $6 > 0 ? $5 / $6 : -1
		wall = $6 > 0 ? $4 / $6 : -1
		printf "netns_bridge: %-10s sent %d failed %d delivered %d (loss %.2f%%) cpu %.0f ns/pkt wall %.0f ns/pkt ksoftirqd/0 %d ms\n",
			$1, $2, $3, $6, loss, cpu, wall, $7 > "/dev/stderr"
		if (loss > 1)
			printf "netns_bridge: WARNING: %s lost %.2f%% of its packets\n", $1, loss > "/dev/stderr"
		if (cpu > 0 && (!($1 in best) || cpu < best[$1])) best[$1] = cpu
	}
	END {
		split("pair64 bridge64 pair1500 bridge1500", k, " ")
		for (i = 1; i <= 4; i++)
			if (!(k[i] in best)) {
				printf "netns_bridge: nothing delivered for %s\n", k[i] > "/dev/stderr"
				exit 1
			}
		b64 = best["bridge64"] - best["pair64"]
		b1500 = best["bridge1500"] - best["pair1500"]
		if (b64 <= 0 || b1500 <= 0) {
			printf "netns_bridge: bridge not slower than the pair (%.0f, %.0f ns): noise\n", b64, b1500 > "/dev/stderr"
			exit 1
		}
		printf "netns_bridge: 64 B: bridge path %.0f ns/pkt, pair %.0f ns/pkt -> bridge %.1f ns/frame; end to end %.3f Mpps\n",
			best["bridge64"], best["pair64"], b64, 1e3 / best["bridge64"] > "/dev/stderr"
		printf "netns_bridge: 1500 B: bridge path %.0f ns/pkt, pair %.0f ns/pkt -> bridge %.1f ns/frame; end to end %.3f Gbit/s\n",
			best["bridge1500"], best["pair1500"], b1500, 1500 * 8 / best["bridge1500"] > "/dev/stderr"
		printf "LINUX bridge_mpps_64 %.4f\n", 1e3 / b64
		printf "LINUX bridge_gbps_1500 %.3f\n", 1500 * 8 / b1500
	}' "$TMP/results" || exit 1

# --- teardown and check --------------------------------------------------
cleanup
TMP=$(mktemp -d /tmp/vbench_br.$$.XXXXXX)
for n in $ALL_NS; do
	[ -e "/run/netns/$n" ] && die "namespace $n left behind"
done
exit 0
