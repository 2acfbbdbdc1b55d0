/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * The directive engine: the table of config keys, the walk that applies
 * it to a YAML mapping, defaults and --list-keys.  Internal to conf/:
 * conf.c drives keys_apply() over a document and runs the semantic pass
 * with keys_err(); nothing outside conf/ (and its tests) includes this
 * header.  It includes the load context (keys_ctx.h) and the value
 * readers (keys_value.h) that the engine and its tests use; the route
 * handlers (keys_route.h) are the table's business only.
 */

#ifndef CONF_KEYS_H
#define CONF_KEYS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "conf/keys_ctx.h"
#include "conf/keys_value.h"

struct conf;
struct conf_errs;
struct yaml_node;

/*
 * Limits on values, shared with the tests.  The duration cap is one week
 * in ms, computed in 64 bits like the row min/max it is stored in.
 */
#define KEYS_DURATION_MAX	((uint64_t)7 * 24 * 3600 * 1000)
#define KEYS_WORKERS_MAX	256

/*
 * Prepare ctx for one load of conf.  dir is the directory relative paths
 * are resolved against; conf, errs and dir are borrowed for the life of
 * ctx.  Also installs the engine's walks in ctx (apply, walk).
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

/* Print the directive table, one "key\ttype\tdefault\tdescription" line
 * per key, to fp. */
void	 keys_print(FILE *fp);

#endif /* CONF_KEYS_H */
