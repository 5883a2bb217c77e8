#include "rotarr/compat.h"

#include <stdint.h>
#include <string.h>

#include "rotarr/url.h"

static const char upper_hex[] = "0123456789ABCDEF";

static int is_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
           || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_'
           || c == '~';
}

int rotarr_url_encode_userinfo(const char *s, size_t len,
                               struct rotarr_buf *out,
                               struct rotarr_error *err)
{
    size_t i;

    if (len > SIZE_MAX / 3) {
        return rotarr_error_set(err, ROTARR_EFILE, "URL text too long");
    }
    if (rotarr_buf_grow(out, len * 3, err) < 0) {
        return -1;
    }
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];

        if (is_unreserved(c)) {
            out->data[out->len++] = (char)c;
        } else {
            out->data[out->len++] = '%';
            out->data[out->len++] = upper_hex[c >> 4];
            out->data[out->len++] = upper_hex[c & 0x0f];
        }
    }
    out->data[out->len] = '\0';
    return 0;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

int rotarr_url_decode(const char *s, size_t len, struct rotarr_buf *out,
                      struct rotarr_error *err)
{
    size_t i;
    int high;
    int low;

    if (rotarr_buf_grow(out, len, err) < 0) {
        return -1;
    }
    for (i = 0; i < len; i++) {
        if (s[i] != '%') {
            out->data[out->len++] = s[i];
            continue;
        }
        high = i + 2 < len ? hex_value(s[i + 1]) : -1;
        low = i + 2 < len ? hex_value(s[i + 2]) : -1;
        if (high < 0 || low < 0 || (high | low) == 0) {
            out->data[out->len] = '\0';
            return rotarr_error_set(err, ROTARR_EFILE,
                                    "invalid percent-encoding at byte %zu "
                                    "of a URL part; write '%%' as '%%25'",
                                    i);
        }
        out->data[out->len++] = (char)(high << 4 | low);
        i += 2;
    }
    out->data[out->len] = '\0';
    return 0;
}

/*
 * Returns the index after the token at i: a whole ${...} expression
 * (nested ones included), "$$", or one byte.  An expression that is not
 * closed ends before the next line break, or at limit.
 */
static size_t next_token(const char *text, size_t i, size_t limit)
{
    size_t depth = 0;

    if (text[i] != '$' || i + 1 >= limit) {
        return i + 1;
    }
    if (text[i + 1] == '$') {
        return i + 2;
    }
    if (text[i + 1] != '{') {
        return i + 1;
    }
    while (i < limit && text[i] != '\n' && text[i] != '\r') {
        if (text[i] == '$' && i + 1 < limit && text[i + 1] == '{') {
            depth++;
            i += 2;
            continue;
        }
        if (text[i] == '}' && --depth == 0) {
            return i + 1;
        }
        i++;
    }
    return i;
}

/* Returns 1 when c, not NUL, is one of the bytes of set.  URLs are
 * searched in every value of a stack, so this is a plain loop rather
 * than a strchr() call per byte. */
static int byte_in(char c, const char *set)
{
    for (; *set != '\0'; set++) {
        if (*set == c) {
            return 1;
        }
    }
    return 0;
}

/* Returns the first plain byte of set in [i, limit), or limit. */
static size_t find_first(const char *text, size_t i, size_t limit,
                         const char *set)
{
    size_t next;

    while (i < limit) {
        next = next_token(text, i, limit);
        if (next == i + 1 && byte_in(text[i], set)) {
            return i;
        }
        i = next;
    }
    return limit;
}

/* Returns the last plain byte c in [i, limit), or limit. */
static size_t find_last(const char *text, size_t i, size_t limit, char c)
{
    size_t found = limit;
    size_t next;

    while (i < limit) {
        next = next_token(text, i, limit);
        if (next == i + 1 && text[i] == c) {
            found = i;
        }
        i = next;
    }
    return found;
}

static int ends_url(unsigned char c)
{
    return c <= ' ' || c == 0x7f || c == '"' || c == '\'' || c == '`' ||
           c == '<' || c == '>';
}

static size_t find_url_end(const char *text, size_t i, size_t len)
{
    size_t next;

    while (i < len) {
        next = next_token(text, i, len);
        if (next == i + 1 && ends_url((unsigned char)text[i])) {
            return i;
        }
        i = next;
    }
    return len;
}

static size_t scheme_length(const char *text, size_t len)
{
    size_t i = 0;
    char c;

    while (i < len) {
        c = text[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
              || (i > 0 && ((c >= '0' && c <= '9') || c == '+' || c == '-'
                            || c == '.')))) {
            break;
        }
        i++;
    }
    if (i == 0 || len - i < 3 || memcmp(text + i, "://", 3) != 0) {
        return 0;
    }
    return i;
}

/* Parses [start, limit) as a port: digits, a variable, or nothing. */
static int parse_port(const char *text, size_t start, size_t limit,
                      int *port)
{
    long value = 0;
    size_t i;

    *port = -1;
    if (start == limit || text[start] == '$') {
        return 0;
    }
    if (limit - start > 5) {
        return -1;
    }
    for (i = start; i < limit; i++) {
        if (text[i] < '0' || text[i] > '9') {
            return -1;
        }
        value = value * 10 + (text[i] - '0');
    }
    if (value > 65535) {
        return -1;
    }
    *port = (int)value;
    return 0;
}

static int parse_host(const char *text, struct rotarr_url_parts *parts)
{
    size_t limit = parts->path_start;
    size_t start = parts->host_start;
    size_t colon;

    if (start < limit && text[start] == '[') {
        colon = find_first(text, start, limit, "]");
        if (colon == limit) {
            return -1;
        }
        parts->host_end = colon + 1;
        if (parts->host_end == limit) {
            parts->port = -1;
            return 0;
        }
        if (text[parts->host_end] != ':') {
            return -1;
        }
        return parse_port(text, parts->host_end + 1, limit, &parts->port);
    }
    colon = find_last(text, start, limit, ':');
    parts->host_end = colon;
    if (colon == limit) {
        parts->port = -1;
        return 0;
    }
    return parse_port(text, colon + 1, limit, &parts->port);
}

static void parse_userinfo(const char *text, size_t start, size_t at,
                           struct rotarr_url_parts *parts)
{
    size_t colon = find_first(text, start, at, ":");

    parts->has_userinfo = 1;
    parts->user_start = start;
    parts->user_end = colon;
    parts->has_password = colon < at;
    parts->password_start = colon < at ? colon + 1 : colon;
    parts->password_end = at;
    parts->host_start = at + 1;
}

int rotarr_url_parse(const char *text, size_t len,
                     struct rotarr_url_parts *parts)
{
    size_t authority;
    size_t at;

    memset(parts, 0, sizeof(*parts));
    parts->port = -1;
    parts->scheme_end = scheme_length(text, len);
    if (parts->scheme_end == 0) {
        return -1;
    }
    authority = parts->scheme_end + 3;
    parts->end = find_url_end(text, authority, len);
    parts->path_start = find_first(text, authority, parts->end, "/?#");

    at = find_last(text, authority, parts->path_start, '@');
    if (at < parts->path_start) {
        parse_userinfo(text, authority, at, parts);
    } else {
        parts->user_start = parts->user_end = authority;
        parts->password_start = parts->password_end = authority;
        parts->host_start = authority;
    }
    return parse_host(text, parts);
}
