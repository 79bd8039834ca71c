#!/usr/bin/python3
"""Runs every query of a Grafana dashboard against its real backend, with
the dashboard's variables and time macros filled in as Grafana fills them.

usage: dashboard-queries.py DASHBOARD.json URL HOST NAMESPACE [EXPECT...]

DASHBOARD.json is one of packaging/grafana/tcpstates-*.json; its data
source type says how URL is asked:
  graphite    graphite-web: /metrics/find for the variables, POST /render
              (format=json, from=-10min) for the panels;
  influxdb    influxd's /query (database collectd) with InfluxQL;
  prometheus  /api/v1/label/<label>/values for the variables,
              /api/v1/query_range over the last 10 minutes for the panels.
First each variable's own query runs: the host picker must offer HOST,
the namespace picker (for HOST) NAMESPACE. Then each panel's targets run
with $host = HOST and $namespace = NAMESPACE; every target must return at
least one series with at least one value. EXPECT, "TITLE=NAME" or
"TITLE>=NUMBER", adds: the panel called TITLE shows a series whose legend
holds NAME, or a series whose newest value is at least NUMBER.
Prints one line per panel; exits 1 on the first panel that fails.
"""
import json
import re
import sys
import time
import urllib.parse
import urllib.request

RANGE_S = 600
INTERVAL = "2s"  # $__interval: range / max data points, floored at 2 s
LODASH_REGEX_SPECIALS = re.compile(r"([\\^$.*+?()[\]{}|])")


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def http(url, data=None):
    body = urllib.parse.urlencode(data).encode() if data else None
    try:
        with urllib.request.urlopen(url, body, timeout=30) as reply:
            return json.loads(reply.read().decode())
    except Exception as err:  # the URL and the reason, whatever failed
        fail("%s: %s" % (url, err))


# ---- Graphite -------------------------------------------------------------

def graphite_variable(url, query, regex):
    found = http(url + "/metrics/find?" + urllib.parse.urlencode(
        {"query": query}))
    names = [node["text"] for node in found]
    if regex:
        pattern = re.compile(regex.strip("/"))
        names = [m.group(1) for m in map(pattern.match, names) if m]
    return names


def graphite_hosts_send(url, hosts):
    """Every host the picker offers sends the plugin's values."""
    for host in hosts:
        if not graphite_variable(url, host + ".tcpstates-*", ""):
            fail("the host picker offers %s, which sends no tcpstates "
                 "values" % host)


def graphite_fill(text, values):
    for name, value in values.items():
        text = text.replace("$" + name, value)
    return text


def graphite_series(url, target):
    reply = http(url + "/render", {"target": target, "format": "json",
                                   "from": "-%ds" % RANGE_S,
                                   "until": "now", "maxDataPoints": "300"})
    return [(s["target"], [p[0] for p in s["datapoints"]
                           if p[0] is not None]) for s in reply]


# ---- InfluxDB -------------------------------------------------------------

def influx_fill(text, values):
    # Grafana escapes a variable's value inside a regex (lodash's set).
    for name, value in values.items():
        text = text.replace("$" + name + "$",
                            LODASH_REGEX_SPECIALS.sub(r"\\\1", value) + "$")
    now_ms = int(time.time() * 1000)
    text = text.replace("$timeFilter", "time >= %dms and time <= %dms" % (
        now_ms - RANGE_S * 1000, now_ms))
    return text.replace("$__interval", INTERVAL)


def influx_query(url, query):
    reply = http(url + "/query?" + urllib.parse.urlencode(
        {"db": "collectd", "q": query, "epoch": "ms"}))
    result = reply["results"][0]
    if "error" in result:
        fail("InfluxDB: %s: %s" % (query, result["error"]))
    return result.get("series", [])


def influx_variable(url, query, values):
    return [row[1] for s in influx_query(url, influx_fill(query, values))
            for row in s["values"]]


def influx_series(url, query, alias):
    out = []
    for s in influx_query(url, query):
        tags = s.get("tags", {})
        name = re.sub(r"\$tag_(\w+)", lambda m: tags.get(m.group(1), ""),
                      alias)
        out.append((name, [row[1] for row in s["values"]
                           if row[1] is not None]))
    return out


