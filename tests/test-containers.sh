#!/bin/bash
# Containers found by `Discover true`, with real Podman containers and a
# real collectd in the host's namespace. Each container has a network
# namespace of its own; the plugin must find them, name each after its
# container (a pod's containers share one namespace, named after the
# pod), and read each as it reads a configured namespace.
#
# 1. Three containers, each holding sockets in several states (the
#    image's sockmaker) and a set of CLOSE_WAIT sockets held by a process
#    of its own name (a copy of sockmaker). Each container's
#    tcpstates-<container>/tcp_connections-<STATE> equals `ss -tan` run
#    in its namespace, state by state, at a read where nothing moved; the
#    leak is tcpstates_proc_close_wait-<container>/tcp_connections-<process>,
#    equal to `ss -tanp` there, and under no other container.
# 2. A pod of two containers, each with its own sockets: one set of
#    values, tcpstates-<pod>, equal to ss in the shared namespace, with
#    the leak of the one under the pod's name; none under the containers'
#    names.
# 3. One container stopped and another started between reads (Interval
#    1, DiscoverEvery 2): the stopped one's values come once more as
#    zeros, then never again; the new one's come within one discovery
#    period and equal ss; nothing is logged at warning or error level,
#    and one INFO line names each.
# 4. The host's own values go on under tcpstates/ through all of it.
# 5. A second daemon with MaxNamespaces 2: one warning saying how many
#    namespaces were left out (at least the two of ours; one more only
#    if other namespaces on the host change that number, never the same
#    one twice in a row), and no more than two namespaces' values.
# 6. A third with GroupBy "cgroup": one cgroup map for every namespace;
#    each container's leak is one group named after the container (the
#    pod's after the pod), equal to `ss -tanp`.
#
# Other containers and namespaces on the host (other tests, other users)
# are discovered too; the checks only look at this test's names, except
# for the MaxNamespaces count, which counts every namespace's values.
#
# Needs root and Podman (installed through tools/deps.sh podman); the
# image comes from tools/container-image.sh. Every container and pod is
# removed on exit. CONTAINERS_SETUP_ONLY=1 stops after checking the
# containers' own sockets against what sockmaker promised (no collectd).
source "$(dirname "$0")/lib.sh"
need_root
"$TESTS_DIR/tools/deps.sh" podman
container_image
note "image $CONTAINER_IMAGE"

id=tcps$$
new_workdir work
host=tcps-containers
interval=1
discover_every=2
period=$((interval * discover_every))

# ---- the containers and what they hold ----

# leaker NAME: the process name of NAME's CLOSE_WAIT holder.
declare -A leaker leaks tags

# Three containers with different mixes, so that they cannot be
# mistaken for each other; each leaker holds CLOSE_WAIT sockets and their
# FIN_WAIT2 peers (both ends open: neither expires).
container_plan "$id-web" main --established 20 --listen 3 --time-wait 6 \
	--v6-every 3
container_plan "$id-web" leak --as leaky-web --fin-wait2 7 --v6-every 0
start_container "$id-web"
leaker[$id-web]=leaky-web leaks[$id-web]=7 tags[$id-web]="main leak"

container_plan "$id-db" main --established 5 --listen 8 --syn-recv 4 \
	--v6-every 0
container_plan "$id-db" leak --as leaky-db --fin-wait2 11 --v6-every 2
start_container "$id-db"
leaker[$id-db]=leaky-db leaks[$id-db]=11 tags[$id-db]="main leak"

container_plan "$id-cache" main --established 13 --time-wait 9 \
	--v6-every 0
container_plan "$id-cache" leak --as leaky-cache --fin-wait2 3 \
	--v6-every 0
start_container "$id-cache"
leaker[$id-cache]=leaky-cache leaks[$id-cache]=3 tags[$id-cache]="main leak"

# The pod: one container with ordinary sockets, one with the leak.
pod=$id-pod
container_plan "$pod-a" main --established 9 --listen 2 --v6-every 0
container_plan "$pod-b" leak --as pod-leaker --fin-wait2 5 --v6-every 0
start_pod "$pod" "$pod-a" "$pod-b"
[[ $(container_netns "$pod-a") == "$(container_netns "$pod-b")" ]] ||
	fail "the pod's containers do not share a network namespace"
