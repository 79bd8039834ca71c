#!/bin/bash
# The /proc side of the fault tests, on real processes in a private
# network namespace (the netlink side is tests/unit/test_faults.c and
# tests/glue/test_glue.c; a namespace file removed is test-namespaces.sh).
# 1. /proc entries vanishing mid-scan: 1,000 short-lived processes,
#    each holding a CLOSE_WAIT socket for a moment, come and go while the
#    leak finder scans /proc whenever an owner is new. No read fails, the
#    steady holder's count equals `ss -tanp`, the groups sum to the total.
# 2. /proc/PID/fd unreadable: tcps-count as nobody against root's
#    sockets. Counts still equal ss, the leak lands in -unknown, the
#    refusals are counted, nothing fails.
source "$(dirname "$0")/lib.sh"
need_root

ns=tcps-faults-$$
new_workdir work
new_netns "$ns"
cp "$BUILD/sockmaker" "$work/cw-holder"
cp "$BUILD/sockmaker" "$work/churner"
HOLD=25

mkfifo "$work/holder.in"
ip netns exec "$ns" "$work/cw-holder" --close-wait "$HOLD" --v6-every 0 \
	--hold 120 <"$work/holder.in" >"$work/holder.out" \
	2>"$work/holder.err" &
holder_pid=$!
track_pid "$holder_pid"
exec {holder_fd}>"$work/holder.in"
wait_until 10 grep -q READY "$work/holder.out" ||
	{ cat "$work/holder.err"; fail "cw-holder did not get ready"; }

# ss_cw NAME: CLOSE_WAIT sockets NAME holds, as ss -p sees them.
ss_cw()
{
	ip netns exec "$ns" ss -tanpH state close-wait |
		grep -cF "((\"$1\"," || true
}
[[ $(ss_cw cw-holder) -eq $HOLD ]] || fail "setup: ss sees $(ss_cw cw-holder)"

# value FILE N NAME: NAME's value in read N (1-based) of tcps-count -a.
value()
{
	awk -v n="$2" -v name="$3" '
		/^tcpstates\/tcp_connections-ESTABLISHED / { read++ }
		read == n && $1 == name { print $2 }' "$1"
}

# ---- 1. processes vanishing while /proc is scanned ----
CHURN_MAX=1000 CHURN_SECONDS=30 BATCH=50
# Each churner makes a CLOSE_WAIT socket and holds it until its stdin
# closes, 50 to 400 ms later, then exits (its sockets reset): the dump
# sees the socket, the scan of /proc finds the process, or finds it
# gone. Bounded in count and in time.
ip netns exec "$ns" bash -c '
	end=$((SECONDS + $3))
	for ((i = 0; i < $2 && SECONDS < end; i += $4)); do
		for ((j = 0; j < $4; j++)); do
			sleep "0.$((RANDOM % 35 + 5))" |
				"$1" --close-wait 1 --v6-every 0 \
				>/dev/null 2>&1 &
		done
		wait
		echo $((i + $4)) >"$5.tmp" && mv "$5.tmp" "$5"
		if [[ -e $6 ]]; then break; fi
	done' churn "$work/churner" "$CHURN_MAX" "$CHURN_SECONDS" "$BATCH" \
	"$work/churned" "$work/churn.stop" &
churn_pid=$!
track_pid "$churn_pid"
wait_until 10 test -s "$work/churned" || fail "the churn did not start"

READS=40
ip netns exec "$ns" "$BUILD/tcps-count" -a -v -n "$READS" -i 0.2 \
	-o "ProcessScanBudget 0" -o "TopProcesses 50" \
	>"$work/churn.reads" 2>"$work/churn.err" ||
	{ cat "$work/churn.err"; fail "tcps-count failed during the churn"; }
during=$(cat "$work/churned")
# All of them come and go (bounded by CHURN_SECONDS), then the count.
wait "$churn_pid" || fail "the churn loop failed"
churned=$(cat "$work/churned")
sanitizer_clean "$work/churn.err"
grep -F "tcps-count: read:" "$work/churn.err" &&
	fail "a read failed while processes came and went"
