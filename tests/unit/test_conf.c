/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * Unit tests of the config loader (conf/conf.c and conf/keys.c).  The core
 * is table-driven over tests/fixtures/conf/: every ok-*.yaml must load, and
 * every bad-*.yaml must fail with its first error at the line, column and
 * text its "# expect: L:C: text" header gives, so the quality of error
 * messages is under test too.  Then come defaults, value parsing, path
 * resolution, backend sharing, the refcount, the shipped examples, and a
 * check that README.md documents exactly the keys --list-keys prints.
 * Run from the repository root (as `make unit` does), or set SRCDIR.
 */

#include <sys/socket.h>
#include <netinet/in.h>

#include <dirent.h>
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
#include "conf/keys.h"
#include "conf/yaml.h"

#ifndef SRCDIR
#define SRCDIR "."
#endif

#define FIXTURES	SRCDIR "/tests/fixtures/conf"

/* Scratch directory for configs written by the tests themselves. */
static char	 tmpdir[] = "/tmp/gridfront-test-conf-XXXXXX";
static char	 tmpfile_path[sizeof(tmpdir) + 16];

static int
group_setup(void **state)
{
	(void)state;
	if (mkdtemp(tmpdir) == NULL)
		return (-1);
	snprintf(tmpfile_path, sizeof(tmpfile_path), "%s/t.yaml", tmpdir);
	return (0);
}

static int
group_teardown(void **state)
{
	(void)state;
	unlink(tmpfile_path);
	return (rmdir(tmpdir));
}

/* Write text to the scratch config file and load it. */
static int
load_text(const char *text, struct conf **c, struct conf_errs *errs)
{
	FILE	*fp;

	fp = fopen(tmpfile_path, "w");
	assert_non_null(fp);
	assert_int_equal(fputs(text, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
	return (conf_load(tmpfile_path, c, errs));
}

/* Load a file that must be valid; print its errors if it is not. */
static struct conf *
load_ok(const char *path)
{
	struct conf_errs	 errs = { 0 };
	struct conf		*c = NULL;

	if (conf_load(path, &c, &errs) == -1) {
		conf_errs_print(&errs, stderr);
		conf_errs_free(&errs);
		fail_msg("%s did not load", path);
	}
	assert_int_equal(errs.n, 0);
	assert_non_null(c);
	assert_int_equal(c->refs, 1);
	return (c);
}

/* Does errs hold an error at line:col whose text contains frag? */
static int
has_err(const struct conf_errs *errs, int line, int col, const char *frag)
{
	size_t	 i;

	for (i = 0; i < errs->n; i++)
		if (errs->v[i].line == line && errs->v[i].col == col &&
		    strstr(errs->v[i].msg, frag) != NULL)
			return (1);
	return (0);
}

static int
cmp_name(const void *a, const void *b)
{
	return (strcmp(*(char *const *)a, *(char *const *)b));
}

/* The fixture file names starting with prefix, sorted; *n gets the count. */
static char **
fixtures(const char *prefix, size_t *n)
{
	DIR		*d;
	struct dirent	*de;
	char		**v = NULL;
	size_t		 len;

	*n = 0;
	d = opendir(FIXTURES);
	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (strncmp(de->d_name, prefix, strlen(prefix)) != 0 ||
		    len < 5 || strcmp(de->d_name + len - 5, ".yaml") != 0)
			continue;
		v = realloc(v, (*n + 1) * sizeof(*v));
		assert_non_null(v);
		v[(*n)++] = strdup(de->d_name);
	}
	closedir(d);
	qsort(v, *n, sizeof(*v), cmp_name);
	return (v);
}

static void
free_list(char **v, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void
test_conf__fixtures_ok_load(void **state)
{
	char		**names, path[512];
	struct conf	 *c;
	size_t		  n, i;

	(void)state;
	names = fixtures("ok-", &n);
	assert_true(n >= 5);
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", FIXTURES, names[i]);
		c = load_ok(path);
		assert_true(c->nlisteners >= 1);
		assert_true(c->nroutes >= 1);
		conf_put(c);
	}
	free_list(names, n);
}

static void
test_conf__fixtures_bad_report_first_error(void **state)
{
	struct conf_errs	 errs = { 0 };
	struct conf		*c;
	char			**names, path[512], head[512], frag[400];
	FILE			*fp;
	size_t			 n, i, len;
	int			 line, col, off;

	(void)state;
	names = fixtures("bad-", &n);
	assert_true(n >= 20);
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", FIXTURES, names[i]);
		fp = fopen(path, "r");
		assert_non_null(fp);
		assert_non_null(fgets(head, sizeof(head), fp));
		fclose(fp);
		len = strlen(head);
		if (len > 0 && head[len - 1] == '\n')
			head[--len] = '\0';
		off = 0;
		if (sscanf(head, "# expect: %d:%d: %n", &line, &col, &off) !=
		    2 || off == 0)
			fail_msg("%s: no '# expect: L:C: text' header", path);
		snprintf(frag, sizeof(frag), "%s", head + off);

		c = NULL;
		if (conf_load(path, &c, &errs) != -1)
			fail_msg("%s loaded but should not", path);
		assert_null(c);
		assert_true(errs.n >= 1);
		if (errs.v[0].line != line || errs.v[0].col != col ||
		    strstr(errs.v[0].msg, frag) == NULL) {
			conf_errs_print(&errs, stderr);
			fail_msg("%s: expected %d:%d: %s", path, line, col,
			    frag);
		}
		assert_string_equal(errs.v[0].file, path);
		conf_errs_free(&errs);
	}
	free_list(names, n);
}

