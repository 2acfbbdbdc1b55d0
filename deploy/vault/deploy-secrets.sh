#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 the gridfront authors
#
# Put one service's files into Vault and let its pods read them.
#
#   deploy-secrets.sh [-n] [-p TARGET] NAMESPACE SERVICE DIR
#
# For the Kubernetes service account SERVICE in NAMESPACE this makes sure
# that, in Vault:
#   secret  <kv>/<NAMESPACE>/<SERVICE>-secrets     kv-v2; one key per file
#           of DIR (the file name), the file's exact bytes as the value
#   policy  <NAMESPACE>-<SERVICE>-read             read on that secret
#   role    auth/<k8s>/role/<NAMESPACE>-<SERVICE>  Kubernetes auth: binds the
#           policy to service account SERVICE in NAMESPACE
# With -p TARGET the role also gets <NAMESPACE>-<SERVICE>-patch-<TARGET>:
# "patch" (write some keys, read none) on <TARGET>-secrets.  The CRIC
# CronJob uses it to publish users.json into gridfront's secret, the JWKS
# CronJob the issuers' key sets (its DIR is empty: it stores nothing).
#
# It is idempotent: it reads what exists, writes only what differs and
# prints each thing it created, updated or left alone.  -n prints the same
# without writing.  Exit status: 0 done, 1 failed, 2 bad usage.
#
# Environment: VAULT_KV_MOUNT (default "secret"), VAULT_K8S_AUTH (auth
# mount, default "kubernetes"), VAULT_ROLE_AUDIENCE (default "vault", the
# audience of the pods' projected token), VAULT_TOKEN_TTL (default "1h"),
# and the usual VAULT_ADDR / VAULT_TOKEN for the vault CLI.  Needs vault,
# kubectl and jq on PATH.

set -euo pipefail

prog=${0##*/}
kv_mount=${VAULT_KV_MOUNT:-secret}
k8s_auth=${VAULT_K8S_AUTH:-kubernetes}
audience=${VAULT_ROLE_AUDIENCE:-vault}
token_ttl=${VAULT_TOKEN_TTL:-1h}
max_file=$((1024 * 1024))

usage() {
	cat >&2 <<EOF
usage: $prog [-n] [-p TARGET] NAMESPACE SERVICE DIR
  -n         dry run: say what would change, change nothing
  -p TARGET  let SERVICE's role patch TARGET's secret (<TARGET>-secrets)
EOF
	exit 2
}

die() {
	echo "$prog: $*" >&2
	exit 1
}

bad_usage() {
	echo "$prog: $*" >&2
	usage
}

dry=0
target=""
while getopts ":np:h" opt; do
	case $opt in
	n) dry=1 ;;
	p) target=$OPTARG ;;
	h) usage ;;
	:) bad_usage "-$OPTARG needs an argument" ;;
	*) bad_usage "unknown option -$OPTARG" ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 3 ] || bad_usage "expected NAMESPACE SERVICE DIR, got $# argument(s)"
ns=$1
svc=$2
dir=${3%/}

# Kubernetes names: RFC 1123 labels.  They become Vault paths and names
# too, so nothing else may slip through.
dns_label() {
	[ ${#1} -le 63 ] && [[ $1 =~ ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$ ]]
}
dns_label "$ns" || bad_usage "NAMESPACE '$ns' is not a Kubernetes namespace name"
dns_label "$svc" || bad_usage "SERVICE '$svc' is not a service account name"
if [ -n "$target" ]; then
	dns_label "$target" || bad_usage "TARGET '$target' is not a service name"
	[ "$target" != "$svc" ] || bad_usage "TARGET is SERVICE itself"
fi
[ -d "$dir" ] || bad_usage "DIR '$dir' is not a directory"

for tool in vault kubectl jq iconv; do
	command -v "$tool" >/dev/null 2>&1 || die "$tool not found on PATH"
done

# The files: regular (or links to regular), named like a kv key, not
# empty, valid UTF-8 (Vault stores strings; other bytes would be mangled
# on the way) and small.  Dot files are skipped: a mounted Kubernetes
# secret has ..data links that are not part of it.
files=()
for path in "$dir"/* "$dir"/.[!.]* "$dir"/..?*; do
	[ -e "$path" ] || [ -L "$path" ] || continue
	name=${path##*/}
	case $name in
	.*)
		echo "skip $name: dot file"
		continue
		;;
	esac
	[ -f "$path" ] || die "$path: not a regular file"
	[[ $name =~ ^[A-Za-z0-9._-]+$ ]] ||
	    die "$path: file name is not a plain key ([A-Za-z0-9._-])"
	[ -s "$path" ] || die "$path: empty file"
	[ "$(wc -c <"$path")" -le "$max_file" ] ||
	    die "$path: larger than $max_file bytes"
	iconv -f UTF-8 -t UTF-8 "$path" >/dev/null 2>&1 ||
	    die "$path: not UTF-8 text (store binary data base64-encoded)"
	files+=("$name")
