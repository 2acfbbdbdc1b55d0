/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * Counters and histograms for the Prometheus endpoint.  Each worker owns a
 * struct metrics_worker and is its only writer; the admin thread sums all
 * workers when scraped.  Per-route series are keyed by the route's path
 * text, so they survive a reload that keeps the route.
 */

#ifndef PROXY_METRICS_H
#define PROXY_METRICS_H

#include <stddef.h>
#include <stdint.h>

struct evbuffer;
struct pool;
struct auth_stats;
struct metrics_worker;

/* What metrics_render() reads of one worker (admin.c fills it in). */
struct metrics_source {
	struct metrics_worker	*m;		/* the worker's block */
	const struct pool	*pools;		/* its upstream pools */
};

/* Create / free a worker's metrics. */
struct metrics_worker *metrics_worker_new(void);
void	 metrics_worker_free(struct metrics_worker *m);

/* Event hooks called from the worker's own thread, on its block m.
 * active: the worker's connection count after the change. */
void	 metrics_conn_open(struct metrics_worker *m, int tls,
	    unsigned active);
void	 metrics_conn_close(struct metrics_worker *m, unsigned active);
/* One exchange holds n bytes in its buffers now: keeps the peak. */
void	 metrics_buffered(struct metrics_worker *m, size_t n);
void	 metrics_handshake(struct metrics_worker *m, int resumed);
/* reason: "protocol", "cipher", "certificate", "peer_alert", "eof",
 * "timeout" (tls_fail_reason() or conn.c); anything else counts as
 * "other". */
void	 metrics_handshake_fail(struct metrics_worker *m, const char *reason);
void	 metrics_bad_request(struct metrics_worker *m);
/* A route rule refused a request (issue 13): origin 1 for origin_check's
 * 403, 0 for a methods: 405. */
void	 metrics_route_refusal(struct metrics_worker *m, int origin);
/* HTTP/2: a connection chose h2; a request was carried on a stream; a
 * flood ended a connection (GOAWAY ENHANCE_YOUR_CALM). */
void	 metrics_h2_conn(struct metrics_worker *m);
void	 metrics_h2_stream(struct metrics_worker *m);
void	 metrics_h2_flood(struct metrics_worker *m);
/* An h2 connection ended after carrying this many requests. */
void	 metrics_h2_conn_end(struct metrics_worker *m, uint64_t streams);
/* Client protocols of metrics_request(). */
#define METRICS_PROTO_H1	0
#define METRICS_PROTO_H2	1
/* One finished request: its route's path, method, status, client protocol
 * (METRICS_PROTO_*) and start time (clock_now_us()). */
void	 metrics_request(struct metrics_worker *m, const char *route,
	    const char *method, int status, int proto, uint64_t t_start);
void	 metrics_auth_deny(struct metrics_worker *m, const char *reason);
/* The request-body budget's state (bytes reserved now, waits so far). */
void	 metrics_body_buffer(struct metrics_worker *m, uint64_t bytes,
	    uint64_t waits);

/* Process-wide events (main thread). */
void	 metrics_config_reload(int ok, uint64_t generation);
/* The generation in force at start-up (not counted as a reload). */
void	 metrics_config_generation(uint64_t generation);
void	 metrics_file_reload(const char *what, int ok);

/*
 * Render the Prometheus text exposition of all workers (src, n of them)
 * plus process-wide series into out.  ast: the auth statistics of the
 * generation in force, or NULL when it has no auth context; actx: that
 * context, read only for the bearer-token series (auth_token_stats), or
 * NULL.  Called from the admin thread; reads the sources racily (each
 * counter is a word).
 */
void	 metrics_render(const struct metrics_source *src, unsigned n,
	    const struct auth_stats *ast, const struct auth_ctx *actx,
	    struct evbuffer *out);

#endif /* PROXY_METRICS_H */
