#include "rotarr/compat.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "rotarr/url.h"
#include "stack_private.h"

/* Copies shorter than this inside longer values are not looked for. */
#define MIN_TEXT_MATCH 8

/* Maximum nesting of compose nodes walked. */
#define MAX_DEPTH 64

/* What the finder knows about the value it is searching. */
struct value_scan {
    const struct rotarr_stack *stack;
    const struct rotarr_secret *secret;
    struct rotarr_occurrences *out;
    size_t file;
    const char *where;
    const char *text; /* the value as searched */
    size_t len;
    size_t value_start, value_end; /* in the file */
    long raw_offset; /* file offset of text[0] when direct, else -1 */
    int compose;     /* compose text: '$' is written '$$' */
    const struct rotarr_dotenv_entry *entry;
    const struct rotarr_ynode *node;
};

static void position_of(const struct rotarr_stack_file *file, size_t offset,
                        size_t *line, size_t *column)
{
    size_t i;

    *line = 1;
    *column = 1;
    for (i = 0; i < offset && i < file->len; i++) {
        if (file->bytes[i] == '\n') {
            (*line)++;
            *column = 1;
        } else if (((unsigned char)file->bytes[i] & 0xc0) != 0x80) {
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

static int add_occurrence(struct value_scan *scan,
                          enum rotarr_occurrence_kind kind, size_t sub_start,
                          size_t sub_end, int in_url,
                          struct rotarr_error *err)
{
    struct rotarr_occurrence occ;
    struct rotarr_occurrence *grown;
    struct rotarr_occurrences *out = scan->out;

    memset(&occ, 0, sizeof(occ));
    occ.file = scan->file;
    occ.kind = kind;
    occ.value_start = scan->value_start;
    occ.value_end = scan->value_end;
    occ.sub_start = sub_start;
    occ.sub_end = sub_end;
    occ.entry = scan->entry;
    occ.node = scan->node;
    occ.in_url = in_url;
    occ.direct = scan->raw_offset >= 0;
    if (occ.direct) {
        occ.start = (size_t)scan->raw_offset + sub_start;
        occ.end = (size_t)scan->raw_offset + sub_end;
    }
    if (already_found(out, &occ)) {
        return 0;
    }
    position_of(rotarr_stack_file(scan->stack, scan->file),
                occ.direct ? occ.start : occ.value_start, &occ.line,
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

static int url_password_matches(struct value_scan *scan, const char *pw,
                                size_t len, struct rotarr_error *err)
{
    struct rotarr_buf encoded = ROTARR_BUF_INIT;
    struct rotarr_buf decoded = ROTARR_BUF_INIT;
    int match = 0;

    if (scan->compose) {
        if (compose_unescape(pw, len, &encoded, err) < 0) {
            match = -1;
            goto out;
        }
        pw = encoded.data != NULL ? encoded.data : "";
        len = encoded.len;
    }
    if (rotarr_url_decode(pw, len, &decoded, NULL) < 0) {
        goto out;
    }
    match = decoded.len == rotarr_secret_len(scan->secret) &&
            (decoded.len == 0 ||
             sodium_memcmp(decoded.data, rotarr_secret_data(scan->secret),
                           decoded.len) == 0);

out:
    if (encoded.data != NULL) {
        sodium_memzero(encoded.data, encoded.len);
    }
    if (decoded.data != NULL) {
        sodium_memzero(decoded.data, decoded.len);
    }
    rotarr_buf_release(&encoded);
    rotarr_buf_release(&decoded);
    return match;
}

/* Finds URL passwords equal to the secret; marks them in taken. */
static int scan_urls(struct value_scan *scan, char *taken,
                     struct rotarr_error *err)
{
    struct rotarr_url_parts parts;
    const char *sep;
    size_t from = 0;
    size_t start;
    size_t pw_start;
    int match;

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
        match = url_password_matches(scan, scan->text + pw_start,
                                     parts.password_end -
                                         parts.password_start,
                                     err);
        if (match < 0) {
            return -1;
        }
        if (match == 1) {
            memset(taken + pw_start, 1,
                   parts.password_end - parts.password_start);
            if (add_occurrence(scan, ROTARR_OCC_URL, pw_start,
                               start + parts.password_end, 0, err) < 0) {
                return -1;
            }
        }
    }
    return 0;
}

/* The secret as it is written in the searched text ('$$' in compose). */
static struct rotarr_secret *needle_for(const struct value_scan *scan,
                                        struct rotarr_error *err)
{
    const char *s = rotarr_secret_data(scan->secret);
    size_t len = rotarr_secret_len(scan->secret);
    struct rotarr_secret *needle;
    size_t dollars = 0;
    size_t i;
    size_t j = 0;

    for (i = 0; scan->compose && i < len; i++) {
        dollars += s[i] == '$';
    }
    needle = rotarr_secret_alloc(len + dollars, err);
    if (needle == NULL) {
        return NULL;
    }
    for (i = 0; i < len; i++) {
        rotarr_secret_data(needle)[j++] = s[i];
        if (scan->compose && s[i] == '$') {
            rotarr_secret_data(needle)[j++] = '$';
        }
    }
    return needle;
}

static int range_free(const char *taken, size_t start, size_t end)
{
    size_t i;

    for (i = start; i < end; i++) {
        if (taken[i]) {
            return 0;
        }
    }
    return 1;
}

static int scan_literals(struct value_scan *scan, char *taken,
                         struct rotarr_error *err)
{
    struct rotarr_secret *needle = needle_for(scan, err);
    const char *found;
    size_t n;
    size_t from = 0;
    size_t at;
    int ret = -1;

    if (needle == NULL) {
        return -1;
    }
    n = rotarr_secret_len(needle);
    if (n == 0) {
        ret = 0;
        goto out;
    }
    if (n == scan->len &&
        sodium_memcmp(scan->text, rotarr_secret_data(needle), n) == 0) {
        ret = add_occurrence(scan, ROTARR_OCC_VALUE, 0, n, 0, err);
        goto out;
    }
    while (n >= MIN_TEXT_MATCH && from + n <= scan->len &&
           (found = memmem(scan->text + from, scan->len - from,
                           rotarr_secret_data(needle), n)) != NULL) {
        at = (size_t)(found - scan->text);
        from = at + n;
        if (!range_free(taken, at, at + n) ||
            (scan->compose &&
             inside_expression(scan->text, scan->len, at, at + n))) {
            continue;
        }
        if (add_occurrence(scan, ROTARR_OCC_TEXT, at, at + n, 0, err) < 0) {
            goto out;
        }
    }
    ret = 0;

out:
    rotarr_secret_free(needle);
    return ret;
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

    if (ref->name_len >= sizeof(name) || ref->nested) {
        return 0;
    }
    memcpy(name, ref->name, ref->name_len);
    name[ref->name_len] = '\0';
    value = rotarr_stack_lookup(scan->stack, name);
    if (value == NULL || rotarr_secret_len(scan->secret) == 0 ||
        strlen(value) != rotarr_secret_len(scan->secret) ||
        sodium_memcmp(value, rotarr_secret_data(scan->secret),
                      strlen(value)) != 0) {
        return 0;
    }
    if (add_occurrence(scan, ROTARR_OCC_REFERENCE, ref->start, ref->end,
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
    char *taken;
    int ret = -1;

    taken = calloc(scan->len + 1, 1);
    if (taken == NULL) {
        return rotarr_error_set(err, ROTARR_EFILE, "out of memory");
    }
    if (scan_urls(scan, taken, err) < 0 || scan_literals(scan, taken, err) < 0 ||
        (references && scan_references(scan, err) < 0)) {
        goto out;
    }
    ret = 0;

out:
    free(taken);
    return ret;
}

/*
 * Returns the file offset where an env value's text starts when the file
 * holds it unescaped (so offsets in the value map to the file), else -1.
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

static int scan_env_file(const struct rotarr_stack *stack, size_t index,
                         const struct rotarr_secret *secret,
                         struct rotarr_occurrences *out,
                         struct rotarr_error *err)
{
    const struct rotarr_stack_file *file = rotarr_stack_file(stack, index);
    const struct rotarr_dotenv_entry *entry;
    struct value_scan scan;
    size_t i;

    for (i = 0; i < rotarr_dotenv_count(file->env); i++) {
        entry = rotarr_dotenv_entry(file->env, i);
        if (entry->inherited || entry->value == NULL) {
            continue;
        }
        memset(&scan, 0, sizeof(scan));
        scan.stack = stack;
        scan.secret = secret;
        scan.out = out;
        scan.file = index;
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
    const struct rotarr_stack *stack;
    const struct rotarr_secret *secret;
    struct rotarr_occurrences *out;
    size_t file;
    struct rotarr_buf path;
};

static int walk_node(struct yaml_walk *walk, const struct rotarr_ynode *node,
                     int depth, struct rotarr_error *err);

static int scan_scalar(struct yaml_walk *walk, const struct rotarr_ynode *node,
                       struct rotarr_error *err)
{
    const struct rotarr_stack_file *file =
        rotarr_stack_file(walk->stack, walk->file);
    struct value_scan scan;

    if (node->doc != file->yaml || node->value_len == 0) {
        return 0;
    }
    memset(&scan, 0, sizeof(scan));
    scan.stack = walk->stack;
    scan.secret = walk->secret;
    scan.out = walk->out;
    scan.file = walk->file;
    scan.where = walk->path.data != NULL ? walk->path.data : "";
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
            if (walk_child(walk, key->value, key->value_len,
                           node->items[2 * i + 1], depth, err) < 0) {
                return -1;
            }
            continue;
        }
        snprintf(index, sizeof(index), "%zu", i);
        if (walk_child(walk, index, strlen(index), node->items[i], depth,
                       err) < 0) {
            return -1;
        }
    }
    return 0;
}

static int scan_compose_file(const struct rotarr_stack *stack, size_t index,
                             const struct rotarr_secret *secret,
                             struct rotarr_occurrences *out,
                             struct rotarr_error *err)
{
    struct yaml_walk walk = { stack, secret, out, index, ROTARR_BUF_INIT };
    int ret;

    ret = walk_node(&walk,
                    rotarr_ydoc_root(rotarr_stack_file(stack, index)->yaml), 0,
                    err);
    rotarr_buf_release(&walk.path);
    return ret;
}

/* A secret file holds the secret and at most one final line break. */
static int scan_secret_file(const struct rotarr_stack *stack, size_t index,
                            const struct rotarr_secret *secret,
                            struct rotarr_occurrences *out,
                            struct rotarr_error *err)
{
    const struct rotarr_stack_file *file = rotarr_stack_file(stack, index);
    struct value_scan scan;
    size_t len = file->len;

    if (len > 0 && file->bytes[len - 1] == '\n') {
        len--;
        if (len > 0 && file->bytes[len - 1] == '\r') {
            len--;
        }
    }
    memset(&scan, 0, sizeof(scan));
    scan.stack = stack;
    scan.secret = secret;
    scan.out = out;
    scan.file = index;
    scan.where = file->display;
    scan.text = file->bytes;
    scan.len = len;
    scan.value_start = 0;
    scan.value_end = len;
    scan.raw_offset = 0;
    return scan_value(&scan, 0, err);
}

int rotarr_stack_find_occurrences(const struct rotarr_stack *stack,
                                  const struct rotarr_secret *secret,
                                  struct rotarr_occurrences *out,
                                  struct rotarr_error *err)
{
    size_t i;
    int ret = 0;

    for (i = 0; i < stack->file_count && ret == 0; i++) {
        switch (stack->files[i].kind) {
        case ROTARR_STACK_FILE_ENV:
            ret = scan_env_file(stack, i, secret, out, err);
            break;
        case ROTARR_STACK_FILE_COMPOSE:
            ret = scan_compose_file(stack, i, secret, out, err);
            break;
        case ROTARR_STACK_FILE_SECRET:
            ret = scan_secret_file(stack, i, secret, out, err);
            break;
        }
    }
    return ret;
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
