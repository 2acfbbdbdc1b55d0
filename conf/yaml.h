/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 the gridfront authors */

/*
 * A small YAML document tree for the config loader.  Every node carries the
 * file, line and column it came from, so that each config error can point
 * at the exact spot.  Only what a config needs is kept: scalars (as text),
 * sequences and mappings with scalar keys.  No libyaml type appears here;
 * conf/yaml.c is the only file that includes <yaml.h>.
 *
 * The names below live next to libyaml's own yaml_* names: struct yaml_node
 * is ours, yaml_node_t is libyaml's and never leaves yaml.c.
 */

#ifndef CONF_YAML_H
#define CONF_YAML_H

#include <stddef.h>

struct conf_errs;

enum yaml_kind {
	YAML_KIND_SCALAR = 0,
	YAML_KIND_SEQ,
	YAML_KIND_MAP
};

struct yaml_node;

/* One key/value pair of a mapping; the key is always a scalar node. */
struct yaml_pair {
	struct yaml_node *key;
	struct yaml_node *value;
};

struct yaml_node {
	enum yaml_kind	 kind;
	const char	*file;		/* owned by the yaml_doc */
	int		 line;		/* 1-based */
	int		 col;		/* 1-based */

	/* YAML_KIND_SCALAR */
	char		*str;		/* NUL-terminated text */
	size_t		 len;
	int		 is_null;	/* plain "", "~" or "null" */

	/* YAML_KIND_SEQ: items; YAML_KIND_MAP: pairs, in file order */
	struct yaml_node **items;
	struct yaml_pair *pairs;
	size_t		 n;		/* number of items or pairs */
	size_t		 cap;
};

struct yaml_doc {
	char		*file;		/* name used in node positions */
	struct yaml_node *root;		/* NULL for an empty document */
};

/*
 * Read and parse the YAML file at path.  Returns a new document owned by
 * the caller (yaml_doc_free), or NULL after appending at least one error to
 * errs: unreadable file, syntax error (at its line:col), duplicate mapping
 * key, non-scalar key, anchor, alias, tag, more than one document, or
 * nesting deeper than YAML_MAX_DEPTH.
 */
struct yaml_doc	*yaml_doc_load(const char *path, struct conf_errs *errs);

/*
 * Same as yaml_doc_load() on the len bytes at buf; file is the name put in
 * node positions and errors.  buf need not be NUL-terminated and is not
 * kept.
 */
struct yaml_doc	*yaml_doc_parse(const char *file, const char *buf, size_t len,
		    struct conf_errs *errs);

/* Free a document and every node in it; NULL is a no-op. */
void		 yaml_doc_free(struct yaml_doc *doc);

/*
 * Return the value stored under key in the mapping map, or NULL when map is
 * NULL, not a mapping, or has no such key.  The node is borrowed from the
 * document.
 */
const struct yaml_node *yaml_map_get(const struct yaml_node *map,
		    const char *key);

/*
 * Describe what a node is, with an article, for "expected X, got Y"
 * messages: "a string", "an empty value", "a list" or "a mapping".
 */
const char	*yaml_node_what(const struct yaml_node *n);

#define YAML_MAX_DEPTH	32	/* nesting levels of lists and mappings */
#define YAML_MAX_SIZE	(4u << 20)	/* bytes in one config file */

#endif /* CONF_YAML_H */
