/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * The one slash-form DN formatter of gridfront.  Every DN that is matched
 * against CRIC or the ban list, sent as cms-authn-dn, logged or shown on
 * the trouble page comes from here, so there is one definition of "the DN".
 *
 * Format.  For each RDN, in the order of the certificate: "/" followed by
 * its attribute(s); the attributes of a multi-valued RDN are joined with
 * "+".  An attribute is its OpenSSL short name (DC, C, ST, L, O, OU, CN,
 * emailAddress, UID, serialNumber, ...), or its dotted OID when OpenSSL
 * has no name for it, then "=", then the value converted to UTF-8
 * (PrintableString, IA5String, T61String, BMPString, UniversalString and
 * UTF8String are all converted; valid non-ASCII text is written as is,
 * never as \xHH).  Inside a value these are escaped:
 *   "\" as "\\",  "/" as "\/",  "+" as "\+",
 *   bytes 0x00-0x1f and 0x7f as "\xHH" (two upper-case hex digits).
 * With these escapes the text is unambiguous: a CN whose value is "a/CN=b"
 * gives "/CN=a\/CN=b", which no two-CN name can produce.  An empty name
 * gives "".  A name with an invalid value (bad UTF-8 or a non-string type)
 * is refused.
 *
 * For ordinary DNs (no '\', '/', '+' or non-ASCII in values) the result is
 * byte for byte what OpenSSL's X509_NAME_oneline() writes and what CRIC
 * stores, e.g.
 *   /DC=ch/DC=cern/OU=Organic Units/OU=Users/CN=jdoe/CN=123456/CN=John Doe
 * X509_NAME_oneline() itself differs elsewhere: it leaves "\" unescaped,
 * writes non-ASCII as \xHH and truncates long names.
 */

#ifndef AUTH_DN_H
#define AUTH_DN_H

#include <sys/types.h>

#include <stddef.h>

#include <openssl/x509.h>

/*
 * Format name into out (outlen bytes including the NUL).  Returns the
 * length written (excluding the NUL), or -1 when the result does not fit,
 * name is NULL or malformed (out is then "" when outlen > 0).
 */
ssize_t	 dn_format(const X509_NAME *name, char *out, size_t outlen);

/*
 * Format name into a new malloc'd string owned by the caller (free()).
 * Returns NULL when name is NULL or malformed, or on out-of-memory.
 */
char	*dn_format_alloc(const X509_NAME *name);

#endif /* AUTH_DN_H */
