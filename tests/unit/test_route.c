/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * Unit tests of conf/route.c, the per-request lookups: prefix routes match
 * at a segment boundary only, regex routes through regexec() behind a
 * literal-prefix shortcut, the first match in file order wins, rewrites
 * expand $1..$9 and $$ (the WMStats rule of the core issue included) and
 * never overrun the caller's buffer, and allow_from handles IPv4, IPv6 and
 * v4-mapped peers.  Routes come from real configs through conf_load().
 */

#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf/conf.h"
#include "conf/route.h"

static char	 tmpdir[] = "/tmp/gridfront-test-route-XXXXXX";
static char	 tmpfile_path[sizeof(tmpdir) + 16];

#define BE	"backends: [http://127.0.0.1:1], auth: none"

/* The routes most tests use; indices are route ids. */
static const char main_conf[] =
    "listen: [{address: 127.0.0.1:8080}]\n"
    "routes:\n"
    "  - {path: /api/special, " BE "}\n"				/* 0 */
    "  - {path: /api/, " BE "}\n"					/* 1 */
    "  - {path: /dbs/, " BE "}\n"					/* 2 */
    "  - {path: /a/b, " BE "}\n"					/* 3 */
    "  - {path: \"^/couchdb/wmstats/_design/WMStats/_view/(.*)$\",\n" /* 4 */
    "     rewrite: {from: \"^/couchdb/wmstats/_design/WMStats/_view/(.*)$\","
    " to: \"/wmstats/_design/WMStatsErl7/_view/$1\"},\n"
    "     " BE "}\n"
    "  - {path: \"^/ab?c$\", " BE "}\n"				/* 5 */
    "  - {path: /old/, rewrite: {from: ^/old/, to: /new/}, " BE "}\n" /* 6 */
    "  - {path: /opt/, rewrite: {from: \"^/opt/(a)?(b)$\", "
    "to: \"/q/$1-$2$$\"}, " BE "}\n"					/* 7 */
    "  - {path: /mid/, rewrite: {from: \"x+\", to: \"Y\"}, " BE "}\n"	/* 8 */
    "  - {path: /v4/, allow_from: [10.0.0.0/8, 172.16.0.0/12, 192.0.2.7],"
    " " BE "}\n"							/* 9 */
    "  - {path: /v6/, allow_from: [\"2001:db8::/32\", \"fe80::/127\"], "
    BE "}\n"								/* 10 */
    "  - {path: /mapped/, allow_from: [\"::ffff:10.0.0.0/104\"], "
    BE "}\n"								/* 11 */
    "  - {path: /all/, allow_from: [0.0.0.0/0, \"::/0\"], " BE "}\n"	/* 12 */
    ;

