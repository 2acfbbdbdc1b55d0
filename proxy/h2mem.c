/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * The per-worker allocator behind libnghttp2 (see h2mem.h).  nghttp2's
 * free hook gets no size, so a block says where it came from: class and
 * plain blocks start with a 16-byte header (class index or size), and
 * mappings, which have none, are found in a small address table.  Size
 * classes (up to 1 KiB) cover what a stream allocates and frees over and
 * over; freed class blocks go on a per-class list until the cap is
 * reached.  Blocks of H2MEM_MAP_MIN bytes or more are mapped with mmap:
 * nghttp2's frame buffer is 16 KiB, but frames are small and DATA payload
 * is not copied into it, so only its first page is written, and since a
 * mapping has no header h2mem_discard() can hand even that page back while
 * the session is idle.  Up to H2MEM_MAP_CACHE freed mappings are kept
 * (discarded) for the next connections, so most cost no mmap.  Not
 * thread-safe by design: one allocator per worker thread.  Called by h2.c
 * (and nghttp2 through the hooks); calls only libc.
 */

#include <sys/mman.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nghttp2/nghttp2.h>

#include "proxy/h2mem.h"
#include "proxy/log.h"
#include "proxy/util.h"

/* The header of a class or plain block: 16 bytes keep the user pointer
 * as aligned as malloc's.  Mapped blocks have none (see h2mem_map). */
struct h2mem_hdr {
	uint32_t		 kind;	/* class index, or H2MEM_K_PLAIN */
	uint32_t		 magic;
	size_t			 cap;	/* bytes the user part can hold */
};

#define H2MEM_HDR	sizeof(struct h2mem_hdr)
#define H2MEM_MAGIC	0x68326d65u	/* "h2me": catches a foreign pointer */
#define H2MEM_K_PLAIN	0xfff0u		/* malloc, bigger than any class */

/*
 * User sizes of the classes: 16-byte steps where the allocations of a
 * stream cluster (rcbufs, header entries, outbound items, nghttp2's
 * stream), coarser above.  A block wastes at most a quarter of its size.
 * Bigger blocks are made once per session and live as long: they are
 * malloc'd at their exact size.
 */
static const size_t h2mem_class_size[] = {
	16, 32, 48, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384,
	448, 512, 640, 768, 1024
};
#define H2MEM_NCLASS	(sizeof(h2mem_class_size) / sizeof(h2mem_class_size[0]))
#define H2MEM_CLASS_MAX	((size_t)1024)

/* Mappings kept for reuse, at most (and within the byte cap). */
#define H2MEM_MAP_CACHE	8

/* A free class block's user part links its list. */
struct h2mem_free {
	struct h2mem_free	*next;
};

/* A live mapping: where, how long, and who claimed it (h2mem_claim). */
struct h2mem_map {
	void			*p;
	size_t			 len;
	const void		*owner;
};

struct h2mem {
	nghttp2_mem		 ng;		/* mem_user_data is m */
	struct h2mem_free	*list[H2MEM_NCLASS];
	size_t			 cap;		/* bytes the caches may hold */
	size_t			 page;
	/*
	 * Live mappings, an open-addressing table keyed by address (linear
	 * probing, backward-shift deletion): a mapping carries no header,
	 * so that all of its pages can be handed back while it is idle.
	 */
	struct h2mem_map	*tab;
	size_t			 tabsize;	/* a power of two, or 0 */
	size_t			 nmaps;
	void			*last;		/* the latest mapping made */
	size_t			 nmade;	/* since h2mem_mark() */
	struct h2mem_map	 cache[H2MEM_MAP_CACHE];
	size_t			 ncache;
	/* Class index for each (size + 15) / 16, up to the largest class. */
	uint8_t			 idx[H2MEM_CLASS_MAX / 16 + 1];
	struct h2mem_stats	 st;
};

