#!/bin/bash
# Per-port values against the incumbent: one collectd loads the stock
# tcpconns plugin and ours with the same LocalPort, RemotePort,
# ListeningPorts and AllPortsSummary options, in a private namespace full
# of sockets in every common state. Every tcpconns-<instance> value the
# csv plugin writes must equal ours (tcpconns-80-local/tcp_connections-S
# is tcpstates_local_<s>-host/tcp_connections-80, tcpconns-all is
# tcpstates_all-host), the same instances must exist on both sides, and
# both must equal what ss shows.
source "$(dirname "$0")/lib.sh"
need_root

ns=tcps-conns-$$
new_workdir work
host=tcps-tcpconns
csv="$work/csv/$host"
new_netns "$ns"
# The orphaned FIN_WAIT2 peers of --close-wait leave within ~1-2 s.
ip netns exec "$ns" sysctl -qw net.ipv4.tcp_fin_timeout=1

start_sockmaker "$ns" "$work" --established 40 --time-wait 30 \
	--close-wait 25 --fin-wait2 15 --listen 6 --syn-recv 20 \
	--v6-every 4 --hold 120
sleep 3

# Ports with sockets in them, found in ss: the three local ports and the
# three peer ports holding most sockets (helper listeners' ports, seen
# from both ends), the TIME_WAITs' peer port (a closed listener), one
# client's ephemeral port, and port 9, which nothing uses.
top_ports()
{
	ss_states_by_port "$ns" | awk -v f="$1" '$3 != "LISTEN" { print $f }' |
		sort | uniq -c | sort -rn | head -"$2" | awk '{ print $2 }'
}
local_ports=$(top_ports 1 3)
remote_ports=$(top_ports 2 3)
tw_peer=$(ip netns exec "$ns" ss -tanH state time-wait |
	awk '{ n = split($4, a, ":"); print a[n]; exit }')
client_port=$(ip netns exec "$ns" ss -tanH state time-wait |
	awk '{ n = split($3, a, ":"); print a[n]; exit }')
[[ -n $tw_peer && -n $client_port ]] || fail "no TIME_WAIT sockets to use"
local_ports=$(printf '%s\n' $local_ports "$client_port" 9 | sort -un)
remote_ports=$(printf '%s\n' $remote_ports "$tw_peer" 9 | sort -un)
note "LocalPort" $local_ports "; RemotePort" $remote_ports

port_options()
{
	local p
	for p in $local_ports; do echo "  LocalPort \"$p\""; done
	for p in $remote_ports; do echo "  RemotePort $p"; done
	echo "  ListeningPorts true"
	echo "  AllPortsSummary true"
}

{
	collectd_conf "$work" "$host"
	echo "LoadPlugin tcpconns"
	echo "<Plugin tcpconns>"
	port_options
	echo "</Plugin>"
	echo "PluginDir \"$BUILD\""
	echo "LoadPlugin tcpstates"
	echo "<Plugin tcpstates>"
	port_options
	echo "</Plugin>"
} >"$work/collectd.conf"
start_collectd "$ns" "$work"

has_values()
{
	collectd_alive "$work"
	[[ -n $(csv_value "$work" "$host" tcpconns-all \
		tcp_connections-CLOSING) &&
		-n $(csv_value "$work" "$host" tcpstates_all-host \
			tcp_connections-CLOSING) ]]
}
wait_until 20 has_values ||
	{ cat "$work/collectd.log"; fail "no values from collectd"; }

# The per-port instances a plugin wrote, named as tcpconns names them:
# all, <port>-local, <port>-remote. Ours: tcpstates_all-host, and the
# ports (type instances) of tcpstates_<side>_established-host.
instances()
{
	local side
	if [[ $1 == tcpconns ]]; then
		ls "$csv" |
			sed -n "s/^tcpconns-\(all\|[0-9]*-local\|[0-9]*-remote\)\$/\1/p" |
			sort
		return
	fi
	{
		[[ ! -d $csv/tcpstates_all-host ]] || echo all
		for side in local remote; do
			ls "$csv/tcpstates_${side}_established-host" 2>/dev/null |
				sed -En "s/^tcp_connections-([0-9]+)-[0-9]{4}-[0-9]{2}-[0-9]{2}\$/\1-$side/p"
		done
	} | sort -u
}

