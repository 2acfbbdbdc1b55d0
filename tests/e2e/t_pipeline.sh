#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 the gridfront authors
#
# HTTP/1.1 pipelining: requests sent in one write are answered in order,
# even when an early one is slow or goes to another backend; a request
# after "Connection: close" is never processed; a client that half-closes
# after pipelining still gets every answer; split writes at awkward
# boundaries parse the same.

. "$(dirname "$0")/lib.sh"

start_backend b1
start_backend b2
std_conf "$WORK/pipeline.yaml" "$(route /two b2)
$(route / b1)"
start_proxy "$WORK/pipeline.yaml"

# targets: the "target" of every JSON body in the raw output, in order.
targets() { grep -aoE '"target":"[^"]*"' "$WORK/raw.out" | cut -d'"' -f4 | tr '\n' ' '; }
ids() { grep -aiE '^X-Request-Id:' "$WORK/raw.out" | tr -d '\r' | awk '{print $2}' | tr '\n' ' '; }

R='GET /p1 HTTP/1.1\r\nHost: a\r\nX-Request-Id: r1\r\n\r\n'
R="${R}GET /p2 HTTP/1.1\r\nHost: a\r\nX-Request-Id: r2\r\n\r\n"
R="${R}GET /p3 HTTP/1.1\r\nHost: a\r\nX-Request-Id: r3\r\nConnection: close\r\n\r\n"
raw "$R"
assert_eq "3 pipelined requests: 3 responses" 3 "$(raw_nresponses)"
assert_eq "3 pipelined requests: in order" "/p1 /p2 /p3 " "$(targets)"
assert_eq "3 pipelined requests: request ids match" "r1 r2 r3 " "$(ids)"
if raw_closed; then pass "Connection: close on the last one closes"
else fail "Connection: close on the last one closes" "$RAW_ERR"; fi

# A slow first request does not let the later answers overtake it.
R='GET /slow/700 HTTP/1.1\r\nHost: a\r\n\r\n'
R="${R}GET /two/fast HTTP/1.1\r\nHost: a\r\n\r\n"
R="${R}GET /size/10 HTTP/1.1\r\nHost: a\r\n\r\n"
R="${R}GET /p4 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
raw "$R"
assert_eq "slow first request: 4 responses" 4 "$(raw_nresponses)"
assert_eq "slow first request: still in order" "/slow/700 /two/fast /p4 " "$(targets)"

# Nothing after Connection: close is processed.
r0=$(be_stats b1 requests)
R='GET /last HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n'
R="${R}GET /never HTTP/1.1\r\nHost: a\r\n\r\n"
raw "$R"
assert_eq "after Connection: close: one response" 1 "$(raw_nresponses)"
assert_eq "after Connection: close: the next request never reached the backend" \
    $((r0 + 1)) "$(be_stats b1 requests)"

# Half-close after pipelining: every request still answered.
R='GET /h1 HTTP/1.1\r\nHost: a\r\n\r\nGET /h2 HTTP/1.1\r\nHost: a\r\n\r\n'
raw "$R" --halfclose
assert_eq "half-close after 2 pipelined requests: both answered" "/h1 /h2 " "$(targets)"

# Awkward write boundaries (3 bytes at a time, CR and LF split apart).
R='POST /s1 HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhelloGET /s2 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n'
raw "$R" --split 3 --delay-ms 5
assert_eq "3-byte writes: 2 responses in order" "/s1 /s2 " "$(targets)"

# Many pipelined requests in one write.
R=''
exp=''
for i in $(seq 1 100); do
	R="${R}GET /m$i HTTP/1.1\r\nHost: a\r\n\r\n"
	exp="$exp/m$i "
done
R="${R}GET /m-end HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
raw "$R" --timeout-ms 10000
assert_eq "100 pipelined requests answered in order" "$exp/m-end " "$(targets)"

stop_proxy

# Backpressure on a deep TLS pipeline: with a small buffer_high the input
# reaches its high watermark and reading pauses while OpenSSL still holds
# read-ahead bytes that no socket event will announce; reading must
# resume from those as requests are answered, and lose none.
std_conf "$WORK/pipeline-wm.yaml" "$(route / b1)" "limits:
  buffer_high: 4k
  max_request_line: 1k
  max_header_field: 1k
  max_header_block: 2k"
start_proxy "$WORK/pipeline-wm.yaml"
R=''
for i in $(seq 1 1500); do
	R="${R}GET /w$i HTTP/1.1\r\nHost: a\r\nX-Pad: $(printf '%040d' "$i")\r\n\r\n"
done
R="${R}GET /w-end HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
raw "$R" --timeout-ms 15000
assert_eq "1500 pipelined requests past the read watermark: all answered" \
    1501 "$(raw_nresponses)"
t=$(targets)
assert_eq "1500 pipelined requests past the read watermark: in order" \
    "/w1 /w2 /w3 /w1499 /w1500 /w-end" "$(echo "$t" | awk '{print $1, $2, $3, $(NF-2), $(NF-1), $NF}')"
stop_proxy
finish
