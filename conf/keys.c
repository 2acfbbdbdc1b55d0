/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * The directive table: one row per config key, naming its scope, the YAML
 * node type it takes, how its value is read (a generic typed slot setter
 * located with offsetof, or a handler), its default and a one-line
 * description.  The same table drives loading, the defaults, unknown-key
 * errors and `gridfront --list-keys`, so they cannot drift apart.  The
 * handlers here check each value at its node (syntax, range, regex,
 * URL, CIDR) and resolve addresses; checks that need the whole file are
 * conf.c's semantic pass.  Nothing here logs: every problem becomes a
 * located conf error and the walk goes on.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <netdb.h>
#include <regex.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "base/xalloc.h"
#include "conf/conf.h"
#include "conf/errs.h"
#include "conf/keys.h"
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
};

/* Choice lists; the index of a name is the value stored. */
static const char *const auth_choices[] = { "cert", "optional", "none",
	NULL };
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
static int	fn_routes(struct keys_ctx *, const struct yaml_node *, void *);
static int	fn_listen_address(struct keys_ctx *, const struct yaml_node *,
		    void *);
static int	fn_tls(struct keys_ctx *, const struct yaml_node *, void *);
static int	fn_route_path(struct keys_ctx *, const struct yaml_node *,
		    void *);
static int	fn_rewrite(struct keys_ctx *, const struct yaml_node *,
		    void *);
static int	fn_backends(struct keys_ctx *, const struct yaml_node *,
		    void *);
static int	fn_require_fqan(struct keys_ctx *, const struct yaml_node *,
		    void *);
static int	fn_allow_from(struct keys_ctx *, const struct yaml_node *,
		    void *);
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
	  .node = YAML_KIND_SEQ, .kind = KEYS_K_FN, .fn = fn_routes,
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

	/* routes: [ {...} ] */
	{ .name = "path", .scope = KEYS_SCOPE_ROUTE,
	  .node = YAML_KIND_SCALAR, .kind = KEYS_K_FN, .fn = fn_route_path,
	  .required = 1, .type = "prefix|^regex",
	  .expect = "a path prefix starting with '/' or a regular "
	  "expression starting with '^'",
	  .desc = "Prefix matched at a segment boundary, or a POSIX "
	  "extended regex when it starts with ^." },
	{ .name = "rewrite", .scope = KEYS_SCOPE_ROUTE,
	  .node = YAML_KIND_MAP, .kind = KEYS_K_FN, .fn = fn_rewrite,
	  .type = "mapping", .expect = "a mapping with from: and to:",
	  .desc = "Rewrite the upstream path: the first match of from is "
	  "replaced by to." },
	{ .name = "backends", .scope = KEYS_SCOPE_ROUTE,
	  .node = YAML_KIND_SEQ, .kind = KEYS_K_FN, .fn = fn_backends,
	  .required = 1, .type = "list of URLs",
	  .expect = "a list of http://host:port URLs",
	  .desc = "Backends, used round-robin; resolved at load." },
	{ .name = "auth", .scope = KEYS_SCOPE_ROUTE,
	  .node = YAML_KIND_SCALAR, .kind = KEYS_K_CHOICE,
	  SLOT(struct conf_route, auth), .choices = auth_choices,
	  .def = "cert",
	  .desc = "cert: a CRIC user's valid certificate is required; "
	  "optional: identity if offered; none: no identity headers." },
	R_BOOL(KEYS_SCOPE_ROUTE, struct conf_route, allow_limited_proxy,
	    "Accept RFC 3820 limited proxies on this route."),
	{ .name = "require_fqan", .scope = KEYS_SCOPE_ROUTE,
	  .node = YAML_KIND_SEQ, .kind = KEYS_K_FN, .fn = fn_require_fqan,
	  .type = "list of FQANs",
	  .expect = "a list of VOMS FQANs such as /cms/Role=production",
	  .desc = "Require one of these VOMS FQANs (any one suffices)." },
	{ .name = "allow_from", .scope = KEYS_SCOPE_ROUTE,
	  .node = YAML_KIND_SEQ, .kind = KEYS_K_FN, .fn = fn_allow_from,
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
/* Errors and the YAML path                                           */
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
}

/* Append ".key" (or "key" at the top) to the YAML path.  See keys.h. */
size_t
keys_where_key(struct keys_ctx *ctx, const char *key)
{
	size_t	 old = ctx->wherelen;

	snprintf(ctx->where + old, sizeof(ctx->where) - old, "%s%s",
	    old ? "." : "", key);
	ctx->wherelen = strlen(ctx->where);
	return (old);
}

/* Append "[index]" to the YAML path.  See keys.h. */
size_t
keys_where_index(struct keys_ctx *ctx, size_t index)
{
	size_t	 old = ctx->wherelen;

	snprintf(ctx->where + old, sizeof(ctx->where) - old, "[%zu]", index);
	ctx->wherelen = strlen(ctx->where);
	return (old);
}

/* Cut the YAML path back to len bytes.  See keys.h. */
void
keys_where_pop(struct keys_ctx *ctx, size_t len)
{
	ctx->wherelen = len;
	ctx->where[len] = '\0';
}

/* Append an error at n, prefixed by the YAML path.  See keys.h. */
void
keys_err(struct keys_ctx *ctx, const struct yaml_node *n, const char *fmt,
    ...)
{
	char		 msg[256];
	const char	*file;
	va_list		 ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* Default values are parsed from synthetic nodes with no file. */
	file = (n != NULL && n->file != NULL) ? n->file : ctx->conf->path;
	if (ctx->wherelen > 0)
		conf_errs_add(ctx->errs, file, n ? n->line : 0,
		    n ? n->col : 0, "%s: %s", ctx->where, msg);
	else
		conf_errs_add(ctx->errs, file, n ? n->line : 0,
		    n ? n->col : 0, "%s", msg);
}

