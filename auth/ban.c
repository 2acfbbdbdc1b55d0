/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * The legacy ban list: parse "dn: <DN>" / "login: <login>" lines into two
 * sorted, deduplicated arrays and answer "is this user banned?" with a
 * binary search.  A file with any line it does not understand is refused
 * as a whole, so that a typo never silently un-bans someone.  auth.c owns
 * reloading and swapping; this file does not log.
 */

#include <sys/types.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth/ban.h"
#include "auth/linefile.h"
#include "base/lit.h"

/* A sorted set of strings. */
struct ban_set {
	char		**v;
	size_t		 n;
	size_t		 cap;
};

struct ban {
	struct ban_set	 dns;
	struct ban_set	 logins;
	size_t		 nlegacy;	/* DNs normalised from legacy form */
	size_t		 legacy_line;	/* line of the first one */
};

static int
ban_add(struct ban_set *s, const char *val)
{
	char	**nv;
	size_t	 ncap;

	if (s->n == s->cap) {
		ncap = s->cap ? s->cap * 2 : 16;
		if ((nv = reallocarray(s->v, ncap, sizeof(*nv))) == NULL)
			return (-1);
		s->v = nv;
		s->cap = ncap;
	}
	if ((s->v[s->n] = strdup(val)) == NULL)
		return (-1);
	s->n++;
	return (0);
}

static int
ban_cmp_cb(const void *a, const void *b)
{
	return (strcmp(*(char *const *)a, *(char *const *)b));
}

/* Sort and drop duplicates, so that ban_size() counts entries once. */
static void
ban_sort(struct ban_set *s)
{
	size_t	 i, w;

	if (s->n == 0)
		return;
	qsort(s->v, s->n, sizeof(*s->v), ban_cmp_cb);
	for (i = 1, w = 1; i < s->n; i++) {
		if (strcmp(s->v[i], s->v[w - 1]) == 0) {
			free(s->v[i]);
			continue;
		}
		s->v[w++] = s->v[i];
	}
	s->n = w;
}

static int
ban_has(const struct ban_set *s, const char *val)
{
	if (val == NULL || s->n == 0)
		return (0);
	return (bsearch(&val, s->v, s->n, sizeof(*s->v), ban_cmp_cb) != NULL);
}

