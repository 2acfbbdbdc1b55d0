/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * Unit tests for backend address sets (proxy/resolve.c) and the pools
 * built on them (proxy/upstream.c): sets are sorted and deduplicated so
 * that a rotated DNS answer is no change, a changed set retires exactly
 * the pools of the addresses that left (their idle connections close,
 * a connection given back later is not pooled, an address that comes
 * back is in service again), and round-robin runs over every address of
 * every backend of a route, skipping those marked down or tried.  Real
 * sockets on 127.0.0.1, a real event_base.
 */

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <event2/event.h>

#include "conf/conf.h"
#include "proxy/resolve.h"
#include "proxy/upstream.h"

static struct sockaddr_storage
v4(const char *ip, int port)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;

	memset(&ss, 0, sizeof(ss));
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)port);
	assert_int_equal(inet_pton(AF_INET, ip, &sin->sin_addr), 1);
	return (ss);
}

static struct sockaddr_storage
v6(const char *ip, int port)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons((uint16_t)port);
	assert_int_equal(inet_pton(AF_INET6, ip, &sin6->sin6_addr), 1);
	return (ss);
}

static void
add(struct resolve_set *s, struct sockaddr_storage ss)
{
	assert_int_equal(resolve_set_add(s, (struct sockaddr *)&ss,
	    ss.ss_family == AF_INET ? sizeof(struct sockaddr_in) :
	    sizeof(struct sockaddr_in6)), 0);
}

static int
has(const struct resolve_set *s, struct sockaddr_storage ss)
{
	return (resolve_set_has(s, (struct sockaddr *)&ss,
	    ss.ss_family == AF_INET ? sizeof(struct sockaddr_in) :
	    sizeof(struct sockaddr_in6)));
}

static void
test_upstream__set_sorted_and_deduplicated(void **state)
{
	struct resolve_set	*a = resolve_set_new(), *b = resolve_set_new();

	(void)state;
	add(a, v4("127.0.0.2", 80));
	add(a, v6("::1", 80));
	add(a, v4("127.0.0.1", 80));
	add(a, v4("127.0.0.2", 80));		/* again */
	assert_int_equal(a->n, 3);
	assert_int_equal(a->addr[0].ss_family, AF_INET);
	assert_int_equal(a->addr[2].ss_family, AF_INET6);
	/* The same records in another order: no change. */
	add(b, v6("::1", 80));
	add(b, v4("127.0.0.1", 80));
	add(b, v4("127.0.0.2", 80));
	assert_true(resolve_set_equal(a, b));
	assert_true(has(a, v4("127.0.0.1", 80)));
	assert_false(has(a, v4("127.0.0.1", 81)));	/* port counts */
	assert_false(has(a, v4("127.0.0.3", 80)));
	add(b, v4("127.0.0.3", 80));
	assert_false(resolve_set_equal(a, b));
	assert_false(resolve_set_equal(a, NULL));
	assert_true(resolve_set_equal(NULL, NULL));
	resolve_set_put(a);
	resolve_set_put(b);
}

static void
test_upstream__set_is_bounded(void **state)
{
	struct resolve_set	*s = resolve_set_new();
	struct sockaddr_storage	 ss;
	char			 ip[32];
	int			 i, full = 0;

	(void)state;
	for (i = 1; i <= RESOLVE_MAX_ADDRS + 4; i++) {
		snprintf(ip, sizeof(ip), "10.0.0.%d", i);
		ss = v4(ip, 80);
		if (resolve_set_add(s, (struct sockaddr *)&ss,
		    sizeof(struct sockaddr_in)) == -1)
			full++;
	}
	assert_int_equal(s->n, RESOLVE_MAX_ADDRS);
	assert_int_equal(full, 4);
	resolve_set_put(s);
}

/* A listening socket on 127.0.0.1 whose port is returned in *port. */
static int
listener(int *port)
{
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof(sin);
	int			 fd;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd != -1);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(fd, 16), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	*port = ntohs(sin.sin_port);
	return (fd);
}