static const char auth_none_pointless[] =
    "has no effect with 'auth: none'; remove it or change auth";
static const char auth_optional_fqan[] =
    "cannot be enforced with 'auth: optional': a client without a "
    "certificate gets through; use 'auth: cert'";

/*
 * Report msg at the value of key in the mapping map, with key appended to
 * the YAML path for the message: for checks that look at two keys of one
 * item after both were applied.
 */
static void
err_at_key(struct keys_ctx *ctx, const struct yaml_node *map,
    const char *key, const char *msg)
{
	size_t	 saved = keys_where_key(ctx, key);

	keys_err(ctx, yaml_map_get(map, key), "%s", msg);
	keys_where_pop(ctx, saved);
}

/* The scalar text of n for quoting in messages, or NULL if n is none. */
static const char *
scalar_text(const struct yaml_node *n)
{
	if (n == NULL || n->kind != YAML_KIND_SCALAR || n->is_null)
		return (NULL);
	return (n->str);
}

/* Report "expected <what>, got ..." at n. */
static void
err_expected(struct keys_ctx *ctx, const struct yaml_node *n,
    const char *what)
{
	const char	*s = scalar_text(n);

	if (s != NULL)
		keys_err(ctx, n, "expected %s, got '%.60s'", what, s);
	else
		keys_err(ctx, n, "expected %s, got %s", what,
		    yaml_node_what(n));
}

/* ------------------------------------------------------------------ */
/* Value parsers                                                       */
/* ------------------------------------------------------------------ */

/* Parse leading decimal digits of s; *end is set past them.  At least one
 * digit, no sign, no overflow. */
static int
parse_digits(const char *s, uint64_t *v, const char **end)
{
	uint64_t	 x = 0;
	const char	*p;

	for (p = s; *p >= '0' && *p <= '9'; p++) {
		if (x > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			return (-1);
		x = x * 10 + (uint64_t)(*p - '0');
	}
	if (p == s)
		return (-1);
	*v = x;
	*end = p;
	return (0);
}

/* Parse a duration into milliseconds.  See keys.h. */
int
keys_parse_duration(const char *s, uint64_t *ms)
{
	static const struct {
		const char	*unit;
		uint64_t	 mult;
	} units[] = {
		{ "", 1000 },		/* a plain number is seconds */
		{ "ms", 1 },
		{ "s", 1000 },
		{ "m", (uint64_t)60 * 1000 },
		{ "h", (uint64_t)3600 * 1000 },
	};
	const char	*end;
	uint64_t	 v;
	size_t		 i;

	if (parse_digits(s, &v, &end) == -1)
		return (-1);
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].unit) != 0)
			continue;
		if (v > UINT64_MAX / units[i].mult)
			return (-1);
		*ms = v * units[i].mult;
		return (0);
	}
	return (-1);
}

/* Parse a size into bytes.  See keys.h. */
int
keys_parse_size(const char *s, uint64_t *bytes)
{
	static const struct {
		const char	*unit;
		uint64_t	 mult;
	} units[] = {
		{ "", 1 }, { "b", 1 },
		{ "k", 1ull << 10 }, { "kb", 1ull << 10 },
		{ "kib", 1ull << 10 },
		{ "m", 1ull << 20 }, { "mb", 1ull << 20 },
		{ "mib", 1ull << 20 },
		{ "g", 1ull << 30 }, { "gb", 1ull << 30 },
		{ "gib", 1ull << 30 },
	};
	const char	*end;
	uint64_t	 v;
	size_t		 i;

	if (parse_digits(s, &v, &end) == -1)
		return (-1);
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcasecmp(end, units[i].unit) != 0)
			continue;
		if (v > UINT64_MAX / units[i].mult)
			return (-1);
		*bytes = v * units[i].mult;
		return (0);
	}
	return (-1);
}

/* Write ms in the largest unit that divides it: "168h", "90s", "1500ms". */
static void
fmt_duration(uint64_t ms, char *buf, size_t len)
{
	if (ms != 0 && ms % 3600000 == 0)
		snprintf(buf, len, "%lluh", (unsigned long long)(ms / 3600000));
	else if (ms != 0 && ms % 60000 == 0)
		snprintf(buf, len, "%llum", (unsigned long long)(ms / 60000));
	else if (ms != 0 && ms % 1000 == 0)
		snprintf(buf, len, "%llus", (unsigned long long)(ms / 1000));
	else
		snprintf(buf, len, "%llums", (unsigned long long)ms);
}

/* Write bytes in the largest binary unit that divides it: "64k", "300". */
static void
fmt_size(uint64_t b, char *buf, size_t len)
{
	if (b != 0 && b % (1ull << 30) == 0)
		snprintf(buf, len, "%llug", (unsigned long long)(b >> 30));
	else if (b != 0 && b % (1ull << 20) == 0)
		snprintf(buf, len, "%llum", (unsigned long long)(b >> 20));
	else if (b != 0 && b % (1ull << 10) == 0)
		snprintf(buf, len, "%lluk", (unsigned long long)(b >> 10));
	else
		snprintf(buf, len, "%llu", (unsigned long long)b);
}

/* Read an unsigned integer.  See keys.h. */
int
keys_get_uint(struct keys_ctx *ctx, const struct yaml_node *n, uint64_t min,
    uint64_t max, uint64_t *v)
{
	char		 what[80];
	const char	*s = scalar_text(n), *end;
	uint64_t	 x;

	snprintf(what, sizeof(what), "a whole number from %llu to %llu",
	    (unsigned long long)min, (unsigned long long)max);
	if (s == NULL || parse_digits(s, &x, &end) == -1 || *end != '\0' ||
	    x < min || x > max) {
		err_expected(ctx, n, what);
		return (-1);
	}
	*v = x;
	return (0);
}

