/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * The directive engine: the table with one row per config key, naming its
 * scope, the YAML node type it takes, how its value is read (a generic
 * typed slot setter located with offsetof, or a handler), its default and
 * a one-line description; and the walk that applies it.  The same table
 * drives loading, the defaults, unknown-key errors and `gridfront
 * --list-keys`, so they cannot drift apart.  The handlers of the top-level,
 * listener, admin and log keys are here; the route-rule handlers are
 * keys_route.c, the value readers keys_value.c and the load context
 * (YAML path, located errors) keys_ctx.c.  Checks that need the whole file
 * are conf.c's semantic pass.  Nothing here logs: every problem becomes a
 * located conf error and the walk goes on.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/xalloc.h"
#include "conf/conf.h"
#include "conf/keys.h"
#include "conf/keys_ctx.h"
#include "conf/keys_route.h"
#include "conf/keys_token.h"
#include "conf/keys_value.h"
#include "conf/yaml.h"

/* How a row's value is read and stored. */
enum keys_kind {
	KEYS_K_UINT = 0,	/* unsigned or size_t slot, min..max */
	KEYS_K_DURATION,	/* unsigned slot, milliseconds */
	KEYS_K_SIZE,		/* size_t slot, bytes */
	KEYS_K_BOOL,		/* int slot */
	KEYS_K_CHOICE,		/* int or enum slot: index in choices */
	KEYS_K_STRING,		/* char * slot, owned */
	KEYS_K_PATH,		/* char * slot, resolved against the conf dir */
	KEYS_K_MAP,		/* nested scope, base + off */
	KEYS_K_FN		/* handler */
};

struct keys_row {
	const char	*name;
	enum keys_scope	 scope;
	enum yaml_kind	 node;		/* node type the key takes */
	enum keys_kind	 kind;
	size_t		 off;		/* slot offset in the scope's struct */
	size_t		 size;		/* slot size, for integer kinds */
	uint64_t	 min;
	uint64_t	 max;
	const char *const *choices;	/* KEYS_K_CHOICE, NULL-terminated */
	enum keys_scope	 sub;		/* KEYS_K_MAP */
	/* KEYS_K_FN: apply node n to base (the scope's struct). */
	int		(*fn)(struct keys_ctx *, const struct yaml_node *,
			    void *);
	int		 required;
	int		 empty_ok;	/* KEYS_K_STRING: "" is a value */
	const char	*type;		/* for --list-keys; NULL: from kind */
	const char	*expect;	/* "expected ..."; NULL: from kind */
	const char	*def;		/* default, as a user would write it */
	const char	*desc;
};

/* Printed scope prefixes: the YAML path a key lives under. */
static const char *const scope_names[] = {
	[KEYS_SCOPE_GLOBAL] = "",
	[KEYS_SCOPE_LISTEN] = "listen",
	[KEYS_SCOPE_LISTEN_TLS] = "listen.tls",
	[KEYS_SCOPE_ROUTE] = "routes",
	[KEYS_SCOPE_ROUTE_REWRITE] = "routes.rewrite",
	[KEYS_SCOPE_TIMEOUTS] = "timeouts",
	[KEYS_SCOPE_LIMITS] = "limits",
	[KEYS_SCOPE_UPSTREAM] = "upstream",
	[KEYS_SCOPE_AUTH] = "auth",
	[KEYS_SCOPE_ADMIN] = "admin",
	[KEYS_SCOPE_LOG] = "log",
	[KEYS_SCOPE_TOKENS] = "auth.tokens",
	[KEYS_SCOPE_TOKEN_ISSUER] = "auth.tokens.issuers",
	[KEYS_SCOPE_TOKEN_IDENTITY] = "auth.tokens.issuers.identity",
	[KEYS_SCOPE_HTTP2] = "http2",
};

/* Choice lists; the index of a name is the value stored. */
static const char *const auth_choices[] = { "cert", "optional", "none",
	"token", "cert_or_token", NULL };
static const char *const token_from_choices[] = { "claim", "subject_map",
	"cern_person_id", NULL };
static const char *const format_choices[] = { "text", "json", NULL };
static const char *const ns_choices[] = { "enforce", "require", "ignore",
	NULL };
static const char *const dn_match_choices[] = { "exact", "any_order",
	NULL };
static const char *const level_choices[] = { "error", "warn", "info",
	"debug", NULL };
static const char *const sign_as_choices[] = { "bytes", "py3-latin1",
	NULL };

static int	fn_workers(struct keys_ctx *, const struct yaml_node *, void *);
static int	fn_listen(struct keys_ctx *, const struct yaml_node *, void *);
static int	fn_listen_address(struct keys_ctx *, const struct yaml_node *,
		    void *);
static int	fn_tls(struct keys_ctx *, const struct yaml_node *, void *);
static int	fn_admin_address(struct keys_ctx *, const struct yaml_node *,
		    void *);
static int	fn_trouble_url(struct keys_ctx *, const struct yaml_node *,
		    void *);
static int	fn_log_access(struct keys_ctx *, const struct yaml_node *,
		    void *);
static int	fn_log_error(struct keys_ctx *, const struct yaml_node *,
		    void *);

#define SLOT(type, member)						\
	.off = offsetof(type, member),					\
	.size = sizeof(((type *)0)->member)

/* Rows of a few common shapes. */
#define R_DURATION(sc, type, member, dflt, text)			\
	{ .name = #member, .scope = (sc), .node = YAML_KIND_SCALAR,	\
	  .kind = KEYS_K_DURATION, SLOT(type, member), .min = 1,	\
	  .max = KEYS_DURATION_MAX, .def = (dflt), .desc = (text) }
