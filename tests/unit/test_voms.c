/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * Unit tests for auth/voms.c: the AC parser (fields of a real AC, every
 * truncation, byte flips and random garbage, none of which may crash or
 * leak), the vomsdir snapshot (.lsc forms and errors), and the full trust
 * check of voms_verify_chain() on real chains: good ACs (FQANs exact, in
 * AC order), an AC one level up, no AC, untrusted and revoked signers,
 * missing and wrong .lsc, expired and not-yet-valid ACs at the exact skew
 * bounds, holder mismatches, tampered signatures and FQANs, targeted ACs,
 * two ACs in one extension, and ACs re-signed by the trusted VOMS host
 * with one field changed.  Where libvomsapi (voms-dev) can be loaded at
 * run time, its verdicts and FQANs are compared with ours.
 *
 * Fixtures: the shared test PKI of tests/fixtures/certs/mkcerts.sh in
 * $PKI_DIR (default build/pki; the script is run into it first and
 * returns at once when its output is fresh), plus the extra proxies of
 * tests/fixtures/voms/mkvoms.sh made in a mkdtemp() directory.  Run from
 * the top of the tree, as make does.  Chains are verified with OpenSSL
 * (proxies and CRLs on) before they are handed to voms_verify_chain(),
 * as auth.c does.  TEST_FILTER=<glob> runs a subset.
 */

#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#if defined(__has_include)
#if __has_include(<voms/voms_apic.h>)
#include <voms/voms_apic.h>
#define HAVE_VOMSAPI 1
#endif
#endif

#include "auth/voms.h"

#define ACSEQ_OID	"1.3.6.1.4.1.8005.100.100.5"
#define VOMS_HOST_DN	"/DC=ch/DC=cern/OU=computers/CN=voms.test.example"
#define INT_DN		"/DC=ch/DC=cern/CN=gridfront Test CA"
#define ROOT_DN		"/DC=ch/DC=cern/CN=gridfront Test Root CA"
#define FQAN_PROD	"/cms/Role=production/Capability=NULL"
#define FQAN_NULL	"/cms/Role=NULL/Capability=NULL"

static struct {
	char		 pki[PATH_MAX];		/* mkcerts.sh output */
	char		 tmp[PATH_MAX];		/* mkvoms.sh output, scratch */
	X509_STORE	*store;			/* CA dir, CRLs, proxies */
	X509_STORE	*revstore;		/* tmp/certificates */
	X509_STORE	*vstore;		/* given to voms.c */
	struct voms_trust *vt;			/* tmp/vomsdir */
	X509		*alice, *bob, *vomshost;
	EVP_PKEY	*alice_key, *bob_key, *vomshost_key;
	time_t		 now;
} F;

/* ------------------------------------------------------------------ */
/* Files, certificates and chains                                      */
/* ------------------------------------------------------------------ */

static void
path(char *out, size_t len, const char *base, const char *rel)
{
	if (snprintf(out, len, "%s/%s", base, rel) >= (int)len)
		fail_msg("path too long: %s/%s", base, rel);
}

static void
write_file(const char *dir, const char *rel, const char *text)
{
	char p[PATH_MAX], cmd[PATH_MAX + 32], *slash;
	FILE *fp;

	path(p, sizeof(p), dir, rel);
	if ((slash = strrchr(p, '/')) != NULL) {
		*slash = '\0';
		(void)snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", p);
		assert_int_equal(system(cmd), 0);
		*slash = '/';
	}
	assert_non_null(fp = fopen(p, "w"));
	assert_true(fputs(text, fp) >= 0);
	assert_int_equal(fclose(fp), 0);
}

static X509 *
load_cert(const char *base, const char *rel)
{
	char p[PATH_MAX];
	BIO *b;
	X509 *x;

	path(p, sizeof(p), base, rel);
	if ((b = BIO_new_file(p, "r")) == NULL)
		return (NULL);
	x = PEM_read_bio_X509(b, NULL, NULL, NULL);
	BIO_free(b);
	return (x);
}

static EVP_PKEY *
load_key(const char *base, const char *rel)
{
	char p[PATH_MAX];
	BIO *b;
	EVP_PKEY *k;

	path(p, sizeof(p), base, rel);
	if ((b = BIO_new_file(p, "r")) == NULL)
		return (NULL);
	k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
	BIO_free(b);
	return (k);
}

/* Every certificate of a PEM file, in file order (keys are skipped). */
static STACK_OF(X509) *
load_certs(const char *base, const char *rel)
{
	char p[PATH_MAX];
	STACK_OF(X509_INFO) *infos;
	STACK_OF(X509) *sk;
	X509_INFO *xi;
	BIO *b;
	int i;

	path(p, sizeof(p), base, rel);
	assert_non_null(b = BIO_new_file(p, "r"));
	assert_non_null(infos = PEM_X509_INFO_read_bio(b, NULL, NULL, NULL));
	BIO_free(b);
	assert_non_null(sk = sk_X509_new_null());
	for (i = 0; i < sk_X509_INFO_num(infos); i++) {
		xi = sk_X509_INFO_value(infos, i);
		if (xi->x509 != NULL) {
			assert_true(sk_X509_push(sk, xi->x509) > 0);
			xi->x509 = NULL;
		}
	}
	sk_X509_INFO_pop_free(infos, X509_INFO_free);
	ERR_clear_error();
	return (sk);
}

/* Verify certs[0] with the rest as untrusted; the verified chain. */
static STACK_OF(X509) *
verify_certs(STACK_OF(X509) *certs)
{
	X509_STORE_CTX *ctx;
	STACK_OF(X509) *chain;

	assert_non_null(ctx = X509_STORE_CTX_new());
	assert_int_equal(X509_STORE_CTX_init(ctx, F.store,
	    sk_X509_value(certs, 0), certs), 1);
	if (X509_verify_cert(ctx) != 1)
		fail_msg("fixture chain does not verify: %s",
		    X509_verify_cert_error_string(
		    X509_STORE_CTX_get_error(ctx)));
	assert_non_null(chain = X509_STORE_CTX_get1_chain(ctx));
	X509_STORE_CTX_free(ctx);
	return (chain);
}

/* The verified chain of a PEM credential file. */
static STACK_OF(X509) *
chain_of(const char *base, const char *rel)
{
	STACK_OF(X509) *certs, *chain;

	certs = load_certs(base, rel);
	chain = verify_certs(certs);
	sk_X509_pop_free(certs, X509_free);
	return (chain);
}

/* The value of the AC extension of x, or NULL. */
static const ASN1_OCTET_STRING *
acext(X509 *x)
{
	char oid[64];
	X509_EXTENSION *e;
	int i;

	for (i = 0; i < X509_get_ext_count(x); i++) {
		e = X509_get_ext(x, i);
		OBJ_obj2txt(oid, sizeof(oid), X509_EXTENSION_get_object(e), 1);
		if (strcmp(oid, ACSEQ_OID) == 0)
			return (X509_EXTENSION_get_data(e));
	}
	return (NULL);
}

/* A copy of the AC extension value of the leaf of a credential file. */
static unsigned char *
acext_of(const char *base, const char *rel, size_t *len)
{
	STACK_OF(X509) *certs = load_certs(base, rel);
	const ASN1_OCTET_STRING *v;
	unsigned char *out;

	assert_non_null(v = acext(sk_X509_value(certs, 0)));
	*len = (size_t)ASN1_STRING_length(v);
	assert_non_null(out = malloc(*len));
	memcpy(out, ASN1_STRING_get0_data(v), *len);
	sk_X509_pop_free(certs, X509_free);
	return (out);
}

/*
 * An RFC 3820 inheritAll proxy of issuer (signed with ikey), carrying
 * the AC extension value ac when not NULL.  Its chain is the proxy
 * followed by parent (the issuer's chain, leaf first); returns the
 * verified chain.
 */
