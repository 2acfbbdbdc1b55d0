/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * The server: generations, worker threads and the main thread's duties.
 * Workers each run an event_base with their own SO_REUSEPORT listeners and
 * share nothing on the request path; the main thread handles signals
 * (SIGTERM drain, SIGINT stop, SIGHUP reload, SIGUSR1 log reopen), polls
 * the files behind the auth context, serves the admin endpoints and tells
 * workers about new generations through a pipe each.  A reload that fails
 * validation leaves the old generation serving.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>
#include <openssl/ssl.h>

#include "auth/auth.h"
#include "conf/conf.h"
#include "proxy/access.h"
#include "proxy/bodybuf.h"
#include "proxy/conn.h"
#include "proxy/expiry.h"
#include "proxy/log.h"
#include "proxy/metrics.h"
#include "proxy/server.h"
#include "proxy/tls.h"
#include "proxy/upstream.h"
#include "proxy/util.h"

#define CTL_RELOAD	'R'
#define CTL_DRAIN	'T'
#define CTL_QUIT	'Q'

static struct worker	*workers;
static unsigned		 nworkers;
static pthread_mutex_t	 gen_mtx = PTHREAD_MUTEX_INITIALIZER;
static struct gen	*cur_gen;
static uint64_t		 gen_seq;
static struct event_base *main_base;
static struct event	*grace_ev;
static struct evhttp	*admin_http;
static int		 stopping;
static int		 exit_status;

/* Files behind the TLS contexts, to rebuild them when they change. */
struct filestamp {
	dev_t	 dev;
	ino_t	 ino;
	off_t	 size;
	struct timespec mtime;
};
static struct filestamp	*cert_stamps;
static size_t		 ncert_stamps;

static void	worker_listeners_sync(struct worker *);

/* ------------------------------------------------------------------ */
/* Generations                                                         */
/* ------------------------------------------------------------------ */

struct gen *
gen_get(struct gen *g)
{
	if (g != NULL)
		__atomic_add_fetch(&g->refs, 1, __ATOMIC_ACQ_REL);
	return (g);
}

static void
authref_put(struct authref *a)
{
	if (a == NULL)
		return;
	if (__atomic_sub_fetch(&a->refs, 1, __ATOMIC_ACQ_REL) == 0) {
		auth_ctx_free(a->ctx);
		free(a);
	}
}

void
gen_put(struct gen *g)
{
	size_t	 i;

	if (g == NULL || __atomic_sub_fetch(&g->refs, 1, __ATOMIC_ACQ_REL))
		return;
	for (i = 0; i < g->conf->nlisteners; i++)
		SSL_CTX_free(g->sslctx[i]);
	free(g->sslctx);
	authref_put(g->auth);
	conf_put(g->conf);
	free(g);
}

/* Does any route need the auth context? */
static int
conf_needs_auth(const struct conf *cf)
{
	size_t	 i;

	if (cf->auth.ca_path != NULL)
		return (1);
	for (i = 0; i < cf->nroutes; i++)
		if (cf->routes[i].auth != CONF_AUTH_NONE)
			return (1);
	return (0);
}

/* Warn about CRIC records the users map in force had to refuse. */
static void
server_users_note(struct auth_ctx *ctx)
{
	char	 note[512];

	if (auth_ctx_users_note(ctx, note, sizeof(note)) > 0)
		log_warn("%s", note);
}

/* Warnings of the first auth load, one log line each. */
static void
server_log_notes(const char *notes)
{
	const char	*nl;

	while (*notes != '\0') {
		nl = strchr(notes, '\n');
		log_warn("auth: %.*s", nl != NULL ? (int)(nl - notes) :
		    (int)strlen(notes), notes);
		if (nl == NULL)
			break;
		notes = nl + 1;
	}
}

