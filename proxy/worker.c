/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * Worker threads and their listeners (see worker.h): set-up and teardown
 * of a worker's event base, pipe and timers, the listeners kept in step
 * with the worker's generation (with httpd's EMFILE back-off), accept
 * pausing at max_connections, drain and the commands of the main thread.
 * Each module's per-worker part is freed by that module.  Moved out of
 * server.c, which keeps the main thread only.
 *
 * Floor: above the client sessions (conn.c accepts on a worker's
 * listener) and generations; below server.c and admin.c.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "conf/conf.h"
#include "proxy/access.h"
#include "proxy/bodybuf.h"
#include "proxy/conn.h"
#include "proxy/forward.h"
#include "proxy/gen.h"
#include "proxy/h2.h"
#include "proxy/log.h"
#include "proxy/metrics.h"
#include "proxy/upstream.h"
#include "proxy/util.h"
#include "proxy/worker.h"
#include "proxy/xchg.h"

static void	worker_listeners_sync(struct worker *);

/* ------------------------------------------------------------------ */
/* Listeners                                                           */
/* ------------------------------------------------------------------ */

/* A listener accepted fd: hand it to a new client connection. */
static void
listener_accept_cb(struct evconnlistener *lev, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct wlistener *wl = arg;

	conn_accept(&wl->w->cw, wl->idx, fd, sa, salen);
}

static void
listener_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	struct wlistener *wl = arg;

	if (!wl->w->accept_paused)
		evconnlistener_enable(wl->lev);
}

static void
listener_error_cb(struct evconnlistener *lev, void *arg)
{
	struct wlistener *wl = arg;
	struct timeval	  tv = { 1, 0 };
	int		  e = EVUTIL_SOCKET_ERROR();

	/*
	 * Out of descriptors: stop accepting for a second instead of
	 * spinning on a listener that stays readable (httpd's back-off).
	 */
	log_warn("accept on %s: %s; pausing 1 s", wl->address, strerror(e));
	evconnlistener_disable(lev);
	evtimer_add(wl->retry, &tv);
}

static struct wlistener *
listener_open(struct worker *w, const struct conf_listener *cl, int idx,
    char *err, size_t errlen)
{
	struct wlistener *wl = xcalloc(1, sizeof(*wl));

	wl->w = w;
	wl->address = xstrdup(cl->address);
	wl->tls = cl->tls;
	wl->idx = idx;
	wl->lev = evconnlistener_new_bind(w->base, listener_accept_cb, wl,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE |
	    LEV_OPT_REUSEABLE_PORT | LEV_OPT_CLOSE_ON_EXEC, 1024,
	    (const struct sockaddr *)&cl->addr, (int)cl->addrlen);
	if (wl->lev == NULL) {
		snprintf(err, errlen, "cannot listen on %s: %s", cl->address,
		    strerror(errno));
		free(wl->address);
		free(wl);
		return (NULL);
	}
	evconnlistener_set_error_cb(wl->lev, listener_error_cb);
	wl->retry = evtimer_new(w->base, listener_retry_cb, wl);
	if (w->accept_paused)
		evconnlistener_disable(wl->lev);
	return (wl);
}

static void
listener_close(struct wlistener *wl)
{
	evconnlistener_free(wl->lev);
	event_free(wl->retry);
	free(wl->address);
	free(wl);
}

/*
 * Make the worker's listeners match its current generation: keep those
 * whose address and kind are unchanged, open new ones, close the rest.
 * Bind failures are logged; the others keep serving.
 */
