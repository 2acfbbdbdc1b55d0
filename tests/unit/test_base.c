/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * Unit tests of base/, the layer below conf/, auth/ and proxy/: the byte
 * buffer grows from empty, keeps its bytes and its memory across a reset,
 * the checked appends keep a NUL after the content and refuse a size that
 * would overflow with the buffer left as it was; the allocators return
 * zeroed or copied memory; the clock never goes back and the ms-to-timeval
 * conversion splits seconds from microseconds.  Links base/ objects only:
 * that link line is the check that base/ depends on no other layer.
 */

#include <sys/time.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/clock.h"
#include "base/lit.h"
#include "base/sbuf.h"
#include "base/xalloc.h"

static void
test_base__sbuf_grows_and_keeps_bytes(void **state)
{
	struct sbuf	 sb = { NULL, 0, 0 };
	char		 chunk[100];
	size_t		 i;

	(void)state;
	memset(chunk, 'a', sizeof(chunk));
	for (i = 0; i < 50; i++) {
		chunk[0] = (char)('A' + i % 26);
		sbuf_add(&sb, chunk, sizeof(chunk));
	}
	assert_int_equal(sb.len, 50 * sizeof(chunk));
	assert_true(sb.cap >= sb.len);
	for (i = 0; i < 50; i++) {
		assert_int_equal(sb.p[i * sizeof(chunk)], 'A' + i % 26);
		assert_int_equal(sb.p[i * sizeof(chunk) + 1], 'a');
	}
	sbuf_lit(&sb, "tail");
	assert_memory_equal(sb.p + sb.len - LIT_LEN("tail"), "tail",
	    LIT_LEN("tail"));
	sbuf_free(&sb);
	assert_null(sb.p);
	assert_int_equal(sb.len, 0);
	assert_int_equal(sb.cap, 0);
	sbuf_free(&sb);		/* on an empty buffer: a no-op */
}

static void
test_base__sbuf_reset_keeps_memory(void **state)
{
	struct sbuf	 sb = { NULL, 0, 0 };
	char		*p;
	size_t		 cap;

	(void)state;
	sbuf_lit(&sb, "GET / HTTP/1.1\r\n");
	p = sb.p;
	cap = sb.cap;
	assert_int_equal(cap, 512);
	sb.len = 0;		/* how the owners reset it */
	sbuf_lit(&sb, "HTTP/1.1 200 OK\r\n");
	assert_ptr_equal(sb.p, p);
	assert_int_equal(sb.cap, cap);
	sbuf_free(&sb);
}

static void
test_base__sbuf_try_add_terminates(void **state)
{
	struct sbuf	 sb = { NULL, 0, 0 };

	(void)state;
	assert_int_equal(sbuf_try_add(&sb, "", 0), 0);
	assert_non_null(sb.p);
	assert_string_equal(sb.p, "");
	assert_int_equal(sbuf_try_add(&sb, "abc", 3), 0);
	assert_int_equal(sbuf_try_add(&sb, "defg", 2), 0);
	assert_int_equal(sb.len, 5);
	assert_string_equal(sb.p, "abcde");
	sbuf_free(&sb);
}

static void
test_base__sbuf_overflow_refused_unchanged(void **state)
{
	struct sbuf	 sb = { NULL, 0, 0 };
	char		*p;

	(void)state;
	assert_int_equal(sbuf_try_add(&sb, "xy", 2), 0);
	p = sb.p;
	assert_int_equal(sbuf_reserve(&sb, SIZE_MAX), -1);
	assert_int_equal(sbuf_reserve(&sb, SIZE_MAX - 1), -1);
	assert_int_equal(sbuf_try_add(&sb, "z", SIZE_MAX), -1);
	assert_int_equal(sbuf_try_add(&sb, "z", SIZE_MAX - 2), -1);
	assert_ptr_equal(sb.p, p);
	assert_int_equal(sb.len, 2);
	assert_string_equal(sb.p, "xy");
	/* Already room: no reallocation. */
	assert_int_equal(sbuf_reserve(&sb, 10), 0);
	assert_ptr_equal(sb.p, p);
	sbuf_free(&sb);
}

static void
test_base__xalloc(void **state)
{
	unsigned char	*z;
	char		*s;
	size_t		 i;

	(void)state;
	z = xcalloc(64, 4);
	for (i = 0; i < 256; i++)
		assert_int_equal(z[i], 0);
	free(z);
	free(xcalloc(0, 0));	/* zero counts still give a block */
	free(xmalloc(0));
	s = xstrdup("dn=/CN=x");
	assert_string_equal(s, "dn=/CN=x");
	free(s);
}

static void
test_base__clock(void **state)
{
	struct timeval	 tv;
	uint64_t	 a, b;

	(void)state;
	a = clock_now_us();
	b = clock_now_us();
	assert_true(a > 0);
	assert_true(b >= a);
	clock_ms_tv(1500, &tv);
	assert_int_equal(tv.tv_sec, 1);
	assert_int_equal(tv.tv_usec, 500000);
	clock_ms_tv(4294967295u, &tv);
	assert_int_equal(tv.tv_sec, 4294967);
	assert_int_equal(tv.tv_usec, 295000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base__sbuf_grows_and_keeps_bytes),
		cmocka_unit_test(test_base__sbuf_reset_keeps_memory),
		cmocka_unit_test(test_base__sbuf_try_add_terminates),
		cmocka_unit_test(test_base__sbuf_overflow_refused_unchanged),
		cmocka_unit_test(test_base__xalloc),
		cmocka_unit_test(test_base__clock),
	};

	return (cmocka_run_group_tests_name("base", tests, NULL, NULL));
}
