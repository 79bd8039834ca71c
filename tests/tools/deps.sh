#!/bin/bash
# Installs the Debian packages a make target needs, only those missing.
# Usage: deps.sh build|check|run|soak|downstream|prometheus|dashboards|graph|
#        deb|rpm|fuzz|bench-hash|podman|ansible
set -euo pipefail

build=(gcc libc6-dev make pkg-config libmnl-dev libjson-c-dev collectd-core
	collectd-dev)
# collectd-utils: collectdctl, with which `make run` (and its test) reads
# the daemon through unixsock.
check=("${build[@]}" check libsubunit-dev iproute2 procps clang-format
	collectd-utils)
run=("${build[@]}" collectd-utils)
# make soak: collectd under valgrind memcheck (vgdb comes with it).
soak=("${check[@]}" valgrind)
# tests/test-downstream.sh: real carbon-cache, whisper-fetch, InfluxDB 1.x.
# deps.sh keeps their services from starting on install (policy-rc.d).
downstream=("${check[@]}" graphite-carbon python3-whisper influxdb
	influxdb-client)
# tests/test-prometheus.sh (tests/prometheus.sh): a real Prometheus
# scraping collectd's write_prometheus, which needs libmicrohttpd12 and
# libprotobuf-c1 (collectd-core does not pull them in).
prometheus=("${check[@]}" prometheus libmicrohttpd12 libprotobuf-c1 curl
	python3)
# tests/test-dashboards.sh: the downstream receivers, graphite-web's
# render API (Django) and the Prometheus group, with promtool.
dashboards=("${downstream[@]}" "${prometheus[@]}" graphite-web)
# tests/tools/graphs.sh (make graphs): collectd's rrdtool plugin and
# rrdtool graph.
graph=("${build[@]}" iproute2 librrd8 rrdtool)
# make deb / make rpm (packaging/packaging.mk): the package builds run the
# unit tests, so Check comes too; dpkg-buildpackage also wants
# build-essential, which a minimal Debian lacks.
deb=("${build[@]}" check libsubunit-dev build-essential dpkg-dev debhelper
	fakeroot lintian)
rpm=("${build[@]}" check libsubunit-dev rpm)
# make bench-hash: uthash, measured against the core's own tables.
bench_hash=("${build[@]}" uthash-dev)
# tests/test-ansible.sh: the role in packaging/ansible run by
# ansible-playbook (its apt module needs python3-apt) against the .deb
# that make deb builds.
ansible=("${deb[@]}" ansible-core python3-apt)
# make fuzz: clang with libFuzzer; its runtime comes after (see below).
fuzz=("${build[@]}" clang)
# tests/test-discover-podman.sh, test-containers.sh: a rootful Podman 4.3
# with runc and the pause image's catatonit; busybox-static makes the
# test's image; netavark sets a container's network up with iptables,
# which a minimal Debian lacks.
podman=(podman runc uidmap catatonit netavark aardvark-dns busybox-static
	iptables python3)

case "${1:-}" in
build) wanted=("${build[@]}") ;;
check) wanted=("${check[@]}") ;;
run) wanted=("${run[@]}") ;;
soak) wanted=("${soak[@]}") ;;
downstream) wanted=("${downstream[@]}") ;;
prometheus) wanted=("${prometheus[@]}") ;;
dashboards) wanted=("${dashboards[@]}") ;;
graph) wanted=("${graph[@]}") ;;
deb) wanted=("${deb[@]}") ;;
rpm) wanted=("${rpm[@]}") ;;
fuzz) wanted=("${fuzz[@]}") ;;
bench-hash) wanted=("${bench_hash[@]}") ;;
podman) wanted=("${podman[@]}") ;;
ansible) wanted=("${ansible[@]}") ;;
*)
	echo "usage: $0 build|check|run|soak|downstream|prometheus|dashboards|graph|deb|rpm|fuzz|bench-hash|podman|ansible" >&2
	exit 2
	;;
esac

install_missing() {
	local pkg status missing=()

	for pkg in "$@"; do
		status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
		[[ $status == "install ok installed" ]] || missing+=("$pkg")
	done
	[[ ${#missing[@]} -eq 0 ]] && return 0

	if [[ $(id -u) -ne 0 ]]; then
		echo "missing Debian packages: ${missing[*]}" >&2
		echo "install them as root (apt-get install ${missing[*]}) or run make as root" >&2
		exit 1
	fi
	echo "installing: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	# graphite-carbon and influxdb start a system service on install
	# (0.0.0.0 ports): a policy-rc.d exiting 101 stops that. Tests run
	# their own copies.
	if [[ ! -e /usr/sbin/policy-rc.d ]]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod 755 /usr/sbin/policy-rc.d
		trap 'rm -f /usr/sbin/policy-rc.d' EXIT
	fi
	apt-get update -q >/dev/null
	apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
}

install_missing "${wanted[@]}"

# libFuzzer's runtime is only recommended by clang (Debian 12 on): it is
# libclang-rt-N-dev for clang N, where that package exists.
if [[ $1 == fuzz ]]; then
	rt="libclang-rt-$(clang -dumpversion | cut -d. -f1)-dev"
	if apt-cache show "$rt" >/dev/null 2>&1; then
		install_missing "$rt"
	fi
fi
