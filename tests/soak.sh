#!/bin/bash
# Soak: a real collectd under valgrind memcheck reads with a short
# interval while sockets churn in its namespace: connections open and
# close, a process leaking CLOSE_WAIT sockets comes and goes, a
# namespace the plugin watches is deleted and re-created, and CLOSE_WAIT
# sockets are handed between processes that live on (tests/tools/
# handoff.c: by fork, and with SCM_RIGHTS). With Discover true
# (DiscoverEvery 2) two namespaces come and go, one step each every
# other churn round (a round is a few reads): made with a process
# holding sockets, its pin deleted (still found through the process,
# under the same name), its process ended (gone). Runs in a pid, mount
# and network namespace of its own (private_host in lib.sh), so that
# discovery finds only these. It passes when:
#   - at least SOAK_READS reads were dispatched (csv rows of
#     tcpstates-host/tcp_connections-ESTABLISHED, one per read of the main
#     instance; the watched namespace is read as often);
#   - the leaker, the namespace going and coming back, the handed
#     sockets' holders, the discovered namespaces were all seen;
#   - discovery never read the watched namespace (its <Namespace> block
#     does: no values under its pin's name) nor the daemon's own;
#   - in every read of both instances and of a discovered namespace the
#     process groups' CLOSE_WAIT and ESTABLISHED counts add up to the
#     totals;
#   - on SIGTERM valgrind reports no error, nothing definitely or
#     indirectly lost, and no block the plugin allocated is left at exit
#     (its shutdown and free paths ran);
#   - after a warm-up (the first 20 % of reads) memory and fds are flat:
#     * heap: measured through valgrind's gdbserver (vgdb, a full leak
#       search) with the churn paused, after the warm-up and at the end.
#       The blocks the plugin allocated may grow by at most
#       SOAK_MAX_SLOPE bytes (64) and SOAK_MAX_BLOCKS blocks (0.2) per
#       read in between; the daemon's whole live heap is reported (its
#       write queue and value cache swing by hundreds of blocks). A
#       plugin leaking 100 bytes per read fails (checked by planting one:
#       +234 bytes, +2.25 blocks per read, two instances);
#     * RSS of the valgrind process (VmRSS, sampled every 2 s): valgrind's
#       own translation cache and arenas grow by steps as new code paths
#       run, so this bound is coarse: the smallest RSS in the last third
#       of the samples after the warm-up may exceed the smallest in the
#       first third by SOAK_MAX_RSS_KB (2048) at most;
#     * open fds (the csv plugin's files aside), with the churn paused:
#       no more at the end; and none opened by the daemon or the plugin
#       is left open at exit (--track-fds).
#     Paused, no discovered namespace is left but the test's own: both
#     measurements see the same set.
#
# Environment: SOAK_READS (1000), SOAK_INTERVAL (0.1 s), SOAK_TIMEOUT
# (seconds, 600), SOAK_MAX_SLOPE, SOAK_MAX_BLOCKS, SOAK_MAX_RSS_KB;
# SOAK_KEEP=1 keeps the work folder and prints its path.
source "$(dirname "$0")/lib.sh"
need_root
private_host "$@"

reads_wanted=${SOAK_READS:-1000}
interval=${SOAK_INTERVAL:-0.1}
timeout=${SOAK_TIMEOUT:-600}
max_slope=${SOAK_MAX_SLOPE:-64}
max_rss_kb=${SOAK_MAX_RSS_KB:-2048}
max_blocks=${SOAK_MAX_BLOCKS:-0.2}
command -v valgrind >/dev/null || fail "valgrind is missing (tests/tools/deps.sh soak)"

ns=tcps-soak-$$
watched=tcps-soakw-$$
# Discovered namespaces, two names used in turn.
found=(tcps-soakd-a tcps-soakd-b)
host=soak
new_workdir work
if [[ ${SOAK_KEEP:-0} == 1 ]]; then
	WORK_LIST=()
	note "work folder: $work"
