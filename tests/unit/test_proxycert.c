/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * Tests of auth/proxycert.c on the proxies of the test PKI made by
 * tests/fixtures/certs/mkcerts.sh (PKI_DIR, else build/pki): the kind of
 * every certificate of a credential (RFC 3820 inherit-all, limited,
 * independent, Globus legacy, plain), the legacy shape, the RFC 3820
 * policy of a chain (where the user certificate is, limited below
 * limited, independent and proxy-only chains refused) and the peeling of
 * legacy proxies (switch, issuer, dates).  No path is verified here: that
 * is test_x509.c's business.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "auth/auth.h"
#include "auth/proxycert.h"
#include "auth/x509.h"

static char	 pki[1024];

/* Every certificate of creds/<name>.pem, leaf first (keys skipped). */
static STACK_OF(X509) *
cred_chain(const char *name)
{
	char		 path[1200];
	STACK_OF(X509)	*sk;
	BIO		*b;
	X509		*x;

	snprintf(path, sizeof(path), "%s/creds/%s.pem", pki, name);
	if ((b = BIO_new_file(path, "r")) == NULL)
		fail_msg("cannot open %s", path);
	sk = sk_X509_new_null();
	assert_non_null(sk);
	while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL)
		assert_true(sk_X509_push(sk, x) > 0);
	ERR_clear_error();
	BIO_free(b);
	assert_true(sk_X509_num(sk) > 0);
	return (sk);
}

static void
chain_free(STACK_OF(X509) *sk)
{
	sk_X509_pop_free(sk, X509_free);
}

static int
group_setup(void **state)
{
	const char	*p = getenv("PKI_DIR");
	const char	*src = getenv("SRCDIR");
	char		 cmd[2400];

	snprintf(pki, sizeof(pki), "%s", p != NULL ? p : "build/pki");
	/* Idempotent: a no-op when the PKI is there and fresh. */
	snprintf(cmd, sizeof(cmd), "bash %s/tests/fixtures/certs/mkcerts.sh "
	    "'%s'", src != NULL ? src : ".", pki);
	if (system(cmd) != 0) {
		fprintf(stderr, "mkcerts.sh failed\n");
		return (-1);
	}
	*state = NULL;
	return (0);
}

/* ------------------------------------------------------------------ */
/* Classification                                                      */
/* ------------------------------------------------------------------ */

static void
test_proxycert__kind_of_every_cert(void **state)
{
	static const struct {
		const char		*cred;
		enum auth_proxy_kind	 kinds[4];	/* leaf first */
		int			 n;
	} cases[] = {
		{ "alice", { AUTH_PROXY_NONE, AUTH_PROXY_NONE }, 2 },
		{ "proxy", { AUTH_PROXY_RFC, AUTH_PROXY_NONE,
		    AUTH_PROXY_NONE }, 3 },
		{ "proxy2", { AUTH_PROXY_RFC, AUTH_PROXY_RFC, AUTH_PROXY_NONE,
		    AUTH_PROXY_NONE }, 4 },
		{ "proxy_limited", { AUTH_PROXY_LIMITED, AUTH_PROXY_NONE,
		    AUTH_PROXY_NONE }, 3 },
		{ "proxy_independent", { AUTH_PROXY_INDEPENDENT,
		    AUTH_PROXY_NONE, AUTH_PROXY_NONE }, 3 },
		{ "legacy", { AUTH_PROXY_LEGACY, AUTH_PROXY_NONE,
		    AUTH_PROXY_NONE }, 3 },
	};
	STACK_OF(X509)	*sk;
	size_t		 i;
	int		 j;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		sk = cred_chain(cases[i].cred);
		assert_int_equal(sk_X509_num(sk), cases[i].n);
		for (j = 0; j < cases[i].n; j++) {
			if (proxycert_kind(sk_X509_value(sk, j)) !=
			    cases[i].kinds[j])
				fail_msg("%s cert %d: kind %s, want %s",
				    cases[i].cred, j, proxycert_name(
				    proxycert_kind(sk_X509_value(sk, j))),
				    proxycert_name(cases[i].kinds[j]));
		}
		chain_free(sk);
	}
}

