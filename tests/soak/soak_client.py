#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 the gridfront authors
#
# The checking client of the soak test (tests/soak/soak.sh).  It drives
# mixed mTLS load through gridfront for a fixed time: keep-alive workers
# reuse one connection, new-connection workers do a full TLS handshake
# with their client certificate for every request.  Every request carries
# a unique X-Request-Id, also written into its path, and every response is
# checked against the request that was sent: the echoed X-Request-Id
# header, the target and the X-Request-Id header the backend reports in
# its JSON echo, the backend that answered (for single-backend routes),
# the identity gridfront asserted for this connection's certificate
# (cms-authn-login), and for POSTs the length and SHA-256 of the body the
# backend received.  A response that fails any of these is a mismatch: a
# response delivered to the wrong client, or a corrupted one.  Errors
# (non-200 statuses, broken connections, timeouts) are counted by kind and
# each one is written, with its time and request id, to the events file so
# that soak.sh can tell whether it fell in the backend restart window.
# A test tool: loopback only, bounded by --duration.

import argparse
import hashlib
import http.client
import json
import os
import random
import socket
import ssl
import sys
import threading
import time


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.requests = 0
        self.ok = 0
        self.mismatches = 0
        self.errors = {}
        self.stale_retries = 0
        self.early_replies = 0
        self.handshakes = 0
        self.by_route = {}
        self.lat_sum = 0.0
        self.lat_max = 0.0

    def count(self, route, ok, lat):
        with self.lock:
            self.requests += 1
            r = self.by_route.setdefault(route, [0, 0])
            r[0] += 1
            if ok:
                self.ok += 1
                r[1] += 1
                self.lat_sum += lat
                if lat > self.lat_max:
                    self.lat_max = lat

    def error(self, kind):
        with self.lock:
            self.errors[kind] = self.errors.get(kind, 0) + 1


class Events:
    """Errors and mismatches, one JSON object per line."""

    def __init__(self, path, t0):
        self.fp = open(path, "w", buffering=1)
        self.lock = threading.Lock()
        self.t0 = t0

    def write(self, **kw):
        kw["t"] = round(time.monotonic() - self.t0, 3)
        kw["wall_ms"] = int(time.time() * 1000)
        with self.lock:
            self.fp.write(json.dumps(kw, sort_keys=True) + "\n")


def make_context(cafile, cert):
    ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=cafile)
    ctx.check_hostname = False       # the test server cert is for localhost
    ctx.load_cert_chain(cert)
    return ctx


def hdr_values(echo, name):
    n = name.lower()
    return [v for (k, v) in echo.get("headers", []) if k.lower() == n]


