/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * Config handlers for bearer tokens (issue 14): the list of trusted
 * issuers with their key-set file, audiences and identity mapping, and the
 * per-route scope and group requirements.  Values are read through
 * keys_value.c and nested mappings walked through the load context's
 * callbacks, like keys_route.c.  Loading key sets is auth/'s business.
 */

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"
#include "conf/conf.h"
#include "conf/keys_ctx.h"
#include "conf/keys_token.h"
#include "conf/keys_value.h"
#include "conf/yaml.h"

/* A non-empty list of non-empty strings into *out, *nout.  pfx, when not
 * NULL, is a byte each must start with. */
static int
token_list(struct keys_ctx *ctx, const struct yaml_node *n, char ***out,
    size_t *nout, int pfx, const char *what)
{
	char		*s;
	size_t		 i, saved;
	int		 ret = 0;

	if (n->n == 0) {
		keys_err(ctx, n, "an empty list has no effect; remove the key");
		return (-1);
	}
	*out = xcalloc(n->n, sizeof(**out));
	for (i = 0; i < n->n; i++) {
		saved = keys_where_index(ctx, i);
		if (keys_get_string(ctx, n->items[i], &s) == -1)
			ret = -1;
		else if (s[0] == '\0' || (pfx != 0 && s[0] != pfx) ||
		    strpbrk(s, " \t\r\n,") != NULL) {
			keys_err_expected(ctx, n->items[i], what);
			free(s);
			ret = -1;
		} else
			(*out)[(*nout)++] = s;
		keys_where_pop(ctx, saved);
	}
	return (ret);
}

int
keys_token_audiences(struct keys_ctx *ctx, const struct yaml_node *n,
    void *base)
{
	struct conf_token_issuer *is = base;

	return (token_list(ctx, n, &is->audiences, &is->naudiences, 0,
	    "an audience string without blanks or commas"));
}

int
keys_token_require_scope(struct keys_ctx *ctx, const struct yaml_node *n,
    void *base)
{
	struct conf_route *r = base;

	return (token_list(ctx, n, &r->require_scope, &r->nrequire_scope, 0,
	    "a WLCG scope such as storage.read:/ or compute.create"));
}

int
keys_token_require_group(struct keys_ctx *ctx, const struct yaml_node *n,
    void *base)
{
	struct conf_route *r = base;

	return (token_list(ctx, n, &r->require_group, &r->nrequire_group, '/',
	    "a group such as /cms/production"));
}

int
keys_token_identity(struct keys_ctx *ctx, const struct yaml_node *n,
    void *base)
{
	struct conf_token_issuer *is = base;
	int		 ret;

	ret = ctx->walk(ctx, KEYS_SCOPE_TOKEN_IDENTITY, n, is);
	if (is->from == CONF_TOKEN_FROM_SUBJECT_MAP && is->map_file == NULL) {
		keys_err(ctx, n, "'from: subject_map' needs file:");
		ret = -1;
	}
	if (is->from != CONF_TOKEN_FROM_SUBJECT_MAP && is->map_file != NULL) {
		keys_err_at_key(ctx, n, "file", "is only used with 'from: "
		    "subject_map'");
		ret = -1;
	}
	if (is->from == CONF_TOKEN_FROM_SUBJECT_MAP && is->claim != NULL) {
		keys_err_at_key(ctx, n, "claim", "is not used with 'from: "
		    "subject_map' (it maps sub)");
		ret = -1;
	}
	return (ret);
}

int
keys_token_issuers(struct keys_ctx *ctx, const struct yaml_node *n,
    void *base)
{
	struct conf_tokens *t = base;
	struct conf_token_issuer *is;
	const struct yaml_node *item;
	size_t		 i, j, saved;
	int		 ret = 0;

	if (n->n == 0) {
		keys_err(ctx, n, "an empty list has no effect; remove the key");
		return (-1);
	}
	t->issuers = xcalloc(n->n, sizeof(*t->issuers));
	t->nissuers = n->n;
	for (i = 0; i < n->n; i++) {
		item = n->items[i];
		is = &t->issuers[i];
		is->line = item->line;
		is->col = item->col;
		saved = keys_where_index(ctx, i);
		if (item->kind != YAML_KIND_MAP) {
			keys_err_expected(ctx, item, "an issuer (a mapping "
			    "with issuer:, jwks:, audiences:)");
			ret = -1;
			keys_where_pop(ctx, saved);
			continue;
		}
		if (ctx->apply(ctx, KEYS_SCOPE_TOKEN_ISSUER, item, is) == -1)
			ret = -1;
		if (is->claim == NULL &&
		    is->from != CONF_TOKEN_FROM_SUBJECT_MAP)
			is->claim = xstrdup(is->from ==
			    CONF_TOKEN_FROM_CERN_PERSON_ID ? "cern_person_id" :
			    "preferred_username");
		for (j = 0; j < i && is->issuer != NULL; j++)
			if (t->issuers[j].issuer != NULL &&
			    strcmp(t->issuers[j].issuer, is->issuer) == 0) {
				keys_err_at_key(ctx, item, "issuer",
				    "is listed twice");
				ret = -1;
			}
		keys_where_pop(ctx, saved);
	}
	return (ret);
}

static void
token_strv_free(char **v, size_t n)
{
	size_t		 i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void
keys_token_free(struct conf *c)
{
	struct conf_tokens *t = &c->auth.tokens;
	size_t		 i;

	for (i = 0; i < t->nissuers; i++) {
		free(t->issuers[i].issuer);
		free(t->issuers[i].jwks);
		token_strv_free(t->issuers[i].audiences,
		    t->issuers[i].naudiences);
		free(t->issuers[i].map_file);
		free(t->issuers[i].claim);
		free(t->issuers[i].authn_method);
	}
	free(t->issuers);
	for (i = 0; i < c->nroutes; i++) {
		token_strv_free(c->routes[i].require_scope,
		    c->routes[i].nrequire_scope);
		token_strv_free(c->routes[i].require_group,
		    c->routes[i].nrequire_group);
	}
}
