#include "rotarr/compat.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "rotarr/error.h"

static void mark_truncated(struct rotarr_error *err)
{
    memcpy(err->msg + ROTARR_ERROR_MSG_MAX - 4, "...", 4);
}

int rotarr_error_set(struct rotarr_error *err, enum rotarr_status code,
                     const char *fmt, ...)
{
    va_list ap;
    int n;

    if (err == NULL) {
        return -1;
    }
    err->code = code;
    va_start(ap, fmt);
    n = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
    if (n < 0) {
        err->msg[0] = '\0';
    } else if ((size_t)n >= sizeof(err->msg)) {
        mark_truncated(err);
    }
    return -1;
}

int rotarr_error_prefix(struct rotarr_error *err, const char *fmt, ...)
{
    char prefix[ROTARR_ERROR_MSG_MAX];
    char joined[ROTARR_ERROR_MSG_MAX];
    va_list ap;
    int n;

    if (err == NULL) {
        return -1;
    }
    va_start(ap, fmt);
    n = vsnprintf(prefix, sizeof(prefix), fmt, ap);
    va_end(ap);
    if (n < 0) {
        return -1;
    }
    n = snprintf(joined, sizeof(joined), "%s: %s", prefix, err->msg);
    if (n < 0) {
        return -1;
    }
    memcpy(err->msg, joined, sizeof(err->msg));
    if ((size_t)n >= sizeof(err->msg)) {
        mark_truncated(err);
    }
    return -1;
}

void rotarr_error_clear(struct rotarr_error *err)
{
    if (err != NULL) {
        err->code = ROTARR_OK;
        err->msg[0] = '\0';
    }
}
