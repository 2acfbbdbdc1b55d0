/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * Forwarding of one exchange.  Builds the upstream request head from the
 * validated client head: hop-by-hop headers (and every header Connection
 * names), client-sent forwarding and identity headers are dropped; Host is
 * the backend's (or the route's host_header choice); X-Forwarded-*, the
 * auth decision's signed cms-* block and cms-request-uri are added;
 * framing is rewritten (Content-Length, or a re-encoded chunked body
 * whose trailers are discarded).  A request body
 * of up to limits.body_buffer is first received and checked whole (see
 * "Request-body buffering").  It then picks a backend round-robin among
 * those not marked down, reuses or opens a pooled connection, and streams
 * bodies both ways with watermark backpressure.  Retries happen only when
 * no byte of the request can have been processed: after a failed
 * connect, or once on a stale pooled connection for an idempotent request
 * without a body.
 *
 * forward.c works on an exchange (xchg.h) and reaches the client session
 * behind it only through the exchange's operations table and accessors
 * (xchg_req_in, xchg_deliver_head, xchg_pause_body, xchg_finish, ...),
 * never through struct conn: an HTTP/2 session can carry exchanges
 * without this file changing.  Includes: xchg, upstream, bodybuf, http
 * and the leaves below them; conn.h is above it.  Its ~1,200 lines are
 * one role, the life of one forwarded exchange, kept in one file so that
 * its relay and backpressure paths read top to bottom.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>	/* BEV_EVENT_* */
#include <event2/event.h>
#include <llhttp.h>

#include "auth/auth.h"
#include "base/lit.h"
#include "conf/conf.h"
#include "conf/route.h"
#include "proxy/bodybuf.h"
#include "proxy/forward.h"
#include "proxy/http.h"
#include "proxy/log.h"
#include "proxy/metrics.h"
#include "proxy/server.h"
#include "proxy/upstream.h"
#include "proxy/util.h"
#include "proxy/xchg.h"

static void	up_read_cb(struct cio *, void *);
static void	up_write_cb(struct cio *, void *);
static void	up_event_cb(struct cio *, short, void *);
static void	forward_connect(struct xchg *);
static void	forward_finish(struct xchg *);
static void	relay_request(struct xchg *);
static void	relay_response(struct xchg *);
static void	body_start(struct xchg *);
static void	body_send(struct xchg *);

static const char fwd_err_no_backend[] = "no backend available";
static const char fwd_err_connect[] = "backend connect failed";
static const char fwd_err_connect_timeout[] = "backend connect timeout";
static const char fwd_err_tls_verify[] = "backend certificate verification "
	"failed";
static const char fwd_err_tls[] = "backend TLS handshake failed";
static const char fwd_err_closed[] = "backend closed the connection "
	"before responding";
static const char fwd_err_timeout[] = "backend response timeout";
static const char fwd_err_bad_resp[] = "invalid response from backend";
static const char fwd_err_mid_resp[] = "backend failed mid-response";
static const char fwd_body_bad_chunked[] =
	"400 Bad Request: invalid chunked body\n";

#define add_lit(buf, s)	evbuffer_add((buf), (s), sizeof(s) - 1)

/* ------------------------------------------------------------------ */
/* Upstream request head                                               */
/* ------------------------------------------------------------------ */

static void
build_head(struct xchg *x, size_t uplen)
{
	struct sbuf		*h = &x->uphead;
	const struct http_req	*r = &x->req;
	size_t			 i;

	sbuf_add(h, r->method, r->methodlen);
	sbuf_lit(h, " ");
	/* A rewrite may leave nothing or a relative path: origin-form needs
	 * a leading slash (the Go frontend sends "/" here too). */
	if (uplen == 0 || x->uppath[0] != '/')
		sbuf_lit(h, "/");
	sbuf_add(h, x->uppath, uplen);
	if (r->query != NULL)
		sbuf_add(h, r->query, r->querylen);
	sbuf_lit(h, " HTTP/1.1\r\n");

	for (i = 0; i < r->nhdrs; i++) {
		const struct http_hdr *hd = &r->hdrs[i];

		switch (hd->kind) {
		case HTTP_H_HOST:
			/* Only host_header: client passes it (issue 13). */
			if (x->route->host_header != CONF_HOST_CLIENT)
				break;
			/* FALLTHROUGH */
		case HTTP_H_OTHER:
		case HTTP_H_COOKIE:
			sbuf_add(h, hd->name, hd->namelen);
			sbuf_lit(h, ": ");
			sbuf_add(h, hd->value, hd->valuelen);
			sbuf_lit(h, "\r\n");
			break;
		case HTTP_H_AUTHORIZATION:
			/* A route that reads tokens consumes it. */
			if (!x->route->forward_token &&
			    (x->route->auth == CONF_AUTH_TOKEN ||
			    x->route->auth == CONF_AUTH_CERT_OR_TOKEN ||
			    x->route->auth == CONF_AUTH_OPTIONAL) &&
			    xchg_conf(x)->auth.tokens.nissuers > 0)
				break;
			sbuf_add(h, hd->name, hd->namelen);
			sbuf_lit(h, ": ");
			sbuf_add(h, hd->value, hd->valuelen);
			sbuf_lit(h, "\r\n");
			break;
		default:
			/* Framing is rewritten below; hop-by-hop, forwarding
			 * and identity headers never pass. */
			break;
		}
	}
	/*
	 * Host: the route's literal name, or the backend URL's host:port
	 * as written (also for "client" when an HTTP/1.0 client sent
	 * none).  Both lines were built at load.  The backend's is the
	 * first backend's; forward_connect() swaps it when the backend it
	 * picks is written with another host:port.
	 */
	if (x->route->host_header == CONF_HOST_LITERAL)
		sbuf_add(h, x->route->host_line, x->route->host_line_len);
	else if (x->route->host_header == CONF_HOST_BACKEND ||
	    r->host == NULL) {
		x->uphost_off = h->len;
		x->uphost_b = 0;
		sbuf_add(h, x->route->backends[0]->host_line,
		    x->route->backends[0]->host_line_len);
	}
	sbuf_lit(h, "X-Forwarded-For: ");
	sbuf_add(h, x->peer, strlen(x->peer));
	if (x->tls)
		sbuf_lit(h, "\r\nX-Forwarded-Proto: https\r\n");
	else
		sbuf_lit(h, "\r\nX-Forwarded-Proto: http\r\n");
	if (r->host != NULL) {
		sbuf_lit(h, "X-Forwarded-Host: ");
		sbuf_add(h, r->host, r->hostlen);
		sbuf_lit(h, "\r\n");
	}
	if (x->have_ad && x->ad.hdrslen > 0) {
		sbuf_add(h, x->ad.hdrs, x->ad.hdrslen);
		/* The original path, as routing saw it, without the query. */
		sbuf_lit(h, "cms-request-uri: ");
		sbuf_add(h, r->path, r->pathlen);
		sbuf_lit(h, "\r\n");
	}
}

