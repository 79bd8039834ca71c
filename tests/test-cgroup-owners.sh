#!/bin/bash
# GroupBy "cgroup" on real cgroups: processes that all run the same
# program ("worker") hold CLOSE_WAIT sockets in a private network
# namespace, each from a cgroup made for the test under the cgroup2 mount
# (found in /proc/self/mountinfo): two systemd-style services, a
# docker-style container scope and a plain folder. A real collectd with
# GroupBy "cgroup" must report one group per cgroup with the counts
# `ss -tanp state close-wait` shows for the owners in that cgroup (from
# /proc/PID/cgroup), pick up a cgroup made while it runs, and let a
# deleted one fall to 0. The same collectd run as nobody, with no
# capability, must name the cgroups too, where GroupBy "comm" can name
# nobody's sockets' owners only as -unknown. A process started by
# `ip netns exec` (which mounts a fresh /sys, without cgroup mounts) sees
# no cgroup2 tree: the leak finder falls back to comm and says so.
# Needs root and a cgroup2 mount (skipped without one). Every process is
# ended by pid and every cgroup removed on exit.
source "$(dirname "$0")/lib.sh"
need_root

cg2=$(awk '{ for (i = 7; i <= NF; i++) if ($i == "-") {
		if ($(i + 1) == "cgroup2" && $4 == "/") print $5; break } }' \
	/proc/self/mountinfo | head -1)
if [[ -z $cg2 ]]; then
	echo "cgroup-owners: skipped (no cgroup2 mount)"
	exit 0
fi

ns=tcps-cg-$$
nspath=/var/run/netns/$ns
top=tcps-test-$$
hex=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
new_workdir work
new_netns "$ns"
cp "$BUILD/sockmaker" "$work/worker"

# The test's cgroups, parents first, and the name each must get.
CGROUPS=()
declare -A NAME_OF
make_cgroup()
{
	mkdir "$cg2/$top/$1"
	CGROUPS+=("$1")
	[[ -z ${2:-} ]] || NAME_OF[/$top/$1]=$2
}

