/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * Unit tests for proxy/xchg.c, the exchange free list and the parser
 * limits taken from a conf: a new exchange is reset for a request with
 * path buffers of the asked size, a returned one is reused (and its
 * buffers grown when a later generation needs more), the free list keeps
 * at most 128 and frees the rest, xchg_cache_free empties it, and
 * xchg_limits copies the five limits both directions parse under.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "conf/conf.h"
#include "proxy/xchg.h"

static void
test_xchg__get_resets_for_a_request(void **state)
{
	struct xchg_cache xc = { 0 };
	struct xchg	*x;

	(void)state;
	x = xchg_get(&xc, 100);
	assert_non_null(x);
	assert_true(x->pathcap >= 100);
	assert_non_null(x->path);
	assert_non_null(x->uppath);
	assert_non_null(x->upscratch);
	assert_null(x->ops);
	assert_null(x->sess);
	assert_null(x->route);
	assert_int_equal(x->state, X_ST_HEAD);
	assert_int_equal(x->status, 0);
	assert_int_equal(x->req.content_length, -1);
	assert_true(x->t_start > 0);
	assert_string_equal(x->path, "");
	/* Dirty it as a request would, give it back, take it again. */
	x->status = 502;
	x->sess = &xc;
	x->error = "x";
	strcpy(x->method, "GET");
	xchg_put(&xc, NULL, x);
	assert_int_equal(xc.nxfree, 1);
	assert_ptr_equal(xchg_get(&xc, 50), x);
	assert_int_equal(xc.nxfree, 0);
	assert_int_equal(x->status, 0);
	assert_null(x->sess);
	assert_null(x->error);
	assert_string_equal(x->method, "");
	assert_true(x->pathcap >= 100);		/* kept, big enough */
	/* A later generation with longer request lines: buffers grow. */
	xchg_put(&xc, NULL, x);
	x = xchg_get(&xc, 4096);
	assert_true(x->pathcap >= 4096);
	memset(x->path, 'a', 4095);
	memset(x->upscratch, 'b', 4096);
	xchg_put(&xc, NULL, x);
	xchg_cache_free(&xc);
	assert_null(xc.xfree);
}

static void
test_xchg__free_list_is_bounded(void **state)
{
	struct xchg_cache xc = { 0 };
	struct xchg	*x[140];
	size_t		 i;

	(void)state;
	for (i = 0; i < 140; i++)
		x[i] = xchg_get(&xc, 64);
	for (i = 0; i < 140; i++)
		xchg_put(&xc, NULL, x[i]);
	/* Beyond 128 the exchanges are freed (ASan checks they are). */
	assert_int_equal(xc.nxfree, 128);
	xchg_cache_free(&xc);
	assert_null(xc.xfree);
}

static void
test_xchg__limits_from_conf(void **state)
{
	struct conf		 cf;
	struct http_limits	 lim;

	(void)state;
	memset(&cf, 0, sizeof(cf));
	memset(&lim, 0xff, sizeof(lim));
	cf.limits.max_request_line = 8000;
	cf.limits.max_header_field = 7000;
	cf.limits.max_header_block = 60000;
	cf.limits.max_header_count = 90;
	cf.limits.max_chunk_ext = 300;
	xchg_limits(&cf, &lim);
	assert_int_equal(lim.max_request_line, 8000);
	assert_int_equal(lim.max_header_field, 7000);
	assert_int_equal(lim.max_header_block, 60000);
	assert_int_equal(lim.max_header_count, 90);
	assert_int_equal(lim.max_chunk_ext, 300);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_xchg__get_resets_for_a_request),
		cmocka_unit_test(test_xchg__free_list_is_bounded),
		cmocka_unit_test(test_xchg__limits_from_conf),
	};

	return (cmocka_run_group_tests_name("xchg", tests, NULL, NULL));
}
