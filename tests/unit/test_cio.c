/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * Unit tests for proxy/cio.c, the buffered socket/TLS I/O layer, over real
 * local sockets and a real event_base: reads, EOF and the order of the
 * callbacks; output flushed at the end of the loop pass without a flush
 * call, and 4 MiB through a full socket; the read high watermark; read
 * and write timeouts; freeing the cio from its own read callback with a
 * notice still queued; non-blocking connect over TCP (in progress) and
 * AF_UNIX (immediate), success and refusal, the result always from the
 * loop; turning reading off and on; and a TLS handshake and exchange with
 * an in-memory self-signed certificate.  Every wait is bounded by a
 * per-test deadline, so a bug fails a test and never hangs it.
 */

#include <sys/socket.h>
#include <sys/un.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <signal.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "proxy/cio.h"

#define DEADLINE_MS	2000	/* all waits of one test together */
#define TICK_MS		5	/* longest one loop pass can block */
#define NLOG		64
#define BIG		((size_t)4 << 20)

struct holder {			/* a cio embedded in a heap object */
	struct cio	 io;
	int		 other;
};

struct t {
	struct event_base	*base;
	struct event		*tick;
	struct cio		 io;
	struct cio		*iop;	/* the cio under test, or NULL */
	struct holder		*holder;
	int			 peer;	/* the test's end of the socket */
	uint64_t		 deadline;
	unsigned		 pass;	/* loop passes so far */
	char			 log[NLOG + 1];	/* R, W, E per callback */
	short			 ev[NLOG];	/* bits of each E */
	unsigned		 when[NLOG];	/* pass of each callback */
	size_t			 nlog;
	size_t			 inlen;	/* input length at the last R */
	uint64_t		 ev_ms;	/* time of the last E */
	int			 ev_errno;	/* errno at the last E */
	int			 free_in_readcb;
	unsigned char		*src, *dst;	/* freed by teardown */
	SSL_CTX			*sctx, *cctx;
	SSL			*cl;
};

static uint64_t
now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000);
}

static void
tick_cb(evutil_socket_t fd, short what, void *arg)
{
}

static int
setup(void **state)
{
	struct t	*t;
	struct timeval	 tv = { 0, TICK_MS * 1000 };

	if ((t = calloc(1, sizeof(*t))) == NULL ||
	    (t->base = event_base_new()) == NULL)
		return (-1);
	t->tick = event_new(t->base, -1, EV_PERSIST, tick_cb, NULL);
	if (t->tick == NULL || event_add(t->tick, &tv) == -1)
		return (-1);
	t->peer = -1;
	t->deadline = now_ms() + DEADLINE_MS;
	*state = t;
	return (0);
}

static int
teardown(void **state)
{
	struct t	*t = *state;

	if (t->iop != NULL)
		cio_free(t->iop);
	free(t->holder);
	SSL_free(t->cl);
	SSL_CTX_free(t->cctx);
	SSL_CTX_free(t->sctx);
	free(t->src);
	free(t->dst);
	if (t->peer != -1)
		close(t->peer);
	event_free(t->tick);
	event_base_free(t->base);
	free(t);
	return (0);
}

static void
logcb(struct t *t, char c, short ev)
{
	if (t->nlog >= NLOG)
		fail_msg("too many callbacks: %s", t->log);
	t->log[t->nlog] = c;
	t->ev[t->nlog] = ev;
	t->when[t->nlog] = t->pass;
	t->nlog++;
}

static void
readcb(struct cio *io, void *arg)
{
	struct t	*t = arg;

	logcb(t, 'R', 0);
	t->inlen = evbuffer_get_length(io->in);
	if (t->free_in_readcb) {
		cio_free(io);
		free(t->holder);
		t->holder = NULL;
		t->iop = NULL;
	}
}

static void
writecb(struct cio *io, void *arg)
{
	logcb(arg, 'W', 0);
}

static void
eventcb(struct cio *io, short what, void *arg)
{
	struct t	*t = arg;

	t->ev_errno = errno;
	t->ev_ms = now_ms();
	logcb(t, 'E', what);
}

/* n passes of the loop, each running what is ready or waiting a tick. */
static void
pump(struct t *t, int n)
{
	while (n-- > 0) {
		t->pass++;
		assert_int_not_equal(event_base_loop(t->base, EVLOOP_ONCE),
		    -1);
	}
}

