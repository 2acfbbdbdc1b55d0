/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * The legacy ban list: parse "dn: <DN>" / "login: <login>" lines into two
 * sorted, deduplicated arrays and answer "is this user banned?" with a
 * binary search.  A file with any line it does not understand is refused
 * as a whole, so that a typo never silently un-bans someone.  auth.c owns
 * reloading and swapping; this file does not log.
 */

#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "auth/ban.h"
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

/*
 * Parse one line (NUL-terminated, newline removed) into b.  Returns 0, or
 * -1 with "path:lineno: reason" in err.
 */
static int
ban_line(struct ban *b, char *line, const char *path, size_t lineno,
    char *err, size_t errlen)
{
	struct ban_set	*set;
	const char	*what;
	char		*p = line, *end;

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
	return (0);
}

/* Load a ban list; see ban.h. */
struct ban *
ban_load(const char *path, char *err, size_t errlen)
{
	struct stat	 st;
	struct ban	*b = NULL;
	FILE		*fp = NULL;
	char		*line = NULL;
	size_t		 cap = 0, lineno = 0;
	ssize_t		 n;
	int		 fd, ok = 0;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) ==
	    -1) {
		snprintf(err, errlen, "ban list %s: %s", path, strerror(errno));
		goto done;
	}
	if (fstat(fd, &st) == -1) {
		snprintf(err, errlen, "ban list %s: %s", path, strerror(errno));
		close(fd);
		goto done;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "ban list %s is not a regular file",
		    path);
		close(fd);
		goto done;
	}
	if ((fp = fdopen(fd, "r")) == NULL) {
		snprintf(err, errlen, "ban list %s: %s", path, strerror(errno));
		close(fd);
		goto done;
	}
	if ((b = calloc(1, sizeof(*b))) == NULL) {
		snprintf(err, errlen, "ban list %s: out of memory", path);
		goto done;
	}
	errno = 0;
	while ((n = getline(&line, &cap, fp)) != -1) {
		lineno++;
		if (n > 0 && line[n - 1] == '\n')
			line[--n] = '\0';
		if (strlen(line) != (size_t)n) {
			snprintf(err, errlen, "%s:%zu: NUL byte in line", path,
			    lineno);
			goto done;
		}
		if (ban_line(b, line, path, lineno, err, errlen) == -1)
			goto done;
	}
	if (ferror(fp)) {
		snprintf(err, errlen, "ban list %s: %s", path,
		    strerror(errno ? errno : EIO));
		goto done;
	}
	ban_sort(&b->dns);
	ban_sort(&b->logins);
	ok = 1;
done:
	free(line);
	if (fp != NULL)
		fclose(fp);
	if (!ok) {
		ban_free(b);
		b = NULL;
	}
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
