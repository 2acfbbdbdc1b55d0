/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * VOMS attribute certificates.  This file decodes the ACs a VOMS server
 * puts into a proxy (extension 1.3.6.1.4.1.8005.100.100.5) with OpenSSL
 * ASN.1 templates, loads the vomsdir trust (.lsc files) into an immutable
 * snapshot, and decides whether the ACs of a verified chain are to be
 * believed: holder, validity, signature, signer chain with CRLs, and the
 * .lsc match.  It answers with the FQANs or a plain-words reason; caching
 * the answer (x509_cache.c) and acting on it (decide.c) are other files'
 * business, as is verifying the client chain itself (x509.c).  It never
 * logs.
 *
 * The parser sees attacker-controlled bytes before any signature is
 * checked, so it relies only on OpenSSL's template decoder for bounds,
 * refuses trailing bytes at every level it decodes by hand, and every
 * error path releases what was built.  The profile it enforces is that
 * of libvomsapi (src/ac/validate.cc), the reference implementation.
 *
 * At some 1,400 lines this file is over the 1,200 the layout aims for,
 * for one role: a VOMS AC from DER bytes to trusted FQANs.  Its bulk is
 * the ASN.1 templates and the checks of that profile, which work on the
 * same decoded structures; a split would export those internals to a
 * second file for no reader's gain.
 */

#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/asn1t.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "auth/dn.h"
#include "auth/voms.h"
#include "base/lit.h"

const char voms_err_malformed[] = "malformed VOMS AC";
const char voms_err_signature[] = "VOMS AC signature invalid";
const char voms_err_untrusted[] = "VOMS server not trusted (no matching .lsc)";
const char voms_err_expired[] = "VOMS AC expired";
const char voms_err_notyet[] = "VOMS AC not yet valid";
const char voms_err_holder[] = "VOMS AC holder does not match";
const char voms_err_signer[] =
    "VOMS signer certificate revoked or unverifiable";
const char voms_err_nosigner[] = "VOMS signer certificate not found";
const char voms_err_issuer[] = "VOMS AC issuer does not match its signer";
const char voms_err_targeted[] = "VOMS AC is restricted to other target hosts";
const char voms_err_internal[] = "VOMS AC check failed (out of memory)";

/* Limits on vomsdir input. */
#define LSC_FILE_MAX	65536	/* bytes in one .lsc file */
#define LSC_LINE_MAX	4096	/* bytes in one DN line */
#define AC_CERTS_MAX	10	/* certificates in an ACCertList */
#define AC_SERIAL_MAX	20	/* octets, RFC 5280 4.1.2.2 / libvomsapi */

/*
 * Content octets of the VOMS object identifiers under
 * 1.3.6.1.4.1.8005.100.100 (not in OpenSSL's table, so compared as DER).
 */
#define VOMS_OID_LEN	10
static const unsigned char oid_acseq[VOMS_OID_LEN] =	/* .5 */
    { 0x2b, 0x06, 0x01, 0x04, 0x01, 0xbe, 0x45, 0x64, 0x64, 0x05 };
static const unsigned char oid_idatcap[VOMS_OID_LEN] =	/* .4 */
    { 0x2b, 0x06, 0x01, 0x04, 0x01, 0xbe, 0x45, 0x64, 0x64, 0x04 };
static const unsigned char oid_certseq[VOMS_OID_LEN] =	/* .10 */
    { 0x2b, 0x06, 0x01, 0x04, 0x01, 0xbe, 0x45, 0x64, 0x64, 0x0a };

/* ------------------------------------------------------------------ */
/* ASN.1 templates (RFC 3281 section 4.1, VOMS extensions)             */
/* ------------------------------------------------------------------ */

/* IssuerSerial ::= SEQUENCE { issuer GeneralNames, serial, issuerUID OPT } */
typedef struct {
	GENERAL_NAMES	*issuer;
	ASN1_INTEGER	*serial;
	ASN1_BIT_STRING	*uid;
} VOMS_ISSUER_SERIAL;

ASN1_SEQUENCE(VOMS_ISSUER_SERIAL) = {
	ASN1_SEQUENCE_OF(VOMS_ISSUER_SERIAL, issuer, GENERAL_NAME),
	ASN1_SIMPLE(VOMS_ISSUER_SERIAL, serial, ASN1_INTEGER),
	ASN1_OPT(VOMS_ISSUER_SERIAL, uid, ASN1_BIT_STRING)
} static_ASN1_SEQUENCE_END(VOMS_ISSUER_SERIAL)

/* ObjectDigestInfo: decoded only so that its presence can be refused. */
typedef struct {
	ASN1_ENUMERATED	*type;
	ASN1_OBJECT	*other;
	X509_ALGOR	*alg;
	ASN1_BIT_STRING	*digest;
} VOMS_OBJ_DIGEST;

ASN1_SEQUENCE(VOMS_OBJ_DIGEST) = {
	ASN1_SIMPLE(VOMS_OBJ_DIGEST, type, ASN1_ENUMERATED),
	ASN1_OPT(VOMS_OBJ_DIGEST, other, ASN1_OBJECT),
	ASN1_SIMPLE(VOMS_OBJ_DIGEST, alg, X509_ALGOR),
	ASN1_SIMPLE(VOMS_OBJ_DIGEST, digest, ASN1_BIT_STRING)
} static_ASN1_SEQUENCE_END(VOMS_OBJ_DIGEST)

/* Holder ::= SEQUENCE { [0] IssuerSerial, [1] GeneralNames, [2] ODI } */
typedef struct {
	VOMS_ISSUER_SERIAL *base;
	GENERAL_NAMES	*entity;
	VOMS_OBJ_DIGEST	*digest;
} VOMS_HOLDER;

ASN1_SEQUENCE(VOMS_HOLDER) = {
	ASN1_IMP_OPT(VOMS_HOLDER, base, VOMS_ISSUER_SERIAL, 0),
	ASN1_IMP_SEQUENCE_OF_OPT(VOMS_HOLDER, entity, GENERAL_NAME, 1),
	ASN1_IMP_OPT(VOMS_HOLDER, digest, VOMS_OBJ_DIGEST, 2)
} static_ASN1_SEQUENCE_END(VOMS_HOLDER)

/* V2Form ::= SEQUENCE { issuerName GeneralNames OPT, [0] ..., [1] ... } */
typedef struct {
	GENERAL_NAMES	*names;
	VOMS_ISSUER_SERIAL *base;
	VOMS_OBJ_DIGEST	*digest;
} VOMS_V2FORM;