static void	tls_pair(struct t *, struct cio *);

#define UNTIL(t, cond) do {						\
	while (!(cond) && now_ms() < (t)->deadline)			\
		pump(t, 1);						\
	assert_true(cond);						\
} while (0)

/* A socketpair: t->io on one end, t->peer the other. */
static void
pair(struct t *t)
{
	int	 sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
	    sv), 0);
	assert_int_equal(cio_init(&t->io, t->base, sv[0], NULL), 0);
	t->iop = &t->io;
	t->peer = sv[1];
	cio_setcb(&t->io, readcb, writecb, eventcb, t);
}

static void
fill(unsigned char *p, size_t len)
{
	size_t	 i;

	for (i = 0; i < len; i++)
		p[i] = (unsigned char)(i % 251);
}

static void
put(int fd, const void *p, size_t len)
{
	assert_int_equal(write(fd, p, len), (ssize_t)len);
}

/* Read exactly len bytes from fd (non-blocking), driving the loop. */
static void
get(struct t *t, int fd, void *p, size_t len)
{
	size_t	 got = 0;
	ssize_t	 r;

	while (got < len && now_ms() < t->deadline) {
		if ((r = read(fd, (char *)p + got, len - got)) > 0)
			got += (size_t)r;
		else {
			assert_true(r == -1 && errno == EAGAIN);
			pump(t, 1);
		}
	}
	assert_int_equal(got, len);
}

static void
assert_no_more(int fd)
{
	char	 c;

	assert_int_equal(read(fd, &c, 1), -1);
	assert_int_equal(errno, EAGAIN);
}

/* Data, then data and EOF: R, R, then E(EOF|READING), and nothing more. */
static void
test_cio__read_then_eof(void **state)
{
	struct t	*t = *state;
	char		 buf[16];

	pair(t);
	cio_enable(&t->io, EV_READ);
	pump(t, 2);
	assert_int_equal(t->nlog, 0);
	put(t->peer, "hello", 5);
	UNTIL(t, t->nlog == 1);
	assert_string_equal(t->log, "R");
	assert_int_equal(evbuffer_remove(t->io.in, buf, sizeof(buf)), 5);
	assert_memory_equal(buf, "hello", 5);
	pump(t, 3);
	assert_int_equal(t->nlog, 1);
	put(t->peer, "bye", 3);
	close(t->peer);
	t->peer = -1;
	UNTIL(t, t->nlog == 3);
	assert_string_equal(t->log, "RRE");
	assert_int_equal(t->ev[2], BEV_EVENT_EOF | BEV_EVENT_READING);
	assert_int_equal(evbuffer_get_length(t->io.in), 3);
	pump(t, 3);
	assert_int_equal(t->nlog, 3);
}

/*
 * The peer sends one whole record (what a first read asks for) and shuts
 * down: one read event gets the data and the EOF, the EOF is queued behind
 * the read.
 */
static void
record_then_eof(struct t *t, struct cio *io)
{
	unsigned char	 buf[1000];

	fill(buf, sizeof(buf));
	tls_pair(t, io);
	/*
	 * Both records are on the socket before cio reads: one read(2) with
	 * read-ahead takes them, SSL_has_pending() keeps the loop going, and
	 * the close_notify ends the same pass.  (Plain sockets stop at the
	 * first short read, so only TLS gets data and EOF in one pass.)
	 */
	assert_int_equal(SSL_write(t->cl, buf, (int)sizeof(buf)),
	    (int)sizeof(buf));
	assert_true(SSL_shutdown(t->cl) >= 0);
	UNTIL(t, t->nlog >= 2);
	pump(t, 5);
	assert_int_equal(t->inlen, sizeof(buf));
}

static void
test_cio__record_and_eof_same_pass(void **state)
{
	struct t	*t = *state;

	record_then_eof(t, &t->io);
	assert_string_equal(t->log, "ERE");
	assert_int_equal(t->when[1], t->when[2]);
	assert_int_equal(t->ev[2], BEV_EVENT_EOF | BEV_EVENT_READING);
}

/* The same with the cio (and the heap object that embeds it) freed in
 * readcb: the queued EOF must never reach it (ASan sees a use). */
