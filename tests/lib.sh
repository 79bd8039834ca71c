# Shared helpers for the shell tests. Source it; it sets -euo pipefail.
set -euo pipefail

BUILD=$(cd "${BUILD:-build}" && pwd)
TESTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
NETNS_LIST=()
PID_LIST=()
WORK_LIST=()
CONTAINER_LIST=()
POD_LIST=()

fail()
{
	echo "FAIL: $*" >&2
	exit 1
}

note()
{
	echo "  $*"
}

need_root()
{
	[[ $(id -u) -eq 0 ]] || fail "this test needs root (network namespaces)"
}

cleanup()
{
	local pid ns dir
	for pid in "${PID_LIST[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in "${PID_LIST[@]}"; do
		# Bounded: a process that ignores TERM gets KILL after 5 s.
		for _ in $(seq 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true
	done
	remove_containers
	for ns in "${NETNS_LIST[@]}"; do
		ip netns delete "$ns" 2>/dev/null || true
	done
	for dir in "${WORK_LIST[@]}"; do
		rm -rf "$dir"
	done
}
trap cleanup EXIT

# new_netns NAME: a private namespace with loopback up, deleted on exit.
new_netns()
{
	ip netns add "$1"
	NETNS_LIST+=("$1")
	ip netns exec "$1" ip link set lo up
}

# new_workdir VAR: makes a temporary folder, removed on exit, and puts
# its path in VAR. (Not $(new_workdir): a subshell would lose the list.)
new_workdir()
{
	local dir
	dir=$(mktemp -d /tmp/tcpstates-test.XXXXXX)
	WORK_LIST+=("$dir")
	printf -v "$1" '%s' "$dir"
}

# track_pid PID: killed on exit.
track_pid()
{
	PID_LIST+=("$1")
}

# ss_count NS STATE: sockets in STATE (ss state filter name) in NS.
ss_count()
{
	ip netns exec "$1" ss -tanH state "$2" | wc -l
}

# Every state: our metric name and the ss state filter that selects it.
STATE_NAMES=(ESTABLISHED SYN_SENT SYN_RECV FIN_WAIT1 FIN_WAIT2 TIME_WAIT
	CLOSED CLOSE_WAIT LAST_ACK LISTEN CLOSING)
SS_FILTERS=(established syn-sent syn-recv fin-wait-1 fin-wait-2 time-wait
	closed close-wait last-ack listening closing)

# ss_all NS: "STATE count" for every state, as ss sees them.
ss_all()
{
	local i
	for i in "${!STATE_NAMES[@]}"; do
		echo "${STATE_NAMES[$i]} $(ss_count "$1" "${SS_FILTERS[$i]}")"
	done
}

# start_sockmaker NS FIFO ARGS...: starts sockmaker in NS holding its
# sockets until FIFO is closed or the test ends; waits for READY.
start_sockmaker()
{
	local ns=$1 dir=$2
	shift 2
	mkfifo "$dir/smk.in"
	ip netns exec "$ns" "$BUILD/sockmaker" "$@" <"$dir/smk.in" \
		>"$dir/smk.out" 2>"$dir/smk.err" &
	track_pid $!
	SOCKMAKER_PID=$!
	exec {SOCKMAKER_FD}>"$dir/smk.in"
	for _ in $(seq 300); do
		grep -q READY "$dir/smk.out" 2>/dev/null && return 0
		kill -0 "$SOCKMAKER_PID" 2>/dev/null || break
		sleep 0.1
	done
	cat "$dir/smk.err" >&2
	fail "sockmaker did not get ready"
}

stop_sockmaker()
{
	exec {SOCKMAKER_FD}>&-
	wait "$SOCKMAKER_PID" 2>/dev/null || true
}

# COLLECTD: how to start the daemon. Under the sanitizer build (make
# asan) the stock daemon must preload the sanitizer runtimes to load our
# instrumented .so; a sanitizer report then ends the daemon with 23.
COLLECTD=(collectd)
if [[ ${TCPS_SANITIZE:-0} == 1 ]]; then
	COLLECTD=(env "LD_PRELOAD=$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libubsan.so)"
		"ASAN_OPTIONS=detect_leaks=1:exitcode=23"
		"UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1" collectd)
fi

# Under valgrind (make soak runs the config corpus so): an error or a
# definite or indirect leak ends the daemon with 99.
if [[ ${TCPS_VALGRIND:-0} == 1 ]]; then
	COLLECTD=(valgrind -q --error-exitcode=99 --leak-check=full
		--errors-for-leak-kinds=definite,indirect
		"--suppressions=$TESTS_DIR/soak.supp" collectd)
fi

# sanitizer_clean FILE: fails if FILE holds a sanitizer report.
sanitizer_clean()
{
	if grep -qE "ERROR: (Address|Leak)Sanitizer|runtime error:" "$1"; then
		cat "$1" >&2
		fail "sanitizer report in $1"
	fi
}

# ---- helpers for the pressure, tcpconns and namespace tests ----

# stop_sockmaker_saved PID FD: stops a sockmaker whose SOCKMAKER_PID and
# SOCKMAKER_FD were saved before another one started. SIGTERM, because
# processes started later inherited FD and keep its fifo open. sockmaker
# resets its sockets (SO_LINGER 0): they vanish at once.
stop_sockmaker_saved()
{
	local fd=$2
	kill -TERM "$1" 2>/dev/null || true
	exec {fd}>&-
	wait "$1" 2>/dev/null || true
}

# wait_until SECONDS CMD...: runs CMD every 0.2 s until it succeeds;
# returns 1 if it still fails after SECONDS (a bound, not a timing test).
wait_until()
{
	local deadline=$((SECONDS + $1))
	shift
	until "$@"; do
		((SECONDS < deadline)) || return 1
		sleep 0.2
	done
}

# collectd_conf DIR HOST [OPTION...]: the start of a test config on
# stdout: Interval 1, the stock logfile plugin (which also prints
# notifications) writing DIR/collectd.log, the stock csv plugin writing
# DIR/csv. PluginDir is the stock one: add stock plugins, then PluginDir
# "$BUILD" and ours. Options:
#   --interval S    Interval S instead of 1
#   --log-option L  one more line in <Plugin logfile>, e.g.
#                   "PrintSeverity true"
#   --no-csv        no csv plugin (the test reads another writer or the log)
collectd_conf()
{
	local dir=$1 host=$2 interval=1 log_options="" csv=1
	shift 2
	while (($# > 0)); do
		case $1 in
		--interval)
			interval=$2
			shift
			;;
		--log-option)
			log_options+="  $2"$'\n'
			shift
			;;
		--no-csv) csv="" ;;
		*) fail "collectd_conf: unknown option $1" ;;
		esac
		shift
	done
	cat <<CONF
