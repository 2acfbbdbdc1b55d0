/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * Client connections and the exchanges (request/response pairs) they
 * carry.  struct conn owns the client I/O (and through it the SSL and the
 * fd), the auth identity, one reference to the generation it was
 * accepted under, and at most one active exchange; pipelined requests wait
 * in the input buffer and are answered in order.  Only conn_close() tears
 * a connection down.
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
#include "proxy/bodybuf.h"
#include "proxy/cio.h"
#include "proxy/http.h"
#include "proxy/util.h"

struct worker;
struct gen;
struct wgen;
struct upconn;
struct pool;
struct conf_route;
struct evbuffer;

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

struct conn {
	struct worker		*w;
	struct gen		*gen;		/* one reference */
	struct wgen		*wg;		/* worker state for gen */
	int			 lidx;		/* listener index in gen */
	int			 https_port;	/* for redirects */
	struct cio		 io;		/* socket, SSL and buffers */
	SSL			*ssl;		/* borrowed from io */
	struct auth_ident	*ident;		/* one reference, after handshake */
	struct sockaddr_storage	 peer;
	char			 peerstr[48];
	int			 peerport;
	unsigned		 flags;
	int			 busy;		/* callback nesting depth */
	struct xchg		*x;		/* active exchange */
	struct event		 timer;		/* handshake / head / idle */
	unsigned		 nreq;
	size_t			 lingered;	/* bytes discarded while lingering */
	const char		*close_reason;
	uint64_t		 t_accept;	/* clock_now_us() at accept */
	TAILQ_ENTRY(conn)	 entry;
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
	/* Bookkeeping: zeroed by xchg_get() up to hdrs. */
	struct conn		*c;
	enum xchg_state		 state;
	const struct conf_route	*route;
	struct pool		*pool;
	struct upconn		*up;
	struct auth_decision	 ad;
	int			 have_ad;
	enum xchg_body		 reqbody;
	int64_t			 reqleft;
	int			 req_done;	/* request fully sent upstream */
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
	uint64_t		 t_sent;	/* request fully sent upstream */
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
	char			*upscratch;	/* [pathcap + 1], rewrite check */
	const char		*mpath;		/* routing path: path, or it
						 * without ;params (upscratch) */
	size_t			 pathcap;
};

/* Accept callback for a worker's listener: owns fd from then on. */
void	 conn_accept_cb(struct evconnlistener *, evutil_socket_t,
	    struct sockaddr *, int, void *);

/*
 * Close c now (or, inside one of c's callbacks, as soon as it unwinds),
 * logging reason at debug level.  Frees the client I/O (and so the SSL and
 * fd), the exchange and its upstream connection, the identity and the
 * generation reference.  c must not be used by the caller afterwards.
 */
void	 conn_close(struct conn *c, const char *reason);

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
	conn_respond((c), (status), (hdrs), (ctype), (lit), LIT_LEN(lit),	\
	    (close))

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

/* conn.c's part of struct worker: the worker's free exchanges. */
struct conn_worker {
	struct xchg		*xfree;		/* free exchanges */
	unsigned		 nxfree;
};

/* Free every exchange on cw's free list (worker teardown). */
void	 conn_worker_free(struct conn_worker *cw);

/* Exchange free list.  The path buffers hold at least pathcap bytes
 * (max_request_line + 1 of the caller's generation). */
struct xchg *xchg_get(struct worker *w, size_t pathcap);
void	 xchg_put(struct worker *w, struct xchg *x);

#endif /* PROXY_CONN_H */
