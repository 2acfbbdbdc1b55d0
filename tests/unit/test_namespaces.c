/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * Unit tests for auth/namespaces.c (issue 17): both IGTF policy formats
 * parsed from text (wildcards, several patterns, DENY, SELF, continuation
 * lines, and malformed files refused with their line), a CA directory
 * loaded (a bad file refuses the set), and real chains of the test PKI
 * (PKI_DIR, else build/pki) checked in enforce and require mode, with
 * .namespaces winning over a .signing_policy that disagrees.
 */

#include <sys/types.h>
#include <sys/stat.h>

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

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "auth/namespaces.h"

#define CA	"/DC=org/DC=test/CN=Test CA"
#define ALICE	"/DC=ch/DC=cern/OU=Organic Units/OU=Users/CN=alice/" \
		"CN=100001/CN=Alice Tester"

static char	 pki[512];

static int
group_setup(void **state)
{
	const char	*p = getenv("PKI_DIR");
	const char	*src = getenv("SRCDIR");
	char		 cmd[1200];

	(void)state;
	snprintf(pki, sizeof(pki), "%s", p != NULL ? p : "build/pki");
	snprintf(cmd, sizeof(cmd), "bash '%s/tests/fixtures/certs/mkcerts.sh' "
	    "'%s'", src != NULL ? src : ".", pki);
	if (system(cmd) != 0)
		return (-1);
	return (tmp_setup("test_namespaces"));
}

static int
group_teardown(void **state)
{
	(void)state;
	return (tmp_teardown());
}

static struct namespaces_policy *
parse(enum namespaces_fmt fmt, const char *text, char *err, size_t errlen)
{
	err[0] = '\0';
	return (namespaces_policy_parse(fmt, text, strlen(text), "f", err,
	    errlen));
}

/* 1 permitted, 0 refused, -1 no rule for CA. */
static int
check(const struct namespaces_policy *p, const char *subject)
{
	const char	*why = NULL;
	int		 r;

	r = namespaces_policy_check(p, CA, NULL, subject, &why);
	if (r != 1)
		assert_non_null(why);
	return (r);
}

static void
test_namespaces__ns_wildcards_and_deny(void **state)
{
	struct namespaces_policy *p;
	char		 err[256];

	(void)state;
	p = parse(NAMESPACES_FMT_NS,
	    "##############\n"
	    "#NAMESPACES-VERSION: 1.0\n"
	    "\n"
	    "TO Issuer \"" CA "\" \\\n"
	    "    PERMIT Subject \"/DC=org/DC=test/(OU=Users|OU=Hosts)/.*\"\n"
	    "to issuer \"" CA "\" permit subject \"/DC=org/DC=other/CN=[a-z]+\"\n"
	    "TO Issuer \"" CA "\" DENY Subject "
	    "\"/DC=org/DC=test/OU=Users/CN=root\"\r\n"
	    "TO Issuer \"/DC=org/CN=Another CA\" PERMIT Subject \".*\"\n",
	    err, sizeof(err));
	assert_non_null(p);
	assert_int_equal(check(p, "/DC=org/DC=test/OU=Users/CN=bob"), 1);
	assert_int_equal(check(p, "/DC=org/DC=test/OU=Hosts/CN=h.example"), 1);
	assert_int_equal(check(p, "/DC=org/DC=other/CN=carol"), 1);
	/* Anchored: the whole DN must match, not a prefix or a suffix. */
	assert_int_equal(check(p, "/DC=org/DC=other/CN=carol/CN=x"), 0);
	assert_int_equal(check(p, "/C=XX/DC=org/DC=test/OU=Users/CN=bob"), 0);
	assert_int_equal(check(p, ALICE), 0);
	/* DENY wins over the PERMIT that also matches. */
	assert_int_equal(check(p, "/DC=org/DC=test/OU=Users/CN=root"), 0);
	/* The other CA's rule does not lend "PERMIT .*" to ours. */
	assert_int_equal(check(p, "/DC=net/CN=x"), 0);
	/* A CA the file does not name. */
	assert_int_equal(namespaces_policy_check(p, "/CN=Nobody", NULL,
	    ALICE, &(const char *){ NULL }), -1);
	namespaces_policy_free(p);

	/* SELF stands for whichever CA the file belongs to. */
	p = parse(NAMESPACES_FMT_NS,
	    "TO Issuer SELF PERMIT Subject \"/DC=org/DC=test/.*\"\n", err,
	    sizeof(err));
	assert_non_null(p);
	assert_int_equal(check(p, "/DC=org/DC=test/CN=a"), 1);
	assert_int_equal(check(p, ALICE), 0);
	namespaces_policy_free(p);
}