/*
 * End the upstream head with the body's framing.  Called once the
 * framing is known: at once for a streamed body, after buffering for a
 * buffered one (which may have turned a chunked body into a sized one).
 */
static void
head_framing(struct xchg *x)
{
	struct sbuf		*h = &x->uphead;
	const struct http_req	*r = &x->req;
	char			 num[32];
	int			 n;

	switch (x->reqbody) {
	case XB_LENGTH:
		n = snprintf(num, sizeof(num), "%lld",
		    (long long)r->content_length);
		sbuf_lit(h, "Content-Length: ");
		sbuf_add(h, num, (size_t)n);
		sbuf_lit(h, "\r\n\r\n");
		break;
	case XB_CHUNKED:
		sbuf_lit(h, "Transfer-Encoding: chunked\r\n\r\n");
		break;
	default:
		/* RFC 9110 8.6: a body-less POST/PUT announces length 0. */
		if (r->method_id == HTTP_POST || r->method_id == HTTP_PUT ||
		    r->method_id == HTTP_PATCH)
			sbuf_lit(h, "Content-Length: 0\r\n\r\n");
		else
			sbuf_lit(h, "\r\n");
		break;
	}
}

/*
 * Captures are copied into the rewritten path verbatim, so "/$1/$2" can
 * build "/../etc" or "//x" out of a path that was clean.  Normalise the
 * result the same way client paths are (a leading slash added, dot
 * segments resolved, slashes merged) so the backend never sees what the
 * client could not have sent.  Returns the new length, or -1 when the
 * result is not a valid path.
 */
static ssize_t
rewrite_normalize(struct xchg *x, size_t uplen)
{
	struct http_error err;
	const char	*q;
	size_t		 n = 0, plen, qlen;

	if (uplen == 0 || x->uppath[0] != '/')
		x->upscratch[n++] = '/';
	memcpy(x->upscratch + n, x->uppath, uplen);
	n += uplen;
	if (http_path_normalize(x->upscratch, n, x->uppath, x->pathcap, &plen,
	    &q, &qlen, &err) == -1)
		return (-1);
	if (q != NULL) {
		/* A '?' that came from rewrite.to: keep it as written. */
		if (plen + qlen >= x->pathcap)
			return (-1);
		memcpy(x->uppath + plen, q, qlen);
		plen += qlen;
		x->uppath[plen] = '\0';
	}
	return ((ssize_t)plen);
}

void
forward_start(struct xchg *x)
{
	const struct conf	*cf = xchg_conf(x);
	struct evbuffer		*in = xchg_req_in(x);
	ssize_t			 uplen;

	/* A rewrite works on the routing path (conn.c, path parameters). */
	uplen = route_rewrite(x->route, x->route->has_rewrite ? x->mpath :
	    x->req.path, x->uppath, x->pathcap);
	if (uplen < 0) {
		evbuffer_drain(in, x->req.head_len);
		x->error = "rewritten path too long";
		xchg_respond_lit(x, 414, NULL, NULL, "414 URI Too Long\n", 1);
		return;
	}
	if (x->route->has_rewrite &&
	    (uplen = rewrite_normalize(x, (size_t)uplen)) < 0) {
		evbuffer_drain(in, x->req.head_len);
		x->error = "rewrite produced an invalid path";
		xchg_respond_lit(x, 400, NULL, NULL, "400 Bad Request: the "
		    "rewritten path is not valid\n", 1);
		return;
	}
	if (x->req.chunked) {
		x->reqbody = XB_CHUNKED;
		http_chunk_init(&x->reqchunk, cf->limits.max_chunk_ext,
		    cf->limits.max_header_block);
	} else if (x->req.content_length > 0) {
		x->reqbody = XB_LENGTH;
		x->reqleft = x->req.content_length;
	} else {
		x->reqbody = XB_NONE;
		x->req_done = 1;
	}
	x->expect_continue = x->req.expect_continue && x->reqbody != XB_NONE;
	x->bytes_in = x->req.head_len;
	build_head(x, (size_t)uplen);
	/* x->req's pointers die here; only its scalars are used from now. */
	evbuffer_drain(in, x->req.head_len);
	x->req.hdrs = NULL;
	x->req.nhdrs = 0;
	if (x->reqbody != XB_NONE && x->route->buffer_body &&
	    cf->limits.body_buffer > 0) {
		body_start(x);
		return;
	}
	head_framing(x);
	x->state = X_ST_CONNECTING;
	/* While waiting for the backend, do not time the client out. */
	xchg_set_timeouts(x, 0, cf->timeouts.body_idle);
	forward_connect(x);
}

/* ------------------------------------------------------------------ */
/* Request-body buffering                                              */
/* ------------------------------------------------------------------ */

