/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * Client connection lifecycle: accept, TLS handshake, reading and
 * validating request heads, routing and the per-route auth decision,
 * local answers (errors, redirects, the trouble page), keep-alive and
 * pipelining, timeouts and the single teardown path conn_close().
 * Forwarding to backends is forward.c's job; this file hands it a parsed,
 * routed and authorised exchange and implements the exchange seam's
 * operations (struct xchg_ops) for it.  worker.c hands it accepted fds
 * (conn_accept()); it reaches its worker only through struct conn_worker
 * and its gone callback, never through worker.h.
 *
 * Floor: the client sessions, above forward.c (which it calls directly)
 * and below worker.c.
 *
 * Over 1,200 lines because it is one role, the HTTP/1.1 client session,
 * whose answers to a request (403s, bearer-token 401s, the trouble page,
 * redirects) all need the session's own output and close rules; an
 * HTTP/2 session will be a file of its own beside it.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <llhttp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "auth/auth.h"
#include "base/lit.h"
#include "conf/conf.h"
#include "conf/route.h"
#include "proxy/access.h"
#include "proxy/conn.h"
#include "proxy/forward.h"
#include "proxy/h2.h"
#include "proxy/http.h"
#include "proxy/log.h"
#include "proxy/metrics.h"
#include "proxy/tls.h"
#include "proxy/upstream.h"
#include "proxy/util.h"
#include "proxy/xchg.h"

#define TROUBLE_PATH	"/auth/trouble"
/* Pages gridfront writes itself that show what a client sent (the trouble
 * page shows the certificate's DNs): no script, style, frame or form may
 * run or load, and the browser must not guess another content type. */
#define PAGE_HDRS	"Content-Security-Policy: default-src 'none'; "	\
			"frame-ancestors 'none'; base-uri 'none'; "	\
			"form-action 'none'\r\n"			\
			"X-Content-Type-Options: nosniff\r\n"

static void	conn_read_cb(struct cio *, void *);
static void	conn_write_cb(struct cio *, void *);
static void	conn_event_cb(struct cio *, short, void *);
static void	conn_timer_cb(evutil_socket_t, short, void *);
static void	conn_parse(struct conn *);
static void	conn_free(struct conn *);

static const char conn_err_handshake_timeout[] = "TLS handshake timeout";
static const char conn_err_idle[] = "keep-alive idle timeout";
static const char conn_err_eof[] = "client closed connection";
static const char conn_err_io[] = "client connection error";
static const char conn_err_tls[] = "TLS handshake failed";
static const char conn_err_write_timeout[] = "client write timeout";
static const char conn_err_done[] = "done";
static const char conn_err_lingered[] = "done (after lingering close)";
static const char conn_err_plain_token[] =
    "bearer token over plain HTTP refused; use https";

/* Lingering close: how long, and how much, we read and discard. */
#define CONN_LINGER_MS		2000
#define CONN_LINGER_MAX		((size_t)1024 * 1024)

/* ------------------------------------------------------------------ */
/* Lifecycle                                                           */
/* ------------------------------------------------------------------ */

void
conn_ref(struct conn *c)
{
	c->busy++;
}

int
conn_unref(struct conn *c)
{
	if (--c->busy == 0 && (c->flags & CONN_F_CLOSING)) {
		conn_free(c);
		return (1);
	}
	return (0);
}

static void
timer_arm(struct conn *c, unsigned ms)
{
	struct timeval	 tv;

	clock_ms_tv(ms, &tv);
	evtimer_add(&c->timer, &tv);
}

void
conn_set_timeouts(struct conn *c, unsigned read_ms, unsigned write_ms)
{
	cio_set_timeouts(&c->io, read_ms, write_ms);
}

void
conn_body_wait(struct conn *c, int on)
{
	if (on) {
		cio_disable(&c->io, EV_READ);
		timer_arm(c, c->gen->conf->timeouts.body_idle);
	} else {
		evtimer_del(&c->timer);
		if (!(c->flags & (CONN_F_EOF | CONN_F_PAUSED)))
			cio_enable(&c->io, EV_READ);
	}
}

/* See conn.h. */
void
conn_accept(struct conn_worker *w, int lidx, evutil_socket_t fd,
    struct sockaddr *sa, int salen)
{
	struct wgen		*wg = w->wg;
	const struct conf	*cf = wg->gen->conf;
	const struct conf_listener *cl = &cf->listeners[lidx];
	struct conn		*c;
	SSL			*ssl = NULL;
	int			 one = 1;

	if (w->draining) {
		close(fd);
		return;
	}
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c = xcalloc(1, sizeof(*c));
	c->w = w;
	c->wg = wgen_get(wg);
	c->gen = wg->gen;
	c->lidx = lidx;
	c->https_port = cl->https_port;
	if (cl->allow_path_params)
		c->flags |= CONN_F_PATH_PARAMS;
	if (cl->allow_plain_tokens)
		c->flags |= CONN_F_PLAIN_TOKENS;
	if ((size_t)salen > sizeof(c->peer))
		salen = sizeof(c->peer);
	memcpy(&c->peer, sa, salen);
	util_addr_str(sa, c->peerstr, sizeof(c->peerstr));
	c->peerport = util_addr_port(sa);
	c->t_accept = clock_now_us();
	event_assign(&c->timer, w->base, -1, 0, conn_timer_cb, c);

	if (cl->tls) {
		c->flags |= CONN_F_TLS;
		if ((ssl = SSL_new(c->gen->sslctx[lidx])) == NULL) {
			tls_log_errors("SSL_new");
			goto fail;
		}
		if (cio_init(&c->io, w->base, fd, ssl) == -1) {
			SSL_free(ssl);
			goto fail;
		}
		c->ssl = ssl;
		cio_ticket_with_response(&c->io);
		timer_arm(c, cf->timeouts.handshake);
	} else {
		if (cio_init(&c->io, w->base, fd, NULL) == -1)
			goto fail;
		c->flags |= CONN_F_READY;
		if (cl->redirect_https)
			c->flags |= CONN_F_REDIRECT;
		timer_arm(c, cf->timeouts.keepalive);
	}
	/*
	 * The read high watermark bounds what one client can make us buffer:
	 * a full head, or buffer_high bytes of body or pipelined requests.
	 * Below half of buffer_high of unsent output, a paused backend is
	 * read again (forward_client_drained()).
	 */
	cio_set_watermarks(&c->io, cf->limits.buffer_high +
	    cf->limits.max_request_line + cf->limits.max_header_block,
	    cf->limits.buffer_high / 2);
	cio_setcb(&c->io, conn_read_cb, conn_write_cb, conn_event_cb, c);
	conn_set_timeouts(c, 0, cf->timeouts.body_idle);
	cio_enable(&c->io, EV_READ | EV_WRITE);
	TAILQ_INSERT_TAIL(&w->conns, c, entry);
	w->nconns++;
	metrics_conn_open(w->m, cl->tls, w->nconns);
	if (w->nconns >= cf->limits.max_connections)
		w->gone(w->gone_arg);	/* re-evaluates accept pausing */
	return;
fail:
	log_warn("%s: cannot set up connection", c->peerstr);
	wgen_put(c->wg);
	free(c);
	close(fd);
}

