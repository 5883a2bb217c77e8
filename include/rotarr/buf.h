/*
 * A growable byte buffer for text that is not secret (file contents,
 * messages, JSON output).  data is always NUL-terminated after the first
 * append, so it can be used as a C string when it holds no NUL byte.
 * Secrets go in struct rotarr_secret instead (rotarr/secret.h).
 */
#ifndef ROTARR_BUF_H
#define ROTARR_BUF_H

#include <stddef.h>

#include "rotarr/error.h"

struct rotarr_buf {
    char *data;
    size_t len;
    size_t cap;
};

#define ROTARR_BUF_INIT { NULL, 0, 0 }

/* Makes room for n more bytes; returns 0, or -1 with err set on overflow. */
int rotarr_buf_grow(struct rotarr_buf *buf, size_t n,
                    struct rotarr_error *err);

/* Appends n bytes; returns 0, or -1 with err set when memory runs out. */
int rotarr_buf_append(struct rotarr_buf *buf, const void *bytes, size_t n,
                      struct rotarr_error *err);

/* Appends a NUL-terminated string. */
int rotarr_buf_puts(struct rotarr_buf *buf, const char *s,
                    struct rotarr_error *err);

/* Appends printf-formatted text. */
int rotarr_buf_printf(struct rotarr_buf *buf, struct rotarr_error *err,
                      const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Empties the buffer and keeps its memory. */
void rotarr_buf_reset(struct rotarr_buf *buf);

/*
 * Hands the bytes to the caller (to free with free()) and leaves buf
 * empty.  Returns an empty string rather than NULL for an empty buffer,
 * or NULL when memory runs out.
 */
char *rotarr_buf_detach(struct rotarr_buf *buf, size_t *len);

/* Frees the memory and leaves buf as ROTARR_BUF_INIT. */
void rotarr_buf_release(struct rotarr_buf *buf);

#endif
