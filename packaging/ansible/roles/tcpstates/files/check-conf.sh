#!/bin/sh
# Checks a collectd-tcpstates conf.d file before it replaces the one in
# use. collectd -T is given a throwaway collectd.conf that includes FILE
# alone: it parses it, runs the plugin's configuration, init and one read,
# and exits 1 with a line naming the option when one is wrong. Nothing is
# written outside a temporary folder, removed on exit.
#
#   check-conf.sh [-c COLLECTD] [-p PLUGINDIR] FILE
#
# -c: the collectd binary (/usr/sbin/collectd); -p: where tcpstates.so is,
# when not in collectd's own plugin folder. The Ansible role runs it as its
# template validation (FILE is the new file, not yet in place); Puppet's
# validate_cmd, Salt's check_cmd and Chef's verify can run it the same way.
set -eu

usage()
{
	echo "usage: check-conf.sh [-c COLLECTD] [-p PLUGINDIR] FILE" >&2
	exit 2
}

collectd=/usr/sbin/collectd
plugin_dir=
while getopts c:p: opt; do
	case $opt in
	c) collectd=$OPTARG ;;
	p) plugin_dir=$OPTARG ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 1 ] || usage
file=$1
case $file in
/*) ;;
*) file=$(pwd)/$file ;;
esac
# The paths go between double quotes in collectd's syntax.
case $file$plugin_dir in
*'"'* | *'\'*)
	echo "check-conf.sh: a path holds a quote or a backslash" >&2
	exit 2
	;;
esac
[ -f "$file" ] || {
	echo "check-conf.sh: $file is not a file" >&2
	exit 2
}

dir=$(mktemp -d "${TMPDIR:-/tmp}/tcpstates-check.XXXXXX")
trap 'rm -rf "$dir"' EXIT
{
	# A fixed name: the check must not depend on the host's name
	# resolving (collectd's FQDNLookup would fail it where it does not).
	printf 'Hostname "tcpstates-check"\nFQDNLookup false\n'
	printf 'BaseDir "%s"\n' "$dir"
	printf 'PIDFile "%s/collectd.pid"\n' "$dir"
	[ -z "$plugin_dir" ] || printf 'PluginDir "%s"\n' "$plugin_dir"
	printf 'Include "%s"\n' "$file"
} >"$dir/collectd.conf"
"$collectd" -T -C "$dir/collectd.conf"
