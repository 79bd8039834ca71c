#!/usr/bin/env python3
"""Writes the seeds of fuzz-config: real <Plugin tcpstates> blocks encoded
the way fuzz_config.c decodes its input. Usage: make-config-seeds.py DIR.
Keys and strings are looked up in the tables of fuzz_config.c."""
import os
import re
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = open(os.path.join(HERE, "fuzz_config.c")).read()


def table(name):
    body = re.search(r"%s\[\] = \{(.*?)\};" % name, SOURCE, re.S).group(1)
    return re.findall(r'"((?:[^"\\]|\\.)*)"', body)


KEYS, STRINGS = table("keys"), table("strings")


def value(v):
    if isinstance(v, bool):
        return bytes([2, int(v)])
    if isinstance(v, (int, float)):
        return bytes([1, 2]) + struct.pack("<d", float(v))
    if v in STRINGS:
        return bytes([0, STRINGS.index(v)])
    raw = v.encode()
    return bytes([0, 0xc0, len(raw)]) + raw


def item(key, values=(), children=(), depth=1):
    out = bytes([KEYS.index(key)])
    out += bytes([len(values)] if len(values) < 8 else [0x80 | (len(values) - 60)])
    out += b"".join(value(v) for v in values)
    if depth < 3:
        out += bytes([len(children)])
        out += b"".join(item(*c, depth=depth + 1) for c in children)
    return out


def config(*items):
    return b"\0" + b"".join(item(*i) for i in items)


SEEDS = {
    "empty": config(),
    "defaults": config(("IPv4", [True]), ("IPv6", [True]),
                       ("ProcessStates", ["CLOSE_WAIT"]),
                       ("TopProcesses", [10]), ("GroupBy", ["comm"]),
                       ("LeakThreshold", [100]), ("LeakAge", [600]),
                       ("MaxTrackedSockets", [65536]),
                       ("ProcessScanBudget", [250]),
                       ("PortExhaustionWarning", [80]),
                       ("MaxDestinations", [16384]), ("TopListeners", [10]),
                       ("RetransmitThreshold", [3])),
    "ports": config(("LocalPort", [22, "80", 443]), ("RemotePort", [5432]),
                    ("ListeningPorts", ["true"]),
                    ("AllPortsSummary", [True])),
    "many-ports": config(("LocalPort", list(range(1, 65)))),
    "states": config(("ProcessStates", ["CLOSE_WAIT", "ESTABLISHED"]),
                     ("ProcessStates", ["TIME_WAIT"]),
                     ("GroupBy", ["unit"])),
    "cgroup": config(("ProcessStates", ["CLOSE_WAIT", "LAST_ACK"]),
                     ("GroupBy", ["cgroup"]), ("TopProcesses", [3])),
    "leaks-off": config(("ProcessStates", ["none"]), ("IPv6", ["off"])),
    "namespaces": config(("Namespace", ["blue"],
                          [("Path", ["/var/run/netns/blue"])]),
                         ("Namespace", ["red"],
                          [("Path", ["/proc/self/ns/net"])]),
                         ("GroupBy", ["exe"])),
    "bad": config(("IPv4", [False]), ("IPv6", [False]),
                  ("Namespace", ["bad name"], [("Path", ["relative/ns"])]),
                  ("TopProcesses", [1001]), ("LocalPort", [65536])),
}

for name, data in SEEDS.items():
    with open(os.path.join(sys.argv[1], name), "wb") as f:
        f.write(data)
