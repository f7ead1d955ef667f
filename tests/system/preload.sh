#!/bin/bash
# System tests of running unmodified programs inside vimages through
# libvimage-preload.so: netcat, curl against python's http.server, ping,
# iperf3 and socat between two vimages joined by a ve pair; small C
# programs (tests/system/progs) for epoll, fork, exec, non-blocking and
# refused connects and one port bound in two vimages; isolation; a routed
# chain configured from scratch with iproute2's ip; faults (a program or
# the daemon killed mid-transfer, garbage on the control socket); destroy
# refused while a program runs inside; static binaries refused.
#
# As in run.sh: as root, the daemon, the CLI and every program run as the
# unprivileged user nobody (setpriv); otherwise as the current user. Every
# command is bounded by timeout. Prints ok/FAIL/skip per test and ends with
# "preload: N passed, N failed". KEEP=1 keeps the temporary directory (the
# daemon's log is $T/xdg/vimage/vimaged.log); DEBUG=1 sets the daemon's log
# level to debug.
set -u
cd "$(dirname "$0")/../.."
. tests/system/lib.sh
sys_begin preload epoll_echo forkuse execfd nbconnect banner ifaddrs hello blast garbage
# Test data, made before the directory is handed to the test user.
head -c 1048576 /dev/urandom >"$T/work/1m"
head -c 5242880 /dev/urandom >"$T/www/5m"
printf 'udp line one\nudp line two\nudp line three\n' >"$T/work/lines"
chmod 0644 "$T/work/1m" "$T/www/5m" "$T/work/lines"
sys_user

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
	echo "preload: $pass passed, $fail failed"
	exit 1
fi
[ -n "${DEBUG:-}" ] && as_user timeout 10 "$V" --log-level debug
vin 10 a "$P/hello"
[ "$rc" = 0 ] && [ "$out" = "hello a" ] && ok run_dynamic_program_inside ||
	bad run_dynamic_program_inside "rc=$rc out='$out' err='$err'"
vin 10 a sh -c 'exit 7'
[ "$rc" = 7 ] && ok exit_status_of_program_passed_on || bad exit_status_of_program_passed_on "rc=$rc err='$err'"
# Global options before NAME must not disturb the command's arguments.
vin 10 --no-autostart a sh -c 'echo "$#:$*"' x one two
[ "$rc" = 0 ] && [ "$out" = "2:one two" ] && ok global_option_before_name_keeps_command_args ||
	bad global_option_before_name_keeps_command_args "rc=$rc out='$out'"

# ---- 1. netcat ----------------------------------------------------------------
SUM1M=$(sha "$T/work/1m")
# nc_tcp TEST FROM TO TOADDR PORT
nc_tcp() {
	local name=$1 from=$2 to=$3 addr=$4 port=$5 base
	base=$(socks "$to")
	rm -f "$T/work/$name.rx"
	start "$name" 20 "$to" sh -c 'exec nc -l "$1" "$2" >"$3"' sh "$addr" "$port" "$T/work/$name.rx"
	wait_socks "$to" $((base + 1))
	IN=$T/work/1m vin 20 "$from" nc -N "$addr" "$port"
	local crc=$rc cerr=$err
	finish "$name" 10
	if [ "$crc" = 0 ] && [ "$rc" = 0 ] && [ "$(sha "$T/work/$name.rx" 2>/dev/null)" = "$SUM1M" ]; then
		ok "$name"
	else
		bad "$name" "client rc=$crc '$(one_line "$cerr")', server rc=$rc '$(one_line "$(bgerr "$name")")', received $(stat -c %s "$T/work/$name.rx" 2>/dev/null) of 1048576 bytes"
	fi
}
if have nc; then
	nc_tcp nc_tcp_1m_a_to_b a b 10.0.0.2 6001
	nc_tcp nc_tcp_1m_b_to_a b a 10.0.0.1 6002
	# nc_udp TEST FROM TO TOADDR PORT
	nc_udp() {
		local name=$1 from=$2 to=$3 addr=$4 port=$5 base
		base=$(socks "$to")
		start "$name" 20 "$to" nc -u -l "$addr" "$port"
		wait_socks "$to" $((base + 1))
		IN=$T/work/lines vin 10 "$from" nc -u -w 1 "$addr" "$port"
		local crc=$rc cerr=$err
		wait_file "$T/log/$name.out" 'udp line three' 3
		stop "$name"
		if [ "$(bgout "$name")" = "$(cat "$T/work/lines")" ] && [ "$crc" = 0 ]; then
			ok "$name"
		else
			bad "$name" "client rc=$crc '$(one_line "$cerr")', server got '$(one_line "$(bgout "$name")")' err '$(one_line "$(bgerr "$name")")'"
		fi
	}
	nc_udp nc_udp_lines_a_to_b a b 10.0.0.2 6003
	nc_udp nc_udp_lines_b_to_a b a 10.0.0.1 6004
