/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * Unit tests for proxy/access.c, the access-log line: access_format()
 * with fixed clocks, byte for byte, in the text (CMSWEB Apache) and the
 * JSON format: a certificate request, an anonymous one with an error, a
 * token request (issuer and subject appended, never the token), HTTP/2
 * and HTTP/1.0 protocol names, escaping of quotes, backslashes and
 * control bytes, values cut at their field's limit, and a buffer too
 * small for the line (0, nothing counted; the line and a NUL must fit).
 * The expected lines were written by the snprintf formatter that the
 * appending one replaced, and pass against both, so the two agree to
 * the byte.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "auth/auth.h"
#include "conf/conf.h"
#include "proxy/access.h"
#include "proxy/upstream.h"
#include "proxy/xchg.h"

/* 2026-11-27 02:28:23 UTC */
#define T_NOW	((time_t)1795746503)
#define T_END	((uint64_t)5000000000)

struct fixture {
	struct conf		 cf;
	struct conf_route	 route;
	struct pool		 pool;
	struct auth_ident	 ident;
	struct access_client	 cl;
	struct xchg		 x;
	char			 line[8192];
};

static int
setup(void **state)
{
	struct fixture	*f = calloc(1, sizeof(*f));

	if (f == NULL)
		return (-1);
	setenv("TZ", "UTC", 1);
	tzset();
	f->cf.auth.authn_method = "X509Cert";
	f->cf.log.access_format = CONF_LOG_TEXT;
	f->route.path = "/dbs/";
	(void)strcpy(f->pool.name, "http://127.0.0.1:8250");
	f->ident.user_dn = "/DC=ch/DC=cern/CN=John Doe";
	f->cl.conf = &f->cf;
	f->cl.peer = "10.0.0.1";
	f->cl.peerport = 53422;
	f->cl.ident = &f->ident;
	f->x.route = &f->route;
	f->x.pool = &f->pool;
	f->x.req.version_minor = 1;
	f->x.t_start = T_END - 1834;
	f->x.t_up = T_END - 1701;
	f->x.status = 200;
	f->x.bytes_in = 312;
	f->x.bytes_out = 1536;
	(void)strcpy(f->x.method, "GET");
	(void)strcpy(f->x.target, "/dbs/x?y");
	f->x.have_ad = 1;
	f->x.ad.result = AUTH_OK;
	f->x.ad.dn = "/DC=ch/DC=cern/CN=John Doe";
	f->x.ad.login = "jdoe";
	*state = f;
	return (0);
}

static int
teardown(void **state)
{
	free(*state);
	return (0);
}

/* Format f's exchange and compare with want, length included. */
static void
expect_line(struct fixture *f, const char *want)
{
	size_t	 n;

	memset(f->line, 'Z', sizeof(f->line));
	n = access_format(&f->cl, &f->x, T_END, T_NOW, f->line,
	    sizeof(f->line));
	assert_int_equal(n, strlen(want));
	assert_memory_equal(f->line, want, n);
}

static void
test_access__text_certificate(void **state)
{
	expect_line(*state, "[27/Nov/2026:02:28:23 +0000] 10.0.0.1:53422 "
	    "\"GET /dbs/x?y HTTP/1.1\" 200 [data: 312 in 1536 out 1834 us "
	    "upstream 1701 us] [auth: - - \"/DC=ch/DC=cern/CN=John Doe\" "
	    "\"jdoe\" X509Cert] [route: /dbs/ backend: "
	    "http://127.0.0.1:8250]\n");
}

static void
test_access__json_certificate(void **state)
{
	struct fixture	*f = *state;

	f->cf.log.access_format = CONF_LOG_JSON;
	expect_line(f, "{\"time\":\"2026-11-27T02:28:23Z\","
	    "\"client\":\"10.0.0.1\",\"client_port\":53422,"
	    "\"method\":\"GET\",\"uri\":\"/dbs/x?y\",\"proto\":\"HTTP/1.1\","
	    "\"status\":200,\"bytes_in\":312,\"bytes_out\":1536,"
	    "\"tls\":\"-\",\"cipher\":\"-\","
	    "\"dn\":\"/DC=ch/DC=cern/CN=John Doe\",\"login\":\"jdoe\","
	    "\"auth\":\"X509Cert\",\"route\":\"/dbs/\","
	    "\"backend\":\"http://127.0.0.1:8250\",\"time_us\":1834,"
	    "\"upstream_us\":1701}\n");
}

/* No decision, no route, no backend, no upstream: dashes, -1 and the
 * error; the DN falls back to the connection's identity. */
