/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * Value readers of the directive engine: turn one YAML scalar into a
 * typed value (whole numbers, durations, sizes, booleans, choices,
 * strings, file paths, host:port addresses, CIDR blocks) and check
 * regular expressions before regcomp() sees them.  Each reader reports a
 * located "expected ..." error through the load context and stores
 * nothing on failure.  Knows no key names and no table: keys.c and
 * keys_route.c call these; the text parsers are also used by the tests.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <netdb.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/xalloc.h"
#include "conf/conf.h"
#include "conf/keys_ctx.h"
#include "conf/keys_value.h"
#include "conf/yaml.h"


/* Parse leading decimal digits of s; *end is set past them.  At least one
 * digit, no sign, no overflow. */
int
keys_parse_digits(const char *s, uint64_t *v, const char **end)
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

/* A unit suffix and what one of it is worth. */
struct unit {
	const char	*name;
	uint64_t	 mult;
};

/*
 * Parse digits followed by one of the n units (compared ignoring case
 * when nocase) into *out, refusing overflow.  Returns 0 or -1.
 */
static int
parse_units(const char *s, const struct unit *units, size_t n, int nocase,
    uint64_t *out)
{
	const char	*end;
	uint64_t	 v;
	size_t		 i;

	if (keys_parse_digits(s, &v, &end) == -1)
		return (-1);
	for (i = 0; i < n; i++) {
		if ((nocase ? strcasecmp(end, units[i].name) :
		    strcmp(end, units[i].name)) != 0)
			continue;
		if (v > UINT64_MAX / units[i].mult)
			return (-1);
		*out = v * units[i].mult;
		return (0);
	}
	return (-1);
}

/* Parse a duration into milliseconds.  See keys_value.h. */
int
keys_parse_duration(const char *s, uint64_t *ms)
{
	static const struct unit units[] = {
		{ "", 1000 },		/* a plain number is seconds */
		{ "ms", 1 },
		{ "s", 1000 },
		{ "m", (uint64_t)60 * 1000 },
		{ "h", (uint64_t)3600 * 1000 },
	};

	return (parse_units(s, units, sizeof(units) / sizeof(units[0]), 0,
	    ms));
}

