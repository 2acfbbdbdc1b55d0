/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * Signing of the CMS authentication headers (see PROTOCOL.md, "The
 * signature"): loading the HMAC key file, building the canonical string
 * from the cms-authn-* and cms-authz-* headers, HMAC-SHA1 over it, and
 * rendering the complete signed header block that decide.c hands to the
 * proxy.  Pure functions: no globals except a lazily fetched, immutable
 * EVP_MAC, so everything here is safe to call from any thread.
 */

#ifndef AUTH_SIGN_H
#define AUTH_SIGN_H

#include <stddef.h>

struct dnmap_role;

/*
 * What the HMAC is computed over.  The header bytes sent are the same in
 * both modes; only the signed string differs, and only for values (or
 * names) holding a byte >= 0x80.
 *   SIGN_BYTES       the bytes sent, as PROTOCOL.md says: what the Go
 *                    cmsauth GetHmac and the Apache frontend compute.
 *   SIGN_PY3_LATIN1  what a Python 3 WSGI verifier (WMCore REST/Auth.py
 *                    under CherryPy) rebuilds: each byte >= 0x80 read as a
 *                    Latin-1 character and hashed as its two UTF-8 bytes;
 *                    the h<len>v<len> lengths stay byte lengths.
 */
enum sign_mode {
	SIGN_BYTES = 0,
	SIGN_PY3_LATIN1
};

/* One header as the signer sees it: not NUL-terminated, name in any case. */
struct sign_hdr {
	const char	*name;
	size_t		 namelen;
	const char	*value;
	size_t		 valuelen;
};

/* Largest key file accepted, in bytes: 64 KiB, written out as an int. */
#define SIGN_KEY_MAX	65536

/* Up to this many headers, sign_hmac() uses only stack memory of its own. */
#define SIGN_STACK_HDRS	64

/*
 * Load the HMAC key: the whole raw content of the file at path, nothing
 * trimmed (a trailing newline is part of the key, as PROTOCOL.md says).
 * The file must be a regular file (symlinks are followed, so Kubernetes
 * secret mounts work), non-empty, at most SIGN_KEY_MAX bytes, and have no
 * group or other permission bits.  Returns 0 and sets *key (malloc'd,
 * owned by the caller, release with sign_key_free()) and *keylen; or -1
 * with a one-line reason in err, e.g. "hmac key /x is readable by others
 * (mode 0644); chmod 600", and *key left NULL.
 */
int	 sign_key_load(const char *path, unsigned char **key, size_t *keylen,
	    char *err, size_t errlen);

/* Wipe (OPENSSL_cleanse) and free a key from sign_key_load(); NULL is ok. */
void	 sign_key_free(unsigned char *key, size_t keylen);

/*
 * Compute cms-authn-hmac over the n headers h.  Only headers whose
 * lower-cased name starts with "cms-authn" or "cms-authz" take part, except
 * cms-authn-hmac itself; they are sorted by lower-cased name in byte order
 * (headers with equal names keep their given order) and the string
 * "h<namelen>v<valuelen>...#<name><value>..." (lengths in lower-case hex,
 * names lower-cased) is signed with HMAC-SHA1.  Writes 40 lower-case hex
 * digits and a NUL to out.  Does not call malloc itself for n <=
 * SIGN_STACK_HDRS (OpenSSL's MAC context still allocates internally).
 * Returns 0, or -1 on an OpenSSL or allocation failure (out is then "").
 */
int	 sign_hmac(const unsigned char *key, size_t keylen,
	    const struct sign_hdr *h, size_t n, char out[41]);

/*
 * sign_hmac() in the given mode; sign_hmac() is SIGN_BYTES.  A value with
 * no byte >= 0x80 is hashed as it is in either mode, so for ASCII headers
 * both modes give the same HMAC at the same cost.
 */
int	 sign_hmac_as(const unsigned char *key, size_t keylen,
	    enum sign_mode mode, const struct sign_hdr *h, size_t n,
	    char out[41]);

/*
 * The exact byte string sign_hmac() signs for the same headers, for tests,
 * the trouble page and debugging.  Returns a malloc'd NUL-terminated string
 * (owned by the caller, free()) with its length (excluding the NUL) in
 * *len when len is not NULL; NULL on out-of-memory.
 */
char	*sign_string(const struct sign_hdr *h, size_t n, size_t *len);

/* sign_string() in the given mode: the exact bytes sign_hmac_as() signs. */
char	*sign_string_as(enum sign_mode mode, const struct sign_hdr *h,
	    size_t n, size_t *len);

/*
 * Check a received cms-authn-hmac value against the headers, in constant
 * time.  hmac must be 40 lower-case hex digits.  Returns 0 when it matches,
 * -1 when it does not or on failure.  For tests and verifying backends.
 */
int	 sign_verify(const unsigned char *key, size_t keylen,
	    const struct sign_hdr *h, size_t n, const char *hmac);

/*
 * Build the signed header block for one authenticated identity.  Returns a
 * malloc'd NUL-terminated string of complete lines "name: value\r\n", in
 * this order:
 *   cms-auth-status: OK
 *   cms-authn-method: <method>
 *   cms-authn-dn: <dn>
 *   cms-authn-login: <login>          when login is non-NULL and non-empty
 *   cms-authn-name: <name>            when name is non-NULL and non-empty
 *   cms-authz-<role>: <value>         one per role, in the given order
 *   cms-authn-voms-fqans: <f1,f2,...> when nfqans > 0, in the given order
 *   cms-authn-hmac: <40 hex>          over all of the above except status
 * method and dn must be non-empty.  The length (excluding the NUL) goes to
 * *len when len is not NULL.  Returns NULL on out-of-memory, or when any
 * value contains CR, LF or another control byte except HTAB (a C string
 * cannot hold NUL), a role name is not [a-z0-9-]+ or repeats, or an FQAN
 * is empty or contains a comma (the joined list would be ambiguous).  The
 * caller owns the result (free()).
 */
char	*sign_block(const unsigned char *key, size_t keylen,
	    const char *method, const char *dn, const char *login,
	    const char *name, const struct dnmap_role *roles, size_t nroles,
	    const char *const *fqans, size_t nfqans, size_t *len);

/*
 * 1 when p[0..len) holds a byte >= 0x80, else 0.  Only then do the two
 * modes sign differently: a header block without one needs no second
 * signature.
 */
int	 sign_has_high(const char *p, size_t len);

/*
 * sign_block() with the HMAC computed in the given mode; sign_block() is
 * SIGN_BYTES.  Every line but cms-authn-hmac is byte for byte the same in
 * both modes.  Same arguments, result and ownership as sign_block().
 */
char	*sign_block_as(const unsigned char *key, size_t keylen,
	    enum sign_mode mode, const char *method, const char *dn,
	    const char *login, const char *name,
	    const struct dnmap_role *roles, size_t nroles,
	    const char *const *fqans, size_t nfqans, size_t *len);

#endif /* AUTH_SIGN_H */
