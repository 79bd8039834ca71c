#!/bin/bash
# Real sockets in every common state, hundreds each, in a private network
# namespace: the core's counts must equal what ss from iproute2 shows,
# for both families together and for each alone.
source "$(dirname "$0")/lib.sh"
need_root

ns=tcps-counts-$$
new_workdir work
new_netns "$ns"
# Orphaned FIN_WAIT2 peers of the CLOSE_WAIT sockets leave within ~1 s,
# so FIN_WAIT2 holds only the sockets sockmaker keeps open.
ip netns exec "$ns" sysctl -qw net.ipv4.tcp_fin_timeout=1

start_sockmaker "$ns" "$work" --established 300 --time-wait 250 \
	--close-wait 200 --fin-wait2 150 --listen 200 --syn-recv 180 \
	--tw-sources 4 --v6-every 3 --hold 120
sleep 3

# ours NS [-4|-6]: "STATE count" from the core, UNKNOWN checked apart.
ours()
{
	ip netns exec "$1" "$BUILD/tcps-count" ${2:+"$2"} 2>/dev/null |
		sed -n 's/^tcpstates\/tcp_connections-\([A-Z_0-9]*\) /\1 /p'
}

ss_family()
{
	local i
	for i in "${!STATE_NAMES[@]}"; do
		echo "${STATE_NAMES[$i]} $(ip netns exec "$1" ss -tanH $2 \
			state "${SS_FILTERS[$i]}" | wc -l)"
	done
}

# compare LABEL FLAG: ss before == ss after, then ours must equal them.
compare()
{
	local label=$1 flag=${2:-} before now after
	for attempt in 1 2 3 4 5; do
		before=$(ss_family "$ns" "$flag")
		now=$(ours "$ns" "$flag")
		after=$(ss_family "$ns" "$flag")
		[[ $before == "$after" ]] || continue
		grep -qx "UNKNOWN 0" <<<"$now" ||
			fail "$label: UNKNOWN is not 0: $now"
		now=$(grep -v '^UNKNOWN ' <<<"$now")
		if [[ $now != "$before" ]]; then
			diff <(echo "$before") <(echo "$now") >&2 || true
			fail "$label: counts differ from ss (< ss, > ours)"
		fi
		note "$label equals ss: $(tr '\n' ' ' <<<"$now")"
		return 0
	done
	fail "$label: sockets kept changing; no stable comparison"
}

compare "IPv4+IPv6"
compare "IPv4 only" -4
compare "IPv6 only" -6

# The comparison means something only if the states are really there.
for state in established time-wait close-wait fin-wait-2 listening \
	syn-recv; do
	n=$(ss_count "$ns" "$state")
	[[ $n -ge 100 ]] || fail "only $n sockets in $state; setup failed"
	n6=$(ip netns exec "$ns" ss -tanH6 state "$state" | wc -l)
	[[ $n6 -ge 1 ]] || fail "no IPv6 socket in $state"
done
stop_sockmaker
echo "netns-counts: ok"
