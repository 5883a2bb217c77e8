/*
 * Internals shared by the YAML document files: the node record behind
 * struct rotarr_ynode and the allocation arena that owns every node.
 */
#ifndef ROTARR_YAMLDOC_PRIVATE_H
#define ROTARR_YAMLDOC_PRIVATE_H

#include <stddef.h>

#include "rotarr/error.h"
#include "rotarr/yamldoc.h"

/* Memory handed out in pieces and freed all at once with the document. */
struct yarena {
    struct yarena_chunk *head;
};

/* The public node first, so that a node pointer converts both ways. */
struct ynode_impl {
    struct rotarr_ynode pub;
    /* Mappings: effective pairs with merge keys resolved, interleaved as
     * key, value; the same array as pub.items when there is no merge. */
    const struct rotarr_ynode *const *pairs;
    size_t pair_count;
    size_t expanded;    /* nodes reached when aliases are expanded */
    size_t merge_depth; /* longest chain of mappings merged into this one */
    int complete;       /* the closing event has been seen */
};

/* Scratch set of mapping keys compared by decoded text. */
struct ykeyset {
    const struct rotarr_ynode **slots;
    size_t cap; /* a power of two, 0 before the first use */
};

/* Returns the offset of the first byte that is not part of valid UTF-8
 * (overlong forms, surrogates and code points above U+10FFFF included),
 * or len when every byte is. */
size_t yutf8_invalid_offset(const char *bytes, size_t len);

void *yarena_alloc(struct yarena *arena, size_t size);

/* Frees every piece, wiping it first because values may be secrets. */
void yarena_release(struct yarena *arena);

/* Returns 1 when key is a merge key: a plain "<<" with no tag other than
 * the merge tag. */
int ynode_is_merge_key(const struct rotarr_ynode *key);

/*
 * Checks a completed mapping for repeated keys and computes its effective
 * pairs.  Returns 0, or -1 with err set to ROTARR_EFILE naming path.
 */
int ymap_finish(struct ynode_impl *map, struct yarena *arena,
                struct ykeyset *set, const char *path,
                struct rotarr_error *err);

void ykeyset_release(struct ykeyset *set);

#endif
