/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * Client connections: the HTTP/1.1 client session.  struct conn owns the
 * client I/O (and through it the SSL and the fd), the auth identity, one
 * reference to the generation it was accepted under, and at most one
 * active exchange (xchg.h); pipelined requests wait in the input buffer
 * and are answered in order.  conn.c implements the exchange seam's
 * operations (struct xchg_ops) for forward.c.  Only conn_close() tears a
 * connection down.
 */

#ifndef PROXY_CONN_H
#define PROXY_CONN_H

#include <sys/queue.h>
#include <sys/socket.h>

#include <stdint.h>

#include <event2/event.h>
#include <event2/event_struct.h>
#include <event2/listener.h>
#include <openssl/ssl.h>

#include "auth/auth.h"
#include "base/lit.h"
#include "proxy/cio.h"
#include "proxy/util.h"
#include "proxy/xchg.h"

struct gen;
struct wgen;
struct bodybuf;
struct forward_worker;
struct access_worker;
struct metrics_worker;
struct h2_sess;
struct h2_worker;

#define CONN_F_TLS		0x0001
#define CONN_F_READY		0x0002	/* handshake done */
#define CONN_F_CLOSING		0x0004	/* free when callbacks unwind */
#define CONN_F_CLOSE_AFTER	0x0008	/* close once output is flushed */
#define CONN_F_IN_HEAD		0x0010	/* some head bytes arrived */
#define CONN_F_EOF		0x0020	/* client half-closed */
#define CONN_F_REDIRECT		0x0040	/* plain listener: 301 to https */
#define CONN_F_PAUSED		0x0080	/* reading paused: backpressure */
#define CONN_F_PARSING		0x0100	/* inside conn_parse(): no re-entry */
#define CONN_F_LINGER		0x0200	/* closed our side; draining input */
#define CONN_F_PATH_PARAMS	0x4000	/* listener: allow_path_params */
#define CONN_F_PLAIN_TOKENS	0x8000	/* listener: allow_plain_tokens */

struct conn {
	struct conn_worker	*w;		/* the worker it lives on */
	struct gen		*gen;		/* one reference */
	struct wgen		*wg;		/* worker state for gen */
	int			 lidx;		/* listener index in gen */
	int			 https_port;	/* for redirects */
	struct cio		 io;		/* socket, SSL and buffers */
	SSL			*ssl;		/* borrowed from io */
	/* one reference, after handshake */
	struct auth_ident	*ident;
	/* the last bearer token and its identity (auth owns the inside) */
	struct auth_tokmemo	*tokmemo;
	struct sockaddr_storage	 peer;
	char			 peerstr[48];
	int			 peerport;
	unsigned		 flags;
	int			 busy;		/* callback nesting depth */
	struct xchg		*x;		/* active exchange */
	struct event		 timer;		/* handshake / head / idle */
	unsigned		 nreq;
	/* bytes discarded while lingering */
	size_t			 lingered;
	const char		*close_reason;
	uint64_t		 t_accept;	/* clock_now_us() at accept */
	/* HTTP/2 (ALPN h2): the session carrying c's streams; x is unused */
	struct h2_sess		*h2;
	TAILQ_ENTRY(conn)	 entry;
};

TAILQ_HEAD(conn_list, conn);

/*
 * What a client session needs of its worker: conn.c's part of struct
 * worker, filled in and kept current by worker.c (the generation, the
 * drain flag).  The worker's other parts are reached through pointers,
 * and the worker hears of a closed connection through the gone callback
 * it registers, so conn.c never includes worker.h.
 */
struct conn_worker {
	struct event_base	*base;		/* the worker's loop */
	struct wgen		*wg;		/* current generation */
	struct conn_list	 conns;
	unsigned		 nconns;
	int			 draining;
	struct xchg_cache	 xc;		/* free exchanges */
	struct bodybuf		*bodybuf;	/* request-body budget */
	struct forward_worker	*fw;
	struct access_worker	*al;
	struct metrics_worker	*m;
	struct h2_worker	*h2;		/* h2.h: allocator, streams */
	/* A connection of this worker is gone (nconns already lowered). */
	void			(*gone)(void *arg);
	void			*gone_arg;
};

/* Take an accepted fd on listener lidx of w's generation: owns fd from
 * then on (closed at once while draining or on failure). */
void	 conn_accept(struct conn_worker *w, int lidx, evutil_socket_t fd,
	    struct sockaddr *sa, int salen);

/*
 * Close c now (or, inside one of c's callbacks, as soon as it unwinds),
 * logging reason at debug level.  Frees the client I/O (and so the SSL and
 * fd), the exchange and its upstream connection, the identity and the
 * generation reference.  c must not be used by the caller afterwards.
 */
void	 conn_close(struct conn *c, const char *reason);

/*
 * Close c once everything queued for it is written, with a lingering
 * close (its input is read and discarded for a while, so unread client
 * bytes do not turn into a reset that destroys the last answer).  For an
 * HTTP/2 session that has said GOAWAY.  Frees c later, never now.
 */
void	 conn_close_flushed(struct conn *c);

/* Close c if idle, or mark it to close after its current exchange
 * (SIGTERM drain). */
void	 conn_drain(struct conn *c);

/* The exchange is finished (response complete or aborted): log it, recycle
 * it and either close the connection or go on with the next pipelined
 * request.  May free c. */
void	 conn_xchg_done(struct conn *c);

/*
 * Answer the current request locally with status, extra header lines
 * (complete "Name: value\r\n" lines, may be NULL) and a body.  close says
 * whether the connection closes after it.  May free c (not synchronously:
 * the close happens once output is flushed).
 */
void	 conn_respond(struct conn *c, int status, const char *hdrs,
	    const char *ctype, const char *body, size_t bodylen, int close);

/* conn_respond() with a string-literal body, its length taken from the
 * literal (base/lit.h); use it for every fixed body. */
#define conn_respond_lit(c, status, hdrs, ctype, lit, close)		\
	conn_respond((c), (status), (hdrs), (ctype), (lit),		\
	    LIT_LEN(lit), (close))

/* Enter/leave a callback on c; the last conn_unref after conn_close frees
 * it.  conn_unref returns 1 when c was freed. */
void	 conn_ref(struct conn *c);
int	 conn_unref(struct conn *c);

/* Apply the client-side read/write timeouts for the current state. */
void	 conn_set_timeouts(struct conn *c, unsigned read_ms, unsigned write_ms);

/*
 * Pause (on = 1) or resume (on = 0) reading c's request body while its
 * exchange waits for body-buffer budget.  The pause is bounded by
 * timeouts.body_idle: when it passes, the request gets a 408.
 */
void	 conn_body_wait(struct conn *c, int on);

/*
 * For an HTTP/2 stream (h2.c): decide what to do with x, whose head the
 * session has parsed into x->req (its bytes at the front of
 * xchg_req_in(x)) and whose seam fields ops and sess it has set.  Runs
 * the same checks as an HTTP/1.1 request: path parameters, the trouble
 * page, routing, identity and the route policy.  Returns 1 when x is to
 * be forwarded (the caller binds wg and calls forward_start()), 0 when
 * x was answered locally through xchg_respond() (x is recycled then).
 * May move c to the current generation (see conn_follow_reload()).
 */
int	 conn_stream_decide(struct conn *c, struct xchg *x);

/* Queue x's access line with what only c knows (peer, TLS, identity). */
void	 conn_access_log(struct conn *c, struct xchg *x);

#endif /* PROXY_CONN_H */
