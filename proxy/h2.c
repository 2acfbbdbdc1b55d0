/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * The HTTP/2 client session: one TLS connection (a struct conn that chose
 * h2 by ALPN) carrying many streams, each an exchange for forward.c.
 * libnghttp2 does the framing, HPACK, flow control and most of RFC 9113
 * section 8's message checks; this file adds the rest (8.3.1 :authority
 * against Host, origin-form :path, no CONNECT, identity headers in
 * trailers, every header nghttp2 would merely ignore), turns each
 * stream's header list into an HTTP/1.1 head that goes through the same
 * parser and the same decision path as an HTTP/1.1 request (conn.c's
 * conn_stream_decide()), and implements the exchange seam (xchg_ops) per
 * stream: the response head becomes a HEADERS frame, its body DATA
 * frames.  It does not route, authorise or talk to backends.
 *
 * Flow control carries backpressure.  Windows are opened (WINDOW_UPDATE)
 * only for request-body bytes forward.c has taken from the stream's
 * input, so one stream holds at most http2.stream_window bytes and the
 * connection at most four times that; response DATA is produced only
 * while the connection's TLS output is below limits.buffer_high, and a
 * stream's pending response body pauses its backend at buffer_high.
 *
 * Memory: each worker keeps a bounded free list of streams (their
 * evbuffers included) and gives its sessions its own nghttp2 allocator
 * (h2mem.c), whose frame buffer pages an idle session hands back.
 *
 * Over 1,200 lines because it is one role, the HTTP/2 session: the
 * request checks, the head translation, the seam operations and the
 * flood and stall limits all act on the same stream and session state.
 */

#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <nghttp2/nghttp2.h>

#include "base/lit.h"
#include "base/sbuf.h"
#include "conf/conf.h"
#include "conf/route.h"
#include "proxy/conn.h"
#include "proxy/forward.h"
#include "proxy/h2.h"
#include "proxy/h2mem.h"
#include "proxy/http.h"
#include "proxy/log.h"
#include "proxy/metrics.h"
#include "proxy/util.h"
#include "proxy/xchg.h"

/* Stream flags. */
#define ST_BAD		0x0001	/* refused: reset, nothing forwarded */
#define ST_REQ_END	0x0002	/* the client's END_STREAM came */
#define ST_CHUNKED	0x0004	/* body without content-length */
#define ST_HEAD_SENT	0x0008	/* response HEADERS submitted */
#define ST_RESP_EOF	0x0010	/* all of the response body is in out */
#define ST_DEFERRED	0x0020	/* data source waits for out */
#define ST_PAUSED	0x0040	/* forward.c paused the body */
#define ST_WAIT		0x0080	/* waiting for body-buffer budget */
#define ST_WAKE		0x0100	/* out drained: wake a paused backend */
#define ST_DEAD		0x0200	/* closed; freed on the last release */
#define ST_TOOBIG	0x0400	/* header list over the limit */
#define ST_HAS_HOST	0x0800	/* a host header came */
#define ST_HAS_CL	0x1000	/* a content-length header came */
#define ST_END_SENT	0x2000	/* our END_STREAM is on its way */
#define ST_RST_SENT	0x4000	/* we asked the client to stop */
#define ST_HDRS		0x8000	/* the request's header block ended */

/*
 * After a complete response, what a client still sends for its request
 * is read and dropped, up to this much (HTTP/1.1's lingering close reads
 * as much): then RST_STREAM NO_ERROR asks it to stop (RFC 9113 8.1).
 * Resetting at once would make clients that treat that reset as an error
 * (curl 7.88) lose the answer to an upload they had no right to make.
 */
#define H2_DISCARD_MAX	((size_t)1024 * 1024)

/*
 * Per worker: the allocator of its sessions (h2mem.h) and a bounded free
 * list of streams, so that a stream costs no malloc in the steady state.
 */
#define H2_FREE_STREAMS	128		/* streams kept per worker */
#define H2_SB_KEEP	512		/* head, pseudo-header buffers kept */
#define H2_MEM_CACHE	((size_t)256 * 1024)	/* h2mem free lists */
/* Idle this long, a session hands its frame buffer's pages back. */
#define H2_IDLE_DISCARD_MS	200

struct h2_stream;

struct h2_worker {
	struct h2mem		*mem;
	struct sbuf		 scratch;	/* lower-cased names, briefly */
	struct h2_stream	*streams;	/* free, linked by next */
	unsigned		 nstreams;
};

struct h2_sess;

struct h2_stream {
	struct h2_sess		*s;
	int32_t			 id;
	unsigned		 flags;
	int			 busy;		/* holds (xchg_hold) */
	struct xchg		*x;		/* NULL before and after */
	struct wgen		*wg;		/* x's generation, one ref */
	struct evbuffer		*in;		/* head, then body: for x */
	struct evbuffer		*out;		/* response body: DATA */
	size_t			 head_left;	/* head bytes still in in */
	size_t			 unconsumed;	/* DATA bytes not yet taken */
	size_t			 hsize;		/* header list bytes so far */
	size_t			 discarded;	/* body bytes dropped */
	uint64_t		 t_io;		/* last progress, clock us */
	uint64_t		 t_open;	/* HEADERS began, clock us */
	/* The request head being built: regular header lines, then the
	 * pseudo-header values and host, at offsets into ps. */
	struct sbuf		 head;
	struct sbuf		 ps;
	struct sbuf		 cookie;
	size_t			 cookie_at;	/* where in head it goes */
	size_t			 moff, mlen, poff, plen, aoff, alen, hoff, hlen;
	int			 have_m, have_p, have_a, have_s;
	struct h2_stream	*next;
	struct h2_stream	*prev;
};

struct h2_sess {
	struct conn		*c;
	nghttp2_session		*ng;
	struct event		 ev_send;	/* deferred write */
	int			 send_armed;
	int			 goaway;	/* GOAWAY queued */
	int			 calm;		/* ended for a flood */
	struct h2_stream	*streams;	/* open streams */
	unsigned		 nstreams;
	uint64_t		 nserved;	/* requests carried */
	unsigned		 nwake;
	size_t			 out_high;	/* TLS output bound */
	size_t			 hdr_limit;	/* header list bytes */
	uint64_t		 win_start;	/* flood window, clock us */
	unsigned		 nctl;		/* control frames in it */
	unsigned		 nrst;		/* client resets in it */
	struct sbuf		*scratch;	/* the worker's */
	struct h2mem		*mem;		/* the worker's */
	void			*fbuf;		/* nghttp2's frame buffer */
	int			 fb_dirty;	/* written since discarded */
	uint64_t		 idle_at;	/* idle since, clock us */
};

static const char h2_err_session[] = "HTTP/2 session error";
static const char h2_err_idle[] = "keep-alive idle timeout";
static const char h2_err_stall[] = "HTTP/2 stream stalled (body_idle)";

static void	h2_want_send(struct h2_sess *);
static void	h2_flush(struct h2_sess *);
static void	h2_stream_free(struct h2_stream *);
static void	h2_stop_body(struct h2_stream *);
static const struct xchg_ops h2_xchg_ops;

/* ------------------------------------------------------------------ */
/* Streams                                                             */
/* ------------------------------------------------------------------ */

/* forward.c took n bytes from st->in: open the windows for the body
 * bytes among them (the head is ours, not flow-controlled). */
static void
h2_in_cb(struct evbuffer *b, const struct evbuffer_cb_info *ci, void *arg)
{
	struct h2_stream *st = arg;
	size_t		 n = ci->n_deleted, k;

	(void)b;
	if (n == 0 || (st->flags & ST_DEAD))
		return;
	k = n < st->head_left ? n : st->head_left;
	st->head_left -= k;
	n -= k;
	/* Chunk framing we added is no DATA: never open more than came. */
	if (n > st->unconsumed)
		n = st->unconsumed;
	if (n == 0)
		return;
	st->unconsumed -= n;
	(void)nghttp2_session_consume(st->s->ng, st->id, n);
	h2_want_send(st->s);
}

