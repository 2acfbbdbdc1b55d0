/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * The one narrow interface proxy/ uses for grid authentication.  An
 * auth_ctx owns the trust store (CA directory and CRLs), the VOMS trust,
 * the CRIC users map, the ban list and the HMAC key, and reloads each of
 * them from disk when they change.  It hooks into an SSL_CTX so that the
 * handshake only records a verification result (never fails for a bad or
 * missing client certificate); the decision is made per request and per
 * route by auth_decide(), so that a failure becomes an HTTP answer.  This
 * module knows nothing of sockets or the event loop.
 */

#ifndef AUTH_AUTH_H
#define AUTH_AUTH_H

#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/ssl.h>

struct conf_auth;
struct conf_route;
struct auth_ctx;

enum auth_cert_status {
	AUTH_CERT_NONE = 0,	/* no client certificate was presented */
	AUTH_CERT_OK,		/* chain verified, proxy policy satisfied */
	AUTH_CERT_FAILED	/* presented but refused; see reason */
};

enum auth_proxy_kind {
	AUTH_PROXY_NONE = 0,	/* plain end-entity certificate */
	AUTH_PROXY_RFC,		/* RFC 3820, inherit-all / impersonation */
	AUTH_PROXY_LIMITED,	/* RFC 3820 limited policy */
	AUTH_PROXY_INDEPENDENT,	/* RFC 3820 independent: never the user's DN */
	AUTH_PROXY_LEGACY	/* Globus legacy, only with legacy_proxies */
};

enum auth_result {
	AUTH_OK = 0,		/* authenticated: add signed headers */
	/* auth: optional, no usable cert: status NONE */
	AUTH_ANON,
	AUTH_PASS,		/* auth: none: forward with no identity */
	AUTH_DENY		/* answer 403 with reason */
};

/* Bits returned by auth_ctx_refresh(). */
#define AUTH_RELOAD_TRUST	0x01	/* CA dir / CRLs / vomsdir swapped */
#define AUTH_RELOAD_USERS	0x02
#define AUTH_RELOAD_BANNED	0x04
#define AUTH_RELOAD_HMAC	0x08
#define AUTH_RELOAD_TOKENS	0x10	/* a token key set or subject map */
#define AUTH_RELOAD_HOSTS	0x20	/* the HostIP list (auth.hosts) */
#define AUTH_RELOAD_FAILED	0x80	/* something changed but was refused */

/* One certificate of the presented chain, for the trouble page and logs. */
struct auth_chain_cert {
	char		*subject;	/* slash-form DN */
	char		*issuer;	/* slash-form DN */
	time_t		 not_before;
	time_t		 not_after;
	enum auth_proxy_kind proxy;	/* this cert's own proxy type */
};

/*
 * The verified (or refused) result for one presented chain.  Immutable
 * once published, refcounted, shared between connections and threads that
 * present the same chain bytes.  Obtained from auth_ident_get().
 */
struct auth_ident {
	int		 refs;			/* atomic */
	enum auth_cert_status status;
	/* static plain-language text when FAILED */
	const char	*reason;
	const char	*detail;	/* optional extra words, may be NULL */
	/* end-entity DN (slash form), or NULL */
	char		*user_dn;
	enum auth_proxy_kind proxy;	/* of the leaf */
	char		**fqans;	/* from a trusted VOMS AC, AC order */
	size_t		 nfqans;
	const char	*voms_error;	/* why ACs were ignored, or NULL */
	time_t		 not_after;	/* earliest expiry in the chain */
	time_t		 valid_until;	/* verify again from here on: the
					 * earliest of the chain's notAfter,
					 * its CRLs' nextUpdate and the ACs'
					 * notAfter + VOMS skew */
	struct auth_chain_cert *chain;	/* leaf first */
	size_t		 nchain;
	uint64_t	 trust_gen;	/* trust generation it was made under */
};

/*
 * The per-request answer from auth_decide().  hdrs holds complete header
 * lines ("Name: value\r\n" ...) that the proxy appends to the upstream
 * request: cms-auth-status, cms-authn-*, cms-authz-*, cms-authn-hmac.  It
 * does NOT include cms-request-uri or X-Forwarded-* (per request; the
 * proxy adds those).  hdrs, login and reason stay valid until
 * auth_decision_release().
 */
