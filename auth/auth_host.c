/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * HostIP authentication (PROTOCOL.md, "Host-based authentication"): the
 * decision for routes with auth: host and, as the fallback, auth:
 * host_or_cert.  A client whose TCP peer address is in the host list
 * (hosts.c) gets cms-authn-method: HostIP and the legacy cms-auth-host
 * header, signed by sign.c's rules.  The signed blocks of every entry are
 * built once per host-list and key generation and shared by all workers,
 * so a request costs a binary search, not an HMAC.  The peer address
 * comes from the proxy as a sockaddr; nothing here reads a socket or a
 * header.  decide.c calls it; auth.c loads and swaps the list.
 */

#include <sys/socket.h>

#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "auth/auth.h"
#include "auth/auth_int.h"
#include "auth/hosts.h"
#include "auth/sign.h"
#include "base/lit.h"

static const char auth_host_method[] = "HostIP";
static const char auth_err_host[] =
    "client address not in the host list (auth.hosts)";
static const char auth_err_host_nocert[] =
    "no client certificate, and the client address is not in the host "
    "list (auth.hosts)";
static const char auth_err_host_nokey[] = "HMAC key not loaded";
static const char auth_err_host_oom[] = "cannot build host headers";

/* The signed blocks of one host list under one key.  Immutable once
 * published; refcounted. */
struct auth_hostset {
	int		 refs;		/* atomic */
	uint64_t	 hosts_gen, key_gen;
	struct auth_snap *hsnap;	/* the list the blocks index */
	size_t		 n;
	char		**hdrs;		/* per entry, parallel to the list */
	size_t		*lens;
};

static void
auth_hostset_put(struct auth_hostset *hs)
{
	size_t	 i;

	if (hs == NULL || __atomic_sub_fetch(&hs->refs, 1, __ATOMIC_ACQ_REL) >
	    0)
		return;
	for (i = 0; hs->hdrs != NULL && i < hs->n; i++) {
		if (hs->hdrs[i] == NULL)
			continue;
		/* Each holds a fresh HMAC; do not leave it around. */
		OPENSSL_cleanse(hs->hdrs[i], hs->lens[i]);
		free(hs->hdrs[i]);
	}
	free(hs->hdrs);
	free(hs->lens);
	auth_snap_put(hs->hsnap);
	free(hs);
}

/*
 * The block of one entry: the headers sent, with the HMAC computed by
 * sign_hmac() over all of them (it keeps only cms-authn* / cms-authz*,
 * here cms-authn-method, as PROTOCOL.md says).  Returns a malloc'd
 * string with its length in *len, or NULL on failure.
 */
static char *
auth_host_block(const struct auth_snap *k, const struct hosts_entry *e,
    size_t *len)
{
	struct sign_hdr	 h[3];
	char		*host = NULL, *out = NULL, mac[41];
	int		 n;

	if (asprintf(&host, "%s %s", e->ip, e->name) == -1)
		return (NULL);
	h[0] = (struct sign_hdr){ "cms-auth-status", LIT_LEN("cms-auth-status"),
	    "OK", LIT_LEN("OK") };
	h[1] = (struct sign_hdr){ "cms-authn-method",
	    LIT_LEN("cms-authn-method"), auth_host_method,
	    sizeof(auth_host_method) - 1 };
	h[2] = (struct sign_hdr){ "cms-auth-host", LIT_LEN("cms-auth-host"),
	    host, strlen(host) };
	if (sign_hmac(k->key, k->keylen, h, 3, mac) == 0 &&
	    (n = asprintf(&out, "cms-auth-status: OK\r\n"
	    "cms-authn-method: %s\r\n"
	    "cms-auth-host: %s\r\n"
	    "cms-authn-hmac: %s\r\n", auth_host_method, host, mac)) != -1)
		*len = (size_t)n;
	else
		out = NULL;
	OPENSSL_cleanse(mac, sizeof(mac));
	free(host);
	return (out);
}

/* Build the blocks of hsnap's list under key k (both borrowed; hsnap
 * gets a reference).  Returns a set with one reference, or NULL on
 * failure. */
static struct auth_hostset *
auth_hostset_build(struct auth_snap *hsnap, const struct auth_snap *k)
{
	struct auth_hostset *hs;
	size_t		 i;

	if ((hs = calloc(1, sizeof(*hs))) == NULL)
		return (NULL);
	hs->refs = 1;
	hs->hosts_gen = hsnap->gen;
	hs->key_gen = k->gen;
	hs->hsnap = auth_snap_get(hsnap);
	hs->n = hosts_size(hsnap->hosts);
	if (hs->n > 0 && ((hs->hdrs = calloc(hs->n, sizeof(*hs->hdrs))) ==
	    NULL || (hs->lens = calloc(hs->n, sizeof(*hs->lens))) == NULL))
		goto fail;
	for (i = 0; i < hs->n; i++)
		if ((hs->hdrs[i] = auth_host_block(k,
		    hosts_entry(hsnap->hosts, i), &hs->lens[i])) == NULL)
			goto fail;
	return (hs);
fail:
	auth_hostset_put(hs);
	return (NULL);
}

/*
 * The blocks for the host list and key in force: the published set when
 * it is current, else built now and published.  Returns a new reference;
 * NULL with *why set when there is no list or key, or on failure.
 */