/* See conn.h. */
void
conn_access_log(struct conn *c, struct xchg *x)
{
	struct access_client	 cl;

	cl.conf = c->gen->conf;
	cl.peer = c->peerstr;
	cl.peerport = c->peerport;
	cl.ssl = c->ssl;
	cl.ident = c->ident;
	cl.h2 = c->h2 != NULL;
	access_log(c->w->al, &cl, x);
}

static void
conn_free(struct conn *c)
{
	struct conn_worker *w = c->w;

	if (c->h2 != NULL)
		h2_free(c);	/* its streams' exchanges, then the session */
	if (c->x != NULL) {
		forward_abort(c->x);
		if (c->x->state != X_ST_DONE && c->x->state != X_ST_HEAD) {
			if (c->x->status == 0)
				c->x->status = 499;	/* client went away */
			conn_access_log(c, c->x);
		}
		xchg_put(&w->xc, w->bodybuf, c->x);
		c->x = NULL;
	}
	log_debug("%s:%d: closed: %s", c->peerstr, c->peerport,
	    c->close_reason ? c->close_reason : "-");
	event_del(&c->timer);
	auth_ident_put(c->ident);
	c->ident = NULL;
	auth_token_memo_free(c->tokmemo);
	c->tokmemo = NULL;
	/*
	 * Say goodbye properly (RFC 8446 6.1): a close_notify lets the client
	 * tell a complete close-delimited answer from a cut one.  The alert
	 * goes straight to the socket.
	 */
	if (c->ssl != NULL && (c->flags & CONN_F_READY) &&
	    c->close_reason == conn_err_done)
		(void)SSL_shutdown(c->ssl);
	ERR_clear_error();
	cio_free(&c->io);	/* also frees the SSL and closes fd */
	TAILQ_REMOVE(&w->conns, c, entry);
	w->nconns--;
	metrics_conn_close(w->m, w->nconns);
	wgen_put(c->wg);
	free(c);
	w->gone(w->gone_arg);
}

void
conn_close(struct conn *c, const char *reason)
{
	if (c->flags & CONN_F_CLOSING)
		return;
	c->close_reason = reason;
	if (c->busy > 0) {
		c->flags |= CONN_F_CLOSING;
		cio_disable(&c->io, EV_READ | EV_WRITE);
		return;
	}
	conn_free(c);
}

void
conn_drain(struct conn *c)
{
	if (c->h2 != NULL) {
		h2_drain(c);
		return;
	}
	if (c->x == NULL && !(c->flags & CONN_F_IN_HEAD)) {
		conn_close(c, "shutting down");
		return;
	}
	c->flags |= CONN_F_CLOSE_AFTER;
}

/*
 * Everything for the client is written: close our side (close_notify,
 * then FIN) but keep reading and discarding for a short while.  A client
 * still sending a body or pipelined requests would otherwise have its
 * unread bytes answered by a TCP reset that destroys the response still
 * in flight (RFC 9112 9.6, "lingering close").  The connection ends at
 * the client's EOF, after CONN_LINGER_MS or after CONN_LINGER_MAX bytes.
 */
static void
conn_linger(struct conn *c)
{
	if ((c->flags & (CONN_F_EOF | CONN_F_CLOSING)) ||
	    c->flags & CONN_F_LINGER) {
		conn_close(c, conn_err_done);
		return;
	}
	c->flags |= CONN_F_LINGER;
	if (c->ssl != NULL && (c->flags & CONN_F_READY))
		(void)SSL_shutdown(c->ssl);
	ERR_clear_error();
	(void)shutdown(c->io.fd, SHUT_WR);
	evbuffer_drain(c->io.in,
	    evbuffer_get_length(c->io.in));
	conn_set_timeouts(c, 0, 0);
	cio_enable(&c->io, EV_READ);
	timer_arm(c, CONN_LINGER_MS);
}

/* Close once everything queued for the client has been written. */
static void
conn_flush_close(struct conn *c)
{
	if (c->flags & CONN_F_CLOSE_AFTER && c->h2 != NULL)
		return;		/* an HTTP/2 session asks once */
	c->flags |= CONN_F_CLOSE_AFTER;
	cio_disable(&c->io, EV_READ);
	if (cio_pending(&c->io) == 0)
		conn_linger(c);
}

/* See conn.h. */
void
conn_close_flushed(struct conn *c)
{
	conn_flush_close(c);
}

/*
 * The keep-alive rule, one place for conn_xchg_done() and (through the
 * seam's must_close) forward.c: after the current exchange, c closes when
 * it was told to, the worker drains, or the client half-closed with
 * nothing left to parse.
 */
static int
conn_must_close(struct conn *c)
{
	return ((c->flags & CONN_F_CLOSE_AFTER) || c->w->draining ||
	    ((c->flags & CONN_F_EOF) &&
	    evbuffer_get_length(c->io.in) == 0));
}

/*
 * The read-resume rule, one place for conn_xchg_done() and the seam's
 * resume_body: reading paused by backpressure starts again, unless the
 * client half-closed (then there is nothing more to read).
 */
static void
conn_resume_read(struct conn *c)
{
	c->flags &= ~CONN_F_PAUSED;
	if (!(c->flags & CONN_F_EOF))
		cio_enable(&c->io, EV_READ);
}

void
conn_xchg_done(struct conn *c)
{
	struct xchg	*x = c->x;

	if (x == NULL)
		return;
	x->state = X_ST_DONE;
	conn_access_log(c, x);
	metrics_request(c->w->m, x->route ? x->route->path : "(none)",
	    x->method, x->status, METRICS_PROTO_H1, x->t_start);
	xchg_put(&c->w->xc, c->w->bodybuf, x);
	c->x = NULL;
	if (conn_must_close(c)) {
		conn_flush_close(c);
		return;
	}
	/* Resume reading if backpressure had paused it (not after EOF). */
	conn_resume_read(c);
	conn_set_timeouts(c, 0, c->gen->conf->timeouts.body_idle);
	/* Inside conn_parse() its loop picks up the next request. */
	if (c->flags & CONN_F_PARSING)
		return;
	if (evbuffer_get_length(c->io.in) > 0)
		conn_parse(c);		/* pipelined request */
	else
		timer_arm(c, c->gen->conf->timeouts.keepalive);
}

