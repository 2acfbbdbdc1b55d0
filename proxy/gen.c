/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * Configuration generations and their refcounts (see gen.h): building one
 * from a loaded conf (auth context, per-listener SSL_CTX), publishing the
 * current one under a mutex for every thread, and each worker's wgen view
 * of it.  Moved out of server.c, which keeps the main thread only.
 *
 * Includes: conf/, auth/, proxy/tls and proxy/log below it; nothing of
 * the client sessions, forward.c or the worker threads.
 */

#include <pthread.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ssl.h>

#include "auth/auth.h"
#include "conf/conf.h"
#include "proxy/gen.h"
#include "proxy/log.h"
#include "proxy/resolve.h"
#include "proxy/tls.h"
#include "proxy/upstream.h"
#include "proxy/uptls.h"
#include "proxy/util.h"

static pthread_mutex_t	 gen_mtx = PTHREAD_MUTEX_INITIALIZER;
static struct gen	*cur_gen;
static uint64_t		 gen_seq;

/* ------------------------------------------------------------------ */
/* Generations                                                         */
/* ------------------------------------------------------------------ */

struct gen *
gen_get(struct gen *g)
{
	if (g != NULL)
		__atomic_add_fetch(&g->refs, 1, __ATOMIC_ACQ_REL);
	return (g);
}

static void
authref_put(struct authref *a)
{
	if (a == NULL)
		return;
	if (__atomic_sub_fetch(&a->refs, 1, __ATOMIC_ACQ_REL) == 0) {
		auth_ctx_free(a->ctx);
		free(a);
	}
}

/* Set when a generation was freed; gen_trim() hands the memory back. */
static int	 gen_freed;

void
gen_put(struct gen *g)
{
	size_t	 i;

	if (g == NULL || __atomic_sub_fetch(&g->refs, 1, __ATOMIC_ACQ_REL))
		return;
	__atomic_store_n(&gen_freed, 1, __ATOMIC_RELEASE);
	for (i = 0; i < g->conf->nlisteners; i++)
		SSL_CTX_free(g->sslctx[i]);
	free(g->sslctx);
	uptls_put(g->uptls);
	authref_put(g->auth);
	resolve_put(g->resolve);
	conf_put(g->conf);
	free(g);
}

/* Return freed memory to the system after a generation went.  See gen.h. */
void
gen_trim(void)
{
	if (__atomic_exchange_n(&gen_freed, 0, __ATOMIC_ACQ_REL))
		(void)malloc_trim(0);
}

/* Does any route need the auth context?  See gen.h. */
int
gen_needs_auth(const struct conf *cf)
{
	size_t	 i;

	if (cf->auth.ca_path != NULL)
		return (1);
	for (i = 0; i < cf->nroutes; i++)
		if (cf->routes[i].auth != CONF_AUTH_NONE)
			return (1);
	return (0);
}

/* Warn about CRIC records the users map in force had to refuse. */
void
gen_users_note(struct auth_ctx *ctx)
{
	char	 note[512];

	if (auth_ctx_users_note(ctx, note, sizeof(note)) > 0)
		log_warn("%s", note);
}

/* Warnings of the first auth load, one log line each. */
static void
gen_log_notes(const char *notes)
{
	const char	*nl;

	while (*notes != '\0') {
		nl = strchr(notes, '\n');
		log_warn("auth: %.*s", nl != NULL ? (int)(nl - notes) :
		    (int)strlen(notes), notes);
		if (nl == NULL)
			break;
		notes = nl + 1;
	}
}

