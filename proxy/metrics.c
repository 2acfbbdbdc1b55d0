/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * Metrics.  Each worker writes its own counters with no lock on the
 * connection path; per-request series (by route, method and status class,
 * and a latency histogram per route) live in small open-addressed tables
 * guarded by a per-worker mutex that only the scraper ever contends.  The
 * admin thread renders everything as Prometheus text, summing workers.
 * Called by conn.c, forward.c, worker.c and server.c; admin.c hands it
 * each worker's block and pools and the auth statistics as plain values,
 * so it never calls back up.  Knows nothing of sockets.
 */

#include <malloc.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>

#include "auth/auth.h"
#include "base/lit.h"
#include "conf/conf.h"
#include "proxy/expiry.h"
#include "proxy/log.h"
#include "proxy/metrics.h"
#include "proxy/upstream.h"
#include "proxy/util.h"

#define M_ROUTE_LEN	64
#define M_REQ_SLOTS	512
#define M_SPC_NBUCKETS	6
#define M_LAT_SLOTS	128
#define M_DENY_SLOTS	32
#define M_NBUCKETS	12
#define M_HS_NREASONS	7

/* Latency bucket bounds in seconds (Prometheus "le"). */
static const double lat_bounds[M_NBUCKETS] = {
	0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
	1.0, 5.0
};

/* Why TLS handshakes fail (tls_fail_reason(); "timeout" from conn.c). */
static const char *const hs_fail_names[M_HS_NREASONS] = {
	"protocol", "cipher", "certificate", "peer_alert", "eof", "timeout",
	"other"
};

static const char *const method_names[] = {
	"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "OTHER"
};

struct m_req {
	char		 route[M_ROUTE_LEN];
	uint8_t		 method;
	uint8_t		 cls;
	uint8_t		 proto;		/* METRICS_PROTO_* */
	uint64_t	 n;
};

struct m_lat {
	char		 route[M_ROUTE_LEN];
	uint64_t	 b[M_NBUCKETS];
	uint64_t	 count;
	double		 sum;
};

struct m_deny {
	const char	*reason;	/* static text from auth/ or conn.c */
	uint64_t	 n;
};

struct metrics_worker {
	pthread_mutex_t	 mtx;
	uint64_t	 conns_total;
	uint64_t	 conns_tls;
	uint64_t	 active;
	uint64_t	 hs_full;
	uint64_t	 hs_resumed;
	uint64_t	 hs_fail[M_HS_NREASONS];
	uint64_t	 bad_requests;
	uint64_t	 refused_method;	/* routes[].methods: 405 */
	uint64_t	 refused_origin;	/* routes[].origin_check: 403 */
	uint64_t	 requests;
	uint64_t	 bodybuf_bytes;	/* gauge, copied by the worker tick */
	uint64_t	 bodybuf_waits;
	uint64_t	 buf_peak;	/* most one exchange held buffered */
	uint64_t	 h2_conns;	/* connections that chose h2 */
	uint64_t	 h2_streams;	/* exchanges carried on h2 streams */
	uint64_t	 h2_floods;	/* GOAWAY ENHANCE_YOUR_CALM sent */
	/* Streams per ended h2 connection: a histogram over spc_bounds. */
	uint64_t	 h2_spc[M_SPC_NBUCKETS];
	uint64_t	 h2_spc_count, h2_spc_sum;
	struct m_req	 req[M_REQ_SLOTS];
	struct m_lat	 lat[M_LAT_SLOTS];
	struct m_deny	 deny[M_DENY_SLOTS];
};

/* Process-wide, written by the main thread. */
static uint64_t		 g_reloads, g_reload_failures, g_generation;
static pthread_mutex_t	 g_mtx = PTHREAD_MUTEX_INITIALIZER;
static struct {
	char		 what[32];
	uint64_t	 ok, fail;
} g_files[16];

struct metrics_worker *
metrics_worker_new(void)
{
	struct metrics_worker *m = xcalloc(1, sizeof(*m));

	pthread_mutex_init(&m->mtx, NULL);
	return (m);
}

void
metrics_worker_free(struct metrics_worker *m)
{
	if (m == NULL)
		return;
	pthread_mutex_destroy(&m->mtx);
	free(m);
}

