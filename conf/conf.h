/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * The in-memory configuration of gridfront: plain data, immutable once
 * conf_load() has returned it.  One struct conf is one "generation"; the
 * proxy holds a reference per connection and a reload swaps in a new
 * generation while old connections finish on theirs.  This header knows
 * nothing of sockets, TLS or the event loop; conf/ depends on nothing else
 * in the tree.
 */

#ifndef CONF_CONF_H
#define CONF_CONF_H

#include <sys/socket.h>

#include <regex.h>
#include <stddef.h>
#include <stdint.h>

#include "conf/errs.h"

enum conf_auth_mode {
	CONF_AUTH_CERT = 0,	/* valid cert of a CRIC user, else 403 */
	/* identity if offered, cms-auth-status: NONE if not */
	CONF_AUTH_OPTIONAL,
	CONF_AUTH_NONE,		/* no identity headers at all */
	CONF_AUTH_TOKEN,	/* a valid bearer token only (issue 14) */
	CONF_AUTH_CERT_OR_TOKEN	/* a token when sent, else a certificate */
};

/* auth.tokens.issuers[].identity.from: how a token finds its CRIC user. */
enum conf_token_from {
	CONF_TOKEN_FROM_CLAIM = 0,	/* a claim holding the CRIC LOGIN */
	CONF_TOKEN_FROM_SUBJECT_MAP,	/* JSON file: sub -> CRIC LOGIN */
	CONF_TOKEN_FROM_CERN_PERSON_ID	/* a claim holding the CRIC ID */
};

/* One trusted token issuer (auth.tokens.issuers[]). */
struct conf_token_issuer {
	char		*issuer;	/* compared to iss exactly */
	char		*jwks;		/* JWKS file, watched */
	char		**audiences;	/* at least one */
	size_t		 naudiences;
	enum conf_token_from from;	/* identity.from */
	char		*map_file;	/* identity.file (subject_map) */
	char		*claim;		/* identity.claim; default by from */
	char		*authn_method;	/* cms-authn-method; default "oauth" */
	int		 line;
	int		 col;
};

/* auth.tokens: bearer tokens beside x509. */
struct conf_tokens {
	struct conf_token_issuer *issuers;
	size_t		 nissuers;
	unsigned	 leeway;	/* ms of clock skew on exp/nbf/iat */
	unsigned	 cache_size;	/* verified-token cache entries */
};

/* What cms-authn-hmac is computed over (README "Signed headers"). */
enum conf_sign_as {
	CONF_SIGN_BYTES = 0,	/* the bytes sent (PROTOCOL.md, Go cmsauth) */
	CONF_SIGN_PY3_LATIN1	/* as a Python 3 WSGI verifier rebuilds them */
};

/* auth.namespaces: how CA .namespaces/.signing_policy files apply. */
enum conf_ns_mode {
	CONF_NS_ENFORCE = 0,	/* check every CA that has a policy file */
	CONF_NS_REQUIRE,	/* and refuse a CA without one */
	CONF_NS_IGNORE		/* do not read them */
};

/* auth.dn_match: how a certificate DN finds its CRIC record. */
enum conf_dn_match {
	CONF_DN_EXACT = 0,	/* byte for byte */
	CONF_DN_ANY_ORDER	/* or the same RDNs in another order */
};

enum conf_log_format {
	CONF_LOG_TEXT = 0,
	CONF_LOG_JSON
};

/* An address block for allow_from. */
struct conf_cidr {
	int		 family;	/* AF_INET or AF_INET6 */
	uint8_t		 addr[16];	/* network byte order, masked */
	int		 prefix;	/* 0..32 or 0..128 */
};

/* One backend URL, shared by every route that names it (deduplicated). */
struct conf_backend {
	unsigned	 id;		/* index in conf->backends */
	char		*url;		/* "http://host:port" as written */
	char		*host;		/* host part, for logs and Host:
					 * fallback ("[::1]" keeps its
					 * brackets) */
	char		*port;		/* port part, as text */
	struct sockaddr_storage addr;	/* resolved at load time */
	socklen_t	 addrlen;
};

