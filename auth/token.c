/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * Bearer-token verification (token.h): strict base64url and JSON, the
 * JWS header, the choice of key by iss and kid, RS256/ES256 signatures
 * with OpenSSL EVP, and the WLCG claim checks.  Pure functions of their
 * arguments: the key sets and the clock come from the caller.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/bn.h>

#include "auth/jwks.h"
#include "auth/token.h"

/* Descriptions of failed checks; they go into error_description. */
static const char tok_err_size[] = "token too large";
static const char tok_err_shape[] = "malformed token";
static const char tok_err_b64[] = "bad base64url";
static const char tok_err_json[] = "bad JSON";
static const char tok_err_alg[] = "unsupported algorithm";
static const char tok_err_crit[] = "critical header not supported";
static const char tok_err_nokid[] = "missing kid";
static const char tok_err_iss[] = "unknown issuer";
static const char tok_err_nokeys[] = "issuer keys not loaded";
static const char tok_err_kid[] = "unknown key";
static const char tok_err_keyalg[] = "key does not match algorithm";
static const char tok_err_sig[] = "bad signature";
static const char tok_err_time[] = "bad time claim";
static const char tok_err_noexp[] = "missing exp";
static const char tok_err_exp[] = "expired";
static const char tok_err_nbf[] = "not yet valid";
static const char tok_err_iat[] = "issued in the future";
static const char tok_err_aud[] = "wrong audience";
static const char tok_err_sub[] = "missing subject";
static const char tok_err_ver[] = "unsupported wlcg.ver";
static const char tok_err_claim[] = "bad claim type";
static const char tok_err_oom[] = "out of memory";

/* Largest time claim accepted: JSON's safe-integer range. */
#define TOK_TIME_MAX	((int64_t)1 << 53)

/* base64url alphabet values (RFC 4648 5) plus 0x40, so that 0 marks
 * every other byte; a table: a cold token is decoded in full, about 700
 * bytes of it. */
static const unsigned char tok_b64tab[256] = {
	['A'] = 64, 65, 66, 67, 68, 69, 70, 71, 72, 73, 74, 75, 76, 77, 78,
	79, 80, 81, 82, 83, 84, 85, 86, 87, 88, 89,
	['a'] = 90, 91, 92, 93, 94, 95, 96, 97, 98, 99, 100, 101, 102, 103,
	104, 105, 106, 107, 108, 109, 110, 111, 112, 113, 114, 115,
	['0'] = 116, 117, 118, 119, 120, 121, 122, 123, 124, 125,
	['-'] = 0x40 + 62,
	['_'] = 0x40 + 63,
};

unsigned char *
token_b64url_decode(const char *in, size_t inlen, size_t *outlen)
{
	const unsigned char *p = (const unsigned char *)in;
	unsigned char	*out;
	uint32_t	 acc, v;
	size_t		 i, o = 0, full = inlen / 4 * 4, rest = inlen % 4;

	if (rest == 1)
		return (NULL);
	if ((out = malloc(inlen / 4 * 3 + 3)) == NULL)
		return (NULL);
	/* Four characters make three bytes; a non-alphabet byte lacks the
	 * 0x40 bit in its table value, so one test per group finds it. */
	for (i = 0; i < full; i += 4) {
		v = (uint32_t)tok_b64tab[p[i]] & tok_b64tab[p[i + 1]] &
		    tok_b64tab[p[i + 2]] & tok_b64tab[p[i + 3]];
		if (!(v & 0x40))
			goto bad;
		acc = (uint32_t)(tok_b64tab[p[i]] & 0x3f) << 18 |
		    (uint32_t)(tok_b64tab[p[i + 1]] & 0x3f) << 12 |
		    (uint32_t)(tok_b64tab[p[i + 2]] & 0x3f) << 6 |
		    (tok_b64tab[p[i + 3]] & 0x3fu);
		out[o++] = (unsigned char)(acc >> 16);
		out[o++] = (unsigned char)(acc >> 8);
		out[o++] = (unsigned char)acc;
	}
	if (rest > 0) {
		/* 2 characters: 12 bits, 1 byte, 4 bits that must be zero;
		 * 3 characters: 18 bits, 2 bytes, 2 bits that must be zero
		 * (one encoding per byte string). */
		acc = 0;
		for (i = 0; i < rest; i++) {
			if (!((v = tok_b64tab[p[full + i]]) & 0x40))
				goto bad;
			acc = acc << 6 | (v & 0x3f);
		}
		if (rest == 2) {
			if (acc & 0xf)
				goto bad;
			out[o++] = (unsigned char)(acc >> 4);
		} else {
			if (acc & 0x3)
				goto bad;
			out[o++] = (unsigned char)(acc >> 10);
			out[o++] = (unsigned char)(acc >> 2);
		}
	}
	out[o] = '\0';
	*outlen = o;
	return (out);
bad:
	free(out);
	return (NULL);
}

