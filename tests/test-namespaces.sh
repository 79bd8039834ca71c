#!/bin/bash
# Two namespaces at once, then one deleted while collectd runs. collectd
# runs in this (the host's) namespace with two <Namespace> blocks; A and
# B hold different sockets and different port ranges. Each one's values
# must equal ss and the sysctls inside it. Then A's sockets are reset
# and A deleted: collectd keeps running, B keeps reporting (new
# timestamps, still equal to ss), the log says A is gone without
# repeating it every interval. A re-created under the same name is
# reported again.
source "$(dirname "$0")/lib.sh"
need_root

nsa=tcps-nsa-$$
nsb=tcps-nsb-$$
new_workdir work
host=tcps-namespaces
new_netns "$nsa"
new_netns "$nsb"
ip netns exec "$nsa" sysctl -qw net.ipv4.ip_local_port_range="41000 41999"
ip netns exec "$nsb" sysctl -qw net.ipv4.ip_local_port_range="42000 42499"

mkdir "$work/a" "$work/b"
start_sockmaker "$nsa" "$work/a" --established 30 --listen 3 --v6-every 0
smk_a=("$SOCKMAKER_PID" "$SOCKMAKER_FD")
start_sockmaker "$nsb" "$work/b" --established 12 --close-wait 7 \
	--fin-wait2 5 --listen 5 --v6-every 3
smk_b=("$SOCKMAKER_PID" "$SOCKMAKER_FD")

{
	collectd_conf "$work" "$host"
	cat <<CONF
PluginDir "$BUILD"
LoadPlugin tcpstates
<Plugin tcpstates>
  <Namespace "nsa">
    Path "/var/run/netns/$nsa"
  </Namespace>
  <Namespace "nsb">
    Path "/var/run/netns/$nsb"
  </Namespace>
</Plugin>
CONF
} >"$work/collectd.conf"
start_collectd "" "$work"

# states NAME: "STATE count" as collectd last wrote them for namespace NAME.
states()
{
	local state
	for state in "${STATE_NAMES[@]}"; do
		echo "$state $(csv_value "$work" "$host" "tcpstates-$1" \
			"tcp_connections-$state" | sed 's/\.0*$//')"
	done
}

# newest NAME: the time of the newest ESTABLISHED value of NAME.
newest()
{
	csv_row "$work" "$host" "tcpstates-$1" tcp_connections-ESTABLISHED |
		cut -d, -f1
}

# later T1 T0: true if time T1 is after T0.
later()
{
	awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 > b + 0) }'
}

has_values()
{
	collectd_alive "$work"
	[[ -n $(newest nsa) && -n $(newest nsb) ]]
}
wait_until 20 has_values ||
	{ cat "$work/collectd.log"; fail "no values for both namespaces"; }

# equal_ss NAME NS: NAME's values must equal ss in NS, once stable.
equal_ss()
{
	local before got after
	for _ in 1 2 3 4 5; do
		before=$(ss_all_once "$2")
		sleep 2.5
		got=$(states "$1")
		after=$(ss_all_once "$2")
		[[ $before == "$after" ]] || continue
		if [[ $got != "$before" ]]; then
			diff <(echo "$before") <(echo "$got") >&2 || true
			fail "$1 differs from ss in $2 (< ss, > collectd)"
		fi
		note "$1 equals ss: $(grep -v ' 0$' <<<"$got" | tr '\n' ' ')"
		return 0
	done
	fail "$1: sockets kept changing; no stable comparison"
}

# port_range_is NAME NS: NAME's ip_local_port_range is NS's.
port_range_is()
{
	local low high
	read -r low high < <(ip netns exec "$2" sysctl -n \
		net.ipv4.ip_local_port_range)
	num_eq "$(csv_value "$work" "$host" "tcpstates_sysctl-$1" \
		gauge-ip_local_port_range_low)" "$low" &&
		num_eq "$(csv_value "$work" "$host" "tcpstates_sysctl-$1" \
			gauge-ip_local_port_range_high)" "$high" ||
		fail "$1: ip_local_port_range is not $low $high as in $2"
}

equal_ss nsa "$nsa"
equal_ss nsb "$nsb"
[[ $(states nsa) != "$(states nsb)" ]] || fail "A and B look the same"
port_range_is nsa "$nsa"
port_range_is nsb "$nsb"
note "each namespace's own ip_local_port_range"

gone="namespace nsa (/var/run/netns/$nsa) is gone"
# A goes: its sockets first, then the namespace itself.
stop_sockmaker_saved "${smk_a[@]}"
ip netns delete "$nsa"
deleted_at=$SECONDS
a_last=$(newest nsa)
b_last=$(newest nsb)
wait_until 20 grep -qF "$gone" "$work/collectd.log" ||
	{ cat "$work/collectd.log"; fail "no log line: $gone"; }
note "log: $(grep -F "$gone" "$work/collectd.log" | head -1)"
# B goes on with new values that still equal ss; A has no new ones.
a_gone=$(newest nsa)
equal_ss nsb "$nsb"
sleep 2
collectd_alive "$work"
later "$(newest nsb)" "$b_last" || fail "B stopped reporting"
[[ $(newest nsa) == "$a_gone" ]] || fail "values for A after it was gone"
# Retried every interval, logged far less often (rate-limited).
reads=$((SECONDS - deleted_at))
logged=$(grep -cF "$gone" "$work/collectd.log")
note "A gone for ~$reads s: $logged log lines about it"
[[ $logged -ge 1 && $logged -lt $reads && $logged -le 5 ]] ||
	fail "$logged lines about A in ~$reads s: not rate-limited"

# A again, under the same name, with other sockets.
ip netns add "$nsa"
ip netns exec "$nsa" ip link set lo up
mkdir "$work/a2"
start_sockmaker "$nsa" "$work/a2" --established 9 --listen 2 --v6-every 0
a_back()
{
	collectd_alive "$work"
	later "$(newest nsa)" "$a_gone"
}
wait_until 20 a_back || fail "A re-created is not reported again"
equal_ss nsa "$nsa"
grep -qF "namespace nsa (/var/run/netns/$nsa) is back" \
	"$work/collectd.log" || fail "no log line saying A is back"
note "A re-created: reported again, and logged as back"

if grep "tcpstates plugin:" "$work/collectd.log" |
	grep -vF -e "$gone" -e "namespace nsa (/var/run/netns/$nsa) is back"; then
	fail "the plugin logged another problem"
fi
stop_collectd "$work"
stop_sockmaker
stop_sockmaker_saved "${smk_b[@]}"
echo "namespaces: ok"
