#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 the gridfront authors
"""Streams one after another on one HTTP/2 connection, for t_h2.sh.

gridfront recycles a finished stream's state for the next stream of the
same worker (proxy/h2.c's free list), so each request here differs from
the one before in what it leaves behind: a content-length and a cookie,
a body without content-length (must reach the backend chunked), a host
header, a refused stream (te: gzip), a stream the client resets, and
plain GETs after each.  Every answered request prints one line,
"<path> <status> <what the echo backend saw>", for the shell to compare;
a refused or reset stream prints "<path> RST <code>".

  h2recycle.py HOST PORT CAFILE CERT AUTHORITY
"""

import json
import socket
import ssl
import sys
import time

import h2.config
import h2.connection
import h2.events


def main():
    host, port, cafile, cert, auth = sys.argv[1:6]
    ctx = ssl.create_default_context(cafile=cafile)
    ctx.check_hostname = False
    ctx.load_cert_chain(cert, cert)
    ctx.set_alpn_protocols(["h2"])
    tcp = socket.create_connection((host, int(port)), timeout=10)
    s = ctx.wrap_socket(tcp, server_hostname=host)
    assert s.selected_alpn_protocol() == "h2"
    conn = h2.connection.H2Connection(h2.config.H2Configuration(
        client_side=True, header_encoding="utf-8",
        validate_outbound_headers=False, normalize_outbound_headers=False))
    conn.initiate_connection()
    s.sendall(conn.data_to_send())

    def run(path, method="GET", extra=(), body=None, reset=False):
        """One stream, start to end; returns its output line."""
        sid = conn.get_next_available_stream_id()
        hdrs = [(":method", method), (":scheme", "https"),
                (":authority", auth), (":path", path)] + list(extra)
        conn.send_headers(sid, hdrs, end_stream=body is None and not reset)
        if reset:
            conn.reset_stream(sid)
        elif body is not None:
            conn.send_data(sid, body, end_stream=True)
        s.sendall(conn.data_to_send())
        if reset:
            # A PING round trip: the reset was read before what follows.
            conn.ping(b"recycle!")
            s.sendall(conn.data_to_send())
        status, data = None, b""
        for _ in range(200):
            raw = s.recv(65536)
            if not raw:
                return "%s EOF" % path
            for ev in conn.receive_data(raw):
                if isinstance(ev, h2.events.ResponseReceived) and \
                        ev.stream_id == sid:
                    status = dict(ev.headers).get(":status")
                elif isinstance(ev, h2.events.DataReceived) and \
                        ev.stream_id == sid:
                    data += ev.data
                    conn.acknowledge_received_data(
                        ev.flow_controlled_length, sid)
                elif isinstance(ev, h2.events.StreamEnded) and \
                        ev.stream_id == sid:
                    s.sendall(conn.data_to_send())
                    return "%s %s %s" % (path, status, seen(data))
                elif isinstance(ev, h2.events.StreamReset) and \
                        ev.stream_id == sid:
                    s.sendall(conn.data_to_send())
                    return "%s RST %d" % (path, ev.error_code)
                elif isinstance(ev, h2.events.PingAckReceived) and reset:
                    return "%s RESET" % path
            s.sendall(conn.data_to_send())
        return "%s TIMEOUT" % path

    def seen(data):
        """The echo backend's record, reduced to what a leak would change."""
        try:
            j = json.loads(data)
        except ValueError:
            return "not-json"
        names = sorted({h[0].lower() for h in j.get("headers", [])
                        if h[0].lower() in ("cookie", "content-length",
                                            "transfer-encoding", "x-one",
                                            "host")})
        return "%s %s %s %s" % (j.get("method"), j.get("target"),
                                ",".join(names) or "-",
                                j.get("body_sha256", "-")[:12])

    out = [
        run("/cert/r1", "POST", [("content-length", "5"), ("cookie", "a=1"),
                                 ("x-one", "1")], b"hello"),
        run("/cert/r2", "POST", [], b"abc"),
        run("/cert/r3"),
        run("/cert/r4", extra=[("host", auth)]),
        run("/cert/r5", extra=[("host", auth)]),
        run("/cert/r6", extra=[("te", "gzip")]),
        run("/cert/r7"),
        run("/cert/r8", "POST", [("content-length", "100")], reset=True),
        run("/cert/r9"),
    ]
    time.sleep(0.5)
    out.append(run("/cert/r10", extra=[("x-one", "1")]))
    time.sleep(0.5)
    out.append(run("/cert/r11", "POST", [("content-length", "5")], b"again"))
    print("\n".join(out))
    conn.close_connection()
    s.sendall(conn.data_to_send())
    s.close()


if __name__ == "__main__":
    main()
