/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * Unit tests for http_path_normalize(): dot segments (plain and
 * percent-encoded), the rejected escapes (%2F, %00, %5C) and raw
 * backslash, unreserved decoding and upper-casing of kept escapes, the
 * query split and its validation, malformed escapes, characters outside
 * the RFC 3986 path set, escapes that are not shortest-form UTF-8, the
 * servlet "..;" trick, %3B, removing path parameters (what a servlet
 * backend maps), slash merging, buffer bounds, and idempotence
 * (normalising twice changes nothing), which is what makes routing on
 * the result safe.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "proxy/http.h"

struct norm {
	const char	*in;
	const char	*path;		/* NULL: expect an error */
	const char	*query;		/* expected query, NULL for none */
	const char	*why;		/* error fragment when path is NULL */
};

static int
normalize(const char *in, size_t len, char *out, size_t outlen,
    size_t *pathlen, const char **q, size_t *qlen, struct http_error *err)
{
	memset(err, 0, sizeof(*err));
	return (http_path_normalize(in, len, out, outlen, pathlen, q, qlen,
	    err));
}

static void
run_table(const struct norm *t, size_t n)
{
	char			 out[256];
	const char		*q;
	size_t			 i, pl, ql;
	struct http_error	 err;
	int			 rc;

	for (i = 0; i < n; i++) {
		memset(out, 'X', sizeof(out));
		rc = normalize(t[i].in, strlen(t[i].in), out, sizeof(out), &pl,
		    &q, &ql, &err);
		if (t[i].path == NULL) {
			if (rc != -1 || err.status != 400 ||
			    strstr(err.reason, t[i].why) == NULL)
				fail_msg("%s: rc %d, %d %s, want error %s",
				    t[i].in, rc, err.status,
				    err.reason ? err.reason : "-", t[i].why);
			continue;
		}
		if (rc != 0)
			fail_msg("%s: %s", t[i].in, err.reason);
		if (strcmp(out, t[i].path) != 0)
			fail_msg("%s: got \"%s\", want \"%s\"", t[i].in, out,
			    t[i].path);
		assert_int_equal(pl, strlen(t[i].path));
		if (t[i].query == NULL) {
			assert_null(q);
			assert_int_equal(ql, 0);
		} else {
			assert_non_null(q);
			assert_int_equal(ql, strlen(t[i].query));
			assert_memory_equal(q, t[i].query, ql);
			/* The query borrows from the input, raw. */
			assert_true(q >= t[i].in && q < t[i].in +
			    strlen(t[i].in));
		}
	}
}

#define RUN(t)	run_table(t, sizeof(t) / sizeof(t[0]))

static void
test_path__dot_segments(void **state)
{
	static const struct norm t[] = {
		{ "/", "/", NULL, NULL },
		{ "/a/b/c", "/a/b/c", NULL, NULL },
		{ "/a/./b", "/a/b", NULL, NULL },
		{ "/a/../b", "/b", NULL, NULL },
		{ "/a/b/../../c", "/c", NULL, NULL },
		{ "/a/b/..", "/a/", NULL, NULL },
		{ "/a/b/.", "/a/b/", NULL, NULL },
		{ "/a/b/./", "/a/b/", NULL, NULL },
		{ "/a/b/../", "/a/", NULL, NULL },
		{ "/.", "/", NULL, NULL },
		{ "/..", "/", NULL, NULL },
		{ "/a/..", "/", NULL, NULL },
		{ "/./a", "/a", NULL, NULL },
		/* Above the root stays at the root (RFC 3986 5.2.4). */
		{ "/../a", "/a", NULL, NULL },
		{ "/../../../etc/passwd", "/etc/passwd", NULL, NULL },
		{ "/a/b/../../../../c/./d/..", "/c/", NULL, NULL },
		{ "/dbs/../admin/", "/admin/", NULL, NULL },
		/* Not dot segments. */
		{ "/a/..b", "/a/..b", NULL, NULL },
		{ "/a/b..", "/a/b..", NULL, NULL },
		{ "/a/.b", "/a/.b", NULL, NULL },
		{ "/a/...", "/a/...", NULL, NULL },
		{ "/a/.../b", "/a/.../b", NULL, NULL },
	};

	RUN(t);
}

