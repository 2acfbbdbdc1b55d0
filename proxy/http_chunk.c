/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * The streaming decoder of the chunked transfer coding (RFC 9112 7.1,
 * declared in http.h): sizes, extensions (bounded, skipped), data and
 * trailers (bounded, discarded), fed any split of the input; and the
 * chunk-size line for re-encoding.  Pure functions on caller buffers: no
 * allocation, no logging.  Moved out of http.c; shares its character
 * classes through http_int.h.  Floor: with http.c, below everything else
 * in proxy/.
 */

#include <stdint.h>
#include <string.h>

#include "proxy/http.h"
#include "proxy/http_int.h"

static const char hexdig_lower[] = "0123456789abcdef";

enum {
	CH_SIZE = 0,	/* hex digits */
	CH_SIZE_BWS,	/* whitespace after the size; ';' must follow */
	CH_EXT,		/* chunk-ext, skipped up to CR */
	CH_SIZE_LF,
	CH_DATA,
	CH_DATA_CR,
	CH_DATA_LF,
	CH_TR_START,	/* start of a trailer line or the final CRLF */
	CH_TR_NAME,
	CH_TR_VALUE,
	CH_TR_LF,
	CH_LAST_LF,
	CH_DONE,
	CH_ERROR
};

/* Contract in http.h. */
void
http_chunk_init(struct http_chunk *c, size_t max_ext, size_t max_trailer)
{
	memset(c, 0, sizeof(*c));
	c->state = CH_SIZE;
	c->max_ext = max_ext != 0 ? max_ext : HTTP_DEF_CHUNK_EXT;
	c->max_trailer = max_trailer != 0 ? max_trailer : HTTP_DEF_TRAILER;
}

static enum http_chunk_result
http_chunk_fail(struct http_chunk *c, const char *reason, size_t *used,
    size_t at, struct http_error *err)
{
	c->state = CH_ERROR;
	c->reason = reason;
	*used = at;
	err->status = 400;
	err->reason = reason;
	return (HTTP_CHUNK_ERROR);
}