/* Read a duration.  See keys.h. */
int
keys_get_duration(struct keys_ctx *ctx, const struct yaml_node *n,
    uint64_t min, uint64_t max, uint64_t *ms)
{
	char		 lim[32];
	const char	*s = scalar_text(n);
	uint64_t	 x;

	if (s == NULL || keys_parse_duration(s, &x) == -1) {
		err_expected(ctx, n, "a duration such as 10s, 500ms, 2m or 1h");
		return (-1);
	}
	if (x < min) {
		fmt_duration(min, lim, sizeof(lim));
		keys_err(ctx, n, "'%s' is too short: the minimum is %s", s,
		    lim);
		return (-1);
	}
	if (x > max) {
		fmt_duration(max, lim, sizeof(lim));
		keys_err(ctx, n, "'%s' is too long: the maximum is %s", s,
		    lim);
		return (-1);
	}
	*ms = x;
	return (0);
}

/* Read a size.  See keys.h. */
int
keys_get_size(struct keys_ctx *ctx, const struct yaml_node *n, uint64_t min,
    uint64_t max, uint64_t *bytes)
{
	char		 lim[32];
	const char	*s = scalar_text(n);
	uint64_t	 x;

	if (s == NULL || keys_parse_size(s, &x) == -1) {
		err_expected(ctx, n, "a size such as 8k, 16KiB, 1m or a number "
		    "of bytes");
		return (-1);
	}
	if (x < min) {
		fmt_size(min, lim, sizeof(lim));
		keys_err(ctx, n, "'%s' is too small: the minimum is %s", s,
		    lim);
		return (-1);
	}
	if (x > max) {
		fmt_size(max, lim, sizeof(lim));
		keys_err(ctx, n, "'%s' is too large: the maximum is %s", s,
		    lim);
		return (-1);
	}
	*bytes = x;
	return (0);
}

/* Read a boolean.  See keys.h. */
int
keys_get_bool(struct keys_ctx *ctx, const struct yaml_node *n, int *v)
{
	static const char *const yes[] = { "true", "yes", "on", NULL };
	static const char *const no[] = { "false", "no", "off", NULL };
	const char	*s = scalar_text(n);
	size_t		 i;

	for (i = 0; s != NULL && yes[i] != NULL; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*v = 1;
			return (0);
		}
		if (strcasecmp(s, no[i]) == 0) {
			*v = 0;
			return (0);
		}
	}
	err_expected(ctx, n, "true or false");
	return (-1);
}

/* Join choices as "a, b or c" into buf. */
static void
fmt_choices(const char *const *choices, const char *sep, const char *last,
    char *buf, size_t len)
{
	size_t	 i, used = 0;

	buf[0] = '\0';
	for (i = 0; choices[i] != NULL && used < len; i++) {
		snprintf(buf + used, len - used, "%s%s",
		    i == 0 ? "" : (choices[i + 1] == NULL ? last : sep),
		    choices[i]);
		used = strlen(buf);
	}
}

/* Read one of a fixed set of names.  See keys.h. */
int
keys_get_choice(struct keys_ctx *ctx, const struct yaml_node *n,
    const char *const *choices, int *v)
{
	char		 what[128], list[100];
	const char	*s = scalar_text(n);
	int		 i;

	for (i = 0; s != NULL && choices[i] != NULL; i++) {
		if (strcmp(s, choices[i]) == 0) {
			*v = i;
			return (0);
		}
	}
	fmt_choices(choices, ", ", " or ", list, sizeof(list));
	snprintf(what, sizeof(what), "one of %s", list);
	err_expected(ctx, n, what);
	return (-1);
}

/* Read a non-empty string without control characters into a new copy. */
static int
get_string(struct keys_ctx *ctx, const struct yaml_node *n, char **out)
{
	const char	*s = scalar_text(n), *p;

	if (s == NULL || *s == '\0') {
		err_expected(ctx, n, "a non-empty string");
		return (-1);
	}
	for (p = s; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			keys_err(ctx, n, "'%.60s' contains a control "
			    "character", s);
			return (-1);
		}
	}
	*out = xstrdup(s);
	return (0);
}

/* Read a file path; a relative one is made relative to the config file's
 * directory, so that the config works from any working directory. */
static int
get_path(struct keys_ctx *ctx, const struct yaml_node *n, char **out)
{
	char	*s, *p;
	size_t	 len;

	if (get_string(ctx, n, &s) == -1)
		return (-1);
	if (s[0] == '/' || ctx->dir == NULL) {
		*out = s;
		return (0);
	}
	len = strlen(ctx->dir) + 1 + strlen(s) + 1;
	p = xcalloc(1, len);
	snprintf(p, len, "%s/%s", ctx->dir, s);
	free(s);
	*out = p;
	return (0);
}

/* Replace the string in *slot, freeing the old one (a default, usually). */
static void
set_string(char **slot, char *s)
{
	free(*slot);
	*slot = s;
}