else
	skip netcat "nc not installed"
fi

# ---- 2. curl from python's http.server ----------------------------------------
SUM5M=$(sha "$T/www/5m")
# http_fetch TEST SERVER CLIENT URL_ADDR PORT [python --bind args]
http_fetch() {
	local name=$1 srv=$2 cli=$3 addr=$4 port=$5 base
	shift 5
	base=$(socks "$srv")
	start "$name" 30 "$srv" "$PY" -m http.server "$port" --directory "$T/www" "$@"
	wait_socks "$srv" $((base + 1)) 8
	rm -f "$T/work/$name.dl"
	vin 20 "$cli" curl -sS --max-time 15 -o "$T/work/$name.dl" "http://$addr:$port/5m"
	local crc=$rc cerr=$err
	stop "$name"
	if [ "$crc" = 0 ] && [ "$(sha "$T/work/$name.dl" 2>/dev/null)" = "$SUM5M" ]; then
		ok "$name"
	else
		bad "$name" "curl rc=$crc '$(one_line "$cerr")', got $(stat -c %s "$T/work/$name.dl" 2>/dev/null) bytes; server: '$(one_line "$(bgerr "$name")" 600)'"
	fi
}
if have curl && [ -n "$PY" ]; then
	http_fetch curl_5m_from_http_server_dual_stack b a 10.0.0.2 6010
	http_fetch curl_5m_from_http_server_bind_v4 b a 10.0.0.2 6011 --bind 10.0.0.2
else
	skip curl "curl or python3 not installed"
fi

# ---- 3. ping (file capabilities: run through the loader) -------------------------
if have ping; then
	vin 15 a ping -c 3 -i 0.2 10.0.0.2
	if [ "$rc" = 0 ] && grep -q '3 packets transmitted, 3 received, 0% packet loss' <<<"$out"; then
		ok ping_3_received
	else
		bad ping_3_received "rc=$rc out='$(one_line "$out")' err='$(one_line "$err")'"
	fi
else
	skip ping_3_received "ping not installed"
fi

# ---- 4. iperf3 --------------------------------------------------------------------
# iperf TEST PORT [client args]
iperf() {
	local name=$1 port=$2 base
	shift 2
	base=$(socks b)
	start "$name" 20 b iperf3 -s -1 -p "$port"
	wait_socks b $((base + 1))
	vin 15 a iperf3 -c 10.0.0.2 -p "$port" -t 2 -J "$@"
	local crc=$rc cout=$out cerr=$err bps
	finish "$name" 8
	bps=$(jsonget 'int(d["end"]["sum_received"]["bits_per_second"] if "sum_received" in d["end"] else d["end"]["sum"]["bits_per_second"])' <<<"$cout")
	if [ "$crc" = 0 ] && [ "$rc" = 0 ] && [[ "$bps" =~ ^[0-9]+$ ]] && [ "$bps" -gt 0 ]; then
		ok "$name ($((bps / 1000000)) Mbit/s)"
	else
		bad "$name" "client rc=$crc server rc=$rc bps='$(one_line "$bps" 200)' client: '$(one_line "$cerr$(jsonget 'd.get("error","")' <<<"$cout")" 300)' server: '$(one_line "$(bgout "$name")$(bgerr "$name")" 300)'"
	fi
}
if have iperf3 && [ -n "$PY" ]; then
	iperf iperf3_tcp 6020
	iperf iperf3_udp_100M 6021 -u -b 100M
else
	skip iperf3 "iperf3 or python3 not installed"
fi

# ---- 5. socat ---------------------------------------------------------------------
if have socat; then
	base=$(socks b)
	rm -f "$T/work/socat.rx"
	start socat_tcp 20 b sh -c 'exec socat -u TCP-LISTEN:6030,bind=10.0.0.2,reuseaddr - >"$1"' sh "$T/work/socat.rx"
	wait_socks b $((base + 1))
	IN=$T/work/1m vin 15 a socat - TCP:10.0.0.2:6030
	crc=$rc cerr=$err
	finish socat_tcp 10
	if [ "$crc" = 0 ] && [ "$rc" = 0 ] && [ "$(sha "$T/work/socat.rx" 2>/dev/null)" = "$SUM1M" ]; then
		ok socat_tcp_1m
	else
		bad socat_tcp_1m "client rc=$crc '$(one_line "$cerr")' server rc=$rc '$(one_line "$(bgerr socat_tcp)")' received $(stat -c %s "$T/work/socat.rx" 2>/dev/null)"
	fi
else
	skip socat_tcp_1m "socat not installed"
fi

