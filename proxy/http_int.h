/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * Internal to the HTTP framing files (http.c, http_path.c, http_chunk.c):
 * the character classes of RFC 9110 / 3986 that all three tokenize with,
 * and two ASCII helpers.  No other file includes this.
 */

#ifndef PROXY_HTTP_INT_H
#define PROXY_HTTP_INT_H

#include <stdint.h>

#define C_TCHAR	0x01	/* RFC 9110 5.6.2 tchar */
#define C_FVAL	0x02	/* field-vchar, SP, HTAB, obs-text (RFC 9110 5.5) */
#define C_PATH	0x04	/* RFC 3986 pchar and '/', with '%' (escapes) */
#define C_QUERY	0x08	/* visible ASCII except '#' */
#define C_HEX	0x10
#define C_UNRES	0x20	/* RFC 3986 2.3 unreserved */
#define C_HOST	0x40	/* reg-name / IP-literal / port characters we allow */

#define C_TFPQ	(C_TCHAR | C_FVAL | C_PATH | C_QUERY)
#define C_FPQ	(C_FVAL | C_PATH | C_QUERY)
#define C_FQ	(C_FVAL | C_QUERY)
#define C_ALNUM	(C_TFPQ | C_UNRES | C_HOST)

/* The class bits of each byte (http.c). */
extern const uint8_t http_ctab[256];

#define CT(c, f)	(http_ctab[(unsigned char)(c)] & (f))

static inline unsigned char
http_lower(unsigned char c)
{
	/* ASCII only, independent of the locale. */
	return ((c >= 'A' && c <= 'Z') ? (unsigned char)(c + ('a' - 'A')) : c);
}

static inline unsigned
http_hexval(unsigned char c)
{
	if (c <= '9')
		return (c - '0');
	return ((http_lower(c) - 'a') + 10);
}

#endif /* PROXY_HTTP_INT_H */
