/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * Grid x509 chain verification.  This file loads trust snapshots (a hashed
 * CA directory read eagerly into a fresh X509_STORE, so a reload really
 * re-reads every CRL, plus the vomsdir trust), makes identities, and
 * verifies presented client chains in the "wrap, then add policy" shape:
 * legacy proxies peeled off (proxycert.c), X509_verify_cert on the path,
 * then RFC 3820 proxy policy (proxycert.c), the user certificate, CA
 * namespaces and VOMS, and the identity's deadlines.  It is called by
 * auth.c only: the cache of verified chains is x509_cache.c's; the TLS
 * hooks, per-request decisions, reloads and logging live elsewhere.
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "auth/auth.h"
#include "auth/dn.h"
#include "auth/namespaces.h"
#include "auth/proxycert.h"
#include "auth/voms.h"
#include "auth/x509.h"

const char x509_err_expired[] = "certificate expired";
const char x509_err_notyet[] = "certificate not yet valid";
const char x509_err_revoked[] = "certificate revoked";
const char x509_err_unknown_ca[] = "unknown certificate authority";
const char x509_err_chain[] = "certificate chain invalid";
const char x509_err_crl[] = "CRL missing or expired for the issuing CA";
const char x509_err_proxy_expired[] = "proxy certificate expired";
const char x509_err_independent[] =
    "independent proxy carries no user identity";
const char x509_err_legacy[] = "legacy Globus proxy not accepted";
const char x509_err_ca_user[] = "CA certificate used as user certificate";
const char x509_err_too_long[] =
    "chain longer than auth.verify_depth allows";

/* The VOMS AC extension of a proxy. */
#define OID_VOMS_ACS	"1.3.6.1.4.1.8005.100.100.5"

struct x509_trust {
	int		 refs;		/* atomic */
	uint64_t	 gen;
	unsigned	 depth;
	X509_STORE	*store;
	struct voms_trust *voms;
	struct namespaces_set *ns;	/* CA namespace policies, or NULL */
};

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */
/* ------------------------------------------------------------------ */

static void
x509_errf(char *err, size_t errlen, const char *fmt, const char *a,
    const char *b)
{
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, fmt, a, b);
}

/* An ASN1_TIME as time_t; 0 when it cannot be read. */
static time_t
x509_asn1_time(const ASN1_TIME *t)
{
	struct tm	 tm;

	if (t == NULL || !ASN1_TIME_to_tm(t, &tm))
		return (0);
	return (timegm(&tm));
}

/* "12345678.0" style names: 8 hex digits, '.', [r] digits. */
static int
x509_hashed_name(const char *name, int *is_crl)
{
	size_t		 i;

	for (i = 0; i < 8; i++)
		if (!((name[i] >= '0' && name[i] <= '9') ||
		    (name[i] >= 'a' && name[i] <= 'f')))
			return (0);
	if (name[8] != '.')
		return (0);
	name += 9;
	*is_crl = 0;
	if (*name == 'r') {
		*is_crl = 1;
		name++;
	}
	if (*name == '\0')
		return (0);
	for (; *name != '\0'; name++)
		if (*name < '0' || *name > '9')
			return (0);
	return (1);
}

static char *
x509_name_text(const X509_NAME *n)
{
	char		*s, *o;

	if ((s = dn_format_alloc(n)) != NULL)
		return (s);
	/* A name dn.c refuses (bad UTF-8 ...) is still shown, OpenSSL-style. */
	if ((o = X509_NAME_oneline(n, NULL, 0)) == NULL)
		return (NULL);
	s = strdup(o);
	OPENSSL_free(o);
	return (s);
}

/* ------------------------------------------------------------------ */
/* Trust snapshots                                                     */
/* ------------------------------------------------------------------ */

static void
x509_skip(struct x509_trust_info *info, const char *file, const char *why)
{
	info->nskipped++;
	if (info->first_skip[0] == '\0')
		snprintf(info->first_skip, sizeof(info->first_skip),
		    "%.120s: %.120s", file, why);
}

static void
x509_load_certs(X509_STORE *st, const char *path, const char *name,
    struct x509_trust_info *info)
{
	BIO		*b;
	X509		*x;
	size_t		 n = 0;

