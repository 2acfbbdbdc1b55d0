/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * The end-to-end test origin.  A small single-threaded libevent HTTP/1.1
 * server on 127.0.0.1 that reports exactly what it received: in "echo"
 * mode every request gets a JSON description of its request line, its raw
 * header lines in order, the length and SHA-256 of its body (hashed while
 * it streams, never buffered whole) and the connection and request
 * numbers.  Special paths produce large, chunked, close-delimited, slow,
 * early-hinted (/early/: a 103 and a 100 first) or
 * bodiless responses, and --mode (or a /fault/<mode> path) turns it into a
 * faulty origin: refusing, hanging, closing, resetting mid-body, sending
 * garbage, an over-long status line, an endless chunked body or answering
 * one byte at a time.  With --tls-cert/--tls-key it speaks TLS (an https
 * backend), optionally requiring a client certificate (--tls-client-ca),
 * and counts handshakes and resumed ones in /__stats.  An X-Backend-Rate: <bytes/s> request header makes
 * it a slow peer for that request, reading and writing at that rate.  It
 * deliberately parses leniently so that whatever the proxy forwards,
 * however wrong, shows up in the report.  It is a test
 * tool run by the tests/e2e scripts and tests/demo.sh; nothing in gridfront links
 * it.
 */

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>

#define MAX_HEAD	(1024 * 1024)	/* a head longer than this gets 431 */
#define MAX_HEADERS	1000
#define MAX_CHUNK_LINE	(64 * 1024)
#define GEN_BLOCK	(64 * 1024)
#define GEN_HIGH	(256 * 1024)	/* refill output below this */
#define MAX_GEN		(1024ULL * 1024 * 1024)
#define RESET_HALF	(32 * 1024)	/* reset_mid_body sends this much */
#define ENDLESS_SECS	60
#define LINGER_SECS	5		/* after a FIN, wait this for the peer */

enum be_mode {
	MODE_ECHO = 0,
	MODE_REFUSE,
	MODE_HANG,
	MODE_CLOSE,
	MODE_RESET_MID_BODY,
	MODE_GARBAGE,
	MODE_LONG_STATUS,
	MODE_ENDLESS_CHUNKED,
	MODE_SLOW
};

static const char *const mode_names[] = {
	"echo", "refuse", "hang", "close", "reset_mid_body", "garbage",
	"long_status", "endless_chunked", "slow", NULL
};

enum conn_state {
	CST_HEAD = 0,		/* waiting for a complete request head */
	CST_BODY,		/* consuming the request body */
	CST_WAIT,		/* body done, a timer will answer */
	CST_RESPOND,		/* a response is being generated */
	CST_DISCARD,		/* read and drop everything, answer nothing */
	CST_DEAD		/* waiting for the output to drain, then close */
};

enum body_kind {
	BODY_NONE = 0,
	BODY_LENGTH,
	BODY_CHUNKED
};

enum chunk_state {
	CH_SIZE = 0,
	CH_DATA,
	CH_DATA_END,
	CH_TRAILER
};

enum gen_kind {
	GEN_NONE = 0,
	GEN_LENGTH,		/* pattern bytes, Content-Length framed */
	GEN_CHUNKED,		/* pattern bytes, chunked */
	GEN_CLOSE,		/* pattern bytes, then close */
	GEN_ENDLESS,		/* chunks on a timer until ENDLESS_SECS */
	GEN_DRIP,		/* a prepared buffer, one byte per tick */
	GEN_STALL		/* half of a Content-Length body, then silence */
};

/* What to do once the output buffer has drained. */
enum after_flush {
	AF_NOTHING = 0,
	AF_CLOSE,		/* close (FIN) */
	AF_SHUTDOWN,		/* shutdown(SHUT_WR), drain input, close */
	AF_RESET		/* a short pause, then close with RST */
};

struct hdr {
	char		*name;		/* bytes before ':' (whole line if none) */
	size_t		 namelen;
	char		*value;		/* trimmed, NULL when there was no ':' */
	size_t		 valuelen;
};

struct req {
	char		*line;		/* the raw request line */
	char		*method;
	char		*target;
	char		*version;
	struct hdr	*h;
	size_t		 nh;
	struct hdr	*tr;		/* trailers of a chunked body */
	size_t		 ntr;
	int		 bare_lf;	/* some line ended in LF without CR */
	int		 is_head;
	int		 keepalive;
	int		 expect100;
	int		 sent100;
	enum body_kind	 body;
	uint64_t	 clen;
	int		 clen_seen;
	int		 te_seen;
	uint64_t	 bodylen;
	EVP_MD_CTX	*sha;
	enum chunk_state cst;
	uint64_t	 chunk_left;
	unsigned	 nchunks;
	char		*reqid;		/* X-Request-Id, echoed back */
	char		**extra;	/* X-Backend-Respond-Header values */
	size_t		 nextra;
	int		 stats_only;	/* /__stats or /__reset */
	uint64_t	 rate;		/* X-Backend-Rate: bytes/s, 0 none */
};

struct bconn {
	struct bufferevent *bev;
	unsigned	 id;		/* 1-based accept number */
	unsigned	 nreq;		/* requests seen on this connection */
	char		 peer[64];
	enum conn_state	 state;
	struct req	 req;
	struct event	*timer;
	enum after_flush after;
	int		 is_stats_conn;	/* its first request was /__stats */
	uint64_t	 bytes_in;	/* every byte received */
	struct ev_token_bucket_cfg *rate_cfg;	/* in use by bev, or NULL */
	int		 tls_up;	/* TLS: the handshake completed */

	/* The response being generated. */
	enum gen_kind	 gen;
	uint64_t	 gen_off;
	uint64_t	 gen_total;
	unsigned	 gen_chunk;	/* index of the next chunk */
	unsigned	 gen_ms;	/* tick interval for DRIP / ENDLESS */
	struct evbuffer	*drip;		/* bytes still to drip */
	int		 close_after;	/* close when this response is out */
	int		 trailers;	/* /trailers/N: end with a trailer */
	struct timeval	 started;
	TAILQ_ENTRY(bconn) entry;
};
TAILQ_HEAD(bconn_list, bconn);

static struct event_base *base;
static enum be_mode mode = MODE_ECHO;
static const char *backend_id = "backend";
static int verbose;
static unsigned max_requests;		/* per connection, 0 = unlimited */
static int silent_close;		/* close without announcing it */
static unsigned idle_close_ms;		/* close idle keep-alive conns */
static unsigned slow_ms = 100;		/* the slow mode's byte interval */

static unsigned n_accepted;		/* every accept, stats included */
static unsigned n_stats_conns;
static unsigned n_requests;		/* heads parsed */
static unsigned n_completed;		/* requests whose body fully arrived */
static unsigned n_open;
static struct bconn_list conns = TAILQ_HEAD_INITIALIZER(conns);
static unsigned n_errors;
static SSL_CTX *tls_ctx;		/* --tls-cert: serve https */
static unsigned n_tls_hs;		/* TLS handshakes completed */
static unsigned n_tls_resumed;		/* of which resumed a session */
static unsigned n_tls_client_certs;	/* with a client certificate */
static unsigned n_tls_sni;		/* with a server name (SNI) */
static char last_sni[256];		/* the last one sent */
static uint64_t n_bytes;

static void conn_free(struct bconn *);
static void conn_rate(struct bconn *, uint64_t);
static void conn_process(struct bconn *);
static void conn_write_cb(struct bufferevent *, void *);
static void conn_timer_cb(evutil_socket_t, short, void *);

/*
 * ------------------------------------------------------------------
 * Small helpers
 * ------------------------------------------------------------------
 */