/*
 * A body of up to limits.body_buffer bytes is received whole and checked
 * before any backend is contacted (nginx's request buffering, with a
 * cap), so a backend never sees a request gridfront refuses, and a slow
 * uploader holds no backend worker while it trickles.  The bytes wait in
 * x->body, decoded when the body was chunked, and go up with a
 * Content-Length.  A longer body is checked for its first body_buffer
 * bytes, then streamed with its own framing.  Memory comes from the
 * worker's bodybuf budget in BODYBUF_STEP shares; when it is used up, a
 * body without a share pauses (xchg_wait_body) until some is released,
 * and one that holds a share streams on (so bodies of up to one step are
 * always checked whole, and bodies never wait for each other).
 */

static void	body_fill(struct xchg *);

/* Enter X_ST_BODY: answer Expect, then take what has arrived. */
static void
body_start(struct xchg *x)
{
	const struct conf	*cf = xchg_conf(x);

	x->state = X_ST_BODY;
	if (x->body == NULL && (x->body = evbuffer_new()) == NULL)
		fatalx("out of memory");
	if (x->expect_continue) {
		/* Auth passed: the client may send; Expect is not
		 * forwarded. */
		xchg_send_continue(x);
		x->expect_continue = 0;
	}
	xchg_set_timeouts(x, cf->timeouts.body_idle, cf->timeouts.body_idle);
	body_fill(x);
}

/* The buffered part is complete (or as large as allowed): finish the
 * head's framing and contact a backend. */
static void
body_ready(struct xchg *x)
{
	const struct conf	*cf = xchg_conf(x);

	if (x->req_done) {
		/* All of it is here: send it sized, whatever it came as. */
		x->reqbody = XB_LENGTH;
		x->req.content_length =
		    (int64_t)evbuffer_get_length(x->body);
		x->reqleft = 0;
	}
	head_framing(x);
	x->state = X_ST_CONNECTING;
	xchg_set_timeouts(x, 0, cf->timeouts.body_idle);
	forward_connect(x);
}

/* Room in the bodybuf budget came back: carry on reading. */
static void
body_wake_cb(struct bodybuf_wait *w, void *arg)
{
	struct xchg	*x = arg;
	struct xchg_ref	 ref;

	(void)w;
	xchg_hold(x, &ref);
	if (x->state == X_ST_BODY && !xchg_closing(x)) {
		xchg_wait_body(x, 0);
		body_fill(x);
	}
	xchg_release(&ref);
}

/*
 * Decode chunked bytes from in into out, feeding the decoder at most room
 * input bytes so out grows by at most room.  Returns 1 at the last
 * chunk, 0 when more is needed, -1 on a framing error (err filled).
 */
static int
dechunk_some(struct http_chunk *ch, struct evbuffer *in, struct evbuffer *out,
    size_t room, struct http_error *err)
{
	struct evbuffer_iovec	 v;
	enum http_chunk_result	 r;
	size_t			 used, off, dlen, len;

	while (room > 0 && evbuffer_peek(in, -1, NULL, &v, 1) > 0 &&
	    v.iov_len > 0) {
		len = v.iov_len < room ? v.iov_len : room;
		r = http_chunk_feed(ch, v.iov_base, len, &used, &off, &dlen,
		    err);
		switch (r) {
		case HTTP_CHUNK_DATA:
			evbuffer_add(out, (const char *)v.iov_base + off,
			    dlen);
			break;
		case HTTP_CHUNK_AGAIN:
			break;
		case HTTP_CHUNK_DONE:
			evbuffer_drain(in, used);
			return (1);
		case HTTP_CHUNK_ERROR:
		default:
			return (-1);
		}
		evbuffer_drain(in, used);
		room -= used;
	}
	return (0);
}

/*
 * Move what the client sent into x->body, reserving budget as it grows.
 * Ends in body_ready() once the body is complete, body_buffer bytes are
 * held or the budget ran out with a share held; in a 400 for bad
 * framing; or waiting: for more bytes, or (reading paused) for budget.
 */
static void
body_fill(struct xchg *x)
{
	const struct conf	*cf = xchg_conf(x);
	struct evbuffer		*in = xchg_req_in(x);
	struct bodybuf		*bp = x->fw->bodybuf;
	struct http_error	 err;
	size_t			 cap = cf->limits.body_buffer, want, have;
	size_t			 room, n, before, step;
	int			 r;

	/* A session carrying several exchanges shares one cap among them
	 * (HTTP/2: the streams of a connection). */
	if (x->ops->body_cap != NULL)
		cap = x->ops->body_cap(x, cap);
	/* The budget x->body may take: the body, up to cap. */
	want = cap;
	if (x->reqbody == XB_LENGTH && (uint64_t)x->req.content_length < cap)
		want = (size_t)x->req.content_length;
	while (!x->req_done) {
		/* A sized body stops at want; a chunked one once it is
		 * known to be longer than cap (cap bytes may still be the
		 * whole body: only the last chunk can tell). */
		have = evbuffer_get_length(x->body);
		if (have >= want && (x->reqbody == XB_LENGTH || have > cap))
			break;
		if ((before = evbuffer_get_length(in)) == 0)
			return;
		if (have >= x->body_res && x->body_res < want) {
			step = want - x->body_res;
			if (step > BODYBUF_STEP)
				step = BODYBUF_STEP;
			if (bodybuf_reserve(bp, step,
			    cf->limits.body_buffer_total) == -1) {
				/*
				 * A body holding a share streams on with
				 * what was checked rather than wait: bodies
				 * that each hold part of the budget and wait
				 * for more would wait for each other until
				 * body_idle.  Only a body with no share
				 * waits, with reading paused.
				 */
				if (x->body_res > 0)
					break;
				bodybuf_wait(bp, &x->body_wait, body_wake_cb,
				    x);
				xchg_wait_body(x, 1);
				return;
			}
			x->body_res += step;
		}
		/* Chunked at cap: one more byte, framing or the first of
		 * a body that must stream, decides. */
		room = x->body_res > have ? x->body_res - have : 1;
		if (x->reqbody == XB_LENGTH) {
			n = before < room ? before : room;
			if ((int64_t)n > x->reqleft)
				n = (size_t)x->reqleft;
			evbuffer_remove_buffer(in, x->body, n);
			x->reqleft -= (int64_t)n;
			if (x->reqleft == 0)
				x->req_done = 1;
		} else {
			r = dechunk_some(&x->reqchunk, in, x->body, room, &err);
			if (r == -1) {
				x->bytes_in += before - evbuffer_get_length(in);
				x->req.keepalive = 0;
				x->error = err.reason;
				log_info("%s:%d: %s %s: 400 %s (body not "
				    "forwarded)", x->peer, x->peerport,
				    x->method, x->target, err.reason);
				xchg_respond(x, 400, NULL, NULL,
				    fwd_body_bad_chunked,
				    sizeof(fwd_body_bad_chunked) - 1, 1);
				return;
			}
			if (r == 1)
				x->req_done = 1;
		}
		x->bytes_in += before - evbuffer_get_length(in);
	}
	body_ready(x);
}

