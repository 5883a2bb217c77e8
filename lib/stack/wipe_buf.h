/*
 * Growth of a struct rotarr_buf that may hold secrets (decoded .env
 * values, interpolation results).  realloc could leave the old bytes in
 * freed memory, so these functions move the contents to a new block and
 * wipe the old one instead.  Private to lib/stack.
 */
#ifndef ROTARR_WIPE_BUF_H
#define ROTARR_WIPE_BUF_H

#include <stddef.h>

#include "rotarr/buf.h"
#include "rotarr/error.h"

/* Appends n bytes and a NUL like rotarr_buf_append.  Returns 0, or -1 with
 * err set when memory runs out. */
int rotarr_wipe_buf_append(struct rotarr_buf *buf, const void *bytes, size_t n,
                           struct rotarr_error *err);

/* Wipes all cap bytes, frees them and leaves buf as ROTARR_BUF_INIT. */
void rotarr_wipe_buf_release(struct rotarr_buf *buf);

#endif
