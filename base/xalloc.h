/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * Checked allocators for small bookkeeping memory, shared by every layer
 * (base/ sits below conf/, auth/ and proxy/ and includes none of them).
 * They abort on out-of-memory, as there is no sane way to go on without a
 * few dozen bytes of bookkeeping.  Never use them for sizes that a peer or
 * a file chooses: those take a checked malloc() and fail the one request
 * or load.  The names are fixed by STYLE.md (h2o's h2o_mem_alloc idea).
 */

#ifndef BASE_XALLOC_H
#define BASE_XALLOC_H

#include <stddef.h>

/* malloc(n), n == 0 treated as 1.  Never returns NULL (aborts); the
 * caller owns the block and frees it with free(). */
void		*xmalloc(size_t n);

/* calloc(n, size), zero counts treated as 1.  Never returns NULL
 * (aborts); the caller owns the zeroed block and frees it with free(). */
void		*xcalloc(size_t n, size_t size);

/* strdup(s); s must not be NULL.  Never returns NULL (aborts); the caller
 * owns the copy and frees it with free(). */
char		*xstrdup(const char *s);

#endif /* BASE_XALLOC_H */
