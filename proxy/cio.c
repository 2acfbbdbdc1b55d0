/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * Buffered client I/O with OpenSSL driven directly from libevent events
 * (see cio.h for why).  Each event handler does its I/O first, collects
 * what the user must hear of (N_* notices) and delivers exactly one
 * callback as its very last action; the rest is queued on the defer
 * event, which libevent runs later in the same loop pass.  cio_free()
 * deletes that event, so nothing reaches a freed connection.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "base/clock.h"
#include "proxy/cio.h"

/* State bits (io->st). */
#define CIO_S_HANDSHAKE	0x0001	/* TLS handshake not finished */
#define CIO_S_RADDED	0x0002	/* rev registered */
#define CIO_S_WADDED	0x0004	/* wev registered: socket was full */
#define CIO_S_RWANTW	0x0008	/* SSL_read needs the socket writable */
#define CIO_S_WWANTR	0x0010	/* SSL_write needs the socket readable */
#define CIO_S_EOF	0x0020	/* read side finished */
#define CIO_S_DEAD	0x0040	/* I/O error: no more I/O */
#define CIO_S_FULL	0x0080	/* reading paused by the high watermark */
#define CIO_S_FLUSH	0x0100	/* output to write on the defer event */
#define CIO_S_DEFER	0x0200	/* defer event is active */
#define CIO_S_RTIMER	0x0400	/* read timer armed */
#define CIO_S_CONNECTING 0x0800	/* non-blocking connect in progress */
#define CIO_S_BULK	0x1000	/* reads fill whole buffers: read in place */
#define CIO_S_TICKET	0x2000	/* TLS 1.3 tickets wait for the output */
#define CIO_S_CLIENT	0x4000	/* TLS client: handshake after connect */

/* Notices for the user, in delivery order. */
#define N_CONNECTED	0x01
#define N_READ		0x02
#define N_WRITE		0x04
#define N_EVENT		0x08	/* io->pend_ev or the handler's bits */

/* One TLS record of plaintext: what SSL_write gets at a time. */
#define CIO_RECORD	16384
/* Ciphertext waiting for the socket: encrypting stops at this much. */
#define CIO_WIRE_MAX	(4 * (size_t)CIO_RECORD)
/* Per readable event at most this much, so one busy client cannot starve
 * the others on the worker. */
#define CIO_READ_MAX	(4 * (size_t)CIO_RECORD)
/* The same bound for a bulk stream (a large body), which reads until the
 * socket is empty: about 0.2 ms of work at 1 GiB/s. */
#define CIO_BULK_MAX	(16 * (size_t)CIO_RECORD)
/* A bulk pass reads past an empty read-ahead buffer once it has this. */
#define CIO_READ_ON	(2 * (size_t)CIO_RECORD)

static void	cio_read_ev(evutil_socket_t, short, void *);
static void	cio_write_ev(evutil_socket_t, short, void *);
static void	cio_defer_ev(evutil_socket_t, short, void *);
static void	cio_rtimer_ev(evutil_socket_t, short, void *);
static void	cio_out_cb(struct evbuffer *, const struct evbuffer_cb_info *,
		    void *);
static void	cio_in_cb(struct evbuffer *, const struct evbuffer_cb_info *,
		    void *);

/* ------------------------------------------------------------------ */
/* The wire: OpenSSL's write side                                      */
/* ------------------------------------------------------------------ */

/*
 * OpenSSL writes every TLS record straight to its BIO, so with a socket
 * BIO a response of a head and a 16 KiB body costs two write(2)s and
 * two TCP segments.  Its write BIO here is "the wire": records are
 * appended to io->wire and cio writes them with one writev(2) when it
 * has encrypted what there is (up to CIO_WIRE_MAX).  A BIO flush (which
 * OpenSSL does after handshake flights and alerts) writes the wire out
 * at once and reports a full socket as a retryable write.  Reads keep a
 * plain socket BIO, for read-ahead.
 */
static BIO_METHOD	*wire_meth;
static pthread_once_t	 wire_once = PTHREAD_ONCE_INIT;

/* Write b (the plain output, or the wire of TLS records) to the socket:
 * 1 when empty, 0 socket full, -1 error. */
static int
buf_flush(struct cio *io, struct evbuffer *b)
{
	ssize_t	 r;

	while (evbuffer_get_length(b) > 0) {
		r = evbuffer_write_atmost(b, io->fd, -1);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return (0);
			return (-1);
		}
	}
	return (1);
}

