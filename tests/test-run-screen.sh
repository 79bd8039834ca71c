#!/bin/bash
# `make run`'s screen. First tools/run-screen.sh alone on a fixed
# listval/getval transcript: the exact lines of three namespaces, groups
# ranked, the summed groups last, per-port sets left out. Then the real
# `make run` (Interval 1) inside a private namespace where a process named
# screen-leaker holds CLOSE_WAIT sockets with unread bytes, bounded by
# `timeout` as a user would: it prints a small screen per interval, the
# states line equals `ss -tan` in the namespace, the leaker's group shows
# its sockets and bytes, and its leak WARNING (limits set below it) is
# among the log lines; when timeout ends it the daemon is gone by
# the time `make run` has returned.
source "$(dirname "$0")/lib.sh"

root=$(cd "$TESTS_DIR/.." && pwd)
screen=$TESTS_DIR/tools/run-screen.sh
new_workdir work

# ---- the renderer on a transcript ----
cat >"$work/transcript" <<'EOF'
h/tcpstates-web-1/tcp_connections-ESTABLISHED 0.000000e+00
h/tcpstates-host/tcp_connections-ESTABLISHED 4.000000e+00
h/tcpstates-host/tcp_connections-SYN_SENT 0.000000e+00
h/tcpstates-host/tcp_connections-SYN_RECV 0.000000e+00
h/tcpstates-host/tcp_connections-FIN_WAIT1 0.000000e+00
h/tcpstates-host/tcp_connections-FIN_WAIT2 0.000000e+00
h/tcpstates-host/tcp_connections-TIME_WAIT 3.000000e+00
h/tcpstates-host/tcp_connections-CLOSED 0.000000e+00
h/tcpstates-host/tcp_connections-CLOSE_WAIT 1.900000e+01
h/tcpstates-host/tcp_connections-LAST_ACK 0.000000e+00
h/tcpstates-host/tcp_connections-LISTEN 2.000000e+00
h/tcpstates-host/tcp_connections-CLOSING 0.000000e+00
h/tcpstates-host/tcp_connections-UNKNOWN 0.000000e+00
h/tcpstates_proc_close_wait-host/tcp_connections-a-b 2.000000e+00
h/tcpstates_proc_close_wait-host/duration-a-b 3.000000e+00
h/tcpstates_proc_close_wait-host/bytes-a-b 0.000000e+00
h/tcpstates_proc_close_wait-host/tcp_connections-leaky-app 9.000000e+00
h/tcpstates_proc_close_wait-host/duration-leaky-app 7.250000e+02
h/tcpstates_proc_close_wait-host/bytes-leaky-app 1.300000e+03
h/tcpstates_proc_close_wait-host/tcp_connections-gone 0.000000e+00
h/tcpstates_proc_close_wait-host/tcp_connections--unknown 3.000000e+00
h/tcpstates_proc_close_wait-host/duration--unknown 5.000000e+00
h/tcpstates_proc_close_wait-host/bytes--unknown 0.000000e+00
h/tcpstates_proc_close_wait-host/tcp_connections--other 5.000000e+00
h/tcpstates_proc_close_wait-host/duration--other 9.000000e+04
h/tcpstates_proc_close_wait-host/bytes--other 2.097152e+06
h/tcpstates_proc_fin_wait2-host/tcp_connections-curl 1.000000e+00
h/tcpstates_proc_fin_wait2-host/duration-curl 6.100000e+01
h/tcpstates_proc_fin_wait2-host/bytes-curl 0.000000e+00
h/tcpstates_ephemeral-host/count-ports_available 2.823200e+04
h/tcpstates_ephemeral-host/count-ports_in_use 7.000000e+00
h/tcpstates_ephemeral-host/count-busiest_destination 7.000000e+00
h/tcpstates_ephemeral-host/percent-busiest_destination 2.479456e-02
h/tcpstates_ephemeral-host/count-destinations_over_warning 0.000000e+00
h/tcpstates_timewait-host/tcp_connections-client 3.000000e+00
h/tcpstates_timewait-host/tcp_connections-server 0.000000e+00
h/tcpstates_timewait-host/percent-of_max_tw_buckets 2.288818e-03
h/tcpstates_sysctl-host/gauge-ip_local_port_range_low 3.276800e+04
h/tcpstates_sysctl-host/gauge-ip_local_port_range_high 6.099900e+04
h/tcpstates_listen-host/count-full_queues 1.000000e+00
h/tcpstates_listen-host/count-listening_ports 2.000000e+00
h/tcpstates_listen_queue-host/queue_length-8080 1.290000e+02
h/tcpstates_listen_backlog-host/queue_length-8080 1.280000e+02
h/tcpstates_listen_queue-host/queue_length-9090 3.000000e+00
h/tcpstates_listen_backlog-host/queue_length-9090 1.280000e+02
h/tcpstates_stuck-host/tcp_connections-retransmitting 2.000000e+00
h/tcpstates_stuck-host/tcp_connections-zero_window 0.000000e+00
h/tcpstates_stuck-host/bytes-unacknowledged 5.000000e+03
h/tcpstates_local_close_wait-host/tcp_connections-8080 1.000000e+00
h/tcpstates_all-host/tcp_connections-ESTABLISHED 4.000000e+00
h/tcpstates_proc_close_wait-web-1/tcp_connections-nginx 0.000000e+00
h/tcpstates-web-1/tcp_connections-CLOSE_WAIT 2.100000e+01
h/tcpstates_proc_close_wait-web-1/tcp_connections-g1 1.000000e+00
h/tcpstates_proc_close_wait-web-1/tcp_connections-g2 2.000000e+00
h/tcpstates_proc_close_wait-web-1/tcp_connections-g3 3.000000e+00
h/tcpstates_proc_close_wait-web-1/tcp_connections-g4 4.000000e+00
h/tcpstates_proc_close_wait-web-1/tcp_connections-g5 5.000000e+00
h/tcpstates_proc_close_wait-web-1/tcp_connections-g6 6.000000e+00
h/tcpstates-0web/tcp_connections-LISTEN 1.000000e+00
EOF
cat >"$work/expected" <<'EOF'
[host]
  states    ESTABLISHED 4  TIME_WAIT 3  CLOSE_WAIT 19  LISTEN 2  (8 others 0)
  CLOSE_WAIT by group            sockets   oldest     unread
    leaky-app                          9   12m05s    1.3 KiB
    a-b                                2       3s        0 B
    (beyond TopProcesses)              5    1d01h    2.0 MiB
    (owner not found)                  3       5s        0 B
  FIN_WAIT2 by group             sockets   oldest     unread
    curl                               1    1m01s        0 B
  ports     busiest destination 7 of 28232 usable (<0.1%); 7 in use; range 32768-60999
  TIME_WAIT 3 client, 0 server (<0.1% of tcp_max_tw_buckets)
  queues    1 full of 2 listening ports; port 8080 129 waiting, backlog 128
  stuck     2 retransmitting, 0 zero window, 4.9 KiB unacknowledged
