#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
#
# bench/cli_chain.sh [N]: the wall time to build an N-vimage routed chain
# (default 100) with the command-line tools, ours and Linux's:
#
#   node0 - node1 - ... - node(N-1), link k = 10.0.k.0/24 (k.1 left, k.2
#   right), every inner node forwarding, a default route towards the far
#   end and a route back to node0's link, node(N-1) defaulting back.
#
# Ours: a private vimaged, then one `vimage` process per step (create, ve
# pair, address x2, up x2, routes, sysctl). Linux (root only): the same
# steps with `ip netns add`, `ip link add ... type veth`, `ip -n ... addr`,
# `ip -n ... link set up`, `ip -n ... route`, `ip netns exec ... sysctl`.
# Both are checked by a ping from node0 to node(N-1) (not timed), then torn
# down (not timed). Prints "RESULT cli_chain100_s <s> s" and, as root,
# "LINUX cli_chain100_s <s>" (bench/run.sh collects both).
set -u
N=${1:-100}
[ "$N" -ge 2 ] && [ "$N" -le 250 ] || { echo "cli_chain: N in 2..250" >&2; exit 2; }
ROOT=$(cd "$(dirname "$0")/.." && pwd)
V=${VIMAGE:-$ROOT/build/vimage}
now() { date +%s.%N; }
dt() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

# --- ours ---------------------------------------------------------------
tmp=$(mktemp -d /tmp/vcli.$$.XXXXXX) || exit 1
chmod 700 "$tmp"
export VIMAGE_SOCKET=$tmp/ctl
ours_ok=0
cleanup() {
	"$V" --no-autostart --shutdown >/dev/null 2>&1
	if [ -n "${LNS:-}" ]; then
		for ((i = 0; i < N; i++)); do ip netns del "${LNS}_$i" 2>/dev/null; done
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

if [ ! -x "$V" ]; then
	echo "cli_chain: $V not built" >&2
else
	"$V" --status >/dev/null 2>&1 # starts the daemon (not timed)
	t0=$(now)
	fail=0
	for ((i = 0; i < N; i++)); do
		"$V" -c "n$i" || fail=1
	done
	for ((k = 0; k < N - 1; k++)); do
		r=$((k + 1))
		"$V" --ve "n$k:e1" "n$r:e0" &&
			"$V" --addr "n$k" e1 "10.0.$k.1/24" &&
			"$V" --addr "n$r" e0 "10.0.$k.2/24" &&
			"$V" --up "n$k" e1 && "$V" --up "n$r" e0 || fail=1
	done
	for ((i = 0; i < N; i++)); do
		if ((i < N - 1)); then
			"$V" --route "n$i" default via "10.0.$i.2" || fail=1
		else
			"$V" --route "n$i" default via "10.0.$((i - 1)).1" || fail=1
		fi
		if ((i > 1)); then
			"$V" --route "n$i" 10.0.0.0/24 via "10.0.$((i - 1)).1" || fail=1
		fi
		if ((i > 0 && i < N - 1)); then
			"$V" --sysctl "n$i" net.inet.ip.forwarding=1 >/dev/null || fail=1
		fi
	done
	t1=$(now)
	# Across up to 248 routers the echo and its reply need more than the
	# default TTL (not timed).
	"$V" --sysctl n0 net.inet.ip.ttl=255 >/dev/null
	"$V" --sysctl "n$((N - 1))" net.inet.ip.ttl=255 >/dev/null
	if [ $fail = 0 ] && "$V" --ping n0 "10.0.$((N - 2)).2" 3 >/dev/null; then
		echo "RESULT cli_chain${N}_s $(dt "$t0" "$t1") s"
		ours_ok=1
	else
		echo "cli_chain: our chain failed (fail=$fail, or no ping end to end)" >&2
	fi
	"$V" --no-autostart --shutdown >/dev/null 2>&1
fi

# --- Linux --------------------------------------------------------------
if [ "$(id -u)" != 0 ]; then
	echo "cli_chain: linux baseline skipped: not root" >&2
	[ $ours_ok = 1 ]
	exit
fi
LNS=vbench_cli_$$
t0=$(now)
fail=0
for ((i = 0; i < N; i++)); do
	ip netns add "${LNS}_$i" || fail=1
done
for ((k = 0; k < N - 1; k++)); do
	r=$((k + 1))
	ip link add e1 netns "${LNS}_$k" type veth peer e0 netns "${LNS}_$r" &&
		ip -n "${LNS}_$k" addr add "10.0.$k.1/24" dev e1 &&
		ip -n "${LNS}_$r" addr add "10.0.$k.2/24" dev e0 &&
		ip -n "${LNS}_$k" link set e1 up && ip -n "${LNS}_$r" link set e0 up || fail=1
done
for ((i = 0; i < N; i++)); do
	if ((i < N - 1)); then
		ip -n "${LNS}_$i" route add default via "10.0.$i.2" || fail=1
	else
		ip -n "${LNS}_$i" route add default via "10.0.$((i - 1)).1" || fail=1
	fi
	if ((i > 1)); then
		ip -n "${LNS}_$i" route add 10.0.0.0/24 via "10.0.$((i - 1)).1" || fail=1
	fi
	if ((i > 0 && i < N - 1)); then
		ip netns exec "${LNS}_$i" sysctl -qw net.ipv4.ip_forward=1 || fail=1
	fi
done
t1=$(now)
ip netns exec "${LNS}_$((N - 1))" sysctl -qw net.ipv4.ip_default_ttl=255
if [ $fail = 0 ] && ip netns exec "${LNS}_0" ping -t 255 -c 3 -i 0.2 -W 2 "10.0.$((N - 2)).2" >/dev/null; then
	echo "LINUX cli_chain${N}_s $(dt "$t0" "$t1")"
else
	echo "cli_chain: the Linux chain failed (fail=$fail, or no ping end to end)" >&2
fi
