/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * HMAC signing of the CMS authentication headers, byte for byte as
 * PROTOCOL.md specifies (the Apache frontend's algorithm, which WMCore and
 * the Go cmsauth library verify).  This file loads and wipes the key,
 * canonicalises and signs a header set, and renders the signed header
 * block for decide.c.  A second signing mode (SIGN_PY3_LATIN1, sign.h) hashes
 * what a Python 3 WSGI verifier rebuilds from the same bytes; it differs
 * only where a value holds a byte >= 0x80, and only there costs anything.
 * It does not decide who is authenticated, and it does not strip client
 * headers: the proxy does that before anything is signed.
 */

#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "auth/dnmap.h"
#include "auth/sign.h"
#include "base/lit.h"

#define SIGN_HMAC_LEN	20	/* SHA-1 */

/* Receives the canonical string piece by piece. */
typedef int (*sign_emit_fn)(void *arg, const void *p, size_t len);

/* A growable buffer for sign_string(). */
struct sign_buf {
	char		*p;
	size_t		 len;
	size_t		 cap;
};

static pthread_once_t	 sign_mac_once = PTHREAD_ONCE_INIT;
static EVP_MAC		*sign_mac;	/* fetched once, never freed */

static void
sign_mac_init(void)
{
	sign_mac = EVP_MAC_fetch(NULL, OSSL_MAC_NAME_HMAC, NULL);
}

static unsigned char
sign_lower(unsigned char c)
{
	/* ASCII only, independent of the locale. */
	return ((c >= 'A' && c <= 'Z') ? (unsigned char)(c + ('a' - 'A')) : c);
}

/* Case-insensitive (ASCII) comparison of a header name with a literal. */
static int
sign_name_prefix(const struct sign_hdr *h, const char *lit, size_t litlen)
{
	size_t	 i;

	if (h->namelen < litlen)
		return (0);
	for (i = 0; i < litlen; i++)
		if (sign_lower((unsigned char)h->name[i]) !=
		    (unsigned char)lit[i])
			return (0);
	return (1);
}

/* Is there a byte >= 0x80 in p[0..len)?  See sign.h.  A loop compilers
 * vectorise. */
int
sign_has_high(const char *p, size_t len)
{
	unsigned char	 acc = 0;
	size_t		 i;

	for (i = 0; i < len; i++)
		acc |= (unsigned char)p[i];
	return ((acc & 0x80) != 0);
}

/*
 * Emit p[0..len): lower-cased (ASCII only) when lower is set, and in
 * SIGN_PY3_LATIN1 mode with each byte >= 0x80 widened to the two UTF-8
 * bytes of the Latin-1 character it stands for (0xe9 -> 0xc3 0xa9), which
 * is what Python's str.encode("utf-8") does to a header decoded from
 * ISO-8859-1.  Text that needs neither goes out as it is, in one call.
 */
static int
sign_emit_text(sign_emit_fn emit, void *arg, enum sign_mode mode, int lower,
    const char *p, size_t len)
{
	unsigned char	 tmp[64], c;
	size_t		 i, w = 0;
	int		 widen;

	widen = mode == SIGN_PY3_LATIN1 && sign_has_high(p, len);
	if (!lower && !widen)
		return (len > 0 ? emit(arg, p, len) : 0);
	for (i = 0; i < len; i++) {
		if (w + 2 > sizeof(tmp)) {
			if (emit(arg, tmp, w) == -1)
				return (-1);
			w = 0;
		}
		c = (unsigned char)p[i];
		if (lower)
			c = sign_lower(c);
		if (widen && c >= 0x80) {
			tmp[w++] = (unsigned char)(0xc0 | (c >> 6));
			tmp[w++] = (unsigned char)(0x80 | (c & 0x3f));
		} else
			tmp[w++] = c;
	}
	return (w > 0 ? emit(arg, tmp, w) : 0);
}

/* PROTOCOL.md step 1: is this header part of the signature? */
static int
sign_is_signed(const struct sign_hdr *h)
{
	if (h->name == NULL || h->value == NULL)
		return (0);
	if (!sign_name_prefix(h, "cms-authn", LIT_LEN("cms-authn")) &&
	    !sign_name_prefix(h, "cms-authz", LIT_LEN("cms-authz")))
		return (0);
	if (h->namelen == LIT_LEN("cms-authn-hmac") &&
	    sign_name_prefix(h, "cms-authn-hmac", LIT_LEN("cms-authn-hmac")))
		return (0);
	return (1);
}

