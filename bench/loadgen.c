/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * loadgen: the HTTP/1.1 load generator of the benchmark (bench/run.sh).  It
 * exists because wrk cannot present a client certificate: it drives N
 * connections over plain TCP or TLS (optionally with a client certificate
 * chain from one PEM file), either keep-alive, one new (full or resumed)
 * handshake per request, or "idle" (connect, one request, then hold the
 * connection so that the server's memory per connection can be measured).
 * Latency goes into a log-linear histogram with microsecond resolution, so
 * the percentiles are real, not averages.  Each thread runs its own
 * event_base over its share of the connections; nothing is allocated per
 * request in keep-alive steady state (the request is built once, every
 * connection owns a fixed receive buffer, responses are parsed in place and
 * discarded).  It can also sample other processes (--watch) from /proc at
 * the edges of the measurement window, which is how run.sh gets the CPU
 * time and memory of the proxy under test without racing the load.
 * With --h2 it speaks HTTP/2 instead (ALPN h2, nghttp2's client session,
 * --streams concurrent streams per connection); the measurements and the
 * report are the same, so run.sh compares both protocols alike.
 * It is not part of gridfront and links nothing from it.
 */

#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/event_struct.h>
#include <nghttp2/nghttp2.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "bench/hdrscan.h"

/* ------------------------------------------------------------------ */
/* Limits and constants                                               */
/* ------------------------------------------------------------------ */

#define RBUF_SIZE	(32 * 1024)	/* per connection; holds a whole head */
#define MAX_HEADERS	32		/* --header options */
#define MAX_WATCH	4		/* --watch groups */
#define MAX_WATCH_PIDS	16
#define BODY_INLINE_MAX	(64 * 1024)	/* bodies up to this go in one buffer */
#define RECONNECT_MS	20		/* pause after a failed connect */
#define H2_MAX_STREAMS	1024		/* --streams */
#define H2_MAX_NV	(MAX_HEADERS + 8)
#define H2_WINDOW	((1 << 30) - 1)	/* as h2load's default -w/-W 30 */
#define H2_WBUF_BATCH	16384		/* frames gathered per SSL_write */
#define H2_TOKEN_HDR	"x-echo-token"	/* --check-token: bench/origin */
#define H2_REQID_HDR	"x-request-id"	/* --check-token: tests/e2e/backend */

/* Histogram: values below 2*SUB are exact, then SUB buckets per octave. */
#define HIST_SUB_BITS	6
#define HIST_SUB	(1u << HIST_SUB_BITS)
#define HIST_NB		((64 - HIST_SUB_BITS + 2) * HIST_SUB)

enum lg_mode {
	MODE_KEEPALIVE = 0,
	MODE_HANDSHAKE,
	MODE_IDLE
};

/* Error kinds, as reported. */
enum lg_err {
	ERR_CONNECT = 0,	/* socket/connect failed or refused */
	ERR_TLS,		/* handshake failed */
	ERR_STATUS,		/* response status not the expected one */
	ERR_TIMEOUT,		/* no progress for --timeout ms */
	ERR_IO,			/* reset, EOF mid-response, write failure */
	ERR_PARSE,		/* malformed or oversized response */
	ERR_RESET,		/* h2: stream reset or refused by the server */
	ERR_TOKEN,		/* --check-token: answer of another request */
	ERR_NKINDS
};

static const char *const err_names[ERR_NKINDS] = {
	"connect", "tls", "status", "timeout", "io", "parse", "reset",
	"wrong_stream"
};

enum lc_state {
	LC_NEW = 0,
	LC_CONNECTING,
	LC_HANDSHAKE,
	LC_SEND,
	LC_RECV,
	LC_HOLD,		/* idle mode: request done, holding */
	LC_H2,			/* h2 session running (all streams) */
	LC_WAIT,		/* reconnect back-off */
	LC_DONE
};

/* Response parser states. */
enum rs_state {
	RS_HEAD = 0,
	RS_BODY_CL,
	RS_BODY_EOF,
	RS_CHUNK_SIZE,
	RS_CHUNK_EXT,
	RS_CHUNK_DATA,
	RS_CHUNK_CRLF,
	RS_TRAILER
};

enum parse_rc {
	P_MORE = 0,
	P_DONE,
	P_ERROR
};

/* ------------------------------------------------------------------ */
/* Options and shared state                                           */
/* ------------------------------------------------------------------ */

struct watch {
	char		 name[32];
	pid_t		 pids[MAX_WATCH_PIDS];
	int		 npids;
	/* Samples. */
	double		 cpu0, cpu1;
	long		 rss0, rss1, hwm1;	/* KiB */
	long		 pss1;			/* KiB; shared pages split */
};

struct opts {
	int		 tls;
	char		 host[256];
	char		 port[16];
	char		*path;
	int		 conns;
	double		 duration;	/* seconds; 0 = use nreq */
	uint64_t	 nreq;
	double		 warmup;
	enum lg_mode	 mode;
	const char	*cert;
	const char	*cafile;
	const char	*sni;
	int		 resume;
	int		 tls13;
	size_t		 body_bytes;
	const char	*body_file;
	const char	*method;
	const char	*headers[MAX_HEADERS];
	int		 nheaders;
	int		 threads;
	int		 json;
	unsigned	 timeout_ms;
	double		 hard_timeout;
	int		 idle_ramp;	/* idle mode: set-ups in flight */
	int		 expect_status;	/* 0: any 2xx */
	const char	*label;
	struct watch	 watch[MAX_WATCH];
	int		 nwatch;
	int		 h2;		/* --h2: HTTP/2 over TLS (ALPN h2) */
	int		 streams;	/* h2: concurrent streams per conn */
	int		 check_token;	/* h2: every answer echoes its token */
};

static struct opts	 opt;

/* Built once, read-only afterwards, shared by every thread. */
static struct sockaddr_storage	 dst;
static socklen_t		 dstlen;
static SSL_CTX			*ssl_ctx;
static char			*req_head;	/* head, or head+body inline */
static size_t			 req_head_len;
static char			*req_body;	/* separate body, or NULL */
static size_t			 req_body_len;
static int			 req_is_head;	/* HEAD: no response body */
static nghttp2_nv		 h2_nv[H2_MAX_NV];	/* request, h2 */
static size_t			 h2_nnv;
static size_t			 h2_path_nv;	/* index of :path */
static nghttp2_session_callbacks	*h2_cbs;

/* Cross-thread counters. */
static atomic_uint_fast64_t	 claimed;	/* -n: requests handed out */
static atomic_int		 idle_ready;	/* idle mode: conns holding */
static atomic_int		 idle_failed;	/* idle mode: gave up */
static atomic_int		 idle_closed;	/* idle mode: server closed */
static atomic_int		 idle_stop;	/* idle mode: hold is over */

/* Times on CLOCK_MONOTONIC, ns. */
static uint64_t			 t_start, t_begin, t_end, t_hard;

struct stats {
	uint64_t	 ok;
	uint64_t	 err[ERR_NKINDS];
	uint64_t	 warm_ok;		/* completed before the window */
	uint64_t	 bytes_in;
	uint64_t	 bytes_out;
	uint64_t	 handshakes;
	uint64_t	 resumed;
	uint64_t	 hs_ns;			/* total connect+handshake time */
	uint64_t	 reconnects;		/* server closed a keep-alive */
	uint64_t	 status_class[6];	/* 1xx..5xx, [0] other */
	uint64_t	 h2_goaway;		/* h2: GOAWAYs received */
	uint64_t	 tokens_checked;	/* --check-token: matched */
	int		 bad_status;		/* first unexpected status */
	uint64_t	 lat_min, lat_max, lat_sum;
	uint64_t	 last_done;		/* ns of the last completion */
	uint64_t	 hist[HIST_NB];
};

struct lconn;

/* One h2 stream slot of a connection (--streams of them). */
struct h2stream {
	struct lconn	*c;
	int32_t		 id;		/* 0: slot free */
	int		 status;	/* final :status */
	uint64_t	 t_req;		/* submitted, ns */
	uint64_t	 sent;		/* request body bytes handed out */
	int		 token_ok;	/* --check-token: echo matched */
	int		 token_bad;	/* --check-token: echo of another */
	char		 token[24];	/* --check-token: ours */
	char		 path[512];	/* --check-token: :path with token */
};

struct worker {
	int		 id;
	pthread_t	 thr;
	struct event_base *base;
	const struct timeval *tv_io;	/* common timeout for I/O waits */
	struct event	*ev_begin;
	struct event	*ev_poll;		/* idle mode: watches idle_stop */
	struct event	*ev_ramp;		/* idle mode: starts more conns */
	int		 next;			/* idle mode: next conn to start */
	int		 slots;			/* idle mode: set-ups allowed */
	struct event	*ev_end;
	struct event	*ev_hard;
	/* Byte counters at the window edges, taken in this thread. */
	uint64_t	 in0, out0, in1, out1;
	int		 ended;
	struct lconn	*conns;
	int		 nconns;
	int		 active;		/* conns not LC_DONE */
	int		 stopping;
	char		 tls_info[96];		/* first handshake's parameters */
	struct stats	 st;
};

struct lconn {
	struct worker	*w;
	struct event	 ev;
	int		 armed;		/* ev is pending */
	short		 evmask;	/* what ev waits for; 0: timer */
	int		 fd;
	SSL		*ssl;
	SSL_SESSION	*sess;		/* --resume: last session seen */
	enum lc_state	 st;
	int		 counted_ready;	/* idle mode bookkeeping */
	uint64_t	 t_conn;	/* connect() started, ns */
	uint64_t	 t_req;		/* request started, ns */
	uint64_t	 nreq;		/* requests completed on this conn */
	size_t		 off;		/* request bytes sent */
	/* Response parser. */
	enum rs_state	 rs;
	int		 status;
	int		 close_after;
	uint64_t	 remain;
	unsigned	 linelen;
	int		 digits;
	size_t		 rlen;		/* bytes in rbuf */
	size_t		 pos;		/* parsed up to here */
	size_t		 scan;		/* head end search resumes here */
	/* h2 (--h2): the session, its stream slots and pending output. */
	nghttp2_session	*h2;
	struct h2stream	*hs;		/* opt.streams slots, kept across
					 * reconnects */
	int		 inflight;	/* streams open */
	uint64_t	 seq;		/* h2: requests submitted */
	int		 goaway;	/* h2: the server sent GOAWAY */
	int		 h2_quit;	/* h2: finish once out of nghttp2 */
	unsigned char	*wbuf;		/* frames not yet written */
	size_t		 wlen, woff, wcap;
	char		 rbuf[RBUF_SIZE];
};

static struct worker	*workers;

static void	die(const char *, ...) __attribute__((noreturn));

/* ------------------------------------------------------------------ */
/* Small helpers                                                      */
/* ------------------------------------------------------------------ */

static void
die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("loadgen: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec);
}

static void
sleep_until(uint64_t t)
{
	struct timespec ts;

	ts.tv_sec = (time_t)(t / 1000000000ull);
	ts.tv_nsec = (long)(t % 1000000000ull);
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) ==
	    EINTR)
		;
}

static void
ns_to_tv(uint64_t ns, struct timeval *tv)
{
	tv->tv_sec = (time_t)(ns / 1000000000ull);
	tv->tv_usec = (suseconds_t)((ns % 1000000000ull) / 1000);
}

