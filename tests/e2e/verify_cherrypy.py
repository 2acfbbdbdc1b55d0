#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 the gridfront authors
#
# A CherryPy application that checks cms-authn-hmac the way the Python CMS
# services (ReqMgr2, WMStats, the MicroServices, CRABServer, T0) do with
# WMCore's REST/Auth.py user_info_from_headers.  Written for the tests from
# that published algorithm, not from its code.  What matters is where the
# bytes go on Python 3: CherryPy hands the application header values as
# str decoded from ISO-8859-1 (one character per byte); the check lower-
# cases the cms-* names, walks them sorted, builds "h%xv%x" from len() of
# those strings (so byte lengths) and name+value, and encodes the whole
# message as UTF-8 before HMAC-SHA1, so a byte >= 0x80 is hashed as two.
#
# Every request is answered 200 with a JSON report:
#   {"verdict": "ok" | "bad" | "none" | "missing" | "error",
#    "hmac": <computed>, "login": ..., "name": ..., "dn": ..., "method": ...,
#    "roles": {role: {"group": [...], "site": [...]}},
#    "name_utf8": ..., "dn_utf8": ...}
# "missing" (no cms-auth-status) and "error" (a cms-authz value WMCore
# cannot parse) are where WMCore would answer 403 and 500.  name and dn
# are the strings as the application sees them; name_utf8 and dn_utf8 the
# same read back as the UTF-8 the frontend meant.
#
# Usage: verify_cherrypy.py --port PORT --key KEYFILE [--vectors-key KEY]
# Serves 127.0.0.1:PORT; requests under /vectors/ are checked with the
# second key (the PROTOCOL.md test vectors use their own).  Needs CherryPy
# (Debian python3-cherrypy3); exits 3 when it cannot import it.

import hashlib
import hmac
import json
import sys

try:
    import cherrypy
except ImportError:
    print("verify_cherrypy.py: CherryPy is not installed", file=sys.stderr)
    sys.exit(3)


def user_from_headers(key):
    """The user_info_from_headers check on the current request."""
    headers = {}
    for name, value in cherrypy.request.headers.items():
        low = name.lower()
        headers[low if low.startswith("cms-") else name] = value
    if "cms-auth-status" not in headers:
        return {"verdict": "missing"}
    if headers["cms-auth-status"] == "NONE":
        return {"verdict": "none"}
    user = {"dn": None, "method": None, "login": None, "name": None,
            "roles": {}}
    prefix = suffix = ""
    for name in sorted(headers):
        low = name.lower()
        if low[:9] not in ("cms-authn", "cms-authz") or \
                low == "cms-authn-hmac":
            continue
        value = headers[name]
        prefix += "h%xv%x" % (len(low), len(value))
        suffix += low + value
        short = low.split("-", 2)[-1]
        if low.startswith("cms-authn"):
            user[short] = value
        else:
            role = {"group": [], "site": []}
            try:
                for tok in value.split():
                    kind, what = tok.split(":")
                    role[kind].append(what)
            except (ValueError, KeyError):
                return {"verdict": "error"}
            user["roles"][short] = role
    mac = hmac.new(key, (prefix + "#" + suffix).encode("utf-8"),
                   hashlib.sha1).hexdigest()
    user["hmac"] = mac
    user["verdict"] = "ok" if mac == headers.get("cms-authn-hmac") \
        else "bad"
    for f in ("name", "dn"):
        if user[f] is not None:
            user[f + "_utf8"] = user[f].encode("latin-1").decode(
                "utf-8", "replace")
    return user


class Verifier:
    def __init__(self, key):
        self.key = key

    @cherrypy.expose
    def default(self, *args, **kwargs):
        cherrypy.response.headers["Content-Type"] = "application/json"
        return (json.dumps(user_from_headers(self.key)) + "\n").encode()


def main(argv):
    opts = {}
    i = 1
    while i + 1 < len(argv):
        opts[argv[i]] = argv[i + 1]
        i += 2
    if "--key" not in opts or "--port" not in opts or i != len(argv):
        print("usage: verify_cherrypy.py --port PORT --key KEYFILE "
              "[--vectors-key KEYFILE]", file=sys.stderr)
        return 2
    with open(opts["--key"], "rb") as f:
        key = f.read()			# raw, nothing trimmed
    vkey = key
    if "--vectors-key" in opts:
        with open(opts["--vectors-key"], "rb") as f:
            vkey = f.read()
    cherrypy.config.update({
        "server.socket_host": "127.0.0.1",
        "server.socket_port": int(opts["--port"]),
        "server.thread_pool": 4,
        "engine.autoreload.on": False,
        "checker.on": False,
        "log.screen": False,
        "log.access_file": "",
        "log.error_file": "",
    })
    cherrypy.tree.mount(Verifier(key), "/")
    cherrypy.tree.mount(Verifier(vkey), "/vectors")
    cherrypy.engine.signals.subscribe()
    cherrypy.engine.start()
    print("PORT %s" % opts["--port"], flush=True)
    cherrypy.engine.block()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