/* Byte order of the lower-cased names; a proper prefix sorts first. */
static int
sign_name_cmp(const struct sign_hdr *a, const struct sign_hdr *b)
{
	size_t		 i, n;
	unsigned char	 ca, cb;

	n = a->namelen < b->namelen ? a->namelen : b->namelen;
	for (i = 0; i < n; i++) {
		ca = sign_lower((unsigned char)a->name[i]);
		cb = sign_lower((unsigned char)b->name[i]);
		if (ca != cb)
			return (ca < cb ? -1 : 1);
	}
	if (a->namelen == b->namelen)
		return (0);
	return (a->namelen < b->namelen ? -1 : 1);
}

/*
 * Produce the canonical string for h[0..n) in mode through emit.  idx must
 * hold room for n indexes.  Insertion sort: the header count is small, and
 * it is stable, so equal names keep their order and the result is defined.
 * The h<len>v<len> lengths are byte lengths in both modes: a Python
 * verifier takes len() of the Latin-1 decoded text, one character a byte.
 */
static int
sign_walk(const struct sign_hdr *h, size_t n, size_t *idx,
    enum sign_mode mode, sign_emit_fn emit, void *arg)
{
	char		 tmp[64];
	size_t		 m, i, j, key;
	int		 len;

	m = 0;
	for (i = 0; i < n; i++) {
		if (!sign_is_signed(&h[i]))
			continue;
		key = i;
		for (j = m; j > 0 && sign_name_cmp(&h[idx[j - 1]], &h[key]) > 0;
		    j--)
			idx[j] = idx[j - 1];
		idx[j] = key;
		m++;
	}

	for (i = 0; i < m; i++) {
		len = snprintf(tmp, sizeof(tmp), "h%zxv%zx", h[idx[i]].namelen,
		    h[idx[i]].valuelen);
		if (len < 0 || (size_t)len >= sizeof(tmp) ||
		    emit(arg, tmp, (size_t)len) == -1)
			return (-1);
	}
	if (emit(arg, "#", LIT_LEN("#")) == -1)
		return (-1);
	for (i = 0; i < m; i++) {
		const struct sign_hdr *hp = &h[idx[i]];

		/* The name goes in lower case, the value as it is. */
		if (sign_emit_text(emit, arg, mode, 1, hp->name,
		    hp->namelen) == -1 ||
		    sign_emit_text(emit, arg, mode, 0, hp->value,
		    hp->valuelen) == -1)
			return (-1);
	}
	return (0);
}

/* Run sign_walk() with a stack index array when n is small. */
static int
sign_walk_any(const struct sign_hdr *h, size_t n, enum sign_mode mode,
    sign_emit_fn emit, void *arg)
{
	size_t	 stack_idx[SIGN_STACK_HDRS];
	size_t	*idx;
	int	 ret;

	if (h == NULL && n > 0)
		return (-1);
	if (n <= SIGN_STACK_HDRS)
		return (sign_walk(h, n, stack_idx, mode, emit, arg));
	if ((idx = calloc(n, sizeof(*idx))) == NULL)
		return (-1);
	ret = sign_walk(h, n, idx, mode, emit, arg);
	free(idx);
	return (ret);
}

static int
sign_emit_mac_cb(void *arg, const void *p, size_t len)
{
	return (EVP_MAC_update(arg, p, len) == 1 ? 0 : -1);
}

static int
sign_emit_buf_cb(void *arg, const void *p, size_t len)
{
	struct sign_buf	*b = arg;
	char		*np;
	size_t		 ncap;

	if (len > SIZE_MAX - b->len - 1)
		return (-1);
	if (b->len + len + 1 > b->cap) {
		ncap = b->cap ? b->cap : 256;
		while (ncap < b->len + len + 1)
			ncap = ncap > SIZE_MAX / 2 ? b->len + len + 1 :
			    ncap * 2;
		if ((np = realloc(b->p, ncap)) == NULL)
			return (-1);
		b->p = np;
		b->cap = ncap;
	}
	memcpy(b->p + b->len, p, len);
	b->len += len;
	b->p[b->len] = '\0';
	return (0);
}

/*
 * Load the key file; see sign.h.  The file is opened first and checked
 * with fstat(), so the checks apply to what is read.  O_NONBLOCK keeps a
 * FIFO planted at the path from blocking start-up.
 */
