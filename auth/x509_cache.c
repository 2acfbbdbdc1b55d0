/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * The verified-chain cache of auth (x509_cache.h): identities made by
 * x509_verify(), keyed by the SHA-256 of the exact chain bytes, bounded by
 * entries and by bytes (least recently used evicted first), each alive
 * until its cache_until, all of one trust generation.  A refusal is kept
 * as a slim copy (x509_ident_slim_new(): key, reason and times, never the
 * chain).  auth.c owns the one cache of an auth_ctx and resets it on a
 * trust reload; auth_tls.c looks ticket identities up in it.  It neither
 * verifies nor logs.
 */

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/auth.h"
#include "auth/x509.h"
#include "auth/x509_cache.h"

/*
 * A hash table of entries, chained per bucket, threaded on one LRU list
 * (head = most recently used).  One mutex guards it all: the critical
 * sections are a hash lookup and a few pointer moves.
 */
struct x509_centry {
	struct x509_ident *id;		/* one reference */
	struct x509_centry *hnext;
	struct x509_centry *prev, *next;
};

struct x509_cache {
	pthread_mutex_t	 lock;
	struct x509_centry **buckets;
	size_t		 nbuckets;	/* power of two */
	size_t		 n, max;
	size_t		 bytes, max_bytes;	/* max_bytes 0: no bound */
	struct x509_centry *head, *tail;
	uint64_t	 gen;
	uint64_t	 hits, misses;
};

struct x509_cache *
x509_cache_new(size_t max, uint64_t gen)
{
	struct x509_cache *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return (NULL);
	c->nbuckets = 16;
	while (c->nbuckets < max * 2 && c->nbuckets < ((size_t)1 << 24))
		c->nbuckets <<= 1;
	c->buckets = calloc(c->nbuckets, sizeof(struct x509_centry *));
	if (c->buckets == NULL || pthread_mutex_init(&c->lock, NULL) != 0) {
		free(c->buckets);
		free(c);
		return (NULL);
	}
	c->max = max;
	c->gen = gen;
	return (c);
}

static size_t
x509_cache_bucket(const struct x509_cache *c, const unsigned char *key)
{
	size_t		 h;

	/* The key is a SHA-256: any of its bytes are uniform. */
	memcpy(&h, key, sizeof(h));
	return (h & (c->nbuckets - 1));
}

static void
x509_lru_unlink(struct x509_cache *c, struct x509_centry *e)
{
	if (e->prev != NULL)
		e->prev->next = e->next;
	else
		c->head = e->next;
	if (e->next != NULL)
		e->next->prev = e->prev;
	else
		c->tail = e->prev;
	e->prev = e->next = NULL;
}

static void
x509_lru_push(struct x509_cache *c, struct x509_centry *e)
{
	e->prev = NULL;
	e->next = c->head;
	if (c->head != NULL)
		c->head->prev = e;
	c->head = e;
	if (c->tail == NULL)
		c->tail = e;
}

/* Unlink e from its bucket and the LRU and uncount it, keeping e and its
 * reference for the caller; caller holds lock. */
static void
x509_cache_unlink(struct x509_cache *c, struct x509_centry *e)
{
	struct x509_centry **pp;

	pp = &c->buckets[x509_cache_bucket(c, e->id->key)];
	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	x509_lru_unlink(c, e);
	c->n--;
	c->bytes -= e->id->bytes + sizeof(*e);
}

/* Unlink e and free it; caller holds lock.  The identity reference is
 * returned so it can be dropped unlocked. */
static struct x509_ident *
x509_cache_remove(struct x509_cache *c, struct x509_centry *e)
{
	struct x509_ident *id = e->id;

	x509_cache_unlink(c, e);
	free(e);
	return (id);
}

static struct x509_centry *
x509_cache_find(struct x509_cache *c, const unsigned char *key)
{
	struct x509_centry *e;

	for (e = c->buckets[x509_cache_bucket(c, key)]; e != NULL;
	    e = e->hnext)
		if (memcmp(e->id->key, key, X509_KEY_LEN) == 0)
			return (e);
	return (NULL);
}

struct auth_ident *
x509_cache_lookup(struct x509_cache *c, const unsigned char key[X509_KEY_LEN],
    uint64_t gen, time_t now)
{
	struct x509_centry *e;
	struct x509_ident *found = NULL, *dead = NULL;

	pthread_mutex_lock(&c->lock);
	if (gen == c->gen && (e = x509_cache_find(c, key)) != NULL) {
		if (now < e->id->cache_until) {
			found = e->id;
			x509_ident_get(&found->pub);
			x509_lru_unlink(c, e);
			x509_lru_push(c, e);
		} else
			dead = x509_cache_remove(c, e);
	}
	if (found != NULL)
		c->hits++;
	else
		c->misses++;
	pthread_mutex_unlock(&c->lock);
	if (dead != NULL)
		x509_ident_put(&dead->pub);
	return (found != NULL ? &found->pub : NULL);
}

/* Evict from the LRU tail until one more entry of size need fits; the
 * evicted entries are chained on *dead (by next) for the caller to free
 * outside the lock.  Caller holds lock. */
