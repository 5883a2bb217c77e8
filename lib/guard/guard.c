#include "rotarr/compat.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "guard_private.h"
#include "rotarr/url.h"

#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

/* First lines of private key blocks, each looked for with "\n" and
 * "\r\n" after it so that a mention inside a line does not count. */
static const struct {
    const char *line;
    const char *what;
} key_markers[] = {
    { "-----BEGIN PRIVATE KEY-----", "PEM private key" },
    { "-----BEGIN RSA PRIVATE KEY-----", "PEM private key (RSA)" },
    { "-----BEGIN EC PRIVATE KEY-----", "PEM private key (EC)" },
    { "-----BEGIN DSA PRIVATE KEY-----", "PEM private key (DSA)" },
    { "-----BEGIN ENCRYPTED PRIVATE KEY-----", "PEM private key (encrypted)" },
    { "-----BEGIN OPENSSH PRIVATE KEY-----", "OpenSSH private key" },
    { "-----BEGIN PGP PRIVATE KEY BLOCK-----", "PGP private key" },
};

static int add_key_markers(struct guard_matcher *m, struct rotarr_error *err)
{
    char line[64];
    size_t i, len;

    for (i = 0; i < COUNT_OF(key_markers); i++) {
        len = strlen(key_markers[i].line);
        memcpy(line, key_markers[i].line, len);
        memcpy(line + len, "\r\n", 2);
        if (guard_matcher_add(m, line, len + 2, GUARD_PATTERN_KEY,
                              key_markers[i].what, err) < 0) {
            return -1;
        }
        line[len] = '\n';
        if (guard_matcher_add(m, line, len + 1, GUARD_PATTERN_KEY,
                              key_markers[i].what, err) < 0) {
            return -1;
        }
    }
    return guard_matcher_add(m, "AGE-SECRET-KEY-1", 16,
                             GUARD_PATTERN_AGE_KEY, "age secret key", err);
}

struct rotarr_guard *rotarr_guard_new(struct rotarr_error *err)
{
    struct rotarr_guard *guard;

    guard = calloc(1, sizeof(*guard));
    if (guard == NULL) {
        rotarr_error_set(err, ROTARR_EFILE, "out of memory");
        return NULL;
    }
    if (add_key_markers(&guard->matcher, err) < 0) {
        rotarr_guard_free(guard);
        return NULL;
    }
    return guard;
}

static int push_string(char ***items, size_t *count, char *s,
                       struct rotarr_error *err)
{
    char **grown;

    grown = realloc(*items, (*count + 1) * sizeof(**items));
    if (grown == NULL) {
        free(s);
        return rotarr_error_set(err, ROTARR_EFILE, "out of memory");
    }
    grown[(*count)++] = s;
    *items = grown;
    return 0;
}

const char *guard_keep_origin(struct rotarr_guard *guard, char *text,
                              struct rotarr_error *err)
{
    if (text == NULL) {
        rotarr_error_set(err, ROTARR_EFILE, "out of memory");
        return NULL;
    }
    if (push_string(&guard->origins, &guard->origin_count, text, err) < 0) {
        return NULL;
    }
    return text;
}

/* Writes %XX escapes in s with lower-case hex digits; returns 1 when
 * something changed. */
static int lower_hex_escapes(char *s, size_t len)
{
    int changed = 0;
    size_t i;

    for (i = 0; i + 2 < len; i++) {
        if (s[i] != '%') {
            continue;
        }
        if (isupper((unsigned char)s[i + 1]) ||
            isupper((unsigned char)s[i + 2])) {
            s[i + 1] = (char)tolower((unsigned char)s[i + 1]);
            s[i + 2] = (char)tolower((unsigned char)s[i + 2]);
            changed = 1;
        }
    }
    return changed;
}

static int add_encoded(struct rotarr_guard *guard, const char *value,
                       size_t len, const char *origin,
                       struct rotarr_error *err)
{
    struct rotarr_buf enc = ROTARR_BUF_INIT;
    int ret = -1;

