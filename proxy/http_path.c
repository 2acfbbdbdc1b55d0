/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * Request-target normalisation (declared in http.h): percent-decoding of
 * unreserved bytes, dot-segment removal, refusal of encoded slashes,
 * NULs and other ambiguous forms, and the path-parameter strip of
 * allow_path_params.  Pure functions on caller buffers: no allocation, no
 * logging.  Moved out of http.c; shares its character classes through
 * http_int.h.  Floor: with http.c, below everything else in proxy/.
 */

#include <stdint.h>
#include <string.h>

#include "proxy/http.h"
#include "proxy/http_int.h"

static const char hexdig_upper[] = "0123456789ABCDEF";

static int
http_path_fail(struct http_error *err, int status, const char *reason)
{
	err->status = status;
	err->reason = reason;
	return (-1);
}

/* The byte that %XX at s[0, n) encodes, or -1 when s is not such an
 * escape (short, no '%', or not two hex digits). */
static int
http_pct_byte(const char *s, size_t n)
{
	if (n < 3 || s[0] != '%' || !CT(s[1], C_HEX) || !CT(s[2], C_HEX))
		return (-1);
	return ((int)(http_hexval((unsigned char)s[1]) * 16 +
	    http_hexval((unsigned char)s[2])));
}

/*
 * v >= 0x80 is the first byte decoded from the escape at s[0, n): check
 * that it and the escapes after it spell one shortest-form UTF-8 scalar
 * value (RFC 3629 section 4).  Refused: a byte that cannot start a
 * sequence (a stray continuation 80-BF, C0 and C1, F5-FF), too few
 * continuation escapes, overlong forms (E0 80-9F, F0 80-8F), surrogates
 * (ED A0-BF) and values above U+10FFFF (F4 90-BF).  "%C0%AE" is an
 * overlong '.', which lenient decoders turn into "..".  Returns the
 * number of escapes in the sequence (2 to 4), or 0 when it is invalid.
 */
static size_t
http_pct_utf8(const char *s, size_t n, unsigned v)
{
	unsigned	 lo = 0x80, hi = 0xbf;
	size_t		 k, need;
	int		 b;

	if (v >= 0xc2 && v <= 0xdf)
		need = 1;
	else if (v >= 0xe0 && v <= 0xef)
		need = 2;
	else if (v >= 0xf0 && v <= 0xf4)
		need = 3;
	else
		return (0);
	if (v == 0xe0)
		lo = 0xa0;		/* overlong below U+0800 */
	else if (v == 0xed)
		hi = 0x9f;		/* U+D800-DFFF, surrogates */
	else if (v == 0xf0)
		lo = 0x90;		/* overlong below U+10000 */
	else if (v == 0xf4)
		hi = 0x8f;		/* above U+10FFFF */
	if (n / 3 < need + 1)
		return (0);		/* truncated */
	for (k = 1; k <= need; k++) {
		b = http_pct_byte(s + 3 * k, 3);
		if (b < (int)lo || b > (int)hi)
			return (0);
		lo = 0x80;
		hi = 0xbf;
	}
	return (need + 1);
}

/* Contract in http.h. */
int
http_path_normalize(const char *target, size_t len, char *out, size_t outlen,
    size_t *pathlen, const char **query, size_t *querylen,
    struct http_error *err)
{
	const char	*q, *seg;
	size_t		 plen, i, o, s, sl, k;
	unsigned char	 c;
	unsigned	 v;
	int		 last;

	if (len == 0 || target[0] != '/')
		return (http_path_fail(err, 400,
		    "request-target is not origin-form"));
	q = memchr(target, '?', len);
	plen = q != NULL ? (size_t)(q - target) : len;
	for (i = plen; i < len; i++) {
		c = (unsigned char)target[i];
		if (c == '#')
			return (http_path_fail(err, 400,
			    "fragment in request-target"));
		if (!CT(c, C_QUERY))
			return (http_path_fail(err, 400,
			    "invalid character in query"));
	}
	if (plen >= outlen)
		return (http_path_fail(err, 414, "path too long"));

