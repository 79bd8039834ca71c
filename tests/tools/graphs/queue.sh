# shellcheck shell=bash
# The queue scene of tests/tools/graphs.sh (sourced by it): "slow-server"
# listens on port 5003 with a backlog of 16 and never calls accept(); a
# client connects every second. The kernel queues backlog + 1 = 17
# connections, then the queue is full: the next client's SYN is dropped
# and it never connects. Then slow-server exits and its queue is gone.
port=5003
backlog=16
queued=$((backlog + 1))

connect_one()
{
	start_copy client-app clients "c.$TICK" \
		--connect "127.0.0.1:$port" --clients 1 --hold 120
	wait_ready "c.$TICK"
}

connect_one_more()
{
	TICK=$((TICK + 1)) connect_one
}

# listener: "Recv-Q Send-Q" of the LISTEN socket, as ss shows them.
listener()
{
	ss -tlnH "sport = :$port" | awk '{ print $2, $3 }'
}

scene_load()
{
	local rc=0
	queue_rrd=$(rrd tcpstates_listen_queue "queue_length-$port")
	backlog_rrd=$(rrd tcpstates_listen_backlog "queue_length-$port")
	full_rrd=$(rrd tcpstates_listen count-full_queues)
	gate server
	gate clients
	start_copy slow-server server server --queue 0 --backlog $backlog \
		--port $port --hold 120
	wait_ready server
	# One client before the graph starts: a port's values begin when
	# it gets busy, and an RRD keeps no value for its first update.
	TICK=1
	connect_one
	wait_rrd "$queue_rrd" 1 30
	START=$(date +%s)
	sleep 3 # a flat start

	every_second $((queued - 1)) connect_one_more
	[[ $(listener) == "$queued $backlog" ]] ||
		fail "ss shows Recv-Q Send-Q '$(listener)', not '$queued $backlog'"
	note "ss: LISTEN on :$port, Recv-Q $queued, Send-Q $backlog"
	wait_rrd "$queue_rrd" $queued 30
	wait_rrd "$full_rrd" 1 30
	sleep 2

	# One more client: its SYN is dropped, so sockmaker gives up on it
	# after 5 s.
	DROPPED=$(date +%s)
	start_copy client-app clients c.more --connect "127.0.0.1:$port" \
		--clients 1 --hold 120
	wait "$COPY_PID" || rc=$?
	[[ $rc -ne 0 ]] || fail "client $((queued + 1)) connected to a full queue"
	note "client $((queued + 1)): $(tail -n 1 "$work/c.more.err")"
	sleep 2

	stop_gate server
	EXITED=$(date +%s)
	wait_rrd "$full_rrd" 0 30
	sleep 4
	END=$(date +%s)
	stop_gate clients
}

scene_render()
{
	local peak full
	peak=$(rrd_stat "$queue_rrd" MAXIMUM "$START" MAX)
	[[ $peak -eq $queued ]] || fail "the RRD's peak queue is $peak, not $queued"
	full=$(rrd_stat "$full_rrd" MAXIMUM "$START" MAX)
	[[ $full -eq 1 ]] || fail "full_queues peaked at $full, not 1"
	full=$(rrd_stat "$full_rrd" MAXIMUM "$((EXITED + 2))")
	[[ $full -eq 0 ]] || fail "full_queues is $full after the listener exited"

	# The port's values come while it is busy, then once as zeros
	# (see leak.sh for SHIFT): no value is drawn as 0 for the queue.
	rrdtool graph "$out" --start "$START" --end "$END" \
		--width 720 --height 260 --lower-limit 0 --upper-limit 20 \
		--rigid --slope-mode \
		--title "Accept queue of port $port filling up: slow-server never calls accept()" \
		--vertical-label "connections" \
		--x-grid SECOND:5:SECOND:10:SECOND:10:0:%M:%S \
		--watermark "collectd tcpstates + rrdtool plugin, Interval 1" \
		"DEF:rawqueue=$queue_rrd:value:AVERAGE" \
		"DEF:backlog=$backlog_rrd:value:AVERAGE" \
		"DEF:full=$full_rrd:value:AVERAGE" \
		"SHIFT:rawqueue:1" "SHIFT:backlog:1" "SHIFT:full:1" \
		"CDEF:queue=rawqueue,UN,0,rawqueue,IF" \
		"TICK:full#FFB00050:1.0:a queue is full\: new connections are dropped (tcpstates_listen-host/count-full_queues is 1)\\l" \
		"AREA:queue#FF000040" \
		"LINE2:queue#D00000:waiting for accept() on port $port (tcpstates_listen_queue-host/queue_length-$port)\\l" \
		"LINE2:backlog#0000A0:the port's backlog (tcpstates_listen_backlog-host/queue_length-$port)\\l:dashes" \
		"VRULE:$DROPPED#800080:one more client\: its SYN is dropped, it never connects\\l" \
		"VRULE:$EXITED#008000:slow-server exits\\l" \
		"COMMENT:time axis\: minutes\:seconds ($(date +%Z)), one value a second\\l" \
		>/dev/null
	note "queue peaked at $peak (backlog $backlog), full_queues 1"
}
