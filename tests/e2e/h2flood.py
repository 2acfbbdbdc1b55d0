#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 the gridfront authors
"""Hand-built HTTP/2 floods for tests/e2e/t_h2.sh (no h2 library needed).

Connects over TLS with ALPN h2, sends the client preface and an empty
SETTINGS, then one flood, and prints how the server ended it:
"GOAWAY <error code>" (the first GOAWAY seen), "EOF" or "TIMEOUT".

  h2flood.py HOST PORT CAFILE MODE COUNT [AUTHORITY]

MODE: rapid-reset (HEADERS then RST_STREAM CANCEL, COUNT streams),
ping, settings, priority (COUNT frames), empty-data (one open stream,
COUNT empty DATA frames), continuation (HEADERS without END_HEADERS, then
COUNT CONTINUATION frames of one small header each), ok (COUNT ordinary
GET streams: prints "OK <responses>" when all were answered), stall
(announces a zero stream window and asks for AUTHORITY's /size/COUNT:
prints "RST <error code>" when the server resets the stream), bad-CASE
(one malformed request on stream 1, see BAD below: prints "RST <code>"
for a reset, "HEADERS" for an answer).
"""

import socket
import ssl
import struct
import sys
import time

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS, PRIORITY, RST, SETTINGS, PING, GOAWAY, CONT = 0, 1, 2, 3, 4, 6, 7, 9


def frame(ftype, flags, sid, payload=b""):
    return (struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) +
            struct.pack(">I", sid) + payload)


def lit(idx, val):
    """Literal header field without indexing, indexed name, short value."""
    v = val.encode()
    assert idx < 15 and len(v) < 127
    return bytes([idx, len(v)]) + v


def request(authority, path, post=False):
    # :method GET (2) or POST (3), :scheme https (7), :path, :authority.
    return (b"\x83" if post else b"\x82") + b"\x87" + lit(4, path) + \
        lit(1, authority)


def newlit(name, val):
    """Literal header field without indexing, new (literal) name."""
    n, v = name.encode(), val.encode()
    return bytes([0, len(n)]) + n + bytes([len(v)]) + v


# Malformed requests (RFC 9113 8): name -> frames after the preface.
def bad(case, auth):
    post = request(auth, "/none/bad", post=True)
    get = request(auth, "/none/bad")
    if case == "te":
        return [frame(HEADERS, 5, 1, get + newlit("te", "gzip"))]
    if case == "connection":
        return [frame(HEADERS, 5, 1, get + newlit("connection", "close"))]
    if case == "upper":
        return [frame(HEADERS, 5, 1, get + newlit("X-Upper", "1"))]
    if case == "colon":
        return [frame(HEADERS, 5, 1, get + newlit("x:a", "1"))]
    if case == "ws":
        return [frame(HEADERS, 5, 1, get + newlit("x-a", " b"))]
    if case == "nul":
        return [frame(HEADERS, 5, 1, get + newlit("x-a", "b\0c"))]
    if case == "absolute":
        return [frame(HEADERS, 5, 1, b"\x82\x87" + lit(4, "https://x/y") +
                      lit(1, auth))]
    if case == "pseudo-after":
        return [frame(HEADERS, 5, 1, b"\x82\x87" + newlit("x-a", "b") +
                      lit(4, "/none/bad") + lit(1, auth))]
    if case == "no-path":
        return [frame(HEADERS, 5, 1, b"\x82\x87" + lit(1, auth))]
    if case == "dup-path":
        return [frame(HEADERS, 5, 1, get + lit(4, "/none/other"))]
    if case == "protocol":
        return [frame(HEADERS, 5, 1, get + newlit(":protocol", "websocket"))]
    if case == "cl-more":
        return [frame(HEADERS, 4, 1, post + lit(13, "3")),
                frame(DATA, 1, 1, b"hello")]
    if case == "cl-less":
        return [frame(HEADERS, 4, 1, post + lit(13, "10")),
                frame(DATA, 1, 1, b"hi")]
    if case == "trailer-identity":
        return [frame(HEADERS, 4, 1, post), frame(DATA, 0, 1, b"abc"),
                frame(HEADERS, 5, 1, newlit("cms-authn-dn", "/CN=x"))]
    if case == "hpack-size":
        # A dynamic table size update to 65536, over our 4096.
        return [frame(HEADERS, 5, 1, b"\x3f\xe1\xff\x03" + get)]
    if case == "trailer-ok":
        return [frame(HEADERS, 4, 1, post), frame(DATA, 0, 1, b"abc"),
                frame(HEADERS, 5, 1, newlit("x-checksum", "1"))]
    sys.exit("unknown case " + case)