#define R_SIZE(sc, type, member, lo, hi, dflt, text)			\
	{ .name = #member, .scope = (sc), .node = YAML_KIND_SCALAR,	\
	  .kind = KEYS_K_SIZE, SLOT(type, member), .min = (lo),		\
	  .max = (hi), .def = (dflt), .desc = (text) }
#define R_UINT(sc, type, member, lo, hi, dflt, text)			\
	{ .name = #member, .scope = (sc), .node = YAML_KIND_SCALAR,	\
	  .kind = KEYS_K_UINT, SLOT(type, member), .min = (lo),		\
	  .max = (hi), .def = (dflt), .desc = (text) }
#define R_BOOL(sc, type, member, text)					\
	{ .name = #member, .scope = (sc), .node = YAML_KIND_SCALAR,	\
	  .kind = KEYS_K_BOOL, SLOT(type, member), .def = "false",	\
	  .desc = (text) }
#define R_PATH(sc, type, member, req, text)				\
	{ .name = #member, .scope = (sc), .node = YAML_KIND_SCALAR,	\
	  .kind = KEYS_K_PATH, SLOT(type, member), .required = (req),	\
	  .desc = (text) }
#define R_SECTION(member, sc, text)					\
	{ .name = #member, .scope = KEYS_SCOPE_GLOBAL,			\
	  .node = YAML_KIND_MAP, .kind = KEYS_K_MAP,			\
	  SLOT(struct conf, member), .sub = (sc), .desc = (text) }

/* 64-bit, like the min and max they fill, so products never wrap. */
#define KIB	((uint64_t)1024)
#define MIB	((uint64_t)1024 * 1024)

/*
 * THE directive table.  Order matters only for --list-keys and the
 * README, which follow it section by section.
 */
