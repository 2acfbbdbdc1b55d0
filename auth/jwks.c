/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * Loading JSON Web Key Sets (jwks.h): strict JSON through token.c's
 * parser, then each RSA or EC P-256 key built into an EVP_PKEY with
 * OpenSSL 3's fromdata interface (which checks that an EC point is on the
 * curve).  The whole file is refused on any malformed key of a type we
 * use, so a bad or half-written file never half-replaces a set.
 */

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

#include "auth/jwks.h"
#include "auth/token.h"

void
jwks_free(struct jwks *s)
{
	size_t		 i;

	if (s == NULL)
		return;
	for (i = 0; i < s->nkeys; i++) {
		free(s->keys[i].kid);
		free(s->keys[i].alg);
		EVP_PKEY_CTX_free(s->keys[i].vctx);
		EVP_PKEY_free(s->keys[i].pkey);
	}
	free(s->keys);
	free(s);
}

const struct jwks_key *
jwks_find(const struct jwks *s, const char *kid)
{
	size_t		 i;

	if (s == NULL || kid == NULL)
		return (NULL);
	for (i = 0; i < s->nkeys; i++)
		if (strcmp(s->keys[i].kid, kid) == 0)
			return (&s->keys[i]);
	return (NULL);
}

/* A base64url member of k as a big-endian byte string, or NULL. */
static unsigned char *
jwks_member(json_t *k, const char *name, size_t *len)
{
	json_t		*j = json_object_get(k, name);

	if (!json_is_string(j))
		return (NULL);
	return (token_b64url_decode(json_string_value(j),
	    json_string_length(j), len));
}

static EVP_PKEY *
jwks_fromdata(const char *type, OSSL_PARAM_BLD *bld)
{
	OSSL_PARAM	*params = NULL;
	EVP_PKEY_CTX	*pc = NULL;
	EVP_PKEY	*pk = NULL;

	if ((params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    (pc = EVP_PKEY_CTX_new_from_name(NULL, type, NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(pc) != 1 ||
	    EVP_PKEY_fromdata(pc, &pk, EVP_PKEY_PUBLIC_KEY, params) != 1)
		pk = NULL;
	EVP_PKEY_CTX_free(pc);
	OSSL_PARAM_free(params);
	return (pk);
}

/*
 * The verify context of jwks_key.vctx for pk, or NULL when OpenSSL cannot
 * make one (the verifier then sets one up per token).
 */
static EVP_PKEY_CTX *
jwks_vctx(EVP_PKEY *pk, enum jwks_kty kty)
{
	EVP_PKEY_CTX	*c;

	if ((c = EVP_PKEY_CTX_new_from_pkey(NULL, pk, NULL)) == NULL)
		return (NULL);
	if (EVP_PKEY_verify_init(c) != 1 || (kty == JWKS_RSA &&
	    EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PADDING) != 1) ||
	    EVP_PKEY_CTX_set_signature_md(c, EVP_sha256()) != 1) {
		EVP_PKEY_CTX_free(c);
		return (NULL);
	}
	return (c);
}

static EVP_PKEY *
jwks_rsa(json_t *k, const char **why)
{
	unsigned char	*n, *e;
	size_t		 nl = 0, el = 0;
	BIGNUM		*bn = NULL, *be = NULL;
	OSSL_PARAM_BLD	*bld = NULL;
	EVP_PKEY	*pk = NULL;

	n = jwks_member(k, "n", &nl);
	e = jwks_member(k, "e", &el);
	*why = "RSA key without valid n and e";
	if (n == NULL || e == NULL || nl == 0 || el == 0 || el > 8)
		goto out;
	bn = BN_bin2bn(n, (int)nl, NULL);
	be = BN_bin2bn(e, (int)el, NULL);
	if (bn == NULL || be == NULL)
		goto out;
	if (BN_num_bits(bn) < 2048 || BN_num_bits(bn) > 8192) {
		*why = "RSA key size not in 2048..8192 bits";
		goto out;
	}
	if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be))
		goto out;
	pk = jwks_fromdata("RSA", bld);
out:
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn);
	BN_free(be);
	free(n);
	free(e);
	return (pk);
}

