#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 the gridfront authors
#
# Regenerate the seed corpora in tests/fuzz/corpus/<target>/ from the unit
# tests, the fixtures, the e2e rejection table and the test PKI, plus
# hand-written hostile cases.  Usage (from the repository root):
#   python3 tests/fuzz/mkseeds.py [PKI_DIR]      (default build/pki)
# Seeds are named seed-<sha1 prefix>, so re-running only adds files;
# libFuzzer's own finds (sha1 names) are kept as they are.  The PKI is
# only read (it is made by tests/fixtures/certs/mkcerts.sh).

import glob
import hashlib
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
PKI = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, 'build/pki')
OUT = os.path.join(ROOT, 'tests/fuzz/corpus')


def put(target, data):
    if isinstance(data, str):
        data = data.encode('utf-8', 'surrogateescape')
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    name = 'seed-' + hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data)


def read(path):
    with open(os.path.join(ROOT, path), 'rb') as f:
        return f.read()


# ---- C string literals ----------------------------------------------------

ESC = {'n': 10, 'r': 13, 't': 9, '0': 0, '\\': 92, '"': 34, "'": 39,
       'a': 7, 'b': 8, 'f': 12, 'v': 11, '?': 63}


def c_unescape(s):
    out = bytearray()
    i = 0
    while i < len(s):
        c = s[i]
        if c != '\\':
            out += c.encode('utf-8')
            i += 1
            continue
        n = s[i + 1]
        if n == 'x':
            m = re.match(r'[0-9a-fA-F]+', s[i + 2:])
            out.append(int(m.group(0), 16) & 0xff)
            i += 2 + len(m.group(0))
        elif n in '01234567':
            m = re.match(r'[0-7]{1,3}', s[i + 1:])
            out.append(int(m.group(0), 8) & 0xff)
            i += 1 + len(m.group(0))
        else:
            out.append(ESC.get(n, ord(n)))
            i += 2
    return bytes(out)


def c_strings(path):
    """Concatenated adjacent string literals (and string macros) of a file."""
    src = read(path).decode('utf-8', 'replace')
    src = re.sub(r'/\*.*?\*/', ' ', src, flags=re.S)
    macros = {}
    for m in re.finditer(r'^#define\s+(\w+)\s+((?:"(?:[^"\\]|\\.)*"\s*)+)$',
                         src, re.M):
        macros[m.group(1)] = b''.join(
            c_unescape(x) for x in re.findall(r'"((?:[^"\\]|\\.)*)"',
                                              m.group(2)))
    tok = re.compile(r'"((?:[^"\\]|\\.)*)"|\b(' +
                     '|'.join(map(re.escape, macros)) + r')\b'
                     if macros else r'"((?:[^"\\]|\\.)*)"')
    res = []
    pos = 0
    cur = None
    last_end = 0
    for m in tok.finditer(src):
        gap = src[last_end:m.start()]
        piece = (c_unescape(m.group(1)) if m.group(1) is not None
                 else macros[m.group(2)])
        if cur is not None and gap.strip() == '':
            cur += piece
        else:
            if cur is not None:
                res.append(cur)
            cur = piece
        last_end = m.end()
    if cur is not None:
        res.append(cur)
    return res


# ---- DER helpers ----------------------------------------------------------

def der_read(b, i):
    """Return (tag, header_len, content_len) of the TLV at b[i:]."""
    tag = b[i]
    l = b[i + 1]
    if l < 0x80:
        return tag, 2, l
    k = l & 0x7f
    return tag, 2 + k, int.from_bytes(b[i + 2:i + 2 + k], 'big')


def der_children(b, i):
    tag, h, l = der_read(b, i)
    j = i + h
    kids = []
    while j < i + h + l:
        t, hh, ll = der_read(b, j)
        kids.append((j, hh + ll, t))
        j += hh + ll
    return kids


def pem_certs(path):
    txt = open(path, 'rb').read().decode('ascii', 'replace')
    out = []
    for m in re.finditer(r'-----BEGIN CERTIFICATE-----(.*?)-----END '
                         r'CERTIFICATE-----', txt, re.S):
        import base64
        out.append(base64.b64decode(''.join(m.group(1).split())))
    return out