fi
new_netns "$ns"
new_netns "$watched"
cp "$BUILD/sockmaker" "$work/leaky-app"

# Sockets moving between living processes (tests/tools/handoff.c, as in
# test-handoff.sh), every second while the churn runs, still while it is
# paused: HANDOFF_SOCKETS in CLOSE_WAIT handed on by fork, the old holder
# closing its copy and living on (live), as many passed with SCM_RIGHTS
# to processes of another name, the giver living on for longer than the
# 32 reads a remembered owner is trusted (pass). With the leaker, more
# than 64 CLOSE_WAIT sockets, so the owner tables grow past their first
# size.
HANDOFF_SOCKETS=36
HANDOFF_PIDS=()
start_handoff()
{
	local dir=$work/handoff-$1
	mkdir "$dir"
	ip netns exec "$ns" "$BUILD/handoff" --mode "$1" --dir "$dir" \
		--sockets "$HANDOFF_SOCKETS" --period 1000 --keep "$2" \
		--duration $((timeout + 120)) --pause "$work/pause" \
		--v6-every 3 >"$dir/out" 2>"$dir/err" &
	track_pid $!
	HANDOFF_PIDS+=($!)
	wait_until 30 grep -qs READY "$dir/out" ||
		{ cat "$dir/err" >&2; fail "handoff $1 did not get ready"; }
}
start_handoff live 3
start_handoff pass 6

{
	collectd_conf "$work" "$host" --interval "$interval"
	cat <<CONF
PluginDir "$BUILD"
LoadPlugin tcpstates
<Plugin tcpstates>
  ProcessStates "CLOSE_WAIT" "ESTABLISHED"
  TopProcesses 3
  LeakThreshold 5
  LeakAge 1
  MaxTrackedSockets 64
  ListeningPorts true
  AllPortsSummary true
  LocalPort 80
  RemotePort 5432
  <Namespace "watched">
    Path "/var/run/netns/$watched"
  </Namespace>
  Discover true
  DiscoverEvery 2
  MaxNamespaces 8
</Plugin>
CONF
} >"$work/collectd.conf"
grep -q "^Interval $interval$" "$work/collectd.conf" || fail "no Interval line"

# Every frame outside our plugin that valgrind may blame: see the file.
ip netns exec "$ns" valgrind --leak-check=full --show-leak-kinds=all \
	--errors-for-leak-kinds=definite,indirect --error-exitcode=99 \
	--track-fds=yes --num-callers=30 --freelist-vol=2000000 \
	--suppressions="$TESTS_DIR/soak.supp" \
	--log-file="$work/valgrind.log" \
	collectd -f -C "$work/collectd.conf" 2>"$work/collectd.stderr" &
collectd_pid=$!
track_pid "$collectd_pid"

# reads: rows the csv plugin wrote for the main instance so far (the
# file name carries the date: add up every day's file).
reads()
{
	cat "$work/csv/$host/tcpstates-host/tcp_connections-ESTABLISHED-"* \
		2>/dev/null | grep -c '^[0-9]' || true
}

# reported PATTERN: returns a second after the csv plugin has a file
# for INSTANCE, or after 60 s; says nothing (the end of a holder's stdin).
reported()
{
	wait_until 60 csv_has "$1" || true
	sleep 1
}

# csv_has PATTERN: the csv plugin wrote a file matching PATTERN (under
# the host's folder), e.g. tcpstates_proc_*-host/tcp_connections-app-*.
csv_has()
{
	compgen -G "$work/csv/$host/$1" >/dev/null
}