static const struct keys_row keys_table[] = {
	/* Top level. */
	{ .name = "workers", .scope = KEYS_SCOPE_GLOBAL,
	  .node = YAML_KIND_SCALAR, .kind = KEYS_K_FN, .fn = fn_workers,
	  .type = "auto|integer",
	  .expect = "auto or a whole number from 1 to 256", .def = "auto",
	  .desc = "Worker threads, each with its own event loop and "
	  "listeners; auto means one per online CPU." },
	{ .name = "listen", .scope = KEYS_SCOPE_GLOBAL,
	  .node = YAML_KIND_SEQ, .kind = KEYS_K_FN, .fn = fn_listen,
	  .required = 1, .type = "list of listeners",
	  .expect = "a list of listeners (mappings with address:)",
	  .desc = "Sockets to accept clients on; at least one." },
	{ .name = "routes", .scope = KEYS_SCOPE_GLOBAL,
	  .node = YAML_KIND_SEQ, .kind = KEYS_K_FN, .fn = keys_route_list,
	  .required = 1, .type = "list of routes",
	  .expect = "a list of routes (mappings with path: and backends:)",
	  .desc = "Ordered routing rules; the first that matches wins, "
	  "no match is a 404." },
	R_SECTION(timeouts, KEYS_SCOPE_TIMEOUTS,
	    "Time limits on clients and backends."),
	R_SECTION(limits, KEYS_SCOPE_LIMITS,
	    "Size limits on requests and buffers."),
	R_SECTION(upstream, KEYS_SCOPE_UPSTREAM,
	    "Backend connection pool and passive health."),
	R_SECTION(auth, KEYS_SCOPE_AUTH,
	    "Grid x509 authentication: trust, users, signing key."),
	R_SECTION(admin, KEYS_SCOPE_ADMIN,
	    "Admin listener for /metrics, /healthz and /readyz."),
	R_SECTION(log, KEYS_SCOPE_LOG,
	    "Access and error logs."),
	R_SECTION(http2, KEYS_SCOPE_HTTP2,
	    "HTTP/2 client sessions: limits and flood thresholds."),

	/* listen: [ {...} ] */
	{ .name = "address", .scope = KEYS_SCOPE_LISTEN,
	  .node = YAML_KIND_SCALAR, .kind = KEYS_K_FN,
	  .fn = fn_listen_address, .required = 1, .type = "host:port",
	  .expect = "host:port, e.g. 0.0.0.0:443 or [::]:443",
	  .desc = "IPv4 address, [IPv6] address or host name, and port." },
	{ .name = "tls", .scope = KEYS_SCOPE_LISTEN,
	  .node = YAML_KIND_MAP, .kind = KEYS_K_FN, .fn = fn_tls,
	  .type = "mapping", .expect = "a mapping with certificate: and key:",
	  .desc = "Serve TLS; without it the listener is plain HTTP." },
	R_BOOL(KEYS_SCOPE_LISTEN, struct conf_listener, redirect_https,
	    "Plain listener only: answer every request with a 301 to "
	    "https."),
	R_UINT(KEYS_SCOPE_LISTEN, struct conf_listener, https_port, 1, 65535,
	    "443", "Port written in redirects (with redirect_https)."),
	R_BOOL(KEYS_SCOPE_LISTEN, struct conf_listener, allow_path_params,
	    "Pass ';' path parameters on; routes match the path without "
	    "them (off: 400)."),

	/* listen[].tls: {...} */
	R_PATH(KEYS_SCOPE_LISTEN_TLS, struct conf_listener, certificate, 1,
	    "PEM server certificate, followed by its intermediate CAs."),
	R_PATH(KEYS_SCOPE_LISTEN_TLS, struct conf_listener, key, 1,
	    "PEM private key of the certificate."),
	{ .name = "http2", .scope = KEYS_SCOPE_LISTEN_TLS,
	  .node = YAML_KIND_SCALAR, .kind = KEYS_K_BOOL,
	  SLOT(struct conf_listener, http2), .def = "true",
	  .desc = "Offer HTTP/2 (ALPN h2) besides HTTP/1.1." },

	/* http2: {...} */
	R_UINT(KEYS_SCOPE_HTTP2, struct conf_http2, max_concurrent_streams,
	    1, 1000, "100", "Streams a client may have open on one "
	    "connection; more are refused."),
	R_SIZE(KEYS_SCOPE_HTTP2, struct conf_http2, header_table_size,
	    0, 64 * KIB, "4k", "HPACK dynamic table size, both ways."),
	R_SIZE(KEYS_SCOPE_HTTP2, struct conf_http2, max_header_list,
	    0, 16 * MIB, "0", "Header list bytes per request; 0: the "
	    "HTTP/1.1 head limit."),
	R_SIZE(KEYS_SCOPE_HTTP2, struct conf_http2, stream_window,
	    16 * KIB, 16 * MIB, "64k", "Request body bytes a stream may "
	    "send before gridfront has forwarded them."),
	R_UINT(KEYS_SCOPE_HTTP2, struct conf_http2, max_resets_per_second,
	    1, 1000000, "100", "Stream resets a client may cause a second "
	    "(rapid reset); more end the connection."),
	R_UINT(KEYS_SCOPE_HTTP2, struct conf_http2,
	    max_control_frames_per_second, 10, 1000000, "1000",
	    "SETTINGS, PING, PRIORITY, WINDOW_UPDATE and empty DATA frames "
	    "a second; more end the connection."),

	/* routes: [ {...} ] */
	{ .name = "path", .scope = KEYS_SCOPE_ROUTE,
	  .node = YAML_KIND_SCALAR, .kind = KEYS_K_FN, .fn = keys_route_path,
	  .required = 1, .type = "prefix|^regex",
	  .expect = "a path prefix starting with '/' or a regular "
	  "expression starting with '^'",
	  .desc = "Prefix matched at a segment boundary, or a POSIX "
	  "extended regex when it starts with ^." },
	{ .name = "rewrite", .scope = KEYS_SCOPE_ROUTE,
	  .node = YAML_KIND_MAP, .kind = KEYS_K_FN, .fn = keys_route_rewrite,
	  .type = "mapping", .expect = "a mapping with from: and to:",
	  .desc = "Rewrite the upstream path: the first match of from is "
	  "replaced by to." },
	{ .name = "backends", .scope = KEYS_SCOPE_ROUTE,
	  .node = YAML_KIND_SEQ, .kind = KEYS_K_FN, .fn = keys_route_backends,
	  .required = 1, .type = "list of URLs",
	  .expect = "a list of http://host:port URLs",
	  .desc = "Backends, used round-robin; resolved at load." },
	{ .name = "auth", .scope = KEYS_SCOPE_ROUTE,
	  .node = YAML_KIND_SCALAR, .kind = KEYS_K_CHOICE,
	  SLOT(struct conf_route, auth), .choices = auth_choices,
	  .def = "cert",
	  .desc = "cert: a CRIC user's valid certificate is required; "
	  "optional: identity if offered; none: no identity headers; "
	  "token: a bearer token is required; cert_or_token: either." },
	R_BOOL(KEYS_SCOPE_ROUTE, struct conf_route, allow_limited_proxy,
	    "Accept RFC 3820 limited proxies on this route."),
	{ .name = "require_fqan", .scope = KEYS_SCOPE_ROUTE,
	  .node = YAML_KIND_SEQ, .kind = KEYS_K_FN,
	  .fn = keys_route_require_fqan,
	  .type = "list of FQANs",
	  .expect = "a list of VOMS FQANs such as /cms/Role=production",
	  .desc = "Require one of these VOMS FQANs (any one suffices)." },
	{ .name = "allow_from", .scope = KEYS_SCOPE_ROUTE,
	  .node = YAML_KIND_SEQ, .kind = KEYS_K_FN, .fn = keys_route_allow_from,
	  .type = "list of CIDRs",
	  .expect = "a list of addresses or CIDR blocks such as 10.0.0.0/8 "
	  "or 2001:db8::/32",
	  .desc = "Client address allow-list; absent means everyone." },
	{ .name = "sign_as", .scope = KEYS_SCOPE_ROUTE,
	  .node = YAML_KIND_SCALAR, .kind = KEYS_K_CHOICE,
	  SLOT(struct conf_route, sign_as), .choices = sign_as_choices,
	  .def = "bytes",
	  .desc = "What cms-authn-hmac is computed over: bytes for Go "
	  "verifiers, py3-latin1 for Python 3 (CherryPy) ones." },
	{ .name = "buffer_body", .scope = KEYS_SCOPE_ROUTE,
	  .node = YAML_KIND_SCALAR, .kind = KEYS_K_BOOL,
	  SLOT(struct conf_route, buffer_body), .def = "true",
	  .desc = "Receive and check a request body up to "
	  "limits.body_buffer before contacting a backend." },

	R_BOOL(KEYS_SCOPE_ROUTE, struct conf_route, forward_token,
	    "On routes that read tokens, pass the Authorization header to "
	    "the backend (off: removed)."),
	{ .name = "require_scope", .scope = KEYS_SCOPE_ROUTE,
	  .node = YAML_KIND_SEQ, .kind = KEYS_K_FN,
	  .fn = keys_token_require_scope, .type = "list of scopes",
	  .expect = "a list of WLCG scopes such as storage.read:/",
	  .desc = "A token must grant one of these scopes (path prefix at a "
	  "'/'); else 403 insufficient_scope." },
	{ .name = "require_group", .scope = KEYS_SCOPE_ROUTE,
	  .node = YAML_KIND_SEQ, .kind = KEYS_K_FN,
	  .fn = keys_token_require_group, .type = "list of groups",
	  .expect = "a list of groups such as /cms/production",
	  .desc = "A token's wlcg.groups must hold one of these (or a "
	  "subgroup)." },

	/* routes[].rewrite: {...} */
	{ .name = "from", .scope = KEYS_SCOPE_ROUTE_REWRITE,
	  .node = YAML_KIND_SCALAR, .kind = KEYS_K_STRING,
	  SLOT(struct conf_route, rewrite_from), .required = 1,
	  .type = "regex", .desc = "POSIX extended regex matched against "
	  "the normalised path." },
	{ .name = "to", .scope = KEYS_SCOPE_ROUTE_REWRITE,
	  .node = YAML_KIND_SCALAR, .kind = KEYS_K_STRING,
	  SLOT(struct conf_route, rewrite_to), .required = 1, .empty_ok = 1,
	  .desc = "Replacement; $1..$9 are capture groups, $$ is a "
	  "literal $; may be empty to strip what from matched." },

	/* timeouts: {...} */
	R_DURATION(KEYS_SCOPE_TIMEOUTS, struct conf_timeouts, handshake, "10s",
	    "TLS handshake."),
	R_DURATION(KEYS_SCOPE_TIMEOUTS, struct conf_timeouts, request_head,
	    "20s", "Whole request head, from its first byte (slowloris)."),
	R_DURATION(KEYS_SCOPE_TIMEOUTS, struct conf_timeouts, keepalive, "60s",
	    "Idle client connection between requests."),
	R_DURATION(KEYS_SCOPE_TIMEOUTS, struct conf_timeouts, upstream_connect,
	    "5s", "Connecting to a backend."),
	R_DURATION(KEYS_SCOPE_TIMEOUTS, struct conf_timeouts, upstream_response,
	    "300s", "From request sent to response head received."),
	R_DURATION(KEYS_SCOPE_TIMEOUTS, struct conf_timeouts, body_idle, "60s",
	    "No body progress in either direction."),
	R_DURATION(KEYS_SCOPE_TIMEOUTS, struct conf_timeouts, shutdown_grace,
	    "30s", "How long SIGTERM lets in-flight requests finish."),
	{ .name = "max_connection_age", .scope = KEYS_SCOPE_TIMEOUTS,
	  .node = YAML_KIND_SCALAR, .kind = KEYS_K_DURATION,
	  SLOT(struct conf_timeouts, max_connection_age), .min = 0,
	  .max = KEYS_DURATION_MAX, .def = "0s",
	  .desc = "A client connection this old gets Connection: close on "
	  "its next response; 0s: no limit." },

	/* limits: {...} */
	R_SIZE(KEYS_SCOPE_LIMITS, struct conf_limits, max_request_line,
	    256, 64 * KIB, "8k", "Request line; longer gets 414."),
	R_SIZE(KEYS_SCOPE_LIMITS, struct conf_limits, max_header_field,
	    256, 1 * MIB, "8k", "One header line; longer gets 431."),
	R_SIZE(KEYS_SCOPE_LIMITS, struct conf_limits, max_header_block,
	    1 * KIB, 16 * MIB, "32k", "Whole request head; larger gets 431."),
	R_UINT(KEYS_SCOPE_LIMITS, struct conf_limits, max_header_count,
	    1, 128, "100", "Header lines per request; more gets 431."),
	R_SIZE(KEYS_SCOPE_LIMITS, struct conf_limits, max_chunk_ext,
	    0, 64 * KIB, "256", "Chunk extension bytes per chunk."),
	R_UINT(KEYS_SCOPE_LIMITS, struct conf_limits, max_connections,
	    1, 1000000, "10000", "Client connections per worker."),
	R_SIZE(KEYS_SCOPE_LIMITS, struct conf_limits, buffer_high,
	    4 * KIB, 64 * MIB, "64k", "Buffered bytes per direction before "
	    "reading pauses (backpressure)."),
	R_SIZE(KEYS_SCOPE_LIMITS, struct conf_limits, body_buffer,
	    0, 64 * MIB, "1m", "Request body received whole and checked "
	    "before a backend is contacted."),
	R_SIZE(KEYS_SCOPE_LIMITS, struct conf_limits, body_buffer_total,
	    64 * KIB, 16384 * MIB, "64m", "Per worker: all request bodies "
	    "being buffered; beyond, reading them pauses."),
	R_SIZE(KEYS_SCOPE_LIMITS, struct conf_limits, max_token,
	    256, 1 * MIB, "8000", "Bearer token bytes; longer gets 400 "
	    "invalid_request."),

	/* upstream: {...} */
	R_UINT(KEYS_SCOPE_UPSTREAM, struct conf_upstream, pool_max_idle,
	    0, 10000, "256", "Idle keep-alive connections kept per worker "
	    "and backend; 0 disables pooling."),
	R_DURATION(KEYS_SCOPE_UPSTREAM, struct conf_upstream,
	    pool_idle_timeout, "30s", "Idle pooled connections are closed "
	    "after this."),
	R_DURATION(KEYS_SCOPE_UPSTREAM, struct conf_upstream, down_time, "10s",
	    "How long a backend that failed to connect stays down."),

	/* auth: {...} */
	R_PATH(KEYS_SCOPE_AUTH, struct conf_auth, ca_path, 0,
	    "Hashed grid CA directory with .rN CRLs."),
	R_UINT(KEYS_SCOPE_AUTH, struct conf_auth, verify_depth, 1, 100, "10",
	    "Maximum certificate chain depth, proxies included."),
	R_PATH(KEYS_SCOPE_AUTH, struct conf_auth, vomsdir, 0,
	    "VOMS .lsc directory; absent: VOMS attributes are ignored."),
	R_PATH(KEYS_SCOPE_AUTH, struct conf_auth, users, 0,
	    "CRIC users JSON file (DN to login and roles)."),
	R_PATH(KEYS_SCOPE_AUTH, struct conf_auth, banned, 0,
	    "Ban list with dn: and login: lines."),
	R_PATH(KEYS_SCOPE_AUTH, struct conf_auth, hmac_key, 0,
	    "Key file for the HMAC of the cms-authn headers."),
	R_BOOL(KEYS_SCOPE_AUTH, struct conf_auth, legacy_proxies,
	    "Accept legacy Globus proxy certificates."),
	{ .name = "authn_method", .scope = KEYS_SCOPE_AUTH,
	  .node = YAML_KIND_SCALAR, .kind = KEYS_K_STRING,
	  SLOT(struct conf_auth, authn_method), .def = "X509Cert",
	  .desc = "Value of the cms-authn-method header." },
	{ .name = "trouble_url", .scope = KEYS_SCOPE_AUTH,
	  .node = YAML_KIND_SCALAR, .kind = KEYS_K_FN, .fn = fn_trouble_url,
	  .type = "url path", .expect = "a URL path starting with '/'",
	  .def = "/auth/trouble",
	  .desc = "Path of the built-in trouble page, linked from denials." },
	R_DURATION(KEYS_SCOPE_AUTH, struct conf_auth, reload_interval, "5s",
	    "How often auth files are checked for changes."),
	R_UINT(KEYS_SCOPE_AUTH, struct conf_auth, verify_cache_size, 0,
	    10000000, "10000", "Verified-chain cache entries; 0 disables "
	    "it."),
	R_SIZE(KEYS_SCOPE_AUTH, struct conf_auth, verify_cache_bytes,
	    64 * KIB, 64 * KIB * MIB, "64m", "Verified-chain cache bytes "
	    "(estimated); least recently used entries go first."),
	R_SIZE(KEYS_SCOPE_AUTH, struct conf_auth, max_cert_list, 4 * KIB,
	    16 * MIB, "64k", "Largest client certificate list accepted in "
	    "a handshake."),
	{ .name = "namespaces", .scope = KEYS_SCOPE_AUTH,
	  .node = YAML_KIND_SCALAR, .kind = KEYS_K_CHOICE,
	  SLOT(struct conf_auth, namespaces), .choices = ns_choices,
	  .def = "enforce",
	  .desc = "CA .namespaces/.signing_policy files: enforce them, "
	  "require one for every CA, or ignore them." },
	{ .name = "dn_match", .scope = KEYS_SCOPE_AUTH,
	  .node = YAML_KIND_SCALAR, .kind = KEYS_K_CHOICE,
	  SLOT(struct conf_auth, dn_match), .choices = dn_match_choices,
	  .def = "exact",
	  .desc = "CRIC DN lookup: exact, or any_order (the same RDNs in "
	  "another order also match)." },
	{ .name = "tokens", .scope = KEYS_SCOPE_AUTH, .node = YAML_KIND_MAP,
	  .kind = KEYS_K_MAP, SLOT(struct conf_auth, tokens),
	  .sub = KEYS_SCOPE_TOKENS,
	  .desc = "Bearer tokens (WLCG JWT, CERN SSO) beside x509." },

	/* auth.tokens: {...} */
	{ .name = "issuers", .scope = KEYS_SCOPE_TOKENS,
	  .node = YAML_KIND_SEQ, .kind = KEYS_K_FN, .fn = keys_token_issuers,
	  .type = "list of issuers",
	  .expect = "a list of issuers (mappings with issuer:, jwks:, "
	  "audiences:)",
	  .desc = "Trusted token issuers; a token's iss must be one." },
	R_DURATION(KEYS_SCOPE_TOKENS, struct conf_tokens, leeway, "60s",
	    "Clock skew allowed on exp, nbf and iat."),
	R_UINT(KEYS_SCOPE_TOKENS, struct conf_tokens, cache_size, 0, 1000000,
	    "10000", "Verified-token cache entries; 0 disables it."),

	/* auth.tokens.issuers: [ {...} ] */
	{ .name = "issuer", .scope = KEYS_SCOPE_TOKEN_ISSUER,
	  .node = YAML_KIND_SCALAR, .kind = KEYS_K_STRING,
	  SLOT(struct conf_token_issuer, issuer), .required = 1,
	  .type = "URL", .desc = "Compared to the token's iss exactly." },
	R_PATH(KEYS_SCOPE_TOKEN_ISSUER, struct conf_token_issuer, jwks, 1,
	    "The issuer's JWKS file (written by dist/gridfront-jwks), "
	    "watched and reloaded."),
	{ .name = "audiences", .scope = KEYS_SCOPE_TOKEN_ISSUER,
	  .node = YAML_KIND_SEQ, .kind = KEYS_K_FN,
	  .fn = keys_token_audiences, .required = 1,
	  .type = "list of strings",
	  .expect = "a list of audience strings",
	  .desc = "One must be in the token's aud (case-sensitive)." },
	{ .name = "identity", .scope = KEYS_SCOPE_TOKEN_ISSUER,
	  .node = YAML_KIND_MAP, .kind = KEYS_K_FN,
	  .fn = keys_token_identity, .type = "mapping",
	  .expect = "a mapping with from: and file: or claim:",
	  .desc = "How a token finds its CRIC account." },
	{ .name = "authn_method", .scope = KEYS_SCOPE_TOKEN_ISSUER,
	  .node = YAML_KIND_SCALAR, .kind = KEYS_K_STRING,
	  SLOT(struct conf_token_issuer, authn_method), .def = "oauth",
	  .desc = "cms-authn-method for this issuer's tokens." },

	/* auth.tokens.issuers[].identity: {...} */
	{ .name = "from", .scope = KEYS_SCOPE_TOKEN_IDENTITY,
	  .node = YAML_KIND_SCALAR, .kind = KEYS_K_CHOICE,
	  SLOT(struct conf_token_issuer, from), .choices = token_from_choices,
	  .def = "claim",
	  .desc = "claim: a claim holds the CRIC LOGIN; subject_map: file "
	  "maps sub to LOGIN; cern_person_id: a claim holds the CRIC ID." },
	{ .name = "file", .scope = KEYS_SCOPE_TOKEN_IDENTITY,
	  .node = YAML_KIND_SCALAR, .kind = KEYS_K_PATH,
	  SLOT(struct conf_token_issuer, map_file),
	  .desc = "subject_map: JSON object of sub to CRIC LOGIN, "
	  "reloaded." },
	{ .name = "claim", .scope = KEYS_SCOPE_TOKEN_IDENTITY,
	  .node = YAML_KIND_SCALAR, .kind = KEYS_K_STRING,
	  SLOT(struct conf_token_issuer, claim),
	  .desc = "The claim read by claim (default preferred_username) "
	  "and cern_person_id (default cern_person_id)." },

	/* admin: {...} */
	{ .name = "address", .scope = KEYS_SCOPE_ADMIN,
	  .node = YAML_KIND_SCALAR, .kind = KEYS_K_FN,
	  .fn = fn_admin_address, .type = "host:port",
	  .expect = "host:port, e.g. 127.0.0.1:9100",
	  .desc = "Plain-HTTP admin listener; absent: none." },

	/* log: {...} */
	{ .name = "access", .scope = KEYS_SCOPE_LOG,
	  .node = YAML_KIND_SCALAR, .kind = KEYS_K_FN, .fn = fn_log_access,
	  .type = "path|stdout|off", .expect = "a file path, stdout or off",
	  .def = "stdout", .desc = "Access log destination." },
	{ .name = "format", .scope = KEYS_SCOPE_LOG,
	  .node = YAML_KIND_SCALAR, .kind = KEYS_K_CHOICE,
	  SLOT(struct conf_log, access_format), .choices = format_choices,
	  .def = "text", .desc = "Access log format: text lines or JSON "
	  "lines." },
	{ .name = "error", .scope = KEYS_SCOPE_LOG,
	  .node = YAML_KIND_SCALAR, .kind = KEYS_K_FN, .fn = fn_log_error,
	  .type = "path|stderr", .expect = "a file path or stderr",
	  .def = "stderr", .desc = "Error log destination." },
	{ .name = "level", .scope = KEYS_SCOPE_LOG,
	  .node = YAML_KIND_SCALAR, .kind = KEYS_K_CHOICE,
	  SLOT(struct conf_log, level), .choices = level_choices,
	  .def = "info", .desc = "Least severe error-log level written." },
};

