#!/bin/bash
# End to end: a real collectd daemon loads the built tcpstates.so inside
# a private network namespace, the stock csv plugin writes what it
# dispatched, and every state's value equals what ss shows.
source "$(dirname "$0")/lib.sh"
need_root

ns=tcps-e2e-$$
new_workdir work
host=tcps-e2e
new_netns "$ns"
ip netns exec "$ns" sysctl -qw net.ipv4.tcp_fin_timeout=1

start_sockmaker "$ns" "$work" --established 120 --time-wait 140 \
	--close-wait 160 --fin-wait2 110 --listen 100 --syn-recv 130 \
	--tw-sources 2 --v6-every 4 --hold 120

{
	collectd_conf "$work" "$host"
	cat <<CONF
PluginDir "$BUILD"
LoadPlugin tcpstates
CONF
} >"$work/collectd.conf"

ip netns exec "$ns" "${COLLECTD[@]}" -f -C "$work/collectd.conf" \
	2>"$work/collectd.stderr" &
track_pid $!
collectd_pid=$!

csv_dir="$work/csv/$host/tcpstates-host"
# csv_value STATE: the newest value collectd wrote for STATE.
csv_value()
{
	local file
	file=$(ls -t "$csv_dir"/tcp_connections-"$1"-* 2>/dev/null | head -1)
	[[ -n $file ]] || return 1
	tail -n 1 "$file" | cut -d, -f2 | sed 's/\..*//'
}

csv_all()
{
	local state
	for state in "${STATE_NAMES[@]}"; do
		echo "$state $(csv_value "$state")"
	done
}

for _ in $(seq 100); do
	[[ -n $(csv_value UNKNOWN 2>/dev/null) ]] && break
	kill -0 "$collectd_pid" 2>/dev/null ||
		{ cat "$work/collectd.log"; fail "collectd exited"; }
	sleep 0.1
done
[[ -n $(csv_value UNKNOWN 2>/dev/null) ]] ||
	{ cat "$work/collectd.log"; fail "no values from collectd"; }
sleep 2

ok=0
for attempt in 1 2 3 4 5; do
	before=$(ss_all "$ns")
	sleep 2.5 # at least two reads after the first look
	got=$(csv_all)
	after=$(ss_all "$ns")
	[[ $before == "$after" ]] || continue
	if [[ $got != "$before" ]]; then
		diff <(echo "$before") <(echo "$got") >&2 || true
		fail "collectd values differ from ss (< ss, > collectd)"
	fi
	ok=1
	break
done
[[ $ok -eq 1 ]] || fail "sockets kept changing; no stable comparison"
note "collectd equals ss: $(tr '\n' ' ' <<<"$got")"
[[ $(csv_value UNKNOWN) == 0 ]] || fail "UNKNOWN is $(csv_value UNKNOWN)"
[[ $(csv_value CLOSE_WAIT) -ge 100 ]] || fail "setup made too few sockets"
if grep -q "tcpstates plugin" "$work/collectd.log"; then
	cat "$work/collectd.log"
	fail "the plugin logged a problem"
fi
kill "$collectd_pid"
rc=0
wait "$collectd_pid" || rc=$?
sanitizer_clean "$work/collectd.stderr"
[[ $rc -eq 0 ]] || fail "collectd exited with $rc on SIGTERM"
stop_sockmaker
echo "collectd-e2e: ok"