static void
vlog(const char *fmt, ...)
{
	va_list ap;

	if (!verbose)
		return;
	va_start(ap, fmt);
	fprintf(stderr, "backend[%s]: ", backend_id);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static void *
xcalloc(size_t n, size_t sz)
{
	void *p;

	if ((p = calloc(n, sz)) == NULL) {
		perror("calloc");
		abort();
	}
	return (p);
}

static void *
xreallocarray(void *p, size_t n, size_t sz)
{
	if (sz != 0 && n > SIZE_MAX / sz)
		abort();
	if ((p = realloc(p, n * sz)) == NULL) {
		perror("realloc");
		abort();
	}
	return (p);
}

static char *
xstrndup(const char *s, size_t n)
{
	char *p;

	p = xcalloc(1, n + 1);
	memcpy(p, s, n);
	return (p);
}

/*
 * The deterministic body pattern.  It covers all 256 byte values and is
 * not periodic at any small power of two, so a misplaced or repeated block
 * changes the checksum.  --gen prints it for the tests to hash.
 */
static uint8_t
pattern_byte(uint64_t i)
{
	return ((uint8_t)((i % 251) ^ (i >> 8) ^ (i >> 19)));
}

static void
pattern_fill(uint8_t *buf, uint64_t off, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		buf[i] = pattern_byte(off + i);
}

/* Parse a decimal number that must fill the whole of [s, s + n). */
static int
parse_u64(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (n == 0 || n > 19)
		return (-1);
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return (-1);
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return (0);
}

/* Return the length of a valid UTF-8 sequence at s, or 0. */
static size_t
utf8_seq(const unsigned char *s, size_t n)
{
	size_t len, i;
	uint32_t cp;

	if (s[0] < 0x80)
		return (1);
	if ((s[0] & 0xe0) == 0xc0) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4;
		cp = s[0] & 0x07;
	} else
		return (0);
	if (len > n)
		return (0);
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return (0);
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates and values past U+10FFFF are invalid. */
	if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
	    (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return (0);
	return (len);
}

/*
 * Append s as a JSON string.  Valid UTF-8 passes through; control bytes
 * and bytes that are not valid UTF-8 become \u00XX.  Returns 1 when some
 * byte was not valid UTF-8 (the caller then adds a hex copy), else 0.
 */
static int
json_str(struct evbuffer *out, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i, l;
	int lossy = 0;

	evbuffer_add(out, "\"", 1);
	for (i = 0; i < n; i += l) {
		l = 1;
		if (u[i] == '"' || u[i] == '\\')
			evbuffer_add_printf(out, "\\%c", u[i]);
		else if (u[i] < 0x20 || u[i] == 0x7f)
			evbuffer_add_printf(out, "\\u%04x", u[i]);
		else if (u[i] < 0x80)
			evbuffer_add(out, &u[i], 1);
		else if ((l = utf8_seq(u + i, n - i)) != 0)
			evbuffer_add(out, &u[i], l);
		else {
			l = 1;
			lossy = 1;
			evbuffer_add_printf(out, "\\u%04x", u[i]);
		}
	}
	evbuffer_add(out, "\"", 1);
	return (lossy);
}

static void
json_hex(struct evbuffer *out, const char *s, size_t n)
{
	size_t i;

	evbuffer_add(out, "\"", 1);
	for (i = 0; i < n; i++)
		evbuffer_add_printf(out, "%02x", (unsigned char)s[i]);
	evbuffer_add(out, "\"", 1);
}

static const char *
status_text(int code)
{
	switch (code) {
	case 100: return ("Continue");
	case 200: return ("OK");
	case 201: return ("Created");
	case 204: return ("No Content");
	case 206: return ("Partial Content");
	case 301: return ("Moved Permanently");
	case 302: return ("Found");
	case 304: return ("Not Modified");
	case 400: return ("Bad Request");
	case 401: return ("Unauthorized");
	case 403: return ("Forbidden");
	case 404: return ("Not Found");
	case 413: return ("Content Too Large");
	case 431: return ("Request Header Fields Too Large");
	case 500: return ("Internal Server Error");
	case 502: return ("Bad Gateway");
	case 503: return ("Service Unavailable");
	case 504: return ("Gateway Timeout");
	default: return ("Status");
	}
}

/*
 * ------------------------------------------------------------------
 * Request parsing (lenient on purpose: report, don't judge)
 * ------------------------------------------------------------------
 */

static void
req_reset(struct req *r)
{
	size_t i;

	free(r->line);
	free(r->method);
	free(r->target);
	free(r->version);
	for (i = 0; i < r->nh; i++) {
		free(r->h[i].name);
		free(r->h[i].value);
	}
	free(r->h);
	for (i = 0; i < r->ntr; i++) {
		free(r->tr[i].name);
		free(r->tr[i].value);
	}
	free(r->tr);
	free(r->reqid);
	for (i = 0; i < r->nextra; i++)
		free(r->extra[i]);
	free(r->extra);
	EVP_MD_CTX_free(r->sha);
	memset(r, 0, sizeof(*r));
}

/* Split one header line (without its line ending) into a struct hdr. */
static void
hdr_parse(struct hdr *h, const char *line, size_t n)
{
	const char *colon, *v, *e;

	if ((colon = memchr(line, ':', n)) == NULL) {
		h->name = xstrndup(line, n);
		h->namelen = n;
		h->value = NULL;
		h->valuelen = 0;
		return;
	}
	h->namelen = (size_t)(colon - line);
	h->name = xstrndup(line, h->namelen);
	v = colon + 1;
	e = line + n;
	while (v < e && (*v == ' ' || *v == '\t'))
		v++;
	while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	h->valuelen = (size_t)(e - v);
	h->value = xstrndup(v, h->valuelen);
}

static int
hdr_is(const struct hdr *h, const char *name)
{
	return (h->value != NULL && strlen(name) == h->namelen &&
	    strncasecmp(h->name, name, h->namelen) == 0);
}

/* Does the comma-separated list value contain token (case-insensitive)? */
static int
list_has(const char *value, const char *token)
{
	size_t tl = strlen(token);
	const char *p = value, *e;

	while (*p != '\0') {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		e = p;
		while (*e != '\0' && *e != ',')
			e++;
		while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if ((size_t)(e - p) == tl && strncasecmp(p, token, tl) == 0)
			return (1);
		while (*e != '\0' && *e != ',')
			e++;
		p = e;
	}
	return (0);
}

/* Is the last transfer coding in value "chunked"? */
static int
te_is_chunked(const char *value)
{
	const char *last = strrchr(value, ',');
	size_t n;

	last = last != NULL ? last + 1 : value;
	last += strspn(last, " \t");
	n = strlen(last);
	while (n > 0 && (last[n - 1] == ' ' || last[n - 1] == '\t'))
		n--;
	return (n == 7 && strncasecmp(last, "chunked", 7) == 0);
}

/*
 * Find the end of the head in the first n bytes of p: the index just past
 * the empty line, or 0 when it is not complete yet.  Leading empty lines
 * (RFC 9112 2.2) are part of what the caller skips.
 */
static size_t
head_end(const char *p, size_t n)
{
	size_t i, start = 0;

	for (i = 0; i < n; i++) {
		if (p[i] != '\n')
			continue;
		if (i == start || (i == start + 1 && p[start] == '\r')) {
			if (start != 0)
				return (i + 1);
		}
		start = i + 1;
	}
	return (0);
}

/*
 * Parse a complete head (request line plus header lines) into r.  Returns
 * 0, or -1 when there is not even a request line.
 */
static int
req_parse_head(struct req *r, const char *p, size_t n)
{
	const char *line, *nl, *sp1, *sp2, *e;
	size_t len;
	int first = 1;

	while (n > 0) {
		line = p;
		if ((nl = memchr(p, '\n', n)) == NULL)
			break;
		len = (size_t)(nl - line);
		if (len > 0 && line[len - 1] == '\r')
			len--;
		else
			r->bare_lf = 1;
		n -= (size_t)(nl + 1 - p);
		p = nl + 1;
		if (len == 0)
			break;
		if (first) {
			first = 0;
			r->line = xstrndup(line, len);
			e = line + len;
			sp1 = memchr(line, ' ', len);
			sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(e - sp1 - 1))
			    : NULL;
			if (sp1 == NULL) {
				r->method = xstrndup(line, len);
				r->target = xstrndup("", 0);
				r->version = xstrndup("", 0);
			} else if (sp2 == NULL) {
				r->method = xstrndup(line, (size_t)(sp1 - line));
				r->target = xstrndup(sp1 + 1,
				    (size_t)(e - sp1 - 1));
				r->version = xstrndup("", 0);
			} else {
				r->method = xstrndup(line, (size_t)(sp1 - line));
				r->target = xstrndup(sp1 + 1,
				    (size_t)(sp2 - sp1 - 1));
				r->version = xstrndup(sp2 + 1,
				    (size_t)(e - sp2 - 1));
			}
			continue;
		}
		if (r->nh >= MAX_HEADERS)
			continue;
		r->h = xreallocarray(r->h, r->nh + 1, sizeof(*r->h));
		hdr_parse(&r->h[r->nh++], line, len);
	}
	return (r->line == NULL ? -1 : 0);
}

