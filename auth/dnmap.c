/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * Loading and indexing of the CRIC users file (PROTOCOL.md, "CRIC user
 * records").  dnmap_load() parses the JSON with jansson, validates every
 * record, merges the records of one LOGIN into one account, and builds two
 * open-addressing hash tables: DN -> entry for the exact lookup, and
 * "sorted RDN components" -> entry for the order-insensitive one.  Bytes
 * that are not UTF-8 inside JSON strings are marked before parsing, so
 * that they cost their record rather than the file.  The map
 * is immutable afterwards.  Watching the file and swapping maps is auth.c's
 * job; this file neither logs nor keeps global state.
 */

#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "auth/dnmap.h"
#include "base/lit.h"

/* The order-insensitive lookup needs no malloc below this DN length. */
#define DNMAP_STACK_DN	1024

/*
 * What dnmap_utf8_mark() writes in place of a byte that is not UTF-8, or
 * of a lone surrogate escape: the JSON escape of U+FDD0, a noncharacter
 * (never in interchanged text), which jansson decodes as EF B7 90.
 */
static const char dnmap_bad_esc[6] = { '\\', 'u', 'F', 'D', 'D', '0' };
#define DNMAP_BAD_UTF8	"\xef\xb7\x90"

/* One account: every record with this LOGIN. */
struct dnmap_acct {
	char		*login;
	char		*name;
	long long	 id;
	struct dnmap_role *roles;
	size_t		 nroles;
	size_t		 rolecap;
};

/* One DN. u.dn is owned; the rest of u is borrowed from the account. */
struct dnmap_ent {
	struct dnmap_user u;
	size_t		 acct;
};

/* One canonical (component-sorted) DN; ent is SIZE_MAX when ambiguous. */
struct dnmap_canon {
	char		*key;
	size_t		 ent;
};

/*
 * A hash table of indexes into an array of strings kept elsewhere; slot
 * value 0 is empty, otherwise index + 1.  Sized once, never rehashed:
 * the number of keys is bounded by the number of records.
 */
struct dnmap_tab {
	size_t		*slot;
	size_t		 mask;
};

struct dnmap {
	struct dnmap_ent *ents;
	size_t		 nents;
	struct dnmap_acct *accts;
	size_t		 naccts;
	struct dnmap_canon *canons;
	size_t		 ncanons;
	struct dnmap_tab exact;		/* dn -> ents[] */
	struct dnmap_tab unordered;	/* canonical dn -> canons[] */
};

/* One RDN component of a DN being canonicalised. */
struct dnmap_comp {
	uint32_t	 off;
	uint32_t	 len;
};

/* ---- Hash tables ------------------------------------------------------- */

/* FNV-1a, 64 bit.  The keys come from a trusted file, not from clients. */
static uint64_t
dnmap_hash(const char *s, size_t len)
{
	uint64_t	 h = 0xcbf29ce484222325ULL;
	size_t		 i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ULL;
	}
	return (h);
}

static int
dnmap_tab_init(struct dnmap_tab *t, size_t nkeys)
{
	size_t	 n = 16;

	/* Load factor at most one half keeps linear probing short. */
	while (n < nkeys * 2) {
		if (n > SIZE_MAX / 4)
			return (-1);
		n *= 2;
	}
	if ((t->slot = calloc(n, sizeof(*t->slot))) == NULL)
		return (-1);
	t->mask = n - 1;
	return (0);
}

/*
 * Find key in t, where keys[i] is reached through get(arg, i).  Returns
 * the slot position: either the one holding key, or the empty one where it
 * belongs.
 */
static size_t
dnmap_tab_find(const struct dnmap_tab *t, const char *key, size_t len,
    const char *(*get)(const void *, size_t), const void *arg)
{
	size_t		 pos;
	const char	*k;

	pos = (size_t)dnmap_hash(key, len) & t->mask;
	for (;;) {
		if (t->slot[pos] == 0)
			return (pos);
		k = get(arg, t->slot[pos] - 1);
		if (strncmp(k, key, len) == 0 && k[len] == '\0')
			return (pos);
		pos = (pos + 1) & t->mask;
	}
}

static const char *
dnmap_ent_key(const void *arg, size_t i)
{
	return (((const struct dnmap *)arg)->ents[i].u.dn);
}

