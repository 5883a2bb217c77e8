#include "rotarr/compat.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "matcher.h"
#include "occurrence_private.h"
#include "rotarr/url.h"
#include "stack_private.h"

static long scan_raw_offset(const struct value_scan *scan);

/* Returns what the occurrences of the value are listed under, or NULL
 * with err set. */
static const char *scan_where(struct value_scan *scan,
                              struct rotarr_error *err)
{
    if (scan->walk == NULL) {
        return scan->where;
    }
    return occurrence_walk_path(scan->walk, err);
}

/* Returns the number of line feeds in bytes [from, to). */
static size_t count_newlines(const char *bytes, size_t from, size_t to)
{
    const char *p = bytes + from;
    const char *end = bytes + to;
    size_t count = 0;

    while (p < end && (p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
        count++;
        p++;
    }
    return count;
}

/*
 * Returns the 1-based line and column (in characters) of offset.  Lines
 * are counted from the cursor's last position, not from the start of the
 * file, because the values are scanned about in file order.
 */
static void position_of(const struct value_scan *scan, size_t offset,
                        size_t *line, size_t *column)
{
    const struct rotarr_stack_file *file =
        rotarr_stack_file(scan->stack, scan->file);
    struct line_cursor *cursor = &scan->scratch->cursor;
    const char *newline;
    size_t i;

    offset = offset < file->len ? offset : file->len;
    if (offset >= cursor->offset) {
        cursor->line += count_newlines(file->bytes, cursor->offset, offset);
    } else {
        cursor->line -= count_newlines(file->bytes, offset, cursor->offset);
    }
    cursor->offset = offset;
    *line = cursor->line;
    newline = offset > 0 ? memrchr(file->bytes, '\n', offset) : NULL;
    *column = 1;
    for (i = newline != NULL ? (size_t)(newline - file->bytes) + 1 : 0;
         i < offset; i++) {
        if (((unsigned char)file->bytes[i] & 0xc0) != 0x80) {
            (*column)++;
        }
    }
}

static int already_found(const struct rotarr_occurrences *out,
                         const struct rotarr_occurrence *occ)
{
    size_t i;

    for (i = 0; i < out->count; i++) {
        if (out->items[i].file == occ->file &&
            out->items[i].value_start == occ->value_start &&
            out->items[i].sub_start == occ->sub_start &&
            out->items[i].kind == occ->kind) {
            return 1;
        }
    }
    return 0;
}

static int append_occurrence(struct rotarr_occurrences *out,
                             const struct rotarr_occurrence *occ,
                             struct rotarr_error *err)
{
    struct rotarr_occurrence *grown;
    size_t alloc;

    if (out->count == out->alloc) {
        alloc = out->alloc > 0 ? out->alloc * 2 : 8;
        grown = realloc(out->items, alloc * sizeof(*grown));
        if (grown == NULL) {
            return rotarr_error_set(err, ROTARR_EFILE, "out of memory");
        }
        out->items = grown;
        out->alloc = alloc;
    }
    out->items[out->count++] = *occ;
    return 0;
}

static int add_occurrence(struct value_scan *scan, size_t secret,
                          enum rotarr_occurrence_kind kind, size_t sub_start,
                          size_t sub_end, int in_url,
                          struct rotarr_error *err)
{
    struct rotarr_occurrence occ;
    struct rotarr_occurrences *out = &scan->outs[secret];
    const char *where;

    if (!scan->raw_known) {
        scan->raw_offset = scan_raw_offset(scan);
        scan->raw_known = 1;
    }
    memset(&occ, 0, sizeof(occ));
    occ.file = scan->file;
    occ.kind = kind;
    occ.value_start = scan->value_start;
    occ.value_end = scan->value_end;
    occ.sub_start = sub_start;
    occ.sub_end = sub_end;
    occ.entry = scan->entry;
    occ.node = scan->node;
    occ.setting = scan->setting;
    occ.in_url = in_url;
    occ.direct = scan->raw_offset >= 0;
    if (occ.direct) {
        occ.start = (size_t)scan->raw_offset + sub_start;
        occ.end = (size_t)scan->raw_offset + sub_end;
    }
    if (already_found(out, &occ)) {
        return 0;
    }
    position_of(scan, occ.direct ? occ.start : occ.value_start, &occ.line,
                &occ.column);
    where = scan_where(scan, err);
    if (where == NULL) {
        return -1;
    }
    occ.where = strdup(where);
    if (occ.where == NULL) {
        return rotarr_error_set(err, ROTARR_EFILE, "out of memory");
    }
    if (append_occurrence(out, &occ, err) < 0) {
        free(occ.where);
        return -1;
    }
    return 0;
}

int occurrence_merge(struct rotarr_occurrences *into,
                     struct rotarr_occurrences *from,
                     struct rotarr_error *err)
{
    struct rotarr_occurrence *occ;
    size_t i;
    int ret = 0;

    for (i = 0; i < from->count; i++) {
        occ = &from->items[i];
        if (ret == 0 && !already_found(into, occ)) {
            if (append_occurrence(into, occ, err) == 0) {
                continue; /* into owns occ->where now */
            }
            ret = -1;
        }
        free(occ->where);
    }
    free(from->items);
    from->items = NULL;
    from->count = 0;
    from->alloc = 0;
    return ret;
}

/* Returns 1 when [start,end) of text overlaps a $ expression. */
static int inside_expression(const char *text, size_t len, size_t start,
                             size_t end)
{
    size_t i = 0;
    size_t close;

    while (i < len) {
        if (text[i] != '$') {
            i++;
            continue;
        }
        if (i + 1 < len && text[i + 1] == '$') {
            i += 2;
            continue;
        }
        close = i + 1;
        if (close < len && text[close] == '{') {
            while (close < len && text[close] != '}') {
                close++;
            }
        } else {
            while (close < len && (text[close] == '_' ||
                                   (text[close] >= '0' && text[close] <= '9') ||
                                   (text[close] >= 'A' && text[close] <= 'Z') ||
                                   (text[close] >= 'a' && text[close] <= 'z'))) {
                close++;
            }
        }
        if (start <= close && end > i) {
            return 1;
        }
        i = close + 1;
    }
    return 0;
}

/* Decodes the compose escape "$$" into "$". */
static int compose_unescape(const char *text, size_t len,
                            struct rotarr_buf *out, struct rotarr_error *err)
{
    size_t i;

    for (i = 0; i < len; i++) {
        if (rotarr_buf_append(out, &text[i], 1, err) < 0) {
            return -1;
        }
        if (text[i] == '$' && i + 1 < len && text[i + 1] == '$') {
            i++;
        }
    }
    return 0;
}

/* Returns the index + 1 of the secret equal to a URL password, or 0. */
static size_t url_password_secret(struct value_scan *scan, const char *pw,
                                  size_t len, struct rotarr_error *err)
{
    struct rotarr_buf unescaped = ROTARR_BUF_INIT;
    struct rotarr_buf decoded = ROTARR_BUF_INIT;
    size_t found = 0;

    if (scan->compose) {
        if (compose_unescape(pw, len, &unescaped, err) < 0) {
            goto out;
        }
        pw = unescaped.data != NULL ? unescaped.data : "";
        len = unescaped.len;
    }
    if (rotarr_url_decode(pw, len, &decoded, NULL) == 0) {
        found = matcher_find_whole(scan->matcher, decoded.data, decoded.len,
                                   0);
    }

out:
    if (unescaped.data != NULL) {
        sodium_memzero(unescaped.data, unescaped.len);
    }
    if (decoded.data != NULL) {
        sodium_memzero(decoded.data, decoded.len);
    }
    rotarr_buf_release(&unescaped);
    rotarr_buf_release(&decoded);
    return found;
}

/* Returns the first "://" in text[from, len), or NULL. */
static const char *find_scheme_end(const char *text, size_t from, size_t len)
{
    const char *p = text + from;
    const char *end = text + len;

    while (end - p >= 3) {
        p = memchr(p, ':', (size_t)(end - p) - 2);
        if (p == NULL) {
            return NULL;
        }
        if (p[1] == '/' && p[2] == '/') {
            return p;
        }
        p++;
    }
    return NULL;
}

static int is_scheme_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '+' || c == '.' || c == '-';
}

