/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * HTTP/1.1 framing for the proxy: request and response heads (the
 * request-target normalisation is in http_path.c, the streaming chunked
 * decoder in http_chunk.c; http.h declares all three).  Every head goes through
 * two independent parsers: gridfront's own strict tokenizer, which decides,
 * and llhttp, which must then agree byte for byte (head length, header
 * count, target, method, version, framing).  A disagreement between two
 * parsers is what request smuggling is made of, so it is an error too.
 * This file knows nothing about sockets, TLS, auth or libevent, never logs
 * and never allocates; conn.c and forward.c call it with their buffers and
 * turn a struct http_error into a response and a log line.  Its ~1,240
 * lines are one role, head parsing with its cross-check against llhttp;
 * splitting requests from responses would scatter the shared tokenizer.
 */

#include <stdint.h>
#include <string.h>

#include "llhttp.h"

#include "base/lit.h"
#include "proxy/http.h"
#include "proxy/http_int.h"

/* ------------------------------------------------------------------ */
/* Character classes                                                   */
/* ------------------------------------------------------------------ */

/* GNU range designators: the Makefile builds with -std=gnu11. */
const uint8_t http_ctab[256] = {
	['\t'] = C_FVAL,
	[' '] = C_FVAL,
	['!'] = C_TFPQ,
	['"'] = C_FQ,
	['#'] = C_TCHAR | C_FVAL,
	['$'] = C_TFPQ,
	['%'] = C_TFPQ,
	['&'] = C_TFPQ,
	['\''] = C_TFPQ,
	['('] = C_FPQ,
	[')'] = C_FPQ,
	['*'] = C_TFPQ,
	['+'] = C_TFPQ,
	[','] = C_FPQ,
	['-'] = C_ALNUM,
	['.'] = C_ALNUM,
	['/'] = C_FPQ,
	['0' ... '9'] = C_ALNUM | C_HEX,
	[':'] = C_FPQ | C_HOST,
	[';'] = C_FPQ,
	['<'] = C_FQ,
	['='] = C_FPQ,
	['>'] = C_FQ,
	['?'] = C_FQ,
	['@'] = C_FPQ,
	['A' ... 'F'] = C_ALNUM | C_HEX,
	['G' ... 'Z'] = C_ALNUM,
	['['] = C_FQ | C_HOST,
	['\\'] = C_FQ,
	[']'] = C_FQ | C_HOST,
	['^'] = C_TCHAR | C_FQ,
	['_'] = C_ALNUM,
	['`'] = C_TCHAR | C_FQ,
	['a' ... 'f'] = C_ALNUM | C_HEX,
	['g' ... 'z'] = C_ALNUM,
	['{'] = C_FQ,
	['|'] = C_TCHAR | C_FQ,
	['}'] = C_FQ,
	['~'] = C_TFPQ | C_UNRES,
	[0x80 ... 0xff] = C_FVAL,
};

/* Case-insensitive equality of two spans. */
static int
http_span_eq(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t	 i;

	if (alen != blen)
		return (0);
	for (i = 0; i < alen; i++)
		if (http_lower((unsigned char)a[i]) !=
		    http_lower((unsigned char)b[i]))
			return (0);
	return (1);
}

/* Contract in http.h. */
int
http_token_eq(const char *a, size_t alen, const char *lit)
{
	size_t	 i;

	for (i = 0; i < alen; i++)
		if (lit[i] == '\0' || http_lower((unsigned char)a[i]) !=
		    http_lower((unsigned char)lit[i]))
			return (0);
	return (lit[alen] == '\0');
}

/* Contract in http.h. */
const char *
http_status_text(int status)
{
	switch (status) {
	case 100: return ("Continue");
	case 101: return ("Switching Protocols");
	case 103: return ("Early Hints");
	case 200: return ("OK");
	case 201: return ("Created");
	case 202: return ("Accepted");
	case 203: return ("Non-Authoritative Information");
	case 204: return ("No Content");
	case 205: return ("Reset Content");
	case 206: return ("Partial Content");
	case 207: return ("Multi-Status");
	case 300: return ("Multiple Choices");
	case 301: return ("Moved Permanently");
	case 302: return ("Found");
	case 303: return ("See Other");
	case 304: return ("Not Modified");
	case 307: return ("Temporary Redirect");
	case 308: return ("Permanent Redirect");
	case 400: return ("Bad Request");
	case 401: return ("Unauthorized");
	case 403: return ("Forbidden");
	case 404: return ("Not Found");
	case 405: return ("Method Not Allowed");
	case 406: return ("Not Acceptable");
	case 408: return ("Request Timeout");
	case 409: return ("Conflict");
	case 410: return ("Gone");
	case 411: return ("Length Required");
	case 412: return ("Precondition Failed");
	case 413: return ("Content Too Large");
	case 414: return ("URI Too Long");
	case 415: return ("Unsupported Media Type");
	case 416: return ("Range Not Satisfiable");
	case 417: return ("Expectation Failed");
	case 421: return ("Misdirected Request");
	case 422: return ("Unprocessable Content");
	case 425: return ("Too Early");
	case 426: return ("Upgrade Required");
	case 428: return ("Precondition Required");
	case 429: return ("Too Many Requests");
	case 431: return ("Request Header Fields Too Large");
	case 500: return ("Internal Server Error");
	case 501: return ("Not Implemented");
	case 502: return ("Bad Gateway");
	case 503: return ("Service Unavailable");
	case 504: return ("Gateway Timeout");
	case 505: return ("HTTP Version Not Supported");
	}
	if (status >= 100 && status < 200)
		return ("Informational");
	if (status >= 200 && status < 300)
		return ("Success");
	if (status >= 300 && status < 400)
		return ("Redirection");
	if (status >= 400 && status < 500)
		return ("Client Error");
	if (status >= 500 && status < 600)
		return ("Server Error");
	return ("Unknown");
}