# ---- Prometheus -----------------------------------------------------------

def prom_fill(text, values):
    for name, value in values.items():
        text = text.replace("$" + name, value)
    return text


def prom_variable(url, query, values):
    m = re.fullmatch(r"label_values\((.*),\s*(\w+)\)", prom_fill(query,
                                                                 values))
    if not m:
        fail("unknown Prometheus variable query: " + query)
    now = time.time()
    reply = http("%s/api/v1/label/%s/values?%s" % (
        url, m.group(2), urllib.parse.urlencode(
            {"match[]": m.group(1), "start": now - RANGE_S, "end": now})))
    return reply["data"]


def prom_series(url, expr, legend):
    now = time.time()
    reply = http(url + "/api/v1/query_range?" + urllib.parse.urlencode(
        {"query": expr, "start": now - RANGE_S, "end": now,
         "step": INTERVAL}))
    out = []
    for s in reply["data"]["result"]:
        name = re.sub(r"\{\{\s*(\w+)\s*\}\}",
                      lambda m: s["metric"].get(m.group(1), ""), legend)
        out.append((name, [float(v[1]) for v in s["values"]]))
    return out


# ---- one dashboard --------------------------------------------------------

def variables(board, backend, url, host, namespace):
    values = {}
    wanted = {"host": host, "namespace": namespace}
    for var in board["templating"]["list"]:
        if var["type"] != "query":
            continue
        if backend == "graphite":
            offered = graphite_variable(
                url, graphite_fill(var["query"], values), var["regex"])
        elif backend == "influxdb":
            offered = influx_variable(url, var["query"], values)
        else:
            offered = prom_variable(url, var["query"], values)
        if backend == "graphite" and var["name"] == "host":
            graphite_hosts_send(url, offered)
        want = wanted[var["name"]]
        if want not in offered:
            fail("variable %s offers %s, not %s" % (var["name"], offered,
                                                    want))
        print("  variable %s: %s" % (var["name"], " ".join(offered)))
        values[var["name"]] = want
    if set(values) != set(wanted):
        fail("the dashboard's variables are %s" % sorted(values))
    return values


def run_target(backend, url, target, values):
    if backend == "graphite":
        return graphite_series(url, graphite_fill(target["target"], values))
    if backend == "influxdb":
        return influx_series(url, influx_fill(target["query"], values),
                             target["alias"])
    return prom_series(url, prom_fill(target["expr"], values),
                       target["legendFormat"])


def check_expect(title, series, expects):
    for exp in expects:
        m = re.fullmatch(r"(.+?)(>=|=)(.+)", exp)
        if not m or m.group(1) != title:
            continue
        if m.group(2) == "=":
            if not any(m.group(3) in name for name, _ in series):
                fail("%s: no series named %s in %s" % (
                    title, m.group(3), [n for n, _ in series]))
        elif not any(pts and pts[-1] >= float(m.group(3))
                     for _, pts in series):
            fail("%s: no series reaches %s: %s" % (
                title, m.group(3), [(n, p[-1:]) for n, p in series]))


def main(argv):
    if len(argv) < 5:
        fail(__doc__.split("\n\n")[1])
    path, url, host, namespace = argv[1:5]
    expects = argv[5:]
    with open(path) as f:
        board = json.load(f)
    backend = board["templating"]["list"][0]["query"]
    values = variables(board, backend, url, host, namespace)
    titles = set()
    for panel in board["panels"]:
        if panel["type"] == "row":
            continue
        titles.add(panel["title"])
        series = []
        for target in panel["targets"]:
            got = run_target(backend, url, target, values)
            if not any(pts for _, pts in got):
                fail("%s: target %s returns no values: %s" % (
                    panel["title"], target["refId"], json.dumps(target)))
            series += got
        check_expect(panel["title"], series, expects)
        print("  %s: %s" % (panel["title"], ", ".join(
            "%s=%g" % (name, pts[-1]) for name, pts in series if pts)))
    for exp in expects:
        if re.split(r">=|=", exp)[0] not in titles:
            fail("no panel for %s" % exp)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
