/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * Value readers of the directive engine (conf/keys_value.c): one YAML
 * scalar to one typed value, with a located error when it does not fit.
 * Used by the engine (keys.c), the route handlers (keys_route.c) and the
 * tests; knows no key names.  Internal to conf/.
 */

#ifndef CONF_KEYS_VALUE_H
#define CONF_KEYS_VALUE_H

#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

struct conf_cidr;
struct keys_ctx;
struct yaml_node;

/*
 * Typed readers.  Each checks that n is a scalar of the right shape and
 * range, stores the value and returns 0, or reports an error at n ("expected
 * ..., got ...") and returns -1 leaving *v untouched.
 *   uint:     decimal digits, min..max
 *   duration: "500ms", "10s", "2m", "1h", or digits (seconds) -> ms
 *   size:     digits with an optional k, m or g suffix (also kb/kib...,
 *             any case; all binary multiples) -> bytes
 *   bool:     true/false, yes/no, on/off, any case
 *   choice:   one of the NULL-terminated names; *v is the index
 */
int	 keys_get_uint(struct keys_ctx *ctx, const struct yaml_node *n,
	    uint64_t min, uint64_t max, uint64_t *v);
int	 keys_get_duration(struct keys_ctx *ctx, const struct yaml_node *n,
	    uint64_t min, uint64_t max, uint64_t *ms);
int	 keys_get_size(struct keys_ctx *ctx, const struct yaml_node *n,
	    uint64_t min, uint64_t max, uint64_t *bytes);
int	 keys_get_bool(struct keys_ctx *ctx, const struct yaml_node *n, int *v);
int	 keys_get_choice(struct keys_ctx *ctx, const struct yaml_node *n,
	    const char *const *choices, int *v);

/*
 * The text parsers behind the readers, for tests: return 0 and store the
 * value, or -1 on a malformed or overflowing value.
 */
int	 keys_parse_duration(const char *s, uint64_t *ms);
int	 keys_parse_size(const char *s, uint64_t *bytes);

/*
 * Parse "10.0.0.0/8", "2001:db8::/32" or a plain address (a /32 or /128)
 * into out.  A v4-mapped IPv6 block (::ffff:a.b.c.d/96+) becomes the IPv4
 * block.  Returns 0, or -1 with a reason in err (bad syntax, prefix out of
 * range, or bits set past the prefix).
 */
int	 keys_parse_cidr(const char *s, struct conf_cidr *out, char *err,
	    size_t errlen);

/* How two listening addresses relate (keys_addr_conflict). */
enum keys_addr_rel {
	KEYS_ADDR_DISTINCT = 0,	/* can both be bound */
	KEYS_ADDR_SAME,		/* same address and port */
	KEYS_ADDR_OVERLAP	/* same port, one is the wildcard address */
};

/*
 * Compare two resolved listening addresses (AF_INET or AF_INET6; anything
 * else is distinct).  Returns a keys_addr_rel value.
 */
int	 keys_addr_conflict(const struct sockaddr *a, const struct sockaddr *b);

/*
 * Parse the leading decimal digits of s (at least one; no sign) into *v
 * and set *end past them.  Returns 0, or -1 with *v and *end untouched
 * when there is no digit or the value overflows 64 bits.
 */
int	 keys_parse_digits(const char *s, uint64_t *v, const char **end);

/*
 * Join the NULL-terminated choices into buf as "a<sep>b<last>c", cut to
 * len bytes (always NUL-terminated).
 */
void	 keys_fmt_choices(const char *const *choices, const char *sep,
	    const char *last, char *buf, size_t len);

/*
 * Read a non-empty string without control characters.  On success *out
 * is a new copy the caller owns (free()); on failure the error is
 * reported at n and -1 returned.
 */
int	 keys_get_string(struct keys_ctx *ctx, const struct yaml_node *n,
	    char **out);

/*
 * Read a file path as keys_get_string() does; a relative one is made
 * relative to the config file's directory (ctx->dir), so the config works
 * from any working directory.  *out is the caller's.
 */
int	 keys_get_path(struct keys_ctx *ctx, const struct yaml_node *n,
	    char **out);

/* Store s (owned, may be NULL) in *slot, freeing what was there (usually a
 * default). */
void	 keys_set_string(char **slot, char *s);

/*
 * Split "host:port" or "[v6]:port" into host (without brackets) and port,
 * both NUL-terminated in the caller's buffers.  *v6 tells whether brackets
 * were used.  Returns 0, or -1 with a reason in err.
 */
int	 keys_split_hostport(const char *s, char *host, size_t hostlen,
	    char *port, size_t portlen, int *v6, char *err, size_t errlen);

/*
 * Resolve host and port to the first address getaddrinfo() gives, into
 * *ss and *sslen.  Literal addresses never touch DNS; v6 restricts to
 * IPv6.  Returns 0, or -1 with a reason in err.
 */
int	 keys_resolve(const char *host, const char *port, int v6,
	    struct sockaddr_storage *ss, socklen_t *sslen, char *err,
	    size_t errlen);

/*
 * Read a "host:port" listening address, resolved, into *ss and *sslen,
 * and its text into *text (a new copy replacing the old one; owned by
 * the conf).  Returns 0, or -1 with the error reported at n.
 */
int	 keys_get_address(struct keys_ctx *ctx, const struct yaml_node *n,
	    char **text, struct sockaddr_storage *ss, socklen_t *sslen);

/*
 * glibc's regcomp() is exponential in stacked quantifiers and large
 * repetition counts.  Returns 0 when re is safe to compile, or -1 with the
 * reason in why (over 1 KiB, a quantifier after a quantifier, a bound
 * over 255).
 */
int	 keys_regex_sane(const char *re, char *why, size_t whylen);

/*
 * Length of the literal text every match of the anchored regex re starts
 * with, counted from re + 1 ("^/couchdb/(.*)" -> 9); 0 when unsure.
 */
size_t	 keys_regex_literal_prefix(const char *re);

#endif /* CONF_KEYS_VALUE_H */