static void
test_namespaces__eacl_globs(void **state)
{
	struct namespaces_policy *p;
	char		 err[256];

	(void)state;
	p = parse(NAMESPACES_FMT_EACL,
	    "# EACL\n"
	    " access_id_CA      X509         '" CA "'\n"
	    " pos_rights        globus        CA:sign\n"
	    " cond_subjects     globus     '\"/DC=org/DC=test/*\"  "
	    "\"/O=Grid/CN=*/CN=host*\"'\n"
	    "access_id_CA X509 '/DC=org/CN=Another CA'\n"
	    "pos_rights globus CA:sign\n"
	    "cond_subjects globus '\"*\"'\n",
	    err, sizeof(err));
	assert_non_null(p);
	assert_int_equal(check(p, "/DC=org/DC=test/CN=a"), 1);
	assert_int_equal(check(p, "/O=Grid/CN=x/CN=hostA"), 1);
	assert_int_equal(check(p, "/O=Grid/CN=x/CN=hos"), 0);
	assert_int_equal(check(p, ALICE), 0);
	/* '.' is a plain character in a glob. */
	assert_int_equal(check(p, "/DC=org/DC=tes/CN=a"), 0);
	namespaces_policy_free(p);
}

static void
test_namespaces__malformed_refused(void **state)
{
	static const struct {
		enum namespaces_fmt fmt;
		const char	*text;
		const char	*want;
	} bad[] = {
		{ NAMESPACES_FMT_NS, "", "no rule" },
		{ NAMESPACES_FMT_NS, "# only a comment\n", "no rule" },
		{ NAMESPACES_FMT_NS, "\nTO Issuer \"" CA "\" ALLOW Subject "
		    "\".*\"\n", "f:2: expected TO Issuer" },
		{ NAMESPACES_FMT_NS, "TO Issuer \"" CA "\" PERMIT Subject "
		    "\"/DC=org/.*\n", "f:1: expected" },
		{ NAMESPACES_FMT_NS, "TO Issuer \"" CA "\" PERMIT Subject "
		    "\"/DC=org/(x\"\n", "f:1: bad Subject regular expression" },
		{ NAMESPACES_FMT_NS, "TO Issuer \"root\" PERMIT Subject "
		    "\".*\"\n", "f:1: Issuer DN must be in slash form" },
		{ NAMESPACES_FMT_NS, "TO Issuer \"" CA "\" PERMIT Subject "
		    "\".*\" # comment\n", "f:1: expected" },
		{ NAMESPACES_FMT_NS, "TO Issuer \"" CA "\" PERMIT \\\n",
		    "continuation" },
		{ NAMESPACES_FMT_NS, "TO Issuer \"" CA "\" PERMIT Subject "
		    "\"\"\n", "f:1: empty Subject" },
		{ NAMESPACES_FMT_NS, "TO Issuer \"" CA "\" PERMIT Subject "
		    "\"a\x01\"\n", "f:1: control byte" },
		{ NAMESPACES_FMT_EACL, "access_id_CA X509 '" CA "'\n",
		    "expected pos_rights" },
		{ NAMESPACES_FMT_EACL, "access_id_CA X509 '" CA "'\n"
		    "neg_rights globus CA:sign\n", "expected pos_rights" },
		{ NAMESPACES_FMT_EACL, "access_id_CA X509 '" CA "'\n"
		    "pos_rights globus CA:sign\n"
		    "cond_subjects globus '/DC=org/*'\n",
		    "f:3: cond_subjects must be a list" },
		{ NAMESPACES_FMT_EACL, "access_id_CA X509 '" CA "'\n"
		    "pos_rights globus CA:sign\n"
		    "cond_subjects globus '\"/DC=org/*\"\n",
		    "unterminated" },
		{ NAMESPACES_FMT_EACL, "pos_rights globus CA:sign\n",
		    "f:1: expected access_id_CA" },
		{ NAMESPACES_FMT_EACL, "access_id_CA X509 'CN=x'\n",
		    "f:1: expected access_id_CA X509" },
		{ NAMESPACES_FMT_EACL, "access_id_CA X509 '" CA "'\n"
		    "pos_rights globus CA:sign\n"
		    "cond_subjects globus '\"\"'\n", "empty cond_subjects" },
		{ NAMESPACES_FMT_EACL, "# nothing\n", "no rule" },
	};
	struct namespaces_policy *p;
	char		 err[256];
	size_t		 i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		p = parse(bad[i].fmt, bad[i].text, err, sizeof(err));
		if (p != NULL || strstr(err, bad[i].want) == NULL)
			fail_msg("case %zu: want \"%s\", got %s \"%s\"", i,
			    bad[i].want, p != NULL ? "a policy" : "error",
			    err);
	}
	/* A NUL byte anywhere refuses the file. */
	p = namespaces_policy_parse(NAMESPACES_FMT_NS, "TO\0", 3, "f", err,
	    sizeof(err));
	assert_null(p);
	assert_non_null(strstr(err, "NUL"));
}

