/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * HostIP authentication (auth/hosts.c, auth/auth_host.c): parsing the
 * "<ip> <hostname>" list (comments, blanks, IPv4 and IPv6, every bad line
 * refused with path:line), lookup by address bytes (IPv4-mapped IPv6 as
 * IPv4), and the decision through auth_decide() for auth: host and
 * host_or_cert without a certificate: the exact header block, its HMAC
 * checked against an independent computation of PROTOCOL.md's string
 * ("h10v6#cms-authn-methodHostIP", HMAC-SHA1 with the raw key, as
 * tests/e2e/verify_go.py computes it) and against PROTOCOL.md's key as a
 * fixed vector, reloads of the list and of the key, and the counters.
 * The trust store is the test PKI (tests/fixtures/certs/mkcerts.sh).
 */

#include <sys/socket.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "auth/auth.h"
#include "auth/hosts.h"
#include "conf/conf.h"

static char	 pki[1024];
static char	 dir[64];

static int
run(const char *fmt, ...)
{
	char	 cmd[4096];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return (system(cmd));
}

static void
put(const char *name, const char *text, size_t len, char *path,
    size_t pathlen)
{
	FILE	*fp;
	char	 tmp[256];

	snprintf(path, pathlen, "%s/%s", dir, name);
	/* Written aside and renamed, as an operator's tool would. */
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	assert_non_null(fp = fopen(tmp, "w"));
	assert_int_equal(fwrite(text, 1, len, fp), len);
	fclose(fp);
	assert_int_equal(chmod(tmp, 0600), 0);
	assert_int_equal(rename(tmp, path), 0);
}

#define PUTS(name, s, path) put((name), (s), strlen(s), (path), sizeof(path))

static struct hosts *
load_text(const char *text, size_t len, char *err, size_t errlen)
{
	char	 path[256];

	put("h.txt", text, len, path, sizeof(path));
	err[0] = '\0';
	return (hosts_load(path, err, errlen));
}

/* ------------------------------------------------------------------ */
/* The list                                                            */
/* ------------------------------------------------------------------ */

static void
test_hosts__parses_comments_blanks_v4_v6(void **state)
{
	static const char text[] =
	    "# CouchDB replication peers\n"
	    "\n"
	    "   \t\n"
	    "127.0.0.1 couch.example.cern.ch\n"
	    "  10.1.2.3\tdqm-gui_01.cern.ch   # a trailing comment\r\n"
	    "2001:db8:0:0::7 v6.example.org\n"
	    "::ffff:192.0.2.9 mapped.example\n"
	    "127.0.0.1 couch.example.cern.ch\n"	/* repeat: kept once */
	    "::1 localhost6";			/* no final newline */
	struct hosts	*h;
	const struct hosts_entry *e;
	unsigned char	 a[16];
	char		 err[512];
	long		 i;

	assert_non_null(h = load_text(text, sizeof(text) - 1, err,
	    sizeof(err)));
	assert_int_equal(hosts_size(h), 5);

	inet_pton(AF_INET, "127.0.0.1", a);
	assert_true((i = hosts_lookup(h, AF_INET, a)) >= 0);
	e = hosts_entry(h, (size_t)i);
	assert_string_equal(e->ip, "127.0.0.1");
	assert_string_equal(e->name, "couch.example.cern.ch");
	assert_int_equal(e->line, 4);

	inet_pton(AF_INET, "10.1.2.3", a);
	assert_true((i = hosts_lookup(h, AF_INET, a)) >= 0);
	assert_string_equal(hosts_entry(h, (size_t)i)->name,
	    "dqm-gui_01.cern.ch");

	/* IPv6, written uncompressed, printed canonically. */
	inet_pton(AF_INET6, "2001:db8::7", a);
	assert_true((i = hosts_lookup(h, AF_INET6, a)) >= 0);
	assert_string_equal(hosts_entry(h, (size_t)i)->ip, "2001:db8::7");

	/* A mapped entry is IPv4, and a dual-stack peer finds it. */
	inet_pton(AF_INET, "192.0.2.9", a);
	assert_true((i = hosts_lookup(h, AF_INET, a)) >= 0);
	assert_string_equal(hosts_entry(h, (size_t)i)->ip, "192.0.2.9");
	inet_pton(AF_INET6, "::ffff:127.0.0.1", a);
	assert_true((i = hosts_lookup(h, AF_INET6, a)) >= 0);
	assert_string_equal(hosts_entry(h, (size_t)i)->name,
	    "couch.example.cern.ch");

	inet_pton(AF_INET6, "::1", a);
	assert_true(hosts_lookup(h, AF_INET6, a) >= 0);

	/* Not listed: neighbours, the other family, nonsense. */
	inet_pton(AF_INET, "127.0.0.2", a);
	assert_int_equal(hosts_lookup(h, AF_INET, a), -1);
	inet_pton(AF_INET, "10.1.2.4", a);
	assert_int_equal(hosts_lookup(h, AF_INET, a), -1);
	inet_pton(AF_INET6, "::2", a);
	assert_int_equal(hosts_lookup(h, AF_INET6, a), -1);
	assert_int_equal(hosts_lookup(h, AF_UNIX, a), -1);
	assert_int_equal(hosts_lookup(NULL, AF_INET, a), -1);
	assert_null(hosts_entry(h, 5));
	hosts_free(h);
	hosts_free(NULL);

	/* Empty and comment-only files are valid lists of nothing. */
	assert_non_null(h = load_text("", 0, err, sizeof(err)));
	assert_int_equal(hosts_size(h), 0);
	inet_pton(AF_INET, "127.0.0.1", a);
	assert_int_equal(hosts_lookup(h, AF_INET, a), -1);
	hosts_free(h);
	assert_non_null(h = load_text("# none yet\n", 11, err, sizeof(err)));
	hosts_free(h);
}