[[ $during -ge 100 ]] || fail "only $during processes ran during the reads"
[[ $churned -ge $CHURN_MAX ]] ||
	fail "only $churned of $CHURN_MAX processes in $CHURN_SECONDS s"

reads=$(grep -c "^tcpstates/tcp_connections-ESTABLISHED " "$work/churn.reads")
[[ $reads -eq $READS ]] || fail "$reads reads printed, not $READS"
scanned=0
for ((n = 1; n <= READS; n++)); do
	got=$(value "$work/churn.reads" "$n" tcpstates_proc_close_wait/tcp_connections-cw-holder)
	[[ $got -eq $HOLD ]] || fail "read $n: cw-holder $got, ss says $HOLD"
	total=$(value "$work/churn.reads" "$n" tcpstates/tcp_connections-CLOSE_WAIT)
	sum=$(awk -v n="$n" '
		/^tcpstates\/tcp_connections-ESTABLISHED / { read++ }
		read == n && $1 ~ /^tcpstates_proc_close_wait\/tcp_connections-/ {
			s += $2 }
		END { print s + 0 }' "$work/churn.reads")
	[[ $sum -eq $total ]] || fail "read $n: groups sum to $sum, not $total"
done
# Every read scanned /proc: the churners' sockets have unknown owners.
scanned=$(grep -cE "read [0-9]+: .* [1-9][0-9]* fd folders" "$work/churn.err" || true)
[[ $scanned -ge 5 ]] ||
	fail "only $scanned of $READS reads scanned /proc"
[[ $(ss_cw cw-holder) -eq $HOLD ]] || fail "ss after the churn"
lost=$(awk '/without owner/ { for (i = 1; i < NF; i++)
	if ($(i + 1) == "without") s += $i } END { print s + 0 }' \
	"$work/churn.err")
note "$churned short-lived processes ($during during $READS reads, $scanned scanned /proc): cw-holder $HOLD every read (ss $HOLD), $lost sockets whose owner left first"

# ---- 2. /proc/PID/fd unreadable: run as nobody ----
chmod 755 "$work"
# A copy nobody may run wherever the build folder is.
cp "$BUILD/tcps-count" "$work/tcps-count"
ss_total=$(ss_count "$ns" close-wait)
ip netns exec "$ns" setpriv --reuid=nobody --regid=nogroup --clear-groups \
	"$work/tcps-count" -a -v -n 2 -i 0.2 -o "ProcessScanBudget 0" \
	>"$work/nobody.reads" 2>"$work/nobody.err" ||
	{ cat "$work/nobody.err"; fail "tcps-count as nobody failed"; }
sanitizer_clean "$work/nobody.err"
grep -F "tcps-count: read:" "$work/nobody.err" && fail "a read failed as nobody"
for n in 1 2; do
	[[ $(value "$work/nobody.reads" $n tcpstates/tcp_connections-CLOSE_WAIT) -eq \
		$ss_total ]] || fail "read $n as nobody: CLOSE_WAIT is not $ss_total"
	[[ $(value "$work/nobody.reads" $n tcpstates_proc_close_wait/tcp_connections--unknown) -eq \
		$ss_total ]] || fail "read $n as nobody: -unknown is not $ss_total"
	[[ -z $(value "$work/nobody.reads" $n tcpstates_proc_close_wait/tcp_connections-cw-holder) ]] ||
		fail "read $n as nobody: named an owner it cannot see"
done
equal_states()
{
	local i got want
	for i in "${!STATE_NAMES[@]}"; do
		got=$(value "$work/nobody.reads" 2 "tcpstates/tcp_connections-${STATE_NAMES[$i]}")
		want=$(ss_count "$ns" "${SS_FILTERS[$i]}")
		[[ $got -eq $want ]] || return 1
	done
}
equal_states || fail "as nobody, the state counts differ from ss"
# The first read scans and is refused; the second excuses the unfindable.
denied=$(sed -n 's/^read 1: .* \([0-9]*\) denied, resolve error \(-\?[0-9]*\).*/\1 \2/p' \
	"$work/nobody.err")
read -r denied resolve_error <<<"$denied"
[[ ${denied:-0} -ge 1 ]] || fail "no refused fd folder was counted"
[[ $resolve_error -eq 0 ]] || fail "the scan failed as nobody: $resolve_error"
note "as nobody: CLOSE_WAIT $ss_total = ss, all in -unknown, $denied fd folders refused and counted"

# ---- 3. namespace files that go away or are no namespace ----
# test-namespaces.sh deletes a /var/run/netns file under collectd. Not
# covered there: a /proc/PID/ns/net path whose process exits, and a path
# that is an ordinary file. Both are logged (rate-limited), the others
# keep reporting, and the daemon keeps running.
ip netns exec "$ns" sleep 300 &
ns_holder=$!
track_pid "$ns_holder"
echo "not a namespace" >"$work/not-a-netns"
host=tcps-faults
{
	collectd_conf "$work" "$host"
	cat <<CONF
PluginDir "$BUILD"
LoadPlugin tcpstates
<Plugin tcpstates>
  <Namespace "bypid">
    Path "/proc/$ns_holder/ns/net"
  </Namespace>
  <Namespace "plainfile">
    Path "$work/not-a-netns"
  </Namespace>
</Plugin>
CONF
} >"$work/collectd.conf"
start_collectd "" "$work"
bypid_cw()
{
	num_eq "$(csv_value "$work" "$host" tcpstates-bypid \
		tcp_connections-CLOSE_WAIT)" "$(ss_count "$ns" close-wait)"
}
wait_until 20 bypid_cw || { cat "$work/collectd.log"; fail "bypid: no CLOSE_WAIT equal to ss"; }
unusable="namespace plainfile ($work/not-a-netns) is gone or unusable (Invalid argument)"
wait_until 10 grep -qF "$unusable" "$work/collectd.log" ||
	{ cat "$work/collectd.log"; fail "no log line: $unusable"; }
[[ ! -e $work/csv/$host/tcpstates-plainfile ]] ||
	fail "values for a path that is no namespace"

kill "$ns_holder"
wait "$ns_holder" 2>/dev/null || true
gone_at=$SECONDS
gone="namespace bypid (/proc/$ns_holder/ns/net) is gone"
wait_until 10 grep -qF "$gone" "$work/collectd.log" ||
	{ cat "$work/collectd.log"; fail "no log line: $gone"; }
newest()
{
	csv_row "$work" "$host" "$1" tcp_connections-ESTABLISHED | cut -d, -f1
}
bypid_last=$(newest tcpstates-bypid)
own_last=$(newest tcpstates-host)
sleep 3
collectd_alive "$work"
[[ $(newest tcpstates-bypid) == "$bypid_last" ]] ||
	fail "values for bypid after its process exited"
awk -v a="$(newest tcpstates-host)" -v b="$own_last" 'BEGIN { exit !(a > b) }' ||
	fail "the daemon's own namespace stopped reporting"
seconds=$((SECONDS - gone_at))
for line in "$gone" "$unusable"; do
	logged=$(grep -cF "$line" "$work/collectd.log")
	[[ $logged -ge 1 && $logged -le 3 ]] ||
		fail "$logged lines in ~$seconds s: $line"
done
if grep "tcpstates plugin:" "$work/collectd.log" |
	grep -vF -e "$gone" -e "$unusable"; then
	fail "the plugin logged another problem"
fi
stop_collectd "$work"
note "collectd: bypid reported until its process exited, then logged gone; a plain file logged unusable; own namespace went on"

exec {holder_fd}>&-
wait "$holder_pid" || true
echo "faults: ok"
