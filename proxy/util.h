/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * Small helpers shared by proxy/: address printing, a few string helpers,
 * systemd notification and the core count.  Nothing here knows about
 * connections or configuration.  The checked allocators, the byte buffer
 * and the clock moved to base/ (below every layer); this header includes
 * them so that proxy/ files keep one include for all small helpers.
 */

#ifndef PROXY_UTIL_H
#define PROXY_UTIL_H

#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "base/clock.h"
#include "base/sbuf.h"
#include "base/xalloc.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

/*
 * Print sa as "1.2.3.4" or "2001:db8::1" (no port) into buf, which must
 * hold at least 46 bytes.  Returns buf; "?" for an unknown family.
 */
char		*util_addr_str(const struct sockaddr *sa, char *buf,
	    size_t len);

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
