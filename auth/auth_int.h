/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * Private to auth/: what the auth façade (auth.c: the live trust, users
 * map, ban list and key, and their reload) shares with the files it is
 * split into: the TLS hooks (auth_tls.c), the per-request decision
 * (decide.c) and the trouble page (trouble.c).  It defines struct auth_ctx
 * and the snapshots of loaded files, and declares the functions these
 * files call in each other.  Only the .c files of auth/ include it; proxy/
 * includes auth/auth.h alone.
 */

#ifndef AUTH_AUTH_INT_H
#define AUTH_AUTH_INT_H

#include <sys/socket.h>

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <jansson.h>

#include "auth/auth.h"
#include "auth/namespaces.h"

struct auth_hostset;
struct auth_tokstate;
struct ban;
struct hosts;
struct conf_route;
struct conf_tokens;
struct dnmap;
struct dnmap_user;
struct x509_cache;
struct x509_trust;

/* One loaded file: a users map, a ban list or a key.  Refcounted so a
 * reader keeps it alive across a concurrent swap. */
struct auth_snap {
	int		 refs;		/* atomic */
	uint64_t	 gen;
	struct dnmap	*map;
	struct ban	*ban;
	struct hosts	*hosts;		/* auth.hosts (HostIP) */
	unsigned char	*key;
	size_t		 keylen;
	size_t		 bad_utf8;	/* users: records refused, not UTF-8 */
	char		*utf8note;	/* users: UTF-8 refusals, or NULL */
	size_t		 nfixed;	/* users: records with edge spaces;
					 * ban: legacy-form DNs normalised */
	char		 note[400];	/* a warning about them, or "" */
};

/*
 * What stat() saw of a file or directory tree; equal means unchanged.
 * known is cleared when loading what the signature describes failed, so
 * the next check loads again even if nothing changed since (a failure may
 * have been EMFILE or a directory missing for a moment).
 */
struct auth_sig {
	int		 known;
	uint64_t	 h;
	uint64_t	 errh;		/* hash of the last load error */
};

struct auth_ctx {
	/* Copied configuration. */
	char		*ca_path;
	char		*vomsdir;
	char		*users;
	char		*banned;
	char		*hosts;		/* auth.hosts, or NULL */
	char		*hmac_key;
	char		*method;
	unsigned	 depth;
	int		 legacy;
	size_t		 max_cert_list;
	enum namespaces_mode ns_mode;	/* auth.namespaces */
	int		 dn_any_order;	/* auth.dn_match: any_order */

	/* The live objects; lock guards the pointers, refs keep them. */
	pthread_mutex_t	 lock;
	struct x509_trust *trust;
	struct auth_snap *umap;
	struct auth_snap *ban;
	struct auth_snap *key;
	struct auth_snap *hostsnap;	/* the host list in force */
	struct auth_hostset *hostset;	/* its signed blocks (auth_host.c) */
	uint64_t	 trust_gen;	/* atomic reads */
	uint64_t	 users_gen;
	uint64_t	 ban_gen;
	uint64_t	 key_gen;
	uint64_t	 hosts_gen;

	struct auth_sig	 sig_trust, sig_users, sig_ban, sig_key;
	struct auth_sig	 sig_hosts;
	char		 notes[900];	/* warnings of the first load */
	struct x509_cache *cache;
	struct auth_tokstate *tok;	/* bearer tokens, or NULL */

	/* Monotonic counters (atomic). */
	uint64_t	 users_reloads, users_reload_failures;
	uint64_t	 trust_reloads, trust_reload_failures;
	uint64_t	 chains_too_long;
	uint64_t	 host_accepted, host_denied;
};

static inline uint64_t
auth_load64(const uint64_t *p)
{
	return (__atomic_load_n(p, __ATOMIC_ACQUIRE));
}

static inline void
auth_inc(uint64_t *p)
{
	__atomic_add_fetch(p, 1, __ATOMIC_RELAXED);
}

/* ---- auth.c ---- */

/* Take a reference to s (returned; NULL is passed through).  Thread-safe. */
struct auth_snap *auth_snap_get(struct auth_snap *s);

/* Drop a reference to s; the last one frees it and what it loaded.  NULL
 * is a no-op.  Thread-safe. */
void	 auth_snap_put(struct auth_snap *s);

/*
 * The identity of a presented chain (leaf, chain: borrowed, not kept)
 * under the trust in force: from the verified-chain cache when the same
 * chain bytes were verified under this trust generation, else verified at
 * now and cached.  A chain longer than verify_depth + 1 is refused before
 * it is even hashed; a NULL leaf is "no certificate".  Returns a new
 * reference owned by the caller (x509_ident_put); never NULL.
 */
struct auth_ident *auth_verify(struct auth_ctx *ctx, X509 *leaf,
		    STACK_OF(X509) *chain, time_t now);

/*
 * old (borrowed) verified again at now under the trust in force, from the
 * chain it was verified from.  Returns a new reference, or NULL when old
 * kept no chain (a refusal, or a static identity).
 */
