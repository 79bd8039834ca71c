# Shared helpers for the shell tests. Source it; it sets -euo pipefail.
set -euo pipefail

BUILD=$(cd "${BUILD:-build}" && pwd)
TESTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
NETNS_LIST=()
PID_LIST=()
WORK_LIST=()

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

# new_workdir: a temporary folder, removed on exit.
new_workdir()
{
	local dir
	dir=$(mktemp -d /tmp/tcpstates-test.XXXXXX)
	WORK_LIST+=("$dir")
	echo "$dir"
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

# sanitizer_clean FILE: fails if FILE holds a sanitizer report.
sanitizer_clean()
{
	if grep -qE "ERROR: (Address|Leak)Sanitizer|runtime error:" "$1"; then
		cat "$1" >&2
		fail "sanitizer report in $1"
	fi
}
