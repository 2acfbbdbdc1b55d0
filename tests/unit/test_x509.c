/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * Tests of auth/x509.c and x509_cache.c with real OpenSSL and the PKI
 * made by tests/fixtures/certs/mkcerts.sh (PKI_DIR, else build/pki): every
 * credential's verification result, reason, user DN, proxy kind and VOMS
 * FQANs; CRL policy (missing, expired); depth; legacy proxies behind the
 * switch; chain keys; the verified-chain cache (hits, generations, expiry,
 * LRU); and a printed cost of a full verification against a cache hit.
 */

#include <sys/stat.h>
#include <sys/time.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "auth/auth.h"
#include "auth/proxycert.h"
#include "auth/voms.h"
#include "auth/x509.h"
#include "auth/x509_cache.h"

static char	 pki[1024];
static char	 tmpdir[1024];
static struct x509_trust *trust;

/* ------------------------------------------------------------------ */
/* Fixtures                                                            */
/* ------------------------------------------------------------------ */

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

/* A credential file: leaf first, then the rest of the chain (keys are
 * skipped by PEM_read_bio_X509). */
struct cred {
	X509		*leaf;
	STACK_OF(X509)	*chain;		/* leaf included, as TLS gives it */
};

static int
cred_load(const char *name, struct cred *c)
{
	char		 path[1200];
	BIO		*b;
	X509		*x;

	snprintf(path, sizeof(path), "%s/creds/%s.pem", pki, name);
	memset(c, 0, sizeof(*c));
	if ((b = BIO_new_file(path, "r")) == NULL)
		return (-1);
	c->chain = sk_X509_new_null();
	while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL)
		sk_X509_push(c->chain, x);
	ERR_clear_error();
	BIO_free(b);
	if (sk_X509_num(c->chain) == 0)
		return (-1);
	c->leaf = sk_X509_value(c->chain, 0);
	return (0);
}

static void
cred_free(struct cred *c)
{
	sk_X509_pop_free(c->chain, X509_free);
	memset(c, 0, sizeof(*c));
}

/* The expected user DN of a credential, from dns.txt. */
static char *
expected_dn(const char *name)
{
	char		 path[1200], line[2048], *tab, *nl;
	FILE		*fp;
	char		*r = NULL;

	snprintf(path, sizeof(path), "%s/dns.txt", pki);
	if ((fp = fopen(path, "r")) == NULL)
		return (NULL);
	while (fgets(line, sizeof(line), fp) != NULL) {
		if ((tab = strchr(line, '\t')) == NULL)
			continue;
		*tab++ = '\0';
		if ((nl = strchr(tab, '\n')) != NULL)
			*nl = '\0';
		if (strcmp(line, name) == 0) {
			r = strdup(tab);
			break;
		}
	}
	fclose(fp);
	return (r);
}

static struct auth_ident *
verify_cred(const struct x509_trust *t, const char *name, int legacy)
{
	struct cred	 c;
	struct auth_ident *id;

	if (cred_load(name, &c) == -1)
		fail_msg("cannot load cred %s", name);
	id = x509_verify(t, c.leaf, c.chain, time(NULL), legacy);
	cred_free(&c);
	assert_non_null(id);
	return (id);
}