# A discovered namespace's life, one step a churn round: made with a
# process holding sockets in it (on the leaker's fifo: never EOF), its
# pin deleted (still found, through the process), its process ended
# (gone). FOUND_PID[k] is the holder of found[k], 0 when none.
FOUND_PID=(0 0)
found_step()
{
	local k=$1 name=${found[$1]}
	if [[ ${FOUND_PID[k]} -eq 0 ]]; then
		ip netns add "$name"
		ip netns exec "$name" ip link set lo up
		ip netns exec "$name" "$BUILD/sockmaker" --established 6 \
			--close-wait 3 --listen 1 <"$work/leak.in" \
			>/dev/null 2>&1 &
		FOUND_PID[k]=$!
		echo "$((++found_made))" >"$work/found.made"
	elif [[ -e /var/run/netns/$name ]]; then
		ip netns delete "$name"
	else
		found_end "$k"
	fi
}

found_end()
{
	[[ ${FOUND_PID[$1]} -ne 0 ]] || return 0
	kill -TERM "${FOUND_PID[$1]}" 2>/dev/null || true
	wait "${FOUND_PID[$1]}" 2>/dev/null || true
	FOUND_PID[$1]=0
	ip netns delete "${found[$1]}" 2>/dev/null || true
}

# churn: bounded by iterations and time; stops on TERM with its own
# children killed by PID.
churn()
{
	local i rounds=0 leaker=0 end=$((SECONDS + timeout)) fd found_made=0
	trap '[[ $leaker -eq 0 ]] || kill -TERM $leaker 2>/dev/null
		found_end 0; found_end 1; exit 0' TERM
	mkfifo "$work/leak.in"
	# Opened read-write: never blocks, and the leaker never sees EOF.
	exec {fd}<>"$work/leak.in"
	# The largest burst of the run comes first, inside the warm-up, in
	# both namespaces: tables sized by the largest read so far (the owner
	# search's shrink only when a read needs under a quarter of them, so
	# the handoff sockets keep them at that size) reach it and what is
	# opened once and kept (the /proc folder) is open before the
	# baseline, so later growth means a leak. Each burst is held until
	# the daemon has reported it (and a second more): under valgrind the
	# first read can come after any fixed time, later still with the
	# handoff tools' processes to scan, and a namespace whose first
	# candidate comes after the baseline shows as growth.
	ip netns exec "$ns" "$work/leaky-app" --close-wait 12 \
		--close-wait-bytes 7 <"$work/leak.in" >/dev/null 2>&1 &
	leaker=$!
	reported "tcpstates_proc_*-watched/tcp_connections-sockmaker-*" |
		ip netns exec "$watched" "$BUILD/sockmaker" \
			--established 10 --close-wait 4 >/dev/null 2>&1 &
	reported "tcpstates_proc_*-host/tcp_connections-sockmaker-*" |
		ip netns exec "$ns" "$BUILD/sockmaker" --established 60 \
			--time-wait 5 --listen 2 --v6-every 4 >/dev/null 2>&1 || true
	wait $! 2>/dev/null || true
	kill -TERM "$leaker" 2>/dev/null || true
	wait "$leaker" 2>/dev/null || true
	leaker=0
	for ((i = 1; i <= 100000 && SECONDS < end; i++)); do
		# Paused (for a quiet heap measurement): no leaker, the
		# watched namespace present, nothing opened or closed.
		if [[ -e $work/pause ]]; then
			if [[ $leaker -ne 0 ]]; then
				kill -TERM "$leaker" 2>/dev/null || true
				wait "$leaker" 2>/dev/null || true
				leaker=0
			fi
			[[ -e /var/run/netns/$watched ]] || {
				ip netns add "$watched"
				ip netns exec "$watched" ip link set lo up
			}
			found_end 0
			found_end 1
			touch "$work/paused"
			i=0
			sleep 0.2
			continue
		fi
		# Short-lived connections: opened, held a moment, reset.
		ip netns exec "$ns" "$BUILD/sockmaker" --established 20 \
			--time-wait 5 --listen 2 --v6-every 4 --hold 1 \
			</dev/null >/dev/null 2>&1 || true
		# The leaker: comes for a few seconds, is killed, comes back.
		if ((i % 4 == 1)); then
			ip netns exec "$ns" "$work/leaky-app" --close-wait 12 \
				--close-wait-bytes 7 <"$work/leak.in" \
				>/dev/null 2>&1 &
			leaker=$!
		elif ((i % 4 == 3)) && [[ $leaker -ne 0 ]]; then
			kill -TERM "$leaker" 2>/dev/null || true
			wait "$leaker" 2>/dev/null || true
			leaker=0
		fi
		# Discovered namespaces: each a step further every round,
		# the two out of step.
		found_step $((i % 2))
		# The watched namespace: gone for a while, then back.
		if ((i % 6 == 2)); then
			ip netns delete "$watched"
		elif ((i % 6 == 4)); then
			ip netns add "$watched"
			ip netns exec "$watched" ip link set lo up
			ip netns exec "$watched" "$BUILD/sockmaker" \
				--established 5 --close-wait 2 </dev/null \
				>/dev/null 2>&1 || true
		fi
		echo "$((++rounds))" >"$work/churn.iterations"
		sleep 0.3
	done
}
churn &
churn_pid=$!
track_pid "$churn_pid"

