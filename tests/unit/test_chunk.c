/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * Unit tests for the streaming chunked decoder in proxy/http.c: normal
 * bodies, every split point and byte-by-byte feeding, extensions and their
 * limit, size overflow, bare CR/LF, missing CRLF after data, trailers
 * (validated, bounded and never emitted as data), bytes of the next
 * message after the end, sticky errors, and re-encoding with
 * http_chunk_header().
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proxy/http.h"

/* What one decode run produced. */
struct run {
	enum http_chunk_result	 res;
	char			 data[4096];
	size_t			 ndata;
	size_t			 consumed;	/* bytes of input used */
	struct http_error	 err;
};

/*
 * Decode in[0, len), handing it to the decoder in slices of at most step
 * bytes (0: all at once), the way reads would deliver it.  Stops at DONE
 * or ERROR.
 */
static void
decode(const char *in, size_t len, size_t step, size_t max_ext,
    size_t max_trailer, struct run *r)
{
	struct http_chunk	 c;
	size_t			 off = 0, avail, used, doff, dlen;

	memset(r, 0, sizeof(*r));
	http_chunk_init(&c, max_ext, max_trailer);
	r->res = HTTP_CHUNK_AGAIN;
	while (off < len) {
		avail = len - off;
		if (step != 0 && avail > step)
			avail = step;
		r->res = http_chunk_feed(&c, in + off, avail, &used, &doff,
		    &dlen, &r->err);
		assert_true(used <= avail);
		if (r->res == HTTP_CHUNK_DATA) {
			assert_true(dlen > 0);
			assert_int_equal(used, doff + dlen);
			assert_true(r->ndata + dlen <= sizeof(r->data));
			memcpy(r->data + r->ndata, in + off + doff, dlen);
			r->ndata += dlen;
		} else if (r->res == HTTP_CHUNK_AGAIN)
			assert_int_equal(used, avail);
		off += used;
		if (r->res == HTTP_CHUNK_DONE || r->res == HTTP_CHUNK_ERROR)
			break;
	}
	r->consumed = off;
}

#define S(x)	x, sizeof(x) - 1

static void
test_chunk__normal_body(void **state)
{
	static const char in[] = "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
	struct run	 r;

	decode(S(in), 0, 0, 0, &r);
	assert_int_equal(r.res, HTTP_CHUNK_DONE);
	assert_int_equal(r.ndata, 11);
	assert_memory_equal(r.data, "hello world", 11);
	assert_int_equal(r.consumed, sizeof(in) - 1);
}

static void
test_chunk__hex_sizes_any_case(void **state)
{
	char		 in[256], want[64];
	struct run	 r;
	size_t		 n;

	memset(want, 'z', 26);
	n = (size_t)snprintf(in, sizeof(in), "1A\r\n%.26s\r\n00000000000000"
	    "0a\r\n%.10s\r\n0000\r\n\r\n", want, want);
	decode(in, n, 0, 0, 0, &r);
	assert_int_equal(r.res, HTTP_CHUNK_DONE);
	assert_int_equal(r.ndata, 36);
	n = (size_t)snprintf(in, sizeof(in), "1a\r\n%.26s\r\n0\r\n\r\n", want);
	decode(in, n, 0, 0, 0, &r);
	assert_int_equal(r.res, HTTP_CHUNK_DONE);
	assert_int_equal(r.ndata, 26);
}

