#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 the gridfront authors
"""Hostile HTTP/2 client for the end-to-end tests (tests/e2e/t_h2_hostile.sh).

It opens TLS connections with a client certificate, insists on ALPN h2 and
builds the frames itself (hyperframe for framing, the hpack module for
header blocks, no h2 state machine in the way), so that it can send what a
conforming client never would: every malformed request of RFC 9113 section
8 that issue 15 lists (and a few more: non-token names, request-line
injection through :method and :path, two hosts), the floods (rapid reset,
CONTINUATION, SETTINGS, PING, PRIORITY, WINDOW_UPDATE, empty DATA, resets
of a closed stream), the limits (concurrent streams, header list, HPACK
table size, an HPACK bomb, frame size), a window-zero stall, cancels in
the middle of a transfer, plus well-formed requests as controls.  A
conforming client (python3-h2's H2Connection) checks after every flood
that the proxy still serves others.

Each case prints one tab-separated line:
  CASE name outcome expect-ERE backend-delta backend-expected after detail
where outcome is status:NNN, rst:CODE, goaway:CODE, closed, timeout or a
case-specific word; backend-delta is how many requests the backend counted
(its /__stats, given with --backend) while the case ran, "?" without
--backend, "*(n)" where the count is not asserted (backend-expected "*");
after is the outcome of the follow-up request ("-" when none).
The script decides nothing about the outcome's meaning beyond printing the
expectation next to it and "ok"/"FAIL" in its exit status; the shell test
asserts every field.  --soak runs the stream-mixing mode instead (see
soak()).  Exit status: 0 all cases as expected, 1 some not, 2 usage or
set-up error, 3 the server did not negotiate h2 (printed as NO-H2).
"""

import argparse
import hashlib
import json
import os
import re
import socket
import ssl
import sys
import time
import urllib.request

import h2.config
import h2.connection
import h2.errors
import h2.events
import h2.exceptions
import hpack
from hyperframe.frame import (ContinuationFrame, DataFrame, Frame,
                              GoAwayFrame, HeadersFrame, PingFrame,
                              PriorityFrame, RstStreamFrame, SettingsFrame,
                              WindowUpdateFrame)

PREFACE = b'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'
S_HEADER_TABLE_SIZE = 0x1
S_MAX_CONCURRENT_STREAMS = 0x3
S_INITIAL_WINDOW_SIZE = 0x4

# What RFC 9113 allows as the answer to each class of input.
# Malformed request (8.1.1): a stream error PROTOCOL_ERROR, which 5.4.1
# lets an endpoint widen to a connection error; issue 15 also allows 400.
MALFORMED = r'^(rst:PROTOCOL_ERROR|goaway:PROTOCOL_ERROR|status:400)$'
# Floods: issue 15 wants GOAWAY ENHANCE_YOUR_CALM.
FLOOD = r'^goaway:ENHANCE_YOUR_CALM$'


class NoH2(Exception):
    """The server picked something other than h2 in ALPN."""


def code_name(code):
    try:
        return h2.errors.ErrorCodes(code).name
    except ValueError:
        return '0x%x' % code


class Raw:
    """One TLS connection speaking raw HTTP/2 frames.

    Incoming frames are parsed and recorded per stream; SETTINGS and PING
    are acknowledged and received DATA is credited back (WINDOW_UPDATE)
    unless the case turns that off.  Nothing checks what is sent."""

    def __init__(self, opt, settings=None, preface=True):
        self.opt = opt
        tcp = socket.create_connection((opt.host, opt.port), timeout=5)
        tcp.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.s = opt.tls.wrap_socket(tcp, server_hostname=opt.host)
        alpn = self.s.selected_alpn_protocol()
        if alpn != 'h2':
            self.s.close()
            raise NoH2(str(alpn))
        self.s.settimeout(5)
        self.t0 = time.monotonic()
        self.enc = hpack.Encoder()
        self.dec = hpack.Decoder()
        self.inbuf = b''
        self.out = b''
        self.next_sid = 1
        self.peer_settings = {}
        self.got_settings = False
        self.goaway = None		# (code name, last stream id, time)
        self.closed = None		# 'eof' or 'reset', and when
        self.streams = {}		# sid -> dict
        self.hblock = None		# (sid, bytes) while headers continue
        self.credit = True		# send WINDOW_UPDATE for DATA
        self.quiet = not preface	# no ACKs before our preface
        self.hpack_error = None
        self.nframes_in = 0
        if preface:
            self.send(PREFACE + SettingsFrame(0, settings or {}).serialize())

    # ------------------------------------------------------------ output

    def send(self, data):
        """Send everything; a dead connection is recorded, not raised."""
        if self.closed:
            return False
        try:
            self.s.sendall(data)
            return True
        except socket.timeout:
            self.closed = ('send-blocked', time.monotonic())
        except (OSError, ssl.SSLError):
            self.closed = ('reset', time.monotonic())
        return False

    def sid(self):
        s = self.next_sid
        self.next_sid += 2
        return s

    def block(self, headers):
        """An HPACK block for headers, a list of (name, value) str/bytes."""
        hs = []
        for n, v in headers:
            hs.append((n.encode('latin-1') if isinstance(n, str) else n,
                       v.encode('latin-1') if isinstance(v, str) else v))
        return self.enc.encode(hs, huffman=False)

    def headers_frame(self, sid, headers, end_stream=True, end_headers=True):
        f = HeadersFrame(sid, self.block(headers))
        if end_stream:
            f.flags.add('END_STREAM')
        if end_headers:
            f.flags.add('END_HEADERS')
        return f.serialize()

    def data_frame(self, sid, data, end_stream=False):
        f = DataFrame(sid, data)
        if end_stream:
            f.flags.add('END_STREAM')
        return f.serialize()

    def st(self, sid):
        return self.streams.setdefault(sid, {
            'status': None, 'headers': None, 'trailers': None,
            'body': b'', 'end': False, 'rst': None, 't_end': None})

    # ------------------------------------------------------------- input

    def _frame(self, f):
        self.nframes_in += 1
        now = time.monotonic()
        if isinstance(f, SettingsFrame):
            if 'ACK' not in f.flags:
                self.peer_settings.update(f.settings)
                self.got_settings = True
                ack = SettingsFrame(0)
                ack.flags.add('ACK')
                self.out += ack.serialize()
        elif isinstance(f, PingFrame):
            if 'ACK' not in f.flags:
                ack = PingFrame(0, f.opaque_data)
                ack.flags.add('ACK')
                self.out += ack.serialize()
        elif isinstance(f, GoAwayFrame):
            self.goaway = (code_name(f.error_code), f.last_stream_id, now,
                           f.additional_data)
        elif isinstance(f, RstStreamFrame):
            s = self.st(f.stream_id)
            if s['rst'] is None:
                s['rst'] = code_name(f.error_code)
                s['t_end'] = s['t_end'] or now
        elif isinstance(f, (HeadersFrame, ContinuationFrame)):
            if isinstance(f, HeadersFrame):
                self.hblock = (f.stream_id, f.data,
                               'END_STREAM' in f.flags)
            elif self.hblock is not None:
                self.hblock = (self.hblock[0], self.hblock[1] + f.data,
                               self.hblock[2])
            if 'END_HEADERS' in f.flags and self.hblock is not None:
                sid, data, end = self.hblock
                self.hblock = None
                try:
                    hs = self.dec.decode(data, raw=True)
                except Exception as e:	# noqa: BLE001 (any hpack failure)
                    self.hpack_error = repr(e)
                    hs = []
                s = self.st(sid)
                d = dict(hs)
                if s['headers'] is None or (
                        s['status'] and s['status'].startswith('1')):
                    s['headers'] = hs
                    s['status'] = d.get(b':status', b'?').decode()
                else:
                    s['trailers'] = hs
                if end:
                    s['end'] = True
                    s['t_end'] = s['t_end'] or now
        elif isinstance(f, DataFrame):
            s = self.st(f.stream_id)
            s['body'] += f.data
            if 'END_STREAM' in f.flags:
                s['end'] = True
                s['t_end'] = s['t_end'] or now
            n = f.flow_controlled_length
            if n and self.credit:
                self.out += WindowUpdateFrame(0, n).serialize()
                if not s['end']:
                    self.out += WindowUpdateFrame(f.stream_id, n).serialize()

    def _parse(self):
        while len(self.inbuf) >= 9:
            f, length = Frame.parse_frame_header(memoryview(self.inbuf[:9]))
            if len(self.inbuf) < 9 + length:
                break
            body = self.inbuf[9:9 + length]
            self.inbuf = self.inbuf[9 + length:]
            try:
                f.parse_body(memoryview(body))
            except Exception:	# noqa: BLE001 (a frame we cannot parse)
                continue
            self._frame(f)

    def pump(self, timeout):
        """Read what arrives within timeout seconds (at least one read)."""
        if self.closed and self.closed[0] != 'send-blocked':
            return False
        self.s.settimeout(max(timeout, 0.001))
        try:
            d = self.s.recv(65536)
            if not d:
                self.closed = ('eof', time.monotonic())
            self.inbuf += d
            # Whatever TLS already decrypted, without waiting.
            self.s.settimeout(0)
            while True:
                d = self.s.recv(65536)
                if not d:
                    self.closed = ('eof', time.monotonic())
                    break
                self.inbuf += d
        except (socket.timeout, ssl.SSLWantReadError, BlockingIOError):
            pass
        except (OSError, ssl.SSLError):
            self.closed = ('reset', time.monotonic())
        self.s.settimeout(5)
        self._parse()
        if self.out and not self.closed and not self.quiet:
            o, self.out = self.out, b''
            self.send(o)
        return not self.closed

    def wait(self, cond, secs):
        """Pump until cond() holds, the connection dies or secs pass."""
        end = time.monotonic() + secs
        while not cond():
            left = end - time.monotonic()
            if left <= 0 or (self.closed and
                             self.closed[0] != 'send-blocked'):
                return cond()
            self.pump(min(left, 0.2))
        return True

    def handshake(self, secs=5):
        """Wait for the server's SETTINGS (and ack it)."""
        return self.wait(lambda: self.got_settings or self.goaway, secs)

    def fatal(self):
        """A GOAWAY with an error code, or the connection gone."""
        if self.goaway and self.goaway[0] != 'NO_ERROR':
            return 'goaway:' + self.goaway[0]
        if self.closed and self.closed[0] != 'send-blocked':
            if self.goaway:
                return 'goaway:' + self.goaway[0]
            return 'closed'
        return None

    def outcome(self, sid, secs=None, full=True):
        """How stream sid ended: status:N (once its END_STREAM came, or
        with full=False as soon as the head came), rst:CODE, goaway:CODE,
        closed or timeout."""
        secs = self.opt.case_timeout if secs is None else secs
        s = self.st(sid)

        def done():
            if s['rst'] and not s['status']:
                return True
            if s['status'] and (s['end'] or not full or s['rst']):
                return True
            return self.fatal() is not None
        self.wait(done, secs)
        if s['status'] and not s['status'].startswith('1'):
            return 'status:' + s['status']
        if s['rst']:
            return 'rst:' + s['rst']
        return self.fatal() or 'timeout'

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass


