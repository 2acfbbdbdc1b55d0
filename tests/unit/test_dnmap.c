/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * Unit tests for auth/dnmap.c, the CRIC users file loader: a good file
 * (the PROTOCOL.md example, a user with two DNs, a UTF-8 name, malformed
 * role tokens), skipped records and their count, records refused for
 * bytes that are not UTF-8 (counted apart), whole-file rejections
 * (malformed, truncated, empty, "[]", "{}"), exact and order-insensitive
 * lookups, and a 50k-record file.  Fixtures are in tests/fixtures/cric/;
 * generated files go to a mkdtemp() directory.
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
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "tmpfiles.h"

#include "auth/dnmap.h"

/* Relative to the repository root, where the tests are run from. */
#define FIX	"tests/fixtures/cric/"

#define JDOE_DN	"/DC=ch/DC=cern/OU=Organic Units/OU=Users/CN=jdoe/" \
		"CN=123456/CN=John Doe"
#define JM_DN1	"/DC=ch/DC=cern/OU=Organic Units/OU=Users/CN=jmuller/" \
		"CN=654321/CN=Jos\xc3\xa9 M\xc3\xbcller"
#define JM_DN2	"/DC=org/DC=terena/DC=tcs/C=DE/O=Example University/" \
		"CN=Jose Muller jmuller@example.org"
#define BOT_DN	"/DC=ch/DC=cern/OU=Organic Units/OU=Users/CN=cmsbot/" \
		"CN=777777/CN=Robot: CMS Bot/CN=1234567"


static int
group_setup(void **state)
{
	(void)state;
	return (tmp_setup("test_dnmap"));
}

static int
group_teardown(void **state)
{
	(void)state;
	return (tmp_teardown());
}

static const char *
write_tmp(const char *name, const void *data, size_t len)
{
	return (tmp_write(name, data, len, 0644));
}

static const char *
role(const struct dnmap_user *u, const char *name)
{
	size_t	 i;

	for (i = 0; i < u->nroles; i++)
		if (strcmp(u->roles[i].name, name) == 0)
			return (u->roles[i].value);
	return (NULL);
}

static void
test_dnmap__good_file(void **state)
{
	struct dnmap_info	 info;
	struct dnmap		*m;
	const struct dnmap_user	*u, *u2;
	char			 err[256] = "";

	(void)state;
	m = dnmap_load(FIX "users-good.json", &info, err, sizeof(err));
	assert_non_null(m);
	assert_string_equal(err, "");
	assert_int_equal(info.records, 4);
	assert_int_equal(info.users, 3);
	assert_int_equal(info.dns, 4);
	assert_int_equal(info.skipped, 0);
	assert_string_equal(info.first_skip, "");
	assert_int_equal(dnmap_size(m), 4);
	assert_int_equal(dnmap_users(m), 3);

	/* The PROTOCOL.md example, roles in file order. */
	u = dnmap_lookup(m, JDOE_DN);
	assert_non_null(u);
	assert_string_equal(u->dn, JDOE_DN);
	assert_string_equal(u->login, "jdoe");
	assert_string_equal(u->name, "John Doe");
	assert_int_equal(u->id, 123456);
	assert_int_equal(u->nroles, 2);
	assert_string_equal(u->roles[0].name, "operator");
	assert_string_equal(u->roles[0].value, "group:dbs group:xcache");
	assert_string_equal(u->roles[1].name, "data-manager");
	assert_string_equal(u->roles[1].value, "site:t2-ch-cern");

	/* Two DNs, one account, roles merged and deduplicated. */
	u = dnmap_lookup(m, JM_DN1);
	u2 = dnmap_lookup(m, JM_DN2);
	assert_non_null(u);
	assert_non_null(u2);
	assert_string_equal(u->dn, JM_DN1);
	assert_string_equal(u2->dn, JM_DN2);
	assert_string_equal(u->login, "jmuller");
	assert_ptr_equal(u->login, u2->login);
	assert_ptr_equal(u->roles, u2->roles);
	assert_string_equal(u->name, "Jos\xc3\xa9 M\xc3\xbcller");
	assert_int_equal(u->nroles, 2);
	assert_string_equal(role(u, "user"), "group:users group:analysis");
	/* "Admin" is folded to a header-safe lower-case name. */
	assert_string_equal(role(u, "admin"), "site:t2-de-desy");

	/* Numeric trailing CN kept; malformed tokens and roles dropped. */
	u = dnmap_lookup(m, BOT_DN);
	assert_non_null(u);
	assert_string_equal(u->name, "");
	assert_int_equal(u->nroles, 1);
	assert_string_equal(role(u, "operator"), "group:dbs");
	assert_int_equal(info.dropped_tokens, 6);
	assert_int_equal(info.dropped_roles, 3);

	assert_null(dnmap_lookup(m, "/DC=ch/DC=cern/OU=Organic Units/"
	    "OU=Users/CN=cmsbot/CN=777777/CN=Robot: CMS Bot"));
	assert_null(dnmap_lookup(m, JDOE_DN "/CN=proxy"));
	assert_null(dnmap_lookup(m, ""));
	assert_null(dnmap_lookup(m, NULL));
	assert_null(dnmap_lookup(NULL, JDOE_DN));
	assert_int_equal(dnmap_size(NULL), 0);
	dnmap_free(m);
	dnmap_free(NULL);
}

