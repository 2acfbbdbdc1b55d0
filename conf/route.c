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

#include <regex.h>
#include <string.h>

#include "conf/conf.h"
#include "conf/route.h"

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
 * First route of c matching path, in file order.  See route.h.
 */
const struct conf_route *
route_match(const struct conf *c, const char *path)
{
	const struct conf_route	*r;
	size_t			 i, plen = strlen(path);

	for (i = 0; i < c->nroutes; i++) {
		r = &c->routes[i];
		if (!r->is_regex) {
			if (prefix_match(r, path, plen))
				return (r);
			continue;
		}
		/* Every match of "^/lit..." starts with "/lit": test that
		 * with memcmp before paying for regexec(). */
		if (r->re_litlen > 0 && (plen < r->re_litlen ||
		    memcmp(path, r->path + 1, r->re_litlen) != 0))
			continue;
		if (regexec(&r->re, path, 0, NULL, 0) == 0)
			return (r);
	}
	return (NULL);
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