/* Load text as a config through a scratch file. */
static struct conf *
load_text(const char *text)
{
	struct conf_errs	 errs = { 0 };
	struct conf		*c = NULL;
	FILE			*fp;

	fp = fopen(tmpfile_path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
	if (conf_load(tmpfile_path, &c, &errs) == -1) {
		conf_errs_print(&errs, stderr);
		conf_errs_free(&errs);
		fail_msg("test config did not load");
	}
	return (c);
}

static int
group_setup(void **state)
{
	if (mkdtemp(tmpdir) == NULL)
		return (-1);
	snprintf(tmpfile_path, sizeof(tmpfile_path), "%s/t.yaml", tmpdir);
	*state = load_text(main_conf);
	return (*state == NULL ? -1 : 0);
}

static int
group_teardown(void **state)
{
	conf_put(*state);
	unlink(tmpfile_path);
	return (rmdir(tmpdir));
}

/* Id of the route matching path, or -1. */
static int
match_id(const struct conf *c, const char *path)
{
	const struct conf_route *r = route_match(c, path);

	return (r == NULL ? -1 : (int)r->id);
}

static void
test_route__prefix_segment_boundary(void **state)
{
	const struct conf *c = *state;

	/* "/dbs/" is the /dbs subtree. */
	assert_int_equal(match_id(c, "/dbs"), 2);
	assert_int_equal(match_id(c, "/dbs/"), 2);
	assert_int_equal(match_id(c, "/dbs/prod/global/DBSReader"), 2);
	assert_int_equal(match_id(c, "/dbsx"), -1);
	assert_int_equal(match_id(c, "/db"), -1);
	assert_int_equal(match_id(c, "/DBS/"), -1);
	/* "/a/b" without a slash means the same thing. */
	assert_int_equal(match_id(c, "/a/b"), 3);
	assert_int_equal(match_id(c, "/a/b/"), 3);
	assert_int_equal(match_id(c, "/a/b/c"), 3);
	assert_int_equal(match_id(c, "/a/bc"), -1);
	assert_int_equal(match_id(c, "/a"), -1);
	assert_int_equal(match_id(c, "/"), -1);
	assert_int_equal(match_id(c, ""), -1);
}

static void
test_route__first_match_wins(void **state)
{
	const struct conf	*c = *state;
	struct conf		*c2;

	/* The more specific rule comes first here, so it wins... */
	assert_int_equal(match_id(c, "/api/special"), 0);
	assert_int_equal(match_id(c, "/api/special/x"), 0);
	assert_int_equal(match_id(c, "/api/specials"), 1);
	assert_int_equal(match_id(c, "/api/other"), 1);

	/* ...and file order, not specificity, decides: here /api/ shadows
	 * the special rule, and "/" takes everything else. */
	c2 = load_text("listen: [{address: 127.0.0.1:8080}]\n"
	    "routes:\n"
	    "  - {path: /api/, " BE "}\n"
	    "  - {path: /api/special, " BE "}\n"
	    "  - {path: \"^/api/special$\", " BE "}\n"
	    "  - {path: /, " BE "}\n");
	assert_int_equal(match_id(c2, "/api/special"), 0);
	assert_int_equal(match_id(c2, "/nothing/here"), 3);
	assert_int_equal(match_id(c2, "/"), 3);
	conf_put(c2);
}

static void
test_route__regex(void **state)
{
	const struct conf *c = *state;

	assert_int_equal(match_id(c,
	    "/couchdb/wmstats/_design/WMStats/_view/byStatus"), 4);
	assert_int_equal(match_id(c,
	    "/couchdb/wmstats/_design/WMStats/_view/"), 4);
	assert_int_equal(match_id(c,
	    "/couchdb/wmstats/_design/WMStats/_list/x"), -1);
	assert_int_equal(match_id(c, "/couchdb/wmstats"), -1);
	/* The literal prefix of "^/ab?c$" is "/a": b is optional. */
	assert_int_equal(match_id(c, "/ac"), 5);
	assert_int_equal(match_id(c, "/abc"), 5);
	assert_int_equal(match_id(c, "/abbc"), -1);
	assert_int_equal(match_id(c, "/ac/"), -1);
}

/* Rewrite path under route id into a buffer of outlen bytes. */
static ssize_t
rewrite(const struct conf *c, unsigned id, const char *path, char *out,
    size_t outlen)
{
	assert_true(id < c->nroutes);
	return (route_rewrite(&c->routes[id], path, out, outlen));
}

static void
test_route__rewrite_wmstats(void **state)
{
	const struct conf	*c = *state;
	char			 out[256];
	const char		*want = "/wmstats/_design/WMStatsErl7/_view/"
				    "byStatus";

	assert_int_equal(rewrite(c, 4,
	    "/couchdb/wmstats/_design/WMStats/_view/byStatus", out,
	    sizeof(out)), (ssize_t)strlen(want));
	assert_string_equal(out, want);
}

static void
test_route__rewrite_substitutes_match_only(void **state)
{
	const struct conf	*c = *state;
	char			 out[256];

	/* A prefix swap keeps the rest of the path. */
	assert_int_equal(rewrite(c, 6, "/old/x/y", out, sizeof(out)), 8);
	assert_string_equal(out, "/new/x/y");
	/* An unanchored match keeps what comes before it too. */
	assert_int_equal(rewrite(c, 8, "/mid/axxxb", out, sizeof(out)), 8);
	assert_string_equal(out, "/mid/aYb");
	/* $$ is a literal $; a group that did not take part is empty. */
	assert_int_equal(rewrite(c, 7, "/opt/b", out, sizeof(out)), 6);
	assert_string_equal(out, "/q/-b$");
	assert_int_equal(rewrite(c, 7, "/opt/ab", out, sizeof(out)), 7);
	assert_string_equal(out, "/q/a-b$");
}

static void
test_route__rewrite_copies_when_not_applicable(void **state)
{
	const struct conf	*c = *state;
	char			 out[256];

	/* No rewrite on the route. */
	assert_int_equal(rewrite(c, 2, "/dbs/x", out, sizeof(out)), 6);
	assert_string_equal(out, "/dbs/x");
	/* A rewrite whose from does not match. */
	assert_int_equal(rewrite(c, 6, "/older", out, sizeof(out)), 6);
	assert_string_equal(out, "/older");
}

static void
test_route__rewrite_buffer_too_small(void **state)
{
	const struct conf	*c = *state;
	char			 out[64];
	const char		*path, *to;
	size_t			 want;

	path = "/couchdb/wmstats/_design/WMStats/_view/v";
	to = "/wmstats/_design/WMStatsErl7/_view/v";
	want = strlen(to);

	/* Exactly enough room for the text and its NUL. */
	memset(out, 'Z', sizeof(out));
	assert_int_equal(rewrite(c, 4, path, out, want + 1), (ssize_t)want);
	assert_string_equal(out, to);
	/* One byte less fails, and writes nothing past outlen. */
	memset(out, 'Z', sizeof(out));
	assert_int_equal(rewrite(c, 4, path, out, want), -1);
	assert_int_equal(out[want], 'Z');
	assert_int_equal(rewrite(c, 4, path, out, 0), -1);
	/* Expansion of a long group, the tail and $$ are bounded too. */
	assert_int_equal(rewrite(c, 7, "/opt/ab", out, 7), -1);
	assert_int_equal(rewrite(c, 7, "/opt/ab", out, 8), 7);
	assert_int_equal(rewrite(c, 6, "/old/xyz", out, 8), -1);
	assert_int_equal(rewrite(c, 6, "/old/xyz", out, 9), 8);
	/* Plain copies as well. */
	assert_int_equal(rewrite(c, 2, "/dbs/x", out, 6), -1);
	assert_int_equal(rewrite(c, 2, "/dbs/x", out, 7), 6);
	assert_int_equal(rewrite(c, 2, "", out, 1), 0);
	assert_string_equal(out, "");
}

/* Build an IPv4 or IPv6 sockaddr from text. */
static const struct sockaddr *
addr(struct sockaddr_storage *ss, const char *text)
{
	struct sockaddr_in	*s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*s6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, text, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(40000);
	} else {
		assert_int_equal(inet_pton(AF_INET6, text, &s6->sin6_addr), 1);
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(40000);
	}
	return ((const struct sockaddr *)ss);
}