def cert_names(der):
    """Issuer and subject DER of a certificate."""
    tbs = der_children(der, 0)[0][0]
    kids = der_children(der, tbs)
    k = 1 if kids[0][2] == 0xa0 else 0
    iss, sub = kids[k + 2], kids[k + 4]
    return [der[iss[0]:iss[0] + iss[1]], der[sub[0]:sub[0] + sub[1]]]


VOMS_OID = bytes.fromhex('060a2b06010401be45646405')


def cert_voms_acs(der):
    """The ACs inside the VOMS extension of a certificate, if any."""
    i = der.find(VOMS_OID)
    if i < 0:
        return []
    j = i + len(VOMS_OID)
    t, h, l = der_read(der, j)
    if t == 0x01:                          # critical BOOLEAN
        j += h + l
        t, h, l = der_read(der, j)
    ext = der[j + h:j + h + l]             # OCTET STRING content
    out = [ext]
    seqof = der_children(ext, 0)[0][0]
    for off, ln, _ in der_children(ext, seqof):
        out.append(ext[off:off + ln])
    return out


# ---- targets --------------------------------------------------------------

METHODS = (b'GET ', b'POST ', b'PUT ', b'HEAD ', b'DELETE ', b'OPTIONS ',
           b'PATCH ', b'TRACE ', b'CONNECT ', b'FOO ', b'GETT ', b'DESCRIBE ')


