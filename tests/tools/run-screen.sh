#!/bin/bash
# The screen `make run` prints once per interval: what a running collectd
# holds of our values, read through its unixsock plugin with collectdctl,
# in a dozen lines per network namespace. The names of our values (see
# the README's metrics) are known here and nowhere else in `make run`.
#
# Usage:
#   run-screen.sh show SOCKET HOST INTERVAL [LOG]
#       one screen: a header with the time, every namespace's values
#       read from the daemon at SOCKET, the last notifications and
#       plugin messages of LOG (collectd's logfile)
#   run-screen.sh pick      identifiers (`collectdctl listval`) on stdin;
#                           those the screen shows on stdout
#   run-screen.sh render    "identifier value" lines on stdin; the
#                           namespaces' sections on stdout
#   run-screen.sh log FILE  the last notifications and plugin messages
#
# Identifiers are host/plugin-namespace/type-object: the plugin says what
# is measured (tcpstates, tcpstates_proc_close_wait, ...), the plugin
# instance is the network namespace (`host` for the daemon's own), the
# type instance is the one object counted (a state, a group, a side).
set -euo pipefail

# The awk program of pick and render: mawk (a minimal Debian's awk) runs
# it, so no gawk extensions.
read -r -d '' SCREEN_AWK <<'AWK' || true
# split_id(id): sets NS, PLUGIN, TYPE, OBJECT from host/plugin-ns/type-obj.
# Plugin and type names hold no "-"; namespaces and objects may.
function split_id(id,    n, part, i)
{
	n = split(id, part, "/")
	if (n < 3)
		return 0
	i = index(part[n - 1], "-")
	PLUGIN = i ? substr(part[n - 1], 1, i - 1) : part[n - 1]
	NS = i ? substr(part[n - 1], i + 1) : ""
	i = index(part[n], "-")
	TYPE = i ? substr(part[n], 1, i - 1) : part[n]
	OBJECT = i ? substr(part[n], i + 1) : ""
	return PLUGIN ~ /^tcpstates/
}

# The value sets the screen shows; per-port counts are left out.
function wanted(plugin)
{
	return plugin ~ /^tcpstates_proc_[a-z0-9_]+$/ ||
		plugin ~ /^tcpstates(_ephemeral|_timewait|_listen|_listen_queue|_listen_backlog|_stuck|_sysctl)?$/
}

function count(x)
{
	return (x == "" || x ~ /nan/) ? "-" : sprintf("%.0f", x)
}

function age(s)
{
	if (s == "" || s ~ /nan/)
		return "-"
	s = int(s + 0.5)
	if (s < 60)
		return s "s"
	if (s < 3600)
		return sprintf("%dm%02ds", s / 60, s % 60)
	if (s < 86400)
		return sprintf("%dh%02dm", s / 3600, (s % 3600) / 60)
	return sprintf("%dd%02dh", s / 86400, (s % 86400) / 3600)
}

function size(b)
{
	if (b == "" || b ~ /nan/)
		return "-"
	if (b < 1024)
		return sprintf("%.0f B", b)
	if (b < 1048576)
		return sprintf("%.1f KiB", b / 1024)
	if (b < 1073741824)
		return sprintf("%.1f MiB", b / 1048576)
	return sprintf("%.1f GiB", b / 1073741824)
}

function percent(p)
{
	if (p == "" || p ~ /nan/)
		return "-"
	if (p > 0 && p < 0.1)
		return "<0.1%"
	return sprintf("%.1f%%", p)
}

function has(key)
{
	return (key in V) && V[key] !~ /nan/
}

# The 12 state counts on one line: those not zero first, in the kernel's
# order, then how many are zero.
function states_line(ns,    i, line, zero, key)
{
	line = ""
	zero = 0
	for (i = 1; i <= NSTATES; i++) {
		key = ns SUBSEP "tcpstates" SUBSEP "tcp_connections" SUBSEP STATE[i]
		if (!has(key))
			continue
		if (V[key] + 0 == 0)
			zero++
		else
			line = line sprintf("  %s %s", STATE[i], count(V[key]))
	}
	if (line == "" && zero == 0)
		return
	if (line == "")
		line = sprintf("  no sockets (all %d states 0)", zero)
	else if (zero > 0)
		line = line sprintf("  (%d others 0)", zero)
	printf "  states    %s\n", substr(line, 3)
}