static int
allowed(const struct conf *c, unsigned id, const char *text)
{
	struct sockaddr_storage ss;

	return (route_addr_allowed(&c->routes[id], addr(&ss, text)));
}

static void
test_route__allow_from_ipv4(void **state)
{
	const struct conf *c = *state;

	assert_true(allowed(c, 9, "10.0.0.0"));
	assert_true(allowed(c, 9, "10.255.255.255"));
	assert_false(allowed(c, 9, "11.0.0.1"));
	assert_false(allowed(c, 9, "9.255.255.255"));
	/* A /12 is not byte-aligned. */
	assert_true(allowed(c, 9, "172.16.0.1"));
	assert_true(allowed(c, 9, "172.31.255.255"));
	assert_false(allowed(c, 9, "172.32.0.0"));
	assert_false(allowed(c, 9, "172.15.255.255"));
	/* A plain address is a /32. */
	assert_true(allowed(c, 9, "192.0.2.7"));
	assert_false(allowed(c, 9, "192.0.2.8"));
	/* IPv4 blocks say nothing about IPv6 clients. */
	assert_false(allowed(c, 9, "2001:db8::1"));
	assert_true(allowed(c, 12, "203.0.113.9"));
}

static void
test_route__allow_from_ipv6(void **state)
{
	const struct conf *c = *state;

	assert_true(allowed(c, 10, "2001:db8::1"));
	assert_true(allowed(c, 10, "2001:db8:ffff:ffff::"));
	assert_false(allowed(c, 10, "2001:db9::1"));
	/* /127: two addresses. */
	assert_true(allowed(c, 10, "fe80::"));
	assert_true(allowed(c, 10, "fe80::1"));
	assert_false(allowed(c, 10, "fe80::2"));
	assert_false(allowed(c, 10, "10.0.0.1"));
	assert_true(allowed(c, 12, "2001:db8::1"));
}