/* ------------------------------------------------------------------ */
/* Histogram                                                          */
/* ------------------------------------------------------------------ */

static unsigned
hist_index(uint64_t v)
{
	unsigned msb, shift;

	if (v < 2 * HIST_SUB)
		return ((unsigned)v);
	msb = 63u - (unsigned)__builtin_clzll(v);
	shift = msb - HIST_SUB_BITS;
	/* v >> shift lies in [SUB, 2*SUB). */
	return (shift * HIST_SUB + (unsigned)(v >> shift));
}

/* Highest value that maps to bucket i (HDR's "highest equivalent"). */
static uint64_t
hist_upper(unsigned i)
{
	unsigned shift;
	uint64_t m;

	if (i < 2 * HIST_SUB)
		return (i);
	shift = i / HIST_SUB - 1;
	m = i - (uint64_t)shift * HIST_SUB;
	return (((m + 1) << shift) - 1);
}

static void
hist_record(struct stats *st, uint64_t us)
{
	st->hist[hist_index(us)]++;
	if (st->ok == 0 || us < st->lat_min)
		st->lat_min = us;
	if (us > st->lat_max)
		st->lat_max = us;
	st->lat_sum += us;
}

static uint64_t
hist_percentile(const struct stats *st, double p)
{
	uint64_t total = 0, rank, cum = 0;
	unsigned i;

	for (i = 0; i < HIST_NB; i++)
		total += st->hist[i];
	if (total == 0)
		return (0);
	rank = (uint64_t)((p / 100.0) * (double)total + 0.999999);
	if (rank < 1)
		rank = 1;
	for (i = 0; i < HIST_NB; i++) {
		cum += st->hist[i];
		if (cum >= rank) {
			uint64_t u = hist_upper(i);
			/* Never report above the true maximum. */
			return (u > st->lat_max ? st->lat_max : u);
		}
	}
	return (st->lat_max);
}

/* ------------------------------------------------------------------ */
/* /proc sampling of watched processes                                */
/* ------------------------------------------------------------------ */

/* utime+stime of one process (all its threads), seconds; -1 if gone. */
static double
proc_cpu(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long long ut, stt;
	ssize_t n;
	int fd, i;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((fd = open(path, O_RDONLY)) == -1)
		return (-1);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return (-1);
	buf[n] = '\0';
	/* The command name may contain spaces; fields restart after ')'. */
	if ((p = strrchr(buf, ')')) == NULL)
		return (-1);
	p++;
	/* Field 3 (state) is the first after ')'; utime is field 14. */
	for (i = 0; i < 11; i++) {
		p = strchr(p + 1, ' ');
		if (p == NULL)
			return (-1);
	}
	if (sscanf(p, " %llu %llu", &ut, &stt) != 2)
		return (-1);
	return ((double)(ut + stt) / (double)sysconf(_SC_CLK_TCK));
}

/* One "Key:   N kB" line of /proc/PID/FILE, KiB; -1 if absent. */
static long
proc_kib(pid_t pid, const char *file, const char *key)
{
	char path[64], line[256];
	size_t klen = strlen(key);
	long v = -1;
	FILE *fp;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	if ((fp = fopen(path, "r")) == NULL)
		return (-1);
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
			v = strtol(line + klen + 1, NULL, 10);
			break;
		}
	}
	fclose(fp);
	return (v);
}

static void
watch_sample(int end)
{
	struct watch *wt;
	double cpu;
	long rss, hwm, pss;
	int i, j;

	for (i = 0; i < opt.nwatch; i++) {
		wt = &opt.watch[i];
		cpu = 0;
		rss = 0;
		hwm = 0;
		pss = 0;
		for (j = 0; j < wt->npids; j++) {
			pid_t pid = wt->pids[j];
			double c = proc_cpu(pid);
			long r = proc_kib(pid, "status", "VmRSS");
			long h = proc_kib(pid, "status", "VmHWM");
			long ps = end ? proc_kib(pid, "smaps_rollup", "Pss") : 0;

			if (c > 0)
				cpu += c;
			if (r > 0)
				rss += r;
			if (h > 0)
				hwm += h;
			if (ps > 0)
				pss += ps;
		}
		if (end) {
			wt->cpu1 = cpu;
			wt->rss1 = rss;
			wt->hwm1 = hwm;
			wt->pss1 = pss;
		} else {
			wt->cpu0 = cpu;
			wt->rss0 = rss;
		}
	}
}

static double
self_cpu(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ((double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6);
}

/* ------------------------------------------------------------------ */
/* Connection life cycle                                              */
/* ------------------------------------------------------------------ */

static void	conn_cb(evutil_socket_t, short, void *);
static void	conn_start(struct lconn *);
static void	conn_recv(struct lconn *);
static void	h2_start(struct lconn *);
static void	h2_io(struct lconn *);

/*
 * Idle mode sets connections up a few at a time (--idle-ramp), so that a
 * proxy never sees more than that many first requests at once: it then
 * needs only a few upstream connections, and the RSS growth measured is
 * that of the held client connections, not of an upstream pool.
 */
static void
ramp_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;

	(void)fd;
	(void)what;
	while (w->slots > 0 && w->next < w->nconns && !w->stopping) {
		w->slots--;
		conn_start(&w->conns[w->next++]);
	}
}

/* Idle mode: a connection finished setting up (or failed to). */
static void
idle_slot_free(struct worker *w)
{
	w->slots++;
	event_active(w->ev_ramp, EV_TIMEOUT, 0);
}

/*
 * Arm the connection's single event for what (EV_READ or EV_WRITE).  The
 * event is persistent: while the connection keeps waiting for the same
 * thing (the keep-alive steady state) nothing is touched, so no epoll_ctl
 * is issued per request.  Its timeout restarts on every activation, which
 * makes --timeout a "no progress" timeout.
 */
static void
conn_wait(struct lconn *c, short what)
{
	struct worker *w = c->w;

	if (c->armed && c->evmask == what)
		return;
	if (c->armed)
		event_del(&c->ev);
	event_assign(&c->ev, w->base, c->fd, what | EV_PERSIST, conn_cb, c);
	event_add(&c->ev, c->st != LC_HOLD ? w->tv_io : NULL);
	c->armed = 1;
	c->evmask = what;
}

static int
in_window(uint64_t t)
{
	return (t >= t_begin && t < t_end);
}

/* Tear down the socket (and TLS), keep the slot.  graceful sends a TLS
 * close_notify first; it never blocks. */
static void
conn_drop(struct lconn *c, int graceful)
{
	if (c->armed) {
		event_del(&c->ev);
		c->armed = 0;
	}
	c->evmask = 0;
	if (c->h2 != NULL) {
		int i;

		/* Its streams die with it; the slots stay for the next. */
		nghttp2_session_del(c->h2);
		c->h2 = NULL;
		for (i = 0; i < opt.streams; i++)
			c->hs[i].id = 0;
		c->inflight = 0;
		c->wlen = c->woff = 0;
	}
	if (c->ssl != NULL) {
		if (graceful)
			(void)SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
		c->ssl = NULL;
		ERR_clear_error();
	}
	if (c->fd != -1) {
		close(c->fd);
		c->fd = -1;
	}
}

static void
conn_finish(struct lconn *c)
{
	struct worker *w = c->w;

	conn_drop(c, 1);
	if (c->st == LC_DONE)
		return;
	c->st = LC_DONE;
	if (--w->active == 0 && opt.duration == 0)
		event_base_loopbreak(w->base);
}

static void
conn_fail(struct lconn *c, enum lg_err kind)
{
	struct worker *w = c->w;
	uint64_t t = now_ns();
	struct timeval tv;

	/* h2: every stream in flight is lost with its connection. */
	if (in_window(t) || opt.duration == 0)
		w->st.err[kind] += c->inflight > 1 ? (uint64_t)c->inflight : 1;
	conn_drop(c, 0);
	if (opt.mode == MODE_IDLE) {
		if (!c->counted_ready) {
			atomic_fetch_add(&idle_failed, 1);
			idle_slot_free(w);
		} else
			atomic_fetch_sub(&idle_ready, 1);
		c->counted_ready = 1;
		conn_finish(c);
		return;
	}
	if (w->stopping) {
		conn_finish(c);
		return;
	}
	/* -n: the claimed request was lost; count it as done (failed). */
	if (kind == ERR_CONNECT) {
		/* Back off a little rather than spin on a dead port. */
		c->st = LC_WAIT;
		tv.tv_sec = 0;
		tv.tv_usec = RECONNECT_MS * 1000;
		event_assign(&c->ev, w->base, -1, 0, conn_cb, c);
		event_add(&c->ev, &tv);
		c->armed = 1;
		c->evmask = 0;
		return;
	}
	conn_start(c);
}

/* May this connection start another request?  Claims one under -n. */
static int
conn_claim(struct lconn *c)
{
	if (c->w->stopping)
		return (0);
	if (opt.duration == 0 &&
	    atomic_fetch_add(&claimed, 1) >= opt.nreq)
		return (0);
	return (1);
}

static void
parser_reset(struct lconn *c)
{
	c->rs = RS_HEAD;
	c->status = 0;
	c->close_after = 0;
	c->remain = 0;
	c->linelen = 0;
	c->digits = 0;
	c->rlen = 0;
	c->pos = 0;
	c->scan = 0;
}

static void
conn_send(struct lconn *c)
{
	struct iovec iov[2];
	const char *p;
	size_t len, total = req_head_len + req_body_len;
	ssize_t n;
	int r, e;

	c->st = LC_SEND;
	while (c->off < total) {
		if (c->ssl == NULL) {
			int niov = 0;

			if (c->off < req_head_len) {
				iov[niov].iov_base = req_head + c->off;
				iov[niov++].iov_len = req_head_len - c->off;
				if (req_body_len > 0) {
					iov[niov].iov_base = req_body;
					iov[niov++].iov_len = req_body_len;
				}
			} else {
				iov[niov].iov_base = req_body +
				    (c->off - req_head_len);
				iov[niov++].iov_len = total - c->off;
			}
			n = writev(c->fd, iov, niov);
			if (n == -1) {
				if (errno == EAGAIN || errno == EWOULDBLOCK) {
					conn_wait(c, EV_WRITE);
					return;
				}
				if (errno == EINTR)
					continue;
				conn_fail(c, ERR_IO);
				return;
			}
		} else {
			if (c->off < req_head_len) {
				p = req_head + c->off;
				len = req_head_len - c->off;
			} else {
				p = req_body + (c->off - req_head_len);
				len = total - c->off;
			}
			if (len > INT_MAX)
				len = INT_MAX;
			ERR_clear_error();
			r = SSL_write(c->ssl, p, (int)len);
			if (r <= 0) {
				e = SSL_get_error(c->ssl, r);
				if (e == SSL_ERROR_WANT_WRITE) {
					conn_wait(c, EV_WRITE);
					return;
				}
				if (e == SSL_ERROR_WANT_READ) {
					conn_wait(c, EV_READ);
					return;
				}
				conn_fail(c, ERR_IO);
				return;
			}
			n = r;
		}
		c->off += (size_t)n;
		c->w->st.bytes_out += (uint64_t)n;
	}
	/*
	 * The response cannot be there yet: wait rather than try a read.
	 * With read-ahead, TLS may hold bytes that arrived with the last
	 * response (a late session ticket); epoll would not report those.
	 */
	c->st = LC_RECV;
	if (c->ssl != NULL && SSL_has_pending(c->ssl)) {
		conn_recv(c);
		return;
	}
	conn_wait(c, EV_READ);
}