Hostname "$host"
BaseDir "$dir"
PIDFile "$dir/collectd.pid"
Interval $interval
PluginDir "/usr/lib/collectd"
LoadPlugin logfile
<Plugin logfile>
  LogLevel info
  File "$dir/collectd.log"
${log_options}</Plugin>
CONF
	# One write thread: the csv plugin makes a new file by stat, then
	# fopen "w", so two threads writing a new file's first two rows can
	# truncate the first, and a read would seem to have lost values.
	[[ -z $csv ]] || cat <<CONF
WriteThreads 1
LoadPlugin csv
<Plugin csv>
  DataDir "$dir/csv"
  StoreRates false
</Plugin>
CONF
}

# downstream_writers_conf CARBON_PORT INFLUX_UDP_PORT: collectd lines that
# send every value to carbon on 127.0.0.1 (write_graphite, TCP) and to
# InfluxDB's collectd listener there (network), each flushed every second;
# no name lookup, so the host name is the one Hostname gave.
downstream_writers_conf()
{
	cat <<CONF
FQDNLookup false
<LoadPlugin write_graphite>
  FlushInterval 1
</LoadPlugin>
<Plugin write_graphite>
  <Node "carbon">
    Host "127.0.0.1"
    Port "$1"
    Protocol "tcp"
  </Node>
</Plugin>
<LoadPlugin network>
  FlushInterval 1
</LoadPlugin>
<Plugin network>
  Server "127.0.0.1" "$2"
</Plugin>
CONF
}