#define NROWS	(sizeof(keys_table) / sizeof(keys_table[0]))

static int	walk(struct keys_ctx *, enum keys_scope,
		    const struct yaml_node *, void *);

/* ------------------------------------------------------------------ */
/* The load context                                                    */
/* ------------------------------------------------------------------ */

/* Set up ctx for one load.  See keys.h. */
void
keys_ctx_init(struct keys_ctx *ctx, struct conf *conf,
    struct conf_errs *errs, const char *dir)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->conf = conf;
	ctx->errs = errs;
	ctx->dir = dir;
	ctx->apply = keys_apply;
	ctx->walk = walk;
}

/* ------------------------------------------------------------------ */
/* Handlers of the top-level, listener, admin and log keys            */
/* ------------------------------------------------------------------ */

/* workers: auto | 1..256 */
static int
fn_workers(struct keys_ctx *ctx, const struct yaml_node *n, void *base)
{
	struct conf	*c = base;
	const char	*s = keys_scalar_text(n), *end;
	uint64_t	 v;
	long		 ncpu;

	if (s != NULL && strcmp(s, "auto") == 0) {
		ncpu = sysconf(_SC_NPROCESSORS_ONLN);
		if (ncpu < 1)
			ncpu = 1;
		if (ncpu > KEYS_WORKERS_MAX)
			ncpu = KEYS_WORKERS_MAX;
		c->workers = (unsigned)ncpu;
		return (0);
	}
	if (s == NULL || keys_parse_digits(s, &v, &end) == -1 || *end != '\0' ||
	    v < 1 || v > KEYS_WORKERS_MAX) {
		keys_err_expected(ctx, n,
		    "auto or a whole number from 1 to 256");
		return (-1);
	}
	c->workers = (unsigned)v;
	return (0);
}