static void
test_conf__collects_every_error(void **state)
{
	struct conf_errs	 errs = { 0 };
	struct conf		*c = NULL;

	(void)state;
	assert_int_equal(load_text(
	    "workers: 0\n"					/* 1 */
	    "listen:\n"						/* 2 */
	    "  - address: 127.0.0.1\n"				/* 3 */
	    "timeouts: {handshake: 0s, keepalive: 10x}\n"	/* 4 */
	    "routes:\n"						/* 5 */
	    "  - path: dbs\n"					/* 6 */
	    "    backends: [ftp://a:1]\n"			/* 7 */
	    "  - path: /ok/\n"					/* 8 */
	    "    bakends: [http://127.0.0.1:1]\n"		/* 9 */
	    "    allow_from: [10.0.0.1/8]\n"			/* 10 */
	    "log: {level: loud}\n",				/* 11 */
	    &c, &errs), -1);
	assert_null(c);
	assert_true(has_err(&errs, 1, 10, "workers: expected auto or a "
	    "whole number from 1 to 256, got '0'"));
	assert_true(has_err(&errs, 3, 14, "listen[0].address: '127.0.0.1': "
	    "missing ':port'"));
	assert_true(has_err(&errs, 4, 23, "timeouts.handshake: '0s' is too "
	    "short"));
	assert_true(has_err(&errs, 4, 38, "timeouts.keepalive: expected a "
	    "duration"));
	assert_true(has_err(&errs, 6, 11, "routes[0].path: 'dbs' must start "
	    "with '/'"));
	assert_true(has_err(&errs, 7, 16, "routes[0].backends[0]: "
	    "'ftp://a:1' is not an http://host:port or https://"));
	assert_true(has_err(&errs, 9, 5, "routes[1]: unknown key 'bakends'"));
	assert_true(has_err(&errs, 8, 5, "routes[1]: missing required key "
	    "'backends'"));
	assert_true(has_err(&errs, 10, 18, "routes[1].allow_from[0]: "
	    "'10.0.0.1/8' has bits set past the /8 prefix; did you mean "
	    "10.0.0.0/8?"));
	assert_true(has_err(&errs, 11, 14, "log.level: expected one of "
	    "error, warn, info or debug, got 'loud'"));
	/* The semantic pass ran as well: the auth routes need auth:. */
	assert_true(has_err(&errs, 6, 5, "routes[0]: 'auth: cert' needs "
	    "auth.ca_path and auth.hmac_key"));
	assert_int_equal(errs.n, 11);
	conf_errs_free(&errs);
}

