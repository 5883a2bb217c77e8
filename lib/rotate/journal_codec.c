#include "rotarr/compat.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "rotarr/journal.h"
#include "journal_private.h"

#define FORMAT_WORD "rotarr-journal "
#define FORMAT_VERSION "1"
#define CHECKSUM_WORD "sha256 "
#define CHECKSUM_HEX_LEN (2 * crypto_hash_sha256_BYTES)

/* "sha256 " + hex digits + "\n" */
#define CHECKSUM_LINE_LEN (sizeof(CHECKSUM_WORD) - 1 + CHECKSUM_HEX_LEN + 1)

/* Room for the reason given inside a "corrupt" message. */
#define REASON_MAX 160

/*
 * Output of the encoder.  With data NULL it only counts, so that the
 * text can be built in one guarded allocation of the exact size and
 * never passes through a realloc that would leave copies behind.
 */
struct sink {
    char *data;
    size_t len;
    size_t cap;
    int overflow;
};

static void sink_put(struct sink *sink, const void *bytes, size_t n)
{
    if (sink->data != NULL) {
        if (n > sink->cap - sink->len) {
            sink->overflow = 1;
            return;
        }
        memcpy(sink->data + sink->len, bytes, n);
    }
    sink->len += n;
}

static void sink_puts(struct sink *sink, const char *text)
{
    sink_put(sink, text, strlen(text));
}

/* Bytes that stand for themselves in an encoded value. */
static int is_plain_byte(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || strchr("._~/:@+,=-", c) != NULL;
}

static void sink_encoded(struct sink *sink, const unsigned char *bytes,
                         size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    char escape[3];
    size_t i;

    for (i = 0; i < n; i++) {
        if (bytes[i] != '\0' && is_plain_byte(bytes[i])) {
            sink_put(sink, &bytes[i], 1);
            continue;
        }
        escape[0] = '%';
        escape[1] = hex[bytes[i] >> 4];
        escape[2] = hex[bytes[i] & 0x0f];
        sink_put(sink, escape, sizeof(escape));
    }
}

static void write_body(const struct rotarr_journal *j, struct sink *sink)
{
    size_t i;

    sink_puts(sink, FORMAT_WORD FORMAT_VERSION "\nkind ");
    sink_puts(sink, j->kind);
    sink_puts(sink, "\nstep ");
    sink_puts(sink, rotarr_step_name(j->step));
    sink_puts(sink, "\n");
    for (i = 0; i < j->nfields; i++) {
        sink_puts(sink, "field ");
        sink_puts(sink, j->fields[i].key);
        sink_puts(sink, " ");
        sink_encoded(sink, (const unsigned char *)j->fields[i].value,
                     strlen(j->fields[i].value));
        sink_puts(sink, "\n");
    }
    for (i = 0; i < j->nsecrets; i++) {
        sink_puts(sink, "secret ");
        sink_puts(sink, j->secrets[i].which);
        sink_puts(sink, " ");
        sink_encoded(sink,
                     (const unsigned char *)rotarr_secret_data(
                         j->secrets[i].secret),
                     rotarr_secret_len(j->secrets[i].secret));
        sink_puts(sink, "\n");
    }
}

/* Writes the hex SHA-256 of body into hex (CHECKSUM_HEX_LEN + 1 bytes). */
static void checksum_hex(const char *body, size_t len, char *hex)
{
    unsigned char digest[crypto_hash_sha256_BYTES];

    crypto_hash_sha256(digest, (const unsigned char *)body, len);
    sodium_bin2hex(hex, CHECKSUM_HEX_LEN + 1, digest, sizeof(digest));
}

struct rotarr_secret *rotarr_journal_encode(const struct rotarr_journal *j,
                                            struct rotarr_error *err)
{
    struct sink sink = { NULL, 0, 0, 0 };
    char hex[CHECKSUM_HEX_LEN + 1];
    struct rotarr_secret *text;

