/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * libFuzzer target for the DN formatter (auth/dn.c) and the identity
 * header builder (sign_block in auth/sign.c).  The input starts with a
 * DER X509_NAME (d2i_X509_NAME); the bytes after it, split at NUL bytes,
 * are the other strings of an identity: method, login, name, role
 * name/value pairs and FQANs.  When the DER does not decode, the whole
 * input is split that way and its first piece is the DN.
 *
 * Checked for dn_format: the result is a C string of the returned length,
 * valid UTF-8 without control bytes, the same from dn_format_alloc, -1 and
 * "" when one byte too short; its unescaped '/' count is the number of
 * RDNs and its unescaped '+' count the number of extra attributes, so no
 * value can fake an RDN.  Checked for sign_block: every line is
 * "name: value" ending in the only CR LF of the line, the header names and
 * order are the documented ones, and cms-authn-hmac verifies with
 * sign_verify over the other headers.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

#include "auth/dn.h"
#include "auth/dnmap.h"
#include "auth/sign.h"
#include "tests/fuzz/fuzz.h"

#define MAXSTR		16
#define MAXHDR		(MAXSTR + 8)

static const unsigned char key[] = "fuzz-hmac-key\n";

/* Is s[0, n) valid UTF-8 (no overlongs, surrogates or > U+10FFFF)? */
static int
utf8_ok(const unsigned char *s, size_t n)
{
	size_t		 i = 0, k, need;
	uint32_t	 cp, min;

	while (i < n) {
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if ((s[i] & 0xe0) == 0xc0) {
			need = 1;
			cp = s[i] & 0x1f;
			min = 0x80;
		} else if ((s[i] & 0xf0) == 0xe0) {
			need = 2;
			cp = s[i] & 0x0f;
			min = 0x800;
		} else if ((s[i] & 0xf8) == 0xf0) {
			need = 3;
			cp = s[i] & 0x07;
			min = 0x10000;
		} else
			return (0);
		if (n - i <= need)
			return (0);
		for (k = 1; k <= need; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return (0);
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return (0);
		i += need + 1;
	}
	return (1);
}

static void
check_dn(const X509_NAME *name)
{
	char		*buf, *alloc, *tight;
	size_t		 i, slashes = 0, pluses = 0, nsets = 0, nent;
	ssize_t		 n;
	int		 last = -1, set;

	if ((buf = malloc(65536)) == NULL)
		abort();
	n = dn_format(name, buf, 65536);
	alloc = dn_format_alloc(name);
	if (n < 0) {
		FUZZ_CHECK(buf[0] == '\0');
		/* Only size can make the allocating form succeed. */
		free(alloc);
		free(buf);
		return;
	}
	FUZZ_CHECK(buf[n] == '\0' && strlen(buf) == (size_t)n);
	FUZZ_CHECK(alloc != NULL && strcmp(alloc, buf) == 0);
	free(alloc);
	FUZZ_CHECK(utf8_ok((const unsigned char *)buf, (size_t)n));
	for (i = 0; i < (size_t)n; i++)
		FUZZ_CHECK((unsigned char)buf[i] >= 0x20 &&
		    (unsigned char)buf[i] != 0x7f);

	/* Exactly n + 1 bytes fit; n bytes do not. */
	if ((tight = malloc((size_t)n + 1)) == NULL)
		abort();
	FUZZ_CHECK(dn_format(name, tight, (size_t)n + 1) == n &&
	    strcmp(tight, buf) == 0);
	FUZZ_CHECK(dn_format(name, tight, (size_t)n) == -1 &&
	    (n == 0 || tight[0] == '\0'));
	free(tight);

	/* Unescaped separators mirror the structure of the name. */
	for (i = 0; i < (size_t)n; i++) {
		if (buf[i] == '\\') {
			FUZZ_CHECK(i + 1 < (size_t)n);
			if (buf[i + 1] == 'x') {
				FUZZ_CHECK(i + 3 < (size_t)n);
				i += 3;
			} else {
				FUZZ_CHECK(buf[i + 1] == '\\' ||
				    buf[i + 1] == '/' || buf[i + 1] == '+');
				i++;
			}
		} else if (buf[i] == '/')
			slashes++;
		else if (buf[i] == '+')
			pluses++;
	}
	nent = (size_t)X509_NAME_entry_count(name);
	for (i = 0; i < nent; i++) {
		set = X509_NAME_ENTRY_set(X509_NAME_get_entry(name, (int)i));
		if (set != last)
			nsets++;
		last = set;
	}
	FUZZ_CHECK(slashes == nsets);
	FUZZ_CHECK(pluses == nent - nsets);
	FUZZ_CHECK(n == 0 ? nent == 0 : buf[0] == '/');
	free(buf);
}

/* Split s[0, n) at NUL bytes into at most max fresh C strings. */
static size_t
split(const uint8_t *s, size_t n, char **out, size_t max)
{
	size_t	 k = 0, i = 0, j;

	while (i <= n && k < max) {
		for (j = i; j < n && s[j] != '\0'; j++)
			;
		if ((out[k] = malloc(j - i + 1)) == NULL)
			abort();
		memcpy(out[k], s + i, j - i);
		out[k][j - i] = '\0';
		k++;
		i = j + 1;
	}
	return (k);
}

static int
is_header_name(const char *s, size_t n, const char *lit)
{
	return (n == strlen(lit) && memcmp(s, lit, n) == 0);
}

/* Parse the block back into lines, check them and verify the hmac. */
static void
check_block(const char *blk, size_t len, const char *method, const char *dn,
    int has_login, int has_name, size_t nroles, size_t nfqans)
{
	struct sign_hdr	 h[MAXHDR];
	const char	*p = blk, *end = blk + len, *eol, *colon, *mac = NULL;
	size_t		 nh = 0, nline = 0, want;

	FUZZ_CHECK(strlen(blk) == len);
	while (p < end) {
		eol = memchr(p, '\r', (size_t)(end - p));
		/* A line ends in the first CR, which is followed by LF. */
		FUZZ_CHECK(eol != NULL && eol + 1 < end && eol[1] == '\n');
		FUZZ_CHECK(memchr(p, '\n', (size_t)(eol - p)) == NULL);
		colon = memchr(p, ':', (size_t)(eol - p));
		FUZZ_CHECK(colon != NULL && colon + 1 < eol && colon[1] == ' ');
		FUZZ_CHECK(nh < MAXHDR);
		h[nh].name = p;
		h[nh].namelen = (size_t)(colon - p);
		h[nh].value = colon + 2;
		h[nh].valuelen = (size_t)(eol - (colon + 2));
		if (nline == 0)
			FUZZ_CHECK(is_header_name(p, h[nh].namelen,
			    "cms-auth-status"));
		else if (nline == 1)
			FUZZ_CHECK(is_header_name(p, h[nh].namelen,
			    "cms-authn-method") && h[nh].valuelen ==
			    strlen(method) && memcmp(h[nh].value, method,
			    h[nh].valuelen) == 0);
		else if (nline == 2)
			FUZZ_CHECK(is_header_name(p, h[nh].namelen,
			    "cms-authn-dn") && h[nh].valuelen == strlen(dn) &&
			    memcmp(h[nh].value, dn, h[nh].valuelen) == 0);
		if (is_header_name(p, h[nh].namelen, "cms-authn-hmac")) {
			FUZZ_CHECK(eol + 2 == end && h[nh].valuelen == 40);
			mac = h[nh].value;
		} else if (nline > 0)
			nh++;
		nline++;
		p = eol + 2;
	}
	want = 3 + (size_t)has_login + (size_t)has_name + nroles +
	    (nfqans > 0);
	FUZZ_CHECK(nh == want - 1 && nline == want + 1);
	FUZZ_CHECK(mac != NULL);
	{
		char	 hex[41];

		memcpy(hex, mac, 40);
		hex[40] = '\0';
		FUZZ_CHECK(sign_verify(key, sizeof(key) - 1, h, nh, hex) == 0);
	}
}

static void
check_sign(const char *dn, char **s, size_t ns)
{
	struct dnmap_role	 roles[4] = { { NULL, NULL } };
	const char		*fqans[MAXSTR] = { NULL };
	const char		*method, *login, *name;
	size_t			 nroles = 0, nfqans = 0, i = 0, len = 0;
	char			*blk;

	method = i < ns && s[i][0] != '\0' ? s[i] : "X509Cert";
	i++;
	login = i < ns ? s[i] : NULL;
	i++;
	name = i < ns ? s[i] : NULL;
	i++;
	/* Roles come in pairs up to an empty piece; FQANs after that. */
	while (i + 1 < ns && s[i][0] != '\0' && nroles < 4) {
		roles[nroles].name = s[i];
		roles[nroles].value = s[i + 1];
		nroles++;
		i += 2;
	}
	for (i++; i < ns && nfqans < MAXSTR; i++)
		fqans[nfqans++] = s[i];

	blk = sign_block(key, sizeof(key) - 1, method, dn, login, name,
	    roles, nroles, fqans, nfqans, &len);
	if (blk == NULL)
		return;
	check_block(blk, len, method, dn, login != NULL && *login != '\0',
	    name != NULL && *name != '\0', nroles, nfqans);
	free(blk);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const unsigned char	*p = data;
	X509_NAME		*name;
	char			*s[MAXSTR + 1], *dn = NULL;
	size_t			 ns, i;

	if (size > 16384)
		return (0);
	name = d2i_X509_NAME(NULL, &p, (long)size);
	if (name != NULL) {
		check_dn(name);
		dn = dn_format_alloc(name);
		X509_NAME_free(name);
		ns = split(p, size - (size_t)(p - data), s, MAXSTR);
		check_sign(dn != NULL && *dn != '\0' ? dn :
		    "/DC=ch/DC=cern/CN=fuzz", s, ns);
	} else {
		p = data;
		/* split() always yields at least one (maybe empty) piece. */
		if ((ns = split(data, size, s, MAXSTR + 1)) > 0)
			check_sign(s[0], s + 1, ns - 1);
	}
	for (i = 0; i < ns; i++)
		free(s[i]);
	free(dn);
	return (0);
}