static void
worker_listeners_sync(struct worker *w)
{
	const struct conf	*cf = w->cw.wg->gen->conf;
	struct wlistener	*wl, *next;
	char			 err[256];
	size_t			 i;
	int			 found;

	for (wl = TAILQ_FIRST(&w->listeners); wl != NULL; wl = next) {
		next = TAILQ_NEXT(wl, entry);
		found = 0;
		for (i = 0; i < cf->nlisteners; i++) {
			if (strcmp(cf->listeners[i].address,
			    wl->address) == 0 &&
			    cf->listeners[i].tls == wl->tls) {
				wl->idx = (int)i;
				found = 1;
				break;
			}
		}
		if (!found) {
			TAILQ_REMOVE(&w->listeners, wl, entry);
			if (w->id == 0)
				log_info("no longer listening on %s",
				    wl->address);
			listener_close(wl);
		}
	}
	for (i = 0; i < cf->nlisteners; i++) {
		found = 0;
		TAILQ_FOREACH(wl, &w->listeners, entry) {
			/*
			 * Closed listeners were unlinked before being freed;
			 * the analyzer does not see that TAILQ_REMOVE did it.
			 */
			/* NOLINTNEXTLINE(clang-analyzer-unix.Malloc) */
			if (wl->idx == (int)i &&
			    strcmp(wl->address, cf->listeners[i].address) == 0)
				found = 1;
		}
		if (found)
			continue;
		if ((wl = listener_open(w, &cf->listeners[i], (int)i, err,
		    sizeof(err))) == NULL) {
			log_error("%s", err);
			continue;
		}
		if (w->id == 0)
			log_info("listening on %s%s", cf->listeners[i].address,
			    cf->listeners[i].tls ? " (TLS)" : "");
		TAILQ_INSERT_TAIL(&w->listeners, wl, entry);
	}
}

static void
worker_accept_pause(struct worker *w, int pause)
{
	struct wlistener *wl;

	if (w->accept_paused == pause)
		return;
	w->accept_paused = pause;
	TAILQ_FOREACH(wl, &w->listeners, entry) {
		if (pause)
			evconnlistener_disable(wl->lev);
		else
			evconnlistener_enable(wl->lev);
	}
}

/*
 * A connection of w is gone (conn.c calls this through w->cw.gone):
 * resume accepting if it was paused, and finish a drain.  (Was
 * server_conn_gone.)
 */
static void
worker_conn_gone(void *arg)
{
	struct worker	*w = arg;
	unsigned max = w->cw.wg->gen->conf->limits.max_connections;

	if (w->cw.draining) {
		if (w->cw.nconns == 0)
			event_base_loopexit(w->base, NULL);
		return;
	}
	worker_accept_pause(w, w->cw.nconns >= max);
}

/* ------------------------------------------------------------------ */
/* Worker threads                                                      */
/* ------------------------------------------------------------------ */

static void
worker_drain(struct worker *w)
{
	struct wlistener *wl;
	struct conn	 *c, *next;

	if (w->cw.draining)
		return;
	w->cw.draining = 1;
	while ((wl = TAILQ_FIRST(&w->listeners)) != NULL) {
		TAILQ_REMOVE(&w->listeners, wl, entry);
		listener_close(wl);
	}
	w->up.draining = 1;
	upstream_close_idle(&w->up);
	for (c = TAILQ_FIRST(&w->cw.conns); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		conn_drain(c);
	}
	if (w->cw.nconns == 0)
		event_base_loopexit(w->base, NULL);
}

static void
worker_ctl_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker	*w = arg;
	struct gen	*g;
	char		 cmd[16];
	ssize_t		 n, i;

	if ((n = read(fd, cmd, sizeof(cmd))) <= 0)
		return;
	for (i = 0; i < n; i++) {
		switch (cmd[i]) {
		case WORKER_CTL_RELOAD:
			if ((g = gen_current()) == NULL)
				break;
			if (g == w->cw.wg->gen) {
				gen_put(g);
				break;
			}
			wgen_put(w->cw.wg);
			w->cw.wg = wgen_new(w, w->id, g);
			if (!w->cw.draining)
				worker_listeners_sync(w);
			/* Addresses the new generation lacks are drained. */
			upstream_retire_unused(&w->up, w->cw.wg->eps,
			    w->cw.wg->gen->conf->nbackends);
			break;
		case WORKER_CTL_DNS:
			wgen_refresh(w->cw.wg);
			upstream_retire_unused(&w->up, w->cw.wg->eps,
			    w->cw.wg->gen->conf->nbackends);
			break;
		case WORKER_CTL_DRAIN:
			worker_drain(w);
			break;
		case WORKER_CTL_QUIT:
			event_base_loopbreak(w->base);
			break;
		}
	}
}