static void
test_dnmap__bad_records_skipped(void **state)
{
	struct dnmap_info	 info;
	struct dnmap		*m;
	const struct dnmap_user	*u;
	char			 err[256] = "";

	(void)state;
	m = dnmap_load(FIX "users-skip.json", &info, err, sizeof(err));
	assert_non_null(m);
	assert_int_equal(info.records, 13);
	assert_int_equal(info.skipped, 11);
	assert_int_equal(info.users, 1);
	assert_int_equal(info.dns, 1);
	assert_string_equal(info.first_skip, "record 1: NAME missing");
	assert_int_equal(dnmap_size(m), 1);

	/* The first record of a DN wins; a repeat of it adds roles. */
	u = dnmap_lookup(m, "/DC=ch/CN=good");
	assert_non_null(u);
	assert_string_equal(u->login, "good");
	assert_int_equal(u->id, 7);
	assert_int_equal(u->nroles, 1);
	assert_string_equal(role(u, "user"), "group:users group:more");
	assert_null(role(u, "admin"));
	assert_null(dnmap_lookup(m, "/DC=ch/CN=no-name"));
	assert_null(dnmap_lookup(m, "/DC=ch/CN=string-id"));
	assert_null(dnmap_lookup(m, "/DC=ch/CN=nul-name"));
	dnmap_free(m);
}

/*
 * Records whose DN, LOGIN or NAME is not UTF-8 go, counted apart; the
 * rest of the file loads (jansson alone would refuse it all).  Written
 * here byte by byte, since a fixture editor could "fix" the bytes.
 */
