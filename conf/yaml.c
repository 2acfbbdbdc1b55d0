/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * YAML front end of the config loader: drives libyaml's event parser and
 * builds the small node tree of conf/yaml.h, where every node keeps its
 * file:line:col.  It knows the YAML syntax and nothing of gridfront's keys:
 * conf/keys.c interprets the tree and conf/conf.c calls both.  Features a
 * config has no use for (anchors, aliases, tags, several documents) are
 * refused with a clear error rather than half supported.
 */

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "conf/errs.h"
#include "conf/yaml.h"

/* The state of one parse: the tree under construction and where errors go. */
struct build {
	struct yaml_doc	*doc;
	struct conf_errs *errs;
	struct yaml_node *stack[YAML_MAX_DEPTH];	/* open containers */
	int		 depth;
	int		 ndocs;
};

/*
 * Allocation helpers.  The tree is small bookkeeping data; running out of
 * memory while building it is not something the loader can recover from.
 */
static void *
xcalloc(size_t n, size_t size)
{
	void	*p;

	if ((p = calloc(n, size)) == NULL)
		abort();
	return (p);
}

static void *
xreallocarray(void *old, size_t n, size_t size)
{
	void	*p;

	if (size != 0 && n > SIZE_MAX / size)
		abort();
	if ((p = realloc(old, n * size)) == NULL)
		abort();
	return (p);
}

static void
node_free(struct yaml_node *n)
{
	size_t	 i;

	if (n == NULL)
		return;
	free(n->str);
	n->str = NULL;
	for (i = 0; n->items != NULL && i < n->n; i++)
		node_free(n->items[i]);
	for (i = 0; n->pairs != NULL && i < n->n; i++) {
		node_free(n->pairs[i].key);
		node_free(n->pairs[i].value);
	}
	free(n->items);
	free(n->pairs);
	free(n);
}

static struct yaml_node *
node_new(struct build *b, enum yaml_kind kind, const yaml_mark_t *mark)
{
	struct yaml_node *n;

	n = xcalloc(1, sizeof(*n));
	n->kind = kind;
	n->file = b->doc->file;
	n->line = (int)mark->line + 1;
	n->col = (int)mark->column + 1;
	return (n);
}

