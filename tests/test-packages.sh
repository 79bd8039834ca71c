#!/bin/bash
# The packages as an administrator meets them. `make deb`: the .deb
# installs with dpkg, the stock Debian collectd (its own collectd.conf,
# which includes /etc/collectd/collectd.conf.d/*.conf) loads the plugin
# from the package and tcpstates values arrive; the Ansible role's
# check-conf.sh, as installed, accepts the installed conffile; `dpkg -r`
# and `--purge` leave nothing behind. `make rpm`: the .rpm holds the
# plugin, the conf.d snippet, the man page and the Ansible role and
# requires collectd, libmnl and json-c. Both hold the Grafana dashboards
# and the Prometheus alert rules under /usr/share/collectd-tcpstates.
#
# Needs root: it installs and removes packages. Everything it adds (the
# package, a temporary conf.d file, the collectd package and what that
# pulled in, a policy-rc.d) is removed again on exit, failed or not.
set -euo pipefail

cd "$(dirname "$0")/.."
PKG=collectd-tcpstates
STOCK_CONF=/etc/collectd/collectd.conf
CONF_D=/etc/collectd/collectd.conf.d
PLUGIN=/usr/lib/collectd/tcpstates.so
# The dashboards and alert rules, in both packages.
SHARED=/usr/share/collectd-tcpstates
SHARED_FILES="$SHARED/grafana/tcpstates-graphite.json
$SHARED/grafana/tcpstates-influxdb.json
$SHARED/grafana/tcpstates-prometheus.json
$SHARED/prometheus/tcpstates.rules.yml"
ROLE=$SHARED/ansible/roles/tcpstates
POLICY=/usr/sbin/policy-rc.d
STATES=(ESTABLISHED SYN_SENT SYN_RECV FIN_WAIT1 FIN_WAIT2 TIME_WAIT CLOSED
	CLOSE_WAIT LAST_ACK LISTEN CLOSING UNKNOWN)
MAKE_PKG=(make --no-print-directory -f packaging/packaging.mk)

fail()
{
	echo "FAIL: $*" >&2
	exit 1
}

note()
{
	echo "  $*"
}

[[ $(id -u) -eq 0 ]] || fail "needs root: it installs and removes packages"

work=$(mktemp -d /tmp/tcpstates-packages.XXXXXX)
dropin=""
collectd_pid=""
policy_saved=""
policy_ours=0
installed_by_us=()
rrd_dir_was_there=0
[[ -d /var/lib/collectd/rrd ]] && rrd_dir_was_there=1