    if (rotarr_url_encode_userinfo(value, len, &enc, err) < 0) {
        goto out;
    }
    if (enc.len == len && memcmp(enc.data, value, len) == 0) {
        ret = 0;
        goto out;
    }
    if (guard_matcher_add(&guard->matcher, enc.data, enc.len,
                          GUARD_PATTERN_ENCODED, origin, err) < 0) {
        goto out;
    }
    if (lower_hex_escapes(enc.data, enc.len) &&
        guard_matcher_add(&guard->matcher, enc.data, enc.len,
                          GUARD_PATTERN_ENCODED, origin, err) < 0) {
        goto out;
    }
    ret = 0;

out:
    if (enc.data != NULL) {
        sodium_memzero(enc.data, enc.cap);
    }
    rotarr_buf_release(&enc);
    return ret;
}

int rotarr_guard_add_secret(struct rotarr_guard *guard, const char *value,
                            size_t len, const char *origin,
                            struct rotarr_error *err)
{
    const char *kept;

    if (guard->matcher.built) {
        return rotarr_error_set(err, ROTARR_EUSAGE,
                                "secrets added after the first scan");
    }
    if (len > ROTARR_GUARD_MAX_SECRET ||
        rotarr_guard_is_placeholder(value, len)) {
        return 0;
    }
    kept = guard_keep_origin(guard, strdup(origin), err);
    if (kept == NULL ||
        guard_matcher_add(&guard->matcher, value, len, GUARD_PATTERN_SECRET,
                          kept, err) < 0) {
        return -1;
    }
    return add_encoded(guard, value, len, kept, err);
}

int guard_learn_url_passwords(struct rotarr_guard *guard, const char *value,
                              size_t len, const char *origin,
                              struct rotarr_error *err)
{
    struct rotarr_buf decoded = ROTARR_BUF_INIT;
    struct rotarr_error ignored = ROTARR_ERROR_INIT;
    size_t pos = 0, start, pw_len;
    int ret = -1;

    while (guard_next_url_password(value, len, &pos, &start, &pw_len)) {
        if (rotarr_guard_add_secret(guard, value + start, pw_len, origin,
                                    err) < 0) {
            goto out;
        }
        rotarr_buf_reset(&decoded);
        /* A password that is not valid percent-encoding is looked for as
         * written only. */
        if (rotarr_url_decode(value + start, pw_len, &decoded, &ignored) <
                0 ||
            (decoded.len == pw_len &&
             memcmp(decoded.data, value + start, pw_len) == 0)) {
            continue;
        }
        if (rotarr_guard_add_secret(guard, decoded.data, decoded.len, origin,
                                    err) < 0) {
            goto out;
        }
    }
    ret = 0;

out:
    if (decoded.data != NULL) {
        sodium_memzero(decoded.data, decoded.cap);
    }
    rotarr_buf_release(&decoded);
    return ret;
}

static char *describe(const char *what, const char *key, const char *file)
{
    struct rotarr_buf text = ROTARR_BUF_INIT;

    if (rotarr_buf_printf(&text, NULL, "%s '%s' in '%s'", what, key, file) <
        0) {
        rotarr_buf_release(&text);
        return NULL;
    }
    return rotarr_buf_detach(&text, NULL);
}

static int learn_entry(struct rotarr_guard *guard,
                       const struct rotarr_dotenv_entry *entry,
                       const char *display, struct rotarr_error *err)
{
    char *origin;
    int ret;

    if (rotarr_guard_is_secret_value(entry->key, entry->value,
                                     entry->value_len)) {
        origin = describe("the value of", entry->key, display);
        if (origin == NULL) {
            return rotarr_error_set(err, ROTARR_EFILE, "out of memory");
        }
        ret = rotarr_guard_add_secret(guard, entry->value, entry->value_len,
                                      origin, err);
        free(origin);
        if (ret < 0) {
            return -1;
        }
    }
    origin = describe("the password of a URL in", entry->key, display);
    if (origin == NULL) {
        return rotarr_error_set(err, ROTARR_EFILE, "out of memory");
    }
    ret = guard_learn_url_passwords(guard, entry->value, entry->value_len,
                                    origin, err);
    free(origin);
    return ret;
}