# ------------------------------------------------------------------ cases

def base(opt, path, method='GET'):
    return [(':method', method), (':scheme', 'https'), (':path', path),
            (':authority', opt.authority)]


def bad(name):
    return '/h2h/bad/' + name


def send_request(c, headers, body=None, trailers=None, end=True):
    """Open a stream with headers (and body/trailers); returns its id."""
    sid = c.sid()
    no_more = end and body is None and trailers is None
    out = c.headers_frame(sid, headers, end_stream=no_more)
    if body is not None:
        out += c.data_frame(sid, body, end_stream=end and trailers is None)
    if trailers is not None:
        out += c.headers_frame(sid, trailers, end_stream=end)
    c.send(out)
    return sid


def one_request(opt, headers, body=None, trailers=None, settings=None):
    c = Raw(opt, settings)
    try:
        c.handshake()
        sid = send_request(c, headers, body, trailers)
        return c.outcome(sid), c.st(sid)
    finally:
        c.close()


def header_case(hdrs_fn, body=None, trailers_fn=None):
    """A case that sends one request and reports how its stream ended."""
    def run(opt, name):
        trailers = trailers_fn(opt) if trailers_fn else None
        o, _ = one_request(opt, hdrs_fn(opt, bad(name)), body, trailers)
        return o, ''
    return run


def extra(*hs, method='GET', body=None):
    """Base request headers plus hs (hostile ones)."""
    def h(opt, path):
        r = base(opt, path, method)
        r.extend(hs)
        return r
    return header_case(h, body)


def custom(fn, body=None):
    """Request headers built by fn(opt, path): pseudo-header games."""
    return header_case(fn, body)


def drop(name):
    return lambda opt, path: [h for h in base(opt, path) if h[0] != name]


def dup(name, val=None):
    def h(opt, path):
        r = base(opt, path)
        v = dict(r)[name] if val is None else val
        i = [x[0] for x in r].index(name)
        r.insert(i + 1, (name, v))
        return r
    return h


def pseudo_after_regular(opt, path):
    r = base(opt, path)
    return [r[0], r[1], r[3], ('user-agent', 'h2hostile'), r[2]]


def no_authority_no_host(opt, path):
    return [h for h in base(opt, path) if h[0] != ':authority']


def host_mismatch(opt, path):
    return base(opt, path) + [('host', 'evil.example')]


def path_is(p, method='GET'):
    return lambda opt, path: base(opt, p(opt, path) if callable(p) else p,
                                  method)


def connect_plain(opt, path):
    return [(':method', 'CONNECT'), (':authority', opt.authority)]


def connect_extended(opt, path):
    return base(opt, path, 'CONNECT') + [(':protocol', 'websocket')]


def trailer(name, value):
    return header_case(lambda opt, path: base(opt, path, 'POST'), b'hello',
                       lambda opt: [(name, value)])


def cl_mismatch(cl, data):
    def run(opt, name):
        hs = base(opt, bad(name), 'POST') + [('content-length', str(cl))]
        o, _ = one_request(opt, hs, data)
        return o, ''
    return run


def oversize_list(opt, name):
    """Many fields, each under the one-field limit, together over the
    header-list (head) limit.  Split into HEADERS + CONTINUATIONs by the
    peer's frame size."""
    c = Raw(opt)
    try:
        c.handshake()
        sid = c.sid()
        hs = base(opt, bad(name))
        hs += [('x-big-%d' % i, 'v' * opt.field_size)
               for i in range(opt.list_fields)]
        blk = c.block(hs)
        fmax = c.peer_settings.get(0x5, 16384)
        chunks = [blk[i:i + fmax] for i in range(0, len(blk), fmax)]
        out = b''
        for i, ch in enumerate(chunks):
            f = HeadersFrame(sid, ch) if i == 0 else ContinuationFrame(sid, ch)
            if i == 0:
                f.flags.add('END_STREAM')
            if i == len(chunks) - 1:
                f.flags.add('END_HEADERS')
            out += f.serialize()
        c.send(out)
        return c.outcome(sid), '%d bytes in %d frames' % (len(blk),
                                                        len(chunks))
    finally:
        c.close()


def many_fields(opt, name):
    return extra(*[('x-n-%d' % i, 'v') for i in range(opt.many_fields)])(
        opt, name)


def long_field(opt, name):
    return extra(('x-long', 'v' * (opt.long_field)))(opt, name)


def hpack_table_update(opt, name):
    """A dynamic table size update above SETTINGS_HEADER_TABLE_SIZE."""
    c = Raw(opt)
    try:
        c.handshake()
        limit = c.peer_settings.get(S_HEADER_TABLE_SIZE, 4096)
        c.enc.header_table_size = max(limit, 4096) * 16
        sid = send_request(c, base(opt, bad(name)))
        return c.outcome(sid), 'update to %d, limit %d' % (
            c.enc.header_table_size, limit)
    finally:
        c.close()


def flood(c, make, total, batch=100):
    """Send total frames made by make(i) in batches, reading in between,
    until the server ends the connection; the outcome is its GOAWAY."""
    sent = 0
    while sent < total and not c.goaway and not c.closed:
        out = b''.join(make(i) for i in range(sent, min(total, sent + batch)))
        if not c.send(out):
            break
        sent = min(total, sent + batch)
        c.pump(0)
    c.wait(lambda: c.goaway is not None, 3)
    if c.goaway:
        return 'goaway:' + c.goaway[0], 'after %d frames' % sent
    return ('closed' if c.closed else 'none'), \
        'after %d frames (%s)' % (sent, c.closed and c.closed[0])


