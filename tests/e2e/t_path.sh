#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 the gridfront authors
#
# Request paths that a backend reads differently from the route table
# (issue 11), sent as exact bytes over TLS:
#  - percent-escapes that are not shortest-form UTF-8 ("%C0%AE" is an
#    overlong '.', so "/svc/%C0%AE%C0%AE/admin" is "/svc/../admin" to a
#    lenient decoder) get 400 with Connection: close and the backend
#    receives not one byte; valid multi-byte escapes still pass, as does
#    anything in the query;
#  - path parameters: with a "/prod" route on backend P and a catch-all
#    "/" on backend C, no spelling of "/prod;params/x" (";", "%3B",
#    several segments, "/prod;/x", the last segment) reaches C.  With
#    listen.allow_path_params off each one is a 400; with it on they reach
#    P with their parameters (%3B is still refused), and a regex route and
#    a rewrite see the bare path too.  --test-route agrees with the proxy
#    on every spelling, both ways.  And the issue's own case: a client
#    without the VOMS role of a require_fqan route gets 400 or 403 for
#    every spelling, never the catch-all.

T_STEP=${T_STEP:-10}
. "$(dirname "$0")/lib.sh"

H='Host: a\r\n'

# path_req PATH: a GET for PATH that asks for the connection to stay open
# (so Connection: close in the answer is the proxy's own decision).
path_req() { printf '%s' "GET $1 HTTP/1.1\r\n${H}\r\n"; }

# refused NAME PATH BACKEND...: 400, Connection: close, closed, and none
# of the named backends got a byte.
refused() {
	local name=$1 path=$2 b; shift 2
	local -A b0
	for b in "$@"; do b0[$b]=$(be_stats "$b" bytes); done
	raw "$(path_req "$path")"
	assert_eq "$name: 400" 400 "$(raw_status)"
	assert_match "$name: Connection: close" \
	    "$(raw_header Connection | tr 'A-Z' 'a-z')" close
	if raw_closed; then pass "$name: connection closed"
	else fail "$name: connection closed" "$(tr '\n' ' ' <"$WORK/raw.err")"; fi
	for b in "$@"; do
		assert_eq "$name: backend $b received no byte" "${b0[$b]}" \
		    "$(be_stats "$b" bytes)"
	done
}

# served NAME PATH BACKEND TARGET [OTHER]: 200 from BACKEND, which saw
# request-target TARGET; backend OTHER (if given) got nothing.
served() {
	local name=$1 path=$2 be=$3 target=$4 other=${5:-} o0=
	[ -n "$other" ] && o0=$(be_stats "$other" bytes)
	raw "GET $path HTTP/1.1\r\n${H}Connection: close\r\n\r\n"
	assert_eq "$name: 200" 200 "$(raw_status)"
	assert_eq "$name: served by $be" "$be" "$(raw_header X-Backend-Id)"
	assert_eq "$name: backend saw $target" "$target" \
	    "$(body_of "$WORK/raw.out" | jq -r .target 2>/dev/null)"
	[ -n "$other" ] && assert_eq "$name: backend $other received no byte" \
	    "$o0" "$(be_stats "$other" bytes)"
}

# tool_says PATH CONF: what --test-route answers: a backend name, 400, or
# "no route".
tool_says() {
	local out
	out=$(timeout "$T_STEP" "$GF" --test-route "$1" -c "$2" 2>&1)
	case $out in
	*"gridfront answers 400"*) echo 400 ;;
	*"backends: $(be_url P)"*) echo P ;;
	*"backends: $(be_url C)"*) echo C ;;
	*"backends: $(be_url R)"*) echo R ;;
	*) echo "no route: $out" ;;
	esac
}