static STACK_OF(X509) *
proxy_chain(X509 *issuer, EVP_PKEY *ikey, STACK_OF(X509) *parent,
    const unsigned char *ac, size_t aclen)
{
	static const unsigned char pci[] = { 0x30, 0x0c, 0x30, 0x0a, 0x06,
	    0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x15, 0x01 };
	static long serial = 5000;
	STACK_OF(X509) *certs, *chain;
	X509_NAME *name;
	X509_EXTENSION *e;
	ASN1_OCTET_STRING *os;
	ASN1_OBJECT *obj;
	EVP_PKEY *k;
	X509 *x;
	char cn[32];
	int i;

	assert_non_null(k = EVP_EC_gen("P-256"));
	assert_non_null(x = X509_new());
	assert_int_equal(X509_set_version(x, X509_VERSION_3), 1);
	assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), ++serial),
	    1);
	(void)snprintf(cn, sizeof(cn), "%ld", serial);
	assert_non_null(name = X509_NAME_dup(X509_get_subject_name(issuer)));
	assert_int_equal(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0), 1);
	assert_int_equal(X509_set_subject_name(x, name), 1);
	X509_NAME_free(name);
	assert_int_equal(X509_set_issuer_name(x,
	    X509_get_subject_name(issuer)), 1);
	assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), -300));
	assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), 12 * 3600));
	assert_int_equal(X509_set_pubkey(x, k), 1);
	/* ProxyCertInfo { policy { id-ppl-inheritAll } }, critical. */
	assert_non_null(os = ASN1_OCTET_STRING_new());
	assert_int_equal(ASN1_OCTET_STRING_set(os, pci, sizeof(pci)), 1);
	assert_non_null(e = X509_EXTENSION_create_by_NID(NULL,
	    NID_proxyCertInfo, 1, os));
	ASN1_OCTET_STRING_free(os);
	assert_int_equal(X509_add_ext(x, e, -1), 1);
	X509_EXTENSION_free(e);
	assert_non_null(e = X509V3_EXT_conf_nid(NULL, NULL, NID_key_usage,
	    "critical,digitalSignature,keyEncipherment"));
	assert_int_equal(X509_add_ext(x, e, -1), 1);
	X509_EXTENSION_free(e);
	if (ac != NULL) {
		assert_non_null(os = ASN1_OCTET_STRING_new());
		assert_int_equal(ASN1_OCTET_STRING_set(os, ac, (int)aclen), 1);
		assert_non_null(obj = OBJ_txt2obj(ACSEQ_OID, 1));
		assert_non_null(e = X509_EXTENSION_create_by_OBJ(NULL, obj, 0,
		    os));
		assert_int_equal(X509_add_ext(x, e, -1), 1);
		X509_EXTENSION_free(e);
		ASN1_OBJECT_free(obj);
		ASN1_OCTET_STRING_free(os);
	}
	assert_true(X509_sign(x, ikey, EVP_sha256()) > 0);
	EVP_PKEY_free(k);

	assert_non_null(certs = sk_X509_new_null());
	assert_true(sk_X509_push(certs, x) > 0);
	for (i = 0; i < sk_X509_num(parent); i++) {
		assert_int_equal(X509_up_ref(sk_X509_value(parent, i)), 1);
		assert_true(sk_X509_push(certs, sk_X509_value(parent, i)) > 0);
	}
	chain = verify_certs(certs);
	sk_X509_pop_free(certs, X509_free);
	return (chain);
}

/* A proxy of alice carrying ac. */
static STACK_OF(X509) *
alice_proxy(const unsigned char *ac, size_t aclen)
{
	STACK_OF(X509) *parent, *chain;

	parent = chain_of(F.pki, "creds/alice.pem");
	chain = proxy_chain(F.alice, F.alice_key, parent, ac, aclen);
	sk_X509_pop_free(parent, X509_free);
	return (chain);
}

/* ------------------------------------------------------------------ */
/* DER surgery, to re-sign ACs with one element changed                */
/* ------------------------------------------------------------------ */

struct buf {
	unsigned char	*p;
	size_t		 len;
};

struct der {
	const unsigned char *p;		/* whole TLV */
	size_t		 len;
};

/* Length of the TLV at p (header in *hl), or 0 if it overruns left. */
static size_t
tlv(const unsigned char *p, size_t left, size_t *hl)
{
	size_t i, n, cl;

	if (left < 2)
		return (0);
	if (p[1] < 0x80) {
		*hl = 2;
		cl = p[1];
	} else {
		n = p[1] & 0x7f;
		if (n == 0 || n > 4 || left < 2 + n)
			return (0);
		for (cl = 0, i = 0; i < n; i++)
			cl = (cl << 8) | p[2 + i];
		*hl = 2 + n;
	}
	return (*hl + cl > left ? 0 : *hl + cl);
}

/* The children of the constructed TLV d; returns their number. */
static size_t
kids(struct der d, struct der *out, size_t max)
{
	size_t hl, n = 0, off, l;

	assert_true(tlv(d.p, d.len, &hl) == d.len);
	for (off = hl; off < d.len; off += l) {
		assert_true((l = tlv(d.p + off, d.len - off, &hl)) > 0);
		assert_true(n < max);
		out[n].p = d.p + off;
		out[n++].len = l;
	}
	return (n);
}

static void
buf_add(struct buf *b, const void *d, size_t n)
{
	assert_non_null(b->p = realloc(b->p, b->len + n + 1));
	memcpy(b->p + b->len, d, n);
	b->len += n;
}

/* Turn b's bytes into the content of a TLV with tag. */
static void
buf_wrap(struct buf *b, unsigned char tag)
{
	unsigned char h[6];
	size_t hl = 0;
	struct buf nb = { NULL, 0 };

	h[hl++] = tag;
	if (b->len < 0x80)
		h[hl++] = (unsigned char)b->len;
	else if (b->len < 0x100) {
		h[hl++] = 0x81;
		h[hl++] = (unsigned char)b->len;
	} else {
		assert_true(b->len < 0x10000);
		h[hl++] = 0x82;
		h[hl++] = (unsigned char)(b->len >> 8);
		h[hl++] = (unsigned char)b->len;
	}
	buf_add(&nb, h, hl);
	if (b->len > 0)
		buf_add(&nb, b->p, b->len);
	free(b->p);
	*b = nb;
}

/* The n-th AC of an AC extension value. */
static struct der
ac_in(const unsigned char *ext, size_t len, size_t n)
{
	struct der top = { ext, len }, k[VOMS_ACS_MAX + 1];

	assert_int_equal(kids(top, k, 1), 1);
	assert_true(kids(k[0], k, VOMS_ACS_MAX) > n);
	return (k[n]);
}

/* An AC extension value holding the given ACs. */
static struct buf
ext_of(const struct der *acs, size_t n)
{
	struct buf b = { NULL, 0 };
	size_t i;

	for (i = 0; i < n; i++)
		buf_add(&b, acs[i].p, acs[i].len);
	buf_wrap(&b, 0x30);
	buf_wrap(&b, 0x30);
	return (b);
}

/*
 * The AC of ext with AttributeCertificateInfo element idx replaced by
 * repl, signed again by the trusted VOMS host: an AC the server could
 * have issued.  Returns the new extension value.
 */
static struct buf
resign(const unsigned char *ext, size_t len, size_t idx,
    const struct buf *repl)
{
	struct der ac = ac_in(ext, len, 0), top[3], el[12];
	struct buf info = { NULL, 0 }, out = { NULL, 0 }, sig = { NULL, 0 };
	unsigned char *s, zero = 0;
	size_t n, i, slen;
	EVP_MD_CTX *md;

	assert_int_equal(kids(ac, top, 3), 3);
	n = kids(top[0], el, 12);
	assert_true(idx < n);
	for (i = 0; i < n; i++) {
		if (i == idx)
			buf_add(&info, repl->p, repl->len);
		else
			buf_add(&info, el[i].p, el[i].len);
	}
	buf_wrap(&info, 0x30);

	/* The host key is RSA and the AC says sha256WithRSAEncryption. */
	assert_non_null(md = EVP_MD_CTX_new());
	assert_int_equal(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL,
	    F.vomshost_key), 1);
	assert_int_equal(EVP_DigestSign(md, NULL, &slen, info.p, info.len), 1);
	assert_non_null(s = malloc(slen));
	assert_int_equal(EVP_DigestSign(md, s, &slen, info.p, info.len), 1);
	EVP_MD_CTX_free(md);
	buf_add(&sig, &zero, 1);
	buf_add(&sig, s, slen);
	free(s);
	buf_wrap(&sig, 0x03);

	buf_add(&out, info.p, info.len);
	buf_add(&out, top[1].p, top[1].len);
	buf_add(&out, sig.p, sig.len);
	buf_wrap(&out, 0x30);
	free(info.p);
	free(sig.p);
	{
		struct der d = { out.p, out.len };
		struct buf e = ext_of(&d, 1);

		free(out.p);
		return (e);
	}
}

/* Element idx of the AttributeCertificateInfo of ext's first AC. */
static struct der
info_elem(const unsigned char *ext, size_t len, size_t idx)
{
	struct der ac = ac_in(ext, len, 0), top[3], el[12];

	assert_int_equal(kids(ac, top, 3), 3);
	assert_true(kids(top[0], el, 12) > idx);
	return (el[idx]);
}

/* Info element 7: the AC's extensions, with or without the cert list. */
static struct buf
exts_without_certlist(const unsigned char *ext, size_t len)
{
	static const unsigned char certseq[] = { 0x06, 0x0a, 0x2b, 0x06,
	    0x01, 0x04, 0x01, 0xbe, 0x45, 0x64, 0x64, 0x0a };
	struct der exts = info_elem(ext, len, 7), e[16];
	struct buf b = { NULL, 0 };
	size_t n, i, hl;

	n = kids(exts, e, 16);
	for (i = 0; i < n; i++) {
		(void)tlv(e[i].p, e[i].len, &hl);
		if (memcmp(e[i].p + hl, certseq, sizeof(certseq)) != 0)
			buf_add(&b, e[i].p, e[i].len);
	}
	assert_true(b.len < exts.len);
	buf_wrap(&b, 0x30);
	return (b);
}

