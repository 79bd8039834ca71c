# shellcheck shell=bash
# The ports scene of tests/tools/graphs.sh (sourced by it): the
# namespace has 200 ephemeral ports. "client-app" keeps 20 connections
# to 127.0.0.1:5002 all along and opens 10 more a second to
# 127.0.0.1:5001 until every port is taken toward that one destination:
# one more connect() there fails with EADDRNOTAVAIL while one to :5002
# still works (a local port is only unique per destination). Then the
# clients close and the count falls. The listeners never accept; their
# queues (up to somaxconn, 4096) hold the server ends.
port_low=40000
port_high=40199
range=$((port_high - port_low + 1))
SCENE_SYSCTLS=("net.ipv4.ip_local_port_range=$port_low $port_high")
port_a=5001
port_b=5002
steady_count=20
step=10
steps=$((range / step))

connect_more()
{
	start_copy client-app clients "a.$TICK" \
		--connect "127.0.0.1:$port_a" --clients "$step" --hold 120
}

# toward PORT: client sockets from an ephemeral port to 127.0.0.1:PORT.
toward()
{
	ss -tanH dst "127.0.0.1:$1" | awk -v lo=$port_low -v hi=$port_high \
		'{ n = split($4, a, ":"); if (a[n] >= lo && a[n] <= hi) c++ }
		END { print c + 0 }'
}

scene_load()
{
	local rc=0 n
	busiest_rrd=$(rrd tcpstates_ephemeral count-busiest_destination)
	percent_rrd=$(rrd tcpstates_ephemeral percent-busiest_destination)
	available_rrd=$(rrd tcpstates_ephemeral count-ports_available)
	in_use_rrd=$(rrd tcpstates_ephemeral count-ports_in_use)
	gate servers
	gate clients
	start_copy web-server servers server.a --queue 0 --port $port_a \
		--hold 120
	wait_ready server.a
	start_copy web-server servers server.b --queue 0 --port $port_b \
		--hold 120
	wait_ready server.b
	start_copy client-app clients b --connect "127.0.0.1:$port_b" \
		--clients $steady_count --hold 120
	wait_ready b
	wait_rrd "$busiest_rrd" $steady_count 30
	START=$(date +%s)
	sleep 3 # a flat start

	every_second "$steps" connect_more
	for i in $(seq "$steps"); do
		wait_ready "a.$i"
	done
	n=$(toward $port_a)
	[[ $n -eq $range ]] || fail "ss shows $n sockets toward :$port_a, not $range"
	note "ss: $n connections toward 127.0.0.1:$port_a, $(toward $port_b) toward :$port_b"
	wait_rrd "$busiest_rrd" "$range" 30
	sleep 2

	# One more toward A: no port left for it.
	REFUSED=$(date +%s)
	start_copy client-app clients a.more --connect "127.0.0.1:$port_a" \
		--clients 1 --hold 120
	wait "$COPY_PID" || rc=$?
	[[ $rc -ne 0 ]] || fail "connection $((range + 1)) toward :$port_a worked"
	grep -q "Cannot assign requested address" "$work/a.more.err" ||
		{ cat "$work/a.more.err" >&2; fail "no EADDRNOTAVAIL"; }
	note "connection $((range + 1)) toward :$port_a: $(tail -n 1 "$work/a.more.err")"
	# Toward B, the same ports still serve.
	start_copy client-app clients b.more --connect "127.0.0.1:$port_b" \
		--clients 1 --hold 120
	wait_ready b.more
	sleep 4

	stop_gate clients
	RELEASED=$(date +%s)
	wait_rrd "$busiest_rrd" 0 30
	sleep 4
	END=$(date +%s)
}

scene_render()
{
	local peak percent available
	peak=$(rrd_stat "$busiest_rrd" MAXIMUM "$START" MAX)
	[[ $peak -eq $range ]] || fail "the RRD's peak is $peak, not $range"
	percent=$(rrd_stat "$percent_rrd" MAXIMUM "$START" MAX)
	[[ $percent -eq 100 ]] || fail "the peak share is $percent%, not 100%"
	for stat in MINIMUM MAXIMUM; do
		available=$(rrd_stat "$available_rrd" "$stat" "$START")
		[[ $available -eq $range ]] ||
			fail "ports_available is $available, not $range"
	done

	# Each reading drawn from its own second on (see leak.sh). The
	# right axis is the share of the usable ports: 100 % = $range.
	rrdtool graph "$out" --start "$START" --end "$END" \
		--width 720 --height 260 --lower-limit 0 --upper-limit 240 \
		--rigid --slope-mode \
		--title "Local ports toward one destination used up" \
		--vertical-label "sockets" \
		--right-axis "$(awk -v r=$range 'BEGIN { print 100 / r }'):0" \
		--right-axis-label "percent of the usable ports" \
		--x-grid SECOND:5:SECOND:10:SECOND:10:0:%M:%S \
		--watermark "collectd tcpstates + rrdtool plugin, Interval 1" \
		"DEF:busiest=$busiest_rrd:value:AVERAGE" \
		"DEF:percent=$percent_rrd:value:AVERAGE" \
		"DEF:available=$available_rrd:value:AVERAGE" \
		"DEF:in_use=$in_use_rrd:value:AVERAGE" \
		"SHIFT:busiest:1" "SHIFT:percent:1" "SHIFT:available:1" \
		"SHIFT:in_use:1" \
		"VDEF:pmax=percent,MAXIMUM" \
		"AREA:busiest#FF000040" \
		"LINE2:busiest#D00000:toward the busiest destination, \:$port_b at first, then \:$port_a (tcpstates_ephemeral-host/count-busiest_destination)\\l" \
		"GPRINT:pmax:    its share of the usable ports at the peak\: %.0lf %% (percent-busiest_destination)\\l" \
		"LINE2:available#000000:usable ports, the most one destination can have (count-ports_available)\\l:dashes" \
		"LINE1:in_use#0000A0:all sockets on ephemeral ports, $steady_count of them toward \:$port_b (count-ports_in_use)\\l" \
		"HRULE:$((range * 80 / 100))#FF8000:PortExhaustionWarning 80 %\: the WARNING notification\\l" \
		"VRULE:$REFUSED#800080:connect() to \:$port_a fails (EADDRNOTAVAIL); to \:$port_b it still works\\l" \
		"VRULE:$RELEASED#008000:the clients close their connections\\l" \
		"COMMENT:time axis\: minutes\:seconds ($(date +%Z)), one value a second\\l" \
		>/dev/null
	note "peak $peak sockets toward :$port_a = $percent% of $range ports"
}
