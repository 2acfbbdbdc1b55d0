/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * CA namespace policies.  This file parses the IGTF ".namespaces" format
 * and the Globus ".signing_policy" EACL format strictly (any line it does
 * not understand refuses the file, so a typo never silently lifts a
 * restriction), indexes the policies of a CA directory by subject hash,
 * and checks the CA-issued certificates of a verified chain against them.
 * It does not verify signatures or paths (x509.c does, before calling
 * namespaces_check_chain()) and does not watch files (auth.c reloads).
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "auth/dn.h"
#include "auth/namespaces.h"

const char namespaces_err_denied[] = "issuer CA is not allowed to sign this DN";

/* Largest policy file read, in bytes (real ones are a few hundred). */
#define NS_FILE_MAX	1048576
/* Most tokens on one .namespaces rule line. */
#define NS_TOKENS	6

static const char ns_why_deny[] =
    "a DENY rule of the CA's .namespaces file matches this subject";
static const char ns_why_nopermit[] =
    "no PERMIT rule of the CA's .namespaces file matches this subject";
static const char ns_why_eacl[] =
    "no cond_subjects pattern of the CA's .signing_policy matches this "
    "subject";
static const char ns_why_norule[] =
    "the CA's policy file has no rule for this CA's name";
static const char ns_why_nofile[] =
    "the issuing CA has no .namespaces or .signing_policy file "
    "(auth.namespaces: require)";
static const char ns_why_format[] = "a DN of the chain cannot be formatted";

struct namespaces_rule {
	char		*issuer;	/* slash-form CA DN; NULL: SELF */
	int		 permit;	/* PERMIT (1) or DENY (0) */
	char		*glob;		/* EACL: '*' pattern */
	regex_t		 re;		/* .namespaces: anchored ERE */
	int		 has_re;
};

struct namespaces_policy {
	enum namespaces_fmt fmt;
	struct namespaces_rule *v;
	size_t		 n, cap;
};

struct namespaces_ent {
	char		 hash[9];
	struct namespaces_policy *ns;
	struct namespaces_policy *eacl;
};

struct namespaces_set {
	enum namespaces_mode mode;
	struct namespaces_ent *v;
	size_t		 n, cap;
};

/* ------------------------------------------------------------------ */
/* Rules                                                               */
/* ------------------------------------------------------------------ */

static struct namespaces_rule *
ns_rule_add(struct namespaces_policy *p)
{
	struct namespaces_rule *nv;
	size_t		 ncap;

	if (p->n == p->cap) {
		ncap = p->cap ? p->cap * 2 : 8;
		if ((nv = reallocarray(p->v, ncap, sizeof(*nv))) == NULL)
			return (NULL);
		p->v = nv;
		p->cap = ncap;
	}
	memset(&p->v[p->n], 0, sizeof(p->v[p->n]));
	return (&p->v[p->n++]);
}

void
namespaces_policy_free(struct namespaces_policy *p)
{
	size_t		 i;

	if (p == NULL)
		return;
	for (i = 0; i < p->n; i++) {
		free(p->v[i].issuer);
		free(p->v[i].glob);
		if (p->v[i].has_re)
			regfree(&p->v[i].re);
	}
	free(p->v);
	free(p);
}

/* Does s match the glob g, where '*' stands for any run of bytes? */
static int
ns_glob(const char *g, const char *s)
{
	const char	*star = NULL, *mark = NULL;

	while (*s != '\0') {
		if (*g == '*') {
			star = g++;
			mark = s;
		} else if (*g == *s) {
			g++;
			s++;
		} else if (star != NULL) {
			g = star + 1;
			s = ++mark;
		} else
			return (0);
	}
	while (*g == '*')
		g++;
	return (*g == '\0');
}

static int
ns_rule_matches(const struct namespaces_rule *r, const char *subject)
{
	if (r->has_re)
		return (regexec(&r->re, subject, 0, NULL, 0) == 0);
	return (ns_glob(r->glob, subject));
}