/* forward.c added response bytes: DATA can go on. */
static void
h2_out_cb(struct evbuffer *b, const struct evbuffer_cb_info *ci, void *arg)
{
	struct h2_stream *st = arg;

	(void)b;
	if (ci->n_added == 0 || (st->flags & ST_DEAD))
		return;
	if (st->flags & ST_DEFERRED) {
		st->flags &= ~ST_DEFERRED;
		(void)nghttp2_session_resume_data(st->s->ng, st->id);
	}
	h2_want_send(st->s);
}

/*
 * A stream for id: from the worker's free list when it has one (its
 * evbuffers, their callbacks and its small buffers come with it, empty),
 * else a new one.
 */
static struct h2_stream *
h2_stream_new(struct h2_sess *s, int32_t id)
{
	struct h2_worker *hw = s->c->w->h2;
	struct h2_stream *st;
	struct evbuffer	 *in, *out;
	struct sbuf	  ps, head;

	if ((st = hw->streams) != NULL) {
		hw->streams = st->next;
		hw->nstreams--;
		/* Every field starts over; only the emptied buffers stay. */
		in = st->in;
		out = st->out;
		ps = st->ps;
		head = st->head;
		memset(st, 0, sizeof(*st));
		st->in = in;
		st->out = out;
		st->ps = ps;
		st->ps.len = 0;
		st->head = head;
		st->head.len = 0;
	} else {
		st = xcalloc(1, sizeof(*st));
		if ((st->in = evbuffer_new()) == NULL ||
		    (st->out = evbuffer_new()) == NULL)
			fatalx("out of memory");
		evbuffer_add_cb(st->in, h2_in_cb, st);
		evbuffer_add_cb(st->out, h2_out_cb, st);
	}
	st->s = s;
	st->id = id;
	st->t_io = st->t_open = clock_now_us();
	st->next = s->streams;
	if (s->streams != NULL)
		s->streams->prev = st;
	s->streams = st;
	s->nstreams++;
	return (st);
}

/* Unlink st from its session; freed now or on the last release. */
static void
h2_stream_unlink(struct h2_stream *st)
{
	struct h2_sess	*s = st->s;

	if (st->prev != NULL)
		st->prev->next = st->next;
	else
		s->streams = st->next;
	if (st->next != NULL)
		st->next->prev = st->prev;
	st->next = st->prev = NULL;
	s->nstreams--;
	if (st->flags & ST_WAKE)
		s->nwake--;
	st->flags |= ST_DEAD;
	if (st->busy == 0)
		h2_stream_free(st);
}

/*
 * st is done: back to the worker's free list (bounded, buffers emptied,
 * big ones freed), or freed.  Its evbuffer callbacks see ST_DEAD and
 * leave the session alone while the buffers are drained.
 */
static void
h2_stream_free(struct h2_stream *st)
{
	struct h2_worker *hw = st->s->c->w->h2;

	wgen_put(st->wg);
	st->wg = NULL;
	sbuf_free(&st->cookie);
	if (hw->nstreams < H2_FREE_STREAMS) {
		st->flags = ST_DEAD;
		evbuffer_drain(st->in, evbuffer_get_length(st->in));
		evbuffer_drain(st->out, evbuffer_get_length(st->out));
		if (st->ps.cap > H2_SB_KEEP)
			sbuf_free(&st->ps);
		if (st->head.cap > H2_SB_KEEP)
			sbuf_free(&st->head);
		st->s = NULL;
		st->next = hw->streams;
		hw->streams = st;
		hw->nstreams++;
		return;
	}
	evbuffer_free(st->in);
	evbuffer_free(st->out);
	sbuf_free(&st->ps);
	sbuf_free(&st->head);
	free(st);
}

/*
 * x is over (answered, finished or aborted): log it, recycle it, drop
 * what the client still sends for it.  The stream itself lives on until
 * its response is sent and nghttp2 closes it.
 */
static void
h2_xchg_end(struct h2_stream *st)
{
	struct h2_sess	*s = st->s;
	struct conn	*c = s->c;
	struct xchg	*x = st->x;
	int		 last;

	if (x == NULL)
		return;
	x->state = X_ST_DONE;
	last = !x->req.keepalive;
	conn_access_log(c, x);
	metrics_h2_stream(c->w->m);
	s->nserved++;
	metrics_request(c->w->m, x->route ? x->route->path : "(none)",
	    x->method, x->status, METRICS_PROTO_H2, x->t_start);
	xchg_put(&c->w->xc, c->w->bodybuf, x);
	st->x = NULL;
	/* Unread request bytes are dropped; their window opens (h2_in_cb). */
	evbuffer_drain(st->in, evbuffer_get_length(st->in));
	st->flags |= ST_RESP_EOF;
	st->flags &= ~(ST_PAUSED | ST_WAIT);
	if (st->flags & ST_DEFERRED) {
		st->flags &= ~ST_DEFERRED;
		(void)nghttp2_session_resume_data(s->ng, st->id);
	}
	/* A reload that changed the auth context, or max_connection_age:
	 * no new streams; the client reconnects (RFC 9113 6.8). */
	if (last && !s->goaway) {
		s->goaway = 1;
		(void)nghttp2_submit_goaway(s->ng, NGHTTP2_FLAG_NONE,
		    nghttp2_session_get_last_proc_stream_id(s->ng),
		    NGHTTP2_NO_ERROR, NULL, 0);
	}
	h2_want_send(s);
}

/* Refuse st: RST_STREAM PROTOCOL_ERROR; nothing of it is forwarded. */
static void
h2_refuse(struct h2_stream *st, const char *why)
{
	struct conn	*c = st->s->c;

	if (st->flags & ST_BAD)
		return;
	st->flags |= ST_BAD;
	log_info("%s:%d: HTTP/2 stream %d refused: %s", c->peerstr,
	    c->peerport, (int)st->id, why);
	metrics_bad_request(c->w->m);
	(void)nghttp2_submit_rst_stream(st->s->ng, NGHTTP2_FLAG_NONE, st->id,
	    NGHTTP2_PROTOCOL_ERROR);
}

/* ------------------------------------------------------------------ */
/* Request heads                                                       */
/* ------------------------------------------------------------------ */

static int
h2_lit_eq(const uint8_t *p, size_t n, const char *lit)
{
	return (n == strlen(lit) && memcmp(p, lit, n) == 0);
}

/* 1 when a value has a leading or trailing SP or HTAB (RFC 9113 8.2.1);
 * nghttp2 checks too, this keeps the rule whatever its options. */
static int
h2_ws_edge(const uint8_t *v, size_t n)
{
	return (n > 0 && (v[0] == ' ' || v[0] == '\t' || v[n - 1] == ' ' ||
	    v[n - 1] == '\t'));
}

