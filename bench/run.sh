#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# bench/run.sh [name-filter ...]   — the driver behind `make bench`.
#
# 1. Runs build/bench/bench (our benchmarks; $BENCH overrides) with the
#    filters, collecting its lines "RESULT <name> <value> <unit>". A missing
#    binary, or one that says "nothing matched", is reported and not an
#    error; any other failure makes this script exit 1 (after writing what it
#    has).
# 1b. Runs the scripted benchmarks of ours (OUR_SCRIPTS below: the CLI's),
#    which print RESULT lines and, as root, the Linux figure they measured
#    in the same run.
# 2. When root, runs the Linux network namespace baselines needed for the
#    selected names (table LINUX_MAP below), collecting "LINUX <name> <value>".
#    Without filters all of them run; with filters, a script runs when a
#    filter is part of one of its names or when our bench printed one of its
#    names. Not root: "linux baseline skipped: not root", linux stays null.
#    A baseline script that fails is reported and its figures stay null.
# 3. Writes build/bench.json ($BENCH_JSON overrides): a JSON list of
#      {"name": ..., "value": ..., "unit": ..., "linux": <number|null>,
#       "ratio": <value/linux|null>}
#    one per RESULT line, matched to LINUX lines by name; Linux figures that
#    no RESULT line matched are appended with "value": null so that they are
#    not lost. Prints the same as a table, with a note on which direction is
#    better for each unit.
# Only bash, awk and sed: no jq, no python.
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH=${BENCH:-$ROOT/build/bench/bench}
OUT=${BENCH_JSON:-$ROOT/build/bench.json}
export UDPBLAST=${UDPBLAST:-$ROOT/build/bench/udpblast}
export TCPCONN=${TCPCONN:-$ROOT/build/bench/tcpconn}
BENCH_TIMEOUT=${BENCH_TIMEOUT:-900} # seconds, for our bench binary
LINUX_TIMEOUT=${LINUX_TIMEOUT:-180} # seconds, for each Linux script

# name  script (in bench/linux/)  unit of the figure
LINUX_MAP='vimage_create_us  netns_create.sh us
vimage_mem_kib    netns_create.sh KiB
fwd_ns_per_hop    netns_chain.sh  ns
fwd_mpps_chain32  netns_chain.sh  Mpps
ping_rtt_us       netns_chain.sh  us
ping_rtt_chain_us netns_chain.sh  us
tcp_gbps_mtu1500        netns_tcp.sh Gbit/s
tcp_gbps_mtu65535       netns_tcp.sh Gbit/s
tcp_conn_per_s          netns_tcp.sh conn/s
tcp_bytes_per_idle_conn netns_tcp.sh B
bridge_mpps_64          netns_bridge.sh Mpps
bridge_gbps_1500        netns_bridge.sh Gbit/s'

TMP=$(mktemp -d /tmp/vbench.$$.XXXXXX) || exit 1
trap 'rm -rf "$TMP"' EXIT
: >"$TMP/ours"
: >"$TMP/linux"

with_timeout() { # seconds cmd...
	local t=$1
	shift
	if command -v timeout >/dev/null; then
		timeout "$t" "$@"
	else
		"$@"
	fi
}

# --- 1. our benchmarks ---------------------------------------------------
status=0
if [ ! -x "$BENCH" ]; then
	echo "bench: $BENCH not built: no figures of our own" >&2
else
	with_timeout "$BENCH_TIMEOUT" "$BENCH" "$@" >"$TMP/bench.out" 2>"$TMP/bench.err"
	rc=$?
	cat "$TMP/bench.err" >&2
	grep '^RESULT ' "$TMP/bench.out" >"$TMP/ours"
	grep -v '^RESULT ' "$TMP/bench.out"
	if [ "$rc" -ne 0 ]; then
		if grep -q 'nothing matched' "$TMP/bench.err" && [ ! -s "$TMP/ours" ]; then
			echo "bench: no benchmark of ours matched${*:+ the filters: $*}" >&2
		else
			echo "bench: $BENCH failed (exit $rc)" >&2
			status=1
		fi
	fi
fi

# --- 1b. our scripted benchmarks -----------------------------------------
# Figures measured by a script rather than build/bench/bench (the CLI's):
# name and script (in bench/); each prints RESULT lines and, as root, the
# LINUX figure it measured in the same run.
OUR_SCRIPTS='cli_chain100_s cli_chain.sh
preload_ preload.sh'
while read -r name script; do
	want=$#
	want=$((want == 0))
	for f in "$@"; do
		case $name in *"$f"*) want=1 ;; esac
	done
	[ "$want" = 1 ] || continue
	echo "bench: $script" >&2
	if ! with_timeout "$LINUX_TIMEOUT" "$ROOT/bench/$script" >"$TMP/script.out"; then
		echo "bench: $script failed" >&2
	fi
	grep '^RESULT ' "$TMP/script.out" >>"$TMP/ours"
	grep '^LINUX ' "$TMP/script.out" >>"$TMP/linux"