done
# A job that only publishes into TARGET (the JWKS CronJob) has nothing of
# its own to store: with -p, DIR may be empty, and only its role is made.
[ ${#files[@]} -gt 0 ] || [ -n "$target" ] || die "$dir: no files to store"

secret="$ns/$svc-secrets"
data_path="$kv_mount/data/$secret"
read_policy="$ns-$svc-read"
patch_policy=""
[ -z "$target" ] || patch_policy="$ns-$svc-patch-$target"
role="$ns-$svc"

changes=0
say() {
	# say WHAT STATE DETAIL: one line per object, "would" in a dry run.
	if [ "$2" = unchanged ]; then
		echo "$1: unchanged${3:+ ($3)}"
		return
	fi
	changes=$((changes + 1))
	if [ $dry -eq 1 ]; then
		echo "$1: would be $2${3:+ ($3)}"
	else
		echo "$1: $2${3:+ ($3)}"
	fi
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# --- Kubernetes side: the namespace must exist; the service account
# should (the role can be written before it, so only warn).
kubectl get namespace "$ns" -o name >/dev/null 2>"$tmp/err" ||
    die "namespace $ns not found: $(head -n 1 "$tmp/err")"
if ! kubectl -n "$ns" get serviceaccount "$svc" -o name >/dev/null 2>&1; then
	echo "warning: service account $ns/$svc does not exist yet;" \
	    "its pods cannot log in until it does" >&2
fi

# --- The kv-v2 engine must be there already: enabling engines is the
# Vault admins' call, not this script's.
vault secrets list -format=json >"$tmp/mounts" ||
    die "cannot list Vault secret engines (logged in? VAULT_ADDR?)"
kv_version=$(jq -r --arg m "$kv_mount/" \
    'if .[$m] == null then "none" elif .[$m].type != "kv" then "not-kv"
     else (.[$m].options.version // "1") end' "$tmp/mounts")
case $kv_version in
2) ;;
none) die "no secret engine mounted at $kv_mount/" ;;
*) die "$kv_mount/ is not a kv-v2 engine (found: $kv_version)" ;;
esac

# --- The secret.
if vault kv get -format=json -mount="$kv_mount" "$secret" \
    >"$tmp/current" 2>"$tmp/err"; then
	existed=1
elif grep -q "No value found" "$tmp/err"; then
	echo '{"data":{"data":{}}}' >"$tmp/current"
	existed=0
else
	die "cannot read $kv_mount/$secret: $(head -n 1 "$tmp/err")"
fi

# The secret as it should be: one JSON object, each value the file's
# bytes exactly (trailing newline included).  Names are plain keys, so
# they can be spelt into the jq program as they are.
jq_args=()
program=""
i=0
for name in "${files[@]}"; do
	jq_args+=(--rawfile "f$i" "$dir/$name")
	program="$program${program:+, }\"$name\": \$f$i"
	i=$((i + 1))
done
jq -n "${jq_args[@]}" "{$program}" >"$tmp/new"

# What differs, in one pass: "added|changed|same|removed NAME" lines.
jq -r --slurpfile want "$tmp/new" '(.data.data // {}) as $cur | $want[0] as $w
    | ($w | keys[] as $k | if ($cur | has($k) | not) then "added " + $k
        elif $cur[$k] == $w[$k] then "same " + $k else "changed " + $k end),
      ($cur | keys[] as $k | select($w | has($k) | not) | "removed " + $k)' \
    "$tmp/current" >"$tmp/diff"
mapfile -t added < <(sed -n 's/^added //p' "$tmp/diff")
mapfile -t changed < <(sed -n 's/^changed //p' "$tmp/diff")
mapfile -t same < <(sed -n 's/^same //p' "$tmp/diff")
mapfile -t removed < <(sed -n 's/^removed //p' "$tmp/diff")

join() {
	local IFS=,
	local s="$*"
	echo "${s//,/, }"
}

if [ ${#added[@]} -eq 0 ] && [ ${#changed[@]} -eq 0 ] &&
    [ ${#removed[@]} -eq 0 ]; then
	say "secret $kv_mount/$secret" unchanged "$(join "${same[@]}")"
else
	detail=""
	[ ${#added[@]} -eq 0 ] || detail="added $(join "${added[@]}")"
	[ ${#changed[@]} -eq 0 ] ||
	    detail="${detail:+$detail; }changed $(join "${changed[@]}")"
	[ ${#removed[@]} -eq 0 ] ||
	    detail="${detail:+$detail; }removed $(join "${removed[@]}")"
	if [ $existed -eq 1 ]; then
		say "secret $kv_mount/$secret" updated "$detail"
	else
		say "secret $kv_mount/$secret" created \
		    "keys $(join "${added[@]}")"
	fi
	if [ $dry -eq 0 ]; then
		vault kv put -mount="$kv_mount" "$secret" @"$tmp/new" \
		    >/dev/null || die "cannot write $kv_mount/$secret"
	fi
fi

# --- Policies.
put_policy() {
	# put_policy NAME FILE
	local cur
	if cur=$(vault policy read "$1" 2>"$tmp/err"); then
		if [ "$cur" = "$(cat "$2")" ]; then
			say "policy $1" unchanged
			return
		fi
		say "policy $1" updated
	elif grep -q "No policy named" "$tmp/err"; then
		say "policy $1" created
	else
		die "cannot read policy $1: $(head -n 1 "$tmp/err")"
	fi
	[ $dry -eq 1 ] || vault policy write "$1" - <"$2" >/dev/null ||
	    die "cannot write policy $1"
}

cat >"$tmp/read.hcl" <<EOF
# Managed by deploy-secrets.sh: service account $svc in namespace $ns
# reads its own secret.
path "$data_path" {
  capabilities = ["read"]
}
EOF
put_policy "$read_policy" "$tmp/read.hcl"
policies=("$read_policy")

if [ -n "$target" ]; then
	cat >"$tmp/patch.hcl" <<EOF
# Managed by deploy-secrets.sh: service account $svc in namespace $ns
# may patch (set keys of, not read) the secret of $target.
path "$kv_mount/data/$ns/$target-secrets" {
  capabilities = ["patch"]
}
EOF
	put_policy "$patch_policy" "$tmp/patch.hcl"
	policies+=("$patch_policy")
fi

# --- The Kubernetes auth role.
seconds() {
	# A Vault duration (as this script writes them) in seconds.
	case $1 in
	*h) echo $((${1%h} * 3600)) ;;
	*m) echo $((${1%m} * 60)) ;;
	*s) echo "${1%s}" ;;
	*) echo "$1" ;;
	esac
}
[[ $token_ttl =~ ^[0-9]+[hms]?$ ]] ||
    die "VAULT_TOKEN_TTL '$token_ttl' is not N, Ns, Nm or Nh"

role_path="auth/$k8s_auth/role/$role"
policy_csv=$(IFS=,; echo "${policies[*]}")
jq -n --arg sa "$svc" --arg ns "$ns" --arg aud "$audience" \
    --argjson ttl "$(seconds "$token_ttl")" --args \
    '{sa: [$sa], ns: [$ns], policies: ($ARGS.positional | sort),
      audience: $aud, ttl: $ttl}' "${policies[@]}" >"$tmp/want"
if vault read -format=json "$role_path" >"$tmp/role" 2>"$tmp/err"; then
	jq '.data | {sa: (.bound_service_account_names | sort),
	    ns: (.bound_service_account_namespaces | sort),
	    policies: ((.token_policies // .policies) | sort),
	    audience: (.audience // ""), ttl: (.token_ttl // 0)}' \
	    "$tmp/role" >"$tmp/have"
	if jq -e --slurpfile w "$tmp/want" '. == $w[0]' "$tmp/have" \
	    >/dev/null; then
		role_state=unchanged
	else
		role_state=updated
		diff_fields=$(jq -r --slurpfile w "$tmp/want" \
		    '[to_entries[] | select(.value != $w[0][.key]) | .key] |
		     join(", ")' "$tmp/have")
	fi
elif grep -q -e "No value found" -e "role not found" "$tmp/err"; then
	role_state=created
else
	die "cannot read $role_path: $(head -n 1 "$tmp/err")"
fi
case $role_state in
unchanged) say "role $role_path" unchanged "policies $policy_csv" ;;
updated) say "role $role_path" updated "$diff_fields" ;;
created) say "role $role_path" created \
    "service account $ns/$svc, policies $policy_csv" ;;
esac
if [ $role_state != unchanged ] && [ $dry -eq 0 ]; then
	vault write "$role_path" \
	    bound_service_account_names="$svc" \
	    bound_service_account_namespaces="$ns" \
	    token_policies="$policy_csv" \
	    audience="$audience" \
	    token_ttl="$token_ttl" >/dev/null ||
	    die "cannot write $role_path"
fi

if [ $changes -eq 0 ]; then
	echo "no changes"
elif [ $dry -eq 1 ]; then
	echo "$changes change(s) pending (dry run)"
else
	echo "$changes change(s) made"
fi