# start_collectd NS DIR: "${COLLECTD[@]}" in the foreground with
# DIR/collectd.conf, inside NS ("" for this namespace), stderr in
# DIR/collectd.stderr; sets COLLECTD_PID.
start_collectd()
{
	local -a in_ns=()
	[[ -z $1 ]] || in_ns=(ip netns exec "$1")
	"${in_ns[@]}" "${COLLECTD[@]}" -f -C "$2/collectd.conf" \
		2>"$2/collectd.stderr" &
	track_pid $!
	COLLECTD_PID=$!
}

# stop_collectd DIR: SIGTERM must end the daemon with 0 and no sanitizer
# report in DIR/collectd.stderr.
stop_collectd()
{
	local rc=0
	kill "$COLLECTD_PID"
	wait "$COLLECTD_PID" || rc=$?
	sanitizer_clean "$1/collectd.stderr"
	[[ $rc -eq 0 ]] || fail "collectd exited with $rc on SIGTERM"
}

# collectd_alive DIR: fails, showing the log, if the daemon has exited.
collectd_alive()
{
	kill -0 "$COLLECTD_PID" 2>/dev/null && return 0
	cat "$1/collectd.log" "$1/collectd.stderr" >&2 || true
	fail "collectd exited"
}

# csv_row DIR HOST PLUGIN-INSTANCE TYPE-INSTANCE: the newest "time,value"
# the csv plugin wrote, e.g. csv_row "$work" h tcpstates_listen-host
# count-full_queues (plugin tcpstates_listen, plugin instance host);
# nothing if there is none yet.
csv_row()
{
	local file
	file=$(ls -t "$1/csv/$2/$3/$4"-[0-9]* 2>/dev/null | head -1)
	[[ -z $file ]] || tail -n 1 "$file"
}

# csv_value DIR HOST PLUGIN-INSTANCE TYPE-INSTANCE: the newest value.
csv_value()
{
	csv_row "$@" | cut -d, -f2
}

# num_eq A B: true if both are numbers and numerically equal.
num_eq()
{
	awk -v a="$1" -v b="$2" 'BEGIN {
		ok = a ~ /^-?[0-9.e+-]+$/ && b ~ /^-?[0-9.e+-]+$/
		exit !(ok && a + 0 == b + 0) }'
}

# ss_states_by_port NS: "local-port peer-port STATE" for every socket in
# NS, states named as collectd names them (tcp_connections-<STATE>).
ss_states_by_port()
{
	ip netns exec "$1" ss -tanH | ss_name_states
}

# ss_name_states: `ss -tanH` on stdin, "local-port peer-port STATE" out.
ss_name_states()
{
	awk '
		BEGIN {
			split("ESTAB SYN-SENT SYN-RECV FIN-WAIT-1 FIN-WAIT-2 " \
				"TIME-WAIT UNCONN CLOSE-WAIT LAST-ACK LISTEN " \
				"CLOSING", from, " ")
			split("ESTABLISHED SYN_SENT SYN_RECV FIN_WAIT1 " \
				"FIN_WAIT2 TIME_WAIT CLOSED CLOSE_WAIT " \
				"LAST_ACK LISTEN CLOSING", to, " ")
			for (i in from) name[from[i]] = to[i]
		}
		{
			n = split($4, l, ":"); m = split($5, p, ":")
			print l[n], p[m], ($1 in name) ? name[$1] : "UNKNOWN"
		}'
}

# ss_all_once NS: what ss_all prints, from a single ss dump: consistent,
# and each dump walks the kernel's shared socket hash, which is slow
# while another namespace holds many sockets.
ss_all_once()
{
	ss_states_by_port "$1" | count_states
}

# count_states: what ss_all prints, from ss_name_states lines on stdin.
count_states()
{
	local state dump
	dump=$(cat)
	for state in "${STATE_NAMES[@]}"; do
		echo "$state $(awk -v s="$state" '$3 == s { c++ }
			END { print c + 0 }' <<<"$dump")"
	done
}

# ---- helpers for the handoff test ----