struct conf_route {
	/* index in conf->routes, evaluation order */
	unsigned	 id;
	char		*path;		/* as written */
	size_t		 pathlen;
	int		 is_regex;	/* path started with '^' */
	regex_t		 re;		/* when is_regex */
	size_t		 re_litlen;	/* when is_regex: path[1..re_litlen]
					 * is a literal every match starts
					 * with, checked before regexec() */
	int		 has_rewrite;
	char		*rewrite_from;
	char		*rewrite_to;
	regex_t		 rewrite_re;
	struct conf_backend **backends;	/* borrowed from conf->backends */
	size_t		 nbackends;
	enum conf_auth_mode auth;
	int		 allow_limited_proxy;
	char		**require_fqan;	/* any one suffices; empty = none */
	size_t		 nrequire_fqan;
	struct conf_cidr *allow_from;	/* empty = everyone */
	size_t		 nallow_from;
	enum conf_sign_as sign_as;	/* the headers sent do not change */
	int		 buffer_body;	/* validate small bodies before
					 * contacting a backend */
	int		 forward_token;	/* keep Authorization on token routes */
	char		**require_scope; /* any one suffices; empty = none */
	size_t		 nrequire_scope;
	char		**require_group; /* wlcg.groups; any one suffices */
	size_t		 nrequire_group;
	char		 name[64];	/* the path, cut to fit with "...",
					 * for logs/metrics */
	int		 line;		/* where it was defined */
	int		 col;
};

struct conf_listener {
	char		*address;	/* "host:port" as written */
	struct sockaddr_storage addr;
	socklen_t	 addrlen;
	int		 tls;		/* has a tls: block */
	char		*certificate;	/* PEM path (chain allowed) */
	char		*key;		/* PEM path */
	int		 redirect_https; /* plain listener: 301 to https */
	int		 https_port;	/* port used in redirects, 0 = 443 */
	int		 allow_path_params; /* ';' in paths: pass, not 400 */
	int		 http2;		/* tls.http2: offer h2 by ALPN */
	int		 line;
	int		 col;
};

/* All durations are milliseconds. */
struct conf_timeouts {
	unsigned	 handshake;		/* TLS handshake */
	/* whole request head (slowloris) */
	unsigned	 request_head;
	unsigned	 keepalive;		/* idle between requests */
	unsigned	 upstream_connect;
	/* request sent -> response head */
	unsigned	 upstream_response;
	/* no body progress either way */
	unsigned	 body_idle;
	unsigned	 shutdown_grace;	/* SIGTERM drain */
	/* 0: none; else Connection: close */
	unsigned	 max_connection_age;
};

struct conf_limits {
	size_t		 max_request_line;	/* 414 beyond */
	/* one header line; 431 beyond */
	size_t		 max_header_field;
	size_t		 max_header_block;	/* whole head; 431 beyond */
	size_t		 max_header_count;	/* 431 beyond */
	size_t		 max_chunk_ext;		/* chunk extension bytes */
	unsigned	 max_connections;	/* per worker */
	size_t		 buffer_high;		/* watermark, bytes */
	size_t		 body_buffer;		/* request body held whole */
	size_t		 body_buffer_total;	/* per worker, all bodies */
	/* bearer token bytes; 400 beyond */
	size_t		 max_token;
};

struct conf_upstream {
	unsigned	 pool_max_idle;		/* per worker per backend */
	unsigned	 pool_idle_timeout;	/* ms */
	/* ms a failed backend stays down */
	unsigned	 down_time;
};