static void
test_conf__defaults(void **state)
{
	struct conf		*c;
	const struct conf_listener *l;

	(void)state;
	c = load_ok(FIXTURES "/ok-minimal.yaml");
	assert_true(c->workers >= 1 && c->workers <= 256);
	assert_int_equal(c->nlisteners, 1);
	l = &c->listeners[0];
	assert_string_equal(l->address, "127.0.0.1:8080");
	assert_int_equal(l->addr.ss_family, AF_INET);
	assert_int_equal(ntohs(((const struct sockaddr_in *)
	    &l->addr)->sin_port),
	    8080);
	assert_int_equal(l->tls, 0);
	assert_null(l->certificate);
	assert_int_equal(l->redirect_https, 0);
	assert_int_equal(l->https_port, 443);
	assert_int_equal(l->line, 3);
	assert_int_equal(l->col, 5);

	assert_int_equal(c->timeouts.handshake, 10000);
	assert_int_equal(c->timeouts.request_head, 20000);
	assert_int_equal(c->timeouts.keepalive, 60000);
	assert_int_equal(c->timeouts.upstream_connect, 5000);
	assert_int_equal(c->timeouts.upstream_response, 300000);
	assert_int_equal(c->timeouts.body_idle, 60000);
	assert_int_equal(c->timeouts.shutdown_grace, 30000);

	assert_int_equal(c->limits.max_request_line, 8192);
	assert_int_equal(c->limits.max_header_field, 8192);
	assert_int_equal(c->limits.max_header_block, 32768);
	assert_int_equal(c->limits.max_header_count, 100);
	assert_int_equal(c->limits.max_chunk_ext, 256);
	assert_int_equal(c->limits.max_connections, 10000);
	assert_int_equal(c->limits.buffer_high, 65536);

	assert_int_equal(c->upstream.pool_max_idle, 256);
	assert_int_equal(c->upstream.pool_idle_timeout, 30000);
	assert_int_equal(c->upstream.down_time, 10000);

	assert_null(c->auth.ca_path);
	assert_int_equal(c->auth.verify_depth, 10);
	assert_null(c->auth.vomsdir);
	assert_null(c->auth.users);
	assert_null(c->auth.banned);
	assert_null(c->auth.hmac_key);
	assert_int_equal(c->auth.legacy_proxies, 0);
	assert_string_equal(c->auth.authn_method, "X509Cert");
	assert_string_equal(c->auth.trouble_url, "/auth/trouble");
	assert_int_equal(c->auth.reload_interval, 5000);
	assert_int_equal(c->auth.verify_cache_size, 10000);

	assert_null(c->admin.address);
	assert_int_equal(c->admin.addrlen, 0);
	assert_null(c->log.access_log);
	assert_int_equal(c->log.access_format, CONF_LOG_TEXT);
	assert_null(c->log.error_log);
	assert_int_equal(c->log.level, 2);

	assert_int_equal(c->nroutes, 1);
	assert_string_equal(c->routes[0].path, "/");
	assert_string_equal(c->routes[0].name, "/");
	assert_int_equal(c->routes[0].auth, CONF_AUTH_NONE);
	assert_int_equal(c->routes[0].allow_limited_proxy, 0);
	assert_int_equal(c->routes[0].nrequire_fqan, 0);
	assert_int_equal(c->routes[0].nallow_from, 0);
	assert_int_equal(c->routes[0].has_rewrite, 0);
	assert_int_equal(c->routes[0].is_regex, 0);
	assert_string_equal(c->path, FIXTURES "/ok-minimal.yaml");
	conf_put(c);
}

static void
test_conf__units_and_values(void **state)
{
	struct conf	*c;

	(void)state;
	c = load_ok(FIXTURES "/ok-units.yaml");
	assert_int_equal(c->timeouts.handshake, 500);
	assert_int_equal(c->timeouts.request_head, 20000);
	assert_int_equal(c->timeouts.keepalive, 120000);
	assert_int_equal(c->timeouts.upstream_response, 3600000);
	assert_int_equal(c->timeouts.body_idle, 90000);
	assert_int_equal(c->timeouts.shutdown_grace, KEYS_DURATION_MAX);
	assert_int_equal(c->limits.max_request_line, 16384);
	assert_int_equal(c->limits.max_header_field, 8192);
	assert_int_equal(c->limits.max_header_block, 1048576);
	assert_int_equal(c->limits.max_header_count, 120);
	assert_int_equal(c->limits.max_chunk_ext, 0);
	assert_int_equal(c->limits.max_connections, 1);
	assert_int_equal(c->limits.buffer_high, 65536);
	assert_int_equal(c->upstream.pool_max_idle, 0);
	assert_int_equal(c->upstream.pool_idle_timeout, 1500);
	assert_int_equal(c->upstream.down_time, 60000);
	assert_string_equal(c->log.access_log, "off");
	assert_int_equal(c->log.access_format, CONF_LOG_JSON);
	assert_null(c->log.error_log);
	assert_int_equal(c->log.level, 3);
	conf_put(c);

	c = load_ok(FIXTURES "/ok-flow.yaml");
	assert_int_equal(c->workers, 3);
	assert_int_equal(c->nroutes, 2);
	conf_put(c);
}

static void
test_conf__parse_duration(void **state)
{
	static const struct {
		const char	*in;
		int		 ok;
		uint64_t	 ms;
	} cases[] = {
		{ "10s", 1, 10000 }, { "500ms", 1, 500 }, { "2m", 1, 120000 },
		{ "1h", 1, 3600000 }, { "7", 1, 7000 }, { "0", 1, 0 },
		{ "", 0, 0 }, { "s", 0, 0 }, { "10 s", 0, 0 }, { "-1s", 0, 0 },
		{ "1.5s", 0, 0 }, { "10S", 0, 0 }, { "10sec", 0, 0 },
		{ "1d", 0, 0 }, { "99999999999999999999", 0, 0 },
		{ "18446744073709551615ms", 1, UINT64_MAX },
		{ "18446744073709551615s", 0, 0 },
	};
	uint64_t	 v;
	size_t		 i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		v = 12345;
		if (keys_parse_duration(cases[i].in, &v) != (cases[i].ok ?
		    0 : -1))
			fail_msg("duration '%s'", cases[i].in);
		if (cases[i].ok)
			assert_true(v == cases[i].ms);
		else
			assert_true(v == 12345);
	}
}