ASN1_SEQUENCE(VOMS_V2FORM) = {
	ASN1_SEQUENCE_OF_OPT(VOMS_V2FORM, names, GENERAL_NAME),
	ASN1_IMP_OPT(VOMS_V2FORM, base, VOMS_ISSUER_SERIAL, 0),
	ASN1_IMP_OPT(VOMS_V2FORM, digest, VOMS_OBJ_DIGEST, 1)
} static_ASN1_SEQUENCE_END(VOMS_V2FORM)

typedef struct {
	ASN1_GENERALIZEDTIME *not_before;
	ASN1_GENERALIZEDTIME *not_after;
} VOMS_VALIDITY;

ASN1_SEQUENCE(VOMS_VALIDITY) = {
	ASN1_SIMPLE(VOMS_VALIDITY, not_before, ASN1_GENERALIZEDTIME),
	ASN1_SIMPLE(VOMS_VALIDITY, not_after, ASN1_GENERALIZEDTIME)
} static_ASN1_SEQUENCE_END(VOMS_VALIDITY)

/* Attribute ::= SEQUENCE { type OID, values SET OF ANY } */
typedef struct {
	ASN1_OBJECT	*type;
	STACK_OF(ASN1_TYPE) *values;
} VOMS_ATTR;

ASN1_SEQUENCE(VOMS_ATTR) = {
	ASN1_SIMPLE(VOMS_ATTR, type, ASN1_OBJECT),
	ASN1_SET_OF(VOMS_ATTR, values, ASN1_ANY)
} static_ASN1_SEQUENCE_END(VOMS_ATTR)

DEFINE_STACK_OF(VOMS_ATTR)

/*
 * IetfAttrSyntax ::= SEQUENCE { policyAuthority [0] GeneralNames OPT,
 * values SEQUENCE OF CHOICE {...} }; the values are decoded as ANY and
 * their type checked by hand.
 */
typedef struct {
	GENERAL_NAMES	*authority;
	STACK_OF(ASN1_TYPE) *values;
} VOMS_IETFATTR;

ASN1_SEQUENCE(VOMS_IETFATTR) = {
	ASN1_IMP_SEQUENCE_OF_OPT(VOMS_IETFATTR, authority, GENERAL_NAME, 0),
	ASN1_SEQUENCE_OF(VOMS_IETFATTR, values, ASN1_ANY)
} static_ASN1_SEQUENCE_END(VOMS_IETFATTR)

/*
 * AttributeCertificateInfo.  The received encoding is kept (enc) so that
 * the signature is checked over the exact bytes that were signed.  Only
 * the v2Form of AttCertIssuer is accepted (RFC 3281 4.2.3).
 */
typedef struct {
	ASN1_ENCODING	 enc;
	ASN1_INTEGER	*version;
	VOMS_HOLDER	*holder;
	VOMS_V2FORM	*issuer;
	X509_ALGOR	*alg;
	ASN1_INTEGER	*serial;
	VOMS_VALIDITY	*validity;
	STACK_OF(VOMS_ATTR) *attrs;
	ASN1_BIT_STRING	*uid;
	STACK_OF(X509_EXTENSION) *exts;
} VOMS_ACINFO;

ASN1_SEQUENCE_enc(VOMS_ACINFO, enc, 0) = {
	ASN1_SIMPLE(VOMS_ACINFO, version, ASN1_INTEGER),
	ASN1_SIMPLE(VOMS_ACINFO, holder, VOMS_HOLDER),
	ASN1_IMP(VOMS_ACINFO, issuer, VOMS_V2FORM, 0),
	ASN1_SIMPLE(VOMS_ACINFO, alg, X509_ALGOR),
	ASN1_SIMPLE(VOMS_ACINFO, serial, ASN1_INTEGER),
	ASN1_SIMPLE(VOMS_ACINFO, validity, VOMS_VALIDITY),
	ASN1_SEQUENCE_OF(VOMS_ACINFO, attrs, VOMS_ATTR),
	ASN1_OPT(VOMS_ACINFO, uid, ASN1_BIT_STRING),
	ASN1_SEQUENCE_OF_OPT(VOMS_ACINFO, exts, X509_EXTENSION)
} static_ASN1_SEQUENCE_END_cb(VOMS_ACINFO, VOMS_ACINFO)

typedef struct {
	VOMS_ACINFO	*info;
	X509_ALGOR	*alg;
	ASN1_BIT_STRING	*sig;
} VOMS_AC;

ASN1_SEQUENCE(VOMS_AC) = {
	ASN1_SIMPLE(VOMS_AC, info, VOMS_ACINFO),
	ASN1_SIMPLE(VOMS_AC, alg, X509_ALGOR),
	ASN1_SIMPLE(VOMS_AC, sig, ASN1_BIT_STRING)
} static_ASN1_SEQUENCE_END(VOMS_AC)

DEFINE_STACK_OF(VOMS_AC)

/* The proxy extension: SEQUENCE { SEQUENCE OF AttributeCertificate }. */
typedef struct {
	STACK_OF(VOMS_AC) *acs;
} VOMS_ACSEQ;

ASN1_SEQUENCE(VOMS_ACSEQ) = {
	ASN1_SEQUENCE_OF(VOMS_ACSEQ, acs, VOMS_AC)
} static_ASN1_SEQUENCE_END(VOMS_ACSEQ)

/* The ACCertList AC extension: SEQUENCE { SEQUENCE OF Certificate }. */
typedef struct {
	STACK_OF(X509)	*certs;
} VOMS_CERTS;

ASN1_SEQUENCE(VOMS_CERTS) = {
	ASN1_SEQUENCE_OF(VOMS_CERTS, certs, X509)
} static_ASN1_SEQUENCE_END(VOMS_CERTS)

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */
/* ------------------------------------------------------------------ */

static void __attribute__((format(printf, 3, 4)))
seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static int
oid_is(const ASN1_OBJECT *obj, const unsigned char *der)
{
	return (obj != NULL && OBJ_length(obj) == VOMS_OID_LEN &&
	    memcmp(OBJ_get0_data(obj), der, VOMS_OID_LEN) == 0);
}

/*
 * Decode DER with a template and insist that it fills exactly len bytes:
 * a decoder that ignores trailing garbage would let two different byte
 * strings mean the same AC.
 */