# netns_kill_all NS: ends every process still in NS (by pid, from `ip
# netns pids`): SIGTERM, then SIGKILL after 5 s. Processes a test tool
# started and lost track of keep a namespace alive after `ip netns
# delete`; this is for a cleanup after a failure.
netns_kill_all()
{
	local pid pids
	pids=$(ip netns pids "$1" 2>/dev/null) || return 0
	for pid in $pids; do
		kill "$pid" 2>/dev/null || true
	done
	for _ in $(seq 50); do
		[[ -n $(ip netns pids "$1" 2>/dev/null) ]] || return 0
		sleep 0.1
	done
	for pid in $(ip netns pids "$1" 2>/dev/null); do
		kill -KILL "$pid" 2>/dev/null || true
	done
}

# valgrind_errors FILE: prints the error lines valgrind wrote to FILE so
# far (-q prints nothing else but warnings); fails if there are none.
valgrind_errors()
{
	grep -sE '^==[0-9]+== (Invalid|Conditional jump|Use of uninitialised|Syscall param|Mismatched|Source and destination|Argument|Process terminating|Jump to)' "$1"
}

# ---- helpers for the container tests (rootful Podman) ----

# PODMAN: how Podman runs on a Debian 12 host with hybrid cgroups and no
# systemd manager: runc (crun refuses hybrid cgroups) and cgroupfs; the
# default ulimits of tools/containers.conf (for the pods' infra).
PODMAN=(env "CONTAINERS_CONF=$TESTS_DIR/tools/containers.conf"
	podman --runtime runc --cgroup-manager cgroupfs)
# Podman's default ulimits exceed the hard limits a test host may have
# (no CAP_SYS_RESOURCE): asking for more than that fails the start.
CONTAINER_LIMITS=(--ulimit nofile=4096:4096 --ulimit nproc=1024:1024)
# A container outlives its test by this much at most if cleanup fails.
CONTAINER_LIFE=${CONTAINER_LIFE:-900}

# container_image: builds the test image if its inputs changed
# (tools/container-image.sh) and sets CONTAINER_IMAGE.
container_image()
{
	CONTAINER_IMAGE=$("$TESTS_DIR/tools/container-image.sh") ||
		fail "cannot build the container image"
}

# container_plan NAME TAG [--as PROG] ARGS...: the container NAME, when
# start_container starts it, runs the image's sockmaker with ARGS and
# --report, as a copy named PROG (its process name, which the leak finder
# reports) if given; its output goes to /tmp/TAG.out and /tmp/TAG.err in
# the container. Its stdin is a pipe from sleep, so it holds its sockets
# until the container ends. Part of the container's own command, not a
# `podman exec`: runc inside a chroot (tools/minimal-root.sh,
# fresh-debian.sh) runs an exec in the host's root, not the image's.
declare -A CONTAINER_PLAN CONTAINER_TAGS
container_plan()
{
	local name=$1 tag=$2 prog=/bin/sockmaker
	shift 2
	if [[ ${1:-} == --as ]]; then
		prog=/tmp/$2
		CONTAINER_PLAN[$name]+="cp /bin/sockmaker $prog; "
		shift 2
	fi
	CONTAINER_PLAN[$name]+="sleep $CONTAINER_LIFE | $prog --report $* "
	CONTAINER_PLAN[$name]+=">/tmp/$tag.out 2>/tmp/$tag.err & "
	CONTAINER_TAGS[$name]+="$tag "
}

# start_container NAME [--pod POD]: a container of CONTAINER_IMAGE that
# starts what container_plan planned for it and sleeps CONTAINER_LIFE
# seconds under Podman's init (so that a stop needs no timeout), with
# --network none: a network namespace of its own with loopback (no
# bridge, no iptables), or POD's. Waits until every planned sockmaker is
# READY; CONTAINER_STARTED_AT is when Podman had started it. Removed on
# exit.
start_container()
{
	local name=$1 tag
	local -a where=(--network none)
	[[ ${2:-} != --pod ]] || where=(--pod "$3")
	CONTAINER_LIST+=("$name")
	"${PODMAN[@]}" run -d --name "$name" --init "${CONTAINER_LIMITS[@]}" \
		"${where[@]}" "$CONTAINER_IMAGE" sh -c \
		"${CONTAINER_PLAN[$name]:-}exec sleep $CONTAINER_LIFE" \
		>/dev/null || fail "cannot start container $name"
	CONTAINER_STARTED_AT=$(date +%s.%N)
	for tag in ${CONTAINER_TAGS[$name]:-}; do
		container_ready "$name" "$tag"
	done
}

