/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * Unit tests for auth/ban.c, the legacy ban list: a good file with every
 * accepted line shape, refused files with the offending line number, and
 * matching by DN and by login.  Fixtures are tests/fixtures/cric/banned-*;
 * odd cases are written to a mkdtemp() directory.
 */

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

#include "auth/ban.h"

#define FIX	"tests/fixtures/cric/"
#define BAD_DN	"/DC=ch/DC=cern/OU=Organic Units/OU=Users/CN=baduser/" \
		"CN=111111/CN=Bad User"


static int
group_setup(void **state)
{
	(void)state;
	return (tmp_setup("test_ban"));
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

static void
test_ban__good_file(void **state)
{
	struct ban	*b;
	char		 err[256] = "";

	(void)state;
	b = ban_load(FIX "banned-good.txt", err, sizeof(err));
	assert_non_null(b);
	assert_string_equal(err, "");
	/* Two DNs and three logins; the repeated DN counts once. */
	assert_int_equal(ban_size(b), 5);

	assert_int_equal(ban_match(b, BAD_DN, NULL), 1);
	assert_int_equal(ban_match(b, BAD_DN, "someone-else"), 1);
	assert_int_equal(ban_match(b, NULL, "spammer"), 1);
	assert_int_equal(ban_match(b, "/DC=ch/CN=fine", "spammer"), 1);
	/* A tab after the colon, and a CR from a Windows editor. */
	assert_int_equal(ban_match(b, NULL, "tabbed"), 1);
	assert_int_equal(ban_match(b, NULL, "crlf"), 1);
	/* "DN:" in upper case; '#' inside a value; trailing blanks cut. */
	assert_int_equal(ban_match(b, "/DC=org/DC=example/CN=Hash # is part "
	    "of the DN", NULL), 1);

	/* Exact comparisons only. */
	assert_int_equal(ban_match(b, NULL, "Spammer"), 0);
	assert_int_equal(ban_match(b, NULL, "spammer2"), 0);
	assert_int_equal(ban_match(b, BAD_DN "/CN=proxy", NULL), 0);
	assert_int_equal(ban_match(b, "/DC=org/DC=example/CN=Hash", NULL), 0);
	/* A login is not a DN and a DN is not a login. */
	assert_int_equal(ban_match(b, "spammer", BAD_DN), 0);
	assert_int_equal(ban_match(b, NULL, NULL), 0);
	assert_int_equal(ban_match(b, "/DC=ch/CN=fine", "fine"), 0);
	assert_int_equal(ban_match(NULL, BAD_DN, "spammer"), 0);
	assert_int_equal(ban_size(NULL), 0);
	ban_free(b);
	ban_free(NULL);
}

static void
expect_refused(const char *path, const char *want_suffix)
{
	char	 err[512] = "", want[512];

	snprintf(want, sizeof(want), "%s%s", path, want_suffix);
	assert_null(ban_load(path, err, sizeof(err)));
	if (strcmp(err, want) != 0)
		print_error("err \"%s\", wanted \"%s\"\n", err, want);
	assert_string_equal(err, want);
}

static void
test_ban__bad_line_refused(void **state)
{
	const char	*p;

	(void)state;
	expect_refused(FIX "banned-bad.txt",
	    ":4: expected \"dn: <DN>\" or \"login: <login>\"");
	p = write_tmp("empty-dn", "login: a\ndn:   \t\n", 17);
	expect_refused(p, ":2: empty DN");
	p = write_tmp("empty-login", "login:\n", 7);
	expect_refused(p, ":1: empty login");
	p = write_tmp("rfc2253", "\n\ndn: CN=x,DC=ch\n", 17);
	expect_refused(p, ":3: DN must be in slash form (/DC=.../CN=...)");
	p = write_tmp("nospace", "dnx: /CN=a\n", 11);
	expect_refused(p, ":1: expected \"dn: <DN>\" or \"login: <login>\"");
	p = write_tmp("bare", "/DC=ch/CN=a\n", 12);
	expect_refused(p, ":1: expected \"dn: <DN>\" or \"login: <login>\"");
	p = write_tmp("nul", "# x\nlogin: a\0b\n", 15);
	expect_refused(p, ":2: NUL byte in line");
	p = write_tmp("ctl", "login: a\x1b[2Jb\n", 14);
	expect_refused(p, ":1: control character in login");
}

static void
test_ban__files(void **state)
{
	struct ban	*b;
	char		 err[256] = "";
	const char	*p;

	(void)state;
	/* Only comments and blanks: valid, and bans nobody. */
	p = write_tmp("comments", "# nobody is banned\n\n   \n#\n", 26);
	b = ban_load(p, err, sizeof(err));
	assert_non_null(b);
	assert_int_equal(ban_size(b), 0);
	assert_int_equal(ban_match(b, BAD_DN, "spammer"), 0);
	ban_free(b);

	/* No final newline. */
	p = write_tmp("nonl", "login: last", 11);
	b = ban_load(p, err, sizeof(err));
	assert_non_null(b);
	assert_int_equal(ban_match(b, NULL, "last"), 1);
	ban_free(b);

	assert_null(ban_load(FIX "no-such-ban.txt", err, sizeof(err)));
	assert_non_null(strstr(err, "no-such-ban.txt: No such file"));
	assert_null(ban_load(tmpdir, err, sizeof(err)));
	assert_non_null(strstr(err, "is not a regular file"));
}

/* Many entries: sorted lookup finds every one and nothing else. */
static void
test_ban__many_entries(void **state)
{
	enum { N = 2000 };
	struct ban	*b;
	char		 err[256] = "", path[256], dn[64];
	FILE		*fp;
	int		 i;

	(void)state;
	snprintf(path, sizeof(path), "%s/many", tmpdir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	for (i = 0; i < N; i++)
		fprintf(fp, "dn: /DC=ch/CN=user%d\nlogin: user%d\n", i * 7,
		    i * 7);
	assert_int_equal(fclose(fp), 0);
	b = ban_load(path, err, sizeof(err));
	assert_non_null(b);
	assert_int_equal(ban_size(b), 2 * N);
	for (i = 0; i < N * 7; i++) {
		snprintf(dn, sizeof(dn), "/DC=ch/CN=user%d", i);
		assert_int_equal(ban_match(b, dn, NULL), i % 7 == 0);
		assert_int_equal(ban_match(b, NULL, dn + 10), i % 7 == 0);
	}
	ban_free(b);
}

/*
 * Ban entries in the legacy X509_NAME_oneline() form (issue 17): "\\xHH"
 * bytes of UTF-8 text and bare backslashes never equal gridfront's DN
 * form (dn.h), so they also ban the normalised DN, and are counted.
 */
static void
test_ban__legacy_oneline_form(void **state)
{
	static const char text[] =
	    "dn: /DC=ch/CN=Jos\\xC3\\xA9 M\\xC3\\xBCller\n"
	    "dn: /DC=ch/CN=back\\slash\n"
	    "dn: /DC=ch/CN=ctl\\x0A\n"
	    "dn: /DC=ch/CN=esc\\/aped\\+ok\\\\\n"
	    "dn: /DC=ch/CN=bad\\xFF\n";
	struct ban	*b;
	const char	*path;
	char		 err[256];
	size_t		 line = 0;

	(void)state;
	path = write_tmp("legacy.txt", text, sizeof(text) - 1);
	b = ban_load(path, err, sizeof(err));
	assert_non_null(b);
	/* As written, and in gridfront's form. */
	assert_true(ban_match(b, "/DC=ch/CN=Jos\\xC3\\xA9 M\\xC3\\xBCller", NULL));
	assert_true(ban_match(b, "/DC=ch/CN=Jos\xc3\xa9 M\xc3\xbcller", NULL));
	assert_true(ban_match(b, "/DC=ch/CN=back\\\\slash", NULL));
	/* gridfront's own escapes are left alone. */
	assert_true(ban_match(b, "/DC=ch/CN=ctl\\x0A", NULL));
	assert_true(ban_match(b, "/DC=ch/CN=esc\\/aped\\+ok\\\\", NULL));
	/* \xFF alone is not UTF-8: kept as written only. */
	assert_false(ban_match(b, "/DC=ch/CN=bad\xff", NULL));
	assert_int_equal(ban_legacy(b, &line), 2);
	assert_int_equal(line, 1);
	assert_int_equal(ban_size(b), 7);
	ban_free(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ban__good_file),
		cmocka_unit_test(test_ban__bad_line_refused),
		cmocka_unit_test(test_ban__files),
		cmocka_unit_test(test_ban__many_entries),
		cmocka_unit_test(test_ban__legacy_oneline_form),
	};

	return (cmocka_run_group_tests_name("ban", tests, group_setup,
	    group_teardown));
}