static void *
d2i_exact(const ASN1_ITEM *it, const unsigned char *der, size_t len)
{
	const unsigned char *p = der;
	ASN1_VALUE *v;

	if (der == NULL || len == 0 || len > LONG_MAX)
		return (NULL);
	v = ASN1_item_d2i(NULL, &p, (long)len, it);
	if (v != NULL && p != der + len) {
		ASN1_item_free(v, it);
		v = NULL;
	}
	return (v);
}

/* The single directoryName of a GeneralNames, or NULL. */
static const X509_NAME *
one_dirname(const GENERAL_NAMES *gns)
{
	const GENERAL_NAME *gn;

	if (gns == NULL || sk_GENERAL_NAME_num(gns) != 1)
		return (NULL);
	gn = sk_GENERAL_NAME_value(gns, 0);
	if (gn == NULL || gn->type != GEN_DIRNAME)
		return (NULL);
	return (gn->d.directoryName);
}

static int
gtime_to_time(const ASN1_GENERALIZEDTIME *t, time_t *out)
{
	struct tm tm;

	if (t == NULL || ASN1_STRING_type(t) != V_ASN1_GENERALIZEDTIME)
		return (-1);
	memset(&tm, 0, sizeof(tm));
	if (ASN1_TIME_to_tm(t, &tm) != 1)
		return (-1);
	*out = timegm(&tm);
	return (0);
}

static int
is_vo_char(unsigned char c)
{
	return ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-');
}

static int
is_host_char(unsigned char c)
{
	return ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '.' || c == '-');
}

/*
 * policyAuthority "vo://host:port" (libvomsapi checkAttributes()).  The
 * VO and host select the .lsc file, so both are held to a conservative
 * character set.
 */
static int
parse_authority(const ASN1_IA5STRING *uri, struct voms_ac *ac)
{
	const unsigned char *s = ASN1_STRING_get0_data(uri);
	size_t n = (size_t)ASN1_STRING_length(uri), i, vl, hs, he;
	long port = 0;

	for (vl = 0; vl < n && is_vo_char(s[vl]); vl++)
		;
	if (vl == 0 || vl > 255 || n - vl < LIT_LEN("://") ||
	    memcmp(s + vl, "://", LIT_LEN("://")) != 0)
		return (-1);
	hs = vl + LIT_LEN("://");
	for (he = hs; he < n && is_host_char(s[he]); he++)
		;
	if (he == hs || he - hs > 255 || he >= n || s[he] != ':' ||
	    he + 1 == n || n - he - 1 > 5)
		return (-1);
	for (i = he + 1; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return (-1);
		port = port * 10 + (s[i] - '0');
	}
	if (port < 1 || port > 65535)
		return (-1);
	if ((ac->vo = strndup((const char *)s, vl)) == NULL ||
	    (ac->host = strndup((const char *)s + hs, he - hs)) == NULL)
		return (-1);
	ac->port = (int)port;
	return (0);
}

/*
 * An FQAN is printable ASCII without blanks or commas (it ends up in a
 * comma-separated HTTP header) and lies under the AC's VO: "/vo" or
 * "/vo/...".  A server trusted for one VO asserts nothing about another.
 */
static int
fqan_ok(const unsigned char *s, size_t n, const char *vo)
{
	size_t vl = strlen(vo), i;

	if (n < 1 || n > VOMS_FQAN_MAX)
		return (0);
	for (i = 0; i < n; i++)
		if (s[i] <= 0x20 || s[i] >= 0x7f || s[i] == ',')
			return (0);
	if (s[0] != '/' || n < vl + 1 || memcmp(s + 1, vo, vl) != 0)
		return (0);
	return (n == vl + 1 || s[vl + 1] == '/');
}

/* ------------------------------------------------------------------ */
/* AC decoding                                                         */
/* ------------------------------------------------------------------ */

static int
fill_attrs(const VOMS_ACINFO *ai, struct voms_ac *ac, char *err,
    size_t errlen)
{
	VOMS_ATTR *a, *found = NULL;
	VOMS_IETFATTR *ietf = NULL;
	const ASN1_TYPE *v;
	const ASN1_OCTET_STRING *os;
	const GENERAL_NAME *gn;
	int i, n, ret = -1;

	for (i = 0; i < sk_VOMS_ATTR_num(ai->attrs); i++) {
		a = sk_VOMS_ATTR_value(ai->attrs, i);
		if (!oid_is(a->type, oid_idatcap))
			continue;
		if (found != NULL) {
			seterr(err, errlen, "AC has two VOMS attributes");
			goto done;
		}
		found = a;
	}
	if (found == NULL) {
		seterr(err, errlen, "AC has no VOMS attribute");
		goto done;
	}
	if (sk_ASN1_TYPE_num(found->values) != 1 ||
	    (v = sk_ASN1_TYPE_value(found->values, 0)) == NULL ||
	    v->type != V_ASN1_SEQUENCE || v->value.sequence == NULL) {
		seterr(err, errlen, "VOMS attribute is not one IetfAttrSyntax");
		goto done;
	}
	/* An ANY SEQUENCE keeps its whole encoding, tag and length too. */
	ietf = d2i_exact(ASN1_ITEM_rptr(VOMS_IETFATTR),
	    v->value.sequence->data, (size_t)v->value.sequence->length);
	if (ietf == NULL) {
		seterr(err, errlen, "VOMS attribute: bad IetfAttrSyntax");
		goto done;
	}
	if (sk_GENERAL_NAME_num(ietf->authority) != 1 ||
	    (gn = sk_GENERAL_NAME_value(ietf->authority, 0)) == NULL ||
	    gn->type != GEN_URI ||
	    parse_authority(gn->d.uniformResourceIdentifier, ac) == -1) {
		seterr(err, errlen, "VOMS attribute: policyAuthority is not "
		    "one vo://host:port");
		goto done;
	}
	n = sk_ASN1_TYPE_num(ietf->values);
	if (n < 1 || n > VOMS_FQANS_MAX) {
		seterr(err, errlen, "VOMS attribute: %d FQANs", n);
		goto done;
	}
	if ((ac->fqans = calloc((size_t)n, sizeof(*ac->fqans))) == NULL) {
		seterr(err, errlen, "out of memory");
		goto done;
	}
	for (i = 0; i < n; i++) {
		v = sk_ASN1_TYPE_value(ietf->values, i);
		os = v->type == V_ASN1_OCTET_STRING ? v->value.octet_string :
		    NULL;
		if (os == NULL || !fqan_ok(os->data, (size_t)os->length,
		    ac->vo)) {
			seterr(err, errlen, "VOMS attribute: FQAN %d is not "
			    "printable or not under /%s", i + 1, ac->vo);
			goto done;
		}
		ac->fqans[i] = strndup((const char *)os->data,
		    (size_t)os->length);
		if (ac->fqans[i] == NULL) {
			seterr(err, errlen, "out of memory");
			goto done;
		}
		ac->nfqans++;
	}
	ret = 0;
done:
	ASN1_item_free((ASN1_VALUE *)ietf, ASN1_ITEM_rptr(VOMS_IETFATTR));
	return (ret);
}