/* Parse CIDR or plain address.  See keys.h. */
int
keys_parse_cidr(const char *s, struct conf_cidr *out, char *err,
    size_t errlen)
{
	char		 buf[64], shown[INET6_ADDRSTRLEN];
	char		*slash;
	const char	*end;
	uint8_t		 addr[16];
	uint64_t	 prefix;
	size_t		 len;
	int		 family, maxbits, i;

	if ((len = strlen(s)) >= sizeof(buf)) {
		snprintf(err, errlen, "'%.40s...' is not an address", s);
		return (-1);
	}
	memcpy(buf, s, len + 1);
	if ((slash = strchr(buf, '/')) != NULL)
		*slash = '\0';

	memset(addr, 0, sizeof(addr));
	if (inet_pton(AF_INET, buf, addr) == 1) {
		family = AF_INET;
		maxbits = 32;
	} else if (inet_pton(AF_INET6, buf, addr) == 1) {
		family = AF_INET6;
		maxbits = 128;
	} else {
		snprintf(err, errlen, "'%s' is not an IPv4 or IPv6 address "
		    "or CIDR block", s);
		return (-1);
	}

	prefix = (uint64_t)maxbits;
	if (slash != NULL && (parse_digits(slash + 1, &prefix, &end) == -1 ||
	    *end != '\0' || prefix > (uint64_t)maxbits)) {
		snprintf(err, errlen, "'%s': the prefix length must be a "
		    "number from 0 to %d", s, maxbits);
		return (-1);
	}

	/*
	 * A v4-mapped block (::ffff:a.b.c.d/96 and longer) is an IPv4 block:
	 * route_addr_allowed() sees mapped peers as IPv4.
	 */
	if (family == AF_INET6 && prefix >= 96 &&
	    IN6_IS_ADDR_V4MAPPED((const struct in6_addr *)(void *)addr)) {
		memmove(addr, addr + 12, 4);
		memset(addr + 4, 0, 12);
		family = AF_INET;
		maxbits = 32;
		prefix -= 96;
	}

	/* Bits past the prefix must be zero: "10.0.0.1/8" is a typo more
	 * often than it is meant, so say so instead of masking silently. */
	for (i = (int)prefix; i < maxbits; i++) {
		if ((addr[i / 8] & (0x80 >> (i % 8))) == 0)
			continue;
		for (; i < maxbits; i++)
			addr[i / 8] &= (uint8_t)~(0x80 >> (i % 8));
		inet_ntop(family, addr, shown, sizeof(shown));
		snprintf(err, errlen, "'%s' has bits set past the /%d prefix; "
		    "did you mean %s/%d?", s, (int)prefix, shown,
		    (int)prefix);
		return (-1);
	}

	out->family = family;
	memcpy(out->addr, addr, sizeof(out->addr));
	out->prefix = (int)prefix;
	return (0);
}

/*
 * Split "host:port", "[v6]:port" into host (without brackets) and port.
 * Returns 0, or -1 with a reason in err.  *v6 tells whether brackets were
 * used.
 */
static int
split_hostport(const char *s, char *host, size_t hostlen, char *port,
    size_t portlen, int *v6, char *err, size_t errlen)
{
	const char	*h, *p, *close, *colon, *end;
	size_t		 hl, i;
	uint64_t	 pn;
	unsigned char	 tmp[16];

	*v6 = 0;
	if (s[0] == '[') {
		if ((close = strchr(s, ']')) == NULL) {
			snprintf(err, errlen, "missing ']' after the IPv6 "
			    "address");
			return (-1);
		}
		h = s + 1;
		hl = (size_t)(close - h);
		if (close[1] != ':') {
			snprintf(err, errlen, "missing ':port' after the "
			    "address");
			return (-1);
		}
		p = close + 2;
		*v6 = 1;
	} else {
		if ((colon = strrchr(s, ':')) == NULL) {
			snprintf(err, errlen, "missing ':port', e.g. "
			    "127.0.0.1:8080");
			return (-1);
		}
		h = s;
		hl = (size_t)(colon - s);
		if (memchr(h, ':', hl) != NULL) {
			snprintf(err, errlen, "an IPv6 address must be in "
			    "brackets, e.g. [::1]:8443");
			return (-1);
		}
		p = colon + 1;
	}
	if (hl == 0) {
		snprintf(err, errlen, "missing host before ':port'");
		return (-1);
	}
	if (hl >= hostlen) {
		snprintf(err, errlen, "host name too long");
		return (-1);
	}
	memcpy(host, h, hl);
	host[hl] = '\0';
	if (*v6) {
		if (inet_pton(AF_INET6, host, tmp) != 1) {
			snprintf(err, errlen, "'%s' is not an IPv6 address",
			    host);
			return (-1);
		}
	} else {
		for (i = 0; i < hl; i++) {
			if (isalnum((unsigned char)host[i]) || host[i] == '.' ||
			    host[i] == '-' || host[i] == '_')
				continue;
			snprintf(err, errlen, "'%c' is not allowed in a host "
			    "name", host[i]);
			return (-1);
		}
	}
	if (parse_digits(p, &pn, &end) == -1 || *end != '\0' || pn < 1 ||
	    pn > 65535 || strlen(p) >= portlen) {
		snprintf(err, errlen, "the port must be a number from 1 to "
		    "65535");
		return (-1);
	}
	/* Fits: strlen(p) < portlen was checked above. */
	memcpy(port, p, strlen(p) + 1);
	return (0);
}

/* Resolve host and port to the first address getaddrinfo() gives.  Literal
 * addresses never touch DNS. */
static int
resolve(const char *host, const char *port, int v6,
    struct sockaddr_storage *ss, socklen_t *sslen, char *err, size_t errlen)
{
	struct addrinfo	 hints, *res = NULL;
	unsigned char	 tmp[16];
	int		 rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = v6 ? AF_INET6 : AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if (v6 || inet_pton(AF_INET, host, tmp) == 1)
		hints.ai_flags |= AI_NUMERICHOST;
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
		snprintf(err, errlen, "cannot resolve '%s': %s", host,
		    gai_strerror(rc));
		return (-1);
	}
	if (res->ai_addrlen > sizeof(*ss)) {
		freeaddrinfo(res);
		snprintf(err, errlen, "cannot resolve '%s'", host);
		return (-1);
	}
	memset(ss, 0, sizeof(*ss));
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*sslen = res->ai_addrlen;
	freeaddrinfo(res);
	return (0);
}

/* Read a "host:port" listening address into its three slots. */
static int
get_address(struct keys_ctx *ctx, const struct yaml_node *n, char **text,
    struct sockaddr_storage *ss, socklen_t *sslen)
{
	char	 host[256], port[8], why[160];
	int	 v6;