static const char *
dnmap_canon_key(const void *arg, size_t i)
{
	return (((const struct dnmap *)arg)->canons[i].key);
}

static const char *
dnmap_acct_key(const void *arg, size_t i)
{
	return (((const struct dnmap *)arg)->accts[i].login);
}

/* ---- Canonical (order-insensitive) DNs --------------------------------- */

static int
dnmap_comp_cmp_cb(const void *a, const void *b, void *arg)
{
	const struct dnmap_comp	*ca = a, *cb = b;
	const char		*s = arg;
	size_t			 n;
	int			 r;

	n = ca->len < cb->len ? ca->len : cb->len;
	if ((r = memcmp(s + ca->off, s + cb->off, n)) != 0)
		return (r);
	if (ca->len == cb->len)
		return (0);
	return (ca->len < cb->len ? -1 : 1);
}

/*
 * Write the canonical form of dn (len bytes) to out: its components (split
 * on unescaped '/', the leading '/' dropped) sorted bytewise, each written
 * as "/" + component.  comps must hold len + 1 entries and out len + 2
 * bytes.  Returns the canonical length, or -1 when dn ends in a dangling
 * '\': its last component would then escape the joining '/' and make two
 * different multisets join to the same text.
 */
static ssize_t
dnmap_canonical(const char *dn, size_t len, struct dnmap_comp *comps,
    char *out)
{
	size_t	 i, start, n = 0, w = 0;

	start = (len > 0 && dn[0] == '/') ? 1 : 0;
	i = start;
	while (i <= len) {
		if (i < len && dn[i] == '\\') {
			if (i + 1 == len)
				return (-1);
			/* The escaped byte belongs to the value: skip both. */
			i += 2;
			continue;
		}
		if (i == len || dn[i] == '/') {
			comps[n].off = (uint32_t)start;
			comps[n].len = (uint32_t)(i - start);
			n++;
			start = i + 1;
		}
		i++;
	}
	/* qsort_r's context is void *; the comparator only reads it. */
	qsort_r(comps, n, sizeof(*comps), dnmap_comp_cmp_cb,
	    (void *)(uintptr_t)dn);
	for (i = 0; i < n; i++) {
		out[w++] = '/';
		memcpy(out + w, dn + comps[i].off, comps[i].len);
		w += comps[i].len;
	}
	out[w] = '\0';
	return ((ssize_t)w);
}

/* ---- Validating and merging records ------------------------------------ */

/* No control bytes (and so no embedded NUL): these go into headers. */
static int
dnmap_text_ok(const char *s, size_t len)
{
	size_t	 i;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] == 0x7f)
			return (0);
	return (1);
}

/*
 * Length of the well-formed UTF-8 sequence (RFC 3629, section 4) at p, of
 * at most len bytes, or 0 when there is none: overlong forms, UTF-16
 * surrogates and code points past U+10FFFF are not UTF-8.
 */
static size_t
dnmap_utf8_seq(const unsigned char *p, size_t len)
{
	unsigned char	 lo = 0x80, hi = 0xbf;
	size_t		 n, i;

	if (p[0] < 0x80)
		return (1);
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		n = 3;
		if (p[0] == 0xe0)
			lo = 0xa0;
		else if (p[0] == 0xed)
			hi = 0x9f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		n = 4;
		if (p[0] == 0xf0)
			lo = 0x90;
		else if (p[0] == 0xf4)
			hi = 0x8f;
	} else
		return (0);
	if (len < n || p[1] < lo || p[1] > hi)
		return (0);
	for (i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return (0);
	return (n);
}

/* The value of the 4 hex digits at p, or -1. */
static long
dnmap_hex4(const char *p)
{
	long	 v = 0;
	int	 i;

	for (i = 0; i < 4; i++) {
		v <<= 4;
		if (p[i] >= '0' && p[i] <= '9')
			v |= p[i] - '0';
		else if (p[i] >= 'a' && p[i] <= 'f')
			v |= p[i] - 'a' + 10;
		else if (p[i] >= 'A' && p[i] <= 'F')
			v |= p[i] - 'A' + 10;
		else
			return (-1);
	}
	return (v);
}