def seeds_http():
    n = 0
    for path in ('tests/unit/test_http.c', 'tests/unit/test_forward.c'):
        if not os.path.exists(os.path.join(ROOT, path)):
            continue
        for s in c_strings(path):
            if (s.startswith(METHODS) or s.startswith(b'HTTP/') or
                    s.startswith(b'\r\n')) and len(s) < 4096:
                put('http_request', s)
                n += 1
    # The e2e rejection table: reject NAME STATUS "REQUEST" / accept.
    p = os.path.join(ROOT, 'tests/e2e/t_reject.sh')
    if os.path.exists(p):
        src = open(p).read()
        for m in re.finditer(r'^\s*(?:reject|accept)\s+"[^"]*"\s+'
                             r'(?:\S+\s+)?"((?:[^"\\]|\\.)*)"', src, re.M):
            s = m.group(1).replace('${H}', r'Host: a\r\n')
            if '$(' in s or '${' in s:
                continue
            put('http_request', c_unescape(s))
            n += 1
    hostile = [
        # Smuggling: CL.TE, TE.CL, TE.TE and friends.
        'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 6\r\n'
        'Transfer-Encoding: chunked\r\n\r\n0\r\n\r\nG',
        'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n'
        'Content-Length: 3\r\n\r\n8\r\nSMUGGLED\r\n0\r\n\r\n',
        'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n'
        'Transfer-Encoding: x\r\n\r\n0\r\n\r\n',
        'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n',
        'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n',
        'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, '
        'identity\r\n\r\n',
        'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\tchunked\r\n\r\n',
        'POST / HTTP/1.1\r\nHost: a\r\nTransfer_Encoding: chunked\r\n\r\n',
        'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\nhello',
        'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\nhello',
        'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x5\r\n\r\nhello',
        'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: '
        '99999999999999999999\r\n\r\n',
        'POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
        'GET / HTTP/1.1\r\nHost: a\r\nConnection: close, Host\r\n\r\n',
        'GET / HTTP/1.1\r\nHost: a\r\nConnection: Content-Length\r\n'
        'Content-Length: 0\r\n\r\n',
        # Spoofed identity headers in several spellings.
        'GET / HTTP/1.1\r\nHost: a\r\ncms-authn-dn: /CN=root\r\n'
        'CMS-AUTHN-LOGIN: root\r\ncms_authn_name: x\r\n'
        'Cms-Authz-Admin: group:all\r\ncms-authn-hmac: 00\r\n\r\n',
        'GET / HTTP/1.1\r\nHost: a\r\nSSL-Client-S-DN: /CN=x\r\n'
        'X-SSL-Client-Verify: SUCCESS\r\nX-Client-DN: /CN=x\r\n'
        'Client-Cert: :AAAA:\r\nX-Forwarded-Client-Cert: By=x\r\n'
        'Remote-User: root\r\nX_Remote_User: root\r\n\r\n',
        'GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 1.2.3.4\r\n'
        'Forwarded: for=1.2.3.4\r\nVia: 1.1 x\r\nX-Real-IP: 1.2.3.4\r\n'
        'Proxy: http://evil\r\nConnection: keep-alive, cms-authn-dn\r\n\r\n',
        'GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n c\r\n\r\n',
        'GET / HTTP/1.1\r\nHost: a\r\nX-A: b\x00c\r\n\r\n',
        'GET / HTTP/1.1\r\nHost: a\r\nX-A: b\rc\r\n\r\n',
        'GET / HTTP/1.1\r\nHost: a\r\nX-A: b\nInjected: 1\r\n\r\n',
        'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n',
        'GET / HTTP/1.1\r\nHost: a\r\nhost : b\r\n\r\n',
        'GET / HTTP/1.1\r\nHost: [::1]:8443\r\n\r\n',
        'GET / HTTP/1.1\r\nHost: a@b\r\n\r\n',
        'GET http://a/ HTTP/1.1\r\nHost: a\r\n\r\n',
        'GET a:80 HTTP/1.1\r\nHost: a\r\n\r\n',
        'OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n',
        'GET * HTTP/1.1\r\nHost: a\r\n\r\n',
        'GET /dbs/%2e%2e/admin HTTP/1.1\r\nHost: a\r\n\r\n',
        'GET /dbs/..;/admin HTTP/1.1\r\nHost: a\r\n\r\n',
        'GET /a%2Fb HTTP/1.1\r\nHost: a\r\n\r\n',
        'GET /a\\b HTTP/1.1\r\nHost: a\r\n\r\n',
        'GET /a#frag HTTP/1.1\r\nHost: a\r\n\r\n',
        'GET /a?b=c%20d&e HTTP/1.1\r\nHost: a\r\n\r\n',
        'GET /%41%7e%5F HTTP/1.1\r\nHost: a\r\n\r\n',
        'GET /\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n',
        'POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n'
        'Content-Length: 3\r\n\r\nabc',
        'POST / HTTP/1.1\r\nHost: a\r\nExpect: 200-ok\r\n\r\n',
        'GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n'
        'GET /2 HTTP/1.1\r\nHost: a\r\n\r\nGET /3 HTTP/1.1\r\nHost: a\r\n'
        'Connection: close\r\n\r\n',
        '\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n',
        '\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n',
        'GET / HTTP/1.1\r\nHost: a\r\nUpgrade: h2c\r\nConnection: Upgrade, '
        'HTTP2-Settings\r\n\r\n',
        'GET / HTTP/1.1\r\nHost: a\r\nCookie: a=b\r\nCookie: c=d\r\n\r\n',
        # Responses (the same bytes also feed http_parse_response).
        'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello',
        'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
        'HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n',
        'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n',
        'HTTP/1.1 204\r\n\r\n',
        'HTTP/1.0 200 OK\r\n\r\nuntil close',
        'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n'
        'Content-Length: 0\r\n\r\n',
        'HTTP/1.1 200 OK\r\nSet-Cookie: a\r\n folded\r\n\r\n',
    ]
    for s in hostile:
        put('http_request', s.encode('latin-1'))
    return n + len(hostile)


def seeds_chunked():
    n = 0
    ctl = (0x00, 0x15, 0x3f, 0x72, 0xf5)
    for path in ('tests/unit/test_chunk.c', 'tests/unit/test_http.c'):
        if not os.path.exists(os.path.join(ROOT, path)):
            continue
        for s in c_strings(path):
            if b'\r\n' in s and re.match(rb'^[0-9a-fA-F; ]', s) and \
                    len(s) < 4096:
                put('chunked', bytes([ctl[n % len(ctl)]]) + s)
                n += 1
    hostile = [
        b'5\r\nhello\r\n0\r\n\r\n',
        b'5;name=value;q="a\\"b"\r\nhello\r\n0\r\nTrailer: x\r\n\r\n',
        b'7fffffffffffffff\r\nabc',
        b'8000000000000000\r\n',
        b'5\nhello\n0\n\n',
        b'5\r\nhelloXX0\r\n\r\n',
        b'0\r\nX: a\r\n b\r\n\r\n',
        b'0\r\n\r\nGET / HTTP/1.1\r\n\r\n',
        b'1\r\na\r\n1\r\nb\r\n1\r\nc\r\n0\r\nA: 1\r\nB: 2\r\n\r\n',
        b'000000000000000001\r\na\r\n0\r\n\r\n',
        b'5 ;\r\nhello\r\n0\r\n\r\n',
        b'5\r\r\nhello\r\n0\r\n\r\n',
        b'0;' + b'x' * 300 + b'\r\n\r\n',
        b'0\r\n' + b'T: ' + b'v' * 9000 + b'\r\n\r\n',
    ]
    for i, s in enumerate(hostile):
        put('chunked', bytes([ctl[i % len(ctl)]]) + s)
    return n + len(hostile)