static enum http_parse_result
http_fail(struct http_error *err, int status, const char *reason)
{
	err->status = status;
	err->reason = reason;
	return (HTTP_PARSE_ERROR);
}

/* ------------------------------------------------------------------ */
/* Header classification                                               */
/* ------------------------------------------------------------------ */

struct http_name {
	const char	*name;		/* lower case, '-' separated */
	uint8_t		 len;
	uint8_t		 prefix;	/* match as a prefix */
	uint8_t		 kind;
};

#define HN(s, k)	{ s, sizeof(s) - 1, 0, k }
#define HP(s, k)	{ s, sizeof(s) - 1, 1, k }
#define HEND		{ NULL, 0, 0, 0 }

/*
 * One bucket per first letter.  Within a bucket the first match wins, so
 * the more specific x-forwarded-client-cert comes before x-forwarded-.
 */
static const struct http_name hn_a[] = {
	HN("authorization", HTTP_H_AUTHORIZATION),
	HEND
};
static const struct http_name hn_c[] = {
	HN("connection", HTTP_H_CONNECTION),
	HN("content-length", HTTP_H_CONTENT_LENGTH),
	HN("cookie", HTTP_H_COOKIE),
	HP("cms-", HTTP_H_IDENTITY),
	HP("client-cert", HTTP_H_IDENTITY),
	HN("client-id", HTTP_H_IDENTITY),
	HN("client-host", HTTP_H_IDENTITY),
	HEND
};
static const struct http_name hn_e[] = {
	HN("expect", HTTP_H_EXPECT),
	HEND
};
static const struct http_name hn_f[] = {
	HN("forwarded", HTTP_H_FORWARDED),
	HN("front-end-https", HTTP_H_FORWARDED),
	HEND
};
static const struct http_name hn_h[] = {
	HN("host", HTTP_H_HOST),
	HN("https", HTTP_H_FORWARDED),
	HEND
};
static const struct http_name hn_k[] = {
	HN("keep-alive", HTTP_H_HOP),
	HEND
};
static const struct http_name hn_p[] = {
	HN("proxy-connection", HTTP_H_HOP),
	HN("proxy-authorization", HTTP_H_HOP),
	HN("proxy-authenticate", HTTP_H_HOP),
	HN("proxy", HTTP_H_HOP),
	HEND
};
static const struct http_name hn_r[] = {
	HN("remote-user", HTTP_H_IDENTITY),
	HEND
};
static const struct http_name hn_s[] = {
	HP("ssl-", HTTP_H_IDENTITY),
	HN("scope", HTTP_H_IDENTITY),
	HEND
};
static const struct http_name hn_t[] = {
	HN("te", HTTP_H_HOP),
	HN("trailer", HTTP_H_HOP),
	HN("transfer-encoding", HTTP_H_TRANSFER_ENCODING),
	HN("true-client-ip", HTTP_H_FORWARDED),
	HEND
};
static const struct http_name hn_u[] = {
	HN("upgrade", HTTP_H_HOP),
	HEND
};
static const struct http_name hn_v[] = {
	HN("via", HTTP_H_FORWARDED),
	HEND
};
static const struct http_name hn_x[] = {
	HP("x-forwarded-client-cert", HTTP_H_IDENTITY),
	HP("x-forwarded-", HTTP_H_FORWARDED),
	HN("x-real-ip", HTTP_H_FORWARDED),
	HN("x-client-ip", HTTP_H_FORWARDED),
	HP("x-client-cert", HTTP_H_IDENTITY),
	HN("x-client-dn", HTTP_H_IDENTITY),
	HN("x-client-s-dn", HTTP_H_IDENTITY),
	HN("x-client-i-dn", HTTP_H_IDENTITY),
	HN("x-client-verify", HTTP_H_IDENTITY),
	HP("x-ssl-", HTTP_H_IDENTITY),
	HN("x-arr-clientcert", HTTP_H_IDENTITY),
	HP("x-amzn-mtls-clientcert", HTTP_H_IDENTITY),
	HN("x-remote-user", HTTP_H_IDENTITY),
	HN("x-original-url", HTTP_H_FORWARDED),
	HN("x-rewrite-url", HTTP_H_FORWARDED),
	HEND
};

/*
 * Compare the first litlen bytes of name with lit, folding case and '_' to
 * '-'.  Sets *uscore when a '_' took part in the match.
 */
static int
http_name_fold_eq(const char *name, const char *lit, size_t litlen,
    int *uscore)
{
	size_t		 i;
	unsigned char	 c;
	int		 u = 0;

	for (i = 0; i < litlen; i++) {
		c = http_lower((unsigned char)name[i]);
		if (c == '_') {
			c = '-';
			u = 1;
		}
		if (c != (unsigned char)lit[i])
			return (0);
	}
	*uscore = u;
	return (1);
}

/*
 * Map a header name to its kind.  *uscore reports that the name only
 * matched because '_' was read as '-' ("Transfer_Encoding"): such a name
 * is no framing header to us but may become one in a WSGI/CGI back end.
 */
static enum http_hdr_kind
http_classify(const char *name, size_t len, int *uscore)
{
	const struct http_name	*t;

	*uscore = 0;
	if (len == 0)
		return (HTTP_H_OTHER);
	switch (http_lower((unsigned char)name[0])) {
	case 'a': t = hn_a; break;
	case 'c': t = hn_c; break;
	case 'e': t = hn_e; break;
	case 'f': t = hn_f; break;
	case 'h': t = hn_h; break;
	case 'k': t = hn_k; break;
	case 'p': t = hn_p; break;
	case 'r': t = hn_r; break;
	case 's': t = hn_s; break;
	case 't': t = hn_t; break;
	case 'u': t = hn_u; break;
	case 'v': t = hn_v; break;
	case 'x': t = hn_x; break;
	default:
		return (HTTP_H_OTHER);
	}
	for (; t->name != NULL; t++) {
		if (t->prefix ? len < t->len : len != t->len)
			continue;
		if (http_name_fold_eq(name, t->name, t->len, uscore))
			return ((enum http_hdr_kind)t->kind);
	}
	*uscore = 0;
	return (HTTP_H_OTHER);
}