# container_file NAME PATH: PATH in NAME's own file system, read from the
# host through its first process's root.
container_file()
{
	cat "/proc/$(container_pid "$1")/root$2"
}

# container_ready NAME TAG: waits for sockmaker TAG in NAME to say READY.
container_ready()
{
	for _ in $(seq 100); do
		container_file "$1" "/tmp/$2.out" 2>/dev/null | grep -q READY &&
			return 0
		sleep 0.2
	done
	container_file "$1" "/tmp/$2.err" >&2 || true
	fail "sockmaker $2 in $1 did not get ready"
}

# start_pod POD NAME...: a pod and a container NAME in it for each NAME;
# they share the pod's network namespace (its infra container holds it).
start_pod()
{
	local pod=$1 name
	shift
	POD_LIST+=("$pod")
	"${PODMAN[@]}" pod create --name "$pod" >/dev/null ||
		fail "cannot create pod $pod"
	for name in "$@"; do
		start_container "$name" --pod "$pod"
	done
}

# stop_container NAME: stops it (its network namespace goes with it).
stop_container()
{
	"${PODMAN[@]}" stop -t 2 "$1" >/dev/null ||
		fail "cannot stop container $1"
}

# remove_containers: every container and pod started here, forced.
remove_containers()
{
	local name
	for name in "${CONTAINER_LIST[@]}"; do
		"${PODMAN[@]}" rm -f -i -t 0 "$name" >/dev/null 2>&1 || true
	done
	for name in "${POD_LIST[@]}"; do
		"${PODMAN[@]}" pod rm -f -i -t 0 "$name" >/dev/null 2>&1 || true
	done
}

# container_pid NAME: the host pid of NAME's first process.
container_pid()
{
	local pid
	pid=$("${PODMAN[@]}" inspect -f '{{.State.Pid}}' "$1") || pid=0
	[[ $pid =~ ^[1-9][0-9]*$ ]] || fail "container $1 has no process"
	echo "$pid"
}

# container_netns NAME: the inode of NAME's network namespace.
container_netns()
{
	stat -L -c %i "/proc/$(container_pid "$1")/ns/net"
}

# container_ss NAME ARGS...: ss ARGS inside NAME's network namespace
# (host tools, so -p names the processes as the host sees them).
container_ss()
{
	local pid
	pid=$(container_pid "$1")
	shift
	nsenter -t "$pid" -n ss "$@"
}

# container_ss_all NAME: what ss_all_once prints, for NAME's namespace.
container_ss_all()
{
	container_ss "$1" -tanH | ss_name_states | count_states
}

# container_expected NAME TAG...: "STATE count" for every state, summed
# over what the sockmakers TAG... in NAME promised (--report).
container_expected()
{
	local name=$1 tag
	shift
	for tag in "$@"; do
		container_file "$name" "/tmp/$tag.err"
	done | awk '
		BEGIN {
			split("established syn-recv time-wait close-wait " \
				"fin-wait-2 listening syn-sent", from, " ")
			split("ESTABLISHED SYN_RECV TIME_WAIT CLOSE_WAIT " \
				"FIN_WAIT2 LISTEN SYN_SENT", to, " ")
			for (i in from) name[from[i]] = to[i]
			split("ESTABLISHED SYN_SENT SYN_RECV FIN_WAIT1 " \
				"FIN_WAIT2 TIME_WAIT CLOSED CLOSE_WAIT " \
				"LAST_ACK LISTEN CLOSING", order, " ")
		}
		$2 == "expect" && ($3 in name) { n[name[$3]] += $4 }
		END { for (i = 1; i <= 11; i++) print order[i], n[order[i]] + 0 }'
}

# ---- helpers for the tests of Discover ----

