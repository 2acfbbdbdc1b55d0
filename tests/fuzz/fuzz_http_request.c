/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * libFuzzer target for proxy/http.c's request-head parser and its
 * validation layer (http_parse_request), with tight limits so that every
 * limit check is reachable.  Besides "no crash", it checks what callers
 * rely on: on OK the head fits the input, the path is NUL-terminated and
 * normalised, no header value holds CR, LF or NUL, there is at most one
 * Host; and the verdict does not depend on how the bytes arrived (the
 * same input fed as a prefix first, then whole, gives the same answer).
 * Heads that follow an OK head (pipelining) are parsed too.  The same
 * bytes also go through http_parse_response, which sees backend output.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "llhttp.h"

#include "proxy/http.h"
#include "tests/fuzz/fuzz.h"

#define MAXHDRS		16

/* See fuzz_lax() in fuzz.h; -1 until first read. */
static int	 lax = -1;

static const struct http_limits lim = {
	.max_request_line = 256,
	.max_header_field = 200,
	.max_header_block = 1024,
	.max_header_count = MAXHDRS,
	.max_chunk_ext = 32,
};

/* FNV-1a, to derive a split point from the input itself. */
static size_t
fuzz_hash(const uint8_t *p, size_t n)
{
	uint32_t	 h = 2166136261u;

	while (n-- > 0)
		h = (h ^ *p++) * 16777619u;
	return (h);
}

static int
has_seq_ci(const char *s, size_t n, const char *lit)
{
	size_t	 m = strlen(lit), i;

	for (i = 0; i + m <= n; i++)
		if (http_token_eq(s + i, m, lit))
			return (1);
	return (0);
}