static void
setup_anonymous_error(struct fixture *f)
{
	f->x.have_ad = 0;
	f->x.route = NULL;
	f->x.pool = NULL;
	f->x.t_up = 0;
	f->x.status = 502;
	f->x.error = "backend closed the connection before responding";
	f->x.req.version_minor = 0;
	f->x.method[0] = '\0';
}

static void
test_access__text_anonymous_error(void **state)
{
	struct fixture	*f = *state;

	setup_anonymous_error(f);
	expect_line(f, "[27/Nov/2026:02:28:23 +0000] 10.0.0.1:53422 "
	    "\"- /dbs/x?y HTTP/1.0\" 502 [data: 312 in 1536 out 1834 us "
	    "upstream -1 us] [auth: - - \"/DC=ch/DC=cern/CN=John Doe\" "
	    "\"-\" -] [route: - backend: -] [error: backend closed the "
	    "connection before responding]\n");
}

static void
test_access__json_anonymous_error(void **state)
{
	struct fixture	*f = *state;

	setup_anonymous_error(f);
	f->cf.log.access_format = CONF_LOG_JSON;
	f->cl.ident = NULL;
	expect_line(f, "{\"time\":\"2026-11-27T02:28:23Z\","
	    "\"client\":\"10.0.0.1\",\"client_port\":53422,"
	    "\"method\":\"-\",\"uri\":\"/dbs/x?y\",\"proto\":\"HTTP/1.0\","
	    "\"status\":502,\"bytes_in\":312,\"bytes_out\":1536,"
	    "\"tls\":\"-\",\"cipher\":\"-\",\"dn\":\"-\",\"login\":\"-\","
	    "\"auth\":\"-\",\"route\":\"-\",\"backend\":\"-\","
	    "\"time_us\":1834,\"upstream_us\":-1,\"error\":\"backend closed "
	    "the connection before responding\"}\n");
}

/* A token request on HTTP/2: the decision's own method, and the issuer
 * and subject appended. */
static void
setup_token(struct fixture *f)
{
	f->cl.h2 = 1;
	f->cl.ident = NULL;
	f->x.ad.dn = NULL;
	f->x.ad.login = "jdoe";
	f->x.ad.method = "oauth";
	f->x.ad.token_iss = "https://cms-auth.web.cern.ch/";
	f->x.ad.token_sub = "a1b2-\"c3\"";
}

static void
test_access__text_token_h2(void **state)
{
	struct fixture	*f = *state;

	setup_token(f);
	expect_line(f, "[27/Nov/2026:02:28:23 +0000] 10.0.0.1:53422 "
	    "\"GET /dbs/x?y HTTP/2.0\" 200 [data: 312 in 1536 out 1834 us "
	    "upstream 1701 us] [auth: - - \"-\" \"jdoe\" oauth] "
	    "[route: /dbs/ backend: http://127.0.0.1:8250] "
	    "[token: \"https://cms-auth.web.cern.ch/\" \"a1b2-\\\"c3\\\"\"]\n");
}

static void
test_access__json_token_h2(void **state)
{
	struct fixture	*f = *state;

	setup_token(f);
	f->cf.log.access_format = CONF_LOG_JSON;
	expect_line(f, "{\"time\":\"2026-11-27T02:28:23Z\","
	    "\"client\":\"10.0.0.1\",\"client_port\":53422,"
	    "\"method\":\"GET\",\"uri\":\"/dbs/x?y\",\"proto\":\"HTTP/2.0\","
	    "\"status\":200,\"bytes_in\":312,\"bytes_out\":1536,"
	    "\"tls\":\"-\",\"cipher\":\"-\",\"dn\":\"-\",\"login\":\"jdoe\","
	    "\"auth\":\"oauth\",\"route\":\"/dbs/\","
	    "\"backend\":\"http://127.0.0.1:8250\",\"time_us\":1834,"
	    "\"upstream_us\":1701,"
	    "\"token_iss\":\"https://cms-auth.web.cern.ch/\","
	    "\"token_sub\":\"a1b2-\\\"c3\\\"\"}\n");
}

/* Other decisions: anonymous, pass-through and denied. */
static void
test_access__decisions(void **state)
{
	struct fixture	*f = *state;
	static const struct {
		enum auth_result r;
		const char	*word;
	} cases[] = {
		{ AUTH_ANON, "none" }, { AUTH_PASS, "pass" },
		{ AUTH_DENY, "denied" },
	};
	char		 want[512];
	size_t		 i;

	f->x.ad.login = NULL;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		f->x.ad.result = cases[i].r;
		(void)snprintf(want, sizeof(want), "[27/Nov/2026:02:28:23 "
		    "+0000] 10.0.0.1:53422 \"GET /dbs/x?y HTTP/1.1\" 200 "
		    "[data: 312 in 1536 out 1834 us upstream 1701 us] "
		    "[auth: - - \"/DC=ch/DC=cern/CN=John Doe\" \"-\" %s] "
		    "[route: /dbs/ backend: http://127.0.0.1:8250]\n",
		    cases[i].word);
		expect_line(f, want);
	}
}