# private_host "$@": runs the calling test again (once) in a mount, pid
# and network namespace of its own, with empty /run/netns and
# /run/docker/netns, so that Discover finds exactly the namespaces the
# test makes, not those other work on the host makes and deletes
# meanwhile: /proc shows the test's processes only, the `ip netns add`
# pins live on a private tmpfs, and the test's own network namespace
# (loopback only) holds nothing but what the test puts there. When the
# test ends, everything still inside goes with it (pid 1 of the
# namespace exits: the kernel kills the rest; the pins unmount).
private_host()
{
	local dir
	if [[ ${TCPS_PRIVATE_HOST:-0} != 1 ]]; then
		command -v unshare >/dev/null || fail "unshare is missing"
		exec unshare --mount --pid --net --fork --mount-proc \
			--kill-child env TCPS_PRIVATE_HOST=1 bash "$0" "$@"
	fi
	ip link set lo up
	for dir in /run/netns /run/docker/netns; do
		[[ -d $dir || $dir == /run/netns ]] || continue
		mkdir -p "$dir"
		mount -t tmpfs -o mode=0755,size=1m tcps-private "$dir"
	done
}

# csv_rows DIR HOST PLUGIN-INSTANCE TYPE-INSTANCE: every "time,value" row
# the csv plugin wrote, oldest first (every day's file).
csv_rows()
{
	cat "$1/csv/$2/$3/$4"-[0-9]* 2>/dev/null | grep '^[0-9]' || true
}

# now_s: the wall clock, as the csv plugin writes times.
now_s()
{
	date +%s.%N
}

# ---- helpers for the tests with real receivers ----

# free_port VAR NS tcp|udp: puts in VAR a loopback port in NS that the
# kernel picked as free (bound to port 0), different from those given
# before. (Not $(free_port): a subshell would forget the ports given.)
FREE_PORTS_GIVEN=" "
free_port()
{
	local port
	for _ in 1 2 3 4 5; do
		port=$(ip netns exec "$2" /usr/bin/python3 -c '
import socket, sys
kind = socket.SOCK_DGRAM if sys.argv[1] == "udp" else socket.SOCK_STREAM
s = socket.socket(socket.AF_INET, kind)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])' "$3")
		[[ $FREE_PORTS_GIVEN == *" $port "* ]] && continue
		FREE_PORTS_GIVEN+="$port "
		printf -v "$1" '%s' "$port"
		return 0
	done
	fail "no free $3 port"
}

# wait_listening NS tcp|udp PORT PID LOG WHAT: until something listens on
# PORT in NS (looked up with ss: no connection is made), at most 30 s.
wait_listening()
{
	local flag=-t
	[[ $2 == udp ]] && flag=-u
	for _ in $(seq 300); do
		ip netns exec "$1" ss -Hln "$flag" "sport = :$3" | grep -q . &&
			return 0
		kill -0 "$4" 2>/dev/null || break
		sleep 0.1
	done
	tail -n 40 "$5" >&2
	fail "$6 is not listening on 127.0.0.1:$3"
}

# stop_pid PID SECONDS: TERM, then (InfluxDB may hang after receiving
# data) TERM again after 2 s and KILL after SECONDS. Sets STOP_RC.
stop_pid()
{
	STOP_RC=0
	kill "$1" 2>/dev/null || true
	for i in $(seq $(($2 * 10))); do
		kill -0 "$1" 2>/dev/null || break
		[[ $i -eq 20 ]] && kill "$1" 2>/dev/null
		sleep 0.1
	done
	kill -KILL "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || STOP_RC=$?
}

