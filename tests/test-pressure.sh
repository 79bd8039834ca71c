#!/bin/bash
# Pressure signals end to end. A real collectd loads the built plugin in a
# private network namespace; values come from the stock csv plugin,
# notifications from the stock logfile plugin; everything is compared
# with ss and the namespace's own sysctls.
#  1. ephemeral ports: the range shrunk to 200 ports, 150 connections
#     toward A and 10 toward B: the busiest destination's share is exact,
#     the WARNING names A and not B, OKAY once A's sockets are reset;
#     TIME_WAIT split into client and server side as ss shows it.
#  2. accept queue: a listener with backlog 5 that never accepts and 7
#     clients: queue and backlog equal ss's Recv-Q and Send-Q, the
#     full-queue WARNING, OKAY once the listener is closed.
#  3. dead peer: a second namespace over a veth pair; its end goes down
#     with data in flight: the retransmitting connections are counted.
source "$(dirname "$0")/lib.sh"
need_root

ns=tcps-press-$$
peer=tcps-peer-$$
new_workdir work
host=tcps-pressure
new_netns "$ns"
new_netns "$peer"

port_low=40000
port_high=40199
range=$((port_high - port_low + 1))
port_a=5001        # the flood's destination
port_b=5002        # a few connections only
port_queue=5003    # the listener that never accepts
port_tw_client=5004
port_tw_server=5005

# Non-default values, so that reading the host's sysctls would show.
# tcp_retries2 15: a connection to a dead peer lives ~15 minutes, far
# beyond this test.
ip netns exec "$ns" sysctl -qw \
	net.ipv4.ip_local_port_range="$port_low $port_high" \
	net.ipv4.tcp_max_tw_buckets=5000 net.ipv4.tcp_fin_timeout=7 \
	net.ipv4.tcp_tw_reuse=0 net.ipv4.tcp_retries2=15

# The dead peer's side: 10.77.0.1 here, 10.77.0.2 in $peer.
ip -n "$ns" link add tcpsp0 type veth peer name tcpsp1 netns "$peer"
ip -n "$ns" addr add 10.77.0.1/24 dev tcpsp0
ip -n "$peer" addr add 10.77.0.2/24 dev tcpsp1
ip -n "$ns" link set tcpsp0 up
ip -n "$peer" link set tcpsp1 up

{
	collectd_conf "$work" "$host"
	cat <<CONF
PluginDir "$BUILD"
LoadPlugin tcpstates
<Plugin tcpstates>
  PortExhaustionWarning 50
  RetransmitThreshold 1
</Plugin>
CONF
} >"$work/collectd.conf"
start_collectd "$ns" "$work"

# value SET TYPE-INSTANCE: the newest value of plugin tcpstates_SET in
# the daemon's namespace (plugin instance host).
value()
{
	csv_value "$work" "$host" "tcpstates_$1-host" "$2"
}

has_value()
{
	collectd_alive "$work"
	[[ -n $(value "$1" "$2") ]]
}

# value_is PLUGIN-INSTANCE TYPE-INSTANCE NUMBER
value_is()
{
	collectd_alive "$work"
	num_eq "$(value "$1" "$2")" "$3"
}

wait_until 20 has_value listen count-listening_ports ||
	{ cat "$work/collectd.log"; fail "no values from collectd"; }

# notified SEVERITY TEXT: how many notifications of SEVERITY whose line
# holds TEXT the logfile plugin printed.
notified()
{
	grep "Notification: severity = $1," "$work/collectd.log" |
		grep -cF -- "$2" || true
}

was_notified()
{
	collectd_alive "$work"
	[[ $(notified "$1" "$2") -ge 1 ]]
}

wait_notified()
{
	wait_until 20 was_notified "$1" "$2" ||
		{ cat "$work/collectd.log"; fail "no $1 notification: $2"; }
}

# stable LABEL SS-CMD CSV-CMD: SS-CMD's output must not change while
# collectd reads at least twice; then CSV-CMD's output must equal it.
stable()
{
	local label=$1 before got after
	for _ in 1 2 3 4 5; do
		before=$($2)
		sleep 2.5
		got=$($3)
		after=$($2)
		[[ $before == "$after" ]] || continue
		if [[ $got != "$before" ]]; then
			diff <(echo "$before") <(echo "$got") >&2 || true
			fail "$label: collectd differs from ss (< ss, > collectd)"
		fi
		note "$label: $(tr '\n' ' ' <<<"$got")"
		return 0
	done
	fail "$label: sockets kept changing; no stable comparison"
}