static void
test_proxycert__rfc_kind_and_legacy_shape(void **state)
{
	STACK_OF(X509)	*legacy = cred_chain("legacy");
	STACK_OF(X509)	*proxy = cred_chain("proxy");
	STACK_OF(X509)	*limited = cred_chain("proxy_limited");
	int		 unknown = -1, lim = -1;

	/* A legacy proxy has no proxyCertInfo: not an RFC proxy... */
	assert_int_equal(proxycert_rfc_kind(sk_X509_value(legacy, 0),
	    &unknown), AUTH_PROXY_NONE);
	assert_int_equal(unknown, 0);
	/* ...but it has the legacy shape (CN=proxy, not limited). */
	assert_int_equal(proxycert_legacy_shape(sk_X509_value(legacy, 0),
	    &lim), 1);
	assert_int_equal(lim, 0);
	/* Its issuer, alice, is neither. */
	assert_int_equal(proxycert_legacy_shape(sk_X509_value(legacy, 1),
	    &lim), 0);
	assert_int_equal(proxycert_rfc_kind(sk_X509_value(legacy, 1),
	    &unknown), AUTH_PROXY_NONE);

	/* An RFC proxy is never legacy-shaped, whatever its subject. */
	assert_int_equal(proxycert_legacy_shape(sk_X509_value(proxy, 0),
	    &lim), 0);
	assert_int_equal(proxycert_rfc_kind(sk_X509_value(proxy, 0),
	    &unknown), AUTH_PROXY_RFC);
	assert_int_equal(unknown, 0);
	assert_int_equal(proxycert_rfc_kind(sk_X509_value(limited, 0),
	    &unknown), AUTH_PROXY_LIMITED);
	assert_int_equal(unknown, 0);

	chain_free(legacy);
	chain_free(proxy);
	chain_free(limited);
}

static void
test_proxycert__names(void **state)
{
	assert_string_equal(proxycert_name(AUTH_PROXY_NONE), "none");
	assert_string_equal(proxycert_name(AUTH_PROXY_RFC), "RFC 3820 proxy");
	assert_string_equal(proxycert_name(AUTH_PROXY_LIMITED),
	    "limited proxy");
	assert_string_equal(proxycert_name(AUTH_PROXY_INDEPENDENT),
	    "independent proxy");
	assert_string_equal(proxycert_name(AUTH_PROXY_LEGACY),
	    "legacy Globus proxy");
	assert_string_equal(proxycert_name((enum auth_proxy_kind)99),
	    "unknown");
}

/* ------------------------------------------------------------------ */
/* Policy                                                              */
/* ------------------------------------------------------------------ */

static void
test_proxycert__policy_finds_the_user_cert(void **state)
{
	static const struct {
		const char	*cred;
		int		 user;
		int		 limited;
	} cases[] = {
		{ "alice", 0, 0 },
		{ "proxy", 1, 0 },
		{ "proxy2", 2, 0 },
		{ "proxy_limited", 1, 1 },
	};
	STACK_OF(X509)	*sk;
	const char	*reason, *detail;
	size_t		 i;
	int		 user, limited;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		sk = cred_chain(cases[i].cred);
		user = -1;
		limited = 0;
		reason = detail = NULL;
		if (proxycert_policy(sk, &user, &limited, &reason,
		    &detail) != 0)
			fail_msg("%s refused: %s", cases[i].cred, reason);
		assert_int_equal(user, cases[i].user);
		assert_int_equal(limited, cases[i].limited);
		assert_null(reason);
		chain_free(sk);
	}
}

