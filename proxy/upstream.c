/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * Per-worker upstream pools.  Idle connections sit on a LIFO list with
 * their read side enabled, so a backend that closes an idle connection is
 * noticed and the socket freed at once; before reuse a non-blocking
 * MSG_PEEK confirms the socket is still open and silent.  Connections are
 * TCP on loopback or the cluster network (TCP_NODELAY), with TLS through
 * cio's client mode for https backends (uptls.c holds the contexts and
 * sessions).  Nothing here parses HTTP; forward.c decides when a
 * connection is clean.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/util.h>

#include "conf/conf.h"
#include "proxy/resolve.h"
#include "proxy/upstream.h"
#include "proxy/uptls.h"
#include "proxy/util.h"

static void	idle_read_cb(struct cio *, void *);
static void	idle_event_cb(struct cio *, short, void *);

struct pool *
upstream_pool_lookup(struct upstream_worker *uw,
    const struct conf_backend *b, const struct sockaddr_storage *ss,
    socklen_t sslen, unsigned max_idle, unsigned idle_timeout)
{
	struct pool	*p;
	char		 ip[INET6_ADDRSTRLEN];
	const void	*a;
	int		 port;

	for (p = uw->allpools; p != NULL; p = p->next) {
		if (p->addrlen == sslen &&
		    memcmp(&p->addr, ss, sslen) == 0 &&
		    (p->tls != NULL) == (b->tls != 0) && (p->tls == NULL ||
		    strcmp(p->tls->name, b->tls_name) == 0))
			break;
	}
	if (p == NULL) {
		p = xcalloc(1, sizeof(*p));
		p->uw = uw;
		memcpy(&p->addr, ss, sslen);
		p->addrlen = sslen;
		TAILQ_INIT(&p->idle);
		if (b->tls)
			p->tls = uptls_peer_new(b->tls_name);
		p->next = uw->allpools;
		uw->allpools = p;
	}
	/* The newest generation's name and limits win. */
	strncpy(p->name, b->url, sizeof(p->name) - 1);
	p->max_idle = max_idle;
	p->idle_timeout = idle_timeout;
	p->retired = 0;
	p->addrtext[0] = '\0';
	if (!b->literal) {
		/* Several pools share the URL: metrics tell them apart. */
		if (ss->ss_family == AF_INET6) {
			a = &((const struct sockaddr_in6 *)(const void *)ss)->
			    sin6_addr;
			port = ntohs(((const struct sockaddr_in6 *)
			    (const void *)ss)->sin6_port);
		} else {
			a = &((const struct sockaddr_in *)(const void *)ss)->
			    sin_addr;
			port = ntohs(((const struct sockaddr_in *)
			    (const void *)ss)->sin_port);
		}
		if (inet_ntop(ss->ss_family, a, ip, sizeof(ip)) != NULL)
			snprintf(p->addrtext, sizeof(p->addrtext),
			    ss->ss_family == AF_INET6 ? "[%s]:%d" : "%s:%d",
			    ip, port);
	}
	return (p);
}

void
upstream_eps_set(struct upstream_eps *e, struct resolve_set *s)
{
	free(e->pools);
	e->pools = NULL;
	resolve_set_put(e->set);
	e->set = s;
	if (s != NULL)
		e->pools = xcalloc(s->n ? s->n : 1, sizeof(struct pool *));
}

