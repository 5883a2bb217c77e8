#include "rotarr/compat.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "matcher.h"
#include "rotarr/url.h"
#include "stack_private.h"

/* Maximum nesting of compose nodes walked. */
#define MAX_DEPTH 64

/* State of one value search: the value, its place in the file, and the
 * secrets looked for. */
struct value_scan {
    const struct rotarr_stack *stack;
    const struct matcher *matcher;
    struct rotarr_occurrences *outs; /* one list per secret */
    const size_t *line_starts;       /* byte offset of each line */
    size_t line_count;
    size_t file;
    const char *where;
    const char *text; /* the value as searched */
    size_t len;
    size_t value_start, value_end; /* in the file */
    long raw_offset; /* file offset of text[0] when direct, else -1 */
    int compose;     /* compose text: '$' is written '$$' */
    int in_sequence; /* a compose sequence item */
    const struct rotarr_dotenv_entry *entry;
    const struct rotarr_ynode *node;
    const struct rotarr_appconfig_setting *setting;
};

/* Returns the 1-based line and column (in characters) of offset. */
static void position_of(const struct value_scan *scan, size_t offset,
                        size_t *line, size_t *column)
{
    const struct rotarr_stack_file *file =
        rotarr_stack_file(scan->stack, scan->file);
    size_t low = 0;
    size_t high = scan->line_count;
    size_t mid;
    size_t i;

    while (high - low > 1) {
        mid = low + (high - low) / 2;
        if (scan->line_starts[mid] <= offset) {
            low = mid;
        } else {
            high = mid;
        }
    }
    *line = low + 1;
    *column = 1;
    for (i = scan->line_starts[low]; i < offset && i < file->len; i++) {
        if (((unsigned char)file->bytes[i] & 0xc0) != 0x80) {
            (*column)++;
        }
    }
}

/* Builds the table of line start offsets of a file. */
static size_t *index_lines(const struct rotarr_stack_file *file,
                           size_t *count, struct rotarr_error *err)
{
    size_t *starts;
    size_t lines = 1;
    size_t i;
    size_t n = 1;

    for (i = 0; i < file->len; i++) {
        lines += file->bytes[i] == '\n';
    }
    starts = malloc(lines * sizeof(*starts));
    if (starts == NULL) {
        rotarr_error_set(err, ROTARR_EFILE, "out of memory");
        return NULL;
    }
    starts[0] = 0;
    for (i = 0; i < file->len; i++) {
        if (file->bytes[i] == '\n') {
            starts[n++] = i + 1;
        }
    }
    *count = lines;
    return starts;
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

static int add_occurrence(struct value_scan *scan, size_t secret,
                          enum rotarr_occurrence_kind kind, size_t sub_start,
                          size_t sub_end, int in_url,
                          struct rotarr_error *err)
{
    struct rotarr_occurrence occ;
    struct rotarr_occurrence *grown;
    struct rotarr_occurrences *out = &scan->outs[secret];

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
    occ.where = strdup(scan->where);
    if (occ.where == NULL) {
        return rotarr_error_set(err, ROTARR_EFILE, "out of memory");
    }
    if (out->count == out->alloc) {
        out->alloc = out->alloc > 0 ? out->alloc * 2 : 8;
        grown = realloc(out->items, out->alloc * sizeof(*grown));
        if (grown == NULL) {
            free(occ.where);
            return rotarr_error_set(err, ROTARR_EFILE, "out of memory");
        }
        out->items = grown;
    }
    out->items[out->count++] = occ;
    return 0;
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

/* Finds URL passwords equal to a secret and marks their bytes as claimed,
 * so that no copy is reported inside them. */
static int scan_urls(struct value_scan *scan, char *claimed,
                     struct rotarr_error *err)
{
    struct rotarr_url_parts parts;
    const char *sep;
    size_t from = 0;
    size_t start;
    size_t pw_start;
    size_t match;

    while ((sep = memmem(scan->text + from, scan->len - from, "://", 3)) !=
           NULL) {
        start = (size_t)(sep - scan->text);
        from = start + 3;
        while (start > 0 && strchr("abcdefghijklmnopqrstuvwxyz"
                                   "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-",
                                   scan->text[start - 1]) != NULL) {
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
            memset(claimed + pw_start, 1,
                   parts.password_end - parts.password_start);
            if (add_occurrence(scan, match - 1, ROTARR_OCC_URL, pw_start,
                               start + parts.password_end, 0, err) < 0) {
                return -1;
            }
        }
    }
    return 0;
}

static int range_free(const char *claimed, size_t start, size_t end)
{
    size_t i;

    for (i = start; i < end; i++) {
        if (claimed[i]) {
            return 0;
        }
    }
    return 1;
}

/*
 * Looks for a copy of a secret starting at offset at; returns its length
 * (after adding it), 0 when none starts there, or -1 on error.
 */
static long literal_at(struct value_scan *scan, const char *claimed, size_t at,
                       struct rotarr_error *err)
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
            !range_free(claimed, at, at + n) ||
            (scan->compose &&
             inside_expression(scan->text, scan->len, at, at + n))) {
            continue;
        }
        if (add_occurrence(scan, candidate - 1, ROTARR_OCC_TEXT, at, at + n,
                           0, err) < 0) {
            return -1;
        }
        return (long)n;
    }
    return 0;
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

