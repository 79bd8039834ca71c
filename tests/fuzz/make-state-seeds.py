#!/usr/bin/env python3
"""Writes the hand-made seed scripts of the stateful fuzz targets
(tests/fuzz/seeds/{ephemeral,listeners,glue}/): each a short story told
in the target's operations, so the fuzzer starts from scripts that reach
the WARNING/OKAY cycles, the bursts and the failures. The byte formats
are described at the top of fuzz_ephemeral.c, fuzz_listeners.c and
fuzz_glue.c; keep the three in step."""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def write(target, name, data):
    folder = os.path.join(HERE, "seeds", target)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(bytes(data))


# ---- ephemeral: byte 0 = warning level | MaxDestinations << 3 | 0x40 if
# the listening ports are known; then op % 16 and its arguments.
E_ADD, E_STATE, E_REMOVE, E_MOVE, E_RANGE, E_RESERVE, E_UNRESERVE = range(7)
E_SYSCTLS_GONE, E_SYSCTLS, E_LISTEN, E_BURST, E_REVERSE, E_ABORT = range(7, 13)
E_READ = 13
ESTABLISHED, TIME_WAIT, FIN_WAIT2 = 0, 1, 3  # indexes into states[]
V4, V4_JUNK, MAPPED, V6, MIXED = range(5)


def e_config(level, max_dest, listening=True):
    return [level | max_dest << 3 | (0x40 if listening else 0)]


def e_add(form, state, where, port, copies):
    return [E_ADD, form | state << 3, where, port, copies - 1]


def e_burst(n, reads, seed=0):
    if n <= 127:
        return [E_BURST, n * 2, 0, reads - 1, seed]
    shift = 1
    while n >> shift > 255:
        shift += 1
    return [E_BURST, n >> shift, shift + 4, reads - 1, seed]


def ephemeral():
    # 80 %, MaxDestinations 8: sockets toward two destinations appear,
    # turn to TIME_WAIT on a listening port, and go.
    write("ephemeral", "lifecycle",
          e_config(0, 3) + e_add(V4, ESTABLISHED, 0, 0, 4) + [E_READ]
          + e_add(MAPPED, ESTABLISHED, 0, 8, 2) + e_add(V6, TIME_WAIT, 5, 1, 3)
          + [E_LISTEN, 1, E_READ, E_STATE, 0, TIME_WAIT, E_STATE, 1,
             TIME_WAIT, E_READ, E_REMOVE, 0, E_REMOVE, 1, E_READ])
    # Range 32768-32775 (8 ports, warning at 7): one destination fills
    # it, drains, fills again; a port outside the range never counts.
    write("ephemeral", "warn-okay-warn",
          e_config(0, 3) + [E_RANGE, 7] + e_add(V4, ESTABLISHED, 0, 0, 8)
          + [E_READ, E_REMOVE, 0, E_REMOVE, 1, E_READ]
          + e_add(V4, ESTABLISHED, 0, 0, 2) + [E_READ, E_MOVE, 2, 3,
                                                E_READ, E_READ])
    # Reserved ports inside the range, sysctls unreadable for a while, a
    # failed read between two good ones, v4-mapped and junk-tailed IPv4.
    write("ephemeral", "sysctls",
          e_config(2, 4) + [E_RANGE, 7, E_RESERVE, 0, 2]
          + e_add(V4_JUNK, ESTABLISHED, 0, 0, 5) + e_add(MAPPED, ESTABLISHED,
                                                          0, 24, 2)
          + [E_READ, E_SYSCTLS_GONE, E_READ, E_ABORT, 3, E_SYSCTLS_GONE,
             E_UNRESERVE, E_READ, E_SYSCTLS, 0x1f, E_RANGE, 0x80, 0xe8, 0x03,
             0xe8, 0x03, E_READ])
    # MaxDestinations 1500: a burst of 2000 destinations for two reads
    # grows the table, then quiet reads (it must shrink back).
    write("ephemeral", "burst",
          e_config(0, 7) + e_add(V4, ESTABLISHED, 0, 0, 3) + [E_READ]
          + e_burst(2000, 2) + [E_READ, E_READ, E_READ, E_READ, E_READ])
    # One ephemeral port (warning at 1): a burst of 1100 destinations, each
    # over the level: 1024 WARNINGs are remembered, the rest counted.
    write("ephemeral", "burst-warnings",
          e_config(1, 6) + [E_RANGE, 2] + e_burst(1100, 1, 1)
          + [E_READ, E_READ, E_REVERSE] + e_burst(1100, 2, 1)
          + [E_READ, E_READ, E_READ])


