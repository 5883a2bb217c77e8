/*
 * A parsed YAML file whose every node remembers where it sits in the file,
 * so that a value can be rewritten by replacing a byte range and every
 * other byte (comments, quoting, anchors, line endings) stays as it was.
 *
 * This module is the only user of libyaml.  The tree is built from
 * libyaml's events; libyaml counts positions in characters, and the
 * document converts them to byte offsets.  Every scalar is kept as text:
 * no implicit typing is done, so "5432", "true" and "null" are strings
 * whose style shows whether they were quoted.
 */
#ifndef ROTARR_YAMLDOC_H
#define ROTARR_YAMLDOC_H

#include <stddef.h>

#include "rotarr/buf.h"
#include "rotarr/compat.h"
#include "rotarr/error.h"

/* Largest file rotarr_ydoc_parse() accepts. */
#define ROTARR_YDOC_MAX_BYTES ((size_t)16 * 1024 * 1024)

/* Deepest nesting of collections accepted, so that code walking the tree
 * recursively has a bounded stack. */
#define ROTARR_YDOC_MAX_DEPTH 256

/*
 * Nodes that aliases may add to a document when expanded, beyond its own
 * nodes.  Aliases share the anchored node instead of copying it, but a
 * reader that walks every path (interpolation, merging) visits the anchored
 * node once per alias, and a few lines of nested aliases would make that
 * walk take forever.
 */
#define ROTARR_YDOC_MAX_ALIAS_EXPANSION ((size_t)1000000)

enum rotarr_ynode_kind {
    ROTARR_YNODE_SCALAR,
    ROTARR_YNODE_SEQUENCE,
    ROTARR_YNODE_MAPPING,
};

enum rotarr_yscalar_style {
    ROTARR_YSTYLE_PLAIN,
    ROTARR_YSTYLE_SINGLE,  /* 'text' */
    ROTARR_YSTYLE_DOUBLE,  /* "text" */
    ROTARR_YSTYLE_LITERAL, /* | block */
    ROTARR_YSTYLE_FOLDED,  /* > block */
};

struct rotarr_ydoc;

/*
 * A node of the tree, read-only and owned by its document.  An alias is
 * not a node of its own: the sequence item or mapping value written as
 * "*name" points at the anchored node, which may thus appear in several
 * places of the tree.
 *
 * Byte spans [start, end) index rotarr_ydoc_bytes() of doc, the BOM
 * included.  For a scalar the span is exactly its text: quotes included
 * for quoted styles, an anchor or tag before it excluded.  A block scalar
 * spans from its '|' or '>' indicator to the end of its last line that is
 * not blank, line break excluded.  An empty scalar (the value of "key:")
 * has an empty span right after the indicator before it.  A flow
 * collection spans from its anchor, tag or bracket to its closing
 * bracket.  A block collection spans from its anchor, tag or first entry
 * to the end of its last entry.
 */
struct rotarr_ynode {
    enum rotarr_ynode_kind kind;
    enum rotarr_yscalar_style style; /* scalars only */
    int flow;                        /* collection written as [..] or {..} */
    const char *value;  /* scalars: decoded text, NUL-terminated; else NULL */
    size_t value_len;   /* more than strlen(value) if value contains NUL */
    const char *tag;    /* "!reset", "tag:yaml.org,2002:str", or NULL */
    const char *anchor; /* "pw" for "&pw", or NULL */
    size_t start, end;  /* byte span in the file, see above */
    size_t line, column; /* of start, 1-based; column counts characters */
    size_t count;        /* sequence items or mapping pairs */
    /* Sequence items; for a mapping, key i is items[2 * i] and its value
     * items[2 * i + 1], in file order, merge keys included. */
    struct rotarr_ynode **items;
    const struct rotarr_ydoc *doc; /* the document holding the node */
};

/*
 * Parses the len bytes of the file path (copied; path is used in messages
 * and kept).  Every "---" document of the stream is kept.  Returns the
 * document, or NULL with err set to ROTARR_EFILE and a message of the form
 * "PATH:LINE:COLUMN: what is wrong; what to do" when the input is larger
 * than ROTARR_YDOC_MAX_BYTES, is not UTF-8, is not valid YAML, repeats a key
 * in one mapping, uses an undefined or recursive alias, has a merge key
 * '<<' whose value is not a mapping or a list of mappings, nests deeper
 * than ROTARR_YDOC_MAX_DEPTH, or expands aliases beyond
 * ROTARR_YDOC_MAX_ALIAS_EXPANSION nodes.  A leading UTF-8 BOM is allowed.
 */