# sample: appends "seconds reads rss-kB fds" to samples.
sample()
{
	kill -0 "$collectd_pid" 2>/dev/null ||
		{ tail -30 "$work/valgrind.log" "$work/collectd.log"; fail "collectd exited"; }
	n=$(reads)
	rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$collectd_pid/status")
	fds=$(ls "/proc/$collectd_pid/fd" | wc -l)
	echo "$((SECONDS - start)) $n $rss $fds" >>"$work/samples"
	((SECONDS - start < timeout)) ||
		fail "only $n of $reads_wanted reads in $timeout s"
}

# held_fds: the daemon's open fds, except the csv plugin's files (each
# write opens and closes one: a sample may catch any number of them).
held_fds()
{
	local fd n=0 target
	for fd in "/proc/$collectd_pid/fd/"*; do
		target=$(readlink "$fd" 2>/dev/null) || continue
		[[ $target != "$work/csv/"* ]] || continue
		((++n))
		[[ ${1:-} != list ]] || echo "${fd##*/} $target"
	done
	[[ ${1:-} == list ]] || echo "$n"
}

# vgdb_leak_check ARGS: a leak search in the running daemon; its report
# on stdout. Each search is the reference for the next one's "increased".
vgdb_leak_check()
{
	timeout 60 vgdb --pid="$collectd_pid" leak_check "$@" 2>/dev/null || true
}

# OURS_AWK: reads a valgrind leak report and, for each loss record the
# plugin asked for, calls ours(header line, frame line). A record is
# ours when the innermost frame that is either in the daemon or in one
# of our sources is ours (libc, libmnl in between do not count; the
# daemon's own copies of what module_register registered, its value
# cache and write queue are the daemon's).
OURS_AWK='
	/ in loss record / { rec = $0; decided = 0; next }
	rec != "" && !decided && /^==[0-9]+== +(at|by) / {
		if ($0 ~ src) { ours(rec, $0); decided = 1 }
		else if ($0 ~ /[(]in \/usr\/sbin\/collectd[)]/) decided = 1
	}
	/^==[0-9]+== *$/ { rec = "" }'
OURS_SRC=$(cd "$TESTS_DIR/../plugin" && ls *.c | sed 's/[.]/[.]/' | paste -sd'|')
OURS_SRC="[(]($OURS_SRC):[0-9]+[)]"

# ours_at_exit: the plugin's loss records in valgrind's final report.
ours_at_exit()
{
	awk -v src="$OURS_SRC" 'function ours(r, f) { print r; print f }
		'"$OURS_AWK" "$work/valgrind.log"
}

