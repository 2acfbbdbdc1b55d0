/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * Access-log formatting.  The text format follows the CMSWEB Apache one:
 *
 *   [27/Nov/2026:02:28:23 +0000] 10.0.0.1:53422 "GET /dbs/x?y HTTP/1.1"
 *   200 [data: 312 in 1536 out 1834 us upstream 1701 us] [auth: TLSv1.3
 *   TLS_AES_128_GCM_SHA256 "/DC=ch/.../CN=John Doe" "jdoe" X509Cert]
 *   [route: /dbs/ backend: http://127.0.0.1:8250]
 *
 * (one line).  The JSON format carries the same fields with stable names,
 * for Elastic/OpenSearch pipelines.  Lines are built in the worker's own
 * buffer and handed to log.c's writer thread in blocks of up to 32 KiB.
 * The client session passes what only it knows (struct access_client),
 * so this file includes xchg.h but no session or worker header.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/auth.h"
#include "base/lit.h"
#include "conf/conf.h"
#include "proxy/access.h"
#include "proxy/log.h"
#include "proxy/tls.h"
#include "proxy/upstream.h"
#include "proxy/util.h"
#include "proxy/xchg.h"

#define ACCESS_BUF	65536
#define ACCESS_FLUSH	32768

/* Copy s into dst for a quoted text field: quotes, backslashes and
 * control bytes are escaped so one request is always one line. */
static size_t
esc(char *dst, size_t n, const char *s, int json)
{
	static const char hex[] = "0123456789abcdef";
	size_t	 o = 0;

	for (; s != NULL && *s != '\0' && o + 7 < n; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\') {
			dst[o++] = '\\';
			dst[o++] = (char)ch;
		} else if (ch < 0x20 || ch == 0x7f) {
			if (json) {
				memcpy(dst + o, "\\u00", LIT_LEN("\\u00"));
				o += LIT_LEN("\\u00");
			} else {
				dst[o++] = '\\';
				dst[o++] = 'x';
			}
			dst[o++] = hex[ch >> 4];
			dst[o++] = hex[ch & 15];
		} else
			dst[o++] = (char)ch;
	}
	dst[o] = '\0';
	return (o);
}

void
access_flush(struct access_worker *w)
{
	if (w->loglen > 0) {
		log_access_write(w->logbuf, w->loglen);
		w->loglen = 0;
	}
}

/* See access.h. */
void
access_worker_free(struct access_worker *w)
{
	free(w->logbuf);
	w->logbuf = NULL;
	w->loglen = 0;
}

