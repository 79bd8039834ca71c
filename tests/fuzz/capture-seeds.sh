#!/bin/bash
# Rewrites tests/fuzz/seeds/diag from a real kernel (root): a private
# network namespace with sockets in LISTEN, ESTABLISHED, CLOSE_WAIT,
# FIN_WAIT2 and TIME_WAIT on loopback, dumped by capture-dump.py.
set -euo pipefail
cd "$(dirname "$0")"

ns=tcpsfuzz$$
ip netns add "$ns"
trap 'ip netns delete "$ns"' EXIT
ip netns exec "$ns" ip link set lo up
ip netns exec "$ns" python3 - <<'PY'
import os, socket, subprocess, sys
def listener(family, addr, port):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.bind((addr, port)); s.listen(16); return s
keep = []
for family, addr in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
    srv = listener(family, addr, 8080)
    keep.append(srv)
    for kind in ("established", "close_wait", "time_wait"):
        c = socket.create_connection((addr, 8080))
        a, _ = srv.accept()
        if kind == "close_wait":
            c.close()              # a: CLOSE_WAIT, c: FIN_WAIT2
        elif kind == "time_wait":
            c.close(); a.close()   # c: TIME_WAIT
        keep += [c, a]
import time; time.sleep(0.2)
subprocess.run([sys.executable, "capture-dump.py", "seeds/diag"], check=True)
PY