static void	*h2mem_malloc_cb(size_t, void *);
static void	 h2mem_free_cb(void *, void *);
static void	*h2mem_calloc_cb(size_t, size_t, void *);
static void	*h2mem_realloc_cb(void *, size_t, void *);

static struct h2mem_hdr *
h2mem_hdr(void *p)
{
	return ((struct h2mem_hdr *)(void *)((char *)p - H2MEM_HDR));
}

static void *
h2mem_user(struct h2mem_hdr *h, uint32_t kind, size_t cap)
{
	h->kind = kind;
	h->magic = H2MEM_MAGIC;
	h->cap = cap;
	return ((char *)h + H2MEM_HDR);
}

/* See h2mem.h. */
struct h2mem *
h2mem_new(size_t cap)
{
	struct h2mem	*m = xcalloc(1, sizeof(*m));
	size_t		 i, c = 0;
	long		 pg = sysconf(_SC_PAGESIZE);

	m->cap = cap;
	m->page = pg > 0 ? (size_t)pg : 4096;
	for (i = 0; i < sizeof(m->idx); i++) {
		while (h2mem_class_size[c] < i * 16)
			c++;
		m->idx[i] = (uint8_t)c;
	}
	m->ng.mem_user_data = m;
	m->ng.malloc = h2mem_malloc_cb;
	m->ng.free = h2mem_free_cb;
	m->ng.calloc = h2mem_calloc_cb;
	m->ng.realloc = h2mem_realloc_cb;
	return (m);
}

/* See h2mem.h. */
void
h2mem_free(struct h2mem *m)
{
	struct h2mem_free	*f;
	size_t			 i;

	if (m == NULL)
		return;
	for (i = 0; i < H2MEM_NCLASS; i++) {
		while ((f = m->list[i]) != NULL) {
			m->list[i] = f->next;
			free(h2mem_hdr(f));
		}
	}
	for (i = 0; i < m->ncache; i++)
		(void)munmap(m->cache[i].p, m->cache[i].len);
	free(m->tab);
	free(m);
}

/* See h2mem.h. */
nghttp2_mem *
h2mem_nghttp2(struct h2mem *m)
{
	return (&m->ng);
}

/* ------------------------------------------------------------------ */
/* The table of live mappings                                          */
/* ------------------------------------------------------------------ */

static size_t
h2mem_slot(const struct h2mem *m, const void *p)
{
	uint64_t	 k = (uint64_t)(uintptr_t)p / m->page;

	return ((size_t)((k * 0x9e3779b97f4a7c15ull) >> 17) &
	    (m->tabsize - 1));
}

/* The entry of the mapping at p, or NULL. */
static struct h2mem_map *
h2mem_find(const struct h2mem *m, const void *p)
{
	size_t	 i;

	if (m->nmaps == 0 || ((uintptr_t)p & (m->page - 1)) != 0)
		return (NULL);
	for (i = h2mem_slot(m, p); m->tab[i].p != NULL;
	    i = (i + 1) & (m->tabsize - 1))
		if (m->tab[i].p == p)
			return (&m->tab[i]);
	return (NULL);
}

static void
h2mem_insert(struct h2mem *m, void *p, size_t len)
{
	struct h2mem_map	*old = m->tab;
	size_t			 n = m->tabsize, i;

	/* At most half full, so probes stay short. */
	if ((m->nmaps + 1) * 2 > m->tabsize) {
		m->tabsize = n == 0 ? 64 : n * 2;
		m->tab = xcalloc(m->tabsize, sizeof(*m->tab));
		m->nmaps = 0;
		for (i = 0; i < n; i++)
			if (old[i].p != NULL) {
				h2mem_insert(m, old[i].p, old[i].len);
				h2mem_find(m, old[i].p)->owner = old[i].owner;
			}
		free(old);
	}
	for (i = h2mem_slot(m, p); m->tab[i].p != NULL;
	    i = (i + 1) & (m->tabsize - 1))
		;
	m->tab[i].p = p;
	m->tab[i].len = len;
	m->tab[i].owner = NULL;
	m->nmaps++;
}