/* ------------------------------------------------------------------ */
/* Local answers                                                       */
/* ------------------------------------------------------------------ */

void
conn_respond(struct conn *c, int status, const char *hdrs, const char *ctype,
    const char *body, size_t bodylen, int close)
{
	struct xchg	*x = c->x;
	struct evbuffer	*out = c->io.out;
	size_t		 before = evbuffer_get_length(out);
	int		 head_only = 0;

	if (x != NULL) {
		x->status = status;
		x->state = X_ST_LOCAL;
		head_only = x->head_method;
		if (!x->req.keepalive || x->req.has_body)
			close = 1;
	}
	if (close)
		c->flags |= CONN_F_CLOSE_AFTER;
	evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\nServer: gridfront\r\n"
	    "Content-Type: %s\r\nContent-Length: %zu\r\n"
	    "Cache-Control: no-store\r\n%s%s\r\n", status,
	    http_status_text(status),
	    ctype ? ctype : "text/plain; charset=utf-8", bodylen,
	    hdrs ? hdrs : "", close ? "Connection: close\r\n" : "");
	if (!head_only && bodylen > 0)
		evbuffer_add(out, body, bodylen);
	if (x != NULL) {
		x->bytes_out += evbuffer_get_length(out) - before;
		conn_xchg_done(c);
	} else if (close)
		conn_flush_close(c);
}

/*
 * Answer x locally: on c itself for HTTP/1.1, through x's stream for
 * HTTP/2 (whose x is not c->x).  Used by the answers of the decision
 * path that both sessions share (conn_decide()).
 */
static void
conn_answer(struct conn *c, struct xchg *x, int status, const char *hdrs,
    const char *ctype, const char *body, size_t bodylen, int close)
{
	if (c->h2 != NULL)
		xchg_respond(x, status, hdrs, ctype, body, bodylen, close);
	else
		conn_respond(c, status, hdrs, ctype, body, bodylen, close);
}

/* A short plain-text error page for x, always with Connection: close. */
static void
conn_error_x(struct conn *c, struct xchg *x, int status, const char *reason)
{
	char	 body[512];
	int	 n;

	if (x != NULL)
		x->error = reason;
	n = snprintf(body, sizeof(body), "%d %s: %s\n", status,
	    http_status_text(status), reason);
	if (n < 0 || (size_t)n >= sizeof(body))
		n = sizeof(body) - 1;
	conn_answer(c, x, status, NULL, NULL, body, (size_t)n, 1);
}

/* A short plain-text error page, always with Connection: close. */
static void
conn_error(struct conn *c, int status, const char *reason)
{
	char	 body[512];
	int	 n;

	if (c->x != NULL)
		c->x->error = reason;
	n = snprintf(body, sizeof(body), "%d %s: %s\n", status,
	    http_status_text(status), reason);
	if (n < 0 || (size_t)n >= sizeof(body))
		n = sizeof(body) - 1;
	conn_respond(c, status, NULL, NULL, body, (size_t)n, 1);
}

/* Copy a header value into dst as long as it is a plausible host name
 * ([A-Za-z0-9.-], an optional [v6] literal, and :port). */
static int
host_sane(const char *h, size_t len, char *dst, size_t dstlen)
{
	size_t	 i;

	if (len == 0 || len >= dstlen)
		return (-1);
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)h[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '.' || ch == '-' ||
		    ch == ':' || ch == '[' || ch == ']'))
			return (-1);
	}
	memcpy(dst, h, len);
	dst[len] = '\0';
	return (0);
}

/* Plain listener with redirect_https: 301 to the same target on https. */
static void
conn_redirect(struct conn *c, struct xchg *x)
{
	char	 host[256], loc[1024 + 300], hdr[sizeof(loc) + 16];
	char	*colon;
	size_t	 tlen;

	if (x->req.host == NULL ||
	    host_sane(x->req.host, x->req.hostlen, host, sizeof(host)) == -1) {
		conn_error(c, 400, "invalid Host header for redirect");
		return;
	}
	/* Drop a :port, unless it closes an IPv6 literal. */
	if ((colon = strrchr(host, ':')) != NULL && strchr(colon, ']') == NULL)
		*colon = '\0';
	tlen = x->req.targetlen;
	if (tlen > 1024) {
		conn_error(c, 414, "request target too long to redirect");
		return;
	}
	if (c->https_port != 0 && c->https_port != 443)
		snprintf(loc, sizeof(loc), "https://%s:%d%.*s", host,
		    c->https_port, (int)tlen, x->req.target);
	else
		snprintf(loc, sizeof(loc), "https://%s%.*s", host, (int)tlen,
		    x->req.target);
	snprintf(hdr, sizeof(hdr), "Location: %s\r\n", loc);
	conn_respond_lit(c, 301, hdr, NULL, "Moved to https\n", 0);
}

static const char *conn_bearer(const struct xchg *, size_t,
		    const struct auth_tokmemo *, const char **,
		    size_t *);

static void
conn_trouble(struct conn *c, struct xchg *x)
{
	struct auth_ctx	*actx;
	char		*page;
	const char	*tok;
	size_t		 len = 0, i, toklen;
	int		 json = 0;

	for (i = 0; i < x->req.nhdrs; i++) {
		const struct http_hdr *h = &x->req.hdrs[i];

		if (h->namelen == LIT_LEN("accept") &&
		    util_ascii_ieq(h->name, "accept", LIT_LEN("accept")) &&
		    memmem(h->value, h->valuelen, "application/json",
		    LIT_LEN("application/json")))
			json = 1;
	}
	actx = c->gen->auth ? c->gen->auth->ctx : NULL;
	if (actx == NULL) {
		conn_error_x(c, x, 404, "certificate authentication is not "
		    "configured");
		return;
	}
	/* A presented bearer token is shown too (its header and claims);
	 * a malformed Authorization header is simply not shown. */
	if (conn_bearer(x, c->gen->conf->limits.max_token, NULL, &tok,
	    &toklen) !=
	    NULL)
		tok = NULL;
	if ((page = auth_trouble_render_token(actx, c->ident, tok, toklen,
	    json, &len)) == NULL) {
		conn_error_x(c, x, 500, "cannot render the trouble page");
		return;
	}
	conn_answer(c, x, 200, PAGE_HDRS, json ? "application/json" :
	    "text/html; charset=utf-8", page, len, 0);
	free(page);
}

