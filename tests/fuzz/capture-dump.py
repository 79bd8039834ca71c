#!/usr/bin/env python3
"""Writes the seeds of fuzz-diag: real sock_diag dumps of the namespace it
runs in (run it through capture-seeds.sh, which makes a private one with
sockets in several states) and a few hand-built streams the kernel sends
rarely. Replies are to seq 4242 and port id 777, as fuzz_diag.c expects.
Seed layout: a byte n, n little-endian u16 cut offsets (where one recv()
ended), then the stream."""
import os
import socket
import struct
import sys

SEQ, PORTID = 4242, 777
NETLINK_SOCK_DIAG = 4
TCPDIAG_GETSOCK, SOCK_DIAG_BY_FAMILY = 18, 20
NLM_F_REQUEST, NLM_F_MULTI, NLM_F_DUMP = 1, 2, 0x300
NLM_F_DUMP_INTR = 0x10
NLMSG_ERROR, NLMSG_DONE, NLMSG_OVERRUN = 2, 3, 4
ALL_STATES = 0xFFF
# The header of an INET_DIAG_CGROUP_ID attribute (12 bytes, type 21).
CGROUP_ID_ATTR = struct.pack("=HH", 12, 21)


def request(legacy, family):
    if legacy:
        body = struct.pack("=BBBB48sII", family, 0, 0, 0, b"", ALL_STATES, 0)
        kind = TCPDIAG_GETSOCK
    else:
        body = struct.pack("=BBBBI48s", family, socket.IPPROTO_TCP, 0, 0,
                           ALL_STATES, b"")
        kind = SOCK_DIAG_BY_FAMILY
    head = struct.pack("=IHHII", 16 + len(body), kind,
                       NLM_F_REQUEST | NLM_F_DUMP, SEQ, 0)
    return head + body


def ends_dump(chunk):
    offset = 0
    while offset + 16 <= len(chunk):
        length, kind = struct.unpack_from("=IH", chunk, offset)
        if kind in (NLMSG_DONE, NLMSG_ERROR) or length < 16:
            return True
        offset += (length + 3) & ~3
    return False


def dump(legacy, family, rcvbuf):
    """The reply, and where each recv() ended."""
    nl = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_SOCK_DIAG)
    nl.bind((PORTID, 0))
    nl.send(request(legacy, family))
    stream, cuts = b"", []
    while True:
        chunk = nl.recv(rcvbuf)
        stream += chunk
        cuts.append(len(stream))
        if not chunk or ends_dump(chunk):
            break
    nl.close()
    return stream, cuts[:-1]


def seed(stream, cuts=()):
    cuts = list(cuts)[:3]
    return bytes([len(cuts)]) + b"".join(struct.pack("<H", c & 0xFFFF)
                                         for c in cuts) + stream


def msg(kind, payload, flags=NLM_F_MULTI, seq=SEQ, pid=PORTID):
    head = struct.pack("=IHHII", 16 + len(payload), kind, flags, seq, pid)
    pad = b"\0" * (-len(payload) % 4)
    return head + payload + pad


def sock_msg(family, state, sport, dport, inode, uid=0, timer=0, retrans=0):
    src = socket.inet_pton(family, "127.0.0.1" if family == socket.AF_INET
                           else "::1").ljust(16, b"\0")
    ident = struct.pack("!HH", sport, dport) + src + src + \
        struct.pack("=III", 1, 0x1234, 0)
    body = struct.pack("=BBBB", family, state, timer, retrans) + ident + \
        struct.pack("=IIIII", 1500, 0, 10, uid, inode)
    return msg(SOCK_DIAG_BY_FAMILY, body)


def done(error=0):
    return msg(NLMSG_DONE, struct.pack("=i", error))


def built():
    v4, v6 = socket.AF_INET, socket.AF_INET6
    socks = sock_msg(v4, 8, 8080, 40000, 12345, 1000) + \
        sock_msg(v6, 10, 443, 0, 1) + sock_msg(v4, 6, 40001, 80, 0) + \
        sock_msg(v4, 200, 1, 2, 4294967295, timer=1, retrans=9)
    return {
        "built-states": seed(socks + done()),
        "built-split": seed(socks + done(), [len(socks) // 2, len(socks)]),
        "built-done-error": seed(socks + done(-16)),
        "built-nlmsg-error": seed(msg(NLMSG_ERROR, struct.pack("=i", -1)
                                      + b"\0" * 16)),
        "built-intr": seed(msg(SOCK_DIAG_BY_FAMILY, b"\x02\x01",
                               NLM_F_MULTI | NLM_F_DUMP_INTR) + done()),
        "built-overrun": seed(msg(NLMSG_OVERRUN, b"")),
        "built-foreign-seq": seed(sock_msg(v4, 1, 1, 2, 3)[:8] +
                                  struct.pack("=II", 1, PORTID) +
                                  sock_msg(v4, 1, 1, 2, 3)[16:] + done()),
        "built-short": seed(msg(SOCK_DIAG_BY_FAMILY, b"\x02\x01\x00") +
                            done()[:10]),
        "built-empty-done": seed(msg(NLMSG_DONE, b"")),
    }


def with_cgroup_ids(data, ids):
    """data with each INET_DIAG_CGROUP_ID attribute's id replaced, in
    turn, by one of ids."""
    out, at, n = bytearray(data), 0, 0
    while True:
        at = out.find(CGROUP_ID_ATTR, at)
        if at < 0:
            return bytes(out)
        out[at + 4:at + 12] = struct.pack("<Q", ids[n % len(ids)])
        n, at = n + 1, at + 12


def main():
    out = sys.argv[1]
    seeds = built()
    for name, legacy, family in (("both", True, socket.AF_INET),
                                 ("ipv4", False, socket.AF_INET),
                                 ("ipv6", False, socket.AF_INET6)):
        stream, cuts = dump(legacy, family, 32768)
        seeds["real-" + name] = seed(stream, cuts)
    # Small reads: the same dump cut where recv() would truncate it.
    stream, _ = dump(True, socket.AF_INET, 32768)
    seeds["real-cut"] = seed(stream, [len(stream) // 3, len(stream) // 2])
    # The same with the leak finder grouping by cgroup (bit 7 of the
    # first byte), and with the ids of fuzz_diag.c's scripted tree.
    for name in ("real-both", "real-cut"):
        seeds[name + "-cgroup"] = bytes([seeds[name][0] | 0x80]) + \
            seeds[name][1:]
    seeds["real-both-cgroup-ids"] = with_cgroup_ids(
        seeds["real-both-cgroup"], [2, 5, 8, 9, 99, 11, 3, 13])
    for name, data in seeds.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


main()
