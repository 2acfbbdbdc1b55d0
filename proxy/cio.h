/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * Buffered client I/O over a socket, with or without TLS: the part of a
 * bufferevent that gridfront needs, written for the hot path.  An input
 * and an output evbuffer, read/write/event callbacks with bufferevent's
 * meaning (and its BEV_EVENT_* bits), a read high and write low
 * watermark, read and write idle timeouts.
 *
 * Why not libevent's TLS bufferevent: it cannot use OpenSSL's read-ahead
 * (it ignores SSL_pending), so every TLS record costs two read(2)s; it
 * makes one SSL_write, so one record and one write(2), per buffer chain;
 * and it registers and unregisters the write event around every
 * response.  Here a readable socket costs one read(2) for everything the
 * kernel holds, output is coalesced into 16 KiB records, written at the
 * end of the current event-loop pass, and the write event is registered
 * only when the socket is full.  The read event stays registered
 * (level-triggered) for as long as reading is enabled.
 *
 * Callbacks are delivered one per event-loop callback and always last, so
 * a callback may free the cio (and what embeds it); further notices wait
 * for the next pass of the loop.
 */

#ifndef PROXY_CIO_H
#define PROXY_CIO_H

#include <sys/socket.h>

#include <stddef.h>

#include <event2/bufferevent.h>	/* BEV_EVENT_* */
#include <event2/event.h>
#include <event2/event_struct.h>
#include <openssl/ssl.h>

struct evbuffer;
struct cio;

typedef void	(*cio_data_cb)(struct cio *, void *);
typedef void	(*cio_event_cb)(struct cio *, short, void *);

struct cio {
	evutil_socket_t		 fd;
	SSL			*ssl;		/* NULL for plain TCP */
	struct evbuffer		*in;
	struct evbuffer		*out;
	struct evbuffer		*wire;		/* TLS records not yet sent */
	struct event		 rev;		/* readable, persistent */
	struct event		 wev;		/* writable, only while full */
	struct event		 defer;		/* flush and queued notices */
	struct event		 rtimer;	/* read idle timeout */
	cio_data_cb		 readcb;
	cio_data_cb		 writecb;
	cio_event_cb		 eventcb;
	void			*arg;
	size_t			 rhigh;		/* stop reading at this much */
	size_t			 wlow;		/* writecb at or below this */
	/* length of a retried SSL_write */
	size_t			 wretry;
	unsigned		 rto_ms;
	unsigned		 wto_ms;
	unsigned		 st;		/* CIO_S_* */
	/* notices for the defer event */
	unsigned		 pend;
	/* BEV_EVENT_* of a queued notice */
	short			 pend_ev;
	int			 cerr;		/* errno of a refused connect */
	unsigned		 enabled;	/* EV_READ | EV_WRITE */
};

/*
 * Set up io on a socket fd and, for TLS, a fresh ssl (server side unless
 * cio_tls_client() follows).  On success io owns both (cio_free closes fd
 * and frees ssl) and returns 0; on failure returns -1 and the caller
 * still owns them.
 * Nothing is enabled yet.
 */
int	 cio_init(struct cio *io, struct event_base *base, evutil_socket_t fd,
	    SSL *ssl);

/*
 * Start a non-blocking connect of io's (plain) socket to sa.  The result
 * comes from the loop, never synchronously: BEV_EVENT_CONNECTED, or
 * BEV_EVENT_ERROR (errno says why), or BEV_EVENT_TIMEOUT|WRITING when the
 * write timeout (set it first) passes.  Output queued meanwhile is sent
 * once connected.  Returns -1 (errno set) when connect(2) failed at once
 * in a way that is not worth reporting later.
 */
int	 cio_connect(struct cio *io, const struct sockaddr *sa,
	    socklen_t salen);

/* Close the socket, free the SSL, the buffers and the events.  io may be
 * freed by the caller afterwards; safe inside io's own callbacks. */
void	 cio_free(struct cio *io);

void	 cio_setcb(struct cio *io, cio_data_cb readcb, cio_data_cb writecb,
	    cio_event_cb eventcb, void *arg);

/* Turn reading and/or writing on or off (EV_READ, EV_WRITE). */
void	 cio_enable(struct cio *io, short what);
void	 cio_disable(struct cio *io, short what);

/* Idle timeouts in ms (0: none).  The read timeout runs while reading is
 * enabled, the write timeout while output waits for a full socket. */
void	 cio_set_timeouts(struct cio *io, unsigned read_ms, unsigned write_ms);

/* Bytes accepted for writing and not yet on the socket: the output plus
 * TLS records waiting for it.  0 means everything was written. */
size_t	 cio_pending(const struct cio *io);

/*
 * TLS 1.3: hold the session tickets OpenSSL writes at the end of the
 * handshake on the wire and send them with the first application data
 * written, so the peer's socket turns readable only once an answer is
 * on its way.  No effect on plain connections or TLS 1.2 (whose tickets
 * are part of the handshake).
 */
void	 cio_ticket_with_response(struct cio *io);

/*
 * Make io's TLS the client side (io was set up with an SSL by cio_init):
 * after cio_connect() succeeds the handshake runs, bounded by the write
 * timeout set for the connect, and BEV_EVENT_CONNECTED means connected
 * and handshaken; a failed handshake is BEV_EVENT_ERROR (OpenSSL's error
 * queue and verify result left for the user), its timeout
 * BEV_EVENT_TIMEOUT|BEV_EVENT_READING.  Returns -1 on a plain io.
 */
int	 cio_tls_client(struct cio *io);

/* Reading pauses once the input holds rhigh bytes (0: no limit) and
 * resumes when it drains below; writecb runs when a write leaves the
 * output at or below wlow. */
void	 cio_set_watermarks(struct cio *io, size_t rhigh, size_t wlow);

#endif /* PROXY_CIO_H */