# ---- 1. ephemeral ports and TIME_WAIT ----

# What the plugin must find, from ss: non-listening sockets whose local
# port is ephemeral, grouped by (local address, peer address:port).
ss_ephemeral()
{
	ip netns exec "$ns" ss -tanH | awk -v lo=$port_low -v hi=$port_high \
		-v range=$range '
		$1 != "LISTEN" {
			n = split($4, a, ":"); port = a[n] + 0
			addr = substr($4, 1, length($4) - length(a[n]) - 1)
			if (port >= lo && port <= hi) { used++; c[addr " " $5]++ }
		}
		END {
			for (k in c) if (c[k] > best) { best = c[k]; key = k }
			printf "in_use %d busiest %d percent %.6f\n", used,
				best, 100 * best / range
		}'
}

csv_ephemeral()
{
	local busiest
	busiest=$(value ephemeral count-busiest_destination)
	awk -v u="$(value ephemeral count-ports_in_use)" -v b="$busiest" \
		-v p="$(value ephemeral percent-busiest_destination)" \
		'BEGIN { printf "in_use %d busiest %d percent %.6f\n", u, b, p }'
}

start_sockmaker "$ns" "$work" --established 150 --port $port_a --v6-every 0
flood_a=("$SOCKMAKER_PID" "$SOCKMAKER_FD")
mkdir "$work/b"
start_sockmaker "$ns" "$work/b" --established 10 --port $port_b --v6-every 0
flood_b=("$SOCKMAKER_PID" "$SOCKMAKER_FD")