static X509 *
load_cert(const char *rel)
{
	char		 path[700];
	FILE		*fp;
	X509		*x;

	snprintf(path, sizeof(path), "%s/%s", pki, rel);
	assert_non_null(fp = fopen(path, "r"));
	x = PEM_read_X509(fp, NULL, NULL, NULL);
	fclose(fp);
	assert_non_null(x);
	return (x);
}

static void
write_file(const char *dir, const char *name, const char *text)
{
	char		 path[700];
	FILE		*fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_non_null(fp = fopen(path, "w"));
	fputs(text, fp);
	assert_int_equal(fclose(fp), 0);
}

static char *
hash_name(X509 *x, const char *suffix)
{
	static char	 name[64];
	int		 ok = 0;
	unsigned long	 h;

	h = X509_NAME_hash_ex(X509_get_subject_name(x), NULL, NULL, &ok);
	assert_true(ok);
	snprintf(name, sizeof(name), "%08lx%s", h, suffix);
	return (name);
}

static void
test_namespaces__chain_of_test_pki(void **state)
{
	STACK_OF(X509)	*chain;
	X509		*alice, *intca, *root, *proxy;
	struct namespaces_set *s;
	const char	*why = NULL;
	char		 dir[600], err[256];
	size_t		 n = 0;

	(void)state;
	alice = load_cert("keys/alice.pem");
	intca = load_cert("keys/int.pem");
	root = load_cert("keys/root.pem");
	proxy = load_cert("keys/proxy.pem");
	chain = sk_X509_new_null();
	sk_X509_push(chain, proxy);
	sk_X509_push(chain, alice);
	sk_X509_push(chain, intca);
	sk_X509_push(chain, root);

	/* The PKI's own files: both formats, the chain passes. */
	snprintf(dir, sizeof(dir), "%s/certificates", pki);
	s = namespaces_load(dir, NAMESPACES_REQUIRE, &n, err, sizeof(err));
	assert_non_null(s);
	assert_int_equal(n, 4);
	assert_int_equal(namespaces_check_chain(s, chain, &why), 0);
	namespaces_free(s);

	/* The intermediate may sign only /DC=org/DC=other/... in its
	 * .namespaces; its .signing_policy still says CERN's namespace:
	 * .namespaces wins and alice is refused. */
	snprintf(dir, sizeof(dir), "%s/d1", tmpdir);
	assert_int_equal(mkdir(dir, 0700), 0);
	write_file(dir, hash_name(intca, ".namespaces"), "TO Issuer \"/DC=ch/"
	    "DC=cern/CN=gridfront Test CA\" PERMIT Subject "
	    "\"/DC=org/DC=other/.*\"\n");
	write_file(dir, hash_name(intca, ".signing_policy"), "access_id_CA "
	    "X509 '/DC=ch/DC=cern/CN=gridfront Test CA'\npos_rights globus "
	    "CA:sign\ncond_subjects globus '\"/DC=ch/DC=cern/*\"'\n");
	s = namespaces_load(dir, NAMESPACES_ENFORCE, &n, err, sizeof(err));
	assert_non_null(s);
	assert_int_equal(n, 2);
	assert_int_equal(namespaces_check_chain(s, chain, &why), -1);
	assert_non_null(strstr(why, ".namespaces"));
	namespaces_free(s);

	/* Only the .signing_policy: it decides (and permits alice); the
	 * root has no file, which enforce allows and require refuses. */
	snprintf(dir, sizeof(dir), "%s/d1/%s", tmpdir,
	    hash_name(intca, ".namespaces"));
	assert_int_equal(unlink(dir), 0);
	snprintf(dir, sizeof(dir), "%s/d1", tmpdir);
	s = namespaces_load(dir, NAMESPACES_ENFORCE, &n, err, sizeof(err));
	assert_non_null(s);
	assert_int_equal(namespaces_check_chain(s, chain, &why), 0);
	namespaces_free(s);
	s = namespaces_load(dir, NAMESPACES_REQUIRE, &n, err, sizeof(err));
	assert_non_null(s);
	why = NULL;
	assert_int_equal(namespaces_check_chain(s, chain, &why), -1);
	assert_non_null(strstr(why, "no .namespaces or .signing_policy"));
	namespaces_free(s);

	/* One broken file refuses the whole set, naming file and line. */
	write_file(dir, hash_name(root, ".namespaces"), "# x\nTO Issuer SELF "
	    "PERMIT\n");
	s = namespaces_load(dir, NAMESPACES_ENFORCE, &n, err, sizeof(err));
	assert_null(s);
	assert_non_null(strstr(err, hash_name(root, ".namespaces:2:")));

	sk_X509_pop_free(chain, X509_free);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_namespaces__ns_wildcards_and_deny),
		cmocka_unit_test(test_namespaces__eacl_globs),
		cmocka_unit_test(test_namespaces__malformed_refused),
		cmocka_unit_test(test_namespaces__chain_of_test_pki),
	};

	return (cmocka_run_group_tests_name("namespaces", tests, group_setup,
	    group_teardown));
}