/* Deepest nesting of buf, counting only brackets outside strings; stops
 * early past limit.  Malformed input is the parser's to refuse. */
static int
tok_json_depth(const char *buf, size_t len, int limit)
{
	size_t		 i;
	int		 d = 0, max = 0, instr = 0;

	for (i = 0; i < len && max <= limit; i++) {
		char c = buf[i];

		if (instr) {
			if (c == '\\')
				i++;
			else if (c == '"')
				instr = 0;
		} else if (c == '"')
			instr = 1;
		else if (c == '{' || c == '[') {
			if (++d > max)
				max = d;
		} else if (c == '}' || c == ']')
			d--;
	}
	return (max);
}

json_t *
token_json_load(const char *buf, size_t len, int maxdepth)
{
	json_error_t	 e;

	if (tok_json_depth(buf, len, maxdepth) > maxdepth)
		return (NULL);
	/* Without JSON_ALLOW_NUL jansson refuses \u0000 in strings. */
	return (json_loadb(buf, len, JSON_REJECT_DUPLICATES, &e));
}

void
token_claims_free(struct token_claims *c)
{
	if (c == NULL)
		return;
	json_decref(c->header);
	json_decref(c->claims);
	free(c->groups);
	memset(c, 0, sizeof(*c));
}

/* One part of the compact form as a JSON object, or NULL with *why. */
static json_t *
tok_part(const char *p, size_t len, const char **why)
{
	unsigned char	*raw;
	size_t		 rawlen;
	json_t		*j;

	if ((raw = token_b64url_decode(p, len, &rawlen)) == NULL) {
		*why = tok_err_b64;
		return (NULL);
	}
	j = token_json_load((const char *)raw, rawlen, TOKEN_JSON_DEPTH);
	free(raw);
	if (j == NULL || !json_is_object(j)) {
		json_decref(j);
		*why = tok_err_json;
		return (NULL);
	}
	return (j);
}

/* Split tok into its three parts; each of header and payload non-empty. */
static int
tok_split(const char *tok, size_t len, size_t cut[2])
{
	size_t		 i, n = 0;

	for (i = 0; i < len; i++)
		if (tok[i] == '.') {
			if (n == 2)
				return (-1);
			cut[n++] = i;
		}
	if (n != 2 || cut[0] == 0 || cut[1] == cut[0] + 1 ||
	    cut[1] + 1 == len)
		return (-1);
	return (0);
}

int
token_decode(const char *tok, size_t len, struct token_claims *out,
    const char **why)
{
	size_t		 cut[2];

	memset(out, 0, sizeof(*out));
	if (tok_split(tok, len, cut) != 0) {
		*why = tok_err_shape;
		return (-1);
	}
	if ((out->header = tok_part(tok, cut[0], why)) == NULL)
		return (-1);
	if ((out->claims = tok_part(tok + cut[0] + 1, cut[1] - cut[0] - 1,
	    why)) == NULL)
		return (-1);
	return (0);
}

/* A time claim: absent (0, *present 0), or an integer in [0, 2^53). */
static int
tok_time(json_t *claims, const char *name, int64_t *v, int *present)
{
	json_t		*j = json_object_get(claims, name);

	*v = 0;
	*present = j != NULL;
	if (j == NULL)
		return (0);
	if (!json_is_integer(j) || json_integer_value(j) < 0 ||
	    json_integer_value(j) >= TOK_TIME_MAX)
		return (-1);
	*v = json_integer_value(j);
	return (0);
}

/* ES256's raw r||s (64 bytes) as the DER ECDSA-Sig-Value EVP wants. */
static unsigned char *
tok_es256_der(const unsigned char *sig, size_t siglen, size_t *derlen)
{
	ECDSA_SIG	*es;
	BIGNUM		*r, *s;
	unsigned char	*der = NULL;
	int		 n;

	if (siglen != 64)
		return (NULL);
	r = BN_bin2bn(sig, 32, NULL);
	s = BN_bin2bn(sig + 32, 32, NULL);
	if (r == NULL || s == NULL || (es = ECDSA_SIG_new()) == NULL) {
		BN_free(r);
		BN_free(s);
		return (NULL);
	}
	ECDSA_SIG_set0(es, r, s);
	n = i2d_ECDSA_SIG(es, &der);
	ECDSA_SIG_free(es);
	if (n <= 0)
		return (NULL);
	*derlen = (size_t)n;
	return (der);
}

