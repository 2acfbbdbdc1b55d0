#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 the gridfront authors
#
# An independent implementation of the CMS header protocol (PROTOCOL.md)
# for the end-to-end auth tests: it shares no code with auth/sign.c or
# auth/dnmap.c.  It signs header sets with HMAC-SHA1 the way PROTOCOL.md
# describes (sorted lower-cased names, "h<len>v<len>" prefix, "#", then
# name+value), builds the header set a CRIC record should produce, and
# reads the echo backend's JSON report (tests/e2e/backend.c) to list the
# cms-* headers it received and to verify their signature.
#
# Sub-commands (exit status 0 on success, 1 on a mismatch, 2 on misuse):
#
#   vectors                      check this implementation against both
#                                PROTOCOL.md test vectors
#   sign KEYFILE 'name: value'.. print the HMAC of those headers
#   expect --users F --dn DN --key KEYFILE --uri PATH [--fqans A,B]
#          [--method M] [--status S]
#                                print the exact cms-* header lines
#                                ("name: value", sorted) that gridfront must
#                                send for the CRIC user with that DN, HMAC
#                                included (computed over the expected set)
#   cms < ECHO_JSON              print every received header whose name,
#                                lower-cased with "_" read as "-", starts with
#                                "cms-", as "name: value" lines, sorted
#   verify KEYFILE < ECHO_JSON   recompute the HMAC over the received
#                                cms-authn-*/cms-authz-* headers and compare
#                                it with the one cms-authn-hmac received
#
# Names are compared byte-exact in "cms" output (gridfront sends them in
# lower case), values are UTF-8; header values that the backend marked as
# not valid UTF-8 are taken from its hex copy.

import hashlib
import hmac
import json
import re
import sys

TOKEN = re.compile(r"^(group|site):\S+$")


def signed_string(headers):
    """headers: list of (name, value) as bytes. Returns the string signed."""
    hs = sorted(((n.lower(), v) for n, v in headers
                 if (n.lower().startswith(b"cms-authn") or
                     n.lower().startswith(b"cms-authz")) and
                 n.lower() != b"cms-authn-hmac"), key=lambda h: h[0])
    out = b""
    for n, v in hs:
        out += b"h" + ("%x" % len(n)).encode() + b"v" + \
            ("%x" % len(v)).encode()
    out += b"#"
    for n, v in hs:
        out += n + v
    return out


def sign(key, headers):
    return hmac.new(key, signed_string(headers), hashlib.sha1).hexdigest()


def vectors():
    key = b"example-20-byte-key!"
    dn = (b"/DC=ch/DC=cern/OU=Organic Units/OU=Users/CN=jdoe/CN=123456/"
          b"CN=John Doe")
    v1 = [(b"cms-authn-method", b"X509Cert"), (b"cms-authn-dn", dn),
          (b"cms-authn-login", b"jdoe"), (b"cms-authn-name", b"John Doe"),
          (b"cms-authz-admin", b"group:reqmgr site:t1-ch-cern"),
          (b"cms-authz-user", b"group:users")]
    s1 = (b"hcv46hfv4h10v8hev8hfv1chevb#cms-authn-dn" + dn +
          b"cms-authn-loginjdoecms-authn-methodX509Certcms-authn-nameJohn "
          b"Doecms-authz-admingroup:reqmgr site:t1-ch-cerncms-authz-user"
          b"group:users")
    v2 = [(b"cms-authn-login", b"jmuller"),
          (b"cms-authn-method", b"X509Cert"),
          (b"cms-authn-name", "José Müller".encode("utf-8"))]
    s2 = (b"hfv7h10v8hevd#cms-authn-loginjmullercms-authn-methodX509Cert"
          b"cms-authn-nameJos\xc3\xa9 M\xc3\xbcller")
    ok = True
    for name, hs, s, mac in (
            ("vector 1", v1, s1, "a9299982340653b509e7499b50234cb5c8ef8310"),
            ("vector 2", v2, s2, "07a466a450b07b2e78529a7a4ae805af6755ef3b")):
        got_s = signed_string(hs)
        got_mac = sign(key, hs)
        if got_s != s or got_mac != mac:
            ok = False
            print("%s: MISMATCH string=%r hmac=%s (want %s)" %
                  (name, got_s, got_mac, mac))
        else:
            print("%s: ok %s" % (name, got_mac))
    return 0 if ok else 1


