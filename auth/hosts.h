/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * The legacy host list for HostIP authentication (PROTOCOL.md): one
 * "<ip> <hostname>" entry a line, '#' comments and blank lines.  A loaded
 * list is immutable and safe to share between threads; auth.c reloads it
 * and swaps the pointer, auth_host.c looks client addresses up in it.  It
 * takes addresses as bytes (family and 4 or 16 bytes in network order),
 * never sockets.  No logging here.
 */

#ifndef AUTH_HOSTS_H
#define AUTH_HOSTS_H

#include <stddef.h>

struct hosts;

/* One entry of a loaded list; owned by the list. */
struct hosts_entry {
	int		 family;	/* AF_INET or AF_INET6 */
	unsigned char	 addr[16];	/* network order; 4 bytes for IPv4 */
	char		*ip;		/* canonical text (inet_ntop) */
	char		*name;		/* the host name as written */
	size_t		 line;		/* where it was written */
};

/*
 * Load the host list at path.  Each line, after leading blanks, is empty,
 * a comment starting with '#', or an IPv4 or IPv6 address (no prefix
 * length, no zone), blanks, and a host name of letters, digits, '-', '_'
 * and '.' (at most 253 bytes), optionally followed by blanks and a '#'
 * comment; a trailing CR is removed.  An IPv4-mapped IPv6 address counts
 * as its IPv4 address.  Anything else (a third field, a bad address or
 * name), a NUL byte, or one address listed with two different names is
 * an error "path:line: ..." and the whole file is refused.  The same
 * entry twice is kept once.  A file with no entry is valid.  Returns a new
 * list owned by the caller (hosts_free()), or NULL with the reason in err
 * (also for a missing or unreadable file).
 */
struct hosts	*hosts_load(const char *path, char *err, size_t errlen);

/*
 * The index of the entry for the address addr of family (AF_INET: 4
 * bytes, AF_INET6: 16 bytes; an IPv4-mapped IPv6 address is looked up as
 * IPv4), or -1 when it is not listed (or h is NULL, or family is neither).
 * Entries are sorted, so an index is stable for the life of the list.
 */
long	 hosts_lookup(const struct hosts *h, int family,
	    const unsigned char *addr);

/* Entry i (0 <= i < hosts_size()), borrowed from h; NULL past the end. */
const struct hosts_entry *hosts_entry(const struct hosts *h, size_t i);

/* Number of entries; 0 for NULL. */
size_t	 hosts_size(const struct hosts *h);

/* Free a list; NULL is a no-op. */
void	 hosts_free(struct hosts *h);

#endif /* AUTH_HOSTS_H */