static void
worker_tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker	*w = arg;

	access_flush(&w->al);
	metrics_body_buffer(w->m, w->bodybuf->used, w->bodybuf->waits);
}

/* See worker.h. */
void *
worker_main(void *arg)
{
	struct worker	*w = arg;
	struct conn	*c;

	event_base_dispatch(w->base);
	/* Stop: whatever is left is closed now. */
	while ((c = TAILQ_FIRST(&w->cw.conns)) != NULL)
		conn_close(c, "server stopped");
	access_flush(&w->al);
	return (NULL);
}

/* See worker.h. */
int
worker_setup(struct worker *w, unsigned id, struct gen *g, char *err,
    size_t errlen)
{
	struct event_config *ecfg;
	struct timeval	 tv = { 0, 200000 };

	w->id = id;
	TAILQ_INIT(&w->listeners);
	TAILQ_INIT(&w->cw.conns);
	w->m = metrics_worker_new();
	/* One thread per base: no locking inside libevent. */
	if ((ecfg = event_config_new()) == NULL)
		goto fail;
	event_config_set_flag(ecfg, EVENT_BASE_FLAG_NOLOCK);
	/* Coalesce enable/disable churn into one epoll_ctl per fd and loop
	 * iteration (cio avoids most of it; the admin evhttp does not). */
	event_config_set_flag(ecfg, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
	w->base = event_base_new_with_config(ecfg);
	event_config_free(ecfg);
	if (w->base == NULL)
		goto fail;
	w->up.base = w->base;
	w->bodybuf = bodybuf_new(w->base);
	w->fw.bodybuf = w->bodybuf;
	w->fw.up = &w->up;
	w->fw.m = w->m;
	w->cw.base = w->base;
	w->cw.bodybuf = w->bodybuf;
	w->cw.fw = &w->fw;
	w->cw.al = &w->al;
	w->cw.m = w->m;
	w->cw.h2 = h2_worker_new();
	w->cw.gone = worker_conn_gone;
	w->cw.gone_arg = w;
	if (pipe2(w->ctl, O_NONBLOCK | O_CLOEXEC) == -1)
		goto fail;
	w->ctl_ev = event_new(w->base, w->ctl[0], EV_READ | EV_PERSIST,
	    worker_ctl_cb, w);
	event_add(w->ctl_ev, NULL);
	w->tick = event_new(w->base, -1, EV_PERSIST, worker_tick_cb, w);
	event_add(w->tick, &tv);
	w->cw.wg = wgen_new(w, id, gen_get(g));
	worker_listeners_sync(w);
	if (TAILQ_EMPTY(&w->listeners)) {
		snprintf(err, errlen, "worker %u: no listener could be opened",
		    id);
		return (-1);
	}
	return (0);
fail:
	snprintf(err, errlen, "worker %u: setup failed: %s", id,
	    strerror(errno));
	return (-1);
}

/* See worker.h. */
void
worker_teardown(struct worker *w)
{
	struct wlistener *wl;

	while ((wl = TAILQ_FIRST(&w->listeners)) != NULL) {
		TAILQ_REMOVE(&w->listeners, wl, entry);
		listener_close(wl);
	}
	upstream_pools_free(&w->up);
	xchg_cache_free(&w->cw.xc);
	forward_worker_free(&w->fw);
	h2_worker_free(w->cw.h2);
	w->cw.h2 = NULL;
	wgen_put(w->cw.wg);
	w->cw.wg = NULL;
	if (w->ctl_ev)
		event_free(w->ctl_ev);
	if (w->tick)
		event_free(w->tick);
	close(w->ctl[0]);
	close(w->ctl[1]);
	bodybuf_free(w->bodybuf);
	w->bodybuf = NULL;
	if (w->base)
		event_base_free(w->base);
	metrics_worker_free(w->m);
	access_worker_free(&w->al);
}

/* See worker.h. */
void
worker_tell(struct worker *w, char cmd)
{
	(void)write(w->ctl[1], &cmd, 1);
}
