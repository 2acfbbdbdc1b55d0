/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * The main thread: it builds the first generation, starts the workers
 * (worker.c) and the admin endpoints (admin.c), then handles signals
 * (SIGTERM drain, SIGINT stop, SIGHUP reload, SIGUSR1 log reopen), polls
 * the files behind the auth context and the host certificates, and tells
 * workers about new generations (gen.c) through their pipes.  A reload
 * that fails validation leaves the old generation serving.
 *
 * Floor: the top of proxy/ with admin.c; only main.c includes server.h.
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <openssl/ssl.h>

#include "auth/auth.h"
#include "conf/conf.h"
#include "proxy/admin.h"
#include "proxy/expiry.h"
#include "proxy/gen.h"
#include "proxy/log.h"
#include "proxy/metrics.h"
#include "proxy/resolve.h"
#include "proxy/server.h"
#include "proxy/uptls.h"
#include "proxy/util.h"
#include "proxy/worker.h"

static struct worker	*workers;
static unsigned		 nworkers;
static struct event_base *main_base;
static struct event	*grace_ev;
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

static void
workers_tell(char cmd)
{
	unsigned	 i;

	for (i = 0; i < nworkers; i++)
		worker_tell(&workers[i], cmd);
}

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
	/* Two per listener, then upstream.tls's ca, certificate and key. */
	ncert_stamps = cf->nlisteners * 2 + 3;
	cert_stamps = xcalloc(ncert_stamps, sizeof(*cert_stamps));
	stamp_file(cf->upstream.tls.ca, &cert_stamps[ncert_stamps - 3]);
	stamp_file(cf->upstream.tls.certificate,
	    &cert_stamps[ncert_stamps - 2]);
	stamp_file(cf->upstream.tls.key, &cert_stamps[ncert_stamps - 1]);
	for (i = 0; i < cf->nlisteners; i++) {
		if (!cf->listeners[i].tls)
			continue;
		stamp_file(cf->listeners[i].certificate, &cert_stamps[2 * i]);
		stamp_file(cf->listeners[i].key, &cert_stamps[2 * i + 1]);
	}
}

/* 1 when an upstream.tls file of cf changed since the last stamps (a CA
 * directory: an entry added, removed or renamed). */
static int
uptls_stamps_changed(const struct conf *cf)
{
	struct filestamp now;
	const char	*up[3];
	size_t		 k;

	up[0] = cf->upstream.tls.ca;
	up[1] = cf->upstream.tls.certificate;
	up[2] = cf->upstream.tls.key;
	for (k = 0; k < 3; k++) {
		stamp_file(up[k], &now);
		if (memcmp(&now, &cert_stamps[ncert_stamps - 3 + k],
		    sizeof(now)) != 0)
			return (1);
	}
	return (0);
}

/* 1 when a listener's certificate or key changed, 2 when an upstream.tls
 * file did, else 0. */
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
	return (uptls_stamps_changed(cf) ? 2 : 0);
}

/* resolve.c's view of the generation in force: its address sets. */
static struct resolve *
server_resolve_current(void)
{
	struct gen	*g = gen_current();
	struct resolve	*r;

	if (g == NULL)
		return (NULL);
	r = resolve_ref(g->resolve);
	gen_put(g);
	return (r);
}

/* A backend's addresses changed: workers take a new snapshot. */
static void
server_resolve_changed(void)
{
	workers_tell(WORKER_CTL_DNS);
}

static void
publish_and_tell(struct gen *g)
{
	cert_stamps_take(g->conf);
	gen_publish(g);
	expiry_update(g->conf, g->auth != NULL, EXPIRY_HOSTS | EXPIRY_TRUST);
	metrics_config_reload(1, g->id);
	workers_tell(WORKER_CTL_RELOAD);
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
	    streq(a->hosts, b->hosts) &&
	    a->legacy_proxies == b->legacy_proxies &&
	    streq(a->authn_method, b->authn_method) &&
	    streq(a->trouble_url, b->trouble_url) &&
	    a->reload_interval == b->reload_interval &&
	    a->verify_cache_size == b->verify_cache_size &&
	    a->verify_cache_bytes == b->verify_cache_bytes &&
	    a->max_cert_list == b->max_cert_list &&
	    conf_tokens_equal(&a->tokens, &b->tokens));
}

/*
 * The new generation ng names the same upstream.tls files as old, and
 * they did not change: keep old's client context, so that pooled backend
 * connections and sessions survive the reload (a new context would retire
 * them all: a full handshake per pooled connection).
 */