# The groups holding sockets in one tracked state, most sockets first:
# the top 5 by name, then the rest summed, then those of no known owner.
function groups_lines(ns, plugin,    state, n, i, j, g, name, total, shown,
		rest, key, k, tmp)
{
	state = toupper(substr(plugin, length("tcpstates_proc_") + 1))
	n = 0
	total = 0
	for (key in V) {
		split(key, k, SUBSEP)
		if (k[1] != ns || k[2] != plugin || k[3] != "tcp_connections")
			continue
		if (V[key] + 0 <= 0)
			continue
		total += V[key]
		if (k[4] == "-other" || k[4] == "-unknown")
			continue
		g[++n] = k[4]
	}
	for (i = 2; i <= n; i++) {
		tmp = g[i]
		for (j = i - 1; j >= 1 && before(ns, plugin, tmp, g[j]); j--)
			g[j + 1] = g[j]
		g[j + 1] = tmp
	}
	if (total == 0) {
		printf "  %-9s no process holds one\n", state
		return
	}
	printf "  %-30s %7s %8s %10s\n", state " by group", "sockets",
		"oldest", "unread"
	shown = n < 5 ? n : 5
	for (i = 1; i <= shown; i++)
		group_line(ns, plugin, g[i], g[i])
	rest = 0
	for (i = shown + 1; i <= n; i++)
		rest += V[ns, plugin, "tcp_connections", g[i]]
	if (rest > 0)
		printf "    %-28s %7s\n", "(" n - shown " more group" \
			(n - shown > 1 ? "s)" : ")"), count(rest)
	group_line(ns, plugin, "-other", "(beyond TopProcesses)")
	group_line(ns, plugin, "-unknown", "(owner not found)")
}

function before(ns, plugin, a, b,    x, y)
{
	x = V[ns, plugin, "tcp_connections", a] + 0
	y = V[ns, plugin, "tcp_connections", b] + 0
	return x > y || (x == y && a < b)
}

function group_line(ns, plugin, group, label,    n)
{
	n = V[ns, plugin, "tcp_connections", group]
	if (n + 0 <= 0)
		return
	printf "    %-28s %7s %8s %10s\n", substr(label, 1, 28), count(n),
		age(V[ns, plugin, "duration", group]),
		size(V[ns, plugin, "bytes", group])
}

function ports_line(ns,    p, s, line)
{
	p = ns SUBSEP "tcpstates_ephemeral" SUBSEP "count" SUBSEP
	if (!has(p "busiest_destination"))
		return
	line = sprintf("busiest destination %s of %s usable (%s); %s in use",
		count(V[p "busiest_destination"]),
		count(V[p "ports_available"]),
		percent(V[ns, "tcpstates_ephemeral", "percent",
			"busiest_destination"]), count(V[p "ports_in_use"]))
	if (V[p "destinations_over_warning"] + 0 > 0)
		line = line sprintf("; %s destinations over the warning",
			count(V[p "destinations_over_warning"]))
	s = ns SUBSEP "tcpstates_sysctl" SUBSEP "gauge" SUBSEP
	if (has(s "ip_local_port_range_low"))
		line = line sprintf("; range %s-%s",
			count(V[s "ip_local_port_range_low"]),
			count(V[s "ip_local_port_range_high"]))
	printf "  ports     %s\n", line
}

function timewait_line(ns,    p)
{
	p = ns SUBSEP "tcpstates_timewait" SUBSEP
	if (!has(p "tcp_connections" SUBSEP "client"))
		return
	printf "  TIME_WAIT %s client, %s server (%s of tcp_max_tw_buckets)\n",
		count(V[p "tcp_connections" SUBSEP "client"]),
		count(V[p "tcp_connections" SUBSEP "server"]),
		percent(V[p "percent" SUBSEP "of_max_tw_buckets"])
}

# Full accept queues, and which ports: a port's queue at its backlog.
function listen_line(ns,    p, line, key, k, backlog)
{
	p = ns SUBSEP "tcpstates_listen" SUBSEP "count" SUBSEP
	if (!has(p "full_queues"))
		return
	line = sprintf("%s full of %s listening ports",
		count(V[p "full_queues"]), count(V[p "listening_ports"]))
	for (key in V) {
		split(key, k, SUBSEP)
		if (k[1] != ns || k[2] != "tcpstates_listen_queue")
			continue
		backlog = V[ns, "tcpstates_listen_backlog", "queue_length", k[4]]
		if (backlog != "" && V[key] + 0 > 0 && V[key] + 0 >= backlog + 0)
			line = line sprintf("; port %s %s waiting, backlog %s",
				k[4], count(V[key]), count(backlog))
	}
	printf "  queues    %s\n", line
}

