/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * Worker threads.  Each worker runs its own event_base with its own
 * SO_REUSEPORT listeners, so that nothing is shared on the request path;
 * the main thread (server.c) talks to it through a pipe of one-byte
 * commands.  struct worker is assembled from parts that their modules
 * own and declare in their own headers: the client sessions' part (the
 * generation, the connections, the drain flag, the exchange free list),
 * upstream's pools, forward's head buffer, access's log buffer, the
 * metrics block and the request-body budget.  Only worker.c, server.c
 * and admin.c (the floors above the client sessions) see the whole.
 */

#ifndef PROXY_WORKER_H
#define PROXY_WORKER_H

#include <sys/queue.h>

#include <pthread.h>
#include <stddef.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "proxy/access.h"
#include "proxy/conn.h"
#include "proxy/forward.h"
#include "proxy/gen.h"
#include "proxy/upstream.h"
#include "proxy/xchg.h"

struct metrics_worker;
struct bodybuf;

/* Commands of the main thread, one byte each on the worker's pipe. */
#define WORKER_CTL_RELOAD	'R'	/* switch to gen_current() */
#define WORKER_CTL_DRAIN	'T'	/* stop accepting, finish, exit */
#define WORKER_CTL_QUIT		'Q'	/* exit now */
#define WORKER_CTL_DNS		'D'	/* backend addresses changed */

/* One listening socket of one worker. */
struct wlistener {
	struct worker		*w;
	struct evconnlistener	*lev;
	char			*address;	/* as in the conf */
	int			 tls;
	int			 idx;		/* listener index in w->gen */
	struct event		*retry;		/* EMFILE back-off timer */
	TAILQ_ENTRY(wlistener)	 entry;
};
TAILQ_HEAD(wlistener_list, wlistener);

struct worker {
	unsigned		 id;
	pthread_t		 thread;
	struct event_base	*base;
	int			 ctl[2];	/* pipe: main -> worker */
	struct event		*ctl_ev;
	struct event		*tick;		/* 1 s housekeeping */
	struct wlistener_list	 listeners;
	int			 accept_paused;
	struct conn_worker	 cw;		/* conn.h: generation, conns,
						 * drain flag, free exchanges */
	struct upstream_worker	 up;		/* upstream.h: pools */
	struct forward_worker	 fw;		/* forward.h: head buffer */
	struct access_worker	 al;		/* access.h: log buffer */
	struct metrics_worker	*m;
	struct bodybuf		*bodybuf;	/* request-body budget */
};

/*
 * Set up worker w (zeroed by the caller) as number id under generation g
 * (referenced, not taken): event base, pipe, timers, listeners.  Returns
 * 0, or -1 with a reason in err; worker_teardown() frees what was set up
 * either way.
 */
int	 worker_setup(struct worker *w, unsigned id, struct gen *g,
	    char *err, size_t errlen);

/* The thread body (pthread_create's start routine; arg is the worker):
 * runs the loop until told to stop, then closes what is left. */
void	*worker_main(void *arg);

/* Free everything worker_setup() made; the thread must have ended. */
void	 worker_teardown(struct worker *w);

/* Send one WORKER_CTL_* byte to w (main thread; never blocks). */
void	 worker_tell(struct worker *w, char cmd);

#endif /* PROXY_WORKER_H */
