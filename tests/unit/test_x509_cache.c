/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * Tests of the memory bounds and the identity deadline of auth/x509.c
 * and auth/x509_cache.c (issue 17), with real OpenSSL and the PKI of
 * tests/fixtures/certs/mkcerts.sh (PKI_DIR, else build/pki): a refusal is
 * cached without its chain and dressed again for the trouble page; the
 * cache is bounded by bytes; expired entries are purged; a chain longer
 * than verify_depth + 1 is refused before any work; an identity's
 * valid_until is the earliest of its certificates' notAfter and its CRLs'
 * nextUpdate, and verifying at that time fails.
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
#include "auth/x509.h"
#include "auth/x509_cache.h"

static char	 pki[1024];
static char	 tmpdir[1024];
static struct x509_trust *trust;

static int
run(const char *fmt, ...)
{
	char		 cmd[4096];
	va_list		 ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return (system(cmd));
}

struct cred {
	X509		*leaf;
	STACK_OF(X509)	*chain;		/* leaf included, as TLS gives it */
};

static void
cred_load(const char *name, struct cred *c)
{
	char		 path[1200];
	BIO		*b;
	X509		*x;

	snprintf(path, sizeof(path), "%s/creds/%s.pem", pki, name);
	memset(c, 0, sizeof(*c));
	if ((b = BIO_new_file(path, "r")) == NULL)
		fail_msg("cannot open %s", path);
	c->chain = sk_X509_new_null();
	while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL)
		sk_X509_push(c->chain, x);
	ERR_clear_error();
	BIO_free(b);
	assert_true(sk_X509_num(c->chain) > 0);
	c->leaf = sk_X509_value(c->chain, 0);
}

static void
cred_free(struct cred *c)
{
	sk_X509_pop_free(c->chain, X509_free);
	memset(c, 0, sizeof(*c));
}

static struct auth_ident *
verify_at(const struct x509_trust *t, const char *name, time_t now)
{
	struct cred	 c;
	struct auth_ident *id;

	cred_load(name, &c);
	id = x509_verify(t, c.leaf, c.chain, now, 0);
	cred_free(&c);
	assert_non_null(id);
	return (id);
}

static struct x509_ident *
xi(struct auth_ident *id)
{
	return ((struct x509_ident *)id);
}

static int
group_setup(void **state)
{
	const char	*p = getenv("PKI_DIR");
	const char	*src = getenv("SRCDIR");
	char		 ca[1200], vd[1200], err[512] = "";

	snprintf(pki, sizeof(pki), "%s", p != NULL ? p : "build/pki");
	if (run("bash %s/tests/fixtures/certs/mkcerts.sh '%s'",
	    src != NULL ? src : ".", pki) != 0)
		return (-1);
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_x509_cache.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return (-1);
	snprintf(ca, sizeof(ca), "%s/certificates", pki);
	snprintf(vd, sizeof(vd), "%s/vomsdir", pki);
	if ((trust = x509_trust_load(ca, vd, 10, 1, NULL, err,
	    sizeof(err))) == NULL) {
		fprintf(stderr, "trust: %s\n", err);
		return (-1);
	}
	*state = NULL;
	return (0);
}

static int
group_teardown(void **state)
{
	x509_trust_put(trust);
	run("rm -rf '%s'", tmpdir);
	return (0);
}

/* ------------------------------------------------------------------ */

static void
test_x509_cache__refusal_kept_without_chain(void **state)
{
	struct x509_cache *c = x509_cache_new(16, 1);
	struct auth_ident *ok, *bad, *hit, *shown;
	struct cred	 cr;
	time_t		 now = time(NULL);

	ok = verify_at(trust, "alice", now);
	assert_int_equal(ok->status, AUTH_CERT_OK);
	assert_non_null(xi(ok)->presented);	/* for a re-check on reload */

	cred_load("revoked", &cr);
	bad = x509_verify(trust, cr.leaf, cr.chain, now, 0);
	assert_int_equal(bad->status, AUTH_CERT_FAILED);
	assert_null(xi(bad)->presented);	/* never the chain */
	assert_true(bad->nchain > 0);		/* but described */
	assert_int_equal(bad->valid_until, X509_FOREVER);

	x509_cache_insert(c, bad, now);
	hit = x509_cache_lookup(c, xi(bad)->key, 1, now);
	assert_non_null(hit);
	/* The cache holds a slim copy: key, reason, times; no chain. */
	assert_ptr_not_equal(hit, bad);
	assert_ptr_equal(hit->reason, bad->reason);
	assert_int_equal(hit->nchain, 0);
	assert_null(xi(hit)->presented);
	assert_true(x509_cache_bytes(c) < 1024);
	/* Dressed again with the chain at hand for the trouble page. */
	shown = x509_ident_describe(hit, cr.leaf, cr.chain);
	assert_int_equal(shown->status, AUTH_CERT_FAILED);
	assert_ptr_equal(shown->reason, bad->reason);
	assert_int_equal(shown->nchain, 2);
	assert_non_null(strstr(shown->chain[0].subject, "CN=revoked"));
	x509_ident_put(shown);
	/* A good identity is not re-described: the same reference. */
	shown = x509_ident_describe(ok, cr.leaf, cr.chain);
	assert_ptr_equal(shown, ok);
	x509_ident_put(shown);
	/* What a TLS session stores: the slim form of a refusal only. */
	shown = x509_ident_slim(bad);
	assert_ptr_not_equal(shown, bad);
	assert_int_equal(shown->nchain, 0);
	assert_ptr_equal(shown->reason, bad->reason);
	assert_memory_equal(xi(shown)->key, xi(bad)->key, X509_KEY_LEN);
	x509_ident_put(shown);
	shown = x509_ident_slim(ok);
	assert_ptr_equal(shown, ok);
	x509_ident_put(shown);

	x509_ident_put(hit);
	x509_ident_put(bad);
	x509_ident_put(ok);
	cred_free(&cr);
	x509_cache_free(c);
}

