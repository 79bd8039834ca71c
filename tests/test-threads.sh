#!/bin/bash
# Read threads: collectd runs read callbacks on several threads at once,
# and setns and capabilities are per thread. A real collectd with
# ReadThreads 5 reads three <Namespace> blocks (a callback each, each
# with its own owner search) and, with Discover true and DiscoverEvery 1,
# four `ip netns add` namespaces (one callback, one shared owner search),
# next to its own namespace: five callbacks due at once every interval.
# Every namespace holds real sockets in several states, in counts of its
# own (values read in the wrong namespace do not match), all held by one
# process with CLOSE_WAIT sockets. Checked, first natively at Interval
# 0.2, then with the daemon under valgrind's helgrind:
#   - every namespace's values (each state and the holder's CLOSE_WAIT
#     group) equal `ss -tan` inside it at a quiet moment;
#   - two discovered namespaces go as a container's does: their pins
#     are deleted (each is still found through its process and keeps its
#     name: no second name appears), then their processes end: each
#     sends zeros once (the only 0 of its ESTABLISHED count and of its
#     holder's group, at most one read after), then nothing;
#   - a namespace created meanwhile is read from the first discovery
#     that starts after it exists;
#   - the others go on, still equal to ss; the plugin logs no problem;
#     collectd exits 0 on SIGTERM;
#   - under helgrind: at least THREADS_READS reads, no error, none in a
#     frame of tcpstates.so. threads.supp holds collectd's own reports
#     at shutdown (by their frames in the daemon and libc).
# A race planted in the plugin (a counter every read callback bumps
# without a lock) fails the helgrind run: see tests/README.md.
#
# Runs in a pid, mount and network namespace of its own (private_host in
# lib.sh): Discover then sees only what this test makes. Environment:
# THREADS_PHASES ("native helgrind"), THREADS_READS (40 per phase),
# THREADS_HG_INTERVAL (0.5 s: at 0.2 helgrind's reads take longer than
# the interval), THREADS_HG_OPTS (more helgrind options);
# THREADS_KEEP=1 keeps the work folders.
source "$(dirname "$0")/lib.sh"
need_root
# Before private_host: its network namespace has no way out to the archive.
[[ ${TCPS_PRIVATE_HOST:-0} == 1 ]] ||
	"$TESTS_DIR/tools/deps.sh" soak # valgrind, for helgrind
private_host "$@"

phases=${THREADS_PHASES:-native helgrind}
# Under the sanitizers (make asan) the native phase runs with them;
# helgrind cannot run an instrumented plugin.
[[ ${TCPS_SANITIZE:-0} != 1 ]] || phases=native
want_reads=${THREADS_READS:-40}
host=threads
BLOCKS=(b1 b2 b3)
FOUND=(d1 d2 d3 d4)

# The sockets of namespace number N (0-6): counts of its own, so values
# read in the wrong namespace do not match.
sockets_of()
{
	echo --established $((3 + $1)) --close-wait $((2 + $1)) \
		--fin-wait2 $((1 + $1 % 3)) --listen $((1 + $1 % 2)) \
		--v6-every 3
}

# start_holder NAME N DIR: the sockets of number N in namespace NAME,
# held by a sockmaker whose pid and fd are kept in SMK_PID[NAME],
# SMK_FD[NAME].
declare -A SMK_PID SMK_FD
start_holder()
{
	mkdir -p "$3/smk-$1"
	# shellcheck disable=SC2046
	start_sockmaker "$1" "$3/smk-$1" $(sockets_of "$2")
	SMK_PID[$1]=$SOCKMAKER_PID
	SMK_FD[$1]=$SOCKMAKER_FD
}

# end_namespace NAME: its sockets reset (the sockmaker ends), then the
# namespace deleted.
end_namespace()
{
	stop_sockmaker_saved "${SMK_PID[$1]}" "${SMK_FD[$1]}"
	ip netns delete "$1"
}

