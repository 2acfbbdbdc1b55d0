/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * A test client that sends exactly the bytes it is given, over TLS or
 * plain TCP, and prints exactly what comes back until the peer closes or
 * a deadline passes.  curl normalises requests; this does not, which is
 * what the rejection, smuggling and slowloris tests need: split or
 * trickled writes, half-close, slow reads, and a report of how the
 * connection ended (CLOSED, RESET or OPEN) on stderr.  It also has two
 * helper modes for the shell tests: --free-port prints an unused loopback
 * port, and --flood opens many connections and holds them.  It is a test
 * tool; nothing in gridfront links it.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

enum end_kind {
	END_OPEN = 0,		/* deadline passed, connection still up */
	END_CLOSED,		/* orderly close (FIN or close_notify) */
	END_RESET		/* ECONNRESET or a TLS-level failure */
};

struct opts {
	const char	*host;
	const char	*port;
	int		 plain;
	const char	*cert;
	const char	*key;
	const char	*cafile;
	const char	*servername;
	const char	*file;
	int		 escape;
	long		 timeout_ms;
	long		 delay_ms;
	size_t		 split;
	long		 trickle_ms;
	size_t		 trickle_after;	/* send this many bytes at once first */
	int		 halfclose;
	int		 expect_close;
	long		 slow_read_ms;
	size_t		 read_size;
	long		 connect_ms;
	int		 verbose;
	int		 flood;
	long		 hold_ms;
	int		 stop_readable;	/* stop sending once a reply arrives */
};

struct client {
	int		 fd;
	SSL		*ssl;
	enum end_kind	 end;
	int		 closed;	/* the peer finished (or broke) the stream */
	size_t		 received;
	long		 start_ms;
};

static struct opts o;

static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

static void
ssl_errors(const char *what)
{
	unsigned long e;
	char buf[256];

	fprintf(stderr, "rawclient: %s\n", what);
	while ((e = ERR_get_error()) != 0) {
		ERR_error_string_n(e, buf, sizeof(buf));
		fprintf(stderr, "rawclient:   %s\n", buf);
	}
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: rawclient --host H --port N [--plain] [--cert PEM] "
	    "[--key PEM]\n"
	    "         [--cafile PEM] [--servername NAME] [--file F] "
	    "[--escape]\n"
	    "         [--timeout-ms T] [--delay-ms D] [--split N] "
	    "[--trickle-ms T]\n"
	    "         [--trickle-after N]\n"
	    "         [--halfclose] [--expect-close] [--slow-read-ms D] "
	    "[--read-size N]\n"
	    "         [--connect-ms T] [--stop-when-readable] [-v]\n"
	    "       rawclient --free-port\n"
	    "       rawclient --host H --port N --flood N [--hold-ms T]\n");
	exit(2);
}

/* Read all of fp into a malloc'd buffer. */
static char *
slurp(FILE *fp, size_t *lenp)
{
	char *buf = NULL, *nb;
	size_t len = 0, cap = 0, n;

	for (;;) {
		if (cap - len < 65536) {
			cap = cap ? cap * 2 : 65536;
			if ((nb = realloc(buf, cap)) == NULL) {
				free(buf);
				return (NULL);
			}
			buf = nb;
		}
		n = fread(buf + len, 1, cap - len, fp);
		len += n;
		if (n == 0)
			break;
	}
	*lenp = len;
	return (buf);
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (c - 'A' + 10);
	return (-1);
}

/*
 * Decode \r \n \t \0 \\ \xHH in place (for --escape).  A literal newline
 * in the input is kept as is, so heredocs can be written either way.
 */
static size_t
unescape(char *s, size_t n)
{
	size_t i, j = 0;
	int h, l;

	for (i = 0; i < n; i++) {
		if (s[i] != '\\' || i + 1 >= n) {
			s[j++] = s[i];
			continue;
		}
		switch (s[i + 1]) {
		case 'r':
			s[j++] = '\r';
			i++;
			break;
		case 'n':
			s[j++] = '\n';
			i++;
			break;
		case 't':
			s[j++] = '\t';
			i++;
			break;
		case '0':
			s[j++] = '\0';
			i++;
			break;
		case '\\':
			s[j++] = '\\';
			i++;
			break;
		case 'x':
			if (i + 3 < n + 0 && (h = hexval(s[i + 2])) != -1 &&
			    (l = hexval(s[i + 3])) != -1) {
				s[j++] = (char)(h << 4 | l);
				i += 3;
				break;
			}
			s[j++] = s[i];
			break;
		default:
			s[j++] = s[i];
			break;
		}
	}
	return (j);
}