def seeds_path():
    n = 0
    for path in ('tests/unit/test_path.c', 'tests/unit/test_route.c',
                 'tests/unit/test_http.c'):
        if not os.path.exists(os.path.join(ROOT, path)):
            continue
        for s in c_strings(path):
            if s.startswith(b'/') and len(s) < 2048 and b'\r' not in s:
                put('path_route', s)
                n += 1
    hostile = [
        '/dbs/prod/global/DBSReader/datasets?dataset=/a/b/c',
        '/dbs/prod/global/DBSReaderX', '/dbs', '/dbsx', '/dbs/../auth/trouble',
        '/couchdb/wmstats/_design/WMStats/_view/requestByStatus?stale=ok',
        '/couchdb/wmstats/_design/WMStats/_view/a/../../_view/x',
        '/abc/x', '/ac/x', '/x1', '/y2/z', '/litab/v12', '/litb/v', '/repx',
        '/reppx', '/dot.dir/a', '/dotxdir/a', '/Case/', '/case/x',
        '/opt', '/opt/x', '/opt/y', '/opt/x/y', '/crabserver/prod/info',
        '/crabserver', '/t0wmadatasvc/replayone/hello', '/auth/trouble',
        '/v1.2/x', '/v../etc/passwd', '/v./a', '/%2e%2e/%2E%2E/etc',
        '/a/%2e/b', '/a/.%2e/b', '/a/%2F', '/a/%5c', '/a/%00', '/a/%zz',
        '/a/%4', '/a/%', '/a//b///c', '/a/..;/b', '/a/.;x/b', '/a;x/../b',
        '/%7Euser/%41', '/a?', '/a?b?c', '/a?b#c', '/\xc3\xa9', '/a b',
        '/a\tb', '/..', '/../..', '/.', '/', '/a/b/c/./../../d',
    ]
    for s in hostile:
        put('path_route', s.encode('latin-1'))
    return n + len(hostile)


def seeds_conf():
    n = 0
    for p in sorted(glob.glob(os.path.join(ROOT, 'tests/fixtures/conf/*.yaml'))
                    + glob.glob(os.path.join(ROOT, 'conf/examples/*.yaml'))
                    + [os.path.join(ROOT, 'tests/fuzz/fuzz_path_route.yaml')]):
        put('conf', open(p, 'rb').read())
        n += 1
    return n


