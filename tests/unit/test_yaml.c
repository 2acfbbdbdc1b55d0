/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * Unit tests of conf/yaml.c, the libyaml front end of the config loader:
 * every node must carry the right 1-based line and column (config errors
 * point there), syntax errors must be located, and the YAML features a
 * config refuses (duplicate keys, anchors, aliases, tags, several
 * documents, deep nesting) must be reported rather than half handled.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "conf/conf.h"
#include "conf/yaml.h"

/* Parse text; errors go to *errs (caller frees). */
static struct yaml_doc *
parse(const char *text, struct conf_errs *errs)
{
	return (yaml_doc_parse("t.yaml", text, strlen(text), errs));
}

/* Check a node's kind and position. */
static void
assert_at(const struct yaml_node *n, enum yaml_kind kind, int line, int col)
{
	assert_non_null(n);
	assert_int_equal(n->kind, kind);
	assert_int_equal(n->line, line);
	assert_int_equal(n->col, col);
	assert_string_equal(n->file, "t.yaml");
}

static void
test_yaml__positions_block_style(void **state)
{
	struct conf_errs	 errs = { 0 };
	struct yaml_doc		*doc;
	const struct yaml_node	*routes, *r0, *backends;

	(void)state;
	doc = parse("# comment\n"
	    "workers: 4\n"
	    "routes:\n"
	    "  - path: /dbs/\n"
	    "    backends:\n"
	    "      - http://127.0.0.1:8250\n"
	    "      - \"http://127.0.0.1:8251\"\n", &errs);
	assert_non_null(doc);
	assert_int_equal(errs.n, 0);

	/* A block mapping starts at its first key. */
	assert_at(doc->root, YAML_KIND_MAP, 2, 1);
	assert_int_equal(doc->root->n, 2);
	assert_at(doc->root->pairs[0].key, YAML_KIND_SCALAR, 2, 1);
	assert_at(doc->root->pairs[0].value, YAML_KIND_SCALAR, 2, 10);
	assert_string_equal(doc->root->pairs[0].value->str, "4");

	routes = yaml_map_get(doc->root, "routes");
	assert_at(routes, YAML_KIND_SEQ, 4, 3);
	r0 = routes->items[0];
	assert_at(r0, YAML_KIND_MAP, 4, 5);
	assert_at(yaml_map_get(r0, "path"), YAML_KIND_SCALAR, 4, 11);
	backends = yaml_map_get(r0, "backends");
	assert_at(backends, YAML_KIND_SEQ, 6, 7);
	assert_int_equal(backends->n, 2);
	assert_at(backends->items[0], YAML_KIND_SCALAR, 6, 9);
	/* A quoted scalar starts at its opening quote. */
	assert_at(backends->items[1], YAML_KIND_SCALAR, 7, 9);
	assert_string_equal(backends->items[1]->str, "http://127.0.0.1:8251");

	yaml_doc_free(doc);
	conf_errs_free(&errs);
}

static void
test_yaml__positions_flow_style(void **state)
{
	struct conf_errs	 errs = { 0 };
	struct yaml_doc		*doc;
	const struct yaml_node	*tls, *b;

	(void)state;
	doc = parse("tls: {certificate: a.pem, key: b.key}\n"
	    "b: [x, \"y\",  z]\n", &errs);
	assert_non_null(doc);
	assert_int_equal(errs.n, 0);
	tls = yaml_map_get(doc->root, "tls");
	assert_at(tls, YAML_KIND_MAP, 1, 6);
	assert_at(yaml_map_get(tls, "key"), YAML_KIND_SCALAR, 1, 32);
	b = yaml_map_get(doc->root, "b");
	assert_at(b, YAML_KIND_SEQ, 2, 4);
	assert_at(b->items[2], YAML_KIND_SCALAR, 2, 14);
	yaml_doc_free(doc);
	conf_errs_free(&errs);
}

static void
test_yaml__null_scalars(void **state)
{
	struct conf_errs	 errs = { 0 };
	struct yaml_doc		*doc;

	(void)state;
	doc = parse("a:\nb: ~\nc: null\nd: \"null\"\ne: ''\nf: x\n"
	    "g: |\n  two\n  lines\n", &errs);
	assert_non_null(doc);
	assert_int_equal(errs.n, 0);
	assert_true(yaml_map_get(doc->root, "a")->is_null);
	assert_true(yaml_map_get(doc->root, "b")->is_null);
	assert_true(yaml_map_get(doc->root, "c")->is_null);
	/* Quoted text is never null, even when it spells null or nothing. */
	assert_false(yaml_map_get(doc->root, "d")->is_null);
	assert_false(yaml_map_get(doc->root, "e")->is_null);
	assert_false(yaml_map_get(doc->root, "f")->is_null);
	assert_string_equal(yaml_map_get(doc->root, "g")->str, "two\nlines\n");
	assert_int_equal(yaml_map_get(doc->root, "g")->len, 10);
	assert_string_equal(yaml_node_what(yaml_map_get(doc->root, "a")),
	    "an empty value");
	assert_string_equal(yaml_node_what(yaml_map_get(doc->root, "f")),
	    "a string");
	assert_string_equal(yaml_node_what(doc->root), "a mapping");
	assert_null(yaml_map_get(doc->root, "nope"));
	assert_null(yaml_map_get(yaml_map_get(doc->root, "f"), "x"));
	yaml_doc_free(doc);
	conf_errs_free(&errs);
}