static void
test_dnmap__bad_utf8_record(void **state)
{
#define REC(dn, login, name, extra)					\
	"{\"DN\": \"" dn "\", \"ID\": 1, \"LOGIN\": \"" login "\", "	\
	"\"NAME\": \"" name "\", \"ROLES\": {}" extra "},\n"
	static const char json[] = "[\n"
	    REC("/CN=ok", "ok", "Jos\xc3\xa9 M\xc3\xbcller", "")
	    /* Latin-1 bytes, as a mis-encoded export writes them. */
	    REC("/CN=latin1", "latin1", "Jos\xe9 M\xfcller", "")
	    /* An overlong '/' in the DN. */
	    REC("/CN=overlong\xc0\xaf", "overlong", "O", "")
	    /* Python's json.dumps of a surrogate-escaped byte. */
	    REC("/CN=surrogate", "sur\\udce9", "S", "")
	    /* A UTF-16 surrogate written as UTF-8, and past U+10FFFF. */
	    REC("/CN=cesu", "cesu", "\xed\xa0\x80", "")
	    REC("/CN=big", "big", "\xf4\x90\x80\x80", "")
	    /* Cut short just before the closing quote. */
	    REC("/CN=cut", "cut", "abc\xe2\x82", "")
	    /* The noncharacter the loader uses as its mark. */
	    REC("/CN=mark", "mark", "x\\uFDD0", "")
	    /* A proper pair: U+1F600, four bytes; fine. */
	    REC("/CN=pair", "pair", "Smile \\ud83d\\ude00", "")
	    /* Not UTF-8 in a key gridfront ignores, after an escaped quote:
	     * the record stays. */
	    REC("/CN=other", "other", "Q\\\"uote", ", \"EMAIL\": \"\xff\"")
	    "{\"DN\": \"/CN=last\", \"ID\": 2, \"LOGIN\": \"last\", "
	    "\"NAME\": \"\xf0\x9f\x98\x80\", \"ROLES\": {}}\n]\n";
#undef REC
	static const char *const gone[] = { "/CN=latin1", "/CN=overlong\xc0\xaf",
	    "/CN=surrogate", "/CN=cesu", "/CN=big", "/CN=cut", "/CN=mark" };
	struct dnmap_info	 info;
	struct dnmap		*m;
	const struct dnmap_user	*u;
	const char		*p;
	char			 err[256] = "";
	size_t			 i;

	(void)state;
	p = write_tmp("utf8.json", json, sizeof(json) - 1);
	m = dnmap_load(p, &info, err, sizeof(err));
	if (m == NULL)
		print_error("%s\n", err);
	assert_non_null(m);
	assert_int_equal(info.records, 11);
	assert_int_equal(info.bad_utf8, 7);
	assert_int_equal(info.skipped, 7);
	assert_string_equal(info.first_bad_utf8,
	    "record 2: NAME is not valid UTF-8");
	assert_string_equal(info.first_skip,
	    "record 2: NAME is not valid UTF-8");
	assert_int_equal(dnmap_size(m), 4);
	for (i = 0; i < sizeof(gone) / sizeof(gone[0]); i++)
		assert_null(dnmap_lookup(m, gone[i]));
	u = dnmap_lookup(m, "/CN=ok");
	assert_non_null(u);
	assert_string_equal(u->name, "Jos\xc3\xa9 M\xc3\xbcller");
	u = dnmap_lookup(m, "/CN=pair");
	assert_non_null(u);
	assert_string_equal(u->name, "Smile \xf0\x9f\x98\x80");
	u = dnmap_lookup(m, "/CN=other");
	assert_non_null(u);
	assert_string_equal(u->name, "Q\"uote");
	u = dnmap_lookup(m, "/CN=last");
	assert_non_null(u);
	assert_string_equal(u->name, "\xf0\x9f\x98\x80");
	dnmap_free(m);
}

/* Each file is refused as a whole, with an err that says why. */
static void
expect_refused(const char *path, const char *fragment)
{
	struct dnmap_info	 info;
	struct dnmap		*m;
	char			 err[256] = "";

	m = dnmap_load(path, &info, err, sizeof(err));
	if (m != NULL || strstr(err, fragment) == NULL)
		print_error("%s: err \"%s\", wanted \"%s\"\n", path, err,
		    fragment);
	assert_null(m);
	assert_non_null(strstr(err, fragment));
	assert_non_null(strstr(err, path));
}

static void
test_dnmap__bad_files_refused(void **state)
{
	char		 buf[4096];
	FILE		*fp;
	size_t		 n;
	const char	*p;

	(void)state;
	expect_refused(FIX "bad-malformed.json",
	    "invalid JSON at line 2, column 32 (byte 34): string or '}' "
	    "expected near ','");
	expect_refused(FIX "empty.json", "is empty");
	expect_refused(FIX "empty-array.json", "no user records (empty array)");
	expect_refused(FIX "object.json", "top level is a JSON object, not an "
	    "array");
	expect_refused(FIX "all-skipped.json", "no usable record, all 2 "
	    "skipped (first: record 1: DN missing)");
	expect_refused(FIX "no-such-file.json", "No such file or directory");
	expect_refused(FIX, "not a regular file");

	/* The good file cut short, as a failed download leaves it. */
	fp = fopen(FIX "users-good.json", "r");
	assert_non_null(fp);
	n = fread(buf, 1, sizeof(buf), fp);
	fclose(fp);
	assert_true(n > 400);
	p = write_tmp("truncated.json", buf, n / 2);
	expect_refused(p, "invalid JSON at line");
	p = write_tmp("truncated-end.json", buf, n - 3);
	expect_refused(p, "invalid JSON at line");
	p = write_tmp("blank.json", " \n\n", 3);
	expect_refused(p, "invalid JSON at line 3");
	p = write_tmp("scalar.json", "\"users\"", 7);
	expect_refused(p, "'[' or '{' expected");
	p = write_tmp("trailing.json", "[] []", 5);
	expect_refused(p, "invalid JSON");
	/* Not UTF-8 outside a string is bad JSON; inside one it costs the
	 * record only (test_dnmap__bad_utf8_record), here the only one. */
	p = write_tmp("badutf8.json", "[\xff]", 3);
	expect_refused(p, "invalid JSON");
	p = write_tmp("badutf8-str.json", "[\"\xff\"]", 5);
	expect_refused(p, "no usable record");
}

