#!/usr/bin/python3
"""The Grafana dashboards of collectd-tcpstates, one per data source.

One list of panels below, each with its query for Graphite, InfluxDB 1.x
(InfluxQL) and Prometheus (collectd's write_prometheus); this script
writes tcpstates-graphite.json, tcpstates-influxdb.json and
tcpstates-prometheus.json beside itself. The JSON files are committed,
so that the packages ship them as they are; after a change here run

    python3 packaging/grafana/dashboards.py          (rewrite the JSON)
    python3 packaging/grafana/dashboards.py --check  (fail if they differ)

tests/test-dashboards.sh runs the check, then every query of every panel
against real backends fed by a real collectd.

Identifiers (see the README's metric tables): plugin `tcpstates` or
`tcpstates_<set>`, plugin instance the network namespace (`host` for the
daemon's own), type a stock types.db type, type instance the object. So
Graphite paths are <host>.<plugin>-<namespace>.<type>-<object>, InfluxDB
measurements <plugin>_<data source> with the tags host, instance,
type and type_instance, and Prometheus families
collectd_<plugin>_<type>[_<data source>] with the labels instance (host),
<plugin> (namespace) and type (object).
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

LONG_LIVED = ["ESTABLISHED", "LISTEN", "CLOSE_WAIT"]
TRANSIENT = ["SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2", "TIME_WAIT",
             "CLOSING", "LAST_ACK", "CLOSED", "UNKNOWN"]
# Process groups shown by name in the leak panels (TopProcesses' default).
TOP_GROUPS = 10


# ---- one query per backend -----------------------------------------------

def graphite(plugin, type_, objects, alias=None, suffix=""):
    """A render target: <host>.<plugin>-<namespace>.<type>-<object>.

    objects: a list of type instances, or "*" for all of them. The legend
    is the object (the type instance) and suffix, unless alias names the
    series.
    """
    if objects == "*":
        what = "*"
    elif len(objects) == 1:
        what = objects[0]
    else:
        what = "{" + ",".join(objects) + "}"
    path = "$host.%s-$namespace.%s-%s" % (plugin, type_, what)
    if alias:
        return "alias(%s, '%s')" % (path, alias)
    return by_object(path, type_, suffix)


def by_object(series, type_, suffix=""):
    """Graphite: each series named after its object (the type instance)."""
    return "aliasSub(%s, '^.*\\.%s-(.*)$', '\\1%s')" % (
        series, type_, suffix)


def graphite_top(plugin, type_):
    """The TOP_GROUPS groups with the highest values in the time range."""
    path = "$host.%s-$namespace.%s-*" % (plugin, type_)
    return by_object("highestMax(%s, %d)" % (path, TOP_GROUPS), type_)


INFLUX_DS = {"duration": "seconds"}


def influx(plugin, type_, objects):
    """InfluxQL as Grafana's raw query editor keeps it. The collectd
    listener names a measurement after the plugin and the data source
    (<plugin>_<ds>) and always calls the field "value"."""
    measurement = "%s_%s" % (plugin, INFLUX_DS.get(type_, "value"))
    where = ['"host" =~ /^$host$/', '"instance" =~ /^$namespace$/',
             "\"type\" = '%s'" % type_]
    if objects != "*":
        where.append('"type_instance" =~ /^(%s)$/' % "|".join(objects))
    where.append("$timeFilter")
    return ('SELECT max("value") FROM "%s" WHERE %s GROUP BY '
            'time($__interval), "type_instance" fill(null)' % (
                measurement, " AND ".join(where)))


PROM_DS = {"duration": "seconds"}


def prom(plugin, type_, objects):
    """PromQL: collectd_<plugin>_<type>[_<ds>]{instance, <plugin>, type}."""
    family = "collectd_%s_%s" % (plugin, type_)
    if type_ in PROM_DS:
        family += "_" + PROM_DS[type_]
    labels = ['instance=~"$host"', '%s=~"$namespace"' % plugin]
    if objects != "*":
        labels.append('type=~"%s"' % "|".join(objects))
    return "%s{%s}" % (family, ", ".join(labels))


def query(plugin, type_, objects, alias=None, suffix=""):
    """The same values for the three backends; the legend is alias, or
    each series' object followed by suffix."""
    return {
        "graphite": graphite(plugin, type_, objects, alias, suffix),
        "influxdb": influx(plugin, type_, objects),
        "prometheus": prom(plugin, type_, objects),
        "alias": alias,
        "suffix": suffix,
    }


def top_groups(type_):
    """The leak finder's groups in CLOSE_WAIT, the biggest first."""
    plugin = "tcpstates_proc_close_wait"
    return {
        "graphite": graphite_top(plugin, type_),
        "influxdb": influx(plugin, type_, "*"),
        "prometheus": "topk(%d, %s)" % (TOP_GROUPS, prom(plugin, type_, "*")),
        "alias": None,
        "suffix": "",
    }


# ---- the panels --------------------------------------------------------