# stop_pid PID: TERM, then KILL after 5 s.
stop_pid()
{
	local pid=$1
	kill "$pid" 2>/dev/null || return 0
	for _ in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

cleanup()
{
	set +e
	[[ -n $collectd_pid ]] && stop_pid "$collectd_pid"
	[[ -n $dropin ]] && rm -f "$dropin"
	if dpkg-query -W -f='${Status}' "$PKG" 2>/dev/null |
		grep -qv 'not-installed'; then
		dpkg --purge "$PKG" >/dev/null
	fi
	if [[ ${#installed_by_us[@]} -gt 0 ]]; then
		DEBIAN_FRONTEND=noninteractive timeout 300 \
			apt-get purge -y -q "${installed_by_us[@]}" >/dev/null
	fi
	if [[ -n $policy_saved ]]; then
		mv -f "$policy_saved" "$POLICY"
	elif [[ $policy_ours -eq 1 ]]; then
		rm -f "$POLICY"
	fi
	# The stock config's rrdtool plugin writes here; keep a directory
	# that was there before, drop one that this run created.
	[[ $rrd_dir_was_there -eq 1 ]] || rm -rf /var/lib/collectd/rrd
	rm -rf "$work"
}
trap cleanup EXIT

# step NAME COMMAND...: runs it and prints how long it took.
step()
{
	local name=$1 start end
	shift
	echo "== $name"
	start=$(date +%s.%N)
	"$@"
	end=$(date +%s.%N)
	awk -v n="$name" -v s="$start" -v e="$end" \
		'BEGIN { printf "== %s: ok (%.1f s)\n", n, e - s }'
}

# run_logged LOG COMMAND...: output to LOG, shown only when it fails.
run_logged()
{
	local log=$1
	shift
	if ! "$@" >"$log" 2>&1; then
		tail -n 60 "$log" >&2
		fail "$* failed (log above)"
	fi
}

build_deb()
{
	run_logged "$work/deb.log" timeout 900 "${MAKE_PKG[@]}" deb
	# lintian ran inside make deb, which fails on an error or a warning;
	# show the info and pedantic tags it printed, if any.
	local tags
	tags=$(sed -n '/^lintian /,$p' "$work/deb.log" | grep -E '^[EWIPX]: ' ||
		true)
	note "lintian (errors, warnings, info, pedantic): ${tags:-no tags}"
	deb=$(ls build/deb/"${PKG}"_*.deb)
	note "built $deb"
	# make install puts the man page; nothing else may add a second one.
	# List it once: grep -q on a pipe stops reading early, and under
	# pipefail dpkg-deb's broken pipe would fail the check.
	local listing pages
	listing=$(dpkg-deb -c "$deb")
	pages=$(grep -c 'man5/collectd-tcpstates' <<<"$listing" || true)
	[[ $pages -eq 1 ]] || fail "the .deb holds $pages man pages, not 1"
	local f
	for f in $SHARED_FILES; do
		grep -q " \.$f\$" <<<"$listing" ||
			fail "the .deb lacks $f"
	done
	# Its libraries come from ${shlibs:Depends}.
	local depends
	depends=$(dpkg-deb -f "$deb" Depends)
	grep -qE '(^|, )libjson-c[0-9]+' <<<"$depends" ||
		fail "the .deb does not depend on json-c: $depends"
}

# A policy-rc.d that refuses, so that installing collectd starts nothing.
forbid_service_start()
{
	if [[ -x $POLICY ]]; then
		local rc=0
		"$POLICY" collectd start >/dev/null 2>&1 || rc=$?
		[[ $rc -eq 101 ]] && return 0
		policy_saved="$work/policy-rc.d.saved"
		cp -a "$POLICY" "$policy_saved"
	fi
	printf '#!/bin/sh\nexit 101\n' >"$POLICY"
	chmod 0755 "$POLICY"
	[[ -n $policy_saved ]] || policy_ours=1
}

apt_install()
{
	local before="$work/pkgs.before" after="$work/pkgs.after"
	dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' |
		awk '$1 == "ii" { print $2 }' | sort >"$before"
	export DEBIAN_FRONTEND=noninteractive
	timeout 300 apt-get update -q >/dev/null
	timeout 600 apt-get install -y -q --no-install-recommends "$@" \
		>"$work/apt.log" 2>&1 || {
		cat "$work/apt.log" >&2
		fail "apt-get install $* failed"
	}
	dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' |
		awk '$1 == "ii" { print $2 }' | sort >"$after"
	mapfile -t -O "${#installed_by_us[@]}" installed_by_us \
		< <(comm -13 "$before" "$after")
	note "installed for this test: ${installed_by_us[*]}"
}

stock_collectd()
{
	local status
	status=$(dpkg-query -W -f='${Status}' collectd-core 2>/dev/null || true)
	[[ $status == "install ok installed" ]] || apt_install collectd-core
	if [[ ! -f $STOCK_CONF ]]; then
		forbid_service_start
		apt_install collectd
	fi
	[[ -f $STOCK_CONF ]] || fail "$STOCK_CONF is missing"
	# Debian's stock config ends with an Include of the conf.d folder.
	grep -A 2 -E "^[[:space:]]*<Include \"?$CONF_D/?\"?>" "$STOCK_CONF" |
		grep -q 'Filter "\*\.conf"' ||
		fail "$STOCK_CONF does not include $CONF_D/*.conf"
	note "$STOCK_CONF includes $CONF_D/*.conf"
}

install_deb()
{
	dpkg -i "$deb" >"$work/dpkg-i.log" 2>&1 ||
		{ cat "$work/dpkg-i.log" >&2; fail "dpkg -i failed"; }
	[[ -f $PLUGIN ]] || fail "$PLUGIN missing after dpkg -i"
	# Built with the package's own flags, not a sanitizer build's that
	# ran before (the tests export an absolute BUILD).
	! grep -qE 'NEEDED.*lib(a|ub|t)san' <<<"$(readelf -d "$PLUGIN")" ||
		fail "$PLUGIN needs a sanitizer runtime: built with foreign flags"
	grep -q "$CONF_D/tcpstates.conf" \
		<<<"$(dpkg-query -W -f='${Conffiles}\n' "$PKG")" ||
		fail "$CONF_D/tcpstates.conf is not a conffile"
	[[ -f /usr/share/man/man5/collectd-tcpstates.5.gz ]] ||
		fail "man page missing"
	local f
	for f in $SHARED_FILES; do
		[[ -f $f ]] || fail "$f missing after dpkg -i"
	done
	for f in tasks/main.yml tasks/package.yml handlers/main.yml \
		defaults/main.yml meta/main.yml templates/tcpstates.conf.j2 \
		README.md; do
		[[ -f $ROLE/$f ]] || fail "the Ansible role lacks $ROLE/$f"
	done
	[[ -x $ROLE/files/check-conf.sh ]] ||
		fail "$ROLE/files/check-conf.sh missing or not executable"
	"$ROLE/files/check-conf.sh" "$CONF_D/tcpstates.conf" \
		>"$work/check-conf.log" 2>&1 ||
		{ cat "$work/check-conf.log" >&2; fail "check-conf.sh refuses the conffile"; }
	note "the Ansible role is in $ROLE; its check-conf.sh accepts the conffile"
	note "installed: $(dpkg-query -W -f='${Package} ${Version}' "$PKG")"
}

# csv_value STATE: the newest value the csv plugin wrote for STATE.
csv_value()
{
	local file
	# csv starts a new file each day: the newest is last by name.
	file=$(printf '%s\n' "$work"/csv/*/tcpstates-host/tcp_connections-"$1"-* |
		tail -n 1)
	[[ -f $file ]] || return 1
	tail -n 1 "$file" | cut -d, -f2
}

all_states_arrived()
{
	local state value
	for state in "${STATES[@]}"; do
		value=$(csv_value "$state") || return 1
		[[ $value =~ ^[0-9]+(\.[0-9]+)?(e\+[0-9]+)?$ ]] || return 1
	done
}

run_stock_collectd()
{
	# A temporary output: csv into the work folder, and a log file.
	dropin="$CONF_D/zz-tcpstates-packages-test-$$.conf"
	cat >"$dropin" <<CONF
LoadPlugin logfile
<Plugin logfile>
  LogLevel info
  File "$work/collectd.log"
</Plugin>
LoadPlugin csv
<Plugin csv>
  DataDir "$work/csv"
  StoreRates false
</Plugin>
CONF
	/usr/sbin/collectd -f -C "$STOCK_CONF" >"$work/collectd.out" 2>&1 &
	collectd_pid=$!
	# The first read runs at start; the stock interval is 10 s.
	for _ in $(seq 300); do
		all_states_arrived && break
		kill -0 "$collectd_pid" 2>/dev/null || break
		sleep 0.1
	done
	if ! all_states_arrived; then
		cat "$work/collectd.out" "$work/collectd.log" >&2 || true
		fail "no tcpstates values from the stock collectd in 30 s"
	fi
	local state line=""
	for state in "${STATES[@]}"; do
		line+="$state=$(csv_value "$state" | sed 's/\..*//') "
	done
	note "values: $line"
	if grep -q 'tcpstates plugin' "$work/collectd.log"; then
		cat "$work/collectd.log" >&2
		fail "the plugin logged a problem"
	fi
	stop_pid "$collectd_pid"
	collectd_pid=""
	rm -f "$dropin"
	dropin=""
}

remove_deb()
{
	dpkg -r "$PKG" >/dev/null
	[[ ! -e $PLUGIN ]] || fail "$PLUGIN remains after dpkg -r"
	# dpkg -r keeps conffiles; --purge removes them.
	dpkg --purge "$PKG" >/dev/null
	[[ ! -e $CONF_D/tcpstates.conf ]] ||
		fail "$CONF_D/tcpstates.conf remains after dpkg --purge"
	[[ ! -e /usr/share/man/man5/collectd-tcpstates.5.gz ]] ||
		fail "man page remains after dpkg -r"
	[[ ! -e $SHARED ]] ||
		fail "$SHARED remains after dpkg -r"
	note "dpkg -r and --purge left no file of $PKG"
}

build_rpm()
{
	run_logged "$work/rpm.log" timeout 900 "${MAKE_PKG[@]}" rpm
	grep -q '^100%: Checks: [0-9]*, Failures: 0, Errors: 0' \
		"$work/rpm.log" || fail "%check did not run the unit tests"
	rpm_file=$(ls build/rpm/RPMS/*/"$PKG"-*.rpm)
	note "built $rpm_file"
}

check_rpm()
{
	local files requires
	files=$(rpm -qlp "$rpm_file")
	requires=$(rpm -qp --requires "$rpm_file")
	note "rpm -qlp: $(tr '\n' ' ' <<<"$files")"
	note "rpm -qp --requires: $(tr '\n' ' ' <<<"$requires")"
	grep -qx '/usr/lib64/collectd/tcpstates.so' <<<"$files" ||
		fail "rpm lacks /usr/lib64/collectd/tcpstates.so"
	grep -qx '/etc/collectd.d/tcpstates.conf' <<<"$files" ||
		fail "rpm lacks /etc/collectd.d/tcpstates.conf"
	grep -qE '^/usr/share/man/man5/collectd-tcpstates\.5(\.gz)?$' \
		<<<"$files" || fail "rpm lacks the man page"
	[[ $(grep -c 'man5/collectd-tcpstates' <<<"$files") -eq 1 ]] ||
		fail "the rpm holds more than one man page"
	local f
	for f in $SHARED_FILES; do
		grep -qx "$f" <<<"$files" || fail "the rpm lacks $f"
	done
	grep -qx "$ROLE/tasks/main.yml" <<<"$files" &&
		grep -qx "$ROLE/files/check-conf.sh" <<<"$files" ||
		fail "rpm lacks the Ansible role in $ROLE"
	rpm -qp --configfiles "$rpm_file" |
		grep -qx '/etc/collectd.d/tcpstates.conf' ||
		fail "the conf snippet is not %config in the rpm"
	grep -qE '^collectd( |$)' <<<"$requires" ||
		fail "rpm does not require collectd"
	grep -qE '^libmnl([( ]|$)' <<<"$requires" ||
		fail "rpm does not require libmnl"
	grep -qE '^json-c([( ]|$)' <<<"$requires" ||
		fail "rpm does not require json-c"
}

step "make deb (dpkg-buildpackage, lintian)" build_deb
step "stock collectd available" stock_collectd
step "dpkg -i" install_deb
step "stock collectd sends tcpstates values" run_stock_collectd
step "dpkg -r, dpkg --purge" remove_deb
step "make rpm (rpmbuild)" build_rpm
step "rpm -qlp, rpm -qp --requires" check_rpm
echo "packages: ok"