static void
test_conf__parse_size(void **state)
{
	static const struct {
		const char	*in;
		int		 ok;
		uint64_t	 bytes;
	} cases[] = {
		{ "8k", 1, 8192 }, { "16KiB", 1, 16384 }, { "1m", 1, 1048576 },
		{ "300", 1, 300 }, { "8kb", 1, 8192 }, { "2MB", 1, 2097152 },
		{ "1g", 1, 1073741824 }, { "12b", 1, 12 }, { "0", 1, 0 },
		{ "k", 0, 0 }, { "8 k", 0, 0 }, { "8kk", 0, 0 }, { "8t", 0, 0 },
		{ "-8k", 0, 0 }, { "", 0, 0 },
		{ "18014398509481984k", 0, 0 },
	};
	uint64_t	 v;
	size_t		 i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		v = 12345;
		if (keys_parse_size(cases[i].in, &v) != (cases[i].ok ? 0 : -1))
			fail_msg("size '%s'", cases[i].in);
		if (cases[i].ok)
			assert_true(v == cases[i].bytes);
	}
}

static void
test_conf__parse_cidr(void **state)
{
	struct conf_cidr	 b;
	char			 err[200];

	(void)state;
	assert_int_equal(keys_parse_cidr("10.0.0.0/8", &b, err, sizeof(err)),
	    0);
	assert_int_equal(b.family, AF_INET);
	assert_int_equal(b.prefix, 8);
	assert_int_equal(b.addr[0], 10);

	assert_int_equal(keys_parse_cidr("192.0.2.7", &b, err, sizeof(err)),
	    0);
	assert_int_equal(b.prefix, 32);
	assert_int_equal(b.addr[3], 7);

	assert_int_equal(keys_parse_cidr("2001:db8::/32", &b, err,
	    sizeof(err)), 0);
	assert_int_equal(b.family, AF_INET6);
	assert_int_equal(b.prefix, 32);
	assert_int_equal(b.addr[0], 0x20);
	assert_int_equal(b.addr[3], 0xb8);

	assert_int_equal(keys_parse_cidr("::/0", &b, err, sizeof(err)), 0);
	assert_int_equal(b.prefix, 0);

	/* A v4-mapped block becomes the IPv4 block it denotes. */
	assert_int_equal(keys_parse_cidr("::ffff:10.0.0.0/104", &b, err,
	    sizeof(err)), 0);
	assert_int_equal(b.family, AF_INET);
	assert_int_equal(b.prefix, 8);
	assert_int_equal(b.addr[0], 10);
	assert_int_equal(b.addr[4], 0);

	assert_int_equal(keys_parse_cidr("10.0.0.1/8", &b, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "did you mean 10.0.0.0/8?"));
	assert_int_equal(keys_parse_cidr("172.16.0.0/11", &b, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "did you mean 172.0.0.0/11?"));
	assert_int_equal(keys_parse_cidr("10.0.0.0/33", &b, err, sizeof(err)),
	    -1);
	assert_int_equal(keys_parse_cidr("10.0.0.0/", &b, err, sizeof(err)),
	    -1);
	assert_int_equal(keys_parse_cidr("10.0.0.0/8x", &b, err, sizeof(err)),
	    -1);
	assert_int_equal(keys_parse_cidr("10.0.0/8", &b, err, sizeof(err)),
	    -1);
	assert_int_equal(keys_parse_cidr("example.org", &b, err, sizeof(err)),
	    -1);
	assert_int_equal(keys_parse_cidr("2001:db8::1/64", &b, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "2001:db8::/64"));
}

static void
test_conf__relative_paths_resolved(void **state)
{
	struct conf	*c;
	char		 dir[4096], want[4200];

	(void)state;
	assert_non_null(realpath(FIXTURES, dir));
	c = load_ok(FIXTURES "/ok-relative-paths.yaml");
	assert_int_equal(c->listeners[0].tls, 1);
	snprintf(want, sizeof(want), "%s/certs/server.pem", dir);
	assert_string_equal(c->listeners[0].certificate, want);
	assert_string_equal(c->listeners[0].key, "/abs/server.key");
	snprintf(want, sizeof(want), "%s/ca", dir);
	assert_string_equal(c->auth.ca_path, want);
	snprintf(want, sizeof(want), "%s/../hmac.key", dir);
	assert_string_equal(c->auth.hmac_key, want);
	snprintf(want, sizeof(want), "%s/logs/access.log", dir);
	assert_string_equal(c->log.access_log, want);
	snprintf(want, sizeof(want), "%s/logs/error.log", dir);
	assert_string_equal(c->log.error_log, want);
	conf_put(c);
}