    write_body(j, &sink);
    text = rotarr_secret_alloc(sink.len + CHECKSUM_LINE_LEN, err);
    if (text == NULL) {
        return NULL;
    }
    sink.data = rotarr_secret_data(text);
    sink.cap = rotarr_secret_len(text);
    sink.len = 0;
    write_body(j, &sink);
    checksum_hex(sink.data, sink.len, hex);
    sink_puts(&sink, CHECKSUM_WORD);
    sink_puts(&sink, hex);
    sink_puts(&sink, "\n");
    if (sink.overflow || sink.len != sink.cap) {
        rotarr_secret_free(text);
        rotarr_error_set(err, ROTARR_EFILE,
                         "journal text changed size while encoding");
        return NULL;
    }
    return text;
}

static int corrupt(struct rotarr_error *err, const char *name,
                   const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int corrupt(struct rotarr_error *err, const char *name,
                   const char *fmt, ...)
{
    char reason[REASON_MAX];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);
    if (n < 0) {
        reason[0] = '\0';
    }
    return rotarr_error_set(err, ROTARR_EFILE,
                            "journal '%s' is corrupt (%s); inspect it and "
                            "do not delete it: the server may already use "
                            "a password that only this file records",
                            name, reason);
}

/* Checks the last line and returns the length of the text before it. */
static int verify_checksum(const char *text, size_t len, const char *name,
                           size_t *body_len, struct rotarr_error *err)
{
    char hex[CHECKSUM_HEX_LEN + 1];
    const char *line;

    if (len < CHECKSUM_LINE_LEN || text[len - 1] != '\n') {
        return corrupt(err, name, "it ends before its checksum line, so "
                       "a write was cut short");
    }
    *body_len = len - CHECKSUM_LINE_LEN;
    line = text + *body_len;
    if (memcmp(line, CHECKSUM_WORD, sizeof(CHECKSUM_WORD) - 1) != 0 ||
        (*body_len > 0 && text[*body_len - 1] != '\n')) {
        return corrupt(err, name, "its last line is not a checksum, so a "
                       "write was cut short");
    }
    checksum_hex(text, *body_len, hex);
    if (memcmp(line + sizeof(CHECKSUM_WORD) - 1, hex, CHECKSUM_HEX_LEN) != 0) {
        return corrupt(err, name, "its checksum does not match, so it was "
                       "cut short or edited");
    }
    return 0;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    return -1;
}

/* Decodes n encoded bytes into out (room for n bytes) and returns the
 * decoded length, or -1 for a byte or escape the encoder never writes. */
static long pct_decode(const char *src, size_t n, unsigned char *out)
{
    size_t i = 0;
    size_t len = 0;
    int high;
    int low;

    while (i < n) {
        if (src[i] != '%') {
            if (!is_plain_byte((unsigned char)src[i])) {
                return -1;
            }
            out[len++] = (unsigned char)src[i++];
            continue;
        }
        if (n - i < 3) {
            return -1;
        }
        high = hex_value(src[i + 1]);
        low = hex_value(src[i + 2]);
        if (high < 0 || low < 0) {
            return -1;
        }
        out[len++] = (unsigned char)(high << 4 | low);
        i += 3;
    }
    return (long)len;
}

/* One line split at its first two spaces: the record word, a key and
 * an encoded value. */
struct record {
    const char *word;
    size_t word_len;
    const char *key;
    size_t key_len;
    const char *value;
    size_t value_len;
    int has_key;
    int has_value;
};

static void split_record(const char *line, size_t len, struct record *r)
{
    const char *space = memchr(line, ' ', len);
    const char *end = line + len;

    memset(r, 0, sizeof(*r));
    r->word = line;
    r->word_len = space != NULL ? (size_t)(space - line) : len;
    if (space == NULL) {
        return;
    }
    r->has_key = 1;
    r->key = space + 1;
    space = memchr(r->key, ' ', (size_t)(end - r->key));
    r->key_len = space != NULL ? (size_t)(space - r->key)
                               : (size_t)(end - r->key);
    if (space != NULL) {
        r->has_value = 1;
        r->value = space + 1;
        r->value_len = (size_t)(end - r->value);
    }
}