static void
conn_request(struct lconn *c)
{
	if (opt.mode != MODE_HANDSHAKE) {
		if (!conn_claim(c)) {
			conn_finish(c);
			return;
		}
		c->t_req = now_ns();
	} else
		c->t_req = c->t_conn;
	c->off = 0;
	parser_reset(c);
	conn_send(c);
}

static int
new_session_cb(SSL *ssl, SSL_SESSION *sess)
{
	struct lconn *c = SSL_get_app_data(ssl);

	if (c == NULL)
		return (0);
	SSL_SESSION_free(c->sess);
	c->sess = sess;
	return (1);	/* we keep the reference */
}

static void
conn_handshake(struct lconn *c)
{
	struct worker *w = c->w;
	int r, e;

	c->st = LC_HANDSHAKE;
	ERR_clear_error();
	r = SSL_do_handshake(c->ssl);
	if (r == 1) {
		uint64_t t = now_ns();

		if (in_window(t) || opt.duration == 0 ||
		    opt.mode == MODE_IDLE) {
			w->st.handshakes++;
			if (SSL_session_reused(c->ssl))
				w->st.resumed++;
			w->st.hs_ns += t - c->t_conn;
		}
		if (w->tls_info[0] == '\0')
			snprintf(w->tls_info, sizeof(w->tls_info), "%s %s%s",
			    SSL_get_version(c->ssl),
			    SSL_get_cipher_name(c->ssl), opt.h2 ? " h2" : "");
		if (opt.h2) {
			h2_start(c);
			return;
		}
		conn_request(c);
		return;
	}
	e = SSL_get_error(c->ssl, r);
	if (e == SSL_ERROR_WANT_READ)
		conn_wait(c, EV_READ);
	else if (e == SSL_ERROR_WANT_WRITE)
		conn_wait(c, EV_WRITE);
	else {
		if (getenv("LOADGEN_DEBUG") != NULL)
			ERR_print_errors_fp(stderr);
		conn_fail(c, ERR_TLS);
	}
}

static void
conn_connected(struct lconn *c)
{
	if (ssl_ctx == NULL) {
		conn_request(c);
		return;
	}
	if ((c->ssl = SSL_new(ssl_ctx)) == NULL) {
		conn_fail(c, ERR_TLS);
		return;
	}
	SSL_set_app_data(c->ssl, c);
	SSL_set_fd(c->ssl, c->fd);
	SSL_set_connect_state(c->ssl);
	if (opt.sni != NULL)
		SSL_set_tlsext_host_name(c->ssl, opt.sni);
	if (opt.resume && c->sess != NULL)
		SSL_set_session(c->ssl, c->sess);
	conn_handshake(c);
}

static void
conn_start(struct lconn *c)
{
	int one = 1;

	if (opt.mode == MODE_HANDSHAKE && !conn_claim(c)) {
		conn_finish(c);
		return;
	}
	c->st = LC_CONNECTING;
	c->t_conn = now_ns();
	c->fd = socket(dst.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (c->fd == -1) {
		conn_fail(c, ERR_CONNECT);
		return;
	}
	(void)setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(c->fd, (struct sockaddr *)&dst, dstlen) == 0) {
		conn_connected(c);
		return;
	}
	if (errno != EINPROGRESS) {
		conn_fail(c, ERR_CONNECT);
		return;
	}
	conn_wait(c, EV_WRITE);
}

/*
 * Account one complete response with this status to a request made at
 * t_req (both protocols).  Returns 1 when the status is the expected one.
 */
static int
record_response(struct worker *w, int status, uint64_t t_req)
{
	struct stats *st = &w->st;
	uint64_t t = now_ns();
	int ok, cls;

	ok = opt.expect_status != 0 ? status == opt.expect_status :
	    (status >= 200 && status < 300);
	if (in_window(t) || (opt.duration == 0 && t_begin <= t)) {
		cls = status / 100;
		st->status_class[cls >= 1 && cls <= 5 ? cls : 0]++;
		if (ok) {
			hist_record(st, (t - t_req) / 1000);
			st->ok++;
			st->last_done = t;
		} else {
			st->err[ERR_STATUS]++;
			if (st->bad_status == 0)
				st->bad_status = status;
		}
	} else if (t < t_begin)
		st->warm_ok++;
	return (ok);
}

/* A complete response was parsed. */
static void
conn_complete(struct lconn *c)
{
	struct worker *w = c->w;
	struct stats *st = &w->st;
	int ok;

	c->nreq++;
	ok = record_response(w, c->status, c->t_req);

	if (opt.mode == MODE_IDLE) {
		if (!c->counted_ready) {
			c->counted_ready = 1;
			idle_slot_free(w);
			if (ok)
				atomic_fetch_add(&idle_ready, 1);
			else {
				atomic_fetch_add(&idle_failed, 1);
				conn_finish(c);
				return;
			}
		}
		/* Hold: wait for nothing but the server closing on us. */
		c->st = LC_HOLD;
		conn_wait(c, EV_READ);
		return;
	}
	if (opt.mode == MODE_HANDSHAKE) {
		conn_drop(c, 1);
		if (w->stopping) {
			conn_finish(c);
			return;
		}
		conn_start(c);
		return;
	}
	if (c->close_after) {
		st->reconnects++;
		conn_drop(c, 1);
		conn_start(c);
		return;
	}
	conn_request(c);
}

/* Parse the head in rbuf[0, hend).  Sets the body state. */
static int
parse_head(struct lconn *c, size_t hend)
{
	const char *p = c->rbuf, *e = c->rbuf + hend, *le, *v;
	int minor, chunked = 0, have_cl = 0, keepalive = 0, cclose = 0;
	uint64_t cl = 0;

	/* Status line: HTTP/1.x SSS ... */
	if (hend < 12 || memcmp(p, "HTTP/1.", 7) != 0 ||
	    !isdigit((unsigned char)p[7]) || p[8] != ' ' ||
	    !isdigit((unsigned char)p[9]) || !isdigit((unsigned char)p[10]) ||
	    !isdigit((unsigned char)p[11]))
		return (-1);
	minor = p[7] - '0';
	c->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
	if ((le = memchr(p, '\n', (size_t)(e - p))) == NULL)
		return (-1);
	for (p = le + 1; p < e; p = le + 1) {
		if ((le = memchr(p, '\n', (size_t)(e - p))) == NULL)
			break;
		if ((v = hdr_value(p, le, "content-length", 14)) != NULL) {
			char *end;

			errno = 0;
			cl = strtoull(v, &end, 10);
			if (end == v || errno != 0 ||
			    (have_cl && cl != c->remain))
				return (-1);
			c->remain = cl;
			have_cl = 1;
		} else if ((v = hdr_value(p, le, "transfer-encoding", 17)) !=
		    NULL) {
			if (hdr_has_token(v, le, "chunked"))
				chunked = 1;
		} else if ((v = hdr_value(p, le, "connection", 10)) != NULL) {
			if (hdr_has_token(v, le, "close"))
				cclose = 1;
			if (hdr_has_token(v, le, "keep-alive"))
				keepalive = 1;
		}
	}
	c->close_after = cclose || (minor == 0 && !keepalive);
	if (c->status >= 100 && c->status < 200)
		return (0);	/* interim; the caller skips it */
	/* RFC 9112 6.3: HEAD, 204 and 304 have no body. */
	if (req_is_head || c->status == 204 || c->status == 304) {
		c->rs = RS_BODY_CL;
		c->remain = 0;
	} else if (chunked) {
		c->rs = RS_CHUNK_SIZE;
		c->remain = 0;
		c->digits = 0;
	} else if (have_cl) {
		c->rs = RS_BODY_CL;
		c->remain = cl;
	} else {
		c->rs = RS_BODY_EOF;
		c->close_after = 1;
	}
	return (0);
}

static int
hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return (ch - '0');
	ch |= 0x20;
	if (ch >= 'a' && ch <= 'f')
		return (ch - 'a' + 10);
	return (-1);
}

/* Advance the parser over rbuf[pos, rlen). */
static enum parse_rc
parse(struct lconn *c)
{
	size_t take;
	char *h;
	int d;

	for (;;) {
		switch (c->rs) {
		case RS_HEAD: {
			size_t from = c->scan > c->pos + 3 ? c->scan - 3 :
			    c->pos;

			h = memmem(c->rbuf + from, c->rlen - from, "\r\n\r\n",
			    4);
			if (h == NULL) {
				c->scan = c->rlen;
				if (c->pos > 0) {
					/* Keep the partial head at 0. */
					memmove(c->rbuf, c->rbuf + c->pos,
					    c->rlen - c->pos);
					c->scan -= c->pos;
					c->rlen -= c->pos;
					c->pos = 0;
				}
				if (c->rlen == sizeof(c->rbuf))
					return (P_ERROR);
				return (P_MORE);
			}
			if (c->pos > 0) {
				size_t hl = (size_t)(h - c->rbuf) - c->pos;

				memmove(c->rbuf, c->rbuf + c->pos,
				    c->rlen - c->pos);
				c->rlen -= c->pos;
				c->pos = 0;
				h = c->rbuf + hl;
			}
			if (parse_head(c, (size_t)(h - c->rbuf) + 4) == -1)
				return (P_ERROR);
			c->pos = (size_t)(h - c->rbuf) + 4;
			c->scan = c->pos;
			if (c->status >= 100 && c->status < 200) {
				c->rs = RS_HEAD;
				continue;
			}
			break;
		}
		case RS_BODY_CL:
			take = c->rlen - c->pos;
			if (take > c->remain)
				take = (size_t)c->remain;
			c->pos += take;
			c->remain -= take;
			if (c->remain == 0)
				return (P_DONE);
			break;
		case RS_BODY_EOF:
			c->pos = c->rlen;
			break;
		case RS_CHUNK_SIZE:
		case RS_CHUNK_EXT:
			while (c->pos < c->rlen) {
				char ch = c->rbuf[c->pos++];

				if (ch == '\n') {
					if (c->digits == 0)
						return (P_ERROR);
					c->rs = c->remain == 0 ? RS_TRAILER :
					    RS_CHUNK_DATA;
					c->linelen = 0;
					break;
				}
				if (c->rs == RS_CHUNK_EXT || ch == '\r')
					continue;
				if ((d = hexval(ch)) >= 0) {
					if (c->digits >= 15)
						return (P_ERROR);
					c->remain = c->remain * 16 +
					    (uint64_t)d;
					c->digits++;
				} else if (ch == ';' || ch == ' ' ||
				    ch == '\t')
					c->rs = RS_CHUNK_EXT;
				else
					return (P_ERROR);
			}
			break;
		case RS_CHUNK_DATA:
			take = c->rlen - c->pos;
			if (take > c->remain)
				take = (size_t)c->remain;
			c->pos += take;
			c->remain -= take;
			if (c->remain == 0) {
				c->rs = RS_CHUNK_CRLF;
				c->linelen = 0;
			}
			break;
		case RS_CHUNK_CRLF:
			while (c->pos < c->rlen) {
				char ch = c->rbuf[c->pos++];

				if (ch == '\n') {
					c->rs = RS_CHUNK_SIZE;
					c->digits = 0;
					c->remain = 0;
					break;
				}
				if (ch != '\r')
					return (P_ERROR);
			}
			break;
		case RS_TRAILER:
			while (c->pos < c->rlen) {
				char ch = c->rbuf[c->pos++];

				if (ch == '\n') {
					if (c->linelen == 0)
						return (P_DONE);
					c->linelen = 0;
				} else if (ch != '\r')
					c->linelen++;
			}
			break;
		}
		if (c->pos == c->rlen) {
			/* Everything consumed: reuse the whole buffer. */
			c->pos = c->rlen = c->scan = 0;
			return (P_MORE);
		}
	}
}

