/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * Bearer tokens in the auth façade (issue 14): the configured issuers with
 * their key sets (loaded at start, reloaded by auth_ctx_refresh() when the
 * file changes, a bad file keeping the previous set), the verified-token
 * cache (keyed by SHA-256 of the token bytes, direct-mapped and bounded,
 * an entry valid until exp and only under the key-set generation it was
 * verified with), and the per-request decision for routes that read
 * tokens: verification (token.c), the CRIC account the token names, the
 * ban list, require_scope/require_group, and the signed header block with
 * the cms-authn-token-* facts.  Answers carry what the proxy needs for
 * WWW-Authenticate; no description ever holds token bytes.  A connection
 * may keep a memo (struct auth_tokmemo) of the last token it presented:
 * the same bytes again, compared with memcmp, reuse the verified entry and
 * its signed block without hashing, locking or rebuilding anything, as
 * long as exp, the issuer's key set, the users map, the ban list, the
 * HMAC key and the auth context (a reload) are still those it was made
 * under.
 */

#include <sys/stat.h>

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "auth/auth.h"
#include "auth/auth_int.h"
#include "auth/ban.h"
#include "auth/dnmap.h"
#include "auth/jwks.h"
#include "auth/sign.h"
#include "auth/token.h"
#include "conf/conf.h"
#include "conf/route.h"

/* Largest token auth looks at; the proxy enforces limits.max_token. */
#define TOK_MAX_BYTES	((size_t)1024 * 1024)

static const char tok_err_unlinked[] =
    "token is valid but not linked to a CMS account";
static const char tok_err_banned[] = "banned";
static const char tok_err_scope[] = "insufficient scope";
static const char tok_err_group[] = "missing required group";
static const char tok_err_addr[] = "address not allowed";
static const char tok_err_headers[] = "cannot build identity headers";
static const char tok_err_nokey[] = "HMAC key not loaded";
static const char tok_err_claim[] = "bad claim value";
static const char tok_err_fqan[] = "VOMS roles cannot be checked for a token";

/* One loaded key set; refcounted so a verifier keeps it across a swap. */
struct tok_keys {
	int		 refs;		/* atomic */
	uint64_t	 gen;
	struct jwks	*set;
};

/* A loaded subject map (sub -> LOGIN); refcounted like tok_keys. */
struct tok_map {
	int		 refs;
	json_t		*obj;
};

/* What stat() saw of a file; equal means unchanged. */
struct tok_sig {
	int		 known;
	dev_t		 dev;
	ino_t		 ino;
	off_t		 size;
	struct timespec	 mtime;
	int		 failed;	/* the last load of this state failed */
};

struct tok_iss {
	char		*issuer, *jwks, *map_file, *claim, *method;
	char		**aud;
	size_t		 naud;
	enum conf_token_from from;
	struct tok_keys	*keys;		/* under ts->lock */
	struct tok_map	*map;
	struct tok_sig	 sig_keys, sig_map;
	uint64_t	 keys_gen;	/* atomic reads */
	uint64_t	 map_gen;	/* subject map swaps, atomic reads */
	time_t		 keys_loaded;	/* when the set in force was read */
	uint64_t	 reloads, failures;
};

/*
 * The user-side outcome of a verified token under one users map, ban list,
 * key and signing mode: the CRIC record found, the ban check, the signed
 * block.  Immutable and refcounted, cached on its tok_ent so a keep-alive
 * request with the same token costs a hash and a lookup, not an HMAC.
 */
struct tok_blk {
	int		 refs;		/* atomic */
	uint64_t	 users_gen, ban_gen, key_gen;
	int		 mode;		/* enum sign_mode */
	int		 found;		/* a CRIC record */
	int		 banned;
	int		 nokey;
	char		*hdrs;
	size_t		 hdrslen;
	char		*login, *dn;
};

/* A verified token: what the decision needs, copied out of the JSON. */
struct tok_ent {
	int		 refs;
	unsigned char	 h[32];
	size_t		 iss;
	uint64_t	 keys_gen;
	int64_t		 exp;
	char		*sub;
	char		*scope;		/* or NULL */
	char		*groups;	/* comma-joined, or NULL */
	char		**groupv;
	size_t		 ngroups;
	char		*who;		/* the claim value naming the account */
	struct tok_blk	*blk;		/* under ts->lock; may be NULL */
};

struct auth_tokstate {
	pthread_mutex_t	 lock;
	uint64_t	 id;		/* unique per process; memos name it */
	struct tok_iss	*iss;
	size_t		 niss;
	long		 leeway;	/* seconds */
	struct tok_ent	**slots;	/* direct-mapped cache */
	size_t		 nslots;
	uint64_t	 hits, misses, ok, failed;
};

/*
 * A connection's memo of its last good token: the bytes, the verified
 * entry and its signed block (one reference each), and the token state
 * they belong to.  Owned by the connection (auth_token_memo_free()).
 */
struct auth_tokmemo {
	uint64_t	 tsid;
	char		*tok;
	size_t		 len, cap;
	struct tok_ent	*ent;
	struct tok_blk	*blk;
	int		 mode;		/* the sign mode of blk */
};

/* Ids of token states, so that a memo never outlives a reload unseen. */
static uint64_t tok_state_ids;

/* Per-decision state handed out in auth_decision.tpriv. */
struct tok_out {
	struct tok_ent	*ent;
	struct tok_blk	*blk;
	const char	*iss;
};

