/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * origin: the backend behind every proxy in the benchmark.  It must cost as
 * little CPU per request as possible, because it shares a core with the
 * load generator: one thread, level-triggered epoll, a fixed buffer per
 * connection, request heads parsed in place, request bodies (Content-Length
 * or chunked) read and thrown away, and response bodies written from one
 * static buffer.  The response size comes from the target: any path with a
 * "/size/N" segment (N may end in k or m) gets an N-byte body, anything
 * else --size bytes.  "/__stats" answers JSON counters (connections
 * accepted, requests served), which is how run.sh checks that a proxy pools
 * its upstream connections.  --require-header NAME answers 400 to a request
 * that lacks NAME, so that a peer which does not add its headers shows up
 * as errors.  A target with an "echo=TOKEN" query parameter gets TOKEN back
 * in an X-Echo-Token response header, which is how loadgen --check-token
 * tells that every h2 stream got its own answer (--echo-stale echoes the
 * previous request's token instead: a mixed-up proxy, to prove that the
 * check catches one).  With --tls-cert/--tls-key it serves TLS instead (the
 * ka-50-tls-upstream scenario's https origin; sessions and tickets on, the
 * response head and a small body in one record).  Not part of gridfront;
 * tests/e2e/backend is the test backend.
 */

#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "bench/hdrscan.h"

#define OBUF_SIZE	(16 * 1024)	/* per connection: request heads */
#define SCRATCH_SIZE	(256 * 1024)	/* body bytes discarded per read */
#define BODY_CHUNK	(256 * 1024)	/* static response body source */
#define MAX_EVENTS	256
#define ECHO_MAX	32		/* echo= token length */

enum ostate {
	OS_HEAD = 0,
	OS_BODY_CL,
	OS_CHUNK_SIZE,
	OS_CHUNK_EXT,
	OS_CHUNK_DATA,
	OS_CHUNK_CRLF,
	OS_TRAILER,
	OS_WRITE
};

struct oconn {
	int		 fd;
	SSL		*ssl;		/* --tls-cert: NULL until accepted */
	enum ostate	 st;
	int		 close_after;
	int		 out;		/* registered for EPOLLOUT */
	int		 bad;		/* answer 400 after the body */
	int		 stats;		/* answer /__stats */
	int		 digits;
	unsigned	 linelen;
	uint64_t	 remain;	/* request body bytes left */
	uint64_t	 size;		/* response body size */
	size_t		 len, pos;
	/* Response being written. */
	char		 head[256];
	size_t		 headlen, headoff;
	uint64_t	 bodyoff;
	uint64_t	 cached_size;	/* head[] is valid for this size */
	int		 cached_close;
	char		 echo[ECHO_MAX + 1];	/* echo= token, "" if none */
	char		 buf[OBUF_SIZE];
};

static char		 scratch[SCRATCH_SIZE];	/* TLS bodies decrypt here */
static char		 body_src[BODY_CHUNK];
static uint64_t		 default_size = 100;
static const char	*require_header;
static int		 echo_stale;		/* --echo-stale */
static char		 stale[ECHO_MAX + 1];	/* previous echo= token */
static size_t		 require_len;
static volatile sig_atomic_t stop;
static int		 epfd;
static uint64_t		 n_accepted, n_requests, n_bad;
static SSL_CTX		*tls_ctx;

/* The socket calls, through TLS when it is on.  Errors come back as the
 * plain calls' (-1 and errno; EAGAIN for a TLS want). */
static ssize_t
tls_result(struct oconn *c, int r)
{
	switch (SSL_get_error(c->ssl, r)) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		errno = EAGAIN;
		return (-1);
	case SSL_ERROR_ZERO_RETURN:
		return (0);
	default:
		ERR_clear_error();
		errno = EPIPE;
		return (-1);
	}
}

static ssize_t
o_read(struct oconn *c, void *buf, size_t n)
{
	int	 r;

	if (c->ssl == NULL)
		return (read(c->fd, buf, n));
	if ((r = SSL_read(c->ssl, buf, (int)(n > INT32_MAX ? INT32_MAX : n))) > 0)
		return (r);
	return (tls_result(c, r));
}

