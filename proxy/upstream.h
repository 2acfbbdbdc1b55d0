/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * Upstream connection pools: one pool per worker per backend address.  A
 * pool keeps idle keep-alive connections (bounded count, idle timeout,
 * liveness check before reuse), opens new ones with a connect timeout,
 * and carries the passive health state of its backend (marked down for a
 * while after a connect failure).  A backend named by host name has one
 * pool per address it resolves to (resolve.h); upstream_pick() runs the
 * round-robin over them, and pools of addresses that left DNS are retired
 * (drained).  Used by forward.c; metrics.c reads the pools' counters.
 * Each worker's pools hang off its struct upstream_worker.
 */

#ifndef PROXY_UPSTREAM_H
#define PROXY_UPSTREAM_H

#include <sys/queue.h>
#include <sys/socket.h>

#include <stdint.h>

#include "proxy/cio.h"

struct event_base;
struct conf_backend;
struct resolve_set;
struct uptls;
struct uptls_peer;
struct xchg;

struct upconn {
	struct pool		*pool;
	struct cio		 io;		/* owns the fd */
	/* current user; NULL when idle */
	struct xchg		*x;
	int			 reused;	/* came from the idle list */
	int			 connected;
	unsigned		 nreq;		/* requests carried so far */
	uint64_t		 idle_since;	/* clock_now_us() when pooled */
	uint64_t		 tls_id;	/* https: its context's id */
	TAILQ_ENTRY(upconn)	 entry;		/* idle list */
};
TAILQ_HEAD(upconn_list, upconn);

struct pool_stats {
	uint64_t		 connects;	/* new connections attempted */
	uint64_t		 connect_errors;
	uint64_t		 reuses;	/* idle connection reused */
	uint64_t		 retries;
	uint64_t		 errors;	/* failed exchanges */
	uint64_t		 requests;
	/* https backends */
	uint64_t		 tls_handshakes;	/* completed */
	uint64_t		 tls_resumed;		/* of which resumed */
	uint64_t		 tls_verify_failures;	/* cert refused */
	uint64_t		 tls_errors;		/* other failures */
};

struct pool {
	struct upstream_worker	*uw;		/* the worker's part it is on */
	struct sockaddr_storage	 addr;
	socklen_t		 addrlen;
	char			 name[128];	/* backend URL, for logs */
	struct upconn_list	 idle;
	unsigned		 nidle;
	unsigned		 nactive;
	unsigned		 max_idle;
	unsigned		 idle_timeout;	/* ms */
	uint64_t		 down_until;	/* clock_now_us() deadline */
	/* The address left DNS: no pooling, idle connections closed;
	 * in-flight ones finish.  Cleared if it comes back. */
	int			 retired;
	char			 addrtext[64];	/* "ip:port" of a backend
						 * named by host name, for
						 * metrics; "" for literals */
	struct pool_stats	 st;
	struct uptls_peer	*tls;		/* https; NULL: plain */
	struct pool		*next;		/* worker's list of pools */
};

/* upstream.c's part of struct worker. */
struct upstream_worker {
	struct event_base	*base;		/* the worker's loop */
	struct pool		*allpools;	/* every pool of this worker */
	int			 draining;	/* pool nothing any more */
};

/*
 * Find this worker's pool for address ss of backend b, creating it on
 * first use.  Pools are keyed by address, live as long as the worker, and
 * their name and limits are updated from the newest generation that
 * refers to them; a retired pool found again is back in service.  Never
 * returns NULL.
 */
struct pool	*upstream_pool_lookup(struct upstream_worker *uw,
		    const struct conf_backend *b,
		    const struct sockaddr_storage *ss, socklen_t sslen,
		    unsigned max_idle, unsigned idle_timeout);

/*
 * One backend's endpoints in a worker's view of a generation: the address
 * set snapshot it uses and the pool of each address (created on first
 * use).  Owned by the wgen; touched by its worker thread only.
 */
struct upstream_eps {
	struct resolve_set	*set;		/* one reference */
	struct pool		**pools;	/* [set->n] */
};

