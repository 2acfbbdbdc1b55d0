/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * Forwarding one exchange to a backend: build the upstream request head
 * (hop-by-hop and identity headers stripped, X-Forwarded-* and the signed
 * auth headers added), pick a backend round-robin with passive health,
 * stream the request body up and the response back with watermark
 * backpressure, and decide whether the upstream connection is clean
 * enough to pool.  The only file that uses both auth results and
 * upstream pools.
 */

#ifndef PROXY_FORWARD_H
#define PROXY_FORWARD_H

#include "base/sbuf.h"

struct xchg;
struct http_hdr;
struct bodybuf;
struct upstream_worker;
struct metrics_worker;

/* forward.c's part of struct worker: response heads are built in hbuf;
 * the worker's body budget and pools, set by the worker.  Exchanges
 * reach it through x->fw. */
struct forward_worker {
	struct sbuf		 hbuf;
	struct bodybuf		*bodybuf;	/* request-body budget */
	struct upstream_worker	*up;		/* upstream pools */
	struct metrics_worker	*m;		/* the worker's metrics block */
};

/* Free fw's buffer (worker teardown). */
void	 forward_worker_free(struct forward_worker *fw);

/*
 * Start forwarding x, whose head has been parsed, routed and authorised,
 * and whose seam fields (ops, sess, wg, fw, peer, tls) the client session
 * has set.  The head's bytes are still at the front of xchg_req_in(x)
 * (x->req points into them): forward_start() reads them and drains them
 * (x->req.head_len bytes) on every path, success or failure, and clears
 * x->req's header pointers.  On failure an error response is sent with
 * xchg_respond().  The session may be freed only through its deferred
 * close, never during this call.
 */
void	 forward_start(struct xchg *x);

/* The client has more request-body bytes (read callback). */
void	 forward_client_read(struct xchg *x);

/* The client's output drained below the low watermark. */
void	 forward_client_drained(struct xchg *x);

/* Abort x: the client went away or failed.  Frees the upstream
 * connection (never pooled). */
void	 forward_abort(struct xchg *x);

/*
 * Does the client get the backend's response header h of x (HTTP/1.1
 * head or HTTP/2 HEADERS)?  0 for hop-by-hop and framing headers, and
 * for a Content-Length that does not size the body sent.  Owns nothing.
 */
int	 forward_resp_hdr_kept(const struct xchg *x, const struct http_hdr *h);

#endif /* PROXY_FORWARD_H */