/* 403 with a plain-language reason and a pointer to the trouble page. */
static void
conn_deny(struct conn *c, struct xchg *x, const char *reason)
{
	char		 body[1024];
	const char	*url = c->gen->conf->auth.trouble_url;
	int		 n;

	x->error = reason;
	if (url == NULL)
		url = TROUBLE_PATH;
	n = snprintf(body, sizeof(body), "403 Forbidden: %s.\n"
	    "See %s on this server for what gridfront saw of your "
	    "certificate and how to fix it.\n", reason, url);
	if (n < 0 || (size_t)n >= sizeof(body))
		n = sizeof(body) - 1;
	metrics_auth_deny(c->w->m, reason);
	conn_answer(c, x, 403, PAGE_HDRS, NULL, body, (size_t)n, 0);
}

/*
 * A bearer-token refusal (issue 14, RFC 6750 3): 401 or 403 with
 * WWW-Authenticate naming the realm (the request's host), the error code
 * and the failed check; 400 for a malformed credential.  The description
 * is one of auth's static texts, never token bytes.
 */
static void
conn_bearer_deny(struct conn *c, struct xchg *x, int status,
    const char *berr, const char *desc, const char *scope)
{
	char		 host[256], hdr[800], body[512];
	int		 n;

	x->error = desc;
	if (x->req.host == NULL ||
	    host_sane(x->req.host, x->req.hostlen, host, sizeof(host)) == -1)
		snprintf(host, sizeof(host), "gridfront");
	if (berr == NULL)
		n = snprintf(hdr, sizeof(hdr), "WWW-Authenticate: Bearer "
		    "realm=\"%s\"\r\n", host);
	else if (scope != NULL)
		n = snprintf(hdr, sizeof(hdr), "WWW-Authenticate: Bearer "
		    "realm=\"%s\", error=\"%s\", scope=\"%s\"\r\n", host,
		    berr, scope);
	else
		n = snprintf(hdr, sizeof(hdr), "WWW-Authenticate: Bearer "
		    "realm=\"%s\", error=\"%s\", error_description=\"%s\"\r\n",
		    host, berr, desc);
	if (n < 0 || (size_t)n >= sizeof(hdr))
		snprintf(hdr, sizeof(hdr), "WWW-Authenticate: Bearer\r\n");
	n = snprintf(body, sizeof(body), "%d %s: %s.\n", status,
	    http_status_text(status), desc);
	if (n < 0 || (size_t)n >= sizeof(body))
		n = sizeof(body) - 1;
	metrics_auth_deny(c->w->m, desc);
	conn_answer(c, x, status, hdr, NULL, body, (size_t)n, 0);
}

/*
 * The bearer token of the request head, for a route that reads tokens:
 * *tok and *len point into the head, or *tok is NULL when no
 * Authorization header with the Bearer scheme came.  Returns NULL, or the
 * reason for a 400 invalid_request: two Authorization headers, a Bearer
 * credential that is not one b64token (RFC 6750 2.1), or a token over
 * limits.max_token.  Other schemes are not a bearer token.
 */
/* RFC 6750 2.1 b64token characters, '=' (trailing padding) apart; a
 * table because every request on a token route scans the whole token. */
static const unsigned char conn_b64tok[256] = {
	['0' ... '9'] = 1, ['A' ... 'Z'] = 1, ['a' ... 'z'] = 1,
	['-'] = 1, ['.'] = 1, ['_'] = 1, ['~'] = 1, ['+'] = 1, ['/'] = 1,
};

static const char *
conn_bearer(const struct xchg *x, size_t max, const struct auth_tokmemo *memo,
    const char **tok, size_t *len)
{
	const struct http_hdr *h = NULL;
	const unsigned char *v;
	size_t		 i;

	*tok = NULL;
	*len = 0;
	for (i = 0; i < x->req.nhdrs; i++)
		if (x->req.hdrs[i].kind == HTTP_H_AUTHORIZATION) {
			if (h != NULL)
				return ("more than one Authorization header");
			h = &x->req.hdrs[i];
		}
	if (h == NULL || h->valuelen < 6 ||
	    strncasecmp(h->value, "bearer", 6) != 0 ||
	    (h->valuelen > 6 && h->value[6] != ' '))
		return (NULL);
	if (h->valuelen < 8)
		return ("malformed Authorization header");
	/* 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=";
	 * the same bytes as this connection's last good token passed it
	 * already, and comparing them is cheaper than walking them. */
	v = (const unsigned char *)h->value;
	if (!auth_token_memo_same(memo, h->value + 7, h->valuelen - 7)) {
		for (i = 7; i < h->valuelen && conn_b64tok[v[i]]; i++)
			continue;
		if (i == 7)
			return ("malformed Authorization header");
		for (; i < h->valuelen; i++)
			if (v[i] != '=')
				return ("malformed Authorization header");
	}
	if (h->valuelen - 7 > max)
		return ("token too large");
	*tok = h->value + 7;
	*len = h->valuelen - 7;
	return (NULL);
}

/* ------------------------------------------------------------------ */
/* The exchange seam, HTTP/1.1 side (xchg.h)                           */
/* ------------------------------------------------------------------ */

/*
 * What forward.c may do to the client through an exchange.  An HTTP/1.1
 * connection carries one exchange at a time, so each operation acts on
 * the connection itself: its client I/O, its flags and its timer.
 */

static struct evbuffer *
h1_req_in(struct xchg *x)
{
	struct conn	*c = x->sess;

	return (c->io.in);
}

static struct evbuffer *
h1_resp_out(struct xchg *x)
{
	struct conn	*c = x->sess;

	return (c->io.out);
}

static void
h1_deliver_head(struct xchg *x, const char *p, size_t len)
{
	struct conn	*c = x->sess;

	evbuffer_add(c->io.out, p, len);
}

static void
h1_send_continue(struct xchg *x)
{
	struct conn	*c = x->sess;

	evbuffer_add(c->io.out, "HTTP/1.1 100 Continue\r\n\r\n",
	    LIT_LEN("HTTP/1.1 100 Continue\r\n\r\n"));
}

static void
h1_pause_body(struct xchg *x)
{
	struct conn	*c = x->sess;

	cio_disable(&c->io, EV_READ);
	c->flags |= CONN_F_PAUSED;
}

static int
h1_resume_body(struct xchg *x)
{
	struct conn	*c = x->sess;

	if (!(c->flags & CONN_F_PAUSED))
		return (0);
	conn_resume_read(c);
	return (1);
}

static void
h1_wait_body(struct xchg *x, int on)
{
	conn_body_wait(x->sess, on);
}

static void
h1_set_timeouts(struct xchg *x, unsigned read_ms, unsigned write_ms)
{
	conn_set_timeouts(x->sess, read_ms, write_ms);
}

