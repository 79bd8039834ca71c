#!/usr/bin/env python3
"""Writes the seeds of fuzz-leaks: scripts of many reads in a changing world,
in the format fuzz_leaks.c documents at its top (seven header bytes, then
four-byte operations). Usage: make-leaks-seeds.py DIR."""
import os
import sys

READ, SPAWN, FORK, EXIT, RENAME, UID, FILES, SOCKET = 0, 6, 7, 8, 9, 10, 11, 12
STATE, HAND_ON, CLOSE, DROP, TWICE, HIDDEN, SWAP, OTHER_FD = range(13, 21)
ABORT, BURST = 21, 22

CLOSE_WAIT = 0  # state picks (fuzz_leaks.c state_of): 0-3 CLOSE_WAIT
ESTABLISHED, SYN_SENT, SYN_RECV, FIN_WAIT1, FIN_WAIT2, TIME_WAIT = range(4, 10)
CLOSE, LAST_ACK, LISTEN, CLOSING = range(10, 14)
ALL_STATES = [ESTABLISHED, SYN_SENT, SYN_RECV, FIN_WAIT1, FIN_WAIT2,
              TIME_WAIT, CLOSE, CLOSE_WAIT, LAST_ACK, LISTEN, CLOSING]
UNIQUE, SHARED = 4, 0  # name picks: +k for the k-th shared name
FD_OK, FD_GONE, FD_FILE, COMM_TOGGLE, STAT_OK, STAT_GONE, STAT_BAD = range(7)
FRESH = -1  # a cookie no live socket has
PIDS = 80  # pid slots; a socket holder of 80-99 is out of sight
OUT_OF_SIGHT = 80


def header(states=0x8000, top=10, tracked=31, threshold=0, age=0,
           budget=0):
    """states: bit n-1 for kernel state n; 0x8000 alone: CLOSE_WAIT."""
    return bytes([states & 0xff, states >> 8, top, tracked - 1, threshold,
                  age, 0 if budget == 0 else 128 + budget - 1])


class Script:
    def __init__(self, **config):
        self.out = bytearray(header(**config))

    def op(self, code, a=0, b=0, c=0):
        self.out += bytes([code, a & 0xff, b & 0xff, c & 0xff])
        return self

    def reads(self, n, seconds=10):
        for _ in range(n):
            self.op(READ, seconds)
        return self

    def socket(self, holder, inode, cookie=FRESH, state=CLOSE_WAIT,
               rqueue=1):
        """cookie: FRESH, or 0-3 (0: none) to share one on purpose."""
        pick = 0 if cookie == FRESH else 12 + cookie
        return self.op(SOCKET, holder, (inode - 1) | rqueue << 6,
                       pick | state << 4)


def handoff_exit():
    """A pre-fork server: workers inherit the parent's sockets, the parent
    exits, each generation hands them on to the next and exits."""
    s = Script(top=3, threshold=4, age=60)
    s.op(SPAWN, 0, UNIQUE, 1)
    for i in range(8):
        s.socket(0, i + 1)
    s.reads(3)
    for gen in range(4):
        parent = gen * 3 % 16
        kids = [(parent + 1) % 16, (parent + 2) % 16, (parent + 3) % 16]
        for k in kids:
            s.op(FORK, parent, k)
        s.reads(2)
        s.op(EXIT, parent)
        s.op(RENAME, kids[0], UNIQUE)
        s.reads(4)
        for k in kids[1:]:
            s.op(EXIT, k)
        s.reads(3)
    return s


def handoff_wide():
    """34 owners hand their socket to a new process each and exit: one
    resolve meets 68 processes, more than a table sized by sockets (64 at
    first) holds."""
    s = Script(top=3, threshold=5)
    for i in range(34):
        s.op(SPAWN, i, SHARED + i % 3)
        s.socket(i, i + 1)
    s.reads(2)
    for i in range(34):
        s.op(SPAWN, 40 + i, SHARED + 3)
        s.op(HAND_ON, i, 40 + i, 0)
        s.op(EXIT, i)
    s.reads(3)
    return s


def handoff_keep():
    """Holders pass their sockets on, close their copy and live on: the
    cache must let go within TCPS_OWNERS_VERIFY_EVERY reads."""
    s = Script(top=5, age=30)
    s.op(SPAWN, 0, UNIQUE).op(SPAWN, 1, UNIQUE).op(SPAWN, 2, SHARED + 1)
    for i in range(6):
        s.socket(0, i + 1)
    s.reads(2)
    for i in range(6):
        s.op(HAND_ON, i, 1 if i % 2 else 2, 0)
    s.reads(40, seconds=1)
    for i in range(3):
        s.op(HAND_ON, i, 0, 1)
    s.reads(40, seconds=2)
    return s


def pid_reuse():
    """Owners exit and their pids come back as other programs; stat and
    comm files vanish or go bad."""
    s = Script(top=2, threshold=2, age=20)
    for p in range(4):
        s.op(SPAWN, p, UNIQUE, p)
        s.socket(p, 2 * p + 1)
        s.socket(p, 2 * p + 2)
    s.reads(3)
    s.op(EXIT, 0, 1).op(SPAWN, 0, SHARED + 2)
    s.op(FILES, 1, STAT_BAD).op(FILES, 2, COMM_TOGGLE)
    s.reads(3)
    s.op(EXIT, 1, 0).op(SPAWN, 1, UNIQUE | 0x80)
    s.socket(1, 3)
    s.op(FILES, 1, STAT_GONE).op(FILES, 2, COMM_TOGGLE)
    s.reads(5)
    s.op(FILES, 1, STAT_OK).op(RENAME, 3, UNIQUE)
    s.reads(5)
    return s


