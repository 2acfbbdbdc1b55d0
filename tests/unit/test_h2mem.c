/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * Unit tests for proxy/h2mem.c, the per-worker allocator behind
 * libnghttp2: class blocks are recycled (the same block comes back) and
 * zeroed by calloc; the free lists never hold more than the cap; big
 * blocks are page-aligned mappings that calloc does not write, whose
 * pages h2mem_discard() hands back (and only for the owner that claimed
 * them); realloc keeps the bytes across every kind of block; and a real
 * nghttp2 server session runs a request and its response on it and
 * leaves nothing live behind.
 */

#include <sys/mman.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <nghttp2/nghttp2.h>

#include "proxy/h2mem.h"

static size_t
page_size(void)
{
	return ((size_t)sysconf(_SC_PAGESIZE));
}

/* Resident pages of [p, p + len) (mincore). */
static size_t
resident(void *p, size_t len)
{
	unsigned char	 vec[64];
	size_t		 n = (len + page_size() - 1) / page_size(), i, r = 0;

	assert_true(n <= sizeof(vec));
	assert_int_equal(mincore(p, len, vec), 0);
	for (i = 0; i < n; i++)
		r += vec[i] & 1;
	return (r);
}

static void
test_h2mem__class_blocks_recycled(void **state)
{
	struct h2mem		*m = h2mem_new(64 * 1024);
	struct h2mem_stats	 st;
	unsigned char		*p, *q;
	size_t			 i;

	(void)state;
	p = h2mem_alloc(m, 100);
	assert_non_null(p);
	assert_int_equal((uintptr_t)p % 16, 0);
	memset(p, 0xa5, 100);
	h2mem_release(m, p);
	/* The same class comes back from the list, and calloc zeroes it. */
	q = h2mem_calloc(m, 1, 97);
	assert_ptr_equal(q, p);
	for (i = 0; i < 97; i++)
		assert_int_equal(q[i], 0);
	h2mem_get_stats(m, &st);
	assert_int_equal(st.live, 1);
	assert_int_equal(st.hits, 1);
	h2mem_release(m, q);
	h2mem_release(m, NULL);
	/* Plain blocks (between the classes and the mappings). */
	p = h2mem_alloc(m, 3000);
	assert_non_null(p);
	memset(p, 1, 3000);
	h2mem_release(m, p);
	h2mem_get_stats(m, &st);
	assert_int_equal(st.live, 0);
	h2mem_free(m);
	h2mem_free(NULL);
}

/* However much is freed, the lists hold at most the cap. */
static void
test_h2mem__cap_bounds_cache(void **state)
{
	struct h2mem		*m = h2mem_new(4096);
	struct h2mem_stats	 st;
	void			*p[200];
	size_t			 i;

	(void)state;
	for (i = 0; i < 200; i++)
		assert_non_null(p[i] = h2mem_alloc(m, 200));
	for (i = 0; i < 200; i++)
		h2mem_release(m, p[i]);
	h2mem_get_stats(m, &st);
	assert_int_equal(st.live, 0);
	assert_true(st.cached <= 4096);
	assert_true(st.cached > 4096 - 300);
	/* A cap of 0 caches nothing. */
	h2mem_free(m);
	m = h2mem_new(0);
	p[0] = h2mem_alloc(m, 64);
	h2mem_release(m, p[0]);
	h2mem_get_stats(m, &st);
	assert_int_equal(st.cached, 0);
	h2mem_free(m);
}

/* Big blocks: page-aligned mappings; calloc leaves their pages alone;
 * discard drops what was written, for the claiming owner only. */
static void
test_h2mem__mappings_lazy_and_discarded(void **state)
{
	struct h2mem		*m = h2mem_new(256 * 1024);
	struct h2mem_stats	 st;
	unsigned char		*p, *q;
	int			 owner, other;
	size_t			 len = 16394, i;

	(void)state;
	p = h2mem_calloc(m, 1, len);
	assert_non_null(p);
	assert_int_equal((uintptr_t)p % page_size(), 0);
	assert_int_equal(resident(p, len), 0);
	/* A frame at the start: one page.  (Reading the rest would map the
	 * zero page, which mincore counts: check the zeros after.) */
	memset(p, 0x5a, 100);
	assert_int_equal(resident(p, len), 1);
	for (i = 100; i < len; i++)
		assert_int_equal(p[i], 0);
	/* Claimed by owner: another cannot discard it, owner can. */
	assert_ptr_equal(h2mem_claim(m, &owner), p);
	assert_null(h2mem_claim(m, &other));
	h2mem_discard(m, p, &other);
	assert_int_equal(p[0], 0x5a);
	h2mem_discard(m, p, &owner);
	assert_int_equal(resident(p, len), 0);
	assert_int_equal(p[0], 0);
	h2mem_discard(m, NULL, &owner);
	h2mem_get_stats(m, &st);
	assert_int_equal(st.discards, 1);
	assert_int_equal(st.live, 1);
	/* Freed: cached without its pages; the next one reuses it. */
	p[5] = 1;
	h2mem_release(m, p);
	h2mem_discard(m, p, &owner);	/* no longer live: no-op */
	q = h2mem_alloc(m, len);
	assert_ptr_equal(q, p);
	assert_int_equal(q[5], 0);
	h2mem_get_stats(m, &st);
	assert_int_equal(st.discards, 1);
	assert_int_equal(st.hits, 1);
	h2mem_release(m, q);
	h2mem_free(m);
}