# ---- 6. C programs --------------------------------------------------------------
# echo_server TAG PORT lt|et: an epoll echo server in b for one connection.
echo_server() {
	local base
	base=$(socks b)
	start "$1" 15 b "$P/epoll_echo" server "$2" "$3" 1
	wait_socks b $((base + 1))
}
for mode in lt et; do
	port=$([ $mode = lt ] && echo 6040 || echo 6041)
	echo_server "epoll_$mode" $port $mode
	vin 15 a "$P/epoll_echo" client 10.0.0.2 $port 100
	crc=$rc cout=$out cerr=$err
	finish "epoll_$mode" 5
	if [ "$crc" = 0 ] && [ "$cout" = "client: 100 echoed" ] && [ "$rc" = 0 ] &&
		[ "$(bgout "epoll_$mode")" = "server: 1 connections, 1300 bytes" ]; then
		ok "epoll_echo_${mode}_100_messages"
	else
		bad "epoll_echo_${mode}_100_messages" "client rc=$crc '$(one_line "$cout$cerr")' server rc=$rc '$(one_line "$(bgout "epoll_$mode")$(bgerr "epoll_$mode")")'"
	fi
done

echo_server forkuse 6042 lt
vin 15 a "$P/forkuse" 10.0.0.2 6042
crc=$rc cout=$out cerr=$err
finish forkuse 5
if [ "$crc" = 0 ] && grep -q '^child: 20 echoed, peer 10.0.0.2:6042$' <<<"$cout" &&
	[ "$rc" = 0 ] && [ "$(bgout forkuse)" = "server: 1 connections, 180 bytes" ]; then
	ok fork_child_uses_socket_after_parent_close
else
	bad fork_child_uses_socket_after_parent_close "rc=$crc '$(one_line "$cout$cerr")' server rc=$rc '$(one_line "$(bgout forkuse)$(bgerr forkuse)")'"
fi

echo_server execfd 6043 lt
vin 15 a "$P/execfd" 10.0.0.2 6043
crc=$rc cout=$out cerr=$err
finish execfd 5
if [ "$crc" = 0 ] && grep -q '^exec: 20 echoed on fd 37, peer 10.0.0.2:6043$' <<<"$cout" && [ "$rc" = 0 ]; then
	ok exec_inherits_socket
else
	bad exec_inherits_socket "rc=$crc '$(one_line "$cout$cerr")' server rc=$rc '$(one_line "$(bgout execfd)$(bgerr execfd)")'"
fi

echo_server nbconn 6044 lt
vin 15 a "$P/nbconnect" nonblock 10.0.0.2 6044
crc=$rc cout=$out cerr=$err
finish nbconn 5
want=$'connect: EINPROGRESS\npoll: POLLOUT\nso_error: 0\necho: 5'
if [ "$crc" = 0 ] && [ "$cout" = "$want" ]; then
	ok nonblocking_connect_einprogress_pollout_so_error_0
else
	bad nonblocking_connect_einprogress_pollout_so_error_0 "rc=$crc '$(one_line "$cout$cerr")'"
fi
vin 15 a "$P/nbconnect" nonblock 10.0.0.2 6045
if [ "$rc" = 0 ] && grep -q '^connect: EINPROGRESS$' <<<"$out" &&
	grep -q '^poll: POLLOUT' <<<"$out" && grep -q '^so_error: ECONNREFUSED$' <<<"$out"; then
	ok nonblocking_connect_closed_port_so_error_econnrefused
else
	bad nonblocking_connect_closed_port_so_error_econnrefused "rc=$rc '$(one_line "$out$err")'"
fi
vin 15 a "$P/nbconnect" block 10.0.0.2 6045
[ "$rc" = 0 ] && [ "$out" = "connect: ECONNREFUSED" ] && ok blocking_connect_closed_port_econnrefused ||
	bad blocking_connect_closed_port_econnrefused "rc=$rc '$(one_line "$out$err")'"

# One port in two vimages at once, each answering with its own banner.
start banner_a 20 a "$P/banner" server 7000 banner-of-a 2
start banner_b 20 b "$P/banner" server 7000 banner-of-b 2
wait_file "$T/log/banner_a.out" '^listening' 5
wait_file "$T/log/banner_b.out" '^listening' 5
res=
for c in "a 127.0.0.1" "b 127.0.0.1" "a 10.0.0.2" "b 10.0.0.1"; do
	set -- $c
	vin 10 "$1" "$P/banner" client "$2" 7000
	res="$res$1->$2:$out($rc) "
done
finish banner_a 5
ra=$rc
finish banner_b 5
rb=$rc
if [ "$res" = "a->127.0.0.1:banner-of-a(0) b->127.0.0.1:banner-of-b(0) a->10.0.0.2:banner-of-b(0) b->10.0.0.1:banner-of-a(0) " ] &&
	[ "$ra" = 0 ] && [ "$rb" = 0 ]; then
	ok same_port_7000_in_a_and_b
else
	bad same_port_7000_in_a_and_b "$res servers rc=$ra,$rb a: '$(one_line "$(bgout banner_a)")' b: '$(one_line "$(bgout banner_b)")'"
fi