# ---- listeners: byte 0 = TopListeners choice; then op % 12 and arguments.
L_LISTEN, L_QUEUE, L_CLOSE, L_SYN, L_SYN_DONE, L_NOISE = range(6)
L_BURST, L_REVERSE, L_ABORT = range(6, 9)
L_READ = 9


def l_listen(port, queue, backlog, copies=1):
    return [L_LISTEN, port, queue, backlog, copies - 1]


def listeners():
    # TopListeners 2: three busy ports, one pushed out, one filling up
    # and draining, one closing while full.
    write("listeners", "fill-drain",
          [3] + l_listen(1, 1, 4) + l_listen(2, 2, 4) + l_listen(3, 3, 4)
          + [L_READ, L_QUEUE, 2, 5, L_READ, L_QUEUE, 2, 0, L_READ,
             L_CLOSE, 1, L_READ, L_READ])
    # Half-open handshakes keep an idle listener busy; SYN_RECV without
    # a listener is not a listener.
    write("listeners", "syn-recv",
          [2] + l_listen(4, 0, 4) + [L_SYN, 4, 3, L_SYN, 9, 1, L_READ,
                                     L_SYN_DONE, 0, L_READ, L_NOISE, 4, 1,
                                     L_READ, L_READ])
    # A burst of 500 ports, a quarter full, for two reads, then gone:
    # 125 WARNINGs, 125 OKAYs, the listed ports sent once more and dropped.
    write("listeners", "burst",
          [4] + l_listen(5, 6, 4) + [L_READ, L_BURST, 0x7d, 0x07, 1, 3,
                                     L_READ, L_READ, L_READ, L_ABORT, 2,
                                     L_READ, L_READ])


# ---- glue: byte 0 = namespaces (0-3) and options; then op % 16 and
# arguments.
G_READ_ALL, G_READ_ONE, G_TICK, G_GONE, G_BACK, G_REPLACE = range(6)
G_ENTER_FAILS, G_LEAVE_FAILS, G_DUMP, G_SOCKETS, G_SYSCTLS = range(6, 11)
DUMP_FIRST_FAILS, DUMP_MALFORMED, DUMP_RECV_FAILS, DUMP_DONE_ERROR = 1, 3, 4, 5


def glue():
    # Two namespaces: blue vanishes for a minute and comes back; its
    # reads in between log one WARNING and are retried.
    write("glue", "vanish-return",
          [2, G_READ_ALL, G_TICK, 3, G_GONE, 1] + [G_READ_ALL, G_TICK, 2] * 6
          + [G_BACK, 1, G_READ_ALL, G_TICK, 3, G_READ_ALL])
    # The default namespace's dump fails twice per read for a while
    # (one ERROR, ever more rarely), then a retry succeeds.
    write("glue", "dump-failing",
          [0, G_DUMP, 0, DUMP_RECV_FAILS] + [G_READ_ONE, 0, G_TICK, 1] * 20
          + [G_DUMP, 0, DUMP_FIRST_FAILS, G_READ_ONE, 0, G_DUMP, 0,
             DUMP_DONE_ERROR | 0x10, G_READ_ONE, 0, G_DUMP, 0, DUMP_MALFORMED,
             G_READ_ONE, 0])
    # A namespace replaced by another, one that cannot be entered, one
    # whose thread cannot switch back.
    write("glue", "replace-enter-leave",
          [3 | 4, G_READ_ALL, G_REPLACE, 2, G_SOCKETS, 2, 7, 3, G_READ_ALL,
           G_ENTER_FAILS, 3, G_READ_ALL, G_TICK, 4, G_READ_ALL,
           G_ENTER_FAILS, 3, G_READ_ALL, G_LEAVE_FAILS, 1, G_READ_ALL,
           G_SYSCTLS, G_READ_ALL, G_SYSCTLS, G_READ_ALL, G_DUMP, 1,
           DUMP_RECV_FAILS, G_GONE, 0, G_READ_ALL, G_TICK, 4, G_READ_ALL,
           G_BACK, 0, G_READ_ALL, G_DUMP, 1, 0, G_READ_ALL])


if __name__ == "__main__":
    ephemeral()
    listeners()
    glue()