static void
test_hosts__refuses_bad_lines_with_line_numbers(void **state)
{
	static const struct {
		const char	*text;
		const char	*want;
	} bad[] = {
		{ "127.0.0.1\n", ":1: expected \"<ip> <hostname>\", found no "
		  "host name" },
		{ "# ok\n127.0.0.1 a b\n", ":2: expected \"<ip> <hostname>\", "
		  "found a third field" },
		{ "\n\nlocalhost 127.0.0.1\n", ":3: \"localhost\" is not an "
		  "IPv4 or IPv6 address" },
		{ "10.0.0.0/8 net\n", ":1: \"10.0.0.0/8\" is not an IPv4" },
		{ "fe80::1%eth0 ll\n", ":1: \"fe80::1%eth0\" is not an IPv4" },
		{ "127.1 short\n", ":1: \"127.1\" is not an IPv4" },
		{ "256.0.0.1 big\n", ":1: \"256.0.0.1\" is not" },
		{ "127.0.0.1 bad/name\n", ":1: bad host name \"bad/name\"" },
		{ "127.0.0.1 caf\xc3\xa9.ch\n", ":1: bad host name" },
		{ "127.0.0.1 a.ch\n10.0.0.1 b.ch\n127.0.0.1 c.ch\n",
		  ":3: 127.0.0.1 is already listed as a.ch (line 1)" },
		{ "::ffff:127.0.0.1 a.ch\n127.0.0.1 c.ch\n",
		  ":2: 127.0.0.1 is already listed as a.ch (line 1)" },
	};
	struct hosts	*h;
	char		 err[512], path[256];
	size_t		 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		h = load_text(bad[i].text, strlen(bad[i].text), err,
		    sizeof(err));
		if (h != NULL || strstr(err, bad[i].want) == NULL ||
		    strstr(err, "/h.txt:") == NULL)
			fail_msg("case %zu: want \"%s\", got \"%s\"", i,
			    bad[i].want, err);
	}
	/* A NUL byte, a long name, a missing file, a directory. */
	assert_null(h = load_text("127.0.0.1 a\0b\n", 14, err, sizeof(err)));
	assert_non_null(strstr(err, ":1: NUL byte"));
	{
		char	 line[400];

		snprintf(line, sizeof(line), "127.0.0.1 %0300d\n", 1);
		assert_null(load_text(line, strlen(line), err, sizeof(err)));
		assert_non_null(strstr(err, ":1: bad host name"));
	}
	snprintf(path, sizeof(path), "%s/nonexistent", dir);
	assert_null(hosts_load(path, err, sizeof(err)));
	assert_non_null(strstr(err, "nonexistent"));
	assert_null(hosts_load(dir, err, sizeof(err)));
	assert_non_null(strstr(err, "not a regular file"));
}