struct rotarr_ydoc *rotarr_ydoc_parse(const char *path, const char *bytes,
                                      size_t len, struct rotarr_error *err)
    ROTARR_MUST_CHECK;

/*
 * Parses like rotarr_ydoc_parse() but takes bytes, a malloc'd buffer of
 * len bytes followed by a NUL, instead of copying it: the document wipes
 * and frees it, and so does a failed call before it returns.  Saves a copy
 * of a large file.
 */
struct rotarr_ydoc *rotarr_ydoc_parse_owned(const char *path, char *bytes,
                                            size_t len,
                                            struct rotarr_error *err)
    ROTARR_MUST_CHECK;

/* Returns the root of the first document, or NULL for a stream with no
 * document (an empty file or only comments). */
const struct rotarr_ynode *rotarr_ydoc_root(const struct rotarr_ydoc *doc);

/* Returns the number of documents in the stream. */
size_t rotarr_ydoc_document_count(const struct rotarr_ydoc *doc);

/* Returns the root of document i (0-based), or NULL when i is too big. */
const struct rotarr_ynode *rotarr_ydoc_document(const struct rotarr_ydoc *doc,
                                                size_t i);

/* Returns the path given to rotarr_ydoc_parse(). */
const char *rotarr_ydoc_path(const struct rotarr_ydoc *doc);

/* Returns the original bytes, BOM included, and stores their count in len
 * when len is not NULL.  The bytes are followed by a NUL. */
const char *rotarr_ydoc_bytes(const struct rotarr_ydoc *doc, size_t *len);

/*
 * Looks up key in a mapping by decoded key text, following merge keys:
 * a pair written in map itself wins over merged ones, and among merged
 * mappings ("<<: *a" or "<<: [*a, *b]") the first listed wins.  Returns the
 * value node, or NULL when map is NULL, is not a mapping or has no such
 * key.  The merge key itself is never returned.
 */
const struct rotarr_ynode *rotarr_ynode_get(const struct rotarr_ynode *map,
                                            const char *key);

/*
 * Returns the effective pairs of a mapping, merge keys resolved as in
 * rotarr_ynode_get(), and stores in *pairs an array (owned by the
 * document) where key i is (*pairs)[2 * i] and its value
 * (*pairs)[2 * i + 1].  Local pairs keep their file order; merged pairs
 * take the place of the merge key that brought them.  Returns 0 and
 * stores NULL for anything but a mapping.
 */
size_t rotarr_ynode_pairs(const struct rotarr_ynode *map,
                          const struct rotarr_ynode *const **pairs);

/* Returns 1 when node is NULL or a YAML null: an empty, "~", "null",
 * "Null" or "NULL" plain scalar with no tag, or a scalar tagged !!null. */
int rotarr_ynode_is_null(const struct rotarr_ynode *node);

/* Returns 1 when node is a scalar whose decoded text equals the
 * NUL-terminated text. */
int rotarr_ynode_equals(const struct rotarr_ynode *node, const char *text);

/* Frees doc and every node in it, wiping the bytes and values first
 * because they may hold secrets.  Accepts NULL. */
void rotarr_ydoc_free(struct rotarr_ydoc *doc);

/*
 * Appends to out the text that, written over a scalar's span, makes the
 * scalar decode to the len bytes of value.  The current style is kept when
 * it can carry the value.  Plain stays plain when the value is safe there:
 * no indicator, no ": " or " #", no flow indicator, and nothing that YAML
 * 1.1 or 1.2 reads as a null, boolean or number.  Single quotes double
 * every "'", and double quotes escape '\', '"' and control characters.
 * Otherwise the text switches to single quotes, or to double quotes when
 * the value contains a control character or line break.  Block styles
 * always switch to quotes, because the replacement does not know the
 * block's indentation.  Returns 0, or -1 with err set to ROTARR_EUSAGE
 * when value is not UTF-8.
 */
int rotarr_yaml_encode_scalar(const char *value, size_t len,
                              enum rotarr_yscalar_style current,
                              struct rotarr_buf *out,
                              struct rotarr_error *err) ROTARR_MUST_CHECK;

#endif