static int
wire_bwrite(BIO *b, const char *data, int len)
{
	struct cio	*io = BIO_get_data(b);

	BIO_clear_retry_flags(b);
	if (len <= 0)
		return (0);
	if (evbuffer_add(io->wire, data, (size_t)len) == -1)
		return (-1);
	return (len);
}

static long
wire_bctrl(BIO *b, int cmd, long num, void *ptr)
{
	struct cio	*io = BIO_get_data(b);

	switch (cmd) {
	case BIO_CTRL_FLUSH:
		BIO_clear_retry_flags(b);
		/* TLS 1.3 tickets after the handshake wait for the first
		 * response (cio_ticket_with_response()). */
		if ((io->st & CIO_S_TICKET) &&
		    SSL_get_state(io->ssl) == TLS_ST_SW_SESSION_TICKET)
			return (1);
		switch (buf_flush(io, io->wire)) {
		case 1:
			return (1);
		case 0:
			BIO_set_retry_write(b);
			return (-1);
		default:
			return (-1);
		}
	case BIO_CTRL_WPENDING:
		return ((long)evbuffer_get_length(io->wire));
	default:
		return (0);
	}
}

static int
wire_bcreate(BIO *b)
{
	BIO_set_init(b, 1);
	return (1);
}

static void
wire_meth_init(void)
{
	wire_meth = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK,
	    "gridfront cio wire");
	if (wire_meth == NULL ||
	    !BIO_meth_set_write(wire_meth, wire_bwrite) ||
	    !BIO_meth_set_ctrl(wire_meth, wire_bctrl) ||
	    !BIO_meth_set_create(wire_meth, wire_bcreate)) {
		BIO_meth_free(wire_meth);
		wire_meth = NULL;
	}
}

int
cio_init(struct cio *io, struct event_base *base, evutil_socket_t fd,
    SSL *ssl)
{
	BIO	*wb;

	memset(io, 0, sizeof(*io));
	io->fd = fd;
	io->ssl = ssl;
	if ((io->in = evbuffer_new()) == NULL ||
	    (io->out = evbuffer_new()) == NULL) {
		if (io->in != NULL)
			evbuffer_free(io->in);
		return (-1);
	}
	if (ssl != NULL) {
		(void)pthread_once(&wire_once, wire_meth_init);
		if (wire_meth == NULL || (io->wire = evbuffer_new()) == NULL ||
		    SSL_set_rfd(ssl, fd) != 1 ||
		    (wb = BIO_new(wire_meth)) == NULL) {
			if (io->wire != NULL)
				evbuffer_free(io->wire);
			evbuffer_free(io->in);
			evbuffer_free(io->out);
			return (-1);
		}
		BIO_set_data(wb, io);
		SSL_set0_wbio(ssl, wb);		/* the SSL owns wb now */
		/* One read(2) takes everything the kernel holds, up to a
		 * record buffer; SSL_has_pending() tells us what is left. */
		SSL_set_read_ahead(ssl, 1);
		SSL_set_accept_state(ssl);
		io->st |= CIO_S_HANDSHAKE;
	}
	event_assign(&io->rev, base, fd, EV_READ | EV_PERSIST, cio_read_ev,
	    io);
	event_assign(&io->wev, base, fd, EV_WRITE | EV_PERSIST, cio_write_ev,
	    io);
	event_assign(&io->defer, base, -1, 0, cio_defer_ev, io);
	event_assign(&io->rtimer, base, -1, 0, cio_rtimer_ev, io);
	evbuffer_add_cb(io->out, cio_out_cb, io);
	evbuffer_add_cb(io->in, cio_in_cb, io);
	return (0);
}

void
cio_free(struct cio *io)
{
	event_del(&io->rev);
	event_del(&io->wev);
	event_del(&io->defer);
	event_del(&io->rtimer);
	if (io->in != NULL)
		evbuffer_free(io->in);
	if (io->out != NULL)
		evbuffer_free(io->out);
	io->in = io->out = NULL;
	if (io->ssl != NULL) {
		/* A last alert or close_notify still on the wire: one try. */
		if (evbuffer_get_length(io->wire) > 0 && io->fd != -1)
			(void)evbuffer_write(io->wire, io->fd);
		SSL_free(io->ssl);
		evbuffer_free(io->wire);
	}
	io->ssl = NULL;
	io->wire = NULL;
	if (io->fd != -1)
		close(io->fd);
	io->fd = -1;
}

