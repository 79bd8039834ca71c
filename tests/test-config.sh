#!/bin/bash
# A bad <Plugin tcpstates> block makes `collectd -T` exit non-zero with a
# message naming the option and the value; a good one passes.
source "$(dirname "$0")/lib.sh"

new_workdir work

# write_conf FILE BLOCK: a minimal collectd config loading our plugin.
write_conf()
{
	cat >"$1" <<CONF
Hostname "config-test"
BaseDir "$work"
PIDFile "$work/collectd.pid"
Interval 1
PluginDir "$BUILD"
LoadPlugin tcpstates
<Plugin tcpstates>
$2
</Plugin>
CONF
}

# expect_error BLOCK TEXT...: collectd -T fails and prints every TEXT.
expect_error()
{
	local block=$1 rc=0 text
	shift
	write_conf "$work/bad.conf" "$block"
	"${COLLECTD[@]}" -T -C "$work/bad.conf" >"$work/out" 2>&1 || rc=$?
	[[ $rc -ne 0 ]] || fail "collectd -T accepted: $block"
	for text in "$@"; do
		grep -qF -- "$text" "$work/out" ||
			{ cat "$work/out"; fail "no '$text' for: $block"; }
	done
	note "rejected (exit $rc): $(echo "$block" | tr '\n' ' ')"
}

expect_ok()
{
	write_conf "$work/good.conf" "$1"
	"${COLLECTD[@]}" -T -C "$work/good.conf" >"$work/out" 2>&1 ||
		{ cat "$work/out"; fail "collectd -T refused: $1"; }
	if grep -q "tcpstates plugin" "$work/out"; then
		cat "$work/out"
		fail "plugin complained about a good config: $1"
	fi
	sanitizer_clean "$work/out"
	note "accepted: $(echo "$1" | tr '\n' ' ')"
}

expect_ok ""
expect_ok "IPv4 true
IPv6 false"
expect_ok 'ipv6 "yes"'
expect_error "Bogus 3" 'unknown option "Bogus"' "3"
expect_error "IPv4 maybe" '"IPv4"' '"maybe"'
expect_error 'IPv4 "sometimes"' '"IPv4"' '"sometimes"'
expect_error "IPv6 1" '"IPv6"' 'got 1'
expect_error "IPv4 true false" '"IPv4"' 'expected one value, got 2'
expect_error "IPv4 false
IPv6 false" 'nothing to count'
expect_ok 'ProcessStates "CLOSE_WAIT" "ESTABLISHED"
TopProcesses 5
GroupBy "unit"
LeakThreshold 50
LeakAge 300
MaxTrackedSockets 1000
PortExhaustionWarning 75.5
MaxDestinations 1024
TopListeners 3
RetransmitThreshold 5
LocalPort "22"
LocalPort 80 443
RemotePort 5432
ListeningPorts true
AllPortsSummary true
<Namespace "blue">
  Path "/proc/self/ns/net"
</Namespace>'
expect_ok 'ProcessStates "none"'
expect_error "TopProcesses -1" '"TopProcesses"' 'got -1'
expect_error "TopProcesses 2.5" '"TopProcesses"' 'got 2.5'
expect_error 'GroupBy "pid"' '"GroupBy"' '"pid"'
expect_error 'ProcessStates "CLOSE_WAIT" "BOGUS"' '"ProcessStates"' '"BOGUS"'
expect_error "PortExhaustionWarning 150" '"PortExhaustionWarning"' '150'
expect_error "PortExhaustionWarning 0" '"PortExhaustionWarning"' 'got 0'
expect_error "LocalPort 70000" '"LocalPort"' '70000'
expect_error 'RemotePort "http"' '"RemotePort"' '"http"'
expect_error "MaxTrackedSockets 0" '"MaxTrackedSockets"' 'got 0'
expect_error "ProcessScanBudget 61000" '"ProcessScanBudget"' '61000'
expect_error "MaxDestinations 5000000" '"MaxDestinations"' '5e+06'
expect_error "RetransmitThreshold 300" '"RetransmitThreshold"' '300'
expect_error '<Namespace "a.b">
  Path "/var/run/netns/x"
</Namespace>' 'Namespace "a.b"'
expect_error '<Namespace "x">
</Namespace>' 'Namespace "x"> has no Path'
expect_error '<Namespace "x">
  Path "relative"
</Namespace>' 'Namespace "x"' 'Path'
expect_error '<Namespace "x">
  Path "/a"
</Namespace>
<Namespace "x">
  Path "/b"
</Namespace>' 'configured twice'
expect_error '<IPv4 "yes">
  Foo 1
</IPv4>' '"IPv4" is not a block option'
# The shipped snippet, every option uncommented, must be a good config.
sed 's/^\t#\([A-Z]\)/\t\1/; s/^\t#<\(\/\{0,1\}\)Namespace/\t<\1Namespace/
	s/^\t#\tPath.*/\t\tPath "\/proc\/self\/ns\/net"/' \
	"$TESTS_DIR/../conf/tcpstates.conf" |
	sed -n '/^<Plugin tcpstates>/,/^<\/Plugin>/p' | sed '1d;$d' >"$work/snippet"
[[ $(grep -c '^\s*[A-Z<]' "$work/snippet") -ge 17 ]] ||
	fail "could not uncomment the shipped snippet"
expect_ok "$(cat "$work/snippet")"
echo "config: ok"
