#!/bin/bash
# A bad <Plugin tcpstates> block makes `collectd -T` exit non-zero with a
# message naming the option and the value; a good one passes.
source "$(dirname "$0")/lib.sh"

work=$(new_workdir)

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
echo "config: ok"
