/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * The per-worker budget for buffered request bodies
 * (limits.body_buffer_total).  Exchanges that hold a body back from the
 * backend until it has been checked reserve its memory here in steps of
 * BODYBUF_STEP bytes; when the budget is used up they queue as waiters
 * and are called back, in order, once reservations are released.  This
 * bounds what a flood of slow uploaders can make one worker hold.  It
 * knows nothing of connections: forward.c owns the exchanges and decides
 * what a waiter does when woken.  One thread per pool, no locking.
 */

#ifndef PROXY_BODYBUF_H
#define PROXY_BODYBUF_H

#include <sys/queue.h>

#include <stddef.h>

struct event_base;
struct event;

/* Reservations are made in this unit (or the smaller remainder). */
#define BODYBUF_STEP	((size_t)64 * 1024)

struct bodybuf_wait;
typedef void	(*bodybuf_wake_cb)(struct bodybuf_wait *, void *);

/* A waiter, embedded in its owner; zero it before first use. */
struct bodybuf_wait {
	TAILQ_ENTRY(bodybuf_wait) entry;
	bodybuf_wake_cb		 cb;
	void			*arg;
	int			 queued;
};

TAILQ_HEAD(bodybuf_waitq, bodybuf_wait);

struct bodybuf {
	size_t			 used;		/* bytes reserved now */
	size_t			 cap;		/* the budget last asked with */
	unsigned long long	 waits;		/* times a reader had to wait */
	struct bodybuf_waitq	 waiters;
	unsigned		 nwaiters;
	int			 waking;	/* inside a waiter's callback */
	struct event		*wake;		/* runs the waiters */
};

/* A pool on base, empty; the caller frees it with bodybuf_free(), which
 * accepts NULL.  Aborts on allocation failure, like the other x* helpers. */
struct bodybuf *bodybuf_new(struct event_base *base);
void	 bodybuf_free(struct bodybuf *bp);

/*
 * Reserve n bytes (at most BODYBUF_STEP make sense) against a budget of
 * cap bytes.  Returns 0 when granted, -1 when the budget is used up or
 * others are already waiting (so waiters are served first).
 */
int	 bodybuf_reserve(struct bodybuf *bp, size_t n, size_t cap);

/* Give back n reserved bytes; wakes waiters from the loop (never from
 * inside this call). */
void	 bodybuf_release(struct bodybuf *bp, size_t n);

/*
 * Queue w to be called back with arg once memory was released.  The
 * callback runs from the event loop with w already dequeued; it should
 * retry its reservation and may queue again.  No-op when w is queued.
 */
void	 bodybuf_wait(struct bodybuf *bp, struct bodybuf_wait *w,
	    bodybuf_wake_cb cb, void *arg);

/* Remove w from the queue if it is there. */
void	 bodybuf_cancel(struct bodybuf *bp, struct bodybuf_wait *w);

#endif /* PROXY_BODYBUF_H */
