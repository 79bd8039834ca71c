#!/bin/bash
# `make run`: starts a real collectd with the freshly built plugin, reading
# this host's sockets, and prints one screen of its values per interval
# (tools/run-screen.sh), read from the daemon through its unixsock plugin
# with collectdctl, until Ctrl-C or SIGTERM; then stops the daemon by its
# pid. On a terminal each screen replaces the last; elsewhere (a log, CI)
# screens are separated by a blank line. INTERVAL (5) sets collectd's
# Interval in seconds; RUN_OPTIONS, more lines for the plugin's block
# (e.g. 'Discover true': a section per namespace); RUN_PRELOAD, libraries
# only the daemon preloads (the sanitizer runtimes, which
# tests/test-run-screen.sh sets under make asan).
set -euo pipefail

build=$(cd "${BUILD:-build}" && pwd)
tools=$(cd "$(dirname "$0")" && pwd)
interval=${INTERVAL:-5}
host=$(hostname -s 2>/dev/null || echo localhost)
workdir=$(mktemp -d /tmp/tcpstates-run.XXXXXX)
socket=$workdir/collectd.sock
log=$workdir/collectd.log
collectd_pid=""
daemon=(collectd)
[[ -z ${RUN_PRELOAD:-} ]] || daemon=(env "LD_PRELOAD=$RUN_PRELOAD" collectd)
sleep_pid=""

stop()
{
	# A second signal (make passes SIGTERM on to the one the process
	# group got) must not cut the wait for the daemon short.
	trap "" INT TERM
	local rc=0
	if [[ -n $collectd_pid ]]; then
		kill "$collectd_pid" 2>/dev/null || true
		wait "$collectd_pid" 2>/dev/null || rc=$?
	fi
	[[ -z $sleep_pid ]] || kill "$sleep_pid" 2>/dev/null || true
	if [[ $rc -ne 0 ]]; then
		echo "collectd ended with $rc:" >&2
		cat "$workdir/collectd.out" >&2 || true
	fi
	rm -rf "$workdir"
	[[ $rc -eq 0 ]] || exit 1
}
trap stop EXIT
trap 'exit 0' INT TERM

# The values stop in collectd's cache, which unixsock reads: the
# PostCache chain's only target is "stop", so no write plugin is needed
# (nor wanted: the screen is the output). Notifications still reach the
# logfile, whose last ones the screen shows.
cat >"$workdir/collectd.conf" <<CONF
Hostname "$host"
BaseDir "$workdir"
PIDFile "$workdir/collectd.pid"
Interval $interval
PluginDir "/usr/lib/collectd"
LoadPlugin logfile
<Plugin logfile>
  LogLevel info
  File "$log"
  Timestamp true
</Plugin>
LoadPlugin unixsock
<Plugin unixsock>
  SocketFile "$socket"
  SocketGroup "$(id -gn)"
  SocketPerms "0600"
</Plugin>
PostCacheChain "PostCache"
<Chain "PostCache">
  Target "stop"
</Chain>
PluginDir "$build"
LoadPlugin tcpstates
<Plugin tcpstates>
  IPv4 true
  IPv6 true
${RUN_OPTIONS:-}
</Plugin>
CONF

"${daemon[@]}" -T -C "$workdir/collectd.conf" >"$workdir/check.log" 2>&1 || {
	cat "$workdir/check.log" "$log" >&2 2>/dev/null || true
	exit 1
}
# The check run wrote to the same log: the screen shows the daemon's own.
: >"$log"

# daemon_gone: true (after showing why) if collectd has exited.
daemon_gone()
{
	kill -0 "$collectd_pid" 2>/dev/null && return 1
	echo "collectd exited:" >&2
	cat "$log" "$workdir/collectd.out" >&2 2>/dev/null || true
	return 0
}

"${daemon[@]}" -f -C "$workdir/collectd.conf" >"$workdir/collectd.out" 2>&1 &
collectd_pid=$!
echo "collectd (pid $collectd_pid) with $build/tcpstates.so, every ${interval}s; Ctrl-C stops it"

# The first read: its values are in the cache within an interval or two.
for _ in $(seq $((interval * 10 + 50))); do
	daemon_gone && exit 1
	[[ -S $socket ]] && collectdctl -s "$socket" listval 2>/dev/null |
		grep "/tcpstates" >/dev/null && break
	sleep 0.2
done

# Screens half an interval after each read, so that none straddles two:
# the next is due one interval after the last was due, however long the
# last took to print.
next_due=$(awk -v i="$interval" -v t="$EPOCHREALTIME" 'BEGIN { printf "%.3f", t + i / 2 }')
while ! daemon_gone; do
	sleep "$(awk -v due="$next_due" -v t="$EPOCHREALTIME" \
		'BEGIN { printf "%.3f", (due > t ? due - t : 0) }')" &
	sleep_pid=$!
	wait $!
	next_due=$(awk -v due="$next_due" -v i="$interval" -v t="$EPOCHREALTIME" \
		'BEGIN { while (due <= t) due += i; printf "%.3f", due }')
	"$tools/run-screen.sh" show "$socket" "$host" "$interval" "$log"
done
exit 1