/* One header field of a request (or of its trailers). */
static int
h2_on_header_cb(nghttp2_session *ng, const nghttp2_frame *f,
    const uint8_t *name, size_t namelen, const uint8_t *value,
    size_t valuelen, uint8_t flags, void *arg)
{
	struct h2_sess	 *s = arg;
	struct h2_stream *st;
	size_t		  off;

	(void)flags;
	if (f->hd.type != NGHTTP2_HEADERS)
		return (0);
	st = nghttp2_session_get_stream_user_data(ng, f->hd.stream_id);
	if (st == NULL || (st->flags & ST_BAD))
		return (0);
	if (memchr(value, '\r', valuelen) || memchr(value, '\n', valuelen) ||
	    memchr(value, '\0', valuelen) || h2_ws_edge(value, valuelen)) {
		h2_refuse(st, "invalid character or whitespace in a value");
		return (0);
	}
	if (f->headers.cat != NGHTTP2_HCAT_REQUEST) {
		/* Trailers: dropped, as HTTP/1.1 chunked trailers are, but
		 * never an identity, forwarding or framing header. */
		if (namelen > 0 && (name[0] == ':' ||
		    http_header_kind((const char *)name, namelen) !=
		    HTTP_H_OTHER))
			h2_refuse(st, "identity or framing header in trailers");
		return (0);
	}
	st->hsize += namelen + valuelen + 4;	/* "name: value\r\n" */
	if (st->hsize > s->hdr_limit) {
		st->flags |= ST_TOOBIG;
		return (0);
	}
	if (namelen > 0 && name[0] == ':') {
		off = st->ps.len;
		sbuf_add(&st->ps, value, valuelen);
		if (h2_lit_eq(name, namelen, ":method") && !st->have_m) {
			st->moff = off;
			st->mlen = valuelen;
			st->have_m = 1;
		} else if (h2_lit_eq(name, namelen, ":path") && !st->have_p) {
			st->poff = off;
			st->plen = valuelen;
			st->have_p = 1;
		} else if (h2_lit_eq(name, namelen, ":authority") &&
		    !st->have_a) {
			st->aoff = off;
			st->alen = valuelen;
			st->have_a = 1;
		} else if (h2_lit_eq(name, namelen, ":scheme") &&
		    !st->have_s) {
			if (!h2_lit_eq(value, valuelen, "https"))
				h2_refuse(st, ":scheme is not https");
			st->have_s = 1;
		} else
			h2_refuse(st, "unknown or repeated pseudo-header "
			    "(or extended CONNECT)");
		return (0);
	}
	if (h2_lit_eq(name, namelen, "host")) {
		if (st->flags & ST_HAS_HOST) {
			h2_refuse(st, "more than one host header");
			return (0);
		}
		st->flags |= ST_HAS_HOST;
		st->hoff = st->ps.len;
		st->hlen = valuelen;
		sbuf_add(&st->ps, value, valuelen);
		return (0);
	}
	if (h2_lit_eq(name, namelen, "te") &&
	    !h2_lit_eq(value, valuelen, "trailers")) {
		h2_refuse(st, "te other than trailers");
		return (0);
	}
	if (h2_lit_eq(name, namelen, "content-length"))
		st->flags |= ST_HAS_CL;
	if (h2_lit_eq(name, namelen, "cookie")) {
		/* RFC 9113 8.2.3: crumbs are joined with "; ", in one
		 * header where the first one was. */
		if (st->cookie.len == 0)
			st->cookie_at = st->head.len;
		else
			sbuf_lit(&st->cookie, "; ");
		sbuf_add(&st->cookie, value, valuelen);
		return (0);
	}
	sbuf_add(&st->head, name, namelen);
	sbuf_lit(&st->head, ": ");
	sbuf_add(&st->head, value, valuelen);
	sbuf_lit(&st->head, "\r\n");
	return (0);
}

/* A header nghttp2 would ignore (bad name or value): refuse instead. */
static int
h2_on_invalid_header_cb(nghttp2_session *ng, const nghttp2_frame *f,
    const uint8_t *name, size_t namelen, const uint8_t *value,
    size_t valuelen, uint8_t flags, void *arg)
{
	struct h2_stream *st;

	(void)name; (void)namelen; (void)value; (void)valuelen; (void)flags;
	(void)arg;
	st = nghttp2_session_get_stream_user_data(ng, f->hd.stream_id);
	if (st != NULL)
		h2_refuse(st, "invalid header name or value");
	return (0);
}

/*
 * Write the stream's request as an HTTP/1.1 head into st->in: the
 * request line, host (from :authority), the regular headers in their
 * order, the joined cookie where the first crumb was, and the framing
 * (transfer-encoding: chunked for a body without content-length: the
 * DATA frames are chunk-encoded as they come).  Returns -1 (stream
 * refused) when the header list breaks RFC 9113 8.3.
 */
static int
h2_build_head(struct h2_stream *st, int end_stream)
{
	struct evbuffer	*in = st->in;
	const char	*ps = st->ps.p;
	size_t		 before;

	if (!st->have_m || !st->have_s || !st->have_p) {
		h2_refuse(st, "missing pseudo-header");
		return (-1);
	}
	if (h2_lit_eq((const uint8_t *)ps + st->moff, st->mlen, "CONNECT")) {
		h2_refuse(st, "CONNECT");
		return (-1);
	}
	if (st->plen == 0 || ps[st->poff] != '/') {
		h2_refuse(st, ":path is not origin-form");
		return (-1);
	}
	if (st->have_a && (st->flags & ST_HAS_HOST) &&
	    (st->alen != st->hlen ||
	    strncasecmp(ps + st->aoff, ps + st->hoff, st->alen) != 0)) {
		h2_refuse(st, ":authority and host differ");
		return (-1);
	}
	before = evbuffer_get_length(in);
	evbuffer_add(in, ps + st->moff, st->mlen);
	evbuffer_add(in, " ", 1);
	evbuffer_add(in, ps + st->poff, st->plen);
	evbuffer_add(in, " HTTP/1.1\r\nhost: ", LIT_LEN(" HTTP/1.1\r\nhost: "));
	if (st->have_a)
		evbuffer_add(in, ps + st->aoff, st->alen);
	else if (st->flags & ST_HAS_HOST)
		evbuffer_add(in, ps + st->hoff, st->hlen);
	evbuffer_add(in, "\r\n", 2);
	if (st->cookie.len > 0) {
		evbuffer_add(in, st->head.p, st->cookie_at);
		evbuffer_add(in, "cookie: ", LIT_LEN("cookie: "));
		evbuffer_add(in, st->cookie.p, st->cookie.len);
		evbuffer_add(in, "\r\n", 2);
		evbuffer_add(in, st->head.p + st->cookie_at,
		    st->head.len - st->cookie_at);
	} else if (st->head.len > 0)
		evbuffer_add(in, st->head.p, st->head.len);
	/* nghttp2 checks DATA against content-length (RFC 9113 8.1.1). */
	if (!end_stream && !(st->flags & ST_HAS_CL)) {
		st->flags |= ST_CHUNKED;
		evbuffer_add(in, "transfer-encoding: chunked\r\n",
		    LIT_LEN("transfer-encoding: chunked\r\n"));
	}
	evbuffer_add(in, "\r\n", 2);
	st->head_left = evbuffer_get_length(in) - before;
	/* The head's memory stays for the stream's next use (recycled). */
	st->head.len = 0;
	sbuf_free(&st->cookie);
	return (0);
}

/*
 * The request head is complete: parse it as HTTP/1.1 would be, let
 * conn.c decide (routing, identity, policy), then forward.
 */
static void
h2_dispatch(struct h2_stream *st, int end_stream)
{
	struct h2_sess		*s = st->s;
	struct conn		*c = s->c;
	const struct conf	*cf = c->gen->conf;
	struct http_limits	 lim;
	struct http_error	 err;
	enum http_parse_result	 r;
	struct xchg		*x;
	size_t			 len, maxh;
	const char		*buf;

	if (!(st->flags & ST_TOOBIG) && h2_build_head(st, end_stream) == -1)
		return;
	x = xchg_get(&c->w->xc, cf->limits.max_request_line + 1);
	x->ops = &h2_xchg_ops;
	x->sess = st;
	x->wg = c->wg;
	x->fw = c->w->fw;
	x->peer = c->peerstr;
	x->peerport = c->peerport;
	x->tls = 1;
	st->x = x;
	c->nreq++;
	if (st->flags & ST_TOOBIG) {
		r = HTTP_PARSE_ERROR;
		err.status = 431;
		err.reason = "request header list too large";
	} else {
		xchg_limits(cf, &lim);
		maxh = cf->limits.max_header_count < HTTP_MAX_HDRS ?
		    cf->limits.max_header_count : HTTP_MAX_HDRS;
		len = evbuffer_get_length(st->in);
		buf = (const char *)evbuffer_pullup(st->in, (ssize_t)len);
		r = http_parse_request(buf, len, &lim, &x->req, x->hdrs, maxh,
		    x->path, x->pathcap, &err);
		if (r == HTTP_PARSE_AGAIN) {
			r = HTTP_PARSE_ERROR;
			err.status = 431;
			err.reason = "request head too large";
		}
	}
	if (r == HTTP_PARSE_ERROR) {
		snprintf(x->method, sizeof(x->method), "-");
		snprintf(x->target, sizeof(x->target), "-");
		x->req.keepalive = 1;
		x->error = err.reason;
		metrics_bad_request(c->w->m);
		log_info("%s:%d: rejected HTTP/2 request: %d %s", c->peerstr,
		    c->peerport, err.status, err.reason);
		xchg_respond(x, err.status, NULL, NULL, NULL, 0, 0);
		return;
	}
	if (!conn_stream_decide(c, x))
		return;			/* answered; x recycled */
	/* The stream keeps the generation it was decided under. */
	st->wg = wgen_get(c->wg);
	x->wg = st->wg;
	forward_start(x);
}

