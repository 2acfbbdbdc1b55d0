/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * The HTTP/2 client session (RFC 9113), the second kind of client session
 * beside conn.c's HTTP/1.1 one.  A struct conn whose TLS handshake chose
 * h2 by ALPN hands its I/O to an h2 session (libnghttp2 does framing,
 * HPACK and flow control); each stream becomes an exchange (xchg.h) that
 * takes the HTTP/1.1 path from its head on: the stream's header list is
 * checked (RFC 9113 8), written out as an HTTP/1.1 head, parsed by the
 * same parser, decided on by conn.c (routing, identity, route policy) and
 * forwarded by forward.c through the exchange seam.  Backends see
 * HTTP/1.1 either way.
 *
 * Floor: a client session, beside conn.c; conn.c calls the entry points
 * below from its callbacks, h2.c calls conn.c's shared decision path.
 */

#ifndef PROXY_H2_H
#define PROXY_H2_H

struct conn;
struct h2_worker;

/*
 * A worker's HTTP/2 part (conn_worker's h2): the allocator of its
 * sessions and its free streams.  Never shared between threads; every
 * connection using it must be freed before h2_worker_free().  Aborts on
 * out of memory.
 */
struct h2_worker *h2_worker_new(void);

/* Free hw and what it caches; h2_worker_free(NULL) is a no-op. */
void	 h2_worker_free(struct h2_worker *hw);

/*
 * Take over c (handshake done, ALPN h2): create the session, queue our
 * SETTINGS.  Bytes already in c's input are read by the caller's next
 * h2_read().  Never fails (out of memory aborts).
 */
void	 h2_start(struct conn *c);

/* c's input has bytes: feed them to the session.  May close c (deferred:
 * the caller holds it). */
void	 h2_read(struct conn *c);

/* c's output drained below its low watermark: write more, wake paused
 * backends.  May close c (deferred). */
void	 h2_drained(struct conn *c);

/* c's timer fired: idle (no stream) for timeouts.keepalive, or a stream
 * stalled for timeouts.body_idle.  May close c (deferred). */
void	 h2_timer(struct conn *c);

/* SIGTERM drain: GOAWAY with the last stream id; c closes once its
 * streams are done. */
void	 h2_drain(struct conn *c);

/* Teardown, from conn_free() only: abort and log every stream's
 * exchange, free the streams and the session; c->h2 is NULL after. */
void	 h2_free(struct conn *c);

#endif /* PROXY_H2_H */
