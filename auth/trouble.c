/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * The trouble page of auth (auth_trouble_render() in auth.h, through
 * trouble_render()): what gridfront made of a connection's certificate
 * chain, VOMS attributes and CRIC account, with one sentence on what is
 * wrong and what the user can do, as HTML for a browser or as JSON.  It
 * applies the same CRIC and ban checks as decide.c, so the page and the
 * requests agree, and it changes nothing.  It never logs.
 */

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "auth/auth.h"
#include "auth/auth_int.h"
#include "auth/ban.h"
#include "auth/dnmap.h"
#include "auth/proxycert.h"
#include "auth/x509.h"

/* ------------------------------------------------------------------ */
/* The trouble page                                                    */
/* ------------------------------------------------------------------ */

static void
auth_iso_time(time_t t, char *buf, size_t len)
{
	struct tm	 tm;

	if (t == 0 || gmtime_r(&t, &tm) == NULL)
		snprintf(buf, len, "unknown");
	else
		strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* A growable string for the HTML page. */
struct auth_buf {
	char		*p;
	size_t		 len, cap;
	int		 oom;
};

static void
auth_buf_add(struct auth_buf *b, const char *s, size_t n)
{
	char		*np;
	size_t		 ncap;

	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		ncap = b->cap ? b->cap : 2048;
		while (ncap < b->len + n + 1)
			ncap *= 2;
		if ((np = realloc(b->p, ncap)) == NULL) {
			b->oom = 1;
			return;
		}
		b->p = np;
		b->cap = ncap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
auth_buf_str(struct auth_buf *b, const char *s)
{
	auth_buf_add(b, s, strlen(s));
}

/* Append s HTML-escaped (text and attribute safe). */
static void
auth_buf_esc(struct auth_buf *b, const char *s)
{
	const char	*e;

	for (; s != NULL && *s != '\0'; s++) {
		switch (*s) {
		case '&':
			e = "&amp;";
			break;
		case '<':
			e = "&lt;";
			break;
		case '>':
			e = "&gt;";
			break;
		case '"':
			e = "&quot;";
			break;
		case '\'':
			e = "&#39;";
			break;
		default:
			auth_buf_add(b, s, 1);
			continue;
		}
		auth_buf_str(b, e);
	}
}

static void
auth_buf_row(struct auth_buf *b, const char *name, const char *value)
{
	auth_buf_str(b, "<tr><th>");
	auth_buf_esc(b, name);
	auth_buf_str(b, "</th><td>");
	auth_buf_esc(b, value);
	auth_buf_str(b, "</td></tr>\n");
}

/* Everything the page shows, gathered once for both renderings. */
struct auth_view {
	const struct auth_ident *id;
	const char	*presented;
	const char	*result;
	const struct dnmap_user *usr;
	int		 banned;
	int		 have_users;
	/* A presented bearer token (never its signature). */
	int		 tok;
	const char	*tok_result;
	json_t		*tok_header;
	json_t		*tok_claims;
};

static json_t *
auth_trouble_json(const struct auth_view *v)
{
	const struct auth_ident *id = v->id;
	json_t		*o, *a, *c, *roles;
	char		 t1[32], t2[32];
	size_t		 i;

	o = json_object();
	json_object_set_new(o, "certificate_presented",
	    json_boolean(id->status != AUTH_CERT_NONE));
	json_object_set_new(o, "verification", json_string(v->result));
	json_object_set_new(o, "detail", id->detail != NULL ?
	    json_string(id->detail) : json_null());
	a = json_array();
	for (i = 0; i < id->nchain; i++) {
		auth_iso_time(id->chain[i].not_before, t1, sizeof(t1));
		auth_iso_time(id->chain[i].not_after, t2, sizeof(t2));
		c = json_pack("{s:s?, s:s?, s:s, s:s, s:s}",
		    "subject", id->chain[i].subject,
		    "issuer", id->chain[i].issuer,
		    "not_before", t1, "not_after", t2,
		    "proxy", proxycert_name(id->chain[i].proxy));
		json_array_append_new(a, c);
	}
	json_object_set_new(o, "chain", a);
	json_object_set_new(o, "user_dn", id->user_dn != NULL ?
	    json_string(id->user_dn) : json_null());
	json_object_set_new(o, "proxy", json_string(proxycert_name(
	    id->proxy)));
	a = json_array();
	for (i = 0; i < id->nfqans; i++)
		json_array_append_new(a, json_string(id->fqans[i]));
	json_object_set_new(o, "fqans", a);
	json_object_set_new(o, "voms_error", id->voms_error != NULL ?
	    json_string(id->voms_error) : json_null());
	if (v->usr != NULL) {
		roles = json_object();
		for (i = 0; i < v->usr->nroles; i++)
			json_object_set_new(roles, v->usr->roles[i].name,
			    json_string(v->usr->roles[i].value));
		c = json_pack("{s:b, s:s, s:s, s:s, s:I, s:o}",
		    "registered", 1, "dn", v->usr->dn,
		    "login", v->usr->login, "name", v->usr->name,
		    "id", (json_int_t)v->usr->id, "roles", roles);
	} else
		c = json_pack("{s:b, s:s}", "registered", 0, "status",
		    id->user_dn == NULL ? "no user identity" :
		    v->have_users ? "not registered" :
		    "no CRIC users file loaded");
	json_object_set_new(o, "cric", c);
	json_object_set_new(o, "banned", json_boolean(v->banned));
	json_object_set_new(o, "trust_generation",
	    json_integer((json_int_t)id->trust_gen));
	if (v->tok) {
		c = json_object();
		json_object_set_new(c, "result", json_string(v->tok_result));
		json_object_set(c, "header", v->tok_header != NULL ?
		    v->tok_header : json_null());
		json_object_set(c, "claims", v->tok_claims != NULL ?
		    v->tok_claims : json_null());
		json_object_set_new(o, "token", c);
	}
	return (o);
}

/*
 * What is wrong, in one sentence, and what the user can do about it: the
 * first thing a physicist whose request was refused reads.  summary is
 * static text; todo gets up to 3 static lines (NULL-terminated).
 */
static const char *
auth_trouble_advice(const struct auth_view *v, const char *todo[4])
{
	const struct auth_ident *id = v->id;
	const char	*r = id->reason;
	const char	*sum;
	size_t		 n = 0;

	if (id->status == AUTH_CERT_NONE) {
		sum = "Your browser did not present a certificate.";
		todo[n++] = "Import your grid certificate (the .p12 file from "
		    "your certificate authority) into the browser, reload, and "
		    "choose it when the browser asks.";
	} else if (id->status != AUTH_CERT_OK) {
		if (r == x509_err_expired || r == x509_err_proxy_expired) {
			sum = "Your certificate has expired.";
			todo[n++] = "Renew your certificate with your "
			    "certificate authority (or make a new proxy), "
			    "import it and reload.";
		} else if (r == x509_err_notyet) {
			sum = "Your certificate is not valid yet.";
			todo[n++] = "Check your computer's clock, or wait "
			    "until the start date shown below.";
		} else if (r == x509_err_revoked) {
			sum = "Your certificate has been revoked by its "
			    "certificate authority.";
			todo[n++] = "Request a new certificate from your "
			    "certificate authority, register its DN in CRIC "
			    "and import it.";
		} else if (r == x509_err_unknown_ca) {
			sum = "Your certificate was issued by a certificate "
			    "authority this service does not trust.";
			todo[n++] = "Use a certificate from an IGTF-accredited "
			    "certificate authority.";
		} else if (r == x509_err_crl) {
			sum = "Your certificate authority's revocation list "
			    "is missing or out of date on this service.";
			todo[n++] = "This is not your fault: tell the service "
			    "administrators; your certificate may be fine.";
		} else {
			sum = "Your certificate chain was refused.";
			todo[n++] = "Use your personal grid certificate, or an "
			    "RFC 3820 proxy made from it.";
		}
	} else if (v->banned) {
		sum = "Your account is blocked on this service.";
		todo[n++] = "Contact the service administrators.";
	} else if (v->usr == NULL) {
		sum = v->have_users ? "Your certificate is valid, but its DN "
		    "is not registered in CRIC for a CMS account." :
		    "Your certificate is valid, but this service has no CRIC "
		    "account list loaded.";
		todo[n++] = v->have_users ? "Register the User DN shown above "
		    "in CRIC and link it to your CMS account; the change "
		    "reaches this service within about an hour." :
		    "This is not your fault: tell the service administrators.";
	} else
		sum = "Your certificate is valid and registered in CRIC.";
	if (id->voms_error != NULL)
		todo[n++] = "Your VOMS attributes were ignored (see below): "
		    "make a new proxy with voms-proxy-init.";
	todo[n++] = "If a page refused you for a missing VOMS role, ask your "
	    "VO administrator for that role and use a proxy that carries it "
	    "(voms-proxy-init -voms cms:/cms/Role=NAME).";
	todo[n] = NULL;
	return (sum);
}

/* The token section: the check's result, header and claims as indented
 * JSON, HTML-escaped.  The signature is never kept, so never shown. */
static void
trouble_token_html(struct auth_buf *b, const struct auth_view *v)
{
	char		*t;

	auth_buf_str(b, "<h2>Bearer token</h2>\n<table id=\"token\">\n");
	auth_buf_row(b, "Result", v->tok_result);
	auth_buf_str(b, "</table>\n<h3>Header</h3>\n<pre id=\"token-header\">");
	t = v->tok_header != NULL ? json_dumps(v->tok_header,
	    JSON_INDENT(1) | JSON_PRESERVE_ORDER) : NULL;
	auth_buf_esc(b, t != NULL ? t : "(not readable)");
	free(t);
	auth_buf_str(b, "</pre>\n<h3>Claims</h3>\n<pre id=\"token-claims\">");
	t = v->tok_claims != NULL ? json_dumps(v->tok_claims,
	    JSON_INDENT(1) | JSON_PRESERVE_ORDER) : NULL;
	auth_buf_esc(b, t != NULL ? t : "(not readable)");
	free(t);
	auth_buf_str(b, "</pre>\n");
}

static void
auth_trouble_html(struct auth_buf *b, const struct auth_view *v)
{
	const struct auth_ident *id = v->id;
	const char	*todo[4], *sum;
	char		 t1[32], t2[32];
	size_t		 i;

	sum = auth_trouble_advice(v, todo);
	auth_buf_str(b, "<!DOCTYPE html>\n<html lang=\"en\"><head>"
	    "<meta charset=\"utf-8\">"
	    "<title>gridfront: certificate troubleshooting</title></head>\n"
	    "<body>\n<h1>Your certificate, as gridfront sees it</h1>\n"
	    "<p id=\"summary\"><strong>");
	auth_buf_esc(b, sum);
	auth_buf_str(b, "</strong></p>\n<table>\n");
	auth_buf_row(b, "Certificate presented", v->presented);
	auth_buf_row(b, "Verification", v->result);
	if (id->detail != NULL)
		auth_buf_row(b, "Details", id->detail);
	auth_buf_row(b, "User DN", id->user_dn != NULL ? id->user_dn :
	    "(none)");
	auth_buf_row(b, "Proxy type", proxycert_name(id->proxy));
	auth_buf_str(b, "</table>\n<h2>Certificate chain</h2>\n");
	if (id->nchain == 0)
		auth_buf_str(b, id->status == AUTH_CERT_NONE ?
		    "<p>No certificate was presented.</p>\n" :
		    "<p>The chain of a refused certificate is not kept; "
		    "open this page on a new connection to see it.</p>\n");
	else {
		auth_buf_str(b, "<table>\n<tr><th>#</th><th>Subject</th>"
		    "<th>Issuer</th><th>Valid from</th><th>Valid until</th>"
		    "<th>Proxy</th></tr>\n");
		for (i = 0; i < id->nchain; i++) {
			snprintf(t1, sizeof(t1), "%zu", i);
			auth_buf_str(b, "<tr><td>");
			auth_buf_esc(b, t1);
			auth_buf_str(b, "</td><td>");
			auth_buf_esc(b, id->chain[i].subject);
			auth_buf_str(b, "</td><td>");
			auth_buf_esc(b, id->chain[i].issuer);
			auth_iso_time(id->chain[i].not_before, t1, sizeof(t1));
			auth_iso_time(id->chain[i].not_after, t2, sizeof(t2));
			auth_buf_str(b, "</td><td>");
			auth_buf_esc(b, t1);
			auth_buf_str(b, "</td><td>");
			auth_buf_esc(b, t2);
			auth_buf_str(b, "</td><td>");
			auth_buf_esc(b, proxycert_name(id->chain[i].proxy));
			auth_buf_str(b, "</td></tr>\n");
		}
		auth_buf_str(b, "</table>\n");
	}
	auth_buf_str(b, "<h2>VOMS attributes</h2>\n<ul>\n");
	for (i = 0; i < id->nfqans; i++) {
		auth_buf_str(b, "<li>");
		auth_buf_esc(b, id->fqans[i]);
		auth_buf_str(b, "</li>\n");
	}
	if (id->nfqans == 0)
		auth_buf_str(b, "<li>(none)</li>\n");
	auth_buf_str(b, "</ul>\n");
	if (id->voms_error != NULL) {
		auth_buf_str(b, "<p>VOMS attributes ignored: ");
		auth_buf_esc(b, id->voms_error);
		auth_buf_str(b, "</p>\n");
	}
	auth_buf_str(b, "<h2>CMS account (CRIC)</h2>\n<table>\n");
	if (v->usr != NULL) {
		auth_buf_row(b, "Login", v->usr->login);
		auth_buf_row(b, "Name", v->usr->name);
		auth_buf_row(b, "CRIC DN", v->usr->dn);
		for (i = 0; i < v->usr->nroles; i++)
			auth_buf_row(b, v->usr->roles[i].name,
			    v->usr->roles[i].value);
	} else
		auth_buf_row(b, "Status", id->user_dn == NULL ?
		    "no user identity" : v->have_users ? "not registered" :
		    "no CRIC users file loaded");
	auth_buf_row(b, "Banned", v->banned ? "yes" : "no");
	auth_buf_str(b, "</table>\n");
	if (v->tok)
		trouble_token_html(b, v);
	auth_buf_str(b, "<h2>What to do</h2>\n<ul id=\"todo\">\n");
	for (i = 0; todo[i] != NULL; i++) {
		auth_buf_str(b, "<li>");
		auth_buf_esc(b, todo[i]);
		auth_buf_str(b, "</li>\n");
	}
	auth_buf_str(b, "</ul>\n</body></html>\n");
}

char *
trouble_render(struct auth_ctx *ctx, const struct auth_ident *id,
    int json, size_t *len)
{
	return (trouble_render_token(ctx, id, NULL, 0, json, len));
}

char *
trouble_render_token(struct auth_ctx *ctx, const struct auth_ident *id,
    const char *tok, size_t toklen, int json, size_t *len)
{
	struct auth_view v;
	struct auth_snap *u, *bn;
	struct auth_buf	 b;
	json_t		*o;
	char		*s = NULL;

	if (id == NULL)
		id = x509_ident_none();
	memset(&v, 0, sizeof(v));
	v.id = id;
	v.presented = id->status == AUTH_CERT_NONE ? "no" : "yes";
	v.result = id->status == AUTH_CERT_NONE ? "no certificate" :
	    id->status == AUTH_CERT_OK ? "OK" :
	    id->reason != NULL ? id->reason : x509_err_chain;
	pthread_mutex_lock(&ctx->lock);
	u = auth_snap_get(ctx->umap);
	bn = auth_snap_get(ctx->ban);
	pthread_mutex_unlock(&ctx->lock);
	v.have_users = u != NULL;
	if (tok != NULL) {
		v.tok = 1;
		v.tok_result = auth_token_inspect(ctx, tok, toklen,
		    &v.tok_header, &v.tok_claims);
	}
	if (id->user_dn != NULL && u != NULL)
		v.usr = decide_cric_lookup(ctx, u->map, id->user_dn);
	/* The same three checks as a request: certificate DN, login and
	 * the CRIC DN, so the page never says "no" while requests get 403. */
	if (id->user_dn != NULL && bn != NULL)
		v.banned = ban_match(bn->ban, id->user_dn,
		    v.usr != NULL ? v.usr->login : NULL) ||
		    (v.usr != NULL && ban_match(bn->ban, v.usr->dn, NULL));

	if (json) {
		if ((o = auth_trouble_json(&v)) != NULL) {
			s = json_dumps(o, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
			json_decref(o);
		}
		if (s != NULL && len != NULL)
			*len = strlen(s);
	} else {
		memset(&b, 0, sizeof(b));
		auth_trouble_html(&b, &v);
		if (b.oom)
			free(b.p);
		else {
			s = b.p;
			if (len != NULL)
				*len = b.len;
		}
	}
	auth_snap_put(u);
	auth_snap_put(bn);
	json_decref(v.tok_header);
	json_decref(v.tok_claims);
	return (s);
}
