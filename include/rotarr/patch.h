/*
 * A list of byte-range replacements applied to a file's original bytes.
 * Edits are collected first and applied in one pass, so that each edit's
 * offsets refer to the original text and no edit shifts another.  The
 * replacement texts may be secrets: they are wiped when the patch is
 * freed.
 */
#ifndef ROTARR_PATCH_H
#define ROTARR_PATCH_H

#include <stddef.h>

#include "rotarr/buf.h"
#include "rotarr/compat.h"
#include "rotarr/error.h"

struct rotarr_patch;

/* Returns a new empty patch, or NULL when memory runs out. */
struct rotarr_patch *rotarr_patch_new(void);

/*
 * Adds an edit that replaces the bytes [start, end) with text (text_len
 * bytes, copied).  start == end inserts text before byte start.  An edit
 * identical to one already added is merged with it.  Returns 0, or -1
 * with err set (ROTARR_EFILE) when start > end or memory runs out.
 * rotarr_patch_apply reports overlaps, because only it has the length.
 */
int rotarr_patch_add(struct rotarr_patch *p, size_t start, size_t end,
                     const char *text, size_t text_len,
                     struct rotarr_error *err)
    ROTARR_MUST_CHECK;

/* Returns the number of distinct edits. */
size_t rotarr_patch_count(const struct rotarr_patch *p);

/*
 * Appends to out the len bytes at bytes with every edit applied.  Returns
 * 0, or -1 with err set (ROTARR_EFILE, naming the offsets) and out
 * unchanged in three cases: two edits overlap, two insertions share an
 * offset (so their order would be a guess), or an edit ends past len.  An
 * insertion at the start or the end of a replaced range does not overlap
 * it.  out is grown once before the first byte.  It may then hold
 * secrets, so the caller wipes it.
 */
int rotarr_patch_apply(const struct rotarr_patch *p, const char *bytes,
                       size_t len, struct rotarr_buf *out,
                       struct rotarr_error *err)
    ROTARR_MUST_CHECK;

/* Wipes the replacement texts and frees the patch.  Accepts NULL. */
void rotarr_patch_free(struct rotarr_patch *p);

#endif
