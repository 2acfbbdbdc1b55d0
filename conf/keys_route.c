/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * The route-rule handlers of the directive table: the routes: list and,
 * per route, path (prefix or regex), rewrite, backends (URLs checked,
 * IP literals parsed, host names left to proxy/resolve.c; shared between
 * routes, each with its Host line built), require_fqan, allow_from, and
 * host_header, query, methods, allowed_origins and redirect, plus the
 * checks that look at two keys of one route.  The table in keys.c points at
 * these; they read values through keys_value.c and walk a route's nested
 * mappings through the callbacks keys.c put in the load context, so this
 * file never calls up into the engine.  Per-request route matching is
 * conf/route.c, not here.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <arpa/inet.h>

#include <ctype.h>

#include <regex.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "base/lit.h"
#include "base/xalloc.h"
#include "conf/conf.h"
#include "conf/keys_ctx.h"
#include "conf/keys_route.h"
#include "conf/keys_value.h"
#include "conf/route.h"
#include "conf/yaml.h"

static const char auth_none_pointless[] =
    "has no effect with 'auth: none'; remove it or change auth";
static const char auth_optional_fqan[] =
    "cannot be enforced with 'auth: optional': a client without a "
    "certificate gets through; use 'auth: cert'";
static const char auth_host_fqan[] =
    "cannot be enforced with 'auth: host' or 'host_or_cert': a listed "
    "host has no VOMS roles; use 'auth: cert'";


/* True when a prefix path has segments a normalised request never has. */
static int
path_unnormalised(const char *p)
{
	size_t	 len = strlen(p);

	return (strstr(p, "//") != NULL || strstr(p, "/./") != NULL ||
	    strstr(p, "/../") != NULL ||
	    (len >= 2 && strcmp(p + len - 2, "/.") == 0) ||
	    (len >= 3 && strcmp(p + len - 3, "/..") == 0));
}

/* routes[].path: "/prefix/" or "^regex".  See keys_route.h. */
int
keys_route_path(struct keys_ctx *ctx, const struct yaml_node *n, void *base)
{
	struct conf_route *r = base;
	char		 msg[160];
	char		*s;
	int		 rc;

	if (keys_get_string(ctx, n, &s) == -1)
		return (-1);
	keys_set_string(&r->path, s);
	r->pathlen = strlen(s);

	/* The name is for logs and metric labels: the path, shortened. */
	if (r->pathlen < sizeof(r->name))
		memcpy(r->name, s, r->pathlen + 1);
	else {
		memcpy(r->name, s, sizeof(r->name) - 4);
		memcpy(r->name + sizeof(r->name) - 4, "...", 4);
	}

	if (s[0] == '^') {
		if (keys_regex_sane(s, msg, sizeof(msg)) == -1) {
			keys_err(ctx, n, "'%.80s': %s", s, msg);
			return (-1);
		}
		/* REG_NOSUB: matching needs a yes or no, not the groups. */
		if ((rc = regcomp(&r->re, s, REG_EXTENDED | REG_NOSUB)) != 0) {
			regerror(rc, &r->re, msg, sizeof(msg));
			keys_err(ctx, n, "'%.80s' is not a valid regular "
			    "expression: %s", s, msg);
			return (-1);
		}
		/* is_regex doubles as "re is compiled" for conf_put(). */
		r->is_regex = 1;
		r->re_litlen = keys_regex_literal_prefix(s);
		return (0);
	}
	if (s[0] != '/') {
		keys_err(ctx, n, "'%.80s' must start with '/' (a prefix) or "
		    "'^' (a regular expression)", s);
		return (-1);
	}
	if (path_unnormalised(s)) {
		keys_err(ctx, n, "'%.80s' can never match: request paths are "
		    "normalised, without '//', '.' or '..' segments", s);
		return (-1);
	}
	return (0);
}