/* Hand new request-body bytes to forward.c, unless it paused them. */
static void
h2_feed(struct h2_stream *st)
{
	struct xchg	*x = st->x;
	struct xchg_ref	 ref;

	if (x == NULL || (st->flags & (ST_PAUSED | ST_WAIT)))
		return;
	if (x->state != X_ST_BODY && x->state != X_ST_FORWARD)
		return;
	xchg_hold(x, &ref);
	forward_client_read(x);
	(void)xchg_release(&ref);
}

/* ------------------------------------------------------------------ */
/* nghttp2 callbacks                                                   */
/* ------------------------------------------------------------------ */

static int
h2_on_begin_headers_cb(nghttp2_session *ng, const nghttp2_frame *f,
    void *arg)
{
	struct h2_sess	 *s = arg;
	struct h2_stream *st;

	if (f->hd.type != NGHTTP2_HEADERS ||
	    f->headers.cat != NGHTTP2_HCAT_REQUEST)
		return (0);
	st = h2_stream_new(s, f->hd.stream_id);
	if (nghttp2_session_set_stream_user_data(ng, f->hd.stream_id, st) !=
	    0) {
		h2_stream_unlink(st);
		return (0);
	}
	if (s->nstreams == 1) {
		/* Busy: the timer now watches for stalled streams and for
		 * this header block's end (h2_timer()). */
		const struct conf_timeouts *to = &s->c->gen->conf->timeouts;
		unsigned	 every = to->body_idle;
		struct timeval	 tv;

		if (to->request_head < every)
			every = to->request_head;
		clock_ms_tv(every / 4 + 1, &tv);
		evtimer_add(&s->c->timer, &tv);
	}
	return (0);
}

/* Count a frame against a per-second budget; over it, the connection
 * ends with GOAWAY ENHANCE_YOUR_CALM.  Returns 1 then. */
static int
h2_flood(struct h2_sess *s, unsigned *count, unsigned max, const char *what)
{
	uint64_t	 now = clock_now_us();
	struct conn	*c = s->c;

	if (now - s->win_start >= 1000000) {
		s->win_start = now;
		s->nctl = 0;
		s->nrst = 0;
	}
	if (++*count <= max)
		return (0);
	if (s->calm)
		return (1);
	s->calm = 1;
	log_warn("%s:%d: HTTP/2 %s flood: GOAWAY ENHANCE_YOUR_CALM",
	    c->peerstr, c->peerport, what);
	metrics_h2_flood(c->w->m);
	s->goaway = 1;
	(void)nghttp2_session_terminate_session(s->ng,
	    NGHTTP2_ENHANCE_YOUR_CALM);
	return (1);
}

static int
h2_on_frame_recv_cb(nghttp2_session *ng, const nghttp2_frame *f, void *arg)
{
	struct h2_sess		*s = arg;
	const struct conf_http2	*hc = &s->c->gen->conf->http2;
	struct h2_stream	*st;
	int			 end = (f->hd.flags & NGHTTP2_FLAG_END_STREAM);

	switch (f->hd.type) {
	case NGHTTP2_SETTINGS:
	case NGHTTP2_PING:
	case NGHTTP2_PRIORITY:
	case NGHTTP2_WINDOW_UPDATE:
		/* Over the budget: stop reading at once (h2_read()). */
		if (h2_flood(s, &s->nctl, hc->max_control_frames_per_second,
		    "control frame"))
			return (NGHTTP2_ERR_CALLBACK_FAILURE);
		return (0);
	case NGHTTP2_RST_STREAM:
		if (h2_flood(s, &s->nrst, hc->max_resets_per_second,
		    "stream reset"))
			return (NGHTTP2_ERR_CALLBACK_FAILURE);
		return (0);
	case NGHTTP2_DATA:
		if (f->hd.length == 0 && !end &&
		    h2_flood(s, &s->nctl, hc->max_control_frames_per_second,
		    "empty DATA"))
			return (NGHTTP2_ERR_CALLBACK_FAILURE);
		break;
	case NGHTTP2_HEADERS:
		break;
	default:
		return (0);
	}
	st = nghttp2_session_get_stream_user_data(ng, f->hd.stream_id);
	if (st == NULL || (st->flags & ST_BAD))
		return (0);
	if (f->hd.type == NGHTTP2_HEADERS &&
	    f->headers.cat == NGHTTP2_HCAT_REQUEST) {
		st->flags |= ST_HDRS;
		if (end)
			st->flags |= ST_REQ_END;
		h2_dispatch(st, end);
		return (0);
	}
	if (!end)
		return (0);
	/* END_STREAM on DATA or trailers: the body is complete. */
	st->flags |= ST_REQ_END;
	if (st->x != NULL && (st->flags & ST_CHUNKED)) {
		st->head_left += LIT_LEN("0\r\n\r\n");
		evbuffer_add(st->in, "0\r\n\r\n", LIT_LEN("0\r\n\r\n"));
	}
	h2_feed(st);
	return (0);
}

static int
h2_on_data_chunk_recv_cb(nghttp2_session *ng, uint8_t flags, int32_t id,
    const uint8_t *data, size_t len, void *arg)
{
	struct h2_stream *st;
	char		  hdr[HTTP_CHUNK_HEADER_MAX + 1];
	size_t		  n;

	(void)flags;
	(void)arg;
	st = nghttp2_session_get_stream_user_data(ng, id);
	if (st != NULL)
		st->t_io = clock_now_us();
	if (st == NULL || st->x == NULL || (st->flags & ST_BAD)) {
		/* Nobody wants it: open the window again at once. */
		(void)nghttp2_session_consume(ng, id, len);
		if (st != NULL && (st->discarded += len) > H2_DISCARD_MAX)
			h2_stop_body(st);
		return (0);
	}
	if (st->flags & ST_CHUNKED) {
		/* Chunk framing is ours: it does not count as DATA. */
		n = http_chunk_header(hdr, len);
		st->head_left += n + 2;
		evbuffer_add(st->in, hdr, n);
		evbuffer_add(st->in, data, len);
		evbuffer_add(st->in, "\r\n", 2);
	} else
		evbuffer_add(st->in, data, len);
	st->unconsumed += len;
	h2_feed(st);
	return (0);
}

/* Our response is complete and sent: ask a client that is still sending
 * its body to stop (RFC 9113 8.1), once H2_DISCARD_MAX was dropped or it
 * went quiet for body_idle. */
static void
h2_stop_body(struct h2_stream *st)
{
	if ((st->flags & (ST_END_SENT | ST_REQ_END | ST_RST_SENT)) !=
	    ST_END_SENT)
		return;
	st->flags |= ST_RST_SENT;
	(void)nghttp2_submit_rst_stream(st->s->ng, NGHTTP2_FLAG_NONE, st->id,
	    NGHTTP2_NO_ERROR);
	h2_want_send(st->s);
}

/* The last frame of our response left with END_STREAM. */
static int
h2_on_frame_send_cb(nghttp2_session *ng, const nghttp2_frame *f, void *arg)
{
	struct h2_stream *st;

	(void)arg;
	if ((f->hd.type != NGHTTP2_HEADERS && f->hd.type != NGHTTP2_DATA) ||
	    !(f->hd.flags & NGHTTP2_FLAG_END_STREAM))
		return (0);
	st = nghttp2_session_get_stream_user_data(ng, f->hd.stream_id);
	if (st != NULL) {
		st->flags |= ST_END_SENT;
		if (st->discarded > H2_DISCARD_MAX)
			h2_stop_body(st);
	}
	return (0);
}

