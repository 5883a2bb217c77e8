#include "rotarr/compat.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "wipe_buf.h"

static int wipe_buf_grow(struct rotarr_buf *buf, size_t n,
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
    data = malloc(cap);
    if (data == NULL) {
        return rotarr_error_set(err, ROTARR_EFILE, "out of memory");
    }
    if (buf->data != NULL) {
        memcpy(data, buf->data, buf->len);
        sodium_memzero(buf->data, buf->cap);
        free(buf->data);
    }
    buf->data = data;
    buf->cap = cap;
    return 0;
}

int rotarr_wipe_buf_append(struct rotarr_buf *buf, const void *bytes, size_t n,
                           struct rotarr_error *err)
{
    if (wipe_buf_grow(buf, n, err) < 0) {
        return -1;
    }
    if (n > 0) {
        memcpy(buf->data + buf->len, bytes, n);
    }
    buf->len += n;
    buf->data[buf->len] = '\0';
    return 0;
}

void rotarr_wipe_buf_release(struct rotarr_buf *buf)
{
    if (buf->data != NULL) {
        sodium_memzero(buf->data, buf->cap);
    }
    rotarr_buf_release(buf);
}
