#!/bin/bash
# Namespace discovery against a real Podman: Debian 12's Podman 4.3,
# rootful, runc and the cgroupfs manager (what works on this kind of
# host, see FACTS), one container and one pod of two containers, both
# with --network none (a private namespace, nothing on the host's
# network changes). tcps-discover (the core's tcps_discover on the real
# /proc, /run and /var/lib) must find the container's namespace once,
# named after the container, and the pod's once, named after the pod
# although three processes (infra, two members) are in it; runtime
# "podman", the inode the kernel gives, a pid inside. Then it checks the
# layout the unit fixtures (unit/fakehost.c) copy, each piece on its own
# so that a Podman that changed says what changed: the cgroup lines,
# containers.json, the infra container's hostname and the members'
# SandboxID annotation.
#
# Root. Installs podman through tools/deps.sh; the image is a tarball of
# busybox-static (no registry). Every container, pod and the image are
# removed by name on exit; other users' containers are left alone (and
# may show in tcps-discover's output). BUILD: where tcps-discover is.
source "$(dirname "$0")/lib.sh"
need_root
"$TESTS_DIR/tools/deps.sh" podman
[[ -x $BUILD/tcps-discover ]] || fail "no $BUILD/tcps-discover: make tools"

image=localhost/tcps-discover:$$
ctr=tcps-dsc-web-$$
pod=tcps-dsc-pod-$$
members=("$pod-a" "$pod-b")
new_workdir work
# Podman's default rlimits are over this host's hard limits, and `pod
# create` has no --ulimit for the infra container: a private
# containers.conf sets them for every container made here.
cat >"$work/containers.conf" <<'CONF'
[containers]
default_ulimits = ["nofile=4096:4096", "nproc=1024:1024"]
CONF
export CONTAINERS_CONF=$work/containers.conf
PODMAN=(podman --runtime runc --cgroup-manager cgroupfs)

remove_podman_things()
{
	"${PODMAN[@]}" rm -f -t 0 "$ctr" "${members[@]}" >/dev/null 2>&1 || true
	"${PODMAN[@]}" pod rm -f -t 0 "$pod" >/dev/null 2>&1 || true
	"${PODMAN[@]}" rmi -f "$image" >/dev/null 2>&1 || true
	cleanup
}
trap remove_podman_things EXIT

mkdir -p "$work/image/bin"
cp /bin/busybox "$work/image/bin/busybox"
for tool in sh sleep; do
	ln -s busybox "$work/image/bin/$tool"
done
tar -C "$work/image" -cf "$work/image.tar" .
"${PODMAN[@]}" import -q "$work/image.tar" "$image" >/dev/null

"${PODMAN[@]}" run -d --network none --name "$ctr" "$image" sleep 600 \
	>/dev/null
"${PODMAN[@]}" pod create --network none --name "$pod" >/dev/null
for member in "${members[@]}"; do
	"${PODMAN[@]}" run -d --pod "$pod" --name "$member" "$image" \
		sleep 600 >/dev/null
done

# inspect NAME FORMAT
inspect()
{
	"${PODMAN[@]}" inspect -f "$2" "$1"
}
ctr_id=$(inspect "$ctr" '{{.Id}}')
ctr_pid=$(inspect "$ctr" '{{.State.Pid}}')
pod_id=$("${PODMAN[@]}" pod inspect -f '{{.Id}}' "$pod")
infra_id=$("${PODMAN[@]}" pod inspect -f '{{.InfraContainerID}}' "$pod")
infra_pid=$(inspect "$infra_id" '{{.State.Pid}}')
a_id=$(inspect "${members[0]}" '{{.Id}}')
a_pid=$(inspect "${members[0]}" '{{.State.Pid}}')
b_pid=$(inspect "${members[1]}" '{{.State.Pid}}')
note "podman $(podman version -f '{{.Client.Version}}'): container $ctr" \
	"(pid $ctr_pid), pod $pod (infra pid $infra_pid, members $a_pid" \
	"$b_pid)"

ns_inode()
{
	stat -L -c %i "/proc/$1/ns/net"
}

# ---- what discovery says ----
"$BUILD/tcps-discover" >"$work/found" 2>"$work/found.err" ||
	fail "tcps-discover: $(cat "$work/found.err")"