host_netns=$(stat -L -c %i /proc/self/ns/net)
for name in "$id-web" "$id-db" "$id-cache" "$pod-a"; do
	[[ $(container_netns "$name") != "$host_netns" ]] ||
		fail "$name is in the host's network namespace"
done

# ss_leak NAME PROG: CLOSE_WAIT sockets PROG holds in NAME's namespace.
ss_leak()
{
	container_ss "$1" -tanpH state close-wait | grep -cF "((\"$2\"," ||
		true
}

# The referee itself: ss in each namespace shows what sockmaker made.
# (TIME_WAIT lasts 60 s from here; the comparisons come well before.)
setup_equals_promise()
{
	local name=$1 expected got
	shift
	expected=$(container_expected "$name" "$@")
	got=$(container_ss_all "$name")
	if [[ $got != "$expected" ]]; then
		diff <(echo "$expected") <(echo "$got") >&2 || true
		fail "$name: ss differs from what sockmaker made (< made, > ss)"
	fi
}
for name in "$id-web" "$id-db" "$id-cache"; do
	# shellcheck disable=SC2086 # tags is a list of words
	setup_equals_promise "$name" ${tags[$name]}
	[[ $(ss_leak "$name" "${leaker[$name]}") -eq ${leaks[$name]} ]] ||
		fail "$name: ss -p does not show ${leaker[$name]} holding ${leaks[$name]}"
done
expected_pod=$(paste -d' ' <(container_expected "$pod-a" main) \
	<(container_expected "$pod-b" leak) | awk '{ print $1, $2 + $4 }')
[[ $(container_ss_all "$pod-a") == "$expected_pod" ]] ||
	fail "the pod's namespace does not hold both containers' sockets"
[[ $(ss_leak "$pod-a" pod-leaker) -eq 5 ]] || fail "ss -p: pod-leaker"
note "containers ready; ss in each equals what its sockmakers made"
if [[ ${CONTAINERS_SETUP_ONLY:-0} == 1 ]]; then
	for name in "$id-web" "$id-db" "$id-cache" "$pod-a"; do
		note "$name: $(container_ss_all "$name" | grep -v ' 0$' |
			tr '\n' ' ')"
	done
	echo "containers: setup ok (CONTAINERS_SETUP_ONLY)"
	exit 0
fi

# ---- a collectd that discovers them ----

# write_conf DIR [OPTION...]: a config in DIR reading the host and
# discovering, with more plugin options.
write_conf()
{
	local dir=$1 opt
	shift
	mkdir -p "$dir"
	{
		collectd_conf "$dir" "$host" --interval "$interval" \
			--log-option "PrintSeverity true"
		cat <<CONF
PluginDir "$BUILD"
LoadPlugin tcpstates
<Plugin tcpstates>
  ProcessScanBudget 0
  Discover true
  DiscoverEvery $discover_every
CONF
		for opt in "$@"; do echo "  $opt"; done
		echo "</Plugin>"
	} >"$dir/collectd.conf"
}

# The daemon the checks read: its folder.
# shellcheck disable=SC2154 # new_workdir sets work
daemon=$work/discover
write_conf "$daemon"
start_collectd "" "$daemon"

# states NAME: "STATE count" as collectd last wrote them for NAME.
states()
{
	local state
	for state in "${STATE_NAMES[@]}"; do
		echo "$state $(csv_value "$daemon" "$host" "tcpstates-$1" \
			"tcp_connections-$state" | sed 's/\.0*$//')"
	done
}

# newest INSTANCE: the time of the newest ESTABLISHED row of INSTANCE.
newest()
{
	csv_row "$daemon" "$host" "$1" tcp_connections-ESTABLISHED |
		cut -d, -f1
}

# later T1 T0: true if time T1 is after T0.
later()
{
	awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 > b + 0) }'
}