/*
 * The backend is connected: send the head and the buffered bytes in one
 * go.  A body that is still streaming goes on in its own framing: the
 * decoded bytes of a chunked one are re-chunked as one chunk.  The
 * budget is returned; the upstream output has its own backpressure.
 */
static void
body_send(struct xchg *x)
{
	struct evbuffer	*out = x->up->io.out;
	char		 hdr[HTTP_CHUNK_HEADER_MAX + 1];
	size_t		 len = evbuffer_get_length(x->body), n;

	evbuffer_add(out, x->uphead.p, x->uphead.len);
	if (x->reqbody == XB_CHUNKED) {
		n = http_chunk_header(hdr, len);
		evbuffer_add(out, hdr, n);
		evbuffer_add_buffer(out, x->body);
		add_lit(out, "\r\n");
	} else
		evbuffer_add_buffer(out, x->body);
	x->req_sent_any = 1;
	bodybuf_release(x->fw->bodybuf, x->body_res);
	x->body_res = 0;
}

/* ------------------------------------------------------------------ */
/* Backend choice and connections                                      */
/* ------------------------------------------------------------------ */

static void
up_attach(struct xchg *x, struct upconn *u)
{
	const struct conf	*cf = xchg_conf(x);
	size_t			 high = cf->limits.buffer_high;

	u->x = x;
	x->up = u;
	cio_setcb(&u->io, up_read_cb, up_write_cb, up_event_cb, u);
	cio_set_watermarks(&u->io, high, high / 2);
	cio_enable(&u->io, EV_READ | EV_WRITE);
}

/* Send the response for a request that never reached a backend. */
static void
forward_fail(struct xchg *x, int status, const char *reason)
{
	char	 body[256];
	int	 n;

	x->error = reason;
	if (x->pool != NULL)
		x->pool->st.errors++;
	log_info("%s:%d: %s %s: %d %s (%s)", x->peer, x->peerport,
	    x->method, x->target, status, reason,
	    x->pool ? x->pool->name : "-");
	n = snprintf(body, sizeof(body), "%d %s: %s\n", status,
	    http_status_text(status), reason);
	if (n < 0 || (size_t)n >= sizeof(body))
		n = sizeof(body) - 1;	/* truncated: send what was written */
	xchg_respond(x, status, NULL, NULL, body, (size_t)n, 1);
}

/*
 * Queue data for the backend, writing it to the socket at once when
 * nothing is queued before it.  For the usual small request head this
 * is one send(2) and no write-event registration at all (two epoll_ctl
 * calls saved per request); whatever the kernel does not take goes to
 * the output buffer, which cio writes when the socket takes more.
 */
static void
up_write_direct(struct upconn *u, const char *data, size_t len)
{
	struct evbuffer	*out = u->io.out;
	ssize_t		 n = 0;

	/* TLS output must go through cio, which encrypts it. */
	if (evbuffer_get_length(out) == 0 && u->io.ssl == NULL) {
		n = send(u->io.fd, data, len,
		    MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0)
			n = 0;	/* EAGAIN, or an error cio will see */
	}
	if ((size_t)n < len)
		evbuffer_add(out, data + n, len - (size_t)n);
}

/* The upstream connection is ready: send the head, then the body. */
static void
forward_send(struct xchg *x)
{
	const struct conf	*cf = xchg_conf(x);
	struct upconn		*u = x->up;

	u->connected = 1;
	x->state = X_ST_FORWARD;
	x->t_up = clock_now_us();
	x->pool->st.requests++;
	if (x->body != NULL && evbuffer_get_length(x->body) > 0)
		body_send(x);
	else
		up_write_direct(u, x->uphead.p, x->uphead.len);
	if (x->expect_continue) {
		/* We answer Expect ourselves and strip it upstream. */
		xchg_send_continue(x);
		x->expect_continue = 0;
	}
	if (!x->req_done) {
		cio_set_timeouts(&u->io, 0, cf->timeouts.body_idle);
		xchg_set_timeouts(x, cf->timeouts.body_idle,
		    cf->timeouts.body_idle);
		relay_request(x);
	} else {
		x->t_sent = clock_now_us();
		cio_set_timeouts(&u->io, cf->timeouts.upstream_response,
		    cf->timeouts.body_idle);
	}
}

/*
 * Make the head's Host line name backend i of the route, when the route's
 * backends are written with different host:port (host_varies) and the
 * head carries a backend's Host.  The head buffer is reused by every
 * exchange of the worker, so this grows it at most once.
 */