static void
test_proxycert__policy_refusals(void **state)
{
	STACK_OF(X509)	*sk, *only;
	const char	*reason = NULL, *detail = NULL;
	int		 user = -1, limited = 0;

	/* An independent proxy carries no user identity (RFC 3820 3.8). */
	sk = cred_chain("proxy_independent");
	assert_int_equal(proxycert_policy(sk, &user, &limited, &reason,
	    &detail), -1);
	assert_ptr_equal(reason, x509_err_independent);
	assert_null(detail);
	chain_free(sk);

	/* Proxies only: no user certificate to speak for. */
	sk = cred_chain("proxy2");
	only = sk_X509_new_null();
	assert_non_null(only);
	assert_true(sk_X509_push(only, sk_X509_value(sk, 0)) > 0);
	assert_true(sk_X509_push(only, sk_X509_value(sk, 1)) > 0);
	reason = detail = NULL;
	assert_int_equal(proxycert_policy(only, &user, &limited, &reason,
	    &detail), -1);
	assert_ptr_equal(reason, x509_err_chain);
	assert_string_equal(detail, "no user certificate in the chain");
	sk_X509_free(only);
	chain_free(sk);
}

/* ------------------------------------------------------------------ */
/* Legacy proxies                                                      */
/* ------------------------------------------------------------------ */

static void
test_proxycert__legacy_peel(void **state)
{
	STACK_OF(X509)	*sk = cred_chain("legacy");
	STACK_OF(X509)	*rfc = cred_chain("proxy");
	STACK_OF(X509)	*orphan;
	struct proxycert_legacy lg;
	const char	*reason = NULL, *detail = NULL;
	X509		*leaf = sk_X509_value(sk, 0);
	time_t		 now = time(NULL);

	/* Behind the switch: refused as such. */
	assert_int_equal(proxycert_legacy_peel(sk, leaf, now, 0, &lg,
	    &reason, &detail), -1);
	assert_ptr_equal(reason, x509_err_legacy);
	assert_null(detail);

	/* Allowed: one proxy peeled off; OpenSSL then starts at alice. */
	reason = detail = NULL;
	assert_int_equal(proxycert_legacy_peel(sk, leaf, now, 1, &lg,
	    &reason, &detail), 0);
	assert_int_equal(lg.n, 1);
	assert_ptr_equal(lg.proxy[0], leaf);
	assert_ptr_equal(lg.eec, sk_X509_value(sk, 1));
	assert_int_equal(lg.limited, 0);

	/* Its dates are checked here, as OpenSSL never sees it. */
	assert_int_equal(proxycert_legacy_peel(sk, leaf, now + 3650L * 86400,
	    1, &lg, &reason, &detail), -1);
	assert_ptr_equal(reason, x509_err_proxy_expired);
	assert_int_equal(proxycert_legacy_peel(sk, leaf, 86400, 1, &lg,
	    &reason, &detail), -1);
	assert_ptr_equal(reason, x509_err_notyet);

	/* Without its issuer in the presented chain. */
	orphan = sk_X509_new_null();
	assert_non_null(orphan);
	assert_true(sk_X509_push(orphan, leaf) > 0);
	assert_true(sk_X509_push(orphan, sk_X509_value(sk, 2)) > 0);
	assert_int_equal(proxycert_legacy_peel(orphan, leaf, now, 1, &lg,
	    &reason, &detail), -1);
	assert_ptr_equal(reason, x509_err_chain);
	assert_string_equal(detail, "legacy proxy without its issuer");
	sk_X509_free(orphan);

	/* An RFC proxy is not peeled: the path starts at the leaf. */
	assert_int_equal(proxycert_legacy_peel(rfc, sk_X509_value(rfc, 0),
	    now, 1, &lg, &reason, &detail), 0);
	assert_int_equal(lg.n, 0);
	assert_ptr_equal(lg.eec, sk_X509_value(rfc, 0));

	chain_free(sk);
	chain_free(rfc);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_proxycert__kind_of_every_cert),
		cmocka_unit_test(test_proxycert__rfc_kind_and_legacy_shape),
		cmocka_unit_test(test_proxycert__names),
		cmocka_unit_test(test_proxycert__policy_finds_the_user_cert),
		cmocka_unit_test(test_proxycert__policy_refusals),
		cmocka_unit_test(test_proxycert__legacy_peel),
	};

	return (cmocka_run_group_tests_name("proxycert", tests, group_setup,
	    NULL));
}
