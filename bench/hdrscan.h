/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * Header-line scanning shared by the bench tools (loadgen.c, origin.c):
 * just enough HTTP/1.1 to frame the benchmark's own traffic.  They are
 * load tools, not parsers for untrusted input; gridfront's real parser is
 * proxy/http.c.
 */

#ifndef BENCH_HDRSCAN_H
#define BENCH_HDRSCAN_H

#include <stddef.h>
#include <string.h>
#include <strings.h>

/* The value of header line [p, e) if its name is n (case-insensitive),
 * with leading blanks skipped; NULL otherwise. */
static inline const char *
hdr_value(const char *p, const char *e, const char *n, size_t nlen)
{
	if ((size_t)(e - p) <= nlen || p[nlen] != ':' ||
	    strncasecmp(p, n, nlen) != 0)
		return (NULL);
	p += nlen + 1;
	while (p < e && (*p == ' ' || *p == '\t'))
		p++;
	return (p);
}

/* 1 when tok occurs anywhere in [p, e) (case-insensitive). */
static inline int
hdr_has_token(const char *p, const char *e, const char *tok)
{
	size_t	 tl = strlen(tok);

	for (; p + tl <= e; p++)
		if (strncasecmp(p, tok, tl) == 0)
			return (1);
	return (0);
}

#endif /* BENCH_HDRSCAN_H */