#define INC(x)	__atomic_add_fetch(&(x), 1, __ATOMIC_RELAXED)
#define LOAD(x)	__atomic_load_n(&(x), __ATOMIC_RELAXED)

void
metrics_conn_open(struct metrics_worker *m, int tls, unsigned active)
{
	INC(m->conns_total);
	if (tls)
		INC(m->conns_tls);
	__atomic_store_n(&m->active, active, __ATOMIC_RELAXED);
}

void
metrics_buffered(struct metrics_worker *m, size_t n)
{
	/* Only this worker writes it: a plain compare is enough. */
	if (n > LOAD(m->buf_peak))
		__atomic_store_n(&m->buf_peak, (uint64_t)n, __ATOMIC_RELAXED);
}

void
metrics_conn_close(struct metrics_worker *m, unsigned active)
{
	__atomic_store_n(&m->active, active, __ATOMIC_RELAXED);
}

void
metrics_body_buffer(struct metrics_worker *m, uint64_t bytes, uint64_t waits)
{
	__atomic_store_n(&m->bodybuf_bytes, bytes, __ATOMIC_RELAXED);
	__atomic_store_n(&m->bodybuf_waits, waits, __ATOMIC_RELAXED);
}

void
metrics_handshake(struct metrics_worker *m, int resumed)
{
	if (resumed)
		INC(m->hs_resumed);
	else
		INC(m->hs_full);
}

void
metrics_handshake_fail(struct metrics_worker *m, const char *reason)
{
	size_t	 i;

	for (i = 0; i < M_HS_NREASONS - 1; i++)
		if (strcmp(reason, hs_fail_names[i]) == 0)
			break;
	INC(m->hs_fail[i]);
}

void
metrics_bad_request(struct metrics_worker *m)
{
	INC(m->bad_requests);
}

void
metrics_route_refusal(struct metrics_worker *m, int origin)
{
	if (origin)
		INC(m->refused_origin);
	else
		INC(m->refused_method);
}

void
metrics_h2_conn(struct metrics_worker *m)
{
	INC(m->h2_conns);
}

void
metrics_h2_stream(struct metrics_worker *m)
{
	INC(m->h2_streams);
}

void
metrics_h2_flood(struct metrics_worker *m)
{
	INC(m->h2_floods);
}

/* Upper bounds of the streams-per-connection buckets (+Inf is the count). */
static const uint64_t spc_bounds[M_SPC_NBUCKETS] = {
	1, 2, 10, 100, 1000, 10000
};

void
metrics_h2_conn_end(struct metrics_worker *m, uint64_t streams)
{
	unsigned	 b;

	for (b = 0; b < M_SPC_NBUCKETS; b++)
		if (streams <= spc_bounds[b]) {
			INC(m->h2_spc[b]);
			break;
		}
	__atomic_add_fetch(&m->h2_spc_sum, streams, __ATOMIC_RELAXED);
	INC(m->h2_spc_count);
}

static uint32_t
hash_str(const char *s, uint32_t h)
{
	while (*s != '\0')
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return (h);
}

static uint8_t
method_index(const char *m)
{
	size_t	 i;

	/* Fewer than 256 names: the index fits in a uint8_t. */
	for (i = 0; i < nitems(method_names) - 1; i++)
		if (strcmp(m, method_names[i]) == 0)
			return ((uint8_t)i);
	return ((uint8_t)(nitems(method_names) - 1));
}

void
metrics_request(struct metrics_worker *m, const char *route,
    const char *method, int status, int proto, uint64_t t_start)
{
	uint8_t		 meth = method_index(method), cls;
	uint32_t	 h, i, k;
	double		 secs;

	cls = (uint8_t)(status >= 100 && status < 600 ? status / 100 : 0);
	secs = (double)(clock_now_us() - t_start) / 1e6;
	INC(m->requests);
	pthread_mutex_lock(&m->mtx);
	h = hash_str(route, 2166136261u);
	for (k = 0; k < M_REQ_SLOTS; k++) {
		struct m_req *e = &m->req[(h + meth * 7 + cls * 131 +
		    (uint32_t)proto * 29 + k) % M_REQ_SLOTS];

		if (e->n == 0) {
			strncpy(e->route, route, M_ROUTE_LEN - 1);
			e->method = meth;
			e->cls = cls;
			e->proto = (uint8_t)proto;
		} else if (e->method != meth || e->cls != cls ||
		    e->proto != proto ||
		    strncmp(e->route, route, M_ROUTE_LEN - 1) != 0)
			continue;
		e->n++;
		break;
	}
	for (k = 0; k < M_LAT_SLOTS; k++) {
		struct m_lat *e = &m->lat[(h + k) % M_LAT_SLOTS];

		if (e->count == 0)
			strncpy(e->route, route, M_ROUTE_LEN - 1);
		else if (strncmp(e->route, route, M_ROUTE_LEN - 1) != 0)
			continue;
		for (i = 0; i < M_NBUCKETS; i++)
			if (secs <= lat_bounds[i])
				e->b[i]++;
		e->count++;
		e->sum += secs;
		break;
	}
	pthread_mutex_unlock(&m->mtx);
}

