/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * Grid x509 chain verification for auth.c: the trust snapshot (every CA
 * certificate and CRL of a hashed CA directory, loaded eagerly, plus the
 * VOMS trust of vomsdir), verification of a presented chain with CRL
 * checks on every CA, RFC 3820 proxy policy (limited, independent) and
 * Globus legacy proxies (through proxycert.h), the user identity (first
 * non-proxy certificate of the verified chain, slash-form DN), VOMS
 * FQANs, the deadline of an identity (valid_until), and the identities
 * themselves with their chain keys (SHA-256 of the exact chain bytes),
 * which the verified-chain cache (x509_cache.h) is keyed by.  Knows
 * nothing of TLS sessions, routes or HTTP; never logs.
 */

#ifndef AUTH_X509_H
#define AUTH_X509_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/x509.h>

#include "auth/auth.h"

/* Length of a chain key (SHA-256). */
#define X509_KEY_LEN		32

/* Failed verifications are cached at most this long (seconds). */
#define X509_FAIL_CACHE_SECS	60
/* A chain whose VOMS ACs were refused is re-verified after this long. */
#define X509_VOMS_FAIL_SECS	300
/* The valid_until of an identity with no deadline (none, or refused). */
#define X509_FOREVER		((time_t)1 << 62)

/*
 * Verification reasons, plain words, static storage: compare by pointer.
 * They are what a user sees in a 403 body and what logs and metrics show.
 */
extern const char x509_err_expired[];	/* certificate expired */
extern const char x509_err_notyet[];	/* certificate not yet valid */
extern const char x509_err_revoked[];	/* certificate revoked */
extern const char x509_err_unknown_ca[]; /* unknown certificate authority */
extern const char x509_err_chain[];	/* certificate chain invalid */
extern const char x509_err_crl[];	/* CRL missing or expired for the
					 * issuing CA */
extern const char x509_err_proxy_expired[]; /* proxy certificate expired */
extern const char x509_err_independent[]; /* independent proxy carries no
					   * user identity */
extern const char x509_err_legacy[];	/* legacy Globus proxy not accepted */
extern const char x509_err_ca_user[];	/* CA certificate used as user
					 * certificate */
extern const char x509_err_too_long[];	/* chain longer than verify_depth
					 * allows (detail of x509_err_chain) */

/* What a trust load found, for logs and metrics. */
struct x509_trust_info {
	size_t		 ncerts;	/* CA certificates loaded (.N files) */
	size_t		 ncrls;		/* CRLs loaded (.rN files) */
	size_t		 nskipped;	/* unreadable/malformed files skipped */
	char		 first_skip[256]; /* "file: why" of the first, or "" */
	time_t		 crl_next_min;	/* earliest CRL nextUpdate, 0 if none */
	size_t		 nvoms;		/* .lsc chains in vomsdir */
};

struct x509_trust;

/*
 * Load a trust snapshot: every "<hash>.N" file of ca_path as CA
 * certificates and every "<hash>.rN" file as CRLs (PEM, or DER for CRLs),
 * read now, once; other files (.info, .signing_policy, .namespaces ...)
 * are ignored here (auth.c reads the policy files with namespaces_load()
 * and attaches them with x509_trust_set_namespaces()).  The store
 * verifies with CRL_CHECK | CRL_CHECK_ALL |
 * ALLOW_PROXY_CERTS and the given depth, so a CA without a valid CRL fails
 * its users (fail closed).  A file that cannot be parsed is skipped and
 * counted in info (its CA's users then fail closed); loading fails only
 * when ca_path cannot be read or holds no CA certificate.  vomsdir may be
 * NULL (no VOMS server trusted); when it is given and cannot be loaded,
 * the load fails.  gen is the generation recorded in the snapshot and in
 * every identity verified with it.  Returns a snapshot with one reference
 * owned by the caller (x509_trust_put), or NULL with err filled; fills
 * *info when info is not NULL.  The snapshot is immutable and thread-safe.
 */
struct x509_trust *x509_trust_load(const char *ca_path, const char *vomsdir,
		    unsigned depth, uint64_t gen, struct x509_trust_info *info,
		    char *err, size_t errlen);

struct namespaces_set;

/*
 * Give t the CA namespace policies ns (ownership passes; NULL: none), which
 * x509_verify() then applies to every CA-issued certificate of a chain.
 * Only before t is shared: a snapshot is immutable once published.
 */
void	 x509_trust_set_namespaces(struct x509_trust *t,
	    struct namespaces_set *ns);

/* Take another reference to t (returned); thread-safe. */
struct x509_trust *x509_trust_get(struct x509_trust *t);

/* Drop a reference; the last one frees the snapshot.  NULL is a no-op. */
void	 x509_trust_put(struct x509_trust *t);

/* The generation given to x509_trust_load(). */
uint64_t x509_trust_gen(const struct x509_trust *t);

/* The X509_STORE of t, borrowed: valid while a reference to t is held. */
X509_STORE *x509_trust_store(const struct x509_trust *t);

/*
 * The private form of struct auth_ident.  Every ident handed out by this
 * module is one of these (pub first), so the files of auth/ may cast.
 * slot is a per-identity cache owned by decide.c (the signed header
 * block), guarded by lock and released with slot_free when the ident is
 * freed.
 */
