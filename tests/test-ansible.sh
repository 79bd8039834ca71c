#!/bin/bash
# The Ansible role (packaging/ansible/roles/tcpstates) run by a real
# ansible-playbook (-c local) against this machine, every path of it under
# a test folder: the conf.d folder, a collectd.conf that includes it, the
# package cache; a real collectd started by the test from that
# collectd.conf stands for the host's, and the role's restart command
# restarts it by its pidfile (no service manager needed). The package is
# the .deb `make deb` builds (DEB_BUILD_OPTIONS=nocheck: make check runs
# the unit tests itself; TCPS_DEB=FILE uses one already built).
#   1. first run: changes the host (changed > 0), installs the package,
#      writes the file with every option of plugin/options.c, restarts
#      collectd once, which then sends tcpstates values, a <Namespace>
#      block's too; collectd -T accepts the written file;
#   2. second run: changed=0, no restart;
#   3. a number out of range, then an unknown GroupBy: the task fails with
#      collectd's line naming the option, the old file stays byte for
#      byte, no restart;
#   4. a good change: written, one more restart, the new value in effect.
# Root: it installs the package, removed again on exit with the collectd
# it started and the namespace; a host that has collectd-tcpstates
# installed already is left alone (the test stops).
source "$(dirname "$0")/lib.sh"
need_root
"$TESTS_DIR/tools/deps.sh" ansible

root=$(cd "$TESTS_DIR/.." && pwd)
PKG=collectd-tcpstates
ns=tcps-ans-$$
new_workdir work
new_netns "$ns"

if dpkg-query -W -f='${Status}' "$PKG" 2>/dev/null | grep -q 'ok installed'; then
	fail "$PKG is installed on this host; the test installs its own build" \
		"and removes it: dpkg --purge $PKG first"
fi

