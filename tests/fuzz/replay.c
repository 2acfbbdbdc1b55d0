/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * A stand-in for libFuzzer's main(): feeds every file named on the command
 * line (a directory means every regular file in it, not recursively) to
 * the target's LLVMFuzzerTestOneInput(), once, in a fresh heap copy of
 * exactly the file's size so that ASan catches any read past the end.
 * This lets `make fuzz-replay` run the seed corpora and the crash
 * reproducers with gcc or clang and ASan+UBSan, without libFuzzer.  A
 * crash or a failed invariant aborts the process, which fails the run.
 */

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/fuzz/fuzz.h"

/* Optional in a target; the weak reference is NULL when it is absent. */
extern int LLVMFuzzerInitialize(int *argc, char ***argv)
    __attribute__((weak));

/*
 * Weak: present when linked with ASan/UBSan, NULL otherwise.  The name is
 * the sanitizers' public API (<sanitizer/common_interface_defs.h>, which
 * gcc without ASan may lack), hence the reserved identifier.
 */
/* NOLINTNEXTLINE(bugprone-reserved-identifier,cert-dcl37-c): see above */
extern void __sanitizer_set_death_callback(void (*)(void))
    __attribute__((weak));

static size_t		 nrun;
static const char	*current;	/* the input being run, for reports */

/* Name the input that crashed; async-signal-safe (write only). */
static void
replay_blame(void)
{
	static const char	 pfx[] = "replay: crashing input: ";

	if (current == NULL)
		return;
	(void)!write(2, pfx, sizeof(pfx) - 1);
	(void)!write(2, current, strlen(current));
	(void)!write(2, "\n", 1);
}

static void
replay_abort_cb(int sig)
{
	replay_blame();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Read the whole file at path and run it.  Returns 0, or -1 if unreadable. */
static int
replay_file(const char *path)
{
	FILE		*fp;
	uint8_t		*buf = NULL, *copy, *nbuf;
	size_t		 len = 0, cap = 0, n;
	int		 ret = -1;

	if ((fp = fopen(path, "rb")) == NULL) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return (-1);
	}
	for (;;) {
		if (len == cap) {
			cap = cap ? cap * 2 : 4096;
			if ((nbuf = realloc(buf, cap)) == NULL) {
				fprintf(stderr, "replay: out of memory\n");
				goto done;
			}
			buf = nbuf;
		}
		n = fread(buf + len, 1, cap - len, fp);
		if (n == 0)
			break;
		len += n;
	}
	if (ferror(fp)) {
		fprintf(stderr, "replay: %s: read error\n", path);
		goto done;
	}
	/* An exact-size copy: one byte too far is then a heap overflow. */
	if ((copy = malloc(len ? len : 1)) == NULL) {
		fprintf(stderr, "replay: out of memory\n");
		goto done;
	}
	if (len > 0)
		memcpy(copy, buf, len);
	current = path;
	(void)LLVMFuzzerTestOneInput(copy, len);
	current = NULL;
	free(copy);
	nrun++;
	ret = 0;
done:
	free(buf);
	fclose(fp);
	return (ret);
}

/* Run every regular file of dir, in name order so runs are reproducible. */
static int
replay_dir(const char *dir)
{
	struct dirent	**ents;
	struct stat	 st;
	char		 path[4096];
	int		 i, n, ret = 0;

	if ((n = scandir(dir, &ents, NULL, alphasort)) == -1) {
		fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
		return (-1);
	}
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, ents[i]->d_name);
		if (ents[i]->d_name[0] != '.' && stat(path, &st) == 0 &&
		    S_ISREG(st.st_mode) && replay_file(path) == -1)
			ret = -1;
		free(ents[i]);
	}
	free(ents);
	return (ret);
}

int
main(int argc, char **argv)
{
	struct stat	 st;
	int		 i, ret = 0;

	/* A failed invariant aborts; a sanitizer report ends via its own
	 * death callback.  Either way, say which file it was. */
	signal(SIGABRT, replay_abort_cb);
	if (__sanitizer_set_death_callback != NULL)
		__sanitizer_set_death_callback(replay_blame);
	if (LLVMFuzzerInitialize != NULL)
		(void)LLVMFuzzerInitialize(&argc, &argv);
	for (i = 1; i < argc; i++) {
		if (stat(argv[i], &st) == -1) {
			/* A missing regress/<name>/ is normal: no crash yet. */
			if (errno == ENOENT)
				continue;
			fprintf(stderr, "replay: %s: %s\n", argv[i],
			    strerror(errno));
			ret = 1;
		} else if (S_ISDIR(st.st_mode)) {
			if (replay_dir(argv[i]) == -1)
				ret = 1;
		} else if (replay_file(argv[i]) == -1)
			ret = 1;
	}
	printf("replay: %s: %zu inputs run\n", argv[0], nrun);
	return (ret);
}