static int
fill_exts(const VOMS_ACINFO *ai, struct voms_ac *ac, char *err,
    size_t errlen)
{
	X509_EXTENSION *ext;
	const ASN1_OBJECT *obj;
	const ASN1_OCTET_STRING *val;
	VOMS_CERTS *vc;
	int i, nid, norev = 0, akid = 0, n;

	for (i = 0; i < sk_X509_EXTENSION_num(ai->exts); i++) {
		ext = sk_X509_EXTENSION_value(ai->exts, i);
		obj = X509_EXTENSION_get_object(ext);
		nid = OBJ_obj2nid(obj);
		if (oid_is(obj, oid_certseq)) {
			if (ac->certs != NULL) {
				seterr(err, errlen, "AC has two certificate "
				    "lists");
				return (-1);
			}
			val = X509_EXTENSION_get_data(ext);
			vc = d2i_exact(ASN1_ITEM_rptr(VOMS_CERTS),
			    ASN1_STRING_get0_data(val),
			    (size_t)ASN1_STRING_length(val));
			if (vc == NULL) {
				seterr(err, errlen, "AC certificate list "
				    "does not decode");
				return (-1);
			}
			ac->certs = vc->certs;
			vc->certs = NULL;
			ASN1_item_free((ASN1_VALUE *)vc,
			    ASN1_ITEM_rptr(VOMS_CERTS));
			n = sk_X509_num(ac->certs);
			if (n < 1 || n > AC_CERTS_MAX) {
				seterr(err, errlen, "AC certificate list "
				    "holds %d certificates", n);
				return (-1);
			}
		} else if (nid == NID_target_information)
			ac->targeted = 1;
		else if (nid == NID_no_rev_avail)
			norev = 1;
		else if (nid == NID_authority_key_identifier)
			akid = 1;
		else if (X509_EXTENSION_get_critical(ext)) {
			/* RFC 3281 4.3: refuse what we do not understand. */
			seterr(err, errlen, "AC has an unknown critical "
			    "extension");
			return (-1);
		}
	}
	/* libvomsapi requires both; every VOMS server writes them. */
	if (!norev || !akid) {
		seterr(err, errlen, "AC lacks noRevAvail or "
		    "authorityKeyIdentifier");
		return (-1);
	}
	return (0);
}

/*
 * Check the VOMS profile of a decoded AC and fill *ac from it.  Takes
 * ownership of x in every case (it becomes ac->priv), so that the caller
 * only ever calls voms_ac_clear().
 */
static int
fill_ac(VOMS_AC *x, struct voms_ac *ac, char *err, size_t errlen)
{
	const VOMS_ACINFO *ai = x->info;
	const VOMS_HOLDER *h = ai->holder;

	memset(ac, 0, sizeof(*ac));
	ac->priv = x;
	if (ASN1_INTEGER_get(ai->version) != 1) {
		seterr(err, errlen, "AC version is not v2");
		return (-1);
	}
	if (h->digest != NULL || h->base == NULL ||
	    (ac->holder_issuer = one_dirname(h->base->issuer)) == NULL) {
		seterr(err, errlen, "AC holder is not a baseCertificateID "
		    "with one directoryName");
		return (-1);
	}
	ac->holder_serial = h->base->serial;
	ac->holder_uid = h->base->uid;
	if (ai->issuer->base != NULL || ai->issuer->digest != NULL ||
	    (ac->issuer = one_dirname(ai->issuer->names)) == NULL) {
		seterr(err, errlen, "AC issuer is not one directoryName");
		return (-1);
	}
	if (X509_ALGOR_cmp(ai->alg, x->alg) != 0) {
		seterr(err, errlen, "AC signature algorithms differ");
		return (-1);
	}
	if (ASN1_STRING_length(ai->serial) > AC_SERIAL_MAX) {
		seterr(err, errlen, "AC serial is longer than %d octets",
		    AC_SERIAL_MAX);
		return (-1);
	}
	ac->serial = ai->serial;
	if (gtime_to_time(ai->validity->not_before, &ac->not_before) == -1 ||
	    gtime_to_time(ai->validity->not_after, &ac->not_after) == -1) {
		seterr(err, errlen, "AC validity is not GeneralizedTime");
		return (-1);
	}
	if (fill_attrs(ai, ac, err, errlen) == -1 ||
	    fill_exts(ai, ac, err, errlen) == -1)
		return (-1);
	if (ai->enc.enc == NULL || ai->enc.len == 0) {
		seterr(err, errlen, "AC info encoding was not kept");
		return (-1);
	}
	ac->info_der = ai->enc.enc;
	ac->info_len = (size_t)ai->enc.len;
	ac->sig_alg = x->alg;
	ac->sig = x->sig;
	return (0);
}

/* voms_ac_clear(): see voms.h. */
void
voms_ac_clear(struct voms_ac *ac)
{
	size_t i;

	if (ac == NULL)
		return;
	for (i = 0; i < ac->nfqans; i++)
		free(ac->fqans[i]);
	free(ac->fqans);
	free(ac->vo);
	free(ac->host);
	sk_X509_pop_free(ac->certs, X509_free);
	ASN1_item_free(ac->priv, ASN1_ITEM_rptr(VOMS_AC));
	memset(ac, 0, sizeof(*ac));
}

/* voms_acs_free(): see voms.h. */
void
voms_acs_free(struct voms_ac *acs, size_t n)
{
	size_t i;

	if (acs == NULL)
		return;
	for (i = 0; i < n; i++)
		voms_ac_clear(&acs[i]);
	free(acs);
}