static void
conn_recv(struct lconn *c)
{
	struct worker *w = c->w;
	size_t room;
	ssize_t n;
	int r, e;

	for (;;) {
		room = sizeof(c->rbuf) - c->rlen;
		if (c->ssl != NULL) {
			ERR_clear_error();
			r = SSL_read(c->ssl, c->rbuf + c->rlen, (int)room);
			if (r <= 0) {
				e = SSL_get_error(c->ssl, r);
				if (e == SSL_ERROR_WANT_READ) {
					conn_wait(c, EV_READ);
					return;
				}
				if (e == SSL_ERROR_WANT_WRITE) {
					conn_wait(c, EV_WRITE);
					return;
				}
				if (e == SSL_ERROR_ZERO_RETURN ||
				    (e == SSL_ERROR_SYSCALL && errno == 0))
					n = 0;
				else
					n = -1;
			} else
				n = r;
		} else {
			n = recv(c->fd, c->rbuf + c->rlen, room, 0);
			if (n == -1 && (errno == EAGAIN ||
			    errno == EWOULDBLOCK)) {
				conn_wait(c, EV_READ);
				return;
			}
			if (n == -1 && errno == EINTR)
				continue;
		}
		if (n <= 0) {
			if (n == 0 && c->rs == RS_BODY_EOF) {
				c->close_after = 1;
				conn_complete(c);
			} else
				conn_fail(c, ERR_IO);
			return;
		}
		w->st.bytes_in += (uint64_t)n;
		c->rlen += (size_t)n;
		switch (parse(c)) {
		case P_DONE:
			conn_complete(c);
			return;
		case P_ERROR:
			conn_fail(c, ERR_PARSE);
			return;
		case P_MORE:
			break;
		}
		/* A short plain read means the socket is drained. */
		if (c->ssl == NULL && (size_t)n < room) {
			conn_wait(c, EV_READ);
			return;
		}
	}
}

static void
conn_hold_event(struct lconn *c)
{
	char b[256];
	ssize_t n;

	/* Anything arriving on a held connection: read it (TLS tickets or
	 * the server closing).  EOF or error ends the hold. */
	if (c->ssl != NULL) {
		ERR_clear_error();
		n = SSL_read(c->ssl, b, sizeof(b));
		if (n <= 0) {
			int e = SSL_get_error(c->ssl, (int)n);

			if (e == SSL_ERROR_WANT_READ) {
				conn_wait(c, EV_READ);
				return;
			}
		} else {
			conn_wait(c, EV_READ);
			return;
		}
	} else {
		n = recv(c->fd, b, sizeof(b), 0);
		if (n > 0 || (n == -1 && errno == EAGAIN)) {
			conn_wait(c, EV_READ);
			return;
		}
	}
	atomic_fetch_add(&idle_closed, 1);
	atomic_fetch_sub(&idle_ready, 1);
	conn_finish(c);
}

/* ------------------------------------------------------------------ */
/* HTTP/2 (--h2)                                                      */
/* ------------------------------------------------------------------ */

/*
 * One nghttp2 client session per connection.  The socket side stays ours:
 * TLS records are read into rbuf and fed to nghttp2_session_mem_recv, and
 * the frames nghttp2_session_mem_send hands out are gathered into wbuf so
 * that the frames of several streams leave in one SSL_write.  Up to
 * --streams requests are in flight per connection; a slot is refilled as
 * soon as its stream closes.  nghttp2 copies each request's header block,
 * so unlike the HTTP/1.1 path this one allocates per request (inside
 * nghttp2), as h2load does.
 */

static void
h2_no_h2(SSL *ssl)
{
	const unsigned char *alpn = NULL;
	unsigned int alen = 0;

	SSL_get0_alpn_selected(ssl, &alpn, &alen);
	/* A clear message for run.sh to match; _exit because the other
	 * threads are still inside OpenSSL. */
	fprintf(stderr, "loadgen: server did not negotiate h2 (ALPN: %.*s)\n",
	    alen > 0 ? (int)alen : 4, alen > 0 ? (const char *)alpn : "none");
	_exit(3);
}

static int
h2_header_cb(nghttp2_session *s, const nghttp2_frame *frame,
    const uint8_t *name, size_t namelen, const uint8_t *value,
    size_t valuelen, uint8_t flags, void *user)
{
	struct h2stream *hs;

	(void)flags;
	(void)user;
	if (frame->hd.type != NGHTTP2_HEADERS)
		return (0);
	hs = nghttp2_session_get_stream_user_data(s, frame->hd.stream_id);
	if (hs == NULL)
		return (0);
	if (namelen == 7 && memcmp(name, ":status", 7) == 0) {
		/* An interim 1xx is overwritten by the final status. */
		if (valuelen == 3 && isdigit(value[0]) && isdigit(value[1]) &&
		    isdigit(value[2]))
			hs->status = (value[0] - '0') * 100 +
			    (value[1] - '0') * 10 + (value[2] - '0');
		else
			hs->status = -1;
	} else if (opt.check_token &&
	    ((namelen == sizeof(H2_TOKEN_HDR) - 1 &&
	    memcmp(name, H2_TOKEN_HDR, namelen) == 0) ||
	    (namelen == sizeof(H2_REQID_HDR) - 1 &&
	    memcmp(name, H2_REQID_HDR, namelen) == 0))) {
		/* Either echo must carry our token; one wrong is enough. */
		if (valuelen == strlen(hs->token) &&
		    memcmp(value, hs->token, valuelen) == 0)
			hs->token_ok = 1;
		else
			hs->token_bad = 1;
	}
	return (0);
}

static int
h2_frame_cb(nghttp2_session *s, const nghttp2_frame *frame, void *user)
{
	struct lconn *c = user;

	(void)s;
	if (frame->hd.type == NGHTTP2_GOAWAY) {
		/* No new streams; the open ones below last_stream_id finish,
		 * then the connection is replaced. */
		c->goaway = 1;
		c->w->st.h2_goaway++;
	}
	return (0);
}

/* A stream ended (answered, reset, or lost with the session). */
static int
h2_close_cb(nghttp2_session *s, int32_t id, uint32_t err, void *user)
{
	struct lconn *c = user;
	struct worker *w = c->w;
	struct h2stream *hs = nghttp2_session_get_stream_user_data(s, id);
	uint64_t t = now_ns();
	int ok = 0, counted;

	if (hs == NULL || hs->id != id)
		return (0);
	hs->id = 0;
	c->inflight--;
	c->nreq++;
	counted = in_window(t) || (opt.duration == 0 && t_begin <= t);
	if (err != NGHTTP2_NO_ERROR || hs->status <= 0) {
		if (counted)
			w->st.err[ERR_RESET]++;
	} else if (opt.check_token && (hs->token_bad || !hs->token_ok)) {
		/* Another request's answer, or no echo at all (an origin
		 * without the echo feature: a parse error, not a mix-up). */
		if (counted)
			w->st.err[hs->token_bad ? ERR_TOKEN : ERR_PARSE]++;
	} else {
		ok = record_response(w, hs->status, hs->t_req);
		if (opt.check_token && counted)
			w->st.tokens_checked++;
	}
	if (opt.mode == MODE_IDLE && !c->counted_ready) {
		c->counted_ready = 1;
		idle_slot_free(w);
		if (ok) {
			atomic_fetch_add(&idle_ready, 1);
			/* Hold with no I/O timeout (conn_wait re-arms). */
			c->st = LC_HOLD;
			c->evmask = 0;
		} else {
			atomic_fetch_add(&idle_failed, 1);
			c->h2_quit = 1;
		}
	}
	return (0);
}

/* Request body of one stream, from the shared req_body. */
static ssize_t
h2_body_cb(nghttp2_session *s, int32_t id, uint8_t *buf, size_t len,
    uint32_t *flags, nghttp2_data_source *src, void *user)
{
	struct h2stream *hs = src->ptr;
	size_t left = req_body_len - (size_t)hs->sent;

	(void)s;
	(void)id;
	(void)user;
	if (len > left)
		len = left;
	memcpy(buf, req_body + hs->sent, len);
	hs->sent += len;
	if (hs->sent == req_body_len)
		*flags |= NGHTTP2_DATA_FLAG_EOF;
	return ((ssize_t)len);
}

static int
h2_submit(struct lconn *c, struct h2stream *hs)
{
	nghttp2_nv nv[H2_MAX_NV + 1];
	nghttp2_data_provider dp;
	size_t nnv = h2_nnv;
	int32_t id;
	int n;

	memcpy(nv, h2_nv, h2_nnv * sizeof(nv[0]));
	if (opt.check_token) {
		/* Unique per request in this run: thread, slot, sequence. */
		snprintf(hs->token, sizeof(hs->token), "%d.%d.%" PRIu64,
		    c->w->id, (int)(c - c->w->conns), c->seq);
		n = snprintf(hs->path, sizeof(hs->path), "%s%cecho=%s",
		    opt.path, strchr(opt.path, '?') != NULL ? '&' : '?',
		    hs->token);
		nv[h2_path_nv].value = (uint8_t *)hs->path;
		nv[h2_path_nv].valuelen = (size_t)n;
		nv[h2_path_nv].flags = NGHTTP2_NV_FLAG_NO_COPY_NAME;
		/* The same token as X-Request-Id, which the test backend
		 * (tests/e2e/backend) echoes. */
		nv[nnv].name = (uint8_t *)(uintptr_t)H2_REQID_HDR;
		nv[nnv].namelen = sizeof(H2_REQID_HDR) - 1;
		nv[nnv].value = (uint8_t *)hs->token;
		nv[nnv].valuelen = strlen(hs->token);
		nv[nnv].flags = NGHTTP2_NV_FLAG_NO_COPY_NAME;
		nnv++;
	}
	c->seq++;
	hs->status = 0;
	hs->sent = 0;
	hs->token_ok = hs->token_bad = 0;
	hs->t_req = now_ns();
	dp.source.ptr = hs;
	dp.read_callback = h2_body_cb;
	id = nghttp2_submit_request(c->h2, NULL, nv, nnv,
	    req_body != NULL ? &dp : NULL, hs);
	if (id < 0)
		return (-1);
	hs->id = id;
	c->inflight++;
	return (0);
}

/* Open streams in the free slots, as far as the run allows. */
static int
h2_fill(struct lconn *c)
{
	int i;

	if (c->st != LC_H2 || c->goaway || c->h2_quit)
		return (0);
	for (i = 0; i < opt.streams; i++) {
		if (c->hs[i].id != 0)
			continue;
		/* Idle mode: one request per connection, then hold. */
		if (opt.mode == MODE_IDLE && c->seq > 0)
			break;
		if (!conn_claim(c))
			break;
		if (h2_submit(c, &c->hs[i]) == -1)
			return (-1);
	}
	return (0);
}

