#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
#
# examples/bridging.sh [--virtual] [--test]: the first scenario of the
# original VIMAGE project -- two virtual hosts on one LAN segment.
#
#   h1 (192.168.77.11) --ve-- \
#                              br0 (in the root vimage) --- the LAN
#   h2 (192.168.77.12) --ve-- /
#
# As root, the LAN is real: br0 has a port on a Linux TAP device, and a
# Linux network namespace on that TAP plays the LAN host (192.168.77.1).
# From it, both vimages answer ping and HTTP (python3 -m http.server run
# inside each with vimage(8)) as two distinct hosts, each with its own MAC
# in Linux's ARP table. The daemon itself stays unprivileged: it runs as
# the user `nobody` and uses a TAP device made for that user.
#
# Without root (or with --virtual) the same LAN is built entirely inside
# vimaged, and a third vimage "lan" plays the LAN host, using the same
# unmodified programs.
#
# --test: print one "ok"/"FAIL" line per check and "bridging: N passed, N
# failed" (tests/run_all.sh runs it). Everything made is removed on exit.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
virtual=0 testmode=0
for a in "$@"; do
	case $a in
	--virtual) virtual=1 ;;
	--test) testmode=1 ;;
	*) echo "usage: $0 [--virtual] [--test]" >&2; exit 2 ;;
	esac
done
[ "$(id -u)" = 0 ] || virtual=1
pass=0 fail=0
say() { [ $testmode = 1 ] || echo "$@"; }
ok() { echo "ok   $1"; pass=$((pass + 1)); }
bad() { echo "FAIL $1${2:+: $2}"; fail=$((fail + 1)); }
for b in vimage vimaged libvimage-preload.so; do
	[ -e "$BUILD/$b" ] || { echo "bridging: $BUILD/$b not built (make)"; echo "bridging: 0 passed, 1 failed"; exit 1; }
done
for p in python3 curl ping; do
	command -v $p >/dev/null || { echo "bridging: $p not installed"; echo "bridging: 0 passed, 1 failed"; exit 1; }
done

T=$(mktemp -d /tmp/vimage-bridging.XXXXXX) || exit 1
NS=vbr_lan_$$ TAP=vbrtap$$
pids=()
RUN=()
if [ $virtual = 0 ]; then
	USER_=nobody
	GROUP_=$(getent group nogroup >/dev/null && echo nogroup || echo nobody)
	mkdir -p "$T/bin" "$T/xdg" "$T/www1" "$T/www2"
	cp "$BUILD/vimage" "$BUILD/vimaged" "$BUILD/libvimage-preload.so" "$T/bin/"
	chown -R "$USER_:$GROUP_" "$T"
	chmod 0711 "$T"
	chmod 0700 "$T/xdg"
	RUN=(setpriv --reuid="$USER_" --regid="$GROUP_" --clear-groups env -i PATH=/usr/bin:/bin HOME="$T" XDG_RUNTIME_DIR="$T/xdg")
	V=$T/bin/vimage
else
	mkdir -p "$T/xdg" "$T/www1" "$T/www2"
	chmod 0700 "$T/xdg"
	RUN=(env XDG_RUNTIME_DIR="$T/xdg")
	V=$BUILD/vimage
