#include "rotarr/compat.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "guard_private.h"
#include "rotarr/guard.h"
#include "rotarr/url.h"

#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

/* Parts of a file name that mark an example env file. */
static const char *const example_words[] = {
    "dist", "example", "sample", "template", "tmpl",
};

static const char *const placeholder_prefixes[] = {
    "changeme", "change_me", "change-me", "changethis", "change_this",
    "change-this", "example", "placeholder", "replace", "your", "xxx",
    "dummy", "fixme", "todo", "insert",
};

static const char *const guessed_values[] = {
    "password", "passw0rd", "secret", "12345678", "123456789", "1234567890",
};

static const char *const credential_words[] = {
    "PASS", "PWD", "SECRET", "TOKEN", "KEY", "SALT", "CREDENTIAL",
    "PRIVATE", "AUTH", "DSN",
};

/* Returns 1 when the dot-separated part [start, end) of name is word. */
static int part_is(const char *start, const char *end, const char *word)
{
    size_t len = (size_t)(end - start);

    return len == strlen(word) && strncasecmp(start, word, len) == 0;
}

static int part_is_example(const char *start, const char *end)
{
    size_t i;

    for (i = 0; i < COUNT_OF(example_words); i++) {
        if (part_is(start, end, example_words[i])) {
            return 1;
        }
    }
    return 0;
}

/*
 * Splits the base name at dots.  It names an env file when it is ".env",
 * starts with ".env.", ends with ".env", or ends with ".env.<example
 * word>".  It names an example file when another part is an example
 * word.
 */
enum rotarr_guard_name rotarr_guard_classify_name(const char *path)
{
    const char *base = strrchr(path, '/');
    const char *part, *dot, *last_env = NULL, *end;
    int example = 0, env_last = 0;

    base = base != NULL ? base + 1 : path;
    end = base + strlen(base);
    for (part = base; part <= end; part = dot + 1) {
        dot = memchr(part, '.', (size_t)(end - part));
        if (dot == NULL) {
            dot = end;
        }
        if (part_is(part, dot, "env")) {
            last_env = part;
            env_last = dot == end;
        } else if (part_is_example(part, dot)) {
            example = 1;
        }
        if (dot == end) {
            break;
        }
    }
    if (last_env == NULL) {
        return ROTARR_GUARD_NAME_OTHER;
    }
    if (last_env == base + 1 && base[0] == '.') {
        return example ? ROTARR_GUARD_NAME_EXAMPLE : ROTARR_GUARD_NAME_ENV;
    }
    if (last_env == base) {
        return ROTARR_GUARD_NAME_OTHER; /* "env" or "env.sh" */
    }
    if (env_last) {
        return example ? ROTARR_GUARD_NAME_EXAMPLE : ROTARR_GUARD_NAME_ENV;
    }
    /* "app.env.example": env followed only by example words. */
    part = strchr(last_env, '.') + 1;
    while (part != NULL) {
        dot = strchr(part, '.');
        if (!part_is_example(part, dot != NULL ? dot : end)) {
            return ROTARR_GUARD_NAME_OTHER;
        }
        part = dot != NULL ? dot + 1 : NULL;
    }
    return ROTARR_GUARD_NAME_EXAMPLE;
}

static int has_prefix(const char *bytes, size_t len, const char *prefix)
{
    size_t n = strlen(prefix);

    return len >= n && memcmp(bytes, prefix, n) == 0;
}

/* Finds a line of the binary age header that starts with prefix. */
static const char *find_line(const char *bytes, size_t len,
                             const char *prefix)
{
    const char *p = bytes, *end = bytes + len, *nl;

    while (p < end) {
        if (has_prefix(p, (size_t)(end - p), prefix)) {
            return p;
        }
        nl = memchr(p, '\n', (size_t)(end - p));
        if (nl == NULL) {
            return NULL;
        }
        p = nl + 1;
    }
    return NULL;
}

/*
 * Binary age: the version line, then stanzas starting "-> ", then the
 * MAC line "--- " (43 base64 characters) and the payload.
 */
static int is_age_binary(const char *bytes, size_t len)
{
    static const char header[] = "age-encryption.org/v1\n";
    const char *mac;

    if (!has_prefix(bytes, len, header) ||
        !has_prefix(bytes + sizeof(header) - 1, len - (sizeof(header) - 1),
                    "-> ")) {
        return 0;
    }
    mac = find_line(bytes, len, "--- ");
    return mac != NULL && (size_t)(bytes + len - mac) >= 4 + 43 + 1;
}