/* Check rewrite.to against a from regex with nsub groups. */
static int
check_rewrite_to(struct keys_ctx *ctx, const struct yaml_node *n,
    const char *from, const char *to, size_t nsub)
{
	const char	*p;
	int		 d;

	if (strchr(to, ' ') != NULL) {
		keys_err(ctx, n, "'%.80s' must not contain spaces", to);
		return (-1);
	}
	/* An anchored from replaces the start of the path, so the result
	 * starts with to; it must still look like a path. */
	if (from[0] == '^' && to[0] != '/' && to[0] != '$') {
		keys_err(ctx, n, "'%.80s' must start with '/': it replaces "
		    "the start of the path", to);
		return (-1);
	}
	for (p = to; *p != '\0'; p++) {
		if (*p != '$')
			continue;
		if (p[1] == '$') {
			p++;
			continue;
		}
		if (p[1] < '1' || p[1] > '9') {
			keys_err(ctx, n, "'$' must be followed by a digit 1-9, "
			    "or doubled ('$$') for a literal '$'");
			return (-1);
		}
		d = p[1] - '0';
		if ((size_t)d > nsub) {
			keys_err(ctx, n, "'%.80s' uses $%d but rewrite.from "
			    "has %zu capture group%s", to, d, nsub,
			    nsub == 1 ? "" : "s");
			return (-1);
		}
		p++;
	}
	return (0);
}

/* routes[].rewrite: {from: REGEX, to: REPLACEMENT}.  See keys_route.h. */
int
keys_route_rewrite(struct keys_ctx *ctx, const struct yaml_node *n, void *base)
{
	struct conf_route	*r = base;
	const struct yaml_node	*from, *to;
	char			 msg[160];
	size_t			 saved;
	int			 rc, ret;

	if (ctx->walk(ctx, KEYS_SCOPE_ROUTE_REWRITE, n, r) == -1 ||
	    r->rewrite_from == NULL || r->rewrite_to == NULL)
		return (-1);
	from = yaml_map_get(n, "from");
	to = yaml_map_get(n, "to");

	saved = keys_where_key(ctx, "from");
	if (keys_regex_sane(r->rewrite_from, msg, sizeof(msg)) == -1) {
		keys_err(ctx, from, "'%.80s': %s", r->rewrite_from, msg);
		keys_where_pop(ctx, saved);
		return (-1);
	}
	rc = regcomp(&r->rewrite_re, r->rewrite_from, REG_EXTENDED);
	if (rc != 0) {
		regerror(rc, &r->rewrite_re, msg, sizeof(msg));
		keys_err(ctx, from, "'%.80s' is not a valid regular "
		    "expression: %s", r->rewrite_from, msg);
	}
	keys_where_pop(ctx, saved);
	if (rc != 0)
		return (-1);
	/* has_rewrite doubles as "rewrite_re is compiled" for conf_put(). */
	r->has_rewrite = 1;

	saved = keys_where_key(ctx, "to");
	ret = check_rewrite_to(ctx, to, r->rewrite_from, r->rewrite_to,
	    r->rewrite_re.re_nsub);
	keys_where_pop(ctx, saved);
	return (ret);
}

/* Parse one backend URL; returns the shared backend or NULL (reported).
 * name is the route's tls_server_name (NULL: none); https backends with
 * different names are different backends (pools, sessions). */