to_a="toward 127.0.0.1:$port_a from 127.0.0.1"
wait_notified WARNING "$to_a"
stable "ephemeral, 150 toward A" ss_ephemeral csv_ephemeral
toward_a=$(ip netns exec "$ns" ss -tanH dst "127.0.0.1:$port_a" |
	awk -v lo=$port_low -v hi=$port_high \
		'{ n = split($4, a, ":"); if (a[n] >= lo && a[n] <= hi) c++ }
		END { print c + 0 }')
[[ $toward_a -eq 150 ]] || fail "ss shows $toward_a sockets toward A, not 150"
got=$(value ephemeral percent-busiest_destination)
num_eq "$got" "$(awk -v n=$toward_a -v r=$range 'BEGIN { print 100 * n / r }')" ||
	fail "busiest destination is $got%, not 100 * $toward_a / $range"
note "busiest destination: $got% = 100 * $toward_a / $range"
value_is ephemeral count-ports_available $range ||
	fail "ports_available is $(value ephemeral count-ports_available)"
value_is ephemeral count-destinations_over_warning 1 ||
	fail "destinations over warning: not 1"
[[ $(notified WARNING "$to_a") -eq 1 ]] || fail "A warned more than once"
[[ $(notified WARNING "127.0.0.1:$port_b ") -eq 0 ]] ||
	fail "destination B (10 of $range ports) was warned about"
grep "Notification: severity = WARNING" "$work/collectd.log" |
	grep -F "$to_a" | grep -qF "150 of $range in use" ||
	fail "the WARNING does not give the ports in use"
note "WARNING: $(grep -F "$to_a" "$work/collectd.log" | sed 's/.*message = //')"

# Sysctls, as this namespace has them.
for pair in tcp_tw_reuse:gauge-tcp_tw_reuse \
	tcp_max_tw_buckets:count-tcp_max_tw_buckets \
	tcp_fin_timeout:duration-tcp_fin_timeout; do
	want=$(ip netns exec "$ns" sysctl -n "net.ipv4.${pair%%:*}")
	num_eq "$(value sysctl "${pair#*:}")" "$want" ||
		fail "sysctl ${pair%%:*}: $(value sysctl "${pair#*:}"), not $want"
done
num_eq "$(value sysctl gauge-ip_local_port_range_low)" $port_low ||
	fail "ip_local_port_range low is wrong"
num_eq "$(value sysctl gauge-ip_local_port_range_high)" $port_high ||
	fail "ip_local_port_range high is wrong"
note "sysctls equal the namespace's"

# Reset A's sockets: they vanish at once, and OKAY follows.
stop_sockmaker_saved "${flood_a[@]}"
[[ -z $(ip netns exec "$ns" ss -tanH dst "127.0.0.1:$port_a") ]] ||
	fail "A's sockets did not vanish"
wait_notified OKAY "$to_a"
note "OKAY: $(grep "severity = OKAY" "$work/collectd.log" |
	grep -F "$to_a" | sed 's/.*message = //')"
stable "ephemeral, 10 toward B" ss_ephemeral csv_ephemeral
[[ $(csv_ephemeral) == "in_use 10 busiest 10 "* ]] ||
	fail "expected B's 10 sockets alone: $(csv_ephemeral)"
[[ $(notified WARNING "127.0.0.1:$port_b ") -eq 0 ]] ||
	fail "destination B was warned about"
stop_sockmaker_saved "${flood_b[@]}"

# TIME_WAIT: client side (the client closed first; the listener is gone)
# and server side (the server closed first; its port still listens).
mkdir "$work/twc" "$work/tws"
start_sockmaker "$ns" "$work/twc" --time-wait 20 --port $port_tw_client \
	--v6-every 0
tw_client=("$SOCKMAKER_PID" "$SOCKMAKER_FD")
start_sockmaker "$ns" "$work/tws" --server-time-wait 8 \
	--port $port_tw_server --v6-every 0
tw_server=("$SOCKMAKER_PID" "$SOCKMAKER_FD")

# "server N client N percent P": TIME_WAIT by whether a listener owns
# the local port, and their share of tcp_max_tw_buckets.
ss_timewait()
{
	local listening
	listening=$(ip netns exec "$ns" ss -tlnH |
		awk '{ n = split($4, a, ":"); print a[n] }' | tr '\n' ' ')
	ip netns exec "$ns" ss -tanH state time-wait | awk -v l="$listening" '
		BEGIN { split(l, p, " "); for (i in p) listen[p[i]] = 1 }
		{ n = split($3, a, ":"); if (a[n] in listen) s++; else c++ }
		END { printf "server %d client %d percent %.6f\n", s, c,
			100 * (s + c) / 5000 }'
}

csv_timewait()
{
	awk -v s="$(value timewait tcp_connections-server)" \
		-v c="$(value timewait tcp_connections-client)" \
		-v p="$(value timewait percent-of_max_tw_buckets)" \
		'BEGIN { printf "server %d client %d percent %.6f\n", s, c, p }'
}

stable "TIME_WAIT split" ss_timewait csv_timewait
split=$(csv_timewait)
[[ $split == "server 8 client 20 "* ]] ||
	fail "expected 8 server-side and 20 client-side TIME_WAITs: $split"
# TIME_WAIT sockets hold their ephemeral port too.
stable "ephemeral, with TIME_WAIT" ss_ephemeral csv_ephemeral
stop_sockmaker_saved "${tw_server[@]}"
stop_sockmaker_saved "${tw_client[@]}"

# ---- 2. accept queue ----

mkdir "$work/queue"
start_sockmaker "$ns" "$work/queue" --queue 7 --backlog 5 --port $port_queue
queue=("$SOCKMAKER_PID" "$SOCKMAKER_FD")

# "queue Q backlog B syn_recv S full F", Q and B being Recv-Q and Send-Q
# of the LISTEN socket.
ss_listener()
{
	local q b s f
	read -r q b < <(ip netns exec "$ns" ss -tlnH \
		"sport = :$port_queue" | awk '{ print $2, $3 }')
	s=$(ip netns exec "$ns" ss -tanH state syn-recv \
		"sport = :$port_queue" | wc -l)
	f=$(ip netns exec "$ns" ss -tlnH | awk '$2 > $3 { c++ }
		END { print c + 0 }')
	echo "queue $q backlog $b syn_recv $s full $f"
}

csv_listener()
{
	local p=$port_queue
	awk -v q="$(value listen_queue "queue_length-$p")" \
		-v b="$(value listen_backlog "queue_length-$p")" \
		-v s="$(value listen_syn_recv "tcp_connections-$p")" \
		-v f="$(value listen count-full_queues)" \
		'BEGIN { printf "queue %d backlog %d syn_recv %d full %d\n",
			q, b, s, f }'
}

wait_notified WARNING "listener on port $port_queue: accept queue full"
# Named as the value it is about.
[[ $(notified WARNING "plugin = tcpstates_listen_queue, plugin_instance = host, type = queue_length, type_instance = $port_queue,") -eq 1 ]] ||
	fail "the full-queue WARNING is not under tcpstates_listen_queue-host/queue_length-$port_queue"
stable "accept queue" ss_listener csv_listener
[[ $(csv_listener) == "queue 6 backlog 5 syn_recv 0 full 1" ]] ||
	fail "expected a queue of backlog + 1 = 6: $(csv_listener)"
note "WARNING: $(grep -F "listener on port $port_queue" \
	"$work/collectd.log" | sed 's/.*message = //')"
stop_sockmaker_saved "${queue[@]}"
wait_notified OKAY "listener on port $port_queue"
note "OKAY: $(grep "severity = OKAY" "$work/collectd.log" |
	grep -F "listener on port $port_queue" | sed 's/.*message = //')"

# ---- 3. dead peer ----

mkdir "$work/server" "$work/client"
start_sockmaker "$peer" "$work/server" --queue 0 --bind 10.77.0.2 \
	--port 7000 --backlog 16
start_sockmaker "$ns" "$work/client" --connect 10.77.0.2:7000 --clients 3 \
	--send-on-input 3000
client=("$SOCKMAKER_PID" "$SOCKMAKER_FD")
value_is stuck tcp_connections-retransmitting 0 ||
	fail "retransmitting connections before the peer went away"

ip -n "$peer" link set tcpsp1 down
echo send >&"${client[1]}"
wait_until 10 grep -q SENT "$work/client/smk.out" ||
	fail "the clients did not send"

# "retransmitting R unacked U": ESTABLISHED sockets whose retransmit
# timer has fired more than RetransmitThreshold (1) times; the Send-Q of
# every socket but listeners, less the SYN or FIN that some states count.
ss_stuck()
{
	ip netns exec "$ns" ss -tanoH | awk '
		$1 == "ESTAB" && match($0, /timer:\(on,[^,]*,[0-9]+\)/) {
			t = substr($0, RSTART, RLENGTH); sub(/\)$/, "", t)
			sub(/.*,/, "", t); if (t + 0 > 1) r++
		}
		$1 ~ /^(SYN-SENT|FIN-WAIT-1|CLOSING|LAST-ACK)$/ && $3 > 0 { u-- }
		$1 != "LISTEN" { u += $3 }
		END { printf "retransmitting %d unacked %d\n", r, u }'
}