/* Write what nghttp2 has to send.  0: done or would block; -1: error. */
static int
h2_flush(struct lconn *c)
{
	const uint8_t *p;
	ssize_t n;
	size_t cap;
	int r, e;

	for (;;) {
		if (c->woff == c->wlen) {
			c->woff = c->wlen = 0;
			while (c->wlen < H2_WBUF_BATCH) {
				n = nghttp2_session_mem_send(c->h2, &p);
				if (n < 0)
					return (-1);
				if (n == 0)
					break;
				if (c->wlen + (size_t)n > c->wcap) {
					unsigned char *nb;

					cap = c->wcap ? c->wcap :
					    (size_t)2 * H2_WBUF_BATCH;
					while (cap < c->wlen + (size_t)n)
						cap *= 2;
					if ((nb = realloc(c->wbuf, cap)) ==
					    NULL)
						return (-1);
					c->wbuf = nb;
					c->wcap = cap;
				}
				memcpy(c->wbuf + c->wlen, p, (size_t)n);
				c->wlen += (size_t)n;
			}
			if (c->wlen == 0)
				return (0);
		}
		ERR_clear_error();
		r = SSL_write(c->ssl, c->wbuf + c->woff,
		    (int)(c->wlen - c->woff));
		if (r <= 0) {
			e = SSL_get_error(c->ssl, r);
			if (e == SSL_ERROR_WANT_WRITE ||
			    e == SSL_ERROR_WANT_READ)
				return (0);
			return (-1);
		}
		c->woff += (size_t)r;
		c->w->st.bytes_out += (uint64_t)r;
	}
}

/* The session ended (EOF, error) with nothing we can still do on it. */
static void
h2_lost(struct lconn *c)
{
	if (c->st == LC_HOLD) {
		atomic_fetch_add(&idle_closed, 1);
		atomic_fetch_sub(&idle_ready, 1);
		conn_finish(c);
		return;
	}
	if (c->inflight == 0 && c->goaway) {
		/* A graceful GOAWAY: replace the connection. */
		c->w->st.reconnects++;
		conn_drop(c, 1);
		conn_start(c);
		return;
	}
	conn_fail(c, ERR_IO);
}

/* Read, feed nghttp2, open streams, write; then wait for the socket. */
static void
h2_io(struct lconn *c)
{
	struct worker *w = c->w;
	ssize_t rv;
	int r, e, eof = 0;

	for (;;) {
		ERR_clear_error();
		r = SSL_read(c->ssl, c->rbuf, (int)sizeof(c->rbuf));
		if (r <= 0) {
			e = SSL_get_error(c->ssl, r);
			if (e != SSL_ERROR_WANT_READ &&
			    e != SSL_ERROR_WANT_WRITE)
				eof = 1;
			break;
		}
		w->st.bytes_in += (uint64_t)r;
		rv = nghttp2_session_mem_recv(c->h2, (const uint8_t *)c->rbuf,
		    (size_t)r);
		if (rv < 0) {
			if (getenv("LOADGEN_DEBUG") != NULL)
				fprintf(stderr, "loadgen: h2: %s\n",
				    nghttp2_strerror((int)rv));
			conn_fail(c, ERR_PARSE);
			return;
		}
		if (c->h2_quit)
			break;
	}
	if (c->h2_quit) {
		conn_finish(c);
		return;
	}
	if (eof) {
		h2_lost(c);
		return;
	}
	if (h2_fill(c) == -1 || h2_flush(c) == -1) {
		conn_fail(c, ERR_IO);
		return;
	}
	if (c->st == LC_H2 && c->inflight == 0) {
		if (c->goaway || (!nghttp2_session_want_read(c->h2) &&
		    !nghttp2_session_want_write(c->h2))) {
			h2_lost(c);
			return;
		}
		/* Out of requests (the window ended, or -n is used up):
		 * say goodbye, best effort, and finish. */
		(void)nghttp2_session_terminate_session(c->h2,
		    NGHTTP2_NO_ERROR);
		(void)h2_flush(c);
		conn_finish(c);
		return;
	}
	conn_wait(c, c->woff < c->wlen ? EV_READ | EV_WRITE : EV_READ);
}

/* TLS is up: check ALPN, start the session, open the first streams. */
static void
h2_start(struct lconn *c)
{
	nghttp2_settings_entry iv[2];
	const unsigned char *alpn = NULL;
	unsigned int alen = 0;

	SSL_get0_alpn_selected(c->ssl, &alpn, &alen);
	if (alen != 2 || memcmp(alpn, "h2", 2) != 0)
		h2_no_h2(c->ssl);
	if (c->hs == NULL) {
		c->hs = calloc((size_t)opt.streams, sizeof(*c->hs));
		if (c->hs == NULL)
			die("out of memory");
	}
	if (nghttp2_session_client_new(&c->h2, h2_cbs, c) != 0) {
		conn_fail(c, ERR_IO);
		return;
	}
	/* Windows as large as h2load's defaults, so that flow control
	 * never throttles either client. */
	iv[0].settings_id = NGHTTP2_SETTINGS_ENABLE_PUSH;
	iv[0].value = 0;
	iv[1].settings_id = NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE;
	iv[1].value = H2_WINDOW;
	if (nghttp2_submit_settings(c->h2, NGHTTP2_FLAG_NONE, iv, 2) != 0 ||
	    nghttp2_session_set_local_window_size(c->h2, NGHTTP2_FLAG_NONE, 0,
	    H2_WINDOW) != 0) {
		conn_fail(c, ERR_IO);
		return;
	}
	c->goaway = 0;
	c->h2_quit = 0;
	c->st = LC_H2;
	h2_io(c);
}

static void
h2_nv_add(const char *name, const char *value)
{
	nghttp2_nv *nv;

	if (h2_nnv == H2_MAX_NV)
		die("too many request headers for --h2");
	nv = &h2_nv[h2_nnv++];
	nv->name = (uint8_t *)(uintptr_t)name;
	nv->namelen = strlen(name);
	nv->value = (uint8_t *)(uintptr_t)value;
	nv->valuelen = strlen(value);
	/* Both live until exit. */
	nv->flags = NGHTTP2_NV_FLAG_NO_COPY_NAME |
	    NGHTTP2_NV_FLAG_NO_COPY_VALUE;
}

/* The request as an h2 header list, built once; and the callbacks. */
static void
h2_setup(void)
{
	char *authority = NULL, *name, *v, buf[16];
	int i, v6 = strchr(opt.host, ':') != NULL;

	for (i = 0; i < opt.nheaders; i++)
		if (strncasecmp(opt.headers[i], "host:", 5) == 0) {
			v = (char *)(uintptr_t)opt.headers[i] + 5;
			v += strspn(v, " \t");
			free(authority);	/* the last Host: wins */
			if ((authority = strdup(v)) == NULL)
				die("out of memory");
		}
	if (authority == NULL && asprintf(&authority, "%s%s%s:%s",
	    v6 ? "[" : "", opt.host, v6 ? "]" : "", opt.port) == -1)
		die("out of memory");
	h2_nv_add(":method", opt.method);
	h2_nv_add(":scheme", "https");
	h2_nv_add(":authority", authority);
	h2_path_nv = h2_nnv;
	h2_nv_add(":path", opt.path);
	h2_nv_add("user-agent", "loadgen");
	if (req_body != NULL || strcmp(opt.method, "POST") == 0 ||
	    strcmp(opt.method, "PUT") == 0) {
		snprintf(buf, sizeof(buf), "%zu", req_body_len);
		if ((v = strdup(buf)) == NULL)
			die("out of memory");
		h2_nv_add("content-length", v);
	}
	for (i = 0; i < opt.nheaders; i++) {
		const char *h = opt.headers[i], *colon = strchr(h, ':');
		size_t nl = (size_t)(colon - h), j;

		/* RFC 9113 8.2.2: lower-case names, no connection-specific
		 * fields; Host became :authority above. */
		if ((nl == 4 && strncasecmp(h, "host", 4) == 0) ||
		    (nl == 10 && strncasecmp(h, "connection", 10) == 0))
			continue;
		if ((name = strndup(h, nl)) == NULL)
			die("out of memory");
		for (j = 0; j < nl; j++)
			name[j] = (char)tolower((unsigned char)name[j]);
		v = (char *)(uintptr_t)colon + 1;
		v += strspn(v, " \t");
		h2_nv_add(name, v);
	}
	if (nghttp2_session_callbacks_new(&h2_cbs) != 0)
		die("out of memory");
	nghttp2_session_callbacks_set_on_header_callback(h2_cbs,
	    h2_header_cb);
	nghttp2_session_callbacks_set_on_frame_recv_callback(h2_cbs,
	    h2_frame_cb);
	nghttp2_session_callbacks_set_on_stream_close_callback(h2_cbs,
	    h2_close_cb);
}

static void
conn_cb(evutil_socket_t fd, short what, void *arg)
{
	struct lconn *c = arg;
	int err = 0;
	socklen_t elen = sizeof(err);

	(void)fd;
	if (c->evmask == 0)
		c->armed = 0;	/* the one-shot back-off timer fired */
	if (what & EV_TIMEOUT) {
		if (c->st == LC_WAIT) {
			conn_start(c);
			return;
		}
		conn_fail(c, c->st == LC_CONNECTING ? ERR_CONNECT :
		    ERR_TIMEOUT);
		return;
	}
	switch (c->st) {
	case LC_CONNECTING:
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &elen) ==
		    -1 || err != 0) {
			conn_fail(c, ERR_CONNECT);
			return;
		}
		conn_connected(c);
		break;
	case LC_HANDSHAKE:
		conn_handshake(c);
		break;
	case LC_SEND:
		conn_send(c);
		break;
	case LC_RECV:
		conn_recv(c);
		break;
	case LC_HOLD:
		if (c->h2 != NULL)
			h2_io(c);
		else
			conn_hold_event(c);
		break;
	case LC_H2:
		h2_io(c);
		break;
	default:
		break;
	}
}

/* ------------------------------------------------------------------ */
/* Workers                                                            */
/* ------------------------------------------------------------------ */

static void
begin_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;

	(void)fd;
	(void)what;
	w->in0 = w->st.bytes_in;
	w->out0 = w->st.bytes_out;
}

static void
end_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;

	(void)fd;
	(void)what;
	if (!w->ended) {
		w->in1 = w->st.bytes_in;
		w->out1 = w->st.bytes_out;
		w->ended = 1;
	}
	w->stopping = 1;
	event_base_loopbreak(w->base);
}