# ---- 7. isolation -------------------------------------------------------------
if have ip; then
	vin 10 a ip -o link
	links=$(awk -F': ' '{print $2}' <<<"$out" | sed 's/@.*//' | sort | tr '\n' ' ')
	[ "$rc" = 0 ] && [ "$links" = "e0 lo0 " ] && ok ip_link_in_a_shows_only_lo0_e0 ||
		bad ip_link_in_a_shows_only_lo0_e0 "rc=$rc links='$links' err='$(one_line "$err")'"
	vin 10 a ip -o -4 addr
	if [ "$rc" = 0 ] && grep -q 'e0 .*inet 10.0.0.1/24' <<<"$out" &&
		grep -q 'lo0 .*inet 127.0.0.1/8' <<<"$out" && ! grep -q '10\.0\.0\.2/' <<<"$out"; then
		ok ip_addr_in_a_shows_only_a
	else
		bad ip_addr_in_a_shows_only_a "rc=$rc '$(one_line "$out$err")'"
	fi
else
	skip ip_isolation "ip not installed"
fi
vin 10 a "$P/ifaddrs"
got=$(sort <<<"$out" | tr '\n' ' ')
[ "$rc" = 0 ] && [ "$got" = "e0 e0 10.0.0.1 lo0 lo0 127.0.0.1 " ] && ok getifaddrs_in_a_shows_only_a ||
	bad getifaddrs_in_a_shows_only_a "rc=$rc got='$got' err='$(one_line "$err")'"
start loop_b 15 b "$P/banner" server 6050 loopback-of-b 1 127.0.0.1
wait_file "$T/log/loop_b.out" '^listening' 5
vin 10 a "$P/nbconnect" block 127.0.0.1 6050
[ "$rc" = 0 ] && [ "$out" = "connect: ECONNREFUSED" ] && ok loopback_of_b_not_reachable_from_a ||
	bad loopback_of_b_not_reachable_from_a "rc=$rc '$(one_line "$out$err")'"
vin 10 a "$P/nbconnect" block 10.0.0.2 6050
[ "$rc" = 0 ] && [ "$out" = "connect: ECONNREFUSED" ] && ok loopback_listener_of_b_not_on_e0 ||
	bad loopback_listener_of_b_not_on_e0 "rc=$rc '$(one_line "$out$err")'"
vin 10 b "$P/banner" client 127.0.0.1 6050
[ "$rc" = 0 ] && [ "$out" = "loopback-of-b" ] && ok loopback_of_b_reachable_from_b ||
	bad loopback_of_b_reachable_from_b "rc=$rc '$(one_line "$out$err")'"
finish loop_b 3

# ---- net-tools and ss show what ip shows ---------------------------------------
# (their ioctls and /proc/net files are the vimage's)
if have ifconfig && have route && have arp; then
	vin 10 a ifconfig e0
	[ "$rc" = 0 ] && grep -qE 'inet 10\.0\.0\.1 +netmask 255\.255\.255\.0 +broadcast 10\.0\.0\.255' <<<"$out" &&
		! grep -q 'inet 10\.0\.0\.2 ' <<<"$out" && ok ifconfig_in_a_shows_e0_as_ip_does ||
		bad ifconfig_in_a_shows_e0_as_ip_does "rc=$rc '$(one_line "$out$err")'"
	vin 10 a ifconfig -a
	n=$(grep -cE '^[a-z0-9]+: flags=' <<<"$out")
	[ "$rc" = 0 ] && [ "$n" = 2 ] && grep -q '^e0: ' <<<"$out" && grep -q '^lo0: ' <<<"$out" &&
		ok ifconfig_lists_only_a_interfaces || bad ifconfig_lists_only_a_interfaces "n=$n '$(one_line "$out$err")'"
	vin 10 a route -n
	[ "$rc" = 0 ] && grep -qE '^10\.0\.0\.0 +0\.0\.0\.0 +255\.255\.255\.0 +U .* e0$' <<<"$out" &&
		ok route_n_in_a_shows_the_connected_route || bad route_n_in_a_shows_the_connected_route "'$(one_line "$out$err")'"
	vin 10 a ping -c 1 -q 10.0.0.2
	vin 10 a ip neigh show 10.0.0.2
	mac=$(grep -oE 'lladdr [0-9a-f:]+' <<<"$out" | cut -d' ' -f2)
	vin 10 a arp -n
	[ -n "$mac" ] && grep -qE "^10\.0\.0\.2 +ether +$mac +C +e0" <<<"$out" &&
		ok arp_n_matches_ip_neigh || bad arp_n_matches_ip_neigh "mac=$mac '$(one_line "$out$err")'"
	# An interface configured with ifconfig is what ip then shows.
	vin 10 a ip link add t0 type veth peer name t1
	vin 10 a ifconfig t0 10.9.0.1 netmask 255.255.255.0 up
	vin 10 a ip -4 -o addr show dev t0
	[ "$rc" = 0 ] && grep -q 'inet 10.9.0.1/24' <<<"$out" && ok ifconfig_config_seen_by_ip ||
		bad ifconfig_config_seen_by_ip "'$(one_line "$out$err")'"
	vin 10 a ip link del t0