static void
test_path__encoded_dots(void **state)
{
	static const struct norm t[] = {
		{ "/a/%2e%2e/b", "/b", NULL, NULL },
		{ "/a/%2E%2E/b", "/b", NULL, NULL },
		{ "/a/.%2e/b", "/b", NULL, NULL },
		{ "/a/%2e./b", "/b", NULL, NULL },
		{ "/%2e/a", "/a", NULL, NULL },
		{ "/a/%2E", "/a/", NULL, NULL },
		{ "/a/b/%2e%2e", "/a/", NULL, NULL },
		{ "/dbs/%2e%2e/%2e%2e/admin", "/admin", NULL, NULL },
		/* Double encoding is decoded once only: stays literal. */
		{ "/a/%252e%252e/b", "/a/%252e%252e/b", NULL, NULL },
	};

	RUN(t);
}

static void
test_path__rejected_escapes_and_backslash(void **state)
{
	static const struct norm t[] = {
		{ "/a%2Fb", NULL, NULL, "encoded slash" },
		{ "/a%2fb", NULL, NULL, "encoded slash" },
		{ "/%2e%2e%2fetc", NULL, NULL, "encoded slash" },
		{ "/a%00", NULL, NULL, "encoded NUL" },
		{ "/a%00b", NULL, NULL, "encoded NUL" },
		{ "/a%5Cb", NULL, NULL, "encoded backslash" },
		{ "/a%5cb", NULL, NULL, "encoded backslash" },
		{ "/a\\b", NULL, NULL, "backslash" },
		{ "/..\\..\\etc", NULL, NULL, "backslash" },
		{ "\\a", NULL, NULL, "origin-form" },
	};

	RUN(t);
}

static void
test_path__unreserved_decoded_others_uppercased(void **state)
{
	static const struct norm t[] = {
		{ "/%41%62%7E%2D%5F%2E%30%39", "/Ab~-_.09", NULL, NULL },
		{ "/%7e%7a%5a", "/~zZ", NULL, NULL },
		{ "/a%2c%e2%82%ac", "/a%2C%E2%82%AC", NULL, NULL },
		{ "/a%20b", "/a%20b", NULL, NULL },
		{ "/%25", "/%25", NULL, NULL },
		{ "/%25%32%46", "/%252F", NULL, NULL },
		{ "/%3F%23", "/%3F%23", NULL, NULL },
		{ "/%0d%0a", "/%0D%0A", NULL, NULL },
	};

	RUN(t);
}

/*
 * Escapes of bytes 80-FF must spell shortest-form UTF-8 (RFC 3629): a
 * lenient decoder reads the overlong "%C0%AE" as '.', and then
 * "/svc/%C0%AE%C0%AE/admin" as "/svc/../admin".
 */
