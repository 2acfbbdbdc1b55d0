/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * The process model: one main thread (signals, reload, file watching, the
 * admin listener) and N worker threads, each with its own event_base and
 * its own SO_REUSEPORT listeners, so that nothing is shared on the request
 * path.  A "generation" bundles one loaded conf with the auth context and
 * the SSL_CTXs built from it; connections hold the generation they were
 * accepted under until they close.
 */

#ifndef PROXY_SERVER_H
#define PROXY_SERVER_H

#include <sys/queue.h>
#include <sys/socket.h>

#include <pthread.h>
#include <stdint.h>

#include <event2/event.h>
#include <event2/listener.h>
#include <openssl/ssl.h>

#include "proxy/util.h"

struct conf;
struct auth_ctx;
struct conn;
struct xchg;
struct pool;
struct metrics_worker;
struct bodybuf;

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
};

/* One listening socket of one worker. */
struct wlistener {
	struct worker		*w;
	struct evconnlistener	*lev;
	char			*address;	/* as in the conf */
	int			 tls;
	int			 idx;		/* listener index in w->gen */
	struct event		*retry;		/* EMFILE back-off timer */
	TAILQ_ENTRY(wlistener)	 entry;
};
TAILQ_HEAD(wlistener_list, wlistener);
TAILQ_HEAD(conn_list, conn);

/* Per-worker, per-generation state: pools indexed by backend id and the
 * round-robin cursor of each route. */
struct wgen {
	int		 refs;		/* worker-local: conns + current */
	struct worker	*w;
	struct gen	*gen;		/* one reference */
	struct pool	**pools;	/* [conf->nbackends] */
	unsigned	*rr;		/* [conf->nroutes] */
};

struct worker {
	unsigned		 id;
	pthread_t		 thread;
	struct event_base	*base;
	int			 ctl[2];	/* pipe: main -> worker */
	struct event		*ctl_ev;
	struct event		*tick;		/* 1 s housekeeping */
	struct wlistener_list	 listeners;
	struct wgen		*wg;		/* current generation */
	struct conn_list	 conns;
	unsigned		 nconns;
	int			 draining;
	int			 accept_paused;
	struct xchg		*xfree;		/* free exchanges */
	unsigned		 nxfree;
	struct pool		*allpools;	/* every pool of this worker */
	struct sbuf		 hbuf;		/* response heads are built here */
	char			*logbuf;	/* access lines not yet handed off */
	size_t			 loglen;
	struct metrics_worker	*m;
	struct bodybuf		*bodybuf;	/* request-body budget */
};

/* Run the server until stopped; returns the exit status.  Takes ownership
 * of conf (one reference). */
int	 server_run(struct conf *conf);

/* Build a generation from conf: the auth context (unless share is given,
 * which is then referenced) and every listener's SSL_CTX.  Returns NULL
 * with a reason in err.  conf's reference passes to the generation on
 * success only. */
struct gen *server_gen_new(struct conf *conf, struct authref *share,
	    char *err, size_t errlen);

/* Reference counting for generations (thread-safe). */
struct gen *gen_get(struct gen *g);
void	 gen_put(struct gen *g);

/* The current generation, with a new reference (thread-safe). */
struct gen *server_current_gen(void);

/* Worker-local references to a wgen (no locking: one thread). */
struct wgen *wgen_get(struct wgen *wg);
void	 wgen_put(struct wgen *wg);

/* Called by a worker when one of its connections is gone: resumes accepting
 * if it was paused and finishes a drain. */
void	 server_conn_gone(struct worker *w);

#endif /* PROXY_SERVER_H */
