#include "rotarr/compat.h"

#include <ctype.h>
#include <string.h>

#include "guard_private.h"

/* Maximum length of a key read from an example or sops file; a line with
 * a longer one is not read as KEY=VALUE. */
#define ENV_KEY_MAX 256

/* One KEY=VALUE line, read loosely: the checks need the key and the
 * value's bytes, not Compose's exact reading.
 * NEEDSWORK: a quoted value that spans lines is checked only on its
 * first line; the later lines are still searched for known secrets. */
struct env_line {
    char key[ENV_KEY_MAX];
    const char *value;
    size_t value_len;
};

static int is_key_char(unsigned char c)
{
    return isalnum(c) || c == '_' || c == '.' || c == '-';
}

static const char *skip_blanks(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t')) {
        p++;
    }
    return p;
}

/* Reads the value after '=': quoted up to the closing quote on the same
 * line, else up to " #" with blanks trimmed. */
static void read_value(const char *p, const char *end, struct env_line *l)
{
    const char *close, *hash;

    if (p < end && (*p == '"' || *p == '\'')) {
        close = memchr(p + 1, *p, (size_t)(end - p - 1));
        l->value = p + 1;
        l->value_len = (size_t)((close != NULL ? close : end) - l->value);
        return;
    }
    for (hash = p; hash < end; hash++) {
        if (*hash == '#' && hash > p &&
            (hash[-1] == ' ' || hash[-1] == '\t')) {
            break;
        }
    }
    while (hash > p && isspace((unsigned char)hash[-1])) {
        hash--;
    }
    l->value = p;
    l->value_len = (size_t)(hash - p);
}

/* Returns 1 when [p, end) is a KEY=VALUE (or KEY: VALUE) line. */
static int parse_line(const char *p, const char *end, struct env_line *l)
{
    const char *key;
    size_t key_len;

    p = skip_blanks(p, end);
    if ((size_t)(end - p) > 7 && memcmp(p, "export", 6) == 0 &&
        (p[6] == ' ' || p[6] == '\t')) {
        p = skip_blanks(p + 7, end);
    }
    key = p;
    while (p < end && is_key_char((unsigned char)*p)) {
        p++;
    }
    key_len = (size_t)(p - key);
    p = skip_blanks(p, end);
    if (key_len == 0 || key_len >= ENV_KEY_MAX || p == end ||
        (*p != '=' && *p != ':')) {
        return 0;
    }
    memcpy(l->key, key, key_len);
    l->key[key_len] = '\0';
    read_value(skip_blanks(p + 1, end), end, l);
    return 1;
}

static int has_url_secret(const struct env_line *l)
{
    size_t pos = 0, start, len;

    while (guard_next_url_password(l->value, l->value_len, &pos, &start,
                                   &len)) {
        if (!rotarr_guard_is_placeholder(l->value + start, len)) {
            return 1;
        }
    }
    return 0;
}

static int check_line(const char *path, const char *commit, size_t line,
                      const struct env_line *l, int sops,
                      struct rotarr_guard_findings *findings,
                      struct rotarr_error *err)
{
    char what[ENV_KEY_MAX + 160];
    int n;

    if (sops && (strncmp(l->key, "sops_", 5) == 0 ||
                 (l->value_len >= 4 && memcmp(l->value, "ENC[", 4) == 0))) {
        return 0;
    }
    if (!rotarr_guard_is_secret_value(l->key, l->value, l->value_len) &&
        !has_url_secret(l)) {
        return 0;
    }
    if (sops) {
        n = snprintf(what, sizeof(what),
                     "'%s' is not encrypted in this sops file; encrypt it "
                     "with sops or use a placeholder",
                     l->key);
    } else {
        n = snprintf(what, sizeof(what),
                     "'%s' in an example env file holds what looks like a "
                     "real secret; use an empty value or 'changeme'",
                     l->key);
    }
    if (n < 0 || (size_t)n >= sizeof(what)) {
        return rotarr_error_set(err, ROTARR_EFILE, "finding text too long");
    }
    return guard_findings_add(findings, ROTARR_GUARD_NOT_PLACEHOLDER, path,
                              line, commit, what, err);
}

int guard_check_env_values(const char *path, const char *commit,
                           const char *buf, size_t len, int sops,
                           struct rotarr_guard_findings *findings,
                           struct rotarr_error *err)
{
    const char *p = buf, *end = buf + len, *nl;
    struct env_line l;
    size_t line = 1;

    while (p < end) {
        nl = memchr(p, '\n', (size_t)(end - p));
        if (nl == NULL) {
            nl = end;
        }
        if (parse_line(p, nl, &l) &&
            check_line(path, commit, line, &l, sops, findings, err) < 0) {
            return -1;
        }
        p = nl < end ? nl + 1 : end;
        line++;
    }
    return 0;
}
