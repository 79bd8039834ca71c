#!/bin/bash
# Installs the Debian packages a make target needs, only those missing.
# Usage: deps.sh build|check|run|asan
set -euo pipefail

build=(gcc make pkg-config libmnl-dev collectd-core collectd-dev)
check=("${build[@]}" check libsubunit-dev iproute2 procps clang-format)
run=("${build[@]}" libyajl2)

case "${1:-}" in
build) wanted=("${build[@]}") ;;
check) wanted=("${check[@]}") ;;
run) wanted=("${run[@]}") ;;
*)
	echo "usage: $0 build|check|run" >&2
	exit 2
	;;
esac

missing=()
for pkg in "${wanted[@]}"; do
	status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
	[[ $status == "install ok installed" ]] || missing+=("$pkg")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

if [[ $(id -u) -ne 0 ]]; then
	echo "missing Debian packages: ${missing[*]}" >&2
	echo "install them as root (apt-get install ${missing[*]}) or run make as root" >&2
	exit 1
fi
echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
