#!/bin/bash
# Prometheus through collectd, with real parts: inside a private network
# namespace (the daemon's own, "host" in every value) and one configured
# <Namespace "blue">, sockmaker holds sockets in known states (a listener
# with established connections, a listener whose accept queue holds
# clients, TIME_WAIT, and 5 CLOSE_WAIT sockets held by a process named
# leaky-app); a real collectd loads the built plugin with every value set
# on and collectd's write_prometheus; a real Prometheus (tests/prometheus.sh)
# scrapes it. Through Prometheus's HTTP API:
#   - every family of every value set is there;
#   - every series of a collectd_tcpstates* family has exactly the labels
#     __name__, instance and job (Prometheus's), exported_instance
#     (collectd's host, renamed by Prometheus), the label named after the
#     plugin and type, nothing else;
#   - the plugin label is always a namespace name (host or blue), and type
#     holds only the kind of object its set is about: states in the
#     states families, ports in the per-port families, group names in the
#     process families, the documented names elsewhere;
#   - the leak's group (leaky-app, 5 sockets) and blue's sockets appear;
#   - sum by (type) of the states family has the 12 states only, and its
#     stable states equal what ss counts in both namespaces.
# Everything listens on the namespace's loopback, on ports the kernel
# picked; every wait is bounded.
source "$(dirname "$0")/lib.sh"
source "$TESTS_DIR/prometheus.sh"
need_root
"$TESTS_DIR/tools/deps.sh" prometheus

ns=tcps-prom-$$
blue=tcps-prom-blue-$$
host=tcps-prom
new_workdir work
new_netns "$ns"
new_netns "$blue"
PROM_NETNS=$ns
prom_addrconfig
cp "$BUILD/sockmaker" "$work/leaky-app"
# Ports of the test's own listeners (the namespace is private: free).
db_port=5432
queue_port=6379

# hold NS NAME PROGRAM ARGS...: PROGRAM in NS holds its sockets until the
# test ends; waits for READY.
hold()
{
	local netns=$1 name=$2 fd
	shift 2
	mkfifo "$work/$name.in"
	ip netns exec "$netns" "$@" <"$work/$name.in" >"$work/$name.out" \
		2>"$work/$name.err" &
	track_pid $!
	# Held open until the test ends (the FIFO's writing end).
	# shellcheck disable=SC2034
	exec {fd}>"$work/$name.in"
	for _ in $(seq 100); do
		grep -q READY "$work/$name.out" 2>/dev/null && return 0
		sleep 0.1
	done
	cat "$work/$name.err" >&2
	fail "$name did not get ready"
}

hold "$ns" db "$BUILD/sockmaker" --established 3 --port "$db_port"
hold "$ns" queue "$BUILD/sockmaker" --queue 3 --backlog 8 \
	--port "$queue_port"
hold "$ns" tw "$BUILD/sockmaker" --time-wait 2
hold "$ns" leak "$work/leaky-app" --close-wait 5 --close-wait-bytes 3
hold "$blue" blue "$BUILD/sockmaker" --established 2

write_port=$(prom_free_port)
{
	collectd_conf "$work" "$host" --no-csv
	cat <<CONF
LoadPlugin write_prometheus
<Plugin write_prometheus>
  Host "127.0.0.1"
  Port "$write_port"
</Plugin>
PluginDir "$BUILD"
LoadPlugin tcpstates
<Plugin tcpstates>
  ProcessStates "CLOSE_WAIT" "ESTABLISHED"
  LeakThreshold 1
  LocalPort $db_port
  RemotePort $db_port
  ListeningPorts true
  AllPortsSummary true
  <Namespace "blue">
    Path "/var/run/netns/$blue"
  </Namespace>
</Plugin>
CONF
} >"$work/collectd.conf"
start_collectd "$ns" "$work"
mkdir "$work/prometheus"
prom_start "$work/prometheus" "127.0.0.1:$write_port"
note "collectd's write_prometheus on 127.0.0.1:$write_port," \
	"Prometheus on $PROM_URL (pid $PROM_PID)"

# ---- one helper per check ----

# wait_for_values: until the leak's group and blue's states are scraped.
wait_for_values()
{
	local leak='collectd_tcpstates_proc_close_wait_tcp_connections{tcpstates_proc_close_wait="host",type="leaky-app"}'
	local blue_states='collectd_tcpstates_tcp_connections{tcpstates="blue"}'
	if ! prom_wait 60 "$leak" || ! prom_wait 30 "$blue_states"; then
		collectd_alive "$work"
		tail -n 20 "$work/collectd.log" "$work/prometheus/prometheus.log" >&2
		fail "Prometheus has no values of the leak or of blue"
	fi
	# One more scrape after the slowest value set's first read.
	sleep 3
}