/* Marks [start, end) of the value as claimed by a URL password, so that
 * no copy is reported inside it. */
static int mark_claimed(struct value_scan *scan, size_t start, size_t end,
                      struct rotarr_error *err)
{
    struct scan_scratch *scratch = scan->scratch;
    char *grown;

    if (!scan->marked) {
        if (scratch->cap < scan->len) {
            grown = realloc(scratch->claimed, scan->len);
            if (grown == NULL) {
                return rotarr_error_set(err, ROTARR_EFILE, "out of memory");
            }
            scratch->claimed = grown;
            scratch->cap = scan->len;
        }
        memset(scratch->claimed, 0, scan->len);
        scan->marked = 1;
    }
    memset(scratch->claimed + start, 1, end - start);
    return 0;
}

/* Finds URL passwords equal to a secret and marks their bytes as claimed,
 * so that no copy is reported inside them. */
static int scan_urls(struct value_scan *scan, struct rotarr_error *err)
{
    struct rotarr_url_parts parts;
    const char *sep;
    size_t from = 0;
    size_t start;
    size_t pw_start;
    size_t match;

    while ((sep = find_scheme_end(scan->text, from, scan->len)) != NULL) {
        start = (size_t)(sep - scan->text);
        from = start + 3;
        /* A password needs an '@' after it; most URLs have none. */
        if (memchr(scan->text + from, '@', scan->len - from) == NULL) {
            continue;
        }
        while (start > 0 && is_scheme_char(scan->text[start - 1])) {
            start--;
        }
        if (rotarr_url_parse(scan->text + start, scan->len - start, &parts) <
                0 ||
            !parts.has_password) {
            continue;
        }
        pw_start = start + parts.password_start;
        if (inside_expression(scan->text, scan->len, pw_start,
                              start + parts.password_end)) {
            continue;
        }
        match = url_password_secret(scan, scan->text + pw_start,
                                    parts.password_end -
                                        parts.password_start,
                                    err);
        if (match > 0) {
            if (mark_claimed(scan, pw_start, start + parts.password_end,
                           err) < 0 ||
                add_occurrence(scan, match - 1, ROTARR_OCC_URL, pw_start,
                               start + parts.password_end, 0, err) < 0) {
                return -1;
            }
        }
    }
    return 0;
}

