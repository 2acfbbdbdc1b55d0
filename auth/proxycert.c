/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * Proxy certificates for x509.c: the RFC 3820 kind of a certificate from
 * its proxyCertInfo, the shape of a Globus legacy (pre-RFC) proxy, the
 * kind shown for each certificate of a chain, and the proxy policy a
 * verified chain must satisfy (RFC 3820 3.8: an independent proxy or an
 * unknown policy language is refused, a limited proxy limits everything
 * below it).  It also peels legacy proxies off a presented chain, checking
 * their signature and dates, since OpenSSL cannot.  It does not build or
 * verify paths (x509.c and OpenSSL do), knows nothing of trust snapshots,
 * caches or TLS, and never logs.
 */

#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "auth/auth.h"
#include "auth/proxycert.h"
#include "auth/x509.h"
#include "base/lit.h"

/* RFC 3820 policy language of Globus "limited" proxies. */
#define OID_LIMITED	"1.3.6.1.4.1.3536.1.1.1.9"

/* Set a refusal's reason and detail (static text, NULL for none). */
static int
proxycert_refuse(const char **reason, const char **detail, const char *r,
    const char *d)
{
	*reason = r;
	*detail = d;
	return (-1);
}

const char *
proxycert_name(enum auth_proxy_kind k)
{
	switch (k) {
	case AUTH_PROXY_NONE:
		return ("none");
	case AUTH_PROXY_RFC:
		return ("RFC 3820 proxy");
	case AUTH_PROXY_LIMITED:
		return ("limited proxy");
	case AUTH_PROXY_INDEPENDENT:
		return ("independent proxy");
	case AUTH_PROXY_LEGACY:
		return ("legacy Globus proxy");
	}
	return ("unknown");
}

enum auth_proxy_kind
proxycert_rfc_kind(X509 *x, int *unknown)
{
	PROXY_CERT_INFO_EXTENSION *pci;
	enum auth_proxy_kind k = AUTH_PROXY_RFC;
	char		 oid[64];
	int		 nid;

	*unknown = 0;
	if ((X509_get_extension_flags(x) & EXFLAG_PROXY) == 0)
		return (AUTH_PROXY_NONE);
	pci = X509_get_ext_d2i(x, NID_proxyCertInfo, NULL, NULL);
	if (pci == NULL || pci->proxyPolicy == NULL ||
	    pci->proxyPolicy->policyLanguage == NULL) {
		*unknown = 1;
		goto done;
	}
	nid = OBJ_obj2nid(pci->proxyPolicy->policyLanguage);
	if (nid == NID_id_ppl_inheritAll)
		k = AUTH_PROXY_RFC;
	else if (nid == NID_Independent)
		k = AUTH_PROXY_INDEPENDENT;
	else if (OBJ_obj2txt(oid, sizeof(oid),
	    pci->proxyPolicy->policyLanguage, 1) > 0 &&
	    strcmp(oid, OID_LIMITED) == 0)
		k = AUTH_PROXY_LIMITED;
	else
		*unknown = 1;
done:
	PROXY_CERT_INFO_EXTENSION_free(pci);
	ERR_clear_error();
	return (k);
}

int
proxycert_legacy_shape(X509 *x, int *limited)
{
	const X509_NAME	*subj = X509_get_subject_name(x);
	X509_NAME	*tmp;
	X509_NAME_ENTRY	*last;
	const ASN1_STRING *v;
	int		 n, ok;

	*limited = 0;
	if (X509_get_extension_flags(x) & EXFLAG_PROXY)
		return (0);
	n = X509_NAME_entry_count(subj);
	if (n < 2 || n != X509_NAME_entry_count(X509_get_issuer_name(x)) + 1)
		return (0);
	last = X509_NAME_get_entry(subj, n - 1);
	if (OBJ_obj2nid(X509_NAME_ENTRY_get_object(last)) != NID_commonName ||
	    X509_NAME_ENTRY_set(last) ==
	    X509_NAME_ENTRY_set(X509_NAME_get_entry(subj, n - 2)))
		return (0);
	v = X509_NAME_ENTRY_get_data(last);
	if (ASN1_STRING_length(v) == (int)LIT_LEN("proxy") &&
	    memcmp(ASN1_STRING_get0_data(v), "proxy", LIT_LEN("proxy")) == 0)
		*limited = 0;
	else if (ASN1_STRING_length(v) == (int)LIT_LEN("limited proxy") &&
	    memcmp(ASN1_STRING_get0_data(v), "limited proxy",
	    LIT_LEN("limited proxy")) == 0)
		*limited = 1;
	else
		return (0);
	if ((tmp = X509_NAME_dup(subj)) == NULL)
		return (0);
	X509_NAME_ENTRY_free(X509_NAME_delete_entry(tmp, n - 1));
	ok = X509_NAME_cmp(tmp, X509_get_issuer_name(x)) == 0;
	X509_NAME_free(tmp);
	return (ok);
}