/* Idle mode: the main thread ends the hold; look for it now and then. */
static void
poll_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;

	(void)fd;
	(void)what;
	if (atomic_load(&idle_stop)) {
		w->stopping = 1;
		event_base_loopbreak(w->base);
	}
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct event_config *cfg;
	struct timeval tv;
	uint64_t t;
	int i;

	if ((cfg = event_config_new()) == NULL)
		die("event_config_new failed");
	/* Coalesce the del/add pairs of one callback into no syscall. */
	event_config_set_flag(cfg, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
	event_config_set_flag(cfg, EVENT_BASE_FLAG_NOLOCK);
	if ((w->base = event_base_new_with_config(cfg)) == NULL)
		die("event_base_new failed");
	event_config_free(cfg);
	tv.tv_sec = opt.timeout_ms / 1000;
	tv.tv_usec = (opt.timeout_ms % 1000) * 1000;
	w->tv_io = event_base_init_common_timeout(w->base, &tv);

	t = now_ns();
	if (t_begin > t) {
		w->ev_begin = evtimer_new(w->base, begin_cb, w);
		ns_to_tv(t_begin - t, &tv);
		evtimer_add(w->ev_begin, &tv);
	}
	if (opt.mode == MODE_IDLE) {
		w->ev_poll = event_new(w->base, -1, EV_PERSIST, poll_cb, w);
		tv.tv_sec = 0;
		tv.tv_usec = 50000;
		event_add(w->ev_poll, &tv);
	}
	if (opt.duration > 0) {
		w->ev_end = evtimer_new(w->base, end_cb, w);
		ns_to_tv(t_end > t ? t_end - t : 0, &tv);
		evtimer_add(w->ev_end, &tv);
	}
	w->ev_hard = evtimer_new(w->base, end_cb, w);
	ns_to_tv(t_hard > t ? t_hard - t : 0, &tv);
	evtimer_add(w->ev_hard, &tv);

	w->active = w->nconns;
	for (i = 0; i < w->nconns; i++) {
		w->conns[i].w = w;
		w->conns[i].fd = -1;
	}
	if (opt.mode == MODE_IDLE) {
		w->ev_ramp = event_new(w->base, -1, 0, ramp_cb, w);
		w->slots = opt.idle_ramp;
		event_active(w->ev_ramp, EV_TIMEOUT, 0);
	} else
		for (i = 0; i < w->nconns; i++)
			conn_start(&w->conns[i]);
	if (w->active > 0)
		event_base_dispatch(w->base);
	w->stopping = 1;
	if (!w->ended) {
		/* -n runs, or the hard timeout: the window ends here. */
		w->in1 = w->st.bytes_in;
		w->out1 = w->st.bytes_out;
		w->ended = 1;
	}
	for (i = 0; i < w->nconns; i++) {
		conn_drop(&w->conns[i], 0);
		SSL_SESSION_free(w->conns[i].sess);
		w->conns[i].sess = NULL;
		free(w->conns[i].hs);
		w->conns[i].hs = NULL;
		free(w->conns[i].wbuf);
		w->conns[i].wbuf = NULL;
	}
	event_free(w->ev_hard);
	if (w->ev_begin != NULL)
		event_free(w->ev_begin);
	if (w->ev_poll != NULL)
		event_free(w->ev_poll);
	if (w->ev_ramp != NULL)
		event_free(w->ev_ramp);
	if (w->ev_end != NULL)
		event_free(w->ev_end);
	event_base_free(w->base);
	w->base = NULL;
	return (NULL);
}

/* ------------------------------------------------------------------ */
/* Setup                                                              */
/* ------------------------------------------------------------------ */

static void
usage(void)
{
	fprintf(stderr,
"usage: loadgen --url http[s]://HOST:PORT/PATH -c CONNS (-d SECONDS | -n REQUESTS)\n"
"         [--mode keepalive|handshake|idle] [--cert PEM] [--cafile PEM]\n"
"         [--sni NAME] [--resume] [--tls13] [--body-bytes N | --body-file F]\n"
"         [--method M] [--header 'K: V']... [--threads T] [--warmup S]\n"
"         [--timeout MS] [--hard-timeout S] [--expect-status N]\n"
"         [--watch NAME=PID[,PID...]]... [--idle-ramp N] [--label TEXT]\n"
"         [--h2 [--streams M] [--check-token]] [--json]\n"
"\n"
"  keepalive  one request at a time per connection, reused\n"
"  handshake  a new connection (and TLS handshake) per request\n"
"  idle       connect, one request, then hold; -d is the hold once all\n"
"             are up (set up --idle-ramp at a time, default 16); --watch\n"
"             reports the RSS growth per held connection\n"
"  --h2       HTTP/2 (ALPN h2) with M concurrent streams per connection;\n"
"             keepalive or idle; --check-token puts a token in each\n"
"             :path (?echo=T) and x-request-id and counts answers whose\n"
"             x-echo-token or x-request-id is another request's (error\n"
"             kind wrong_stream; exit status 4 if there is any)\n");
	exit(2);
}

static void
parse_url(const char *url)
{
	const char *p, *hs, *he, *ps;
	size_t hl;

	if (strncmp(url, "https://", 8) == 0) {
		opt.tls = 1;
		p = url + 8;
	} else if (strncmp(url, "http://", 7) == 0) {
		opt.tls = 0;
		p = url + 7;
	} else
		die("--url must start with http:// or https://");
	hs = p;
	if (*p == '[') {
		if ((he = strchr(p, ']')) == NULL)
			die("bad IPv6 literal in --url");
		hs = p + 1;
		p = he + 1;
	} else {
		p += strcspn(p, ":/");
		he = p;
	}
	hl = (size_t)(he - hs);
	if (hl == 0 || hl >= sizeof(opt.host))
		die("bad host in --url");
	memcpy(opt.host, hs, hl);
	opt.host[hl] = '\0';
	if (*p == ':') {
		ps = ++p;
		p += strspn(p, "0123456789");
		if (p == ps || (size_t)(p - ps) >= sizeof(opt.port))
			die("bad port in --url");
		memcpy(opt.port, ps, (size_t)(p - ps));
		opt.port[p - ps] = '\0';
	} else
		strcpy(opt.port, opt.tls ? "443" : "80");
	opt.path = strdup(*p == '/' ? p : "/");
	if (opt.path == NULL)
		die("out of memory");
}

static void
resolve(void)
{
	struct addrinfo hints, *res;
	int rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(opt.host, opt.port, &hints, &res)) != 0)
		die("%s: %s", opt.host, gai_strerror(rc));
	memcpy(&dst, res->ai_addr, res->ai_addrlen);
	dstlen = res->ai_addrlen;
	freeaddrinfo(res);
}

static void
parse_watch(const char *arg)
{
	struct watch *wt;
	const char *eq = strchr(arg, '=');
	char *list, *tok, *save;

	if (opt.nwatch == MAX_WATCH)
		die("too many --watch groups");
	wt = &opt.watch[opt.nwatch++];
	if (eq == NULL || eq == arg || (size_t)(eq - arg) >= sizeof(wt->name))
		die("--watch wants NAME=PID[,PID...]");
	memcpy(wt->name, arg, (size_t)(eq - arg));
	wt->name[eq - arg] = '\0';
	if ((list = strdup(eq + 1)) == NULL)
		die("out of memory");
	for (tok = strtok_r(list, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		if (wt->npids == MAX_WATCH_PIDS)
			die("too many pids in --watch %s", wt->name);
		wt->pids[wt->npids++] = (pid_t)strtol(tok, NULL, 10);
	}
	free(list);
}

static void
build_request(void)
{
	char *head, *body = NULL;
	size_t cap, hl = 0, blen = 0;
	int has_host = 0, i;

	if (opt.body_file != NULL) {
		struct stat sb;
		FILE *fp = fopen(opt.body_file, "rb");

		if (fp == NULL || fstat(fileno(fp), &sb) == -1)
			die("%s: %s", opt.body_file, strerror(errno));
		blen = (size_t)sb.st_size;
		if ((body = malloc(blen ? blen : 1)) == NULL)
			die("out of memory");
		if (blen > 0 && fread(body, 1, blen, fp) != blen)
			die("%s: short read", opt.body_file);
		fclose(fp);
	} else if (opt.body_bytes > 0) {
		blen = opt.body_bytes;
		if ((body = malloc(blen)) == NULL)
			die("out of memory");
		memset(body, 'b', blen);
	}
	for (i = 0; i < opt.nheaders; i++)
		if (strncasecmp(opt.headers[i], "host:", 5) == 0)
			has_host = 1;
	cap = 512 + strlen(opt.path) + strlen(opt.host);
	for (i = 0; i < opt.nheaders; i++)
		cap += strlen(opt.headers[i]) + 2;
	if (blen <= BODY_INLINE_MAX)
		cap += blen;
	if ((head = malloc(cap)) == NULL)
		die("out of memory");
	hl += (size_t)snprintf(head + hl, cap - hl, "%s %s HTTP/1.1\r\n",
	    opt.method, opt.path);
	if (!has_host) {
		int v6 = strchr(opt.host, ':') != NULL;

		hl += (size_t)snprintf(head + hl, cap - hl, "Host: %s%s%s:%s\r\n",
		    v6 ? "[" : "", opt.host, v6 ? "]" : "", opt.port);
	}
	hl += (size_t)snprintf(head + hl, cap - hl, "User-Agent: loadgen\r\n");
	if (body != NULL || strcmp(opt.method, "POST") == 0 ||
	    strcmp(opt.method, "PUT") == 0)
		hl += (size_t)snprintf(head + hl, cap - hl,
		    "Content-Length: %zu\r\n", blen);
	if (opt.mode == MODE_HANDSHAKE)
		hl += (size_t)snprintf(head + hl, cap - hl,
		    "Connection: close\r\n");
	for (i = 0; i < opt.nheaders; i++)
		hl += (size_t)snprintf(head + hl, cap - hl, "%s\r\n",
		    opt.headers[i]);
	hl += (size_t)snprintf(head + hl, cap - hl, "\r\n");
	/* h2 sends the body in DATA frames: keep it apart. */
	if (body != NULL && blen <= BODY_INLINE_MAX && !opt.h2) {
		/* One buffer: one write, one TLS record for small bodies. */
		memcpy(head + hl, body, blen);
		hl += blen;
		free(body);
		body = NULL;
		blen = 0;
	}
	req_head = head;
	req_head_len = hl;
	req_body = body;
	req_body_len = blen;
	req_is_head = strcmp(opt.method, "HEAD") == 0;
}

static void
setup_tls(void)
{
	if (!opt.tls)
		return;
	if ((ssl_ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		die("SSL_CTX_new failed");
	SSL_CTX_set_min_proto_version(ssl_ctx, opt.tls13 ? TLS1_3_VERSION :
	    TLS1_2_VERSION);
	SSL_CTX_set_mode(ssl_ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	/* One read() per record batch instead of header + body reads. */
	SSL_CTX_set_read_ahead(ssl_ctx, 1);
	/* h2 also offers http/1.1, so that a server without h2 completes
	 * the handshake and the refusal is reported clearly (h2_no_h2). */
	if (opt.h2 && SSL_CTX_set_alpn_protos(ssl_ctx,
	    (const unsigned char *)"\x02h2\x08http/1.1", 12) != 0)
		die("SSL_CTX_set_alpn_protos failed");
	if (opt.cert != NULL) {
		/* One PEM: leaf (or proxy) first, then its key, then the
		 * rest of the chain; non-certificate blocks are skipped. */
		if (SSL_CTX_use_certificate_chain_file(ssl_ctx, opt.cert) != 1)
			die("%s: cannot load certificate chain", opt.cert);
		if (SSL_CTX_use_PrivateKey_file(ssl_ctx, opt.cert,
		    SSL_FILETYPE_PEM) != 1)
			die("%s: cannot load private key", opt.cert);
		if (SSL_CTX_check_private_key(ssl_ctx) != 1)
			die("%s: key does not match certificate", opt.cert);
	}
	if (opt.cafile != NULL) {
		if (SSL_CTX_load_verify_locations(ssl_ctx, opt.cafile, NULL) !=
		    1)
			die("%s: cannot load CA file", opt.cafile);
		SSL_CTX_set_verify(ssl_ctx, SSL_VERIFY_PEER, NULL);
	} else
		SSL_CTX_set_verify(ssl_ctx, SSL_VERIFY_NONE, NULL);
	if (opt.resume) {
		SSL_CTX_set_session_cache_mode(ssl_ctx, SSL_SESS_CACHE_CLIENT |
		    SSL_SESS_CACHE_NO_INTERNAL_STORE);
		SSL_CTX_sess_set_new_cb(ssl_ctx, new_session_cb);
	} else
		SSL_CTX_set_session_cache_mode(ssl_ctx, SSL_SESS_CACHE_OFF);
}

static void
raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
	    rl.rlim_cur < (rlim_t)opt.conns + 64)
		fprintf(stderr, "loadgen: warning: RLIMIT_NOFILE %llu is below"
		    " %d connections\n", (unsigned long long)rl.rlim_cur,
		    opt.conns);
}

static double
parse_double(const char *s, const char *what)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || *end != '\0' || v < 0)
		die("bad %s: %s", what, s);
	return (v);
}