csv_stuck()
{
	awk -v r="$(value stuck tcp_connections-retransmitting)" \
		-v u="$(value stuck bytes-unacknowledged)" \
		'BEGIN { printf "retransmitting %d unacked %d\n", r, u }'
}

wait_until 20 value_is stuck tcp_connections-retransmitting 3 ||
	fail "retransmitting is $(value stuck tcp_connections-retransmitting), not 3"
stable "dead peer" ss_stuck csv_stuck
unacked=$(value stuck bytes-unacknowledged)
awk -v u="$unacked" 'BEGIN { exit !(u >= 3 * 3000) }' ||
	fail "unacknowledged bytes $unacked < 9000 in flight"

# Reserved ports are not ephemeral: the range shrinks by 10.
ip netns exec "$ns" sysctl -qw net.ipv4.ip_local_reserved_ports=40190-40199
wait_until 10 value_is ephemeral count-ports_available $((range - 10)) ||
	fail "ports_available is $(value ephemeral count-ports_available)" \
		"with 10 of $range ports reserved"
note "10 ports reserved: $(value ephemeral count-ports_available) available"

if grep "tcpstates plugin:" "$work/collectd.log"; then
	fail "the plugin logged a problem"
fi
stop_sockmaker_saved "${client[@]}"
stop_collectd "$work"
echo "pressure: ok"
