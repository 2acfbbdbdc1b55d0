/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * Unit tests for auth/sign.c: the PROTOCOL.md test vectors byte for byte
 * (signed string and HMAC), independence from header order and name case,
 * headers outside the signature, HMAC key loading rules, and the exact
 * header block sign_block() renders.  The py3-latin1 mode is checked on
 * the same vectors: the string a Python 3 WSGI verifier rebuilds (each
 * byte >= 0x80 as the UTF-8 of its Latin-1 character) is written out here
 * by hand, and its HMAC was computed with Python's hmac module.  Key files are real files in a
 * mkdtemp() directory.
 */

#include <sys/stat.h>
#include <sys/types.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include "tmpfiles.h"
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "auth/dnmap.h"
#include "auth/sign.h"

#define KEY	"example-20-byte-key!"
#define DN1	"/DC=ch/DC=cern/OU=Organic Units/OU=Users/CN=jdoe/CN=123456/" \
		"CN=John Doe"
#define V1_STRING "hcv46hfv4h10v8hev8hfv1chevb#cms-authn-dn" DN1 \
		"cms-authn-loginjdoecms-authn-methodX509Certcms-authn-name" \
		"John Doecms-authz-admingroup:reqmgr site:t1-ch-cern" \
		"cms-authz-usergroup:users"
#define V1_HMAC	"a9299982340653b509e7499b50234cb5c8ef8310"
#define V2_STRING "hfv7h10v8hevd#cms-authn-loginjmullercms-authn-method" \
		"X509Certcms-authn-nameJos\xc3\xa9 M\xc3\xbcller"
#define V2_HMAC	"07a466a450b07b2e78529a7a4ae805af6755ef3b"
/* Vector 2 as WMCore's Python 3 check hashes it: 0xc3 0xa9 ("é" in UTF-8)
 * arrives as the two characters U+00C3 U+00A9, each sent on in UTF-8.
 * The lengths in the prefix are still the byte lengths ("hevd"). */
#define V2_PY3_STRING "hfv7h10v8hevd#cms-authn-loginjmullercms-authn-method" \
		"X509Certcms-authn-nameJos\xc3\x83\xc2\xa9 M\xc3\x83\xc2\xbc" \
		"ller"
#define V2_PY3_HMAC "5d3df49d8bc0c8409478692c2eb4fc3a3beae26b"
/* A role name with a byte >= 0x80, as the Python verifier hashes it. */
#define NAME_PY3 "hfv3h10v8hbv7#cms-authn-loginadacms-authn-method" \
		"X509Certcms-authz-\xc3\xa9group:x"


#define HDR(n, v)	{ (n), sizeof(n) - 1, (v), sizeof(v) - 1 }

/* Vector 1 in the order PROTOCOL.md lists it. */
static const struct sign_hdr v1[] = {
	HDR("cms-authn-method", "X509Cert"),
	HDR("cms-authn-dn", DN1),
	HDR("cms-authn-login", "jdoe"),
	HDR("cms-authn-name", "John Doe"),
	HDR("cms-authz-admin", "group:reqmgr site:t1-ch-cern"),
	HDR("cms-authz-user", "group:users"),
};

static const struct sign_hdr v2[] = {
	HDR("cms-authn-login", "jmuller"),
	HDR("cms-authn-method", "X509Cert"),
	HDR("cms-authn-name", "Jos\xc3\xa9 M\xc3\xbcller"),
};

static const unsigned char *
key(void)
{
	return ((const unsigned char *)KEY);
}

static int
group_setup(void **state)
{
	(void)state;
	return (tmp_setup("test_sign"));
}

static int
group_teardown(void **state)
{
	(void)state;
	return (tmp_teardown());
}

/* Write a file under tmpdir with the given mode; returns its path. */
static const char *
write_file(const char *name, const void *data, size_t len, mode_t mode)
{
	return (tmp_write(name, data, len, mode));
}