/* Derive framing and connection handling from the parsed headers. */
static int
req_analyse(struct req *r)
{
	size_t i;
	uint64_t v;
	int http10 = strcmp(r->version, "HTTP/1.0") == 0;
	int conn_close = 0, conn_ka = 0, chunked = 0;

	for (i = 0; i < r->nh; i++) {
		struct hdr *h = &r->h[i];

		if (hdr_is(h, "Content-Length")) {
			if (parse_u64(h->value, h->valuelen, &v) == -1)
				return (-1);
			if (r->clen_seen && v != r->clen)
				return (-1);
			r->clen = v;
			r->clen_seen = 1;
		} else if (hdr_is(h, "Transfer-Encoding")) {
			r->te_seen = 1;
			chunked = te_is_chunked(h->value);
		} else if (hdr_is(h, "Connection")) {
			if (list_has(h->value, "close"))
				conn_close = 1;
			if (list_has(h->value, "keep-alive"))
				conn_ka = 1;
		} else if (hdr_is(h, "Expect")) {
			if (strcasecmp(h->value, "100-continue") == 0)
				r->expect100 = 1;
		} else if (hdr_is(h, "X-Backend-Rate")) {
			if (parse_u64(h->value, h->valuelen, &r->rate) == -1)
				return (-1);
		} else if (hdr_is(h, "X-Request-Id")) {
			free(r->reqid);
			r->reqid = xstrndup(h->value, h->valuelen);
		} else if (hdr_is(h, "X-Backend-Respond-Header")) {
			r->extra = xreallocarray(r->extra, r->nextra + 1,
			    sizeof(*r->extra));
			r->extra[r->nextra++] = xstrndup(h->value,
			    h->valuelen);
		}
	}
	/* RFC 9112 6.3: Transfer-Encoding overrides Content-Length. */
	if (r->te_seen) {
		if (!chunked)
			return (-1);
		r->body = BODY_CHUNKED;
	} else if (r->clen_seen && r->clen > 0)
		r->body = BODY_LENGTH;
	else
		r->body = BODY_NONE;
	r->is_head = strcmp(r->method, "HEAD") == 0;
	r->keepalive = http10 ? (conn_ka && !conn_close) : !conn_close;
	if (http10)
		r->expect100 = 0;
	if ((r->sha = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(r->sha, EVP_sha256(), NULL) != 1)
		abort();
	return (0);
}

static void
req_hash(struct req *r, const void *p, size_t n)
{
	if (EVP_DigestUpdate(r->sha, p, n) != 1)
		abort();
	r->bodylen += n;
}

/* Hash and drop up to max bytes of in.  Returns the number consumed. */
static size_t
body_consume(struct req *r, struct evbuffer *in, uint64_t max)
{
	struct evbuffer_iovec v[8];
	size_t want, got = 0, take;
	int i, nv;

	want = evbuffer_get_length(in);
	if ((uint64_t)want > max)
		want = (size_t)max;
	if (want == 0)
		return (0);
	nv = evbuffer_peek(in, (ev_ssize_t)want, NULL, v, 8);
	if (nv > 8)
		nv = 8;
	for (i = 0; i < nv && got < want; i++) {
		take = v[i].iov_len;
		if (take > want - got)
			take = want - got;
		req_hash(r, v[i].iov_base, take);
		got += take;
	}
	evbuffer_drain(in, got);
	return (got);
}

/*
 * Read a line (LF or CRLF) of at most MAX_CHUNK_LINE bytes.  Returns a
 * malloc'd string, NULL when incomplete; sets *err on an over-long line.
 */
static char *
read_line(struct evbuffer *in, int *err)
{
	struct evbuffer_ptr p;
	size_t len;
	char *line;

	p = evbuffer_search_eol(in, NULL, &len, EVBUFFER_EOL_CRLF);
	if (p.pos == -1) {
		if (evbuffer_get_length(in) > MAX_CHUNK_LINE)
			*err = 1;
		return (NULL);
	}
	if ((size_t)p.pos > MAX_CHUNK_LINE) {
		*err = 1;
		return (NULL);
	}
	line = evbuffer_readln(in, NULL, EVBUFFER_EOL_CRLF);
	return (line);
}

/*
 * Advance the chunked decoder over in.  Returns 1 when the body (and its
 * trailers) are complete, 0 when more input is needed, -1 on a framing
 * error.
 */
static int
body_chunked(struct req *r, struct evbuffer *in)
{
	char *line, *semi;
	int err = 0;
	uint64_t v;
	size_t i, n;

	for (;;) {
		switch (r->cst) {
		case CH_SIZE:
			if ((line = read_line(in, &err)) == NULL)
				return (err ? -1 : 0);
			if ((semi = strchr(line, ';')) != NULL)
				*semi = '\0';
			n = strlen(line);
			while (n > 0 && (line[n - 1] == ' ' ||
			    line[n - 1] == '\t'))
				line[--n] = '\0';
			v = 0;
			for (i = 0; i < n; i++) {
				int d = isdigit((unsigned char)line[i]) ?
				    line[i] - '0' :
				    isxdigit((unsigned char)line[i]) ?
				    tolower((unsigned char)line[i]) - 'a' + 10
				    : -1;
				if (d < 0 || v > (UINT64_MAX >> 4)) {
					free(line);
					return (-1);
				}
				v = (v << 4) | (uint64_t)d;
			}
			free(line);
			if (n == 0)
				return (-1);
			r->nchunks++;
			if (v == 0) {
				r->cst = CH_TRAILER;
				break;
			}
			r->chunk_left = v;
			r->cst = CH_DATA;
			break;
		case CH_DATA:
			r->chunk_left -= body_consume(r, in, r->chunk_left);
			if (r->chunk_left > 0)
				return (0);
			r->cst = CH_DATA_END;
			break;
		case CH_DATA_END:
			if ((line = read_line(in, &err)) == NULL)
				return (err ? -1 : 0);
			n = strlen(line);
			free(line);
			if (n != 0)
				return (-1);
			r->cst = CH_SIZE;
			break;
		case CH_TRAILER:
			if ((line = read_line(in, &err)) == NULL)
				return (err ? -1 : 0);
			if (*line == '\0') {
				free(line);
				return (1);
			}
			r->tr = xreallocarray(r->tr, r->ntr + 1,
			    sizeof(*r->tr));
			hdr_parse(&r->tr[r->ntr++], line, strlen(line));
			free(line);
			break;
		}
	}
}

/*
 * ------------------------------------------------------------------
 * Responses
 * ------------------------------------------------------------------
 */

/* Start a response head; the caller adds its own headers and the CRLF. */
static void
resp_head(struct bconn *c, struct evbuffer *out, int code)
{
	size_t i;

	evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\n", code,
	    status_text(code));
	evbuffer_add_printf(out, "X-Backend-Id: %s\r\n", backend_id);
	evbuffer_add_printf(out, "X-Backend-Conn: %u\r\n", c->id);
	evbuffer_add_printf(out, "X-Backend-Req: %u\r\n", c->nreq);
	if (c->req.reqid != NULL)
		evbuffer_add_printf(out, "X-Request-Id: %s\r\n", c->req.reqid);
	for (i = 0; i < c->req.nextra; i++)
		evbuffer_add_printf(out, "%s\r\n", c->req.extra[i]);
	if (max_requests != 0 && c->nreq >= max_requests)
		c->close_after = 1;
	if (!c->req.keepalive)
		c->close_after = 1;
	if (c->close_after && !(silent_close && c->req.keepalive))
		evbuffer_add_printf(out, "Connection: close\r\n");
	else if (strcmp(c->req.version, "HTTP/1.0") == 0)
		evbuffer_add_printf(out, "Connection: keep-alive\r\n");
}

