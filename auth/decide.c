/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * The per-request decision of auth (auth_decide() in auth.h, through
 * decide_request()): route policy (auth mode, allow_from,
 * allow_limited_proxy, require_fqan), the ban list, the CRIC mapping and
 * the expiry of the chain, and the signed header block, built once per
 * identity and users-map/ban/key generation and cached on the identity.
 * It reads the snapshots auth.c keeps in force and never loads, verifies
 * or logs; the trouble page (trouble.c) uses its CRIC lookup.
 */

#include <sys/socket.h>

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "auth/auth.h"
#include "auth/auth_int.h"
#include "auth/ban.h"
#include "auth/dnmap.h"
#include "auth/sign.h"
#include "auth/x509.h"
#include "conf/conf.h"
#include "conf/route.h"

/* Per-request reasons (the certificate ones are x509_err_*). */
static const char auth_err_nocert[] = "client certificate required";
static const char auth_err_unregistered[] = "not registered in CRIC";
static const char auth_err_banned[] = "banned";
static const char auth_err_limited[] =
    "limited proxy not allowed on this route";
static const char auth_err_fqan[] = "missing required VOMS role";
static const char auth_err_addr[] = "address not allowed";
static const char auth_err_nokey[] = "HMAC key not loaded";
static const char auth_err_headers[] = "cannot build identity headers";

static const char auth_hdr_none[] = "cms-auth-status: NONE\r\n";

/* The cached outcome of the user lookup for one identity: CRIC, ban, and
 * the signed header block.  Immutable; refcounted. */
struct auth_block {
	int		 refs;		/* atomic */
	uint64_t	 users_gen, ban_gen, key_gen;
	int		 registered;
	int		 banned;
	const char	*fail;		/* why hdrs is missing, or NULL */
	char		*hdrs;
	size_t		 hdrslen;
	char		*hdrs_py3;	/* signed as py3-latin1; NULL when
					 * hdrs is all ASCII (same HMAC) */
	size_t		 hdrs_py3len;
	char		*login;
	char		*dn;
};

/* ------------------------------------------------------------------ */
/* Decisions                                                           */
/* ------------------------------------------------------------------ */

