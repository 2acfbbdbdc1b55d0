/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * Tests of the auth façade (auth/auth.c, with auth_tls.c, decide.c and
 * trouble.c behind it) with real OpenSSL: real TLS
 * handshakes over socketpair() between a server SSL_CTX set up by
 * auth_tls_setup() and a client presenting each credential of the test
 * PKI (tests/fixtures/certs/mkcerts.sh, PKI_DIR else build/pki); the
 * per-route decisions; the exact signed header block; the verified-chain
 * cache and TLS session resumption (tickets and the stateful cache);
 * reloads of the trust store, users map, ban list and HMAC key, bad files
 * included; the trouble page; and concurrent use from several threads.
 * Every test works on a private copy of the mutable files.
 */

#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <jansson.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "auth/auth.h"
#include "auth/sign.h"
#include "auth/x509.h"
#include "conf/conf.h"

static char	 pki[1024];

/* Per-test state: a private directory and the contexts built on it. */
struct fx {
	char		 dir[1200];
	struct conf_auth ac;
	char		 ca[1300], users[1300], banned[1300], key[1300];
	char		 vomsdir[1300];
	struct auth_ctx	*auth;
	SSL_CTX		*sctx;
};

/* One client/server pair after a completed handshake. */
struct pair {
	SSL		*s, *c;
	int		 fds[2];
};

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

static int
run(const char *fmt, ...)
{
	char		 cmd[4096];
	va_list		 ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return (system(cmd));
}

static char *
slurp(const char *path, size_t *len)
{
	FILE		*fp;
	char		*buf;
	long		 n;

	if ((fp = fopen(path, "rb")) == NULL)
		return (NULL);
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	if (buf != NULL && fread(buf, 1, (size_t)n, fp) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(fp);
	if (buf != NULL) {
		buf[n] = '\0';
		if (len != NULL)
			*len = (size_t)n;
	}
	return (buf);
}

/* Write a file by rename, as fetch-crl and secret agents do. */
static void
write_file(const char *path, const char *data, size_t len, mode_t mode)
{
	char		 tmp[1400];
	int		 fd;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, mode);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
	assert_int_equal(rename(tmp, path), 0);
}

static char *
expected_dn(const char *name)
{
	char		 path[1200], line[2048], *tab, *nl, *r = NULL;
	FILE		*fp;

	snprintf(path, sizeof(path), "%s/dns.txt", pki);
	if ((fp = fopen(path, "r")) == NULL)
		return (NULL);
	while (fgets(line, sizeof(line), fp) != NULL) {
		if ((tab = strchr(line, '\t')) == NULL)
			continue;
		*tab++ = '\0';
		if ((nl = strchr(tab, '\n')) != NULL)
			*nl = '\0';
		if (strcmp(line, name) == 0) {
			r = strdup(tab);
			break;
		}
	}
	fclose(fp);
	return (r);
}

static SSL_CTX *
server_ctx(struct auth_ctx *a)
{
	SSL_CTX		*c;
	char		 path[1200], err[256] = "";

	c = SSL_CTX_new(TLS_server_method());
	assert_non_null(c);
	snprintf(path, sizeof(path), "%s/server.pem", pki);
	assert_int_equal(SSL_CTX_use_certificate_chain_file(c, path), 1);
	snprintf(path, sizeof(path), "%s/server.key", pki);
	assert_int_equal(SSL_CTX_use_PrivateKey_file(c, path,
	    SSL_FILETYPE_PEM), 1);
	SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_SERVER);
	SSL_CTX_set_num_tickets(c, 1);
	assert_int_equal(auth_tls_setup(a, c, err, sizeof(err)), 0);
	return (c);
}

/* A client context presenting creds/<cred>.pem (NULL: no certificate). */
static SSL_CTX *
client_ctx(const char *cred, int maxver, int notickets)
{
	SSL_CTX		*c;
	char		 path[1200];

	c = SSL_CTX_new(TLS_client_method());
	assert_non_null(c);
	SSL_CTX_set_verify(c, SSL_VERIFY_NONE, NULL);
	if (maxver != 0)
		SSL_CTX_set_max_proto_version(c, maxver);
	if (notickets)
		SSL_CTX_set_options(c, SSL_OP_NO_TICKET);
	if (cred != NULL) {
		snprintf(path, sizeof(path), "%s/creds/%s.pem", pki, cred);
		/* Like curl --cert: leaf, then the chain, key in between. */
		if (SSL_CTX_use_certificate_chain_file(c, path) != 1 ||
		    SSL_CTX_use_PrivateKey_file(c, path,
		    SSL_FILETYPE_PEM) != 1)
			fail_msg("cannot load client cred %s", cred);
	}
	return (c);
}

static int
io_ok(SSL *ssl, int rc)
{
	int		 e = SSL_get_error(ssl, rc);

	return (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE);
}

/*
 * Handshake sctx against cctx over a non-blocking socketpair, then move a
 * few bytes each way so the client has read its session tickets.
 * Returns 0 with *p filled, -1 on a handshake failure.
 */
static int
handshake(SSL_CTX *sctx, SSL_CTX *cctx, SSL_SESSION *resume, struct pair *p)
{
	int		 i, rc, sdone = 0, cdone = 0, got = 0, sgot = 0;
	char		 buf[16];

	memset(p, 0, sizeof(*p));
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, p->fds), 0);
	fcntl(p->fds[0], F_SETFL, O_NONBLOCK);
	fcntl(p->fds[1], F_SETFL, O_NONBLOCK);
	p->s = SSL_new(sctx);
	p->c = SSL_new(cctx);
	SSL_set_fd(p->s, p->fds[0]);
	SSL_set_fd(p->c, p->fds[1]);
	SSL_set_accept_state(p->s);
	SSL_set_connect_state(p->c);
	if (resume != NULL)
		SSL_set_session(p->c, resume);
	for (i = 0; i < 1000 && (!sdone || !cdone); i++) {
		if (!cdone) {
			if ((rc = SSL_do_handshake(p->c)) == 1)
				cdone = 1;
			else if (!io_ok(p->c, rc))
				return (-1);
		}
		if (!sdone) {
			if ((rc = SSL_do_handshake(p->s)) == 1)
				sdone = 1;
			else if (!io_ok(p->s, rc))
				return (-1);
		}
	}
	if (!sdone || !cdone)
		return (-1);
	assert_int_equal(SSL_write(p->s, "ping", 4), 4);
	assert_int_equal(SSL_write(p->c, "pong", 4), 4);
	for (i = 0; i < 1000 && (got < 4 || sgot < 4); i++) {
		if (got < 4) {
			rc = SSL_read(p->c, buf, sizeof(buf));
			if (rc > 0)
				got += rc;
			else if (!io_ok(p->c, rc))
				return (-1);
		}
		if (sgot < 4) {
			rc = SSL_read(p->s, buf, sizeof(buf));
			if (rc > 0)
				sgot += rc;
			else if (!io_ok(p->s, rc))
				return (-1);
		}
	}
	return (got == 4 && sgot == 4 ? 0 : -1);
}

