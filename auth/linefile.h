/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * The line files of the legacy frontend (the ban list, the HostIP host
 * list): read one regular file line by line for a loader that parses
 * each line itself.
 */

#ifndef AUTH_LINEFILE_H
#define AUTH_LINEFILE_H

#include <stddef.h>

/* One line (newline removed, no NUL inside) of path, numbered from 1;
 * returns 0, or -1 with a reason in err to stop the read. */
typedef int	(*linefile_fn)(void *arg, char *line, const char *path,
		    size_t lineno, char *err, size_t errlen);

/*
 * Read path (a regular file, opened without following it into a FIFO or
 * terminal) and hand each line to fn with arg.  Returns 0 when every
 * line was taken, or -1 with the reason in err: the file (prefixed with
 * what, e.g. "ban list"), a NUL byte (path:line), or fn's own.  Owns
 * nothing after it returns.
 */
int	 linefile_read(const char *path, const char *what, linefile_fn fn,
	    void *arg, char *err, size_t errlen);

#endif /* AUTH_LINEFILE_H */
