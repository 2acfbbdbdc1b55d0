/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * Command line: parse options, load the configuration and either check it
 * (-t), print route tooling output (--routes, --test-route), list the
 * configuration keys (--list-keys), or run the server in the foreground.
 * No proxy logic lives here.
 */

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/aps.h"
#include "conf/conf.h"
#include "conf/route.h"
#include "proxy/http.h"
#include "proxy/gen.h"
#include "proxy/log.h"
#include "proxy/server.h"
#include "proxy/tls.h"

#define GRIDFRONT_VERSION	"0.1.0"


static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: gridfront -c FILE            run in the foreground\n"
	    "       gridfront -t -c FILE         check the configuration\n"
	    "       gridfront --routes -c FILE   print routes in evaluation "
	    "order\n"
	    "       gridfront --test-route PATH [--method M] [--host H] "
	    "[--origin O] -c FILE\n"
	    "                                    show which route PATH takes\n"
	    "       gridfront --list-keys        print every configuration "
	    "key\n"
	    "       gridfront --import-aps FILE.json\n"
	    "                                    translate a Go APS config "
	    "to YAML\n"
	    "       gridfront --version\n");
}

static void
print_route(const struct conf_route *r)
{
	size_t	 i;

	printf("%u\t%s\t%s", r->id + 1, r->is_regex ? "regex" : "prefix",
	    r->path);
	if (r->has_rewrite)
		printf("\trewrite %s -> %s", r->rewrite_from, r->rewrite_to);
	printf("\tauth=%s", conf_auth_name(r->auth));
	if (r->allow_limited_proxy)
		printf("\tallow_limited_proxy");
	for (i = 0; i < r->nrequire_fqan; i++)
		printf("%s%s", i ? "," : "\trequire_fqan=", r->require_fqan[i]);
	if (r->flags & CONF_ROUTE_F_REDIRECT)
		printf("\tredirect=%u %s", r->redirect_status, r->redirect_to);
	printf("\tbackends=");
	for (i = 0; i < r->nbackends; i++)
		printf("%s%s", i ? "," : "", r->backends[i]->url);
	printf("\t(line %d)\n", r->line);
}

/* The request --test-route imagines, beside its target (issue 13). */
struct test_req {
	const char	*method;	/* --method, default GET */
	const char	*host;		/* --host, default the first listener */
	const char	*origin;	/* --origin, default none */
};

/* --test-route's report of issue 13's rules for route r: the Host a
 * backend is sent, methods, origin_check and a redirect's Location.
 * Returns 1 when the request would be refused or redirected. */
