/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * Backend name resolution (see resolve.h): the address sets, their
 * lookup when a generation is built, the background refresh on the main
 * thread and its metrics.  Lookups go through libevent's evdns (its
 * getaddrinfo, which also reads /etc/hosts), never through the blocking
 * libc resolver, so no thread ever waits on DNS outside resolve_new().
 * Nothing here touches workers: they take snapshots with resolve_get()
 * when told (server.c's changed callback), and upstream.c drains the
 * addresses that left.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>

#include "base/xalloc.h"
#include "conf/conf.h"
#include "proxy/log.h"
#include "proxy/resolve.h"
#include "proxy/util.h"

/* Per-query evdns settings: a dead resolver costs at most 2 x 2 s. */
#define RESOLVE_TIMEOUT		"2"
#define RESOLVE_ATTEMPTS	"2"
/* Bound of a whole resolve_new() run, in seconds. */
#define RESOLVE_SYNC_MAX_S	10

/* ------------------------------------------------------------------ */
/* Address sets                                                        */
/* ------------------------------------------------------------------ */

struct resolve_set *
resolve_set_new(void)
{
	struct resolve_set	*s = xcalloc(1, sizeof(*s));

	s->refs = 1;
	return (s);
}

struct resolve_set *
resolve_set_get(struct resolve_set *s)
{
	if (s != NULL)
		__atomic_add_fetch(&s->refs, 1, __ATOMIC_ACQ_REL);
	return (s);
}

void
resolve_set_put(struct resolve_set *s)
{
	if (s != NULL && __atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL) ==
	    0)
		free(s);
}

/* Order of two addresses: family, then the address bytes, then port, so
 * that a set does not change when a server rotates its answers. */
static int
addr_cmp(const struct sockaddr *a, const struct sockaddr *b)
{
	const struct sockaddr_in	*a4, *b4;
	const struct sockaddr_in6	*a6, *b6;
	int				 c;

	if (a->sa_family != b->sa_family)
		return (a->sa_family < b->sa_family ? -1 : 1);
	if (a->sa_family == AF_INET) {
		a4 = (const struct sockaddr_in *)(const void *)a;
		b4 = (const struct sockaddr_in *)(const void *)b;
		c = memcmp(&a4->sin_addr, &b4->sin_addr, sizeof(a4->sin_addr));
		if (c == 0)
			c = memcmp(&a4->sin_port, &b4->sin_port, 2);
		return (c);
	}
	a6 = (const struct sockaddr_in6 *)(const void *)a;
	b6 = (const struct sockaddr_in6 *)(const void *)b;
	c = memcmp(&a6->sin6_addr, &b6->sin6_addr, sizeof(a6->sin6_addr));
	if (c == 0)
		c = memcmp(&a6->sin6_port, &b6->sin6_port, 2);
	if (c == 0 && a6->sin6_scope_id != b6->sin6_scope_id)
		c = a6->sin6_scope_id < b6->sin6_scope_id ? -1 : 1;
	return (c);
}

int
resolve_set_add(struct resolve_set *s, const struct sockaddr *sa,
    socklen_t len)
{
	size_t	 i;
	int	 c = 1;

	if ((sa->sa_family != AF_INET || len < sizeof(struct sockaddr_in)) &&
	    (sa->sa_family != AF_INET6 || len < sizeof(struct sockaddr_in6)))
		return (-1);
	if (len > sizeof(s->addr[0]))
		return (-1);
	for (i = 0; i < s->n; i++) {
		c = addr_cmp(sa, (const struct sockaddr *)&s->addr[i]);
		if (c <= 0)
			break;
	}
	if (c == 0)
		return (0);		/* already there */
	if (s->n == RESOLVE_MAX_ADDRS)
		return (-1);
	memmove(&s->addr[i + 1], &s->addr[i], (s->n - i) * sizeof(s->addr[0]));
	memmove(&s->len[i + 1], &s->len[i], (s->n - i) * sizeof(s->len[0]));
	memset(&s->addr[i], 0, sizeof(s->addr[i]));
	memcpy(&s->addr[i], sa, len);
	s->len[i] = len;
	s->n++;
	return (0);
}

int
resolve_set_has(const struct resolve_set *s, const struct sockaddr *sa,
    socklen_t len)
{
	size_t	 i;

	if (s == NULL || (sa->sa_family != AF_INET &&
	    sa->sa_family != AF_INET6))
		return (0);
	for (i = 0; i < s->n; i++)
		if (addr_cmp(sa, (const struct sockaddr *)&s->addr[i]) == 0)
			return (1);
	return (0);
}