note "$(cat "$work/found.err")"

# line NAME: the one line named NAME (NAME RUNTIME PID INODE PATH).
line()
{
	local lines
	lines=$(awk -F'\t' -v n="$1" '$1 == n' "$work/found")
	[[ -n $lines ]] || { cat "$work/found" >&2; fail "no namespace named $1"; }
	[[ $(wc -l <<<"$lines") -eq 1 ]] || fail "$1 named twice: $lines"
	echo "$lines"
}

# expect_namespace NAME INODE PID...: NAME's line has INODE, runtime
# podman, the lowest of the PIDs, and no other line has INODE.
expect_namespace()
{
	local name=$1 inode=$2 got text lowest
	shift 2
	lowest=$(printf '%s\n' "$@" | sort -n | head -1)
	text=$(line "$name") || exit 1
	IFS=$'\t' read -r -a got <<<"$text"
	[[ ${got[1]} == podman ]] || fail "$name: runtime ${got[1]}, not podman"
	[[ ${got[3]} == "$inode" ]] || fail "$name: inode ${got[3]}, not $inode"
	[[ ${got[2]} == "$lowest" ]] ||
		fail "$name: pid ${got[2]}, not the lowest inside ($lowest)"
	[[ -e ${got[4]} && $(stat -L -c %i "${got[4]}") == "$inode" ]] ||
		fail "$name: path ${got[4]} is not its namespace"
	[[ $(awk -F'\t' -v i="$inode" '$4 == i' "$work/found" | wc -l) -eq 1 ]] ||
		fail "namespace $inode listed more than once"
	note "$name: ${got[*]}"
}

pod_inode=$(ns_inode "$infra_pid")
for pid in "$a_pid" "$b_pid"; do
	[[ $(ns_inode "$pid") == "$pod_inode" ]] ||
		fail "pod member $pid is not in the infra's namespace"
done
expect_namespace "$ctr" "$(ns_inode "$ctr_pid")" "$ctr_pid"
expect_namespace "$pod" "$pod_inode" "$infra_pid" "$a_pid" "$b_pid"
for member in "${members[@]}"; do
	! awk -F'\t' -v n="$member" '$1 == n { exit 1 }' "$work/found" ||
		continue
	fail "the pod's member $member got a namespace of its own"
done

# ---- the layout the fixtures copy ----
storage=/var/lib/containers/storage/overlay-containers

# cgroup_has PID PATH: some line of /proc/PID/cgroup has exactly PATH.
cgroup_has()
{
	cut -d: -f3- "/proc/$1/cgroup" | grep -qxF "$2" || {
		cat "/proc/$1/cgroup" >&2
		fail "/proc/$1/cgroup: no line with $2"
	}
}
cgroup_has "$ctr_pid" "/libpod_parent/libpod-$ctr_id"
cgroup_has "$a_pid" "/libpod_parent/$pod_id/libpod-$a_id"
cgroup_has "$infra_pid" "/libpod_parent/$pod_id/libpod-$infra_id"
note "cgroups: /libpod_parent/libpod-<id>, /libpod_parent/<pod id>/libpod-<id>"

# json FILE EXPRESSION: EXPRESSION of the document d, printed.
json()
{
	python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
print(eval(sys.argv[2]))' "$1" "$2"
}
[[ $(json "$storage/containers.json" \
	"[c['names'][0] for c in d if c['id'] == '$ctr_id'][0]") == "$ctr" ]] ||
	fail "containers.json does not name $ctr_id $ctr"
note "containers.json: $ctr_id names [\"$ctr\"]"
[[ $(json "$storage/$infra_id/userdata/config.json" "d['hostname']") == \
	"$pod" ]] || fail "the infra's config.json hostname is not the pod's name"
note "infra config.json: hostname \"$pod\""
[[ $(json "$storage/$a_id/userdata/config.json" \
	"d['annotations']['io.kubernetes.cri-o.SandboxID']") == "$infra_id" ]] ||
	fail "a member's config.json does not name the infra as SandboxID"
note "member config.json: io.kubernetes.cri-o.SandboxID = the infra's id"
echo "discover-podman: ok"
