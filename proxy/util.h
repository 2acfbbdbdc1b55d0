/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * Small helpers shared by proxy/: checked allocators for bookkeeping
 * memory, the monotonic clock, address printing and a few string helpers.
 * Nothing here knows about connections or configuration.
 */

#ifndef PROXY_UTIL_H
#define PROXY_UTIL_H

#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct timeval;

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

/* Allocators for small bookkeeping objects: abort on out-of-memory, as
 * there is no sane way to continue.  Never use them for sizes an attacker
 * chooses. */
void		*xmalloc(size_t n);
void		*xcalloc(size_t n, size_t size);
char		*xstrdup(const char *s);

/*
 * A growable byte string that keeps its memory across resets: request
 * and response heads are built in one, then handed over whole, with no
 * allocation per request once it has grown to size.  The owner frees
 * p.  Growth aborts on out-of-memory, as xmalloc does; sizes are bounded
 * by the configured head limits.
 */
struct sbuf {
	char		*p;
	size_t		 len;
	size_t		 cap;
};

void		 sbuf_grow(struct sbuf *sb, size_t need);

static inline void
sbuf_add(struct sbuf *sb, const void *data, size_t n)
{
	if (sb->cap - sb->len < n)
		sbuf_grow(sb, n);
	memcpy(sb->p + sb->len, data, n);
	sb->len += n;
}

#define sbuf_lit(sb, s)	sbuf_add((sb), (s), sizeof(s) - 1)

/* Monotonic time in microseconds (CLOCK_MONOTONIC). */
uint64_t	 util_now_us(void);

/*
 * Fill tv with the duration ms (milliseconds), the one conversion every
 * proxy/ timer and timeout goes through.  Any unsigned value fits.
 */
void		 util_ms_tv(unsigned ms, struct timeval *tv);

/*
 * Print sa as "1.2.3.4" or "2001:db8::1" (no port) into buf, which must
 * hold at least 46 bytes.  Returns buf; "?" for an unknown family.
 */
char		*util_addr_str(const struct sockaddr *sa, char *buf, size_t len);

/* Port of sa in host order, 0 for an unknown family. */
int		 util_addr_port(const struct sockaddr *sa);

/* Case-insensitive ASCII compare of n bytes: 1 when equal. */
int		 util_ascii_ieq(const char *a, const char *b, size_t n);

/*
 * Tell systemd (Type=notify) about a state change, e.g. "READY=1": one
 * datagram to $NOTIFY_SOCKET.  A no-op when not run by systemd.
 */
void		 util_sd_notify(const char *state);

/* Number of online cores, at least 1. */
unsigned	 util_ncpu(void);

#endif /* PROXY_UTIL_H */