else
	skip net_tools "net-tools not installed"
fi
if have ss; then
	start ss_srv 15 b "$P/banner" server 6070 ss-banner 1
	wait_file "$T/log/ss_srv.out" '^listening' 5
	vin 10 b ss -tlnp
	spid=$(cat "$T/work/ss_srv.pid" 2>/dev/null)
	[ "$rc" = 0 ] && grep -qE "LISTEN .*0\.0\.0\.0:6070 .*\(\(\"banner\",pid=$spid," <<<"$out" &&
		ok ss_tlnp_in_b_shows_the_listener_and_its_process ||
		bad ss_tlnp_in_b_shows_the_listener_and_its_process "pid=$spid '$(one_line "$out$err")'"
	vin 10 a ss -tln
	! grep -q ':6070 ' <<<"$out" && ok ss_in_a_does_not_show_b_sockets ||
		bad ss_in_a_does_not_show_b_sockets "'$(one_line "$out")'"
	vin 10 a "$P/banner" client 10.0.0.2 6070
	finish ss_srv 3
else
	skip ss "iproute2's ss not installed"
fi

# ---- 8. a routed chain configured from scratch with ip ---------------------------
if have ip; then
	good=1
	msg=
	for v in h1 r h2; do as_user timeout 10 "$V" -c $v || good=0; done
	as_user timeout 10 "$V" --ve h1:eth0 r:eth0 || good=0
	as_user timeout 10 "$V" --ve r:eth1 h2:eth0 || good=0
	for c in "h1 ip addr add 10.1.0.1/24 dev eth0" "h1 ip link set eth0 up" \
		"r ip addr add 10.1.0.254/24 dev eth0" "r ip link set eth0 up" \
		"r ip addr add 10.2.0.254/24 dev eth1" "r ip link set dev eth1 up" \
		"h2 ip addr add 10.2.0.1/24 dev eth0" "h2 ip link set eth0 up" \
		"h1 ip route add default via 10.1.0.254" \
		"h2 ip route add default via 10.2.0.254"; do
		vin 10 $c
		[ "$rc" = 0 ] || { good=0; msg="$msg [$c: rc=$rc $(one_line "$err" 200)]"; }
	done
	[ $good = 1 ] && ok chain_configured_with_ip || bad chain_configured_with_ip "$msg"
	run --sysctl r
	knob=$(grep -o '^net\.inet\.ip\.forwarding' <<<"$out")
	run --sysctl r "${knob:-net.inet.ip.forwarding}=1"
	[ "$rc" = 0 ] && [ -n "$knob" ] && ok chain_forwarding_knob || bad chain_forwarding_knob "rc=$rc '$err'"
	run -lv h1
	grep -qE '10\.1\.0\.1/24' <<<"$out" && grep -qE 'default|0\.0\.0\.0/0' <<<"$out" &&
		grep -q '10.1.0.254' <<<"$out" && ok chain_ip_config_seen_by_daemon ||
		bad chain_ip_config_seen_by_daemon "$(one_line "$out")"
	if have ping; then
		vin 15 h1 ping -c 2 -i 0.2 10.2.0.1
		[ "$rc" = 0 ] && grep -q '2 packets transmitted, 2 received, 0% packet loss' <<<"$out" &&
			ok chain_ping_h1_to_h2 || bad chain_ping_h1_to_h2 "rc=$rc '$(one_line "$out$err")'"
	fi
	if have curl && [ -n "$PY" ]; then
		http_fetch chain_curl_h1_from_h2 h2 h1 10.2.0.1 6060 --bind 10.2.0.1
	fi
	vin 10 h1 ip -j addr
	n=$(jsonget '" ".join(sorted(a["local"] for i in d for a in i.get("addr_info", [])))' <<<"$out")
	[ "$rc" = 0 ] && [ "$n" = "10.1.0.1 127.0.0.1" ] && ok chain_ip_json_addr ||
		bad chain_ip_json_addr "rc=$rc '$(one_line "$n")' '$(one_line "$out$err" 200)'"
	vin 10 h1 ip route get 10.2.0.1
	[ "$rc" = 0 ] && grep -q '10.2.0.1 via 10.1.0.254 dev eth0' <<<"$out" && ok chain_ip_route_get ||
		bad chain_ip_route_get "rc=$rc '$(one_line "$out$err")'"
	vin 10 h1 ip route
	[ "$rc" = 0 ] && grep -q '^default via 10.1.0.254 dev eth0' <<<"$out" &&
		grep -q '^10.1.0.0/24 dev eth0' <<<"$out" && ok chain_ip_route_list ||
		bad chain_ip_route_list "rc=$rc '$(one_line "$out$err")'"
	# The router's ICMP errors reach programs through IP_RECVERR.
	if have ping; then
		vin 10 h1 ping -c 1 -t 1 10.2.0.1
		grep -q 'From 10.1.0.254 icmp_seq=1 Time to live exceeded' <<<"$out" &&
			ok chain_ping_ttl1_time_exceeded_from_router ||
			bad chain_ping_ttl1_time_exceeded_from_router "rc=$rc '$(one_line "$out$err")'"
	fi
	if have tracepath; then
		vin 20 h1 tracepath -n -m 5 10.2.0.1
		[ "$rc" = 0 ] && grep -qE '^ 1: +10\.1\.0\.254 ' <<<"$out" &&
			grep -qE '^ 2: +10\.2\.0\.1 .*reached' <<<"$out" &&
			ok chain_tracepath_shows_router_then_host ||
			bad chain_tracepath_shows_router_then_host "rc=$rc '$(one_line "$out$err")'"
	else
		skip chain_tracepath "tracepath not installed (iputils-tracepath)"
	fi
