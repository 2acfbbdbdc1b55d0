/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * Loading and lifetime of a configuration generation.  conf_load() reads
 * the YAML tree (conf/yaml.c), applies the directive table to it
 * (conf/keys.c), then runs a semantic pass over the whole result; every
 * problem found on the way is collected with its file:line:col (in the
 * list of conf/errs.c), and the load fails if there was any.  The result
 * is immutable and refcounted with atomics so that connections can keep
 * an old generation while a reload installs a new one.  conf_load() does
 * not open the certificate, key or auth files it names: proxy/ and auth/
 * do, at start and reload.
 */

#include <sys/socket.h>

#include <libgen.h>
#include <limits.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"
#include "conf/conf.h"
#include "conf/keys.h"
#include "conf/keys_route.h"
#include "conf/keys_token.h"
#include "conf/yaml.h"

/* Free c and everything it owns, whatever state a failed load left. */
static void
conf_free(struct conf *c)
{
	struct conf_route	*r;
	size_t			 i, j;

	for (i = 0; i < c->nlisteners; i++) {
		free(c->listeners[i].address);
		free(c->listeners[i].certificate);
		free(c->listeners[i].key);
	}
	free(c->listeners);
	c->listeners = NULL;

	keys_token_free(c);
	for (i = 0; i < c->nroutes; i++) {
		r = &c->routes[i];
		free(r->path);
		/* is_regex and has_rewrite are set only once compiled. */
		if (r->is_regex)
			regfree(&r->re);
		if (r->has_rewrite)
			regfree(&r->rewrite_re);
		free(r->rewrite_from);
		free(r->rewrite_to);
		free(r->backends);
		for (j = 0; j < r->nrequire_fqan; j++)
			free(r->require_fqan[j]);
		free(r->require_fqan);
		free(r->allow_from);
		/* Issue 13's keys; CONF_ROUTE_F_QUERY means compiled. */
		free(r->host_literal);
		free(r->host_line);
		if (r->flags & CONF_ROUTE_F_QUERY)
			regfree(&r->query_re);
		free(r->query);
		for (j = 0; j < r->nmethods; j++)
			free(r->methods[j]);
		free(r->methods);
		free(r->allow_line);
		for (j = 0; j < r->nallowed_origins; j++)
			free(r->allowed_origins[j]);
		free(r->allowed_origins);
		free(r->redirect_to);
		free(r->tls_server_name);
	}
	free(c->routes);
	c->routes = NULL;

	for (i = 0; i < c->nbackends; i++) {
		free(c->backends[i].url);
		free(c->backends[i].host);
		free(c->backends[i].port);
		free(c->backends[i].host_line);
		free(c->backends[i].tls_name);
	}
	free(c->backends);
	c->backends = NULL;
	for (i = 0; i < c->upstream.nresolvers; i++)
		free(c->upstream.resolvers[i]);
	free(c->upstream.resolvers);
	c->upstream.resolvers = NULL;

	free(c->upstream.tls.ca);
	free(c->upstream.tls.certificate);
	free(c->upstream.tls.key);
	free(c->auth.ca_path);
	free(c->auth.vomsdir);
	free(c->auth.users);
	free(c->auth.banned);
	free(c->auth.hosts);
	free(c->auth.hmac_key);
	free(c->auth.authn_method);
	free(c->auth.trouble_url);
	free(c->admin.address);
	free(c->log.access_log);
	free(c->log.error_log);
	free(c->path);
	free(c);
}

/* The node at root.key[index].sub, or NULL; for locating semantic errors. */
static const struct yaml_node *
node_at(const struct yaml_node *root, const char *key, size_t index,
    const char *sub)
{
	const struct yaml_node *n = yaml_map_get(root, key);

	if (n == NULL || n->kind != YAML_KIND_SEQ || index >= n->n)
		return (NULL);
	n = n->items[index];
	return (sub != NULL ? yaml_map_get(n, sub) : n);
}