int
namespaces_policy_check(const struct namespaces_policy *p, const char *ca_dn,
    const char *ca_alt, const char *subject, const char **why)
{
	const struct namespaces_rule *r;
	size_t		 i;
	int		 any = 0, permitted = 0;

	for (i = 0; i < p->n; i++) {
		r = &p->v[i];
		if (r->issuer != NULL && strcmp(r->issuer, ca_dn) != 0 &&
		    (ca_alt == NULL || strcmp(r->issuer, ca_alt) != 0))
			continue;
		any = 1;
		if (!ns_rule_matches(r, subject))
			continue;
		if (!r->permit) {
			/* A DENY wins over any PERMIT, wherever it is. */
			*why = ns_why_deny;
			return (0);
		}
		permitted = 1;
	}
	if (!any) {
		*why = ns_why_norule;
		return (-1);
	}
	if (!permitted) {
		*why = p->fmt == NAMESPACES_FMT_NS ? ns_why_nopermit :
		    ns_why_eacl;
		return (0);
	}
	return (1);
}

/* ------------------------------------------------------------------ */
/* Parsing                                                             */
/* ------------------------------------------------------------------ */

static int
ns_blank(char c)
{
	return (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v');
}

/* A text with no NUL and no control byte but blanks and newlines. */
static int
ns_text_ok(const char *text, size_t len, const char *name, char *err,
    size_t errlen)
{
	size_t		 i, line = 1;

	for (i = 0; i < len; i++) {
		if (text[i] == '\n')
			line++;
		else if (((unsigned char)text[i] < 0x20 &&
		    !ns_blank(text[i])) || text[i] == 0x7f) {
			snprintf(err, errlen, "%s:%zu: control byte 0x%02x",
			    name, line, (unsigned char)text[i]);
			return (-1);
		}
	}
	return (0);
}

/* Compile pat as a whole-subject POSIX ERE into r. */
static int
ns_rule_regex(struct namespaces_rule *r, const char *pat, const char *name,
    size_t line, char *err, size_t errlen)
{
	char		*full, msg[128];
	size_t		 len = strlen(pat);
	int		 rc;

	if ((full = malloc(len + 5)) == NULL) {
		snprintf(err, errlen, "%s:%zu: out of memory", name, line);
		return (-1);
	}
	/* The pattern must match the whole subject DN, not a part of it. */
	snprintf(full, len + 5, "^(%s)$", pat);
	rc = regcomp(&r->re, full, REG_EXTENDED | REG_NOSUB);
	free(full);
	if (rc != 0) {
		regerror(rc, &r->re, msg, sizeof(msg));
		snprintf(err, errlen, "%s:%zu: bad Subject regular expression: "
		    "%s", name, line, msg);
		return (-1);
	}
	r->has_re = 1;
	return (0);
}

/*
 * Split one logical .namespaces line into tokens: bare words and "..."
 * strings (quotes removed, no escapes).  Writes NULs into line.  Returns
 * the number of tokens, or -1 (too many, or an unterminated string).
 */
static int
ns_split(char *line, char **tok, int *quoted)
{
	int		 n = 0;
	char		*p = line;

	for (;;) {
		while (ns_blank(*p))
			p++;
		if (*p == '\0')
			return (n);
		if (n == NS_TOKENS)
			return (-1);
		if (*p == '"') {
			tok[n] = ++p;
			quoted[n++] = 1;
			if ((p = strchr(p, '"')) == NULL)
				return (-1);
			*p++ = '\0';
			if (*p != '\0' && !ns_blank(*p))
				return (-1);
		} else {
			tok[n] = p;
			quoted[n++] = 0;
			while (*p != '\0' && !ns_blank(*p) && *p != '"')
				p++;
			if (*p == '"')
				return (-1);
			if (*p != '\0')
				*p++ = '\0';
		}
	}
}

/* One logical line of a .namespaces file; see namespaces_policy_parse(). */
static int
ns_parse_rule(struct namespaces_policy *p, char *line, const char *name,
    size_t lineno, char *err, size_t errlen)
{
	struct namespaces_rule *r;
	char		*tok[NS_TOKENS];
	int		 q[NS_TOKENS], n;

	n = ns_split(line, tok, q);
	if (n != NS_TOKENS || q[0] || q[1] || q[3] || q[4] || !q[5] ||
	    strcasecmp(tok[0], "TO") != 0 ||
	    strcasecmp(tok[1], "Issuer") != 0 ||
	    (strcasecmp(tok[3], "PERMIT") != 0 &&
	    strcasecmp(tok[3], "DENY") != 0) ||
	    strcasecmp(tok[4], "Subject") != 0 ||
	    (!q[2] && strcasecmp(tok[2], "SELF") != 0)) {
		snprintf(err, errlen, "%s:%zu: expected TO Issuer "
		    "\"<DN>\"|SELF PERMIT|DENY Subject \"<regex>\"", name,
		    lineno);
		return (-1);
	}
	if (q[2] && tok[2][0] != '/') {
		snprintf(err, errlen, "%s:%zu: Issuer DN must be in slash form "
		    "(/DC=.../CN=...)", name, lineno);
		return (-1);
	}
	if (tok[5][0] == '\0') {
		snprintf(err, errlen, "%s:%zu: empty Subject pattern", name,
		    lineno);
		return (-1);
	}
	if ((r = ns_rule_add(p)) == NULL ||
	    (q[2] && (r->issuer = strdup(tok[2])) == NULL)) {
		snprintf(err, errlen, "%s:%zu: out of memory", name, lineno);
		return (-1);
	}
	r->permit = strcasecmp(tok[3], "PERMIT") == 0;
	return (ns_rule_regex(r, tok[5], name, lineno, err, errlen));
}

/*
 * The .namespaces format: '#' comment lines, blank lines, and rules
 * "TO Issuer <"DN"|SELF> <PERMIT|DENY> Subject "<regex>"" (keywords in any
 * case), a rule possibly continued over lines ending in '\'.
 */
static int
ns_parse_ns(struct namespaces_policy *p, char *buf, const char *name,
    char *err, size_t errlen)
{
	char		*line = buf, *nl, *w, *logical;
	size_t		 lineno = 0, start;
	size_t		 cap = strlen(buf) + 1, len;
	int		 ret = -1;

	if ((logical = malloc(cap)) == NULL) {
		snprintf(err, errlen, "%s: out of memory", name);
		return (-1);
	}
	while (line != NULL && *line != '\0') {
		/* Join physical lines ending in a backslash. */
		start = lineno + 1;
		len = 0;
		for (;;) {
			lineno++;
			nl = strchr(line, '\n');
			w = nl != NULL ? nl : line + strlen(line);
			while (w > line && (w[-1] == '\r' || w[-1] == ' ' ||
			    w[-1] == '\t'))
				w--;
			if (w > line && w[-1] == '\\') {
				memcpy(logical + len, line,
				    (size_t)(w - 1 - line));
				len += (size_t)(w - 1 - line);
				logical[len++] = ' ';
				line = nl != NULL ? nl + 1 : NULL;
				if (line == NULL || *line == '\0') {
					snprintf(err, errlen, "%s:%zu: file "
					    "ends in a continuation line",
					    name, lineno);
					goto done;
				}
				continue;
			}
			memcpy(logical + len, line, (size_t)(w - line));
			len += (size_t)(w - line);
			line = nl != NULL ? nl + 1 : NULL;
			break;
		}
		logical[len] = '\0';
		for (w = logical; ns_blank(*w); w++)
			;
		if (*w == '\0' || *w == '#')
			continue;
		if (ns_parse_rule(p, w, name, start, err, errlen) == -1)
			goto done;
	}
	ret = 0;
done:
	free(logical);
	return (ret);
}

/* An EACL token: a bare word or a '...' string (quotes removed). */
struct ns_tok {
	char		*s;
	int		 quoted;
	size_t		 line;
};

/* Next EACL token from *pp; 0 at end of text, -1 on a bad string. */
static int
ns_eacl_next(char **pp, size_t *line, struct ns_tok *t)
{
	char		*p = *pp;

	for (;;) {
		while (ns_blank(*p) || *p == '\n') {
			if (*p == '\n')
				(*line)++;
			p++;
		}
		if (*p != '#')
			break;
		while (*p != '\0' && *p != '\n')
			p++;
	}
	if (*p == '\0') {
		*pp = p;
		return (0);
	}
	t->line = *line;
	if (*p == '\'') {
		t->s = ++p;
		t->quoted = 1;
		while (*p != '\0' && *p != '\'' && *p != '\n')
			p++;
		if (*p != '\'')
			return (-1);
		*p++ = '\0';
		if (*p != '\0' && !ns_blank(*p) && *p != '\n')
			return (-1);
	} else {
		t->s = p;
		t->quoted = 0;
		while (*p != '\0' && !ns_blank(*p) && *p != '\n' && *p != '\'')
			p++;
		if (*p == '\'')
			return (-1);
		if (*p == '\n') {
			*p++ = '\0';
			(*line)++;
		} else if (*p != '\0')
			*p++ = '\0';
	}
	*pp = p;
	return (1);
}

/*
 * Split a cond_subjects value into its "..." patterns and add one PERMIT
 * rule for issuer per pattern.
 */
static int
ns_eacl_subjects(struct namespaces_policy *p, const char *issuer, char *v,
    const char *name, size_t line, char *err, size_t errlen)
{
	struct namespaces_rule *r;
	char		*e;
	int		 n = 0;

	for (;;) {
		while (ns_blank(*v))
			v++;
		if (*v == '\0')
			break;
		if (*v != '"' || (e = strchr(v + 1, '"')) == NULL ||
		    (e[1] != '\0' && !ns_blank(e[1]))) {
			snprintf(err, errlen, "%s:%zu: cond_subjects must be "
			    "a list of \"...\" patterns", name, line);
			return (-1);
		}
		*e = '\0';
		if (v[1] == '\0') {
			snprintf(err, errlen, "%s:%zu: empty cond_subjects "
			    "pattern", name, line);
			return (-1);
		}
		if ((r = ns_rule_add(p)) == NULL ||
		    (r->issuer = strdup(issuer)) == NULL ||
		    (r->glob = strdup(v + 1)) == NULL) {
			snprintf(err, errlen, "%s:%zu: out of memory", name,
			    line);
			return (-1);
		}
		r->permit = 1;
		n++;
		v = e + 1;
	}
	if (n == 0) {
		snprintf(err, errlen, "%s:%zu: cond_subjects lists no "
		    "pattern", name, line);
		return (-1);
	}
	return (0);
}

/*
 * The EACL format, as the IGTF ships it: blocks of
 *   access_id_CA X509 '<CA DN>'
 *   pos_rights globus CA:sign
 *   cond_subjects globus '"<glob>" "<glob>" ...'
 * in this order, '#' comments anywhere a token may start.
 */
static int
ns_parse_eacl(struct namespaces_policy *p, char *buf, const char *name,
    char *err, size_t errlen)
{
	struct ns_tok	 t[3];
	char		*pp = buf, *issuer = NULL;
	size_t		 line = 1;
	int		 i, r, ret = -1;

	for (;;) {
		/* Statements are three tokens: keyword, type, value. */
		for (i = 0; i < 3; i++) {
			r = ns_eacl_next(&pp, &line, &t[i]);
			if (r == 0 && i == 0)
				goto end;
			if (r <= 0) {
				snprintf(err, errlen, "%s:%zu: %s", name, line,
				    r == 0 ? "statement cut short" :
				    "unterminated or misplaced '...' string");
				goto done;
			}
		}
		if (strcmp(t[0].s, "access_id_CA") == 0) {
			if (t[0].quoted || strcmp(t[1].s, "X509") != 0 ||
			    !t[2].quoted || t[2].s[0] != '/') {
				snprintf(err, errlen, "%s:%zu: expected "
				    "access_id_CA X509 '<CA DN>'", name,
				    t[0].line);
				goto done;
			}
			free(issuer);
			if ((issuer = strdup(t[2].s)) == NULL) {
				snprintf(err, errlen, "%s: out of memory",
				    name);
				goto done;
			}
			/* pos_rights must follow. */
			for (i = 0; i < 3; i++)
				if ((r = ns_eacl_next(&pp, &line, &t[i])) <= 0)
					break;
			if (r == -1)
				goto badstr;
			if (i < 3 || t[0].quoted ||
			    strcmp(t[0].s, "pos_rights") != 0 ||
			    strcmp(t[1].s, "globus") != 0 ||
			    strcmp(t[2].s, "CA:sign") != 0) {
				snprintf(err, errlen, "%s:%zu: expected "
				    "pos_rights globus CA:sign after "
				    "access_id_CA", name, line);
				goto done;
			}
			for (i = 0; i < 3; i++)
				if ((r = ns_eacl_next(&pp, &line, &t[i])) <= 0)
					break;
			if (r == -1)
				goto badstr;
			if (i < 3 || t[0].quoted ||
			    strcmp(t[0].s, "cond_subjects") != 0 ||
			    strcmp(t[1].s, "globus") != 0 || !t[2].quoted) {
				snprintf(err, errlen, "%s:%zu: expected "
				    "cond_subjects globus '\"...\"' after "
				    "pos_rights", name, line);
				goto done;
			}
			if (ns_eacl_subjects(p, issuer, t[2].s, name,
			    t[2].line, err, errlen) == -1)
				goto done;
			continue;
		}
		snprintf(err, errlen, "%s:%zu: expected access_id_CA, got "
		    "'%.40s'", name, t[0].line, t[0].s);
		goto done;
	}
badstr:
	snprintf(err, errlen, "%s:%zu: unterminated or misplaced '...' string",
	    name, line);
	goto done;
end:
	ret = 0;
done:
	free(issuer);
	return (ret);
}

struct namespaces_policy *
namespaces_policy_parse(enum namespaces_fmt fmt, const char *text,
    size_t len, const char *name, char *err, size_t errlen)
{
	struct namespaces_policy *p;
	char		*buf;
	int		 rc;

	if (memchr(text, '\0', len) != NULL) {
		snprintf(err, errlen, "%s: NUL byte in file", name);
		return (NULL);
	}
	if (ns_text_ok(text, len, name, err, errlen) == -1)
		return (NULL);
	if ((p = calloc(1, sizeof(*p))) == NULL ||
	    (buf = malloc(len + 1)) == NULL) {
		free(p);
		snprintf(err, errlen, "%s: out of memory", name);
		return (NULL);
	}
	memcpy(buf, text, len);
	buf[len] = '\0';
	p->fmt = fmt;
	if (fmt == NAMESPACES_FMT_NS)
		rc = ns_parse_ns(p, buf, name, err, errlen);
	else
		rc = ns_parse_eacl(p, buf, name, err, errlen);
	free(buf);
	if (rc == 0 && p->n == 0) {
		snprintf(err, errlen, "%s: no rule in the file", name);
		rc = -1;
	}
	if (rc == -1) {
		namespaces_policy_free(p);
		return (NULL);
	}
	return (p);
}

/* ------------------------------------------------------------------ */
/* A CA directory's policies                                           */
/* ------------------------------------------------------------------ */

/* "<8 hex>.namespaces" or "<8 hex>.signing_policy"; sets *fmt. */
static int
ns_policy_name(const char *name, enum namespaces_fmt *fmt)
{
	size_t		 i;

	for (i = 0; i < 8; i++)
		if (!((name[i] >= '0' && name[i] <= '9') ||
		    (name[i] >= 'a' && name[i] <= 'f')))
			return (0);
	if (strcmp(name + 8, ".namespaces") == 0)
		*fmt = NAMESPACES_FMT_NS;
	else if (strcmp(name + 8, ".signing_policy") == 0)
		*fmt = NAMESPACES_FMT_EACL;
	else
		return (0);
	return (1);
}

static char *
ns_read(const char *path, const char *name, size_t *lenp, char *err,
    size_t errlen)
{
	struct stat	 st;
	FILE		*fp;
	char		*buf = NULL;
	size_t		 n;

	if ((fp = fopen(path, "re")) == NULL) {
		snprintf(err, errlen, "%s: %s", name, strerror(errno));
		return (NULL);
	}
	if (fstat(fileno(fp), &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size > NS_FILE_MAX) {
		snprintf(err, errlen, "%s: not a regular file of at most %d "
		    "bytes", name, NS_FILE_MAX);
		goto done;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		snprintf(err, errlen, "%s: out of memory", name);
		goto done;
	}
	n = fread(buf, 1, (size_t)st.st_size + 1, fp);
	if (ferror(fp) || n > (size_t)st.st_size) {
		snprintf(err, errlen, "%s: read error or file changed while "
		    "being read", name);
		free(buf);
		buf = NULL;
		goto done;
	}
	*lenp = n;
done:
	fclose(fp);
	return (buf);
}

static struct namespaces_ent *
ns_ent_get(struct namespaces_set *s, const char *hash)
{
	struct namespaces_ent *nv;
	size_t		 i, ncap;

	for (i = 0; i < s->n; i++)
		if (strcmp(s->v[i].hash, hash) == 0)
			return (&s->v[i]);
	if (s->n == s->cap) {
		ncap = s->cap ? s->cap * 2 : 32;
		if ((nv = reallocarray(s->v, ncap, sizeof(*nv))) == NULL)
			return (NULL);
		s->v = nv;
		s->cap = ncap;
	}
	memset(&s->v[s->n], 0, sizeof(s->v[s->n]));
	memcpy(s->v[s->n].hash, hash, 8);
	return (&s->v[s->n++]);
}

static int
ns_ent_cmp_cb(const void *a, const void *b)
{
	return (strcmp(((const struct namespaces_ent *)a)->hash,
	    ((const struct namespaces_ent *)b)->hash));
}

struct namespaces_set *
namespaces_load(const char *ca_path, enum namespaces_mode mode,
    size_t *nfiles, char *err, size_t errlen)
{
	struct namespaces_set *s;
	struct namespaces_ent *e;
	struct namespaces_policy *p;
	enum namespaces_fmt fmt;
	DIR		*d;
	struct dirent	*de;
	char		 path[PATH_MAX], hash[9], *buf;
	size_t		 len = 0, count = 0;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return (NULL);
	}
	s->mode = mode;
	if ((d = opendir(ca_path)) == NULL) {
		snprintf(err, errlen, "CA directory %s: %s", ca_path,
		    strerror(errno));
		free(s);
		return (NULL);
	}
	while ((de = readdir(d)) != NULL) {
		if (!ns_policy_name(de->d_name, &fmt))
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", ca_path,
		    de->d_name) >= sizeof(path)) {
			snprintf(err, errlen, "%s: path too long", de->d_name);
			goto fail;
		}
		if ((buf = ns_read(path, de->d_name, &len, err, errlen)) ==
		    NULL)
			goto fail;
		p = namespaces_policy_parse(fmt, buf, len, de->d_name, err,
		    errlen);
		free(buf);
		if (p == NULL)
			goto fail;
		memcpy(hash, de->d_name, 8);
		hash[8] = '\0';
		if ((e = ns_ent_get(s, hash)) == NULL) {
			namespaces_policy_free(p);
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
		if (fmt == NAMESPACES_FMT_NS)
			e->ns = p;
		else
			e->eacl = p;
		count++;
	}
	closedir(d);
	if (s->n > 1)
		qsort(s->v, s->n, sizeof(*s->v), ns_ent_cmp_cb);
	if (nfiles != NULL)
		*nfiles = count;
	return (s);
fail:
	closedir(d);
	namespaces_free(s);
	return (NULL);
}