else
	skip chain_with_ip "ip not installed"
fi

# ---- bad input on socket descriptors ------------------------------------------
# Raw writes into a UDP and a netlink socket's pair, past the preload
# library: counted and dropped, or answered with NLMSG_ERROR; the sockets
# keep working and the daemon's counter says what it dropped.
if have socat; then
	start udpecho 15 b socat -T 5 UDP-RECVFROM:6100,fork EXEC:cat
	sleep 0.5
	run --stats
	before=$(sed -nE 's/^daemon\.bad_dgrams=([0-9]+).*/\1/p' <<<"$out")
	vin 15 a "$P/garbage" 10.0.0.2 6100
	run --stats
	after=$(sed -nE 's/^daemon\.bad_dgrams=([0-9]+).*/\1/p' <<<"$out")
	if [ "$rc" = 0 ] && [ -n "$after" ] && [ "$((after - ${before:-0}))" -ge 3 ]; then
		vin 15 a "$P/garbage" 10.0.0.2 6100
		[ "$rc" = 0 ] && grep -q 'udp ok' <<<"$out" && grep -q 'netlink errors 2' <<<"$out" &&
			ok socket_fd_garbage_counted_and_dropped ||
			bad socket_fd_garbage_counted_and_dropped "rc=$rc '$(one_line "$out$err")'"
	else
		bad socket_fd_garbage_counted_and_dropped "bad_dgrams ${before:-?} -> ${after:-?} rc=$rc"
	fi
	stop udpecho
else
	skip socket_fd_garbage "socat not installed"
fi

# ---- 11. static binaries are refused --------------------------------------------
LIBC_A=$(gcc -print-file-name=libc.a 2>/dev/null)
if [ -f "$LIBC_A" ] && gcc -static -O2 -o "$T/work/hello-static" tests/system/progs/hello.c 2>"$T/log/static.err"; then
	chmod 0755 "$T/work/hello-static"
	vin 10 a "$T/work/hello-static"
	if [ "$rc" = 4 ] && grep -q 'statically linked' <<<"$err" && [ -z "$out" ]; then
		ok static_binary_refused_exit_4
	else
		bad static_binary_refused_exit_4 "rc=$rc out='$out' err='$(one_line "$err")'"
	fi
else
	skip static_binary_refused_exit_4 "no static libc (gcc -static failed: $(one_line "$(cat "$T/log/static.err" 2>/dev/null)" 200))"
fi

# ---- 9. faults ------------------------------------------------------------------
if have nc; then
	base_a=$(socks a)
	base_b=$(socks b)
	start kill_rx 20 b sh -c 'exec nc -l 10.0.0.2 6070 >/dev/null' sh
	rxpid=$(prog_pid kill_rx)
	wait_socks b $((base_b + 1))
	IN=/dev/zero start kill_tx 20 a nc 10.0.0.2 6070
	# Bounded wait until the receiver has read some megabytes.
	moved=0
	for _ in $(seq 50); do
		moved=$(awk '/^rchar/ {print $2}' /proc/"$rxpid"/io 2>/dev/null)
		[ "${moved:-0}" -gt 4000000 ] && break
		sleep 0.05
	done
	# (bash's "Killed" notice for the job is not wanted in the output)
	{
		kill -KILL "$rxpid"
		t0=$SECONDS
		wait_socks_le b "$base_b" 3
		b_back=$?
		b_now=$(socks b)
		finish kill_tx 8
		txrc=$rc
		finish kill_rx 3
	} 2>/dev/null
	if [ "${moved:-0}" -gt 4000000 ] && [ "$txrc" -lt 124 ]; then
		ok "sender_ends_when_receiver_killed (rc=$txrc, $((SECONDS - t0)) s)"
	else
		bad sender_ends_when_receiver_killed "receiver read ${moved:-?} bytes; sender rc=$txrc (125: still running after 8 s) '$(one_line "$(bgerr kill_tx)")'"
	fi
	[ "$b_back" = 0 ] && ok socket_count_of_b_back_to_baseline_after_kill ||
		bad socket_count_of_b_back_to_baseline_after_kill "b $b_now 3 s after the kill (baseline $base_b)"
	wait_socks_le a "$base_a" 5 && ok socket_count_of_a_back_to_baseline_after_sender_ends ||
		bad socket_count_of_a_back_to_baseline_after_sender_ends "a $(socks a) (baseline $base_a)"
