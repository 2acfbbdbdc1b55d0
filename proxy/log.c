/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * Error and access logging.  Error lines are formatted on the caller's
 * stack and written with one write(2), so lines from several threads never
 * interleave.  Access lines arrive from workers in blocks; a writer thread
 * owns the file descriptor and drains a queue, so the event loops never
 * wait on the disk.  Nothing here knows about connections.
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "proxy/log.h"
#include "proxy/util.h"

#define LOG_QUEUE_MAX	(16u << 20)

static int		 log_level = LOG_L_INFO;
static int		 err_fd = STDERR_FILENO;
static int		 acc_fd = STDOUT_FILENO;
static char		*err_path;
static char		*acc_path;
static int		 acc_off;

/* Access-log queue: a growable byte buffer guarded by a mutex. */
static pthread_mutex_t	 q_mtx = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	 q_cond = PTHREAD_COND_INITIALIZER;
static char		*q_buf;
static size_t		 q_len, q_cap;
static int		 q_stop;
static int		 q_running;
static pthread_t	 q_thread;
static unsigned long long q_dropped;

static const char *const level_names[] = { "error", "warn", "info", "debug" };

static int
open_append(const char *path)
{
	return (open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640));
}

int
log_init(const char *error_path, const char *access_path, int level)
{
	int	 efd = STDERR_FILENO, afd = STDOUT_FILENO, off = 0;

	if (error_path != NULL && (efd = open_append(error_path)) == -1)
		return (-1);
	if (access_path != NULL && strcmp(access_path, "off") == 0)
		off = 1;
	else if (access_path != NULL &&
	    (afd = open_append(access_path)) == -1) {
		if (efd != STDERR_FILENO)
			close(efd);
		return (-1);
	}
	pthread_mutex_lock(&q_mtx);
	if (err_fd != STDERR_FILENO)
		close(err_fd);
	if (acc_fd != STDOUT_FILENO && acc_fd != -1)
		close(acc_fd);
	err_fd = efd;
	acc_fd = off ? -1 : afd;
	acc_off = off;
	free(err_path);
	free(acc_path);
	err_path = error_path ? xstrdup(error_path) : NULL;
	acc_path = (access_path && !off) ? xstrdup(access_path) : NULL;
	log_level = level;
	pthread_mutex_unlock(&q_mtx);
	return (0);
}

void
log_reopen(void)
{
	int	 fd;

	pthread_mutex_lock(&q_mtx);
	if (err_path != NULL && (fd = open_append(err_path)) != -1) {
		close(err_fd);
		err_fd = fd;
	}
	if (acc_path != NULL && (fd = open_append(acc_path)) != -1) {
		close(acc_fd);
		acc_fd = fd;
	}
	pthread_mutex_unlock(&q_mtx);
	log_info("log files reopened");
}

int
log_enabled(int level)
{
	return (level <= __atomic_load_n(&log_level, __ATOMIC_RELAXED));
}

static void
log_vwrite(int level, const char *fmt, va_list ap)
{
	char		 line[2048];
	struct timespec	 ts;
	struct tm	 tm;
	int		 n, m;

	if (!log_enabled(level))
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = snprintf(line, sizeof(line),
	    "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ [%s] ", tm.tm_year + 1900,
	    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
	    ts.tv_nsec / 1000000, level_names[level]);
	m = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	if (m < 0)
		m = 0;
	n += m;
	if (n > (int)sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	/* One write per line: lines from threads do not interleave. */
	(void)write(err_fd, line, n);
}

#define LOG_FN(name, lvl)					\
void								\
name(const char *fmt, ...)					\
{								\
	va_list	 ap;						\
								\
	va_start(ap, fmt);					\
	log_vwrite(lvl, fmt, ap);				\
	va_end(ap);						\
}

LOG_FN(log_error, LOG_L_ERROR)
LOG_FN(log_warn, LOG_L_WARN)
LOG_FN(log_info, LOG_L_INFO)
LOG_FN(log_debug, LOG_L_DEBUG)

void
fatalx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vwrite(LOG_L_ERROR, fmt, ap);
	va_end(ap);
	exit(1);
}

int
log_access_enabled(void)
{
	return (!acc_off);
}

unsigned long long
log_access_dropped(void)
{
	return (__atomic_load_n(&q_dropped, __ATOMIC_RELAXED));
}

void
log_access_write(const char *buf, size_t len)
{
	size_t	 ncap;

	if (acc_off || len == 0)
		return;
	if (!q_running) {
		/* Before the writer runs (tests, -t): write directly. */
		(void)write(acc_fd, buf, len);
		return;
	}
	pthread_mutex_lock(&q_mtx);
	if (q_len + len > LOG_QUEUE_MAX) {
		q_dropped++;
		pthread_mutex_unlock(&q_mtx);
		return;
	}
	if (q_len + len > q_cap) {
		ncap = q_cap ? q_cap : 65536;
		while (ncap < q_len + len)
			ncap *= 2;
		q_buf = realloc(q_buf, ncap);
		if (q_buf == NULL)
			abort();
		q_cap = ncap;
	}
	memcpy(q_buf + q_len, buf, len);
	q_len += len;
	pthread_cond_signal(&q_cond);
	pthread_mutex_unlock(&q_mtx);
}

static void *
log_writer_main(void *arg)
{
	char	*mine = NULL;
	size_t	 mycap = 0, n, off;
	ssize_t	 w;
	int	 fd;

	(void)arg;
	pthread_mutex_lock(&q_mtx);
	for (;;) {
		while (q_len == 0 && !q_stop)
			pthread_cond_wait(&q_cond, &q_mtx);
		if (q_len == 0 && q_stop)
			break;
		/* Swap buffers so workers append while we write. */
		{
			char	*t = q_buf;
			size_t	 tc = q_cap;

			q_buf = mine;
			q_cap = mycap;
			mine = t;
			mycap = tc;
		}
		n = q_len;
		q_len = 0;
		fd = acc_fd;
		pthread_mutex_unlock(&q_mtx);
		for (off = 0; off < n; off += (size_t)w) {
			w = write(fd, mine + off, n - off);
			if (w == -1) {
				if (errno == EINTR) {
					w = 0;
					continue;
				}
				break;
			}
		}
		pthread_mutex_lock(&q_mtx);
	}
	pthread_mutex_unlock(&q_mtx);
	free(mine);
	return (NULL);
}

int
log_start(void)
{
	if (q_running || acc_off)
		return (0);
	q_stop = 0;
	if (pthread_create(&q_thread, NULL, log_writer_main, NULL) != 0)
		return (-1);
	q_running = 1;
	return (0);
}

void
log_stop(void)
{
	if (!q_running)
		return;
	pthread_mutex_lock(&q_mtx);
	q_stop = 1;
	pthread_cond_signal(&q_cond);
	pthread_mutex_unlock(&q_mtx);
	pthread_join(q_thread, NULL);
	q_running = 0;
	free(q_buf);
	q_buf = NULL;
	q_len = q_cap = 0;
}
