/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * The error log (levels, one line per event, safe from any thread) and the
 * access log sink.  Error lines go to stderr or a file; access lines are
 * appended by workers to their own buffer and written out by a dedicated
 * writer thread, so a slow disk never stalls an event loop.
 */

#ifndef PROXY_LOG_H
#define PROXY_LOG_H

#include <stddef.h>

enum log_level {
	LOG_L_ERROR = 0,
	LOG_L_WARN,
	LOG_L_INFO,
	LOG_L_DEBUG
};

/*
 * Open the error log (path NULL = stderr) and the access log (NULL =
 * stdout, "off" = none) at the given level.  May be called again on
 * reload: files are reopened, the old descriptors closed.  Returns 0, or
 * -1 when a file cannot be opened (the old ones stay in use).
 */
int	 log_init(const char *error_path, const char *access_path, int level);

/* Reopen both files by name (SIGUSR1, for logrotate). */
void	 log_reopen(void);

/* Start and stop the access-log writer thread. */
int	 log_start(void);
void	 log_stop(void);

void	 log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	 log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	 log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	 log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Log and exit(1); for start-up and broken invariants only. */
void	 fatalx(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

/* 1 when lines at this level are written (to skip formatting work). */
int	 log_enabled(int level);

/*
 * Hand a block of complete access-log lines to the writer.  The bytes are
 * copied; the call never blocks on I/O.  When the writer is more than
 * 16 MiB behind, the block is dropped and counted (log_access_dropped).
 */
void	 log_access_write(const char *buf, size_t len);
/* 1 when an access log is configured. */
int	 log_access_enabled(void);
unsigned long long log_access_dropped(void);

#endif /* PROXY_LOG_H */