def seeds_cric():
    n = 0
    for p in sorted(glob.glob(os.path.join(ROOT, 'tests/fixtures/cric/*.json'))
                    + [os.path.join(PKI, 'users.json')]):
        if os.path.exists(p):
            put('cric', open(p, 'rb').read())
            n += 1
    hostile = [
        '[{"DN":"/CN=a\\r\\ncms-authn-login: root","ID":1,"LOGIN":"a",'
        '"NAME":"","ROLES":{}}]',
        '[{"DN":"/CN=a","ID":1,"LOGIN":"a\\u0000b","NAME":"","ROLES":{}}]',
        '[{"DN":"/CN=a","ID":1,"LOGIN":"a","NAME":"x\\u007f","ROLES":{}}]',
        '[{"DN":"/CN=a","ID":1,"LOGIN":"a","NAME":"","ROLES":'
        '{"Adm\\r\\nX":["group:x"],"ok":["group:a\\r\\nb","site:s"]}}]',
        '[{"DN":"/CN=a/CN=b","ID":1,"LOGIN":"a","NAME":"A","ROLES":{}},'
        '{"DN":"/CN=b/CN=a","ID":2,"LOGIN":"b","NAME":"B","ROLES":{}}]',
        '[{"DN":"/CN=a","ID":1,"LOGIN":"a","NAME":"A","ROLES":{}},'
        '{"DN":"/CN=a","ID":2,"LOGIN":"b","NAME":"B","ROLES":{}}]',
        '[{"DN":"/CN=x\\\\/CN=y/O=z\\\\","ID":1,"LOGIN":"x","NAME":"",'
        '"ROLES":{"r":["group:g"]}}]',
        '[{"DN":"/CN=multi+UID=m/O=o","ID":9223372036854775807,"LOGIN":"m",'
        '"NAME":"M","ROLES":{"a":["group:x","group:x","site:y"]}}]',
        '[{"DN":"/","ID":-1,"LOGIN":"z","NAME":"Z","ROLES":{"r":[]}}]',
        '[1, "x", null, [], {"DN":"/CN=a","ID":1.5,"LOGIN":"a","NAME":"",'
        '"ROLES":{}}]',
        '[{"DN":"/CN=a","ID":1,"LOGIN":"a","NAME":"","ROLES":{},'
        '"DN":"/CN=b"}]',
        '[' * 100 + ']' * 100,
        '[{"DN":"/CN=a","ID":1,"LOGIN":"a","NAME":"","ROLES":{}}',
        '\ufeff[{"DN":"/CN=a","ID":1,"LOGIN":"a","NAME":"","ROLES":{}}]',
    ]
    for s in hostile:
        put('cric', s)
    return n + len(hostile)


def pki_certs():
    files = sorted(glob.glob(os.path.join(PKI, 'creds/*.pem')) +
                   glob.glob(os.path.join(PKI, 'keys/*.pem')) +
                   glob.glob(os.path.join(PKI, 'voms/*.pem')))
    for p in files:
        try:
            for der in pem_certs(p):
                yield p, der
        except (ValueError, IndexError):
            continue


def seeds_dn():
    tails = [
        b'',
        b'\0X509Cert\0alice\0Alice Tester\0user\0group:users\0\0'
        b'/cms/Role=production/Capability=NULL\0/cms/Role=NULL/Capability=NULL',
        b'\0X509Cert\0bob\0Bob Builder\0admin\0group:all site:x\0'
        b'operator\0group:dbs\0',
        b'\0X509Cert\0eve\r\ncms-authn-login: root\0Eve\0',
        b'\0X509Cert\0eve\0Eve\nX: y\0Admin\0group:x\0admin\0group:y\0',
        b'\0\0\0\0a\0b\0\0/cms,/atlas',
        b'\0Method\twith tab\0l\0n\0r-1\0v\x7f\0\0',
    ]
    seen = set()
    n = 0
    for p, der in pki_certs():
        for name in cert_names(der):
            if name in seen:
                continue
            seen.add(name)
            put('dn', name + tails[n % len(tails)])
            n += 1
    # A name whose DER fails and the whole input is the identity strings.
    put('dn', b'/DC=ch/DC=cern/CN=x\0X509Cert\0login\0name\0role\0group:g')
    put('dn', b'/CN=a\r\nInjected: 1\0X509Cert\0l')
    return n + 2


def seeds_voms():
    n = 0
    for p, der in pki_certs():
        for ac in cert_voms_acs(der):
            put('voms', ac)
            n += 1
    extra = os.path.join(ROOT, 'build/tests/voms')
    for p in sorted(glob.glob(os.path.join(extra, 'proxies/*.pem'))):
        try:
            for der in pem_certs(p):
                for ac in cert_voms_acs(der):
                    put('voms', ac)
                    n += 1
        except (ValueError, IndexError):
            continue
    return n


def main():
    counts = {
        'http_request': seeds_http(),
        'chunked': seeds_chunked(),
        'path_route': seeds_path(),
        'conf': seeds_conf(),
        'cric': seeds_cric(),
        'dn': seeds_dn(),
        'voms': seeds_voms(),
    }
    for k, v in counts.items():
        print('%-13s %d seeds' % (k, v))


if __name__ == '__main__':
    main()