# start_carbon NS DIR PORT QUERY-PORT: a real carbon-cache in NS, its
# line receiver on 127.0.0.1:PORT, whisper files (1 s steps, an hour)
# under DIR/storage/whisper; sets CARBON_PID, output in DIR/stdout.
start_carbon()
{
	local dir=$2
	mkdir -p "$dir/conf" "$dir/storage/whisper" "$dir/lists" "$dir/log"
	cat >"$dir/conf/carbon.conf" <<CONF
[cache]
STORAGE_DIR = $dir/storage
LOCAL_DATA_DIR = $dir/storage/whisper
WHITELISTS_DIR = $dir/lists
CONF_DIR = $dir/conf
LOG_DIR = $dir/log
PID_DIR = $dir
USER =
ENABLE_LOGROTATION = False
LINE_RECEIVER_INTERFACE = 127.0.0.1
LINE_RECEIVER_PORT = $3
PICKLE_RECEIVER_PORT = 0
ENABLE_UDP_LISTENER = False
CACHE_QUERY_INTERFACE = 127.0.0.1
CACHE_QUERY_PORT = $4
MAX_CREATES_PER_MINUTE = inf
MAX_UPDATES_PER_SECOND = inf
WHISPER_AUTOFLUSH = True
CONF
	cat >"$dir/conf/storage-schemas.conf" <<CONF
[everything]
pattern = .*
retentions = 1s:1h
CONF
	# The system python3: a python3 earlier on PATH may lack twisted.
	ip netns exec "$1" /usr/bin/python3 /usr/bin/carbon-cache \
		--config="$dir/conf/carbon.conf" --pidfile="$dir/carbon.pid" \
		--debug start >"$dir/stdout" 2>&1 &
	CARBON_PID=$!
	track_pid "$CARBON_PID"
}

# start_influxdb NS DIR UDP-PORT HTTP-PORT RPC-PORT: a real InfluxDB 1.x
# in NS with a collectd listener (database collectd, stock types.db) on
# udp 127.0.0.1:UDP-PORT, its HTTP API on HTTP-PORT; data under DIR; sets
# INFLUX_PID, output in DIR/stdout.
start_influxdb()
{
	local dir=$2
	mkdir -p "$dir"
	cat >"$dir/influxdb.conf" <<CONF
reporting-disabled = true
bind-address = "127.0.0.1:$5"
[meta]
  dir = "$dir/meta"
[data]
  dir = "$dir/data"
  wal-dir = "$dir/wal"
  query-log-enabled = false
[monitor]
  store-enabled = false
[http]
  bind-address = "127.0.0.1:$4"
  log-enabled = false
[ifql]
  enabled = false
[[collectd]]
  enabled = true
  bind-address = "127.0.0.1:$3"
  database = "collectd"
  typesdb = "/usr/share/collectd/types.db"
  batch-timeout = "1s"
CONF
	ip netns exec "$1" influxd run -config "$dir/influxdb.conf" \
		>"$dir/stdout" 2>&1 &
	INFLUX_PID=$!
	track_pid "$INFLUX_PID"
}

# start_graphite_web NS DIR WHISPER PORT: graphite-web (Debian's, Django's
# runserver) in NS on 127.0.0.1:PORT, reading the whisper files under
# WHISPER, its settings, database and logs under DIR; the same render
# and find API Grafana's Graphite data source calls. Sets GRAPHITE_PID.
start_graphite_web()
{
	local dir=$2
	mkdir -p "$dir/py" "$dir/conf" "$dir/log"
	cat >"$dir/py/tcps_graphite_settings.py" <<CONF
SECRET_KEY = 'tcpstates-test-only'
ALLOWED_HOSTS = ['127.0.0.1']
CONF_DIR = '$dir/conf'
STORAGE_DIR = '$dir'
WHISPER_DIR = '$3'
STANDARD_DIRS = ['$3']
LOG_DIR = '$dir/log'
INDEX_FILE = '$dir/index'
CARBONLINK_HOSTS = []
DEFAULT_XFILES_FACTOR = 0
LOG_ROTATION = False
DATABASES = {'default': {'NAME': '$dir/graphite.db',
                         'ENGINE': 'django.db.backends.sqlite3'}}
CONF
	local -a env=(env "PYTHONPATH=$dir/py"
		GRAPHITE_SETTINGS_MODULE=tcps_graphite_settings
		DJANGO_SETTINGS_MODULE=graphite.settings)
	# /metrics/find keeps a default user profile in the database.
	"${env[@]}" /usr/bin/python3 -m django migrate --run-syncdb \
		>"$dir/migrate.log" 2>&1 ||
		{ cat "$dir/migrate.log" >&2; fail "graphite-web: migrate failed"; }
	ip netns exec "$1" "${env[@]}" /usr/bin/python3 -m django runserver \
		--noreload "127.0.0.1:$4" >"$dir/stdout" 2>&1 &
	GRAPHITE_PID=$!
	track_pid "$GRAPHITE_PID"
}
