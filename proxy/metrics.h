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

struct worker;
struct xchg;
struct evbuffer;

/* Create / free a worker's metrics. */
struct metrics_worker *metrics_worker_new(void);
void	 metrics_worker_free(struct metrics_worker *m);

/* Event hooks called from the worker's own thread. */
void	 metrics_conn_open(struct worker *w, int tls);
void	 metrics_conn_close(struct worker *w);
/* One exchange holds n bytes in its buffers now: keeps the peak. */
void	 metrics_buffered(struct worker *w, size_t n);
void	 metrics_handshake(struct worker *w, int resumed);
/* reason: "protocol", "cipher", "certificate", "peer_alert", "eof",
 * "timeout" (tls_fail_reason() or conn.c); anything else counts as
 * "other". */
void	 metrics_handshake_fail(struct worker *w, const char *reason);
void	 metrics_bad_request(struct worker *w);
void	 metrics_request(struct worker *w, const struct xchg *x);
void	 metrics_auth_deny(struct worker *w, const char *reason);
/* The request-body budget's state (bytes reserved now, waits so far). */
void	 metrics_body_buffer(struct worker *w, uint64_t bytes,
	    uint64_t waits);

/* Process-wide events (main thread). */
void	 metrics_config_reload(int ok, uint64_t generation);
/* The generation in force at start-up (not counted as a reload). */
void	 metrics_config_generation(uint64_t generation);
void	 metrics_file_reload(const char *what, int ok);

/*
 * Render the Prometheus text exposition of all workers (n of them) plus
 * process-wide series into out.  Called from the admin thread.
 */
void	 metrics_render(struct worker *workers, unsigned n, struct evbuffer *out);

#endif /* PROXY_METRICS_H */