static int
set_nonblock(int fd)
{
	int fl;

	if ((fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1)
		return (-1);
	return (0);
}

/* Connect with a deadline; returns a non-blocking socket or -1. */
static int
tcp_connect(const char *host, const char *port, long ms)
{
	struct addrinfo hints, *res, *ai;
	struct pollfd pfd;
	socklen_t sl;
	int fd = -1, err, one = 1, rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
		fprintf(stderr, "rawclient: %s: %s\n", host, gai_strerror(rc));
		return (-1);
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if ((fd = socket(ai->ai_family, ai->ai_socktype, 0)) == -1)
			continue;
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof(one));
		if (set_nonblock(fd) == -1) {
			close(fd);
			fd = -1;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		if (errno == EINPROGRESS) {
			pfd.fd = fd;
			pfd.events = POLLOUT;
			err = 0;
			sl = sizeof(err);
			if (poll(&pfd, 1, (int)ms) == 1 &&
			    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err,
			    &sl) == 0 && err == 0)
				break;
			errno = err ? err : ETIMEDOUT;
		}
		fprintf(stderr, "rawclient: connect %s:%s: %s\n", host, port,
		    strerror(errno));
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return (fd);
}

/* Wait for fd to become ready for events, at most until deadline. */
static int
wait_fd(int fd, short events, long deadline)
{
	struct pollfd pfd;
	long left = deadline - now_ms();
	int rc;

	if (left < 0)
		left = 0;
	pfd.fd = fd;
	pfd.events = events;
	do {
		rc = poll(&pfd, 1, (int)left);
	} while (rc == -1 && errno == EINTR);
	return (rc);
}

static int
tls_setup(struct client *c, long deadline)
{
	SSL_CTX *ctx;
	int rc, e;

	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		ssl_errors("SSL_CTX_new");
		return (-1);
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	/* Return to us after session tickets instead of blocking in them. */
	SSL_CTX_clear_mode(ctx, SSL_MODE_AUTO_RETRY);
	if (o.cert != NULL) {
		if (SSL_CTX_use_certificate_chain_file(ctx, o.cert) != 1 ||
		    SSL_CTX_use_PrivateKey_file(ctx, o.key ? o.key : o.cert,
		    SSL_FILETYPE_PEM) != 1) {
			ssl_errors("cannot load the client certificate");
			SSL_CTX_free(ctx);
			return (-1);
		}
	}
	if (o.cafile != NULL) {
		if (SSL_CTX_load_verify_locations(ctx, o.cafile, NULL) != 1) {
			ssl_errors("cannot load the CA file");
			SSL_CTX_free(ctx);
			return (-1);
		}
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	}
	if ((c->ssl = SSL_new(ctx)) == NULL) {
		ssl_errors("SSL_new");
		SSL_CTX_free(ctx);
		return (-1);
	}
	SSL_CTX_free(ctx);		/* c->ssl holds its own reference */
	if (o.servername != NULL) {
		/* The macro casts away const; hand it a writable copy. */
		static char sni[256];

		snprintf(sni, sizeof(sni), "%s", o.servername);
		SSL_set_tlsext_host_name(c->ssl, sni);
	}
	SSL_set_fd(c->ssl, c->fd);
	for (;;) {
		if ((rc = SSL_connect(c->ssl)) == 1)
			break;
		e = SSL_get_error(c->ssl, rc);
		if ((e == SSL_ERROR_WANT_READ &&
		    wait_fd(c->fd, POLLIN, deadline) == 1) ||
		    (e == SSL_ERROR_WANT_WRITE &&
		    wait_fd(c->fd, POLLOUT, deadline) == 1))
			continue;
		ssl_errors(e == SSL_ERROR_WANT_READ ||
		    e == SSL_ERROR_WANT_WRITE ? "TLS handshake timed out" :
		    "TLS handshake failed");
		return (-1);
	}
	if (o.verbose)
		fprintf(stderr, "rawclient: %s %s\n", SSL_get_version(c->ssl),
		    SSL_get_cipher_name(c->ssl));
	return (0);
}

