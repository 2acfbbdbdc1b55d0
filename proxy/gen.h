/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * Configuration generations.  A generation bundles one loaded conf with
 * the auth context and the SSL_CTXs built from it; it is refcounted across
 * threads and the newest one is "current".  A wgen is one worker's view of
 * a generation (its pools by backend id and each route's round-robin
 * cursor), refcounted inside that worker only.  Connections hold the
 * generation they were accepted under until they close.
 *
 * Floor: below the client sessions and forward.c, which read the conf of
 * their generation; gen.c calls only conf/, auth/ and proxy/tls.  struct
 * worker and struct pool are opaque here.
 */

#ifndef PROXY_GEN_H
#define PROXY_GEN_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

struct conf;
struct auth_ctx;
struct worker;
struct pool;
struct resolve;
struct upstream_eps;
struct uptls;

/* A shared, refcounted holder for an auth context: several generations
 * (a cert-only reload, say) may share one. */
struct authref {
	int		 refs;
	struct auth_ctx	*ctx;
};

struct gen {
	int		 refs;		/* atomic */
	uint64_t	 id;
	struct conf	*conf;		/* one reference */
	struct authref	*auth;		/* NULL when no route needs auth */
	SSL_CTX		**sslctx;	/* per conf listener; NULL if plain */
	struct resolve	*resolve;	/* backends' address sets */
	struct uptls	*uptls;		/* https backends; NULL: none */
};

/* Per-worker, per-generation state: each backend's address snapshot and
 * pools, indexed by backend id, and the round-robin cursor of each
 * route. */
struct wgen {
	int		 refs;		/* worker-local: conns + current */
	struct worker	*w;
	struct gen	*gen;		/* one reference */
	struct upstream_eps *eps;	/* [conf->nbackends] */
	unsigned	*rr;		/* [conf->nroutes] */
};

/*
 * Build a generation from conf: the auth context (unless share is given,
 * which is then referenced), every listener's SSL_CTX, the client
 * context of https backends (upstream.tls) and the backends' addresses
 * (resolve_new(), looking names up again; a name that fails keeps the
 * current generation's addresses).  Returns NULL with a reason in err.
 * conf's reference passes to the generation on
 * success only.  (Was server_gen_new.)
 */
struct gen *gen_new(struct conf *conf, struct authref *share,
	    char *err, size_t errlen);

/* Reference counting for generations (thread-safe).  gen_put(NULL) is a
 * no-op; the last put frees the SSL_CTXs, the auth reference and conf's
 * reference. */
struct gen *gen_get(struct gen *g);
void	 gen_put(struct gen *g);
/*
 * Main thread, from its periodic watch: when a generation was freed since
 * the last call (a reload whose last connection has gone), give the
 * allocator's free pages back to the system (malloc_trim), so that the
 * memory a reload briefly doubles does not stay in the RSS.  Frees
 * nothing of its own.
 */
void	 gen_trim(void);

/* The current generation, with a new reference (thread-safe); NULL before
 * the first gen_publish().  (Was server_current_gen.) */
struct gen *gen_current(void);

/* Make g current (takes the caller's reference; NULL clears) and drop the
 * reference to the one it replaces. */
void	 gen_publish(struct gen *g);

/* 1 when some route of cf (or its auth section) needs an auth context. */
int	 gen_needs_auth(const struct conf *cf);

/* Log the CRIC records the users map of ctx had to refuse, if any. */
void	 gen_users_note(struct auth_ctx *ctx);

/*
 * A worker's view of g, taking the caller's reference to g, with one
 * reference.  wid seeds the round-robin cursors so that workers spread
 * over backends from the first request on.  w is stored, not used.
 */
struct wgen *wgen_new(struct worker *w, unsigned wid, struct gen *g);

/* Take a fresh snapshot of every backend's addresses for wg (after the
 * main thread published new ones).  Worker thread; not per request. */
void	 wgen_refresh(struct wgen *wg);

/* Worker-local references to a wgen (no locking: one thread).  The last
 * put drops the generation reference.  wgen_put(NULL) is a no-op. */
struct wgen *wgen_get(struct wgen *wg);
void	 wgen_put(struct wgen *wg);

#endif /* PROXY_GEN_H */