static void
uptls_keep(struct gen *ng, const struct gen *old)
{
	const struct conf_upstream_tls *a = &old->conf->upstream.tls;
	const struct conf_upstream_tls *b = &ng->conf->upstream.tls;

	if (ng->uptls == NULL || old->uptls == NULL ||
	    !streq(a->ca, b->ca) || !streq(a->certificate, b->certificate) ||
	    !streq(a->key, b->key) || uptls_stamps_changed(old->conf))
		return;
	uptls_put(ng->uptls);
	ng->uptls = uptls_get(old->uptls);
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

	old = gen_current();
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
	if ((g = gen_new(cf, old->auth != NULL && gen_needs_auth(cf) &&
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
	uptls_keep(g, old);
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
	int		 bits = 0, changed;

	if (stopping || (g = gen_current()) == NULL)
		return;
	gen_trim();
	if (g->auth != NULL) {
		/* Verified chains nobody presents again leave memory. */
		(void)auth_ctx_purge(g->auth->ctx, time(NULL));
		bits = auth_ctx_refresh(g->auth->ctx, logbuf, sizeof(logbuf));
		if (bits & AUTH_RELOAD_FAILED) {
			log_error("file reload refused, old data kept: %s",
			    logbuf);
			metrics_file_reload("auth", 0);
		} else if (bits != 0) {
			log_info("reloaded:%s%s%s%s%s%s%s",
			    bits & AUTH_RELOAD_TRUST ? " trust store" : "",
			    bits & AUTH_RELOAD_USERS ? " users" : "",
			    bits & AUTH_RELOAD_BANNED ? " ban list" : "",
			    bits & AUTH_RELOAD_HMAC ? " hmac key" : "",
			    bits & AUTH_RELOAD_HOSTS ? " host list" : "",
			    logbuf[0] ? ": " : "", logbuf);
			metrics_file_reload("auth", 1);
		}
		if (bits & AUTH_RELOAD_USERS)
			gen_users_note(g->auth->ctx);
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
	if ((changed = cert_stamps_changed(g->conf)) != 0) {
		const char *file = changed == 2 ? "upstream_tls" :
		    "host_certificate";

		ng = gen_new(conf_get(g->conf), g->auth, err,
		    sizeof(err));
		if (ng == NULL) {
			conf_put(g->conf);
			log_error("%s reload refused, old one%s kept: %s",
			    changed == 2 ? "upstream.tls" : "host certificate",
			    changed == 2 ? "s" : "", err);
			metrics_file_reload(file, 0);
			/* log once per change */
			cert_stamps_take(g->conf);
		} else {
			uptls_keep(ng, g);
			log_info(changed == 2 ? "upstream.tls CA, certificate "
			    "or key reloaded" : "host certificate or key "
			    "reloaded");
			metrics_file_reload(file, 1);
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
	workers_tell(WORKER_CTL_QUIT);
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
		g = gen_current();
		log_info("SIGTERM: draining for at most %u ms",
		    g->conf->timeouts.shutdown_grace);
		clock_ms_tv(g->conf->timeouts.shutdown_grace, &tv);
		gen_put(g);
		util_sd_notify("STOPPING=1");
		workers_tell(WORKER_CTL_DRAIN);
		grace_ev = evtimer_new(main_base, grace_cb, NULL);
		evtimer_add(grace_ev, &tv);
		break;
	case SIGINT:
		log_info("SIGINT: stopping now");
		stopping = 1;
		workers_tell(WORKER_CTL_QUIT);
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
	if ((g = gen_new(cf, NULL, err, sizeof(err))) == NULL) {
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
	if (admin_start(main_base, cf, &stopping, err, sizeof(err)) == -1) {
		log_error("%s", err);
		return (1);
	}
	if (resolve_start(main_base, server_resolve_current,
	    server_resolve_changed) == -1)
		fatalx("cannot start the backend name resolver");

	nworkers = cf->workers ? cf->workers : util_ncpu();
	workers = xcalloc(nworkers, sizeof(*workers));
	admin_set_workers(workers, nworkers);
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
	clock_ms_tv(cf->auth.reload_interval, &tv);
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
			workers_tell(WORKER_CTL_QUIT);
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
	admin_set_workers(NULL, 0);
	free(workers);
	if (grace_ev)
		event_free(grace_ev);
	admin_stop();
	resolve_stop();
	event_base_free(main_base);
	gen_publish(NULL);
	free(cert_stamps);
	log_stop();
	return (exit_status);
}
