/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * A per-worker allocator for libnghttp2 (its nghttp2_mem hooks), used by
 * h2.c's sessions.  Small blocks come from size-class free lists, so the
 * allocations a stream makes and frees (nghttp2's stream, outbound items,
 * header entries) are recycled without malloc; blocks of H2MEM_MAP_MIN
 * bytes or more (the session's 16 KiB outbound frame buffer) are mapped
 * directly, so only the pages actually written become resident.  What the
 * free lists hold is bounded by a byte cap; beyond it memory goes back to
 * malloc or the kernel.  A mapping can be discarded while its owner is
 * idle (h2mem_claim(), h2mem_discard()).  One struct h2mem belongs to one
 * worker thread and is never shared: a session allocates and frees on its
 * worker only.
 */

#ifndef PROXY_H2MEM_H
#define PROXY_H2MEM_H

#include <stddef.h>

#include <nghttp2/nghttp2.h>

/* Blocks of this many bytes or more are mapped (mmap), not malloc'd. */
#define H2MEM_MAP_MIN	((size_t)8192)

/* Counters, for tests and metrics. */
struct h2mem_stats {
	size_t		 live;		/* blocks handed out, not freed */
	size_t		 cached;	/* bytes held in the free lists */
	size_t		 mapped;	/* bytes mapped (live and cached) */
	size_t		 hits;		/* allocations served from a list */
	size_t		 misses;	/* allocations that went further */
	size_t		 discards;	/* h2mem_discard() calls that acted */
};

struct h2mem;

/*
 * A new allocator whose free lists hold at most cap bytes.  Aborts on
 * out of memory (bookkeeping).  The caller owns it; h2mem_free() ends it.
 */
struct h2mem	*h2mem_new(size_t cap);

/*
 * Free m and everything its free lists hold.  Blocks still handed out
 * stay valid (they are plain malloc/mmap blocks) but must not be freed
 * through m afterwards.  h2mem_free(NULL) is a no-op.
 */
void		 h2mem_free(struct h2mem *m);

/*
 * The nghttp2_mem to give nghttp2_session_server_new3(); it lives as long
 * as m.  Every session created with it must be deleted on m's thread
 * before h2mem_free(m).
 */
nghttp2_mem	*h2mem_nghttp2(struct h2mem *m);

/* malloc/calloc/realloc/free through m (the same functions nghttp2 gets);
 * NULL on failure, with errno set by the system. */
void		*h2mem_alloc(struct h2mem *m, size_t n);
void		*h2mem_calloc(struct h2mem *m, size_t nmemb, size_t size);
void		*h2mem_realloc(struct h2mem *m, void *p, size_t n);
void		 h2mem_release(struct h2mem *m, void *p);

/*
 * Forget which mapping m made last: h2mem_claim() then claims only one
 * made after this call.
 */
void		 h2mem_mark(struct h2mem *m);

/*
 * Claim the mapping m made since h2mem_mark() (its blocks of
 * H2MEM_MAP_MIN bytes or more) for owner, so that h2mem_discard() may act
 * on it later.  Returns the block, or NULL when there is none, when more
 * than one mapping was made since the mark, or when it was claimed
 * already.  For h2.c: h2mem_mark(), nghttp2_session_server_new3()
 * (whose only big block is the session's outbound frame buffer), then
 * h2mem_claim().
 */
void		*h2mem_claim(struct h2mem *m, const void *owner);

/*
 * Hand the pages of block p back to the kernel (MADV_DONTNEED): it stays
 * valid and reads as zeros.  Acts only while p is a live mapping that
 * owner claimed; otherwise does nothing.  The caller must know that no
 * byte of p matters any more (nghttp2: no frame is half sent).
 */
void		 h2mem_discard(struct h2mem *m, void *p, const void *owner);

/* Fill st with m's counters. */
void		 h2mem_get_stats(const struct h2mem *m, struct h2mem_stats *st);

#endif /* PROXY_H2MEM_H */
