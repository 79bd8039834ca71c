#!/bin/bash
# The shared object exports only module_register, and make install /
# uninstall put and remove exactly the plugin, the conf.d snippet, the man
# page (MANDIR, as the packages use it), the Grafana dashboards, the
# Prometheus alert rules and the Ansible role (DATADIR).
source "$(dirname "$0")/lib.sh"

exported=$(nm -D --defined-only "$BUILD/tcpstates.so" | awk '$2 ~ /^[TDBRVW]$/ {print $3}')
[[ $exported == module_register ]] ||
	fail "tcpstates.so exports more than module_register: $exported"
note "exports: $exported"

new_workdir work
make --no-print-directory -s install BUILD="$BUILD" DESTDIR="$work/root" >/dev/null
for f in usr/lib/collectd/tcpstates.so \
	etc/collectd/collectd.conf.d/tcpstates.conf \
	usr/share/man/man5/collectd-tcpstates.5 \
	usr/share/collectd-tcpstates/grafana/tcpstates-graphite.json \
	usr/share/collectd-tcpstates/grafana/tcpstates-influxdb.json \
	usr/share/collectd-tcpstates/grafana/tcpstates-prometheus.json \
	usr/share/collectd-tcpstates/prometheus/tcpstates.rules.yml; do
	[[ -f $work/root/$f ]] || fail "make install did not install /$f"
done
# Besides those, only the Ansible role (test-ansible.sh checks it).
installed=$(cd "$work/root" && find . -type f |
	grep -v '^\./usr/share/collectd-tcpstates/ansible/' | sort | tr '\n' ' ')
[[ $(wc -w <<<"$installed") -eq 7 ]] ||
	fail "make install put more or fewer files than 7: $installed"
cmp -s "$TESTS_DIR/../packaging/collectd-tcpstates.5" \
	"$work/root/usr/share/man/man5/collectd-tcpstates.5" ||
	fail "the installed man page differs from packaging/collectd-tcpstates.5"
grep -q "^LoadPlugin tcpstates" \
	"$work/root/etc/collectd/collectd.conf.d/tcpstates.conf" ||
	fail "the installed snippet does not load the plugin"
make --no-print-directory -s uninstall DESTDIR="$work/root" >/dev/null
left=$(find "$work/root" -type f)
[[ -z $left ]] || fail "make uninstall left: $left"
[[ ! -e $work/root/usr/share/collectd-tcpstates ]] ||
	fail "make uninstall left /usr/share/collectd-tcpstates"
note "install and uninstall under DESTDIR: ok"

# MANDIR moves the man page alone, as the RPM's %{_mandir} does.
make --no-print-directory -s install BUILD="$BUILD" DESTDIR="$work/man" \
	MANDIR=/opt/man >/dev/null
[[ -f $work/man/opt/man/man5/collectd-tcpstates.5 ]] ||
	fail "make install ignored MANDIR"
make --no-print-directory -s uninstall DESTDIR="$work/man" MANDIR=/opt/man \
	>/dev/null
left=$(find "$work/man" -type f)
[[ -z $left ]] || fail "make uninstall MANDIR=/opt/man left: $left"
note "MANDIR: ok"

# DATADIR moves the dashboards and rules, as the RPM's %{_datadir} does.
make --no-print-directory -s install BUILD="$BUILD" DESTDIR="$work/data" \
	DATADIR=/opt/tcps >/dev/null
[[ -f $work/data/opt/tcps/prometheus/tcpstates.rules.yml &&
	-f $work/data/opt/tcps/grafana/tcpstates-prometheus.json ]] ||
	fail "make install ignored DATADIR"
make --no-print-directory -s uninstall DESTDIR="$work/data" DATADIR=/opt/tcps \
	>/dev/null
left=$(find "$work/data" -type f)
[[ -z $left ]] || fail "make uninstall DATADIR=/opt/tcps left: $left"
note "DATADIR: ok"
echo "build: ok"