struct pool *
upstream_pick(struct upstream_worker *uw, struct upstream_eps *eps,
    const struct conf_backend *const *bs, size_t nb, unsigned start,
    unsigned *tried, uint64_t now, const struct upstream_limits *lim,
    size_t *bi)
{
	struct upstream_eps	*e;
	struct pool		*p;
	size_t			 n = 0, i, j, k, c;
	unsigned		 bit;

	for (i = 0; i < nb; i++)
		n += eps[bs[i]->id].set->n;
	for (k = 0; k < n; k++) {
		c = (start + k) % n;
		bit = 1u << (c % 32);
		if (*tried & bit)
			continue;
		/* Candidate c: the j-th address of backend i. */
		for (i = 0, j = c; j >= eps[bs[i]->id].set->n; i++)
			j -= eps[bs[i]->id].set->n;
		e = &eps[bs[i]->id];
		if ((p = e->pools[j]) == NULL) {
			p = e->pools[j] = upstream_pool_lookup(uw, bs[i],
			    &e->set->addr[j], e->set->len[j], lim->max_idle,
			    lim->idle_timeout);
			upstream_pool_set_tls(p, lim->tls);
		}
		if (upstream_pool_is_down(p, now))
			continue;
		*tried |= bit;
		if (bi != NULL)
			*bi = i;
		return (p);
	}
	return (NULL);
}

static void	idle_drop(struct upconn *);

void
upstream_retire_unused(struct upstream_worker *uw,
    const struct upstream_eps *eps, size_t n)
{
	struct pool	*p;
	struct upconn	*u;
	size_t		 i;

	for (p = uw->allpools; p != NULL; p = p->next) {
		for (i = 0; i < n; i++)
			if (resolve_set_has(eps[i].set,
			    (const struct sockaddr *)&p->addr, p->addrlen))
				break;
		if (i < n || p->retired)
			continue;
		p->retired = 1;
		while ((u = TAILQ_FIRST(&p->idle)) != NULL) {
			/* idle_drop() unlinks u (see upstream_close_idle). */
			/* NOLINTNEXTLINE(clang-analyzer-unix.Malloc) */
			idle_drop(u);
		}
	}
}

void
upstream_pool_set_tls(struct pool *p, struct uptls *t)
{
	if (p->tls != NULL)
		uptls_peer_set(p->tls, t);
}

void
upstream_connected(struct upconn *u)
{
	if (u->io.ssl == NULL)
		return;
	u->pool->st.tls_handshakes++;
	if (SSL_session_reused(u->io.ssl))
		u->pool->st.tls_resumed++;
}

int
upstream_tls_failure(struct upconn *u, char *buf, size_t len)
{
	int	 r;

	if (u->io.ssl == NULL)
		return (0);
	r = uptls_failure(u->io.ssl, buf, len);
	if (r == 1)
		u->pool->st.tls_verify_failures++;
	else if (r == 2)
		u->pool->st.tls_errors++;
	return (r);
}

int
upstream_pool_is_down(const struct pool *p, uint64_t now)
{
	return (p->down_until > now);
}

void
upstream_pool_mark_down(struct pool *p, uint64_t now, unsigned ms)
{
	p->down_until = now + (uint64_t)ms * 1000;
}

static void
upconn_destroy(struct upconn *u)
{
	cio_free(&u->io);
	free(u);
}

/*
 * Liveness check before reuse.  A socket that is readable while idle
 * either hit EOF or got bytes the backend had no business sending; either
 * way it cannot carry a request.  While pooled, its read event already
 * reports that (idle_read_cb/idle_event_cb drop it); the MSG_PEEK probe is
 * for connections idle long enough (1 s) for a close to be in flight
 * without having been dispatched yet, and a stale connection that slips
 * through is retried once for idempotent requests (forward.c).
 */
#define UPCONN_PEEK_AFTER_US	1000000

static int
upconn_alive(struct upconn *u)
{
	char	 b;
	ssize_t	 n;
	evutil_socket_t fd = u->io.fd;

	if (evbuffer_get_length(u->io.in) != 0)
		return (0);
	/* Verified under a trust store that has since been replaced. */
	if (u->io.ssl != NULL && (u->pool->tls->cur == NULL ||
	    u->tls_id != u->pool->tls->cur->id))
		return (0);
	if (clock_now_us() - u->idle_since < UPCONN_PEEK_AFTER_US)
		return (1);
	n = recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return (1);
	return (0);
}