static void
test_conf__backends_shared(void **state)
{
	struct conf_errs	 errs = { 0 };
	struct conf		*c = NULL;

	(void)state;
	assert_int_equal(load_text(
	    "listen: [{address: 127.0.0.1:8080}]\n"
	    "routes:\n"
	    "  - {path: /a, auth: none, backends: [http://127.0.0.1:81, "
	    "http://127.0.0.1:82]}\n"
	    "  - {path: /b, auth: none, backends: [http://127.0.0.1:82]}\n"
	    "  - {path: /c, auth: none, backends: [http://127.0.0.1:81, "
	    "http://127.0.0.1:83]}\n", &c, &errs), 0);
	assert_int_equal(c->nbackends, 3);
	assert_ptr_equal(c->routes[0].backends[1], c->routes[1].backends[0]);
	assert_ptr_equal(c->routes[0].backends[0], c->routes[2].backends[0]);
	assert_ptr_equal(c->routes[2].backends[1], &c->backends[2]);
	assert_int_equal(c->backends[2].id, 2);
	assert_string_equal(c->backends[2].url, "http://127.0.0.1:83");
	assert_string_equal(c->backends[2].host, "127.0.0.1");
	assert_string_equal(c->backends[2].port, "83");
	assert_int_equal(c->backends[2].addr.ss_family, AF_INET);
	assert_int_equal(c->backends[2].addrlen, sizeof(struct sockaddr_in));
	assert_int_equal(ntohs(((struct sockaddr_in *)&c->backends[2].addr)->
	    sin_port), 83);
	conf_put(c);
}

static void
test_conf__ipv6_and_names(void **state)
{
	struct conf		*c;
	const struct conf_route	*r;

	(void)state;
	c = load_ok(FIXTURES "/ok-ipv6-names.yaml");
	assert_int_equal(c->listeners[0].addr.ss_family, AF_INET6);
	assert_int_equal(c->listeners[1].redirect_https, 1);
	assert_int_equal(c->listeners[1].https_port, 8443);
	assert_int_equal(c->nbackends, 2);
	/* The host keeps its brackets: it is what a Host: header needs. */
	assert_string_equal(c->backends[0].host, "[::1]");
	assert_string_equal(c->backends[0].port, "8081");
	assert_int_equal(c->backends[0].addr.ss_family, AF_INET6);
	assert_string_equal(c->backends[1].host, "localhost");
	r = &c->routes[0];
	assert_int_equal(r->nallow_from, 4);
	assert_int_equal(r->allow_from[0].family, AF_INET6);
	assert_int_equal(r->allow_from[0].prefix, 128);
	assert_int_equal(r->allow_from[2].family, AF_INET);
	assert_int_equal(r->allow_from[2].prefix, 8);
	assert_int_equal(r->allow_from[3].family, AF_INET);
	assert_int_equal(r->allow_from[3].prefix, 24);
	conf_put(c);
}

static void
test_conf__routes_compiled(void **state)
{
	struct conf		*c;
	const struct conf_route	*r;

	(void)state;
	c = load_ok(FIXTURES "/ok-issue-core.yaml");
	assert_int_equal(c->nroutes, 2);
	r = &c->routes[0];
	assert_int_equal(r->id, 0);
	assert_string_equal(r->path, "/dbs/");
	assert_int_equal(r->pathlen, 5);
	assert_string_equal(r->name, "/dbs/");
	assert_int_equal(r->is_regex, 0);
	assert_int_equal(r->auth, CONF_AUTH_CERT);
	assert_int_equal(r->nbackends, 2);
	assert_int_equal(r->line, 9);
	assert_int_equal(r->col, 5);
	r = &c->routes[1];
	assert_int_equal(r->id, 1);
	assert_int_equal(r->is_regex, 1);
	/* "^/couchdb/wmstats/_design/WMStats/_view/(" -> literal prefix. */
	assert_int_equal(r->re_litlen,
	    strlen("/couchdb/wmstats/_design/WMStats/_view/"));
	assert_int_equal(r->has_rewrite, 1);
	assert_int_equal(r->rewrite_re.re_nsub, 1);
	assert_string_equal(r->rewrite_to,
	    "/wmstats/_design/WMStatsErl7/_view/$1");
	conf_put(c);
}

#define BE	"auth: none, backends: [http://127.0.0.1:1]"

static void
test_conf__regex_literal_prefix(void **state)
{
	struct conf_errs	 errs = { 0 };
	struct conf		*c = NULL;

	(void)state;
	assert_int_equal(load_text(
	    "listen: [{address: 127.0.0.1:8080}]\n"
	    "routes:\n"
	    "  - {path: \"^/ab?c\", " BE "}\n"
	    "  - {path: \"^/a|/b\", " BE "}\n"
	    "  - {path: \"^/x+y\", " BE "}\n"
	    "  - {path: \"^.*\", " BE "}\n"
	    "  - {path: \"^/q{2}\", " BE "}\n"
	    "  - {path: \"^/d\\\\.e\", " BE "}\n",
	    &c, &errs), 0);
	/* A quantified last literal is optional: keep only what precedes. */
	assert_int_equal(c->routes[0].re_litlen, 2);
	/* Alternation: no safe prefix. */
	assert_int_equal(c->routes[1].re_litlen, 0);
	/* '+' keeps the letter it repeats: at least one is there. */
	assert_int_equal(c->routes[2].re_litlen, 2);
	assert_int_equal(c->routes[3].re_litlen, 0);
	/* A bound may be {0}: the letter before it is not certain. */
	assert_int_equal(c->routes[4].re_litlen, 1);
	/* A backslash escape ends the literal run. */
	assert_int_equal(c->routes[5].re_litlen, 2);
	conf_put(c);
}