has_values()
{
	local name
	collectd_alive "$daemon"
	for name in tcpstates-host "tcpstates-$id-web" "tcpstates-$id-db" \
		"tcpstates-$id-cache" "tcpstates-$pod"; do
		[[ -n $(newest "$name") ]] || return 1
	done
}
wait_until $((3 * period + 10)) has_values || {
	cat "$daemon/collectd.log"
	ls "$daemon/csv/$host" >&2 || true
	fail "no values for every container and the pod"
}
host_first=$(newest tcpstates-host)

# equal_ss NAME CONTAINER: NAME's values equal ss in CONTAINER's
# namespace, at a read where ss saw the same before and after.
equal_ss()
{
	local before got after
	for _ in 1 2 3 4 5; do
		before=$(container_ss_all "$2")
		sleep $((2 * interval)).5
		got=$(states "$1")
		after=$(container_ss_all "$2")
		[[ $before == "$after" ]] || continue
		if [[ $got != "$before" ]]; then
			diff <(echo "$before") <(echo "$got") >&2 || true
			fail "$1 differs from ss in its namespace (< ss, > collectd)"
		fi
		note "$1 equals ss: $(grep -v ' 0$' <<<"$got" | tr '\n' ' ')"
		return 0
	done
	fail "$1: sockets kept changing; no stable comparison"
}

# leak_value NAME PROG: PROG's CLOSE_WAIT count under namespace NAME.
leak_value()
{
	csv_value "$daemon" "$host" "tcpstates_proc_close_wait-$1" \
		"tcp_connections-$2" | sed 's/\.0*$//'
}

# 1. Three containers.
for name in "$id-web" "$id-db" "$id-cache"; do
	equal_ss "$name" "$name"
	got=$(leak_value "$name" "${leaker[$name]}")
	want=$(ss_leak "$name" "${leaker[$name]}")
	[[ $got == "$want" && $want -eq ${leaks[$name]} ]] ||
		fail "$name: ${leaker[$name]} holds ${got:-nothing}, ss -p says $want"
	note "$name: tcpstates_proc_close_wait-$name/tcp_connections-${leaker[$name]} $got (ss -p $want)"
done
# Each leaker under its own container only.
for name in "$id-web" "$id-db" "$id-cache" "$pod"; do
	for prog in leaky-web leaky-db leaky-cache pod-leaker; do
		[[ $prog == "${leaker[$name]:-pod-leaker}" ]] && continue
		! compgen -G "$daemon/csv/$host/tcpstates_proc_close_wait-$name/tcp_connections-$prog-[0-9]*" >/dev/null ||
			fail "$prog filed under $name"
	done
done
[[ $(states "$id-web") != "$(states "$id-db")" ]] ||
	fail "web and db look the same"

# 2. The pod: one name, both containers' sockets.
equal_ss "$pod" "$pod-a"
[[ $(leak_value "$pod" pod-leaker) == 5 ]] ||
	fail "pod: pod-leaker holds $(leak_value "$pod" pod-leaker), not 5"
for name in "$pod-a" "$pod-b"; do
	[[ -z $(find "$daemon/csv/$host" -maxdepth 1 \
		-name "tcpstates*-$name*") ]] ||
		fail "values under the pod's container $name"
done
note "pod: one set of values under $pod; tcpstates_proc_close_wait-$pod/tcp_connections-pod-leaker 5"

# 3. cache stops, new starts.
gone=tcpstates-$id-cache
before_stop=$(newest "$gone")
stop_container "$id-cache"
stopped_at=$SECONDS
container_plan "$id-new" main --established 4 --listen 1 --v6-every 0
container_plan "$id-new" leak --as leaky-new --fin-wait2 2 --v6-every 0
start_container "$id-new"
started_at=$CONTAINER_STARTED_AT
leaker[$id-new]=leaky-new

