#!/bin/bash
# Review tests of the socket service (src/daemon/sock.c) and
# libvimage-preload.so against Linux semantics. Each C program in
# tests/system/progs/review_*.c checks what Linux does (every check passes
# between two Linux network namespaces) and prints "ok NAME" or
# "FAIL NAME: why"; this script runs them inside vimages and adds daemon
# side checks (socket counts back to baseline, the daemon alive).
#
# Setup, helpers and conventions as tests/system/preload.sh: as root the
# daemon, the CLI and every program run as nobody; every command is
# bounded; KEEP=1 keeps the temporary directory; DEBUG=1 debug log level.
# Ends with "review: N passed, N failed".
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
pass=0
fail=0
pids=()

ok() { echo "ok   $1"; pass=$((pass + 1)); }
bad() { echo "FAIL $1${2:+: $2}"; fail=$((fail + 1)); }
skip() { echo "skip $1: $2"; }

PROGS="hello review_sig review_conn review_udp review_fd review_many"
for b in vimage vimaged libvimage-preload.so $(printf 'sysprogs/%s ' $PROGS); do
	if [ ! -e "$BUILD/$b" ]; then
		echo "review: $BUILD/$b not built (make all sysprogs)"
		echo "review: 0 passed, 1 failed"
		exit 1
	fi
done

T=$(mktemp -d /tmp/vimage-review.XXXXXX)
cleanup() {
	local p
	disown -a 2>/dev/null
	for p in "${pids[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	sleep 0.2
	for p in "${pids[@]}"; do
		kill -KILL "$p" 2>/dev/null
	done
	if [ -n "${KEEP:-}" ]; then
		echo "review: kept $T"
	else
		rm -rf "$T"
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP PIPE

# The binaries are copied so that the unprivileged user can run them
# wherever the tree is; vimage finds vimaged and the preload library
# beside itself.
mkdir -p "$T/bin" "$T/xdg" "$T/work" "$T/log" "$T/www"
cp "$BUILD/vimage" "$BUILD/vimaged" "$BUILD/libvimage-preload.so" "$T/bin/"
for p in $PROGS; do cp "$BUILD/sysprogs/$p" "$T/bin/"; done
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3 || true)
P=$T/bin

# Test data, made before the directory is handed to the test user.
UPATH=/usr/bin:/bin:/usr/sbin:/sbin

if [ "$(id -u)" = 0 ]; then
	RUN_USER=nobody
	RUN_GROUP=$(getent group nogroup >/dev/null && echo nogroup || echo nobody)
	chown -R "$RUN_USER:$RUN_GROUP" "$T"
	chmod 0711 "$T"
	chmod 0700 "$T/xdg"
	as_user() {
		setpriv --reuid="$RUN_USER" --regid="$RUN_GROUP" --clear-groups \
			env -i PATH=$UPATH HOME="$T/work" XDG_RUNTIME_DIR="$T/xdg" "$@"
	}
	# For `as_user_exec ... &`: the background job is the program itself,
	# so that $! is its pid.
	as_user_exec() {
		exec setpriv --reuid="$RUN_USER" --regid="$RUN_GROUP" \
			--clear-groups env -i PATH=$UPATH HOME="$T/work" \
			XDG_RUNTIME_DIR="$T/xdg" "$@"
	}
	echo "review: daemon, CLI and programs run as $RUN_USER"
else
	RUN_USER=$(id -un)
	chmod 0700 "$T/xdg"
	as_user() {
		env -i PATH=$UPATH HOME="$T/work" XDG_RUNTIME_DIR="$T/xdg" "$@"
	}
	as_user_exec() {
		exec env -i PATH=$UPATH HOME="$T/work" XDG_RUNTIME_DIR="$T/xdg" "$@"
	}
fi

V=$T/bin/vimage
SOCK=$T/xdg/vimage/ctl
LOG=$T/xdg/vimage/vimaged.log
out=
err=
rc=0
have() { command -v "$1" >/dev/null; }
sha() { sha256sum <"$1" | cut -c1-64; }
one_line() { tr '\n' '|' <<<"$1" | cut -c1-${2:-400}; }