/* Make s (its reference passes to e) e's set; the pool pointers start
 * over.  s == NULL empties e (free).  Not for the request path. */
void		 upstream_eps_set(struct upstream_eps *e,
		    struct resolve_set *s);

/* What pools get from the generation in upstream_pick(). */
struct upstream_limits {
	unsigned	 max_idle;
	unsigned	 idle_timeout;	/* ms */
	struct uptls	*tls;		/* https backends' context, or NULL */
};

/*
 * Round-robin over every address of the backends bs[0..nb) (eps indexed
 * by backend id): candidates are counted across the backends in order,
 * start picks the first one looked at, and one whose bit (k % 32) is set
 * in *tried or whose pool is marked down at now is skipped.  Returns the
 * chosen pool with its bit now set in *tried (and, when bi is not NULL,
 * the index in bs of the backend it belongs to in *bi), or NULL when no
 * address is left.  No allocation beyond a pool's first use.
 */
struct pool	*upstream_pick(struct upstream_worker *uw,
		    struct upstream_eps *eps,
		    const struct conf_backend *const *bs, size_t nb,
		    unsigned start, unsigned *tried, uint64_t now,
		    const struct upstream_limits *lim, size_t *bi);

/*
 * Retire every pool of uw whose address is in none of eps[0..n) (the
 * current view): its idle connections close now, and connections in use
 * close when given back.  Not for the request path.
 */
void		 upstream_retire_unused(struct upstream_worker *uw,
		    const struct upstream_eps *eps, size_t n);

/*
 * https pools: make t the TLS context of p's new connections (the newest
 * generation's, like the limits).  Pooled connections made under another
 * context are not reused, and sessions from it are not resumed.  No-op
 * on a plain pool.
 */
void		 upstream_pool_set_tls(struct pool *p, struct uptls *t);

/*
 * The connection's (TLS) handshake is done: counts it, and whether it
 * was resumed.  Plain connections: no-op.
 */
void		 upstream_connected(struct upconn *u);

/*
 * A connection that never got BEV_EVENT_CONNECTED failed: 1 (and the
 * reason in buf) when its backend's certificate was refused, 2 for
 * another TLS failure, 0 otherwise; counted in p->st.
 */
int		 upstream_tls_failure(struct upconn *u, char *buf, size_t len);

/* 1 when the backend is marked down at time now (clock_now_us()). */
int		 upstream_pool_is_down(const struct pool *p, uint64_t now);

/* Mark the backend down until now + ms. */
void		 upstream_pool_mark_down(struct pool *p, uint64_t now,
		    unsigned ms);

/*
 * Take an idle connection that passes the liveness check, or return NULL.
 * The returned connection has no callbacks set; the caller sets its own
 * and owns it until upstream_put() or upstream_free().
 */
struct upconn	*upstream_take(struct pool *p);

/*
 * Start a new non-blocking connection to p's backend with the given
 * connect timeout (ms).  Returns the connection (connected == 0 until the
 * caller's event callback sees BEV_EVENT_CONNECTED), or NULL when the
 * socket could not even be created.  Callbacks are the caller's to set,
 * right after this returns (cio reports connect results from the loop,
 * never synchronously).
 */
struct upconn	*upstream_connect(struct pool *p, unsigned timeout_ms);

/*
 * Give a connection back: it goes to the idle list when the pool has room
 * (the caller vouches it is clean: response fully read, request fully
 * sent, keep-alive allowed, nothing buffered), otherwise it is closed.
 * u must not be used afterwards.
 */
void		 upstream_put(struct upconn *u);

/* Close and free a connection that is not clean.  NULL is a no-op. */
void		 upstream_free(struct upconn *u);

/* Close every idle connection of every pool of uw (drain, shutdown). */
void		 upstream_close_idle(struct upstream_worker *uw);

/* Free every pool of uw; no connection may be active. */
void		 upstream_pools_free(struct upstream_worker *uw);

#endif /* PROXY_UPSTREAM_H */
