/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * Unit tests for proxy/bodybuf.c, the per-worker budget for buffered
 * request bodies, on a real event_base: reservations within and beyond
 * the cap, newcomers refused while others wait (first come, first
 * served), waiters woken from the loop (never inside release) in order
 * and only while a step is free, a woken waiter may reserve past the
 * queue, and a cancelled waiter is never called.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <event2/event.h>

#include "proxy/bodybuf.h"

#define CAP	(2 * BODYBUF_STEP)

struct waiter {
	struct bodybuf_wait	 w;
	struct bodybuf		*bp;
	int			 id;
	int			 reserve;	/* reserve a step when woken */
	int			 got;		/* the reservation succeeded */
};

static int	 order[8];
static int	 norder;

static void
woken_cb(struct bodybuf_wait *w, void *arg)
{
	struct waiter	*wt = arg;

	(void)w;
	order[norder++] = wt->id;
	if (wt->reserve)
		wt->got = bodybuf_reserve(wt->bp, BODYBUF_STEP, CAP) == 0;
}

static void
waiter_init(struct waiter *wt, struct bodybuf *bp, int id, int reserve)
{
	*wt = (struct waiter){ .bp = bp, .id = id, .reserve = reserve };
}

static void
test_bodybuf__reserve_within_cap(void **state)
{
	struct event_base *base = event_base_new();
	struct bodybuf	*bp = bodybuf_new(base);

	(void)state;
	assert_int_equal(bodybuf_reserve(bp, BODYBUF_STEP, CAP), 0);
	assert_int_equal(bodybuf_reserve(bp, BODYBUF_STEP, CAP), 0);
	assert_int_equal(bodybuf_reserve(bp, 1, CAP), -1);
	assert_int_equal(bp->used, CAP);
	bodybuf_release(bp, BODYBUF_STEP);
	assert_int_equal(bodybuf_reserve(bp, 100, CAP), 0);
	assert_int_equal(bp->used, BODYBUF_STEP + 100);
	bodybuf_free(bp);
	event_base_free(base);
}

static void
test_bodybuf__waiters_woken_in_order_from_the_loop(void **state)
{
	struct event_base *base = event_base_new();
	struct bodybuf	*bp = bodybuf_new(base);
	struct waiter	 a, b, c;

	(void)state;
	norder = 0;
	assert_int_equal(bodybuf_reserve(bp, CAP, CAP), 0);
	waiter_init(&a, bp, 1, 1);
	waiter_init(&b, bp, 2, 1);
	waiter_init(&c, bp, 3, 1);
	bodybuf_wait(bp, &a.w, woken_cb, &a);
	bodybuf_wait(bp, &b.w, woken_cb, &b);
	bodybuf_wait(bp, &c.w, woken_cb, &c);
	assert_int_equal(bp->nwaiters, 3);
	assert_int_equal(bp->waits, 3);

	/* Room, but others wait: a newcomer is refused. */
	bodybuf_release(bp, BODYBUF_STEP);
	assert_int_equal(bodybuf_reserve(bp, 10, CAP), -1);
	assert_int_equal(norder, 0);		/* not from inside release */

	/* One step free: only the first waiter gets it. */
	event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	assert_int_equal(norder, 1);
	assert_int_equal(order[0], 1);
	assert_true(a.got);
	assert_int_equal(bp->nwaiters, 2);

	/* Everything back: the other two, in order. */
	bodybuf_release(bp, CAP);
	event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	assert_int_equal(norder, 3);
	assert_int_equal(order[1], 2);
	assert_int_equal(order[2], 3);
	assert_true(b.got && c.got);
	assert_int_equal(bp->used, CAP);
	assert_int_equal(bp->nwaiters, 0);
	bodybuf_free(bp);
	event_base_free(base);
}

static void
test_bodybuf__cancelled_waiter_not_called(void **state)
{
	struct event_base *base = event_base_new();
	struct bodybuf	*bp = bodybuf_new(base);
	struct waiter	 a, b;

	(void)state;
	norder = 0;
	assert_int_equal(bodybuf_reserve(bp, CAP, CAP), 0);
	waiter_init(&a, bp, 1, 0);
	waiter_init(&b, bp, 2, 0);
	bodybuf_wait(bp, &a.w, woken_cb, &a);
	bodybuf_wait(bp, &a.w, woken_cb, &a);	/* no-op: queued once */
	bodybuf_wait(bp, &b.w, woken_cb, &b);
	assert_int_equal(bp->nwaiters, 2);
	bodybuf_cancel(bp, &a.w);
	bodybuf_cancel(bp, &a.w);		/* no-op */
	assert_int_equal(bp->nwaiters, 1);
	bodybuf_release(bp, CAP);
	event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	assert_int_equal(norder, 1);
	assert_int_equal(order[0], 2);
	assert_int_equal(bodybuf_reserve(bp, 10, CAP), 0);
	bodybuf_free(bp);
	event_base_free(base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bodybuf__reserve_within_cap),
		cmocka_unit_test(test_bodybuf__waiters_woken_in_order_from_the_loop),
		cmocka_unit_test(test_bodybuf__cancelled_waiter_not_called),
	};

	return (cmocka_run_group_tests_name("bodybuf", tests, NULL, NULL));
}