static void
test_route__allow_from_v4_mapped(void **state)
{
	const struct conf *c = *state;

	/* A dual-stack socket reports IPv4 clients as ::ffff:a.b.c.d. */
	assert_true(allowed(c, 9, "::ffff:10.1.2.3"));
	assert_true(allowed(c, 9, "::ffff:192.0.2.7"));
	assert_false(allowed(c, 9, "::ffff:11.1.2.3"));
	/* Not mapped: an IPv6 address that merely ends in 10.1.2.3. */
	assert_false(allowed(c, 9, "::10.1.2.3"));
	assert_false(allowed(c, 10, "::ffff:10.1.2.3"));
	/* A block written in mapped form was turned into IPv4 at load. */
	assert_true(allowed(c, 11, "10.9.9.9"));
	assert_true(allowed(c, 11, "::ffff:10.9.9.9"));
	assert_false(allowed(c, 11, "11.9.9.9"));
}

static void
test_route__allow_from_empty_and_other_families(void **state)
{
	const struct conf	*c = *state;
	struct sockaddr_un	 un;

	/* No allow_from: everyone, whatever the family. */
	assert_true(allowed(c, 2, "10.0.0.1"));
	assert_true(allowed(c, 2, "2001:db8::1"));
	memset(&un, 0, sizeof(un));
	un.sun_family = AF_UNIX;
	assert_true(route_addr_allowed(&c->routes[2],
	    (const struct sockaddr *)&un));
	/* With a list, an address family it cannot judge is refused. */
	assert_false(route_addr_allowed(&c->routes[12],
	    (const struct sockaddr *)&un));
}

/* ------------------------------------------------------------------ */
/* Issue 13: Host lines, query/methods/origin rules and redirects      */
/* ------------------------------------------------------------------ */

