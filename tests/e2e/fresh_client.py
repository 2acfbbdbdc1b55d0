#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 the gridfront authors
#
# The client of tests/e2e/t_auth_fresh.sh (issue 17, item 2): connections
# and TLS sessions opened while a VOMS AC and a CRL are still good, used
# again after they have run out.  Steps, each printed as
# "STEP <name> <status> reused=<0|1>" (status "ERR" when the exchange
# failed, with the reason on stderr):
#   before the AC deadline:
#     ac-ka-1      keep-alive connection A (--ac-cred), GET --fqan-path
#     ka-1         keep-alive connection B (--cred), GET --path
#     sid-1        TLS 1.2 full handshake, no tickets (server session
#                  cache), GET --path; its session is kept
#     tkt-1        TLS 1.2 full handshake with tickets; session kept
#     sid-resume-0 and tkt-resume-0: both sessions resumed at once
#   after the AC deadline (--ac-deadline, epoch seconds):
#     ac-ka-2      connection A again, GET --fqan-path
#     ac-ka-3      connection A again, GET --path (no FQAN needed)
#   after the CRL deadline (--crl-deadline):
#     ka-2         connection B again, GET --path
#     sid-resume-1 the session-ID session resumed, GET --path
#     tkt-resume-1 the ticket session resumed, GET --path
#     new-1        a new connection, GET --path
# A final "BODY <name> <first line of the body>" is printed for every 403.
# Every socket has a timeout; waits are bounded by the deadlines given.

import argparse
import socket
import ssl
import sys
import time


def ctx_for(cred, cafile, tls12=False, tickets=True):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(cafile)
    ctx.check_hostname = False
    ctx.load_cert_chain(cred)
    if tls12:
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    if not tickets:
        ctx.options |= ssl.OP_NO_TICKET
    return ctx


def connect(port, ctx, session=None):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    return ctx.wrap_socket(s, session=session)


def request(t, path, close=False):
    """One request on t; returns (status, first body line)."""
    t.sendall(("GET %s HTTP/1.1\r\nHost: a\r\n%s\r\n" %
               (path, "Connection: close\r\n" if close else "")).encode())
    data = b""
    while b"\r\n\r\n" not in data:
        b = t.recv(16384)
        if not b:
            raise OSError("connection closed before the response head")
        data += b
    head, body = data.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    status = lines[0].split(" ")[1]
    length = 0
    for h in lines[1:]:
        k, _, v = h.partition(":")
        if k.strip().lower() == "content-length":
            length = int(v.strip())
    while len(body) < length:
        b = t.recv(16384)
        if not b:
            break
        body += b
    first = body.decode("utf-8", "replace").split("\n", 1)[0]
    return status, first


def step(name, t, path, close=False):
    try:
        st, first = request(t, path, close)
    except (OSError, ssl.SSLError) as e:
        print("STEP %s ERR reused=0" % name)
        print("%s: %s" % (name, e), file=sys.stderr)
        return
    print("STEP %s %s reused=%d" % (name, st, 1 if t.session_reused else 0))
    if st == "403":
        print("BODY %s %s" % (name, first))
    sys.stdout.flush()


def one_shot(name, port, ctx, path, session=None):
    """A new connection (resuming session if given), one request; returns
    the connection's session."""
    try:
        t = connect(port, ctx, session)
    except (OSError, ssl.SSLError) as e:
        print("STEP %s ERR reused=0" % name)
        print("%s: %s" % (name, e), file=sys.stderr)
        return None
    step(name, t, path, close=True)
    sess = t.session
    # A session is resumable only after a clean TLS shutdown.
    try:
        t.unwrap()
    except (OSError, ssl.SSLError, ValueError):
        pass
    t.close()
    return sess


def wait_past(deadline, limit=120):
    now = time.time()
    if deadline - now > limit:
        sys.exit("deadline %d is too far ahead" % deadline)
    if now < deadline:
        time.sleep(deadline - now)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--cafile", required=True)
    ap.add_argument("--cred", required=True)
    ap.add_argument("--ac-cred", required=True)
    ap.add_argument("--path", required=True)
    ap.add_argument("--fqan-path", required=True)
    ap.add_argument("--ac-deadline", type=float, required=True)
    ap.add_argument("--crl-deadline", type=float, required=True)
    a = ap.parse_args()

    conn_a = connect(a.port, ctx_for(a.ac_cred, a.cafile))
    step("ac-ka-1", conn_a, a.fqan_path)
    conn_b = connect(a.port, ctx_for(a.cred, a.cafile))
    step("ka-1", conn_b, a.path)
    sid_ctx = ctx_for(a.cred, a.cafile, tls12=True, tickets=False)
    tkt_ctx = ctx_for(a.cred, a.cafile, tls12=True, tickets=True)
    sid = one_shot("sid-1", a.port, sid_ctx, a.path)
    tkt = one_shot("tkt-1", a.port, tkt_ctx, a.path)
    one_shot("sid-resume-0", a.port, sid_ctx, a.path, sid)
    one_shot("tkt-resume-0", a.port, tkt_ctx, a.path, tkt)
    print("READY %.0f" % time.time())
    sys.stdout.flush()

    wait_past(a.ac_deadline)
    step("ac-ka-2", conn_a, a.fqan_path)
    step("ac-ka-3", conn_a, a.path)

    wait_past(a.crl_deadline)
    step("ka-2", conn_b, a.path)
    one_shot("sid-resume-1", a.port, sid_ctx, a.path, sid)
    one_shot("tkt-resume-1", a.port, tkt_ctx, a.path, tkt)
    one_shot("new-1", a.port, ctx_for(a.cred, a.cafile), a.path)
    conn_a.close()
    conn_b.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
