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

# Every plugin instance and type the core emits appears in the README and
# in the man page.
new_workdir docs_work
man_text >"$docs_work/man.txt"
names="$docs_work/names"
"$BUILD/tcps-count" -a -o "LocalPort 1" -o "RemotePort 1" \
	-o "AllPortsSummary true" 2>/dev/null |
	sed 's/ [^ ]*$//; s/^listen-[0-9]*/listen-<port>/; s/^1-/<port>-/' |
	sort -u >"$names"
while read -r name; do
	case $name in
	*/*) inst=${name%%/*} metric=${name#*/} ;;
	*) inst="" metric=$name ;;
	esac
	prefix="tcpstates${inst:+-$inst}/"
	type=${metric%%-*} type_instance=${metric#*-}
	# Per-state values are documented once as <type>-<STATE>.
	if [[ $type_instance =~ ^[A-Z_0-9]+$ && $type_instance != UNKNOWN ]]; then
		grep -qF -- "$prefix$type-<STATE>" "$root/README.md" &&
			grep -qw -- "$type_instance" "$root/README.md" && continue
	fi
	grep -qF -- "$prefix$metric\`" "$root/README.md" ||
		fail "README lacks metric $prefix$metric"
done <"$names"
[[ $(wc -l <"$names") -ge 40 ]] || fail "too few metrics read: $(wc -l <"$names")"
note "metrics in the README: $(wc -l <"$names")"

# The man page writes placeholders in italics: <port> is "port" there.
while read -r name; do
	name=${name//<port>/port}
	case $name in
	*/*) inst=${name%%/*} metric=${name#*/} ;;
	*) inst="" metric=$name ;;
	esac
	prefix="tcpstates${inst:+-$inst}/"
	type=${metric%%-*} type_instance=${metric#*-}
	grep -qF -- "$prefix$metric" "$docs_work/man.txt" && continue
	if [[ $type_instance =~ ^[A-Z_0-9]+$ && $type_instance != UNKNOWN ]]; then
		grep -qF -- "$prefix$type-STATE" "$docs_work/man.txt" && continue
	fi
	fail "man page lacks metric $prefix$metric"
done <"$names"
note "metrics in the man page: $(wc -l <"$names")"

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
