#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 the gridfront authors
#
# bench/run.sh (`make bench`, `make bench-smoke`): the side-by-side benchmark
# of gridfront, nginx and HAProxy.  It starts one origin (bench/origin.c) on
# loopback, then for every scenario and repetition starts each peer afresh
# from a generated config (bench/peers/*.in), pinned to its own core with one
# worker, drives it with bench/loadgen.c pinned to the other core (with the
# origin), and records what loadgen measured plus the proxy's CPU time and
# memory read from /proc.  Peers alternate within a scenario and their order
# rotates between repetitions.  At the end it prints a markdown table
# (medians over repetitions) and writes bench/results/<timestamp>.{json,md}.
# Everything is on 127.0.0.1, every run is bounded by loadgen's -d/-n and a
# hard timeout, the whole script by BENCH_TIMEOUT, and the EXIT trap kills
# every process it started.  See bench/README.md for how to read the output.
#
# Environment:
#   BUILD            build directory (default build)
#   BENCH_SMOKE=1    short CI version: 1 repetition, ~0.5 s runs, small
#                    idle/bulk sizes, a subset of scenarios
#   REPEAT           repetitions (default 3; smoke 1)
#   BENCH_DURATION   measured seconds per run (default 4; smoke 0.5)
#   BENCH_WARMUP     seconds excluded at the start of each run (default 1)
#   BENCH_PEERS      peers to run (default "gridfront nginx haproxy")
#   BENCH_SCENARIOS  scenarios to run (default: all, see `scenario_list`)
#   BENCH_CPU_PROXY / BENCH_CPU_LOAD   cores (default 0 / 1)
#   BENCH_TIMEOUT    hard limit for the whole run, seconds (default 1800)
#   BENCH_RESULTS    output directory (default bench/results)
#   BENCH_PKI        test PKI directory (default $BUILD/bench/pki)
#   BENCH_KEEP=1     keep the temporary directory (configs, logs)
#   BENCH_STAT=best  table shows the best repetition instead of medians
#                    (for a machine shared with other work)
#   BENCH_NICE=N     run everything at this nice level (e.g. -10 on a
#                    machine shared with other work; needs root when < 0)
#   BENCH_H2LOAD_N   requests per client run of --h2load-check (200000;
#                    smoke 20000)
#
# `run.sh --loadgen-check` compares loadgen with wrk, `run.sh
# --h2load-check` loadgen --h2 with h2load (see bench/README.md).

set -u
set -o pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac

SMOKE=${BENCH_SMOKE:-0}
if [ "$SMOKE" = 1 ]; then
	REPEAT=${REPEAT:-1}
	DURATION=${BENCH_DURATION:-0.5}
	WARMUP=${BENCH_WARMUP:-0.2}
	IDLE_CONNS=${BENCH_IDLE_CONNS:-100}
	BULK=${BENCH_BULK:-8m}
	DEFAULT_SCENARIOS="ceiling-origin ceiling-tls ka-50 ka-50-token ka-16k post-16k
	    hs-user-ecdsa hs-voms-rsa idle upload download h2-ka-10x10"
	TOTAL_TIMEOUT=${BENCH_TIMEOUT:-300}
else
	REPEAT=${REPEAT:-3}
	DURATION=${BENCH_DURATION:-4}
	WARMUP=${BENCH_WARMUP:-1}
	IDLE_CONNS=${BENCH_IDLE_CONNS:-1000}
	BULK=${BENCH_BULK:-100m}
	DEFAULT_SCENARIOS="ceiling-origin ceiling-tls ka-50 ka-50-logged
	    ka-50-token ka-200 ka-16k post-16k hs-user-ecdsa hs-user-rsa
	    hs-voms-ecdsa hs-voms-rsa
	    hs-user-ecdsa-new hs-voms-ecdsa-new idle upload download
	    h2-ka-10x10 h2-ka-16k h2-idle ka-50-tls-upstream"
	TOTAL_TIMEOUT=${BENCH_TIMEOUT:-1800}
fi
PEERS=${BENCH_PEERS:-gridfront nginx haproxy}
SCENARIOS=${BENCH_SCENARIOS:-$DEFAULT_SCENARIOS}
CPU_PROXY=${BENCH_CPU_PROXY:-}
CPU_LOAD=${BENCH_CPU_LOAD:-}
RESULTS=${BENCH_RESULTS:-$BENCH_DIR/results}
PKI=${BENCH_PKI:-$BUILD/bench/pki}
USER_CRED=${BENCH_USER_CRED:-alice}	# EC P-256 user certificate
VOMS_CRED=${BENCH_VOMS_CRED:-voms}	# depth-1 VOMS proxy (RSA-2048 key)

LOADGEN=$BUILD/bench/loadgen
ORIGIN=$BUILD/bench/origin
GRIDFRONT=$BUILD/gridfront

PIDS=()
WATCHDOG=
TMP=
ORIGIN_PID=
ORIGIN_PORT=
TLS_ORIGIN_PID=
TLS_ORIGIN_PORT=
PEER_PID=
PEER_PIDS=
PEER_PORT=
PEER_PLAIN_PORT=
PEER_LOG=
declare -A PEER_BROKEN=()
declare -A PEER_WHY=()
# "scenario/peer" pairs that cannot run (a gridfront without h2): n/a.
declare -A NA_SKIP=()

log() { printf 'bench: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

# ------------------------------------------------------------ processes

cleanup() {
	local p
	trap - EXIT INT TERM
	for p in "${PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in "${PIDS[@]}"; do
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	if [ -n "$WATCHDOG" ]; then
		kill -TERM "$WATCHDOG" 2>/dev/null
		wait "$WATCHDOG" 2>/dev/null
	fi
	if [ -n "$TMP" ] && [ "${BENCH_KEEP:-0}" != 1 ]; then
		rm -rf "$TMP"
	elif [ -n "$TMP" ]; then
		log "kept $TMP"
	fi
}

on_signal() {
	log "interrupted (or BENCH_TIMEOUT=${TOTAL_TIMEOUT}s reached)"
	cleanup
	exit 124
}

# forget_pid PID: stop tracking a process we reaped ourselves.
forget_pid() {
	local p keep=()
	for p in "${PIDS[@]}"; do
		[ "$p" = "$1" ] || keep+=("$p")
	done
	PIDS=("${keep[@]}")
}

# stop_pid PID [SIGNAL]: SIGNAL (default TERM), wait up to 3 s, then KILL;
# reap it.  Peers get INT: an immediate stop for all three (gridfront's TERM
# would drain for its grace period).
stop_pid() {
	local pid=$1 sig=${2:-TERM} i
	[ -n "$pid" ] || return 0
	kill -"$sig" "$pid" 2>/dev/null
	for i in $(seq 30); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	forget_pid "$pid"
}

# free_port: a port nothing listens on, below the kernel's ephemeral range
# so that no client socket of the bench can hold it.
free_port() {
	local p lo
	lo=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null)
	[ -n "$lo" ] && [ "$lo" -gt 12000 ] || lo=32768
	while :; do
		p=$(( 10000 + (RANDOM * 32768 + RANDOM) % (lo - 10000) ))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
}

# wait_port PORT PID SECONDS: until PORT accepts, PID is alive.
wait_port() {
	local port=$1 pid=$2 n=$(( $3 * 20 ))
	while [ "$n" -gt 0 ]; do
		kill -0 "$pid" 2>/dev/null || return 1
		if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			return 0
		fi
		sleep 0.05
		n=$((n - 1))
	done
	return 1
}

# ------------------------------------------------------------ set-up

check_tools() {
	local t
	for t in python3 jq taskset openssl curl; do
		command -v "$t" >/dev/null || die "$t is required (make deps)"
	done
	# `make bench` builds loadgen; the origin is built here (a no-op
	# when it is up to date).
	make -s -C "$ROOT" BUILD="$BUILD" "$LOADGEN" "$ORIGIN" >&2 ||
		die "cannot build $LOADGEN and $ORIGIN"
	# Default cores: the first two this process may run on (a container
	# may not own CPU 0 and 1).
	local allowed=() part
	for part in $(taskset -pc $$ | sed 's/.*: //; s/,/ /g'); do
		if [[ $part == *-* ]]; then
			allowed+=($(seq "${part%-*}" "${part#*-}"))
		else
			allowed+=("$part")
		fi
	done
	if [ "${#allowed[@]}" -lt 2 ]; then
		log "only ${#allowed[@]} CPU: proxy and load share it; numbers" \
		    "are not comparable with a 2-core run"
		allowed+=("${allowed[0]}")
	fi
	CPU_PROXY=${CPU_PROXY:-${allowed[0]}}
	CPU_LOAD=${CPU_LOAD:-${allowed[1]}}
	# 1000 idle connections need more than the usual 1024 descriptors.
	ulimit -n "$(ulimit -Hn)" 2>/dev/null
	NOFILE=$(ulimit -n)
	[ "$NOFILE" = unlimited ] && NOFILE=1048576
}