/* Every split point, and byte by byte: same data, same end. */
static void
test_chunk__split_at_every_boundary(void **state)
{
	static const char in[] = "3;ext=1\r\nabc\r\n10\r\n0123456789abcdef\r\n"
	    "1 ; x=\"a b\"\r\nZ\r\n0\r\nX-Trailer: v\r\n\r\n";
	struct http_chunk	 c;
	struct http_error	 err;
	struct run		 r;
	char			 got[64];
	size_t			 k, i, n = sizeof(in) - 1, used, doff, dlen;
	size_t			 ngot, parts[2][2];
	enum http_chunk_result	 res;

	for (k = 0; k <= n; k++) {
		http_chunk_init(&c, 0, 0);
		ngot = 0;
		parts[0][0] = 0;
		parts[0][1] = k;
		parts[1][0] = k;
		parts[1][1] = n;
		res = HTTP_CHUNK_AGAIN;
		for (i = 0; i < 2 && res != HTTP_CHUNK_DONE; i++) {
			size_t	 off = parts[i][0], end = parts[i][1];

			while (off < end) {
				res = http_chunk_feed(&c, in + off, end - off,
				    &used, &doff, &dlen, &err);
				assert_int_not_equal(res, HTTP_CHUNK_ERROR);
				if (res == HTTP_CHUNK_DATA) {
					memcpy(got + ngot, in + off + doff,
					    dlen);
					ngot += dlen;
				}
				off += used;
				if (res == HTTP_CHUNK_DONE)
					break;
			}
		}
		if (res != HTTP_CHUNK_DONE)
			fail_msg("split at %zu: not done", k);
		assert_int_equal(ngot, 20);
		assert_memory_equal(got, "abc0123456789abcdefZ", 20);
	}

	decode(in, n, 1, 0, 0, &r);
	assert_int_equal(r.res, HTTP_CHUNK_DONE);
	assert_int_equal(r.ndata, 20);
	assert_memory_equal(r.data, "abc0123456789abcdefZ", 20);
	assert_int_equal(r.consumed, n);
}

/* Data spans point into the caller's buffer; nothing is copied. */
static void
test_chunk__data_span_in_place(void **state)
{
	static const char in[] = "4\r\nwxyz\r\n0\r\n\r\n";
	struct http_chunk	 c;
	struct http_error	 err;
	size_t			 used, doff, dlen;

	http_chunk_init(&c, 0, 0);
	assert_int_equal(http_chunk_feed(&c, S(in), &used, &doff, &dlen,
	    &err), HTTP_CHUNK_DATA);
	assert_int_equal(doff, 3);
	assert_int_equal(dlen, 4);
	assert_int_equal(used, 7);
	assert_int_equal(http_chunk_feed(&c, in + used, sizeof(in) - 1 - used,
	    &used, &doff, &dlen, &err), HTTP_CHUNK_DONE);
	assert_int_equal(used, sizeof(in) - 1 - 7);

	/* Partial data: DATA for what is there, then AGAIN-free resume. */
	http_chunk_init(&c, 0, 0);
	assert_int_equal(http_chunk_feed(&c, in, 5, &used, &doff, &dlen,
	    &err), HTTP_CHUNK_DATA);
	assert_int_equal(doff, 3);
	assert_int_equal(dlen, 2);
	assert_int_equal(http_chunk_feed(&c, in + 5, 0, &used, &doff, &dlen,
	    &err), HTTP_CHUNK_AGAIN);
	assert_int_equal(used, 0);
	assert_int_equal(http_chunk_feed(&c, in + 5, 2, &used, &doff, &dlen,
	    &err), HTTP_CHUNK_DATA);
	assert_int_equal(doff, 0);
	assert_int_equal(dlen, 2);
}

static void
test_chunk__extensions(void **state)
{
	static const char ok[] = "5;a=b;c=\"d e\"\r\nhello\r\n0;last\r\n\r\n";
	static const char bws[] = "5 \t;a\r\nhello\r\n0\r\n\r\n";
	struct run	 r;

	decode(S(ok), 0, 0, 0, &r);
	assert_int_equal(r.res, HTTP_CHUNK_DONE);
	assert_int_equal(r.ndata, 5);
	decode(S(bws), 0, 0, 0, &r);
	assert_int_equal(r.res, HTTP_CHUNK_DONE);

	/* Whitespace after the size is only BWS before a ';'. */
	decode(S("5 \r\nhello\r\n0\r\n\r\n"), 0, 0, 0, &r);
	assert_int_equal(r.res, HTTP_CHUNK_ERROR);
	assert_non_null(strstr(r.err.reason, "whitespace after chunk size"));
	decode(S("5 x\r\nhello\r\n0\r\n\r\n"), 0, 0, 0, &r);
	assert_int_equal(r.res, HTTP_CHUNK_ERROR);

	/* Control characters in an extension. */
	decode(S("5;a\x01\r\nhello\r\n0\r\n\r\n"), 0, 0, 0, &r);
	assert_int_equal(r.res, HTTP_CHUNK_ERROR);
	assert_non_null(strstr(r.err.reason, "invalid character"));
	decode(S("5;a\0\r\nhello\r\n0\r\n\r\n"), 0, 0, 0, &r);
	assert_int_equal(r.res, HTTP_CHUNK_ERROR);
}