static int
test_route_rules(const struct conf_route *r, const char *mpath,
    const char *query, size_t qlen, const struct test_req *tr)
{
	char		 loc[4096];
	const char	*m = tr->method;
	size_t		 i, len;
	int		 unsafe, ret = 0;

	if (r->flags & CONF_ROUTE_F_QUERY)
		printf("query:    '%.*s' matches %s\n", query ? (int)qlen - 1 :
		    0, query ? query + 1 : "", r->query);
	if (r->flags & CONF_ROUTE_F_METHODS) {
		printf("methods:  %.*s", (int)strlen(r->allow_line) - 9,
		    r->allow_line + 7);
		if (!route_method_allowed(r, m, strlen(m))) {
			printf("; %s gets 405\n", m);
			return (1);
		}
		printf("; %s allowed\n", m);
	}
	if (r->flags & CONF_ROUTE_F_ORIGIN) {
		unsafe = strcmp(m, "GET") != 0 && strcmp(m, "HEAD") != 0 &&
		    strcmp(m, "OPTIONS") != 0;
		printf("origin:   %s unsafe methods; allowed:", "checked for");
		for (i = 0; i < r->nallowed_origins; i++)
			printf(" %s", r->allowed_origins[i]);
		if (r->nallowed_origins == 0)
			printf(" https://%s (the request's Host)",
			    tr->host ? tr->host : "HOST");
		if (!unsafe || tr->origin == NULL)
			printf("; %s %s passes\n", m, tr->origin == NULL ?
			    "without Origin" : "(a safe method)");
		else if (route_origin_allowed(r, tr->origin,
		    strlen(tr->origin), tr->host, tr->host ?
		    strlen(tr->host) : 0))
			printf("; %s with Origin %s passes\n", m, tr->origin);
		else {
			printf("; %s with Origin %s gets 403\n", m,
			    tr->origin);
			ret = 1;
		}
	}
	if (r->flags & CONF_ROUTE_F_REDIRECT) {
		switch (route_redirect(r, mpath, tr->host, tr->host ?
		    strlen(tr->host) : 0, query, qlen, loc, sizeof(loc),
		    &len)) {
		case ROUTE_REDIRECT_OK:
			printf("redirect: %u Location: %s\n",
			    r->redirect_status, loc);
			break;
		case ROUTE_REDIRECT_BAD_HOST:
			printf("redirect: 400 (no valid Host for $host; try "
			    "--host)\n");
			break;
		default:
			printf("redirect: 414 (target too long)\n");
			break;
		}
		return (1);
	}
	printf("host:     ");
	if (r->host_header == CONF_HOST_LITERAL)
		printf("%s (host_header)\n", r->host_literal);
	else if (r->host_header == CONF_HOST_CLIENT && tr->host != NULL)
		printf("%s (the client's, host_header: client)\n", tr->host);
	else {
		for (i = 0; i < r->nbackends; i++)
			printf("%s%.*s", i ? " or " : "",
			    (int)r->backends[i]->host_line_len - 8,
			    r->backends[i]->host_line + 6);
		printf(" (the backend's%s)\n", r->host_header ==
		    CONF_HOST_CLIENT ? "; host_header: client, no Host sent" :
		    "");
	}
	if (tr->host != NULL)
		printf("x-forwarded-host: %s\n", tr->host);
	return (ret);
}