# path_conf FILE ALLOW: "/prod" on P, a regex and a rewrite route on R,
# the catch-all on C.
path_conf() {
	PX_PORT=$(free_port)
	cat >"$1" <<EOF
workers: 1
listen:
  - address: 127.0.0.1:$PX_PORT
    tls: {certificate: $PKI/server.pem, key: $PKI/server.key}
$([ "$2" = true ] && echo "    allow_path_params: true")
routes:
  - path: /prod
    auth: none
    backends: [$(be_url P)]
  - path: ^/exact/[a-z]+\$
    auth: none
    backends: [$(be_url R)]
  - path: /old/
    rewrite: {from: "^/old/", to: "/new/"}
    auth: none
    backends: [$(be_url R)]
  - path: /
    auth: none
    backends: [$(be_url C)]
log: {access: off}
EOF
}

start_backend P
start_backend C
start_backend R

# ------------------------------------------------------------ UTF-8 escapes
path_conf "$WORK/off.yaml" false
start_proxy "$WORK/off.yaml"

refused "overlong '.' (issue 11 report)" '/svc/%C0%AE%C0%AE/admin' C P R
for p in '/svc/%c0%ae%c0%ae/admin' '/%C0%AF' '/%C1%BF' '/%E0%80%AE' \
    '/%F0%80%80%AE' '/%ED%A0%80' '/%ED%BF%BF' '/%F4%90%80%80' '/%F5%80%80%80' \
    '/%FF' '/%80' '/a%BFb' '/%C3' '/%E2%82' '/%F0%9F%98/x' '/%C3/%A9' \
    '/%C3%41' '/prod/%C0%AE%C0%AE/x'; do
	refused "invalid UTF-8 escape $p" "$p" C P R
	assert_eq "--test-route refuses $p too" 400 "$(tool_says "$p" "$WORK/off.yaml")"
done
served "valid 2-byte escape" '/svc/%c3%a9' C '/svc/%C3%A9'
served "valid 3-byte escape" '/svc/%E2%82%AC/x' C '/svc/%E2%82%AC/x'
served "valid 4-byte escape" '/svc/%F0%9F%98%80' C '/svc/%F0%9F%98%80'
served "highest code point" '/svc/%F4%8F%BF%BF' C '/svc/%F4%8F%BF%BF'
served "the query is not checked" '/svc/a?x=%C0%AE%FF' C '/svc/a?x=%C0%AE%FF'

# ------------------------------------------------------------ path parameters
# Every spelling whose bare path is /prod/x (or /prod): it must never
# reach C.  With the switch off: 400.
SPELLINGS=(
	'/prod;jsessionid=1/x'
	'/prod;/x'
	'/prod;a=1;b=2/x'
	'/prod%3Bjsessionid=1/x'
	'/prod%3b/x'
	'/;x/prod/x'
	'/prod;a/x;b'
	'/prod/x;jsessionid=1'
	'/prod;x'
	'/%70rod;x/x'
	'/c/..;/prod/x'
	'/c;x/../prod/x'
)
for p in "${SPELLINGS[@]}"; do
	case $p in
	/c\;x/../prod/x)	# ".." drops "c;x": it is /prod/x for everyone
		served "switch off: $p" "$p" P /prod/x C ;;
	*)	refused "switch off: $p" "$p" C P ;;
	esac
	want=400
	[ "$p" = '/c;x/../prod/x' ] && want=P
	assert_eq "switch off: --test-route '$p' agrees" "$want" \
	    "$(tool_says "$p" "$WORK/off.yaml")"
done
refused "switch off: ';' on a regex route" '/exact/abc;x' R C
refused "switch off: ';' on a rewrite route" '/old;x/y' R C
# Controls: the bare paths work, and ';' in the query is fine.
served "switch off: control /prod/x" /prod/x P /prod/x C
served "switch off: ';' in the query" '/prod/x?a=1;b=2' P '/prod/x?a=1;b=2' C
served "switch off: catch-all control" /other C /other
stop_proxy