static void
test_chunk__max_ext_enforced(void **state)
{
	struct run	 r;

	/* ";abcdefg" is 8 bytes: exactly the limit. */
	decode(S("1;abcdefg\r\nx\r\n0\r\n\r\n"), 0, 8, 0, &r);
	assert_int_equal(r.res, HTTP_CHUNK_DONE);
	decode(S("1;abcdefgh\r\nx\r\n0\r\n\r\n"), 0, 8, 0, &r);
	assert_int_equal(r.res, HTTP_CHUNK_ERROR);
	assert_int_equal(r.err.status, 400);
	assert_non_null(strstr(r.err.reason, "chunk extension too long"));
	/* The limit is per line, not per body. */
	decode(S("1;abcdefg\r\nx\r\n1;abcdefg\r\ny\r\n0;abcdefg\r\n\r\n"), 0,
	    8, 0, &r);
	assert_int_equal(r.res, HTTP_CHUNK_DONE);
	/* BWS counts, so endless whitespace is bounded too. */
	decode(S("1         \r\n"), 0, 8, 0, &r);
	assert_int_equal(r.res, HTTP_CHUNK_ERROR);
	/* Default limit when 0 is given. */
	{
		char	 in[HTTP_DEF_CHUNK_EXT + 32];

		memset(in, 'a', sizeof(in));
		in[0] = '1';
		in[1] = ';';
		decode(in, sizeof(in), 0, 0, 0, &r);
		assert_int_equal(r.res, HTTP_CHUNK_ERROR);
		assert_true(r.consumed <= HTTP_DEF_CHUNK_EXT + 2);
	}
}

static void
test_chunk__size_overflow_and_garbage(void **state)
{
	static const struct {
		const char	*in;
		const char	*why;
	} bad[] = {
		{ "8000000000000000\r\n", "overflow" },
		{ "ffffffffffffffff\r\n", "overflow" },
		{ "10000000000000000\r\n", "overflow" },
		{ "00000000000000005\r\n", "overflow" },
		{ "\r\n", "invalid chunk size" },
		{ ";x\r\n", "invalid chunk size" },
		{ "g\r\n", "invalid chunk size" },
		{ "-1\r\n", "invalid chunk size" },
		{ "+1\r\n", "invalid chunk size" },
		{ "0x5\r\n", "invalid chunk size" },
		{ " 5\r\n", "invalid chunk size" },
		{ "5g\r\n", "invalid chunk size" },
		{ "5\"\r\n", "invalid chunk size" },
	};
	struct run	 r;
	size_t		 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		decode(bad[i].in, strlen(bad[i].in), 0, 0, 0, &r);
		if (r.res != HTTP_CHUNK_ERROR || r.err.status != 400 ||
		    strstr(r.err.reason, bad[i].why) == NULL)
			fail_msg("%s: res %d (%s)", bad[i].in, r.res,
			    r.err.reason ? r.err.reason : "-");
	}

	/* The largest size accepted: 16 digits, INT64_MAX. */
	decode(S("7fffffffffffffff\r\nabc"), 0, 0, 0, &r);
	assert_int_equal(r.res, HTTP_CHUNK_DATA);
	assert_int_equal(r.ndata, 3);
}

static void
test_chunk__bare_lf_and_cr(void **state)
{
	static const char *const bad[] = {
		"5\nhello\r\n0\r\n\r\n",
		"5;x\nhello\r\n0\r\n\r\n",
		"5\rhello\r\n0\r\n\r\n",
		"0\r\n\n",
		"0\r\n\r\r\n",
		"0\r\nX: y\n\r\n",
		"0\r\nX: y\r\r\n",
		"0\n\r\n",
	};
	struct run	 r;
	size_t		 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		decode(bad[i], strlen(bad[i]), 0, 0, 0, &r);
		if (r.res != HTTP_CHUNK_ERROR)
			fail_msg("case %zu accepted", i);
		assert_true(strstr(r.err.reason, "bare") != NULL);
	}
}

