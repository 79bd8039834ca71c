#!/bin/bash
# make bench: what one read costs at 10k, 100k and 1M TCP sockets, against
# the kernel floor, collectd's tcpconns plugin and ss. Needs root: every
# socket lives in a private network namespace on loopback. A report, not a
# test: nothing here asserts a timing.
#
# Environment: BENCH_SIZES ("10000 100000 1000000"; "" for none), BENCH_RUNS (5),
# BENCH_TCPS_OPTIONS (more tcpstates options, "Key value;Key value"),
# BENCH_WINDOW (5: the fewest collectd intervals per measured window),
# BENCH_WINDOW_SECONDS (10: the shortest window; at small N a window holds
# many reads, so that it is not a few milliseconds of CPU), BENCH_INTERVAL
# (collectd's Interval; by default 4 times the floor's CPU per dump, in
# steps of 0.05 s, at least 0.05 s), BENCH_MAX_SECONDS
# (3600: no new size is started after that), BUILD (build). Output: a
# Markdown report on stdout and in $BUILD/bench/report.md; every sample in
# $BUILD/bench/samples.txt; logs in $BUILD/bench/work/.
# The namespace phase (Discover): BENCH_NAMESPACES ("1 10 100"; "" leaves
# it out), BENCH_NS_HOST (100000 sockets on the host), BENCH_NS_SOCKETS
# (300 per namespace), BENCH_NS_RUNS (3), BENCH_NS_EHASH (1024: the
# tcp_child_ehash_entries of the rows with tables of their own); samples
# in $BUILD/bench/ns-samples.txt.
set -euo pipefail

# ---------------------------------------------------------------------------
# What is measured. Edit here when features land.
#
# Our core and plugin with every feature on: one "Key value" per element,
# passed as tcps-count -o and written as lines of <Plugin tcpstates>.
TCPS_OPTIONS=(
	"IPv4 true"
	"IPv6 true"
)
# More for one run without editing: BENCH_TCPS_OPTIONS="Key value;Key value".
if [[ -n ${BENCH_TCPS_OPTIONS:-} ]]; then
	IFS=';' read -r -a extra_options <<<"$BENCH_TCPS_OPTIONS"
	TCPS_OPTIONS+=("${extra_options[@]}")
fi
# collectd's own tcpconns plugin, the incumbent: lines of <Plugin tcpconns>.
TCPCONNS_OPTIONS=(
	"AllPortsSummary true"
)
# Leak finder hook. Commands run inside the benchmark namespace, where a
# process named $LEAK_NAME holds the CLOSE_WAIT sockets. @BUILD@ becomes the
# build folder, @READS@ a read count. Left empty, the rows are not printed.
#   cold: one run, its whole CPU time (the first interval of a fresh
#         process), e.g. '@BUILD@/tcps-count -q -n 1 -o "LeakFinder true"'
#   steady: per-read CPU of reads 2..R, e.g.
#         '@BUILD@/tcps-count -q -n @READS@ -o "LeakFinder true"'
# Both are whole read cycles (the dump included, as in ss -tanp), with no
# scan budget so that the first read finds every owner.
LEAK_COLD_CMD=${LEAK_COLD_CMD-'@BUILD@/tcps-count -q -n 1 -o "ProcessScanBudget 0"'}
LEAK_STEADY_CMD=${LEAK_STEADY_CMD-'@BUILD@/tcps-count -q -n @READS@ -o "ProcessScanBudget 0"'}
LEAK_NAME=leaky-app
# ---------------------------------------------------------------------------

BENCH_SIZES=${BENCH_SIZES-"10000 100000 1000000"}
BENCH_RUNS=${BENCH_RUNS:-5}
BENCH_WINDOW=${BENCH_WINDOW:-5}
BENCH_WINDOW_SECONDS=${BENCH_WINDOW_SECONDS:-10}
BENCH_INTERVAL=${BENCH_INTERVAL:-}
BENCH_MAX_SECONDS=${BENCH_MAX_SECONDS:-3600}
# The namespace phase (see "many namespaces" below); "" leaves it out.
BENCH_NAMESPACES=${BENCH_NAMESPACES-"1 10 100"}
BENCH_NS_HOST=${BENCH_NS_HOST:-100000}
BENCH_NS_SOCKETS=${BENCH_NS_SOCKETS:-300}
BENCH_NS_RUNS=${BENCH_NS_RUNS:-3}
BENCH_NS_EHASH=${BENCH_NS_EHASH:-1024}
BENCH_BUILD_TIMEOUT=${BENCH_BUILD_TIMEOUT:-600}
BUILD=$(cd "${BUILD:-build}" && pwd)
SRC_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT=$BUILD/bench
WORK=$OUT/work
CC=${CC:-cc}

T_START=$(date +%s)
NS=""
POPULATE_PID=""
DAEMON_PID=""

say()
{
	echo "bench: $*" >&2
}

die()
{
	say "error: $*"
	exit 1
}

# Everything started here is stopped by PID; the namespace goes last (its
# deletion also purges the TIME_WAIT sockets made inside it).
cleanup()
{
	local pid
	for pid in $DAEMON_PID $POPULATE_PID; do
		kill "$pid" 2>/dev/null || true
		# A daemon stopped for a topup only sees TERM once continued.
		kill -CONT "$pid" 2>/dev/null || true
	done
	for pid in $DAEMON_PID $POPULATE_PID; do
		for _ in $(seq 100); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true
	done
	DAEMON_PID=""
	POPULATE_PID=""
	if [[ -n $NS ]]; then
		ip netns delete "$NS" 2>/dev/null || true
		NS=""
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
trap 'die "broken pipe (populator gone?)"' PIPE

# ------------------------------ helpers -------------------------------------

build_helpers()
{
	local tool
	local -a srcs
	mkdir -p "$OUT"
	for tool in populate floor cputime procnet; do
		srcs=("$SRC_DIR/$tool.c")
		# populate makes its sockets as the test tools do.
		[[ $tool != populate ]] || srcs+=("$SRC_DIR/../tools/sockets.c")
		"$CC" -O2 -g -std=gnu11 -Wall -Wextra -Wvla \
			-o "$OUT/$tool" "${srcs[@]}" ||
			die "cannot build $tool"
	done
}

check_prerequisites()
{
	[[ $(id -u) -eq 0 ]] || die "needs root (network namespaces)"
	[[ -x $BUILD/tcps-count && -f $BUILD/tcpstates.so ]] ||
		die "build $BUILD/tcps-count and $BUILD/tcpstates.so first (make all tools)"
	command -v collectd >/dev/null || die "collectd not installed"
	command -v ss >/dev/null || die "ss not installed"
	command -v setpriv >/dev/null || die "setpriv (util-linux) not installed"
	[[ -f /usr/lib/collectd/tcpconns.so ]] || die "tcpconns.so missing"
	if [[ -n $BENCH_NAMESPACES ]]; then
		[[ -x $BUILD/sockmaker ]] || die "build $BUILD/sockmaker first (make tools)"
		command -v unshare >/dev/null ||
			die "unshare (util-linux) not installed"
		command -v nsenter >/dev/null ||
			die "nsenter (util-linux) not installed"
	fi
}

median()
{
	tr ' ' '\n' <<<"$*" | grep -v '^$' | sort -g | awk '
		{ a[NR] = $1 }
		END {
			if (NR == 0) { print "nan"; exit }
			if (NR % 2) print a[(NR + 1) / 2]
			else print (a[NR / 2] + a[NR / 2 + 1]) / 2
		}'
}

# spread MEDIAN SAMPLE...: half the range of the samples, in % of MEDIAN.
spread()
{
	local mid=$1
	shift
	tr ' ' '\n' <<<"$*" | grep -v '^$' | awk -v m="$mid" '
		NR == 1 { lo = $1; hi = $1 }
		{ if ($1 < lo) lo = $1; if ($1 > hi) hi = $1 }
		END { if (m > 0) printf "%.0f\n", (hi - lo) / 2 / m * 100 }'
}

calc()
{
	awk "BEGIN { x = $1; print x }"
}

# fmt_s X: seconds with sensible digits; fmt_r X FLOOR: ratio.
fmt_s()
{
	awk -v x="$1" 'BEGIN {
		if (x == "" || x == "nan") { print "-"; exit }
		if (x < 0) printf "%.5f\n", x
		else if (x < 0.01) printf "%.5f\n", x
		else if (x < 1) printf "%.4f\n", x
		else printf "%.2f\n", x }'
}