static void
test_path__utf8_escapes(void **state)
{
	static const struct norm t[] = {
		/* Valid: every length, the boundaries, lower-case hex. */
		{ "/%c2%80", "/%C2%80", NULL, NULL },
		{ "/a%C3%A9b", "/a%C3%A9b", NULL, NULL },
		{ "/%DF%BF", "/%DF%BF", NULL, NULL },
		{ "/%E0%A0%80", "/%E0%A0%80", NULL, NULL },
		{ "/%e2%82%ac%41", "/%E2%82%ACA", NULL, NULL },
		{ "/%ED%9F%BF", "/%ED%9F%BF", NULL, NULL },
		{ "/%EE%80%80", "/%EE%80%80", NULL, NULL },
		{ "/%EF%BF%BF", "/%EF%BF%BF", NULL, NULL },
		{ "/%F0%90%80%80", "/%F0%90%80%80", NULL, NULL },
		{ "/%F0%9F%98%80/x", "/%F0%9F%98%80/x", NULL, NULL },
		{ "/%F4%8F%BF%BF", "/%F4%8F%BF%BF", NULL, NULL },
		{ "/%C3%A9%C3%A9", "/%C3%A9%C3%A9", NULL, NULL },
		/* Only the path: the query is passed on raw. */
		{ "/a?%C0%AE%FF", "/a", "?%C0%AE%FF", NULL },
		/* Overlong forms. */
		{ "/svc/%C0%AE%C0%AE/admin", NULL, NULL, "invalid UTF-8" },
		{ "/%c0%ae", NULL, NULL, "invalid UTF-8" },
		{ "/%C0%AF", NULL, NULL, "invalid UTF-8" },
		{ "/%C1%BF", NULL, NULL, "invalid UTF-8" },
		{ "/%C0%80", NULL, NULL, "invalid UTF-8" },
		{ "/%E0%80%AE", NULL, NULL, "invalid UTF-8" },
		{ "/%E0%9F%BF", NULL, NULL, "invalid UTF-8" },
		{ "/%F0%80%80%AE", NULL, NULL, "invalid UTF-8" },
		{ "/%F0%8F%BF%BF", NULL, NULL, "invalid UTF-8" },
		/* Surrogates. */
		{ "/%ED%A0%80", NULL, NULL, "invalid UTF-8" },
		{ "/%ED%BF%BF", NULL, NULL, "invalid UTF-8" },
		{ "/%ED%A0%BD%ED%B8%80", NULL, NULL, "invalid UTF-8" },
		/* Above U+10FFFF, and bytes that are never UTF-8. */
		{ "/%F4%90%80%80", NULL, NULL, "invalid UTF-8" },
		{ "/%F5%80%80%80", NULL, NULL, "invalid UTF-8" },
		{ "/%F8%88%80%80%80", NULL, NULL, "invalid UTF-8" },
		{ "/%FE", NULL, NULL, "invalid UTF-8" },
		{ "/%ff", NULL, NULL, "invalid UTF-8" },
		/* Stray continuation bytes. */
		{ "/%80", NULL, NULL, "invalid UTF-8" },
		{ "/a%BFb", NULL, NULL, "invalid UTF-8" },
		{ "/%C3%A9%A9", NULL, NULL, "invalid UTF-8" },
		/* Truncated: end of path, end of segment, a query, a plain
		 * byte or an ASCII escape where a continuation belongs. */
		{ "/%C3", NULL, NULL, "invalid UTF-8" },
		{ "/%E2%82", NULL, NULL, "invalid UTF-8" },
		{ "/%F0%9F%98", NULL, NULL, "invalid UTF-8" },
		{ "/%C3/%A9", NULL, NULL, "invalid UTF-8" },
		{ "/%E2%82?%AC", NULL, NULL, "invalid UTF-8" },
		{ "/%C3a", NULL, NULL, "invalid UTF-8" },
		{ "/%C3%41", NULL, NULL, "invalid UTF-8" },
		{ "/%E2%82%4", NULL, NULL, "invalid UTF-8" },
		{ "/%E2%82%", NULL, NULL, "invalid UTF-8" },
	};

	RUN(t);
}

static void
test_path__query_split(void **state)
{
	static const struct norm t[] = {
		{ "/a?b=c&d", "/a", "?b=c&d", NULL },
		{ "/a?", "/a", "?", NULL },
		{ "/?", "/", "?", NULL },
		{ "/a/../b?x/../y", "/b", "?x/../y", NULL },
		{ "/?a?b", "/", "?a?b", NULL },
		{ "/a%2e?%2e%2F%zz", "/a.", "?%2e%2F%zz", NULL },
		{ "/a?q={\"x\":[1|2]}^`\\<>", "/a", "?q={\"x\":[1|2]}^`\\<>",
		    NULL },
		{ "/dbs/prod/global/DBSReader/datasets?dataset=/A/B/C&detail=1",
		    "/dbs/prod/global/DBSReader/datasets",
		    "?dataset=/A/B/C&detail=1", NULL },
		{ "/a?b c", NULL, NULL, "invalid character in query" },
		{ "/a?b#c", NULL, NULL, "fragment" },
		{ "/a?\x01", NULL, NULL, "invalid character in query" },
		{ "/a?\x7f", NULL, NULL, "invalid character in query" },
		{ "/a?\t", NULL, NULL, "invalid character in query" },
		{ "/a?\xc3\xa9", NULL, NULL, "invalid character in query" },
		/* The path is still checked when a query follows. */
		{ "/a%2F?x", NULL, NULL, "encoded slash" },
	};

	RUN(t);
}