int
resolve_set_equal(const struct resolve_set *a, const struct resolve_set *b)
{
	size_t	 na = a ? a->n : 0, nb = b ? b->n : 0, i;

	if (na != nb)
		return (0);
	/* Both sorted: equal sets are equal element by element. */
	for (i = 0; i < na; i++)
		if (addr_cmp((const struct sockaddr *)&a->addr[i],
		    (const struct sockaddr *)&b->addr[i]) != 0)
			return (0);
	return (1);
}

/* ------------------------------------------------------------------ */
/* Generations' name tables                                            */
/* ------------------------------------------------------------------ */

struct resolve *
resolve_ref(struct resolve *r)
{
	if (r != NULL)
		__atomic_add_fetch(&r->refs, 1, __ATOMIC_ACQ_REL);
	return (r);
}

void
resolve_put(struct resolve *r)
{
	size_t	 i;

	if (r == NULL || __atomic_sub_fetch(&r->refs, 1, __ATOMIC_ACQ_REL))
		return;
	for (i = 0; i < r->n; i++)
		resolve_set_put(r->names[i].set);
	free(r->names);
	conf_put(r->conf);
	pthread_mutex_destroy(&r->mtx);
	free(r);
}

struct resolve_set *
resolve_get(struct resolve *r, size_t id)
{
	struct resolve_set	*s;

	pthread_mutex_lock(&r->mtx);
	s = resolve_set_get(r->names[id].set);
	pthread_mutex_unlock(&r->mtx);
	return (s);
}

/* Replace backend i's set by s (taking s's reference); returns 1 when
 * the addresses changed. */
static int
resolve_swap(struct resolve *r, size_t i, struct resolve_set *s)
{
	struct resolve_set	*old;

	pthread_mutex_lock(&r->mtx);
	old = r->names[i].set;
	if (resolve_set_equal(old, s)) {
		pthread_mutex_unlock(&r->mtx);
		resolve_set_put(s);
		return (0);
	}
	r->names[i].set = s;
	pthread_mutex_unlock(&r->mtx);
	resolve_set_put(old);
	return (1);
}

/* An evdns base for cf's resolvers, on base; NULL with err filled. */
static struct evdns_base *
dns_new(struct event_base *base, const struct conf *cf, char *err,
    size_t errlen)
{
	struct evdns_base	*d;
	size_t			 i;

	if (cf->upstream.nresolvers == 0) {
		/* resolv.conf's servers and options, and /etc/hosts. */
		d = evdns_base_new(base, EVDNS_BASE_INITIALIZE_NAMESERVERS);
		if (d == NULL) {
			snprintf(err, errlen, "cannot read /etc/resolv.conf");
			return (NULL);
		}
	} else {
		if ((d = evdns_base_new(base, 0)) == NULL) {
			snprintf(err, errlen, "cannot set up DNS");
			return (NULL);
		}
		for (i = 0; i < cf->upstream.nresolvers; i++) {
			if (evdns_base_nameserver_ip_add(d,
			    cf->upstream.resolvers[i]) != 0) {
				snprintf(err, errlen, "cannot use resolver %s",
				    cf->upstream.resolvers[i]);
				evdns_base_free(d, 0);
				return (NULL);
			}
		}
		/* Local names (localhost) still come from /etc/hosts. */
		(void)evdns_base_load_hosts(d, NULL);
	}
	(void)evdns_base_set_option(d, "timeout:", RESOLVE_TIMEOUT);
	(void)evdns_base_set_option(d, "attempts:", RESOLVE_ATTEMPTS);
	/* Names are not dotted-searched: a backend name is meant as is. */
	(void)evdns_base_set_option(d, "ndots:", "0");
	return (d);
}

/* One lookup of backend i's name. */
struct rq {
	struct resolve		*r;		/* one reference */
	size_t			 i;
	struct resolve_set	*got;		/* answers so far */
	int			 result;	/* EVUTIL_EAI_* or 0 */
	int			 done;
	int			 sync;		/* resolve_new()'s */
	int			*pending;	/* sync: lookups not done */
	struct event_base	*base;		/* sync: loop to break */
};

static void	rq_apply(struct rq *);