/* More to read without a readiness event: bytes OpenSSL holds. */
static int
o_pending(struct oconn *c)
{
	return (c->ssl != NULL && SSL_pending(c->ssl) > 0);
}

static ssize_t
o_writev(struct oconn *c, const struct iovec *iov, int niov)
{
	char	 one[16384];
	size_t	 tot = 0;
	int	 i, r;

	if (c->ssl == NULL)
		return (writev(c->fd, iov, niov));
	/* A small response goes out as one record. */
	for (i = 0; i < niov; i++)
		tot += iov[i].iov_len;
	if (niov > 1 && tot <= sizeof(one)) {
		for (tot = 0, i = 0; i < niov; i++) {
			memcpy(one + tot, iov[i].iov_base, iov[i].iov_len);
			tot += iov[i].iov_len;
		}
		if ((r = SSL_write(c->ssl, one, (int)tot)) > 0)
			return (r);
		return (tls_result(c, r));
	}
	r = SSL_write(c->ssl, iov[0].iov_base, (int)(iov[0].iov_len >
	    INT32_MAX ? INT32_MAX : iov[0].iov_len));
	if (r > 0)
		return (r);
	return (tls_result(c, r));
}

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void
ep_mod(struct oconn *c, uint32_t events)
{
	struct epoll_event ev;

	ev.events = events;
	ev.data.ptr = c;
	(void)epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

static void
oconn_close(struct oconn *c)
{
	SSL_free(c->ssl);
	close(c->fd);	/* also removes it from the epoll set */
	free(c);
}

static uint64_t
parse_size(const char *p, const char *e)
{
	uint64_t v = 0;

	while (p < e && *p >= '0' && *p <= '9')
		v = v * 10 + (uint64_t)(*p++ - '0');
	if (p < e && (*p == 'k' || *p == 'K'))
		v <<= 10;
	else if (p < e && (*p == 'm' || *p == 'M'))
		v <<= 20;
	return (v);
}

/* The "echo=" query parameter of target [t, e), if any, into c->echo;
 * only a short token of [A-Za-z0-9._-] is echoed. */
static void
parse_echo(struct oconn *c, const char *t, const char *e)
{
	const char *q = memchr(t, '?', (size_t)(e - t)), *p;
	size_t n;

	c->echo[0] = '\0';
	for (p = q; p != NULL && p < e; p = memchr(p + 1, '&',
	    (size_t)(e - p - 1))) {
		if ((size_t)(e - p) <= 6 || memcmp(p + 1, "echo=", 5) != 0)
			continue;
		p += 6;
		n = strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "abcdefghijklmnopqrstuvwxyz0123456789._-");
		if (n > (size_t)(e - p))
			n = (size_t)(e - p);
		if (n > 0 && n <= ECHO_MAX && (p + n == e || p[n] == '&')) {
			memcpy(c->echo, p, n);
			c->echo[n] = '\0';
		}
		return;
	}
}

