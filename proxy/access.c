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
/* Escaped fields are cut below these many bytes. */
#define ACCESS_TARGET	1100
#define ACCESS_DN	600
#define ACCESS_LOGIN	160
#define ACCESS_ERROR	300
#define ACCESS_TOKEN	300

/*
 * The line is appended piece by piece to a cursor over the buffer: no
 * format strings to interpret per request, and each escaped field goes
 * straight into the line.  Once a piece does not fit, ok drops to 0 and
 * the rest is skipped; the line is then not counted.
 */
struct out {
	char	*p;
	size_t	 n, room;
	int	 ok;
};

static void
put(struct out *o, const char *s, size_t len)
{
	/* Like snprintf's: the line must leave room for a NUL. */
	if (!o->ok || len >= o->room - o->n) {
		o->ok = 0;
		return;
	}
	memcpy(o->p + o->n, s, len);
	o->n += len;
}

#define PUT_LIT(o, s)	put((o), (s), LIT_LEN(s))

static void
put_str(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

static void
put_u64(struct out *o, uint64_t v)
{
	char	 b[24];
	size_t	 i = sizeof(b);

	do {
		b[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	put(o, b + i, sizeof(b) - i);
}

static void
put_i64(struct out *o, long long v)
{
	if (v < 0) {
		PUT_LIT(o, "-");
		put_u64(o, (uint64_t)(-(v + 1)) + 1);
	} else
		put_u64(o, (uint64_t)v);
}

/*
 * Append s as the inside of a quoted field: quotes, backslashes and
 * control bytes escaped (\xNN, or \u00NN in JSON) so one request is
 * always one line.  The field takes fewer than limit bytes: a byte is
 * added only while what the field holds plus 7 is below limit.
 */
static void
put_esc(struct out *o, const char *s, size_t limit, int json)
{
	static const char hex[] = "0123456789abcdef";
	char		 e[6];
	size_t		 w = 0, run;
	unsigned char	 ch;

	if (s == NULL)
		return;
	while (*s != '\0' && w + 7 < limit) {
		/* A run of bytes that need no escape goes in at once. */
		for (run = 0; w + run + 7 < limit; run++) {
			ch = (unsigned char)s[run];
			if (ch < 0x20 || ch == 0x7f || ch == '"' ||
			    ch == '\\')
				break;
		}
		if (run > 0) {
			put(o, s, run);
			s += run;
			w += run;
			continue;
		}
		ch = (unsigned char)*s++;
		if (ch == '\0')
			break;
		if (ch == '"' || ch == '\\') {
			e[0] = '\\';
			e[1] = (char)ch;
			put(o, e, 2);
			w += 2;
		} else if (json) {
			e[0] = '\\';
			e[1] = 'u';
			e[2] = '0';
			e[3] = '0';
			e[4] = hex[ch >> 4];
			e[5] = hex[ch & 15];
			put(o, e, 6);
			w += 6;
		} else {
			e[0] = '\\';
			e[1] = 'x';
			e[2] = hex[ch >> 4];
			e[3] = hex[ch & 15];
			put(o, e, 4);
			w += 4;
		}
	}
}

/* The time field of now, formatted once a second per thread. */
static const char *
time_field(time_t now, int json, size_t *len)
{
	static __thread time_t	 t_sec[2] = { -1, -1 };
	static __thread char	 t_buf[2][64];
	static __thread size_t	 t_len[2];
	struct tm		 tm;

	if (t_sec[json] != now) {
		if (json) {
			gmtime_r(&now, &tm);
			t_len[1] = strftime(t_buf[1], sizeof(t_buf[1]),
			    "%Y-%m-%dT%H:%M:%SZ", &tm);
		} else {
			localtime_r(&now, &tm);
			t_len[0] = strftime(t_buf[0], sizeof(t_buf[0]),
			    "%d/%b/%Y:%H:%M:%S %z", &tm);
		}
		t_sec[json] = now;
	}
	*len = t_len[json];
	return (t_buf[json]);
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
	struct out	 o = { p, 0, room, room > 0 };
	const char	*route = x->route ? x->route->path : "-";
	const char	*backend = x->pool ? x->pool->name : "-";
	const char	*method = x->method[0] ? x->method : "-";
	const char	*proto = cl->h2 ? "HTTP/2.0" :
	    x->req.version_minor == 0 ? "HTTP/1.0" : "HTTP/1.1";
	const char	*dn, *how, *t;
	long long	 total, upstream;
	size_t		 tlen;
	int		 json = (cf->log.access_format == CONF_LOG_JSON);
	int		 token = x->have_ad && x->ad.token_iss != NULL &&
	    x->ad.token_sub != NULL;

	total = (long long)(end - x->t_start);
	upstream = x->t_up ? (long long)(end - x->t_up) : -1;
	dn = x->have_ad && x->ad.dn ? x->ad.dn :
	    (cl->ident && cl->ident->user_dn ? cl->ident->user_dn : "-");
	how = !x->have_ad ? "-" : x->ad.result == AUTH_OK ?
	    (x->ad.method != NULL ? x->ad.method : cf->auth.authn_method) :
	    x->ad.result == AUTH_ANON ? "none" :
	    x->ad.result == AUTH_PASS ? "pass" : "denied";
	t = time_field(now, json, &tlen);
	if (json) {
		PUT_LIT(&o, "{\"time\":\"");
		put(&o, t, tlen);
		PUT_LIT(&o, "\",\"client\":\"");
		put_str(&o, cl->peer);
		PUT_LIT(&o, "\",\"client_port\":");
		put_i64(&o, cl->peerport);
		PUT_LIT(&o, ",\"method\":\"");
		put_str(&o, method);
		PUT_LIT(&o, "\",\"uri\":\"");
	} else {
		PUT_LIT(&o, "[");
		put(&o, t, tlen);
		PUT_LIT(&o, "] ");
		put_str(&o, cl->peer);
		PUT_LIT(&o, ":");
		put_i64(&o, cl->peerport);
		PUT_LIT(&o, " \"");
		put_str(&o, method);
		PUT_LIT(&o, " ");
	}
	put_esc(&o, x->target[0] ? x->target : "-", ACCESS_TARGET, json);
	if (json) {
		PUT_LIT(&o, "\",\"proto\":\"");
		put_str(&o, proto);
		PUT_LIT(&o, "\",\"status\":");
		put_i64(&o, x->status);
		PUT_LIT(&o, ",\"bytes_in\":");
		put_u64(&o, x->bytes_in);
		PUT_LIT(&o, ",\"bytes_out\":");
		put_u64(&o, x->bytes_out);
		PUT_LIT(&o, ",\"tls\":\"");
		put_str(&o, tls_version(cl->ssl));
		PUT_LIT(&o, "\",\"cipher\":\"");
		put_str(&o, tls_cipher(cl->ssl));
		PUT_LIT(&o, "\",\"dn\":\"");
		put_esc(&o, dn, ACCESS_DN, json);
		PUT_LIT(&o, "\",\"login\":\"");
		put_esc(&o, x->have_ad && x->ad.login ? x->ad.login : "-",
		    ACCESS_LOGIN, json);
		PUT_LIT(&o, "\",\"auth\":\"");
		put_str(&o, how);
		PUT_LIT(&o, "\",\"route\":\"");
		put_str(&o, route);
		PUT_LIT(&o, "\",\"backend\":\"");
		put_str(&o, backend);
		PUT_LIT(&o, "\",\"time_us\":");
		put_i64(&o, total);
		PUT_LIT(&o, ",\"upstream_us\":");
		put_i64(&o, upstream);
		if (x->error) {
			PUT_LIT(&o, ",\"error\":\"");
			put_esc(&o, x->error, ACCESS_ERROR, json);
			PUT_LIT(&o, "\"");
		}
		if (token) {
			/* A token's issuer and subject, never the token. */
			PUT_LIT(&o, ",\"token_iss\":\"");
			put_esc(&o, x->ad.token_iss, ACCESS_TOKEN, json);
			PUT_LIT(&o, "\",\"token_sub\":\"");
			put_esc(&o, x->ad.token_sub, ACCESS_TOKEN, json);
			PUT_LIT(&o, "\"");
		}
		PUT_LIT(&o, "}\n");
	} else {
		PUT_LIT(&o, " ");
		put_str(&o, proto);
		PUT_LIT(&o, "\" ");
		put_i64(&o, x->status);
		PUT_LIT(&o, " [data: ");
		put_u64(&o, x->bytes_in);
		PUT_LIT(&o, " in ");
		put_u64(&o, x->bytes_out);
		PUT_LIT(&o, " out ");
		put_i64(&o, total);
		PUT_LIT(&o, " us upstream ");
		put_i64(&o, upstream);
		PUT_LIT(&o, " us] [auth: ");
		put_str(&o, tls_version(cl->ssl));
		PUT_LIT(&o, " ");
		put_str(&o, tls_cipher(cl->ssl));
		PUT_LIT(&o, " \"");
		put_esc(&o, dn, ACCESS_DN, json);
		PUT_LIT(&o, "\" \"");
		put_esc(&o, x->have_ad && x->ad.login ? x->ad.login : "-",
		    ACCESS_LOGIN, json);
		PUT_LIT(&o, "\" ");
		put_str(&o, how);
		PUT_LIT(&o, "] [route: ");
		put_str(&o, route);
		PUT_LIT(&o, " backend: ");
		put_str(&o, backend);
		PUT_LIT(&o, "]");
		if (x->error) {
			PUT_LIT(&o, " [error: ");
			put_esc(&o, x->error, ACCESS_ERROR, json);
			PUT_LIT(&o, "]");
		}
		if (token) {
			PUT_LIT(&o, " [token: \"");
			put_esc(&o, x->ad.token_iss, ACCESS_TOKEN, json);
			PUT_LIT(&o, "\" \"");
			put_esc(&o, x->ad.token_sub, ACCESS_TOKEN, json);
			PUT_LIT(&o, "\"]");
		}
		PUT_LIT(&o, "\n");
	}
	return (o.ok ? o.n : 0);
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
