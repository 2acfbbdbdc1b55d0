/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * The auth façade (auth.h): owns the live trust snapshot, CRIC map, ban
 * list and HMAC key and reloads them when their files change; hooks a
 * server SSL_CTX so that a handshake only records a verification result;
 * decides each request against its route; renders the trouble page.  It
 * glues x509.c (verification, cache), dnmap.c, ban.c, sign.c and voms.c
 * together and is the only auth file proxy/ calls.  It never logs: refresh
 * failures are written into the caller's buffer.
 *
 * TLS sessions.  The identity of a connection lives in SSL ex_data.  A
 * full handshake stores it there and in the SSL_SESSION's ex_data (for the
 * stateful session cache); session tickets carry only the chain key and
 * the trust generation (ticket appdata), and a ticket is honoured only when
 * its generation is current and its identity is still in the verified-
 * chain cache, else the client gets a full handshake.  An identity from an
 * older trust generation (a stateful session, or a keep-alive connection
 * that outlived a reload), or one past its valid_until (a certificate, a
 * granted VOMS AC or a CRL of its chain ran out), is re-verified against
 * the current store at the current time from the chain it was verified
 * from, so a new CRL, an expired AC or a stale CRL also reaches them.
 * Refused identities keep no chain (junk chains must cost no memory), so
 * they stay refused until the client reconnects.
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

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "auth/auth.h"
#include "auth/ban.h"
#include "auth/dnmap.h"
#include "auth/namespaces.h"
#include "auth/sign.h"
#include "auth/voms.h"
#include "auth/x509.h"
#include "conf/conf.h"
#include "conf/route.h"

/* Per-request reasons (the certificate ones are x509_err_*). */
static const char auth_err_nocert[] = "client certificate required";
static const char auth_err_unregistered[] = "not registered in CRIC";
static const char auth_err_banned[] = "banned";
static const char auth_err_limited[] =
    "limited proxy not allowed on this route";
static const char auth_err_fqan[] = "missing required VOMS role";
static const char auth_err_addr[] = "address not allowed";
static const char auth_err_nokey[] = "HMAC key not loaded";
static const char auth_err_headers[] = "cannot build identity headers";
static const char auth_err_stale[] =
    "TLS session predates a trust store reload; reconnect";

static const char auth_hdr_none[] = "cms-auth-status: NONE\r\n";

/* The identity of a session that outlived a trust reload, when its chain
 * is not known (cannot happen with idents from x509_verify()). */
static struct x509_ident auth_stale = {
	.pub = { .refs = 1, .status = AUTH_CERT_FAILED,
	    .reason = x509_err_chain, .detail = auth_err_stale,
	    .valid_until = X509_FOREVER },
	.is_static = 1,
	.lock = PTHREAD_MUTEX_INITIALIZER
};

/* Ticket appdata: magic, flags, trust generation, chain key. */
#define AUTH_TICKET_MAGIC	"gfa1"
#define AUTH_TICKET_LEN		(4 + 1 + 8 + X509_KEY_LEN)
#define AUTH_TICKET_HAS_KEY	0x01

/* One loaded file: a users map, a ban list or a key.  Refcounted so a
 * reader keeps it alive across a concurrent swap. */
struct auth_snap {
	int		 refs;		/* atomic */
	uint64_t	 gen;
	struct dnmap	*map;
	struct ban	*ban;
	unsigned char	*key;
	size_t		 keylen;
	size_t		 bad_utf8;	/* users: records refused, not UTF-8 */
	char		*utf8note;	/* users: UTF-8 refusals, or NULL */
	size_t		 nfixed;	/* users: records with edge spaces;
					 * ban: legacy-form DNs normalised */
	char		 note[400];	/* a warning about them, or "" */
};

/*
 * What stat() saw of a file or directory tree; equal means unchanged.
 * known is cleared when loading what the signature describes failed, so
 * the next check loads again even if nothing changed since (a failure may
 * have been EMFILE or a directory missing for a moment).
 */
struct auth_sig {
	int		 known;
	uint64_t	 h;
	uint64_t	 errh;		/* hash of the last load error */
};

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

struct auth_ctx {
	/* Copied configuration. */
	char		*ca_path;
	char		*vomsdir;
	char		*users;
	char		*banned;
	char		*hmac_key;
	char		*method;
	unsigned	 depth;
	int		 legacy;
	size_t		 max_cert_list;
	enum namespaces_mode ns_mode;	/* auth.namespaces */
	int		 dn_any_order;	/* auth.dn_match: any_order */

	/* The live objects; lock guards the pointers, refs keep them. */
	pthread_mutex_t	 lock;
	struct x509_trust *trust;
	struct auth_snap *umap;
	struct auth_snap *ban;
	struct auth_snap *key;
	uint64_t	 trust_gen;	/* atomic reads */
	uint64_t	 users_gen;
	uint64_t	 ban_gen;
	uint64_t	 key_gen;

	struct auth_sig	 sig_trust, sig_users, sig_ban, sig_key;
	char		 notes[900];	/* warnings of the first load */
	struct x509_cache *cache;

	/* Monotonic counters (atomic). */
	uint64_t	 users_reloads, users_reload_failures;
	uint64_t	 trust_reloads, trust_reload_failures;
	uint64_t	 chains_too_long;
};

/* The per-connection record in SSL ex_data. */
struct auth_conn {
	struct auth_ident *id;
	int		 from_ticket;	/* set by the ticket callback */
};

/* The cached outcome of the user lookup for one identity: CRIC, ban, and
 * the signed header block.  Immutable; refcounted. */
