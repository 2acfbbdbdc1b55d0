#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 the gridfront authors
#
# Test issuers for the bearer-token tests (issue 14): keys, JWKS files and
# signed tokens, made at test time with python3-cryptography, and with
# python3-jwt (PyJWT) for the well-formed ones so that gridfront is checked
# against an independent JOSE implementation.  The raw form signs exact
# header and claim bytes, so hostile tokens (duplicate keys, odd numbers)
# carry valid signatures and are refused for what they are.
#
#   key rsa|ec OUT.pem             make a private key
#   jwks OUT kid=KEY.pem ...       write a JWKS of the public keys
#   mint KEY.pem KID CLAIMS_JSON   PyJWT token (RS256/ES256 by key type);
#                                  "exp"/"iat" of "+N" are now+N seconds
#   raw KEY.pem HEADER CLAIMS      sign the exact bytes HEADER.CLAIMS, with
#                                  __EXP__ replaced by now+600 (KEY "none":
#                                  an empty signature; "hs:PEM":
#                                  HS256 keyed with that public key's PEM)
#   pad KEY.pem KID CLAIMS_JSON N  mint with a "pad" claim sized so the
#                                  token is exactly N bytes

import base64
import hashlib
import hmac
import json
import sys
import time

import jwt
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import \
    decode_dss_signature


def b64(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def load(path):
    with open(path, "rb") as f:
        return serialization.load_pem_private_key(f.read(), None)


def times(c):
    now = int(time.time())
    for k in ("exp", "iat", "nbf"):
        if isinstance(c.get(k), str) and c[k][:1] in "+-" and \
                c[k][1:].isdigit():
            c[k] = now + int(c[k])
    return c


def jwk(kid, key):
    pub = key.public_key()
    if isinstance(key, rsa.RSAPrivateKey):
        n = pub.public_numbers()
        return {"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256",
                "n": b64(n.n.to_bytes((n.n.bit_length() + 7) // 8, "big")),
                "e": b64(n.e.to_bytes((n.e.bit_length() + 7) // 8, "big"))}
    n = pub.public_numbers()
    return {"kty": "EC", "kid": kid, "crv": "P-256",
            "x": b64(n.x.to_bytes(32, "big")),
            "y": b64(n.y.to_bytes(32, "big"))}


def sign(key, data):
    if isinstance(key, rsa.RSAPrivateKey):
        return key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    r, s = decode_dss_signature(key.sign(data, ec.ECDSA(hashes.SHA256())))
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def alg(key):
    return "RS256" if isinstance(key, rsa.RSAPrivateKey) else "ES256"


def main(a):
    if a[0] == "key":
        k = rsa.generate_private_key(65537, 2048) if a[1] == "rsa" else \
            ec.generate_private_key(ec.SECP256R1())
        with open(a[2], "wb") as f:
            f.write(k.private_bytes(serialization.Encoding.PEM,
                                    serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()))
    elif a[0] == "jwks":
        keys = [jwk(s.split("=", 1)[0], load(s.split("=", 1)[1]))
                for s in a[2:]]
        with open(a[1] + ".tmp", "w") as f:
            json.dump({"keys": keys}, f)
        import os
        os.replace(a[1] + ".tmp", a[1])
    elif a[0] == "mint":
        k = load(a[1])
        print(jwt.encode(times(json.loads(a[3])), k, algorithm=alg(k),
                         headers={"kid": a[2]}))
    elif a[0] == "pad":
        k = load(a[1])
        want = int(a[4])
        # An unpadded base64url part is never 1 mod 4 long, so the
        # header is varied too to reach every total length.
        for m in range(0, 4):
            for n in range(0, want):
                c = times(json.loads(a[3]))
                c["pad"] = "x" * n
                t = jwt.encode(c, k, algorithm=alg(k),
                               headers={"kid": a[2], "x": "y" * m})
                if len(t) == want:
                    print(t)
                    return 0
                if len(t) > want:
                    break
        return 1
    elif a[0] == "raw":
        h = a[2].encode()
        c = a[3].replace("__EXP__", str(int(time.time()) + 600)).encode()
        si = (b64(h) + "." + b64(c)).encode()
        if a[1] == "none":
            print(si.decode() + ".")
        elif a[1].startswith("hs:"):
            pem = load(a[1][3:]).public_key().public_bytes(
                serialization.Encoding.PEM,
                serialization.PublicFormat.SubjectPublicKeyInfo)
            print(si.decode() + "." +
                  b64(hmac.new(pem, si, hashlib.sha256).digest()))
        else:
            print(si.decode() + "." + b64(sign(load(a[1]), si)))
    else:
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