/*
 * The last stream closed (or none opened yet): the timer first hands the
 * frame buffer's pages back, after H2_IDLE_DISCARD_MS (not at once: a busy
 * connection is idle between bursts thousands of times a second), then
 * ends the connection at timeouts.keepalive (h2_timer()).
 */
static void
h2_idle_arm(struct h2_sess *s)
{
	unsigned	 ka = s->c->gen->conf->timeouts.keepalive;
	struct timeval	 tv;

	s->idle_at = clock_now_us();
	clock_ms_tv(s->fbuf != NULL && ka > H2_IDLE_DISCARD_MS ?
	    H2_IDLE_DISCARD_MS : ka, &tv);
	evtimer_add(&s->c->timer, &tv);
}

/* Idle: the frame buffer's pages go back to the kernel, unless a frame
 * is half sent (nghttp2 still wants to write). */
static void
h2_idle_discard(struct h2_sess *s)
{
	if (!s->fb_dirty || s->fbuf == NULL || s->goaway ||
	    nghttp2_session_want_write(s->ng))
		return;
	h2mem_discard(s->mem, s->fbuf, s);
	s->fb_dirty = 0;
}

static int
h2_on_stream_close_cb(nghttp2_session *ng, int32_t id, uint32_t code,
    void *arg)
{
	struct h2_sess	 *s = arg;
	struct h2_stream *st;
	struct xchg	 *x;

	st = nghttp2_session_get_stream_user_data(ng, id);
	if (st == NULL)
		return (0);
	(void)nghttp2_session_set_stream_user_data(ng, id, NULL);
	if ((x = st->x) != NULL) {
		/* Reset (by the client, or by us for a protocol error)
		 * before the response was complete. */
		forward_abort(x);
		if (x->status == 0)
			x->status = 499;
		if (x->error == NULL)
			x->error = code == NGHTTP2_NO_ERROR ? "stream closed" :
			    "stream reset";
		h2_xchg_end(st);
	}
	/* What forward.c never took will not be: give the window back. */
	if (st->unconsumed > 0)
		(void)nghttp2_session_consume_connection(ng, st->unconsumed);
	st->unconsumed = 0;
	h2_stream_unlink(st);
	if (s->nstreams == 0 && !s->goaway)
		h2_idle_arm(s);
	return (0);
}

/*
 * Response body for DATA frames, from st->out: how much the next frame
 * carries.  The bytes stay in st->out until h2_send_data_cb() moves them
 * to the TLS output without copying (NGHTTP2_DATA_FLAG_NO_COPY).
 */
static ssize_t
h2_data_cb(nghttp2_session *ng, int32_t id, uint8_t *buf, size_t len,
    uint32_t *dflags, nghttp2_data_source *src, void *arg)
{
	struct h2_stream *st = src->ptr;
	struct h2_sess	 *s = arg;
	size_t		  avail, n, left;

	(void)ng;
	(void)id;
	(void)buf;
	avail = evbuffer_get_length(st->out);
	n = avail < len ? avail : len;
	left = avail - n;
	if (n == 0 && !(st->flags & ST_RESP_EOF)) {
		st->flags |= ST_DEFERRED;
		return (NGHTTP2_ERR_DEFERRED);
	}
	if (n > 0) {
		*dflags |= NGHTTP2_DATA_FLAG_NO_COPY;
		st->t_io = clock_now_us();
	}
	if (left == 0 && (st->flags & ST_RESP_EOF))
		*dflags |= NGHTTP2_DATA_FLAG_EOF;
	/* The backend was paused for this stream's output: wake it once
	 * the output is half drained (after the write, see h2_wake()). */
	if (st->x != NULL && st->x->up_paused && !(st->flags & ST_WAKE) &&
	    left < s->out_high / 2) {
		st->flags |= ST_WAKE;
		s->nwake++;
	}
	return ((ssize_t)n);
}

/* A DATA frame's header, then its payload moved from the stream's
 * output (no copy: evbuffer chains change hands). */
static int
h2_send_data_cb(nghttp2_session *ng, nghttp2_frame *f, const uint8_t *hd,
    size_t len, nghttp2_data_source *src, void *arg)
{
	struct h2_stream *st = src->ptr;
	struct h2_sess	 *s = arg;
	struct evbuffer	 *out = s->c->io.out;

	(void)ng;
	(void)f;
	if (cio_pending(&s->c->io) >= s->out_high)
		return (NGHTTP2_ERR_WOULDBLOCK);
	evbuffer_add(out, hd, 9);
	s->fb_dirty = 1;
	if (len > 0 && evbuffer_remove_buffer(st->out, out, len) != (int)len)
		return (NGHTTP2_ERR_CALLBACK_FAILURE);
	return (0);
}

/* Other frames: to the TLS output, while it is below out_high. */
static ssize_t
h2_send_frame_cb(nghttp2_session *ng, const uint8_t *data, size_t len,
    int flags, void *arg)
{
	struct h2_sess	*s = arg;

	(void)ng;
	(void)flags;
	if (cio_pending(&s->c->io) >= s->out_high)
		return (NGHTTP2_ERR_WOULDBLOCK);
	evbuffer_add(s->c->io.out, data, len);
	s->fb_dirty = 1;
	return ((ssize_t)len);
}

/* ------------------------------------------------------------------ */
/* Output                                                              */
/* ------------------------------------------------------------------ */

static void
h2_send_cb(evutil_socket_t fd, short what, void *arg)
{
	struct h2_sess	*s = arg;
	struct conn	*c = s->c;

	(void)fd;
	(void)what;
	s->send_armed = 0;
	conn_ref(c);
	if (!(c->flags & CONN_F_CLOSING))
		h2_flush(s);
	(void)conn_unref(c);
}

/* Write later in this loop pass (after the current callback). */
static void
h2_want_send(struct h2_sess *s)
{
	if (s->send_armed)
		return;
	s->send_armed = 1;
	event_active(&s->ev_send, EV_TIMEOUT, 1);
}

/* Wake the backends paused behind streams whose output drained. */
static void
h2_wake(struct h2_sess *s)
{
	struct h2_stream *st, *next;
	struct xchg_ref	  ref;

	for (st = s->streams; st != NULL && s->nwake > 0; st = next) {
		next = st->next;
		if (!(st->flags & ST_WAKE))
			continue;
		st->flags &= ~ST_WAKE;
		s->nwake--;
		if (st->x == NULL)
			continue;
		st->busy++;
		xchg_hold(st->x, &ref);
		forward_client_drained(st->x);
		(void)xchg_release(&ref);
		next = st->next;	/* st lives: busy */
		if (--st->busy == 0 && (st->flags & ST_DEAD))
			h2_stream_free(st);
	}
}

/*
 * Move nghttp2's frames to the TLS output while it is below out_high,
 * wake paused backends, and close the connection once the session has
 * nothing left to read or write.
 */
static void
h2_flush(struct h2_sess *s)
{
	struct conn	*c = s->c;

	/* Stops by itself when the callbacks say WOULDBLOCK. */
	if (nghttp2_session_send(s->ng) != 0) {
		conn_close(c, h2_err_session);
		return;
	}
	if (s->nwake > 0)
		h2_wake(s);
	/* Nothing left to read or write (GOAWAY both ways, or sent and no
	 * stream left): close once the output is on the wire. */
	if (!nghttp2_session_want_read(s->ng) &&
	    !nghttp2_session_want_write(s->ng)) {
		conn_close_flushed(c);
	}
}

/* ------------------------------------------------------------------ */
/* The exchange seam, HTTP/2 side (xchg.h)                             */
/* ------------------------------------------------------------------ */

static struct evbuffer *
h2_req_in(struct xchg *x)
{
	struct h2_stream *st = x->sess;

	return (st->in);
}

static struct evbuffer *
h2_resp_out(struct xchg *x)
{
	struct h2_stream *st = x->sess;

	return (st->out);
}