static void
test_path__bad_escapes(void **state)
{
	static const struct norm t[] = {
		{ "/a%", NULL, NULL, "percent-escape" },
		{ "/a%2", NULL, NULL, "percent-escape" },
		{ "/a%2?x", NULL, NULL, "percent-escape" },
		{ "/a%zz", NULL, NULL, "percent-escape" },
		{ "/a%g0", NULL, NULL, "percent-escape" },
		{ "/a%0g", NULL, NULL, "percent-escape" },
		{ "/a%%41", NULL, NULL, "percent-escape" },
		{ "/a% 1", NULL, NULL, "percent-escape" },
		{ "/%2/", NULL, NULL, "percent-escape" },
	};

	RUN(t);
}

static void
test_path__raw_characters(void **state)
{
	static const char *const bad = " \"<>^`{|}[]#\x01\x1f\x7f\x80\xff";
	static const struct norm ok[] = {
		{ "/a!$&'()*+,;=:@b", "/a!$&'()*+,;=:@b", NULL, NULL },
		{ "/a-b_c~d.e", "/a-b_c~d.e", NULL, NULL },
		{ "/AZaz09", "/AZaz09", NULL, NULL },
	};
	char			 in[8], out[16];
	const char		*q, *p;
	size_t			 pl, ql;
	struct http_error	 err;

	for (p = bad; *p != '\0'; p++) {
		snprintf(in, sizeof(in), "/a%cb", *p);
		if (normalize(in, 4, out, sizeof(out), &pl, &q, &ql, &err) !=
		    -1 || err.status != 400)
			fail_msg("byte 0x%02x accepted", (unsigned char)*p);
	}
	/* NUL is a byte like any other here. */
	assert_int_equal(normalize("/a\0b", 4, out, sizeof(out), &pl, &q, &ql,
	    &err), -1);
	RUN(ok);
}

static void
test_path__servlet_dot_params_rejected(void **state)
{
	static const struct norm t[] = {
		{ "/a/..;/admin", NULL, NULL, "dot segment with parameters" },
		{ "/a/..;x=1/b", NULL, NULL, "dot segment with parameters" },
		{ "/a/.;/b", NULL, NULL, "dot segment with parameters" },
		{ "/a/%2e%2e;/b", NULL, NULL, "dot segment with parameters" },
		{ "/..;", NULL, NULL, "dot segment with parameters" },
		/* A parameter on a normal segment is fine. */
		{ "/a;v=1/b", "/a;v=1/b", NULL, NULL },
		{ "/a/..x;/b", "/a/..x;/b", NULL, NULL },
	};

	RUN(t);
}

/* An encoded ';' is refused: stacks disagree on whether it starts a
 * parameter.  A raw one is kept (conn.c decides, per listener). */
static void
test_path__encoded_semicolon_rejected(void **state)
{
	static const struct norm t[] = {
		{ "/prod%3Bx/y", NULL, NULL, "encoded ';'" },
		{ "/prod%3b/y", NULL, NULL, "encoded ';'" },
		{ "/a/%3B", NULL, NULL, "encoded ';'" },
		{ "/prod;x/y", "/prod;x/y", NULL, NULL },
		{ "/a?%3B", "/a", "?%3B", NULL },
	};

	RUN(t);
}

/* http_path_strip_params(): the path a servlet-style backend maps. */
static void
test_path__strip_params(void **state)
{
	static const struct {
		const char	*in, *want;
	} t[] = {
		{ "/prod;jsessionid=1/x", "/prod/x" },
		{ "/prod;/x", "/prod/x" },
		{ "/prod;a=1;b=2/x", "/prod/x" },
		{ "/a;1/b;2/c;3", "/a/b/c" },
		{ "/prod/x;y", "/prod/x" },
		{ "/prod;x", "/prod" },
		{ "/;x/prod", "/prod" },
		{ "/;a/;b/prod", "/prod" },
		{ "/prod/;x", "/prod/" },
		{ "/prod/;x/", "/prod/" },
		{ "/;x", "/" },
		{ "/", "/" },
		{ "/a/b/", "/a/b/" },
		{ "/a=1;b/c", "/a=1/c" },
	};
	char		 out[64], again[64];
	const char	*q;
	size_t		 i, n, pl, ql;
	struct http_error err;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		memset(out, 'X', sizeof(out));
		n = http_path_strip_params(t[i].in, strlen(t[i].in), out);
		if (strcmp(out, t[i].want) != 0)
			fail_msg("%s: got \"%s\", want \"%s\"", t[i].in, out,
			    t[i].want);
		assert_int_equal(n, strlen(t[i].want));
		/* The result is a normalised path again. */
		assert_int_equal(normalize(out, n, again, sizeof(again), &pl,
		    &q, &ql, &err), 0);
		assert_string_equal(again, out);
	}
}