static void
head_host_for(struct xchg *x, size_t i)
{
	const struct conf_route		*r = x->route;
	const struct conf_backend	*old, *nb;
	struct sbuf			*h = &x->uphead;
	size_t				 tail;

	/* uphost_off is 0 (the request line's place) when build_head()
	 * wrote no backend Host line. */
	if (!r->host_varies || x->uphost_off == 0 || x->uphost_b == i)
		return;
	old = r->backends[x->uphost_b];
	nb = r->backends[i];
	if (nb->host_line_len > old->host_line_len)
		sbuf_grow(h, nb->host_line_len - old->host_line_len);
	tail = h->len - x->uphost_off - old->host_line_len;
	memmove(h->p + x->uphost_off + nb->host_line_len,
	    h->p + x->uphost_off + old->host_line_len, tail);
	memcpy(h->p + x->uphost_off, nb->host_line, nb->host_line_len);
	h->len = h->len - old->host_line_len + nb->host_line_len;
	x->uphost_b = (unsigned)i;
}

/*
 * Pick the next backend address not yet tried and not marked down, then
 * reuse an idle connection or open one.  When every address is down,
 * answer 503.
 */
static void
forward_connect(struct xchg *x)
{
	const struct conf	*cf = xchg_conf(x);
	const struct conf_route	*r = x->route;
	struct upconn		*u;
	struct pool		*p;
	uint64_t		 now = clock_now_us();
	unsigned		 start, before;
	size_t			 bi = 0;
	struct upstream_limits	 lim = { cf->upstream.pool_max_idle,
	    cf->upstream.pool_idle_timeout, x->wg->gen->uptls };

	/* Round-robin over every address of every backend of the route
	 * (resolve.c), skipping those tried or marked down. */
	start = x->wg->rr[r->id]++;
	for (;;) {
		before = x->tried;
		p = upstream_pick(x->fw->up, x->wg->eps,
		    (const struct conf_backend *const *)r->backends,
		    r->nbackends, start, &x->tried, now, &lim, &bi);
		if (p == NULL)
			break;
		x->pool = p;
		/* Another address after a failed one: a retry, whether
		 * on a pooled connection or a new one. */
		if (before != 0)
			p->st.retries++;
		head_host_for(x, bi);
		if ((u = upstream_take(p)) != NULL) {
			up_attach(x, u);
			forward_send(x);
			return;
		}
		if ((u = upstream_connect(p, cf->timeouts.upstream_connect)) ==
		    NULL) {
			upstream_pool_mark_down(p, now, cf->upstream.down_time);
			x->error = fwd_err_connect;
			continue;
		}
		up_attach(x, u);
		return;
	}
	if (x->error == NULL)
		forward_fail(x, 503, fwd_err_no_backend);
	else if (x->error == fwd_err_connect_timeout)
		forward_fail(x, 504, x->error);
	else
		forward_fail(x, 502, x->error ? x->error : fwd_err_connect);
}

/* ------------------------------------------------------------------ */
/* Bodies                                                              */
/* ------------------------------------------------------------------ */

/* Emit one chunk (size line, payload, CRLF) onto out. */
static void
chunk_out(struct evbuffer *out, const char *data, size_t len)
{
	char	 hdr[HTTP_CHUNK_HEADER_MAX + 1];
	size_t	 n;

	n = http_chunk_header(hdr, len);
	evbuffer_add(out, hdr, n);
	evbuffer_add(out, data, len);
	add_lit(out, "\r\n");
}

/*
 * Decode chunked bytes from in and re-encode them onto out.  Returns 1
 * when the last chunk was seen, 0 when more is needed, -1 on a framing
 * error (err filled).
 */
static int
rechunk(struct http_chunk *ch, struct evbuffer *in, struct evbuffer *out,
    int encode, uint64_t *moved, struct http_error *err)
{
	struct evbuffer_iovec	 v;
	enum http_chunk_result	 r;
	size_t			 used, off, dlen;

	while (evbuffer_peek(in, -1, NULL, &v, 1) > 0 && v.iov_len > 0) {
		r = http_chunk_feed(ch, v.iov_base, v.iov_len, &used, &off,
		    &dlen, err);
		switch (r) {
		case HTTP_CHUNK_DATA:
			if (encode)
				chunk_out(out, (const char *)v.iov_base + off,
				    dlen);
			else
				evbuffer_add(out, (const char *)v.iov_base +
				    off, dlen);
			*moved += dlen;
			evbuffer_drain(in, used);
			break;
		case HTTP_CHUNK_AGAIN:
			evbuffer_drain(in, used);
			break;
		case HTTP_CHUNK_DONE:
			evbuffer_drain(in, used);
			if (encode)
				add_lit(out, "0\r\n\r\n");
			return (1);
		case HTTP_CHUNK_ERROR:
		default:
			return (-1);
		}
	}
	return (0);
}

/*
 * Account what x holds buffered now, both ways: the client's input and
 * unsent output (TLS records included) and the backend's.  The
 * watermarks bound each; the peak is exported so a test can prove it.
 */
static void
note_buffered(struct xchg *x)
{
	size_t		 n;

	n = xchg_buffered(x);
	if (x->up != NULL)
		n += evbuffer_get_length(x->up->io.in) +
		    cio_pending(&x->up->io);
	metrics_buffered(x->fw->m, n);
}