/* Lower-case a header name into the worker's scratch buffer; returns
 * its offset there. */
static size_t
h2_lower(struct h2_sess *s, const char *name, size_t len)
{
	size_t	 off = s->scratch->len, i;

	sbuf_add(s->scratch, name, len);
	for (i = 0; i < len; i++) {
		char ch = s->scratch->p[off + i];

		if (ch >= 'A' && ch <= 'Z')
			s->scratch->p[off + i] = (char)(ch - 'A' + 'a');
	}
	return (off);
}

#define H2_NV(nv, n, v, vl) do {					\
	(nv).name = (uint8_t *)(uintptr_t)(n);				\
	(nv).namelen = strlen(n);					\
	(nv).value = (uint8_t *)(uintptr_t)(v);				\
	(nv).valuelen = (vl);						\
	(nv).flags = NGHTTP2_NV_FLAG_NONE;				\
} while (0)

/*
 * Build the backend response's header list for HEADERS: the status,
 * then the headers write_resp_head() would pass on, minus hop-by-hop and
 * framing ones (RFC 9113 8.2.2), names lower-cased.  Returns the count.
 */
static size_t
h2_resp_nv(struct h2_sess *s, const struct xchg *x, nghttp2_nv *nv,
    size_t max, char *status)
{
	const struct http_resp	*rp = &x->resp;
	size_t			 i, n = 0;

	snprintf(status, 4, "%03u", (unsigned)rp->status % 1000u);
	H2_NV(nv[n], ":status", status, 3);
	n++;
	s->scratch->len = 0;
	for (i = 0; i < rp->nhdrs && n < max; i++) {
		const struct http_hdr *h = &rp->hdrs[i];

		if (!forward_resp_hdr_kept(x, h))
			continue;
		/* The name's offset in scratch for now: scratch may still
		 * move while it grows. */
		nv[n].name = (uint8_t *)(uintptr_t)h2_lower(s, h->name,
		    h->namelen);
		nv[n].namelen = h->namelen;
		nv[n].value = (uint8_t *)(uintptr_t)h->value;
		nv[n].valuelen = h->valuelen;
		nv[n].flags = NGHTTP2_NV_FLAG_NONE;
		n++;
	}
	/* The scratch buffer is complete: its pointers are stable now. */
	for (i = 1; i < n; i++)
		nv[i].name = (uint8_t *)s->scratch->p + (uintptr_t)nv[i].name;
	return (n);
}

static void
h2_deliver_head(struct xchg *x, const char *p, size_t len)
{
	struct h2_stream	*st = x->sess;
	struct h2_sess		*s = st->s;
	nghttp2_nv		 nv[HTTP_MAX_HDRS + 1];
	nghttp2_data_provider	 prd;
	char			 status[4];
	size_t			 n;

	(void)p;
	(void)len;
	n = h2_resp_nv(s, x, nv, sizeof(nv) / sizeof(nv[0]), status);
	prd.source.ptr = st;
	prd.read_callback = h2_data_cb;
	st->flags |= ST_HEAD_SENT;
	(void)nghttp2_submit_response(s->ng, st->id, nv, n,
	    x->respbody == XB_NONE ? NULL : &prd);
	h2_want_send(s);
}

static void
h2_interim(struct xchg *x)
{
	struct h2_stream	*st = x->sess;
	struct h2_sess		*s = st->s;
	nghttp2_nv		 nv[HTTP_MAX_HDRS + 1];
	char			 status[4];
	size_t			 n;

	if (st->flags & ST_HEAD_SENT)
		return;
	n = h2_resp_nv(s, x, nv, sizeof(nv) / sizeof(nv[0]), status);
	(void)nghttp2_submit_headers(s->ng, NGHTTP2_FLAG_NONE, st->id, NULL,
	    nv, n, NULL);
	h2_want_send(s);
}

static void
h2_send_continue(struct xchg *x)
{
	struct h2_stream	*st = x->sess;
	nghttp2_nv		 nv[1];

	if (st->flags & ST_HEAD_SENT)
		return;
	H2_NV(nv[0], ":status", "100", 3);
	(void)nghttp2_submit_headers(st->s->ng, NGHTTP2_FLAG_NONE, st->id,
	    NULL, nv, 1, NULL);
	h2_want_send(st->s);
}

static void
h2_pause_body(struct xchg *x)
{
	struct h2_stream *st = x->sess;

	st->flags |= ST_PAUSED;
}

static int
h2_resume_body(struct xchg *x)
{
	struct h2_stream *st = x->sess;

	if (!(st->flags & ST_PAUSED))
		return (0);
	st->flags &= ~ST_PAUSED;
	return (1);
}

static void
h2_wait_body(struct xchg *x, int on)
{
	struct h2_stream *st = x->sess;

	if (on)
		st->flags |= ST_WAIT;
	else
		st->flags &= ~ST_WAIT;
	st->t_io = clock_now_us();
}

/* Timeouts are the session's (h2_timer()), not per exchange. */
static void
h2_set_timeouts(struct xchg *x, unsigned read_ms, unsigned write_ms)
{
	(void)x;
	(void)read_ms;
	(void)write_ms;
}

/*
 * A local answer (conn_respond()'s contract): a HEADERS frame with the
 * same headers an HTTP/1.1 answer has (minus Connection), the body in
 * DATA.  close asks nothing of an HTTP/2 connection.  Ends x.
 */
static void
h2_respond(struct xchg *x, int status, const char *hdrs, const char *ctype,
    const char *body, size_t bodylen, int close)
{
	struct h2_stream	*st = x->sess;
	struct h2_sess		*s = st->s;
	nghttp2_nv		 nv[24];
	nghttp2_data_provider	 prd;
	char			 stx[4], clen[24];
	const char		*p, *e, *colon, *v;
	size_t			 n = 0, first, i;
	int			 head_only = x->head_method;

	(void)close;
	x->status = status;
	x->state = X_ST_LOCAL;
	if (st->flags & ST_HEAD_SENT) {
		/* Too late for an answer: reset the stream. */
		xchg_abort(x, x->error ? x->error : "answer after head");
		return;
	}
	if (body == NULL)
		bodylen = 0;
	if (body == NULL && status >= 400) {
		/* A parse error: a short text like conn_error()'s. */
		char	 tmp[256];
		int	 m;

		m = snprintf(tmp, sizeof(tmp), "%d %s: %s\n", status,
		    http_status_text(status), x->error ? x->error : "");
		if (m > 0 && (size_t)m < sizeof(tmp)) {
			evbuffer_add(st->out, tmp, (size_t)m);
			bodylen = (size_t)m;
		}
	} else if (!head_only && bodylen > 0)
		evbuffer_add(st->out, body, bodylen);
	if (head_only)
		evbuffer_drain(st->out, evbuffer_get_length(st->out));
	snprintf(stx, sizeof(stx), "%03u", (unsigned)status % 1000u);
	snprintf(clen, sizeof(clen), "%zu", bodylen);
	H2_NV(nv[n], ":status", stx, 3);
	n++;
	H2_NV(nv[n], "server", "gridfront", LIT_LEN("gridfront"));
	n++;
	ctype = ctype ? ctype : "text/plain; charset=utf-8";
	H2_NV(nv[n], "content-type", ctype, strlen(ctype));
	n++;
	H2_NV(nv[n], "content-length", clen, strlen(clen));
	n++;
	H2_NV(nv[n], "cache-control", "no-store", LIT_LEN("no-store"));
	n++;
	/* Extra "Name: value\r\n" lines, names lower-cased. */
	s->scratch->len = 0;
	first = n;
	for (p = hdrs; p != NULL && *p != '\0' && n < sizeof(nv) /
	    sizeof(nv[0]); p = e + 2) {
		if ((e = strstr(p, "\r\n")) == NULL)
			break;
		if ((colon = memchr(p, ':', (size_t)(e - p))) == NULL)
			continue;
		v = colon + 1;
		while (v < e && *v == ' ')
			v++;
		/* The name's offset in scratch until scratch stops moving. */
		nv[n].namelen = (size_t)(colon - p);
		nv[n].name = (uint8_t *)(uintptr_t)h2_lower(s, p,
		    nv[n].namelen);
		nv[n].value = (uint8_t *)(uintptr_t)v;
		nv[n].valuelen = (size_t)(e - v);
		nv[n].flags = NGHTTP2_NV_FLAG_NONE;
		n++;
	}
	for (i = first; i < n; i++)
		nv[i].name = (uint8_t *)s->scratch->p + (uintptr_t)nv[i].name;
	prd.source.ptr = st;
	prd.read_callback = h2_data_cb;
	st->flags |= ST_HEAD_SENT;
	(void)nghttp2_submit_response(s->ng, st->id, nv, n,
	    head_only || bodylen == 0 ? NULL : &prd);
	x->bytes_out += bodylen;
	h2_xchg_end(st);
}

