/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * The --import-aps migration tool: reads the Go auth-proxy-server's JSON
 * configuration and writes the equivalent gridfront YAML to a stream.
 * The semantics are those of APS's PathMatched(): rules are tried in order
 * and the first match wins; a rule path containing any of ". * ^ $" is a
 * Go regular expression matched anywhere in the request path, any other a
 * character-wise string prefix; a rule path ending in "/" also matches the
 * path without that slash; "strict" allows at most one more path segment
 * after the rule.  Every rule becomes a gridfront regex route written to
 * match exactly that.  old_path/new_path (Go: replace the first occurrence)
 * becomes an unanchored rewrite, which route_rewrite() applies to the first
 * match in the same way.  A service URL is an http:// or https:// backend;
 * an https one also brings upstream.tls.ca and a TODO (APS checked such
 * backends against the system CA store; gridfront needs a CA named).
 * What cannot be translated exactly is written as
 * a "# TODO" comment next to the rule.  The top-level keys are mapped
 * where gridfront has a meaning for them (hmac, cric_file, rootCAs,
 * metrics_port, iam_url/providers, verbose...); every other key gets a
 * "# TODO" naming it, so the closing TODO count is every item a person
 * must look at.  A config translator, so it lives
 * in conf/, but it shares no code with the loader: it writes YAML text that
 * conf_load() reads like any other file.  Depends on jansson and libc only;
 * called only from proxy/main.c (--import-aps).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/lit.h"
#include "conf/aps.h"

/* Characters that are special in POSIX extended regular expressions. */
static const char ere_special[] = ".[]()*+?{}|^$\\";

static void
yaml_quoted(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', out);
		fputc(*s, out);
	}
	fputc('"', out);
}

/* Text inside a "#" comment: a control byte (a newline would end the
 * comment and start YAML) is written as '?'. */
static void
comment_text(FILE *out, const char *s)
{
	for (; *s != '\0'; s++)
		fputc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, out);
}

/* Write the first n bytes of s with every ERE metacharacter escaped. */
static void
ere_escape_n(FILE *out, const char *s, size_t n)
{
	for (; n > 0 && *s != '\0'; s++, n--) {
		if (strchr(ere_special, *s) != NULL)
			fputc('\\', out);
		fputc(*s, out);
	}
}

static void
ere_escape(FILE *out, const char *s)
{
	ere_escape_n(out, s, strlen(s));
}

static int
is_aps_regex(const char *p)
{
	return (strpbrk(p, ".*^$") != NULL);
}

/* Go RE2 features POSIX ERE lacks; such a rule needs a human look. */
static const char *
re2_only(const char *re)
{
	static const char *const feats[] = { "\\d", "\\w", "\\s", "\\D",
	    "\\W", "\\S", "(?", "\\b", "\\pL", "*?", "+?", "??" };
	size_t	 i;

	for (i = 0; i < sizeof(feats) / sizeof(feats[0]); i++)
		if (strstr(re, feats[i]) != NULL)
			return (feats[i]);
	return (NULL);
}

/* One backend URL from service_url, normalised to http://host:port or
 * https://host:port (the scheme's default port when none is written);
 * *tls is set when it is https.  Returns -1 for anything else. */
static int
emit_backend(FILE *out, const char *url, size_t len, int first, int *tls)
{
	char		 buf[512];
	char		*hostport, *slash;
	const char	*scheme, *port, *q;

	if (len == 0 || len >= sizeof(buf))
		return (-1);
	memcpy(buf, url, len);
	buf[len] = '\0';
	while (len > 0 && (buf[len - 1] == ' '))
		buf[--len] = '\0';
	hostport = buf;
	while (*hostport == ' ')
		hostport++;
	if (strncmp(hostport, "http://", LIT_LEN("http://")) == 0) {
		scheme = "http";
		port = ":80";
		hostport += LIT_LEN("http://");
	} else if (strncmp(hostport, "https://", LIT_LEN("https://")) == 0) {
		scheme = "https";
		port = ":443";
		hostport += LIT_LEN("https://");
		*tls = 1;
	} else
		return (-1);
	if ((slash = strchr(hostport, '/')) != NULL) {
		if (slash[1] != '\0')
			return (-1);	/* a path on the backend URL */
		*slash = '\0';
	}
	/* A port is written after the host, or after "]" of an IPv6 one. */
	if (hostport[0] == '[' ? strstr(hostport, "]:") != NULL :
	    strchr(hostport, ':') != NULL)
		port = "";
	/* "[" would start a YAML flow sequence: quote an IPv6 URL. */
	q = hostport[0] == '[' ? "\"" : "";
	fprintf(out, "%s%s%s://%s%s%s", first ? "" : ", ", q, scheme,
	    hostport, port, q);
	return (0);
}