/* Many live mappings: the address table grows and deletes correctly. */
static void
test_h2mem__many_mappings(void **state)
{
	struct h2mem		*m = h2mem_new(0);
	struct h2mem_stats	 st;
	unsigned char		*p[300];
	size_t			 i;

	(void)state;
	for (i = 0; i < 300; i++) {
		assert_non_null(p[i] = h2mem_alloc(m, 9000));
		p[i][0] = (unsigned char)i;
	}
	/* Free every third, then realloc the others (each found again). */
	for (i = 0; i < 300; i += 3)
		h2mem_release(m, p[i]);
	for (i = 1; i < 300; i++) {
		if (i % 3 == 0)
			continue;
		p[i] = h2mem_realloc(m, p[i], 20000);
		assert_non_null(p[i]);
		assert_int_equal(p[i][0], (unsigned char)i);
	}
	for (i = 1; i < 300; i++)
		if (i % 3 != 0)
			h2mem_release(m, p[i]);
	h2mem_get_stats(m, &st);
	assert_int_equal(st.live, 0);
	assert_int_equal(st.mapped, 0);
	h2mem_free(m);
}

/* realloc keeps the bytes from class to plain to mapping and back. */
static void
test_h2mem__realloc_keeps_bytes(void **state)
{
	struct h2mem	*m = h2mem_new(64 * 1024);
	unsigned char	*p;
	size_t		 i, sizes[] = { 10, 40, 900, 2000, 9000, 30000, 500, 8 };

	(void)state;
	p = h2mem_realloc(m, NULL, 8);
	assert_non_null(p);
	for (i = 0; i < 8; i++)
		p[i] = (unsigned char)(i + 1);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		p = h2mem_realloc(m, p, sizes[i]);
		assert_non_null(p);
		assert_memory_equal(p, "\1\2\3\4\5\6\7\10", 8);
	}
	h2mem_release(m, p);
	assert_null(h2mem_calloc(m, SIZE_MAX / 2, 4));
	h2mem_free(m);
}

/* ------------------------------------------------------------------ */
/* A real session on the allocator                                     */
/* ------------------------------------------------------------------ */

static unsigned char	 wire_c2s[16384], wire_s2c[16384];
static size_t		 n_c2s, n_s2c;
static int32_t		 req_id;

static ssize_t
c_send_cb(nghttp2_session *ng, const uint8_t *d, size_t n, int fl, void *u)
{
	(void)ng; (void)fl; (void)u;
	assert_true(n_c2s + n <= sizeof(wire_c2s));
	memcpy(wire_c2s + n_c2s, d, n);
	n_c2s += n;
	return ((ssize_t)n);
}

static ssize_t
s_send_cb(nghttp2_session *ng, const uint8_t *d, size_t n, int fl, void *u)
{
	(void)ng; (void)fl; (void)u;
	assert_true(n_s2c + n <= sizeof(wire_s2c));
	memcpy(wire_s2c + n_s2c, d, n);
	n_s2c += n;
	return ((ssize_t)n);
}

static int
s_frame_cb(nghttp2_session *ng, const nghttp2_frame *f, void *u)
{
	(void)ng; (void)u;
	if (f->hd.type == NGHTTP2_HEADERS &&
	    f->headers.cat == NGHTTP2_HCAT_REQUEST)
		req_id = f->hd.stream_id;
	return (0);
}

static ssize_t
body_cb(nghttp2_session *ng, int32_t id, uint8_t *buf, size_t len,
    uint32_t *fl, nghttp2_data_source *src, void *u)
{
	(void)ng; (void)id; (void)src; (void)u;
	assert_true(len >= 100);
	memset(buf, 'x', 100);
	*fl |= NGHTTP2_DATA_FLAG_EOF;
	return (100);
}

