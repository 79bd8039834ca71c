#!/bin/bash
# The Grafana dashboards and the Prometheus alert rules of packaging/,
# proven on real backends fed by a real collectd:
#  1. the committed dashboard JSON is what packaging/grafana/dashboards.py
#     makes; `promtool check rules` and `promtool test rules` pass;
#  2. inside a private network namespace, with the ephemeral range shrunk
#     to 400 ports: a program called leaky-app (copies of sockmaker) holds
#     CLOSE_WAIT sockets with unread bytes and gains more while the test
#     runs; 250 connections go to one destination (over the
#     PortExhaustionWarning of 50 %); a listener with backlog 5 never
#     accepts 7 clients (a full accept queue); TIME_WAIT on both sides;
#     three connections to a peer namespace whose link went down with
#     data in flight (stuck senders);
#  3. a real collectd with the built plugin writes to a real carbon-cache
#     (write_graphite), a real InfluxDB 1.x collectd listener (network)
#     and, through write_prometheus, to a real Prometheus that scrapes it
#     every second and evaluates the rules;
#  4. for each dashboard, tools/dashboard-queries.py fills the variables
#     and time macros as Grafana does and runs every panel's queries
#     against graphite-web's render API (Debian's graphite-web over the
#     test's whisper files), InfluxDB's /query and Prometheus' HTTP API:
#     each returns values, the leak panels name leaky-app, the queue panel
#     the listener's port, the port-use, full-queue and stuck-sender
#     panels the numbers made;
#  5. the rules fire in the real Prometheus during the real leak: the
#     CLOSE_WAIT leak (for leaky-app), the port exhaustion, the full
#     accept queue and the stuck senders (retransmitting, not
#     zero_window), seen in /api/v1/alerts. The rules are loaded with
#     their `for:` times cut to 5 s (a test copy; nothing else changes):
#     the shipped 5 to 30 minutes would outlast the test.
# Everything listens on the namespace's loopback only, on ports the kernel
# picked; data under a temporary folder; every wait is bounded.
source "$(dirname "$0")/lib.sh"
source "$TESTS_DIR/prometheus.sh"

top=$(cd "$TESTS_DIR/.." && pwd)
grafana=$top/packaging/grafana
rules=$top/packaging/prometheus/tcpstates.rules.yml

# --- 1. the committed files --------------------------------------------
need_root
"$TESTS_DIR/tools/deps.sh" dashboards
/usr/bin/python3 "$grafana/dashboards.py" --check ||
	fail "packaging/grafana/*.json differ from dashboards.py"
note "dashboards: the JSON matches dashboards.py"
promtool check rules "$rules" >/dev/null || fail "promtool check rules"
(cd "$top/packaging/prometheus" &&
	promtool test rules tcpstates.rules.test.yml) >/dev/null ||
	fail "promtool test rules tcpstates.rules.test.yml"
note "alert rules: promtool check rules and test rules pass"

ns=tcps-dash-$$
new_workdir work
host=tcps-dash
new_netns "$ns"
# The FIN_WAIT2 peers of the CLOSE_WAIT sockets go away after 1 s.
ip netns exec "$ns" sysctl -qw net.ipv4.tcp_fin_timeout=1
# A peer namespace over a veth pair: 10.77.0.1 here, 10.77.0.2 there.
# Its end goes down with data in flight: stuck senders. The address also
# lets write_prometheus listen: it resolves its Host with AI_ADDRCONFIG,
# which finds nothing where loopback is the only interface, and then
# opens no socket at all.
peer=tcps-dash-peer-$$
new_netns "$peer"
ip -n "$ns" link add tcpsd0 type veth peer name tcpsd1 netns "$peer"
ip -n "$ns" addr add 10.77.0.1/24 dev tcpsd0
ip -n "$peer" addr add 10.77.0.2/24 dev tcpsd1
ip -n "$ns" link set tcpsd0 up
ip -n "$peer" link set tcpsd1 up

# Prometheus (tests/prometheus.sh), scraping collectd's write_prometheus
# (up from step 3) every second, keeping its instance label (the host
# name, as the dashboard and the README's scrape config want) and
# evaluating the rules as shipped, but every `for:` 5 s (see the header).
# It listens before the other ports are picked, so none can be its own.
free_port exporter_port "$ns" tcp
# shellcheck disable=SC2034 # read by prometheus.sh
PROM_NETNS=$ns
mkdir "$work/prometheus"
sed -E 's/^( +for: ).*/\15s/' "$rules" >"$work/prometheus/tcpstates.rules.yml"
grep -q 'for: 5s' "$work/prometheus/tcpstates.rules.yml" ||
	fail "no for: to shorten"
PROM_RULES=$work/prometheus/tcpstates.rules.yml PROM_HONOR_LABELS=true \
	prom_start "$work/prometheus" "127.0.0.1:$exporter_port"
