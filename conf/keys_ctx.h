/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * The load context of the directive engine: which scope a key is read in,
 * the state of one load (conf being built, error list, YAML path) and the
 * located error reporting every handler uses.  The lowest keys_* header:
 * the value readers (keys_value.h), the route handlers (keys_route.h) and
 * the engine (keys.h) all build on it.  Internal to conf/.
 */

#ifndef CONF_KEYS_CTX_H
#define CONF_KEYS_CTX_H

#include <stddef.h>

struct conf;
struct conf_errs;
struct yaml_node;

/* Where a key may appear; each scope fills one struct of conf.h. */
enum keys_scope {
	KEYS_SCOPE_GLOBAL = 0,	/* struct conf */
	KEYS_SCOPE_LISTEN,	/* struct conf_listener */
	KEYS_SCOPE_LISTEN_TLS,	/* struct conf_listener, tls: block */
	KEYS_SCOPE_ROUTE,	/* struct conf_route */
	KEYS_SCOPE_ROUTE_REWRITE, /* struct conf_route, rewrite: block */
	KEYS_SCOPE_TIMEOUTS,	/* struct conf_timeouts */
	KEYS_SCOPE_LIMITS,	/* struct conf_limits */
	KEYS_SCOPE_UPSTREAM,	/* struct conf_upstream */
	KEYS_SCOPE_AUTH,	/* struct conf_auth */
	KEYS_SCOPE_ADMIN,	/* struct conf_admin */
	KEYS_SCOPE_LOG,		/* struct conf_log */
	KEYS_SCOPE_TOKENS,	/* struct conf_tokens, auth.tokens */
	KEYS_SCOPE_TOKEN_ISSUER, /* struct conf_token_issuer */
	KEYS_SCOPE_TOKEN_IDENTITY, /* struct conf_token_issuer, identity: */
	KEYS_SCOPE_HTTP2	/* struct conf_http2 */
};

/*
 * The state of one load, shared by every handler: the conf being built,
 * the error list and the YAML path of the node being read ("routes[2].
 * backends"), which prefixes every message.
 */
struct keys_ctx {
	struct conf	*conf;
	struct conf_errs *errs;
	const char	*dir;		/* directory of the config file */
	char		 where[160];
	size_t		 wherelen;
	size_t		 backends_cap;	/* slots allocated in conf->backends */
	/*
	 * The engine's walks, set by keys_ctx_init(), so that handlers
	 * below the engine (keys_route.c) can read a nested mapping
	 * without calling up into keys.c.  apply sets the scope's
	 * defaults first (keys_apply()); walk only applies the keys of map
	 * (for a block whose defaults its parent scope already set).
	 */
	int		(*apply)(struct keys_ctx *, enum keys_scope,
			    const struct yaml_node *, void *);
	int		(*walk)(struct keys_ctx *, enum keys_scope,
			    const struct yaml_node *, void *);
};

/* Append an error located at node n (NULL: not located), prefixed with the
 * current YAML path of ctx. */
void	 keys_err(struct keys_ctx *ctx, const struct yaml_node *n,
	    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*
 * Grow the YAML path of ctx by ".key" or "[index]".  Both return the
 * previous length, to hand back to keys_where_pop().
 */
size_t	 keys_where_key(struct keys_ctx *ctx, const char *key);
size_t	 keys_where_index(struct keys_ctx *ctx, size_t index);
void	 keys_where_pop(struct keys_ctx *ctx, size_t len);

/*
 * Report msg (not a format) at the value of key in the mapping map, with
 * key appended to the YAML path for the message: for checks that look at
 * two keys of one item after both were applied.
 */
void	 keys_err_at_key(struct keys_ctx *ctx, const struct yaml_node *map,
	    const char *key, const char *msg);

/*
 * The text of n when it is a non-null scalar, else NULL.  The string
 * belongs to the YAML tree (valid while the document is).
 */
const char *keys_scalar_text(const struct yaml_node *n);

/* Report "expected <what>, got '<text>'" (or the node's type when n is
 * not a scalar) at n. */
void	 keys_err_expected(struct keys_ctx *ctx, const struct yaml_node *n,
	    const char *what);

#endif /* CONF_KEYS_CTX_H */