void
namespaces_free(struct namespaces_set *s)
{
	size_t		 i;

	if (s == NULL)
		return;
	for (i = 0; i < s->n; i++) {
		namespaces_policy_free(s->v[i].ns);
		namespaces_policy_free(s->v[i].eacl);
	}
	free(s->v);
	free(s);
}

/* The policy that speaks for the CA ca, or NULL when it has none. */
static const struct namespaces_policy *
ns_policy_of(const struct namespaces_set *s, X509 *ca)
{
	struct namespaces_ent key, *e;
	unsigned long	 h;
	int		 ok = 0;

	h = X509_NAME_hash_ex(X509_get_subject_name(ca), NULL, NULL, &ok);
	if (!ok) {
		ERR_clear_error();
		return (NULL);
	}
	memset(&key, 0, sizeof(key));
	snprintf(key.hash, sizeof(key.hash), "%08lx", h & 0xffffffffUL);
	e = bsearch(&key, s->v, s->n, sizeof(*s->v), ns_ent_cmp_cb);
	if (e == NULL)
		return (NULL);
	/*
	 * Both files: .namespaces wins.  It is the newer IGTF format, can
	 * say DENY and is what Globus consults first when it is present.
	 */
	return (e->ns != NULL ? e->ns : e->eacl);
}

