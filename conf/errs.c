/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * The error list of a config load (conf/errs.h): append a located,
 * formatted message, print them all, free the list.  Called by yaml.c,
 * the directive engine (keys.c and its parts) and conf.c; calls only
 * libc, so that none of them depends back on conf.c.  Not the place for
 * what an error says: each caller words its own.
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/errs.h"

/* Append one formatted error.  See errs.h. */
void
conf_errs_add(struct conf_errs *errs, const char *file, int line, int col,
    const char *fmt, ...)
{
	struct conf_err	*e;
	va_list		 ap;

	if (errs->n == errs->cap) {
		errs->cap = errs->cap ? errs->cap * 2 : 8;
		if ((errs->v = realloc(errs->v, errs->cap *
		    sizeof(*errs->v))) == NULL)
			abort();
	}
	e = &errs->v[errs->n++];
	memset(e, 0, sizeof(*e));
	snprintf(e->file, sizeof(e->file), "%s", file ? file : "");
	e->line = line;
	e->col = col;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
}

/* Print every error, one per line.  See errs.h. */
void
conf_errs_print(const struct conf_errs *errs, void *fp)
{
	const struct conf_err	*e;
	size_t			 i;

	for (i = 0; i < errs->n; i++) {
		e = &errs->v[i];
		if (e->line > 0)
			fprintf(fp, "%s:%d:%d: %s\n", e->file, e->line, e->col,
			    e->msg);
		else
			fprintf(fp, "%s: %s\n", e->file, e->msg);
	}
}

/* Free the error array.  See errs.h. */
void
conf_errs_free(struct conf_errs *errs)
{
	free(errs->v);
	errs->v = NULL;
	errs->n = 0;
	errs->cap = 0;
}