static void
auth_block_put(struct auth_block *b)
{
	if (b == NULL || __atomic_sub_fetch(&b->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	if (b->hdrs != NULL) {
		/* The block holds a fresh HMAC; do not leave it around. */
		OPENSSL_cleanse(b->hdrs, b->hdrslen);
		free(b->hdrs);
	}
	if (b->hdrs_py3 != NULL) {
		OPENSSL_cleanse(b->hdrs_py3, b->hdrs_py3len);
		free(b->hdrs_py3);
	}
	free(b->login);
	free(b->dn);
	free(b);
}

static void
auth_block_free_cb(void *p)
{
	auth_block_put(p);
}

/*
 * The CRIC record of a certificate DN: the exact DN, or with auth.dn_match
 * any_order also the same RDNs in another order.  NULL when none.
 */
const struct dnmap_user *
decide_cric_lookup(const struct auth_ctx *ctx, const struct dnmap *m,
    const char *dn)
{
	if (ctx->dn_any_order)
		return (dnmap_lookup_unordered(m, dn));
	return (dnmap_lookup(m, dn));
}

/*
 * Build the user-side outcome for id under the current users map, ban
 * list and key: the CRIC record (exact DN; any order with dn_match: any_order),
 * the ban check by certificate DN, CRIC DN and login, and the signed
 * header block.  Returns a block with one reference, or NULL on OOM.
 */
static struct auth_block *
auth_block_build(struct auth_ctx *ctx, const struct auth_ident *id)
{
	struct auth_snap *u, *bn, *k;
	const struct dnmap_user *usr = NULL;
	struct auth_block *b;
	size_t		 nfq = id->nfqans;

	if ((b = calloc(1, sizeof(*b))) == NULL)
		return (NULL);
	b->refs = 1;
	pthread_mutex_lock(&ctx->lock);
	u = auth_snap_get(ctx->umap);
	bn = auth_snap_get(ctx->ban);
	k = auth_snap_get(ctx->key);
	pthread_mutex_unlock(&ctx->lock);
	b->users_gen = u != NULL ? u->gen : 0;
	b->ban_gen = bn != NULL ? bn->gen : 0;
	b->key_gen = k != NULL ? k->gen : 0;

	if (u != NULL)
		usr = decide_cric_lookup(ctx, u->map, id->user_dn);
	b->registered = usr != NULL;
	if (bn != NULL)
		b->banned = ban_match(bn->ban, id->user_dn,
		    usr != NULL ? usr->login : NULL) ||
		    (usr != NULL && ban_match(bn->ban, usr->dn, NULL));
	if (usr != NULL) {
		if ((b->login = strdup(usr->login)) == NULL ||
		    (b->dn = strdup(usr->dn)) == NULL)
			goto oom;
		if (k == NULL)
			b->fail = auth_err_nokey;
		else {
			b->hdrs = sign_block(k->key, k->keylen, ctx->method,
			    usr->dn, usr->login, usr->name, usr->roles,
			    usr->nroles, (const char *const *)id->fqans,
			    id->nfqans, &b->hdrslen);
			/* An FQAN the header cannot carry costs only them. */
			if (b->hdrs == NULL && id->nfqans > 0) {
				nfq = 0;
				b->hdrs = sign_block(k->key, k->keylen,
				    ctx->method, usr->dn, usr->login,
				    usr->name, usr->roles, usr->nroles, NULL,
				    0, &b->hdrslen);
			}
			if (b->hdrs == NULL)
				b->fail = auth_err_headers;
			/*
			 * Routes with sign_as: py3-latin1 need a second HMAC
			 * only when some value has a byte >= 0x80; for an
			 * ASCII identity both modes sign the same string.
			 */
			if (b->hdrs != NULL &&
			    sign_has_high(b->hdrs, b->hdrslen) &&
			    (b->hdrs_py3 = sign_block_as(k->key, k->keylen,
			    SIGN_PY3_LATIN1, ctx->method, usr->dn, usr->login,
			    usr->name, usr->roles, usr->nroles,
			    (const char *const *)id->fqans, nfq,
			    &b->hdrs_py3len)) == NULL)
				goto oom;
		}
	} else if ((b->dn = strdup(id->user_dn)) == NULL)
		goto oom;
	auth_snap_put(u);
	auth_snap_put(bn);
	auth_snap_put(k);
	return (b);
oom:
	auth_snap_put(u);
	auth_snap_put(bn);
	auth_snap_put(k);
	auth_block_put(b);
	return (NULL);
}

/*
 * The block for id, from its per-identity slot when the users map, ban
 * list and key are the ones it was built with; built and published
 * otherwise.  Returns a new reference, or NULL on OOM.
 */
static struct auth_block *
auth_block_get(struct auth_ctx *ctx, struct auth_ident *id)
{
	struct x509_ident *xi = (struct x509_ident *)id;
	struct auth_block *b, *old = NULL;
	uint64_t	 ug = auth_load64(&ctx->users_gen);
	uint64_t	 bg = auth_load64(&ctx->ban_gen);
	uint64_t	 kg = auth_load64(&ctx->key_gen);

	pthread_mutex_lock(&xi->lock);
	b = xi->slot;
	if (b != NULL && b->users_gen == ug && b->ban_gen == bg &&
	    b->key_gen == kg)
		__atomic_add_fetch(&b->refs, 1, __ATOMIC_RELAXED);
	else
		b = NULL;
	pthread_mutex_unlock(&xi->lock);
	if (b != NULL)
		return (b);

	/* Build outside the lock: the HMAC is the expensive part. */
	if ((b = auth_block_build(ctx, id)) == NULL)
		return (NULL);
	if (!xi->is_static) {
		__atomic_add_fetch(&b->refs, 1, __ATOMIC_RELAXED);
		pthread_mutex_lock(&xi->lock);
		old = xi->slot;
		xi->slot = b;
		xi->slot_free = auth_block_free_cb;
		pthread_mutex_unlock(&xi->lock);
		auth_block_put(old);
	}
	return (b);
}

static int
auth_fqan_match(const struct auth_ident *id, const struct conf_route *r)
{
	size_t		 i, j, len;

	for (i = 0; i < r->nrequire_fqan; i++) {
		len = strlen(r->require_fqan[i]);
		while (len > 1 && r->require_fqan[i][len - 1] == '/')
			len--;
		for (j = 0; j < id->nfqans; j++)
			if (strncmp(id->fqans[j], r->require_fqan[i], len) ==
			    0 && (id->fqans[j][len] == '\0' ||
			    id->fqans[j][len] == '/'))
				return (1);
	}
	return (0);
}

static enum auth_result
auth_deny(struct auth_decision *out, int status, const char *reason)
{
	out->result = AUTH_DENY;
	out->status = status;
	out->reason = reason;
	out->hdrs = NULL;
	out->hdrslen = 0;
	return (AUTH_DENY);
}

static enum auth_result
auth_anon(struct auth_decision *out)
{
	out->result = AUTH_ANON;
	out->hdrs = auth_hdr_none;
	out->hdrslen = sizeof(auth_hdr_none) - 1;
	return (AUTH_ANON);
}

/* Which certificate of an expired chain ran out, in plain words. */
static const char *
auth_expired_reason(const struct auth_ident *id, time_t now)
{
	size_t		 i;

	for (i = 0; i < id->nchain; i++)
		if (id->chain[i].not_after != 0 &&
		    id->chain[i].not_after <= now)
			return (id->chain[i].proxy != AUTH_PROXY_NONE ?
			    x509_err_proxy_expired : x509_err_expired);
	return (x509_err_expired);
}

/* The certificate decision, for a route with auth mode. */
static enum auth_result
decide_cert(struct auth_ctx *ctx, struct auth_ident *id,
    const struct conf_route *route, const struct sockaddr *peer,
    enum conf_auth_mode mode, struct auth_decision *out)
{
	struct auth_block *b;
	time_t		 now;

	memset(out, 0, sizeof(*out));
	if (route != NULL && route->nallow_from > 0 &&
	    (peer == NULL || !route_addr_allowed(route, peer)))
		return (auth_deny(out, 403, auth_err_addr));
	if (mode == CONF_AUTH_NONE) {
		/*
		 * PROTOCOL.md: a banned user gets 403 on every route, even
		 * with a valid certificate, so a presented good certificate
		 * is still checked against the ban list here.
		 */
		if (id != NULL && id->status == AUTH_CERT_OK &&
		    (b = auth_block_get(ctx, id)) != NULL) {
			int banned = b->banned;

			auth_block_put(b);
			if (banned)
				return (auth_deny(out, 403, auth_err_banned));
		}
		out->result = AUTH_PASS;
		return (AUTH_PASS);
	}
	if (id == NULL || id->status == AUTH_CERT_NONE) {
		if (mode == CONF_AUTH_OPTIONAL)
			return (auth_anon(out));
		return (auth_deny(out, 403, auth_err_nocert));
	}
	if (id->status != AUTH_CERT_OK)
		return (auth_deny(out, 403, id->reason != NULL ? id->reason :
		    x509_err_chain));
	now = time(NULL);
	if (id->not_after != 0 && now >= id->not_after)
		return (auth_deny(out, 403, auth_expired_reason(id, now)));

	if ((b = auth_block_get(ctx, id)) == NULL)
		return (auth_deny(out, 500, auth_err_headers));
	out->priv = b;
	out->login = b->login;
	out->dn = b->dn;
	if (b->banned)
		return (auth_deny(out, 403, auth_err_banned));
	if (id->proxy == AUTH_PROXY_LIMITED &&
	    (route == NULL || !route->allow_limited_proxy))
		return (auth_deny(out, 403, auth_err_limited));
	if (!b->registered) {
		/*
		 * Like the Go frontend: on an optional route a valid but
		 * unknown certificate is anonymous (cms-auth-status: NONE).
		 */
		if (mode == CONF_AUTH_OPTIONAL)
			return (auth_anon(out));
		return (auth_deny(out, 403, auth_err_unregistered));
	}
	if (route != NULL && route->nrequire_fqan > 0 &&
	    !auth_fqan_match(id, route))
		return (auth_deny(out, 403, auth_err_fqan));
	if (b->hdrs == NULL)
		return (auth_deny(out, 500, b->fail != NULL ? b->fail :
		    auth_err_headers));
	out->result = AUTH_OK;
	out->hdrs = b->hdrs;
	out->hdrslen = b->hdrslen;
	if (b->hdrs_py3 != NULL && route != NULL &&
	    route->sign_as == CONF_SIGN_PY3_LATIN1) {
		out->hdrs = b->hdrs_py3;
		out->hdrslen = b->hdrs_py3len;
	}
	return (AUTH_OK);
}

/*
 * auth: host and host_or_cert.  With host_or_cert a certificate is the
 * stronger credential: a valid one of a CRIC user decides, a banned user
 * stays banned, and only a missing or refused certificate falls back to
 * the host list (keeping the certificate's reason if that fails too).
 */
enum auth_result
decide_request(struct auth_ctx *ctx, struct auth_ident *id,
    const struct conf_route *route, const struct sockaddr *peer,
    struct auth_decision *out)
{
	enum conf_auth_mode mode = route != NULL ? route->auth :
	    CONF_AUTH_CERT;
	enum auth_result r;
	const char	*why = NULL;
	int		 had_cert = id != NULL && id->status != AUTH_CERT_NONE;

	if (mode != CONF_AUTH_HOST && mode != CONF_AUTH_HOST_OR_CERT)
		return (decide_cert(ctx, id, route, peer, mode, out));
	if (mode == CONF_AUTH_HOST_OR_CERT) {
		r = decide_cert(ctx, id, route, peer, CONF_AUTH_CERT, out);
		if (r != AUTH_DENY || out->status != 403 ||
		    out->reason == auth_err_banned ||
		    out->reason == auth_err_addr)
			return (r);
		if (had_cert)
			why = out->reason;	/* static text */
		decide_release(out);
	}
	memset(out, 0, sizeof(*out));
	if (route != NULL && route->nallow_from > 0 &&
	    (peer == NULL || !route_addr_allowed(route, peer)))
		return (auth_deny(out, 403, auth_err_addr));
	/* With auth: host a certificate is irrelevant to the reason. */
	return (auth_host_decide(ctx, peer, why, mode == CONF_AUTH_HOST ||
	    had_cert, out));
}

void
decide_release(struct auth_decision *d)
{
	if (d == NULL)
		return;
	auth_token_release(d);
	auth_host_release(d);
	auth_block_put(d->priv);
	d->priv = NULL;
	d->hdrs = NULL;
	d->hdrslen = 0;
	d->login = NULL;
	d->dn = NULL;
}