# zero_reads INSTANCE: the times of the reads at which every state of
# INSTANCE was 0. (A read while the container's processes were dying
# still sees their TIME_WAIT sockets; only the farewell is all zeros.)
zero_reads()
{
	cat "$daemon/csv/$host/$1"/tcp_connections-* 2>/dev/null |
		awk -F, '$1 ~ /^[0-9]/ { n[$1]++; s[$1] += ($2 < 0 ? -$2 : $2) }
			END { for (t in n) if (n[t] >= 11 && s[t] == 0) print t }' |
		sort -n
}
has_zeros()
{
	[[ -n $(zero_reads "$gone") ]]
}
new_seen()
{
	[[ -n $(newest "tcpstates-$id-new") ]]
}
wait_until $((3 * period + 5)) new_seen ||
	{ cat "$daemon/collectd.log" | tail -20 >&2; ls "$daemon/csv/$host" >&2; fail "the new container has no values after $((3 * period + 5)) s"; }
seen_after=$(awk -v a="$(date +%s.%N)" -v b="$started_at" \
	'BEGIN { printf "%.1f", a - b }')
# Within one discovery period, plus the read under way and the writer.
awk -v s="$seen_after" -v p="$period" -v i="$interval" \
	'BEGIN { exit !(s <= p + 2 * i + 1) }' ||
	fail "the new container took $seen_after s (discovery period $period s)"
note "new container: values $seen_after s after it started"
wait_until $((3 * period + 5)) has_zeros || {
	tail -n 3 "$daemon/csv/$host/$gone/tcp_connections-"* >&2
	fail "no read of all zeros for the stopped container"
}
note "stopped container: zeros $((SECONDS - stopped_at)) s after the stop"
equal_ss "$id-new" "$id-new"
[[ $(leak_value "$id-new" leaky-new) == 2 ]] || fail "leaky-new not found"
# Never again: one read of zeros, no row of any of its values after it.
sleep $((3 * period))
collectd_alive "$daemon"
zeros=$(zero_reads "$gone")
[[ $(wc -l <<<"$zeros") -eq 1 ]] ||
	fail "the stopped container's zeros were sent $(wc -l <<<"$zeros") times"
later "$zeros" "$before_stop" || fail "zeros before the stop"
for file in "$daemon/csv/$host/$gone"/* \
	"$daemon/csv/$host/"tcpstates_*-"$id-cache"/*; do
	awk -F, -v z="$zeros" '$1 ~ /^[0-9]/ && $1 + 0 > z + 0 { bad = 1 }
		END { exit bad }' "$file" ||
		fail "values after the zeros in $file"
done
proc_zero=$(csv_row "$daemon" "$host" "tcpstates_proc_close_wait-$id-cache" \
	tcp_connections-leaky-cache)
num_eq "${proc_zero#*,}" 0 ||
	fail "its leak group was left at ${proc_zero#*,}, not zero"
note "stopped container: zeros once (its leak group too), nothing after"

# 4. The host's own values went on.
later "$(newest tcpstates-host)" "$host_first" || fail "no new host values"
later "$(newest tcpstates-host)" "$zeros" || fail "host values stopped"
note "host values under tcpstates-host/ throughout"

# No warning or error at all; the stop at INFO at most.
if grep -E '\[(warning|error)\]' "$daemon/collectd.log" | grep -F tcpstates; then
	fail "the plugin logged a warning or an error"
fi
if grep -F "$id-cache" "$daemon/collectd.log" |
	grep -vE '\[(info|debug)\]'; then
	fail "the stop was logged above INFO"
fi
grep -qE "\[info\] tcpstates plugin: Discover: .*gone: (.*, )?$id-cache(,|;|\$)" \
	"$daemon/collectd.log" || {
	grep "Discover:" "$daemon/collectd.log" >&2
	fail "no INFO line naming the stopped container"
}
grep -qE "\[info\] tcpstates plugin: Discover: .*new: (.*, )?$id-new(,|;|\$)" \
	"$daemon/collectd.log" || {
	grep "Discover:" "$daemon/collectd.log" >&2
	fail "no INFO line naming the new container"
}
note "log: $(grep -cF "$id-cache" "$daemon/collectd.log" || true) lines about the stopped container, none above INFO"
stop_collectd "$daemon"

# 5. MaxNamespaces below the count: one warning, at most that many read.
max=2
ours=4 # web, db, new and the pod, besides any other on the host
daemon=$work/max
write_conf "$daemon" "MaxNamespaces $max"
start_collectd "" "$daemon"
max_warning()
{
	collectd_alive "$daemon"
	grep -sqE '\[warning\] tcpstates plugin:' "$daemon/collectd.log"
}
wait_until $((3 * period + 10)) max_warning || {
	cat "$daemon/collectd.log"
	fail "no warning with MaxNamespaces $max"
}
sleep $((3 * period))
collectd_alive "$daemon"
warnings=$(grep -E '\[warning\] tcpstates plugin:' "$daemon/collectd.log")
# The first number each names: how many were left out. One warning; on a
# host where other namespaces come and go, one more each time the number
# changes, never the same number twice in a row.
# shellcheck disable=SC2001 # one number from each line
counts=$(sed 's/.*tcpstates plugin:[^0-9]*\([0-9]*\).*/\1/' <<<"$warnings")
[[ -z $(uniq -d <<<"$counts") ]] ||
	fail "the same warning more than once: $warnings"
