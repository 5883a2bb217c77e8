#include "rotarr/compat.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "rotarr/dotenv.h"
#include "dotenv_internal.h"
#include "wipe_buf.h"

/* Maximum length of a key quoted in an error message. */
#define DOTENV_MAX_QUOTED_NAME 200

struct dotenv_parser {
    struct rotarr_dotenv *env;
    const char *s; /* the object's copy of the file */
    size_t len;
    rotarr_lookup_fn lookup;
    void *ctx;
    const struct rotarr_dotenv *prior;
    /* Line bookkeeping: line is the line of offset counted, which only
     * moves forward. */
    size_t counted;
    size_t line;
    size_t line_start;
    struct rotarr_buf escaped; /* double-quoted text, "\$" as "$$" */
    struct rotarr_buf plain;   /* double-quoted text, "\$" as "$" */
    struct rotarr_buf value;   /* the value after interpolation */
    struct rotarr_error *err;
};

/* A key as scanned: [start, end) after trimming. */
struct dotenv_key {
    size_t start;
    size_t end;
    size_t stop; /* offset of the '=', ':' or line break; len at EOF */
};

/* Decodes one UTF-8 character as Go does: an invalid byte is U+FFFD of
 * width 1. */
static uint32_t decode_rune(const char *s, size_t p, size_t end, size_t *width)
{
    const unsigned char *u = (const unsigned char *)s + p;
    size_t avail = end - p;
    uint32_t cp;
    size_t n;
    size_t i;

    *width = 1;
    if (u[0] < 0x80) {
        return u[0];
    }
    if (u[0] >= 0xC2 && u[0] <= 0xDF) {
        n = 2;
        cp = u[0] & 0x1F;
    } else if (u[0] >= 0xE0 && u[0] <= 0xEF) {
        n = 3;
        cp = u[0] & 0x0F;
    } else if (u[0] >= 0xF0 && u[0] <= 0xF4) {
        n = 4;
        cp = u[0] & 0x07;
    } else {
        return 0xFFFD;
    }
    if (avail < n) {
        return 0xFFFD;
    }
    for (i = 1; i < n; i++) {
        if ((u[i] & 0xC0) != 0x80) {
            return 0xFFFD;
        }
        cp = cp << 6 | (u[i] & 0x3F);
    }
    if ((n == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
        (n == 4 && (cp < 0x10000 || cp > 0x10FFFF))) {
        return 0xFFFD;
    }
    *width = n;
    return cp;
}

/* The blanks that compose-go's scanner skips around keys and after '=':
 * white space other than line breaks (U+0085 and U+00A0 included). */
static int is_blank(uint32_t cp)
{
    return cp == '\t' || cp == '\v' || cp == '\f' || cp == '\r' || cp == ' ' ||
           cp == 0x85 || cp == 0xA0;
}

static size_t skip_blanks(const char *s, size_t p, size_t end)
{
    size_t width;

    while (p < end && is_blank(decode_rune(s, p, end, &width))) {
        p += width;
    }
    return p;
}

/* Returns the width of the white space character that ends s[begin,
 * end), or 0, decoding backwards as Go's utf8.DecodeLastRune does. */
static size_t trailing_space_width(const char *s, size_t begin, size_t end)
{
    size_t width;
    size_t n;

    for (n = 1; n <= 3 && n <= end - begin; n++) {
        if (n > 1 && ((unsigned char)s[end - n + 1] & 0xC0) != 0x80) {
            return 0;
        }
        if (((unsigned char)s[end - n] & 0xC0) != 0x80) {
            return rotarr_unicode_is_space(
                       decode_rune(s, end - n, end, &width)) &&
                           width == n
                       ? n
                       : 0;
        }
    }
    return 0;
}

static size_t trim_right_space(const char *s, size_t begin, size_t end)
{
    size_t width;

    while (end > begin && (width = trailing_space_width(s, begin, end)) > 0) {
        end -= width;
    }
    return end;
}

/* Skips white space (line breaks included) and '#' comment lines; returns
 * where the next statement starts, or the end of the text. */
static size_t statement_start(const char *s, size_t p, size_t end)
{
    const char *nl;
    size_t width;

    for (;;) {
        while (p < end &&
               rotarr_unicode_is_space(decode_rune(s, p, end, &width))) {
            p += width;
        }
        if (p == end || s[p] != '#') {
            return p;
        }
        nl = memchr(s + p, '\n', end - p);
        if (nl == NULL) {
            return end;
        }
        p = (size_t)(nl - s);
    }
}

/* Advances the line count to offset p (never backwards). */
static void count_lines(struct dotenv_parser *ps, size_t p)
{
    const char *nl;

    while (ps->counted < p &&
           (nl = memchr(ps->s + ps->counted, '\n', p - ps->counted)) != NULL) {
        ps->line++;
        ps->counted = (size_t)(nl - ps->s) + 1;
        ps->line_start = ps->counted;
    }
    if (ps->counted < p) {
        ps->counted = p;
    }
}

static int parse_error(struct dotenv_parser *ps, size_t p, const char *what)
{
    count_lines(ps, p);
    return rotarr_error_set(ps->err, ROTARR_EFILE, "%s:%zu: %s", ps->env->path,
                            ps->line, what);
}

/* Appends bytes quoted as Go's %q does for printable text. */
static int go_quote(struct rotarr_buf *out, const char *s, size_t n,
                    struct rotarr_error *err)
{
    static const char escapes[] = "\a\b\f\n\r\t\v";
    static const char letters[] = "abfnrtv";
    unsigned char c;
    const char *hit;
    size_t i;
    int ret = rotarr_buf_puts(out, "\"", err);

    for (i = 0; i < n && ret == 0; i++) {
        c = (unsigned char)s[i];
        hit = c != '\0' ? memchr(escapes, c, sizeof(escapes) - 1) : NULL;
        if (c == '"' || c == '\\') {
            ret = rotarr_buf_printf(out, err, "\\%c", c);
        } else if (hit != NULL) {
            ret = rotarr_buf_printf(out, err, "\\%c", letters[hit - escapes]);
        } else if (c < 0x20 || c == 0x7F) {
            ret = rotarr_buf_printf(out, err, "\\x%02x", c);
        } else {
            ret = rotarr_buf_append(out, &c, 1, err);
        }
    }
    return ret < 0 ? -1 : rotarr_buf_puts(out, "\"", err);
}

/*
 * Raises compose-go's error for a character that no key may hold (width
 * 0 for an invalid UTF-8 byte, shown as U+FFFD like Go).  The line is
 * quoted only up to its '=' or ':', so that no value reaches the message.
 */
static int bad_key_char(struct dotenv_parser *ps, size_t start, size_t bad,
                        size_t width)
{
    struct rotarr_buf quoted = ROTARR_BUF_INIT;
    const char *shown = width > 0 ? ps->s + bad : "\xEF\xBF\xBD";
    size_t end = start;
    int ret = -1;

    while (end < ps->len && ps->s[end] != '\n' && ps->s[end] != '=' &&
           ps->s[end] != ':' && end - start < DOTENV_MAX_QUOTED_NAME) {
        end++;
    }
    if (go_quote(&quoted, shown, width > 0 ? width : 3, ps->err) < 0 ||
        rotarr_buf_puts(&quoted, " in variable name ", ps->err) < 0 ||
        go_quote(&quoted, ps->s + start, end - start, ps->err) < 0) {
        goto out;
    }
    count_lines(ps, start);
    rotarr_error_set(ps->err, ROTARR_EFILE, "%s:%zu: unexpected character %s",
                     ps->env->path, ps->line, quoted.data);
out:
    rotarr_buf_release(&quoted);
    return ret;
}

static int is_key_char(uint32_t cp)
{
    return cp == '_' || cp == '.' || cp == '-' || cp == '[' || cp == ']' ||
           rotarr_unicode_is_alnum(cp);
}

/* Scans the key that starts at p up to its '=', ':' or line break.  With
 * none before the end of the text, the key is empty (see
 * parse_last_name). */
static int scan_key(struct dotenv_parser *ps, size_t p, struct dotenv_key *key)
{
    size_t q = p;
    size_t width;
    uint32_t cp;

    key->start = p;
    for (; q < ps->len; q += width) {
        cp = decode_rune(ps->s, q, ps->len, &width);
        if (cp == '=' || cp == ':' || cp == '\n') {
            break;
        }
        if (!is_blank(cp) && !is_key_char(cp)) {
            return bad_key_char(ps, p, q, cp == 0xFFFD ? 0 : width);
        }
    }
    key->stop = q;
    if (q == ps->len) {
        key->end = p;
        return 0;
    }
    key->end = trim_right_space(ps->s, p, q);
    if (memchr(ps->s + p, ' ', key->end - p) != NULL) {
        return parse_error(ps, p, "key cannot contain a space");
    }
    return 0;
}

static const char *parse_lookup(void *ctx, const char *name)
{
    struct dotenv_parser *ps = ctx;
    const char *value = NULL;

    if (ps->lookup != NULL) {
        value = ps->lookup(ps->ctx, name);
    }
    if (value == NULL) {
        value = rotarr_dotenv_own_value(ps->env, name);
    }
    if (value == NULL && ps->prior != NULL) {
        value = rotarr_dotenv_lookup((void *)ps->prior, name);
    }
    return value;
}

/* Interpolates text into ps->value; errors name the file, line and key. */
static int interpolate(struct dotenv_parser *ps, const char *text, size_t n,
                       const struct dotenv_key *key,
                       const struct rotarr_dotenv_entry *entry)
{
    int ret;

    rotarr_buf_reset(&ps->value);
    if (rotarr_wipe_buf_append(&ps->value, "", 0, ps->err) < 0) {
        return -1;
    }
    ret = rotarr_interp_expand(text, n, parse_lookup, ps, &ps->value, ps->err);
    if (ret < 0) {
        return rotarr_error_prefix(ps->err, "%s:%zu: '%.*s'", ps->env->path,
                                   entry->line, (int)(key->end - key->start),
                                   ps->s + key->start);
    }
    return 0;
}

static int add_entry(struct dotenv_parser *ps, const struct dotenv_key *key,
                     const struct rotarr_dotenv_entry *entry, const char *value,
                     size_t value_len)
{
    if (rotarr_dotenv_add(ps->env, entry, ps->s + key->start,
                          key->end - key->start, value, value_len,
                          ps->err) < 0) {
        return rotarr_error_prefix(ps->err, "%s:%zu", ps->env->path,
                                   entry->line);
    }
    return 0;
}

static int same_bytes(const struct rotarr_buf *buf, const char *s, size_t n)
{
    return buf->len == n && (n == 0 || memcmp(buf->data, s, n) == 0);
}

/* Reads an unquoted value from v to the end of its line. */
static int parse_unquoted(struct dotenv_parser *ps, size_t v,
                          const struct dotenv_key *key,
                          struct rotarr_dotenv_entry *entry, size_t *next)
{
    const char *nl = memchr(ps->s + v, '\n', ps->len - v);
    size_t line_end = nl != NULL ? (size_t)(nl - ps->s) : ps->len;
    const char *comment = memmem(ps->s + v, line_end - v, " #", 2);
    size_t end = comment != NULL ? (size_t)(comment - ps->s) : line_end;

    end = trim_right_space(ps->s, v, end);
    entry->quote = ROTARR_QUOTE_NONE;
    entry->value_start = v;
    entry->value_end = end;
    entry->hash_warning = memchr(ps->s + v, '#', end - v) != NULL;
    if (interpolate(ps, ps->s + v, end - v, key, entry) < 0) {
        return -1;
    }
    entry->dollar_changed = !same_bytes(&ps->value, ps->s + v, end - v);
    *next = line_end;
    return add_entry(ps, key, entry, ps->value.data, ps->value.len);
}

/* Returns the closing quote of the quoted value at v, or ps->len. */
static size_t closing_quote(const struct dotenv_parser *ps, size_t v)
{
    char quote = ps->s[v];
    int escaped = 0;
    size_t i;

    for (i = v + 1; i < ps->len; i++) {
        if (ps->s[i] != quote) {
            escaped = !escaped && ps->s[i] == '\\';
        } else if (escaped) {
            escaped = 0;
        } else {
            return i;
        }
    }
    return ps->len;
}

/* Decodes single-quoted text: only "\'" changes, into "'". */
static int decode_single(const char *s, size_t n, struct rotarr_buf *out,
                         struct rotarr_error *err)
{
    const char *bs;
    size_t i = 0;
    size_t b;

    rotarr_buf_reset(out);
    while ((bs = memchr(s + i, '\\', n - i)) != NULL) {
        b = (size_t)(bs - s);
        if (rotarr_wipe_buf_append(out, s + i, b - i, err) < 0) {
            return -1;
        }
        if (b + 1 < n && s[b + 1] == '\'') {
            i = b + 2;
            if (rotarr_wipe_buf_append(out, "'", 1, err) < 0) {
                return -1;
            }
        } else {
            i = b + 1;
            if (rotarr_wipe_buf_append(out, "\\", 1, err) < 0) {
                return -1;
            }
        }
    }
    return rotarr_wipe_buf_append(out, s + i, n - i, err);
}

/*
 * Decodes the "\0" octal escape at s[b] (b + 1 < n, s[b + 1] == '0') and
 * stores in *next the offset after it: compose-go takes up to three more
 * digits and turns exactly three octal digits of value 255 or less into
 * that code point; anything else stays as written.
 */
static int decode_octal(const char *s, size_t n, size_t b, size_t *next,
                        struct rotarr_buf *out, struct rotarr_error *err)
{
    size_t k = 0;
    unsigned value = 0;
    int octal = 1;
    unsigned char utf8[2];

    while (k < 3 && b + 2 + k < n && s[b + 2 + k] >= '0' &&
           s[b + 2 + k] <= '9') {
        octal = octal && s[b + 2 + k] <= '7';
        value = value * 8 + (unsigned)(s[b + 2 + k] - '0');
        k++;
    }
    *next = b + 2 + k;
    if (k < 3 || !octal || value > 255) {
        return rotarr_wipe_buf_append(out, s + b, 2 + k, err);
    }
    if (value < 0x80) {
        utf8[0] = (unsigned char)value;
        return rotarr_wipe_buf_append(out, utf8, 1, err);
    }
    utf8[0] = (unsigned char)(0xC0 | value >> 6);
    utf8[1] = (unsigned char)(0x80 | (value & 0x3F));
    return rotarr_wipe_buf_append(out, utf8, 2, err);
}

/* Decodes one backslash escape of double-quoted text at s[b] and stores
 * in *next the offset after it. */
static int decode_escape(const char *s, size_t n, size_t b,
                         int dollar_stays_escaped, size_t *next,
                         struct rotarr_buf *out, struct rotarr_error *err)
{
    static const char letters[] = "abfnrtv\\\"";
    static const char decoded[] = "\a\b\f\n\r\t\v\\\"";
    const char *hit;

    if (b + 1 < n && s[b + 1] == '0') {
        return decode_octal(s, n, b, next, out, err);
    }
    *next = b + 2;
    if (b + 1 < n && s[b + 1] == '$') {
        return rotarr_wipe_buf_append(out, "$$", dollar_stays_escaped ? 2 : 1,
                                      err);
    }
    hit = b + 1 < n && s[b + 1] != '\0' ? strchr(letters, s[b + 1]) : NULL;
    if (hit != NULL) {
        return rotarr_wipe_buf_append(out, decoded + (hit - letters), 1, err);
    }
    *next = b + 1;
    return rotarr_wipe_buf_append(out, "\\", 1, err);
}

/*
 * Decodes the escapes of double-quoted text.  With dollar_stays_escaped,
 * "\$" becomes "$$" so that interpolation keeps a literal '$', as
 * compose-go does; without it, "\$" becomes "$" (the text as written).
 */
static int decode_double(const char *s, size_t n, int dollar_stays_escaped,
                         struct rotarr_buf *out, struct rotarr_error *err)
{
    const char *bs;
    size_t i = 0;
    size_t b;

    rotarr_buf_reset(out);
    while ((bs = memchr(s + i, '\\', n - i)) != NULL) {
        b = (size_t)(bs - s);
        if (rotarr_wipe_buf_append(out, s + i, b - i, err) < 0) {
            return -1;
        }
        if (decode_escape(s, n, b, dollar_stays_escaped, &i, out, err) < 0) {
            return -1;
        }
    }
    return rotarr_wipe_buf_append(out, s + i, n - i, err);
}

static int unterminated(struct dotenv_parser *ps, size_t v,
                        const struct dotenv_key *key)
{
    count_lines(ps, v);
    return rotarr_error_set(ps->err, ROTARR_EFILE,
                            "%s:%zu: unterminated quoted value: the %c that "
                            "opens the value of '%.*s' is never closed",
                            ps->env->path, ps->line, ps->s[v],
                            (int)(key->end - key->start), ps->s + key->start);
}

static int parse_double(struct dotenv_parser *ps, const char *text, size_t n,
                        const struct dotenv_key *key,
                        struct rotarr_dotenv_entry *entry)
{
    if (decode_double(text, n, 1, &ps->escaped, ps->err) < 0 ||
        decode_double(text, n, 0, &ps->plain, ps->err) < 0 ||
        interpolate(ps, ps->escaped.data, ps->escaped.len, key, entry) < 0) {
        return -1;
    }
    entry->dollar_changed =
        !same_bytes(&ps->value, ps->plain.data, ps->plain.len);
    return 0;
}

/* Reads the quoted value that starts at v. */
static int parse_quoted(struct dotenv_parser *ps, size_t v,
                        const struct dotenv_key *key,
                        struct rotarr_dotenv_entry *entry, size_t *next)
{
    size_t close = closing_quote(ps, v);
    const char *text = ps->s + v + 1;
    size_t n = close - v - 1;

    if (close == ps->len) {
        return unterminated(ps, v, key);
    }
    entry->value_start = v;
    entry->value_end = close + 1;
    if (ps->s[v] == '\'') {
        entry->quote = ROTARR_QUOTE_SINGLE;
        if (decode_single(text, n, &ps->value, ps->err) < 0) {
            return -1;
        }
    } else {
        entry->quote = ROTARR_QUOTE_DOUBLE;
        if (parse_double(ps, text, n, key, entry) < 0) {
            return -1;
        }
    }
    *next = close + 1;
    return add_entry(ps, key, entry, ps->value.data, ps->value.len);
}

/* A key alone on its line takes its value from the shell lookup only. */
static int parse_inherited(struct dotenv_parser *ps,
                           const struct dotenv_key *key,
                           struct rotarr_dotenv_entry *entry, size_t *next)
{
    struct rotarr_buf name = ROTARR_BUF_INIT;
    const char *value = NULL;
    int ret;

    entry->inherited = 1;
    entry->value_start = key->end;
    entry->value_end = key->end;
    if (rotarr_buf_append(&name, ps->s + key->start, key->end - key->start,
                          ps->err) < 0) {
        return -1;
    }
    if (ps->lookup != NULL) {
        value = ps->lookup(ps->ctx, name.data);
    }
    rotarr_buf_release(&name);
    ret = add_entry(ps, key, entry, value, value != NULL ? strlen(value) : 0);
    *next = key->stop + 1;
    return ret;
}

/*
 * compose-go assigns a key only when it meets '=', ':' or a line break,
 * so a last line that contains only a name sets the empty key, and the name
 * becomes its unquoted value.  NEEDSWORK: this is read from compose-go's
 * scanner and was never observed on a run of Compose.
 */
static int parse_last_name(struct dotenv_parser *ps,
                           const struct dotenv_key *key,
                           struct rotarr_dotenv_entry *entry, size_t *next)
{
    return parse_unquoted(ps, key->start, key, entry, next);
}

static int is_export(const struct dotenv_parser *ps, size_t p)
{
    static const char blanks[] = "\t\n\f\r ";

    return ps->len - p > 6 && memcmp(ps->s + p, "export", 6) == 0 &&
           memchr(blanks, ps->s[p + 6], sizeof(blanks) - 1) != NULL;
}

/* Reads the statement that starts at *pos and moves *pos past it. */
static int parse_statement(struct dotenv_parser *ps, size_t *pos)
{
    struct rotarr_dotenv_entry entry;
    struct dotenv_key key;
    size_t p = *pos;

    memset(&entry, 0, sizeof(entry));
    if (is_export(ps, p)) {
        entry.exported = 1;
        p = skip_blanks(ps->s, p + 6, ps->len);
        if (p == ps->len) {
            return parse_error(ps, *pos,
                               "missing variable name after "
                               "'export'");
        }
    }
    count_lines(ps, p);
    entry.line = ps->line;
    entry.column = p - ps->line_start + 1;
    if (scan_key(ps, p, &key) < 0) {
        return -1;
    }
    if (key.stop == ps->len) {
        return parse_last_name(ps, &key, &entry, pos);
    }
    if (ps->s[key.stop] == '\n') {
        return parse_inherited(ps, &key, &entry, pos);
    }
    p = skip_blanks(ps->s, key.stop + 1, ps->len);
    if (p < ps->len && (ps->s[p] == '"' || ps->s[p] == '\'')) {
        return parse_quoted(ps, p, &key, &entry, pos);
    }
    return parse_unquoted(ps, p, &key, &entry, pos);
}

static int parse_all(struct dotenv_parser *ps)
{
    size_t pos = 0;

    if (ps->len >= 3 && memcmp(ps->s, "\xEF\xBB\xBF", 3) == 0) {
        pos = 3;
        ps->counted = 3;
        ps->line_start = 3;
    }
    for (;;) {
        pos = statement_start(ps->s, pos, ps->len);
        if (pos == ps->len) {
            return 0;
        }
        if (parse_statement(ps, &pos) < 0) {
            return -1;
        }
    }
}

struct rotarr_dotenv *rotarr_dotenv_parse(const char *path, const char *bytes,
                                          size_t len, rotarr_lookup_fn lookup,
                                          void *ctx,
                                          const struct rotarr_dotenv *prior,
                                          struct rotarr_error *err)
{
    struct dotenv_parser ps;
    struct rotarr_dotenv *env = NULL;
    int ret = -1;

    memset(&ps, 0, sizeof(ps));
    if (len > ROTARR_DOTENV_MAX_BYTES) {
        rotarr_error_set(err, ROTARR_EFILE,
                         "'%s' is larger than %zu MiB; an env file that "
                         "large is not supported",
                         path, ROTARR_DOTENV_MAX_BYTES >> 20);
        goto out;
    }
    env = rotarr_dotenv_new(path, bytes, len, err);
    if (env == NULL) {
        goto out;
    }
    ps.env = env;
    ps.s = env->bytes;
    ps.len = len;
    ps.lookup = lookup;
    ps.ctx = ctx;
    ps.prior = prior;
    ps.line = 1;
    ps.err = err;
    env->prior = prior;
    if (parse_all(&ps) < 0) {
        goto out;
    }
    rotarr_dotenv_finish(env);
    ret = 0;
out:
    rotarr_wipe_buf_release(&ps.escaped);
    rotarr_wipe_buf_release(&ps.plain);
    rotarr_wipe_buf_release(&ps.value);
    if (ret < 0) {
        rotarr_dotenv_free(env);
        return NULL;
    }
    return env;
}
