# shellcheck shell=bash
# The leak scene of tests/tools/graphs.sh (sourced by it): a program
# called "leaky-app" gains CLOSE_WAIT sockets every second for
# LEAK_SECONDS (24), LEAK_STEP (8) a second; then it is "fixed" (every
# copy exits) and its count falls to 0, while "steady-app" keeps a few
# CLOSE_WAIT sockets all along.
leak_seconds=${LEAK_SECONDS:-24}
leak_step=${LEAK_STEP:-8}
[[ $leak_seconds -ge 5 && $leak_seconds -le 60 && $leak_step -ge 1 &&
	$leak_step -le 100 ]] || fail "LEAK_SECONDS 5..60, LEAK_STEP 1..100"
app=leaky-app
steady="steady-app"
steady_count=12

# One more copy of leaky-app, holding LEAK_STEP CLOSE_WAIT sockets.
leak_more()
{
	start_copy "$app" app "app.$TICK" --close-wait "$leak_step" --hold 120
	app_pids+=("$COPY_PID")
}

# What ss shows leaky-app holding: CLOSE_WAIT inodes among its fds (not
# ss -p, which reads every process's fds and is slow on a busy host).
held_by_app()
{
	local inodes
	inodes=$(ss -tanHe state close-wait |
		grep -o 'ino:[0-9]*' | cut -d: -f2 | sort -u)
	for pid in "${app_pids[@]}"; do
		find "/proc/$pid/fd" -mindepth 1 -printf '%l\n'
	done | sed -n 's/^socket:\[\([0-9]*\)\]$/\1/p' | sort -u |
		comm -12 - <(echo "$inodes") | wc -l
}

scene_load()
{
	app_rrd=$(rrd tcpstates_proc_close_wait "tcp_connections-$app")
	total_rrd=$(rrd tcpstates tcp_connections-CLOSE_WAIT)
	# A well-behaved neighbour: a few CLOSE_WAIT sockets all along, so
	# the host's total and the leaking process's own line differ.
	gate steady
	start_copy "$steady" steady steady --close-wait "$steady_count" \
		--hold 120
	wait_ready steady
	START=$(date +%s)
	sleep 3 # a flat start

	gate app
	app_pids=()
	every_second "$leak_seconds" leak_more
	for i in $(seq "$leak_seconds"); do
		wait_ready "app.$i"
	done
	held=$(held_by_app)
	[[ $held -eq $((leak_seconds * leak_step)) ]] ||
		fail "$app holds $held CLOSE_WAIT sockets, not $((leak_seconds * leak_step))"
	note "$app holds $held CLOSE_WAIT sockets in ${#app_pids[@]} processes"
	wait_rrd "$app_rrd" "$held" 30
	sleep 3

	# The fix: every copy sees EOF and exits (within about a second);
	# the kernel closes their sockets. The graph marks the moment all
	# are gone.
	stop_gate app
	for pid in "${app_pids[@]}"; do
		wait "$pid" || fail "$app $pid exited with $?"
	done
	FIXED=$(date +%s)
	wait_rrd "$total_rrd" "$steady_count" 30
	sleep 5
	END=$(date +%s)
}

scene_render()
{
	local peak after stat
	[[ -f $app_rrd ]] || { ls -R "$work/rrd" >&2; fail "no $app_rrd"; }
	# The peak the RRD saw must be what ss saw; after the fix, zero.
	peak=$(rrd_stat "$app_rrd" MAXIMUM "$START" MAX)
	[[ $peak -eq $held ]] || fail "the RRD's peak is $peak, ss saw $held"
	# The group's last value is a 0 (its gone-zero), then nothing.
	after=$(rrd_stat "$app_rrd" MINIMUM "$((FIXED - 2))")
	[[ $after == 0 ]] || fail "$app's CLOSE_WAIT after the fix is $after, not 0"
	after=$(rrd_stat "$app_rrd" MAXIMUM "$((FIXED + 2))")
	[[ $after == 0 || $after == nan ]] ||
		fail "$app's CLOSE_WAIT after the fix is $after, not 0"
	for stat in MINIMUM MAXIMUM; do
		after=$(rrd_stat "$total_rrd" "$stat" "$((FIXED + 2))")
		[[ $after == "$steady_count" ]] ||
			fail "CLOSE_WAIT after the fix is $after, not $steady_count"
	done

	# The process's RRD gets one 0 after its last copy exits, then no
	# values (the group is gone): draw those as 0. The host's total has
	# no gaps. An RRD spreads a value stamped t over the second before
	# t; SHIFT draws each reading from its own second on, so the fall
	# follows the fix.
	rrdtool graph "$out" --start "$START" --end "$END" \
		--width 720 --height 260 --lower-limit 0 --slope-mode \
		--title "CLOSE_WAIT leak in $app: growing, then fixed" \
		--vertical-label "sockets in CLOSE_WAIT" \
		--x-grid SECOND:5:SECOND:10:SECOND:10:0:%M:%S \
		--watermark "collectd tcpstates + rrdtool plugin, Interval 1" \
		"DEF:raw=$app_rrd:value:AVERAGE" \
		"DEF:total=$total_rrd:value:AVERAGE" \
		"SHIFT:raw:1" "SHIFT:total:1" \
		"CDEF:app=raw,UN,0,raw,IF" \
		"VDEF:appmax=app,MAXIMUM" \
		"AREA:app#FF000040" \
		"LINE2:app#D00000:process $app (tcpstates_proc_close_wait-host/tcp_connections-$app)" \
		"GPRINT:appmax:peak %.0lf\\l" \
		"LINE1:total#0000A0:all CLOSE_WAIT sockets of the host (tcpstates-host/tcp_connections-CLOSE_WAIT)\\l" \
		"VRULE:$FIXED#008000:fixed\: every $app process has exited\\l" \
		"COMMENT:time axis\: minutes\:seconds ($(date +%Z)), one value a second\\l" \
		>/dev/null
	note "peak $peak CLOSE_WAIT sockets, 0 after the fix at" \
		"$(date -d @"$FIXED" +%T)"
}