static void
h1_respond(struct xchg *x, int status, const char *hdrs, const char *ctype,
    const char *body, size_t bodylen, int close)
{
	conn_respond(x->sess, status, hdrs, ctype, body, bodylen, close);
}

static int
h1_must_close(struct xchg *x)
{
	return (conn_must_close(x->sess));
}

static void
h1_close_after(struct xchg *x)
{
	struct conn	*c = x->sess;

	c->flags |= CONN_F_CLOSE_AFTER;
}

static void
h1_finish(struct xchg *x)
{
	conn_xchg_done(x->sess);
}

static void
h1_abort(struct xchg *x, const char *reason)
{
	conn_close(x->sess, reason);
}

static void
h1_hold(void *sess)
{
	conn_ref(sess);
}

static int
h1_release(void *sess)
{
	return (conn_unref(sess));
}

static int
h1_closing(struct xchg *x)
{
	struct conn	*c = x->sess;

	return ((c->flags & CONN_F_CLOSING) != 0);
}

static size_t
h1_buffered(struct xchg *x)
{
	struct conn	*c = x->sess;

	return (evbuffer_get_length(c->io.in) + cio_pending(&c->io));
}

static const struct xchg_ops conn_xchg_ops = {
	.req_in = h1_req_in,
	.resp_out = h1_resp_out,
	.deliver_head = h1_deliver_head,
	.send_continue = h1_send_continue,
	.pause_body = h1_pause_body,
	.resume_body = h1_resume_body,
	.wait_body = h1_wait_body,
	.set_timeouts = h1_set_timeouts,
	.respond = h1_respond,
	.must_close = h1_must_close,
	.close_after = h1_close_after,
	.finish = h1_finish,
	.abort = h1_abort,
	.hold = h1_hold,
	.release = h1_release,
	.closing = h1_closing,
	.buffered = h1_buffered,
};

/* Fill in x's seam fields just before forward_start(): c's generation
 * may have moved with a reload (conn_follow_reload()) until then. */
static void
conn_xchg_bind(struct conn *c, struct xchg *x)
{
	x->ops = &conn_xchg_ops;
	x->sess = c;
	x->wg = c->wg;
	x->fw = c->w->fw;
	x->peer = c->peerstr;
	x->peerport = c->peerport;
	x->tls = (c->flags & CONN_F_TLS) != 0;
}

/* ------------------------------------------------------------------ */
/* Request heads                                                       */
/* ------------------------------------------------------------------ */

static int
method_idempotent(int m)
{
	switch (m) {
	case HTTP_GET:
	case HTTP_HEAD:
	case HTTP_OPTIONS:
	case HTTP_PUT:
	case HTTP_DELETE:
	case HTTP_TRACE:
		return (1);
	default:
		return (0);
	}
}

static void
xchg_note_request(struct xchg *x)
{
	size_t	 n;

	n = x->req.methodlen < sizeof(x->method) - 1 ? x->req.methodlen :
	    sizeof(x->method) - 1;
	memcpy(x->method, x->req.method, n);
	x->method[n] = '\0';
	n = x->req.targetlen < sizeof(x->target) - 1 ? x->req.targetlen :
	    sizeof(x->target) - 1;
	memcpy(x->target, x->req.target, n);
	x->target[n] = '\0';
}

/*
 * Wall-clock seconds from the worker loop's cached time (no system call):
 * what the per-request identity freshness check compares against.
 */
static time_t
conn_clock(const struct conn *c)
{
	struct timeval	 tv;

	if (event_base_gettimeofday_cached(c->w->base, &tv) == -1)
		return (time(NULL));
	return (tv.tv_sec);
}

/*
 * A reload happened since this connection was accepted: new requests use
 * the new generation.  When the auth context is shared (the auth section
 * did not change) the connection simply moves over; otherwise its TLS
 * identity belongs to the old context, so this request is the last on the
 * connection (Connection: close) and the client reconnects into the new
 * generation.
 */
static void
conn_follow_reload(struct conn *c, struct xchg *x)
{
	struct wgen	*cur = c->w->wg;

	if (c->wg == cur || cur == NULL)
		return;
	if (cur->gen->auth != c->gen->auth) {
		x->req.keepalive = 0;
		return;
	}
	wgen_put(c->wg);
	c->wg = wgen_get(cur);
	c->gen = cur->gen;
}

/*
 * Path parameters (issue 11): servlet-style backends drop ";params" from
 * every segment before they map a path, so "/prod;jsessionid=1/x" is
 * "/prod/x" to them, while route_match() sees a segment
 * "prod;jsessionid=1" and falls through to a broader route.  Two ways
 * out: refuse ';', or route on the path without parameters.  Refusing is
 * the default because it is safe whatever a backend does with parameters
 * (strips them, keeps them, or reads ';' some third way) and CMS services
 * are not known to use them; conn_parse() answers 400 then.  A listener
 * with allow_path_params passes them on to the backend, and then routing,
 * every route policy and a rewrite all see the path without them
 * (x->mpath), which is what such a backend serves, so the switch does not
 * reopen the hole.  An encoded %3B never gets here (http.c refuses it).
 * Sets x->mpath; returns -1 when the request is to be refused.
 */
static int
conn_path_params(struct conn *c, struct xchg *x)
{
	x->mpath = x->req.path;
	if (memchr(x->req.path, ';', x->req.pathlen) == NULL)
		return (0);
	if (!(c->flags & CONN_F_PATH_PARAMS))
		return (-1);
	/* upscratch holds pathcap + 1 > pathlen bytes and is free until
	 * forward_start() has read mpath. */
	(void)http_path_strip_params(x->req.path, x->req.pathlen,
	    x->upscratch);
	x->mpath = x->upscratch;
	return (0);
}

/*
 * timeouts.max_connection_age: a connection that old answers this request
 * with Connection: close, so its client reconnects (a full handshake and
 * a fresh verification, unless it resumes a session).
 */
static void
conn_check_age(struct conn *c, struct xchg *x)
{
	unsigned	 age = c->gen->conf->timeouts.max_connection_age;

	if (age > 0 && clock_now_us() - c->t_accept >= (uint64_t)age * 1000)
		x->req.keepalive = 0;
}

/*
 * A route's methods: and origin_check: rules (issue 13), before auth: a
 * 405 with Allow for a method the route does not list; a 403 for an
 * unsafe method whose Origin is not allowed (a browser sends client
 * certificates to any page's cross-site form post, as it sends cookies,
 * so the certificate alone does not show the user meant it).  No Origin
 * passes: non-browser clients (curl, Python, Go) send none, and browsers
 * send one on every cross-site unsafe request.  Returns 0 to go on, or
 * -1 after answering (the head is still in the input buffer; the caller
 * drains it).
 */