/* Write the mark at out + *w (when out is not NULL) and count it in *w. */
static void
dnmap_put_mark(char *out, size_t *w)
{
	if (out != NULL)
		memcpy(out + *w, dnmap_bad_esc, sizeof(dnmap_bad_esc));
	*w += sizeof(dnmap_bad_esc);
}

/*
 * Walk the JSON text buf[0..len) and, inside strings, find each byte that
 * does not belong to a UTF-8 sequence and each \uXXXX escape of a lone
 * surrogate.  With out NULL, only count them; otherwise also copy buf to
 * out with each raw bad byte replaced by dnmap_bad_esc (6 bytes) and each
 * bad escape by the same 6 bytes.  Everything outside strings is left for
 * the JSON parser to judge.  Returns the count, and the length of the
 * marked text in *outlen.
 */
static size_t
dnmap_utf8_mark(const char *buf, size_t len, char *out, size_t *outlen)
{
	const unsigned char *p = (const unsigned char *)buf;
	size_t		 i = 0, w = 0, n, bad = 0;
	long		 v, v2;
	int		 in_str = 0;

	while (i < len) {
		n = 1;
		if (!in_str) {
			if (p[i] == '"')
				in_str = 1;
		} else if (p[i] == '"')
			in_str = 0;
		else if (p[i] == '\\' && i + 1 < len) {
			n = 2;
			if (p[i + 1] == 'u' && i + 6 <= len &&
			    (v = dnmap_hex4(buf + i + 2)) >= 0xd800 &&
			    v <= 0xdfff) {
				n = 6;
				if (v <= 0xdbff && i + 12 <= len &&
				    p[i + 6] == '\\' && p[i + 7] == 'u' &&
				    (v2 = dnmap_hex4(buf + i + 8)) >= 0xdc00 &&
				    v2 <= 0xdfff)
					n = 12;		/* a proper pair */
				else {
					bad++;
					dnmap_put_mark(out, &w);
					i += 6;
					continue;
				}
			}
		} else if (p[i] >= 0x80 &&
		    (n = dnmap_utf8_seq(p + i, len - i)) == 0) {
			bad++;
			dnmap_put_mark(out, &w);
			i++;
			continue;
		}
		if (n > len - i)
			n = len - i;
		if (out != NULL)
			memcpy(out + w, buf + i, n);
		w += n;
		i += n;
	}
	*outlen = w;
	return (bad);
}

/*
 * Is s[0..len) valid UTF-8 without the DNMAP_BAD_UTF8 mark?  jansson
 * only hands out well-formed UTF-8, so in practice this finds the marks;
 * the full check keeps it true whatever the parser.
 */
static int
dnmap_utf8_ok(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t		 i = 0, n;

	while (i < len) {
		if ((n = dnmap_utf8_seq(p + i, len - i)) == 0)
			return (0);
		if (n == 3 && memcmp(s + i, DNMAP_BAD_UTF8, 3) == 0)
			return (0);
		i += n;
	}
	return (1);
}

/* A CRIC role token: "group:<x>" or "site:<x>", x printable, no ':'. */
static int
dnmap_token_ok(const char *s, size_t len)
{
	size_t	 i, p;

	if (len > LIT_LEN("group:") && memcmp(s, "group:",
	    LIT_LEN("group:")) == 0)
		p = LIT_LEN("group:");
	else if (len > LIT_LEN("site:") && memcmp(s, "site:",
	    LIT_LEN("site:")) == 0)
		p = LIT_LEN("site:");
	else
		return (0);
	for (i = p; i < len; i++)
		if ((unsigned char)s[i] <= 0x20 ||
		    (unsigned char)s[i] >= 0x7f || s[i] == ':')
			return (0);
	return (1);
}

/* Role names become header names: [a-z0-9-], upper case folded. */
static int
dnmap_role_name(const char *s, char *out, size_t outlen)
{
	size_t	 i;

	if (*s == '\0' || strlen(s) >= outlen)
		return (-1);
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] >= 'A' && s[i] <= 'Z')
			out[i] = (char)(s[i] - 'A' + 'a');
		else if ((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '-')
			out[i] = s[i];
		else
			return (-1);
	}
	out[i] = '\0';
	return (0);
}