void
metrics_auth_deny(struct metrics_worker *m, const char *reason)
{
	unsigned	 k;

	pthread_mutex_lock(&m->mtx);
	for (k = 0; k < M_DENY_SLOTS; k++) {
		if (m->deny[k].reason == NULL)
			m->deny[k].reason = reason;
		if (m->deny[k].reason == reason ||
		    strcmp(m->deny[k].reason, reason) == 0) {
			m->deny[k].n++;
			break;
		}
	}
	pthread_mutex_unlock(&m->mtx);
}

void
metrics_config_reload(int ok, uint64_t generation)
{
	pthread_mutex_lock(&g_mtx);
	if (ok) {
		g_reloads++;
		g_generation = generation;
	} else
		g_reload_failures++;
	pthread_mutex_unlock(&g_mtx);
}

void
metrics_config_generation(uint64_t generation)
{
	pthread_mutex_lock(&g_mtx);
	g_generation = generation;
	pthread_mutex_unlock(&g_mtx);
}

void
metrics_file_reload(const char *what, int ok)
{
	unsigned	 k;

	pthread_mutex_lock(&g_mtx);
	for (k = 0; k < nitems(g_files); k++) {
		if (g_files[k].what[0] == '\0')
			strncpy(g_files[k].what, what,
			    sizeof(g_files[k].what) - 1);
		if (strcmp(g_files[k].what, what) == 0) {
			if (ok)
				g_files[k].ok++;
			else
				g_files[k].fail++;
			break;
		}
	}
	pthread_mutex_unlock(&g_mtx);
}

/* Escape a label value: backslash, quote and newline (text format). */
static void
label(struct evbuffer *out, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\' || *s == '"')
			evbuffer_add_printf(out, "\\%c", *s);
		else if (*s == '\n')
			evbuffer_add(out, "\\n", LIT_LEN("\\n"));
		else
			evbuffer_add(out, s, 1);
	}
}

static void
counter(struct evbuffer *out, const char *name, const char *help,
    const char *type, uint64_t v)
{
	evbuffer_add_printf(out, "# HELP %s %s\n# TYPE %s %s\n%s %llu\n",
	    name, help, name, type, name, (unsigned long long)v);
}

/* Bearer tokens (issue 14): cache, outcomes, and per issuer the key
 * set's age and reloads.  Nothing without auth.tokens. */