/* Is the host of an http(s):// URL an IP literal (no name to send)? */
static int
url_host_is_ip(const char *url)
{
	const char	*h = url, *e;
	size_t		 i;

	while (*h == ' ')
		h++;
	if (strncmp(h, "http://", LIT_LEN("http://")) == 0)
		h += LIT_LEN("http://");
	else if (strncmp(h, "https://", LIT_LEN("https://")) == 0)
		h += LIT_LEN("https://");
	if (*h == '[')
		return (1);
	e = h + strcspn(h, ":/,");
	for (i = 0; h + i < e; i++)
		if (!(h[i] == '.' || (h[i] >= '0' && h[i] <= '9')))
			return (0);
	return (e > h);
}

/* The top-level keys the importer knows, and what it does with each. */
enum aps_key_kind {
	APS_MAPPED = 0,		/* written as a gridfront key */
	APS_TODO,		/* no counterpart: a TODO naming it */
	APS_QUIET		/* nothing to do when it is empty/false/0 */
};

static const struct {
	const char	*key;
	const char	*why;		/* for TODO lines */
} aps_unmapped[] = {
	{ "client_id", "OAuth client settings (browser login flow); "
	  "gridfront has no OAuth login" },
	{ "client_secret", "OAuth client settings; gridfront has no OAuth "
	  "login" },
	{ "iam_client_id", "IAM OAuth client settings; gridfront has no "
	  "OAuth login" },
	{ "iam_client_secret", "IAM OAuth client settings; gridfront has no "
	  "OAuth login" },
	{ "oauth_url", "the OAuth login provider; gridfront verifies bearer "
	  "tokens (auth.tokens) but runs no login flow" },
	{ "redirect_url", "the OAuth redirect; gridfront has no OAuth login" },
	{ "static", "static files; gridfront serves none (put them behind a "
	  "backend route)" },
	{ "document_root", "a document root; gridfront serves no files" },
	{ "scitokens", "APS issues SciTokens; gridfront issues no tokens" },
	{ "well_known", "the SciTokens .well-known area; gridfront issues no "
	  "tokens" },
	{ "cric_url", "gridfront reads auth.users from a file; fetch CRIC "
	  "into it with a periodic job (it is reloaded when it changes)" },
	{ "update_cric", "the CRIC fetch interval: schedule the job that "
	  "writes auth.users instead" },
	{ "test_log_channel", "no counterpart; see log.access_format" },
	{ "monit_type", "MONIT log shipping; use log.access_format: json and "
	  "a log shipper" },
	{ "monit_producer", "MONIT log shipping; use log.access_format: json "
	  "and a log shipper" },
	{ "base", "a base path prefix; write it into each route's path" },
	{ "insecureSkipVerify", "a TLS option of APS's own listener, not of "
	  "its backend connections; gridfront checks client certificates per "
	  "route auth and always verifies backend certificates" },
};

/* Keys aps_import() maps, or that need nothing when empty. */
static const char *const aps_known[] = { "ingress", "port", "server_cert",
	"server_key", "hmac", "cric_file", "rootCAs", "metrics_port",
	"iam_url", "providers", "verbose", "cms_headers", NULL };

static int
aps_is_empty(const json_t *v)
{
	return (v == NULL || json_is_null(v) || json_is_false(v) ||
	    (json_is_string(v) && *json_string_value(v) == '\0') ||
	    (json_is_integer(v) && json_integer_value(v) == 0) ||
	    (json_is_array(v) && json_array_size(v) == 0) ||
	    (json_is_object(v) && json_object_size(v) == 0));
}