/* The response is fully queued: close after it, or read the next one. */
static void
resp_done(struct bconn *c)
{
	c->gen = GEN_NONE;
	req_reset(&c->req);
	if (c->close_after) {
		c->state = CST_DEAD;
		c->after = AF_CLOSE;
		if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
			conn_free(c);
		return;
	}
	c->state = CST_HEAD;
	if (idle_close_ms != 0) {
		/* --idle-close-ms: the timer means "idle" in CST_HEAD. */
		struct timeval tv = { idle_close_ms / 1000,
		    (idle_close_ms % 1000) * 1000 };

		evtimer_add(c->timer, &tv);
	}
	conn_process(c);
}

static void
resp_simple(struct bconn *c, int code, const char *ctype, const char *body,
    size_t len)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);

	resp_head(c, out, code);
	if (code == 204 || code == 304 || (code >= 100 && code < 200)) {
		evbuffer_add(out, "\r\n", 2);
	} else {
		evbuffer_add_printf(out, "Content-Type: %s\r\n"
		    "Content-Length: %zu\r\n\r\n", ctype, len);
		if (!c->req.is_head)
			evbuffer_add(out, body, len);
	}
	resp_done(c);
}

static void
hdrs_json(struct evbuffer *b, const struct hdr *h, size_t n)
{
	size_t i;
	int lossy;

	evbuffer_add(b, "[", 1);
	for (i = 0; i < n; i++) {
		if (i > 0)
			evbuffer_add(b, ",", 1);
		evbuffer_add(b, "[", 1);
		lossy = json_str(b, h[i].name, h[i].namelen);
		evbuffer_add(b, ",", 1);
		if (h[i].value == NULL)
			evbuffer_add(b, "null", 4);
		else
			lossy |= json_str(b, h[i].value, h[i].valuelen);
		if (lossy) {
			/* The exact bytes, for values that are not UTF-8. */
			evbuffer_add(b, ",", 1);
			json_hex(b, h[i].name, h[i].namelen);
			evbuffer_add(b, ",", 1);
			if (h[i].value != NULL)
				json_hex(b, h[i].value, h[i].valuelen);
			else
				evbuffer_add(b, "null", 4);
		}
		evbuffer_add(b, "]", 1);
	}
	evbuffer_add(b, "]", 1);
}

/* The report of what this request looked like on the wire. */
static void
resp_echo(struct bconn *c)
{
	struct req *r = &c->req;
	struct evbuffer *b, *out = bufferevent_get_output(c->bev);
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0, i;
	size_t len;

	if ((b = evbuffer_new()) == NULL)
		abort();
	if (EVP_DigestFinal_ex(r->sha, md, &mdlen) != 1)
		abort();
	evbuffer_add_printf(b, "{\"backend\":");
	json_str(b, backend_id, strlen(backend_id));
	evbuffer_add_printf(b, ",\"conn\":%u,\"req\":%u,\"peer\":\"%s\"",
	    c->id, c->nreq, c->peer);
	evbuffer_add_printf(b, ",\"request_line\":");
	json_str(b, r->line, strlen(r->line));
	evbuffer_add_printf(b, ",\"method\":");
	json_str(b, r->method, strlen(r->method));
	evbuffer_add_printf(b, ",\"target\":");
	json_str(b, r->target, strlen(r->target));
	evbuffer_add_printf(b, ",\"version\":");
	json_str(b, r->version, strlen(r->version));
	evbuffer_add_printf(b, ",\"bare_lf\":%s,\"headers\":",
	    r->bare_lf ? "true" : "false");
	hdrs_json(b, r->h, r->nh);
	evbuffer_add_printf(b, ",\"framing\":\"%s\",\"chunks\":%u"
	    ",\"trailers\":", r->body == BODY_CHUNKED ? "chunked" :
	    r->body == BODY_LENGTH ? "length" : "none", r->nchunks);
	hdrs_json(b, r->tr, r->ntr);
	evbuffer_add_printf(b, ",\"sent_100\":%s,\"body_length\":%" PRIu64
	    ",\"body_sha256\":\"", r->sent100 ? "true" : "false", r->bodylen);
	for (i = 0; i < mdlen; i++)
		evbuffer_add_printf(b, "%02x", md[i]);
	evbuffer_add_printf(b, "\"}\n");

	len = evbuffer_get_length(b);
	resp_head(c, out, 200);
	evbuffer_add_printf(out, "Content-Type: application/json\r\n"
	    "Content-Length: %zu\r\n\r\n", len);
	if (!r->is_head)
		evbuffer_add_buffer(out, b);
	evbuffer_free(b);
	resp_done(c);
}

/*
 * Connections in the middle of a request or response: anything but idle
 * between requests.  An abandoned transfer the proxy failed to tear down
 * shows up here, where pooled idle connections do not.
 */
static unsigned
busy_count(const struct bconn *self)
{
	const struct bconn *c;
	unsigned n = 0;

	for (c = TAILQ_FIRST(&conns); c != NULL; c = TAILQ_NEXT(c, entry)) {
		if (c == self || c->is_stats_conn)
			continue;
		if (c->state != CST_HEAD ||
		    evbuffer_get_length(bufferevent_get_input(c->bev)) > 0 ||
		    evbuffer_get_length(bufferevent_get_output(c->bev)) > 0)
			n++;
	}
	return (n);
}

static void
resp_stats(struct bconn *c, int reset)
{
	char body[1024];
	int n;

	if (reset) {
		n_accepted = n_stats_conns = n_requests = n_errors = 0;
		n_completed = 0;
		n_bytes = 0;
		n_tls_hs = n_tls_resumed = n_tls_client_certs = 0;
		n_tls_sni = 0;
		last_sni[0] = '\0';
	}
	n = snprintf(body, sizeof(body), "{\"id\":\"%s\",\"mode\":\"%s\","
	    "\"conns\":%u,\"requests\":%u,\"completed\":%u,\"open\":%u,"
	    "\"busy\":%u,\"bytes\":%" PRIu64 ",\"errors\":%u,"
	    "\"accepted\":%u,\"tls_handshakes\":%u,\"tls_resumed\":%u,"
	    "\"tls_client_certs\":%u,\"tls_sni\":%u,\"last_sni\":\"%s\"}\n",
	    backend_id, mode_names[mode], n_accepted - n_stats_conns,
	    n_requests, n_completed, n_open - (c->is_stats_conn ? 1 : 0),
	    busy_count(c), n_bytes, n_errors, n_accepted, n_tls_hs,
	    n_tls_resumed, n_tls_client_certs, n_tls_sni, last_sni);
	resp_simple(c, 200, "application/json", body, (size_t)n);
}

/* Queue more generated bytes, up to GEN_HIGH in the output buffer. */
static void
gen_fill(struct bconn *c)
{
	static const size_t sizes[] = { 1, 7, 100, 4096, 16384, 65533, 3000 };
	struct evbuffer *out = bufferevent_get_output(c->bev);
	uint8_t *blk;
	size_t n;

	if (c->gen != GEN_LENGTH && c->gen != GEN_CHUNKED &&
	    c->gen != GEN_CLOSE)
		return;
	if ((blk = malloc(GEN_BLOCK)) == NULL)
		abort();
	while (c->gen_off < c->gen_total &&
	    evbuffer_get_length(out) < GEN_HIGH) {
		n = GEN_BLOCK;
		if (c->gen == GEN_CHUNKED)
			n = sizes[c->gen_chunk++ % (sizeof(sizes) /
			    sizeof(sizes[0]))];
		if ((uint64_t)n > c->gen_total - c->gen_off)
			n = (size_t)(c->gen_total - c->gen_off);
		pattern_fill(blk, c->gen_off, n);
		if (c->gen == GEN_CHUNKED)
			evbuffer_add_printf(out, "%zx\r\n", n);
		evbuffer_add(out, blk, n);
		if (c->gen == GEN_CHUNKED)
			evbuffer_add(out, "\r\n", 2);
		c->gen_off += n;
	}
	free(blk);
	if (c->gen_off < c->gen_total)
		return;
	if (c->gen == GEN_CHUNKED) {
		if (c->trailers)
			evbuffer_add_printf(out, "0\r\nX-Backend-Trailer: "
			    "%s\r\nX-Trailer-Length: %" PRIu64 "\r\n\r\n",
			    backend_id, c->gen_total);
		else
			evbuffer_add(out, "0\r\n\r\n", 5);
	}
	if (c->gen == GEN_CLOSE)
		c->close_after = 1;
	resp_done(c);
}