/* Is the token (len bytes) already one of the space-separated value's? */
static int
dnmap_has_token(const char *value, const char *tok, size_t len)
{
	const char	*p = value, *sp;
	size_t		 l;

	while (*p != '\0') {
		sp = strchr(p, ' ');
		l = sp ? (size_t)(sp - p) : strlen(p);
		if (l == len && memcmp(p, tok, len) == 0)
			return (1);
		if (sp == NULL)
			break;
		p = sp + 1;
	}
	return (0);
}

/* Append a token to a role of a, creating the role. Returns 0 or -1 (OOM). */
static int
dnmap_add_token(struct dnmap_acct *a, const char *role, const char *tok,
    size_t toklen)
{
	struct dnmap_role	*r = NULL, *nr;
	size_t			 i, vl;
	char			*nv;

	for (i = 0; i < a->nroles; i++)
		if (strcmp(a->roles[i].name, role) == 0) {
			r = &a->roles[i];
			break;
		}
	if (r == NULL) {
		if (a->nroles == a->rolecap) {
			size_t ncap = a->rolecap ? a->rolecap * 2 : 4;

			nr = reallocarray(a->roles, ncap, sizeof(*nr));
			if (nr == NULL)
				return (-1);
			a->roles = nr;
			a->rolecap = ncap;
		}
		r = &a->roles[a->nroles];
		if ((r->name = strdup(role)) == NULL)
			return (-1);
		if ((r->value = strdup("")) == NULL) {
			free(r->name);
			return (-1);
		}
		a->nroles++;
	}
	if (dnmap_has_token(r->value, tok, toklen))
		return (0);
	vl = strlen(r->value);
	if ((nv = realloc(r->value, vl + toklen + 2)) == NULL)
		return (-1);
	if (vl > 0)
		nv[vl++] = ' ';
	memcpy(nv + vl, tok, toklen);
	nv[vl + toklen] = '\0';
	r->value = nv;
	return (0);
}

/*
 * Merge one record's ROLES object into account a.  Malformed tokens and
 * roles are dropped and counted.  Returns 0, or -1 on out-of-memory.
 */
static int
dnmap_merge_roles(struct dnmap_acct *a, json_t *roles, struct dnmap_info *in)
{
	const char	*key, *tok;
	json_t		*arr, *t;
	char		 name[128];
	size_t		 i, len, keylen, good;

	json_object_keylen_foreach(roles, key, keylen, arr) {
		/* A key with an embedded NUL would be truncated: refuse it. */
		if (strlen(key) != keylen ||
		    dnmap_role_name(key, name, sizeof(name)) == -1 ||
		    !json_is_array(arr)) {
			in->dropped_roles++;
			continue;
		}
		good = 0;
		json_array_foreach(arr, i, t) {
			if (!json_is_string(t)) {
				in->dropped_tokens++;
				continue;
			}
			tok = json_string_value(t);
			len = json_string_length(t);
			if (!dnmap_token_ok(tok, len)) {
				in->dropped_tokens++;
				continue;
			}
			if (dnmap_add_token(a, name, tok, len) == -1)
				return (-1);
			good++;
		}
		if (good == 0)
			in->dropped_roles++;
	}
	return (0);
}

/* A required string field; NULL when missing, not a string or unsafe. */
static const char *
dnmap_str(json_t *rec, const char *field, int nonempty, const char **why)
{
	json_t		*v = json_object_get(rec, field);
	const char	*s;
	size_t		 len;

	if (v == NULL) {
		*why = "missing";
		return (NULL);
	}
	if (!json_is_string(v)) {
		*why = "not a string";
		return (NULL);
	}
	s = json_string_value(v);
	len = json_string_length(v);
	if (nonempty && len == 0) {
		*why = "empty";
		return (NULL);
	}
	if (!dnmap_text_ok(s, len)) {
		*why = "has a control character";
		return (NULL);
	}
	return (s);
}

/* ---- Loading ----------------------------------------------------------- */

