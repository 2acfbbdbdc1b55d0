/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * libFuzzer target for request-target normalisation (http_path_normalize)
 * followed by routing (route_match, route_rewrite) over the fixed table in
 * tests/fuzz/fuzz_path_route.yaml, loaded once with conf_load().  The input
 * is a raw origin-form request-target.  Checked: a normalised path starts
 * with '/', has no "." or ".." segment, no "//", no %2F, %5C, %00, %3B or
 * '\', its escapes of bytes 80-FF spell shortest-form UTF-8 (checked by a
 * separate slow decoder), and normalising it again changes nothing;
 * without its ";params" (http_path_strip_params) it is still such a path,
 * with no ';'; route_match() agrees with a plain first-match scan that
 * runs regexec() without the literal-prefix shortcut; route_rewrite()
 * output is a NUL-terminated string of the length it returns, still a
 * normalised path (what the backend gets must not regain a ".." segment
 * or "//" through a capture), and a too-small buffer yields -1, never an
 * overflow.
 */

#include <regex.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "conf/route.h"
#include "proxy/http.h"
#include "tests/fuzz/fuzz.h"

#ifndef FUZZ_SRCDIR
#define FUZZ_SRCDIR	"tests/fuzz"
#endif

static struct conf	*conf;
static int		 lax;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct conf_errs	 errs = { 0 };
	const char		*path;

	(void)argc;
	(void)argv;
	lax = fuzz_lax();
	if ((path = getenv("FUZZ_ROUTE_CONF")) == NULL)
		path = FUZZ_SRCDIR "/fuzz_path_route.yaml";
	if (conf_load(path, &conf, &errs) == -1) {
		fprintf(stderr, "fuzz_path_route: cannot load %s:\n", path);
		conf_errs_print(&errs, stderr);
		conf_errs_free(&errs);
		abort();
	}
	conf_errs_free(&errs);
	return (0);
}

static int
has_ci(const char *s, const char *lit)
{
	size_t	 m = strlen(lit);

	for (; *s != '\0'; s++)
		if (strncasecmp(s, lit, m) == 0)
			return (1);
	return (0);
}

/* Is there a "." or ".." segment in the NUL-terminated path? */
static int
has_dot_segment(const char *p)
{
	const char	*s, *e;
	size_t		 n;

	for (s = p; *s != '\0'; s = e) {
		if (*s == '/')
			s++;
		e = strchr(s, '/');
		if (e == NULL)
			e = s + strlen(s);
		n = (size_t)(e - s);
		if ((n == 1 && s[0] == '.') ||
		    (n == 2 && s[0] == '.' && s[1] == '.'))
			return (1);
	}
	return (0);
}

static int
hexv(char c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	if (c >= 'A' && c <= 'F')
		return (c - 'A' + 10);
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	return (-1);
}

/*
 * Do the %XX escapes of bytes 80-FF in the normalised path p spell
 * shortest-form UTF-8?  Decoded the slow way: the lead byte gives the
 * length, the value is assembled bit by bit, and then it must need that
 * many bytes, not be a surrogate and not exceed U+10FFFF.
 */
static int
escapes_are_utf8(const char *p)
{
	unsigned long	 cp;
	size_t		 n, k, i = 0, len = strlen(p);
	int		 b;

	while (i < len) {
		if (p[i] != '%') {
			i++;
			continue;
		}
		if (i + 2 >= len || hexv(p[i + 1]) < 0 || hexv(p[i + 2]) < 0)
			return (0);
		b = hexv(p[i + 1]) * 16 + hexv(p[i + 2]);
		i += 3;
		if (b < 0x80)
			continue;
		if ((b & 0xe0) == 0xc0) {
			n = 1;
			cp = (unsigned long)b & 0x1f;
		} else if ((b & 0xf0) == 0xe0) {
			n = 2;
			cp = (unsigned long)b & 0x0f;
		} else if ((b & 0xf8) == 0xf0) {
			n = 3;
			cp = (unsigned long)b & 0x07;
		} else
			return (0);
		for (k = 0; k < n; k++, i += 3) {
			if (i + 2 >= len || p[i] != '%' ||
			    hexv(p[i + 1]) < 0 || hexv(p[i + 2]) < 0)
				return (0);
			b = hexv(p[i + 1]) * 16 + hexv(p[i + 2]);
			if ((b & 0xc0) != 0x80)
				return (0);
			cp = cp << 6 | ((unsigned long)b & 0x3f);
		}
		if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) ||
		    (n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) ||
		    (n == 3 && cp < 0x10000))
			return (0);
	}
	return (1);
}

/* The routing rule of route.h, spelled out the slow way. */
static const struct conf_route *
slow_match(const char *path)
{
	const struct conf_route	*r;
	size_t			 i, n, plen = strlen(path);

	for (i = 0; i < conf->nroutes; i++) {
		r = &conf->routes[i];
		if (r->is_regex) {
			if (regexec(&r->re, path, 0, NULL, 0) == 0)
				return (r);
			continue;
		}
		n = r->pathlen;
		if (n > 0 && r->path[n - 1] == '/')
			n--;
		if (plen >= n && strncmp(path, r->path, n) == 0 &&
		    (path[n] == '\0' || path[n] == '/'))
			return (r);
	}
	return (NULL);
}

