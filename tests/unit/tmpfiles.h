/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * A scratch directory for one unit-test program: made by tmp_setup()
 * in the group set-up, removed with what it holds by tmp_teardown(),
 * and files written into it with tmp_write().  Header-only: the helpers
 * are static inline so that a test using some of them builds clean.
 * Include it after <cmocka.h> (tmp_write asserts).
 */

#ifndef TESTS_UNIT_TMPFILES_H
#define TESTS_UNIT_TMPFILES_H

#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char	 tmpdir[128];

/* Make /tmp/NAME.XXXXXX; 0 or -1 (a cmocka group set-up's answer). */
static inline int
tmp_setup(const char *name)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/%s.XXXXXX", name);
	return (mkdtemp(tmpdir) == NULL ? -1 : 0);
}

/* Remove the directory and everything in it; 0 or -1. */
static inline int
tmp_teardown(void)
{
	char	 cmd[sizeof(tmpdir) + 16];

	if (tmpdir[0] == '\0')
		return (0);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return (system(cmd) == 0 ? 0 : -1);
}

/* The path of name in the directory, in a static buffer that the next
 * call reuses. */
static inline const char *
tmp_path(const char *name)
{
	static char	 path[256];

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	return (path);
}

/* Replace name with len bytes of data and give it mode; returns its path
 * (tmp_path's buffer).  A failure fails the test. */
static inline const char *
tmp_write(const char *name, const void *data, size_t len, mode_t mode)
{
	const char	*p = tmp_path(name);
	FILE		*fp;

	unlink(p);
	fp = fopen(p, "w");
	assert_non_null(fp);
	if (len > 0)
		assert_int_equal(fwrite(data, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(chmod(p, mode), 0);
	return (p);
}

#endif
