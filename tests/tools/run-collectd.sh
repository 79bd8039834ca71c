#!/bin/bash
# Starts a real collectd in the foreground with the freshly built plugin,
# reading this host's sockets and printing every value on the terminal
# (write_log), until Ctrl-C.
set -euo pipefail

build=$(cd "${BUILD:-build}" && pwd)
interval=${INTERVAL:-5}
workdir=$(mktemp -d /tmp/tcpstates-run.XXXXXX)
trap 'rm -rf "$workdir"' EXIT

cat >"$workdir/collectd.conf" <<CONF
Hostname "$(hostname -s 2>/dev/null || echo localhost)"
BaseDir "$workdir"
PIDFile "$workdir/collectd.pid"
Interval $interval
PluginDir "/usr/lib/collectd"
LoadPlugin logfile
<Plugin logfile>
  LogLevel info
  File STDOUT
  Timestamp true
</Plugin>
<LoadPlugin write_log>
  FlushInterval 1
</LoadPlugin>
<Plugin write_log>
  Format Graphite
</Plugin>
PluginDir "$build"
LoadPlugin tcpstates
<Plugin tcpstates>
  IPv4 true
  IPv6 true
</Plugin>
CONF

echo "collectd with $build/tcpstates.so, every ${interval}s; Ctrl-C stops it"
collectd -T -C "$workdir/collectd.conf" >/dev/null 2>&1 || {
	collectd -T -C "$workdir/collectd.conf"
	exit 1
}
collectd -f -C "$workdir/collectd.conf"