static void
metrics_tokens(struct evbuffer *out, const struct auth_ctx *ctx)
{
	struct auth_token_stats ts;
	const char	*iss;
	time_t		 loaded, now = time(NULL);
	uint64_t	 ok, bad;
	size_t		 i, n;

	auth_token_stats(ctx, &ts);
	if (ts.issuers == 0)
		return;
	counter(out, "gridfront_token_cache_hits_total",
	    "Bearer tokens found in the verified-token cache.", "counter",
	    ts.cache_hits);
	counter(out, "gridfront_token_cache_misses_total",
	    "Bearer tokens not in the verified-token cache.", "counter",
	    ts.cache_misses);
	counter(out, "gridfront_token_verified_total",
	    "Bearer tokens verified in full and accepted.", "counter",
	    ts.verified);
	counter(out, "gridfront_token_refused_total",
	    "Bearer tokens refused (the reason is in "
	    "gridfront_auth_denied_total).", "counter", ts.refused);
	evbuffer_add_printf(out, "# HELP gridfront_token_keys_age_seconds "
	    "Seconds since the key set in force of each token issuer was "
	    "read.\n# TYPE gridfront_token_keys_age_seconds gauge\n");
	n = auth_token_issuer_stats(ctx, 0, &iss, &loaded, &ok, &bad);
	for (i = 0; i < n; i++) {
		(void)auth_token_issuer_stats(ctx, i, &iss, &loaded, &ok, &bad);
		evbuffer_add_printf(out, "gridfront_token_keys_age_seconds"
		    "{issuer=\"");
		label(out, iss);
		evbuffer_add_printf(out, "\"} %lld\n", loaded > 0 ?
		    (long long)(now - loaded) : -1LL);
	}
	evbuffer_add_printf(out, "# HELP gridfront_token_keys_reloads_total "
	    "Key-set and subject-map loads per token issuer, by result.\n"
	    "# TYPE gridfront_token_keys_reloads_total counter\n");
	for (i = 0; i < n; i++) {
		(void)auth_token_issuer_stats(ctx, i, &iss, &loaded, &ok, &bad);
		evbuffer_add_printf(out, "gridfront_token_keys_reloads_total"
		    "{issuer=\"");
		label(out, iss);
		evbuffer_add_printf(out, "\",result=\"ok\"} %llu\n"
		    "gridfront_token_keys_reloads_total{issuer=\"",
		    (unsigned long long)ok);
		label(out, iss);
		evbuffer_add_printf(out, "\",result=\"failed\"} %llu\n",
		    (unsigned long long)bad);
	}
}

/* HostIP (auth.hosts): list size and outcomes.  Nothing without it. */
static void
metrics_hosts(struct evbuffer *out, const struct auth_ctx *ctx)
{
	uint64_t	 entries, ok, denied;

	if (!auth_host_stats(ctx, &entries, &ok, &denied))
		return;
	counter(out, "gridfront_auth_hosts", "Entries in the HostIP list in "
	    "force (auth.hosts).", "gauge", entries);
	evbuffer_add_printf(out, "# HELP gridfront_auth_host_total Requests "
	    "on auth: host and host_or_cert routes decided by the host list, "
	    "by result.\n# TYPE gridfront_auth_host_total counter\n"
	    "gridfront_auth_host_total{result=\"accepted\"} %llu\n"
	    "gridfront_auth_host_total{result=\"denied\"} %llu\n",
	    (unsigned long long)ok, (unsigned long long)denied);
}

/* A pool of a backend named by host name is one of its addresses: an
 * address label keeps the series apart (after backend's open quote). */
static void
pool_address_label(struct evbuffer *out, const struct pool *p)
{
	if (p->addrtext[0] != '\0')
		evbuffer_add_printf(out, "\",address=\"%s", p->addrtext);
}

/*
 * One counter family over every pool of every worker: the pool_stats
 * field at off (plus the one at off2, unless SIZE_MAX).
 */
static void
pool_series(struct evbuffer *out, const struct metrics_source *ws,
    unsigned n,
    const char *name, const char *help, size_t off, size_t off2)
{
	const struct pool *p;
	unsigned	 i;
	uint64_t	 v;

	evbuffer_add_printf(out, "# HELP %s %s\n# TYPE %s counter\n", name,
	    help, name);
	for (i = 0; i < n; i++) {
		for (p = ws[i].pools; p != NULL; p = p->next) {
			const char *st = (const char *)&p->st;

			v = LOAD(*(const uint64_t *)(const void *)(st + off));
			if (off2 != SIZE_MAX)
				v += LOAD(*(const uint64_t *)
				    (const void *)(st + off2));
			evbuffer_add_printf(out, "%s{worker=\"%u\",backend=\"",
			    name, i);
			label(out, p->name);
			pool_address_label(out, p);
			evbuffer_add_printf(out, "\"} %llu\n",
			    (unsigned long long)v);
		}
	}
}

/*
 * Memory: the most bytes one exchange has held in buffers (what the
 * watermarks bound), and the allocator's view of the whole process, so
 * RSS can be told apart from memory in use (allocator retention).
 */