/* Read the whole file; see dnmap_load() for what is refused. */
static char *
dnmap_read(const char *path, size_t *lenp, char *err, size_t errlen)
{
	struct stat	 st;
	char		*buf = NULL;
	size_t		 len = 0, cap;
	ssize_t		 r;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) ==
	    -1) {
		snprintf(err, errlen, "users file %s: %s", path,
		    strerror(errno));
		return (NULL);
	}
	if (fstat(fd, &st) == -1) {
		snprintf(err, errlen, "users file %s: %s", path,
		    strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "users file %s is not a regular file",
		    path);
		goto fail;
	}
	if (st.st_size > DNMAP_FILE_MAX) {
		snprintf(err, errlen, "users file %s is too large (%lld bytes, "
		    "at most %d)", path, (long long)st.st_size, DNMAP_FILE_MAX);
		goto fail;
	}
	/* One spare byte so that a file that grew meanwhile is noticed. */
	cap = (size_t)st.st_size + 1;
	if ((buf = malloc(cap)) == NULL) {
		snprintf(err, errlen, "users file %s: out of memory", path);
		goto fail;
	}
	for (;;) {
		r = read(fd, buf + len, cap - len);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			snprintf(err, errlen, "users file %s: %s", path,
			    strerror(errno));
			goto fail;
		}
		if (r == 0)
			break;
		len += (size_t)r;
		if (len == cap) {
			snprintf(err, errlen, "users file %s changed while "
			    "being read", path);
			goto fail;
		}
	}
	if (len == 0) {
		snprintf(err, errlen, "users file %s is empty", path);
		goto fail;
	}
	close(fd);
	*lenp = len;
	return (buf);
fail:
	free(buf);
	close(fd);
	return (NULL);
}

/* Count a skipped record and describe the first one. */
static void
dnmap_skip(struct dnmap_info *in, size_t recno, const char *field,
    const char *why)
{
	if (in->skipped++ > 0)
		return;
	if (field != NULL)
		snprintf(in->first_skip, sizeof(in->first_skip),
		    "record %zu: %s %s", recno, field, why);
	else
		snprintf(in->first_skip, sizeof(in->first_skip),
		    "record %zu: %s", recno, why);
}

/*
 * Leading or trailing spaces (issue 17).  Backends trim header values
 * (RFC 9110), so a signed DN or LOGIN with an edge space never verifies
 * there: such a record is skipped (trimming could make it some other
 * account's key).  NAME is only shown, so its spaces are trimmed instead:
 * *name and *namelen give the trimmed NAME.  Counted in edge_space, the
 * first described in first_edge.  Returns 0 (keep) or -1 (skip).
 */
static int
dnmap_edge_space(const char *const s[3], size_t recno, const char **name,
    size_t *namelen, struct dnmap_info *in)
{
	static const char *const fields[] = { "DN", "LOGIN", "NAME" };
	size_t		 i, len;
	int		 bad = -1;

	for (i = 0; i < 3 && bad == -1; i++) {
		len = strlen(s[i]);
		if (len > 0 && (s[i][0] == ' ' || s[i][len - 1] == ' '))
			bad = (int)i;
	}
	*name = s[2];
	*namelen = strlen(s[2]);
	if (bad == -1)
		return (0);
	if (in->edge_space++ == 0)
		snprintf(in->first_edge, sizeof(in->first_edge),
		    "record %zu: %s has leading or trailing spaces (%s)", recno,
		    fields[bad], bad == 2 ? "trimmed" : "record skipped");
	if (bad != 2)
		return (-1);
	while (**name == ' ') {
		(*name)++;
		(*namelen)--;
	}
	while (*namelen > 0 && (*name)[*namelen - 1] == ' ')
		(*namelen)--;
	return (0);
}

/*
 * Add one record.  Returns 0 (added or skipped) or -1 on out-of-memory.
 * recno is 1-based, for messages.
 */