/* Parse the request head in buf[pos, hend).  Returns -1 on garbage. */
static int
parse_request(struct oconn *c, size_t hend, int *expect100)
{
	const char *p = c->buf + c->pos, *e = c->buf + hend, *le, *sp, *t;
	const char *v;
	int have_req = require_header == NULL, http10 = 0, ka = 0;

	c->close_after = 0;
	c->bad = 0;
	c->stats = 0;
	c->remain = 0;
	c->size = default_size;
	*expect100 = 0;
	if ((le = memchr(p, '\n', (size_t)(e - p))) == NULL)
		return (-1);
	/* METHOD SP target SP HTTP/1.x */
	if ((sp = memchr(p, ' ', (size_t)(le - p))) == NULL)
		return (-1);
	t = sp + 1;
	if ((sp = memchr(t, ' ', (size_t)(le - t))) == NULL)
		return (-1);
	if ((size_t)(le - sp) >= 9 && memcmp(sp + 1, "HTTP/1.0", 8) == 0)
		http10 = 1;
	if ((size_t)(sp - t) == 8 && memcmp(t, "/__stats", 8) == 0)
		c->stats = 1;
	else {
		const char *s = memmem(t, (size_t)(sp - t), "/size/", 6);

		if (s != NULL)
			c->size = parse_size(s + 6, sp);
	}
	parse_echo(c, t, sp);
	c->st = OS_BODY_CL;
	for (p = le + 1; p < e; p = le + 1) {
		if ((le = memchr(p, '\n', (size_t)(e - p))) == NULL)
			break;
		if (!have_req && hdr_value(p, le, require_header, require_len))
			have_req = 1;
		if ((v = hdr_value(p, le, "content-length", 14)) != NULL)
			c->remain = parse_size(v, le);
		else if ((v = hdr_value(p, le, "transfer-encoding", 17)) != NULL) {
			if (hdr_has_token(v, le, "chunked")) {
				c->st = OS_CHUNK_SIZE;
				c->digits = 0;
			}
		} else if ((v = hdr_value(p, le, "connection", 10)) != NULL) {
			if (hdr_has_token(v, le, "close"))
				c->close_after = 1;
			if (hdr_has_token(v, le, "keep-alive"))
				ka = 1;
		} else if ((v = hdr_value(p, le, "expect", 6)) != NULL)
			*expect100 = hdr_has_token(v, le, "100-continue");
	}
	if (http10 && !ka)
		c->close_after = 1;
	if (!have_req)
		c->bad = 1;
	if (c->st == OS_CHUNK_SIZE)
		c->remain = 0;
	return (0);
}

static int
hexv(int ch)
{
	if (ch >= '0' && ch <= '9')
		return (ch - '0');
	ch |= 0x20;
	if (ch >= 'a' && ch <= 'f')
		return (ch - 'a' + 10);
	return (-1);
}

/*
 * Consume request body bytes from buf[pos, len).  Returns 1 when the body
 * is complete, 0 when more is needed, -1 on a framing error.
 */
static int
consume_body(struct oconn *c)
{
	size_t take;
	int d;

	for (;;) {
		switch (c->st) {
		case OS_BODY_CL:
		case OS_CHUNK_DATA:
			take = c->len - c->pos;
			if (take > c->remain)
				take = (size_t)c->remain;
			c->pos += take;
			c->remain -= take;
			if (c->remain > 0)
				return (0);
			if (c->st == OS_BODY_CL)
				return (1);
			c->st = OS_CHUNK_CRLF;
			break;
		case OS_CHUNK_SIZE:
		case OS_CHUNK_EXT:
			while (c->pos < c->len) {
				char ch = c->buf[c->pos++];

				if (ch == '\n') {
					if (c->digits == 0)
						return (-1);
					c->st = c->remain ? OS_CHUNK_DATA :
					    OS_TRAILER;
					c->linelen = 0;
					break;
				}
				if (c->st == OS_CHUNK_EXT || ch == '\r')
					continue;
				if ((d = hexv(ch)) >= 0 && c->digits < 15) {
					c->remain = c->remain * 16 +
					    (uint64_t)d;
					c->digits++;
				} else if (ch == ';' || ch == ' ')
					c->st = OS_CHUNK_EXT;
				else
					return (-1);
			}
			if (c->pos == c->len && (c->st == OS_CHUNK_SIZE ||
			    c->st == OS_CHUNK_EXT))
				return (0);
			break;
		case OS_CHUNK_CRLF:
			while (c->pos < c->len) {
				char ch = c->buf[c->pos++];

				if (ch == '\n') {
					c->st = OS_CHUNK_SIZE;
					c->digits = 0;
					c->remain = 0;
					break;
				}
				if (ch != '\r')
					return (-1);
			}
			if (c->st == OS_CHUNK_CRLF)
				return (0);
			break;
		case OS_TRAILER:
			while (c->pos < c->len) {
				char ch = c->buf[c->pos++];

				if (ch == '\n') {
					if (c->linelen == 0)
						return (1);
					c->linelen = 0;
				} else if (ch != '\r')
					c->linelen++;
			}
			return (0);
		default:
			return (-1);
		}
	}
}

