#!/bin/bash
# The shared object exports only module_register, and make install /
# uninstall put and remove exactly the plugin and the conf.d snippet.
source "$(dirname "$0")/lib.sh"

exported=$(nm -D --defined-only "$BUILD/tcpstates.so" | awk '$2 ~ /^[TDBRVW]$/ {print $3}')
[[ $exported == module_register ]] ||
	fail "tcpstates.so exports more than module_register: $exported"
note "exports: $exported"

new_workdir work
make --no-print-directory -s install BUILD="$BUILD" DESTDIR="$work/root" >/dev/null
for f in usr/lib/collectd/tcpstates.so \
	etc/collectd/collectd.conf.d/tcpstates.conf; do
	[[ -f $work/root/$f ]] || fail "make install did not install /$f"
done
grep -q "^LoadPlugin tcpstates" \
	"$work/root/etc/collectd/collectd.conf.d/tcpstates.conf" ||
	fail "the installed snippet does not load the plugin"
make --no-print-directory -s uninstall DESTDIR="$work/root" >/dev/null
left=$(find "$work/root" -type f)
[[ -z $left ]] || fail "make uninstall left: $left"
note "install and uninstall under DESTDIR: ok"
echo "build: ok"