void
cio_setcb(struct cio *io, cio_data_cb readcb, cio_data_cb writecb,
    cio_event_cb eventcb, void *arg)
{
	io->readcb = readcb;
	io->writecb = writecb;
	io->eventcb = eventcb;
	io->arg = arg;
}

/* ------------------------------------------------------------------ */
/* Event registration                                                  */
/* ------------------------------------------------------------------ */

static void
rtimer_arm_ms(struct cio *io, unsigned ms)
{
	struct timeval	 tv;

	clock_ms_tv(ms, &tv);
	evtimer_add(&io->rtimer, &tv);
	io->st |= CIO_S_RTIMER;
}

static void
rtimer_arm(struct cio *io)
{
	rtimer_arm_ms(io, io->rto_ms);
}

/* Register or drop the read event to match what is wanted now.  A
 * change here is an epoll_ctl; the steady state makes none. */
static void
read_update(struct cio *io)
{
	int	 want;

	want = ((io->enabled & EV_READ) && !(io->st & (CIO_S_EOF |
	    CIO_S_DEAD | CIO_S_FULL | CIO_S_CONNECTING))) ||
	    ((io->st & (CIO_S_HANDSHAKE | CIO_S_WWANTR)) &&
	    !(io->st & (CIO_S_DEAD | CIO_S_CONNECTING)));
	if (want && !(io->st & CIO_S_RADDED)) {
		event_add(&io->rev, NULL);
		io->st |= CIO_S_RADDED;
	} else if (!want && (io->st & CIO_S_RADDED)) {
		event_del(&io->rev);
		io->st &= ~CIO_S_RADDED;
	}
	/* A client handshake runs under the timer cio_connected() set
	 * (until it fails: then the timer goes as below). */
	if ((io->st & (CIO_S_CLIENT | CIO_S_HANDSHAKE | CIO_S_DEAD)) ==
	    (CIO_S_CLIENT | CIO_S_HANDSHAKE))
		return;
	/* The read timeout runs only while the user wants data. */
	want = want && io->rto_ms != 0 && (io->enabled & EV_READ) &&
	    !(io->st & (CIO_S_HANDSHAKE | CIO_S_EOF | CIO_S_FULL |
	    CIO_S_CONNECTING));
	if (want && !(io->st & CIO_S_RTIMER))
		rtimer_arm(io);
	else if (!want && (io->st & CIO_S_RTIMER)) {
		evtimer_del(&io->rtimer);
		io->st &= ~CIO_S_RTIMER;
	}
}

/*
 * Reading may go on again (enabled, or below the high watermark): bytes
 * OpenSSL already read ahead raise no readiness event, so run the read
 * handler for them by hand.
 */
static void
read_resume(struct cio *io)
{
	read_update(io);
	if (io->ssl != NULL && (io->st & CIO_S_RADDED) &&
	    !(io->st & CIO_S_HANDSHAKE) && SSL_has_pending(io->ssl))
		event_active(&io->rev, EV_READ, 1);
}

/* Wait for the socket to become writable (it was full). */
static void
write_block(struct cio *io)
{
	struct timeval	 tv;

	if (io->st & CIO_S_WADDED)
		return;
	clock_ms_tv(io->wto_ms, &tv);
	event_add(&io->wev, io->wto_ms ? &tv : NULL);
	io->st |= CIO_S_WADDED;
}

static void
write_unblock(struct cio *io)
{
	if (!(io->st & CIO_S_WADDED))
		return;
	event_del(&io->wev);
	io->st &= ~CIO_S_WADDED;
}

/* Ask for the defer event to run in this loop pass. */
static void
defer_kick(struct cio *io)
{
	if (io->st & CIO_S_DEFER)
		return;
	io->st |= CIO_S_DEFER;
	event_active(&io->defer, EV_TIMEOUT, 1);
}

/*
 * Deliver the first notice of n as the caller's last action and queue the
 * rest.  ev holds the BEV_EVENT_* bits for N_EVENT.
 */