	if ((b = BIO_new_file(path, "r")) == NULL) {
		x509_skip(info, name, "cannot open");
		return;
	}
	while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
		if (X509_STORE_add_cert(st, x))
			n++;
		X509_free(x);
	}
	BIO_free(b);
	ERR_clear_error();
	if (n == 0)
		x509_skip(info, name, "no PEM certificate");
	info->ncerts += n;
}

static void
x509_load_crls(X509_STORE *st, const char *path, const char *name,
    struct x509_trust_info *info)
{
	BIO		*b;
	X509_CRL	*c;
	size_t		 n = 0;
	time_t		 next;

	if ((b = BIO_new_file(path, "r")) == NULL) {
		x509_skip(info, name, "cannot open");
		return;
	}
	for (;;) {
		c = PEM_read_bio_X509_CRL(b, NULL, NULL, NULL);
		if (c == NULL && n == 0 && BIO_reset(b) == 0)
			c = d2i_X509_CRL_bio(b, NULL);	/* DER, once */
		if (c == NULL)
			break;
		next = x509_asn1_time(X509_CRL_get0_nextUpdate(c));
		if (next != 0 &&
		    (info->crl_next_min == 0 || next < info->crl_next_min))
			info->crl_next_min = next;
		if (X509_STORE_add_crl(st, c))
			n++;
		X509_CRL_free(c);
		if (n > 0 && BIO_eof(b))
			break;
	}
	BIO_free(b);
	ERR_clear_error();
	if (n == 0)
		x509_skip(info, name, "no CRL");
	info->ncrls += n;
}

struct x509_trust *
x509_trust_load(const char *ca_path, const char *vomsdir, unsigned depth,
    uint64_t gen, struct x509_trust_info *infop, char *err, size_t errlen)
{
	struct x509_trust_info info;
	struct x509_trust *t = NULL;
	DIR		*d = NULL;
	struct dirent	*de;
	char		 path[PATH_MAX], why[256];
	int		 is_crl;

	memset(&info, 0, sizeof(info));
	if (ca_path == NULL) {
		x509_errf(err, errlen, "%s%s", "no CA directory configured",
		    "");
		goto fail;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL ||
	    (t->store = X509_STORE_new()) == NULL) {
		x509_errf(err, errlen, "%s%s", "out of memory", "");
		goto fail;
	}
	t->refs = 1;
	t->gen = gen;
	if ((d = opendir(ca_path)) == NULL) {
		x509_errf(err, errlen, "CA directory %s: %s", ca_path,
		    strerror(errno));
		goto fail;
	}
	while ((de = readdir(d)) != NULL) {
		if (!x509_hashed_name(de->d_name, &is_crl))
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", ca_path,
		    de->d_name) >= sizeof(path))
			continue;
		if (is_crl)
			x509_load_crls(t->store, path, de->d_name, &info);
		else
			x509_load_certs(t->store, path, de->d_name, &info);
	}
	closedir(d);
	d = NULL;
	if (info.ncerts == 0) {
		x509_errf(err, errlen, "CA directory %s: %s", ca_path,
		    "no CA certificate (<hash>.N file) found");
		goto fail;
	}
	/*
	 * CRL_CHECK alone checks only the leaf, which lets a revoked user's
	 * proxy in: check every certificate, and fail closed without a CRL.
	 */
	X509_STORE_set_flags(t->store, X509_V_FLAG_CRL_CHECK |
	    X509_V_FLAG_CRL_CHECK_ALL | X509_V_FLAG_ALLOW_PROXY_CERTS);
	t->depth = depth > 0 ? depth : 10;
	X509_STORE_set_depth(t->store, (int)t->depth);
	if (vomsdir != NULL) {
		why[0] = '\0';
		if ((t->voms = voms_trust_new(vomsdir, why,
		    sizeof(why))) == NULL) {
			x509_errf(err, errlen, "vomsdir %s: %s", vomsdir, why);
			goto fail;
		}
		info.nvoms = voms_trust_count(t->voms);
	}
	if (infop != NULL)
		*infop = info;
	return (t);
fail:
	if (d != NULL)
		closedir(d);
	if (infop != NULL)
		*infop = info;
	x509_trust_put(t);
	ERR_clear_error();
	return (NULL);
}

struct x509_trust *
x509_trust_get(struct x509_trust *t)
{
	if (t != NULL)
		__atomic_add_fetch(&t->refs, 1, __ATOMIC_RELAXED);
	return (t);
}