/* Everything a caller of a successful parse may assume. */
static void
check_req(const char *buf, size_t len, const struct http_req *req,
    const struct http_hdr *hdrs, const char *pathbuf, size_t pathbuflen)
{
	size_t	 i, j, nhost = 0;

	FUZZ_CHECK(req->head_len > 0 && req->head_len <= len);
	/* Bare LF is refused, so a head always ends in CRLF CRLF. */
	FUZZ_CHECK(req->head_len >= 4 &&
	    memcmp(buf + req->head_len - 4, "\r\n\r\n", 4) == 0);
	FUZZ_CHECK(req->method >= buf &&
	    req->method + req->methodlen <= buf + req->head_len);
	FUZZ_CHECK(req->target >= buf &&
	    req->target + req->targetlen <= buf + req->head_len);
	FUZZ_CHECK(req->version_minor == 0 || req->version_minor == 1);

	/* The path lives in pathbuf and is a C string of pathlen bytes. */
	FUZZ_CHECK(req->path == pathbuf);
	FUZZ_CHECK(req->pathlen < pathbuflen);
	FUZZ_CHECK(req->path[req->pathlen] == '\0');
	FUZZ_CHECK(strlen(req->path) == req->pathlen);
	if (req->path[0] == '*')
		FUZZ_CHECK(req->pathlen == 1 &&
		    req->method_id == HTTP_OPTIONS);
	else {
		FUZZ_CHECK(req->path[0] == '/');
		FUZZ_CHECK(strstr(req->path, "/../") == NULL);
		FUZZ_CHECK(strstr(req->path, "/./") == NULL);
		FUZZ_CHECK(strstr(req->path, "//") == NULL);
		FUZZ_CHECK(!has_seq_ci(req->path, req->pathlen, "%2f"));
		FUZZ_CHECK(!has_seq_ci(req->path, req->pathlen, "%5c"));
		FUZZ_CHECK(!has_seq_ci(req->path, req->pathlen, "%00"));
		FUZZ_CHECK(strchr(req->path, '\\') == NULL);
		FUZZ_CHECK(strchr(req->path, '?') == NULL);
	}
	if (req->query != NULL) {
		FUZZ_CHECK(req->querylen > 0 && req->query[0] == '?');
		FUZZ_CHECK(req->query >= buf &&
		    req->query + req->querylen <= buf + req->head_len);
		for (j = 0; j < req->querylen; j++)
			FUZZ_CHECK((unsigned char)req->query[j] > 0x20 &&
			    (unsigned char)req->query[j] < 0x7f &&
			    req->query[j] != '#');
	}

	FUZZ_CHECK(req->nhdrs <= MAXHDRS && req->hdrs == hdrs);
	for (i = 0; i < req->nhdrs; i++) {
		const struct http_hdr *h = &hdrs[i];

		FUZZ_CHECK(h->namelen > 0);
		FUZZ_CHECK(h->name >= buf &&
		    h->name + h->namelen <= buf + req->head_len);
		FUZZ_CHECK(h->valuelen == 0 || (h->value >= buf &&
		    h->value + h->valuelen <= buf + req->head_len));
		FUZZ_CHECK(memchr(h->name, ':', h->namelen) == NULL);
		for (j = 0; j < h->valuelen; j++)
			FUZZ_CHECK(h->value[j] != '\r' &&
			    h->value[j] != '\n' && h->value[j] != '\0');
		if (h->valuelen > 0) {
			/* OWS-trimmed. */
			FUZZ_CHECK(h->value[0] != ' ' &&
			    h->value[0] != '\t');
			FUZZ_CHECK(h->value[h->valuelen - 1] != ' ' &&
			    h->value[h->valuelen - 1] != '\t');
		}
		if (h->kind == HTTP_H_HOST) {
			nhost++;
			FUZZ_CHECK(req->host == h->value &&
			    req->hostlen == h->valuelen);
		}
	}
	FUZZ_CHECK(nhost <= 1);
	if (req->version_minor == 1)
		FUZZ_CHECK(nhost == 1);
	if (nhost == 0)
		FUZZ_CHECK(req->host == NULL);

	/* Framing is never ambiguous. */
	FUZZ_CHECK(req->content_length >= -1);
	FUZZ_CHECK(!(req->chunked && req->content_length != -1));
	FUZZ_CHECK(!(req->chunked && req->version_minor == 0));
	FUZZ_CHECK(req->has_body ==
	    (req->chunked || req->content_length > 0));
}

/*
 * The error status must not depend on how the bytes arrived.  Open
 * finding F1 (lax only): an over-long line that is still incomplete gives
 * 431/414 while the same line complete with a bare LF gives 400.
 */
static int
same_status(int early, int whole)
{
	if (lax == -1)
		lax = fuzz_lax();
	if (early == whole)
		return (1);
	return (lax && (early == 414 || early == 431) && whole == 400);
}

/* Parse one request head from buf, fed whole and then split in two. */
static enum http_parse_result
one_request(const char *buf, size_t len, struct http_req *req,
    struct http_hdr *hdrs, char *pathbuf, size_t pathbuflen)
{
	struct http_req		 req2;
	struct http_hdr		 hdrs2[MAXHDRS];
	char			 pathbuf2[512];
	struct http_error	 err, err2;
	enum http_parse_result	 r, r1, r2;
	char			*prefix;
	size_t			 k;

	memset(req, 0, sizeof(*req));
	r = http_parse_request(buf, len, &lim, req, hdrs, MAXHDRS, pathbuf,
	    pathbuflen, &err);
	FUZZ_CHECK(r == HTTP_PARSE_OK || r == HTTP_PARSE_AGAIN ||
	    r == HTTP_PARSE_ERROR);
	if (r == HTTP_PARSE_OK)
		check_req(buf, len, req, hdrs, pathbuf, pathbuflen);
	if (r == HTTP_PARSE_ERROR)
		FUZZ_CHECK(err.status >= 400 && err.status <= 599 &&
		    err.reason != NULL);

