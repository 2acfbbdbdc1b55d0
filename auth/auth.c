/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * The auth façade (auth.h): owns the live trust snapshot, CRIC map, ban
 * list and HMAC key and reloads them when their files change, and
 * verifies presented chains through the verified-chain cache
 * (x509_cache.c) under the trust in force.  It is the file proxy/ calls:
 * the TLS hooks (auth_tls.c), the per-request decision (decide.c) and the
 * trouble page (trouble.c) are reached through the auth_* functions here
 * or, for auth_tls_setup() and auth_tls_shed(), in auth_tls.c under their
 * own stem.  It glues x509.c, dnmap.c, ban.c, sign.c and voms.c together.
 * It never logs: refresh failures are written into the caller's buffer.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/x509.h>

#include "auth/auth.h"
#include "auth/auth_int.h"
#include "auth/ban.h"
#include "auth/dnmap.h"
#include "auth/hosts.h"
#include "auth/namespaces.h"
#include "auth/sign.h"
#include "auth/x509.h"
#include "auth/x509_cache.h"
#include "conf/conf.h"

/*
 * Should the file(s) behind *cur be loaded now, with sig just taken?  Yes
 * when sig differs, or when the last load of *cur failed.  Records sig;
 * sets *retry when it is a retry of an unchanged failed load (the caller
 * then uses auth_sig_failed() to stay quiet about a repeated error).
 */
static int
auth_sig_due(struct auth_sig *cur, struct auth_sig sig, int *retry)
{
	uint64_t	 errh = cur->errh;

	*retry = cur->known == 0 && cur->h == sig.h;
	if (cur->known && cur->h == sig.h)
		return (0);
	*cur = sig;
	cur->errh = *retry ? errh : 0;
	return (1);
}

static uint64_t auth_fold_str(uint64_t, const char *);

/*
 * Record that loading what *cur describes failed with why: retry on the
 * next check.  Returns 1 when the failure is news (log and count it), 0
 * for the same error again on an unchanged file.
 */
static int
auth_sig_failed(struct auth_sig *cur, int retry, const char *why)
{
	uint64_t	 errh = auth_fold_str(0xcbf29ce484222325ULL, why);
	int		 news = !retry || errh != cur->errh;

	cur->known = 0;
	cur->errh = errh;
	return (news);
}

/* ------------------------------------------------------------------ */
/* Snapshots and small helpers                                         */
/* ------------------------------------------------------------------ */

struct auth_snap *
auth_snap_get(struct auth_snap *s)
{
	if (s != NULL)
		__atomic_add_fetch(&s->refs, 1, __ATOMIC_RELAXED);
	return (s);
}