[0web]
  states    LISTEN 1
[web-1]
  states    CLOSE_WAIT 21  (1 others 0)
  CLOSE_WAIT by group            sockets   oldest     unread
    g6                                 6        -          -
    g5                                 5        -          -
    g4                                 4        -          -
    g3                                 3        -          -
    g2                                 2        -          -
    (1 more group)                     1
EOF
"$screen" render <"$work/transcript" >"$work/rendered"
diff -u "$work/expected" "$work/rendered" || fail "transcript rendered wrong"
cut -d' ' -f1 "$work/transcript" | "$screen" pick >"$work/picked"
grep -q "tcpstates_local_\|tcpstates_all" "$work/picked" &&
	fail "pick keeps the per-port sets"
[[ $(wc -l <"$work/picked") -eq 57 ]] ||
	fail "pick kept $(wc -l <"$work/picked") of 57 identifiers"
note "transcript: rendered as expected"

# ---- the real make run ----
need_root
"$TESTS_DIR/tools/deps.sh" run # before the namespace, which has no network
ns=tcps-run-$$
new_netns "$ns"
cp "$BUILD/sockmaker" "$work/screen-leaker"
mkfifo "$work/leaker.in"
ip netns exec "$ns" "$work/screen-leaker" --close-wait 7 \
	--close-wait-bytes 5 --established 3 --time-wait 2 --hold 120 \
	<"$work/leaker.in" >"$work/leaker.out" 2>"$work/leaker.err" &
track_pid $!
exec {leaker_fd}>"$work/leaker.in"
wait_until 10 grep -q READY "$work/leaker.out" ||
	{ cat "$work/leaker.err" >&2; fail "screen-leaker did not get ready"; }
# The peers' FINs are acknowledged a moment after READY (FIN_WAIT1 to
# FIN_WAIT2): the counts to compare are those that stay.
settled()
{
	local first
	first=$(ss_all_once "$ns")
	sleep 0.5
	ss_before=$(ss_all_once "$ns")
	[[ $first == "$ss_before" ]] && ! grep -q "^FIN_WAIT1 [1-9]" <<<"$ss_before"
}
wait_until 10 settled || fail "the namespace's sockets did not settle"

