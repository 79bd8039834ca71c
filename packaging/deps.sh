#!/bin/bash
# Installs the Debian packages a packaging target needs, only those missing.
# Usage: deps.sh deb|rpm
set -euo pipefail

build=(gcc make pkg-config libmnl-dev collectd-core collectd-dev
	check libsubunit-dev)
deb=("${build[@]}" dpkg-dev debhelper fakeroot lintian)
rpm=("${build[@]}" rpm)

case "${1:-}" in
deb) wanted=("${deb[@]}") ;;
rpm) wanted=("${rpm[@]}") ;;
*)
	echo "usage: $0 deb|rpm" >&2
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