static void
check_rewrite(const struct conf_route *r, const char *path, size_t small)
{
	char	 big[8192], *tight;
	ssize_t	 n, m;

	n = route_rewrite(r, path, big, sizeof(big));
	FUZZ_CHECK(n >= -1);
	if (n >= 0) {
		FUZZ_CHECK((size_t)n < sizeof(big) && big[n] == '\0' &&
		    strlen(big) == (size_t)n);
		if (!r->has_rewrite)
			FUZZ_CHECK(strcmp(big, path) == 0);
		/*
		 * What goes upstream must still be a normalised path: a
		 * capture must not smuggle in a ".." segment or "//".  The
		 * proxy (forward.c rewrite_normalize, the F3 fix) runs the
		 * expansion through http_path_normalize() with a leading
		 * slash; do the same and check the result.
		 */
		if (!lax && r->has_rewrite) {
			char	 in[8194], out[8194];
			const char *q;
			size_t	 k = 0, plen, qlen;
			struct http_error herr;

			if (big[0] != '/')
				in[k++] = '/';
			memcpy(in + k, big, (size_t)n);
			k += (size_t)n;
			if (http_path_normalize(in, k, out, sizeof(out), &plen,
			    &q, &qlen, &herr) == 0) {
				FUZZ_CHECK(out[0] == '/');
				FUZZ_CHECK(!has_dot_segment(out));
				FUZZ_CHECK(strstr(out, "//") == NULL);
			}
		}
	}
	/* An exact-size buffer: a write past outlen is a heap overflow. */
	if ((tight = malloc(small ? small : 1)) == NULL)
		abort();
	m = route_rewrite(r, path, tight, small);
	if (n >= 0 && (size_t)n < small)
		FUZZ_CHECK(m == n && memcmp(tight, big, (size_t)n + 1) == 0);
	else
		FUZZ_CHECK(m == -1);
	free(tight);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct conf_route	*r;
	struct http_error	 err;
	const char		*query, *q2;
	char			*out, *out2;
	size_t			 outlen, pathlen, qlen, pathlen2, q2len;

	if (conf == NULL)
		LLVMFuzzerInitialize(NULL, NULL);
	/* Room for the path plus its NUL, exactly: overflows are caught. */
	outlen = size + 1;
	if ((out = malloc(outlen)) == NULL || (out2 = malloc(outlen)) == NULL)
		abort();
	if (http_path_normalize((const char *)data, size, out, outlen,
	    &pathlen, &query, &qlen, &err) == -1) {
		FUZZ_CHECK(err.status == 400 || err.status == 414);
		FUZZ_CHECK(err.reason != NULL);
		goto done;
	}
	FUZZ_CHECK(pathlen < outlen && out[pathlen] == '\0' &&
	    strlen(out) == pathlen);
	FUZZ_CHECK(out[0] == '/');
	FUZZ_CHECK(!has_dot_segment(out));
	FUZZ_CHECK(strstr(out, "//") == NULL);
	FUZZ_CHECK(!has_ci(out, "%2f") && !has_ci(out, "%5c") &&
	    !has_ci(out, "%00"));
	FUZZ_CHECK(strchr(out, '\\') == NULL && strchr(out, '?') == NULL &&
	    strchr(out, '#') == NULL);
	/* Issue 11: an overlong "%C0%AE" is a '.' to lenient decoders. */
	FUZZ_CHECK(escapes_are_utf8(out));
	/* Issue 11: %3B is refused, a raw ';' is the caller's choice. */
	FUZZ_CHECK(!has_ci(out, "%3b"));
	if (query != NULL) {
		FUZZ_CHECK(qlen > 0 && query[0] == '?');
		FUZZ_CHECK(query >= (const char *)data &&
		    query + qlen == (const char *)data + size);
	} else
		FUZZ_CHECK(qlen == 0);

	/* Idempotent: the normal form is its own normal form. */
	FUZZ_CHECK(http_path_normalize(out, pathlen, out2, outlen, &pathlen2,
	    &q2, &q2len, &err) == 0);
	FUZZ_CHECK(pathlen2 == pathlen && memcmp(out, out2, pathlen) == 0 &&
	    q2 == NULL);

	/*
	 * Without its ";params" (what allow_path_params routes on): no ';'
	 * left, never longer, and a normalised path that routes like any.
	 */
	if (memchr(out, ';', pathlen) != NULL) {
		pathlen2 = http_path_strip_params(out, pathlen, out2);
		FUZZ_CHECK(pathlen2 <= pathlen && out2[pathlen2] == '\0' &&
		    strlen(out2) == pathlen2 && out2[0] == '/');
		FUZZ_CHECK(strchr(out2, ';') == NULL);
		FUZZ_CHECK(!has_dot_segment(out2));
		FUZZ_CHECK(strstr(out2, "//") == NULL);
		FUZZ_CHECK(route_match(conf, out2) == slow_match(out2));
	}

	r = route_match(conf, out);
	FUZZ_CHECK(r == slow_match(out));
	if (r != NULL) {
		FUZZ_CHECK(r >= conf->routes && r < conf->routes +
		    conf->nroutes);
		check_rewrite(r, out, size % 64);
	}
done:
	free(out2);
	free(out);
	return (0);
}