# series_file: every collectd_tcpstates* series, one a line, in
# $work/series.
series_file()
{
	prom_query '{__name__=~"collectd_tcpstates.*"}' >"$work/series"
	[[ -s $work/series ]] || fail "no collectd_tcpstates series"
	note "series: $(wc -l <"$work/series")," \
		"families: $(grep -o '__name__="[^"]*"' "$work/series" |
			sort -u | wc -l)"
}

# check_families: every family of every value set is there.
check_families()
{
	local family missing=()
	for family in tcp_connections all_tcp_connections \
		proc_close_wait_tcp_connections proc_close_wait_duration_seconds \
		proc_close_wait_bytes proc_established_tcp_connections \
		proc_established_duration_seconds proc_established_bytes \
		local_established_tcp_connections \
		remote_established_tcp_connections local_listen_tcp_connections \
		listen_queue_queue_length listen_backlog_queue_length \
		listen_syn_recv_tcp_connections listen_count ephemeral_count \
		ephemeral_percent timewait_tcp_connections timewait_percent \
		sysctl_gauge sysctl_count sysctl_duration_seconds \
		stuck_tcp_connections stuck_bytes; do
		grep -q "__name__=\"collectd_tcpstates_$family\" " \
			"$work/series" || missing+=("$family")
	done
	[[ ${#missing[@]} -eq 0 ]] ||
		fail "families missing: ${missing[*]/#/collectd_tcpstates_}"
}

# check_labels: the labels of every series and what each may hold, as
# the header says. Prints nothing and succeeds, or names the series.
check_labels()
{
	/usr/bin/python3 - "$work/series" "$host" "$write_port" <<'PY' ||
import re, sys

series_file, host, write_port = sys.argv[1:]
states = {"ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2",
          "TIME_WAIT", "CLOSED", "CLOSE_WAIT", "LAST_ACK", "LISTEN",
          "CLOSING"}
lower = "|".join(sorted(s.lower() for s in states))
named = {
    "tcpstates_ephemeral": {"ports_available", "ports_in_use",
                            "busiest_destination",
                            "destinations_over_warning"},
    "tcpstates_timewait": {"client", "server", "of_max_tw_buckets"},
    "tcpstates_sysctl": {"tcp_tw_reuse", "tcp_max_tw_buckets",
                         "tcp_fin_timeout", "ip_local_port_range_low",
                         "ip_local_port_range_high"},
    "tcpstates_listen": {"full_queues", "listening_ports"},
    "tcpstates_stuck": {"retransmitting", "zero_window", "unacknowledged"},
}
group = re.compile(r"^(-other|-unknown|[A-Za-z0-9_][A-Za-z0-9_-]{0,62})$")


def kind_ok(plugin, value):
    if plugin == "tcpstates":
        return value in states or value == "UNKNOWN"
    if plugin == "tcpstates_all":
        return value in states
    if re.fullmatch(r"tcpstates_proc_(%s)" % lower, plugin):
        return (group.match(value) is not None and value not in states
                and not value.isdigit())
    if re.fullmatch(r"tcpstates_(local|remote)_(%s)" % lower, plugin) or \
            plugin in ("tcpstates_listen_queue", "tcpstates_listen_backlog",
                       "tcpstates_listen_syn_recv"):
        return value.isdigit() and 0 < int(value) < 65536
    if plugin in named:
        return value in named[plugin]
    return False


bad = []
for line in open(series_file):
    labels = dict(re.findall(r'(\w+)="([^"]*)"', line))
    name = labels.pop("__name__")
    fixed = {k: labels.pop(k, None) for k in
             ("instance", "job", "exported_instance", "type")}
    if (fixed["instance"] != "127.0.0.1:" + write_port
            or fixed["job"] != "collectd"
            or fixed["exported_instance"] != host or fixed["type"] is None
            or len(labels) != 1):
        bad.append("labels: " + line.strip())
        continue
    plugin, netns = labels.popitem()
    if not name.startswith("collectd_" + plugin + "_"):
        bad.append("family and plugin label differ: " + line.strip())
    elif netns not in ("host", "blue"):
        bad.append("plugin label is no namespace: " + line.strip())
    elif not kind_ok(plugin, fixed["type"]):
        bad.append("type holds another kind: " + line.strip())
for b in bad[:20]:
    print(b)
sys.exit(1 if bad else 0)
PY
		fail "series with the wrong labels (above)"
}

# value_of EXPR: the value of the one series EXPR gives.
value_of()
{
	local lines
	lines=$(prom_query "$1")
	[[ $(wc -l <<<"$lines") -eq 1 && -n $lines ]] ||
		fail "$1: expected one series, got: $lines"
	echo "${lines%% *}"
}

# check_leak: leaky-app's 5 CLOSE_WAIT sockets and their 15 unread
# bytes, in the host namespace's process family, and its WARNING logged
# under the same identifier.
check_leak()
{
	local sel='tcpstates_proc_close_wait="host",type="leaky-app"'
	num_eq "$(value_of "collectd_tcpstates_proc_close_wait_tcp_connections{$sel}")" 5 ||
		fail "leaky-app: not 5 CLOSE_WAIT sockets"
	num_eq "$(value_of "collectd_tcpstates_proc_close_wait_bytes{$sel}")" 15 ||
		fail "leaky-app: not 15 unread bytes"
	grep -q "Notification: severity = WARNING, host = $host, plugin = tcpstates_proc_close_wait, plugin_instance = host, type = tcp_connections, type_instance = leaky-app" \
		"$work/collectd.log" || fail "no WARNING for leaky-app under its value's name"
}

# ss_state NS STATE: sockets in STATE (a ss_name_states name) in NS.
ss_state()
{
	ss_states_by_port "$1" | awk -v s="$2" '$3 == s { n++ } END { print n + 0 }'
}

# check_state_sums: sum by (type) of the states family holds the 12
# states and nothing else, and the stable ones equal ss in both
# namespaces together.
check_state_sums()
{
	local sums state want got
	sums=$(prom_query 'sum by (type) (collectd_tcpstates_tcp_connections)')
	[[ $(wc -l <<<"$sums") -eq 12 ]] ||
		fail "sum by (type) has $(wc -l <<<"$sums") series: $sums"
	for state in "${STATE_NAMES[@]}" UNKNOWN; do
		grep -q " type=\"$state\"$" <<<"$sums" ||
			fail "sum by (type) lacks $state: $sums"
	done
	for state in ESTABLISHED CLOSE_WAIT LISTEN; do
		want=$(($(ss_state "$ns" "$state") + $(ss_state "$blue" "$state")))
		got=$(grep " type=\"$state\"$" <<<"$sums" | cut -d' ' -f1)
		num_eq "$got" "$want" || fail "$state: Prometheus $got, ss $want"
	done
	note "sum by (type): ESTABLISHED $(grep ' type="ESTABLISHED"$' <<<"$sums" | cut -d' ' -f1)," \
		"CLOSE_WAIT $(grep ' type="CLOSE_WAIT"$' <<<"$sums" | cut -d' ' -f1)"
}

# check_blue: blue's own sockets under its name, none of the host's.
check_blue()
{
	local want
	want=$(ss_state "$blue" ESTABLISHED)
	num_eq "$(value_of 'collectd_tcpstates_tcp_connections{tcpstates="blue",type="ESTABLISHED"}')" "$want" ||
		fail "blue: ESTABLISHED is not $want"
	[[ -z $(prom_query 'collectd_tcpstates_proc_close_wait_tcp_connections{tcpstates_proc_close_wait="blue",type="leaky-app"}') ]] ||
		fail "blue reports the host's leaky-app"
}

# check_ports: the per-port families hold the configured and listening
# ports, with ss's counts.
check_ports()
{
	local want
	want=$(ss_states_by_port "$ns" | awk -v p="$db_port" '$1 == p && $3 == "ESTABLISHED" { n++ } END { print n + 0 }')
	num_eq "$(value_of "collectd_tcpstates_local_established_tcp_connections{tcpstates_local_established=\"host\",type=\"$db_port\"}")" "$want" ||
		fail "local port $db_port: ESTABLISHED is not $want"
	num_eq "$(value_of "collectd_tcpstates_listen_queue_queue_length{tcpstates_listen_queue=\"host\",type=\"$queue_port\"}")" 3 ||
		fail "listener $queue_port: accept queue is not 3"
}

wait_for_values
collectd_alive "$work"
series_file
check_families
check_labels
check_leak
check_blue
check_ports
check_state_sums
prom_stop
stop_collectd "$work"
echo "prometheus: ok"
