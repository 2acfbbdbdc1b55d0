/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * TLS termination settings: builds a server SSL_CTX for one listener from
 * the config (protocols, ciphers, groups, session cache and tickets, no
 * renegotiation), all set here so that the system openssl.cnf changes
 * nothing, and drains the OpenSSL error queue into the log.
 */

#ifndef PROXY_TLS_H
#define PROXY_TLS_H

#include <stddef.h>

#include <openssl/ssl.h>

struct conf_listener;
struct auth_ctx;

/* Initialise OpenSSL without reading openssl.cnf.  Call once at start. */
void	 tls_init(void);

/*
 * Build a server SSL_CTX for listener l: load its certificate chain and
 * key, and (when auth is not NULL) install the client-certificate hooks.
 * Returns the new SSL_CTX owned by the caller (SSL_CTX_free), or NULL with
 * a one-line reason in err.
 */
SSL_CTX	*tls_server_ctx_new(const struct conf_listener *l,
	    struct auth_ctx *auth, char *err, size_t errlen);

/* Append the OpenSSL error queue to buf ("; "-separated) and empty it. */
void	 tls_errors(char *buf, size_t len);

/* Log and empty the OpenSSL error queue, each line prefixed. */
void	 tls_log_errors(const char *prefix);

/*
 * Why the TLS handshake that just failed on this thread failed, from the
 * first error on OpenSSL's queue (left on it for tls_log_errors): one of
 * "protocol" (not TLS, or a version we refuse), "cipher" (no shared
 * cipher, group or signature algorithm), "certificate", "peer_alert" (the
 * client sent an alert: it refused our certificate, or gave up), "eof"
 * (no error: the peer closed or reset mid-handshake) or "other".
 */
const char *tls_fail_reason(void);

/* 1 when ALPN chose HTTP/2 on ssl's connection (handshake done). */
int	 tls_is_h2(const SSL *ssl);

/* Short names for logs: "TLSv1.3", "TLS_AES_128_GCM_SHA256". */
const char *tls_version(const SSL *ssl);
const char *tls_cipher(const SSL *ssl);

#endif /* PROXY_TLS_H */