# Ends what is left in the test's cgroups (only our processes are in
# them), deepest first, then removes them.
remove_cgroups()
{
	local i dir pid
	for ((i = ${#CGROUPS[@]} - 1; i >= 0; i--)); do
		dir=$cg2/$top/${CGROUPS[$i]}
		[[ -d $dir ]] || continue
		while read -r pid; do
			kill -KILL "$pid" 2>/dev/null || true
		done <"$dir/cgroup.procs"
		for _ in $(seq 50); do
			rmdir "$dir" 2>/dev/null && break
			sleep 0.1
		done
	done
	rmdir "$cg2/$top" 2>/dev/null || true
}
trap 'cleanup; remove_cgroups' EXIT

mkdir "$cg2/$top"
make_cgroup svc-a.service svc-a_service
make_cgroup svc-b.service svc-b_service
make_cgroup "docker-$hex.scope" "docker-${hex:0:12}"
make_cgroup plain
make_cgroup plain/inner inner

# start_worker CGROUP COUNT: a "worker" that joins CGROUP, then makes
# COUNT CLOSE_WAIT sockets in the namespace (nsenter changes nothing but
# the network namespace); sets WORKER_PID, and WORKER_FD, the write end
# of its stdin, held until the test ends.
start_worker()
{
	local cg=$1 count=$2 tag=${1//\//_}
	mkfifo "$work/$tag.in"
	sh -c 'echo $$ >"$1/cgroup.procs" && exec nsenter --net="$2" "$3" \
		--close-wait "$4" --hold 300' sh "$cg2/$top/$cg" "$nspath" \
		"$work/worker" "$count" <"$work/$tag.in" >"$work/$tag.out" \
		2>"$work/$tag.err" &
	WORKER_PID=$!
	track_pid "$WORKER_PID"
	exec {WORKER_FD}>"$work/$tag.in"
	for _ in $(seq 100); do
		grep -q READY "$work/$tag.out" 2>/dev/null && return 0
		sleep 0.1
	done
	cat "$work/$tag.err" >&2
	fail "worker in $cg did not get ready"
}

start_worker svc-a.service 7
start_worker svc-b.service 4
svc_b_pid=$WORKER_PID
start_worker "docker-$hex.scope" 3
start_worker plain/inner 2

# What ss and /proc say: "name count" per cgroup of the sockets' owners.
ss_by_cgroup()
{
	local pid path
	ip netns exec "$ns" ss -tanpH state close-wait |
		grep -o 'pid=[0-9]*' | cut -d= -f2 |
		while read -r pid; do
			path=$(sed -n 's/^0:://p' "/proc/$pid/cgroup")
			echo "${NAME_OF[$path]:-"?$path"}"
		done | sort | uniq -c | awk '{ print $2, $1 }'
}

expected=$(ss_by_cgroup)
[[ $expected == *"?"* ]] && fail "an owner outside the test's cgroups: $expected"
[[ $(wc -l <<<"$expected") -eq 4 ]] || fail "setup: ss sees $expected"
grep -qx "svc-a_service 7" <<<"$expected" || fail "setup: $expected"
note "ss -tanp and /proc/PID/cgroup: $(tr '\n' ' ' <<<"$expected")"

# cgroup_conf DIR PLUGIN_DIR: a config grouping by cgroup, with the plugin
# loaded from PLUGIN_DIR.
cgroup_conf()
{
	{
		collectd_conf "$1" tcps-cgroup
		cat <<CONF
PluginDir "$2"
LoadPlugin tcpstates
<Plugin tcpstates>
  GroupBy "cgroup"
  LeakThreshold 0
  LeakAge 0
</Plugin>
CONF
	} >"$1/collectd.conf"
}

# count_is DIR NAME N: the newest CLOSE_WAIT count of group NAME is N.
count_is()
{
	num_eq "$(csv_value "$1" tcps-cgroup tcpstates_proc_close_wait-host \
		"tcp_connections-$2")" "$3"
}

# expect_groups DIR: every group reaches the count ss shows, and the
# groups add up to the state total.
expect_groups()
{
	local name count total sum
	while read -r name count; do
		wait_until 20 count_is "$1" "$name" "$count" ||
			{ cat "$1/collectd.log" >&2; fail "$name: not $count \
($(csv_value "$1" tcps-cgroup tcpstates_proc_close_wait-host \
	"tcp_connections-$name"))"; }
	done <<<"$(ss_by_cgroup)"
	sleep 1.5 # one more read, all values from the same one
	total=$(csv_value "$1" tcps-cgroup tcpstates-host \
		tcp_connections-CLOSE_WAIT)
	sum=0
	while read -r name count; do
		sum=$((sum + $(csv_value "$1" tcps-cgroup \
			tcpstates_proc_close_wait-host "tcp_connections-$name" |
			cut -d. -f1)))
	done <<<"$(ss_by_cgroup)"
	[[ $sum -eq ${total%.*} ]] || fail "groups sum to $sum, total $total"
	for name in worker -unknown; do
		! compgen -G "$1/csv/tcps-cgroup/tcpstates_proc_close_wait-host/tcp_connections-$name-[0-9]*" >/dev/null ||
			fail "sockets grouped as $name"
	done
	grep -q "is not possible" "$1/collectd.log" &&
		fail "GroupBy cgroup fell back: $(cat "$1/collectd.log")"
	return 0
}

# ---- a real collectd, as root ----
new_workdir root_run
cgroup_conf "$root_run" "$BUILD"
nsenter --net="$nspath" "${COLLECTD[@]}" -f -C "$root_run/collectd.conf" \
	2>"$root_run/collectd.stderr" &
track_pid $!
COLLECTD_PID=$!
expect_groups "$root_run"
note "collectd (root): every cgroup's count equals ss"

# A service started while collectd runs: one more walk finds it. One
# stopped and removed: its group falls to 0.
make_cgroup svc-c.service svc-c_service
start_worker svc-c.service 5
kill "$svc_b_pid"
wait "$svc_b_pid" 2>/dev/null || true
rmdir "$cg2/$top/svc-b.service"
wait_until 20 count_is "$root_run" svc-c_service 5 ||
	fail "new cgroup svc-c.service not reported"
wait_until 20 count_is "$root_run" svc-b_service 0 ||
	fail "removed cgroup svc-b.service did not fall to 0"
expect_groups "$root_run"
note "collectd (root): a new cgroup reported, a removed one fell to 0"
collectd_alive "$root_run"
stop_collectd "$root_run"

# ---- the same as nobody, no capability ----
new_workdir user_run
cp "$BUILD/tcpstates.so" "$user_run/"
chown -R nobody:nogroup "$user_run"
cgroup_conf "$user_run" "$user_run"
chown nobody:nogroup "$user_run/collectd.conf"
as_nobody=(setpriv --reuid=nobody --regid=nogroup --clear-groups
	--inh-caps=-all)
nsenter --net="$nspath" "${as_nobody[@]}" "${COLLECTD[@]}" -f \
	-C "$user_run/collectd.conf" 2>"$user_run/collectd.stderr" &
track_pid $!
COLLECTD_PID=$!
sleep 0.5
[[ $(ps -o euid= -p "$COLLECTD_PID" | tr -d ' ') == 65534 ]] ||
	fail "collectd is not running as nobody"
expect_groups "$user_run"
grep -q "may not read /proc" "$user_run/collectd.log" &&
	fail "GroupBy cgroup read /proc/PID/fd: $(cat "$user_run/collectd.log")"
note "collectd (nobody): every cgroup named, no /proc/PID/fd read"
collectd_alive "$user_run"
stop_collectd "$user_run"

# What nobody gets by process name: the owners stay unknown.
total=$(ip netns exec "$ns" ss -tanH state close-wait | wc -l)
nsenter --net="$nspath" "${as_nobody[@]}" "$BUILD/tcps-count" \
	-o "GroupBy comm" -o "ProcessScanBudget 0" >"$work/comm" 2>&1 || fail "tcps-count failed"
grep -qx "tcpstates_proc_close_wait/tcp_connections--unknown $total" "$work/comm" ||
	fail "GroupBy comm as nobody: $(grep CLOSE_WAIT "$work/comm")"
note "GroupBy comm as nobody: all $total under -unknown"

# ---- no cgroup2 tree in sight: the fallback ----
ip netns exec "$ns" "$BUILD/tcps-count" -v -o "GroupBy cgroup" -o "ProcessScanBudget 0" \
	>"$work/fallback" 2>"$work/fallback.err" ||
	fail "tcps-count failed: $(cat "$work/fallback.err")"
grep -q "fallback -2" "$work/fallback.err" ||
	fail "no fallback reported: $(cat "$work/fallback.err")"
grep -qx "tcpstates_proc_close_wait/tcp_connections-worker $total" "$work/fallback" ||
	fail "fallback to comm: $(grep CLOSE_WAIT "$work/fallback") \
$(cat "$work/fallback.err")"
note "under ip netns exec (no cgroup mounts): fell back to comm, said so"
echo "cgroup-owners: ok"