static void
test_x509_cache__bounded_by_bytes(void **state)
{
	struct x509_cache *c = x509_cache_new(100, 1);
	const char	*names[] = { "alice", "proxy", "proxy2", "voms" };
	struct auth_ident *id[4], *hit;
	size_t		 i, n, total = 0, bound;
	time_t		 now = time(NULL);

	for (i = 0; i < 4; i++) {
		id[i] = verify_at(trust, names[i], now);
		assert_int_equal(id[i]->status, AUTH_CERT_OK);
		/* A kept certificate costs at least its overhead. */
		assert_true(xi(id[i])->bytes > 6144);
		total += xi(id[i])->bytes;
	}
	/* Room for about two of them. */
	bound = xi(id[2])->bytes + xi(id[3])->bytes + 256;
	x509_cache_set_max_bytes(c, bound);
	for (i = 0; i < 4; i++)
		x509_cache_insert(c, id[i], now);
	x509_cache_stats(c, &n, NULL, NULL);
	assert_true(x509_cache_bytes(c) <= bound);
	assert_true(n >= 1 && n < 4);
	assert_true(x509_cache_bytes(c) < total);
	/* The least recently used went first; the newest is there. */
	assert_null(x509_cache_lookup(c, xi(id[0])->key, 1, now));
	hit = x509_cache_lookup(c, xi(id[3])->key, 1, now);
	assert_ptr_equal(hit, id[3]);
	x509_ident_put(hit);
	/* Shrinking the bound evicts at once; too big an entry stays out. */
	x509_cache_set_max_bytes(c, 64 * 1024 / 16);
	assert_true(x509_cache_bytes(c) <= 64 * 1024 / 16);
	x509_cache_insert(c, id[3], now);
	x509_cache_stats(c, &n, NULL, NULL);
	assert_int_equal(n, 0);
	assert_int_equal(x509_cache_bytes(c), 0);
	for (i = 0; i < 4; i++)
		x509_ident_put(id[i]);
	x509_cache_free(c);
}

static void
test_x509_cache__purge_drops_expired(void **state)
{
	struct x509_cache *c = x509_cache_new(100, 1);
	struct auth_ident *ok, *bad;
	time_t		 now = time(NULL);
	size_t		 n;

	ok = verify_at(trust, "alice", now);
	bad = verify_at(trust, "revoked", now);
	x509_cache_insert(c, ok, now);
	x509_cache_insert(c, bad, now);
	assert_int_equal(x509_cache_purge(c, now), 0);
	/* The refusal lives X509_FAIL_CACHE_SECS at most. */
	assert_int_equal(x509_cache_purge(c, now + X509_FAIL_CACHE_SECS), 1);
	x509_cache_stats(c, &n, NULL, NULL);
	assert_int_equal(n, 1);
	assert_true(x509_cache_bytes(c) >= xi(ok)->bytes);
	/* The good one until its cache_until. */
	assert_int_equal(x509_cache_purge(c, xi(ok)->cache_until - 1), 0);
	assert_int_equal(x509_cache_purge(c, xi(ok)->cache_until), 1);
	x509_cache_stats(c, &n, NULL, NULL);
	assert_int_equal(n, 0);
	assert_int_equal(x509_cache_bytes(c), 0);
	x509_ident_put(ok);
	x509_ident_put(bad);
	x509_cache_free(c);
}