static struct conf_backend *
backend_get(struct keys_ctx *ctx, const struct yaml_node *n, const char *name)
{
	struct conf		*c = ctx->conf;
	struct conf_backend	*b;
	char			 host[256], port[8], why[160];
	unsigned char		 tmp[16];
	const char		*s = keys_scalar_text(n), *hp;
	size_t			 i, hl;
	int			 v6, tls;

	if (s == NULL) {
		keys_err_expected(ctx, n, "an http://host:port URL");
		return (NULL);
	}
	tls = strncmp(s, "https://", 8) == 0;
	if (strncmp(s, "http://", 7) != 0 && strncmp(s, "https://", 8) != 0) {
		keys_err(ctx, n, "'%.80s' is not an http://host:port or "
		    "https://host:port URL", s);
		return (NULL);
	}
	hp = s + (tls ? 8 : 7);
	if (strpbrk(hp, "/?#@") != NULL) {
		keys_err(ctx, n, "'%.80s': a backend URL has no path, query "
		    "or user part; write %s://host:port", s,
		    tls ? "https" : "http");
		return (NULL);
	}
	if (keys_split_hostport(hp, host, sizeof(host), port, sizeof(port), &v6,
	    why, sizeof(why)) == -1) {
		keys_err(ctx, n, "'%.80s': %s", s, why);
		return (NULL);
	}
	if (name == NULL)
		name = host;
	/* Identical URLs (verified under the same name) share one backend,
	 * and so one pool and one health state. */
	for (i = 0; i < c->nbackends; i++)
		if (strcmp(c->backends[i].url, s) == 0 && (!tls ||
		    strcmp(c->backends[i].tls_name, name) == 0))
			return (&c->backends[i]);

	/* keys_route_list() sized the array for every URL in the file, so the
	 * pointers routes keep into it never move. */
	if (c->nbackends >= ctx->backends_cap)
		abort();
	b = &c->backends[c->nbackends];
	/*
	 * An IP literal is its own address.  A host name is left to
	 * proxy/resolve.c, which looks up all its A and AAAA records
	 * (through upstream.resolvers) when a generation is built and
	 * again in the background; conf/ never asks DNS.
	 */
	if (v6 || inet_pton(AF_INET, host, tmp) == 1) {
		if (keys_resolve(host, port, v6, &b->addr, &b->addrlen, why,
		    sizeof(why)) == -1) {
			keys_err(ctx, n, "'%.80s': %s", s, why);
			return (NULL);
		}
		b->literal = 1;
	}
	b->line = n->line;
	b->col = n->col;
	b->id = (unsigned)c->nbackends;
	b->url = xstrdup(s);
	/* The host as written ("[::1]" keeps its brackets) suits Host:. */
	hl = v6 ? strlen(host) + 2 : strlen(host);
	b->host = xcalloc(1, hl + 1);
	memcpy(b->host, v6 ? hp : host, hl);
	b->port = xstrdup(port);
	/* Host: is the URL's authority exactly as written (issue 13). */
	b->host_line_len = LIT_LEN("Host: \r\n") + strlen(hp);
	b->host_line = xcalloc(1, b->host_line_len + 1);
	snprintf(b->host_line, b->host_line_len + 1, "Host: %s\r\n", hp);
	b->tls = tls;
	if (tls)
		b->tls_name = xstrdup(name);
	c->nbackends++;
	return (b);
}

/* routes[].backends: [http://host:port, ...].  See keys_route.h. */
int
keys_route_backends(struct keys_ctx *ctx, const struct yaml_node *n, void *base)
{
	struct conf_route	*r = base;
	struct conf_backend	*b;
	size_t			 i, j, saved;
	int			 ret = 0;

	if (n->n == 0) {
		keys_err(ctx, n, "expected a list of http://host:port URLs, "
		    "got an empty list");
		return (-1);
	}
	r->backends = xcalloc(n->n, sizeof(struct conf_backend *));
	for (i = 0; i < n->n; i++) {
		saved = keys_where_index(ctx, i);
		b = backend_get(ctx, n->items[i], r->tls_server_name);
		for (j = 0; b != NULL && j < r->nbackends; j++)
			if (r->backends[j] == b)
				break;
		if (b == NULL)
			ret = -1;
		else if (j < r->nbackends) {
			keys_err(ctx, n->items[i], "'%s' is listed twice in "
			    "this route", b->url);
			ret = -1;
		} else
			r->backends[r->nbackends++] = b;
		keys_where_pop(ctx, saved);
	}
	return (ret);
}

/* A list key must not be empty: "allow_from: []" reads as "nobody" to some
 * and "everybody" to others. */
static int
list_nonempty(struct keys_ctx *ctx, const struct yaml_node *n)
{
	if (n->n > 0)
		return (0);
	keys_err(ctx, n, "an empty list has no effect; remove the key");
	return (-1);
}

/* Judges one item s of a string list, given the items kept so far;
 * reports its own error.  Returns 0 to keep s, -1 to refuse it. */
typedef int (*item_check)(struct keys_ctx *, const struct yaml_node *,
    const char *s, char *const *kept, size_t nkept);

/*
 * Read the non-empty list n of strings into a fresh array *out, counted
 * in *nout: each item is a string that check() accepts.  Every item is
 * read, so every bad one is reported.  Returns 0, or -1 if any was bad;
 * the strings kept belong to *out either way.
 */
static int
string_list(struct keys_ctx *ctx, const struct yaml_node *n, char ***out,
    size_t *nout, item_check check)
{
	char	*s;
	size_t	 i, saved;
	int	 ret = 0;

	if (list_nonempty(ctx, n) == -1)
		return (-1);
	*out = xcalloc(n->n, sizeof(**out));
	for (i = 0; i < n->n; i++) {
		saved = keys_where_index(ctx, i);
		if (keys_get_string(ctx, n->items[i], &s) == -1)
			ret = -1;
		else if (check(ctx, n->items[i], s, *out, *nout) == -1) {
			free(s);
			ret = -1;
		} else
			(*out)[(*nout)++] = s;
		keys_where_pop(ctx, saved);
	}
	return (ret);
}