struct auth_decision {
	enum auth_result result;
	int		 status;	/* HTTP status for AUTH_DENY (403) */
	/* plain words for AUTH_DENY, else NULL */
	const char	*reason;
	const char	*hdrs;
	size_t		 hdrslen;
	const char	*login;		/* CRIC login or NULL, for logs */
	const char	*dn;		/* DN sent, or NULL, for logs */
	void		*priv;		/* owned by auth */
	/* Bearer tokens (auth_token_decide()): */
	/* answer with WWW-Authenticate: Bearer */
	int		 bearer;
	const char	*bearer_error;	/* invalid_token, insufficient_scope,
					 * or NULL (a bare challenge) */
	const char	*bearer_scope;	/* for insufficient_scope */
	const char	*token_iss;	/* for logs; never the token */
	const char	*token_sub;
	void		*tpriv;		/* owned by auth */
	/* HostIP (auth: host, host_or_cert): */
	const char	*method;	/* cms-authn-method sent when it is not
					 * auth.authn_method ("HostIP"), for
					 * logs; else NULL */
	void		*hpriv;		/* owned by auth */
};

/*
 * Build a context from the auth section of a config: load the CA dir and
 * CRLs, vomsdir, users file, ban list and HMAC key.  Returns NULL and writes
 * a one-line reason to err when anything required is missing or bad (e.g.
 * an empty or unreadable HMAC key file): the proxy refuses to start.  The
 * returned context is owned by the caller (auth_ctx_free) and is safe to
 * use from many threads at once.  ac is copied; it need not outlive ctx.
 */
struct auth_ctx	*auth_ctx_new(const struct conf_auth *ac, char *err,
		    size_t errlen);

/* Free a context; NULL is a no-op.  No SSL_CTX set up with it may still be
 * handshaking, and every ident from it must have been put. */
void	 auth_ctx_free(struct auth_ctx *ctx);

/*
 * Check the files behind ctx (stat, cheap) and reload those that changed.
 * A file that fails to load keeps the old data in force; its error is
 * written to log (one line per failure, may be truncated), and it is
 * loaded again on every later check until it loads, even when it does
 * not change (the failure may have been EMFILE); a retry that fails the
 * same way again is not logged or counted again.  Warnings about data
 * that did load (records with edge spaces, legacy-form ban DNs) go to log
 * too.  Returns a mask of AUTH_RELOAD_* bits.  Call it from one thread at
 * a time (the proxy's main thread); readers in other threads see either
 * the old or the new data, never a mix.
 */
int	 auth_ctx_refresh(struct auth_ctx *ctx, char *log, size_t loglen);

/*
 * Install the client-certificate hooks on a server SSL_CTX: request a
 * certificate without requiring one, verify presented chains against the
 * current trust store with a cache keyed by the exact chain bytes, and tie
 * session resumption (tickets and cache) to the trust generation, and
 * limit the client's certificate list to auth.max_cert_list bytes
 * (SSL_CTX_set_max_cert_list; a longer one fails the handshake).  ctx
 * must outlive sslctx.  Returns 0, or -1 with err filled.
 */
int	 auth_tls_setup(struct auth_ctx *ctx, SSL_CTX *sslctx, char *err,
	    size_t errlen);

/*
 * After a completed handshake (full or resumed) on ssl, return a new
 * reference to the identity it presented.  Never returns NULL: with no
 * certificate the status is AUTH_CERT_NONE.  The caller owns the
 * reference and drops it with auth_ident_put().
 */
struct auth_ident *auth_ident_get(struct auth_ctx *ctx, SSL *ssl);

/* Drop a reference; NULL is a no-op.  Thread-safe. */
void	 auth_ident_put(struct auth_ident *id);

/*
 * Once auth_ident_get() has been called on ssl, drop the parsed client
 * chain OpenSSL keeps in the session: the identity (and, for a re-check
 * after a trust change, its own copy of the chain) lives on in the shared
 * identity.  Saves tens of KiB per idle mTLS connection.  The leaf stays.
 */