	if (scalar_text(n) == NULL) {
		err_expected(ctx, n, "host:port, e.g. 0.0.0.0:443");
		return (-1);
	}
	if (split_hostport(n->str, host, sizeof(host), port, sizeof(port),
	    &v6, why, sizeof(why)) == -1 ||
	    resolve(host, port, v6, ss, sslen, why, sizeof(why)) == -1) {
		keys_err(ctx, n, "'%.80s': %s", n->str, why);
		return (-1);
	}
	set_string(text, xstrdup(n->str));
	return (0);
}

/* Tell whether two listening addresses clash.  See keys.h. */
int
keys_addr_conflict(const struct sockaddr *a, const struct sockaddr *b)
{
	const struct sockaddr_in *a4, *b4;
	const struct sockaddr_in6 *a6, *b6;

	if (a->sa_family != b->sa_family)
		return (KEYS_ADDR_DISTINCT);
	if (a->sa_family == AF_INET) {
		a4 = (const struct sockaddr_in *)(const void *)a;
		b4 = (const struct sockaddr_in *)(const void *)b;
		if (a4->sin_port != b4->sin_port)
			return (KEYS_ADDR_DISTINCT);
		if (a4->sin_addr.s_addr == b4->sin_addr.s_addr)
			return (KEYS_ADDR_SAME);
		if (a4->sin_addr.s_addr == htonl(INADDR_ANY) ||
		    b4->sin_addr.s_addr == htonl(INADDR_ANY))
			return (KEYS_ADDR_OVERLAP);
		return (KEYS_ADDR_DISTINCT);
	}
	if (a->sa_family == AF_INET6) {
		a6 = (const struct sockaddr_in6 *)(const void *)a;
		b6 = (const struct sockaddr_in6 *)(const void *)b;
		if (a6->sin6_port != b6->sin6_port)
			return (KEYS_ADDR_DISTINCT);
		if (memcmp(&a6->sin6_addr, &b6->sin6_addr,
		    sizeof(a6->sin6_addr)) == 0)
			return (KEYS_ADDR_SAME);
		if (IN6_IS_ADDR_UNSPECIFIED(&a6->sin6_addr) ||
		    IN6_IS_ADDR_UNSPECIFIED(&b6->sin6_addr))
			return (KEYS_ADDR_OVERLAP);
	}
	return (KEYS_ADDR_DISTINCT);
}

/* ------------------------------------------------------------------ */
/* Handlers                                                            */
/* ------------------------------------------------------------------ */