# heap_now: "bytes blocks" collectd has allocated and not freed right
# now (definitely + indirectly + possibly lost + still reachable), then
# "bytes blocks" of that the plugin asked for; from a full leak search in
# the running daemon through valgrind's gdbserver. Unlike the RSS these
# exclude valgrind's own memory and the freed blocks it keeps in
# quarantine; "- - - -" if the gdbserver did not answer.
heap_now()
{
	vgdb_leak_check full reachable any unlimited | awk -v src="$OURS_SRC" '
		function ours(r, f,   t, w) {
			t = r; gsub(/ [(][^)]*[)]/, "", t); gsub(/,/, "", t)
			split(t, w, " "); bytes += w[2]; blocks += w[5]
		}
		'"$OURS_AWK"'
		/(definitely|indirectly|possibly) lost:|still reachable:/ {
			t = $0; gsub(/ [(][^)]*[)]/, "", t); gsub(/,/, "", t)
			n = split(t, w, " ")
			for (i = 1; i <= n; i++)
				if (w[i] == "bytes") { all += w[i - 1]; all_blocks += w[i + 2]; k++ }
		}
		END {
			if (k == 4) print all, all_blocks, bytes + 0, blocks + 0
			else print "- - - -"
		}'
}

# quiet LABEL: pauses the churn, lets 2 s of reads settle, and prints
# "reads heap-bytes heap-blocks plugin-bytes plugin-blocks fds", each the
# smallest of 6 samples (a read in flight holds transient buffers,
# collectd's write queue holds values, the csv plugin open files);
# resumes the churn. The same quiet socket picture after the warm-up and
# at the end makes the two comparable although the heap swings with the
# churn. The last one starts with a search for what "increased" since
# the first (kept in LABEL.increased for a failure to show).
quiet()
{
	local -a low=(-1 -1 -1 -1 -1) now
	local k
	touch "$work/pause"
	wait_until 30 test -e "$work/paused" || fail "the churn did not pause"
	sleep 2
	[[ $1 == start ]] ||
		vgdb_leak_check full reachable increased >"$work/$1.increased"
	for _ in 1 2 3 4 5 6; do
		read -r -a now < <(heap_now)
		now+=("$(held_fds)")
		((low[4] >= 0 && low[4] <= now[4])) || held_fds list >"$work/$1.fds"
		for k in 0 1 2 3 4; do
			[[ ${now[k]} == - ]] || ((low[k] >= 0 && low[k] <= now[k])) ||
				low[k]=${now[k]}
		done
		sleep 0.3
	done
	echo "$(reads) ${low[*]}"
	rm -f "$work/pause" "$work/paused"
}

# Samples every 2 s; the quiet measurements after the warm-up (the first
# 20 % of reads) and at the end.
start=$SECONDS
: >"$work/samples"
while sample && ((n < reads_wanted / 5)); do
	sleep 2
done
read -r -a quiet0 < <(quiet start)
while sample && ((n < reads_wanted)); do
	sleep 2
done
read -r -a quiet1 < <(quiet end)
[[ ${quiet0[1]:--1} -ge 0 && ${quiet1[1]:--1} -ge 0 ]] 2>/dev/null ||
	fail "no quiet heap figures (valgrind's gdbserver did not answer)"
sample

kill -TERM "$churn_pid"
wait "$churn_pid" || true
rc=0
kill -TERM "$collectd_pid"
wait "$collectd_pid" || rc=$?
iterations=$(cat "$work/churn.iterations")
note "$(reads) reads in $((SECONDS - start)) s at Interval $interval;" \
	"$iterations churn rounds ($((iterations / 6)) namespace re-creations," \
	"$(cat "$work/found.made" 2>/dev/null || echo 0) discovered" \
	"namespaces made)"
# The handoff tools end their processes (by pid) on SIGTERM, and exit 0.
handoffs=""
for pid in "${HANDOFF_PIDS[@]}"; do
	kill -TERM "$pid"
	hrc=0
	wait "$pid" || hrc=$?
	[[ $hrc -eq 0 ]] || { cat "$work"/handoff-*/err >&2; fail "a handoff tool exited with $hrc"; }