static int
test_route(const struct conf *cf, const char *target,
    const struct test_req *tr)
{
	const struct conf_route	*r;
	struct http_error	 herr;
	char			 up[65540], path[65540], bare[65540];
	char			 qscratch[65540];
	const char		*query, *mpath;
	size_t			 i, plen, qlen, nallow = 0, nserve = 0;

	/* Route what the proxy would route: the normalised path, no query. */
	if (http_path_normalize(target, strlen(target), path, sizeof(path),
	    &plen, &query, &qlen, &herr) == -1) {
		printf("%s: gridfront answers %d: %s\n", target, herr.status,
		    herr.reason);
		return (1);
	}
	/* Path parameters, as conn.c treats them (listen.allow_path_params):
	 * refused, or removed for routing, policy and rewrite. */
	mpath = path;
	if (memchr(path, ';', plen) != NULL) {
		/* A redirect_https listener only redirects. */
		for (i = 0; i < cf->nlisteners; i++) {
			nserve += !cf->listeners[i].redirect_https;
			nallow += !cf->listeners[i].redirect_https &&
			    cf->listeners[i].allow_path_params;
		}
		if (nallow == 0) {
			printf("%s: gridfront answers 400: parameters (';') "
			    "in path\n", path);
			return (1);
		}
		(void)http_path_strip_params(path, plen, bare);
		mpath = bare;
	}
	if ((r = route_match_query(cf, mpath, query ? query + 1 : NULL,
	    query ? qlen - 1 : 0, qscratch, sizeof(qscratch))) == NULL) {
		printf("%s: no route matches: gridfront answers 404\n", mpath);
		return (1);
	}
	printf("path:     %s\n", path);
	if (strcmp(path, target) != 0)
		printf("request:  %s (normalised to the path above)\n", target);
	if (mpath != path) {
		printf("params:   removed for routing: %s", mpath);
		if (nallow < nserve)
			printf(" (allow_path_params is on for %zu of %zu "
			    "listeners; the others answer 400)", nallow,
			    nserve);
		printf("\n");
	}
	printf("route:    #%u %s (%s, line %d)\n", r->id + 1, r->path,
	    r->is_regex ? "regex" : "prefix", r->line);
	if (test_route_rules(r, mpath, query, qlen, tr) != 0) {
		printf("auth:     %s\n", conf_auth_name(r->auth));
		return (1);
	}
	if (route_rewrite(r, r->has_rewrite ? mpath : path, up,
	    sizeof(up)) < 0)
		printf("upstream: (rewritten path too long)\n");
	else
		printf("upstream: %s%s%.*s\n", up[0] == '/' ? "" : "/", up,
		    (int)qlen, query ? query : "");
	printf("backends:");
	for (i = 0; i < r->nbackends; i++)
		printf(" %s", r->backends[i]->url);
	printf("\nauth:     %s%s", conf_auth_name(r->auth),
	    r->allow_limited_proxy ? ", limited proxies allowed" : "");
	for (i = 0; i < r->nrequire_fqan; i++)
		printf("%s%s", i ? " or " : ", requires VOMS ",
		    r->require_fqan[i]);
	for (i = 0; i < r->nallow_from; i++)
		printf("%s", i ? "" : ", address allow-list set");
	printf("\n");
	return (0);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "test", no_argument, NULL, 't' },
		{ "routes", no_argument, NULL, 'R' },
		{ "test-route", required_argument, NULL, 'T' },
		{ "method", required_argument, NULL, 'M' },
		{ "host", required_argument, NULL, 'H' },
		{ "origin", required_argument, NULL, 'O' },
		{ "list-keys", no_argument, NULL, 'K' },
		{ "import-aps", required_argument, NULL, 'I' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct conf	*cf = NULL;
	struct conf_errs errs = { 0 };
	struct gen	*g;
	const char	*path = NULL, *testpath = NULL;
	struct test_req	 tr = { "GET", NULL, NULL };
	char		 err[512] = "";
	int		 ch, check = 0, routes = 0;
	size_t		 i;

	while ((ch = getopt_long(argc, argv, "c:thV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 't':
			check = 1;
			break;
		case 'R':
			routes = 1;
			break;
		case 'T':
			testpath = optarg;
			break;
		case 'M':
			tr.method = optarg;
			break;
		case 'H':
			tr.host = optarg;
			break;
		case 'O':
			tr.origin = optarg;
			break;
		case 'K':
			conf_keys_print(stdout);
			return (0);
		case 'I':
			if (aps_import(optarg, stdout, err,
			    sizeof(err)) == -1) {
				fprintf(stderr, "%s\n", err);
				return (1);
			}
			return (0);
		case 'V':
			printf("gridfront %s\n", GRIDFRONT_VERSION);
			return (0);
		case 'h':
			usage(stdout);
			return (0);
		default:
			usage(stderr);
			return (2);
		}
	}
	if (path == NULL || optind != argc) {
		usage(stderr);
		return (2);
	}
	tls_init();
	if (conf_load(path, &cf, &errs) == -1) {
		conf_errs_print(&errs, stderr);
		fprintf(stderr, "%s: %zu error(s); configuration refused\n",
		    path, errs.n);
		conf_errs_free(&errs);
		return (1);
	}
	conf_errs_free(&errs);
	if (routes) {
		for (i = 0; i < cf->nroutes; i++)
			print_route(&cf->routes[i]);
		conf_put(cf);
		return (0);
	}
	if (testpath != NULL) {
		ch = test_route(cf, testpath, &tr);
		conf_put(cf);
		return (ch);
	}
	if (check) {
		/* Also load what the config points at: certificates, keys,
		 * the CA directory, the users file and the HMAC key. */
		if ((g = gen_new(cf, NULL, err, sizeof(err))) == NULL) {
			/* An error that names its own file:line:col
			 * (upstream.tls files) is printed as it is. */
			if (strncmp(err, cf->path, strlen(cf->path)) == 0 &&
			    err[strlen(cf->path)] == ':')
				fprintf(stderr, "%s\n", err);
			else
				fprintf(stderr, "%s: %s\n", path, err);
			conf_put(cf);
			return (1);
		}
		gen_put(g);
		printf("%s: configuration OK\n", path);
		return (0);
	}
	if (log_init(cf->log.error_log, cf->log.access_log, cf->log.level) ==
	    -1) {
		fprintf(stderr, "%s: cannot open log files: %s\n", path,
		    strerror(errno));
		conf_put(cf);
		return (1);
	}
	return (server_run(cf));
}