/* Move request-body bytes from the client to the backend. */
static void
relay_request(struct xchg *x)
{
	const struct conf	*cf = xchg_conf(x);
	struct evbuffer		*in = xchg_req_in(x);
	struct evbuffer		*out = x->up->io.out;
	struct http_error	 err;
	size_t			 n, before;
	uint64_t		 moved = 0;
	int			 r;

	if (x->req_done)
		return;
	before = evbuffer_get_length(in);
	if (x->reqbody == XB_LENGTH) {
		n = evbuffer_get_length(in);
		if ((int64_t)n > x->reqleft)
			n = (size_t)x->reqleft;
		if (n > 0) {
			evbuffer_remove_buffer(in, out, n);
			x->reqleft -= (int64_t)n;
		}
		if (x->reqleft == 0)
			x->req_done = 1;
	} else {
		r = rechunk(&x->reqchunk, in, out, 1, &moved, &err);
		if (r == -1) {
			x->bytes_in += before - evbuffer_get_length(in);
			forward_abort(x);
			if (!x->resp_head_sent) {
				x->req.keepalive = 0;
				x->error = err.reason;
				xchg_respond_lit(x, 400, NULL, NULL,
				    "400 Bad Request: invalid chunked body\n",
				    1);
			} else
				xchg_abort(x, err.reason);
			return;
		}
		if (r == 1)
			x->req_done = 1;
	}
	x->bytes_in += before - evbuffer_get_length(in);
	if (before != evbuffer_get_length(in))
		x->req_sent_any = 1;
	note_buffered(x);
	if (x->req_done) {
		/* Now the backend's turn: time its answer. */
		xchg_set_timeouts(x, 0, cf->timeouts.body_idle);
		x->t_sent = clock_now_us();
		if (!x->resp_head_sent)
			cio_set_timeouts(&x->up->io,
			    cf->timeouts.upstream_response,
			    cf->timeouts.body_idle);
		return;
	}
	/* Backpressure: stop reading the client while the backend lags. */
	if (evbuffer_get_length(out) >= cf->limits.buffer_high) {
		xchg_pause_body(x);
	}
}

/* Move response-body bytes from the backend to the client. */
static void
relay_response(struct xchg *x)
{
	const struct conf	*cf = xchg_conf(x);
	struct evbuffer		*in = x->up->io.in;
	struct evbuffer		*out = xchg_resp_out(x);
	struct http_error	 err;
	size_t			 n, before = evbuffer_get_length(out);
	uint64_t		 moved = 0;
	int			 r, done = 0;

	switch (x->respbody) {
	case XB_LENGTH:
		n = evbuffer_get_length(in);
		if ((int64_t)n > x->respleft)
			n = (size_t)x->respleft;
		if (n > 0) {
			evbuffer_remove_buffer(in, out, n);
			x->respleft -= (int64_t)n;
		}
		done = (x->respleft == 0);
		break;
	case XB_CHUNKED:
		r = rechunk(&x->respchunk, in, out, x->resp_chunked_out,
		    &moved, &err);
		if (r == -1) {
			x->error = err.reason;
			x->bytes_out += evbuffer_get_length(out) - before;
			xchg_abort(x, fwd_err_bad_resp);
			return;
		}
		done = (r == 1);
		break;
	case XB_CLOSE:
		n = evbuffer_get_length(in);
		if (n == 0)
			break;
		if (x->resp_chunked_out) {
			struct evbuffer_iovec v;

			while (evbuffer_peek(in, -1, NULL, &v, 1) > 0 &&
			    v.iov_len > 0) {
				chunk_out(out, v.iov_base, v.iov_len);
				evbuffer_drain(in, v.iov_len);
			}
		} else
			evbuffer_remove_buffer(in, out, n);
		break;
	default:
		done = 1;
		break;
	}
	x->bytes_out += evbuffer_get_length(out) - before;
	note_buffered(x);
	if (done) {
		forward_finish(x);
		return;
	}
	if (evbuffer_get_length(out) >= cf->limits.buffer_high &&
	    x->up != NULL) {
		cio_disable(&x->up->io, EV_READ);
		x->up_paused = 1;
	}
}

/* ------------------------------------------------------------------ */
/* Response head                                                       */
/* ------------------------------------------------------------------ */

/* Does the client get response header h of x?  See forward.h. */
int
forward_resp_hdr_kept(const struct xchg *x, const struct http_hdr *h)
{
	switch (h->kind) {
	case HTTP_H_CONNECTION:
	case HTTP_H_HOP:
	case HTTP_H_TRANSFER_ENCODING:
		return (0);
	case HTTP_H_CONTENT_LENGTH:
		/* Only when the body is sized by it, or has none. */
		return (x->respbody == XB_LENGTH || x->resp.no_body);
	default:
		return (1);
	}
}

/* Write the client's response head for a parsed backend response. */
static void
write_resp_head(struct xchg *x, int close)
{
	struct sbuf		*sb = &x->fw->hbuf;
	const struct http_resp	*rp = &x->resp;
	size_t			 i;
	char			 line[64];
	int			 n;

	sb->len = 0;
	n = snprintf(line, sizeof(line), "HTTP/1.1 %d ", rp->status);
	sbuf_add(sb, line, (size_t)n);
	sbuf_add(sb, rp->reason, rp->reasonlen);
	sbuf_lit(sb, "\r\n");
	for (i = 0; i < rp->nhdrs; i++) {
		const struct http_hdr *h = &rp->hdrs[i];

		if (!forward_resp_hdr_kept(x, h))
			continue;
		sbuf_add(sb, h->name, h->namelen);
		sbuf_lit(sb, ": ");
		sbuf_add(sb, h->value, h->valuelen);
		sbuf_lit(sb, "\r\n");
	}
	if (x->resp_chunked_out)
		sbuf_lit(sb, "Transfer-Encoding: chunked\r\n");
	if (close)
		sbuf_lit(sb, "Connection: close\r\n\r\n");
	else if (x->req.version_minor == 0)
		sbuf_lit(sb, "Connection: keep-alive\r\n\r\n");
	else
		sbuf_lit(sb, "\r\n");
	/* One add: one buffer chain, one output callback. */
	xchg_deliver_head(x, sb->p, sb->len);
}

/* Parse the backend's response head.  Returns 0 when the body (if any)
 * may be relayed, 1 when more bytes are needed, -1 when x failed (and may
 * already be recycled: the caller must not touch it). */