# states DIR NAME: "STATE count" as collectd last wrote them for
# tcpstates-NAME, then the CLOSE_WAIT group of the sockets' holder.
states()
{
	local state
	for state in "${STATE_NAMES[@]}"; do
		echo "$state $(csv_value "$1" "$host" "tcpstates-$2" \
			"tcp_connections-$state" | sed 's/\.0*$//')"
	done
	echo "holder $(csv_value "$1" "$host" "tcpstates_proc_close_wait-$2" \
		tcp_connections-sockmaker | sed 's/\.0*$//')"
}

# ss_states NS: the same from ss inside NS (every CLOSE_WAIT socket there
# is the sockmaker's).
ss_states()
{
	local all
	all=$(ss_all_once "$1")
	echo "$all"
	echo "holder $(awk '$1 == "CLOSE_WAIT" { print $2 }' <<<"$all")"
}

# newest DIR NAME: the time of NAME's newest ESTABLISHED row.
newest()
{
	csv_row "$1" "$host" "tcpstates-$2" tcp_connections-ESTABLISHED |
		cut -d, -f1
}

# read_since DIR T NAME...: every NAME has a row from a read started
# after T.
read_since()
{
	local name t
	collectd_alive "$1"
	for name in "${@:3}"; do
		t=$(newest "$1" "$name")
		[[ -n $t ]] && awk -v a="$t" -v b="$2" 'BEGIN { exit !(a > b) }' ||
			return 1
	done
}

# equal_ss DIR WAIT NAME...: each NAME's values equal ss inside the
# namespace NAME, compared when ss showed the same before and after a
# read of every NAME (tries 5 times).
equal_ss()
{
	local dir=$1 wait=$2 name t0 same
	local -A before got
	shift 2
	for _ in 1 2 3 4 5; do
		for name in "$@"; do
			before[$name]=$(ss_states "$name")
		done
		t0=$(now_s)
		wait_until "$wait" read_since "$dir" "$t0" "$@" ||
			fail "no new read of every namespace in $wait s"
		same=1
		for name in "$@"; do
			got[$name]=$(states "$dir" "$name")
			[[ ${before[$name]} == "$(ss_states "$name")" ]] || same=0
		done
		((same)) || continue
		for name in "$@"; do
			[[ ${got[$name]} == "${before[$name]}" ]] && continue
			diff <(echo "${before[$name]}") <(echo "${got[$name]}") >&2
			fail "$name differs from ss inside it (< ss, > collectd)"
		done
		note "equal to ss: $*"
		return 0
	done
	fail "sockets kept changing; no stable comparison"
}

# reads_at_least DIR N: the daemon's own namespace was read N times.
reads_at_least()
{
	collectd_alive "$1"
	(($(csv_rows "$1" "$host" tcpstates-host tcp_connections-ESTABLISHED |
		wc -l) >= $2))
}

# rows_after DIR NAME T: how many of tcpstates-NAME's ESTABLISHED rows
# come from reads started after T.
rows_after()
{
	csv_rows "$1" "$host" "tcpstates-$2" tcp_connections-ESTABLISHED |
		awk -F, -v t="$3" '$1 > t { n++ } END { print n + 0 }'
}

# farewell_once DIR NAME T: NAME's namespace went at T, sockets and all:
# every state's last value is 0, and the only 0 ever sent for ESTABLISHED
# and for the holder's CLOSE_WAIT group; at most one read after T sent
# anything.
farewell_once()
{
	local state last after zeros file
	for state in "${STATE_NAMES[@]}"; do
		last=$(csv_value "$1" "$host" "tcpstates-$2" \
			"tcp_connections-$state")
		num_eq "$last" 0 || fail "$2: $state ends at $last, not 0"
	done
	for file in "tcpstates-$2 tcp_connections-ESTABLISHED" \
		"tcpstates_proc_close_wait-$2 tcp_connections-sockmaker"; do
		# shellcheck disable=SC2086
		zeros=$(csv_rows "$1" "$host" $file |
			awk -F, '$2 + 0 == 0 { n++ } END { print n + 0 }')
		[[ $zeros -eq 1 ]] || fail "$2: $file sent 0 $zeros times"
	done
	after=$(rows_after "$1" "$2" "$3")
	((after <= 1)) || fail "$2: $after reads sent values after it went"
}

