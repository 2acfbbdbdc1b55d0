/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * Unit tests for auth/token.c and auth/jwks.c: strict base64url and JSON,
 * key-set loading, and token verification with RSA and EC keys generated
 * at test time with OpenSSL and tokens signed here, including the hostile
 * cases of issue 14 (alg none, HS256 signed with the RSA public key,
 * padded base64, duplicate keys, odd exp values, nesting bombs, path-like
 * kid, a 10,000-entry aud, the size limit to the byte).
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include <sys/stat.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <unistd.h>

#include "auth/auth.h"
#include "auth/jwks.h"
#include "auth/token.h"
#include "conf/conf.h"

#define ISS	"https://cms-auth.cern.ch/"
#define AUD	"cmsweb"
#define NOW	((time_t)1800000000)

static EVP_PKEY	*rsa, *ec, *rsa_other;
static struct jwks *keys;
static const char *auds[] = { AUD, "https://wlcg.cern.ch/jwt/v1/any" };
static struct token_issuer issuers[2];

static char *
b64url(const unsigned char *in, size_t len)
{
	static const char a[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	char		*out = malloc(len * 4 / 3 + 4), *o = out;
	size_t		 i;
	uint32_t	 acc = 0;
	int		 bits = 0;

	for (i = 0; i < len; i++) {
		acc = (acc << 8) | in[i];
		bits += 8;
		while (bits >= 6) {
			bits -= 6;
			*o++ = a[(acc >> bits) & 63];
		}
	}
	if (bits > 0)
		*o++ = a[(acc << (6 - bits)) & 63];
	*o = '\0';
	return (out);
}

static char *
b64s(const char *s)
{
	return (b64url((const unsigned char *)s, strlen(s)));
}

static char *
bnb64(const EVP_PKEY *pk, const char *name, int pad)
{
	BIGNUM		*bn = NULL;
	unsigned char	 buf[1024];
	int		 n;

	assert_int_equal(EVP_PKEY_get_bn_param(pk, name, &bn), 1);
	n = pad > 0 ? BN_bn2binpad(bn, buf, pad) : BN_bn2bin(bn, buf);
	BN_free(bn);
	return (b64url(buf, (size_t)n));
}

/* A JWK object for pk (public part) with kid. */
static char *
jwk(const EVP_PKEY *pk, const char *kid)
{
	char		*a, *b, *out = malloc(2048);

	if (EVP_PKEY_is_a(pk, "RSA")) {
		a = bnb64(pk, OSSL_PKEY_PARAM_RSA_N, 0);
		b = bnb64(pk, OSSL_PKEY_PARAM_RSA_E, 0);
		snprintf(out, 2048, "{\"kty\":\"RSA\",\"kid\":\"%s\",\"use\":"
		    "\"sig\",\"alg\":\"RS256\",\"n\":\"%s\",\"e\":\"%s\"}", kid,
		    a, b);
	} else {
		a = bnb64(pk, OSSL_PKEY_PARAM_EC_PUB_X, 32);
		b = bnb64(pk, OSSL_PKEY_PARAM_EC_PUB_Y, 32);
		snprintf(out, 2048, "{\"kty\":\"EC\",\"kid\":\"%s\",\"crv\":"
		    "\"P-256\",\"x\":\"%s\",\"y\":\"%s\"}", kid, a, b);
	}
	free(a);
	free(b);
	return (out);
}

/* header.payload.signature, signed with pk (RS256 or ES256 by type). */
static char *
sign_parts(const char *h64, const char *p64, EVP_PKEY *pk)
{
	EVP_MD_CTX	*md = EVP_MD_CTX_new();
	char		*in, *sig64, *out;
	unsigned char	 sig[1024], raw[64];
	const unsigned char *sp = sig;
	size_t		 siglen = sizeof(sig), inlen;

	inlen = strlen(h64) + 1 + strlen(p64);
	in = malloc(inlen + 1);
	snprintf(in, inlen + 1, "%s.%s", h64, p64);
	assert_int_equal(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, pk),
	    1);
	assert_int_equal(EVP_DigestSign(md, sig, &siglen,
	    (unsigned char *)in, inlen), 1);
	EVP_MD_CTX_free(md);
	if (EVP_PKEY_is_a(pk, "EC")) {
		ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &sp, (long)siglen);

		BN_bn2binpad(ECDSA_SIG_get0_r(es), raw, 32);
		BN_bn2binpad(ECDSA_SIG_get0_s(es), raw + 32, 32);
		ECDSA_SIG_free(es);
		sig64 = b64url(raw, 64);
	} else
		sig64 = b64url(sig, siglen);
	out = malloc(inlen + strlen(sig64) + 2);
	sprintf(out, "%s.%s", in, sig64);
	free(in);
	free(sig64);
	return (out);
}

static char *
mk(const char *header, const char *claims, EVP_PKEY *pk)
{
	char	*h = b64s(header), *p = b64s(claims), *t;

	t = sign_parts(h, p, pk);
	free(h);
	free(p);
	return (t);
}

/* Standard claims with one field replaced/added by extra (JSON members,
 * no braces). */
