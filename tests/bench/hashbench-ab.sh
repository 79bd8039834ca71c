#!/bin/bash
# make bench-hash-ab: the ephemeral observer's cost per socket at two
# revisions, for a change meant to cost nothing (3876ad9 put the
# destination table's probe loop behind tcps_probe's callback). One
# driver, this tree's hashbench.o (-o: the observer alone), linked with
# each revision's libtcpstates-core.a, the two run in turn; then the
# table's functions in each revision's plugin/ephemeral.o, compared
# instruction by instruction. The observer API the driver uses must be the
# same at both revisions. A report, not a test: nothing asserts a timing.
#
# Usage: hashbench-ab.sh REV_A REV_B. Environment: BUILD (build),
# HASHBENCH_RUNS (5), HASHBENCH_INTERVALS (4), HASHBENCH_SIZES ("10000
# 100000 1000000"), CC (cc), CFLAGS (-O2 -g, as the Makefile's). Output:
# Markdown on stdout and in $BUILD/bench/hash-ab.md; the trees and
# samples in $BUILD/bench/ab/.
set -euo pipefail

[[ $# -eq 2 ]] || {
	echo "usage: $0 REV_A REV_B" >&2
	exit 2
}
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=$(mkdir -p "${BUILD:-build}" && cd "${BUILD:-build}" && pwd)
RUNS=${HASHBENCH_RUNS:-5}
INTERVALS=${HASHBENCH_INTERVALS:-4}
SIZES=${HASHBENCH_SIZES:-"10000 100000 1000000"}
CC=${CC:-cc}
CFLAGS=${CFLAGS:-"-O2 -g"}
OUT=$BUILD/bench
AB=$OUT/ab
REVS=("$1" "$2")
# The functions of the destination table and its callers; those inlined
# away at one revision show as "inlined".
FUNCTIONS=(tcps_ephemeral_observe count_destination table_find table_probe
	dest_slot_stop key_hash tcps_dest_table_probe tcps_dest_slot_stop
	tcps_dest_key_hash)

say()
{
	echo "bench-hash-ab: $*" >&2
}

# build_rev I REV: REV's core library in $AB/I, from git archive (no
# worktree to clean up), built as the Makefile builds it.
build_rev()
{
	local dir=$AB/$1 cflags libs
	mkdir -p "$dir"
	git -C "$SRC" archive "$2" | tar -x -C "$dir"
	make -s -C "$dir" BUILD=build CC="$CC" CFLAGS="$CFLAGS" \
		build/libtcpstates-core.a \
		>"$dir.log" 2>&1 || {
		say "cannot build $2 (see $dir.log)"
		exit 1
	}
	read -r -a cflags <<<"$CFLAGS"
	read -r -a libs <<<"$(pkg-config --libs libmnl)"
	"$CC" "${cflags[@]}" -o "$AB/hashbench-$1" \
		"$BUILD/tests/bench/hashbench.o" \
		"$dir/build/libtcpstates-core.a" "${libs[@]}"
}

# body OBJECT FUNCTION: the function's instructions (a GCC clone such as
# table_probe.isra.0 counts as the function), addresses and offsets left
# out, so that two builds compare by what they execute. awk reads to the
# end: objdump must not die of a closed pipe.
body()
{
	objdump -dr --no-show-raw-insn "$1" | awk -v f="$2" '
		$2 == "<" f ">:" || index($2, "<" f ".") == 1 { on = 1; next }
		NF == 0 { on = 0 }
		on {
			sub(/^[ \t]*[0-9a-f]+:[ \t]+/, "")
			gsub(/[0-9a-f]+ </, "<")
			gsub(/\+0x[0-9a-f]+>/, ">")
			print
		}'
}

# calls FUNCTION < BODY: what it calls (or jumps to, out of itself), as
# "key_hash, table_probe x4".
calls()
{
	awk -v self="$1" '
		/^R_X86_64_PLT32/ { n = $2; sub(/-0x4$/, "", n); c[n]++ }
		/^call/ && /\*/ { c["(indirect)"]++ }
		/^call/ && match($0, /<[^>]*>/) {
			n = substr($0, RSTART + 1, RLENGTH - 2)
			if (n != self && index(n, self ".") != 1) c[n]++
		}
		END {
			for (n in c) out = out (out ? ", " : "") n (c[n] > 1 ? " x" c[n] : "")
			print (out ? out : "none")
		}'
}

function_row()
{
	local f=$1 a b na nb ca cb same
	a=$(body "$AB/a/build/plugin/ephemeral.o" "$f")
	b=$(body "$AB/b/build/plugin/ephemeral.o" "$f")
	na=$(grep -vc '^R_' <<<"$a" || true)
	nb=$(grep -vc '^R_' <<<"$b" || true)
	[[ -n $a ]] || na=0
	[[ -n $b ]] || nb=0
	ca=$(calls "$f" <<<"$a")
	cb=$(calls "$f" <<<"$b")
	if [[ -z $a && -z $b ]]; then
		same="no symbol at either"
	elif [[ $a == "$b" ]]; then
		same="identical"
	else
		same="differ"
	fi
	[[ -n $a ]] || ca="-"
	[[ -n $b ]] || cb="-"
	echo "| \`$f\` | ${na/#0/-} | ${nb/#0/-} | $ca | $cb | $same |"
}

# The median of the ns column of one revision's samples, per N and D.
medians()
{
	awk -F '\t' '$1 == "dest" { print $3 "\t" $4 "\t" $6 }' "$1" |
		sort -k1,1n -k2,2n -k3,3g | awk -F '\t' '
		function flush() {
			if (n == 0) return
			m = n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
			printf "%s\t%s\t%.1f\t%.0f\n", key1, key2, m,
				(v[n] - v[1]) / 2 / m * 100
			n = 0
		}
		$1 != key1 || $2 != key2 { flush(); key1 = $1; key2 = $2 }
		{ v[++n] = $3 }
		END { flush() }'
}

# instructions I: the instructions the core's code (built under $AB/I)
# executes per observed socket, from one cachegrind run of N=CG_SIZE, two
# intervals: exact and repeatable where the times are not.
CG_SIZE=100000
instructions()
{
	local i=$1 shapes
	valgrind --tool=cachegrind --cache-sim=no \
		--cachegrind-out-file="$AB/cg-$i.out" "$AB/hashbench-$i" -o -s \
		-r 1 -i 2 -n "$CG_SIZE" >"$AB/cg-$i.samples" 2>"$AB/cg-$i.log"
	shapes=$(grep -c '^dest' "$AB/cg-$i.samples")
	cg_annotate --auto=no --threshold=0 "$AB/cg-$i.out" |
		awk -v dir="$AB/$i/" -v n="$((shapes * CG_SIZE * 2))" '
		index($0, dir) { gsub(/,/, "", $1); s += $1 }
		END { printf "%.1f\n", s / n }'
}

# keyed SAMPLES: "N:D<tab>median<tab>spread", sorted for join.
keyed()
{
	medians "$1" | awk -F '\t' '{ print $1 ":" $2 "\t" $3 "\t" $4 }' |
		LC_ALL=C sort -t $'\t' -k1,1
}

# paired: per N and D, the median of B / A over the runs, each run's A
# and B taken back to back (the samples files line up), and the range of
# those ratios: steadier than the ratio of the medians on a busy machine.
paired()
{
	paste "$AB/samples-a" "$AB/samples-b" |
		awk -F '\t' '$1 == "dest" { print $3 ":" $4 "\t" $13 / $6 }' |
		LC_ALL=C sort -t $'\t' -k1,1 -k2,2g | awk -F '\t' '
		function flush() {
			if (n == 0) return
			m = n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
			printf "%s\t%.3f (%.2f-%.2f)\n", key, m, v[1], v[n]
			n = 0
		}
		$1 != key { flush(); key = $1 }
		{ v[++n] = $2 }
		END { flush() }'
}

report()
{
	local f
	echo "## The observer at ${REVS[0]} against ${REVS[1]}"
	echo
	echo "${REVS[0]} is $(git -C "$SRC" rev-parse --short "${REVS[0]}"), ${REVS[1]} is $(git -C "$SRC" rev-parse --short "${REVS[1]}"); driver: hashbench.o of $(git -C "$SRC" describe --always --dirty), \`-o\`, $RUNS runs of $INTERVALS intervals each, the two builds in turn; CFLAGS \`$CFLAGS\`, $("$CC" --version | head -n 1)."
	echo
	echo "ns per socket (thread CPU time, intervals 2..$INTERVALS, median ± half the range):"
	echo
	echo "| N | D | ${REVS[0]} | ${REVS[1]} | ratio of the medians | median of the runs' ratios (their range) |"
	echo "|---:|---:|---:|---:|---:|---:|"
	LC_ALL=C join -t $'\t' <(keyed "$AB/samples-a") <(keyed "$AB/samples-b") |
		LC_ALL=C join -t $'\t' - <(paired) |
		sort -t: -k1,1n -k2,2n | awk -F '\t' '{
			split($1, nd, ":")
			printf "| %s | %s | %s ±%s%% | %s ±%s%% | %.3f | %s |\n",
				nd[1], nd[2], $2, $3, $4, $5, $4 / $2, $6 }'
	echo
	if command -v valgrind >/dev/null && command -v cg_annotate >/dev/null; then
		say "counting instructions (cachegrind)"
		echo "Instructions executed in the core per observed socket (cachegrind, N=$CG_SIZE, every D, 2 intervals): ${REVS[0]} $(instructions a), ${REVS[1]} $(instructions b)."
	else
		echo "(valgrind not installed: no instruction counts.)"
	fi
	echo
	echo "plugin/ephemeral.o, instructions per function (objdump -d; -: no such symbol, inlined or not in that revision):"
	echo
	echo "| function | ${REVS[0]} | ${REVS[1]} | calls at ${REVS[0]} | calls at ${REVS[1]} | |"
	echo "|---|---:|---:|---|---|---|"
	for f in "${FUNCTIONS[@]}"; do
		function_row "$f"
	done
	echo
	echo "Rerun: \`make bench-hash-ab HASHBENCH_REVS=\"${REVS[*]}\"\`."
}

rm -rf "$AB"
mkdir -p "$AB"
make -s -C "$SRC" BUILD="$BUILD" CC="$CC" CFLAGS="$CFLAGS" \
	"$BUILD/tests/bench/hashbench.o"
say "building ${REVS[0]} and ${REVS[1]}"
build_rev a "${REVS[0]}"
build_rev b "${REVS[1]}"
: >"$AB/samples-a"
: >"$AB/samples-b"
for run in $(seq "$RUNS"); do
	say "run $run/$RUNS"
	# Which one goes first alternates, so that neither always warms up
	# the caches for the other.
	order=(a b)
	((run % 2)) || order=(b a)
	for i in "${order[@]}"; do
		"$AB/hashbench-$i" -o -s -r 1 -i "$INTERVALS" -n "$SIZES" \
			2>/dev/null >>"$AB/samples-$i"
	done
done
report | tee "$OUT/hash-ab.md"