struct upconn *
upstream_take(struct pool *p)
{
	struct upconn	*u;

	while ((u = TAILQ_FIRST(&p->idle)) != NULL) {
		TAILQ_REMOVE(&p->idle, u, entry);
		p->nidle--;
		if (!upconn_alive(u)) {
			upconn_destroy(u);
			continue;
		}
		cio_setcb(&u->io, NULL, NULL, NULL, NULL);
		cio_set_timeouts(&u->io, 0, 0);
		u->reused = 1;
		p->nactive++;
		p->st.reuses++;
		return (u);
	}
	return (NULL);
}

struct upconn *
upstream_connect(struct pool *p, unsigned timeout_ms)
{
	struct upconn		*u;
	evutil_socket_t		 fd;
	SSL			*ssl = NULL;
	int			 one = 1;

	p->st.connects++;
	if (p->tls != NULL && (ssl = uptls_ssl_new(p->tls)) == NULL) {
		p->st.connect_errors++;
		return (NULL);
	}
	fd = socket(p->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd == -1) {
		SSL_free(ssl);
		return (NULL);
	}
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	u = xcalloc(1, sizeof(*u));
	u->pool = p;
	if (cio_init(&u->io, p->uw->base, fd, ssl) == -1) {
		SSL_free(ssl);
		close(fd);
		free(u);
		return (NULL);
	}
	if (ssl != NULL) {
		(void)cio_tls_client(&u->io);
		u->tls_id = p->tls->cur->id;
	}
	/* The write timeout is the connect timeout until connected. */
	cio_set_timeouts(&u->io, 0, timeout_ms);
	if (cio_connect(&u->io, (struct sockaddr *)&p->addr,
	    p->addrlen) == -1) {
		/* Immediate failures (e.g. no route) are reported by the
		 * caller as connect errors. */
		cio_free(&u->io);
		free(u);
		p->st.connect_errors++;
		return (NULL);
	}
	p->nactive++;
	return (u);
}

void
upstream_put(struct upconn *u)
{
	struct pool	*p = u->pool;
	p->nactive--;
	u->x = NULL;
	if (p->nidle >= p->max_idle || p->uw->draining || p->retired) {
		upconn_destroy(u);
		return;
	}
	cio_setcb(&u->io, idle_read_cb, NULL, idle_event_cb, u);
	cio_set_timeouts(&u->io, p->idle_timeout, 0);
	cio_enable(&u->io, EV_READ);
	u->idle_since = clock_now_us();
	/* LIFO: the most recently used connection is the warmest. */
	TAILQ_INSERT_HEAD(&p->idle, u, entry);
	p->nidle++;
}

void
upstream_free(struct upconn *u)
{
	if (u == NULL)
		return;
	u->pool->nactive--;
	upconn_destroy(u);
}

static void
idle_drop(struct upconn *u)
{
	struct pool	*p = u->pool;

	TAILQ_REMOVE(&p->idle, u, entry);
	p->nidle--;
	upconn_destroy(u);
}

static void
idle_read_cb(struct cio *io, void *arg)
{
	/* Unsolicited bytes on an idle connection: it is unusable. */
	idle_drop(arg);
}

static void
idle_event_cb(struct cio *io, short what, void *arg)
{
	/* EOF, error or idle timeout. */
	idle_drop(arg);
}

void
upstream_close_idle(struct upstream_worker *uw)
{
	struct pool	*p;
	struct upconn	*u;

	for (p = uw->allpools; p != NULL; p = p->next) {
		while ((u = TAILQ_FIRST(&p->idle)) != NULL) {
			/*
			 * idle_drop() unlinks u before freeing it, so the
			 * next TAILQ_FIRST is another entry; the analyzer
			 * does not see that TAILQ_REMOVE did it.
			 */
			/* NOLINTNEXTLINE(clang-analyzer-unix.Malloc) */
			idle_drop(u);
		}
	}
}

void
upstream_pools_free(struct upstream_worker *uw)
{
	struct pool	*p, *next;

	upstream_close_idle(uw);
	for (p = uw->allpools; p != NULL; p = next) {
		next = p->next;
		uptls_peer_free(p->tls);
		free(p);
	}
	uw->allpools = NULL;
}