static char *
claims(const char *extra)
{
	static char	 buf[4096];

	snprintf(buf, sizeof(buf), "{\"iss\":\"" ISS "\",\"sub\":\"u-1\","
	    "\"aud\":\"" AUD "\",\"iat\":%lld,\"nbf\":%lld,\"exp\":%lld%s%s}",
	    (long long)NOW - 10, (long long)NOW - 10, (long long)NOW + 600,
	    extra[0] != '\0' ? "," : "", extra);
	return (buf);
}

static const char *
verify(const char *tok, size_t max)
{
	struct token_claims c;
	const char	*why = NULL;
	int		 r;

	r = token_verify(tok, strlen(tok), max, issuers, 2, NOW, 60, &c, &why);
	token_claims_free(&c);
	return (r == 0 ? "ok" : why);
}

#define RSH	"{\"alg\":\"RS256\",\"kid\":\"r1\",\"typ\":\"JWT\"}"
#define ESH	"{\"alg\":\"ES256\",\"kid\":\"e1\"}"

static int
setup(void **state)
{
	char		*j1, *j2, buf[8192];
	char		 err[200];

	(void)state;
	rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	rsa_other = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	if (rsa == NULL || ec == NULL || rsa_other == NULL)
		return (-1);
	j1 = jwk(rsa, "r1");
	j2 = jwk(ec, "e1");
	snprintf(buf, sizeof(buf), "{\"keys\":[%s,%s,{\"kty\":\"oct\","
	    "\"k\":\"AAAA\"}]}", j1, j2);
	free(j1);
	free(j2);
	if ((keys = jwks_parse(buf, strlen(buf), err, sizeof(err))) == NULL) {
		fprintf(stderr, "jwks: %s\n", err);
		return (-1);
	}
	issuers[0].issuer = "https://other.example/";
	issuers[0].keys = NULL;
	issuers[0].audiences = auds;
	issuers[0].naudiences = 1;
	issuers[1].issuer = ISS;
	issuers[1].keys = keys;
	issuers[1].audiences = auds;
	issuers[1].naudiences = 2;
	return (0);
}

static int
teardown(void **state)
{
	(void)state;
	jwks_free(keys);
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(rsa_other);
	EVP_PKEY_free(ec);
	return (0);
}

static void
test_b64url(void **state)
{
	unsigned char	*d;
	size_t		 n;

	(void)state;
	d = token_b64url_decode("QQ", 2, &n);
	assert_non_null(d);
	assert_int_equal(n, 1);
	assert_int_equal(d[0], 'A');
	free(d);
	d = token_b64url_decode("-_8", 3, &n);
	assert_non_null(d);
	assert_int_equal(n, 2);
	free(d);
	assert_null(token_b64url_decode("QQ==", 4, &n));
	assert_null(token_b64url_decode("QR", 2, &n));	/* trailing bits */
	assert_null(token_b64url_decode("Q", 1, &n));
	assert_null(token_b64url_decode("Q Q", 3, &n));
	assert_null(token_b64url_decode("QQ\n", 3, &n));
	assert_null(token_b64url_decode("+/8", 3, &n));	/* std alphabet */
}

/* Every length 0..99 of varied bytes decodes back from OpenSSL's base64
 * turned into base64url; every non-alphabet byte is refused wherever it
 * stands; 3-character tails with stray bits are refused. */
static void
test_b64url_roundtrip(void **state)
{
	unsigned char	 raw[100], enc[200], *d;
	char		 bad[9];
	size_t		 len, n, i, el;
	int		 c, pos;

	(void)state;
	for (i = 0; i < sizeof(raw); i++)
		raw[i] = (unsigned char)(i * 151 + 7);
	for (len = 0; len < sizeof(raw); len++) {
		el = (size_t)EVP_EncodeBlock(enc, raw, (int)len);
		while (el > 0 && enc[el - 1] == '=')
			el--;
		for (i = 0; i < el; i++)
			enc[i] = enc[i] == '+' ? '-' : enc[i] == '/' ? '_' :
			    enc[i];
		d = token_b64url_decode((const char *)enc, el, &n);
		assert_non_null(d);
		assert_int_equal(n, len);
		assert_memory_equal(d, raw, len);
		free(d);
	}
	for (c = 0; c < 256; c++) {
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_')
			continue;
		for (pos = 0; pos < 6; pos++) {
			memcpy(bad, "QUJDRA", 7);	/* "ABCD" */
			bad[pos] = (char)c;
			assert_null(token_b64url_decode(bad, 6, &n));
		}
	}
	d = token_b64url_decode("QUJDRA", 6, &n);
	assert_non_null(d);
	assert_int_equal(n, 4);
	assert_memory_equal(d, "ABCD", 4);
	free(d);
	d = token_b64url_decode("QUI", 3, &n);	/* "AB" */
	assert_non_null(d);
	assert_int_equal(n, 2);
	free(d);
	assert_null(token_b64url_decode("QUJ", 3, &n));
	assert_null(token_b64url_decode("QUJDRB", 6, &n));
}

