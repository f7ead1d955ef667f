#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# netns_chain.sh [HOPS]   (default 32, 1..200; needs root)
#
# Linux baseline for fwd_ns_per_hop, fwd_mpps_chain32, ping_rtt_us and
# ping_rtt_chain_us.
#
# Topology (all namespaces and veth pairs made here, prefix vbn<pid>):
#   chain:  src -- r1 -- r2 -- ... -- rHOPS -- dst
#           link k (k = 0..HOPS) joins node k and node k+1 (src = node 0,
#           dst = node HOPS+1) and is 10.201.k.0/24: .1 on the left end (e1),
#           .2 on the right end (e0). Routers have ip_forward=1, rp_filter=0
#           and two routes (towards dst's and src's subnets); src and dst have
#           a default route. IPv6 is disabled everywhere (no background
#           ND/MLD traffic).
#   pair:   a -- b, one veth pair (10.202.0.1 -- 10.202.0.2), no router.
#
# What counts as a hop: one router forwarding one packet (receive on a veth,
# route lookup, TTL decrement, neighbour-resolved transmit on the next veth).
# HOPS routers = HOPS hops.
#
# fwd_ns_per_hop: udpblast (bench/linux/udpblast.c, $UDPBLAST or
# build/bench/udpblast) sends 64-byte frames (22-byte UDP payload) with
# sendmmsg, pinned to CPU 0 with taskset, for at most 2,000,000 datagrams or
# a few seconds, to a sink pinned to CPU 1 that counts what arrives. veth
# transmission hands the packet to the peer's receive path in softirq on the
# sending CPU, run at the sender's local_bh_enable: the whole chain executes
# on CPU 0 inside the sender's system calls. The time used is the sender's
# thread CPU time (CLOCK_THREAD_CPUTIME_ID): this kernel has no IRQ time
# accounting, so it includes that softirq work, and unlike wall time it is
# not inflated by other tasks sharing CPU 0 on this busy 2-core machine
# (wall time and any ksoftirqd/0 time are shown on stderr as a check).
#   per packet  = sender CPU ns / datagrams delivered to the sink
#   fwd_ns_per_hop = (per packet over the chain - per packet over the pair)
#                    / HOPS
# Subtracting the pair removes the fixed cost that is not forwarding (the
# send system call, UDP/IP output, the first veth transmit, the final
# receive and delivery to the sink's socket). Each measurement is done twice,
# interleaved, and the lower per-packet figure of each is kept. Loss
# (sent - delivered) is reported on stderr and should be ~0 if the chain
# really runs synchronously; if more than 1% is lost a warning is printed.
#
# ping_rtt_us / ping_rtt_chain_us: average RTT of `ping -c 20 -i 0.01 -q`
# (after a 2-packet warm-up that resolves ARP) from a to b and from src to dst.
# $PING_INTERVAL overrides the 0.01. Beware: with a 10 ms gap the CPU idles
# between pings and, on this VM, each RTT then mostly measures waking up from
# idle with cold caches (20-50 us direct, varying from run to run), whereas
# back-to-back pings (-i 0, printed on stderr) give ~4 us; the stack work
# proper is the latter.
#
# Output (stdout), exactly:
#   LINUX fwd_ns_per_hop <ns>
#   LINUX fwd_mpps_chain<HOPS> <Mpps>   (1e3 / chain ns per packet: what one
#                     core pushes end to end through the whole chain, sender
#                     included)
#   LINUX ping_rtt_us <us>
#   LINUX ping_rtt_chain_us <us>
set -u

HOPS=${1:-32}
case $HOPS in '' | *[!0-9]*) echo "usage: $0 [HOPS]" >&2; exit 2 ;; esac
if [ "$HOPS" -lt 1 ] || [ "$HOPS" -gt 200 ]; then
	echo "netns_chain: HOPS must be 1..200" >&2
	exit 2
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "netns_chain: needs root" >&2
	exit 2
fi

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
UDPBLAST=${UDPBLAST:-$ROOT/build/bench/udpblast}
if [ ! -x "$UDPBLAST" ]; then
	echo "netns_chain: $UDPBLAST missing (make build/bench/udpblast)" >&2
	exit 2
fi
COUNT=${BLAST_COUNT:-2000000}
PAIR_SECS=2  # the pair runs at ~1 Mpps: 2 s is plenty
CHAIN_SECS=5 # the chain runs at ~10 kpps for 32 hops
PORT=9911
PING_INTERVAL=${PING_INTERVAL:-0.01}
SEND_CPU=0
SINK_CPU=1

