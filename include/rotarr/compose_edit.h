/*
 * Structural edits of a compose file that keep every other byte: new keys
 * in a mapping, new items at the end of a sequence, text added to a
 * scalar, a node replaced.  Each edit is a byte range of the original
 * file and its replacement text, collected in a struct rotarr_text_edits
 * and applied in one pass (rotarr/patch.h), so the YAML document is
 * never re-serialised.
 *
 * New lines copy the file's layout: the indentation of the mapping's keys
 * or the sequence's dashes, the nesting step the file uses, and its line
 * ending (LF or CRLF).  Flow collections ("[a, b]", "{a: b}") get their
 * new entries inside the brackets.
 */
#ifndef ROTARR_COMPOSE_EDIT_H
#define ROTARR_COMPOSE_EDIT_H

#include <stddef.h>

#include "rotarr/buf.h"
#include "rotarr/compat.h"
#include "rotarr/error.h"
#include "rotarr/yamldoc.h"

/* One replacement of the bytes [start, end) of a file; start == end
 * inserts text before byte start. */
struct rotarr_text_edit {
    size_t start, end;
    char *text; /* may hold a secret: wiped on release */
    size_t len;
};

/* The edits of one file, in the order they were added. */
struct rotarr_text_edits {
    struct rotarr_text_edit *items;
    size_t count;
};

#define ROTARR_TEXT_EDITS_INIT { NULL, 0 }

/*
 * Adds an edit.  An edit identical to an earlier one is dropped.  An
 * insertion at the offset of an earlier insertion is joined to it, its
 * text after the earlier text, so that several insertions at one place
 * keep their order.  Returns 0, or -1 with err set (ROTARR_EFILE) when
 * start > end, when the range overlaps an earlier edit (touching at an
 * end is not an overlap), or when memory runs out.
 */
int rotarr_text_edits_add(struct rotarr_text_edits *edits, size_t start,
                          size_t end, const char *text, size_t len,
                          struct rotarr_error *err)
    ROTARR_MUST_CHECK;

/* Returns 1 when [start, end) shares a byte with an edit's range, or an
 * insertion lies strictly inside it. */
int rotarr_text_edits_overlap(const struct rotarr_text_edits *edits,
                              size_t start, size_t end);

/*
 * Appends the len bytes at bytes with every edit applied to out.
 * Returns 0, or -1 with err set (ROTARR_EFILE) when an edit ends past
 * len.  out may then hold secrets: the caller wipes it.
 */
int rotarr_text_edits_apply(const struct rotarr_text_edits *edits,
                            const char *bytes, size_t len,
                            struct rotarr_buf *out, struct rotarr_error *err)
    ROTARR_MUST_CHECK;

/* Wipes the texts and frees the edits.  Accepts an empty list. */
void rotarr_text_edits_release(struct rotarr_text_edits *edits);

/*
 * Inserts pairs into the block or flow mapping map, after the pair whose
 * key is after (NULL, or a key map lacks: after the last pair).  text
 * holds one pair per line ("command: [...]").  A pair whose value is a
 * block collection continues on the following lines, indented by two
 * spaces per level, which become the file's own nesting step.  A flow
 * mapping takes only one-line pairs.  Returns 0, or -1 with err set
 * (ROTARR_EUSAGE when map is not a mapping or text does not fit a flow
 * mapping).
 */
int rotarr_yaml_insert_pairs(struct rotarr_text_edits *edits,
                             const struct rotarr_ynode *map,
                             const char *after, const char *text,
                             struct rotarr_error *err) ROTARR_MUST_CHECK;

/*
 * Appends count scalar items to the sequence seq, each written in the
 * style of the last item.  A plain item stays plain when YAML reads it
 * back unchanged (an option such as "--requirepass", or "${NAME}" in a
 * block list), and is quoted otherwise.  Returns 0, or -1 with err set.
 */
int rotarr_yaml_append_items(struct rotarr_text_edits *edits,
                             const struct rotarr_ynode *seq,
                             const char *const *items, size_t count,
                             struct rotarr_error *err) ROTARR_MUST_CHECK;

/*
 * Appends text to the value of the scalar node, escaped for its style:
 * plain and block scalars get text as it is (it must hold no line break,
 * no ": " and no " #"), single-quoted scalars get each "'" doubled, and
 * double-quoted ones get '\' and '"' escaped.  Returns 0, or -1 with err
 * set (ROTARR_EUSAGE when text cannot be carried in that style).
 */
int rotarr_yaml_append_to_scalar(struct rotarr_text_edits *edits,
                                 const struct rotarr_ynode *node,
                                 const char *text,
                                 struct rotarr_error *err) ROTARR_MUST_CHECK;

/* Replaces the span of node with text, which must be valid YAML in that
 * place. */
int rotarr_yaml_replace_node(struct rotarr_text_edits *edits,
                             const struct rotarr_ynode *node,
                             const char *text,
                             struct rotarr_error *err) ROTARR_MUST_CHECK;

/*
 * Sets variable key of a service's "environment:" to the text value, as
 * Compose reads it before interpolation.  service is the service's
 * mapping in one file.  An existing entry, local or merged in with "<<:",
 * gets its value replaced (a null "KEY:" gets the value after its colon,
 * a list item "- KEY" becomes "KEY=value").  Otherwise the entry is added
 * in the form the environment uses: a "KEY: value" pair or a "- KEY=value"
 * item.  When the service has no environment at all, an "environment:"
 * key is inserted after the pair whose key is after.  A value "${NAME}"
 * is written plain; other values are quoted as YAML needs.  Returns 0, or
 * -1 with err set (ROTARR_EUSAGE for an entry written as a block scalar
 * or an environment of the wrong shape).
 */
int rotarr_compose_env_set(struct rotarr_text_edits *edits,
                           const struct rotarr_ynode *service,
                           const char *key, const char *value,
                           const char *after,
                           struct rotarr_error *err) ROTARR_MUST_CHECK;

/* Sets count variables as rotarr_compose_env_set does, in one
 * "environment:" key when the service has none. */
int rotarr_compose_env_set_pairs(struct rotarr_text_edits *edits,
                                 const struct rotarr_ynode *service,
                                 const char *const *keys,
                                 const char *const *values, size_t count,
                                 const char *after,
                                 struct rotarr_error *err) ROTARR_MUST_CHECK;

#endif
