/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * Line files (see linefile.h): the open, the checks on what was opened,
 * the getline loop and its errors, shared by the ban list (ban.c) and
 * the HostIP host list (hosts.c), which differ only in what a line
 * means.
 */

#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth/linefile.h"

int
linefile_read(const char *path, const char *what, linefile_fn fn, void *arg,
    char *err, size_t errlen)
{
	struct stat	 st;
	FILE		*fp;
	char		*line = NULL;
	size_t		 cap = 0, lineno = 0;
	ssize_t		 n;
	int		 fd, ret = -1;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) ==
	    -1) {
		snprintf(err, errlen, "%s %s: %s", what, path, strerror(errno));
		return (-1);
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s %s is not a regular file", what,
		    path);
		close(fd);
		return (-1);
	}
	if ((fp = fdopen(fd, "r")) == NULL) {
		snprintf(err, errlen, "%s %s: %s", what, path, strerror(errno));
		close(fd);
		return (-1);
	}
	errno = 0;
	while ((n = getline(&line, &cap, fp)) != -1) {
		lineno++;
		if (n > 0 && line[n - 1] == '\n')
			line[--n] = '\0';
		if (strlen(line) != (size_t)n) {
			snprintf(err, errlen, "%s:%zu: NUL byte in line", path,
			    lineno);
			goto done;
		}
		if (fn(arg, line, path, lineno, err, errlen) == -1)
			goto done;
	}
	if (ferror(fp)) {
		snprintf(err, errlen, "%s %s: %s", what, path,
		    strerror(errno ? errno : EIO));
		goto done;
	}
	ret = 0;
done:
	free(line);
	fclose(fp);
	return (ret);
}
