/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * The checked bookkeeping allocators of base/xalloc.h: malloc, calloc and
 * strdup that print one line and abort on out-of-memory.  Used by every
 * layer for small fixed-size objects; calls nothing but libc.
 */

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"

/* Allocate n bytes or abort.  See xalloc.h. */
void *
xmalloc(size_t n)
{
	void	*p;

	if ((p = malloc(n == 0 ? 1 : n)) == NULL) {
		fprintf(stderr, "gridfront: out of memory (%zu bytes)\n", n);
		abort();
	}
	return (p);
}

/* Allocate n zeroed elements of size bytes or abort.  See xalloc.h. */
void *
xcalloc(size_t n, size_t size)
{
	void	*p;

	if ((p = calloc(n == 0 ? 1 : n, size == 0 ? 1 : size)) == NULL) {
		fprintf(stderr, "gridfront: out of memory\n");
		abort();
	}
	return (p);
}

/* Copy s or abort.  See xalloc.h. */
char *
xstrdup(const char *s)
{
	char	*p;

	if ((p = strdup(s)) == NULL) {
		fprintf(stderr, "gridfront: out of memory\n");
		abort();
	}
	return (p);
}
