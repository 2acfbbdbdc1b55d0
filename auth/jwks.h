/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * JSON Web Key Sets (RFC 7517) for bearer tokens: one issuer's public
 * keys, loaded from the file the dist/ fetcher writes.  Only RSA keys of
 * at least 2048 bits and EC P-256 keys are taken; each needs a unique
 * kid.  Keys of other types, or with use other than "sig", are skipped
 * (counted); a malformed RSA or EC key refuses the whole file, so a
 * half-written file keeps the previous set in force.  A loaded set is
 * immutable and safe to share between threads.  No logging here.
 */

#ifndef AUTH_JWKS_H
#define AUTH_JWKS_H

#include <stddef.h>

#include <openssl/evp.h>

/* Largest key set file read. */
#define JWKS_MAX_FILE	(1024L * 1024)

enum jwks_kty {
	JWKS_RSA = 1,
	JWKS_EC_P256
};

struct jwks_key {
	char		*kid;
	enum jwks_kty	 kty;
	char		*alg;		/* the JWK's alg, or NULL */
	EVP_PKEY	*pkey;
	/*
	 * A verify context for pkey, initialised once at load (RS256: PKCS#1
	 * v1.5 padding and SHA-256; ES256: SHA-256), or NULL.  Never used
	 * directly: verifiers take an EVP_PKEY_CTX_dup() of it, which costs
	 * far less than setting a context up per token and leaves this one
	 * untouched, so threads share it.
	 */
	EVP_PKEY_CTX	*vctx;
};

struct jwks {
	struct jwks_key	*keys;
	size_t		 nkeys;
	size_t		 skipped;	/* keys of other types or uses */
};

/*
 * Parse a key set from buf[0..len).  Returns a new set owned by the
 * caller (jwks_free()), or NULL with a one-line reason in err.
 */
struct jwks	*jwks_parse(const char *buf, size_t len, char *err,
		    size_t errlen);

/* jwks_parse() of the file at path (at most JWKS_MAX_FILE bytes); the
 * reason names the path. */
struct jwks	*jwks_load(const char *path, char *err, size_t errlen);

/* The key with this kid (exact comparison), borrowed from s; or NULL. */
const struct jwks_key *jwks_find(const struct jwks *s, const char *kid);

/* Free a set; NULL is a no-op. */
void	 jwks_free(struct jwks *s);

#endif /* AUTH_JWKS_H */
