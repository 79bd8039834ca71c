#!/usr/bin/env python3
"""Writes the seed scripts of fuzz-namespaces (tests/fuzz/seeds/namespaces/):
each a short story told in the target's operations, so the fuzzer starts
from scripts where namespaces come, go, move, clash and fail. The byte
format is described at the top of fuzz_namespaces.c; keep the two in
step."""
import os

HERE = os.path.dirname(os.path.abspath(__file__))

# Operations (op % 16) and their arguments.
READ, CREATE, KILL, UNPATH, ADD_PATH, RENAME, COUNTS = 0, 1, 2, 3, 4, 5, 6
ENTER_FAILS, DUMP_FAILS, DISCOVER_FAILS, STALE, LIE = 7, 8, 9, 10, 11
# Names (index in the target's names[]) and paths: pins 0-5, pids 6-11.
WEB, DB, WEB_5, A, WEB_6, NETNS_7, LONG, LONG_3 = range(8)
PIN, PID = 0, 6
RUNTIME = 0x80  # with a name: a container runtime's, not a pin's
NO_LEAKS = 0x20


def config(max_namespaces, every, leaks=True):
    return [(max_namespaces - 1) | (every - 1) << 3
            | (0 if leaks else NO_LEAKS)]


def create(ino_hint, name, path, established=3, close_wait=2, listen=1):
    """Namespaces take the first free slot, in order: 0, 1, 2 ..."""
    return [CREATE, ino_hint, name, path,
            established | close_wait << 4, listen]


def reads(n):
    return [READ] * n


def write(name, data):
    folder = os.path.join(HERE, "seeds", "namespaces")
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(bytes(data))


def main():
    # Three namespaces read every read; one dies, another takes its
    # slot (a new identity); counts change.
    write("lifecycle",
          config(8, 1) + create(0, WEB, PIN) + create(1, DB, PIN + 1, 5, 12)
          + create(2, A, PID, 0, 7, 3) + reads(2) + [KILL, 1] + reads(1)
          + create(3, DB, PIN + 1, 9, 4) + reads(1) + [COUNTS, 0, 0x5f, 2]
          + reads(2))
    # Pinned and run in: the pin goes (found through its process, the
    # same member), then the process (gone); a new one on the pin.
    write("pin-moves",
          config(8, 3) + create(0, WEB, PIN) + [ADD_PATH, 0, PID + 1]
          + reads(1) + [UNPATH, PIN] + reads(4) + [UNPATH, PID + 1]
          + reads(1) + create(0, WEB, PIN) + reads(4))
    # A pin deleted and made again between discoveries: another
    # namespace under the path the first was read through.
    write("taken-over",
          config(8, 4) + create(0, WEB, PIN) + create(1, DB, PID + 2)
          + reads(1) + create(2, WEB, PIN, 7, 1) + reads(5)
          + create(3, DB, PID + 2) + reads(5))
    # Names: "web" is read; one is called "web-5"; a newcomer "web" with
    # inode 5 must not become a second "web-5". Then renames.
    write("names",
          config(8, 1) + create(0, WEB, PIN) + create(1, WEB_5, PIN + 1)
          + reads(1) + create(4, WEB, PIN + 2) + reads(1)
          + create(5, LONG, PIN + 3) + create(2, LONG, PIN + 4)
          + create(6, LONG_3, PID) + reads(1) + [RENAME, 0, DB] + reads(1)
          + [KILL, 0] + create(0, NETNS_7, PID + 1) + reads(2))
    # More namespaces than MaxNamespaces 2: the rest left out, taking
    # the place of those that go.
    write("maximum",
          config(2, 1) + create(0, WEB, PIN) + create(1, DB, PIN + 1)
          + create(2, A, PIN + 2) + create(3, WEB_6, PID) + reads(2)
          + [KILL, 0, KILL, 2] + reads(2) + [KILL, 1] + reads(2))
    # Failures: entering refused, dumps failing, discovery failing, a
    # discovery answering from an older world, a list naming one twice.
    write("failures",
          config(4, 2) + create(0, WEB, PIN) + create(1, DB, PID)
          + reads(1) + [ENTER_FAILS, 0, DUMP_FAILS, 1] + reads(2)
          + [ENTER_FAILS, 0, DUMP_FAILS, 1, DISCOVER_FAILS, 3] + reads(4)
          + [STALE] + [KILL, 1] + create(2, A, PID) + reads(3) + [STALE]
          + reads(2) + [LIE] + reads(3) + [LIE, UNPATH, PIN] + reads(2))
    # Found under its pin's name before its runtime wrote its files:
    # it moves to the runtime's name once; a later rename, by the
    # runtime or a pin, is not followed.
    write("late-name",
          config(8, 2) + create(0, NETNS_7, PIN) + create(1, DB, PIN + 1)
          + reads(2) + [RENAME, 0, WEB | RUNTIME] + reads(3)
          + [RENAME, 0, A | RUNTIME, RENAME, 1, WEB_6] + reads(3)
          + [RENAME, 1, DB | RUNTIME] + reads(2))
    # Without the leak finder: states only.
    write("no-leaks",
          config(3, 1, leaks=False) + create(0, WEB, PIN)
          + create(1, DB, PIN + 1) + reads(2) + [KILL, 0] + reads(2))


if __name__ == "__main__":
    main()
