/*
 * Reading an age file: a buffer over the source and, for an armored
 * file, the strict PEM decoding that age applies.  That is RFC 7468 with
 * LF or CRLF line ends and 64-column lines of padded canonical base64,
 * with only whitespace around the BEGIN and END lines.
 */
#include "rotarr/compat.h"

#include <string.h>

#include "age_private.h"

void age_input_init(struct age_input *in, const struct rotarr_age_source *src)
{
    memset(in, 0, sizeof(*in));
    in->source = src;
}

static int armor_error(struct age_input *in, struct rotarr_error *err,
                       const char *what)
{
    in->failure = ROTARR_AGE_FAIL_ARMOR;
    return rotarr_error_set(err, ROTARR_EDECRYPT,
                            "invalid armor: line %lu: %s", in->armor_line,
                            what);
}

/* Reads more raw bytes after the buffered ones; returns their count, 0 at
 * the end of the source, or -1. */
static ssize_t raw_fill(struct age_input *in, struct rotarr_error *err)
{
    ssize_t n;

    if (in->raw_pos > 0) {
        memmove(in->raw, in->raw + in->raw_pos, in->raw_len - in->raw_pos);
        in->raw_len -= in->raw_pos;
        in->raw_pos = 0;
    }
    if (in->raw_eof || in->raw_len == sizeof(in->raw)) {
        return 0;
    }
    n = in->source->read(in->source->ctx, in->raw + in->raw_len,
                         sizeof(in->raw) - in->raw_len, err);
    if (n < 0) {
        in->failure = ROTARR_AGE_FAIL_IO;
        return -1;
    }
    if (n == 0) {
        in->raw_eof = 1;
    }
    in->raw_len += (size_t)n;
    return n;
}

static int is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/*
 * Finds the next raw line, at most max bytes before its LF, and stores
 * where it starts and its length without the line end; *ended is 0 when
 * the source ended before an LF.  Returns 1, 0 at the end of the source,
 * -2 for a longer line, or -1.
 */
static int raw_line(struct age_input *in, size_t max,
                    const unsigned char **line, size_t *len, int *ended,
                    struct rotarr_error *err)
{
    const unsigned char *start, *lf;
    size_t have;

    for (;;) {
        start = in->raw + in->raw_pos;
        have = in->raw_len - in->raw_pos;
        lf = memchr(start, '\n', have < max + 2 ? have : max + 2);
        if (lf != NULL || have > max + 1 || in->raw_eof) {
            break;
        }
        if (raw_fill(in, err) < 0) {
            return -1;
        }
    }
    if (lf == NULL && have > max) {
        return -2;
    }
    if (lf == NULL && have == 0) {
        return 0;
    }
    *line = start;
    *len = lf != NULL ? (size_t)(lf - start) : have;
    *ended = lf != NULL;
    in->raw_pos += *len + (lf != NULL);
    if (*ended && *len > 0 && start[*len - 1] == '\r') {
        (*len)--;
    }
    return *len > max ? -2 : 1;
}

/* After the END line: at most AGE_ARMOR_SPACE_MAX whitespace bytes. */
static int armor_trailer(struct age_input *in, struct rotarr_error *err)
{
    size_t seen = 0;
    ssize_t n = 1;

    while (n > 0) {
        for (; in->raw_pos < in->raw_len; in->raw_pos++, seen++) {
            if (!is_space(in->raw[in->raw_pos])) {
                return armor_error(in, err, "data after the END line");
            }
            if (seen == AGE_ARMOR_SPACE_MAX) {
                return armor_error(in, err, "more than 1024 bytes of "
                                   "whitespace after the END line");
            }
        }
        n = raw_fill(in, err);
    }
    return n < 0 ? -1 : 0;
}

static int armor_decode(struct age_input *in, const unsigned char *line,
                        size_t len, struct rotarr_error *err)
{
    if (len == 0) {
        return armor_error(in, err, "empty line");
    }
    if (in->armor_last) {
        return armor_error(in, err, "a short or padded line must be the "
                           "last one before the END line");
    }
    if (rotarr_age_b64_decode((const char *)line, len, 1, in->decoded,
                              sizeof(in->decoded), &in->dec_len) < 0) {
        return armor_error(in, err, "invalid base64 (64-column lines of "
                           "padded base64 expected)");
    }
    in->dec_pos = 0;
    in->armor_last = len < AGE_COLUMNS || in->dec_len < AGE_LINE_BYTES;
    return 0;
}

/* Decodes the next armor line into in->decoded. */
static int armor_next(struct age_input *in, struct rotarr_error *err)
{
    const unsigned char *line;
    size_t len;
    int ended, status;

    in->armor_line++;
    status = raw_line(in, AGE_COLUMNS, &line, &len, &ended, err);
    if (status == -2) {
        return armor_error(in, err, "longer than 64 columns");
    }
    if (status == 0) {
        return armor_error(in, err, "the END line is missing");
    }
    if (status < 0) {
        return -1;
    }
    if (len == strlen(AGE_ARMOR_END) &&
        memcmp(line, AGE_ARMOR_END, len) == 0) {
        in->armor_end = 1;
        in->dec_pos = in->dec_len = 0;
        return armor_trailer(in, err);
    }
    if (!ended) {
        return armor_error(in, err, "the END line is missing");
    }
    return armor_decode(in, line, len, err);
}