static int
group_setup(void **state)
{
	const char	*p = getenv("PKI_DIR");
	const char	*src = getenv("SRCDIR");
	char		 err[512] = "";
	struct x509_trust_info info;

	snprintf(pki, sizeof(pki), "%s", p != NULL ? p : "build/pki");
	if (run("bash %s/tests/fixtures/certs/mkcerts.sh '%s'",
	    src != NULL ? src : ".", pki) != 0) {
		fprintf(stderr, "mkcerts.sh failed\n");
		return (-1);
	}
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_x509.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return (-1);
	trust = x509_trust_load(NULL, NULL, 10, 1, NULL, err, sizeof(err));
	if (trust != NULL)
		return (-1);
	{
		char	 ca[1200], vd[1200];

		snprintf(ca, sizeof(ca), "%s/certificates", pki);
		snprintf(vd, sizeof(vd), "%s/vomsdir", pki);
		trust = x509_trust_load(ca, vd, 10, 1, &info, err,
		    sizeof(err));
	}
	if (trust == NULL) {
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
/* Trust loading                                                       */
/* ------------------------------------------------------------------ */

static void
test_x509__trust_loads_certs_and_crls(void **state)
{
	struct x509_trust *t;
	struct x509_trust_info info;
	char		 ca[1200], vd[1200], err[512];

	snprintf(ca, sizeof(ca), "%s/certificates", pki);
	snprintf(vd, sizeof(vd), "%s/vomsdir", pki);
	t = x509_trust_load(ca, vd, 10, 7, &info, err, sizeof(err));
	assert_non_null(t);
	/* Root and intermediate, each with its CRL; decoys ignored. */
	assert_int_equal(info.ncerts, 2);
	assert_int_equal(info.ncrls, 2);
	assert_int_equal(info.nskipped, 0);
	assert_int_equal(info.nvoms, 1);
	assert_true(info.crl_next_min > time(NULL));
	assert_int_equal(x509_trust_gen(t), 7);
	assert_non_null(x509_trust_store(t));
	assert_ptr_equal(x509_trust_get(t), t);
	x509_trust_put(t);
	x509_trust_put(t);
}

static void
test_x509__trust_load_failures(void **state)
{
	struct x509_trust *t;
	struct x509_trust_info info;
	char		 err[512] = "", dir[1200], vd[1200];

	t = x509_trust_load("/nonexistent/ca", NULL, 10, 1, NULL, err,
	    sizeof(err));
	assert_null(t);
	assert_non_null(strstr(err, "/nonexistent/ca"));

	/* A directory with only decoys and a broken CRL: no CA, refused. */
	snprintf(dir, sizeof(dir), "%s/empty", tmpdir);
	assert_int_equal(run("mkdir -p '%s' && echo junk > '%s/0123abcd.r0'"
	    " && echo x > '%s/0123abcd.info'", dir, dir, dir), 0);
	err[0] = '\0';
	t = x509_trust_load(dir, NULL, 10, 1, &info, err, sizeof(err));
	assert_null(t);
	assert_non_null(strstr(err, "no CA certificate"));
	assert_int_equal(info.nskipped, 1);
	assert_non_null(strstr(info.first_skip, "0123abcd.r0"));

	/* A bad vomsdir fails the whole snapshot. */
	snprintf(dir, sizeof(dir), "%s/certificates", pki);
	snprintf(vd, sizeof(vd), "%s/no-such-vomsdir", tmpdir);
	err[0] = '\0';
	t = x509_trust_load(dir, vd, 10, 1, NULL, err, sizeof(err));
	assert_null(t);
	assert_non_null(strstr(err, "vomsdir"));
}

/* ------------------------------------------------------------------ */
/* Every credential                                                    */
/* ------------------------------------------------------------------ */

struct expect {
	const char	*cred;
	enum auth_cert_status status;
	const char	*reason;	/* for FAILED */
	enum auth_proxy_kind proxy;	/* for OK */
	size_t		 nfqans;
	int		 voms_error;
};

static const struct expect expects[] = {
	{ "alice", AUTH_CERT_OK, NULL, AUTH_PROXY_NONE, 0, 0 },
	{ "bob", AUTH_CERT_OK, NULL, AUTH_PROXY_NONE, 0, 0 },
	{ "robot", AUTH_CERT_OK, NULL, AUTH_PROXY_NONE, 0, 0 },
	{ "utf8", AUTH_CERT_OK, NULL, AUTH_PROXY_NONE, 0, 0 },
	{ "slash", AUTH_CERT_OK, NULL, AUTH_PROXY_NONE, 0, 0 },
	{ "specials", AUTH_CERT_OK, NULL, AUTH_PROXY_NONE, 0, 0 },
	{ "multirdn", AUTH_CERT_OK, NULL, AUTH_PROXY_NONE, 0, 0 },
	{ "unregistered", AUTH_CERT_OK, NULL, AUTH_PROXY_NONE, 0, 0 },
	{ "banned", AUTH_CERT_OK, NULL, AUTH_PROXY_NONE, 0, 0 },
	{ "rsauser", AUTH_CERT_OK, NULL, AUTH_PROXY_NONE, 0, 0 },
	{ "revoked", AUTH_CERT_FAILED, x509_err_revoked, 0, 0, 0 },
	{ "expired", AUTH_CERT_FAILED, x509_err_expired, 0, 0, 0 },
	{ "notyet", AUTH_CERT_FAILED, x509_err_notyet, 0, 0, 0 },
	{ "untrusted", AUTH_CERT_FAILED, x509_err_unknown_ca, 0, 0, 0 },
	{ "rogue", AUTH_CERT_FAILED, x509_err_unknown_ca, 0, 0, 0 },
	{ "ca_as_user", AUTH_CERT_FAILED, x509_err_ca_user, 0, 0, 0 },
	{ "proxy", AUTH_CERT_OK, NULL, AUTH_PROXY_RFC, 0, 0 },
	{ "proxy2", AUTH_CERT_OK, NULL, AUTH_PROXY_RFC, 0, 0 },
	{ "proxy_robot", AUTH_CERT_OK, NULL, AUTH_PROXY_RFC, 0, 0 },
	{ "proxy_limited", AUTH_CERT_OK, NULL, AUTH_PROXY_LIMITED, 0, 0 },
	{ "proxy_independent", AUTH_CERT_FAILED, x509_err_independent, 0, 0,
	    0 },
	{ "proxy_expired", AUTH_CERT_FAILED, x509_err_proxy_expired, 0, 0,
	    0 },
	{ "proxy_forged", AUTH_CERT_FAILED, x509_err_chain, 0, 0, 0 },
	{ "proxy_revoked", AUTH_CERT_FAILED, x509_err_revoked, 0, 0, 0 },
	{ "legacy", AUTH_CERT_FAILED, x509_err_legacy, 0, 0, 0 },
	{ "voms", AUTH_CERT_OK, NULL, AUTH_PROXY_RFC, 2, 0 },
	{ "voms2", AUTH_CERT_OK, NULL, AUTH_PROXY_RFC, 2, 0 },
	{ "voms_untrusted", AUTH_CERT_OK, NULL, AUTH_PROXY_RFC, 0, 1 },
	{ "voms_nolsc", AUTH_CERT_OK, NULL, AUTH_PROXY_RFC, 0, 1 },
	{ "voms_expired_ac", AUTH_CERT_OK, NULL, AUTH_PROXY_RFC, 0, 1 },
};

static void
test_x509__every_credential(void **state)
{
	size_t		 i;
	struct auth_ident *id;
	char		*dn;

	for (i = 0; i < sizeof(expects) / sizeof(expects[0]); i++) {
		const struct expect *e = &expects[i];

		id = verify_cred(trust, e->cred, 0);
		if (id->status != e->status || id->reason != e->reason)
			fail_msg("%s: status %d reason \"%s\" (%s), want %d "
			    "\"%s\"", e->cred, id->status,
			    id->reason ? id->reason : "-",
			    id->detail ? id->detail : "-", e->status,
			    e->reason ? e->reason : "-");
		assert_int_equal(id->trust_gen, 1);
		assert_true(id->nchain >= 1);
		if (e->status == AUTH_CERT_OK) {
			dn = expected_dn(e->cred);
			assert_non_null(dn);
			if (id->user_dn == NULL ||
			    strcmp(id->user_dn, dn) != 0)
				fail_msg("%s: user DN \"%s\", want \"%s\"",
				    e->cred, id->user_dn ? id->user_dn : "-",
				    dn);
			free(dn);
			if (id->proxy != e->proxy)
				fail_msg("%s: proxy %d want %d", e->cred,
				    id->proxy, e->proxy);
			if (id->nfqans != e->nfqans)
				fail_msg("%s: %zu FQANs (voms error %s)",
				    e->cred, id->nfqans, id->voms_error ?
				    id->voms_error : "-");
			assert_int_equal(id->voms_error != NULL,
			    e->voms_error);
			assert_null(id->reason);
			assert_true(id->not_after > time(NULL));
		} else {
			/* A refused chain never names a user. */
			assert_null(id->user_dn);
			assert_null(id->fqans);
		}
		x509_ident_put(id);
	}
}

static void
test_x509__robot_proxy_keeps_numeric_cn(void **state)
{
	struct auth_ident *id = verify_cred(trust, "proxy_robot", 0);

	/* The Perl frontend's regex would have stripped /CN=123456 too. */
	assert_int_equal(id->status, AUTH_CERT_OK);
	assert_string_equal(id->user_dn,
	    "/DC=ch/DC=cern/OU=Organic Units/OU=Users/CN=robot/CN=123456");
	assert_int_equal(id->nchain, 4);
	assert_int_equal(id->chain[0].proxy, AUTH_PROXY_RFC);
	assert_int_equal(id->chain[1].proxy, AUTH_PROXY_NONE);
	x509_ident_put(id);
}

static void
test_x509__slash_dn_does_not_collide(void **state)
{
	struct auth_ident *id = verify_cred(trust, "slash", 0);

	assert_non_null(strstr(id->user_dn, "/CN=evil\\/CN=fake"));
	x509_ident_put(id);
}

static void
test_x509__voms_fqans_in_ac_order(void **state)
{
	struct auth_ident *id;
	const char	*names[] = { "voms", "voms2" };
	size_t		 i;

	for (i = 0; i < 2; i++) {
		id = verify_cred(trust, names[i], 0);
		assert_int_equal(id->nfqans, 2);
		assert_string_equal(id->fqans[0],
		    "/cms/Role=production/Capability=NULL");
		assert_string_equal(id->fqans[1],
		    "/cms/Role=NULL/Capability=NULL");
		assert_null(id->voms_error);
		x509_ident_put(id);
	}
	id = verify_cred(trust, "voms_expired_ac", 0);
	assert_ptr_equal(id->voms_error, voms_err_expired);
	x509_ident_put(id);
}

static void
test_x509__chain_description(void **state)
{
	struct auth_ident *id = verify_cred(trust, "proxy2", 0);
	char		*alice = expected_dn("alice");
	char		 want[1200];

	/* proxy2, proxy, alice, intermediate, root. */
	assert_int_equal(id->nchain, 5);
	snprintf(want, sizeof(want), "%s/CN=1001/CN=2002", alice);
	assert_string_equal(id->chain[0].subject, want);
	snprintf(want, sizeof(want), "%s/CN=1001", alice);
	assert_string_equal(id->chain[0].issuer, want);
	assert_int_equal(id->chain[0].proxy, AUTH_PROXY_RFC);
	assert_int_equal(id->chain[1].proxy, AUTH_PROXY_RFC);
	assert_string_equal(id->chain[2].subject, alice);
	assert_int_equal(id->chain[2].proxy, AUTH_PROXY_NONE);
	assert_string_equal(id->chain[3].subject,
	    "/DC=ch/DC=cern/CN=gridfront Test CA");
	assert_string_equal(id->chain[4].subject,
	    "/DC=ch/DC=cern/CN=gridfront Test Root CA");
	/* The earliest expiry is a proxy's (30 days, users 1 year). */
	assert_true(id->not_after <= id->chain[0].not_after);
	assert_true(id->not_after < id->chain[2].not_after);
	assert_true(id->chain[0].not_before < time(NULL));
	x509_ident_put(id);
	free(alice);

	/* A refused chain shows what was presented. */
	id = verify_cred(trust, "proxy_revoked", 0);
	assert_int_equal(id->nchain, 3);
	assert_int_equal(id->chain[0].proxy, AUTH_PROXY_RFC);
	assert_non_null(strstr(id->chain[1].subject, "CN=revoked"));
	x509_ident_put(id);
}

static void
test_x509__proxy_expires_later(void **state)
{
	struct cred	 c;
	struct auth_ident *id;

	/* 31 days on, the proxy (30 days) is expired, alice (1 y) is not. */
	assert_int_equal(cred_load("proxy", &c), 0);
	id = x509_verify(trust, c.leaf, c.chain, time(NULL) + 31 * 86400, 0);
	assert_ptr_equal(id->reason, x509_err_proxy_expired);
	x509_ident_put(id);
	/* And right now it is fine. */
	id = x509_verify(trust, c.leaf, c.chain, time(NULL), 0);
	assert_int_equal(id->status, AUTH_CERT_OK);
	x509_ident_put(id);
	cred_free(&c);
}

static void
test_x509__legacy_proxy_behind_switch(void **state)
{
	struct auth_ident *id;
	char		*alice = expected_dn("alice");
	struct cred	 c;

	id = verify_cred(trust, "legacy", 0);
	assert_ptr_equal(id->reason, x509_err_legacy);
	x509_ident_put(id);

	id = verify_cred(trust, "legacy", 1);
	assert_int_equal(id->status, AUTH_CERT_OK);
	assert_int_equal(id->proxy, AUTH_PROXY_LEGACY);
	assert_string_equal(id->user_dn, alice);
	assert_int_equal(id->nchain, 4);
	assert_int_equal(id->chain[0].proxy, AUTH_PROXY_LEGACY);
	x509_ident_put(id);

	/* Sent without alice's certificate it cannot be checked. */
	assert_int_equal(cred_load("legacy", &c), 0);
	X509_free(sk_X509_delete(c.chain, 1));
	id = x509_verify(trust, c.leaf, c.chain, time(NULL), 1);
	assert_int_equal(id->status, AUTH_CERT_FAILED);
	assert_ptr_equal(id->reason, x509_err_chain);
	x509_ident_put(id);
	cred_free(&c);
	free(alice);
}

static void
test_x509__proxy_without_user_cert_fails(void **state)
{
	struct cred	 c;
	struct auth_ident *id;

	/* A client that sends only the proxy cannot be verified. */
	assert_int_equal(cred_load("proxy", &c), 0);
	X509_free(sk_X509_delete(c.chain, 1));
	id = x509_verify(trust, c.leaf, c.chain, time(NULL), 0);
	assert_int_equal(id->status, AUTH_CERT_FAILED);
	assert_ptr_equal(id->reason, x509_err_chain);
	x509_ident_put(id);
	cred_free(&c);
}

/* A private copy of the CA dir with the intermediate's CRL replaced by
 * crl/<crl> (or removed when crl is NULL). */
static struct x509_trust *
trust_with_crl(const char *crl, const char *sub)
{
	char		 dir[1200], err[512] = "";
	struct x509_trust *t;

	snprintf(dir, sizeof(dir), "%s/%s", tmpdir, sub);
	assert_int_equal(run("rm -rf '%s' && cp -r '%s/certificates' '%s' &&"
	    " h=$(openssl x509 -hash -noout -in '%s/crl/int.pem') &&"
	    " rm -f '%s'/$h.r0", dir, pki, dir, pki, dir), 0);
	if (crl != NULL)
		assert_int_equal(run("h=$(openssl x509 -hash -noout -in "
		    "'%s/crl/int.pem') && cp '%s/crl/%s' '%s'/$h.r0", pki,
		    pki, crl, dir), 0);
	t = x509_trust_load(dir, NULL, 10, 2, NULL, err, sizeof(err));
	assert_non_null(t);
	return (t);
}

static void
test_x509__crl_missing_or_expired_fails_closed(void **state)
{
	struct x509_trust *t;
	struct auth_ident *id;
	const char	*crls[] = { NULL, "int-expired.r0" };
	size_t		 i;

	for (i = 0; i < 2; i++) {
		t = trust_with_crl(crls[i], "crl-test");
		id = verify_cred(t, "alice", 0);
		assert_int_equal(id->status, AUTH_CERT_FAILED);
		assert_ptr_equal(id->reason, x509_err_crl);
		x509_ident_put(id);
		/* Proxies of its users fail the same way. */
		id = verify_cred(t, "proxy", 0);
		assert_ptr_equal(id->reason, x509_err_crl);
		x509_ident_put(id);
		x509_trust_put(t);
	}
	/* The CRL that also revokes alice. */
	t = trust_with_crl("int-alice-revoked.r0", "crl-test");
	id = verify_cred(t, "alice", 0);
	assert_ptr_equal(id->reason, x509_err_revoked);
	x509_ident_put(id);
	id = verify_cred(t, "proxy2", 0);
	assert_ptr_equal(id->reason, x509_err_revoked);
	x509_ident_put(id);
	id = verify_cred(t, "bob", 0);
	assert_int_equal(id->status, AUTH_CERT_OK);
	x509_ident_put(id);
	x509_trust_put(t);
}

static void
test_x509__depth_limit(void **state)
{
	struct x509_trust *t;
	struct auth_ident *id;
	char		 ca[1200], err[512];

	snprintf(ca, sizeof(ca), "%s/certificates", pki);
	t = x509_trust_load(ca, NULL, 2, 1, NULL, err, sizeof(err));
	assert_non_null(t);
	id = verify_cred(t, "proxy", 0);
	assert_int_equal(id->status, AUTH_CERT_OK);
	x509_ident_put(id);
	id = verify_cred(t, "proxy2", 0);
	assert_int_equal(id->status, AUTH_CERT_FAILED);
	assert_ptr_equal(id->reason, x509_err_chain);
	x509_ident_put(id);
	x509_trust_put(t);
}

static void
test_x509__no_vomsdir_means_no_fqans(void **state)
{
	struct x509_trust *t;
	struct auth_ident *id;
	char		 ca[1200], err[512];

	snprintf(ca, sizeof(ca), "%s/certificates", pki);
	t = x509_trust_load(ca, NULL, 10, 1, NULL, err, sizeof(err));
	assert_non_null(t);
	id = verify_cred(t, "voms", 0);
	assert_int_equal(id->status, AUTH_CERT_OK);
	assert_int_equal(id->nfqans, 0);
	assert_non_null(id->voms_error);
	x509_ident_put(id);
	x509_trust_put(t);
}

/* ------------------------------------------------------------------ */
/* Keys and the cache                                                  */
/* ------------------------------------------------------------------ */

static void
test_x509__chain_key_is_exact_bytes(void **state)
{
	struct cred	 a, p;
	unsigned char	 k1[X509_KEY_LEN], k2[X509_KEY_LEN], k3[X509_KEY_LEN];
	STACK_OF(X509)	*rest;

	assert_int_equal(cred_load("alice", &a), 0);
	assert_int_equal(cred_load("proxy", &p), 0);
	assert_int_equal(x509_chain_key(a.leaf, a.chain, k1), 0);
	/* With or without the leaf at the head of chain: the same key. */
	rest = sk_X509_dup(a.chain);
	(void)sk_X509_shift(rest);
	assert_int_equal(x509_chain_key(a.leaf, rest, k2), 0);
	assert_memory_equal(k1, k2, X509_KEY_LEN);
	/* Leaf alone differs from leaf + intermediate. */
	assert_int_equal(x509_chain_key(a.leaf, NULL, k3), 0);
	assert_memory_not_equal(k1, k3, X509_KEY_LEN);
	assert_int_equal(x509_chain_key(p.leaf, p.chain, k3), 0);
	assert_memory_not_equal(k1, k3, X509_KEY_LEN);
	sk_X509_free(rest);
	cred_free(&a);
	cred_free(&p);
}

static void
test_x509__cache_hits_generations_and_expiry(void **state)
{
	struct x509_cache *c = x509_cache_new(2, 1);
	struct auth_ident *a, *b, *v, *hit;
	struct x509_ident *xa;
	size_t		 n;
	uint64_t	 hits, misses;
	time_t		 now = time(NULL);

	a = verify_cred(trust, "alice", 0);
	b = verify_cred(trust, "bob", 0);
	v = verify_cred(trust, "voms", 0);
	xa = (struct x509_ident *)a;
	assert_true(xa->has_key);
	assert_true(xa->cache_until <= a->not_after);

	assert_null(x509_cache_lookup(c, xa->key, 1, now));
	x509_cache_insert(c, a, now);
	hit = x509_cache_lookup(c, xa->key, 1, now);
	assert_ptr_equal(hit, a);
	x509_ident_put(hit);
	/* Another generation never hits. */
	assert_null(x509_cache_lookup(c, xa->key, 2, now));
	/* Past the entry's life: a miss, and the entry goes. */
	assert_null(x509_cache_lookup(c, xa->key, 1, xa->cache_until));
	x509_cache_stats(c, &n, &hits, &misses);
	assert_int_equal(n, 0);
	assert_int_equal(hits, 1);
	assert_int_equal(misses, 3);

	/* LRU: a, b, then v evicts the least recently used. */
	x509_cache_insert(c, a, now);
	x509_cache_insert(c, b, now);
	hit = x509_cache_lookup(c, xa->key, 1, now);	/* a is fresh now */
	x509_ident_put(hit);
	x509_cache_insert(c, v, now);
	x509_cache_stats(c, &n, NULL, NULL);
	assert_int_equal(n, 2);
	hit = x509_cache_lookup(c, ((struct x509_ident *)b)->key, 1, now);
	assert_null(hit);
	hit = x509_cache_lookup(c, xa->key, 1, now);
	assert_ptr_equal(hit, a);
	x509_ident_put(hit);

	/* Reset: everything goes, and an old-generation insert is dropped. */
	x509_cache_reset(c, 2);
	x509_cache_stats(c, &n, NULL, NULL);
	assert_int_equal(n, 0);
	x509_cache_insert(c, a, now);
	x509_cache_stats(c, &n, NULL, NULL);
	assert_int_equal(n, 0);

	/* The VOMS entry lives no longer than its AC (+ skew). */
	assert_true(((struct x509_ident *)v)->cache_until <=
	    now + 721 * 3600 + VOMS_SKEW);

	/* Size 0 disables the cache. */
	x509_cache_free(c);
	c = x509_cache_new(0, 1);
	x509_cache_insert(c, a, now);
	assert_null(x509_cache_lookup(c, xa->key, 1, now));
	x509_cache_free(c);
	x509_ident_put(a);
	x509_ident_put(b);
	x509_ident_put(v);
}

static void
test_x509__failures_are_cached_briefly(void **state)
{
	struct auth_ident *id = verify_cred(trust, "revoked", 0);
	struct x509_ident *xi = (struct x509_ident *)id;

	assert_true(xi->has_key);
	assert_true(xi->cache_until <= time(NULL) + X509_FAIL_CACHE_SECS);
	x509_ident_put(id);
}

static void
test_x509__static_idents(void **state)
{
	struct auth_ident *n = x509_ident_none();

	assert_int_equal(n->status, AUTH_CERT_NONE);
	assert_ptr_equal(x509_ident_get(n), n);
	x509_ident_put(n);
	x509_ident_put(n);
	assert_int_equal(n->status, AUTH_CERT_NONE);
	assert_int_equal(x509_ident_oom()->status, AUTH_CERT_FAILED);
	x509_ident_put(NULL);
	assert_string_equal(proxycert_name(AUTH_PROXY_LIMITED),
	    "limited proxy");
}

static double
usec_now(void)
{
	struct timeval	 tv;

	gettimeofday(&tv, NULL);
	return (tv.tv_sec * 1e6 + tv.tv_usec);
}

static void
test_x509__cost_full_vs_cached(void **state)
{
	const char	*names[] = { "alice", "proxy2", "voms" };
	struct x509_cache *c = x509_cache_new(16, 1);
	struct cred	 cr;
	struct auth_ident *id, *hit;
	unsigned char	 key[X509_KEY_LEN];
	double		 t0, full, cached;
	size_t		 i;
	int		 j, n = 200;

	for (i = 0; i < 3; i++) {
		assert_int_equal(cred_load(names[i], &cr), 0);
		t0 = usec_now();
		for (j = 0; j < n; j++) {
			id = x509_verify(trust, cr.leaf, cr.chain, time(NULL),
			    0);
			assert_int_equal(id->status, AUTH_CERT_OK);
			if (j == 0)
				x509_cache_insert(c, id, time(NULL));
			x509_ident_put(id);
		}
		full = (usec_now() - t0) / n;
		t0 = usec_now();
		for (j = 0; j < n * 10; j++) {
			/* What a returning client costs: key + lookup. */
			assert_int_equal(x509_chain_key(cr.leaf, cr.chain,
			    key), 0);
			hit = x509_cache_lookup(c, key, 1, time(NULL));
			assert_non_null(hit);
			x509_ident_put(hit);
		}
		cached = (usec_now() - t0) / (n * 10);
		printf("# x509 cost %-7s full verify %8.1f us, cache hit "
		    "(SHA-256 of chain + lookup) %6.2f us\n", names[i], full,
		    cached);
		/* Not a benchmark assertion: just that caching is a win. */
		assert_true(cached < full);
		cred_free(&cr);
	}
	x509_cache_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_x509__trust_loads_certs_and_crls),
		cmocka_unit_test(test_x509__trust_load_failures),
		cmocka_unit_test(test_x509__every_credential),
		cmocka_unit_test(test_x509__robot_proxy_keeps_numeric_cn),
		cmocka_unit_test(test_x509__slash_dn_does_not_collide),
		cmocka_unit_test(test_x509__voms_fqans_in_ac_order),
		cmocka_unit_test(test_x509__chain_description),
		cmocka_unit_test(test_x509__proxy_expires_later),
		cmocka_unit_test(test_x509__legacy_proxy_behind_switch),
		cmocka_unit_test(test_x509__proxy_without_user_cert_fails),
		cmocka_unit_test(
		    test_x509__crl_missing_or_expired_fails_closed),
		cmocka_unit_test(test_x509__depth_limit),
		cmocka_unit_test(test_x509__no_vomsdir_means_no_fqans),
		cmocka_unit_test(test_x509__chain_key_is_exact_bytes),
		cmocka_unit_test(test_x509__cache_hits_generations_and_expiry),
		cmocka_unit_test(test_x509__failures_are_cached_briefly),
		cmocka_unit_test(test_x509__static_idents),
		cmocka_unit_test(test_x509__cost_full_vs_cached),
	};

	return (cmocka_run_group_tests_name("x509", tests, group_setup,
	    group_teardown));
}