/* Info element 7 with one more extension (DER given) appended. */
static struct buf
exts_plus(const unsigned char *ext, size_t len, const unsigned char *more,
    size_t morelen)
{
	struct der exts = info_elem(ext, len, 7);
	struct buf b = { NULL, 0 };
	size_t hl;

	(void)tlv(exts.p, exts.len, &hl);
	buf_add(&b, exts.p + hl, exts.len - hl);
	buf_add(&b, more, morelen);
	buf_wrap(&b, 0x30);
	return (b);
}

/* A GeneralizedTime TLV for t. */
static void
gtime(struct buf *b, time_t t)
{
	struct tm tm;
	char s[32];
	struct buf g = { NULL, 0 };

	assert_non_null(gmtime_r(&t, &tm));
	assert_int_equal(strftime(s, sizeof(s), "%Y%m%d%H%M%SZ", &tm), 15);
	buf_add(&g, s, 15);
	buf_wrap(&g, 0x18);
	buf_add(b, g.p, g.len);
	free(g.p);
}

/* A Holder naming (name, serial) as baseCertificateID. */
static struct buf
holder(const X509_NAME *name, const ASN1_INTEGER *serial)
{
	struct buf b = { NULL, 0 }, gn = { NULL, 0 };
	unsigned char *d = NULL;
	int n;

	assert_true((n = i2d_X509_NAME(name, &d)) > 0);
	buf_add(&gn, d, (size_t)n);
	OPENSSL_free(d);
	buf_wrap(&gn, 0xa4);		/* directoryName [4] EXPLICIT */
	buf_wrap(&gn, 0x30);		/* GeneralNames */
	buf_add(&b, gn.p, gn.len);
	free(gn.p);
	d = NULL;
	assert_true((n = i2d_ASN1_INTEGER(serial, &d)) > 0);
	buf_add(&b, d, (size_t)n);
	OPENSSL_free(d);
	buf_wrap(&b, 0xa0);		/* baseCertificateID [0] IMPLICIT */
	buf_wrap(&b, 0x30);
	return (b);
}

/* ------------------------------------------------------------------ */
/* Setup                                                               */
/* ------------------------------------------------------------------ */

static int
run(const char *fmt, ...)
{
	char cmd[3 * PATH_MAX];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return (system(cmd) == 0 ? 0 : -1);
}

/* A store like auth's: hashed CA dir, CRLs on the whole chain, proxies. */
static X509_STORE *
store_new(const char *base, const char *rel, unsigned long flags)
{
	X509_STORE *st;
	X509_LOOKUP *lu;
	char p[PATH_MAX];
	struct stat sb;

	path(p, sizeof(p), base, rel);
	if (stat(p, &sb) == -1 || (st = X509_STORE_new()) == NULL)
		return (NULL);
	if ((lu = X509_STORE_add_lookup(st, X509_LOOKUP_hash_dir())) ==
	    NULL || X509_LOOKUP_add_dir(lu, p, X509_FILETYPE_PEM) != 1) {
		X509_STORE_free(st);
		return (NULL);
	}
	X509_STORE_set_flags(st, flags);
	return (st);
}

static int
group_teardown(void **state)
{
	(void)state;
	voms_trust_free(F.vt);
	X509_STORE_free(F.store);
	X509_STORE_free(F.revstore);
	X509_free(F.alice);
	X509_free(F.bob);
	X509_free(F.vomshost);
	EVP_PKEY_free(F.alice_key);
	EVP_PKEY_free(F.bob_key);
	EVP_PKEY_free(F.vomshost_key);
	if (F.tmp[0] != '\0')
		(void)run("rm -rf '%s'", F.tmp);
	memset(&F, 0, sizeof(F));
	return (0);
}

#define STORE_FLAGS	(X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL | \
			X509_V_FLAG_ALLOW_PROXY_CERTS)

static int
group_setup(void **state)
{
	const char *pki = getenv("PKI_DIR");
	char p[PATH_MAX], err[256];

	(void)state;
	if (pki == NULL || *pki == '\0')
		pki = "build/pki";
	(void)snprintf(F.pki, sizeof(F.pki), "%s", pki);
	/* mkcerts.sh returns at once when its output is fresh. */
	if (run("bash tests/fixtures/certs/mkcerts.sh '%s' >/dev/null",
	    F.pki) == -1) {
		fprintf(stderr, "mkcerts.sh %s failed\n", F.pki);
		return (-1);
	}
	(void)snprintf(F.tmp, sizeof(F.tmp), "/tmp/test_voms.XXXXXX");
	if (mkdtemp(F.tmp) == NULL) {
		F.tmp[0] = '\0';
		return (-1);
	}
	if (run("sh tests/fixtures/voms/mkvoms.sh '%s' '%s'", F.pki,
	    F.tmp) == -1) {
		fprintf(stderr, "mkvoms.sh failed\n");
		goto fail;
	}

	if ((F.store = store_new(F.pki, "certificates", STORE_FLAGS)) ==
	    NULL || (F.revstore = store_new(F.tmp, "certificates",
	    STORE_FLAGS)) == NULL)
		goto fail;
	F.vstore = F.store;

	path(p, sizeof(p), F.tmp, "vomsdir");
	if ((F.vt = voms_trust_new(p, err, sizeof(err))) == NULL) {
		fprintf(stderr, "voms_trust_new: %s\n", err);
		goto fail;
	}
	F.alice = load_cert(F.pki, "keys/alice.pem");
	F.bob = load_cert(F.pki, "keys/bob.pem");
	F.vomshost = load_cert(F.pki, "voms/server.pem");
	F.alice_key = load_key(F.pki, "keys/alice.key");
	F.bob_key = load_key(F.pki, "keys/bob.key");
	F.vomshost_key = load_key(F.pki, "voms/server.key");
	if (F.alice == NULL || F.bob == NULL || F.vomshost == NULL ||
	    F.alice_key == NULL || F.bob_key == NULL ||
	    F.vomshost_key == NULL)
		goto fail;
	ERR_clear_error();
	/* After the fixtures: mkvoms.sh has just issued certificates. */
	F.now = time(NULL);
	return (0);
fail:
	(void)group_teardown(state);
	return (-1);
}

/* ------------------------------------------------------------------ */
/* Verdict helpers                                                     */
/* ------------------------------------------------------------------ */

/* Run voms_verify_chain and check the verdict: want NULL means trusted. */
static void
expect(const struct voms_trust *vt, STACK_OF(X509) *chain, time_t now,
    const char *want, const char *const *fqans, size_t n)
{
	char **got = (char **)0x1;
	size_t ngot = 99, i;
	const char *reason = "unset";
	int rc;

	rc = voms_verify_chain(vt, F.vstore, chain, now, &got, &ngot,
	    &reason);
	if (want != NULL) {
		if (reason == NULL || strcmp(reason, want) != 0)
			fail_msg("want \"%s\", got rc %d reason \"%s\"", want,
			    rc, reason ? reason : "(none)");
		assert_int_equal(rc, -1);
		assert_ptr_equal(reason, want);
		assert_null(got);
		assert_int_equal(ngot, 0);
		return;
	}
	if (rc != 0)
		fail_msg("want trusted, got reason \"%s\"", reason);
	assert_null(reason);
	assert_int_equal(ngot, n);
	if (n == 0)
		assert_null(got);
	for (i = 0; i < n; i++)
		assert_string_equal(got[i], fqans[i]);
	voms_fqans_free(got, ngot);
}

static void
expect_cred(const char *base, const char *rel, const char *want,
    const char *const *fqans, size_t n)
{
	STACK_OF(X509) *chain = chain_of(base, rel);

	expect(F.vt, chain, F.now, want, fqans, n);
	sk_X509_pop_free(chain, X509_free);
}

static const char *const fq_voms[] = { FQAN_PROD, FQAN_NULL };

/* ------------------------------------------------------------------ */
/* voms_verify_chain on the shared PKI                                 */
/* ------------------------------------------------------------------ */

static void
test_voms__good_ac_fqans_in_ac_order(void **state)
{
	static const char *const three[] = { FQAN_NULL,
	    "/cms/escms/Role=NULL/Capability=NULL", FQAN_PROD };

	(void)state;
	expect_cred(F.pki, "creds/voms.pem", NULL, fq_voms, 2);
	expect_cred(F.tmp, "proxies/three.pem", NULL, three, 3);
}

static void
test_voms__ac_one_level_up(void **state)
{
	STACK_OF(X509) *chain = chain_of(F.pki, "creds/voms2.pem");

	(void)state;
	/* voms2 <- voms (carries the AC) <- alice <- int <- root */
	assert_null(acext(sk_X509_value(chain, 0)));
	assert_non_null(acext(sk_X509_value(chain, 1)));
	expect(F.vt, chain, F.now, NULL, fq_voms, 2);
	sk_X509_pop_free(chain, X509_free);
}