def read_key(path):
    with open(path, "rb") as f:
        return f.read()		# raw bytes, nothing trimmed


def parse_lines(lines):
    out = []
    for line in lines:
        n, sep, v = line.partition(": ")
        if not sep:
            raise SystemExit("bad header argument %r" % line)
        out.append((n.encode(), v.encode("utf-8")))
    return out


def echo_headers(report):
    """(name, value) bytes pairs from a backend echo report."""
    out = []
    for h in report["headers"]:
        if len(h) >= 4 and h[2] is not None:
            name = bytes.fromhex(h[2])
            value = bytes.fromhex(h[3]) if h[3] is not None else b""
        else:
            name = h[0].encode("utf-8")
            value = (h[1] or "").encode("utf-8")
        out.append((name, value))
    return out


def is_cms(name):
    return name.lower().replace(b"_", b"-").startswith(b"cms-")


def fmt(hs):
    return sorted((n + b": " + v).decode("utf-8", "backslashreplace")
                  for n, v in hs)


def expect(args):
    opts = {"--fqans": None, "--method": "X509Cert", "--status": "OK"}
    i = 0
    while i < len(args):
        if i + 1 >= len(args):
            raise SystemExit("option %s needs a value" % args[i])
        opts[args[i]] = args[i + 1]
        i += 2
    for k in ("--users", "--dn", "--key", "--uri"):
        if k not in opts:
            raise SystemExit("expect needs %s" % k)
    with open(opts["--users"], "rb") as f:
        users = json.loads(f.read().decode("utf-8"))
    rec = [u for u in users if u.get("DN") == opts["--dn"]]
    if len(rec) != 1:
        print("no single CRIC record for %r (%d found)" %
              (opts["--dn"], len(rec)))
        return 1
    u = rec[0]
    hs = [(b"cms-authn-method", opts["--method"].encode()),
          (b"cms-authn-dn", u["DN"].encode("utf-8")),
          (b"cms-authn-login", u["LOGIN"].encode("utf-8"))]
    if u.get("NAME"):
        hs.append((b"cms-authn-name", u["NAME"].encode("utf-8")))
    for role, toks in (u.get("ROLES") or {}).items():
        good = [t for t in toks if TOKEN.match(t)]
        hs.append((("cms-authz-" + role.lower()).encode(),
                   " ".join(good).encode("utf-8")))
    if opts["--fqans"]:
        hs.append((b"cms-authn-voms-fqans", opts["--fqans"].encode()))
    mac = sign(read_key(opts["--key"]), hs)
    hs.append((b"cms-authn-hmac", mac.encode()))
    hs.append((b"cms-auth-status", opts["--status"].encode()))
    hs.append((b"cms-request-uri", opts["--uri"].encode("utf-8")))
    for line in fmt(hs):
        print(line)
    return 0


def main(argv):
    if len(argv) < 2:
        print(__doc__ or "usage: see the file header", file=sys.stderr)
        return 2
    cmd = argv[1]
    if cmd == "vectors":
        return vectors()
    if cmd == "sign" and len(argv) >= 3:
        print(sign(read_key(argv[2]), parse_lines(argv[3:])))
        return 0
    if cmd == "expect":
        return expect(argv[2:])
    if cmd == "cms":
        report = json.load(sys.stdin)
        for line in fmt([h for h in echo_headers(report) if is_cms(h[0])]):
            print(line)
        return 0
    if cmd == "verify" and len(argv) == 3:
        report = json.load(sys.stdin)
        hs = echo_headers(report)
        got = [v.decode("latin-1") for n, v in hs
               if n.lower() == b"cms-authn-hmac"]
        exp = sign(read_key(argv[2]), hs)
        if got == [exp]:
            print("ok " + exp)
            return 0
        print("expected %s, received %s" % (exp, got))
        return 1
    print("unknown command or arguments: %s" % " ".join(argv[1:]),
          file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
