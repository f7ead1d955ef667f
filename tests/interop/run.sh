#!/bin/bash
# Interop with the Linux kernel: a vimage on a TAP device inside a network
# namespace this script creates; Linux's own stack is the peer.
#   1. Linux pings the vimage          4. the vimage pings Linux
#   2. UDP Linux -> vimage echo        5. UDP vimage -> Linux
#   3. the capture of the vimage side reads cleanly in tcpdump (and tshark)
# Needs root (CAP_NET_ADMIN for namespaces and TAP): skipped otherwise.
set -u
node=${1:-build/interop/tap_node}
pass=0
fail=0
ok() { echo "ok   $1"; pass=$((pass + 1)); }
bad() { echo "FAIL $1"; fail=$((fail + 1)); }

if [ "$(id -u)" != 0 ]; then
	echo "interop: skipped: needs root to create network namespaces and TAP devices"
	echo "interop: 0 passed, 0 failed, 5 skipped"
	exit 0
fi
for tool in ip ping socat; do
	if ! command -v $tool >/dev/null; then
		echo "interop: skipped: $tool is not installed (see .ci/run)"
		echo "interop: 0 passed, 0 failed, 5 skipped"
		exit 0
	fi
done

ns=vimgt$$
dev=vt$$
tmp=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	ip netns del "$ns" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
ip netns add "$ns" || { echo "interop: cannot create a namespace"; exit 1; }
ip -n "$ns" link set lo up

# Start a node in the namespace and configure the Linux end of its TAP.
start_node() {
	ip netns exec "$ns" "$node" --tap "$dev" --addr 10.99.0.2/24 "$@" \
		>"$tmp/node.out" 2>&1 &
	pids+=($!)
	for _ in $(seq 1 50); do
		ip -n "$ns" link show dev "$dev" >/dev/null 2>&1 && break
		sleep 0.05
	done
	ip -n "$ns" addr add 10.99.0.1/24 dev "$dev" 2>/dev/null
	ip -n "$ns" link set "$dev" up
}

# --- run 1: the vimage serves -------------------------------------------
start_node --udp-echo 7 --duration 8 --pcap "$tmp/node.pcap"
sleep 0.3
if ip netns exec "$ns" ping -c 3 -i 0.2 -W 2 10.99.0.2 >"$tmp/ping.out" 2>&1; then
	ok "linux_pings_vimage ($(grep -o 'rtt.*' "$tmp/ping.out"))"
else
	bad "linux_pings_vimage"; cat "$tmp/ping.out"
fi
reply=$(echo "hello from linux" | timeout 5 ip netns exec "$ns" socat -T2 - UDP:10.99.0.2:7 2>&1)
if [ "$reply" = "hello from linux" ]; then
	ok "udp_linux_to_vimage_echo"
else
	bad "udp_linux_to_vimage_echo (got '$reply')"; cat "$tmp/node.out"
fi
kill "${pids[-1]}" 2>/dev/null; wait "${pids[-1]}" 2>/dev/null
if command -v tcpdump >/dev/null; then
	n=$(tcpdump -nn -r "$tmp/node.pcap" 2>"$tmp/td.err" | wc -l)
	if [ "$n" -ge 8 ] && ! grep -qiv "reading from file" "$tmp/td.err"; then
		if command -v tshark >/dev/null &&
			tshark -r "$tmp/node.pcap" -V 2>&1 | grep -qi "malformed\|expert info (warn"; then
			bad "capture_reads_cleanly (tshark warnings)"
		else
			ok "capture_reads_cleanly ($n frames)"
		fi
	else
		bad "capture_reads_cleanly ($n frames)"; cat "$tmp/td.err"
	fi
else
	echo "skip capture_reads_cleanly: tcpdump not installed"
fi

# --- run 2: the vimage asks -----------------------------------------------
start_node --ping 10.99.0.1 --count 3 --udp-send 10.99.0.1:9000:vimage-says-hi \
	--duration 6 --delay 800
node_pid=${pids[-1]}
# The listener binds the Linux address, which exists once start_node set it;
# the node waits --delay ms before it sends.
timeout 8 ip netns exec "$ns" socat -u UDP-RECV:9000,bind=10.99.0.1 \
	"OPEN:$tmp/udp.rx,creat" &
pids+=($!)
if wait "$node_pid"; then
	ok "vimage_pings_linux ($(grep -c 'ping reply' "$tmp/node.out") replies)"
else
	bad "vimage_pings_linux"; cat "$tmp/node.out"
fi
for _ in $(seq 1 40); do
	[ -s "$tmp/udp.rx" ] && break
	sleep 0.05
done
if [ "$(cat "$tmp/udp.rx" 2>/dev/null)" = "vimage-says-hi" ]; then
	ok "udp_vimage_to_linux"
else
	bad "udp_vimage_to_linux (got '$(cat "$tmp/udp.rx" 2>/dev/null)')"
fi

echo "interop: $pass passed, $fail failed"
[ "$fail" = 0 ]