static void
test_voms__no_ac(void **state)
{
	(void)state;
	expect_cred(F.pki, "creds/proxy.pem", NULL, NULL, 0);
	expect_cred(F.pki, "creds/proxy2.pem", NULL, NULL, 0);
	expect_cred(F.pki, "creds/alice.pem", NULL, NULL, 0);
	expect(F.vt, NULL, F.now, NULL, NULL, 0);
}

static void
test_voms__untrusted_signer(void **state)
{
	(void)state;
	/* Same subject as the real host, other CA: .lsc issuer differs. */
	expect_cred(F.pki, "creds/voms_untrusted.pem", voms_err_untrusted,
	    NULL, 0);
}

static void
test_voms__no_lsc(void **state)
{
	(void)state;
	expect_cred(F.pki, "creds/voms_nolsc.pem", voms_err_untrusted, NULL,
	    0);
	/* The cms server's AC claiming VO atlas: no atlas/ .lsc. */
	expect_cred(F.tmp, "proxies/wrongvo.pem", voms_err_untrusted, NULL, 0);
}

static void
test_voms__revoked_signer(void **state)
{
	static const char *const fq[] = { "/cms" };
	STACK_OF(X509) *chain = chain_of(F.tmp, "proxies/revoked.pem");

	(void)state;
	/* Its .lsc is listed, and the shared CRLs do not revoke it ... */
	expect(F.vt, chain, F.now, NULL, fq, 1);
	/* ... but the CRL of tmp/certificates does. */
	F.vstore = F.revstore;
	expect(F.vt, chain, F.now, voms_err_signer, NULL, 0);
	F.vstore = F.store;
	sk_X509_pop_free(chain, X509_free);
}

/* A verify callback that records nothing and lets everything through. */
static int
lax_verify_cb(int ok, X509_STORE_CTX *ctx)
{
	(void)ok;
	(void)ctx;
	return (1);
}

static void
test_voms__revoked_signer_despite_lax_store(void **state)
{
	STACK_OF(X509) *chain = chain_of(F.tmp, "proxies/revoked.pem");
	X509_STORE *lax;

	(void)state;
	/*
	 * A TLS layer's store may carry a callback that records errors and
	 * never fails, and no CRL flags: voms.c must still refuse.
	 */
	assert_non_null(lax = store_new(F.tmp, "certificates", 0));
	X509_STORE_set_verify_cb(lax, lax_verify_cb);
	F.vstore = lax;
	expect(F.vt, chain, F.now, voms_err_signer, NULL, 0);
	F.vstore = F.store;
	X509_STORE_free(lax);
	sk_X509_pop_free(chain, X509_free);
}

static void
test_voms__expired_ac(void **state)
{
	(void)state;
	expect_cred(F.pki, "creds/voms_expired_ac.pem", voms_err_expired,
	    NULL, 0);
}

static void
test_voms__validity_skew_bounds(void **state)
{
	unsigned char *ext;
	size_t len;
	struct buf val = { NULL, 0 }, e;
	STACK_OF(X509) *chain;
	time_t nb = F.now + 3600, na = F.now + 7200;

	(void)state;
	ext = acext_of(F.pki, "creds/voms.pem", &len);
	gtime(&val, nb);
	gtime(&val, na);
	buf_wrap(&val, 0x30);
	e = resign(ext, len, 5, &val);
	chain = alice_proxy(e.p, e.len);
	expect(F.vt, chain, nb - VOMS_SKEW - 1, voms_err_notyet, NULL, 0);
	expect(F.vt, chain, nb - VOMS_SKEW, NULL, fq_voms, 2);
	expect(F.vt, chain, na + VOMS_SKEW, NULL, fq_voms, 2);
	expect(F.vt, chain, na + VOMS_SKEW + 1, voms_err_expired, NULL, 0);
	sk_X509_pop_free(chain, X509_free);
	free(val.p);
	free(e.p);
	free(ext);
}

static void
test_voms__holder_mismatch(void **state)
{
	unsigned char *ext;
	size_t len;
	STACK_OF(X509) *parent, *chain;
	struct buf h, e;

	(void)state;
	/* Alice's AC copied into a proxy that bob signed. */
	ext = acext_of(F.pki, "creds/voms.pem", &len);
	parent = chain_of(F.pki, "creds/bob.pem");
	chain = proxy_chain(F.bob, F.bob_key, parent, ext, len);
	expect(F.vt, chain, F.now, voms_err_holder, NULL, 0);
	sk_X509_pop_free(chain, X509_free);
	sk_X509_pop_free(parent, X509_free);

	/* Signed by the trusted server, for alice's name, bob's serial. */
	h = holder(X509_get_subject_name(F.alice),
	    X509_get0_serialNumber(F.bob));
	e = resign(ext, len, 1, &h);
	chain = alice_proxy(e.p, e.len);
	expect(F.vt, chain, F.now, voms_err_holder, NULL, 0);
	sk_X509_pop_free(chain, X509_free);
	free(h.p);
	free(e.p);

	/* ... and for bob's certificate, presented by alice. */
	h = holder(X509_get_issuer_name(F.bob), X509_get0_serialNumber(F.bob));
	e = resign(ext, len, 1, &h);
	chain = alice_proxy(e.p, e.len);
	expect(F.vt, chain, F.now, voms_err_holder, NULL, 0);
	sk_X509_pop_free(chain, X509_free);
	free(h.p);
	free(e.p);
	free(ext);
}

static void
test_voms__holder_forms_accepted(void **state)
{
	unsigned char *ext;
	size_t len;
	STACK_OF(X509) *parent, *chain;
	struct buf h, e;

	(void)state;
	ext = acext_of(F.pki, "creds/voms.pem", &len);
	/* RFC 3281: the holder's issuer name and serial. */
	h = holder(X509_get_issuer_name(F.alice),
	    X509_get0_serialNumber(F.alice));
	e = resign(ext, len, 1, &h);
	chain = alice_proxy(e.p, e.len);
	expect(F.vt, chain, F.now, NULL, fq_voms, 2);
	sk_X509_pop_free(chain, X509_free);
	free(h.p);
	free(e.p);

	/*
	 * voms-proxy-init --noregen: the AC-carrying proxy is signed by an
	 * older proxy of alice; the holder is still alice.
	 */
	parent = chain_of(F.pki, "creds/proxy.pem");
	{
		X509 *p1 = load_cert(F.pki, "keys/proxy.pem");
		EVP_PKEY *k1 = load_key(F.pki, "keys/proxy.key");

		assert_non_null(p1);
		assert_non_null(k1);
		chain = proxy_chain(p1, k1, parent, ext, len);
		expect(F.vt, chain, F.now, NULL, fq_voms, 2);
		sk_X509_pop_free(chain, X509_free);
		X509_free(p1);
		EVP_PKEY_free(k1);
	}
	sk_X509_pop_free(parent, X509_free);
	free(ext);
}

static void
test_voms__wrong_lsc_issuer_line(void **state)
{
	struct voms_trust *vt;
	char dir[PATH_MAX], err[256];

	(void)state;
	path(dir, sizeof(dir), F.tmp, "vd-wrongissuer");
	write_file(dir, "cms/voms.test.example.lsc",
	    VOMS_HOST_DN "\n" ROOT_DN "\n");
	assert_non_null(vt = voms_trust_new(dir, err, sizeof(err)));
	assert_int_equal(voms_trust_count(vt), 1);
	expect_cred(F.pki, "creds/voms.pem", NULL, fq_voms, 2);
	{
		STACK_OF(X509) *chain = chain_of(F.pki, "creds/voms.pem");

		expect(vt, chain, F.now, voms_err_untrusted, NULL, 0);
		sk_X509_pop_free(chain, X509_free);
	}
	voms_trust_free(vt);

	/* Wrong subject line, right issuer line. */
	path(dir, sizeof(dir), F.tmp, "vd-wrongsubject");
	write_file(dir, "cms/voms.test.example.lsc",
	    "/DC=ch/DC=cern/OU=computers/CN=voms.test.example2\n" INT_DN "\n");
	assert_non_null(vt = voms_trust_new(dir, err, sizeof(err)));
	{
		STACK_OF(X509) *chain = chain_of(F.pki, "creds/voms.pem");

		expect(vt, chain, F.now, voms_err_untrusted, NULL, 0);
		sk_X509_pop_free(chain, X509_free);
	}
	voms_trust_free(vt);
}