/* voms_ac_parse(): see voms.h. */
int
voms_ac_parse(const unsigned char *der, size_t len, struct voms_ac *ac,
    char *err, size_t errlen)
{
	VOMS_AC *x;
	int ret = -1;

	memset(ac, 0, sizeof(*ac));
	ERR_set_mark();
	if ((x = d2i_exact(ASN1_ITEM_rptr(VOMS_AC), der, len)) == NULL) {
		seterr(err, errlen, "not a DER AttributeCertificate");
		goto done;
	}
	if (fill_ac(x, ac, err, errlen) == -1) {
		voms_ac_clear(ac);
		goto done;
	}
	ret = 0;
done:
	ERR_pop_to_mark();
	return (ret);
}

/* voms_ext_parse(): see voms.h. */
int
voms_ext_parse(const unsigned char *der, size_t len, struct voms_ac **acs,
    size_t *nacs, char *err, size_t errlen)
{
	VOMS_ACSEQ *seq;
	VOMS_AC *x;
	struct voms_ac *arr = NULL;
	size_t n = 0;
	int num, ret = -1;

	*acs = NULL;
	*nacs = 0;
	ERR_set_mark();
	if ((seq = d2i_exact(ASN1_ITEM_rptr(VOMS_ACSEQ), der, len)) == NULL) {
		seterr(err, errlen, "not a DER sequence of ACs");
		goto done;
	}
	num = sk_VOMS_AC_num(seq->acs);
	if (num < 1 || num > VOMS_ACS_MAX) {
		seterr(err, errlen, "extension holds %d ACs", num);
		goto done;
	}
	if ((arr = calloc((size_t)num, sizeof(*arr))) == NULL) {
		seterr(err, errlen, "out of memory");
		goto done;
	}
	/* Move each AC out of the sequence; fill_ac() then owns it. */
	while ((x = sk_VOMS_AC_shift(seq->acs)) != NULL) {
		if (fill_ac(x, &arr[n++], err, errlen) == -1) {
			voms_acs_free(arr, n);
			arr = NULL;
			goto done;
		}
	}
	*acs = arr;
	*nacs = n;
	ret = 0;
done:
	ASN1_item_free((ASN1_VALUE *)seq, ASN1_ITEM_rptr(VOMS_ACSEQ));
	ERR_pop_to_mark();
	return (ret);
}

/* ------------------------------------------------------------------ */
/* vomsdir trust snapshot                                              */
/* ------------------------------------------------------------------ */

/* One alternative chain of DNs from vomsdir/<vo>/<host>.lsc. */
struct voms_lsc {
	char		*vo;
	char		*host;
	char		**dn;		/* server subject, its issuer, ... */
	size_t		 ndn;
};

/* A legacy signer certificate from vomsdir/<vo>/<name>.pem. */
struct voms_pem {
	char		*vo;
	X509		*cert;
};

struct voms_trust {
	struct voms_lsc	*lsc;
	size_t		 nlsc;
	struct voms_pem	*pem;
	size_t		 npem;
};

static void
lsc_clear(struct voms_lsc *l)
{
	size_t i;

	for (i = 0; i < l->ndn; i++)
		free(l->dn[i]);
	free(l->dn);
	free(l->vo);
	free(l->host);
	memset(l, 0, sizeof(*l));
}

/* voms_trust_free(): see voms.h. */
void
voms_trust_free(struct voms_trust *vt)
{
	size_t i;

	if (vt == NULL)
		return;
	for (i = 0; i < vt->nlsc; i++)
		lsc_clear(&vt->lsc[i]);
	free(vt->lsc);
	for (i = 0; i < vt->npem; i++) {
		free(vt->pem[i].vo);
		X509_free(vt->pem[i].cert);
	}
	free(vt->pem);
	free(vt);
}

/* voms_trust_count(): see voms.h. */
size_t
voms_trust_count(const struct voms_trust *vt)
{
	return (vt == NULL ? 0 : vt->nlsc);
}

/*
 * Append a finished chain to vt.  On success vt owns l's contents and l
 * is zeroed; on failure l is left for the caller to clear.
 */
static int
trust_add_lsc(struct voms_trust *vt, struct voms_lsc *l)
{
	struct voms_lsc *nl;

	nl = reallocarray(vt->lsc, vt->nlsc + 1, sizeof(*nl));
	if (nl == NULL)
		return (-1);
	vt->lsc = nl;
	vt->lsc[vt->nlsc++] = *l;
	memset(l, 0, sizeof(*l));
	return (0);
}

/*
 * Copy one DN line: drop one pair of surrounding double quotes (some
 * deployments write them), and spell the userId attribute as OpenSSL 3
 * prints it ("/UID="), as libvomsapi's dncompare() treats both alike.
 */
static char *
lsc_dn_copy(const char *s, size_t n)
{
	char *out, *o;
	size_t i;

	if (n >= 2 && s[0] == '"' && s[n - 1] == '"') {
		s++;
		n -= 2;
	}
	if ((out = malloc(n + 1)) == NULL)
		return (NULL);
	for (i = 0, o = out; i < n; ) {
		if (n - i >= LIT_LEN("/USERID=") &&
		    memcmp(s + i, "/USERID=", LIT_LEN("/USERID=")) == 0) {
			memcpy(o, "/UID=", LIT_LEN("/UID="));
			o += LIT_LEN("/UID=");
			i += LIT_LEN("/USERID=");
		} else
			*o++ = s[i++];
	}
	*o = '\0';
	return (out);
}

/*
 * Close the chain being read from a .lsc file: it needs at least the
 * server's DN and its issuer's.  On success vt owns it.
 */
static int
lsc_end_chain(struct voms_trust *vt, struct voms_lsc *cur, const char *vo,
    const char *host, const char *path, int lineno, char *err,
    size_t errlen)
{
	if (cur->ndn < 2) {
		seterr(err, errlen, "%s:%d: a chain needs the server DN and "
		    "its issuer DN", path, lineno);
		return (-1);
	}
	if ((cur->vo = strdup(vo)) == NULL ||
	    (cur->host = strdup(host)) == NULL ||
	    trust_add_lsc(vt, cur) == -1) {
		seterr(err, errlen, "%s: out of memory", path);
		return (-1);
	}
	return (0);
}