	/*
	 * The same bytes in two reads.  The prefix is its own exact-size
	 * heap block, so ASan sees any look past the bytes received so
	 * far, and the second call gets the (moved) whole buffer.
	 */
	k = len > 0 ? fuzz_hash((const uint8_t *)buf, len) % len : 0;
	if ((prefix = malloc(k ? k : 1)) == NULL)
		return (r);
	memcpy(prefix, buf, k);
	memset(&req2, 0, sizeof(req2));
	r1 = http_parse_request(prefix, k, &lim, &req2, hdrs2, MAXHDRS,
	    pathbuf2, sizeof(pathbuf2), &err2);
	if (r1 == HTTP_PARSE_AGAIN) {
		r2 = http_parse_request(buf, len, &lim, &req2, hdrs2,
		    MAXHDRS, pathbuf2, sizeof(pathbuf2), &err2);
		FUZZ_CHECK(r2 == r);
		if (r2 == HTTP_PARSE_OK) {
			FUZZ_CHECK(req2.head_len == req->head_len);
			FUZZ_CHECK(req2.nhdrs == req->nhdrs);
			FUZZ_CHECK(req2.pathlen == req->pathlen &&
			    strcmp(pathbuf2, pathbuf) == 0);
			FUZZ_CHECK(req2.content_length ==
			    req->content_length);
			FUZZ_CHECK(req2.chunked == req->chunked);
			FUZZ_CHECK(req2.keepalive == req->keepalive);
		}
		if (r2 == HTTP_PARSE_ERROR)
			FUZZ_CHECK(same_status(err2.status, err.status));
	} else if (r1 == HTTP_PARSE_OK) {
		/* The head was complete within the prefix. */
		FUZZ_CHECK(r == HTTP_PARSE_OK);
		FUZZ_CHECK(req2.head_len == req->head_len);
	} else {
		/* An error seen early is an error of the whole. */
		FUZZ_CHECK(r == HTTP_PARSE_ERROR);
		FUZZ_CHECK(same_status(err2.status, err.status));
	}
	free(prefix);
	return (r);
}

static void
one_response(const char *buf, size_t len, int method)
{
	struct http_resp	 resp;
	struct http_hdr		 hdrs[MAXHDRS];
	struct http_error	 err;
	size_t			 i, j;

	memset(&resp, 0, sizeof(resp));
	if (http_parse_response(buf, len, &lim, method, &resp, hdrs, MAXHDRS,
	    &err) != HTTP_PARSE_OK)
		return;
	FUZZ_CHECK(resp.head_len > 0 && resp.head_len <= len);
	FUZZ_CHECK(resp.status >= 100 && resp.status <= 999);
	FUZZ_CHECK(resp.status != 101);
	FUZZ_CHECK(resp.nhdrs <= MAXHDRS);
	for (i = 0; i < resp.nhdrs; i++)
		for (j = 0; j < hdrs[i].valuelen; j++)
			FUZZ_CHECK(hdrs[i].value[j] != '\r' &&
			    hdrs[i].value[j] != '\n' &&
			    hdrs[i].value[j] != '\0');
	FUZZ_CHECK(!(resp.chunked && resp.content_length != -1));
	if (resp.until_close)
		FUZZ_CHECK(!resp.keepalive && !resp.chunked &&
		    resp.content_length == -1);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_req		 req;
	struct http_hdr		 hdrs[MAXHDRS];
	char			 pathbuf[256 + 1];
	const char		*buf = (const char *)data;
	size_t			 off = 0;
	int			 n;

	/* Up to four pipelined heads; bodies end the sequence. */
	for (n = 0; n < 4 && off < size; n++) {
		if (one_request(buf + off, size - off, &req, hdrs, pathbuf,
		    sizeof(pathbuf)) != HTTP_PARSE_OK || req.has_body)
			break;
		off += req.head_len;
	}
	one_response(buf, size, HTTP_GET);
	one_response(buf, size, HTTP_HEAD);
	return (0);
}