static void
test_voms__lsc_forms(void **state)
{
	static const char *const lsc[] = {
		/* Full chain of DNs, up to the root's issuer. */
		VOMS_HOST_DN "\n" INT_DN "\n" ROOT_DN "\n",
		/* Comments, blanks, CRLF, indentation, quotes. */
		"# the cms server\r\n\r\n  \"" VOMS_HOST_DN "\"  \r\n"
		    "\t" INT_DN "\r\n# end\r\n",
		/* A wrong chain, then the right one. */
		VOMS_HOST_DN "\n" ROOT_DN "\n------ NEXT CHAIN ------\n"
		    VOMS_HOST_DN "\n" INT_DN,
	};
	static const size_t count[] = { 1, 1, 2 };
	struct voms_trust *vt;
	STACK_OF(X509) *chain = chain_of(F.pki, "creds/voms.pem");
	char dir[PATH_MAX], name[32], err[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(lsc) / sizeof(lsc[0]); i++) {
		(void)snprintf(name, sizeof(name), "vd-form%zu", i);
		path(dir, sizeof(dir), F.tmp, name);
		write_file(dir, "cms/voms.test.example.lsc", lsc[i]);
		vt = voms_trust_new(dir, err, sizeof(err));
		if (vt == NULL)
			fail_msg("form %zu: %s", i, err);
		assert_int_equal(voms_trust_count(vt), count[i]);
		expect(vt, chain, F.now, NULL, fq_voms, 2);
		voms_trust_free(vt);
	}
	/*
	 * Longer than the verified chain (host, int, root; the root is its
	 * own issuer, so one more root line would still match): nothing.
	 */
	path(dir, sizeof(dir), F.tmp, "vd-toolong");
	write_file(dir, "cms/voms.test.example.lsc", VOMS_HOST_DN "\n" INT_DN
	    "\n" ROOT_DN "\n" ROOT_DN "\n" ROOT_DN "\n");
	assert_non_null(vt = voms_trust_new(dir, err, sizeof(err)));
	expect(vt, chain, F.now, voms_err_untrusted, NULL, 0);
	voms_trust_free(vt);
	sk_X509_pop_free(chain, X509_free);
}

static void
test_voms__trust_is_a_snapshot(void **state)
{
	struct voms_trust *vt;
	STACK_OF(X509) *chain = chain_of(F.pki, "creds/voms.pem");
	char dir[PATH_MAX], p[PATH_MAX], err[256];

	(void)state;
	path(dir, sizeof(dir), F.tmp, "vd-snap");
	write_file(dir, "cms/voms.test.example.lsc",
	    VOMS_HOST_DN "\n" INT_DN "\n");
	assert_non_null(vt = voms_trust_new(dir, err, sizeof(err)));
	path(p, sizeof(p), dir, "cms/voms.test.example.lsc");
	assert_int_equal(unlink(p), 0);
	expect(vt, chain, F.now, NULL, fq_voms, 2);
	voms_trust_free(vt);
	/* Reloaded: the empty cms/ trusts nobody. */
	assert_non_null(vt = voms_trust_new(dir, err, sizeof(err)));
	assert_int_equal(voms_trust_count(vt), 0);
	expect(vt, chain, F.now, voms_err_untrusted, NULL, 0);
	voms_trust_free(vt);
	/* No trust at all. */
	expect(NULL, chain, F.now, voms_err_untrusted, NULL, 0);
	sk_X509_pop_free(chain, X509_free);
}

static void
test_voms__bad_vomsdir_refused(void **state)
{
	static const struct {
		const char	*text;
		const char	*msg;
	} bad[] = {
		{ VOMS_HOST_DN "\n", "needs the server DN and its issuer" },
		{ "# only comments\n\n", "no DN lines" },
		{ VOMS_HOST_DN "\nDC=ch, CN=x\n", ":2: not a slash-form DN" },
		{ VOMS_HOST_DN "\n" INT_DN "\n------ NEXT CHAIN ------\n"
		    VOMS_HOST_DN "\n", "needs the server DN" },
	};
	struct voms_trust *vt;
	char dir[PATH_MAX], name[32], err[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		(void)snprintf(name, sizeof(name), "vd-bad%zu", i);
		path(dir, sizeof(dir), F.tmp, name);
		write_file(dir, "cms/voms.test.example.lsc", bad[i].text);
		err[0] = '\0';
		vt = voms_trust_new(dir, err, sizeof(err));
		assert_null(vt);
		if (strstr(err, bad[i].msg) == NULL)
			fail_msg("case %zu: \"%s\" lacks \"%s\"", i, err,
			    bad[i].msg);
	}
	path(dir, sizeof(dir), F.tmp, "vd-badpem");
	write_file(dir, "cms/old.pem", "-----BEGIN CERTIFICATE-----\nAAAA\n"
	    "-----END CERTIFICATE-----\n");
	assert_null(voms_trust_new(dir, err, sizeof(err)));
	assert_non_null(strstr(err, "old.pem"));
	path(dir, sizeof(dir), F.tmp, "does-not-exist");
	assert_null(voms_trust_new(dir, err, sizeof(err)));
	assert_non_null(strstr(err, "does-not-exist"));
	assert_null(voms_trust_new(NULL, err, sizeof(err)));
}

static void
test_voms__corrupted_signature(void **state)
{
	unsigned char *ext, *p;
	size_t len, i;
	STACK_OF(X509) *chain;

	(void)state;
	ext = acext_of(F.pki, "creds/voms.pem", &len);
	/* The AC is the last thing in the value, its signature last in it. */
	ext[len - 1] ^= 0x01;
	chain = alice_proxy(ext, len);
	expect(F.vt, chain, F.now, voms_err_signature, NULL, 0);
	sk_X509_pop_free(chain, X509_free);
	ext[len - 1] ^= 0x01;

	/* Role=production -> Role=productioN: still DER, no longer signed. */
	for (p = NULL, i = 0; i + 10 <= len; i++)
		if (memcmp(ext + i, "production", 10) == 0) {
			p = ext + i;
			break;
		}
	assert_non_null(p);
	p[9] = 'N';
	chain = alice_proxy(ext, len);
	expect(F.vt, chain, F.now, voms_err_signature, NULL, 0);
	sk_X509_pop_free(chain, X509_free);
	free(ext);
}

static void
test_voms__garbage_extension_is_malformed(void **state)
{
	static const unsigned char junk[] = { 0x30, 0x03, 0x02, 0x01, 0x05 };
	unsigned char *ext;
	size_t len;
	STACK_OF(X509) *chain;

	(void)state;
	chain = alice_proxy(junk, sizeof(junk));
	expect(F.vt, chain, F.now, voms_err_malformed, NULL, 0);
	sk_X509_pop_free(chain, X509_free);
	/* A signed AC whose FQAN leaves its VO. */
	expect_cred(F.tmp, "proxies/othervo.pem", voms_err_malformed, NULL,
	    0);
	/* Truncated by one byte. */
	ext = acext_of(F.pki, "creds/voms.pem", &len);
	chain = alice_proxy(ext, len - 1);
	expect(F.vt, chain, F.now, voms_err_malformed, NULL, 0);
	sk_X509_pop_free(chain, X509_free);
	free(ext);
}

static void
test_voms__targeted_ac_refused(void **state)
{
	/* targetInformation, critical, one empty Targets. */
	static const unsigned char target[] = { 0x30, 0x0e, 0x06, 0x03, 0x55,
	    0x1d, 0x37, 0x01, 0x01, 0xff, 0x04, 0x04, 0x30, 0x02, 0x30, 0x00 };
	/* 1.2.3.4.5, critical, unknown. */
	static const unsigned char unknown[] = { 0x30, 0x0d, 0x06, 0x04, 0x2a,
	    0x03, 0x04, 0x05, 0x01, 0x01, 0xff, 0x04, 0x02, 0x05, 0x00 };
	unsigned char *ext;
	size_t len;
	struct buf x, e;
	STACK_OF(X509) *chain;

	(void)state;
	ext = acext_of(F.pki, "creds/voms.pem", &len);
	x = exts_plus(ext, len, target, sizeof(target));
	e = resign(ext, len, 7, &x);
	chain = alice_proxy(e.p, e.len);
	expect(F.vt, chain, F.now, voms_err_targeted, NULL, 0);
	sk_X509_pop_free(chain, X509_free);
	free(x.p);
	free(e.p);

	x = exts_plus(ext, len, unknown, sizeof(unknown));
	e = resign(ext, len, 7, &x);
	chain = alice_proxy(e.p, e.len);
	expect(F.vt, chain, F.now, voms_err_malformed, NULL, 0);
	sk_X509_pop_free(chain, X509_free);
	free(x.p);
	free(e.p);
	free(ext);
}

static void
test_voms__issuer_must_name_signer(void **state)
{
	unsigned char *ext, *d = NULL;
	size_t len;
	int n;
	struct buf is = { NULL, 0 }, e;
	STACK_OF(X509) *chain;

	(void)state;
	ext = acext_of(F.pki, "creds/voms.pem", &len);
	/* v2Form naming alice instead of the VOMS host. */
	assert_true((n = i2d_X509_NAME(X509_get_subject_name(F.alice), &d)) >
	    0);
	buf_add(&is, d, (size_t)n);
	OPENSSL_free(d);
	buf_wrap(&is, 0xa4);
	buf_wrap(&is, 0x30);
	buf_wrap(&is, 0xa0);
	e = resign(ext, len, 2, &is);
	chain = alice_proxy(e.p, e.len);
	expect(F.vt, chain, F.now, voms_err_issuer, NULL, 0);
	sk_X509_pop_free(chain, X509_free);
	free(is.p);
	free(e.p);
	free(ext);
}