/* 1 when sig verifies signed[0..len) under k for alg, else 0. */
static int
tok_sig_ok(const struct jwks_key *k, int es256, const char *signed_part,
    size_t len, const unsigned char *sig, size_t siglen)
{
	EVP_MD_CTX	*md;
	unsigned char	*der = NULL;
	size_t		 derlen = 0;
	int		 ok = 0;

	if (es256) {
		if ((der = tok_es256_der(sig, siglen, &derlen)) == NULL)
			return (0);
		sig = der;
		siglen = derlen;
	}
	if (k->vctx != NULL) {
		/* The key's ready context, duplicated: no provider fetch, no
		 * padding or digest set-up per token (jwks.h). */
		unsigned char	 h[SHA256_DIGEST_LENGTH];
		EVP_PKEY_CTX	*c;

		if (SHA256((const unsigned char *)signed_part, len, h) !=
		    NULL && (c = EVP_PKEY_CTX_dup(k->vctx)) != NULL) {
			ok = EVP_PKEY_verify(c, sig, siglen, h, sizeof(h)) == 1;
			EVP_PKEY_CTX_free(c);
		}
		OPENSSL_free(der);
		return (ok);
	}
	if ((md = EVP_MD_CTX_new()) != NULL &&
	    EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, k->pkey) == 1 &&
	    EVP_DigestVerify(md, sig, siglen,
	    (const unsigned char *)signed_part, len) == 1)
		ok = 1;
	EVP_MD_CTX_free(md);
	OPENSSL_free(der);
	return (ok);
}

/* aud (string or array of at most TOKEN_MAX_LIST strings) names one of
 * the issuer's audiences. */
static int
tok_aud_ok(json_t *aud, const struct token_issuer *is)
{
	size_t		 i, j, n;

	if (json_is_string(aud)) {
		for (j = 0; j < is->naudiences; j++)
			if (strcmp(json_string_value(aud), is->audiences[j]) ==
			    0)
				return (1);
		return (0);
	}
	if (!json_is_array(aud) || (n = json_array_size(aud)) > TOKEN_MAX_LIST)
		return (0);
	for (i = 0; i < n; i++) {
		json_t *a = json_array_get(aud, i);

		if (!json_is_string(a))
			return (0);
		for (j = 0; j < is->naudiences; j++)
			if (strcmp(json_string_value(a), is->audiences[j]) == 0)
				return (1);
	}
	return (0);
}

/* wlcg.ver, when present, is a string "1" or "1.<minor>". */
static int
tok_ver_ok(json_t *v)
{
	const char	*s;

	if (v == NULL)
		return (1);
	if (!json_is_string(v))
		return (0);
	s = json_string_value(v);
	return (s[0] == '1' && (s[1] == '\0' || s[1] == '.'));
}

/* scope and wlcg.groups into out (types checked). */
static const char *
tok_extras(struct token_claims *out)
{
	json_t		*s, *g;
	size_t		 i, n;

	s = json_object_get(out->claims, "scope");
	if (s != NULL) {
		if (!json_is_string(s))
			return (tok_err_claim);
		out->scope = json_string_value(s);
	}
	g = json_object_get(out->claims, "wlcg.groups");
	if (g == NULL)
		return (NULL);
	if (!json_is_array(g) || (n = json_array_size(g)) > TOKEN_MAX_LIST)
		return (tok_err_claim);
	if (n == 0)
		return (NULL);
	if ((out->groups = calloc(n, sizeof(*out->groups))) == NULL)
		return (tok_err_oom);
	for (i = 0; i < n; i++) {
		if (!json_is_string(json_array_get(g, i)))
			return (tok_err_claim);
		out->groups[i] = json_string_value(json_array_get(g, i));
	}
	out->ngroups = n;
	return (NULL);
}

static int
tok_fail(const char **why, const char *w)
{
	*why = w;
	return (-1);
}

int
token_verify(const char *tok, size_t len, size_t max_len,
    const struct token_issuer *iss, size_t niss, time_t now, long leeway,
    struct token_claims *out, const char **why)
{
	const struct token_issuer *is = NULL;
	const struct jwks_key *k;
	unsigned char	*sig;
	size_t		 siglen, i, cut[2];
	json_t		*j;
	int		 es256, ok, present;
	const char	*w;

	memset(out, 0, sizeof(*out));
	if (len > max_len)
		return (tok_fail(why, tok_err_size));
	if (token_decode(tok, len, out, why) != 0)
		return (-1);
	(void)tok_split(tok, len, cut);

	/* Header: alg, kid, no crit. */
	j = json_object_get(out->header, "alg");
	if (!json_is_string(j))
		return (tok_fail(why, tok_err_alg));
	out->alg = json_string_value(j);
	if (strcmp(out->alg, "RS256") == 0)
		es256 = 0;
	else if (strcmp(out->alg, "ES256") == 0)
		es256 = 1;
	else
		return (tok_fail(why, tok_err_alg));
	if (json_object_get(out->header, "crit") != NULL)
		return (tok_fail(why, tok_err_crit));
	j = json_object_get(out->header, "kid");
	if (!json_is_string(j) || json_string_length(j) == 0)
		return (tok_fail(why, tok_err_nokid));
	out->kid = json_string_value(j);

