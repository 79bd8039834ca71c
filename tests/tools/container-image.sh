#!/bin/bash
# Builds the container image the container tests run, unless it exists,
# and prints its name: localhost/tcpstates-test:<hash of its inputs>.
# No registry is needed (nor reachable on a test machine): the image is a
# folder made into a tarball and given to `podman import`.
#
# The image holds Debian's busybox-static as /bin/busybox with a link for
# each of its applets (sh, sleep, nc, cp, ...), and static builds of the
# project's socket tools, /bin/sockmaker and /bin/handoff, so that they
# run without a libc in the image. The tag is a hash of everything that
# goes in (the tools' sources, the busybox binary, the compiler's version
# and this script), so a change of any of them gives a new image and an
# unchanged tree reuses the one already there.
#
# Usage: container-image.sh [--prune]
#   --prune  also removes other tcpstates-test images no container uses.
# Environment: CC (cc), PODMAN (podman), TMPDIR. Needs root (podman).
set -euo pipefail

TOOLS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=localhost/tcpstates-test
BUSYBOX=/bin/busybox
CC=${CC:-cc}
# The same flags as the FACTS-proven setup: runc and cgroupfs.
read -r -a podman <<<"${PODMAN:-podman --runtime runc --cgroup-manager cgroupfs}"
SOURCES=("$TOOLS_DIR/sockmaker.c" "$TOOLS_DIR/handoff.c"
	"$TOOLS_DIR/sockets.c" "$TOOLS_DIR/sockets.h")
CFLAGS_STATIC=(-static -O2 -std=gnu11 -Wall -Wextra -Wvla)

die()
{
	echo "container-image: $*" >&2
	exit 1
}

# inputs_hash: the first 16 hex digits of a hash over every input.
inputs_hash()
{
	{
		sha256sum "${SOURCES[@]}" "$BUSYBOX" "${BASH_SOURCE[0]}" |
			cut -d' ' -f1
		"$CC" --version | head -n 1
		echo "${CFLAGS_STATIC[*]}"
	} | sha256sum | cut -c1-16
}

# build_root DIR: the image's file tree in DIR.
build_root()
{
	local root=$1 applet
	mkdir -p "$root"/{bin,tmp,etc,proc,sys,dev,run,var/tmp}
	chmod 1777 "$root/tmp" "$root/var/tmp"
	cp "$BUSYBOX" "$root/bin/busybox"
	for applet in $("$BUSYBOX" --list); do
		[[ $applet == busybox || -e $root/bin/$applet ]] ||
			ln -s busybox "$root/bin/$applet"
	done
	"$CC" "${CFLAGS_STATIC[@]}" -o "$root/bin/sockmaker" \
		"$TOOLS_DIR/sockmaker.c" "$TOOLS_DIR/sockets.c" ||
		die "cannot build a static sockmaker"
	"$CC" "${CFLAGS_STATIC[@]}" -o "$root/bin/handoff" \
		"$TOOLS_DIR/handoff.c" "$TOOLS_DIR/sockets.c" ||
		die "cannot build a static handoff"
	printf 'root:x:0:0:root:/tmp:/bin/sh\n' >"$root/etc/passwd"
	printf 'root:x:0:\n' >"$root/etc/group"
}

# prune KEEP: removes the other tags; podman refuses those still in use.
prune()
{
	local image
	"${podman[@]}" images --format '{{.Repository}}:{{.Tag}}' |
		while read -r image; do
			[[ $image == "$REPO:"* && $image != "$1" ]] || continue
			"${podman[@]}" rmi "$image" >/dev/null 2>&1 ||
				echo "container-image: kept $image (in use)" >&2
		done
}

main()
{
	local tag image work lock
	[[ $(id -u) -eq 0 ]] || die "needs root (podman)"
	# ldd fails on a static binary: busybox-static, not Debian's
	# dynamically linked busybox, which would need a libc in the image.
	if [[ ! -x $BUSYBOX ]] || ldd "$BUSYBOX" >/dev/null 2>&1; then
		die "$BUSYBOX is missing or not static (apt-get install busybox-static)"
	fi
	tag=$(inputs_hash)
	image=$REPO:$tag
	# Two test runs at once build the same image once.
	exec {lock}>"${TMPDIR:-/tmp}/tcpstates-test-image.lock"
	flock -w 300 "$lock" || die "another build holds the lock for 300 s"
	if ! "${podman[@]}" image exists "$image"; then
		work=$(mktemp -d "${TMPDIR:-/tmp}/tcpstates-image.XXXXXX")
		# shellcheck disable=SC2064 # the folder is known now
		trap "rm -rf '$work'" EXIT
		build_root "$work/root" >&2
		tar -C "$work/root" --owner=0 --group=0 --numeric-owner \
			-cf "$work/image.tar" .
		"${podman[@]}" import -q --change 'CMD ["/bin/sh"]' \
			--message "tcpstates test tools $tag" \
			"$work/image.tar" "$image" >/dev/null ||
			die "podman import failed"
		echo "container-image: built $image" >&2
	fi
	[[ ${1:-} != --prune ]] || prune "$image"
	echo "$image"
}

main "$@"
