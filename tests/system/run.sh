#!/bin/bash
# System tests of vimaged and vimage(8): every verb and its errors, listing
# and JSON, a routed 3-vimage chain built only with the CLI and checked with
# the daemon's ping, capture to pcap, garbage on the control socket, a client
# of another uid, and clean shutdown. As root, the daemon and the CLI run as
# the unprivileged user nobody (setpriv); otherwise as the current user.
# Prints ok/FAIL per test and ends with "system: N passed, N failed".
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
pass=0
fail=0
pids=()

ok() { echo "ok   $1"; pass=$((pass + 1)); }
bad() { echo "FAIL $1${2:+: $2}"; fail=$((fail + 1)); }
skip() { echo "skip $1: $2"; }

for b in vimage vimaged; do
	if [ ! -x "$BUILD/$b" ]; then
		echo "system: $BUILD/$b not built (make all)"
		echo "system: 0 passed, 1 failed"
		exit 1
	fi
done

T=$(mktemp -d /tmp/vimage-system.XXXXXX)
cleanup() {
	for p in "${pids[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	sleep 0.2
	for p in "${pids[@]}"; do
		kill -KILL "$p" 2>/dev/null
	done
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP PIPE

# The binaries are copied so that the unprivileged user can run them
# wherever the tree is; autostart finds vimaged beside vimage.
mkdir -p "$T/bin" "$T/xdg" "$T/work"
cp "$BUILD/vimage" "$BUILD/vimaged" "$T/bin/"
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3 || true)

if [ "$(id -u)" = 0 ]; then
	RUN_USER=nobody
	RUN_GROUP=$(getent group nogroup >/dev/null && echo nogroup || echo nobody)
	chown -R "$RUN_USER:$RUN_GROUP" "$T"
	chmod 0711 "$T"
	chmod 0700 "$T/xdg"
	as_user() {
		setpriv --reuid="$RUN_USER" --regid="$RUN_GROUP" --clear-groups \
			env -i PATH=/usr/bin:/bin HOME="$T/work" ${ASAN_OPTIONS:+ASAN_OPTIONS=$ASAN_OPTIONS} \
			XDG_RUNTIME_DIR="$T/xdg" "$@"
	}
	# For `as_user_exec ... &`: the background job is the program itself,
	# so that $! is its pid.
	as_user_exec() {
		exec setpriv --reuid="$RUN_USER" --regid="$RUN_GROUP" \
			--clear-groups env -i PATH=/usr/bin:/bin HOME="$T/work" ${ASAN_OPTIONS:+ASAN_OPTIONS=$ASAN_OPTIONS} \
			XDG_RUNTIME_DIR="$T/xdg" "$@"
	}
	echo "system: daemon and CLI run as $RUN_USER"
else
	RUN_USER=$(id -un)
	chmod 0700 "$T/xdg"
	as_user() {
		env -i PATH=/usr/bin:/bin HOME="$T/work" ${ASAN_OPTIONS:+ASAN_OPTIONS=$ASAN_OPTIONS} XDG_RUNTIME_DIR="$T/xdg" "$@"
	}
fi

V=$T/bin/vimage
SOCK=$T/xdg/vimage/ctl
out=
err=
rc=0
# run ARGS...: the CLI as the test user, bounded; sets out, err, rc.
run() {
	out=$(as_user timeout 30 "$V" "$@" 2>"$T/err")
	rc=$?
	err=$(cat "$T/err")
}
# expect NAME RC PATTERN ARGS...: exit code and a pattern in stdout+stderr.
expect() {
	local name=$1 want=$2 pat=$3
	shift 3
	run "$@"
	if [ "$rc" = "$want" ] && grep -qE -- "$pat" <<<"$out$err"; then
		ok "$name"
	else
		bad "$name" "rc=$rc (want $want) out='$out' err='$err'"
	fi
}
daemon_pid() {
	as_user timeout 10 "$V" --no-autostart --status --json 2>/dev/null |
		sed -nE 's/.*"pid":([0-9]+).*/\1/p'
}
# wait_gone PID: bounded wait for a process to end.
wait_gone() {
	for _ in $(seq 100); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.05
	done
	return 1
}
json_ok() {
	if [ -n "$PY" ]; then
		"$PY" -c 'import json,sys; json.load(sys.stdin)' <<<"$1"
	else
		grep -q '^\[' <<<"$1"
	fi
}
# raw_client HEXBYTES [SOCKET] [USER-RUNNER]: send raw bytes, print the
# reply's errno and message (or "closed"), then hang up.
raw_client() {
	local sock=${2:-$SOCK}
	${3:-} timeout 10 "$PY" - "$1" "$sock" <<'EOF'
import socket, struct, sys
data = bytes.fromhex(sys.argv[1])
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[2])
s.settimeout(5)
try:
    s.sendall(data)
