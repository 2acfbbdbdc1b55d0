/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * The legacy host list of HostIP authentication: parse "<ip> <hostname>"
 * lines into an array sorted by (family, address) and answer "which entry
 * is this client address?" with a binary search.  A file with any line it
 * does not understand is refused as a whole, so that a typo never silently
 * grants or drops a host.  auth.c owns reloading and swapping, auth_host.c
 * the signed headers; this file neither logs nor sees a socket.
 */

#include <sys/socket.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/hosts.h"
#include "auth/linefile.h"

#define HOSTS_NAME_MAX	253	/* RFC 1035 2.3.4, as text */

struct hosts {
	struct hosts_entry *v;
	size_t		 n;
	size_t		 cap;
};

static size_t
hosts_alen(int family)
{
	return (family == AF_INET ? 4 : 16);
}

static int
hosts_cmp_cb(const void *a, const void *b)
{
	const struct hosts_entry *x = a, *y = b;

	if (x->family != y->family)
		return (x->family < y->family ? -1 : 1);
	return (memcmp(x->addr, y->addr, hosts_alen(x->family)));
}

static int
hosts_name_ok(const char *s)
{
	size_t	 n = 0;

	for (; *s != '\0'; s++, n++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' ||
		    *s == '.'))
			return (0);
	return (n > 0 && n <= HOSTS_NAME_MAX);
}

/*
 * Parse an address: IPv4 dotted quad or IPv6 text, no prefix, no zone.
 * An IPv4-mapped IPv6 address becomes IPv4, so that it matches a client
 * seen either way.  Returns 0, or -1.
 */
static int
hosts_parse_addr(const char *s, struct hosts_entry *e)
{
	struct in6_addr	 a6;

	memset(e->addr, 0, sizeof(e->addr));
	if (inet_pton(AF_INET, s, e->addr) == 1) {
		e->family = AF_INET;
		return (0);
	}
	if (inet_pton(AF_INET6, s, &a6) != 1)
		return (-1);
	if (IN6_IS_ADDR_V4MAPPED(&a6)) {
		e->family = AF_INET;
		memcpy(e->addr, (const unsigned char *)&a6 + 12, 4);
	} else {
		e->family = AF_INET6;
		memcpy(e->addr, &a6, 16);
	}
	return (0);
}

/*
 * Parse one line (NUL-terminated, newline removed) into h.  Returns 0, or
 * -1 with "path:lineno: reason" in err.
 */
static int
hosts_line(void *arg, char *line, const char *path, size_t lineno,
    char *err, size_t errlen)
{
	struct hosts	*h = arg;
	struct hosts_entry e, *nv;
	char		*ip, *name, *rest, txt[INET6_ADDRSTRLEN];
	size_t		 ncap;

	/* Split into blank-separated fields; '#' starts a comment. */
	if ((rest = strchr(line, '#')) != NULL)
		*rest = '\0';
	ip = strtok_r(line, " \t\r", &rest);
	if (ip == NULL)
		return (0);
	name = strtok_r(NULL, " \t\r", &rest);
	if (name == NULL) {
		snprintf(err, errlen, "%s:%zu: expected \"<ip> <hostname>\", "
		    "found no host name", path, lineno);
		return (-1);
	}
	if (strtok_r(NULL, " \t\r", &rest) != NULL) {
		snprintf(err, errlen, "%s:%zu: expected \"<ip> <hostname>\", "
		    "found a third field", path, lineno);
		return (-1);
	}
	memset(&e, 0, sizeof(e));
	if (hosts_parse_addr(ip, &e) == -1) {
		snprintf(err, errlen, "%s:%zu: \"%.64s\" is not an IPv4 or "
		    "IPv6 address (no /prefix, no %%zone)", path, lineno, ip);
		return (-1);
	}
	if (!hosts_name_ok(name)) {
		snprintf(err, errlen, "%s:%zu: bad host name \"%.64s\" "
		    "(letters, digits, '-', '_' and '.' only)", path, lineno,
		    name);
		return (-1);
	}
	if (inet_ntop(e.family, e.addr, txt, sizeof(txt)) == NULL) {
		snprintf(err, errlen, "%s:%zu: cannot print address", path,
		    lineno);
		return (-1);
	}
	if (h->n == h->cap) {
		ncap = h->cap ? h->cap * 2 : 16;
		if ((nv = reallocarray(h->v, ncap, sizeof(*nv))) == NULL)
			goto oom;
		h->v = nv;
		h->cap = ncap;
	}
	e.line = lineno;
	if ((e.ip = strdup(txt)) == NULL || (e.name = strdup(name)) == NULL) {
		free(e.ip);
		goto oom;
	}
	h->v[h->n++] = e;
	return (0);
oom:
	snprintf(err, errlen, "%s:%zu: out of memory", path, lineno);
	return (-1);
}

