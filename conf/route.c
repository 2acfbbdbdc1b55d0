/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * Per-request route lookup, upstream path rewriting and the allow_from
 * check, over the routes conf_load() compiled.  This is the request hot
 * path: nothing here allocates, takes a lock of ours or writes to the
 * conf, so every worker thread can call it at once.  (POSIX regexec() may
 * allocate and lock inside libc; route_match() runs it only after a cheap
 * literal-prefix test has passed.)  Called by proxy/ once per request,
 * with the path already normalised by proxy/http.c.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <ctype.h>
#include <regex.h>
#include <string.h>
#include <strings.h>

#include "conf/conf.h"
#include "conf/route.h"

static int	put(char *, size_t, size_t *, const char *, size_t);

/* Does the prefix route r match path (of length plen)? */
static int
prefix_match(const struct conf_route *r, const char *path, size_t plen)
{
	size_t	 n = r->pathlen;

	/*
	 * "/a/b/" and "/a/b" both mean "the /a/b subtree": compare without
	 * the trailing slash, then require a segment boundary, so that
	 * "/a/bc" does not match.  "/" reduces to "", which matches every
	 * path.
	 */
	if (n > 0 && r->path[n - 1] == '/')
		n--;
	if (plen < n || memcmp(path, r->path, n) != 0)
		return (0);
	return (path[n] == '\0' || path[n] == '/');
}

/*
 * Does r's query: regex match the query (qlen bytes, not terminated)?
 * *copied says whether scratch already holds it as a C string.
 */
static int
query_match(const struct conf_route *r, const char *q, size_t qlen,
    char *scratch, size_t scratchlen, int *copied)
{
	if (!*copied) {
		if (scratch == NULL || qlen >= scratchlen)
			return (0);
		if (qlen > 0)
			memcpy(scratch, q, qlen);
		scratch[qlen] = '\0';
		*copied = 1;
	}
	return (regexec(&r->query_re, scratch, 0, NULL, 0) == 0);
}

/*
 * First route of c matching path and query, in file order.  See route.h.
 */
const struct conf_route *
route_match_query(const struct conf *c, const char *path, const char *query,
    size_t querylen, char *scratch, size_t scratchlen)
{
	const struct conf_route	*r;
	size_t			 i, plen = strlen(path);
	int			 copied = 0;

	if (query == NULL)
		querylen = 0;
	for (i = 0; i < c->nroutes; i++) {
		r = &c->routes[i];
		if (!r->is_regex) {
			if (!prefix_match(r, path, plen))
				continue;
		} else {
			/* Every match of "^/lit..." starts with "/lit": test
			 * that with memcmp before paying for regexec(). */
			if (r->re_litlen > 0 && (plen < r->re_litlen ||
			    memcmp(path, r->path + 1, r->re_litlen) != 0))
				continue;
			if (regexec(&r->re, path, 0, NULL, 0) != 0)
				continue;
		}
		if ((r->flags & CONF_ROUTE_F_QUERY) && !query_match(r, query,
		    querylen, scratch, scratchlen, &copied))
			continue;
		return (r);
	}
	return (NULL);
}

/*
 * First route of c matching path, with no query string.  See route.h.
 */
const struct conf_route *
route_match(const struct conf *c, const char *path)
{
	char	 empty[1];

	return (route_match_query(c, path, NULL, 0, empty, sizeof(empty)));
}

/* Legal host[:port].  See route.h. */
int
route_host_valid(const char *s, size_t len)
{
	size_t	 i = 0, ndig;

	if (len == 0)
		return (0);
	if (s[0] == '[') {
		/* An IPv6 literal: hex digits, ':' and '.' (v4 tail). */
		for (i = 1; i < len && s[i] != ']'; i++)
			if (!isxdigit((unsigned char)s[i]) && s[i] != ':' &&
			    s[i] != '.')
				return (0);
		if (i >= len || i == 1)
			return (0);
		i++;
	} else {
		for (; i < len && s[i] != ':'; i++)
			if (!isalnum((unsigned char)s[i]) && s[i] != '-' &&
			    s[i] != '.')
				return (0);
		if (i == 0 || s[0] == '.' || s[0] == '-')
			return (0);
	}
	if (i == len)
		return (1);
	if (s[i] != ':')
		return (0);
	for (ndig = 0, i++; i < len; i++, ndig++)
		if (!isdigit((unsigned char)s[i]))
			return (0);
	return (ndig >= 1 && ndig <= 5);
}