static void
test_cio__free_in_readcb(void **state)
{
	struct t	*t = *state;
	char		 buf[512];
	ssize_t		 r;

	assert_non_null(t->holder = calloc(1, sizeof(*t->holder)));
	t->free_in_readcb = 1;
	record_then_eof(t, &t->holder->io);
	assert_string_equal(t->log, "ER");
	assert_null(t->iop);
	assert_null(t->holder);
	/* The fd is closed: after what the server sent, EOF. */
	while ((r = read(t->peer, buf, sizeof(buf))) > 0)
		;
	assert_int_equal(r, 0);
}

static void
test_cio__write_flushed_by_loop(void **state)
{
	struct t	*t = *state;
	char		 buf[16];

	pair(t);
	cio_enable(&t->io, EV_READ | EV_WRITE);
	assert_int_equal(evbuffer_add(t->io.out, "ping", 4), 0);
	assert_int_equal(evbuffer_add(t->io.out, "pong", 4), 0);
	assert_no_more(t->peer);		/* not before the loop runs */
	assert_int_equal(t->nlog, 0);
	pump(t, 1);
	assert_int_equal(read(t->peer, buf, sizeof(buf)), 8);
	assert_memory_equal(buf, "pingpong", 8);
	assert_string_equal(t->log, "W");
	assert_int_equal(evbuffer_get_length(t->io.out), 0);
	pump(t, 3);
	assert_string_equal(t->log, "W");
	assert_no_more(t->peer);
}

/*
 * 4 MiB into a socket nobody reads: written up to full, then blocked with
 * no writecb; as the peer reads, writecb comes once the output is down to
 * the low watermark (half), then once more when it is empty.
 */
static void
test_cio__write_large(void **state)
{
	struct t	*t = *state;
	unsigned char	*src, *dst;
	size_t		 left;

	assert_non_null(src = t->src = malloc(BIG));
	assert_non_null(dst = t->dst = malloc(BIG));
	fill(src, BIG);
	pair(t);
	cio_set_watermarks(&t->io, 0, BIG / 2);
	cio_enable(&t->io, EV_READ | EV_WRITE);
	assert_int_equal(evbuffer_add(t->io.out, src, BIG), 0);
	pump(t, 1);
	left = evbuffer_get_length(t->io.out);
	assert_true(left > BIG / 2 && left < BIG);
	pump(t, 3);
	assert_int_equal(evbuffer_get_length(t->io.out), left);
	assert_int_equal(t->nlog, 0);
	get(t, t->peer, dst, BIG / 2);
	UNTIL(t, t->nlog == 1);
	assert_string_equal(t->log, "W");
	assert_true(evbuffer_get_length(t->io.out) <= BIG / 2);
	cio_set_watermarks(&t->io, 0, 0);
	get(t, t->peer, dst + BIG / 2, BIG - BIG / 2);
	UNTIL(t, t->nlog == 2);
	assert_string_equal(t->log, "WW");
	assert_int_equal(evbuffer_get_length(t->io.out), 0);
	assert_memory_equal(src, dst, BIG);
	pump(t, 2);
	assert_no_more(t->peer);
	assert_int_equal(t->nlog, 2);
}

static void
test_cio__read_high_watermark(void **state)
{
	struct t	*t = *state;
	unsigned char	 src[65536], dst[65536];
	size_t		 got = 0, n;

	fill(src, sizeof(src));
	pair(t);
	cio_set_watermarks(&t->io, 4096, 0);
	cio_enable(&t->io, EV_READ);
	put(t->peer, src, sizeof(src));
	UNTIL(t, t->nlog == 1);
	assert_int_equal(evbuffer_get_length(t->io.in), 4096);
	/* Paused: nothing more is read while the input is full. */
	pump(t, 4);
	assert_string_equal(t->log, "R");
	assert_int_equal(evbuffer_get_length(t->io.in), 4096);
	while (got < sizeof(dst) && now_ms() < t->deadline) {
		n = evbuffer_get_length(t->io.in);
		assert_true(n <= 4096 && n <= sizeof(dst) - got);
		assert_int_equal(evbuffer_remove(t->io.in, dst + got, n),
		    (int)n);
		got += n;
		pump(t, 1);
		assert_true(t->inlen > 0 && t->inlen <= 4096);
	}
	assert_int_equal(got, sizeof(dst));
	assert_memory_equal(src, dst, sizeof(dst));
	assert_int_equal(t->nlog, 16);		/* 64 KiB / 4 KiB */
	assert_null(strchr(t->log, 'E'));
}