static void
x509_cache_make_room(struct x509_cache *c, size_t need,
    struct x509_centry **dead)
{
	struct x509_centry *e;

	while (c->tail != NULL && ((need > 0 && c->n >= c->max) ||
	    (c->max_bytes > 0 && c->bytes + need > c->max_bytes))) {
		e = c->tail;
		x509_cache_unlink(c, e);
		e->next = *dead;
		*dead = e;
	}
}

static void
x509_cache_free_list(struct x509_centry *list)
{
	struct x509_centry *e;

	while ((e = list) != NULL) {
		list = e->next;
		x509_ident_put(&e->id->pub);
		free(e);
	}
}

void
x509_cache_insert(struct x509_cache *c, struct auth_ident *pub, time_t now)
{
	struct x509_ident *id = (struct x509_ident *)pub;
	struct x509_centry *e, *ne, *dead = NULL;
	size_t		 need;

	if (id == NULL || id->is_static || !id->has_key || c->max == 0 ||
	    now >= id->cache_until)
		return;
	if (pub->status == AUTH_CERT_OK)
		id = (struct x509_ident *)x509_ident_get(pub);
	else if ((id = x509_ident_slim_new(id)) == NULL)
		return;
	need = id->bytes + sizeof(*ne);
	if ((c->max_bytes > 0 && need > c->max_bytes) ||
	    (ne = calloc(1, sizeof(*ne))) == NULL) {
		x509_ident_put(&id->pub);
		return;
	}
	ne->id = id;
	pthread_mutex_lock(&c->lock);
	if (id->pub.trust_gen != c->gen) {
		pthread_mutex_unlock(&c->lock);
		free(ne);
		x509_ident_put(&id->pub);
		return;
	}
	if ((e = x509_cache_find(c, id->key)) != NULL) {
		x509_cache_unlink(c, e);
		e->next = dead;
		dead = e;
	}
	x509_cache_make_room(c, need, &dead);
	ne->hnext = c->buckets[x509_cache_bucket(c, id->key)];
	c->buckets[x509_cache_bucket(c, id->key)] = ne;
	x509_lru_push(c, ne);
	c->n++;
	c->bytes += need;
	pthread_mutex_unlock(&c->lock);
	x509_cache_free_list(dead);
}

void
x509_cache_set_max_bytes(struct x509_cache *c, size_t max_bytes)
{
	struct x509_centry *dead = NULL;

	pthread_mutex_lock(&c->lock);
	c->max_bytes = max_bytes;
	if (c->max > 0)
		x509_cache_make_room(c, 0, &dead);
	pthread_mutex_unlock(&c->lock);
	x509_cache_free_list(dead);
}

/* Buckets looked at per locked slice of a purge. */
#define X509_PURGE_SLICE	1024

size_t
x509_cache_purge(struct x509_cache *c, time_t now)
{
	struct x509_centry *e, *nx, *dead = NULL;
	size_t		 b = 0, end, n = 0;

	for (;;) {
		pthread_mutex_lock(&c->lock);
		if (b >= c->nbuckets) {
			pthread_mutex_unlock(&c->lock);
			break;
		}
		end = b + X509_PURGE_SLICE < c->nbuckets ?
		    b + X509_PURGE_SLICE : c->nbuckets;
		for (; b < end; b++)
			for (e = c->buckets[b]; e != NULL; e = nx) {
				nx = e->hnext;
				if (now < e->id->cache_until)
					continue;
				x509_cache_unlink(c, e);
				e->next = dead;
				dead = e;
				n++;
			}
		pthread_mutex_unlock(&c->lock);
		x509_cache_free_list(dead);
		dead = NULL;
	}
	return (n);
}

void
x509_cache_reset(struct x509_cache *c, uint64_t gen)
{
	struct x509_centry *list, *e;

	pthread_mutex_lock(&c->lock);
	list = c->head;
	c->head = c->tail = NULL;
	memset(c->buckets, 0, c->nbuckets * sizeof(struct x509_centry *));
	c->n = 0;
	c->bytes = 0;
	c->gen = gen;
	pthread_mutex_unlock(&c->lock);
	/* Drop the references outside the lock: frees may be slow. */
	while ((e = list) != NULL) {
		list = e->next;
		x509_ident_put(&e->id->pub);
		free(e);
	}
}

void
x509_cache_free(struct x509_cache *c)
{
	if (c == NULL)
		return;
	x509_cache_reset(c, c->gen);
	pthread_mutex_destroy(&c->lock);
	free(c->buckets);
	free(c);
}

void
x509_cache_stats(struct x509_cache *c, size_t *entries, uint64_t *hits,
    uint64_t *misses)
{
	pthread_mutex_lock(&c->lock);
	if (entries != NULL)
		*entries = c->n;
	if (hits != NULL)
		*hits = c->hits;
	if (misses != NULL)
		*misses = c->misses;
	pthread_mutex_unlock(&c->lock);
}

size_t
x509_cache_bytes(struct x509_cache *c)
{
	size_t		 n;

	pthread_mutex_lock(&c->lock);
	n = c->bytes;
	pthread_mutex_unlock(&c->lock);
	return (n);
}