static int range_free(const struct value_scan *scan, size_t start,
                      size_t end)
{
    size_t i;

    for (i = start; scan->marked && i < end; i++) {
        if (scan->scratch->claimed[i]) {
            return 0;
        }
    }
    return 1;
}

static int contains_word(const char *upper, const char *const *words)
{
    for (; *words != NULL; words++) {
        if (strstr(upper, *words) != NULL) {
            return 1;
        }
    }
    return 0;
}

/*
 * Returns 1 when a variable name says its value is an identity (a user,
 * database, host or path) rather than a secret, so that a value equal
 * to a weak password, as in POSTGRES_USER=app with POSTGRES_PASSWORD=app,
 * is not rewritten with it.
 */
static int names_identity(const char *key, size_t len)
{
    static const char *const secret_words[] = {
        "PASS", "SECRET", "TOKEN", "PWD", "KEY", "AUTH", "CRED", NULL,
    };
    static const char *const identity_words[] = {
        "USER", "NAME",  "DB",   "DATABASE", "HOST", "PATH",  "DIR",
        "LOCATION", "PORT", "SCHEMA", "ROLE", "OWNER", "EMAIL", "LOGIN",
        NULL,
    };
    char upper[128];
    size_t i;

    for (i = 0; i < len && i + 1 < sizeof(upper); i++) {
        upper[i] = (char)toupper((unsigned char)key[i]);
    }
    upper[i] = '\0';
    return !contains_word(upper, secret_words) &&
           contains_word(upper, identity_words);
}

/*
 * Returns 1 when a whole value equal to a short secret may be a copy of
 * it.  A short password ("postgres", "plane") is often also a user name,
 * a command argument or another service's default password, so its
 * copies count only under a password variable that names no other kind
 * of server.  A long random secret does not occur by chance.
 */
static int weak_copy_allowed(const char *key, size_t len)
{
    static const char *const password_words[] = {
        "PASS", "PWD", "SECRET", NULL,
    };
    static const char *const other_servers[] = {
        "REDIS", "RABBIT", "AMQP", "MINIO", "SMTP", "MAIL", "MYSQL",
        "MARIADB", "MONGO", "LDAP", "S3_", "ELASTIC", "MEILI", "CLICKHOUSE",
        "ADMIN", NULL,
    };
    char upper[128];
    size_t i;

    for (i = 0; i < len && i + 1 < sizeof(upper); i++) {
        upper[i] = (char)toupper((unsigned char)key[i]);
    }
    upper[i] = '\0';
    return contains_word(upper, password_words) &&
           !contains_word(upper, other_servers);
}