/* See http.h. */
enum http_hdr_kind
http_header_kind(const char *name, size_t len)
{
	int	 uscore;

	return (http_classify(name, len, &uscore));
}

static int
http_kind_is_framing(enum http_hdr_kind k)
{
	return (k == HTTP_H_HOST || k == HTTP_H_CONTENT_LENGTH ||
	    k == HTTP_H_TRANSFER_ENCODING || k == HTTP_H_CONNECTION);
}

/* ------------------------------------------------------------------ */
/* Head scanning and tokenizing, shared by requests and responses      */
/* ------------------------------------------------------------------ */

/* Effective limits and the statuses and words used when they trip. */
struct http_scanlim {
	size_t		 line;		/* start line */
	size_t		 field;		/* one header line */
	size_t		 block;		/* whole head */
	size_t		 count;		/* header lines */
	size_t		 nempty;	/* leading empty lines */
	int		 st_bad;	/* 400 or 502 */
	int		 st_line;	/* 414 or 502 */
	int		 st_big;	/* 431 or 502 */
	const char	*why_line;
};

static const char http_err_line_long[] = "request line too long";
static const char http_err_status_long[] = "status line too long";

static void
http_scanlim_init(struct http_scanlim *sl, const struct http_limits *lim,
    size_t maxhdrs, int resp)
{
	sl->line = HTTP_DEF_REQUEST_LINE;
	sl->field = HTTP_DEF_HEADER_FIELD;
	sl->block = HTTP_DEF_HEADER_BLOCK;
	sl->count = HTTP_DEF_HEADER_COUNT;
	if (lim != NULL) {
		if (lim->max_request_line != 0)
			sl->line = lim->max_request_line;
		if (lim->max_header_field != 0)
			sl->field = lim->max_header_field;
		if (lim->max_header_block != 0)
			sl->block = lim->max_header_block;
		if (lim->max_header_count != 0)
			sl->count = lim->max_header_count;
	}
	if (maxhdrs > HTTP_MAX_HDRS)
		maxhdrs = HTTP_MAX_HDRS;
	if (sl->count > maxhdrs)
		sl->count = maxhdrs;
	if (resp) {
		/* A backend has no business sending empty lines first. */
		sl->nempty = 0;
		sl->st_bad = sl->st_line = sl->st_big = 502;
		sl->why_line = http_err_status_long;
	} else {
		sl->nempty = HTTP_MAX_LEADING_CRLF;
		sl->st_bad = 400;
		sl->st_line = 414;
		sl->st_big = 431;
		sl->why_line = http_err_line_long;
	}
}

/*
 * Find the end of the head, resuming where the previous call for the same
 * head stopped, so a head trickled in byte by byte is still scanned once.
 * Enforces CRLF line endings and every size limit as early as possible: a
 * start line over its limit fails before its end arrives.  On OK, *start
 * is the offset of the start line and *head_len the offset just past the
 * empty line.  Bare CRs inside lines are left for the tokenizer.
 */
static enum http_parse_result
http_scan_head(const char *buf, size_t len, struct http_scan *sc,
    const struct http_scanlim *sl, size_t *start, size_t *head_len,
    struct http_error *err)
{
	const char	*lf;
	size_t		 off, eol, linelen, partial;
	int		 crlf;

	/* A stale or foreign state cannot describe this buffer: restart. */
	if (sc->off > len || sc->line > sc->off)
		memset(sc, 0, sizeof(*sc));
	off = sc->off;
	while (off < len) {
		lf = memchr(buf + off, '\n', len - off);
		if (lf == NULL) {
			off = len;
			break;
		}
		eol = (size_t)(lf - buf);
		off = eol + 1;
		crlf = (eol > sc->line && buf[eol - 1] == '\r');
		linelen = eol - sc->line - (crlf ? 1 : 0);
		/*
		 * The size limits come first, exactly as for a line still
		 * incomplete below, so that the verdict for a given head does
		 * not depend on how its bytes were split into reads.
		 */
		if (sc->nlines == 0 && linelen > sl->line)
			return (http_fail(err, sl->st_line, sl->why_line));
		if (sc->nlines > 0 && linelen > sl->field)
			return (http_fail(err, sl->st_big,
			    "header field too large"));
		if (sc->nlines > 0 && linelen > 0 && sc->nlines > sl->count)
			return (http_fail(err, sl->st_big,
			    "too many header fields"));
		if (eol >= sl->block)
			return (http_fail(err, sl->st_big,
			    "header block too large"));
		/* RFC 9112 2.2: we do not accept a bare LF as a line end. */
		if (!crlf)
			return (http_fail(err, sl->st_bad,
			    "bare LF line ending"));
		if (linelen == 0 && sc->nlines == 0) {
			if (++sc->nempty > sl->nempty)
				return (http_fail(err, sl->st_bad,
				    "empty lines before the start line"));
			sc->line = off;
			continue;
		}
		if (linelen == 0) {
			if (off > sl->block)
				return (http_fail(err, sl->st_big,
				    "header block too large"));
			*start = sc->nempty * 2;
			*head_len = off;
			return (HTTP_PARSE_OK);
		}
		if (sc->nlines == 0) {
			if (linelen > sl->line)
				return (http_fail(err, sl->st_line,
				    sl->why_line));
		} else {
			if (linelen > sl->field)
				return (http_fail(err, sl->st_big,
				    "header field too large"));
			if (sc->nlines > sl->count)
				return (http_fail(err, sl->st_big,
				    "too many header fields"));
		}
		if (off >= sl->block)
			return (http_fail(err, sl->st_big,
			    "header block too large"));
		sc->nlines++;
		sc->line = off;
	}