static int
parse_resp_head(struct xchg *x)
{
	const struct conf	*cf = xchg_conf(x);
	struct evbuffer		*in = x->up->io.in;
	struct evbuffer		*out = xchg_resp_out(x);
	struct http_limits	 lim;
	struct http_error	 err;
	enum http_parse_result	 r;
	const char		*buf;
	size_t			 len, want, maxhead, before;
	int			 close;

	xchg_limits(cf, &lim);
	maxhead = lim.max_request_line + lim.max_header_block + 4;
	for (;;) {
		if ((len = evbuffer_get_length(in)) == 0)
			return (1);
		want = len < maxhead ? len : maxhead;
		/* want <= maxhead, under 17 MiB by conf limits: no overflow. */
		buf = (const char *)evbuffer_pullup(in, (ssize_t)want);
		r = http_parse_response(buf, want, &lim, x->req.method_id,
		    &x->resp, x->rhdrs, HTTP_MAX_HDRS, &err);
		if (r == HTTP_PARSE_AGAIN) {
			if (want >= maxhead)
				goto bad;
			return (1);
		}
		if (r == HTTP_PARSE_ERROR)
			goto bad;
		if (x->resp.status >= 100 && x->resp.status < 200) {
			/* Interim responses: we answered Expect ourselves and
			 * do not upgrade, so 1xx are dropped (101 is fatal). */
			if (x->resp.status == 101)
				goto bad;
			/* Early Hints go on where the session relays them. */
			if (x->resp.status == 103 && x->ops->interim != NULL)
				x->ops->interim(x);
			evbuffer_drain(in, x->resp.head_len);
			memset(&x->resp, 0, sizeof(x->resp));
			continue;
		}
		break;
	}
	x->t_uphead = clock_now_us();
	x->status = x->resp.status;
	if (x->resp.no_body)
		x->respbody = XB_NONE;
	else if (x->resp.chunked) {
		x->respbody = XB_CHUNKED;
		http_chunk_init(&x->respchunk, cf->limits.max_chunk_ext,
		    cf->limits.max_header_block);
	} else if (x->resp.content_length >= 0) {
		x->respbody = XB_LENGTH;
		x->respleft = x->resp.content_length;
	} else
		x->respbody = XB_CLOSE;

	close = !x->req.keepalive || !x->req_done || xchg_must_close(x);
	if ((x->respbody == XB_CHUNKED || x->respbody == XB_CLOSE) &&
	    !x->ops->frames_body) {
		if (x->req.version_minor >= 1)
			x->resp_chunked_out = 1;
		else
			close = 1;	/* HTTP/1.0: delimit by closing */
	}
	if (close)
		xchg_close_after(x);
	before = evbuffer_get_length(out);
	write_resp_head(x, close);
	x->bytes_out += evbuffer_get_length(out) - before;
	evbuffer_drain(in, x->resp.head_len);
	x->resp.hdrs = NULL;
	x->resp_head_sent = 1;
	cio_set_timeouts(&x->up->io, cf->timeouts.body_idle,
	    cf->timeouts.body_idle);
	return (0);
bad:
	log_info("%s:%d: %s %s: bad response from %s: %s", x->peer,
	    x->peerport, x->method, x->target, x->pool->name,
	    r == HTTP_PARSE_ERROR ? err.reason : "head too large");
	forward_abort(x);
	forward_fail(x, 502, fwd_err_bad_resp);
	return (-1);
}

/* The response is complete: pool or close the upstream connection. */
static void
forward_finish(struct xchg *x)
{
	struct upconn	*u = x->up;
	int		 clean;

	if (x->resp_chunked_out && x->respbody == XB_CLOSE)
		add_lit(xchg_resp_out(x), "0\r\n\r\n");
	x->resp_done = 1;
	if (u != NULL) {
		clean = x->req_done && x->resp.keepalive &&
		    x->respbody != XB_CLOSE &&
		    evbuffer_get_length(u->io.in) == 0 &&
		    evbuffer_get_length(u->io.out) == 0;
		u->nreq++;
		x->up = NULL;
		if (clean)
			upstream_put(u);
		else
			upstream_free(u);
	}
	if (!x->req_done)
		xchg_close_after(x);
	xchg_finish(x);
}

void
forward_abort(struct xchg *x)
{
	if (x->up != NULL) {
		upstream_free(x->up);
		x->up = NULL;
	}
}

/* ------------------------------------------------------------------ */
/* Callbacks                                                           */
/* ------------------------------------------------------------------ */

void
forward_client_read(struct xchg *x)
{
	if (x->state == X_ST_BODY) {
		if (!x->body_wait.queued)
			body_fill(x);
		return;
	}
	if (x->state == X_ST_FORWARD && !x->req_done && x->up != NULL)
		relay_request(x);
}

void
forward_client_drained(struct xchg *x)
{
	if (x->up_paused && x->up != NULL) {
		x->up_paused = 0;
		cio_enable(&x->up->io, EV_READ);
		if (evbuffer_get_length(x->up->io.in))
			relay_response(x);
	}
}

/*
 * upstream_response bounds the whole response head, not just the gap
 * between reads: a backend trickling its head byte by byte still gets a
 * 504 in time.  Re-arm the read timeout with what is left.
 */
static void
head_deadline(struct xchg *x)
{
	const struct conf *cf = xchg_conf(x);
	uint64_t	 limit =
	    (uint64_t)cf->timeouts.upstream_response * 1000;
	uint64_t	 spent = clock_now_us() - x->t_sent;

	if (spent >= limit) {
		forward_abort(x);
		forward_fail(x, 504, fwd_err_timeout);
		return;
	}
	/* limit - spent < limit < 2^32 ms in us: the ms fit. */
	cio_set_timeouts(&x->up->io, (unsigned)((limit - spent + 999) / 1000),
	    cf->timeouts.body_idle);
}

static void
up_read_cb(struct cio *io, void *arg)
{
	struct upconn	*u = arg;
	struct xchg	*x = u->x;
	struct xchg_ref	 ref;

	xchg_hold(x, &ref);
	if (!x->resp_head_sent) {
		switch (parse_resp_head(x)) {
		case 1:
			if (x->t_sent != 0)
				head_deadline(x);
			goto done;
		case -1:
			goto done;
		default:
			break;
		}
	}
	if (x->up != NULL && !x->resp_done)
		relay_response(x);
done:
	xchg_release(&ref);
}

