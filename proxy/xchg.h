/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * The exchange: one request/response pair, and the seam between the
 * client session that carries it and forward.c, which works on it.
 * (HAProxy's mux/stream split and relayd's relay/relay_http split are the
 * models.)  The session (HTTP/1.1: conn.c; HTTP/2: h2.c, one exchange
 * per stream) parses and authorises a request into a struct
 * xchg, fills in the seam fields (ops, sess, wg, fw, peer, tls) and calls
 * forward_start().  From then on forward.c reaches the client only
 * through the operations table below (xchg_ops) and the accessors, never
 * through the session's own struct.  Exchanges come from a per-worker
 * free list (struct xchg_cache), so the steady state allocates nothing
 * per request.
 *
 * Floor: below forward.c and the client sessions; includes only
 * base/, auth/ and proxy/ leaves (http, bodybuf, gen).
 */

#ifndef PROXY_XCHG_H
#define PROXY_XCHG_H

#include <stddef.h>
#include <stdint.h>

#include "auth/auth.h"
#include "base/lit.h"
#include "base/sbuf.h"
#include "proxy/bodybuf.h"
#include "proxy/gen.h"
#include "proxy/http.h"

struct conf;
struct conf_route;
struct evbuffer;
struct forward_worker;
struct pool;
struct upconn;
struct xchg;

/*
 * What a client session does for its exchanges: the seam.  Every entry
 * takes the exchange; the session finds itself in x->sess.  "May free"
 * means the session may be gone when the call returns unless the caller
 * holds it (hold/release).
 */
struct xchg_ops {
	/* Request bytes received and not yet taken (read by forward.c, which
	 * drains what it consumes, head included). */
	struct evbuffer *(*req_in)(struct xchg *x);
	/* Where response body bytes for the client are added; the session
	 * writes them out as they come. */
	struct evbuffer *(*resp_out)(struct xchg *x);
	/* Deliver the response head (len bytes at p, copied). */
	void	(*deliver_head)(struct xchg *x, const char *p, size_t len);
	/* Tell the client it may send its body (Expect: 100-continue). */
	void	(*send_continue)(struct xchg *x);
	/* Stop reading the request body (backpressure: the backend lags). */
	void	(*pause_body)(struct xchg *x);
	/* Read the request body again; returns 1 when it was paused by
	 * pause_body, 0 (and does nothing) otherwise. */
	int	(*resume_body)(struct xchg *x);
	/* Stop (on = 1) or restart (on = 0) reading the body while x waits
	 * for body-buffer budget; the session bounds the wait by
	 * timeouts.body_idle. */
	void	(*wait_body)(struct xchg *x, int on);
	/* The client's read and write timeouts for the current phase. */
	void	(*set_timeouts)(struct xchg *x, unsigned read_ms,
		    unsigned write_ms);
	/* Answer x locally (conn_respond's contract); ends x.  May free. */
	void	(*respond)(struct xchg *x, int status, const char *hdrs,
		    const char *ctype, const char *body, size_t bodylen,
		    int close);
	/* 1 when the session cannot carry another exchange after this one
	 * (closing, draining, client half-closed with nothing pending). */
	int	(*must_close)(struct xchg *x);
	/* Mark the session to close once x's response is out. */
	void	(*close_after)(struct xchg *x);
	/* The response is complete: log, recycle x, go on.  May free. */
	void	(*finish)(struct xchg *x);
	/* Cut the client off (the response cannot be completed); reason is
	 * logged.  May free once the caller's hold is released. */
	void	(*abort)(struct xchg *x, const char *reason);
	/* Keep the session alive across a callback (x itself may be
	 * recycled meanwhile, hence the session handle); release returns 1
	 * when that freed it.  See xchg_hold(). */
	void	(*hold)(void *sess);
	int	(*release)(void *sess);
	/* 1 once abort or a close has been asked for. */
	int	(*closing)(struct xchg *x);
	/* Bytes the session holds for x now: its input not yet taken and
	 * its output (TLS records included) not yet sent. */
	size_t	(*buffered)(struct xchg *x);
	/* Relay a 103 (Early Hints) head from x->resp, or NULL: every 1xx
	 * is dropped.  Called while x->resp's pointers are valid. */
	void	(*interim)(struct xchg *x);
	/* The part of cap (limits.body_buffer) x's body may hold buffered,
	 * when the session shares one cap among its exchanges; NULL: all of
	 * it.  Never less than what x holds already (x->body_res). */
	size_t	(*body_cap)(struct xchg *x, size_t cap);
	/* 1 when the session frames the response body itself (HTTP/2 DATA
	 * frames): no chunked re-encoding, and no close needed to delimit a
	 * body; 0 for HTTP/1.1. */
	int	 frames_body;
};