P=vbn$$
TMP=$(mktemp -d /tmp/${P}.XXXXXX)
SINK_PID=

cleanup() {
	local names
	if [ -n "$SINK_PID" ]; then
		kill "$SINK_PID" 2>/dev/null
		wait "$SINK_PID" 2>/dev/null
	fi
	names=$(ip netns list 2>/dev/null | awk -v p="$P" 'index($1, p) == 1 {print $1}')
	if [ -n "$names" ]; then
		printf 'netns del %s\n' $names >"$TMP/del.batch"
		ip -force -batch "$TMP/del.batch" >/dev/null 2>&1
	fi
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

die() {
	echo "netns_chain: $*" >&2
	exit 1
}

node() { echo "${P}n$1"; }
LAST=$((HOPS + 1))
SRC=$(node 0)
DST=$(node $LAST)
PA=${P}a
PB=${P}b

# --- build ---------------------------------------------------------------
# One ip process creates every namespace and veth pair (links start down).
{
	for ((k = 0; k <= LAST; k++)); do echo "netns add $(node $k)"; done
	echo "netns add $PA"
	echo "netns add $PB"
	for ((k = 0; k < LAST; k++)); do
		echo "link add e1 netns $(node $k) type veth peer name e0 netns $(node $((k + 1)))"
	done
	echo "link add e1 netns $PA type veth peer name e0 netns $PB"
} >"$TMP/root.batch"
ip -batch "$TMP/root.batch" || die "creating namespaces failed"

# Then one `ip netns exec` per namespace for sysctls and its own ip batch.
configure() { # ns forward batch-file
	ip netns exec "$1" sh -c '
		echo 1 >/proc/sys/net/ipv6/conf/all/disable_ipv6 &&
		echo 1 >/proc/sys/net/ipv6/conf/default/disable_ipv6 &&
		echo 0 >/proc/sys/net/ipv4/conf/all/rp_filter &&
		echo "$0" >/proc/sys/net/ipv4/ip_forward &&
		ip -batch "$1"' "$2" "$3"
}
for ((k = 0; k <= LAST; k++)); do
	f=$TMP/n$k.batch
	echo "link set lo up" >"$f"
	if [ "$k" -gt 0 ]; then
		echo "addr add 10.201.$((k - 1)).2/24 dev e0" >>"$f"
		echo "link set e0 up" >>"$f"
	fi
	if [ "$k" -lt "$LAST" ]; then
		echo "addr add 10.201.$k.1/24 dev e1" >>"$f"
		echo "link set e1 up" >>"$f"
	fi
	if [ "$k" -eq 0 ]; then
		echo "route add default via 10.201.0.2" >>"$f"
	elif [ "$k" -eq "$LAST" ]; then
		echo "route add default via 10.201.$HOPS.1" >>"$f"
	else
		[ "$k" -lt "$HOPS" ] && echo "route add 10.201.$HOPS.0/24 via 10.201.$k.2" >>"$f"
		[ "$k" -gt 1 ] && echo "route add 10.201.0.0/24 via 10.201.$((k - 1)).1" >>"$f"
	fi
	fwd=0
	[ "$k" -gt 0 ] && [ "$k" -lt "$LAST" ] && fwd=1
	configure "$(node $k)" $fwd "$f" || die "configuring $(node $k) failed"
done
printf 'link set lo up\naddr add 10.202.0.1/24 dev e1\nlink set e1 up\n' >"$TMP/a.batch"
printf 'link set lo up\naddr add 10.202.0.2/24 dev e0\nlink set e0 up\n' >"$TMP/b.batch"
configure "$PA" 0 "$TMP/a.batch" || die "configuring $PA failed"
configure "$PB" 0 "$TMP/b.batch" || die "configuring $PB failed"

SRC_IP=10.201.0.1
DST_IP=10.201.$HOPS.2

# --- ping ----------------------------------------------------------------
ping_avg_us() { # ns addr [count interval] -> average RTT in us
	ip netns exec "$1" ping -c 2 -i 0.01 -W 2 -t 255 "$2" >/dev/null 2>&1 ||
		die "no ping reply from $2"
	ip netns exec "$1" ping -c "${3:-20}" -i "${4:-$PING_INTERVAL}" -W 2 -t 255 -q "$2" 2>/dev/null |
		awk -F/ '/^(rtt|round-trip)/ {printf "%.1f\n", $5 * 1000}'
}
rtt_pair=$(ping_avg_us "$PA" 10.202.0.2)
rtt_chain=$(ping_avg_us "$SRC" "$DST_IP")
[ -n "$rtt_pair" ] && [ -n "$rtt_chain" ] || die "ping gave no average"
echo "netns_chain: ping -i $PING_INTERVAL avg: pair $rtt_pair us, chain $rtt_chain us; back-to-back (-c 200 -i 0): pair $(ping_avg_us "$PA" 10.202.0.2 200 0) us, chain $(ping_avg_us "$SRC" "$DST_IP" 200 0) us" >&2

# --- forwarding ----------------------------------------------------------
KSOFTIRQD=$(ps -eo pid=,comm= | awk -v c="ksoftirqd/$SEND_CPU" '$2 == c {print $1}')
ksoftirqd_ticks() {
	[ -n "$KSOFTIRQD" ] && awk '{print $14 + $15}' "/proc/$KSOFTIRQD/stat" 2>/dev/null || echo 0
}

# blast NAME SRC_NS DST_NS DST_IP SECONDS: appends
# "NAME sent failed wall_ns cpu_ns received ksoftirqd_ms" to $TMP/results
# (not run in $(...), so that SINK_PID stays visible to cleanup)
blast() {
	local out i k0 k1 s
	# a fresh file each time: reusing one raced with the truncation by the
	# new sink (the old "ready" was seen)
	NBLAST=$((NBLAST + 1))
	out=$TMP/sink.$NBLAST
	ip netns exec "$3" taskset -c $SINK_CPU "$UDPBLAST" sink $PORT -t $(($5 + 10)) -i 500 >"$out" &
	SINK_PID=$!
	for ((i = 0; i < 200; i++)); do # at most 10 s
		grep -q ready "$out" 2>/dev/null && break
		kill -0 "$SINK_PID" 2>/dev/null || break
		sleep 0.05
	done
	grep -q ready "$out" || die "sink did not start ($((i * 50)) ms)"
	k0=$(ksoftirqd_ticks)
	s=$(ip netns exec "$2" taskset -c $SEND_CPU "$UDPBLAST" send "$4" $PORT -n "$COUNT" -t "$5" -b 64 -l 22) ||
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
for round in 1 2; do
	blast pair "$PA" "$PB" 10.202.0.2 $PAIR_SECS
	blast chain "$SRC" "$DST" "$DST_IP" $CHAIN_SECS
done

# --- results -------------------------------------------------------------
awk -v hops="$HOPS" -v rp="$rtt_pair" -v rc="$rtt_chain" '
	# fields: kind sent failed wall_ns cpu_ns received ksoftirqd_ms
	{
		loss = $2 > 0 ? ($2 - $6) / $2 * 100 : 100
		cpu = $6 > 0 ? $5 / $6 : -1
		wall = $6 > 0 ? $4 / $6 : -1
		printf "netns_chain: %-5s sent %d failed %d delivered %d (loss %.2f%%) cpu %.0f ns/pkt wall %.0f ns/pkt ksoftirqd/0 %d ms\n",
			$1, $2, $3, $6, loss, cpu, wall, $7 > "/dev/stderr"
		if (loss > 1)
			printf "netns_chain: WARNING: %s lost %.2f%% of its packets\n", $1, loss > "/dev/stderr"
		if (cpu > 0 && (!($1 in best) || cpu < best[$1])) best[$1] = cpu
	}
	END {
		if (!("pair" in best) || !("chain" in best)) {
			print "netns_chain: nothing delivered" > "/dev/stderr"
			exit 1
		}
		hop = (best["chain"] - best["pair"]) / hops
		printf "netns_chain: HOPS=%d: chain %.0f ns/pkt, pair %.0f ns/pkt -> %.1f ns per hop (chain/HOPS without subtracting: %.1f)\n",
			hops, best["chain"], best["pair"], hop, best["chain"] / hops > "/dev/stderr"
		printf "LINUX fwd_ns_per_hop %.1f\n", hop
		printf "LINUX fwd_mpps_chain%d %.4f\n", hops, 1e3 / best["chain"]
		printf "LINUX ping_rtt_us %s\n", rp
		printf "LINUX ping_rtt_chain_us %s\n", rc
	}' "$TMP/results" || exit 1

# --- teardown and check --------------------------------------------------
cleanup
TMP=$(mktemp -d /tmp/${P}.XXXXXX)
left=$(ip netns list | awk -v p="$P" 'index($1, p) == 1' | wc -l)
[ "$left" -eq 0 ] || die "$left namespaces left behind"
exit 0
