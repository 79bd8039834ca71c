#!/bin/bash
# Downstream end to end, with real receivers: inside a private network
# namespace, sockmaker holds sockets in known states, a real collectd loads
# the built plugin and sends
#   (a) with write_graphite to a real carbon-cache: the whisper files hold
#       the values ss shows;
#   (b) with the network plugin to a real InfluxDB 1.x collectd listener:
#       a query returns the same values with tags host, instance, type,
#       type_instance;
#   (c) two processes with hostile names (dots, a slash, spaces, quotes, a
#       newline) holding CLOSE_WAIT sockets arrive as one clean
#       Graphite name and one clean InfluxDB type_instance tag each, under
#       tcpstates_proc_close_wait with the namespace host as instance.
# Everything listens on the namespace's loopback only, on ports the kernel
# picked, with data under a temporary folder; every wait is bounded.
source "$(dirname "$0")/lib.sh"
need_root
"$TESTS_DIR/tools/deps.sh" downstream

ns=tcps-ds-$$
new_workdir work
host=tcps-ds
new_netns "$ns"
# The FIN_WAIT2 peers of the CLOSE_WAIT sockets go away after 1 s.
ip netns exec "$ns" sysctl -qw net.ipv4.tcp_fin_timeout=1

# Hostile process names. A comm holds at most 15 bytes. The first is set
# with prctl (the only way to get a '/'), the second is a file name.
prctl_name=$'ev.il/ "q\'\nz'
prctl_clean=ev_il_q_z
prctl_count=7
file_name=$'..x "y\'\nz.w'
file_clean=_x_y_z_w
file_count=5
main_close_wait=25
# The only process groups that may appear (nothing else in the namespace
# holds CLOSE_WAIT sockets).
ALLOWED_PROCS="sockmaker|$prctl_clean|$file_clean|-other|-unknown"