	/* Incomplete: would the line or the head already be too long? */
	sc->off = off;
	partial = len - sc->line;
	if (partial > 0 && buf[len - 1] == '\r')
		partial--;
	if (sc->nlines == 0 && partial > sl->line)
		return (http_fail(err, sl->st_line, sl->why_line));
	if (sc->nlines > 0 && partial > sl->field)
		return (http_fail(err, sl->st_big, "header field too large"));
	if (sc->nlines > 0 && partial > 0 && sc->nlines > sl->count)
		return (http_fail(err, sl->st_big, "too many header fields"));
	/* The head needs at least one more byte, so it would exceed. */
	if (len >= sl->block)
		return (http_fail(err, sl->st_big, "header block too large"));
	return (HTTP_PARSE_AGAIN);
}

/*
 * Tokenize one header line s[0, n) (CRLF excluded) into h.  Applies RFC
 * 9110 5.1/5.5 and RFC 9112 5: a non-empty token name, no whitespace
 * before the colon, no obs-fold, and only field-vchar, SP and HTAB in the
 * value.  The value is trimmed of surrounding OWS.
 */
static enum http_parse_result
http_tok_header(const char *s, size_t n, int first, int st,
    struct http_hdr *h, int *uscore, struct http_error *err)
{
	size_t		 i, vs, ve;
	unsigned char	 c;

	if (s[0] == ' ' || s[0] == '\t')
		return (http_fail(err, st, first ?
		    "whitespace before the first header field" :
		    "obs-fold header line"));
	for (i = 0; i < n && CT(s[i], C_TCHAR); i++)
		;
	if (i == n)
		return (http_fail(err, st, "header line without colon"));
	if (s[i] != ':') {
		if (s[i] == ' ' || s[i] == '\t')
			return (http_fail(err, st,
			    "whitespace between header name and colon"));
		if (s[i] == '\r')
			return (http_fail(err, st, "bare CR in header name"));
		return (http_fail(err, st, "invalid character in header name"));
	}
	if (i == 0)
		return (http_fail(err, st, "empty header name"));

	for (vs = i + 1; vs < n && (s[vs] == ' ' || s[vs] == '\t'); vs++)
		;
	for (ve = vs; ve < n; ve++) {
		c = (unsigned char)s[ve];
		if (CT(c, C_FVAL))
			continue;
		if (c == '\r')
			return (http_fail(err, st, "bare CR in header value"));
		if (c == '\0')
			return (http_fail(err, st, "NUL in header value"));
		return (http_fail(err, st,
		    "control character in header value"));
	}
	while (ve > vs && (s[ve - 1] == ' ' || s[ve - 1] == '\t'))
		ve--;

	h->name = s;
	h->namelen = i;
	h->value = s + vs;
	h->valuelen = ve - vs;
	h->kind = http_classify(s, i, uscore);
	return (HTTP_PARSE_OK);
}

/*
 * Tokenize the header lines of buf from pos up to the empty line that ends
 * the head.  The scanner already proved that every line ends in CRLF and
 * that the count fits.  Framing headers spelled with '_' are rejected when
 * reject_uscore is set (requests) and demoted to HTTP_H_OTHER otherwise.
 */
static enum http_parse_result
http_tok_headers(const char *buf, size_t pos, size_t head_len, int st,
    int reject_uscore, struct http_hdr *hdrs, size_t *nhdrs,
    struct http_error *err)
{
	const char		*lf;
	size_t			 n = 0, linelen;
	int			 uscore;
	enum http_parse_result	 r;

	for (;;) {
		lf = memchr(buf + pos, '\n', head_len - pos);
		linelen = (size_t)(lf - (buf + pos)) - 1;
		if (linelen == 0)
			break;
		r = http_tok_header(buf + pos, linelen, n == 0, st, &hdrs[n],
		    &uscore, err);
		if (r != HTTP_PARSE_OK)
			return (r);
		if (uscore && http_kind_is_framing(hdrs[n].kind)) {
			if (reject_uscore)
				return (http_fail(err, st,
				    "framing header name spelled with '_'"));
			hdrs[n].kind = HTTP_H_OTHER;
		}
		n++;
		pos += linelen + 2;
	}
	*nhdrs = n;
	return (HTTP_PARSE_OK);
}

/* RFC 9110 8.6: 1*DIGIT, nothing else, no larger than INT64_MAX. */
static enum http_parse_result
http_parse_cl(const struct http_hdr *h, int st, int64_t *out,
    struct http_error *err)
{
	size_t		 i;
	int64_t		 v = 0;
	unsigned	 d;

	if (h->valuelen == 0)
		return (http_fail(err, st, "empty Content-Length"));
	for (i = 0; i < h->valuelen; i++) {
		d = (unsigned char)h->value[i] - (unsigned)'0';
		if (d > 9)
			return (http_fail(err, st, "malformed Content-Length"));
		if (v > (INT64_MAX - (int64_t)d) / 10)
			return (http_fail(err, st, "Content-Length overflow"));
		v = v * 10 + (int64_t)d;
	}
	*out = v;
	return (HTTP_PARSE_OK);
}

/* Transfer-Encoding must be exactly "chunked": no lists, no parameters. */
static int
http_te_is_chunked(const struct http_hdr *h)
{
	return (http_token_eq(h->value, h->valuelen, "chunked"));
}

/*
 * Walk every Connection header: record close/keep-alive and mark each
 * header named by another option as HTTP_H_HOP (RFC 9110 7.6.1).  An
 * option naming Host, Content-Length, Transfer-Encoding or Connection is
 * an error: honouring it would let a client strip the framing headers the
 * back end needs; ignoring it silently would hide an attack.
 */
