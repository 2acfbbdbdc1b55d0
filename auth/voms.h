/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * VOMS attribute certificates (RFC 3281 ACs as issued by VOMS servers):
 * a trust snapshot of vomsdir (.lsc files), a strict parser for the AC
 * DER (fed hostile bytes by a fuzzer), and the full trust check of the
 * ACs carried by a verified client chain, yielding the FQANs.  Used by
 * x509.c; it knows nothing of TLS sessions, caching or HTTP.
 */

#ifndef AUTH_VOMS_H
#define AUTH_VOMS_H

#include <stddef.h>
#include <time.h>

#include <openssl/x509.h>

struct voms_trust;

/* Clock skew allowed on the AC validity window, both ends (seconds). */
#define VOMS_SKEW		300
/* Limits applied by the parser. */
#define VOMS_FQAN_MAX		1024	/* bytes in one FQAN */
#define VOMS_FQANS_MAX		256	/* FQANs in one AC */
#define VOMS_ACS_MAX		16	/* ACs in one extension */

/*
 * Reasons returned by voms_verify_chain(), plain words, static storage:
 * compare them by pointer.
 */
extern const char voms_err_malformed[];	/* "malformed VOMS AC" */
extern const char voms_err_signature[];	/* "VOMS AC signature invalid" */
extern const char voms_err_untrusted[];	/* no matching .lsc */
extern const char voms_err_expired[];	/* "VOMS AC expired" */
extern const char voms_err_notyet[];	/* "VOMS AC not yet valid" */
extern const char voms_err_holder[];	/* "VOMS AC holder does not match" */
extern const char voms_err_signer[];	/* signer revoked or unverifiable */
extern const char voms_err_nosigner[];	/* no signer certificate found */
extern const char voms_err_issuer[];	/* AC issuer name != signer subject */
extern const char voms_err_targeted[];	/* AC restricted to target hosts */
extern const char voms_err_internal[];	/* out of memory */

/*
 * One decoded AttributeCertificate.  Pointers marked "borrowed" point
 * into the decoded tree held in priv and stay valid until
 * voms_ac_clear(); the strings and certs are owned by the struct.
 */
struct voms_ac {
	const X509_NAME	*holder_issuer;	/* baseCertificateID name (borrowed) */
	const ASN1_INTEGER *holder_serial; /* baseCertificateID serial (b.) */
	const ASN1_BIT_STRING *holder_uid; /* issuerUID or NULL (borrowed) */
	const X509_NAME	*issuer;	/* the VOMS server's DN (borrowed) */
	const ASN1_INTEGER *serial;	/* AC serial (borrowed) */
	time_t		 not_before;
	time_t		 not_after;
	char		*vo;		/* from policyAuthority "vo://h:p" */
	char		*host;
	int		 port;
	char		**fqans;	/* AC order, each starts with "/vo" */
	size_t		 nfqans;
	STACK_OF(X509)	*certs;		/* ACCertList (signer first) or NULL */
	int		 targeted;	/* carries targetInformation */
	const X509_ALGOR *sig_alg;	/* outer signatureAlgorithm (b.) */
	const ASN1_BIT_STRING *sig;	/* signatureValue (borrowed) */
	const unsigned char *info_der;	/* signed AttributeCertificateInfo, */
	size_t		 info_len;	/*   as received (borrowed copy) */
	void		*priv;		/* decoded tree, owns borrowed data */
};

/*
 * Load a trust snapshot from vomsdir: every vomsdir/<vo>/<host>.lsc file
 * (DN lines in the slash form of auth/dn.h, which for ordinary ASCII
 * names is X509_NAME_oneline()'s: the server's subject, then its issuer,
 * optionally further issuers up the chain; "/USERID=" is read as "/UID=";
 * one pair of surrounding double quotes is dropped; '#' comments and
 * blank lines skipped; "------ NEXT CHAIN ------" separates alternative
 * chains) and every vomsdir/<vo>/<name>.pem (legacy signer certificates,
 * used only for ACs that carry no certificate list, and only together
 * with a matching .lsc).  Files are read once, now; later changes need a new
 * snapshot.  Returns a new snapshot owned by the caller
 * (voms_trust_free), or NULL with err filled if vomsdir cannot be read or
 * any .lsc or .pem in it is malformed.  An empty vomsdir is valid and
 * trusts no server.  The snapshot is immutable and safe to share between
 * threads.
 */
