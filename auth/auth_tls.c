/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * The TLS side of auth: the hooks auth_tls_setup() installs on a server
 * SSL_CTX (a certificate-verify callback that records a result and never
 * fails the handshake, session-ticket callbacks, the SSL and SSL_SESSION
 * ex_data indexes and their free/dup callbacks), and the identity of a
 * completed handshake (auth_tls_ident_get(), behind auth_ident_get()).
 * Verification itself is auth.c's (auth_verify, through the cache); the
 * decision per request is decide.c's.  It never logs.
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

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "auth/auth.h"
#include "auth/auth_int.h"
#include "auth/x509.h"
#include "auth/x509_cache.h"

static const char auth_err_stale[] =
    "TLS session predates a trust store reload; reconnect";

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

/* The per-connection record in SSL ex_data. */
struct auth_conn {
	struct auth_ident *id;
	int		 from_ticket;	/* set by the ticket callback */
};

static int	auth_ssl_idx = -1;
static int	auth_sess_idx = -1;
static pthread_once_t auth_once = PTHREAD_ONCE_INIT;

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
auth_tls_ident_get(struct auth_ctx *ctx, SSL *ssl)
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