fmt_r()
{
	awk -v x="$1" -v f="$2" 'BEGIN {
		if (x == "" || x == "nan" || f == "" || f == "nan" || f <= 0) {
			print "-"; exit }
		r = x / f
		printf (r < 0.1 ? "%.3fx\n" : "%.2fx\n"), r }'
}

# in_ns CMD...: CMD in the benchmark's namespace; in this one when NS is
# empty (the namespace phase runs inside it).
in_ns()
{
	if [[ -n $NS ]]; then
		ip netns exec "$NS" "$@"
	else
		"$@"
	fi
}

# ------------------------------ population ----------------------------------

# The mix for N sockets: a quarter TIME_WAIT from 4096 source addresses, a
# few thousand CLOSE_WAIT held by $LEAK_NAME (with their FIN_WAIT2 peers),
# SYN_RECV requests (each with its ESTABLISHED client), extra listeners,
# and ESTABLISHED pairs for the rest. Holder listeners add a few dozen
# LISTEN sockets on top.
plan_mix()
{
	local n=$1
	MIX_TW=$((n / 4))
	MIX_CW=$((n / 20 < 3000 ? n / 20 : 3000))
	MIX_SR=$((n / 100 < 5000 ? n / 100 : 5000))
	MIX_LISTEN=$((n / 1000 < 200 ? n / 1000 : 200))
	MIX_PAIRS=$(((n - MIX_TW - 2 * MIX_CW - 2 * MIX_SR - MIX_LISTEN) / 2))
}

# feasibility [MORE-FDS]: empty if N (and MORE-FDS descriptors) fit this
# machine, else the reason they do not.
feasibility()
{
	local fds=$((2 * MIX_PAIRS + 2 * MIX_CW + MIX_SR + MIX_LISTEN + 1000 + ${1:-0}))
	local file_max file_used avail_kb need_kb
	file_max=$(cut -f3 /proc/sys/fs/file-nr)
	file_used=$(cut -f1 /proc/sys/fs/file-nr)
	if ((fds > file_max - file_used)); then
		echo "needs $fds open files, fs.file-max leaves $((file_max - file_used))"
		return
	fi
	# About 4 KiB of kernel memory per socket with a descriptor, 0.5 KiB
	# per TIME_WAIT; twice that for margin.
	need_kb=$((2 * (4 * fds + MIX_TW / 2)))
	avail_kb=$(awk '/MemAvailable/ { print $2 }' /proc/meminfo)
	if ((need_kb > avail_kb)); then
		echo "needs about $((need_kb / 1024)) MiB, $((avail_kb / 1024)) MiB available"
	fi
}

new_namespace()
{
	local kv
	NS=tcps-bench-$$
	ip netns add "$NS"
	in_ns ip link set lo up
	# A wide ephemeral port range above the listeners' ports (1024-9999);
	# no TIME_WAIT reuse by our own connects; room for every TIME_WAIT and
	# SYN_RECV.
	for kv in "net.ipv4.ip_local_port_range=10000 65535" \
		net.ipv4.tcp_tw_reuse=0 net.ipv4.tcp_max_tw_buckets=4000000 \
		net.core.somaxconn=65535 net.ipv4.tcp_max_syn_backlog=65535; do
		in_ns sysctl -qw "$kv" || die "sysctl $kv in $NS"
	done
}

# start_population N: fills the namespace; sets BUILD_S. Fails with a
# message in POP_ERROR instead of exiting.
start_population()
{
	local left=$((BENCH_MAX_SECONDS - ($(date +%s) - T_START) + 1800))
	local line t0
	local -a in_ns_prefix=()
	[[ -z $NS ]] || in_ns_prefix=(ip netns exec "$NS")
	t0=$(date +%s.%N)
	POP_ERROR=""
	coproc POP {
		exec "${in_ns_prefix[@]}" "$OUT/populate" --pairs "$MIX_PAIRS" \
			--time-wait "$MIX_TW" --close-wait "$MIX_CW" \
			--syn-recv "$MIX_SR" --listen "$MIX_LISTEN" \
			--leak-name "$LEAK_NAME" --max-seconds "$left" \
			2>"$WORK/populate-$N.log"
	}
	# Bash unsets POP_PID when the coproc ends; keep our own copy.
	POPULATE_PID=$POP_PID
	if ! read -r -t "$BENCH_BUILD_TIMEOUT" line <&"${POP[0]}" ||
		[[ $line != READY* ]]; then
		POP_ERROR="populator: $(tail -n 3 "$WORK/populate-$N.log" | tr '\n' ' ')"
		[[ -n $line ]] || POP_ERROR+=" (no READY within ${BENCH_BUILD_TIMEOUT} s)"
		return 1
	fi
	BUILD_S=$(calc "$(date +%s.%N) - $t0")
	POP_IN=${POP[1]}
	POP_OUT=${POP[0]}
}

stop_population()
{
	[[ -n $POPULATE_PID ]] || return 0
	exec {POP_IN}>&-
	for _ in $(seq 300); do
		kill -0 "$POPULATE_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$POPULATE_PID" 2>/dev/null || true
	wait "$POPULATE_PID" 2>/dev/null || true
	POPULATE_PID=""
}

