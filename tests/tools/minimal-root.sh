#!/bin/bash
# Builds and unit-tests a clean clone of this repository inside a minimal
# Debian 12 root (debootstrap minbase plus make and git, what a debian:12
# container image holds), so that a package missing from
# tests/tools/deps.sh fails here rather than on a new user's machine.
# Then starts `make run` for a few seconds and checks that it printed
# this plugin's values. Needs root and Debian's archive.
#
# The root is cached as a tarball (MINIMAL_ROOT_CACHE, default
# $TMPDIR/tcpstates-minbase-bookworm.tar); a fresh machine makes it once
# (about a minute).
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
cache=${MINIMAL_ROOT_CACHE:-${TMPDIR:-/tmp}/tcpstates-minbase-bookworm.tar}

if [[ $(id -u) -ne 0 ]]; then
	echo "minimal-root: needs root (debootstrap, chroot, mounts)" >&2
	exit 1
fi

root=$(mktemp -d /tmp/tcpstates-minroot.XXXXXX)
cleanup()
{
	local m

	for m in run dev sys proc ""; do
		umount -l "$root/$m" 2>/dev/null || true
	done
	rm -rf --one-file-system "$root"
}
trap cleanup EXIT

make_root()
{
	local mirror

	command -v debootstrap >/dev/null ||
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
			--no-install-recommends debootstrap >/dev/null
	mirror=$(sed -n 's/^URIs: //p' /etc/apt/sources.list.d/debian.sources \
		2>/dev/null | head -1)
	if ! debootstrap --variant=minbase --include=make,git,ca-certificates \
		bookworm "$root" ${mirror:+"$mirror"} >"$root.log" 2>&1; then
		tail -5 "$root.log" >&2
		rm -f "$root.log"
		exit 1
	fi
	rm -f "$root.log"
	tar -C "$root" -cf "$cache.part" . && mv "$cache.part" "$cache"
}

if [[ -f $cache ]]; then
	tar -C "$root" -xf "$cache"
else
	make_root
fi
chmod 755 "$root"
cp /etc/resolv.conf "$root/etc/" 2>/dev/null || true
# ip netns needs / to be a mount point and /run/netns to exist.
mount --bind "$root" "$root"
mount -t proc proc "$root/proc"
mount --rbind /sys "$root/sys"
mount --rbind /dev "$root/dev"
mkdir -p "$root/run" && mount -t tmpfs tmpfs "$root/run"
mkdir -p "$root/run/netns"

# What is committed, as CI and a new user get it.
git clone -q "$top" "$root/src/project"

chroot "$root" /bin/bash -euo pipefail -c '
cd /src/project
make deps-check
make all tools build/unit-tests build/glue-tests
CK_FORK=yes build/unit-tests
CK_FORK=yes build/glue-tests
# make run (its own dependency list) until it printed a screen of ours.
timeout 20 make run >/tmp/run.log 2>&1 || true
if ! grep -q "^  states  " /tmp/run.log; then
	tail -20 /tmp/run.log
	echo "minimal-root: make run printed no tcpstates value" >&2
	exit 1
fi
echo "minimal-root: make run printed values"
'
echo "minimal-root: built, unit-tested and ran in a minimal Debian 12 root"