# write_conf DIR INTERVAL BLOCK...: ReadThreads 5, a <Namespace> block
# for each BLOCK (its pin's name), Discover.
write_conf()
{
	local name
	{
		collectd_conf "$1" "$host" --interval "$2"
		echo "ReadThreads 5"
		echo "PluginDir \"$BUILD\""
		echo "LoadPlugin tcpstates"
		echo "<Plugin tcpstates>"
		for name in "${@:3}"; do
			printf '  <Namespace "%s">\n    Path "/var/run/netns/%s"\n  </Namespace>\n' \
				"$name" "$name"
		done
		echo "  Discover true"
		echo "  DiscoverEvery 1"
		echo "</Plugin>"
	} >"$1/collectd.conf"
}

# start_daemon DIR MODE: collectd in this namespace, natively or under
# helgrind (its report in DIR/helgrind.log).
start_daemon()
{
	local -a run=("${COLLECTD[@]}") more
	read -ra more <<<"${THREADS_HG_OPTS:-}"
	[[ $2 == native ]] ||
		run=(valgrind --tool=helgrind --num-callers=30 --error-exitcode=99
			"--suppressions=$TESTS_DIR/threads.supp" "${more[@]}"
			"--log-file=$1/helgrind.log" collectd)
	"${run[@]}" -f -C "$1/collectd.conf" 2>"$1/collectd.stderr" &
	track_pid $!
	COLLECTD_PID=$!
}

# helgrind_clean DIR: no error in the report, none in our plugin's
# frames (its object, or one of its sources).
helgrind_clean()
{
	local log=$1/helgrind.log ours="tcpstates[.]so" src
	for src in "$TESTS_DIR"/../plugin/*.c; do
		src=${src##*/}
		ours+="|[(]${src%.c}[.]c:[0-9]+[)]"
	done
	note "helgrind: $(grep -o 'ERROR SUMMARY.*' "$log")"
	if grep -qE "$ours" "$log"; then
		grep -B5 -A30 -m3 -E "$ours" "$log" >&2
		fail "helgrind reports in frames of tcpstates.so"
	fi
	grep -q "ERROR SUMMARY: 0 errors" "$log" ||
		{ head -100 "$log" >&2; fail "helgrind reported errors"; }
}

