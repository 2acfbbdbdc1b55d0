/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * The DN -> CMS account map, loaded from the CRIC users file (a JSON array
 * of {"DN","ID","LOGIN","NAME","ROLES"} records, PROTOCOL.md).  A loaded
 * map is immutable, so any number of threads may look it up at once; a
 * reload builds a new map and the caller (auth.c) swaps the pointer.  This
 * module only parses and indexes: it does not watch the file and does not
 * log (problems are counted in struct dnmap_info and described in err).
 */

#ifndef AUTH_DNMAP_H
#define AUTH_DNMAP_H

#include <stddef.h>

struct dnmap;

/*
 * One role: name is lower case [a-z0-9-]+ (sent as cms-authz-<name>);
 * value is the space-separated "group:<x>" / "site:<x>" tokens, each at
 * most once, in file order.  Tokens of any other shape are dropped at load;
 * a role left with no token is dropped.
 */
struct dnmap_role {
	char		*name;
	char		*value;
};

/*
 * One DN's account.  dn is this entry's own DN as CRIC writes it (send it as
 * cms-authn-dn); login, name, id and roles belong to the account and are
 * shared by every DN of the same LOGIN, with the roles of all its records
 * merged.  name may be "" (then send no cms-authn-name).  Valid as long as
 * the map it came from.
 */
struct dnmap_user {
	char		*dn;
	char		*login;
	char		*name;
	long long	 id;
	struct dnmap_role *roles;
	size_t		 nroles;
};

/* What a load found, for logs and metrics. */
struct dnmap_info {
	size_t		 records;	/* array elements read */
	size_t		 users;		/* distinct accounts (LOGINs) */
	size_t		 dns;		/* distinct DNs */
	size_t		 skipped;	/* records ignored */
	char		 first_skip[256]; /* "record 7: ..." or "" */
	size_t		 dropped_tokens; /* malformed role tokens dropped */
	size_t		 dropped_roles;	/* roles dropped (bad name/value) */
	size_t		 bad_utf8;	/* records skipped: DN, LOGIN or NAME
					 * not valid UTF-8 (also in skipped) */
	char		 first_bad_utf8[256]; /* "record 3: NAME ..." or "" */
	size_t		 edge_space;	/* records with leading/trailing spaces
					 * in DN or LOGIN (skipped, also in
					 * skipped) or NAME (trimmed) */
	char		 first_edge[160]; /* "record 3: DN has ..." or "" */
};

/* Largest users file accepted, in bytes: 256 MiB, written out as an int. */
#define DNMAP_FILE_MAX	268435456

/*
 * Load the CRIC users file at path.  Returns a new map (owned by the caller,
 * dnmap_free()) and fills *info when info is not NULL (also on failure, as
 * far as it got).  Returns NULL with a one-line reason in err when the file
 * is missing, unreadable, not a regular file, empty, larger than
 * DNMAP_FILE_MAX, not valid JSON (the reason gives jansson's line, column
 * and byte offset, which also catches a truncated file), not a top-level
 * array, or has no usable record.
 *
 * A record is skipped (and counted) when it is not an object or when DN,
 * ID, LOGIN, NAME or ROLES is missing or of the wrong type (DN, LOGIN, NAME
 * strings; ID an integer; ROLES an object of arrays), when DN does not
 * start with '/', DN or LOGIN is empty, any of them holds a control byte,
 * DN or LOGIN starts or ends with a space (a NAME that does is trimmed;
 * both counted in edge_space),
 * or its DN is already mapped to another LOGIN (the first record wins).
 * A record whose DN, LOGIN or NAME is not valid UTF-8 is skipped too and
 * also counted in info->bad_utf8: a byte sequence that is not UTF-8 inside
 * a JSON string, or a "\uD800".."\uDFFF" escape that is not half of a
 * surrogate pair (what Python's json writes for undecodable bytes), costs
 * only its record, where a strict JSON parser would refuse the file.  The
 * noncharacter U+FDD0 marks such places internally, so a record holding
 * it is refused the same way.  Other keys are ignored.  Records with the
 * same LOGIN form one account whose name and id come from its first
 * record.
 */
struct dnmap	*dnmap_load(const char *path, struct dnmap_info *info,
		    char *err, size_t errlen);

/*
 * Exact lookup of dn (NUL-terminated, slash form) in m.  Returns the
 * entry or NULL; m may be NULL.  O(1); does not allocate.
 */
const struct dnmap_user *dnmap_lookup(const struct dnmap *m, const char *dn);

/*
 * Order-insensitive lookup: an exact match if there is one, otherwise the
 * entry whose DN has the same multiset of RDN components, where the DN is
 * split on every '/' that is not escaped by a backslash (a multi-valued
 * RDN "CN=a+UID=b" is one component, compared as written).  When two
 * file DNs of different accounts are permutations of each other, neither
 * matches (NULL): an ambiguous match is no match; a DN ending in a
 * dangling '\' never matches this way either.  The returned entry's dn
 * is the file's DN, which may differ from the argument in order.  Does not
 * allocate for a dn shorter than 1 KiB.  m may be NULL.
 */
const struct dnmap_user *dnmap_lookup_unordered(const struct dnmap *m,
		    const char *dn);

/*
 * The first record (file order) whose LOGIN is login, or whose account ID
 * is id: for bearer tokens, which name an account, not a DN; the record's
 * dn is the one sent.  A linear scan (a token's outcome is cached).  m may
 * be NULL.  Returns an entry borrowed from m, or NULL.
 */
const struct dnmap_user *dnmap_find_login(const struct dnmap *m,
		    const char *login);
const struct dnmap_user *dnmap_find_id(const struct dnmap *m, long long id);

/* Number of distinct DNs in m (0 for NULL). */
size_t	 dnmap_size(const struct dnmap *m);

/* Number of distinct accounts in m (0 for NULL). */
size_t	 dnmap_users(const struct dnmap *m);

/* Free a map and everything it owns; NULL is a no-op. */
void	 dnmap_free(struct dnmap *m);

#endif /* AUTH_DNMAP_H */