static int
dnmap_add_record(struct dnmap *m, struct dnmap_tab *logins, json_t *rec,
    size_t recno, struct dnmap_info *in)
{
	static const char *const fields[] = { "DN", "LOGIN", "NAME" };
	const char		*s[3], *why = NULL, *name;
	json_t			*id, *roles;
	struct dnmap_acct	*a;
	struct dnmap_ent	*e;
	size_t			 i, pos, lpos, dnlen, namelen;

	if (!json_is_object(rec)) {
		dnmap_skip(in, recno, NULL, "is not a JSON object");
		return (0);
	}
	for (i = 0; i < 3; i++) {
		/* NAME may be empty: then no cms-authn-name is sent. */
		if ((s[i] = dnmap_str(rec, fields[i], i != 2, &why)) == NULL) {
			dnmap_skip(in, recno, fields[i], why);
			return (0);
		}
	}
	if (dnmap_edge_space(s, recno, &name, &namelen, in) == -1) {
		dnmap_skip(in, recno, NULL, "leading or trailing spaces in DN "
		    "or LOGIN");
		return (0);
	}
	if (s[0][0] != '/') {
		dnmap_skip(in, recno, "DN", "does not start with '/'");
		return (0);
	}
	/* They go into headers as UTF-8 text: refuse what is not. */
	for (i = 0; i < 3; i++) {
		if (!dnmap_utf8_ok(s[i], strlen(s[i]))) {
			if (in->bad_utf8++ == 0)
				snprintf(in->first_bad_utf8,
				    sizeof(in->first_bad_utf8),
				    "record %zu: %s is not valid UTF-8", recno,
				    fields[i]);
			dnmap_skip(in, recno, fields[i], "is not valid UTF-8");
			return (0);
		}
	}
	id = json_object_get(rec, "ID");
	if (!json_is_integer(id)) {
		dnmap_skip(in, recno, "ID",
		    id == NULL ? "missing" : "not an integer");
		return (0);
	}
	roles = json_object_get(rec, "ROLES");
	if (!json_is_object(roles)) {
		dnmap_skip(in, recno, "ROLES",
		    roles == NULL ? "missing" : "not an object");
		return (0);
	}

	/* The account of this LOGIN, created on first sight. */
	lpos = dnmap_tab_find(logins, s[1], strlen(s[1]), dnmap_acct_key, m);
	if (logins->slot[lpos] != 0)
		a = &m->accts[logins->slot[lpos] - 1];
	else
		a = NULL;

	dnlen = strlen(s[0]);
	pos = dnmap_tab_find(&m->exact, s[0], dnlen, dnmap_ent_key, m);
	if (m->exact.slot[pos] != 0) {
		e = &m->ents[m->exact.slot[pos] - 1];
		if (a == NULL || e->acct != (size_t)(a - m->accts)) {
			/* Which account a DN belongs to must not be a guess. */
			dnmap_skip(in, recno, "DN",
			    "is already mapped to another LOGIN");
			return (0);
		}
		/* A repeated record of the same account: merge its roles. */
		return (dnmap_merge_roles(a, roles, in));
	}

	if (a == NULL) {
		a = &m->accts[m->naccts];
		memset(a, 0, sizeof(*a));
		a->id = json_integer_value(id);
		if ((a->login = strdup(s[1])) == NULL ||
		    (a->name = strndup(name, namelen)) == NULL) {
			free(a->login);
			free(a->name);
			return (-1);
		}
		logins->slot[lpos] = ++m->naccts;
	}
	e = &m->ents[m->nents];
	memset(e, 0, sizeof(*e));
	if ((e->u.dn = strdup(s[0])) == NULL)
		return (-1);
	e->acct = (size_t)(a - m->accts);
	m->exact.slot[pos] = ++m->nents;
	return (dnmap_merge_roles(a, roles, in));
}

/*
 * Point every entry at its account's final data and build the
 * order-insensitive index.  Returns 0 or -1 on out-of-memory.
 */
static int
dnmap_finish(struct dnmap *m)
{
	struct dnmap_comp	*comps;
	struct dnmap_acct	*a;
	struct dnmap_ent	*e;
	struct dnmap_canon	*c;
	char			*key;
	size_t			 i, len, pos;
	ssize_t			 klen;

	if (dnmap_tab_init(&m->unordered, m->nents) == -1)
		return (-1);
	if ((m->canons = calloc(m->nents ? m->nents : 1, sizeof(*m->canons)))
	    == NULL)
		return (-1);
	for (i = 0; i < m->nents; i++) {
		e = &m->ents[i];
		a = &m->accts[e->acct];
		e->u.login = a->login;
		e->u.name = a->name;
		e->u.id = a->id;
		e->u.roles = a->roles;
		e->u.nroles = a->nroles;

		len = strlen(e->u.dn);
		if ((comps = calloc(len + 1, sizeof(*comps))) == NULL)
			return (-1);
		if ((key = malloc(len + 2)) == NULL) {
			free(comps);
			return (-1);
		}
		klen = dnmap_canonical(e->u.dn, len, comps, key);
		free(comps);
		if (klen == -1) {
			/* Malformed escape: reachable by exact lookup only. */
			free(key);
			continue;
		}
		pos = dnmap_tab_find(&m->unordered, key, (size_t)klen,
		    dnmap_canon_key, m);
		if (m->unordered.slot[pos] != 0) {
			c = &m->canons[m->unordered.slot[pos] - 1];
			/* Two accounts with permuted DNs: match neither. */
			if (c->ent != SIZE_MAX &&
			    m->ents[c->ent].acct != e->acct)
				c->ent = SIZE_MAX;
			free(key);
			continue;
		}
		c = &m->canons[m->ncanons];
		c->key = key;
		c->ent = i;
		m->unordered.slot[pos] = ++m->ncanons;
	}
	return (0);
}

