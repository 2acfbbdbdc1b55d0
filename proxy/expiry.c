/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * Expiry gauges (see expiry.h).  The commonest outage of a grid frontend is
 * a CRL or a host certificate that quietly runs out: gridfront then refuses
 * every user of that CA, by design.  This file turns the dates an operator
 * must watch into a plain table (collected by the main thread, never on a
 * connection path) and renders it for /metrics.  It re-reads the CA
 * directory itself rather than asking auth/: one walk per trust reload,
 * with the same file-name rules as auth/x509.c, and no coupling to the
 * trust snapshot's internals.  A CRL counts for a CA only when its issuer
 * is the CA's subject and its signature verifies with the CA's key.
 */

#include <sys/stat.h>

#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "conf/conf.h"
#include "proxy/expiry.h"
#include "proxy/util.h"

#define EXP_NAME_LEN	64

/* One CA subject (certificates with the same subject are one CA: the
 * latest notAfter counts, as after a CA key roll-over). */
struct exp_ca {
	char		 hash[9];		/* subject hash, %08lx */
	char		 name[EXP_NAME_LEN];	/* CN, else the last RDN */
	time_t		 not_after;
	int		 has_crl;		/* a CRL this CA signed */
	int		 crl_no_next;		/* ... without nextUpdate */
	time_t		 crl_last, crl_next;	/* of its latest CRL */
};

struct exp_host {
	char		*listener;		/* address as configured */
	time_t		 not_after;
};

static pthread_mutex_t	 exp_mtx = PTHREAD_MUTEX_INITIALIZER;
static struct exp_ca	*exp_cas;
static size_t		 exp_ncas;
static int		 exp_trust;		/* CA series are exported */
static struct exp_host	*exp_hosts;
static size_t		 exp_nhosts;
static time_t		 exp_users_mtime, exp_ban_mtime;	/* 0: none */

static time_t
exp_time(const ASN1_TIME *t)
{
	struct tm	 tm;

	if (t == NULL || !ASN1_TIME_to_tm(t, &tm))
		return (0);
	return (timegm(&tm));
}

/* "<8 hex>.N" (certificate) or "<8 hex>.rN" (CRL); 0 for anything else. */
static int
exp_hashed(const char *n, int *is_crl)
{
	size_t	 i;

	for (i = 0; i < 8; i++)
		if (!((n[i] >= '0' && n[i] <= '9') ||
		    (n[i] >= 'a' && n[i] <= 'f')))
			return (0);
	if (n[8] != '.')
		return (0);
	n += 9;
	*is_crl = (*n == 'r');
	if (*is_crl)
		n++;
	if (*n == '\0')
		return (0);
	for (; *n != '\0'; n++)
		if (*n < '0' || *n > '9')
			return (0);
	return (1);
}

/* The CN of n, else its last entry, else "": plain text, 63 bytes. */
static void
exp_short_name(const X509_NAME *n, char *buf, size_t len)
{
	const X509_NAME_ENTRY *e;
	unsigned char	*s = NULL;
	int		 i, k;

	buf[0] = '\0';
	i = X509_NAME_get_index_by_NID(n, NID_commonName, -1);
	for (k = i; k >= 0;
	    k = X509_NAME_get_index_by_NID(n, NID_commonName, k))
		i = k;				/* the last CN */
	if (i < 0)
		i = X509_NAME_entry_count(n) - 1;
	if (i < 0 || (e = X509_NAME_get_entry(n, i)) == NULL)
		return;
	if (ASN1_STRING_to_UTF8(&s, X509_NAME_ENTRY_get_data(e)) < 0)
		return;
	snprintf(buf, len, "%s", (const char *)s);
	OPENSSL_free(s);
}

static time_t
exp_cert_file_not_after(const char *path)
{
	BIO	*b;
	X509	*x;
	time_t	 t = 0;

	if (path == NULL || (b = BIO_new_file(path, "r")) == NULL) {
		ERR_clear_error();
		return (0);
	}
	if ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
		t = exp_time(X509_get0_notAfter(x));
		X509_free(x);
	}
	BIO_free(b);
	ERR_clear_error();
	return (t);
}