static void
test_path__slashes_merged(void **state)
{
	static const struct norm t[] = {
		{ "//", "/", NULL, NULL },
		{ "//a///b//", "/a/b/", NULL, NULL },
		{ "/a//../b", "/b", NULL, NULL },
		{ "//admin", "/admin", NULL, NULL },
		{ "/a/.//./b", "/a/b", NULL, NULL },
	};

	RUN(t);
}

static void
test_path__not_origin_form(void **state)
{
	static const struct norm t[] = {
		{ "", NULL, NULL, "origin-form" },
		{ "a/b", NULL, NULL, "origin-form" },
		{ "*", NULL, NULL, "origin-form" },
		{ "http://x/", NULL, NULL, "origin-form" },
		{ "?x", NULL, NULL, "origin-form" },
	};

	RUN(t);
}

static void
test_path__output_bounds(void **state)
{
	static const char in[] = "/abc/def?q";
	char			 out[16];
	const char		*q;
	size_t			 pl, ql;
	struct http_error	 err;

	/* The path part is 8 bytes; 9 with its NUL is exactly enough. */
	memset(out, 'X', sizeof(out));
	assert_int_equal(normalize(in, sizeof(in) - 1, out, 9, &pl, &q, &ql,
	    &err), 0);
	assert_string_equal(out, "/abc/def");
	assert_int_equal(out[9], 'X');
	assert_int_equal(normalize(in, sizeof(in) - 1, out, 8, &pl, &q, &ql,
	    &err), -1);
	assert_int_equal(err.status, 414);
	/* Only the first len bytes are read: no NUL needed. */
	assert_int_equal(normalize("/ab/../cd", 6, out, sizeof(out), &pl, &q,
	    &ql, &err), 0);
	assert_string_equal(out, "/");
}

/* Normalising a normalised path changes nothing. */
static void
test_path__idempotent(void **state)
{
	static const char *const in[] = {
		"/a/./b/../c//d/%2e%2E/e%7e%2c",
		"/%41%2e%2e/x/.././y/",
		"//a/b/../../..//c",
		"/a%20b/%2e/%c3%a9",
		"/",
		"/..",
	};
	char			 one[128], two[128];
	const char		*q;
	size_t			 i, l1, l2, ql;
	struct http_error	 err;

	for (i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		assert_int_equal(normalize(in[i], strlen(in[i]), one,
		    sizeof(one), &l1, &q, &ql, &err), 0);
		assert_int_equal(normalize(one, l1, two, sizeof(two), &l2, &q,
		    &ql, &err), 0);
		assert_string_equal(one, two);
		assert_int_equal(l1, l2);
		/* No dot segment survives. */
		assert_null(strstr(one, "/./"));
		assert_null(strstr(one, "/../"));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_path__dot_segments),
		cmocka_unit_test(test_path__encoded_dots),
		cmocka_unit_test(test_path__rejected_escapes_and_backslash),
		cmocka_unit_test(
		    test_path__unreserved_decoded_others_uppercased),
		cmocka_unit_test(test_path__utf8_escapes),
		cmocka_unit_test(test_path__query_split),
		cmocka_unit_test(test_path__bad_escapes),
		cmocka_unit_test(test_path__raw_characters),
		cmocka_unit_test(test_path__servlet_dot_params_rejected),
		cmocka_unit_test(test_path__encoded_semicolon_rejected),
		cmocka_unit_test(test_path__strip_params),
		cmocka_unit_test(test_path__slashes_merged),
		cmocka_unit_test(test_path__not_origin_form),
		cmocka_unit_test(test_path__output_bounds),
		cmocka_unit_test(test_path__idempotent),
	};

	return (cmocka_run_group_tests_name("path", tests, NULL, NULL));
}