/* ------------------------------------------------------------------ */
/* Decisions                                                           */
/* ------------------------------------------------------------------ */

struct fx {
	struct conf_auth ac;
	struct auth_ctx	*auth;
	char		 ca[1100], key[256], hosts[256];
};

/* PROTOCOL.md's test key, 20 ASCII bytes. */
static const char vkey[] = "example-20-byte-key!";

static int
fx_setup(void **state)
{
	struct fx	*f;
	char		 err[512] = "";

	if ((f = calloc(1, sizeof(*f))) == NULL)
		return (-1);
	snprintf(f->ca, sizeof(f->ca), "%s/certificates", pki);
	PUTS("hmac.key", vkey, f->key);
	PUTS("hosts", "# test list\n127.0.0.1 couch.example.cern.ch\n"
	    "::1 six.example.org\n", f->hosts);
	f->ac.ca_path = f->ca;
	f->ac.verify_depth = 10;
	f->ac.hmac_key = f->key;
	f->ac.hosts = f->hosts;
	f->ac.authn_method = "X509Cert";
	f->ac.verify_cache_size = 10;
	if ((f->auth = auth_ctx_new(&f->ac, err, sizeof(err))) == NULL) {
		fprintf(stderr, "auth_ctx_new: %s\n", err);
		free(f);
		return (-1);
	}
	*state = f;
	return (0);
}

static int
fx_teardown(void **state)
{
	struct fx	*f = *state;

	auth_ctx_free(f->auth);
	free(f);
	return (0);
}

static struct sockaddr_storage
sa(const char *ip)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, ip, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(40000);
	} else {
		assert_int_equal(inet_pton(AF_INET6, ip, &s6->sin6_addr), 1);
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(40000);
	}
	return (ss);
}

/* The HMAC recomputed here, not by sign.c: PROTOCOL.md's string for the
 * one signed header, HMAC-SHA1 over the raw key bytes. */