/* Is method m in r's allow-list?  See route.h. */
int
route_method_allowed(const struct conf_route *r, const char *m, size_t len)
{
	size_t	 i;

	if (!(r->flags & CONF_ROUTE_F_METHODS))
		return (1);
	for (i = 0; i < r->nmethods; i++)
		if (strlen(r->methods[i]) == len &&
		    memcmp(r->methods[i], m, len) == 0)
			return (1);
	return (0);
}

/* Is the Origin allowed on r?  See route.h. */
int
route_origin_allowed(const struct conf_route *r, const char *origin,
    size_t len, const char *host, size_t hostlen)
{
	static const char	 https[] = "https://";
	const size_t		 hl = sizeof(https) - 1;
	size_t			 i;

	for (i = 0; i < r->nallowed_origins; i++)
		if (strlen(r->allowed_origins[i]) == len &&
		    strncasecmp(r->allowed_origins[i], origin, len) == 0)
			return (1);
	if (r->nallowed_origins > 0 || host == NULL)
		return (0);
	return (len == hl + hostlen && strncasecmp(origin, https, hl) == 0 &&
	    strncasecmp(origin + hl, host, hostlen) == 0);
}

/* May byte ch of a capture go into a Location path as it is?  RFC 3986
 * pchar (unreserved, sub-delims, ':' and '@'), '/' and an existing
 * escape's '%'; everything else is percent-encoded. */
static int
redirect_safe(unsigned char ch)
{
	return (isalnum(ch) || strchr("-._~!$&'()*+,;=:@/%", ch) != NULL) &&
	    ch != '\0';
}

/* Append n bytes of s to out at *o percent-encoding unsafe ones. */
static int
put_encoded(char *out, size_t outlen, size_t *o, const char *s, size_t n)
{
	static const char	 hex[] = "0123456789ABCDEF";
	char			 e[3];
	size_t			 i;

	for (i = 0; i < n; i++) {
		if (redirect_safe((unsigned char)s[i])) {
			if (put(out, outlen, o, s + i, 1) == -1)
				return (-1);
			continue;
		}
		e[0] = '%';
		e[1] = hex[(unsigned char)s[i] >> 4];
		e[2] = hex[(unsigned char)s[i] & 0xf];
		if (put(out, outlen, o, e, 3) == -1)
			return (-1);
	}
	return (0);
}

/* Expand redirect.to.  See route.h. */
enum route_redirect_result
route_redirect(const struct conf_route *r, const char *path, const char *host,
    size_t hostlen, const char *query, size_t querylen, char *out,
    size_t outlen, size_t *len)
{
	regmatch_t	 m[10];
	const char	*p;
	size_t		 o = 0;
	int		 d, has_q = 0, matched = 0;

	if (outlen == 0)
		return (ROUTE_REDIRECT_TOO_LONG);
	/* conf_load() compiled a redirect route's regex with its groups. */
	if (r->is_regex && regexec(&r->re, path, 10, m, 0) == 0)
		matched = 1;
	for (p = r->redirect_to; *p != '\0'; p++) {
		if (*p == '?')
			has_q = 1;
		if (p[0] == '$' && p[1] == '$') {
			if (put(out, outlen, &o, "$", 1) == -1)
				return (ROUTE_REDIRECT_TOO_LONG);
			p++;
			continue;
		}
		if (p[0] == '$' && p[1] >= '1' && p[1] <= '9') {
			d = p[1] - '0';
			if (matched && m[d].rm_so != -1 &&
			    put_encoded(out, outlen, &o, path + m[d].rm_so,
			    (size_t)(m[d].rm_eo - m[d].rm_so)) == -1)
				return (ROUTE_REDIRECT_TOO_LONG);
			p++;
			continue;
		}
		if (strncmp(p, "$host", 5) == 0) {
			if (host == NULL || !route_host_valid(host, hostlen))
				return (ROUTE_REDIRECT_BAD_HOST);
			if (put(out, outlen, &o, host, hostlen) == -1)
				return (ROUTE_REDIRECT_TOO_LONG);
			p += 4;
			continue;
		}
		if (put(out, outlen, &o, p, 1) == -1)
			return (ROUTE_REDIRECT_TOO_LONG);
	}
	/* A bare "?" carries nothing worth keeping. */
	if (r->redirect_keep_query && query != NULL && querylen > 1) {
		if (has_q) {
			if (put(out, outlen, &o, "&", 1) == -1 ||
			    put(out, outlen, &o, query + 1, querylen - 1) == -1)
				return (ROUTE_REDIRECT_TOO_LONG);
		} else if (put(out, outlen, &o, query, querylen) == -1)
			return (ROUTE_REDIRECT_TOO_LONG);
	}
	out[o] = '\0';
	*len = o;
	return (ROUTE_REDIRECT_OK);
}

