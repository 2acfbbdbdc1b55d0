/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * libFuzzer target for the VOMS attribute-certificate parser
 * (voms_ac_parse) and the extension wrapper (voms_ext_parse) in
 * auth/voms.c.  The input is tried as one DER AC, as a whole extension
 * value, and wrapped into an extension value holding it; a single AC must
 * parse the same either way.  On success the decoded fields must respect
 * the documented profile: a VO, FQANs under "/<vo>" within the limits, a
 * port in range, borrowed DER inside the input.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/voms.h"
#include "tests/fuzz/fuzz.h"

static void
check_ac(const struct voms_ac *ac, const uint8_t *der, size_t len)
{
	size_t	 i, vl;

	FUZZ_CHECK(ac->vo != NULL && ac->vo[0] != '\0');
	FUZZ_CHECK(ac->host != NULL);
	FUZZ_CHECK(ac->port >= 0 && ac->port <= 65535);
	FUZZ_CHECK(ac->nfqans <= VOMS_FQANS_MAX);
	FUZZ_CHECK(ac->nfqans == 0 || ac->fqans != NULL);
	vl = strlen(ac->vo);
	for (i = 0; i < ac->nfqans; i++) {
		FUZZ_CHECK(ac->fqans[i] != NULL);
		FUZZ_CHECK(strlen(ac->fqans[i]) <= VOMS_FQAN_MAX);
		FUZZ_CHECK(ac->fqans[i][0] == '/' &&
		    strncmp(ac->fqans[i] + 1, ac->vo, vl) == 0 &&
		    (ac->fqans[i][vl + 1] == '/' ||
		    ac->fqans[i][vl + 1] == '\0'));
	}
	FUZZ_CHECK(ac->holder_issuer != NULL && ac->issuer != NULL);
	FUZZ_CHECK(ac->serial != NULL && ac->holder_serial != NULL);
	FUZZ_CHECK(ac->sig_alg != NULL && ac->sig != NULL);
	FUZZ_CHECK(ac->info_der != NULL && ac->info_len > 0);
	/* The signed part is a re-encoding or a slice; either way sane. */
	if (ac->info_der >= der && ac->info_der < der + len)
		FUZZ_CHECK(ac->info_der + ac->info_len <= der + len);
	FUZZ_CHECK(ac->priv != NULL);
}

/* Append a DER length for n to p; returns the bytes written. */
static size_t
der_len(uint8_t *p, size_t n)
{
	size_t	 k = 0, i;

	if (n < 0x80) {
		p[0] = (uint8_t)n;
		return (1);
	}
	for (i = n; i > 0; i >>= 8)
		k++;
	p[0] = (uint8_t)(0x80 | k);
	for (i = 0; i < k; i++)
		p[1 + i] = (uint8_t)(n >> (8 * (k - 1 - i)));
	return (1 + k);
}

/* SEQUENCE { SEQUENCE OF { data } }: an extension value around data. */
static uint8_t *
wrap(const uint8_t *data, size_t size, size_t *outlen)
{
	uint8_t	 inner[16], outer[16], *w;
	size_t	 il, ol;

	inner[0] = 0x30;
	il = 1 + der_len(inner + 1, size);
	outer[0] = 0x30;
	ol = 1 + der_len(outer + 1, il + size);
	if ((w = malloc(ol + il + size)) == NULL)
		abort();
	memcpy(w, outer, ol);
	memcpy(w + ol, inner, il);
	memcpy(w + ol + il, data, size);
	*outlen = ol + il + size;
	return (w);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct voms_ac	 ac, *acs;
	size_t		 nacs, i, wlen;
	uint8_t		*w;
	char		 err[256];
	int		 rc, rc2;

	if (size > 65536)
		return (0);

	err[0] = '\0';
	rc = voms_ac_parse(data, size, &ac, err, sizeof(err));
	FUZZ_CHECK(rc == 0 || rc == -1);
	if (rc == 0)
		check_ac(&ac, data, size);
	else
		FUZZ_CHECK(err[0] != '\0' &&
		    memchr(err, '\0', sizeof(err)) != NULL);

	/* The input as a whole extension value. */
	if (voms_ext_parse(data, size, &acs, &nacs, err, sizeof(err)) == 0) {
		FUZZ_CHECK(acs != NULL && nacs >= 1 && nacs <= VOMS_ACS_MAX);
		for (i = 0; i < nacs; i++)
			check_ac(&acs[i], data, size);
		voms_acs_free(acs, nacs);
	} else
		FUZZ_CHECK(acs == NULL);

	/* The input as the one AC of an extension value. */
	w = wrap(data, size, &wlen);
	rc2 = voms_ext_parse(w, wlen, &acs, &nacs, err, sizeof(err));
	if (rc == 0) {
		FUZZ_CHECK(rc2 == 0 && nacs == 1);
		FUZZ_CHECK(acs[0].nfqans == ac.nfqans);
		for (i = 0; i < ac.nfqans; i++)
			FUZZ_CHECK(strcmp(acs[0].fqans[i], ac.fqans[i]) == 0);
		FUZZ_CHECK(strcmp(acs[0].vo, ac.vo) == 0 &&
		    strcmp(acs[0].host, ac.host) == 0 &&
		    acs[0].port == ac.port);
	} else if (rc2 == 0)
		FUZZ_CHECK(nacs != 1);
	if (rc2 == 0)
		voms_acs_free(acs, nacs);
	free(w);
	if (rc == 0)
		voms_ac_clear(&ac);
	/* Clearing twice (or a failed parse) is harmless. */
	voms_ac_clear(&ac);
	return (0);
}