/* listen: [ {address, tls, redirect_https, https_port}, ... ] */
static int
fn_listen(struct keys_ctx *ctx, const struct yaml_node *n, void *base)
{
	struct conf		*c = base;
	struct conf_listener	*l;
	const struct yaml_node	*item;
	size_t			 i, saved;
	int			 ret = 0;

	if (n->n == 0) {
		keys_err(ctx, n, "at least one listener is required");
		return (-1);
	}
	c->listeners = xcalloc(n->n, sizeof(*c->listeners));
	c->nlisteners = n->n;
	for (i = 0; i < n->n; i++) {
		item = n->items[i];
		l = &c->listeners[i];
		l->line = item->line;
		l->col = item->col;
		saved = keys_where_index(ctx, i);
		if (item->kind != YAML_KIND_MAP) {
			keys_err_expected(ctx, item, "a listener (a mapping "
			    "with address:)");
			ret = -1;
			keys_where_pop(ctx, saved);
			continue;
		}
		if (keys_apply(ctx, KEYS_SCOPE_LISTEN, item, l) == -1)
			ret = -1;
		if (l->tls && l->redirect_https) {
			keys_err_at_key(ctx, item, "redirect_https", "only a "
			    "plain-HTTP listener can redirect to https; this "
			    "one has tls:");
			ret = -1;
		}
		if (!l->redirect_https &&
		    yaml_map_get(item, "https_port") != NULL) {
			keys_err_at_key(ctx, item, "https_port", "has no "
			    "effect without redirect_https: true; remove it");
			ret = -1;
		}
		keys_where_pop(ctx, saved);
	}
	return (ret);
}