static enum http_parse_result
http_connection(struct http_hdr *hdrs, size_t nhdrs, int st, int *opt_close,
    int *opt_ka, struct http_error *err)
{
	const char	*v, *tok;
	size_t		 i, j, k, n, toklen, nopt = 0;
	int		 uscore;

	*opt_close = *opt_ka = 0;
	for (i = 0; i < nhdrs; i++) {
		if (hdrs[i].kind != HTTP_H_CONNECTION)
			continue;
		v = hdrs[i].value;
		n = hdrs[i].valuelen;
		j = 0;
		for (;;) {
			/* RFC 9110 5.6.1: empty list elements are allowed. */
			while (j < n && (v[j] == ' ' || v[j] == '\t' ||
			    v[j] == ','))
				j++;
			if (j == n)
				break;
			tok = v + j;
			while (j < n && CT(v[j], C_TCHAR))
				j++;
			toklen = (size_t)(v + j - tok);
			while (j < n && (v[j] == ' ' || v[j] == '\t'))
				j++;
			if (toklen == 0 || (j < n && v[j] != ','))
				return (http_fail(err, st,
				    "malformed Connection header"));
			if (++nopt > HTTP_MAX_CONN_OPTIONS)
				return (http_fail(err, st,
				    "too many Connection options"));
			if (http_token_eq(tok, toklen, "close")) {
				*opt_close = 1;
				continue;
			}
			if (http_token_eq(tok, toklen, "keep-alive")) {
				*opt_ka = 1;
				continue;
			}
			if (http_kind_is_framing(http_classify(tok, toklen,
			    &uscore)))
				return (http_fail(err, st,
				    "Connection names a framing header"));
			for (k = 0; k < nhdrs; k++) {
				if (hdrs[k].kind != HTTP_H_OTHER &&
				    hdrs[k].kind != HTTP_H_COOKIE &&
				    hdrs[k].kind != HTTP_H_EXPECT)
					continue;
				if (http_span_eq(hdrs[k].name, hdrs[k].namelen,
				    tok, toklen))
					hdrs[k].kind = HTTP_H_HOP;
			}
		}
	}
	return (HTTP_PARSE_OK);
}

/*
 * Host value (RFC 9110 7.2, RFC 3986 3.2.2): reg-name or a bracketed
 * IP-literal, optionally ":" and digits.  We allow only the characters
 * real host names use, which keeps odd bytes out of routing and logs.
 */
static int
http_host_ok(const char *v, size_t n)
{
	size_t	 i = 0;

	if (n == 0)
		return (0);
	if (v[0] == '[') {
		for (i = 1; i < n && v[i] != ']'; i++)
			if (!CT(v[i], C_HEX) && v[i] != ':' && v[i] != '.')
				return (0);
		if (i == n || i == 1)
			return (0);
		i++;
	} else {
		for (; i < n && v[i] != ':'; i++)
			if (!CT(v[i], C_HOST) || v[i] == '[' || v[i] == ']')
				return (0);
		if (i == 0)
			return (0);
	}
	if (i == n)
		return (1);
	if (v[i++] != ':')
		return (0);
	for (; i < n; i++)
		if (v[i] < '0' || v[i] > '9')
			return (0);
	return (1);
}

/* ------------------------------------------------------------------ */
/* llhttp cross-check                                                  */
/* ------------------------------------------------------------------ */

/* What llhttp saw, for comparison with our own tokenizer. */
struct http_llcheck {
	size_t		 nfields;
	const char	*url;
	size_t		 urllen;
	int		 urlsplit;
};

static int
http_on_url_cb(llhttp_t *p, const char *at, size_t n)
{
	struct http_llcheck	*c = p->data;

	if (c->url == NULL) {
		c->url = at;
		c->urllen = n;
	} else if (c->url + c->urllen == at)
		c->urllen += n;
	else
		c->urlsplit = 1;
	return (0);
}

static int
http_on_field_done_cb(llhttp_t *p)
{
	struct http_llcheck	*c = p->data;

	c->nfields++;
	return (0);
}

static int
http_on_headers_done_cb(llhttp_t *p)
{
	/* Stop at the end of the head; bodies are not llhttp's job here. */
	return (HPE_PAUSED);
}

static const llhttp_settings_t http_llsettings = {
	.on_url = http_on_url_cb,
	.on_header_field_complete = http_on_field_done_cb,
	.on_headers_complete = http_on_headers_done_cb,
};

static const char http_err_disagree[] =
    "llhttp disagrees with the strict parser";

/*
 * Run llhttp over the complete head buf[0, head_len) and check that it
 * stops exactly at head_len having seen the same number of fields.  The
 * caller compares the remaining facts through *p.
 */
static enum http_parse_result
http_llrun(llhttp_t *p, struct http_llcheck *c, llhttp_type_t type,
    const char *buf, size_t head_len, size_t nhdrs, int st,
    struct http_error *err)
{
	llhttp_errno_t	 e;
	const char	*why;

	memset(c, 0, sizeof(*c));
	llhttp_init(p, type, &http_llsettings);
	p->data = c;
	e = llhttp_execute(p, buf, head_len);
	if (e != HPE_PAUSED) {
		why = llhttp_get_error_reason(p);
		return (http_fail(err, st, (e != HPE_OK && why != NULL) ?
		    why : http_err_disagree));
	}
	if (llhttp_get_error_pos(p) != buf + head_len ||
	    c->nfields != nhdrs || c->urlsplit)
		return (http_fail(err, st, http_err_disagree));
	return (HTTP_PARSE_OK);
}

/* ------------------------------------------------------------------ */
/* Requests                                                            */
/* ------------------------------------------------------------------ */

struct http_method {
	const char	*name;
	uint8_t		 len;
	uint8_t		 id;
	short		 status;	/* 0: accepted, else the refusal */
};

#define HM(s, id)	{ s, sizeof(s) - 1, id, 0 }
#define HMX(s, id, st)	{ s, sizeof(s) - 1, id, st }