static uint64_t
parse_u64(const char *s, const char *what)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (end == s || errno != 0)
		die("bad %s: %s", what, s);
	switch (*end) {
	case 'k': case 'K': v <<= 10; end++; break;
	case 'm': case 'M': v <<= 20; end++; break;
	case 'g': case 'G': v <<= 30; end++; break;
	default: break;
	}
	if (*end != '\0')
		die("bad %s: %s", what, s);
	return (v);
}

static void
parse_args(int argc, char **argv)
{
	enum {
		O_URL = 256, O_MODE, O_CERT, O_CAFILE, O_RESUME, O_BODYB,
		O_BODYF, O_METHOD, O_HEADER, O_THREADS, O_JSON, O_WARMUP,
		O_TIMEOUT, O_HARD, O_EXPECT, O_WATCH, O_SNI, O_TLS13, O_LABEL,
		O_RAMP, O_H2, O_STREAMS, O_TOKEN
	};
	static const struct option lo[] = {
		{ "url", required_argument, NULL, O_URL },
		{ "conns", required_argument, NULL, 'c' },
		{ "duration", required_argument, NULL, 'd' },
		{ "requests", required_argument, NULL, 'n' },
		{ "mode", required_argument, NULL, O_MODE },
		{ "cert", required_argument, NULL, O_CERT },
		{ "cafile", required_argument, NULL, O_CAFILE },
		{ "sni", required_argument, NULL, O_SNI },
		{ "resume", no_argument, NULL, O_RESUME },
		{ "tls13", no_argument, NULL, O_TLS13 },
		{ "body-bytes", required_argument, NULL, O_BODYB },
		{ "body-file", required_argument, NULL, O_BODYF },
		{ "method", required_argument, NULL, O_METHOD },
		{ "header", required_argument, NULL, O_HEADER },
		{ "threads", required_argument, NULL, O_THREADS },
		{ "warmup", required_argument, NULL, O_WARMUP },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ "hard-timeout", required_argument, NULL, O_HARD },
		{ "expect-status", required_argument, NULL, O_EXPECT },
		{ "watch", required_argument, NULL, O_WATCH },
		{ "label", required_argument, NULL, O_LABEL },
		{ "idle-ramp", required_argument, NULL, O_RAMP },
		{ "json", no_argument, NULL, O_JSON },
		{ "h2", no_argument, NULL, O_H2 },
		{ "streams", required_argument, NULL, O_STREAMS },
		{ "check-token", no_argument, NULL, O_TOKEN },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *url = NULL;
	int ch;

	opt.conns = 1;
	opt.threads = 1;
	opt.method = "GET";
	opt.timeout_ms = 10000;
	opt.idle_ramp = 16;
	while ((ch = getopt_long(argc, argv, "c:d:n:h", lo, NULL)) != -1) {
		switch (ch) {
		case O_URL: url = optarg; break;
		case 'c': opt.conns = (int)parse_u64(optarg, "-c"); break;
		case 'd': opt.duration = parse_double(optarg, "-d"); break;
		case 'n': opt.nreq = parse_u64(optarg, "-n"); break;
		case O_MODE:
			if (strcmp(optarg, "keepalive") == 0)
				opt.mode = MODE_KEEPALIVE;
			else if (strcmp(optarg, "handshake") == 0)
				opt.mode = MODE_HANDSHAKE;
			else if (strcmp(optarg, "idle") == 0)
				opt.mode = MODE_IDLE;
			else
				die("bad --mode: %s", optarg);
			break;
		case O_CERT: opt.cert = optarg; break;
		case O_CAFILE: opt.cafile = optarg; break;
		case O_SNI: opt.sni = optarg; break;
		case O_RESUME: opt.resume = 1; break;
		case O_TLS13: opt.tls13 = 1; break;
		case O_BODYB:
			opt.body_bytes = (size_t)parse_u64(optarg,
			    "--body-bytes");
			break;
		case O_BODYF: opt.body_file = optarg; break;
		case O_METHOD: opt.method = optarg; break;
		case O_HEADER:
			if (opt.nheaders == MAX_HEADERS)
				die("too many --header");
			if (strchr(optarg, ':') == NULL ||
			    strpbrk(optarg, "\r\n") != NULL)
				die("bad --header: %s", optarg);
			opt.headers[opt.nheaders++] = optarg;
			break;
		case O_THREADS:
			opt.threads = (int)parse_u64(optarg, "--threads");
			break;
		case O_WARMUP:
			opt.warmup = parse_double(optarg, "--warmup");
			break;
		case O_TIMEOUT:
			opt.timeout_ms = (unsigned)parse_u64(optarg,
			    "--timeout");
			break;
		case O_HARD:
			opt.hard_timeout = parse_double(optarg,
			    "--hard-timeout");
			break;
		case O_EXPECT:
			opt.expect_status = (int)parse_u64(optarg,
			    "--expect-status");
			break;
		case O_WATCH: parse_watch(optarg); break;
		case O_LABEL: opt.label = optarg; break;
		case O_RAMP:
			opt.idle_ramp = (int)parse_u64(optarg, "--idle-ramp");
			break;
		case O_JSON: opt.json = 1; break;
		case O_H2: opt.h2 = 1; break;
		case O_STREAMS:
			opt.streams = (int)parse_u64(optarg, "--streams");
			if (opt.streams < 1 || opt.streams > H2_MAX_STREAMS)
				die("bad --streams (1..%d)", H2_MAX_STREAMS);
			break;
		case O_TOKEN: opt.check_token = 1; break;
		default: usage();
		}
	}
	if (optind != argc || url == NULL)
		usage();
	if ((opt.duration > 0) == (opt.nreq > 0))
		die("give exactly one of -d SECONDS and -n REQUESTS");
	if (opt.mode == MODE_IDLE && opt.duration == 0)
		die("--mode idle needs -d");
	if (opt.conns < 1 || opt.conns > 1000000)
		die("bad -c");
	if (opt.threads < 1 || opt.threads > 256)
		die("bad --threads");
	if (opt.threads > opt.conns)
		opt.threads = opt.conns;
	if (opt.timeout_ms == 0)
		die("bad --timeout");
	if (opt.idle_ramp < 1)
		die("bad --idle-ramp");
	if (opt.body_file != NULL && opt.body_bytes > 0)
		die("--body-bytes and --body-file are exclusive");
	if (opt.duration == 0)
		opt.warmup = 0;
	if (opt.hard_timeout == 0)
		opt.hard_timeout = opt.duration > 0 ?
		    opt.warmup + opt.duration + 30 : 600;
	parse_url(url);
	if ((opt.cert != NULL || opt.resume || opt.cafile != NULL) && !opt.tls)
		die("--cert, --cafile and --resume need an https:// URL");
	if (!opt.h2 && (opt.streams != 0 || opt.check_token))
		die("--streams and --check-token need --h2");
	if (opt.h2 && !opt.tls)
		die("--h2 needs an https:// URL (there is no h2c)");
	if (opt.h2 && opt.mode == MODE_HANDSHAKE)
		die("--h2 runs keepalive or idle, not handshake");
	if (opt.check_token && strlen(opt.path) > 400)
		die("--check-token: path too long");
	if (opt.streams == 0)
		opt.streams = 1;
}

/* ------------------------------------------------------------------ */
/* Report                                                             */
/* ------------------------------------------------------------------ */

static void
json_str(FILE *fp, const char *s)
{
	fputc('"', fp);
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(fp, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(fp, "\\u%04x", (unsigned char)*s);
		else
			fputc(*s, fp);
	}
	fputc('"', fp);
}