static const char rules_conf[] =
    "listen: [{address: 127.0.0.1:8080}]\n"
    "routes:\n"
    "  - {path: /h/, auth: none, backends: [\"http://localhost:81\", "
    "\"http://127.0.0.1:82\"]}\n"						/* 0 */
    "  - {path: /lit/, auth: none, host_header: \"ingress.example:8443\", "
    "backends: [\"http://localhost:81\"]}\n"				/* 1 */
    "  - {path: /cl/, auth: none, host_header: client, "
    "backends: [\"http://localhost:81\"]}\n"				/* 2 */
    "  - {path: /q/, auth: none, query: \"(^|&)t=1(&|$)\", "
    "backends: [\"http://localhost:81\"]}\n"				/* 3 */
    "  - {path: /q/, auth: none, methods: [GET, HEAD], "
    "backends: [\"http://localhost:81\"]}\n"				/* 4 */
    "  - {path: /o/, auth: none, origin_check: true, "
    "backends: [\"http://localhost:81\"]}\n"				/* 5 */
    "  - {path: /ol/, auth: none, origin_check: true, allowed_origins: "
    "[\"https://a.example\", \"http://b.example:8080\"], "
    "backends: [\"http://localhost:81\"]}\n"				/* 6 */
    "  - {path: \"^/r/([^/]*)/(.*)$\", auth: none, redirect: "
    "{to: \"https://x.example/$2/$1\", status: 308}}\n"		/* 7 */
    "  - {path: \"^/own/(.*)$\", auth: none, redirect: "
    "{to: \"https://$host/n/$1?k=v\", keep_query: true}}\n"		/* 8 */
    "  - {path: /nq/, auth: none, redirect: "
    "{to: \"/else/\", keep_query: false}}\n"				/* 9 */
    ;

static void
test_route__host_lines_built_at_load(void **state)
{
	struct conf	*c = load_text(rules_conf);

	(void)state;
	/* Each backend: its URL's authority as written. */
	assert_string_equal(c->routes[0].backends[0]->host_line,
	    "Host: localhost:81\r\n");
	assert_int_equal(c->routes[0].backends[0]->host_line_len,
	    strlen("Host: localhost:81\r\n"));
	assert_string_equal(c->routes[0].backends[1]->host_line,
	    "Host: 127.0.0.1:82\r\n");
	assert_int_equal(c->routes[0].host_header, CONF_HOST_BACKEND);
	assert_true(c->routes[0].host_varies);
	assert_false(c->routes[1].host_varies);
	assert_int_equal(c->routes[1].host_header, CONF_HOST_LITERAL);
	assert_string_equal(c->routes[1].host_line,
	    "Host: ingress.example:8443\r\n");
	assert_int_equal(c->routes[1].host_line_len,
	    strlen(c->routes[1].host_line));
	assert_int_equal(c->routes[2].host_header, CONF_HOST_CLIENT);
	/* A route without the new keys has no flag to test per request. */
	assert_int_equal(c->routes[0].flags, 0);
	assert_int_equal(c->routes[7].flags, CONF_ROUTE_F_REDIRECT);
	assert_int_equal(c->routes[7].redirect_status, 308);
	assert_int_equal(c->routes[8].redirect_status, 302);
	assert_string_equal(c->routes[4].allow_line, "Allow: GET, HEAD\r\n");
	conf_put(c);
}

static void
test_route__host_valid(void **state)
{
	(void)state;
	assert_true(route_host_valid("cmsweb.cern.ch", 14));
	assert_true(route_host_valid("a:1", 3));
	assert_true(route_host_valid("[::1]:8443", 10));
	assert_true(route_host_valid("[::1]", 5));
	assert_false(route_host_valid("", 0));
	assert_false(route_host_valid("a b", 3));
	assert_false(route_host_valid("a\r\nX: y", 7));
	assert_false(route_host_valid("a/b", 3));
	assert_false(route_host_valid("a@b", 3));
	assert_false(route_host_valid("a:", 2));
	assert_false(route_host_valid("a:123456", 8));
	assert_false(route_host_valid("a:80x", 5));
	assert_false(route_host_valid("[::1", 4));
	assert_false(route_host_valid("[]", 2));
	assert_false(route_host_valid(".a", 2));
}