/* Visible ASCII only, no quote or backslash: safe in YAML and comments. */
static int
url_chars_ok(const char *u)
{
	for (; *u != '\0'; u++)
		if (*u <= 0x20 || *u >= 0x7f || *u == '"' || *u == '\\')
			return (0);
	return (1);
}

/* One token issuer from iam_url or providers[i] (what names it). */
static void
aps_issuer(FILE *out, FILE *todo, const char *what, const json_t *v,
    size_t *nissuers, size_t *ntodo)
{
	const char	*u = json_string_value(v), *p;
	char		 slug[128];
	size_t		 n = 0;

	if (u == NULL || strncmp(u, "https://", LIT_LEN("https://")) != 0 ||
	    u[LIT_LEN("https://")] == '\0' || !url_chars_ok(u)) {
		fprintf(todo, "# TODO: %s: ", what);
		if (u != NULL)
			comment_text(todo, u);
		else
			fputs("(not a string)", todo);
		fputs(" is not an https:// issuer URL; not mapped to "
		    "auth.tokens.issuers\n", todo);
		(*ntodo)++;
		return;
	}
	/* A file name for its key set, from the URL's host and path. */
	for (p = u + LIT_LEN("https://"); *p != '\0' && n < sizeof(slug) - 1;
	    p++) {
		int	 keep = (*p >= 'a' && *p <= 'z') || (*p >= 'A' &&
		    *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '.' ||
		    *p == '-';

		slug[n] = '_';
		if (keep)
			slug[n] = *p;
		n++;
	}
	while (n > 0 && slug[n - 1] == '_')
		n--;
	slug[n] = '\0';
	if (*nissuers == 0)
		fputs("  tokens:\n    issuers:\n", out);
	(*nissuers)++;
	fprintf(out, "      # from %s\n      - issuer: ", what);
	yaml_quoted(out, u);
	fprintf(out, "\n        jwks: /etc/gridfront/jwks/%s.json\n"
	    "        audiences: [\"https://wlcg.cern.ch/jwt/v1/any\"]\n",
	    slug);
	fprintf(todo, "# TODO: %s: issuer ", what);
	comment_text(todo, u);
	fprintf(todo, ": run dist/gridfront-jwks to write "
	    "/etc/gridfront/jwks/%s.json; APS checks no audience (written: "
	    "any) and finds the user by preferred_username (gridfront's "
	    "default): check both\n", slug);
	(*ntodo)++;
}

/*
 * The top-level keys: listener, admin, log and auth sections on out, and
 * a TODO (in todo, written after them) for each key without a
 * counterpart.  Returns the number of token issuers written.
 */
static size_t
aps_top(json_t *root, const char *path, FILE *out, FILE *todo,
    size_t *ntodo)
{
	const char	*cert, *key, *k, *s;
	json_t		*v, *e;
	json_int_t	 port = 8443, mport;
	size_t		 i, j, nissuers = 0;
	int		 known;

	if (json_is_integer(json_object_get(root, "port")))
		port = json_integer_value(json_object_get(root, "port"));
	cert = json_string_value(json_object_get(root, "server_cert"));
	key = json_string_value(json_object_get(root, "server_key"));

	fprintf(out, "# Generated by gridfront --import-aps from %s.\n"
	    "# Review every TODO before use; check with gridfront -t -c.\n"
	    "workers: auto\nlisten:\n  - address: \"0.0.0.0:%lld\"\n"
	    "    tls: {certificate: ", path, (long long)port);
	yaml_quoted(out, cert ? cert : "/etc/grid-security/hostcert.pem");
	fprintf(out, ", key: ");
	yaml_quoted(out, key ? key : "/etc/grid-security/hostkey.pem");
	fputs("}\n", out);

	/* metrics_port: APS serves /metrics there; so does admin:. */
	v = json_object_get(root, "metrics_port");
	if (v != NULL && !json_is_null(v)) {
		mport = json_is_integer(v) ? json_integer_value(v) : 0;
		if (mport >= 1 && mport <= 65535)
			fprintf(out, "admin:\n  # from metrics_port (loopback "
			    "only: /metrics, /healthz, /readyz)\n"
			    "  address: \"127.0.0.1:%lld\"\n",
			    (long long)mport);
		else {
			fputs("# TODO: metrics_port is not a port number; "
			    "not mapped to admin.address\n", todo);
			(*ntodo)++;
		}
	}
	/* verbose: APS's debug switch (a number or a boolean). */
	v = json_object_get(root, "verbose");
	if (v != NULL && !aps_is_empty(v))
		fputs("log:\n  level: debug    # from verbose\n", out);

	fputs("auth:\n", out);
	v = json_object_get(root, "rootCAs");
	if (json_is_string(v) && *json_string_value(v) != '\0') {
		fputs("  ca_path: ", out);
		yaml_quoted(out, json_string_value(v));
		fputs("    # from rootCAs\n", out);
	} else {
		fputs("  ca_path: /etc/grid-security/certificates\n", out);
		if (v != NULL && !aps_is_empty(v)) {
			fputs("# TODO: rootCAs is a list of CA files; "
			    "auth.ca_path needs a hashed CA directory (with "
			    "CRLs): put them in one and run openssl rehash\n",
			    todo);
			(*ntodo)++;
		}
	}
	fputs("  vomsdir: /etc/grid-security/vomsdir\n", out);
	s = json_string_value(json_object_get(root, "cric_file"));
	if (s != NULL && *s != '\0') {
		fputs("  users: ", out);
		yaml_quoted(out, s);
		fputs("    # from cric_file\n", out);
	} else
		fputs("  users: /data/cric/users.json\n", out);
	s = json_string_value(json_object_get(root, "hmac"));
	if (s != NULL && *s != '\0') {
		fputs("  hmac_key: ", out);
		yaml_quoted(out, s);
		fputs("    # from hmac\n", out);
	} else
		fputs("  hmac_key: /etc/hmac/hmac\n", out);

	/* iam_url and providers: token issuers, each once. */
	v = json_object_get(root, "iam_url");
	if (v != NULL && !aps_is_empty(v))
		aps_issuer(out, todo, "iam_url", v, &nissuers, ntodo);
	v = json_object_get(root, "providers");
	if (json_is_array(v)) {
		json_array_foreach(v, i, e) {
			char	 what[32];

			if (json_is_string(e) && json_equal(e,
			    json_object_get(root, "iam_url")))
				continue;	/* already the IAM issuer */
			for (j = 0; j < i; j++)
				if (json_equal(e, json_array_get(v, j)))
					break;
			if (j < i)
				continue;
			snprintf(what, sizeof(what), "providers[%zu]", i);
			aps_issuer(out, todo, what, e, &nissuers, ntodo);
		}
	} else if (v != NULL && !aps_is_empty(v)) {
		fputs("# TODO: providers is not a list; not mapped to "
		    "auth.tokens.issuers\n", todo);
		(*ntodo)++;
	}
	v = json_object_get(root, "cms_headers");
	if (json_is_false(v)) {
		fputs("# TODO: cms_headers is false; gridfront always sends "
		    "the signed cms-* headers on auth routes (use auth: none "
		    "where none are wanted)\n", todo);
		(*ntodo)++;
	}

	/* Every other key: a TODO naming it, unless it is empty. */
	json_object_foreach(root, k, v) {
		known = 0;
		for (i = 0; aps_known[i] != NULL; i++)
			if (strcmp(k, aps_known[i]) == 0)
				known = 1;
		if (known)
			continue;
		if (aps_is_empty(v) && (strcmp(k, "base") == 0 ||
		    strcmp(k, "test_log_channel") == 0 ||
		    strcmp(k, "cric_url") == 0 ||
		    strcmp(k, "update_cric") == 0))
			continue;	/* off or unset: nothing was lost */
		fputs("# TODO: ", todo);
		comment_text(todo, k);
		fputs(": ", todo);
		for (i = 0; i < sizeof(aps_unmapped) / sizeof(aps_unmapped[0]);
		    i++)
			if (strcmp(k, aps_unmapped[i].key) == 0)
				break;
		if (i < sizeof(aps_unmapped) / sizeof(aps_unmapped[0]))
			fprintf(todo, "%s\n", aps_unmapped[i].why);
		else
			fputs("unknown APS key, not translated\n", todo);
		(*ntodo)++;
	}
	if (nissuers > 0) {
		fputs("# TODO: routes are written auth: cert; where APS took "
		    "tokens, use auth: cert_or_token (or token)\n", todo);
		(*ntodo)++;
	}
	return (nissuers);
}

/*
 * The upstream: block once a route has an https backend.  APS proxies
 * with Go's default transport (redirect.go reverseProxy: no
 * TLSClientConfig, also with keepAlive): backend certificates are checked
 * against the host's system roots, not rootCAs, and no client certificate
 * is presented.  gridfront has no "system roots" default and never skips
 * verification, so upstream.tls.ca is written from rootCAs (what
 * auth.ca_path got) or the grid CA directory, with a TODO to check it;
 * no certificate/key, as APS presents none.
 */
static void
aps_upstream_tls(json_t *root, const char *which, FILE *out, size_t *ntodo)
{
	const char	*ca;

	ca = json_string_value(json_object_get(root, "rootCAs"));
	fprintf(out, "upstream:\n  # for the https service URLs of %s\n"
	    "  tls:\n    ca: ", which);
	if (ca != NULL && *ca != '\0') {
		yaml_quoted(out, ca);
		fputs("    # from rootCAs\n", out);
	} else
		fputs("/etc/grid-security/certificates\n", out);
	fputs("  # TODO: https backends: APS verified their certificates "
	    "against the system CA store (not rootCAs) and sent no client "
	    "certificate; gridfront always verifies them against "
	    "upstream.tls.ca: check that they chain to this CA (or point it "
	    "at the system CA bundle), and set upstream.tls.certificate/key "
	    "for a backend that requires a client certificate\n", out);
	(*ntodo)++;
}

/* Translate the APS config at path into YAML on out; the caller owns out
 * and err.  See aps.h. */
int
aps_import(const char *path, FILE *out, char *err, size_t errlen)
{
	json_t		*root, *ingress, *rule;
	json_error_t	 jerr;
	size_t		 i, nroutes = 0, ntodo = 0, todolen = 0, tlslen = 0;
	size_t		 ntls = 0;
	char		*todo_txt = NULL, *tls_txt = NULL;
	FILE		*todo, *tlsidx;

	if ((root = json_load_file(path, 0, &jerr)) == NULL) {
		snprintf(err, errlen, "%s:%d:%d: %s", path, jerr.line,
		    jerr.column, jerr.text);
		return (-1);
	}
	ingress = json_object_get(root, "ingress");
	if (!json_is_array(ingress)) {
		snprintf(err, errlen, "%s: no \"ingress\" list", path);
		json_decref(root);
		return (-1);
	}
	if ((todo = open_memstream(&todo_txt, &todolen)) == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		json_decref(root);
		return (-1);
	}
	(void)aps_top(root, path, out, todo, &ntodo);
	fclose(todo);
	if (todolen > 0)
		fprintf(out, "# APS keys gridfront does not translate:\n%s",
		    todo_txt);
	free(todo_txt);
	/* The ingress rules with an https backend, for upstream.tls. */
	if ((tlsidx = open_memstream(&tls_txt, &tlslen)) == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		json_decref(root);
		return (-1);
	}
	fputs("routes:\n", out);

	json_array_foreach(ingress, i, rule) {
		const char *rpath = json_string_value(json_object_get(rule,
		    "path"));
		const char *surl = json_string_value(json_object_get(rule,
		    "service_url"));
		const char *oldp = json_string_value(json_object_get(rule,
		    "old_path"));
		const char *newp = json_string_value(json_object_get(rule,
		    "new_path"));
		int strict = json_is_true(json_object_get(rule, "strict"));
		const char *p, *comma, *feat;
		char *re = NULL, *from = NULL, *to = NULL, *rule_txt = NULL;
		size_t relen, fromlen, tolen, rulelen, plen;
		FILE *m;
		int first = 1, bad = 0, tls = 0;

		if (rpath == NULL || surl == NULL || *rpath == '\0') {
			fprintf(out, "  # TODO: ingress[%zu] has no path or "
			    "service_url; skipped\n", i);
			ntodo++;
			continue;
		}
		fprintf(out, "  # ingress[%zu]: path %s -> %s%s\n", i, rpath,
		    surl, strict ? " (strict)" : "");
		if (is_aps_regex(rpath) && (feat = re2_only(rpath)) != NULL) {
			fprintf(out, "  # TODO: Go regexp feature \"%s\" has "
			    "no POSIX equivalent; rule left out\n", feat);
			ntodo++;
			continue;
		}
		/* The match, as PathMatched() decides it. */
		m = open_memstream(&re, &relen);
		plen = strlen(rpath);
		if (is_aps_regex(rpath)) {
			if (rpath[0] != '^')
				fputs("^.*", m);	/* Go: match anywhere */
			fputs(rpath, m);
			if (strict || rpath[plen - 1] == '/') {
				fprintf(out, "  # TODO: %s regex rule: APS "
				    "compares the rest of the path textually; "
				    "check the match\n",
				    strict ? "strict" : "trailing-slash");
				ntodo++;
			}
		} else if (rpath[plen - 1] == '/' && plen > 1) {
			/* "/dbs/" also takes "/dbs" (APS appends the slash). */
			fputc('^', m);
			ere_escape_n(m, rpath, plen - 1);
			fputs(strict ? "/?$" : "(/.*)?$", m);
		} else {
			fputc('^', m);
			ere_escape(m, rpath);
			if (strict)
				fputs("/?[^/]*$", m);	/* one more segment */
		}
		fclose(m);

		m = open_memstream(&rule_txt, &rulelen);
		fprintf(m, "- path: ");
		yaml_quoted(m, re);
		fputc('\n', m);
		if (oldp != NULL && *oldp != '\0') {
			/* Go replaces the first occurrence anywhere in the
			 * path; an unanchored "from" does the same. */
			FILE *f = open_memstream(&from, &fromlen);

			ere_escape(f, oldp);
			fclose(f);
			f = open_memstream(&to, &tolen);
			/* A literal $ in new_path must not read as $N. */
			for (p = newp ? newp : ""; *p; p++) {
				if (*p == '$')
					fputc('$', f);
				fputc(*p, f);
			}
			fclose(f);
			fprintf(m, "  rewrite: {from: ");
			yaml_quoted(m, from);
			fprintf(m, ", to: ");
			yaml_quoted(m, to);
			fprintf(m, "}\n");
		}
		fprintf(m, "  auth: cert\n  backends: [");
		for (p = surl; ; p = comma + 1) {
			comma = strchr(p, ',');
			if (emit_backend(m, p, comma ? (size_t)(comma - p) :
			    strlen(p), first, &tls) == -1)
				bad = 1;
			first = 0;
			if (comma == NULL)
				break;
		}
		fprintf(m, "]\n");
		/* APS sends the service URL's host as Host; name-based
		 * ingresses behind it route on that name. */
		if (!url_host_is_ip(surl))
			fprintf(m, "  host_header: backend\n");
		fclose(m);
		if (bad) {
			fprintf(out, "  # TODO: service_url is not "
			    "http(s)://host[:port][/]; rule left out:\n");
			ntodo++;
		}
		/* Indent the rule; comment it out when it cannot be used. */
		for (p = rule_txt; *p != '\0'; p = comma + 1) {
			comma = strchr(p, '\n');
			fprintf(out, "  %s%.*s\n", bad ? "# " : "",
			    (int)(comma - p), p);
		}
		if (!bad)
			nroutes++;
		if (!bad && tls)
			fprintf(tlsidx, "%singress[%zu]", ntls++ > 0 ? ", " :
			    "", i);
		free(re);
		free(from);
		free(to);
		free(rule_txt);
	}
	fclose(tlsidx);
	if (ntls > 0)
		aps_upstream_tls(root, tls_txt, out, &ntodo);
	free(tls_txt);
	fprintf(out, "# %zu route(s) imported, %zu TODO(s)\n", nroutes, ntodo);
	json_decref(root);
	return (0);
}
