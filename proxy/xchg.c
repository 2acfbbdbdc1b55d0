/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * Exchanges (see xchg.h): the per-worker free list that recycles them
 * with their path buffers and body buffer, and the HTTP parser limits an
 * exchange's heads are parsed under (one place for requests in the
 * sessions and responses in forward.c).  Moved out of conn.c.
 *
 * Floor: below forward.c and the client sessions; calls auth/ (to
 * release a decision), bodybuf and base/ only.
 */

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "auth/auth.h"
#include "conf/conf.h"
#include "proxy/bodybuf.h"
#include "proxy/http.h"
#include "proxy/util.h"
#include "proxy/xchg.h"

/*
 * Exchanges kept per worker: above http2.max_concurrent_streams' default
 * (100), so that one busy HTTP/2 connection's streams recycle theirs
 * instead of freeing and allocating about 12 KiB each as their number
 * swings (h2-ka-10x10 holds 100 in flight).  At most about 1.6 MiB.
 */
#define XCHG_FREE_MAX	128

/* See xchg.h. */
struct xchg *
xchg_get(struct xchg_cache *xc, size_t pathcap)
{
	struct xchg	*x;

	if ((x = xc->xfree) != NULL) {
		xc->xfree = x->next;
		xc->nxfree--;
	} else {
		x = xmalloc(sizeof(*x));
		memset(&x->uphead, 0, sizeof(x->uphead));
		x->path = x->uppath = x->upscratch = NULL;
		x->body = NULL;
		x->pathcap = 0;
	}
	if (x->pathcap < pathcap) {
		free(x->path);
		free(x->uppath);
		free(x->upscratch);
		x->path = xmalloc(pathcap);
		x->uppath = xmalloc(pathcap);
		x->upscratch = xmalloc(pathcap + 1);
		x->pathcap = pathcap;
	}
	/* Reset the bookkeeping; the large arrays are written before read. */
	memset(x, 0, offsetof(struct xchg, uphead));
	x->uphead.len = 0;
	x->method[0] = '\0';
	x->target[0] = '\0';
	x->path[0] = '\0';
	x->next = NULL;
	x->t_start = clock_now_us();
	x->req.content_length = -1;
	return (x);
}

/* See xchg.h. */
void
xchg_put(struct xchg_cache *xc, struct bodybuf *bp, struct xchg *x)
{
	if (x->have_ad) {
		auth_decision_release(&x->ad);
		x->have_ad = 0;
	}
	/* A buffered request body gives its budget and bytes back. */
	if (x->body_res > 0 || x->body_wait.queued) {
		bodybuf_cancel(bp, &x->body_wait);
		bodybuf_release(bp, x->body_res);
		x->body_res = 0;
	}
	if (x->body != NULL && evbuffer_get_length(x->body) > 0)
		evbuffer_drain(x->body, evbuffer_get_length(x->body));
	if (xc->nxfree >= XCHG_FREE_MAX) {
		if (x->body != NULL)
			evbuffer_free(x->body);
		free(x->uphead.p);
		free(x->path);
		free(x->uppath);
		free(x->upscratch);
		free(x);
		return;
	}
	x->next = xc->xfree;
	xc->xfree = x;
	xc->nxfree++;
}

/* See xchg.h. */
void
xchg_cache_free(struct xchg_cache *xc)
{
	struct xchg	*x;

	while ((x = xc->xfree) != NULL) {
		xc->xfree = x->next;
		free(x->uphead.p);
		free(x->path);
		free(x->uppath);
		free(x->upscratch);
		if (x->body != NULL)
			evbuffer_free(x->body);
		free(x);
	}
}

/* See xchg.h. */
void
xchg_limits(const struct conf *cf, struct http_limits *lim)
{
	lim->max_request_line = cf->limits.max_request_line;
	lim->max_header_field = cf->limits.max_header_field;
	lim->max_header_block = cf->limits.max_header_block;
	lim->max_header_count = cf->limits.max_header_count;
	lim->max_chunk_ext = cf->limits.max_chunk_ext;
}