struct gen *
server_gen_new(struct conf *cf, struct authref *share, char *err,
    size_t errlen)
{
	struct gen	*g;
	size_t		 i;

	g = xcalloc(1, sizeof(*g));
	g->refs = 1;
	g->sslctx = xcalloc(cf->nlisteners, sizeof(SSL_CTX *));
	if (share != NULL) {
		__atomic_add_fetch(&share->refs, 1, __ATOMIC_ACQ_REL);
		g->auth = share;
	} else if (conf_needs_auth(cf)) {
		g->auth = xcalloc(1, sizeof(*g->auth));
		g->auth->refs = 1;
		if ((g->auth->ctx = auth_ctx_new(&cf->auth, err, errlen)) ==
		    NULL) {
			free(g->auth);
			g->auth = NULL;
			goto fail;
		}
		server_users_note(g->auth->ctx);
		server_log_notes(auth_ctx_notes(g->auth->ctx));
	}
	for (i = 0; i < cf->nlisteners; i++) {
		if (!cf->listeners[i].tls)
			continue;
		g->sslctx[i] = tls_server_ctx_new(&cf->listeners[i],
		    g->auth ? g->auth->ctx : NULL, err, errlen);
		if (g->sslctx[i] == NULL)
			goto fail;
	}
	g->conf = cf;
	g->id = __atomic_add_fetch(&gen_seq, 1, __ATOMIC_ACQ_REL);
	return (g);
fail:
	for (i = 0; i < cf->nlisteners; i++)
		SSL_CTX_free(g->sslctx[i]);
	free(g->sslctx);
	authref_put(g->auth);
	free(g);
	return (NULL);
}

struct gen *
server_current_gen(void)
{
	struct gen	*g;

	pthread_mutex_lock(&gen_mtx);
	g = gen_get(cur_gen);
	pthread_mutex_unlock(&gen_mtx);
	return (g);
}

static void
gen_publish(struct gen *g)
{
	struct gen	*old;

	pthread_mutex_lock(&gen_mtx);
	old = cur_gen;
	cur_gen = g;
	pthread_mutex_unlock(&gen_mtx);
	gen_put(old);
}

/* ------------------------------------------------------------------ */
/* Per-worker generation state                                         */
/* ------------------------------------------------------------------ */

static struct wgen *
wgen_new(struct worker *w, struct gen *g)
{
	struct wgen	*wg = xcalloc(1, sizeof(*wg));

	wg->refs = 1;
	wg->w = w;
	wg->gen = g;			/* takes the caller's reference */
	wg->pools = xcalloc(g->conf->nbackends, sizeof(struct pool *));
	wg->rr = xcalloc(g->conf->nroutes, sizeof(*wg->rr));
	/* Spread workers over backends from the first request on. */
	{
		size_t i;

		for (i = 0; i < g->conf->nroutes; i++)
			wg->rr[i] = w->id;
	}
	return (wg);
}

struct wgen *
wgen_get(struct wgen *wg)
{
	wg->refs++;
	return (wg);
}

void
wgen_put(struct wgen *wg)
{
	if (wg == NULL || --wg->refs > 0)
		return;
	gen_put(wg->gen);
	free(wg->pools);
	free(wg->rr);
	free(wg);
}