static void
resp_generated(struct bconn *c, enum gen_kind kind, uint64_t n)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);

	if (kind == GEN_CLOSE)
		c->close_after = 1;
	resp_head(c, out, 200);
	evbuffer_add_printf(out, "Content-Type: application/octet-stream\r\n");
	if (kind == GEN_LENGTH)
		evbuffer_add_printf(out, "Content-Length: %" PRIu64 "\r\n", n);
	else if (kind == GEN_CHUNKED) {
		evbuffer_add_printf(out, "Transfer-Encoding: chunked\r\n");
		if (c->trailers)
			evbuffer_add_printf(out, "Trailer: X-Backend-Trailer, "
			    "X-Trailer-Length\r\n");
	} else if (kind == GEN_CLOSE && !c->close_after)
		evbuffer_add_printf(out, "Connection: close\r\n");
	evbuffer_add(out, "\r\n", 2);
	if (c->req.is_head) {
		if (kind == GEN_CLOSE)
			c->close_after = 1;
		resp_done(c);
		return;
	}
	c->gen = kind;
	c->gen_off = 0;
	c->gen_total = n;
	c->gen_chunk = 0;
	c->state = CST_RESPOND;
	gen_fill(c);
}

/* Answer after a delay (/slow/<ms>): the timer calls resp_echo. */
static void
resp_later(struct bconn *c, unsigned ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	c->state = CST_WAIT;
	evtimer_add(c->timer, &tv);
}

static void
tick(struct bconn *c, unsigned ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	evtimer_add(c->timer, &tv);
}

/* One byte of c->drip per tick; the response is done when it is empty. */
static void
drip_start(struct bconn *c, struct evbuffer *src, unsigned ms)
{
	if (c->drip == NULL && (c->drip = evbuffer_new()) == NULL)
		abort();
	evbuffer_add_buffer(c->drip, src);
	c->gen = GEN_DRIP;
	c->gen_ms = ms;
	c->state = CST_RESPOND;
	tick(c, ms);
}

/*
 * ------------------------------------------------------------------
 * Faults
 * ------------------------------------------------------------------
 */

static void
fault_apply(struct bconn *c, enum be_mode m)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	struct evbuffer *tmp;
	uint8_t *blk;
	size_t i;

	vlog("conn %u: fault %s", c->id, mode_names[m]);
	switch (m) {
	case MODE_ECHO:
	case MODE_REFUSE:
		resp_echo(c);
		return;
	case MODE_HANG:
		c->state = CST_DISCARD;
		return;
	case MODE_CLOSE:
		/* A FIN with no answer; then wait for the peer's close. */
		c->state = CST_DISCARD;
		c->after = AF_SHUTDOWN;
		conn_write_cb(c->bev, c);
		return;
	case MODE_RESET_MID_BODY:
		resp_head(c, out, 200);
		evbuffer_add_printf(out, "Content-Type: application/"
		    "octet-stream\r\nContent-Length: %d\r\n\r\n",
		    2 * RESET_HALF);
		if ((blk = malloc(RESET_HALF)) == NULL)
			abort();
		pattern_fill(blk, 0, RESET_HALF);
		evbuffer_add(out, blk, RESET_HALF);
		free(blk);
		c->state = CST_DISCARD;
		c->after = AF_RESET;
		return;
	case MODE_GARBAGE:
		evbuffer_add_printf(out, "this is not HTTP at all\r\n\x01\x02"
		    "\xff\xfe garbage garbage\r\n\r\n");
		c->state = CST_DISCARD;
		c->after = AF_SHUTDOWN;
		return;
	case MODE_LONG_STATUS:
		evbuffer_add_printf(out, "HTTP/1.1 200 ");
		for (i = 0; i < 64 * 1024 / 64; i++)
			evbuffer_add_printf(out, "%s", "OOOOOOOOOOOOOOOOOOOO"
			    "OOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOK");
		evbuffer_add_printf(out, "\r\nContent-Length: 2\r\n\r\nok");
		c->state = CST_DISCARD;
		return;
	case MODE_ENDLESS_CHUNKED:
		resp_head(c, out, 200);
		evbuffer_add_printf(out, "Content-Type: application/"
		    "octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n");
		c->gen = GEN_ENDLESS;
		c->gen_ms = 10;
		c->gen_off = 0;
		c->state = CST_RESPOND;
		evutil_gettimeofday(&c->started, NULL);
		tick(c, c->gen_ms);
		return;
	case MODE_SLOW:
		if ((tmp = evbuffer_new()) == NULL)
			abort();
		resp_head(c, tmp, 200);
		evbuffer_add_printf(tmp, "Content-Type: text/plain\r\n"
		    "Content-Length: 5\r\n\r\nslow\n");
		drip_start(c, tmp, slow_ms);
		evbuffer_free(tmp);
		return;
	}
}

static int
mode_lookup(const char *s, size_t n)
{
	int i;

	for (i = 0; mode_names[i] != NULL; i++)
		if (strlen(mode_names[i]) == n &&
		    strncmp(mode_names[i], s, n) == 0)
			return (i);
	return (-1);
}

/*
 * ------------------------------------------------------------------
 * Dispatch
 * ------------------------------------------------------------------
 */

/* Does path (up to '?') start with prefix, and what follows it? */
static const char *
path_arg(const char *path, size_t pathlen, const char *prefix, size_t *alen)
{
	size_t pl = strlen(prefix);

	if (pathlen < pl || strncmp(path, prefix, pl) != 0)
		return (NULL);
	*alen = pathlen - pl;
	return (path + pl);
}

