/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * Expiry gauges for operators: when each listener's host certificate, each
 * CA certificate and each CA's CRL runs out, how many CAs have no valid CRL
 * right now, and how old the CRIC users file and the ban list are.  The
 * main thread collects plain dates into a small table on start, on every
 * reload and on every file check; the admin thread renders them as
 * "seconds until" (or "seconds since") against the clock of the scrape.
 * Reads the files itself with OpenSSL; shares no state with auth/.
 */

#ifndef PROXY_EXPIRY_H
#define PROXY_EXPIRY_H

#include <time.h>

struct conf;
struct evbuffer;

/* What expiry_update() re-reads besides the file ages (always stat'ed). */
#define EXPIRY_HOSTS	0x1	/* the host certificate of each listener */
#define EXPIRY_TRUST	0x2	/* every CA certificate and CRL of ca_path */

/*
 * Collect the dates of cf (not kept): with EXPIRY_HOSTS, the notAfter of
 * the first certificate of every TLS listener's certificate file; with
 * EXPIRY_TRUST, every CA certificate ("<hash>.N") and CRL ("<hash>.rN") of
 * cf->auth.ca_path when auth is set (the trust store is in force), or none
 * when it is not; always, the mtime of cf->auth.users and cf->auth.banned
 * (when auth is set).  A file that cannot be read drops its series.  Main
 * thread; replaces the previous table under a lock.
 */
void	 expiry_update(const struct conf *cf, int auth, int what);

/*
 * Append the expiry gauges, evaluated at now, to out in the Prometheus
 * text format.  Any thread.
 */
void	 expiry_render(struct evbuffer *out, time_t now);

/* Free the table (at exit; optional). */
void	 expiry_free(void);

#endif /* PROXY_EXPIRY_H */