# value PLUGIN INSTANCE STATE: the newest value of one per-port count.
value()
{
	local port=${2%-*} side=${2#*-} state=$3
	if [[ $1 == tcpconns ]]; then
		csv_value "$work" "$host" "tcpconns-$2" "tcp_connections-$state"
	elif [[ $2 == all ]]; then
		csv_value "$work" "$host" tcpstates_all-host \
			"tcp_connections-$state"
	else
		csv_value "$work" "$host" "tcpstates_${side}_${state,,}-host" \
			"tcp_connections-$port"
	fi
}

# values PLUGIN: "instance STATE value" for every per-port value.
values()
{
	local inst state
	for inst in $(instances "$1"); do
		for state in "${STATE_NAMES[@]}"; do
			echo "$inst $state $(value "$1" "$inst" "$state" |
				sed 's/\.0*$//')"
		done
	done
}

# The same numbers from ss, for the instances tcpconns wrote.
ss_values()
{
	local inst state
	ss_states_by_port "$ns" >"$work/ss.now"
	for inst in $(instances tcpconns); do
		for state in "${STATE_NAMES[@]}"; do
			echo "$inst $state $(awk -v i="$inst" -v s="$state" '
				$3 != s { next }
				i == "all" || i == $1 "-local" || \
					i == $2 "-remote" { c++ }
				END { print c + 0 }' "$work/ss.now")"
		done
	done
}

ok=0
for attempt in 1 2 3 4 5; do
	before=$(ss_all_once "$ns")
	sleep 2.5 # at least two reads of each plugin after the first look
	theirs=$(values tcpconns)
	ours=$(values tcpstates)
	from_ss=$(ss_values)
	after=$(ss_all_once "$ns")
	[[ $before == "$after" ]] || continue
	if [[ $(instances tcpconns) != "$(instances tcpstates)" ]]; then
		diff <(instances tcpconns) <(instances tcpstates) >&2 || true
		fail "instances differ (< tcpconns, > tcpstates)"
	fi
	if [[ $ours != "$theirs" ]]; then
		diff <(echo "$theirs") <(echo "$ours") >&2 || true
		fail "values differ (< tcpconns, > tcpstates)"
	fi
	if [[ $ours != "$from_ss" ]]; then
		diff <(echo "$from_ss") <(echo "$ours") >&2 || true
		fail "values differ from ss (< ss, > tcpstates)"
	fi
	ok=1
	break
done
[[ $ok -eq 1 ]] || fail "sockets kept changing; no stable comparison"

n=$(wc -l <<<"$ours")
nonzero=$(awk '$3 != 0' <<<"$ours" | wc -l)
note "$n values in $(instances tcpstates | wc -l) instances equal" \
	"tcpconns and ss ($nonzero non-zero)"
note "instances: $(instances tcpstates | tr '\n' ' ')"
listening=$(ip netns exec "$ns" ss -tlnH |
	awk '{ n = split($4, a, ":"); print a[n] }' | sort -u | wc -l)
[[ $(instances tcpstates | grep -c -- -local) -ge $listening ]] ||
	fail "fewer -local instances than the $listening listening ports"
grep -qx "9-local ESTABLISHED 0" <<<"$ours" || fail "port 9 missing"
[[ $nonzero -ge 20 ]] || fail "only $nonzero non-zero values: setup failed"
if grep -q "tcpstates plugin:" "$work/collectd.log"; then
	cat "$work/collectd.log"
	fail "the plugin logged a problem"
fi
stop_collectd "$work"
stop_sockmaker
echo "tcpconns: ok"