/* Listeners (and the admin listener) must be bindable side by side. */
static void
check_listeners(struct keys_ctx *ctx, const struct yaml_node *root)
{
	struct conf		*c = ctx->conf;
	const struct conf_listener *a, *b;
	const struct yaml_node	*n;
	size_t			 i, j, saved;
	int			 rel;

	for (i = 0; i < c->nlisteners; i++) {
		a = &c->listeners[i];
		for (j = 0; a->addrlen > 0 && j < i; j++) {
			b = &c->listeners[j];
			if (b->addrlen == 0)
				continue;
			rel = keys_addr_conflict(
			    (const struct sockaddr *)&a->addr,
			    (const struct sockaddr *)&b->addr);
			if (rel == KEYS_ADDR_DISTINCT)
				continue;
			n = node_at(root, "listen", i, "address");
			saved = keys_where_key(ctx, "listen");
			keys_where_index(ctx, i);
			keys_where_key(ctx, "address");
			keys_err(ctx, n, rel == KEYS_ADDR_SAME ?
			    "'%s' is already used by listen[%zu] (line %d)" :
			    "'%s' overlaps listen[%zu] (line %d): the wildcard "
			    "address covers the other", a->address, j,
			    b->line);
			keys_where_pop(ctx, saved);
			break;
		}
	}
	if (c->admin.addrlen == 0)
		return;
	for (i = 0; i < c->nlisteners; i++) {
		a = &c->listeners[i];
		if (a->addrlen == 0 || keys_addr_conflict(
		    (const struct sockaddr *)&c->admin.addr,
		    (const struct sockaddr *)&a->addr) == KEYS_ADDR_DISTINCT)
			continue;
		n = yaml_map_get(yaml_map_get(root, "admin"), "address");
		saved = keys_where_key(ctx, "admin.address");
		keys_err(ctx, n, "'%s' clashes with listen[%zu] (line %d)",
		    c->admin.address, i, a->line);
		keys_where_pop(ctx, saved);
		break;
	}
}

/*
 * Bearer tokens: routes that read them need auth.tokens.issuers; with
 * issuers, a token at limits.max_token must fit in one header line; the
 * token-only route keys need a route that reads tokens.
 */
static void
check_tokens(struct keys_ctx *ctx, const struct yaml_node *root)
{
	struct conf		*c = ctx->conf;
	const struct yaml_node	*n;
	size_t			 i, saved;
	static const char	 pfx[] = "Authorization: Bearer ";

	/* Only when tokens are read: the default max_token must not refuse
	 * a small max_header_field on a certificate-only proxy. */
	if (c->auth.tokens.nissuers > 0 &&
	    c->limits.max_token + sizeof(pfx) - 1 >
	    c->limits.max_header_field) {
		n = yaml_map_get(root, "limits");
		if (n != NULL && n->kind == YAML_KIND_MAP)
			n = yaml_map_get(n, "max_token");
		else
			n = NULL;
		saved = keys_where_key(ctx, "limits");
		keys_where_key(ctx, "max_token");
		keys_err(ctx, n, "'Authorization: Bearer ' and a token of %zu "
		    "bytes do not fit in limits.max_header_field (%zu)",
		    c->limits.max_token, c->limits.max_header_field);
		keys_where_pop(ctx, saved);
	}
	/* Token-only keys on a route that never reads a token. */
	for (i = 0; i < c->nroutes; i++) {
		const struct conf_route *r = &c->routes[i];
		const char *k = r->nrequire_scope > 0 ? "require_scope" :
		    r->nrequire_group > 0 ? "require_group" :
		    r->forward_token ? "forward_token" : NULL;

		if (k == NULL || r->auth == CONF_AUTH_TOKEN ||
		    r->auth == CONF_AUTH_CERT_OR_TOKEN ||
		    r->auth == CONF_AUTH_OPTIONAL)
			continue;
		n = node_at(root, "routes", i, k);
		saved = keys_where_key(ctx, "routes");
		keys_where_index(ctx, i);
		keys_where_key(ctx, k);
		keys_err(ctx, n, "only applies to routes that read bearer "
		    "tokens (auth: token, cert_or_token or optional)");
		keys_where_pop(ctx, saved);
	}
	if (c->auth.tokens.nissuers > 0)
		return;
	for (i = 0; i < c->nroutes; i++) {
		if (c->routes[i].auth != CONF_AUTH_TOKEN &&
		    c->routes[i].auth != CONF_AUTH_CERT_OR_TOKEN)
			continue;
		n = node_at(root, "routes", i, "auth");
		saved = keys_where_key(ctx, "routes");
		keys_where_index(ctx, i);
		keys_where_key(ctx, "auth");
		keys_err(ctx, n, "reads bearer tokens but auth.tokens.issuers "
		    "lists none");
		keys_where_pop(ctx, saved);
		return;
	}
}

/*
 * Routes that use identity need the trust store and the signing key; a
 * required FQAN needs VOMS trust.  Reported once, at the auth: section if
 * there is one, else at the first route that needs it.
 */