void	 auth_tls_shed(SSL *ssl);

/*
 * 1 when id was verified under the trust store now in force (or needs no
 * trust: no certificate) and now (the caller's cached clock, time_t
 * seconds) is before id->valid_until, so a connection may keep using it;
 * 0 when the CA directory or CRLs changed since, or a certificate, AC or
 * CRL of the chain has run out, and the caller must call auth_ident_get()
 * again (which verifies the chain anew).  Lock-free, two comparisons;
 * meant for every request of a keep-alive connection.
 */
int	 auth_ident_fresh(const struct auth_ctx *ctx,
	    const struct auth_ident *id, time_t now);

/*
 * Drop the verified-chain cache entries that have expired at now; call it
 * periodically (the proxy does, on its file-watch timer) so that chains
 * nobody presents again do not stay in memory.  Returns how many were
 * dropped.  Thread-safe.
 */
size_t	 auth_ctx_purge(struct auth_ctx *ctx, time_t now);

/*
 * Decide one request: route policy (auth mode, allow_limited_proxy,
 * require_fqan, allow_from), ban list, CRIC mapping and expiry of the
 * chain, and produce the signed header block, its HMAC computed as the
 * route's sign_as says (the header bytes are the same in either mode; a
 * NULL route signs bytes).  id may be NULL for a plain (non-TLS)
 * connection, which then counts as AUTH_CERT_NONE.  peer is the
 * client address.  Fills *out and returns out->result.  The header block
 * is cached per identity and users-map/key generation, so a keep-alive
 * request costs a lookup, not an HMAC.  The caller must call
 * auth_decision_release(out) when done with out's strings.
 */
enum auth_result auth_decide(struct auth_ctx *ctx, struct auth_ident *id,
		    const struct conf_route *route, const struct sockaddr *peer,
		    struct auth_decision *out);

/*
 * auth_decide() for a route that may read bearer tokens.  tok (toklen
 * bytes, the part after "Bearer ", not NUL-terminated) is the request's
 * token or NULL; the caller has already refused a malformed or doubled
 * Authorization header and one over limits.max_token with 400.  Routes
 * with auth cert or none, and requests without a token on optional and
 * cert_or_token routes when a certificate was presented, are decided as
 * auth_decide() does.  Otherwise the token is the credential: 401 with
 * out->bearer set and out->bearer_error "invalid_token" and out->reason
 * naming the failed check (never token bytes); 401 with no error when no
 * credential at all came to a token or cert_or_token route; 403 for a
 * token not linked to a CRIC account (AUTH_ANON on optional routes), a
 * banned user, a missing scope (bearer_error "insufficient_scope",
 * bearer_scope) or group.  On AUTH_OK hdrs holds the signed block with
 * the cms-authn-token-* facts; token_iss and token_sub name the token for
 * logs.  Release with auth_decision_release().
 */
enum auth_result auth_token_decide(struct auth_ctx *ctx, const char *tok,
		    size_t toklen, struct auth_ident *id,
		    const struct conf_route *route, const struct sockaddr *peer,
		    struct auth_decision *out);

/*
 * A connection's memo of the last bearer token it presented (opaque).
 * auth_token_decide_memo() is auth_token_decide() with one: *memo starts
 * NULL and is allocated on first use; the same token bytes on the next
 * request reuse the verified identity and signed block without hashing,
 * parsing or rebuilding, as long as exp (with the leeway), the issuer's
 * key set, the users map, the ban list, the HMAC key and ctx itself (a
 * reload) are unchanged; other bytes are verified and replace the memo.
 * The memo is owned by the caller: auth_token_memo_free() (NULL is a
 * no-op) when the connection goes; it may outlive ctx.
 */
struct auth_tokmemo;
enum auth_result auth_token_decide_memo(struct auth_ctx *ctx,
		    struct auth_tokmemo **memo, const char *tok, size_t toklen,
		    struct auth_ident *id, const struct conf_route *route,
		    const struct sockaddr *peer, struct auth_decision *out);
void	 auth_token_memo_free(struct auth_tokmemo *m);
/* 1 when m (may be NULL) remembers a verified token of exactly these
 * len bytes, else 0; says nothing about whether it is still valid. */