static void
deliver(struct cio *io, unsigned n, short ev)
{
	unsigned	 first;

	if (n == 0)
		return;
	first = n & (unsigned)-(int)n;		/* lowest bit: order above */
	if (n != first) {
		io->pend |= n & ~first;
		if (n & N_EVENT)
			io->pend_ev = ev;
		defer_kick(io);
	}
	switch (first) {
	case N_CONNECTED:
		if (io->eventcb != NULL)
			io->eventcb(io, BEV_EVENT_CONNECTED, io->arg);
		break;
	case N_READ:
		if (io->readcb != NULL)
			io->readcb(io, io->arg);
		break;
	case N_WRITE:
		if (io->writecb != NULL)
			io->writecb(io, io->arg);
		break;
	default:
		if (io->eventcb != NULL)
			io->eventcb(io, ev, io->arg);
		break;
	}
}

/* ------------------------------------------------------------------ */
/* I/O                                                                 */
/* ------------------------------------------------------------------ */

/* How an OpenSSL call failed: 0 would block (flags set), 1 EOF, -1 error. */
static int
tls_failed(struct cio *io, int r, int writing)
{
	SSL	*ssl = io->ssl;
	int	 e;

	/*
	 * The would-block cases first, decided the way SSL_get_error() does
	 * but without the error queue: OpenSSL resets SSL_want() and the
	 * BIO retry flags on every call, so the hot path need not clear the
	 * queue before each SSL_read/SSL_write.  Only a real failure looks
	 * further, where a stale queue entry could at worst turn an EOF
	 * into an error, and a received close_notify (or, with
	 * SSL_OP_IGNORE_UNEXPECTED_EOF, a bare FIN) is recognised first.
	 */
	if (SSL_want_read(ssl) && BIO_should_read(SSL_get_rbio(ssl)))
		e = SSL_ERROR_WANT_READ;
	else if (SSL_want_write(ssl) && BIO_should_write(SSL_get_wbio(ssl)))
		e = SSL_ERROR_WANT_WRITE;
	else if (!writing && (SSL_get_shutdown(ssl) & SSL_RECEIVED_SHUTDOWN))
		e = SSL_ERROR_ZERO_RETURN;
	else
		e = SSL_get_error(ssl, r);

	switch (e) {
	case SSL_ERROR_WANT_READ:
		if (writing)
			io->st |= CIO_S_WWANTR;
		return (0);
	case SSL_ERROR_WANT_WRITE:
		if (!writing)
			io->st |= CIO_S_RWANTW;
		write_block(io);
		return (0);
	case SSL_ERROR_ZERO_RETURN:
		return (1);
	case SSL_ERROR_SYSCALL:
		/* A bare FIN (no close_notify) or a reset: most clients just
		 * close, which is no error worth logging. */
		if (!writing && errno == 0) {
			ERR_clear_error();
			return (1);
		}
		return (-1);
	case SSL_ERROR_SSL:
		if (!writing && ERR_GET_REASON(ERR_peek_last_error()) ==
		    SSL_R_UNEXPECTED_EOF_WHILE_READING) {
			ERR_clear_error();
			return (1);
		}
		return (-1);
	default:
		return (-1);
	}
}

/*
 * Small reads land in a per-thread scratch buffer and are copied into a
 * right-sized buffer chain: a 300-byte request then costs a small, cached
 * allocation and a short copy instead of a fresh 16-64 KiB chain per
 * request, and a 16 KiB response comes in one recv(2).  A read that fills
 * what it asked for switches the cio to reading in place (bulk: bodies
 * move without the copy); a short one switches it back.
 */
static __thread char	 cio_scratch[CIO_READ_MAX];