def rapid_reset(opt, name):
    """CVE-2023-44487: open a stream, cancel it, repeat.  The requests
    announce a body they never send, so none is complete."""
    c = Raw(opt)
    try:
        c.handshake()

        def one(i):
            sid = c.sid()
            hs = base(opt, bad(name), 'POST') + [('content-length', '1')]
            return c.headers_frame(sid, hs, end_stream=False) + \
                RstStreamFrame(sid, 8).serialize()
        return flood(c, one, opt.flood_n // 2, batch=50)
    finally:
        c.close()


def continuation_flood(opt, name):
    """CVE-2024-27316 family: a header block that never ends, one small
    field per CONTINUATION frame."""
    c = Raw(opt)
    try:
        c.handshake()
        sid = c.sid()
        c.send(c.headers_frame(sid, base(opt, bad(name)), end_headers=False))
        # Literal without indexing, new name: x-c: 1 (no table state).
        field = b'\x00\x03x-c\x011'
        return flood(c, lambda i: ContinuationFrame(sid, field).serialize(),
                     opt.flood_n)
    finally:
        c.close()


def settings_flood(opt, name):
    c = Raw(opt)
    try:
        c.handshake()
        f = SettingsFrame(0, {S_INITIAL_WINDOW_SIZE: 65535}).serialize()
        return flood(c, lambda i: f, opt.flood_n)
    finally:
        c.close()


def ping_flood(opt, name):
    c = Raw(opt)
    try:
        c.handshake()
        return flood(c, lambda i: PingFrame(
            0, i.to_bytes(8, 'big')).serialize(), opt.flood_n)
    finally:
        c.close()


def priority_flood(opt, name):
    """PRIORITY frames for ever new idle streams (each one a node in a
    server's dependency tree, if it keeps one)."""
    c = Raw(opt)
    try:
        c.handshake()
        return flood(c, lambda i: PriorityFrame(
            2 * i + 1, depends_on=0, stream_weight=15).serialize(),
            opt.flood_n)
    finally:
        c.close()


def empty_data_flood(opt, name):
    """Empty DATA frames without END_STREAM on an open request: no
    progress, no flow control cost, all work for the receiver."""
    c = Raw(opt)
    try:
        c.handshake()
        sid = c.sid()
        hs = base(opt, bad(name), 'POST') + [('content-length', '100')]
        c.send(c.headers_frame(sid, hs, end_stream=False))
        f = DataFrame(sid, b'').serialize()
        return flood(c, lambda i: f, opt.flood_n)
    finally:
        c.close()


def too_many_streams(opt, name):
    """Open SETTINGS_MAX_CONCURRENT_STREAMS requests (each waiting for a
    body) and one more: that one is refused (RFC 9113 5.1.2)."""
    c = Raw(opt)
    try:
        c.handshake()
        c.wait(lambda: False, 0.2)	# let our ACK reach the server
        limit = c.peer_settings.get(S_MAX_CONCURRENT_STREAMS)
        if limit is None:
            return 'no-limit-advertised', ''
        if limit > opt.max_streams_probe:
            return 'limit-too-high:%d' % limit, ''
        sids = []
        out = b''
        for _ in range(limit):
            sid = c.sid()
            sids.append(sid)
            hs = base(opt, bad(name), 'POST') + [('content-length', '10')]
            out += c.headers_frame(sid, hs, end_stream=False)
        c.send(out)
        c.pump(0.2)
        extra_sid = c.sid()
        hs = base(opt, bad(name), 'POST') + [('content-length', '10')]
        c.send(c.headers_frame(extra_sid, hs, end_stream=False))
        o = c.outcome(extra_sid)
        early = [s for s in sids if c.st(s)['rst'] or c.st(s)['status']]
        if early and not o.startswith('goaway:'):
            return 'early-end:%d' % len(early), 'limit %d' % limit
        return o, 'limit %d' % limit
    finally:
        c.close()


def window_stall(opt, name):
    """A client that opens no window (SETTINGS_INITIAL_WINDOW_SIZE 0) for
    a large response: timeouts.body_idle must end the stream."""
    c = Raw(opt, settings={S_INITIAL_WINDOW_SIZE: 0})
    c.credit = False
    try:
        c.handshake()
        t0 = time.monotonic()
        sid = send_request(c, base(opt, '/size/1000000?h2h=ok-stall'))
        s = c.st(sid)
        limit = opt.body_idle + 8
        c.wait(lambda: s['rst'] or s['end'] or c.fatal(), limit)
        took = time.monotonic() - t0
        if s['rst']:
            o = 'rst:' + s['rst']
        elif s['end']:
            o = 'ended:%d-bytes' % len(s['body'])
        else:
            o = c.fatal() or 'timeout'
        # Too early is as wrong as never: it is the idle timer's job.
        if o != 'timeout' and took < opt.body_idle * 0.8:
            o = 'early:' + o
        return o, 'status %s, %.1fs, %d body bytes' % (s['status'], took,
                                                        len(s['body']))
    finally:
        c.close()


def echo_of(st):
    try:
        return json.loads(st['body'].decode())
    except (ValueError, UnicodeDecodeError):
        return None


def be_headers(j, name):
    return [h[1] for h in j.get('headers', []) if h[0].lower() == name]


def ok_normal(opt, name):
    path = '/h2h/ok/' + name
    o, st = one_request(opt, base(opt, path) + [('user-agent', 'h2hostile')])
    j = echo_of(st)
    if o != 'status:200' or j is None:
        return o, 'no echo'
    why = []
    if j.get('target') != path:
        why.append('target %r' % j.get('target'))
    if j.get('version') != 'HTTP/1.1':
        why.append('version %r' % j.get('version'))
    if not be_headers(j, 'host'):
        why.append('no host')
    if opt.expect_dn and be_headers(j, 'cms-authn-dn') != [opt.expect_dn]:
        why.append('dn %r' % be_headers(j, 'cms-authn-dn'))
    return (o if not why else 'bad-echo'), '; '.join(why)


def ok_post(opt, name):
    path = '/h2h/ok/' + name
    o, st = one_request(opt, base(opt, path, 'POST') +
                        [('content-length', '11')], b'hello world')
    j = echo_of(st)
    if o == 'status:200' and j and j.get('body_length') != 11:
        return 'bad-echo', 'body_length %r' % j.get('body_length')
    return o, ''


def ok_te_trailers(opt, name):
    o, _ = one_request(opt, base(opt, '/h2h/ok/' + name) +
                       [('te', 'trailers')])
    return o, ''


def ok_cookies(opt, name):
    """RFC 9113 8.2.3: cookie crumbs are joined with "; " for HTTP/1.1."""
    o, st = one_request(opt, base(opt, '/h2h/ok/' + name) + [
        ('cookie', 'a=1'), ('x-between', 'y'), ('cookie', 'b=2'),
        ('cookie', 'c=3')])
    j = echo_of(st)
    if o != 'status:200' or j is None:
        return o, ''
    return 'cookie:' + '|'.join(be_headers(j, 'cookie')), ''


def ok_options_asterisk(opt, name):
    o, _ = one_request(opt, [(':method', 'OPTIONS'), (':scheme', 'https'),
                             (':path', '*'), (':authority', opt.authority)])
    return o, ''


def authority_userinfo(opt, path):
    return [(n, 'user:pw@' + v if n == ':authority' else v)
            for n, v in base(opt, path)]


def cl_headers(*vals):
    def h(opt, path):
        return base(opt, path, 'POST') + [('content-length', v)
                                          for v in vals]
    return custom(h, b'01234')


def rapid_reset_get(opt, name):
    """CVE-2023-44487 as it was seen in the wild: complete GETs, each
    cancelled at once.  Some may reach the backend before their reset
    is read; the flood must end the connection all the same."""
    c = Raw(opt)
    try:
        c.handshake()

        def one(i):
            sid = c.sid()
            return c.headers_frame(sid, base(opt, '/h2h/rr/%d' % i)) + \
                RstStreamFrame(sid, 8).serialize()
        return flood(c, one, opt.flood_n // 2, batch=50)
    finally:
        c.close()


def ok_host_only(opt, name):
    """No :authority, a host field instead: allowed (8.3.1)."""
    hs = [h for h in base(opt, '/h2h/ok/' + name) if h[0] != ':authority']
    o, _ = one_request(opt, hs + [('host', opt.authority)])
    return o, ''


def host_twice(opt, path):
    return no_authority_no_host(opt, path) + [('host', opt.authority),
                                              ('host', 'evil.example')]


def method_is(m):
    return lambda opt, path: base(opt, path, m)


def data_too_big(opt, name):
    """A DATA frame one byte over the peer's SETTINGS_MAX_FRAME_SIZE."""
    c = Raw(opt)
    try:
        c.handshake()
        fmax = c.peer_settings.get(0x5, 16384)
        sid = c.sid()
        hs = base(opt, bad(name), 'POST') + [('content-length',
                                              str(fmax + 1))]
        c.send(c.headers_frame(sid, hs, end_stream=False) +
               c.data_frame(sid, b'x' * (fmax + 1), end_stream=True))
        return c.outcome(sid), 'max frame size %d' % fmax
    finally:
        c.close()


def stream_id_even(opt, name):
    """A client may only open odd streams (5.1.1)."""
    c = Raw(opt)
    try:
        c.handshake()
        c.send(c.headers_frame(2, base(opt, bad(name))))
        return c.outcome(2), ''
    finally:
        c.close()


def ok_forged_identity(opt, name):
    """Identity and forwarding fields a client sends never reach the
    backend; the connection's certificate speaks for the stream."""
    o, st = one_request(opt, base(opt, '/h2h/ok/' + name) + [
        ('cms-authn-dn', '/CN=evil'), ('cms-auth-status', 'OK'),
        ('cms-authn-login', 'evil'), ('ssl-client-s-dn', '/CN=evil'),
        ('ssl-client-verify', 'SUCCESS'), ('x-ssl-client-dn', '/CN=evil'),
        ('x-forwarded-for', '192.0.2.66'), ('forwarded', 'for=192.0.2.66')])
    j = echo_of(st)
    if o != 'status:200' or j is None:
        return o, ''
    leaks = []
    for n, v in j.get('headers', []):
        if 'evil' in v or '192.0.2.66' in v or n.lower().startswith(
                ('ssl-', 'x-ssl-')):
            leaks.append('%s: %s' % (n, v))
    if leaks:
        return 'leaked', '; '.join(leaks)
    if opt.expect_dn and be_headers(j, 'cms-authn-dn') != [opt.expect_dn]:
        return 'bad-dn', repr(be_headers(j, 'cms-authn-dn'))
    return o, ''


def follow_up(opt, g, tag):
    """A normal request on connection g after a cancel: does its answer
    belong to it?  Returns None or what went wrong."""
    path = '/h2h/ok/%s' % tag
    sid = g.request(path, headers=[('x-request-id', tag)])
    g.wait_all(opt.case_timeout)
    r = g.resp[sid]
    j = echo_of(r)
    if r['status'] != '200' or j is None:
        return '%s: status %s reset %s dead %s' % (tag, r['status'],
                                                   r['reset'], g.dead)
    if j.get('target') != path:
        return '%s: got the answer for %s' % (tag, j.get('target'))
    return None


def cancel_mid_response(opt, name):
    """Cancel streams half way through large responses, each followed by
    a normal request on the same connection: an upstream connection with
    a half-read response must never serve the next request."""
    g = Good(opt)
    try:
        for i in range(opt.cancel_rounds):
            sid = g.request('/size/%d?h2h=ok-cancel-%d' % (400000 + i, i))
            r = g.resp[sid]
            end = time.monotonic() + opt.case_timeout
            while len(r['body']) < 30000 and not r['end'] and \
                    not g.dead and time.monotonic() < end:
                g.pump(0.2)
            if len(r['body']) < 30000:
                return 'no-body', 'round %d: %d bytes' % (i, len(r['body']))
            g.h2.reset_stream(sid, 8)
            r['end'] = True
            g.flush()
            why = follow_up(opt, g, '%s-%d' % (name, i))
            if why:
                return 'wrong', why
        return 'ok', '%d rounds' % opt.cancel_rounds
    finally:
        g.close()


def cancel_mid_upload(opt, name):
    """Cancel uploads larger than limits.body_buffer (so they stream to
    the backend) half way, each followed by a normal request on the same
    connection: the backend connection holding half a body must be
    closed, never reused."""
    g = Good(opt)
    try:
        total = opt.upload_size
        for i in range(opt.upload_rounds):
            sid = g.h2.get_next_available_stream_id()
            g.h2.send_headers(sid, [
                (':method', 'POST'), (':scheme', 'https'),
                (':path', '/h2h/ok/upload-%d' % i),
                (':authority', opt.authority),
                ('content-length', str(total))])
            g.resp[sid] = {'status': None, 'body': b'', 'end': False,
                           'reset': None, 'path': '', 'headers': {},
                           'unprocessed': False}
            g.pending[sid] = b'u' * (total // 2)
            g.flush()
            end = time.monotonic() + opt.case_timeout
            while sid in g.pending and not g.resp[sid]['end'] and \
                    not g.dead and time.monotonic() < end:
                g.pump(0.2)
            if sid in g.pending:
                return 'upload-stuck', 'round %d: %d bytes left' % (
                    i, len(g.pending[sid]))
            if not g.resp[sid]['end']:
                g.h2.reset_stream(sid, 8)
                g.resp[sid]['end'] = True
                g.flush()
            why = follow_up(opt, g, '%s-%d' % (name, i))
            if why:
                return 'wrong', why
        return 'ok', '%d rounds of %d of %d bytes' % (
            opt.upload_rounds, total // 2, total)
    finally:
        g.close()


def hpack_bomb(opt, name):
    """One large field put in the HPACK dynamic table, then referenced by
    index over and over: a few KB on the wire, megabytes decoded."""
    c = Raw(opt)
    try:
        c.handshake()
        sid = c.sid()
        v = 'b' * 4000
        hs = base(opt, bad(name)) + [('x-bomb', v)] * opt.bomb_refs
        blk = c.block(hs)
        f = HeadersFrame(sid, blk)
        f.flags.add('END_STREAM')
        f.flags.add('END_HEADERS')
        if len(blk) > c.peer_settings.get(0x5, 16384):
            return 'driver-error', 'block of %d bytes' % len(blk)
        c.send(f.serialize())
        return c.outcome(sid), '%d bytes on the wire, %d decoded' % (
            len(blk), opt.bomb_refs * 4006)
    finally:
        c.close()


def window_update_flood(opt, name):
    c = Raw(opt)
    try:
        c.handshake()
        return flood(c, lambda i: WindowUpdateFrame(0, 1).serialize(),
                     opt.flood_n)
    finally:
        c.close()


def rst_closed_flood(opt, name):
    """RST_STREAM over and over for a stream that is already closed:
    legal one by one (5.1), ignored by the session, work all the same."""
    c = Raw(opt)
    try:
        c.handshake()
        sid = send_request(c, base(opt, '/h2h/ok/' + name))
        o = c.outcome(sid)
        if o != 'status:200':
            return 'first-request:' + o, ''
        f = RstStreamFrame(sid, 8).serialize()
        return flood(c, lambda i: f, opt.flood_n)
    finally:
        c.close()


def rss_kb(opt):
    try:
        with open('/proc/%d/status' % opt.proxy_pid) as fp:
            for line in fp:
                if line.startswith('VmRSS:'):
                    return int(line.split()[1])
    except (OSError, TypeError):
        pass
    return None


def shared_body_buffer(opt, name):
    """Many uploads on one connection, none complete, each under
    limits.body_buffer: the streams of a connection share one
    body_buffer, so the proxy takes (opens windows for) at most that much
    plus its stream windows, however many streams there are."""
    g = Good(opt)
    be0 = be_stat(opt, 'bytes')
    try:
        n, each = opt.upload_streams, opt.upload_each
        sids = []
        for i in range(n):
            sid = g.h2.get_next_available_stream_id()
            g.h2.send_headers(sid, [
                (':method', 'POST'), (':scheme', 'https'),
                (':path', '/h2h/ok/%s-%d' % (name, i)),
                (':authority', opt.authority),
                ('content-length', str(each + 1))])
            g.resp[sid] = {'status': None, 'body': b'', 'end': False,
                           'reset': None, 'path': '', 'headers': {},
                           'unprocessed': False}
            g.pending[sid] = b'p' * each	# one byte short: never done
            g.open_ended.add(sid)
            sids.append(sid)
        g.flush()
        # Send what the windows allow, until they stop opening.
        last, still = -1, time.monotonic()
        while time.monotonic() - still < 1.0 and not g.dead:
            g.pump(0.1)
            left = sum(len(g.pending.get(s, b'')) for s in sids)
            if left != last:
                last, still = left, time.monotonic()
            if left == 0:
                break
        taken = n * each - last
        # What went on to the backend is not held (heads count too:
        # generous to the proxy).
        passed = be_stat(opt, 'bytes') - be0 if be0 is not None else 0
        held = taken - passed
        ended = [s for s in sids if g.resp[s]['end']]
        detail = '%d bytes taken of %d streams x %d, %d passed on, ' \
            '%d held (bound %d); %d ended' % (taken, n, each, passed, held,
                                             opt.body_bound, len(ended))
        if ended:
            how = {}
            for s in ended:
                r = g.resp[s]
                k = 'rst:%s' % r['reset'] if r['reset'] else \
                    'status:%s' % r['status']
                how[k] = how.get(k, 0) + 1
            return 'ended:%d' % len(ended), detail + ' ' + ', '.join(
                '%s x%d' % kv for kv in sorted(how.items()))
        return ('bounded' if held <= opt.body_bound else 'unbounded'), \
            detail
    finally:
        g.close()


def slow_reader(opt, name):
    """Fill max_concurrent_streams with large downloads, open every
    window wide and then read nothing: the proxy's memory stays within
    its bound (README: about 13 MiB with the defaults)."""
    c = Raw(opt, settings={S_INITIAL_WINDOW_SIZE: 2 ** 31 - 1})
    c.credit = False
    try:
        c.handshake()
        limit = min(c.peer_settings.get(S_MAX_CONCURRENT_STREAMS, 100), 100)
        out = WindowUpdateFrame(0, 2 ** 31 - 1 - 65535).serialize()
        for i in range(limit):
            out += c.headers_frame(c.sid(), base(
                opt, '/size/%d?h2h=ok-slow-%d' % (opt.slow_size, i)))
        c.send(out)
        before = rss_kb(opt)
        peak = before
        t_end = time.monotonic() + opt.slow_secs
        while time.monotonic() < t_end:	# not reading: TCP fills up
            time.sleep(0.1)
            r = rss_kb(opt)
            if r is not None and peak is not None:
                peak = max(peak, r)
        if opt.proxy_pid is None:	# ASan builds: RSS means nothing
            return 'no-pid', '%d streams, RSS not watched' % limit
        if before is None:
            return 'rss-unreadable', 'pid %d' % opt.proxy_pid
        grew = peak - before
        return ('bounded' if grew <= opt.slow_bound_kb else 'unbounded'), \
            'RSS %d -> peak %d kB (+%d) with %d streams' % (before, peak,
                                                           grew, limit)
    finally:
        c.close()


def timed_end(c, sid, secs, tick=None, every=0.5):
    """Wait up to secs for stream sid (or the connection, sid None) to be
    ended by the server, calling tick() every `every` seconds meanwhile.
    Returns (outcome, seconds)."""
    t0 = time.monotonic()
    nxt = t0 + every
    s = c.st(sid) if sid else None

    def ended():
        if s is not None and (s['rst'] or s['end'] or s['status']):
            return True
        return c.fatal() is not None or (c.goaway is not None)
    while not ended() and time.monotonic() - t0 < secs:
        c.pump(0.1)
        if tick and time.monotonic() >= nxt and not ended():
            tick()
            nxt += every
    took = time.monotonic() - t0
    if s is not None and s['status']:
        return 'status:' + s['status'], took
    if s is not None and s['rst']:
        return 'rst:' + s['rst'], took
    if c.goaway:
        return 'goaway:' + c.goaway[0], took
    return c.fatal() or 'timeout', took


def timer_case(which, secs_attr, upper_attr=None, preface=True):
    """Outcome of a case that a proxy timer (opt.<secs_attr>, or either
    of two) must end: too early is as wrong as never."""
    def run(opt, name):
        limit = getattr(opt, secs_attr)
        upper = getattr(opt, upper_attr or secs_attr)
        c = Raw(opt, preface=preface)
        try:
            if preface:
                c.handshake()
            o, took = which(opt, c, name, upper + opt.timer_wait)
            if o != 'timeout' and took < limit * 0.8:
                o = 'early:' + o
            elif o != 'timeout' and took > upper + opt.timer_slack:
                o = 'late:' + o
            return o, '%.1fs (timer %gs)' % (took, upper)
        finally:
            c.close()
    return run


def silent_after_alpn(opt, c, name, secs):
    """h2 chosen by ALPN, then not a byte, not even the preface."""
    return timed_end(c, None, secs)


def half_preface(opt, c, name, secs):
    c.send(PREFACE[:10])
    return timed_end(c, None, secs)


def header_block_never_ends(opt, c, name, secs):
    sid = c.sid()
    c.send(c.headers_frame(sid, base(opt, bad(name)), end_headers=False))
    return timed_end(c, sid, secs)


def header_block_trickle(opt, c, name, secs):
    """A header block that grows by one field a second."""
    sid = c.sid()
    c.send(c.headers_frame(sid, base(opt, bad(name)), end_headers=False))
    n = [0]

    def tick():
        n[0] += 1
        c.send(ContinuationFrame(sid, b'\x00\x03x-t\x011').serialize())
    return timed_end(c, sid, secs, tick, every=1.0)


def upload_never_ends(opt, c, name, secs):
    sid = c.sid()
    hs = base(opt, bad(name), 'POST') + [('content-length', '100')]
    c.send(c.headers_frame(sid, hs, end_stream=False) +
           c.data_frame(sid, b'0123456789'))
    return timed_end(c, sid, secs)


def pings_no_stream(opt, c, name, secs):
    """No stream at all, a PING every half second: the connection is
    idle and timeouts.keepalive ends it."""
    i = [0]

    def tick():
        i[0] += 1
        c.send(PingFrame(0, i[0].to_bytes(8, 'big')).serialize())
    return timed_end(c, None, secs, tick)


def stream_slots_released(opt, name):
    """Fill max_concurrent_streams with uploads, cancel them all (a burst
    the rapid-reset limit allows), then fill it again with GETs: every
    slot came back, every GET is answered."""
    c = Raw(opt)
    try:
        c.handshake()
        c.wait(lambda: False, 0.2)
        limit = min(c.peer_settings.get(S_MAX_CONCURRENT_STREAMS, 100),
                    opt.max_streams_probe)
        out = b''
        for _ in range(limit):
            sid = c.sid()
            hs = base(opt, '/h2h/ok/%s-up' % name, 'POST') + [
                ('content-length', '10')]
            out += c.headers_frame(sid, hs, end_stream=False)
        c.send(out)
        c.pump(0.2)
        first = c.next_sid
        c.send(b''.join(RstStreamFrame(s, 8).serialize()
                        for s in range(1, first, 2)))
        c.pump(0.3)
        sids = []
        out = b''
        for i in range(limit):
            sid = c.sid()
            sids.append(sid)
            out += c.headers_frame(sid, base(opt, '/h2h/ok/%s-%d' % (name,
                                                                       i)))
        c.send(out)
        c.wait(lambda: all(c.st(s)['end'] or c.st(s)['rst'] for s in sids)
               or c.fatal(), opt.case_timeout)
        got = {}
        for s in sids:
            o = c.outcome(s, 0)
            got[o] = got.get(o, 0) + 1
        detail = ', '.join('%s x%d' % kv for kv in sorted(got.items()))
        return ('ok' if got == {'status:200': limit} else 'lost'), \
            '%d streams: %s' % (limit, detail)
    finally:
        c.close()


def ok_padded(opt, name):
    """Padding is not body (RFC 9113 6.1): content-length counts only
    the data, and the window spent on padding comes back.  A 600000-byte
    upload in 1000-byte DATA frames each padded by 255 spends about 150 KB
    of window on padding alone."""
    g = Good(opt)
    try:
        g.pad, g.chunk = 255, 1000
        body = os.urandom(600000)
        sid = g.request('/h2h/ok/' + name, 'POST', [
            ('content-length', str(len(body)))], body)
        g.wait_all(opt.case_timeout)
        r = g.resp[sid]
        j = echo_of(r)
        if r['status'] != '200' or j is None:
            return ('rst:%s' % r['reset'] if r['reset'] else
                    'status:%s' % r['status']), 'dead %s' % g.dead
        if j.get('body_sha256') != hashlib.sha256(body).hexdigest():
            return 'bad-body', 'length %r' % j.get('body_length')
        return 'status:200', ''
    finally:
        g.close()


def trailers_no_end(opt, name):
    """A second HEADERS that does not end the stream (8.1: trailers
    must)."""
    c = Raw(opt)
    try:
        c.handshake()
        sid = c.sid()
        c.send(c.headers_frame(sid, base(opt, bad(name), 'POST'),
                               end_stream=False) +
               c.data_frame(sid, b'hello') +
               c.headers_frame(sid, [('x-trailer', '1')], end_stream=False))
        return c.outcome(sid), ''
    finally:
        c.close()


def body_after_answer(opt, name):
    """The proxy answers at once (a ';' in the path is a 400) while the
    client goes on sending a large body: the proxy may swallow some of
    it, but it must stop opening windows and end the stream
    (RST_STREAM) rather than take the whole body."""
    g = Good(opt)
    try:
        total = opt.upload_size
        sid = g.h2.get_next_available_stream_id()
        g.h2.send_headers(sid, [
            (':method', 'POST'), (':scheme', 'https'),
            (':path', '/h2h/bad/%s;p=1' % name),
            (':authority', opt.authority),
            ('content-length', str(total))])
        g.resp[sid] = {'status': None, 'body': b'', 'end': False,
                       'reset': None, 'path': '', 'headers': {},
                       'unprocessed': False}
        g.pending[sid] = b'a' * total
        g.keep_sending.add(sid)		# the stream is only half closed
        g.flush()
        last, still = -1, time.monotonic()
        end = time.monotonic() + opt.case_timeout
        while sid in g.pending and not g.dead and \
                time.monotonic() - still < 2.5 and time.monotonic() < end:
            g.pump(0.1)
            if g.sent.get(sid, 0) != last:
                last, still = g.sent.get(sid, 0), time.monotonic()
        r = g.resp[sid]
        taken = g.sent.get(sid, 0)
        detail = 'status %s, reset %s, %d of %d body bytes taken' % (
            r['status'], r['reset'], taken, total)
        if r['status'] != '400':
            return 'status:%s' % r['status'], detail
        if taken > opt.body_bound:
            return 'unbounded', detail
        return ('bounded' if r['reset'] else 'not-reset'), detail
    finally:
        g.close()


# name -> (run, expected outcome ERE, backend requests expected, flood?)
# Order matters only for readability: each case has its own connection.
CASES = [
    # controls: a conforming request works, crumbs are joined
    ('ok_normal', ok_normal, r'^status:200$', 1, False),
    ('ok_post', ok_post, r'^status:200$', 1, False),
    ('ok_te_trailers', ok_te_trailers, r'^status:200$', 1, False),
    ('ok_split_cookies', ok_cookies, r'^cookie:a=1; b=2; c=3$', 1, False),
    ('ok_host_only', ok_host_only, r'^status:200$', 1, False),
    ('ok_padded_upload', ok_padded, r'^status:200$', 1, False),
    ('ok_forged_identity_dropped', ok_forged_identity, r'^status:200$', 1,
     False),
    # 8.2.2 connection-specific fields
    ('conn_connection', extra(('connection', 'keep-alive')), MALFORMED, 0,
     False),
    ('conn_keep_alive', extra(('keep-alive', 'timeout=5')), MALFORMED, 0,
     False),
    ('conn_proxy_connection', extra(('proxy-connection', 'keep-alive')),
     MALFORMED, 0, False),
    ('conn_transfer_encoding', extra(('transfer-encoding', 'chunked'),
                                     method='POST', body=b'5\r\nhello\r\n0'
                                     b'\r\n\r\n'), MALFORMED, 0, False),
    ('conn_upgrade', extra(('upgrade', 'websocket')), MALFORMED, 0, False),
    ('conn_upgrade_h2c', extra(('upgrade', 'h2c')), MALFORMED, 0, False),
    ('te_gzip', extra(('te', 'gzip')), MALFORMED, 0, False),
    ('te_trailers_gzip', extra(('te', 'trailers, gzip')), MALFORMED, 0,
     False),
    # 8.2 / 8.2.1 field names and values
    ('name_uppercase', extra(('X-Upper', 'a')), MALFORMED, 0, False),
    ('name_cr', extra(('x-a\rb', 'a')), MALFORMED, 0, False),
    ('name_lf', extra(('x-a\nb', 'a')), MALFORMED, 0, False),
    ('name_nul', extra(('x-a\0b', 'a')), MALFORMED, 0, False),
    ('name_space', extra(('x-a b', 'a')), MALFORMED, 0, False),
    ('name_colon', extra(('x-a:b', 'a')), MALFORMED, 0, False),
    ('name_non_token', extra(('x-(a)', 'a')), MALFORMED, 0, False),
    ('name_del', extra(('x-a\x7f', 'a')), MALFORMED, 0, False),
    ('name_high_byte', extra(('x-\xe9', 'a')), MALFORMED, 0, False),
    # An empty name is malformed (RFC 9110 5.1: a token); a decoder that
    # refuses it as a HPACK error (COMPRESSION_ERROR) is also right.
    ('name_empty', extra(('', 'a')),
     r'^(rst:PROTOCOL_ERROR|goaway:(PROTOCOL|COMPRESSION)_ERROR|status:400)$',
     0, False),
    ('value_cr', extra(('x-v', 'a\rb')), MALFORMED, 0, False),
    ('value_lf', extra(('x-v', 'a\nx-smuggled: 1')), MALFORMED, 0, False),
    ('value_crlf', extra(('x-v', 'a\r\nx-smuggled: 1')), MALFORMED, 0,
     False),
    ('value_nul', extra(('x-v', 'a\0b')), MALFORMED, 0, False),
    ('value_leading_space', extra(('x-v', ' a')), MALFORMED, 0, False),
    ('value_trailing_space', extra(('x-v', 'a ')), MALFORMED, 0, False),
    ('value_leading_tab', extra(('x-v', '\ta')), MALFORMED, 0, False),
    ('value_trailing_tab', extra(('x-v', 'a\t')), MALFORMED, 0, False),
    # 8.3 pseudo-header fields
    ('pseudo_missing_method', custom(drop(':method')), MALFORMED, 0, False),
    ('pseudo_missing_scheme', custom(drop(':scheme')), MALFORMED, 0, False),
    ('pseudo_missing_path', custom(drop(':path')), MALFORMED, 0, False),
    ('pseudo_missing_authority_and_host', custom(no_authority_no_host),
     MALFORMED, 0, False),
    ('pseudo_dup_method', custom(dup(':method', 'POST')), MALFORMED, 0,
     False),
    ('pseudo_dup_path', custom(dup(':path', '/h2h/bad/dup2')), MALFORMED, 0,
     False),
    ('pseudo_dup_scheme', custom(dup(':scheme')), MALFORMED, 0, False),
    ('pseudo_dup_authority', custom(dup(':authority', 'evil.example')),
     MALFORMED, 0, False),
    ('pseudo_unknown', extra((':foo', 'bar')), MALFORMED, 0, False),
    ('pseudo_status_in_request', extra((':status', '200')), MALFORMED, 0,
     False),
    ('pseudo_after_regular', custom(pseudo_after_regular), MALFORMED, 0,
     False),
    # over TLS, :scheme http would tell the backend a lie (README: refused)
    ('scheme_http', custom(lambda opt, path: [
        (n, 'http' if n == ':scheme' else v) for n, v in base(opt, path)]),
     MALFORMED, 0, False),
    ('authority_host_mismatch', custom(host_mismatch), MALFORMED, 0, False),
    ('authority_userinfo', custom(authority_userinfo), MALFORMED, 0, False),
    ('host_twice', custom(host_twice), MALFORMED, 0, False),
    ('method_with_space', custom(method_is('GET /h2h/bad/m')), MALFORMED, 0,
     False),
    # 8.3.1 :path must be origin-form (asterisk only for OPTIONS)
    ('path_absolute_form', custom(path_is(
        lambda opt, p: 'https://%s%s' % (opt.authority, p))), MALFORMED, 0,
     False),
    ('path_asterisk_get', custom(path_is('*')), MALFORMED, 0, False),
    ('path_empty', custom(path_is('')), MALFORMED, 0, False),
    ('path_relative', custom(path_is('h2h/bad/path_relative')), MALFORMED,
     0, False),
    # request-line injection when the path is written out as HTTP/1.1
    ('path_space', custom(path_is(lambda opt, p: p + ' HTTP/1.1')),
     MALFORMED, 0, False),
    ('path_crlf', custom(path_is(
        lambda opt, p: p + ' HTTP/1.1\r\nx-smuggled: 1\r\n\r\nGET /x')),
     MALFORMED, 0, False),
    ('path_nul', custom(path_is(lambda opt, p: p + '\0')), MALFORMED, 0,
     False),
    # the same limit as the HTTP/1.1 request line (414 there)
    ('path_too_long', custom(path_is(lambda opt, p: p + '/' + 'p' * 9000)),
     r'^(status:414|status:431)$', 0, False),
    # 8.5 CONNECT; RFC 8441 :protocol without SETTINGS_ENABLE_CONNECT_
    # PROTOCOL is malformed.  A plain CONNECT is well-formed: refusing it
    # as HTTP/1.1 does (405) is right too.
    ('connect', custom(connect_plain),
     r'^(rst:PROTOCOL_ERROR|goaway:PROTOCOL_ERROR|status:40[05])$', 0,
     False),
    ('connect_extended', custom(connect_extended), MALFORMED, 0, False),
    # 8.1.1 content-length must match the DATA
    ('content_length_more_data', cl_mismatch(5, b'0123456789'), MALFORMED,
     0, False),
    ('content_length_less_data', cl_mismatch(10, b'01234'), MALFORMED, 0,
     False),
    ('content_length_invalid', cl_headers('5x'), MALFORMED, 0, False),
    ('content_length_twice_differ', cl_headers('5', '6'), MALFORMED, 0,
     False),
    # 8.1 trailers must not carry what the proxy vouches for
    ('trailer_cms_authn_dn', trailer('cms-authn-dn', '/CN=evil'),
     MALFORMED, 0, False),
    ('trailer_cms_auth_status', trailer('cms-auth-status', 'OK'),
     MALFORMED, 0, False),
    ('trailer_ssl_client_s_dn', trailer('ssl-client-s-dn', '/CN=evil'),
     MALFORMED, 0, False),
    ('trailer_ssl_client_verify', trailer('ssl-client-verify', 'SUCCESS'),
     MALFORMED, 0, False),
    # 8.1: no pseudo-header in trailers; 8.2.2 holds there too
    ('trailer_pseudo_path', trailer(':path', '/h2h/bad/x'), MALFORMED, 0,
     False),
    ('trailer_transfer_encoding', trailer('transfer-encoding', 'chunked'),
     MALFORMED, 0, False),
    ('trailers_without_end_stream', trailers_no_end, MALFORMED, 0, False),
    # limits
    ('oversize_header_list', oversize_list,
     r'^(status:431|rst:PROTOCOL_ERROR|rst:ENHANCE_YOUR_CALM|'
     r'goaway:ENHANCE_YOUR_CALM)$', 0, True),
    ('too_many_header_fields', many_fields,
     r'^(status:431|rst:PROTOCOL_ERROR|rst:ENHANCE_YOUR_CALM)$', 0, False),
    ('header_field_too_long', long_field,
     r'^(status:431|rst:PROTOCOL_ERROR|rst:ENHANCE_YOUR_CALM)$', 0, False),
    ('hpack_bomb', hpack_bomb,
     r'^(status:431|rst:PROTOCOL_ERROR|rst:ENHANCE_YOUR_CALM|'
     r'goaway:ENHANCE_YOUR_CALM)$', 0, True),
    ('hpack_table_size_update', hpack_table_update,
     r'^goaway:COMPRESSION_ERROR$', 0, True),
    ('too_many_streams', too_many_streams,
     r'^(rst:REFUSED_STREAM|rst:PROTOCOL_ERROR|goaway:PROTOCOL_ERROR)$', 0,
     True),
    ('stream_slots_released', stream_slots_released, r'^ok$', 100, True),
    # framing (4.2, 5.1.1)
    ('data_frame_too_big', data_too_big,
     r'^(rst|goaway):FRAME_SIZE_ERROR$', 0, True),
    ('stream_id_even', stream_id_even, r'^goaway:PROTOCOL_ERROR$', 0, True),
    # floods
    ('flood_rapid_reset', rapid_reset, FLOOD, 0, True),
    ('flood_rapid_reset_get', rapid_reset_get, FLOOD, None, True),
    ('flood_continuation', continuation_flood, FLOOD, 0, True),
    ('flood_settings', settings_flood, FLOOD, 0, True),
    ('flood_ping', ping_flood, FLOOD, 0, True),
    ('flood_priority', priority_flood, FLOOD, 0, True),
    ('flood_empty_data', empty_data_flood, FLOOD, 0, True),
    ('flood_window_update', window_update_flood, FLOOD, 0, True),
    ('flood_rst_closed_stream', rst_closed_flood, FLOOD, 1, True),
    # cancels in the middle of a transfer; what follows is not confused
    ('cancel_mid_response', cancel_mid_response, r'^ok$', None, True),
    ('cancel_mid_upload', cancel_mid_upload, r'^ok$', None, True),
    # memory: one connection cannot take more than its share
    ('shared_body_buffer', shared_body_buffer, r'^bounded$', None, True),
    ('slow_reader_memory', slow_reader, r'^(bounded|no-pid)$', None, True),
    ('body_after_answer', body_after_answer, r'^bounded$', 0, True),
    # timers: slowloris in h2 clothing
    ('slow_header_block_never_ends',
     timer_case(header_block_never_ends, 'request_head'),
     r'^(goaway:[A-Z_]+|closed|rst:[A-Z_]+|status:408)$', 0, True),
    ('slow_header_block_trickle',
     timer_case(header_block_trickle, 'request_head'),
     r'^(goaway:[A-Z_]+|closed|rst:[A-Z_]+|status:408)$', 0, True),
    ('slow_upload_stalls', timer_case(upload_never_ends, 'body_idle'),
     r'^(goaway:[A-Z_]+|closed|rst:[A-Z_]+|status:408)$', 0, True),
    ('idle_with_pings', timer_case(pings_no_stream, 'keepalive'),
     r'^(goaway:[A-Z_]+|closed)$', 0, True),
    ('silent_after_alpn',
     timer_case(silent_after_alpn, 'request_head', 'keepalive', False),
     r'^(goaway:[A-Z_]+|closed)$', 0, True),
    ('half_preface',
     timer_case(half_preface, 'request_head', 'keepalive', False),
     r'^(goaway:[A-Z_]+|closed)$', 0, True),
    # a reader that never opens its window
    ('window_zero_stall', window_stall,
     r'^(rst:[A-Z_]+|goaway:[A-Z_]+|closed)$', 1, True),
]


# ----------------------------------------------------- conforming client

class Draining(h2.connection.H2ConnectionStateMachine):
    """python3-h2 closes the whole connection on any GOAWAY; RFC 9113
    6.8 lets the streams up to its last stream id finish.  After a GOAWAY
    this machine accepts everything but new streams."""

    def process_input(self, input_):
        if self.state == h2.connection.ConnectionState.CLOSED and \
                input_ not in (h2.connection.ConnectionInputs.SEND_HEADERS,
                               h2.connection.ConnectionInputs.
                               SEND_PUSH_PROMISE):
            return []
        return super().process_input(input_)


class Good:
    """A conforming client (python3-h2's state machine): what another
    user of the proxy looks like."""

    def __init__(self, opt):
        tcp = socket.create_connection((opt.host, opt.port), timeout=5)
        self.s = opt.tls.wrap_socket(tcp, server_hostname=opt.host)
        if self.s.selected_alpn_protocol() != 'h2':
            self.s.close()
            raise NoH2(str(self.s.selected_alpn_protocol()))
        self.s.settimeout(5)
        self.opt = opt
        self.h2 = h2.connection.H2Connection(h2.config.H2Configuration(
            client_side=True, header_encoding=None))
        self.h2.state_machine = Draining()
        self.goaway = None		# (code, last stream id)
        self.h2.initiate_connection()
        self.s.sendall(self.h2.data_to_send())
        self.resp = {}			# sid -> dict
        self.pending = {}		# sid -> request body bytes not sent
        self.open_ended = set()		# sids whose body never ends
        self.keep_sending = set()	# sids that send on after the answer
        self.sent = {}			# sid -> body bytes sent
        self.pad = None			# pad DATA frames with this many
        self.chunk = 1 << 30		# largest DATA payload to send
        self.dead = None

    def request(self, path, method='GET', headers=(), body=None):
        sid = self.h2.get_next_available_stream_id()
        hs = [(':method', method), (':scheme', 'https'), (':path', path),
              (':authority', self.opt.authority)] + list(headers)
        self.h2.send_headers(sid, hs, end_stream=body is None)
        if body is not None:
            self.pending[sid] = body
        self.resp[sid] = {'status': None, 'body': b'', 'end': False,
                          'reset': None, 'path': path, 'headers': {},
                          'unprocessed': False}
        self.flush()
        return sid

    def flush(self):
        """Send request bodies as far as the windows allow, and all
        that h2 has queued."""
        for sid in list(self.pending):
            body = self.pending[sid]
            if self.resp[sid]['end'] and sid not in self.keep_sending:
                del self.pending[sid]
                continue
            # Padding (pad length byte included) costs window too.
            cost = self.pad + 1 if self.pad is not None else 0
            while True:
                n = min(len(body), self.h2.local_flow_control_window(sid) -
                        cost, self.h2.max_outbound_frame_size - cost,
                        self.chunk)
                if n <= 0 and body:
                    break
                self.h2.send_data(sid, body[:n], end_stream=(
                    n == len(body) and sid not in self.open_ended),
                    pad_length=self.pad)
                self.sent[sid] = self.sent.get(sid, 0) + n
                body = body[n:]
                if not body:
                    break
            if body:
                self.pending[sid] = body
            else:
                del self.pending[sid]
        d = self.h2.data_to_send()
        if d:
            self.s.sendall(d)

    def pump(self, timeout):
        self.s.settimeout(timeout)
        try:
            d = self.s.recv(65536)
        except socket.timeout:
            return True
        except (OSError, ssl.SSLError) as e:
            self.dead = repr(e)
            return False
        if not d:
            self.dead = 'eof'
            return False
        try:
            events = self.h2.receive_data(d)
        except h2.exceptions.ProtocolError as e:
            self.dead = 'protocol: %r' % e
            return False
        for ev in events:
            r = self.resp.get(getattr(ev, 'stream_id', None))
            if isinstance(ev, h2.events.ResponseReceived):
                r['headers'] = dict(ev.headers)
                r['status'] = r['headers'][b':status'].decode()
            elif isinstance(ev, h2.events.DataReceived):
                r['body'] += ev.data
                self.h2.acknowledge_received_data(
                    ev.flow_controlled_length, ev.stream_id)
            elif isinstance(ev, h2.events.StreamEnded):
                r['end'] = True
            elif isinstance(ev, h2.events.StreamReset):
                self.pending.pop(ev.stream_id, None)
                if r is not None:
                    r['reset'] = code_name(ev.error_code)
                    r['end'] = True
            elif isinstance(ev, h2.events.ConnectionTerminated):
                self.goaway = (code_name(ev.error_code), ev.last_stream_id)
                if ev.error_code != 0:
                    self.dead = 'goaway:' + code_name(ev.error_code)
                # Streams the server never processed (6.8): retryable.
                for sid, r in self.resp.items():
                    if sid > (ev.last_stream_id or 0) and not r['end']:
                        r['end'] = True
                        r['unprocessed'] = True
                        self.pending.pop(sid, None)
        try:
            self.flush()
        except (OSError, ssl.SSLError, h2.exceptions.H2Error) as e:
            self.dead = self.dead or repr(e)
            return False
        return True

    def wait_all(self, secs):
        end = time.monotonic() + secs
        while any(not r['end'] for r in self.resp.values()):
            left = end - time.monotonic()
            if left <= 0 or self.dead:
                break
            self.pump(min(left, 0.5))

    def close(self):
        try:
            self.h2.close_connection()
            self.flush()
        except Exception:	# noqa: BLE001 (already gone)
            pass
        self.s.close()


def after_check(opt, name):
    """Is another client still served?"""
    try:
        g = Good(opt)
        sid = g.request('/h2h/ok/after-' + name)
        g.wait_all(opt.case_timeout)
        r = g.resp[sid]
        g.close()
        if r['status'] and r['end']:
            return 'status:' + r['status']
        return r['reset'] and 'rst:' + r['reset'] or g.dead or 'timeout'
    except NoH2 as e:
        return 'no-h2:' + str(e)
    except (OSError, ssl.SSLError) as e:
        return 'connect-failed:' + e.__class__.__name__


# ------------------------------------------------------------------ soak

def soak_check(opt, r, hdrs):
    """Why the response r (a Good.resp entry) does not belong to the
    request that opened its stream, or None."""
    if hdrs.get(b'x-request-id', b'').decode('latin-1') != r['rid']:
        return 'echoed X-Request-Id header %r differs' % hdrs.get(
            b'x-request-id')
    j = echo_of({'body': r['body']})
    if j is None:
        return 'response body is not the backend\'s JSON echo'
    if j.get('target') != r['path']:
        return 'echoed target %r differs' % j.get('target')
    if be_headers(j, 'x-request-id') != [r['rid']]:
        return 'X-Request-Id the backend received differs'
    if opt.expect_login and be_headers(j, 'cms-authn-login') != [
            opt.expect_login]:
        return 'identity %r' % be_headers(j, 'cms-authn-login')
    if r['sent'] is not None:
        if j.get('body_length') != len(r['sent']):
            return 'body length %r, sent %d' % (j.get('body_length'),
                                                len(r['sent']))
        if j.get('body_sha256') != hashlib.sha256(r['sent']).hexdigest():
            return 'body SHA-256 differs'
    return None


def soak(opt):
    """The soak mix: --soak-conns long-lived h2 connections, each carrying
    rounds of --soak-streams concurrent streams, sent interleaved across
    the connections (GETs and POSTs with bodies of varying size, on the
    routes of --routes in turn).  Every request has a unique id in its
    path and in X-Request-Id; every response is checked against the
    stream that asked: the echoed X-Request-Id header, the target, the
    X-Request-Id and (--expect-login) cms-authn-login the backend
    received, a POST body's length and SHA-256.  A response that fails a
    check is a mismatch (delivered to the wrong stream, or corrupted);
    other failures (non-200, reset streams, dead connections, timeouts)
    are errors, counted by kind; a dead connection is replaced.  With
    --events, each error and mismatch is a JSON line (kind, error, route,
    id, t, wall_ms), as tests/soak/soak_client.py writes them; with
    --summary, the totals are a JSON object.  Prints "SOAK requests=N
    ok=N mismatches=N errors=N conns=N" last; exit 0 unless there was a
    mismatch, no request at all, or (without --events) any error."""
    import random
    rng = random.Random(opt.seed)
    t0 = time.monotonic()
    deadline = t0 + opt.soak_secs
    routes = opt.routes.split(',')
    ev = open(opt.events, 'w', buffering=1) if opt.events else None
    st = {'requests': 0, 'ok': 0, 'mismatches': 0, 'errors': {},
          'unprocessed': 0, 'printed': 0,
          'connections': 0, 'rounds': 0, 'streams_per_conn_max': 0}

    def event(**kw):
        kw['t'] = round(time.monotonic() - t0, 3)
        kw['wall_ms'] = int(time.time() * 1000)
        if ev:
            ev.write(json.dumps(kw, sort_keys=True) + '\n')
        elif st['printed'] < 20:
            st['printed'] += 1
            print('# ' + json.dumps(kw, sort_keys=True), flush=True)

    def error(kind, route, rid, detail='', status=None):
        st['errors'][kind] = st['errors'].get(kind, 0) + 1
        event(kind='error', error=kind, route=route, id=rid,
              detail=detail[:200], status=status)

    conns = [None] * opt.soak_conns
    seq = 0
    try:
        while time.monotonic() < deadline and (
                opt.soak_rounds == 0 or st['rounds'] < opt.soak_rounds):
            st['rounds'] += 1
            for i in range(len(conns)):
                if conns[i] is None or conns[i].dead or conns[i].goaway:
                    if conns[i] is not None:
                        conns[i].close()
                    try:
                        conns[i] = Good(opt)
                        st['connections'] += 1
                    except NoH2 as e:
                        print('NO-H2 %s' % e)
                        return 3
                    except (OSError, ssl.SSLError) as e:
                        conns[i] = None
                        error('connect:' + type(e).__name__, '-', '-',
                              str(e))
            live = [g for g in conns if g is not None]
            for g in live:
                g.resp = {}
            # Interleave: one stream on each connection in turn.
            for k in range(opt.soak_streams):
                for g in live:
                    if g.dead or g.goaway:
                        continue
                    seq += 1
                    route = routes[seq % len(routes)]
                    rid = 'h2s%d-%08x' % (seq, rng.getrandbits(32))
                    path = '/%s/%s?seq=%d' % (route, rid, seq)
                    body = None
                    hs = [('x-request-id', rid)]
                    if rng.random() < opt.post_ratio:
                        body = os.urandom(rng.choice(
                            (0, 1, 100, 4096, 20000, rng.randrange(1, 70000))))
                        hs.append(('content-length', str(len(body))))
                    try:
                        sid = g.request(path, 'POST' if body is not None
                                        else 'GET', hs, body)
                    except (OSError, ssl.SSLError,
                            h2.exceptions.H2Error) as e:
                        g.dead = g.dead or repr(e)
                        error('send:' + type(e).__name__, route, rid, str(e))
                        continue
                    g.resp[sid].update(rid=rid, route=route, sent=body)
                    if k % 8 == 7:
                        g.pump(0.001)
            for g in live:
                g.wait_all(opt.case_timeout)
            for g in live:
                n = len(g.resp)
                st['streams_per_conn_max'] = max(
                    st['streams_per_conn_max'], n)
                for sid, r in g.resp.items():
                    if r['unprocessed']:
                        st['unprocessed'] += 1
                        continue
                    st['requests'] += 1
                    if not r['end']:
                        error('timeout' if not g.dead else 'conn:' + str(
                            g.dead), r['route'], r['rid'])
                    elif r['reset']:
                        error('reset:' + r['reset'], r['route'], r['rid'])
                    elif r['status'] != '200':
                        error('status:%s' % r['status'], r['route'],
                              r['rid'], r['body'][:200].decode('latin-1'),
                              int(r['status']) if r['status'] and
                              r['status'].isdigit() else None)
                    else:
                        why = soak_check(opt, r, r['headers'])
                        if why:
                            st['mismatches'] += 1
                            event(kind='mismatch', route=r['route'],
                                  id=r['rid'], why=why,
                                  body=r['body'][:300].decode('latin-1'))
                        else:
                            st['ok'] += 1
    finally:
        for g in conns:
            if g is not None:
                g.close()
        if ev:
            ev.close()
    st['seconds'] = round(time.monotonic() - t0, 1)
    del st['printed']
    nerr = sum(st['errors'].values())
    if opt.summary:
        with open(opt.summary, 'w') as fp:
            json.dump(st, fp, sort_keys=True)
    print('SOAK requests=%d ok=%d mismatches=%d errors=%d conns=%d %s' % (
        st['requests'], st['ok'], st['mismatches'], nerr,
        st['connections'], json.dumps(st['errors'], sort_keys=True)))
    bad_errors = nerr > 0 and not opt.events
    return 1 if st['mismatches'] or not st['requests'] or bad_errors else 0


# ------------------------------------------------------------------ main

def be_stat(opt, field):
    """A counter of the backend's /__stats, None without --backend."""
    if not opt.backend:
        return None
    with urllib.request.urlopen(opt.backend.rstrip('/') + '/__stats',
                                timeout=5) as r:
        return json.load(r)[field]


def be_requests(opt):
    return be_stat(opt, 'requests')


def run_case(opt, name, fn, exp, want_be, check_after):
    before = be_requests(opt)
    t0 = time.monotonic()
    try:
        outcome, detail = fn(opt, name)
    except NoH2:
        raise
    except (OSError, ssl.SSLError) as e:
        outcome, detail = 'error', repr(e)
    except Exception as e:	# noqa: BLE001 (a driver bug fails the case)
        outcome, detail = 'driver-error', repr(e)
    took = time.monotonic() - t0
    delta = '?'
    if before is not None:
        # Give a wrongly forwarded request time to show up; a wanted
        # one is waited for (bounded).
        end = time.monotonic() + (2.0 if want_be else opt.settle)
        while True:
            delta = be_requests(opt) - before
            if time.monotonic() >= end or (want_be and delta >= want_be):
                break
            time.sleep(0.05)
    if want_be is None:
        delta = '*(%s)' % delta	# not asserted: see the case
    after = after_check(opt, name) if check_after else '-'
    good = re.search(exp, outcome) is not None and \
        (delta == '?' or want_be is None or delta == want_be) and \
        (after in ('-', 'status:200'))
    print('CASE\t%s\t%s\t%s\t%s\t%s\t%s\t%s (%.1fs)' % (
        name, outcome, exp, delta, '*' if want_be is None else want_be,
        after, detail, took), flush=True)
    return good


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--host', default='127.0.0.1')
    ap.add_argument('--port', type=int, required=True)
    ap.add_argument('--cert', help='client certificate PEM (with key)')
    ap.add_argument('--key')
    ap.add_argument('--ca', help='CA bundle to verify the server')
    ap.add_argument('--insecure', action='store_true')
    ap.add_argument('--backend', help='backend base URL, for /__stats')
    ap.add_argument('--expect-dn', help='cms-authn-dn the backend must see')
    ap.add_argument('--body-idle', type=float, default=2.0,
                    help='the proxy\'s timeouts.body_idle, seconds')
    ap.add_argument('--request-head', type=float, default=2.0,
                    help='the proxy\'s timeouts.request_head, seconds')
    ap.add_argument('--keepalive', type=float, default=3.0,
                    help='the proxy\'s timeouts.keepalive, seconds')
    ap.add_argument('--timer-slack', type=float, default=3.0,
                    help='how late past its timer a case may end')
    ap.add_argument('--timer-wait', type=float, default=8.0,
                    help='how long past its timer a case waits')
    ap.add_argument('--case', action='append', help='run only these')
    ap.add_argument('--list', action='store_true')
    ap.add_argument('--case-timeout', type=float, default=8.0)
    ap.add_argument('--settle', type=float, default=0.3)
    ap.add_argument('--flood-n', type=int, default=20000)
    ap.add_argument('--max-streams-probe', type=int, default=1000)
    ap.add_argument('--field-size', type=int, default=7000)
    ap.add_argument('--list-fields', type=int, default=8)
    ap.add_argument('--many-fields', type=int, default=150)
    ap.add_argument('--long-field', type=int, default=9000)
    ap.add_argument('--bomb-refs', type=int, default=1000)
    ap.add_argument('--upload-streams', type=int, default=20)
    ap.add_argument('--upload-each', type=int, default=800000)
    ap.add_argument('--body-bound', type=int,
                    default=1024 * 1024 + 5 * 65536,
                    help='limits.body_buffer + the connection window + '
                    'a share')
    ap.add_argument('--proxy-pid', type=int,
                    help='the proxy, for RSS (leave out for ASan builds)')
    ap.add_argument('--slow-size', type=int, default=20000000)
    ap.add_argument('--slow-secs', type=float, default=1.5)
    ap.add_argument('--slow-bound-kb', type=int, default=20 * 1024)
    ap.add_argument('--cancel-rounds', type=int, default=10)
    ap.add_argument('--upload-rounds', type=int, default=3)
    ap.add_argument('--upload-size', type=int, default=3 * 1024 * 1024,
                    help='more than the proxy\'s limits.body_buffer')
    ap.add_argument('--soak', action='store_true')
    ap.add_argument('--soak-conns', type=int, default=4)
    ap.add_argument('--soak-streams', type=int, default=30)
    ap.add_argument('--soak-secs', '--duration', type=float, default=10)
    ap.add_argument('--soak-rounds', type=int, default=0)
    ap.add_argument('--routes', default='h2h/soak',
                    help='soak: comma-separated path prefixes, in turn')
    ap.add_argument('--post-ratio', type=float, default=0.3)
    ap.add_argument('--expect-login', help='soak: cms-authn-login to see')
    ap.add_argument('--events', help='soak: JSON lines of errors')
    ap.add_argument('--summary', help='soak: JSON totals')
    ap.add_argument('--seed', type=int, default=1)
    opt = ap.parse_args()

    if opt.list:
        for c in CASES:
            print(c[0])
        return 0
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if opt.insecure:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    elif opt.ca:
        ctx.load_verify_locations(opt.ca)
    if opt.cert:
        ctx.load_cert_chain(opt.cert, opt.key)
    ctx.set_alpn_protocols(['h2', 'http/1.1'])
    opt.tls = ctx
    opt.authority = '%s:%d' % (opt.host, opt.port)

    if opt.soak:
        return soak(opt)
    names = [c[0] for c in CASES]
    for n in opt.case or []:
        if n not in names:
            print('unknown case %s' % n, file=sys.stderr)
            return 2
    fails = 0
    try:
        for name, fn, exp, want_be, chk in CASES:
            if opt.case and name not in opt.case:
                continue
            if not run_case(opt, name, fn, exp, want_be, chk):
                fails += 1
    except NoH2 as e:
        print('NO-H2 %s' % e, flush=True)
        return 3
    return 1 if fails else 0


if __name__ == '__main__':
    sys.exit(main())