/*
 * Decides between armor and binary: armor when the input starts with
 * "-----" after at most AGE_ARMOR_SPACE_MAX whitespace bytes, as no
 * binary age file does, or always when armored is set.  Then checks the
 * BEGIN line.
 */
int age_input_detect_armor(struct age_input *in, int armored,
                           struct rotarr_error *err)
{
    const size_t begin_len = strlen(AGE_ARMOR_BEGIN);
    const unsigned char *line;
    size_t skip = 0, len;
    int ended, status;

    while (in->raw_len < AGE_ARMOR_SPACE_MAX + begin_len && !in->raw_eof) {
        if (raw_fill(in, err) < 0) {
            return -1;
        }
    }
    while (skip < in->raw_len && skip < AGE_ARMOR_SPACE_MAX &&
           is_space(in->raw[skip])) {
        skip++;
    }
    if (!armored && (in->raw_len - skip < 5 ||
                     memcmp(in->raw + skip, "-----", 5) != 0)) {
        return 0;
    }
    in->armored = 1;
    in->raw_pos = skip;
    in->armor_line = 1;
    status = raw_line(in, AGE_COLUMNS, &line, &len, &ended, err);
    if (status == -1) {
        return -1;
    }
    if (status != 1 || !ended || len != begin_len ||
        memcmp(line, AGE_ARMOR_BEGIN, begin_len) != 0) {
        return armor_error(in, err, "the BEGIN line must be exactly '"
                           AGE_ARMOR_BEGIN "'");
    }
    return 0;
}

/* Stores where the next bytes are; returns their count, 0 at the end of
 * the file, or -1. */
static ssize_t input_avail(struct age_input *in, const unsigned char **p,
                           struct rotarr_error *err)
{
    ssize_t n;

    if (!in->armored) {
        if (in->raw_pos == in->raw_len) {
            n = raw_fill(in, err);
            if (n <= 0) {
                return n;
            }
        }
        *p = in->raw + in->raw_pos;
        return (ssize_t)(in->raw_len - in->raw_pos);
    }
    while (in->dec_pos == in->dec_len) {
        if (in->armor_end) {
            return 0;
        }
        if (armor_next(in, err) < 0) {
            return -1;
        }
    }
    *p = in->decoded + in->dec_pos;
    return (ssize_t)(in->dec_len - in->dec_pos);
}

static void input_consume(struct age_input *in, size_t n)
{
    if (in->armored) {
        in->dec_pos += n;
    } else {
        in->raw_pos += n;
    }
}

/*
 * Reads one line, its LF included, into line (emptied first).  Returns 1
 * for a line (without an LF when the file ended first), 0 at the end of
 * the file, -2 when the line is longer than max bytes, or -1.
 */
int age_input_read_line(struct age_input *in, struct rotarr_buf *line,
                        size_t max, struct rotarr_error *err)
{
    const unsigned char *p, *lf;
    ssize_t n;
    size_t take;

    rotarr_buf_reset(line);
    for (;;) {
        n = input_avail(in, &p, err);
        if (n < 0) {
            return -1;
        }
        if (n == 0) {
            return line->len > 0;
        }
        lf = memchr(p, '\n', (size_t)n);
        take = lf != NULL ? (size_t)(lf - p) + 1 : (size_t)n;
        if (line->len + take > max + 1) {
            return -2;
        }
        if (rotarr_buf_append(line, p, take, err) < 0) {
            return -1;
        }
        input_consume(in, take);
        if (lf != NULL) {
            return 1;
        }
    }
}

/* Reads straight from the source into buf, bypassing the buffer. */
static int read_direct(struct age_input *in, unsigned char *buf, size_t len,
                       size_t *got, struct rotarr_error *err)
{
    ssize_t n;

    while (*got < len && !in->raw_eof) {
        n = in->source->read(in->source->ctx, buf + *got, len - *got, err);
        if (n < 0) {
            in->failure = ROTARR_AGE_FAIL_IO;
            return -1;
        }
        in->raw_eof = n == 0;
        *got += (size_t)n;
    }
    return 0;
}

/*
 * Reads len bytes into buf, fewer only when the file ends first, and
 * stores the count in *got.
 */
int age_input_read(struct age_input *in, unsigned char *buf, size_t len,
                   size_t *got, struct rotarr_error *err)
{
    const unsigned char *p;
    ssize_t n;
    size_t take;

    *got = 0;
    while (*got < len) {
        if (!in->armored && in->raw_pos == in->raw_len &&
            len - *got >= sizeof(in->raw)) {
            return read_direct(in, buf, len, got, err);
        }
        n = input_avail(in, &p, err);
        if (n < 0) {
            return -1;
        }
        if (n == 0) {
            break;
        }
        take = (size_t)n < len - *got ? (size_t)n : len - *got;
        memcpy(buf + *got, p, take);
        input_consume(in, take);
        *got += take;
    }
    return 0;
}
