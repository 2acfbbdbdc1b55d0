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
