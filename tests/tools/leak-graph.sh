#!/bin/bash
# Renders OUT.png, a graph of a CLOSE_WAIT leak growing and being fixed,
# from a real collectd run: collectd (Interval 1) with the stock rrdtool
# plugin and the built tcpstates plugin, in a private network namespace.
# A program called "leaky-app" (copies of tests/tools/sockmaker) gains
# CLOSE_WAIT sockets every second for LEAK_SECONDS; then it is "fixed"
# (every copy exits) and its count falls to 0, while "steady-app" keeps a
# few CLOSE_WAIT sockets all along. About 40 s, as root.
#   usage: tests/tools/leak-graph.sh OUT.png   (make leak-graph)
# Environment: BUILD (build), LEAK_SECONDS (24), LEAK_STEP (sockets a
# second, 8), KEEP_RRD=DIR copies the RRD files there.
#
# The run happens in its own PID namespace too (with its own /proc), like
# a container: the plugin's owner scan then reads only these processes'
# fds, so the picture does not depend on what else the machine runs (a
# process holding a million fds makes every read take seconds). When the
# namespace's first process exits, the kernel ends every process in it.
source "$(dirname "$0")/../lib.sh"

[[ $# -eq 1 || ($# -eq 3 && $2 == --inside) ]] || fail "usage: $0 OUT.png"
out_dir=$(cd "$(dirname "$1")" 2>/dev/null && pwd) || fail "no folder for $1"
out=$out_dir/$(basename "$1")
leak_seconds=${LEAK_SECONDS:-24}
leak_step=${LEAK_STEP:-8}
host=leak-demo
app=leaky-app
steady="steady-app"
steady_count=12

if [[ $# -eq 1 ]]; then
	need_root
	"$TESTS_DIR/tools/deps.sh" graph
	[[ -x $BUILD/sockmaker && -f $BUILD/tcpstates.so ]] ||
		fail "build first: make all tools"
	[[ $leak_seconds -ge 5 && $leak_seconds -le 60 && $leak_step -ge 1 &&
		$leak_step -le 100 ]] || fail "LEAK_SECONDS 5..60, LEAK_STEP 1..100"
	ns=tcps-graph-$$
	new_workdir work
	new_netns "$ns"
	# The orphaned peers of the leaked sockets go after 1 s, not 60.
	ip netns exec "$ns" sysctl -qw net.ipv4.tcp_fin_timeout=1
	BUILD=$BUILD ip netns exec "$ns" unshare --pid --fork --mount-proc \
		"$(cd "$(dirname "$0")" && pwd)/$(basename "$0")" "$out" \
		--inside "$work" &
	track_pid "$!"
	wait "$!"
	exit
fi

# --- inside the network and PID namespaces -----------------------------
work=$3
{
	collectd_conf "$work" "$host" --no-csv
	cat <<CONF
FQDNLookup false
LoadPlugin rrdtool
<Plugin rrdtool>
  DataDir "$work/rrd"
  # A read may take longer than the interval on a busy host (the owner
  # scan reads every process's fds): keep such values instead of unknown.
  HeartBeat 10
</Plugin>
PluginDir "$BUILD"
LoadPlugin tcpstates
CONF
} >"$work/collectd.conf"
"${COLLECTD[@]}" -f -C "$work/collectd.conf" \
	2>"$work/collectd.stderr" &
collectd_pid=$!
track_pid "$collectd_pid"

mkdir "$work/bin"
# wait_rrd RRD VALUE SECONDS: until collectd's last update of RRD is VALUE.
wait_rrd()
{
	local deadline=$((SECONDS + $3)) last=""
	while ((SECONDS < deadline)); do
		last=$(rrdtool lastupdate "$1" 2>/dev/null | awk 'NF == 2 { v = $2 }
			END { printf "%.0f", v }')
		[[ $last == "$2" ]] && return 0
		sleep 0.2
	done
	tail -n 5 "$work/collectd.log" >&2
	fail "${1#"$work"/} stayed at '$last', not $2, for $3 s"
}

rrd_dir=$work/rrd/$host
total_rrd=$rrd_dir/tcpstates-host/tcp_connections-CLOSE_WAIT.rrd
app_rrd=$rrd_dir/tcpstates_proc_close_wait-host/tcp_connections-$app.rrd
for _ in $(seq 100); do
	[[ -f $total_rrd ]] && break
	kill -0 "$collectd_pid" 2>/dev/null ||
		{ cat "$work/collectd.log"; fail "collectd exited"; }
	sleep 0.1
done
[[ -f $total_rrd ]] || { cat "$work/collectd.log"; fail "no $total_rrd"; }

# A well-behaved neighbour: a few CLOSE_WAIT sockets all along, so the
# host's total and the leaking process's own line differ.
cp "$BUILD/sockmaker" "$work/bin/$steady"
mkfifo "$work/steady.in"
"$work/bin/$steady" --close-wait "$steady_count" \
	--hold 120 <"$work/steady.in" >"$work/steady.out" 2>"$work/steady.err" &
track_pid "$!"
exec {steady_fd}>"$work/steady.in"
for _ in $(seq 100); do
	grep -q READY "$work/steady.out" && break
	sleep 0.1
done
grep -q READY "$work/steady.out" ||
	{ cat "$work/steady.err" >&2; fail "$steady did not get ready"; }
start=$(date +%s)
sleep 3 # a flat start

# The leak: one more copy of leaky-app every second, each holding
# LEAK_STEP CLOSE_WAIT sockets until its stdin (one shared FIFO) sees EOF,
# when this script, the only writer, closes it (the copies must not
# inherit the writing end).
cp "$BUILD/sockmaker" "$work/bin/$app"
mkfifo "$work/app.in"
exec {app_fd}<>"$work/app.in"
app_pids=()
for i in $(seq "$leak_seconds"); do
	tick=$((SECONDS + 1))
	"$work/bin/$app" --close-wait "$leak_step" \
		--hold 120 <"$work/app.in" >"$work/app.$i.out" \
		2>"$work/app.$i.err" {app_fd}>&- {steady_fd}>&- &
	app_pids+=($!)
	track_pid "$!"
	while ((SECONDS < tick)); do
		sleep 0.1
	done
done
for i in "${!app_pids[@]}"; do
	grep -q READY "$work/app.$((i + 1)).out" || {
		cat "$work/app.$((i + 1)).err" >&2
		fail "copy $((i + 1)) of $app did not get ready"
	}
done
# What ss shows leaky-app holding: CLOSE_WAIT inodes among its fds (not
# ss -p, which reads every process's fds and is slow on a busy host).
inodes=$(ss -tanHe state close-wait |
	grep -o 'ino:[0-9]*' | cut -d: -f2 | sort -u)
held=$(for pid in "${app_pids[@]}"; do
	find "/proc/$pid/fd" -mindepth 1 -printf '%l\n'
done | sed -n 's/^socket:\[\([0-9]*\)\]$/\1/p' | sort -u |
	comm -12 - <(echo "$inodes") | wc -l)
[[ $held -eq $((leak_seconds * leak_step)) ]] ||
	fail "$app holds $held CLOSE_WAIT sockets, not $((leak_seconds * leak_step))"
note "$app holds $held CLOSE_WAIT sockets in ${#app_pids[@]} processes"
wait_rrd "$app_rrd" "$held" 30
sleep 3

# The fix: every copy sees EOF and exits (within about a second); the
# kernel closes their sockets. The graph marks the moment all are gone.
exec {app_fd}>&-
for pid in "${app_pids[@]}"; do
	wait "$pid" || fail "$app $pid exited with $?"
done
fixed=$(date +%s)
wait_rrd "$total_rrd" "$steady_count" 30
sleep 5
end=$(date +%s)
kill "$collectd_pid"
rc=0
wait "$collectd_pid" || rc=$?
sanitizer_clean "$work/collectd.stderr"
[[ $rc -eq 0 ]] || fail "collectd exited with $rc on SIGTERM"
[[ -f $app_rrd ]] || { ls -R "$work/rrd" >&2; fail "no $app_rrd"; }

# The peak the RRD saw must be what ss saw; after the fix, zero.
peak=$(rrdtool graph /dev/null --start "$start" --end "$end" \
	"DEF:v=$app_rrd:value:MAX" "VDEF:m=v,MAXIMUM" "PRINT:m:%.0lf" |
	tail -n 1)
[[ $peak -eq $held ]] || fail "the RRD's peak is $peak, ss saw $held"
# rrd_stat RRD MINIMUM|MAXIMUM FROM: over FROM..end, unknowns ignored
# ("nan" if all are unknown).
rrd_stat()
{
	rrdtool graph /dev/null --start "$3" --end "$end" \
		"DEF:v=$1:value:AVERAGE" "VDEF:s=v,$2" "PRINT:s:%.0lf" |
		tail -n 1 | tr -d -
}
# The group's last value is a 0 (its gone-zero), then nothing.
after=$(rrd_stat "$app_rrd" MINIMUM "$((fixed - 2))")
[[ $after == 0 ]] || fail "$app's CLOSE_WAIT after the fix is $after, not 0"
after=$(rrd_stat "$app_rrd" MAXIMUM "$((fixed + 2))")
[[ $after == 0 || $after == nan ]] ||
	fail "$app's CLOSE_WAIT after the fix is $after, not 0"
for stat in MINIMUM MAXIMUM; do
	after=$(rrd_stat "$total_rrd" "$stat" "$((fixed + 2))")
	[[ $after == "$steady_count" ]] ||
		fail "CLOSE_WAIT after the fix is $after, not $steady_count"
done

# The process's RRD gets one 0 after its last copy exits, then no values
# (the group is gone): draw those as 0. The host's total has no gaps.
# An RRD spreads a value stamped t over the second before t; SHIFT draws
# each reading from its own second on, so the fall follows the fix.
rrdtool graph "$out" --start "$start" --end "$end" \
	--width 720 --height 260 --lower-limit 0 --slope-mode \
	--title "CLOSE_WAIT leak in $app: growing, then fixed" \
	--vertical-label "sockets in CLOSE_WAIT" \
	--x-grid SECOND:5:SECOND:10:SECOND:10:0:%M:%S \
	--watermark "collectd tcpstates + rrdtool plugin, Interval 1" \
	"DEF:raw=$app_rrd:value:AVERAGE" \
	"DEF:total=$total_rrd:value:AVERAGE" \
	"SHIFT:raw:1" "SHIFT:total:1" \
	"CDEF:app=raw,UN,0,raw,IF" \
	"VDEF:appmax=app,MAXIMUM" \
	"AREA:app#FF000040" \
	"LINE2:app#D00000:process $app (tcpstates_proc_close_wait-host/tcp_connections-$app)" \
	"GPRINT:appmax:peak %.0lf\\l" \
	"LINE1:total#0000A0:all CLOSE_WAIT sockets of the host (tcpstates-host/tcp_connections-CLOSE_WAIT)\\l" \
	"VRULE:$fixed#008000:fixed\: every $app process has exited\\l" \
	"COMMENT:time axis\: minutes\:seconds ($(date +%Z)), one value a second\\l" \
	>/dev/null
[[ -s $out ]] || fail "rrdtool wrote no $out"
if [[ -n ${KEEP_RRD:-} ]]; then
	mkdir -p "$KEEP_RRD"
	cp "$app_rrd" "$KEEP_RRD/proc_$app-CLOSE_WAIT.rrd"
	cp "$total_rrd" "$KEEP_RRD/CLOSE_WAIT.rrd"
fi
note "peak $peak CLOSE_WAIT sockets, 0 after the fix at" \
	"$(date -d @"$fixed" +%T); graph $(date -d @"$start" +%T) to" \
	"$(date -d @"$end" +%T)"
echo "leak graph: $out"
