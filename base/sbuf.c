/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * The growable byte string of base/sbuf.h: the out-of-line growth paths
 * (aborting and checked) and release.  Appends that fit stay inline in
 * the header.  No state; calls only libc.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/sbuf.h"

/* Grow to fit need more bytes or abort.  See sbuf.h. */
void
sbuf_grow(struct sbuf *sb, size_t need)
{
	if (sbuf_reserve(sb, need) == -1) {
		fprintf(stderr, "gridfront: out of memory (%zu bytes)\n",
		    sb->len + need);
		abort();
	}
}

/* Grow to fit need more bytes, or fail with sb unchanged.  See sbuf.h. */
int
sbuf_reserve(struct sbuf *sb, size_t need)
{
	size_t	 cap = sb->cap ? sb->cap : 512;
	char	*p;

	if (sb->cap - sb->len >= need)
		return (0);
	if (need > SIZE_MAX - sb->len)
		return (-1);
	while (cap - sb->len < need)
		cap = cap > SIZE_MAX / 2 ? sb->len + need : cap * 2;
	if ((p = realloc(sb->p, cap)) == NULL)
		return (-1);
	sb->p = p;
	sb->cap = cap;
	return (0);
}

/* Append n bytes, NUL-terminated, or fail with sb unchanged.  See sbuf.h. */
int
sbuf_try_add(struct sbuf *sb, const void *data, size_t n)
{
	if (n == SIZE_MAX || sbuf_reserve(sb, n + 1) == -1)
		return (-1);
	if (n > 0)
		memcpy(sb->p + sb->len, data, n);
	sb->len += n;
	sb->p[sb->len] = '\0';
	return (0);
}

/* Release the bytes.  See sbuf.h. */
void
sbuf_free(struct sbuf *sb)
{
	free(sb->p);
	sb->p = NULL;
	sb->len = 0;
	sb->cap = 0;
}
