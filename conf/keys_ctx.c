/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * The load context of the directive engine: the YAML path of the node
 * being read ("routes[2].backends") and the located errors that every
 * handler and value reader reports through it.  The lowest of the keys_*
 * files: it calls only conf/errs.c and conf/yaml.c's accessors, and knows
 * nothing of the table, the values or the routes.  keys.c sets the
 * context up (keys_ctx_init()).
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "conf/conf.h"
#include "conf/errs.h"
#include "conf/keys_ctx.h"
#include "conf/yaml.h"

/* Append ".key" (or "key" at the top) to the YAML path.  See keys_ctx.h. */
size_t
keys_where_key(struct keys_ctx *ctx, const char *key)
{
	size_t	 old = ctx->wherelen;

	snprintf(ctx->where + old, sizeof(ctx->where) - old, "%s%s",
	    old ? "." : "", key);
	ctx->wherelen = strlen(ctx->where);
	return (old);
}

/* Append "[index]" to the YAML path.  See keys_ctx.h. */
size_t
keys_where_index(struct keys_ctx *ctx, size_t index)
{
	size_t	 old = ctx->wherelen;

	snprintf(ctx->where + old, sizeof(ctx->where) - old, "[%zu]", index);
	ctx->wherelen = strlen(ctx->where);
	return (old);
}

/* Cut the YAML path back to len bytes.  See keys_ctx.h. */
void
keys_where_pop(struct keys_ctx *ctx, size_t len)
{
	ctx->wherelen = len;
	ctx->where[len] = '\0';
}

/* Append an error at n, prefixed by the YAML path.  See keys_ctx.h. */
void
keys_err(struct keys_ctx *ctx, const struct yaml_node *n, const char *fmt,
    ...)
{
	char		 msg[256];
	const char	*file;
	va_list		 ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* Default values are parsed from synthetic nodes with no file. */
	file = (n != NULL && n->file != NULL) ? n->file : ctx->conf->path;
	if (ctx->wherelen > 0)
		conf_errs_add(ctx->errs, file, n ? n->line : 0,
		    n ? n->col : 0, "%s: %s", ctx->where, msg);
	else
		conf_errs_add(ctx->errs, file, n ? n->line : 0,
		    n ? n->col : 0, "%s", msg);
}

/* Report msg at the value of key in map.  See keys_ctx.h. */
void
keys_err_at_key(struct keys_ctx *ctx, const struct yaml_node *map,
    const char *key, const char *msg)
{
	size_t	 saved = keys_where_key(ctx, key);

	keys_err(ctx, yaml_map_get(map, key), "%s", msg);
	keys_where_pop(ctx, saved);
}

/* The scalar text of n, or NULL.  See keys_ctx.h. */
const char *
keys_scalar_text(const struct yaml_node *n)
{
	if (n == NULL || n->kind != YAML_KIND_SCALAR || n->is_null)
		return (NULL);
	return (n->str);
}

/* Report "expected <what>, got ..." at n.  See keys_ctx.h. */
void
keys_err_expected(struct keys_ctx *ctx, const struct yaml_node *n,
    const char *what)
{
	const char	*s = keys_scalar_text(n);

	if (s != NULL)
		keys_err(ctx, n, "expected %s, got '%.60s'", what, s);
	else
		keys_err(ctx, n, "expected %s, got %s", what,
		    yaml_node_what(n));
}