static void
pair_free(struct pair *p)
{
	/* As after close_notify both ways: OpenSSL marks a session that
	 * ends without it as not resumable. */
	SSL_set_shutdown(p->s, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
	SSL_set_shutdown(p->c, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
	SSL_free(p->s);
	SSL_free(p->c);
	close(p->fds[0]);
	close(p->fds[1]);
	memset(p, 0, sizeof(*p));
}

/* Handshake as cred and return the server-side identity. */
static struct auth_ident *
ident_of(struct fx *f, const char *cred, int maxver)
{
	SSL_CTX		*cctx = client_ctx(cred, maxver, 0);
	struct pair	 p;
	struct auth_ident *id;

	if (handshake(f->sctx, cctx, NULL, &p) == -1)
		fail_msg("handshake as %s failed", cred ? cred : "(none)");
	id = auth_ident_get(f->auth, p.s);
	assert_non_null(id);
	pair_free(&p);
	SSL_CTX_free(cctx);
	return (id);
}

/* 127.0.0.1:40000, filled in by group_setup (shared by threads). */
static struct sockaddr_in lo_sin;

static const struct sockaddr *
localhost(void)
{
	return ((const struct sockaddr *)&lo_sin);
}

static enum auth_result
decide(struct fx *f, struct auth_ident *id, const struct conf_route *r,
    const char **reason)
{
	struct auth_decision d;
	enum auth_result res;

	res = auth_decide(f->auth, id, r, localhost(), &d);
	assert_int_equal(res, d.result);
	if (reason != NULL)
		*reason = d.reason;
	if (res == AUTH_DENY)
		assert_true(d.status == 403 || d.status == 500);
	auth_decision_release(&d);
	auth_decision_release(&d);
	return (res);
}

static void
route_init(struct conf_route *r, enum conf_auth_mode mode)
{
	memset(r, 0, sizeof(*r));
	r->auth = mode;
	snprintf(r->name, sizeof(r->name), "route#0 (/test/)");
}

/* ------------------------------------------------------------------ */
/* Setup                                                               */
/* ------------------------------------------------------------------ */

static int
group_setup(void **state)
{
	const char	*p = getenv("PKI_DIR");
	const char	*src = getenv("SRCDIR");

	lo_sin.sin_family = AF_INET;
	lo_sin.sin_port = htons(40000);
	lo_sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	snprintf(pki, sizeof(pki), "%s", p != NULL ? p : "build/pki");
	if (run("bash %s/tests/fixtures/certs/mkcerts.sh '%s'",
	    src != NULL ? src : ".", pki) != 0) {
		fprintf(stderr, "mkcerts.sh failed\n");
		return (-1);
	}
	return (0);
}

static int
group_teardown(void **state)
{
	return (0);
}

static int
fx_setup(void **state)
{
	struct fx	*f;
	char		 err[512] = "";

	if ((f = calloc(1, sizeof(*f))) == NULL)
		return (-1);
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_auth.XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return (-1);
	if (run("cp -r '%s/certificates' '%s/users.json' '%s/banned.txt' "
	    "'%s/hmac.key' '%s/'", pki, pki, pki, pki, f->dir) != 0 ||
	    run("cp -r '%s/vomsdir' '%s/'", pki, f->dir) != 0)
		return (-1);
	snprintf(f->ca, sizeof(f->ca), "%s/certificates", f->dir);
	snprintf(f->users, sizeof(f->users), "%s/users.json", f->dir);
	snprintf(f->banned, sizeof(f->banned), "%s/banned.txt", f->dir);
	snprintf(f->key, sizeof(f->key), "%s/hmac.key", f->dir);
	snprintf(f->vomsdir, sizeof(f->vomsdir), "%s/vomsdir", f->dir);
	f->ac.ca_path = f->ca;
	f->ac.verify_depth = 10;
	f->ac.vomsdir = f->vomsdir;
	f->ac.users = f->users;
	f->ac.banned = f->banned;
	f->ac.hmac_key = f->key;
	f->ac.authn_method = "X509Cert";
	f->ac.trouble_url = "/auth/trouble";
	f->ac.verify_cache_size = 100;
	if ((f->auth = auth_ctx_new(&f->ac, err, sizeof(err))) == NULL) {
		fprintf(stderr, "auth_ctx_new: %s\n", err);
		return (-1);
	}
	f->sctx = server_ctx(f->auth);
	*state = f;
	return (0);
}

static int
fx_teardown(void **state)
{
	struct fx	*f = *state;

	SSL_CTX_free(f->sctx);
	auth_ctx_free(f->auth);
	run("rm -rf '%s'", f->dir);
	free(f);
	return (0);
}

/* ------------------------------------------------------------------ */
/* Context creation                                                    */
/* ------------------------------------------------------------------ */

static void
test_auth__ctx_new_refuses_bad_files(void **state)
{
	struct fx	*f = *state;
	struct conf_auth ac = f->ac;
	struct auth_ctx	*a;
	char		 err[512], path[1400];
	struct auth_stats st;

	/* Missing, empty and world-readable HMAC keys all stop start-up. */
	snprintf(path, sizeof(path), "%s/nokey", f->dir);
	ac.hmac_key = path;
	err[0] = '\0';
	assert_null(auth_ctx_new(&ac, err, sizeof(err)));
	assert_non_null(strstr(err, "hmac"));
	write_file(path, "", 0, 0600);
	assert_null(auth_ctx_new(&ac, err, sizeof(err)));
	write_file(path, "0123456789", 10, 0644);
	chmod(path, 0644);
	err[0] = '\0';
	assert_null(auth_ctx_new(&ac, err, sizeof(err)));
	assert_non_null(strstr(err, "readable"));

	/* A missing CA directory, a truncated users file. */
	ac = f->ac;
	ac.ca_path = path;
	err[0] = '\0';
	assert_null(auth_ctx_new(&ac, err, sizeof(err)));
	assert_non_null(strstr(err, "trust store"));
	ac = f->ac;
	ac.ca_path = NULL;
	assert_null(auth_ctx_new(&ac, err, sizeof(err)));
	ac = f->ac;
	snprintf(path, sizeof(path), "%s/trunc.json", f->dir);
	write_file(path, "[{\"DN\": \"/CN=x\", \"ID\": 1", 25, 0644);
	ac.users = path;
	err[0] = '\0';
	assert_null(auth_ctx_new(&ac, err, sizeof(err)));
	assert_non_null(strstr(err, "users"));

	/* The good one is ready. */
	auth_ctx_stats(f->auth, &st);
	assert_true(st.ready);
	assert_true(st.users >= 14);
	a = auth_ctx_new(&f->ac, err, sizeof(err));
	assert_non_null(a);
	auth_ctx_free(a);
	auth_ctx_free(NULL);
}

/* ------------------------------------------------------------------ */
/* Handshakes for every credential                                     */
/* ------------------------------------------------------------------ */

struct hexpect {
	const char	*cred;
	enum auth_cert_status status;
	const char	*reason;
	enum auth_proxy_kind proxy;
	size_t		 nfqans;
};

static const struct hexpect hexpects[] = {
	{ "alice", AUTH_CERT_OK, NULL, AUTH_PROXY_NONE, 0 },
	{ "bob", AUTH_CERT_OK, NULL, AUTH_PROXY_NONE, 0 },
	{ "robot", AUTH_CERT_OK, NULL, AUTH_PROXY_NONE, 0 },
	{ "utf8", AUTH_CERT_OK, NULL, AUTH_PROXY_NONE, 0 },
	{ "slash", AUTH_CERT_OK, NULL, AUTH_PROXY_NONE, 0 },
	{ "specials", AUTH_CERT_OK, NULL, AUTH_PROXY_NONE, 0 },
	{ "multirdn", AUTH_CERT_OK, NULL, AUTH_PROXY_NONE, 0 },
	{ "unregistered", AUTH_CERT_OK, NULL, AUTH_PROXY_NONE, 0 },
	{ "banned", AUTH_CERT_OK, NULL, AUTH_PROXY_NONE, 0 },
	{ "rsauser", AUTH_CERT_OK, NULL, AUTH_PROXY_NONE, 0 },
	{ "revoked", AUTH_CERT_FAILED, "certificate revoked", 0, 0 },
	{ "expired", AUTH_CERT_FAILED, "certificate expired", 0, 0 },
	{ "notyet", AUTH_CERT_FAILED, "certificate not yet valid", 0, 0 },
	{ "untrusted", AUTH_CERT_FAILED, "unknown certificate authority", 0,
	    0 },
	{ "rogue", AUTH_CERT_FAILED, "unknown certificate authority", 0, 0 },
	{ "ca_as_user", AUTH_CERT_FAILED,
	    "CA certificate used as user certificate", 0, 0 },
	{ "proxy", AUTH_CERT_OK, NULL, AUTH_PROXY_RFC, 0 },
	{ "proxy2", AUTH_CERT_OK, NULL, AUTH_PROXY_RFC, 0 },
	{ "proxy_robot", AUTH_CERT_OK, NULL, AUTH_PROXY_RFC, 0 },
	{ "proxy_limited", AUTH_CERT_OK, NULL, AUTH_PROXY_LIMITED, 0 },
	{ "proxy_independent", AUTH_CERT_FAILED,
	    "independent proxy carries no user identity", 0, 0 },
	{ "proxy_expired", AUTH_CERT_FAILED, "proxy certificate expired", 0,
	    0 },
	{ "proxy_forged", AUTH_CERT_FAILED, "certificate chain invalid", 0,
	    0 },
	{ "proxy_revoked", AUTH_CERT_FAILED, "certificate revoked", 0, 0 },
	{ "legacy", AUTH_CERT_FAILED, "legacy Globus proxy not accepted", 0,
	    0 },
	{ "voms", AUTH_CERT_OK, NULL, AUTH_PROXY_RFC, 2 },
	{ "voms2", AUTH_CERT_OK, NULL, AUTH_PROXY_RFC, 2 },
	{ "voms_untrusted", AUTH_CERT_OK, NULL, AUTH_PROXY_RFC, 0 },
	{ "voms_nolsc", AUTH_CERT_OK, NULL, AUTH_PROXY_RFC, 0 },
	{ "voms_expired_ac", AUTH_CERT_OK, NULL, AUTH_PROXY_RFC, 0 },
};

static void
test_auth__handshake_every_credential(void **state)
{
	struct fx	*f = *state;
	struct auth_ident *id;
	size_t		 i;
	int		 v;
	char		*dn;
	const int	 vers[] = { TLS1_3_VERSION, TLS1_2_VERSION };

	for (v = 0; v < 2; v++) {
		for (i = 0; i < sizeof(hexpects) / sizeof(hexpects[0]); i++) {
			const struct hexpect *e = &hexpects[i];

			/* The handshake itself never fails for the cert. */
			id = ident_of(f, e->cred, vers[v]);
			if (id->status != e->status ||
			    (e->reason != NULL && (id->reason == NULL ||
			    strcmp(id->reason, e->reason) != 0)))
				fail_msg("%s/%d: status %d reason %s", e->cred,
				    v, id->status,
				    id->reason ? id->reason : "-");
			if (e->status == AUTH_CERT_OK) {
				dn = expected_dn(e->cred);
				assert_non_null(dn);
				assert_string_equal(id->user_dn, dn);
				free(dn);
				assert_int_equal(id->proxy, e->proxy);
				assert_int_equal(id->nfqans, e->nfqans);
			} else
				assert_null(id->user_dn);
			auth_ident_put(id);
		}
	}
	/* No certificate at all. */
	id = ident_of(f, NULL, 0);
	assert_int_equal(id->status, AUTH_CERT_NONE);
	auth_ident_put(id);
	id = ident_of(f, NULL, TLS1_2_VERSION);
	assert_int_equal(id->status, AUTH_CERT_NONE);
	auth_ident_put(id);
	/* No TLS at all. */
	id = auth_ident_get(f->auth, NULL);
	assert_int_equal(id->status, AUTH_CERT_NONE);
	auth_ident_put(id);
}

/* ------------------------------------------------------------------ */
/* Decisions                                                           */
/* ------------------------------------------------------------------ */

static void
test_auth__decisions_per_route(void **state)
{
	struct fx	*f = *state;
	struct conf_route cert, opt, none, lim, fq, allow, deny;
	struct conf_cidr lo = { AF_INET, { 127, 0, 0, 0 }, 8 };
	struct conf_cidr ten = { AF_INET, { 10, 0, 0, 0 }, 8 };
	char		*fqans[] = { "/atlas", "/cms/Role=production" };
	char		*wrong[] = { "/cms/Role=prod" };
	struct auth_ident *alice, *unreg, *banned, *revoked, *limited, *voms;
	struct auth_ident *indep;
	const char	*why;

	route_init(&cert, CONF_AUTH_CERT);
	route_init(&opt, CONF_AUTH_OPTIONAL);
	route_init(&none, CONF_AUTH_NONE);
	route_init(&lim, CONF_AUTH_CERT);
	lim.allow_limited_proxy = 1;
	route_init(&fq, CONF_AUTH_CERT);
	fq.require_fqan = fqans;
	fq.nrequire_fqan = 2;
	route_init(&allow, CONF_AUTH_CERT);
	allow.allow_from = &lo;
	allow.nallow_from = 1;
	route_init(&deny, CONF_AUTH_NONE);
	deny.allow_from = &ten;
	deny.nallow_from = 1;

	alice = ident_of(f, "alice", 0);
	unreg = ident_of(f, "unregistered", 0);
	banned = ident_of(f, "banned", 0);
	revoked = ident_of(f, "proxy_revoked", 0);
	limited = ident_of(f, "proxy_limited", 0);
	voms = ident_of(f, "voms2", 0);
	indep = ident_of(f, "proxy_independent", 0);

	/* No certificate. */
	assert_int_equal(decide(f, NULL, &cert, &why), AUTH_DENY);
	assert_string_equal(why, "client certificate required");
	assert_int_equal(decide(f, x509_ident_none(), &opt, NULL), AUTH_ANON);
	assert_int_equal(decide(f, NULL, &none, NULL), AUTH_PASS);

	assert_int_equal(decide(f, alice, &cert, NULL), AUTH_OK);
	assert_int_equal(decide(f, alice, &opt, NULL), AUTH_OK);
	assert_int_equal(decide(f, alice, &none, NULL), AUTH_PASS);
	assert_int_equal(decide(f, alice, NULL, NULL), AUTH_OK);

	/* Valid but not in CRIC: 403 on cert routes, anonymous if optional. */
	assert_int_equal(decide(f, unreg, &cert, &why), AUTH_DENY);
	assert_string_equal(why, "not registered in CRIC");
	assert_int_equal(decide(f, unreg, &opt, NULL), AUTH_ANON);

	/* Banned: 403 on every route, auth: none included (PROTOCOL.md). */
	assert_int_equal(decide(f, banned, &cert, &why), AUTH_DENY);
	assert_string_equal(why, "banned");
	assert_int_equal(decide(f, banned, &opt, &why), AUTH_DENY);
	assert_int_equal(decide(f, banned, &none, &why), AUTH_DENY);
	assert_string_equal(why, "banned");

	/* A refused certificate: 403 with its reason, except auth: none. */
	assert_int_equal(decide(f, revoked, &cert, &why), AUTH_DENY);
	assert_string_equal(why, "certificate revoked");
	assert_int_equal(decide(f, revoked, &opt, &why), AUTH_DENY);
	assert_string_equal(why, "certificate revoked");
	assert_int_equal(decide(f, revoked, &none, NULL), AUTH_PASS);
	assert_int_equal(decide(f, indep, &opt, &why), AUTH_DENY);
	assert_string_equal(why, "independent proxy carries no user identity");

	/* Limited proxies only where allowed. */
	assert_int_equal(decide(f, limited, &cert, &why), AUTH_DENY);
	assert_string_equal(why, "limited proxy not allowed on this route");
	assert_int_equal(decide(f, limited, &opt, &why), AUTH_DENY);
	assert_int_equal(decide(f, limited, &lim, NULL), AUTH_OK);

	/* require_fqan: any one, matched at a '/' boundary. */
	assert_int_equal(decide(f, voms, &fq, NULL), AUTH_OK);
	assert_int_equal(decide(f, alice, &fq, &why), AUTH_DENY);
	assert_string_equal(why, "missing required VOMS role");
	fq.require_fqan = wrong;
	fq.nrequire_fqan = 1;
	assert_int_equal(decide(f, voms, &fq, &why), AUTH_DENY);
	fqans[1] = "/cms";
	fq.require_fqan = fqans;
	fq.nrequire_fqan = 2;
	assert_int_equal(decide(f, voms, &fq, NULL), AUTH_OK);
	fqans[1] = "/cms/Role=NULL/Capability=NULL";
	assert_int_equal(decide(f, voms, &fq, NULL), AUTH_OK);

	/* allow_from comes first, even before auth: none. */
	assert_int_equal(decide(f, alice, &allow, NULL), AUTH_OK);
	assert_int_equal(decide(f, alice, &deny, &why), AUTH_DENY);
	assert_string_equal(why, "address not allowed");
	assert_int_equal(decide(f, NULL, &deny, &why), AUTH_DENY);

	auth_ident_put(alice);
	auth_ident_put(unreg);
	auth_ident_put(banned);
	auth_ident_put(revoked);
	auth_ident_put(limited);
	auth_ident_put(voms);
	auth_ident_put(indep);
}

static void
test_auth__anonymous_header(void **state)
{
	struct fx	*f = *state;
	struct conf_route opt;
	struct auth_decision d;

	route_init(&opt, CONF_AUTH_OPTIONAL);
	assert_int_equal(auth_decide(f->auth, NULL, &opt, localhost(), &d),
	    AUTH_ANON);
	assert_int_equal(d.hdrslen, strlen("cms-auth-status: NONE\r\n"));
	assert_memory_equal(d.hdrs, "cms-auth-status: NONE\r\n", d.hdrslen);
	assert_null(d.login);
	auth_decision_release(&d);
}

/* The block sign_block() must produce for a user, HMAC recomputed here. */
static char *
expected_block(struct fx *f, const char *dn, const char *login,
    const char *name, const char *role, const char *roleval,
    const char *fqans)
{
	struct sign_hdr	 h[6];
	size_t		 n = 0, keylen;
	char		*key, mac[41], *out, rname[64];

	key = slurp(f->key, &keylen);
	assert_non_null(key);
#define HDR(nm, v) do {							\
	h[n].name = (nm); h[n].namelen = strlen(nm);			\
	h[n].value = (v); h[n].valuelen = strlen(v); n++;		\
} while (0)
	HDR("cms-authn-method", "X509Cert");
	HDR("cms-authn-dn", dn);
	HDR("cms-authn-login", login);
	HDR("cms-authn-name", name);
	snprintf(rname, sizeof(rname), "cms-authz-%s", role);
	HDR(rname, roleval);
	if (fqans != NULL)
		HDR("cms-authn-voms-fqans", fqans);
#undef HDR
	assert_int_equal(sign_hmac((unsigned char *)key, keylen, h, n, mac),
	    0);
	assert_true(asprintf(&out, "cms-auth-status: OK\r\n"
	    "cms-authn-method: X509Cert\r\ncms-authn-dn: %s\r\n"
	    "cms-authn-login: %s\r\ncms-authn-name: %s\r\n"
	    "%s: %s\r\n%s%s%scms-authn-hmac: %s\r\n", dn, login, name,
	    rname, roleval, fqans ? "cms-authn-voms-fqans: " : "",
	    fqans ? fqans : "", fqans ? "\r\n" : "", mac) > 0);
	free(key);
	return (out);
}

static void
test_auth__header_block_exact(void **state)
{
	struct fx	*f = *state;
	struct conf_route cert;
	struct auth_decision d, d2;
	struct auth_ident *alice, *voms;
	char		*dn = expected_dn("alice"), *want;

	route_init(&cert, CONF_AUTH_CERT);
	alice = ident_of(f, "alice", 0);
	assert_int_equal(auth_decide(f->auth, alice, &cert, localhost(), &d),
	    AUTH_OK);
	want = expected_block(f, dn, "alice", "Alice Tester", "user",
	    "group:users", NULL);
	assert_int_equal(d.hdrslen, strlen(want));
	assert_string_equal(d.hdrs, want);
	assert_string_equal(d.login, "alice");
	assert_string_equal(d.dn, dn);
	assert_null(d.reason);
	free(want);

	/* Keep-alive: the same block, no new HMAC. */
	assert_int_equal(auth_decide(f->auth, alice, &cert, localhost(),
	    &d2), AUTH_OK);
	assert_ptr_equal(d.hdrs, d2.hdrs);
	auth_decision_release(&d2);
	auth_decision_release(&d);

	/* A VOMS proxy adds its FQANs, signed. */
	voms = ident_of(f, "voms", 0);
	assert_int_equal(auth_decide(f->auth, voms, &cert, localhost(), &d),
	    AUTH_OK);
	want = expected_block(f, dn, "alice", "Alice Tester", "user",
	    "group:users", "/cms/Role=production/Capability=NULL,"
	    "/cms/Role=NULL/Capability=NULL");
	assert_string_equal(d.hdrs, want);
	free(want);
	auth_decision_release(&d);

	auth_ident_put(alice);
	auth_ident_put(voms);
	free(dn);
}

static void
test_auth__header_block_roles_and_utf8(void **state)
{
	struct fx	*f = *state;
	struct conf_route cert;
	struct auth_decision d;
	struct auth_ident *bob, *utf8, *robot;

	route_init(&cert, CONF_AUTH_CERT);
	bob = ident_of(f, "bob", 0);
	assert_int_equal(auth_decide(f->auth, bob, &cert, localhost(), &d),
	    AUTH_OK);
	assert_non_null(strstr(d.hdrs, "\r\ncms-authz-admin: group:reqmgr "
	    "site:t1-ch-cern\r\n"));
	assert_non_null(strstr(d.hdrs, "\r\ncms-authz-operator: group:dbs "
	    "group:xcache\r\n"));
	assert_non_null(strstr(d.hdrs, "\r\ncms-authz-data-manager: "
	    "site:t2-ch-cern\r\n"));
	auth_decision_release(&d);

	utf8 = ident_of(f, "utf8", 0);
	assert_int_equal(auth_decide(f->auth, utf8, &cert, localhost(), &d),
	    AUTH_OK);
	assert_non_null(strstr(d.hdrs, "cms-authn-name: Jos\xc3\xa9 "
	    "M\xc3\xbcller\r\n"));
	auth_decision_release(&d);

	/* CRIC NAME "" sends no cms-authn-name. */
	robot = ident_of(f, "proxy_robot", 0);
	assert_int_equal(auth_decide(f->auth, robot, &cert, localhost(), &d),
	    AUTH_OK);
	assert_null(strstr(d.hdrs, "cms-authn-name"));
	assert_non_null(strstr(d.hdrs, "cms-authn-dn: /DC=ch/DC=cern/"
	    "OU=Organic Units/OU=Users/CN=robot/CN=123456\r\n"));
	auth_decision_release(&d);

	auth_ident_put(bob);
	auth_ident_put(utf8);
	auth_ident_put(robot);
}

/* ------------------------------------------------------------------ */
/* Cache and resumption                                                */
/* ------------------------------------------------------------------ */

static void
test_auth__cache_hit_on_second_handshake(void **state)
{
	struct fx	*f = *state;
	struct auth_stats s0, s1;
	struct auth_ident *a, *b;

	auth_ctx_stats(f->auth, &s0);
	a = ident_of(f, "proxy2", 0);
	auth_ctx_stats(f->auth, &s1);
	assert_int_equal(s1.verify_cache_misses, s0.verify_cache_misses + 1);
	assert_int_equal(s1.verify_cache_hits, s0.verify_cache_hits);
	b = ident_of(f, "proxy2", 0);
	auth_ctx_stats(f->auth, &s0);
	assert_int_equal(s0.verify_cache_hits, s1.verify_cache_hits + 1);
	/* The same shared identity, verified once. */
	assert_ptr_equal(a, b);
	auth_ident_put(a);
	auth_ident_put(b);
}

/*
 * A full handshake as cred, then a resumed one; returns the session so a
 * caller can try it again later.
 */
static SSL_SESSION *
resume_check(struct fx *f, const char *cred, int maxver, int notickets)
{
	SSL_CTX		*cctx = client_ctx(cred, maxver, notickets);
	struct pair	 p;
	SSL_SESSION	*sess;
	struct auth_ident *id1, *id2;

	assert_int_equal(handshake(f->sctx, cctx, NULL, &p), 0);
	assert_false(SSL_session_reused(p.s));
	id1 = auth_ident_get(f->auth, p.s);
	sess = SSL_get1_session(p.c);
	assert_non_null(sess);
	assert_true(SSL_SESSION_is_resumable(sess));
	pair_free(&p);

	assert_int_equal(handshake(f->sctx, cctx, sess, &p), 0);
	if (!SSL_session_reused(p.s))
		fail_msg("%s: session not resumed (max %x, notickets %d)",
		    cred, maxver, notickets);
	id2 = auth_ident_get(f->auth, p.s);
	assert_int_equal(id2->status, id1->status);
	if (id1->user_dn != NULL)
		assert_string_equal(id2->user_dn, id1->user_dn);
	else
		assert_null(id2->user_dn);
	/* A refusal is cached without its chain: same reason, new ident. */
	if (id1->status == AUTH_CERT_FAILED)
		assert_ptr_equal(id1->reason, id2->reason);
	else
		assert_ptr_equal(id1, id2);
	/* Per-request calls on the same connection stay cheap and equal. */
	auth_ident_put(id1);
	id1 = id2;
	id2 = auth_ident_get(f->auth, p.s);
	assert_ptr_equal(id1, id2);
	auth_ident_put(id1);
	auth_ident_put(id2);
	pair_free(&p);
	SSL_CTX_free(cctx);
	return (sess);
}

static void
test_auth__resumption_keeps_identity(void **state)
{
	struct fx	*f = *state;

	/* TLS 1.3 tickets, TLS 1.2 tickets, TLS 1.2 session IDs. */
	SSL_SESSION_free(resume_check(f, "alice", TLS1_2_VERSION, 0));
	SSL_SESSION_free(resume_check(f, "proxy", TLS1_2_VERSION, 1));
	SSL_SESSION_free(resume_check(f, "alice", 0, 0));
	SSL_SESSION_free(resume_check(f, "voms2", 0, 0));
	/* Refused and absent certificates resume as what they were. */
	SSL_SESSION_free(resume_check(f, "revoked", 0, 0));
	SSL_SESSION_free(resume_check(f, NULL, 0, 0));
}

static void
test_auth__ticket_ignored_when_identity_evicted(void **state)
{
	struct fx	*f = *state;
	struct conf_auth ac = f->ac;
	struct auth_ctx	*a;
	SSL_CTX		*sctx, *calice, *cbob;
	SSL_SESSION	*sess;
	struct pair	 p;
	struct auth_ident *id;
	char		 err[256];

	/* A one-entry cache: bob's handshake pushes alice out. */
	ac.verify_cache_size = 1;
	a = auth_ctx_new(&ac, err, sizeof(err));
	assert_non_null(a);
	sctx = server_ctx(a);
	calice = client_ctx("alice", 0, 0);
	cbob = client_ctx("bob", 0, 0);
	assert_int_equal(handshake(sctx, calice, NULL, &p), 0);
	sess = SSL_get1_session(p.c);
	pair_free(&p);
	assert_int_equal(handshake(sctx, calice, sess, &p), 0);
	assert_true(SSL_session_reused(p.s));
	pair_free(&p);
	assert_int_equal(handshake(sctx, cbob, NULL, &p), 0);
	pair_free(&p);
	/* The ticket is fine, but its identity is gone: full handshake. */
	assert_int_equal(handshake(sctx, calice, sess, &p), 0);
	assert_false(SSL_session_reused(p.s));
	id = auth_ident_get(a, p.s);
	assert_int_equal(id->status, AUTH_CERT_OK);
	assert_non_null(strstr(id->user_dn, "CN=alice"));
	auth_ident_put(id);
	pair_free(&p);
	SSL_SESSION_free(sess);
	SSL_CTX_free(calice);
	SSL_CTX_free(cbob);
	SSL_CTX_free(sctx);
	auth_ctx_free(a);
}

/* Replace the intermediate's CRL in the private CA dir (by rename). */
static void
install_crl(struct fx *f, const char *crl)
{
	assert_int_equal(run("h=$(openssl x509 -hash -noout -in "
	    "'%s/crl/int.pem') && cp '%s/crl/%s' '%s/new.r0' && "
	    "mv '%s/new.r0' '%s'/$h.r0", pki, pki, crl, f->dir, f->dir,
	    f->ca), 0);
}

static void
test_auth__trust_reload_revokes_and_voids_sessions(void **state)
{
	struct fx	*f = *state;
	SSL_CTX		*c13 = client_ctx("alice", 0, 0);
	SSL_CTX		*c12 = client_ctx("alice", TLS1_2_VERSION, 1);
	SSL_SESSION	*s13, *s12;
	struct pair	 p13, p12, live;
	struct auth_ident *id;
	struct auth_stats st;
	char		 log[512];

	/* Sessions and a live connection from before the reload. */
	assert_int_equal(handshake(f->sctx, c13, NULL, &p13), 0);
	s13 = SSL_get1_session(p13.c);
	pair_free(&p13);
	assert_int_equal(handshake(f->sctx, c12, NULL, &p12), 0);
	s12 = SSL_get1_session(p12.c);
	pair_free(&p12);
	assert_int_equal(handshake(f->sctx, c13, NULL, &live), 0);
	id = auth_ident_get(f->auth, live.s);
	assert_int_equal(id->status, AUTH_CERT_OK);
	auth_ident_put(id);

	/* Before the reload both sessions resume. */
	assert_int_equal(handshake(f->sctx, c13, s13, &p13), 0);
	assert_true(SSL_session_reused(p13.s));
	pair_free(&p13);
	assert_int_equal(handshake(f->sctx, c12, s12, &p12), 0);
	assert_true(SSL_session_reused(p12.s));
	pair_free(&p12);

	/* Nothing changed yet: nothing reloads. */
	assert_int_equal(auth_ctx_refresh(f->auth, log, sizeof(log)), 0);

	/* fetch-crl drops in a CRL that revokes alice. */
	install_crl(f, "int-alice-revoked.r0");
	assert_int_equal(auth_ctx_refresh(f->auth, log, sizeof(log)),
	    AUTH_RELOAD_TRUST);
	auth_ctx_stats(f->auth, &st);
	assert_int_equal(st.trust_reloads, 1);

	/* A full handshake now fails verification. */
	id = ident_of(f, "alice", 0);
	assert_string_equal(id->reason, "certificate revoked");
	assert_int_equal(id->trust_gen, 2);
	auth_ident_put(id);

	/* The TLS 1.3 ticket from before is not honoured. */
	assert_int_equal(handshake(f->sctx, c13, s13, &p13), 0);
	assert_false(SSL_session_reused(p13.s));
	id = auth_ident_get(f->auth, p13.s);
	assert_string_equal(id->reason, "certificate revoked");
	auth_ident_put(id);
	pair_free(&p13);

	/* A stateful TLS 1.2 session may resume, but its identity is
	 * checked again under the new store. */
	assert_int_equal(handshake(f->sctx, c12, s12, &p12), 0);
	assert_true(SSL_session_reused(p12.s));
	id = auth_ident_get(f->auth, p12.s);
	assert_string_equal(id->reason, "certificate revoked");
	auth_ident_put(id);
	pair_free(&p12);

	/* So is a keep-alive connection that outlived the reload. */
	id = auth_ident_get(f->auth, live.s);
	assert_string_equal(id->reason, "certificate revoked");
	auth_ident_put(id);
	pair_free(&live);

	/* An unreadable new CRL fails alice closed; a good one restores. */
	install_crl(f, "int-expired.r0");
	assert_int_equal(auth_ctx_refresh(f->auth, log, sizeof(log)),
	    AUTH_RELOAD_TRUST);
	id = ident_of(f, "bob", 0);
	assert_string_equal(id->reason,
	    "CRL missing or expired for the issuing CA");
	auth_ident_put(id);
	install_crl(f, "int.r0");
	assert_int_equal(auth_ctx_refresh(f->auth, log, sizeof(log)),
	    AUTH_RELOAD_TRUST);
	id = ident_of(f, "alice", 0);
	assert_int_equal(id->status, AUTH_CERT_OK);
	assert_int_equal(id->trust_gen, 4);
	auth_ident_put(id);

	/* A CA directory that vanished keeps the old store. */
	assert_int_equal(run("mv '%s' '%s.gone'", f->ca, f->ca), 0);
	assert_int_equal(auth_ctx_refresh(f->auth, log, sizeof(log)),
	    AUTH_RELOAD_FAILED);
	assert_non_null(strstr(log, "trust store reload failed"));
	id = ident_of(f, "alice", 0);
	assert_int_equal(id->status, AUTH_CERT_OK);
	auth_ident_put(id);
	assert_int_equal(run("mv '%s.gone' '%s'", f->ca, f->ca), 0);
	auth_ctx_stats(f->auth, &st);
	assert_int_equal(st.trust_reload_failures, 1);

	SSL_SESSION_free(s13);
	SSL_SESSION_free(s12);
	SSL_CTX_free(c13);
	SSL_CTX_free(c12);
}

/* ------------------------------------------------------------------ */
/* File reloads                                                        */
/* ------------------------------------------------------------------ */

static void
test_auth__users_reload(void **state)
{
	struct fx	*f = *state;
	struct conf_route cert;
	struct auth_decision d;
	struct auth_ident *alice;
	struct auth_stats st;
	struct conf_auth ac;
	struct auth_ctx	*a2;
	const char	*why;
	char		*json, log[512], *dn = expected_dn("alice");
	char		 buf[4096];
	size_t		 len;
	int		 n;

	route_init(&cert, CONF_AUTH_CERT);
	alice = ident_of(f, "alice", 0);
	assert_int_equal(decide(f, alice, &cert, NULL), AUTH_OK);

	/* Truncated: refused, logged, counted; the old map stays. */
	json = slurp(f->users, &len);
	write_file(f->users, json, len / 2, 0644);
	assert_int_equal(auth_ctx_refresh(f->auth, log, sizeof(log)),
	    AUTH_RELOAD_FAILED);
	assert_non_null(strstr(log, "users file"));
	assert_non_null(strstr(log, "keeping the previous map"));
	assert_int_equal(decide(f, alice, &cert, NULL), AUTH_OK);
	auth_ctx_stats(f->auth, &st);
	assert_int_equal(st.users_reload_failures, 1);
	assert_true(st.ready);
	/* Refused once; retried on each check while it stays bad, but not
	 * logged or counted again. */
	assert_int_equal(auth_ctx_refresh(f->auth, log, sizeof(log)), 0);
	auth_ctx_stats(f->auth, &st);
	assert_int_equal(st.users_reload_failures, 1);
	free(json);

	/*
	 * A new map where alice's DN is written in another order and her
	 * login changed: with auth.dn_match exact (the default) she is not
	 * found; with any_order she is, and the header carries CRIC's own DN
	 * string.
	 */
	n = snprintf(buf, sizeof(buf), "[{\"DN\": \"/CN=Alice Tester/"
	    "CN=100001/CN=alice/OU=Users/OU=Organic Units/DC=cern/DC=ch\", "
	    "\"ID\": 1, \"LOGIN\": \"alice2\", \"NAME\": \"A\", "
	    "\"ROLES\": {}}]");
	write_file(f->users, buf, (size_t)n, 0644);
	assert_int_equal(auth_ctx_refresh(f->auth, log, sizeof(log)),
	    AUTH_RELOAD_USERS);
	assert_int_equal(decide(f, alice, &cert, &why), AUTH_DENY);
	assert_string_equal(why, "not registered in CRIC");
	ac = f->ac;
	ac.dn_match = CONF_DN_ANY_ORDER;
	assert_non_null(a2 = auth_ctx_new(&ac, log, sizeof(log)));
	assert_int_equal(auth_decide(a2, alice, &cert, localhost(), &d),
	    AUTH_OK);
	assert_string_equal(d.login, "alice2");
	assert_non_null(strstr(d.hdrs, "cms-authn-dn: /CN=Alice Tester/"
	    "CN=100001/CN=alice/OU=Users/OU=Organic Units/DC=cern/DC=ch\r\n"));
	assert_null(strstr(d.hdrs, dn));
	auth_decision_release(&d);
	auth_ctx_free(a2);
	auth_ctx_stats(f->auth, &st);
	assert_int_equal(st.users, 1);
	assert_int_equal(st.users_reloads, 1);

	/* Removed from CRIC: denied at once. */
	n = snprintf(buf, sizeof(buf), "[{\"DN\": \"/CN=other\", \"ID\": 2, "
	    "\"LOGIN\": \"o\", \"NAME\": \"O\", \"ROLES\": {}}]");
	write_file(f->users, buf, (size_t)n, 0644);
	assert_int_equal(auth_ctx_refresh(f->auth, log, sizeof(log)),
	    AUTH_RELOAD_USERS);
	assert_int_equal(decide(f, alice, &cert, NULL), AUTH_DENY);
	auth_ident_put(alice);
	free(dn);
}

static void
test_auth__hmac_key_rotation(void **state)
{
	struct fx	*f = *state;
	struct conf_route cert;
	struct auth_decision d;
	struct auth_ident *alice;
	char		*before, *want, *dn = expected_dn("alice"), log[512];

	route_init(&cert, CONF_AUTH_CERT);
	alice = ident_of(f, "alice", 0);
	assert_int_equal(auth_decide(f->auth, alice, &cert, localhost(), &d),
	    AUTH_OK);
	before = strdup(d.hdrs);
	auth_decision_release(&d);

	/* A bad new key (world-readable) is refused, the old one kept. */
	write_file(f->key, "another-20-byte-key!", 20, 0644);
	chmod(f->key, 0644);
	assert_int_equal(auth_ctx_refresh(f->auth, log, sizeof(log)),
	    AUTH_RELOAD_FAILED);
	assert_non_null(strstr(log, "HMAC key rejected"));
	assert_int_equal(auth_decide(f->auth, alice, &cert, localhost(), &d),
	    AUTH_OK);
	assert_string_equal(d.hdrs, before);
	auth_decision_release(&d);

	chmod(f->key, 0600);
	assert_int_equal(auth_ctx_refresh(f->auth, log, sizeof(log)),
	    AUTH_RELOAD_HMAC);
	assert_int_equal(auth_decide(f->auth, alice, &cert, localhost(), &d),
	    AUTH_OK);
	assert_string_not_equal(d.hdrs, before);
	want = expected_block(f, dn, "alice", "Alice Tester", "user",
	    "group:users", NULL);
	assert_string_equal(d.hdrs, want);
	auth_decision_release(&d);
	free(want);
	free(before);
	free(dn);
	auth_ident_put(alice);
}

static void
test_auth__ban_list_reload(void **state)
{
	struct fx	*f = *state;
	struct conf_route cert;
	struct auth_ident *bob;
	const char	*why;
	char		 log[512];

	route_init(&cert, CONF_AUTH_CERT);
	bob = ident_of(f, "bob", 0);
	assert_int_equal(decide(f, bob, &cert, NULL), AUTH_OK);
	write_file(f->banned, "login: bob\n", 11, 0644);
	assert_int_equal(auth_ctx_refresh(f->auth, log, sizeof(log)),
	    AUTH_RELOAD_BANNED);
	assert_int_equal(decide(f, bob, &cert, &why), AUTH_DENY);
	assert_string_equal(why, "banned");
	/* A malformed list keeps the current one. */
	write_file(f->banned, "bogus line\n", 11, 0644);
	assert_int_equal(auth_ctx_refresh(f->auth, log, sizeof(log)),
	    AUTH_RELOAD_FAILED);
	assert_int_equal(decide(f, bob, &cert, NULL), AUTH_DENY);
	write_file(f->banned, "# nobody\n", 9, 0644);
	assert_int_equal(auth_ctx_refresh(f->auth, log, sizeof(log)),
	    AUTH_RELOAD_BANNED);
	assert_int_equal(decide(f, bob, &cert, NULL), AUTH_OK);
	auth_ident_put(bob);
}

/*
 * A reload that fails for a reason outside the file (here EMFILE: no
 * descriptor left) is tried again on the next check although nothing
 * changed since (issue 17); before, the signature was recorded first and
 * the old data stayed until the file changed once more.
 */
static void
test_auth__failed_reload_retried(void **state)
{
	struct fx	*f = *state;
	struct conf_route cert;
	struct auth_ident *alice;
	struct auth_stats st;
	struct rlimit	 old, low;
	const char	*why;
	char		 log[512], buf[256];
	int		 fd, n, r1, r2;

	route_init(&cert, CONF_AUTH_CERT);
	alice = ident_of(f, "alice", 0);
	assert_int_equal(decide(f, alice, &cert, NULL), AUTH_OK);
	n = snprintf(buf, sizeof(buf), "[{\"DN\": \"/CN=other\", \"ID\": 2, "
	    "\"LOGIN\": \"o\", \"NAME\": \"O\", \"ROLES\": {}}]");
	write_file(f->users, buf, (size_t)n, 0644);

	/* No descriptor can be opened while the new file is looked at. */
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
	assert_true((fd = open("/dev/null", O_RDONLY)) >= 0);
	close(fd);
	low = old;
	low.rlim_cur = (rlim_t)fd;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	log[0] = '\0';
	r1 = auth_ctx_refresh(f->auth, log, sizeof(log));
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
	assert_int_equal(r1, AUTH_RELOAD_FAILED);
	assert_non_null(strstr(log, "users file"));
	assert_int_equal(decide(f, alice, &cert, NULL), AUTH_OK);

	/* Descriptors are back, the file is as it was: loaded now. */
	r2 = auth_ctx_refresh(f->auth, log, sizeof(log));
	/* (The CA directory, whose listing EMFILE also cut short, too.) */
	assert_int_equal(r2 & ~AUTH_RELOAD_TRUST, AUTH_RELOAD_USERS);
	assert_int_equal(decide(f, alice, &cert, &why), AUTH_DENY);
	assert_string_equal(why, "not registered in CRIC");
	auth_ctx_stats(f->auth, &st);
	assert_int_equal(st.users_reload_failures, 1);
	assert_int_equal(auth_ctx_refresh(f->auth, log, sizeof(log)), 0);
	auth_ident_put(alice);
}

/*
 * Records with leading or trailing spaces (issue 17): their signature
 * could never be verified by a backend, which trims header values.  A DN
 * or LOGIN with one is skipped, a NAME trimmed; both counted and told.
 */
static void
test_auth__cric_edge_spaces(void **state)
{
	struct fx	*f = *state;
	struct conf_route cert;
	struct auth_decision d;
	struct auth_ident *alice, *bob;
	struct auth_stats st;
	char		*dn_a = expected_dn("alice"), *dn_b = expected_dn("bob");
	char		 buf[2048], log[512];
	int		 n;

	route_init(&cert, CONF_AUTH_CERT);
	alice = ident_of(f, "alice", 0);
	bob = ident_of(f, "bob", 0);
	n = snprintf(buf, sizeof(buf), "["
	    "{\"DN\": \"%s \", \"ID\": 1, \"LOGIN\": \"alice\", "
	    "\"NAME\": \"A\", \"ROLES\": {}},"
	    "{\"DN\": \"%s\", \"ID\": 2, \"LOGIN\": \"bob\", "
	    "\"NAME\": \"  Bob Builder \", \"ROLES\": {}},"
	    "{\"DN\": \"/CN=x\", \"ID\": 3, \"LOGIN\": \" x\", "
	    "\"NAME\": \"X\", \"ROLES\": {}}]", dn_a, dn_b);
	write_file(f->users, buf, (size_t)n, 0644);
	log[0] = '\0';
	assert_int_equal(auth_ctx_refresh(f->auth, log, sizeof(log)),
	    AUTH_RELOAD_USERS);
	assert_non_null(strstr(log, "3 record(s) with leading or trailing "
	    "spaces, first record 1: DN"));
	auth_ctx_stats(f->auth, &st);
	assert_int_equal(st.users_edge_space, 3);
	assert_int_equal(st.users, 1);
	assert_int_equal(decide(f, alice, &cert, NULL), AUTH_DENY);
	assert_int_equal(auth_decide(f->auth, bob, &cert, localhost(), &d),
	    AUTH_OK);
	assert_non_null(strstr(d.hdrs, "cms-authn-name: Bob Builder\r\n"));
	auth_decision_release(&d);
	auth_ident_put(alice);
	auth_ident_put(bob);
	free(dn_a);
	free(dn_b);
}

/*
 * The trouble page checks bans as requests do: by certificate DN, login
 * and CRIC DN (issue 17).  With dn_match any_order a certificate whose
 * DN differs from the CRIC one in order only is banned by the CRIC DN.
 */
static void
test_auth__trouble_ban_by_cric_dn(void **state)
{
	struct fx	*f = *state;
	struct conf_route cert;
	struct conf_auth ac = f->ac;
	struct auth_ctx	*a;
	struct auth_decision d;
	struct auth_ident *alice;
	char		 buf[2048], err[512], *s;
	int		 n;

	route_init(&cert, CONF_AUTH_CERT);
	alice = ident_of(f, "alice", 0);
	n = snprintf(buf, sizeof(buf), "[{\"DN\": \"/CN=Alice Tester/"
	    "CN=100001/CN=alice/OU=Users/OU=Organic Units/DC=cern/DC=ch\", "
	    "\"ID\": 1, \"LOGIN\": \"alice2\", \"NAME\": \"A\", "
	    "\"ROLES\": {}}]");
	write_file(f->users, buf, (size_t)n, 0644);
	n = snprintf(buf, sizeof(buf), "dn: /CN=Alice Tester/CN=100001/"
	    "CN=alice/OU=Users/OU=Organic Units/DC=cern/DC=ch\n");
	write_file(f->banned, buf, (size_t)n, 0644);
	ac.dn_match = CONF_DN_ANY_ORDER;
	assert_non_null(a = auth_ctx_new(&ac, err, sizeof(err)));
	assert_int_equal(auth_decide(a, alice, &cert, localhost(), &d),
	    AUTH_DENY);
	assert_string_equal(d.reason, "banned");
	auth_decision_release(&d);
	assert_non_null(s = auth_trouble_render(a, alice, 0, NULL));
	assert_non_null(strstr(s, "<th>Banned</th><td>yes</td>"));
	free(s);
	assert_non_null(s = auth_trouble_render(a, alice, 1, NULL));
	assert_non_null(strstr(s, "\"banned\": true"));
	free(s);
	auth_ctx_free(a);
	auth_ident_put(alice);
}

/* ------------------------------------------------------------------ */
/* Trouble page                                                        */
/* ------------------------------------------------------------------ */

static void
test_auth__trouble_page(void **state)
{
	struct fx	*f = *state;
	struct auth_ident *sp, *rv, *vo;
	json_t		*o, *c;
	json_error_t	 je;
	char		*s;
	size_t		 len;

	/* HTML: everything escaped (the specials DN has " < > ). */
	sp = ident_of(f, "specials", 0);
	s = auth_trouble_render(f->auth, sp, 0, &len);
	assert_non_null(s);
	assert_int_equal(len, strlen(s));
	assert_non_null(strstr(s, "CN=Spe,c\\+i;a&quot;l &lt;s&gt;=\\\\x"));
	assert_null(strstr(s, "<s>"));
	assert_non_null(strstr(s, "specials"));	/* CRIC login */
	free(s);

	/* JSON for a refused chain. */
	rv = ident_of(f, "proxy_revoked", 0);
	s = auth_trouble_render(f->auth, rv, 1, &len);
	o = json_loads(s, 0, &je);
	assert_non_null(o);
	assert_true(json_is_true(json_object_get(o,
	    "certificate_presented")));
	assert_string_equal(json_string_value(json_object_get(o,
	    "verification")), "certificate revoked");
	assert_int_equal(json_array_size(json_object_get(o, "chain")), 3);
	c = json_array_get(json_object_get(o, "chain"), 0);
	assert_string_equal(json_string_value(json_object_get(c, "proxy")),
	    "RFC 3820 proxy");
	assert_true(json_is_null(json_object_get(o, "user_dn")));
	json_decref(o);
	free(s);

	/* JSON for a VOMS proxy: FQANs and the CRIC mapping. */
	vo = ident_of(f, "voms", 0);
	s = auth_trouble_render(f->auth, vo, 1, NULL);
	o = json_loads(s, 0, &je);
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o,
	    "verification")), "OK");
	assert_int_equal(json_array_size(json_object_get(o, "fqans")), 2);
	c = json_object_get(o, "cric");
	assert_true(json_is_true(json_object_get(c, "registered")));
	assert_string_equal(json_string_value(json_object_get(c, "login")),
	    "alice");
	assert_string_equal(json_string_value(json_object_get(
	    json_object_get(c, "roles"), "user")), "group:users");
	assert_true(json_is_false(json_object_get(o, "banned")));
	json_decref(o);
	free(s);

	/* No certificate. */
	s = auth_trouble_render(f->auth, NULL, 0, NULL);
	assert_non_null(strstr(s, "No certificate was presented"));
	free(s);
	s = auth_trouble_render(f->auth, NULL, 1, NULL);
	o = json_loads(s, 0, &je);
	assert_true(json_is_false(json_object_get(o,
	    "certificate_presented")));
	json_decref(o);
	free(s);

	auth_ident_put(sp);
	auth_ident_put(rv);
	auth_ident_put(vo);
}