/* Remove entry e; later entries of its probe run move up (no tombstones). */
static void
h2mem_remove(struct h2mem *m, struct h2mem_map *e)
{
	size_t	 mask = m->tabsize - 1;
	size_t	 i = (size_t)(e - m->tab), j = i, k;

	m->tab[i].p = NULL;
	for (;;) {
		j = (j + 1) & mask;
		if (m->tab[j].p == NULL)
			break;
		k = h2mem_slot(m, m->tab[j].p);
		/* Entry j may fill hole i unless its home slot k lies
		 * cyclically in (i, j]. */
		if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
			continue;
		m->tab[i] = m->tab[j];
		m->tab[j].p = NULL;
		i = j;
	}
	m->nmaps--;
}

/* ------------------------------------------------------------------ */
/* Blocks                                                              */
/* ------------------------------------------------------------------ */

/*
 * A mapping for n bytes, page-aligned and without a header: from the
 * cache when one of the right length is there, else fresh.  Both read
 * as zeros (cached ones were discarded).  NULL when mmap fails.
 */
static void *
h2mem_map(struct h2mem *m, size_t n)
{
	size_t	 len, i;
	void	*p;

	if (n > SIZE_MAX - m->page)
		return (NULL);
	len = (n + m->page - 1) / m->page * m->page;
	p = NULL;
	for (i = 0; i < m->ncache; i++) {
		if (m->cache[i].len == len) {
			p = m->cache[i].p;
			m->cache[i] = m->cache[--m->ncache];
			m->st.cached -= len;
			m->st.hits++;
			break;
		}
	}
	if (p == NULL) {
		p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			return (NULL);
		m->st.mapped += len;
		m->st.misses++;
	}
	h2mem_insert(m, p, len);
	m->last = p;
	m->nmade++;
	m->st.live++;
	return (p);
}

/* Mapping e is freed: cached (its pages discarded) or unmapped. */
static void
h2mem_unmap(struct h2mem *m, struct h2mem_map *e)
{
	void	*p = e->p;
	size_t	 len = e->len;

	h2mem_remove(m, e);
	if (m->last == p)
		m->last = NULL;
	m->st.live--;
	if (m->ncache < H2MEM_MAP_CACHE && m->st.cached + len <= m->cap &&
	    madvise(p, len, MADV_DONTNEED) == 0) {
		m->cache[m->ncache].p = p;
		m->cache[m->ncache].len = len;
		m->ncache++;
		m->st.cached += len;
		return;
	}
	m->st.mapped -= len;
	(void)munmap(p, len);
}

/* See h2mem.h. */
void *
h2mem_alloc(struct h2mem *m, size_t n)
{
	struct h2mem_free	*f;
	struct h2mem_hdr	*h;
	size_t			 c;
	void			*p;

	if (n <= H2MEM_CLASS_MAX) {
		c = m->idx[(n + 15) / 16];
		if ((f = m->list[c]) != NULL) {
			m->list[c] = f->next;
			m->st.cached -= h2mem_class_size[c] + H2MEM_HDR;
			m->st.hits++;
			m->st.live++;
			return (f);
		}
		if ((h = malloc(h2mem_class_size[c] + H2MEM_HDR)) == NULL)
			return (NULL);
		m->st.misses++;
		m->st.live++;
		return (h2mem_user(h, (uint32_t)c, h2mem_class_size[c]));
	}
	/* Out of mappings (vm.max_map_count): malloc below. */
	if (n >= H2MEM_MAP_MIN && (p = h2mem_map(m, n)) != NULL)
		return (p);
	if (n > SIZE_MAX - H2MEM_HDR || (h = malloc(n + H2MEM_HDR)) == NULL)
		return (NULL);
	m->st.misses++;
	m->st.live++;
	return (h2mem_user(h, H2MEM_K_PLAIN, n));
}

