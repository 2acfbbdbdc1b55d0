/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * Unit tests for auth/dn.c, the one slash-form DN formatter.  Names are
 * built with the OpenSSL API (and some round-tripped through DER, as a
 * certificate would carry them): a plain CMS DN, UTF-8 and BMPString
 * values, values holding '/', "/CN=", '+', '\' and control bytes, a
 * multi-valued RDN, a trailing numeric CN, emailAddress, an unknown OID,
 * the empty name, malformed values and short buffers.  Plain ASCII names
 * are compared byte for byte with X509_NAME_oneline().
 */

#include <sys/types.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include "auth/dn.h"

#define CMS_DN	"/DC=ch/DC=cern/OU=Organic Units/OU=Users/CN=jdoe/" \
		"CN=123456/CN=John Doe"

/* One attribute to add: type MBSTRING_* or V_ASN1_* (raw bytes). */
struct attr {
	const char	*field;
	int		 type;
	const char	*bytes;
	int		 len;		/* -1: strlen */
	int		 join;		/* 1: same RDN as the previous one */
};

static X509_NAME *
build(const struct attr *a, size_t n)
{
	X509_NAME	*name = X509_NAME_new();
	size_t		 i;

	/* Start each case with an empty queue: expect_dn() checks it. */
	ERR_clear_error();
	assert_non_null(name);
	for (i = 0; i < n; i++)
		assert_int_equal(X509_NAME_add_entry_by_txt(name, a[i].field,
		    a[i].type, (const unsigned char *)a[i].bytes, a[i].len, -1,
		    a[i].join ? -1 : 0), 1);
	return (name);
}

/* Encode and decode again: what x509.c sees comes from DER. */
static X509_NAME *
roundtrip(X509_NAME *name)
{
	unsigned char		*der = NULL;
	const unsigned char	*p;
	X509_NAME		*out;
	int			 len;

	len = i2d_X509_NAME(name, &der);
	assert_true(len > 0);
	p = der;
	out = d2i_X509_NAME(NULL, &p, len);
	assert_non_null(out);
	OPENSSL_free(der);
	X509_NAME_free(name);
	return (out);
}

/* Format name, check the text, both entry points, and free name. */
static void
expect_dn(X509_NAME *name, const char *want)
{
	char	 buf[2048], *s;
	ssize_t	 n;

	n = dn_format(name, buf, sizeof(buf));
	if (n < 0 || strcmp(buf, want) != 0)
		print_error("got \"%s\" (%zd), wanted \"%s\"\n", buf, n, want);
	assert_int_equal(n, strlen(want));
	assert_string_equal(buf, want);
	s = dn_format_alloc(name);
	assert_non_null(s);
	assert_string_equal(s, want);
	free(s);
	assert_int_equal(ERR_peek_error(), 0);
	X509_NAME_free(name);
}

static void
expect_oneline_equal(X509_NAME *name)
{
	char	 mine[1024], theirs[1024];

	assert_true(dn_format(name, mine, sizeof(mine)) > 0);
	assert_non_null(X509_NAME_oneline(name, theirs, sizeof(theirs)));
	assert_string_equal(mine, theirs);
}

static const struct attr cms[] = {
	{ "DC", MBSTRING_ASC, "ch", -1, 0 },
	{ "DC", MBSTRING_ASC, "cern", -1, 0 },
	{ "OU", MBSTRING_ASC, "Organic Units", -1, 0 },
	{ "OU", MBSTRING_ASC, "Users", -1, 0 },
	{ "CN", MBSTRING_ASC, "jdoe", -1, 0 },
	{ "CN", MBSTRING_ASC, "123456", -1, 0 },
	{ "CN", MBSTRING_ASC, "John Doe", -1, 0 },
};

static void
test_dn__plain_cms(void **state)
{
	X509_NAME	*n;

	(void)state;
	n = roundtrip(build(cms, 7));
	expect_oneline_equal(n);
	expect_dn(n, CMS_DN);
}

