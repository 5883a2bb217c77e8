#include "rotarr/compat.h"

#include <stdio.h>
#include <string.h>

#include "rotarr/yamldoc.h"
#include "yamldoc_private.h"

/* Words that YAML 1.1 or 1.2 reads as null or a boolean when plain. */
static const char *const special_words[] = {
    "~",     "null",  "Null",  "NULL", "y",   "Y",   "yes", "Yes",
    "YES",   "n",     "N",     "no",   "No",  "NO",  "true", "True",
    "TRUE",  "false", "False", "FALSE", "on", "On",  "ON",  "off",
    "Off",   "OFF",   "=",     "<<",   ".inf", ".Inf", ".INF", ".nan",
    ".NaN",  ".NAN",
};

static int is_special_word(const char *s, size_t len)
{
    size_t i;

    if (len > 0 && (s[0] == '+' || s[0] == '-')) {
        s++;
        len--;
    }
    for (i = 0; i < sizeof(special_words) / sizeof(special_words[0]); i++) {
        if (strlen(special_words[i]) == len &&
            memcmp(special_words[i], s, len) == 0) {
            return 1;
        }
    }
    return 0;
}

/*
 * Returns 1 when s might be read as a number (decimal, octal, hex, binary,
 * float, YAML 1.1 base 60) or a timestamp.  It errs on the side of yes:
 * any text that starts with a digit or '.' and uses only characters of
 * such forms counts.
 */
static int looks_numeric(const char *s, size_t len)
{
    size_t i = 0;

    if (len > 0 && (s[0] == '+' || s[0] == '-')) {
        i++;
    }
    if (i >= len || !((s[i] >= '0' && s[i] <= '9') || s[i] == '.')) {
        return 0;
    }
    for (; i < len; i++) {
        if (strchr("0123456789abcdefABCDEFxXoO._:+-", s[i]) == NULL) {
            return 0;
        }
    }
    return 1;
}

/* Returns 1 when s holds a byte that only double quotes can carry: a
 * control character (C0 or C1), one of the Unicode line breaks, the BOM,
 * or U+FFFE or U+FFFF, which a YAML reader refuses as they are. */
static int needs_double(const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i;

    for (i = 0; i < len; i++) {
        if (u[i] < 0x20 || u[i] == 0x7F) {
            return 1;
        }
        if (u[i] == 0xC2 && i + 1 < len && u[i + 1] <= 0x9F) {
            return 1; /* C1 controls, NEL among them */
        }
        if (u[i] == 0xEF && i + 2 < len && u[i + 1] == 0xBF &&
            u[i + 2] >= 0xBE) {
            return 1; /* U+FFFE, U+FFFF */
        }
        if (u[i] == 0xE2 && i + 2 < len && u[i + 1] == 0x80 &&
            (u[i + 2] == 0xA8 || u[i + 2] == 0xA9)) {
            return 1; /* LS, PS */
        }
        if (u[i] == 0xEF && i + 2 < len && u[i + 1] == 0xBB &&
            u[i + 2] == 0xBF) {
            return 1; /* BOM */
        }
    }
    return 0;
}

/* Returns 1 when s reads back as the same string when written plain, in
 * block and in flow context alike. */
static int plain_safe(const char *s, size_t len)
{
    size_t i;

    if (len == 0 || needs_double(s, len) || is_special_word(s, len) ||
        looks_numeric(s, len)) {
        return 0;
    }
    if (strchr("?:,[]{}#&*!|>'\"%@` \t", s[0]) != NULL) {
        return 0;
    }
    if (s[0] == '-' && (len == 1 || s[1] == ' ' || s[1] == '-')) {
        return 0;
    }
    if (s[len - 1] == ' ' || s[len - 1] == ':') {
        return 0;
    }
    for (i = 0; i < len; i++) {
        if (strchr(",[]{}\t", s[i]) != NULL) {
            return 0;
        }
        if (i + 1 < len && ((s[i] == ':' && s[i + 1] == ' ') ||
                            (s[i] == ' ' && s[i + 1] == '#'))) {
            return 0;
        }
    }
    return 1;
}