struct voms_trust *voms_trust_new(const char *vomsdir, char *err,
		    size_t errlen);

/* Free a snapshot; NULL is a no-op. */
void	 voms_trust_free(struct voms_trust *vt);

/* Number of .lsc chains in a snapshot (0 for NULL), for logs and tests. */
size_t	 voms_trust_count(const struct voms_trust *vt);

/*
 * Find and check the VOMS ACs of a verified client chain.  chain is the
 * verified chain, leaf first, as from SSL_get0_verified_chain(); the
 * first certificate from the leaf up to the identity (first non-proxy)
 * certificate that carries extension 1.3.6.1.4.1.8005.100.100.5 is used,
 * and every AC in it must pass: the holder (baseCertificateID) is one of
 * the certificates above the carrier up to the identity certificate; the
 * time now lies in the validity window give or take VOMS_SKEW; the AC is
 * not targeted; vt holds a .lsc for its vo and host; the signer (the AC's
 * embedded certificate, else a .pem of the vo) is named as the AC's
 * issuer, verifies its signature, is verified at time now against store
 * with CRL checks on the whole chain, and its chain matches the .lsc.
 * vt may be NULL (no server trusted).  store is only read.
 *
 * Returns 0 with *nfqans = 0 and *fqans = NULL when no certificate
 * carries an AC; 0 with the FQANs of all ACs, in AC order, when all are
 * trusted: *fqans is a malloc'd array of *nfqans malloc'd strings owned
 * by the caller (voms_fqans_free).  Returns -1 with *reason set to one of
 * the voms_err_* strings when an AC is present but not trusted; then
 * *fqans is NULL and *nfqans 0.  Leaves the OpenSSL error queue as it
 * found it.  Thread-safe for a shared vt and store.
 */
int	 voms_verify_chain(const struct voms_trust *vt, X509_STORE *store,
	    STACK_OF(X509) *chain, time_t now, char ***fqans, size_t *nfqans,
	    const char **reason);

/* Free an FQAN array from voms_verify_chain(); NULL is a no-op. */
void	 voms_fqans_free(char **fqans, size_t n);

/*
 * Decode one DER AttributeCertificate of len bytes into *ac (which need
 * not be initialised) and check its VOMS profile: v2, holder by
 * baseCertificateID with one directoryName, v2Form issuer with one
 * directoryName, matching signature algorithms, serial of at most 20
 * octets, GeneralizedTime validity, exactly one VOMS attribute with one
 * policyAuthority URI "vo://host:port" and FQANs as OCTET STRINGs under
 * "/vo", noRevAvail and authorityKeyIdentifier present, no unknown
 * critical extension, no trailing bytes.  Accepts any bytes: never reads
 * outside der[0..len).  Returns 0 with *ac filled (release with
 * voms_ac_clear), or -1 with err filled and *ac cleared (nothing to
 * release, though voms_ac_clear is harmless).  Does not check the
 * signature or any trust.
 */
int	 voms_ac_parse(const unsigned char *der, size_t len,
	    struct voms_ac *ac, char *err, size_t errlen);

/*
 * Decode the value of a 1.3.6.1.4.1.8005.100.100.5 extension (a SEQUENCE
 * holding a SEQUENCE OF AttributeCertificate) with voms_ac_parse()'s
 * rules for each AC.  Returns 0 with *acs a malloc'd array of *nacs
 * (1..VOMS_ACS_MAX) ACs owned by the caller (voms_acs_free), or -1 with
 * err filled and *acs NULL.
 */
int	 voms_ext_parse(const unsigned char *der, size_t len,
	    struct voms_ac **acs, size_t *nacs, char *err, size_t errlen);

/* Release what voms_ac_parse() filled in; leaves *ac zeroed. */
void	 voms_ac_clear(struct voms_ac *ac);

/* Free an array from voms_ext_parse(); NULL is a no-op. */
void	 voms_acs_free(struct voms_ac *acs, size_t n);

#endif /* AUTH_VOMS_H */