static int
h2_must_close(struct xchg *x)
{
	(void)x;
	return (0);
}

static void
h2_close_after(struct xchg *x)
{
	(void)x;
}

static void
h2_finish(struct xchg *x)
{
	h2_xchg_end(x->sess);
}

/* The response cannot be completed: reset this stream only. */
static void
h2_abort(struct xchg *x, const char *reason)
{
	struct h2_stream *st = x->sess;
	struct conn	 *c = st->s->c;

	forward_abort(x);
	if (x->error == NULL)
		x->error = reason;
	if (x->status == 0)
		x->status = 502;
	log_info("%s:%d: HTTP/2 stream %d reset: %s", c->peerstr,
	    c->peerport, (int)st->id, reason);
	(void)nghttp2_submit_rst_stream(st->s->ng, NGHTTP2_FLAG_NONE, st->id,
	    NGHTTP2_INTERNAL_ERROR);
	h2_xchg_end(st);
}

static void
h2_hold(void *sess)
{
	struct h2_stream *st = sess;

	st->busy++;
	conn_ref(st->s->c);
}

static int
h2_release(void *sess)
{
	struct h2_stream *st = sess;
	struct conn	 *c = st->s->c;

	if (--st->busy == 0 && (st->flags & ST_DEAD))
		h2_stream_free(st);
	return (conn_unref(c));
}

static int
h2_closing(struct xchg *x)
{
	struct h2_stream *st = x->sess;

	return ((st->s->c->flags & CONN_F_CLOSING) != 0 ||
	    (st->flags & ST_DEAD) != 0);
}

static size_t
h2_buffered(struct xchg *x)
{
	struct h2_stream *st = x->sess;

	return (evbuffer_get_length(st->in) + evbuffer_get_length(st->out) +
	    cio_pending(&st->s->c->io));
}

/* The streams of one connection share one limits.body_buffer. */
static size_t
h2_body_cap(struct xchg *x, size_t cap)
{
	struct h2_stream *st = x->sess, *o;
	size_t		  used = 0;

	for (o = st->s->streams; o != NULL; o = o->next)
		if (o != st && o->x != NULL)
			used += o->x->body_res;
	if (used >= cap)
		return (x->body_res);
	return (cap - used > x->body_res ? cap - used : x->body_res);
}

static const struct xchg_ops h2_xchg_ops = {
	.req_in = h2_req_in,
	.resp_out = h2_resp_out,
	.deliver_head = h2_deliver_head,
	.send_continue = h2_send_continue,
	.pause_body = h2_pause_body,
	.resume_body = h2_resume_body,
	.wait_body = h2_wait_body,
	.set_timeouts = h2_set_timeouts,
	.respond = h2_respond,
	.must_close = h2_must_close,
	.close_after = h2_close_after,
	.finish = h2_finish,
	.abort = h2_abort,
	.hold = h2_hold,
	.release = h2_release,
	.closing = h2_closing,
	.buffered = h2_buffered,
	.interim = h2_interim,
	.body_cap = h2_body_cap,
	.frames_body = 1,
};

/* ------------------------------------------------------------------ */
/* Session lifecycle (h2.h)                                            */
/* ------------------------------------------------------------------ */

void
h2_start(struct conn *c)
{
	const struct conf	*cf = c->gen->conf;
	const struct conf_http2	*hc = &cf->http2;
	nghttp2_session_callbacks *cb;
	nghttp2_option		*opt;
	nghttp2_settings_entry	 iv[5];
	struct h2_sess		*s;

	s = xcalloc(1, sizeof(*s));
	s->c = c;
	s->out_high = cf->limits.buffer_high;
	s->hdr_limit = hc->max_header_list > 0 ? hc->max_header_list :
	    cf->limits.max_request_line + cf->limits.max_header_block;
	s->win_start = clock_now_us();
	event_assign(&s->ev_send, c->w->base, -1, 0, h2_send_cb, s);
	if (nghttp2_session_callbacks_new(&cb) != 0 ||
	    nghttp2_option_new(&opt) != 0)
		fatalx("out of memory");
	nghttp2_session_callbacks_set_on_begin_headers_callback(cb,
	    h2_on_begin_headers_cb);
	nghttp2_session_callbacks_set_on_header_callback(cb, h2_on_header_cb);
	nghttp2_session_callbacks_set_on_invalid_header_callback(cb,
	    h2_on_invalid_header_cb);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cb,
	    h2_on_frame_recv_cb);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb,
	    h2_on_data_chunk_recv_cb);
	nghttp2_session_callbacks_set_on_frame_send_callback(cb,
	    h2_on_frame_send_cb);
	nghttp2_session_callbacks_set_on_stream_close_callback(cb,
	    h2_on_stream_close_cb);
	nghttp2_session_callbacks_set_send_callback(cb, h2_send_frame_cb);
	nghttp2_session_callbacks_set_send_data_callback(cb,
	    h2_send_data_cb);
	/* Windows open only for what forward.c took (h2_in_cb). */
	nghttp2_option_set_no_auto_window_update(opt, 1);
	nghttp2_option_set_max_deflate_dynamic_table_size(opt,
	    hc->header_table_size);
	/* nghttp2's own rapid-reset bucket, behind ours (h2_flood()). */
	nghttp2_option_set_stream_reset_rate_limit(opt,
	    (uint64_t)hc->max_resets_per_second * 4,
	    hc->max_resets_per_second);
	/* Closed streams are not kept for priority: less memory. */
	nghttp2_option_set_no_closed_streams(opt, 1);
	if (c->w->h2 == NULL)
		c->w->h2 = h2_worker_new();	/* a worker made elsewhere */
	s->mem = c->w->h2->mem;
	s->scratch = &c->w->h2->scratch;
	h2mem_mark(s->mem);
	if (nghttp2_session_server_new3(&s->ng, cb, s, opt,
	    h2mem_nghttp2(s->mem)) != 0)
		fatalx("out of memory");
	/* Its one big block, the outbound frame buffer (h2_flush()). */
	s->fbuf = h2mem_claim(s->mem, s);
	nghttp2_session_callbacks_del(cb);
	nghttp2_option_del(opt);

	iv[0].settings_id = NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS;
	iv[0].value = hc->max_concurrent_streams;
	iv[1].settings_id = NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE;
	iv[1].value = (uint32_t)hc->stream_window;
	iv[2].settings_id = NGHTTP2_SETTINGS_HEADER_TABLE_SIZE;
	iv[2].value = (uint32_t)hc->header_table_size;
	iv[3].settings_id = NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE;
	iv[3].value = (uint32_t)s->hdr_limit;
	iv[4].settings_id = NGHTTP2_SETTINGS_ENABLE_PUSH;
	iv[4].value = 0;
	(void)nghttp2_submit_settings(s->ng, NGHTTP2_FLAG_NONE, iv, 5);
	/* The connection window: four streams' worth. */
	(void)nghttp2_session_set_local_window_size(s->ng, NGHTTP2_FLAG_NONE,
	    0, (int32_t)(hc->stream_window * 4));
	c->h2 = s;
	metrics_h2_conn(c->w->m);
	h2_idle_arm(s);		/* instead of conn.c's keep-alive timer */
	h2_want_send(s);
}