done
for mode in live pass; do
	sanitizer_clean "$work/handoff-$mode/err"
	[[ ! -s $work/handoff-$mode/err ]] ||
		{ cat "$work/handoff-$mode/err" >&2; fail "handoff $mode failed"; }
	handoffs+=" $mode $(awk '$1 == "end" { r = $2 } END { print r + 0 }' \
		"$work/handoff-$mode/rounds") rounds,"
done
note "$HANDOFF_SOCKETS sockets handed on each second in each mode:${handoffs%,}"

# The churn must have been seen: the leaker named, the namespace gone
# and back (the plugin logs both).
csv_has "tcpstates_proc_close_wait-host/tcp_connections-leaky-app-*" ||
	fail "the leaking process was never reported"
grep -q "namespace watched .* is gone" "$work/collectd.log" ||
	fail "the watched namespace was never seen gone"
grep -q "namespace watched .* is back" "$work/collectd.log" ||
	fail "the watched namespace was never seen back"
ls "$work/csv/$host/tcpstates-watched" >/dev/null 2>&1 ||
	fail "no values from the watched namespace"
{ csv_has "tcpstates_proc_close_wait-host/tcp_connections-hand-live-*" &&
	csv_has "tcpstates_proc_close_wait-host/tcp_connections-pass-g*"; } ||
	fail "the handed-on sockets' holders were never reported"
# Discovery: both names read (their holders named too), found again and
# gone (logged at INFO); the watched namespace read by its block only,
# the daemon's own by the plugin's own read only.
for name in "${found[@]}"; do
	csv_has "tcpstates_proc_*-$name/tcp_connections-sockmaker-*" ||
		fail "discovered namespace $name was never reported"
done
discoveries=$(grep -c "Discover: reading" "$work/collectd.log" || true)
[[ $discoveries -ge 4 ]] || fail "discovered namespaces never came and went"
for name in "$watched" "$ns"; do
	[[ ! -e $work/csv/$host/tcpstates-$name ]] ||
		fail "namespace $name was read by discovery too"
done
note "Discover: $discoveries changes logged; $watched and $ns read once each"

