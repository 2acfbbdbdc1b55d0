/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * The admin HTTP endpoints on the main thread's event base: /metrics,
 * /healthz and /readyz, GET and HEAD only.  For /metrics it gathers each
 * worker's metrics block and pools and the auth statistics of the
 * generation in force, and hands them to metrics_render() as plain values.
 * Moved out of server.c, which keeps the main thread only.
 *
 * Floor: beside server.c, above worker.c and gen.c; metrics.c is below
 * it and never calls back up.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>

#include "auth/auth.h"
#include "conf/conf.h"
#include "proxy/admin.h"
#include "proxy/gen.h"
#include "proxy/log.h"
#include "proxy/metrics.h"
#include "proxy/resolve.h"
#include "proxy/util.h"
#include "proxy/worker.h"

static struct evhttp	*admin_http;
static const int	*admin_stopping;	/* server.c's flag */
static struct worker	*admin_workers;
static unsigned		 admin_nworkers;

/* ------------------------------------------------------------------ */
/* Admin endpoints                                                     */
/* ------------------------------------------------------------------ */

/*
 * /metrics: each worker's metrics block and pools as metrics.c's plain
 * sources, and the auth statistics of the generation in force as plain
 * values, so that metrics.c needs neither struct worker nor generations.
 */
static void
admin_metrics(struct evbuffer *out)
{
	struct metrics_source	*src;
	struct auth_stats	 st;
	struct gen		*g;
	unsigned		 i;

	src = xcalloc(admin_nworkers ? admin_nworkers : 1, sizeof(*src));
	for (i = 0; i < admin_nworkers; i++) {
		src[i].m = admin_workers[i].m;
		src[i].pools = admin_workers[i].up.allpools;
	}
	g = gen_current();
	if (g != NULL && g->auth != NULL)
		auth_ctx_stats(g->auth->ctx, &st);
	metrics_render(src, admin_nworkers, g != NULL && g->auth != NULL ?
	    &st : NULL, g != NULL && g->auth != NULL ? g->auth->ctx : NULL,
	    out);
	resolve_metrics(g != NULL ? g->resolve : NULL, out);
	gen_put(g);
	free(src);
}

static void
admin_cb(struct evhttp_request *req, void *arg)
{
	struct evbuffer	*out = evhttp_request_get_output_buffer(req);
	const char	*path = evhttp_uri_get_path(
			    evhttp_request_get_evhttp_uri(req));
	struct evkeyvalq *oh = evhttp_request_get_output_headers(req);
	struct gen	*g;
	struct auth_stats st;
	int		 ready;
	int		 stopping = admin_stopping != NULL && *admin_stopping;

	if (path == NULL)
		path = "/";
	if (evhttp_request_get_command(req) != EVHTTP_REQ_GET &&
	    evhttp_request_get_command(req) != EVHTTP_REQ_HEAD) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Allow", "GET, HEAD");
		evhttp_send_error(req, 405, "Method Not Allowed");
		return;
	}
	evhttp_add_header(oh, "Cache-Control", "no-store");
	if (strcmp(path, "/metrics") == 0) {
		evhttp_add_header(oh, "Content-Type",
		    "text/plain; version=0.0.4; charset=utf-8");
		admin_metrics(out);
		evhttp_send_reply(req, 200, "OK", NULL);
	} else if (strcmp(path, "/healthz") == 0) {
		evhttp_add_header(oh, "Content-Type", "text/plain");
		evbuffer_add_printf(out, "ok\n");
		evhttp_send_reply(req, 200, "OK", NULL);
	} else if (strcmp(path, "/readyz") == 0) {
		evhttp_add_header(oh, "Content-Type", "text/plain");
		g = gen_current();
		ready = (g != NULL && !stopping);
		if (ready && g->auth != NULL) {
			auth_ctx_stats(g->auth->ctx, &st);
			ready = st.ready;
		}
		if (ready) {
			evbuffer_add_printf(out, "ready: generation %llu\n",
			    (unsigned long long)g->id);
			evhttp_send_reply(req, 200, "OK", NULL);
		} else {
			evbuffer_add_printf(out, "not ready%s\n", stopping ?
			    ": shutting down" : ": auth data not loaded");
			evhttp_send_reply(req, 503, "Service Unavailable",
			    NULL);
		}
		gen_put(g);
	} else
		evhttp_send_error(req, 404, "Not Found");
}

/* See admin.h. */
int
admin_start(struct event_base *main_base, const struct conf *cf,
    const int *stopping, char *err, size_t errlen)
{
	struct evconnlistener *lev;

	admin_stopping = stopping;
	if (cf->admin.address == NULL)
		return (0);
	if ((admin_http = evhttp_new(main_base)) == NULL)
		goto fail;
	lev = evconnlistener_new_bind(main_base, NULL, NULL,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC,
	    64, (const struct sockaddr *)&cf->admin.addr,
	    (int)cf->admin.addrlen);
	if (lev == NULL)
		goto fail;
	if (evhttp_bind_listener(admin_http, lev) == NULL)
		goto fail;
	/* Every method reaches admin_cb, which answers 405 itself. */
	evhttp_set_allowed_methods(admin_http, EVHTTP_REQ_GET |
	    EVHTTP_REQ_HEAD | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
	    EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH |
	    EVHTTP_REQ_TRACE | EVHTTP_REQ_CONNECT);
	evhttp_set_timeout(admin_http, 10);
	evhttp_set_gencb(admin_http, admin_cb, NULL);
	log_info("admin endpoints on %s", cf->admin.address);
	return (0);
fail:
	snprintf(err, errlen, "cannot listen on admin address %s: %s",
	    cf->admin.address, strerror(errno));
	return (-1);
}

/* See admin.h. */
void
admin_set_workers(struct worker *ws, unsigned n)
{
	admin_workers = ws;
	admin_nworkers = n;
}

/* See admin.h. */
void
admin_stop(void)
{
	if (admin_http != NULL)
		evhttp_free(admin_http);
	admin_http = NULL;
}