/* Plain ASCII names of several shapes match X509_NAME_oneline(). */
static void
test_dn__matches_oneline_on_ascii(void **state)
{
	static const struct attr host[] = {
		{ "C", MBSTRING_ASC, "CH", -1, 0 },
		{ "ST", MBSTRING_ASC, "Geneva", -1, 0 },
		{ "L", MBSTRING_ASC, "Meyrin", -1, 0 },
		{ "O", MBSTRING_ASC, "CERN", -1, 0 },
		{ "OU", MBSTRING_ASC, "IT-Dept. (CMSWEB)", -1, 0 },
		{ "CN", MBSTRING_ASC, "cmsweb.cern.ch", -1, 0 },
		{ "emailAddress", MBSTRING_ASC, "ops@cern.ch", -1, 0 },
	};
	static const struct attr igtf[] = {
		{ "DC", V_ASN1_IA5STRING, "org", -1, 0 },
		{ "DC", V_ASN1_IA5STRING, "terena", -1, 0 },
		{ "C", V_ASN1_PRINTABLESTRING, "DE", -1, 0 },
		{ "O", V_ASN1_UTF8STRING, "Example Univ, Inst. = \"x\"", -1,
		  0 },
		{ "UID", MBSTRING_ASC, "jdoe", -1, 0 },
		{ "serialNumber", MBSTRING_ASC, "0042", -1, 0 },
		{ "CN", V_ASN1_T61STRING, "John Doe; <jd@x.org>", -1, 0 },
	};
	static const struct attr multi[] = {
		{ "DC", MBSTRING_ASC, "ch", -1, 0 },
		{ "CN", MBSTRING_ASC, "a", -1, 0 },
		{ "UID", MBSTRING_ASC, "b", -1, 1 },
		{ "1.3.6.1.4.1.99999.7", MBSTRING_ASC, "v", -1, 0 },
	};
	X509_NAME	*n;

	(void)state;
	n = roundtrip(build(host, 7));
	expect_oneline_equal(n);
	expect_dn(n, "/C=CH/ST=Geneva/L=Meyrin/O=CERN/OU=IT-Dept. (CMSWEB)/"
	    "CN=cmsweb.cern.ch/emailAddress=ops@cern.ch");
	n = roundtrip(build(igtf, 7));
	expect_oneline_equal(n);
	expect_dn(n, "/DC=org/DC=terena/C=DE/O=Example Univ, Inst. = \"x\"/"
	    "UID=jdoe/serialNumber=0042/CN=John Doe; <jd@x.org>");
	n = roundtrip(build(multi, 4));
	expect_oneline_equal(n);
	expect_dn(n, "/DC=ch/CN=a+UID=b/1.3.6.1.4.1.99999.7=v");
}

static void
test_dn__utf8_value(void **state)
{
	static const struct attr a[] = {
		{ "DC", MBSTRING_ASC, "ch", -1, 0 },
		{ "CN", MBSTRING_UTF8, "Jos\xc3\xa9 M\xc3\xbcller", -1, 0 },
		{ "O", V_ASN1_UTF8STRING, "\xe6\x9d\xb1\xe4\xba\xac "
		    "\xf0\x9f\x94\x92", -1, 0 },
	};
	X509_NAME	*n;
	char		 theirs[256];

	(void)state;
	n = roundtrip(build(a, 3));
	/* OpenSSL's own one-liner would give \xC3\xA9: not what CRIC has. */
	assert_non_null(X509_NAME_oneline(n, theirs, sizeof(theirs)));
	assert_non_null(strstr(theirs, "\\xC3\\xA9"));
	expect_dn(n, "/DC=ch/CN=Jos\xc3\xa9 M\xc3\xbcller/"
	    "O=\xe6\x9d\xb1\xe4\xba\xac \xf0\x9f\x94\x92");
}