/*
 * Methods gridfront forwards: RFC 9110, PATCH, and the WebDAV family
 * (CouchDB and some grid services use COPY, MOVE, PROPFIND...).  Any
 * other valid token is 501 (RFC 9110 9.1).  CONNECT would need
 * authority-form and TRACE would echo the signed identity headers back
 * to the client, so both are 405.
 */
static const struct http_method http_methods[] = {
	HM("GET", HTTP_GET),
	HM("POST", HTTP_POST),
	HM("PUT", HTTP_PUT),
	HM("HEAD", HTTP_HEAD),
	HM("DELETE", HTTP_DELETE),
	HM("OPTIONS", HTTP_OPTIONS),
	HM("PATCH", HTTP_PATCH),
	HMX("CONNECT", HTTP_CONNECT, 405),
	HMX("TRACE", HTTP_TRACE, 405),
	HM("COPY", HTTP_COPY),
	HM("LOCK", HTTP_LOCK),
	HM("MKCOL", HTTP_MKCOL),
	HM("MOVE", HTTP_MOVE),
	HM("PROPFIND", HTTP_PROPFIND),
	HM("PROPPATCH", HTTP_PROPPATCH),
	HM("SEARCH", HTTP_SEARCH),
	HM("UNLOCK", HTTP_UNLOCK),
	HM("BIND", HTTP_BIND),
	HM("REBIND", HTTP_REBIND),
	HM("UNBIND", HTTP_UNBIND),
	HM("ACL", HTTP_ACL),
	HM("REPORT", HTTP_REPORT),
	HM("MKACTIVITY", HTTP_MKACTIVITY),
	HM("CHECKOUT", HTTP_CHECKOUT),
	HM("MERGE", HTTP_MERGE),
	HM("MKCALENDAR", HTTP_MKCALENDAR),
	HM("LINK", HTTP_LINK),
	HM("UNLINK", HTTP_UNLINK),
	HM("PURGE", HTTP_PURGE),
	{ NULL, 0, 0, 0 }
};

/* "HTTP/d.d": 0 and the minor version, an error status via err otherwise
 * (requests use 400 for every unsupported version: the rejection must be
 * a 4xx). */
static enum http_parse_result
http_version(const char *v, size_t n, int st_bad, int st_vers, int *minor,
    struct http_error *err)
{
	/* RFC 9112 2.3: HTTP-name is case-sensitive. */
	if (n != LIT_LEN("HTTP/1.1") || memcmp(v, "HTTP/",
	    LIT_LEN("HTTP/")) != 0 || v[5] < '0' ||
	    v[5] > '9' || v[6] != '.' || v[7] < '0' || v[7] > '9')
		return (http_fail(err, st_bad, "malformed HTTP version"));
	if (v[5] != '1' || v[7] > '1')
		return (http_fail(err, st_vers, "unsupported HTTP version"));
	*minor = v[7] - '0';
	return (HTTP_PARSE_OK);
}

/* RFC 9112 3: method SP request-target SP HTTP-version. */
static enum http_parse_result
http_request_line(const char *s, size_t n, struct http_req *req,
    int *refuse, struct http_error *err)
{
	const struct http_method	*m;
	const char			*sp;
	size_t				 i, t;
	enum http_parse_result		 r;

	if (memchr(s, '\r', n) != NULL)
		return (http_fail(err, 400, "bare CR in request line"));
	for (i = 0; i < n && CT(s[i], C_TCHAR); i++)
		;
	if (i == 0 || i == n || s[i] != ' ')
		return (http_fail(err, 400, "malformed request line"));
	req->method = s;
	req->methodlen = i;

	t = i + 1;
	sp = memchr(s + t, ' ', n - t);
	if (sp == NULL)
		return (http_fail(err, 400, "HTTP/0.9 request"));
	if (sp == s + t)
		return (http_fail(err, 400, "empty request-target"));
	req->target = s + t;
	req->targetlen = (size_t)(sp - (s + t));

	i = (size_t)(sp - s) + 1;
	r = http_version(s + i, n - i, 400, 400, &req->version_minor, err);
	if (r != HTTP_PARSE_OK)
		return (r);

	for (m = http_methods; m->name != NULL; m++)
		if (m->len == req->methodlen &&
		    memcmp(m->name, req->method, m->len) == 0)
			break;
	if (m->name == NULL)
		return (http_fail(err, 501, "unknown method"));
	req->method_id = m->id;
	*refuse = m->status;
	return (HTTP_PARSE_OK);
}

/*
 * RFC 9112 3.2: only origin-form, plus asterisk-form for OPTIONS.  The
 * rest (absolute-form, authority-form) is for forward proxies.
 */
static enum http_parse_result
http_request_target(struct http_req *req, char *pathbuf, size_t pathbuflen,
    struct http_error *err)
{
	const char	*t = req->target;
	size_t		 n = req->targetlen, i;

	if (memchr(t, '#', n) != NULL)
		return (http_fail(err, 400, "fragment in request-target"));
	if (t[0] == '*') {
		if (n != 1 || req->method_id != HTTP_OPTIONS)
			return (http_fail(err, 400,
			    "asterisk-form target outside OPTIONS"));
		if (pathbuflen < 2)
			return (http_fail(err, 414, "path too long"));
		pathbuf[0] = '*';
		pathbuf[1] = '\0';
		req->path = pathbuf;
		req->pathlen = 1;
		req->query = NULL;
		req->querylen = 0;
		return (HTTP_PARSE_OK);
	}
	if (t[0] != '/') {
		for (i = 0; i < n && t[i] != '/' && t[i] != '?'; i++)
			if (t[i] == ':')
				break;
		if (i + 2 < n && t[i] == ':' && t[i + 1] == '/' &&
		    t[i + 2] == '/')
			return (http_fail(err, 400, "absolute-form target"));
		return (http_fail(err, 400, "authority-form target"));
	}
	if (http_path_normalize(t, n, pathbuf, pathbuflen, &req->pathlen,
	    &req->query, &req->querylen, err) == -1)
		return (HTTP_PARSE_ERROR);
	req->path = pathbuf;
	return (HTTP_PARSE_OK);
}