enum auth_proxy_kind
proxycert_kind(X509 *x)
{
	int		 unknown, limited;
	enum auth_proxy_kind k;

	k = proxycert_rfc_kind(x, &unknown);
	if (k == AUTH_PROXY_NONE && proxycert_legacy_shape(x, &limited))
		k = limited ? AUTH_PROXY_LIMITED : AUTH_PROXY_LEGACY;
	return (k);
}

int
proxycert_legacy_peel(STACK_OF(X509) *presented, X509 *leaf, time_t now,
    int allow, struct proxycert_legacy *lg, const char **reason,
    const char **detail)
{
	X509		*eec, *x, *issuer;
	EVP_PKEY	*pk;
	int		 i, lim;

	memset(lg, 0, sizeof(*lg));
	eec = leaf;
	while (proxycert_legacy_shape(eec, &lim)) {
		if (!allow)
			return (proxycert_refuse(reason, detail,
			    x509_err_legacy, NULL));
		issuer = NULL;
		for (i = 0; i < sk_X509_num(presented); i++) {
			x = sk_X509_value(presented, i);
			if (x != eec && X509_NAME_cmp(X509_get_subject_name(x),
			    X509_get_issuer_name(eec)) == 0) {
				issuer = x;
				break;
			}
		}
		if (issuer == NULL || lg->n >= PROXYCERT_LEGACY_MAX)
			return (proxycert_refuse(reason, detail,
			    x509_err_chain, "legacy proxy without its issuer"));
		pk = X509_get0_pubkey(issuer);
		if (pk == NULL || X509_verify(eec, pk) != 1)
			return (proxycert_refuse(reason, detail,
			    x509_err_chain, "legacy proxy signature invalid"));
		if ((X509_get_extension_flags(issuer) & EXFLAG_KUSAGE) &&
		    !(X509_get_key_usage(issuer) & KU_DIGITAL_SIGNATURE))
			return (proxycert_refuse(reason, detail, x509_err_chain,
			    "legacy proxy issuer may not sign"));
		if (X509_cmp_time(X509_get0_notBefore(eec), &now) > 0)
			return (proxycert_refuse(reason, detail,
			    x509_err_notyet, NULL));
		if (X509_cmp_time(X509_get0_notAfter(eec), &now) < 0)
			return (proxycert_refuse(reason, detail,
			    x509_err_proxy_expired, NULL));
		lg->limited |= lim;
		lg->proxy[lg->n++] = eec;
		eec = issuer;
	}
	if (lg->n > 0 && (X509_get_extension_flags(eec) & EXFLAG_PROXY))
		return (proxycert_refuse(reason, detail, x509_err_chain,
		    "legacy proxy issued by an RFC 3820 proxy"));
	lg->eec = eec;
	return (0);
}

int
proxycert_policy(STACK_OF(X509) *verified, int *user, int *limited,
    const char **reason, const char **detail)
{
	enum auth_proxy_kind k;
	int		 i, n, unknown;

	/*
	 * OpenSSL does not evaluate proxy policy (RFC 3820 3.8): any
	 * independent proxy cuts the chain from the user's identity; a
	 * proxy below a limited one is limited too.  The user certificate
	 * is the first non-proxy one.
	 */
	n = sk_X509_num(verified);
	for (i = 0; i < n; i++) {
		k = proxycert_rfc_kind(sk_X509_value(verified, i), &unknown);
		if (k == AUTH_PROXY_NONE) {
			*user = i;
			return (0);
		}
		if (unknown)
			return (proxycert_refuse(reason, detail,
			    x509_err_chain, "unknown proxy policy language"));
		if (k == AUTH_PROXY_INDEPENDENT)
			return (proxycert_refuse(reason, detail,
			    x509_err_independent, NULL));
		if (k == AUTH_PROXY_LIMITED)
			*limited = 1;
	}
	return (proxycert_refuse(reason, detail, x509_err_chain,
	    "no user certificate in the chain"));
}
