/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * libFuzzer target for the CRIC users loader (dnmap_load), which only
 * takes a path: every input is written to a private scratch file first.
 * After a successful load the DNs of the input's records (read again with
 * jansson) are looked up, exactly and order-insensitively (as written and
 * with their RDNs reversed), and every account found must be safe to turn
 * into headers: no control byte in DN, login or name, role names
 * [a-z0-9-]+, role values of group:/site: tokens, and sign_block() must
 * accept it.  The counters in struct dnmap_info must add up.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "auth/dnmap.h"
#include "auth/sign.h"
#include "tests/fuzz/fuzz.h"

#define MAXLOOKUPS	64

static const char	*path;
static const unsigned char key[] = "k";

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	path = fuzz_scratch_path("users.json");
	return (0);
}

static int
text_ok(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
			return (0);
	return (1);
}

static void
check_user(const struct dnmap_user *u)
{
	const char	*p;
	char		*blk;
	size_t		 i;

	FUZZ_CHECK(u->dn != NULL && u->dn[0] == '/' && text_ok(u->dn));
	FUZZ_CHECK(u->login != NULL && u->login[0] != '\0' &&
	    text_ok(u->login));
	FUZZ_CHECK(u->name != NULL && text_ok(u->name));
	FUZZ_CHECK(u->nroles == 0 || u->roles != NULL);
	for (i = 0; i < u->nroles; i++) {
		FUZZ_CHECK(u->roles[i].name[0] != '\0');
		for (p = u->roles[i].name; *p != '\0'; p++)
			FUZZ_CHECK((*p >= 'a' && *p <= 'z') ||
			    (*p >= '0' && *p <= '9') || *p == '-');
		FUZZ_CHECK(strncmp(u->roles[i].value, "group:", 6) == 0 ||
		    strncmp(u->roles[i].value, "site:", 5) == 0);
		FUZZ_CHECK(text_ok(u->roles[i].value));
	}
	/* What the map holds must be signable as it is. */
	blk = sign_block(key, 1, "X509Cert", u->dn, u->login, u->name,
	    u->roles, u->nroles, NULL, 0, NULL);
	FUZZ_CHECK(blk != NULL);
	free(blk);
}

/* Write the RDNs of dn (split on unescaped '/') in reverse into out. */
static void
reverse_dn(const char *dn, char *out)
{
	size_t	 n = strlen(dn), end = n, i, o = 0;

	for (i = n; i-- > 0; ) {
		size_t	 bs = 0, j = i;

		if (dn[i] != '/')
			continue;
		while (j > 0 && dn[j - 1] == '\\') {
			bs++;
			j--;
		}
		if (bs % 2 != 0)
			continue;
		memcpy(out + o, dn + i, end - i);
		o += end - i;
		end = i;
	}
	memcpy(out + o, dn, end);
	o += end;
	out[o] = '\0';
}

static void
lookups(const struct dnmap *m, const uint8_t *data, size_t size)
{
	const struct dnmap_user	*u, *v;
	json_t			*root, *rec, *dn;
	const char		*s;
	char			*rev;
	size_t			 i;

	if ((root = json_loadb((const char *)data, size, JSON_ALLOW_NUL,
	    NULL)) == NULL)
		return;
	if (json_is_array(root)) {
		json_array_foreach(root, i, rec) {
			if (i >= MAXLOOKUPS)
				break;
			if ((dn = json_object_get(rec, "DN")) == NULL ||
			    !json_is_string(dn))
				continue;
			s = json_string_value(dn);
			if ((u = dnmap_lookup(m, s)) != NULL) {
				check_user(u);
				FUZZ_CHECK(strcmp(u->dn, s) == 0);
			}
			if ((v = dnmap_lookup_unordered(m, s)) != NULL)
				check_user(v);
			/* An exact match is what the unordered lookup finds. */
			if (u != NULL)
				FUZZ_CHECK(v == u);
			if ((rev = malloc(strlen(s) + 1)) == NULL)
				abort();
			reverse_dn(s, rev);
			if ((v = dnmap_lookup_unordered(m, rev)) != NULL)
				check_user(v);
			free(rev);
		}
	}
	json_decref(root);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dnmap_info	 info;
	struct dnmap		*m;
	char			 err[256];

	if (path == NULL)
		LLVMFuzzerInitialize(NULL, NULL);
	fuzz_write_file(path, data, size);
	memset(&info, 0, sizeof(info));
	err[0] = '\0';
	m = dnmap_load(path, &info, err, sizeof(err));
	FUZZ_CHECK(memchr(err, '\0', sizeof(err)) != NULL);
	FUZZ_CHECK(memchr(info.first_skip, '\0',
	    sizeof(info.first_skip)) != NULL);
	if (m == NULL) {
		FUZZ_CHECK(err[0] != '\0');
		return (0);
	}
	FUZZ_CHECK(info.skipped <= info.records);
	FUZZ_CHECK(info.bad_utf8 <= info.skipped);
	FUZZ_CHECK(dnmap_size(m) > 0 && dnmap_size(m) <= info.records);
	FUZZ_CHECK(dnmap_users(m) > 0 && dnmap_users(m) <= dnmap_size(m));
	FUZZ_CHECK(info.users == dnmap_users(m) && info.dns == dnmap_size(m));
	FUZZ_CHECK(dnmap_lookup(m, "") == NULL);
	lookups(m, data, size);
	dnmap_free(m);
	return (0);
}