static void
build_err(struct build *b, const yaml_mark_t *mark, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
build_err(struct build *b, const yaml_mark_t *mark, const char *fmt, ...)
{
	char	 msg[200];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	conf_errs_add(b->errs, b->doc->file, (int)mark->line + 1,
	    (int)mark->column + 1, "%s", msg);
}

/*
 * Hang a finished or just-opened node under the innermost open container,
 * or make it the root.  In a mapping, nodes alternate key, value.
 */
static void
attach(struct build *b, struct yaml_node *n)
{
	struct yaml_node *parent;

	if (b->depth == 0) {
		b->doc->root = n;
		return;
	}
	parent = b->stack[b->depth - 1];
	if (parent->kind == YAML_KIND_SEQ) {
		if (parent->n == parent->cap) {
			parent->cap = parent->cap ? parent->cap * 2 : 4;
			parent->items = xreallocarray(parent->items,
			    parent->cap, sizeof(struct yaml_node *));
		}
		parent->items[parent->n++] = n;
		return;
	}
	if (parent->n > 0 && parent->pairs[parent->n - 1].value == NULL) {
		parent->pairs[parent->n - 1].value = n;
		return;
	}
	if (parent->n == parent->cap) {
		parent->cap = parent->cap ? parent->cap * 2 : 4;
		parent->pairs = xreallocarray(parent->pairs, parent->cap,
		    sizeof(*parent->pairs));
	}
	parent->pairs[parent->n].key = n;
	parent->pairs[parent->n].value = NULL;
	parent->n++;
}

/*
 * A mapping is complete: refuse non-scalar and duplicate keys.  The
 * offending pairs are dropped so that the rest of the loader sees a sane
 * tree and can go on reporting other errors; the load fails regardless.
 * Config mappings are small, so the quadratic scan is fine.
 */
static void
map_check(struct build *b, struct yaml_node *map)
{
	struct yaml_pair *p;
	size_t	 i, j, out;
	int	 bad;

	out = 0;
	for (i = 0; i < map->n; i++) {
		p = &map->pairs[i];
		bad = 0;
		if (p->key->kind != YAML_KIND_SCALAR) {
			conf_errs_add(b->errs, b->doc->file, p->key->line,
			    p->key->col, "mapping keys must be plain strings, "
			    "not %s", yaml_node_what(p->key));
			bad = 1;
		}
		for (j = 0; !bad && j < out; j++) {
			if (strcmp(map->pairs[j].key->str, p->key->str) != 0)
				continue;
			conf_errs_add(b->errs, b->doc->file, p->key->line,
			    p->key->col, "duplicate key '%s' (first given at "
			    "line %d)", p->key->str, map->pairs[j].key->line);
			bad = 1;
		}
		if (bad) {
			node_free(p->key);
			node_free(p->value);
			continue;
		}
		map->pairs[out++] = *p;
	}
	map->n = out;
}

/*
 * Handle one parser event.  Returns 0 to go on, -1 to stop (the error has
 * been recorded).
 */
static int
build_event(struct build *b, yaml_event_t *ev)
{
	struct yaml_node *n;
	const char	*anchor = NULL, *tag = NULL;

	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT:
		if (++b->ndocs > 1) {
			build_err(b, &ev->start_mark, "a config file holds a "
			    "single YAML document; remove this '---'");
			return (-1);
		}
		return (0);
	case YAML_ALIAS_EVENT:
		build_err(b, &ev->start_mark, "aliases (*%s) are not "
		    "supported in the config", (const char *)
		    ev->data.alias.anchor);
		/* Stand in an empty value so that the tree stays balanced. */
		n = node_new(b, YAML_KIND_SCALAR, &ev->start_mark);
		n->str = xcalloc(1, 1);
		n->is_null = 1;
		attach(b, n);
		return (0);
	case YAML_SCALAR_EVENT:
		anchor = (const char *)ev->data.scalar.anchor;
		tag = (const char *)ev->data.scalar.tag;
		n = node_new(b, YAML_KIND_SCALAR, &ev->start_mark);
		n->len = ev->data.scalar.length;
		n->str = xcalloc(1, n->len + 1);
		if (n->len > 0)
			memcpy(n->str, ev->data.scalar.value, n->len);
		if (memchr(n->str, '\0', n->len) != NULL)
			build_err(b, &ev->start_mark, "a value must not "
			    "contain a NUL character");
		/* YAML 1.1/1.2 spell null as nothing, "~" or "null". */
		if (ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
		    (n->len == 0 || strcmp(n->str, "~") == 0 ||
		    strcmp(n->str, "null") == 0 ||
		    strcmp(n->str, "Null") == 0 ||
		    strcmp(n->str, "NULL") == 0))
			n->is_null = 1;
		attach(b, n);
		break;
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		if (ev->type == YAML_SEQUENCE_START_EVENT) {
			anchor = (const char *)ev->data.sequence_start.anchor;
			tag = (const char *)ev->data.sequence_start.tag;
			n = node_new(b, YAML_KIND_SEQ, &ev->start_mark);
		} else {
			anchor = (const char *)ev->data.mapping_start.anchor;
			tag = (const char *)ev->data.mapping_start.tag;
			n = node_new(b, YAML_KIND_MAP, &ev->start_mark);
		}
		if (b->depth == YAML_MAX_DEPTH) {
			build_err(b, &ev->start_mark, "lists and mappings "
			    "are nested more than %d deep", YAML_MAX_DEPTH);
			node_free(n);
			return (-1);
		}
		attach(b, n);
		b->stack[b->depth++] = n;
		break;
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		n = b->stack[--b->depth];
		if (n->kind == YAML_KIND_MAP)
			map_check(b, n);
		return (0);
	default:
		/* Stream start/end and document end carry nothing for us. */
		return (0);
	}

	/* Checks common to scalars and container starts. */
	if (anchor != NULL)
		build_err(b, &ev->start_mark, "anchors (&%s) are not "
		    "supported in the config", anchor);
	if (tag != NULL)
		build_err(b, &ev->start_mark, "tags (%s) are not supported "
		    "in the config", tag);
	return (0);
}