/* Returns the length of "KEY=" at the start of a compose list item. */
static size_t list_item_key(const char *text, size_t len)
{
    size_t i = 0;

    while (i < len && (isalnum((unsigned char)text[i]) || text[i] == '_' ||
                       text[i] == '.' || text[i] == '-')) {
        i++;
    }
    return i > 0 && i < len && text[i] == '=' ? i : 0;
}

/* Stores the name the searched value is stored under: the env key, the
 * last compose key, or KEY of a "KEY=value" list item.  Returns 0, or -1
 * with err set when memory runs out. */
static int value_key(struct value_scan *scan, const char **key, size_t *len,
                     struct rotarr_error *err)
{
    size_t item = scan->node != NULL ? list_item_key(scan->text, scan->len)
                                     : 0;
    const char *where;
    const char *dot;

    if (item > 0) {
        *key = scan->text;
        *len = item;
        return 0;
    }
    where = scan_where(scan, err);
    if (where == NULL) {
        return -1;
    }
    dot = strrchr(where, '.');
    *key = dot != NULL ? dot + 1 : where;
    *len = strlen(*key);
    return 0;
}

/*
 * Returns 1 when the value's name says it is an identity, 0 when not, or
 * -1 with err set.  It is found once per value, and only when a copy is
 * about to be reported, because a compose value's name is its whole path.
 */
static int value_is_identity(struct value_scan *scan,
                             struct rotarr_error *err)
{
    const char *key;
    size_t len;

    if (!scan->key_checked) {
        if (value_key(scan, &key, &len, err) < 0) {
            return -1;
        }
        scan->identity = names_identity(key, len);
        scan->key_checked = 1;
    }
    return scan->identity;
}

/* Returns 1 when a whole value shorter than MATCHER_MIN_TEXT may be a
 * copy (see weak_copy_allowed), 0 when not, or -1 with err set. */
static int short_copy_allowed(struct value_scan *scan,
                              struct rotarr_error *err)
{
    const char *key;
    size_t len;

    if (value_key(scan, &key, &len, err) < 0) {
        return -1;
    }
    return weak_copy_allowed(key, len);
}

/* Adds a copy found by scan_literals unless the value is an identity.
 * Returns 1 when it was added, 0 when the value is an identity, or -1. */
static int add_literal(struct value_scan *scan, size_t secret,
                       enum rotarr_occurrence_kind kind, size_t sub_start,
                       size_t sub_end, struct rotarr_error *err)
{
    int identity = value_is_identity(scan, err);

    if (identity != 0) {
        return identity < 0 ? -1 : 0;
    }
    if (add_occurrence(scan, secret, kind, sub_start, sub_end, 0, err) < 0) {
        return -1;
    }
    return 1;
}

/* Returns the index + 1 of the secret whose whole value is the len bytes
 * at text, or 0; a short one counts only where allowed.  -1 with err set
 * on error. */
static long whole_copy(struct value_scan *scan, const char *text, size_t len,
                       int allowed_short, struct rotarr_error *err)
{
    size_t whole = matcher_find_whole(scan->matcher, text, len,
                                      scan->compose);
    int allowed;

    if (whole == 0 || len >= MATCHER_MIN_TEXT) {
        return (long)whole;
    }
    allowed = allowed_short ? short_copy_allowed(scan, err) : 0;
    if (allowed < 0) {
        return -1;
    }
    return allowed ? (long)whole : 0;
}

/*
 * Returns the index + 1 of a secret whose copy starts at offset at, and
 * stores its length in *len, or returns 0 when none starts there.
 */
static size_t literal_at(const struct value_scan *scan, size_t at,
                         size_t *len)
{
    const char *needle;
    size_t candidate;
    size_t n;

    candidate = matcher_first_prefix(scan->matcher, scan->text + at,
                                     scan->compose);
    for (; candidate != 0; candidate = matcher_next_prefix(
                               scan->matcher, candidate, scan->compose)) {
        needle = matcher_needle(scan->matcher, candidate - 1, scan->compose,
                                &n);
        if (n < MATCHER_MIN_TEXT || at + n > scan->len ||
            memcmp(scan->text + at, needle, n) != 0 ||
            !range_free(scan, at, at + n) ||
            (scan->compose &&
             inside_expression(scan->text, scan->len, at, at + n))) {
            continue;
        }
        *len = n;
        return candidate;
    }
    return 0;
}