static int record_is(const struct record *r, const char *word)
{
    return r->word_len == strlen(word) &&
           memcmp(r->word, word, r->word_len) == 0;
}

struct parser {
    struct rotarr_journal *j;
    const char *name;
    size_t lineno;
    int have_step;
    struct rotarr_error *err;
};

/* Copies a checked key into key (ROTARR_JOURNAL_KEY_MAX + 1 bytes). */
static int take_key(const struct parser *ps, const struct record *r,
                    char *key)
{
    if (!r->has_key || !r->has_value ||
        !journal_key_valid(r->key, r->key_len)) {
        return corrupt(ps->err, ps->name, "line %zu has an invalid key",
                       ps->lineno);
    }
    memcpy(key, r->key, r->key_len);
    key[r->key_len] = '\0';
    return 0;
}

static int parse_field(struct parser *ps, const struct record *r)
{
    char key[ROTARR_JOURNAL_KEY_MAX + 1];
    unsigned char *value = NULL;
    long len = -1;
    int ret = -1;

    if (take_key(ps, r, key) < 0) {
        return -1;
    }
    if (rotarr_journal_get(ps->j, key) != NULL) {
        return corrupt(ps->err, ps->name, "line %zu repeats field '%s'",
                       ps->lineno, key);
    }
    value = malloc(r->value_len + 1);
    if (value == NULL) {
        return rotarr_error_set(ps->err, ROTARR_EFILE, "out of memory");
    }
    len = pct_decode(r->value, r->value_len, value);
    if (len < 0 || len > ROTARR_JOURNAL_VALUE_MAX ||
        memchr(value, '\0', (size_t)len) != NULL) {
        corrupt(ps->err, ps->name, "line %zu has an invalid value",
                ps->lineno);
        goto out;
    }
    value[len] = '\0';
    ret = rotarr_journal_set(ps->j, key, (const char *)value, ps->err);

out:
    sodium_memzero(value, r->value_len + 1);
    free(value);
    return ret;
}

static int parse_secret(struct parser *ps, const struct record *r)
{
    char which[ROTARR_JOURNAL_KEY_MAX + 1];
    struct rotarr_secret *secret;
    long len;

    if (take_key(ps, r, which) < 0) {
        return -1;
    }
    if (rotarr_journal_secret(ps->j, which) != NULL) {
        return corrupt(ps->err, ps->name, "line %zu repeats secret '%s'",
                       ps->lineno, which);
    }
    secret = rotarr_secret_alloc(r->value_len, ps->err);
    if (secret == NULL) {
        return -1;
    }
    len = pct_decode(r->value, r->value_len,
                     (unsigned char *)rotarr_secret_data(secret));
    if (len < 0 || len > ROTARR_JOURNAL_SECRET_MAX) {
        rotarr_secret_free(secret);
        return corrupt(ps->err, ps->name, "line %zu has an invalid secret",
                       ps->lineno);
    }
    rotarr_secret_truncate(secret, (size_t)len);
    return journal_put_secret(ps->j, which, secret, ps->err);
}

static int parse_step(struct parser *ps, const struct record *r)
{
    enum rotarr_step step;

    if (ps->have_step || !r->has_key || r->has_value ||
        journal_step_from_name(r->key, r->key_len, &step) < 0) {
        return corrupt(ps->err, ps->name, "line %zu has an invalid step",
                       ps->lineno);
    }
    rotarr_journal_set_step(ps->j, step);
    ps->have_step = 1;
    return 0;
}

static int parse_record(struct parser *ps, const char *line, size_t len)
{
    struct record r;

    split_record(line, len, &r);
    if (record_is(&r, "field")) {
        return parse_field(ps, &r);
    }
    if (record_is(&r, "secret")) {
        return parse_secret(ps, &r);
    }
    if (record_is(&r, "step")) {
        return parse_step(ps, &r);
    }
    return corrupt(ps->err, ps->name, "line %zu has an unknown record",
                   ps->lineno);
}