/* Returns N_* notices; *ev gets the BEV_EVENT_* bits of an N_EVENT. */
static unsigned
do_read(struct cio *io, short *ev)
{
	struct evbuffer_iovec	 v;
	size_t			 len, want, got = 0;
	ssize_t			 r;
	char			*buf;
	int			 f, bulk;

	if (!(io->enabled & EV_READ) ||
	    (io->st & (CIO_S_EOF | CIO_S_DEAD | CIO_S_HANDSHAKE)))
		return (0);
	for (;;) {
		bulk = (io->st & CIO_S_BULK) != 0;
		if (got >= (bulk ? CIO_BULK_MAX : CIO_READ_MAX)) {
			/*
			 * Enough for this pass.  Records OpenSSL already
			 * holds raise no readiness event, and the socket may
			 * stay empty (the client sent all and waits for the
			 * answer): the next loop pass must read them.
			 */
			if (io->ssl != NULL && SSL_has_pending(io->ssl))
				event_active(&io->rev, EV_READ, 1);
			break;
		}
		len = evbuffer_get_length(io->in);
		if (io->rhigh != 0 && len >= io->rhigh) {
			io->st |= CIO_S_FULL;
			break;
		}
		want = io->ssl == NULL ? CIO_READ_MAX : CIO_RECORD;
		if (io->rhigh != 0 && want > io->rhigh - len)
			want = io->rhigh - len;
		buf = cio_scratch;
		if (bulk) {
			if (evbuffer_reserve_space(io->in, (ev_ssize_t)want,
			    &v, 1) < 1)
				goto nomem;
			if (v.iov_len > want)
				v.iov_len = want;
			buf = v.iov_base;
		}
		if (io->ssl != NULL) {
			errno = 0;
			r = SSL_read(io->ssl, buf, (int)want);
		} else
			r = recv(io->fd, buf, want, 0);
		if (r <= 0) {
			if (bulk)
				evbuffer_commit_space(io->in, &v, 0);
			if (io->ssl != NULL)
				f = tls_failed(io, (int)r, 0);
			else if (r < 0 && (errno == EAGAIN ||
			    errno == EWOULDBLOCK || errno == EINTR))
				f = 0;
			else
				f = r == 0 ? 1 : -1;
			if (f == 0)
				break;
			goto ended;
		}
		if (bulk) {
			v.iov_len = (size_t)r;
			evbuffer_commit_space(io->in, &v, 1);
		} else if (evbuffer_add(io->in, cio_scratch, (size_t)r) == -1)
			goto nomem;
		got += (size_t)r;
		if ((size_t)r == want)
			io->st |= CIO_S_BULK;
		else if ((size_t)r < want / 2)
			io->st &= ~CIO_S_BULK;
		if (io->ssl != NULL) {
			/*
			 * Nothing buffered in OpenSSL: the socket is drained
			 * as far as one read could tell; level-triggered
			 * epoll says when there is more.  A bulk stream that
			 * has brought two records in this pass reads on until
			 * SSL_read() meets an empty socket: the extra read(2)
			 * that finds it empty costs less than a wake-up, a
			 * writev(2) to the backend and a window update to the
			 * client per 32 KiB.  (A single 16 KiB request body
			 * does not pay for that read.)
			 */
			if (!SSL_has_pending(io->ssl) &&
			    (!(io->st & CIO_S_BULK) || got < CIO_READ_ON))
				break;
		} else if ((size_t)r < want)
			break;		/* short read: drained */
	}
	if (got > 0 && io->rto_ms != 0)
		rtimer_arm(io);		/* progress restarts the clock */
	return (got > 0 ? N_READ : 0);
nomem:
	*ev = BEV_EVENT_ERROR | BEV_EVENT_READING;
	io->st |= CIO_S_DEAD;
	return ((got > 0 ? N_READ : 0) | N_EVENT);
ended:
	if (f == 1) {
		io->st |= CIO_S_EOF;
		*ev = BEV_EVENT_EOF | BEV_EVENT_READING;
	} else {
		io->st |= CIO_S_DEAD;
		*ev = BEV_EVENT_ERROR | BEV_EVENT_READING;
	}
	return ((got > 0 ? N_READ : 0) | N_EVENT);
}

/* After a write pass: wait for writability only if the socket was full;
 * N_WRITE when something was written and the output is down to wlow. */
static unsigned
write_end(struct cio *io, int wrote, int blocked)
{
	if (blocked)
		write_block(io);
	else
		write_unblock(io);
	if (wrote && evbuffer_get_length(io->out) <= io->wlow)
		return (N_WRITE);
	return (0);
}

/* A write failed: no more I/O on io. */
static unsigned
write_failed(struct cio *io, short *ev)
{
	io->st |= CIO_S_DEAD;
	write_unblock(io);
	read_update(io);
	*ev = BEV_EVENT_ERROR | BEV_EVENT_WRITING;
	return (N_EVENT);
}

/*
 * TLS side of do_write(): encrypt the output into the wire, up to
 * CIO_WIRE_MAX at a time in records of up to 16 KiB, and write the wire
 * with one writev(2), until the output is empty or the socket is full.
 */