static void
report(const struct stats *st, double window, double cpu_self,
    const char *tls_info, int ready, int failed, int closed)
{
	static const char *const modes[] = { "keepalive", "handshake",
	    "idle" };
	uint64_t errs = 0, p50, p90, p99, p999;
	double rps = window > 0 ? (double)st->ok / window : 0;
	double mean = st->ok ? (double)st->lat_sum / (double)st->ok : 0;
	double hs_us = st->handshakes ? (double)st->hs_ns / 1e3 /
	    (double)st->handshakes : 0;
	int i;

	for (i = 0; i < ERR_NKINDS; i++)
		errs += st->err[i];
	p50 = hist_percentile(st, 50);
	p90 = hist_percentile(st, 90);
	p99 = hist_percentile(st, 99);
	p999 = hist_percentile(st, 99.9);

	if (opt.json) {
		FILE *fp = stdout;

		fprintf(fp, "{\"label\":");
		json_str(fp, opt.label ? opt.label : "");
		fprintf(fp, ",\"url\":\"%s://%s:%s", opt.tls ? "https" : "http",
		    opt.host, opt.port);
		fprintf(fp, "\",\"path\":");
		json_str(fp, opt.path);
		fprintf(fp, ",\"mode\":\"%s\",\"conns\":%d,\"threads\":%d,"
		    "\"resume\":%s,\"cert\":%s,\"tls\":", modes[opt.mode],
		    opt.conns, opt.threads, opt.resume ? "true" : "false",
		    opt.cert ? "true" : "false");
		json_str(fp, tls_info);
		fprintf(fp, ",\"proto\":\"%s\",\"streams\":%d,"
		    "\"h2_goaway\":%" PRIu64 ",\"tokens_checked\":%" PRIu64,
		    opt.h2 ? "h2" : "http/1.1", opt.streams, st->h2_goaway,
		    st->tokens_checked);
		fprintf(fp, ",\"window_s\":%.6f,\"requests\":%" PRIu64
		    ",\"rps\":%.1f,\"warmup_requests\":%" PRIu64
		    ",\"bytes_in\":%" PRIu64 ",\"bytes_out\":%" PRIu64
		    ",\"mib_in_per_s\":%.2f,\"mib_out_per_s\":%.2f",
		    window, st->ok, rps, st->warm_ok, st->bytes_in,
		    st->bytes_out,
		    window > 0 ? (double)st->bytes_in / window / 1048576 : 0,
		    window > 0 ? (double)st->bytes_out / window / 1048576 : 0);
		fprintf(fp, ",\"errors\":{\"total\":%" PRIu64, errs);
		for (i = 0; i < ERR_NKINDS; i++)
			fprintf(fp, ",\"%s\":%" PRIu64, err_names[i],
			    st->err[i]);
		fprintf(fp, "},\"first_bad_status\":%d", st->bad_status);
		fprintf(fp, ",\"status\":{\"1xx\":%" PRIu64 ",\"2xx\":%" PRIu64
		    ",\"3xx\":%" PRIu64 ",\"4xx\":%" PRIu64 ",\"5xx\":%" PRIu64
		    ",\"other\":%" PRIu64 "}", st->status_class[1],
		    st->status_class[2], st->status_class[3],
		    st->status_class[4], st->status_class[5],
		    st->status_class[0]);
		fprintf(fp, ",\"latency_us\":{\"min\":%" PRIu64 ",\"mean\":%.1f"
		    ",\"p50\":%" PRIu64 ",\"p90\":%" PRIu64 ",\"p99\":%" PRIu64
		    ",\"p999\":%" PRIu64 ",\"max\":%" PRIu64 "}",
		    st->lat_min, mean, p50, p90, p99, p999, st->lat_max);
		fprintf(fp, ",\"handshakes\":%" PRIu64 ",\"resumed\":%" PRIu64
		    ",\"handshake_us_mean\":%.1f,\"reconnects\":%" PRIu64,
		    st->handshakes, st->resumed, hs_us, st->reconnects);
		fprintf(fp, ",\"loadgen_cpu_s\":%.3f", cpu_self);
		if (opt.mode == MODE_IDLE)
			fprintf(fp, ",\"idle\":{\"held\":%d,\"failed\":%d,"
			    "\"closed_by_server\":%d}", ready, failed, closed);
		fprintf(fp, ",\"watch\":{");
		for (i = 0; i < opt.nwatch; i++) {
			const struct watch *wt = &opt.watch[i];
			double cpu = wt->cpu1 - wt->cpu0;

			fprintf(fp, "%s", i ? "," : "");
			json_str(fp, wt->name);
			fprintf(fp, ":{\"pids\":%d,\"cpu_s\":%.3f,"
			    "\"cpu_util\":%.3f,\"cpu_ms_per_req\":%.5f,"
			    "\"rss_before_kib\":%ld,\"rss_after_kib\":%ld,"
			    "\"hwm_kib\":%ld,\"pss_after_kib\":%ld", wt->npids,
			    cpu, window > 0 ? cpu / window : 0,
			    st->ok ? cpu * 1e3 / (double)st->ok : 0,
			    wt->rss0, wt->rss1, wt->hwm1, wt->pss1);
			if (opt.mode == MODE_IDLE)
				fprintf(fp, ",\"rss_per_conn_kib\":%.2f",
				    ready > 0 ? (double)(wt->rss1 - wt->rss0) /
				    ready : 0);
			fprintf(fp, "}");
		}
		fprintf(fp, "}}\n");
		fflush(fp);
		return;
	}

	printf("loadgen %s://%s:%s%s  mode %s  conns %d  threads %d  "
	    "window %.2f s\n", opt.tls ? "https" : "http", opt.host, opt.port,
	    opt.path, modes[opt.mode], opt.conns, opt.threads, window);
	if (tls_info[0] != '\0')
		printf("  tls          %s%s%s\n", tls_info,
		    opt.cert ? ", client certificate" : "",
		    opt.resume ? ", resumption" : "");
	if (opt.h2)
		printf("  h2           %d streams/conn, GOAWAY received "
		    "%" PRIu64 "\n", opt.streams, st->h2_goaway);
	if (opt.check_token)
		printf("  tokens       %" PRIu64 " answers matched their "
		    "request\n", st->tokens_checked);
	printf("  requests     %" PRIu64 "  (%.1f req/s)\n", st->ok, rps);
	printf("  transfer     in %.2f MiB/s, out %.2f MiB/s\n",
	    window > 0 ? (double)st->bytes_in / window / 1048576 : 0,
	    window > 0 ? (double)st->bytes_out / window / 1048576 : 0);
	printf("  latency us   p50 %" PRIu64 "  p90 %" PRIu64 "  p99 %" PRIu64
	    "  p99.9 %" PRIu64 "  max %" PRIu64 "  mean %.1f\n", p50, p90, p99,
	    p999, st->lat_max, mean);
	printf("  errors       %" PRIu64, errs);
	for (i = 0; i < ERR_NKINDS; i++)
		printf("  %s %" PRIu64, err_names[i], st->err[i]);
	if (st->bad_status)
		printf("  (first bad status %d)", st->bad_status);
	printf("\n  handshakes   %" PRIu64 " (resumed %" PRIu64 ", mean %.0f us)"
	    "  reconnects %" PRIu64 "\n", st->handshakes, st->resumed, hs_us,
	    st->reconnects);
	printf("  loadgen cpu  %.2f s (%.0f%%)\n", cpu_self,
	    window > 0 ? 100 * cpu_self / window : 0);
	if (opt.mode == MODE_IDLE)
		printf("  idle         held %d, failed %d, closed by server %d\n",
		    ready, failed, closed);
	for (i = 0; i < opt.nwatch; i++) {
		const struct watch *wt = &opt.watch[i];
		double cpu = wt->cpu1 - wt->cpu0;

		printf("  watch %-6s cpu %.2f s (%.0f%%), %.4f ms/req, "
		    "RSS %ld -> %ld KiB, peak %ld KiB", wt->name, cpu,
		    window > 0 ? 100 * cpu / window : 0,
		    st->ok ? cpu * 1e3 / (double)st->ok : 0, wt->rss0,
		    wt->rss1, wt->hwm1);
		if (opt.mode == MODE_IDLE && ready > 0)
			printf(", %.2f KiB/conn",
			    (double)(wt->rss1 - wt->rss0) / ready);
		printf("\n");
	}
}

/* ------------------------------------------------------------------ */
/* main                                                               */
/* ------------------------------------------------------------------ */

int
main(int argc, char **argv)
{
	struct stats *tot;
	char tls_info[96] = "";
	double cpu0 = 0, cpu1 = 0, window;
	uint64_t last = 0;
	unsigned k;
	int i, j, per, extra, ready = 0, failed = 0, closed = 0, rc;

	parse_args(argc, argv);
	signal(SIGPIPE, SIG_IGN);
	raise_nofile();
	resolve();
	build_request();
	setup_tls();
	if (opt.h2)
		h2_setup();

	if ((workers = calloc((size_t)opt.threads, sizeof(*workers))) == NULL)
		die("out of memory");
	per = opt.conns / opt.threads;
	extra = opt.conns % opt.threads;
	for (i = 0; i < opt.threads; i++) {
		workers[i].id = i;
		workers[i].nconns = per + (i < extra);
		workers[i].conns = calloc((size_t)workers[i].nconns,
		    sizeof(struct lconn));
		if (workers[i].conns == NULL)
			die("out of memory");
	}

	if (opt.mode == MODE_IDLE)
		watch_sample(0);	/* baseline before any connection */
	t_start = now_ns();
	t_begin = t_start + (uint64_t)(opt.warmup * 1e9);
	t_end = opt.duration > 0 ? t_begin + (uint64_t)(opt.duration * 1e9) :
	    UINT64_MAX;
	t_hard = t_start + (uint64_t)(opt.hard_timeout * 1e9);
	/* Idle mode: -d is the hold after every connection is up; setting
	 * them up is bounded by the hard timeout only. */
	if (t_end > t_hard || opt.mode == MODE_IDLE)
		t_end = t_hard;
	if (opt.mode != MODE_IDLE && opt.warmup == 0) {
		watch_sample(0);
		cpu0 = self_cpu();
	}
	for (i = 0; i < opt.threads; i++)
		if (pthread_create(&workers[i].thr, NULL, worker_main,
		    &workers[i]) != 0)
			die("pthread_create failed");

	if (opt.mode == MODE_IDLE) {
		/* Wait until every connection holds (or failed), let the
		 * server settle, then take the "after" sample. */
		uint64_t hold_end;

		while (atomic_load(&idle_ready) + atomic_load(&idle_failed) <
		    opt.conns && now_ns() < t_hard)
			usleep(10000);
		usleep(300000);
		watch_sample(1);
		ready = atomic_load(&idle_ready);
		failed = atomic_load(&idle_failed);
		hold_end = now_ns() + (uint64_t)(opt.duration * 1e9);
		sleep_until(hold_end < t_hard ? hold_end : t_hard);
		atomic_store(&idle_stop, 1);
	} else if (opt.warmup > 0) {
		sleep_until(t_begin);
		watch_sample(0);
		cpu0 = self_cpu();
	}
	if (opt.mode != MODE_IDLE && opt.duration > 0) {
		sleep_until(t_end);
		watch_sample(1);
		cpu1 = self_cpu();
	}
	for (i = 0; i < opt.threads; i++)
		pthread_join(workers[i].thr, NULL);
	if (opt.mode == MODE_IDLE) {
		closed = atomic_load(&idle_closed);
		cpu1 = self_cpu();
	} else if (opt.duration == 0) {
		watch_sample(1);
		cpu1 = self_cpu();
	}

	/* Merge per-thread stats into the first; bytes count the window. */
	tot = &workers[0].st;
	for (i = 0; i < opt.threads; i++) {
		struct stats *s = &workers[i].st;

		s->bytes_in = workers[i].in1 - workers[i].in0;
		s->bytes_out = workers[i].out1 - workers[i].out0;

		if (tls_info[0] == '\0')
			memcpy(tls_info, workers[i].tls_info, sizeof(tls_info));
		if (s->last_done > last)
			last = s->last_done;
		if (i == 0)
			continue;
		if (s->ok > 0 && (tot->ok == 0 || s->lat_min < tot->lat_min))
			tot->lat_min = s->lat_min;
		if (s->lat_max > tot->lat_max)
			tot->lat_max = s->lat_max;
		tot->lat_sum += s->lat_sum;
		tot->ok += s->ok;
		tot->warm_ok += s->warm_ok;
		for (j = 0; j < ERR_NKINDS; j++)
			tot->err[j] += s->err[j];
		for (j = 0; j < 6; j++)
			tot->status_class[j] += s->status_class[j];
		if (tot->bad_status == 0)
			tot->bad_status = s->bad_status;
		tot->bytes_in += s->bytes_in;
		tot->bytes_out += s->bytes_out;
		tot->handshakes += s->handshakes;
		tot->resumed += s->resumed;
		tot->hs_ns += s->hs_ns;
		tot->reconnects += s->reconnects;
		tot->h2_goaway += s->h2_goaway;
		tot->tokens_checked += s->tokens_checked;
		for (k = 0; k < HIST_NB; k++)
			tot->hist[k] += s->hist[k];
	}
	if (opt.mode == MODE_IDLE)
		window = opt.duration;
	else if (opt.duration > 0)
		window = (double)(t_end - t_begin) / 1e9;
	else
		window = last > t_begin ? (double)(last - t_begin) / 1e9 : 0;
	report(tot, window, cpu1 - cpu0, tls_info, ready, failed, closed);
	/* --check-token: an answer on the wrong stream fails the run. */
	rc = opt.check_token && tot->err[ERR_TOKEN] > 0 ? 4 : 0;

	for (i = 0; i < opt.threads; i++)
		free(workers[i].conns);
	free(workers);
	SSL_CTX_free(ssl_ctx);
	free(req_head);
	free(req_body);
	free(opt.path);
	return (rc);
}