static void
up_write_cb(struct cio *io, void *arg)
{
	struct upconn	*u = arg;
	struct xchg	*x = u->x;
	struct xchg_ref	 ref;

	xchg_hold(x, &ref);
	/* The backend caught up: read the client's body again. */
	if (!x->req_done && xchg_resume_body(x))
		relay_request(x);
	xchg_release(&ref);
}

/*
 * 1 when a timeout reported on x's upstream connection cannot be x's own:
 * no deadline of this exchange has passed yet.  Re-arms the read timeout
 * with what is left of the response-head deadline.
 */
static int
spurious_timeout(struct xchg *x)
{
	const struct conf *cf = xchg_conf(x);
	uint64_t	 now = clock_now_us(), limit, since;

	if (!x->resp_head_sent) {
		if (x->t_sent == 0)
			since = x->t_up;	/* still sending: body_idle */
		else
			since = x->t_sent;
		limit = (uint64_t)(x->t_sent ? cf->timeouts.upstream_response :
		    cf->timeouts.body_idle) * 1000;
	} else {
		since = x->t_uphead;
		limit = (uint64_t)cf->timeouts.body_idle * 1000;
	}
	/* Generous slack for loop latency: only clearly early ones count. */
	if (since == 0 || now - since + 50000 >= limit)
		return (0);
	if (!x->resp_head_sent && x->t_sent != 0) {
		/* Less than limit (< 2^32 ms in us) is left: it fits. */
		cio_set_timeouts(&x->up->io,
		    (unsigned)((limit - (now - since) + 999) / 1000),
		    cf->timeouts.body_idle);
	}
	return (1);
}

/* Retry once on a fresh connection after a pooled one turned out stale. */
static int
stale_retry(struct xchg *x)
{
	struct upconn	*u = x->up;
	struct pool	*p = x->pool;
	const struct conf *cf = xchg_conf(x);

	if (!u->reused || x->stale_retry || x->resp_head_sent ||
	    !x->idempotent || x->reqbody != XB_NONE ||
	    evbuffer_get_length(u->io.in) != 0)
		return (-1);
	x->stale_retry = 1;
	upstream_free(u);
	x->up = NULL;
	p->st.retries++;
	if ((u = upstream_connect(p, cf->timeouts.upstream_connect)) == NULL)
		return (-1);
	x->state = X_ST_CONNECTING;
	up_attach(x, u);
	return (0);
}

/* A TLS backend connection failed or ended after its handshake: when
 * OpenSSL says why (an alert such as "certificate required" from an mTLS
 * backend, which also reads as an EOF), log it, count it, and leave the
 * thread's error queue empty. */
static void
up_tls_note(struct xchg *x, struct upconn *u, short what)
{
	char	 why[512];

	if ((what & (BEV_EVENT_ERROR | BEV_EVENT_EOF)) && u->io.ssl != NULL &&
	    upstream_tls_failure(u, why, sizeof(why)) != 0)
		log_warn("backend %s: TLS: %s", x->pool->name, why);
}

static void
up_event_cb(struct cio *io, short what, void *arg)
{
	struct upconn	*u = arg;
	struct xchg	*x = u->x;
	struct xchg_ref	 ref;
	const struct conf *cf = xchg_conf(x);

	xchg_hold(x, &ref);
	if (what & BEV_EVENT_CONNECTED) {
		upstream_connected(u);
		forward_send(x);
		goto done;
	}
	if (!u->connected) {
		char	 why[512];
		int	 tf;

		/* Connect (or TLS handshake) failed or timed out: nothing
		 * was sent. */
		x->pool->st.connect_errors++;
		upstream_pool_mark_down(x->pool, clock_now_us(),
		    cf->upstream.down_time);
		x->error = (what & BEV_EVENT_TIMEOUT) ?
		    fwd_err_connect_timeout : fwd_err_connect;
		tf = (what & BEV_EVENT_TIMEOUT) ? 0 :
		    upstream_tls_failure(u, why, sizeof(why));
		if (tf != 0) {
			/* Never retried unverified: a 502 with the reason. */
			x->error = tf == 1 ? fwd_err_tls_verify : fwd_err_tls;
			log_warn("backend %s: %s: %s", x->pool->name,
			    x->error, why);
		} else
			log_warn("backend %s: %s", x->pool->name, x->error);
		upstream_free(u);
		x->up = NULL;
		forward_connect(x);
		goto done;
	}
	if ((what & BEV_EVENT_EOF) && x->resp_head_sent &&
	    x->respbody == XB_CLOSE) {
		/* Close-delimited body: EOF is its end. */
		relay_response(x);
		if (x->up != NULL)
			forward_finish(x);
		goto done;
	}
	if ((what & BEV_EVENT_TIMEOUT) && spurious_timeout(x)) {
		/*
		 * A timeout armed while the connection sat in the pool (or
		 * for an earlier phase) fired in the same loop pass as its
		 * reuse: not ours.  libevent disabled the event; re-arm it.
		 */
		cio_enable(&u->io, (what & BEV_EVENT_READING) ?
		    EV_READ : EV_WRITE);
		goto done;
	}
	if (!x->resp_head_sent) {
		up_tls_note(x, u, what);
		if ((what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) &&
		    stale_retry(x) == 0)
			goto done;
		forward_abort(x);
		if (what & BEV_EVENT_TIMEOUT)
			forward_fail(x, 504, fwd_err_timeout);
		else
			forward_fail(x, 502, fwd_err_closed);
		goto done;
	}
	/* Mid-response failure: the client cannot be told; cut it off so a
	 * truncated body is never mistaken for a whole one. */
	x->error = fwd_err_mid_resp;
	x->pool->st.errors++;
	up_tls_note(x, u, what);
	forward_abort(x);
	xchg_abort(x, fwd_err_mid_resp);
done:
	xchg_release(&ref);
}

/* See forward.h. */
void
forward_worker_free(struct forward_worker *fw)
{
	free(fw->hbuf.p);
	fw->hbuf.p = NULL;
}