/* The request is complete (head, and body unless a fault said not): answer. */
static void
req_answer(struct bconn *c)
{
	struct req *r = &c->req;
	const char *path = r->target, *a, *slash;
	size_t plen, alen;
	uint64_t n, ms;
	int m;
	struct evbuffer *tmp, *out = bufferevent_get_output(c->bev);

	plen = strcspn(path, "?");
	if (plen == 8 && strncmp(path, "/__stats", 8) == 0) {
		resp_stats(c, 0);
		return;
	}
	if (plen == 8 && strncmp(path, "/__reset", 8) == 0) {
		resp_stats(c, 1);
		return;
	}
	if (mode != MODE_ECHO) {
		fault_apply(c, mode);
		return;
	}
	if ((a = path_arg(path, plen, "/fault/", &alen)) != NULL &&
	    (m = mode_lookup(a, alen)) != -1) {
		fault_apply(c, (enum be_mode)m);
		return;
	}
	if ((a = path_arg(path, plen, "/size/", &alen)) != NULL &&
	    parse_u64(a, alen, &n) == 0 && n <= MAX_GEN) {
		resp_generated(c, GEN_LENGTH, n);
		return;
	}
	if ((a = path_arg(path, plen, "/chunked/", &alen)) != NULL &&
	    parse_u64(a, alen, &n) == 0 && n <= MAX_GEN) {
		resp_generated(c, GEN_CHUNKED, n);
		return;
	}
	if ((a = path_arg(path, plen, "/trailers/", &alen)) != NULL &&
	    parse_u64(a, alen, &n) == 0 && n <= MAX_GEN) {
		c->trailers = 1;
		resp_generated(c, GEN_CHUNKED, n);
		return;
	}
	if ((a = path_arg(path, plen, "/close/", &alen)) != NULL &&
	    parse_u64(a, alen, &n) == 0 && n <= MAX_GEN) {
		resp_generated(c, GEN_CLOSE, n);
		return;
	}
	/* /early/: a 103 Early Hints and a 100 Continue before the echo. */
	if (plen >= 7 && strncmp(path, "/early/", 7) == 0) {
		evbuffer_add_printf(out, "HTTP/1.1 103 Early Hints\r\n"
		    "Link: </style.css>; rel=preload\r\n\r\n"
		    "HTTP/1.1 100 Continue\r\n\r\n");
		resp_echo(c);
		return;
	}
	if ((a = path_arg(path, plen, "/status/", &alen)) != NULL &&
	    parse_u64(a, alen, &n) == 0 && n >= 200 && n <= 599) {
		char body[64];
		int bl = snprintf(body, sizeof(body), "status %d\n", (int)n);

		resp_simple(c, (int)n, "text/plain", body, (size_t)bl);
		return;
	}
	if ((a = path_arg(path, plen, "/slow/", &alen)) != NULL &&
	    parse_u64(a, alen, &ms) == 0 && ms <= 600000) {
		resp_later(c, (unsigned)ms);
		return;
	}
	/* /drip/<N>/<ms>: a Content-Length body, one byte per <ms>. */
	if ((a = path_arg(path, plen, "/drip/", &alen)) != NULL &&
	    (slash = memchr(a, '/', alen)) != NULL &&
	    parse_u64(a, (size_t)(slash - a), &n) == 0 && n <= 65536 &&
	    parse_u64(slash + 1, alen - (size_t)(slash - a) - 1, &ms) == 0 &&
	    ms <= 60000) {
		uint8_t *blk;

		resp_head(c, out, 200);
		evbuffer_add_printf(out, "Content-Type: application/"
		    "octet-stream\r\nContent-Length: %" PRIu64 "\r\n\r\n", n);
		if (r->is_head || n == 0) {
			resp_done(c);
			return;
		}
		if ((tmp = evbuffer_new()) == NULL ||
		    (blk = malloc((size_t)n)) == NULL)
			abort();
		pattern_fill(blk, 0, (size_t)n);
		evbuffer_add(tmp, blk, (size_t)n);
		free(blk);
		drip_start(c, tmp, (unsigned)ms);
		evbuffer_free(tmp);
		return;
	}
	/* /stall/<N>: announce 2N bytes, send N, then nothing. */
	if ((a = path_arg(path, plen, "/stall/", &alen)) != NULL &&
	    parse_u64(a, alen, &n) == 0 && n <= 1024 * 1024) {
		uint8_t *blk;

		resp_head(c, out, 200);
		evbuffer_add_printf(out, "Content-Type: application/"
		    "octet-stream\r\nContent-Length: %" PRIu64 "\r\n\r\n",
		    2 * n);
		if ((blk = malloc((size_t)n + 1)) == NULL)
			abort();
		pattern_fill(blk, 0, (size_t)n);
		evbuffer_add(out, blk, (size_t)n);
		free(blk);
		c->gen = GEN_STALL;
		c->state = CST_DISCARD;
		return;
	}
	resp_echo(c);
}

/* A request head is complete: count it, decide what happens to its body. */
static void
req_begin(struct bconn *c)
{
	struct req *r = &c->req;
	struct evbuffer *out = bufferevent_get_output(c->bev);
	size_t plen = strcspn(r->target, "?");

	c->nreq++;
	r->stats_only = plen == 8 && (strncmp(r->target, "/__stats", 8) == 0 ||
	    strncmp(r->target, "/__reset", 8) == 0);
	if (r->stats_only && c->nreq == 1) {
		c->is_stats_conn = 1;
		n_stats_conns++;
		n_bytes -= c->bytes_in;
	} else if (!r->stats_only)
		n_requests++;
	vlog("conn %u req %u: %s", c->id, c->nreq, r->line);

	/* Faults that answer at once do not wait for the body. */
	if (!r->stats_only && (mode == MODE_HANG || mode == MODE_CLOSE)) {
		fault_apply(c, mode);
		return;
	}
	if (r->expect100 && r->body != BODY_NONE) {
		evbuffer_add_printf(out, "HTTP/1.1 100 Continue\r\n\r\n");
		r->sent100 = 1;
	}
	c->state = CST_BODY;
}

/*
 * Run the connection's state machine over whatever input is buffered.  It
 * may free c (through resp_done or an error).
 */
static void
conn_process(struct bconn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	struct req *r = &c->req;
	size_t n, end, skip;
	const char *p;
	int rc;

	for (;;) {
		switch (c->state) {
		case CST_HEAD:
			n = evbuffer_get_length(in);
			if (n == 0)
				return;
			if (n > MAX_HEAD + 4)
				n = MAX_HEAD + 4;
			p = (const char *)evbuffer_pullup(in, (ev_ssize_t)n);
			/* Skip empty lines before the request line. */
			for (skip = 0; skip < n && (p[skip] == '\r' ||
			    p[skip] == '\n'); skip++)
				;
			if (skip > 0) {
				evbuffer_drain(in, skip);
				continue;
			}
			if ((end = head_end(p, n)) == 0) {
				if (n > MAX_HEAD) {
					n_errors++;
					c->req.version = xstrndup("", 0);
					c->req.keepalive = 0;
					resp_simple(c, 431, "text/plain",
					    "head too long\n", 14);
					return;
				}
				return;
			}
			memset(r, 0, sizeof(*r));
			if (req_parse_head(r, p, end) == -1 ||
			    req_analyse(r) == -1) {
				n_errors++;
				evbuffer_drain(in, end);
				if (r->version == NULL)
					r->version = xstrndup("", 0);
				if (r->method == NULL)
					r->method = xstrndup("", 0);
				r->keepalive = 0;
				r->is_head = 0;
				c->nreq++;
				resp_simple(c, 400, "text/plain",
				    "bad framing\n", 12);
				return;
			}
			evbuffer_drain(in, end);
			if (idle_close_ms != 0)
				evtimer_del(c->timer);
			conn_rate(c, r->rate);
			req_begin(c);
			break;
		case CST_BODY:
			if (r->body == BODY_LENGTH) {
				body_consume(r, in, r->clen - r->bodylen);
				if (r->bodylen < r->clen)
					return;
			} else if (r->body == BODY_CHUNKED) {
				if ((rc = body_chunked(r, in)) == 0)
					return;
				if (rc == -1) {
					n_errors++;
					r->keepalive = 0;
					resp_simple(c, 400, "text/plain",
					    "bad chunked body\n", 17);
					return;
				}
			}
			if (!r->stats_only)
				n_completed++;
			c->state = CST_RESPOND;
			req_answer(c);
			/* req_answer may have freed c; never touch it here. */
			return;
		case CST_DISCARD:
			evbuffer_drain(in, evbuffer_get_length(in));
			return;
		case CST_WAIT:
		case CST_RESPOND:
		case CST_DEAD:
			return;
		}
	}
}

/*
 * ------------------------------------------------------------------
 * Connection lifecycle
 * ------------------------------------------------------------------
 */

static void
conn_free(struct bconn *c)
{
	vlog("conn %u: closed after %u requests", c->id, c->nreq);
	if (c->after == AF_RESET) {
		struct linger l = { 1, 0 };
		evutil_socket_t fd = bufferevent_getfd(c->bev);

		(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	}
	bufferevent_free(c->bev);
	c->bev = NULL;
	if (c->rate_cfg != NULL)
		ev_token_bucket_cfg_free(c->rate_cfg);
	c->rate_cfg = NULL;
	event_free(c->timer);
	c->timer = NULL;
	/* evbuffer_free(NULL) is not a no-op in libevent 2.1. */
	if (c->drip != NULL)
		evbuffer_free(c->drip);
	c->drip = NULL;
	req_reset(&c->req);
	n_open--;
	TAILQ_REMOVE(&conns, c, entry);
	free(c);
}

/* Count every byte that arrives, whether or not it ever gets parsed. */
static void
conn_input_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info,
    void *arg)
{
	struct bconn *c = arg;

	(void)buf;
	c->bytes_in += info->n_added;
	if (!c->is_stats_conn)
		n_bytes += info->n_added;
}

/*
 * X-Backend-Rate: N makes this connection a slow peer for the request:
 * it reads the body and writes the response at about N bytes/s (in 10 ms
 * ticks).  A request without the header lifts the limit.
 */