static int
exp_ca_cmp(const void *a, const void *b)
{
	const struct exp_ca *x = a, *y = b;
	int		 c;

	if ((c = strcmp(x->hash, y->hash)) != 0)
		return (c);
	return (strcmp(x->name, y->name));
}

/* The work list of one CA-directory walk. */
struct exp_walk {
	STACK_OF(X509)	*certs;
	STACK_OF(X509_CRL) *crls;
};

static void
exp_read_file(struct exp_walk *w, const char *path, int is_crl)
{
	BIO		*b;
	X509		*x;
	X509_CRL	*c;
	int		 n = 0;

	if ((b = BIO_new_file(path, "r")) == NULL)
		return;
	if (!is_crl) {
		while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL)
			if (!sk_X509_push(w->certs, x))
				X509_free(x);
	} else {
		for (;;) {
			c = PEM_read_bio_X509_CRL(b, NULL, NULL, NULL);
			if (c == NULL && n == 0 && BIO_reset(b) == 0)
				c = d2i_X509_CRL_bio(b, NULL);	/* DER */
			if (c == NULL)
				break;
			n++;
			if (!sk_X509_CRL_push(w->crls, c))
				X509_CRL_free(c);
			if (BIO_eof(b))
				break;
		}
	}
	BIO_free(b);
	ERR_clear_error();
}

/* Index in cas of the CA with the subject of certs[k], adding it if new
 * (rep[] holds the certificate index that stands for each CA). */
static size_t
exp_ca_slot(struct exp_ca *cas, size_t *n, const STACK_OF(X509) *certs,
    int *rep, int k)
{
	X509	*x = sk_X509_value(certs, k);
	size_t	 i;

	for (i = 0; i < *n; i++)
		if (X509_NAME_cmp(X509_get_subject_name(
		    sk_X509_value(certs, rep[i])),
		    X509_get_subject_name(x)) == 0)
			return (i);
	memset(&cas[i], 0, sizeof(cas[i]));
	snprintf(cas[i].hash, sizeof(cas[i].hash), "%08lx",
	    X509_subject_name_hash(x));
	exp_short_name(X509_get_subject_name(x), cas[i].name,
	    sizeof(cas[i].name));
	rep[i] = k;
	(*n)++;
	return (i);
}

/* Walk ca_path; returns a new table (*n entries) or NULL if empty. */
static struct exp_ca *
exp_walk_trust(const char *ca_path, size_t *n)
{
	struct exp_walk	 w;
	struct exp_ca	*cas = NULL;
	int		*rep = NULL;
	DIR		*d;
	struct dirent	*de;
	char		 path[4096];
	int		 is_crl, i, k, ncerts;
	size_t		 slot, *of = NULL;
	time_t		 next;

	*n = 0;
	if (ca_path == NULL || (d = opendir(ca_path)) == NULL)
		return (NULL);
	w.certs = sk_X509_new_null();
	w.crls = sk_X509_CRL_new_null();
	while (w.certs != NULL && w.crls != NULL && (de = readdir(d)) != NULL) {
		if (!exp_hashed(de->d_name, &is_crl))
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", ca_path,
		    de->d_name) >= (int)sizeof(path))
			continue;
		exp_read_file(&w, path, is_crl);
	}
	closedir(d);
	ncerts = w.certs != NULL ? sk_X509_num(w.certs) : 0;
	if (ncerts > 0) {
		cas = xcalloc((size_t)ncerts, sizeof(*cas));
		rep = xcalloc((size_t)ncerts, sizeof(*rep));
		of = xcalloc((size_t)ncerts, sizeof(*of));
	}
	for (i = 0; i < ncerts; i++) {
		X509 *x = sk_X509_value(w.certs, i);
		time_t na = exp_time(X509_get0_notAfter(x));

		slot = exp_ca_slot(cas, n, w.certs, rep, i);
		of[i] = slot;
		if (na > cas[slot].not_after)
			cas[slot].not_after = na;
	}
	for (k = 0; w.crls != NULL && k < sk_X509_CRL_num(w.crls); k++) {
		X509_CRL *c = sk_X509_CRL_value(w.crls, k);

		for (i = 0; i < ncerts; i++) {
			X509 *x = sk_X509_value(w.certs, i);
			struct exp_ca *ca = &cas[of[i]];
			EVP_PKEY *pk = X509_get0_pubkey(x);

			if (X509_NAME_cmp(X509_CRL_get_issuer(c),
			    X509_get_subject_name(x)) != 0 || pk == NULL ||
			    X509_CRL_verify(c, pk) != 1)
				continue;
			next = exp_time(X509_CRL_get0_nextUpdate(c));
			/* The CRL that stays valid longest stands. */
			if (!ca->has_crl || (!ca->crl_no_next &&
			    (next == 0 || next > ca->crl_next))) {
				ca->has_crl = 1;
				ca->crl_no_next = (next == 0);
				ca->crl_next = next;
				ca->crl_last = exp_time(
				    X509_CRL_get0_lastUpdate(c));
			}
			break;
		}
	}
	ERR_clear_error();
	sk_X509_pop_free(w.certs, X509_free);
	sk_X509_CRL_pop_free(w.crls, X509_CRL_free);
	free(rep);
	free(of);
	if (*n > 1)
		qsort(cas, *n, sizeof(*cas), exp_ca_cmp);
	return (cas);
}

