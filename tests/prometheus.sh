# A real Prometheus for the end-to-end tests: started in the foreground
# with a private config and storage under a test folder, listening on a
# loopback port the kernel picked, queried through its HTTP API, stopped
# by PID. Source it after lib.sh. Everything runs in the network
# namespace PROM_NETNS ("" for this one), where the scraped targets
# listen too.
#
#   prom_addrconfig             lets write_prometheus listen in a
#                               loopback-only PROM_NETNS
#   prom_free_port              a free loopback TCP port
#   prom_start DIR TARGET...    Prometheus scraping TARGET (host:port)
#                               every second (job "collectd"); sets
#                               PROM_PID and PROM_URL. PROM_RULES: rule
#                               files it evaluates every second;
#                               PROM_HONOR_LABELS=true: the scraped
#                               instance label is kept (else it becomes
#                               exported_instance)
#   prom_query EXPR             an instant query: one line per series,
#                               "VALUE name="value" ..." (labels sorted,
#                               __name__ included)
#   prom_wait SECONDS EXPR      until EXPR has at least one series
#   prom_stop                   SIGTERM; fails unless it exits with 0
#
# Needs prometheus, curl and python3 (tools/deps.sh prometheus).

PROM_NETNS=${PROM_NETNS:-}
PROM_USED_PORTS=" "

# prom_in_ns CMD...: CMD inside PROM_NETNS.
prom_in_ns()
{
	if [[ -n $PROM_NETNS ]]; then
		ip netns exec "$PROM_NETNS" "$@"
	else
		"$@"
	fi
}

# prom_addrconfig: write_prometheus looks its Host up with AI_ADDRCONFIG,
# which finds nothing, not even 127.0.0.1, in a namespace whose only IPv4
# address is on loopback ("Opening a listening socket ... failed"). An
# address on a veth pair inside PROM_NETNS (left down: nothing is sent
# through it) makes the lookup answer; it goes with the namespace.
prom_addrconfig()
{
	[[ -n $PROM_NETNS ]] || fail "prom_addrconfig: no PROM_NETNS"
	prom_in_ns ip link add tcps-prom0 type veth peer name tcps-prom1 &&
		prom_in_ns ip addr add 192.0.2.1/32 dev tcps-prom0 ||
		fail "cannot give namespace $PROM_NETNS an IPv4 address"
}

# prom_free_port: a loopback TCP port the kernel gave as free (bound to
# port 0), none given twice.
prom_free_port()
{
	local port
	for _ in 1 2 3 4 5; do
		port=$(prom_in_ns /usr/bin/python3 -c '
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])')
		[[ $PROM_USED_PORTS == *" $port "* ]] && continue
		PROM_USED_PORTS+="$port "
		echo "$port"
		return 0
	done
	fail "no free TCP port"
}

# prom_start DIR TARGET...: writes DIR/prometheus.yml, starts Prometheus
# with its data in DIR/data and its log in DIR/prometheus.log, and waits
# (bounded) until it says it is ready.
prom_start()
{
	local dir=$1 port target targets=""
	local -a in_ns=()
	shift
	local rule rules=""
	for target in "$@"; do
		targets+="'$target', "
	done
	for rule in ${PROM_RULES:-}; do
		rules+="'$rule', "
	done
	port=$(prom_free_port)
	cat >"$dir/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files: [${rules%, }]
scrape_configs:
  - job_name: collectd
    honor_labels: ${PROM_HONOR_LABELS:-false}
    static_configs:
      - targets: [${targets%, }]
YML
	# Not through prom_in_ns: PROM_PID must be Prometheus itself, not a
	# subshell running a function.
	[[ -z $PROM_NETNS ]] || in_ns=(ip netns exec "$PROM_NETNS")
	"${in_ns[@]}" prometheus --config.file="$dir/prometheus.yml" \
		--storage.tsdb.path="$dir/data" \
		--web.listen-address="127.0.0.1:$port" \
		>"$dir/prometheus.log" 2>&1 &
	PROM_PID=$!
	track_pid "$PROM_PID"
	PROM_URL=http://127.0.0.1:$port
	PROM_DIR=$dir
	for _ in $(seq 300); do
		prom_in_ns curl -sf "$PROM_URL/-/ready" >/dev/null && return 0
		kill -0 "$PROM_PID" 2>/dev/null || break
		sleep 0.1
	done
	tail -n 40 "$dir/prometheus.log" >&2
	fail "prometheus did not get ready on $PROM_URL"
}

# prom_query EXPR: the series of an instant query, one line each:
# the value, then every label as name="value", names sorted. Fails if
# Prometheus answers with an error.
prom_query()
{
	prom_in_ns curl -sfG --max-time 10 --data-urlencode "query=$1" \
		"$PROM_URL/api/v1/query" | /usr/bin/python3 -c '
import json, sys
answer = json.load(sys.stdin)
if answer.get("status") != "success":
    sys.exit("prometheus: " + str(answer.get("error")))
for series in answer["data"]["result"]:
    labels = series["metric"]
    print(series["value"][1], " ".join(
        "%s=\"%s\"" % (k, labels[k]) for k in sorted(labels)))
' || fail "query failed: $1"
}

# prom_wait SECONDS EXPR: until EXPR gives at least one series; returns 1
# if it still gives none after SECONDS.
prom_wait()
{
	local deadline=$((SECONDS + $1))
	until [[ -n $(prom_query "$2") ]]; do
		((SECONDS < deadline)) || return 1
		sleep 0.5
	done
}

# prom_stop: SIGTERM; Prometheus must exit with 0 within 30 s.
prom_stop()
{
	local rc=0
	kill "$PROM_PID"
	for _ in $(seq 300); do
		kill -0 "$PROM_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$PROM_PID" 2>/dev/null; then
		kill -KILL "$PROM_PID"
		fail "prometheus did not exit within 30 s of SIGTERM"
	fi
	wait "$PROM_PID" || rc=$?
	if [[ $rc -ne 0 ]]; then
		tail -n 40 "$PROM_DIR/prometheus.log" >&2
		fail "prometheus exited with $rc on SIGTERM"
	fi
}