static int
conn_route_rules(struct conn *c, struct xchg *x,
    const struct conf_route *route)
{
	static const char	 why[] = "cross-site request refused: its "
	    "Origin is not allowed on this route (origin_check)";
	const struct http_hdr	*h, *origin = NULL;
	size_t			 i;
	int			 m = x->req.method_id;

	if (!route_method_allowed(route, x->req.method, x->req.methodlen)) {
		x->error = "method not allowed on this route";
		metrics_route_refusal(c->w->m, 0);
		conn_answer(c, x, 405, route->allow_line, NULL,
		    "405 Method Not Allowed on this route\n",
		    LIT_LEN("405 Method Not Allowed on this route\n"), 0);
		return (-1);
	}
	if (!(route->flags & CONF_ROUTE_F_ORIGIN) || m == HTTP_GET ||
	    m == HTTP_HEAD || m == HTTP_OPTIONS)
		return (0);
	for (i = 0; i < x->req.nhdrs; i++) {
		h = &x->req.hdrs[i];
		if (h->namelen == LIT_LEN("origin") &&
		    util_ascii_ieq(h->name, "origin", LIT_LEN("origin"))) {
			/* Two Origin headers are no browser's: refuse. */
			if (origin != NULL) {
				origin = h;
				goto refuse;
			}
			origin = h;
		}
	}
	if (origin == NULL || route_origin_allowed(route, origin->value,
	    origin->valuelen, x->req.host, x->req.hostlen))
		return (0);
refuse:
	log_warn("%s:%d: %.*s %s: 403 origin_check: Origin '%.*s' is not "
	    "allowed on route %s", c->peerstr, c->peerport,
	    (int)x->req.methodlen, x->req.method, x->mpath,
	    (int)(origin->valuelen > 200 ? 200 : origin->valuelen),
	    origin->value, route->name);
	x->error = why;
	metrics_route_refusal(c->w->m, 1);
	conn_answer(c, x, 403, PAGE_HDRS, NULL, "403 Forbidden: cross-site "
	    "request refused: its Origin is not allowed on this route "
	    "(origin_check).\n", LIT_LEN("403 Forbidden: cross-site "
	    "request refused: its Origin is not allowed on this route "
	    "(origin_check).\n"), 0);
	return (-1);
}

/*
 * A redirect route (issue 13): 30x to the expanded redirect.to.  The
 * head is still in the input buffer (the caller drains it after).
 */
static void
conn_route_redirect(struct conn *c, struct xchg *x,
    const struct conf_route *route)
{
	char		 loc[4096], hdr[sizeof(loc) + 16];
	size_t		 len;

	switch (route_redirect(route, x->mpath, x->req.host, x->req.hostlen,
	    x->req.query, x->req.querylen, loc, sizeof(loc), &len)) {
	case ROUTE_REDIRECT_OK:
		break;
	case ROUTE_REDIRECT_BAD_HOST:
		conn_error_x(c, x, 400, "invalid Host header for redirect");
		return;
	default:
		conn_error_x(c, x, 414, "redirect target too long");
		return;
	}
	snprintf(hdr, sizeof(hdr), "Location: %s\r\n", loc);
	conn_answer(c, x, (int)route->redirect_status, hdr, NULL,
	    "Redirecting\n", LIT_LEN("Redirecting\n"), 0);
}

/*
 * Decide what to do with a parsed head: redirect, trouble page, route,
 * auth.  The head bytes are still at the front of in (x->req points
 * into them) and are drained here on a local answer, or later by
 * forward.  Returns 1 when x is to be forwarded, 0 when it was answered.
 */
static int
conn_decide(struct conn *c, struct xchg *x, struct evbuffer *in)
{
	const struct conf_route	*route;
	struct auth_ctx		*actx;
	size_t			 head_len = x->req.head_len;

	xchg_note_request(x);
	x->head_method = (x->req.method_id == HTTP_HEAD);
	x->idempotent = method_idempotent(x->req.method_id);
	conn_follow_reload(c, x);
	conn_check_age(c, x);

	/*
	 * Local answers read the head (x->req points into the input buffer)
	 * while they build the response, so the head is drained after them;
	 * conn_parse()'s loop, not recursion, handles what follows.
	 */
	if (c->flags & CONN_F_REDIRECT) {
		conn_redirect(c, x);
		evbuffer_drain(in, head_len);
		return (0);
	}
	/* x->mpath was set by conn_path_params() in conn_parse(). */
	if ((c->flags & CONN_F_TLS) && strcmp(x->mpath, TROUBLE_PATH) == 0) {
		conn_trouble(c, x);
		evbuffer_drain(in, head_len);
		return (0);
	}
	/* uppath is free until forward_start(): scratch for a query:
	 * matcher (a query is shorter than the request line). */
	if ((route = route_match_query(c->gen->conf, x->mpath,
	    x->req.query != NULL ? x->req.query + 1 : NULL,
	    x->req.query != NULL ? x->req.querylen - 1 : 0, x->uppath,
	    x->pathcap)) == NULL) {
		x->error = "no route";
		evbuffer_drain(in, head_len);
		conn_answer(c, x, 404, NULL, NULL, "404 Not Found: no route "
		    "for this path\n", LIT_LEN("404 Not Found: no route "
		    "for this path\n"), 0);
		return (0);
	}
	x->route = route;
	if ((route->flags & (CONF_ROUTE_F_METHODS | CONF_ROUTE_F_ORIGIN)) &&
	    conn_route_rules(c, x, route) == -1) {
		evbuffer_drain(in, head_len);
		return (0);
	}
	actx = c->gen->auth ? c->gen->auth->ctx : NULL;
	if (actx != NULL) {
		/* A CRL or CA change reaches keep-alive connections too. */
		if (c->ssl != NULL && !auth_ident_fresh(actx, c->ident,
		    conn_clock(c))) {
			auth_ident_put(c->ident);
			c->ident = auth_ident_get(actx, c->ssl);
			/* A refusal keeps no chain, so it cannot be checked
			 * again under the new trust: answer, then close, and
			 * the client's next connection is verified afresh. */
			if (!auth_ident_fresh(actx, c->ident, conn_clock(c)))
				x->req.keepalive = 0;
		}
		if (c->gen->conf->auth.tokens.nissuers > 0 &&
		    (route->auth == CONF_AUTH_TOKEN ||
		    route->auth == CONF_AUTH_CERT_OR_TOKEN ||
		    route->auth == CONF_AUTH_OPTIONAL)) {
			const char	*tok, *bad;
			size_t		 toklen;

			bad = conn_bearer(x, c->gen->conf->limits.max_token,
			    c->tokmemo, &tok, &toklen);
			if (bad != NULL) {
				/* The answer reads the head (Host): drain
				 * after it, as conn_redirect() does. */
				conn_bearer_deny(c, x, 400, "invalid_request",
				    bad, NULL);
				evbuffer_drain(in, head_len);
				return (0);
			}
			/* RFC 6750 5.3: a bearer token must not travel in
			 * cleartext; refuse it (the client should stop) unless
			 * the listener says TLS ended just before it. */
			if (tok != NULL && !(c->flags & (CONN_F_TLS |
			    CONN_F_PLAIN_TOKENS))) {
				conn_bearer_deny(c, x, 403, "invalid_request",
				    conn_err_plain_token, NULL);
				evbuffer_drain(in, head_len);
				return (0);
			}
			auth_token_decide_memo(actx, &c->tokmemo, tok,
			    toklen, c->ident, route,
			    (const struct sockaddr *)&c->peer, &x->ad);
		} else
			auth_decide(actx, c->ident, route,
			    (const struct sockaddr *)&c->peer, &x->ad);
		x->have_ad = 1;
		if (x->ad.result == AUTH_DENY && x->ad.bearer) {
			conn_bearer_deny(c, x, x->ad.status,
			    x->ad.bearer_error, x->ad.reason != NULL ?
			    x->ad.reason : "access denied", x->ad.bearer_scope);
			evbuffer_drain(in, head_len);
			return (0);
		}
		if (x->ad.result == AUTH_DENY) {
			evbuffer_drain(in, head_len);
			conn_deny(c, x, x->ad.reason ? x->ad.reason :
			    "access denied");
			return (0);
		}
	} else if (!route_addr_allowed(route,
	    (const struct sockaddr *)&c->peer)) {
		evbuffer_drain(in, head_len);
		conn_deny(c, x, "address not allowed");
		return (0);
	}
	if (route->flags & CONF_ROUTE_F_REDIRECT) {
		conn_route_redirect(c, x, route);
		evbuffer_drain(in, head_len);
		return (0);
	}
	return (1);
}

