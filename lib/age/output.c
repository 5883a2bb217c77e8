/*
 * Writing an age file, binary or in the ASCII armor: 64-column lines of
 * padded base64 between the BEGIN and END lines, the last line 1 to 64
 * columns long, never an empty line, LF line ends.
 */
#include "rotarr/compat.h"

#include <string.h>

#include "age_private.h"

/* Armor lines encoded per write to the sink. */
#define BATCH_LINES 64

int age_output_begin(struct age_output *out,
                     const struct rotarr_age_sink *sink, int armored,
                     struct rotarr_error *err)
{
    memset(out, 0, sizeof(*out));
    out->sink = sink;
    out->armored = armored;
    if (!armored) {
        return 0;
    }
    return sink->write(sink->ctx, AGE_ARMOR_BEGIN "\n",
                       strlen(AGE_ARMOR_BEGIN "\n"), err);
}

/* Appends the armor line of n bytes (at most 48) to text; returns its
 * length. */
static size_t encode_line(const unsigned char *bytes, size_t n, char *text)
{
    size_t len = rotarr_age_b64_len(n, 1);

    rotarr_age_b64_encode(bytes, n, 1, text);
    text[len] = '\n';
    return len + 1;
}

/* Writes the whole lines of the n bytes at bytes; returns the bytes used. */
static size_t write_lines(struct age_output *out, const unsigned char *bytes,
                          size_t n, int *status, struct rotarr_error *err)
{
    char text[BATCH_LINES * (AGE_COLUMNS + 1) + 1];
    size_t used = 0, len = 0;

    while (n - used >= AGE_LINE_BYTES && *status == 0) {
        len += encode_line(bytes + used, AGE_LINE_BYTES, text + len);
        used += AGE_LINE_BYTES;
        if (len + AGE_COLUMNS + 1 > sizeof(text) - 1 ||
            n - used < AGE_LINE_BYTES) {
            *status = out->sink->write(out->sink->ctx, text, len, err);
            len = 0;
        }
    }
    return used;
}

int age_output_write(struct age_output *out, const void *bytes, size_t len,
                     struct rotarr_error *err)
{
    const unsigned char *p = bytes;
    size_t take;
    int status = 0;

    if (!out->armored) {
        return out->sink->write(out->sink->ctx, bytes, len, err);
    }
    if (out->pending_len > 0) {
        take = AGE_LINE_BYTES - out->pending_len;
        take = take < len ? take : len;
        memcpy(out->pending + out->pending_len, p, take);
        out->pending_len += take;
        p += take;
        len -= take;
        if (out->pending_len < AGE_LINE_BYTES) {
            return 0;
        }
        write_lines(out, out->pending, AGE_LINE_BYTES, &status, err);
        out->pending_len = 0;
        if (status != 0) {
            return status;
        }
    }
    take = write_lines(out, p, len, &status, err);
    if (status != 0) {
        return status;
    }
    memcpy(out->pending, p + take, len - take);
    out->pending_len = len - take;
    return status;
}

int age_output_finish(struct age_output *out, struct rotarr_error *err)
{
    char text[AGE_COLUMNS + 2 + sizeof(AGE_ARMOR_END "\n")];
    size_t len = 0;

    if (!out->armored) {
        return 0;
    }
    if (out->pending_len > 0) {
        len = encode_line(out->pending, out->pending_len, text);
        out->pending_len = 0;
    }
    memcpy(text + len, AGE_ARMOR_END "\n", strlen(AGE_ARMOR_END "\n"));
    len += strlen(AGE_ARMOR_END "\n");
    return out->sink->write(out->sink->ctx, text, len, err);
}