/* Build a users file from (dn, login) pairs. */
static const char *
write_users(const char *name, const char *const *pairs, size_t n)
{
	const char	*p = tmp_path(name), *q;
	FILE		*fp;
	size_t		 i;

	fp = fopen(p, "w");
	assert_non_null(fp);
	fputs("[\n", fp);
	for (i = 0; i < n; i++) {
		fprintf(fp, "%s{\"DN\": \"", i ? "," : "");
		/* JSON-escape the DN: its backslashes are data. */
		for (q = pairs[2 * i]; *q != '\0'; q++) {
			if (*q == '\\' || *q == '"')
				fputc('\\', fp);
			fputc(*q, fp);
		}
		fprintf(fp, "\", \"ID\": %zu, \"LOGIN\": \"%s\", \"NAME\": "
		    "\"N\", \"ROLES\": {\"user\": [\"group:u\"]}}\n", i,
		    pairs[2 * i + 1]);
	}
	fputs("]\n", fp);
	assert_int_equal(fclose(fp), 0);
	return (p);
}

static void
test_dnmap__lookup_unordered(void **state)
{
	static const char *const users[] = {
		JDOE_DN, "jdoe",
		/* An escaped '/' is inside a value, not a separator. */
		"/DC=ch/CN=a\\/CN=b/O=x", "escaped",
		/* A value that ends in '\' before a real separator. */
		"/DC=ch/CN=c\\\\/CN=d", "backslash",
		/* Two accounts whose DNs are permutations: ambiguous. */
		"/DC=org/CN=p/CN=q", "first",
		"/DC=org/CN=q/CN=p", "second",
		/* The same account under two permuted DNs is not. */
		"/DC=net/CN=r/CN=s", "same",
		"/DC=net/CN=s/CN=r", "same",
	};
	struct dnmap		*m;
	const struct dnmap_user	*u;
	char			 err[256] = "", *longdn;
	const char		*p;
	size_t			 i;

	(void)state;
	p = write_users("perm.json", users, 7);
	m = dnmap_load(p, NULL, err, sizeof(err));
	assert_non_null(m);
	assert_int_equal(dnmap_size(m), 7);
	assert_int_equal(dnmap_users(m), 6);

	/* Exact first: the argument and the file agree. */
	u = dnmap_lookup_unordered(m, JDOE_DN);
	assert_non_null(u);
	assert_string_equal(u->dn, JDOE_DN);

	/* Reversed order: only the unordered lookup finds it, and it
	 * answers with CRIC's own DN. */
	p = "/CN=John Doe/CN=123456/CN=jdoe/OU=Users/OU=Organic Units/"
	    "DC=cern/DC=ch";
	assert_null(dnmap_lookup(m, p));
	u = dnmap_lookup_unordered(m, p);
	assert_non_null(u);
	assert_string_equal(u->login, "jdoe");
	assert_string_equal(u->dn, JDOE_DN);

	/* A multiset: a missing or an extra component does not match. */
	assert_null(dnmap_lookup_unordered(m, "/CN=John Doe/CN=123456/"
	    "CN=jdoe/OU=Users/OU=Organic Units/DC=cern"));
	assert_null(dnmap_lookup_unordered(m, "/CN=John Doe/CN=123456/"
	    "CN=jdoe/OU=Users/OU=Organic Units/DC=cern/DC=ch/DC=ch"));

	/* Three components, "CN=a\/CN=b" being one of them. */
	u = dnmap_lookup_unordered(m, "/O=x/CN=a\\/CN=b/DC=ch");
	assert_non_null(u);
	assert_string_equal(u->login, "escaped");
	assert_string_equal(u->dn, "/DC=ch/CN=a\\/CN=b/O=x");
	/* Splitting on the escaped '/' would wrongly match these (the
	 * first ends in a dangling '\', which is never a valid DN). */
	assert_null(dnmap_lookup_unordered(m, "/CN=b/O=x/DC=ch/CN=a\\"));
	assert_null(dnmap_lookup_unordered(m, "/DC=ch/CN=a/CN=b/O=x"));
	/* "\\" is an escaped backslash: the '/' after it separates. */
	u = dnmap_lookup_unordered(m, "/CN=d/CN=c\\\\/DC=ch");
	assert_non_null(u);
	assert_string_equal(u->login, "backslash");
	assert_null(dnmap_lookup_unordered(m, "/CN=d/DC=ch/CN=c\\\\/"));

	/* Ambiguous permutation: each exact DN works, a third order not. */
	u = dnmap_lookup_unordered(m, "/DC=org/CN=p/CN=q");
	assert_non_null(u);
	assert_string_equal(u->login, "first");
	u = dnmap_lookup_unordered(m, "/DC=org/CN=q/CN=p");
	assert_non_null(u);
	assert_string_equal(u->login, "second");
	assert_null(dnmap_lookup_unordered(m, "/CN=p/CN=q/DC=org"));
	u = dnmap_lookup_unordered(m, "/CN=s/DC=net/CN=r");
	assert_non_null(u);
	assert_string_equal(u->login, "same");

	/* A DN over 1 KiB takes the heap path and still matches nothing. */
	longdn = malloc(3000);
	assert_non_null(longdn);
	for (i = 0; i < 2990; i += 2)
		memcpy(longdn + i, "/x", 2);
	longdn[2990] = '\0';
	assert_null(dnmap_lookup_unordered(m, longdn));
	free(longdn);
	assert_null(dnmap_lookup_unordered(NULL, JDOE_DN));
	assert_null(dnmap_lookup_unordered(m, NULL));
	dnmap_free(m);
}