/* An HTTP/1.1 head: decide, then forward through the seam. */
static void
conn_dispatch(struct conn *c, struct xchg *x)
{
	if (conn_decide(c, x, c->io.in)) {
		conn_xchg_bind(c, x);
		forward_start(x);
	}
}

/* See conn.h. */
int
conn_stream_decide(struct conn *c, struct xchg *x)
{
	struct evbuffer	*in = xchg_req_in(x);

	if (conn_path_params(c, x) == -1) {
		/* The answer ends x: note what the log shows first, then
		 * drop the head (x->req points into it). */
		size_t	 head_len = x->req.head_len;

		xchg_note_request(x);
		conn_error_x(c, x, 400, "parameters (';') in path");
		evbuffer_drain(in, head_len);
		return (0);
	}
	return (conn_decide(c, x, in));
}

/*
 * Parse as many pipelined request heads as are complete, one exchange at
 * a time.  Loops instead of recursing so that a long pipeline of locally
 * answered requests cannot grow the stack.
 */
static void
conn_parse(struct conn *c)
{
	const struct conf	*cf = c->gen->conf;
	struct evbuffer		*in;
	struct http_limits	 lim;
	struct http_error	 err;
	struct xchg		*x;
	enum http_parse_result	 r;
	size_t			 len, want, maxhead, maxh;
	const char		*buf;

	xchg_limits(cf, &lim);
	maxhead = cf->limits.max_request_line + cf->limits.max_header_block + 4;
	maxh = cf->limits.max_header_count < HTTP_MAX_HDRS ?
	    cf->limits.max_header_count : HTTP_MAX_HDRS;

	if (c->flags & CONN_F_PARSING)
		return;
	c->flags |= CONN_F_PARSING;
	while (!(c->flags & (CONN_F_CLOSING | CONN_F_CLOSE_AFTER))) {
		in = c->io.in;
		if ((len = evbuffer_get_length(in)) == 0) {
			if (c->x == NULL)
				timer_arm(c, cf->timeouts.keepalive);
			break;
		}
		if (c->x == NULL) {
			x = xchg_get(&c->w->xc,
			    cf->limits.max_request_line + 1);
			x->sess = c;
			c->x = x;
			c->flags |= CONN_F_IN_HEAD;
			timer_arm(c, cf->timeouts.request_head);
		} else if (c->x->state != X_ST_HEAD)
			break;		/* busy: the request waits its turn */
		x = c->x;
		want = len < maxhead ? len : maxhead;
		/* want <= maxhead, under 17 MiB by conf limits: no overflow. */
		buf = (const char *)evbuffer_pullup(in, (ssize_t)want);
		if (buf == NULL) {
			conn_close(c, "out of memory");
			break;
		}
		r = http_parse_request(buf, want, &lim, &x->req, x->hdrs, maxh,
		    x->path, x->pathcap, &err);
		if (r == HTTP_PARSE_AGAIN) {
			if (want >= maxhead)
				conn_error(c, 431, "request head too large");
			else if (c->flags & CONN_F_EOF)
				/* Half-closed mid-head: can never complete. */
				conn_close(c, conn_err_eof);
			break;
		}
		evtimer_del(&c->timer);
		c->flags &= ~CONN_F_IN_HEAD;
		c->nreq++;
		if (r == HTTP_PARSE_OK && !(c->flags & CONN_F_REDIRECT) &&
		    conn_path_params(c, x) == -1) {
			r = HTTP_PARSE_ERROR;
			err.status = 400;
			err.reason = "parameters (';') in path";
		}
		if (r == HTTP_PARSE_ERROR) {
			/* Nothing after a bad head is trusted: no
			 * pipelining. */
			x->head_method = 0;
			x->req.keepalive = 0;
			snprintf(x->method, sizeof(x->method), "-");
			snprintf(x->target, sizeof(x->target), "-");
			metrics_bad_request(c->w->m);
			log_info("%s:%d: rejected request: %d %s", c->peerstr,
			    c->peerport, err.status, err.reason);
			conn_error(c, err.status, err.reason);
			break;
		}
		conn_dispatch(c, x);
	}
	c->flags &= ~CONN_F_PARSING;
	/* A close requested inside the loop is carried out by conn_unref. */
}

/* ------------------------------------------------------------------ */
/* libevent callbacks                                                  */
/* ------------------------------------------------------------------ */