static void
rq_cb(int result, struct evutil_addrinfo *res, void *arg)
{
	struct rq		*q = arg;
	struct evutil_addrinfo	*ai;

	q->result = result;
	for (ai = res; ai != NULL; ai = ai->ai_next)
		(void)resolve_set_add(q->got, ai->ai_addr,
		    (socklen_t)ai->ai_addrlen);
	if (res != NULL)
		evutil_freeaddrinfo(res);
	q->done = 1;
	if (q->sync) {
		if (--*q->pending == 0)
			event_base_loopbreak(q->base);
		return;
	}
	rq_apply(q);
}

/* Start a lookup; the callback may run before this returns. */
static void
rq_start(struct evdns_base *d, struct rq *q)
{
	const struct conf_backend *b = &q->r->conf->backends[q->i];
	struct evutil_addrinfo	 hints;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	hints.ai_flags = EVUTIL_AI_NUMERICSERV;
	(void)evdns_getaddrinfo(d, b->host, b->port, &hints, rq_cb, q);
}

/* prev's set for the backend with b's URL, with a reference, or NULL;
 * *good_at gets the time of its answer. */
static struct resolve_set *
prev_set(const struct resolve *prev, const struct conf_backend *b,
    uint64_t *good_at)
{
	size_t	 i;

	if (prev == NULL)
		return (NULL);
	for (i = 0; i < prev->n; i++) {
		if (strcmp(prev->conf->backends[i].url, b->url) != 0)
			continue;
		*good_at = prev->names[i].good_at;
		return (resolve_get((struct resolve *)(uintptr_t)prev, i));
	}
	return (NULL);
}

static void
sync_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	event_base_loopbreak(arg);
}

struct resolve *
resolve_new(struct conf *cf, const struct resolve *prev, char *err,
    size_t errlen)
{
	struct resolve		*r;
	struct event_base	*base = NULL;
	struct evdns_base	*d = NULL;
	struct event		*tmo = NULL;
	struct rq		*q = NULL;
	struct resolve_set	*s;
	const struct conf_backend *b;
	struct timeval		 tv = { RESOLVE_SYNC_MAX_S, 0 };
	char			 why[160] = "";
	size_t			 i, k, nnames = 0;
	int			 pending = 0, ok = 0;

	r = xcalloc(1, sizeof(*r));
	r->refs = 1;
	pthread_mutex_init(&r->mtx, NULL);
	r->conf = conf_get(cf);
	r->n = cf->nbackends;
	r->names = xcalloc(r->n ? r->n : 1, sizeof(*r->names));
	q = xcalloc(r->n ? r->n : 1, sizeof(*q));
	for (i = 0; i < r->n; i++) {
		b = &cf->backends[i];
		if (b->literal) {
			r->names[i].literal = 1;
			r->names[i].set = resolve_set_new();
			(void)resolve_set_add(r->names[i].set,
			    (const struct sockaddr *)&b->addr, b->addrlen);
			r->names[i].good_at = clock_now_us();
		} else
			nnames++;
	}
	for (i = 0; i < r->n; i++) {
		q[i].r = r;	/* borrowed: r outlives the loop */
		q[i].i = i;
		q[i].got = resolve_set_new();
		q[i].sync = 1;
		q[i].pending = &pending;
	}
	/* No DNS at all (a bad resolv.conf, say) fails every name, which
	 * then keeps the running generation's addresses if it can. */
	if (nnames > 0 && ((base = event_base_new()) == NULL ||
	    (d = dns_new(base, cf, why, sizeof(why))) == NULL)) {
		if (base == NULL)
			snprintf(why, sizeof(why), "cannot set up DNS");
	} else if (nnames > 0) {
		tmo = evtimer_new(base, sync_timeout_cb, base);
		evtimer_add(tmo, &tv);
		pending = 1;	/* held until every lookup is started */
		for (i = 0; i < r->n; i++) {
			if (r->names[i].literal)
				continue;
			q[i].base = base;
			pending++;
			rq_start(d, &q[i]);
		}
		if (--pending > 0)
			event_base_dispatch(base);
		/* Whatever is still pending fails now (callbacks run). */
		evdns_base_free(d, 1);
		d = NULL;
	}
	for (i = 0; i < r->n; i++) {
		b = &cf->backends[i];
		if (r->names[i].literal)
			continue;
		/* The failure counter is the name's, across reloads. */
		for (k = 0; prev != NULL && k < prev->n; k++)
			if (strcmp(prev->conf->backends[k].url, b->url) == 0)
				r->names[i].failures = prev->names[k].failures;
		if (q[i].got->n > 0) {
			r->names[i].set = q[i].got;
			q[i].got = NULL;
			r->names[i].good_at = clock_now_us();
			continue;
		}
		r->names[i].failures++;
		r->names[i].failing = 1;
		if ((s = prev_set(prev, b, &r->names[i].good_at)) != NULL &&
		    s->n > 0) {
			/* Keep serving what the running generation had. */
			log_warn("backend %s: cannot resolve '%s' (%s); "
			    "keeping its %zu last known address(es)", b->url,
			    b->host, why[0] != '\0' ? why : q[i].done ?
			    evutil_gai_strerror(q[i].result) : "timeout",
			    s->n);
			r->names[i].set = s;
			continue;
		}
		resolve_set_put(s);
		snprintf(err, errlen, "%s:%d:%d: backend '%s': cannot resolve "
		    "'%s': %s", cf->path, b->line, b->col, b->url, b->host,
		    why[0] != '\0' ? why : q[i].done && q[i].result != 0 ?
		    evutil_gai_strerror(q[i].result) : "no address");
		goto done;
	}
	ok = 1;
done:
	for (i = 0; i < r->n; i++)
		resolve_set_put(q[i].got);
	free(q);
	if (d != NULL)
		evdns_base_free(d, 0);
	if (tmo != NULL)
		event_free(tmo);
	if (base != NULL)
		event_base_free(base);
	if (!ok) {
		for (i = 0; i < r->n; i++)
			if (r->names[i].set == NULL)
				r->names[i].set = resolve_set_new();
		resolve_put(r);
		return (NULL);
	}
	return (r);
}