static void
test_json_strict(void **state)
{
	json_t		*j;
	char		 bomb[200];
	int		 i;

	(void)state;
	j = token_json_load("{\"a\":[1,{\"b\":2}]}", 17, 16);
	assert_non_null(j);
	json_decref(j);
	assert_null(token_json_load("{\"a\":1,\"a\":2}", 13, 16));
	assert_null(token_json_load("{\"a\":\"x\\u0000\"}", 15, 16));
	assert_null(token_json_load("{\"a\":\"\xff\"}", 9, 16));
	for (i = 0; i < 100; i++)
		bomb[i] = '[';
	for (i = 0; i < 100; i++)
		bomb[100 + i] = ']';
	assert_null(token_json_load(bomb, 200, 16));
	/* Brackets inside strings do not count. */
	j = token_json_load("{\"a\":\"[[[[[[[[[[[[[[[[[[[[\"}", 28, 4);
	assert_non_null(j);
	json_decref(j);
}

static void
test_jwks_load(void **state)
{
	char		 err[200], buf[8192], *j1;
	struct jwks	*s;

	(void)state;
	assert_int_equal(keys->nkeys, 2);
	assert_int_equal(keys->skipped, 1);
	assert_non_null(jwks_find(keys, "r1"));
	assert_null(jwks_find(keys, "r2"));
	/* Each key comes with its ready verify context (jwks.h). */
	assert_non_null(keys->keys[0].vctx);
	assert_non_null(keys->keys[1].vctx);

	j1 = jwk(rsa, "r1");
	snprintf(buf, sizeof(buf), "{\"keys\":[%s,%s]}", j1, j1);
	assert_null(jwks_parse(buf, strlen(buf), err, sizeof(err)));
	assert_non_null(strstr(err, "duplicate kid"));
	snprintf(buf, sizeof(buf), "{\"keys\":[%s],\"keys\":[]}", j1);
	assert_null(jwks_parse(buf, strlen(buf), err, sizeof(err)));
	free(j1);
	/* Off-curve EC point. */
	snprintf(buf, sizeof(buf), "{\"keys\":[{\"kty\":\"EC\",\"kid\":\"x\","
	    "\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\"}]}",
	    "AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
	    "AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
	assert_null(jwks_parse(buf, strlen(buf), err, sizeof(err)));
	/* Small RSA modulus. */
	snprintf(buf, sizeof(buf), "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"x\","
	    "\"n\":\"AQAB\",\"e\":\"AQAB\"}]}");
	assert_null(jwks_parse(buf, strlen(buf), err, sizeof(err)));
	assert_non_null(strstr(err, "2048"));
	/* RSA key labelled ES256. */
	j1 = jwk(rsa, "r1");
	*strstr(j1, "RS256") = 'E';
	snprintf(buf, sizeof(buf), "{\"keys\":[%s]}", j1);
	free(j1);
	assert_null(jwks_parse(buf, strlen(buf), err, sizeof(err)));
	assert_null(jwks_parse("{\"keys\":[", 9, err, sizeof(err)));
	s = jwks_parse("{\"keys\":[]}", 11, err, sizeof(err));
	assert_non_null(s);
	jwks_free(s);
}

static void
test_good(void **state)
{
	struct token_claims c;
	const char	*why;
	char		*t;

	(void)state;
	t = mk(RSH, claims("\"scope\":\"storage.read:/store openid\","
	    "\"wlcg.groups\":[\"/cms\",\"/cms/production\"],"
	    "\"wlcg.ver\":\"1.0\""), rsa);
	assert_int_equal(token_verify(t, strlen(t), 8000, issuers, 2, NOW, 60,
	    &c, &why), 0);
	assert_string_equal(c.sub, "u-1");
	assert_string_equal(c.iss, ISS);
	assert_int_equal(c.issuer_index, 1);
	assert_int_equal(c.ngroups, 2);
	assert_string_equal(c.scope, "storage.read:/store openid");
	token_claims_free(&c);
	free(t);
	t = mk(ESH, claims("\"aud\":[\"x\",\"" AUD "\"]"), ec);
	/* A second aud member: duplicate key, refused. */
	assert_string_equal(verify(t, 8000), "bad JSON");
	free(t);
	t = mk(ESH, "{\"iss\":\"" ISS "\",\"sub\":\"s\",\"exp\":1800000100,"
	    "\"aud\":[\"x\",\"" AUD "\"]}", ec);
	assert_string_equal(verify(t, 8000), "ok");
	free(t);
}

static void
test_times(void **state)
{
	char		*t;
	char		 c[200];

	(void)state;
	snprintf(c, sizeof(c), "{\"iss\":\"" ISS "\",\"sub\":\"s\","
	    "\"aud\":\"" AUD "\",\"exp\":%lld}", (long long)NOW - 61);
	t = mk(RSH, c, rsa);
	assert_string_equal(verify(t, 8000), "expired");
	free(t);
	snprintf(c, sizeof(c), "{\"iss\":\"" ISS "\",\"sub\":\"s\","
	    "\"aud\":\"" AUD "\",\"exp\":%lld}", (long long)NOW - 59);
	t = mk(RSH, c, rsa);
	assert_string_equal(verify(t, 8000), "ok");	/* leeway */
	free(t);
	t = mk(RSH, claims("\"nbf\":1800000061"), rsa);
	assert_string_equal(verify(t, 8000), "bad JSON");	/* dup nbf */
	free(t);
	snprintf(c, sizeof(c), "{\"iss\":\"" ISS "\",\"sub\":\"s\","
	    "\"aud\":\"" AUD "\",\"exp\":%lld,\"nbf\":%lld}",
	    (long long)NOW + 900, (long long)NOW + 61);
	t = mk(RSH, c, rsa);
	assert_string_equal(verify(t, 8000), "not yet valid");
	free(t);
	snprintf(c, sizeof(c), "{\"iss\":\"" ISS "\",\"sub\":\"s\","
	    "\"aud\":\"" AUD "\",\"exp\":%lld,\"iat\":%lld}",
	    (long long)NOW + 900, (long long)NOW + 61);
	t = mk(RSH, c, rsa);
	assert_string_equal(verify(t, 8000), "issued in the future");
	free(t);
	t = mk(RSH, "{\"iss\":\"" ISS "\",\"sub\":\"s\",\"aud\":\"" AUD "\"}",
	    rsa);
	assert_string_equal(verify(t, 8000), "missing exp");
	free(t);
	/* exp as a string, a float, past 2^53, past int64, negative. */
	t = mk(RSH, "{\"iss\":\"" ISS "\",\"sub\":\"s\",\"aud\":\"" AUD "\","
	    "\"exp\":\"1900000000\"}", rsa);
	assert_string_equal(verify(t, 8000), "bad time claim");
	free(t);
	t = mk(RSH, "{\"iss\":\"" ISS "\",\"sub\":\"s\",\"aud\":\"" AUD "\","
	    "\"exp\":1900000000.5}", rsa);
	assert_string_equal(verify(t, 8000), "bad time claim");
	free(t);
	t = mk(RSH, "{\"iss\":\"" ISS "\",\"sub\":\"s\",\"aud\":\"" AUD "\","
	    "\"exp\":9007199254740993}", rsa);
	assert_string_equal(verify(t, 8000), "bad time claim");
	free(t);
	t = mk(RSH, "{\"iss\":\"" ISS "\",\"sub\":\"s\",\"aud\":\"" AUD "\","
	    "\"exp\":99999999999999999999999}", rsa);
	assert_string_equal(verify(t, 8000), "bad JSON");
	free(t);
	t = mk(RSH, "{\"iss\":\"" ISS "\",\"sub\":\"s\",\"aud\":\"" AUD "\","
	    "\"exp\":-5}", rsa);
	assert_string_equal(verify(t, 8000), "bad time claim");
	free(t);
}

static void
test_claims(void **state)
{
	char		*t, *big;
	size_t		 i, o;

	(void)state;
	t = mk(RSH, "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\","
	    "\"exp\":1900000000}", rsa);
	assert_string_equal(verify(t, 8000), "missing subject");
	free(t);
	t = mk(RSH, "{\"iss\":\"" ISS "\",\"sub\":\"s\",\"aud\":\"CMSWEB\","
	    "\"exp\":1900000000}", rsa);
	assert_string_equal(verify(t, 8000), "wrong audience");
	free(t);
	t = mk(RSH, "{\"iss\":\"" ISS "\",\"sub\":\"s\","
	    "\"exp\":1900000000}", rsa);
	assert_string_equal(verify(t, 8000), "wrong audience");
	free(t);
	t = mk(RSH, "{\"iss\":\"https://cms-auth.cern.ch\",\"sub\":\"s\","
	    "\"aud\":\"" AUD "\",\"exp\":1900000000}", rsa);
	assert_string_equal(verify(t, 8000), "unknown issuer");
	free(t);
	t = mk(RSH, "{\"iss\":\"https://other.example/\",\"sub\":\"s\","
	    "\"aud\":\"" AUD "\",\"exp\":1900000000}", rsa);
	assert_string_equal(verify(t, 8000), "issuer keys not loaded");
	free(t);
	t = mk(RSH, claims("\"wlcg.ver\":\"2.0\""), rsa);
	assert_string_equal(verify(t, 8000), "unsupported wlcg.ver");
	free(t);
	t = mk(RSH, claims("\"wlcg.groups\":\"/cms\""), rsa);
	assert_string_equal(verify(t, 8000), "bad claim type");
	free(t);
	/* aud array of 10,000 entries, the right one last. */
	big = malloc(200000);
	o = (size_t)sprintf(big, "{\"iss\":\"" ISS "\",\"sub\":\"s\","
	    "\"exp\":1900000000,\"aud\":[");
	for (i = 0; i < 9999; i++)
		o += (size_t)sprintf(big + o, "\"a%zu\",", i);
	sprintf(big + o, "\"" AUD "\"]}");
	t = mk(RSH, big, rsa);
	free(big);
	assert_string_equal(verify(t, 8000), "token too large");
	assert_string_equal(verify(t, 1000000), "wrong audience");
	free(t);
}

static void
test_hostile(void **state)
{
	char		*t, *h, *p, *pem, *sig64, in[8192], *tok;
	unsigned char	 mac[32];
	unsigned int	 maclen = sizeof(mac);
	BIO		*bio;
	long		 pemlen;
	size_t		 n;

	(void)state;
	/* alg none, with and without a signature part. */
	h = b64s("{\"alg\":\"none\",\"kid\":\"r1\"}");
	p = b64s(claims(""));
	snprintf(in, sizeof(in), "%s.%s.", h, p);
	assert_string_equal(verify(in, 8000), "malformed token");
	snprintf(in, sizeof(in), "%s.%s.AAAA", h, p);
	assert_string_equal(verify(in, 8000), "unsupported algorithm");
	free(h);
	/* HS256 keyed with the RSA public key's PEM (alg confusion). */
	h = b64s("{\"alg\":\"HS256\",\"kid\":\"r1\"}");
	bio = BIO_new(BIO_s_mem());
	PEM_write_bio_PUBKEY(bio, rsa);
	pemlen = BIO_get_mem_data(bio, &pem);
	snprintf(in, sizeof(in), "%s.%s", h, p);
	HMAC(EVP_sha256(), pem, (int)pemlen, (unsigned char *)in, strlen(in),
	    mac, &maclen);
	BIO_free(bio);
	sig64 = b64url(mac, maclen);
	n = strlen(in);
	snprintf(in + n, sizeof(in) - n, ".%s", sig64);
	assert_string_equal(verify(in, 8000), "unsupported algorithm");
	free(sig64);
	free(h);
	/* RS256 header naming the EC key; ES256 naming the RSA key. */
	t = mk("{\"alg\":\"RS256\",\"kid\":\"e1\"}", claims(""), rsa);
	assert_string_equal(verify(t, 8000), "key does not match algorithm");
	free(t);
	t = mk("{\"alg\":\"ES256\",\"kid\":\"r1\"}", claims(""), ec);
	assert_string_equal(verify(t, 8000), "key does not match algorithm");
	free(t);
	/* Signed by another key; a payload swapped after signing. */
	t = mk(RSH, claims(""), rsa_other);
	assert_string_equal(verify(t, 8000), "bad signature");
	free(t);
	t = mk(RSH, claims(""), rsa);
	tok = strchr(t, '.') + 1;
	h = b64s(claims("\"x\":1"));
	snprintf(in, sizeof(in), "%.*s.%s%s", (int)(tok - t - 1), t, h,
	    strchr(tok, '.'));
	free(h);
	assert_string_equal(verify(in, 8000), "bad signature");
	/* Padded signature, padded payload. */
	snprintf(in, sizeof(in), "%s==", t);
	assert_string_equal(verify(in, 8000), "bad base64url");
	free(t);
	snprintf(in, sizeof(in), "%s", claims(""));
	h = b64s(RSH);
	free(p);
	p = b64s(in);
	snprintf(in, sizeof(in), "%s.%s=.AAAA", h, p);
	assert_string_equal(verify(in, 8000), "bad base64url");
	free(h);
	free(p);
	/* Duplicate keys in the header. */
	t = mk("{\"alg\":\"RS256\",\"alg\":\"none\",\"kid\":\"r1\"}",
	    claims(""), rsa);
	assert_string_equal(verify(t, 8000), "bad JSON");
	free(t);
	/* crit; missing kid; kid with path characters. */
	t = mk("{\"alg\":\"RS256\",\"kid\":\"r1\",\"crit\":[\"exp\"]}",
	    claims(""), rsa);
	assert_string_equal(verify(t, 8000), "critical header not supported");
	free(t);
	t = mk("{\"alg\":\"RS256\"}", claims(""), rsa);
	assert_string_equal(verify(t, 8000), "missing kid");
	free(t);
	t = mk("{\"alg\":\"RS256\",\"kid\":\"../../../etc/passwd\"}",
	    claims(""), rsa);
	assert_string_equal(verify(t, 8000), "unknown key");
	free(t);
	/* A nesting bomb in the claims. */
	n = (size_t)sprintf(in, "{\"iss\":\"" ISS "\",\"x\":");
	memset(in + n, '[', 500);
	memset(in + n + 500, ']', 500);
	strcpy(in + n + 1000, "}");
	t = mk(RSH, in, rsa);
	assert_string_equal(verify(t, 8000), "bad JSON");
	free(t);
	/* Two, four parts; empty token. */
	assert_string_equal(verify("a.b", 8000), "malformed token");
	assert_string_equal(verify("a.b.c.d", 8000), "malformed token");
	assert_string_equal(verify("", 8000), "malformed token");
}

static void
test_size_limit(void **state)
{
	char		*t;
	size_t		 len;

	(void)state;
	t = mk(RSH, claims(""), rsa);
	len = strlen(t);
	assert_string_equal(verify(t, len), "ok");
	assert_string_equal(verify(t, len - 1), "token too large");
	free(t);
}

static void
test_scope_group(void **state)
{
	const char	*w1[] = { "storage.read:/store/user" };
	const char	*w2[] = { "storage.read:/" };
	const char	*w3[] = { "compute.create" };
	const char	*g[] = { "/cms", "/cms/production" };
	const char	*gw1[] = { "/cms/production/" };
	const char	*gw2[] = { "/cms/prod" };

	(void)state;
	assert_true(token_scope_match("openid storage.read:/", w1, 1));
	assert_true(token_scope_match("storage.read:/store", w1, 1));
	assert_true(token_scope_match("storage.read:/store/user", w1, 1));
	assert_false(token_scope_match("storage.read:/sto", w1, 1));
	assert_false(token_scope_match("storage.read:/store/user2", w1, 1));
	assert_false(token_scope_match("storage.create:/", w1, 1));
	assert_false(token_scope_match("storage.read:/store", w2, 1));
	assert_true(token_scope_match("a  compute.create", w3, 1));
	assert_false(token_scope_match("compute.create2", w3, 1));
	assert_false(token_scope_match(NULL, w3, 1));
	assert_true(token_group_match(g, 2, gw1, 1));
	assert_false(token_group_match(g, 2, gw2, 1));
	assert_false(token_group_match(g, 1, gw1, 1));
}

/* ---- The decision (auth_token_decide) on a real auth context ---- */

static char	 dir[] = "/tmp/test_auth_token.XXXXXX";
static char	 jwks_path[128], map_path[128], key_path[128];
static struct auth_ctx *actx;
static struct conf_token_issuer cissuers[3];
static char	*caud[] = { AUD };

static void
write_file(const char *path, const char *data)
{
	FILE	*fp = fopen(path, "w");

	assert_non_null(fp);
	fputs(data, fp);
	fclose(fp);
}

static void
write_jwks(EVP_PKEY *pk, const char *kid)
{
	char		 buf[4096], tmp[160], *j = jwk(pk, kid);

	snprintf(buf, sizeof(buf), "{\"keys\":[%s]}", j);
	free(j);
	/* Atomic replace, as the fetcher does; a new inode is a change. */
	snprintf(tmp, sizeof(tmp), "%s.new", jwks_path);
	write_file(tmp, buf);
	assert_int_equal(rename(tmp, jwks_path), 0);
}

static int
ctx_setup(void **state)
{
	struct conf_auth ac;
	char		 err[512], users[256];
	const char	*pki = getenv("PKI_DIR");
	int		 fd;

	(void)state;
	if (setup(state) != 0 || mkdtemp(dir) == NULL)
		return (-1);
	if (pki == NULL)
		pki = "build/pki";
	snprintf(jwks_path, sizeof(jwks_path), "%s/jwks.json", dir);
	snprintf(map_path, sizeof(map_path), "%s/subjects.json", dir);
	snprintf(key_path, sizeof(key_path), "%s/hmac.key", dir);
	write_jwks(rsa, "r1");
	write_file(map_path, "{\"iam-sub-1\":\"jdoe\"}");
	if ((fd = open(key_path, O_WRONLY | O_CREAT, 0600)) == -1 ||
	    write(fd, "k3y", 3) != 3)
		return (-1);
	close(fd);
	snprintf(users, sizeof(users), "tests/fixtures/cric/users-good.json");
	/* Three issuers, one per identity mode, sharing one key set. */
	cissuers[0].issuer = ISS;
	cissuers[0].from = CONF_TOKEN_FROM_CLAIM;
	cissuers[0].claim = "preferred_username";
	cissuers[1].issuer = "https://auth.cern.ch/auth/realms/cern";
	cissuers[1].from = CONF_TOKEN_FROM_CERN_PERSON_ID;
	cissuers[1].claim = "cern_person_id";
	cissuers[2].issuer = "https://iam.example/";
	cissuers[2].from = CONF_TOKEN_FROM_SUBJECT_MAP;
	cissuers[2].map_file = map_path;
	for (int i = 0; i < 3; i++) {
		cissuers[i].jwks = jwks_path;
		cissuers[i].audiences = caud;
		cissuers[i].naudiences = 1;
	}
	memset(&ac, 0, sizeof(ac));
	ac.ca_path = malloc(256);
	snprintf(ac.ca_path, 256, "%s/certificates", pki);
	ac.verify_depth = 10;
	ac.users = users;
	ac.hmac_key = key_path;
	ac.authn_method = "X509Cert";
	ac.verify_cache_size = 10;
	ac.tokens.issuers = cissuers;
	ac.tokens.nissuers = 3;
	ac.tokens.leeway = 60000;
	ac.tokens.cache_size = 64;
	actx = auth_ctx_new(&ac, err, sizeof(err));
	free(ac.ca_path);
	if (actx == NULL) {
		fprintf(stderr, "auth_ctx_new: %s\n", err);
		return (-1);
	}
	return (0);
}

static int
ctx_teardown(void **state)
{
	char	 cmd[128];

	auth_ctx_free(actx);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	(void)system(cmd);
	return (teardown(state));
}

/* A token from iss with extra claims, valid now, signed by pk as kid. */
static char *
live(const char *iss, const char *kid, EVP_PKEY *pk, const char *extra)
{
	char		 h[128], c[1024];
	time_t		 now = time(NULL);

	snprintf(h, sizeof(h), "{\"alg\":\"%s\",\"kid\":\"%s\"}",
	    EVP_PKEY_is_a(pk, "EC") ? "ES256" : "RS256", kid);
	snprintf(c, sizeof(c), "{\"iss\":\"%s\",\"sub\":\"iam-sub-1\","
	    "\"aud\":\"" AUD "\",\"iat\":%lld,\"exp\":%lld%s%s}", iss,
	    (long long)now, (long long)now + 600, extra[0] ? "," : "", extra);
	return (mk(h, c, pk));
}

static struct conf_route *
route(enum conf_auth_mode mode)
{
	static struct conf_route r;

	memset(&r, 0, sizeof(r));
	r.auth = mode;
	return (&r);
}

static enum auth_result
decide(const char *tok, struct conf_route *r, struct auth_decision *d)
{
	return (auth_token_decide(actx, tok, tok != NULL ? strlen(tok) : 0,
	    NULL, r, NULL, d));
}

static void
test_decide_identity(void **state)
{
	struct auth_decision d;
	char		*t;

	(void)state;
	/* from: claim */
	t = live(ISS, "r1", rsa, "\"preferred_username\":\"jdoe\","
	    "\"scope\":\"storage.read:/\",\"wlcg.groups\":[\"/cms\",\"/cms/x\"]");
	assert_int_equal(decide(t, route(CONF_AUTH_TOKEN), &d), AUTH_OK);
	assert_string_equal(d.login, "jdoe");
	assert_string_equal(d.token_iss, ISS);
	assert_string_equal(d.token_sub, "iam-sub-1");
	assert_non_null(strstr(d.hdrs, "cms-authn-method: oauth\r\n"));
	assert_non_null(strstr(d.hdrs, "cms-authn-login: jdoe\r\n"));
	assert_non_null(strstr(d.hdrs, "cms-authn-token-issuer: " ISS "\r\n"));
	assert_non_null(strstr(d.hdrs, "cms-authn-token-groups: /cms,/cms/x"));
	assert_non_null(strstr(d.hdrs, "cms-authn-token-scope: "));
	assert_non_null(strstr(d.hdrs, "cms-authz-operator: "));
	assert_non_null(strstr(d.hdrs, "cms-authn-hmac: "));
	assert_null(strstr(d.hdrs, t));
	assert_null(strstr(d.hdrs, "cms-authz-token"));
	auth_decision_release(&d);
	free(t);
	/* from: cern_person_id: the first record of ID 654321. */
	t = live("https://auth.cern.ch/auth/realms/cern", "r1", rsa,
	    "\"cern_person_id\":654321");
	assert_int_equal(decide(t, route(CONF_AUTH_CERT_OR_TOKEN), &d),
	    AUTH_OK);
	assert_string_equal(d.login, "jmuller");
	assert_non_null(strstr(d.dn, "CN=654321"));
	auth_decision_release(&d);
	free(t);
	/* from: subject_map */
	t = live("https://iam.example/", "r1", rsa, "");
	assert_int_equal(decide(t, route(CONF_AUTH_OPTIONAL), &d), AUTH_OK);
	assert_string_equal(d.login, "jdoe");
	auth_decision_release(&d);
	free(t);
	/* A valid token of nobody in CRIC: 403, anonymous when optional. */
	t = live(ISS, "r1", rsa, "\"preferred_username\":\"nobody\"");
	assert_int_equal(decide(t, route(CONF_AUTH_TOKEN), &d), AUTH_DENY);
	assert_int_equal(d.status, 403);
	assert_string_equal(d.reason,
	    "token is valid but not linked to a CMS account");
	auth_decision_release(&d);
	assert_int_equal(decide(t, route(CONF_AUTH_OPTIONAL), &d), AUTH_ANON);
	auth_decision_release(&d);
	free(t);
}

static void
test_decide_errors(void **state)
{
	struct auth_decision d;
	struct conf_route *r;
	char		*t, *scopes[] = { "storage.create:/" };
	char		*groups[] = { "/cms/production" };

	(void)state;
	/* No credential: a bare challenge on token and cert_or_token. */
	assert_int_equal(decide(NULL, route(CONF_AUTH_TOKEN), &d), AUTH_DENY);
	assert_int_equal(d.status, 401);
	assert_true(d.bearer);
	assert_null(d.bearer_error);
	auth_decision_release(&d);
	assert_int_equal(decide(NULL, route(CONF_AUTH_CERT_OR_TOKEN), &d),
	    AUTH_DENY);
	assert_int_equal(d.status, 401);
	auth_decision_release(&d);
	/* optional without token: as for certificates (anonymous). */
	assert_int_equal(decide(NULL, route(CONF_AUTH_OPTIONAL), &d),
	    AUTH_ANON);
	auth_decision_release(&d);
	/* A bad token is 401 on optional routes too. */
	t = live(ISS, "r1", rsa_other, "\"preferred_username\":\"jdoe\"");
	assert_int_equal(decide(t, route(CONF_AUTH_OPTIONAL), &d), AUTH_DENY);
	assert_int_equal(d.status, 401);
	assert_string_equal(d.bearer_error, "invalid_token");
	assert_string_equal(d.reason, "bad signature");
	auth_decision_release(&d);
	free(t);
	/* Scope and group. */
	t = live(ISS, "r1", rsa, "\"preferred_username\":\"jdoe\","
	    "\"scope\":\"storage.read:/\",\"wlcg.groups\":[\"/cms\"]");
	r = route(CONF_AUTH_TOKEN);
	r->require_scope = scopes;
	r->nrequire_scope = 1;
	assert_int_equal(decide(t, r, &d), AUTH_DENY);
	assert_int_equal(d.status, 403);
	assert_string_equal(d.bearer_error, "insufficient_scope");
	assert_string_equal(d.bearer_scope, "storage.create:/");
	auth_decision_release(&d);
	r = route(CONF_AUTH_TOKEN);
	r->require_group = groups;
	r->nrequire_group = 1;
	assert_int_equal(decide(t, r, &d), AUTH_DENY);
	assert_int_equal(d.status, 403);
	auth_decision_release(&d);
	free(t);
}

static void
test_decide_rotation(void **state)
{
	struct auth_decision d;
	struct auth_token_stats st0, st1;
	const char	*hdrs1;
	char		*t1, *t2, log[1024];

	(void)state;
	t1 = live(ISS, "r1", rsa, "\"preferred_username\":\"jdoe\"");
	assert_int_equal(decide(t1, route(CONF_AUTH_TOKEN), &d), AUTH_OK);
	auth_decision_release(&d);
	auth_token_stats(actx, &st0);
	assert_int_equal(decide(t1, route(CONF_AUTH_TOKEN), &d), AUTH_OK);
	hdrs1 = d.hdrs;
	/* Released, but the cached entry keeps its block alive. */
	auth_decision_release(&d);
	assert_int_equal(decide(t1, route(CONF_AUTH_TOKEN), &d), AUTH_OK);
	/* A keep-alive request reuses the signed block: no new HMAC. */
	assert_ptr_equal(d.hdrs, hdrs1);
	auth_decision_release(&d);
	auth_token_stats(actx, &st1);
	assert_int_equal(st1.cache_hits, st0.cache_hits + 2);
	/* A new key set: a new kid works, the removed one stops working
	 * although its token was cached. */
	write_jwks(ec, "e2");
	assert_true(auth_ctx_refresh(actx, log, sizeof(log)) &
	    AUTH_RELOAD_TOKENS);
	assert_int_equal(decide(t1, route(CONF_AUTH_TOKEN), &d), AUTH_DENY);
	assert_string_equal(d.reason, "unknown key");
	auth_decision_release(&d);
	t2 = live(ISS, "e2", ec, "\"preferred_username\":\"jdoe\"");
	assert_int_equal(decide(t2, route(CONF_AUTH_TOKEN), &d), AUTH_OK);
	auth_decision_release(&d);
	/* A half-written file keeps the set in force, reported once. */
	write_file(jwks_path, "{\"keys\":[{\"kty\":\"EC\"");
	assert_true(auth_ctx_refresh(actx, log, sizeof(log)) &
	    AUTH_RELOAD_FAILED);
	assert_non_null(strstr(log, "keeping the previous one"));
	assert_int_equal(decide(t2, route(CONF_AUTH_TOKEN), &d), AUTH_OK);
	auth_decision_release(&d);
	write_jwks(rsa, "r1");
	assert_true(auth_ctx_refresh(actx, log, sizeof(log)) &
	    AUTH_RELOAD_TOKENS);
	assert_int_equal(decide(t1, route(CONF_AUTH_TOKEN), &d), AUTH_OK);
	auth_decision_release(&d);
	free(t1);
	free(t2);
}

/*
 * TOKEN_BENCH=N: a single-thread cold-verification microbenchmark (issue
 * 14): N distinct RS256 tokens signed beforehand, each verified once by
 * token_verify() (no cache), timed; prints verifications per second, to
 * compare with `openssl speed rsa2048` verify/s on the same core.  The
 * rate is per CPU second of this process, as openssl speed counts user
 * CPU time by default: on a shared machine wall time measures the
 * neighbours (the wall-clock rate is printed too).
 */
static int
bench(long n)
{
	char		**t = calloc((size_t)n, sizeof(char *)), c[256];
	struct timespec	 a, b, ca, cb;
	double		 secs, cpu;
	long		 i, ok = 0;

	if (t == NULL || setup(NULL) != 0)
		return (1);
	for (i = 0; i < n; i++) {
		snprintf(c, sizeof(c), "{\"iss\":\"" ISS "\",\"sub\":\"u%ld\","
		    "\"aud\":\"" AUD "\",\"exp\":%lld}", i,
		    (long long)NOW + 600);
		t[i] = mk(RSH, c, rsa);
	}
	clock_gettime(CLOCK_MONOTONIC, &a);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ca);
	for (i = 0; i < n; i++)
		ok += strcmp(verify(t[i], 8000), "ok") == 0;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cb);
	clock_gettime(CLOCK_MONOTONIC, &b);
	secs = (double)(b.tv_sec - a.tv_sec) +
	    (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	cpu = (double)(cb.tv_sec - ca.tv_sec) +
	    (double)(cb.tv_nsec - ca.tv_nsec) / 1e9;
	printf("token_verify RS256 cold: %ld tokens (%ld ok) in %.3f CPU s "
	    "(%.3f s wall, %.0f/s): %.0f verifications/s\n", n, ok, cpu,
	    secs, (double)n / secs, (double)n / cpu);
	for (i = 0; i < n; i++)
		free(t[i]);
	free(t);
	(void)teardown(NULL);
	return (ok == n ? 0 : 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_b64url),
		cmocka_unit_test(test_b64url_roundtrip),
		cmocka_unit_test(test_json_strict),
		cmocka_unit_test(test_jwks_load),
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_times),
		cmocka_unit_test(test_claims),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_size_limit),
		cmocka_unit_test(test_scope_group),
	};

	const struct CMUnitTest dtests[] = {
		cmocka_unit_test(test_decide_identity),
		cmocka_unit_test(test_decide_errors),
		cmocka_unit_test(test_decide_rotation),
	};

	if (getenv("TOKEN_BENCH") != NULL)
		return (bench(atol(getenv("TOKEN_BENCH"))));
	if (cmocka_run_group_tests(tests, setup, teardown) != 0)
		return (1);
	return (cmocka_run_group_tests(dtests, ctx_setup, ctx_teardown));
}