static void
want_hmac(const char *key, size_t keylen, char out[41])
{
	static const char s[] = "h10v6#cms-authn-methodHostIP";
	unsigned char	 md[20];
	unsigned int	 mdlen = 0;
	int		 i;

	assert_non_null(HMAC(EVP_sha1(), key, (int)keylen,
	    (const unsigned char *)s, sizeof(s) - 1, md, &mdlen));
	assert_int_equal(mdlen, 20);
	for (i = 0; i < 20; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static enum auth_result
decide(struct fx *f, enum conf_auth_mode mode, const char *ip,
    struct auth_decision *d)
{
	struct conf_route r;
	struct sockaddr_storage ss = sa(ip);

	memset(&r, 0, sizeof(r));
	r.auth = mode;
	return (auth_decide(f->auth, NULL, &r, (struct sockaddr *)&ss, d));
}

static void
expect_block(struct auth_decision *d, const char *ipname, const char *mac)
{
	char	 want[512];

	snprintf(want, sizeof(want), "cms-auth-status: OK\r\n"
	    "cms-authn-method: HostIP\r\n"
	    "cms-auth-host: %s\r\n"
	    "cms-authn-hmac: %s\r\n", ipname, mac);
	assert_int_equal(d->result, AUTH_OK);
	assert_non_null(d->hdrs);
	assert_int_equal(d->hdrslen, strlen(want));
	assert_memory_equal(d->hdrs, want, d->hdrslen);
	assert_string_equal(d->method, "HostIP");
	assert_null(d->dn);
	assert_null(d->login);
}

static void
test_auth_host__listed_gets_exact_signed_headers(void **state)
{
	struct fx	*f = *state;
	struct auth_decision d;
	char		 mac[41];
	const char	*first;

	/* The vector: PROTOCOL.md's key signs "h10v6#cms-authn-method
	 * HostIP" to this, by verify_go.py's algorithm. */
	want_hmac(vkey, sizeof(vkey) - 1, mac);
	assert_string_equal(mac, "c453d7aabec78ff91972e9fb631f44c22ea2f051");

	assert_int_equal(decide(f, CONF_AUTH_HOST, "127.0.0.1", &d), AUTH_OK);
	expect_block(&d, "127.0.0.1 couch.example.cern.ch", mac);
	first = d.hdrs;
	auth_decision_release(&d);
	auth_decision_release(&d);

	/* Cached: the same block, not signed again. */
	assert_int_equal(decide(f, CONF_AUTH_HOST, "127.0.0.1", &d), AUTH_OK);
	assert_ptr_equal(d.hdrs, first);
	auth_decision_release(&d);

	/* IPv6, and an IPv4 client seen on a dual-stack socket. */
	assert_int_equal(decide(f, CONF_AUTH_HOST, "::1", &d), AUTH_OK);
	expect_block(&d, "::1 six.example.org", mac);
	auth_decision_release(&d);
	assert_int_equal(decide(f, CONF_AUTH_HOST, "::ffff:127.0.0.1", &d),
	    AUTH_OK);
	expect_block(&d, "127.0.0.1 couch.example.cern.ch", mac);
	auth_decision_release(&d);

	/* host_or_cert with no certificate falls back to the list. */
	assert_int_equal(decide(f, CONF_AUTH_HOST_OR_CERT, "127.0.0.1", &d),
	    AUTH_OK);
	expect_block(&d, "127.0.0.1 couch.example.cern.ch", mac);
	auth_decision_release(&d);
}

static void
test_auth_host__unlisted_denied_with_reason(void **state)
{
	struct fx	*f = *state;
	struct auth_decision d;
	struct conf_route r;
	uint64_t	 n, ok, no;

	assert_int_equal(decide(f, CONF_AUTH_HOST, "127.0.0.2", &d),
	    AUTH_DENY);
	assert_int_equal(d.status, 403);
	assert_null(d.hdrs);
	assert_string_equal(d.reason,
	    "client address not in the host list (auth.hosts)");
	auth_decision_release(&d);

	assert_int_equal(decide(f, CONF_AUTH_HOST_OR_CERT, "::2", &d),
	    AUTH_DENY);
	assert_int_equal(d.status, 403);
	assert_non_null(strstr(d.reason, "no client certificate"));
	assert_non_null(strstr(d.reason, "not in the host list"));
	auth_decision_release(&d);

	/* No address at all (a socket family auth knows nothing of). */
	memset(&r, 0, sizeof(r));
	r.auth = CONF_AUTH_HOST;
	assert_int_equal(auth_decide(f->auth, NULL, &r, NULL, &d), AUTH_DENY);
	auth_decision_release(&d);

	/* Other modes are untouched: auth: cert with no cert is 403. */
	assert_int_equal(decide(f, CONF_AUTH_CERT, "127.0.0.1", &d),
	    AUTH_DENY);
	assert_string_equal(d.reason, "client certificate required");
	auth_decision_release(&d);

	assert_int_equal(auth_host_stats(f->auth, &n, &ok, &no), 1);
	assert_int_equal(n, 2);
	assert_int_equal(ok, 0);
	assert_int_equal(no, 3);
}

static void
test_auth_host__allow_from_still_applies(void **state)
{
	struct fx	*f = *state;
	struct auth_decision d;
	struct conf_route r;
	struct conf_cidr c;
	struct sockaddr_storage ss = sa("127.0.0.1");

	memset(&r, 0, sizeof(r));
	memset(&c, 0, sizeof(c));
	c.family = AF_INET;
	inet_pton(AF_INET, "10.0.0.0", c.addr);
	c.prefix = 8;
	r.allow_from = &c;
	r.nallow_from = 1;
	r.auth = CONF_AUTH_HOST;
	assert_int_equal(auth_decide(f->auth, NULL, &r,
	    (struct sockaddr *)&ss, &d), AUTH_DENY);
	assert_string_equal(d.reason, "address not allowed");
	auth_decision_release(&d);
}

static void
test_auth_host__reloads_list_and_key(void **state)
{
	struct fx	*f = *state;
	struct auth_decision d;
	char		 mac[41], path[256], log[1024];
	int		 bits;

	/* The list changes: 127.0.0.2 in, 127.0.0.1 out. */
	PUTS("hosts", "127.0.0.2 other.example\n", path);
	bits = auth_ctx_refresh(f->auth, log, sizeof(log));
	assert_true(bits & AUTH_RELOAD_HOSTS);
	assert_false(bits & AUTH_RELOAD_FAILED);
	assert_int_equal(decide(f, CONF_AUTH_HOST, "127.0.0.1", &d),
	    AUTH_DENY);
	auth_decision_release(&d);
	want_hmac(vkey, sizeof(vkey) - 1, mac);
	assert_int_equal(decide(f, CONF_AUTH_HOST, "127.0.0.2", &d), AUTH_OK);
	expect_block(&d, "127.0.0.2 other.example", mac);
	auth_decision_release(&d);

	/* A bad file is refused, the old list stays, the error names the
	 * line. */
	PUTS("hosts", "127.0.0.3 fine.example\nnot-an-ip x\n", path);
	bits = auth_ctx_refresh(f->auth, log, sizeof(log));
	assert_true(bits & AUTH_RELOAD_FAILED);
	assert_non_null(strstr(log, "host list"));
	assert_non_null(strstr(log, "hosts:2:"));
	assert_int_equal(decide(f, CONF_AUTH_HOST, "127.0.0.2", &d), AUTH_OK);
	auth_decision_release(&d);
	assert_int_equal(decide(f, CONF_AUTH_HOST, "127.0.0.3", &d),
	    AUTH_DENY);
	auth_decision_release(&d);

	/* A new key re-signs the cached blocks. */
	PUTS("hosts", "127.0.0.2 other.example\n", path);
	PUTS("hmac.key", "another key\n", path);
	bits = auth_ctx_refresh(f->auth, log, sizeof(log));
	assert_true(bits & AUTH_RELOAD_HMAC);
	want_hmac("another key\n", 12, mac);
	assert_int_equal(decide(f, CONF_AUTH_HOST, "127.0.0.2", &d), AUTH_OK);
	expect_block(&d, "127.0.0.2 other.example", mac);
	auth_decision_release(&d);
}

static void
test_auth_host__ctx_refuses_bad_list(void **state)
{
	struct fx	*f = *state;
	struct conf_auth ac = f->ac;
	char		 err[512], path[256];
	uint64_t	 n, ok, no;

	PUTS("badhosts", "127.0.0.1 a\n127.0.0.1\n", path);
	ac.hosts = path;
	assert_null(auth_ctx_new(&ac, err, sizeof(err)));
	assert_non_null(strstr(err, "badhosts:2: expected"));

	/* Without auth.hosts: no HostIP series, and host routes deny. */
	ac.hosts = NULL;
	{
		struct auth_ctx	*a = auth_ctx_new(&ac, err, sizeof(err));
		struct auth_decision d;
		struct conf_route r;
		struct sockaddr_storage ss = sa("127.0.0.1");

		assert_non_null(a);
		assert_int_equal(auth_host_stats(a, &n, &ok, &no), 0);
		memset(&r, 0, sizeof(r));
		r.auth = CONF_AUTH_HOST;
		assert_int_equal(auth_decide(a, NULL, &r,
		    (struct sockaddr *)&ss, &d), AUTH_DENY);
		assert_int_equal(d.status, 403);
		auth_decision_release(&d);
		auth_ctx_free(a);
	}
}

static int
group_setup(void **state)
{
	const char	*p = getenv("PKI_DIR");
	const char	*src = getenv("SRCDIR");

	snprintf(pki, sizeof(pki), "%s", p != NULL ? p : "build/pki");
	if (run("bash %s/tests/fixtures/certs/mkcerts.sh '%s' >/dev/null",
	    src != NULL ? src : ".", pki) != 0) {
		fprintf(stderr, "mkcerts.sh failed\n");
		return (-1);
	}
	snprintf(dir, sizeof(dir), "/tmp/test_auth_hosts.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return (-1);
	return (0);
}

static int
group_teardown(void **state)
{
	run("rm -rf '%s'", dir);
	return (0);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hosts__parses_comments_blanks_v4_v6),
		cmocka_unit_test(
		    test_hosts__refuses_bad_lines_with_line_numbers),
		T(test_auth_host__listed_gets_exact_signed_headers),
		T(test_auth_host__unlisted_denied_with_reason),
		T(test_auth_host__allow_from_still_applies),
		T(test_auth_host__reloads_list_and_key),
		T(test_auth_host__ctx_refuses_bad_list),
	};

	return (cmocka_run_group_tests_name("auth_hosts", tests, group_setup,
	    group_teardown));
}
