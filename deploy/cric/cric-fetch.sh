#!/bin/sh
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 the gridfront authors
#
# The CRIC CronJob's one step: fetch the CMS users file from CRIC with the
# robot certificate, check it, and publish it as the users.json key of
# gridfront's kv-v2 secret.  Each gridfront pod's Vault Agent then renders
# the new file in place (temp file + rename) and gridfront reloads it.
#
# The fetch lands in a temporary file and is renamed over $WORKDIR/users.json
# only after it parsed, so a cut or garbled download never goes further.
# The publish is one kv-v2 PATCH: a new version of the secret with only
# users.json replaced.  A bad run changes nothing and exits non-zero, and
# the pods keep the users map they have.
#
# Environment (the CronJob sets all of it):
#   CRIC_URL          CRIC's users query (JSON array of DN/ID/LOGIN/NAME/ROLES)
#   CRIC_CAPATH       CA directory that verifies CRIC's server (optional)
#   ROBOT_CERT, ROBOT_KEY   the robot certificate and key (Vault Agent files)
#   VAULT_ADDR        Vault's address
#   VAULT_CACERT      CA file for Vault (used when it exists)
#   VAULT_TOKEN_FILE  the token Vault Agent left behind
#   VAULT_SECRET      API path of the secret, e.g. secret/data/NS/gridfront-secrets
#   MIN_RECORDS       fewer usable records than this is an error (a CRIC outage
#                     that answers with an empty list must not log everyone out)
#   MAX_BYTES         larger files are refused (Vault's storage entry limit)
#   WORKDIR           scratch directory (an emptyDir)

set -eu

: "${CRIC_URL:=https://cms-cric.cern.ch/api/accounts/user/query/?json&preset=roles}"
: "${CRIC_CAPATH:=}"
: "${ROBOT_CERT:=/etc/secrets/robotcert.pem}"
: "${ROBOT_KEY:=/etc/secrets/robotkey.pem}"
: "${VAULT_ADDR:?VAULT_ADDR is not set}"
: "${VAULT_CACERT:=}"
: "${VAULT_TOKEN_FILE:=/etc/secrets/token}"
: "${VAULT_SECRET:?VAULT_SECRET is not set}"
: "${MIN_RECORDS:=1}"
: "${MAX_BYTES:=900000}"
: "${WORKDIR:=/work}"

log() {
	echo "cric-fetch: $*" >&2
}

fail() {
	log "$*; users.json left as it was"
	exit 1
}

umask 077
tmp="$WORKDIR/users.json.tmp.$$"
trap 'rm -f "$tmp" "$WORKDIR/patch.json" "$WORKDIR/headers"' EXIT

for f in "$ROBOT_CERT" "$ROBOT_KEY" "$VAULT_TOKEN_FILE"; do
	[ -s "$f" ] || fail "$f is missing or empty"
done

# 1. Fetch.
set -- --fail --silent --show-error --location --max-time 300 \
    --retry 3 --retry-delay 10 --cert "$ROBOT_CERT" --key "$ROBOT_KEY"
[ -z "$CRIC_CAPATH" ] || set -- "$@" --capath "$CRIC_CAPATH"
curl "$@" --output "$tmp" "$CRIC_URL" || fail "fetching $CRIC_URL failed"

# 2. Check: a JSON array (jq fails on a cut file), with enough records
# that carry the fields gridfront needs, and small enough for Vault.
records=$(jq 'if type == "array" then
		[.[] | select(type == "object" and (.DN | type) == "string"
		    and (.LOGIN | type) == "string")] | length
	    else error("not a JSON array") end' "$tmp" 2>&1) ||
    fail "CRIC answer is not a usable JSON array: $records"
case $records in
'' | *[!0-9]*) fail "CRIC answer is not a usable JSON array: '$records'" ;;
esac
[ "$records" -ge "$MIN_RECORDS" ] ||
    fail "only $records usable records (MIN_RECORDS=$MIN_RECORDS)"
bytes=$(wc -c <"$tmp")
[ "$bytes" -le "$MAX_BYTES" ] ||
    fail "$bytes bytes is over MAX_BYTES=$MAX_BYTES"

# 3. Atomic replace of the local copy: rename within one directory.
mv -f "$tmp" "$WORKDIR/users.json"
log "fetched $records records, $bytes bytes"

# 4. Publish: kv-v2 PATCH (JSON merge patch) of users.json alone.  The
# token goes in a header file, not on a command line.
jq -n --rawfile users "$WORKDIR/users.json" '{data: {"users.json": $users}}' \
    >"$WORKDIR/patch.json"
printf 'X-Vault-Token: %s\n' "$(cat "$VAULT_TOKEN_FILE")" >"$WORKDIR/headers"
set -- --fail --silent --show-error --max-time 60 --retry 3 \
    --request PATCH --header @"$WORKDIR/headers" \
    --header 'Content-Type: application/merge-patch+json' \
    --data-binary @"$WORKDIR/patch.json"
[ -z "$VAULT_CACERT" ] || [ ! -f "$VAULT_CACERT" ] ||
    set -- "$@" --cacert "$VAULT_CACERT"
answer=$(curl "$@" "$VAULT_ADDR/v1/$VAULT_SECRET") ||
    fail "publishing to $VAULT_SECRET failed"
version=$(printf '%s' "$answer" | jq -r '.data.version // "?"' 2>/dev/null) ||
    version="?"
log "published users.json to $VAULT_SECRET (version $version)"