make_pki() {
	log "test PKI in $PKI"
	if ! timeout 120 bash "$ROOT/tests/fixtures/certs/mkcerts.sh" "$PKI" \
	    >"$TMP/mkcerts.log" 2>&1; then
		tail -20 "$TMP/mkcerts.log" >&2
		die "tests/fixtures/certs/mkcerts.sh failed"
	fi
	# nginx and HAProxy take one CA file and one CRL file; they get the
	# same hashed CA directory that gridfront reads, concatenated.
	cat "$PKI"/certificates/*.0 >"$TMP/ca.pem"
	cat "$PKI"/certificates/*.r[0-9]* >"$TMP/crl.pem"
	cat "$PKI/server.pem" "$PKI/server.key" >"$TMP/haproxy-rsa.pem"
	cat "$PKI/server-ec.pem" "$PKI/server-ec.key" >"$TMP/haproxy-ec.pem"
	LOCAL_BODY=$(head -c 100 /dev/zero | tr '\0' o)
}

start_origin() {
	ORIGIN_PORT=$(free_port)
	taskset -c "$CPU_LOAD" "$ORIGIN" -p "$ORIGIN_PORT" \
	    --require-header X-Forwarded-For >"$TMP/origin.log" 2>&1 &
	ORIGIN_PID=$!
	PIDS+=("$ORIGIN_PID")
	wait_port "$ORIGIN_PORT" "$ORIGIN_PID" 5 ||
		die "origin did not start: $(cat "$TMP/origin.log")"
}

# The https origin of ka-50-tls-upstream (TLS on both legs): a second
# origin process, with the EC host certificate (name localhost).
start_tls_origin() {
	TLS_ORIGIN_PORT=$(free_port)
	taskset -c "$CPU_LOAD" "$ORIGIN" -p "$TLS_ORIGIN_PORT" \
	    --require-header X-Forwarded-For --tls-cert "$PKI/server-ec.pem" \
	    --tls-key "$PKI/server-ec.key" >"$TMP/tls-origin.log" 2>&1 &
	TLS_ORIGIN_PID=$!
	PIDS+=("$TLS_ORIGIN_PID")
	wait_port "$TLS_ORIGIN_PORT" "$TLS_ORIGIN_PID" 5 ||
		die "TLS origin did not start: $(cat "$TMP/tls-origin.log")"
}

origin_accepted() {
	local s
	if [ "${S_TLSUP:-0}" = 1 ]; then
		s=$(curl -s --max-time 2 --cacert "$PKI/ca-bundle.pem" \
		    "https://localhost:$TLS_ORIGIN_PORT/__stats")
	else
		s=$(curl -s --max-time 2 "http://127.0.0.1:$ORIGIN_PORT/__stats")
	fi
	if [[ $s =~ \"accepted\":([0-9]+) ]]; then
		echo "${BASH_REMATCH[1]}"
	else
		echo 0
	fi
}

# ------------------------------------------------------------ peers

# fill TEMPLATE OUT KEY=VALUE...: substitute @KEY@ placeholders.
fill() {
	local in=$1 out=$2 kv k v
	shift 2
	cp "$in" "$out"
	for kv in "$@"; do
		k=${kv%%=*}
		v=${kv#*=}
		v=${v//\\/\\\\}
		v=${v//|/\\|}
		v=${v//&/\\&}
		sed -i "s|@$k@|$v|g" "$out"
	done
}

# start_peer PEER HOSTKEY(ec|rsa) VERIFY_CACHE: sets PEER_PID, PEER_PIDS
# (comma list of every process of the peer), PEER_PORT.  Returns 1 when
# the peer did not come up (its log is in PEER_LOG).
start_peer() {
	local peer=$1 key=$2 vcache=$3 dir cert keyf
	# Request buffering (S_REQBUF): nginx keeps bodies up to 1 MiB in
	# memory, like gridfront's limits.body_buffer; HAProxy waits for
	# the body (up to its buffer) before connecting.
	local reqbuf_nginx="proxy_request_buffering off;"
	local reqbuf_haproxy="# no request buffering"
	if [ "${S_REQBUF:-0}" = 1 ]; then
		reqbuf_nginx="proxy_request_buffering on; client_body_buffer_size 1m;"
		reqbuf_haproxy="option http-buffer-request"
	fi
	# HTTP/2 (S_H2): nginx's "http2" listen flag, HAProxy's ALPN list.
	# gridfront offers h2 by itself once it has it.
	local http2_nginx="" alpn_haproxy=""
	if [ "${S_H2:-0}" = 1 ]; then
		http2_nginx=http2
		alpn_haproxy="alpn h2,http/1.1"
	fi
	PEER_PORT=$(free_port)
	dir=$(mktemp -d "$TMP/$peer.XXXXXX")
	PEER_LOG=$dir/log
	# Access logs (S_LOG): each peer writes one line per request to a
	# file in its run directory, as a production node does.
	local alog_gf='"off"' alog_nginx="access_log off;"
	local alog_haproxy="# no access log" httplog=""
	if [ "${S_LOG:-0}" = 1 ]; then
		alog_gf=$dir/access.log
		alog_nginx="access_log $dir/access.log combined buffer=64k flush=1s;"
		alog_haproxy="log stdout format raw local0 info"
		httplog="option httplog"
	fi
	if [ "$key" = rsa ]; then
		cert=$PKI/server.pem
		keyf=$PKI/server.key
	else
		cert=$PKI/server-ec.pem
		keyf=$PKI/server-ec.key
	fi
	case $peer in
	gridfront)
		fill "$BENCH_DIR/peers/gridfront.yaml.in" "$dir/gridfront.yaml" \
		    PORT="$PEER_PORT" ORIGIN_PORT="$ORIGIN_PORT" CERT="$cert" \
		    KEY="$keyf" PKI="$PKI" VERIFY_CACHE="$vcache" \
		    ACCESS_LOG="$alog_gf" JWKS="$TMP/jwks.json" \
		    TLS_ORIGIN_PORT="$TLS_ORIGIN_PORT"
		if ! "$GRIDFRONT" -t -c "$dir/gridfront.yaml" >"$PEER_LOG" 2>&1
		then
			PEER_PID=
			return 1
		fi
		taskset -c "$CPU_PROXY" "$GRIDFRONT" -c "$dir/gridfront.yaml" \
		    >>"$PEER_LOG" 2>&1 &
		PEER_PID=$!
		;;
	nginx)
		PEER_PLAIN_PORT=$(free_port)
		fill "$BENCH_DIR/peers/nginx.conf.in" "$dir/nginx.conf" \
		    DIR="$dir" PORT="$PEER_PORT" ORIGIN_PORT="$ORIGIN_PORT" \
		    PLAIN_PORT="$PEER_PLAIN_PORT" CERT="$cert" KEY="$keyf" \
		    VERIFY="${NGINX_VERIFY:-on}" CAFILE="$TMP/ca.pem" \
		    CRLFILE="$TMP/crl.pem" LOCAL_BODY="$LOCAL_BODY" \
		    NOFILE="$NOFILE" REQBUF="$reqbuf_nginx" \
		    ACCESS_LOG="$alog_nginx" HTTP2="$http2_nginx" \
		    TLS_ORIGIN_PORT="$TLS_ORIGIN_PORT" \
		    UPCAFILE="$PKI/ca-bundle.pem"
		taskset -c "$CPU_PROXY" nginx -p "$dir/" -e "$dir/error.log" \
		    -c "$dir/nginx.conf" -g 'daemon off;' >"$PEER_LOG" 2>&1 &
		PEER_PID=$!
		;;
	haproxy)
		fill "$BENCH_DIR/peers/haproxy.cfg.in" "$dir/haproxy.cfg" \
		    PORT="$PEER_PORT" ORIGIN_PORT="$ORIGIN_PORT" \
		    CRTKEY="$TMP/haproxy-$key.pem" \
		    VERIFY="${HAPROXY_VERIFY:-required}" ALPN="$alpn_haproxy" \
		    CAFILE="$TMP/ca.pem" CRLFILE="$TMP/crl.pem" \
		    LOCAL_BODY="$LOCAL_BODY" MAXCONN=$(( (NOFILE - 100) / 2 )) \
		    REQBUF="$reqbuf_haproxy" ACCESS_LOG="$alog_haproxy" \
		    HTTPLOG="$httplog" TLS_ORIGIN_PORT="$TLS_ORIGIN_PORT" \
		    UPCAFILE="$PKI/ca-bundle.pem"
		if [ "${S_LOG:-0}" = 1 ]; then
			# stdout is the access log; stderr the peer log.
			taskset -c "$CPU_PROXY" haproxy -f "$dir/haproxy.cfg" \
			    -db >"$dir/access.log" 2>"$PEER_LOG" &
		else
			taskset -c "$CPU_PROXY" haproxy -f "$dir/haproxy.cfg" \
			    -db >"$PEER_LOG" 2>&1 &
		fi
		PEER_PID=$!
		;;
	*)
		return 1
		;;
	esac
	PIDS+=("$PEER_PID")
	if ! wait_port "$PEER_PORT" "$PEER_PID" 10; then
		stop_pid "$PEER_PID" INT
		PEER_PID=
		return 1
	fi
	# nginx forks its worker after binding; wait for it.
	local kids="" i
	for i in $(seq 40); do
		kids=$(pgrep -P "$PEER_PID" | paste -sd, -)
		[ "$peer" != nginx ] || [ -n "$kids" ] && break
		sleep 0.05
	done
	PEER_PIDS=$PEER_PID${kids:+,$kids}
	return 0
}

peer_available() {
	case $1 in
	gridfront) [ -x "$GRIDFRONT" ] ;;
	nginx) command -v nginx >/dev/null ;;
	haproxy) command -v haproxy >/dev/null ;;
	*) return 1 ;;
	esac
}

# bench_token: an RSA issuer key, its JWKS and one long-lived token for
# the ka-50-token scenario, in $TMP (tests/e2e/jwt_mint.py, PyJWT).  The
# gridfront peer's config names the JWKS in every scenario.
bench_token() {
	local py=python3 mint
	/usr/bin/python3 -c 'import jwt' 2>/dev/null && py=/usr/bin/python3
	mint="$ROOT/tests/e2e/jwt_mint.py"
	"$py" "$mint" key rsa "$TMP/issuer.pem" &&
	    "$py" "$mint" jwks "$TMP/jwks.json" b1="$TMP/issuer.pem" &&
	    "$py" "$mint" mint "$TMP/issuer.pem" b1 '{"iss":"https://bench.test/",
	    "sub":"bench","aud":"cmsweb","exp":"+86400",
	    "preferred_username":"'"$USER_CRED"'"}' >"$TMP/token" ||
	    die "cannot make the bench token (python3-jwt; make deps)"
}

# ------------------------------------------------------------ scenarios

# scenario NAME: sets the variables that describe one scenario.
#   S_PEERS   which peers take part ("origin" = the origin directly)
#   S_KEY     host key (ec|rsa)         S_CACHE  gridfront verify_cache_size
#   S_METRIC  rps | mib_in | mib_out | rss_per_conn
#   S_REF     scenario whose peer numbers gridfront is compared with
#   S_MODE S_CONNS S_DUR S_CERT S_EXTRA   loadgen settings
#   S_PATH    URL path                  S_WHAT   one line for the report
#   S_REQBUF  1: the peers buffer request bodies before the upstream hop
#   S_LOG     1: every peer writes its access log to a file (production)
#   S_H2      1: HTTP/2 to the peers (nginx http2, HAProxy alpn h2); a
#             peer that does not negotiate h2 is reported n/a
scenario() {
	local pp=/b/size base who
	local ucert=$PKI/creds/$USER_CRED.pem vcert=$PKI/creds/$VOMS_CRED.pem
	S_PEERS="gridfront nginx haproxy"
	S_KEY=ec
	S_CACHE=10000
	S_METRIC=rps
	S_REF=$1
	S_PATH=$pp/100
	S_MODE=keepalive
	S_CONNS=50
	S_DUR=$DURATION
	S_CERT=$ucert
	S_EXTRA=()
	S_REQBUF=0
	S_LOG=0
	S_H2=0
	S_TLSUP=0
	case $1 in
	ceiling-origin)
		S_PEERS=origin
		S_CERT=
		S_EXTRA=(--header "X-Forwarded-For: 127.0.0.1")
		S_WHAT="origin directly, plain HTTP keep-alive, 50 conns, 100 B (loadgen and origin share their core): the most the load side can drive"
		;;
	ceiling-tls)
		S_PEERS="nginx haproxy"
		S_PATH=/local/
		S_WHAT="TLS 1.3 + client cert, keep-alive, 50 conns, 100 B answered by the proxy itself: TLS termination with no proxy hop"
		;;
	ka-50)
		S_WHAT="keep-alive, 50 conns, 100 B response, user cert (mTLS)"
		;;
	ka-50-logged)
		S_LOG=1
		S_REF=ka-50-logged
		S_WHAT="keep-alive, 50 conns, 100 B response, user cert (mTLS), every peer writing an access log line per request to a file (gridfront's text log, nginx's combined format with buffer=64k flush=1s, HAProxy's httplog to stdout redirected to a file): the production setting"
		;;
	ka-50-tls-upstream)
		# Issue 13: the origin hop is TLS too (the /tlsup/ routes):
		# verified backend certificate, pooled keep-alive connections,
		# sessions resumed (nginx proxy_ssl_session_reuse, HAProxy
		# server ssl verify required with http-reuse).
		S_TLSUP=1
		S_PATH=/tlsup$pp/100
		S_WHAT="keep-alive, 50 conns, 100 B response, user cert (mTLS), TLS 1.3 to the origin as well (verified, pooled keep-alive)"
		;;
	ka-50-token)
		# Issue 14: a bearer token instead of the certificate; the
		# same origin path through the /tok/ route.  Compared with
		# gridfront's own x509 ka-50 (nginx and HAProxy in Debian
		# cannot verify JWTs).
		S_PEERS=gridfront
		S_REF=ka-50
		S_CERT=
		S_PATH=/tok$pp/100
		S_EXTRA=(--header "Authorization: Bearer $(cat "$TMP/token")")
		S_WHAT="keep-alive, 50 conns, 100 B response, bearer RS256 token (cached after the first request), no client certificate"
		;;
	ka-200)
		S_CONNS=200
		S_WHAT="keep-alive, 200 conns, 100 B response, user cert (mTLS)"
		;;
	ka-16k)
		S_PATH=$pp/16k
		S_WHAT="keep-alive, 50 conns, 16 KiB response, user cert (mTLS)"
		;;
	post-16k)
		S_EXTRA=(--method POST --body-bytes 16k)
		S_REQBUF=1
		S_WHAT="keep-alive, 50 conns, 16 KiB POST (Content-Length), 100 B response, user cert (mTLS); every peer receives the whole body before the upstream hop (gridfront's default request buffering, nginx proxy_request_buffering on, HAProxy option http-buffer-request)"
		;;
	hs-user-ecdsa|hs-user-rsa|hs-voms-ecdsa|hs-voms-rsa|hs-user-ecdsa-new|hs-voms-ecdsa-new)
		base=${1%-new}
		who="user certificate ($USER_CRED)"
		case $1 in
		*voms*)
			S_CERT=$vcert
			who="depth-1 VOMS proxy ($VOMS_CRED)"
			# nginx and HAProxy cannot do this job; see the notes.
			S_PEERS="gridfront nginx"
			;;
		esac
		case $base in *-rsa) S_KEY=rsa ;; esac
		S_REF=$base
		S_MODE=handshake
		S_CONNS=16
		S_WHAT="a new connection and full TLS 1.3 mTLS handshake per request, $who, ${S_KEY^^} host key, 16 in flight"
		case $1 in
		*-new)
			S_PEERS=gridfront
			S_CACHE=0
			S_WHAT="$S_WHAT; gridfront with its verified-chain cache off (a client never seen before), compared with the peers' $base"
			;;
		*)
			S_WHAT="$S_WHAT; gridfront's verified-chain cache on (a returning client)"
			;;
		esac
		;;
	idle)
		S_METRIC=rss_per_conn
		S_MODE=idle
		S_CONNS=$IDLE_CONNS
		S_DUR=1
		# 1000 handshakes at once can queue for a while on a busy box.
		S_EXTRA=(--timeout 30000)
		S_WHAT="$IDLE_CONNS idle keep-alive mTLS connections (one request each, set up 16 at a time, then held): RSS growth of the proxy per connection"
		;;
	h2-ka-10x10)
		# Issue 15: one TLS connection carries many exchanges.
		S_H2=1
		S_CONNS=10
		S_EXTRA=(--h2 --streams 10)
		S_WHAT="HTTP/2 (ALPN h2), 10 conns x 10 concurrent streams, 100 B response, user cert (mTLS); the backends get HTTP/1.1 over each peer's pool"
		;;
	h2-ka-16k)
		S_H2=1
		S_CONNS=10
		S_PATH=$pp/16k
		S_EXTRA=(--h2 --streams 10)
		S_WHAT="HTTP/2 (ALPN h2), 10 conns x 10 concurrent streams, 16 KiB response, user cert (mTLS)"
		;;
	h2-idle)
		S_H2=1
		S_METRIC=rss_per_conn
		S_MODE=idle
		S_CONNS=$IDLE_CONNS
		S_DUR=1
		S_EXTRA=(--h2 --timeout 30000)
		S_WHAT="$IDLE_CONNS idle HTTP/2 mTLS connections (one request each on one stream, set up 16 at a time, then held): RSS growth of the proxy per connection"
		;;
	upload)
		S_METRIC=mib_out
		S_PATH=$pp/16
		S_CONNS=1
		S_EXTRA=(--method POST --body-bytes "$BULK" --timeout 30000)
		S_WHAT="$BULK upload (POST with Content-Length), 1 conn, streamed through to the origin"
		;;
	download)
		S_METRIC=mib_in
		S_PATH=$pp/$BULK
		S_CONNS=1
		S_EXTRA=(--timeout 30000)
		S_WHAT="$BULK download, 1 conn"
		;;
	*)
		return 1
		;;
	esac
	return 0
}

# One measured run: RUN_JSON gets loadgen's JSON (or empty).
run_one() {
	local scen=$1 peer=$2 rep=$3 url watch extra=() acc0 acc1 out rc
	local hard
	hard=$(awk "BEGIN { printf \"%d\", $S_DUR + $WARMUP + 30 }")
	if [ "$peer" = origin ]; then
		url=http://127.0.0.1:$ORIGIN_PORT$S_PATH
		watch=(--watch "origin=$ORIGIN_PID")
		PEER_PID=
	else
		if ! start_peer "$peer" "$S_KEY" "$S_CACHE"; then
			PEER_BROKEN[$peer]=1
			PEER_WHY[$peer]="did not start; log: $(tail -3 "$PEER_LOG" 2>/dev/null | tr '\n' ' ')"
			log "$peer did not start:"
			tail -20 "$PEER_LOG" >&2
			RUN_JSON=
			return 1
		fi
		url=https://127.0.0.1:$PEER_PORT$S_PATH
		watch=(--watch "proxy=$PEER_PIDS" --watch "origin=$ORIGIN_PID")
		[ "$S_TLSUP" = 1 ] &&
		    watch=(--watch "proxy=$PEER_PIDS" --watch "origin=$TLS_ORIGIN_PID")
	fi
	# nginx cannot verify RFC 3820 proxy chains (OpenSSL 3 offers it no
	# switch): it finishes the handshake, verification included, and
	# answers 400 itself.  Count that 400 as the expected answer so that
	# its handshake rate is still measured; the report flags it.
	if [ "$peer" = nginx ] && [[ $scen == hs-voms* ]]; then
		extra=(--expect-status 400)
	fi
	local certarg=() wn=200 wmode=keepalive
	[ -z "$S_CERT" ] || certarg=(--cert "$S_CERT")
	[ "$S_METRIC" = mib_in ] || [ "$S_METRIC" = mib_out ] && wn=2
	[ "$S_MODE" = handshake ] && wmode=handshake
	# Warm-up: fill pools, caches and session state.
	timeout -k 2 30 taskset -c "$CPU_LOAD" "$LOADGEN" --url "$url" -c 4 \
	    -n "$wn" --mode "$wmode" "${certarg[@]}" "${S_EXTRA[@]}" "${extra[@]}" \
	    >/dev/null 2>&1 || true
	acc0=$(origin_accepted)
	local timing=(-d "$S_DUR")
	[ "$S_MODE" = idle ] || timing+=(--warmup "$WARMUP")
	out=$(timeout -k 5 "$((hard + 10))" taskset -c "$CPU_LOAD" "$LOADGEN" \
	    --url "$url" --mode "$S_MODE" -c "$S_CONNS" "${timing[@]}" \
	    "${certarg[@]}" "${S_EXTRA[@]}" "${extra[@]}" "${watch[@]}" \
	    --hard-timeout "$hard" --json --label "$scen/$peer/$rep" \
	    2>"$TMP/loadgen.err")
	rc=$?
	acc1=$(origin_accepted)
	if [ -n "$PEER_PID" ]; then
		if ! kill -0 "$PEER_PID" 2>/dev/null; then
			log "$peer died during $scen: $(tail -5 "$PEER_LOG" | tr '\n' ' ')"
		fi
		stop_pid "$PEER_PID" INT
		PEER_PID=
	fi
	if [ $rc -ne 0 ] && [ "$S_H2" = 1 ] &&
	    grep -q 'server did not negotiate h2' "$TMP/loadgen.err"; then
		# Not a failure of the bench: this peer (a gridfront built
		# before HTTP/2) has no h2.  Reported as n/a, not retried.
		NA_SKIP[$scen/$peer]=1
		RUN_JSON=$(printf '{"scenario":"%s","peer":"%s","rep":%d,"metric":"%s","ref":"%s","na":"server did not negotiate h2"}' \
		    "$scen" "$peer" "$rep" "$S_METRIC" "$S_REF")
		return 0
	fi
	if [ $rc -ne 0 ] || [ -z "$out" ]; then
		log "loadgen failed ($rc) for $scen/$peer: $(tail -3 "$TMP/loadgen.err" | tr '\n' ' ')"
		RUN_JSON=
		return 1
	fi
	RUN_JSON=$(printf '{"scenario":"%s","peer":"%s","rep":%d,"metric":"%s","ref":"%s","upstream_conns":%d,"result":%s}' \
	    "$scen" "$peer" "$rep" "$S_METRIC" "$S_REF" "$((acc1 - acc0))" "$out")
	return 0
}

# Short human line per run, on stderr, so the log shows progress.
run_line() {
	jq -r '
	    if .na then "  \(.scenario) \(.peer) rep \(.rep): n/a (\(.na))"
	    else
	    .result as $d
	    | ($d.watch.proxy // $d.watch.origin // {}) as $w
	    | (if .metric == "rps" then
		"\($d.rps | floor) req/s  p99 \($d.latency_us.p99 / 1000) ms"
	      elif .metric == "rss_per_conn" then
		"\($w.rss_per_conn_kib) KiB/conn (held \($d.idle.held))"
	      elif .metric == "mib_in" then "\($d.mib_in_per_s) MiB/s"
	      else "\($d.mib_out_per_s) MiB/s" end) as $v
	    | "  \(.scenario) \(.peer) rep \(.rep): \($v), proxy cpu \((($w.cpu_util // 0) * 100) | floor)%, errors \($d.errors.total)"
	    end
	' <<<"$1" >&2
}

# ------------------------------------------------------------ report

report() {
	python3 - "$1" "$2" "$3" <<'PY'
import json, os, statistics, sys

runs_path, meta_path, out_base = sys.argv[1:4]
meta = json.load(open(meta_path))
runs = [json.loads(l) for l in open(runs_path) if l.strip()]
# A peer that cannot do a scenario at all (no h2): n/a rows, no numbers.
na = {}
for r in runs:
    if r.get("na"):
        na.setdefault((r["scenario"], r["peer"]), r["na"])
runs = [r for r in runs if not r.get("na")]

STAT = os.environ.get("BENCH_STAT", "median")

def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None

def agg(xs, hi=True):
    return med(xs)

def headline(r):
    d = r["result"]; m = r["metric"]
    w = d["watch"].get("proxy", {})
    if m == "rps": return d["rps"]
    if m == "mib_in": return d["mib_in_per_s"]
    if m == "mib_out": return d["mib_out_per_s"]
    if m == "rss_per_conn": return w.get("rss_per_conn_kib")
    return None

groups = {}
order = []
for r in runs:
    k = (r["scenario"], r["peer"])
    if k not in groups:
        groups[k] = []
        order.append(k)
    groups[k].append(r)

rows = []
for (scen, peer) in order:
    rs = groups[(scen, peer)]
    d0 = rs[0]
    if d0["metric"] == "rss_per_conn":
        # A repetition that could not hold its connections says nothing
        # about memory per connection.
        good = [r for r in rs if r["result"]["idle"]["held"] >=
                0.9 * r["result"]["conns"]]
        rs = good or rs
    values = [headline(r) for r in rs]
    if STAT == "best":
        # The best repetition, every column from it: noise on a shared
        # machine only ever slows a run down.
        lo = d0["metric"] == "rss_per_conn"
        rs = [sorted(rs, key=lambda r: headline(r) or 0, reverse=not lo)[0]]
    w = lambda r: r["result"]["watch"].get("proxy", {})
    reqs = [r["result"]["requests"] for r in rs]
    cpu = [w(r).get("cpu_s") for r in rs]
    cpu_k = [(c * 1000.0 / q) if (c is not None and q) else None
             for c, q in zip(cpu, reqs)]
    eff = [(q / c) if (c and q) else None for c, q in zip(cpu, reqs)]
    errs = sum(r["result"]["errors"]["total"] for r in rs)
    tot = sum(reqs) + errs
    rows.append({
        "scenario": scen, "peer": peer, "metric": d0["metric"],
        "ref": d0["ref"], "reps": len(rs),
        "value": agg([headline(r) for r in rs],
                     hi=d0["metric"] != "rss_per_conn"),
        "values": values,
        "rps": agg([r["result"]["rps"] for r in rs]),
        "p99_ms": agg([r["result"]["latency_us"]["p99"] / 1e3 for r in rs],
                      hi=False),
        "p999_ms": agg([r["result"]["latency_us"]["p999"] / 1e3 for r in rs],
                       hi=False),
        "cpu_util": med([w(r).get("cpu_util") for r in rs]),
        "cpu_s_per_1k": agg(cpu_k, hi=False),
        "req_per_cpu_s": agg(eff),
        # Bulk scenarios: MiB moved per second of proxy CPU.
        "mib_per_cpu_s": agg([(headline(r) / w(r)["cpu_util"])
                              if (headline(r) and w(r).get("cpu_util"))
                              else None for r in rs])
                         if d0["metric"] in ("mib_in", "mib_out") else None,
        "peak_rss_kib": agg([w(r).get("hwm_kib") for r in rs], hi=False),
        "pss_kib": agg([w(r).get("pss_after_kib") for r in rs], hi=False),
        "load_cpu_util": med([(r["result"]["loadgen_cpu_s"] +
                               r["result"]["watch"].get("origin", {})
                               .get("cpu_s", 0)) / r["result"]["window_s"]
                              if r["result"]["window_s"] else None
                              for r in rs]),
        "errors": errs,
        "error_rate": errs / tot if tot else 0.0,
        "upstream_conns": med([r.get("upstream_conns") for r in rs]),
        "tls": d0["result"].get("tls", ""),
        "idle_held_frac": med([r["result"]["idle"]["held"] /
                               r["result"]["conns"] for r in rs])
                          if d0["metric"] == "rss_per_conn" else None,
        "empty": any(r["result"]["requests"] == 0 for r in rs),
        "expect_400": (peer == "nginx" and scen.startswith("hs-voms")),
    })

byk = {(r["scenario"], r["peer"]): r for r in rows}
lower_better = {"rss_per_conn"}
for r in rows:
    r["ratio"] = {}
    r["ratio_eff"] = {}
    if r["peer"] != "gridfront":
        continue
    for p in ("nginx", "haproxy"):
        o = byk.get((r["ref"], p))
        if not o or not o["value"] or r["value"] is None:
            continue
        r["ratio"][p] = r["value"] / o["value"]
        if r["req_per_cpu_s"] and o["req_per_cpu_s"]:
            r["ratio_eff"][p] = r["req_per_cpu_s"] / o["req_per_cpu_s"]
        if r["mib_per_cpu_s"] and o["mib_per_cpu_s"]:
            r["ratio_eff"][p] = r["mib_per_cpu_s"] / o["mib_per_cpu_s"]

def fmt_value(r):
    v = r["value"]
    if v is None: return "-"
    m = r["metric"]
    if m == "rps": return "{:,.0f} req/s".format(v)
    if m in ("mib_in", "mib_out"): return "{:,.0f} MiB/s".format(v)
    if m == "rss_per_conn": return "{:.1f} KiB/conn".format(v)
    return str(v)

def f(v, spec, dash="-"):
    return dash if v is None else format(v, spec)

head = ("| scenario | peer | result | p99 ms | proxy CPU | load CPU "
        "| CPU s / 1000 req | req / proxy CPU-s | peak RSS MiB | errors "
        "| gridfront / peer |")
sep = "|" + "---|" * 11
lines = [head, sep]
for r in rows:
    rat = []
    for p, x in r["ratio"].items():
        s = "%s %.2f" % (p, x)
        e = r["ratio_eff"].get(p)
        if e is not None and r["metric"] in ("rps", "mib_in", "mib_out"):
            s += " (CPU %.2f)" % e
        rat.append(s)
    note = ""
    if r["expect_400"]: note = " ¹"
    if r["error_rate"] > 0.01: note += " !"
    if r["empty"] or (r["idle_held_frac"] is not None and
                      r["idle_held_frac"] < 0.9):
        note += " ?"
    metric_rps = r["metric"] == "rps"
    pct = lambda v: "-" if v is None else "%.0f%%" % (100 * v)
    lines.append("| %s | %s%s | %s | %s | %s | %s | %s | %s | %s | %d | %s |" % (
        r["scenario"], r["peer"], note, fmt_value(r),
        f(r["p99_ms"], ".2f") if r["metric"] != "rss_per_conn" else "-",
        pct(r["cpu_util"] if r["metric"] != "rss_per_conn" else None),
        pct(r["load_cpu_util"] if r["metric"] != "rss_per_conn" else None),
        f(r["cpu_s_per_1k"], ".4f") if metric_rps else "-",
        f(r["req_per_cpu_s"], ",.0f") if metric_rps else "-",
        f(None if r["peak_rss_kib"] is None else r["peak_rss_kib"] / 1024,
          ".1f"),
        r["errors"], ", ".join(rat) or "-"))
for (scen, peer), why in na.items():
    lines.append("| %s | %s | n/a (%s) | - | - | - | - | - | - | - | - |" % (
        scen, peer, why))
table = "\n".join(lines)

# The issue's targets, checked on the medians.
targets = []
def best(scen, key, hi=True):
    vals = [byk[(scen, p)][key] for p in ("nginx", "haproxy")
            if (scen, p) in byk and byk[(scen, p)][key] is not None
            and not byk[(scen, p)]["expect_400"]]
    if not vals: return None
    return max(vals) if hi else min(vals)
def target(name, ok, detail):
    targets.append({"target": name, "ok": ok, "detail": detail})
for s in ("ka-50", "ka-200", "ka-16k"):
    g = byk.get((s, "gridfront"))
    b = best(s, "value")
    if g and b and g["value"]:
        target("%s: req/s >= 1.25x best peer" % s, g["value"] >= 1.25 * b,
               "%.0f vs %.0f (%.2fx)" % (g["value"], b, g["value"] / b))
        be = best(s, "req_per_cpu_s")
        if be and g["req_per_cpu_s"]:
            target("%s: req per proxy CPU-s >= 1.25x best peer" % s,
                   g["req_per_cpu_s"] >= 1.25 * be,
                   "%.0f vs %.0f (%.2fx)" % (g["req_per_cpu_s"], be,
                                            g["req_per_cpu_s"] / be))
        bp = best(s, "p99_ms", hi=False)
        if bp is not None and g["p99_ms"] is not None:
            target("%s: p99 no worse than either peer" % s,
                   g["p99_ms"] <= bp, "%.2f ms vs %.2f ms" % (g["p99_ms"], bp))
g, k = byk.get(("ka-50-logged", "gridfront")), byk.get(("ka-50", "gridfront"))
b, kb = best("ka-50-logged", "req_per_cpu_s"), best("ka-50", "req_per_cpu_s")
if g and k and b and kb and g["req_per_cpu_s"] and k["req_per_cpu_s"]:
    rl, rk = g["req_per_cpu_s"] / b, k["req_per_cpu_s"] / kb
    target("ka-50-logged: req per proxy CPU-s ratio >= ka-50's - 0.05",
           rl >= rk - 0.05, "%.2fx logged vs %.2fx ka-50" % (rl, rk))
g, k = byk.get(("ka-50-tls-upstream", "gridfront")), byk.get(("ka-50", "gridfront"))
b, kb = best("ka-50-tls-upstream", "req_per_cpu_s"), best("ka-50", "req_per_cpu_s")
if g and k and b and kb and g["req_per_cpu_s"] and k["req_per_cpu_s"]:
    rt, rk = g["req_per_cpu_s"] / b, k["req_per_cpu_s"] / kb
    target("ka-50-tls-upstream: req per proxy CPU-s ratio >= ka-50's - 0.05",
           rt >= rk - 0.05, "%.2fx TLS upstream vs %.2fx ka-50" % (rt, rk))
g = byk.get(("post-16k", "gridfront"))
b = best("post-16k", "value")
if g and b and g["value"]:
    target("post-16k: req/s >= best peer", g["value"] >= b,
           "%.0f vs %.0f (%.2fx)" % (g["value"], b, g["value"] / b))
# Issue 11: the upload at least 1.1x the better peer.  One client
# connection saturates the load core (loadgen encrypting, plus the
# origin), so MiB per proxy CPU-second is the fair measure; MiB/s is
# shown beside it.
g = byk.get(("upload", "gridfront"))
be = best("upload", "mib_per_cpu_s")
b = best("upload", "value")
if g and be and b and g["mib_per_cpu_s"] and g["value"]:
    target("upload: MiB per proxy CPU-s >= 1.1x best peer",
           g["mib_per_cpu_s"] >= 1.1 * be,
           "%.0f vs %.0f MiB per CPU-s (%.2fx); %.0f vs %.0f MiB/s (%.2fx), "
           "load core %.0f%%" % (g["mib_per_cpu_s"], be,
                                 g["mib_per_cpu_s"] / be, g["value"], b,
                                 g["value"] / b,
                                 100 * (g["load_cpu_util"] or 0)))
g = byk.get(("idle", "gridfront"))
if g and g["value"] is not None:
    target("idle: RSS per idle TLS connection <= 16 KiB", g["value"] <= 16,
           "%.1f KiB" % g["value"])
for s in ("hs-user-ecdsa", "hs-user-rsa", "hs-voms-ecdsa", "hs-voms-rsa"):
    g = byk.get((s, "gridfront"))
    b = best(s, "value")
    if g and b and g["value"]:
        target("%s: returning client >= 1.3x best peer" % s,
               g["value"] >= 1.3 * b,
               "%.0f vs %.0f (%.2fx)" % (g["value"], b, g["value"] / b))
    gn = byk.get((s + "-new", "gridfront"))
    if gn and b and gn["value"]:
        target("%s-new: new client >= best peer" % s, gn["value"] >= b,
               "%.0f vs %.0f (%.2fx)" % (gn["value"], b, gn["value"] / b))

# Issue 15: HTTP/2 to clients.
for s in ("h2-ka-10x10", "h2-ka-16k"):
    g = byk.get((s, "gridfront"))
    be = best(s, "req_per_cpu_s")
    if g and be and g["req_per_cpu_s"]:
        target("%s: req per proxy CPU-s >= 1.25x best peer" % s,
               g["req_per_cpu_s"] >= 1.25 * be,
               "%.0f vs %.0f (%.2fx)" % (g["req_per_cpu_s"], be,
                                        g["req_per_cpu_s"] / be))
    bp = best(s, "p99_ms", hi=False)
    if g and bp is not None and g["p99_ms"] is not None:
        target("%s: p99 no worse than either peer" % s,
               g["p99_ms"] <= bp, "%.2f ms vs %.2f ms" % (g["p99_ms"], bp))
g = byk.get(("h2-idle", "gridfront"))
b = best("h2-idle", "value", hi=False)
if g and g["value"] is not None and b is not None:
    target("h2-idle: RSS per idle h2 connection no worse than either peer",
           g["value"] <= b, "%.1f KiB vs %.1f KiB" % (g["value"], b))

tl = ["| target | met | measured |", "|---|---|---|"]
for t in targets:
    tl.append("| %s | %s | %s |" % (t["target"], "yes" if t["ok"] else "**no**",
                                     t["detail"]))
ttable = "\n".join(tl)

notes = []
if any(r["expect_400"] for r in rows):
    notes.append("¹ nginx cannot accept RFC 3820 proxy chains (OpenSSL 3.0 "
                 "has no switch nginx exposes): it completes the handshake, "
                 "chain verification included, then answers 400 itself "
                 "without a proxy hop. Its rate is an optimistic bound and "
                 "is left out of the targets.")
if "haproxy" in meta.get("peers", []) and any(
        s.startswith("hs-voms") for s in meta.get("scenarios", [])):
    notes.append("HAProxy 2.6 with OpenSSL 3.0 refuses RFC 3820 proxy chains "
                 "at the handshake (even with crt-ignore-err/ca-ignore-err "
                 "all), so it has no hs-voms-* rows.")
if any(r["empty"] or (r["idle_held_frac"] or 1) < 0.9 for r in rows):
    notes.append("? a repetition completed no request in its window, or "
                 "(idle) fewer than 90% of the connections were held: the "
                 "machine was too busy or the peer failed; do not trust "
                 "this row.")
if any(r["error_rate"] > 0.01 for r in rows):
    notes.append("! more than 1% of requests failed in this row; see the "
                 "JSON for the error kinds.")
for p, why in meta.get("broken", {}).items():
    notes.append("%s: %s" % (p, why))
notes.append(("Medians" if STAT != "best" else "Best repetition (BENCH_STAT=best)") +
             " over %s repetition(s) of %s s (after %s s warm-up); "
             "proxy pinned to CPU %s, loadgen and origin to CPU %s. "
             "`proxy CPU` is the proxy's share of its core during the "
             "window, `load CPU` that of loadgen plus origin on theirs: "
             "when the load side is near 100%% and the proxy is not, the "
             "load side was the limit and `req / proxy CPU-s` is the "
             "fairer comparison." % (
                 meta["repeat"], meta["duration"], meta["warmup"],
                 meta["cpu_proxy"], meta["cpu_load"]))

what = "\n".join("- `%s`: %s" % (k, v) for k, v in meta["what"].items())
md = ["# gridfront benchmark, %s" % meta["date"], "",
      "Host: %s, %s CPU, %s; %s; %s; %s; gridfront %s." % (
          meta["cpu_model"], meta["ncpu"], meta["kernel"], meta["openssl"],
          meta["nginx"], meta["haproxy"], meta["gridfront_rev"]), "",
      table, "", "\n".join(notes), "", "## Targets (issue 4)", "", ttable,
      "", "## Scenarios", "", what, ""]
open(out_base + ".md", "w").write("\n".join(md))
json.dump({"meta": meta, "summary": rows, "targets": targets, "runs": runs,
           "na": ["%s/%s: %s" % (s, p, w) for (s, p), w in na.items()]},
          open(out_base + ".json", "w"), indent=1)
print(table)
print()
print("\n".join(notes))
print()
print(ttable)
PY
}

# ------------------------------------------------------------ loadgen check

# cpu_of PIDS(comma list): utime+stime in seconds, summed.
cpu_of() {
	local p t=0 f
	for p in ${1//,/ }; do
		f=$(cut -d')' -f2- "/proc/$p/stat" 2>/dev/null) || continue
		# Fields after ")": state is 1st, utime 12th, stime 13th.
		t=$(( t + $(echo "$f" | awk '{print $12 + $13}') ))
	done
	python3 -c "print($t / $(getconf CLK_TCK))"
}

# --loadgen-check: is loadgen the bottleneck?  nginx answers a fixed 100 B
# response (return 200) without client verification; loadgen and wrk take
# turns against it, plain and TLS keep-alive, same pinning as the bench.
loadgen_check() {
	local rep tool proto url c0 c1 s0 s1 out rps ccpu errs lines=()
	command -v wrk >/dev/null || die "wrk is required for --loadgen-check"
	NGINX_VERIFY=off
	ORIGIN_PORT=$(free_port)	# unused: /local/ never proxies
	TLS_ORIGIN_PORT=$(free_port)	# unused too
	start_peer nginx ec 0 || die "nginx did not start: $(cat "$PEER_LOG")"
	log "nginx on CPU $CPU_PROXY (pids $PEER_PIDS), clients on CPU" \
	    "$CPU_LOAD, $REPEAT rep(s) x ${DURATION}s, 50 connections"
	for rep in $(seq 1 "$REPEAT"); do
		for proto in http https; do
			if [ $proto = http ]; then
				url=http://127.0.0.1:$PEER_PLAIN_PORT/local/
			else
				url=https://127.0.0.1:$PEER_PORT/local/
			fi
			for tool in loadgen wrk; do
				c0=$(cpu_of "$PEER_PIDS")
				s0=$(date +%s.%N)
				if [ $tool = loadgen ]; then
					out=$(timeout -k 2 60 taskset -c "$CPU_LOAD" \
					    "$LOADGEN" --url "$url" -c 50 \
					    -d "$DURATION" --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(d["rps"], d["loadgen_cpu_s"] / d["window_s"], d["errors"]["total"])')
				else
					out=$(timeout -k 2 60 python3 -c '
import re, resource, subprocess, sys, time
t = time.monotonic()
p = subprocess.run(sys.argv[1:], capture_output=True, text=True)
dt = time.monotonic() - t
r = resource.getrusage(resource.RUSAGE_CHILDREN)
m = re.search(r"Requests/sec:\s+([0-9.]+)", p.stdout)
e = re.search(r"Non-2xx or 3xx responses: (\d+)|Socket errors: (.*)", p.stdout)
print(m.group(1) if m else 0, (r.ru_utime + r.ru_stime) / dt, 1 if e else 0)
' taskset -c "$CPU_LOAD" wrk -t1 -c50 -d"${DURATION}s" "$url")
				fi
				s1=$(date +%s.%N)
				c1=$(cpu_of "$PEER_PIDS")
				read -r rps ccpu errs <<<"$out"
				lines+=("$(printf '%s\t%s\t%s\t%s\t%s\t%s' "$proto" \
				    "$tool" "$rps" "$ccpu" "$errs" \
				    "$(python3 -c "print(($c1 - $c0) / ($s1 - $s0))")")")
				printf '  %-5s %-7s rep %d  %9.0f req/s  client CPU %3.0f%%\n' \
				    "$proto" "$tool" "$rep" "$rps" \
				    "$(python3 -c "print(100 * $ccpu)")" >&2
			done
		done
	done
	stop_pid "$PEER_PID" INT
	printf '%s\n' "${lines[@]}" | python3 -c '
import statistics, sys
rows = {}
for l in sys.stdin:
    proto, tool, rps, ccpu, errs, scpu = l.split("\t")
    rows.setdefault((proto, tool), []).append(
        (float(rps), float(ccpu), int(errs), float(scpu)))
print("| keep-alive, 50 conns, nginx `return 200` (100 B) | client "
      "| req/s median | req/s best | client CPU us/req (best run) "
      "| client CPU (best run) | nginx CPU (best run) | errors |")
print("|---|---|---|---|---|---|---|---|")
for (proto, tool), v in rows.items():
    rps = statistics.median(x[0] for x in v)
    b = max(v, key=lambda x: x[0])
    print("| %s | %s | %s | %s | %.1f | %.0f%% | %.0f%% | %d |" % (
        "plain HTTP" if proto == "http" else "TLS 1.3", tool,
        "{:,.0f}".format(rps), "{:,.0f}".format(b[0]),
        1e6 * b[1] / b[0] if b[0] else 0, 100 * b[1], 100 * b[3],
        sum(x[2] for x in v)))
'
}

# ------------------------------------------------------------ h2load check

# --h2load-check: does loadgen's h2 mode measure what h2load measures?
# nginx and HAProxy set up as for h2-ka-10x10 (http2 / alpn h2, proxying
# /b/size/100 to the origin) but without client verification, which h2load
# cannot do.  Per peer and repetition, loadgen and h2load (order rotating)
# each make H2LOAD_N requests over 10 connections x 10 streams; both report
# req/s over their run and the number of 2xx answers, and the peer's CPU
# per request is read from /proc around each run.
h2load_check() {
	local peer rep tool tools url c0 c1 out rps ok errs lines=() n
	local ccpu lat n_err tokens=()
	n=${BENCH_H2LOAD_N:-$([ "$SMOKE" = 1 ] && echo 20000 || echo 200000)}
	command -v h2load >/dev/null ||
	    die "h2load is required for --h2load-check (nghttp2-client)"
	start_origin
	S_H2=1
	NGINX_VERIFY=off
	HAPROXY_VERIFY=none
	log "peers on CPU $CPU_PROXY, clients and origin on CPU $CPU_LOAD," \
	    "$REPEAT rep(s) x $n requests, 10 conns x 10 streams, 100 B"
	for peer in nginx haproxy; do
		peer_available "$peer" || { log "$peer: not installed"; continue; }
		for rep in $(seq 1 "$REPEAT"); do
			tools="loadgen h2load"
			[ $((rep % 2)) = 0 ] && tools="h2load loadgen"
			for tool in $tools; do
				start_peer "$peer" ec 0 ||
				    die "$peer did not start: $(cat "$PEER_LOG")"
				url=https://127.0.0.1:$PEER_PORT/b/size/100
				c0=$(cpu_of "$PEER_PIDS")
				if [ $tool = loadgen ]; then
					out=$(timeout -k 2 120 taskset -c "$CPU_LOAD" \
					    "$LOADGEN" --url "$url" --h2 -c 10 \
					    --streams 10 -n "$n" --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(d["rps"], d["status"]["2xx"], d["errors"]["total"],
      d["loadgen_cpu_s"], d["latency_us"]["mean"])')
				else
					out=$(timeout -k 2 120 python3 -c '
import re, resource, subprocess, sys
p = subprocess.run(sys.argv[1:], capture_output=True, text=True)
r = resource.getrusage(resource.RUSAGE_CHILDREN)
t = p.stdout
rps = re.search(r"finished in [0-9.]+m?s, ([0-9.]+) req/s", t)
ok = re.search(r"status codes: (\d+) 2xx", t)
fail = re.search(r"requests: .* (\d+) failed, (\d+) errored", t)
# time for request: min max mean sd +/-sd, each with its unit.
lat = re.search(r"time for request:\s+\S+\s+\S+\s+([0-9.]+)(us|ms|s)", t)
mean = 0
if lat:
    mean = float(lat.group(1)) * {"us": 1, "ms": 1e3, "s": 1e6}[lat.group(2)]
print(rps.group(1) if rps else 0, ok.group(1) if ok else 0,
      int(fail.group(1)) + int(fail.group(2)) if fail else -1,
      r.ru_utime + r.ru_stime, mean)
' taskset -c "$CPU_LOAD" h2load -c 10 -m 10 -n "$n" "$url")
				fi
				c1=$(cpu_of "$PEER_PIDS")
				stop_pid "$PEER_PID" INT
				read -r rps ok errs ccpu lat <<<"$out"
				lines+=("$(printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s' "$peer" \
				    "$tool" "$rps" "$ok" "$errs" \
				    "$(python3 -c "print(($c1 - $c0) * 1e6 / max(1, ${ok:-0}))")" \
				    "$(python3 -c "print(${ccpu:-0} * 1e6 / max(1, ${ok:-0}))")" \
				    "${lat:-0}")")
				printf '  %-7s %-7s rep %d  %9.0f req/s  2xx %s  errors %s\n' \
				    "$peer" "$tool" "$rep" "${rps:-0}" "$ok" "$errs" >&2
			done
		done
		# Every answer on its own stream: the origin echoes the
		# token of each :path (loadgen --check-token).
		start_peer "$peer" ec 0 ||
		    die "$peer did not start: $(cat "$PEER_LOG")"
		out=$(timeout -k 2 120 taskset -c "$CPU_LOAD" "$LOADGEN" \
		    --url "https://127.0.0.1:$PEER_PORT/b/size/100" --h2 -c 10 \
		    --streams 10 -n "$n" --check-token --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(d["tokens_checked"], d["errors"]["wrong_stream"], d["errors"]["total"])')
		stop_pid "$PEER_PID" INT
		read -r ok errs n_err <<<"$out"
		tokens+=("| $peer | $n | ${ok:-?} | ${errs:-?} | ${n_err:-?} |")
	done
	printf '\n| peer, loadgen --check-token | requests | answers with their own token | wrong_stream | errors, all kinds |\n|---|---|---|---|---|\n'
	printf '%s\n' "${tokens[@]}"
	echo
	printf '%s\n' "${lines[@]}" | python3 -c '
import statistics, sys
rows = {}
for l in sys.stdin:
    peer, tool, rps, ok, errs, us, cus, lat = l.rstrip("\n").split("\t")
    rows.setdefault((peer, tool), []).append(
        (float(rps), int(ok), int(errs), float(us), float(cus), float(lat)))
print("| peer, h2 10 conns x 10 streams, 100 B, no client cert | client "
      "| req/s median | req/s best | 2xx per run | errors "
      "| peer CPU us/req | client CPU us/req | mean latency ms |")
print("|---|---|---|---|---|---|---|---|---|")
for (peer, tool), v in rows.items():
    m = lambda i: statistics.median(x[i] for x in v)
    print("| %s | %s | %s | %s | %s | %d | %.1f | %.1f | %.2f |" % (
        peer, tool, "{:,.0f}".format(m(0)),
        "{:,.0f}".format(max(x[0] for x in v)),
        " ".join(str(x[1]) for x in v), sum(x[2] for x in v),
        m(3), m(4), m(5) / 1e3))
'
}

# ------------------------------------------------------------ main

main() {
	local stamp scen peer rep order i n ok=0 runs meta

	check_tools
	if [ -n "${BENCH_NICE:-}" ]; then
		renice -n "$BENCH_NICE" -p $$ >/dev/null ||
			log "renice to $BENCH_NICE failed; running at $(nice)"
	fi
	TMP=$(mktemp -d "${TMPDIR:-/tmp}/gridfront-bench.XXXXXX")
	trap cleanup EXIT
	trap on_signal INT TERM
	# The watchdog bounds the whole run, whatever hangs.
	# It must not hold our stdout open, and killing it ends its sleep.
	(
		trap 'kill "$s" 2>/dev/null; exit 0' TERM
		sleep "$TOTAL_TIMEOUT" &
		s=$!
		wait "$s" && kill -TERM $$
	) >/dev/null 2>&1 </dev/null &
	WATCHDOG=$!

	make_pki
	if [ "${1:-}" = --loadgen-check ]; then
		loadgen_check
		return
	fi
	if [ "${1:-}" = --h2load-check ]; then
		h2load_check
		return
	fi
	bench_token
	start_origin
	start_tls_origin
	log "origin on 127.0.0.1:$ORIGIN_PORT (CPU $CPU_LOAD);" \
	    "proxies on CPU $CPU_PROXY; $REPEAT rep(s) x ${DURATION}s"

	local active=()
	for peer in $PEERS; do
		if peer_available "$peer"; then
			active+=("$peer")
		else
			PEER_BROKEN[$peer]=1
			PEER_WHY[$peer]="not installed or not built"
			log "$peer: not available, skipped"
		fi
	done

	runs=$TMP/runs.jsonl
	: >"$runs"
	for rep in $(seq 1 "$REPEAT"); do
		for scen in $SCENARIOS; do
			scenario "$scen" || die "unknown scenario $scen"
			# The peers of this scenario, rotated by repetition.
			order=()
			for peer in $S_PEERS; do
				if [ "$peer" = origin ]; then
					order+=(origin)
					continue
				fi
				[ -z "${PEER_BROKEN[$peer]:-}" ] || continue
				[ -z "${NA_SKIP[$scen/$peer]:-}" ] || continue
				for i in "${active[@]}"; do
					[ "$i" = "$peer" ] && order+=("$peer")
				done
			done
			n=${#order[@]}
			[ "$n" -gt 0 ] || continue
			for i in $(seq 0 $((n - 1))); do
				peer=${order[$(( (i + rep - 1) % n ))]}
				if run_one "$scen" "$peer" "$rep"; then
					printf '%s\n' "$RUN_JSON" >>"$runs"
					run_line "$RUN_JSON"
					ok=$((ok + 1))
				fi
			done
		done
	done
	[ "$ok" -gt 0 ] || die "no run produced a result"

	meta=$TMP/meta.json
	stamp=$(date -u +%Y%m%dT%H%M%SZ)
	local what_json broken_json
	what_json=$(for scen in $SCENARIOS; do
		scenario "$scen"
		printf '%s\t%s\n' "$scen" "$S_WHAT"
	done | python3 -c 'import json,sys
print(json.dumps(dict(l.rstrip("\n").split("\t", 1) for l in sys.stdin)))')
	broken_json=$(for p in "${!PEER_WHY[@]}"; do
		printf '%s\t%s\n' "$p" "${PEER_WHY[$p]}"
	done | python3 -c 'import json,sys
print(json.dumps(dict(l.rstrip("\n").split("\t", 1) for l in sys.stdin if "\t" in l)))')
	M_DATE=$stamp M_SMOKE=$SMOKE M_REPEAT=$REPEAT M_DURATION=$DURATION \
	M_WARMUP=$WARMUP M_CPU_PROXY=$CPU_PROXY M_CPU_LOAD=$CPU_LOAD \
	M_NCPU=$(nproc) \
	M_CPU_MODEL=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- |
	    sed 's/^ *//') \
	M_KERNEL=$(uname -sr) \
	M_OPENSSL=$(openssl version | cut -d' ' -f1-2) \
	M_NGINX=$(nginx -v 2>&1 | sed 's/^nginx version: //') \
	M_HAPROXY=$(haproxy -v 2>/dev/null | head -1 | cut -d' ' -f1-3) \
	M_REV=$(git -C "$ROOT" describe --always --dirty 2>/dev/null ||
	    echo unknown) \
	M_PEERS=$PEERS M_SCENARIOS=$SCENARIOS M_USER=$USER_CRED \
	M_VOMS=$VOMS_CRED M_WHAT=$what_json M_BROKEN=$broken_json \
	python3 - "$meta" <<'PY'
import json, os, sys
e = os.environ
json.dump({
    "date": e["M_DATE"], "smoke": e["M_SMOKE"] == "1",
    "repeat": int(e["M_REPEAT"]), "duration": float(e["M_DURATION"]),
    "warmup": float(e["M_WARMUP"]),
    "cpu_proxy": e["M_CPU_PROXY"], "cpu_load": e["M_CPU_LOAD"],
    "ncpu": e["M_NCPU"], "cpu_model": e["M_CPU_MODEL"],
    "kernel": e["M_KERNEL"], "openssl": e["M_OPENSSL"],
    "nginx": e["M_NGINX"], "haproxy": e["M_HAPROXY"],
    "gridfront_rev": e["M_REV"],
    "peers": e["M_PEERS"].split(), "scenarios": e["M_SCENARIOS"].split(),
    "user_cred": e["M_USER"], "voms_cred": e["M_VOMS"],
    "what": json.loads(e["M_WHAT"]), "broken": json.loads(e["M_BROKEN"]),
}, open(sys.argv[1], "w"), indent=1)
PY
	mkdir -p "$RESULTS"
	echo
	report "$runs" "$meta" "$RESULTS/$stamp" || die "report failed"
	echo
	log "results: $RESULTS/$stamp.md and $RESULTS/$stamp.json"
}

# One line: bash has read it whole before main runs, so editing this file
# during a run cannot make the running shell read past it.
main "$@"; exit $?
