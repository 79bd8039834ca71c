#!/bin/bash
# The leak finder on real processes in a private network namespace:
# a process named leaky-app and one named other-leaker hold CLOSE_WAIT
# sockets whose peers closed after sending data. The core must name them
# with the counts `ss -tanp state close-wait` shows, the unread bytes the
# peers sent, ages that grow, and the ranking; a real collectd must send
# a leak notification to the logfile plugin and an OKAY when the leaking
# process exits.
source "$(dirname "$0")/lib.sh"
need_root

ns=tcps-leaks-$$
new_workdir work
new_netns "$ns"
cp "$BUILD/sockmaker" "$work/leaky-app"
cp "$BUILD/sockmaker" "$work/other-leaker"

# start_holder NAME COUNT BYTES: NAME holds COUNT CLOSE_WAIT sockets with
# BYTES unread each; sets HOLDER_PID and HOLDER_FD.
start_holder()
{
	local name=$1 count=$2 bytes=$3
	mkfifo "$work/$name.in"
	ip netns exec "$ns" "$work/$name" --close-wait "$count" \
		--close-wait-bytes "$bytes" --hold 120 <"$work/$name.in" \
		>"$work/$name.out" 2>"$work/$name.err" &
	HOLDER_PID=$!
	track_pid "$HOLDER_PID"
	exec {HOLDER_FD}>"$work/$name.in"
	for _ in $(seq 100); do
		grep -q READY "$work/$name.out" 2>/dev/null && return 0
		sleep 0.1
	done
	cat "$work/$name.err" >&2
	fail "$name did not get ready"
}

start_holder leaky-app 37 11
leaky_pid=$HOLDER_PID
start_holder other-leaker 12 3

# What ss -p says: sockets and unread bytes per process name.
ss_cw()
{
	ip netns exec "$ns" ss -tanpH state close-wait |
		grep -F "((\"$1\"," | awk -v what="$2" '
			{ n++; q += $1 - 1 }
			END { print (what == "count" ? n + 0 : q + 0) }'
}
[[ $(ss_cw leaky-app count) -eq 37 ]] || fail "ss sees $(ss_cw leaky-app count) for leaky-app"
[[ $(ss_cw other-leaker count) -eq 12 ]] || fail "setup: other-leaker"

# Three reads two seconds apart; TopProcesses 1 ranks leaky-app first
# and folds other-leaker into -other. No scan budget: on a host where
# other processes hold huge fd tables the first read must still find
# every owner (the budget has unit tests of its own).
ip netns exec "$ns" "$BUILD/tcps-count" -a -n 3 -i 2 \
	-o "TopProcesses 1" -o "LeakThreshold 0" -o "LeakAge 0" \
	-o "ProcessScanBudget 0" \
	>"$work/reads" 2>"$work/reads.err" ||
	{ cat "$work/reads.err"; fail "tcps-count failed"; }

# value N NAME: NAME's value in read N (1-based), NAME as tcps-count
# prints it: "tcpstates_proc_close_wait/tcp_connections-leaky-app".
value()
{
	awk -v n="$1" -v name="$2" '
		/^tcpstates\/tcp_connections-ESTABLISHED / { read++ }
		read == n && $1 == name { print $2 }' "$work/reads"
}

for n in 1 2 3; do
	[[ $(value $n tcpstates_proc_close_wait/tcp_connections-leaky-app) -eq \
		$(ss_cw leaky-app count) ]] || fail "read $n: leaky-app count"
	[[ $(value $n tcpstates_proc_close_wait/tcp_connections--other) -eq \
		$(ss_cw other-leaker count) ]] || fail "read $n: other count"
	total=$(value $n tcpstates/tcp_connections-CLOSE_WAIT)
	unknown=$(value $n tcpstates_proc_close_wait/tcp_connections--unknown)
	sum=$(($(value $n tcpstates_proc_close_wait/tcp_connections-leaky-app) + \
		$(value $n tcpstates_proc_close_wait/tcp_connections--other) + \
		${unknown:-0}))
	[[ $sum -eq $total ]] || fail "read $n: groups sum to $sum, not $total"