static void
test_cio__read_timeout(void **state)
{
	struct t	*t = *state;
	uint64_t	 t0, dt;

	pair(t);
	cio_set_timeouts(&t->io, 100, 0);
	t0 = now_ms();
	cio_enable(&t->io, EV_READ);
	UNTIL(t, t->nlog == 1);
	dt = t->ev_ms - t0;
	assert_in_range(dt, 80, 1000);
	assert_string_equal(t->log, "E");
	assert_int_equal(t->ev[0], BEV_EVENT_TIMEOUT | BEV_EVENT_READING);
	/* Reading is now off. */
	put(t->peer, "x", 1);
	pump(t, 5);
	assert_int_equal(t->nlog, 1);
	assert_int_equal(evbuffer_get_length(t->io.in), 0);
	cio_enable(&t->io, EV_READ);
	UNTIL(t, t->nlog == 2);
	assert_string_equal(t->log, "ER");
	assert_int_equal(evbuffer_get_length(t->io.in), 1);
}

static void
test_cio__write_timeout(void **state)
{
	struct t	*t = *state;
	unsigned char	*src;
	uint64_t	 t0, dt;

	assert_non_null(src = t->src = calloc(1, BIG));
	pair(t);
	cio_set_timeouts(&t->io, 0, 150);
	cio_enable(&t->io, EV_READ | EV_WRITE);
	t0 = now_ms();
	assert_int_equal(evbuffer_add(t->io.out, src, BIG), 0);
	UNTIL(t, t->nlog == 1);
	dt = t->ev_ms - t0;
	assert_in_range(dt, 120, 1000);
	assert_string_equal(t->log, "E");
	assert_int_equal(t->ev[0], BEV_EVENT_TIMEOUT | BEV_EVENT_WRITING);
	assert_true(evbuffer_get_length(t->io.out) > 0);
	pump(t, 5);
	assert_int_equal(t->nlog, 1);
}

static void
test_cio__disable_enable_read(void **state)
{
	struct t	*t = *state;
	char		 buf[8];

	pair(t);
	cio_enable(&t->io, EV_READ);
	cio_disable(&t->io, EV_READ);
	put(t->peer, "abc", 3);
	pump(t, 5);
	assert_int_equal(t->nlog, 0);
	assert_int_equal(evbuffer_get_length(t->io.in), 0);
	cio_enable(&t->io, EV_READ);
	UNTIL(t, t->nlog == 1);
	assert_string_equal(t->log, "R");
	assert_int_equal(evbuffer_remove(t->io.in, buf, sizeof(buf)), 3);
	assert_memory_equal(buf, "abc", 3);
}

/* A cio on a fresh non-blocking socket of family af. */
static void
connecting(struct t *t, int af)
{
	int	 fd;

	fd = socket(af, SOCK_STREAM | SOCK_NONBLOCK, 0);
	assert_int_not_equal(fd, -1);
	assert_int_equal(cio_init(&t->io, t->base, fd, NULL), 0);
	t->iop = &t->io;
	cio_setcb(&t->io, readcb, writecb, eventcb, t);
}

/* Connect, queue output at once, expect CONNECTED then W from the loop;
 * the accepting end gets the output and can answer. */
static void
connect_ok(struct t *t, int lfd, const struct sockaddr *sa, socklen_t len)
{
	char	 buf[8];
	int	 afd = -1;

	assert_int_equal(cio_connect(&t->io, sa, len), 0);
	cio_enable(&t->io, EV_READ | EV_WRITE);
	assert_int_equal(evbuffer_add(t->io.out, "hello", 5), 0);
	assert_int_equal(t->nlog, 0);		/* nothing synchronous */
	UNTIL(t, t->nlog == 2);
	assert_string_equal(t->log, "EW");
	assert_int_equal(t->ev[0], BEV_EVENT_CONNECTED);
	while (afd == -1 && now_ms() < t->deadline)
		if ((afd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) == -1)
			pump(t, 1);
	assert_int_not_equal(afd, -1);
	get(t, afd, buf, 5);
	assert_memory_equal(buf, "hello", 5);
	put(afd, "pong", 4);
	UNTIL(t, t->nlog == 3);
	assert_string_equal(t->log, "EWR");
	assert_int_equal(evbuffer_remove(t->io.in, buf, sizeof(buf)), 4);
	assert_memory_equal(buf, "pong", 4);
	close(afd);
	close(lfd);
}

