/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * Bearer tokens (issue 14): parsing and verification of a compact JWS as
 * the WLCG common JWT profile v1.0 (4.2, 4.3) and RFC 7515/7519 say, for
 * RS256 and ES256 only.  Input is hostile: base64url is strict (no
 * padding, no whitespace, alphabet only), JSON is strict (duplicate keys,
 * NUL, bad UTF-8 and deep nesting refused, bounded size), and the key is
 * chosen by the token's iss then kid, with the key's type and alg bound to
 * the header's alg so that no key verifies another algorithm.  Each
 * failure has a short static description naming the check; none quotes
 * token bytes.  Nothing here logs, caches or reads files (jwks.c loads key
 * sets; the cache is token_cache in tokcache.c).
 */

#ifndef AUTH_TOKEN_H
#define AUTH_TOKEN_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

struct jwks;

/* Deepest JSON nesting accepted in a token part or a key set. */
#define TOKEN_JSON_DEPTH	16
/* Most entries of an aud array, and of wlcg.groups. */
#define TOKEN_MAX_LIST		64

/* One configured issuer as the verifier sees it (all borrowed). */
struct token_issuer {
	const char	*issuer;	/* compared to iss exactly */
	const struct jwks *keys;	/* NULL: no key set loaded yet */
	const char *const *audiences;	/* at least one must be in aud */
	size_t		 naudiences;
};

/* What a token says, kept for the decision, the trouble page and logs. */
struct token_claims {
	json_t		*header;	/* parsed header, or NULL */
	json_t		*claims;	/* parsed claims, or NULL */
	const char	*alg;		/* borrowed from header */
	const char	*kid;
	const char	*iss;		/* borrowed from claims */
	const char	*sub;
	const char	*scope;		/* NULL when absent */
	const char	**groups;	/* wlcg.groups, borrowed strings */
	size_t		 ngroups;
	int64_t		 exp, nbf, iat;	/* 0 when absent (nbf, iat) */
	size_t		 issuer_index;	/* into the issuers given, when iss
					 * named one */
};

/*
 * Strict base64url (RFC 4648 section 5, no padding) of in[0..inlen):
 * refuses '=', whitespace, any byte outside the alphabet, a length of 1
 * mod 4 and non-zero trailing bits.  Returns a malloc'd buffer (owned by
 * the caller, free()) of *outlen bytes plus a NUL, or NULL.
 */
unsigned char	*token_b64url_decode(const char *in, size_t inlen,
		    size_t *outlen);

/*
 * Strict JSON of buf[0..len): at most maxdepth nested arrays/objects,
 * duplicate object keys, \u0000 and bad UTF-8 refused.  Returns a new
 * reference owned by the caller (json_decref), or NULL.
 */
json_t	*token_json_load(const char *buf, size_t len, int maxdepth);

/*
 * Decode tok (len bytes, not NUL-terminated) into out->header and
 * out->claims without verifying anything but its shape: three base64url
 * parts, JSON objects.  For the trouble page.  Returns 0, or -1 with a
 * static description in *why.  out must be released with
 * token_claims_free() either way.
 */
int	 token_decode(const char *tok, size_t len, struct token_claims *out,
	    const char **why);

/*
 * Verify tok against the issuers: shape (at most max_len bytes), header
 * (alg RS256/ES256, kid, no crit), iss naming an issuer whose key set
 * holds kid with a matching type and alg, the signature, exp (required),
 * nbf and iat with leeway seconds around now, aud against the issuer's
 * audiences, sub, and wlcg.ver major 1 when present.  Fills *out (release
 * with token_claims_free()) and returns 0, or -1 with a static
 * description of the failed check in *why ("expired", "bad signature",
 * "unknown issuer", ...).
 */
int	 token_verify(const char *tok, size_t len, size_t max_len,
	    const struct token_issuer *iss, size_t niss, time_t now,
	    long leeway, struct token_claims *out, const char **why);

/* Release what token_decode()/token_verify() put in c; safe twice. */
void	 token_claims_free(struct token_claims *c);

/*
 * 1 when the space-separated scope string has one of want (WLCG profile
 * 4.3: "storage.read:/a" is satisfied by "storage.read:/" and by
 * "storage.read:/a", a path prefix ending at a '/' boundary; a scope
 * without ':' must match exactly), else 0.
 */
int	 token_scope_match(const char *scope, const char *const *want,
	    size_t nwant);

/* 1 when one of groups equals one of want or lies under it ("/cms" covers
 * "/cms/production"), as require_fqan matches FQANs; else 0. */
int	 token_group_match(const char *const *groups, size_t ngroups,
	    const char *const *want, size_t nwant);

#endif /* AUTH_TOKEN_H */
