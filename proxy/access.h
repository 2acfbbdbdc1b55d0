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

struct conn;
struct xchg;
struct worker;

/* Format and queue the line for x on c.  Never fails; drops the line if
 * the worker's buffer cannot grow. */
void	 access_log(struct conn *c, struct xchg *x);

/* Hand the worker's buffered lines to the writer (tick, shutdown). */
void	 access_flush(struct worker *w);

#endif /* PROXY_ACCESS_H */