static void
test_dnmap__long_dn_unordered(void **state)
{
	char		 dn[1600], rev[1600], *w;
	const char	*pairs[2], *p;
	struct dnmap	*m;
	const struct dnmap_user *u;
	char		 err[256] = "";
	int		 i;

	(void)state;
	/* 150 components "/CN=cNNN": 1200 bytes, past the stack buffer. */
	w = dn;
	for (i = 0; i < 150; i++)
		w += sprintf(w, "/CN=c%03d", i);
	w = rev;
	for (i = 149; i >= 0; i--)
		w += sprintf(w, "/CN=c%03d", i);
	assert_true(strlen(dn) > 1024);
	pairs[0] = dn;
	pairs[1] = "longdn";
	p = write_users("long.json", pairs, 1);
	m = dnmap_load(p, NULL, err, sizeof(err));
	assert_non_null(m);
	u = dnmap_lookup_unordered(m, rev);
	assert_non_null(u);
	assert_string_equal(u->dn, dn);
	rev[strlen(rev) - 1] = '9';	/* c000 -> c009: a duplicate */
	assert_null(dnmap_lookup_unordered(m, rev));
	dnmap_free(m);
}

static void
test_dnmap__large_file(void **state)
{
	enum { N = 50000 };
	struct timespec		 t0, t1;
	struct dnmap_info	 info;
	struct dnmap		*m;
	const struct dnmap_user	*u;
	const char		*p = tmp_path("large.json");
	char			 err[256] = "", dn[256];
	FILE			*fp;
	double			 ms;
	int			 i;

	(void)state;
	fp = fopen(p, "w");
	assert_non_null(fp);
	fputs("[\n", fp);
	for (i = 0; i < N; i++)
		/* Record i*10+1 is a second DN of account i*10. */
		fprintf(fp, "%s{\"DN\": \"/DC=ch/DC=cern/OU=Organic Units/"
		    "OU=Users/CN=user%d/CN=%d/CN=User Number %d\", \"ID\": %d, "
		    "\"LOGIN\": \"user%d\", \"NAME\": \"User Number %d\", "
		    "\"ROLES\": {\"user\": [\"group:users\"], \"operator\": "
		    "[\"group:dbs\", \"site:t1-ch-cern\"]}}\n", i ? "," : "",
		    i, 100000 + i, i, 100000 + i, i - (i % 10 == 1),
		    i - (i % 10 == 1));
	fputs("]\n", fp);
	assert_int_equal(fclose(fp), 0);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	m = dnmap_load(p, &info, err, sizeof(err));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	if (m == NULL)
		print_error("%s\n", err);
	assert_non_null(m);
	print_message("[ INFO     ] %d records: %zu DNs, %zu skipped, "
	    "loaded in %.1f ms\n", N, info.dns, info.skipped, ms);
	assert_int_equal(info.records, N);
	assert_int_equal(info.dns, N);
	assert_int_equal(info.users, N - N / 10);
	assert_int_equal(info.skipped, 0);
	assert_int_equal(dnmap_size(m), N);
	for (i = 0; i < N; i += 997) {
		snprintf(dn, sizeof(dn), "/DC=ch/DC=cern/OU=Organic Units/"
		    "OU=Users/CN=user%d/CN=%d/CN=User Number %d", i,
		    100000 + i, i);
		u = dnmap_lookup(m, dn);
		assert_non_null(u);
		assert_string_equal(u->dn, dn);
		assert_int_equal(u->nroles, 2);
	}
	snprintf(dn, sizeof(dn), "/DC=ch/DC=cern/OU=Organic Units/OU=Users/"
	    "CN=user%d/CN=%d/CN=User Number %d", 49991, 149991, 49991);
	u = dnmap_lookup(m, dn);
	assert_non_null(u);
	assert_string_equal(u->login, "user49990");
	assert_string_equal(u->name, "User Number 49990");
	dnmap_free(m);
}

