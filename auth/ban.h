/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * The legacy ban list (PROTOCOL.md): one "dn: <DN>" or "login: <login>"
 * entry a line, '#' comment lines and blank lines.  A banned user gets 403
 * on every route.  A loaded list is immutable and safe to share between
 * threads; auth.c reloads it and swaps the pointer.  No logging here.
 */

#ifndef AUTH_BAN_H
#define AUTH_BAN_H

#include <stddef.h>

struct ban;

/*
 * Load the ban list at path.  Each line, after leading blanks, is empty, a
 * comment starting with '#', or a key "dn:" or "login:" (case-insensitive)
 * followed by the value; blanks around the value and a trailing CR are
 * removed, nothing else is (there are no inline comments: '#' may occur in
 * a DN).  Any other line, an empty value, a DN not starting with '/', a
 * control byte or a NUL is an error "path:line: ..." and the whole file is
 * refused.  A file with no
 * entry is valid.  Returns a new list owned by the caller (ban_free()), or
 * NULL with the reason in err (also for a missing or unreadable file).
 */
struct ban	*ban_load(const char *path, char *err, size_t errlen);

/*
 * Return 1 when dn or login is on the list (exact, case-sensitive
 * comparison), else 0.  dn, login and b may each be NULL (b NULL: 0).
 */
int	 ban_match(const struct ban *b, const char *dn, const char *login);

/*
 * DN entries written in the legacy X509_NAME_oneline() form ("\xHH" bytes
 * of non-ASCII text, bare backslashes), which gridfront's DN formatter
 * never produces: ban_load() also bans each in gridfront's form, so the
 * ban bites.  Returns how many there were and the line of the first in
 * *first_line (may be NULL), for a warning.  b NULL: 0.
 */
size_t	 ban_legacy(const struct ban *b, size_t *first_line);

/* Number of entries (dn and login lines, duplicates counted once). */
size_t	 ban_size(const struct ban *b);

/* Free a list; NULL is a no-op. */
void	 ban_free(struct ban *b);

#endif /* AUTH_BAN_H */
