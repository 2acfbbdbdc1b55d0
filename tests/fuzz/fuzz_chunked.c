/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * libFuzzer target for the streaming chunked-body decoder
 * (http_chunk_feed).  The first input byte picks the limits and the seed
 * of the split points; the rest is the body.  The body is decoded once in
 * one piece and once cut at pseudo-random points, each piece in its own
 * exact-size heap block; both runs must agree on the decoded bytes, the
 * verdict and the bytes consumed.  Also checked: the decoder never
 * reports more payload than it was given, DONE consumes no more than it
 * was given and stays DONE, errors are sticky, and re-encoding the payload
 * with http_chunk_header() decodes back to the same bytes.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/http.h"
#include "tests/fuzz/fuzz.h"

struct run {
	enum http_chunk_result	 verdict;	/* DONE, ERROR or AGAIN */
	size_t			 consumed;	/* bytes up to DONE */
	uint8_t			*out;		/* decoded payload */
	size_t			 outlen;
	int			 status;
};

/*
 * Feed body[0, len) to a fresh decoder in pieces whose ends are cuts[]
 * (ascending, the last one len).  Payload goes to r->out, which has room
 * for len bytes.
 */
static void
decode(const uint8_t *body, size_t len, const size_t *cuts, size_t ncuts,
    size_t max_ext, size_t max_trailer, struct run *r)
{
	struct http_chunk	 c;
	struct http_error	 err;
	enum http_chunk_result	 res = HTTP_CHUNK_AGAIN;
	size_t			 i, start = 0, off, used, doff, dlen;
	char			*piece;

	http_chunk_init(&c, max_ext, max_trailer);
	r->outlen = 0;
	r->consumed = 0;
	r->status = 0;
	for (i = 0; i < ncuts; i++) {
		size_t	 n = cuts[i] - start;

		if ((piece = malloc(n ? n : 1)) == NULL)
			abort();
		memcpy(piece, body + start, n);
		off = 0;
		for (;;) {
			used = doff = dlen = (size_t)-1;
			res = http_chunk_feed(&c, piece + off, n - off, &used,
			    &doff, &dlen, &err);
			if (res == HTTP_CHUNK_ERROR) {
				FUZZ_CHECK(err.status == 400 &&
				    err.reason != NULL);
				r->status = err.status;
				break;
			}
			FUZZ_CHECK(used <= n - off);
			if (res == HTTP_CHUNK_DATA) {
				FUZZ_CHECK(dlen > 0);
				FUZZ_CHECK(doff + dlen == used);
				FUZZ_CHECK(r->outlen + dlen <= len);
				memcpy(r->out + r->outlen, piece + off + doff,
				    dlen);
				r->outlen += dlen;
				off += used;
				continue;
			}
			if (res == HTTP_CHUNK_AGAIN) {
				FUZZ_CHECK(used == n - off);
				off += used;
				break;
			}
			FUZZ_CHECK(res == HTTP_CHUNK_DONE);
			off += used;
			r->consumed = start + off;
			break;
		}
		free(piece);
		if (res == HTTP_CHUNK_ERROR || res == HTTP_CHUNK_DONE)
			break;
		start = cuts[i];
	}
	r->verdict = res;
	/* The total payload never exceeds the input. */
	FUZZ_CHECK(r->outlen <= len);

	/* Terminal states stay put. */
	if (res == HTTP_CHUNK_DONE) {
		FUZZ_CHECK(r->consumed <= len);
		FUZZ_CHECK(http_chunk_feed(&c, "0\r\n\r\n", 5, &used, &doff,
		    &dlen, &err) == HTTP_CHUNK_DONE && used == 0);
	} else if (res == HTTP_CHUNK_ERROR)
		FUZZ_CHECK(http_chunk_feed(&c, "0\r\n\r\n", 5, &used, &doff,
		    &dlen, &err) == HTTP_CHUNK_ERROR);
}

/* Chunk payload[0, n) back into a body and check it decodes to itself. */
static void
roundtrip(const uint8_t *payload, size_t n, unsigned seed)
{
	static const uint8_t crlf[2] = { '\r', '\n' };
	static const uint8_t last[5] = { '0', '\r', '\n', '\r', '\n' };
	uint8_t		*enc, *p;
	size_t		 cap, i, k, cut;
	struct run	 r;

	cap = n + (n + 1) * (HTTP_CHUNK_HEADER_MAX + 2) + 5;
	if ((enc = malloc(cap)) == NULL || (r.out = malloc(n + cap)) ==
	    NULL)
		abort();
	p = enc;
	for (i = 0; i < n; i += k) {
		k = 1 + (seed = seed * 1103515245u + 12345u) % 97;
		if (k > n - i)
			k = n - i;
		p += http_chunk_header((char *)p, k);
		memcpy(p, payload + i, k);
		p += k;
		memcpy(p, crlf, sizeof(crlf));
		p += sizeof(crlf);
	}
	memcpy(p, last, sizeof(last));
	p += sizeof(last);
	cut = (size_t)(p - enc);
	decode(enc, cut, &cut, 1, 0, 0, &r);
	FUZZ_CHECK(r.verdict == HTTP_CHUNK_DONE && r.consumed == cut);
	FUZZ_CHECK(r.outlen == n && memcmp(r.out, payload, n) == 0);
	free(r.out);
	free(enc);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t ext[4] = { 0, 1, 8, 256 };
	static const size_t trl[4] = { 0, 3, 16, 8192 };
	struct run	 whole, split;
	const uint8_t	*body;
	size_t		*cuts, ncuts = 0, len, pos, max_ext, max_trailer;
	unsigned	 seed;

	if (size < 1)
		return (0);
	max_ext = ext[data[0] & 3];
	max_trailer = trl[(data[0] >> 2) & 3];
	seed = data[0] >> 4;
	body = data + 1;
	len = size - 1;

	if ((whole.out = malloc(len ? len : 1)) == NULL ||
	    (split.out = malloc(len ? len : 1)) == NULL ||
	    (cuts = malloc((len + 1) * sizeof(*cuts))) == NULL)
		abort();

	decode(body, len, &len, 1, max_ext, max_trailer, &whole);

	/* Cut points: 1-byte pieces for seed 0, else pieces of 1..2*seed. */
	for (pos = 0; pos < len; ) {
		pos += seed == 0 ? 1 : 1 + (pos * 31 + seed) % (2 * (size_t)seed);
		cuts[ncuts++] = pos < len ? pos : len;
	}
	if (ncuts == 0)
		cuts[ncuts++] = 0;
	decode(body, len, cuts, ncuts, max_ext, max_trailer, &split);

	FUZZ_CHECK(split.verdict == whole.verdict);
	FUZZ_CHECK(split.status == whole.status);
	FUZZ_CHECK(split.outlen == whole.outlen &&
	    memcmp(split.out, whole.out, whole.outlen) == 0);
	if (whole.verdict == HTTP_CHUNK_DONE)
		FUZZ_CHECK(split.consumed == whole.consumed);

	if (whole.outlen <= 4096)
		roundtrip(whole.out, whole.outlen, seed);

	free(cuts);
	free(split.out);
	free(whole.out);
	return (0);
}
