/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * The access log: one line per request, in a CMSWEB-Apache-like text
 * format or as JSON lines.  Lines are formatted into the worker's buffer
 * and handed to the log writer in blocks (log.c), never written from the
 * event loop.
 */

#ifndef PROXY_ACCESS_H
#define PROXY_ACCESS_H

#include <stddef.h>

struct conn;
struct xchg;

/* access.c's part of struct worker: lines not yet handed to the writer. */
struct access_worker {
	char			*logbuf;	/* NULL until the first line */
	size_t			 loglen;
};

/* Format and queue the line for x on c.  Never fails; drops the line if
 * the worker's buffer cannot grow. */
void	 access_log(struct conn *c, struct xchg *x);

/* Hand the worker's buffered lines to the writer (tick, shutdown). */
void	 access_flush(struct access_worker *w);

/* Free w's buffer; flush first if its lines matter (worker teardown). */
void	 access_worker_free(struct access_worker *w);

#endif /* PROXY_ACCESS_H */
