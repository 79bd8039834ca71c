#!/bin/bash
# CLOSE_WAIT sockets handed from process to process under a real collectd.
# The bug fixed in 8388519: a socket found with another process than the
# one the leak finder remembered made it index an array past its end;
# collectd died of SIGSEGV within seconds, valgrind saw an invalid read in
# group_of. tests/tools/handoff.c holds SOCKETS (100) CLOSE_WAIT sockets in
# a private namespace, each in a process of its own, and hands every one
# on each second, in one of three modes:
#   exit  the holder forks a child that keeps the socket, and exits;
#   live  the holder forks a child that keeps it, closes its copy and
#         lives on (idle processes are ended 3 rounds later);
#   pass  the holder sends it with SCM_RIGHTS to a new process, not its
#         child, named pass-g<round>, closes its copy and lives on, for
#         longer than VERIFY_EVERY reads: the sockets then move because
#         the plugin re-confirms them, not because their old holder left.
# A real collectd reads at Interval 0.2, written by the csv plugin. After
# every read (each csv row), while the sockets move and after:
#   - collectd is alive, and under TCPS_VALGRIND=1 valgrind reported
#     nothing;
#   - the groups, -other and -unknown (CLOSE_WAIT) add up to the read's
#     tcpstates/tcp_connections-CLOSE_WAIT, which is SOCKETS, and ss
#     counts SOCKETS CLOSE_WAIT sockets (nothing else in the namespace
#     opens or closes one: no tolerance);
#   - every socket is in the right group. exit, live: under the holders'
#     name. pass: only under the name of processes that held sockets at
#     some time during the last VERIFY_EVERY reads (a remembered owner
#     that lives on is trusted, each socket re-confirmed once in that many
#     reads: TCPS_OWNERS_VERIFY_EVERY), so within VERIFY_EVERY reads of
#     the last round all are under the last receivers' name; never under
#     another name, nothing in -other (TopProcesses 50);
#   - -unknown is 0, except where a socket truly was in flux. A
#     socket is always in some process's fd table (the new holder has it
#     before the old one lets go), but a /proc scan lists the pids once,
#     then reads their fd folders one by one: a socket handed during that
#     time to a process started after the listing is not found. The plugin
#     counts it as unknown, and looks for a socket it missed again only 2,
#     4 ... 64 reads after the 1st, 2nd ... miss in a row (owners.c). So a
#     row may have unknown sockets only if a round ran during its read, or
#     during a read such a chain of misses started from (the retries of a
#     chain land on rounds too). Any other unknown socket fails.
# Before and after, ss -p shows each socket with exactly one process, of
# the expected name; after, none with a process it had before. Then the
# tool (bounded in time) is stopped by pid and must have ended every
# process it started: the namespace is empty.
# HANDOFF_MODES ("exit live pass") and HANDOFF_SOCKETS (100) choose what
# runs, HANDOFF_KEEP=1 keeps the work folders; TCPS_SANITIZE=1 and
# TCPS_VALGRIND=1 as in lib.sh.
source "$(dirname "$0")/lib.sh"
need_root

SOCKETS=${HANDOFF_SOCKETS:-100}
MODES=${HANDOFF_MODES:-exit live pass}
INTERVAL=0.2
PERIOD_MS=1000
MOVING_READS=40 # reads checked while the sockets move, at least
MIN_ROUNDS=5    # rounds of handoffs, at least
# A bound for one mode, long enough for collectd under valgrind; the
# test waits for reads, it does not time them.
MODE_SECONDS=300
VERIFY_EVERY=$(sed -n 's/^#define TCPS_OWNERS_VERIFY_EVERY \([0-9][0-9]*\).*/\1/p' \
	"$TESTS_DIR/../include/tcpstates/owners.h")
[[ -n $VERIFY_EVERY ]] || fail "no TCPS_OWNERS_VERIFY_EVERY in owners.h"
[[ -x $BUILD/handoff ]] || fail "no $BUILD/handoff (make tools)"
host=tcps-handoff
TOOL_PID=