/* listen[].address */
static int
fn_listen_address(struct keys_ctx *ctx, const struct yaml_node *n,
    void *base)
{
	struct conf_listener *l = base;

	return (keys_get_address(ctx, n, &l->address, &l->addr, &l->addrlen));
}

/* listen[].tls: {certificate, key} */
static int
fn_tls(struct keys_ctx *ctx, const struct yaml_node *n, void *base)
{
	struct conf_listener *l = base;

	l->tls = 1;
	return (keys_apply(ctx, KEYS_SCOPE_LISTEN_TLS, n, l));
}


/* admin.address */
static int
fn_admin_address(struct keys_ctx *ctx, const struct yaml_node *n,
    void *base)
{
	struct conf_admin *a = base;

	return (keys_get_address(ctx, n, &a->address, &a->addr, &a->addrlen));
}

/* auth.trouble_url: a local path, because it is served by gridfront. */
static int
fn_trouble_url(struct keys_ctx *ctx, const struct yaml_node *n, void *base)
{
	struct conf_auth *a = base;
	char		*s;

	if (keys_get_string(ctx, n, &s) == -1)
		return (-1);
	if (s[0] != '/' || strpbrk(s, " ?#") != NULL) {
		keys_err(ctx, n, "'%.80s' must be a URL path starting with "
		    "'/', without spaces, '?' or '#'", s);
		free(s);
		return (-1);
	}
	keys_set_string(&a->trouble_url, s);
	return (0);
}

