/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * Server-side TLS contexts.  Every security-relevant setting is made here
 * explicitly (TLS 1.2 and 1.3 only, AEAD ciphers with forward secrecy,
 * X25519/P-256/P-384, no compression, no renegotiation, a session cache
 * and tickets), and OpenSSL is initialised without openssl.cnf, so the
 * host's crypto policy cannot silently change what gridfront offers.
 * Client-certificate handling is delegated to auth/ (auth_tls_setup).
 * Called by server.c when a generation is built.
 */

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "auth/auth.h"
#include "conf/conf.h"
#include "proxy/log.h"
#include "proxy/tls.h"

/* TLS 1.2: ECDHE with AEAD only. TLS 1.3: the three standard suites. */
#define TLS12_CIPHERS	"ECDHE-ECDSA-AES128-GCM-SHA256:"		\
			"ECDHE-RSA-AES128-GCM-SHA256:"			\
			"ECDHE-ECDSA-AES256-GCM-SHA384:"		\
			"ECDHE-RSA-AES256-GCM-SHA384:"			\
			"ECDHE-ECDSA-CHACHA20-POLY1305:"		\
			"ECDHE-RSA-CHACHA20-POLY1305"
#define TLS13_SUITES	"TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:" \
			"TLS_CHACHA20_POLY1305_SHA256"
#define TLS_GROUPS	"X25519:P-256:P-384"

/* Sessions live 5 minutes: short, so a revocation or an expired proxy
 * takes effect soon even for resumed sessions (see auth/ for the trust
 * generation check that invalidates them at once on a CRL change). */
#define TLS_SESSION_TIMEOUT	300
#define TLS_SESSION_CACHE	20480

static const unsigned char sid_ctx[] = "gridfront";

void
tls_init(void)
{
	OPENSSL_init_ssl(OPENSSL_INIT_NO_LOAD_CONFIG |
	    OPENSSL_INIT_LOAD_SSL_STRINGS | OPENSSL_INIT_LOAD_CRYPTO_STRINGS,
	    NULL);
}

void
tls_errors(char *buf, size_t len)
{
	unsigned long	 e;
	size_t		 off = strlen(buf);
	char		 one[256];

	while ((e = ERR_get_error()) != 0) {
		ERR_error_string_n(e, one, sizeof(one));
		if (off + 3 < len) {
			off += snprintf(buf + off, len - off, "%s%s",
			    off ? "; " : "", one);
			if (off >= len)
				off = len - 1;
		}
	}
}

void
tls_log_errors(const char *prefix)
{
	unsigned long	 e;
	char		 one[256];

	while ((e = ERR_get_error()) != 0) {
		ERR_error_string_n(e, one, sizeof(one));
		log_warn("%s: %s", prefix, one);
	}
}

const char *
tls_fail_reason(void)
{
	unsigned long	 e = ERR_peek_error();
	int		 r;

	if (e == 0)
		return ("eof");
	if (ERR_GET_LIB(e) != ERR_LIB_SSL)
		return ("other");
	r = ERR_GET_REASON(e);
	if (r >= SSL_AD_REASON_OFFSET)
		return ("peer_alert");
	switch (r) {
	case SSL_R_UNEXPECTED_EOF_WHILE_READING:
		return ("eof");
	case SSL_R_WRONG_VERSION_NUMBER:
	case SSL_R_UNSUPPORTED_PROTOCOL:
	case SSL_R_UNKNOWN_PROTOCOL:
	case SSL_R_HTTP_REQUEST:
	case SSL_R_HTTPS_PROXY_REQUEST:
	case SSL_R_PACKET_LENGTH_TOO_LONG:
	case SSL_R_VERSION_TOO_LOW:
	case SSL_R_NO_PROTOCOLS_AVAILABLE:
	case SSL_R_UNEXPECTED_MESSAGE:
	case SSL_R_RECORD_LENGTH_MISMATCH:
		return ("protocol");
	case SSL_R_NO_SHARED_CIPHER:
	case SSL_R_NO_SHARED_SIGNATURE_ALGORITHMS:
	case SSL_R_NO_SUITABLE_SIGNATURE_ALGORITHM:
	case SSL_R_NO_SHARED_GROUPS:
	case SSL_R_NO_SUITABLE_KEY_SHARE:
		return ("cipher");
	case SSL_R_CERTIFICATE_VERIFY_FAILED:
	case SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE:
		return ("certificate");
	default:
		return ("other");
	}
}

/* ALPN lists in wire format: what a listener offers, best first. */
static const unsigned char tls_alpn_h2[] = "\x02h2\x08http/1.1";
static const unsigned char tls_alpn_h1[] = "\x08http/1.1";

/*
 * Pick the protocol: ours in our order of preference, among those the
 * client offers.  No overlap means no ALPN at all, and HTTP/1.1 (a client
 * that offers only h2 then fails in its own way, as RFC 7301 3.2 allows).
 */