static void
test_chunk__missing_crlf_after_data(void **state)
{
	static const char *const bad[] = {
		"5\r\nhelloX\r\n0\r\n\r\n",
		"5\r\nhello\n0\r\n\r\n",
		"5\r\nhello\rX0\r\n\r\n",
		"5\r\nhello0\r\n\r\n",
		"3\r\nhello\r\n0\r\n\r\n",
	};
	struct run	 r;
	size_t		 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		decode(bad[i], strlen(bad[i]), 0, 0, 0, &r);
		if (r.res != HTTP_CHUNK_ERROR ||
		    strstr(r.err.reason, "missing CRLF") == NULL)
			fail_msg("case %zu: %d %s", i, r.res,
			    r.err.reason ? r.err.reason : "-");
		/* Only the declared bytes got through before the error. */
		assert_true(r.ndata <= 5);
	}
}

static void
test_chunk__trailers_discarded(void **state)
{
	static const char in[] = "2\r\nok\r\n0\r\nX-Checksum: abc\r\n"
	    "Content-Length: 99\r\nEmpty:\r\n\r\n";
	struct run	 r;

	decode(S(in), 0, 0, 0, &r);
	assert_int_equal(r.res, HTTP_CHUNK_DONE);
	/* No trailer byte is ever handed out as data. */
	assert_int_equal(r.ndata, 2);
	assert_memory_equal(r.data, "ok", 2);
	assert_int_equal(r.consumed, sizeof(in) - 1);
}

static void
test_chunk__trailers_validated(void **state)
{
	static const struct {
		const char	*in;
		size_t		 len;
		const char	*why;
	} bad[] = {
		{ S("0\r\n: v\r\n\r\n"), "invalid trailer field name" },
		{ S("0\r\n X: v\r\n\r\n"), "obs-fold" },
		{ S("0\r\nX: a\r\n b\r\n\r\n"), "obs-fold" },
		{ S("0\r\nX : v\r\n\r\n"), "invalid trailer field name" },
		{ S("0\r\nX\r\n\r\n"), "invalid trailer field name" },
		{ S("0\r\nX@: v\r\n\r\n"), "invalid trailer field name" },
		{ S("0\r\nX: a\x01\r\n\r\n"), "invalid character" },
		{ S("0\r\nX: a\0\r\n\r\n"), "invalid character" },
	};
	struct run	 r;
	size_t		 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		decode(bad[i].in, bad[i].len, 0, 0, 0, &r);
		if (r.res != HTTP_CHUNK_ERROR ||
		    strstr(r.err.reason, bad[i].why) == NULL)
			fail_msg("case %zu: %d %s", i, r.res,
			    r.err.reason ? r.err.reason : "-");
	}
}

static void
test_chunk__trailers_too_large(void **state)
{
	static const char in[] = "0\r\nX-A: 0123456789\r\n\r\n";
	struct run	 r;

	/* The trailer section is 19 bytes with its final CRLF. */
	decode(S(in), 0, 0, 19, &r);
	assert_int_equal(r.res, HTTP_CHUNK_DONE);
	decode(S(in), 0, 0, 18, &r);
	assert_int_equal(r.res, HTTP_CHUNK_ERROR);
	assert_non_null(strstr(r.err.reason, "trailer section too large"));

	/* An endless trailer stops at the default bound. */
	{
		static char	 big[HTTP_DEF_TRAILER + 64];

		memset(big, 'a', sizeof(big));
		memcpy(big, "0\r\nX: ", 6);
		decode(big, sizeof(big), 0, 0, 0, &r);
		assert_int_equal(r.res, HTTP_CHUNK_ERROR);
		/* "0\r\n", the allowed bytes, and the one over. */
		assert_int_equal(r.consumed, 3 + HTTP_DEF_TRAILER + 1);
	}
}

/* DONE stops at the final CRLF; what follows is the next request. */
static void
test_chunk__pipelined_bytes_after_done(void **state)
{
	static const char in[] = "1\r\nx\r\n0\r\n\r\nGET / HTTP/1.1\r\n";
	struct http_chunk	 c;
	struct http_error	 err;
	size_t			 used, doff, dlen, off = 0;
	enum http_chunk_result	 res;

	http_chunk_init(&c, 0, 0);
	do {
		res = http_chunk_feed(&c, in + off, sizeof(in) - 1 - off,
		    &used, &doff, &dlen, &err);
		off += used;
	} while (res == HTTP_CHUNK_DATA);
	assert_int_equal(res, HTTP_CHUNK_DONE);
	assert_int_equal(off, strlen("1\r\nx\r\n0\r\n\r\n"));
	assert_memory_equal(in + off, "GET ", 4);

	/* Done is final: more input is not consumed. */
	assert_int_equal(http_chunk_feed(&c, in + off, 4, &used, &doff, &dlen,
	    &err), HTTP_CHUNK_DONE);
	assert_int_equal(used, 0);
}

