/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * HTTP/1.1 framing without sockets: request and response heads (llhttp plus
 * gridfront's own strict validation layer), request-target normalisation,
 * a streaming chunked-body decoder, and small helpers.  Nothing here
 * allocates, logs, or knows about TLS, auth or libevent; callers pass the
 * arrays and buffers.  Pointers in results borrow from the caller's input
 * buffer and stay valid while that buffer is neither freed, moved nor
 * drained.
 */

#ifndef PROXY_HTTP_H
#define PROXY_HTTP_H

#include <stddef.h>
#include <stdint.h>

/* Hard cap for header arrays; the configured count limit may be lower. */
#define HTTP_MAX_HDRS		128

/* Defaults used when a limit is 0 or the limits pointer is NULL. */
#define HTTP_DEF_REQUEST_LINE	8192
#define HTTP_DEF_HEADER_FIELD	8192
#define HTTP_DEF_HEADER_BLOCK	32768
#define HTTP_DEF_HEADER_COUNT	100
#define HTTP_DEF_CHUNK_EXT	256
#define HTTP_DEF_TRAILER	8192

/* Empty lines tolerated before a request line (RFC 9112 2.2). */
#define HTTP_MAX_LEADING_CRLF	4
/* Options tolerated in all Connection headers of one message. */
#define HTTP_MAX_CONN_OPTIONS	32
/* Bytes http_chunk_header() may write: 16 hex digits plus CRLF. */
#define HTTP_CHUNK_HEADER_MAX	18

struct http_limits {
	size_t		 max_request_line;	/* 414; 502 for a status line */
	size_t		 max_header_field;	/* one header line; 431 */
	size_t		 max_header_block;	/* whole head; 431 */
	size_t		 max_header_count;	/* 431 */
	size_t		 max_chunk_ext;		/* chunk-ext bytes per line */
};

/*
 * What a header means to the proxy.  Names compare case-insensitively and,
 * for HOP, FORWARDED and IDENTITY, with '_' equal to '-' because WSGI/CGI
 * back ends fold both to the same variable.
 *
 * HTTP_H_HOP: keep-alive, proxy-connection, te, trailer, upgrade,
 *   proxy-authorization, proxy-authenticate, proxy (httpoxy,
 *   CVE-2016-5385), and any other header named by a Connection option.
 * HTTP_H_FORWARDED: x-forwarded-* (except x-forwarded-client-cert*),
 *   forwarded, via, https, front-end-https, x-real-ip, x-client-ip,
 *   true-client-ip, x-original-url, x-rewrite-url.
 * HTTP_H_IDENTITY: cms-*, ssl-* (so ssl-client-*), x-ssl-* (so
 *   x-ssl-client-*), x-client-cert*, x-client-dn, x-client-s-dn,
 *   x-client-i-dn, x-client-verify, client-cert* (RFC 9440),
 *   x-forwarded-client-cert* (Envoy), x-arr-clientcert (Azure),
 *   x-amzn-mtls-clientcert* (AWS), remote-user, x-remote-user.
 * HTTP_H_IDENTITY also: scope, client-id, client-host (what the Go
 *   token proxy sets; issue 14).
 * HTTP_H_AUTHORIZATION: authorization, forwarded unless a route that
 *   reads bearer tokens takes it (routes.forward_token).
 * The proxy drops HOP, FORWARDED and IDENTITY headers before forwarding
 * and adds its own.  In a request, "Content_Length" or "Transfer_Encoding"
 * is an error; in a response such a name is HTTP_H_OTHER.
 */
enum http_hdr_kind {
	HTTP_H_OTHER = 0,
	HTTP_H_HOST,
	HTTP_H_CONTENT_LENGTH,
	HTTP_H_TRANSFER_ENCODING,
	HTTP_H_CONNECTION,
	HTTP_H_HOP,
	HTTP_H_FORWARDED,
	HTTP_H_IDENTITY,
	HTTP_H_EXPECT,
	HTTP_H_COOKIE,
	HTTP_H_AUTHORIZATION	/* the bearer token, read by auth */
};

/* One header line; name and value borrow from the parsed buffer. */
struct http_hdr {
	const char		*name;
	size_t			 namelen;
	const char		*value;		/* OWS-trimmed, no NUL */
	size_t			 valuelen;
	enum http_hdr_kind	 kind;
};

/*
 * Resumable scan state for a head that has not fully arrived, so a head
 * trickled in byte by byte is scanned once, not once per byte.  It lives
 * inside http_req/http_resp: zero the struct before the first call for a
 * connection; the parser clears the state itself when it returns OK or
 * ERROR, so the same struct can parse the next pipelined head.
 */
struct http_scan {
	size_t		 off;		/* bytes already scanned */
	size_t		 line;		/* start of the current line */
	size_t		 nlines;	/* complete start + header lines */
	size_t		 nempty;	/* leading empty lines skipped */
};

struct http_req {
	const char	*method;
	size_t		 methodlen;
	int		 method_id;		/* llhttp_method_t */
	const char	*target;		/* raw request-target */
	size_t		 targetlen;
	const char	*path;			/* normalised, NUL-terminated */
	size_t		 pathlen;
	const char	*query;			/* "?..." raw, or NULL */
	size_t		 querylen;
	int		 version_minor;		/* 0 or 1 */
	struct http_hdr	*hdrs;			/* caller's array */
	size_t		 nhdrs;
	int64_t		 content_length;	/* -1 when absent */
	int		 chunked;
	int		 keepalive;
	int		 expect_continue;
	int		 has_body;
	const char	*host;			/* NULL when absent (1.0) */
	size_t		 hostlen;
	size_t		 head_len;		/* incl. the final CRLF */
	struct http_scan scan;
};

struct http_resp {
	int		 status;
	const char	*reason;
	size_t		 reasonlen;
	int		 version_minor;
	struct http_hdr	*hdrs;
	size_t		 nhdrs;
	int64_t		 content_length;	/* -1 when absent */
	int		 chunked;
	int		 keepalive;
	int		 no_body;		/* HEAD, 1xx, 204, 304 */
	int		 until_close;		/* body ends at backend EOF */
	size_t		 head_len;
	struct http_scan scan;
};

struct http_error {
	int		 status;
	const char	*reason;		/* static text, never freed */
};

enum http_parse_result {
	HTTP_PARSE_OK = 0,
	HTTP_PARSE_AGAIN,
	HTTP_PARSE_ERROR
};

enum http_chunk_result {
	HTTP_CHUNK_AGAIN = 0,
	HTTP_CHUNK_DATA,
	HTTP_CHUNK_DONE,
	HTTP_CHUNK_ERROR
};

/* Chunked decoder state; embed it and reset it with http_chunk_init(). */
struct http_chunk {
	int		 state;
	uint64_t	 size;		/* size being parsed */
	uint64_t	 left;		/* payload bytes still to come */
	unsigned	 digits;
	size_t		 ext;		/* chunk-ext bytes on this line */
	size_t		 trailer;	/* trailer bytes so far */
	size_t		 max_ext;
	size_t		 max_trailer;
	const char	*reason;	/* sticky error */
};

/*
 * Parse and validate the request head at the start of buf[0, len), the
 * connection's contiguous unread input.  lim may be NULL and any of its
 * fields 0 for the HTTP_DEF_* defaults.  hdrs has room for maxhdrs
 * entries (at most HTTP_MAX_HDRS are used); pathbuf receives the
 * normalised path and needs targetlen + 1 bytes, so max_request_line + 1
 * is always enough.  req->scan must be zero for the first call (see
 * struct http_scan); pass the same req, with buf grown but starting at
 * the same byte, after AGAIN.
 *
 * Returns:
 * - HTTP_PARSE_OK: req describes the head; req->head_len bytes belong to
 *   it and anything after is body or the next request.  Pointers in req
 *   and hdrs borrow from buf (path from pathbuf) and are valid while buf
 *   is neither moved nor drained.
 * - HTTP_PARSE_AGAIN: the head is incomplete and no limit is exceeded
 *   yet; call again with more bytes.
 * - HTTP_PARSE_ERROR: err->status and err->reason say why; the caller
 *   answers with that status and closes the connection.  req is zeroed.
 *
 * Statuses: 414 for a request line over its limit (even before it ends);
 * 431 for a header field, header block or header count over its limit;
 * 505 for a well-formed version other than HTTP/1.0 and HTTP/1.1; 501 for
 * a method token gridfront does not forward; 405 for CONNECT and TRACE;
 * 417 for an Expect other than 100-continue on HTTP/1.1; 400 for all else:
 * bare CR or LF, obs-fold, whitespace before the first header or before a
 * colon, non-token names, CTLs or NUL in values, HTTP/0.9, more than
 * HTTP_MAX_LEADING_CRLF empty lines first, missing Host on 1.1, duplicate
 * Host, duplicate/malformed/overflowing Content-Length (even "5, 5"),
 * Transfer-Encoding other than exactly "chunked" or on HTTP/1.0, both
 * Content-Length and Transfer-Encoding, "Content_Length" and
 * "Transfer_Encoding", a Connection option naming Host, Content-Length,
 * Transfer-Encoding or Connection, '#' in the target, absolute-form,
 * authority-form, asterisk-form other than "OPTIONS *", any
 * http_path_normalize() failure, and any disagreement with llhttp.
 * Keep-alive defaults on for 1.1 and off for 1.0; Connection close and
 * keep-alive options are honoured, close winning.  Never allocates.
 */
enum http_parse_result http_parse_request(const char *buf, size_t len,
	    const struct http_limits *lim, struct http_req *req,
	    struct http_hdr *hdrs, size_t maxhdrs, char *pathbuf,
	    size_t pathbuflen, struct http_error *err);

/*
 * Parse a backend's response head at the start of buf[0, len), for a
 * request whose llhttp method id is req_method_id (HTTP_HEAD matters).
 * Limits, scan state, hdrs and results behave as in http_parse_request();
 * every error is status 502.  Stricter than most proxies: bare LF line
 * endings, obs-fold, duplicate Content-Length, Transfer-Encoding other
 * than "chunked", Content-Length with Transfer-Encoding, and a 101
 * (gridfront never forwards Upgrade) are all errors.  Tolerated: a
 * status line without the space before an empty reason phrase.
 *
 * On OK: no_body is set for HEAD, 1xx, 204 and 304 (content_length and
 * chunked then only describe the headers); until_close is set when a body
 * is allowed but neither Content-Length nor chunked frames it, and then
 * keepalive is 0.  A 1xx (e.g. 100 Continue) is returned like any other
 * response: the caller forwards or skips its head_len bytes and calls
 * again for the final response.
 */
enum http_parse_result http_parse_response(const char *buf, size_t len,
	    const struct http_limits *lim, int req_method_id,
	    struct http_resp *resp, struct http_hdr *hdrs, size_t maxhdrs,
	    struct http_error *err);

/*
 * Normalise the origin-form request-target target[0, len) into out.  The
 * query (from the first '?', included) is validated (no CTL, SP, non-ASCII
 * or '#') and returned raw through *query and *querylen (NULL and 0 when
 * absent).  In the path, %XX of an unreserved character (ALPHA DIGIT - .
 * _ ~) is decoded and other escapes are kept with upper-case hex; %2F,
 * %5C, %00, a raw '\', a malformed escape and any byte outside the RFC
 * 3986 pchar set are errors (400), and so are escapes of bytes 80-FF
 * that do not spell shortest-form UTF-8 (overlong forms such as the
 * "%C0%AE" that lenient decoders read as '.', surrogates, values above
 * U+10FFFF, truncated sequences, stray continuation bytes) and %3B (an
 * encoded ';' is part of the segment to some servlet stacks and a
 * parameter delimiter to others).  A raw ';' is kept: whether path
 * parameters are allowed is the caller's choice.  Then "." and ".."
 * segments are resolved after decoding, so "%2E%2E" is a ".." (RFC
 * 3986 5.2.4; ".." at the root stays at the root); runs of '/' are
 * merged into one, as nginx does; and a "." or ".." segment followed by
 * ";params" is an error, since servlet containers read "..;x" as "..".
 * out needs the path's length plus one byte (414 otherwise) and is
 * NUL-terminated; *pathlen excludes the NUL.  Returns 0, or -1 with err
 * filled.
 */
int	 http_path_normalize(const char *target, size_t len, char *out,
	    size_t outlen, size_t *pathlen, const char **query,
	    size_t *querylen, struct http_error *err);

/*
 * Copy the normalised path[0, len) (from http_path_normalize()) to out
 * without its path parameters: in every segment, from the first ';' up to
 * the next '/'.  This is the path a servlet-style backend maps, so
 * "/prod;jsessionid=1/x" becomes "/prod/x".  A segment left empty is
 * merged as "//" is ("/;x/a" becomes "/a"), except at the end where it
 * stays a trailing '/'; the result is again a normalised path.  out needs
 * len + 1 bytes and may not overlap path; it is NUL-terminated.  Returns
 * its length without the NUL.
 */
size_t	 http_path_strip_params(const char *path, size_t len, char *out);

/*
 * Reset c for a new chunked body.  max_ext bounds the chunk-ext bytes of
 * each size line and max_trailer the whole trailer section including its
 * final CRLF; 0 selects HTTP_DEF_CHUNK_EXT or HTTP_DEF_TRAILER.
 */
void	 http_chunk_init(struct http_chunk *c, size_t max_ext,
	    size_t max_trailer);

/*
 * Decode the chunked body bytes in[0, len), a stream continued across
 * calls by the state in c.  Returns:
 * - HTTP_CHUNK_DATA: payload in[*data_off, *data_off + *data_len), with
 *   *used = *data_off + *data_len; forward the span, then call again with
 *   in + *used.
 * - HTTP_CHUNK_AGAIN: all len bytes were framing and are consumed
 *   (*used == len); call again when more arrive.
 * - HTTP_CHUNK_DONE: the last chunk and the trailer section ended;
 *   *used counts bytes up to the final CRLF, later bytes are the next
 *   message.  Trailers are validated and discarded, never forwarded;
 *   chunk extensions are checked and dropped too.  Further calls return
 *   DONE with *used == 0.
 * - HTTP_CHUNK_ERROR: err->status is 400 (the caller makes it 502 for a
 *   backend) with a reason: chunk size overflow (more than 16 hex digits
 *   or above INT64_MAX), invalid size, extension too long or with bad
 *   characters, missing CRLF after data, bare CR or LF, trailer section
 *   too large or malformed.  The error is sticky.
 * Never allocates; in is not modified.
 */
enum http_chunk_result http_chunk_feed(struct http_chunk *c, const char *in,
	    size_t len, size_t *used, size_t *data_off, size_t *data_len,
	    struct http_error *err);

/*
 * Write the chunk-size line for an n-byte chunk, "<lower-case hex>\r\n",
 * to out, which needs HTTP_CHUNK_HEADER_MAX bytes; no NUL is written.
 * Returns the number of bytes written.  The caller writes the data and
 * its CRLF, and "0\r\n\r\n" at the end.
 */
size_t	 http_chunk_header(char *out, size_t n);

/*
 * Return 1 when a[0, alen) equals the NUL-terminated lit, ignoring ASCII
 * case, and 0 otherwise.
 */
int	 http_token_eq(const char *a, size_t alen, const char *lit);

/*
 * Return the reason phrase for status, e.g. "Bad Gateway"; a generic
 * class phrase for unlisted codes.  The string is static.
 */
const char *http_status_text(int status);

/* The kind of header name (len bytes, any case), as the request parser
 * classifies it (a '_' read as '-' included). */
enum http_hdr_kind http_header_kind(const char *name, size_t len);

#endif /* PROXY_HTTP_H */
