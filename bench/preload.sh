#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
#
# bench/preload.sh: unmodified programs through libvimage-preload.so against
# the same programs in Linux network namespaces, in the same run.
#
#   preload_iperf3_gbps  one iperf3 TCP stream (`iperf3 -c -t 5 -J`, server
#                        `iperf3 -s -1`) between two vimages joined by a ve
#                        pair; Linux: between two namespaces over veth.
#                        Neither side is pinned to a CPU: ours runs three
#                        processes (client, server, vimaged), Linux two.
#   preload_ping_rtt_us  the average RTT of `ping -c 50 -i 0.01 -q` (Debian's
#                        iputils ping, run through the loader by vimage(8));
#                        Linux: the same ping between the two namespaces.
#
# Prints "RESULT name value unit" and, as root, "LINUX name value" (bench/run.sh
# collects both). Everything it creates (a private vimaged, namespaces
# vpb_$$_a/_b) is removed by name on exit.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
V=${VIMAGE:-$ROOT/build/vimage}
T=${PRELOAD_T:-5}
for p in iperf3 ping; do
	command -v $p >/dev/null || { echo "preload: $p not installed" >&2; exit 1; }
done
[ -x "$V" ] && [ -f "$ROOT/build/libvimage-preload.so" ] ||
	{ echo "preload: build/vimage or the preload library not built" >&2; exit 1; }

tmp=$(mktemp -d /tmp/vpb.$$.XXXXXX) || exit 1
chmod 700 "$tmp"
export VIMAGE_SOCKET=$tmp/ctl
NA=vpb_$$_a NB=vpb_$$_b
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	"$V" --no-autostart --shutdown >/dev/null 2>&1
	if [ -n "${LINUX:-}" ]; then
		ip netns del "$NA" 2>/dev/null
		ip netns del "$NB" 2>/dev/null
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

gbps() { # iperf3 -J output on stdin -> receiver Gbit/s
	python3 -c 'import json,sys; print("%.2f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 1e9))' 2>/dev/null
}
rtt() { # ping -q output on stdin -> average RTT in us
	sed -nE 's|^rtt min/avg/max/mdev = [0-9.]+/([0-9.]+)/.*|\1|p' | awk '{ printf "%.1f", $1 * 1000 }'
}

# --- ours ------------------------------------------------------------------
"$V" -c a && "$V" -c b && "$V" --ve a:e0 b:e0 &&
	"$V" --addr a e0 10.0.0.1/24 && "$V" --addr b e0 10.0.0.2/24 &&
	"$V" --up a e0 && "$V" --up b e0 || { echo "preload: setup failed" >&2; exit 1; }
timeout $((T + 10)) "$V" b iperf3 -s -1 -p 5201 >/dev/null 2>&1 &
pids+=($!)
sleep 0.5
g=$(timeout $((T + 8)) "$V" a iperf3 -c 10.0.0.2 -p 5201 -t "$T" -J 2>/dev/null | gbps)
[ -n "$g" ] && echo "RESULT preload_iperf3_gbps $g Gbit/s" || echo "preload: our iperf3 failed" >&2
wait
r=$(timeout 20 "$V" a ping -c 50 -i 0.01 -q 10.0.0.2 2>/dev/null | rtt)
[ -n "$r" ] && echo "RESULT preload_ping_rtt_us $r us" || echo "preload: our ping failed" >&2

# --- Linux -------------------------------------------------------------------
[ "$(id -u)" = 0 ] || exit 0
LINUX=1
ip netns add "$NA" && ip netns add "$NB" &&
	ip link add vpb$$a netns "$NA" type veth peer name vpb$$b netns "$NB" &&
	ip -n "$NA" addr add 10.0.0.1/24 dev vpb$$a && ip -n "$NB" addr add 10.0.0.2/24 dev vpb$$b &&
	ip -n "$NA" link set vpb$$a up && ip -n "$NB" link set vpb$$b up &&
	ip -n "$NA" link set lo up && ip -n "$NB" link set lo up || { echo "preload: netns setup failed" >&2; exit 1; }
timeout $((T + 10)) ip netns exec "$NB" iperf3 -s -1 -p 5201 >/dev/null 2>&1 &
pids+=($!)
sleep 0.5
g=$(timeout $((T + 8)) ip netns exec "$NA" iperf3 -c 10.0.0.2 -p 5201 -t "$T" -J 2>/dev/null | gbps)
[ -n "$g" ] && echo "LINUX preload_iperf3_gbps $g"
wait
r=$(timeout 20 ip netns exec "$NA" ping -c 50 -i 0.01 -q 10.0.0.2 2>/dev/null | rtt)
[ -n "$r" ] && echo "LINUX preload_ping_rtt_us $r"
exit 0