[[ $PROM_URL != *":$exporter_port" ]] ||
	fail "Prometheus took the port meant for write_prometheus"

free_port carbon_port "$ns" tcp
free_port carbon_query_port "$ns" tcp
free_port graphite_port "$ns" tcp
free_port influx_udp_port "$ns" udp
free_port influx_http_port "$ns" tcp
free_port influx_rpc_port "$ns" tcp
free_port flood_port "$ns" tcp
free_port queue_port "$ns" tcp
free_port tw_client_port "$ns" tcp
free_port tw_server_port "$ns" tcp

# The ports above came from the default range (32768-60999); the shrunk
# one lies below it, so that no client takes a listener's port.
ip netns exec "$ns" sysctl -qw net.ipv4.ip_local_port_range="20000 20399"

start_carbon "$ns" "$work/carbon" "$carbon_port" "$carbon_query_port"
start_influxdb "$ns" "$work/influxdb" "$influx_udp_port" \
	"$influx_http_port" "$influx_rpc_port"
wait_listening "$ns" tcp "$carbon_port" "$CARBON_PID" "$work/carbon/stdout" \
	carbon-cache
wait_listening "$ns" udp "$influx_udp_port" "$INFLUX_PID" \
	"$work/influxdb/stdout" "InfluxDB's collectd listener"
wait_listening "$ns" tcp "$influx_http_port" "$INFLUX_PID" \
	"$work/influxdb/stdout" "InfluxDB's HTTP API"

# --- 2. sockets --------------------------------------------------------
# holder_in NS LABEL PROGRAM ARGS...: PROGRAM (a sockmaker) in NS,
# holding its sockets until the test ends; waits for READY. Its stdin is
# the FIFO $work/LABEL.in, its output $work/LABEL.out.
holder_in()
{
	local in_ns=$1 label=$2 pid fd
	shift 2
	mkfifo "$work/$label.in"
	ip netns exec "$in_ns" "$@" <"$work/$label.in" >"$work/$label.out" \
		2>"$work/$label.err" &
	pid=$!
	track_pid "$pid"
	# Held open until the test ends (the FIFO's writing end).
	# shellcheck disable=SC2034
	exec {fd}>"$work/$label.in"
	for _ in $(seq 300); do
		grep -q READY "$work/$label.out" 2>/dev/null && return 0
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	cat "$work/$label.err" >&2
	fail "$label did not get ready"
}

holder()
{
	holder_in "$ns" "$@"
}

cp "$BUILD/sockmaker" "$work/leaky-app"
leak()
{
	holder "leak$1" "$work/leaky-app" --close-wait 10 \
		--close-wait-bytes 7 --v6-every 0 --hold 300
}
leak 1
holder flood "$BUILD/sockmaker" --established 250 --port "$flood_port" \
	--v6-every 0 --hold 300
holder queue "$BUILD/sockmaker" --queue 7 --backlog 5 --port "$queue_port" \
	--hold 300
holder twc "$BUILD/sockmaker" --time-wait 20 --port "$tw_client_port" \
	--v6-every 0 --hold 300
holder tws "$BUILD/sockmaker" --server-time-wait 8 --port "$tw_server_port" \
	--v6-every 0 --hold 300
# Three clients send 3000 bytes each to a peer that has gone: their
# retransmit timers fire again and again (RetransmitThreshold 1 below).
holder_in "$peer" server "$BUILD/sockmaker" --queue 0 --bind 10.77.0.2 \
	--port 7000 --backlog 16 --hold 300
holder client "$BUILD/sockmaker" --connect 10.77.0.2:7000 --clients 3 \
	--send-on-input 3000 --hold 300
ip -n "$peer" link set tcpsd1 down
echo send >"$work/client.in"
wait_until 10 grep -q SENT "$work/client.out" ||
	fail "the clients did not send"

# --- 3. collectd and Prometheus ----------------------------------------
{
	collectd_conf "$work" "$host" --no-csv
	downstream_writers_conf "$carbon_port" "$influx_udp_port"
	cat <<CONF
LoadPlugin write_prometheus
<Plugin write_prometheus>
  Host "127.0.0.1"
  Port "$exporter_port"
</Plugin>
PluginDir "$BUILD"
LoadPlugin tcpstates
<Plugin tcpstates>
  ProcessScanBudget 0
  PortExhaustionWarning 50
  RetransmitThreshold 1
</Plugin>
CONF
} >"$work/collectd.conf"
start_collectd "$ns" "$work"
wait_listening "$ns" tcp "$exporter_port" "$COLLECTD_PID" \
	"$work/collectd.log" "collectd's write_prometheus"