static void
test_upstream__changed_set_retires_the_addresses_that_left(void **state)
{
	struct event_base	*base = event_base_new();
	struct upstream_worker	 uw = { .base = base };
	struct conf_backend	 b = { .id = 0, .url = (char *)"http://x:1" };
	const struct conf_backend *bs[1] = { &b };
	struct upstream_limits	 lim = { 8, 30000, NULL };
	struct upstream_eps	 eps[1] = { { NULL, NULL } };
	struct resolve_set	*s = resolve_set_new();
	struct sockaddr_storage	 keep, gone;
	struct pool		*pk, *pg, *p;
	struct upconn		*u1, *u2, *u3;
	unsigned		 tried;
	int			 lfd, port;

	(void)state;
	lfd = listener(&port);
	keep = v4("127.0.0.1", port);
	gone = v6("::1", port);		/* never connected to */
	add(s, keep);
	add(s, gone);
	upstream_eps_set(&eps[0], s);
	tried = 0;
	pk = upstream_pick(&uw, eps, bs, 1, 0, &tried, 0, &lim, NULL);
	tried = 0;
	pg = upstream_pick(&uw, eps, bs, 1, 1, &tried, 0, &lim, NULL);
	assert_non_null(pk);
	assert_non_null(pg);
	assert_ptr_not_equal(pk, pg);
	/* The keeper has an idle connection; so has the other one (a real
	 * connection to the keeper's listener, moved over). */
	u1 = upstream_connect(pk, 1000);
	u2 = upstream_connect(pk, 1000);
	u3 = upstream_connect(pk, 1000);
	assert_non_null(u1);
	assert_non_null(u2);
	assert_non_null(u3);
	upstream_put(u1);
	pk->nactive--;			/* u2 now counts for pg */
	u2->pool = pg;
	pg->nactive++;
	upstream_put(u2);
	assert_int_equal(pg->nidle, 1);
	u3->pool = pg;
	pg->nactive++;
	pk->nactive--;

	/* DNS drops ::1. */
	s = resolve_set_new();
	add(s, keep);
	upstream_eps_set(&eps[0], s);
	upstream_retire_unused(&uw, eps, 1);
	assert_true(pg->retired);
	assert_int_equal(pg->nidle, 0);		/* idle closed now */
	assert_false(pk->retired);
	assert_int_equal(pk->nidle, 1);
	/* A connection in flight there finishes, then is not pooled. */
	upstream_put(u3);
	assert_int_equal(pg->nidle, 0);
	assert_int_equal(pg->nactive, 0);
	/* No new request goes there. */
	for (int i = 0; i < 4; i++) {
		tried = 0;
		p = upstream_pick(&uw, eps, bs, 1, (unsigned)i, &tried, 0,
		    &lim, NULL);
		assert_ptr_equal(p, pk);
	}
	/* It comes back: in service again (same pool, by address). */
	s = resolve_set_new();
	add(s, keep);
	add(s, gone);
	upstream_eps_set(&eps[0], s);
	upstream_retire_unused(&uw, eps, 1);
	tried = 0;
	p = upstream_pick(&uw, eps, bs, 1, 1, &tried, 0, &lim, NULL);
	assert_ptr_equal(p, pg);
	assert_false(pg->retired);

	upstream_eps_set(&eps[0], NULL);
	upstream_pools_free(&uw);
	close(lfd);
	event_base_free(base);
}

static void
test_upstream__round_robin_over_healthy_addresses(void **state)
{
	struct upstream_worker	 uw = { .base = NULL };
	struct conf_backend	 b0 = { .id = 0, .url = (char *)"http://n:80" };
	struct conf_backend	 b1 = { .id = 1, .url = (char *)"http://10.9.9.9:80",
	    .literal = 1 };
	const struct conf_backend *bs[2] = { &b0, &b1 };
	struct upstream_limits	 lim = { 8, 30000, NULL };
	struct upstream_eps	 eps[2] = { { NULL, NULL }, { NULL, NULL } };
	struct resolve_set	*s;
	struct pool		*seen[6], *p, *down;
	unsigned		 tried, i, hits[3];
	size_t			 k;

	(void)state;
	s = resolve_set_new();
	add(s, v4("127.0.0.1", 80));
	add(s, v4("127.0.0.2", 80));
	upstream_eps_set(&eps[0], s);
	s = resolve_set_new();
	add(s, v4("10.9.9.9", 80));
	upstream_eps_set(&eps[1], s);

	/* Three addresses over two backends, each in turn. */
	for (i = 0; i < 6; i++) {
		tried = 0;
		seen[i] = upstream_pick(&uw, eps, bs, 2, i, &tried, 0, &lim, NULL);
		assert_non_null(seen[i]);
		assert_int_equal(tried, 1u << (i % 3));
	}
	assert_ptr_not_equal(seen[0], seen[1]);
	assert_ptr_not_equal(seen[1], seen[2]);
	assert_ptr_not_equal(seen[0], seen[2]);
	assert_ptr_equal(seen[0], seen[3]);
	assert_string_equal(seen[0]->addrtext, "127.0.0.1:80");
	assert_string_equal(seen[2]->addrtext, "");	/* a literal */

	/* One address marked down: the other two share its turns. */
	down = seen[1];
	upstream_pool_mark_down(down, 1000, 10);
	memset(hits, 0, sizeof(hits));
	for (i = 0; i < 30; i++) {
		tried = 0;
		p = upstream_pick(&uw, eps, bs, 2, i, &tried, 2000, &lim, NULL);
		assert_ptr_not_equal(p, down);
		for (k = 0; k < 3; k++)
			if (p == seen[k])
				hits[k]++;
	}
	assert_int_equal(hits[1], 0);
	assert_true(hits[0] >= 10 && hits[2] >= 10);
	/* After its down time it is back in turn. */
	tried = 0;
	assert_ptr_equal(upstream_pick(&uw, eps, bs, 2, 1, &tried, 20000,
	    &lim, NULL), down);

	/* A retry skips what was tried; nothing left gives NULL. */
	tried = 0;
	p = upstream_pick(&uw, eps, bs, 2, 0, &tried, 2000, &lim, NULL);
	assert_ptr_equal(p, seen[0]);
	p = upstream_pick(&uw, eps, bs, 2, 0, &tried, 2000, &lim, NULL);
	assert_ptr_equal(p, seen[2]);
	assert_null(upstream_pick(&uw, eps, bs, 2, 0, &tried, 2000, &lim, NULL));

	upstream_eps_set(&eps[0], NULL);
	upstream_eps_set(&eps[1], NULL);
	upstream_pools_free(&uw);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_upstream__set_sorted_and_deduplicated),
		cmocka_unit_test(test_upstream__set_is_bounded),
		cmocka_unit_test(
		    test_upstream__changed_set_retires_the_addresses_that_left),
		cmocka_unit_test(
		    test_upstream__round_robin_over_healthy_addresses),
	};

	return (cmocka_run_group_tests_name("upstream", tests, NULL, NULL));
}
