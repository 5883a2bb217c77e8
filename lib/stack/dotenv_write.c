#include "rotarr/compat.h"

#include <string.h>

#include "rotarr/dotenv.h"
#include "wipe_buf.h"

/* Bytes that Compose reads unquoted as themselves, wherever they stand. */
static int is_bare_byte(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || memchr("_.~+=,/:@%-", c, 11) != NULL;
}

/* An empty value is never bare: written before " # comment", the blanks
 * after '=' would be skipped and the comment read as the value. */
static int is_bare(const char *value, size_t len)
{
    size_t i;

    if (len == 0) {
        return 0;
    }
    for (i = 0; i < len; i++) {
        if (!is_bare_byte((unsigned char)value[i])) {
            return 0;
        }
    }
    return 1;
}

/*
 * Single quotes carry a value unless a backslash is right before a quote or
 * at the end: Compose's scanner would read that backslash and the quote
 * after it as an escaped quote.
 */
static int fits_single(const char *value, size_t len)
{
    size_t i;

    if (len > 0 && value[len - 1] == '\\') {
        return 0;
    }
    for (i = 0; i + 1 < len; i++) {
        if (value[i] == '\\' && value[i + 1] == '\'') {
            return 0;
        }
    }
    return memchr(value, '\n', len) == NULL;
}

static int put(struct rotarr_buf *out, const char *bytes, size_t n,
               struct rotarr_error *err)
{
    return rotarr_wipe_buf_append(out, bytes, n, err);
}

static int write_single(const char *value, size_t len, struct rotarr_buf *out,
                        struct rotarr_error *err)
{
    const char *quote;
    size_t i = 0;
    size_t q;

    if (put(out, "'", 1, err) < 0) {
        return -1;
    }
    while ((quote = memchr(value + i, '\'', len - i)) != NULL) {
        q = (size_t)(quote - value);
        if (put(out, value + i, q - i, err) < 0 ||
            put(out, "\\'", 2, err) < 0) {
            return -1;
        }
        i = q + 1;
    }
    if (put(out, value + i, len - i, err) < 0) {
        return -1;
    }
    return put(out, "'", 1, err);
}

static int write_double(const char *value, size_t len, struct rotarr_buf *out,
                        struct rotarr_error *err)
{
    static const char special[] = "\\\"$\n\r";
    static const char *const escaped[] = {"\\\\", "\\\"", "\\$", "\\n", "\\r"};
    const char *hit;
    size_t i;
    int ret = put(out, "\"", 1, err);

    for (i = 0; i < len && ret == 0; i++) {
        hit = value[i] != '\0' ? memchr(special, value[i], 5) : NULL;
        if (hit != NULL) {
            ret = put(out, escaped[hit - special], 2, err);
        } else {
            ret = put(out, value + i, 1, err);
        }
    }
    return ret < 0 ? -1 : put(out, "\"", 1, err);
}

int rotarr_dotenv_encode_value(const char *value, size_t len,
                               enum rotarr_quote current,
                               struct rotarr_buf *out, struct rotarr_error *err)
{
    int has_dollar = memchr(value, '$', len) != NULL;

    if (memchr(value, '\0', len) != NULL) {
        return rotarr_error_set(err, ROTARR_EUSAGE,
                                "the value contains a NUL byte, which no "
                                "environment variable can carry");
    }
    if (current == ROTARR_QUOTE_NONE && is_bare(value, len)) {
        return put(out, value, len, err);
    }
    if (!fits_single(value, len) ||
        (current == ROTARR_QUOTE_DOUBLE && !has_dollar)) {
        return write_double(value, len, out, err);
    }
    return write_single(value, len, out, err);
}