static void
test_chunk__errors_are_sticky(void **state)
{
	struct http_chunk	 c;
	struct http_error	 err;
	size_t			 used, doff, dlen;

	http_chunk_init(&c, 0, 0);
	assert_int_equal(http_chunk_feed(&c, S("zz\r\n"), &used, &doff, &dlen,
	    &err), HTTP_CHUNK_ERROR);
	memset(&err, 0, sizeof(err));
	assert_int_equal(http_chunk_feed(&c, S("0\r\n\r\n"), &used, &doff,
	    &dlen, &err), HTTP_CHUNK_ERROR);
	assert_int_equal(used, 0);
	assert_int_equal(err.status, 400);
	assert_non_null(err.reason);

	/* init resets. */
	http_chunk_init(&c, 0, 0);
	assert_int_equal(http_chunk_feed(&c, S("0\r\n\r\n"), &used, &doff,
	    &dlen, &err), HTTP_CHUNK_DONE);
}

static void
test_chunk__header_encoding(void **state)
{
	char	 out[HTTP_CHUNK_HEADER_MAX];

	assert_int_equal(http_chunk_header(out, 0), 3);
	assert_memory_equal(out, "0\r\n", 3);
	assert_int_equal(http_chunk_header(out, 255), 4);
	assert_memory_equal(out, "ff\r\n", 4);
	assert_int_equal(http_chunk_header(out, 4096), 6);
	assert_memory_equal(out, "1000\r\n", 6);
	assert_int_equal(http_chunk_header(out, SIZE_MAX), 18);
	assert_memory_equal(out, "ffffffffffffffff\r\n", 18);
}

/* Encode random data with http_chunk_header() and decode it back. */
static void
test_chunk__roundtrip(void **state)
{
	static char	 src[3000], enc[8192];
	struct run	 r;
	uint32_t	 x = 12345;
	size_t		 i, n = 0, o = 0, len;

	for (i = 0; i < sizeof(src); i++) {
		x = x * 1103515245 + 12345;
		src[i] = (char)(x >> 16);
	}
	while (n < sizeof(src)) {
		x = x * 1103515245 + 12345;
		len = 1 + (x >> 16) % 700;
		if (len > sizeof(src) - n)
			len = sizeof(src) - n;
		o += http_chunk_header(enc + o, len);
		memcpy(enc + o, src + n, len);
		o += len;
		memcpy(enc + o, "\r\n", 2);
		o += 2;
		n += len;
	}
	memcpy(enc + o, "0\r\n\r\n", 5);
	o += 5;

	decode(enc, o, 0, 0, 0, &r);
	assert_int_equal(r.res, HTTP_CHUNK_DONE);
	assert_int_equal(r.ndata, sizeof(src));
	assert_memory_equal(r.data, src, sizeof(src));
	decode(enc, o, 7, 0, 0, &r);
	assert_int_equal(r.res, HTTP_CHUNK_DONE);
	assert_memory_equal(r.data, src, sizeof(src));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chunk__normal_body),
		cmocka_unit_test(test_chunk__hex_sizes_any_case),
		cmocka_unit_test(test_chunk__split_at_every_boundary),
		cmocka_unit_test(test_chunk__data_span_in_place),
		cmocka_unit_test(test_chunk__extensions),
		cmocka_unit_test(test_chunk__max_ext_enforced),
		cmocka_unit_test(test_chunk__size_overflow_and_garbage),
		cmocka_unit_test(test_chunk__bare_lf_and_cr),
		cmocka_unit_test(test_chunk__missing_crlf_after_data),
		cmocka_unit_test(test_chunk__trailers_discarded),
		cmocka_unit_test(test_chunk__trailers_validated),
		cmocka_unit_test(test_chunk__trailers_too_large),
		cmocka_unit_test(test_chunk__pipelined_bytes_after_done),
		cmocka_unit_test(test_chunk__errors_are_sticky),
		cmocka_unit_test(test_chunk__header_encoding),
		cmocka_unit_test(test_chunk__roundtrip),
	};

	return (cmocka_run_group_tests_name("chunk", tests, NULL, NULL));
}