static void
test_conf__route_name_truncated(void **state)
{
	struct conf_errs	 errs = { 0 };
	struct conf		*c = NULL;
	char			 text[512], path[200];

	(void)state;
	memset(path, 'a', 150);
	path[0] = '/';
	path[150] = '\0';
	snprintf(text, sizeof(text), "listen: [{address: 127.0.0.1:8080}]\n"
	    "routes: [{path: %s, auth: none, backends: [http://127.0.0.1:1]}]"
	    "\n", path);
	assert_int_equal(load_text(text, &c, &errs), 0);
	assert_int_equal(strlen(c->routes[0].name), 63);
	assert_int_equal(strncmp(c->routes[0].name, path, 60), 0);
	assert_string_equal(c->routes[0].name + 60, "...");
	assert_string_equal(c->routes[0].path, path);
	conf_put(c);
}

static void
test_conf__refcount(void **state)
{
	struct conf	*c;

	(void)state;
	c = load_ok(FIXTURES "/ok-minimal.yaml");
	assert_ptr_equal(conf_get(c), c);
	assert_ptr_equal(conf_get(c), c);
	assert_int_equal(c->refs, 3);
	conf_put(c);
	conf_put(c);
	assert_int_equal(c->refs, 1);
	conf_put(c);		/* freed here; ASan checks no leak */
	conf_put(NULL);
}

static void
test_conf__missing_and_empty_file(void **state)
{
	struct conf_errs	 errs = { 0 };
	struct conf		*c = NULL;

	(void)state;
	assert_int_equal(conf_load("/nonexistent/x.yaml", &c, &errs), -1);
	assert_null(c);
	assert_int_equal(errs.n, 1);
	assert_non_null(strstr(errs.v[0].msg, "cannot open"));
	conf_errs_free(&errs);

	/* A directory is not a config file. */
	assert_int_equal(conf_load(FIXTURES, &c, &errs), -1);
	assert_null(c);
	assert_int_equal(errs.n, 1);
	assert_non_null(strstr(errs.v[0].msg, "cannot read"));
	conf_errs_free(&errs);
}

static void
test_conf__errs_print_format(void **state)
{
	struct conf_errs	 errs = { 0 };
	char			 buf[512];
	FILE			*fp;
	size_t			 len;

	(void)state;
	conf_errs_add(&errs, "a.yaml", 3, 7, "routes[%d]: %s", 2, "bad");
	conf_errs_add(&errs, "b.yaml", 0, 0, "cannot open");
	conf_errs_add(&errs, NULL, 1, 1, "x");
	assert_int_equal(errs.n, 3);
	fp = tmpfile();
	assert_non_null(fp);
	conf_errs_print(&errs, fp);
	rewind(fp);
	len = fread(buf, 1, sizeof(buf) - 1, fp);
	buf[len] = '\0';
	fclose(fp);
	assert_string_equal(buf, "a.yaml:3:7: routes[2]: bad\n"
	    "b.yaml: cannot open\n" ":1:1: x\n");
	conf_errs_free(&errs);
	assert_int_equal(errs.n, 0);
	assert_null(errs.v);
	conf_errs_free(&errs);
}

static void
test_conf__examples_load(void **state)
{
	struct conf	*c;
	size_t		 i;

	(void)state;
	c = load_ok(SRCDIR "/conf/examples/gridfront.yaml");
	assert_true(c->nroutes >= 5);
	assert_string_equal(c->auth.ca_path, "/etc/grid-security/certificates");
	assert_non_null(c->admin.address);
	conf_put(c);

	c = load_ok(SRCDIR "/conf/examples/demo.yaml");
	assert_int_equal(c->nlisteners, 2);
	assert_int_equal(c->listeners[0].tls, 1);
	assert_int_equal(c->listeners[1].redirect_https, 1);
	assert_int_equal(c->listeners[1].https_port, 8443);
	/* Demo files live under build/demo, relative to the example. */
	assert_true(c->listeners[0].certificate[0] == '/');
	assert_non_null(strstr(c->listeners[0].certificate,
	    "/conf/examples/../../build/demo/server.pem"));
	assert_non_null(strstr(c->auth.hmac_key, "build/demo/hmac.key"));
	assert_int_equal(c->routes[0].auth, CONF_AUTH_OPTIONAL);
	assert_string_equal(c->routes[c->nroutes - 1].path, "/");
	/* Every route goes to the demo backend; the ingress-style one by
	 * name, sent the ingress's alias as Host (issue 13). */
	for (i = 0; i < c->nroutes; i++) {
		assert_string_equal(c->routes[i].backends[0]->port, "8081");
		if (strcmp(c->routes[i].path, "/ingress/") != 0) {
			assert_int_equal(c->routes[i].host_header,
			    CONF_HOST_BACKEND);
			continue;
		}
		assert_string_equal(c->routes[i].backends[0]->url,
		    "http://localhost:8081");
		assert_int_equal(c->routes[i].host_header, CONF_HOST_LITERAL);
		assert_string_equal(c->routes[i].host_line,
		    "Host: cmsweb-srv.cern.ch\r\n");
	}
	conf_put(c);
}