# topup SECONDS: TIME_WAITs back to their target for the next SECONDS.
topup()
{
	local reply low high
	echo "topup $1" >&"$POP_IN"
	read -r -t 600 reply <&"$POP_OUT" || die "populator did not answer"
	[[ $reply == OK* ]] || die "populator: $reply"
	# The TIME_WAITs each measurement starts with, for the report.
	reply=${reply#*tw=}
	reply=${reply%% *}
	low=${RESULT[$N:tw_min]:-$reply}
	high=${RESULT[$N:tw_max]:-$reply}
	RESULT[$N:tw_min]=$((reply < low ? reply : low))
	RESULT[$N:tw_max]=$((reply > high ? reply : high))
}

# census WHEN: per-state counts as the floor sees them.
census()
{
	local line
	while read -r line; do
		CENSUS["$N:$1:${line% *}"]=${line#* }
	done < <(in_ns "$OUT/floor" -v)
}

# ------------------------------ measurements --------------------------------

declare -A SAMPLES CENSUS RESULT LASTWALL NOTES DAEMON_WINDOWS

add_sample()
{
	SAMPLES["$N:$1"]+=" $2"
	echo "$N $1 $2" >>"$OUT/samples.txt"
}

# cpu_run LABEL CMD...: one run in the namespace; sets CPU RSS WALL.
cpu_run()
{
	local label=$1 out code
	shift
	topup "$(calc "2 * ${LASTWALL[$label]:-2} + 1")"
	out=$(in_ns "$OUT/cputime" run "$@" 2>>"$WORK/cmd-$N.log") || true
	read -r CPU RSS WALL code <<<"$out"
	[[ ${code:-1} -eq 0 ]] || die "$label failed: $* (see $WORK/cmd-$N.log)"
	LASTWALL[$label]=$WALL
}

# substitute READS WORD...: the words with @READS@ and @BUILD@ replaced.
substitute()
{
	local reads=$1 w
	shift
	WORDS=()
	for w in "$@"; do
		w=${w//@READS@/$reads}
		WORDS+=("${w//@BUILD@/$BUILD}")
	done
}

# per_read LABEL R CMD...: (CPU of R reads - CPU of 1 read) / (R - 1), so
# process start and the first read are left out.
per_read()
{
	local label=$1 reads=$2 many
	shift 2
	substitute "$reads" "$@"
	cpu_run "$label" "${WORDS[@]}"
	many=$CPU
	substitute 1 "$@"
	cpu_run "$label" "${WORDS[@]}"
	add_sample "$label" "$(calc "($many - $CPU) / ($reads - 1)")"
}

# one_run LABEL CMD...: the CPU time and peak RSS of one whole run.
one_run()
{
	local label=$1
	shift
	substitute 1 "$@"
	cpu_run "$label" "${WORDS[@]}"
	add_sample "$label" "$CPU"
	add_sample "$label.rss" "$RSS"
}

# Reads per per_read sample: enough to dwarf process start at small N.
reads_for()
{
	local r=$((2000000 / $1))
	((r < 3)) && r=3
	((r > 200)) && r=200
	echo "$r"
}

tcps_count_args()
{
	local opt
	TCPS_ARGS=()
	for opt in "${TCPS_OPTIONS[@]}"; do
		TCPS_ARGS+=(-o "$opt")
	done
}

# leak_own R: the leak finder's own CPU, the dump left out: tcps-count -v
# prints the thread's CPU time in its end-of-read work (owners, groups,
# ages). Cold is read 1 of a fresh process; steady the mean of reads 2..R.
leak_own()
{
	local out
	topup 10
	out=$(in_ns "$BUILD/tcps-count" -q -v -n "$1" \
		-o "ProcessScanBudget 0" 2>&1 >/dev/null) ||
		die "tcps-count -v failed: $out"
	out=$(sed -n 's/^read \([0-9]*\):.* \([0-9.]*\) ms CPU.*/\1 \2/p' \
		<<<"$out")
	[[ -n $out ]] || die "tcps-count -v printed no leak finder CPU"
	add_sample leak_own_cold "$(awk '$1 == 1 { print $2 / 1000 }' <<<"$out")"
	add_sample leak_own_steady "$(awk '$1 > 1 { s += $2; n++ }
		END { print (n ? s / n / 1000 : 0) }' <<<"$out")"
}

# The tools, interleaved run by run so each sees the same population.
measure_tools()
{
	local reads run words
	reads=$(reads_for "$N")
	tcps_count_args
	for run in $(seq "$BENCH_RUNS"); do
		say "N=$N run $run/$BENCH_RUNS"
		per_read floor "$reads" "$OUT/floor" -n @READS@
		per_read floor_nocap "$reads" setpriv --bounding-set=-net_admin \
			"$OUT/floor" -n @READS@
		per_read floor2 "$reads" "$OUT/floor" -2 -n @READS@
		per_read ours "$reads" "$BUILD/tcps-count" -q -n @READS@ \
			"${TCPS_ARGS[@]}"
		one_run ss ss -tan
		one_run ssp ss -tanp state close-wait
		if [[ -n $LEAK_COLD_CMD ]]; then
			eval "words=($LEAK_COLD_CMD)"
			one_run leak_cold "${words[@]}"
		fi
		if [[ -n $LEAK_STEADY_CMD ]]; then
			eval "words=($LEAK_STEADY_CMD)"
			per_read leak_steady "$reads" "${words[@]}"
		fi
		leak_own "$reads"
	done
}

# daemon_conf NAME: a collectd config; values are cached, then dropped by
# the PostCache chain, so no writer's cost (or complaint) is in the figures.
daemon_conf()
{
	local name=$1 opt dir=$WORK/collectd-$1-$N
	mkdir -p "$dir"
	{
		echo "Hostname \"bench\""
		echo "BaseDir \"$dir\""
		echo "PIDFile \"$dir/collectd.pid\""
		echo "Interval $INTERVAL"
		echo "PluginDir \"/usr/lib/collectd\""
		echo "LoadPlugin logfile"
		echo "<Plugin logfile>"
		echo "  LogLevel info"
		echo "  File \"$dir/collectd.log\""
		echo "</Plugin>"
		echo "PostCacheChain \"BenchDrop\""
		echo "<Chain \"BenchDrop\">"
		echo "  Target \"stop\""
		echo "</Chain>"
		case $name in
		tcpstates)
			echo "PluginDir \"$BUILD\""
			echo "LoadPlugin tcpstates"
			echo "<Plugin tcpstates>"
			for opt in "${TCPS_OPTIONS[@]}"; do echo "  $opt"; done
			echo "</Plugin>"
			;;
		tcpconns)
			echo "LoadPlugin tcpconns"
			echo "<Plugin tcpconns>"
			for opt in "${TCPCONNS_OPTIONS[@]}"; do echo "  $opt"; done
			echo "</Plugin>"
			;;
		esac
	} >"$dir/collectd.conf"
	echo "$dir"
}

# The daemon's Interval for this N. A read longer than the interval makes
# collectd start the next one late, and CPU per interval is then no longer
# CPU per read.
daemon_interval()
{
	if [[ -n $BENCH_INTERVAL ]]; then
		echo "$BENCH_INTERVAL"
		return
	fi
	awk -v f="${RESULT[$N:floor]:-0}" 'BEGIN {
		i = int(f * 4 * 20 + 0.999) / 20; print (i < 0.05 ? 0.05 : i) }'
}

# Reads per collectd window: BENCH_WINDOW, or more to fill
# BENCH_WINDOW_SECONDS.
window_reads()
{
	awk -v i="$INTERVAL" -v w="$BENCH_WINDOW" -v s="$BENCH_WINDOW_SECONDS" \
		'BEGIN { r = int(s / i + 0.999); print (r < w ? w : r) }'
}