function stuck_line(ns,    p)
{
	p = ns SUBSEP "tcpstates_stuck" SUBSEP
	if (!has(p "tcp_connections" SUBSEP "retransmitting"))
		return
	printf "  stuck     %s retransmitting, %s zero window, %s unacknowledged\n",
		count(V[p "tcp_connections" SUBSEP "retransmitting"]),
		count(V[p "tcp_connections" SUBSEP "zero_window"]),
		size(V[p "bytes" SUBSEP "unacknowledged"])
}

function namespace_screen(ns,    i)
{
	printf "[%s]\n", ns
	states_line(ns)
	for (i = 1; i <= NPROC; i++)
		if ((ns SUBSEP PROC[i]) in PROC_IN)
			groups_lines(ns, PROC[i])
	ports_line(ns)
	timewait_line(ns)
	listen_line(ns)
	stuck_line(ns)
}

BEGIN {
	NSTATES = split("ESTABLISHED SYN_SENT SYN_RECV FIN_WAIT1 FIN_WAIT2 " \
		"TIME_WAIT CLOSED CLOSE_WAIT LAST_ACK LISTEN CLOSING UNKNOWN",
		STATE, " ")
}

MODE == "pick" {
	if (split_id($1) && wanted(PLUGIN))
		print $1
	next
}

# render: "identifier value"
split_id($1) && wanted(PLUGIN) && NF >= 2 {
	V[NS, PLUGIN, TYPE, OBJECT] = $2
	if (!(NS in SEEN)) {
		SEEN[NS] = 1
		NSES[++NNS] = NS
	}
	if (PLUGIN ~ /^tcpstates_proc_/ && !((NS SUBSEP PLUGIN) in PROC_IN)) {
		PROC_IN[NS, PLUGIN] = 1
		if (!(PLUGIN in PROC_SEEN)) {
			PROC_SEEN[PLUGIN] = 1
			PROC[++NPROC] = PLUGIN
		}
	}
}

# The daemon's own namespace first, the others by name.
END {
	if (MODE == "pick")
		exit
	for (i = 2; i <= NNS; i++) {
		tmp = NSES[i]
		for (j = i - 1; j >= 1 && (tmp == "host" ||
			(NSES[j] != "host" && tmp < NSES[j])); j--)
			NSES[j + 1] = NSES[j]
		NSES[j + 1] = tmp
	}
	for (i = 2; i <= NPROC; i++) {
		tmp = PROC[i]
		for (j = i - 1; j >= 1 && tmp < PROC[j]; j--)
			PROC[j + 1] = PROC[j]
		PROC[j + 1] = tmp
	}
	for (i = 1; i <= NNS; i++)
		namespace_screen(NSES[i])
	if (NNS == 0)
		print "  no tcpstates values yet"
}
AWK

# fetch SOCKET: "identifier value" for every value the screen shows.
fetch()
{
	local id value
	collectdctl -s "$1" listval | awk -v MODE=pick "$SCREEN_AWK" |
		while read -r id; do
			# A value can leave the cache between listval and
			# getval: then it is left out.
			value=$(collectdctl -s "$1" getval "$id" 2>/dev/null |
				sed -n '1s/^[^=]*=//p') || continue
			[[ -z $value ]] || printf '%s %s\n' "$id" "$value"
		done
}

# log_tail FILE: the last three notifications and messages of the plugin.
log_tail()
{
	[[ -r $1 ]] || return 0
	grep -E 'Notification: |tcpstates plugin: ' "$1" | tail -n 3 |
		sed -E 's/^\[[^]]*\] //
			s/^Notification: severity = ([A-Z]+),.*, message = /\1: /
			s/^/  log       /' || true
}

show()
{
	local socket=$1 host=$2 interval=$3 log=${4:-}
	if [[ -t 1 ]]; then
		printf '\033[H\033[2J'
	else
		echo
	fi
	printf '%s  tcpstates on %s, every %s s\n' "$(date '+%F %T')" \
		"$host" "$interval"
	fetch "$socket" | awk -v MODE=render "$SCREEN_AWK"
	[[ -z $log ]] || log_tail "$log"
}

case "${1:-}" in
show)
	[[ $# -ge 4 ]] || exec "$0"
	shift
	show "$@"
	;;
pick | render) awk -v MODE="$1" "$SCREEN_AWK" ;;
log)
	[[ $# -eq 2 ]] || exec "$0"
	log_tail "$2"
	;;
*)
	sed -n '/^# Usage:/,/^#$/s/^# \{0,1\}//p' "$0" >&2
	exit 2
	;;
esac