# start_holder LABEL COMMAND...: starts COMMAND (a sockmaker) in the
# namespace holding its sockets until the test ends; waits for READY.
# Sets HOLDER_PID.
start_holder()
{
	local label=$1 pid fd
	shift
	mkfifo "$work/$label.in"
	ip netns exec "$ns" "$@" <"$work/$label.in" >"$work/$label.out" \
		2>"$work/$label.err" &
	pid=$!
	HOLDER_PID=$pid
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

free_port carbon_port "$ns" tcp
free_port carbon_query_port "$ns" tcp
free_port influx_udp_port "$ns" udp
free_port influx_http_port "$ns" tcp
free_port influx_rpc_port "$ns" tcp

carbon=$work/carbon
influx=$work/influxdb
start_carbon "$ns" "$carbon" "$carbon_port" "$carbon_query_port"
carbon_pid=$CARBON_PID
start_influxdb "$ns" "$influx" "$influx_udp_port" "$influx_http_port" \
	"$influx_rpc_port"
influx_pid=$INFLUX_PID
wait_listening "$ns" tcp "$carbon_port" "$carbon_pid" "$carbon/stdout" \
	carbon-cache
wait_listening "$ns" udp "$influx_udp_port" "$influx_pid" "$influx/stdout" \
	"InfluxDB's collectd listener"
wait_listening "$ns" tcp "$influx_http_port" "$influx_pid" "$influx/stdout" \
	"InfluxDB's HTTP API"
note "carbon-cache on 127.0.0.1:$carbon_port (pid $carbon_pid)," \
	"InfluxDB collectd on udp 127.0.0.1:$influx_udp_port (pid $influx_pid)"

# --- sockets -----------------------------------------------------------
start_holder sockmaker "$BUILD/sockmaker" --established 40 --time-wait 30 \
	--close-wait "$main_close_wait" --fin-wait2 20 --listen 10 \
	--syn-recv 15 --v6-every 4 --hold 120
main_pid=$HOLDER_PID
gcc -shared -fPIC -o "$work/hostile-name.so" "$TESTS_DIR/tools/hostile-name.c"
# ASan (make asan) insists on coming first in the library list.
start_holder hostile-prctl env TCPS_HOSTILE_COMM="$prctl_name" \
	LD_PRELOAD="$work/hostile-name.so" \
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
	"$BUILD/sockmaker" --close-wait "$prctl_count" --hold 120
prctl_pid=$HOLDER_PID
mkdir "$work/bin"
cp "$BUILD/sockmaker" "$work/bin/$file_name"
start_holder hostile-file "$work/bin/$file_name" \
	--close-wait "$file_count" --hold 120
file_pid=$HOLDER_PID
[[ $(tr -d '\n' </proc/$prctl_pid/comm) == "$(tr -d '\n' <<<"$prctl_name")" ]] ||
	fail "prctl did not rename the process: $(od -c /proc/$prctl_pid/comm)"

# --- collectd ----------------------------------------------------------
{
	collectd_conf "$work" "$host" --no-csv
	downstream_writers_conf "$carbon_port" "$influx_udp_port"
	cat <<CONF
PluginDir "$BUILD"
LoadPlugin tcpstates
# Owners found in the first read even beside huge fd tables elsewhere.
<Plugin tcpstates>
  ProcessScanBudget 0
</Plugin>
CONF
} >"$work/collectd.conf"
ip netns exec "$ns" "${COLLECTD[@]}" -f -C "$work/collectd.conf" \
	2>"$work/collectd.stderr" &
collectd_pid=$!
track_pid "$collectd_pid"

whisper=$carbon/storage/whisper/$host
# wsp_values FILE FROM UNTIL: the values stored for the seconds after FROM
# up to UNTIL, as integers, empty slots left out.
wsp_values()
{
	[[ -f $1 ]] || return 0
	/usr/bin/python3 /usr/bin/whisper-fetch --from="$2" --until="$3" "$1" |
		awk '$2 != "None" { printf "%d\n", $2 }'
}

# influx_query QUERY: CSV rows (no header), times in seconds.
influx_query()
{
	ip netns exec "$ns" influx -host 127.0.0.1 -port "$influx_http_port" \
		-database collectd -precision s -format csv -execute "$1" |
		tail -n +2
}

# Wait for the first values to reach carbon (and so its whisper files).
first=$whisper/tcpstates-host/tcp_connections-UNKNOWN.wsp
for _ in $(seq 300); do
	[[ -f $first ]] && break
	kill -0 "$collectd_pid" 2>/dev/null ||
		{ cat "$work/collectd.log"; fail "collectd exited"; }
	sleep 0.1
done
[[ -f $first ]] || {
	cat "$work/collectd.log" "$carbon/stdout" >&2
	fail "no whisper file $first after 30 s"
}

# ss_by_process: "proc_<clean name> count" of CLOSE_WAIT sockets for each
# holder: the inodes ss -e shows, found among the holder's fds (by pid:
# the names are hostile). ss -p would do the same for every process on
# the machine, which takes seconds when others hold many fds.
ss_by_process()
{
	local inodes
	inodes=$(ip netns exec "$ns" ss -tanHe state close-wait |
		grep -o 'ino:[0-9]*' | cut -d: -f2 | sort -u)
	echo "proc_sockmaker $(holder_count "$main_pid" "$inodes")"
	echo "proc_$prctl_clean $(holder_count "$prctl_pid" "$inodes")"
	echo "proc_$file_clean $(holder_count "$file_pid" "$inodes")"
}

# holder_count PID INODES: how many of INODES are sockets PID holds.
holder_count()
{
	find "/proc/$1/fd" -mindepth 1 -printf '%l\n' 2>/dev/null |
		sed -n 's/^socket:\[\([0-9]*\)\]$/\1/p' | sort -u |
		comm -12 - <(echo "$2") | wc -l
}

# --- a window in which ss saw the same sockets at both ends ------------
window=""
for _ in 1 2 3 4 5; do
	before=$(ss_all "$ns"; ss_by_process)
	t0=$(($(date +%s) + 1))
	sleep 5
	t1=$(date +%s)
	after=$(ss_all "$ns"; ss_by_process)
	if [[ $before == "$after" ]]; then
		window="$t0 $t1"
		break
	fi
done
[[ -n $window ]] || fail "sockets kept changing; no stable comparison"
# Points stamped t0+1 .. t1-1 were read between the two looks at ss.
from=$t0
until=$((t1 - 1))
note "ss, stable from $from to $until: $(tr '\n' ' ' <<<"$before")"
if ! grep -qx "proc_$prctl_clean $prctl_count" <<<"$before" ||
	! grep -qx "proc_$file_clean $file_count" <<<"$before"; then
	fail "the hostile processes do not hold the CLOSE_WAIT sockets asked for"
fi

# expected_rows: "set type type_instance value" for every value the
# test checks, as ss (and the process setup) says they must be; set "-"
# is the states' (plugin tcpstates), the others' plugin tcpstates_<set>.
# All are of the daemon's own namespace: plugin instance host.
expected_rows()
{
	local name count
	while read -r name count; do
		if [[ $name == proc_* ]]; then
			echo "proc_close_wait tcp_connections ${name#proc_} $count"
		else
			echo "- tcp_connections $name $count"
		fi
	done <<<"$before"
	echo "- tcp_connections UNKNOWN 0"
}

# graphite_file SET TYPE TYPE_INSTANCE: where write_graphite puts it
# with its default options: <host>.<plugin>-<instance>.<type>-<ti>.
graphite_file()
{
	local dir=tcpstates
	[[ $1 == - ]] || dir+="_$1"
	echo "$whisper/$dir-host/$2-$3.wsp"
}

# graphite_check: every expected value is in its whisper file for the
# window, or a line saying what is not (and a non-zero status).
graphite_check()
{
	local set type ti want file got
	while read -r set type ti want; do
		file=$(graphite_file "$set" "$type" "$ti")
		if [[ ! -f $file ]]; then
			echo "no whisper file ${file#"$whisper"/}"
			return 1
		fi
		got=$(wsp_values "$file" "$from" "$until" | sort -u | tr '\n' ' ')
		if [[ $got != "$want " ]]; then
			echo "${file#"$whisper"/}: graphite has '$got', ss says $want"
			return 1
		fi
	done < <(expected_rows)
}

# (a) + (c) Graphite. Carbon writes a point a moment after it arrives.
deadline=$((SECONDS + 15))
while :; do
	problem=$(graphite_check) && break
	((SECONDS < deadline)) || break
	sleep 0.2
done
[[ -z $problem ]] || { ls -R "$whisper" >&2; fail "$problem"; }
note "graphite: $(expected_rows | wc -l) whisper files hold the expected values"

# (c) The hostile names are one path segment each: every whisper file is
# exactly <host>/<plugin[-instance]>/<type-instance>.wsp, every segment is
# clean, and no segment mentions the hostile names other than cleaned.
bad=$(cd "$carbon/storage/whisper" && find . -name '*.wsp') ||
	fail "no whisper folder"
bad=$(grep -Ev '^\./[A-Za-z0-9_-]+/[A-Za-z0-9_-]+/[A-Za-z0-9_-]+\.wsp$' \
	<<<"$bad" || true)
[[ -z $bad ]] || fail "whisper paths with extra levels or unclean names: $bad"
# The groups: the type instances under tcpstates_proc_close_wait-host.
segments=$(cd "$whisper/tcpstates_proc_close_wait-host" && ls |
	sed -E 's/^(tcp_connections|duration|bytes)-//; s/\.wsp$//' | sort -u)
for want in "$prctl_clean" "$file_clean"; do
	grep -qx -- "$want" <<<"$segments" ||
		fail "no Graphite group $want; have: $segments"
done
stray=$(grep -Evx -- "$ALLOWED_PROCS" <<<"$segments" || true)
[[ -z $stray ]] || fail "unexpected process groups: $stray"
note "graphite: processes arrived as $(tr '\n' ' ' <<<"$segments")"

# (b) + (c) InfluxDB: measurement <plugin>_value (tcpstates_value,
# tcpstates_proc_close_wait_value), tags host, instance (the namespace),
# type, type_instance. One line: the influx shell reads a newline as the
# end of a statement.
query="SELECT host, instance, type, type_instance, value FROM /^tcpstates/"
query+=" WHERE time > ${from}s AND time <= ${until}s"
# influx_check: every expected value is in InfluxDB for the window, with
# the expected tags, or a line saying what is not (non-zero status).
influx_check()
{
	local rows set type ti want got measurement
	rows=$(influx_query "$query" 2>&1) || {
		echo "influx: $rows"
		return 1
	}
	while read -r set type ti want; do
		measurement=tcpstates_value
		[[ $set == - ]] || measurement=tcpstates_${set}_value
		got=$(awk -F, -v m="$measurement" -v h="$host" -v t="$type" \
			-v ti="$ti" '$1 == m && $3 == h && $4 == "host" &&
				$5 == t && $6 == ti {
				printf "%d\n", $7 }' <<<"$rows" | sort -u | tr '\n' ' ')
		if [[ $got != "$want " ]]; then
			echo "InfluxDB: $measurement host=$host instance=host" \
				"type=$type type_instance=$ti is '$got', ss says $want"
			return 1
		fi
	done < <(expected_rows)
}

# The collectd listener writes a batch every second.
deadline=$((SECONDS + 15))
while :; do
	problem=$(influx_check) && break
	((SECONDS < deadline)) || break
	sleep 0.2
done
[[ -z $problem ]] || { tail -n 20 "$influx/stdout" >&2; fail "$problem"; }
note "influxdb: $(expected_rows | wc -l) series hold the expected values"

keys=$(influx_query 'SHOW TAG KEYS FROM tcpstates_value' | cut -d, -f2 |
	sort | tr '\n' ' ')
[[ $keys == "host instance type type_instance " ]] ||
	fail "InfluxDB tag keys are: $keys"
# One table per measurement, each after a header line.
instances=$(influx_query 'SHOW TAG VALUES FROM /^tcpstates/ WITH KEY = "instance"' |
	awk -F, '$2 == "instance" { print $3 }' | sort -u)
[[ $instances == host ]] ||
	fail "InfluxDB: instance tags are not the namespace host: $instances"
groups=$(influx_query 'SHOW TAG VALUES FROM tcpstates_proc_close_wait_value WITH KEY = "type_instance"' |
	cut -d, -f3-)
bad=$(grep -Ev '^[A-Za-z0-9_-]+$' <<<"$groups" || true)
[[ -z $bad ]] || fail "InfluxDB group tags not clean: $bad"
for want in "$prctl_clean" "$file_clean"; do
	grep -qx -- "$want" <<<"$groups" ||
		fail "InfluxDB: no group tag $want; have: $groups"
done
stray=$(grep -Evx -- "$ALLOWED_PROCS" <<<"$groups" || true)
[[ -z $stray ]] || fail "InfluxDB: unexpected process tags: $stray"
note "influxdb: group tags $(tr '\n' ' ' <<<"$groups")"

if grep -q "tcpstates plugin" "$work/collectd.log"; then
	cat "$work/collectd.log"
	fail "the plugin logged a problem"
fi

# --- stop, each by its PID ---------------------------------------------
stop_pid "$collectd_pid" 10
sanitizer_clean "$work/collectd.stderr"
[[ $STOP_RC -eq 0 ]] || fail "collectd exited with $STOP_RC on SIGTERM"
stop_pid "$carbon_pid" 10
[[ $STOP_RC -eq 0 || $STOP_RC -eq 143 ]] ||
	fail "carbon-cache exited with $STOP_RC"
stop_pid "$influx_pid" 10
note "InfluxDB stopped with status $STOP_RC"
echo "downstream: ok"