# run ARGS...: the CLI as the test user, bounded; sets out, err, rc.
run() {
	out=$(as_user timeout 30 "$V" "$@" 2>"$T/err")
	rc=$?
	err=$(cat "$T/err")
}
# vin SECS NAME CMD...: CMD inside vimage NAME, bounded; sets out, err, rc.
# Standard input is $IN (default /dev/null).
vin() {
	local to=$1
	shift
	out=$(as_user timeout "$to" "$V" "$@" <"${IN:-/dev/null}" 2>"$T/err")
	rc=$?
	err=$(cat "$T/err")
}
# start TAG SECS NAME CMD...: CMD inside vimage NAME in the background,
# bounded, standard input $IN (default /dev/null), output in
# $T/log/TAG.out and .err. The pid of the program itself (vimage execs it
# in place of a shell that writes its pid) is in $T/work/TAG.pid; the
# pid of the bounding timeout is in bgpid[TAG].
declare -A bgpid
start() {
	local tag=$1 to=$2
	shift 2
	rm -f "$T/work/$tag.pid"
	as_user_exec timeout "$to" sh -c 'echo $$ >"$0"; exec "$@"' \
		"$T/work/$tag.pid" "$V" "$@" <"${IN:-/dev/null}" \
		>"$T/log/$tag.out" 2>"$T/log/$tag.err" &
	bgpid[$tag]=$!
	pids+=("$!")
}
# prog_pid TAG: the program's pid (bounded wait for the pid file).
prog_pid() {
	local p
	for _ in $(seq 100); do
		p=$(cat "$T/work/$1.pid" 2>/dev/null)
		if [ -n "$p" ]; then
			pids+=("$p")
			echo "$p"
			return 0
		fi
		sleep 0.02
	done
	return 1
}
# finish TAG [SECS]: wait (bounded, default 15 s) for a background job;
# sets rc (124 if its timeout fired, 125 if it was still running here).
finish() {
	local p=${bgpid[$1]}
	if ! wait_gone "$p" "${2:-15}"; then
		kill -TERM "$p" 2>/dev/null
		wait_gone "$p" 2
		rc=125
		return
	fi
	wait "$p" 2>/dev/null
	rc=$?
}
# stop TAG: end a background job (its timeout passes SIGTERM on).
stop() {
	kill -TERM "${bgpid[$1]}" 2>/dev/null
	wait_gone "${bgpid[$1]}" 3 || kill -KILL "${bgpid[$1]}" 2>/dev/null
	wait "${bgpid[$1]}" 2>/dev/null
}
bgout() { cat "$T/log/$1.out" 2>/dev/null; }
bgerr() { cat "$T/log/$1.err" 2>/dev/null; }
# wait_gone PID [SECS]: bounded wait for a process to end.
wait_gone() {
	local n=$((${2:-5} * 20))
	for _ in $(seq $n); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.05
	done
	return 1
}
daemon_pid() {
	as_user timeout 10 "$V" --no-autostart --status --json 2>/dev/null |
		sed -nE 's/.*"pid":([0-9]+).*/\1/p'
}
# socks NAME: the daemon's count of sockets in vimage NAME.
socks() {
	as_user timeout 10 "$V" -l --json "$1" 2>/dev/null |
		"$PY" -c 'import json,sys; print(json.load(sys.stdin)[0]["sockets"])' 2>/dev/null
}
# procs NAME: the daemon's count of processes attached to NAME.
procs() {
	as_user timeout 10 "$V" -l --json "$1" 2>/dev/null |
		"$PY" -c 'import json,sys; print(json.load(sys.stdin)[0]["processes"])' 2>/dev/null
}
# wait_socks NAME MIN [SECS]: bounded wait until NAME has MIN sockets or
# more (a server has made its listener); then a moment for listen().
wait_socks() {
	local n=$((${3:-5} * 10)) s
	for _ in $(seq $n); do
		s=$(socks "$1")
		if [ -n "$s" ] && [ "$s" -ge "$2" ]; then
			sleep 0.15
			return 0
		fi
		sleep 0.1
	done
	return 1
}
# wait_socks_le NAME MAX [SECS]: bounded wait until NAME has MAX or fewer.
wait_socks_le() {
	local n=$((${3:-5} * 10)) s
	for _ in $(seq $n); do
		s=$(socks "$1")
		[ -n "$s" ] && [ "$s" -le "$2" ] && return 0
		sleep 0.1
	done
	return 1
}
# wait_file FILE PATTERN [SECS]: bounded wait for a pattern in a file.
wait_file() {
	local n=$((${3:-5} * 20))
	for _ in $(seq $n); do
		grep -qE -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}
jsonget() { # EXPR: a Python expression over d, the JSON on stdin
	"$PY" -c "import json,sys; d=json.load(sys.stdin); print($1)" 2>&1
}

# ---- the topology ------------------------------------------------------------
good=1
for v in a b; do as_user timeout 30 "$V" -c $v || good=0; done
as_user timeout 10 "$V" --ve a:e0 b:e0 || good=0
as_user timeout 10 "$V" --addr a e0 10.0.0.1/24 || good=0
as_user timeout 10 "$V" --addr b e0 10.0.0.2/24 || good=0
as_user timeout 10 "$V" --up a e0 || good=0
as_user timeout 10 "$V" --up b e0 || good=0
DPID=$(daemon_pid)
[ -n "$DPID" ] && pids+=("$DPID")
if [ $good = 1 ] && [ -n "$DPID" ]; then
	ok topology_a_b_ve_pair
else
	bad topology_a_b_ve_pair "daemon pid '$DPID'"
	echo "review: $pass passed, $fail failed"
	exit 1