static void
connect_refused(struct t *t, const struct sockaddr *sa, socklen_t len,
    int check_errno)
{
	assert_int_equal(cio_connect(&t->io, sa, len), 0);
	cio_enable(&t->io, EV_READ | EV_WRITE);
	assert_int_equal(evbuffer_add(t->io.out, "hello", 5), 0);
	assert_int_equal(t->nlog, 0);
	UNTIL(t, t->nlog == 1);
	assert_string_equal(t->log, "E");
	assert_int_equal(t->ev[0], BEV_EVENT_ERROR);
	if (check_errno)
		assert_int_equal(t->ev_errno, ECONNREFUSED);
	pump(t, 3);
	assert_int_equal(t->nlog, 1);
}

static int
tcp_listener(struct sockaddr_in *sin, int do_listen)
{
	socklen_t	 len = sizeof(*sin);
	int		 fd;

	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	assert_int_not_equal(fd, -1);
	assert_int_equal(bind(fd, (struct sockaddr *)sin, sizeof(*sin)), 0);
	if (do_listen)
		assert_int_equal(listen(fd, 4), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)sin, &len), 0);
	assert_int_not_equal(sin->sin_port, 0);
	return (fd);
}

static void
test_cio__connect_tcp(void **state)
{
	struct t		*t = *state;
	struct sockaddr_in	 sin;
	int			 lfd;

	lfd = tcp_listener(&sin, 1);
	connecting(t, AF_INET);
	connect_ok(t, lfd, (struct sockaddr *)&sin, sizeof(sin));
}

static void
test_cio__connect_tcp_refused(void **state)
{
	struct t		*t = *state;
	struct sockaddr_in	 sin;

	close(tcp_listener(&sin, 0));
	connecting(t, AF_INET);
	connect_refused(t, (struct sockaddr *)&sin, sizeof(sin), 1);
}

/*
 * Writing turned off while the connect is in flight: the result still
 * comes (the write event carries it), and output queued meanwhile waits
 * without the write event spinning until writing is turned on.
 */
static void
test_cio__connect_write_disabled(void **state)
{
	struct t		*t = *state;
	struct sockaddr_in	 sin;
	char			 buf[8];
	int			 lfd, afd = -1;

	lfd = tcp_listener(&sin, 1);
	connecting(t, AF_INET);
	cio_set_timeouts(&t->io, 0, 1000);
	assert_int_equal(cio_connect(&t->io, (struct sockaddr *)&sin,
	    sizeof(sin)), 0);
	cio_enable(&t->io, EV_READ);
	cio_disable(&t->io, EV_WRITE);
	assert_int_equal(evbuffer_add(t->io.out, "late", 4), 0);
	UNTIL(t, t->nlog == 1);
	assert_string_equal(t->log, "E");
	assert_int_equal(t->ev[0], BEV_EVENT_CONNECTED);
	while (afd == -1 && now_ms() < t->deadline)
		if ((afd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) == -1)
			pump(t, 1);
	assert_int_not_equal(afd, -1);
	/* Not written while writing is off, and no timeout either. */
	pump(t, 5);
	assert_int_equal(evbuffer_get_length(t->io.out), 4);
	assert_int_equal(t->nlog, 1);
	cio_enable(&t->io, EV_WRITE);
	get(t, afd, buf, 4);
	assert_memory_equal(buf, "late", 4);
	close(afd);
	close(lfd);
}

/* An abstract AF_UNIX address unique to this process. */
static socklen_t
unix_addr(struct sockaddr_un *sun)
{
	int	 n;

	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	n = snprintf(sun->sun_path + 1, sizeof(sun->sun_path) - 1,
	    "gridfront-test-cio-%ld", (long)getpid());
	return ((socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
	    (size_t)n));
}

/* AF_UNIX connect(2) is refused or succeeds at once: the result still
 * comes from the loop. */
static void
test_cio__connect_unix(void **state)
{
	struct t		*t = *state;
	struct sockaddr_un	 sun;
	socklen_t		 len;
	int			 lfd;

	len = unix_addr(&sun);
	connecting(t, AF_UNIX);
	connect_refused(t, (struct sockaddr *)&sun, len, 1);
	cio_free(t->iop);
	t->nlog = 0;
	memset(t->log, 0, sizeof(t->log));
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
	assert_int_not_equal(lfd, -1);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sun, len), 0);
	assert_int_equal(listen(lfd, 4), 0);
	connecting(t, AF_UNIX);
	connect_ok(t, lfd, (struct sockaddr *)&sun, len);
}

