/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * The error list of one config load: every problem found, each located
 * at file:line:col, so that `gridfront -t` reports all of them at once
 * (relayd's errors++).  The lowest file of conf/: yaml.c, the directive
 * engine and conf.c all append to it, and it depends on none of them.
 * The caller of conf_load() owns the list and prints and frees it.
 */

#ifndef CONF_ERRS_H
#define CONF_ERRS_H

#include <stddef.h>

/* One configuration error, located at a YAML node. */
struct conf_err {
	char		 file[256];
	int		 line;		/* 1-based; 0 when not tied to a node */
	int		 col;		/* 1-based */
	char		 msg[256];
};

/* Every error found in one load; conf_load() keeps going after the first. */
struct conf_errs {
	struct conf_err	*v;
	size_t		 n;
	size_t		 cap;
};

/*
 * Append a formatted error to errs (owned by the caller).  file (may be
 * NULL) and the message are copied, cut at 255 bytes; line 0 means "not
 * tied to a node".  Never fails (aborts on out-of-memory, as for any
 * bookkeeping allocation).
 */
void	 conf_errs_add(struct conf_errs *errs, const char *file, int line,
	    int col, const char *fmt, ...)
	    __attribute__((format(printf, 5, 6)));

/* Print each error as "file:line:col: message\n" to the FILE* fp. */
void	 conf_errs_print(const struct conf_errs *errs, void *fp);

/* Free the error array (not the struct itself); safe on an empty one. */
void	 conf_errs_free(struct conf_errs *errs);

#endif /* CONF_ERRS_H */