static double
usec_now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec * 1e6 + ts.tv_nsec / 1e3);
}

/* Mean microseconds of n handshakes (plus auth_ident_get) as cctx. */
static double
time_handshakes(struct fx *f, SSL_CTX *sctx, struct auth_ctx *a,
    SSL_CTX *cctx, SSL_SESSION *sess, int n, int want_reused)
{
	struct pair	 p;
	struct auth_ident *id;
	double		 t0 = usec_now();
	int		 i;

	for (i = 0; i < n; i++) {
		assert_int_equal(handshake(sctx, cctx, sess, &p), 0);
		assert_int_equal(SSL_session_reused(p.s), want_reused);
		id = auth_ident_get(a, p.s);
		assert_int_equal(id->status, AUTH_CERT_OK);
		auth_ident_put(id);
		pair_free(&p);
	}
	return ((usec_now() - t0) / n);
}

static void
test_auth__handshake_cost(void **state)
{
	struct fx	*f = *state;
	struct conf_auth ac = f->ac;
	struct auth_ctx	*nocache;
	SSL_CTX		*snc, *cctx;
	SSL_SESSION	*sess;
	struct pair	 p;
	const char	*creds[] = { "alice", "proxy2", "voms" };
	double		 full, hit, resumed;
	char		 err[256];
	size_t		 i;
	int		 n = 30;

	ac.verify_cache_size = 0;
	nocache = auth_ctx_new(&ac, err, sizeof(err));
	assert_non_null(nocache);
	snc = server_ctx(nocache);
	for (i = 0; i < 3; i++) {
		cctx = client_ctx(creds[i], 0, 0);
		full = time_handshakes(f, snc, nocache, cctx, NULL, n, 0);
		hit = time_handshakes(f, f->sctx, f->auth, cctx, NULL, n, 0);
		assert_int_equal(handshake(f->sctx, cctx, NULL, &p), 0);
		sess = SSL_get1_session(p.c);
		pair_free(&p);
		resumed = time_handshakes(f, f->sctx, f->auth, cctx, sess, n,
		    1);
		printf("# TLS 1.3 handshake over socketpair (both ends, RSA "
		    "server) as %-6s: full verify %7.0f us, verified-chain "
		    "cache hit %7.0f us, resumed %6.0f us\n", creds[i], full,
		    hit, resumed);
		SSL_SESSION_free(sess);
		SSL_CTX_free(cctx);
	}
	SSL_CTX_free(snc);
	auth_ctx_free(nocache);
}

