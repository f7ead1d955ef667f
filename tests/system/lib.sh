# shellcheck shell=bash
# SPDX-License-Identifier: BSD-2-Clause
#
# What the system test scripts that run programs inside vimages share
# (preload.sh, review.sh, review5.sh, tc.sh): sourced from the top of the
# tree after `set -u`.
#
#   sys_begin NAME [PROG ...]  check the build, make $T, copy vimage,
#                              vimaged, the preload library and the named
#                              tests/system/progs binaries to $T/bin ($P);
#                              cleanup at exit (kills what was started,
#                              calls sys_cleanup_extra if defined, removes
#                              $T unless KEEP=1)
#   (the script makes its test data in $T here)
#   sys_user                   hand $T to the test user: as root the
#                              daemon, the CLI and every program run as
#                              nobody (setpriv, env -i); else as the caller
#
# and helpers: ok/bad/skip (counted; the script ends with
# `echo "$NAME: $pass passed, $fail failed"`), run (the CLI), vin (a
# command inside a vimage), start/finish/stop/prog_pid/bgout/bgerr
# (background programs), wait_gone, wait_file, wait_socks, socks, procs,
# daemon_pid, have, sha, one_line, jsonget.

BUILD=${BUILD:-build}
pass=0
fail=0
pids=()
out=
err=
rc=0
UPATH=/usr/bin:/bin:/usr/sbin:/sbin

ok() { echo "ok   $1"; pass=$((pass + 1)); }
bad() { echo "FAIL $1${2:+: $2}"; fail=$((fail + 1)); }
skip() { echo "skip $1: $2"; }
have() { command -v "$1" >/dev/null; }
sha() { sha256sum <"$1" | cut -c1-64; }
one_line() { tr '\n' '|' <<<"$1" | cut -c1-${2:-400}; }

sys_cleanup() {
	local p
	disown -a 2>/dev/null
	for p in "${pids[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	sleep 0.2
	for p in "${pids[@]}"; do
		kill -KILL "$p" 2>/dev/null
	done
	if declare -F sys_cleanup_extra >/dev/null; then
		sys_cleanup_extra
	fi
	if [ -n "${KEEP:-}" ]; then
		echo "$NAME: kept $T"
	else
		rm -rf "$T"
	fi
}

sys_begin() {
	local b p
	NAME=$1
	shift
	PROGS="$*"
	for b in vimage vimaged libvimage-preload.so $(printf 'sysprogs/%s ' $PROGS); do
		if [ ! -e "$BUILD/$b" ]; then
			echo "$NAME: $BUILD/$b not built (make all sysprogs)"
			echo "$NAME: 0 passed, 1 failed"
			exit 1
		fi
	done
	T=$(mktemp -d "/tmp/vimage-$NAME.XXXXXX")
	trap sys_cleanup EXIT
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
	V=$T/bin/vimage
	SOCK=$T/xdg/vimage/ctl
	LOG=$T/xdg/vimage/vimaged.log
}

sys_user() {
	if [ "$(id -u)" = 0 ]; then
		RUN_USER=nobody
		RUN_GROUP=$(getent group nogroup >/dev/null && echo nogroup || echo nobody)
		chown -R "$RUN_USER:$RUN_GROUP" "$T"
		chmod 0711 "$T"
		chmod 0700 "$T/xdg"
		echo "$NAME: daemon, CLI and programs run as $RUN_USER"
	else
		RUN_USER=$(id -un)
		chmod 0700 "$T/xdg"
	fi
}

# as_user CMD...: CMD as the test user with a clean environment.
as_user() {
	if [ "$(id -u)" = 0 ]; then
		setpriv --reuid="$RUN_USER" --regid="$RUN_GROUP" --clear-groups \
			env -i PATH=$UPATH HOME="$T/work" XDG_RUNTIME_DIR="$T/xdg" "$@"
	else
		env -i PATH=$UPATH HOME="$T/work" XDG_RUNTIME_DIR="$T/xdg" "$@"
	fi
}
# For `as_user_exec ... &`: the background job is the program itself, so
# that $! is its pid.
as_user_exec() {
	if [ "$(id -u)" = 0 ]; then
		exec setpriv --reuid="$RUN_USER" --regid="$RUN_GROUP" \
			--clear-groups env -i PATH=$UPATH HOME="$T/work" \
			XDG_RUNTIME_DIR="$T/xdg" "$@"
	else
		exec env -i PATH=$UPATH HOME="$T/work" XDG_RUNTIME_DIR="$T/xdg" "$@"
	fi
}

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
