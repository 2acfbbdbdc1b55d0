/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * The bearer-token handlers of the directive table (conf/keys_token.c):
 * auth.tokens.issuers and its identity: block, and the route keys
 * require_scope and require_group.  Each has the table's handler shape:
 * read node n into base, report every problem through ctx and return 0,
 * or -1 when any was found.  What they store is owned by the conf and
 * freed by keys_token_free().  Only keys.c and conf.c include this.
 */

#ifndef CONF_KEYS_TOKEN_H
#define CONF_KEYS_TOKEN_H

struct conf;
struct keys_ctx;
struct yaml_node;

/* auth.tokens.issuers: a list of issuer mappings; base is a struct
 * conf_tokens. */
int	 keys_token_issuers(struct keys_ctx *ctx, const struct yaml_node *n,
	    void *base);

/* auth.tokens.issuers[].identity: {from, file, claim}; base is a struct
 * conf_token_issuer. */
int	 keys_token_identity(struct keys_ctx *ctx, const struct yaml_node *n,
	    void *base);

/* auth.tokens.issuers[].audiences: non-empty list of strings. */
int	 keys_token_audiences(struct keys_ctx *ctx, const struct yaml_node *n,
	    void *base);

/* routes[].require_scope: WLCG scopes such as storage.read:/; base is a
 * struct conf_route. */
int	 keys_token_require_scope(struct keys_ctx *ctx,
	    const struct yaml_node *n, void *base);

/* routes[].require_group: wlcg.groups such as /cms/production. */
int	 keys_token_require_group(struct keys_ctx *ctx,
	    const struct yaml_node *n, void *base);

/* Free what the handlers stored in c (token issuers, route scope and
 * group lists); called by conf_put(). */
void	 keys_token_free(struct conf *c);

#endif /* CONF_KEYS_TOKEN_H */