/* log.access: PATH | stdout | off */
static int
fn_log_access(struct keys_ctx *ctx, const struct yaml_node *n, void *base)
{
	struct conf_log	*l = base;
	const char	*s = keys_scalar_text(n);
	char		*p;

	if (s != NULL && strcmp(s, "stdout") == 0) {
		keys_set_string(&l->access_log, NULL);
		return (0);
	}
	if (s != NULL && strcmp(s, "off") == 0) {
		keys_set_string(&l->access_log, xstrdup("off"));
		return (0);
	}
	if (keys_get_path(ctx, n, &p) == -1)
		return (-1);
	keys_set_string(&l->access_log, p);
	return (0);
}

/* log.error: PATH | stderr */
static int
fn_log_error(struct keys_ctx *ctx, const struct yaml_node *n, void *base)
{
	struct conf_log	*l = base;
	const char	*s = keys_scalar_text(n);
	char		*p;

	if (s != NULL && strcmp(s, "stderr") == 0) {
		keys_set_string(&l->error_log, NULL);
		return (0);
	}
	if (s != NULL && strcmp(s, "off") == 0) {
		keys_err(ctx, n, "the error log cannot be turned off; use "
		    "stderr or a file path");
		return (-1);
	}
	if (keys_get_path(ctx, n, &p) == -1)
		return (-1);
	keys_set_string(&l->error_log, p);
	return (0);
}

/* ------------------------------------------------------------------ */
/* The walk                                                            */
/* ------------------------------------------------------------------ */

/* Store an integer into a slot of 4 or 8 bytes (unsigned, int, enum,
 * size_t); the table's ranges keep values within the slot. */
static void
slot_store(void *slot, size_t size, uint64_t v)
{
	unsigned	 u;
	size_t		 z;

	if (size == sizeof(unsigned)) {
		u = (unsigned)v;
		memcpy(slot, &u, sizeof(u));
	} else if (size == sizeof(size_t)) {
		z = (size_t)v;
		memcpy(slot, &z, sizeof(z));
	} else
		abort();
}

/* The "expected ..." text of a row, for node-type mismatches. */
static void
row_expect(const struct keys_row *row, char *buf, size_t len)
{
	char	 list[100];

	switch (row->kind) {
	case KEYS_K_UINT:
		snprintf(buf, len, "a whole number from %llu to %llu",
		    (unsigned long long)row->min,
		    (unsigned long long)row->max);
		break;
	case KEYS_K_DURATION:
		snprintf(buf, len, "a duration such as 10s, 500ms, 2m or 1h");
		break;
	case KEYS_K_SIZE:
		snprintf(buf, len, "a size such as 8k, 16KiB, 1m or a number "
		    "of bytes");
		break;
	case KEYS_K_BOOL:
		snprintf(buf, len, "true or false");
		break;
	case KEYS_K_CHOICE:
		keys_fmt_choices(row->choices, ", ", " or ", list,
		    sizeof(list));
		snprintf(buf, len, "one of %s", list);
		break;
	case KEYS_K_STRING:
		snprintf(buf, len, "a string");
		break;
	case KEYS_K_PATH:
		snprintf(buf, len, "a file path");
		break;
	case KEYS_K_MAP:
		snprintf(buf, len, "a mapping");
		break;
	default:
		snprintf(buf, len, "%s", row->expect);
		break;
	}
}

