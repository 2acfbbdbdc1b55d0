/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * Route lookup over a loaded conf: first match wins, in file order.  A
 * prefix route matches at a path-segment boundary; a route whose path
 * starts with '^' is a POSIX extended regular expression.  Paths given
 * here are already normalised by the HTTP layer.  Pure functions: no
 * allocation, safe from any thread.
 */

#ifndef CONF_ROUTE_H
#define CONF_ROUTE_H

#include <sys/types.h>
#include <sys/socket.h>

#include <stddef.h>

struct conf;
struct conf_route;

/*
 * Return the first route of c that matches the NUL-terminated, normalised
 * path (no query string), or NULL when none does.  A prefix "/a/b" (or
 * "/a/b/") matches "/a/b", "/a/b/" and "/a/b/..." but not "/a/bc".  The
 * returned route is borrowed from c and lives as long as c.
 */
const struct conf_route *route_match(const struct conf *c, const char *path);

/*
 * route_match() for a request with a query string: query (querylen
 * bytes, without the '?', need not be NUL-terminated; NULL for none)
 * is also tested against the query: regex of routes that have one, so a
 * route with query: matches only when its path and its query both do.
 * regexec() needs a C string, so the query is copied into the caller's
 * scratch (scratchlen bytes, more than querylen) the first time such a
 * route's path matches; a query that does not fit matches no query:
 * regex.  Routes without query: never touch scratch.
 */
const struct conf_route *route_match_query(const struct conf *c,
	    const char *path, const char *query, size_t querylen,
	    char *scratch, size_t scratchlen);

/*
 * 1 when s (len bytes) is a legal host[:port] for a Host header or a
 * redirect: a DNS name or IPv4 address (letters, digits, '-', '.'), or a
 * bracketed IPv6 literal, then optionally ':' and a port of 1 to 5
 * digits; 0 otherwise.
 */
int	 route_host_valid(const char *s, size_t len);

/* 1 when the method token m (len bytes) is in r's methods: list, or r
 * has none; 0 otherwise. */
int	 route_method_allowed(const struct conf_route *r, const char *m,
	    size_t len);

/*
 * 1 when origin (len bytes, the Origin header's value) is allowed by r's
 * allowed_origins, or, when that list is empty, equals "https://" plus
 * host (hostlen bytes; NULL when the request had none).  Scheme and host
 * compare case-insensitively; "null" and anything with another port or
 * scheme do not match.  0 otherwise.
 */
int	 route_origin_allowed(const struct conf_route *r, const char *origin,
	    size_t len, const char *host, size_t hostlen);

enum route_redirect_result {
	ROUTE_REDIRECT_OK = 0,
	ROUTE_REDIRECT_TOO_LONG,	/* out too small */
	ROUTE_REDIRECT_BAD_HOST		/* $host used, no valid Host */
};

/*
 * Expand r's redirect.to for a request: $1..$9 are the capture groups of
 * r's ^regex path matched against path (NUL-terminated), percent-encoded
 * where a byte is not safe in a URL path (so a capture can add neither
 * CR/LF, '?', '#', '\' nor a space); $host is host (hostlen bytes),
 * which must pass route_host_valid(); $$ is a '$'.  With keep_query,
 * query (querylen bytes, from the '?', may be NULL) is appended, joined
 * with '&' when the template has its own '?'.  Writes a NUL-terminated
 * Location into out (outlen bytes) and its length into *len.
 */
enum route_redirect_result route_redirect(const struct conf_route *r,
	    const char *path, const char *host, size_t hostlen,
	    const char *query, size_t querylen, char *out, size_t outlen,
	    size_t *len);

/*
 * Write the upstream path for path into out (outlen bytes, NUL-terminated).
 * Without a rewrite, or when rewrite.from does not match, path is copied.
 * "$1".."$9" in rewrite.to expand to capture groups ("$$" is a literal $).
 * Returns the length written, or -1 when out is too small.
 */
ssize_t	 route_rewrite(const struct conf_route *r, const char *path,
	    char *out, size_t outlen);

/*
 * Return 1 when sa (AF_INET or AF_INET6; v4-mapped v6 is treated as v4)
 * is inside one of r's allow_from blocks, or when allow_from is empty;
 * 0 otherwise.
 */
int	 route_addr_allowed(const struct conf_route *r,
	    const struct sockaddr *sa);

#endif /* CONF_ROUTE_H */
