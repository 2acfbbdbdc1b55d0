/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * The main thread of the process model: one main thread (signals, reload,
 * file watching, the admin listener) and N worker threads (worker.h), each
 * with its own event_base and SO_REUSEPORT listeners, serving one
 * configuration generation (gen.h) at a time.  Only main.c includes this.
 */

#ifndef PROXY_SERVER_H
#define PROXY_SERVER_H

struct conf;

/* Run the server until stopped; returns the exit status.  Takes ownership
 * of conf (one reference). */
int	 server_run(struct conf *conf);

#endif /* PROXY_SERVER_H */