void
auth_snap_put(struct auth_snap *s)
{
	if (s == NULL || __atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	dnmap_free(s->map);
	ban_free(s->ban);
	hosts_free(s->hosts);
	sign_key_free(s->key, s->keylen);
	free(s->utf8note);
	free(s);
}

static struct auth_snap *
auth_snap_new(uint64_t gen)
{
	struct auth_snap *s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return (NULL);
	s->refs = 1;
	s->gen = gen;
	return (s);
}

/* Append one line to a log buffer, keeping it NUL-terminated. */
static void
auth_logf(char *log, size_t loglen, const char *fmt, ...)
{
	size_t		 off;
	va_list		 ap;

	if (log == NULL || loglen == 0)
		return;
	off = strnlen(log, loglen - 1);
	if (off > 0 && off + 1 < loglen)
		log[off++] = '\n';
	log[off] = '\0';
	va_start(ap, fmt);
	vsnprintf(log + off, loglen - off, fmt, ap);
	va_end(ap);
}

static char *
auth_strdup_opt(const char *s)
{
	return (s != NULL ? strdup(s) : NULL);
}

/* Fold a stat result into h (FNV-1a over the fields that change). */
static uint64_t
auth_fold(uint64_t h, const struct stat *st)
{
	uint64_t	 v[6];
	const unsigned char *p;
	size_t		 i;

	/*
	 * Every byte is set below.  The memset, and taking p only once v is
	 * filled, are for clang's analyzer and cppcheck: neither follows
	 * byte reads of a uint64_t store.
	 */
	memset(v, 0, sizeof(v));
	v[0] = (uint64_t)st->st_dev;
	v[1] = (uint64_t)st->st_ino;
	v[2] = (uint64_t)st->st_size;
	v[3] = (uint64_t)st->st_mtim.tv_sec;
	v[4] = (uint64_t)st->st_mtim.tv_nsec;
	v[5] = (uint64_t)st->st_ctim.tv_nsec;
	p = (const unsigned char *)v;
	for (i = 0; i < sizeof(v); i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return (h);
}

static uint64_t
auth_fold_str(uint64_t h, const char *s)
{
	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return (h);
}

/*
 * Signature of a file (stat follows symlinks, so a Kubernetes "..data"
 * swap shows) or, with depth > 0, of a directory and its entries down to
 * depth levels: names, inodes, sizes and mtimes of everything.
 */
static uint64_t
auth_sig_path(uint64_t h, const char *path, int depth)
{
	struct stat	 st;
	DIR		*d;
	struct dirent	*de;
	char		 sub[PATH_MAX];

	if (stat(path, &st) == -1)
		return (auth_fold_str(h ^ 0x5a5a, strerror(errno)));
	h = auth_fold(h, &st);
	if (depth <= 0 || !S_ISDIR(st.st_mode) || (d = opendir(path)) == NULL)
		return (h);
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if ((size_t)snprintf(sub, sizeof(sub), "%s/%s", path,
		    de->d_name) >= sizeof(sub))
			continue;
		/* readdir order is stable for an unchanged directory. */
		h = auth_fold_str(h, de->d_name);
		h = auth_sig_path(h, sub, depth - 1);
	}
	closedir(d);
	return (h);
}

static struct auth_sig
auth_sig_trust(const struct auth_ctx *ctx)
{
	struct auth_sig	 s;

	memset(&s, 0, sizeof(s));
	s.known = 1;
	s.h = auth_sig_path(0xcbf29ce484222325ULL, ctx->ca_path, 1);
	if (ctx->vomsdir != NULL)
		s.h = auth_sig_path(s.h, ctx->vomsdir, 2);
	return (s);
}

static struct auth_sig
auth_sig_file(const char *path)
{
	struct auth_sig	 s;

	memset(&s, 0, sizeof(s));
	s.known = 1;
	s.h = auth_sig_path(0xcbf29ce484222325ULL, path, 0);
	return (s);
}

/* ------------------------------------------------------------------ */
/* Loading                                                             */
/* ------------------------------------------------------------------ */

/*
 * Load a trust snapshot.  A file that cannot be parsed (a half-written CRL
 * from fetch-crl, say) refuses the whole snapshot: on reload the old store
 * stays in force rather than failing that CA's users closed.
 */
static struct x509_trust *
auth_load_trust(struct auth_ctx *ctx, uint64_t gen, char *err, size_t errlen)
{
	struct x509_trust_info info;
	struct x509_trust *t;

	struct namespaces_set *ns;
	char		 why[256];

	t = x509_trust_load(ctx->ca_path, ctx->vomsdir, ctx->depth, gen,
	    &info, err, errlen);
	if (t != NULL && info.nskipped > 0) {
		snprintf(err, errlen, "CA directory %s: %zu unreadable "
		    "file(s), first %s", ctx->ca_path, info.nskipped,
		    info.first_skip);
		x509_trust_put(t);
		return (NULL);
	}
	/* CA namespace policies: a file that does not parse refuses the
	 * snapshot, as a bad CRL does. */
	if (t != NULL && ctx->ns_mode != NAMESPACES_IGNORE) {
		why[0] = '\0';
		if ((ns = namespaces_load(ctx->ca_path, ctx->ns_mode, NULL,
		    why, sizeof(why))) == NULL) {
			snprintf(err, errlen, "CA directory %s: namespace "
			    "policy refused: %s", ctx->ca_path, why);
			x509_trust_put(t);
			return (NULL);
		}
		x509_trust_set_namespaces(t, ns);
	}
	return (t);
}

static struct auth_snap *
auth_load_users(const char *path, uint64_t gen, char *err, size_t errlen)
{
	struct auth_snap *s;
	struct dnmap_info info;

	if ((s = auth_snap_new(gen)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return (NULL);
	}
	if ((s->map = dnmap_load(path, &info, err, errlen)) == NULL) {
		free(s);
		return (NULL);
	}
	/* A name or DN that is not UTF-8 costs its record: say so. */
	s->bad_utf8 = info.bad_utf8;
	if (info.bad_utf8 > 0 && asprintf(&s->utf8note, "users file %s: %zu "
	    "record(s) refused, DN, LOGIN or NAME not valid UTF-8 (first: "
	    "%s)", path, info.bad_utf8, info.first_bad_utf8) == -1)
		s->utf8note = NULL;
	s->nfixed = info.edge_space;
	if (info.edge_space > 0)
		snprintf(s->note, sizeof(s->note), "users file %.80s: %zu "
		    "record(s) with leading or trailing spaces, first %.120s",
		    path, info.edge_space, info.first_edge);
	return (s);
}

static struct auth_snap *
auth_load_ban(const char *path, uint64_t gen, char *err, size_t errlen)
{
	struct auth_snap *s;
	size_t		 line = 0;

	if ((s = auth_snap_new(gen)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return (NULL);
	}
	if ((s->ban = ban_load(path, err, errlen)) == NULL) {
		free(s);
		return (NULL);
	}
	if ((s->nfixed = ban_legacy(s->ban, &line)) > 0)
		snprintf(s->note, sizeof(s->note), "ban list %.80s: %zu DN(s) "
		    "in legacy X509_NAME_oneline form (\\xHH, bare '\\'), "
		    "also banned in gridfront's form; first at line %zu",
		    path, s->nfixed, line);
	return (s);
}

static struct auth_snap *
auth_load_hosts(const char *path, uint64_t gen, char *err, size_t errlen)
{
	struct auth_snap *s;

	if ((s = auth_snap_new(gen)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return (NULL);
	}
	if ((s->hosts = hosts_load(path, err, errlen)) == NULL) {
		free(s);
		return (NULL);
	}
	return (s);
}

static struct auth_snap *
auth_load_key(const char *path, uint64_t gen, char *err, size_t errlen)
{
	struct auth_snap *s;

	if ((s = auth_snap_new(gen)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return (NULL);
	}
	if (sign_key_load(path, &s->key, &s->keylen, err, errlen) == -1) {
		free(s);
		return (NULL);
	}
	return (s);
}

struct auth_ctx *
auth_ctx_new(const struct conf_auth *ac, char *err, size_t errlen)
{
	struct auth_ctx	*ctx;
	char		 why[512];

	if ((ctx = calloc(1, sizeof(*ctx))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return (NULL);
	}
	if (pthread_mutex_init(&ctx->lock, NULL) != 0) {
		free(ctx);
		snprintf(err, errlen, "cannot create a mutex");
		return (NULL);
	}
	ctx->ca_path = auth_strdup_opt(ac->ca_path);
	ctx->vomsdir = auth_strdup_opt(ac->vomsdir);
	ctx->users = auth_strdup_opt(ac->users);
	ctx->banned = auth_strdup_opt(ac->banned);
	ctx->hosts = auth_strdup_opt(ac->hosts);
	ctx->hmac_key = auth_strdup_opt(ac->hmac_key);
	ctx->method = strdup(ac->authn_method != NULL ? ac->authn_method :
	    "X509Cert");
	ctx->depth = ac->verify_depth > 0 ? ac->verify_depth : 10;
	ctx->legacy = ac->legacy_proxies;
	ctx->max_cert_list = ac->max_cert_list;
	ctx->ns_mode = ac->namespaces == CONF_NS_REQUIRE ? NAMESPACES_REQUIRE :
	    ac->namespaces == CONF_NS_IGNORE ? NAMESPACES_IGNORE :
	    NAMESPACES_ENFORCE;
	ctx->dn_any_order = ac->dn_match == CONF_DN_ANY_ORDER;
	if (ctx->method == NULL || (ac->ca_path != NULL && !ctx->ca_path) ||
	    (ac->vomsdir != NULL && !ctx->vomsdir) ||
	    (ac->users != NULL && !ctx->users) ||
	    (ac->banned != NULL && !ctx->banned) ||
	    (ac->hosts != NULL && !ctx->hosts) ||
	    (ac->hmac_key != NULL && !ctx->hmac_key)) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (ctx->ca_path == NULL) {
		snprintf(err, errlen, "auth: ca_path is required");
		goto fail;
	}

	/* Signatures first: a file changing during the load reloads later. */
	ctx->sig_trust = auth_sig_trust(ctx);
	ctx->trust_gen = 1;
	why[0] = '\0';
	if ((ctx->trust = auth_load_trust(ctx, 1, why, sizeof(why))) == NULL) {
		snprintf(err, errlen, "trust store: %s", why);
		goto fail;
	}
	if ((ctx->cache = x509_cache_new(ac->verify_cache_size, 1)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	x509_cache_set_max_bytes(ctx->cache, ac->verify_cache_bytes);
	if (ctx->users != NULL) {
		ctx->sig_users = auth_sig_file(ctx->users);
		ctx->users_gen = 1;
		if ((ctx->umap = auth_load_users(ctx->users, 1, why,
		    sizeof(why))) == NULL) {
			snprintf(err, errlen, "users %s: %s", ctx->users, why);
			goto fail;
		}
		auth_logf(ctx->notes, sizeof(ctx->notes), "%s",
		    ctx->umap->note);
	}
	if (ctx->banned != NULL) {
		ctx->sig_ban = auth_sig_file(ctx->banned);
		ctx->ban_gen = 1;
		if ((ctx->ban = auth_load_ban(ctx->banned, 1, why,
		    sizeof(why))) == NULL) {
			snprintf(err, errlen, "banned %s: %s", ctx->banned,
			    why);
			goto fail;
		}
		auth_logf(ctx->notes, sizeof(ctx->notes), "%s",
		    ctx->ban->note);
	}
	if (ctx->hosts != NULL) {
		ctx->sig_hosts = auth_sig_file(ctx->hosts);
		ctx->hosts_gen = 1;
		if ((ctx->hostsnap = auth_load_hosts(ctx->hosts, 1, why,
		    sizeof(why))) == NULL) {
			snprintf(err, errlen, "hosts: %s", why);
			goto fail;
		}
	}
	if (ctx->hmac_key != NULL) {
		ctx->sig_key = auth_sig_file(ctx->hmac_key);
		ctx->key_gen = 1;
		if ((ctx->key = auth_load_key(ctx->hmac_key, 1, why,
		    sizeof(why))) == NULL) {
			snprintf(err, errlen, "hmac_key: %s", why);
			goto fail;
		}
	}
	if (auth_token_init(ctx, &ac->tokens, err, errlen) != 0)
		goto fail;
	return (ctx);
fail:
	auth_ctx_free(ctx);
	return (NULL);
}

void
auth_ctx_free(struct auth_ctx *ctx)
{
	if (ctx == NULL)
		return;
	auth_token_free(ctx);
	auth_host_free(ctx);
	x509_cache_free(ctx->cache);
	x509_trust_put(ctx->trust);
	auth_snap_put(ctx->umap);
	auth_snap_put(ctx->ban);
	auth_snap_put(ctx->key);
	auth_snap_put(ctx->hostsnap);
	pthread_mutex_destroy(&ctx->lock);
	free(ctx->ca_path);
	free(ctx->vomsdir);
	free(ctx->users);
	free(ctx->banned);
	free(ctx->hosts);
	free(ctx->hmac_key);
	free(ctx->method);
	free(ctx);
}

/* Swap *slot for s under the lock and publish gen; drops the old one. */
static void
auth_swap_snap(struct auth_ctx *ctx, struct auth_snap **slot,
    uint64_t *genp, struct auth_snap *s)
{
	struct auth_snap *old;

	pthread_mutex_lock(&ctx->lock);
	old = *slot;
	*slot = s;
	__atomic_store_n(genp, s->gen, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&ctx->lock);
	auth_snap_put(old);
}

int
auth_ctx_refresh(struct auth_ctx *ctx, char *log, size_t loglen)
{
	struct x509_trust *t, *old;
	struct auth_snap *s;
	uint64_t	 gen;
	char		 why[512];
	int		 bits = 0, retry;

	if (log != NULL && loglen > 0)
		log[0] = '\0';

	/* Trust: CA dir, CRLs and vomsdir make one snapshot. */
	if (auth_sig_due(&ctx->sig_trust, auth_sig_trust(ctx), &retry)) {
		gen = ctx->trust_gen + 1;
		why[0] = '\0';
		if ((t = auth_load_trust(ctx, gen, why, sizeof(why))) == NULL) {
			if (auth_sig_failed(&ctx->sig_trust, retry, why)) {
				bits |= AUTH_RELOAD_FAILED;
				auth_inc(&ctx->trust_reload_failures);
				auth_logf(log, loglen, "trust store reload "
				    "failed, keeping the previous one (retried "
				    "on every check): %s", why);
			}
		} else {
			pthread_mutex_lock(&ctx->lock);
			old = ctx->trust;
			ctx->trust = t;
			__atomic_store_n(&ctx->trust_gen, gen,
			    __ATOMIC_RELEASE);
			pthread_mutex_unlock(&ctx->lock);
			/* Verified chains of the old store are void now. */
			x509_cache_reset(ctx->cache, gen);
			x509_trust_put(old);
			auth_inc(&ctx->trust_reloads);
			bits |= AUTH_RELOAD_TRUST;
		}
	}
	if (ctx->users != NULL && auth_sig_due(&ctx->sig_users,
	    auth_sig_file(ctx->users), &retry)) {
		if ((s = auth_load_users(ctx->users, ctx->users_gen + 1, why,
		    sizeof(why))) == NULL) {
			if (auth_sig_failed(&ctx->sig_users, retry, why)) {
				bits |= AUTH_RELOAD_FAILED;
				auth_inc(&ctx->users_reload_failures);
				auth_logf(log, loglen, "users file %s "
				    "rejected, keeping the previous map: %s",
				    ctx->users, why);
			}
		} else {
			if (s->note[0] != '\0')
				auth_logf(log, loglen, "%s", s->note);
			auth_swap_snap(ctx, &ctx->umap, &ctx->users_gen, s);
			auth_inc(&ctx->users_reloads);
			bits |= AUTH_RELOAD_USERS;
		}
	}
	if (ctx->banned != NULL && auth_sig_due(&ctx->sig_ban,
	    auth_sig_file(ctx->banned), &retry)) {
		if ((s = auth_load_ban(ctx->banned, ctx->ban_gen + 1, why,
		    sizeof(why))) == NULL) {
			if (auth_sig_failed(&ctx->sig_ban, retry, why)) {
				bits |= AUTH_RELOAD_FAILED;
				auth_logf(log, loglen, "ban list %s rejected, "
				    "keeping the previous one: %s",
				    ctx->banned, why);
			}
		} else {
			if (s->note[0] != '\0')
				auth_logf(log, loglen, "%s", s->note);
			auth_swap_snap(ctx, &ctx->ban, &ctx->ban_gen, s);
			bits |= AUTH_RELOAD_BANNED;
		}
	}
	if (ctx->hosts != NULL && auth_sig_due(&ctx->sig_hosts,
	    auth_sig_file(ctx->hosts), &retry)) {
		if ((s = auth_load_hosts(ctx->hosts, ctx->hosts_gen + 1, why,
		    sizeof(why))) == NULL) {
			if (auth_sig_failed(&ctx->sig_hosts, retry, why)) {
				bits |= AUTH_RELOAD_FAILED;
				auth_logf(log, loglen, "host list %s rejected, "
				    "keeping the previous one: %s",
				    ctx->hosts, why);
			}
		} else {
			auth_swap_snap(ctx, &ctx->hostsnap, &ctx->hosts_gen,
			    s);
			bits |= AUTH_RELOAD_HOSTS;
		}
	}
	if (ctx->hmac_key != NULL && auth_sig_due(&ctx->sig_key,
	    auth_sig_file(ctx->hmac_key), &retry)) {
		if ((s = auth_load_key(ctx->hmac_key, ctx->key_gen + 1, why,
		    sizeof(why))) == NULL) {
			if (auth_sig_failed(&ctx->sig_key, retry, why)) {
				bits |= AUTH_RELOAD_FAILED;
				auth_logf(log, loglen, "HMAC key rejected, "
				    "keeping the previous one: %s", why);
			}
		} else {
			auth_swap_snap(ctx, &ctx->key, &ctx->key_gen, s);
			bits |= AUTH_RELOAD_HMAC;
		}
	}
	bits |= auth_token_refresh(ctx, log, log != NULL ? loglen : 0);
	return (bits);
}

size_t
auth_ctx_users_note(struct auth_ctx *ctx, char *buf, size_t len)
{
	size_t	 n = 0;

	if (len > 0)
		buf[0] = '\0';
	pthread_mutex_lock(&ctx->lock);
	if (ctx->umap != NULL && ctx->umap->utf8note != NULL && len > 0) {
		snprintf(buf, len, "%s", ctx->umap->utf8note);
		n = strlen(buf);
	}
	pthread_mutex_unlock(&ctx->lock);
	return (n);
}

const char *
auth_ctx_notes(const struct auth_ctx *ctx)
{
	return (ctx->notes);
}

void
auth_ctx_stats(const struct auth_ctx *ctx, struct auth_stats *st)
{
	struct auth_ctx	*c = (struct auth_ctx *)(uintptr_t)ctx;
	size_t		 users = 0, entries = 0;

	memset(st, 0, sizeof(*st));
	pthread_mutex_lock(&c->lock);
	if (c->umap != NULL) {
		users = dnmap_size(c->umap->map);
		st->users_bad_utf8 = c->umap->bad_utf8;
		st->users_edge_space = c->umap->nfixed;
	}
	if (c->ban != NULL)
		st->ban_legacy_dns = c->ban->nfixed;
	st->ready = c->trust != NULL &&
	    (c->hmac_key == NULL || c->key != NULL) &&
	    (c->users == NULL || c->umap != NULL);
	pthread_mutex_unlock(&c->lock);
	st->users = users;
	st->users_reloads = auth_load64(&c->users_reloads);
	st->users_reload_failures = auth_load64(&c->users_reload_failures);
	st->trust_reloads = auth_load64(&c->trust_reloads);
	st->trust_reload_failures = auth_load64(&c->trust_reload_failures);
	x509_cache_stats(c->cache, &entries, &st->verify_cache_hits,
	    &st->verify_cache_misses);
	st->verify_cache_entries = entries;
	st->verify_cache_bytes = x509_cache_bytes(c->cache);
	st->chains_too_long = auth_load64(&c->chains_too_long);
}

size_t
auth_ctx_purge(struct auth_ctx *ctx, time_t now)
{
	return (x509_cache_purge(ctx->cache, now));
}

/* ------------------------------------------------------------------ */
/* Verification through the cache                                      */
/* ------------------------------------------------------------------ */

static struct x509_trust *
auth_trust_get(struct auth_ctx *ctx)
{
	struct x509_trust *t;

	pthread_mutex_lock(&ctx->lock);
	t = x509_trust_get(ctx->trust);
	pthread_mutex_unlock(&ctx->lock);
	return (t);
}

/*
 * The identity of a presented chain under the current trust: from the
 * cache when the same chain bytes were verified under this generation,
 * else verified now and cached.  A chain longer than verify_depth + 1 is
 * refused before it is even hashed.  Never NULL.
 */
struct auth_ident *
auth_verify(struct auth_ctx *ctx, X509 *leaf, STACK_OF(X509) *chain,
    time_t now)
{
	struct x509_trust *t;
	struct auth_ident *id = NULL, *hit;
	unsigned char	 key[X509_KEY_LEN];

	if (leaf == NULL)
		return (x509_ident_none());
	t = auth_trust_get(ctx);
	if (x509_chain_too_long(t, leaf, chain)) {
		x509_trust_put(t);
		auth_inc(&ctx->chains_too_long);
		return (x509_ident_too_long());
	}
	if (x509_chain_key(leaf, chain, key) == 0 &&
	    (hit = x509_cache_lookup(ctx->cache, key, x509_trust_gen(t),
	    now)) != NULL) {
		/* A cached refusal keeps no chain: describe the one at hand
		 * for the trouble page. */
		id = x509_ident_describe(hit, leaf, chain);
		x509_ident_put(hit);
	}
	if (id == NULL) {
		if ((id = x509_verify(t, leaf, chain, now, ctx->legacy)) ==
		    NULL)
			id = x509_ident_oom();
		else
			x509_cache_insert(ctx->cache, id, now);
	}
	x509_trust_put(t);
	return (id);
}

/* An identity from an older trust generation, verified again now from
 * the chain it was made from.  Returns a new reference. */
struct auth_ident *
auth_reverify(struct auth_ctx *ctx, struct auth_ident *old, time_t now)
{
	struct x509_ident *xi = (struct x509_ident *)old;

	if (xi->presented == NULL || sk_X509_num(xi->presented) == 0)
		return (NULL);
	return (auth_verify(ctx, sk_X509_value(xi->presented, 0),
	    xi->presented, now));
}

/* ------------------------------------------------------------------ */
/* Identities, decisions and the trouble page: entries of auth.h       */
/* ------------------------------------------------------------------ */

/*
 * Contracts in auth.h.  Those whose work lives in another file forward to
 * it, so that each exported name starts with the stem of its file and
 * proxy/ still reaches auth through auth.h alone.
 */

struct auth_ident *
auth_ident_get(struct auth_ctx *ctx, SSL *ssl)
{
	return (auth_tls_ident_get(ctx, ssl));
}

int
auth_ident_fresh(const struct auth_ctx *ctx, const struct auth_ident *id,
    time_t now)
{
	if (id == NULL)
		return (0);
	/* Static identities carry valid_until X509_FOREVER. */
	return (((const struct x509_ident *)id)->is_static ||
	    (now < id->valid_until &&
	    id->trust_gen == auth_load64(&ctx->trust_gen)));
}

void
auth_ident_put(struct auth_ident *id)
{
	x509_ident_put(id);
}

enum auth_result
auth_decide(struct auth_ctx *ctx, struct auth_ident *id,
    const struct conf_route *route, const struct sockaddr *peer,
    struct auth_decision *out)
{
	return (decide_request(ctx, id, route, peer, out));
}

void
auth_decision_release(struct auth_decision *d)
{
	decide_release(d);
}

char *
auth_trouble_render(struct auth_ctx *ctx, const struct auth_ident *id,
    int json, size_t *len)
{
	return (trouble_render(ctx, id, json, len));
}

char *
auth_trouble_render_token(struct auth_ctx *ctx, const struct auth_ident *id,
    const char *tok, size_t toklen, int json, size_t *len)
{
	return (trouble_render_token(ctx, id, tok, toklen, json, len));
}
