/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * The directive table of the config and the helpers that read typed values
 * out of YAML nodes.  Internal to conf/: conf.c drives keys_apply() over a
 * document and runs the semantic pass with keys_err(); nothing outside
 * conf/ (and its tests) includes this header.
 */

#ifndef CONF_KEYS_H
#define CONF_KEYS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct conf;
struct sockaddr;
struct conf_cidr;
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
	KEYS_SCOPE_LOG		/* struct conf_log */
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
};

/*
 * Limits on values, shared with the tests.  The duration cap is one week
 * in ms, computed in 64 bits like the row min/max it is stored in.
 */
#define KEYS_DURATION_MAX	((uint64_t)7 * 24 * 3600 * 1000)
#define KEYS_WORKERS_MAX	256

/*
 * Prepare ctx for one load of conf.  dir is the directory relative paths
 * are resolved against; conf, errs and dir are borrowed for the life of
 * ctx.
 */
void	 keys_ctx_init(struct keys_ctx *ctx, struct conf *conf,
	    struct conf_errs *errs, const char *dir);

/*
 * Set every default of scope (and of the mappings nested in it) in base,
 * then apply each key of the mapping node map.  map may be NULL: only the
 * defaults are set.  base points at the struct that scope fills.  Every
 * problem is appended to ctx->errs and the walk goes on; returns 0 when
 * none was found, -1 otherwise.  Strings stored in base are owned by the
 * conf (freed by conf_put()).
 */
int	 keys_apply(struct keys_ctx *ctx, enum keys_scope scope,
	    const struct yaml_node *map, void *base);

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
 * Typed readers.  Each checks that n is a scalar of the right shape and
 * range, stores the value and returns 0, or reports an error at n ("expected
 * ..., got ...") and returns -1 leaving *v untouched.
 *   uint:     decimal digits, min..max
 *   duration: "500ms", "10s", "2m", "1h", or digits (seconds) -> ms
 *   size:     digits with an optional k, m or g suffix (also kb/kib...,
 *             any case; all binary multiples) -> bytes
 *   bool:     true/false, yes/no, on/off, any case
 *   choice:   one of the NULL-terminated names; *v is the index
 */
int	 keys_get_uint(struct keys_ctx *ctx, const struct yaml_node *n,
	    uint64_t min, uint64_t max, uint64_t *v);
int	 keys_get_duration(struct keys_ctx *ctx, const struct yaml_node *n,
	    uint64_t min, uint64_t max, uint64_t *ms);
int	 keys_get_size(struct keys_ctx *ctx, const struct yaml_node *n,
	    uint64_t min, uint64_t max, uint64_t *bytes);
int	 keys_get_bool(struct keys_ctx *ctx, const struct yaml_node *n, int *v);
int	 keys_get_choice(struct keys_ctx *ctx, const struct yaml_node *n,
	    const char *const *choices, int *v);

/*
 * The text parsers behind the readers, for tests: return 0 and store the
 * value, or -1 on a malformed or overflowing value.
 */
int	 keys_parse_duration(const char *s, uint64_t *ms);
int	 keys_parse_size(const char *s, uint64_t *bytes);

/*
 * Parse "10.0.0.0/8", "2001:db8::/32" or a plain address (a /32 or /128)
 * into out.  A v4-mapped IPv6 block (::ffff:a.b.c.d/96+) becomes the IPv4
 * block.  Returns 0, or -1 with a reason in err (bad syntax, prefix out of
 * range, or bits set past the prefix).
 */
int	 keys_parse_cidr(const char *s, struct conf_cidr *out, char *err,
	    size_t errlen);

/* How two listening addresses relate (keys_addr_conflict). */
enum keys_addr_rel {
	KEYS_ADDR_DISTINCT = 0,	/* can both be bound */
	KEYS_ADDR_SAME,		/* same address and port */
	KEYS_ADDR_OVERLAP	/* same port, one is the wildcard address */
};

/*
 * Compare two resolved listening addresses (AF_INET or AF_INET6; anything
 * else is distinct).  Returns a keys_addr_rel value.
 */
int	 keys_addr_conflict(const struct sockaddr *a, const struct sockaddr *b);

/* Print the directive table, one "key\ttype\tdefault\tdescription" line
 * per key, to fp. */
void	 keys_print(FILE *fp);

#endif /* CONF_KEYS_H */
