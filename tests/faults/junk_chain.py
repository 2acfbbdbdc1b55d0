#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 the gridfront authors
#
# The junk-chain client of tests/faults/t_junk_chain.sh (issue 17, item 1).
# Each handshake presents a fresh self-signed client certificate followed
# by JUNK certificates of about SIZE bytes each (a random non-critical
# extension, so every chain is different and OpenSSL parses every one),
# then sends one GET and reads the answer.  No login is needed: this is
# what anyone on the network can do.  Prints one line per outcome class
# ("status 403: N", "handshake failed: N") and, with --expect-body, counts
# the answers whose body contains that text.  Bounded: COUNT handshakes,
# each with a socket timeout, and --deadline seconds in all.
#
# usage: junk_chain.py --port P --count N [--junk J] [--size S]
#                      [--path /cert/x] [--deadline 120] [--expect-body T]

import argparse
import collections
import datetime
import os
import socket
import ssl
import sys
import tempfile
import time

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

JUNK_OID = x509.ObjectIdentifier("1.3.6.1.4.1.99999.17.1")


def name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def cert(subject, issuer, key, signer, extra=None):
    now = datetime.datetime.now(datetime.timezone.utc)
    b = (x509.CertificateBuilder()
         .subject_name(subject).issuer_name(issuer)
         .public_key(key.public_key())
         .serial_number(x509.random_serial_number())
         .not_valid_before(now - datetime.timedelta(hours=1))
         .not_valid_after(now + datetime.timedelta(days=1)))
    if extra is not None:
        b = b.add_extension(x509.UnrecognizedExtension(JUNK_OID, extra),
                            critical=False)
    return b.sign(signer, hashes.SHA256())


def one(args, key, junk_key, tmp):
    tag = os.urandom(8).hex()
    leaf = cert(name("junk-" + tag), name("junk-" + tag), key, key)
    pem = leaf.public_bytes(serialization.Encoding.PEM)
    for i in range(args.junk):
        j = cert(name("junk-%s-%d" % (tag, i)), name("junk-issuer-%d" % i),
                 junk_key, junk_key, os.urandom(args.size))
        pem += j.public_bytes(serialization.Encoding.PEM)
    certfile = os.path.join(tmp, "chain.pem")
    with open(certfile, "wb") as f:
        f.write(pem)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.load_cert_chain(certfile, os.path.join(tmp, "key.pem"))
    try:
        with socket.create_connection(("127.0.0.1", args.port),
                                      timeout=10) as s:
            with ctx.wrap_socket(s) as t:
                t.sendall(("GET %s HTTP/1.1\r\nHost: a\r\n"
                           "Connection: close\r\n\r\n" % args.path).encode())
                data = b""
                while len(data) < 65536:
                    b = t.recv(16384)
                    if not b:
                        break
                    data += b
    except (OSError, ssl.SSLError):
        return "handshake failed", False
    line = data.split(b"\r\n", 1)[0].decode("latin-1")
    parts = line.split(" ")
    status = parts[1] if len(parts) > 1 else "?"
    hit = args.expect_body is not None and \
        args.expect_body.encode() in data
    return "status " + status, hit


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--junk", type=int, default=6)
    ap.add_argument("--size", type=int, default=15000)
    ap.add_argument("--path", default="/cert/x")
    ap.add_argument("--deadline", type=float, default=120)
    ap.add_argument("--expect-body")
    args = ap.parse_args()
    key = ec.generate_private_key(ec.SECP256R1())
    junk_key = ec.generate_private_key(ec.SECP256R1())
    counts = collections.Counter()
    hits = 0
    end = time.monotonic() + args.deadline
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "key.pem"), "wb") as f:
            f.write(key.private_bytes(serialization.Encoding.PEM,
                                      serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()))
        for _ in range(args.count):
            if time.monotonic() > end:
                counts["deadline passed"] += 1
                break
            what, hit = one(args, key, junk_key, tmp)
            counts[what] += 1
            hits += hit
    for k in sorted(counts):
        print("%s: %d" % (k, counts[k]))
    if args.expect_body is not None:
        print("body matches: %d" % hits)
    return 0


if __name__ == "__main__":
    sys.exit(main())
