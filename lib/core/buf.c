#include "rotarr/compat.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rotarr/buf.h"

int rotarr_buf_grow(struct rotarr_buf *buf, size_t n,
                    struct rotarr_error *err)
{
    size_t need;
    size_t cap;
    char *data;

    if (n > SIZE_MAX - buf->len - 1) {
        return rotarr_error_set(err, ROTARR_EFILE, "buffer size overflow");
    }
    need = buf->len + n + 1;
    if (need <= buf->cap) {
        return 0;
    }
    cap = buf->cap > 0 ? buf->cap : 64;
    while (cap < need) {
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    }
    data = realloc(buf->data, cap);
    if (data == NULL) {
        return rotarr_error_set(err, ROTARR_EFILE, "out of memory");
    }
    buf->data = data;
    buf->cap = cap;
    return 0;
}

int rotarr_buf_append(struct rotarr_buf *buf, const void *bytes, size_t n,
                      struct rotarr_error *err)
{
    if (rotarr_buf_grow(buf, n, err) < 0) {
        return -1;
    }
    if (n > 0) {
        memcpy(buf->data + buf->len, bytes, n);
    }
    buf->len += n;
    buf->data[buf->len] = '\0';
    return 0;
}

int rotarr_buf_puts(struct rotarr_buf *buf, const char *s,
                    struct rotarr_error *err)
{
    return rotarr_buf_append(buf, s, strlen(s), err);
}

int rotarr_buf_printf(struct rotarr_buf *buf, struct rotarr_error *err,
                      const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        return rotarr_error_set(err, ROTARR_EFILE, "invalid format");
    }
    if (rotarr_buf_grow(buf, (size_t)n, err) < 0) {
        return -1;
    }
    va_start(ap, fmt);
    vsnprintf(buf->data + buf->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    buf->len += (size_t)n;
    return 0;
}

void rotarr_buf_reset(struct rotarr_buf *buf)
{
    buf->len = 0;
    if (buf->data != NULL) {
        buf->data[0] = '\0';
    }
}

char *rotarr_buf_detach(struct rotarr_buf *buf, size_t *len)
{
    char *data = buf->data;

    if (data == NULL) {
        data = calloc(1, 1);
    }
    if (len != NULL) {
        *len = buf->len;
    }
    buf->data = NULL;
    buf->len = 0;
    buf->cap = 0;
    return data;
}

void rotarr_buf_release(struct rotarr_buf *buf)
{
    free(buf->data);
    buf->data = NULL;
    buf->len = 0;
    buf->cap = 0;
}
