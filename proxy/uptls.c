/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * Client-side TLS contexts and per-pool peers for https:// backends (see
 * uptls.h).  The settings mirror the server side's (tls.c): TLS 1.2 and
 * 1.3 only, AEAD suites, no renegotiation, no compression.  Verification
 * uses OpenSSL's own chain and name checks (X509_VERIFY_PARAM host or IP)
 * and fails the handshake; the reason is read back afterwards from
 * SSL_get_verify_result() for the log and the 502.  Sessions go to the
 * peer through the new-session callback (no internal cache), copied so
 * that an unclean close of the connection that got them (which marks a
 * session not resumable) does not spoil the copy.
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "conf/conf.h"
#include "proxy/tls.h"
#include "proxy/uptls.h"
#include "proxy/util.h"

#define UPTLS_CIPHERS	"ECDHE-ECDSA-AES128-GCM-SHA256:"		\
			"ECDHE-RSA-AES128-GCM-SHA256:"			\
			"ECDHE-ECDSA-AES256-GCM-SHA384:"		\
			"ECDHE-RSA-AES256-GCM-SHA384:"			\
			"ECDHE-ECDSA-CHACHA20-POLY1305:"		\
			"ECDHE-RSA-CHACHA20-POLY1305"
#define UPTLS_SUITES	"TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:" \
			"TLS_CHACHA20_POLY1305_SHA256"
#define UPTLS_GROUPS	"X25519:P-256:P-384"

static uint64_t	 uptls_seq;

int
uptls_needed(const struct conf *cf)
{
	size_t	 i;

	for (i = 0; i < cf->nbackends; i++)
		if (cf->backends[i].tls)
			return (1);
	return (0);
}

/* "FILE:LINE:COL: upstream.tls.KEY: " into err, or "upstream.tls.KEY: "
 * when the key's place is unknown; returns the length written. */
static size_t
where(const struct conf *cf, const char *key, int line, int col, char *err,
    size_t errlen)
{
	int	 n;

	if (line > 0)
		n = snprintf(err, errlen, "%s:%d:%d: upstream.tls.%s: ",
		    cf->path, line, col, key);
	else
		n = snprintf(err, errlen, "upstream.tls.%s: ", key);
	if (n < 0)
		return (0);
	return ((size_t)n < errlen ? (size_t)n : errlen - 1);
}

/* Can path be read (a directory: dir_ok)?  0, or -1 with err filled. */
static int
check_file(const struct conf *cf, const char *key, const char *path,
    int line, int col, int dir_ok, int *isdir, char *err, size_t errlen)
{
	struct stat	 sb;
	const char	*why = NULL;
	size_t		 off;
	int		 fd;

	*isdir = 0;
	if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
		*isdir = 1;
		if (!dir_ok)
			why = "is a directory, not a PEM file";
		else if (access(path, R_OK | X_OK) == -1)
			why = strerror(errno);
	} else if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		why = strerror(errno);	/* also what stat() found */
	else
		close(fd);
	if (why == NULL)
		return (0);
	off = where(cf, key, line, col, err, errlen);
	snprintf(err + off, errlen - off, "'%s': %s", path, why);
	return (-1);
}

/* OpenSSL refused a file: say which, with its reasons. */
static void
load_failed(const struct conf *cf, const char *key, const char *path,
    int line, int col, const char *what, char *err, size_t errlen)
{
	size_t	 off;

	off = where(cf, key, line, col, err, errlen);
	off += (size_t)snprintf(err + off, errlen - off, "'%s': %s: ", path,
	    what);
	if (off < errlen) {
		err[off] = '\0';
		tls_errors(err + off, errlen - off);
	}
}

/* A backend sent a session (TLS 1.2 at the handshake's end, 1.3 in a
 * ticket after it): keep a copy for the next connection. */
static int
new_session_cb(SSL *ssl, SSL_SESSION *sess)
{
	struct uptls_peer	*p = SSL_get_app_data(ssl);
	SSL_SESSION		*copy;

	/* Only sessions of the context in force: a reload's new trust
	 * must not resume a session verified under the old. */
	if (p == NULL || p->cur == NULL ||
	    SSL_get_SSL_CTX(ssl) != p->cur->ctx ||
	    !SSL_SESSION_is_resumable(sess))
		return (0);
	if ((copy = SSL_SESSION_dup(sess)) == NULL)
		return (0);
	SSL_SESSION_free(p->sess);
	p->sess = copy;
	p->sess_id = p->cur->id;
	return (0);			/* OpenSSL keeps its own reference */
}

