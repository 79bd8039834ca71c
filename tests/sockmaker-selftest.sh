#!/bin/bash
# Manual check of tests/tools/sockmaker (run as root): what ss(8) sees in
# a fresh namespace must equal what sockmaker --report promises, state by
# state.
# Usage: tests/sockmaker-selftest.sh [sockmaker options]
# SOCKMAKER=path uses a prebuilt binary instead of compiling one.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
ns=tcps-smk-$$
tmp=$(mktemp -d)
pid=
states="established syn-recv time-wait close-wait fin-wait-2 listening"

if [ $# -eq 0 ]; then
	set -- --established 300 --time-wait 250 --close-wait 200 \
		--fin-wait2 150 --listen 20 --syn-recv 120 --tw-sources 4
fi

cleanup() {
	exec 3>&- 2>/dev/null || true
	if [ -n "$pid" ]; then
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	ip netns del "$ns" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

die() {
	echo "selftest: $*" >&2
	[ -s "$tmp/err" ] && sed 's/^/  /' "$tmp/err" >&2
	exit 1
}

bin=${SOCKMAKER:-}
if [ -z "$bin" ]; then
	bin=$tmp/sockmaker
	gcc -std=gnu11 -O2 -Wall -Wextra -Wshadow -Wvla -Wformat=2 \
		-Wstrict-prototypes -Werror -o "$bin" "$here/tools/sockmaker.c" \
		"$here/tools/sockets.c"
fi

ip netns add "$ns"
ip netns exec "$ns" ip link set lo up
# Lets the orphaned FIN_WAIT2 peers of --close-wait vanish within ~1-2 s.
ip netns exec "$ns" sysctl -qw net.ipv4.tcp_fin_timeout=1

# stdin is a fifo we hold open: closing it is the "done" signal.
mkfifo "$tmp/in"
ip netns exec "$ns" "$bin" "$@" --report <"$tmp/in" >"$tmp/out" \
	2>"$tmp/err" &
pid=$!
exec 3>"$tmp/in"

ms_since() {
	awk -v a="$1" -v b="$EPOCHREALTIME" \
		'BEGIN { printf "%d", (b - a) * 1000 }'
}

start=$EPOCHREALTIME
for _ in $(seq 600); do
	grep -qx READY "$tmp/out" && break
	kill -0 "$pid" 2>/dev/null || die "sockmaker exited before READY"
	sleep 0.1
done
grep -qx READY "$tmp/out" || die "no READY within 60 s"
echo "READY after $(ms_since "$start") ms"
ready=$EPOCHREALTIME

expect() {
	awk -v s="$1" '$2 == "expect" && $3 == s { print $4 }' "$tmp/err"
}

count() {
	ip netns exec "$ns" ss -tan ${1:+state "$1"} | tail -n +2 | wc -l
}

total=0
declare -A first
for s in $states; do
	total=$((total + $(expect "$s")))
	first[$s]=$(count "$s")
done
first_all=$(count)

# The orphaned peers need tcp_fin_timeout to go; allow up to 10 s.
settle=
while [ "$(ms_since "$ready")" -lt 10000 ]; do
	ok=1
	for s in $states; do
		[ "$(count "$s")" -eq "$(expect "$s")" ] || ok=
	done
	[ "$(count)" -eq "$total" ] || ok=
	if [ -n "$ok" ]; then
		settle=$(ms_since "$ready")
		break
	fi
	sleep 0.1
done

grep -v ' expect ' "$tmp/err" || true
printf '%-12s %8s %9s %8s\n' state expected 'at READY' settled
for s in $states; do
	printf '%-12s %8s %9s %8s\n' "$s" "$(expect "$s")" "${first[$s]}" \
		"$(count "$s")"
done
printf '%-12s %8s %9s %8s\n' "(all)" "$total" "$first_all" "$(count)"
[ -n "$settle" ] || die "counts did not match within 10 s"
echo "all counts matched $settle ms after READY"

exec 3>&-
for _ in $(seq 100); do
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
done
rc=0
wait "$pid" || rc=$?
pid=
[ "$rc" -eq 0 ] || die "sockmaker exited with $rc after EOF"

# Held sockets are reset on exit: only the --time-wait ones may remain.
left=$(($(count) - $(count time-wait)))
[ "$left" -eq 0 ] || die "$left sockets other than TIME_WAIT left after exit"
echo "PASS"
