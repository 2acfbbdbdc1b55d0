#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 the gridfront authors
#
# A faulty origin for tests/faults: it reads a request head and then only
# part of the request body (--read BYTES), and breaks the connection
# without answering, with a FIN (--how close) or a TCP reset
# (--how reset, SO_LINGER 0).  It prints "PORT <n>" once it listens and
# one "REQ <conn> <request line>" line per request head it received, so
# the caller can count exactly how many times a request reached it (a
# proxy must never replay a POST whose bytes it already sent).  A test
# tool: loopback only, bounded by --lifetime seconds.

import argparse
import socket
import struct
import sys
import threading
import time


def serve(conn, n, args, out_lock):
    conn.settimeout(10)
    buf = b""
    try:
        while b"\r\n\r\n" not in buf:
            d = conn.recv(65536)
            if not d:
                return
            buf += d
            if len(buf) > 1 << 20:
                return
        head, _, rest = buf.partition(b"\r\n\r\n")
        line = head.split(b"\r\n", 1)[0].decode("latin-1")
        with out_lock:
            print(f"REQ {n} {line}", flush=True)
        got = len(rest)
        while got < args.read:
            d = conn.recv(min(65536, args.read - got))
            if not d:
                break
            got += len(d)
        with out_lock:
            print(f"BODY {n} {got}", flush=True)
        if args.how == "reset":
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                            struct.pack("ii", 1, 0))
        else:
            conn.shutdown(socket.SHUT_WR)
            # Let the peer see the FIN before the descriptor goes.
            time.sleep(0.5)
    except OSError as e:
        with out_lock:
            print(f"ERR {n} {e}", flush=True)
    finally:
        conn.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--read", type=int, default=65536,
                    help="body bytes to read before breaking the connection")
    ap.add_argument("--how", choices=("close", "reset"), default="reset")
    ap.add_argument("--lifetime", type=float, default=600)
    args = ap.parse_args()

    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", 0))
    ls.listen(64)
    ls.settimeout(0.5)
    print(f"PORT {ls.getsockname()[1]}", flush=True)
    lock = threading.Lock()
    n = 0
    end = time.monotonic() + args.lifetime
    while time.monotonic() < end:
        try:
            c, _ = ls.accept()
        except socket.timeout:
            continue
        n += 1
        threading.Thread(target=serve, args=(c, n, args, lock),
                         daemon=True).start()
    return 0


if __name__ == "__main__":
    sys.exit(main())
