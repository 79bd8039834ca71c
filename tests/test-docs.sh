#!/bin/bash
# The docs against the code. Every option the plugin accepts is documented
# in the README, the shipped conf.d snippet and the man page; every value
# the core emits is named in the README and the man page; every relative
# link of the Markdown files leads to a file; CONTRIBUTING.md says what
# each source file and header holds.
source "$(dirname "$0")/lib.sh"

root="$TESTS_DIR/.."
options=$(sed -n 's/^\t{ "\([A-Za-z0-9]*\)", apply_.*/\1/p' "$root/plugin/options.c")
[[ $(wc -w <<<"$options") -ge 16 ]] || fail "could not read the option table"
options="$options Namespace"
for opt in $options; do
	grep -q "\`$opt\`\|<$opt " "$root/README.md" || fail "README lacks option $opt"
	grep -q "#$opt\|#<$opt " "$root/conf/tcpstates.conf" ||
		fail "conf/tcpstates.conf lacks option $opt"
	grep -q "^\.B.* $opt\|^\.B $opt\|^\.BI $opt\|$opt" \
		"$root/packaging/collectd-tcpstates.5" || fail "man page lacks option $opt"
done
note "options documented: $(wc -w <<<"$options")"

# The man page as text: font escapes dropped, \- made -, and the words of
# an alternating-font macro (.BI a b) joined as the reader sees them.
man_text()
{
	sed -E '/^\.(B|I|BI|IB|BR|RB|IR|RI) /{s/^\.[A-Z]+ //; s/"//g; s/ //g;}
		s/\\f[BIRP]//g; s/\\-/-/g; s/\\[|&]//g' \
		"$root/packaging/collectd-tcpstates.5"
}

# Every value the core emits appears in the README and in the man page,
# as "<plugin>/<type>-<type instance>" with placeholders where the name
# varies: <STATE>, <state>, <port>, <group>.
new_workdir docs_work
man_text >"$docs_work/man.txt"
names="$docs_work/names"
"$BUILD/tcps-count" -a -o "LocalPort 1" -o "RemotePort 1" \
	-o "AllPortsSummary true" 2>/dev/null |
	sed -E 's/ [^ ]*$//
		s#^tcpstates_(proc|local|remote)_[a-z0-9_]+/#tcpstates_\1_<state>/#
		s#^(tcpstates_proc_<state>/[a-z_]+)-.*#\1-<group>#
		s#^(tcpstates_(local|remote)_<state>|tcpstates_listen_(queue|backlog|syn_recv))/([a-z_]+)-[0-9]+$#\1/\4-<port>#
		s#^(tcpstates(_all)?/tcp_connections)-[A-Z_0-9]+$#&\n\1-<STATE>#' |
	grep -vE '^tcpstates(_all)?/tcp_connections-[A-Z_0-9]+$' |
	sort -u >"$names"
# The 11 state names are listed once.
for state in "${STATE_NAMES[@]}"; do
	grep -qw -- "$state" "$root/README.md" || fail "README lacks state $state"
done
while read -r name; do
	grep -qF -- "\`$name\`" "$root/README.md" ||
		fail "README lacks metric $name"
done <"$names"
[[ $(wc -l <"$names") -ge 20 ]] || fail "too few metrics read: $(wc -l <"$names")"
note "metrics in the README: $(wc -l <"$names")"

# The man page writes placeholders in italics: <port> is "port" there.
while read -r name; do
	name=${name//</}
	name=${name//>/}
	grep -qF -- "$name" "$docs_work/man.txt" ||
		fail "man page lacks metric $name"
done <"$names"
note "metrics in the man page: $(wc -l <"$names")"

# Both list every identifier of 0.1.0 with what it is called since 0.2.0.
for doc in "$root/README.md" "$docs_work/man.txt"; do
	for old in tcpstates-proc_ tcpstates-proc-other tcpstates-ephemeral \
		tcpstates-timewait tcpstates-sysctl tcpstates-listen- \
		tcpstates-listen/ tcpstates-stuck -local/ -remote/ tcpstates-all; do
		grep -qF -- "$old" "$doc" ||
			fail "${doc##*/} does not say what $old is called now"
	done
done

# Relative links of the Markdown docs ([text](path)) lead to files.
links=0
for doc in README.md CONTRIBUTING.md tests/README.md tests/bench/README.md; do
	[[ -f $root/$doc ]] || fail "$doc is missing"
	while read -r target; do
		target=${target%%#*}
		[[ -z $target || $target =~ ^[a-z]+: ]] && continue
		[[ -e $root/$(dirname "$doc")/$target ]] ||
			fail "$doc links to $target, which does not exist"
		links=$((links + 1))
	done < <(grep -oE '\]\([^)]+\)' "$root/$doc" | sed -E 's/^\]\((.*)\)$/\1/')
done
[[ $links -ge 5 ]] || fail "too few links read: $links"
note "relative links resolve: $links"

# CONTRIBUTING.md says what each source file and header holds.
files=0
for f in "$root"/plugin/*.c "$root"/include/tcpstates/*.h; do
	rel=${f#"$root"/}
	grep -qF -- "\`$rel\`" "$root/CONTRIBUTING.md" ||
		grep -qF -- "\`${rel##*/}\`" "$root/CONTRIBUTING.md" ||
		fail "CONTRIBUTING.md does not describe $rel"
	files=$((files + 1))
done
note "source files described in CONTRIBUTING.md: $files"
echo "docs: ok"