/* Returns the next line of text[*pos..len) without its newline, or NULL
 * when the text has no further complete line. */
static const char *next_line(const char *text, size_t len, size_t *pos,
                             size_t *line_len)
{
    const char *line = text + *pos;
    const char *newline = memchr(line, '\n', len - *pos);

    if (newline == NULL) {
        return NULL;
    }
    *line_len = (size_t)(newline - line);
    *pos += *line_len + 1;
    return line;
}

static int is_version(const char *text, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++) {
        if (text[i] < '0' || text[i] > '9') {
            return 0;
        }
    }
    return len > 0 && len <= 8;
}

/* Checks the format line before anything else, so that a journal from a
 * newer rotarr is named as such and not as corrupt. */
static int check_format(const char *text, size_t len, const char *name,
                        struct rotarr_error *err)
{
    static const char word[] = FORMAT_WORD;
    static const char line[] = FORMAT_WORD FORMAT_VERSION "\n";
    const char *newline = memchr(text, '\n', len);
    size_t version_len;

    if (len >= sizeof(line) - 1 && memcmp(text, line, sizeof(line) - 1) == 0) {
        return 0;
    }
    if (newline == NULL || (size_t)(newline - text) < sizeof(word) - 1 ||
        memcmp(text, word, sizeof(word) - 1) != 0) {
        return corrupt(err, name, "its first line is not '" FORMAT_WORD
                       FORMAT_VERSION "'");
    }
    version_len = (size_t)(newline - text) - (sizeof(word) - 1);
    if (!is_version(text + sizeof(word) - 1, version_len)) {
        return corrupt(err, name, "its format version is invalid");
    }
    return rotarr_error_set(err, ROTARR_EFILE,
                            "journal '%s' has format %.*s, which this "
                            "rotarr cannot read; resume it with a newer "
                            "rotarr and do not delete it", name,
                            (int)version_len, text + sizeof(word) - 1);
}

/* Reads the format and kind lines and creates the journal. */
static int parse_header(struct parser *ps, const char *text, size_t len,
                        size_t *pos)
{
    char kind[ROTARR_JOURNAL_KEY_MAX + 1];
    const char *line;
    size_t line_len;
    struct record r;

    next_line(text, len, pos, &line_len);
    line = next_line(text, len, pos, &line_len);
    ps->lineno = 2;
    if (line != NULL) {
        split_record(line, line_len, &r);
    }
    if (line == NULL || !record_is(&r, "kind") || !r.has_key || r.has_value ||
        !journal_key_valid(r.key, r.key_len)) {
        return corrupt(ps->err, ps->name, "line 2 is not a valid kind");
    }
    memcpy(kind, r.key, r.key_len);
    kind[r.key_len] = '\0';
    ps->j = rotarr_journal_new(kind, ps->err);
    return ps->j != NULL ? 0 : -1;
}

struct rotarr_journal *rotarr_journal_decode(const char *text, size_t len,
                                             const char *name,
                                             struct rotarr_error *err)
{
    struct parser ps = { NULL, name, 0, 0, err };
    struct rotarr_journal *j = NULL;
    size_t body_len = 0;
    size_t pos = 0;
    size_t line_len;
    const char *line;

    if (check_format(text, len, name, err) < 0 ||
        verify_checksum(text, len, name, &body_len, err) < 0 ||
        parse_header(&ps, text, body_len, &pos) < 0) {
        return NULL;
    }
    while ((line = next_line(text, body_len, &pos, &line_len)) != NULL) {
        ps.lineno++;
        if (parse_record(&ps, line, line_len) < 0) {
            goto out;
        }
    }
    if (!ps.have_step) {
        corrupt(err, name, "it has no step line");
        goto out;
    }
    j = ps.j;
    ps.j = NULL;

out:
    rotarr_journal_free(ps.j);
    return j;
}
