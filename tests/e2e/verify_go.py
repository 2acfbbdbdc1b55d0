#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 the gridfront authors
#
# A backend that checks cms-authn-hmac the way the Go services (dbs2go,
# das2go) do with dmwm/cmsauth: over the raw header bytes.  Written for the
# tests from the published algorithm (PROTOCOL.md and cmsauth's GetHmac),
# not from its code.  It reads requests off the socket as bytes, never
# decoding a header, and keeps Go's net/http view of them: names in
# canonical form (Cms-Authn-Dn), values with surrounding spaces and tabs
# trimmed, and for each name only its first value.  The signed names are
# sorted in byte order, "h<len>v<len>" uses byte lengths in lower-case hex,
# and the name goes into the string lower-cased, the value as received.
#
# Every request is answered 200 with a JSON report:
#   {"verdict": "ok" | "bad" | "none" | "missing", "hmac": <computed>,
#    "login": ..., "name": ..., "dn": ..., "method": ...}
# ("missing": no cms-auth-status; "none": cms-auth-status NONE).  The
# identity strings are the received bytes read as UTF-8 (as Go's
# encoding/json would print them).
#
# Usage: verify_go.py --key KEYFILE [--vectors-key KEYFILE]
# Binds 127.0.0.1 on a free port and prints "PORT <n>" once listening.
# Requests whose path starts with /vectors/ are checked with the second
# key (the PROTOCOL.md test vectors use their own).  Runs until killed.

import hashlib
import hmac
import json
import socketserver
import sys

MAX_LINE = 65536
MAX_LINES = 200
SIGNED = (b"cms-authn", b"cms-authz")


def canonical(name):
    """Go's CanonicalMIMEHeaderKey for an ASCII token."""
    ok = all(c in b"!#$%&'*+-.^_`|~" or chr(c).isalnum() for c in name)
    if not ok or not name:
        return name
    out = bytearray()
    upper = True
    for c in name:
        ch = bytes([c])
        out += ch.upper() if upper else ch.lower()
        upper = c == ord("-")
    return bytes(out)


def get_hmac(key, headers):
    """headers: {canonical name: [values]} as bytes."""
    names = sorted(n for n in headers
                   if n.lower().startswith(SIGNED) and
                   n.lower() != b"cms-authn-hmac")
    prefix = b""
    suffix = b""
    for n in names:
        v = headers[n][0]
        prefix += b"h%xv%x" % (len(n), len(v))
        suffix += n.lower() + v
    return hmac.new(key, prefix + b"#" + suffix, hashlib.sha1).hexdigest()


def first(headers, name):
    v = headers.get(name)
    return v[0] if v else None


def text(b):
    return None if b is None else b.decode("utf-8", "replace")


def check(key, headers):
    status = first(headers, b"Cms-Auth-Status")
    report = {"verdict": "missing"}
    if status is None:
        return report
    if status == b"NONE":
        report["verdict"] = "none"
        return report
    mac = get_hmac(key, headers)
    got = first(headers, b"Cms-Authn-Hmac") or b""
    report["verdict"] = "ok" if hmac.compare_digest(
        mac.encode(), got) else "bad"
    report["hmac"] = mac
    for f in ("login", "name", "dn", "method"):
        report[f] = text(first(headers, canonical(b"cms-authn-" +
                                                  f.encode())))
    return report


class Handler(socketserver.StreamRequestHandler):
    def read_head(self):
        lines = []
        while len(lines) < MAX_LINES:
            line = self.rfile.readline(MAX_LINE + 1)
            if not line:
                return None
            line = line.rstrip(b"\r\n")
            if not line:
                if lines:
                    return lines
                continue		# stray CRLF between requests
            lines.append(line)
        return None

    def handle(self):
        while True:
            lines = self.read_head()
            if lines is None:
                return
            parts = lines[0].split(b" ")
            target = parts[1] if len(parts) == 3 else b"/"
            headers = {}
            for line in lines[1:]:
                name, sep, value = line.partition(b":")
                if not sep:
                    continue
                headers.setdefault(canonical(name), []).append(
                    value.strip(b" \t"))
            n = int(first(headers, b"Content-Length") or b"0")
            if n > 0:
                self.rfile.read(n)
            key = self.server.key
            if target.startswith(b"/vectors/"):
                key = self.server.vkey
            body = json.dumps(check(key, headers)).encode() + b"\n"
            self.wfile.write(b"HTTP/1.1 200 OK\r\n"
                             b"Content-Type: application/json\r\n"
                             b"Content-Length: %d\r\n\r\n" % len(body) +
                             body)
            self.wfile.flush()


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def main(argv):
    opts = {}
    i = 1
    while i + 1 < len(argv):
        opts[argv[i]] = argv[i + 1]
        i += 2
    if "--key" not in opts or i != len(argv):
        print("usage: verify_go.py --key KEYFILE [--vectors-key KEYFILE]",
              file=sys.stderr)
        return 2
    srv = Server(("127.0.0.1", 0), Handler)
    with open(opts["--key"], "rb") as f:
        srv.key = f.read()		# raw, nothing trimmed
    srv.vkey = srv.key
    if "--vectors-key" in opts:
        with open(opts["--vectors-key"], "rb") as f:
            srv.vkey = f.read()
    print("PORT %d" % srv.server_address[1], flush=True)
    srv.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