int	 auth_token_memo_same(const struct auth_tokmemo *m, const char *tok,
	    size_t len);

/* Token counters for metrics (all zero without auth.tokens). */
struct auth_token_stats {
	uint64_t	 issuers;
	uint64_t	 cache_hits;
	uint64_t	 cache_misses;
	uint64_t	 verified;	/* tokens verified (cache misses that
					 * passed) */
	uint64_t	 refused;	/* tokens refused */
};
void	 auth_token_stats(const struct auth_ctx *ctx,
	    struct auth_token_stats *st);

/*
 * Issuer i's name, when its key set in force was read (0: never), key-set
 * reloads and refused loads.  Returns the number of issuers (0 and nothing
 * filled when i is past the end).
 */
size_t	 auth_token_issuer_stats(const struct auth_ctx *ctx, size_t i,
	    const char **issuer, time_t *loaded, uint64_t *reloads,
	    uint64_t *failures);

/*
 * HostIP counters for metrics: entries in the host list in force
 * (auth.hosts), and requests on auth: host / host_or_cert routes that were
 * authenticated by the host list, or denied because the client address is
 * not in it.  All zero without auth.hosts.  Returns 1 when auth.hosts is
 * set, else 0.
 */
int	 auth_host_stats(const struct auth_ctx *ctx, uint64_t *entries,
	    uint64_t *accepted, uint64_t *denied);

/* Release what auth_decide() handed out; safe to call twice. */
void	 auth_decision_release(struct auth_decision *d);

/*
 * Render the trouble page for id (may be NULL: no TLS / no cert) as HTML,
 * or JSON when json is non-zero.  Returns a malloc'd NUL-terminated string
 * owned by the caller (free()), with its length in *len; NULL on
 * out-of-memory.
 */
char	*auth_trouble_render(struct auth_ctx *ctx, const struct auth_ident *id,
	    int json, size_t *len);

/*
 * auth_trouble_render() for a request that presented a bearer token (tok,
 * toklen bytes; NULL: none): the page also shows the token's header and
 * claims (escaped for HTML and JSON) and which check it failed, never its
 * signature.  Same ownership as auth_trouble_render().
 */
char	*auth_trouble_render_token(struct auth_ctx *ctx,
	    const struct auth_ident *id, const char *tok, size_t toklen,
	    int json, size_t *len);

/*
 * What the users map in force asks to be warned about (records refused
 * because DN, LOGIN or NAME is not valid UTF-8), as one line in buf (len
 * bytes, NUL-terminated, may be cut).  Returns its length, 0 when there is
 * nothing to say.  Call after auth_ctx_new() and after a refresh that
 * returned AUTH_RELOAD_USERS.
 */
size_t	 auth_ctx_users_note(struct auth_ctx *ctx, char *buf, size_t len);


/*
 * Warnings of the load done by auth_ctx_new() (records with edge spaces,
 * legacy-form ban DNs), newline-separated, or "".  Owned by ctx.
 */
const char *auth_ctx_notes(const struct auth_ctx *ctx);

/* Counters for metrics; monotonic, read without locks. */
struct auth_stats {
	uint64_t	 users;			/* entries in the current map */
	uint64_t	 users_bad_utf8;	/* records of it refused: not
						 * UTF-8 (a gauge) */
	uint64_t	 users_reloads;
	uint64_t	 users_reload_failures;
	uint64_t	 trust_reloads;
	uint64_t	 trust_reload_failures;
	uint64_t	 verify_cache_hits;
	uint64_t	 verify_cache_misses;
	uint64_t	 verify_cache_entries;	/* now (gauge) */
	uint64_t	 verify_cache_bytes;	/* now (gauge), estimate */
	/* refused before verification */
	uint64_t	 chains_too_long;
	int		 ready;		/* trust, key and users all loaded */
	uint64_t	 users_edge_space;	/* CRIC records in force with
						 * leading/trailing spaces */
	uint64_t	 ban_legacy_dns;	/* ban DNs in legacy form */
};
void	 auth_ctx_stats(const struct auth_ctx *ctx, struct auth_stats *st);

#endif /* AUTH_AUTH_H */