static void
mem_series(struct evbuffer *out, const struct metrics_source *ws, unsigned n)
{
	struct mallinfo2 mi = mallinfo2();
	uint64_t	 peak = 0, v;
	unsigned	 i;

	for (i = 0; i < n; i++)
		if ((v = LOAD(ws[i].m->buf_peak)) > peak)
			peak = v;
	counter(out, "gridfront_exchange_buffered_peak_bytes",
	    "Most bytes one exchange has held in its client and backend "
	    "buffers (TLS records included) since start.", "gauge", peak);
	counter(out, "gridfront_heap_inuse_bytes",
	    "Heap bytes allocated and not freed (mallinfo2).", "gauge",
	    (uint64_t)(mi.uordblks + mi.hblkhd));
	counter(out, "gridfront_heap_free_bytes",
	    "Heap bytes freed but kept by the allocator (mallinfo2).",
	    "gauge", (uint64_t)mi.fordblks);
}

void
metrics_render(const struct metrics_source *ws, unsigned n,
    const struct auth_stats *ast, const struct auth_ctx *actx,
    struct evbuffer *out)
{
	uint64_t	 ct = 0, ctls = 0, act = 0, hf = 0, hr = 0;
	uint64_t	 hfail[M_HS_NREASONS] = { 0 };
	uint64_t	 bad = 0, reqs = 0, bbytes = 0, bwaits = 0;
	uint64_t	 rmeth = 0, rorig = 0;
	uint64_t	 h2c = 0, h2s = 0, h2f = 0;
	uint64_t	 spc[M_SPC_NBUCKETS] = { 0 }, spcn = 0, spcs = 0;
	unsigned	 i, k, j, b;