except OSError:
    pass  # refused clients are answered and closed at once
try:
    hdr = b""
    while len(hdr) < 16:
        c = s.recv(16 - len(hdr))
        if not c:
            break
        hdr += c
    if len(hdr) < 16:
        print("closed")
        sys.exit(0)
    magic, ver, flags, typ, length, rid = struct.unpack(">IBBHII", hdr)
    body = b""
    while len(body) < length - 16:
        c = s.recv(length - 16 - len(body))
        if not c:
            break
        body += c
    pos, errno, msg = 0, None, ""
    while pos + 8 <= len(body):
        t, _, l = struct.unpack(">HHI", body[pos:pos + 8])
        v = body[pos + 8:pos + 8 + l]
        if t == 1:
            errno = struct.unpack(">i", v)[0]
        if t == 2:
            msg = v.decode()
        pos += 8 + l
    print("errno=%s type=0x%04x id=%d msg=%s" % (errno, typ, rid, msg))
except socket.timeout:
    print("timeout")
EOF
}
hdr() { # type flags length id [version] -> hex of a header
	printf '56494d43%02x%02x%04x%08x%08x' "${5:-1}" "$2" "$1" "$3" "$4"
}
attr() { # type hexvalue
	printf '%04x0000%08x%s' "$1" $((${#2} / 2)) "$2"
}

# ---- usage and a daemon that is not running -------------------------------
expect help 0 'vimage -i NAME IF \[NEWNAME\]' --help
run
[ "$rc" = 2 ] && ok no_arguments_is_usage_error || bad no_arguments_is_usage_error "rc=$rc"
expect unknown_option 2 "unknown option '--frobnicate'" --frobnicate
expect create_needs_a_name 2 '-c takes one vimage name' -c
expect bad_address_is_usage_error 2 "bad address '10.0.0.300/24'" --addr a eth0 10.0.0.300/24
expect bad_ve_end 2 "bad ve end 'a'" --ve a b:eth0
expect bad_route 2 "needs 'via GW' or 'dev IF'" --route a default
expect no_daemon_no_autostart 3 'vimaged is not running' --no-autostart -l
expect status_never_starts_the_daemon 3 'not running' --status
[ ! -e "$SOCK" ] && ok no_daemon_started_by_status || bad no_daemon_started_by_status
expect run_command_without_preload_library 1 'cannot find libvimage-preload.so' a /bin/true
out=$(as_user timeout 10 "$T/bin/vimaged" --help 2>&1)
grep -q -- '--foreground' <<<"$out" && ok vimaged_help || bad vimaged_help "$out"

# ---- autostart, socket and permissions ------------------------------------
expect autostart_create 0 '' -c a
DPID=$(daemon_pid)
[ -n "$DPID" ] && pids+=("$DPID")
if [ -n "$DPID" ] && [ "$(stat -c %U /proc/"$DPID")" = "$RUN_USER" ]; then
	ok "daemon_runs_as_$RUN_USER"
else
	bad "daemon_runs_as_$RUN_USER" "pid '$DPID'"
fi
[ "$(stat -c %a "$SOCK" 2>/dev/null)" = 600 ] && [ -S "$SOCK" ] &&
	ok socket_mode_0600 || bad socket_mode_0600 "$(ls -l "$SOCK" 2>&1)"
[ "$(stat -c %a "$T/xdg/vimage")" = 700 ] && ok socket_dir_mode_0700 ||
	bad socket_dir_mode_0700 "$(stat -c %a "$T/xdg/vimage")"
expect status 0 "vimaged pid $DPID" --status

# ---- create, destroy, names -----------------------------------------------
expect create_duplicate 1 "vimage 'a' already exists" -c a
expect create_child 0 '' -c a.b
expect create_grandchild 0 '' -c a.b.c
expect create_missing_parent 1 "parent vimage 'x' does not exist" -c x.y
expect create_bad_name 1 "'bad name'" -c 'bad name'
expect create_empty_component 1 "bad vimage name 'a..b'" -c a..b
expect create_root 1 "root" -c .
expect destroy_unknown 1 "no vimage named 'nope'" -d nope
expect destroy_parent_refused 1 "vimage 'a' has 1 child vimage.*-f" -d a
expect destroy_root_refused 1 "root vimage '.' cannot be destroyed" -d .
run -l -r
grep -q '^a\.b\.c ' <<<"$out" && ok parent_kept_after_refusal || bad parent_kept_after_refusal "$out"
expect destroy_forced 0 '' -d -f a
run -l -r
! grep -qE '^a(\.| )' <<<"$out" && ok forced_destroy_took_children || bad forced_destroy_took_children "$out"
expect destroy_leaf 0 '' -c leaf
expect destroy_leaf2 0 '' -d leaf

# ---- list -------------------------------------------------------------------
as_user "$V" -c p >/dev/null && as_user "$V" -c p.q >/dev/null
run -l
grep -qE '^p +1 +1 +0 +0 +0 +1$' <<<"$out" && ! grep -q '^p\.q' <<<"$out" &&
	ok list_top_level_with_counts || bad list_top_level_with_counts "$out"
run -l -r
grep -q '^p\.q ' <<<"$out" && ok list_recursive || bad list_recursive "$out"
run -l p
grep -q '^p ' <<<"$out" && ! grep -q '^p\.q' <<<"$out" && ok list_one || bad list_one "$out"
run -lv p
grep -qE 'lo0 +loopback +UP .*127\.0\.0\.1/8' <<<"$out" && ok list_verbose ||
	bad list_verbose "$out"
expect list_unknown 1 "no vimage named 'zz'" -l zz
run -l -r -v --json
if json_ok "$out" && grep -q '"name":"p.q"' <<<"$out" &&
	grep -q '"interfaces":1' <<<"$out" && grep -q '"processes":0' <<<"$out"; then
	ok list_json
else
	bad list_json "$out"
fi
if [ -n "$PY" ]; then
	n=$("$PY" -c 'import json,sys; d=json.load(sys.stdin); print(len(d), d[0]["links"][0]["name"], d[0]["sockets"])' <<<"$out")
	[ "$n" = "2 lo0 0" ] && ok list_json_fields || bad list_json_fields "$n"
fi

# ---- interfaces: ve pairs, move, up/down ------------------------------------
expect ve_in_root 0 '' --ve .:v0 .:v1
expect ve_duplicate_name 1 "vimage '.' already has an interface named 'v0'" --ve .:v0 p:x0
expect ve_unknown_vimage 1 "no vimage named 'nowhere'" --ve nowhere:e0 p:e0
expect move_in 0 '' -i p v0
expect move_missing 1 "no interface 'v0' in vimage '.' \(the parent of 'p'\)" -i p v0
expect move_renamed 0 '' -i p v1 eth9
run -lv p
grep -q ' v0 .*peer p:eth9' <<<"$out" && grep -q ' eth9 ' <<<"$out" &&
	ok move_shows_in_list || bad move_shows_in_list "$out"
expect move_unknown_vimage 1 "no vimage named 'nope'" -i nope v0
expect move_from_child 0 '' -i p.q v0
expect up 0 '' --up p.q v0
run -lv p.q
grep -qE ' v0 +ve +UP' <<<"$out" && ok up_shows || bad up_shows "$out"
expect down 0 '' --down p.q v0
expect up_missing_if 1 "no interface 'eth7' in vimage 'p'" --up p eth7

# ---- a routed chain built only with the CLI ---------------------------------
for v in h1 r h2; do as_user "$V" -c $v >/dev/null; done
as_user "$V" --ve h1:eth0 r:eth0 && as_user "$V" --ve r:eth1 h2:eth0 &&
	ok chain_ve_pairs || bad chain_ve_pairs
good=1
for a in "h1 eth0 10.1.0.1/24" "r eth0 10.1.0.254/24" "r eth1 10.2.0.254/24" \
	"h2 eth0 10.2.0.1/24"; do
	set -- $a
	as_user "$V" --addr "$1" "$2" "$3" || good=0
	as_user "$V" --up "$1" "$2" || good=0
done
as_user "$V" --route h1 default via 10.1.0.254 || good=0
as_user "$V" --route h2 10.1.0.0/24 via 10.2.0.254 dev eth0 || good=0
[ $good = 1 ] && ok chain_addresses_and_routes || bad chain_addresses_and_routes
expect addr_duplicate 1 "'eth0' in 'h1' already has 10.1.0.1/24" --addr h1 eth0 10.1.0.1/24
expect addr_missing_if 1 "no interface 'eth5' in vimage 'h1'" --addr h1 eth5 10.9.0.1/24
expect addr_del_absent 1 "has no address 10.9.9.9/24" --addr-del h1 eth0 10.9.9.9/24
expect route_duplicate 1 "already has a route 0.0.0.0/0" --route h1 default via 10.1.0.254
expect route_gateway_unreachable 1 "gateway 10.7.0.1 is not on a connected network of vimage 'h1'" \
	--route h1 10.8.0.0/16 via 10.7.0.1
expect route_host_bits 1 "10.8.0.1/16 has bits set" --route h1 10.8.0.1/16 dev eth0
expect route_del_absent 1 "no route 10.5.0.0/16 in vimage 'h1'" --route-del h1 10.5.0.0/16
expect ping_before_forwarding 1 "0 of 2 echo requests to 10.2.0.1 answered" --ping h1 10.2.0.1 2
expect sysctl_unknown 1 "unknown sysctl 'net.inet.ip.nonsense'" --sysctl r net.inet.ip.nonsense=1
expect sysctl_bad_value 2 "bad value 'x'" --sysctl r net.inet.ip.forwarding=x
expect sysctl_forwarding 0 '' --sysctl r net.inet.ip.forwarding=1
expect sysctl_get 0 '^net.inet.ip.forwarding=1$' --sysctl r net.inet.ip.forwarding
expect capture_start 0 '' --capture r eth0 "$T/work/r-eth0.pcap"
expect capture_busy 1 "a capture of 'eth0' in 'r' is already running" --capture r eth0 "$T/work/other.pcap"
expect capture_existing_file 1 "cannot create capture file '$T/work/r-eth0.pcap': File exists" \
	--capture r eth1 "$T/work/r-eth0.pcap"
expect ping_through_router 0 '3 sent, 3 received' --ping h1 10.2.0.1 3
run --ping h1 10.2.0.1 1 --json
json_ok "$out" && grep -q '"received":1' <<<"$out" && ok ping_json || bad ping_json "$out"
expect capture_stop 0 '' --capture-stop r eth0
expect capture_stop_none 1 "no capture running on 'eth0' in 'r'" --capture-stop r eth0
if command -v tcpdump >/dev/null; then
	dump=$(timeout 10 tcpdump -nr "$T/work/r-eth0.pcap" 2>/dev/null)
	if grep -q 'IP 10.1.0.1 > 10.2.0.1: ICMP echo request' <<<"$dump" &&
		grep -q 'IP 10.2.0.1 > 10.1.0.1: ICMP echo reply' <<<"$dump"; then
		ok capture_readable_by_tcpdump
	else
		bad capture_readable_by_tcpdump "$dump"
	fi
else
	skip capture_readable_by_tcpdump "tcpdump not installed"
fi
[ "$(stat -c %U "$T/work/r-eth0.pcap")" = "$RUN_USER" ] &&
	ok capture_file_owned_by_user || bad capture_file_owned_by_user
run --stats r
grep -qE '^ip\.forward=[1-9]' <<<"$out" && ok stats_vimage || bad stats_vimage "$out"
run --stats --json
json_ok "$out" && grep -q '"world.vimages":' <<<"$out" && ok stats_world_json || bad stats_world_json "$out"
expect log_level_daemon 0 '' --log-level info
expect log_level_vimage 0 '' --log-level r debug
expect log_level_bad 2 "bad log level 'loud'" --log-level h1 loud
expect log_level_unknown_vimage 1 "no vimage named 'zz'" --log-level zz debug
as_user "$V" --ping h1 10.2.0.1 1 >/dev/null
expect log_level_vimage_off 0 '' --log-level r warn
expect route_del 0 '' --route-del h2 10.1.0.0/24
expect ping_after_route_del 1 "ping 10.1.0.1 from vimage 'h2': Network is unreachable" \
	--ping h2 10.1.0.1 1

# ---- garbage on the control socket ------------------------------------------
if [ -n "$PY" ]; then
	r=$(raw_client "deadbeef00000000000000000000000000" "" as_user)
	grep -q 'errno=-74 .*bad magic' <<<"$r" && ok garbage_gets_error_reply || bad garbage_gets_error_reply "$r"
	r=$(raw_client "$(hdr 2 0 16 5 9)" "" as_user)
	grep -q 'errno=-93 .*id=5 .*version 9 not supported' <<<"$r" &&
		ok unknown_version_gets_error_reply || bad unknown_version_gets_error_reply "$r"
	r=$(raw_client "$(hdr 2 0 100000000 6)" "" as_user)
	grep -q 'errno=-90 .*exceeds the limit' <<<"$r" && ok oversized_gets_error_reply ||
		bad oversized_gets_error_reply "$r"
	a=$(attr 3 6162) # NAME "ab" with a length that runs past the end
	r=$(raw_client "$(hdr 2 0 $((16 + 8 + 2)) 7)0003000000000009$(printf 6162)" "" as_user)
	grep -q 'errno=-74 .*runs past the end' <<<"$r" && ok bad_attribute_gets_error_reply ||
		bad bad_attribute_gets_error_reply "$r"
	r=$(raw_client "$(hdr 2 0 16 8)" "" as_user)
	grep -q 'errno=-22 .*create request without the name attribute' <<<"$r" &&
		ok missing_attribute_gets_error_reply || bad missing_attribute_gets_error_reply "$r"
	r=$(raw_client "$(hdr 77 0 16 8)" "" as_user)
	grep -q 'errno=-95 .*unknown request type 77' <<<"$r" && ok unknown_type_gets_error_reply ||
		bad unknown_type_gets_error_reply "$r"
	r=$(raw_client "$(hdr 2 0 $((16 + 8 + 4)) 10)$(attr 3 676f6f64)" "" as_user)
	grep -q 'errno=0 ' <<<"$r" && ok raw_good_request || bad raw_good_request "$r"
	# Truncated: a header announcing 64 bytes, 20 sent, then the client
	# stays silent (and connected) while another client is served.
	as_user timeout 20 "$PY" - "$SOCK" "$(hdr 2 0 64 11)00000000" <<'EOF' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.sendall(bytes.fromhex(sys.argv[2]))
time.sleep(3)
EOF
	hang=$!
	sleep 0.3
	expect served_while_a_client_hangs_mid_message 0 'vimaged pid' --status
	kill "$hang" 2>/dev/null
	wait "$hang" 2>/dev/null
	# Many clients that disconnect mid-message.
	for i in $(seq 20); do
		as_user timeout 5 "$PY" -c "
import socket,sys
s=socket.socket(socket.AF_UNIX,socket.SOCK_STREAM); s.connect('$SOCK')
s.sendall(bytes.fromhex('$(hdr 2 0 40 1)0003'))" 2>/dev/null
	done
	expect daemon_alive_after_garbage 0 "vimaged pid $DPID" --status
	# Pipelined requests, the last a (deferred) ping, then a half-close:
	# every reply arrives, in order, before the daemon hangs up.
	ping_req="$(hdr 17 0 $((16 + 8 + 1 + 8 + 4 + 8 + 4)) 3)$(attr 3 72)$(attr 11 0a020001)$(attr 18 00000002)"
	r=$(as_user timeout 10 "$PY" - "$SOCK" "$(hdr 1 0 16 1)$(hdr 1 0 16 2)$ping_req" <<'EOF2'
import socket, struct, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.settimeout(8)
s.sendall(bytes.fromhex(sys.argv[2]))
s.shutdown(socket.SHUT_WR)
data = b""
while True:
    c = s.recv(65536)
    if not c:
        break
    data += c
out = []
while len(data) >= 16:
    _, _, _, typ, length, rid = struct.unpack(">IBBHII", data[:16])
    body, data = data[16:length], data[length:]
    pos, err, rx = 0, None, None
    while pos + 8 <= len(body):
        t, _, l = struct.unpack(">HHI", body[pos:pos + 8])
        if t == 1:
            err = struct.unpack(">i", body[pos + 8:pos + 12])[0]
        if t == 21:
            rx = struct.unpack(">I", body[pos + 8:pos + 12])[0]
        pos += 8 + l
    out.append("%d:%s:%s" % (rid, err, rx))
print(" ".join(out))
EOF2
)
	[ "$r" = "1:0:None 2:0:None 3:0:2" ] && ok pipelined_requests_and_half_close ||
		bad pipelined_requests_and_half_close "$r"
	ticks=$(awk '{print $14 + $15}' /proc/"$DPID"/stat 2>/dev/null)
	[ -n "$ticks" ] && [ "$ticks" -lt 200 ] && ok daemon_does_not_spin ||
		bad daemon_does_not_spin "cpu ticks $ticks"
else
	skip garbage_tests "python3 not installed"
fi

# ---- another uid ------------------------------------------------------------
if [ "$(id -u)" = 0 ] && getent passwd daemon >/dev/null && [ -n "$PY" ] &&
	[ "$RUN_USER" != daemon ]; then
	# A second daemon on a socket left open to everyone on purpose, so
	# that only SO_PEERCRED stands between the other uid and the daemon.
	mkdir -p "$T/open"
	chown "$RUN_USER" "$T/open"
	chmod 0755 "$T/open"
	as_user_exec "$T/bin/vimaged" --foreground --socket "$T/open/ctl" \
		2>"$T/open.log" &
	opid=$!
	pids+=("$opid")
	for _ in $(seq 100); do [ -S "$T/open/ctl" ] && break; sleep 0.05; done
	chmod 0666 "$T/open/ctl"
	r=$(raw_client "$(hdr 1 0 16 1)" "$T/open/ctl" \
		"setpriv --reuid=daemon --regid=daemon --clear-groups")
	grep -q 'errno=-13 .*permission denied: uid 1 may not use the vimaged of uid' <<<"$r" &&
		ok other_uid_refused || bad other_uid_refused "$r"
	r=$(raw_client "$(hdr 1 0 16 1)" "$T/open/ctl" as_user)
	grep -q 'errno=0' <<<"$r" && ok own_uid_accepted || bad own_uid_accepted "$r"
	r=$(raw_client "$(hdr 1 0 16 1)" "$T/open/ctl")
	grep -q 'errno=0' <<<"$r" && ok root_accepted || bad root_accepted "$r"
	kill -TERM "$opid"
	wait "$opid"
	orc=$?
	[ "$orc" = 0 ] && [ ! -e "$T/open/ctl" ] && ok foreground_sigterm_exit_0_socket_removed ||
		bad foreground_sigterm_exit_0_socket_removed "rc=$orc $(cat "$T/open.log")"
else
	skip other_uid_refused "needs root, python3 and a second user (daemon)"
fi

# ---- VIMAGE_SOCKET / --socket, stale sockets --------------------------------
ALT=$T/work/alt.sock
as_user env VIMAGE_SOCKET="$ALT" timeout 30 "$V" -c alt &&
	ok env_socket_autostart || bad env_socket_autostart
out=$(as_user env VIMAGE_SOCKET="$ALT" timeout 10 "$V" --status --json)
APID=$(sed -nE 's/.*"pid":([0-9]+).*/\1/p' <<<"$out")
[ -n "$APID" ] && pids+=("$APID")
run --socket "$ALT" -l
grep -q '^alt ' <<<"$out" && ! grep -q '^h1 ' <<<"$out" && ok socket_option_selects_daemon ||
	bad socket_option_selects_daemon "$out"
if [ -n "$APID" ]; then
	kill -KILL "$APID"
	wait_gone "$APID"
	expect stale_socket_no_autostart 3 'not running' --socket "$ALT" --no-autostart -l
	expect stale_socket_autostart 0 '' --socket "$ALT" -c fresh
	run --socket "$ALT" --status --json
	APID=$(sed -nE 's/.*"pid":([0-9]+).*/\1/p' <<<"$out")
	[ -n "$APID" ] && pids+=("$APID")
	expect shutdown 0 '' --socket "$ALT" --shutdown
	if [ -n "$APID" ] && wait_gone "$APID" && [ ! -e "$ALT" ]; then
		ok shutdown_leaves_nothing
	else
		bad shutdown_leaves_nothing "pid $APID socket $(ls -l "$ALT" 2>&1)"
	fi
fi
# Without XDG_RUNTIME_DIR: /tmp/vimage-$UID, made 0700 by the daemon.
RUN_UID=$(id -u "$RUN_USER")
TMPD=/tmp/vimage-$RUN_UID
if [ ! -e "$TMPD" ]; then
	if as_user env -u XDG_RUNTIME_DIR timeout 30 "$V" -c tmpdefault &&
		[ -S "$TMPD/ctl" ] && [ "$(stat -c %a "$TMPD")" = 700 ] &&
		[ "$(stat -c %a "$TMPD/ctl")" = 600 ] &&
		[ "$(stat -c %U "$TMPD")" = "$RUN_USER" ]; then
		ok default_socket_without_xdg
	else
		bad default_socket_without_xdg "$(ls -la "$TMPD" 2>&1)"
	fi
	as_user env -u XDG_RUNTIME_DIR timeout 10 "$V" --shutdown
	rm -rf "$TMPD"
else
	skip default_socket_without_xdg "$TMPD already exists"
fi
# A runtime directory that others can enter is refused.
mkdir -p "$T/badxdg/vimage"
chmod 0755 "$T/badxdg/vimage"
[ "$(id -u)" = 0 ] && chown -R "$RUN_USER" "$T/badxdg"
out=$(as_user env XDG_RUNTIME_DIR="$T/badxdg" timeout 10 "$T/bin/vimaged" --foreground 2>&1)
rc=$?
[ "$rc" = 1 ] && grep -q 'mode 0700' <<<"$out" && ok runtime_dir_mode_checked ||
	bad runtime_dir_mode_checked "rc=$rc $out"

# ---- SIGTERM ------------------------------------------------------------------
if [ -n "$DPID" ]; then
	kill -TERM "$DPID"
	if wait_gone "$DPID" && [ ! -e "$SOCK" ]; then
		ok sigterm_removes_socket_and_process
	else
		bad sigterm_removes_socket_and_process "$(ls -l "$SOCK" 2>&1)"
	fi
	if grep -q 'signal 15: shutting down' "$T/xdg/vimage/vimaged.log" &&
		grep -q '\[r\] ip: forward eth0 -> eth1' "$T/xdg/vimage/vimaged.log"; then
		ok log_file_beside_socket_with_vimage_lines
	else
		bad log_file_beside_socket_with_vimage_lines "$(head -c 2000 "$T/xdg/vimage/vimaged.log")"
	fi
fi
expect no_daemon_after_sigterm 3 'not running' --no-autostart -l

echo "system: $pass passed, $fail failed"
[ "$fail" = 0 ]