	/* Issuer, then its key for kid, bound to alg. */
	j = json_object_get(out->claims, "iss");
	if (!json_is_string(j))
		return (tok_fail(why, tok_err_iss));
	out->iss = json_string_value(j);
	for (i = 0; i < niss; i++)
		if (strcmp(iss[i].issuer, out->iss) == 0) {
			is = &iss[i];
			out->issuer_index = i;
			break;
		}
	if (is == NULL)
		return (tok_fail(why, tok_err_iss));
	if (is->keys == NULL)
		return (tok_fail(why, tok_err_nokeys));
	if ((k = jwks_find(is->keys, out->kid)) == NULL)
		return (tok_fail(why, tok_err_kid));
	if (k->kty != (es256 ? JWKS_EC_P256 : JWKS_RSA) ||
	    (k->alg != NULL && strcmp(k->alg, out->alg) != 0))
		return (tok_fail(why, tok_err_keyalg));

	/* Signature over the first two parts as sent. */
	if ((sig = token_b64url_decode(tok + cut[1] + 1, len - cut[1] - 1,
	    &siglen)) == NULL)
		return (tok_fail(why, tok_err_b64));
	ok = tok_sig_ok(k, es256, tok, cut[1], sig, siglen);
	free(sig);
	if (!ok)
		return (tok_fail(why, tok_err_sig));

	/* Times. */
	if (tok_time(out->claims, "exp", &out->exp, &present) != 0)
		return (tok_fail(why, tok_err_time));
	if (!present)
		return (tok_fail(why, tok_err_noexp));
	if (tok_time(out->claims, "nbf", &out->nbf, &present) != 0 ||
	    tok_time(out->claims, "iat", &out->iat, &present) != 0)
		return (tok_fail(why, tok_err_time));
	if ((int64_t)now - leeway >= out->exp)
		return (tok_fail(why, tok_err_exp));
	if (out->nbf > (int64_t)now + leeway)
		return (tok_fail(why, tok_err_nbf));
	if (out->iat > (int64_t)now + leeway)
		return (tok_fail(why, tok_err_iat));

	if (!tok_aud_ok(json_object_get(out->claims, "aud"), is))
		return (tok_fail(why, tok_err_aud));
	j = json_object_get(out->claims, "sub");
	if (!json_is_string(j) || json_string_length(j) == 0)
		return (tok_fail(why, tok_err_sub));
	out->sub = json_string_value(j);
	if (!tok_ver_ok(json_object_get(out->claims, "wlcg.ver")))
		return (tok_fail(why, tok_err_ver));
	if ((w = tok_extras(out)) != NULL)
		return (tok_fail(why, w));
	return (0);
}

/* One granted scope g covers wanted w (WLCG profile 4.3). */
static int
tok_scope_covers(const char *g, size_t glen, const char *w)
{
	const char	*gc = memchr(g, ':', glen), *wc = strchr(w, ':');
	size_t		 gp, wl = strlen(w);

	if (gc == NULL || wc == NULL)
		return (glen == wl && memcmp(g, w, glen) == 0);
	if (gc - g != wc - w || memcmp(g, w, (size_t)(gc - g)) != 0)
		return (0);
	/* Path part: granted path a prefix of the wanted one at a '/'. */
	gc++;
	wc++;
	gp = glen - (size_t)(gc - g);
	while (gp > 1 && gc[gp - 1] == '/')
		gp--;
	if (strncmp(wc, gc, gp) != 0)
		return (0);
	return (gp == 1 && gc[0] == '/') || wc[gp] == '\0' || wc[gp] == '/';
}

int
token_scope_match(const char *scope, const char *const *want, size_t nwant)
{
	const char	*p, *e;
	size_t		 i;

	if (scope == NULL)
		return (0);
	for (p = scope; *p != '\0'; p = e) {
		while (*p == ' ')
			p++;
		for (e = p; *e != '\0' && *e != ' '; e++)
			;
		if (e == p)
			break;
		for (i = 0; i < nwant; i++)
			if (tok_scope_covers(p, (size_t)(e - p), want[i]))
				return (1);
	}
	return (0);
}

int
token_group_match(const char *const *groups, size_t ngroups,
    const char *const *want, size_t nwant)
{
	size_t		 i, j, len;

	for (i = 0; i < nwant; i++) {
		len = strlen(want[i]);
		while (len > 1 && want[i][len - 1] == '/')
			len--;
		for (j = 0; j < ngroups; j++)
			if (strncmp(groups[j], want[i], len) == 0 &&
			    (groups[j][len] == '\0' || groups[j][len] == '/'))
				return (1);
	}
	return (0);
}