/* Apply one row to node n; base is the scope's struct. */
static int
apply_row(struct keys_ctx *ctx, const struct keys_row *row,
    const struct yaml_node *n, void *base)
{
	char		 expect[160];
	char		*s;
	void		*slot = (char *)base + row->off;
	uint64_t	 v;
	int		 iv;

	if (n->kind != row->node) {
		row_expect(row, expect, sizeof(expect));
		keys_err_expected(ctx, n, expect);
		return (-1);
	}
	switch (row->kind) {
	case KEYS_K_UINT:
		if (keys_get_uint(ctx, n, row->min, row->max, &v) == -1)
			return (-1);
		slot_store(slot, row->size, v);
		return (0);
	case KEYS_K_DURATION:
		if (keys_get_duration(ctx, n, row->min, row->max, &v) == -1)
			return (-1);
		slot_store(slot, row->size, v);
		return (0);
	case KEYS_K_SIZE:
		if (keys_get_size(ctx, n, row->min, row->max, &v) == -1)
			return (-1);
		slot_store(slot, row->size, v);
		return (0);
	case KEYS_K_BOOL:
		if (keys_get_bool(ctx, n, &iv) == -1)
			return (-1);
		slot_store(slot, row->size, (uint64_t)iv);
		return (0);
	case KEYS_K_CHOICE:
		if (keys_get_choice(ctx, n, row->choices, &iv) == -1)
			return (-1);
		slot_store(slot, row->size, (uint64_t)iv);
		return (0);
	case KEYS_K_STRING:
		if (row->empty_ok && n->kind == YAML_KIND_SCALAR &&
		    keys_scalar_text(n) != NULL &&
		    keys_scalar_text(n)[0] == '\0') {
			keys_set_string(slot, xstrdup(""));
			return (0);
		}
		if (keys_get_string(ctx, n, &s) == -1)
			return (-1);
		keys_set_string(slot, s);
		return (0);
	case KEYS_K_PATH:
		if (keys_get_path(ctx, n, &s) == -1)
			return (-1);
		keys_set_string(slot, s);
		return (0);
	case KEYS_K_MAP:
		return (walk(ctx, row->sub, n, slot));
	default:
		return (row->fn(ctx, n, base));
	}
}

static const struct keys_row *
row_find(enum keys_scope scope, const char *name)
{
	size_t	 i;

	for (i = 0; i < NROWS; i++)
		if (keys_table[i].scope == scope &&
		    strcmp(keys_table[i].name, name) == 0)
			return (&keys_table[i]);
	return (NULL);
}

/*
 * Set the defaults of scope in base, recursing into nested sections.  A
 * default is applied exactly as if the user had written it, through a
 * stand-in scalar node, so --list-keys can never print a default the
 * loader would not accept.
 */
static int
defaults(struct keys_ctx *ctx, enum keys_scope scope, void *base)
{
	const struct keys_row	*row;
	struct yaml_node	 syn;
	char			 text[64];
	size_t			 i;
	int			 ret = 0;

	for (i = 0; i < NROWS; i++) {
		row = &keys_table[i];
		if (row->scope != scope)
			continue;
		if (row->kind == KEYS_K_MAP) {
			if (defaults(ctx, row->sub, (char *)base + row->off) ==
			    -1)
				ret = -1;
			continue;
		}
		if (row->def == NULL)
			continue;
		snprintf(text, sizeof(text), "%s", row->def);
		memset(&syn, 0, sizeof(syn));
		syn.kind = YAML_KIND_SCALAR;
		syn.str = text;
		syn.len = strlen(text);
		if (apply_row(ctx, row, &syn, base) == -1)
			ret = -1;
	}
	return (ret);
}

/* Apply each key of map within scope; report unknown and missing keys. */
static int
walk(struct keys_ctx *ctx, enum keys_scope scope, const struct yaml_node *map,
    void *base)
{
	const struct keys_row	*row;
	const struct yaml_pair	*p;
	size_t			 i, saved;
	int			 ret = 0;

	if (map == NULL)
		return (0);
	if (map->kind != YAML_KIND_MAP) {
		keys_err_expected(ctx, map, "a mapping");
		return (-1);
	}
	for (i = 0; i < map->n; i++) {
		p = &map->pairs[i];
		if ((row = row_find(scope, p->key->str)) == NULL) {
			keys_err(ctx, p->key, "unknown key '%.60s'",
			    p->key->str);
			ret = -1;
			continue;
		}
		saved = keys_where_key(ctx, row->name);
		if (apply_row(ctx, row, p->value, base) == -1)
			ret = -1;
		keys_where_pop(ctx, saved);
	}
	for (i = 0; i < NROWS; i++) {
		row = &keys_table[i];
		if (row->scope != scope || !row->required ||
		    yaml_map_get(map, row->name) != NULL)
			continue;
		keys_err(ctx, map, "missing required key '%s'", row->name);
		ret = -1;
	}
	return (ret);
}

/* Defaults, then the keys of map.  See keys.h. */
int
keys_apply(struct keys_ctx *ctx, enum keys_scope scope,
    const struct yaml_node *map, void *base)
{
	int	 ret = 0;

	if (defaults(ctx, scope, base) == -1)
		ret = -1;
	if (walk(ctx, scope, map, base) == -1)
		ret = -1;
	return (ret);
}

/* Print the table.  See keys.h. */
void
keys_print(FILE *fp)
{
	const struct keys_row	*row;
	const char		*type;
	char			 name[80], choices[100];
	size_t			 i;

	for (i = 0; i < NROWS; i++) {
		row = &keys_table[i];
		if (row->scope == KEYS_SCOPE_GLOBAL)
			snprintf(name, sizeof(name), "%s", row->name);
		else
			snprintf(name, sizeof(name), "%s.%s",
			    scope_names[row->scope], row->name);
		type = row->type;
		if (type == NULL) {
			switch (row->kind) {
			case KEYS_K_UINT:
				type = "integer";
				break;
			case KEYS_K_DURATION:
				type = "duration";
				break;
			case KEYS_K_SIZE:
				type = "size";
				break;
			case KEYS_K_BOOL:
				type = "bool";
				break;
			case KEYS_K_CHOICE:
				keys_fmt_choices(row->choices, "|", "|",
				    choices, sizeof(choices));
				type = choices;
				break;
			case KEYS_K_PATH:
				type = "path";
				break;
			case KEYS_K_MAP:
				type = "mapping";
				break;
			default:
				type = "string";
				break;
			}
		}
		fprintf(fp, "%s\t%s\t%s\t%s\n", name, type,
		    row->def ? row->def : "-", row->desc);
	}
}