/* ------------------------------------------------------------------ */
/* Background refresh (main thread)                                    */
/* ------------------------------------------------------------------ */

static struct {
	struct event_base	*base;
	struct evdns_base	*dns;
	struct event		*timer;
	char			 key[1024];	/* resolvers dns was made for */
	struct resolve		*(*current)(void);
	void			 (*changed)(void);
} bg;

/* The resolvers of cf as one string, to notice a change on reload. */
static void
resolvers_key(const struct conf *cf, char *key, size_t keylen)
{
	size_t	 i, off = 0;
	int	 n;

	key[0] = '\0';
	for (i = 0; i < cf->upstream.nresolvers; i++) {
		n = snprintf(key + off, keylen - off, "%s,",
		    cf->upstream.resolvers[i]);
		if (n < 0 || (size_t)n >= keylen - off)
			break;
		off += (size_t)n;
	}
}

/* A background answer for q: publish a changed set, or keep the old one
 * and count the failure.  Frees q. */
static void
rq_apply(struct rq *q)
{
	struct resolve		*r = q->r;
	struct resolve_name	*nm = &r->names[q->i];
	const struct conf_backend *b = &r->conf->backends[q->i];
	size_t			 n;

	nm->busy = 0;
	if (q->result == EVUTIL_EAI_CANCEL) {
		/* Shutdown or a resolver change, not the name's fault. */
	} else if (q->got->n > 0) {
		if (nm->failing)
			log_info("backend %s: '%s' resolves again", b->url,
			    b->host);
		nm->failing = 0;
		nm->good_at = clock_now_us();
		n = q->got->n;
		if (resolve_swap(r, q->i, q->got)) {
			log_info("backend %s: '%s' now has %zu address(es)",
			    b->url, b->host, n);
			if (bg.changed != NULL)
				bg.changed();
		}
		q->got = NULL;
	} else {
		/* Every failure counts; the log says it once per outage. */
		nm->failures++;
		if (!nm->failing)
			log_warn("backend %s: cannot resolve '%s' (%s); "
			    "keeping its last good address(es)", b->url,
			    b->host, q->result != 0 ?
			    evutil_gai_strerror(q->result) : "no address");
		nm->failing = 1;
	}
	resolve_set_put(q->got);
	resolve_put(r);
	free(q);
}