#define NV(n, v) { (uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1,	\
	sizeof(v) - 1, NGHTTP2_NV_FLAG_NONE }

static void
test_h2mem__nghttp2_session(void **state)
{
	struct h2mem		*m = h2mem_new(256 * 1024);
	struct h2mem_stats	 st;
	nghttp2_session_callbacks *cb;
	nghttp2_session		*cl, *sv;
	nghttp2_nv		 req[] = { NV(":method", "GET"),
	    NV(":scheme", "https"), NV(":authority", "example.org"),
	    NV(":path", "/x") };
	nghttp2_nv		 resp[] = { NV(":status", "200"),
	    NV("content-type", "text/plain") };
	nghttp2_data_provider	 prd;
	int			 round;
	void			*fbuf, *other;

	(void)state;
	assert_int_equal(nghttp2_session_callbacks_new(&cb), 0);
	nghttp2_session_callbacks_set_send_callback(cb, c_send_cb);
	assert_int_equal(nghttp2_session_client_new(&cl, cb, NULL), 0);
	nghttp2_session_callbacks_set_send_callback(cb, s_send_cb);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cb, s_frame_cb);
	/* A mapping made before the mark is not the session's. */
	other = h2mem_alloc(m, 20000);
	assert_non_null(other);
	h2mem_mark(m);
	assert_null(h2mem_claim(m, &other));
	assert_int_equal(nghttp2_session_server_new3(&sv, cb, NULL, NULL,
	    h2mem_nghttp2(m)), 0);
	/* The frame buffer is the mapping made last. */
	fbuf = h2mem_claim(m, sv);
	assert_non_null(fbuf);
	assert_int_equal(nghttp2_submit_settings(sv, 0, NULL, 0), 0);
	assert_int_equal(nghttp2_submit_settings(cl, 0, NULL, 0), 0);
	prd.source.ptr = NULL;
	prd.read_callback = body_cb;
	for (round = 0; round < 3; round++) {
		req_id = 0;
		assert_true(nghttp2_submit_request(cl, NULL, req, 4, NULL,
		    NULL) > 0);
		assert_int_equal(nghttp2_session_send(cl), 0);
		assert_int_equal(nghttp2_session_mem_recv(sv, wire_c2s, n_c2s),
		    (ssize_t)n_c2s);
		n_c2s = 0;
		assert_true(req_id > 0);
		assert_int_equal(nghttp2_submit_response(sv, req_id, resp, 2,
		    &prd), 0);
		assert_int_equal(nghttp2_session_send(sv), 0);
		assert_int_equal(nghttp2_session_mem_recv(cl, wire_s2c, n_s2c),
		    (ssize_t)n_s2c);
		n_s2c = 0;
		/* Idle, nothing half sent: the frame buffer may go. */
		assert_int_equal(nghttp2_session_want_write(sv), 0);
		h2mem_discard(m, fbuf, sv);
	}
	h2mem_get_stats(m, &st);
	assert_true(st.hits > 0);		/* streams' blocks recycled */
	assert_int_equal(st.discards, 3);
	nghttp2_session_del(sv);
	h2mem_release(m, other);
	h2mem_get_stats(m, &st);
	assert_int_equal(st.live, 0);
	nghttp2_session_del(cl);
	nghttp2_session_callbacks_del(cb);
	h2mem_free(m);
}

/* Two mappings since the mark: neither can be claimed (a guess could
 * discard a live block); after a new mark, one can. */
static void
test_h2mem__claim_needs_one_mapping(void **state)
{
	struct h2mem	*m = h2mem_new(64 * 1024);
	void		*a, *b, *c;
	int		 owner;

	(void)state;
	h2mem_mark(m);
	a = h2mem_alloc(m, 16394);
	b = h2mem_alloc(m, 9000);
	assert_non_null(a);
	assert_non_null(b);
	assert_null(h2mem_claim(m, &owner));
	h2mem_mark(m);
	c = h2mem_alloc(m, 16394);
	assert_ptr_equal(h2mem_claim(m, &owner), c);
	h2mem_release(m, a);
	h2mem_release(m, b);
	h2mem_release(m, c);
	h2mem_free(m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_h2mem__claim_needs_one_mapping),
		cmocka_unit_test(test_h2mem__class_blocks_recycled),
		cmocka_unit_test(test_h2mem__cap_bounds_cache),
		cmocka_unit_test(test_h2mem__mappings_lazy_and_discarded),
		cmocka_unit_test(test_h2mem__many_mappings),
		cmocka_unit_test(test_h2mem__realloc_keeps_bytes),
		cmocka_unit_test(test_h2mem__nghttp2_session),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