static void
test_voms__signer_from_vomsdir_pem(void **state)
{
	unsigned char *ext;
	size_t len;
	struct buf x, e;
	STACK_OF(X509) *chain;
	struct voms_trust *vt;
	char dir[PATH_MAX], src[PATH_MAX], err[256];

	(void)state;
	ext = acext_of(F.pki, "creds/voms.pem", &len);
	x = exts_without_certlist(ext, len);
	e = resign(ext, len, 7, &x);
	chain = alice_proxy(e.p, e.len);
	/* No certificate list and no .pem: nothing to check it with. */
	expect(F.vt, chain, F.now, voms_err_nosigner, NULL, 0);

	path(dir, sizeof(dir), F.tmp, "vd-pem");
	write_file(dir, "cms/voms.test.example.lsc",
	    VOMS_HOST_DN "\n" INT_DN "\n");
	path(src, sizeof(src), F.pki, "voms/server.pem");
	assert_int_equal(run("cp '%s' '%s/cms/voms.test.example.pem'", src,
	    dir), 0);
	assert_non_null(vt = voms_trust_new(dir, err, sizeof(err)));
	expect(vt, chain, F.now, NULL, fq_voms, 2);
	voms_trust_free(vt);

	/* The .pem alone is not enough: the .lsc must match too. */
	path(src, sizeof(src), dir, "cms/voms.test.example.lsc");
	assert_int_equal(unlink(src), 0);
	assert_non_null(vt = voms_trust_new(dir, err, sizeof(err)));
	expect(vt, chain, F.now, voms_err_untrusted, NULL, 0);
	voms_trust_free(vt);
	sk_X509_pop_free(chain, X509_free);
	free(x.p);
	free(e.p);
	free(ext);
}

static void
test_voms__two_acs_in_one_extension(void **state)
{
	static const char *const both[] = { FQAN_PROD, FQAN_NULL,
	    "/cms/ttbar/Role=NULL/Capability=NULL" };
	unsigned char *a, *b, *c;
	size_t al, bl, cl;
	struct der d[2];
	struct buf e;
	STACK_OF(X509) *chain;

	(void)state;
	a = acext_of(F.pki, "creds/voms.pem", &al);
	b = acext_of(F.tmp, "proxies/good2.pem", &bl);
	c = acext_of(F.pki, "creds/voms_expired_ac.pem", &cl);
	d[0] = ac_in(a, al, 0);
	d[1] = ac_in(b, bl, 0);
	e = ext_of(d, 2);
	chain = alice_proxy(e.p, e.len);
	expect(F.vt, chain, F.now, NULL, both, 3);
	sk_X509_pop_free(chain, X509_free);
	free(e.p);

	/* One bad AC spoils the lot. */
	d[1] = ac_in(c, cl, 0);
	e = ext_of(d, 2);
	chain = alice_proxy(e.p, e.len);
	expect(F.vt, chain, F.now, voms_err_expired, NULL, 0);
	sk_X509_pop_free(chain, X509_free);
	free(e.p);
	free(a);
	free(b);
	free(c);
}

static void
test_voms__error_queue_untouched(void **state)
{
	STACK_OF(X509) *chain = chain_of(F.pki, "creds/voms_untrusted.pem");
	char **fq;
	size_t n;
	const char *reason;

	(void)state;
	ERR_clear_error();
	ERR_raise(ERR_LIB_USER, 42);
	assert_int_equal(voms_verify_chain(F.vt, F.store, chain, F.now, &fq,
	    &n, &reason), -1);
	assert_int_equal(ERR_GET_REASON(ERR_peek_error()), 42);
	assert_int_equal(ERR_GET_REASON(ERR_peek_last_error()), 42);
	ERR_clear_error();
	sk_X509_pop_free(chain, X509_free);
}

/* ------------------------------------------------------------------ */
/* The parser                                                          */
/* ------------------------------------------------------------------ */

static void
test_voms__parse_fields(void **state)
{
	unsigned char *ext;
	size_t len;
	struct der ac, top[3];
	struct voms_ac v;
	char err[256];

	(void)state;
	ext = acext_of(F.pki, "creds/voms.pem", &len);
	ac = ac_in(ext, len, 0);
	assert_int_equal(voms_ac_parse(ac.p, ac.len, &v, err, sizeof(err)), 0);
	assert_string_equal(v.vo, "cms");
	assert_string_equal(v.host, "voms.test.example");
	assert_int_equal(v.port, 15002);
	assert_int_equal(v.nfqans, 2);
	assert_string_equal(v.fqans[0], FQAN_PROD);
	assert_string_equal(v.fqans[1], FQAN_NULL);
	/* voms-proxy-fake names the holder by subject, like VOMS servers. */
	assert_int_equal(X509_NAME_cmp(v.holder_issuer,
	    X509_get_subject_name(F.alice)), 0);
	assert_int_equal(ASN1_INTEGER_cmp(v.holder_serial,
	    X509_get0_serialNumber(F.alice)), 0);
	assert_null(v.holder_uid);
	assert_int_equal(X509_NAME_cmp(v.issuer,
	    X509_get_subject_name(F.vomshost)), 0);
	assert_non_null(v.serial);
	assert_true(v.not_before < v.not_after);
	assert_true(v.not_before <= F.now + VOMS_SKEW);
	assert_true(v.not_after > F.now);
	assert_non_null(v.certs);
	assert_int_equal(sk_X509_num(v.certs), 1);
	assert_int_equal(X509_cmp(sk_X509_value(v.certs, 0), F.vomshost), 0);
	assert_false(v.targeted);
	assert_int_equal(OBJ_obj2nid(v.sig_alg->algorithm),
	    NID_sha256WithRSAEncryption);
	assert_true(ASN1_STRING_length(v.sig) > 0);
	assert_int_equal(kids(ac, top, 3), 3);
	assert_int_equal(v.info_len, top[0].len);
	assert_memory_equal(v.info_der, top[0].p, top[0].len);
	voms_ac_clear(&v);
	assert_null(v.priv);
	assert_null(v.fqans);
	voms_ac_clear(&v);

	/* The extension form: one AC with the same FQANs. */
	{
		struct voms_ac *acs;
		size_t nacs;

		assert_int_equal(voms_ext_parse(ext, len, &acs, &nacs, err,
		    sizeof(err)), 0);
		assert_int_equal(nacs, 1);
		assert_int_equal(acs[0].nfqans, 2);
		assert_string_equal(acs[0].fqans[1], FQAN_NULL);
		voms_acs_free(acs, nacs);
	}
	free(ext);
}

/* What a successful parse must always give, whatever the input. */
static void
check_invariants(const struct voms_ac *v, const unsigned char *der,
    size_t len)
{
	size_t i;

	assert_non_null(v->vo);
	assert_non_null(v->host);
	assert_true(v->nfqans >= 1 && v->nfqans <= VOMS_FQANS_MAX);
	for (i = 0; i < v->nfqans; i++) {
		assert_int_equal(v->fqans[i][0], '/');
		assert_null(strchr(v->fqans[i], ','));
	}
	assert_non_null(v->holder_issuer);
	assert_non_null(v->holder_serial);
	assert_non_null(v->issuer);
	assert_true(v->port >= 1 && v->port <= 65535);
	/* The kept encoding is a copy; it is a SEQUENCE inside the AC. */
	assert_non_null(v->info_der);
	assert_true(v->info_len > 2 && v->info_len < len);
	assert_int_equal(v->info_der[0], 0x30);
	(void)der;
}

static void
test_voms__parse_every_truncation(void **state)
{
	unsigned char *ext, *copy;
	size_t len, i;
	struct der ac;
	struct voms_ac v, *acs;
	size_t nacs;
	char err[256];

	(void)state;
	ext = acext_of(F.pki, "creds/voms.pem", &len);
	ac = ac_in(ext, len, 0);
	/* Copies of the exact length, so ASan sees any overread. */
	for (i = 0; i < ac.len; i++) {
		copy = malloc(i + 1);
		assert_non_null(copy);
		memcpy(copy, ac.p, i);
		assert_int_equal(voms_ac_parse(i ? copy : NULL, i, &v, err,
		    sizeof(err)), -1);
		assert_null(v.priv);
		assert_null(v.fqans);
		free(copy);
	}
	for (i = 0; i < len; i++) {
		copy = malloc(i + 1);
		assert_non_null(copy);
		memcpy(copy, ext, i);
		acs = (struct voms_ac *)0x1;
		assert_int_equal(voms_ext_parse(copy, i, &acs, &nacs, err,
		    sizeof(err)), -1);
		assert_null(acs);
		assert_int_equal(nacs, 0);
		free(copy);
	}
	/* One byte too many, at either level. */
	copy = malloc(ac.len + 1);
	assert_non_null(copy);
	memcpy(copy, ac.p, ac.len);
	copy[ac.len] = 0;
	assert_int_equal(voms_ac_parse(copy, ac.len + 1, &v, err,
	    sizeof(err)), -1);
	assert_int_equal(voms_ac_parse(copy, ac.len, &v, err, sizeof(err)),
	    0);
	check_invariants(&v, copy, ac.len);
	voms_ac_clear(&v);
	free(copy);
	free(ext);
}

