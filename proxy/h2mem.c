/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * The per-worker allocator behind libnghttp2 (see h2mem.h).  Every block
 * starts with a 16-byte header that says where it came from (a size
 * class, a mapping, or plain malloc) and how many bytes it can hold,
 * since nghttp2's free hook gets no size.  Size classes cover what a
 * session and its streams allocate over and over (up to 4 KiB); freed
 * class blocks go on a per-class list until the cap is reached.  Blocks
 * of H2MEM_MAP_MIN bytes or more are mapped with mmap: nghttp2's frame
 * buffer is 16 KiB but frames are small and DATA payload is not copied
 * into it, so of its pages only the first is ever written, and an idle
 * connection keeps one page resident instead of four.  Mapped blocks of
 * the usual size are cached too (same cap), so a new connection costs a
 * syscall only when the cache is empty.  Not thread-safe by design: one
 * allocator per worker thread.  Called by h2.c (and nghttp2 through the
 * hooks); calls only libc.
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

/* The header: 16 bytes keep the user pointer as aligned as malloc's. */
struct h2mem_hdr {
	uint32_t		 kind;	/* class index, or H2MEM_K_* */
	uint32_t		 magic;
	size_t			 cap;	/* bytes the user part can hold */
};

#define H2MEM_HDR	sizeof(struct h2mem_hdr)
#define H2MEM_MAGIC	0x6832u	/* "h2": catches a foreign pointer */
#define H2MEM_K_PLAIN	0xfff0u	/* malloc, too big for a class */
#define H2MEM_K_MAP	0xfff1u	/* mmap; cap + header = mapping length */

/*
 * User sizes of the classes: 16-byte steps where nghttp2's small
 * allocations cluster (rcbufs, header entries, outbound items, streams),
 * coarser above.  A block wastes at most a quarter of its size.
 */
static const size_t h2mem_class_size[] = {
	16, 32, 48, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384,
	448, 512, 640, 768, 1024, 1280, 1536, 2048, 2560, 3072, 4096
};
#define H2MEM_NCLASS	(sizeof(h2mem_class_size) / sizeof(h2mem_class_size[0]))
#define H2MEM_CLASS_MAX	((size_t)4096)

/* A free block's user part links the list. */
struct h2mem_free {
	struct h2mem_free	*next;
};

struct h2mem {
	nghttp2_mem		 ng;		/* mem_user_data is m */
	struct h2mem_free	*list[H2MEM_NCLASS];
	struct h2mem_free	*maps;		/* cached mappings */
	size_t			 cap;		/* bytes the lists may hold */
	size_t			 mcached;	/* of which in maps */
	size_t			 page;
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
	struct h2mem_hdr	*h;
	size_t			 i;

	if (m == NULL)
		return;
	for (i = 0; i < H2MEM_NCLASS; i++) {
		while ((f = m->list[i]) != NULL) {
			m->list[i] = f->next;
			free(h2mem_hdr(f));
		}
	}
	while ((f = m->maps) != NULL) {
		m->maps = f->next;
		h = h2mem_hdr(f);
		(void)munmap(h, h->cap + H2MEM_HDR);
	}
	free(m);
}

/* See h2mem.h. */
nghttp2_mem *
h2mem_nghttp2(struct h2mem *m)
{
	return (&m->ng);
}

/* A mapping for n bytes: from the cache when one of the right length is
 * there, else fresh (zero-filled).  *fresh says which. */
static void *
h2mem_map(struct h2mem *m, size_t n, int *fresh)
{
	struct h2mem_free	**fp, *f;
	struct h2mem_hdr	*h;
	size_t			 len;

	if (n > SIZE_MAX - H2MEM_HDR - m->page)
		return (NULL);
	len = (n + H2MEM_HDR + m->page - 1) / m->page * m->page;
	for (fp = &m->maps; (f = *fp) != NULL; fp = &f->next) {
		h = h2mem_hdr(f);
		if (h->cap + H2MEM_HDR == len) {
			*fp = f->next;
			m->st.cached -= len;
			m->mcached -= len;
			m->st.hits++;
			*fresh = 0;
			return (f);
		}
	}
	h = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
	    -1, 0);
	if (h == MAP_FAILED)
		return (NULL);
	m->st.mapped += len;
	m->st.misses++;
	*fresh = 1;
	return (h2mem_user(h, H2MEM_K_MAP, len - H2MEM_HDR));
}

/* See h2mem.h. */
void *
h2mem_alloc(struct h2mem *m, size_t n)
{
	struct h2mem_free	*f;
	struct h2mem_hdr	*h;
	size_t			 c;
	int			 fresh;
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
	if (n >= H2MEM_MAP_MIN) {
		if ((p = h2mem_map(m, n, &fresh)) != NULL) {
			m->st.live++;
			return (p);
		}
		/* Out of mappings (vm.max_map_count): malloc below. */
	}
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
	size_t			 len;

	if (p == NULL)
		return;
	h = h2mem_hdr(p);
	if (h->magic != H2MEM_MAGIC)
		fatalx("h2mem: freeing a block it did not allocate");
	m->st.live--;
	if (h->kind < H2MEM_NCLASS) {
		len = h->cap + H2MEM_HDR;
		if (m->st.cached + len > m->cap) {
			free(h);
			return;
		}
		f->next = m->list[h->kind];
		m->list[h->kind] = f;
		m->st.cached += len;
	} else if (h->kind == H2MEM_K_MAP) {
		/* Mappings may take half the cap, so that a wave of closing
		 * connections does not crowd out the small blocks. */
		len = h->cap + H2MEM_HDR;
		if (m->st.cached + len > m->cap ||
		    m->mcached + len > m->cap / 2) {
			m->st.mapped -= len;
			(void)munmap(h, len);
			return;
		}
		f->next = m->maps;
		m->maps = f;
		m->st.cached += len;
		m->mcached += len;
	} else
		free(h);
}

/* See h2mem.h. */
void *
h2mem_calloc(struct h2mem *m, size_t nmemb, size_t size)
{
	size_t			 n;
	int			 fresh = 0;
	void			*p;

	if (size != 0 && nmemb > SIZE_MAX / size)
		return (NULL);
	n = nmemb * size;
	if (n >= H2MEM_MAP_MIN && (p = h2mem_map(m, n, &fresh)) != NULL) {
		m->st.live++;
		/* A fresh mapping is zero already: writing zeros would make
		 * every page of it resident. */
		if (!fresh)
			memset(p, 0, n);
		return (p);
	}
	if ((p = h2mem_alloc(m, n)) == NULL)
		return (NULL);
	memset(p, 0, n);
	return (p);
}

/* See h2mem.h. */
void *
h2mem_realloc(struct h2mem *m, void *p, size_t n)
{
	struct h2mem_hdr	*h;
	void			*q;

	if (p == NULL)
		return (h2mem_alloc(m, n));
	h = h2mem_hdr(p);
	if (h->magic != H2MEM_MAGIC)
		fatalx("h2mem: resizing a block it did not allocate");
	if (n <= h->cap && (h->kind != H2MEM_K_MAP || n >= H2MEM_MAP_MIN))
		return (p);		/* fits, and no class would be better */
	if ((q = h2mem_alloc(m, n)) == NULL)
		return (NULL);
	memcpy(q, p, h->cap < n ? h->cap : n);
	h2mem_release(m, p);
	return (q);
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