struct x509_ident {
	struct auth_ident pub;
	int		 is_static;	/* never freed (x509_ident_none) */
	int		 has_key;
	unsigned char	 key[X509_KEY_LEN]; /* chain key, when has_key */
	time_t		 cache_until;	/* cache entry life (<= valid_until) */
	STACK_OF(X509)	*presented;	/* the chain as sent, leaf first, so a
					 * trust reload can re-verify it; kept
					 * for AUTH_CERT_OK only */
	size_t		 bytes;		/* estimate of what it holds (cache) */
	pthread_mutex_t	 lock;
	void		*slot;
	void		(*slot_free)(void *);
};

/*
 * 1 when the presented chain (leaf, then chain, a leading copy of leaf
 * counted once) has more than verify_depth + 1 certificates of t: such a
 * chain is refused before any verification work (x509_ident_too_long).
 */
int	 x509_chain_too_long(const struct x509_trust *t, X509 *leaf,
	    STACK_OF(X509) *chain);

/*
 * Verify a presented chain against t at time now and return a new
 * identity (one reference, owned by the caller: x509_ident_put).  leaf is
 * the client's certificate; chain is what the client sent (it may start
 * with leaf, or not; may be NULL).  Neither is modified or kept.
 * The chain is verified by X509_verify_cert; then proxy policy is applied
 * (independent anywhere: refused; limited anywhere: the leaf counts as
 * limited; an unknown policy language: refused), the user certificate is
 * the first non-proxy certificate of the verified chain and must not be a
 * CA, and the VOMS ACs are checked (voms_verify_chain).  A Globus legacy
 * proxy (subject = issuer + CN=proxy / CN=limited proxy, no proxyCertInfo)
 * is refused unless legacy_proxies is set; then its signature and dates
 * are checked here and the rest of the chain by OpenSSL (no VOMS).
 * Status OK sets user_dn, fqans (or voms_error), proxy, chain, not_after;
 * FAILED sets reason (one of x509_err_*, or namespaces_err_denied),
 * detail (OpenSSL's static text, namespaces.c's, or NULL) and chain (the
 * presented one) and leaves user_dn NULL.  Both
 * keep the chain key; only OK keeps the presented chain (references, in
 * presented).  OK sets valid_until, the earliest of the chain's
 * notAfter, the nextUpdate of the CRLs of the chain's issuers and, when
 * FQANs were granted, the ACs' notAfter + VOMS_SKEW; past it the identity
 * must be verified again.  cache_until is valid_until, capped at
 * X509_VOMS_FAIL_SECS when an AC was refused; a refusal has valid_until
 * X509_FOREVER and cache_until at most X509_FAIL_CACHE_SECS.  A chain
 * longer than verify_depth + 1 gets x509_ident_too_long().  Returns NULL
 * only on out-of-memory.  Thread-safe.
 */
struct auth_ident *x509_verify(const struct x509_trust *t, X509 *leaf,
		    STACK_OF(X509) *chain, time_t now, int legacy_proxies);

/*
 * The shared identity with status AUTH_CERT_NONE (no certificate), a
 * shared FAILED one for out-of-memory, and a shared FAILED one for a chain
 * longer than verify_depth + 1; all static: get/put are no-ops.
 */
struct auth_ident *x509_ident_none(void);
struct auth_ident *x509_ident_oom(void);
struct auth_ident *x509_ident_too_long(void);

/*
 * A refused identity from the cache (which keeps only key, reason and
 * times) dressed again with the description of the chain presented now
 * (leaf, chain), for the trouble page.  Returns a new reference; on
 * out-of-memory, or when failed is not a refusal, a new reference to
 * failed itself.
 */
struct auth_ident *x509_ident_describe(struct auth_ident *failed, X509 *leaf,
		    STACK_OF(X509) *chain);

/*
 * The slim form of a refusal (key, reason, detail and times; no chain
 * description), as the cache keeps it and as a TLS session stores it.
 * Returns a new reference; for an identity that is not a refusal, or on
 * out-of-memory, a new reference to id itself.
 */
struct auth_ident *x509_ident_slim(struct auth_ident *id);

/* Take a reference (returns id); put drops one and frees at zero.  Both
 * accept NULL and static identities.  Thread-safe. */
struct auth_ident *x509_ident_get(struct auth_ident *id);
void	 x509_ident_put(struct auth_ident *id);

/*
 * The cache key of a presented chain: SHA-256 over the DER bytes of leaf
 * followed by every certificate of chain (a chain starting with leaf
 * counts it once).  Returns 0, or -1 on an encoding failure.
 */
int	 x509_chain_key(X509 *leaf, STACK_OF(X509) *chain,
	    unsigned char key[X509_KEY_LEN]);

/*
 * The slim form of the refusal fi (borrowed) as x509_cache.c keeps it:
 * key, reason, detail and times, no chain description and no chain.
 * Returns a new identity with one reference (x509_ident_put), or NULL on
 * out-of-memory.  fi should be a refusal; nothing else is copied.
 */
struct x509_ident *x509_ident_slim_new(const struct x509_ident *fi);

#endif /* AUTH_X509_H */
