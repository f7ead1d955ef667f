#!/bin/bash
# System test of Debian's unmodified tc(8) (iproute2) configuring the
# traffic shaper inside a vimage through libvimage-preload.so: its
# RTM_NEWQDISC/DELQDISC/GETQDISC requests are answered by
# src/daemon/rtnl.c and its /proc/net/psched by src/daemon/procnet.c.
# netem add/show/change/replace/del with the delay measured by ping and
# the parameters checked with vimage --shape-show; Linux's errors; the
# unsupported variants refused; tbf's rate measured with iperf3.
#
# As preload.sh: as root, the daemon, the CLI and every program run as the
# unprivileged user nobody (setpriv); otherwise as the current user. Every
# command is bounded by timeout. Prints ok/FAIL/skip per test and ends with
# "tc: N passed, N failed". KEEP=1 keeps the temporary directory.
set -u
cd "$(dirname "$0")/../.."
. tests/system/lib.sh
if ! command -v tc >/dev/null; then
	skip tc "tc (iproute2) not installed"
	echo "tc: 0 passed, 0 failed"
	exit 0
fi
sys_begin tc
sys_user
# shape KEY: the value of KEY in vimage --shape-show a e0 ("" if none).
shape() {
	run --shape-show a e0
	sed -n "s/^$1=//p" <<<"$out"
}
# tcq ARGS...: tc inside vimage a; sets out, err, rc.
tcq() { vin 15 a tc "$@"; }
# ping_min: the minimum RTT in ms (integer part) of 3 pings a -> b, or "".
ping_min() {
	vin 20 a ping -c 3 -i 0.2 10.0.0.2
	[ "$rc" = 0 ] || return
	sed -nE 's#^rtt min/avg/max/mdev = ([0-9]+)\..*#\1#p' <<<"$out"
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
	echo "tc: $pass passed, $fail failed"
	exit 1
fi

# ---- /proc/net/psched and the default qdisc ----------------------------------------
vin 10 a cat /proc/net/psched
[ "$rc" = 0 ] && [ "$out" = "$(cat /proc/net/psched)" ] && ok psched_as_the_host_kernel ||
	bad psched_as_the_host_kernel "rc=$rc '$out' host '$(cat /proc/net/psched)'"
tcq qdisc show
[ "$rc" = 0 ] && grep -qx 'qdisc noqueue 0: dev e0 root refcnt 2 *' <<<"$out" &&
	grep -qx 'qdisc noqueue 0: dev lo0 root refcnt 2 *' <<<"$out" && ok show_noqueue_by_default ||
	bad show_noqueue_by_default "rc=$rc '$(one_line "$out$err")'"
tcq qdisc del dev e0 root
[ "$rc" = 2 ] && grep -q 'Cannot delete qdisc with handle of zero' <<<"$err" &&
	ok del_without_qdisc_as_linux || bad del_without_qdisc_as_linux "rc=$rc '$(one_line "$out$err")'"

# ---- netem: add, measure, show, change, replace, delete ------------------------------
base=$(ping_min)
tcq qdisc add dev e0 root netem delay 10ms
[ "$rc" = 0 ] && [ -z "$err" ] && ok netem_add_delay_10ms || bad netem_add_delay_10ms "rc=$rc '$(one_line "$out$err")'"
d=$(shape delay_ns)
[ "$d" = 10000000 ] && [ "$(shape limit)" = 1000 ] && ok shape_show_delay_ns_10000000 ||
	bad shape_show_delay_ns_10000000 "delay_ns='$d' '$(one_line "$out$err")'"
m=$(ping_min)
[ -n "$m" ] && [ "$m" -ge 10 ] && ok "ping_rtt_at_least_10ms (min $m ms, $base ms without)" ||
	bad ping_rtt_at_least_10ms "min '$m' rc=$rc '$(one_line "$out$err")'"
tcq qdisc show dev e0
[ "$rc" = 0 ] && grep -qE '^qdisc netem 8001: root refcnt 2 limit 1000 delay 10ms *$' <<<"$out" &&
	ok show_netem_delay_10ms || bad show_netem_delay_10ms "rc=$rc '$(one_line "$out$err")'"
vin 10 a ip link show e0
grep -q 'qdisc netem ' <<<"$out" && ok ip_link_shows_qdisc_netem || bad ip_link_shows_qdisc_netem "'$(one_line "$out")'"
tcq qdisc add dev e0 root netem delay 5ms
[ "$rc" = 2 ] && grep -q 'Exclusivity flag on' <<<"$err" && [ "$(shape delay_ns)" = 10000000 ] &&
	ok add_again_is_eexist || bad add_again_is_eexist "rc=$rc '$(one_line "$out$err")'"
tcq qdisc change dev e0 root netem delay 20ms
d=$(shape delay_ns)
[ "$rc" = 0 ] && [ "$d" = 20000000 ] && ok netem_change_delay_20ms || bad netem_change_delay_20ms "rc=$rc delay_ns='$d' '$(one_line "$err")'"
m=$(ping_min)
[ -n "$m" ] && [ "$m" -ge 20 ] && ok "ping_rtt_at_least_20ms_after_change (min $m ms)" ||
	bad ping_rtt_at_least_20ms_after_change "min '$m' '$(one_line "$out$err")'"
tcq -s qdisc show dev e0
pk=$(sed -nE 's/^ Sent ([0-9]+) bytes ([0-9]+) pkt .*/\2/p' <<<"$out")
[ "$rc" = 0 ] && grep -q 'netem 8001: root refcnt 2 limit 1000 delay 20ms' <<<"$out" &&
	[ -n "$pk" ] && [ "$pk" -ge 3 ] && grep -q 'backlog' <<<"$out" && ok "stats_show_packets_sent ($pk pkt)" ||
	bad stats_show_packets_sent "rc=$rc '$(one_line "$out$err")'"
tcq qdisc replace dev e0 root netem delay 10ms 2ms loss 1% duplicate 0.5% reorder 5% limit 1000 rate 10mbit
want="rate=10000000 delay_ns=10000000 jitter_ns=2000000 loss=10000000000000000 duplicate=5000000000000000 reorder=50000000000000000 limit=1000 "
run --shape-show a e0
now=$(grep -E '^(rate|delay_ns|jitter_ns|loss|duplicate|reorder|limit)=' <<<"$out" | tr '\n' ' ')
[ "$now" = "$want" ] && ok netem_replace_every_field_exact || bad netem_replace_every_field_exact "got '$now'"
tcq qdisc show dev e0
grep -qE 'netem 8001: root refcnt 2 limit 1000 delay 10ms +2ms loss 1% duplicate 0.5% reorder 5% rate 10Mbit' <<<"$out" &&
	ok show_round_trips_every_field || bad show_round_trips_every_field "'$(one_line "$out$err")'"
tcq qdisc change dev e0 root tbf rate 1mbit burst 10k latency 10ms
[ "$rc" = 2 ] && grep -q 'Invalid qdisc name' <<<"$err" && ok change_to_other_kind_einval ||
	bad change_to_other_kind_einval "rc=$rc '$(one_line "$err")'"
tcq qdisc del dev e0 root
[ "$rc" = 0 ] && [ -z "$(shape delay_ns)" ] && ok netem_del_removes_shaper || bad netem_del_removes_shaper "rc=$rc '$(one_line "$err")' '$(one_line "$out")'"
tcq qdisc show dev e0
grep -qx 'qdisc noqueue 0: root refcnt 2 *' <<<"$out" && ok show_noqueue_after_del || bad show_noqueue_after_del "'$(one_line "$out$err")'"
m=$(ping_min)
[ -n "$m" ] && [ "$m" -lt 10 ] && ok "ping_fast_again_after_del (min $m ms)" || bad ping_fast_again_after_del "min '$m'"
tcq qdisc change dev e0 root netem delay 1ms
[ "$rc" = 2 ] && grep -q 'To create specify NLM_F_CREATE' <<<"$err" && ok change_without_qdisc_enoent ||
	bad change_without_qdisc_enoent "rc=$rc '$(one_line "$err")'"

# ---- refused variants: an error with a reason, nothing changed ------------------------
refuse() { # NAME PATTERN TC-ARGS...
	local name=$1 pat=$2
	shift 2
	tcq "$@"
	if [ "$rc" != 0 ] && grep -q -- "$pat" <<<"$err" && [ -z "$(shape delay_ns)" ]; then
		ok "$name"
	else
		bad "$name" "rc=$rc '$(one_line "$out$err")'"
	fi
}
refuse refuse_distribution 'jitter is uniform only' qdisc add dev e0 root netem delay 10ms 2ms distribution normal
refuse refuse_correlation 'correlation is not supported' qdisc add dev e0 root netem delay 10ms 2ms 25%
refuse refuse_gemodel 'Gilbert-Elliott' qdisc add dev e0 root netem loss gemodel 1% 10%
refuse refuse_ingress 'ingress and clsact' qdisc add dev e0 ingress
refuse refuse_explicit_handle 'automatic handle' qdisc add dev e0 root handle 1: netem delay 1ms
refuse refuse_other_kind 'only netem and tbf' qdisc add dev e0 root pfifo limit 10

# ---- tbf: the rate measured ----------------------------------------------------------
tcq qdisc add dev e0 root tbf rate 10mbit burst 32kbit latency 400ms
r=$(shape rate)
lb=$(shape limit_bytes)
[ "$rc" = 0 ] && [ "$r" = 10000000 ] && [ "$lb" = 504096 ] && ok tbf_add_rate_and_byte_limit ||
	bad tbf_add_rate_and_byte_limit "rc=$rc rate='$r' limit_bytes='$lb' '$(one_line "$err")'"
tcq qdisc show dev e0
grep -qE '^qdisc tbf 8001: root refcnt 2 rate 10Mbit burst 151[4-9]b lat 40[0-9](\.[0-9]+)?ms' <<<"$out" &&
	ok show_tbf || bad show_tbf "'$(one_line "$out$err")'"
if have iperf3 && [ -n "$PY" ]; then
	base=$(socks b)
	start iperf_tbf 25 b iperf3 -s -1 -p 6030
	wait_socks b $((base + 1))
	vin 20 a iperf3 -c 10.0.0.2 -p 6030 -t 3 -J
	crc=$rc
	cout=$out
	finish iperf_tbf 8
	bps=$(jsonget 'int(d["end"]["sum_received"]["bits_per_second"])' <<<"$cout")
	if [ "$crc" = 0 ] && [[ "$bps" =~ ^[0-9]+$ ]] && [ "$bps" -gt 7000000 ] && [ "$bps" -le 10500000 ]; then
		ok "tbf_10mbit_measured_with_iperf3 ($((bps / 1000)) kbit/s)"
	else
		bad tbf_10mbit_measured_with_iperf3 "rc=$crc bps='$(one_line "$bps" 200)' server: '$(one_line "$(bgout iperf_tbf)$(bgerr iperf_tbf)" 300)'"
	fi
	tcq qdisc del dev e0 root
	base=$(socks b)
	start iperf_free 25 b iperf3 -s -1 -p 6031
	wait_socks b $((base + 1))
	vin 20 a iperf3 -c 10.0.0.2 -p 6031 -t 2 -J
	crc=$rc
	cout=$out
	finish iperf_free 8
	bps2=$(jsonget 'int(d["end"]["sum_received"]["bits_per_second"])' <<<"$cout")
	if [ "$crc" = 0 ] && [[ "$bps2" =~ ^[0-9]+$ ]] && [ "$bps2" -gt 30000000 ]; then
		ok "unshaped_after_tbf_del ($((bps2 / 1000000)) Mbit/s)"
	else
		bad unshaped_after_tbf_del "rc=$crc bps='$(one_line "$bps2" 200)'"
	fi
else
	skip tbf_10mbit_measured_with_iperf3 "iperf3 or python3 not installed"
	tcq qdisc del dev e0 root
fi
[ -z "$(shape rate)" ] && ok tbf_del_removes_shaper || bad tbf_del_removes_shaper "'$(one_line "$out")'"

as_user timeout 10 "$V" --shutdown >/dev/null
echo "tc: ran for ${SECONDS} s"
echo "tc: $pass passed, $fail failed"
[ "$fail" = 0 ]