ROWS = [
    ("Socket states", [
        ("Long-lived states", "short",
         "Sockets that stay: ESTABLISHED connections, LISTEN sockets and "
         "CLOSE_WAIT sockets, which only the program can end (a CLOSE_WAIT "
         "line that keeps rising is a leak: see the groups below).",
         [query("tcpstates", "tcp_connections", LONG_LIVED)]),
        ("Transient states", "short",
         "States a socket passes through: handshakes, closing, TIME_WAIT. "
         "A lasting SYN_RECV crowd is a SYN flood or a slow accept; "
         "UNKNOWN counts states this plugin does not know.",
         [query("tcpstates", "tcp_connections", TRANSIENT)]),
    ]),
    ("CLOSE_WAIT by process group (leak finder)", [
        ("CLOSE_WAIT sockets by process group", "short",
         "Sockets each program holds in CLOSE_WAIT: the peer closed, the "
         "program never called close(). -other sums the groups beyond "
         "TopProcesses, -unknown the sockets whose owner was not found.",
         [top_groups("tcp_connections")]),
        ("Oldest CLOSE_WAIT socket by process group", "s",
         "Seconds since the group's oldest CLOSE_WAIT socket entered the "
         "state. An age that only rises is a socket never closed.",
         [top_groups("duration")]),
        ("Unread bytes in CLOSE_WAIT by process group", "bytes",
         "Bytes the peers sent that the program never read before "
         "forgetting the socket.",
         [top_groups("bytes")]),
    ]),
    ("Ephemeral ports and TIME_WAIT", [
        ("Busiest destination against the usable port range", "short",
         "Sockets toward the busiest destination (local address, remote "
         "address and port), beside every socket on an ephemeral port "
         "and the usable range (ip_local_port_range minus reserved "
         "ports). When the busiest line reaches the range, connect() to "
         "that destination fails with EADDRNOTAVAIL.",
         [query("tcpstates_ephemeral", "count", ["busiest_destination"],
                "busiest destination"),
          query("tcpstates_ephemeral", "count", ["ports_in_use"],
                "ephemeral ports in use"),
          query("tcpstates_ephemeral", "count", ["ports_available"],
                "usable ports")]),
        ("Busiest destination, % of usable ports", "percent",
         "The busiest destination's share of the usable ephemeral ports, "
         "and how many destinations are at or above PortExhaustionWarning.",
         [query("tcpstates_ephemeral", "percent", ["busiest_destination"],
                "busiest destination %"),
          query("tcpstates_ephemeral", "count",
                ["destinations_over_warning"],
                "destinations over the warning")]),
        ("TIME_WAIT by side", "short",
         "client: we connected and closed first (holds an ephemeral port "
         "for 60 s); server: our listener's side closed first.",
         [query("tcpstates_timewait", "tcp_connections",
                ["client", "server"])]),
        ("TIME_WAIT, % of tcp_max_tw_buckets", "percent",
         "Past 100 % the kernel destroys TIME_WAIT sockets at once and "
         "logs 'time wait bucket table overflow'.",
         [query("tcpstates_timewait", "percent", ["of_max_tw_buckets"],
                "of tcp_max_tw_buckets")]),
    ]),
    ("Listeners and stuck senders", [
        ("Full accept queues", "short",
         "Listening ports whose accept queue is full: new connections "
         "are dropped until the program calls accept().",
         [query("tcpstates_listen", "count", ["full_queues"],
                "full accept queues")]),
        ("Accept queue against backlog, busy ports", "short",
         "Connections waiting for accept() on each busy listening port, "
         "and that port's backlog (its limit).",
         [query("tcpstates_listen_queue", "queue_length", "*",
                suffix=" queue"),
          query("tcpstates_listen_backlog", "queue_length", "*",
                suffix=" backlog")]),
        ("Stuck senders", "short",
         "ESTABLISHED sockets retransmitting more than "
         "RetransmitThreshold times (the peer is probably gone) and "
         "sockets probing a zero window (the peer stopped reading).",
         [query("tcpstates_stuck", "tcp_connections",
                ["retransmitting", "zero_window"])]),
        ("Unacknowledged bytes", "bytes",
         "Bytes sent and not yet acknowledged, over all sockets.",
         [query("tcpstates_stuck", "bytes", ["unacknowledged"],
                "unacknowledged")]),
    ]),
]

# ---- Grafana's JSON -------------------------------------------------------

DATASOURCES = {
    "graphite": "Graphite",
    "influxdb": "InfluxDB",
    "prometheus": "Prometheus",
}