int
sign_key_load(const char *path, unsigned char **key, size_t *keylen,
    char *err, size_t errlen)
{
	struct stat	 st;
	unsigned char	*buf = NULL;
	size_t		 len = 0;
	ssize_t		 r;
	mode_t		 mode;
	const char	*who;
	int		 fd = -1, ret = -1;

	*key = NULL;
	*keylen = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) ==
	    -1) {
		snprintf(err, errlen, "hmac key %s: %s", path, strerror(errno));
		goto done;
	}
	if (fstat(fd, &st) == -1) {
		snprintf(err, errlen, "hmac key %s: %s", path, strerror(errno));
		goto done;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "hmac key %s is not a regular file",
		    path);
		goto done;
	}
	mode = st.st_mode & 07777;
	if (mode & (S_IRWXG | S_IRWXO)) {
		if (mode & S_IROTH)
			who = "readable by others";
		else if (mode & S_IRGRP)
			who = "readable by group";
		else if (mode & S_IWOTH)
			who = "writable by others";
		else if (mode & S_IWGRP)
			who = "writable by group";
		else
			who = "accessible by group or others";
		snprintf(err, errlen, "hmac key %s is %s (mode %04o); "
		    "chmod 600", path, who, (unsigned)mode);
		goto done;
	}
	if (st.st_size > SIGN_KEY_MAX) {
		snprintf(err, errlen, "hmac key %s is too large (%lld bytes, "
		    "at most %d)", path, (long long)st.st_size, SIGN_KEY_MAX);
		goto done;
	}

	/* Read to EOF with one byte of slack, to notice a file that grew. */
	if ((buf = malloc(SIGN_KEY_MAX + 1)) == NULL) {
		snprintf(err, errlen, "hmac key %s: out of memory", path);
		goto done;
	}
	for (;;) {
		r = read(fd, buf + len, SIGN_KEY_MAX + 1 - len);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			snprintf(err, errlen, "hmac key %s: %s", path,
			    strerror(errno));
			goto done;
		}
		if (r == 0)
			break;
		len += (size_t)r;
		if (len > SIGN_KEY_MAX) {
			snprintf(err, errlen, "hmac key %s is too large (at "
			    "most %d bytes)", path, SIGN_KEY_MAX);
			goto done;
		}
	}
	if (len == 0) {
		snprintf(err, errlen, "hmac key %s is empty", path);
		goto done;
	}
	if ((*key = malloc(len)) == NULL) {
		snprintf(err, errlen, "hmac key %s: out of memory", path);
		goto done;
	}
	memcpy(*key, buf, len);
	*keylen = len;
	ret = 0;
done:
	if (buf != NULL)
		OPENSSL_cleanse(buf, SIGN_KEY_MAX + 1);
	free(buf);
	if (fd != -1)
		close(fd);
	return (ret);
}

/* Wipe and free a key; see sign.h. */
void
sign_key_free(unsigned char *key, size_t keylen)
{
	if (key == NULL)
		return;
	OPENSSL_cleanse(key, keylen);
	free(key);
}

/* Compute the HMAC over the canonical string (PROTOCOL.md); see sign.h. */
int
sign_hmac(const unsigned char *key, size_t keylen, const struct sign_hdr *h,
    size_t n, char out[41])
{
	return (sign_hmac_as(key, keylen, SIGN_BYTES, h, n, out));
}

/* Compute the HMAC in a given mode; see sign.h. */
int
sign_hmac_as(const unsigned char *key, size_t keylen, enum sign_mode mode,
    const struct sign_hdr *h, size_t n, char out[41])
{
	static const char hex[] = "0123456789abcdef";
	OSSL_PARAM	 params[2];
	char		 digest[] = "SHA1";
	EVP_MAC_CTX	*ctx = NULL;
	unsigned char	 mac[EVP_MAX_MD_SIZE];
	size_t		 maclen = 0, i;
	int		 ret = -1;

	out[0] = '\0';
	if (key == NULL || keylen == 0)
		goto done;
	if (pthread_once(&sign_mac_once, sign_mac_init) != 0 ||
	    sign_mac == NULL)
		goto done;
	if ((ctx = EVP_MAC_CTX_new(sign_mac)) == NULL)
		goto done;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
	    digest, 0);
	params[1] = OSSL_PARAM_construct_end();
	if (EVP_MAC_init(ctx, key, keylen, params) != 1)
		goto done;
	if (sign_walk_any(h, n, mode, sign_emit_mac_cb, ctx) == -1)
		goto done;
	if (EVP_MAC_final(ctx, mac, &maclen, sizeof(mac)) != 1 ||
	    maclen != SIGN_HMAC_LEN)
		goto done;
	for (i = 0; i < maclen; i++) {
		out[2 * i] = hex[mac[i] >> 4];
		out[2 * i + 1] = hex[mac[i] & 0x0f];
	}
	out[2 * maclen] = '\0';
	ret = 0;
