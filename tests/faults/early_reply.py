#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 the gridfront authors
#
# A client that behaves like most HTTP libraries (Python's http.client,
# many Java and Go clients in their default mode): it writes the whole
# request, body included, before it reads anything.  If the server answers
# early (an error before the body was read) and then closes at once, the
# client's writes fail and it never sees the answer; RFC 9112 section 9.6
# asks servers to close in stages (lingering close) to prevent exactly
# that.  Prints "STATUS <code>" when a status line came back, else
# "NONE <what went wrong>".  A test tool: loopback only, bounded in time.

import argparse
import socket
import ssl
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--cafile", required=True)
    ap.add_argument("--path", required=True)
    ap.add_argument("--body-bytes", type=int, default=1 << 20)
    ap.add_argument("--timeout", type=float, default=10)
    args = ap.parse_args()

    ctx = ssl.create_default_context(cafile=args.cafile)
    ctx.check_hostname = False
    raw = socket.create_connection(("127.0.0.1", args.port), args.timeout)
    s = ctx.wrap_socket(raw, server_hostname="localhost")
    head = ("POST %s HTTP/1.1\r\nHost: localhost\r\nContent-Length: %d\r\n"
            "Connection: close\r\n\r\n" % (args.path, args.body_bytes))
    what = "sent"
    try:
        s.sendall(head.encode() + b"\0" * args.body_bytes)
    except (OSError, ssl.SSLError) as e:
        what = "send failed: " + type(e).__name__
    data = b""
    try:
        while len(data) < 65536:
            d = s.recv(65536)
            if not d:
                break
            data += d
    except (OSError, ssl.SSLError) as e:
        if not data:
            what += "; recv failed: " + type(e).__name__
    line = data.split(b"\r\n", 1)[0].decode("latin-1")
    if line.startswith("HTTP/1.1 "):
        print("STATUS %s (%s)" % (line[9:12], what))
    else:
        print("NONE (%s)" % what)
    return 0


if __name__ == "__main__":
    sys.exit(main())