/* The name the searched value is stored under: the env key, the last
 * compose key, or KEY of a "KEY=value" list item. */
static void value_key(const struct value_scan *scan, const char **key,
                      size_t *len)
{
    const char *dot = strrchr(scan->where, '.');
    size_t item = scan->node != NULL ? list_item_key(scan->text, scan->len)
                                     : 0;

    if (item > 0) {
        *key = scan->text;
        *len = item;
        return;
    }
    *key = dot != NULL ? dot + 1 : scan->where;
    *len = strlen(*key);
}

static int scan_literals(struct value_scan *scan, char *claimed,
                         struct rotarr_error *err)
{
    const char *key;
    size_t key_len;
    size_t whole;
    size_t item;
    size_t at = 0;
    long found;

    value_key(scan, &key, &key_len);
    if (names_identity(key, key_len)) {
        return 0;
    }
    item = scan->node != NULL ? list_item_key(scan->text, scan->len) : 0;
    whole = matcher_find_whole(scan->matcher, scan->text, scan->len,
                               scan->compose);
    if (whole > 0 && scan->len < MATCHER_MIN_TEXT &&
        (scan->in_sequence || !weak_copy_allowed(key, key_len))) {
        whole = 0;
    }
    if (whole > 0) {
        return add_occurrence(scan, whole - 1, ROTARR_OCC_VALUE, 0,
                              scan->len, 0, err);
    }
    whole = item > 0 ? matcher_find_whole(scan->matcher, scan->text + item + 1,
                                          scan->len - item - 1, scan->compose)
                     : 0;
    if (whole > 0 && scan->len - item - 1 < MATCHER_MIN_TEXT &&
        !weak_copy_allowed(key, key_len)) {
        whole = 0;
    }
    if (whole > 0) {
        return add_occurrence(scan, whole - 1, ROTARR_OCC_VALUE, item + 1,
                              scan->len, 0, err);
    }
    while (at + MATCHER_MIN_TEXT <= scan->len) {
        found = literal_at(scan, claimed, at, err);
        if (found < 0) {
            return -1;
        }
        at += found > 0 ? (size_t)found : 1;
    }
    return 0;
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

static int scan_value(struct value_scan *scan, int references,
                      struct rotarr_error *err)
{
    char *claimed;
    int ret = -1;

    claimed = calloc(scan->len + 1, 1);
    if (claimed == NULL) {
        return rotarr_error_set(err, ROTARR_EFILE, "out of memory");
    }
    if (scan_urls(scan, claimed, err) < 0 || scan_literals(scan, claimed, err) < 0 ||
        (references && scan_references(scan, err) < 0)) {
        goto out;
    }
    ret = 0;

out:
    free(claimed);
    return ret;
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
        scan.raw_offset = env_raw_offset(file, entry, scan.text, scan.len);
        if (scan_value(&scan, entry->dollar_changed, err) < 0) {
            return -1;
        }
    }
    return 0;
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

struct yaml_walk {
    const struct value_scan *base;
    struct rotarr_buf path;
    int in_sequence; /* the node being walked is a sequence item */
};

static int walk_node(struct yaml_walk *walk, const struct rotarr_ynode *node,
                     int depth, struct rotarr_error *err);

static int scan_scalar(struct yaml_walk *walk, const struct rotarr_ynode *node,
                       struct rotarr_error *err)
{
    const struct rotarr_stack_file *file =
        rotarr_stack_file(walk->base->stack, walk->base->file);
    struct value_scan scan;