/* Host, Content-Length, Transfer-Encoding, Connection, Expect. */
static enum http_parse_result
http_request_fields(struct http_req *req, struct http_error *err)
{
	struct http_hdr		*h;
	size_t			 i;
	int			 nhost = 0, ncl = 0, nte = 0, opt_close, opt_ka;
	int			 expect_bad = 0, expect_100 = 0;
	enum http_parse_result	 r;

	for (i = 0; i < req->nhdrs; i++) {
		h = &req->hdrs[i];
		switch (h->kind) {
		case HTTP_H_HOST:
			if (nhost++ > 0)
				return (http_fail(err, 400, "duplicate Host"));
			if (!http_host_ok(h->value, h->valuelen))
				return (http_fail(err, 400, "invalid Host"));
			req->host = h->value;
			req->hostlen = h->valuelen;
			break;
		case HTTP_H_CONTENT_LENGTH:
			/* Even equal values: RFC 9112 6.3 allows, we don't. */
			if (ncl++ > 0)
				return (http_fail(err, 400,
				    "duplicate Content-Length"));
			r = http_parse_cl(h, 400, &req->content_length, err);
			if (r != HTTP_PARSE_OK)
				return (r);
			break;
		case HTTP_H_TRANSFER_ENCODING:
			if (nte++ > 0)
				return (http_fail(err, 400,
				    "duplicate Transfer-Encoding"));
			if (!http_te_is_chunked(h))
				return (http_fail(err, 400,
				    "Transfer-Encoding other than chunked"));
			req->chunked = 1;
			break;
		case HTTP_H_EXPECT:
			if (http_token_eq(h->value, h->valuelen,
			    "100-continue"))
				expect_100 = 1;
			else
				expect_bad = 1;
			break;
		default:
			break;
		}
	}
	if (nhost == 0 && req->version_minor == 1)
		return (http_fail(err, 400, "missing Host"));
	if (ncl > 0 && nte > 0)
		return (http_fail(err, 400,
		    "both Content-Length and Transfer-Encoding"));
	/* RFC 9112 6.1: a 1.0 recipient would frame this differently. */
	if (nte > 0 && req->version_minor == 0)
		return (http_fail(err, 400,
		    "Transfer-Encoding in an HTTP/1.0 request"));

	r = http_connection(req->hdrs, req->nhdrs, 400, &opt_close, &opt_ka,
	    err);
	if (r != HTTP_PARSE_OK)
		return (r);
	req->keepalive = req->version_minor == 1 ? !opt_close :
	    (opt_ka && !opt_close);

	/* RFC 9110 10.1.1: Expect is ignored in HTTP/1.0 requests. */
	if (req->version_minor == 1) {
		if (expect_bad)
			return (http_fail(err, 417, "unsupported expectation"));
		req->expect_continue = expect_100;
	}
	req->has_body = req->chunked || req->content_length > 0;
	return (HTTP_PARSE_OK);
}

/* Contract in http.h. */
enum http_parse_result
http_parse_request(const char *buf, size_t len, const struct http_limits *lim,
    struct http_req *req, struct http_hdr *hdrs, size_t maxhdrs,
    char *pathbuf, size_t pathbuflen, struct http_error *err)
{
	struct http_scanlim	 sl;
	struct http_llcheck	 c;
	llhttp_t		 p;
	const char		*lf;
	size_t			 start = 0, head_len = 0, linelen;
	int			 refuse = 0;
	enum http_parse_result	 r;

	err->status = 0;
	err->reason = NULL;
	http_scanlim_init(&sl, lim, hdrs == NULL ? 0 : maxhdrs, 0);
	r = http_scan_head(buf, len, &req->scan, &sl, &start, &head_len, err);
	if (r == HTTP_PARSE_AGAIN)
		return (r);
	memset(req, 0, sizeof(*req));
	if (r != HTTP_PARSE_OK)
		return (r);
	req->content_length = -1;
	req->hdrs = hdrs;
	req->head_len = head_len;

	lf = memchr(buf + start, '\n', head_len - start);
	linelen = (size_t)(lf - (buf + start)) - 1;
	r = http_request_line(buf + start, linelen, req, &refuse, err);
	if (r != HTTP_PARSE_OK)
		return (r);
	r = http_tok_headers(buf, start + linelen + 2, head_len, 400, 1, hdrs,
	    &req->nhdrs, err);
	if (r != HTTP_PARSE_OK)
		return (r);
	r = http_request_fields(req, err);
	if (r != HTTP_PARSE_OK)
		return (r);
	if (refuse != 0)
		return (http_fail(err, refuse, "method not allowed"));
	r = http_request_target(req, pathbuf, pathbuflen, err);
	if (r != HTTP_PARSE_OK)
		return (r);

	r = http_llrun(&p, &c, HTTP_REQUEST, buf, head_len, req->nhdrs, 400,
	    err);
	if (r != HTTP_PARSE_OK)
		return (r);
	if (c.url != req->target || c.urllen != req->targetlen ||
	    llhttp_get_method(&p) != req->method_id ||
	    llhttp_get_http_major(&p) != 1 ||
	    llhttp_get_http_minor(&p) != req->version_minor ||
	    !(p.flags & F_CHUNKED) != !req->chunked ||
	    (req->content_length >= 0 &&
	    (uint64_t)req->content_length != p.content_length))
		return (http_fail(err, 400, http_err_disagree));
	return (HTTP_PARSE_OK);
}

/* ------------------------------------------------------------------ */
/* Responses                                                           */
/* ------------------------------------------------------------------ */