static void
test_dn__bmpstring_and_latin1(void **state)
{
	/* "José Müller" in UTF-16BE, and in Latin-1 as a T61String. */
	static const char bmp[] = "\0J\0o\0s\0\xe9\0 \0M\0\xfc\0l\0l\0e\0r";
	static const char latin1[] = "Jos\xe9";
	struct attr	 a[2] = {
		{ "CN", V_ASN1_BMPSTRING, bmp, sizeof(bmp) - 1, 0 },
		{ "CN", V_ASN1_T61STRING, latin1, sizeof(latin1) - 1, 0 },
	};

	(void)state;
	expect_dn(roundtrip(build(a, 2)), "/CN=Jos\xc3\xa9 M\xc3\xbcller/"
	    "CN=Jos\xc3\xa9");
}

/* A '/' or "/CN=" inside a value can never pass for a separator. */
static void
test_dn__slash_in_value_is_unambiguous(void **state)
{
	static const struct attr inside[] = {
		{ "DC", MBSTRING_ASC, "ch", -1, 0 },
		{ "CN", MBSTRING_ASC, "jdoe/CN=admin", -1, 0 },
	};
	static const struct attr two[] = {
		{ "DC", MBSTRING_ASC, "ch", -1, 0 },
		{ "CN", MBSTRING_ASC, "jdoe", -1, 0 },
		{ "CN", MBSTRING_ASC, "admin", -1, 0 },
	};
	static const struct attr path[] = {
		{ "OU", MBSTRING_ASC, "a/b/c", -1, 0 },
	};
	char	 a[256], b[256];

	(void)state;
	expect_dn(roundtrip(build(inside, 2)), "/DC=ch/CN=jdoe\\/CN=admin");
	expect_dn(roundtrip(build(two, 3)), "/DC=ch/CN=jdoe/CN=admin");
	expect_dn(roundtrip(build(path, 1)), "/OU=a\\/b\\/c");
	/* And the two really differ, whatever buffer they go through. */
	{
		X509_NAME *x = build(inside, 2), *y = build(two, 3);

		assert_true(dn_format(x, a, sizeof(a)) > 0);
		assert_true(dn_format(y, b, sizeof(b)) > 0);
		assert_string_not_equal(a, b);
		X509_NAME_free(x);
		X509_NAME_free(y);
	}
}

/* '\' is escaped too, so "a\" + "/CN=b" and "a\/CN=b" stay apart. */
static void
test_dn__plus_and_backslash(void **state)
{
	static const struct attr plus[] = {
		{ "CN", MBSTRING_ASC, "x+y\\z", -1, 0 },
	};
	static const struct attr tail[] = {
		{ "CN", MBSTRING_ASC, "a\\", -1, 0 },
		{ "CN", MBSTRING_ASC, "b", -1, 0 },
	};
	static const struct attr one[] = {
		{ "CN", MBSTRING_ASC, "a\\/CN=b", -1, 0 },
	};
	static const struct attr multi[] = {
		{ "CN", MBSTRING_ASC, "a", -1, 0 },
		{ "UID", MBSTRING_ASC, "b", -1, 1 },
	};
	static const struct attr fake[] = {
		{ "CN", MBSTRING_ASC, "a+UID=b", -1, 0 },
	};

	(void)state;
	expect_dn(roundtrip(build(plus, 1)), "/CN=x\\+y\\\\z");
	expect_dn(roundtrip(build(tail, 2)), "/CN=a\\\\/CN=b");
	expect_dn(roundtrip(build(one, 1)), "/CN=a\\\\\\/CN=b");
	expect_dn(roundtrip(build(multi, 2)), "/CN=a+UID=b");
	expect_dn(roundtrip(build(fake, 1)), "/CN=a\\+UID=b");
}

static void
test_dn__multivalued_rdn(void **state)
{
	static const struct attr a[] = {
		{ "DC", MBSTRING_ASC, "ch", -1, 0 },
		{ "OU", MBSTRING_ASC, "Users", -1, 0 },
		{ "CN", MBSTRING_ASC, "a", -1, 0 },
		{ "UID", MBSTRING_ASC, "b", -1, 1 },
		{ "CN", MBSTRING_ASC, "c", -1, 0 },
	};
	static const struct attr split[] = {
		{ "DC", MBSTRING_ASC, "ch", -1, 0 },
		{ "OU", MBSTRING_ASC, "Users", -1, 0 },
		{ "CN", MBSTRING_ASC, "a", -1, 0 },
		{ "UID", MBSTRING_ASC, "b", -1, 0 },
		{ "CN", MBSTRING_ASC, "c", -1, 0 },
	};
	X509_NAME	*n;

	(void)state;
	n = roundtrip(build(a, 5));
	assert_int_equal(X509_NAME_entry_count(n), 5);
	expect_dn(n, "/DC=ch/OU=Users/CN=a+UID=b/CN=c");
	expect_dn(roundtrip(build(split, 5)),
	    "/DC=ch/OU=Users/CN=a/UID=b/CN=c");
}