/* A throwaway server context: EC P-256 key, self-signed certificate. */
static SSL_CTX *
tls_server_ctx(void)
{
	EVP_PKEY	*pk;
	X509		*x;
	X509_NAME	*nm;
	SSL_CTX		*ctx;

	assert_non_null(pk = EVP_EC_gen("P-256"));
	assert_non_null(x = X509_new());
	nm = X509_get_subject_name(x);
	assert_true(X509_set_version(x, 2) == 1 &&
	    ASN1_INTEGER_set(X509_get_serialNumber(x), 1) == 1 &&
	    X509_gmtime_adj(X509_getm_notBefore(x), -60) != NULL &&
	    X509_gmtime_adj(X509_getm_notAfter(x), 3600) != NULL &&
	    X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC,
	    (const unsigned char *)"localhost", -1, -1, 0) == 1 &&
	    X509_set_issuer_name(x, nm) == 1 &&
	    X509_set_pubkey(x, pk) == 1 &&
	    X509_sign(x, pk, EVP_sha256()) > 0);
	assert_non_null(ctx = SSL_CTX_new(TLS_server_method()));
	assert_true(SSL_CTX_use_certificate(ctx, x) == 1 &&
	    SSL_CTX_use_PrivateKey(ctx, pk) == 1);
	X509_free(x);
	EVP_PKEY_free(pk);
	return (ctx);
}

/*
 * A TLS session between io (server side, over a socketpair) and a client
 * SSL in t->cl driven by hand, handshake done: t->log is "E" (CONNECTED).
 */
static void
tls_pair(struct t *t, struct cio *io)
{
	SSL	*ssl;
	int	 sv[2], r, done = 0;

	t->sctx = tls_server_ctx();
	assert_non_null(t->cctx = SSL_CTX_new(TLS_client_method()));
	SSL_CTX_set_verify(t->cctx, SSL_VERIFY_NONE, NULL);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
	    sv), 0);
	assert_non_null(ssl = SSL_new(t->sctx));
	assert_int_equal(cio_init(io, t->base, sv[0], ssl), 0);
	t->iop = io;
	t->peer = sv[1];
	cio_setcb(io, readcb, writecb, eventcb, t);
	cio_enable(io, EV_READ | EV_WRITE);
	assert_non_null(t->cl = SSL_new(t->cctx));
	assert_int_equal(SSL_set_fd(t->cl, sv[1]), 1);
	SSL_set_connect_state(t->cl);
	while ((!done || t->nlog == 0) && now_ms() < t->deadline) {
		if (!done && (r = SSL_do_handshake(t->cl)) != 1)
			assert_int_equal(SSL_get_error(t->cl, r),
			    SSL_ERROR_WANT_READ);
		else
			done = 1;
		pump(t, 1);
	}
	assert_true(done);
	assert_string_equal(t->log, "E");
	assert_int_equal(t->ev[0], BEV_EVENT_CONNECTED);
}

static void
test_cio__tls(void **state)
{
	static const char	 req[] = "GET / HTTP/1.1\r\n\r\n";
	static const char	 resp[] = "HTTP/1.1 204 No Content\r\n\r\n";
	struct t		*t = *state;
	SSL			*cl;
	char			 buf[64];
	size_t			 got = 0;
	int			 r;

	tls_pair(t, &t->io);
	cl = t->cl;

	assert_int_equal(SSL_write(cl, req, sizeof(req) - 1),
	    (int)sizeof(req) - 1);
	UNTIL(t, evbuffer_get_length(t->io.in) == sizeof(req) - 1);
	assert_string_equal(t->log, "ER");
	assert_int_equal(evbuffer_remove(t->io.in, buf, sizeof(buf)),
	    (int)sizeof(req) - 1);
	assert_memory_equal(buf, req, sizeof(req) - 1);

	assert_int_equal(evbuffer_add(t->io.out, resp, sizeof(resp) - 1), 0);
	while (got < sizeof(resp) - 1 && now_ms() < t->deadline) {
		pump(t, 1);
		if ((r = SSL_read(cl, buf + got, (int)(sizeof(buf) - got))) > 0)
			got += (size_t)r;
		else
			assert_int_equal(SSL_get_error(cl, r),
			    SSL_ERROR_WANT_READ);
	}
	assert_int_equal(got, sizeof(resp) - 1);
	assert_memory_equal(buf, resp, sizeof(resp) - 1);
	assert_string_equal(t->log, "ERW");

	/* close_notify from the client: EOF. */
	assert_true(SSL_shutdown(cl) >= 0);
	UNTIL(t, t->nlog == 4);
	assert_string_equal(t->log, "ERWE");
	assert_int_equal(t->ev[3], BEV_EVENT_EOF | BEV_EVENT_READING);
}