# ceil X: the smallest whole number not below X.
ceil()
{
	awk -v x="$1" 'BEGIN { c = int(x); if (c < x) c++; print c }'
}

# measure_daemon NAME: one fresh daemon, one window of WINDOW_READS
# intervals: its CPU from the daemon's process CPU clock (a window of whole
# intervals holds whole reads whatever its phase), then its VmHWM. The
# window's times are kept for overruns().
measure_daemon()
{
	local name=$1 dir cpu warm window
	dir=$(daemon_conf "$name")
	window=$(calc "$WINDOW_READS * $INTERVAL")
	# Init and the first reads (a cold start may cost more) stay out.
	warm=$(awk -v f="${RESULT[$N:floor]:-0}" -v i="$INTERVAL" \
		'BEGIN { print 2 * i + 1 + int(f * 8) }')
	# Making TIME_WAITs passes their server ends through CLOSE_WAIT for a
	# moment: done before the daemon starts, for all of its life.
	topup "$(ceil "$warm + $window + 3 * $INTERVAL")"
	# ip execs collectd, so $! is the daemon itself.
	ip netns exec "$NS" collectd -f -C "$dir/collectd.conf" \
		2>>"$dir/stderr" &
	DAEMON_PID=$!
	sleep "$warm"
	kill -0 "$DAEMON_PID" 2>/dev/null ||
		die "collectd ($name) exited; see $dir/collectd.log"
	DAEMON_WINDOWS[$name]+="$(date '+%Y-%m-%d %H:%M:%S')|"
	cpu=$("$OUT/cputime" watch "$DAEMON_PID" "$window") ||
		die "collectd ($name) vanished"
	DAEMON_WINDOWS[$name]+="$(date '+%Y-%m-%d %H:%M:%S');"
	add_sample "cd_$name" "$(calc "$cpu / $WINDOW_READS")"
	add_sample "cd_$name.hwm" \
		"$(awk '/^VmHWM/ { print $2 }' "/proc/$DAEMON_PID/status")"
	kill "$DAEMON_PID"
	wait "$DAEMON_PID" 2>/dev/null || true
	DAEMON_PID=""
}