class Worker(threading.Thread):
    def __init__(self, wid, keepalive, args, cred, stats, events, deadline):
        super().__init__(daemon=True)
        self.wid = wid
        self.keepalive = keepalive
        self.args = args
        self.cert, self.login = cred
        self.stats = stats
        self.events = events
        self.deadline = deadline
        self.ctx = make_context(args.cafile, self.cert)
        self.conn = None
        self.rng = random.Random(args.seed * 1000 + wid)
        self.seq = 0

    def connect(self):
        c = http.client.HTTPSConnection("127.0.0.1", self.args.port,
                                        context=self.ctx,
                                        timeout=self.args.timeout)
        c.connect()
        with self.stats.lock:
            self.stats.handshakes += 1
        return c

    def drop(self):
        if self.conn is not None:
            try:
                self.conn.close()
            except OSError:
                pass
        self.conn = None

    def one(self, route):
        self.seq += 1
        rid = "w%d-%d-%08x" % (self.wid, self.seq, self.rng.getrandbits(32))
        path = "/%s/%s?seq=%d" % (route, rid, self.seq)
        post = self.rng.random() < self.args.post_ratio
        body = None
        headers = {"X-Request-Id": rid, "Host": "localhost"}
        if post:
            body = os.urandom(self.rng.choice((0, 1, 100, 4096, 65536,
                                               self.rng.randrange(1, 200000))))
            headers["Content-Type"] = "application/octet-stream"
        method = "POST" if post else "GET"
        t = time.monotonic()
        reused = self.conn is not None
        try:
            if self.conn is None:
                self.conn = self.connect()
            try:
                try:
                    self.conn.request(method, path, body=body,
                                      headers=headers)
                except (OSError, ssl.SSLError):
                    if not post:
                        raise
                    # Sending the body failed: the server may have
                    # answered early (an error) and closed.  Read that
                    # answer, as curl does; if there is none, the send
                    # error stands.
                    with self.stats.lock:
                        self.stats.early_replies += 1
                resp = self.conn.getresponse()
            except (http.client.RemoteDisconnected, ConnectionResetError,
                    BrokenPipeError, ssl.SSLEOFError) as e:
                if not (reused and not post):
                    raise
                # The server closed an idle keep-alive connection just as
                # this request went out: retry an idempotent request once,
                # on a fresh connection, as HTTP clients do.
                self.drop()
                with self.stats.lock:
                    self.stats.stale_retries += 1
                self.events.write(kind="stale_retry", route=route, id=rid,
                                  detail=type(e).__name__)
                self.conn = self.connect()
                self.conn.request(method, path, body=body, headers=headers)
                resp = self.conn.getresponse()
            data = resp.read()
            lat = time.monotonic() - t
            if resp.will_close or not self.keepalive:
                self.drop()
        except socket.timeout:
            self.drop()
            return self.fail(route, rid, "timeout", None, method)
        except (OSError, http.client.HTTPException) as e:
            self.drop()
            return self.fail(route, rid, "conn:" + type(e).__name__, None,
                             method + " " + str(e)[:200])
        if resp.status != 200:
            return self.fail(route, rid, "status:%d" % resp.status,
                             resp.status, method + " " +
                             data[:200].decode("latin-1"))
        why = self.check(route, rid, path, resp, data, body)
        if why:
            with self.stats.lock:
                self.stats.mismatches += 1
            self.stats.count(route, False, 0)
            self.events.write(kind="mismatch", route=route, id=rid, why=why,
                              got_id=resp.getheader("X-Request-Id"),
                              body=data[:300].decode("latin-1"))
            return
        self.stats.count(route, True, lat)

    def check(self, route, rid, path, resp, data, body):
        if resp.getheader("X-Request-Id") != rid:
            return "echoed X-Request-Id header differs"
        try:
            echo = json.loads(data)
        except ValueError:
            return "response body is not the backend's JSON echo"
        if echo.get("target") != path:
            return "echoed target %r differs" % echo.get("target")
        if hdr_values(echo, "X-Request-Id") != [rid]:
            return "X-Request-Id the backend received differs"
        if route in self.args.single_routes and echo.get("backend") != route:
            return "answered by backend %r" % echo.get("backend")
        if echo.get("backend") != resp.getheader("X-Backend-Id"):
            return "X-Backend-Id header and echo disagree"
        if hdr_values(echo, "cms-authn-login") != [self.login]:
            return "identity %r, expected %r" % (
                hdr_values(echo, "cms-authn-login"), self.login)
        if body is not None:
            if echo.get("body_length") != len(body):
                return "body length %r, sent %d" % (echo.get("body_length"),
                                                    len(body))
            if echo.get("body_sha256") != hashlib.sha256(body).hexdigest():
                return "body SHA-256 differs"
        return None

    def fail(self, route, rid, kind, status, detail):
        self.stats.error(kind)
        self.stats.count(route, False, 0)
        self.events.write(kind="error", error=kind, status=status,
                          route=route, id=rid, detail=detail)
        # Do not hammer a failing route in a tight loop.
        time.sleep(0.05)

    def run(self):
        routes = self.args.routes
        i = self.wid
        while time.monotonic() < self.deadline:
            route = routes[i % len(routes)]
            i += 1
            try:
                self.one(route)
            except Exception as e:         # a bug here must not go unseen
                self.stats.error("client:" + type(e).__name__)
                self.events.write(kind="error", error="client:" +
                                  type(e).__name__, route=route, id="-",
                                  detail=str(e)[:200])
                self.drop()
                time.sleep(0.1)
        self.drop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--cafile", required=True)
    ap.add_argument("--cred", action="append", required=True,
                    help="PEM:LOGIN (client chain and key, expected login)")
    ap.add_argument("--routes", default="b1,b2,b3,rr")
    ap.add_argument("--single-routes", default="b1,b2,b3")
    ap.add_argument("--duration", type=float, default=60)
    ap.add_argument("--keepalive-workers", type=int, default=6)
    ap.add_argument("--new-conn-workers", type=int, default=3)
    ap.add_argument("--post-ratio", type=float, default=0.2)
    ap.add_argument("--timeout", type=float, default=20)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--events", required=True)
    ap.add_argument("--summary", required=True)
    args = ap.parse_args()
    args.routes = args.routes.split(",")
    args.single_routes = set(args.single_routes.split(","))
    creds = []
    for c in args.cred:
        pem, _, login = c.rpartition(":")
        creds.append((pem, login))

    t0 = time.monotonic()
    deadline = t0 + args.duration
    stats = Stats()
    events = Events(args.events, t0)
    workers = []
    n = 0
    for ka, count in ((True, args.keepalive_workers),
                      (False, args.new_conn_workers)):
        for _ in range(count):
            w = Worker(n, ka, args, creds[n % len(creds)], stats, events,
                       deadline)
            workers.append(w)
            n += 1
    print("soak_client: %d keep-alive + %d new-connection workers for %gs"
          % (args.keepalive_workers, args.new_conn_workers, args.duration),
          flush=True)
    for w in workers:
        w.start()
    for w in workers:
        w.join(args.duration + args.timeout * 3 + 30)
    alive = sum(1 for w in workers if w.is_alive())
    elapsed = time.monotonic() - t0
    s = stats
    summary = {
        "seconds": round(elapsed, 1),
        "requests": s.requests,
        "ok": s.ok,
        "mismatches": s.mismatches,
        "errors": s.errors,
        "stale_retries": s.stale_retries,
        "early_replies": s.early_replies,
        "handshakes": s.handshakes,
        "by_route": s.by_route,
        "rate": round(s.requests / elapsed, 1) if elapsed else 0,
        "latency_avg_ms": round(1000 * s.lat_sum / s.ok, 2) if s.ok else 0,
        "latency_max_ms": round(1000 * s.lat_max, 1),
        "stuck_workers": alive,
    }
    with open(args.summary, "w") as fp:
        json.dump(summary, fp, sort_keys=True)
    print("soak_client: " + json.dumps(summary, sort_keys=True), flush=True)
    return 0 if alive == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