# Under make asan the daemon alone preloads the sanitizer runtimes.
preload=""
if [[ ${TCPS_SANITIZE:-0} == 1 ]]; then
	preload="$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libubsan.so)"
	export ASAN_OPTIONS=detect_leaks=1:exitcode=23
fi
rc=0
# Limits below the leak: its WARNING reaches the screen's log lines.
ip netns exec "$ns" env INTERVAL=1 RUN_PRELOAD="$preload" \
	RUN_OPTIONS=$'LeakThreshold 5\nLeakAge 0' \
	timeout 9 make -C "$root" --no-print-directory run BUILD="$BUILD" \
	>"$work/run.out" 2>&1 || rc=$?
daemon=$(sed -n 's/^collectd (pid \([0-9]*\)).*/\1/p' "$work/run.out")
[[ -n $daemon ]] || { cat "$work/run.out" >&2; fail "make run started no collectd"; }
# make itself ends at once on the signal; its script then stops the
# daemon, which under the sanitizers takes a few seconds (the leak check).
for _ in $(seq 100); do
	kill -0 "$daemon" 2>/dev/null || break
	sleep 0.2
done
if kill -0 "$daemon" 2>/dev/null; then
	kill "$daemon"
	fail "collectd (pid $daemon) outlived make run by 20 s"
fi
[[ $rc -eq 124 ]] || { cat "$work/run.out" >&2; fail "make run ended with $rc before its time"; }
grep -q "collectd ended with\|collectd exited" "$work/run.out" &&
	{ cat "$work/run.out" >&2; fail "collectd failed under make run"; }
ss_after=$(ss_all_once "$ns")
[[ $ss_after == "$ss_before" ]] ||
	fail "the namespace changed during the run: $(diff <(echo "$ss_before") <(echo "$ss_after") | tr "\n" " ")"

# Screens: a blank line, a header, the lines up to the next blank line.
# The last may be cut short by timeout; the one before it is whole.
awk -v dir="$work" '
	/^$/ { n++; next }
	n > 0 { print > (dir "/screen." n) }' "$work/run.out"
screens=$(find "$work" -name 'screen.*' | wc -l)
((screens >= 4)) || { cat "$work/run.out" >&2; fail "only $screens screens in 9 s"; }
last=$work/screen.$((screens - 1))
for ((i = 1; i < screens; i++)); do
	lines=$(wc -l <"$work/screen.$i")
	((lines >= 4 && lines <= 16)) ||
		{ cat "$work/screen.$i" >&2; fail "screen $i has $lines lines"; }
	grep -qE '^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8}  tcpstates on .*, every 1 s$' \
		"$work/screen.$i" || fail "screen $i has no header"
done
note "$screens screens of at most 16 lines"

# The states line against ss: each state shown with ss's count, the
# others said to be zero and zero in ss.
grep -qx '\[host\]' "$last" || { cat "$last" >&2; fail "no [host] section"; }
states=$(sed -n 's/^  states    //p' "$last")
[[ -n $states ]] || { cat "$last" >&2; fail "no states line"; }
shown=0
while read -r state count; do
	if [[ $count -eq 0 ]]; then
		grep -qw "$state" <<<"$states" && fail "states line shows $state 0"
		continue
	fi
	grep -qw "$state $count" <<<"$states" ||
		fail "states line lacks $state $count (ss): $states"
	shown=$((shown + 1))
done <<<"$ss_before"
grep -q "($((12 - shown)) others 0)\$" <<<"$states" ||
	fail "states line does not count $((12 - shown)) zero states: $states"
note "states: $states"

# The leaker: 7 sockets, 5 unread bytes each (ss's Recv-Q counts the FIN).
leaker=$(grep -E '^    screen-leaker +' "$last") ||
	{ cat "$last" >&2; fail "no screen-leaker group"; }
read -r _ sockets age unread unit <<<"$leaker"
[[ $sockets -eq 7 && $unread == 35 && $unit == B ]] ||
	fail "screen-leaker line: $leaker"
[[ $age =~ ^[0-9]+s$ ]] || fail "screen-leaker's age: $age"
grep -q '^  CLOSE_WAIT by group ' "$last" || fail "no CLOSE_WAIT table"
grep -q '^  TIME_WAIT 2 client, 0 server' "$last" ||
	fail "TIME_WAIT line: $(grep TIME_WAIT "$last")"
for label in ports queues stuck; do
	grep -q "^  $label  " "$last" || fail "no $label line"
done
grep -q "^  log       WARNING: .*screen-leaker.* holds 7 CLOSE_WAIT sockets" "$last" ||
	{ cat "$last" >&2; fail "no leak WARNING on the screen"; }
note "leaker: $leaker"
exec {leaker_fd}>&-