# scenario MODE INTERVAL READS: the whole story once; the namespaces' names
# carry MODE's first letter so the two runs never meet.
scenario()
{
	local mode=$1 interval=$2 want=$3 work wait i t_del new t_new first gap
	local reads rc
	local -a all blocks found kept
	new_workdir work
	if [[ ${THREADS_KEEP:-0} == 1 ]]; then
		unset 'WORK_LIST[-1]'
		note "$mode: work folder $work"
	fi
	blocks=("${BLOCKS[@]/#/${mode:0:1}}")
	found=("${FOUND[@]/#/${mode:0:1}}")
	all=("${blocks[@]}" "${found[@]}")
	for i in "${!all[@]}"; do
		new_netns "${all[$i]}"
		start_holder "${all[$i]}" "$i" "$work"
	done
	write_conf "$work" "$interval" "${blocks[@]}"
	start_daemon "$work" "$mode"
	# A read of a namespace may wait for the others' under helgrind.
	wait=$([[ $mode == native ]] && echo 20 || echo 90)
	wait_until "$wait" read_since "$work" 0 "${blocks[@]}" "${found[@]}" ||
		{ cat "$work/collectd.log"; fail "$mode: not every namespace reported"; }
	note "$mode: every namespace reported; ReadThreads 5, Interval $interval"
	equal_ss "$work" "$wait" "${blocks[@]}" "${found[@]}"
	# Half the reads before the namespaces change, half after.
	wait_until "$wait" reads_at_least "$work" $((want / 2)) ||
		fail "$mode: fewer than $((want / 2)) reads in $wait s"

	# Two discovered namespaces go, as a container's does: the pin
	# first (the namespace is still found, through its process's /proc
	# entry, and keeps its name), then the process and its sockets.
	ip netns delete "${found[0]}"
	ip netns delete "${found[1]}"
	t_del=$(now_s)
	wait_until "$wait" read_since "$work" "$t_del" "${found[@]:0:2}" ||
		fail "$mode: ${found[*]:0:2} lost when their pins went"
	stop_sockmaker_saved "${SMK_PID[${found[0]}]}" "${SMK_FD[${found[0]}]}"
	stop_sockmaker_saved "${SMK_PID[${found[1]}]}" "${SMK_FD[${found[1]}]}"
	t_del=$(now_s)
	new="${mode:0:1}d5"
	new_netns "$new"
	t_new=$(now_s)
	start_holder "$new" 7 "$work"
	kept=("${found[2]}" "${found[3]}")
	wait_until "$wait" read_since "$work" "$t_new" "$new" ||
		fail "$mode: $new was never read"
	first=$(csv_rows "$work" "$host" "tcpstates-$new" \
		tcp_connections-ESTABLISHED | head -1 | cut -d, -f1)
	# Reads of the discovered callback that started after it existed
	# and did not have it: none (DiscoverEvery 1).
	gap=$(csv_rows "$work" "$host" "tcpstates-${kept[0]}" \
		tcp_connections-ESTABLISHED | awk -F, -v a="$t_new" -v b="$first" \
		'$1 > a && $1 < b { n++ } END { print n + 0 }')
	[[ $gap -eq 0 ]] || fail "$mode: $new was missed by $gap discoveries"
	note "$mode: $new read from the first discovery after it was made"
	equal_ss "$work" "$wait" "${blocks[@]}" "${kept[@]}" "$new"
	# By now several reads have passed since the deletions.
	[[ $(rows_after "$work" "${kept[0]}" "$t_del") -ge 3 ]] ||
		fail "$mode: too few reads after the deletions"
	farewell_once "$work" "${found[0]}" "$t_del"
	farewell_once "$work" "${found[1]}" "$t_del"
	note "$mode: ${found[0]} and ${found[1]} sent zeros once, then nothing"
	! ls -d "$work/csv/$host/tcpstates-netns-"* 2>/dev/null ||
		fail "$mode: a namespace was read under a second name"
	grep -q "Discover: reading 4 network namespaces (4 new, 0 gone)" \
		"$work/collectd.log" || fail "$mode: no log line for the first four"

	wait_until "$wait" reads_at_least "$work" "$want" ||
		fail "$mode: fewer than $want reads in $wait s"
	reads=$(csv_rows "$work" "$host" tcpstates-host tcp_connections-ESTABLISHED |
		wc -l)
	rc=0
	kill -TERM "$COLLECTD_PID"
	wait "$COLLECTD_PID" || rc=$?
	# First what helgrind saw (it also sets the exit code).
	[[ $mode == native ]] || helgrind_clean "$work"
	[[ $rc -eq 0 ]] || {
		tail "$work/collectd.log"
		fail "$mode: collectd exited with $rc on SIGTERM"
	}
	note "$mode: $reads reads, collectd exited 0 on SIGTERM"
	if grep "tcpstates plugin:" "$work/collectd.log" | grep -v "Discover: reading"; then
		fail "$mode: the plugin logged a problem"
	fi
	for i in "${blocks[@]}" "${kept[@]}" "$new"; do
		end_namespace "$i"
	done
}

for phase in $phases; do
	case $phase in
	native) scenario native 0.2 "$want_reads" ;;
	helgrind) scenario helgrind "${THREADS_HG_INTERVAL:-0.5}" "$want_reads" ;;
	*) fail "unknown phase $phase" ;;
	esac
done
echo "threads: ok"