static void
test_route__query_matcher(void **state)
{
	struct conf	*c = load_text(rules_conf);
	char		 sc[64];

	(void)state;
	/* The query is a slice, not NUL-terminated: pass its length. */
	assert_int_equal(route_match_query(c, "/q/x", "a=2&t=1XYZ", 7, sc,
	    sizeof(sc))->id, 3);
	assert_int_equal(route_match_query(c, "/q/x", "t=1", 3, sc,
	    sizeof(sc))->id, 3);
	assert_int_equal(route_match_query(c, "/q/x", "t=12", 4, sc,
	    sizeof(sc))->id, 4);
	assert_int_equal(route_match_query(c, "/q/x", "xt=1", 4, sc,
	    sizeof(sc))->id, 4);
	assert_int_equal(route_match_query(c, "/q/x", NULL, 0, sc,
	    sizeof(sc))->id, 4);
	assert_int_equal(route_match(c, "/q/x")->id, 4);
	/* A query that does not fit the scratch matches no query: regex. */
	assert_int_equal(route_match_query(c, "/q/x", "t=1", 3, sc, 3)->id,
	    4);
	/* Routes without query: never touch the scratch. */
	memset(sc, 'Z', sizeof(sc));
	assert_int_equal(route_match_query(c, "/lit/x", "t=1", 3, sc,
	    sizeof(sc))->id, 1);
	assert_int_equal(sc[0], 'Z');
	conf_put(c);
}

static void
test_route__methods_and_origins(void **state)
{
	struct conf		*c = load_text(rules_conf);
	const struct conf_route	*o = &c->routes[5], *ol = &c->routes[6];

	(void)state;
	assert_true(route_method_allowed(&c->routes[4], "GET", 3));
	assert_true(route_method_allowed(&c->routes[4], "HEAD", 4));
	assert_false(route_method_allowed(&c->routes[4], "GETX", 3 + 1));
	assert_false(route_method_allowed(&c->routes[4], "POST", 4));
	assert_false(route_method_allowed(&c->routes[4], "get", 3));
	assert_true(route_method_allowed(&c->routes[3], "POST", 4));

	/* Default: https:// plus the request's own Host. */
	assert_true(route_origin_allowed(o, "https://h.example:8443", 22,
	    "h.example:8443", 14));
	assert_true(route_origin_allowed(o, "HTTPS://H.example:8443", 22,
	    "h.example:8443", 14));
	assert_false(route_origin_allowed(o, "http://h.example:8443", 21,
	    "h.example:8443", 14));
	assert_false(route_origin_allowed(o, "https://h.example", 17,
	    "h.example:8443", 14));
	assert_false(route_origin_allowed(o, "null", 4, "h.example", 9));
	assert_false(route_origin_allowed(o, "https://h.example", 17,
	    NULL, 0));
	/* A list replaces the default. */
	assert_true(route_origin_allowed(ol, "https://a.example", 17,
	    "h.example", 9));
	assert_true(route_origin_allowed(ol, "http://b.example:8080", 21,
	    "h.example", 9));
	assert_false(route_origin_allowed(ol, "http://b.example", 16,
	    "h.example", 9));
	assert_false(route_origin_allowed(ol, "https://h.example", 17,
	    "h.example", 9));
	assert_false(route_origin_allowed(ol, "https://a.example.evil", 22,
	    "h.example", 9));
	conf_put(c);
}

/* Expand route id's redirect for path, Host h and query q. */
static enum route_redirect_result
redir(const struct conf *c, unsigned id, const char *path, const char *h,
    const char *q, char *out, size_t outlen)
{
	size_t	 len = 0;
	enum route_redirect_result rr;

	rr = route_redirect(&c->routes[id], path, h, h ? strlen(h) : 0, q,
	    q ? strlen(q) : 0, out, outlen, &len);
	if (rr == ROUTE_REDIRECT_OK)
		assert_int_equal(len, strlen(out));
	return (rr);
}