static unsigned
tls_write(struct cio *io, short *ev)
{
	size_t		 len, n;
	unsigned char	*p;
	int		 r, wrote = 0, blocked = 0, stalled = 0;

	if (io->st & CIO_S_TICKET) {
		/*
		 * Tickets held on the wire go out with the first answer, in
		 * the same writev(2); with nothing to answer yet they wait.
		 */
		if (evbuffer_get_length(io->out) == 0)
			return (0);
		io->st &= ~CIO_S_TICKET;
	}
	for (;;) {
		while (!stalled && (len = evbuffer_get_length(io->out)) > 0 &&
		    evbuffer_get_length(io->wire) < CIO_WIRE_MAX) {
			/* A retried SSL_write must have the same length. */
			n = io->wretry ? io->wretry : (len < CIO_RECORD ?
			    len : CIO_RECORD);
			/* n <= 16 KiB: fits ssize_t and int. */
			if ((p = evbuffer_pullup(io->out, (ssize_t)n)) == NULL)
				goto failed;
			r = SSL_write(io->ssl, p, (int)n);
			if (r <= 0) {
				/* The wire takes everything, so only a
				 * renegotiation-like read can stall us. */
				io->wretry = n;
				if (tls_failed(io, r, 1) != 0)
					goto failed;
				stalled = 1;
				break;
			}
			io->wretry = 0;
			evbuffer_drain(io->out, (size_t)r);
			wrote = 1;
		}
		if (evbuffer_get_length(io->wire) == 0)
			break;
		r = buf_flush(io, io->wire);
		if (r == -1)
			goto failed;
		wrote = 1;
		if (r == 0) {
			blocked = 1;
			break;
		}
		if (stalled || evbuffer_get_length(io->out) == 0)
			break;
	}
	if (!stalled && (io->st & CIO_S_WWANTR)) {
		io->st &= ~CIO_S_WWANTR;
		read_update(io);
	} else if (stalled)
		read_update(io);
	return (write_end(io, wrote, blocked));
failed:
	return (write_failed(io, ev));
}

/* Write what the output holds until it is empty or the socket is full. */
static unsigned
do_write(struct cio *io, short *ev)
{
	size_t	 before;
	int	 r;

	if (io->st & CIO_S_CONNECTING)
		return (0);		/* the connect result comes first */
	io->st &= ~CIO_S_FLUSH;
	if (io->st & CIO_S_HANDSHAKE)
		return (0);		/* the handshake owns the write event */
	if (!(io->enabled & EV_WRITE) || (io->st & CIO_S_DEAD)) {
		/* Nothing may be written: do not wait for writability. */
		write_unblock(io);
		return (0);
	}
	if (io->ssl != NULL)
		return (tls_write(io, ev));
	before = evbuffer_get_length(io->out);
	if ((r = buf_flush(io, io->out)) == -1)
		return (write_failed(io, ev));
	return (write_end(io, evbuffer_get_length(io->out) < before, r == 0));
}

/* Drive the TLS handshake: N_CONNECTED when done, N_EVENT on failure. */
static unsigned
do_handshake(struct cio *io, short *ev)
{
	int	 r;

	ERR_clear_error();
	errno = 0;
	if ((r = SSL_do_handshake(io->ssl)) == 1) {
		io->st &= ~CIO_S_HANDSHAKE;
		io->st &= ~CIO_S_RWANTW;
		if ((io->st & (CIO_S_CLIENT | CIO_S_RTIMER)) ==
		    (CIO_S_CLIENT | CIO_S_RTIMER)) {
			evtimer_del(&io->rtimer);
			io->st &= ~CIO_S_RTIMER;
		}
		if (evbuffer_get_length(io->out) == 0)
			write_unblock(io);
		read_update(io);
		return (N_CONNECTED);
	}
	switch (SSL_get_error(io->ssl, r)) {
	case SSL_ERROR_WANT_READ:
		write_unblock(io);
		read_update(io);
		return (0);
	case SSL_ERROR_WANT_WRITE:
		write_block(io);
		return (0);
	default:
		/* The OpenSSL error queue stays for the user to log. */
		io->st |= CIO_S_DEAD;
		write_unblock(io);
		read_update(io);
		*ev = BEV_EVENT_ERROR | BEV_EVENT_READING;
		return (N_EVENT);
	}
}

/*
 * One pass of everything the socket can do now: finish the handshake,
 * read, write.  what says which readiness libevent reported.
 */