static void
tok_keys_put(struct tok_keys *k)
{
	if (k == NULL || __atomic_sub_fetch(&k->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	jwks_free(k->set);
	free(k);
}

static void
tok_map_put(struct tok_map *m)
{
	if (m == NULL || __atomic_sub_fetch(&m->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	json_decref(m->obj);
	free(m);
}

static void
tok_blk_put(struct tok_blk *b)
{
	if (b == NULL || __atomic_sub_fetch(&b->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	if (b->hdrs != NULL) {
		/* It holds a fresh HMAC; do not leave it around. */
		OPENSSL_cleanse(b->hdrs, b->hdrslen);
		free(b->hdrs);
	}
	free(b->login);
	free(b->dn);
	free(b);
}

static void
tok_ent_put(struct tok_ent *e)
{
	if (e == NULL || __atomic_sub_fetch(&e->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	tok_blk_put(e->blk);
	free(e->sub);
	free(e->scope);
	free(e->groups);
	free(e->groupv);
	free(e->who);
	free(e);
}

/* 1 when path's stat differs from *sig (or cannot be read), updating it. */
static int
tok_sig_due(struct tok_sig *sig, const char *path)
{
	struct stat	 st;
	struct tok_sig	 n;

	memset(&n, 0, sizeof(n));
	if (stat(path, &st) == 0) {
		n.known = 1;
		n.dev = st.st_dev;
		n.ino = st.st_ino;
		n.size = st.st_size;
		n.mtime = st.st_mtim;
	}
	if (sig->known && n.known && !sig->failed && sig->dev == n.dev &&
	    sig->ino == n.ino && sig->size == n.size &&
	    sig->mtime.tv_sec == n.mtime.tv_sec &&
	    sig->mtime.tv_nsec == n.mtime.tv_nsec)
		return (0);
	n.failed = sig->failed;
	*sig = n;
	return (1);
}

static struct tok_map *
tok_map_load(const char *path, char *err, size_t errlen)
{
	struct tok_map	*m;
	json_error_t	 e;
	json_t		*o, *v;
	const char	*k;

	if ((o = json_load_file(path, JSON_REJECT_DUPLICATES, &e)) == NULL) {
		snprintf(err, errlen, "%s:%d: %s", path, e.line, e.text);
		return (NULL);
	}
	if (!json_is_object(o)) {
		json_decref(o);
		snprintf(err, errlen, "%s: not a JSON object", path);
		return (NULL);
	}
	json_object_foreach(o, k, v) {
		if (!json_is_string(v)) {
			json_decref(o);
			snprintf(err, errlen, "%s: value of a subject is not "
			    "a string", path);
			return (NULL);
		}
	}
	if ((m = calloc(1, sizeof(*m))) == NULL) {
		json_decref(o);
		snprintf(err, errlen, "out of memory");
		return (NULL);
	}
	m->refs = 1;
	m->obj = o;
	return (m);
}

static void
tok_cache_clear(struct auth_tokstate *ts, size_t iss)
{
	size_t		 i;

	for (i = 0; i < ts->nslots; i++)
		if (ts->slots[i] != NULL && (iss == SIZE_MAX ||
		    ts->slots[i]->iss == iss)) {
			tok_ent_put(ts->slots[i]);
			ts->slots[i] = NULL;
		}
}

/*
 * Load the key set (and subject map) of issuer i if its files changed.
 * Returns AUTH_RELOAD_TOKENS when something new is in force,
 * AUTH_RELOAD_FAILED when a file was refused, 0 otherwise; the reason goes
 * to err.
 */
static int
tok_iss_refresh(struct auth_tokstate *ts, size_t i, char *err, size_t errlen)
{
	struct tok_iss	*is = &ts->iss[i];
	struct tok_keys	*k, *old;
	struct tok_map	*m, *oldm;
	struct jwks	*set;
	char		 why[300];
	int		 bits = 0;

	if (tok_sig_due(&is->sig_keys, is->jwks)) {
		if ((set = jwks_load(is->jwks, why, sizeof(why))) == NULL ||
		    (k = calloc(1, sizeof(*k))) == NULL) {
			jwks_free(set);
			if (!is->sig_keys.failed) {
				snprintf(err, errlen, "token issuer %s: key "
				    "set refused, keeping the previous one: "
				    "%s", is->issuer, why);
				bits |= AUTH_RELOAD_FAILED;
			}
			is->sig_keys.failed = 1;
			__atomic_add_fetch(&is->failures, 1, __ATOMIC_RELAXED);
		} else {
			is->sig_keys.failed = 0;
			k->refs = 1;
			k->set = set;
			pthread_mutex_lock(&ts->lock);
			k->gen = is->keys_gen + 1;
			old = is->keys;
			is->keys = k;
			__atomic_store_n(&is->keys_gen, k->gen,
			    __ATOMIC_RELEASE);
			is->keys_loaded = time(NULL);
			/* Tokens verified under the old keys go. */
			tok_cache_clear(ts, i);
			pthread_mutex_unlock(&ts->lock);
			tok_keys_put(old);
			__atomic_add_fetch(&is->reloads, 1, __ATOMIC_RELAXED);
			bits |= AUTH_RELOAD_TOKENS;
		}
	}
	if (is->map_file != NULL && tok_sig_due(&is->sig_map, is->map_file)) {
		if ((m = tok_map_load(is->map_file, why, sizeof(why))) ==
		    NULL) {
			if (!is->sig_map.failed) {
				snprintf(err, errlen, "token issuer %s: "
				    "subject map refused, keeping the "
				    "previous one: %s", is->issuer, why);
				bits |= AUTH_RELOAD_FAILED;
			}
			is->sig_map.failed = 1;
			__atomic_add_fetch(&is->failures, 1, __ATOMIC_RELAXED);
		} else {
			is->sig_map.failed = 0;
			pthread_mutex_lock(&ts->lock);
			oldm = is->map;
			is->map = m;
			__atomic_add_fetch(&is->map_gen, 1, __ATOMIC_RELEASE);
			pthread_mutex_unlock(&ts->lock);
			tok_map_put(oldm);
			bits |= AUTH_RELOAD_TOKENS;
		}
	}
	return (bits);
}

int
auth_token_init(struct auth_ctx *ctx, const struct conf_tokens *t,
    char *err, size_t errlen)
{
	struct auth_tokstate *ts;
	struct tok_iss	*is;
	size_t		 i, j;
	char		 why[400];

	if (t->nissuers == 0)
		return (0);
	if ((ts = calloc(1, sizeof(*ts))) == NULL ||
	    (ts->iss = calloc(t->nissuers, sizeof(*ts->iss))) == NULL) {
		free(ts);
		snprintf(err, errlen, "out of memory");
		return (-1);
	}
	pthread_mutex_init(&ts->lock, NULL);
	ts->id = __atomic_add_fetch(&tok_state_ids, 1, __ATOMIC_RELAXED);
	ctx->tok = ts;
	ts->niss = t->nissuers;
	ts->leeway = (long)(t->leeway / 1000);
	ts->nslots = t->cache_size;
	if (ts->nslots > 0 &&
	    (ts->slots = calloc(ts->nslots, sizeof(struct tok_ent *))) == NULL)
		goto oom;
	for (i = 0; i < t->nissuers; i++) {
		const struct conf_token_issuer *c = &t->issuers[i];

		is = &ts->iss[i];
		is->from = c->from;
		if ((is->issuer = strdup(c->issuer)) == NULL ||
		    (is->jwks = strdup(c->jwks)) == NULL ||
		    (c->map_file != NULL &&
		    (is->map_file = strdup(c->map_file)) == NULL) ||
		    (c->claim != NULL &&
		    (is->claim = strdup(c->claim)) == NULL) ||
		    (is->method = strdup(c->authn_method != NULL ?
		    c->authn_method : "oauth")) == NULL ||
		    (is->aud = calloc(c->naudiences + 1,
		    sizeof(*is->aud))) == NULL)
			goto oom;
		for (j = 0; j < c->naudiences; j++)
			if ((is->aud[is->naud++] = strdup(c->audiences[j])) ==
			    NULL)
				goto oom;
		why[0] = '\0';
		(void)tok_iss_refresh(ts, i, why, sizeof(why));
		if (is->keys == NULL || (is->map_file != NULL &&
		    is->map == NULL)) {
			snprintf(err, errlen, "%s", why[0] != '\0' ? why :
			    "token issuer: cannot load");
			return (-1);
		}
	}
	return (0);
oom:
	snprintf(err, errlen, "out of memory");
	return (-1);
}

void
auth_token_free(struct auth_ctx *ctx)
{
	struct auth_tokstate *ts = ctx->tok;
	struct tok_iss	*is;
	size_t		 i, j;

	if (ts == NULL)
		return;
	tok_cache_clear(ts, SIZE_MAX);
	free(ts->slots);
	for (i = 0; ts->iss != NULL && i < ts->niss; i++) {
		is = &ts->iss[i];
		tok_keys_put(is->keys);
		tok_map_put(is->map);
		free(is->issuer);
		free(is->jwks);
		free(is->map_file);
		free(is->claim);
		free(is->method);
		for (j = 0; j < is->naud; j++)
			free(is->aud[j]);
		free(is->aud);
	}
	free(ts->iss);
	pthread_mutex_destroy(&ts->lock);
	free(ts);
	ctx->tok = NULL;
}

int
auth_token_refresh(struct auth_ctx *ctx, char *log, size_t loglen)
{
	struct auth_tokstate *ts = ctx->tok;
	size_t		 i, n;
	int		 bits = 0;
	char		 why[400];

	if (ts == NULL)
		return (0);
	for (i = 0; i < ts->niss; i++) {
		why[0] = '\0';
		bits |= tok_iss_refresh(ts, i, why, sizeof(why));
		if (why[0] != '\0' && log != NULL && loglen > 0) {
			n = strlen(log);
			snprintf(log + n, loglen - n, "%s%s", n > 0 ? "\n" :
			    "", why);
		}
	}
	return (bits);
}

/* 1 when s holds a control byte (headers cannot carry it). */
static int
tok_has_ctl(const char *s)
{
	for (; s != NULL && *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return (1);
	return (0);
}

/* The claim naming the account, as text (a number is printed). */
static char *
tok_who(const struct tok_iss *is, const struct token_claims *c)
{
	json_t		*v;
	char		 buf[32];

	if (is->from == CONF_TOKEN_FROM_SUBJECT_MAP)
		return (strdup(c->sub));
	v = json_object_get(c->claims, is->claim);
	if (json_is_string(v))
		return (strdup(json_string_value(v)));
	if (json_is_integer(v)) {
		snprintf(buf, sizeof(buf), "%lld",
		    (long long)json_integer_value(v));
		return (strdup(buf));
	}
	return (strdup(""));
}

/* A cache entry made from verified claims c; NULL on OOM or bad values. */
static struct tok_ent *
tok_ent_new(const struct tok_iss *is, const struct token_claims *c,
    const unsigned char h[32], uint64_t gen, const char **why)
{
	struct tok_ent	*e;
	size_t		 i, len = 0;

	*why = tok_err_claim;
	if (tok_has_ctl(c->sub) || tok_has_ctl(c->scope))
		return (NULL);
	for (i = 0; i < c->ngroups; i++) {
		if (tok_has_ctl(c->groups[i]) || strchr(c->groups[i], ','))
			return (NULL);
		len += strlen(c->groups[i]) + 1;
	}
	*why = tok_err_headers;
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return (NULL);
	e->refs = 1;
	memcpy(e->h, h, 32);
	e->iss = c->issuer_index;
	e->keys_gen = gen;
	e->exp = c->exp;
	if ((e->sub = strdup(c->sub)) == NULL ||
	    (c->scope != NULL && (e->scope = strdup(c->scope)) == NULL) ||
	    (e->who = tok_who(is, c)) == NULL)
		goto oom;
	if (c->ngroups > 0) {
		char	*p;

		if ((e->groups = malloc(len)) == NULL ||
		    (e->groupv = calloc(c->ngroups, sizeof(char *))) == NULL)
			goto oom;
		p = e->groups;
		for (i = 0; i < c->ngroups; i++) {
			size_t l = strlen(c->groups[i]);

			memcpy(p, c->groups[i], l);
			p[l] = '\0';
			e->groupv[i] = p;
			p += l + 1;
		}
		e->ngroups = c->ngroups;
	}
	return (e);
oom:
	tok_ent_put(e);
	return (NULL);
}

/*
 * The verified entry for tok: from the cache when the same bytes were
 * verified under the issuer's key set in force and exp has not passed,
 * else verified now.  Returns a new reference, or NULL with *why.
 */
static struct tok_ent *
tok_verify(struct auth_tokstate *ts, const char *tok, size_t len,
    time_t now, const char **why)
{
	struct token_issuer *vi;
	struct tok_keys	**held;
	struct tok_ent	*e = NULL, *old;
	struct token_claims c;
	unsigned char	 h[32];
	unsigned int	 hl = 0;
	size_t		 i, slot = 0;
	uint64_t	 gen;

	if (EVP_Digest(tok, len, h, &hl, EVP_sha256(), NULL) != 1) {
		*why = tok_err_headers;
		return (NULL);
	}
	if (ts->nslots > 0) {
		memcpy(&slot, h, sizeof(slot));
		slot %= ts->nslots;
		pthread_mutex_lock(&ts->lock);
		e = ts->slots[slot];
		if (e != NULL && memcmp(e->h, h, 32) == 0 &&
		    e->keys_gen == ts->iss[e->iss].keys_gen &&
		    (int64_t)now - ts->leeway < e->exp)
			__atomic_add_fetch(&e->refs, 1, __ATOMIC_RELAXED);
		else
			e = NULL;
		pthread_mutex_unlock(&ts->lock);
		if (e != NULL) {
			__atomic_add_fetch(&ts->hits, 1, __ATOMIC_RELAXED);
			return (e);
		}
		__atomic_add_fetch(&ts->misses, 1, __ATOMIC_RELAXED);
	}

	vi = calloc(ts->niss, sizeof(*vi));
	held = calloc(ts->niss, sizeof(struct tok_keys *));
	if (vi == NULL || held == NULL) {
		free(vi);
		free(held);
		*why = tok_err_headers;
		return (NULL);
	}
	pthread_mutex_lock(&ts->lock);
	for (i = 0; i < ts->niss; i++) {
		held[i] = ts->iss[i].keys;
		if (held[i] != NULL)
			__atomic_add_fetch(&held[i]->refs, 1,
			    __ATOMIC_RELAXED);
		vi[i].issuer = ts->iss[i].issuer;
		vi[i].keys = held[i] != NULL ? held[i]->set : NULL;
		vi[i].audiences = (const char *const *)ts->iss[i].aud;
		vi[i].naudiences = ts->iss[i].naud;
	}
	pthread_mutex_unlock(&ts->lock);
	if (token_verify(tok, len, TOK_MAX_BYTES, vi, ts->niss, now,
	    ts->leeway, &c, why) == 0) {
		gen = held[c.issuer_index] != NULL ?
		    held[c.issuer_index]->gen : 0;
		e = tok_ent_new(&ts->iss[c.issuer_index], &c, h, gen, why);
	}
	token_claims_free(&c);
	for (i = 0; i < ts->niss; i++)
		tok_keys_put(held[i]);
	free(vi);
	free(held);
	if (e == NULL) {
		__atomic_add_fetch(&ts->failed, 1, __ATOMIC_RELAXED);
		return (NULL);
	}
	__atomic_add_fetch(&ts->ok, 1, __ATOMIC_RELAXED);
	if (ts->nslots > 0) {
		old = NULL;
		pthread_mutex_lock(&ts->lock);
		/* Only under the keys it was verified with: the cache holds
		 * a reference of its own. */
		if (ts->iss[e->iss].keys_gen == e->keys_gen) {
			__atomic_add_fetch(&e->refs, 1, __ATOMIC_RELAXED);
			old = ts->slots[slot];
			ts->slots[slot] = e;
		}
		pthread_mutex_unlock(&ts->lock);
		tok_ent_put(old);
	}
	return (e);
}

/* The CRIC record the token names, borrowed from m. */
static const struct dnmap_user *
tok_user(struct auth_tokstate *ts, const struct tok_ent *e,
    const struct dnmap *m)
{
	const struct tok_iss *is = &ts->iss[e->iss];
	struct tok_map	*map;
	const struct dnmap_user *u = NULL;
	json_t		*v;
	char		*end;
	long long	 id;

	switch (is->from) {
	case CONF_TOKEN_FROM_CLAIM:
		return (e->who[0] != '\0' ? dnmap_find_login(m, e->who) :
		    NULL);
	case CONF_TOKEN_FROM_CERN_PERSON_ID:
		if (e->who[0] == '\0')
			return (NULL);
		id = strtoll(e->who, &end, 10);
		return (*end == '\0' ? dnmap_find_id(m, id) : NULL);
	case CONF_TOKEN_FROM_SUBJECT_MAP:
		pthread_mutex_lock(&ts->lock);
		map = is->map;
		if (map != NULL)
			__atomic_add_fetch(&map->refs, 1, __ATOMIC_RELAXED);
		pthread_mutex_unlock(&ts->lock);
		if (map == NULL)
			return (NULL);
		v = json_object_get(map->obj, e->sub);
		if (json_is_string(v))
			u = dnmap_find_login(m, json_string_value(v));
		tok_map_put(map);
		return (u);
	}
	return (NULL);
}

/* Append "name: value\r\n" to the growing block; -1 on overflow/OOM. */
static int
tok_line(char **buf, size_t *len, size_t *cap, const char *name,
    const char *value)
{
	size_t		 need = strlen(name) + strlen(value) + 5;
	char		*n;

	if (*len + need > *cap) {
		*cap = (*len + need) * 2;
		if ((n = realloc(*buf, *cap)) == NULL)
			return (-1);
		*buf = n;
	}
	*len += (size_t)snprintf(*buf + *len, *cap - *len, "%s: %s\r\n", name,
	    value);
	return (0);
}

/* The signed block for user u and token e; malloc'd, or NULL. */
static char *
tok_block(const struct tok_iss *is, const struct tok_ent *e,
    const struct dnmap_user *u, const unsigned char *key, size_t keylen,
    enum sign_mode mode, size_t *outlen)
{
	struct sign_hdr	 h[SIGN_STACK_HDRS];
	const char	*nm[SIGN_STACK_HDRS], *val[SIGN_STACK_HDRS];
	char		 rn[SIGN_STACK_HDRS][80], mac[41], *buf = NULL;
	size_t		 n = 0, i, len = 0, cap = 0;

#define TOK_ADD(a, b) do { if (n < SIGN_STACK_HDRS) { nm[n] = (a);	\
	val[n] = (b); n++; } } while (0)
	TOK_ADD("cms-authn-method", is->method);
	TOK_ADD("cms-authn-dn", u->dn);
	TOK_ADD("cms-authn-login", u->login);
	if (u->name != NULL && u->name[0] != '\0')
		TOK_ADD("cms-authn-name", u->name);
	for (i = 0; i < u->nroles && n < SIGN_STACK_HDRS - 5; i++) {
		snprintf(rn[i], sizeof(rn[i]), "cms-authz-%s",
		    u->roles[i].name);
		TOK_ADD(rn[i], u->roles[i].value);
	}
	TOK_ADD("cms-authn-token-issuer", is->issuer);
	TOK_ADD("cms-authn-token-subject", e->sub);
	if (e->scope != NULL)
		TOK_ADD("cms-authn-token-scope", e->scope);
	if (e->groups != NULL) {
		/* groupv is NUL-separated in groups; join with commas. */
		static __thread char joined[4096];
		size_t	 o = 0;

		for (i = 0; i < e->ngroups && o < sizeof(joined); i++)
			o += (size_t)snprintf(joined + o, sizeof(joined) - o,
			    "%s%s", i > 0 ? "," : "", e->groupv[i]);
		if (o >= sizeof(joined))
			return (NULL);
		TOK_ADD("cms-authn-token-groups", joined);
	}
#undef TOK_ADD
	for (i = 0; i < n; i++) {
		h[i].name = nm[i];
		h[i].namelen = strlen(nm[i]);
		h[i].value = val[i];
		h[i].valuelen = strlen(val[i]);
		if (tok_has_ctl(val[i]))
			return (NULL);
	}
	if (sign_hmac_as(key, keylen, mode, h, n, mac) != 0)
		return (NULL);
	if (tok_line(&buf, &len, &cap, "cms-auth-status", "OK") != 0)
		goto fail;
	for (i = 0; i < n; i++)
		if (tok_line(&buf, &len, &cap, nm[i], val[i]) != 0)
			goto fail;
	if (tok_line(&buf, &len, &cap, "cms-authn-hmac", mac) != 0)
		goto fail;
	*outlen = len;
	return (buf);
fail:
	free(buf);
	return (NULL);
}

/*
 * 1 when block b (of entry e) was built under the users map, ban list,
 * HMAC key and subject map in force, in signing mode mode.  Reads only
 * generations (atomic loads) and b's immutable fields: no lock.
 */
static int
tok_blk_fresh(struct auth_ctx *ctx, const struct auth_tokstate *ts,
    const struct tok_ent *e, const struct tok_blk *b, enum sign_mode mode)
{
	uint64_t	 mg = __atomic_load_n(&ts->iss[e->iss].map_gen,
			    __ATOMIC_ACQUIRE);

	return (b->users_gen == auth_load64(&ctx->users_gen) &&
	    b->ban_gen == auth_load64(&ctx->ban_gen) &&
	    b->key_gen == auth_load64(&ctx->key_gen) + (mg << 32) &&
	    b->mode == (int)mode);
}

/*
 * The user-side outcome for e in signing mode: from e's slot when it was
 * built under the users map, ban list, key and subject map in force, else
 * built now (CRIC lookup, ban check, HMAC) and published.  Returns a new
 * reference, or NULL on OOM.
 */
static struct tok_blk *
tok_blk_get(struct auth_ctx *ctx, struct auth_tokstate *ts,
    struct tok_ent *e, enum sign_mode mode)
{
	struct auth_snap *u, *bn, *k;
	const struct dnmap_user *usr = NULL;
	struct tok_blk	*b, *old;
	uint64_t	 ug = auth_load64(&ctx->users_gen);
	uint64_t	 bg = auth_load64(&ctx->ban_gen);
	uint64_t	 kg = auth_load64(&ctx->key_gen);
	uint64_t	 mg = __atomic_load_n(&ts->iss[e->iss].map_gen,
			    __ATOMIC_ACQUIRE);

	pthread_mutex_lock(&ts->lock);
	b = e->blk;
	if (b != NULL && b->users_gen == ug && b->ban_gen == bg &&
	    b->key_gen == kg + (mg << 32) && b->mode == (int)mode)
		__atomic_add_fetch(&b->refs, 1, __ATOMIC_RELAXED);
	else
		b = NULL;
	pthread_mutex_unlock(&ts->lock);
	if (b != NULL)
		return (b);

	if ((b = calloc(1, sizeof(*b))) == NULL)
		return (NULL);
	b->refs = 1;
	b->mode = (int)mode;
	pthread_mutex_lock(&ctx->lock);
	u = auth_snap_get(ctx->umap);
	bn = auth_snap_get(ctx->ban);
	k = auth_snap_get(ctx->key);
	pthread_mutex_unlock(&ctx->lock);
	/* The generations of what it is built from, read before use: a
	 * concurrent swap only makes it look stale, never fresh. */
	b->users_gen = ug;
	b->ban_gen = bg;
	b->key_gen = kg + (mg << 32);
	if (u != NULL)
		usr = tok_user(ts, e, u->map);
	b->found = usr != NULL;
	b->nokey = k == NULL;
	if (usr != NULL) {
		b->banned = bn != NULL && ban_match(bn->ban, usr->dn,
		    usr->login);
		if ((b->login = strdup(usr->login)) == NULL ||
		    (b->dn = strdup(usr->dn)) == NULL) {
			tok_blk_put(b);
			b = NULL;
		} else if (!b->banned && k != NULL)
			b->hdrs = tok_block(&ts->iss[e->iss], e, usr, k->key,
			    k->keylen, mode, &b->hdrslen);
	}
	auth_snap_put(u);
	auth_snap_put(bn);
	auth_snap_put(k);
	if (b == NULL)
		return (NULL);
	__atomic_add_fetch(&b->refs, 1, __ATOMIC_RELAXED);
	pthread_mutex_lock(&ts->lock);
	old = e->blk;
	e->blk = b;
	pthread_mutex_unlock(&ts->lock);
	tok_blk_put(old);
	return (b);
}

static enum auth_result
tok_deny(struct auth_decision *out, int status, const char *reason,
    const char *berr)
{
	out->result = AUTH_DENY;
	out->status = status;
	out->reason = reason;
	out->bearer = status == 401 || berr != NULL;
	out->bearer_error = berr;
	out->hdrs = NULL;
	out->hdrslen = 0;
	return (AUTH_DENY);
}

static const char tok_hdr_none[] = "cms-auth-status: NONE\r\n";

/*
 * 1 when memo m holds exactly tok (len bytes) verified under ts, not
 * expired at now, under the issuer's key set in force, with a block still
 * fresh for mode; then new references to its entry and block are taken
 * for the caller.  Else 0 and nothing is taken.
 */
static int
tok_memo_hit(struct auth_ctx *ctx, struct auth_tokstate *ts,
    const struct auth_tokmemo *m, const char *tok, size_t len, time_t now,
    enum sign_mode mode)
{
	struct tok_ent	*e = m->ent;

	/* Cheap mismatches first; the byte comparison is the real key. */
	if (e == NULL || m->blk == NULL || m->tsid != ts->id ||
	    m->len != len || m->mode != (int)mode ||
	    memcmp(m->tok, tok, len) != 0)
		return (0);
	if (e->keys_gen != __atomic_load_n(&ts->iss[e->iss].keys_gen,
	    __ATOMIC_ACQUIRE) || (int64_t)now - ts->leeway >= e->exp ||
	    !tok_blk_fresh(ctx, ts, e, m->blk, mode))
		return (0);
	__atomic_add_fetch(&e->refs, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&m->blk->refs, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&ts->hits, 1, __ATOMIC_RELAXED);
	return (1);
}

/* Drop what m remembers (the bytes are wiped: they are a credential). */
static void
tok_memo_clear(struct auth_tokmemo *m)
{
	tok_blk_put(m->blk);
	tok_ent_put(m->ent);
	m->blk = NULL;
	m->ent = NULL;
	if (m->tok != NULL)
		OPENSSL_cleanse(m->tok, m->len);
	m->len = 0;
}

/* Remember tok with its entry e and block b (new references) in m; on
 * OOM m is left empty, which only costs the next request a lookup. */
static void
tok_memo_set(struct auth_tokmemo *m, const struct auth_tokstate *ts,
    const char *tok, size_t len, struct tok_ent *e, struct tok_blk *b,
    enum sign_mode mode)
{
	char		*n;

	tok_memo_clear(m);
	if (len > m->cap) {
		if ((n = malloc(len)) == NULL)
			return;
		free(m->tok);
		m->tok = n;
		m->cap = len;
	}
	memcpy(m->tok, tok, len);
	m->len = len;
	m->tsid = ts->id;
	m->mode = (int)mode;
	__atomic_add_fetch(&e->refs, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&b->refs, 1, __ATOMIC_RELAXED);
	m->ent = e;
	m->blk = b;
}

int
auth_token_memo_same(const struct auth_tokmemo *m, const char *tok,
    size_t len)
{
	return (m != NULL && m->ent != NULL && m->len == len &&
	    memcmp(m->tok, tok, len) == 0);
}

void
auth_token_memo_free(struct auth_tokmemo *m)
{
	if (m == NULL)
		return;
	tok_memo_clear(m);
	free(m->tok);
	free(m);
}

enum auth_result
auth_token_decide(struct auth_ctx *ctx, const char *tok, size_t toklen,
    struct auth_ident *id, const struct conf_route *route,
    const struct sockaddr *peer, struct auth_decision *out)
{
	return (auth_token_decide_memo(ctx, NULL, tok, toklen, id, route,
	    peer, out));
}

enum auth_result
auth_token_decide_memo(struct auth_ctx *ctx, struct auth_tokmemo **memo,
    const char *tok, size_t toklen, struct auth_ident *id,
    const struct conf_route *route, const struct sockaddr *peer,
    struct auth_decision *out)
{
	struct auth_tokstate *ts = ctx->tok;
	struct auth_tokmemo *m = NULL;
	struct auth_snap *bn;
	struct tok_blk	*b = NULL;
	struct tok_out	*to;
	struct tok_ent	*e;
	const char	*why = NULL;
	enum conf_auth_mode mode = route != NULL ? route->auth : CONF_AUTH_CERT;
	enum sign_mode	 smode;
	time_t		 now;
	int		 banned;

	/* Routes that do not read tokens, and requests without one. */
	if (mode == CONF_AUTH_CERT || mode == CONF_AUTH_NONE ||
	    (tok == NULL && mode != CONF_AUTH_TOKEN &&
	    (mode != CONF_AUTH_CERT_OR_TOKEN ||
	    (id != NULL && id->status != AUTH_CERT_NONE))))
		return (decide_request(ctx, id, route, peer, out));
	memset(out, 0, sizeof(*out));
	if (route->nallow_from > 0 &&
	    (peer == NULL || !route_addr_allowed(route, peer)))
		return (tok_deny(out, 403, tok_err_addr, NULL));
	if (tok == NULL)	/* RFC 6750 3.1: a bare challenge */
		return (tok_deny(out, 401, "bearer token required", NULL));
	if (ts == NULL)
		return (tok_deny(out, 401, "unknown issuer",
		    "invalid_token"));
	smode = route->sign_as == CONF_SIGN_PY3_LATIN1 ? SIGN_PY3_LATIN1 :
	    SIGN_BYTES;
	now = time(NULL);
	if (memo != NULL && *memo == NULL)
		*memo = calloc(1, sizeof(**memo));	/* NULL: no memo */
	if (memo != NULL)
		m = *memo;
	if (m != NULL && tok_memo_hit(ctx, ts, m, tok, toklen, now, smode))
		e = m->ent, b = m->blk;
	else if ((e = tok_verify(ts, tok, toklen, now, &why)) == NULL)
		return (tok_deny(out, 401, why, "invalid_token"));
	if ((to = calloc(1, sizeof(*to))) == NULL) {
		tok_blk_put(b);
		tok_ent_put(e);
		return (tok_deny(out, 500, tok_err_headers, NULL));
	}
	to->ent = e;
	to->iss = ts->iss[e->iss].issuer;
	out->tpriv = to;
	out->token_iss = to->iss;
	out->token_sub = e->sub;

	if (b == NULL) {
		if ((b = tok_blk_get(ctx, ts, e, smode)) == NULL)
			return (tok_deny(out, 500, tok_err_headers, NULL));
		/* A different token (or a stale memo) replaces the memo,
		 * so one connection never reuses another token's identity. */
		if (m != NULL)
			tok_memo_set(m, ts, tok, toklen, e, b, smode);
	}
	to->blk = b;
	out->login = b->login;
	out->dn = b->dn;
	banned = b->banned;
	/* A banned certificate beside the token is refused too. */
	if (!banned && id != NULL && id->status == AUTH_CERT_OK) {
		pthread_mutex_lock(&ctx->lock);
		bn = auth_snap_get(ctx->ban);
		pthread_mutex_unlock(&ctx->lock);
		banned = bn != NULL && ban_match(bn->ban, id->user_dn, NULL);
		auth_snap_put(bn);
	}
	if (banned)
		return (tok_deny(out, 403, tok_err_banned, NULL));
	if (!b->found) {
		if (mode == CONF_AUTH_OPTIONAL) {
			out->result = AUTH_ANON;
			out->hdrs = tok_hdr_none;
			out->hdrslen = sizeof(tok_hdr_none) - 1;
			return (AUTH_ANON);
		}
		return (tok_deny(out, 403, tok_err_unlinked, NULL));
	}
	if (route->nrequire_scope > 0 && !token_scope_match(e->scope,
	    (const char *const *)route->require_scope,
	    route->nrequire_scope)) {
		tok_deny(out, 403, tok_err_scope, "insufficient_scope");
		out->bearer_scope = route->require_scope[0];
		return (AUTH_DENY);
	}
	if (route->nrequire_group > 0 && !token_group_match(
	    (const char *const *)e->groupv, e->ngroups,
	    (const char *const *)route->require_group, route->nrequire_group))
		return (tok_deny(out, 403, tok_err_group, NULL));
	if (route->nrequire_fqan > 0)
		return (tok_deny(out, 403, tok_err_fqan, NULL));
	if (b->nokey)
		return (tok_deny(out, 500, tok_err_nokey, NULL));
	if (b->hdrs == NULL)
		return (tok_deny(out, 500, tok_err_headers, NULL));
	out->result = AUTH_OK;
	out->hdrs = b->hdrs;
	out->hdrslen = b->hdrslen;
	return (AUTH_OK);
}

const char *
auth_token_inspect(struct auth_ctx *ctx, const char *tok, size_t toklen,
    json_t **header, json_t **claims)
{
	struct auth_tokstate *ts = ctx->tok;
	struct token_issuer *vi = NULL;
	struct tok_keys	**held = NULL;
	struct token_claims c;
	const char	*why = "OK";
	size_t		 i, n = ts != NULL ? ts->niss : 0;

	*header = *claims = NULL;
	if (n > 0) {
		vi = calloc(n, sizeof(*vi));
		held = calloc(n, sizeof(struct tok_keys *));
		if (vi == NULL || held == NULL) {
			free(vi);
			free(held);
			return (tok_err_headers);
		}
		pthread_mutex_lock(&ts->lock);
		for (i = 0; i < n; i++) {
			held[i] = ts->iss[i].keys;
			if (held[i] != NULL)
				__atomic_add_fetch(&held[i]->refs, 1,
				    __ATOMIC_RELAXED);
			vi[i].issuer = ts->iss[i].issuer;
			vi[i].keys = held[i] != NULL ? held[i]->set : NULL;
			vi[i].audiences = (const char *const *)ts->iss[i].aud;
			vi[i].naudiences = ts->iss[i].naud;
		}
		pthread_mutex_unlock(&ts->lock);
	}
	if (token_verify(tok, toklen, TOK_MAX_BYTES, vi, n,
	    time(NULL), ts != NULL ? ts->leeway : 60, &c, &why) == 0)
		why = "OK";
	*header = json_incref(c.header);
	*claims = json_incref(c.claims);
	token_claims_free(&c);
	for (i = 0; i < n; i++)
		tok_keys_put(held[i]);
	free(vi);
	free(held);
	return (why);
}

void
auth_token_release(struct auth_decision *d)
{
	struct tok_out	*to = d->tpriv;

	if (to == NULL)
		return;
	tok_blk_put(to->blk);
	tok_ent_put(to->ent);
	free(to);
	d->tpriv = NULL;
	d->token_iss = NULL;
	d->token_sub = NULL;
}

void
auth_token_stats(const struct auth_ctx *ctx, struct auth_token_stats *st)
{
	const struct auth_tokstate *ts = ctx->tok;

	memset(st, 0, sizeof(*st));
	if (ts == NULL)
		return;
	st->issuers = ts->niss;
	st->cache_hits = __atomic_load_n(&ts->hits, __ATOMIC_RELAXED);
	st->cache_misses = __atomic_load_n(&ts->misses, __ATOMIC_RELAXED);
	st->verified = __atomic_load_n(&ts->ok, __ATOMIC_RELAXED);
	st->refused = __atomic_load_n(&ts->failed, __ATOMIC_RELAXED);
}

size_t
auth_token_issuer_stats(const struct auth_ctx *ctx, size_t i,
    const char **issuer, time_t *loaded, uint64_t *reloads,
    uint64_t *failures)
{
	struct auth_tokstate *ts = ctx->tok;

	if (ts == NULL || i >= ts->niss)
		return (0);
	*issuer = ts->iss[i].issuer;
	pthread_mutex_lock(&ts->lock);
	*loaded = ts->iss[i].keys_loaded;
	pthread_mutex_unlock(&ts->lock);
	*reloads = __atomic_load_n(&ts->iss[i].reloads, __ATOMIC_RELAXED);
	*failures = __atomic_load_n(&ts->iss[i].failures, __ATOMIC_RELAXED);
	return (ts->niss);
}