static void
test_x509_cache__too_long_refused_unverified(void **state)
{
	struct x509_trust *t;
	struct auth_ident *id;
	struct cred	 cr;
	char		 ca[1200], err[512];

	snprintf(ca, sizeof(ca), "%s/certificates", pki);
	t = x509_trust_load(ca, NULL, 2, 1, NULL, err, sizeof(err));
	assert_non_null(t);
	/* proxy2 presents 4 certificates: more than depth 2 + 1. */
	cred_load("proxy2", &cr);
	assert_true(x509_chain_too_long(t, cr.leaf, cr.chain));
	id = x509_verify(t, cr.leaf, cr.chain, time(NULL), 0);
	assert_ptr_equal(id, x509_ident_too_long());
	assert_int_equal(id->status, AUTH_CERT_FAILED);
	assert_ptr_equal(id->reason, x509_err_chain);
	assert_ptr_equal(id->detail, x509_err_too_long);
	x509_ident_put(id);
	cred_free(&cr);
	/* proxy presents 3: verified. */
	cred_load("proxy", &cr);
	assert_false(x509_chain_too_long(t, cr.leaf, cr.chain));
	cred_free(&cr);
	x509_trust_put(t);
}

/* The nextUpdate of a PEM CRL file. */
static time_t
crl_next(const char *path)
{
	BIO		*b = BIO_new_file(path, "r");
	X509_CRL	*crl;
	struct tm	 tm;
	time_t		 t = 0;

	assert_non_null(b);
	crl = PEM_read_bio_X509_CRL(b, NULL, NULL, NULL);
	assert_non_null(crl);
	if (ASN1_TIME_to_tm(X509_CRL_get0_nextUpdate(crl), &tm))
		t = timegm(&tm);
	X509_CRL_free(crl);
	BIO_free(b);
	return (t);
}

static void
test_x509_cache__valid_until_is_the_earliest_crl(void **state)
{
	struct x509_trust *t;
	struct auth_ident *id;
	char		 dir[1200], crl[1200], err[512] = "";
	time_t		 now = time(NULL), next;

	/* The intermediate's CRL re-issued with nextUpdate in one hour. */
	snprintf(dir, sizeof(dir), "%s/ca", tmpdir);
	snprintf(crl, sizeof(crl), "%s/short.r0", tmpdir);
	assert_int_equal(run("rm -rf '%s' '%s/intca' && cp -r "
	    "'%s/certificates' '%s' && cp -r '%s/work/int' '%s/intca' && "
	    "CADIR='%s/intca' openssl ca -config '%s/work/ca.cnf' -gencrl "
	    "-crl_nextupdate $(date -u -d '+1 hour' +%%Y%%m%%d%%H%%M%%SZ) "
	    "-out '%s' >/dev/null 2>&1 && h=$(openssl x509 -hash -noout "
	    "-in '%s/crl/int.pem') && cp '%s' '%s'/$h.r0", dir, tmpdir, pki,
	    dir, pki, tmpdir, tmpdir, pki, crl, pki, crl, dir), 0);
	next = crl_next(crl);
	assert_true(next > now && next <= now + 3601);
	t = x509_trust_load(dir, NULL, 10, 1, NULL, err, sizeof(err));
	assert_non_null(t);

	/* alice's notAfter is a year away: the CRL is the deadline. */
	id = verify_at(t, "alice", now);
	assert_int_equal(id->status, AUTH_CERT_OK);
	assert_true(id->not_after > next);
	assert_int_equal(id->valid_until, next);
	assert_true(xi(id)->cache_until <= id->valid_until);
	x509_ident_put(id);
	/* A proxy of hers too. */
	id = verify_at(t, "proxy2", now);
	assert_int_equal(id->valid_until, next);
	x509_ident_put(id);
	/* At that time the chain no longer verifies. */
	id = verify_at(t, "alice", next);
	assert_int_equal(id->status, AUTH_CERT_FAILED);
	assert_ptr_equal(id->reason, x509_err_crl);
	x509_ident_put(id);
	x509_trust_put(t);

	/* With the year-long CRLs, the earliest notAfter (the proxy's). */
	id = verify_at(trust, "proxy", now);
	assert_int_equal(id->valid_until, id->not_after);
	x509_ident_put(id);
	/* No certificate: no deadline. */
	assert_int_equal(x509_ident_none()->valid_until, X509_FOREVER);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_x509_cache__refusal_kept_without_chain),
		cmocka_unit_test(test_x509_cache__bounded_by_bytes),
		cmocka_unit_test(test_x509_cache__purge_drops_expired),
		cmocka_unit_test(test_x509_cache__too_long_refused_unverified),
		cmocka_unit_test(
		    test_x509_cache__valid_until_is_the_earliest_crl),
	};

	return (cmocka_run_group_tests_name("x509_cache", tests, group_setup,
	    group_teardown));
}
