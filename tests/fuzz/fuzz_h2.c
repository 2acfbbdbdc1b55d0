/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * libFuzzer target for the HTTP/2 client session (proxy/h2.c) and what it
 * drives: the input is the byte stream a client sends after the TLS
 * handshake (the connection preface is prepended unless the input starts
 * with it, so frames are reached at once).  A real struct conn on one end
 * of a socketpair carries it, on a worker assembled here as worker.c
 * would, with the routes of fuzz_h2.yaml: an auth: none route whose
 * backend is a closed port (the stub upstream: every forwarded stream
 * meets a refused connect, then a backend marked down, and gets a 502 or
 * 503), so the whole path from frames to forward.c and back runs.  The
 * event loop runs until the session is idle; then the client side closes
 * and the connection must go away (no leak: ASan checks at exit).
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "conf/conf.h"
#include "conf/errs.h"
#include "proxy/access.h"
#include "proxy/bodybuf.h"
#include "proxy/conn.h"
#include "proxy/forward.h"
#include "proxy/gen.h"
#include "proxy/h2.h"
#include "proxy/log.h"
#include "proxy/metrics.h"
#include "proxy/upstream.h"
#include "tests/fuzz/fuzz.h"

static struct event_base	*base;
static struct conn_worker	 cw;
static struct forward_worker	 fw;
static struct upstream_worker	 uw;
static struct access_worker	 al;

static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

static void
fuzz_gone_cb(void *arg)
{
	(void)arg;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct conf_errs	 errs = { 0 };
	struct conf		*cf;
	struct gen		*g;
	const char		*path;
	char			 err[256];

	(void)argc;
	(void)argv;
	if ((path = getenv("FUZZ_H2_CONF")) == NULL)
		path = FUZZ_SRCDIR "/fuzz_h2.yaml";
	if (conf_load(path, &cf, &errs) == -1) {
		fprintf(stderr, "fuzz_h2: cannot load %s:\n", path);
		conf_errs_print(&errs, stderr);
		abort();
	}
	if (log_init(NULL, "off", getenv("FUZZ_H2_DEBUG") ? 3 : 0) == -1)
		abort();
	if ((g = gen_new(cf, NULL, err, sizeof(err))) == NULL) {
		fprintf(stderr, "fuzz_h2: %s\n", err);
		abort();
	}
	if ((base = event_base_new()) == NULL)
		abort();
	TAILQ_INIT(&cw.conns);
	uw.base = base;
	cw.base = base;
	cw.bodybuf = bodybuf_new(base);
	cw.m = metrics_worker_new();
	cw.h2 = h2_worker_new();
	fw.bodybuf = cw.bodybuf;
	fw.up = &uw;
	fw.m = cw.m;
	cw.fw = &fw;
	cw.al = &al;
	cw.gone = fuzz_gone_cb;
	cw.wg = wgen_new(NULL, 0, g);
	return (0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sockaddr_in	 sin;
	struct conn		*c;
	char			 sink[65536];
	int			 sv[2], i;
	size_t			 off = 0;
	ssize_t			 n;

	if (base == NULL)
		LLVMFuzzerInitialize(NULL, NULL);
	if (size > 256 * 1024)
		return (0);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == -1)
		abort();
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(40000);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	conn_accept(&cw, 0, sv[0], (struct sockaddr *)&sin, sizeof(sin));
	c = TAILQ_LAST(&cw.conns, conn_list);
	FUZZ_CHECK(c != NULL && cw.nconns == 1);
	h2_start(c);
	if (size < sizeof(preface) - 1 ||
	    memcmp(data, preface, sizeof(preface) - 1) != 0)
		(void)write(sv[1], preface, sizeof(preface) - 1);
	/* Feed the input as the socket takes it; read what comes back. */
	for (i = 0; i < 2000 && cw.nconns > 0; i++) {
		if (off < size) {
			n = write(sv[1], data + off, size - off);
			if (n > 0)
				off += (size_t)n;
		}
		event_base_loop(base, EVLOOP_NONBLOCK);
		while (read(sv[1], sink, sizeof(sink)) > 0)
			;
		if (off == size && i > 50)
			break;
	}
	/* The client goes away: every stream must end, the conn be freed. */
	close(sv[1]);
	for (i = 0; i < 2000 && cw.nconns > 0; i++)
		event_base_loop(base, EVLOOP_NONBLOCK);
	FUZZ_CHECK(cw.nconns == 0);
	/* Idle pooled or connecting upstreams go too (a closed port). */
	upstream_close_idle(&uw);
	return (0);
}