done <<<"$OUR_SCRIPTS"

# --- 2. the Linux baseline -----------------------------------------------
if [ "$(id -u)" -ne 0 ]; then
	echo "linux baseline skipped: not root"
elif [ "$status" -ne 0 ]; then
	echo "linux baseline skipped: our benchmark failed" >&2
else
	scripts=$(awk -v filters="$*" -v oursf="$TMP/ours" '
		FILENAME == oursf { ours[$2] = 1; next }
		{
			name = $1; script = $2
			want = filters == ""
			if (name in ours) want = 1
			n = split(filters, f, " ")
			for (i = 1; i <= n; i++)
				if (index(name, f[i])) want = 1
			if (want && !(script in seen)) { seen[script] = 1; print script }
		}' "$TMP/ours" - <<<"$LINUX_MAP")
	for s in $scripts; do
		echo "bench: linux baseline: $s" >&2
		if ! with_timeout "$LINUX_TIMEOUT" "$ROOT/bench/linux/$s" >"$TMP/linux.out"; then
			echo "bench: linux baseline $s failed; its figures stay null" >&2
		fi
		grep '^LINUX ' "$TMP/linux.out" >>"$TMP/linux"
	done
fi

# --- 3. JSON and table ---------------------------------------------------
mkdir -p "$(dirname "$OUT")"
printf '%s\n' "$LINUX_MAP" >"$TMP/map"
awk -v out="$OUT" -v mapf="$TMP/map" -v linuxf="$TMP/linux" -v oursf="$TMP/ours" '
	function isnum(s) { return s ~ /^[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$/ }
	function jnum(s) { return isnum(s) ? sprintf("%.6g", s) : "null" }
	function jstr(s) { gsub(/\\/, "\\\\", s); gsub(/"/, "\\\"", s); return "\"" s "\"" }
	function row(name, value, unit, lv,    ratio) {
		ratio = (isnum(value) && isnum(lv) && lv + 0 != 0) ? sprintf("%.4g", value / lv) : "null"
		json = json (nrow ? ",\n" : "") sprintf("  {\"name\": %s, \"value\": %s, \"unit\": %s, \"linux\": %s, \"ratio\": %s}",
			jstr(name), jnum(value), jstr(unit), jnum(lv), ratio)
		nrow++
		tn[nrow] = name; tv[nrow] = isnum(value) ? value : "-"; tu[nrow] = unit
		tl[nrow] = isnum(lv) ? lv : "-"; tr[nrow] = ratio == "null" ? "-" : ratio
		if (!(unit in units)) { units[unit] = 1; uorder[++nu] = unit }
	}
	FILENAME == mapf { mapunit[$1] = $3; next }
	FILENAME == linuxf { if ($1 == "LINUX" && !($2 in linux)) { linux[$2] = $3; lorder[++nl] = $2 } next }
	FILENAME == oursf && $1 == "RESULT" {
		ours[$2] = 1
		row($2, $3, $4, ($2 in linux) ? linux[$2] : "")
	}
	END {
		for (i = 1; i <= nl; i++)
			if (!(lorder[i] in ours))
				row(lorder[i], "", (lorder[i] in mapunit) ? mapunit[lorder[i]] : "", linux[lorder[i]])
		printf "[\n%s%s]\n", json, nrow ? "\n" : "" > out
		close(out)

		w = 4
		for (i = 1; i <= nrow; i++) if (length(tn[i]) > w) w = length(tn[i])
		printf "\n%-" w "s %12s %-7s %12s %10s\n", "name", "value", "unit", "linux", "ratio"
		for (i = 1; i <= nrow; i++)
			printf "%-" w "s %12s %-7s %12s %10s\n", tn[i], tv[i], tu[i], tl[i], tr[i]
		if (!nrow) print "(no figures)"
		lower["ns"] = lower["us"] = lower["KiB"] = lower["B"] = lower["s"] = 1
		higher["Gbit/s"] = higher["Mpps"] = higher["conn/s"] = 1
		note = ""
		for (i = 1; i <= nu; i++) {
			u = uorder[i]
			if (u == "") continue
			d = (u in lower) ? "lower" : (u in higher) ? "higher" : "?"
			note = note (note == "" ? "" : "; ") u ": " d " is better"
		}
		print "ratio = ours / linux." (note == "" ? "" : " " note ".")
		print "written: " out
	}' "$TMP/map" "$TMP/linux" "$TMP/ours" || status=1
exit $status