static int is_age_armor(const char *bytes, size_t len)
{
    while (len > 0 && isspace((unsigned char)*bytes)) {
        bytes++;
        len--;
    }
    return has_prefix(bytes, len, "-----BEGIN AGE ENCRYPTED FILE-----");
}

static int is_sops_dotenv(const char *bytes, size_t len)
{
    return find_line(bytes, len, "sops_version=") != NULL &&
           find_line(bytes, len, "sops_mac=ENC[") != NULL;
}

enum rotarr_guard_envelope rotarr_guard_envelope_of(const char *bytes,
                                                    size_t len)
{
    if (is_age_binary(bytes, len)) {
        return ROTARR_GUARD_AGE;
    }
    if (is_age_armor(bytes, len)) {
        return ROTARR_GUARD_AGE_ARMOR;
    }
    if (is_sops_dotenv(bytes, len)) {
        return ROTARR_GUARD_SOPS;
    }
    return ROTARR_GUARD_PLAIN;
}

static int starts_with_nocase(const char *value, size_t len,
                              const char *prefix)
{
    size_t n = strlen(prefix);

    return len >= n && strncasecmp(value, prefix, n) == 0;
}

static int is_repeated_byte(const char *value, size_t len)
{
    size_t i;

    for (i = 1; i < len; i++) {
        if (value[i] != value[0]) {
            return 0;
        }
    }
    return 1;
}

int rotarr_guard_is_placeholder(const char *value, size_t len)
{
    size_t i;

    if (len < ROTARR_GUARD_MIN_SECRET || is_repeated_byte(value, len)) {
        return 1;
    }
    if ((value[0] == '<' && value[len - 1] == '>') ||
        has_prefix(value, len, "${") || has_prefix(value, len, "{{")) {
        return 1;
    }
    for (i = 0; i < COUNT_OF(placeholder_prefixes); i++) {
        if (starts_with_nocase(value, len, placeholder_prefixes[i])) {
            return 1;
        }
    }
    for (i = 0; i < COUNT_OF(guessed_values); i++) {
        if (len == strlen(guessed_values[i]) &&
            strncasecmp(value, guessed_values[i], len) == 0) {
            return 1;
        }
    }
    return 0;
}

int rotarr_guard_is_credential_key(const char *key)
{
    size_t i;

    for (i = 0; i < COUNT_OF(credential_words); i++) {
        if (strcasestr(key, credential_words[i]) != NULL) {
            return 1;
        }
    }
    return 0;
}

/* At least 20 bytes of [A-Za-z0-9+/=_-] with a letter and a digit: the
 * shape of generated passwords, tokens and keys. */
static int looks_generated(const char *value, size_t len)
{
    int letter = 0, digit = 0;
    size_t i;
    unsigned char c;

    if (len < 20) {
        return 0;
    }
    for (i = 0; i < len; i++) {
        c = (unsigned char)value[i];
        if (isalpha(c)) {
            letter = 1;
        } else if (isdigit(c)) {
            digit = 1;
        } else if (strchr("+/=_-", c) == NULL || c == '\0') {
            return 0;
        }
    }
    return letter && digit;
}

int rotarr_guard_is_secret_value(const char *key, const char *value,
                                 size_t len)
{
    if (value == NULL || rotarr_guard_is_placeholder(value, len)) {
        return 0;
    }
    return rotarr_guard_is_credential_key(key) ||
           looks_generated(value, len);
}

static int is_scheme_char(unsigned char c)
{
    return isalnum(c) || c == '+' || c == '-' || c == '.';
}

int guard_next_url_password(const char *value, size_t len, size_t *pos,
                            size_t *pw_start, size_t *pw_len)
{
    struct rotarr_url_parts parts;
    const char *sep;
    size_t start, at;

    while (*pos < len) {
        sep = memmem(value + *pos, len - *pos, "://", 3);
        if (sep == NULL) {
            *pos = len;
            return 0;
        }
        at = (size_t)(sep - value);
        *pos = at + 3;
        start = at;
        while (start > 0 && is_scheme_char((unsigned char)value[start - 1])) {
            start--;
        }
        if (start == at ||
            rotarr_url_parse(value + start, len - start, &parts) < 0 ||
            !parts.has_password) {
            continue;
        }
        *pw_start = start + parts.password_start;
        *pw_len = parts.password_end - parts.password_start;
        *pos = start + parts.end;
        return 1;
    }
    return 0;
}
