/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * libFuzzer target for the bearer-token parser and verifier
 * (auth/token.c) and the key-set parser (auth/jwks.c).  The first input
 * byte picks the entry: even, the rest is a compact token given to
 * token_decode() and to token_verify() against one issuer with a fixed
 * EC P-256 key (kid "k1") and one RSA-less issuer; odd, the rest is a
 * JWKS document for jwks_parse().
 *
 * Checked: token_verify() never accepts (no input can carry a signature
 * of the fixed key's unknown private half), each refusal has a short
 * static description, token_decode() and token_verify() agree on shape
 * refusals, and what decoded is a JSON object; a parsed key set has
 * unique, non-empty kids and a key for each.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/jwks.h"
#include "auth/token.h"
#include "tests/fuzz/fuzz.h"

static const char fixed_jwks[] = "{\"keys\":[{\"kty\":\"EC\",\"kid\":\"k1\","
    "\"crv\":\"P-256\",\"x\":\"dEk4C8_d2qctFPu7DtCsZu_IWGYeozez0Gv-YKG9DxY\","
    "\"y\":\"PTY3VIv7wpAc8f9zWfug5-1-UAbfp3-qcJoh8B5J2TA\"}]}";
static struct jwks *keys;
static const char *const auds[] = { "cmsweb" };

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char	 err[200];

	(void)argc;
	(void)argv;
	keys = jwks_parse(fixed_jwks, sizeof(fixed_jwks) - 1, err,
	    sizeof(err));
	FUZZ_CHECK(keys != NULL);
	return (0);
}

static void
one_token(const char *t, size_t n)
{
	struct token_issuer is[2] = {
		{ "https://cms-auth.cern.ch/", keys, auds, 1 },
		{ "https://nokeys.example/", NULL, auds, 1 },
	};
	struct token_claims c;
	const char	*why = NULL, *dwhy = NULL;
	int		 r, d;

	d = token_decode(t, n, &c, &dwhy);
	if (d == 0) {
		FUZZ_CHECK(json_is_object(c.header));
		FUZZ_CHECK(json_is_object(c.claims));
	} else
		FUZZ_CHECK(dwhy != NULL);
	token_claims_free(&c);
	r = token_verify(t, n, 8000, is, 2, 1800000000, 60, &c, &why);
	FUZZ_CHECK(r == -1);
	FUZZ_CHECK(why != NULL && strlen(why) < 48);
	if (d != 0 && n <= 8000)
		FUZZ_CHECK(strcmp(why, dwhy) == 0);
	token_claims_free(&c);
}

static void
one_jwks(const char *t, size_t n)
{
	struct jwks	*s;
	char		 err[300];
	size_t		 i, j;

	if ((s = jwks_parse(t, n, err, sizeof(err))) == NULL) {
		FUZZ_CHECK(err[0] != '\0');
		return;
	}
	for (i = 0; i < s->nkeys; i++) {
		FUZZ_CHECK(s->keys[i].kid[0] != '\0');
		FUZZ_CHECK(s->keys[i].pkey != NULL);
		for (j = 0; j < i; j++)
			FUZZ_CHECK(strcmp(s->keys[i].kid, s->keys[j].kid) != 0);
		FUZZ_CHECK(jwks_find(s, s->keys[i].kid) == &s->keys[i]);
	}
	jwks_free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return (0);
	if ((data[0] & 1) == 0)
		one_token((const char *)data + 1, size - 1);
	else
		one_jwks((const char *)data + 1, size - 1);
	return (0);
}