/* Load the users file; see dnmap.h. */
struct dnmap *
dnmap_load(const char *path, struct dnmap_info *info, char *err,
    size_t errlen)
{
	struct dnmap_info	 local = { 0 };
	struct dnmap_info	*in = info ? info : &local;
	struct dnmap_tab	 logins = { NULL, 0 };
	struct dnmap		*m = NULL;
	json_error_t		 jerr;
	json_t			*root = NULL, *rec;
	char			*buf = NULL, *marked;
	size_t			 len = 0, n, i, nbad, mlen = 0;
	int			 ok = 0;

	memset(in, 0, sizeof(*in));
	if ((buf = dnmap_read(path, &len, err, errlen)) == NULL)
		goto done;
	/*
	 * Bytes that are not UTF-8 inside strings would make jansson refuse
	 * the whole file: mark them so that only their record goes.  A
	 * byte grows to 6, so measure first (the common case, nothing to
	 * mark, costs this one pass).
	 */
	if ((nbad = dnmap_utf8_mark(buf, len, NULL, &mlen)) > 0) {
		if (mlen > DNMAP_FILE_MAX) {
			snprintf(err, errlen, "users file %s: %zu places in "
			    "strings are not UTF-8; is it UTF-8 at all?", path,
			    nbad);
			goto done;
		}
		if ((marked = malloc(mlen)) == NULL)
			goto oom;
		dnmap_utf8_mark(buf, len, marked, &mlen);
		free(buf);
		buf = marked;
		len = mlen;
	}
	/* NUL inside strings is let through here and refused per record. */
	root = json_loadb(buf, len, JSON_ALLOW_NUL, &jerr);
	if (root == NULL) {
		snprintf(err, errlen, "users file %s: invalid JSON at line %d, "
		    "column %d (byte %d%s): %s", path, jerr.line, jerr.column,
		    jerr.position, nbad > 0 ? ", counting each byte that is "
		    "not UTF-8 as 6" : "", jerr.text);
		goto done;
	}
	if (!json_is_array(root)) {
		/* Without JSON_DECODE_ANY the only other top level is {}. */
		snprintf(err, errlen, "users file %s: top level is a JSON "
		    "object, not an array of user records", path);
		goto done;
	}
	n = json_array_size(root);
	in->records = n;
	if (n == 0) {
		snprintf(err, errlen, "users file %s has no user records "
		    "(empty array)", path);
		goto done;
	}

	if ((m = calloc(1, sizeof(*m))) == NULL ||
	    (m->ents = calloc(n, sizeof(*m->ents))) == NULL ||
	    (m->accts = calloc(n, sizeof(*m->accts))) == NULL ||
	    dnmap_tab_init(&m->exact, n) == -1 ||
	    dnmap_tab_init(&logins, n) == -1)
		goto oom;
	json_array_foreach(root, i, rec) {
		if (dnmap_add_record(m, &logins, rec, i + 1, in) == -1)
			goto oom;
	}
	in->users = m->naccts;
	in->dns = m->nents;
	if (m->nents == 0) {
		snprintf(err, errlen, "users file %s: no usable record, all "
		    "%zu skipped (first: %s)", path, in->skipped,
		    in->first_skip);
		goto done;
	}
	if (dnmap_finish(m) == -1)
		goto oom;
	ok = 1;
	goto done;
oom:
	snprintf(err, errlen, "users file %s: out of memory", path);
done:
	free(logins.slot);
	json_decref(root);
	free(buf);
	if (!ok) {
		dnmap_free(m);
		m = NULL;
	}
	return (m);
}