else
	skip fault_kill_receiver "nc not installed"
fi
# The same with a sender that says which error its write got.
# rchar PID: bytes the process has read so far.
rchar() { awk '/^rchar/ {print $2}' /proc/"$1"/io 2>/dev/null; }
# wait_moving PID: bounded wait until the process has read 4 MB.
wait_moving() {
	for _ in $(seq 60); do
		[ "$(rchar "$1")" -gt 4000000 ] 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}
start blast_rx 20 b "$P/blast" recv 10.0.0.2 6071
rxpid=$(prog_pid blast_rx)
wait_file "$T/log/blast_rx.out" '^listening' 5
start blast_tx 20 a "$P/blast" send 10.0.0.2 6071
wait_moving "$rxpid"
moved=$(rchar "$rxpid")
{
	kill -KILL "$rxpid"
	finish blast_tx 8
	txrc=$rc
	finish blast_rx 3
} 2>/dev/null
if [ "${moved:-0}" -gt 4000000 ] && [ "$txrc" = 1 ] &&
	grep -qE '^send: (ECONNRESET|EPIPE) after' "$T/log/blast_tx.out"; then
	ok "write_fails_econnreset_or_epipe_when_receiver_killed ($(bgout blast_tx))"
else
	bad write_fails_econnreset_or_epipe_when_receiver_killed "receiver read ${moved:-?} bytes; sender rc=$txrc (125: still running after 8 s) '$(one_line "$(bgout blast_tx)$(bgerr blast_tx)")'"
fi

if [ -n "$PY" ]; then
	raw_client() {
		as_user timeout 10 "$PY" - "$1" "$SOCK" <<'EOF'
import socket, struct, sys
data = bytes.fromhex(sys.argv[1])
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[2])
s.settimeout(5)
try:
    s.sendall(data)
except OSError:
    pass
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
    print("errno=%s msg=%s" % (errno, msg))
except socket.timeout:
    print("timeout")
EOF
	}
	r=$(raw_client "deadbeef000000000000000000000000cafe")
	grep -q 'errno=-74 .*bad magic' <<<"$r" && ok control_garbage_rejected ||
		bad control_garbage_rejected "$r"
	r=$(raw_client "$(head -c 3000 /dev/urandom | od -An -tx1 | tr -d ' \n')")
	grep -qE 'errno=-[0-9]+|closed' <<<"$r" && ok control_random_bytes_rejected ||
		bad control_random_bytes_rejected "$r"
	# A valid header announcing an attach-sized message, cut short.
	as_user timeout 5 "$PY" -c "
import socket
s=socket.socket(socket.AF_UNIX,socket.SOCK_STREAM); s.connect('$SOCK')
s.sendall(bytes.fromhex('56494d4301000002000000400000000100030000'))" 2>/dev/null
	run --status
	if [ "$rc" = 0 ] && grep -q "vimaged pid $DPID" <<<"$out"; then
		vin 10 a "$P/hello"
		[ "$rc" = 0 ] && [ "$out" = "hello a" ] && ok daemon_alive_after_garbage ||
			bad daemon_alive_after_garbage "program inside: rc=$rc '$(one_line "$out$err")'"
	else
		bad daemon_alive_after_garbage "status rc=$rc '$(one_line "$out$err")'"
	fi
else
	skip control_garbage "python3 not installed"
fi

# ---- shaper parameters through vimage(8): bad ones change nothing ----------------
shape_now() { run --shape-show a e0; grep -E '^(rate|delay_ns|loss)=' <<<"$out" | tr '\n' ' '; }
run --shape a e0 rate 10mbit delay 5ms loss 0.5%
want="rate=10000000 delay_ns=5000000 loss=5000000000000000 "
[ "$rc" = 0 ] && [ "$(shape_now)" = "$want" ] && ok shape_set_through_cli ||
	bad shape_set_through_cli "rc=$rc '$err' now '$(shape_now)'"