/*
 * Bytes OpenSSL has read ahead raise no readiness event (the socket is
 * drained), so when reading may go on again, through the high watermark
 * or by turning reading off and on, they are delivered without any
 * further byte from the peer.
 */
static void
test_cio__tls_pending_after_pause(void **state)
{
	struct t	*t = *state;
	size_t		 len = 3 * 8192, off = 0;
	unsigned char	*buf;

	assert_non_null(buf = malloc(len));
	t->src = buf;
	fill(buf, len);
	tls_pair(t, &t->io);
	cio_set_watermarks(&t->io, 8192, 0);
	while (off < len) {
		assert_int_equal(SSL_write(t->cl, buf + off, 8192), 8192);
		off += 8192;
	}
	UNTIL(t, evbuffer_get_length(t->io.in) == 8192);
	pump(t, 3);
	assert_int_equal(evbuffer_get_length(t->io.in), 8192);
	cio_disable(&t->io, EV_READ);
	evbuffer_drain(t->io.in, 8192);
	pump(t, 3);
	assert_int_equal(evbuffer_get_length(t->io.in), 0);
	cio_enable(&t->io, EV_READ);
	UNTIL(t, evbuffer_get_length(t->io.in) == 8192);
	evbuffer_drain(t->io.in, 8192);
	UNTIL(t, evbuffer_get_length(t->io.in) == 8192);
}

/*
 * A bulk stream reads on until the socket is empty, up to a cap per loop
 * pass (256 KiB).  When the cap falls with a whole record left in
 * OpenSSL's read-ahead buffer and nothing more on the socket (the client
 * sent all and waits), that record must come in the next pass, not after
 * a timeout.  All of it is on the socket before the cio reads: two full
 * records (after which a pass reads on), 15 of 16,000 bytes (so
 * read-ahead takes a record and the start of the next: the cap falls
 * after the last of them, with the short final record already read
 * ahead), and 100 bytes.
 */
static void
test_cio__tls_bulk_cap_pending(void **state)
{
	struct t	*t = *state;
	size_t		 rec = 16000, n = 15, tail = 100, len, off = 0;
	unsigned char	*buf, *out;
	int		 sz = 4 << 20;

	len = 2 * 16384 + n * rec + tail;
	assert_non_null(buf = malloc(len));
	t->src = buf;
	assert_non_null(out = malloc(len));
	t->dst = out;
	fill(buf, len);
	tls_pair(t, &t->io);
	/* Room for all of it on the socket (capped by net.core.wmem_max,
	 * which leaves about 400 KiB). */
	assert_int_equal(setsockopt(t->peer, SOL_SOCKET, SO_SNDBUF, &sz,
	    sizeof(sz)), 0);
	while (off < len) {
		size_t	 w = off < 2 * 16384 ? 16384 : len - off < rec ?
		    len - off : rec;

		assert_int_equal(SSL_write(t->cl, buf + off, (int)w), (int)w);
		off += w;
	}
	UNTIL(t, evbuffer_get_length(t->io.in) == len);
	assert_int_equal(evbuffer_remove(t->io.in, out, len), (int)len);
	assert_memory_equal(out, buf, len);
}

/*
 * Client mode (TLS to backends): a cio that connects over TCP and then
 * runs the client handshake; the write timeout set for the connect
 * bounds the handshake too.  The server end is an SSL driven by hand.
 */
static void
tls_client(struct t *t, const struct sockaddr_in *sin, unsigned timeout_ms)
{
	SSL	*ssl;
	int	 fd;

	t->sctx = tls_server_ctx();
	assert_non_null(t->cctx = SSL_CTX_new(TLS_client_method()));
	SSL_CTX_set_verify(t->cctx, SSL_VERIFY_NONE, NULL);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	assert_int_not_equal(fd, -1);
	assert_non_null(ssl = SSL_new(t->cctx));
	assert_int_equal(cio_init(&t->io, t->base, fd, ssl), 0);
	t->iop = &t->io;
	assert_int_equal(cio_tls_client(&t->io), 0);
	cio_setcb(&t->io, readcb, writecb, eventcb, t);
	cio_set_timeouts(&t->io, 0, timeout_ms);
	assert_int_equal(cio_connect(&t->io, (const struct sockaddr *)sin,
	    sizeof(*sin)), 0);
	cio_enable(&t->io, EV_READ | EV_WRITE);
}