static void
bg_tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct resolve		*r;
	struct rq		*q;
	struct timeval		 tv;
	char			 key[sizeof(bg.key)], err[256];
	unsigned		 ms = 1000;
	size_t			 i;

	if ((r = bg.current != NULL ? bg.current() : NULL) == NULL)
		goto again;
	ms = r->conf->upstream.resolve_interval;
	for (i = 0; i < r->n && r->names[i].literal; i++)
		;
	if (i == r->n) {
		/* IP literals only: no DNS at all. */
		resolve_put(r);
		goto again;
	}
	resolvers_key(r->conf, key, sizeof(key));
	if (bg.dns != NULL && strcmp(key, bg.key) != 0) {
		evdns_base_free(bg.dns, 1);	/* cancels, callbacks run */
		bg.dns = NULL;
	}
	if (bg.dns == NULL) {
		if ((bg.dns = dns_new(bg.base, r->conf, err, sizeof(err))) ==
		    NULL) {
			log_warn("backend names: %s", err);
			resolve_put(r);
			goto again;
		}
		memcpy(bg.key, key, sizeof(bg.key));
	}
	for (i = 0; i < r->n; i++) {
		if (r->names[i].literal || r->names[i].busy)
			continue;
		r->names[i].busy = 1;
		q = xcalloc(1, sizeof(*q));
		q->r = resolve_ref(r);
		q->i = i;
		q->got = resolve_set_new();
		rq_start(bg.dns, q);
	}
	resolve_put(r);
again:
	clock_ms_tv(ms, &tv);
	evtimer_add(bg.timer, &tv);
}

int
resolve_start(struct event_base *base, struct resolve *(*current)(void),
    void (*changed)(void))
{
	struct resolve	*r;
	struct timeval	 tv;
	unsigned	 ms = 1000;

	bg.base = base;
	bg.current = current;
	bg.changed = changed;
	if ((bg.timer = evtimer_new(base, bg_tick_cb, NULL)) == NULL)
		return (-1);
	/* The generation was just resolved: the first refresh waits. */
	if ((r = current()) != NULL) {
		ms = r->conf->upstream.resolve_interval;
		resolve_put(r);
	}
	clock_ms_tv(ms, &tv);
	evtimer_add(bg.timer, &tv);
	return (0);
}

void
resolve_stop(void)
{
	if (bg.timer != NULL)
		event_free(bg.timer);
	bg.timer = NULL;
	if (bg.dns != NULL)
		evdns_base_free(bg.dns, 1);
	bg.dns = NULL;
	bg.changed = NULL;
	bg.current = NULL;
}

/* ------------------------------------------------------------------ */
/* Metrics                                                             */
/* ------------------------------------------------------------------ */

void
resolve_metrics(const struct resolve *r, struct evbuffer *out)
{
	uint64_t	 now = clock_now_us();
	size_t		 i;

	evbuffer_add_printf(out,
	    "# HELP gridfront_upstream_addresses Addresses a backend is "
	    "using (all A and AAAA records of its name).\n"
	    "# TYPE gridfront_upstream_addresses gauge\n");
	for (i = 0; r != NULL && i < r->n; i++) {
		/* Main thread: the only writer of set; no lock needed. */
		evbuffer_add_printf(out, "gridfront_upstream_addresses"
		    "{backend=\"%s\"} %zu\n", r->conf->backends[i].url,
		    r->names[i].set->n);
	}
	evbuffer_add_printf(out,
	    "# HELP gridfront_upstream_resolve_failures_total Lookups of a "
	    "backend host name that gave no address (the last good ones "
	    "were kept).\n"
	    "# TYPE gridfront_upstream_resolve_failures_total counter\n");
	for (i = 0; r != NULL && i < r->n; i++) {
		if (r->names[i].literal)
			continue;
		evbuffer_add_printf(out,
		    "gridfront_upstream_resolve_failures_total"
		    "{backend=\"%s\"} %llu\n", r->conf->backends[i].url,
		    (unsigned long long)r->names[i].failures);
	}
	evbuffer_add_printf(out,
	    "# HELP gridfront_upstream_resolve_age_seconds Seconds since "
	    "the last good DNS answer for a backend host name.\n"
	    "# TYPE gridfront_upstream_resolve_age_seconds gauge\n");
	for (i = 0; r != NULL && i < r->n; i++) {
		if (r->names[i].literal)
			continue;
		evbuffer_add_printf(out,
		    "gridfront_upstream_resolve_age_seconds"
		    "{backend=\"%s\"} %.3f\n", r->conf->backends[i].url,
		    (double)(now - r->names[i].good_at) / 1e6);
	}
}