done:
	/* Library module: leave no error behind for the caller's SSL calls. */
	if (ret == -1)
		ERR_clear_error();
	OPENSSL_cleanse(mac, sizeof(mac));
	EVP_MAC_CTX_free(ctx);
	return (ret);
}

/* The canonical string itself; see sign.h. */
char *
sign_string(const struct sign_hdr *h, size_t n, size_t *len)
{
	return (sign_string_as(SIGN_BYTES, h, n, len));
}

/* The canonical string of a given mode; see sign.h. */
char *
sign_string_as(enum sign_mode mode, const struct sign_hdr *h, size_t n,
    size_t *len)
{
	struct sign_buf	 b = { NULL, 0, 0 };

	/* Start non-empty so that an empty result is still a string. */
	if (sign_emit_buf_cb(&b, "", 0) == -1 ||
	    sign_walk_any(h, n, mode, sign_emit_buf_cb, &b) == -1) {
		free(b.p);
		return (NULL);
	}
	if (len != NULL)
		*len = b.len;
	return (b.p);
}

/* Constant-time check of a received signature; see sign.h. */
int
sign_verify(const unsigned char *key, size_t keylen,
    const struct sign_hdr *h, size_t n, const char *hmac)
{
	char	 want[41];

	if (hmac == NULL || strlen(hmac) != 40)
		return (-1);
	if (sign_hmac(key, keylen, h, n, want) == -1)
		return (-1);
	return (CRYPTO_memcmp(want, hmac, 40) == 0 ? 0 : -1);
}

/* A header value we are willing to send: no control byte except HTAB. */
static int
sign_value_ok(const char *s)
{
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p != '\0'; p++)
		if ((*p < 0x20 && *p != '\t') || *p == 0x7f)
			return (0);
	return (1);
}

static int
sign_role_name_ok(const char *s)
{
	if (*s == '\0')
		return (0);
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		    *s == '-'))
			return (0);
	return (1);
}

/* Overflow-checked a += b. */
static int
sign_add(size_t *a, size_t b)
{
	if (b > SIZE_MAX - *a)
		return (-1);
	*a += b;
	return (0);
}

/*
 * Append "<pfx><name>: " to the block at *w and record the name in hd.
 * The value is written by the caller, which then calls sign_line_end().
 */
static void
sign_line_start(char **w, struct sign_hdr *hd, const char *pfx,
    const char *name)
{
	size_t	 pl = strlen(pfx), nl = strlen(name);

	hd->name = *w;
	memcpy(*w, pfx, pl);
	memcpy(*w + pl, name, nl);
	hd->namelen = pl + nl;
	*w += pl + nl;
	memcpy(*w, ": ", LIT_LEN(": "));
	*w += LIT_LEN(": ");
	hd->value = *w;
}

static void
sign_line_end(char **w, struct sign_hdr *hd)
{
	hd->valuelen = (size_t)(*w - hd->value);
	memcpy(*w, "\r\n", LIT_LEN("\r\n"));
	*w += LIT_LEN("\r\n");
}

static void
sign_put(char **w, const char *s)
{
	size_t	 l = strlen(s);

	memcpy(*w, s, l);
	*w += l;
}

/* Render the signed header block (PROTOCOL.md signature); see sign.h. */
char *
sign_block(const unsigned char *key, size_t keylen, const char *method,
    const char *dn, const char *login, const char *name,
    const struct dnmap_role *roles, size_t nroles, const char *const *fqans,
    size_t nfqans, size_t *len)
{
	return (sign_block_as(key, keylen, SIGN_BYTES, method, dn, login,
	    name, roles, nroles, fqans, nfqans, len));
}