for bad_args in "loss 150%:2:at most 100%" "rate fast:2:expected a rate" "delay 10:2:a time with a unit" \
	"jitter:2:needs a value" "speed 1mbit:2:unknown shaper parameter 'speed'" \
	"delay 3601s:2:out of range"; do
	IFS=: read -r a want_rc pat <<<"$bad_args"
	# shellcheck disable=SC2086
	run --shape a e0 $a
	if [ "$rc" = "$want_rc" ] && grep -q -- "$pat" <<<"$err" && [ "$(shape_now)" = "$want" ]; then
		ok "shape_rejects_${a// /_}"
	else
		bad "shape_rejects_${a// /_}" "rc=$rc (want $want_rc) err='$err' now '$(shape_now)'"
	fi
done
run --shape a e0 delay 1ms
[ "$rc" = 0 ] && [ "$(shape_now)" = "rate=10000000 delay_ns=1000000 loss=5000000000000000 " ] &&
	ok shape_changes_only_what_is_given || bad shape_changes_only_what_is_given "'$(shape_now)'"
run --shape a nope rate 1mbit
[ "$rc" = 1 ] && grep -q "no interface 'nope'" <<<"$err" && ok shape_unknown_interface_named ||
	bad shape_unknown_interface_named "rc=$rc '$err'"
run --shape a e0 off
[ "$rc" = 0 ] && [ -z "$(shape_now)" ] && ok shape_off_removes || bad shape_off_removes "'$(shape_now)'"

# ---- 10. destroy while a program runs inside -------------------------------------
start sleeper 20 a sleep 15
spid=$(prog_pid sleeper)
for _ in $(seq 40); do
	[ "$(procs a)" = 1 ] && break
	sleep 0.05
done
np=$(procs a)
run -d a
if [ "$rc" = 1 ] && grep -qE "vimage 'a' has 1 process attached" <<<"$err"; then
	ok "destroy_refused_with_process_attached (processes=$np)"
else
	bad destroy_refused_with_process_attached "rc=$rc out='$out' err='$err' processes=$np"
fi
run -d -f a
if [ "$rc" = 0 ]; then
	run -l a
	[ "$rc" = 1 ] && ok destroy_forced_with_process_attached ||
		bad destroy_forced_with_process_attached "vimage a still listed: '$out'"
else
	bad destroy_forced_with_process_attached "rc=$rc '$err'"
fi
stop sleeper

# ---- 9c. the daemon killed mid-transfer ------------------------------------------
if [ -n "$DPID" ]; then
	as_user timeout 10 "$V" -c a >/dev/null
	as_user timeout 10 "$V" --ve a:e0 b:e1 >/dev/null
	as_user timeout 10 "$V" --addr a e0 10.0.1.1/24 >/dev/null
	as_user timeout 10 "$V" --addr b e1 10.0.1.2/24 >/dev/null
	as_user timeout 10 "$V" --up a e0 >/dev/null
	as_user timeout 10 "$V" --up b e1 >/dev/null
	start dkill_rx 20 b "$P/blast" recv 10.0.1.2 6080
	rxpid=$(prog_pid dkill_rx)
	wait_file "$T/log/dkill_rx.out" '^listening' 5
	start dkill_tx 20 a "$P/blast" send 10.0.1.2 6080
	wait_moving "$rxpid"
	moved=$(rchar "$rxpid")
	{
		kill -KILL "$DPID"
		t0=$SECONDS
		finish dkill_tx 6
		txrc=$rc
		finish dkill_rx 6
		rxrc=$rc
	} 2>/dev/null
	# The sender must fail; the receiver must end (its pair's end of
	# stream cannot be told from a FIN, so EOF is accepted).
	if [ "${moved:-0}" -gt 4000000 ] && [ "$txrc" = 1 ] && [ "$rxrc" -lt 124 ] &&
		grep -q '^send: ' "$T/log/dkill_tx.out" && grep -q '^recv: ' "$T/log/dkill_rx.out"; then
		ok "programs_end_when_daemon_killed ($(bgout dkill_tx | tail -1); $(bgout dkill_rx | tail -1); $((SECONDS - t0)) s)"
	else
		bad programs_end_when_daemon_killed "receiver read ${moved:-?} bytes; sender rc=$txrc '$(one_line "$(bgout dkill_tx)$(bgerr dkill_tx)")' receiver rc=$rxrc '$(one_line "$(bgout dkill_rx)$(bgerr dkill_rx)")'"
	fi
fi

# A new daemon (autostarted) for the end: one that shuts down cleanly.
if as_user timeout 30 "$V" -c after >/dev/null; then
	NPID=$(daemon_pid)
	[ -n "$NPID" ] && pids+=("$NPID")
	vin 10 after "$P/hello"
	[ "$rc" = 0 ] && [ "$out" = "hello after" ] && ok new_daemon_after_kill ||
		bad new_daemon_after_kill "rc=$rc '$(one_line "$out$err")'"
	as_user timeout 10 "$V" --shutdown >/dev/null
else
	bad new_daemon_after_kill "cannot create a vimage"
fi

echo "preload: ran for ${SECONDS} s"
echo "preload: $pass passed, $fail failed"
[ "$fail" = 0 ]