static time_t
exp_mtime(const char *path)
{
	struct stat	 sb;

	if (path == NULL || stat(path, &sb) == -1)
		return (0);
	return (sb.st_mtime);
}

void
expiry_update(const struct conf *cf, int auth, int what)
{
	struct exp_ca	*cas = NULL, *oldcas = NULL;
	struct exp_host	*hosts = NULL, *oldhosts = NULL;
	size_t		 ncas = 0, nhosts = 0, noldhosts = 0, i;
	time_t		 um, bm;

	if (what & EXPIRY_TRUST && auth)
		cas = exp_walk_trust(cf->auth.ca_path, &ncas);
	if (what & EXPIRY_HOSTS && cf->nlisteners > 0) {
		hosts = xcalloc(cf->nlisteners, sizeof(*hosts));
		for (i = 0; i < cf->nlisteners; i++) {
			const struct conf_listener *l = &cf->listeners[i];
			time_t t;

			if (!l->tls ||
			    (t = exp_cert_file_not_after(l->certificate)) == 0)
				continue;
			hosts[nhosts].listener = xstrdup(l->address);
			hosts[nhosts++].not_after = t;
		}
	}
	um = auth ? exp_mtime(cf->auth.users) : 0;
	bm = auth ? exp_mtime(cf->auth.banned) : 0;

	pthread_mutex_lock(&exp_mtx);
	if (what & EXPIRY_TRUST) {
		oldcas = exp_cas;
		exp_cas = cas;
		exp_ncas = ncas;
		exp_trust = auth;
	}
	if (what & EXPIRY_HOSTS) {
		oldhosts = exp_hosts;
		noldhosts = exp_nhosts;
		exp_hosts = hosts;
		exp_nhosts = nhosts;
	}
	exp_users_mtime = um;
	exp_ban_mtime = bm;
	pthread_mutex_unlock(&exp_mtx);

	free(oldcas);
	for (i = 0; i < noldhosts; i++)
		free(oldhosts[i].listener);
	free(oldhosts);
}

/* Label value: backslash, quote and newline escaped (text format). */
static void
exp_label(struct evbuffer *out, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\' || *s == '"')
			evbuffer_add_printf(out, "\\%c", *s);
		else if (*s == '\n')
			evbuffer_add(out, "\\n", 2);
		else
			evbuffer_add(out, s, 1);
	}
}

static void
exp_head(struct evbuffer *out, const char *name, const char *help)
{
	evbuffer_add_printf(out, "# HELP %s %s\n# TYPE %s gauge\n", name,
	    help, name);
}