static void
ban_set_free(struct ban_set *s)
{
	size_t	 i;

	for (i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	s->v = NULL;
	s->n = s->cap = 0;
}

static int
ban_hex(char c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (c - 'A' + 10);
	return (-1);
}

/* Is s (NUL-terminated) well-formed UTF-8? */
static int
ban_utf8_ok(const unsigned char *s)
{
	size_t		 n, i;
	unsigned	 c;

	while (*s != '\0') {
		c = *s;
		if (c < 0x80)
			n = 0;
		else if (c >= 0xc2 && c <= 0xdf)
			n = 1;
		else if (c >= 0xe0 && c <= 0xef)
			n = 2;
		else if (c >= 0xf0 && c <= 0xf4)
			n = 3;
		else
			return (0);
		for (i = 1; i <= n; i++)
			if ((s[i] & 0xc0) != 0x80)
				return (0);
		s += n + 1;
	}
	return (1);
}

/*
 * A DN written the way OpenSSL's X509_NAME_oneline() writes it can never
 * equal gridfront's formatter (dn.h): non-ASCII comes as "\xHH" per byte
 * and a backslash in a value is left bare.  Rewrite those two into
 * gridfront's form (raw UTF-8, "\\").  Returns a new string when dn had
 * either (and the result is valid UTF-8), else NULL (also on OOM).  A '/'
 * inside a value cannot be told from an RDN boundary and stays as is.
 */
static char *
ban_normalise(const char *dn)
{
	char		*out, *o;
	const char	*p;
	int		 hi, lo, changed = 0;

	if ((out = malloc(strlen(dn) * 2 + 1)) == NULL)
		return (NULL);
	for (p = dn, o = out; *p != '\0'; p++) {
		if (*p != '\\') {
			*o++ = *p;
			continue;
		}
		if (p[1] == 'x' && (hi = ban_hex(p[2])) >= 0 &&
		    (lo = ban_hex(p[3])) >= 0 && hi >= 8) {
			*o++ = (char)(hi * 16 + lo);
			p += 3;
			changed = 1;
		} else if (p[1] == '\\' || p[1] == '/' || p[1] == '+' ||
		    p[1] == 'x') {
			/* Already one of gridfront's escapes. */
			*o++ = *p++;
			*o++ = *p;
		} else {
			*o++ = '\\';
			*o++ = '\\';
			changed = 1;
		}
	}
	*o = '\0';
	if (!changed || !ban_utf8_ok((unsigned char *)out)) {
		free(out);
		return (NULL);
	}
	return (out);
}

/*
 * Parse one line (NUL-terminated, newline removed) into b.  Returns 0, or
 * -1 with "path:lineno: reason" in err.
 */
static int
ban_line(void *arg, char *line, const char *path, size_t lineno,
    char *err, size_t errlen)
{
	struct ban	*b = arg;
	struct ban_set	*set;
	const char	*what;
	char		*p = line, *end, *norm;

	while (*p == ' ' || *p == '\t')
		p++;
	end = p + strlen(p);
	/* Trailing blanks, and the CR of a file written on Windows. */
	while (end > p && (end[-1] == ' ' || end[-1] == '\t' ||
	    end[-1] == '\r'))
		*--end = '\0';
	if (*p == '\0' || *p == '#')
		return (0);

	if (strncasecmp(p, "dn:", LIT_LEN("dn:")) == 0) {
		set = &b->dns;
		what = "DN";
		p += LIT_LEN("dn:");
	} else if (strncasecmp(p, "login:", LIT_LEN("login:")) == 0) {
		set = &b->logins;
		what = "login";
		p += LIT_LEN("login:");
	} else {
		snprintf(err, errlen, "%s:%zu: expected \"dn: <DN>\" or "
		    "\"login: <login>\"", path, lineno);
		return (-1);
	}
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\0') {
		snprintf(err, errlen, "%s:%zu: empty %s", path, lineno, what);
		return (-1);
	}
	for (end = p; *end != '\0'; end++)
		if ((unsigned char)*end < 0x20 || (unsigned char)*end == 0x7f) {
			snprintf(err, errlen, "%s:%zu: control character in "
			    "%s", path, lineno, what);
			return (-1);
		}
	if (set == &b->dns && *p != '/') {
		snprintf(err, errlen, "%s:%zu: DN must be in slash form "
		    "(/DC=.../CN=...)", path, lineno);
		return (-1);
	}
	if (ban_add(set, p) == -1) {
		snprintf(err, errlen, "%s:%zu: out of memory", path, lineno);
		return (-1);
	}
	/* A legacy-form DN is banned in gridfront's form as well. */
	if (set == &b->dns && (norm = ban_normalise(p)) != NULL) {
		if (b->nlegacy++ == 0)
			b->legacy_line = lineno;
		if (ban_add(set, norm) == -1) {
			free(norm);
			snprintf(err, errlen, "%s:%zu: out of memory", path,
			    lineno);
			return (-1);
		}
		free(norm);
	}
	return (0);
}

/* Load a ban list; see ban.h. */
struct ban *
ban_load(const char *path, char *err, size_t errlen)
{
	struct ban	*b;

	if ((b = calloc(1, sizeof(*b))) == NULL) {
		snprintf(err, errlen, "ban list %s: out of memory", path);
		return (NULL);
	}
	if (linefile_read(path, "ban list", ban_line, b, err, errlen) == -1) {
		ban_free(b);
		return (NULL);
	}
	ban_sort(&b->dns);
	ban_sort(&b->logins);
	return (b);
}

/* Is dn or login banned?  See ban.h. */
int
ban_match(const struct ban *b, const char *dn, const char *login)
{
	if (b == NULL)
		return (0);
	return (ban_has(&b->dns, dn) || ban_has(&b->logins, login));
}

/* Legacy-form DNs normalised at load; see ban.h. */
size_t
ban_legacy(const struct ban *b, size_t *first_line)
{
	if (b == NULL)
		return (0);
	if (first_line != NULL)
		*first_line = b->legacy_line;
	return (b->nlegacy);
}

/* Number of distinct entries; see ban.h. */
size_t
ban_size(const struct ban *b)
{
	return (b ? b->dns.n + b->logins.n : 0);
}

/* Free a ban list; see ban.h. */
void
ban_free(struct ban *b)
{
	if (b == NULL)
		return;
	ban_set_free(&b->dns);
	ban_set_free(&b->logins);
	free(b);
}