	/*
	 * One pass, segment by segment (RFC 3986 5.2.4 with the output as a
	 * stack).  Each segment is decoded into out first, so "%2E%2E" is a
	 * ".." like any other.  Invariant: o <= i, so out never overruns.
	 */
	o = 0;
	i = 0;
	while (i < plen) {
		s = o;
		out[o++] = '/';
		i++;
		while (i < plen && target[i] != '/') {
			c = (unsigned char)target[i];
			if (c == '%') {
				if (plen - i < 3 || !CT(target[i + 1], C_HEX) ||
				    !CT(target[i + 2], C_HEX))
					return (http_path_fail(err, 400,
					    "malformed percent-escape"));
				v = http_hexval((unsigned char)target[i + 1]);
				v = v * 16 +
				    http_hexval((unsigned char)target[i + 2]);
				if (v == '/')
					return (http_path_fail(err, 400,
					    "encoded slash in path"));
				if (v == '\\')
					return (http_path_fail(err, 400,
					    "encoded backslash in path"));
				if (v == 0)
					return (http_path_fail(err, 400,
					    "encoded NUL in path"));
				if (v == ';')
					/* Tomcat reads it as part of the
					 * segment, stacks that decode first
					 * as a parameter: ambiguous. */
					return (http_path_fail(err, 400,
					    "encoded ';' in path"));
				if (v >= 0x80) {
					/* plen - i >= 3 here; the escapes
					 * after it are checked for length. */
					k = http_pct_utf8(target + i, plen - i,
					    v);
					if (k == 0)
						return (http_path_fail(err,
						    400, "invalid UTF-8 in "
						    "percent-escapes"));
					/* Copied with upper-case hex digits
					 * (http_pct_utf8 checked them). */
					for (; k > 0; k--, i += 3) {
						out[o++] = '%';
						out[o++] = hexdig_upper[
						    http_hexval((unsigned char)
						    target[i + 1]) & 15];
						out[o++] = hexdig_upper[
						    http_hexval((unsigned char)
						    target[i + 2]) & 15];
					}
					continue;
				}
				if (CT(v, C_UNRES))
					out[o++] = (char)v;
				else {
					out[o++] = '%';
					out[o++] = hexdig_upper[v >> 4];
					out[o++] = hexdig_upper[v & 15];
				}
				i += 3;
				continue;
			}
			if (c == '\\')
				return (http_path_fail(err, 400,
				    "backslash in path"));
			if (c == '#')
				return (http_path_fail(err, 400,
				    "fragment in request-target"));
			if (!CT(c, C_PATH))
				return (http_path_fail(err, 400,
				    "invalid character in path"));
			out[o++] = (char)c;
			i++;
		}
		last = i == plen;
		seg = out + s + 1;
		sl = o - s - 1;
		if (sl == 0) {
			/* Merge "//" as nginx does; keep a trailing '/'. */
			if (!last)
				o = s;
		} else if (seg[0] == '.' && (sl == 1 ||
		    (sl == 2 && seg[1] == '.'))) {
			o = s;
			if (sl == 2) {
				/* "..": drop the previous segment; at the
				 * root it stays at the root (RFC 3986). */
				while (o > 0 && out[--o] != '/')
					;
			}
			if (last)
				out[o++] = '/';
		} else if (seg[0] == '.' && ((sl >= 2 && seg[1] == ';') ||
		    (sl >= 3 && seg[1] == '.' && seg[2] == ';'))) {
			/* Servlet containers read "..;x" as "..". */
			return (http_path_fail(err, 400,
			    "dot segment with parameters"));
		}
	}
	if (o == 0)
		out[o++] = '/';
	out[o] = '\0';
	*pathlen = o;
	if (q != NULL) {
		*query = q;
		*querylen = len - plen;
	} else {
		*query = NULL;
		*querylen = 0;
	}
	return (0);
}

/* Contract in http.h. */
size_t
http_path_strip_params(const char *path, size_t len, char *out)
{
	size_t	 i = 0, o = 0, s;

	while (i < len) {
		/* path[i] is the '/' that opens a segment. */
		s = o;
		out[o++] = '/';
		i++;
		while (i < len && path[i] != '/' && path[i] != ';')
			out[o++] = path[i++];
		while (i < len && path[i] != '/')
			i++;		/* ";params" up to the segment's end */
		/* "/;x/" leaves an empty segment: merge it as "//" is
		 * merged; a trailing one stays a trailing '/'. */
		if (o == s + 1 && i < len)
			o = s;
	}
	if (o == 0)
		out[o++] = '/';
	out[o] = '\0';
	return (o);
}
