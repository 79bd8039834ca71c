#!/bin/bash
# Discover with plain namespaces (ip netns add), in a real collectd:
# 1. two namespaces, each with its own sockets, are read under their pin
#    names and equal ss inside each; the one a <Namespace> block reads is
#    read by that block only, never twice;
# 2. one deleted between reads sends its states once as zeros, then
#    nothing, and is logged at INFO, never as a warning or an error;
# 3. collectd without CAP_SYS_ADMIN (as nobody): one warning says the
#    namespaces cannot be entered, the host's own values keep coming.
source "$(dirname "$0")/lib.sh"
need_root

nsa=tcps-disc-a-$$
nsb=tcps-disc-b-$$
nsc=tcps-disc-c-$$
new_workdir work
host=tcps-discover
new_netns "$nsa"
new_netns "$nsb"
new_netns "$nsc"
mkdir "$work/a" "$work/b" "$work/c"
start_sockmaker "$nsa" "$work/a" --established 9 --close-wait 4 --listen 2 \
	--v6-every 0
smk_a=$SOCKMAKER_PID
start_sockmaker "$nsb" "$work/b" --established 5 --fin-wait2 3 --listen 3 \
	--v6-every 2
start_sockmaker "$nsc" "$work/c" --established 2 --listen 1 --v6-every 0

# write_conf DIR: Discover every 2 intervals of 0.5 s; nsc is a block.
write_conf()
{
	{
		collectd_conf "$1" "$host" --interval 0.5
		cat <<CONF
PluginDir "$BUILD"
LoadPlugin tcpstates
<Plugin tcpstates>
  Discover true
  DiscoverEvery 2
  <Namespace "block-c">
    Path "/var/run/netns/$nsc"
  </Namespace>
</Plugin>
CONF
	} >"$1/collectd.conf"
}

# states_equal NS INSTANCE: the newest values equal ss inside NS.
states_equal()
{
	local state want got
	while read -r state want; do
		got=$(csv_value "$work" "$host" "tcpstates-$2" \
			"tcp_connections-$state")
		num_eq "$got" "$want" || return 1
	done < <(ss_all_once "$1")
}

write_conf "$work"
start_collectd "" "$work"
wait_until 30 states_equal "$nsa" "$nsa" ||
	fail "$nsa: $(ss_all_once "$nsa" | tr '\n' ' ') not reported"
wait_until 30 states_equal "$nsb" "$nsb" ||
	fail "$nsb: $(ss_all_once "$nsb" | tr '\n' ' ') not reported"
[[ $(csv_value "$work" "$host" "tcpstates_proc_close_wait-$nsa" \
	tcp_connections-sockmaker) == 4* ]] ||
	fail "$nsa's CLOSE_WAIT holder not named"
note "$nsa and $nsb equal ss: $(ss_all_once "$nsb" | awk '$2 > 0' | tr '\n' ' ')"
wait_until 30 states_equal "$nsc" block-c || fail "block-c not reported"
ls "$work/csv/$host" | grep -q -- "-$nsc\$" &&
	fail "$nsc is read by its block and by Discover"
note "$nsc is read by its <Namespace> block only"

# 2. nsa goes: its sockets end with their holder, then the namespace.
kill "$smk_a"
ip netns delete "$nsa"
file_of()
{
	ls -t "$work/csv/$host/tcpstates-$nsa/$1"-[0-9]* | head -1
}
zeros_once()
{
	[[ $(tail -n 1 "$(file_of tcp_connections-ESTABLISHED)") == *,0* ]]
}
wait_until 30 zeros_once || fail "$nsa: no zeros after it went"
rows=$(wc -l <"$(file_of tcp_connections-ESTABLISHED)")
sleep 3
collectd_alive "$work"
[[ $(wc -l <"$(file_of tcp_connections-ESTABLISHED)") -eq $rows ]] ||
	fail "$nsa: values after the zeros"
states_equal "$nsb" "$nsb" || fail "$nsb no longer equals ss"
grep -E "\[(warning|error)\].*$nsa" "$work/collectd.log" &&
	fail "$nsa going away was logged as a problem"
grep -qE "Discover: reading .* \([0-9]+ new, [1-9][0-9]* gone\)" "$work/collectd.log" ||
	fail "no INFO line for $nsa going"
note "$nsa deleted: zeros once, then nothing; INFO only"
stop_collectd "$work"

# 3. Without CAP_SYS_ADMIN. collectd as nobody writes in its own folder.
new_workdir nobody
chmod 755 "$nobody"
write_conf "$nobody"
sed -i "/<Namespace/,/<\/Namespace>/d" "$nobody/collectd.conf"
chown -R nobody:nogroup "$nobody"
setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all \
	--bounding-set=-all "${COLLECTD[@]}" -f -C "$nobody/collectd.conf" \
	2>"$nobody/collectd.stderr" &
track_pid $!
COLLECTD_PID=$!
host_states()
{
	[[ -n $(csv_value "$nobody" "$host" tcpstates-host \
		tcp_connections-ESTABLISHED) ]]
}
wait_until 30 host_states || fail "no host values as nobody"
sleep 3
collectd_alive "$nobody"
warned=$(grep -c "needs CAP_SYS_ADMIN" "$nobody/collectd.log" || true)
[[ $warned -eq 1 ]] || {
	cat "$nobody/collectd.log"
	fail "$warned warnings about CAP_SYS_ADMIN, not 1"
}
ls "$nobody/csv/$host" | grep -q -- "-$nsb\$" &&
	fail "values of $nsb without CAP_SYS_ADMIN"
note "as nobody: one warning, the host's values go on"
stop_collectd "$nobody"
echo "discover: ok"