/* Contract in http.h. */
enum http_chunk_result
http_chunk_feed(struct http_chunk *c, const char *in, size_t len,
    size_t *used, size_t *data_off, size_t *data_len, struct http_error *err)
{
	size_t		 i = 0, n;
	unsigned char	 ch;

	*data_off = 0;
	*data_len = 0;
	if (c->state == CH_DONE) {
		*used = 0;
		return (HTTP_CHUNK_DONE);
	}
	if (c->state == CH_ERROR)
		return (http_chunk_fail(c, c->reason, used, 0, err));

	while (i < len) {
		if (c->state == CH_DATA) {
			n = len - i;
			if (n > c->left)
				n = (size_t)c->left;
			c->left -= n;
			if (c->left == 0)
				c->state = CH_DATA_CR;
			*data_off = i;
			*data_len = n;
			*used = i + n;
			return (HTTP_CHUNK_DATA);
		}
		ch = (unsigned char)in[i++];
		if (c->state >= CH_TR_START && ++c->trailer > c->max_trailer)
			return (http_chunk_fail(c, "trailer section too large",
			    used, i, err));
		switch (c->state) {
		case CH_SIZE:
			if (CT(ch, C_HEX)) {
				/* 16 digits at most, and no more than
				 * INT64_MAX, so sizes fit an off_t. */
				if (c->digits == 16 ||
				    c->size > (uint64_t)INT64_MAX >> 4)
					return (http_chunk_fail(c,
					    "chunk size overflow", used, i,
					    err));
				c->size = c->size << 4 | http_hexval(ch);
				c->digits++;
				break;
			}
			/* The digits ended; a size needs at least one. */
			if (c->digits == 0)
				return (http_chunk_fail(c,
				    "invalid chunk size", used, i, err));
			if (ch == ';' || ch == ' ' || ch == '\t') {
				/* chunk-ext length counts from here to CR. */
				c->ext = 1;
				c->state = ch == ';' ? CH_EXT : CH_SIZE_BWS;
			} else if (ch == '\r')
				c->state = CH_SIZE_LF;
			else if (ch == '\n')
				return (http_chunk_fail(c,
				    "bare LF in chunk size line", used, i,
				    err));
			else
				return (http_chunk_fail(c,
				    "invalid chunk size", used, i, err));
			break;
		case CH_SIZE_BWS:
			if (++c->ext > c->max_ext)
				return (http_chunk_fail(c,
				    "chunk extension too long", used, i, err));
			if (ch == ';')
				c->state = CH_EXT;
			else if (ch != ' ' && ch != '\t')
				return (http_chunk_fail(c,
				    "whitespace after chunk size", used, i,
				    err));
			break;
		case CH_EXT:
			/*
			 * Extensions are dropped, never forwarded, so a
			 * character check and a length bound suffice.
			 */
			if (ch == '\r') {
				c->state = CH_SIZE_LF;
				break;
			}
			if (ch == '\n')
				return (http_chunk_fail(c,
				    "bare LF in chunk size line", used, i,
				    err));
			if (!CT(ch, C_FVAL))
				return (http_chunk_fail(c,
				    "invalid character in chunk extension",
				    used, i, err));
			if (++c->ext > c->max_ext)
				return (http_chunk_fail(c,
				    "chunk extension too long", used, i, err));
			break;
		case CH_SIZE_LF:
			if (ch != '\n')
				return (http_chunk_fail(c,
				    "bare CR in chunk size line", used, i,
				    err));
			c->left = c->size;
			c->state = c->size == 0 ? CH_TR_START : CH_DATA;
			c->size = 0;
			c->digits = 0;
			c->ext = 0;
			break;
		case CH_DATA_CR:
			if (ch != '\r')
				return (http_chunk_fail(c,
				    "missing CRLF after chunk data", used, i,
				    err));
			c->state = CH_DATA_LF;
			break;
		case CH_DATA_LF:
			if (ch != '\n')
				return (http_chunk_fail(c,
				    "missing CRLF after chunk data", used, i,
				    err));
			c->state = CH_SIZE;
			break;
		case CH_TR_START:
			if (ch == '\r')
				c->state = CH_LAST_LF;
			else if (CT(ch, C_TCHAR))
				c->state = CH_TR_NAME;
			else if (ch == '\n')
				return (http_chunk_fail(c,
				    "bare LF in trailer section", used, i,
				    err));
			else if (ch == ' ' || ch == '\t')
				return (http_chunk_fail(c,
				    "obs-fold in trailer section", used, i,
				    err));
			else
				return (http_chunk_fail(c,
				    "invalid trailer field name", used, i,
				    err));
			break;
		case CH_TR_NAME:
			if (ch == ':')
				c->state = CH_TR_VALUE;
			else if (!CT(ch, C_TCHAR))
				return (http_chunk_fail(c,
				    "invalid trailer field name", used, i,
				    err));
			break;
		case CH_TR_VALUE:
			if (ch == '\r')
				c->state = CH_TR_LF;
			else if (ch == '\n')
				return (http_chunk_fail(c,
				    "bare LF in trailer section", used, i,
				    err));
			else if (!CT(ch, C_FVAL))
				return (http_chunk_fail(c,
				    "invalid character in trailer field",
				    used, i, err));
			break;
		case CH_TR_LF:
			if (ch != '\n')
				return (http_chunk_fail(c,
				    "bare CR in trailer section", used, i,
				    err));
			c->state = CH_TR_START;
			break;
		case CH_LAST_LF:
			if (ch != '\n')
				return (http_chunk_fail(c,
				    "bare CR after last chunk", used, i, err));
			c->state = CH_DONE;
			*used = i;
			return (HTTP_CHUNK_DONE);
		}
	}
	*used = len;
	return (HTTP_CHUNK_AGAIN);
}

/* Contract in http.h. */
size_t
http_chunk_header(char *out, size_t n)
{
	char	 tmp[16];
	size_t	 k = 0, o = 0;

	do {
		tmp[k++] = hexdig_lower[n & 15];
		n >>= 4;
	} while (n != 0 && k < sizeof(tmp));
	while (k > 0)
		out[o++] = tmp[--k];
	out[o++] = '\r';
	out[o++] = '\n';
	return (o);
}
