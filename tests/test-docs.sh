#!/bin/bash
# Every option the plugin accepts is documented in the README, the shipped
# conf.d snippet and the man page; every metric family in the README.
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

# Every plugin instance and type the core emits appears in the README.
new_workdir docs_work
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
note "metrics documented: $(wc -l <"$names")"
echo "docs: ok"