# groups_add_up NETNS STATE: in every read of namespace NETNS, the
# process groups' STATE counts (tcpstates_proc_<state>-NETNS: the names,
# -other and -unknown) add up to its tcpstates-NETNS/tcp_connections-STATE. The last 20 reads are left out: values
# still queued when the daemon stops may be dropped. Prints the number
# of reads checked, or the first mismatches.
groups_add_up()
{
	local dir=$work/csv/$host
	local -a total groups
	shopt -s nullglob
	total=("$dir/tcpstates-$1/tcp_connections-$2-"*)
	groups=("$dir/tcpstates_proc_${2,,}-$1/tcp_connections-"*)
	shopt -u nullglob
	[[ ${#total[@]} -gt 0 && ${#groups[@]} -gt 0 ]] || { echo 0; return; }
	awk -F, -v main="$dir/tcpstates-$1/" '
		!/^[0-9]/ { next }
		index(FILENAME, main) == 1 { t[++n] = $1; want[$1] = $2; next }
		{ sum[$1] += $2 }
		END {
			for (k = 1; k <= n - 20; k++)
				if (sum[t[k]] + 0 != want[t[k]] + 0 && bad++ < 5)
					printf "FAIL %s: groups %s, total %s\n", \
						t[k], sum[t[k]] + 0, want[t[k]]
			if (!bad)
				print (n > 20 ? n - 20 : 0)
			exit bad > 0
		}' "${total[@]}" "${groups[@]}"
}
sums=""
for instance in host watched "${found[0]}"; do
	for state in CLOSE_WAIT ESTABLISHED; do
		out=$(groups_add_up "$instance" "$state") ||
			{ echo "$out" >&2; fail "$instance $state: the groups do not add up"; }
		sums+=" $instance $state $out,"
	done
done
note "groups add up to the total in every read:${sums%,}"

# valgrind: exit code, error count, leak summary, our own blocks. Every
# check below runs and says what it found before the test fails.
problems=()
grep -E "ERROR SUMMARY|definitely lost:|indirectly lost:|in use at exit:" \
	"$work/valgrind.log" | sed 's/^==[0-9]*== *//' | while read -r l; do
	note "valgrind: $l"
done
[[ $rc -eq 0 ]] || problems+=("collectd under valgrind exited with $rc")
grep -q "ERROR SUMMARY: 0 errors" "$work/valgrind.log" ||
	problems+=("valgrind reported errors")
! grep -qE "(definitely|indirectly) lost: [1-9]" "$work/valgrind.log" ||
	problems+=("valgrind found lost memory")
if [[ -n $(ours_at_exit) ]]; then
	ours_at_exit >&2
	problems+=("blocks allocated by the plugin are still there at exit")
fi
# Flat after warm-up: the plugin's heap (bytes and blocks per read
# between the quiet measurements), the RSS (the smallest of the last
# third of the samples after the warm-up against the smallest of the
# first third: valgrind's translation cache and arenas grow by steps as
# new code paths run, so this bound is coarse) and the open fds (quiet).
awk -v w="$reads_wanted" -v max="$max_slope" -v max_rss="$max_rss_kb" \
	-v q0="${quiet0[*]}" -v q1="${quiet1[*]}" \
	-v max_blocks="$max_blocks" '
	$2 < w * 0.2 { next }
	{ n++; r[n] = $2; rss[n] = $3 }
	function floor_of(a, from, to,   k, m) {
		m = a[from]
		for (k = from + 1; k <= to; k++) if (a[k] < m) m = a[k]
		return m
	}
	END {
		if (n < 6) { print "FAIL: only " n " samples after warm-up"; exit 1 }
		split(q0, a); split(q1, b)
		span = b[1] - a[1]
		per_read = (b[4] - a[4]) / span
		blocks_per_read = (b[5] - a[5]) / span
		printf "  live heap (churn paused): %d bytes in %d blocks at read %d, %d bytes in %d blocks at read %d (%+.1f bytes/read)\n", \
			a[2], a[3], a[1], b[2], b[3], b[1], (b[2] - a[2]) / span
		printf "  of it the plugin'"'"'s: %d bytes in %d blocks, then %d bytes in %d blocks: %+.1f bytes/read (bound %d), %+.3f blocks/read (bound %.2f)\n", \
			a[4], a[5], b[4], b[5], per_read, max, \
			blocks_per_read, max_blocks
		t = int(n / 3)
		m0 = floor_of(rss, 1, t); m1 = floor_of(rss, n - t + 1, n)
		printf "  RSS %d kB at read %d (warm-up done), %d kB at read %d; floors %d -> %d kB: %+d kB (bound %d)\n", \
			rss[1], r[1], rss[n], r[n], m0, m1, m1 - m0, max_rss
		printf "  open fds (churn paused): %d at read %d, %d at read %d\n", \
			a[6], a[1], b[6], b[1]
		bad = 0
		if (per_read > max || blocks_per_read > max_blocks) {
			print "FAIL: the plugin'"'"'s heap grows after warm-up"; bad = 1
		}
		if (m1 - m0 > max_rss) { print "FAIL: RSS grows after warm-up"; bad = 1 }
		if (b[6] > a[6]) { print "FAIL: fds grow after warm-up"; bad = 1 }
		exit bad
	}' "$work/samples" || {
	cat "$work/samples"
	grep -A12 "are .* in loss record" "$work/end.increased" | head -80
	diff "$work/start.fds" "$work/end.fds" || true
	problems+=("not flat after warm-up")
}
if [[ ${#problems[@]} -ne 0 ]]; then
	grep -E "^==[0-9]+== (  |[0-9])" "$work/valgrind.log" | head -150 >&2
	fail "$(printf '%s; ' "${problems[@]}")"
fi
echo "soak: ok"