/* Parse a size into bytes.  See keys_value.h. */
int
keys_parse_size(const char *s, uint64_t *bytes)
{
	static const struct unit units[] = {
		{ "", 1 }, { "b", 1 },
		{ "k", 1ull << 10 }, { "kb", 1ull << 10 },
		{ "kib", 1ull << 10 },
		{ "m", 1ull << 20 }, { "mb", 1ull << 20 },
		{ "mib", 1ull << 20 },
		{ "g", 1ull << 30 }, { "gb", 1ull << 30 },
		{ "gib", 1ull << 30 },
	};

	return (parse_units(s, units, sizeof(units) / sizeof(units[0]), 1,
	    bytes));
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

/* Read an unsigned integer.  See keys_value.h. */
int
keys_get_uint(struct keys_ctx *ctx, const struct yaml_node *n, uint64_t min,
    uint64_t max, uint64_t *v)
{
	char		 what[80];
	const char	*s = keys_scalar_text(n), *end;
	uint64_t	 x;

	snprintf(what, sizeof(what), "a whole number from %llu to %llu",
	    (unsigned long long)min, (unsigned long long)max);
	if (s == NULL || keys_parse_digits(s, &x, &end) == -1 || *end != '\0' ||
	    x < min || x > max) {
		keys_err_expected(ctx, n, what);
		return (-1);
	}
	*v = x;
	return (0);
}

/* A quantity with a unit: how to read it, print a limit, and say what
 * was expected and which way a value missed its range. */
struct quantity {
	int		(*parse)(const char *, uint64_t *);
	void		(*fmt)(uint64_t, char *, size_t);
	const char	*expected;
	const char	*below;		/* "too short", "too small" */
	const char	*above;
};

static const struct quantity q_duration = {
	keys_parse_duration, fmt_duration,
	"a duration such as 10s, 500ms, 2m or 1h", "too short", "too long"
};

static const struct quantity q_size = {
	keys_parse_size, fmt_size,
	"a size such as 8k, 16KiB, 1m or a number of bytes", "too small",
	"too large"
};

/* Read a quantity q into *v, within [min, max]; -1 after an error. */
static int
get_quantity(struct keys_ctx *ctx, const struct yaml_node *n,
    const struct quantity *q, uint64_t min, uint64_t max, uint64_t *v)
{
	char		 lim[32];
	const char	*s = keys_scalar_text(n);
	uint64_t	 x;

	if (s == NULL || q->parse(s, &x) == -1) {
		keys_err_expected(ctx, n, q->expected);
		return (-1);
	}
	if (x < min || x > max) {
		q->fmt(x < min ? min : max, lim, sizeof(lim));
		keys_err(ctx, n, "'%s' is %s: the %s is %s", s,
		    x < min ? q->below : q->above,
		    x < min ? "minimum" : "maximum", lim);
		return (-1);
	}
	*v = x;
	return (0);
}

/* Read a duration.  See keys_value.h. */
int
keys_get_duration(struct keys_ctx *ctx, const struct yaml_node *n,
    uint64_t min, uint64_t max, uint64_t *ms)
{
	return (get_quantity(ctx, n, &q_duration, min, max, ms));
}

/* Read a size.  See keys_value.h. */
int
keys_get_size(struct keys_ctx *ctx, const struct yaml_node *n, uint64_t min,
    uint64_t max, uint64_t *bytes)
{
	return (get_quantity(ctx, n, &q_size, min, max, bytes));
}

/* Read a boolean.  See keys_value.h. */
int
keys_get_bool(struct keys_ctx *ctx, const struct yaml_node *n, int *v)
{
	static const char *const yes[] = { "true", "yes", "on", NULL };
	static const char *const no[] = { "false", "no", "off", NULL };
	const char	*s = keys_scalar_text(n);
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
	keys_err_expected(ctx, n, "true or false");
	return (-1);
}

/* Join choices as "a, b or c" into buf. */
void
keys_fmt_choices(const char *const *choices, const char *sep, const char *last,
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

/* Read one of a fixed set of names.  See keys_value.h. */
int
keys_get_choice(struct keys_ctx *ctx, const struct yaml_node *n,
    const char *const *choices, int *v)
{
	char		 what[128], list[100];
	const char	*s = keys_scalar_text(n);
	int		 i;

	for (i = 0; s != NULL && choices[i] != NULL; i++) {
		if (strcmp(s, choices[i]) == 0) {
			*v = i;
			return (0);
		}
	}
	keys_fmt_choices(choices, ", ", " or ", list, sizeof(list));
	snprintf(what, sizeof(what), "one of %s", list);
	keys_err_expected(ctx, n, what);
	return (-1);
}

/* Read a non-empty string without control characters into a new copy. */
int
keys_get_string(struct keys_ctx *ctx, const struct yaml_node *n, char **out)
{
	const char	*s = keys_scalar_text(n), *p;

	if (s == NULL || *s == '\0') {
		keys_err_expected(ctx, n, "a non-empty string");
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
int
keys_get_path(struct keys_ctx *ctx, const struct yaml_node *n, char **out)
{
	char	*s, *p;
	size_t	 len;

	if (keys_get_string(ctx, n, &s) == -1)
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
void
keys_set_string(char **slot, char *s)
{
	free(*slot);
	*slot = s;
}

/* Parse CIDR or plain address.  See keys_value.h. */
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
	if (slash != NULL &&
	    (keys_parse_digits(slash + 1, &prefix, &end) == -1 ||
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
int
keys_split_hostport(const char *s, char *host, size_t hostlen, char *port,
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
	if (keys_parse_digits(p, &pn, &end) == -1 || *end != '\0' || pn < 1 ||
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
int
keys_resolve(const char *host, const char *port, int v6,
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
int
keys_get_address(struct keys_ctx *ctx, const struct yaml_node *n, char **text,
    struct sockaddr_storage *ss, socklen_t *sslen)
{
	char	 host[256], port[8], why[160];
	int	 v6;

	if (keys_scalar_text(n) == NULL) {
		keys_err_expected(ctx, n, "host:port, e.g. 0.0.0.0:443");
		return (-1);
	}
	if (keys_split_hostport(n->str, host, sizeof(host), port, sizeof(port),
	    &v6, why, sizeof(why)) == -1 ||
	    keys_resolve(host, port, v6, ss, sslen, why, sizeof(why)) == -1) {
		keys_err(ctx, n, "'%.80s': %s", n->str, why);
		return (-1);
	}
	keys_set_string(text, xstrdup(n->str));
	return (0);
}

/* Tell whether two listening addresses clash.  See keys_value.h. */
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

/*
 * glibc's regcomp() is exponential in stacked quantifiers ("a+++++...")
 * and in large repetition counts: a typo in a route could hang -t or eat
 * the node's memory on reload.  Refuse those shapes (and anything over
 * 1 KiB) before compiling.  Returns 0, or -1 with the reason in why.
 */
int
keys_regex_sane(const char *re, char *why, size_t whylen)
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
					bound = strtol(p,
					    (char **)(uintptr_t)&p, 10);
					p--;
					if (bound > 255) {
						snprintf(why, whylen,
						    "repetition bound %ld is "
						    "over 255", bound);
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
size_t
keys_regex_literal_prefix(const char *re)
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