# With the switch on: the bare path picks the route, the backend gets the
# parameters, %3B stays refused.
path_conf "$WORK/on.yaml" true
start_proxy "$WORK/on.yaml"
for p in "${SPELLINGS[@]}"; do
	case $p in
	*%3[Bb]*)
		refused "switch on: $p" "$p" C P
		want=400 ;;
	/c/..\;/prod/x)
		refused "switch on: $p (dot segment with parameters)" "$p" C P
		want=400 ;;
	*)
		# The backend sees the normalised path, parameters kept.
		t=$p
		case $p in
		/%70rod*) t=/prod${p#/%70rod} ;;
		/c\;x/../prod/x) t=/prod/x ;;
		esac
		served "switch on: $p" "$p" P "$t" C
		want=P ;;
	esac
	assert_eq "switch on: --test-route '$p' agrees" "$want" \
	    "$(tool_says "$p" "$WORK/on.yaml")"
done
served "switch on: regex route on the bare path" '/exact/abc;x' R '/exact/abc;x' C
assert_eq "switch on: --test-route regex route" R "$(tool_says '/exact/abc;x' "$WORK/on.yaml")"
served "switch on: rewrite of the bare path" '/old;x/y;z' R '/new/y' C
assert_match "switch on: --test-route rewrites the bare path" \
    "$(timeout "$T_STEP" "$GF" --test-route '/old;x/y;z' -c "$WORK/on.yaml")" \
    'upstream: /new/y'
served "switch on: control /prod/x" /prod/x P /prod/x C
served "switch on: catch-all keeps its parameters" '/other;v=1/x' C '/other;v=1/x'
stop_proxy

# ------------------------------------------------------------ route policy
# The issue's case: a require_fqan route that a client without the role
# must not get around with a parameter, whatever the switch says.
cp "$PKI/hmac.key" "$WORK/hmac.key"
chmod 0600 "$WORK/hmac.key"
for allow in false true; do
	PX_PORT=$(free_port)
	cat >"$WORK/policy-$allow.yaml" <<EOF
workers: 1
listen:
  - address: 127.0.0.1:$PX_PORT
    tls: {certificate: $PKI/server.pem, key: $PKI/server.key}
$([ "$allow" = true ] && echo "    allow_path_params: true")
auth:
  ca_path: $PKI/certificates
  vomsdir: $PKI/vomsdir
  users: $PKI/users.json
  banned: $PKI/banned.txt
  hmac_key: $WORK/hmac.key
routes:
  - path: /admin
    require_fqan: [/cms/Role=lcgadmin]
    backends: [$(be_url P)]
  - path: /
    auth: none
    backends: [$(be_url C)]
log: {access: off}
EOF
	start_proxy "$WORK/policy-$allow.yaml"
	code=$(gcurl --path-as-is -o /dev/null -w '%{http_code}' \
	    --cert "$PKI/creds/voms.pem" "$(px_url)/admin/x")
	assert_eq "allow_path_params $allow: /admin/x without the role: 403" 403 "$code"
	for p in '/admin;jsessionid=1/x' '/admin;/x' '/admin%3Bx/x' \
	    '/admin;a/x;b' '/admin/x;y' '/;v/admin/x'; do
		c0=$(be_stats C bytes)
		p0=$(be_stats P bytes)
		code=$(gcurl --path-as-is -o /dev/null -w '%{http_code}' \
		    --cert "$PKI/creds/voms.pem" "$(px_url)$p")
		want=400
		[ "$allow" = true ] && [[ "$p" != *%3B* ]] && want=403
		assert_eq "allow_path_params $allow: $p without the role: $want" \
		    "$want" "$code"
		assert_eq "allow_path_params $allow: $p: the catch-all got nothing" \
		    "$c0" "$(be_stats C bytes)"
		assert_eq "allow_path_params $allow: $p: /admin's backend got nothing" \
		    "$p0" "$(be_stats P bytes)"
	done
	stop_proxy
done

finish