    if (node->doc != file->yaml || node->value_len == 0) {
        return 0;
    }
    scan_init(&scan, walk->base);
    scan.where = walk->path.data != NULL ? walk->path.data : "";
    scan.in_sequence = walk->in_sequence;
    scan.text = node->value;
    scan.len = node->value_len;
    scan.value_start = node->start;
    scan.value_end = node->end;
    scan.raw_offset = yaml_raw_offset(file, node);
    scan.compose = 1;
    scan.node = node;
    return scan_value(&scan, 1, err);
}

static int walk_child(struct yaml_walk *walk, const char *name, size_t len,
                      const struct rotarr_ynode *child, int depth,
                      struct rotarr_error *err)
{
    size_t saved = walk->path.len;
    int ret;

    if ((walk->path.len > 0 &&
         rotarr_buf_append(&walk->path, ".", 1, err) < 0) ||
        rotarr_buf_append(&walk->path, name, len, err) < 0) {
        return -1;
    }
    ret = walk_node(walk, child, depth + 1, err);
    walk->path.len = saved;
    walk->path.data[saved] = '\0';
    return ret;
}

static int walk_node(struct yaml_walk *walk, const struct rotarr_ynode *node,
                     int depth, struct rotarr_error *err)
{
    const struct rotarr_ynode *key;
    char index[32];
    size_t i;

    if (node == NULL || depth > MAX_DEPTH) {
        return 0;
    }
    if (node->kind == ROTARR_YNODE_SCALAR) {
        return scan_scalar(walk, node, err);
    }
    for (i = 0; i < node->count; i++) {
        if (node->kind == ROTARR_YNODE_MAPPING) {
            key = node->items[2 * i];
            walk->in_sequence = 0;
            if (walk_child(walk, key->value, key->value_len,
                           node->items[2 * i + 1], depth, err) < 0) {
                return -1;
            }
            continue;
        }
        snprintf(index, sizeof(index), "%zu", i);
        walk->in_sequence = 1;
        if (walk_child(walk, index, strlen(index), node->items[i], depth,
                       err) < 0) {
            return -1;
        }
    }
    return 0;
}

static int scan_compose_file(const struct value_scan *base,
                             struct rotarr_error *err)
{
    struct yaml_walk walk = { base, ROTARR_BUF_INIT, 0 };
    int ret;

    ret = walk_node(
        &walk, rotarr_ydoc_root(rotarr_stack_file(base->stack, base->file)->yaml),
        0, err);
    rotarr_buf_release(&walk.path);
    return ret;
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
    scan.raw_offset = 0;
    return scan_value(&scan, 0, err);
}

/* Every setting of an app's settings file is a value; its text in the
 * file is direct unless it holds escapes (XML "&amp;", JSON "\\"). */
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
        if (setting->node != NULL) {
            scan.raw_offset = yaml_raw_offset(file, setting->node);
        } else {
            scan.raw_offset =
                setting->end - setting->start == setting->value_len &&
                        memcmp(file->bytes + setting->start, setting->value,
                               setting->value_len) == 0
                    ? (long)setting->start
                    : -1;
        }
        if (scan_value(&scan, 0, err) < 0) {
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
    struct value_scan base;
    size_t *lines;
    int ret = 0;

    memset(&base, 0, sizeof(base));
    lines = index_lines(&stack->files[index], &base.line_count, err);
    if (lines == NULL) {
        return -1;
    }
    base.stack = stack;
    base.matcher = matcher;
    base.outs = outs;
    base.line_starts = lines;
    base.file = index;
    switch (stack->files[index].kind) {
    case ROTARR_STACK_FILE_ENV:
        ret = scan_env_file(&base, err);
        break;
    case ROTARR_STACK_FILE_COMPOSE:
        ret = scan_compose_file(&base, err);
        break;
    case ROTARR_STACK_FILE_SECRET:
        ret = scan_secret_file(&base, err);
        break;
    case ROTARR_STACK_FILE_APPCONFIG:
        ret = scan_app_file(&base, err);
        break;
    }
    free(lines);
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