/* A hold on the session behind an exchange, valid after x is recycled. */
struct xchg_ref {
	const struct xchg_ops	*ops;
	void			*sess;
};

/* Request body framing, both directions. */
enum xchg_body {
	XB_NONE = 0,
	XB_LENGTH,
	XB_CHUNKED,
	XB_CLOSE		/* response only: until the backend closes */
};

enum xchg_state {
	X_ST_HEAD = 0,		/* reading the request head */
	X_ST_LOCAL,		/* answered by gridfront itself */
	X_ST_BODY,		/* receiving and checking the request body */
	X_ST_CONNECTING,	/* waiting for an upstream connection */
	X_ST_FORWARD,		/* request and response flowing */
	X_ST_DONE
};

/*
 * One request/response exchange.  Taken from a per-worker free list and
 * returned there, so the steady state allocates nothing per request.
 */
struct xchg {
	/* Bookkeeping: zeroed by xchg_get() up to uphead. */
	/* The client session's side of the seam, set by the session before
	 * forward_start() and read through the accessors below: */
	const struct xchg_ops	*ops;
	void			*sess;		/* struct conn for HTTP/1.1 */
	/* wg, fw and peer are borrowed: the session holds them (and the
	 * generation reference) for as long as it carries x. */
	struct wgen		*wg;		/* the session's generation */
	struct forward_worker	*fw;		/* the worker's forward part */
	const char		*peer;		/* client address, as text */
	int			 peerport;
	int			 tls;		/* client came over TLS */
	/* forward.c's and the session's state of the exchange: */
	enum xchg_state		 state;
	const struct conf_route	*route;
	struct pool		*pool;
	struct upconn		*up;
	struct auth_decision	 ad;
	int			 have_ad;
	enum xchg_body		 reqbody;
	int64_t			 reqleft;
	/* request fully sent upstream */
	int			 req_done;
	int			 req_sent_any;	/* some body byte sent */
	enum xchg_body		 respbody;
	int			 resp_chunked_out; /* re-chunk to the client */
	int64_t			 respleft;
	int			 resp_head_sent;
	int			 resp_done;
	int			 up_paused;	/* upstream reads paused */
	int			 expect_continue;
	size_t			 body_res;	/* bytes reserved in bodybuf */
	struct bodybuf_wait	 body_wait;	/* waiting for bodybuf */
	int			 head_method;
	int			 idempotent;
	int			 status;
	unsigned		 tried;		/* backends tried (bitmask) */
	int			 stale_retry;
	uint64_t		 t_start;
	uint64_t		 t_up;
	uint64_t		 t_uphead;
	/* request fully sent upstream */
	uint64_t		 t_sent;
	uint64_t		 bytes_in;
	uint64_t		 bytes_out;
	const char		*error;		/* why it failed, for the log */
	struct xchg		*next;		/* free list */
	struct http_chunk	 reqchunk;
	struct http_chunk	 respchunk;
	struct http_req		 req;
	struct http_resp	 resp;
	/* Kept across reuse (not zeroed): */
	struct sbuf		 uphead;	/* upstream request head */
	struct evbuffer		*body;		/* buffered body, or NULL */
	/* Large buffers: written before they are read, never zeroed. */
	struct http_hdr		 hdrs[HTTP_MAX_HDRS];
	struct http_hdr		 rhdrs[HTTP_MAX_HDRS];
	char			 method[16];
	char			 target[512];	/* for the log, truncated */
	char			*path;		/* normalised path [pathcap] */
	char			*uppath;	/* rewritten path [pathcap] */
	/* [pathcap + 1], rewrite check */
	char			*upscratch;
	/* routing path: path, or it without ;params (upscratch) */
	const char		*mpath;
	size_t			 pathcap;
};