void
h2_read(struct conn *c)
{
	struct h2_sess		*s = c->h2;
	struct evbuffer		*in = c->io.in;
	struct evbuffer_iovec	 v;
	ssize_t			 n;

	while (evbuffer_get_length(in) > 0 && !(c->flags & CONN_F_CLOSING)) {
		if (evbuffer_peek(in, -1, NULL, &v, 1) < 1)
			break;
		n = nghttp2_session_mem_recv(s->ng, v.iov_base, v.iov_len);
		if (n < 0) {
			int calm = (n == NGHTTP2_ERR_FLOODED ||
			    n == NGHTTP2_ERR_TOO_MANY_CONTINUATIONS ||
			    n == NGHTTP2_ERR_TOO_MANY_SETTINGS);

			evbuffer_drain(in, evbuffer_get_length(in));
			cio_disable(&c->io, EV_READ);
			if (s->calm)
				break;	/* h2_flood() said it all */
			log_info("%s:%d: HTTP/2: %s", c->peerstr, c->peerport,
			    nghttp2_strerror((int)n));
			if (calm)
				metrics_h2_flood(c->w->m);
			/* Say why with a GOAWAY (unless nghttp2 queued one):
			 * a flood of acks, CONTINUATIONs or SETTINGS entries
			 * is ENHANCE_YOUR_CALM, anything else a protocol
			 * error. */
			s->goaway = 1;
			(void)nghttp2_session_terminate_session(s->ng, calm ?
			    NGHTTP2_ENHANCE_YOUR_CALM : NGHTTP2_PROTOCOL_ERROR);
			break;
		}
		evbuffer_drain(in, v.iov_len);
	}
	if (!(c->flags & CONN_F_CLOSING))
		h2_flush(s);
}

void
h2_drained(struct conn *c)
{
	if (!(c->flags & CONN_F_CLOSING))
		h2_flush(c->h2);
}

void
h2_timer(struct conn *c)
{
	struct h2_sess		*s = c->h2;
	const struct conf	*cf = c->gen->conf;
	struct h2_stream	*st, *next;
	uint64_t		 now = clock_now_us();
	uint64_t		 idle = (uint64_t)cf->timeouts.body_idle * 1000;
	uint64_t		 head;
	unsigned		 every;
	int			 pending_head = 0;
	struct timeval		 tv;

	head = (uint64_t)cf->timeouts.request_head * 1000;
	if (s->nstreams == 0) {
		uint64_t ka = (uint64_t)cf->timeouts.keepalive * 1000;

		/* Idle for H2_IDLE_DISCARD_MS: discard, wait for the rest. */
		if (!s->goaway && now - s->idle_at < ka) {
			uint64_t left = ka - (now - s->idle_at);

			h2_idle_discard(s);
			clock_ms_tv((unsigned)(left / 1000) + 1, &tv);
			evtimer_add(&c->timer, &tv);
			return;
		}
		/* Idle: say goodbye and close once it is written. */
		if (!s->goaway) {
			s->goaway = 1;
			(void)nghttp2_submit_goaway(s->ng, NGHTTP2_FLAG_NONE,
			    nghttp2_session_get_last_proc_stream_id(s->ng),
			    NGHTTP2_NO_ERROR, NULL, 0);
			h2_flush(s);
			if (!(c->flags & CONN_F_CLOSING)) {
				clock_ms_tv(1000, &tv);
				evtimer_add(&c->timer, &tv);
			}
		} else
			conn_close(c, h2_err_idle);
		return;
	}
	/* A header block that has not ended by timeouts.request_head (a
	 * slowloris: HEADERS without END_HEADERS, or CONTINUATIONs
	 * trickling in) holds the whole connection, since no other frame
	 * may come between its parts: end the connection, as an HTTP/1.1
	 * head timeout does. */
	for (st = s->streams; st != NULL; st = st->next) {
		if ((st->flags & (ST_HDRS | ST_BAD)) ||
		    now - st->t_open < head)
			continue;
		log_info("%s:%d: HTTP/2: request head timeout (stream %d)",
		    c->peerstr, c->peerport, (int)st->id);
		s->goaway = 1;
		(void)nghttp2_session_terminate_session(s->ng,
		    NGHTTP2_NO_ERROR);
		h2_flush(s);
		return;
	}
	/* A stream with response bytes the client does not take (window
	 * zero), or whose body stopped coming, for body_idle: reset it. */
	for (st = s->streams; st != NULL; st = next) {
		next = st->next;
		if (!(st->flags & ST_HDRS))
			pending_head = 1;
		if (now - st->t_io < idle)
			continue;
		if (st->x == NULL) {
			if (evbuffer_get_length(st->out) > 0 &&
			    !(st->flags & ST_RST_SENT)) {
				/* Answered, but the client takes none of
				 * the rest (window zero): give up. */
				st->flags |= ST_RST_SENT;
				(void)nghttp2_submit_rst_stream(s->ng,
				    NGHTTP2_FLAG_NONE, st->id,
				    NGHTTP2_INTERNAL_ERROR);
			} else
				h2_stop_body(st); /* body still due */
			continue;
		}
		if ((st->flags & ST_HEAD_SENT) &&
		    evbuffer_get_length(st->out) > 0)
			h2_abort(st->x, h2_err_stall);
		else if (!(st->flags & ST_REQ_END) && !st->x->req_done &&
		    (st->x->state == X_ST_BODY ||
		    st->x->state == X_ST_FORWARD)) {
			st->x->error = "client body timeout";
			forward_abort(st->x);
			if (st->flags & ST_HEAD_SENT)
				h2_abort(st->x, "client body timeout");
			else
				xchg_respond_lit(st->x, 408, NULL, NULL,
				    "408 Request Timeout: request body "
				    "timeout\n", 1);
		}
	}
	h2_want_send(s);
	/* Often enough for the shorter of the timers in play. */
	every = cf->timeouts.body_idle;
	if (pending_head && cf->timeouts.request_head < every)
		every = cf->timeouts.request_head;
	clock_ms_tv(every / 4 + 1, &tv);
	evtimer_add(&c->timer, &tv);
}

void
h2_drain(struct conn *c)
{
	struct h2_sess	*s = c->h2;

	if (!s->goaway) {
		s->goaway = 1;
		(void)nghttp2_submit_goaway(s->ng, NGHTTP2_FLAG_NONE,
		    nghttp2_session_get_last_proc_stream_id(s->ng),
		    NGHTTP2_NO_ERROR, NULL, 0);
	}
	h2_want_send(s);
}

void
h2_free(struct conn *c)
{
	struct h2_sess	 *s = c->h2;
	struct h2_stream *st, *next;
	struct xchg	 *x;

	if (s == NULL)
		return;
	for (st = s->streams; st != NULL; st = next) {
		next = st->next;
		if ((x = st->x) != NULL) {
			forward_abort(x);
			if (x->status == 0)
				x->status = 499;	/* client went away */
			h2_xchg_end(st);
		}
		h2_stream_unlink(st);
	}
	metrics_h2_conn_end(c->w->m, s->nserved);
	event_del(&s->ev_send);
	nghttp2_session_del(s->ng);
	free(s);
	c->h2 = NULL;
}

/* See h2.h. */
struct h2_worker *
h2_worker_new(void)
{
	struct h2_worker *hw = xcalloc(1, sizeof(*hw));

	hw->mem = h2mem_new(H2_MEM_CACHE);
	return (hw);
}

/* See h2.h. */
void
h2_worker_free(struct h2_worker *hw)
{
	struct h2_stream *st;

	if (hw == NULL)
		return;
	while ((st = hw->streams) != NULL) {
		hw->streams = st->next;
		evbuffer_free(st->in);
		evbuffer_free(st->out);
		sbuf_free(&st->ps);
		sbuf_free(&st->head);
		free(st);
	}
	h2mem_free(hw->mem);
	sbuf_free(&hw->scratch);
	free(hw);
}