static void
test_yaml__syntax_error_located(void **state)
{
	struct conf_errs	 errs = { 0 };
	struct yaml_doc		*doc;

	(void)state;
	doc = parse("a: 1\nb: [1, 2\nc: 3\n", &errs);
	assert_null(doc);
	assert_int_equal(errs.n, 1);
	assert_string_equal(errs.v[0].file, "t.yaml");
	assert_int_equal(errs.v[0].line, 3);
	assert_int_equal(errs.v[0].col, 2);
	assert_non_null(strstr(errs.v[0].msg, "YAML syntax error"));
	/* The context says where the unclosed construct began. */
	assert_non_null(strstr(errs.v[0].msg, "line 2, column 4"));
	conf_errs_free(&errs);

	doc = parse("a:\n\t- x\n", &errs);
	assert_null(doc);
	assert_int_equal(errs.n, 1);
	assert_int_equal(errs.v[0].line, 2);
	assert_int_equal(errs.v[0].col, 1);
	assert_non_null(strstr(errs.v[0].msg, "cannot start any token"));
	conf_errs_free(&errs);

	doc = parse("a: b: c\n", &errs);
	assert_null(doc);
	assert_int_equal(errs.n, 1);
	assert_int_equal(errs.v[0].line, 1);
	assert_int_equal(errs.v[0].col, 5);
	conf_errs_free(&errs);
}

static void
test_yaml__invalid_utf8_refused(void **state)
{
	struct conf_errs	 errs = { 0 };
	struct yaml_doc		*doc;

	(void)state;
	doc = parse("a: \xff\xfe\n", &errs);
	assert_null(doc);
	assert_int_equal(errs.n, 1);
	assert_non_null(strstr(errs.v[0].msg, "YAML syntax error"));
	conf_errs_free(&errs);
}

static void
test_yaml__duplicate_key_reported_and_dropped(void **state)
{
	struct conf_errs	 errs = { 0 };
	struct yaml_doc		*doc;
	const struct yaml_node	*t;

	(void)state;
	doc = parse("t:\n  a: 1\n  b: 2\n  a: [3]\n", &errs);
	/* The tree survives so that the loader can report more. */
	assert_non_null(doc);
	assert_int_equal(errs.n, 1);
	assert_int_equal(errs.v[0].line, 4);
	assert_int_equal(errs.v[0].col, 3);
	assert_string_equal(errs.v[0].msg,
	    "duplicate key 'a' (first given at line 2)");
	t = yaml_map_get(doc->root, "t");
	assert_int_equal(t->n, 2);
	assert_string_equal(yaml_map_get(t, "a")->str, "1");
	yaml_doc_free(doc);
	conf_errs_free(&errs);
}

static void
test_yaml__non_scalar_key_refused(void **state)
{
	struct conf_errs	 errs = { 0 };
	struct yaml_doc		*doc;

	(void)state;
	doc = parse("? [a, b]\n: 1\nc: 2\n", &errs);
	assert_non_null(doc);
	assert_int_equal(errs.n, 1);
	assert_int_equal(errs.v[0].line, 1);
	assert_int_equal(errs.v[0].col, 3);
	assert_non_null(strstr(errs.v[0].msg, "mapping keys must be plain "
	    "strings"));
	assert_int_equal(doc->root->n, 1);
	yaml_doc_free(doc);
	conf_errs_free(&errs);
}

static void
test_yaml__anchor_alias_tag_refused(void **state)
{
	struct conf_errs	 errs = { 0 };
	struct yaml_doc		*doc;

	(void)state;
	doc = parse("a: &x 1\nb: *x\nc: !!str 3\n", &errs);
	assert_non_null(doc);
	assert_int_equal(errs.n, 3);
	assert_int_equal(errs.v[0].line, 1);
	assert_int_equal(errs.v[0].col, 4);
	assert_non_null(strstr(errs.v[0].msg, "anchors (&x)"));
	assert_int_equal(errs.v[1].line, 2);
	assert_int_equal(errs.v[1].col, 4);
	assert_non_null(strstr(errs.v[1].msg, "aliases (*x)"));
	/* The alias stands as an empty value in the tree. */
	assert_true(yaml_map_get(doc->root, "b")->is_null);
	assert_int_equal(errs.v[2].line, 3);
	assert_non_null(strstr(errs.v[2].msg, "tags"));
	yaml_doc_free(doc);
	conf_errs_free(&errs);
}