static void
exp_ca_series(struct evbuffer *out, const char *name, const struct exp_ca *c)
{
	evbuffer_add_printf(out, "%s{hash=\"%s\",name=\"", name, c->hash);
	exp_label(out, c->name);
	evbuffer_add(out, "\"} ", 3);
}

static int
exp_crl_valid(const struct exp_ca *c, time_t now)
{
	return (c->has_crl && c->crl_last <= now &&
	    (c->crl_no_next || now < c->crl_next));
}

void
expiry_render(struct evbuffer *out, time_t now)
{
	size_t	 i, bad = 0;

	pthread_mutex_lock(&exp_mtx);
	exp_head(out, "gridfront_host_certificate_expiry_seconds",
	    "Seconds until the host certificate of a TLS listener expires "
	    "(negative once expired).");
	for (i = 0; i < exp_nhosts; i++) {
		evbuffer_add_printf(out, "%s{listener=\"",
		    "gridfront_host_certificate_expiry_seconds");
		exp_label(out, exp_hosts[i].listener);
		evbuffer_add_printf(out, "\"} %lld\n",
		    (long long)(exp_hosts[i].not_after - now));
	}
	if (exp_trust) {
		exp_head(out, "gridfront_ca_certificate_expiry_seconds",
		    "Seconds until a trusted CA certificate expires, by "
		    "subject hash and short name.");
		for (i = 0; i < exp_ncas; i++) {
			exp_ca_series(out,
			    "gridfront_ca_certificate_expiry_seconds",
			    &exp_cas[i]);
			evbuffer_add_printf(out, "%lld\n",
			    (long long)(exp_cas[i].not_after - now));
		}
		exp_head(out, "gridfront_crl_next_update_seconds",
		    "Seconds until the nextUpdate of a CA's CRL (negative once "
		    "expired); CAs without a CRL have no series.");
		for (i = 0; i < exp_ncas; i++) {
			if (!exp_cas[i].has_crl)
				continue;
			exp_ca_series(out, "gridfront_crl_next_update_seconds",
			    &exp_cas[i]);
			if (exp_cas[i].crl_no_next)
				evbuffer_add_printf(out, "+Inf\n");
			else
				evbuffer_add_printf(out, "%lld\n", (long long)
				    (exp_cas[i].crl_next - now));
		}
		exp_head(out, "gridfront_crl_valid",
		    "1 when the CA has a CRL valid now, else 0 (its users are "
		    "refused).");
		for (i = 0; i < exp_ncas; i++) {
			int ok = exp_crl_valid(&exp_cas[i], now);

			exp_ca_series(out, "gridfront_crl_valid", &exp_cas[i]);
			evbuffer_add_printf(out, "%d\n", ok);
			bad += !ok;
		}
		exp_head(out, "gridfront_cas_without_valid_crl",
		    "Trusted CAs with no valid CRL now.");
		evbuffer_add_printf(out,
		    "gridfront_cas_without_valid_crl %zu\n", bad);
	}
	if (exp_users_mtime != 0 || exp_ban_mtime != 0)
		exp_head(out, "gridfront_file_age_seconds",
		    "Seconds since a watched file was last modified, by file.");
	if (exp_users_mtime != 0)
		evbuffer_add_printf(out, "gridfront_file_age_seconds"
		    "{file=\"cric_users\"} %lld\n",
		    (long long)(now - exp_users_mtime));
	if (exp_ban_mtime != 0)
		evbuffer_add_printf(out, "gridfront_file_age_seconds"
		    "{file=\"ban_list\"} %lld\n",
		    (long long)(now - exp_ban_mtime));
	pthread_mutex_unlock(&exp_mtx);
}

void
expiry_free(void)
{
	size_t	 i;

	pthread_mutex_lock(&exp_mtx);
	free(exp_cas);
	exp_cas = NULL;
	exp_ncas = 0;
	for (i = 0; i < exp_nhosts; i++)
		free(exp_hosts[i].listener);
	free(exp_hosts);
	exp_hosts = NULL;
	exp_nhosts = 0;
	pthread_mutex_unlock(&exp_mtx);
}