/*
 * Leading or trailing spaces (issue 17): a DN or LOGIN with one is
 * skipped (a backend, which trims header values, could never verify its
 * signature), a NAME trimmed; each counted in edge_space.
 */
static void
test_dnmap__edge_spaces(void **state)
{
	static const char text[] = "["
	    "{\"DN\": \"/CN=a \", \"ID\": 1, \"LOGIN\": \"a\", \"NAME\": \"A\","
	    " \"ROLES\": {}},"
	    "{\"DN\": \"/CN=b\", \"ID\": 2, \"LOGIN\": \"b \", \"NAME\": \"B\","
	    " \"ROLES\": {}},"
	    "{\"DN\": \"/CN=c\", \"ID\": 3, \"LOGIN\": \"c\", "
	    "\"NAME\": \" Cee Dee  \", \"ROLES\": {}},"
	    "{\"DN\": \"/CN=d\", \"ID\": 4, \"LOGIN\": \"d\", "
	    "\"NAME\": \"in side\", \"ROLES\": {}}]";
	struct dnmap_info info;
	struct dnmap	*m;
	char		 err[256];
	const char	*p;

	(void)state;
	p = write_tmp("edge.json", text, sizeof(text) - 1);
	assert_non_null(m = dnmap_load(p, &info, err, sizeof(err)));
	assert_int_equal(info.edge_space, 3);
	assert_int_equal(info.skipped, 2);
	assert_non_null(strstr(info.first_edge, "record 1: DN has leading or "
	    "trailing spaces"));
	assert_null(dnmap_lookup(m, "/CN=a "));
	assert_null(dnmap_lookup(m, "/CN=a"));
	assert_null(dnmap_lookup(m, "/CN=b"));
	assert_string_equal(dnmap_lookup(m, "/CN=c")->name, "Cee Dee");
	assert_string_equal(dnmap_lookup(m, "/CN=d")->name, "in side");
	dnmap_free(m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dnmap__good_file),
		cmocka_unit_test(test_dnmap__bad_records_skipped),
		cmocka_unit_test(test_dnmap__bad_utf8_record),
		cmocka_unit_test(test_dnmap__bad_files_refused),
		cmocka_unit_test(test_dnmap__lookup_unordered),
		cmocka_unit_test(test_dnmap__long_dn_unordered),
		cmocka_unit_test(test_dnmap__large_file),
		cmocka_unit_test(test_dnmap__edge_spaces),
	};

	return (cmocka_run_group_tests_name("dnmap", tests, group_setup,
	    group_teardown));
}