static void
test_voms__parse_byte_flips(void **state)
{
	static const unsigned char masks[] = { 0x01, 0x80, 0xff, 0x20 };
	unsigned char *ext, *copy;
	size_t len, i, m, ok = 0;
	struct der ac;
	struct voms_ac v;
	char err[256];

	(void)state;
	ext = acext_of(F.pki, "creds/voms.pem", &len);
	ac = ac_in(ext, len, 0);
	assert_non_null(copy = malloc(ac.len));
	for (i = 0; i < ac.len; i++)
		for (m = 0; m < sizeof(masks); m++) {
			memcpy(copy, ac.p, ac.len);
			copy[i] ^= masks[m];
			if (voms_ac_parse(copy, ac.len, &v, err,
			    sizeof(err)) == 0) {
				check_invariants(&v, copy, ac.len);
				ok++;
			}
			voms_ac_clear(&v);
		}
	/* Flips in the signature and serial still parse; most do not. */
	assert_true(ok > 0 && ok < ac.len * sizeof(masks));
	free(copy);
	free(ext);
}

static void
test_voms__parse_random_garbage(void **state)
{
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	unsigned char *buf, *ext;
	size_t len, i, n, j;
	struct voms_ac v, *acs;
	size_t nacs;
	char err[256];

	(void)state;
	ext = acext_of(F.pki, "creds/voms.pem", &len);
	for (i = 0; i < 3000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		n = (size_t)(x % 2048) + 1;
		assert_non_null(buf = malloc(n));
		/* Half start from the real AC, so the decoder goes deep. */
		for (j = 0; j < n; j++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			buf[j] = (unsigned char)x;
		}
		if (i & 1) {
			memcpy(buf, ext, n < len ? n : len);
			buf[(size_t)(x >> 20) % n] ^= (unsigned char)(x >> 8);
		}
		if (voms_ac_parse(buf, n, &v, err, sizeof(err)) == 0)
			check_invariants(&v, buf, n);
		voms_ac_clear(&v);
		if (voms_ext_parse(buf, n, &acs, &nacs, err, sizeof(err)) ==
		    0)
			voms_acs_free(acs, nacs);
		free(buf);
	}
	free(ext);
}

/* ------------------------------------------------------------------ */
/* Cost, and libvomsapi as the reference                               */
/* ------------------------------------------------------------------ */