/* A worker's free exchanges (xchg.c's part of struct worker). */
struct xchg_cache {
	struct xchg		*xfree;
	unsigned		 nxfree;
};

/*
 * Take an exchange from xc's free list (or allocate one), reset for a new
 * request; its path buffers hold at least pathcap bytes (max_request_line
 * + 1 of the caller's generation).  Never returns NULL.  The caller fills
 * in the seam fields.
 */
struct xchg *xchg_get(struct xchg_cache *xc, size_t pathcap);

/*
 * Give x back: release its auth decision and any body-buffer budget (to
 * bp), then keep it on xc's free list or free it when the list is full.
 * x must not be used afterwards.
 */
void	 xchg_put(struct xchg_cache *xc, struct bodybuf *bp, struct xchg *x);

/* Free every exchange on xc's free list (worker teardown). */
void	 xchg_cache_free(struct xchg_cache *xc);

/* The HTTP parser limits of cf (requests and responses alike), in lim. */
void	 xchg_limits(const struct conf *cf, struct http_limits *lim);

/* Named accessors for the session's side of the seam. */
static inline const struct conf *
xchg_conf(const struct xchg *x)
{
	return (x->wg->gen->conf);
}

/* Hold x's session for the length of a callback (conn_ref's role). */
static inline void
xchg_hold(struct xchg *x, struct xchg_ref *r)
{
	r->ops = x->ops;
	r->sess = x->sess;
	r->ops->hold(r->sess);
}

/* End a hold; returns 1 when the session was freed by it. */
static inline int
xchg_release(struct xchg_ref *r)
{
	return (r->ops->release(r->sess));
}

/* Calls through the operations table. */
#define xchg_req_in(x)		((x)->ops->req_in(x))
#define xchg_resp_out(x)	((x)->ops->resp_out(x))
#define xchg_deliver_head(x, p, n) ((x)->ops->deliver_head((x), (p), (n)))
#define xchg_send_continue(x)	((x)->ops->send_continue(x))
#define xchg_pause_body(x)	((x)->ops->pause_body(x))
#define xchg_resume_body(x)	((x)->ops->resume_body(x))
#define xchg_wait_body(x, on)	((x)->ops->wait_body((x), (on)))
#define xchg_set_timeouts(x, r, w) ((x)->ops->set_timeouts((x), (r), (w)))
#define xchg_respond(x, st, h, ct, b, n, cl)				\
	((x)->ops->respond((x), (st), (h), (ct), (b), (n), (cl)))
/* xchg_respond() with a string-literal body (base/lit.h). */
#define xchg_respond_lit(x, st, h, ct, lit, cl)			\
	xchg_respond((x), (st), (h), (ct), (lit), LIT_LEN(lit), (cl))
#define xchg_must_close(x)	((x)->ops->must_close(x))
#define xchg_close_after(x)	((x)->ops->close_after(x))
#define xchg_finish(x)		((x)->ops->finish(x))
#define xchg_abort(x, why)	((x)->ops->abort((x), (why)))
#define xchg_closing(x)		((x)->ops->closing(x))
#define xchg_buffered(x)	((x)->ops->buffered(x))

#endif /* PROXY_XCHG_H */