/* Render the signed header block, HMAC in a given mode; see sign.h. */
char *
sign_block_as(const unsigned char *key, size_t keylen, enum sign_mode mode,
    const char *method, const char *dn, const char *login, const char *name,
    const struct dnmap_role *roles, size_t nroles, const char *const *fqans,
    size_t nfqans, size_t *len)
{
	static const char status[] = "cms-auth-status: OK\r\n";
	struct sign_hdr	*hd = NULL;
	char		*out = NULL, *w, mac[41];
	size_t		 total, nh = 0, maxh, i, j;
	int		 has_login, has_name, ok = 0;

	if (method == NULL || *method == '\0' || dn == NULL || *dn == '\0' ||
	    (nroles > 0 && roles == NULL) || (nfqans > 0 && fqans == NULL))
		return (NULL);
	has_login = login != NULL && *login != '\0';
	has_name = name != NULL && *name != '\0';
	if (!sign_value_ok(method) || !sign_value_ok(dn) ||
	    (has_login && !sign_value_ok(login)) ||
	    (has_name && !sign_value_ok(name)))
		return (NULL);

	/* Validate everything and size the block in one pass. */
	total = sizeof(status) - 1;
	if (sign_add(&total, sizeof("cms-authn-method: \r\n") - 1 +
	    strlen(method)) == -1 ||
	    sign_add(&total, sizeof("cms-authn-dn: \r\n") - 1 + strlen(dn)) ==
	    -1 ||
	    sign_add(&total, sizeof("cms-authn-hmac: \r\n") - 1 + 40) == -1)
		return (NULL);
	if (has_login && sign_add(&total, sizeof("cms-authn-login: \r\n") -
	    1 + strlen(login)) == -1)
		return (NULL);
	if (has_name && sign_add(&total, sizeof("cms-authn-name: \r\n") - 1 +
	    strlen(name)) == -1)
		return (NULL);
	for (i = 0; i < nroles; i++) {
		if (roles[i].name == NULL || roles[i].value == NULL ||
		    !sign_role_name_ok(roles[i].name) ||
		    !sign_value_ok(roles[i].value))
			return (NULL);
		/* A repeated role would be two headers a backend merges. */
		for (j = 0; j < i; j++)
			if (strcmp(roles[i].name, roles[j].name) == 0)
				return (NULL);
		if (sign_add(&total, sizeof("cms-authz-: \r\n") - 1) == -1 ||
		    sign_add(&total, strlen(roles[i].name)) == -1 ||
		    sign_add(&total, strlen(roles[i].value)) == -1)
			return (NULL);
	}
	if (nfqans > 0 && sign_add(&total,
	    sizeof("cms-authn-voms-fqans: \r\n") - 1 + (nfqans - 1)) == -1)
		return (NULL);
	for (i = 0; i < nfqans; i++) {
		if (fqans[i] == NULL || *fqans[i] == '\0' ||
		    strchr(fqans[i], ',') != NULL || !sign_value_ok(fqans[i]))
			return (NULL);
		if (sign_add(&total, strlen(fqans[i])) == -1)
			return (NULL);
	}
	if (total == SIZE_MAX)
		return (NULL);

	maxh = 5 + nroles;
	if ((hd = calloc(maxh, sizeof(*hd))) == NULL ||
	    (out = malloc(total + 1)) == NULL)
		goto done;

	w = out;
	sign_put(&w, status);
	sign_line_start(&w, &hd[nh], "cms-authn-method", "");
	sign_put(&w, method);
	sign_line_end(&w, &hd[nh++]);
	sign_line_start(&w, &hd[nh], "cms-authn-dn", "");
	sign_put(&w, dn);
	sign_line_end(&w, &hd[nh++]);
	if (has_login) {
		sign_line_start(&w, &hd[nh], "cms-authn-login", "");
		sign_put(&w, login);
		sign_line_end(&w, &hd[nh++]);
	}
	if (has_name) {
		sign_line_start(&w, &hd[nh], "cms-authn-name", "");
		sign_put(&w, name);
		sign_line_end(&w, &hd[nh++]);
	}
	for (i = 0; i < nroles; i++) {
		sign_line_start(&w, &hd[nh], "cms-authz-", roles[i].name);
		sign_put(&w, roles[i].value);
		sign_line_end(&w, &hd[nh++]);
	}
	if (nfqans > 0) {
		sign_line_start(&w, &hd[nh], "cms-authn-voms-fqans", "");
		for (i = 0; i < nfqans; i++) {
			if (i > 0)
				*w++ = ',';
			sign_put(&w, fqans[i]);
		}
		sign_line_end(&w, &hd[nh++]);
	}
	if (sign_hmac_as(key, keylen, mode, hd, nh, mac) == -1)
		goto done;
	sign_put(&w, "cms-authn-hmac: ");
	sign_put(&w, mac);
	sign_put(&w, "\r\n");
	*w = '\0';
	if ((size_t)(w - out) != total)
		goto done;	/* cannot happen: sizing and writing disagree */
	if (len != NULL)
		*len = total;
	ok = 1;
done:
	free(hd);
	if (!ok) {
		free(out);
		out = NULL;
	}
	return (out);
}