/* Turn libyaml's error state into one located conf error. */
static void
parser_err(struct build *b, const yaml_parser_t *p)
{
	const yaml_mark_t *mark;
	char	 where[80];

	switch (p->error) {
	case YAML_MEMORY_ERROR:
		abort();
	case YAML_READER_ERROR:
		/* The reader only knows a byte offset; the scanner mark is
		 * the nearest position we have. */
		mark = &p->mark;
		build_err(b, mark, "YAML syntax error: %s (byte offset %zu)",
		    p->problem ? p->problem : "unreadable input",
		    p->problem_offset);
		return;
	default:
		mark = &p->problem_mark;
		break;
	}
	where[0] = '\0';
	if (p->context != NULL)
		snprintf(where, sizeof(where), " (%s at line %zu, column %zu)",
		    p->context, p->context_mark.line + 1,
		    p->context_mark.column + 1);
	build_err(b, mark, "YAML syntax error: %s%s",
	    p->problem ? p->problem : "invalid document", where);
}

/*
 * Parse len bytes at buf into a document named file.  See yaml.h for the
 * contract; errors that leave a usable tree (duplicate keys, anchors...)
 * are recorded and the tree is still returned.
 */
struct yaml_doc *
yaml_doc_parse(const char *file, const char *buf, size_t len,
    struct conf_errs *errs)
{
	struct build	 b;
	yaml_parser_t	 parser;
	yaml_event_t	 ev;
	int		 done, ok;

	memset(&b, 0, sizeof(b));
	b.errs = errs;
	b.doc = xcalloc(1, sizeof(*b.doc));
	b.doc->file = xcalloc(1, strlen(file) + 1);
	memcpy(b.doc->file, file, strlen(file));

	if (!yaml_parser_initialize(&parser))
		abort();
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);

	ok = 1;
	done = 0;
	while (!done) {
		if (!yaml_parser_parse(&parser, &ev)) {
			parser_err(&b, &parser);
			ok = 0;
			break;
		}
		done = (ev.type == YAML_STREAM_END_EVENT);
		if (build_event(&b, &ev) == -1) {
			ok = 0;
			done = 1;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);

	if (!ok) {
		/* Containers still open are reachable from the root. */
		yaml_doc_free(b.doc);
		return (NULL);
	}
	return (b.doc);
}

/*
 * Read the file at path (at most YAML_MAX_SIZE bytes) and parse it.  See
 * yaml.h for the contract.
 */
struct yaml_doc *
yaml_doc_load(const char *path, struct conf_errs *errs)
{
	struct yaml_doc	*doc = NULL;
	FILE		*fp;
	char		*buf;
	size_t		 len;

	if ((fp = fopen(path, "r")) == NULL) {
		conf_errs_add(errs, path, 0, 0, "cannot open: %s",
		    strerror(errno));
		return (NULL);
	}
	/* One byte more than the limit tells "too big" from "exactly". */
	buf = xcalloc(1, YAML_MAX_SIZE + 1);
	len = fread(buf, 1, YAML_MAX_SIZE + 1, fp);
	if (ferror(fp))
		conf_errs_add(errs, path, 0, 0, "cannot read: %s",
		    strerror(errno));
	else if (len > YAML_MAX_SIZE)
		conf_errs_add(errs, path, 0, 0, "file is larger than %u "
		    "bytes", YAML_MAX_SIZE);
	else
		doc = yaml_doc_parse(path, buf, len, errs);
	fclose(fp);
	free(buf);
	return (doc);
}

/* Free doc and its tree; NULL is a no-op. */
void
yaml_doc_free(struct yaml_doc *doc)
{
	if (doc == NULL)
		return;
	node_free(doc->root);
	doc->root = NULL;
	free(doc->file);
	free(doc);
}

/* Look up key in a mapping; see yaml.h. */
const struct yaml_node *
yaml_map_get(const struct yaml_node *map, const char *key)
{
	size_t	 i;

	if (map == NULL || map->kind != YAML_KIND_MAP)
		return (NULL);
	for (i = 0; i < map->n; i++)
		if (strcmp(map->pairs[i].key->str, key) == 0)
			return (map->pairs[i].value);
	return (NULL);
}

/* Name the kind of n for messages; see yaml.h. */
const char *
yaml_node_what(const struct yaml_node *n)
{
	if (n == NULL)
		return ("nothing");
	switch (n->kind) {
	case YAML_KIND_SEQ:
		return ("a list");
	case YAML_KIND_MAP:
		return ("a mapping");
	default:
		return (n->is_null ? "an empty value" : "a string");
	}
}