whisper=$work/carbon/storage/whisper/$host
leak_file=$whisper/tcpstates_proc_close_wait-host/tcp_connections-leaky-app.wsp
has_leak_file()
{
	collectd_alive "$work"
	[[ -f $leak_file ]]
}
wait_until 30 has_leak_file || {
	ls -R "$work/carbon/storage/whisper" >&2 || true
	fail "no whisper file $leak_file after 30 s"
}
# The leak grows while Prometheus watches: 10 sockets more every 2 s,
# once it has seen the first 10.
prom_wait 30 'collectd_tcpstates_proc_close_wait_tcp_connections{type="leaky-app"}' ||
	{ tail -n 20 "$work/prometheus/prometheus.log" >&2
	  fail "Prometheus has no leaky-app"; }
for i in 2 3 4; do
	sleep 2
	leak "$i"
done
leaked=$(ip netns exec "$ns" ss -tanpH state close-wait |
	grep -c '(("leaky-app",' || true)
[[ $leaked -eq 40 ]] || fail "ss sees $leaked CLOSE_WAIT sockets of leaky-app, not 40"
note "leaky-app holds $leaked CLOSE_WAIT sockets (ss -tanp)"

start_graphite_web "$ns" "$work/graphite-web" "$work/carbon/storage/whisper" \
	"$graphite_port"
wait_listening "$ns" tcp "$graphite_port" "$GRAPHITE_PID" \
	"$work/graphite-web/stdout" graphite-web
# A few more reads for every backend.
sleep 4

# --- 4. every panel of every dashboard ---------------------------------
expect=("CLOSE_WAIT sockets by process group=leaky-app"
	"CLOSE_WAIT sockets by process group>=40"
	"Oldest CLOSE_WAIT socket by process group=leaky-app"
	"Unread bytes in CLOSE_WAIT by process group=leaky-app"
	"Unread bytes in CLOSE_WAIT by process group>=280"
	"Busiest destination, % of usable ports>=50"
	"TIME_WAIT by side=client"
	"TIME_WAIT by side=server"
	"Full accept queues>=1"
	"Accept queue against backlog, busy ports=$queue_port queue"
	"Accept queue against backlog, busy ports=$queue_port backlog"
	"Long-lived states>=250"
	"Stuck senders=retransmitting"
	"Stuck senders>=3"
	"Unacknowledged bytes>=9000")
panels()
{
	local board=$1 url=$2
	ip netns exec "$ns" /usr/bin/python3 "$TESTS_DIR/tools/dashboard-queries.py" \
		"$grafana/tcpstates-$board.json" "$url" "$host" host \
		"${expect[@]}" >"$work/panels-$board" 2>&1
}
# dashboard BACKEND URL: every panel's queries, retried for 20 s while
# the backend catches up.
dashboard()
{
	wait_until 20 panels "$1" "$2" ||
		{ cat "$work/panels-$1" >&2; fail "the $1 dashboard (above)"; }
	note "$1 dashboard:"
	sed 's/^/  /' "$work/panels-$1"
}
dashboard graphite "http://127.0.0.1:$graphite_port"
dashboard influxdb "http://127.0.0.1:$influx_http_port"
dashboard prometheus "$PROM_URL"

# --- 5. the alert rules fire -------------------------------------------
# Prometheus' own ALERTS series, one per firing alert and its labels.
for alert in 'alertname="TcpstatesCloseWaitLeak",type="leaky-app",tcpstates_proc_close_wait="host"' \
	'alertname="TcpstatesEphemeralPortsExhausted",tcpstates_ephemeral="host"' \
	'alertname="TcpstatesAcceptQueueFull",tcpstates_listen="host"' \
	'alertname="TcpstatesStuckSenders",type="retransmitting",tcpstates_stuck="host"'; do
	collectd_alive "$work"
	prom_wait 30 "ALERTS{alertstate=\"firing\",instance=\"$host\",$alert}" || {
		prom_query 'ALERTS' >&2
		fail "alert not firing: $alert"
	}
	note "firing in Prometheus: $alert"
done
[[ -z $(prom_query 'ALERTS{alertname="TcpstatesStuckSenders",type="zero_window"}') ]] ||
	fail "TcpstatesStuckSenders fires for zero_window with no such socket"

if grep -q "tcpstates plugin" "$work/collectd.log"; then
	cat "$work/collectd.log"
	fail "the plugin logged a problem"
fi

# --- stop, each by its PID ---------------------------------------------
stop_collectd "$work"
prom_stop
stop_pid "$GRAPHITE_PID" 10
stop_pid "$CARBON_PID" 10
[[ $STOP_RC -eq 0 || $STOP_RC -eq 143 ]] ||
	fail "carbon-cache exited with $STOP_RC"
stop_pid "$INFLUX_PID" 10
echo "dashboards: ok"