/* CONNECTED comes once the handshake is done, not at the TCP connect;
 * then data goes both ways encrypted. */
static void
test_cio__tls_client(void **state)
{
	struct t		*t = *state;
	struct sockaddr_in	 sin;
	char			 buf[8];
	size_t			 got = 0;
	int			 lfd, r, done = 0;

	lfd = tcp_listener(&sin, 1);
	tls_client(t, &sin, 1000);
	while (t->peer == -1 && now_ms() < t->deadline)
		if ((t->peer = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) == -1)
			pump(t, 1);
	assert_int_not_equal(t->peer, -1);
	pump(t, 3);
	assert_int_equal(t->nlog, 0);		/* TCP only: not yet */
	assert_non_null(t->cl = SSL_new(t->sctx));
	assert_int_equal(SSL_set_fd(t->cl, t->peer), 1);
	SSL_set_accept_state(t->cl);
	while ((!done || t->nlog == 0) && now_ms() < t->deadline) {
		if (!done && (r = SSL_do_handshake(t->cl)) != 1)
			assert_int_equal(SSL_get_error(t->cl, r),
			    SSL_ERROR_WANT_READ);
		else
			done = 1;
		pump(t, 1);
	}
	assert_string_equal(t->log, "E");
	assert_int_equal(t->ev[0], BEV_EVENT_CONNECTED);
	assert_int_equal(evbuffer_add(t->io.out, "ping", 4), 0);
	while (got < 4 && now_ms() < t->deadline) {
		pump(t, 1);
		if ((r = SSL_read(t->cl, buf + got, (int)(4 - got))) > 0)
			got += (size_t)r;
		else
			assert_int_equal(SSL_get_error(t->cl, r),
			    SSL_ERROR_WANT_READ);
	}
	assert_int_equal(got, 4);
	assert_memory_equal(buf, "ping", 4);
	assert_int_equal(SSL_write(t->cl, "pong", 4), 4);
	UNTIL(t, evbuffer_get_length(t->io.in) == 4);
	assert_int_equal(evbuffer_remove(t->io.in, buf, sizeof(buf)), 4);
	assert_memory_equal(buf, "pong", 4);
	close(lfd);
}

/* A peer that takes the connection and never answers the ClientHello:
 * the connect timeout ends the handshake (TIMEOUT|READING), once. */
static void
test_cio__tls_client_handshake_timeout(void **state)
{
	struct t		*t = *state;
	struct sockaddr_in	 sin;
	uint64_t		 t0 = now_ms();
	int			 lfd;

	lfd = tcp_listener(&sin, 1);	/* the kernel accepts for us */
	tls_client(t, &sin, 300);
	UNTIL(t, t->nlog == 1);
	assert_string_equal(t->log, "E");
	assert_int_equal(t->ev[0], BEV_EVENT_TIMEOUT | BEV_EVENT_READING);
	assert_true(t->ev_ms - t0 >= 280);
	pump(t, 3);
	assert_int_equal(t->nlog, 1);
	close(lfd);
}

#define T(f)	cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_cio__read_then_eof),
		T(test_cio__record_and_eof_same_pass),
		T(test_cio__free_in_readcb),
		T(test_cio__write_flushed_by_loop),
		T(test_cio__write_large),
		T(test_cio__read_high_watermark),
		T(test_cio__read_timeout),
		T(test_cio__write_timeout),
		T(test_cio__disable_enable_read),
		T(test_cio__connect_tcp),
		T(test_cio__connect_tcp_refused),
		T(test_cio__connect_write_disabled),
		T(test_cio__connect_unix),
		T(test_cio__tls),
		T(test_cio__tls_pending_after_pause),
		T(test_cio__tls_bulk_cap_pending),
		T(test_cio__tls_client),
		T(test_cio__tls_client_handshake_timeout),
	};

	signal(SIGPIPE, SIG_IGN);
	return (cmocka_run_group_tests_name("cio", tests, NULL, NULL));
}
