/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * Backend host names and their addresses.  Every backend of a generation
 * has an address set: an immutable, refcounted snapshot of all its A and
 * AAAA records (or its one IP literal).  resolve_new() looks the names up
 * when a generation is built (start, reload, `-t`); resolve_start() then
 * looks them up again in the background on the main thread with libevent's
 * evdns, every upstream.resolve_interval, and publishes a changed set by
 * swapping a pointer under a mutex that only the main thread and a worker
 * taking a new snapshot (never a request) touch.  A name that stops
 * resolving keeps its last good set.  Workers hold their snapshots in
 * upstream.c's struct upstream_eps.
 */

#ifndef PROXY_RESOLVE_H
#define PROXY_RESOLVE_H

#include <sys/socket.h>

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

struct conf;
struct event_base;
struct evbuffer;

/* At most this many addresses per name are used (sorted, the lowest). */
#define RESOLVE_MAX_ADDRS	16

/* One backend's addresses: immutable once published. */
struct resolve_set {
	int			 refs;		/* atomic */
	size_t			 n;
	struct sockaddr_storage	 addr[RESOLVE_MAX_ADDRS];	/* sorted */
	socklen_t		 len[RESOLVE_MAX_ADDRS];
};

/* One backend's name state (main thread, except set under mtx). */
struct resolve_name {
	struct resolve_set	*set;		/* current; under mtx */
	int			 literal;	/* no DNS at all */
	int			 busy;		/* a lookup is in flight */
	int			 failing;	/* the last lookup failed */
	uint64_t		 good_at;	/* clock_now_us() of the last
						 * good answer */
	uint64_t		 failures;	/* lookups that gave nothing */
};

/* The address sets of one generation's backends (conf->backends order). */
struct resolve {
	int			 refs;		/* atomic */
	pthread_mutex_t		 mtx;
	struct conf		*conf;		/* one reference: lookups in
						 * flight may outlive the
						 * generation */
	size_t			 n;
	struct resolve_name	*names;		/* [conf->nbackends] */
};

/*
 * Empty set with one reference; resolve_set_add() fills it before it is
 * published.  Never NULL.
 */
struct resolve_set *resolve_set_new(void);

/* Add an address (port included) unless already there, keeping the set
 * sorted; returns 0, or -1 when it is full or len does not fit. */
int	 resolve_set_add(struct resolve_set *s, const struct sockaddr *sa,
	    socklen_t len);

/* 1 when s holds the address sa (port included); else 0. */
int	 resolve_set_has(const struct resolve_set *s,
	    const struct sockaddr *sa, socklen_t len);

/* 1 when a and b hold the same addresses (NULLs are empty sets). */
int	 resolve_set_equal(const struct resolve_set *a,
	    const struct resolve_set *b);

/* References (thread-safe); resolve_set_put(NULL) is a no-op. */
struct resolve_set *resolve_set_get(struct resolve_set *s);
void	 resolve_set_put(struct resolve_set *s);

/*
 * Look up every backend host name of cf, now, with a private event loop
 * (bounded by evdns timeouts: a few seconds at worst), through
 * cf->upstream.resolvers or /etc/resolv.conf and /etc/hosts.  A name that
 * gives no address keeps prev's set for the same URL when prev (a running
 * generation's, may be NULL) has one; otherwise resolve_new() fails with
 * "file:line:col: ..." in err and returns NULL.  The result takes its
 * own reference to cf and has one reference.
 */
struct resolve *resolve_new(struct conf *cf, const struct resolve *prev,
	    char *err, size_t errlen);

/* References (thread-safe); the last put frees the sets.  NULL is a
 * no-op for resolve_put. */
struct resolve *resolve_ref(struct resolve *r);
void	 resolve_put(struct resolve *r);

/* Backend id's current set with a new reference (takes r's mutex: call it
 * when taking a snapshot, never per request).  Never NULL. */
struct resolve_set *resolve_get(struct resolve *r, size_t id);

/*
 * Start background lookups on base (the main thread's loop).  current()
 * returns the resolve of the generation in force with a reference (or
 * NULL); changed() is called on the main thread after a set of it was
 * replaced.  Returns 0, or -1 when evdns cannot be set up.
 */
int	 resolve_start(struct event_base *base,
	    struct resolve *(*current)(void), void (*changed)(void));

/* Stop background lookups (pending ones are cancelled). */
void	 resolve_stop(void);

/* Append the DNS metric families of r (may be NULL) to out, in the
 * Prometheus text format.  Main thread. */
void	 resolve_metrics(const struct resolve *r, struct evbuffer *out);

#endif /* PROXY_RESOLVE_H */