/*
 * Read what is available (at most max bytes) and print it.  Returns 1
 * when something was read, 0 when nothing was ready, -1 when the stream
 * ended (c->end says how).
 */
static int
read_some(struct client *c, size_t max)
{
	char buf[65536];
	ssize_t n;
	int e;

	if (max > sizeof(buf))
		max = sizeof(buf);
	if (c->ssl != NULL) {
		ERR_clear_error();
		n = SSL_read(c->ssl, buf, (int)max);
		if (n <= 0) {
			e = SSL_get_error(c->ssl, (int)n);
			if (e == SSL_ERROR_WANT_READ ||
			    e == SSL_ERROR_WANT_WRITE)
				return (0);
			if (e == SSL_ERROR_ZERO_RETURN)
				c->end = END_CLOSED;
			else if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0
			    && errno != ECONNRESET && errno != EPIPE)
				/* EOF without close_notify: still a close. */
				c->end = END_CLOSED;
			else {
				if (o.verbose)
					ssl_errors("read");
				c->end = END_RESET;
			}
			ERR_clear_error();
			c->closed = 1;
			return (-1);
		}
	} else {
		n = read(c->fd, buf, max);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return (0);
		if (n <= 0) {
			c->end = n == 0 ? END_CLOSED : END_RESET;
			c->closed = 1;
			return (-1);
		}
	}
	fwrite(buf, 1, (size_t)n, stdout);
	fflush(stdout);
	c->received += (size_t)n;
	return (1);
}

/*
 * Drain input until deadline (or until nothing more is readable when
 * deadline has passed), honouring --slow-read-ms.  Returns when the peer
 * closed or the deadline passed.
 */
static void
read_until(struct client *c, long deadline)
{
	long next = 0, wait_until;
	int rc;

	while (!c->closed) {
		if (c->ssl == NULL || SSL_pending(c->ssl) == 0) {
			wait_until = deadline;
			if (o.slow_read_ms > 0 && next > now_ms() &&
			    next < deadline)
				wait_until = next;
			if (o.slow_read_ms > 0 && next > now_ms()) {
				/* Slow reader: sleep, don't even look. */
				(void)wait_fd(-1, 0, wait_until);
				if (now_ms() >= deadline)
					return;
				continue;
			}
			rc = wait_fd(c->fd, POLLIN, deadline);
			if (rc == 0)
				return;
		}
		rc = read_some(c, o.slow_read_ms > 0 ? o.read_size :
		    SIZE_MAX);
		if (rc == 1 && o.slow_read_ms > 0)
			next = now_ms() + o.slow_read_ms;
		if (rc == 0 && now_ms() >= deadline)
			return;
	}
}

/*
 * Write buf completely, or until the peer breaks the connection.
 * Reads (and prints) whatever arrives while waiting to write.  Returns 0,
 * or -1 when the connection broke.
 */
static int
write_all(struct client *c, const char *buf, size_t n, long deadline)
{
	ssize_t w;
	int e;

	while (n > 0) {
		if (c->ssl != NULL) {
			ERR_clear_error();
			w = SSL_write(c->ssl, buf, (int)n);
			if (w <= 0) {
				e = SSL_get_error(c->ssl, (int)w);
				if (e == SSL_ERROR_WANT_WRITE ||
				    e == SSL_ERROR_WANT_READ)
					w = 0;
				else {
					if (o.verbose)
						ssl_errors("write");
					ERR_clear_error();
					return (-1);
				}
			}
		} else {
			w = write(c->fd, buf, n);
			if (w == -1 && (errno == EAGAIN || errno == EINTR))
				w = 0;
			else if (w == -1) {
				if (o.verbose)
					fprintf(stderr, "rawclient: write: "
					    "%s\n", strerror(errno));
				return (-1);
			}
		}
		buf += w;
		n -= (size_t)w;
		if (n == 0)
			break;
		if (now_ms() >= deadline) {
			fprintf(stderr, "rawclient: write timed out\n");
			return (-1);
		}
		/* Blocked: drain what the peer sends meanwhile. */
		if (wait_fd(c->fd, POLLOUT | POLLIN, deadline) > 0 &&
		    read_some(c, SIZE_MAX) == -1)
			return (-1);
	}
	return (0);
}

