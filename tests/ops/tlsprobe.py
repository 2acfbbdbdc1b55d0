#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 the gridfront authors
#
# A small HTTPS client for the ops tests: it keeps one TLS connection (or
# one resumable TLS session) open across a change the test makes on disk or
# with a signal, and reports what the proxy answers afterwards.  The test
# and the probe hand over with two files: the probe creates READY once its
# first exchange is done, the test creates GO once it has made its change.
# After GO the probe repeats the request (on the same connection, or on new
# connections that resume the session) until the answer matches --want or
# --within seconds pass, and prints one line:
#
#   RESULT <matched 0|1> status=<code> backend=<X-Backend-Id> ms=<ms after
#   GO> tries=<n> reused=<0|1> same_conn=<0|1> body=<first body line>
#
# preceded by FIRST (the first exchange) and, in resume mode, PRE (the
# first resumed connection, before the change).  Exit status 0 when the
# answer matched, 1 when it did not, 2 when the connection broke (keepalive
# mode: the server closed the connection it should have kept).  Loopback
# only; every wait is bounded.

import argparse
import os
import socket
import ssl
import sys
import time


class Closed(Exception):
    pass


def read_response(sock, deadline):
    """Read one HTTP/1.1 response; return (status, headers dict, body)."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        sock.settimeout(max(0.05, deadline - time.monotonic()))
        chunk = sock.recv(65536)
        if not chunk:
            raise Closed("closed before a response head")
        buf += chunk
        if len(buf) > 1 << 20:
            raise Closed("response head too large")
    head, _, rest = buf.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    hdrs = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        hdrs[k.strip().lower()] = v.strip()
    if "content-length" in hdrs:
        n = int(hdrs["content-length"])
        while len(rest) < n:
            sock.settimeout(max(0.05, deadline - time.monotonic()))
            chunk = sock.recv(65536)
            if not chunk:
                raise Closed("closed inside a body")
            rest += chunk
        body = rest[:n]
    elif hdrs.get("transfer-encoding", "").lower() == "chunked":
        body = b""
        while True:
            while b"\r\n" not in rest:
                sock.settimeout(max(0.05, deadline - time.monotonic()))
                chunk = sock.recv(65536)
                if not chunk:
                    raise Closed("closed inside a chunked body")
                rest += chunk
            line, _, rest = rest.partition(b"\r\n")
            size = int(line.split(b";")[0], 16)
            while len(rest) < size + 2:
                sock.settimeout(max(0.05, deadline - time.monotonic()))
                chunk = sock.recv(65536)
                if not chunk:
                    raise Closed("closed inside a chunk")
                rest += chunk
            body += rest[:size]
            rest = rest[size + 2:]
            if size == 0:
                break
    else:
        body = rest
        while True:
            sock.settimeout(max(0.05, deadline - time.monotonic()))
            chunk = sock.recv(65536)
            if not chunk:
                break
            body += chunk
    return status, hdrs, body


class Probe:
    def __init__(self, a):
        self.a = a
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.load_verify_locations(a.ca)
        ctx.check_hostname = False
        if a.tls == "1.2":
            ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        elif a.tls == "1.3":
            ctx.minimum_version = ssl.TLSVersion.TLSv1_3
        if a.cert:
            ctx.load_cert_chain(a.cert)
        self.ctx = ctx
        self.sock = None
        self.session = None

    def connect(self, session=None):
        raw = socket.create_connection(("127.0.0.1", self.a.port),
                                       timeout=self.a.step)
        s = self.ctx.wrap_socket(raw, server_hostname="localhost",
                                 session=session)
        return s

    def exchange(self, sock, close=False):
        a = self.a
        req = ("GET %s HTTP/1.1\r\nHost: localhost:%d\r\n"
               "User-Agent: gridfront-ops-probe\r\n%s\r\n" %
               (a.path, a.port, "Connection: close\r\n" if close else ""))
        sock.sendall(req.encode())
        return read_response(sock, time.monotonic() + a.step)

    def matches(self, status, hdrs):
        a = self.a
        if a.want is not None and status != a.want:
            return False
        if a.want_backend is not None and \
                hdrs.get("x-backend-id") != a.want_backend:
            return False
        return True


def describe(tag, status, hdrs, body, extra=""):
    first = body.decode("utf-8", "replace").split("\n")[0][:200]
    print("%s status=%d backend=%s %s body=%s" %
          (tag, status, hdrs.get("x-backend-id", "-"), extra, first),
          flush=True)


def wait_file(path, secs):
    end = time.monotonic() + secs
    while time.monotonic() < end:
        if os.path.exists(path):
            return True
        time.sleep(0.02)
    return False


def touch(path):
    with open(path, "w"):
        pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--ca", required=True)
    ap.add_argument("--cert")
    ap.add_argument("--path", default="/")
    ap.add_argument("--mode", choices=("keepalive", "resume", "new"),
                    default="keepalive")
    ap.add_argument("--tls", choices=("any", "1.2", "1.3"), default="any")
    ap.add_argument("--ready", required=True)
    ap.add_argument("--go", required=True)
    ap.add_argument("--want", type=int)
    ap.add_argument("--want-backend")
    ap.add_argument("--within", type=float, default=3.0)
    ap.add_argument("--interval", type=float, default=0.1)
    ap.add_argument("--step", type=float, default=5.0)
    ap.add_argument("--go-timeout", type=float, default=30.0)
    a = ap.parse_args()
    p = Probe(a)

    try:
        sock = p.connect()
        status, hdrs, body = p.exchange(sock, close=(a.mode != "keepalive"))
        describe("FIRST", status, hdrs, body,
                 "version=%s cipher=%s" % (sock.version(), sock.cipher()[0]))
        session = sock.session
        if a.mode != "keepalive":
            sock.close()
        if a.mode == "resume":
            s2 = p.connect(session)
            status, hdrs, body = p.exchange(s2, close=True)
            describe("PRE", status, hdrs, body,
                     "reused=%d" % int(s2.session_reused))
            session = s2.session if s2.session is not None else session
            s2.close()
    except (OSError, Closed, ValueError) as e:
        print("ERROR before the change: %s" % e, flush=True)
        return 2

    touch(a.ready)
    if not wait_file(a.go, a.go_timeout):
        print("ERROR: no go file within %.0f s" % a.go_timeout, flush=True)
        return 2
    t0 = time.monotonic()
    tries = 0
    last = None
    while True:
        tries += 1
        reused = 0
        try:
            if a.mode == "keepalive":
                s = sock
            elif a.mode == "resume":
                s = p.connect(session)
                reused = int(s.session_reused)
            else:
                s = p.connect()
            status, hdrs, body = p.exchange(s, close=(a.mode != "keepalive"))
            if a.mode != "keepalive":
                if a.mode == "resume" and s.session is not None:
                    session = s.session
                s.close()
        except (OSError, Closed, ValueError) as e:
            ms = int((time.monotonic() - t0) * 1000)
            print("RESULT 0 status=0 backend=- ms=%d tries=%d reused=0 "
                  "same_conn=0 body=connection broke: %s" % (ms, tries, e),
                  flush=True)
            return 2
        ms = int((time.monotonic() - t0) * 1000)
        last = (status, hdrs, body, reused)
        ok = p.matches(status, hdrs)
        if ok or time.monotonic() - t0 >= a.within:
            break
        time.sleep(a.interval)
    status, hdrs, body, reused = last
    describe("RESULT %d" % int(ok), status, hdrs, body,
             "ms=%d tries=%d reused=%d same_conn=%d" %
             (ms, tries, reused, int(a.mode == "keepalive")))
    if a.mode == "keepalive":
        sock.close()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