	for (i = 0; i < n; i++) {
		struct metrics_worker *m = ws[i].m;

		ct += LOAD(m->conns_total);
		ctls += LOAD(m->conns_tls);
		act += LOAD(m->active);
		hf += LOAD(m->hs_full);
		hr += LOAD(m->hs_resumed);
		for (k = 0; k < M_HS_NREASONS; k++)
			hfail[k] += LOAD(m->hs_fail[k]);
		bad += LOAD(m->bad_requests);
		rmeth += LOAD(m->refused_method);
		rorig += LOAD(m->refused_origin);
		reqs += LOAD(m->requests);
		bbytes += LOAD(m->bodybuf_bytes);
		bwaits += LOAD(m->bodybuf_waits);
		h2c += LOAD(m->h2_conns);
		h2s += LOAD(m->h2_streams);
		h2f += LOAD(m->h2_floods);
		for (b = 0; b < M_SPC_NBUCKETS; b++)
			spc[b] += LOAD(m->h2_spc[b]);
		spcn += LOAD(m->h2_spc_count);
		spcs += LOAD(m->h2_spc_sum);
	}
	counter(out, "gridfront_connections_total",
	    "Client connections accepted.", "counter", ct);
	counter(out, "gridfront_tls_connections_total",
	    "Client connections accepted on TLS listeners.", "counter", ctls);
	counter(out, "gridfront_connections_active",
	    "Client connections open now.", "gauge", act);
	/* Per worker too: shows how evenly the listeners spread the load. */
	evbuffer_add_printf(out, "# HELP gridfront_worker_connections_active "
	    "Client connections open now, by worker.\n"
	    "# TYPE gridfront_worker_connections_active gauge\n");
	for (i = 0; i < n; i++)
		evbuffer_add_printf(out, "gridfront_worker_connections_active"
		    "{worker=\"%u\"} %llu\n", i,
		    (unsigned long long)LOAD(ws[i].m->active));
	evbuffer_add_printf(out, "# HELP gridfront_tls_handshakes_total "
	    "Completed TLS handshakes by kind.\n"
	    "# TYPE gridfront_tls_handshakes_total counter\n"
	    "gridfront_tls_handshakes_total{kind=\"full\"} %llu\n"
	    "gridfront_tls_handshakes_total{kind=\"resumed\"} %llu\n",
	    (unsigned long long)hf, (unsigned long long)hr);
	evbuffer_add_printf(out,
	    "# HELP gridfront_tls_handshake_failures_total "
	    "TLS handshakes that failed, by reason.\n"
	    "# TYPE gridfront_tls_handshake_failures_total counter\n");
	for (k = 0; k < M_HS_NREASONS; k++)
		evbuffer_add_printf(out,
		    "gridfront_tls_handshake_failures_total"
		    "{reason=\"%s\"} %llu\n", hs_fail_names[k],
		    (unsigned long long)hfail[k]);
	counter(out, "gridfront_bad_requests_total",
	    "Requests rejected by the HTTP validation layer.", "counter", bad);
	evbuffer_add_printf(out, "# HELP gridfront_route_refusals_total "
	    "Requests refused by a route rule: method (405) or origin "
	    "(403).\n"
	    "# TYPE gridfront_route_refusals_total counter\n"
	    "gridfront_route_refusals_total{rule=\"method\"} %llu\n"
	    "gridfront_route_refusals_total{rule=\"origin\"} %llu\n",
	    (unsigned long long)rmeth, (unsigned long long)rorig);
	counter(out, "gridfront_body_buffer_bytes",
	    "Request-body budget reserved now (limits.body_buffer_total).",
	    "gauge", bbytes);
	counter(out, "gridfront_body_buffer_waits_total",
	    "Request bodies that waited for body-buffer budget.", "counter",
	    bwaits);
	counter(out, "gridfront_h2_connections_total",
	    "Client connections that chose HTTP/2 by ALPN.", "counter", h2c);
	counter(out, "gridfront_h2_streams_total",
	    "Requests carried on HTTP/2 streams.", "counter", h2s);
	/* Every request by protocol: the h2 ones are counted as they end,
	 * just before the request itself, so h1 never goes below 0 by more
	 * than a race of one (clamped). */
	evbuffer_add_printf(out, "# HELP gridfront_requests_by_protocol_total "
	    "Requests by client protocol.\n"
	    "# TYPE gridfront_requests_by_protocol_total counter\n"
	    "gridfront_requests_by_protocol_total{protocol=\"http/1.1\"} "
	    "%llu\ngridfront_requests_by_protocol_total{protocol=\"h2\"} "
	    "%llu\n", (unsigned long long)(reqs > h2s ? reqs - h2s : 0),
	    (unsigned long long)h2s);
	counter(out, "gridfront_h2_floods_total",
	    "HTTP/2 connections ended with GOAWAY ENHANCE_YOUR_CALM.",
	    "counter", h2f);
	evbuffer_add_printf(out, "# HELP gridfront_h2_streams_per_connection "
	    "Requests carried by each ended HTTP/2 connection.\n"
	    "# TYPE gridfront_h2_streams_per_connection histogram\n");
	for (b = 0; b < M_SPC_NBUCKETS; b++) {
		if (b > 0)
			spc[b] += spc[b - 1];	/* cumulative */
		evbuffer_add_printf(out, "gridfront_h2_streams_per_connection"
		    "_bucket{le=\"%llu\"} %llu\n",
		    (unsigned long long)spc_bounds[b],
		    (unsigned long long)spc[b]);
	}
	evbuffer_add_printf(out, "gridfront_h2_streams_per_connection_bucket"
	    "{le=\"+Inf\"} %llu\ngridfront_h2_streams_per_connection_sum "
	    "%llu\ngridfront_h2_streams_per_connection_count %llu\n",
	    (unsigned long long)spcn, (unsigned long long)spcs,
	    (unsigned long long)spcn);
	mem_series(out, ws, n);