void
x509_trust_put(struct x509_trust *t)
{
	if (t == NULL || __atomic_sub_fetch(&t->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	X509_STORE_free(t->store);
	voms_trust_free(t->voms);
	namespaces_free(t->ns);
	free(t);
}

void
x509_trust_set_namespaces(struct x509_trust *t, struct namespaces_set *ns)
{
	namespaces_free(t->ns);
	t->ns = ns;
}

uint64_t
x509_trust_gen(const struct x509_trust *t)
{
	return (t->gen);
}

X509_STORE *
x509_trust_store(const struct x509_trust *t)
{
	return (t->store);
}

/* ------------------------------------------------------------------ */
/* Identities                                                          */
/* ------------------------------------------------------------------ */

static struct x509_ident x509_none = {
	.pub = { .refs = 1, .status = AUTH_CERT_NONE,
	    .valid_until = X509_FOREVER },
	.is_static = 1,
	.lock = PTHREAD_MUTEX_INITIALIZER
};

static struct x509_ident x509_oom = {
	.pub = { .refs = 1, .status = AUTH_CERT_FAILED,
	    .reason = x509_err_chain, .detail = "out of memory",
	    .valid_until = X509_FOREVER },
	.is_static = 1,
	.lock = PTHREAD_MUTEX_INITIALIZER
};

static struct x509_ident x509_too_long = {
	.pub = { .refs = 1, .status = AUTH_CERT_FAILED,
	    .reason = x509_err_chain, .detail = x509_err_too_long,
	    .valid_until = X509_FOREVER },
	.is_static = 1,
	.lock = PTHREAD_MUTEX_INITIALIZER
};

struct auth_ident *
x509_ident_none(void)
{
	return (&x509_none.pub);
}

struct auth_ident *
x509_ident_oom(void)
{
	return (&x509_oom.pub);
}

struct auth_ident *
x509_ident_too_long(void)
{
	return (&x509_too_long.pub);
}

static struct x509_ident *
x509_ident_new(void)
{
	struct x509_ident *xi;

	if ((xi = calloc(1, sizeof(*xi))) == NULL)
		return (NULL);
	if (pthread_mutex_init(&xi->lock, NULL) != 0) {
		free(xi);
		return (NULL);
	}
	xi->pub.refs = 1;
	xi->pub.status = AUTH_CERT_FAILED;
	xi->pub.reason = x509_err_chain;
	xi->pub.valid_until = X509_FOREVER;
	return (xi);
}

struct auth_ident *
x509_ident_get(struct auth_ident *id)
{
	struct x509_ident *xi = (struct x509_ident *)id;

	if (xi != NULL && !xi->is_static)
		__atomic_add_fetch(&id->refs, 1, __ATOMIC_RELAXED);
	return (id);
}

static void
x509_ident_free(struct x509_ident *xi)
{
	struct auth_ident *id = &xi->pub;
	size_t		 i;

	for (i = 0; i < id->nchain; i++) {
		free(id->chain[i].subject);
		free(id->chain[i].issuer);
	}
	free(id->chain);
	free(id->user_dn);
	voms_fqans_free(id->fqans, id->nfqans);
	sk_X509_pop_free(xi->presented, X509_free);
	if (xi->slot != NULL && xi->slot_free != NULL)
		xi->slot_free(xi->slot);
	pthread_mutex_destroy(&xi->lock);
	free(xi);
}

void
x509_ident_put(struct auth_ident *id)
{
	struct x509_ident *xi = (struct x509_ident *)id;

	if (xi == NULL || xi->is_static)
		return;
	if (__atomic_sub_fetch(&id->refs, 1, __ATOMIC_ACQ_REL) == 0)
		x509_ident_free(xi);
}

struct x509_ident *
x509_ident_slim_new(const struct x509_ident *fi)
{
	struct x509_ident *xi;

	if ((xi = x509_ident_new()) == NULL)
		return (NULL);
	xi->pub.reason = fi->pub.reason;
	xi->pub.detail = fi->pub.detail;
	xi->pub.trust_gen = fi->pub.trust_gen;
	xi->pub.not_after = fi->pub.not_after;
	xi->pub.valid_until = fi->pub.valid_until;
	xi->has_key = fi->has_key;
	memcpy(xi->key, fi->key, X509_KEY_LEN);
	xi->cache_until = fi->cache_until;
	xi->bytes = sizeof(*xi);
	return (xi);
}

struct auth_ident *
x509_ident_slim(struct auth_ident *id)
{
	struct x509_ident *xi = (struct x509_ident *)id, *slim;

	if (xi == NULL || xi->is_static || id->status != AUTH_CERT_FAILED ||
	    (slim = x509_ident_slim_new(xi)) == NULL)
		return (x509_ident_get(id));
	return (&slim->pub);
}

/* ------------------------------------------------------------------ */
/* Verification                                                        */
/* ------------------------------------------------------------------ */

/*
 * The plain-words reason for an OpenSSL verification error, compared by
 * name (the numbers changed in OpenSSL 3).  cur is the certificate the
 * error is about, when known.
 */
static const char *
x509_reason(int err, X509 *cur)
{
	int		 proxy = cur != NULL &&
			    (X509_get_extension_flags(cur) & EXFLAG_PROXY);

	switch (err) {
	case X509_V_ERR_CERT_HAS_EXPIRED:
		return (proxy ? x509_err_proxy_expired : x509_err_expired);
	case X509_V_ERR_CERT_NOT_YET_VALID:
		return (x509_err_notyet);
	case X509_V_ERR_CERT_REVOKED:
		return (x509_err_revoked);
	case X509_V_ERR_UNABLE_TO_GET_CRL:
	case X509_V_ERR_CRL_HAS_EXPIRED:
	case X509_V_ERR_CRL_NOT_YET_VALID:
	case X509_V_ERR_UNABLE_TO_GET_CRL_ISSUER:
	case X509_V_ERR_CRL_SIGNATURE_FAILURE:
	case X509_V_ERR_UNABLE_TO_DECRYPT_CRL_SIGNATURE:
	case X509_V_ERR_ERROR_IN_CRL_LAST_UPDATE_FIELD:
	case X509_V_ERR_ERROR_IN_CRL_NEXT_UPDATE_FIELD:
	case X509_V_ERR_DIFFERENT_CRL_SCOPE:
	case X509_V_ERR_KEYUSAGE_NO_CRL_SIGN:
	case X509_V_ERR_CRL_PATH_VALIDATION_ERROR:
		return (x509_err_crl);
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_CERT_UNTRUSTED:
	case X509_V_ERR_CERT_REJECTED:
		/* A proxy whose issuer is missing is a broken chain (e.g. a
		 * forged proxy), not a CA problem. */
		return (proxy ? x509_err_chain : x509_err_unknown_ca);
	default:
		return (x509_err_chain);
	}
}


/* Describe the certificates of sk (leaf first) into id->chain. */
static int
x509_fill_chain(struct auth_ident *id, STACK_OF(X509) *sk)
{
	int		 i, n = sk_X509_num(sk);
	X509		*x;
	struct auth_chain_cert *c;
	time_t		 na;

	if (n <= 0)
		return (0);
	if ((id->chain = calloc((size_t)n, sizeof(*id->chain))) == NULL)
		return (-1);
	id->not_after = 0;
	for (i = 0; i < n; i++) {
		x = sk_X509_value(sk, i);
		c = &id->chain[i];
		id->nchain++;
		c->subject = x509_name_text(X509_get_subject_name(x));
		c->issuer = x509_name_text(X509_get_issuer_name(x));
		if (c->subject == NULL || c->issuer == NULL)
			return (-1);
		c->not_before = x509_asn1_time(X509_get0_notBefore(x));
		c->not_after = na = x509_asn1_time(X509_get0_notAfter(x));
		c->proxy = proxycert_kind(x);
		if (na != 0 && (id->not_after == 0 || na < id->not_after))
			id->not_after = na;
	}
	return (0);
}

/*
 * The earliest notAfter of the VOMS ACs carried between the leaf and the
 * identity certificate (index user), or 0 when there is none.
 */
static time_t
x509_ac_not_after(STACK_OF(X509) *sk, int user)
{
	ASN1_OBJECT	*obj;
	X509_EXTENSION	*ext;
	const ASN1_OCTET_STRING *d;
	struct voms_ac	*acs;
	size_t		 nacs, j;
	int		 i, idx;
	time_t		 min = 0;
	char		 why[128];

	if ((obj = OBJ_txt2obj(OID_VOMS_ACS, 1)) == NULL)
		return (0);
	for (i = 0; i < user; i++) {
		idx = X509_get_ext_by_OBJ(sk_X509_value(sk, i), obj, -1);
		if (idx < 0)
			continue;
		ext = X509_get_ext(sk_X509_value(sk, i), idx);
		d = X509_EXTENSION_get_data(ext);
		if (voms_ext_parse(ASN1_STRING_get0_data(d),
		    (size_t)ASN1_STRING_length(d), &acs, &nacs, why,
		    sizeof(why)) == 0) {
			for (j = 0; j < nacs; j++)
				if (min == 0 || acs[j].not_after < min)
					min = acs[j].not_after;
			voms_acs_free(acs, nacs);
		}
		break;
	}
	ASN1_OBJECT_free(obj);
	return (min);
}

static time_t
x509_min_time(time_t a, time_t b)
{
	if (a == 0)
		return (b);
	if (b == 0)
		return (a);
	return (a < b ? a : b);
}

/*
 * The earliest nextUpdate of the CRLs that vouch for the certificates of
 * a verified chain: for each certificate, the latest nextUpdate among the
 * store's CRLs of its issuer (the one OpenSSL can use longest), and the
 * earliest of those over the chain.  0 when no CRL has a nextUpdate.
 */
static time_t
x509_crl_until(X509_STORE_CTX *vctx, STACK_OF(X509) *verified)
{
	STACK_OF(X509_CRL) *crls;
	time_t		 min = 0, best, next;
	int		 i, j;

	for (i = 0; i < sk_X509_num(verified); i++) {
		crls = X509_STORE_CTX_get1_crls(vctx,
		    X509_get_issuer_name(sk_X509_value(verified, i)));
		best = 0;
		for (j = 0; j < sk_X509_CRL_num(crls); j++) {
			next = x509_asn1_time(X509_CRL_get0_nextUpdate(
			    sk_X509_CRL_value(crls, j)));
			if (next > best)
				best = next;
		}
		sk_X509_CRL_pop_free(crls, X509_CRL_free);
		if (best != 0 && (min == 0 || best < min))
			min = best;
	}
	ERR_clear_error();
	return (min);
}

/* Presented certificates: leaf plus chain, a leading copy of leaf once. */
static int
x509_presented_count(X509 *leaf, STACK_OF(X509) *chain)
{
	int		 n = chain != NULL ? sk_X509_num(chain) : 0;

	if (n > 0 && (sk_X509_value(chain, 0) == leaf ||
	    X509_cmp(sk_X509_value(chain, 0), leaf) == 0))
		n--;
	return (n + 1);
}

int
x509_chain_too_long(const struct x509_trust *t, X509 *leaf,
    STACK_OF(X509) *chain)
{
	return (x509_presented_count(leaf, chain) > (int)t->depth + 1);
}

/*
 * What an identity holds, roughly, for the cache's byte bound: a parsed
 * certificate costs about its DER size twice (the parsed fields and the
 * cached encoding) plus some 6 KiB of OpenSSL structures (measured with
 * mallinfo2 on the test PKI: 5.5 to 7.3 KiB above DER per certificate).
 */
#define X509_CERT_OVERHEAD	6144

static size_t
x509_ident_bytes(const struct x509_ident *xi)
{
	const struct auth_ident *id = &xi->pub;
	size_t		 n = sizeof(*xi), i;
	int		 len;

	for (i = 0; i < id->nchain; i++)
		n += sizeof(id->chain[i]) +
		    (id->chain[i].subject ? strlen(id->chain[i].subject) : 0) +
		    (id->chain[i].issuer ? strlen(id->chain[i].issuer) : 0) + 2;
	if (id->user_dn != NULL)
		n += strlen(id->user_dn) + 1;
	for (i = 0; i < id->nfqans; i++)
		n += sizeof(char *) + strlen(id->fqans[i]) + 1;
	for (i = 0; xi->presented != NULL &&
	    i < (size_t)sk_X509_num(xi->presented); i++) {
		len = i2d_X509(sk_X509_value(xi->presented, (int)i), NULL);
		n += X509_CERT_OVERHEAD + (len > 0 ? 2 * (size_t)len : 0);
	}
	return (n);
}

/* How a verification step ended. */
enum x509_step {
	X509_STEP_OK = 0,
	X509_STEP_REFUSED,	/* id->reason (and detail) say why */
	X509_STEP_OOM
};

/*
 * The presented chain as one stack, leaf first, without a second copy of
 * leaf; the certificates are borrowed (free with sk_X509_free).  NULL on
 * out-of-memory.
 */
static STACK_OF(X509) *
x509_presented(X509 *leaf, STACK_OF(X509) *chain)
{
	STACK_OF(X509)	*presented;
	X509		*x;
	int		 i;

	if ((presented = sk_X509_new_null()) == NULL ||
	    !sk_X509_push(presented, leaf))
		goto oom;
	for (i = 0; chain != NULL && i < sk_X509_num(chain); i++) {
		x = sk_X509_value(chain, i);
		if (x != leaf && X509_cmp(x, leaf) != 0 &&
		    !sk_X509_push(presented, x))
			goto oom;
	}
	return (presented);
oom:
	sk_X509_free(presented);
	return (NULL);
}

/*
 * OpenSSL's part: the path from eec through presented to a CA of t at now
 * (signatures, names, dates, CRLs, purpose).  *vctxp is set to the
 * context (the caller frees it, whatever the outcome); on OK *verifiedp
 * is the verified chain, leaf first, one reference per certificate, owned
 * by the caller.  REFUSED sets id->reason and id->detail.
 */
static enum x509_step
x509_path(const struct x509_trust *t, X509 *eec, STACK_OF(X509) *presented,
    time_t now, X509_STORE_CTX **vctxp, STACK_OF(X509) **verifiedp,
    struct auth_ident *id)
{
	X509_STORE_CTX	*vctx;
	int		 err;

	if ((*vctxp = vctx = X509_STORE_CTX_new()) == NULL ||
	    !X509_STORE_CTX_init(vctx, t->store, eec, presented))
		return (X509_STEP_OOM);
	X509_STORE_CTX_set_default(vctx, "ssl_client");
	X509_STORE_CTX_set_time(vctx, 0, now);
	if (X509_verify_cert(vctx) != 1) {
		err = X509_STORE_CTX_get_error(vctx);
		id->reason = x509_reason(err,
		    X509_STORE_CTX_get_current_cert(vctx));
		id->detail = X509_verify_cert_error_string(err);
		return (X509_STEP_REFUSED);
	}
	if ((*verifiedp = X509_STORE_CTX_get1_chain(vctx)) == NULL)
		return (X509_STEP_OOM);
	return (X509_STEP_OK);
}

/*
 * Whom a verified chain (leaf first; lg the legacy proxies above it)
 * speaks for: the proxy policy (proxycert_policy), the user certificate
 * (the first non-proxy one, which must not be a CA), the CA namespaces,
 * the proxy kind of the leaf and the user DN.  Returns 0 with id->proxy,
 * id->user_dn (owned by id) and *userp (borrowed from verified) set, or
 * -1 with id->reason and id->detail set.
 */
static int
x509_identify(const struct x509_trust *t, STACK_OF(X509) *verified,
    const struct proxycert_legacy *lg, struct auth_ident *id, X509 **userp)
{
	X509		*user;
	int		 ui, limited = lg->limited;

	if (proxycert_policy(verified, &ui, &limited, &id->reason,
	    &id->detail) == -1)
		return (-1);
	user = sk_X509_value(verified, ui);
	if (X509_check_ca(user) != 0) {
		id->reason = x509_err_ca_user;
		return (-1);
	}
	/* CA namespaces: may each CA of the path sign what it signed? */
	if (namespaces_check_chain(t->ns, verified, &id->detail) == -1) {
		id->reason = namespaces_err_denied;
		return (-1);
	}
	if (lg->n > 0)
		id->proxy = limited ? AUTH_PROXY_LIMITED : AUTH_PROXY_LEGACY;
	else if (ui == 0)
		id->proxy = AUTH_PROXY_NONE;
	else
		id->proxy = limited ? AUTH_PROXY_LIMITED : AUTH_PROXY_RFC;
	if ((id->user_dn = dn_format_alloc(X509_get_subject_name(user))) ==
	    NULL) {
		id->reason = x509_err_chain;
		id->detail = "user DN cannot be formatted";
		return (-1);
	}
	*userp = user;
	return (0);
}

/* The chain as shown: legacy proxies, then what OpenSSL verified.  0, or
 * -1 on out-of-memory. */
static int
x509_show_chain(struct auth_ident *id, const struct proxycert_legacy *lg,
    STACK_OF(X509) *verified)
{
	STACK_OF(X509)	*full;
	int		 i, ret = -1;

	if ((full = sk_X509_new_null()) == NULL)
		return (-1);
	for (i = 0; i < lg->n; i++)
		if (!sk_X509_push(full, lg->proxy[i]))
			goto done;
	for (i = 0; i < sk_X509_num(verified); i++)
		if (!sk_X509_push(full, sk_X509_value(verified, i)))
			goto done;
	ret = x509_fill_chain(id, full);
done:
	sk_X509_free(full);
	return (ret);
}

/*
 * The VOMS FQANs of an accepted chain and the deadlines they bound.
 * The identity holds until a certificate, a CRL of the chain or a
 * granted AC runs out; then it is verified again (auth.c), so a long
 * connection or a resumed session cannot outlive them.  Sets
 * id->valid_until, xi->cache_until and id->fqans or id->voms_error.
 */
static void
x509_voms_deadlines(const struct x509_trust *t, struct x509_ident *xi,
    X509_STORE_CTX *vctx, STACK_OF(X509) *verified, X509 *user, int nlegacy,
    time_t now)
{
	struct auth_ident *id = &xi->pub;
	const char	*vwhy = NULL;
	time_t		 ac_until;

	id->valid_until = x509_min_time(id->not_after,
	    x509_crl_until(vctx, verified));
	/* VOMS: only from RFC chains; a bad AC costs the FQANs, not access. */
	xi->cache_until = id->valid_until;
	if (nlegacy == 0) {
		if (voms_verify_chain(t->voms, t->store, verified, now,
		    &id->fqans, &id->nfqans, &vwhy) == -1) {
			id->voms_error = vwhy;
			xi->cache_until = x509_min_time(xi->cache_until,
			    now + X509_VOMS_FAIL_SECS);
		} else if (id->nfqans > 0) {
			ac_until = x509_ac_not_after(verified,
			    sk_X509_find(verified, user) >= 0 ?
			    sk_X509_find(verified, user) : 0);
			/* voms.c accepts an AC up to and including
			 * notAfter + VOMS_SKEW; a CRL or a certificate is
			 * out at its nextUpdate or notAfter itself. */
			id->valid_until = x509_min_time(id->valid_until,
			    ac_until != 0 ? ac_until + VOMS_SKEW + 1 :
			    now + X509_VOMS_FAIL_SECS);
			xi->cache_until = x509_min_time(xi->cache_until,
			    id->valid_until);
		}
	}
	if (id->valid_until == 0)
		id->valid_until = X509_FOREVER;
	if (xi->cache_until == 0)
		xi->cache_until = id->valid_until;
}

struct auth_ident *
x509_verify(const struct x509_trust *t, X509 *leaf, STACK_OF(X509) *chain,
    time_t now, int legacy_proxies)
{
	struct x509_ident *xi;
	struct auth_ident *id;
	struct proxycert_legacy lg;
	STACK_OF(X509)	*presented = NULL, *verified = NULL;
	X509_STORE_CTX	*vctx = NULL;
	X509		*user = NULL;

	/* A chain no depth setting could accept costs no work at all. */
	if (x509_chain_too_long(t, leaf, chain))
		return (x509_ident_too_long());
	if ((xi = x509_ident_new()) == NULL)
		return (NULL);
	id = &xi->pub;
	id->trust_gen = t->gen;
	if (x509_chain_key(leaf, chain, xi->key) == 0)
		xi->has_key = 1;
	if ((presented = x509_presented(leaf, chain)) == NULL)
		goto oom;

	/*
	 * Globus legacy proxies carry no proxyCertInfo, so OpenSSL takes the
	 * user certificate for their CA and fails (INVALID_CA).  When they
	 * are allowed, check their signature and dates here and hand the
	 * chain from the user certificate on to OpenSSL.
	 */
	if (proxycert_legacy_peel(presented, leaf, now, legacy_proxies, &lg,
	    &id->reason, &id->detail) == -1)
		goto failed;
	switch (x509_path(t, lg.eec, presented, now, &vctx, &verified, id)) {
	case X509_STEP_OK:
		break;
	case X509_STEP_REFUSED:
		goto failed;
	case X509_STEP_OOM:
	default:
		goto oom;
	}
	if (x509_identify(t, verified, &lg, id, &user) == -1)
		goto failed_verified;
	if (x509_show_chain(id, &lg, verified) == -1)
		goto oom;
	x509_voms_deadlines(t, xi, vctx, verified, user, lg.n, now);
	id->status = AUTH_CERT_OK;
	id->reason = NULL;
	id->detail = NULL;
	goto done;

failed_verified:
	/* Show the verified chain: it is what policy was applied to. */
	if (x509_fill_chain(id, verified) == -1)
		goto oom;
	goto fail_common;
failed:
	if (x509_fill_chain(id, presented) == -1)
		goto oom;
fail_common:
	id->status = AUTH_CERT_FAILED;
	free(id->user_dn);
	id->user_dn = NULL;
	/* A refusal is re-examined soon: a CRL or a clock may change. */
	xi->cache_until = x509_min_time(now + X509_FAIL_CACHE_SECS,
	    id->not_after > now ? id->not_after : 0);
	goto done;
oom:
	x509_ident_free(xi);
	xi = NULL;
done:
	X509_STORE_CTX_free(vctx);
	/*
	 * Only a good identity keeps the chain (to re-verify it after a
	 * trust reload): a refusal holding it let anyone fill memory with
	 * junk chains.
	 */
	if (xi != NULL && presented != NULL &&
	    xi->pub.status == AUTH_CERT_OK &&
	    (xi->presented = X509_chain_up_ref(presented)) == NULL) {
		x509_ident_free(xi);
		xi = NULL;
	}
	if (xi != NULL)
		xi->bytes = x509_ident_bytes(xi);
	sk_X509_free(presented);
	sk_X509_pop_free(verified, X509_free);
	ERR_clear_error();
	return (xi != NULL ? &xi->pub : NULL);
}

struct auth_ident *
x509_ident_describe(struct auth_ident *failed, X509 *leaf,
    STACK_OF(X509) *chain)
{
	const struct x509_ident *fi = (const struct x509_ident *)failed;
	struct x509_ident *xi;
	STACK_OF(X509)	*sk;
	int		 i, ok;
	X509		*x;

	if (fi == NULL || fi->is_static || failed->status != AUTH_CERT_FAILED ||
	    leaf == NULL || (xi = x509_ident_new()) == NULL)
		return (x509_ident_get(failed));
	xi->pub.reason = failed->reason;
	xi->pub.detail = failed->detail;
	xi->pub.trust_gen = failed->trust_gen;
	xi->pub.valid_until = failed->valid_until;
	xi->has_key = fi->has_key;
	memcpy(xi->key, fi->key, X509_KEY_LEN);
	xi->cache_until = fi->cache_until;
	ok = (sk = sk_X509_new_null()) != NULL && sk_X509_push(sk, leaf);
	for (i = 0; ok && chain != NULL && i < sk_X509_num(chain); i++) {
		x = sk_X509_value(chain, i);
		if (x != leaf && X509_cmp(x, leaf) != 0)
			ok = sk_X509_push(sk, x) > 0;
	}
	if (ok)
		ok = x509_fill_chain(&xi->pub, sk) == 0;
	sk_X509_free(sk);
	ERR_clear_error();
	if (!ok) {
		x509_ident_free(xi);
		return (x509_ident_get(failed));
	}
	xi->bytes = x509_ident_bytes(xi);
	return (&xi->pub);
}

int
x509_chain_key(X509 *leaf, STACK_OF(X509) *chain,
    unsigned char key[X509_KEY_LEN])
{
	EVP_MD_CTX	*md;
	unsigned char	*der;
	unsigned int	 outlen = 0;
	int		 i, len, ret = -1;
	X509		*x;

	if ((md = EVP_MD_CTX_new()) == NULL ||
	    !EVP_DigestInit_ex(md, EVP_sha256(), NULL))
		goto done;
	for (i = -1; chain == NULL ? i < 0 : i < sk_X509_num(chain); i++) {
		x = i < 0 ? leaf : sk_X509_value(chain, i);
		if (i == 0 && (x == leaf || X509_cmp(x, leaf) == 0))
			continue;
		der = NULL;
		if ((len = i2d_X509(x, &der)) <= 0)
			goto done;
		if (!EVP_DigestUpdate(md, der, (size_t)len)) {
			OPENSSL_free(der);
			goto done;
		}
		OPENSSL_free(der);
	}
	if (!EVP_DigestFinal_ex(md, key, &outlen) || outlen != X509_KEY_LEN)
		goto done;
	ret = 0;
done:
	EVP_MD_CTX_free(md);
	if (ret == -1)
		ERR_clear_error();
	return (ret);
}