/* ---- Lookups ----------------------------------------------------------- */

/* Exact lookup; see dnmap.h. */
const struct dnmap_user *
dnmap_lookup(const struct dnmap *m, const char *dn)
{
	size_t	 pos;

	if (m == NULL || dn == NULL)
		return (NULL);
	pos = dnmap_tab_find(&m->exact, dn, strlen(dn), dnmap_ent_key, m);
	if (m->exact.slot[pos] == 0)
		return (NULL);
	return (&m->ents[m->exact.slot[pos] - 1].u);
}

/* Order-insensitive lookup; see dnmap.h. */
const struct dnmap_user *
dnmap_lookup_unordered(const struct dnmap *m, const char *dn)
{
	struct dnmap_comp	 scomps[DNMAP_STACK_DN];
	char			 skey[DNMAP_STACK_DN + 1];	/* len + 2 */
	struct dnmap_comp	*comps = scomps;
	const struct dnmap_user	*u = NULL;
	const struct dnmap_canon *c;
	char			*key = skey;
	size_t			 len, pos;
	ssize_t			 klen;

	if (m == NULL || dn == NULL)
		return (NULL);
	if ((u = dnmap_lookup(m, dn)) != NULL)
		return (u);
	len = strlen(dn);
	if (len >= DNMAP_STACK_DN) {
		if (len > UINT32_MAX - 2)
			return (NULL);
		comps = calloc(len + 1, sizeof(*comps));
		key = malloc(len + 2);
		if (comps == NULL || key == NULL)
			goto done;
	}
	if ((klen = dnmap_canonical(dn, len, comps, key)) == -1)
		goto done;
	pos = dnmap_tab_find(&m->unordered, key, (size_t)klen, dnmap_canon_key,
	    m);
	if (m->unordered.slot[pos] != 0) {
		c = &m->canons[m->unordered.slot[pos] - 1];
		if (c->ent != SIZE_MAX)
			u = &m->ents[c->ent].u;
	}
done:
	if (comps != scomps)
		free(comps);
	if (key != skey)
		free(key);
	return (u);
}

/* First record of a LOGIN, in file order; see dnmap.h. */
const struct dnmap_user *
dnmap_find_login(const struct dnmap *m, const char *login)
{
	size_t	 i;

	if (m == NULL || login == NULL)
		return (NULL);
	for (i = 0; i < m->nents; i++)
		if (strcmp(m->ents[i].u.login, login) == 0)
			return (&m->ents[i].u);
	return (NULL);
}

/* First record of an ID, in file order; see dnmap.h. */
const struct dnmap_user *
dnmap_find_id(const struct dnmap *m, long long id)
{
	size_t	 i;

	if (m == NULL)
		return (NULL);
	for (i = 0; i < m->nents; i++)
		if (m->ents[i].u.id == id)
			return (&m->ents[i].u);
	return (NULL);
}

/* Distinct DNs; see dnmap.h. */
size_t
dnmap_size(const struct dnmap *m)
{
	return (m ? m->nents : 0);
}

/* Distinct accounts; see dnmap.h. */
size_t
dnmap_users(const struct dnmap *m)
{
	return (m ? m->naccts : 0);
}

/* Free a map; see dnmap.h. */
void
dnmap_free(struct dnmap *m)
{
	size_t	 i, j;

	if (m == NULL)
		return;
	for (i = 0; i < m->nents; i++)
		free(m->ents[i].u.dn);
	for (i = 0; i < m->naccts; i++) {
		for (j = 0; j < m->accts[i].nroles; j++) {
			free(m->accts[i].roles[j].name);
			free(m->accts[i].roles[j].value);
		}
		free(m->accts[i].roles);
		free(m->accts[i].login);
		free(m->accts[i].name);
	}
	for (i = 0; i < m->ncanons; i++)
		free(m->canons[i].key);
	free(m->canons);
	free(m->ents);
	free(m->accts);
	free(m->exact.slot);
	free(m->unordered.slot);
	free(m);
}