static void
prepare_response(struct oconn *c)
{
	n_requests++;
	c->headoff = 0;
	c->bodyoff = 0;
	if (c->stats) {
		char body[160];
		int bl = snprintf(body, sizeof(body), "{\"accepted\":%" PRIu64
		    ",\"requests\":%" PRIu64 ",\"bad\":%" PRIu64 "}\n",
		    n_accepted, n_requests, n_bad);

		c->headlen = (size_t)snprintf(c->head, sizeof(c->head),
		    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
		    "Content-Length: %d\r\n%s\r\n%s", bl,
		    c->close_after ? "Connection: close\r\n" : "", body);
		c->size = 0;
		c->cached_size = UINT64_MAX;
	} else if (c->bad) {
		n_bad++;
		c->headlen = (size_t)snprintf(c->head, sizeof(c->head),
		    "HTTP/1.1 400 Bad Request\r\nContent-Length: 16\r\n"
		    "%s\r\nmissing header\r\n",
		    c->close_after ? "Connection: close\r\n" : "");
		c->size = 0;
		c->cached_size = UINT64_MAX;
	} else if (c->echo[0] != '\0') {
		if (echo_stale && stale[0] != '\0') {
			char cur[ECHO_MAX + 1];

			memcpy(cur, c->echo, sizeof(cur));
			memcpy(c->echo, stale, sizeof(stale));
			memcpy(stale, cur, sizeof(stale));
		} else if (echo_stale)
			memcpy(stale, c->echo, sizeof(stale));
		/* A head of its own for this one answer. */
		c->headlen = (size_t)snprintf(c->head, sizeof(c->head),
		    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
		    "Content-Length: %" PRIu64 "\r\nX-Echo-Token: %s\r\n%s\r\n",
		    c->size, c->echo,
		    c->close_after ? "Connection: close\r\n" : "");
		c->cached_size = UINT64_MAX;
	} else if (c->size != c->cached_size ||
	    c->close_after != c->cached_close) {
		c->headlen = (size_t)snprintf(c->head, sizeof(c->head),
		    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
		    "Content-Length: %" PRIu64 "\r\n%s\r\n", c->size,
		    c->close_after ? "Connection: close\r\n" : "");
		c->cached_size = c->size;
		c->cached_close = c->close_after;
	}
	c->st = OS_WRITE;
}

/* Write as much of the response as the socket takes.  Returns 1 when
 * done, 0 when blocked, -1 on error. */
static int
write_response(struct oconn *c)
{
	struct iovec iov[2];
	ssize_t n;
	int niov;

	for (;;) {
		niov = 0;
		if (c->headoff < c->headlen) {
			iov[niov].iov_base = c->head + c->headoff;
			iov[niov++].iov_len = c->headlen - c->headoff;
		}
		if (c->bodyoff < c->size) {
			uint64_t left = c->size - c->bodyoff;

			iov[niov].iov_base = body_src;
			iov[niov++].iov_len = left < BODY_CHUNK ? (size_t)left :
			    BODY_CHUNK;
		}
		if (niov == 0)
			return (1);
		n = o_writev(c, iov, niov);
		if (n == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return (0);
			if (errno == EINTR)
				continue;
			return (-1);
		}
		if (c->headoff < c->headlen) {
			size_t h = c->headlen - c->headoff;

			if ((size_t)n < h) {
				c->headoff += (size_t)n;
				continue;
			}
			c->headoff = c->headlen;
			n -= (ssize_t)h;
		}
		c->bodyoff += (uint64_t)n;
	}
}

/*
 * Drive one connection as far as it goes without blocking.  Returns -1
 * when the connection was closed (and freed).
 */