struct uptls *
uptls_new(const struct conf *cf, char *err, size_t errlen)
{
	const struct conf_upstream_tls *t = &cf->upstream.tls;
	struct uptls	*u;
	SSL_CTX		*ctx;
	int		 isdir, r;

	err[0] = '\0';
	if (t->ca == NULL) {
		snprintf(err, errlen, "upstream.tls.ca: https backends need "
		    "a CA to verify them against");
		return (NULL);
	}
	if (check_file(cf, "ca", t->ca, t->ca_line, t->ca_col, 1, &isdir,
	    err, errlen) == -1)
		return (NULL);
	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		snprintf(err, errlen, "upstream TLS context: ");
		tls_errors(err, errlen);
		return (NULL);
	}
	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) ||
	    !SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) ||
	    !SSL_CTX_set_cipher_list(ctx, UPTLS_CIPHERS) ||
	    !SSL_CTX_set_ciphersuites(ctx, UPTLS_SUITES) ||
	    !SSL_CTX_set1_groups_list(ctx, UPTLS_GROUPS)) {
		snprintf(err, errlen, "upstream TLS settings: ");
		tls_errors(err, errlen);
		goto fail;
	}
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_NO_COMPRESSION);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS |
	    SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	/* The chain and the name are checked during the handshake, which
	 * fails on any error: never a connection to an unverified peer. */
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	(void)SSL_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER);
	ERR_clear_error();
	r = isdir ? SSL_CTX_load_verify_locations(ctx, NULL, t->ca) :
	    SSL_CTX_load_verify_locations(ctx, t->ca, NULL);
	if (r != 1) {
		load_failed(cf, "ca", t->ca, t->ca_line, t->ca_col,
		    "cannot load CA certificates", err, errlen);
		goto fail;
	}
	if (t->certificate != NULL) {
		if (check_file(cf, "certificate", t->certificate,
		    t->cert_line, t->cert_col, 0, &isdir, err, errlen) == -1 ||
		    check_file(cf, "key", t->key, t->key_line, t->key_col, 0,
		    &isdir, err, errlen) == -1)
			goto fail;
		if (SSL_CTX_use_certificate_chain_file(ctx,
		    t->certificate) != 1) {
			load_failed(cf, "certificate", t->certificate,
			    t->cert_line, t->cert_col, "cannot load the "
			    "certificate", err, errlen);
			goto fail;
		}
		if (SSL_CTX_use_PrivateKey_file(ctx, t->key,
		    SSL_FILETYPE_PEM) != 1 ||
		    SSL_CTX_check_private_key(ctx) != 1) {
			load_failed(cf, "key", t->key, t->key_line,
			    t->key_col, "cannot load the key (or it does not "
			    "match the certificate)", err, errlen);
			goto fail;
		}
	}
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT |
	    SSL_SESS_CACHE_NO_INTERNAL_STORE);
	SSL_CTX_sess_set_new_cb(ctx, new_session_cb);

	u = xcalloc(1, sizeof(*u));
	u->refs = 1;
	u->ctx = ctx;
	u->id = __atomic_add_fetch(&uptls_seq, 1, __ATOMIC_ACQ_REL);
	return (u);
fail:
	SSL_CTX_free(ctx);
	return (NULL);
}

struct uptls *
uptls_get(struct uptls *t)
{
	if (t != NULL)
		__atomic_add_fetch(&t->refs, 1, __ATOMIC_ACQ_REL);
	return (t);
}

void
uptls_put(struct uptls *t)
{
	if (t == NULL || __atomic_sub_fetch(&t->refs, 1, __ATOMIC_ACQ_REL))
		return;
	SSL_CTX_free(t->ctx);
	free(t);
}

struct uptls_peer *
uptls_peer_new(const char *name)
{
	struct uptls_peer	*p = xcalloc(1, sizeof(*p));
	unsigned char		 a[16];

	snprintf(p->name, sizeof(p->name), "%s", name);
	p->ip = inet_pton(AF_INET, p->name, a) == 1 ||
	    inet_pton(AF_INET6, p->name, a) == 1;
	return (p);
}

void
uptls_peer_free(struct uptls_peer *p)
{
	if (p == NULL)
		return;
	SSL_SESSION_free(p->sess);
	uptls_put(p->cur);
	free(p);
}

void
uptls_peer_set(struct uptls_peer *p, struct uptls *t)
{
	if (p->cur == t)
		return;
	uptls_put(p->cur);
	p->cur = uptls_get(t);
}

SSL *
uptls_ssl_new(struct uptls_peer *p)
{
	SSL	*ssl;
	int	 ok;

	if (p->cur == NULL || (ssl = SSL_new(p->cur->ctx)) == NULL)
		return (NULL);
	SSL_set_app_data(ssl, p);
	if (p->ip)
		ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl),
		    p->name) == 1;
	else {
		SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
		ok = SSL_set1_host(ssl, p->name) == 1 &&
		    SSL_set_tlsext_host_name(ssl, p->name) == 1;
	}
	if (ok && p->sess != NULL && p->sess_id == p->cur->id)
		ok = SSL_set_session(ssl, p->sess) == 1;
	if (!ok) {
		SSL_free(ssl);
		return (NULL);
	}
	return (ssl);
}

int
uptls_failure(SSL *ssl, char *buf, size_t len)
{
	long	 v;

	buf[0] = '\0';
	if (ssl == NULL)
		return (0);
	v = SSL_get_verify_result(ssl);
	if (v != X509_V_OK) {
		snprintf(buf, len, "certificate verify failed: %s",
		    X509_verify_cert_error_string(v));
		ERR_clear_error();
		return (1);
	}
	if (ERR_peek_error() == 0)
		return (0);
	tls_errors(buf, len);
	return (2);
}
