/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * Per-worker accounting of request-body buffer memory, with a FIFO of
 * exchanges waiting for some of it.  The memory itself lives in each
 * exchange's evbuffer; this file only decides who may grow one.  Used by
 * forward.c (reserve, release, wait) and server.c (one pool per worker).
 */

#include <sys/queue.h>

#include <stdlib.h>

#include <event2/event.h>

#include "proxy/bodybuf.h"
#include "proxy/log.h"
#include "proxy/util.h"

static void
bodybuf_run_cb(evutil_socket_t fd, short what, void *arg)
{
	struct bodybuf		*bp = arg;
	struct bodybuf_wait	*w;
	unsigned		 n = bp->nwaiters;

	(void)fd;
	(void)what;
	/*
	 * Wake in order while a step is free.  A woken waiter that still
	 * finds too little queues again at the tail; n bounds the pass.
	 */
	while (n-- > 0 && (w = TAILQ_FIRST(&bp->waiters)) != NULL &&
	    bp->used + BODYBUF_STEP <= bp->cap) {
		TAILQ_REMOVE(&bp->waiters, w, entry);
		w->queued = 0;
		bp->nwaiters--;
		bp->waking = 1;
		w->cb(w, w->arg);
		bp->waking = 0;
	}
}

struct bodybuf *
bodybuf_new(struct event_base *base)
{
	struct bodybuf	*bp;

	bp = xcalloc(1, sizeof(*bp));
	TAILQ_INIT(&bp->waiters);
	if ((bp->wake = event_new(base, -1, 0, bodybuf_run_cb, bp)) == NULL)
		fatalx("out of memory");
	return (bp);
}

void
bodybuf_free(struct bodybuf *bp)
{
	if (bp == NULL)
		return;
	event_free(bp->wake);
	free(bp);
}

int
bodybuf_reserve(struct bodybuf *bp, size_t n, size_t cap)
{
	bp->cap = cap;
	if (bp->used + n > cap || (bp->nwaiters > 0 && !bp->waking))
		return (-1);
	bp->used += n;
	return (0);
}

void
bodybuf_release(struct bodybuf *bp, size_t n)
{
	bp->used = n < bp->used ? bp->used - n : 0;
	if (bp->nwaiters > 0 && bp->used + BODYBUF_STEP <= bp->cap)
		event_active(bp->wake, EV_TIMEOUT, 0);
}

void
bodybuf_wait(struct bodybuf *bp, struct bodybuf_wait *w, bodybuf_wake_cb cb,
    void *arg)
{
	if (w->queued)
		return;
	w->cb = cb;
	w->arg = arg;
	w->queued = 1;
	TAILQ_INSERT_TAIL(&bp->waiters, w, entry);
	bp->nwaiters++;
	bp->waits++;
	/* Room may have come back between the refusal and now. */
	if (bp->used + BODYBUF_STEP <= bp->cap)
		event_active(bp->wake, EV_TIMEOUT, 0);
}

void
bodybuf_cancel(struct bodybuf *bp, struct bodybuf_wait *w)
{
	if (!w->queued)
		return;
	TAILQ_REMOVE(&bp->waiters, w, entry);
	w->queued = 0;
	bp->nwaiters--;
	if (bp->nwaiters > 0 && bp->used + BODYBUF_STEP <= bp->cap)
		event_active(bp->wake, EV_TIMEOUT, 0);
}