fi
[ -n "${DEBUG:-}" ] && as_user timeout 10 "$V" --log-level debug
vin 10 a "$P/hello"
[ "$rc" = 0 ] && [ "$out" = "hello a" ] && ok run_dynamic_program_inside ||
	bad run_dynamic_program_inside "rc=$rc out='$out' err='$err'"
vin 10 a sh -c 'exit 7'
[ "$rc" = 7 ] && ok exit_status_of_program_passed_on || bad exit_status_of_program_passed_on "rc=$rc err='$err'"

# prog SECS NAME CMD...: CMD inside vimage NAME; each "ok X" / "FAIL X: y"
# line of its output counts as one test; no such line at all is a failure.
# Differences from Linux that are known and documented (docs/ARCHITECTURE.md,
# "The socket service"): reported as such, not as failures. A check that
# starts passing shows as ok.
KNOWN="close_with_unread_data_peer_econnreset"
prog() {
	local to=$1 vi=$2 line any=0
	shift 2
	vin "$to" "$vi" "$@"
	while IFS= read -r line; do
		case $line in
		"ok "*) ok "${line#ok }"; any=1 ;;
		"FAIL "*)
			n=${line#FAIL }
			if [[ " $KNOWN " == *" ${n%%:*} "* ]]; then
				skip "${n%%:*}" "known difference: ${n#*: }"
			else
				bad "${n%%:*}" "${n#*: }"
			fi
			any=1
			;;
		esac
	done <<<"$out"
	if [ $any = 0 ] || [ "$rc" -ge 124 ]; then
		bad "$(basename "$1")_$2" "rc=$rc (124: timed out) out='$(one_line "$out")' err='$(one_line "$err")'"
	fi
}
stat_of() { # KEY: a daemon counter from --stats
	run --stats
	sed -nE "s/^$1=([0-9]+).*/\\1/p" <<<"$out"
}

# ---- signals and timeouts on blocking socket calls -------------------------------
prog 10 a "$P/review_sig" accept_restart 7300
prog 10 a "$P/review_sig" accept_eintr 7301
prog 10 a "$P/review_sig" accept_rcvtimeo 7302
# Through a ve pair to an address nobody answers ARP for.
prog 10 a "$P/review_conn" nbwrite 10.0.0.99 80
prog 10 a "$P/review_conn" sndtimeo 10.0.0.99 80

# ---- TCP ---------------------------------------------------------------------------
prog 10 a "$P/review_conn" reconnect 7310
prog 10 a "$P/review_conn" nbreconnect 7311
prog 10 a "$P/review_conn" reset_unread 7312
prog 10 a "$P/review_conn" reset_linger0 7313
prog 15 a "$P/review_conn" halfclose 7314
prog 10 a "$P/review_conn" listen_read 7315

# ---- UDP ---------------------------------------------------------------------------
prog 20 a "$P/review_udp" 7320

# ---- descriptors -------------------------------------------------------------------
prog 10 a "$P/review_fd" fioclex
prog 10 a "$P/review_fd" closeall
prog 10 a "$P/review_fd" highfd_exec
prog 10 a "$P/review_fd" dupfd
base_b=$(socks b)
prog 10 b "$P/review_fd" emfile
wait_socks_le b "$base_b" 5 && ok socket_count_back_after_emfile ||
	bad socket_count_back_after_emfile "b has $(socks b), baseline $base_b"

# ---- many, threads, forks ------------------------------------------------------------
base_b=$(socks b)
base_all=$(stat_of daemon.sockets)
prog 20 b "$P/review_many" acceptdrain 50
prog 30 b "$P/review_many" concurrent 600
prog 30 b "$P/review_many" threads
prog 30 b "$P/review_many" forkbomb 50
wait_socks_le b "$base_b" 5 && ok socket_count_of_b_back_to_baseline ||
	bad socket_count_of_b_back_to_baseline "b has $(socks b), baseline $base_b"
now_all=$(stat_of daemon.sockets)
[ -n "$now_all" ] && [ "$now_all" -le "${base_all:-0}" ] && ok daemon_sockets_stat_back_to_baseline ||
	bad daemon_sockets_stat_back_to_baseline "daemon.sockets ${now_all:-?}, baseline ${base_all:-?}"

# ---- the daemon is still there --------------------------------------------------------
run --status
if [ "$rc" = 0 ] && grep -q "vimaged pid $DPID" <<<"$out"; then
	vin 10 a "$P/hello"
	[ "$rc" = 0 ] && [ "$out" = "hello a" ] && ok daemon_alive_at_end ||
		bad daemon_alive_at_end "program inside: rc=$rc '$(one_line "$out$err")'"
else
	bad daemon_alive_at_end "status rc=$rc '$(one_line "$out$err")'"
fi
as_user timeout 10 "$V" --shutdown >/dev/null

echo "review: ran for ${SECONDS} s"
echo "review: $pass passed, $fail failed"
[ "$fail" = 0 ]