/* See access.h. */
size_t
access_format(const struct access_client *cl, const struct xchg *x,
    uint64_t end, time_t now, char *p, size_t room)
{
	const struct conf *cf = cl->conf;
	char		 tbuf[64], dn[600], login[160], target[1100], errs[300];
	struct tm	 tm;
	long long	 total, upstream;
	const char	*route = x->route ? x->route->path : "-";
	const char	*backend = x->pool ? x->pool->name : "-";
	const char	*method = "-";
	const char	*proto = cl->h2 ? "HTTP/2.0" :
	    x->req.version_minor == 0 ? "HTTP/1.0" : "HTTP/1.1";
	int		 n, json = (cf->log.access_format == CONF_LOG_JSON);

	total = (long long)(end - x->t_start);
	upstream = x->t_up ? (long long)(end - x->t_up) : -1;
	esc(dn, sizeof(dn), x->have_ad && x->ad.dn ? x->ad.dn :
	    (cl->ident && cl->ident->user_dn ? cl->ident->user_dn : "-"), json);
	esc(login, sizeof(login), x->have_ad && x->ad.login ? x->ad.login :
	    "-", json);
	esc(target, sizeof(target), x->target[0] ? x->target : "-", json);
	if (x->method[0])
		method = x->method;
	esc(errs, sizeof(errs), x->error, json);
	if (json) {
		gmtime_r(&now, &tm);
		strftime(tbuf, sizeof(tbuf), "%Y-%m-%dT%H:%M:%SZ", &tm);
		n = snprintf(p, room, "{\"time\":\"%s\",\"client\":\"%s\","
		    "\"client_port\":%d,\"method\":\"%s\",\"uri\":\"%s\","
		    "\"proto\":\"%s\",\"status\":%d,\"bytes_in\":%llu,"
		    "\"bytes_out\":%llu,\"tls\":\"%s\",\"cipher\":\"%s\","
		    "\"dn\":\"%s\",\"login\":\"%s\",\"auth\":\"%s\","
		    "\"route\":\"%s\",\"backend\":\"%s\",\"time_us\":%lld,"
		    "\"upstream_us\":%lld%s%s%s}\n", tbuf, cl->peer,
		    cl->peerport, method, target, proto,
		    x->status, (unsigned long long)x->bytes_in,
		    (unsigned long long)x->bytes_out, tls_version(cl->ssl),
		    tls_cipher(cl->ssl), dn, login, !x->have_ad ? "-" :
		    x->ad.result == AUTH_OK ? (x->ad.method != NULL ?
		    x->ad.method : cf->auth.authn_method) :
		    x->ad.result == AUTH_ANON ? "none" :
		    x->ad.result == AUTH_PASS ? "pass" : "denied", route,
		    backend, total, upstream, x->error ? ",\"error\":\"" : "",
		    errs, x->error ? "\"" : "");
	} else {
		localtime_r(&now, &tm);
		strftime(tbuf, sizeof(tbuf), "%d/%b/%Y:%H:%M:%S %z", &tm);
		n = snprintf(p, room, "[%s] %s:%d \"%s %s %s\" %d "
		    "[data: %llu in %llu out %lld us upstream %lld us] "
		    "[auth: %s %s \"%s\" \"%s\" %s] [route: %s backend: %s]"
		    "%s%s%s\n", tbuf, cl->peer, cl->peerport, method, target,
		    proto, x->status,
		    (unsigned long long)x->bytes_in,
		    (unsigned long long)x->bytes_out, total, upstream,
		    tls_version(cl->ssl), tls_cipher(cl->ssl), dn, login,
		    !x->have_ad ? "-" :
		    x->ad.result == AUTH_OK ? (x->ad.method != NULL ?
		    x->ad.method : cf->auth.authn_method) :
		    x->ad.result == AUTH_ANON ? "none" :
		    x->ad.result == AUTH_PASS ? "pass" : "denied", route,
		    backend, x->error ? " [error: " : "", errs,
		    x->error ? "]" : "");
	}
	if (n < 0 || (size_t)n >= room)
		return (0);
	if (x->have_ad && x->ad.token_iss != NULL && x->ad.token_sub != NULL) {
		/* A token's issuer and subject, never the token: the line
		 * (or object) is reopened to add them. */
		char	 ti[300], ts[300];
		int	 m;

		esc(ti, sizeof(ti), x->ad.token_iss, json);
		esc(ts, sizeof(ts), x->ad.token_sub, json);
		n--;	/* the newline; for JSON also the closing brace */
		if (json)
			n--;
		m = snprintf(p + n, room - (size_t)n, json ?
		    ",\"token_iss\":\"%s\",\"token_sub\":\"%s\"}\n" :
		    " [token: \"%s\" \"%s\"]\n", ti, ts);
		if (m < 0 || (size_t)m >= room - (size_t)n)
			return (0);
		n += m;
	}
	return ((size_t)n);
}

/* See access.h. */
void
access_log(struct access_worker *w, const struct access_client *cl,
    struct xchg *x)
{
	if (!log_access_enabled())
		return;
	if (w->logbuf == NULL)
		w->logbuf = xmalloc(ACCESS_BUF);
	if (w->loglen > ACCESS_BUF - 4096)
		access_flush(w);
	w->loglen += access_format(cl, x, clock_now_us(), time(NULL),
	    w->logbuf + w->loglen, ACCESS_BUF - w->loglen);
	if (w->loglen >= ACCESS_FLUSH)
		access_flush(w);
}
