/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * CA namespace policies of a grid CA directory: which subject DNs each CA
 * may sign.  Parses the two IGTF files that sit next to a CA's "<hash>.0":
 * "<hash>.namespaces" (TO Issuer "..." PERMIT|DENY Subject "<regex>") and
 * "<hash>.signing_policy" (the Globus EACL: access_id_CA, pos_rights,
 * cond_subjects with '*' globs), strictly, and checks a verified chain
 * against them.  x509.c calls namespaces_check_chain() once per
 * verification; auth.c loads a set with the trust snapshot.  No logging.
 */

#ifndef AUTH_NAMESPACES_H
#define AUTH_NAMESPACES_H

#include <stddef.h>

#include <openssl/x509.h>

/* How policies are applied (auth.namespaces). */
enum namespaces_mode {
	NAMESPACES_ENFORCE = 0,	/* check every CA that has a policy file */
	NAMESPACES_REQUIRE,	/* and refuse a CA that has none */
	NAMESPACES_IGNORE	/* do not read policy files at all */
};

/* The two file formats. */
enum namespaces_fmt {
	NAMESPACES_FMT_NS = 0,	/* <hash>.namespaces */
	NAMESPACES_FMT_EACL	/* <hash>.signing_policy */
};

/* The reason of a refusal, plain words, static: compare by pointer. */
extern const char namespaces_err_denied[]; /* issuer CA is not allowed to
					    * sign this DN */

/* One parsed policy file. */
struct namespaces_policy;

/*
 * Parse the text of one policy file (len bytes, need not be NUL-
 * terminated) in format fmt.  name is used in messages only.  Returns a
 * new policy owned by the caller (namespaces_policy_free), or NULL with
 * "name:line: why" in err for any line it does not understand, a bad
 * regular expression, a file without a rule, or out-of-memory.
 */
struct namespaces_policy *namespaces_policy_parse(enum namespaces_fmt fmt,
		    const char *text, size_t len, const char *name, char *err,
		    size_t errlen);

/*
 * May the CA named ca_dn sign subject?  ca_dn is the CA's subject in
 * gridfront's slash form; ca_alt, when not NULL, the same name as
 * X509_NAME_oneline() writes it (IGTF files use that form; for ordinary
 * names both are equal).  Only rules naming that CA (or SELF) count.
 * Returns 1 (permitted), 0 (refused; *why set to static words) or -1 (the
 * file names no rule for this CA; *why set).
 */
int	 namespaces_policy_check(const struct namespaces_policy *p,
	    const char *ca_dn, const char *ca_alt, const char *subject,
	    const char **why);

/* Free a policy; NULL is a no-op. */
void	 namespaces_policy_free(struct namespaces_policy *p);

/* The policies of one CA directory, by subject hash. */
struct namespaces_set;

/*
 * Read every "<8 hex>.namespaces" and "<8 hex>.signing_policy" file of
 * ca_path.  Returns a new set owned by the caller (namespaces_free), with
 * the number of files read in *nfiles (may be NULL), or NULL with the
 * reason in err: ca_path unreadable, or a policy file that cannot be read
 * or parsed (then the whole set is refused, as a bad CRL refuses a trust
 * reload).  mode is kept in the set for namespaces_check_chain().
 */
struct namespaces_set *namespaces_load(const char *ca_path,
		    enum namespaces_mode mode, size_t *nfiles, char *err,
		    size_t errlen);

/* Free a set; NULL is a no-op. */
void	 namespaces_free(struct namespaces_set *s);

/*
 * Check a verified chain (leaf first, trust anchor last) against s: every
 * certificate that a CA issued (not a proxy, not the self-issued anchor)
 * must be permitted by its issuer's policy; when an issuer has both files
 * .namespaces wins.  Under NAMESPACES_REQUIRE an issuer without a policy
 * file refuses.  Returns 0, or -1 with *detail set to static words saying
 * which check refused.  s NULL: 0.  Thread-safe (s is immutable).
 */
int	 namespaces_check_chain(const struct namespaces_set *s,
	    STACK_OF(X509) *verified, const char **detail);

#endif /* AUTH_NAMESPACES_H */
