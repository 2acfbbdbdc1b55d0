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

/* The fields of a line; each format lists them in its own order. */
enum access_field {
	LF_TIME, LF_PEER, LF_PORT, LF_METHOD, LF_TARGET, LF_PROTO, LF_STATUS,
	LF_IN, LF_OUT, LF_TOTAL, LF_UPSTREAM, LF_TLS, LF_CIPHER, LF_DN,
	LF_LOGIN, LF_AUTH, LF_ROUTE, LF_BACKEND, LF_ERROR, LF_TOKEN_ISS,
	LF_TOKEN_SUB, LF_NONE
};

/* A literal, then a field (LF_NONE: the literal alone). */
struct access_piece {
	const char	*lit;
	uint8_t		 len;
	uint8_t		 field;
};

#define AP(s, f)	{ (s), LIT_LEN(s), (f) }

/*
 * The two formats, one table each: [0] the text (CMSWEB Apache) line,
 * [1] the JSON object.  The main part, then the error and the token
 * parts when there are any, then the end of the line.
 */
static const struct access_piece af_main[2][19] = {
	{ AP("[", LF_TIME), AP("] ", LF_PEER), AP(":", LF_PORT),
	  AP(" \"", LF_METHOD), AP(" ", LF_TARGET), AP(" ", LF_PROTO),
	  AP("\" ", LF_STATUS), AP(" [data: ", LF_IN), AP(" in ", LF_OUT),
	  AP(" out ", LF_TOTAL), AP(" us upstream ", LF_UPSTREAM),
	  AP(" us] [auth: ", LF_TLS), AP(" ", LF_CIPHER), AP(" \"", LF_DN),
	  AP("\" \"", LF_LOGIN), AP("\" ", LF_AUTH),
	  AP("] [route: ", LF_ROUTE), AP(" backend: ", LF_BACKEND),
	  AP("]", LF_NONE) },
	{ AP("{\"time\":\"", LF_TIME), AP("\",\"client\":\"", LF_PEER),
	  AP("\",\"client_port\":", LF_PORT), AP(",\"method\":\"", LF_METHOD),
	  AP("\",\"uri\":\"", LF_TARGET), AP("\",\"proto\":\"", LF_PROTO),
	  AP("\",\"status\":", LF_STATUS), AP(",\"bytes_in\":", LF_IN),
	  AP(",\"bytes_out\":", LF_OUT), AP(",\"tls\":\"", LF_TLS),
	  AP("\",\"cipher\":\"", LF_CIPHER), AP("\",\"dn\":\"", LF_DN),
	  AP("\",\"login\":\"", LF_LOGIN), AP("\",\"auth\":\"", LF_AUTH),
	  AP("\",\"route\":\"", LF_ROUTE), AP("\",\"backend\":\"", LF_BACKEND),
	  AP("\",\"time_us\":", LF_TOTAL), AP(",\"upstream_us\":", LF_UPSTREAM),
	  AP("", LF_NONE) },
};
static const struct access_piece af_error[2][2] = {
	{ AP(" [error: ", LF_ERROR), AP("]", LF_NONE) },
	{ AP(",\"error\":\"", LF_ERROR), AP("\"", LF_NONE) },
};
/* A token's issuer and subject, never the token. */
static const struct access_piece af_token[2][3] = {
	{ AP(" [token: \"", LF_TOKEN_ISS), AP("\" \"", LF_TOKEN_SUB),
	  AP("\"]", LF_NONE) },
	{ AP(",\"token_iss\":\"", LF_TOKEN_ISS),
	  AP("\",\"token_sub\":\"", LF_TOKEN_SUB), AP("\"", LF_NONE) },
};
static const struct access_piece af_end[2] = {
	AP("\n", LF_NONE), AP("}\n", LF_NONE)
};

/* What one line is made of, worked out once per line. */
struct access_line {
	const struct access_client *cl;
	const struct xchg	*x;
	const char		*route, *backend, *method, *proto, *dn, *how;
	const char		*t;
	size_t			 tlen;
	long long		 total, upstream;
	int			 json;
};