def inode_reuse():
    """Sockets close and new ones, in other processes, get their inode
    numbers (and cookies) back before the next read."""
    s = Script(top=4)
    s.op(SPAWN, 0, UNIQUE).op(SPAWN, 1, UNIQUE).op(SPAWN, 2, UNIQUE)
    for i in range(4):
        s.socket(0, i + 1, cookie=i)  # 0: no cookie at all
    s.reads(2)
    for i in range(4):
        s.op(DROP, i, 1)
        s.socket(1 + i % 2, i + 1)  # the inode again, a fresh cookie
    s.reads(3)
    s.op(DROP, 0, 0).socket(OUT_OF_SIGHT, 1, cookie=1)  # both again
    s.op(CLOSE, 1, 0, 1).socket(2, 1, cookie=2)
    s.reads(4)
    return s


def bursts():
    """A burst past the candidate array's floor, then quiet reads: the
    tables must fall back. Failed dumps in between."""
    s = Script(states=0x0080 | 0x0100, tracked=8, top=1)
    s.op(SPAWN, 0, UNIQUE).op(SPAWN, 1, UNIQUE)
    for i in range(5):
        s.socket(i % 2, i + 1, state=CLOSE_WAIT if i % 2 else LAST_ACK)
    s.reads(2)
    s.op(BURST, 200, CLOSE_WAIT, 0)
    s.reads(3)
    s.op(BURST, 10, LAST_ACK, 1)
    s.op(ABORT).reads(1).op(ABORT)
    s.reads(4)
    s.op(BURST, 255, CLOSE_WAIT, 0)
    s.reads(4)
    return s


def alarms():
    """Groups cross the count and age limits and fall back; TopProcesses 1
    sends the rest to -other."""
    s = Script(top=1, threshold=3, age=45)
    s.op(SPAWN, 0, UNIQUE).op(SPAWN, 1, UNIQUE).op(SPAWN, 2, UNIQUE)
    for i in range(4):
        s.socket(0, i + 1)
        s.reads(1, seconds=5)
    for i in range(3):
        s.socket(1, i + 5)
    s.reads(6, seconds=10)
    s.op(DROP, 0).op(DROP, 1)
    s.reads(2)
    s.op(EXIT, 1, 1)
    s.reads(3, seconds=30)
    s.op(DROP, 2).op(DROP, 3)
    s.reads(3)
    return s


def alarm_table():
    """Ten states tracked, TopProcesses 1: a named group, -other and
    -unknown leak in all ten; then the named group falls to
    -other (renamed) and another takes its place: its WARNINGs must
    all come at once, while the ones of the group gone are still out."""
    s = Script(states=0x7ff, top=1, age=10, tracked=32)
    for p in range(4):
        s.op(SPAWN, p, SHARED + p // 2)
    inode = 1
    for k, state in enumerate(ALL_STATES[:10]):
        for holder in (k % 2, 2 + k % 2, OUT_OF_SIGHT):
            s.socket(holder, inode, state=state)
            inode += 1
    s.reads(1, 0).reads(1, 20)
    s.op(RENAME, 0, SHARED + 2).op(RENAME, 1, SHARED + 2)
    s.reads(3)
    return s


def budget():
    """A scan budget of a few steps, many processes, fd folders that go
    away or are not folders, sockets held out of sight, uids that change."""
    s = Script(top=3, budget=3)
    for p in range(12):
        s.op(SPAWN, p, UNIQUE if p % 3 else SHARED + p % 4, p)
        s.socket(p, p + 1)
    s.reads(6)
    s.op(FILES, 2, FD_GONE).op(FILES, 3, FD_FILE).op(UID, 4, 2)
    s.op(HIDDEN, 5).op(OTHER_FD, 6, 0, 1)
    s.reads(6)
    s.op(FILES, 2, FD_OK).op(FILES, 3, FD_OK).op(HIDDEN, 5)
    s.reads(8)
    return s


def states():
    """Several tracked states, sockets moving between them, listed twice,
    reordered in the dump."""
    s = Script(states=0x01ff, top=3, threshold=2, age=15)
    s.op(SPAWN, 0, UNIQUE).op(SPAWN, 1, SHARED).op(FORK, 1, 2)
    s.socket(0, 1, state=ESTABLISHED).socket(1, 2, state=FIN_WAIT1)
    s.socket(2, 3).socket(0, 4, state=LAST_ACK)
    s.socket(1, 5, cookie=0, state=CLOSING)
    s.reads(3)
    s.op(STATE, 0, CLOSE_WAIT).op(TWICE, 2).op(SWAP, 0, 3)
    s.reads(3)
    s.op(STATE, 1, LISTEN).op(TWICE, 2).op(STATE, 3, CLOSE_WAIT)
    s.reads(5, seconds=7)
    return s


SEEDS = [handoff_exit, handoff_wide, handoff_keep, pid_reuse, inode_reuse, bursts,
         alarms, alarm_table, budget, states]


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for seed in SEEDS:
        name = seed.__name__.replace("_", "-")
        with open(os.path.join(out, name), "wb") as f:
            f.write(seed().out)


if __name__ == "__main__":
    main()