static int
lsc_load(struct voms_trust *vt, const char *path, const char *vo,
    const char *host, char *err, size_t errlen)
{
	struct voms_lsc cur;
	FILE *fp = NULL;
	char *buf = NULL, *line, *end, *nl, **ndn;
	size_t len, n, chains = 0;
	int lineno = 0, ret = -1;

	memset(&cur, 0, sizeof(cur));
	if ((fp = fopen(path, "r")) == NULL) {
		seterr(err, errlen, "%s: %s", path, strerror(errno));
		goto done;
	}
	if ((buf = malloc(LSC_FILE_MAX + 1)) == NULL) {
		seterr(err, errlen, "%s: out of memory", path);
		goto done;
	}
	len = fread(buf, 1, LSC_FILE_MAX + 1, fp);
	if (ferror(fp) || len > LSC_FILE_MAX) {
		seterr(err, errlen, "%s: unreadable or larger than %d bytes",
		    path, LSC_FILE_MAX);
		goto done;
	}
	if (memchr(buf, '\0', len) != NULL) {
		seterr(err, errlen, "%s: contains a NUL byte", path);
		goto done;
	}
	buf[len] = '\0';

	for (line = buf; line != NULL; line = nl) {
		lineno++;
		if ((nl = strchr(line, '\n')) != NULL)
			*nl++ = '\0';
		while (*line == ' ' || *line == '\t')
			line++;
		end = line + strlen(line);
		while (end > line && (end[-1] == ' ' || end[-1] == '\t' ||
		    end[-1] == '\r'))
			end--;
		n = (size_t)(end - line);
		if (n == 0 || line[0] == '#')
			continue;
		if (n > LSC_LINE_MAX) {
			seterr(err, errlen, "%s:%d: line too long", path,
			    lineno);
			goto done;
		}
		if (strncmp(line, "------ NEXT CHAIN",
		    LIT_LEN("------ NEXT CHAIN")) == 0) {
			if (cur.ndn == 0)
				continue;
			if (lsc_end_chain(vt, &cur, vo, host, path, lineno,
			    err, errlen) == -1)
				goto done;
			chains++;
			continue;
		}
		if (line[0] != '/' && !(line[0] == '"' && line[1] == '/')) {
			seterr(err, errlen, "%s:%d: not a slash-form DN",
			    path, lineno);
			goto done;
		}
		ndn = reallocarray(cur.dn, cur.ndn + 1, sizeof(*ndn));
		if (ndn == NULL || (cur.dn = ndn,
		    (cur.dn[cur.ndn] = lsc_dn_copy(line, n)) == NULL)) {
			seterr(err, errlen, "%s: out of memory", path);
			goto done;
		}
		cur.ndn++;
	}
	if (cur.ndn != 0) {
		if (lsc_end_chain(vt, &cur, vo, host, path, lineno, err,
		    errlen) == -1)
			goto done;
		chains++;
	}
	if (chains == 0) {
		seterr(err, errlen, "%s: no DN lines", path);
		goto done;
	}
	ret = 0;
done:
	lsc_clear(&cur);
	free(buf);
	if (fp != NULL)
		(void)fclose(fp);
	return (ret);
}

static int
pem_load(struct voms_trust *vt, const char *path, const char *vo,
    char *err, size_t errlen)
{
	BIO *bio;
	X509 *x;
	struct voms_pem *np;
	unsigned long e;
	int n = 0, ret = -1;

	if ((bio = BIO_new_file(path, "r")) == NULL) {
		seterr(err, errlen, "%s: cannot open", path);
		return (-1);
	}
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		np = reallocarray(vt->pem, vt->npem + 1, sizeof(*np));
		if (np == NULL) {
			X509_free(x);
			seterr(err, errlen, "%s: out of memory", path);
			goto done;
		}
		vt->pem = np;
		if ((np[vt->npem].vo = strdup(vo)) == NULL) {
			X509_free(x);
			seterr(err, errlen, "%s: out of memory", path);
			goto done;
		}
		np[vt->npem++].cert = x;
		n++;
	}
	/*
	 * PEM_read_bio_X509() always ends on an error; at a clean end of
	 * file it is "no start line".  (The caller's mark restores the queue.)
	 */
	e = ERR_peek_last_error();
	if (n == 0 || (e != 0 && ERR_GET_REASON(e) != PEM_R_NO_START_LINE)) {
		seterr(err, errlen, "%s: not a PEM certificate file", path);
		goto done;
	}
	ret = 0;
done:
	BIO_free(bio);
	return (ret);
}

static int
has_suffix(const char *name, const char *sfx, size_t *stem)
{
	size_t n = strlen(name), s = strlen(sfx);

	if (n <= s || strcmp(name + n - s, sfx) != 0)
		return (0);
	*stem = n - s;
	return (1);
}

static int
vo_load(struct voms_trust *vt, const char *dir, const char *vo, char *err,
    size_t errlen)
{
	DIR *d;
	struct dirent *de;
	struct stat st;
	char path[PATH_MAX], host[256];
	size_t stem;
	int ret = -1;

	if ((d = opendir(dir)) == NULL) {
		seterr(err, errlen, "%s: %s", dir, strerror(errno));
		return (-1);
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >=
		    (int)sizeof(path)) {
			seterr(err, errlen, "%s/%s: path too long", dir,
			    de->d_name);
			goto done;
		}
		if (stat(path, &st) == -1) {
			/* A dangling link, or replaced as we read: skip. */
			if (errno == ENOENT)
				continue;
			seterr(err, errlen, "%s: %s", path, strerror(errno));
			goto done;
		}
		if (!S_ISREG(st.st_mode))
			continue;
		if (has_suffix(de->d_name, ".lsc", &stem)) {
			if (stem >= sizeof(host)) {
				seterr(err, errlen, "%s: host name too long",
				    path);
				goto done;
			}
			memcpy(host, de->d_name, stem);
			host[stem] = '\0';
			if (lsc_load(vt, path, vo, host, err, errlen) == -1)
				goto done;
		} else if (has_suffix(de->d_name, ".pem", &stem)) {
			if (pem_load(vt, path, vo, err, errlen) == -1)
				goto done;
		}
	}
	ret = 0;
done:
	(void)closedir(d);
	return (ret);
}

