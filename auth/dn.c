/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * The slash-form DN formatter: X509_NAME -> "/DC=ch/.../CN=John Doe".  The
 * format, and why it is unambiguous, is documented in dn.h; this file is
 * its only implementation, used by x509.c for the user DN that is matched
 * against CRIC and the ban list and sent to backends, and for the chain
 * shown on the trouble page.  It does not pick which certificate is the
 * user's (that is x509.c) and it never parses DN text back.
 */

#include <sys/types.h>

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include "auth/dn.h"

/* Output that counts everything but stores only what fits. */
struct dn_out {
	char		*p;
	size_t		 cap;	/* bytes available for text, NUL excluded */
	size_t		 len;	/* bytes produced so far */
};

static void
dn_putc(struct dn_out *o, char c)
{
	if (o->len < o->cap)
		o->p[o->len] = c;
	o->len++;
}

static void
dn_puts(struct dn_out *o, const char *s)
{
	for (; *s != '\0'; s++)
		dn_putc(o, *s);
}

/*
 * Strict UTF-8 check (RFC 3629): no overlong forms, no surrogates, nothing
 * above U+10FFFF.  ASN1_STRING_to_UTF8() already produces UTF-8, but a
 * UTF8String is passed through, so its bytes are checked here.
 */
static int
dn_utf8_ok(const unsigned char *s, size_t len)
{
	size_t		 i = 0, n, k;
	uint32_t	 cp, min;

	while (i < len) {
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if ((s[i] & 0xe0) == 0xc0) {
			n = 1;
			cp = s[i] & 0x1f;
			min = 0x80;
		} else if ((s[i] & 0xf0) == 0xe0) {
			n = 2;
			cp = s[i] & 0x0f;
			min = 0x800;
		} else if ((s[i] & 0xf8) == 0xf0) {
			n = 3;
			cp = s[i] & 0x07;
			min = 0x10000;
		} else
			return (0);
		if (len - i - 1 < n)
			return (0);
		for (k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return (0);
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return (0);
		i += n + 1;
	}
	return (1);
}

/* Write one attribute value with the escapes of dn.h. */
static void
dn_put_value(struct dn_out *o, const unsigned char *v, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t	 i;

	for (i = 0; i < len; i++) {
		switch (v[i]) {
		case '\\':
		case '/':
		case '+':
			dn_putc(o, '\\');
			dn_putc(o, (char)v[i]);
			break;
		default:
			if (v[i] < 0x20 || v[i] == 0x7f) {
				dn_putc(o, '\\');
				dn_putc(o, 'x');
				dn_putc(o, hex[v[i] >> 4]);
				dn_putc(o, hex[v[i] & 0x0f]);
			} else
				dn_putc(o, (char)v[i]);
			break;
		}
	}
}

/*
 * Render name into o.  Returns 0, or -1 when an attribute cannot be
 * rendered (a value that is not a character string, bad UTF-8, an OID too
 * long to print).  o->len ends as the full length, fitting or not.
 */
static int
dn_render(const X509_NAME *name, struct dn_out *o)
{
	const X509_NAME_ENTRY	*ne;
	const ASN1_OBJECT	*obj;
	const char		*sn;
	unsigned char		*u = NULL;
	char			 oid[128];
	int			 i, count, set, prev = -1, nid, ulen, olen;
	int			 ret = -1;

	count = X509_NAME_entry_count(name);
	for (i = 0; i < count; i++) {
		ne = X509_NAME_get_entry(name, i);
		if (ne == NULL)
			goto done;
		/* Entries of one multi-valued RDN share their set number. */
		set = X509_NAME_ENTRY_set(ne);
		dn_putc(o, (i > 0 && set == prev) ? '+' : '/');
		prev = set;

		obj = X509_NAME_ENTRY_get_object(ne);
		nid = OBJ_obj2nid(obj);
		sn = nid != NID_undef ? OBJ_nid2sn(nid) : NULL;
		if (sn == NULL) {
			olen = OBJ_obj2txt(oid, sizeof(oid), obj, 1);
			if (olen <= 0 || (size_t)olen >= sizeof(oid))
				goto done;
			sn = oid;
		}
		dn_puts(o, sn);
		dn_putc(o, '=');

		ulen = ASN1_STRING_to_UTF8(&u, X509_NAME_ENTRY_get_data(ne));
		if (ulen < 0)
			goto done;
		if (!dn_utf8_ok(u, (size_t)ulen))
			goto done;
		dn_put_value(o, u, (size_t)ulen);
		OPENSSL_free(u);
		u = NULL;
	}
	ret = 0;
done:
	OPENSSL_free(u);
	return (ret);
}

/* Format into a caller's buffer; see dn.h. */
ssize_t
dn_format(const X509_NAME *name, char *out, size_t outlen)
{
	struct dn_out	 o;
	int		 r;

	if (out == NULL || outlen == 0)
		return (-1);
	out[0] = '\0';
	if (name == NULL)
		return (-1);
	o.p = out;
	o.cap = outlen - 1;
	o.len = 0;
	/* A refused value must not leave an error for the caller's SSL. */
	ERR_set_mark();
	r = dn_render(name, &o);
	ERR_pop_to_mark();
	if (r == -1 || o.len > o.cap || o.len > SSIZE_MAX) {
		out[0] = '\0';
		return (-1);
	}
	out[o.len] = '\0';
	return ((ssize_t)o.len);
}

/* Format into a new string; see dn.h. */
char *
dn_format_alloc(const X509_NAME *name)
{
	struct dn_out	 o;
	char		 small[512], *s;
	int		 r;

	if (name == NULL)
		return (NULL);
	o.p = small;
	o.cap = sizeof(small) - 1;
	o.len = 0;
	ERR_set_mark();
	r = dn_render(name, &o);
	ERR_pop_to_mark();
	if (r == -1 || o.len == SIZE_MAX)
		return (NULL);
	if ((s = malloc(o.len + 1)) == NULL)
		return (NULL);
	if (o.len <= o.cap) {
		memcpy(s, small, o.len);
		s[o.len] = '\0';
		return (s);
	}
	/* Too long for the first try: render again into the right size. */
	o.p = s;
	o.cap = o.len;
	o.len = 0;
	ERR_set_mark();
	r = dn_render(name, &o);
	ERR_pop_to_mark();
	if (r == -1 || o.len != o.cap) {
		free(s);
		return (NULL);
	}
	s[o.len] = '\0';
	return (s);
}