/* Finds copies inside the value; returns 0, or -1 with err set. */
static int scan_copies(struct value_scan *scan, struct rotarr_error *err)
{
    size_t secret;
    size_t at;
    size_t n = 0;
    int added;

    at = matcher_next_start(scan->matcher, scan->text, 0, scan->len,
                            scan->compose);
    while (at < scan->len) {
        secret = literal_at(scan, at, &n);
        if (secret > 0) {
            added = add_literal(scan, secret - 1, ROTARR_OCC_TEXT, at, at + n,
                                err);
            if (added <= 0) {
                return added;
            }
        }
        at = matcher_next_start(scan->matcher, scan->text,
                                at + (secret > 0 ? n : 1), scan->len,
                                scan->compose);
    }
    return 0;
}

/*
 * Finds the value as a whole, then the value of a "KEY=value" list item,
 * then copies inside it.  A value whose name says it is an identity has
 * no copies: its check waits for the first one, since it costs more than
 * the search.
 */
static int scan_literals(struct value_scan *scan, struct rotarr_error *err)
{
    size_t item;
    long whole;
    int added;

    whole = whole_copy(scan, scan->text, scan->len, !scan->in_sequence, err);
    if (whole != 0) {
        added = whole < 0 ? -1
                          : add_literal(scan, (size_t)whole - 1,
                                        ROTARR_OCC_VALUE, 0, scan->len, err);
        return added < 0 ? -1 : 0;
    }
    item = scan->node != NULL ? list_item_key(scan->text, scan->len) : 0;
    whole = item > 0 ? whole_copy(scan, scan->text + item + 1,
                                  scan->len - item - 1, 1, err)
                     : 0;
    if (whole != 0) {
        added = whole < 0 ? -1
                          : add_literal(scan, (size_t)whole - 1,
                                        ROTARR_OCC_VALUE, item + 1,
                                        scan->len, err);
        return added < 0 ? -1 : 0;
    }
    return scan_copies(scan, err);
}

/* Returns 1 when [start,end) of text lies in the userinfo of a URL. */
static int in_userinfo(const char *text, size_t len, size_t start,
                       size_t end)
{
    const char *sep;
    size_t i;

    sep = NULL;
    for (i = start; i >= 3; i--) {
        if (memcmp(text + i - 3, "://", 3) == 0) {
            sep = text + i;
            break;
        }
        if (strchr("/@ \t\n", text[i - 1]) != NULL) {
            return 0;
        }
    }
    if (sep == NULL) {
        return 0;
    }
    for (i = end; i < len; i++) {
        if (text[i] == '@') {
            return 1;
        }
        if (strchr("/? \t\n", text[i]) != NULL) {
            return 0;
        }
    }
    return 0;
}

struct ref_scan {
    struct value_scan *scan;
    struct rotarr_error *err;
    int failed;
};

static int check_reference(void *ctx, const struct rotarr_interp_ref *ref)
{
    struct ref_scan *refs = ctx;
    struct value_scan *scan = refs->scan;
    char name[256];
    const char *value;
    size_t secret;

    if (ref->name_len >= sizeof(name) || ref->nested) {
        return 0;
    }
    memcpy(name, ref->name, ref->name_len);
    name[ref->name_len] = '\0';
    value = rotarr_stack_lookup(scan->stack, name);
    secret = value != NULL
                 ? matcher_find_whole(scan->matcher, value, strlen(value), 0)
                 : 0;
    if (secret == 0) {
        return 0;
    }
    if (add_occurrence(scan, secret - 1, ROTARR_OCC_REFERENCE, ref->start,
                       ref->end,
                       in_userinfo(scan->text, scan->len, ref->start,
                                   ref->end),
                       refs->err) < 0) {
        refs->failed = 1;
        return -1;
    }
    return 0;
}

/*
 * Finds ${VAR} references to the secret.  A text that is not a valid
 * template has no references that Compose would fill, so its parse error
 * is not reported here; loading the stack reports it.
 */