static void
test_route__redirect_expansion(void **state)
{
	struct conf	*c = load_text(rules_conf);
	char		 out[256];

	(void)state;
	assert_int_equal(redir(c, 7, "/r/a/b/c", "h", "?x=1", out,
	    sizeof(out)), ROUTE_REDIRECT_OK);
	assert_string_equal(out, "https://x.example/b/c/a?x=1");
	/* A bare '?' carries nothing. */
	assert_int_equal(redir(c, 7, "/r/a/b", "h", "?", out, sizeof(out)),
	    ROUTE_REDIRECT_OK);
	assert_string_equal(out, "https://x.example/b/a");
	/* $host, and the query joined after the template's own '?'. */
	assert_int_equal(redir(c, 8, "/own/p", "cms.example:8443", "?q=2",
	    out, sizeof(out)), ROUTE_REDIRECT_OK);
	assert_string_equal(out, "https://cms.example:8443/n/p?k=v&q=2");
	assert_int_equal(redir(c, 9, "/nq/x", NULL, "?drop=1", out,
	    sizeof(out)), ROUTE_REDIRECT_OK);
	assert_string_equal(out, "/else/");
	/* $host must be a host name; none at all is refused too. */
	assert_int_equal(redir(c, 8, "/own/p", "evil.example/x", NULL, out,
	    sizeof(out)), ROUTE_REDIRECT_BAD_HOST);
	assert_int_equal(redir(c, 8, "/own/p", "a\r\nX: y", NULL, out,
	    sizeof(out)), ROUTE_REDIRECT_BAD_HOST);
	assert_int_equal(redir(c, 8, "/own/p", NULL, NULL, out,
	    sizeof(out)), ROUTE_REDIRECT_BAD_HOST);
	/* Never past the buffer. */
	assert_int_equal(redir(c, 7, "/r/a/b", "h", "?x=1", out, 10),
	    ROUTE_REDIRECT_TOO_LONG);
	assert_int_equal(redir(c, 7, "/r/a/b", "h", "?x=1", out, 0),
	    ROUTE_REDIRECT_TOO_LONG);
	conf_put(c);
}

static void
test_route__redirect_captures_cannot_inject(void **state)
{
	struct conf	*c = load_text(rules_conf);
	char		 out[256];

	(void)state;
	/* Raw CR/LF, space, '?', '#', '\\' and non-ASCII in a capture are
	 * percent-encoded: no header split, no move into the query. */
	assert_int_equal(redir(c, 7, "/r/a\r\nSet-Cookie: x/b?c#d\\e\xc3\xa9",
	    "h", NULL, out, sizeof(out)), ROUTE_REDIRECT_OK);
	assert_string_equal(out, "https://x.example/b%3Fc%23d%5Ce%C3%A9/"
	    "a%0D%0ASet-Cookie:%20x");
	/* '//evil' lands after the literal host: a path, not an authority. */
	assert_int_equal(redir(c, 7, "/r//evil.example", "h", NULL, out,
	    sizeof(out)), ROUTE_REDIRECT_OK);
	assert_string_equal(out, "https://x.example/evil.example/");
	conf_put(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_route__prefix_segment_boundary),
		cmocka_unit_test(test_route__first_match_wins),
		cmocka_unit_test(test_route__regex),
		cmocka_unit_test(test_route__rewrite_wmstats),
		cmocka_unit_test(test_route__rewrite_substitutes_match_only),
		cmocka_unit_test(
		    test_route__rewrite_copies_when_not_applicable),
		cmocka_unit_test(test_route__rewrite_buffer_too_small),
		cmocka_unit_test(test_route__allow_from_ipv4),
		cmocka_unit_test(test_route__allow_from_ipv6),
		cmocka_unit_test(test_route__allow_from_v4_mapped),
		cmocka_unit_test(
		    test_route__allow_from_empty_and_other_families),
		cmocka_unit_test(test_route__host_lines_built_at_load),
		cmocka_unit_test(test_route__host_valid),
		cmocka_unit_test(test_route__query_matcher),
		cmocka_unit_test(test_route__methods_and_origins),
		cmocka_unit_test(test_route__redirect_expansion),
		cmocka_unit_test(test_route__redirect_captures_cannot_inject),
	};

	return (cmocka_run_group_tests_name("route", tests, group_setup,
	    group_teardown));
}
