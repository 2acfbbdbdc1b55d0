#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 the gridfront authors
#
# A tiny DNS responder for the tests: UDP on 127.0.0.1, answering A and
# AAAA queries from a zone file that the test rewrites while it runs (the
# file is read again for every query).  Zone lines are "NAME ADDRESS"
# (IPv4 or IPv6; several lines for several records).  A name with no line
# gets NXDOMAIN; a name with records of the other family only gets an
# empty NOERROR answer.  Prints "PORT n" once listening, and a line per
# query to stderr.  Standard library only.
#
#   dnsstub.py ZONEFILE [PORT]

import ipaddress
import socket
import struct
import sys


def read_zone(path):
    zone = {}
    try:
        with open(path, encoding="ascii") as f:
            for line in f:
                parts = line.split()
                if len(parts) != 2 or parts[0].startswith("#"):
                    continue
                zone.setdefault(parts[0].lower().rstrip("."), []).append(
                    ipaddress.ip_address(parts[1]))
    except OSError:
        pass
    return zone


def parse_question(msg):
    """Return (name, qtype, end offset of the question) or None."""
    if len(msg) < 12:
        return None
    off, labels = 12, []
    while True:
        if off >= len(msg):
            return None
        n = msg[off]
        off += 1
        if n == 0:
            break
        if n & 0xC0 or off + n > len(msg):
            return None
        labels.append(msg[off:off + n].decode("ascii", "replace"))
        off += n
    if off + 4 > len(msg):
        return None
    qtype, _qclass = struct.unpack("!HH", msg[off:off + 4])
    return ".".join(labels).lower(), qtype, off + 4


def answer(msg, zone):
    q = parse_question(msg)
    if q is None:
        return None, "bad query"
    name, qtype, qend = q
    qid, qflags = struct.unpack("!HH", msg[:4])
    rd = qflags & 0x0100
    recs = zone.get(name)
    rcode = 0 if recs is not None else 3          # NXDOMAIN
    want = {1: 4, 28: 6}.get(qtype)               # A, AAAA
    rrs = [a for a in (recs or []) if a.version == want]
    body = msg[12:qend]                           # the question, as sent
    for a in rrs:
        # Name: pointer to the question; class IN, TTL 1 s.
        body += struct.pack("!HHHIH", 0xC00C, qtype, 1, 1,
                            len(a.packed)) + a.packed
    hdr = struct.pack("!HHHHHH", qid, 0x8080 | rd | rcode, 1, len(rrs), 0, 0)
    return hdr + body, "%s %s -> %s" % (
        name, {1: "A", 28: "AAAA"}.get(qtype, qtype),
        ",".join(str(a) for a in rrs) or ("NXDOMAIN" if rcode else "empty"))


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit("usage: dnsstub.py ZONEFILE [PORT]")
    zonefile = sys.argv[1]
    port = int(sys.argv[2]) if len(sys.argv) == 3 else 0
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", port))
    print("PORT %d" % s.getsockname()[1], flush=True)
    while True:
        msg, peer = s.recvfrom(4096)
        resp, what = answer(msg, read_zone(zonefile))
        print("dnsstub: %s" % what, file=sys.stderr, flush=True)
        if resp is not None:
            s.sendto(resp, peer)


if __name__ == "__main__":
    main()