int rotarr_guard_learn_env(struct rotarr_guard *guard,
                           const struct rotarr_dotenv *env,
                           const char *display, struct rotarr_error *err)
{
    const struct rotarr_dotenv_entry *entry;
    size_t i;

    for (i = 0; i < rotarr_dotenv_count(env); i++) {
        entry = rotarr_dotenv_entry(env, i);
        if (entry->value == NULL) {
            continue;
        }
        if (learn_entry(guard, entry, display, err) < 0) {
            return -1;
        }
    }
    return 0;
}

int rotarr_guard_add_env_path(struct rotarr_guard *guard, const char *path,
                              struct rotarr_error *err)
{
    char *copy = strdup(path);

    if (copy == NULL) {
        return rotarr_error_set(err, ROTARR_EFILE, "out of memory");
    }
    return push_string(&guard->env_paths, &guard->env_path_count, copy, err);
}

int guard_is_env_path(const struct rotarr_guard *guard, const char *path)
{
    size_t i;

    for (i = 0; i < guard->env_path_count; i++) {
        if (strcmp(guard->env_paths[i], path) == 0) {
            return 1;
        }
    }
    return 0;
}

size_t rotarr_guard_pattern_count(const struct rotarr_guard *guard)
{
    return guard->matcher.count;
}

int guard_findings_add(struct rotarr_guard_findings *findings,
                       enum rotarr_guard_kind kind, const char *path,
                       size_t line, const char *commit, const char *what,
                       struct rotarr_error *err)
{
    struct rotarr_guard_finding *f;

    if (findings->count >= ROTARR_GUARD_MAX_FINDINGS) {
        findings->dropped++;
        return 0;
    }
    if (findings->count == findings->alloc) {
        size_t alloc = findings->alloc > 0 ? findings->alloc * 2 : 16;

        f = realloc(findings->items, alloc * sizeof(*f));
        if (f == NULL) {
            return rotarr_error_set(err, ROTARR_EFILE, "out of memory");
        }
        findings->items = f;
        findings->alloc = alloc;
    }
    f = &findings->items[findings->count];
    memset(f, 0, sizeof(*f));
    f->kind = kind;
    f->line = line;
    f->path = strdup(path);
    f->what = strdup(what);
    if (commit != NULL && strlen(commit) < sizeof(f->commit)) {
        memcpy(f->commit, commit, strlen(commit) + 1);
    }
    if (f->path == NULL || f->what == NULL) {
        free(f->path);
        free(f->what);
        return rotarr_error_set(err, ROTARR_EFILE, "out of memory");
    }
    findings->count++;
    return 0;
}

void rotarr_guard_findings_release(struct rotarr_guard_findings *findings)
{
    size_t i;

    if (findings == NULL) {
        return;
    }
    for (i = 0; i < findings->count; i++) {
        free(findings->items[i].path);
        free(findings->items[i].what);
    }
    free(findings->items);
    memset(findings, 0, sizeof(*findings));
}

static void free_strings(char **items, size_t count)
{
    size_t i;

    for (i = 0; i < count; i++) {
        free(items[i]);
    }
    free(items);
}

void rotarr_guard_set_progress(struct rotarr_guard *guard,
                               const struct rotarr_progress *progress)
{
    if (progress == NULL) {
        memset(&guard->progress, 0, sizeof(guard->progress));
        return;
    }
    guard->progress = *progress;
}

void rotarr_guard_set_history_progress(struct rotarr_guard *guard,
                                       const struct rotarr_progress *progress)
{
    if (progress == NULL) {
        memset(&guard->history_progress, 0, sizeof(guard->history_progress));
        return;
    }
    guard->history_progress = *progress;
}

void rotarr_guard_free(struct rotarr_guard *guard)
{
    if (guard == NULL) {
        return;
    }
    guard_matcher_release(&guard->matcher);
    free_strings(guard->origins, guard->origin_count);
    free_strings(guard->env_paths, guard->env_path_count);
    free(guard);
}
