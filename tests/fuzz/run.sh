#!/bin/bash
# Runs each libFuzzer target for a bounded time and prints one summary line
# per target. Usage: run.sh SECONDS TARGET... (BUILD: the fuzz build tree).
# New corpus entries go to $BUILD/corpus/TARGET (kept between runs), the
# input of a crash, leak or timeout to $BUILD/crashes/TARGET/. Exits 1 when
# any target failed.
set -uo pipefail
cd "$(dirname "$0")/../.."

build=${BUILD:-build-fuzz}
seconds=$1
shift
failed=0
summary=()
# Each target's TMPDIR, removed after it: on tmpfs when there is one
# (fuzz-leaks changes its fake /proc between every read; on ext4 its runs
# took twice as long), else in the build tree.
tmp_root=$PWD/$build/tmp
if [[ -d /dev/shm && -w /dev/shm ]]; then
	tmp_root=$(mktemp -d /dev/shm/tcps-fuzz.XXXXXX)
	trap 'rm -rf "$tmp_root"' EXIT
fi

for target in "$@"; do
	seeds=tests/fuzz/seeds/$target
	corpus=$build/corpus/$target
	crashes=$build/crashes/$target
	log=$build/fuzz-$target.log
	tmp=$tmp_root/$target
	mkdir -p "$corpus" "$crashes" "$tmp"
	args=(-max_total_time="$seconds" -print_final_stats=1 -timeout=10
		-rss_limit_mb=2048 -malloc_limit_mb=512 -max_len=16384
		-artifact_prefix="$crashes/")
	[[ -f tests/fuzz/$target.dict ]] && args+=(-dict="tests/fuzz/$target.dict")
	# Options of one target, after the common ones (the last one wins).
	[[ -f tests/fuzz/$target.flags ]] &&
		read -ra flags <"tests/fuzz/$target.flags" && args+=("${flags[@]}")
	echo "fuzz $target: $seconds s (log: $log)"
	TMPDIR=$tmp "$build/fuzz-$target" "${args[@]}" "$corpus" "$seeds" \
		>"$log" 2>&1
	rc=$?
	rm -rf "$tmp"
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	# Stateful targets run many reads per execution (tests/fuzz/reads.h).
	reads=$(sed -n 's/^stat::number_of_reads: *//p' "$log" | tail -1)
	entries=$(find "$corpus" -type f | wc -l)
	if [[ $rc -eq 0 ]]; then
		result=ok
	else
		result="FAILED (exit $rc; inputs in $crashes/)"
		grep -m 3 -E '^==[0-9]+==ERROR|^SUMMARY|runtime error' "$log" >&2
		failed=1
	fi
	runs="${execs:-?} executions${reads:+, $reads reads}"
	summary+=("fuzz $target: $runs in $seconds s, corpus $entries files: $result")
done
printf '%s\n' "${summary[@]}"
exit $failed
