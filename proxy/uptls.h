/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * TLS to backends, the client side: one SSL_CTX per configuration
 * generation (upstream.tls: the CA backends must chain to, an optional
 * client certificate), and per pool a peer: the name the backend's
 * certificate must carry (also sent as SNI unless it is an address), and
 * the last session the backend gave us, to resume the next handshake.
 * Verification is never optional: an https backend is verified against
 * upstream.tls.ca or not used.  The TLS I/O itself is cio's (client mode,
 * cio_tls_client()).  Floor: beside upstream.c, which owns the peers;
 * gen.c owns the contexts.
 */

#ifndef PROXY_UPTLS_H
#define PROXY_UPTLS_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

struct conf;

/* A generation's client context; refcounted (atomic). */
struct uptls {
	int		 refs;
	uint64_t	 id;		/* unique over the process's life */
	SSL_CTX		*ctx;
};

/* One pool's TLS state (worker-local: no locking). */
struct uptls_peer {
	struct uptls	*cur;		/* newest context; one reference */
	SSL_SESSION	*sess;		/* last session; NULL: none */
	uint64_t	 sess_id;	/* ->id of the context it came from */
	int		 ip;		/* name is an address literal */
	char		 name[256];	/* verified name (and SNI) */
};

/* 1 when some backend of cf is https://. */
int	 uptls_needed(const struct conf *cf);

/*
 * Build the client context of cf's upstream.tls: the CA file or hashed
 * directory, and the client certificate and key when given.  Returns it
 * with one reference, or NULL with "FILE:LINE:COL: upstream.tls.KEY:
 * reason" (or a plain reason) in err.
 */
struct uptls	*uptls_new(const struct conf *cf, char *err, size_t errlen);

/* References (thread-safe).  uptls_put(NULL) is a no-op; the last put
 * frees the SSL_CTX. */
struct uptls	*uptls_get(struct uptls *t);
void		 uptls_put(struct uptls *t);

/* A peer verified as name (copied).  Never returns NULL. */
struct uptls_peer *uptls_peer_new(const char *name);

/* Free p, its session and its context reference.  NULL is a no-op. */
void		 uptls_peer_free(struct uptls_peer *p);

/* Make t (NULL allowed) the context p's new connections use; takes a
 * reference of its own. */
void		 uptls_peer_set(struct uptls_peer *p, struct uptls *t);

/*
 * A new client SSL for p's backend: peer verification on, the name
 * checked (host name or address), SNI for names, the last session offered
 * when it came from the same context.  The caller owns it (cio_init takes
 * it over).  NULL when p has no context or OpenSSL fails.  p must outlive
 * the SSL (sessions the backend sends later are stored in p).
 */
SSL		*uptls_ssl_new(struct uptls_peer *p);

/*
 * Why the handshake on ssl failed: 1 and the verification error in buf
 * when the backend's certificate was refused, 2 and OpenSSL's errors (the
 * queue is emptied) for another TLS failure, 0 when nothing TLS-related
 * is known (a plain socket error).
 */
int		 uptls_failure(SSL *ssl, char *buf, size_t len);

#endif /* PROXY_UPTLS_H */