/* ------------------------------------------------------------------ */
/* Listeners                                                           */
/* ------------------------------------------------------------------ */

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
	wl->lev = evconnlistener_new_bind(w->base, conn_accept_cb, wl,
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
	const struct conf	*cf = w->wg->gen->conf;
	struct wlistener	*wl, *next;
	char			 err[256];
	size_t			 i;
	int			 found;

	for (wl = TAILQ_FIRST(&w->listeners); wl != NULL; wl = next) {
		next = TAILQ_NEXT(wl, entry);
		found = 0;
		for (i = 0; i < cf->nlisteners; i++) {
			if (strcmp(cf->listeners[i].address, wl->address) == 0 &&
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

void
server_conn_gone(struct worker *w)
{
	unsigned max = w->wg->gen->conf->limits.max_connections;

	if (w->draining) {
		if (w->nconns == 0)
			event_base_loopexit(w->base, NULL);
		return;
	}
	worker_accept_pause(w, w->nconns >= max);
}

/* ------------------------------------------------------------------ */
/* Worker threads                                                      */
/* ------------------------------------------------------------------ */

static void
worker_drain(struct worker *w)
{
	struct wlistener *wl;
	struct conn	 *c, *next;

	if (w->draining)
		return;
	w->draining = 1;
	while ((wl = TAILQ_FIRST(&w->listeners)) != NULL) {
		TAILQ_REMOVE(&w->listeners, wl, entry);
		listener_close(wl);
	}
	upstream_close_idle(w);
	for (c = TAILQ_FIRST(&w->conns); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		conn_drain(c);
	}
	if (w->nconns == 0)
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
		case CTL_RELOAD:
			if ((g = server_current_gen()) == NULL)
				break;
			if (g == w->wg->gen) {
				gen_put(g);
				break;
			}
			wgen_put(w->wg);
			w->wg = wgen_new(w, g);
			if (!w->draining)
				worker_listeners_sync(w);
			break;
		case CTL_DRAIN:
			worker_drain(w);
			break;
		case CTL_QUIT:
			event_base_loopbreak(w->base);
			break;
		}
	}
}

static void
worker_tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker	*w = arg;

	access_flush(w);
	metrics_body_buffer(w, w->bodybuf->used, w->bodybuf->waits);
}

static void *
worker_main(void *arg)
{
	struct worker	*w = arg;
	struct conn	*c;

	event_base_dispatch(w->base);
	/* Stop: whatever is left is closed now. */
	while ((c = TAILQ_FIRST(&w->conns)) != NULL)
		conn_close(c, "server stopped");
	access_flush(w);
	return (NULL);
}

static int
worker_setup(struct worker *w, unsigned id, struct gen *g, char *err,
    size_t errlen)
{
	struct event_config *ecfg;
	struct timeval	 tv = { 0, 200000 };

	w->id = id;
	TAILQ_INIT(&w->listeners);
	TAILQ_INIT(&w->conns);
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
	w->bodybuf = bodybuf_new(w->base);
	if (pipe2(w->ctl, O_NONBLOCK | O_CLOEXEC) == -1)
		goto fail;
	w->ctl_ev = event_new(w->base, w->ctl[0], EV_READ | EV_PERSIST,
	    worker_ctl_cb, w);
	event_add(w->ctl_ev, NULL);
	w->tick = event_new(w->base, -1, EV_PERSIST, worker_tick_cb, w);
	event_add(w->tick, &tv);
	w->wg = wgen_new(w, gen_get(g));
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

static void
worker_teardown(struct worker *w)
{
	struct wlistener *wl;
	struct xchg	 *x;

	while ((wl = TAILQ_FIRST(&w->listeners)) != NULL) {
		TAILQ_REMOVE(&w->listeners, wl, entry);
		listener_close(wl);
	}
	upstream_pools_free(w);
	while ((x = w->xfree) != NULL) {
		w->xfree = x->next;
		free(x->uphead.p);
		free(x->path);
		free(x->uppath);
		free(x->upscratch);
		if (x->body != NULL)
			evbuffer_free(x->body);
		free(x);
	}
	free(w->hbuf.p);
	w->hbuf.p = NULL;
	wgen_put(w->wg);
	w->wg = NULL;
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
	free(w->logbuf);
}

static void
workers_tell(char cmd)
{
	unsigned	 i;

	for (i = 0; i < nworkers; i++)
		(void)write(workers[i].ctl[1], &cmd, 1);
}

/* ------------------------------------------------------------------ */
/* Main thread: signals, reload, file watching                         */
/* ------------------------------------------------------------------ */

static void
stamp_file(const char *path, struct filestamp *st)
{
	struct stat	 sb;

	memset(st, 0, sizeof(*st));
	if (path != NULL && stat(path, &sb) == 0) {
		st->dev = sb.st_dev;
		st->ino = sb.st_ino;
		st->size = sb.st_size;
		st->mtime = sb.st_mtim;
	}
}

/* Remember the certificate and key files of every TLS listener. */
static void
cert_stamps_take(const struct conf *cf)
{
	size_t	 i;

	free(cert_stamps);
	ncert_stamps = cf->nlisteners * 2;
	cert_stamps = xcalloc(ncert_stamps ? ncert_stamps : 1,
	    sizeof(*cert_stamps));
	for (i = 0; i < cf->nlisteners; i++) {
		if (!cf->listeners[i].tls)
			continue;
		stamp_file(cf->listeners[i].certificate, &cert_stamps[2 * i]);
		stamp_file(cf->listeners[i].key, &cert_stamps[2 * i + 1]);
	}
}

static int
cert_stamps_changed(const struct conf *cf)
{
	struct filestamp now;
	size_t		 i, k;

	for (i = 0; i < cf->nlisteners; i++) {
		if (!cf->listeners[i].tls)
			continue;
		for (k = 0; k < 2; k++) {
			stamp_file(k ? cf->listeners[i].key :
			    cf->listeners[i].certificate, &now);
			if (memcmp(&now, &cert_stamps[2 * i + k],
			    sizeof(now)) != 0)
				return (1);
		}
	}
	return (0);
}

static void
publish_and_tell(struct gen *g)
{
	cert_stamps_take(g->conf);
	gen_publish(g);
	expiry_update(g->conf, g->auth != NULL, EXPIRY_HOSTS | EXPIRY_TRUST);
	metrics_config_reload(1, g->id);
	workers_tell(CTL_RELOAD);
}

static int
streq(const char *a, const char *b)
{
	return (a == b || (a != NULL && b != NULL && strcmp(a, b) == 0));
}

/* Same auth section: the running auth context (and its caches, counters
 * and TLS session state) can serve the new generation as it is. */
static int
conf_auth_equal(const struct conf_auth *a, const struct conf_auth *b)
{
	return (streq(a->ca_path, b->ca_path) &&
	    a->verify_depth == b->verify_depth &&
	    streq(a->vomsdir, b->vomsdir) && streq(a->users, b->users) &&
	    streq(a->banned, b->banned) && streq(a->hmac_key, b->hmac_key) &&
	    a->legacy_proxies == b->legacy_proxies &&
	    streq(a->authn_method, b->authn_method) &&
	    streq(a->trouble_url, b->trouble_url) &&
	    a->reload_interval == b->reload_interval &&
	    a->verify_cache_size == b->verify_cache_size &&
	    a->verify_cache_bytes == b->verify_cache_bytes &&
	    a->max_cert_list == b->max_cert_list &&
	    conf_tokens_equal(&a->tokens, &b->tokens));
}

/* SIGHUP: load, validate, build, swap; the old one stays on failure. */
static void
server_reload(void)
{
	struct gen	*old, *g;
	struct conf	*cf = NULL;
	struct conf_errs errs = { 0 };
	char		 err[512] = "";
	size_t		 i;

	old = server_current_gen();
	log_info("reloading %s", old->conf->path);
	if (conf_load(old->conf->path, &cf, &errs) == -1) {
		for (i = 0; i < errs.n; i++)
			log_error("%s:%d:%d: %s", errs.v[i].file,
			    errs.v[i].line, errs.v[i].col, errs.v[i].msg);
		log_error("reload refused: %zu error(s); the previous "
		    "configuration stays in force", errs.n);
		conf_errs_free(&errs);
		metrics_config_reload(0, 0);
		gen_put(old);
		return;
	}
	if ((g = server_gen_new(cf, old->auth != NULL && conf_needs_auth(cf) &&
	    conf_auth_equal(&old->conf->auth, &cf->auth) ? old->auth : NULL,
	    err, sizeof(err))) == NULL) {
		log_error("reload refused: %s; the previous configuration "
		    "stays in force", err);
		conf_put(cf);
		metrics_config_reload(0, 0);
		gen_put(old);
		return;
	}
	if (log_init(cf->log.error_log, cf->log.access_log, cf->log.level) ==
	    -1)
		log_error("cannot reopen log files: %s", strerror(errno));
	publish_and_tell(g);
	log_info("configuration generation %llu in force",
	    (unsigned long long)g->id);
	gen_put(old);
}

/* Periodic: auth files, and the host certificates of TLS listeners. */
static void
main_watch_cb(evutil_socket_t fd, short what, void *arg)
{
	struct gen	*g, *ng;
	char		 logbuf[2048] = "", err[512] = "";
	int		 bits = 0;

	if (stopping || (g = server_current_gen()) == NULL)
		return;
	if (g->auth != NULL) {
		/* Verified chains nobody presents again leave memory. */
		(void)auth_ctx_purge(g->auth->ctx, time(NULL));
		bits = auth_ctx_refresh(g->auth->ctx, logbuf, sizeof(logbuf));
		if (bits & AUTH_RELOAD_FAILED) {
			log_error("file reload refused, old data kept: %s",
			    logbuf);
			metrics_file_reload("auth", 0);
		} else if (bits != 0) {
			log_info("reloaded:%s%s%s%s%s%s",
			    bits & AUTH_RELOAD_TRUST ? " trust store" : "",
			    bits & AUTH_RELOAD_USERS ? " users" : "",
			    bits & AUTH_RELOAD_BANNED ? " ban list" : "",
			    bits & AUTH_RELOAD_HMAC ? " hmac key" : "",
			    logbuf[0] ? ": " : "", logbuf);
			metrics_file_reload("auth", 1);
		}
		if (bits & AUTH_RELOAD_USERS)
			server_users_note(g->auth->ctx);
		if (bits & AUTH_RELOAD_TRUST) {
			/* Sessions cached under the old trust must not
			 * resume: drop them. */
			size_t i;

			for (i = 0; i < g->conf->nlisteners; i++)
				if (g->sslctx[i] != NULL)
					SSL_CTX_flush_sessions(g->sslctx[i],
					    0x7fffffffL);
		}
	}
	if (cert_stamps_changed(g->conf)) {
		ng = server_gen_new(conf_get(g->conf), g->auth, err,
		    sizeof(err));
		if (ng == NULL) {
			conf_put(g->conf);
			log_error("host certificate reload refused, old one "
			    "kept: %s", err);
			metrics_file_reload("host_certificate", 0);
			cert_stamps_take(g->conf);	/* log once per change */
		} else {
			log_info("host certificate or key reloaded");
			metrics_file_reload("host_certificate", 1);
			publish_and_tell(ng);
		}
	}
	/* File ages always; the CA walk only when the trust store changed. */
	expiry_update(g->conf, g->auth != NULL, g->auth != NULL &&
	    bits & AUTH_RELOAD_TRUST ? EXPIRY_TRUST : 0);
	gen_put(g);
}

static void
grace_cb(evutil_socket_t fd, short what, void *arg)
{
	log_warn("shutdown grace period over: closing what is left");
	workers_tell(CTL_QUIT);
}

static void
signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct timeval	 tv;
	struct gen	*g;

	switch (sig) {
	case SIGTERM:
		if (stopping)
			break;
		stopping = 1;
		g = server_current_gen();
		log_info("SIGTERM: draining for at most %u ms",
		    g->conf->timeouts.shutdown_grace);
		util_ms_tv(g->conf->timeouts.shutdown_grace, &tv);
		gen_put(g);
		util_sd_notify("STOPPING=1");
		workers_tell(CTL_DRAIN);
		grace_ev = evtimer_new(main_base, grace_cb, NULL);
		evtimer_add(grace_ev, &tv);
		break;
	case SIGINT:
		log_info("SIGINT: stopping now");
		stopping = 1;
		workers_tell(CTL_QUIT);
		break;
	case SIGHUP:
		if (!stopping) {
			util_sd_notify("RELOADING=1");
			server_reload();
			util_sd_notify("READY=1");
		}
		break;
	case SIGUSR1:
		log_reopen();
		break;
	}
}

/* ------------------------------------------------------------------ */
/* Admin endpoints                                                     */
/* ------------------------------------------------------------------ */

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
		metrics_render(workers, nworkers, out);
		evhttp_send_reply(req, 200, "OK", NULL);
	} else if (strcmp(path, "/healthz") == 0) {
		evhttp_add_header(oh, "Content-Type", "text/plain");
		evbuffer_add_printf(out, "ok\n");
		evhttp_send_reply(req, 200, "OK", NULL);
	} else if (strcmp(path, "/readyz") == 0) {
		evhttp_add_header(oh, "Content-Type", "text/plain");
		g = server_current_gen();
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

static int
admin_start(const struct conf *cf, char *err, size_t errlen)
{
	struct evconnlistener *lev;

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

/* ------------------------------------------------------------------ */
/* Run                                                                 */
/* ------------------------------------------------------------------ */

int
server_run(struct conf *cf)
{
	struct event	*sig[5], *watch;
	struct gen	*g;
	struct timeval	 tv;
	sigset_t	 set, old;
	char		 err[512] = "";
	unsigned	 i;
	int		*joined;
	int		 signos[5] = { SIGTERM, SIGINT, SIGHUP, SIGUSR1, 0 };

	signal(SIGPIPE, SIG_IGN);
	if ((g = server_gen_new(cf, NULL, err, sizeof(err))) == NULL) {
		log_error("%s", err);
		conf_put(cf);
		return (1);
	}
	gen_publish(g);
	cert_stamps_take(cf);
	expiry_update(cf, g->auth != NULL, EXPIRY_HOSTS | EXPIRY_TRUST);
	metrics_config_generation(g->id);
	if ((main_base = event_base_new()) == NULL)
		fatalx("event_base_new failed");
	if (admin_start(cf, err, sizeof(err)) == -1) {
		log_error("%s", err);
		return (1);
	}

	nworkers = cf->workers ? cf->workers : util_ncpu();
	workers = xcalloc(nworkers, sizeof(*workers));
	for (i = 0; i < nworkers; i++) {
		if (worker_setup(&workers[i], i, g, err, sizeof(err)) == -1) {
			log_error("%s", err);
			nworkers = i + 1;
			exit_status = 1;
			goto out;
		}
	}
	/* Workers take no signals; the main thread handles them all. */
	sigfillset(&set);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	for (i = 0; i < nworkers; i++)
		pthread_create(&workers[i].thread, NULL, worker_main,
		    &workers[i]);
	pthread_sigmask(SIG_SETMASK, &old, NULL);

	for (i = 0; signos[i] != 0; i++) {
		sig[i] = evsignal_new(main_base, signos[i], signal_cb, NULL);
		evsignal_add(sig[i], NULL);
	}
	sig[i] = NULL;
	util_ms_tv(cf->auth.reload_interval, &tv);
	if (tv.tv_sec == 0 && tv.tv_usec == 0)
		tv.tv_sec = 5;
	watch = event_new(main_base, -1, EV_PERSIST, main_watch_cb, NULL);
	event_add(watch, &tv);
	log_start();
	fprintf(stderr, "gridfront: ready (%u workers, generation %llu)\n",
	    nworkers, (unsigned long long)g->id);
	fflush(stderr);
	util_sd_notify("READY=1");

	/*
	 * Run the main loop in 100 ms slices and reap workers between them;
	 * it ends when every worker has finished.
	 */
	joined = xcalloc(nworkers, sizeof(*joined));
	for (;;) {
		int	 alive = 0, died = 0;

		tv.tv_sec = 0;
		tv.tv_usec = 100000;
		event_base_loopexit(main_base, &tv);
		event_base_dispatch(main_base);
		for (i = 0; i < nworkers; i++) {
			if (joined[i])
				continue;
			if (pthread_tryjoin_np(workers[i].thread, NULL) == 0) {
				joined[i] = 1;
				died = 1;
			} else
				alive = 1;
		}
		if (!alive)
			break;
		if (died && !stopping) {
			log_error("a worker exited on its own; stopping");
			stopping = 1;
			exit_status = 1;
			workers_tell(CTL_QUIT);
		}
	}
	free(joined);
	for (i = 0; signos[i] != 0; i++)
		event_free(sig[i]);
	event_free(watch);
	log_info("stopped");
out:
	for (i = 0; i < nworkers; i++)
		worker_teardown(&workers[i]);
	free(workers);
	if (grace_ev)
		event_free(grace_ev);
	if (admin_http)
		evhttp_free(admin_http);
	event_base_free(main_base);
	gen_publish(NULL);
	free(cert_stamps);
	log_stop();
	return (exit_status);
}