	/* Requests by route, method and status class. */
	evbuffer_add_printf(out, "# HELP gridfront_requests_total Requests by "
	    "route, method, status class and client protocol.\n"
	    "# TYPE gridfront_requests_total counter\n");
	for (i = 0; i < n; i++) {
		struct metrics_worker *m = ws[i].m;

		pthread_mutex_lock(&m->mtx);
		for (k = 0; k < M_REQ_SLOTS; k++) {
			if (m->req[k].n == 0)
				continue;
			evbuffer_add_printf(out,
			    "gridfront_requests_total{worker=\"%u\",route=\"",
			    i);
			label(out, m->req[k].route);
			evbuffer_add_printf(out,
			    "\",method=\"%s\",code=\"%uxx\",protocol=\"%s\"} "
			    "%llu\n", method_names[m->req[k].method],
			    m->req[k].cls, m->req[k].proto == METRICS_PROTO_H2 ?
			    "h2" : "http/1.1", (unsigned long long)m->req[k].n);
		}
		pthread_mutex_unlock(&m->mtx);
	}
	evbuffer_add_printf(out, "# HELP gridfront_request_duration_seconds "
	    "Request latency by route.\n"
	    "# TYPE gridfront_request_duration_seconds histogram\n");
	for (i = 0; i < n; i++) {
		struct metrics_worker *m = ws[i].m;

		pthread_mutex_lock(&m->mtx);
		for (k = 0; k < M_LAT_SLOTS; k++) {
			struct m_lat *e = &m->lat[k];

			if (e->count == 0)
				continue;
			for (b = 0; b < M_NBUCKETS; b++) {
				evbuffer_add_printf(out,
				    "gridfront_request_duration_seconds_bucket"
				    "{worker=\"%u\",route=\"", i);
				label(out, e->route);
				evbuffer_add_printf(out, "\",le=\"%g\"} %llu\n",
				    lat_bounds[b], (unsigned long long)e->b[b]);
			}
			evbuffer_add_printf(out,
			    "gridfront_request_duration_seconds_bucket"
			    "{worker=\"%u\",route=\"", i);
			label(out, e->route);
			evbuffer_add_printf(out, "\",le=\"+Inf\"} %llu\n",
			    (unsigned long long)e->count);
			evbuffer_add_printf(out,
			    "gridfront_request_duration_seconds_sum"
			    "{worker=\"%u\",route=\"", i);
			label(out, e->route);
			evbuffer_add_printf(out, "\"} %.6f\n", e->sum);
			evbuffer_add_printf(out,
			    "gridfront_request_duration_seconds_count"
			    "{worker=\"%u\",route=\"", i);
			label(out, e->route);
			evbuffer_add_printf(out, "\"} %llu\n",
			    (unsigned long long)e->count);
		}
		pthread_mutex_unlock(&m->mtx);
	}
	evbuffer_add_printf(out, "# HELP gridfront_auth_denied_total Requests "
	    "denied by auth, by reason.\n"
	    "# TYPE gridfront_auth_denied_total counter\n");
	for (i = 0; i < n; i++) {
		struct metrics_worker *m = ws[i].m;

		pthread_mutex_lock(&m->mtx);
		for (k = 0; k < M_DENY_SLOTS && m->deny[k].reason; k++) {
			evbuffer_add_printf(out, "gridfront_auth_denied_total"
			    "{worker=\"%u\",reason=\"", i);
			label(out, m->deny[k].reason);
			evbuffer_add_printf(out, "\"} %llu\n",
			    (unsigned long long)m->deny[k].n);
		}
		pthread_mutex_unlock(&m->mtx);
	}

	/* Upstream pools: read racily but each field is a word. */
	pool_series(out, ws, n, "gridfront_upstream_connects_total",
	    "New backend connections.", offsetof(struct pool_stats, connects),
	    SIZE_MAX);
	pool_series(out, ws, n, "gridfront_upstream_reuses_total",
	    "Pooled connections reused.", offsetof(struct pool_stats, reuses),
	    SIZE_MAX);
	pool_series(out, ws, n, "gridfront_upstream_retries_total",
	    "Requests retried.", offsetof(struct pool_stats, retries),
	    SIZE_MAX);
	pool_series(out, ws, n, "gridfront_upstream_errors_total",
	    "Backend failures (connect errors and failed exchanges).",
	    offsetof(struct pool_stats, errors),
	    offsetof(struct pool_stats, connect_errors));
	/* https backends (zero for plain ones). */
	pool_series(out, ws, n, "gridfront_upstream_tls_handshakes_total",
	    "TLS handshakes completed with backends.",
	    offsetof(struct pool_stats, tls_handshakes), SIZE_MAX);
	pool_series(out, ws, n, "gridfront_upstream_tls_resumed_total",
	    "Backend TLS handshakes that resumed a session.",
	    offsetof(struct pool_stats, tls_resumed), SIZE_MAX);
	pool_series(out, ws, n, "gridfront_upstream_tls_verify_failures_total",
	    "Backend certificates refused (chain or name): 502.",
	    offsetof(struct pool_stats, tls_verify_failures), SIZE_MAX);
	pool_series(out, ws, n, "gridfront_upstream_tls_errors_total",
	    "Other backend TLS handshake failures: 502.",
	    offsetof(struct pool_stats, tls_errors), SIZE_MAX);
	evbuffer_add_printf(out,
	    "# HELP gridfront_upstream_up Backend state as this worker sees "
	    "it (1 up, 0 marked down).\n"
	    "# TYPE gridfront_upstream_up gauge\n");
	for (i = 0; i < n; i++) {
		const struct pool *p;
		uint64_t now = clock_now_us();

		for (p = ws[i].pools; p != NULL; p = p->next) {
			evbuffer_add_printf(out, "gridfront_upstream_up"
			    "{worker=\"%u\",backend=\"", i);
			label(out, p->name);
			pool_address_label(out, p);
			evbuffer_add_printf(out, "\"} %d\n",
			    upstream_pool_is_down(p, now) ? 0 : 1);
		}
	}