static int scan_references(struct value_scan *scan, struct rotarr_error *err)
{
    struct rotarr_error ignored = ROTARR_ERROR_INIT;
    struct ref_scan refs = { scan, err, 0 };

    if (memchr(scan->text, '$', scan->len) == NULL) {
        return 0;
    }
    (void)rotarr_interp_refs(scan->text, scan->len, check_reference, &refs,
                             &ignored);
    return refs.failed ? -1 : 0;
}

int occurrence_scan_value(struct value_scan *scan, int references,
                          struct rotarr_error *err)
{
    if (scan_urls(scan, err) < 0 || scan_literals(scan, err) < 0 ||
        (references && scan_references(scan, err) < 0)) {
        return -1;
    }
    return 0;
}

/*
 * Returns the file offset where an env value's text starts when the file
 * contains it unescaped (so offsets in the value map to the file), else -1.
 */
static long env_raw_offset(const struct rotarr_stack_file *file,
                           const struct rotarr_dotenv_entry *entry,
                           const char *text, size_t len)
{
    size_t start = entry->value_start;
    size_t end = entry->value_end;

    if (entry->quote != ROTARR_QUOTE_NONE && end - start >= 2) {
        start++;
        end--;
    }
    if (end - start != len || memcmp(file->bytes + start, text, len) != 0) {
        return -1;
    }
    return (long)start;
}

/* Returns the file offset of a scalar's text when it is stored
 * unescaped, else -1. */
static long yaml_raw_offset(const struct rotarr_stack_file *file,
                            const struct rotarr_ynode *node)
{
    size_t start = node->start;
    size_t end = node->end;

    if (node->style == ROTARR_YSTYLE_SINGLE ||
        node->style == ROTARR_YSTYLE_DOUBLE) {
        start++;
        end--;
    } else if (node->style != ROTARR_YSTYLE_PLAIN) {
        return -1;
    }
    if (end < start || end - start != node->value_len ||
        memcmp(file->bytes + start, node->value, node->value_len) != 0) {
        return -1;
    }
    return (long)start;
}

/* Returns the file offset of an app setting's text when the file
 * contains it unescaped (no XML "&amp;", no JSON "\\"), else -1. */
static long setting_raw_offset(const struct rotarr_stack_file *file,
                               const struct rotarr_appconfig_setting *setting)
{
    if (setting->end - setting->start != setting->value_len ||
        memcmp(file->bytes + setting->start, setting->value,
               setting->value_len) != 0) {
        return -1;
    }
    return (long)setting->start;
}

/* A secret file's value starts at its first byte. */
static long scan_raw_offset(const struct value_scan *scan)
{
    const struct rotarr_stack_file *file =
        rotarr_stack_file(scan->stack, scan->file);

    if (scan->entry != NULL) {
        return env_raw_offset(file, scan->entry, scan->text, scan->len);
    }
    if (scan->node != NULL) {
        return yaml_raw_offset(file, scan->node);
    }
    if (scan->setting != NULL) {
        return setting_raw_offset(file, scan->setting);
    }
    return 0;
}

/* Copies the per-file fields of a scan into a new value scan. */
static void scan_init(struct value_scan *scan, const struct value_scan *file)
{
    *scan = *file;
}

static int scan_env_file(const struct value_scan *base,
                         struct rotarr_error *err)
{
    const struct rotarr_stack_file *file =
        rotarr_stack_file(base->stack, base->file);
    const struct rotarr_dotenv_entry *entry;
    struct value_scan scan;
    size_t i;

    for (i = 0; i < rotarr_dotenv_count(file->env); i++) {
        entry = rotarr_dotenv_entry(file->env, i);
        if (entry->inherited || entry->value == NULL) {
            continue;
        }
        scan_init(&scan, base);
        scan.where = entry->key;
        scan.value_start = entry->value_start;
        scan.value_end = entry->value_end;
        scan.entry = entry;
        scan.text = entry->value;
        scan.len = entry->value_len;
        if (entry->dollar_changed) {
            /* The value was built by interpolation: search the text as
             * written, where ${VAR} references can be seen. */
            scan.text = file->bytes + entry->value_start;
            scan.len = entry->value_end - entry->value_start;
            if (entry->quote != ROTARR_QUOTE_NONE && scan.len >= 2) {
                scan.text++;
                scan.len -= 2;
            }
            scan.compose = 1;
        }
        if (occurrence_scan_value(&scan, entry->dollar_changed, err) < 0) {
            return -1;
        }
    }
    return 0;
}