/* voms_trust_new(): see voms.h. */
struct voms_trust *
voms_trust_new(const char *vomsdir, char *err, size_t errlen)
{
	struct voms_trust *vt;
	DIR *d = NULL;
	struct dirent *de;
	struct stat st;
	char path[PATH_MAX];
	int ok = 0;

	if ((vt = calloc(1, sizeof(*vt))) == NULL) {
		seterr(err, errlen, "out of memory");
		return (NULL);
	}
	ERR_set_mark();
	if (vomsdir == NULL || (d = opendir(vomsdir)) == NULL) {
		seterr(err, errlen, "vomsdir %s: %s",
		    vomsdir ? vomsdir : "(unset)",
		    vomsdir ? strerror(errno) : "no path");
		goto done;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", vomsdir,
		    de->d_name) >= (int)sizeof(path)) {
			seterr(err, errlen, "%s/%s: path too long", vomsdir,
			    de->d_name);
			goto done;
		}
		if (stat(path, &st) == -1) {
			if (errno == ENOENT)
				continue;
			seterr(err, errlen, "%s: %s", path, strerror(errno));
			goto done;
		}
		/* Files at the top level (legacy .pem) are not used. */
		if (!S_ISDIR(st.st_mode))
			continue;
		if (vo_load(vt, path, de->d_name, err, errlen) == -1)
			goto done;
	}
	ok = 1;
done:
	if (d != NULL)
		(void)closedir(d);
	ERR_pop_to_mark();
	if (!ok) {
		voms_trust_free(vt);
		vt = NULL;
	}
	return (vt);
}

/* ------------------------------------------------------------------ */
/* Verification                                                        */
/* ------------------------------------------------------------------ */

/*
 * The store may carry the TLS layer's callback, which records and never
 * fails, and expects an SSL in the context.  The signer check must fail
 * on any error, so it installs this plain one.
 */
static int
voms_verify_cb(int ok, X509_STORE_CTX *ctx)
{
	(void)ctx;
	return (ok);
}

static X509_EXTENSION *
find_acseq(const X509 *x, int *dup)
{
	X509_EXTENSION *ext, *found = NULL;
	int i, n = X509_get_ext_count(x);

	*dup = 0;
	for (i = 0; i < n; i++) {
		ext = X509_get_ext(x, i);
		if (!oid_is(X509_EXTENSION_get_object(ext), oid_acseq))
			continue;
		if (found != NULL)
			*dup = 1;
		found = ext;
	}
	return (found);
}

/*
 * The holder named by baseCertificateID must be one of the certificates
 * that delegated to the carrier: chain[carrier + 1] up to the identity
 * certificate.  RFC 3281 names it by issuer and serial; VOMS servers
 * write the holder's subject instead, which libvomsapi accepts too.
 */
static int
holder_matches(const struct voms_ac *ac, STACK_OF(X509) *chain,
    int carrier, int ident)
{
	const ASN1_BIT_STRING *iuid;
	X509 *c;
	int i;

	for (i = carrier + 1; i <= ident && i < sk_X509_num(chain); i++) {
		c = sk_X509_value(chain, i);
		if (ASN1_INTEGER_cmp(ac->holder_serial,
		    X509_get0_serialNumber(c)) != 0)
			continue;
		if (X509_NAME_cmp(ac->holder_issuer,
		    X509_get_issuer_name(c)) != 0 &&
		    X509_NAME_cmp(ac->holder_issuer,
		    X509_get_subject_name(c)) != 0)
			continue;
		X509_get0_uids(c, &iuid, NULL);
		if ((iuid == NULL) != (ac->holder_uid == NULL))
			continue;
		if (iuid != NULL && ASN1_STRING_cmp(iuid, ac->holder_uid) != 0)
			continue;
		return (1);
	}
	return (0);
}

static int
lsc_known(const struct voms_trust *vt, const struct voms_ac *ac)
{
	size_t i;

	for (i = 0; vt != NULL && i < vt->nlsc; i++)
		if (strcmp(vt->lsc[i].vo, ac->vo) == 0 &&
		    strcasecmp(vt->lsc[i].host, ac->host) == 0)
			return (1);
	return (0);
}

static int
sig_ok(const struct voms_ac *ac, X509 *signer)
{
	const VOMS_AC *x = ac->priv;
	EVP_PKEY *pkey;

	if ((pkey = X509_get0_pubkey(signer)) == NULL)
		return (0);
	/* The info keeps its received encoding, so this checks those bytes. */
	return (ASN1_item_verify(ASN1_ITEM_rptr(VOMS_ACINFO), ac->sig_alg,
	    ac->sig, x->info, pkey) == 1);
}

/*
 * Does a .lsc chain for the AC's vo and host match the signer chain
 * vchain (signer first)?  Line 0 is the signer's subject, line k the
 * issuer of vchain[k - 1], each as dn_format() writes it (which for
 * ordinary ASCII names is what X509_NAME_oneline() writes, the form .lsc
 * files are written in).  With partial set, lines past the end of vchain
 * are not looked at: that is the cheap check on the signer alone, made
 * before its chain is verified.  Returns 1 or 0; a name that cannot be
 * formatted (malformed, or out of memory) matches nothing.
 */
static int
lsc_match(const struct voms_trust *vt, const struct voms_ac *ac,
    STACK_OF(X509) *vchain, int partial)
{
	char *subj = NULL, *iss[AC_CERTS_MAX + 2];
	int nv = sk_X509_num(vchain), ni, i, ret = 0;
	size_t j, k;

	memset(iss, 0, sizeof(iss));
	ni = nv < (int)(sizeof(iss) / sizeof(iss[0])) ? nv :
	    (int)(sizeof(iss) / sizeof(iss[0]));
	if (nv < 1 || (subj = dn_format_alloc(
	    X509_get_subject_name(sk_X509_value(vchain, 0)))) == NULL)
		goto done;
	for (i = 0; i < ni; i++)
		iss[i] = dn_format_alloc(X509_get_issuer_name(
		    sk_X509_value(vchain, i)));
	for (j = 0; j < vt->nlsc && ret == 0; j++) {
		const struct voms_lsc *l = &vt->lsc[j];

		if (strcmp(l->vo, ac->vo) != 0 ||
		    strcasecmp(l->host, ac->host) != 0 ||
		    (!partial && l->ndn - 1 > (size_t)ni) ||
		    strcmp(l->dn[0], subj) != 0)
			continue;
		for (k = 1; k < l->ndn && k <= (size_t)ni; k++)
			if (iss[k - 1] == NULL ||
			    strcmp(l->dn[k], iss[k - 1]) != 0)
				break;
		if (k == l->ndn || (partial && k == (size_t)ni + 1))
			ret = 1;
	}
done:
	free(subj);
	for (i = 0; i < ni; i++)
		free(iss[i]);
	return (ret);
}

/*
 * Verify the signer at time now against store, CRLs on the whole chain
 * whatever the store's own flags, then match the verified chain against
 * the .lsc entries.  Returns NULL when trusted, else a reason.
 */