# overruns NAME LOG WINDOWS: reads logged inside the measured windows
# ("start|end;" each) that took longer than the interval, as "count
# slowest-seconds" in RESULT.
overruns()
{
	RESULT[$N:overrun_$1]=$(awk -v windows="$3" '
		BEGIN { nw = split(windows, w, ";") }
		/took [0-9.]+ seconds, which is above its read interval/ {
			t = substr($0, 2, 19)
			inside = 0
			for (k = 1; k <= nw; k++) {
				if (split(w[k], se, "|") == 2 && t >= se[1] && t <= se[2])
					inside = 1
			}
			if (!inside) next
			n++
			for (i = 1; i < NF; i++)
				if ($i == "took" && $(i + 1) + 0 > max)
					max = $(i + 1) + 0
		}
		END { if (n) print n, max }' "$2")
}

# Anything the daemon logged beyond start and stop is worth a note;
# notifications (the leak finder's) are only counted.
daemon_notes()
{
	local name=$1 log=$2 other notif slow
	notif=$(grep -c 'Notification:' "$log" || true)
	slow=$(awk '/above its read interval/ {
			n++
			for (i = 1; i < NF; i++)
				if ($i == "took" && $(i + 1) + 0 > max)
					max = $(i + 1) + 0
		}
		END { if (n) printf "%d reads over the interval in the daemon'"'"'s life, warm-up and stops included (slowest %s s). ", n, max }' "$log")
	other=$(grep -vE 'successfully loaded|Initialization complete|Exiting normally|Stopping [0-9]+ (read|write) threads|No write callback|Reading from netlink succeeded|Notification:|above its read interval|Not sleeping because' "$log" |
		head -n 3 | cut -c1-200 | tr '\n' ' ' || true)
	other=$slow${other:+"$other. "}
	((notif == 0)) || other+="$notif notifications."
	[[ -z $other ]] || NOTES[$N:$name]=$other
}

measure_daemons()
{
	local name dir
	INTERVAL=$(daemon_interval)
	WINDOW_READS=$(window_reads)
	RESULT[$N:interval]=$INTERVAL
	RESULT[$N:window_reads]=$WINDOW_READS
	DAEMON_WINDOWS=()
	# A fresh daemon per window, the three interleaved and their order
	# rotated run by run: the same daemon can cost a third more or less
	# from one start to the next (where its threads land), and a
	# drifting machine must not favour one of them.
	local names=(idle tcpstates tcpconns) run i
	for run in $(seq "$BENCH_RUNS"); do
		for i in 0 1 2; do
			name=${names[$(((i + run) % 3))]}
			say "N=$N collectd $name, run $run/$BENCH_RUNS"
			measure_daemon "$name"
		done
	done
	for name in "${names[@]}"; do
		dir=$WORK/collectd-$name-$N
		overruns "$name" "$dir/collectd.log" "${DAEMON_WINDOWS[$name]}"
		daemon_notes "$name" "$dir/collectd.log"
	done
}

summarize()
{
	local key label idle
	for key in "${!SAMPLES[@]}"; do
		[[ $key == "$N:"* ]] || continue
		RESULT[$key]=$(median "${SAMPLES[$key]}")
		RESULT[$key.spread]=$(spread "${RESULT[$key]}" "${SAMPLES[$key]}")
	done
	# Per read, minus what the idle daemon costs over the same time.
	idle=${RESULT[$N:cd_idle]:-0}
	for label in tcpstates tcpconns; do
		[[ -n ${RESULT[$N:cd_$label]:-} ]] || continue
		RESULT[$N:read_$label]=$(calc "${RESULT[$N:cd_$label]} - $idle")
		RESULT[$N:read_$label.spread]=${RESULT[$N:cd_$label.spread]}
	done
}

# ------------------------------ one size ------------------------------------

run_size()
{
	local why t0
	N=$1
	plan_mix "$N"
	why=$(feasibility)
	if [[ -n $why ]]; then
		STOPPED="stopped before N=$N: $why"
		return 1
	fi
	say "N=$N: building ($MIX_PAIRS pairs, $MIX_TW TIME_WAIT, $MIX_CW CLOSE_WAIT, $MIX_SR SYN_RECV, $MIX_LISTEN LISTEN)"
	new_namespace
	if ! start_population; then
		STOPPED="stopped at N=$N: $POP_ERROR"
		cleanup
		return 1
	fi
	say "N=$N: built in $(fmt_s "$BUILD_S") s"
	t0=$(date +%s.%N)
	topup 2
	census start
	# A floor figure first, to size the daemon warm-up.
	RESULT[$N:floor]=0
	measure_tools
	summarize
	measure_daemons
	topup 2
	census end
	summarize
	RESULT[$N:build_s]=$BUILD_S
	RESULT[$N:measure_s]=$(calc "$(date +%s.%N) - $t0")
	stop_population
	cleanup
	DONE_SIZES+=("$N")
	# The namespace's sockets are purged in the background; let them go.
	sleep 5
}

# ------------------------------ many namespaces -----------------------------
#
# What Discover costs: the plugin reading 1, 10 and 100 namespaces of
# BENCH_NS_SOCKETS sockets each, found by discovery, on a host holding
# BENCH_NS_HOST sockets, against the two ways of doing the same without
# it: reading /proc/PID/net/tcp and tcp6 for each namespace (cAdvisor's
# per-container TCP statistics) and `ss -tan` in each. Twice: with the
# namespaces in the kernel's one established table, shared by every
# namespace (the default), and with a table of their own
# (net.ipv4.tcp_child_ehash_entries set in the namespace they are made
# from, Linux 6.1+).
#
# Discovery finds every namespace on the host, so the whole phase runs in
# a world of its own: a pid namespace (only its processes in /proc) and a
# mount namespace with an empty /run/netns (no other pin in sight),
# entered from the populated namespace, which is where collectd runs (its
# own namespace, read as the host). Everything in it ends with it.

# ns_sample VARIANT COUNT LABEL VALUE: one figure, into NS_SAMPLES.
ns_sample()
{
	echo "$1 $2 $3 $4" >>"$NS_SAMPLES"
}

# ns_grow COUNT: namespaces tcps-d1 .. tcps-dCOUNT exist, each with a
# sockmaker holding about BENCH_NS_SOCKETS sockets: ESTABLISHED pairs,
# a few CLOSE_WAIT sockets with their FIN_WAIT2 peers (so that the leak
# finder has owners to find) and listeners, a quarter on ::1. They hold
# descriptors only: nothing expires while they are measured.
ns_grow()
{
	local want=$1 i pairs ns
	pairs=$(((BENCH_NS_SOCKETS - 2 * 5 - 6) / 2))
	for ((i = ${#NS_PIDS[@]} + 1; i <= want; i++)); do
		ns=tcps-d$i
		ip netns add "$ns"
		ip netns exec "$ns" ip link set lo up
		ip netns exec "$ns" "$BUILD/sockmaker" --established "$pairs" \
			--fin-wait2 5 --listen 4 --v6-every 4 \
			--hold "$BENCH_MAX_SECONDS" <"$NS_HOLD_FIFO" \
			>"$WORK/ns-$ns.out" 2>"$WORK/ns-$ns.err" &
		NS_PIDS+=($!)
		NS_NAMES+=("$ns")
	done
	for i in "${!NS_PIDS[@]}"; do
		for _ in $(seq 300); do
			grep -q READY "$WORK/ns-${NS_NAMES[$i]}.out" && break
			kill -0 "${NS_PIDS[$i]}" 2>/dev/null ||
				die "sockmaker in ${NS_NAMES[$i]}: $(cat "$WORK/ns-${NS_NAMES[$i]}.err")"
			sleep 0.1
		done
	done
}

# ns_drop: every small namespace goes, its sockets reset.
ns_drop()
{
	local pid ns
	for pid in "${NS_PIDS[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in "${NS_PIDS[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	for ns in "${NS_NAMES[@]}"; do
		ip netns delete "$ns"
	done
	NS_PIDS=()
	NS_NAMES=()
}

# ns_reads SECONDS-PER-READ: reads per sample, so that a sample of many
# reads takes about 10 s, at least 3 and at most 50.
ns_reads()
{
	awk -v t="$1" 'BEGIN { r = int(10 / (t > 0 ? t : 0.001));
		print (r < 3 ? 3 : (r > 50 ? 50 : r)) }'
}

# ns_daemon DISCOVER READS: one fresh collectd in this (the populated)
# namespace, Discover DISCOVER, its CPU over READS intervals after a
# warm-up that holds the first discovery; sets CPU_PER_READ and OVERRUN
# (reads that took longer than the interval, from its log).
ns_daemon()
{
	local discover=$1 reads=$2 dir opt cpu warm
	dir=$WORK/ns-collectd-$discover-$NS_VARIANT-${#NS_NAMES[@]}
	mkdir -p "$dir"
	{
		echo "Hostname \"bench\""
		echo "BaseDir \"$dir\""
		echo "PIDFile \"$dir/collectd.pid\""
		echo "Interval $NS_INTERVAL"
		echo "PluginDir \"/usr/lib/collectd\""
		echo "LoadPlugin logfile"
		echo "<Plugin logfile>"
		echo "  LogLevel info"
		echo "  File \"$dir/collectd.log\""
		echo "</Plugin>"
		echo "PostCacheChain \"BenchDrop\""
		echo "<Chain \"BenchDrop\">"
		echo "  Target \"stop\""
		echo "</Chain>"
		echo "PluginDir \"$BUILD\""
		echo "LoadPlugin tcpstates"
		echo "<Plugin tcpstates>"
		for opt in "${TCPS_OPTIONS[@]}"; do echo "  $opt"; done
		echo "  Discover $discover"
		echo "  MaxNamespaces $((${#NS_NAMES[@]} + 16))"
		echo "</Plugin>"
	} >"$dir/collectd.conf"
	warm=$(calc "3 * $NS_INTERVAL + 1")
	topup "$(ceil "$warm + $reads * $NS_INTERVAL + 3 * $NS_INTERVAL")"
	collectd -f -C "$dir/collectd.conf" 2>>"$dir/stderr" &
	DAEMON_PID=$!
	sleep "$warm"
	kill -0 "$DAEMON_PID" 2>/dev/null ||
		die "collectd (Discover $discover) exited; see $dir/collectd.log"
	cpu=$("$OUT/cputime" watch "$DAEMON_PID" \
		"$(calc "$reads * $NS_INTERVAL")") ||
		die "collectd (Discover $discover) vanished"
	kill "$DAEMON_PID"
	wait "$DAEMON_PID" 2>/dev/null || true
	DAEMON_PID=""
	CPU_PER_READ=$(calc "$cpu / $reads")
	OVERRUN=$(grep -c 'above its read interval' "$dir/collectd.log" || true)
	grep -E 'tcpstates plugin:' "$dir/collectd.log" | head -n 5 |
		sed "s/^/bench: Discover $discover: /" >&2 || true
}

# ns_measure: every figure for the namespaces there are now.
ns_measure()
{
	local count=${#NS_NAMES[@]} run one reads window_reads sockets host
	local discover
	local -a names=("${NS_NAMES[@]}")
	# The sockets in them, as /proc/PID/net counts them.
	sockets=$("$OUT/procnet" "${NS_PIDS[@]}" | awk '{ s += $2 } END { print s + 0 }')
	ns_sample "$NS_VARIANT" "$count" sockets "$sockets"
	ns_sample "$NS_VARIANT" "$count" ehash \
		"$(ip netns exec "${names[0]}" sysctl -n net.ipv4.tcp_ehash_entries)"
	cpu_run procnet1 "$OUT/procnet" -n 1 "${NS_PIDS[@]}"
	reads=$(ns_reads "$CPU")
	# The daemon reads at least 3 times as long as the namespaces' dumps
	# would take if each cost what half a /proc read costs (one walk of
	# the table for two), and at least every second: at 0.5 s the host's
	# read alone (0.08 s of CPU at 100k) overran now and then on a busy
	# machine, and a read that overruns hides CPU from the window.
	NS_INTERVAL=$(awk -v c="$CPU" 'BEGIN {
		i = int((3 * (c / 2 + 0.1)) * 2 + 0.999) / 2
		print (i < 1 ? 1 : i) }')
	# Whole discovery periods (DiscoverEvery, 6 by default) of at least
	# BENCH_WINDOW_SECONDS.
	window_reads=$(awk -v i="$NS_INTERVAL" -v s="$BENCH_WINDOW_SECONDS" \
		'BEGIN { r = int(s / i + 0.999); r = int((r + 5) / 6) * 6
			print (r < 6 ? 6 : r) }')
	for run in $(seq "$BENCH_NS_RUNS"); do
		say "namespaces: $NS_VARIANT tables, $count namespaces, run $run/$BENCH_NS_RUNS"
		cpu_run procnet "$OUT/procnet" -n "$reads" "${NS_PIDS[@]}"
		one=$CPU
		cpu_run procnet "$OUT/procnet" -n 1 "${NS_PIDS[@]}"
		ns_sample "$NS_VARIANT" "$count" procnet \
			"$(calc "($one - $CPU) / ($reads - 1)")"
		# shellcheck disable=SC2016 # the loop's own variable
		cpu_run ss sh -c 'for ns; do
				nsenter --net="/run/netns/$ns" ss -tan || exit 1
			done' sh "${names[@]}"
		ns_sample "$NS_VARIANT" "$count" ss "$CPU"
		# The two daemons in turn, the order changing run by run;
		# what discovery adds is the difference within a run.
		if ((run % 2)); then
			ns_daemon false "$window_reads"
			host=$CPU_PER_READ
			ns_daemon true "$window_reads"
		else
			ns_daemon true "$window_reads"
			discover=$CPU_PER_READ
			ns_daemon false "$window_reads"
			host=$CPU_PER_READ
			CPU_PER_READ=$discover
		fi
		ns_sample "$NS_VARIANT" "$count" overrun "$OVERRUN"
		ns_sample "$NS_VARIANT" "$count" host "$host"
		ns_sample "$NS_VARIANT" "$count" added \
			"$(calc "$CPU_PER_READ - $host")"
	done
	ns_sample "$NS_VARIANT" "$count" interval "$NS_INTERVAL"
}

# The phase itself, inside its pid and mount namespaces (see above).
namespaces_inner()
{
	local count
	mount -t tmpfs -o mode=755 tcps-bench-netns /run/netns
	NS=""
	NS_PIDS=()
	NS_NAMES=()
	NS_HOLD_FIFO=$WORK/ns-hold
	mkfifo "$NS_HOLD_FIFO"
	# Read and write: it opens at once and never reaches EOF while we live.
	# shellcheck disable=SC2034 # only held open
	exec {NS_HOLD_FD}<>"$NS_HOLD_FIFO"
	N=$BENCH_NS_HOST
	plan_mix "$N"
	start_population || die "$POP_ERROR"
	say "namespaces: host population of $N built in $(fmt_s "$BUILD_S") s"
	for NS_VARIANT in shared own; do
		if [[ $NS_VARIANT == own ]]; then
			sysctl -qw net.ipv4.tcp_child_ehash_entries="$BENCH_NS_EHASH"
		else
			sysctl -qw net.ipv4.tcp_child_ehash_entries=0
		fi
		for count in $BENCH_NAMESPACES; do
			ns_grow "$count"
			ns_measure
		done
		ns_drop
	done
	stop_population
}

# run_namespaces: the phase, from the outside: a populated namespace as
# for one size, and the phase run inside it.
run_namespaces()
{
	local why most=0 count
	for count in $BENCH_NAMESPACES; do
		((count > most)) && most=$count
	done
	N=$BENCH_NS_HOST
	plan_mix "$N"
	why=$(feasibility $((most * BENCH_NS_SOCKETS)))
	if [[ -n $why ]]; then
		NS_STOPPED="namespaces not measured: $why"
		return 1
	fi
	say "namespaces: $BENCH_NAMESPACES namespaces of $BENCH_NS_SOCKETS sockets on a host of $N"
	new_namespace
	NS_SAMPLES=$OUT/ns-samples.txt
	: >"$NS_SAMPLES"
	# --kill-child: the phase ends with us (its pid 1 ending ends it all).
	ip netns exec "$NS" unshare --pid --fork --kill-child --mount \
		--mount-proc --propagation private \
		env BUILD="$BUILD" NS_SAMPLES="$NS_SAMPLES" \
		bash "$SRC_DIR/bench.sh" --namespaces-inner ||
		NS_STOPPED="the namespace phase failed (see above)"
	cleanup
}

report_namespaces()
{
	local variant count row label key
	[[ -s ${NS_SAMPLES:-} ]] || {
		[[ -z ${NS_STOPPED:-} ]] || printf '\n%s\n' "$NS_STOPPED"
		return 0
	}
	declare -A ns
	while read -r variant count label value; do
		ns[$variant:$count:$label]+=" $value"
	done <"$NS_SAMPLES"
	for key in "${!ns[@]}"; do
		ns[$key.spread]=$(spread "$(median "${ns[$key]}")" "${ns[$key]}")
		ns[$key]=$(median "${ns[$key]}")
	done
	echo
	echo "## Many namespaces (Discover)"
	echo
	echo "CPU seconds per read, medians of $BENCH_NS_RUNS runs (± half their range, in % of the median), with 1 .. N discovered namespaces of about $BENCH_NS_SOCKETS sockets each, on a host of $(label_n "$BENCH_NS_HOST") sockets; per namespace in brackets."
	echo
	row="| what | ${BENCH_NAMESPACES// / ns | } ns |"
	echo "$row"
	echo "|---|$(for _ in $BENCH_NAMESPACES; do printf -- '---:|'; done)"
	for variant in shared own; do
		[[ -n ${ns[$variant:${BENCH_NAMESPACES%% *}:sockets]:-} ]] || continue
		[[ $variant == shared ]] && label="one table for all" ||
			label="own tables ($BENCH_NS_EHASH buckets)"
		ns_row "$variant" "collectd + tcpstates, the host's read (Discover false), $label" host
		ns_row "$variant" "collectd + tcpstates, what Discover true adds to it, $label" added
		ns_row "$variant" "/proc/PID/net/tcp + tcp6 per namespace (cAdvisor), $label" procnet
		ns_row "$variant" "\`ss -tan\` per namespace (nsenter), $label" ss
	done
	echo
	echo "Sockets in the namespaces (as /proc/PID/net counts them), collectd's Interval and reads over it:"
	echo
	for variant in shared own; do
		for count in $BENCH_NAMESPACES; do
			[[ -n ${ns[$variant:$count:sockets]:-} ]] || continue
			echo "- $variant, $count: ${ns[$variant:$count:sockets]} sockets, tcp_ehash_entries ${ns[$variant:$count:ehash]:-?}, Interval ${ns[$variant:$count:interval]:-?} s, reads over the interval (median per window) ${ns[$variant:$count:overrun]:-?}"
		done
	done
	[[ -z ${NS_STOPPED:-} ]] || printf -- '- %s\n' "$NS_STOPPED"
	echo
	echo "How: the namespaces are made with \`ip netns add\` from the populated one (shared: \`tcp_child_ehash_entries\` 0 there; own: $BENCH_NS_EHASH), each with a sockmaker holding ESTABLISHED pairs, 5 CLOSE_WAIT sockets with their FIN_WAIT2 peers and listeners. collectd runs in the populated namespace, in a pid and mount namespace of the benchmark's own, so that discovery finds exactly these namespaces; \`MaxNamespaces\` above their number, \`DiscoverEvery\` and \`DiscoverValues\` at their defaults. Per run, one daemon with \`Discover false\` and one with \`Discover true\` (in turn, the order alternating), each fresh, over the same whole discovery periods of the same Interval; what Discover adds is the median of the per-run differences. /proc: \`tests/bench/procnet.c\` reads both files of each namespace through a pid inside and counts the states, (R reads - 1 read) / (R - 1). ss: one shell loop of \`nsenter --net=PIN ss -tan\`, whole, process starts included."
}

# ns_row VARIANT TEXT LABEL: one row, per namespace in brackets but for
# the host's read.
ns_row()
{
	local variant=$1 text=$2 label=$3 count v sp line
	line="| $text |"
	for count in $BENCH_NAMESPACES; do
		v=${ns[$variant:$count:$label]:-}
		sp=${ns[$variant:$count:$label.spread]:-}
		[[ -z $sp ]] || sp=" ±$sp%"
		if [[ -z $v ]]; then
			line+=" - |"
		elif [[ $label != host ]]; then
			line+=" $(fmt_s "$v")$sp ($(fmt_s "$(calc "$v / $count")")) |"
		else
			line+=" $(fmt_s "$v")$sp |"
		fi
	done
	echo "$line"
}

# ------------------------------ report --------------------------------------

label_n()
{
	awk -v n="$1" 'BEGIN {
		if (n >= 1000000 && n % 1000000 == 0) print n / 1000000 "M"
		else if (n >= 1000 && n % 1000 == 0) print n / 1000 "k"
		else print n }'
}

machine_line()
{
	local cpu mem cd ssv
	cpu=$(lscpu 2>/dev/null | awk -F: '/^Model name/ { sub(/^ +/, "", $2); print $2; exit }')
	mem=$(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
	cd=$(collectd -h 2>&1 | grep -oE 'collectd [0-9]+(\.[0-9]+)*' | head -n 1)
	ssv=$(ss -V 2>&1 | grep -oE 'iproute2-[^ ]+' | head -n 1)
	echo "Machine: ${cpu:-unknown CPU}, $(nproc) cores, Linux $(uname -r), $mem RAM; $cd; ss $ssv; at start: load average $LOAD_START, $PROCS_START processes."
}

table_header()
{
	local n line="| $1 |" sep="|---|"
	for n in "${DONE_SIZES[@]}"; do
		line+=" $(label_n "$n") |"
		sep+="---:|"
		if [[ $2 == ratio ]]; then
			line+=" x floor |"
			sep+="---:|"
		fi
	done
	echo "$line"
	echo "$sep"
}

# cpu_row TEXT KEY [DAEMON]: absolute median and ratio to the floor, per
# size; (!) where DAEMON had reads overrun its interval while measured.
cpu_row()
{
	local n line="| $1 |" v mark sp
	for n in "${DONE_SIZES[@]}"; do
		v=${RESULT[$n:$2]:-}
		mark=""
		[[ -z ${3:-} || -z ${RESULT[$n:overrun_${3:-}]:-} ]] || mark=" (!)"
		sp=${RESULT[$n:$2.spread]:-}
		[[ -z $sp ]] || sp=" ±$sp%"
		line+=" $(fmt_s "$v")$sp$mark | $(fmt_r "$v" "${RESULT[$n:floor]}") |"
	done
	echo "$line"
}

mem_row()
{
	local n line="| $1 |" v
	for n in "${DONE_SIZES[@]}"; do
		v=${RESULT[$n:$2]:-}
		line+=" $(awk -v x="$v" 'BEGIN { if (x == "") print "-"; else printf "%.1f\n", x / 1024 }') |"
	done
	echo "$line"
}

census_row()
{
	local n=$1 s
	local line
	line="| $(label_n "$n") |"
	for s in ESTABLISHED SYN_RECV FIN_WAIT2 TIME_WAIT CLOSE_WAIT LISTEN; do
		line+=" ${CENSUS[$n:start:$s]:-?} |"
	done
	line+=" ${CENSUS[$n:start:TOTAL]:-?} / ${CENSUS[$n:end:TOTAL]:-?} |"
	line+=" ${RESULT[$n:tw_min]:-?} - ${RESULT[$n:tw_max]:-?} |"
	line+=" $(fmt_s "${RESULT[$n:build_s]}") | $(fmt_s "${RESULT[$n:measure_s]}") |"
	echo "$line"
}

report()
{
	local n key opts count slowest
	opts=$(printf '`%s`, ' "${TCPS_OPTIONS[@]}")
	echo "# collectd-tcpstates benchmark"
	echo
	machine_line
	echo
	echo "Run $(date -u '+%Y-%m-%d %H:%M UTC'), $BENCH_RUNS runs per figure (medians), collectd windows of at least $BENCH_WINDOW intervals and $BENCH_WINDOW_SECONDS s."
	echo "tcpstates options: ${opts%, }. tcpconns options: $(printf '`%s`, ' "${TCPCONNS_OPTIONS[@]}" | sed 's/, $//')."
	echo "Source tree at the end of the run: $(git -C "$SRC_DIR" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$SRC_DIR" diff --quiet HEAD -- 2>/dev/null || echo ' with uncommitted changes'), plugin and tcps-count from $BUILD."
	echo
	if [[ ${#DONE_SIZES[@]} -eq 0 ]]; then
		[[ -z $BENCH_SIZES ]] || echo "No size completed. ${STOPPED:-}"
		return
	fi
	echo "## Sockets in the namespace (as the floor dump counts them)"
	echo
	echo "| N | ESTABLISHED | SYN_RECV | FIN_WAIT2 | TIME_WAIT | CLOSE_WAIT | LISTEN | total, start / end | TIME_WAIT when measurements start | build s | measure s |"
	echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
	for n in "${DONE_SIZES[@]}"; do census_row "$n"; done
	echo
	echo "## CPU seconds per read, and the ratio to the floor of the same run"
	echo
	echo "Medians; ± is half the range of the runs, in % of the median."
	echo
	table_header "what" ratio
	cpu_row "floor: one legacy TCPDIAG_GETSOCK dump, both families, count only" floor
	cpu_row "the floor without CAP_NET_ADMIN (no INET_DIAG_MARK per socket)" floor_nocap
	cpu_row "two v2 dumps (AF_INET, then AF_INET6), count only" floor2
	cpu_row "our core, full read cycle (tcps-count, reads 2..R)" ours
	cpu_row "collectd + tcpstates, per read (idle collectd subtracted)" read_tcpstates tcpstates
	cpu_row "collectd + tcpconns, per read (idle collectd subtracted)" read_tcpconns tcpconns
	cpu_row "\`ss -tan\`, whole run" ss
	cpu_row "\`ss -tanp state close-wait\`, whole run" ssp
	[[ -z $LEAK_COLD_CMD ]] || cpu_row "read with the leak finder, cold (first interval, whole run, dump included)" leak_cold
	[[ -z $LEAK_STEADY_CMD ]] || cpu_row "read with the leak finder, steady state, per read (dump included)" leak_steady
	cpu_row "the leak finder's own CPU, cold (read 1, dump excluded)" leak_own_cold
	cpu_row "the leak finder's own CPU, steady state, per read (dump excluded)" leak_own_steady
	echo
	if [[ -n $LEAK_COLD_CMD || -n $LEAK_STEADY_CMD ]]; then
		echo "Leak finder against \`ss -tanp state close-wait\`:"
		echo
		for n in "${DONE_SIZES[@]}"; do
			echo "- $(label_n "$n"): whole reads, dump included: cold $(fmt_r "${RESULT[$n:leak_cold]:-}" "${RESULT[$n:ssp]}"), steady $(fmt_r "${RESULT[$n:leak_steady]:-}" "${RESULT[$n:ssp]}"); the leak finder's own work: cold $(fmt_r "${RESULT[$n:leak_own_cold]:-}" "${RESULT[$n:ssp]}"), steady $(fmt_r "${RESULT[$n:leak_own_steady]:-}" "${RESULT[$n:ssp]}")"
		done
		echo
	fi
	echo "## Peak resident memory, MiB"
	echo
	table_header "what" plain
	mem_row "collectd, no read plugin (VmHWM)" cd_idle.hwm
	mem_row "collectd + tcpstates (VmHWM)" cd_tcpstates.hwm
	mem_row "collectd + tcpconns (VmHWM)" cd_tcpconns.hwm
	for n in "${DONE_SIZES[@]}"; do
		RESULT[$n:hwm_delta]=$(calc "${RESULT[$n:cd_tcpstates.hwm]:-0} - ${RESULT[$n:cd_idle.hwm]:-0}")
	done
	mem_row "tcpstates' share (with - without)" hwm_delta
	mem_row "\`ss -tan\` (max RSS)" ss.rss
	mem_row "\`ss -tanp state close-wait\` (max RSS)" ssp.rss
	echo
	echo "## How"
	echo
	echo "- Sockets: \`tests/bench/populate.c\` in a private namespace on loopback: ESTABLISHED pairs, a quarter TIME_WAIT (client side, from 4096 source addresses 127.1.x.y, topped up before every measurement since they last 60 s), CLOSE_WAIT held by a process named \`$LEAK_NAME\` (with their half-closed peers, in FIN_WAIT2), SYN_RECV requests on deferred-accept listeners (their clients ESTABLISHED), extra listeners; a fourth of each on ::1. Listeners on ports 1024-9999, clients in the ephemeral range 10000-65535. Holders keep at most 18000 descriptors each."
	echo "- TIME_WAIT: before every measurement the populator asks the kernel how long each TIME_WAIT has left, destroys (SOCK_DESTROY, as \`ss -K\` does) those that would expire before the measurement ends and makes them anew, so none expires during it; the column above gives the range every measurement started with, as the kernel counted them. For collectd this happens before each daemon starts, for all of its life, because making a TIME_WAIT passes its server end through CLOSE_WAIT for a moment.
- CPU is user + system time from the kernel's accounting: \`getrusage(RUSAGE_CHILDREN)\` of one run (\`tests/bench/cputime.c run\`), or the daemon's process CPU clock over a window (\`cputime watch\`; the same clock /proc/PID/stat reports in ticks)."
	echo "- Floor, v2 dumps and our core: (CPU of a run with R reads - CPU of a run with 1 read) / (R - 1), R = $(for n in "${DONE_SIZES[@]}"; do printf '%s (%s), ' "$(reads_for "$n")" "$(label_n "$n")"; done | sed 's/, $//'); this leaves out process start and the first read. \`ss\`: whole runs, output to /dev/null."
	echo "- collectd: \`collectd -f\`, values dropped by a PostCache chain (no writer); Interval and reads per window $(for n in "${DONE_SIZES[@]}"; do printf '%s s x %s (%s), ' "${RESULT[$n:interval]}" "${RESULT[$n:window_reads]}" "$(label_n "$n")"; done | sed 's/, $//'): a read fits its interval comfortably and a window lasts at least $BENCH_WINDOW_SECONDS s; $BENCH_RUNS windows, each from a fresh daemon after a warm-up, the three daemons interleaved in rotating order; per read = (CPU per window minus the idle daemon's CPU over the same time, same config without a read plugin) / reads per window."
	echo "- The established hash is shared by every namespace: sockets elsewhere on the host are walked by every dump too (but not counted). \`ss -p\` reads the descriptors of every process on the host (here also the populator's holders, one per socket with a descriptor), so other work on the machine shows in its figures."
	for key in "${!RESULT[@]}"; do
		[[ $key == *:overrun_* && -n ${RESULT[$key]} ]] || continue
		read -r count slowest <<<"${RESULT[$key]}"
		echo "- (!) N=${key%%:*} ${key#*:overrun_}: $count reads in the measured windows took longer than the interval (slowest ${slowest} s); collectd then starts the next read late, so this figure understates CPU per read."
	done
	for key in "${!NOTES[@]}"; do
		echo "- collectd log, N=${key%%:*} ${key#*:}: ${NOTES[$key]}"
	done
	[[ -z ${STOPPED:-} ]] || echo "- ${STOPPED}."
	echo
	echo "Rerun: \`make bench\` (root), or \`BENCH_SIZES=\"10000 100000\" BENCH_RUNS=5 make bench\`."
}

# ------------------------------ main ----------------------------------------

if [[ ${1:-} == --namespaces-inner ]]; then
	namespaces_inner
	exit 0
fi
check_prerequisites
build_helpers
rm -rf "$WORK"
mkdir -p "$WORK"
: >"$OUT/samples.txt"
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
# A glob, not find: find fails when a process exits while it lists /proc.
procs=(/proc/[0-9]*)
PROCS_START=${#procs[@]}
DONE_SIZES=()
STOPPED=""
for size in $BENCH_SIZES; do
	elapsed=$(($(date +%s) - T_START))
	if ((elapsed > BENCH_MAX_SECONDS)); then
		STOPPED="stopped before N=$size: BENCH_MAX_SECONDS ($BENCH_MAX_SECONDS) used up after ${elapsed} s"
		break
	fi
	run_size "$size" || break
done
[[ -z $STOPPED ]] || say "$STOPPED"
NS_STOPPED=""
if [[ -n $BENCH_NAMESPACES ]]; then
	run_namespaces || say "$NS_STOPPED"
fi
{
	report
	report_namespaces
} | tee "$OUT/report.md"