/* A secret file contains the secret and at most one final line break. */
static int scan_secret_file(const struct value_scan *base,
                            struct rotarr_error *err)
{
    const struct rotarr_stack_file *file =
        rotarr_stack_file(base->stack, base->file);
    struct value_scan scan;
    size_t len = file->len;

    if (len > 0 && file->bytes[len - 1] == '\n') {
        len--;
        if (len > 0 && file->bytes[len - 1] == '\r') {
            len--;
        }
    }
    scan_init(&scan, base);
    scan.where = file->display;
    scan.text = file->bytes;
    scan.len = len;
    scan.value_start = 0;
    scan.value_end = len;
    return occurrence_scan_value(&scan, 0, err);
}

/* Every setting of an app's settings file is a value; its text in the
 * file is direct unless it contains escapes (XML "&amp;", JSON "\\"). */
static int scan_app_file(const struct value_scan *base,
                         struct rotarr_error *err)
{
    const struct rotarr_stack_file *file =
        rotarr_stack_file(base->stack, base->file);
    const struct rotarr_appconfig_setting *setting;
    struct value_scan scan;
    size_t i;

    for (i = 0; i < rotarr_appconfig_count(file->app); i++) {
        setting = rotarr_appconfig_setting(file->app, i);
        if (setting->value_len == 0) {
            continue;
        }
        scan_init(&scan, base);
        scan.where = setting->key;
        scan.text = setting->value;
        scan.len = setting->value_len;
        scan.value_start = setting->start;
        scan.value_end = setting->end;
        scan.node = setting->node;
        scan.setting = setting;
        if (occurrence_scan_value(&scan, 0, err) < 0) {
            return -1;
        }
    }
    return 0;
}

static int scan_file(const struct rotarr_stack *stack, size_t index,
                     const struct matcher *matcher,
                     struct rotarr_occurrences *outs,
                     struct rotarr_error *err)
{
    struct scan_scratch scratch = { NULL, 0, { 0, 1 } };
    struct value_scan base;
    int ret = 0;

    memset(&base, 0, sizeof(base));
    base.stack = stack;
    base.matcher = matcher;
    base.outs = outs;
    base.file = index;
    base.scratch = &scratch;
    switch (stack->files[index].kind) {
    case ROTARR_STACK_FILE_ENV:
        ret = scan_env_file(&base, err);
        break;
    case ROTARR_STACK_FILE_COMPOSE:
        ret = occurrence_scan_compose(&base, err);
        break;
    case ROTARR_STACK_FILE_SECRET:
        ret = scan_secret_file(&base, err);
        break;
    case ROTARR_STACK_FILE_APPCONFIG:
        ret = scan_app_file(&base, err);
        break;
    }
    free(scratch.claimed);
    return ret;
}

int rotarr_stack_find_occurrences_many(const struct rotarr_stack *stack,
                                       const struct rotarr_secret *const *secrets,
                                       size_t count,
                                       struct rotarr_occurrences *outs,
                                       struct rotarr_error *err)
{
    struct matcher matcher;
    size_t i;
    int ret = -1;

    if (matcher_init(&matcher, secrets, count, err) < 0) {
        goto out;
    }
    for (i = 0; i < stack->file_count; i++) {
        if (scan_file(stack, i, &matcher, outs, err) < 0) {
            goto out;
        }
    }
    ret = 0;

out:
    matcher_release(&matcher);
    return ret;
}

int rotarr_stack_find_occurrences(const struct rotarr_stack *stack,
                                  const struct rotarr_secret *secret,
                                  struct rotarr_occurrences *out,
                                  struct rotarr_error *err)
{
    return rotarr_stack_find_occurrences_many(stack, &secret, 1, out, err);
}

void rotarr_occurrences_release(struct rotarr_occurrences *occs)
{
    size_t i;

    for (i = 0; i < occs->count; i++) {
        free(occs->items[i].where);
    }
    free(occs->items);
    occs->items = NULL;
    occs->count = 0;
    occs->alloc = 0;
}