struct gen *
gen_new(struct conf *cf, struct authref *share, char *err,
    size_t errlen)
{
	struct gen	*g, *cur;
	size_t		 i;

	g = xcalloc(1, sizeof(*g));
	g->refs = 1;
	g->sslctx = xcalloc(cf->nlisteners, sizeof(SSL_CTX *));
	if (share != NULL) {
		__atomic_add_fetch(&share->refs, 1, __ATOMIC_ACQ_REL);
		g->auth = share;
	} else if (gen_needs_auth(cf)) {
		g->auth = xcalloc(1, sizeof(*g->auth));
		g->auth->refs = 1;
		if ((g->auth->ctx = auth_ctx_new(&cf->auth, err, errlen)) ==
		    NULL) {
			free(g->auth);
			g->auth = NULL;
			goto fail;
		}
		gen_users_note(g->auth->ctx);
		gen_log_notes(auth_ctx_notes(g->auth->ctx));
	}
	for (i = 0; i < cf->nlisteners; i++) {
		if (!cf->listeners[i].tls)
			continue;
		g->sslctx[i] = tls_server_ctx_new(&cf->listeners[i],
		    g->auth ? g->auth->ctx : NULL, err, errlen);
		if (g->sslctx[i] == NULL)
			goto fail;
	}
	cur = gen_current();
	g->resolve = resolve_new(cf, cur != NULL ? cur->resolve : NULL, err,
	    errlen);
	gen_put(cur);
	if (g->resolve == NULL)
		goto fail;
	if (uptls_needed(cf) &&
	    (g->uptls = uptls_new(cf, err, errlen)) == NULL)
		goto fail;
	g->conf = cf;
	g->id = __atomic_add_fetch(&gen_seq, 1, __ATOMIC_ACQ_REL);
	return (g);
fail:
	for (i = 0; i < cf->nlisteners; i++)
		SSL_CTX_free(g->sslctx[i]);
	free(g->sslctx);
	uptls_put(g->uptls);
	resolve_put(g->resolve);
	authref_put(g->auth);
	free(g);
	return (NULL);
}

struct gen *
gen_current(void)
{
	struct gen	*g;

	pthread_mutex_lock(&gen_mtx);
	g = gen_get(cur_gen);
	pthread_mutex_unlock(&gen_mtx);
	return (g);
}

void
gen_publish(struct gen *g)
{
	struct gen	*old;

	pthread_mutex_lock(&gen_mtx);
	old = cur_gen;
	cur_gen = g;
	pthread_mutex_unlock(&gen_mtx);
	gen_put(old);
}

/* ------------------------------------------------------------------ */
/* Per-worker generation state                                         */
/* ------------------------------------------------------------------ */

struct wgen *
wgen_new(struct worker *w, unsigned wid, struct gen *g)
{
	struct wgen	*wg = xcalloc(1, sizeof(*wg));

	wg->refs = 1;
	wg->w = w;
	wg->gen = g;			/* takes the caller's reference */
	wg->eps = xcalloc(g->conf->nbackends ? g->conf->nbackends : 1,
	    sizeof(*wg->eps));
	wgen_refresh(wg);
	wg->rr = xcalloc(g->conf->nroutes, sizeof(*wg->rr));
	/* Spread workers over backends from the first request on. */
	{
		size_t i;

		for (i = 0; i < g->conf->nroutes; i++)
			wg->rr[i] = wid;
	}
	return (wg);
}

struct wgen *
wgen_get(struct wgen *wg)
{
	wg->refs++;
	return (wg);
}

void
wgen_refresh(struct wgen *wg)
{
	struct resolve_set	*s;
	size_t			 i;

	for (i = 0; i < wg->gen->conf->nbackends; i++) {
		s = resolve_get(wg->gen->resolve, i);
		if (s == wg->eps[i].set) {
			resolve_set_put(s);	/* unchanged: keep the pools */
			continue;
		}
		upstream_eps_set(&wg->eps[i], s);
	}
}

void
wgen_put(struct wgen *wg)
{
	size_t	 i;

	if (wg == NULL || --wg->refs > 0)
		return;
	for (i = 0; i < wg->gen->conf->nbackends; i++)
		upstream_eps_set(&wg->eps[i], NULL);
	free(wg->eps);
	gen_put(wg->gen);
	free(wg->rr);
	free(wg);
}