static int
oconn_run(struct oconn *c, int readable)
{
	ssize_t n;
	int r, expect100;
	char *h;

	for (;;) {
		if (c->st == OS_WRITE) {
			r = write_response(c);
			if (r == -1)
				goto close;
			if (r == 0) {
				if (!c->out)
					ep_mod(c, EPOLLOUT);
				c->out = 1;
				return (0);
			}
			if (c->close_after)
				goto close;
			c->st = OS_HEAD;
			if (c->out)
				ep_mod(c, EPOLLIN);
			c->out = 0;
			/* Level-triggered: epoll reports what arrives next;
			 * a read now would mostly be an EAGAIN syscall. */
			readable = 0;
			continue;
		}
		if (c->st == OS_HEAD) {
			h = c->len > c->pos ? memmem(c->buf + c->pos,
			    c->len - c->pos, "\r\n\r\n", 4) : NULL;
			if (h != NULL) {
				size_t hend = (size_t)(h - c->buf) + 4;

				if (parse_request(c, hend, &expect100) == -1)
					goto close;
				c->pos = hend;
				if (expect100 && c->remain > 0 &&
				    c->len == c->pos)
					(void)o_writev(c, &(struct iovec){
					    "HTTP/1.1 100 Continue\r\n\r\n",
					    25 }, 1);
				/* Fall into body handling below. */
			} else {
				if (c->pos > 0) {
					memmove(c->buf, c->buf + c->pos,
					    c->len - c->pos);
					c->len -= c->pos;
					c->pos = 0;
				}
				if (c->len == sizeof(c->buf))
					goto close;	/* head too big */
				if (!readable)
					return (0);
				n = o_read(c, c->buf + c->len,
				    sizeof(c->buf) - c->len);
				if (n == 0)
					goto close;
				if (n == -1) {
					if (errno == EAGAIN || errno == EINTR)
						return (0);
					goto close;
				}
				c->len += (size_t)n;
				readable = (size_t)n == sizeof(c->buf) -
				    (c->len - (size_t)n) || o_pending(c);
				continue;
			}
		}
		/* Body states. */
		r = consume_body(c);
		if (r == -1)
			goto close;
		if (r == 1) {
			if (c->pos == c->len)
				c->pos = c->len = 0;
			prepare_response(c);
			continue;
		}
		/* Need more body bytes. */
		c->pos = c->len = 0;
		if (!readable)
			return (0);
		if ((c->st == OS_BODY_CL || c->st == OS_CHUNK_DATA) &&
		    c->remain >= sizeof(c->buf)) {
			/* Bulk body: discarded in the kernel (TCP's
			 * MSG_TRUNC drops the bytes without copying them
			 * out), so the origin's share of the load core stays
			 * small in the upload scenario. */
			size_t want = c->remain < SCRATCH_SIZE ?
			    (size_t)c->remain : SCRATCH_SIZE;

			/* Plain: discarded in the kernel (TCP's
			 * MSG_TRUNC); TLS must decrypt into scratch. */
			if (c->ssl == NULL)
				n = recv(c->fd, NULL, want, MSG_TRUNC);
			else
				n = o_read(c, scratch, want);
			if (n == 0)
				goto close;
			if (n == -1) {
				if (errno == EAGAIN || errno == EINTR)
					return (0);
				goto close;
			}
			c->remain -= (uint64_t)n;
			readable = (size_t)n == want || o_pending(c);
			if (c->remain == 0 && c->st == OS_CHUNK_DATA)
				c->st = OS_CHUNK_CRLF;
			else if (c->remain == 0) {
				prepare_response(c);
			}
			continue;
		}
		n = o_read(c, c->buf, sizeof(c->buf));
		if (n == 0)
			goto close;
		if (n == -1) {
			if (errno == EAGAIN || errno == EINTR)
				return (0);
			goto close;
		}
		c->len = (size_t)n;
		readable = (size_t)n == sizeof(c->buf) || o_pending(c);
	}
close:
	oconn_close(c);
	return (-1);
}