def variables(backend):
    """The data source, host and namespace (plugin instance) pickers."""
    ds = {"type": backend, "uid": "${datasource}"}
    if backend == "graphite":
        host_q = "*"
        # carbon's own metrics sit beside the hosts' at the top.
        host_regex = "/^(?!carbon$)(.*)$/"
        ns_q = "$host.tcpstates-*"
        ns_regex = "/^tcpstates-(.*)$/"
    elif backend == "influxdb":
        host_q = 'SHOW TAG VALUES FROM "tcpstates_value" WITH KEY = "host"'
        host_regex = ""
        ns_q = ('SHOW TAG VALUES FROM "tcpstates_value" WITH KEY = '
                '"instance" WHERE "host" =~ /^$host$/')
        ns_regex = ""
    else:
        host_q = "label_values(collectd_tcpstates_tcp_connections, instance)"
        host_regex = ""
        ns_q = ('label_values(collectd_tcpstates_tcp_connections'
                '{instance=~"$host"}, tcpstates)')
        ns_regex = ""
    pickers = [{
        "name": "datasource",
        "label": "Data source",
        "type": "datasource",
        "query": backend,
        "current": {},
        "hide": 0,
        "refresh": 1,
        "options": [],
    }]
    for name, label, q, regex in (("host", "Host", host_q, host_regex),
                                  ("namespace", "Namespace", ns_q,
                                   ns_regex)):
        pickers.append({
            "name": name,
            "label": label,
            "type": "query",
            "datasource": ds,
            "query": q,
            "definition": q,
            "regex": regex,
            "refresh": 2,
            "sort": 1,
            "multi": False,
            "includeAll": False,
            "current": {},
            "hide": 0,
            "options": [],
        })
    return pickers


def target(backend, q, ref):
    """One query of a panel, as Grafana's editor for BACKEND stores it."""
    if backend == "graphite":
        return {"refId": ref, "target": q["graphite"]}
    if backend == "influxdb":
        return {"refId": ref, "query": q["influxdb"], "rawQuery": True,
                "resultFormat": "time_series",
                "alias": q["alias"] or "$tag_type_instance" + q["suffix"]}
    return {"refId": ref, "expr": q["prometheus"],
            "legendFormat": q["alias"] or "{{type}}" + q["suffix"],
            "range": True}


def panel(backend, pid, title, unit, description, queries, pos):
    ds = {"type": backend, "uid": "${datasource}"}
    return {
        "id": pid,
        "type": "timeseries",
        "title": title,
        "description": description,
        "datasource": ds,
        "gridPos": pos,
        "fieldConfig": {
            "defaults": {"unit": unit, "min": 0,
                         "custom": {"lineWidth": 1, "fillOpacity": 0,
                                    "spanNulls": True}},
            "overrides": [],
        },
        "options": {"legend": {"displayMode": "table",
                               "placement": "bottom",
                               "calcs": ["lastNotNull", "max"]},
                    "tooltip": {"mode": "multi", "sort": "desc"}},
        "targets": [target(backend, q, chr(ord("A") + i))
                    for i, q in enumerate(queries)],
    }


def dashboard(backend):
    panels = []
    pid = 1
    y = 0
    for row_title, row_panels in ROWS:
        panels.append({"id": pid, "type": "row", "title": row_title,
                       "collapsed": False, "panels": [],
                       "gridPos": {"x": 0, "y": y, "w": 24, "h": 1}})
        pid += 1
        y += 1
        for i, (title, unit, description, queries) in enumerate(row_panels):
            pos = {"x": 12 * (i % 2), "y": y + 8 * (i // 2), "w": 12,
                   "h": 8}
            panels.append(panel(backend, pid, title, unit, description,
                                queries, pos))
            pid += 1
        y += 8 * ((len(row_panels) + 1) // 2)
    return {
        "title": "TCP states, leaks and port pressure (collectd-tcpstates, %s)"
                 % DATASOURCES[backend],
        "uid": "tcpstates-" + backend,
        "description": "collectd-tcpstates values through the %s data "
                       "source; pick the host and the network namespace "
                       "(host is the daemon's own)." % DATASOURCES[backend],
        "tags": ["collectd", "tcpstates", "tcp"],
        "editable": True,
        "graphTooltip": 1,
        "refresh": "30s",
        "schemaVersion": 37,
        "version": 1,
        "time": {"from": "now-3h", "to": "now"},
        "timepicker": {},
        "timezone": "",
        "annotations": {"list": []},
        "links": [],
        "templating": {"list": variables(backend)},
        "panels": panels,
    }


def render(backend):
    return json.dumps(dashboard(backend), indent=2, sort_keys=True) + "\n"


def main(argv):
    check = argv[1:] == ["--check"]
    if argv[1:] and not check:
        sys.stderr.write("usage: %s [--check]\n" % argv[0])
        return 2
    stale = []
    for backend in DATASOURCES:
        path = os.path.join(HERE, "tcpstates-%s.json" % backend)
        text = render(backend)
        if check:
            try:
                with open(path) as f:
                    same = f.read() == text
            except OSError:
                same = False
            if not same:
                stale.append(path)
        else:
            with open(path, "w") as f:
                f.write(text)
    if stale:
        sys.stderr.write("out of date, run %s: %s\n" % (
            argv[0], " ".join(stale)))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