static double
mono(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

static void
test_voms__cost_per_call(void **state)
{
	STACK_OF(X509) *chain = chain_of(F.pki, "creds/voms.pem");
	char **fq;
	size_t n, i, iters = 0;
	const char *reason;
	double t0 = mono(), t;

	(void)state;
	/* Bounded: at most 500 calls or 5 seconds. */
	for (i = 0; i < 500 && mono() - t0 < 5.0; i++, iters++) {
		assert_int_equal(voms_verify_chain(F.vt, F.store, chain, F.now,
		    &fq, &n, &reason), 0);
		assert_int_equal(n, 2);
		voms_fqans_free(fq, n);
	}
	t = (mono() - t0) / (double)iters;
	printf("# voms_verify_chain: %.1f us/call over %zu calls\n", t * 1e6,
	    iters);
	/*
	 * Generous, so that valgrind passes too: about 0.3 ms is expected
	 * (0.2 ms of it OpenSSL decoding and verifying the embedded host
	 * certificate); libvomsapi needs 15-28 ms.
	 */
	assert_true(t < 0.05);

	/* The parse alone, which a fuzzer drives. */
	{
		const ASN1_OCTET_STRING *v = acext(sk_X509_value(chain, 0));
		struct voms_ac *acs;
		size_t nacs;
		char err[128];

		t0 = mono();
		for (i = 0, iters = 0; i < 2000 && mono() - t0 < 5.0;
		    i++, iters++) {
			assert_int_equal(voms_ext_parse(
			    ASN1_STRING_get0_data(v),
			    (size_t)ASN1_STRING_length(v), &acs, &nacs, err,
			    sizeof(err)), 0);
			voms_acs_free(acs, nacs);
		}
		t = (mono() - t0) / (double)iters;
		printf("# voms_ext_parse: %.1f us/call over %zu calls\n",
		    t * 1e6, iters);
	}
	sk_X509_pop_free(chain, X509_free);
}

#ifdef HAVE_VOMSAPI
/*
 * libvomsapi runs in a forked child only: it leaks (LeakSanitizer and
 * valgrind would fail this binary), registers OIDs process-wide, and
 * could crash.  The child reports over a pipe, ending with "end", and
 * then kills itself, so that no leak checker looks at its heap.
 */
static struct {
	void		*h;
	struct vomsdata *(*init)(char *, char *);
	int		 (*retrieve)(X509 *, STACK_OF(X509) *, int,
			    struct vomsdata *, int *);
	void		 (*destroy)(struct vomsdata *);
} V;

/* In the child: load libvomsapi.  0, or -1 when it is not there. */
static int
vomsapi_load(void)
{
	if (V.h != NULL)
		return (0);
	if ((V.h = dlopen("libvomsapi.so.1", RTLD_NOW | RTLD_LOCAL)) == NULL)
		return (-1);
	*(void **)&V.init = dlsym(V.h, "VOMS_Init");
	*(void **)&V.retrieve = dlsym(V.h, "VOMS_Retrieve");
	*(void **)&V.destroy = dlsym(V.h, "VOMS_Destroy");
	return (V.init && V.retrieve && V.destroy ? 0 : -1);
}

/*
 * In the child: libvomsapi's verdict on chain, iters times, written to
 * fd as "trusted\n" then one FQAN per line, or "refused\n", then the
 * microseconds per call; or "unavailable\n"; then "end\n".
 */
static void
vomsapi_child(int fd, STACK_OF(X509) *chain, const char *cabase,
    int iters)
{
	char vdir[PATH_MAX], cdir[PATH_MAX];
	struct vomsdata *vd = NULL;
	FILE *out = fdopen(fd, "w");
	int error, ok = 0, i, k;
	double t0;

	if (out == NULL)
		_exit(2);
	if (vomsapi_load() == -1) {
		fprintf(out, "unavailable\nend\n");
		(void)fclose(out);
		(void)raise(SIGKILL);
	}
	path(vdir, sizeof(vdir), F.tmp, "vomsdir");
	path(cdir, sizeof(cdir), cabase, "certificates");
	t0 = mono();
	for (k = 0; k < iters; k++) {
		if (vd != NULL)
			V.destroy(vd);
		if ((vd = V.init(vdir, cdir)) == NULL)
			_exit(3);
		error = 0;
		ok = V.retrieve(sk_X509_value(chain, 0), chain, RECURSE_CHAIN,
		    vd, &error);
	}
	if (ok && vd->data != NULL && vd->data[0] != NULL) {
		fprintf(out, "trusted\n");
		for (i = 0; vd->data[0]->fqan[i] != NULL; i++)
			fprintf(out, "%s\n", vd->data[0]->fqan[i]);
	} else
		fprintf(out, "refused\n");
	fprintf(out, "%.1f\nend\n", (mono() - t0) / iters * 1e6);
	(void)fclose(out);
	(void)raise(SIGKILL);
	_exit(0);
}

/*
 * libvomsapi's verdict on chain with the CA dir of cabase: 1 with its
 * FQANs in *fq (NULL terminated, malloc'd), 0, or -1 when libvomsapi
 * cannot be loaded.  *usec gets its cost per call over iters calls.
 */
static int
vomsapi_check(STACK_OF(X509) *chain, const char *cabase, int iters,
    char ***fq, double *usec)
{
	char buf[8192], *line, *nl;
	size_t len = 0, n = 0;
	ssize_t r;
	int fds[2], status, ret = -2;
	pid_t pid;

	*fq = NULL;
	(void)fflush(stdout);
	assert_int_equal(pipe(fds), 0);
	assert_true((pid = fork()) != -1);
	if (pid == 0) {
		(void)close(fds[0]);
		vomsapi_child(fds[1], chain, cabase, iters);
	}
	(void)close(fds[1]);
	while (len < sizeof(buf) - 1 &&
	    (r = read(fds[0], buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)r;
	buf[len] = '\0';
	(void)close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	/* It ends by SIGKILL, after a complete report. */
	if (len < 4 || strcmp(buf + len - 4, "end\n") != 0)
		fail_msg("libvomsapi child died (status %#x): %s", status,
		    buf);

	assert_non_null(*fq = calloc(64, sizeof(char *)));
	for (line = buf; (nl = strchr(line, '\n')) != NULL; line = nl + 1) {
		*nl = '\0';
		if (ret == -2) {
			ret = strcmp(line, "trusted") == 0 ? 1 :
			    strcmp(line, "refused") == 0 ? 0 : -1;
			continue;
		}
		if (strcmp(line, "end") == 0)
			break;
		if (line[0] != '/') {
			*usec = strtod(line, NULL);
			continue;
		}
		assert_true(n < 63);
		assert_non_null((*fq)[n++] = strdup(line));
	}
	assert_true(ret != -2);
	return (ret);
}

static void
fq_free(char **fq)
{
	size_t i;

	for (i = 0; fq != NULL && fq[i] != NULL; i++)
		free(fq[i]);
	free(fq);
}

/*
 * Compare verdicts on chain with the CA directory of cabase (F.pki, or
 * F.tmp for the one whose CRL revokes voms-revoked).
 */
static void
compare(const char *name, STACK_OF(X509) *chain, const char *cabase)
{
	char **ours, **theirs;
	size_t n, i;
	const char *reason;
	double usec;
	int ok, ref;

	ok = voms_verify_chain(F.vt, cabase == F.tmp ? F.revstore : F.store,
	    chain, F.now, &ours, &n, &reason) == 0;
	ref = vomsapi_check(chain, cabase, 1, &theirs, &usec);
	if (ref == -1) {
		voms_fqans_free(ours, ok ? n : 0);
		fq_free(theirs);
		skip();
	}
	printf("# %-26s gridfront: %-8s libvomsapi: %s\n", name,
	    ok ? "trusted" : "refused", ref ? "trusted" : "refused");
	if (ok != ref)
		fail_msg("%s: gridfront %s (%s), libvomsapi %s", name,
		    ok ? "trusts" : "refuses", reason ? reason : "-",
		    ref ? "trusts" : "refuses");
	for (i = 0; ok && i < n; i++) {
		assert_non_null(theirs[i]);
		assert_string_equal(ours[i], theirs[i]);
	}
	if (ok)
		assert_null(theirs[n]);
	voms_fqans_free(ours, ok ? n : 0);
	fq_free(theirs);
}

static void
test_voms__agrees_with_libvomsapi(void **state)
{
	static const struct {
		int		 tmp;	/* file in F.tmp, not F.pki */
		const char	*rel;
		int		 revcrl;	/* CA dir of F.tmp */
	} cases[] = {
		{ 0, "creds/voms.pem", 0 },
		{ 0, "creds/voms2.pem", 0 },
		{ 1, "proxies/three.pem", 0 },
		{ 1, "proxies/good2.pem", 0 },
		{ 0, "creds/voms_untrusted.pem", 0 },
		{ 0, "creds/voms_nolsc.pem", 0 },
		{ 0, "creds/voms_expired_ac.pem", 0 },
		{ 1, "proxies/wrongvo.pem", 0 },
		{ 1, "proxies/othervo.pem", 0 },
		{ 1, "proxies/revoked.pem", 0 },
		{ 1, "proxies/revoked.pem", 1 },
	};
	/* Re-signed by the trusted host with one change each. */
	static const unsigned char target[] = { 0x30, 0x0e, 0x06, 0x03, 0x55,
	    0x1d, 0x37, 0x01, 0x01, 0xff, 0x04, 0x04, 0x30, 0x02, 0x30, 0x00 };
	static const unsigned char unknown[] = { 0x30, 0x0d, 0x06, 0x04, 0x2a,
	    0x03, 0x04, 0x05, 0x01, 0x01, 0xff, 0x04, 0x02, 0x05, 0x00 };
	struct buf x, e;
	STACK_OF(X509) *chain, *parent;
	unsigned char *ext;
	size_t len, i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		chain = chain_of(cases[i].tmp ? F.tmp : F.pki, cases[i].rel);
		compare(cases[i].revcrl ? "revoked.pem, its CRL" :
		    cases[i].rel, chain, cases[i].revcrl ? F.tmp : F.pki);
		sk_X509_pop_free(chain, X509_free);
	}
	ext = acext_of(F.pki, "creds/voms.pem", &len);
	parent = chain_of(F.pki, "creds/bob.pem");
	chain = proxy_chain(F.bob, F.bob_key, parent, ext, len);
	compare("holder mismatch", chain, F.pki);
	sk_X509_pop_free(chain, X509_free);
	sk_X509_pop_free(parent, X509_free);
	ext[len - 1] ^= 0x01;
	chain = alice_proxy(ext, len);
	compare("corrupted signature", chain, F.pki);
	sk_X509_pop_free(chain, X509_free);
	ext[len - 1] ^= 0x01;

	x = holder(X509_get_issuer_name(F.alice),
	    X509_get0_serialNumber(F.alice));
	e = resign(ext, len, 1, &x);
	chain = alice_proxy(e.p, e.len);
	compare("RFC 3281 holder", chain, F.pki);
	sk_X509_pop_free(chain, X509_free);
	free(x.p);
	free(e.p);
	x = exts_plus(ext, len, target, sizeof(target));
	e = resign(ext, len, 7, &x);
	chain = alice_proxy(e.p, e.len);
	compare("targeted", chain, F.pki);
	sk_X509_pop_free(chain, X509_free);
	free(x.p);
	free(e.p);
	x = exts_plus(ext, len, unknown, sizeof(unknown));
	e = resign(ext, len, 7, &x);
	chain = alice_proxy(e.p, e.len);
	compare("unknown critical ext", chain, F.pki);
	sk_X509_pop_free(chain, X509_free);
	free(x.p);
	free(e.p);
	free(ext);
}

static void
test_voms__libvomsapi_cost(void **state)
{
	STACK_OF(X509) *chain;
	char **fq;
	double usec = 0;

	(void)state;
	chain = chain_of(F.pki, "creds/voms.pem");
	/* VOMS_Init + VOMS_Retrieve, as a caller without a cache pays. */
	if (vomsapi_check(chain, F.pki, 30, &fq, &usec) == -1) {
		sk_X509_pop_free(chain, X509_free);
		skip();
	}
	printf("# libvomsapi Init+Retrieve: %.1f us/call over 30 calls\n",
	    usec);
	assert_non_null(fq[0]);
	assert_string_equal(fq[0], FQAN_PROD);
	fq_free(fq);
	sk_X509_pop_free(chain, X509_free);
}
#endif /* HAVE_VOMSAPI */

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_voms__parse_fields),
		cmocka_unit_test(test_voms__parse_every_truncation),
		cmocka_unit_test(test_voms__parse_byte_flips),
		cmocka_unit_test(test_voms__parse_random_garbage),
		cmocka_unit_test(test_voms__good_ac_fqans_in_ac_order),
		cmocka_unit_test(test_voms__ac_one_level_up),
		cmocka_unit_test(test_voms__no_ac),
		cmocka_unit_test(test_voms__untrusted_signer),
		cmocka_unit_test(test_voms__no_lsc),
		cmocka_unit_test(test_voms__revoked_signer),
		cmocka_unit_test(test_voms__revoked_signer_despite_lax_store),
		cmocka_unit_test(test_voms__expired_ac),
		cmocka_unit_test(test_voms__validity_skew_bounds),
		cmocka_unit_test(test_voms__holder_mismatch),
		cmocka_unit_test(test_voms__holder_forms_accepted),
		cmocka_unit_test(test_voms__wrong_lsc_issuer_line),
		cmocka_unit_test(test_voms__lsc_forms),
		cmocka_unit_test(test_voms__trust_is_a_snapshot),
		cmocka_unit_test(test_voms__bad_vomsdir_refused),
		cmocka_unit_test(test_voms__corrupted_signature),
		cmocka_unit_test(test_voms__garbage_extension_is_malformed),
		cmocka_unit_test(test_voms__targeted_ac_refused),
		cmocka_unit_test(test_voms__issuer_must_name_signer),
		cmocka_unit_test(test_voms__signer_from_vomsdir_pem),
		cmocka_unit_test(test_voms__two_acs_in_one_extension),
		cmocka_unit_test(test_voms__error_queue_untouched),
		cmocka_unit_test(test_voms__cost_per_call),
#ifdef HAVE_VOMSAPI
		cmocka_unit_test(test_voms__agrees_with_libvomsapi),
		cmocka_unit_test(test_voms__libvomsapi_cost),
#endif
	};

	/* TEST_FILTER=test_voms__no_ac (a glob) runs a subset. */
	if (getenv("TEST_FILTER") != NULL)
		cmocka_set_test_filter(getenv("TEST_FILTER"));
	return (cmocka_run_group_tests_name("voms", tests, group_setup,
	    group_teardown));
}