static void
usage(void)
{
	fprintf(stderr, "usage: origin [-a ADDR] [-p PORT] [--size N] "
	    "[--require-header NAME] [--echo-stale]\n"
	    "              [--tls-cert PEM --tls-key PEM]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "addr", required_argument, NULL, 'a' },
		{ "port", required_argument, NULL, 'p' },
		{ "size", required_argument, NULL, 's' },
		{ "require-header", required_argument, NULL, 'r' },
		{ "echo-stale", no_argument, NULL, 'E' },
		{ "tls-cert", required_argument, NULL, 'T' },
		{ "tls-key", required_argument, NULL, 'K' },
		{ NULL, 0, NULL, 0 }
	};
	const char *tls_cert = NULL, *tls_key = NULL;
	struct epoll_event evs[MAX_EVENTS], ev;
	struct sockaddr_in sin;
	socklen_t slen = sizeof(sin);
	const char *addr = "127.0.0.1";
	int port = 0, lfd, one = 1, ch, n, i;
	struct sigaction sa;

	while ((ch = getopt_long(argc, argv, "a:p:s:r:", lo, NULL)) != -1) {
		switch (ch) {
		case 'a': addr = optarg; break;
		case 'p': port = atoi(optarg); break;
		case 's':
			default_size = parse_size(optarg,
			    optarg + strlen(optarg));
			break;
		case 'r':
			require_header = optarg;
			require_len = strlen(optarg);
			break;
		case 'E': echo_stale = 1; break;
		case 'T': tls_cert = optarg; break;
		case 'K': tls_key = optarg; break;
		default: usage();
		}
	}
	if (optind != argc || (tls_cert == NULL) != (tls_key == NULL))
		usage();
	if (tls_cert != NULL) {
		if ((tls_ctx = SSL_CTX_new(TLS_server_method())) == NULL ||
		    SSL_CTX_use_certificate_chain_file(tls_ctx, tls_cert) != 1 ||
		    SSL_CTX_use_PrivateKey_file(tls_ctx, tls_key,
		    SSL_FILETYPE_PEM) != 1) {
			ERR_print_errors_fp(stderr);
			return (1);
		}
		SSL_CTX_set_min_proto_version(tls_ctx, TLS1_2_VERSION);
		SSL_CTX_set_session_id_context(tls_ctx,
		    (const unsigned char *)"origin", 6);
		SSL_CTX_set_mode(tls_ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
		    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	}
	memset(body_src, 'o', sizeof(body_src));

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, addr, &sin.sin_addr) != 1) {
		fprintf(stderr, "origin: bad address %s\n", addr);
		return (1);
	}
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (lfd == -1 ||
	    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ==
	    -1 || bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(lfd, 4096) == -1 ||
	    getsockname(lfd, (struct sockaddr *)&sin, &slen) == -1) {
		perror("origin: listen");
		return (1);
	}
	if ((epfd = epoll_create1(EPOLL_CLOEXEC)) == -1) {
		perror("origin: epoll_create1");
		return (1);
	}
	ev.events = EPOLLIN;
	ev.data.ptr = NULL;
	epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &ev);
	printf("origin: listening %s:%d\n", addr, ntohs(sin.sin_port));
	fflush(stdout);

	while (!stop) {
		n = epoll_wait(epfd, evs, MAX_EVENTS, -1);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			perror("origin: epoll_wait");
			return (1);
		}
		for (i = 0; i < n; i++) {
			struct oconn *c = evs[i].data.ptr;

			if (c == NULL) {
				int fd;

				while ((fd = accept4(lfd, NULL, NULL,
				    SOCK_NONBLOCK | SOCK_CLOEXEC)) != -1) {
					if ((c = calloc(1, sizeof(*c))) ==
					    NULL) {
						close(fd);
						continue;
					}
					(void)setsockopt(fd, IPPROTO_TCP,
					    TCP_NODELAY, &one, sizeof(one));
					c->fd = fd;
					c->cached_size = UINT64_MAX;
					if (tls_ctx != NULL && ((c->ssl =
					    SSL_new(tls_ctx)) == NULL ||
					    SSL_set_fd(c->ssl, fd) != 1)) {
						oconn_close(c);
						continue;
					}
					if (c->ssl != NULL)
						SSL_set_accept_state(c->ssl);
					n_accepted++;
					ev.events = EPOLLIN;
					ev.data.ptr = c;
					if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd,
					    &ev) == -1) {
						oconn_close(c);
						continue;
					}
				}
				continue;
			}
			if (evs[i].events & (EPOLLERR | EPOLLHUP) &&
			    !(evs[i].events & EPOLLIN)) {
				oconn_close(c);
				continue;
			}
			(void)oconn_run(c, (evs[i].events & EPOLLIN) != 0);
		}
	}
	fprintf(stderr, "origin: accepted %" PRIu64 " connections, served %"
	    PRIu64 " requests (%" PRIu64 " refused for a missing header)\n",
	    n_accepted, n_requests, n_bad);
	return (0);
}
