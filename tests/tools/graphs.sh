#!/bin/bash
# Renders OUT.png, a picture of one scene as the plugin shows it, from a
# real collectd run: collectd (Interval 1) with the stock rrdtool plugin
# and the built tcpstates plugin, in a private network namespace, with
# real sockets made by copies of tests/tools/sockmaker. SCENE is one of
# tests/tools/graphs/*.sh:
#   leak   a CLOSE_WAIT leak growing, then fixed        (about 40 s)
#   ports  the local ports toward one destination used up (about 40 s)
#   queue  a listener's accept queue filling up          (about 30 s)
# As root.  usage: tests/tools/graphs.sh SCENE OUT.png   (make graphs)
# Environment: BUILD (build), KEEP_RRD=DIR copies the RRD files there,
# GRAPH_TRACE=1 traces the run (set -x).
#
# This file is what every scene shares: the namespaces, the daemon, the
# sockmaker copies and reading the RRD files back. A scene file defines
#   SCENE_SYSCTLS  sysctls of its network namespace (name=value ...)
#   scene_load     makes the sockets over time (collectd running); sets
#                  START and END (epoch seconds), the graph's span
#   scene_render   checks the RRD files against what ss saw, then draws
# The run happens in its own PID namespace too (with its own /proc), like
# a container: the plugin's owner scan then reads only these processes'
# fds, so the picture does not depend on what else the machine runs.
# When the namespace's first process exits, the kernel ends every
# process in it.
source "$(dirname "$0")/../lib.sh"
[[ -z ${GRAPH_TRACE:-} ]] || set -x

usage="usage: $0 leak|ports|queue OUT.png"
[[ $# -eq 2 || ($# -eq 4 && $3 == --inside) ]] || fail "$usage"
scene=$1
scene_file=$TESTS_DIR/tools/graphs/$scene.sh
[[ $scene =~ ^[a-z]+$ && -f $scene_file ]] || fail "$usage"
out_dir=$(cd "$(dirname "$2")" 2>/dev/null && pwd) || fail "no folder for $2"
out=$out_dir/$(basename "$2")
host=$scene-demo
SCENE_SYSCTLS=()
source "$scene_file"

if [[ $# -eq 2 ]]; then
	need_root
	"$TESTS_DIR/tools/deps.sh" graph
	[[ -x $BUILD/sockmaker && -f $BUILD/tcpstates.so ]] ||
		fail "build first: make all tools"
	ns=tcps-graph-$$
	new_workdir work
	new_netns "$ns"
	# Peers that close go after 1 s, not 60.
	ip netns exec "$ns" sysctl -qw net.ipv4.tcp_fin_timeout=1 \
		"${SCENE_SYSCTLS[@]}"
	BUILD=$BUILD ip netns exec "$ns" unshare --pid --fork --mount-proc \
		"$(cd "$(dirname "$0")" && pwd)/$(basename "$0")" "$scene" \
		"$out" --inside "$work" &
	track_pid "$!"
	wait "$!"
	exit
fi

# --- inside the network and PID namespaces -----------------------------
work=$4
{
	collectd_conf "$work" "$host" --no-csv
	cat <<CONF
FQDNLookup false
LoadPlugin rrdtool
<Plugin rrdtool>
  DataDir "$work/rrd"
  # A read may take longer than the interval on a busy host: keep such
  # values instead of unknown.
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
rrd_dir=$work/rrd/$host

# rrd PLUGIN TYPE-INSTANCE: the RRD file of a value of this namespace.
rrd()
{
	echo "$rrd_dir/$1-host/$2.rrd"
}

# wait_rrd RRD VALUE SECONDS: until collectd's last update of RRD is VALUE.
wait_rrd()
{
	local deadline=$((SECONDS + $3)) last=""
	while ((SECONDS < deadline)); do
		# The file may not exist yet: nothing read is not a failure.
		last=$({ rrdtool lastupdate "$1" 2>/dev/null || true; } |
			awk 'NF == 2 { v = $2 } END { if (NR) printf "%.0f", v }')
		[[ $last == "$2" ]] && return 0
		sleep 0.2
	done
	tail -n 5 "$work/collectd.log" >&2
	fail "${1#"$work"/} stayed at '$last', not $2, for $3 s"
}

# rrd_stat RRD MINIMUM|MAXIMUM FROM [CF]: over FROM..END, unknowns
# ignored ("nan" if all are unknown); of the AVERAGE (or CF) series.
rrd_stat()
{
	rrdtool graph /dev/null --start "$3" --end "$END" \
		"DEF:v=$1:value:${4:-AVERAGE}" "VDEF:s=v,$2" "PRINT:s:%.0lf" |
		tail -n 1 | tr -d -
}

# gate NAME: a FIFO whose EOF ends every copy started on it (stop_gate
# NAME); this script holds its only writing end, in GATE_FD[NAME].
declare -A GATE_FD=()
gate()
{
	local fd
	mkfifo "$work/$1.in"
	exec {fd}<>"$work/$1.in"
	GATE_FD[$1]=$fd
}

stop_gate()
{
	local fd=${GATE_FD[$1]}
	exec {fd}>&-
	unset "GATE_FD[$1]"
}

# start_copy NAME GATE TAG ARGS...: a copy of sockmaker called NAME (the
# process name the plugin reports) with ARGS, reading GATE, its output in
# TAG.out and TAG.err; tracked, its pid in COPY_PID. It keeps no end of
# any gate open, so closing a gate reaches it.
start_copy()
{
	local name=$1 gate_name=$2 tag=$3 fd
	shift 3
	[[ -x $work/bin/$name ]] || cp "$BUILD/sockmaker" "$work/bin/$name"
	(
		for fd in "${GATE_FD[@]}"; do
			eval "exec $fd>&-"
		done
		exec "$work/bin/$name" "$@" <"$work/$gate_name.in" \
			>"$work/$tag.out" 2>"$work/$tag.err"
	) &
	COPY_PID=$!
	track_pid "$COPY_PID"
}

# is_ready TAG: the copy's sockets are all made.
is_ready()
{
	grep -q READY "$work/$1.out" 2>/dev/null
}

# wait_ready TAG: until the copy is ready (10 s at most).
wait_ready()
{
	wait_until 10 is_ready "$1" ||
		{ cat "$work/$1.err" >&2; fail "$1 did not get ready"; }
}

# every_second N CMD...: CMD once a second, N times, with $TICK 1..N.
every_second()
{
	local n=$1 next
	shift
	for TICK in $(seq "$n"); do
		next=$((SECONDS + 1))
		"$@"
		while ((SECONDS < next)); do
			sleep 0.1
		done
	done
}

first_rrd=$(rrd tcpstates tcp_connections-CLOSE_WAIT)
for _ in $(seq 100); do
	[[ -f $first_rrd ]] && break
	kill -0 "$collectd_pid" 2>/dev/null ||
		{ cat "$work/collectd.log"; fail "collectd exited"; }
	sleep 0.1
done
[[ -f $first_rrd ]] || { cat "$work/collectd.log"; fail "no $first_rrd"; }

scene_load
kill "$collectd_pid"
rc=0
wait "$collectd_pid" || rc=$?
sanitizer_clean "$work/collectd.stderr"
[[ $rc -eq 0 ]] || fail "collectd exited with $rc on SIGTERM"
scene_render
[[ -s $out ]] || fail "rrdtool wrote no $out"
if [[ -n ${KEEP_RRD:-} ]]; then
	mkdir -p "$KEEP_RRD"
	cp -r "$rrd_dir/." "$KEEP_RRD/"
fi
echo "$scene graph: $out"
