/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * The route-rule handlers of the directive table (conf/keys_route.c).
 * Each has the table's handler shape: read node n into base (the struct
 * of the row's scope), report every problem through ctx and return 0, or
 * -1 when any was found.  Whatever they store (strings, arrays, compiled
 * regexes, backends) is owned by the conf and freed by conf_put().  Only
 * keys.c, which lists them in the table, includes this header.
 */

#ifndef CONF_KEYS_ROUTE_H
#define CONF_KEYS_ROUTE_H

struct keys_ctx;
struct yaml_node;

/* routes: the list of routes; base is the struct conf.  Also sizes
 * conf->backends for every URL of the file. */
int	 keys_route_list(struct keys_ctx *ctx, const struct yaml_node *n,
	    void *base);

/* routes[].path: a prefix, or a regex starting with '^' (compiled into
 * the route); base is a struct conf_route. */
int	 keys_route_path(struct keys_ctx *ctx, const struct yaml_node *n,
	    void *base);

/* routes[].rewrite: {from, to}; compiles from and checks to's $n
 * references; base is a struct conf_route. */
int	 keys_route_rewrite(struct keys_ctx *ctx, const struct yaml_node *n,
	    void *base);

/* routes[].backends: http://host:port URLs, resolved; identical URLs
 * share one struct conf_backend.  base is a struct conf_route. */
int	 keys_route_backends(struct keys_ctx *ctx, const struct yaml_node *n,
	    void *base);

/* routes[].require_fqan: VOMS FQANs, each starting with '/'; base is a
 * struct conf_route. */
int	 keys_route_require_fqan(struct keys_ctx *ctx,
	    const struct yaml_node *n, void *base);

/* routes[].allow_from: addresses or CIDR blocks; base is a struct
 * conf_route. */
int	 keys_route_allow_from(struct keys_ctx *ctx, const struct yaml_node *n,
	    void *base);

/* routes[].host_header: backend, client or a literal host[:port]; base
 * is a struct conf_route. */
int	 keys_route_host_header(struct keys_ctx *ctx,
	    const struct yaml_node *n, void *base);

/* routes[].query: a regex on the raw query string, compiled into the
 * route; base is a struct conf_route. */
int	 keys_route_query(struct keys_ctx *ctx, const struct yaml_node *n,
	    void *base);

/* routes[].methods: method tokens; also builds the 405's Allow line;
 * base is a struct conf_route. */
int	 keys_route_methods(struct keys_ctx *ctx, const struct yaml_node *n,
	    void *base);

/* routes[].allowed_origins: scheme://host[:port] origins; base is a
 * struct conf_route. */
int	 keys_route_allowed_origins(struct keys_ctx *ctx,
	    const struct yaml_node *n, void *base);

/* routes[].redirect: {to, status, keep_query}; the template's checks
 * that need the path's groups run with the route's other pair checks.
 * base is a struct conf_route. */
int	 keys_route_redirect(struct keys_ctx *ctx, const struct yaml_node *n,
	    void *base);

/* routes[].tls_server_name: the name https backends of the route must
 * carry in their certificate (and get as SNI); base is a struct
 * conf_route. */
int	 keys_route_tls_server_name(struct keys_ctx *ctx,
	    const struct yaml_node *n, void *base);

/*
 * Semantic checks of TLS to backends, after the whole file was applied:
 * https:// backends need upstream.tls.ca; the client certificate and key
 * come as a pair; tls_server_name needs an https backend on its route.
 * Errors go to ctx, located at root's nodes.  Also records where the
 * upstream.tls files were written (their loader reads them).
 */
void	 keys_route_check_tls(struct keys_ctx *ctx,
	    const struct yaml_node *root);

#endif /* CONF_KEYS_ROUTE_H */
