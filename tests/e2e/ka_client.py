#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 the gridfront authors
#
# A keep-alive test client for tests/e2e: sends a series of GET requests
# on ONE TLS (or plain) connection, each with its own Authorization header
# and an optional pause before it, and prints one line per answer:
# "STATUS LOGIN SUBJECT" (from the echo backend's JSON, "-" when absent),
# or "CLOSED" when the connection went away.  Used to check what gridfront
# remembers per connection (t_tokens_conn.sh).  Bounded: every read has a
# timeout; loopback only.
#
# usage: ka_client.py [--plain] HOST PORT PATH STEP...
#   STEP is SLEEP_S:TOKEN (TOKEN "-" sends no Authorization header), or
#   @FILE:TOKEN to wait (at most 20 s) until FILE exists before sending
import json
import os
import socket
import ssl
import sys
import time


def read_answer(f):
    line = f.readline()
    if not line:
        return None
    status = int(line.split()[1])
    length, chunked = 0, False
    while True:
        h = f.readline()
        if h in (b"\r\n", b"\n", b""):
            break
        k, _, v = h.decode("latin-1").partition(":")
        if k.strip().lower() == "content-length":
            length = int(v.strip())
        if k.strip().lower() == "transfer-encoding" and "chunked" in v:
            chunked = True
    body = b""
    if chunked:
        while True:
            n = int(f.readline().split(b";")[0], 16)
            body += f.read(n)
            f.readline()
            if n == 0:
                break
    else:
        body = f.read(length)
    return status, body


def main():
    args = sys.argv[1:]
    plain = args and args[0] == "--plain"
    if plain:
        args = args[1:]
    host, port, path, steps = args[0], int(args[1]), args[2], args[3:]
    s = socket.create_connection((host, port), timeout=10)
    if not plain:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        s = ctx.wrap_socket(s, server_hostname="localhost")
    f = s.makefile("rb")
    for st in steps:
        pause, _, tok = st.partition(":")
        if pause.startswith("@"):
            end = time.monotonic() + 20
            while not os.path.exists(pause[1:]) and time.monotonic() < end:
                time.sleep(0.05)
        else:
            time.sleep(float(pause))
        req = "GET %s HTTP/1.1\r\nHost: localhost\r\n" % path
        if tok != "-":
            req += "Authorization: Bearer %s\r\n" % tok
        try:
            s.sendall((req + "\r\n").encode())
            a = read_answer(f)
        except OSError:
            a = None
        if a is None:
            print("CLOSED", flush=True)
            return
        status, body = a
        login = sub = "-"
        try:
            hd = dict((k.lower(), v) for k, v in json.loads(body)["headers"])
            login = hd.get("cms-authn-login", "-")
            sub = hd.get("cms-authn-token-subject", "-")
        except (ValueError, KeyError, TypeError):
            pass
        print(status, login, sub, flush=True)


main()