struct auth_block {
	int		 refs;		/* atomic */
	uint64_t	 users_gen, ban_gen, key_gen;
	int		 registered;
	int		 banned;
	const char	*fail;		/* why hdrs is missing, or NULL */
	char		*hdrs;
	size_t		 hdrslen;
	char		*hdrs_py3;	/* signed as py3-latin1; NULL when
					 * hdrs is all ASCII (same HMAC) */
	size_t		 hdrs_py3len;
	char		*login;
	char		*dn;
};

static int	auth_ssl_idx = -1;
static int	auth_sess_idx = -1;
static pthread_once_t auth_once = PTHREAD_ONCE_INIT;

/* ------------------------------------------------------------------ */
/* Snapshots and small helpers                                         */
/* ------------------------------------------------------------------ */

static struct auth_snap *
auth_snap_get(struct auth_snap *s)
{
	if (s != NULL)
		__atomic_add_fetch(&s->refs, 1, __ATOMIC_RELAXED);
	return (s);
}

static void
auth_snap_put(struct auth_snap *s)
{
	if (s == NULL || __atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	dnmap_free(s->map);
	ban_free(s->ban);
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

static uint64_t
auth_load64(const uint64_t *p)
{
	return (__atomic_load_n(p, __ATOMIC_ACQUIRE));
}

static void
auth_inc(uint64_t *p)
{
	__atomic_add_fetch(p, 1, __ATOMIC_RELAXED);
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
	if (ctx->hmac_key != NULL) {
		ctx->sig_key = auth_sig_file(ctx->hmac_key);
		ctx->key_gen = 1;
		if ((ctx->key = auth_load_key(ctx->hmac_key, 1, why,
		    sizeof(why))) == NULL) {
			snprintf(err, errlen, "hmac_key: %s", why);
			goto fail;
		}
	}
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
	x509_cache_free(ctx->cache);
	x509_trust_put(ctx->trust);
	auth_snap_put(ctx->umap);
	auth_snap_put(ctx->ban);
	auth_snap_put(ctx->key);
	pthread_mutex_destroy(&ctx->lock);
	free(ctx->ca_path);
	free(ctx->vomsdir);
	free(ctx->users);
	free(ctx->banned);
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
static struct auth_ident *
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
static struct auth_ident *
auth_reverify(struct auth_ctx *ctx, struct auth_ident *old, time_t now)
{
	struct x509_ident *xi = (struct x509_ident *)old;

	if (xi->presented == NULL || sk_X509_num(xi->presented) == 0)
		return (NULL);
	return (auth_verify(ctx, sk_X509_value(xi->presented, 0),
	    xi->presented, now));
}

/* ------------------------------------------------------------------ */
/* TLS hooks                                                           */
/* ------------------------------------------------------------------ */

static void
auth_conn_free_cb(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx,
    long argl, void *argp)
{
	struct auth_conn *c = ptr;

	if (c == NULL)
		return;
	x509_ident_put(c->id);
	free(c);
}

static void
auth_sess_free_cb(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx,
    long argl, void *argp)
{
	x509_ident_put(ptr);
}

static int
auth_sess_dup_cb(CRYPTO_EX_DATA *to, const CRYPTO_EX_DATA *from,
    void **from_d, int idx, long argl, void *argp)
{
	/* The copy shares the identity: take a reference for it. */
	if (from_d != NULL && *from_d != NULL)
		x509_ident_get(*from_d);
	return (1);
}

static void
auth_once_init(void)
{
	auth_ssl_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL,
	    auth_conn_free_cb);
	auth_sess_idx = SSL_SESSION_get_ex_new_index(0, NULL, NULL,
	    auth_sess_dup_cb, auth_sess_free_cb);
}

/* Attach id (reference transferred) to ssl; drops any earlier one. */
static void
auth_conn_set(SSL *ssl, struct auth_ident *id, int from_ticket)
{
	struct auth_conn *c;

	if ((c = SSL_get_ex_data(ssl, auth_ssl_idx)) == NULL) {
		if ((c = calloc(1, sizeof(*c))) == NULL ||
		    !SSL_set_ex_data(ssl, auth_ssl_idx, c)) {
			free(c);
			x509_ident_put(id);
			return;
		}
	}
	x509_ident_put(c->id);
	c->id = id;
	c->from_ticket = from_ticket;
}

/* Remember id (new reference) in the session for stateful resumption. */
static void
auth_sess_set(SSL_SESSION *sess, struct auth_ident *id)
{
	struct auth_ident *old;

	if (sess == NULL)
		return;
	old = SSL_SESSION_get_ex_data(sess, auth_sess_idx);
	if (SSL_SESSION_set_ex_data(sess, auth_sess_idx, x509_ident_get(id)))
		x509_ident_put(old);
	else
		x509_ident_put(id);
}

/*
 * SSL_CTX_set_cert_verify_callback: replaces OpenSSL's own chain check for
 * the client certificate.  Verifies against the *current* trust snapshot
 * (not the SSL_CTX's store, which never changes), records the result and
 * always returns 1: a bad certificate becomes an HTTP 403 per route, not a
 * failed handshake.  Possession of the key is still proven by the TLS
 * CertificateVerify message.
 */
static int
auth_cert_verify_cb(X509_STORE_CTX *sctx, void *arg)
{
	struct auth_ctx	*ctx = arg;
	SSL		*ssl;
	struct auth_ident *id;

	ssl = X509_STORE_CTX_get_ex_data(sctx,
	    SSL_get_ex_data_X509_STORE_CTX_idx());
	id = auth_verify(ctx, X509_STORE_CTX_get0_cert(sctx),
	    X509_STORE_CTX_get0_untrusted(sctx), time(NULL));
	if (ssl != NULL) {
		struct auth_ident *slim = x509_ident_slim(id);

		/* A cached session keeps no description of a refused chain:
		 * up to TLS_SESSION_CACHE of them may live for minutes. */
		auth_sess_set(SSL_get_session(ssl), slim);
		x509_ident_put(slim);
		auth_conn_set(ssl, id, 0);
	} else
		x509_ident_put(id);
	X509_STORE_CTX_set_error(sctx, X509_V_OK);
	return (1);
}

static void
auth_put64(unsigned char *p, uint64_t v)
{
	int		 i;

	for (i = 7; i >= 0; i--, v >>= 8)
		p[i] = (unsigned char)(v & 0xff);
}

static uint64_t
auth_get64(const unsigned char *p)
{
	uint64_t	 v = 0;
	int		 i;

	for (i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return (v);
}

/* Ticket issue: store the trust generation and the chain key. */
static int
auth_ticket_gen_cb(SSL *ssl, void *arg)
{
	struct auth_ctx	*ctx = arg;
	struct auth_conn *c = SSL_get_ex_data(ssl, auth_ssl_idx);
	struct x509_ident *xi = c != NULL ? (struct x509_ident *)c->id : NULL;
	unsigned char	 buf[AUTH_TICKET_LEN];

	memset(buf, 0, sizeof(buf));
	/* The magic is 4 raw bytes of the appdata, never read as a string. */
	/* NOLINTNEXTLINE(bugprone-not-null-terminated-result): binary tag */
	memcpy(buf, AUTH_TICKET_MAGIC, 4);
	if (xi != NULL && !xi->is_static && xi->has_key) {
		buf[4] = AUTH_TICKET_HAS_KEY;
		auth_put64(buf + 5, xi->pub.trust_gen);
		memcpy(buf + 13, xi->key, X509_KEY_LEN);
	} else
		auth_put64(buf + 5, auth_load64(&ctx->trust_gen));
	return (SSL_SESSION_set1_ticket_appdata(SSL_get_session(ssl), buf,
	    sizeof(buf)));
}

/*
 * Ticket use: honour it only when it was issued under the current trust
 * generation and its identity is still cached; otherwise do a full
 * handshake (and issue a fresh ticket).
 */
static SSL_TICKET_RETURN
auth_ticket_dec_cb(SSL *ssl, SSL_SESSION *ss, const unsigned char *keyname,
    size_t keynamelen, SSL_TICKET_STATUS status, void *arg)
{
	struct auth_ctx	*ctx = arg;
	struct auth_ident *id;
	void		*data = NULL;
	size_t		 len = 0;
	const unsigned char *p;

	switch (status) {
	case SSL_TICKET_EMPTY:
	case SSL_TICKET_NO_DECRYPT:
		return (SSL_TICKET_RETURN_IGNORE_RENEW);
	case SSL_TICKET_SUCCESS:
	case SSL_TICKET_SUCCESS_RENEW:
		break;
	default:
		return (SSL_TICKET_RETURN_ABORT);
	}
	if (!SSL_SESSION_get0_ticket_appdata(ss, &data, &len) ||
	    len != AUTH_TICKET_LEN || memcmp(data, AUTH_TICKET_MAGIC, 4) != 0)
		return (SSL_TICKET_RETURN_IGNORE_RENEW);
	p = data;
	if (auth_get64(p + 5) != auth_load64(&ctx->trust_gen))
		return (SSL_TICKET_RETURN_IGNORE_RENEW);
	if (p[4] & AUTH_TICKET_HAS_KEY) {
		id = x509_cache_lookup(ctx->cache, p + 13, auth_get64(p + 5),
		    time(NULL));
		if (id == NULL)
			return (SSL_TICKET_RETURN_IGNORE_RENEW);
	} else
		id = x509_ident_none();
	auth_conn_set(ssl, id, 1);
	return (status == SSL_TICKET_SUCCESS ? SSL_TICKET_RETURN_USE :
	    SSL_TICKET_RETURN_USE_RENEW);
}

int
auth_tls_setup(struct auth_ctx *ctx, SSL_CTX *sslctx, char *err,
    size_t errlen)
{
	static const unsigned char sid[] = "gridfront";

	pthread_once(&auth_once, auth_once_init);
	if (auth_ssl_idx < 0 || auth_sess_idx < 0) {
		snprintf(err, errlen, "cannot allocate OpenSSL ex_data");
		return (-1);
	}
	/* Ask for a certificate on every handshake; never require one. */
	SSL_CTX_set_verify(sslctx, SSL_VERIFY_PEER, NULL);
	/* The whole certificate list a client may send, before parsing. */
	if (ctx->max_cert_list > 0)
		SSL_CTX_set_max_cert_list(sslctx, (long)ctx->max_cert_list);
	SSL_CTX_set_cert_verify_callback(sslctx, auth_cert_verify_cb, ctx);
	/* Resumption with a client certificate needs a session context. */
	if (!SSL_CTX_set_session_id_context(sslctx, sid, sizeof(sid) - 1) ||
	    !SSL_CTX_set_session_ticket_cb(sslctx, auth_ticket_gen_cb,
	    auth_ticket_dec_cb, ctx)) {
		snprintf(err, errlen, "cannot install TLS session hooks");
		ERR_clear_error();
		return (-1);
	}
	return (0);
}

struct auth_ident *
auth_ident_get(struct auth_ctx *ctx, SSL *ssl)
{
	struct auth_conn *c;
	struct auth_ident *id = NULL, *nid;
	uint64_t	 gen = auth_load64(&ctx->trust_gen);
	time_t		 now = time(NULL);
	int		 reused;

	pthread_once(&auth_once, auth_once_init);
	if (ssl == NULL)
		return (x509_ident_none());
	reused = SSL_session_reused(ssl);
	c = SSL_get_ex_data(ssl, auth_ssl_idx);
	/* A ticket identity counts only if the ticket was really used. */
	if (c != NULL && c->id != NULL && (!c->from_ticket || reused))
		id = c->id;
	else if (reused && SSL_get_session(ssl) != NULL)
		id = SSL_SESSION_get_ex_data(SSL_get_session(ssl),
		    auth_sess_idx);
	if (id == NULL) {
		/* Not seen by our callbacks: no certificate, or verify now. */
		id = auth_verify(ctx, SSL_get0_peer_certificate(ssl),
		    SSL_get_peer_cert_chain(ssl), now);
		auth_conn_set(ssl, x509_ident_get(id), 0);
		return (id);
	}
	if (((struct x509_ident *)id)->is_static ||
	    (id->trust_gen == gen && now < id->valid_until)) {
		if (c == NULL || c->id != id)
			auth_conn_set(ssl, x509_ident_get(id), 0);
		return (x509_ident_get(id));
	}
	/*
	 * The trust store changed since this identity was verified, or one
	 * of its certificates, ACs or CRLs has run out: check the same chain
	 * again under the current store at the current time.  Without the
	 * chain nothing can be re-checked, and a formerly good identity is
	 * refused.  A resumed session gets the new identity too.
	 */
	if ((nid = auth_reverify(ctx, id, now)) == NULL)
		nid = id->status == AUTH_CERT_OK ? &auth_stale.pub :
		    x509_ident_get(id);
	if (reused)
		auth_sess_set(SSL_get_session(ssl), nid);
	auth_conn_set(ssl, x509_ident_get(nid), 0);
	return (nid);
}

void
auth_tls_shed(SSL *ssl)
{
	STACK_OF(X509)	*ch;
	X509		*x;

	if (ssl == NULL || (ch = SSL_get_peer_cert_chain(ssl)) == NULL)
		return;
	while ((x = sk_X509_pop(ch)) != NULL)
		X509_free(x);
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

/* ------------------------------------------------------------------ */
/* Decisions                                                           */
/* ------------------------------------------------------------------ */

static void
auth_block_put(struct auth_block *b)
{
	if (b == NULL || __atomic_sub_fetch(&b->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	if (b->hdrs != NULL) {
		/* The block holds a fresh HMAC; do not leave it around. */
		OPENSSL_cleanse(b->hdrs, b->hdrslen);
		free(b->hdrs);
	}
	if (b->hdrs_py3 != NULL) {
		OPENSSL_cleanse(b->hdrs_py3, b->hdrs_py3len);
		free(b->hdrs_py3);
	}
	free(b->login);
	free(b->dn);
	free(b);
}

static void
auth_block_free_cb(void *p)
{
	auth_block_put(p);
}

/*
 * The CRIC record of a certificate DN: the exact DN, or with auth.dn_match
 * any_order also the same RDNs in another order.  NULL when none.
 */
static const struct dnmap_user *
auth_cric_lookup(const struct auth_ctx *ctx, const struct dnmap *m,
    const char *dn)
{
	if (ctx->dn_any_order)
		return (dnmap_lookup_unordered(m, dn));
	return (dnmap_lookup(m, dn));
}

/*
 * Build the user-side outcome for id under the current users map, ban
 * list and key: the CRIC record (exact DN; any order with dn_match: any_order),
 * the ban check by certificate DN, CRIC DN and login, and the signed
 * header block.  Returns a block with one reference, or NULL on OOM.
 */
static struct auth_block *
auth_block_build(struct auth_ctx *ctx, const struct auth_ident *id)
{
	struct auth_snap *u, *bn, *k;
	const struct dnmap_user *usr = NULL;
	struct auth_block *b;
	size_t		 nfq = id->nfqans;

	if ((b = calloc(1, sizeof(*b))) == NULL)
		return (NULL);
	b->refs = 1;
	pthread_mutex_lock(&ctx->lock);
	u = auth_snap_get(ctx->umap);
	bn = auth_snap_get(ctx->ban);
	k = auth_snap_get(ctx->key);
	pthread_mutex_unlock(&ctx->lock);
	b->users_gen = u != NULL ? u->gen : 0;
	b->ban_gen = bn != NULL ? bn->gen : 0;
	b->key_gen = k != NULL ? k->gen : 0;

	if (u != NULL)
		usr = auth_cric_lookup(ctx, u->map, id->user_dn);
	b->registered = usr != NULL;
	if (bn != NULL)
		b->banned = ban_match(bn->ban, id->user_dn,
		    usr != NULL ? usr->login : NULL) ||
		    (usr != NULL && ban_match(bn->ban, usr->dn, NULL));
	if (usr != NULL) {
		if ((b->login = strdup(usr->login)) == NULL ||
		    (b->dn = strdup(usr->dn)) == NULL)
			goto oom;
		if (k == NULL)
			b->fail = auth_err_nokey;
		else {
			b->hdrs = sign_block(k->key, k->keylen, ctx->method,
			    usr->dn, usr->login, usr->name, usr->roles,
			    usr->nroles, (const char *const *)id->fqans,
			    id->nfqans, &b->hdrslen);
			/* An FQAN the header cannot carry costs only them. */
			if (b->hdrs == NULL && id->nfqans > 0) {
				nfq = 0;
				b->hdrs = sign_block(k->key, k->keylen,
				    ctx->method, usr->dn, usr->login,
				    usr->name, usr->roles, usr->nroles, NULL,
				    0, &b->hdrslen);
			}
			if (b->hdrs == NULL)
				b->fail = auth_err_headers;
			/*
			 * Routes with sign_as: py3-latin1 need a second HMAC
			 * only when some value has a byte >= 0x80; for an
			 * ASCII identity both modes sign the same string.
			 */
			if (b->hdrs != NULL &&
			    sign_has_high(b->hdrs, b->hdrslen) &&
			    (b->hdrs_py3 = sign_block_as(k->key, k->keylen,
			    SIGN_PY3_LATIN1, ctx->method, usr->dn, usr->login,
			    usr->name, usr->roles, usr->nroles,
			    (const char *const *)id->fqans, nfq,
			    &b->hdrs_py3len)) == NULL)
				goto oom;
		}
	} else if ((b->dn = strdup(id->user_dn)) == NULL)
		goto oom;
	auth_snap_put(u);
	auth_snap_put(bn);
	auth_snap_put(k);
	return (b);
oom:
	auth_snap_put(u);
	auth_snap_put(bn);
	auth_snap_put(k);
	auth_block_put(b);
	return (NULL);
}

/*
 * The block for id, from its per-identity slot when the users map, ban
 * list and key are the ones it was built with; built and published
 * otherwise.  Returns a new reference, or NULL on OOM.
 */
static struct auth_block *
auth_block_get(struct auth_ctx *ctx, struct auth_ident *id)
{
	struct x509_ident *xi = (struct x509_ident *)id;
	struct auth_block *b, *old = NULL;
	uint64_t	 ug = auth_load64(&ctx->users_gen);
	uint64_t	 bg = auth_load64(&ctx->ban_gen);
	uint64_t	 kg = auth_load64(&ctx->key_gen);

	pthread_mutex_lock(&xi->lock);
	b = xi->slot;
	if (b != NULL && b->users_gen == ug && b->ban_gen == bg &&
	    b->key_gen == kg)
		__atomic_add_fetch(&b->refs, 1, __ATOMIC_RELAXED);
	else
		b = NULL;
	pthread_mutex_unlock(&xi->lock);
	if (b != NULL)
		return (b);

	/* Build outside the lock: the HMAC is the expensive part. */
	if ((b = auth_block_build(ctx, id)) == NULL)
		return (NULL);
	if (!xi->is_static) {
		__atomic_add_fetch(&b->refs, 1, __ATOMIC_RELAXED);
		pthread_mutex_lock(&xi->lock);
		old = xi->slot;
		xi->slot = b;
		xi->slot_free = auth_block_free_cb;
		pthread_mutex_unlock(&xi->lock);
		auth_block_put(old);
	}
	return (b);
}

static int
auth_fqan_match(const struct auth_ident *id, const struct conf_route *r)
{
	size_t		 i, j, len;

	for (i = 0; i < r->nrequire_fqan; i++) {
		len = strlen(r->require_fqan[i]);
		while (len > 1 && r->require_fqan[i][len - 1] == '/')
			len--;
		for (j = 0; j < id->nfqans; j++)
			if (strncmp(id->fqans[j], r->require_fqan[i], len) ==
			    0 && (id->fqans[j][len] == '\0' ||
			    id->fqans[j][len] == '/'))
				return (1);
	}
	return (0);
}

static enum auth_result
auth_deny(struct auth_decision *out, int status, const char *reason)
{
	out->result = AUTH_DENY;
	out->status = status;
	out->reason = reason;
	out->hdrs = NULL;
	out->hdrslen = 0;
	return (AUTH_DENY);
}

static enum auth_result
auth_anon(struct auth_decision *out)
{
	out->result = AUTH_ANON;
	out->hdrs = auth_hdr_none;
	out->hdrslen = sizeof(auth_hdr_none) - 1;
	return (AUTH_ANON);
}

/* Which certificate of an expired chain ran out, in plain words. */
static const char *
auth_expired_reason(const struct auth_ident *id, time_t now)
{
	size_t		 i;

	for (i = 0; i < id->nchain; i++)
		if (id->chain[i].not_after != 0 &&
		    id->chain[i].not_after <= now)
			return (id->chain[i].proxy != AUTH_PROXY_NONE ?
			    x509_err_proxy_expired : x509_err_expired);
	return (x509_err_expired);
}

enum auth_result
auth_decide(struct auth_ctx *ctx, struct auth_ident *id,
    const struct conf_route *route, const struct sockaddr *peer,
    struct auth_decision *out)
{
	struct auth_block *b;
	enum conf_auth_mode mode;
	time_t		 now;

	memset(out, 0, sizeof(*out));
	mode = route != NULL ? route->auth : CONF_AUTH_CERT;
	if (route != NULL && route->nallow_from > 0 &&
	    (peer == NULL || !route_addr_allowed(route, peer)))
		return (auth_deny(out, 403, auth_err_addr));
	if (mode == CONF_AUTH_NONE) {
		/*
		 * PROTOCOL.md: a banned user gets 403 on every route, even
		 * with a valid certificate, so a presented good certificate
		 * is still checked against the ban list here.
		 */
		if (id != NULL && id->status == AUTH_CERT_OK &&
		    (b = auth_block_get(ctx, id)) != NULL) {
			int banned = b->banned;

			auth_block_put(b);
			if (banned)
				return (auth_deny(out, 403, auth_err_banned));
		}
		out->result = AUTH_PASS;
		return (AUTH_PASS);
	}
	if (id == NULL || id->status == AUTH_CERT_NONE) {
		if (mode == CONF_AUTH_OPTIONAL)
			return (auth_anon(out));
		return (auth_deny(out, 403, auth_err_nocert));
	}
	if (id->status != AUTH_CERT_OK)
		return (auth_deny(out, 403, id->reason != NULL ? id->reason :
		    x509_err_chain));
	now = time(NULL);
	if (id->not_after != 0 && now >= id->not_after)
		return (auth_deny(out, 403, auth_expired_reason(id, now)));

	if ((b = auth_block_get(ctx, id)) == NULL)
		return (auth_deny(out, 500, auth_err_headers));
	out->priv = b;
	out->login = b->login;
	out->dn = b->dn;
	if (b->banned)
		return (auth_deny(out, 403, auth_err_banned));
	if (id->proxy == AUTH_PROXY_LIMITED &&
	    (route == NULL || !route->allow_limited_proxy))
		return (auth_deny(out, 403, auth_err_limited));
	if (!b->registered) {
		/*
		 * Like the Go frontend: on an optional route a valid but
		 * unknown certificate is anonymous (cms-auth-status: NONE).
		 */
		if (mode == CONF_AUTH_OPTIONAL)
			return (auth_anon(out));
		return (auth_deny(out, 403, auth_err_unregistered));
	}
	if (route != NULL && route->nrequire_fqan > 0 &&
	    !auth_fqan_match(id, route))
		return (auth_deny(out, 403, auth_err_fqan));
	if (b->hdrs == NULL)
		return (auth_deny(out, 500, b->fail != NULL ? b->fail :
		    auth_err_headers));
	out->result = AUTH_OK;
	out->hdrs = b->hdrs;
	out->hdrslen = b->hdrslen;
	if (b->hdrs_py3 != NULL && route != NULL &&
	    route->sign_as == CONF_SIGN_PY3_LATIN1) {
		out->hdrs = b->hdrs_py3;
		out->hdrslen = b->hdrs_py3len;
	}
	return (AUTH_OK);
}

void
auth_decision_release(struct auth_decision *d)
{
	if (d == NULL)
		return;
	auth_block_put(d->priv);
	d->priv = NULL;
	d->hdrs = NULL;
	d->hdrslen = 0;
	d->login = NULL;
	d->dn = NULL;
}

/* ------------------------------------------------------------------ */
/* The trouble page                                                    */
/* ------------------------------------------------------------------ */

static void
auth_iso_time(time_t t, char *buf, size_t len)
{
	struct tm	 tm;

	if (t == 0 || gmtime_r(&t, &tm) == NULL)
		snprintf(buf, len, "unknown");
	else
		strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* A growable string for the HTML page. */
struct auth_buf {
	char		*p;
	size_t		 len, cap;
	int		 oom;
};

static void
auth_buf_add(struct auth_buf *b, const char *s, size_t n)
{
	char		*np;
	size_t		 ncap;

	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		ncap = b->cap ? b->cap : 2048;
		while (ncap < b->len + n + 1)
			ncap *= 2;
		if ((np = realloc(b->p, ncap)) == NULL) {
			b->oom = 1;
			return;
		}
		b->p = np;
		b->cap = ncap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
auth_buf_str(struct auth_buf *b, const char *s)
{
	auth_buf_add(b, s, strlen(s));
}

/* Append s HTML-escaped (text and attribute safe). */
static void
auth_buf_esc(struct auth_buf *b, const char *s)
{
	const char	*e;

	for (; s != NULL && *s != '\0'; s++) {
		switch (*s) {
		case '&':
			e = "&amp;";
			break;
		case '<':
			e = "&lt;";
			break;
		case '>':
			e = "&gt;";
			break;
		case '"':
			e = "&quot;";
			break;
		case '\'':
			e = "&#39;";
			break;
		default:
			auth_buf_add(b, s, 1);
			continue;
		}
		auth_buf_str(b, e);
	}
}

static void
auth_buf_row(struct auth_buf *b, const char *name, const char *value)
{
	auth_buf_str(b, "<tr><th>");
	auth_buf_esc(b, name);
	auth_buf_str(b, "</th><td>");
	auth_buf_esc(b, value);
	auth_buf_str(b, "</td></tr>\n");
}

/* Everything the page shows, gathered once for both renderings. */
struct auth_view {
	const struct auth_ident *id;
	const char	*presented;
	const char	*result;
	const struct dnmap_user *usr;
	int		 banned;
	int		 have_users;
};

static json_t *
auth_trouble_json(const struct auth_view *v)
{
	const struct auth_ident *id = v->id;
	json_t		*o, *a, *c, *roles;
	char		 t1[32], t2[32];
	size_t		 i;

	o = json_object();
	json_object_set_new(o, "certificate_presented",
	    json_boolean(id->status != AUTH_CERT_NONE));
	json_object_set_new(o, "verification", json_string(v->result));
	json_object_set_new(o, "detail", id->detail != NULL ?
	    json_string(id->detail) : json_null());
	a = json_array();
	for (i = 0; i < id->nchain; i++) {
		auth_iso_time(id->chain[i].not_before, t1, sizeof(t1));
		auth_iso_time(id->chain[i].not_after, t2, sizeof(t2));
		c = json_pack("{s:s?, s:s?, s:s, s:s, s:s}",
		    "subject", id->chain[i].subject,
		    "issuer", id->chain[i].issuer,
		    "not_before", t1, "not_after", t2,
		    "proxy", x509_proxy_name(id->chain[i].proxy));
		json_array_append_new(a, c);
	}
	json_object_set_new(o, "chain", a);
	json_object_set_new(o, "user_dn", id->user_dn != NULL ?
	    json_string(id->user_dn) : json_null());
	json_object_set_new(o, "proxy", json_string(x509_proxy_name(
	    id->proxy)));
	a = json_array();
	for (i = 0; i < id->nfqans; i++)
		json_array_append_new(a, json_string(id->fqans[i]));
	json_object_set_new(o, "fqans", a);
	json_object_set_new(o, "voms_error", id->voms_error != NULL ?
	    json_string(id->voms_error) : json_null());
	if (v->usr != NULL) {
		roles = json_object();
		for (i = 0; i < v->usr->nroles; i++)
			json_object_set_new(roles, v->usr->roles[i].name,
			    json_string(v->usr->roles[i].value));
		c = json_pack("{s:b, s:s, s:s, s:s, s:I, s:o}",
		    "registered", 1, "dn", v->usr->dn,
		    "login", v->usr->login, "name", v->usr->name,
		    "id", (json_int_t)v->usr->id, "roles", roles);
	} else
		c = json_pack("{s:b, s:s}", "registered", 0, "status",
		    id->user_dn == NULL ? "no user identity" :
		    v->have_users ? "not registered" :
		    "no CRIC users file loaded");
	json_object_set_new(o, "cric", c);
	json_object_set_new(o, "banned", json_boolean(v->banned));
	json_object_set_new(o, "trust_generation",
	    json_integer((json_int_t)id->trust_gen));
	return (o);
}

/*
 * What is wrong, in one sentence, and what the user can do about it: the
 * first thing a physicist whose request was refused reads.  summary is
 * static text; todo gets up to 3 static lines (NULL-terminated).
 */
static const char *
auth_trouble_advice(const struct auth_view *v, const char *todo[4])
{
	const struct auth_ident *id = v->id;
	const char	*r = id->reason;
	const char	*sum;
	size_t		 n = 0;

	if (id->status == AUTH_CERT_NONE) {
		sum = "Your browser did not present a certificate.";
		todo[n++] = "Import your grid certificate (the .p12 file from "
		    "your certificate authority) into the browser, reload, and "
		    "choose it when the browser asks.";
	} else if (id->status != AUTH_CERT_OK) {
		if (r == x509_err_expired || r == x509_err_proxy_expired) {
			sum = "Your certificate has expired.";
			todo[n++] = "Renew your certificate with your "
			    "certificate authority (or make a new proxy), "
			    "import it and reload.";
		} else if (r == x509_err_notyet) {
			sum = "Your certificate is not valid yet.";
			todo[n++] = "Check your computer's clock, or wait "
			    "until the start date shown below.";
		} else if (r == x509_err_revoked) {
			sum = "Your certificate has been revoked by its "
			    "certificate authority.";
			todo[n++] = "Request a new certificate from your "
			    "certificate authority, register its DN in CRIC "
			    "and import it.";
		} else if (r == x509_err_unknown_ca) {
			sum = "Your certificate was issued by a certificate "
			    "authority this service does not trust.";
			todo[n++] = "Use a certificate from an IGTF-accredited "
			    "certificate authority.";
		} else if (r == x509_err_crl) {
			sum = "Your certificate authority's revocation list "
			    "is missing or out of date on this service.";
			todo[n++] = "This is not your fault: tell the service "
			    "administrators; your certificate may be fine.";
		} else {
			sum = "Your certificate chain was refused.";
			todo[n++] = "Use your personal grid certificate, or an "
			    "RFC 3820 proxy made from it.";
		}
	} else if (v->banned) {
		sum = "Your account is blocked on this service.";
		todo[n++] = "Contact the service administrators.";
	} else if (v->usr == NULL) {
		sum = v->have_users ? "Your certificate is valid, but its DN is "
		    "not registered in CRIC for a CMS account." :
		    "Your certificate is valid, but this service has no CRIC "
		    "account list loaded.";
		todo[n++] = v->have_users ? "Register the User DN shown above "
		    "in CRIC and link it to your CMS account; the change "
		    "reaches this service within about an hour." :
		    "This is not your fault: tell the service administrators.";
	} else
		sum = "Your certificate is valid and registered in CRIC.";
	if (id->voms_error != NULL)
		todo[n++] = "Your VOMS attributes were ignored (see below): "
		    "make a new proxy with voms-proxy-init.";
	todo[n++] = "If a page refused you for a missing VOMS role, ask your "
	    "VO administrator for that role and use a proxy that carries it "
	    "(voms-proxy-init -voms cms:/cms/Role=NAME).";
	todo[n] = NULL;
	return (sum);
}

static void
auth_trouble_html(struct auth_buf *b, const struct auth_view *v)
{
	const struct auth_ident *id = v->id;
	const char	*todo[4], *sum;
	char		 t1[32], t2[32];
	size_t		 i;

	sum = auth_trouble_advice(v, todo);
	auth_buf_str(b, "<!DOCTYPE html>\n<html lang=\"en\"><head>"
	    "<meta charset=\"utf-8\">"
	    "<title>gridfront: certificate troubleshooting</title></head>\n"
	    "<body>\n<h1>Your certificate, as gridfront sees it</h1>\n"
	    "<p id=\"summary\"><strong>");
	auth_buf_esc(b, sum);
	auth_buf_str(b, "</strong></p>\n<table>\n");
	auth_buf_row(b, "Certificate presented", v->presented);
	auth_buf_row(b, "Verification", v->result);
	if (id->detail != NULL)
		auth_buf_row(b, "Details", id->detail);
	auth_buf_row(b, "User DN", id->user_dn != NULL ? id->user_dn :
	    "(none)");
	auth_buf_row(b, "Proxy type", x509_proxy_name(id->proxy));
	auth_buf_str(b, "</table>\n<h2>Certificate chain</h2>\n");
	if (id->nchain == 0)
		auth_buf_str(b, id->status == AUTH_CERT_NONE ?
		    "<p>No certificate was presented.</p>\n" :
		    "<p>The chain of a refused certificate is not kept; "
		    "open this page on a new connection to see it.</p>\n");
	else {
		auth_buf_str(b, "<table>\n<tr><th>#</th><th>Subject</th>"
		    "<th>Issuer</th><th>Valid from</th><th>Valid until</th>"
		    "<th>Proxy</th></tr>\n");
		for (i = 0; i < id->nchain; i++) {
			snprintf(t1, sizeof(t1), "%zu", i);
			auth_buf_str(b, "<tr><td>");
			auth_buf_esc(b, t1);
			auth_buf_str(b, "</td><td>");
			auth_buf_esc(b, id->chain[i].subject);
			auth_buf_str(b, "</td><td>");
			auth_buf_esc(b, id->chain[i].issuer);
			auth_iso_time(id->chain[i].not_before, t1, sizeof(t1));
			auth_iso_time(id->chain[i].not_after, t2, sizeof(t2));
			auth_buf_str(b, "</td><td>");
			auth_buf_esc(b, t1);
			auth_buf_str(b, "</td><td>");
			auth_buf_esc(b, t2);
			auth_buf_str(b, "</td><td>");
			auth_buf_esc(b, x509_proxy_name(id->chain[i].proxy));
			auth_buf_str(b, "</td></tr>\n");
		}
		auth_buf_str(b, "</table>\n");
	}
	auth_buf_str(b, "<h2>VOMS attributes</h2>\n<ul>\n");
	for (i = 0; i < id->nfqans; i++) {
		auth_buf_str(b, "<li>");
		auth_buf_esc(b, id->fqans[i]);
		auth_buf_str(b, "</li>\n");
	}
	if (id->nfqans == 0)
		auth_buf_str(b, "<li>(none)</li>\n");
	auth_buf_str(b, "</ul>\n");
	if (id->voms_error != NULL) {
		auth_buf_str(b, "<p>VOMS attributes ignored: ");
		auth_buf_esc(b, id->voms_error);
		auth_buf_str(b, "</p>\n");
	}
	auth_buf_str(b, "<h2>CMS account (CRIC)</h2>\n<table>\n");
	if (v->usr != NULL) {
		auth_buf_row(b, "Login", v->usr->login);
		auth_buf_row(b, "Name", v->usr->name);
		auth_buf_row(b, "CRIC DN", v->usr->dn);
		for (i = 0; i < v->usr->nroles; i++)
			auth_buf_row(b, v->usr->roles[i].name,
			    v->usr->roles[i].value);
	} else
		auth_buf_row(b, "Status", id->user_dn == NULL ?
		    "no user identity" : v->have_users ? "not registered" :
		    "no CRIC users file loaded");
	auth_buf_row(b, "Banned", v->banned ? "yes" : "no");
	auth_buf_str(b, "</table>\n<h2>What to do</h2>\n<ul id=\"todo\">\n");
	for (i = 0; todo[i] != NULL; i++) {
		auth_buf_str(b, "<li>");
		auth_buf_esc(b, todo[i]);
		auth_buf_str(b, "</li>\n");
	}
	auth_buf_str(b, "</ul>\n</body></html>\n");
}

char *
auth_trouble_render(struct auth_ctx *ctx, const struct auth_ident *id,
    int json, size_t *len)
{
	struct auth_view v;
	struct auth_snap *u, *bn;
	struct auth_buf	 b;
	json_t		*o;
	char		*s = NULL;

	if (id == NULL)
		id = x509_ident_none();
	memset(&v, 0, sizeof(v));
	v.id = id;
	v.presented = id->status == AUTH_CERT_NONE ? "no" : "yes";
	v.result = id->status == AUTH_CERT_NONE ? "no certificate" :
	    id->status == AUTH_CERT_OK ? "OK" :
	    id->reason != NULL ? id->reason : x509_err_chain;
	pthread_mutex_lock(&ctx->lock);
	u = auth_snap_get(ctx->umap);
	bn = auth_snap_get(ctx->ban);
	pthread_mutex_unlock(&ctx->lock);
	v.have_users = u != NULL;
	if (id->user_dn != NULL && u != NULL)
		v.usr = auth_cric_lookup(ctx, u->map, id->user_dn);
	/* The same three checks as a request: certificate DN, login and
	 * the CRIC DN, so the page never says "no" while requests get 403. */
	if (id->user_dn != NULL && bn != NULL)
		v.banned = ban_match(bn->ban, id->user_dn,
		    v.usr != NULL ? v.usr->login : NULL) ||
		    (v.usr != NULL && ban_match(bn->ban, v.usr->dn, NULL));

	if (json) {
		if ((o = auth_trouble_json(&v)) != NULL) {
			s = json_dumps(o, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
			json_decref(o);
		}
		if (s != NULL && len != NULL)
			*len = strlen(s);
	} else {
		memset(&b, 0, sizeof(b));
		auth_trouble_html(&b, &v);
		if (b.oom)
			free(b.p);
		else {
			s = b.p;
			if (len != NULL)
				*len = b.len;
		}
	}
	auth_snap_put(u);
	auth_snap_put(bn);
	return (s);
}