static int put_single(const char *s, size_t len, struct rotarr_buf *out,
                      struct rotarr_error *err)
{
    size_t i;

    if (rotarr_buf_append(out, "'", 1, err) < 0) {
        return -1;
    }
    for (i = 0; i < len; i++) {
        if (s[i] == '\'' && rotarr_buf_append(out, "'", 1, err) < 0) {
            return -1;
        }
        if (rotarr_buf_append(out, &s[i], 1, err) < 0) {
            return -1;
        }
    }
    return rotarr_buf_append(out, "'", 1, err);
}

/* Returns the escape for the byte sequence at s, or NULL to copy s[0]. */
static const char *double_escape(const unsigned char *s, size_t left,
                                 size_t *used, char *hex, size_t hex_size)
{
    static const char *const named[0x20] = {
        ['\0'] = "\\0", ['\a'] = "\\a", ['\b'] = "\\b", ['\t'] = "\\t",
        ['\n'] = "\\n", ['\v'] = "\\v", ['\f'] = "\\f", ['\r'] = "\\r",
        [0x1B] = "\\e",
    };

    *used = 1;
    if (s[0] == '\\') {
        return "\\\\";
    }
    if (s[0] == '"') {
        return "\\\"";
    }
    if (s[0] < 0x20 && named[s[0]] != NULL) {
        return named[s[0]];
    }
    if (s[0] < 0x20 || s[0] == 0x7F) {
        snprintf(hex, hex_size, "\\x%02X", s[0]);
        return hex;
    }
    if (s[0] == 0xC2 && left > 1 && s[1] == 0x85) {
        *used = 2;
        return "\\N";
    }
    if (s[0] == 0xC2 && left > 1 && s[1] <= 0x9F) {
        *used = 2;
        snprintf(hex, hex_size, "\\x%02X", s[1]);
        return hex;
    }
    if (s[0] == 0xEF && left > 2 && s[1] == 0xBF && s[2] >= 0xBE) {
        *used = 3;
        return s[2] == 0xBE ? "\\uFFFE" : "\\uFFFF";
    }
    if (s[0] == 0xE2 && left > 2 && s[1] == 0x80 &&
        (s[2] == 0xA8 || s[2] == 0xA9)) {
        *used = 3;
        return s[2] == 0xA8 ? "\\L" : "\\P";
    }
    if (s[0] == 0xEF && left > 2 && s[1] == 0xBB && s[2] == 0xBF) {
        *used = 3;
        return "\\uFEFF";
    }
    return NULL;
}

static int put_double(const char *s, size_t len, struct rotarr_buf *out,
                      struct rotarr_error *err)
{
    const unsigned char *u = (const unsigned char *)s;
    const char *escape;
    char hex[8];
    size_t used;
    size_t i = 0;

    if (rotarr_buf_append(out, "\"", 1, err) < 0) {
        return -1;
    }
    while (i < len) {
        escape = double_escape(u + i, len - i, &used, hex, sizeof(hex));
        if (escape != NULL ? rotarr_buf_puts(out, escape, err) < 0
                           : rotarr_buf_append(out, &s[i], 1, err) < 0) {
            return -1;
        }
        i += used;
    }
    return rotarr_buf_append(out, "\"", 1, err);
}

int rotarr_yaml_encode_scalar(const char *value, size_t len,
                              enum rotarr_yscalar_style current,
                              struct rotarr_buf *out,
                              struct rotarr_error *err)
{
    if (yutf8_invalid_offset(value, len) < len) {
        return rotarr_error_set(err, ROTARR_EUSAGE,
                                "new YAML value is not valid UTF-8; "
                                "use UTF-8 text");
    }
    if (current == ROTARR_YSTYLE_PLAIN && plain_safe(value, len)) {
        return rotarr_buf_append(out, value, len, err);
    }
    if (current == ROTARR_YSTYLE_DOUBLE || needs_double(value, len)) {
        return put_double(value, len, out, err);
    }
    return put_single(value, len, out, err);
}