static EVP_PKEY *
jwks_ec(json_t *k, const char **why)
{
	unsigned char	*x, *y, pt[65];
	size_t		 xl = 0, yl = 0;
	OSSL_PARAM_BLD	*bld = NULL;
	EVP_PKEY	*pk = NULL;
	json_t		*crv = json_object_get(k, "crv");

	*why = "EC key is not P-256";
	if (!json_is_string(crv) ||
	    strcmp(json_string_value(crv), "P-256") != 0)
		return (NULL);
	x = jwks_member(k, "x", &xl);
	y = jwks_member(k, "y", &yl);
	*why = "EC key without valid x and y";
	if (x == NULL || y == NULL || xl != 32 || yl != 32)
		goto out;
	pt[0] = 0x04;
	memcpy(pt + 1, x, 32);
	memcpy(pt + 33, y, 32);
	if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
	    !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
	    "prime256v1", 0) ||
	    !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pt,
	    sizeof(pt)))
		goto out;
	*why = "EC point not on P-256";
	pk = jwks_fromdata("EC", bld);
out:
	OSSL_PARAM_BLD_free(bld);
	free(x);
	free(y);
	return (pk);
}

struct jwks *
jwks_parse(const char *buf, size_t len, char *err, size_t errlen)
{
	struct jwks	*s;
	json_t		*root, *keys, *k, *j;
	const char	*kty, *why = "out of memory";
	size_t		 i = 0, n;

	if ((root = token_json_load(buf, len, 8)) == NULL ||
	    !json_is_object(root)) {
		json_decref(root);
		snprintf(err, errlen, "not strict JSON (bad syntax, duplicate "
		    "key, or nested too deep)");
		return (NULL);
	}
	keys = json_object_get(root, "keys");
	if (!json_is_array(keys)) {
		json_decref(root);
		snprintf(err, errlen, "no \"keys\" array");
		return (NULL);
	}
	n = json_array_size(keys);
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (n > 0 && (s->keys = calloc(n, sizeof(*s->keys))) == NULL))
		goto fail;
	for (i = 0; i < n; i++) {
		struct jwks_key *o = &s->keys[s->nkeys];

		k = json_array_get(keys, i);
		why = "key is not an object";
		if (!json_is_object(k))
			goto fail;
		j = json_object_get(k, "kty");
		why = "key without kty";
		if (!json_is_string(j))
			goto fail;
		kty = json_string_value(j);
		j = json_object_get(k, "use");
		if ((strcmp(kty, "RSA") != 0 && strcmp(kty, "EC") != 0) ||
		    (j != NULL && (!json_is_string(j) ||
		    strcmp(json_string_value(j), "sig") != 0))) {
			s->skipped++;
			continue;
		}
		j = json_object_get(k, "kid");
		why = "key without kid";
		if (!json_is_string(j) || json_string_length(j) == 0)
			goto fail;
		why = "duplicate kid";
		if (jwks_find(s, json_string_value(j)) != NULL)
			goto fail;
		why = "out of memory";
		if ((o->kid = strdup(json_string_value(j))) == NULL)
			goto fail;
		o->kty = strcmp(kty, "RSA") == 0 ? JWKS_RSA : JWKS_EC_P256;
		/* Count the key now so that fail: frees its kid. */
		s->nkeys++;
		j = json_object_get(k, "alg");
		if (j != NULL) {
			why = "key alg does not match its type";
			if (!json_is_string(j) || strcmp(json_string_value(j),
			    o->kty == JWKS_RSA ? "RS256" : "ES256") != 0)
				goto fail;
			if ((o->alg = strdup(json_string_value(j))) == NULL)
				goto fail;
		}
		o->pkey = o->kty == JWKS_RSA ? jwks_rsa(k, &why) :
		    jwks_ec(k, &why);
		if (o->pkey == NULL)
			goto fail;
		o->vctx = jwks_vctx(o->pkey, o->kty);
	}
	json_decref(root);
	return (s);
fail:
	snprintf(err, errlen, "key %zu: %s", i, why);
	json_decref(root);
	jwks_free(s);
	return (NULL);
}

struct jwks *
jwks_load(const char *path, char *err, size_t errlen)
{
	struct jwks	*s;
	struct stat	 st;
	char		*buf, e2[200];
	ssize_t		 r;
	size_t		 got = 0;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return (NULL);
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size > JWKS_MAX_FILE) {
		snprintf(err, errlen, "%s: not a regular file of at most %ld "
		    "bytes", path, JWKS_MAX_FILE);
		close(fd);
		return (NULL);
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		close(fd);
		snprintf(err, errlen, "%s: out of memory", path);
		return (NULL);
	}
	while (got < (size_t)st.st_size &&
	    (r = read(fd, buf + got, (size_t)st.st_size - got)) != 0) {
		if (r == -1) {
			if (errno == EINTR)
				continue;
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			free(buf);
			close(fd);
			return (NULL);
		}
		got += (size_t)r;
	}
	close(fd);
	if ((s = jwks_parse(buf, got, e2, sizeof(e2))) == NULL)
		snprintf(err, errlen, "%s: %s", path, e2);
	free(buf);
	return (s);
}
