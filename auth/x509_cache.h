/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * The verified-chain cache of auth (x509_cache.c): identities made by
 * x509_verify(), keyed by their chain key (x509_chain_key()), so that a
 * chain presented again costs a hash and a lookup, not a verification.
 * auth.c owns one per auth_ctx; auth_tls.c looks ticket identities up in
 * it.
 */

#ifndef AUTH_X509_CACHE_H
#define AUTH_X509_CACHE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "auth/x509.h"

/*
 * The verified-chain cache: at most max entries and max_bytes bytes (the
 * identities' bytes estimates; least recently used evicted), each alive
 * until its identity's cache_until, all of one trust generation.  A
 * refusal is cached as a slim copy: key, reason, detail and times, never
 * the chain.  Mutex-protected; every function is thread-safe.
 */
struct x509_cache;

/* A new empty cache for generation gen; max 0 disables caching (every
 * lookup misses, inserts are dropped).  NULL on OOM. */
struct x509_cache *x509_cache_new(size_t max, uint64_t gen);

/* Bound the cache by bytes as well (0: by entries only); evicts at once
 * what is over the new bound. */
void	 x509_cache_set_max_bytes(struct x509_cache *c, size_t max_bytes);

/*
 * Drop every entry whose cache_until has passed at now.  Works in slices
 * of buckets, releasing the lock between them, so lookups wait at most a
 * slice.  Returns how many entries were dropped.
 */
size_t	 x509_cache_purge(struct x509_cache *c, time_t now);

/* Free the cache and drop its references; NULL is a no-op. */
void	 x509_cache_free(struct x509_cache *c);

/*
 * Look key up: returns a new reference to the identity (caller puts it)
 * when an entry of generation gen exists and now < its cache_until;
 * otherwise NULL (an expired entry is removed).  Counts hits and misses.
 */
struct auth_ident *x509_cache_lookup(struct x509_cache *c,
		    const unsigned char key[X509_KEY_LEN], uint64_t gen,
		    time_t now);

/*
 * Insert id under its key (the cache takes its own reference; of a slim
 * copy when id is a refusal), replacing an older entry with the same key.
 * Ignored when id has no key, is not of the cache's current generation,
 * is already past cache_until, or is alone larger than max_bytes.
 */
void	 x509_cache_insert(struct x509_cache *c, struct auth_ident *id,
	    time_t now);

/* Drop every entry and switch the cache to generation gen. */
void	 x509_cache_reset(struct x509_cache *c, uint64_t gen);

/* Entries, hits and misses so far (any pointer may be NULL). */
void	 x509_cache_stats(struct x509_cache *c, size_t *entries,
	    uint64_t *hits, uint64_t *misses);

/* Bytes (sum of the entries' estimates) now held; thread-safe. */
size_t	 x509_cache_bytes(struct x509_cache *c);

#endif /* AUTH_X509_CACHE_H */