/* Sort, drop exact repeats, refuse one address with two names. */
static int
hosts_sort(struct hosts *h, const char *path, char *err, size_t errlen)
{
	size_t	 i, w;

	if (h->n == 0)
		return (0);
	qsort(h->v, h->n, sizeof(*h->v), hosts_cmp_cb);
	for (i = 1, w = 1; i < h->n; i++) {
		struct hosts_entry *p = &h->v[w - 1], *e = &h->v[i];

		if (hosts_cmp_cb(p, e) != 0) {
			h->v[w++] = *e;
			continue;
		}
		if (strcmp(p->name, e->name) != 0) {
			snprintf(err, errlen, "%s:%zu: %s is already listed "
			    "as %.64s (line %zu)", path, p->line > e->line ?
			    p->line : e->line, e->ip, p->line > e->line ?
			    e->name : p->name, p->line > e->line ? e->line :
			    p->line);
			/* Keep the array whole for hosts_free(). */
			for (; i < h->n; i++)
				h->v[w++] = h->v[i];
			h->n = w;
			return (-1);
		}
		free(e->ip);
		free(e->name);
	}
	h->n = w;
	return (0);
}

/* Load a host list; see hosts.h. */
struct hosts *
hosts_load(const char *path, char *err, size_t errlen)
{
	struct hosts	*h;

	if ((h = calloc(1, sizeof(*h))) == NULL) {
		snprintf(err, errlen, "host list %s: out of memory", path);
		return (NULL);
	}
	if (linefile_read(path, "host list", hosts_line, h, err,
	    errlen) == -1 || hosts_sort(h, path, err, errlen) == -1) {
		hosts_free(h);
		return (NULL);
	}
	return (h);
}

/* Which entry is addr?  See hosts.h. */
long
hosts_lookup(const struct hosts *h, int family, const unsigned char *addr)
{
	struct hosts_entry key;
	const struct hosts_entry *e;
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0, 0xff, 0xff };

	if (h == NULL || h->n == 0 || addr == NULL)
		return (-1);
	memset(&key, 0, sizeof(key));
	if (family == AF_INET)
		memcpy(key.addr, addr, 4);
	else if (family == AF_INET6 && memcmp(addr, mapped, 12) == 0) {
		/* A dual-stack socket shows IPv4 clients as ::ffff:a.b.c.d. */
		family = AF_INET;
		memcpy(key.addr, addr + 12, 4);
	} else if (family == AF_INET6)
		memcpy(key.addr, addr, 16);
	else
		return (-1);
	key.family = family;
	e = bsearch(&key, h->v, h->n, sizeof(*h->v), hosts_cmp_cb);
	return (e != NULL ? (long)(e - h->v) : -1);
}

/* Entry i; see hosts.h. */
const struct hosts_entry *
hosts_entry(const struct hosts *h, size_t i)
{
	return (h != NULL && i < h->n ? &h->v[i] : NULL);
}

/* Number of entries; see hosts.h. */
size_t
hosts_size(const struct hosts *h)
{
	return (h != NULL ? h->n : 0);
}

/* Free a host list; see hosts.h. */
void
hosts_free(struct hosts *h)
{
	size_t	 i;

	if (h == NULL)
		return;
	for (i = 0; i < h->n; i++) {
		free(h->v[i].ip);
		free(h->v[i].name);
	}
	free(h->v);
	free(h);
}