static int
fqan_check(struct keys_ctx *ctx, const struct yaml_node *item, const char *s,
    char *const *kept, size_t nkept)
{
	(void)kept;
	(void)nkept;
	if (s[0] == '/')
		return (0);
	keys_err(ctx, item, "'%.80s' is not an FQAN: FQANs start with '/', "
	    "e.g. /cms/Role=production", s);
	return (-1);
}

/* routes[].require_fqan: [/cms/Role=production, ...].  See keys_route.h. */
int
keys_route_require_fqan(struct keys_ctx *ctx, const struct yaml_node *n,
    void *base)
{
	struct conf_route	*r = base;

	return (string_list(ctx, n, &r->require_fqan, &r->nrequire_fqan,
	    fqan_check));
}

/* routes[].allow_from: [10.0.0.0/8, 2001:db8::/32, 192.0.2.7, ...]
 * (see keys_route.h) */
int
keys_route_allow_from(struct keys_ctx *ctx, const struct yaml_node *n,
    void *base)
{
	struct conf_route	*r = base;
	char			 why[200];
	const char		*s;
	size_t			 i, saved;
	int			 ret = 0;

	if (list_nonempty(ctx, n) == -1)
		return (-1);
	r->allow_from = xcalloc(n->n, sizeof(*r->allow_from));
	for (i = 0; i < n->n; i++) {
		saved = keys_where_index(ctx, i);
		if ((s = keys_scalar_text(n->items[i])) == NULL) {
			keys_err_expected(ctx, n->items[i], "an address or "
			    "CIDR block such as 10.0.0.0/8");
			ret = -1;
		} else if (keys_parse_cidr(s, &r->allow_from[r->nallow_from],
		    why, sizeof(why)) == -1) {
			keys_err(ctx, n->items[i], "%s", why);
			ret = -1;
		} else
			r->nallow_from++;
		keys_where_pop(ctx, saved);
	}
	return (ret);
}

/* ------------------------------------------------------------------ */
/* Issue 13: upstream Host, query/methods/origin matchers, redirect     */
/* ------------------------------------------------------------------ */

/* routes[].host_header: backend | client | host[:port].  See
 * keys_route.h. */
int
keys_route_host_header(struct keys_ctx *ctx, const struct yaml_node *n,
    void *base)
{
	struct conf_route *r = base;
	const char	*s = keys_scalar_text(n);
	size_t		 len;

	free(r->host_literal);
	r->host_literal = NULL;
	free(r->host_line);
	r->host_line = NULL;
	if (s != NULL && strcmp(s, "backend") == 0) {
		r->host_header = CONF_HOST_BACKEND;
		return (0);
	}
	if (s != NULL && strcmp(s, "client") == 0) {
		r->host_header = CONF_HOST_CLIENT;
		return (0);
	}
	if (s == NULL || !route_host_valid(s, strlen(s))) {
		keys_err(ctx, n, "'%.80s' is not backend, client or a host "
		    "name with an optional :port (letters, digits, '-', "
		    "'.', or an [IPv6] literal)", s != NULL ? s : "");
		return (-1);
	}
	r->host_header = CONF_HOST_LITERAL;
	r->host_literal = xstrdup(s);
	len = LIT_LEN("Host: \r\n") + strlen(s);
	r->host_line = xcalloc(1, len + 1);
	snprintf(r->host_line, len + 1, "Host: %s\r\n", s);
	r->host_line_len = len;
	return (0);
}

/* routes[].query: REGEX.  See keys_route.h. */
int
keys_route_query(struct keys_ctx *ctx, const struct yaml_node *n, void *base)
{
	struct conf_route *r = base;
	char		 msg[160];
	char		*s;
	int		 rc;

	if (keys_get_string(ctx, n, &s) == -1)
		return (-1);
	keys_set_string(&r->query, s);
	if (keys_regex_sane(s, msg, sizeof(msg)) == -1) {
		keys_err(ctx, n, "'%.80s': %s", s, msg);
		return (-1);
	}
	if ((rc = regcomp(&r->query_re, s, REG_EXTENDED | REG_NOSUB)) != 0) {
		regerror(rc, &r->query_re, msg, sizeof(msg));
		keys_err(ctx, n, "'%.80s' is not a valid regular expression: "
		    "%s", s, msg);
		return (-1);
	}
	/* The flag doubles as "query_re is compiled" for conf_put(). */
	r->flags |= CONF_ROUTE_F_QUERY;
	return (0);
}

