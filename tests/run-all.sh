#!/bin/bash
# Runs every test of `make check` and says which failed.
set -uo pipefail

cd "$(dirname "$0")/.."
export BUILD=${BUILD:-build}
failed=()

run()
{
	local name=$1
	shift
	echo "== $name"
	if "$@"; then
		echo "== $name: pass"
	else
		echo "== $name: FAIL"
		failed+=("$name")
	fi
}

run unit env CK_FORK=yes "$BUILD/unit-tests"
run glue env CK_FORK=yes "$BUILD/glue-tests"
run build bash tests/test-build.sh
run docs bash tests/test-docs.sh
run config bash tests/test-config.sh
run ansible bash tests/test-ansible.sh
run netns-counts bash tests/test-netns-counts.sh
run collectd-e2e bash tests/test-collectd.sh
run run-screen bash tests/test-run-screen.sh
run leaks bash tests/test-leaks.sh
run cgroup-owners bash tests/test-cgroup-owners.sh
run faults bash tests/test-faults.sh
run handoff bash tests/test-handoff.sh
run downstream bash tests/test-downstream.sh
run prometheus bash tests/test-prometheus.sh
run dashboards bash tests/test-dashboards.sh
run pressure bash tests/test-pressure.sh
run tcpconns bash tests/test-tcpconns.sh
run namespaces bash tests/test-namespaces.sh
run discover bash tests/test-discover.sh
run threads bash tests/test-threads.sh
run discover-podman bash tests/test-discover-podman.sh
run containers bash tests/test-containers.sh

if [[ ${#failed[@]} -ne 0 ]]; then
	echo "FAILED: ${failed[*]}"
	exit 1
fi
echo "all tests passed"