/* workers: auto | 1..256 */
static int
fn_workers(struct keys_ctx *ctx, const struct yaml_node *n, void *base)
{
	struct conf	*c = base;
	const char	*s = scalar_text(n), *end;
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
	if (s == NULL || parse_digits(s, &v, &end) == -1 || *end != '\0' ||
	    v < 1 || v > KEYS_WORKERS_MAX) {
		err_expected(ctx, n, "auto or a whole number from 1 to 256");
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
			err_expected(ctx, item, "a listener (a mapping with "
			    "address:)");
			ret = -1;
			keys_where_pop(ctx, saved);
			continue;
		}
		if (keys_apply(ctx, KEYS_SCOPE_LISTEN, item, l) == -1)
			ret = -1;
		if (l->tls && l->redirect_https) {
			err_at_key(ctx, item, "redirect_https", "only a "
			    "plain-HTTP listener can redirect to https; this "
			    "one has tls:");
			ret = -1;
		}
		if (!l->redirect_https &&
		    yaml_map_get(item, "https_port") != NULL) {
			err_at_key(ctx, item, "https_port", "has no effect "
			    "without redirect_https: true; remove it");
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

	return (get_address(ctx, n, &l->address, &l->addr, &l->addrlen));
}

/* listen[].tls: {certificate, key} */
static int
fn_tls(struct keys_ctx *ctx, const struct yaml_node *n, void *base)
{
	struct conf_listener *l = base;

	l->tls = 1;
	return (walk(ctx, KEYS_SCOPE_LISTEN_TLS, n, l));
}

/*
 * glibc's regcomp() is exponential in stacked quantifiers ("a+++++...")
 * and in large repetition counts: a typo in a route could hang -t or eat
 * the node's memory on reload.  Refuse those shapes (and anything over
 * 1 KiB) before compiling.  Returns 0, or -1 with the reason in why.
 */
static int
regex_sane(const char *re, char *why, size_t whylen)
{
	const char	*p;
	int		 prev_quant = 0, esc = 0, inclass = 0;
	long		 bound;

	if (strlen(re) > 1024) {
		snprintf(why, whylen, "regular expression longer than 1024 "
		    "bytes");
		return (-1);
	}
	for (p = re; *p != '\0'; p++) {
		if (esc) {
			esc = 0;
			prev_quant = 0;
			continue;
		}
		if (inclass) {
			if (*p == ']')
				inclass = 0;
			continue;
		}
		switch (*p) {
		case '\\':
			esc = 1;
			break;
		case '[':
			inclass = 1;
			if (p[1] == ']')
				p++;
			else if (p[1] == '^' && p[2] == ']')
				p += 2;
			prev_quant = 0;
			break;
		case '*':
		case '+':
		case '?':
			if (prev_quant) {
				snprintf(why, whylen, "a quantifier directly "
				    "after another (as in \"a++\") is refused");
				return (-1);
			}
			prev_quant = 1;
			break;
		case '{':
			if (prev_quant) {
				snprintf(why, whylen, "a quantifier directly "
				    "after another is refused");
				return (-1);
			}
			for (p++; *p != '\0' && *p != '}'; p++) {
				if (*p >= '0' && *p <= '9') {
					bound = strtol(p, (char **)(uintptr_t)&p,
					    10);
					p--;
					if (bound > 255) {
						snprintf(why, whylen, "repetition "
						    "bound %ld is over 255", bound);
						return (-1);
					}
				}
			}
			if (*p == '\0')
				return (0);	/* regcomp reports it */
			prev_quant = 1;
			break;
		default:
			prev_quant = 0;
			break;
		}
	}
	return (0);
}

/*
 * The literal text every match of an anchored regex path starts with,
 * as a length into re + 1 ("^/couchdb/(.*)" -> 9, "/couchdb/").  route_match
 * compares it before calling regexec().  Zero when unsure: alternation
 * anywhere, or a quantifier that makes the last literal optional.
 */
static size_t
regex_literal_prefix(const char *re)
{
	size_t	 n;

	if (re[0] != '^' || strchr(re, '|') != NULL)
		return (0);
	re++;
	n = strcspn(re, ".[]()*+?{}|^$\\");
	if (n > 0 && (re[n] == '*' || re[n] == '?' || re[n] == '{'))
		n--;
	return (n);
}

/* True when a prefix path has segments a normalised request never has. */
static int
path_unnormalised(const char *p)
{
	size_t	 len = strlen(p);

	return (strstr(p, "//") != NULL || strstr(p, "/./") != NULL ||
	    strstr(p, "/../") != NULL ||
	    (len >= 2 && strcmp(p + len - 2, "/.") == 0) ||
	    (len >= 3 && strcmp(p + len - 3, "/..") == 0));
}

/* routes[].path: "/prefix/" or "^regex" */
static int
fn_route_path(struct keys_ctx *ctx, const struct yaml_node *n, void *base)
{
	struct conf_route *r = base;
	char		 msg[160];
	char		*s;
	int		 rc;

	if (get_string(ctx, n, &s) == -1)
		return (-1);
	set_string(&r->path, s);
	r->pathlen = strlen(s);

	/* The name is for logs and metric labels: the path, shortened. */
	if (r->pathlen < sizeof(r->name))
		memcpy(r->name, s, r->pathlen + 1);
	else {
		memcpy(r->name, s, sizeof(r->name) - 4);
		memcpy(r->name + sizeof(r->name) - 4, "...", 4);
	}

	if (s[0] == '^') {
		if (regex_sane(s, msg, sizeof(msg)) == -1) {
			keys_err(ctx, n, "'%.80s': %s", s, msg);
			return (-1);
		}
		/* REG_NOSUB: matching needs a yes or no, not the groups. */
		if ((rc = regcomp(&r->re, s, REG_EXTENDED | REG_NOSUB)) != 0) {
			regerror(rc, &r->re, msg, sizeof(msg));
			keys_err(ctx, n, "'%.80s' is not a valid regular "
			    "expression: %s", s, msg);
			return (-1);
		}
		/* is_regex doubles as "re is compiled" for conf_put(). */
		r->is_regex = 1;
		r->re_litlen = regex_literal_prefix(s);
		return (0);
	}
	if (s[0] != '/') {
		keys_err(ctx, n, "'%.80s' must start with '/' (a prefix) or "
		    "'^' (a regular expression)", s);
		return (-1);
	}
	if (path_unnormalised(s)) {
		keys_err(ctx, n, "'%.80s' can never match: request paths are "
		    "normalised, without '//', '.' or '..' segments", s);
		return (-1);
	}
	return (0);
}

/* Check rewrite.to against a from regex with nsub groups. */
static int
check_rewrite_to(struct keys_ctx *ctx, const struct yaml_node *n,
    const char *from, const char *to, size_t nsub)
{
	const char	*p;
	int		 d;

	if (strchr(to, ' ') != NULL) {
		keys_err(ctx, n, "'%.80s' must not contain spaces", to);
		return (-1);
	}
	/* An anchored from replaces the start of the path, so the result
	 * starts with to; it must still look like a path. */
	if (from[0] == '^' && to[0] != '/' && to[0] != '$') {
		keys_err(ctx, n, "'%.80s' must start with '/': it replaces "
		    "the start of the path", to);
		return (-1);
	}
	for (p = to; *p != '\0'; p++) {
		if (*p != '$')
			continue;
		if (p[1] == '$') {
			p++;
			continue;
		}
		if (p[1] < '1' || p[1] > '9') {
			keys_err(ctx, n, "'$' must be followed by a digit 1-9, "
			    "or doubled ('$$') for a literal '$'");
			return (-1);
		}
		d = p[1] - '0';
		if ((size_t)d > nsub) {
			keys_err(ctx, n, "'%.80s' uses $%d but rewrite.from "
			    "has %zu capture group%s", to, d, nsub,
			    nsub == 1 ? "" : "s");
			return (-1);
		}
		p++;
	}
	return (0);
}

/* routes[].rewrite: {from: REGEX, to: REPLACEMENT} */
static int
fn_rewrite(struct keys_ctx *ctx, const struct yaml_node *n, void *base)
{
	struct conf_route	*r = base;
	const struct yaml_node	*from, *to;
	char			 msg[160];
	size_t			 saved;
	int			 rc, ret;

	if (walk(ctx, KEYS_SCOPE_ROUTE_REWRITE, n, r) == -1 ||
	    r->rewrite_from == NULL || r->rewrite_to == NULL)
		return (-1);
	from = yaml_map_get(n, "from");
	to = yaml_map_get(n, "to");

	saved = keys_where_key(ctx, "from");
	if (regex_sane(r->rewrite_from, msg, sizeof(msg)) == -1) {
		keys_err(ctx, from, "'%.80s': %s", r->rewrite_from, msg);
		keys_where_pop(ctx, saved);
		return (-1);
	}
	rc = regcomp(&r->rewrite_re, r->rewrite_from, REG_EXTENDED);
	if (rc != 0) {
		regerror(rc, &r->rewrite_re, msg, sizeof(msg));
		keys_err(ctx, from, "'%.80s' is not a valid regular "
		    "expression: %s", r->rewrite_from, msg);
	}
	keys_where_pop(ctx, saved);
	if (rc != 0)
		return (-1);
	/* has_rewrite doubles as "rewrite_re is compiled" for conf_put(). */
	r->has_rewrite = 1;

	saved = keys_where_key(ctx, "to");
	ret = check_rewrite_to(ctx, to, r->rewrite_from, r->rewrite_to,
	    r->rewrite_re.re_nsub);
	keys_where_pop(ctx, saved);
	return (ret);
}

/* Parse one backend URL; returns the shared backend or NULL (reported). */
static struct conf_backend *
backend_get(struct keys_ctx *ctx, const struct yaml_node *n)
{
	struct conf		*c = ctx->conf;
	struct conf_backend	*b;
	char			 host[256], port[8], why[160];
	const char		*s = scalar_text(n), *hp;
	size_t			 i, hl;
	int			 v6;

	if (s == NULL) {
		err_expected(ctx, n, "an http://host:port URL");
		return (NULL);
	}
	/* Identical URLs share one backend (and so one pool and one
	 * health state). */
	for (i = 0; i < c->nbackends; i++)
		if (strcmp(c->backends[i].url, s) == 0)
			return (&c->backends[i]);

	if (strncasecmp(s, "https://", 8) == 0) {
		keys_err(ctx, n, "'%.80s': only http:// backends are "
		    "supported", s);
		return (NULL);
	}
	if (strncmp(s, "http://", 7) != 0) {
		keys_err(ctx, n, "'%.80s' is not an http://host:port URL", s);
		return (NULL);
	}
	hp = s + 7;
	if (strpbrk(hp, "/?#@") != NULL) {
		keys_err(ctx, n, "'%.80s': a backend URL has no path, query "
		    "or user part; write http://host:port", s);
		return (NULL);
	}
	if (split_hostport(hp, host, sizeof(host), port, sizeof(port), &v6,
	    why, sizeof(why)) == -1) {
		keys_err(ctx, n, "'%.80s': %s", s, why);
		return (NULL);
	}

	/* fn_routes sized the array for every URL in the file, so the
	 * pointers routes keep into it never move. */
	if (c->nbackends >= ctx->backends_cap)
		abort();
	b = &c->backends[c->nbackends];
	if (resolve(host, port, v6, &b->addr, &b->addrlen, why,
	    sizeof(why)) == -1) {
		keys_err(ctx, n, "'%.80s': %s", s, why);
		return (NULL);
	}
	b->id = (unsigned)c->nbackends;
	b->url = xstrdup(s);
	/* The host as written ("[::1]" keeps its brackets) suits Host:. */
	hl = v6 ? strlen(host) + 2 : strlen(host);
	b->host = xcalloc(1, hl + 1);
	memcpy(b->host, v6 ? hp : host, hl);
	b->port = xstrdup(port);
	c->nbackends++;
	return (b);
}

/* routes[].backends: [http://host:port, ...] */
static int
fn_backends(struct keys_ctx *ctx, const struct yaml_node *n, void *base)
{
	struct conf_route	*r = base;
	struct conf_backend	*b;
	size_t			 i, j, saved;
	int			 ret = 0;

	if (n->n == 0) {
		keys_err(ctx, n, "expected a list of http://host:port URLs, "
		    "got an empty list");
		return (-1);
	}
	r->backends = xcalloc(n->n, sizeof(struct conf_backend *));
	for (i = 0; i < n->n; i++) {
		saved = keys_where_index(ctx, i);
		b = backend_get(ctx, n->items[i]);
		for (j = 0; b != NULL && j < r->nbackends; j++)
			if (r->backends[j] == b)
				break;
		if (b == NULL)
			ret = -1;
		else if (j < r->nbackends) {
			keys_err(ctx, n->items[i], "'%s' is listed twice in "
			    "this route", b->url);
			ret = -1;
		} else
			r->backends[r->nbackends++] = b;
		keys_where_pop(ctx, saved);
	}
	return (ret);
}

/* A list key must not be empty: "allow_from: []" reads as "nobody" to some
 * and "everybody" to others. */
static int
list_nonempty(struct keys_ctx *ctx, const struct yaml_node *n)
{
	if (n->n > 0)
		return (0);
	keys_err(ctx, n, "an empty list has no effect; remove the key");
	return (-1);
}

/* routes[].require_fqan: [/cms/Role=production, ...] */
static int
fn_require_fqan(struct keys_ctx *ctx, const struct yaml_node *n, void *base)
{
	struct conf_route	*r = base;
	char			*s;
	size_t			 i, saved;
	int			 ret = 0;

	if (list_nonempty(ctx, n) == -1)
		return (-1);
	r->require_fqan = xcalloc(n->n, sizeof(*r->require_fqan));
	for (i = 0; i < n->n; i++) {
		saved = keys_where_index(ctx, i);
		if (get_string(ctx, n->items[i], &s) == -1)
			ret = -1;
		else if (s[0] != '/') {
			keys_err(ctx, n->items[i], "'%.80s' is not an FQAN: "
			    "FQANs start with '/', e.g. /cms/Role=production",
			    s);
			free(s);
			ret = -1;
		} else
			r->require_fqan[r->nrequire_fqan++] = s;
		keys_where_pop(ctx, saved);
	}
	return (ret);
}

/* routes[].allow_from: [10.0.0.0/8, 2001:db8::/32, 192.0.2.7, ...] */
static int
fn_allow_from(struct keys_ctx *ctx, const struct yaml_node *n, void *base)
{
	struct conf_route	*r = base;
	char			 why[200];
	const char		*s;
	size_t			 i, saved;
	int			 ret = 0;

	if (list_nonempty(ctx, n) == -1)
		return (-1);
	r->allow_from = xcalloc(n->n, sizeof(*r->allow_from));
	for (i = 0; i < n->n; i++) {
		saved = keys_where_index(ctx, i);
		if ((s = scalar_text(n->items[i])) == NULL) {
			err_expected(ctx, n->items[i], "an address or CIDR "
			    "block such as 10.0.0.0/8");
			ret = -1;
		} else if (keys_parse_cidr(s, &r->allow_from[r->nallow_from],
		    why, sizeof(why)) == -1) {
			keys_err(ctx, n->items[i], "%s", why);
			ret = -1;
		} else
			r->nallow_from++;
		keys_where_pop(ctx, saved);
	}
	return (ret);
}

/* routes: [ {...}, ... ] */
static int
fn_routes(struct keys_ctx *ctx, const struct yaml_node *n, void *base)
{
	struct conf		*c = base;
	struct conf_route	*r;
	const struct yaml_node	*item, *v;
	size_t			 i, total, saved;
	int			 ret = 0;

	if (n->n == 0) {
		keys_err(ctx, n, "at least one route is required");
		return (-1);
	}
	/*
	 * Size conf->backends once for every URL the file names, so that
	 * routes can point into it while it fills up (deduplication only
	 * makes it emptier).
	 */
	total = 0;
	for (i = 0; i < n->n; i++) {
		v = yaml_map_get(n->items[i], "backends");
		if (v != NULL && v->kind == YAML_KIND_SEQ)
			total += v->n;
	}
	c->backends = xcalloc(total, sizeof(*c->backends));
	ctx->backends_cap = total;

	c->routes = xcalloc(n->n, sizeof(*c->routes));
	c->nroutes = n->n;
	for (i = 0; i < n->n; i++) {
		item = n->items[i];
		r = &c->routes[i];
		r->id = (unsigned)i;
		r->line = item->line;
		r->col = item->col;
		saved = keys_where_index(ctx, i);
		if (item->kind != YAML_KIND_MAP) {
			err_expected(ctx, item, "a route (a mapping with path: "
			    "and backends:)");
			ret = -1;
			keys_where_pop(ctx, saved);
			continue;
		}
		if (keys_apply(ctx, KEYS_SCOPE_ROUTE, item, r) == -1)
			ret = -1;
		/* Identity policy on a route that ignores identity is a
		 * misunderstanding worth stopping. */
		if (r->auth == CONF_AUTH_NONE && r->allow_limited_proxy) {
			err_at_key(ctx, item, "allow_limited_proxy",
			    auth_none_pointless);
			ret = -1;
		}
		if (r->auth == CONF_AUTH_NONE && r->nrequire_fqan > 0) {
			err_at_key(ctx, item, "require_fqan",
			    auth_none_pointless);
			ret = -1;
		}
		if (r->auth == CONF_AUTH_NONE &&
		    r->sign_as != CONF_SIGN_BYTES) {
			err_at_key(ctx, item, "sign_as", auth_none_pointless);
			ret = -1;
		}
		/* On an optional route a client without a certificate is let
		 * through, so a required role would stop only those with one. */
		if (r->auth == CONF_AUTH_OPTIONAL && r->nrequire_fqan > 0) {
			err_at_key(ctx, item, "require_fqan",
			    auth_optional_fqan);
			ret = -1;
		}
		keys_where_pop(ctx, saved);
	}
	return (ret);
}

/* admin.address */
static int
fn_admin_address(struct keys_ctx *ctx, const struct yaml_node *n,
    void *base)
{
	struct conf_admin *a = base;

	return (get_address(ctx, n, &a->address, &a->addr, &a->addrlen));
}

/* auth.trouble_url: a local path, because it is served by gridfront. */
static int
fn_trouble_url(struct keys_ctx *ctx, const struct yaml_node *n, void *base)
{
	struct conf_auth *a = base;
	char		*s;

	if (get_string(ctx, n, &s) == -1)
		return (-1);
	if (s[0] != '/' || strpbrk(s, " ?#") != NULL) {
		keys_err(ctx, n, "'%.80s' must be a URL path starting with "
		    "'/', without spaces, '?' or '#'", s);
		free(s);
		return (-1);
	}
	set_string(&a->trouble_url, s);
	return (0);
}

/* log.access: PATH | stdout | off */
static int
fn_log_access(struct keys_ctx *ctx, const struct yaml_node *n, void *base)
{
	struct conf_log	*l = base;
	const char	*s = scalar_text(n);
	char		*p;

	if (s != NULL && strcmp(s, "stdout") == 0) {
		set_string(&l->access_log, NULL);
		return (0);
	}
	if (s != NULL && strcmp(s, "off") == 0) {
		set_string(&l->access_log, xstrdup("off"));
		return (0);
	}
	if (get_path(ctx, n, &p) == -1)
		return (-1);
	set_string(&l->access_log, p);
	return (0);
}

/* log.error: PATH | stderr */
static int
fn_log_error(struct keys_ctx *ctx, const struct yaml_node *n, void *base)
{
	struct conf_log	*l = base;
	const char	*s = scalar_text(n);
	char		*p;

	if (s != NULL && strcmp(s, "stderr") == 0) {
		set_string(&l->error_log, NULL);
		return (0);
	}
	if (s != NULL && strcmp(s, "off") == 0) {
		keys_err(ctx, n, "the error log cannot be turned off; use "
		    "stderr or a file path");
		return (-1);
	}
	if (get_path(ctx, n, &p) == -1)
		return (-1);
	set_string(&l->error_log, p);
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
		fmt_choices(row->choices, ", ", " or ", list, sizeof(list));
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
		err_expected(ctx, n, expect);
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
		    scalar_text(n) != NULL && scalar_text(n)[0] == '\0') {
			set_string(slot, xstrdup(""));
			return (0);
		}
		if (get_string(ctx, n, &s) == -1)
			return (-1);
		set_string(slot, s);
		return (0);
	case KEYS_K_PATH:
		if (get_path(ctx, n, &s) == -1)
			return (-1);
		set_string(slot, s);
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
		err_expected(ctx, map, "a mapping");
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
				fmt_choices(row->choices, "|", "|", choices,
				    sizeof(choices));
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