static const char *
signer_check(const struct voms_trust *vt, X509_STORE *store,
    const struct voms_ac *ac, X509 *signer, STACK_OF(X509) *untrusted,
    time_t now)
{
	X509_STORE_CTX *ctx;
	const char *reason = voms_err_internal;

	if (store == NULL)
		return (voms_err_signer);
	if ((ctx = X509_STORE_CTX_new()) == NULL)
		return (voms_err_internal);
	if (X509_STORE_CTX_init(ctx, store, signer, untrusted) != 1)
		goto done;
	X509_STORE_CTX_set_verify_cb(ctx, voms_verify_cb);
	X509_STORE_CTX_set_time(ctx, 0, now);
	X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_CRL_CHECK |
	    X509_V_FLAG_CRL_CHECK_ALL);
	/* A VOMS host certificate need not be fit for TLS client use. */
	(void)X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_ANY);
	if (X509_verify_cert(ctx) != 1 ||
	    X509_STORE_CTX_get_error(ctx) != X509_V_OK) {
		reason = voms_err_signer;
		goto done;
	}
	reason = lsc_match(vt, ac, X509_STORE_CTX_get0_chain(ctx), 0) ?
	    NULL : voms_err_untrusted;
done:
	X509_STORE_CTX_free(ctx);
	return (reason);
}

/* Every check of one AC, cheapest first.  NULL when trusted. */
static const char *
ac_check(const struct voms_trust *vt, X509_STORE *store,
    const struct voms_ac *ac, STACK_OF(X509) *chain, int carrier, int ident,
    time_t now)
{
	STACK_OF(X509) *untrusted = NULL, *one;
	X509 *signer = NULL;
	size_t i;
	int listed, signed_ok = 0;

	if (ac->targeted)
		return (voms_err_targeted);
	if (now < ac->not_before - VOMS_SKEW)
		return (voms_err_notyet);
	if (now > ac->not_after + VOMS_SKEW)
		return (voms_err_expired);
	if (!holder_matches(ac, chain, carrier, ident))
		return (voms_err_holder);
	if (!lsc_known(vt, ac))
		return (voms_err_untrusted);

	if (ac->certs != NULL) {
		/* ACCertList: the signer first, then intermediates. */
		signer = sk_X509_value(ac->certs, 0);
		untrusted = ac->certs;
	} else {
		/* Legacy: the vo's .pem named as issuer whose key signed it. */
		for (i = 0; i < vt->npem && signer == NULL; i++)
			if (strcmp(vt->pem[i].vo, ac->vo) == 0 &&
			    X509_NAME_cmp(ac->issuer, X509_get_subject_name(
			    vt->pem[i].cert)) == 0 &&
			    sig_ok(ac, vt->pem[i].cert))
				signer = vt->pem[i].cert;
		if (signer == NULL)
			return (voms_err_nosigner);
		signed_ok = 1;
	}
	if (X509_NAME_cmp(ac->issuer, X509_get_subject_name(signer)) != 0)
		return (voms_err_issuer);
	if (X509_get_extension_flags(signer) & EXFLAG_PROXY)
		return (voms_err_signer);
	/* The signer's own two names must be listed before any crypto. */
	if ((one = sk_X509_new_null()) == NULL ||
	    sk_X509_push(one, signer) != 1) {
		sk_X509_free(one);
		return (voms_err_internal);
	}
	listed = lsc_match(vt, ac, one, 1);
	sk_X509_free(one);
	if (!listed)
		return (voms_err_untrusted);
	if (!signed_ok && !sig_ok(ac, signer))
		return (voms_err_signature);
	return (signer_check(vt, store, ac, signer, untrusted, now));
}

/* voms_fqans_free(): see voms.h. */
void
voms_fqans_free(char **fqans, size_t n)
{
	size_t i;

	if (fqans == NULL)
		return;
	for (i = 0; i < n; i++)
		free(fqans[i]);
	free(fqans);
}

/* voms_verify_chain(): see voms.h. */
int
voms_verify_chain(const struct voms_trust *vt, X509_STORE *store,
    STACK_OF(X509) *chain, time_t now, char ***fqans, size_t *nfqans,
    const char **reason)
{
	X509_EXTENSION *ext = NULL;
	const ASN1_OCTET_STRING *val;
	struct voms_ac *acs = NULL;
	char **out = NULL, err[128];
	size_t nacs = 0, total = 0, i, j, k = 0;
	int n, ident, carrier, dup = 0, ret = -1;

	*fqans = NULL;
	*nfqans = 0;
	*reason = NULL;
	ERR_set_mark();

	/* The identity certificate ends the search for ACs and holders. */
	n = chain == NULL ? 0 : sk_X509_num(chain);
	for (ident = 0; ident < n - 1; ident++)
		if (!(X509_get_extension_flags(sk_X509_value(chain, ident)) &
		    EXFLAG_PROXY))
			break;
	for (carrier = 0; carrier < n && carrier <= ident; carrier++)
		if ((ext = find_acseq(sk_X509_value(chain, carrier),
		    &dup)) != NULL)
			break;
	if (ext == NULL) {
		ret = 0;
		goto done;
	}

	val = X509_EXTENSION_get_data(ext);
	if (dup || voms_ext_parse(ASN1_STRING_get0_data(val),
	    (size_t)ASN1_STRING_length(val), &acs, &nacs, err,
	    sizeof(err)) == -1) {
		*reason = voms_err_malformed;
		goto done;
	}
	for (i = 0; i < nacs; i++) {
		*reason = ac_check(vt, store, &acs[i], chain, carrier, ident,
		    now);
		if (*reason != NULL)
			goto done;
		total += acs[i].nfqans;
	}
	/* The parser guarantees at least one FQAN per AC. */
	if (total == 0) {
		*reason = voms_err_malformed;
		goto done;
	}
	if ((out = calloc(total, sizeof(*out))) == NULL) {
		*reason = voms_err_internal;
		goto done;
	}
	for (i = 0; i < nacs; i++)
		for (j = 0; j < acs[i].nfqans; j++)
			if ((out[k++] = strdup(acs[i].fqans[j])) == NULL) {
				*reason = voms_err_internal;
				goto done;
			}
	*fqans = out;
	*nfqans = total;
	out = NULL;
	ret = 0;
done:
	voms_fqans_free(out, k);
	voms_acs_free(acs, nacs);
	ERR_pop_to_mark();
	return (ret);
}