	/* Process-wide. */
	pthread_mutex_lock(&g_mtx);
	counter(out, "gridfront_config_generation",
	    "Generation number of the configuration in force.", "gauge",
	    g_generation);
	counter(out, "gridfront_config_reloads_total",
	    "Successful configuration reloads.", "counter", g_reloads);
	counter(out, "gridfront_config_reload_failures_total",
	    "Configuration reloads refused (old config kept).", "counter",
	    g_reload_failures);
	evbuffer_add_printf(out, "# HELP gridfront_file_reloads_total Files "
	    "reloaded because they changed, by file and result.\n"
	    "# TYPE gridfront_file_reloads_total counter\n");
	for (j = 0; j < nitems(g_files) && g_files[j].what[0]; j++) {
		evbuffer_add_printf(out,
		    "gridfront_file_reloads_total{file=\"%s\","
		    "result=\"ok\"} %llu\n", g_files[j].what,
		    (unsigned long long)g_files[j].ok);
		evbuffer_add_printf(out,
		    "gridfront_file_reloads_total{file=\"%s\","
		    "result=\"failed\"} %llu\n", g_files[j].what,
		    (unsigned long long)g_files[j].fail);
	}
	pthread_mutex_unlock(&g_mtx);

	if (ast != NULL) {
		counter(out, "gridfront_cric_users",
		    "DNs in the CRIC users map in force.", "gauge", ast->users);
		counter(out, "gridfront_cric_bad_utf8_records",
		    "CRIC records refused by the users map in force: DN, "
		    "LOGIN or NAME not valid UTF-8.", "gauge",
		    ast->users_bad_utf8);
		counter(out, "gridfront_cric_reloads_total",
		    "CRIC users file reloads.", "counter", ast->users_reloads);
		counter(out, "gridfront_cric_reload_failures_total",
		    "CRIC users file reloads refused (old map kept).",
		    "counter", ast->users_reload_failures);
		counter(out, "gridfront_trust_reloads_total",
		    "CA directory / CRL reloads.", "counter",
		    ast->trust_reloads);
		counter(out, "gridfront_trust_reload_failures_total",
		    "CA directory / CRL reloads refused.", "counter",
		    ast->trust_reload_failures);
		counter(out, "gridfront_verify_cache_hits_total",
		    "Client chains found in the verified-chain cache.",
		    "counter", ast->verify_cache_hits);
		counter(out, "gridfront_verify_cache_misses_total",
		    "Client chains verified in full.", "counter",
		    ast->verify_cache_misses);
		counter(out, "gridfront_verify_cache_entries",
		    "Entries in the verified-chain cache.", "gauge",
		    ast->verify_cache_entries);
		counter(out, "gridfront_verify_cache_bytes",
		    "Estimated bytes held by the verified-chain cache.",
		    "gauge", ast->verify_cache_bytes);
		counter(out, "gridfront_client_chains_too_long_total",
		    "Client chains refused unverified: longer than "
		    "verify_depth + 1.", "counter", ast->chains_too_long);
		counter(out, "gridfront_cric_edge_space_records",
		    "CRIC records in force with leading or trailing spaces "
		    "(DN/LOGIN skipped, NAME trimmed).", "gauge",
		    ast->users_edge_space);
		counter(out, "gridfront_ban_legacy_dns",
		    "Ban-list DNs in legacy X509_NAME_oneline form, also "
		    "banned in gridfront's form.", "gauge",
		    ast->ban_legacy_dns);
	}
	if (actx != NULL)
		metrics_tokens(out, actx);
	if (actx != NULL)
		metrics_hosts(out, actx);
	expiry_render(out, time(NULL));
	counter(out, "gridfront_access_log_dropped_total",
	    "Access-log blocks dropped because the writer fell behind.",
	    "counter", log_access_dropped());
	(void)reqs;
}