static void
conn_rate(struct bconn *c, uint64_t bps)
{
	struct ev_token_bucket_cfg *cfg = NULL;
	struct timeval tick = { 0, 10000 };
	size_t per = (size_t)(bps / 100);

	if (bps == 0 && c->rate_cfg == NULL)
		return;
	if (bps > 0) {
		if (per == 0)
			per = 1;
		if ((cfg = ev_token_bucket_cfg_new(per, per, per, per,
		    &tick)) == NULL)
			abort();
	}
	if (bufferevent_set_rate_limit(c->bev, cfg) == -1)
		abort();
	if (c->rate_cfg != NULL)
		ev_token_bucket_cfg_free(c->rate_cfg);
	c->rate_cfg = cfg;
}

static void
conn_read_cb(struct bufferevent *bev, void *arg)
{
	struct bconn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);

	if (c->state == CST_DISCARD) {
		evbuffer_drain(in, evbuffer_get_length(in));
		return;
	}
	conn_process(c);
	/* c may be gone now. */
}

static void
conn_after_flush(struct bconn *c)
{
	struct timeval tv;
	evutil_socket_t fd;

	switch (c->after) {
	case AF_NOTHING:
		return;
	case AF_CLOSE:
		conn_free(c);
		return;
	case AF_SHUTDOWN:
		fd = bufferevent_getfd(c->bev);
		(void)shutdown(fd, SHUT_WR);
		c->after = AF_NOTHING;
		c->state = CST_DISCARD;
		tv.tv_sec = LINGER_SECS;
		tv.tv_usec = 0;
		c->gen = GEN_NONE;
		evtimer_add(c->timer, &tv);
		c->close_after = 1;
		return;
	case AF_RESET:
		/* Give loopback a moment to deliver, then RST. */
		tv.tv_sec = 0;
		tv.tv_usec = 50000;
		c->gen = GEN_NONE;
		c->state = CST_DEAD;
		evtimer_add(c->timer, &tv);
		return;
	}
}

static void
conn_write_cb(struct bufferevent *bev, void *arg)
{
	struct bconn *c = arg;

	if (c->state == CST_RESPOND && (c->gen == GEN_LENGTH ||
	    c->gen == GEN_CHUNKED || c->gen == GEN_CLOSE)) {
		gen_fill(c);
		return;
	}
	if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		conn_after_flush(c);
}

/* The last of a gentle close: drop what the peer sent, then close. */
static void
linger_done_cb(evutil_socket_t fd, short what, void *arg)
{
	char	 buf[4096];

	(void)what;
	(void)arg;
	while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
	close(fd);
}

/*
 * Close fd's connection without a reset: a copy of the socket is
 * half-closed now (FIN after what was written) and closed 300 ms later,
 * once the peer had time to read; the caller closes fd itself.
 */
static void
linger_close(evutil_socket_t fd)
{
	struct timeval	 tv = { 0, 300 * 1000 };
	evutil_socket_t	 fd2;

	if ((fd2 = dup(fd)) == -1)
		return;
	(void)shutdown(fd2, SHUT_WR);
	if (event_base_once(base, fd2, EV_TIMEOUT, linger_done_cb, NULL,
	    &tv) == -1)
		close(fd2);
}

static void
conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct bconn *c = arg;

	if (what & BEV_EVENT_CONNECTED) {
		/* TLS: the handshake is done. */
		SSL *ssl = bufferevent_openssl_get_ssl(bev);
		X509 *peer;
		const char *sni;

		n_tls_hs++;
		c->tls_up = 1;
		if (ssl != NULL && (sni = SSL_get_servername(ssl,
		    TLSEXT_NAMETYPE_host_name)) != NULL) {
			/* Test names only: letters, digits, '.', '-'. */
			n_tls_sni++;
			snprintf(last_sni, sizeof(last_sni), "%.*s",
			    (int)strspn(sni, "abcdefghijklmnopqrstuvwxyz"
			    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-"), sni);
		}
		if (ssl != NULL && SSL_session_reused(ssl))
			n_tls_resumed++;
		if (ssl != NULL && (peer = SSL_get_peer_certificate(ssl)) !=
		    NULL) {
			n_tls_client_certs++;
			X509_free(peer);
		}
		return;
	}
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
		vlog("conn %u: %s", c->id, (what & BEV_EVENT_EOF) ? "eof" :
		    evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
		if (tls_ctx != NULL && !c->tls_up) {
			/* A refused handshake (no client certificate): its
			 * alert is on the wire; close gently so that the
			 * client's request, unread here, does not turn the
			 * close into a reset that discards the alert. */
			linger_close(bufferevent_getfd(bev));
			conn_free(c);
			return;
		}
		/*
		 * A peer that half-closed after a complete request still gets
		 * its answer; anything else ends here.
		 */
		if ((what & BEV_EVENT_EOF) && !(what & BEV_EVENT_ERROR) &&
		    (c->state == CST_WAIT || (c->state == CST_RESPOND &&
		    c->gen != GEN_ENDLESS))) {
			c->close_after = 1;
			return;
		}
		conn_free(c);
	}
}

static void
conn_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct bconn *c = arg;
	struct evbuffer *out;
	struct timeval now;
	char chunk[1024];
	unsigned char ch;

	(void)fd;
	(void)what;
	out = bufferevent_get_output(c->bev);
	switch (c->state) {
	case CST_WAIT:
		c->state = CST_RESPOND;
		resp_echo(c);
		return;
	case CST_HEAD:
		/* --idle-close-ms: a keep-alive connection sat idle. */
		if (evbuffer_get_length(bufferevent_get_input(c->bev)) == 0) {
			vlog("conn %u: idle close", c->id);
			conn_free(c);
		}
		return;
	case CST_DEAD:
		conn_free(c);
		return;
	case CST_DISCARD:
		/* The linger after a shutdown (or after endless) expired. */
		conn_free(c);
		return;
	case CST_BODY:
		return;
	case CST_RESPOND:
		break;
	}
	if (c->gen == GEN_DRIP) {
		if (evbuffer_remove(c->drip, &ch, 1) == 1) {
			evbuffer_add(out, &ch, 1);
			if (evbuffer_get_length(c->drip) > 0) {
				tick(c, c->gen_ms);
				return;
			}
		}
		resp_done(c);
		return;
	}
	if (c->gen == GEN_ENDLESS) {
		evutil_gettimeofday(&now, NULL);
		if (now.tv_sec - c->started.tv_sec >= ENDLESS_SECS) {
			c->state = CST_DEAD;
			c->after = AF_CLOSE;
			conn_free(c);
			return;
		}
		/* Keep the backlog bounded when the reader stalls. */
		if (evbuffer_get_length(out) < GEN_HIGH) {
			pattern_fill((uint8_t *)chunk, c->gen_off,
			    sizeof(chunk));
			evbuffer_add_printf(out, "%zx\r\n", sizeof(chunk));
			evbuffer_add(out, chunk, sizeof(chunk));
			evbuffer_add(out, "\r\n", 2);
			c->gen_off += sizeof(chunk);
		}
		tick(c, c->gen_ms);
	}
}