/* Append n bytes of s to out at *o, keeping room for the NUL. */
static int
put(char *out, size_t outlen, size_t *o, const char *s, size_t n)
{
	if (n >= outlen - *o)
		return (-1);
	memcpy(out + *o, s, n);
	*o += n;
	return (0);
}

/*
 * Upstream path for path under route r.  See route.h.  The rewrite is a
 * substitution: the first match of rewrite.from is replaced by the
 * expansion of rewrite.to and the text around the match is kept, so an
 * anchored "^...$" regex replaces the whole path and "^/old/" -> "/new/"
 * swaps a prefix.
 */
ssize_t
route_rewrite(const struct conf_route *r, const char *path, char *out,
    size_t outlen)
{
	regmatch_t	 m[10];
	const char	*p;
	size_t		 o = 0, plen = strlen(path);
	int		 d;

	if (outlen == 0)
		return (-1);
	if (!r->has_rewrite ||
	    regexec(&r->rewrite_re, path, 10, m, 0) != 0) {
		if (put(out, outlen, &o, path, plen) == -1)
			return (-1);
		out[o] = '\0';
		return ((ssize_t)o);
	}

	if (put(out, outlen, &o, path, (size_t)m[0].rm_so) == -1)
		return (-1);
	for (p = r->rewrite_to; *p != '\0'; p++) {
		if (p[0] == '$' && p[1] == '$') {
			if (put(out, outlen, &o, "$", 1) == -1)
				return (-1);
			p++;
			continue;
		}
		if (p[0] == '$' && p[1] >= '1' && p[1] <= '9') {
			/* conf_load() checked the group exists; one that
			 * took no part in the match expands to nothing. */
			d = p[1] - '0';
			if (m[d].rm_so != -1 && put(out, outlen, &o,
			    path + m[d].rm_so,
			    (size_t)(m[d].rm_eo - m[d].rm_so)) == -1)
				return (-1);
			p++;
			continue;
		}
		if (put(out, outlen, &o, p, 1) == -1)
			return (-1);
	}
	if (put(out, outlen, &o, path + m[0].rm_eo,
	    plen - (size_t)m[0].rm_eo) == -1)
		return (-1);
	out[o] = '\0';
	return ((ssize_t)o);
}

/* Is the address a (4 or 16 bytes of family fam) inside block b? */
static int
cidr_contains(const struct conf_cidr *b, int fam, const uint8_t *a)
{
	int	 whole, rest;

	if (b->family != fam)
		return (0);
	whole = b->prefix / 8;
	rest = b->prefix % 8;
	if (memcmp(a, b->addr, (size_t)whole) != 0)
		return (0);
	if (rest == 0)
		return (1);
	return (((a[whole] ^ b->addr[whole]) & (0xff << (8 - rest))) == 0);
}

/*
 * Is sa allowed by r's allow_from?  See route.h.
 */
int
route_addr_allowed(const struct conf_route *r, const struct sockaddr *sa)
{
	const struct sockaddr_in	*s4;
	const struct sockaddr_in6	*s6;
	const uint8_t			*a;
	int				 fam;
	size_t				 i;

	if (r->nallow_from == 0)
		return (1);
	if (sa->sa_family == AF_INET) {
		s4 = (const struct sockaddr_in *)(const void *)sa;
		a = (const uint8_t *)&s4->sin_addr;
		fam = AF_INET;
	} else if (sa->sa_family == AF_INET6) {
		s6 = (const struct sockaddr_in6 *)(const void *)sa;
		a = (const uint8_t *)&s6->sin6_addr;
		fam = AF_INET6;
		/* A dual-stack socket shows IPv4 clients as ::ffff:a.b.c.d;
		 * judge them by their IPv4 address. */
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			a += 12;
			fam = AF_INET;
		}
	} else
		return (0);

	for (i = 0; i < r->nallow_from; i++)
		if (cidr_contains(&r->allow_from[i], fam, a))
			return (1);
	return (0);
}
