/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * The admin endpoints (/metrics, /healthz, /readyz) served by the main
 * thread.  Floor: beside server.c, its only caller.
 */

#ifndef PROXY_ADMIN_H
#define PROXY_ADMIN_H

#include <stddef.h>

struct conf;
struct event_base;
struct worker;

/*
 * Listen on cf's admin address, if any, on base.  *stopping (owned by the
 * caller, read on each request) makes /readyz answer 503.  Returns 0, or
 * -1 with a reason in err.
 */
int	 admin_start(struct event_base *base, const struct conf *cf,
	    const int *stopping, char *err, size_t errlen);

/* The workers /metrics reads (n of them; owned by the caller, which
 * calls this again with NULL, 0 before freeing them). */
void	 admin_set_workers(struct worker *ws, unsigned n);

/* Close the admin listener; a no-op when none was started. */
void	 admin_stop(void);

#endif /* PROXY_ADMIN_H */