# On any exit: the tool first (it ends its processes by pid), then
# whatever is still in our namespaces, then lib.sh's cleanup.
handoff_cleanup()
{
	local ns
	if [[ -n $TOOL_PID ]]; then
		kill "$TOOL_PID" 2>/dev/null || true
		for _ in $(seq 150); do
			kill -0 "$TOOL_PID" 2>/dev/null || break
			sleep 0.1
		done
	fi
	for ns in "${NETNS_LIST[@]}"; do
		netns_kill_all "$ns"
	done
	cleanup
}
trap handoff_cleanup EXIT

# csv_rows DIR: "M time value" for each read of the CLOSE_WAIT total,
# then "G group time value" for each row of every group's count (the
# group: a process name, -other or -unknown, from the csv file name
# tcpstates_proc_close_wait-host/tcp_connections-<group>-<date>).
csv_rows()
{
	local csv=$1/csv/$host
	local -a main groups
	shopt -s nullglob
	main=("$csv"/tcpstates-host/tcp_connections-CLOSE_WAIT-*)
	groups=("$csv"/tcpstates_proc_close_wait-host/tcp_connections-*)
	shopt -u nullglob
	[[ ${#main[@]} -gt 0 ]] || return 0
	awk -F, 'FNR == 1 { n = split(FILENAME, p, "/"); g = p[n]
			m = (p[n - 1] == "tcpstates-host")
			sub(/^tcp_connections-/, "", g)
			sub(/-[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]$/, "", g) }
		!/^[0-9]/ { next }
		m { print "M", $1, $2; next }
		{ print "G", g, $1, $2 }' "${main[@]}" "${groups[@]}"
}

# CHECK_AWK: reads the tool's rounds file, then csv_rows. Checks rows
# from..to: to is the last row whose read is surely all written (a row
# after it exists: collectd_conf's one write thread writes in order) and whose window has
# no round under way. Prints "ok K TIME TOTAL UNKNOWN NAMED" per row,
# "FAIL ..." per problem, then "checked K", "moving N" (rows read since
# the first round), "after N" (rows after the last round ended), "settled
# N" (rows whose whole window came after it), "lag N" (pass: the most
# reads a socket stayed under an earlier holder after its round ended).
# Times: the csv plugin rounds to ms, the tool truncates; 1 ms slack.
CHECK_AWK='
function fail(k, msg) {
	printf "FAIL read %d (%s): %s\n", k, t[k], msg
	bad = 1
}
# Whether name is the name of holders that held sockets at some time in
# [from_t, to_t): a round has started them, and the round after theirs
# had not ended yet at from_t.
function allowed(name, from_t, to_t,   g) {
	for (g = 0; g <= rounds; g++)
		if (comm[g] == name && (g == 0 || start[g] < to_t) &&
		    (!((g + 1) in fin) || fin[g + 1] + 0.001 >= from_t))
			return 1
	return 0
}
# Rows after the end of round r, up to row k.
function reads_since(r, k,   j, c) {
	for (j = k; j >= 1 && t[j] > fin[r]; j--)
		c++
	return c
}
function gen_of(name,   g) {
	for (g = rounds; g >= 0; g--)
		if (comm[g] == name)
			return g
	return -1
}
# Whether a round ran during read j, [t[j], t[j + 1]).
function flux(j,   r) {
	for (r = 1; r <= rounds; r++)
		if (start[r] < t[j + 1] && (!(r in fin) || fin[r] + 0.001 >= t[j]))
			return 1
	return 0
}
# Whether a socket may be unknown in read k: the plugin missed it in a
# read j1 with a round under way; it is looked for again 2, 4 ... 64 reads
# after the 1st, 2nd ... miss in a row (missed again only if that read
# had a round too), and unknown until then.
function may_be_unknown(k,   j1, jm, step) {
	for (j1 = k; j1 >= 1 && j1 > k - 400; j1--) {
		if (!flux(j1))
			continue
		jm = j1
		step = 2
		while (jm + step <= k && flux(jm + step)) {
			jm += step
			if (step < 64)
				step *= 2
		}
		if (k <= jm + step - 1)
			return 1
	}
	return 0
}
function check(k,   T, next_t, lo, n_g, gl, i, g, val, sum, unknown, other,
	       named, name, r, lag) {
	T = t[k]; next_t = t[k + 1]
	lo = k - window + 1
	if (lo < 1)
		lo = 1
	n_g = split(groups_at[T], gl, " ")
	sum = 0; unknown = 0; other = 0; named = ""
	for (i = 1; i <= n_g; i++) {
		g = gl[i]; val = v[T, g] + 0; sum += val
		if (g == "-unknown") {
			unknown = val
		} else if (g == "-other") {
			other = val
		} else if (val > 0) {
			name = g
			named = named " " name ":" val
			if (!allowed(name, t[lo], next_t))
				fail(k, val " sockets under " g ", no holder of theirs in the last " window " reads")
			r = gen_of(name) + 1
			if (mode == "pass" && (r in fin) && fin[r] < T) {
				lag = reads_since(r, k)
				if (lag > max_lag)
					max_lag = lag
			}
		}
	}
	if (sum != total[k])
		fail(k, "groups add up to " sum ", the total is " total[k])
	if (total[k] != n)
		fail(k, "CLOSE_WAIT total " total[k] ", the tool holds " n)
	if (other != 0)
		fail(k, other " sockets in -other")
	if (unknown > 0) {
		if (!may_be_unknown(k))
			fail(k, unknown " sockets in -unknown, and no round ran during this read or a chain of missed reads before it")
		unknown_reads++
	}
	printf "ok %d %s %d %d%s\n", k, T, total[k], unknown, named
}
FILENAME != "-" {
	if ($1 == "ready") {
		comm[0] = $3
	} else if ($1 == "start") {
		start[$2] = $3; comm[$2] = $4; rounds = $2
	} else if ($1 == "end") {
		fin[$2] = $3
	}
	next
}
$1 == "M" { t[++rows] = $2; total[rows] = $3; next }
$1 == "G" { v[$3, $2] = $4; groups_at[$3] = groups_at[$3] " " $2 }
END {
	to = rows - 1
	# A round under way: only rows read before it started are done.
	if (rounds > 0 && !(rounds in fin))
		while (to >= 1 && t[to + 1] > start[rounds])
			to--
	for (k = from; k <= to; k++)
		check(k)
	for (k = 1; k <= to; k++) {
		moving += rounds > 0 && t[k] >= start[1]
		if (rounds > 0 && (rounds in fin)) {
			after += t[k] > fin[rounds]
			lo = k - window + 1
			settled += lo >= 1 && t[lo] > fin[rounds]
		}
	}
	printf "checked %d\nmoving %d\nafter %d\nsettled %d\nlag %d\n", \
		to, moving, after, settled, max_lag
	printf "unknown %d\n", unknown_reads
	exit bad
}'

# ss_holders NS: "comm pid" of every process holding a CLOSE_WAIT socket,
# one line per socket ("comm pid comm pid" if two hold it).
ss_holders()
{
	ip netns exec "$1" ss -tanpH state close-wait | awk '{
		line = ""
		s = $0
		while (match(s, /\("[^"]*",pid=[0-9]+/)) {
			e = substr(s, RSTART + 2, RLENGTH - 2)
			sub(/",pid=/, " ", e)
			line = line (line == "" ? "" : " ") e
			s = substr(s, RSTART + RLENGTH)
		}
		print line
	}'
}

# check_holders FILE COMM: FILE (ss_holders) has SOCKETS lines, each one
# process named COMM, SOCKETS different pids.
check_holders()
{
	local lines bad pids
	lines=$(wc -l <"$1")
	bad=$(awk -v c="$2" 'NF != 2 || $1 != c' "$1" | head -3)
	pids=$(awk '{ print $2 }' "$1" | sort -u | wc -l)
	[[ $lines -eq $SOCKETS && -z $bad && $pids -eq $SOCKETS ]] ||
		fail "$mode: ss -p: $lines sockets, $pids pids, not all one $2 each: $bad"
}

# daemon_alive: collectd still runs and valgrind said nothing.
daemon_alive()
{
	local rc=0 why
	if ! kill -0 "$COLLECTD_PID" 2>/dev/null; then
		wait "$COLLECTD_PID" || rc=$?
		why="exit status $rc"
		[[ $rc -le 128 ]] || why="killed by signal $((rc - 128))"
		tail -n 20 "$work/collectd.log" >&2 || true
		head -n 60 "$work/collectd.stderr" >&2 || true
		fail "$mode: collectd died ($why) after $checked reads checked, round $(rounds_done)"
	fi
	if [[ ${TCPS_VALGRIND:-0} == 1 ]] && valgrind_errors "$work/collectd.stderr" >/dev/null; then
		head -n 80 "$work/collectd.stderr" >&2
		fail "$mode: valgrind error after $checked reads checked, round $(rounds_done)"
	fi
	if ! kill -0 "$TOOL_PID" 2>/dev/null; then
		cat "$work/handoff.err" >&2
		fail "$mode: the handoff tool ended early"
	fi
}

rounds_done()
{
	awk '$1 == "end" { r = $2 } END { print r + 0 }' "$work/rounds"
}

stat_of()
{
	sed -n "s/^$1 //p" <<<"$report"
}

# check_reads: checks every new complete row; sets checked, report.
check_reads()
{
	local out
	if ! out=$(csv_rows "$work" | awk -v from=$((checked + 1)) \
		-v n="$SOCKETS" -v window="$VERIFY_EVERY" -v mode="$mode" \
		"$CHECK_AWK" "$work/rounds" -); then
		grep -v '^ok ' <<<"$out" >&2
		tail -n 5 "$work/rounds" >&2
		fail "$mode: a read is wrong (above)"
	fi
	report=$out
	grep '^ok ' <<<"$out" >>"$work/checked" || true
	(($(stat_of lag) <= max_lag)) || max_lag=$(stat_of lag)
	unknown_reads=$((unknown_reads + $(stat_of unknown)))
	if (($(stat_of checked) > checked)); then
		checked=$(stat_of checked)
		local ss_now
		ss_now=$(ss_count "$ns" close-wait)
		[[ $ss_now -eq $SOCKETS ]] ||
			fail "$mode: ss counts $ss_now CLOSE_WAIT sockets at read $checked, not $SOCKETS"
	fi
}

# run_mode MODE KEEP SETTLE: one mode; SETTLE rows after the last round
# (pass: rows whose whole window came after it) end it.
run_mode()
{
	local mode=$1 keep=$2 settle=$3 ns=tcps-handoff-$1-$$ work
	local checked=0 report="" phase=first started=$SECONDS rc=0 max_lag=0
	local unknown_reads=0
	local last_comm final=""
	new_workdir work
	if [[ ${HANDOFF_KEEP:-0} == 1 ]]; then
		WORK_LIST=()
		note "$mode: work folder $work"
	fi
	new_netns "$ns"
	touch "$work/pause"
	ip netns exec "$ns" "$BUILD/handoff" --mode "$mode" --dir "$work" \
		--sockets "$SOCKETS" --period "$PERIOD_MS" --keep "$keep" \
		--duration "$MODE_SECONDS" --pause "$work/pause" --v6-every 4 \
		>"$work/handoff.out" 2>"$work/handoff.err" &
	TOOL_PID=$!
	wait_until 60 grep -qs READY "$work/handoff.out" ||
		{ cat "$work/handoff.err" >&2; fail "$mode: the tool did not get ready"; }
	ss_holders "$ns" >"$work/holders.before"
	check_holders "$work/holders.before" "$(awk '$1 == "ready" { print $3 }' "$work/rounds")"

	{
		collectd_conf "$work" "$host" --interval "$INTERVAL"
		cat <<CONF
PluginDir "$BUILD"
LoadPlugin tcpstates
<Plugin tcpstates>
  TopProcesses 50
  ProcessScanBudget 0
  LeakThreshold 30
  LeakAge 0
</Plugin>
CONF
	} >"$work/collectd.conf"
	grep -q "^Interval $INTERVAL$" "$work/collectd.conf" || fail "no Interval line"
	start_collectd "$ns" "$work"

	while [[ $phase != over ]]; do
		((SECONDS - started < MODE_SECONDS)) ||
			fail "$mode: $checked reads checked in $MODE_SECONDS s, phase $phase"
		daemon_alive
		check_reads
		case $phase in
		first)
			# The first read saw the sockets still: now they move.
			if ((checked >= 1)); then
				rm "$work/pause"
				phase=moving
			fi
			;;
		moving)
			if (($(stat_of moving) >= MOVING_READS &&
				$(rounds_done) >= MIN_ROUNDS)); then
				touch "$work/pause"
				wait_until 10 grep -q "^phase paused" "$work/state" ||
					fail "$mode: the tool did not pause"
				phase=settling
			fi
			;;
		settling)
			if [[ $mode == pass ]]; then
				(($(stat_of settled) < settle)) || phase=over
			else
				(($(stat_of after) < settle)) || phase=over
			fi
			;;
		esac
		sleep 0.1
	done

	# The last read: every socket with the last holders, by name.
	last_comm=$(awk '$1 == "start" { c = $4 } END { print c }' "$work/rounds")
	final=$(awk 'END { print $6 }' "$work/checked")
	[[ $final == "$last_comm:$SOCKETS" && $(awk 'END { print NF }' "$work/checked") -eq 6 ]] ||
		fail "$mode: the last read has $(tail -1 "$work/checked"), not all $SOCKETS under $last_comm"
	kill "$COLLECTD_PID"
	wait "$COLLECTD_PID" || rc=$?
	sanitizer_clean "$work/collectd.stderr"
	if [[ $rc -ne 0 ]]; then
		head -n 80 "$work/collectd.stderr" >&2
		fail "$mode: collectd exited with $rc on SIGTERM"
	fi

	ss_holders "$ns" >"$work/holders.after"
	check_holders "$work/holders.after" "$last_comm"
	if grep -qxFf <(awk '{ print $2 }' "$work/holders.before") \
		<(awk '{ print $2 }' "$work/holders.after"); then
		fail "$mode: a socket is still with a process that held it before the handoffs"
	fi
	rc=0
	kill "$TOOL_PID"
	wait "$TOOL_PID" || rc=$?
	TOOL_PID=
	sanitizer_clean "$work/handoff.err"
	[[ $rc -eq 0 && ! -s $work/handoff.err ]] ||
		{ cat "$work/handoff.err" >&2; fail "$mode: the tool exited with $rc"; }
	wait_until 10 test -z "$(ip netns pids "$ns")" ||
		fail "$mode: processes left in the namespace: $(ip netns pids "$ns" | head -5)"
	note "$mode: $SOCKETS sockets, $(rounds_done) rounds ($(($(rounds_done) * SOCKETS)) handoffs), $checked reads checked ($(stat_of moving) since the first round, $(stat_of after) after the last; $unknown_reads with sockets in -unknown, each while they moved), all under $last_comm at the end$([[ $mode != pass ]] || echo ", slowest move $max_lag reads (bound $VERIFY_EVERY)"); $((SECONDS - started)) s"
}

for mode in $MODES; do
	case $mode in
	exit) run_mode exit 1 5 ;;
	live) run_mode live 3 5 ;;
	# Old holders live on for longer than VERIFY_EVERY reads.
	pass) run_mode pass $((VERIFY_EVERY * 200 / PERIOD_MS + 2)) 5 ;;
	*) fail "unknown mode $mode" ;;
	esac
done
echo "handoff: ok"