fi
v() { "${RUN[@]}" timeout 20 "$V" --no-autostart "$@"; }
dpid=
cleanup() {
	set +e
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	v --shutdown >/dev/null 2>&1
	# The daemon is our child (started below, not on demand): it is gone
	# before its directory is.
	if [ -n "$dpid" ]; then
		for _ in $(seq 50); do kill -0 "$dpid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$dpid" 2>/dev/null
		wait "$dpid" 2>/dev/null
	fi
	if [ $virtual = 0 ]; then
		ip netns del "$NS" 2>/dev/null
		ip link del "$TAP" 2>/dev/null
	fi
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

if [ $virtual = 0 ]; then
	say "== the LAN: Linux namespace $NS on TAP device $TAP (made for user $USER_)"
else
	say "== no root (or --virtual): the LAN is virtual too; vimage 'lan' plays the LAN host"
fi
echo "I am h1" >"$T/www1/whoami"
echo "I am h2" >"$T/www2/whoami"
[ $virtual = 0 ] && chown -R "$USER_" "$T/www1" "$T/www2"

# Our own daemon, in the foreground as our child, so that nothing outlives
# the script even when it is interrupted.
"${RUN[@]}" "$(dirname "$V")/vimaged" --foreground --log-level warn 2>"$T/vimaged.err" &
dpid=$!
for _ in $(seq 100); do [ -S "$T/xdg/vimage/ctl" ] && break; sleep 0.05; done
set -e
v -c h1
v -c h2
v --ve h1:eth0 .:v1
v --ve h2:eth0 .:v2
v --bridge . br0 v1 v2
if [ $virtual = 0 ]; then
	ip tuntap add dev "$TAP" mode tap user "$USER_"
	# vimage(8) run as root opens the TAP and hands the open device to
	# the unprivileged daemon (root may use any user's daemon).
	timeout 20 "$V" --socket "$T/xdg/vimage/ctl" --no-autostart --tap . lan0 "$TAP"
	v --bridge-add . br0 lan0
	# The TAP goes into the LAN's namespace; the daemon keeps its fd.
	ip netns add "$NS"
	ip link set "$TAP" netns "$NS"
	ip -n "$NS" addr add 192.168.77.1/24 dev "$TAP"
	ip -n "$NS" link set "$TAP" up
	ip -n "$NS" link set lo up
	lan() { ip netns exec "$NS" timeout 20 "$@"; }
	up_ports="v1 v2 lan0 br0"
else
	v -c lan
	v --ve lan:eth0 .:v3
	v --bridge-add . br0 v3
	v lan ip addr add 192.168.77.1/24 dev eth0
	v lan ip link set eth0 up
	lan() { v lan "$@"; }
	up_ports="v1 v2 v3 br0"
fi
for i in $up_ports; do v --up . "$i"; done
# The hosts configure themselves with unmodified ip.
v h1 ip addr add 192.168.77.11/24 dev eth0
v h1 ip link set eth0 up
v h2 ip addr add 192.168.77.12/24 dev eth0
v h2 ip link set eth0 up
set +e

# A web server in each virtual host.
(cd "$T/www1" && exec "${RUN[@]}" timeout 60 "$V" h1 python3 -m http.server 8080 --bind 192.168.77.11 >/dev/null 2>&1) &
pids+=($!)
(cd "$T/www2" && exec "${RUN[@]}" timeout 60 "$V" h2 python3 -m http.server 8080 --bind 192.168.77.12 >/dev/null 2>&1) &
pids+=($!)
for _ in $(seq 50); do
	[ "$(lan curl -s --max-time 2 http://192.168.77.11:8080/whoami 2>/dev/null)" = "I am h1" ] && break
	sleep 0.1
done

say "== from the LAN host:"
for h in 1 2; do
	out=$(lan ping -c 3 -i 0.2 -W 2 192.168.77.1$h 2>&1)
	say "$out" | tail -2
	grep -q ' 0% packet loss' <<<"$out" && ok "lan_pings_h$h" || bad "lan_pings_h$h" "$(tail -2 <<<"$out" | tr '\n' '|')"
	out=$(lan curl -s --max-time 5 "http://192.168.77.1$h:8080/whoami" 2>&1)
	say "curl http://192.168.77.1$h:8080/whoami -> $out"
	[ "$out" = "I am h$h" ] && ok "lan_curls_h$h" || bad "lan_curls_h$h" "$out"
done
if [ $virtual = 0 ]; then
	neigh=$(ip -n "$NS" neigh show dev "$TAP")
else
	neigh=$(lan ip neigh show dev eth0)
fi
say "== the LAN host's ARP table:"
say "$neigh"
m1=$(awk '$1 == "192.168.77.11" { for (i = 1; i < NF; i++) if ($i == "lladdr") print $(i + 1) }' <<<"$neigh")
m2=$(awk '$1 == "192.168.77.12" { for (i = 1; i < NF; i++) if ($i == "lladdr") print $(i + 1) }' <<<"$neigh")
[ -n "$m1" ] && [ -n "$m2" ] && [ "$m1" != "$m2" ] && ok two_distinct_macs_in_lan_arp ||
	bad two_distinct_macs_in_lan_arp "h1=$m1 h2=$m2"
say "== the bridge's forwarding database (vimage --fdb . br0):"
fdb=$(v --fdb . br0)
say "$fdb"
grep -q "^$m1 *v1 " <<<"$fdb" && grep -q "^$m2 *v2 " <<<"$fdb" && ok fdb_learned_both_hosts_on_their_ports ||
	bad fdb_learned_both_hosts_on_their_ports "$(tr '\n' '|' <<<"$fdb")"
# Frames with bad lengths from the LAN: counted and dropped, nothing else.
if [ $virtual = 0 ]; then
	ip -n "$NS" link set "$TAP" mtu 9000
	lan python3 - "$TAP" <<'PYEOF'
import socket, struct, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((sys.argv[1], 0))
eth = b"\xff" * 6 + b"\x02\x00\x00\x00\x00\x99" + b"\x08\x00"
def csum(h):
    t = sum(struct.unpack("!10H", h))
    t = (t >> 16) + (t & 0xFFFF); t += t >> 16
    return struct.pack("!H", ~t & 0xFFFF)
s.send(eth + b"\x45" + bytes(3985))          # longer than lan0's MTU
s.send(eth + b"\x45\x00\x00\x14" + bytes(6))  # an IPv4 header cut short
h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 1000, 0, 0, 64, 17, 0,
                bytes([192, 168, 77, 1]), bytes([192, 168, 77, 11]))
s.send(eth + h[:10] + csum(h) + h[12:] + bytes(20))  # says 1000, has 40
PYEOF
	sleep 0.3
	rxerr=$(v . ip -s -j link show lan0 | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["stats64"]["rx"]["errors"])' 2>/dev/null)
	st=$(v --stats h1)
	short=$(sed -nE 's/^ip\.tooshort=([0-9]+)/\1/p' <<<"$st")
	blen=$(sed -nE 's/^ip\.badlen=([0-9]+)/\1/p' <<<"$st")
	out=$(lan ping -c 1 -W 2 192.168.77.11 2>&1)
	# The two cut IPv4 packets count as too short or bad length.
	[ "${rxerr:-0}" -ge 1 ] && [ $((${short:-0} + ${blen:-0})) -ge 2 ] &&
		grep -q ' 0% packet loss' <<<"$out" && ok tap_bad_length_frames_counted_and_dropped ||
		bad tap_bad_length_frames_counted_and_dropped "lan0 rx errors ${rxerr:-?}, h1 ip.tooshort ${short:-?} ip.badlen ${blen:-?}"
	say "bad frames from the LAN: lan0 rx errors $rxerr, h1 ip.tooshort $short, ip.badlen $blen; h1 still answers"
fi
# Between the two virtual hosts, across the bridge.
out=$(v h1 curl -s --max-time 5 http://192.168.77.12:8080/whoami 2>&1)
[ "$out" = "I am h2" ] && ok h1_curls_h2 || bad h1_curls_h2 "$out"
[ $virtual = 0 ] && mode="TAP LAN (root)" || mode="virtual LAN"
say "== done ($mode); everything is removed on exit"
echo "bridging: $pass passed, $fail failed"
[ "$fail" = 0 ]