/* The old Perl frontend stripped numeric CNs: a robot's DN keeps them. */
static void
test_dn__trailing_numeric_cn_kept(void **state)
{
	static const struct attr a[] = {
		{ "DC", MBSTRING_ASC, "ch", -1, 0 },
		{ "DC", MBSTRING_ASC, "cern", -1, 0 },
		{ "OU", MBSTRING_ASC, "Organic Units", -1, 0 },
		{ "OU", MBSTRING_ASC, "Users", -1, 0 },
		{ "CN", MBSTRING_ASC, "cmsbot", -1, 0 },
		{ "CN", MBSTRING_ASC, "777777", -1, 0 },
		{ "CN", MBSTRING_ASC, "Robot: CMS Bot", -1, 0 },
		{ "CN", MBSTRING_ASC, "1234567", -1, 0 },
	};
	X509_NAME	*n;

	(void)state;
	n = roundtrip(build(a, 8));
	expect_oneline_equal(n);
	expect_dn(n, "/DC=ch/DC=cern/OU=Organic Units/OU=Users/CN=cmsbot/"
	    "CN=777777/CN=Robot: CMS Bot/CN=1234567");
}

static void
test_dn__email_and_unknown_oid(void **state)
{
	static const struct attr a[] = {
		{ "CN", MBSTRING_ASC, "jdoe", -1, 0 },
		{ "emailAddress", MBSTRING_ASC, "john.doe@cern.ch", -1, 0 },
		{ "1.3.6.1.4.1.99999.1", MBSTRING_UTF8, "custom", -1, 0 },
	};

	(void)state;
	expect_dn(roundtrip(build(a, 3)), "/CN=jdoe/"
	    "emailAddress=john.doe@cern.ch/1.3.6.1.4.1.99999.1=custom");
}

static void
test_dn__control_bytes_escaped(void **state)
{
	static const struct attr a[] = {
		{ "CN", V_ASN1_UTF8STRING, "a\nb\x7f\tc\0d", 8, 0 },
	};

	(void)state;
	expect_dn(roundtrip(build(a, 1)), "/CN=a\\x0Ab\\x7F\\x09c\\x00d");
}