/* Sleep for ms while reading whatever arrives.  Returns -1 on close. */
static int
pause_reading(struct client *c, long ms)
{
	long until = now_ms() + ms;

	while (!c->closed && now_ms() < until) {
		if (c->ssl != NULL && SSL_pending(c->ssl) > 0) {
			(void)read_some(c, SIZE_MAX);
			continue;
		}
		if (wait_fd(c->fd, POLLIN, until) > 0)
			(void)read_some(c, SIZE_MAX);
	}
	return (c->closed ? -1 : 0);
}

static int
send_request(struct client *c, const char *buf, size_t len)
{
	size_t piece = len, off = 0, n;
	long gap = o.delay_ms;
	long write_deadline;

	if (o.trickle_ms > 0) {
		piece = 1;
		gap = o.trickle_ms;
		/* --trickle-after: the first bytes (a head, say) go at once. */
		n = o.trickle_after < len ? o.trickle_after : len;
		if (n > 0 && write_all(c, buf, n, now_ms() + 5000) == -1) {
			c->end = END_RESET;
			c->closed = 1;
			fprintf(stderr, "SENT_PARTIAL 0\n");
			return (0);
		}
		off = n;
	} else if (o.split > 0)
		piece = o.split;
	if (piece == 0)
		piece = 1;
	while (off < len) {
		if (gap > 0 && pause_reading(c, gap) == -1)
			break;
		/*
		 * --stop-when-readable: send pieces until the socket turns
		 * readable (as a select() loop does), then only read: an
		 * impatient client, or an attacker, taking the first byte
		 * from the server for its answer.
		 */
		if (o.stop_readable && off > 0 && ((c->ssl != NULL &&
		    SSL_pending(c->ssl) > 0) || wait_fd(c->fd, POLLIN,
		    now_ms()) > 0))
			break;
		n = len - off < piece ? len - off : piece;
		write_deadline = now_ms() + (o.timeout_ms > 0 ?
		    o.timeout_ms : 5000);
		if (write_all(c, buf + off, n, write_deadline) == -1) {
			if (!c->closed) {
				c->end = END_RESET;
				c->closed = 1;
			}
			break;
		}
		off += n;
	}
	if (off < len && o.verbose)
		fprintf(stderr, "rawclient: sent %zu of %zu bytes\n", off,
		    len);
	fprintf(stderr, off < len ? "SENT_PARTIAL %zu\n" : "SENT %zu\n", off);
	return (0);
}

static int
free_port(void)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	int fd;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sin, &sl) == -1) {
		perror("rawclient: free-port");
		return (1);
	}
	printf("%u\n", ntohs(sin.sin_port));
	close(fd);
	return (0);
}

/*
 * Open up to n TCP connections as fast as possible and hold them for
 * hold_ms, then report how many connected and how many the peer closed.
 */
static int
flood(int n, long hold_ms)
{
	int *fds, i, ok = 0, closed = 0;
	char b;
	long deadline = now_ms() + hold_ms;

	if ((fds = calloc((size_t)n, sizeof(*fds))) == NULL)
		return (1);
	for (i = 0; i < n; i++) {
		fds[i] = tcp_connect(o.host, o.port, 1000);
		if (fds[i] == -1)
			break;
		ok++;
	}
	while (now_ms() < deadline)
		usleep(10000);
	for (i = 0; i < ok; i++) {
		if (read(fds[i], &b, 1) == 0)
			closed++;
		close(fds[i]);
	}
	free(fds);
	printf("CONNECTED %d\nPEER_CLOSED %d\n", ok, closed);
	return (ok > 0 ? 0 : 1);
}

/*
 * Entry point: see usage().  Exit status 0 when the connection (and the
 * TLS handshake) worked, whatever happened afterwards; 1 when it did not;
 * 2 on a usage error.
 */