/* Quotes, backslashes and control bytes are escaped (\xNN in text,
 * \u00NN in JSON), so a request is always one line. */
static void
test_access__escaping(void **state)
{
	struct fixture	*f = *state;

	(void)strcpy(f->x.target, "/a\"b\\c\x01\x7f\nd");
	f->x.ad.dn = "/CN=Eve \"x\"";
	expect_line(f, "[27/Nov/2026:02:28:23 +0000] 10.0.0.1:53422 "
	    "\"GET /a\\\"b\\\\c\\x01\\x7f\\x0ad HTTP/1.1\" 200 [data: 312 in "
	    "1536 out 1834 us upstream 1701 us] [auth: - - "
	    "\"/CN=Eve \\\"x\\\"\" \"jdoe\" X509Cert] [route: /dbs/ backend: "
	    "http://127.0.0.1:8250]\n");
	f->cf.log.access_format = CONF_LOG_JSON;
	expect_line(f, "{\"time\":\"2026-11-27T02:28:23Z\","
	    "\"client\":\"10.0.0.1\",\"client_port\":53422,"
	    "\"method\":\"GET\",\"uri\":\"/a\\\"b\\\\c\\u0001\\u007f\\u000ad\","
	    "\"proto\":\"HTTP/1.1\",\"status\":200,\"bytes_in\":312,"
	    "\"bytes_out\":1536,\"tls\":\"-\",\"cipher\":\"-\","
	    "\"dn\":\"/CN=Eve \\\"x\\\"\",\"login\":\"jdoe\","
	    "\"auth\":\"X509Cert\",\"route\":\"/dbs/\","
	    "\"backend\":\"http://127.0.0.1:8250\",\"time_us\":1834,"
	    "\"upstream_us\":1701}\n");
}

/* A long login is cut at its field's limit (153 bytes of text). */
static void
test_access__long_field_cut(void **state)
{
	struct fixture	*f = *state;
	char		 login[400], cut[200], want[1024];

	memset(login, 'l', sizeof(login) - 1);
	login[sizeof(login) - 1] = '\0';
	memset(cut, 'l', 153);
	cut[153] = '\0';
	f->x.ad.login = login;
	(void)snprintf(want, sizeof(want), "[27/Nov/2026:02:28:23 +0000] "
	    "10.0.0.1:53422 \"GET /dbs/x?y HTTP/1.1\" 200 [data: 312 in 1536 "
	    "out 1834 us upstream 1701 us] [auth: - - "
	    "\"/DC=ch/DC=cern/CN=John Doe\" \"%s\" X509Cert] [route: /dbs/ "
	    "backend: http://127.0.0.1:8250]\n", cut);
	expect_line(f, want);
}

/* A buffer too small for the line: 0, and the caller counts nothing. */
static void
test_access__no_room(void **state)
{
	struct fixture	*f = *state;
	size_t		 i;

	for (i = 1; i < 200; i += 7) {
		assert_int_equal(access_format(&f->cl, &f->x, T_END, T_NOW,
		    f->line, i), 0);
		f->cf.log.access_format = i % 2 ? CONF_LOG_JSON :
		    CONF_LOG_TEXT;
	}
	setup_token(f);
	assert_int_equal(access_format(&f->cl, &f->x, T_END, T_NOW, f->line,
	    230), 0);
	/* The edge, as snprintf's: the line plus a NUL must fit. */
	for (i = 0; i < 2; i++) {
		size_t	 len;

		f->cf.log.access_format = i ? CONF_LOG_JSON : CONF_LOG_TEXT;
		len = access_format(&f->cl, &f->x, T_END, T_NOW, f->line,
		    sizeof(f->line));
		assert_true(len > 200);
		assert_int_equal(access_format(&f->cl, &f->x, T_END, T_NOW,
		    f->line, len), 0);
		assert_int_equal(access_format(&f->cl, &f->x, T_END, T_NOW,
		    f->line, len + 1), len);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_access__text_certificate,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_access__json_certificate,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_access__text_anonymous_error, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_access__json_anonymous_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_access__text_token_h2,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_access__json_token_h2,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_access__decisions, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_access__escaping, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_access__long_field_cut,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_access__no_room, setup,
		    teardown),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