static void
test_yaml__two_documents_refused(void **state)
{
	struct conf_errs	 errs = { 0 };
	struct yaml_doc		*doc;

	(void)state;
	doc = parse("a: 1\n---\nb: 2\n", &errs);
	assert_null(doc);
	assert_int_equal(errs.n, 1);
	assert_int_equal(errs.v[0].line, 2);
	assert_int_equal(errs.v[0].col, 1);
	assert_non_null(strstr(errs.v[0].msg, "single YAML document"));
	conf_errs_free(&errs);

	/* One explicit document is fine. */
	doc = parse("---\na: 1\n...\n", &errs);
	assert_non_null(doc);
	assert_int_equal(errs.n, 0);
	yaml_doc_free(doc);
}

static void
test_yaml__nesting_depth_limited(void **state)
{
	struct conf_errs	 errs = { 0 };
	struct yaml_doc		*doc;
	char			 buf[200];
	int			 i;

	(void)state;
	/* Exactly the limit parses... */
	for (i = 0; i < YAML_MAX_DEPTH; i++)
		buf[i] = '[';
	for (i = 0; i < YAML_MAX_DEPTH; i++)
		buf[YAML_MAX_DEPTH + i] = ']';
	buf[2 * YAML_MAX_DEPTH] = '\0';
	doc = parse(buf, &errs);
	assert_non_null(doc);
	assert_int_equal(errs.n, 0);
	yaml_doc_free(doc);

	/* ...one more level does not. */
	for (i = 0; i <= YAML_MAX_DEPTH; i++)
		buf[i] = '[';
	for (i = 0; i <= YAML_MAX_DEPTH; i++)
		buf[YAML_MAX_DEPTH + 1 + i] = ']';
	buf[2 * YAML_MAX_DEPTH + 2] = '\0';
	doc = parse(buf, &errs);
	assert_null(doc);
	assert_int_equal(errs.n, 1);
	assert_int_equal(errs.v[0].col, YAML_MAX_DEPTH + 1);
	assert_non_null(strstr(errs.v[0].msg, "nested more than"));
	conf_errs_free(&errs);
}

static void
test_yaml__empty_document(void **state)
{
	struct conf_errs	 errs = { 0 };
	struct yaml_doc		*doc;

	(void)state;
	doc = parse("# only a comment\n", &errs);
	assert_non_null(doc);
	assert_null(doc->root);
	assert_int_equal(errs.n, 0);
	yaml_doc_free(doc);
	yaml_doc_free(NULL);
}

static void
test_yaml__nul_in_scalar_refused(void **state)
{
	struct conf_errs	 errs = { 0 };
	struct yaml_doc		*doc;

	(void)state;
	doc = parse("a: \"x\\0y\"\n", &errs);
	assert_non_null(doc);
	assert_int_equal(errs.n, 1);
	assert_int_equal(errs.v[0].line, 1);
	assert_int_equal(errs.v[0].col, 4);
	assert_non_null(strstr(errs.v[0].msg, "NUL"));
	yaml_doc_free(doc);
	conf_errs_free(&errs);
}

static void
test_yaml__load_missing_file(void **state)
{
	struct conf_errs	 errs = { 0 };

	(void)state;
	assert_null(yaml_doc_load("/nonexistent/gridfront.yaml", &errs));
	assert_int_equal(errs.n, 1);
	assert_int_equal(errs.v[0].line, 0);
	assert_string_equal(errs.v[0].file, "/nonexistent/gridfront.yaml");
	assert_non_null(strstr(errs.v[0].msg, "cannot open"));
	conf_errs_free(&errs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_yaml__positions_block_style),
		cmocka_unit_test(test_yaml__positions_flow_style),
		cmocka_unit_test(test_yaml__null_scalars),
		cmocka_unit_test(test_yaml__syntax_error_located),
		cmocka_unit_test(test_yaml__invalid_utf8_refused),
		cmocka_unit_test(test_yaml__duplicate_key_reported_and_dropped),
		cmocka_unit_test(test_yaml__non_scalar_key_refused),
		cmocka_unit_test(test_yaml__anchor_alias_tag_refused),
		cmocka_unit_test(test_yaml__two_documents_refused),
		cmocka_unit_test(test_yaml__nesting_depth_limited),
		cmocka_unit_test(test_yaml__empty_document),
		cmocka_unit_test(test_yaml__nul_in_scalar_refused),
		cmocka_unit_test(test_yaml__load_missing_file),
	};

	return (cmocka_run_group_tests_name("yaml", tests, NULL, NULL));
}