/* See h2mem.h. */
void
h2mem_release(struct h2mem *m, void *p)
{
	struct h2mem_free	*f = p;
	struct h2mem_hdr	*h;
	struct h2mem_map	*e;
	size_t			 len;

	if (p == NULL)
		return;
	if ((e = h2mem_find(m, p)) != NULL) {
		h2mem_unmap(m, e);
		return;
	}
	h = h2mem_hdr(p);
	if (h->magic != H2MEM_MAGIC)
		fatalx("h2mem: freeing a block it did not allocate");
	m->st.live--;
	if (h->kind >= H2MEM_NCLASS) {
		free(h);
		return;
	}
	len = h->cap + H2MEM_HDR;
	if (m->st.cached + len > m->cap) {
		free(h);
		return;
	}
	f->next = m->list[h->kind];
	m->list[h->kind] = f;
	m->st.cached += len;
}

/* See h2mem.h. */
void *
h2mem_calloc(struct h2mem *m, size_t nmemb, size_t size)
{
	size_t	 n;
	void	*p;

	if (size != 0 && nmemb > SIZE_MAX / size)
		return (NULL);
	n = nmemb * size;
	/* A mapping reads as zeros already: writing zeros would make every
	 * page of it resident. */
	if (n >= H2MEM_MAP_MIN && (p = h2mem_map(m, n)) != NULL)
		return (p);
	if ((p = h2mem_alloc(m, n)) != NULL)
		memset(p, 0, n);
	return (p);
}

/* See h2mem.h. */
void *
h2mem_realloc(struct h2mem *m, void *p, size_t n)
{
	struct h2mem_hdr	*h;
	struct h2mem_map	*e;
	size_t			 have;
	void			*q;

	if (p == NULL)
		return (h2mem_alloc(m, n));
	if ((e = h2mem_find(m, p)) != NULL) {
		have = e->len;
		if (n <= have && n >= H2MEM_MAP_MIN)
			return (p);
	} else {
		h = h2mem_hdr(p);
		if (h->magic != H2MEM_MAGIC)
			fatalx("h2mem: resizing a block it did not allocate");
		have = h->cap;
		if (n <= have)
			return (p);
	}
	if ((q = h2mem_alloc(m, n)) == NULL)
		return (NULL);
	memcpy(q, p, have < n ? have : n);
	h2mem_release(m, p);
	return (q);
}

/* See h2mem.h. */
void
h2mem_mark(struct h2mem *m)
{
	m->last = NULL;
	m->nmade = 0;
}

/* See h2mem.h. */
void *
h2mem_claim(struct h2mem *m, const void *owner)
{
	struct h2mem_map	*e;

	/* Exactly one: with more, which one is which is a guess, and a
	 * wrong guess would discard a live block's pages. */
	if (m->nmade != 1 || m->last == NULL ||
	    (e = h2mem_find(m, m->last)) == NULL || e->owner != NULL)
		return (NULL);
	e->owner = owner;
	return (e->p);
}

/* See h2mem.h. */
void
h2mem_discard(struct h2mem *m, void *p, const void *owner)
{
	struct h2mem_map	*e;

	if (p == NULL || (e = h2mem_find(m, p)) == NULL || e->owner != owner)
		return;
	(void)madvise(e->p, e->len, MADV_DONTNEED);
	m->st.discards++;
}

/* See h2mem.h. */
void
h2mem_get_stats(const struct h2mem *m, struct h2mem_stats *st)
{
	*st = m->st;
}

/* nghttp2's hooks: the same functions, the allocator as user data. */
static void *
h2mem_malloc_cb(size_t n, void *arg)
{
	return (h2mem_alloc(arg, n));
}

static void
h2mem_free_cb(void *p, void *arg)
{
	h2mem_release(arg, p);
}

static void *
h2mem_calloc_cb(size_t nmemb, size_t size, void *arg)
{
	return (h2mem_calloc(arg, nmemb, size));
}

static void *
h2mem_realloc_cb(void *p, size_t n, void *arg)
{
	return (h2mem_realloc(arg, p, n));
}