/* An HTTP method token as gridfront forwards them: upper-case letters,
 * digits, '-' and '_' (RFC 9110 9.1 methods are case-sensitive). */
static int
method_token(const char *s)
{
	size_t	 i;

	for (i = 0; s[i] != '\0'; i++)
		if (!isupper((unsigned char)s[i]) &&
		    !isdigit((unsigned char)s[i]) && s[i] != '-' &&
		    s[i] != '_')
			return (0);
	return (i > 0 && i <= 20);
}

static int
method_check(struct keys_ctx *ctx, const struct yaml_node *item,
    const char *s, char *const *kept, size_t nkept)
{
	size_t	 j;

	if (!method_token(s)) {
		keys_err(ctx, item, "'%.80s' is not an HTTP method; methods "
		    "are upper case, e.g. GET", s);
		return (-1);
	}
	for (j = 0; j < nkept; j++)
		if (strcmp(kept[j], s) == 0) {
			keys_err(ctx, item, "'%s' is listed twice", s);
			return (-1);
		}
	return (0);
}

/* routes[].methods: [GET, HEAD, ...].  See keys_route.h. */
int
keys_route_methods(struct keys_ctx *ctx, const struct yaml_node *n, void *base)
{
	struct conf_route *r = base;
	size_t		 i, o, len = LIT_LEN("Allow: \r\n");

	if (string_list(ctx, n, &r->methods, &r->nmethods,
	    method_check) == -1)
		return (-1);
	for (i = 0; i < r->nmethods; i++)
		len += strlen(r->methods[i]) + 2;
	/* The 405's Allow line (RFC 9110 15.5.6), built once. */
	r->allow_line = xcalloc(1, len + 1);
	o = (size_t)snprintf(r->allow_line, len + 1, "Allow: ");
	for (i = 0; i < r->nmethods; i++)
		o += (size_t)snprintf(r->allow_line + o, len + 1 - o, "%s%s",
		    i > 0 ? ", " : "", r->methods[i]);
	(void)snprintf(r->allow_line + o, len + 1 - o, "\r\n");
	r->flags |= CONF_ROUTE_F_METHODS;
	return (0);
}

/* Is s an origin, scheme "://" host[:port] and nothing else? */
static int
origin_valid(const char *s)
{
	const char	*h;

	if (strncmp(s, "https://", 8) == 0)
		h = s + 8;
	else if (strncmp(s, "http://", 7) == 0)
		h = s + 7;
	else
		return (0);
	return (route_host_valid(h, strlen(h)));
}

static int
origin_check(struct keys_ctx *ctx, const struct yaml_node *item,
    const char *s, char *const *kept, size_t nkept)
{
	(void)kept;
	(void)nkept;
	if (origin_valid(s))
		return (0);
	/* "null" is what sandboxed and privacy-redirected pages send:
	 * anyone can produce it. */
	keys_err(ctx, item, "'%.80s' is not an origin: write "
	    "scheme://host[:port] with no path, e.g. https://cmsweb.cern.ch%s",
	    s, strcmp(s, "null") == 0 ? " ('null' can be sent by any page and "
	    "is never allowed)" : "");
	return (-1);
}

/* routes[].allowed_origins: [https://host, ...].  See keys_route.h. */
int
keys_route_allowed_origins(struct keys_ctx *ctx, const struct yaml_node *n,
    void *base)
{
	struct conf_route *r = base;

	return (string_list(ctx, n, &r->allowed_origins, &r->nallowed_origins,
	    origin_check));
}

/*
 * Check a redirect template: the scheme and host of the Location must
 * come from the config, never from the request, so the result cannot
 * point anywhere the operator did not write.  An absolute template is
 * http(s)://host[:port] (or the request's own $host) followed by '/',
 * '?' or nothing; a relative one starts with '/' and a literal that is
 * not another '/' (so no substitution can make it "//elsewhere").  $n
 * must name a group of the path regex (nsub of them; prefix paths have
 * none).  Returns 0, or -1 with the reason in why.
 */