static struct auth_hostset *
auth_hostset_get(struct auth_ctx *ctx, const char **why)
{
	struct auth_hostset *hs, *old;
	struct auth_snap *hsnap, *k;
	uint64_t	 hg = auth_load64(&ctx->hosts_gen);
	uint64_t	 kg = auth_load64(&ctx->key_gen);

	pthread_mutex_lock(&ctx->lock);
	hs = ctx->hostset;
	if (hs != NULL && hs->hosts_gen == hg && hs->key_gen == kg)
		__atomic_add_fetch(&hs->refs, 1, __ATOMIC_RELAXED);
	else
		hs = NULL;
	hsnap = hs == NULL ? auth_snap_get(ctx->hostsnap) : NULL;
	k = hs == NULL ? auth_snap_get(ctx->key) : NULL;
	pthread_mutex_unlock(&ctx->lock);
	if (hs != NULL)
		return (hs);

	/* Build outside the lock: the HMACs are the expensive part. */
	*why = auth_err_host_oom;
	if (hsnap == NULL)
		*why = auth_err_host;
	else if (k == NULL)
		*why = auth_err_host_nokey;
	else if ((hs = auth_hostset_build(hsnap, k)) != NULL) {
		__atomic_add_fetch(&hs->refs, 1, __ATOMIC_RELAXED);
		pthread_mutex_lock(&ctx->lock);
		old = ctx->hostset;
		/* A racing builder may have published a newer set. */
		if (old == NULL || old->hosts_gen < hs->hosts_gen ||
		    (old->hosts_gen == hs->hosts_gen &&
		    old->key_gen < hs->key_gen))
			ctx->hostset = hs;
		else {
			/* Keep theirs; ours lives on in this request only. */
			__atomic_sub_fetch(&hs->refs, 1, __ATOMIC_RELAXED);
			old = NULL;
		}
		pthread_mutex_unlock(&ctx->lock);
		auth_hostset_put(old);
	}
	auth_snap_put(hsnap);
	auth_snap_put(k);
	return (hs);
}

static enum auth_result
auth_host_deny(struct auth_ctx *ctx, struct auth_decision *out, int status,
    const char *reason)
{
	if (status == 403)
		__atomic_add_fetch(&ctx->host_denied, 1, __ATOMIC_RELAXED);
	out->result = AUTH_DENY;
	out->status = status;
	out->reason = reason;
	out->hdrs = NULL;
	out->hdrslen = 0;
	return (AUTH_DENY);
}

/* Decide by the host list; see auth_int.h. */
enum auth_result
auth_host_decide(struct auth_ctx *ctx, const struct sockaddr *peer,
    const char *cert_reason, int had_cert, struct auth_decision *out)
{
	const struct sockaddr_in *s4;
	const struct sockaddr_in6 *s6;
	const unsigned char *a = NULL;
	struct auth_hostset *hs;
	const char	*why = NULL, *miss;
	long		 i = -1;
	int		 fam = AF_UNSPEC;

	miss = cert_reason != NULL ? cert_reason : had_cert ? auth_err_host :
	    auth_err_host_nocert;
	if (peer != NULL && peer->sa_family == AF_INET) {
		s4 = (const struct sockaddr_in *)(const void *)peer;
		a = (const unsigned char *)&s4->sin_addr;
		fam = AF_INET;
	} else if (peer != NULL && peer->sa_family == AF_INET6) {
		s6 = (const struct sockaddr_in6 *)(const void *)peer;
		a = (const unsigned char *)&s6->sin6_addr;
		fam = AF_INET6;
	}
	if (a == NULL)
		return (auth_host_deny(ctx, out, 403, miss));
	if ((hs = auth_hostset_get(ctx, &why)) == NULL)
		return (auth_host_deny(ctx, out, why == auth_err_host ? 403 :
		    500, why == auth_err_host ? miss : why));
	if ((i = hosts_lookup(hs->hsnap->hosts, fam, a)) < 0 ||
	    (size_t)i >= hs->n) {
		auth_hostset_put(hs);
		return (auth_host_deny(ctx, out, 403, miss));
	}
	__atomic_add_fetch(&ctx->host_accepted, 1, __ATOMIC_RELAXED);
	out->result = AUTH_OK;
	out->status = 0;
	out->reason = NULL;
	out->hdrs = hs->hdrs[i];
	out->hdrslen = hs->lens[i];
	out->method = auth_host_method;
	out->hpriv = hs;
	return (AUTH_OK);
}

/* Drop the block reference of a HostIP decision; see auth_int.h. */
void
auth_host_release(struct auth_decision *d)
{
	auth_hostset_put(d->hpriv);
	d->hpriv = NULL;
	d->method = NULL;
}

/* Free the published blocks; see auth_int.h. */
void
auth_host_free(struct auth_ctx *ctx)
{
	auth_hostset_put(ctx->hostset);
	ctx->hostset = NULL;
}

/* HostIP counters; see auth.h. */
int
auth_host_stats(const struct auth_ctx *ctx, uint64_t *entries,
    uint64_t *accepted, uint64_t *denied)
{
	struct auth_ctx	*c = (struct auth_ctx *)(uintptr_t)ctx;

	*entries = *accepted = *denied = 0;
	if (c->hosts == NULL)
		return (0);
	pthread_mutex_lock(&c->lock);
	if (c->hostsnap != NULL)
		*entries = hosts_size(c->hostsnap->hosts);
	pthread_mutex_unlock(&c->lock);
	*accepted = auth_load64(&c->host_accepted);
	*denied = auth_load64(&c->host_denied);
	return (1);
}
