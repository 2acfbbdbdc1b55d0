/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * Proxy certificates (proxycert.c): RFC 3820 proxies and Globus legacy
 * proxies, classified one certificate at a time, peeled off a presented
 * chain (legacy) and checked against the proxy policy of a verified chain
 * (RFC 3820).  Used by x509.c's verification and its chain description;
 * the kinds are enum auth_proxy_kind of auth.h.  Refusals are reported as
 * x509_err_* reasons (x509.h) plus an optional static detail.
 */

#ifndef AUTH_PROXYCERT_H
#define AUTH_PROXYCERT_H

#include <time.h>

#include <openssl/x509.h>

#include "auth/auth.h"

/* Longest run of legacy proxies peeled off a chain before giving up. */
#define PROXYCERT_LEGACY_MAX	8

/* The Globus legacy proxies found on top of a presented chain. */
struct proxycert_legacy {
	X509		*proxy[PROXYCERT_LEGACY_MAX]; /* leaf first, borrowed */
	int		 n;		/* how many */
	int		 limited;	/* one is a "limited proxy" */
	X509		*eec;		/* the certificate below them (the leaf
					 * when n is 0), borrowed */
};

/*
 * The RFC 3820 kind of x from its proxyCertInfo (RFC 3820 3.8):
 * AUTH_PROXY_NONE for a certificate that is not an RFC proxy (a legacy
 * proxy included), else RFC, LIMITED or INDEPENDENT.  *unknown is set to
 * 1 for a proxy whose policy language is not understood or missing, which
 * the RFC says a relying party must refuse (the kind is then RFC), else
 * to 0.  x is borrowed; the OpenSSL error queue is left empty.
 */
enum auth_proxy_kind proxycert_rfc_kind(X509 *x, int *unknown);

/*
 * 1 when x looks like a Globus legacy proxy: no proxyCertInfo, subject
 * equal to the issuer plus one last single-valued RDN "CN=proxy" or
 * "CN=limited proxy"; *limited is set to 1 for the latter, else 0.
 * Returns 0 for anything else (and on out-of-memory).  Checks no
 * signature.
 */
int	 proxycert_legacy_shape(X509 *x, int *limited);

/*
 * The kind shown for x in a chain description (trouble page, logs): its
 * RFC 3820 kind, or for a legacy-shaped certificate LEGACY (or LIMITED
 * for "CN=limited proxy").  Shape only: says nothing of validity.
 */
enum auth_proxy_kind proxycert_kind(X509 *x);

/* Plain words for a proxy kind ("none", "RFC 3820 proxy", "limited
 * proxy" ...), static storage. */
const char *proxycert_name(enum auth_proxy_kind k);

/*
 * Peel the Globus legacy proxies off the top of a presented chain: from
 * leaf down, while the certificate has the legacy shape, find its issuer
 * in presented (by name), check its signature with the issuer's key, the
 * issuer's keyUsage and its dates at now.  At most PROXYCERT_LEGACY_MAX.
 * Fills *lg (certificates borrowed from presented) and returns 0, with
 * lg->eec the certificate OpenSSL should verify the path from.  Returns
 * -1 with *reason (x509_err_legacy when allow is 0, x509_err_chain,
 * x509_err_notyet or x509_err_proxy_expired) and *detail (static text or
 * NULL) set when a legacy proxy is refused, or when one was issued by an
 * RFC 3820 proxy.  May leave entries on the OpenSSL error queue.
 */
int	 proxycert_legacy_peel(STACK_OF(X509) *presented, X509 *leaf,
	    time_t now, int allow, struct proxycert_legacy *lg,
	    const char **reason, const char **detail);

/*
 * Apply RFC 3820 proxy policy to a verified chain (leaf first): returns 0
 * with *user the index of the user certificate (the first one that is
 * not an RFC proxy) and *limited set to 1 when a limited proxy lies above
 * it (left as it was otherwise).  Returns -1 with *reason and *detail set
 * for an unknown policy language, an independent proxy
 * (x509_err_independent) or a chain of proxies only.  verified is
 * borrowed.
 */
int	 proxycert_policy(STACK_OF(X509) *verified, int *user, int *limited,
	    const char **reason, const char **detail);

#endif /* AUTH_PROXYCERT_H */
