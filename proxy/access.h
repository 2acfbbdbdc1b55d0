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
#include <stdint.h>
#include <time.h>

#include <openssl/ssl.h>

struct auth_ident;
struct conf;
struct xchg;

/* access.c's part of struct worker: lines not yet handed to the writer. */
struct access_worker {
	char			*logbuf;	/* NULL until the first line */
	size_t			 loglen;
};

/* The client side of an access line, filled in by the client session. */
struct access_client {
	const struct conf	*conf;		/* its generation: the format */
	const char		*peer;		/* client address, as text */
	int			 peerport;
	const SSL		*ssl;		/* NULL on a plain listener */
	/* NULL without a TLS identity */
	const struct auth_ident	*ident;
	int			 h2;		/* HTTP/2 stream: "HTTP/2.0" */
};

/*
 * Format the line for x, from client cl, ended at end (clock_now_us())
 * and now (wall clock), into p (room bytes).  Returns its length, or 0
 * when it does not fit (nothing usable is written then).  access_log()
 * uses it; tests call it with fixed clocks.
 */
size_t	 access_format(const struct access_client *cl, const struct xchg *x,
	    uint64_t end, time_t now, char *p, size_t room);

/* Format and queue the line for x, from client cl, in w.  Never fails;
 * drops the line if the worker's buffer cannot grow. */
void	 access_log(struct access_worker *w, const struct access_client *cl,
	    struct xchg *x);

/* Hand the worker's buffered lines to the writer (tick, shutdown). */
void	 access_flush(struct access_worker *w);

/* Free w's buffer; flush first if its lines matter (worker teardown). */
void	 access_worker_free(struct access_worker *w);

#endif /* PROXY_ACCESS_H */