left_out=$(head -n 1 <<<"$counts")
[[ -n $left_out && $left_out -ge $((ours - max)) ]] ||
	fail "the warning does not say how many were left out: $warnings"
[[ $(wc -l <<<"$warnings") -eq 1 ]] ||
	note "other namespaces came or went: $(wc -l <<<"$warnings") warnings"
# Namespaces with values: the state folders tcpstates-<namespace>, but
# the host's.
read_ns=$(find "$daemon/csv/$host" -name 'tcp_connections-ESTABLISHED-*' |
	awk -F/ '{ print $(NF - 1) }' | sort -u |
	grep -E '^tcpstates-' | grep -cvx 'tcpstates-host' || true)
((read_ns <= max)) || fail "$read_ns namespaces reported, MaxNamespaces $max"
later "$(newest tcpstates-host)" 0 || fail "no host values with MaxNamespaces"
note "MaxNamespaces $max: $read_ns namespaces reported, one warning: ${warnings#*tcpstates plugin: }"
stop_collectd "$daemon"

# 6. GroupBy "cgroup" with every namespace's ids in one map: each
# container's leak is one group, named after the container's cgroup,
# with no /proc scan.
daemon=$work/cgroup
write_conf "$daemon" 'GroupBy "cgroup"'
start_collectd "" "$daemon"
# cgroup_groups NAME: "GROUP count" for each CLOSE_WAIT group of NAME's
# namespace with sockets, as collectd last wrote them.
cgroup_groups()
{
	local dir=$daemon/csv/$host/tcpstates_proc_close_wait-$1 group
	[[ -d $dir ]] || return 0
	for group in $(ls "$dir" | sed -nE \
		's/^tcp_connections-(.*)-[0-9]{4}-[0-9]{2}-[0-9]{2}$/\1/p' |
		sort -u); do
		echo "$group $(csv_value "$daemon" "$host" "${dir##*/}" \
			"tcp_connections-$group" | sed 's/\.0*$//')"
	done | awk '$2 > 0'
}
cgroup_leaks_seen()
{
	collectd_alive "$daemon"
	[[ -n $(cgroup_groups "$id-web") && -n $(cgroup_groups "$pod") ]]
}
wait_until $((3 * period + 10)) cgroup_leaks_seen || {
	cat "$daemon/collectd.log"
	fail "GroupBy cgroup: no group for the containers' leaks"
}
sleep $((2 * interval))
for name in "$id-web" "$id-db" "$id-new" "$pod"; do
	ctr=$name
	[[ $name != "$pod" ]] || ctr=$pod-b
	groups=$(cgroup_groups "$name")
	[[ $(wc -l <<<"$groups") -eq 1 ]] ||
		fail "GroupBy cgroup: $name's leak is not one group: $groups"
	[[ ${groups##* } -eq $(ss_leak "$ctr" "${leaker[$ctr]:-pod-leaker}") ]] ||
		fail "GroupBy cgroup: $name: $groups, ss -p differs"
	# The container's (the pod's) name, from Podman's files.
	[[ ${groups%% *} == "$name" ]] ||
		fail "GroupBy cgroup: $name's leak is not named after it: $groups"
	note "GroupBy cgroup: $name: $groups"
done
stop_collectd "$daemon"
echo "containers: ok"