static void
test_dn__empty_name(void **state)
{
	X509_NAME	*n = X509_NAME_new();
	char		 buf[8] = "junk";
	char		*s;

	(void)state;
	assert_int_equal(dn_format(n, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
	s = dn_format_alloc(n);
	assert_non_null(s);
	assert_string_equal(s, "");
	free(s);
	X509_NAME_free(n);
	assert_int_equal(dn_format(NULL, buf, sizeof(buf)), -1);
	assert_null(dn_format_alloc(NULL));
}

static void
test_dn__malformed_refused(void **state)
{
	static const struct attr badutf8[] = {
		{ "DC", MBSTRING_ASC, "ch", -1, 0 },
		{ "CN", V_ASN1_UTF8STRING, "Jos\xe9", -1, 0 },
	};
	static const struct attr overlong[] = {
		{ "CN", V_ASN1_UTF8STRING, "\xc0\xaf", -1, 0 },
	};
	static const struct attr surrogate[] = {
		{ "CN", V_ASN1_UTF8STRING, "\xed\xa0\x80", -1, 0 },
	};
	/* Converted by OpenSSL, which refuses them: a lone surrogate in a
	 * BMPString and a code point above U+10FFFF in a UniversalString. */
	static const struct attr bmpsur[] = {
		{ "CN", V_ASN1_BMPSTRING, "\0J\xd8\0", 4, 0 },
	};
	static const struct attr univ[] = {
		{ "CN", V_ASN1_UNIVERSALSTRING, "\0\x11\0\0", 4, 0 },
	};
	const struct attr *cases[] = {
		badutf8, overlong, surrogate, bmpsur, univ
	};
	const size_t	 ncases[] = { 2, 1, 1, 1, 1 };
	X509_NAME	*n;
	char		 buf[256];
	size_t		 i;

	(void)state;
	/*
	 * Built in memory only: OpenSSL's name canonicalisation converts
	 * every value to UTF-8 too, so it will not DER-encode these names
	 * (i2d fails) and a certificate carrying one fails to parse.  The
	 * formatter still refuses them on its own.
	 */
	for (i = 0; i < 5; i++) {
		n = build(cases[i], ncases[i]);
		strcpy(buf, "junk");
		assert_int_equal(dn_format(n, buf, sizeof(buf)), -1);
		assert_string_equal(buf, "");
		assert_null(dn_format_alloc(n));
		/* The refusal leaves no error queued for the caller. */
		assert_int_equal(ERR_peek_error(), 0);
		X509_NAME_free(n);
	}
}

static void
test_dn__buffer_too_small(void **state)
{
	X509_NAME	*n = build(cms, 7);
	char		 buf[128];
	size_t		 len = strlen(CMS_DN);

	(void)state;
	memset(buf, 'x', sizeof(buf));
	/* Exactly enough: the text and its NUL. */
	assert_int_equal(dn_format(n, buf, len + 1), len);
	assert_string_equal(buf, CMS_DN);
	/* One byte short: refused, and the buffer holds "". */
	memset(buf, 'x', sizeof(buf));
	assert_int_equal(dn_format(n, buf, len), -1);
	assert_int_equal(buf[0], '\0');
	assert_int_equal(buf[len], 'x');	/* nothing written past it */
	assert_int_equal(dn_format(n, buf, 1), -1);
	assert_int_equal(dn_format(n, buf, 0), -1);
	assert_int_equal(dn_format(n, NULL, 0), -1);
	X509_NAME_free(n);
}

/* Longer than dn_format_alloc()'s first buffer. */
static void
test_dn__long_name_alloc(void **state)
{
	X509_NAME	*n = X509_NAME_new();
	char		 want[4096], val[16], *s;
	size_t		 w = 0;
	int		 i;

	(void)state;
	for (i = 0; i < 200; i++) {
		snprintf(val, sizeof(val), "v%03d/", i);
		assert_int_equal(X509_NAME_add_entry_by_txt(n, "OU",
		    MBSTRING_ASC, (const unsigned char *)val, -1, -1, 0), 1);
		w += (size_t)snprintf(want + w, sizeof(want) - w,
		    "/OU=v%03d\\/", i);
	}
	assert_true(w > 512);
	s = dn_format_alloc(n);
	assert_non_null(s);
	assert_string_equal(s, want);
	free(s);
	expect_dn(n, want);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dn__plain_cms),
		cmocka_unit_test(test_dn__matches_oneline_on_ascii),
		cmocka_unit_test(test_dn__utf8_value),
		cmocka_unit_test(test_dn__bmpstring_and_latin1),
		cmocka_unit_test(test_dn__slash_in_value_is_unambiguous),
		cmocka_unit_test(test_dn__plus_and_backslash),
		cmocka_unit_test(test_dn__multivalued_rdn),
		cmocka_unit_test(test_dn__trailing_numeric_cn_kept),
		cmocka_unit_test(test_dn__email_and_unknown_oid),
		cmocka_unit_test(test_dn__control_bytes_escaped),
		cmocka_unit_test(test_dn__empty_name),
		cmocka_unit_test(test_dn__malformed_refused),
		cmocka_unit_test(test_dn__buffer_too_small),
		cmocka_unit_test(test_dn__long_name_alloc),
	};

	return (cmocka_run_group_tests_name("dn", tests, NULL, NULL));
}