struct auth_ident *auth_reverify(struct auth_ctx *ctx, struct auth_ident *old,
		    time_t now);

/* ---- auth_tls.c ---- */

/*
 * auth_ident_get() of auth.h: the identity recorded on ssl by the TLS
 * hooks (or verified now), re-verified when the trust changed or its
 * deadline passed.  Returns a new reference owned by the caller; never
 * NULL.
 */
struct auth_ident *auth_tls_ident_get(struct auth_ctx *ctx, SSL *ssl);

/* ---- decide.c ---- */

/*
 * The CRIC record of a certificate DN under ctx's dn_match: the exact DN,
 * or with any_order also the same RDNs in another order.  Returns a
 * record borrowed from m (valid while m is), or NULL when none.
 */
const struct dnmap_user *decide_cric_lookup(const struct auth_ctx *ctx,
		    const struct dnmap *m, const char *dn);

/*
 * auth_decide() of auth.h: route policy, ban list, CRIC mapping and chain
 * expiry for one request; fills *out (whose strings are owned by auth
 * until decide_release()) and returns out->result.  id is borrowed and
 * may be NULL.
 */
enum auth_result decide_request(struct auth_ctx *ctx, struct auth_ident *id,
		    const struct conf_route *route, const struct sockaddr *peer,
		    struct auth_decision *out);

/* auth_decision_release() of auth.h: drop what decide_request() handed
 * out in d; safe to call twice, NULL is a no-op. */
void	 decide_release(struct auth_decision *d);

/* ---- auth_token.c ---- */

/*
 * Set up bearer tokens for ctx from t: copy the issuers, load each key
 * set (and subject map), size the verified-token cache.  Nothing to do
 * (0) when t lists no issuer.  Returns -1 with err filled when a file
 * cannot be loaded; ctx->tok may then be set and is freed by
 * auth_token_free().
 */
int	 auth_token_init(struct auth_ctx *ctx, const struct conf_tokens *t,
	    char *err, size_t errlen);

/* Free ctx->tok; NULL is a no-op. */
void	 auth_token_free(struct auth_ctx *ctx);

/*
 * Reload the key sets and subject maps that changed, dropping the cached
 * tokens of an issuer whose keys changed; a refused file keeps the old
 * one and is described once in log (appended, newline-separated).
 * Returns AUTH_RELOAD_TOKENS and/or AUTH_RELOAD_FAILED bits.
 */
int	 auth_token_refresh(struct auth_ctx *ctx, char *log, size_t loglen);

/*
 * For the trouble page: verify tok (without using or filling the cache)
 * and return "OK" or the failed check (static text); *header and *claims
 * get new references to its decoded parts when they could be read (else
 * NULL), owned by the caller (json_decref).  The signature is not kept.
 */
const char *auth_token_inspect(struct auth_ctx *ctx, const char *tok,
		    size_t toklen, json_t **header, json_t **claims);

/* Drop what auth_token_decide() put in d (tpriv); safe twice. */
void	 auth_token_release(struct auth_decision *d);

/* ---- auth_host.c ---- */

/*
 * Decide a request by the HostIP list: the client's TCP peer address
 * (peer, from the proxy; never a header) looked up in the host list in
 * force.  Listed: AUTH_OK with the signed block "cms-auth-status: OK",
 * "cms-authn-method: HostIP", "cms-auth-host: <ip> <hostname>" and
 * "cms-authn-hmac", cached per host list and key generation, so the hot
 * path does not sign; out->hpriv holds it until auth_host_release().
 * Not listed: 403 with cert_reason when it is non-NULL (host_or_cert,
 * a presented certificate refused), else a reason naming the host list
 * (and, when had_cert is 0, the missing certificate).
 * Fills *out (which must be zeroed) and returns out->result.
 */
enum auth_result auth_host_decide(struct auth_ctx *ctx,
		    const struct sockaddr *peer, const char *cert_reason,
		    int had_cert, struct auth_decision *out);

/* Drop what auth_host_decide() put in d (hpriv); safe twice. */
void	 auth_host_release(struct auth_decision *d);

/* Free the cached blocks of ctx (auth_ctx_free()); NULL-safe. */
void	 auth_host_free(struct auth_ctx *ctx);

/* ---- trouble.c ---- */

/*
 * auth_trouble_render() of auth.h: the trouble page for id (borrowed; NULL
 * means no certificate) as HTML, or as JSON when json is non-zero.
 * Returns a malloc'd NUL-terminated string owned by the caller (free()),
 * its length in *len when len is not NULL; NULL on out-of-memory.
 */
char	*trouble_render(struct auth_ctx *ctx, const struct auth_ident *id,
	    int json, size_t *len);

/* trouble_render() with a presented bearer token (tok may be NULL):
 * its check's result, header and claims, never its signature. */
char	*trouble_render_token(struct auth_ctx *ctx,
	    const struct auth_ident *id, const char *tok, size_t toklen,
	    int json, size_t *len);

#endif /* AUTH_AUTH_INT_H */