/* Check the certificate x that the CA ca issued; 0 or -1 with *detail. */
static int
ns_check_one(const struct namespaces_set *s, X509 *ca, X509 *x,
    const char **detail)
{
	const struct namespaces_policy *p;
	char		*ca_dn = NULL, *ca_alt = NULL, *subj = NULL;
	int		 ret = -1;

	if ((p = ns_policy_of(s, ca)) == NULL) {
		if (s->mode != NAMESPACES_REQUIRE)
			return (0);
		*detail = ns_why_nofile;
		return (-1);
	}
	ca_dn = dn_format_alloc(X509_get_subject_name(ca));
	ca_alt = X509_NAME_oneline(X509_get_subject_name(ca), NULL, 0);
	subj = dn_format_alloc(X509_get_subject_name(x));
	if (ca_dn == NULL || subj == NULL) {
		*detail = ns_why_format;
		goto done;
	}
	if (namespaces_policy_check(p, ca_dn, ca_alt, subj, detail) == 1)
		ret = 0;
done:
	free(ca_dn);
	OPENSSL_free(ca_alt);
	free(subj);
	ERR_clear_error();
	return (ret);
}

int
namespaces_check_chain(const struct namespaces_set *s,
    STACK_OF(X509) *verified, const char **detail)
{
	X509		*x;
	int		 i, n;

	if (s == NULL || s->mode == NAMESPACES_IGNORE)
		return (0);
	n = sk_X509_num(verified);
	/* The last one is the trust anchor, which no CA of ours issued. */
	for (i = 0; i + 1 < n; i++) {
		x = sk_X509_value(verified, i);
		/* A proxy is issued by its user, not by a CA. */
		if (X509_get_extension_flags(x) & EXFLAG_PROXY)
			continue;
		if (ns_check_one(s, sk_X509_value(verified, i + 1), x,
		    detail) == -1)
			return (-1);
	}
	return (0);
}