static void
conn_read_cb(struct cio *io, void *arg)
{
	struct conn	*c = arg;

	conn_ref(c);
	if (c->h2 != NULL && !(c->flags & CONN_F_LINGER))
		h2_read(c);
	else if (c->flags & CONN_F_LINGER) {
		struct evbuffer *in = io->in;

		c->lingered += evbuffer_get_length(in);
		evbuffer_drain(in, evbuffer_get_length(in));
		if (c->lingered >= CONN_LINGER_MAX)
			conn_close(c, conn_err_lingered);
	} else if (c->x == NULL || c->x->state == X_ST_HEAD)
		conn_parse(c);
	else if (c->x->state == X_ST_FORWARD ||
	    c->x->state == X_ST_CONNECTING || c->x->state == X_ST_BODY)
		forward_client_read(c->x);
	conn_unref(c);
}

static void
conn_write_cb(struct cio *io, void *arg)
{
	struct conn	*c = arg;

	conn_ref(c);
	if (c->h2 != NULL && !(c->flags & CONN_F_CLOSE_AFTER))
		h2_drained(c);
	else if (c->x != NULL && c->x->state == X_ST_FORWARD)
		forward_client_drained(c->x);
	else if ((c->flags & CONN_F_CLOSE_AFTER) && c->x == NULL &&
	    !(c->flags & CONN_F_LINGER) &&
	    cio_pending(io) == 0)
		conn_linger(c);
	conn_unref(c);
}

static void
conn_handshake_done(struct conn *c)
{
	struct auth_ctx	*actx = c->gen->auth ? c->gen->auth->ctx : NULL;

	c->flags |= CONN_F_READY;
	evtimer_del(&c->timer);
	metrics_handshake(c->w->m, SSL_session_reused(c->ssl));
	if (actx != NULL) {
		c->ident = auth_ident_get(actx, c->ssl);
		auth_tls_shed(c->ssl);	/* the identity has what we need */
	}
	timer_arm(c, c->gen->conf->timeouts.keepalive);
	/* ALPN chose h2: the HTTP/2 session takes over c's I/O. */
	if (tls_is_h2(c->ssl))
		h2_start(c);
}

static void
conn_event_cb(struct cio *io, short what, void *arg)
{
	struct conn	*c = arg;

	conn_ref(c);
	if (c->flags & CONN_F_LINGER) {
		/* EOF, error or timeout while lingering: we are done. */
		conn_close(c, conn_err_lingered);
		conn_unref(c);
		return;
	}
	if (what & BEV_EVENT_CONNECTED) {
		conn_handshake_done(c);
		/* Data may have arrived with the handshake. */
		if (c->h2 != NULL) {
			if (evbuffer_get_length(io->in) > 0)
				h2_read(c);
		} else if (evbuffer_get_length(io->in) > 0)
			conn_parse(c);
	} else if (c->h2 != NULL) {
		/* HTTP/2: EOF, an error or a write timeout ends every
		 * stream (h2_free() logs them). */
		conn_close(c, (what & BEV_EVENT_EOF) ? conn_err_eof :
		    (what & BEV_EVENT_TIMEOUT) ? conn_err_write_timeout :
		    conn_err_io);
	} else if (what & BEV_EVENT_EOF) {
		/* A second EOF: the peer is gone. */
		if (c->flags & CONN_F_EOF) {
			conn_close(c, conn_err_eof);
			conn_unref(c);
			return;
		}
		c->flags |= CONN_F_EOF;
		/*
		 * Writing goes on: a half-closed client still gets its
		 * answers, and one that is really gone shows up as a write
		 * error.  Bytes that came with the EOF are normally handled
		 * by the read callback first; if some are left (a busy
		 * exchange), parse or relay them now.
		 */
		cio_disable(io, EV_READ);
		if (evbuffer_get_length(io->in) > 0) {
			if (c->x == NULL || c->x->state == X_ST_HEAD)
				conn_parse(c);
			else if (c->x->state == X_ST_FORWARD ||
			    c->x->state == X_ST_BODY)
				forward_client_read(c->x);
		}
		/*
		 * Nothing to do when c is already on its way out, nor on a
		 * half-close after a full request: that one still gets its
		 * answer.
		 */
		if ((c->flags & (CONN_F_CLOSING | CONN_F_CLOSE_AFTER)) ||
		    (c->x != NULL && (c->x->state == X_ST_FORWARD ||
		    c->x->state == X_ST_CONNECTING) && c->x->req_done))
			;
		else if (c->x == NULL)
			conn_flush_close(c);
		else
			conn_close(c, conn_err_eof);
	} else if (what & BEV_EVENT_ERROR) {
		if (!(c->flags & CONN_F_READY)) {
			metrics_handshake_fail(c->w->m, tls_fail_reason());
			tls_log_errors(c->peerstr);
			conn_close(c, conn_err_tls);
		} else
			conn_close(c, conn_err_io);
	} else if (what & BEV_EVENT_TIMEOUT) {
		if (what & BEV_EVENT_WRITING)
			conn_close(c, conn_err_write_timeout);
		else if (c->x != NULL && ((c->x->state == X_ST_FORWARD &&
		    !c->x->resp_head_sent && !c->x->req_done) ||
		    c->x->state == X_ST_BODY)) {
			/* The client stopped sending its body. */
			c->x->error = "client body timeout";
			forward_abort(c->x);
			conn_error(c, 408, "request body timeout");
		} else
			conn_close(c, "client read timeout");
	}
	conn_unref(c);
}

static void
conn_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn	*c = arg;

	conn_ref(c);
	if (c->flags & CONN_F_LINGER)
		conn_close(c, conn_err_lingered);
	else if (c->h2 != NULL)
		h2_timer(c);
	else if (!(c->flags & CONN_F_READY)) {
		metrics_handshake_fail(c->w->m, "timeout");
		conn_close(c, conn_err_handshake_timeout);
	}
	else if (c->flags & CONN_F_IN_HEAD) {
		/* Slowloris: the whole head must arrive in time. */
		c->flags &= ~CONN_F_IN_HEAD;
		if (c->x != NULL) {
			snprintf(c->x->method, sizeof(c->x->method), "-");
			snprintf(c->x->target, sizeof(c->x->target), "-");
			c->x->req.keepalive = 0;
		}
		conn_error(c, 408, "request head timeout");
	} else if (c->x != NULL && c->x->state == X_ST_BODY) {
		/* Waited body_idle for body-buffer budget. */
		c->x->error = "client body timeout (no buffer)";
		conn_error(c, 408, "request body timeout");
	} else if (c->x == NULL)
		conn_close(c, conn_err_idle);
	/*
	 * The conn_ref() above kept busy >= 1, so a conn_close() in between
	 * only deferred the free to here; the analyzer assumes busy < 0.
	 */
	/* NOLINTNEXTLINE(clang-analyzer-unix.Malloc): false positive */
	conn_unref(c);
}