static void
check_auth(struct keys_ctx *ctx, const struct yaml_node *root)
{
	struct conf		*c = ctx->conf;
	const struct conf_route	*r = NULL;
	const struct yaml_node	*n;
	char			 missing[64];
	size_t			 i, saved;

	for (i = 0; i < c->nroutes; i++) {
		if (c->routes[i].path != NULL &&
		    c->routes[i].auth != CONF_AUTH_NONE) {
			r = &c->routes[i];
			break;
		}
	}
	if (r != NULL && (c->auth.ca_path == NULL ||
	    c->auth.hmac_key == NULL)) {
		snprintf(missing, sizeof(missing), "%s%s%s",
		    c->auth.ca_path == NULL ? "ca_path" : "",
		    c->auth.ca_path == NULL && c->auth.hmac_key == NULL ?
		    " and " : "",
		    c->auth.hmac_key == NULL ? "hmac_key" : "");
		if ((n = yaml_map_get(root, "auth")) != NULL) {
			saved = keys_where_key(ctx, "auth");
			keys_err(ctx, n, "%s must be set: routes[%u] (line %d) "
			    "uses 'auth: %s'", missing, r->id, r->line,
			    conf_auth_name(r->auth));
		} else {
			n = node_at(root, "routes", r->id, NULL);
			saved = keys_where_key(ctx, "routes");
			keys_where_index(ctx, r->id);
			keys_err(ctx, n, "'auth: %s' needs auth.%s%s in an "
			    "auth: section (or set 'auth: none' on this "
			    "route)", conf_auth_name(r->auth),
			    c->auth.ca_path == NULL ? "ca_path" : "hmac_key",
			    c->auth.ca_path == NULL &&
			    c->auth.hmac_key == NULL ? " and auth.hmac_key" :
			    "");
		}
		keys_where_pop(ctx, saved);
	}

	for (i = 0; c->auth.vomsdir == NULL && i < c->nroutes; i++) {
		if (c->routes[i].nrequire_fqan == 0)
			continue;
		n = node_at(root, "routes", i, "require_fqan");
		saved = keys_where_key(ctx, "routes");
		keys_where_index(ctx, i);
		keys_where_key(ctx, "require_fqan");
		keys_err(ctx, n, "needs auth.vomsdir, the VOMS trust "
		    "directory, to read FQANs");
		keys_where_pop(ctx, saved);
	}
}

/* Routes with auth: host or host_or_cert need the host list. */
static void
check_hosts(struct keys_ctx *ctx, const struct yaml_node *root)
{
	struct conf		*c = ctx->conf;
	size_t			 i, saved;

	for (i = 0; c->auth.hosts == NULL && i < c->nroutes; i++) {
		if (c->routes[i].auth != CONF_AUTH_HOST &&
		    c->routes[i].auth != CONF_AUTH_HOST_OR_CERT)
			continue;
		saved = keys_where_key(ctx, "routes");
		keys_where_index(ctx, i);
		keys_where_key(ctx, "auth");
		keys_err(ctx, node_at(root, "routes", i, "auth"), "'auth: %s' "
		    "needs auth.hosts, the <ip> <hostname> list",
		    conf_auth_name(c->routes[i].auth));
		keys_where_pop(ctx, saved);
		return;
	}
}

/* A single header line or the request line cannot exceed the head. */
static void
check_limits(struct keys_ctx *ctx, const struct yaml_node *root)
{
	const struct conf_limits *l = &ctx->conf->limits;
	const struct yaml_node	*n;
	size_t			 saved;

	n = yaml_map_get(root, "limits");
	saved = keys_where_key(ctx, "limits");
	if (l->max_header_field > l->max_header_block)
		keys_err(ctx, n, "max_header_field (%zu bytes) is larger than "
		    "max_header_block (%zu bytes)", l->max_header_field,
		    l->max_header_block);
	if (l->max_request_line > l->max_header_block)
		keys_err(ctx, n, "max_request_line (%zu bytes) is larger than "
		    "max_header_block (%zu bytes)", l->max_request_line,
		    l->max_header_block);
	/* One body must fit the pool, or it would wait for ever. */
	if (l->body_buffer > l->body_buffer_total)
		keys_err(ctx, n, "body_buffer (%zu bytes) is larger than "
		    "body_buffer_total (%zu bytes)", l->body_buffer,
		    l->body_buffer_total);
	keys_where_pop(ctx, saved);
}

/* The directory relative paths in the file at path are resolved against:
 * absolute, so that the result does not depend on a later chdir(). */
static char *
conf_dir(const char *path)
{
	char	 buf[PATH_MAX];
	char	*copy, *dir;

	if (realpath(path, buf) != NULL)
		copy = xstrdup(buf);
	else
		copy = xstrdup(path);
	dir = xstrdup(dirname(copy));
	free(copy);
	return (dir);
}

