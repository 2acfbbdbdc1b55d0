/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * Helpers shared by the proxy layer: checked bookkeeping allocators, the
 * monotonic clock and address formatting.  Called from every proxy/ file;
 * calls nothing but libc.
 */

#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "proxy/util.h"

void *
xmalloc(size_t n)
{
	void	*p;

	if ((p = malloc(n == 0 ? 1 : n)) == NULL) {
		fprintf(stderr, "gridfront: out of memory (%zu bytes)\n", n);
		abort();
	}
	return (p);
}

void *
xcalloc(size_t n, size_t size)
{
	void	*p;

	if ((p = calloc(n == 0 ? 1 : n, size == 0 ? 1 : size)) == NULL) {
		fprintf(stderr, "gridfront: out of memory\n");
		abort();
	}
	return (p);
}

void
sbuf_grow(struct sbuf *sb, size_t need)
{
	size_t	 cap = sb->cap ? sb->cap : 512;
	char	*p;

	while (cap - sb->len < need)
		cap *= 2;
	if ((p = realloc(sb->p, cap)) == NULL) {
		fprintf(stderr, "gridfront: out of memory (%zu bytes)\n", cap);
		abort();
	}
	sb->p = p;
	sb->cap = cap;
}

char *
xstrdup(const char *s)
{
	char	*p;

	if ((p = strdup(s)) == NULL) {
		fprintf(stderr, "gridfront: out of memory\n");
		abort();
	}
	return (p);
}

uint64_t
util_now_us(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000);
}

void
util_ms_tv(unsigned ms, struct timeval *tv)
{
	tv->tv_sec = (time_t)(ms / 1000);
	/* Widen before multiplying: at most 999000, but keep it obvious. */
	tv->tv_usec = (suseconds_t)(ms % 1000) * 1000;
}

char *
util_addr_str(const struct sockaddr *sa, char *buf, size_t len)
{
	const struct sockaddr_in6 *s6;

	switch (sa->sa_family) {
	case AF_INET:
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr,
		    buf, len);
		break;
	case AF_INET6:
		s6 = (const struct sockaddr_in6 *)sa;
		/* Show v4-mapped peers as plain IPv4, as logs and XFF expect. */
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
			inet_ntop(AF_INET, &s6->sin6_addr.s6_addr[12], buf, len);
		else
			inet_ntop(AF_INET6, &s6->sin6_addr, buf, len);
		break;
	default:
		snprintf(buf, len, "?");
		break;
	}
	return (buf);
}

int
util_addr_port(const struct sockaddr *sa)
{
	switch (sa->sa_family) {
	case AF_INET:
		return (ntohs(((const struct sockaddr_in *)sa)->sin_port));
	case AF_INET6:
		return (ntohs(((const struct sockaddr_in6 *)sa)->sin6_port));
	default:
		return (0);
	}
}

int
util_ascii_ieq(const char *a, const char *b, size_t n)
{
	size_t	 i;
	unsigned char ca, cb;

	for (i = 0; i < n; i++) {
		ca = (unsigned char)a[i];
		cb = (unsigned char)b[i];
		if (ca >= 'A' && ca <= 'Z')
			ca += 'a' - 'A';
		if (cb >= 'A' && cb <= 'Z')
			cb += 'a' - 'A';
		if (ca != cb)
			return (0);
	}
	return (1);
}

unsigned
util_ncpu(void)
{
	long	 n;

	n = sysconf(_SC_NPROCESSORS_ONLN);
	return (n < 1 ? 1 : (unsigned)n);
}

void
util_sd_notify(const char *state)
{
	struct sockaddr_un	 sun;
	const char		*path = getenv("NOTIFY_SOCKET");
	socklen_t		 len;
	int			 fd;

	if (path == NULL || path[0] == '\0' ||
	    strlen(path) >= sizeof(sun.sun_path))
		return;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strncpy(sun.sun_path, path, sizeof(sun.sun_path) - 1);
	/* A leading '@' names an abstract socket. */
	if (sun.sun_path[0] == '@')
		sun.sun_path[0] = '\0';
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
	    strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return;
	(void)sendto(fd, state, strlen(state), MSG_NOSIGNAL,
	    (struct sockaddr *)&sun, len);
	close(fd);
}