/* RFC 9112 4: HTTP-version SP 3DIGIT SP [reason-phrase]. */
static enum http_parse_result
http_status_line(const char *s, size_t n, struct http_resp *resp,
    struct http_error *err)
{
	size_t			 i;
	enum http_parse_result	 r;

	if (n < 12 || s[8] != ' ')
		return (http_fail(err, 502, "malformed status line"));
	r = http_version(s, 8, 502, 502, &resp->version_minor, err);
	if (r != HTTP_PARSE_OK)
		return (r);
	for (i = 9; i < 12; i++)
		if (s[i] < '0' || s[i] > '9')
			return (http_fail(err, 502, "malformed status code"));
	resp->status = (s[9] - '0') * 100 + (s[10] - '0') * 10 + (s[11] - '0');
	if (resp->status < 100 || resp->status > 599)
		return (http_fail(err, 502, "status code out of range"));
	/* Tolerated: "HTTP/1.1 200" without the SP before the reason. */
	if (n > 12 && s[12] != ' ')
		return (http_fail(err, 502, "malformed status line"));
	for (i = 13; i < n; i++)
		if (!CT(s[i], C_FVAL))
			return (http_fail(err, 502, s[i] == '\r' ?
			    "bare CR in status line" :
			    "control character in reason phrase"));
	resp->reason = n > 13 ? s + 13 : s + n;
	resp->reasonlen = n > 13 ? n - 13 : 0;
	return (HTTP_PARSE_OK);
}

static enum http_parse_result
http_response_fields(struct http_resp *resp, int req_method_id,
    struct http_error *err)
{
	struct http_hdr		*h;
	size_t			 i;
	int			 ncl = 0, nte = 0, opt_close, opt_ka;
	enum http_parse_result	 r;

	for (i = 0; i < resp->nhdrs; i++) {
		h = &resp->hdrs[i];
		if (h->kind == HTTP_H_CONTENT_LENGTH) {
			if (ncl++ > 0)
				return (http_fail(err, 502,
				    "duplicate Content-Length"));
			r = http_parse_cl(h, 502, &resp->content_length, err);
			if (r != HTTP_PARSE_OK)
				return (r);
		} else if (h->kind == HTTP_H_TRANSFER_ENCODING) {
			if (nte++ > 0)
				return (http_fail(err, 502,
				    "duplicate Transfer-Encoding"));
			if (!http_te_is_chunked(h))
				return (http_fail(err, 502,
				    "Transfer-Encoding other than chunked"));
			resp->chunked = 1;
		}
	}
	if (ncl > 0 && nte > 0)
		return (http_fail(err, 502,
		    "both Content-Length and Transfer-Encoding"));
	if (nte > 0 && resp->version_minor == 0)
		return (http_fail(err, 502,
		    "Transfer-Encoding in an HTTP/1.0 response"));
	/* We strip Upgrade, so a switch can only be a confused backend. */
	if (resp->status == 101)
		return (http_fail(err, 502,
		    "unexpected 101 Switching Protocols"));

	r = http_connection(resp->hdrs, resp->nhdrs, 502, &opt_close, &opt_ka,
	    err);
	if (r != HTTP_PARSE_OK)
		return (r);
	resp->keepalive = resp->version_minor == 1 ? !opt_close :
	    (opt_ka && !opt_close);

	/* RFC 9112 6.3 items 1 and 2. */
	resp->no_body = req_method_id == HTTP_HEAD || resp->status < 200 ||
	    resp->status == 204 || resp->status == 304;
	resp->until_close = !resp->no_body && !resp->chunked &&
	    resp->content_length < 0;
	if (resp->until_close)
		resp->keepalive = 0;
	return (HTTP_PARSE_OK);
}

/* Contract in http.h. */
enum http_parse_result
http_parse_response(const char *buf, size_t len,
    const struct http_limits *lim, int req_method_id, struct http_resp *resp,
    struct http_hdr *hdrs, size_t maxhdrs, struct http_error *err)
{
	struct http_scanlim	 sl;
	struct http_llcheck	 c;
	llhttp_t		 p;
	const char		*lf;
	size_t			 start = 0, head_len = 0, linelen;
	enum http_parse_result	 r;

	err->status = 0;
	err->reason = NULL;
	http_scanlim_init(&sl, lim, hdrs == NULL ? 0 : maxhdrs, 1);
	r = http_scan_head(buf, len, &resp->scan, &sl, &start, &head_len,
	    err);
	if (r == HTTP_PARSE_AGAIN)
		return (r);
	memset(resp, 0, sizeof(*resp));
	if (r != HTTP_PARSE_OK)
		return (r);
	resp->content_length = -1;
	resp->hdrs = hdrs;
	resp->head_len = head_len;

	lf = memchr(buf + start, '\n', head_len - start);
	linelen = (size_t)(lf - (buf + start)) - 1;
	r = http_status_line(buf + start, linelen, resp, err);
	if (r != HTTP_PARSE_OK)
		return (r);
	r = http_tok_headers(buf, start + linelen + 2, head_len, 502, 0, hdrs,
	    &resp->nhdrs, err);
	if (r != HTTP_PARSE_OK)
		return (r);
	r = http_response_fields(resp, req_method_id, err);
	if (r != HTTP_PARSE_OK)
		return (r);

	r = http_llrun(&p, &c, HTTP_RESPONSE, buf, head_len, resp->nhdrs, 502,
	    err);
	if (r != HTTP_PARSE_OK)
		return (r);
	if (llhttp_get_status_code(&p) != resp->status ||
	    llhttp_get_http_major(&p) != 1 ||
	    llhttp_get_http_minor(&p) != resp->version_minor ||
	    !(p.flags & F_CHUNKED) != !resp->chunked)
		return (http_fail(err, 502, http_err_disagree));
	return (HTTP_PARSE_OK);
}