/* ------------------------------------------------------------------ */
/* Threads                                                             */
/* ------------------------------------------------------------------ */

struct worker {
	struct fx	*f;
	struct auth_ident *ids[3];
	SSL_CTX		*cctx;		/* alice, for handshakes */
	int		 fails;
};

static void *
worker_main(void *arg)
{
	struct worker	*w = arg;
	struct conf_route cert;
	struct auth_decision d;
	struct auth_ident *id;
	int		 i;

	route_init(&cert, CONF_AUTH_CERT);
	for (i = 0; i < 300; i++) {
		if (i % 50 == 0) {
			/* A full handshake: cache lookups and inserts race
			 * with the trust reloads of the main thread. */
			struct pair	 p;

			if (handshake(w->f->sctx, w->cctx, NULL, &p) == -1)
				w->fails++;
			else {
				id = auth_ident_get(w->f->auth, p.s);
				if (id->status != AUTH_CERT_OK)
					w->fails++;
				auth_ident_put(id);
			}
			pair_free(&p);
		}
		id = x509_ident_get(w->ids[i % 3]);
		if (auth_decide(w->f->auth, id, &cert, localhost(), &d) !=
		    AUTH_OK || d.hdrs == NULL ||
		    strncmp(d.hdrs, "cms-auth-status: OK\r\n", 21) != 0)
			w->fails++;
		auth_decision_release(&d);
		auth_ident_put(id);
	}
	return (NULL);
}