static void
accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
    int salen, void *arg)
{
	struct bconn *c;
	struct sockaddr_in *sin = (struct sockaddr_in *)sa;
	char addr[INET6_ADDRSTRLEN];
	int one = 1;

	(void)l;
	(void)salen;
	(void)arg;
	c = xcalloc(1, sizeof(*c));
	c->id = ++n_accepted;
	n_open++;
	TAILQ_INSERT_TAIL(&conns, c, entry);
	if (sa->sa_family == AF_INET &&
	    inet_ntop(AF_INET, &sin->sin_addr, addr, sizeof(addr)) != NULL)
		snprintf(c->peer, sizeof(c->peer), "%s:%u", addr,
		    ntohs(sin->sin_port));
	else
		snprintf(c->peer, sizeof(c->peer), "?");
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (tls_ctx != NULL) {
		SSL *ssl = SSL_new(tls_ctx);

		if (ssl == NULL)
			abort();
		c->bev = bufferevent_openssl_socket_new(base, fd, ssl,
		    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
	} else
		c->bev = bufferevent_socket_new(base, fd,
		    BEV_OPT_CLOSE_ON_FREE);
	c->timer = evtimer_new(base, conn_timer_cb, c);
	if (c->bev == NULL || c->timer == NULL)
		abort();
	bufferevent_setcb(c->bev, conn_read_cb, conn_write_cb,
	    conn_event_cb, c);
	evbuffer_add_cb(bufferevent_get_input(c->bev), conn_input_cb, c);
	bufferevent_setwatermark(c->bev, EV_WRITE, GEN_HIGH / 4, 0);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	vlog("conn %u: accepted from %s", c->id, c->peer);
	if (idle_close_ms != 0) {
		struct timeval tv = { idle_close_ms / 1000,
		    (idle_close_ms % 1000) * 1000 };

		evtimer_add(c->timer, &tv);
	}
}

static void
signal_cb(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	(void)arg;
	vlog("signal %d: exiting", (int)sig);
	event_base_loopexit(base, NULL);
}

static void
usage(void)
{
	fprintf(stderr, "usage: backend [--port N] [--bind IPV4] [--mode MODE]"
	    " [--id NAME] [--max-requests N]\n"
	    "               [--silent-close] [--idle-close-ms MS] "
	    "[--slow-ms MS] [-v]\n"
	    "               [--tls-cert PEM --tls-key PEM "
	    "[--tls-client-ca PEM]]\n"
	    "       backend --gen N | --gen-sha256 N\n"
	    "modes: echo refuse hang close reset_mid_body garbage "
	    "long_status\n       endless_chunked slow\n");
	exit(2);
}

/* Write the first n pattern bytes to stdout, or their SHA-256 in hex. */
static int
gen_out(uint64_t n, int sha)
{
	uint8_t *blk = NULL;
	EVP_MD_CTX *md = NULL;
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned dl = 0, i;
	uint64_t off = 0;
	size_t k;
	int ret = 1;

	if ((blk = malloc(GEN_BLOCK)) == NULL)
		goto done;
	if (sha && ((md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1))
		goto done;
	while (off < n) {
		k = GEN_BLOCK;
		if ((uint64_t)k > n - off)
			k = (size_t)(n - off);
		pattern_fill(blk, off, k);
		if (sha) {
			if (EVP_DigestUpdate(md, blk, k) != 1)
				goto done;
		} else if (fwrite(blk, 1, k, stdout) != k)
			goto done;
		off += k;
	}
	if (sha) {
		if (EVP_DigestFinal_ex(md, d, &dl) != 1)
			goto done;
		for (i = 0; i < dl; i++)
			printf("%02x", d[i]);
		printf("\n");
	}
	ret = fflush(stdout) == 0 ? 0 : 1;
done:
	EVP_MD_CTX_free(md);
	free(blk);
	return (ret);
}

/*
 * Entry point.  Accepts the options in usage(); prints "PORT <n>" as the
 * first line on stdout once it listens (or, in refuse mode, once the port
 * is known to be closed), then serves until SIGTERM or SIGINT and exits 0.
 */
int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "mode", required_argument, NULL, 'm' },
		{ "id", required_argument, NULL, 'i' },
		{ "max-requests", required_argument, NULL, 'r' },
		{ "silent-close", no_argument, NULL, 's' },
		{ "idle-close-ms", required_argument, NULL, 'I' },
		{ "slow-ms", required_argument, NULL, 'S' },
		{ "gen", required_argument, NULL, 'g' },
		{ "gen-sha256", required_argument, NULL, 'G' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "bind", required_argument, NULL, 'b' },
		{ "tls-cert", required_argument, NULL, 'T' },
		{ "tls-key", required_argument, NULL, 'K' },
		{ "tls-client-ca", required_argument, NULL, 'C' },
		{ NULL, 0, NULL, 0 }
	};
	const char *tls_cert = NULL, *tls_key = NULL, *tls_cca = NULL;
	struct sockaddr_in sin;
	struct in_addr bind_addr = { htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sin);
	struct evconnlistener *lev = NULL;
	struct event *sigterm, *sigint;
	int ch, m, port = 0;
	evutil_socket_t fd;
	uint64_t n;

	while ((ch = getopt_long(argc, argv, "p:m:i:v", opts, NULL)) != -1) {
		switch (ch) {
		case 'b':
			/* Another loopback address (127.0.0.2, ...), so
			 * that one host name can name several backends. */
			if (inet_pton(AF_INET, optarg, &bind_addr) != 1)
				usage();
			break;
		case 'p':
			port = atoi(optarg);
			break;
		case 'm':
			if ((m = mode_lookup(optarg, strlen(optarg))) == -1)
				usage();
			mode = (enum be_mode)m;
			break;
		case 'i':
			backend_id = optarg;
			break;
		case 'r':
			max_requests = (unsigned)atoi(optarg);
			break;
		case 's':
			silent_close = 1;
			break;
		case 'I':
			idle_close_ms = (unsigned)atoi(optarg);
			break;
		case 'S':
			slow_ms = (unsigned)atoi(optarg);
			break;
		case 'g':
		case 'G':
			if (parse_u64(optarg, strlen(optarg), &n) == -1)
				usage();
			return (gen_out(n, ch == 'G'));
		case 'v':
			verbose = 1;
			break;
		case 'T':
			tls_cert = optarg;
			break;
		case 'K':
			tls_key = optarg;
			break;
		case 'C':
			tls_cca = optarg;
			break;
		default:
			usage();
		}
	}
	if (tls_cert != NULL) {
		if (tls_key == NULL)
			usage();
		if ((tls_ctx = SSL_CTX_new(TLS_server_method())) == NULL ||
		    SSL_CTX_use_certificate_chain_file(tls_ctx, tls_cert) != 1 ||
		    SSL_CTX_use_PrivateKey_file(tls_ctx, tls_key,
		    SSL_FILETYPE_PEM) != 1) {
			ERR_print_errors_fp(stderr);
			return (1);
		}
		if (tls_cca != NULL) {
			if (SSL_CTX_load_verify_locations(tls_ctx, tls_cca,
			    NULL) != 1) {
				ERR_print_errors_fp(stderr);
				return (1);
			}
			SSL_CTX_set_verify(tls_ctx, SSL_VERIFY_PEER |
			    SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
		}
		/* Stateful resumption checks need a session id context. */
		SSL_CTX_set_session_id_context(tls_ctx,
		    (const unsigned char *)"backend", 7);
	}
	if (optind != argc || port < 0 || port > 65535)
		usage();
	signal(SIGPIPE, SIG_IGN);
	if ((base = event_base_new()) == NULL)
		return (1);

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr = bind_addr;
	sin.sin_port = htons((uint16_t)port);
	if (mode == MODE_REFUSE) {
		/*
		 * Bind to learn (or hold) the port, then close it: connects
		 * are refused for as long as nobody else takes the port.
		 */
		if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
		    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
		    getsockname(fd, (struct sockaddr *)&sin, &sl) == -1) {
			perror("backend: bind");
			return (1);
		}
		close(fd);
	} else {
		lev = evconnlistener_new_bind(base, accept_cb, NULL,
		    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 128,
		    (struct sockaddr *)&sin, sizeof(sin));
		if (lev == NULL) {
			perror("backend: listen");
			return (1);
		}
		fd = evconnlistener_get_fd(lev);
		if (getsockname(fd, (struct sockaddr *)&sin, &sl) == -1) {
			perror("backend: getsockname");
			return (1);
		}
	}
	printf("PORT %u\n", ntohs(sin.sin_port));
	fflush(stdout);

	sigterm = evsignal_new(base, SIGTERM, signal_cb, NULL);
	sigint = evsignal_new(base, SIGINT, signal_cb, NULL);
	if (sigterm == NULL || sigint == NULL)
		return (1);
	evsignal_add(sigterm, NULL);
	evsignal_add(sigint, NULL);
	event_base_dispatch(base);

	if (lev != NULL)
		evconnlistener_free(lev);
	event_free(sigterm);
	event_free(sigint);
	event_base_free(base);
	return (0);
}
