/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * Shared bits of the fuzz targets in tests/fuzz/: the libFuzzer entry
 * points (declared here so that the targets build cleanly with
 * -Wmissing-prototypes), an invariant check that aborts with a message
 * (so that both libFuzzer and the replay driver record it as a crash), and
 * a scratch file for the loaders that only take a path.  Each target is
 * linked either with libFuzzer or with tests/fuzz/replay.c.
 */

#ifndef TESTS_FUZZ_FUZZ_H
#define TESTS_FUZZ_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int	 LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int	 LLVMFuzzerInitialize(int *argc, char ***argv);

/*
 * A violated invariant is a finding: say which one and abort, so the input
 * is kept as a crash by libFuzzer and fails the replay run.
 */
#define FUZZ_CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: invariant failed: %s\n",	\
		    __FILE__, __LINE__, #cond);				\
		abort();						\
	}								\
} while (0)

/*
 * FUZZ_LAX=1 in the environment makes the targets tolerate the open
 * findings listed in tests/fuzz/RESULTS.md (each target says which), so
 * that a long run can look past a known bug and the corpora can be
 * replayed before its fix lands.  Unset, empty or "0": strict.
 */
static inline int
fuzz_lax(void)
{
	const char	*v = getenv("FUZZ_LAX");

	return (v != NULL && *v != '\0' && strcmp(v, "0") != 0);
}

static char	 fuzz_scratch_dir[256];
static char	 fuzz_scratch_file[512];

/* atexit() hook: remove the scratch file and its directory. */
static inline void
fuzz_scratch_cleanup(void)
{
	(void)unlink(fuzz_scratch_file);
	(void)rmdir(fuzz_scratch_dir);
}

/*
 * Create a private directory under $TMPDIR (or /tmp) and return the path
 * of the file name inside it, in static storage; both are removed at
 * exit.  The file is rewritten by fuzz_write_file() for every input.
 * Aborts on failure: a target that cannot write its input tests nothing.
 */
static inline const char *
fuzz_scratch_path(const char *name)
{
	const char	*tmp;

	if ((tmp = getenv("TMPDIR")) == NULL || *tmp == '\0')
		tmp = "/tmp";
	snprintf(fuzz_scratch_dir, sizeof(fuzz_scratch_dir),
	    "%s/gridfront-fuzz.XXXXXX", tmp);
	if (mkdtemp(fuzz_scratch_dir) == NULL) {
		perror("mkdtemp");
		abort();
	}
	snprintf(fuzz_scratch_file, sizeof(fuzz_scratch_file), "%s/%s",
	    fuzz_scratch_dir, name);
	atexit(fuzz_scratch_cleanup);
	return (fuzz_scratch_file);
}

/* Replace the content of path with data[0, size).  Aborts on failure. */
static inline void
fuzz_write_file(const char *path, const uint8_t *data, size_t size)
{
	FILE	*fp;

	if ((fp = fopen(path, "wb")) == NULL) {
		perror(path);
		abort();
	}
	if (size > 0 && fwrite(data, 1, size, fp) != size) {
		perror(path);
		abort();
	}
	if (fclose(fp) != 0) {
		perror(path);
		abort();
	}
}

#endif /* TESTS_FUZZ_FUZZ_H */
