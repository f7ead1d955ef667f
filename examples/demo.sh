#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
#
# examples/demo.sh: an emulated network built with vimage(8) and driven by
# unmodified Debian programs, no root needed.
#
#   h1 (10.1.0.11) --\
#                     br0 in r (10.1.0.1) -- r -- shaped link -- srv (10.2.0.2)
#   h2 (10.1.0.12) --/                          20 Mbit/s, 10 ms each way
#
# The bridge and every address and route are set up with `vimage NAME ip
# ...` (Debian's ip, through the rtnetlink emulation); the shaped link is
# made with `vimage --ve ... rate 20mbit delay 10ms` and changed at run time
# with `vimage --shape`. Then ping, curl and iperf3 run across it, and
# everything is torn down. Exits nonzero if any step fails.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
V=$BUILD/vimage
for b in vimage vimaged libvimage-preload.so; do
	[ -e "$BUILD/$b" ] || { echo "demo: $BUILD/$b not built (make)"; exit 1; }
done
missing=
for p in ip ping curl iperf3 python3; do command -v $p >/dev/null || missing="$missing $p"; done
[ -z "$missing" ] || { echo "demo: needs$missing (apt-get install iproute2 iputils-ping curl iperf3 python3)"; exit 1; }

T=$(mktemp -d /tmp/vimage-demo.XXXXXX) || exit 1
chmod 700 "$T"
export VIMAGE_SOCKET=$T/ctl
pids=()
dpid=
cleanup() {
	set +e
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	"$V" --no-autostart --shutdown >/dev/null 2>&1
	if [ -n "$dpid" ]; then
		for _ in $(seq 50); do kill -0 "$dpid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$dpid" 2>/dev/null
		wait "$dpid" 2>/dev/null
	fi
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
failed=0
if [ -t 1 ]; then
	step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
else
	step() { printf '\n== %s\n' "$*"; }
fi
show() { printf '$ %s\n' "$*"; "$@"; }
must() { "$@" || { echo "demo: FAILED: $*"; failed=1; }; }
port_ready() { # NAME ADDR PORT: bounded wait for a listener
	for _ in $(seq 100); do
		"$V" "$1" bash -c "exec 3<>/dev/tcp/$2/$3" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

step "vimaged starts (private socket $VIMAGE_SOCKET, uid $(id -u))"
# Started here as our child rather than on demand, so that an interrupted
# demo leaves nothing running.
"$BUILD/vimaged" --foreground --socket "$VIMAGE_SOCKET" --log-level warn 2>"$T/vimaged.err" &
dpid=$!
for _ in $(seq 100); do [ -S "$VIMAGE_SOCKET" ] && break; sleep 0.05; done
t0=$(date +%s.%N)
for n in h1 h2 r srv; do must "$V" -c "$n"; done
must "$V" --ve h1:eth0 r:p1
must "$V" --ve h2:eth0 r:p2
show "$V" --ve r:eth1 srv:eth0 rate 20mbit delay 10ms || failed=1

step "configured with unmodified ip inside the vimages"
show "$V" r ip link add br0 type bridge || failed=1
for c in "r ip link set p1 master br0" "r ip link set p2 master br0" \
	"r ip link set p1 up" "r ip link set p2 up" "r ip link set br0 up" \
	"r ip addr add 10.1.0.1/24 dev br0" "r ip addr add 10.2.0.1/24 dev eth1" \
	"r ip link set eth1 up" \
	"h1 ip addr add 10.1.0.11/24 dev eth0" "h1 ip link set eth0 up" \
	"h1 ip route add default via 10.1.0.1" \
	"h2 ip addr add 10.1.0.12/24 dev eth0" "h2 ip link set eth0 up" \
	"h2 ip route add default via 10.1.0.1" \
	"srv ip addr add 10.2.0.2/24 dev eth0" "srv ip link set eth0 up" \
	"srv ip route add default via 10.2.0.1"; do
	# shellcheck disable=SC2086
	must "$V" $c
done
must "$V" --sysctl r net.inet.ip.forwarding=1 >/dev/null
t1=$(date +%s.%N)
awk -v a="$t0" -v b="$t1" 'BEGIN { printf "4 vimages, 3 links, a bridge, 17 ip commands: %.2f s\n", b - a }'
show "$V" r ip -br addr
show "$V" h1 ip route
show "$V" -l

step "ping: h2 -> h1 on the LAN, then h1 -> srv across the shaped link (10 ms each way)"
show "$V" h2 ping -c 3 -i 0.2 -q 10.1.0.11 | tail -2 || failed=1
show "$V" h1 ping -c 3 -i 0.2 -q 10.2.0.2 | tail -2 || failed=1
show "$V" --fdb r br0

step "curl: h1 fetches 4 MB from python3 -m http.server in srv"
head -c 4000000 /dev/urandom >"$T/blob"
(cd "$T" && exec "$V" srv python3 -m http.server 8000 --bind 10.2.0.2 >/dev/null 2>&1) &
pids+=($!)
port_ready srv 10.2.0.2 8000 || { echo "demo: the web server did not start"; failed=1; }
show "$V" h1 curl -s -o "$T/got" -w '%{size_download} bytes in %{time_total} s (%{speed_download} B/s)\n' http://10.2.0.2:8000/blob || failed=1
cmp -s "$T/blob" "$T/got" && echo "bytes identical" || { echo "demo: curl's bytes differ"; failed=1; }

iperf() { # the server in srv, the client in h2; prints the receiver's Mbit/s
	"$V" srv iperf3 -s -1 -p 5201 >/dev/null 2>&1 &
	local sp=$!
	pids+=($sp)
	# (a probe connection would be taken for the test's own)
	sleep 0.7
	"$V" h2 iperf3 -c 10.2.0.2 -p 5201 -t 3 -J 2>/dev/null |
		python3 -c 'import json,sys; print("%.1f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 1e6))'
	wait "$sp" 2>/dev/null
}
step "iperf3: h2 -> srv through the 20 Mbit/s link"
m1=$(iperf)
echo "iperf3: ${m1:-?} Mbit/s (configured 20 Mbit/s; TCP/IP headers take ~5%)"
step "the link changed at run time: vimage --shape r eth1 rate 100mbit (and srv's side)"
show "$V" --shape r eth1 rate 100mbit || failed=1
show "$V" --shape srv eth0 rate 100mbit || failed=1
m2=$(iperf)
echo "iperf3: ${m2:-?} Mbit/s (configured 100 Mbit/s)"
awk -v a="${m1:-0}" -v b="${m2:-0}" 'BEGIN { exit !(a > 15 && a < 21 && b > 75 && b < 101) }' ||
	{ echo "demo: the shaped rates were not what was configured"; failed=1; }
show "$V" --shape-show r eth1 | grep -E '^(rate|delay_ns|stat\.sent|stat\.dropped_queue)='

step "teardown"
for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
pids=()
show "$V" -d -f h1
"$V" --stats | grep -E '^(world|daemon)\.(vimages|sockets|tcp_conns)='
show "$V" --shutdown
[ -e "$VIMAGE_SOCKET" ] && { echo "demo: the socket was left behind"; failed=1; }
if [ $failed = 0 ]; then
	echo "demo.sh: ok"
else
	echo "demo.sh: FAILED"
fi
exit $failed