done
[[ -z $(value 1 tcpstates_proc_close_wait/tcp_connections-other-leaker) ]] ||
	fail "other-leaker should be folded into -other"
[[ $(value 3 tcpstates_proc_close_wait/bytes-leaky-app) -eq $(ss_cw leaky-app bytes) ]] ||
	fail "unread bytes: $(value 3 tcpstates_proc_close_wait/bytes-leaky-app) vs ss $(ss_cw leaky-app bytes)"
[[ $(ss_cw leaky-app bytes) -eq $((37 * 11)) ]] || fail "ss unread bytes"
[[ $(value 3 tcpstates_proc_close_wait/bytes--other) -eq $((12 * 3)) ]] ||
	fail "other-leaker unread bytes"
age1=$(value 1 tcpstates_proc_close_wait/duration-leaky-app)
age2=$(value 2 tcpstates_proc_close_wait/duration-leaky-app)
age3=$(value 3 tcpstates_proc_close_wait/duration-leaky-app)
[[ $age1 == 0 ]] || fail "first sighting must have age 0, got $age1"
awk -v a="$age2" -v b="$age3" 'BEGIN { exit !(a > 0 && b > a) }' ||
	fail "ages do not grow: $age1 $age2 $age3"
note "core: leaky-app 37 (ss 37), -other 12, bytes 407, ages $age1 $age2 $age3"

# A real collectd: the logfile plugin receives the WARNING for leaky-app
# (37 >= 30) but not for other-leaker (12), then OKAY when it exits.
{
	collectd_conf "$work" tcps-leaks --log-option "PrintSeverity true" \
		--no-csv
	cat <<CONF
PluginDir "$BUILD"
LoadPlugin tcpstates
<Plugin tcpstates>
  ProcessScanBudget 0
  LeakThreshold 30
  LeakAge 0
</Plugin>
CONF
} >"$work/collectd.conf"
ip netns exec "$ns" "${COLLECTD[@]}" -f -C "$work/collectd.conf" \
	2>"$work/collectd.stderr" &
track_pid $!
collectd_pid=$!

wait_log()
{
	for _ in $(seq 100); do
		grep -q "$1" "$work/collectd.log" 2>/dev/null && return 0
		sleep 0.1
	done
	cat "$work/collectd.log" >&2
	fail "no log line matching: $1"
}
wait_log "Notification: severity = WARNING.*plugin = tcpstates_proc_close_wait, plugin_instance = host, type = tcp_connections, type_instance = leaky-app"
line=$(grep "severity = WARNING" "$work/collectd.log" | head -1)
for text in "CLOSE_WAIT leak: leaky-app (pid $leaky_pid) holds 37" \
	"type_instance = leaky-app"; do
	grep -qF "$text" <<<"$line" || fail "warning lacks '$text': $line"
done
grep -qE "e\.g\. (127\.0\.0\.1|\[::1\]):[0-9]+ -> (127\.0\.0\.1|\[::1\]):[0-9]+$" \
	<<<"$line" || fail "warning lacks an example endpoint: $line"
# SIGTERM, not EOF: the other children inherited the fifo's write end.
kill "$leaky_pid"
wait "$leaky_pid" || true
wait_log "Notification: severity = OKAY.*plugin = tcpstates_proc_close_wait, plugin_instance = host, type = tcp_connections, type_instance = leaky-app"
sleep 1.5
warnings=$(grep -c "severity = WARNING" "$work/collectd.log")
[[ $warnings -eq 1 ]] || fail "expected one WARNING, got $warnings"
grep -q "type_instance = other-leaker" "$work/collectd.log" &&
	fail "other-leaker is under the threshold and must not be notified"
note "collectd: one WARNING naming leaky-app (pid $leaky_pid), OKAY after it exited"
kill "$collectd_pid"
rc=0
wait "$collectd_pid" || rc=$?
sanitizer_clean "$work/collectd.stderr"
[[ $rc -eq 0 ]] || fail "collectd exited with $rc"
echo "leaks: ok"