static void
test_auth__concurrent_decisions_and_reloads(void **state)
{
	struct fx	*f = *state;
	struct worker	 w[4];
	pthread_t	 th[4];
	char		*json, log[512];
	size_t		 len;
	int		 i, j;

	memset(w, 0, sizeof(w));
	for (i = 0; i < 4; i++) {
		w[i].f = f;
		w[i].ids[0] = ident_of(f, "alice", 0);
		w[i].ids[1] = ident_of(f, "bob", 0);
		w[i].ids[2] = ident_of(f, "voms", 0);
		w[i].cctx = client_ctx("alice", 0, 0);
	}
	json = slurp(f->users, &len);
	for (i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&th[i], NULL, worker_main,
		    &w[i]), 0);
	/* Meanwhile the main thread keeps swapping the users map and the
	 * trust store (the same CRL, rewritten by rename). */
	for (j = 0; j < 20; j++) {
		write_file(f->users, json, len, 0644);
		if (j % 4 == 0)
			install_crl(f, "int.r0");
		(void)auth_ctx_refresh(f->auth, log, sizeof(log));
	}
	for (i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(w[i].fails, 0);
		for (j = 0; j < 3; j++)
			auth_ident_put(w[i].ids[j]);
		SSL_CTX_free(w[i].cctx);
	}
	free(json);
}

int
main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
	const struct CMUnitTest tests[] = {
		T(test_auth__ctx_new_refuses_bad_files),
		T(test_auth__handshake_every_credential),
		T(test_auth__decisions_per_route),
		T(test_auth__anonymous_header),
		T(test_auth__header_block_exact),
		T(test_auth__header_block_roles_and_utf8),
		T(test_auth__cache_hit_on_second_handshake),
		T(test_auth__resumption_keeps_identity),
		T(test_auth__ticket_ignored_when_identity_evicted),
		T(test_auth__trust_reload_revokes_and_voids_sessions),
		T(test_auth__users_reload),
		T(test_auth__hmac_key_rotation),
		T(test_auth__ban_list_reload),
		T(test_auth__failed_reload_retried),
		T(test_auth__cric_edge_spaces),
		T(test_auth__trouble_ban_by_cric_dn),
		T(test_auth__trouble_page),
		T(test_auth__concurrent_decisions_and_reloads),
		T(test_auth__handshake_cost),
	};
#undef T

	return (cmocka_run_group_tests_name("auth", tests, group_setup,
	    group_teardown));
}