/* Is the dotted key path comps[i..] present under n?  Lists are searched
 * item by item ("listen.tls.key": any listener's tls has a key). */
static int
key_present(const struct yaml_node *n, char **comps, size_t ncomps, size_t i)
{
	size_t	 j;

	if (n == NULL)
		return (0);
	if (i == ncomps)
		return (1);
	if (n->kind == YAML_KIND_SEQ) {
		for (j = 0; j < n->n; j++)
			if (key_present(n->items[j], comps, ncomps, i))
				return (1);
		return (0);
	}
	return (key_present(yaml_map_get(n, comps[i]), comps, ncomps, i + 1));
}

static void
test_conf__production_example_uses_every_key(void **state)
{
	struct conf_errs	 errs = { 0 };
	struct yaml_doc		*doc;
	char			*listing = NULL, *line, *save, *tab, *comps[8];
	char			*p, *save2;
	size_t			 len = 0, n;
	FILE			*fp;

	(void)state;
	doc = yaml_doc_load(SRCDIR "/conf/examples/gridfront.yaml", &errs);
	assert_non_null(doc);
	assert_int_equal(errs.n, 0);
	fp = open_memstream(&listing, &len);
	assert_non_null(fp);
	conf_keys_print(fp);
	fclose(fp);
	for (line = strtok_r(listing, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		tab = strchr(line, '\t');
		assert_non_null(tab);
		*tab = '\0';
		n = 0;
		for (p = strtok_r(line, ".", &save2); p != NULL && n < 8;
		    p = strtok_r(NULL, ".", &save2))
			comps[n++] = p;
		if (!key_present(doc->root, comps, n, 0))
			fail_msg("conf/examples/gridfront.yaml does not use "
			    "key %s (last part)", comps[n - 1]);
	}
	free(listing);
	yaml_doc_free(doc);
}

/* Read the README's keys block into a malloc'd string. */
static char *
readme_keys_block(void)
{
	FILE	*fp;
	char	*buf, *begin, *end;
	size_t	 len;

	fp = fopen(SRCDIR "/README.md", "r");
	assert_non_null(fp);
	buf = calloc(1, 1 << 20);
	assert_non_null(buf);
	len = fread(buf, 1, (1 << 20) - 1, fp);
	fclose(fp);
	buf[len] = '\0';
	begin = strstr(buf, "<!-- keys:begin -->");
	end = strstr(buf, "<!-- keys:end -->");
	assert_non_null(begin);
	assert_non_null(end);
	assert_true(begin < end);
	*end = '\0';
	memmove(buf, begin, (size_t)(end - begin) + 1);
	return (buf);
}

static void
test_conf__keys_documented_in_readme(void **state)
{
	char	*block, *listing = NULL, *line, *tab, *save, *p, *q;
	char	 want[160], key[128];
	size_t	 len = 0, nkeys = 0;
	FILE	*fp;

	(void)state;
	block = readme_keys_block();
	fp = open_memstream(&listing, &len);
	assert_non_null(fp);
	conf_keys_print(fp);
	fclose(fp);

	/* Every key printed has a row "| `key` |" in the README block. */
	for (line = strtok_r(listing, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		tab = strchr(line, '\t');
		assert_non_null(tab);
		*tab = '\0';
		/* Four tab-separated fields: key, type, default, text. */
		assert_non_null(strchr(tab + 1, '\t'));
		snprintf(want, sizeof(want), "| `%s` |", line);
		if (strstr(block, want) == NULL)
			fail_msg("key '%s' is not documented in README.md",
			    line);
		nkeys++;
		*tab = '\t';
	}
	assert_true(nkeys >= 50);

	/* Every documented row names a key that exists. */
	free(listing);
	listing = NULL;
	fp = open_memstream(&listing, &len);
	conf_keys_print(fp);
	fclose(fp);
	for (p = block; (p = strstr(p, "\n| `")) != NULL; p = q) {
		p += 4;
		q = strchr(p, '`');
		assert_non_null(q);
		snprintf(key, sizeof(key), "%.*s\t", (int)(q - p), p);
		if (strncmp(listing, key, strlen(key)) != 0 &&
		    (snprintf(want, sizeof(want), "\n%s", key),
		    strstr(listing, want) == NULL))
			fail_msg("README.md documents unknown key '%.*s'",
			    (int)(q - p), p);
	}
	free(listing);
	free(block);
}

/* https backends (issue 13): the verified name is the URL host or the
 * route's tls_server_name, and one URL under two names is two backends;
 * the semantic pass wants upstream.tls.ca and a certificate with its key,
 * and refuses tls_server_name without an https backend. */
static void
test_conf__https_backends(void **state)
{
	struct conf_errs	 errs = { 0 };
	struct conf		*c = NULL;

	(void)state;
	assert_int_equal(load_text(
	    "listen:\n"
	    "  - address: 127.0.0.1:8443\n"
	    "routes:\n"
	    "  - path: /a/\n"
	    "    auth: none\n"
	    "    backends: [https://127.0.0.1:9001, http://127.0.0.1:9002]\n"
	    "  - path: /b/\n"
	    "    auth: none\n"
	    "    backends: [https://127.0.0.1:9001]\n"
	    "    tls_server_name: srv.example\n"
	    "  - path: /c/\n"
	    "    auth: none\n"
	    "    backends: [https://127.0.0.1:9001]\n"
	    "upstream:\n"
	    "  tls: {ca: /ca.pem, certificate: c.pem, key: /k.pem}\n",
	    &c, &errs), 0);
	assert_non_null(c);
	assert_int_equal(c->nbackends, 3);
	assert_int_equal(c->routes[0].backends[0]->tls, 1);
	assert_string_equal(c->routes[0].backends[0]->tls_name, "127.0.0.1");
	assert_int_equal(c->routes[0].backends[1]->tls, 0);
	assert_null(c->routes[0].backends[1]->tls_name);
	assert_string_equal(c->routes[1].backends[0]->tls_name,
	    "srv.example");
	assert_ptr_not_equal(c->routes[1].backends[0],
	    c->routes[0].backends[0]);
	assert_ptr_equal(c->routes[2].backends[0], c->routes[0].backends[0]);
	assert_string_equal(c->upstream.tls.ca, "/ca.pem");
	assert_true(c->upstream.tls.certificate[0] == '/');
	assert_int_equal(c->upstream.tls.ca_line, 15);
	assert_int_equal(c->upstream.tls.key_line, 15);
	conf_put(c);
	c = NULL;

	assert_int_equal(load_text(
	    "listen:\n"						/* 1 */
	    "  - address: 127.0.0.1:8443\n"			/* 2 */
	    "routes:\n"						/* 3 */
	    "  - path: /a/\n"					/* 4 */
	    "    auth: none\n"					/* 5 */
	    "    backends: [http://127.0.0.1:9002, https://127.0.0.1:9001]\n"
	    "  - path: /b/\n"					/* 7 */
	    "    auth: none\n"					/* 8 */
	    "    backends: [http://127.0.0.1:9002]\n"		/* 9 */
	    "    tls_server_name: srv.example\n"			/* 10 */
	    "upstream:\n"					/* 11 */
	    "  tls: {certificate: /c.pem}\n",			/* 12 */
	    &c, &errs), -1);
	assert_null(c);
	assert_true(has_err(&errs, 6, 39, "routes[0].backends[1]: "
	    "'https://127.0.0.1:9001' is an https backend: set "
	    "upstream.tls.ca"));
	assert_true(has_err(&errs, 10, 22, "routes[1].tls_server_name: has "
	    "no effect without an https:// backend"));
	assert_true(has_err(&errs, 12, 8, "upstream.tls: certificate and "
	    "key go together"));
	conf_errs_free(&errs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conf__fixtures_ok_load),
		cmocka_unit_test(test_conf__fixtures_bad_report_first_error),
		cmocka_unit_test(test_conf__collects_every_error),
		cmocka_unit_test(test_conf__defaults),
		cmocka_unit_test(test_conf__units_and_values),
		cmocka_unit_test(test_conf__parse_duration),
		cmocka_unit_test(test_conf__parse_size),
		cmocka_unit_test(test_conf__parse_cidr),
		cmocka_unit_test(test_conf__relative_paths_resolved),
		cmocka_unit_test(test_conf__backends_shared),
		cmocka_unit_test(test_conf__ipv6_and_names),
		cmocka_unit_test(test_conf__routes_compiled),
		cmocka_unit_test(test_conf__regex_literal_prefix),
		cmocka_unit_test(test_conf__route_name_truncated),
		cmocka_unit_test(test_conf__refcount),
		cmocka_unit_test(test_conf__missing_and_empty_file),
		cmocka_unit_test(test_conf__errs_print_format),
		cmocka_unit_test(test_conf__https_backends),
		cmocka_unit_test(test_conf__examples_load),
		cmocka_unit_test(test_conf__production_example_uses_every_key),
		cmocka_unit_test(test_conf__keys_documented_in_readme),
	};

	return (cmocka_run_group_tests_name("conf", tests, group_setup,
	    group_teardown));
}