static int
tls_alpn_cb(SSL *ssl, const unsigned char **out, unsigned char *outlen,
    const unsigned char *in, unsigned int inlen, void *arg)
{
	const unsigned char *ours = arg;
	unsigned char	*sel;
	unsigned int	 ourlen = ours == tls_alpn_h2 ?
	    sizeof(tls_alpn_h2) - 1 : sizeof(tls_alpn_h1) - 1;

	(void)ssl;
	if (SSL_select_next_proto(&sel, outlen, ours, ourlen, in, inlen) !=
	    OPENSSL_NPN_NEGOTIATED)
		return (SSL_TLSEXT_ERR_NOACK);
	*out = sel;
	return (SSL_TLSEXT_ERR_OK);
}

/* See tls.h. */
int
tls_is_h2(const SSL *ssl)
{
	const unsigned char	*p;
	unsigned int		 len;

	SSL_get0_alpn_selected(ssl, &p, &len);
	return (len == 2 && p[0] == 'h' && p[1] == '2');
}

SSL_CTX *
tls_server_ctx_new(const struct conf_listener *l, struct auth_ctx *auth,
    char *err, size_t errlen)
{
	SSL_CTX	*ctx;
	char	 why[512] = "";

	ERR_clear_error();
	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL) {
		tls_errors(why, sizeof(why));
		snprintf(err, errlen, "SSL_CTX_new: %s", why);
		return (NULL);
	}
	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) ||
	    !SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) ||
	    !SSL_CTX_set_cipher_list(ctx, TLS12_CIPHERS) ||
	    !SSL_CTX_set_ciphersuites(ctx, TLS13_SUITES) ||
	    !SSL_CTX_set1_groups_list(ctx, TLS_GROUPS)) {
		tls_errors(why, sizeof(why));
		snprintf(err, errlen, "%s: TLS parameters: %s", l->address,
		    why);
		goto fail;
	}
	/* OpenSSL 3 refuses client-initiated renegotiation unless
	 * SSL_OP_ALLOW_CLIENT_RENEGOTIATION is set; we also refuse ours. */
	SSL_CTX_clear_options(ctx, SSL_OP_ALLOW_CLIENT_RENEGOTIATION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_NO_COMPRESSION |
	    SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_SINGLE_ECDH_USE |
	    SSL_OP_NO_SSLv3 | SSL_OP_NO_TLSv1 | SSL_OP_NO_TLSv1_1 |
	    SSL_OP_ENABLE_MIDDLEBOX_COMPAT |
	    /* A FIN without close_notify is a half-close, not a fatal
	     * error: the client still gets its answer.  Request framing
	     * (Content-Length, chunked) catches a cut body. */
	    SSL_OP_IGNORE_UNEXPECTED_EOF);
	/* Idle connections give their 2 x 16 KiB record buffers back. */
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS |
	    SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	/* Read-ahead is turned on per connection by proxy/cio.c. */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
	SSL_CTX_sess_set_cache_size(ctx, TLS_SESSION_CACHE);
	SSL_CTX_set_timeout(ctx, TLS_SESSION_TIMEOUT);
	SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof(sid_ctx) - 1);
	/*
	 * TLS 1.3 tickets are made at the end of the handshake, as OpenSSL
	 * does by default, but cio holds their records back and sends them
	 * with the first response (cio_ticket_with_response()): a ticket
	 * written on its own makes the client's socket readable before any
	 * answer exists, and a client that stops sending once it sees
	 * readability (to read an early 414/431) would stop in mid-head and
	 * wait for timeouts.request_head.  (A ticket asked for later with
	 * SSL_new_session_ticket() leaves OpenSSL's 16 KiB handshake buffer
	 * allocated for the connection's life.)  One ticket is plenty for
	 * an HTTP/1.1 client and costs half the ticket work of
	 * OpenSSL's default two.
	 */
	SSL_CTX_set_num_tickets(ctx, 1);
	/* ALPN (RFC 7301): h2 first unless tls.http2 is off. */
	SSL_CTX_set_alpn_select_cb(ctx, tls_alpn_cb, (void *)(uintptr_t)
	    (l->http2 ? tls_alpn_h2 : tls_alpn_h1));

	if (SSL_CTX_use_certificate_chain_file(ctx, l->certificate) != 1) {
		tls_errors(why, sizeof(why));
		snprintf(err, errlen, "%s: cannot load certificate %s: %s",
		    l->address, l->certificate, why);
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, l->key, SSL_FILETYPE_PEM) != 1) {
		tls_errors(why, sizeof(why));
		snprintf(err, errlen, "%s: cannot load key %s: %s",
		    l->address, l->key, why);
		goto fail;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		tls_errors(why, sizeof(why));
		snprintf(err, errlen, "%s: key %s does not match certificate "
		    "%s", l->address, l->key, l->certificate);
		goto fail;
	}
	if (auth != NULL && auth_tls_setup(auth, ctx, why, sizeof(why)) == -1) {
		snprintf(err, errlen, "%s: %s", l->address, why);
		goto fail;
	}
	return (ctx);
fail:
	SSL_CTX_free(ctx);
	return (NULL);
}

const char *
tls_version(const SSL *ssl)
{
	return (ssl ? SSL_get_version(ssl) : "-");
}

const char *
tls_cipher(const SSL *ssl)
{
	return (ssl ? SSL_get_cipher_name(ssl) : "-");
}