/*
 * Load and validate a config file.  See conf.h for the contract.  Errors
 * from every stage are collected; the semantic pass runs even after
 * per-key errors, on whatever could be read, so one run of -t shows as
 * much as possible.
 */
int
conf_load(const char *path, struct conf **out, struct conf_errs *errs)
{
	struct yaml_doc	*doc;
	struct keys_ctx	 ctx;
	struct conf	*c = NULL;
	char		*dir = NULL;
	size_t		 n0 = errs->n;
	int		 ret = -1;

	if ((doc = yaml_doc_load(path, errs)) == NULL)
		return (-1);
	if (doc->root == NULL || (doc->root->kind == YAML_KIND_SCALAR &&
	    doc->root->is_null)) {
		conf_errs_add(errs, path, 1, 1, "the file is empty: a config "
		    "needs at least listen: and routes:");
		goto done;
	}
	if (doc->root->kind != YAML_KIND_MAP) {
		conf_errs_add(errs, path, doc->root->line, doc->root->col,
		    "the top level must be a mapping of keys such as listen: "
		    "and routes:, not %s", yaml_node_what(doc->root));
		goto done;
	}

	c = xcalloc(1, sizeof(*c));
	c->refs = 1;
	c->path = xstrdup(path);
	dir = conf_dir(path);
	keys_ctx_init(&ctx, c, errs, dir);
	keys_apply(&ctx, KEYS_SCOPE_GLOBAL, doc->root, c);

	check_listeners(&ctx, doc->root);
	check_auth(&ctx, doc->root);
	check_tokens(&ctx, doc->root);
	check_hosts(&ctx, doc->root);
	check_limits(&ctx, doc->root);
	keys_route_check_tls(&ctx, doc->root);

	if (errs->n > n0)
		goto done;
	*out = c;
	c = NULL;
	ret = 0;
done:
	if (c != NULL)
		conf_free(c);
	free(dir);
	yaml_doc_free(doc);
	return (ret);
}

/* Take a reference.  See conf.h. */
struct conf *
conf_get(struct conf *c)
{
	__atomic_add_fetch(&c->refs, 1, __ATOMIC_RELAXED);
	return (c);
}

/* Drop a reference, freeing at zero.  See conf.h. */
void
conf_put(struct conf *c)
{
	if (c == NULL)
		return;
	/* Release our writes; the thread that frees acquires everyone's. */
	if (__atomic_sub_fetch(&c->refs, 1, __ATOMIC_ACQ_REL) == 0)
		conf_free(c);
}

static int
conf_streq(const char *a, const char *b)
{
	return (a == b || (a != NULL && b != NULL && strcmp(a, b) == 0));
}

/* Same auth.tokens section.  See conf.h. */
int
conf_tokens_equal(const struct conf_tokens *a, const struct conf_tokens *b)
{
	const struct conf_token_issuer *x, *y;
	size_t		 i, j;

	if (a->nissuers != b->nissuers || a->leeway != b->leeway ||
	    a->cache_size != b->cache_size)
		return (0);
	for (i = 0; i < a->nissuers; i++) {
		x = &a->issuers[i];
		y = &b->issuers[i];
		if (!conf_streq(x->issuer, y->issuer) ||
		    !conf_streq(x->jwks, y->jwks) || x->from != y->from ||
		    !conf_streq(x->map_file, y->map_file) ||
		    !conf_streq(x->claim, y->claim) ||
		    !conf_streq(x->authn_method, y->authn_method) ||
		    x->naudiences != y->naudiences)
			return (0);
		for (j = 0; j < x->naudiences; j++)
			if (!conf_streq(x->audiences[j], y->audiences[j]))
				return (0);
	}
	return (1);
}

/* Print the directive table for --list-keys.  See conf.h. */
void
conf_keys_print(void *fp)
{
	keys_print(fp);
}

/* A route's auth mode as the config spells it; see conf.h. */
const char *
conf_auth_name(enum conf_auth_mode a)
{
	static const char *const names[] = {
		[CONF_AUTH_CERT] = "cert",
		[CONF_AUTH_OPTIONAL] = "optional",
		[CONF_AUTH_NONE] = "none",
		[CONF_AUTH_TOKEN] = "token",
		[CONF_AUTH_CERT_OR_TOKEN] = "cert_or_token",
		[CONF_AUTH_HOST] = "host",
		[CONF_AUTH_HOST_OR_CERT] = "host_or_cert",
	};

	if ((size_t)a >= sizeof(names) / sizeof(names[0]) || names[a] == NULL)
		return ("?");
	return (names[a]);
}