static int
redirect_to_valid(const char *t, size_t nsub, char *why, size_t len)
{
	const char	*a, *end, *p;
	size_t		 alen;

	for (p = t; *p != '\0'; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f || *p == '\\' ||
		    *p == '"' || *p == '<' || *p == '>') {
			snprintf(why, len, "'%.80s' must not contain spaces, "
			    "control characters, '\\', '\"', '<' or '>'", t);
			return (-1);
		}
	if (t[0] == '/') {
		if (t[1] == '/' || t[1] == '$') {
			snprintf(why, len, "'%.80s': a relative target must "
			    "start with '/' and a literal path segment; '//' "
			    "or a substitution there could name another "
			    "host", t);
			return (-1);
		}
	} else {
		if (strncmp(t, "https://", 8) == 0)
			a = t + 8;
		else if (strncmp(t, "http://", 7) == 0)
			a = t + 7;
		else {
			snprintf(why, len, "'%.80s' must start with "
			    "https://host, http://host or '/'", t);
			return (-1);
		}
		end = a + strcspn(a, "/?#");
		alen = (size_t)(end - a);
		if (!(alen == 5 && strncmp(a, "$host", 5) == 0) &&
		    !route_host_valid(a, alen)) {
			snprintf(why, len, "'%.80s': the host must be written "
			    "out (or be $host, the request's own): a "
			    "redirect never sends a client to a host taken "
			    "from the request", t);
			return (-1);
		}
	}
	for (p = t; *p != '\0'; p++) {
		if (*p != '$')
			continue;
		if (p[1] == '$') {
			p++;
			continue;
		}
		if (strncmp(p, "$host", 5) == 0) {
			p += 4;
			continue;
		}
		if (p[1] < '1' || p[1] > '9') {
			snprintf(why, len, "'$' must be followed by a digit "
			    "1-9 or 'host', or doubled ('$$') for a literal "
			    "'$'");
			return (-1);
		}
		if ((size_t)(p[1] - '0') > nsub) {
			snprintf(why, len, "'%.80s' uses $%c but the route's "
			    "path has %zu capture group%s", t, p[1], nsub,
			    nsub == 1 ? "" : "s");
			return (-1);
		}
		p++;
	}
	return (0);
}

/* routes[].redirect: {to, status, keep_query}.  See keys_route.h. */
int
keys_route_redirect(struct keys_ctx *ctx, const struct yaml_node *n,
    void *base)
{
	struct conf_route	*r = base;
	unsigned		 st;
	size_t			 saved;

	if (ctx->apply(ctx, KEYS_SCOPE_ROUTE_REDIRECT, n, r) == -1 ||
	    r->redirect_to == NULL)
		return (-1);
	st = r->redirect_status;
	if (st != 301 && st != 302 && st != 303 && st != 307 && st != 308) {
		saved = keys_where_key(ctx, "status");
		keys_err(ctx, yaml_map_get(n, "status"), "%u is not a "
		    "redirect status: use 301, 302, 303, 307 or 308", st);
		keys_where_pop(ctx, saved);
		return (-1);
	}
	r->flags |= CONF_ROUTE_F_REDIRECT;
	return (0);
}

/*
 * The checks of issue 13's keys that look at more than one key of route
 * r (item is its mapping): backends or redirect, the redirect template
 * against the path's groups, origin_check with its list, and whether the
 * backends' Host lines differ.
 */
static int
route_pairs_issue13(struct keys_ctx *ctx, const struct yaml_node *item,
    struct conf_route *r)
{
	const struct yaml_node	*rd;
	char			 why[300];
	size_t			 i, saved, nsub = 0;
	int			 rc, ret = 0;

	rd = yaml_map_get(item, "redirect");
	if (rd == NULL && yaml_map_get(item, "backends") == NULL) {
		keys_err(ctx, item, "missing required key 'backends'");
		ret = -1;
	}
	if (rd != NULL && yaml_map_get(item, "backends") != NULL) {
		keys_err_at_key(ctx, item, "backends", "a route with "
		    "redirect: answers itself and has no backends; remove "
		    "one of them");
		ret = -1;
	}
	if (r->flags & CONF_ROUTE_F_REDIRECT) {
		/* The groups are needed now: compile the path again
		 * without REG_NOSUB. */
		if (r->is_regex) {
			regfree(&r->re);
			rc = regcomp(&r->re, r->path, REG_EXTENDED);
			if (rc != 0)
				abort();	/* compiled once already */
			nsub = r->re.re_nsub;
		}
		if (redirect_to_valid(r->redirect_to, nsub, why,
		    sizeof(why)) == -1) {
			saved = keys_where_key(ctx, "redirect");
			keys_where_key(ctx, "to");
			keys_err(ctx, yaml_map_get(rd, "to"), "%s", why);
			keys_where_pop(ctx, saved);
			ret = -1;
		}
	}
	if (r->nallowed_origins > 0 && !r->origin_check) {
		keys_err_at_key(ctx, item, "allowed_origins", "has no effect "
		    "without origin_check: true");
		ret = -1;
	}
	if (r->origin_check)
		r->flags |= CONF_ROUTE_F_ORIGIN;
	for (i = 1; i < r->nbackends; i++)
		if (strcmp(r->backends[i]->host_line,
		    r->backends[0]->host_line) != 0)
			r->host_varies = 1;
	return (ret);
}