/* HMAC-SHA1 computed by OpenSSL's one-shot API, as an independent check. */
static void
oneshot_hmac(const void *k, size_t klen, const char *s, size_t slen,
    char out[41])
{
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen = 0, i;

	assert_non_null(HMAC(EVP_sha1(), k, (int)klen,
	    (const unsigned char *)s, slen, md, &mdlen));
	assert_int_equal(mdlen, 20);
	for (i = 0; i < mdlen; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static void
test_sign__vector1(void **state)
{
	char	*s, mac[41];
	size_t	 len = 0;

	(void)state;
	s = sign_string(v1, 6, &len);
	assert_non_null(s);
	assert_string_equal(s, V1_STRING);
	assert_int_equal(len, strlen(V1_STRING));
	free(s);
	assert_int_equal(sign_hmac(key(), 20, v1, 6, mac), 0);
	assert_string_equal(mac, V1_HMAC);
}

static void
test_sign__vector2_utf8(void **state)
{
	char	*s, mac[41];
	size_t	 len = 0;

	(void)state;
	s = sign_string(v2, 3, &len);
	assert_non_null(s);
	assert_string_equal(s, V2_STRING);
	assert_int_equal(len, sizeof(V2_STRING) - 1);
	free(s);
	assert_int_equal(sign_hmac(key(), 20, v2, 3, mac), 0);
	assert_string_equal(mac, V2_HMAC);
}

static void
test_sign__vector1_py3_is_bytes(void **state)
{
	char	*s, mac[41];
	size_t	 len = 0;

	/* All ASCII: the Python 3 verifier hashes the very same string. */
	(void)state;
	s = sign_string_as(SIGN_PY3_LATIN1, v1, 6, &len);
	assert_non_null(s);
	assert_string_equal(s, V1_STRING);
	assert_int_equal(len, strlen(V1_STRING));
	free(s);
	assert_int_equal(sign_hmac_as(key(), 20, SIGN_PY3_LATIN1, v1, 6, mac),
	    0);
	assert_string_equal(mac, V1_HMAC);	assert_false(sign_has_high(V1_STRING, sizeof(V1_STRING) - 1));
	assert_true(sign_has_high(V2_STRING, sizeof(V2_STRING) - 1));
	assert_true(sign_has_high("\x80", 1));
	assert_false(sign_has_high("\x7f", 1));
	assert_false(sign_has_high("", 0));
}

static void
test_sign__vector2_py3_latin1(void **state)
{
	char	*s, mac[41], want[41];
	size_t	 len = 0;

	(void)state;
	s = sign_string_as(SIGN_PY3_LATIN1, v2, 3, &len);
	assert_non_null(s);
	assert_int_equal(len, sizeof(V2_PY3_STRING) - 1);
	assert_memory_equal(s, V2_PY3_STRING, len);
	free(s);
	assert_int_equal(sign_hmac_as(key(), 20, SIGN_PY3_LATIN1, v2, 3, mac),
	    0);
	assert_string_equal(mac, V2_PY3_HMAC);
	oneshot_hmac(KEY, 20, V2_PY3_STRING, sizeof(V2_PY3_STRING) - 1, want);
	assert_string_equal(mac, want);
	/* The two modes really differ here, and bytes is still vector 2. */
	assert_string_not_equal(mac, V2_HMAC);
	assert_int_equal(sign_hmac_as(key(), 20, SIGN_BYTES, v2, 3, mac), 0);
	assert_string_equal(mac, V2_HMAC);
}

/* What Python's value.decode("latin-1").encode("utf-8") gives. */
static size_t
widen_latin1(const char *in, size_t len, char *out)
{
	size_t		 i, w = 0;
	unsigned char	 c;

	for (i = 0; i < len; i++) {
		c = (unsigned char)in[i];
		if (c < 0x80)
			out[w++] = (char)c;
		else {
			out[w++] = (char)(c < 0xc0 ? 0xc2 : 0xc3);
			out[w++] = (char)(0x80 | (c & 0x3f));
		}
	}
	return (w);
}

static void
test_sign__py3_four_byte_and_long_values(void **state)
{
	/* U+1D50F and U+1F600: four UTF-8 bytes each, eight characters for
	 * the Python verifier.  The long value crosses the 64-byte chunks
	 * sign.c widens through, at an odd offset. */
	static const char astral[] = "Ada \xf0\x9d\x94\x8f\xf0\x9f\x98\x80";
	static const char astral_py3[] = "hfv3h10v8hevc#cms-authn-loginada"
	    "cms-authn-methodX509Certcms-authn-nameAda \xc3\xb0\xc2\x9d"
	    "\xc2\x94\xc2\x8f\xc3\xb0\xc2\x9f\xc2\x98\xc2\x80";
	char		 longv[301], want[1024], mac[41], ref[41];
	char		*s;
	size_t		 len = 0, wl, i;
	struct sign_hdr	 h[3] = {
		HDR("cms-authn-login", "ada"),
		HDR("cms-authn-method", "X509Cert"),
		HDR("cms-authn-name", astral),
	};

	(void)state;
	s = sign_string_as(SIGN_PY3_LATIN1, h, 3, &len);
	assert_non_null(s);
	assert_int_equal(len, sizeof(astral_py3) - 1);
	assert_memory_equal(s, astral_py3, len);
	free(s);
	assert_int_equal(sign_hmac_as(key(), 20, SIGN_PY3_LATIN1, h, 3, mac),
	    0);
	assert_string_equal(mac, "7d9e2696a9f01d26ee6b65d46e76143679df1b38");
	assert_int_equal(sign_hmac_as(key(), 20, SIGN_BYTES, h, 3, mac), 0);
	assert_string_equal(mac, "a0a03b2b76f5d02ef8da4dadada68cbf7998a1ff");

	/* 300 bytes: "x", then 0x80..0xff cycling with ASCII in between. */
	longv[0] = 'x';
	for (i = 1; i < 300; i++)
		longv[i] = (char)(i % 3 == 0 ? 'a' + (int)(i % 26) :
		    0x80 + (int)(i % 128));
	longv[300] = '\0';
	h[2].value = longv;
	h[2].valuelen = 300;
	wl = (size_t)snprintf(want, sizeof(want), "hfv3h10v8hev12c#"
	    "cms-authn-loginadacms-authn-methodX509Certcms-authn-name");
	wl += widen_latin1(longv, 300, want + wl);
	s = sign_string_as(SIGN_PY3_LATIN1, h, 3, &len);
	assert_non_null(s);
	assert_int_equal(len, wl);
	assert_memory_equal(s, want, wl);
	free(s);
	assert_int_equal(sign_hmac_as(key(), 20, SIGN_PY3_LATIN1, h, 3, mac),
	    0);
	oneshot_hmac(KEY, 20, want, wl, ref);
	assert_string_equal(mac, ref);

	/* A name with a byte >= 0x80 is widened too (the verifier decodes
	 * names the same way); its length stays the byte length. */
	h[2].name = "cms-authz-\xe9";
	h[2].namelen = 11;
	h[2].value = "group:x";
	h[2].valuelen = 7;
	s = sign_string_as(SIGN_PY3_LATIN1, h, 3, &len);
	assert_non_null(s);
	assert_int_equal(len, sizeof(NAME_PY3) - 1);
	assert_memory_equal(s, NAME_PY3, len);
	free(s);
}

static void
test_sign__order_and_case_independent(void **state)
{
	/* Vector 1 shuffled, with names in the case a client library uses. */
	static const struct sign_hdr h[] = {
		HDR("Cms-Authz-User", "group:users"),
		HDR("CMS-AUTHN-NAME", "John Doe"),
		HDR("cms-authn-Dn", DN1),
		HDR("Cms-Authz-Admin", "group:reqmgr site:t1-ch-cern"),
		HDR("cms-authn-login", "jdoe"),
		HDR("CMS-authn-method", "X509Cert"),
	};
	char	*s, mac[41];

	(void)state;
	s = sign_string(h, 6, NULL);
	assert_non_null(s);
	assert_string_equal(s, V1_STRING);
	free(s);
	assert_int_equal(sign_hmac(key(), 20, h, 6, mac), 0);
	assert_string_equal(mac, V1_HMAC);
}

static void
test_sign__unsigned_headers_ignored(void **state)
{
	static const struct sign_hdr h[] = {
		HDR("cms-auth-status", "OK"),
		HDR("cms-authn-method", "X509Cert"),
		HDR("cms-request-uri", "/dbs/prod/global"),
		HDR("cms-authn-dn", DN1),
		HDR("cms-authn-hmac", "00000000000000000000"
		    "00000000000000000000"),
		HDR("X-Forwarded-For", "127.0.0.1"),
		HDR("cms-authn-login", "jdoe"),
		HDR("cms-auth", "x"),
		HDR("cms-authn-name", "John Doe"),
		HDR("CMS-AUTHN-HMAC", "ffff"),
		HDR("cms-authz-admin", "group:reqmgr site:t1-ch-cern"),
		HDR("cms-authz-user", "group:users"),
		HDR("cms-client-ip", "127.0.0.1"),
	};
	static const struct sign_hdr extra[] = {
		HDR("cms-authn-method", "X509Cert"),
		HDR("cms-authn-dn", DN1),
		HDR("cms-authn-login", "jdoe"),
		HDR("cms-authn-name", "John Doe"),
		HDR("cms-authz-admin", "group:reqmgr site:t1-ch-cern"),
		HDR("cms-authz-user", "group:users"),
		HDR("cms-authn-voms-fqans", "/cms/Role=NULL/Capability=NULL"),
	};
	char	*s, mac[41];

	(void)state;
	s = sign_string(h, sizeof(h) / sizeof(h[0]), NULL);
	assert_non_null(s);
	assert_string_equal(s, V1_STRING);
	free(s);
	assert_int_equal(sign_hmac(key(), 20, h, sizeof(h) / sizeof(h[0]),
	    mac), 0);
	assert_string_equal(mac, V1_HMAC);

	/* A cms-authn-* header that is sent does enter the signature. */
	assert_int_equal(sign_hmac(key(), 20, extra, 7, mac), 0);
	assert_string_not_equal(mac, V1_HMAC);
	s = sign_string(extra, 7, NULL);
	assert_non_null(s);
	assert_non_null(strstr(s, "cms-authn-voms-fqans/cms/Role=NULL"));
	free(s);
}

static void
test_sign__verify(void **state)
{
	char	 bad[41];

	(void)state;
	assert_int_equal(sign_verify(key(), 20, v1, 6, V1_HMAC), 0);
	memcpy(bad, V1_HMAC, sizeof(bad));
	bad[39] = bad[39] == '0' ? '1' : '0';
	assert_int_equal(sign_verify(key(), 20, v1, 6, bad), -1);
	assert_int_equal(sign_verify(key(), 20, v1, 6, "a929"), -1);
	assert_int_equal(sign_verify(key(), 20, v1, 6, NULL), -1);
	/* Another key, another signature. */
	assert_int_equal(sign_verify(key(), 19, v1, 6, V1_HMAC), -1);
}

static void
test_sign__no_headers(void **state)
{
	char	*s, mac[41], want[41];

	(void)state;
	s = sign_string(NULL, 0, NULL);
	assert_non_null(s);
	assert_string_equal(s, "#");
	free(s);
	assert_int_equal(sign_hmac(key(), 20, NULL, 0, mac), 0);
	oneshot_hmac(KEY, 20, "#", 1, want);
	assert_string_equal(mac, want);
	/* An empty key is refused rather than signed with. */
	assert_int_equal(sign_hmac(key(), 0, v1, 6, mac), -1);
	assert_string_equal(mac, "");
}

/* More headers than the stack array: the heap path sorts the same way. */
static void
test_sign__many_headers(void **state)
{
	enum { N = 150 };
	struct sign_hdr	 h[N];
	char		 names[N][32], *s, mac[41], want[41];
	size_t		 i, len = 0;

	(void)state;
	for (i = 0; i < N; i++) {
		/* Given in descending order, so sorting is required. */
		snprintf(names[i], sizeof(names[i]), "cms-authz-r%03zu",
		    N - 1 - i);
		h[i].name = names[i];
		h[i].namelen = strlen(names[i]);
		h[i].value = "group:x";
		h[i].valuelen = 7;
	}
	s = sign_string(h, N, &len);
	assert_non_null(s);
	assert_memory_equal(s, "hev7hev7", 8);
	assert_non_null(strstr(s, "#cms-authz-r000group:xcms-authz-r001"));
	assert_non_null(strstr(s, "cms-authz-r149group:x"));
	assert_int_equal(strlen(strstr(s, "cms-authz-r149group:x")), 21);
	assert_int_equal(sign_hmac(key(), 20, h, N, mac), 0);
	oneshot_hmac(KEY, 20, s, len, want);
	assert_string_equal(mac, want);
	free(s);
}

static void
test_sign__key_load_ok_keeps_newline(void **state)
{
	unsigned char	*k = NULL;
	size_t		 klen = 0;
	char		 err[256] = "", mac[41], want[41];
	const char	*p;

	(void)state;
	p = write_file("key-nl", KEY "\n", 21, 0600);
	assert_int_equal(sign_key_load(p, &k, &klen, err, sizeof(err)), 0);
	assert_int_equal(klen, 21);
	assert_memory_equal(k, KEY "\n", 21);
	/* The newline is part of the key, so the vector does not match. */
	assert_int_equal(sign_hmac(k, klen, v1, 6, mac), 0);
	assert_string_not_equal(mac, V1_HMAC);
	oneshot_hmac(KEY "\n", 21, V1_STRING, strlen(V1_STRING), want);
	assert_string_equal(mac, want);
	sign_key_free(k, klen);

	p = write_file("key", KEY, 20, 0400);
	assert_int_equal(sign_key_load(p, &k, &klen, err, sizeof(err)), 0);
	assert_int_equal(sign_hmac(k, klen, v1, 6, mac), 0);
	assert_string_equal(mac, V1_HMAC);
	sign_key_free(k, klen);
	sign_key_free(NULL, 0);
}

static void
test_sign__key_load_refused(void **state)
{
	unsigned char	*k = (unsigned char *)1, *big;
	size_t		 klen = 99;
	char		 err[256], want[512];
	const char	*p;

	(void)state;
	snprintf(want, sizeof(want), "%s/nonexistent", tmpdir);
	assert_int_equal(sign_key_load(want, &k, &klen, err, sizeof(err)),
	    -1);
	assert_null(k);
	assert_int_equal(klen, 0);
	assert_non_null(strstr(err, "nonexistent"));
	assert_non_null(strstr(err, "No such file"));

	p = write_file("empty", "", 0, 0600);
	assert_int_equal(sign_key_load(p, &k, &klen, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "hmac key %s is empty", p);
	assert_string_equal(err, want);

	p = write_file("world", KEY, 20, 0644);
	assert_int_equal(sign_key_load(p, &k, &klen, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "hmac key %s is readable by others "
	    "(mode 0644); chmod 600", p);
	assert_string_equal(err, want);

	p = write_file("group", KEY, 20, 0640);
	assert_int_equal(sign_key_load(p, &k, &klen, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "hmac key %s is readable by group "
	    "(mode 0640); chmod 600", p);
	assert_string_equal(err, want);

	p = write_file("gwrite", KEY, 20, 0620);
	assert_int_equal(sign_key_load(p, &k, &klen, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "writable by group (mode 0620)"));

	assert_int_equal(sign_key_load(tmpdir, &k, &klen, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "is not a regular file"));

	/* 64 KiB is accepted, one byte more is not. */
	big = calloc(1, SIGN_KEY_MAX + 1);
	assert_non_null(big);
	memset(big, 'k', SIGN_KEY_MAX + 1);
	p = write_file("big", big, SIGN_KEY_MAX, 0600);
	assert_int_equal(sign_key_load(p, &k, &klen, err, sizeof(err)), 0);
	assert_int_equal(klen, SIGN_KEY_MAX);
	sign_key_free(k, klen);
	p = write_file("toobig", big, SIGN_KEY_MAX + 1, 0600);
	assert_int_equal(sign_key_load(p, &k, &klen, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "too large"));
	assert_null(k);
	free(big);
}

static const struct dnmap_role v1_roles[] = {
	{ (char *)(uintptr_t)"admin",
	  (char *)(uintptr_t)"group:reqmgr site:t1-ch-cern" },
	{ (char *)(uintptr_t)"user", (char *)(uintptr_t)"group:users" },
};

static void
test_sign__block_vector1(void **state)
{
	static const char want[] =
	    "cms-auth-status: OK\r\n"
	    "cms-authn-method: X509Cert\r\n"
	    "cms-authn-dn: " DN1 "\r\n"
	    "cms-authn-login: jdoe\r\n"
	    "cms-authn-name: John Doe\r\n"
	    "cms-authz-admin: group:reqmgr site:t1-ch-cern\r\n"
	    "cms-authz-user: group:users\r\n"
	    "cms-authn-hmac: " V1_HMAC "\r\n";
	char	*b;
	size_t	 len = 0;

	(void)state;
	b = sign_block(key(), 20, "X509Cert", DN1, "jdoe", "John Doe",
	    v1_roles, 2, NULL, 0, &len);
	assert_non_null(b);
	assert_string_equal(b, want);
	assert_int_equal(len, sizeof(want) - 1);
	free(b);
}

/* Split a block back into headers and verify its signature. */
static void
check_block_signature(char *b, size_t nexpect)
{
	struct sign_hdr	 h[16];
	char		*line, *colon, *hmac = NULL;
	size_t		 n = 0;

	for (line = b; *line != '\0'; line = strstr(line, "\r\n") + 2) {
		assert_non_null(strstr(line, "\r\n"));
		colon = strstr(line, ": ");
		assert_non_null(colon);
		assert_true(n < 16);
		h[n].name = line;
		h[n].namelen = (size_t)(colon - line);
		h[n].value = colon + 2;
		h[n].valuelen = (size_t)(strstr(line, "\r\n") - (colon + 2));
		if (h[n].namelen == 14 &&
		    memcmp(line, "cms-authn-hmac", 14) == 0)
			hmac = colon + 2;
		n++;
	}
	assert_int_equal(n, nexpect);
	assert_non_null(hmac);
	hmac[40] = '\0';	/* ends at the CR */
	assert_int_equal(sign_verify(key(), 20, h, n, hmac), 0);
}

static void
test_sign__block_py3_latin1(void **state)
{
	static const char dn[] = "/DC=ch/DC=cern/OU=Organic Units/OU=Users/"
	    "CN=jmuller/CN=654321/CN=Jos\xc3\xa9 M\xc3\xbcller";
	struct sign_hdr	 h[8];
	char		*a, *b, *line, *colon, *hmac = NULL, mac[41];
	size_t		 alen = 0, blen = 0, n = 0;

	(void)state;
	/* ASCII identity: both modes render the identical block. */
	a = sign_block(key(), 20, "X509Cert", DN1, "jdoe", "John Doe",
	    v1_roles, 2, NULL, 0, &alen);
	b = sign_block_as(key(), 20, SIGN_PY3_LATIN1, "X509Cert", DN1, "jdoe",
	    "John Doe", v1_roles, 2, NULL, 0, &blen);
	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(alen, blen);
	assert_memory_equal(a, b, alen);
	free(a);
	free(b);

	/* UTF-8 DN and name: same lines, only the HMAC differs. */
	a = sign_block(key(), 20, "X509Cert", dn, "jmuller",
	    "Jos\xc3\xa9 M\xc3\xbcller", v1_roles, 1, NULL, 0, &alen);
	b = sign_block_as(key(), 20, SIGN_PY3_LATIN1, "X509Cert", dn,
	    "jmuller", "Jos\xc3\xa9 M\xc3\xbcller", v1_roles, 1, NULL, 0,
	    &blen);
	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(alen, blen);
	assert_memory_equal(a, b, alen - 42);		/* 40 hex + CRLF */
	assert_memory_not_equal(a + alen - 42, b + blen - 42, 40);
	/* Each verifies in its own mode, and only there. */
	for (line = b; *line != '\0'; line = strstr(line, "\r\n") + 2) {
		colon = strstr(line, ": ");
		assert_non_null(colon);
		assert_true(n < 8);
		h[n].name = line;
		h[n].namelen = (size_t)(colon - line);
		h[n].value = colon + 2;
		h[n].valuelen = (size_t)(strstr(line, "\r\n") - (colon + 2));
		if (h[n].namelen == 14 &&
		    memcmp(line, "cms-authn-hmac", 14) == 0)
			hmac = colon + 2;
		n++;
	}
	assert_non_null(hmac);
	assert_int_equal(sign_hmac_as(key(), 20, SIGN_PY3_LATIN1, h, n, mac),
	    0);
	assert_memory_equal(mac, hmac, 40);
	assert_int_equal(sign_hmac(key(), 20, h, n, mac), 0);
	assert_memory_equal(mac, a + alen - 42, 40);
	assert_memory_not_equal(mac, hmac, 40);
	free(a);
	free(b);
}

static void
test_sign__block_fqans_and_optional(void **state)
{
	static const char *const fq[] = {
		"/cms/Role=production/Capability=NULL",
		"/cms/Role=NULL/Capability=NULL",
	};
	char	*b;
	size_t	 len = 0;

	(void)state;
	b = sign_block(key(), 20, "X509Cert", DN1, "jdoe", "", v1_roles, 1,
	    fq, 2, &len);
	assert_non_null(b);
	assert_int_equal(strlen(b), len);
	assert_null(strstr(b, "cms-authn-name"));
	assert_non_null(strstr(b, "\r\ncms-authz-admin: group:reqmgr "
	    "site:t1-ch-cern\r\ncms-authn-voms-fqans: "
	    "/cms/Role=production/Capability=NULL,"
	    "/cms/Role=NULL/Capability=NULL\r\ncms-authn-hmac: "));
	check_block_signature(b, 7);
	free(b);

	/* Not in CRIC: no login, name or roles. */
	b = sign_block(key(), 20, "X509Cert", DN1, NULL, NULL, NULL, 0, NULL,
	    0, NULL);
	assert_non_null(b);
	assert_memory_equal(b, "cms-auth-status: OK\r\n"
	    "cms-authn-method: X509Cert\r\ncms-authn-dn: " DN1 "\r\n"
	    "cms-authn-hmac: ", strlen("cms-auth-status: OK\r\n"
	    "cms-authn-method: X509Cert\r\ncms-authn-dn: " DN1 "\r\n"
	    "cms-authn-hmac: "));
	check_block_signature(b, 4);
	free(b);
}

static void
test_sign__block_refuses_unsafe(void **state)
{
	static const struct dnmap_role badname[] = {
		{ (char *)(uintptr_t)"Bad_Role", (char *)(uintptr_t)"group:x" },
	};
	static const struct dnmap_role crlf[] = {
		{ (char *)(uintptr_t)"user",
		  (char *)(uintptr_t)"group:x\r\nX-Evil: 1" },
	};
	static const struct dnmap_role dup[] = {
		{ (char *)(uintptr_t)"user", (char *)(uintptr_t)"group:x" },
		{ (char *)(uintptr_t)"user", (char *)(uintptr_t)"group:y" },
	};
	static const char *const comma[] = { "/cms/a,b" };
	static const char *const empty[] = { "" };

	(void)state;
	assert_null(sign_block(key(), 20, "X509Cert", DN1 "\r\nX-Evil: 1",
	    NULL, NULL, NULL, 0, NULL, 0, NULL));
	assert_null(sign_block(key(), 20, "X509Cert", DN1, "jdoe\n", NULL,
	    NULL, 0, NULL, 0, NULL));
	assert_null(sign_block(key(), 20, "X509Cert", DN1, "jdoe", "John\r",
	    NULL, 0, NULL, 0, NULL));
	assert_null(sign_block(key(), 20, "X509Cert", DN1, "jdoe", NULL,
	    badname, 1, NULL, 0, NULL));
	assert_null(sign_block(key(), 20, "X509Cert", DN1, "jdoe", NULL,
	    crlf, 1, NULL, 0, NULL));
	assert_null(sign_block(key(), 20, "X509Cert", DN1, "jdoe", NULL,
	    dup, 2, NULL, 0, NULL));
	assert_null(sign_block(key(), 20, "X509Cert", DN1, "jdoe", NULL,
	    NULL, 0, comma, 1, NULL));
	assert_null(sign_block(key(), 20, "X509Cert", DN1, "jdoe", NULL,
	    NULL, 0, empty, 1, NULL));
	assert_null(sign_block(key(), 20, "X509Cert", "", NULL, NULL, NULL,
	    0, NULL, 0, NULL));
	assert_null(sign_block(key(), 20, "", DN1, NULL, NULL, NULL, 0, NULL,
	    0, NULL));
	assert_null(sign_block(key(), 0, "X509Cert", DN1, NULL, NULL, NULL,
	    0, NULL, 0, NULL));
	/* The good counterpart of the cases above is accepted. */
	{
		char *b = sign_block(key(), 20, "X509Cert", DN1, "jdoe",
		    "John\tDoe", dup, 1, NULL, 0, NULL);

		assert_non_null(b);
		free(b);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sign__vector1),
		cmocka_unit_test(test_sign__vector2_utf8),
		cmocka_unit_test(test_sign__vector1_py3_is_bytes),
		cmocka_unit_test(test_sign__vector2_py3_latin1),
		cmocka_unit_test(test_sign__py3_four_byte_and_long_values),
		cmocka_unit_test(test_sign__order_and_case_independent),
		cmocka_unit_test(test_sign__unsigned_headers_ignored),
		cmocka_unit_test(test_sign__verify),
		cmocka_unit_test(test_sign__no_headers),
		cmocka_unit_test(test_sign__many_headers),
		cmocka_unit_test(test_sign__key_load_ok_keeps_newline),
		cmocka_unit_test(test_sign__key_load_refused),
		cmocka_unit_test(test_sign__block_vector1),
		cmocka_unit_test(test_sign__block_py3_latin1),
		cmocka_unit_test(test_sign__block_fqans_and_optional),
		cmocka_unit_test(test_sign__block_refuses_unsafe),
	};

	return (cmocka_run_group_tests_name("sign", tests, group_setup,
	    group_teardown));
}