/* Append n pieces: each literal, then its field's value. */
static void
put_pieces(struct out *o, const struct access_line *l,
    const struct access_piece *pc, size_t n)
{
	const struct xchg	*x = l->x;
	size_t			 i;

	for (i = 0; i < n; i++) {
		put(o, pc[i].lit, pc[i].len);
		switch (pc[i].field) {
		case LF_TIME:
			put(o, l->t, l->tlen);
			break;
		case LF_PEER:
			put_str(o, l->cl->peer);
			break;
		case LF_PORT:
			put_i64(o, l->cl->peerport);
			break;
		case LF_METHOD:
			put_str(o, l->method);
			break;
		case LF_TARGET:
			put_esc(o, x->target[0] ? x->target : "-",
			    ACCESS_TARGET, l->json);
			break;
		case LF_PROTO:
			put_str(o, l->proto);
			break;
		case LF_STATUS:
			put_i64(o, x->status);
			break;
		case LF_IN:
			put_u64(o, x->bytes_in);
			break;
		case LF_OUT:
			put_u64(o, x->bytes_out);
			break;
		case LF_TOTAL:
			put_i64(o, l->total);
			break;
		case LF_UPSTREAM:
			put_i64(o, l->upstream);
			break;
		case LF_TLS:
			put_str(o, tls_version(l->cl->ssl));
			break;
		case LF_CIPHER:
			put_str(o, tls_cipher(l->cl->ssl));
			break;
		case LF_DN:
			put_esc(o, l->dn, ACCESS_DN, l->json);
			break;
		case LF_LOGIN:
			put_esc(o, x->have_ad && x->ad.login ? x->ad.login :
			    "-", ACCESS_LOGIN, l->json);
			break;
		case LF_AUTH:
			put_str(o, l->how);
			break;
		case LF_ROUTE:
			put_str(o, l->route);
			break;
		case LF_BACKEND:
			put_str(o, l->backend);
			break;
		case LF_ERROR:
			put_esc(o, x->error, ACCESS_ERROR, l->json);
			break;
		case LF_TOKEN_ISS:
			put_esc(o, x->ad.token_iss, ACCESS_TOKEN, l->json);
			break;
		case LF_TOKEN_SUB:
			put_esc(o, x->ad.token_sub, ACCESS_TOKEN, l->json);
			break;
		default:
			break;
		}
	}
}

/* See access.h. */
size_t
access_format(const struct access_client *cl, const struct xchg *x,
    uint64_t end, time_t now, char *p, size_t room)
{
	const struct conf	*cf = cl->conf;
	struct out		 o = { p, 0, room, room > 0 };
	struct access_line	 l;
	int			 j;

	j = l.json = (cf->log.access_format == CONF_LOG_JSON);
	l.cl = cl;
	l.x = x;
	l.route = x->route ? x->route->path : "-";
	l.backend = x->pool ? x->pool->name : "-";
	l.method = x->method[0] ? x->method : "-";
	l.proto = cl->h2 ? "HTTP/2.0" :
	    x->req.version_minor == 0 ? "HTTP/1.0" : "HTTP/1.1";
	l.total = (long long)(end - x->t_start);
	l.upstream = x->t_up ? (long long)(end - x->t_up) : -1;
	l.dn = x->have_ad && x->ad.dn ? x->ad.dn :
	    (cl->ident && cl->ident->user_dn ? cl->ident->user_dn : "-");
	l.how = !x->have_ad ? "-" : x->ad.result == AUTH_OK ?
	    (x->ad.method != NULL ? x->ad.method : cf->auth.authn_method) :
	    x->ad.result == AUTH_ANON ? "none" :
	    x->ad.result == AUTH_PASS ? "pass" : "denied";
	l.t = time_field(now, j, &l.tlen);
	put_pieces(&o, &l, af_main[j], nitems(af_main[j]));
	if (x->error)
		put_pieces(&o, &l, af_error[j], nitems(af_error[j]));
	if (x->have_ad && x->ad.token_iss != NULL && x->ad.token_sub != NULL)
		put_pieces(&o, &l, af_token[j], nitems(af_token[j]));
	put_pieces(&o, &l, &af_end[j], 1);
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