/* routes: [ {...}, ... ].  See keys_route.h. */
int
keys_route_list(struct keys_ctx *ctx, const struct yaml_node *n, void *base)
{
	struct conf		*c = base;
	struct conf_route	*r;
	const struct yaml_node	*item, *v;
	size_t			 i, total, saved;
	int			 ret = 0;

	if (n->n == 0) {
		keys_err(ctx, n, "at least one route is required");
		return (-1);
	}
	/*
	 * Size conf->backends once for every URL the file names, so that
	 * routes can point into it while it fills up (deduplication only
	 * makes it emptier).
	 */
	total = 0;
	for (i = 0; i < n->n; i++) {
		v = yaml_map_get(n->items[i], "backends");
		if (v != NULL && v->kind == YAML_KIND_SEQ)
			total += v->n;
	}
	/* cppcheck-suppress invalidFunctionArg ; cppcheck's gnu.cfg describes
	 * libiberty's xcalloc; base/xalloc.c's takes 0 (as 1). */
	c->backends = xcalloc(total, sizeof(*c->backends));
	ctx->backends_cap = total;

	c->routes = xcalloc(n->n, sizeof(*c->routes));
	c->nroutes = n->n;
	for (i = 0; i < n->n; i++) {
		item = n->items[i];
		r = &c->routes[i];
		r->id = (unsigned)i;
		r->line = item->line;
		r->col = item->col;
		saved = keys_where_index(ctx, i);
		if (item->kind != YAML_KIND_MAP) {
			keys_err_expected(ctx, item, "a route (a mapping with "
			    "path: and backends:)");
			ret = -1;
			keys_where_pop(ctx, saved);
			continue;
		}
		/* backends: reads the route's tls_server_name, wherever the
		 * route writes it; its handler checks it again. */
		v = yaml_map_get(item, "tls_server_name");
		if (v != NULL && keys_scalar_text(v) != NULL)
			r->tls_server_name = xstrdup(keys_scalar_text(v));
		if (ctx->apply(ctx, KEYS_SCOPE_ROUTE, item, r) == -1)
			ret = -1;
		if (route_pairs_issue13(ctx, item, r) == -1)
			ret = -1;
		/* Identity policy on a route that ignores identity is a
		 * misunderstanding worth stopping. */
		if (r->auth == CONF_AUTH_NONE && r->allow_limited_proxy) {
			keys_err_at_key(ctx, item, "allow_limited_proxy",
			    auth_none_pointless);
			ret = -1;
		}
		if (r->auth == CONF_AUTH_NONE && r->nrequire_fqan > 0) {
			keys_err_at_key(ctx, item, "require_fqan",
			    auth_none_pointless);
			ret = -1;
		}
		if (r->auth == CONF_AUTH_NONE &&
		    r->sign_as != CONF_SIGN_BYTES) {
			keys_err_at_key(ctx, item, "sign_as",
			    auth_none_pointless);
			ret = -1;
		}
		/* On an optional route a client without a certificate is let
		 * through, so a required role would stop only those with
		 * one. */
		if (r->auth == CONF_AUTH_OPTIONAL && r->nrequire_fqan > 0) {
			keys_err_at_key(ctx, item, "require_fqan",
			    auth_optional_fqan);
			ret = -1;
		}
		if ((r->auth == CONF_AUTH_HOST ||
		    r->auth == CONF_AUTH_HOST_OR_CERT) &&
		    r->nrequire_fqan > 0) {
			keys_err_at_key(ctx, item, "require_fqan",
			    auth_host_fqan);
			ret = -1;
		}
		keys_where_pop(ctx, saved);
	}
	return (ret);
}