struct conf_auth {
	/* hashed CA dir with .rN CRLs */
	char		*ca_path;
	unsigned	 verify_depth;
	char		*vomsdir;		/* NULL: no VOMS */
	char		*users;			/* CRIC JSON; NULL: no users */
	char		*banned;		/* NULL: none */
	/* NULL only when no listener uses auth */
	char		*hmac_key;
	int		 legacy_proxies;
	char		*authn_method;		/* default "X509Cert" */
	/* shown in denials; default "/auth/trouble" */
	char		*trouble_url;
	/* ms between file stat checks */
	unsigned	 reload_interval;
	/* verified-chain cache entries */
	unsigned	 verify_cache_size;
	size_t		 verify_cache_bytes;	/* and their bytes (estimate) */
	/* client certificate list bytes */
	size_t		 max_cert_list;
	enum conf_ns_mode namespaces;		/* CA namespace policy files */
	enum conf_dn_match dn_match;		/* CRIC DN lookup */
	struct conf_tokens tokens;		/* bearer tokens (issue 14) */
};

struct conf_admin {
	char		*address;		/* NULL: no admin listener */
	struct sockaddr_storage addr;
	socklen_t	 addrlen;
};

struct conf_log {
	char		*access_log;		/* NULL: stdout; "off": none */
	enum conf_log_format access_format;
	char		*error_log;		/* NULL: stderr */
	int		 level;			/* 0 error .. 3 debug */
};

/* HTTP/2 sessions (proxy/h2.c); sizes in bytes. */
struct conf_http2 {
	unsigned	 max_concurrent_streams;
	size_t		 header_table_size;	/* HPACK, both ways */
	size_t		 max_header_list;	/* 0: the HTTP/1.1 head limit */
	size_t		 stream_window;		/* per-stream receive window */
	unsigned	 max_resets_per_second;	/* rapid reset: GOAWAY */
	/* SETTINGS, PING, PRIORITY, empty DATA, WINDOW_UPDATE a second */
	unsigned	 max_control_frames_per_second;
};

struct conf {
	int		 refs;			/* atomic; conf_get/conf_put */
	/* set by the loader of record */
	uint64_t	 generation;
	char		*path;
	unsigned	 workers;		/* resolved: "auto" = cores */

	struct conf_listener *listeners;
	size_t		 nlisteners;
	struct conf_route *routes;
	size_t		 nroutes;
	struct conf_backend *backends;
	size_t		 nbackends;

	struct conf_timeouts timeouts;
	struct conf_limits limits;
	struct conf_upstream upstream;
	struct conf_auth auth;
	struct conf_admin admin;
	struct conf_log	 log;
	struct conf_http2 http2;
};

/*
 * Parse and validate the YAML file at path.  On success returns 0 and
 * stores a new conf with refs == 1 in *out; the caller owns it and releases
 * it with conf_put().  On failure returns -1, leaves *out untouched and
 * appends every error found (not just the first) to errs, which the caller
 * owns and frees with conf_errs_free().  Relative file paths in the config
 * (certificates, keys, CA dir, users...) are resolved against the
 * directory of path.
 */
int	 conf_load(const char *path, struct conf **out, struct conf_errs *errs);

/*
 * 1 when two auth.tokens sections are the same (issuers in order with
 * their files, audiences and identity, leeway, cache size), so a reload
 * may keep the running token state; else 0.
 */
int	 conf_tokens_equal(const struct conf_tokens *a,
	    const struct conf_tokens *b);

/* Take one more reference; returns c.  Thread-safe. */
struct conf *conf_get(struct conf *c);

/* Drop a reference; frees c and everything it owns at zero.  NULL is a
 * no-op.  Thread-safe. */
void	 conf_put(struct conf *c);

/* The name of auth mode a as written in the config ("cert", ...); a
 * static string, "?" for a value outside the enum. */
const char *conf_auth_name(enum conf_auth_mode a);

/* Print every key of the directive table, one
 * "scope.key\ttype\tdefault\tdescription" line each ("-" for no default),
 * in table order, to the FILE* fp (for --list-keys). */
void	 conf_keys_print(void *fp);

#endif /* CONF_CONF_H */