installed=0
pidfile=$work/collectd.pid
finish()
{
	local pid
	pid=$(cat "$pidfile" 2>/dev/null || true)
	if [[ -n $pid ]]; then
		kill "$pid" 2>/dev/null || true
		for _ in $(seq 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true
	fi
	[[ $installed -eq 1 ]] && dpkg --purge "$PKG" >/dev/null 2>&1
	cleanup
}
trap finish EXIT

# The package.
if [[ -n ${TCPS_DEB:-} ]]; then
	deb=$(realpath "$TCPS_DEB")
else
	(cd "$root" && DEB_BUILD_OPTIONS=nocheck timeout 900 \
		make --no-print-directory -f packaging/packaging.mk deb) \
		>"$work/deb.log" 2>&1 || { tail -n 40 "$work/deb.log" >&2; fail "make deb"; }
	deb=$(ls "$root"/build/deb/"$PKG"_*.deb)
fi
[[ -f $deb ]] || fail "no .deb: $deb"
note "package: $deb"

# The host's stand-in: collectd.conf including the test's conf.d folder,
# csv and a log file into the test folder; empty conf.d for a start.
mkdir -p "$work/etc/conf.d" "$work/var" "$work/csv"
conf=$work/etc/collectd.conf
cat >"$conf" <<CONF
Hostname "tcps-ansible"
BaseDir "$work/var"
PIDFile "$pidfile"
Interval 1
LoadPlugin logfile
<Plugin logfile>
	LogLevel info
	File "$work/collectd.log"
</Plugin>
LoadPlugin csv
<Plugin csv>
	DataDir "$work/csv"
</Plugin>
<Include "$work/etc/conf.d">
	Filter "*.conf"
</Include>
CONF

# start_collectd: the daemon forks and writes its pidfile; wait for it.
start_collectd()
{
	rm -f "$pidfile"
	/usr/sbin/collectd -C "$conf" -P "$pidfile" >>"$work/collectd.out" 2>&1 ||
		return 1
	for _ in $(seq 100); do
		[[ -s $pidfile ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null &&
			return 0
		sleep 0.1
	done
	return 1
}
start_collectd || fail "collectd did not start: $(tail -n 5 "$work/collectd.log")"

# The role's restart command: stop the daemon by its pidfile, start it
# again, and log "old new" pids to $work/restarts.
cat >"$work/restart-collectd" <<EOF
#!/bin/bash
set -eu
old=\$(cat "$pidfile")
kill "\$old"
for _ in \$(seq 100); do
	kill -0 "\$old" 2>/dev/null || break
	sleep 0.1
done
if kill -0 "\$old" 2>/dev/null; then exit 1; fi
$(declare -f start_collectd)
pidfile="$pidfile" conf="$conf" work="$work"
start_collectd
echo "\$old \$(cat "$pidfile")" >>"$work/restarts"
EOF
: >"$work/restarts"

cat >"$work/site.yml" <<'EOF'
- name: collectd-tcpstates
  hosts: all
  roles:
    - tcpstates
EOF
cat >"$work/vars.yml" <<EOF
ansible_python_interpreter: /usr/bin/python3
tcpstates_package_file: $deb
tcpstates_package_cache_dir: $work/cache
tcpstates_conf_path: $work/etc/conf.d/tcpstates.conf
tcpstates_restart_command: [/bin/bash, $work/restart-collectd]
tcpstates_local_ports: [22, 443]
tcpstates_remote_ports: [5432]
tcpstates_namespaces:
  - name: web
    path: /var/run/netns/$ns
EOF
: >"$work/ansible.cfg"
export ANSIBLE_CONFIG=$work/ansible.cfg ANSIBLE_HOME=$work/ansible-home \
	ANSIBLE_LOCAL_TEMP=$work/ansible-tmp ANSIBLE_REMOTE_TEMP=$work/ansible-tmp \
	ANSIBLE_ROLES_PATH=$root/packaging/ansible/roles ANSIBLE_NOCOLOR=1

# play NAME ARGS...: runs the playbook, output in $work/NAME.out; sets
# PLAY_RC and CHANGED/FAILED from the recap.
play()
{
	local name=$1 recap
	shift
	PLAY_RC=0
	timeout 600 ansible-playbook -c local -i localhost, -e "@$work/vars.yml" \
		"$@" "$work/site.yml" >"$work/$name.out" 2>&1 || PLAY_RC=$?
	recap=$(grep -E '^localhost +: ok=' "$work/$name.out") ||
		{ cat "$work/$name.out" >&2; fail "$name: no play recap"; }
	CHANGED=$(sed -E 's/.* changed=([0-9]+).*/\1/' <<<"$recap")
	FAILED=$(sed -E 's/.* failed=([0-9]+).*/\1/' <<<"$recap")
	note "$name: rc $PLAY_RC, $(tr -s ' ' <<<"$recap")"
}

restarts() { wc -l <"$work/restarts"; }
collectd_pid() { cat "$pidfile"; }
file=$work/etc/conf.d/tcpstates.conf

# wait_values DIR: tcpstates values written by csv under DIR after now.
wait_values()
{
	local since=$1 dir=$2
	for _ in $(seq 100); do
		[[ -n $(find "$work/csv/tcps-ansible/$dir" \
			-name 'tcp_connections-ESTABLISHED-*' -newer "$since" \
			2>/dev/null) ]] && return 0
		sleep 0.1
	done
	return 1
}

# 1. First run.
pid_before=$(collectd_pid)
[[ ! -e $work/csv/tcps-ansible/tcpstates-host ]] || fail "tcpstates values before the role ran"
installed=1 # from here on, purged on exit
play first
[[ $PLAY_RC -eq 0 && $FAILED -eq 0 ]] || { cat "$work/first.out" >&2; fail "first run failed"; }
[[ $CHANGED -gt 0 ]] || fail "first run changed nothing"
dpkg-query -W -f='${Status}' "$PKG" | grep -q 'ok installed' || fail "$PKG not installed"
[[ -f $file ]] || fail "no $file"
[[ $(restarts) -eq 1 ]] || fail "first run: $(restarts) restarts, not 1"
if [[ $(collectd_pid) == "$pid_before" ]] || ! kill -0 "$(collectd_pid)"; then
	fail "collectd was not restarted"
fi
wait_values "$file" tcpstates-host || fail "no tcpstates values after the restart"
wait_values "$file" tcpstates-web || fail "no values of <Namespace \"web\">"
note "restarted (pid $pid_before -> $(collectd_pid)); values arrive, the namespace's too"
# Every option of the plugin's option table is written by the role.
options=$(sed -n 's/^\t{ "\([A-Za-z0-9]*\)", apply_.*/\1/p' "$root/plugin/options.c")
[[ $(wc -w <<<"$options") -ge 16 ]] || fail "could not read the option table"
for opt in $options; do
	grep -qE "^[[:space:]]+$opt( |\$)" "$file" || fail "the role does not write $opt"
done
grep -q "<Namespace \"web\">" "$file" || fail "the role does not write <Namespace>"
note "the file holds all $(wc -w <<<"$options") options and a <Namespace> block"
# collectd -T on the conf.d folder alone, logging to stderr.
mkdir "$work/T"
printf 'Hostname "tcps-ansible"\nFQDNLookup false\nBaseDir "%s"\n<Include "%s">\n\tFilter "*.conf"\n</Include>\n' \
	"$work/T" "$work/etc/conf.d" >"$work/T/collectd.conf"
/usr/sbin/collectd -T -C "$work/T/collectd.conf" >"$work/T.out" 2>&1 ||
	{ cat "$work/T.out" >&2; fail "collectd -T refuses the written file"; }
grep -q 'plugin "tcpstates" successfully loaded' "$work/T.out" ||
	fail "collectd -T did not load tcpstates"
note "collectd -T loads the plugin from the written file"

# 2. Second run: nothing to do.
cp -p "$file" "$work/good.conf"
pid_before=$(collectd_pid)
play second
[[ $PLAY_RC -eq 0 && $FAILED -eq 0 ]] || { cat "$work/second.out" >&2; fail "second run failed"; }
[[ $CHANGED -eq 0 ]] || { cat "$work/second.out" >&2; fail "second run changed $CHANGED"; }
[[ $(restarts) -eq 1 && $(collectd_pid) == "$pid_before" ]] ||
	fail "second run restarted collectd"
grep -q 'RUNNING HANDLER' "$work/second.out" && fail "second run ran a handler"

# 3. Bad variables: refused by collectd -T, the old file untouched.
bad_run()
{
	local name=$1 option=$2
	shift 2
	play "$name" "$@"
	[[ $PLAY_RC -ne 0 && $FAILED -eq 1 ]] || fail "$name: the run did not fail"
	grep -q 'failed to validate' "$work/$name.out" ||
		{ cat "$work/$name.out" >&2; fail "$name: not a validation failure"; }
	grep -q "option \\\\\"$option\\\\\"" "$work/$name.out" ||
		{ cat "$work/$name.out" >&2; fail "$name: collectd did not name $option"; }
	cmp -s "$file" "$work/good.conf" || fail "$name: the old file changed"
	[[ $(stat -c %Y "$file") == $(stat -c %Y "$work/good.conf") ]] ||
		fail "$name: the old file was rewritten"
	[[ $(ls "$work/etc/conf.d") == tcpstates.conf ]] ||
		fail "$name: left in conf.d: $(ls "$work/etc/conf.d")"
	[[ $(restarts) -eq 1 && $(collectd_pid) == "$pid_before" ]] ||
		fail "$name: collectd was restarted"
	grep -q 'RUNNING HANDLER' "$work/$name.out" && fail "$name: a handler ran"
	note "$name: refused naming $option; old file byte-identical, no restart"
}
bad_run bad-number TopProcesses -e tcpstates_top_processes=5000
bad_run bad-group-by GroupBy -e tcpstates_group_by=process

# 4. A good change is written and restarts collectd once.
play change -e tcpstates_top_processes=20
[[ $PLAY_RC -eq 0 && $CHANGED -gt 0 ]] || { cat "$work/change.out" >&2; fail "change run"; }
grep -qE '^[[:space:]]+TopProcesses 20$' "$file" || fail "TopProcesses 20 not written"
if [[ $(restarts) -ne 2 ]] || ! kill -0 "$(collectd_pid)"; then
	fail "the change did not restart collectd once"
fi
wait_values "$file" tcpstates-host || fail "no values after the second restart"
note "a good change: written, collectd restarted once more, values arrive"
grep -q 'tcpstates plugin' "$work/collectd.log" &&
	{ cat "$work/collectd.log" >&2; fail "the plugin logged a problem"; }
echo "ansible: ok"