/* routes[].tls_server_name: NAME.  See keys_route.h. */
int
keys_route_tls_server_name(struct keys_ctx *ctx, const struct yaml_node *n,
    void *base)
{
	struct conf_route	*r = base;
	char			*s;
	size_t			 i;

	if (keys_get_string(ctx, n, &s) == -1)
		return (-1);
	for (i = 0; s[i] != '\0'; i++)
		if (!isalnum((unsigned char)s[i]) && strchr(".-_:", s[i]) ==
		    NULL)
			break;
	if (s[0] == '\0' || s[i] != '\0' || i > 253) {
		keys_err(ctx, n, "'%.80s' is not a host name or address",
		    s);
		free(s);
		return (-1);
	}
	keys_set_string(&r->tls_server_name, s);
	return (0);
}

/* The node of upstream.tls.KEY in root, or NULL. */
static const struct yaml_node *
uptls_node(const struct yaml_node *root, const char *key)
{
	const struct yaml_node *n = yaml_map_get(root, "upstream");

	if (n == NULL || n->kind != YAML_KIND_MAP)
		return (NULL);
	n = yaml_map_get(n, "tls");
	if (n == NULL || n->kind != YAML_KIND_MAP)
		return (NULL);
	return (key != NULL ? yaml_map_get(n, key) : n);
}

/* Remember where upstream.tls.key was written, for the loader of the
 * files (proxy/uptls.c), whose errors name file:line:col too. */
static void
uptls_where(const struct yaml_node *root, const char *key, int *line,
    int *col)
{
	const struct yaml_node *n = uptls_node(root, key);

	*line = n != NULL ? n->line : 0;
	*col = n != NULL ? n->col : 0;
}

/* TLS to backends, across keys.  See keys_route.h. */
void
keys_route_check_tls(struct keys_ctx *ctx, const struct yaml_node *root)
{
	const struct conf	*c = ctx->conf;
	const struct conf_upstream_tls *t = &c->upstream.tls;
	const struct conf_route	*r;
	const struct yaml_node	*n;
	size_t			 i, j, saved;
	int			 any, reported = 0;

	for (i = 0; i < c->nroutes; i++) {
		r = &c->routes[i];
		for (any = 0, j = 0; j < r->nbackends; j++)
			any |= r->backends[j]->tls;
		saved = keys_where_key(ctx, "routes");
		keys_where_index(ctx, i);
		if (any && t->ca == NULL && !reported) {
			/* Once, at the first https URL: never unverified. */
			for (j = 0; !r->backends[j]->tls; j++)
				;
			n = yaml_map_get(root, "routes");
			n = n != NULL && n->kind == YAML_KIND_SEQ && i < n->n ?
			    yaml_map_get(n->items[i], "backends") : NULL;
			n = n != NULL && n->kind == YAML_KIND_SEQ && j < n->n ?
			    n->items[j] : NULL;
			keys_where_key(ctx, "backends");
			keys_where_index(ctx, j);
			keys_err(ctx, n, "'%.80s' is an https backend: set "
			    "upstream.tls.ca to the CA its certificate is "
			    "verified against", r->backends[j]->url);
			reported = 1;
		} else if (!any && r->tls_server_name != NULL) {
			n = yaml_map_get(root, "routes");
			n = n != NULL && n->kind == YAML_KIND_SEQ && i < n->n ?
			    n->items[i] : NULL;
			if (n != NULL)
				keys_err_at_key(ctx, n, "tls_server_name",
				    "has no effect without an https:// "
				    "backend on this route");
		}
		keys_where_pop(ctx, saved);
	}
	uptls_where(root, "ca", &ctx->conf->upstream.tls.ca_line,
	    &ctx->conf->upstream.tls.ca_col);
	uptls_where(root, "certificate", &ctx->conf->upstream.tls.cert_line,
	    &ctx->conf->upstream.tls.cert_col);
	uptls_where(root, "key", &ctx->conf->upstream.tls.key_line,
	    &ctx->conf->upstream.tls.key_col);
	if ((t->certificate == NULL) != (t->key == NULL)) {
		saved = keys_where_key(ctx, "upstream.tls");
		keys_err(ctx, uptls_node(root, NULL), "certificate and key "
		    "go together: set both or neither");
		keys_where_pop(ctx, saved);
	}
}