int
main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "host", required_argument, NULL, 'h' },
		{ "port", required_argument, NULL, 'p' },
		{ "plain", no_argument, NULL, 'P' },
		{ "cert", required_argument, NULL, 'c' },
		{ "key", required_argument, NULL, 'k' },
		{ "cafile", required_argument, NULL, 'C' },
		{ "servername", required_argument, NULL, 'n' },
		{ "file", required_argument, NULL, 'f' },
		{ "escape", no_argument, NULL, 'e' },
		{ "timeout-ms", required_argument, NULL, 't' },
		{ "delay-ms", required_argument, NULL, 'd' },
		{ "split", required_argument, NULL, 's' },
		{ "trickle-ms", required_argument, NULL, 'T' },
		{ "trickle-after", required_argument, NULL, 'A' },
		{ "halfclose", no_argument, NULL, 'H' },
		{ "expect-close", no_argument, NULL, 'x' },
		{ "slow-read-ms", required_argument, NULL, 'r' },
		{ "read-size", required_argument, NULL, 'R' },
		{ "connect-ms", required_argument, NULL, 'o' },
		{ "free-port", no_argument, NULL, 'F' },
		{ "flood", required_argument, NULL, 'L' },
		{ "hold-ms", required_argument, NULL, 'l' },
		{ "stop-when-readable", no_argument, NULL, 'S' },
		{ "verbose", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 }
	};
	struct client c;
	FILE *fp;
	char *req;
	size_t len;
	int ch;
	long deadline;
	static const char *const ends[] = { "OPEN", "CLOSED", "RESET" };

	o.host = "127.0.0.1";
	o.timeout_ms = 5000;
	o.read_size = 1;
	o.connect_ms = 5000;
	o.hold_ms = 1000;
	while ((ch = getopt_long(argc, argv, "v", lopts, NULL)) != -1) {
		switch (ch) {
		case 'h': o.host = optarg; break;
		case 'p': o.port = optarg; break;
		case 'P': o.plain = 1; break;
		case 'c': o.cert = optarg; break;
		case 'k': o.key = optarg; break;
		case 'C': o.cafile = optarg; break;
		case 'n': o.servername = optarg; break;
		case 'f': o.file = optarg; break;
		case 'e': o.escape = 1; break;
		case 't': o.timeout_ms = atol(optarg); break;
		case 'd': o.delay_ms = atol(optarg); break;
		case 's': o.split = (size_t)atol(optarg); break;
		case 'T': o.trickle_ms = atol(optarg); break;
		case 'A': o.trickle_after = (size_t)atol(optarg); break;
		case 'H': o.halfclose = 1; break;
		case 'x': o.expect_close = 1; break;
		case 'r': o.slow_read_ms = atol(optarg); break;
		case 'R': o.read_size = (size_t)atol(optarg); break;
		case 'o': o.connect_ms = atol(optarg); break;
		case 'F': return (free_port());
		case 'L': o.flood = atoi(optarg); break;
		case 'l': o.hold_ms = atol(optarg); break;
		case 'S': o.stop_readable = 1; break;
		case 'v': o.verbose = 1; break;
		default: usage();
		}
	}
	if (optind != argc || o.port == NULL || o.read_size == 0)
		usage();
	signal(SIGPIPE, SIG_IGN);
	if (o.flood > 0)
		return (flood(o.flood, o.hold_ms));

	if (o.file != NULL) {
		if ((fp = fopen(o.file, "rb")) == NULL) {
			perror(o.file);
			return (2);
		}
	} else
		fp = stdin;
	if ((req = slurp(fp, &len)) == NULL) {
		fprintf(stderr, "rawclient: cannot read the request\n");
		return (2);
	}
	if (fp != stdin)
		fclose(fp);
	if (o.escape)
		len = unescape(req, len);

	memset(&c, 0, sizeof(c));
	c.start_ms = now_ms();
	if ((c.fd = tcp_connect(o.host, o.port, o.connect_ms)) == -1) {
		free(req);
		if (o.expect_close)
			fprintf(stderr, "REFUSED\n");
		return (1);
	}
	if (!o.plain && tls_setup(&c, now_ms() + o.connect_ms) == -1) {
		free(req);
		if (o.expect_close)
			fprintf(stderr, "HANDSHAKE_FAILED\n");
		return (1);
	}

	send_request(&c, req, len);
	free(req);
	if (o.halfclose && !c.closed) {
		if (c.ssl != NULL)
			(void)SSL_shutdown(c.ssl);	/* our close_notify */
		(void)shutdown(c.fd, SHUT_WR);
	}
	deadline = now_ms() + o.timeout_ms;
	read_until(&c, deadline);

	if (o.expect_close || o.verbose) {
		fprintf(stderr, "%s\n", ends[c.end]);
		fprintf(stderr, "ELAPSED_MS %ld\n", now_ms() - c.start_ms);
		fprintf(stderr, "RECEIVED %zu\n", c.received);
	}
	if (c.ssl != NULL)
		SSL_free(c.ssl);
	close(c.fd);
	return (0);
}
