/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * A growable byte string for every layer (base/ sits below conf/, auth/
 * and proxy/).  It keeps its memory across resets: request and response
 * heads are built in one and handed over whole, with no allocation per
 * request once it has grown to size.  Two ways to grow:
 *   - sbuf_grow()/sbuf_add()/sbuf_lit() abort on out-of-memory, like
 *     xmalloc(); for sizes bounded by the configuration (head limits);
 *   - sbuf_reserve()/sbuf_try_add() return -1 instead and leave the
 *     buffer as it was; for output whose size the caller does not bound
 *     (a rendered page, a canonical string).
 * The owner embeds or zeroes a struct sbuf ({ NULL, 0, 0 } is empty) and
 * releases it with sbuf_free().
 */

#ifndef BASE_SBUF_H
#define BASE_SBUF_H

#include <stddef.h>
#include <string.h>

struct sbuf {
	char		*p;	/* owned; NULL until the first growth */
	size_t		 len;	/* bytes in use */
	size_t		 cap;	/* bytes allocated at p */
};

/*
 * Make room for need more bytes after len (cap - len >= need), doubling
 * from 512.  Aborts on out-of-memory; p may move.
 */
void		 sbuf_grow(struct sbuf *sb, size_t need);

/* Append n bytes of data; aborts on out-of-memory (see sbuf_grow()). */
static inline void
sbuf_add(struct sbuf *sb, const void *data, size_t n)
{
	if (sb->cap - sb->len < n)
		sbuf_grow(sb, n);
	memcpy(sb->p + sb->len, data, n);
	sb->len += n;
}

/* Append the string literal s (its length from sizeof, never counted). */
#define sbuf_lit(sb, s)	sbuf_add((sb), (s), sizeof("" s "") - 1)

/*
 * Like sbuf_grow(), without aborting: returns 0 when cap - len >= need,
 * or -1 when the size overflows or realloc() fails, leaving sb unchanged.
 */
int		 sbuf_reserve(struct sbuf *sb, size_t need);

/*
 * Append n bytes of data and keep the content NUL-terminated (p[len] ==
 * '\0' afterwards, the NUL not counted in len), so p can be used as a C
 * string.  Returns 0, or -1 with sb unchanged (see sbuf_reserve()).
 */
int		 sbuf_try_add(struct sbuf *sb, const void *data, size_t n);

/* Free p and empty sb; the struct itself stays the caller's. */
void		 sbuf_free(struct sbuf *sb);

#endif /* BASE_SBUF_H */