static void
cio_run(struct cio *io, short what)
{
	unsigned	 n = 0;
	short		 ev = 0;

	if (io->st & CIO_S_HANDSHAKE) {
		n = do_handshake(io, &ev);
		if (io->st & CIO_S_HANDSHAKE || n & N_EVENT) {
			deliver(io, n, ev);
			return;
		}
		/* Application data may have come with the Finished. */
		what |= EV_READ;
		if (evbuffer_get_length(io->out) > 0)
			what |= EV_WRITE;
	}
	if ((what & EV_WRITE) && (io->st & CIO_S_RWANTW)) {
		io->st &= ~CIO_S_RWANTW;
		what |= EV_READ;
	}
	if ((what & EV_READ) && (io->st & CIO_S_WWANTR))
		what |= EV_WRITE;
	if (what & EV_READ)
		n |= do_read(io, &ev);
	if (!(n & N_EVENT) && ((what & EV_WRITE) || (io->st & CIO_S_FLUSH) ||
	    (io->wire != NULL && evbuffer_get_length(io->wire) > 0 &&
	    !(io->st & CIO_S_WADDED))))
		n |= do_write(io, &ev);
	read_update(io);
	deliver(io, n, ev);
}

/* The socket of a pending connect became writable: how did it go? */
static void
cio_connected(struct cio *io)
{
	socklen_t	 len = sizeof(int);
	int		 err = 0;
	unsigned	 n = N_CONNECTED;
	short		 ev = 0;

	if (getsockopt(io->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	if (err == EINPROGRESS || err == EALREADY)
		return;			/* not yet after all */
	io->st &= ~CIO_S_CONNECTING;
	if (err != 0) {
		errno = err;
		io->st |= CIO_S_DEAD;
		write_unblock(io);
		read_update(io);
		deliver(io, N_EVENT, BEV_EVENT_ERROR);
		return;
	}
	if (io->st & CIO_S_HANDSHAKE) {
		/* TLS client: the handshake gets the connect timeout again,
		 * on the read timer; its end is the BEV_EVENT_CONNECTED the
		 * user waits for. */
		write_unblock(io);
		if (io->wto_ms != 0)
			rtimer_arm_ms(io, io->wto_ms);
		cio_run(io, EV_WRITE);
		return;
	}
	/* Anything queued before the connect finished goes out now. */
	if (evbuffer_get_length(io->out) > 0)
		n |= do_write(io, &ev);
	else
		write_unblock(io);
	read_update(io);
	deliver(io, n, ev);
}

static void
cio_read_ev(evutil_socket_t fd, short what, void *arg)
{
	cio_run(arg, EV_READ);
}

static void
cio_write_ev(evutil_socket_t fd, short what, void *arg)
{
	struct cio	*io = arg;

	if (what & EV_TIMEOUT) {
		/* No progress writing for wto_ms. */
		write_unblock(io);
		io->enabled &= ~(unsigned)EV_WRITE;
		deliver(io, N_EVENT, BEV_EVENT_TIMEOUT | BEV_EVENT_WRITING);
		return;
	}
	if (io->st & CIO_S_CONNECTING) {
		cio_connected(io);
		return;
	}
	cio_run(io, EV_WRITE);
}

static void
cio_rtimer_ev(evutil_socket_t fd, short what, void *arg)
{
	struct cio	*io = arg;

	io->st &= ~CIO_S_RTIMER;
	/* As with bufferevents, a read timeout turns reading off. */
	io->enabled &= ~(unsigned)EV_READ;
	read_update(io);
	deliver(io, N_EVENT, BEV_EVENT_TIMEOUT | BEV_EVENT_READING);
}

static void
cio_defer_ev(evutil_socket_t fd, short what, void *arg)
{
	struct cio	*io = arg;
	unsigned	 n = io->pend;
	short		 ev = io->pend_ev;

	io->st &= ~CIO_S_DEFER;
	io->pend = 0;
	io->pend_ev = 0;
	if (io->cerr != 0)
		errno = io->cerr;	/* an immediate connect refusal */
	if (io->st & CIO_S_FLUSH) {
		if (n & N_EVENT)
			defer_kick(io);	/* the queued notice goes first */
		else
			n |= do_write(io, &ev);
	}
	deliver(io, n, ev);
}

/* Output grew: write it at the end of this loop pass, all at once. */
static void
cio_out_cb(struct evbuffer *b, const struct evbuffer_cb_info *info,
    void *arg)
{
	struct cio	*io = arg;

	if (info->n_added == 0 || (io->st & (CIO_S_WADDED | CIO_S_FLUSH)))
		return;
	io->st |= CIO_S_FLUSH;
	defer_kick(io);
}

/* Input drained below the high watermark: read again. */
static void
cio_in_cb(struct evbuffer *b, const struct evbuffer_cb_info *info,
    void *arg)
{
	struct cio	*io = arg;

	if (!(io->st & CIO_S_FULL) || info->n_deleted == 0 ||
	    evbuffer_get_length(b) >= io->rhigh)
		return;
	io->st &= ~CIO_S_FULL;
	read_resume(io);
}

/* ------------------------------------------------------------------ */
/* Control                                                             */
/* ------------------------------------------------------------------ */

void
cio_enable(struct cio *io, short what)
{
	unsigned was = io->enabled;

	io->enabled |= (unsigned)what & (EV_READ | EV_WRITE);
	if ((what & EV_READ) && !(was & EV_READ))
		read_resume(io);
	if ((what & EV_WRITE) && !(was & EV_WRITE) &&
	    evbuffer_get_length(io->out) > 0 && !(io->st & CIO_S_WADDED)) {
		io->st |= CIO_S_FLUSH;
		defer_kick(io);
	}
}

void
cio_disable(struct cio *io, short what)
{
	io->enabled &= ~((unsigned)what & (EV_READ | EV_WRITE));
	if (what & EV_READ)
		read_update(io);
	/* The write event also carries the handshake and the connect. */
	if ((what & EV_WRITE) &&
	    !(io->st & (CIO_S_HANDSHAKE | CIO_S_CONNECTING)))
		write_unblock(io);
}

void
cio_set_timeouts(struct cio *io, unsigned read_ms, unsigned write_ms)
{
	struct timeval	 tv;

	/* As with bufferevents, setting a timeout restarts its clock. */
	io->rto_ms = read_ms;
	if (io->st & CIO_S_RTIMER) {
		evtimer_del(&io->rtimer);
		io->st &= ~CIO_S_RTIMER;
	}
	read_update(io);
	if (io->wto_ms == write_ms && !(io->st & CIO_S_WADDED))
		return;
	if (io->st & CIO_S_WADDED) {
		if (write_ms != 0) {
			/* Already registered: only the timer changes. */
			clock_ms_tv(write_ms, &tv);
			event_add(&io->wev, &tv);
		} else {
			/* Dropping a timeout takes a re-registration; rare
			 * (a full socket), so the epoll_ctl pair is fine. */
			io->wto_ms = 0;
			write_unblock(io);
			write_block(io);
		}
	}
	io->wto_ms = write_ms;
}

int
cio_connect(struct cio *io, const struct sockaddr *sa, socklen_t salen)
{
	if (connect(io->fd, sa, salen) == 0) {
		if (io->st & CIO_S_HANDSHAKE) {
			/* TLS: the handshake starts from the loop, once
			 * the socket shows writable (at once). */
			io->st |= CIO_S_CONNECTING;
			write_block(io);
			return (0);
		}
		/* Loopback may connect at once; report it from the loop. */
		io->pend |= N_CONNECTED;
		defer_kick(io);
		return (0);
	}
	if (errno == EINPROGRESS) {
		io->st |= CIO_S_CONNECTING;
		write_block(io);	/* wto_ms is the connect timeout */
		return (0);
	}
	if (errno == ECONNREFUSED) {
		/* for the eventcb, which may be later */
		io->cerr = errno;
		io->st |= CIO_S_DEAD;
		io->pend |= N_EVENT;
		io->pend_ev = BEV_EVENT_ERROR;
		defer_kick(io);
		return (0);
	}
	return (-1);
}

void
cio_ticket_with_response(struct cio *io)
{
	if (io->ssl != NULL)
		io->st |= CIO_S_TICKET;
}

size_t
cio_pending(const struct cio *io)
{
	return (evbuffer_get_length(io->out) +
	    (io->wire != NULL ? evbuffer_get_length(io->wire) : 0));
}

void
cio_set_watermarks(struct cio *io, size_t rhigh, size_t wlow)
{
	io->rhigh = rhigh;
	io->wlow = wlow;
	if ((io->st & CIO_S_FULL) && (rhigh == 0 ||
	    evbuffer_get_length(io->in) < rhigh)) {
		io->st &= ~CIO_S_FULL;
		read_resume(io);
	}
}

int
cio_tls_client(struct cio *io)
{
	if (io->ssl == NULL)
		return (-1);
	SSL_set_connect_state(io->ssl);
	io->st |= CIO_S_CLIENT;
	return (0);
}