def uploads(s, auth, count, size):
    """COUNT POST streams without content-length, SIZE bytes each, sent as
    the windows allow; prints the backend's "framing" of each, in order."""
    WINDOW_UPDATE = 8
    body = bytes(range(256)) * (size // 256 + 1)
    body = body[:size]
    s.sendall(PREFACE + frame(SETTINGS, 0, 0))
    sids = [2 * i + 1 for i in range(count)]
    for sid in sids:
        s.sendall(frame(HEADERS, 0x4, sid, request(auth, "/none/up", post=True)))
    conn_win, win = 65535, {sid: 65535 for sid in sids}
    sent = {sid: 0 for sid in sids}
    data = {sid: b"" for sid in sids}
    done = set()
    buf = b""
    deadline = time.monotonic() + 15
    while len(done) < count and time.monotonic() < deadline:
        for sid in sids:
            while sent[sid] < size and conn_win > 0 and win[sid] > 0:
                n = min(16384, size - sent[sid], conn_win, win[sid])
                last = sent[sid] + n == size
                s.sendall(frame(DATA, 1 if last else 0, sid,
                                body[sent[sid]:sent[sid] + n]))
                sent[sid] += n
                conn_win -= n
                win[sid] -= n
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            break
        if not chunk:
            break
        buf += chunk
        while len(buf) >= 9:
            n = int.from_bytes(buf[0:3], "big")
            if len(buf) < 9 + n:
                break
            ftype, flags = buf[3], buf[4]
            sid = int.from_bytes(buf[5:9], "big") & 0x7fffffff
            payload = buf[9:9 + n]
            buf = buf[9 + n:]
            if ftype == SETTINGS and not flags & 1:
                s.sendall(frame(SETTINGS, 1, 0))
            elif ftype == WINDOW_UPDATE:
                inc = int.from_bytes(payload[0:4], "big") & 0x7fffffff
                if sid == 0:
                    conn_win += inc
                elif sid in win:
                    win[sid] += inc
            elif ftype == DATA and sid in data:
                data[sid] += payload
                if n:
                    s.sendall(frame(WINDOW_UPDATE, 0, 0, struct.pack(">I", n)) +
                              frame(WINDOW_UPDATE, 0, sid, struct.pack(">I", n)))
                if flags & 1:
                    done.add(sid)
            elif ftype in (RST, GOAWAY):
                print("RESET %d" % sid)
                return
    import json
    print(" ".join(json.loads(data[sid]).get("framing", "?") if data[sid]
                   else "none" for sid in sids))


def main():
    host, port, cafile, mode, count = sys.argv[1:6]
    count = int(count)
    auth = sys.argv[6] if len(sys.argv) > 6 else "%s:%s" % (host, port)
    ctx = ssl.create_default_context(cafile=cafile)
    ctx.set_alpn_protocols(["h2"])
    raw = socket.create_connection((host, int(port)), timeout=10)
    s = ctx.wrap_socket(raw, server_hostname=host)
    out = [PREFACE, frame(SETTINGS, 0, 0)]
    if mode == "uploads":
        uploads(s, auth, 2, count)
        return
    if mode == "stall":
        # SETTINGS_INITIAL_WINDOW_SIZE (4) = 0: no DATA may come.
        out = [PREFACE, frame(SETTINGS, 0, 0, struct.pack(">HI", 4, 0)),
               frame(HEADERS, 0x5, 1, request(auth, "/size/%d" % count))]
    elif mode == "stall-local":
        # As stall, for a local answer (a 404 for a path no route has).
        out = [PREFACE, frame(SETTINGS, 0, 0, struct.pack(">HI", 4, 0)),
               frame(HEADERS, 0x5, 1, request(auth, "/nowhere"))]
    elif mode == "stall-many":
        # As stall, on 100 streams of COUNT bytes each, held for 3 s.
        out = [PREFACE, frame(SETTINGS, 0, 0, struct.pack(">HI", 4, 0))]
        out += [frame(HEADERS, 0x5, 2 * i + 1,
                      request(auth, "/size/%d" % count)) for i in range(100)]
        s.sendall(b"".join(out))
        time.sleep(3)
        print("HELD")
        return
    elif mode.startswith("bad-"):
        out += bad(mode[4:], auth)
    elif mode == "rapid-reset":
        for i in range(count):
            sid = 2 * i + 1
            out.append(frame(HEADERS, 0x5, sid, request(auth, "/none/rr")))
            out.append(frame(RST, 0, sid, struct.pack(">I", 8)))
    elif mode == "ping":
        out += [frame(PING, 0, 0, struct.pack(">Q", i)) for i in range(count)]
    elif mode == "settings":
        out += [frame(SETTINGS, 0, 0) for _ in range(count)]
    elif mode == "priority":
        out += [frame(PRIORITY, 0, 2 * i + 1, struct.pack(">IB", 0, 15))
                for i in range(count)]
    elif mode == "empty-data":
        out.append(frame(HEADERS, 0x4, 1,
                         request(auth, "/none/ed", post=True)))
        out += [frame(DATA, 0, 1) for _ in range(count)]
    elif mode == "continuation":
        out.append(frame(HEADERS, 0x0, 1, request(auth, "/none/cont")))
        out += [frame(CONT, 0, 1, lit(14, "x%d" % i)) for i in range(count)]
    elif mode == "streams":
        for i in range(count):
            out.append(frame(HEADERS, 0x5, 2 * i + 1,
                             request(auth, "/slow/300")))
    elif mode == "ok":
        for i in range(count):
            out.append(frame(HEADERS, 0x5, 2 * i + 1,
                             request(auth, "/none/ok")))
    else:
        sys.exit("unknown mode " + mode)
    try:
        s.sendall(b"".join(out))
    except OSError:
        pass
    buf = b""
    answered = set()
    refused = 0
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            break
        except OSError:
            chunk = b""
        if not chunk:
            print("EOF" if mode != "ok" else "OK %d" % len(answered))
            return
        buf += chunk
        while len(buf) >= 9:
            n = int.from_bytes(buf[0:3], "big")
            if len(buf) < 9 + n:
                break
            ftype, flags = buf[3], buf[4]
            sid = int.from_bytes(buf[5:9], "big") & 0x7fffffff
            payload = buf[9:9 + n]
            buf = buf[9 + n:]
            if ftype == RST and mode == "streams":
                if int.from_bytes(payload[0:4], "big") == 7:
                    refused += 1
            if mode == "streams" and len(answered) + refused == count:
                print("ANSWERED %d REFUSED %d" % (len(answered), refused))
                return
            if ftype == RST and (mode.startswith("stall") or
                                 mode.startswith("bad-")):
                print("RST %d" % int.from_bytes(payload[0:4], "big"))
                return
            if ftype == GOAWAY:
                print("GOAWAY %d" % int.from_bytes(payload[4:8], "big"))
                return
            if ftype == SETTINGS and not flags & 1:
                try:
                    s.sendall(frame(SETTINGS, 1, 0))
                except OSError:
                    pass
            if ftype == HEADERS and sid:
                if mode.startswith("bad-"):
                    print("HEADERS")
                    return
                answered.add(sid)
                if mode == "streams" and len(answered) + refused == count:
                    print("ANSWERED %d REFUSED %d" % (len(answered), refused))
                    return
                if mode == "ok" and len(answered) == count:
                    print("OK %d" % count)
                    return
    print("TIMEOUT" if mode != "ok" else "OK %d" % len(answered))


if __name__ == "__main__":
    main()
