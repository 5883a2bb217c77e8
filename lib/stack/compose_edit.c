#include "rotarr/compat.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "rotarr/compose_edit.h"
#include "rotarr/patch.h"
#include "wipe_buf.h"

/* Nesting step used when the file shows none. */
#define DEFAULT_STEP 2

/* Maximum indentation written, in columns. */
#define INDENT_MAX 256

/* The bytes of the file a node sits in, and its line ending. */
struct layout {
    const char *bytes;
    size_t len;
    const char *eol;
};

static void layout_of(const struct rotarr_ynode *node, struct layout *l)
{
    l->bytes = rotarr_ydoc_bytes(node->doc, &l->len);
    l->eol = memmem(l->bytes, l->len, "\r\n", 2) != NULL ? "\r\n" : "\n";
}

static void wipe_free(char *text, size_t len)
{
    if (text != NULL) {
        sodium_memzero(text, len);
        free(text);
    }
}

int rotarr_text_edits_overlap(const struct rotarr_text_edits *edits,
                              size_t start, size_t end)
{
    const struct rotarr_text_edit *e;
    size_t i;

    for (i = 0; i < edits->count; i++) {
        e = &edits->items[i];
        if (e->start == e->end) {
            if (start < e->start && e->start < end) {
                return 1;
            }
        } else if (start == end) {
            if (e->start < start && start < e->end) {
                return 1;
            }
        } else if (start < e->end && e->start < end) {
            return 1;
        }
    }
    return 0;
}

/* Appends text to the insertion e, keeping the old text first. */
static int join_insertion(struct rotarr_text_edit *e, const char *text,
                          size_t len, struct rotarr_error *err)
{
    char *joined = malloc(e->len + len + 1);

    if (joined == NULL) {
        return rotarr_error_set(err, ROTARR_EFILE, "out of memory");
    }
    memcpy(joined, e->text, e->len);
    memcpy(joined + e->len, text, len);
    joined[e->len + len] = '\0';
    wipe_free(e->text, e->len);
    e->text = joined;
    e->len += len;
    return 0;
}

int rotarr_text_edits_add(struct rotarr_text_edits *edits, size_t start,
                          size_t end, const char *text, size_t len,
                          struct rotarr_error *err)
{
    struct rotarr_text_edit *grown;
    struct rotarr_text_edit *e;
    size_t i;

    if (start > end) {
        return rotarr_error_set(err, ROTARR_EFILE,
                                "invalid edit range %zu-%zu", start, end);
    }
    for (i = 0; i < edits->count; i++) {
        e = &edits->items[i];
        if (e->start == start && e->end == end && e->len == len &&
            memcmp(e->text, text, len) == 0) {
            return 0;
        }
        if (start == end && e->start == start && e->end == start) {
            return join_insertion(e, text, len, err);
        }
    }
    if (rotarr_text_edits_overlap(edits, start, end)) {
        return rotarr_error_set(err, ROTARR_EFILE,
                                "two changes overlap at bytes %zu-%zu of "
                                "the same file",
                                start, end);
    }
    grown = realloc(edits->items, (edits->count + 1) * sizeof(*grown));
    if (grown == NULL) {
        return rotarr_error_set(err, ROTARR_EFILE, "out of memory");
    }
    edits->items = grown;
    e = &grown[edits->count];
    e->text = malloc(len + 1);
    if (e->text == NULL) {
        return rotarr_error_set(err, ROTARR_EFILE, "out of memory");
    }
    memcpy(e->text, text, len);
    e->text[len] = '\0';
    e->start = start;
    e->end = end;
    e->len = len;
    edits->count++;
    return 0;
}

int rotarr_text_edits_apply(const struct rotarr_text_edits *edits,
                            const char *bytes, size_t len,
                            struct rotarr_buf *out, struct rotarr_error *err)
{
    struct rotarr_patch *patch = rotarr_patch_new();
    size_t i;
    int ret = -1;

    if (patch == NULL) {
        return rotarr_error_set(err, ROTARR_EFILE, "out of memory");
    }
    for (i = 0; i < edits->count; i++) {
        if (rotarr_patch_add(patch, edits->items[i].start,
                             edits->items[i].end, edits->items[i].text,
                             edits->items[i].len, err) < 0) {
            goto out;
        }
    }
    ret = rotarr_patch_apply(patch, bytes, len, out, err);

out:
    rotarr_patch_free(patch);
    return ret;
}

void rotarr_text_edits_release(struct rotarr_text_edits *edits)
{
    size_t i;

    for (i = 0; i < edits->count; i++) {
        wipe_free(edits->items[i].text, edits->items[i].len);
    }
    free(edits->items);
    edits->items = NULL;
    edits->count = 0;
}

static size_t line_start(const struct layout *l, size_t off)
{
    while (off > 0 && l->bytes[off - 1] != '\n') {
        off--;
    }
    return off;
}

/* Returns the offset of the line after the one holding the byte before
 * off: where a line inserted after a span ending at off goes. */
static size_t after_line(const struct layout *l, size_t off)
{
    const char *nl;

    if (off > 0 && l->bytes[off - 1] == '\n') {
        return off;
    }
    nl = memchr(l->bytes + off, '\n', l->len - off);
    return nl != NULL ? (size_t)(nl - l->bytes) + 1 : l->len;
}

/* An alias value is the anchored node, whose span lies before the key. */
static size_t value_end(const struct rotarr_ynode *key,
                        const struct rotarr_ynode *value)
{
    return value->start < key->end ? key->end : value->end;
}

/* Returns the column step from a block mapping key to the keys of its
 * block mapping value, searching map and below, or 0 when none shows. */
static size_t step_below(const struct rotarr_ynode *map, int depth)
{
    const struct rotarr_ynode *key;
    const struct rotarr_ynode *value;
    size_t step;
    size_t i;

    for (i = 0; depth < 8 && i < map->count; i++) {
        key = map->items[2 * i];
        value = map->items[2 * i + 1];
        if (value->kind != ROTARR_YNODE_MAPPING || value->flow ||
            value->count == 0 || value->start < key->end) {
            continue;
        }
        if (value->items[0]->line > key->line &&
            value->items[0]->column > key->column) {
            return value->items[0]->column - key->column;
        }
        step = step_below(value, depth + 1);
        if (step > 0) {
            return step;
        }
    }
    return 0;
}

/* Returns the nesting step of the file around map, in columns: the one
 * map uses, else the one the document starts with. */
static size_t nesting_step(const struct rotarr_ynode *map)
{
    const struct rotarr_ynode *root = rotarr_ydoc_root(map->doc);
    size_t step = step_below(map, 0);

    if (step == 0 && root != NULL && root->kind == ROTARR_YNODE_MAPPING &&
        !root->flow) {
        step = step_below(root, 0);
    }
    return step > 0 && step <= 8 ? step : DEFAULT_STEP;
}

static int add_spaces(struct rotarr_buf *out, size_t n,
                      struct rotarr_error *err)
{
    static const char spaces[] = "                ";

    while (n > 0) {
        size_t chunk = n < sizeof(spaces) - 1 ? n : sizeof(spaces) - 1;

        if (rotarr_buf_append(out, spaces, chunk, err) < 0) {
            return -1;
        }
        n -= chunk;
    }
    return 0;
}

/*
 * Appends the lines of text to out, each indented by base columns plus
 * step columns for every two leading spaces, and ended with the file's
 * line ending.
 */
static int reindent(const char *text, size_t base, size_t step,
                    const char *eol, struct rotarr_buf *out,
                    struct rotarr_error *err)
{
    const char *line = text;
    const char *nl;
    size_t lead;
    size_t len;

    while (*line != '\0') {
        nl = strchr(line, '\n');
        len = nl != NULL ? (size_t)(nl - line) : strlen(line);
        lead = strspn(line, " ");
        if (lead > len) {
            lead = len;
        }
        if (base + lead / 2 * step > INDENT_MAX ||
            add_spaces(out, base + lead / 2 * step, err) < 0 ||
            rotarr_buf_append(out, line + lead, len - lead, err) < 0 ||
            rotarr_buf_puts(out, eol, err) < 0) {
            return err != NULL && err->code != ROTARR_OK
                       ? -1
                       : rotarr_error_set(err, ROTARR_EUSAGE,
                                          "indentation too deep");
        }
        line = nl != NULL ? nl + 1 : line + len;
    }
    return 0;
}

/* Adds an insertion at off, starting a new line first when off is the
 * end of a file that lacks a final line break. */
static int insert_lines(struct rotarr_text_edits *edits,
                        const struct layout *l, size_t off,
                        struct rotarr_buf *lines, struct rotarr_error *err)
{
    struct rotarr_buf text = ROTARR_BUF_INIT;
    int ret = -1;

    if (off == l->len && l->len > 0 && l->bytes[l->len - 1] != '\n' &&
        rotarr_buf_puts(&text, l->eol, err) < 0) {
        goto out;
    }
    if (rotarr_buf_append(&text, lines->data, lines->len, err) < 0) {
        goto out;
    }
    ret = rotarr_text_edits_add(edits, off, off, text.data, text.len, err);

out:
    rotarr_wipe_buf_release(&text);
    return ret;
}

/* Returns the offset of the opening bracket of a flow collection. */
static size_t flow_open(const struct layout *l, const struct rotarr_ynode *c,
                        char bracket)
{
    const char *p = memchr(l->bytes + c->start, bracket, c->end - c->start);

    return p != NULL ? (size_t)(p - l->bytes) : c->start;
}

/* Returns the index of the pair after which new pairs go. */
static size_t anchor_pair(const struct rotarr_ynode *map, const char *after)
{
    size_t i;

    for (i = 0; after != NULL && i < map->count; i++) {
        if (rotarr_ynode_equals(map->items[2 * i], after)) {
            return i;
        }
    }
    return map->count - 1;
}

static int insert_flow_pair(struct rotarr_text_edits *edits,
                            const struct layout *l,
                            const struct rotarr_ynode *map, const char *text,
                            struct rotarr_error *err)
{
    struct rotarr_buf entry = ROTARR_BUF_INIT;
    size_t off;
    size_t last;
    int ret = -1;

    if (strchr(text, '\n') != NULL && strchr(text, '\n')[1] != '\0') {
        return rotarr_error_set(err, ROTARR_EUSAGE,
                                "%s:%zu: a flow mapping takes only one-line "
                                "entries; write it as a block mapping",
                                rotarr_ydoc_path(map->doc), map->line);
    }
    if (map->count == 0) {
        off = flow_open(l, map, '{') + 1;
    } else {
        last = map->count - 1;
        off = value_end(map->items[2 * last], map->items[2 * last + 1]);
    }
    if ((map->count > 0 && rotarr_buf_puts(&entry, ", ", err) < 0) ||
        rotarr_buf_append(&entry, text, strcspn(text, "\n"), err) < 0) {
        goto out;
    }
    ret = rotarr_text_edits_add(edits, off, off, entry.data, entry.len, err);

out:
    rotarr_wipe_buf_release(&entry);
    return ret;
}

int rotarr_yaml_insert_pairs(struct rotarr_text_edits *edits,
                             const struct rotarr_ynode *map,
                             const char *after, const char *text,
                             struct rotarr_error *err)
{
    struct rotarr_buf lines = ROTARR_BUF_INIT;
    struct layout l;
    size_t pair;
    int ret = -1;

    if (map == NULL || map->kind != ROTARR_YNODE_MAPPING) {
        return rotarr_error_set(err, ROTARR_EUSAGE,
                                "cannot add keys to a value that is not a "
                                "mapping");
    }
    layout_of(map, &l);
    if (map->flow || map->count == 0) {
        return insert_flow_pair(edits, &l, map, text, err);
    }
    pair = anchor_pair(map, after);
    if (reindent(text, map->items[0]->column - 1, nesting_step(map), l.eol,
                 &lines, err) < 0) {
        goto out;
    }
    ret = insert_lines(edits, &l,
                       after_line(&l, value_end(map->items[2 * pair],
                                                map->items[2 * pair + 1])),
                       &lines, err);

out:
    rotarr_wipe_buf_release(&lines);
    return ret;
}

static int encode_value(const char *value, int flow,
                        enum rotarr_yscalar_style style,
                        struct rotarr_buf *out, struct rotarr_error *err);

/* Returns the style new items of seq are written in. */
static enum rotarr_yscalar_style item_style(const struct rotarr_ynode *seq)
{
    const struct rotarr_ynode *last;

    if (seq->count == 0) {
        return seq->flow ? ROTARR_YSTYLE_DOUBLE : ROTARR_YSTYLE_PLAIN;
    }
    last = seq->items[seq->count - 1];
    if (last->kind != ROTARR_YNODE_SCALAR ||
        last->style == ROTARR_YSTYLE_LITERAL ||
        last->style == ROTARR_YSTYLE_FOLDED) {
        return ROTARR_YSTYLE_PLAIN;
    }
    return last->style;
}

/* Returns the columns before the dash of the block sequence item. */
static size_t dash_indent(const struct layout *l,
                          const struct rotarr_ynode *item)
{
    size_t start = line_start(l, item->start);
    size_t p = item->start;

    while (p > start && l->bytes[p - 1] == ' ') {
        p--;
    }
    if (p > start && l->bytes[p - 1] == '-') {
        return p - 1 - start;
    }
    return item->column > 3 ? item->column - 3 : 0;
}

static int append_flow_items(struct rotarr_text_edits *edits,
                             const struct layout *l,
                             const struct rotarr_ynode *seq,
                             const char *const *items, size_t count,
                             struct rotarr_error *err)
{
    enum rotarr_yscalar_style style = item_style(seq);
    struct rotarr_buf text = ROTARR_BUF_INIT;
    const struct rotarr_ynode *last;
    size_t off = flow_open(l, seq, '[') + 1;
    size_t i;
    int ret = -1;

    if (seq->count > 0) {
        last = seq->items[seq->count - 1];
        off = last->start >= seq->start ? last->end : seq->end - 1;
    }
    for (i = 0; i < count; i++) {
        if ((seq->count > 0 || i > 0) &&
            rotarr_buf_puts(&text, ", ", err) < 0) {
            goto out;
        }
        if (encode_value(items[i], 1, style, &text, err) < 0) {
            goto out;
        }
    }
    ret = rotarr_text_edits_add(edits, off, off, text.data, text.len, err);

out:
    rotarr_wipe_buf_release(&text);
    return ret;
}

int rotarr_yaml_append_items(struct rotarr_text_edits *edits,
                             const struct rotarr_ynode *seq,
                             const char *const *items, size_t count,
                             struct rotarr_error *err)
{
    struct rotarr_buf lines = ROTARR_BUF_INIT;
    const struct rotarr_ynode *last;
    struct layout l;
    size_t indent;
    size_t i;
    int ret = -1;

    if (seq == NULL || seq->kind != ROTARR_YNODE_SEQUENCE) {
        return rotarr_error_set(err, ROTARR_EUSAGE,
                                "cannot add items to a value that is not a "
                                "list");
    }
    layout_of(seq, &l);
    if (seq->flow || seq->count == 0) {
        return append_flow_items(edits, &l, seq, items, count, err);
    }
    last = seq->items[seq->count - 1];
    if (last->start < seq->start) {
        return rotarr_error_set(err, ROTARR_EUSAGE,
                                "%s:%zu: the list ends with an alias; add "
                                "the items by hand",
                                rotarr_ydoc_path(seq->doc), seq->line);
    }
    indent = dash_indent(&l, seq->items[0]);
    for (i = 0; i < count; i++) {
        if (add_spaces(&lines, indent, err) < 0 ||
            rotarr_buf_puts(&lines, "- ", err) < 0 ||
            encode_value(items[i], 0, item_style(seq), &lines, err) < 0 ||
            rotarr_buf_puts(&lines, l.eol, err) < 0) {
            goto out;
        }
    }
    ret = insert_lines(edits, &l, after_line(&l, last->end), &lines, err);

out:
    rotarr_wipe_buf_release(&lines);
    return ret;
}

/* Appends text escaped for a quoted style: quote is '\'' or '"'. */
static int escape_quoted(const char *text, char quote, struct rotarr_buf *out,
                         struct rotarr_error *err)
{
    for (; *text != '\0'; text++) {
        if ((*text == quote && quote == '\'' &&
             rotarr_buf_append(out, "'", 1, err) < 0) ||
            ((*text == '"' || *text == '\\') && quote == '"' &&
             rotarr_buf_append(out, "\\", 1, err) < 0) ||
            rotarr_buf_append(out, text, 1, err) < 0) {
            return -1;
        }
    }
    return 0;
}

int rotarr_yaml_append_to_scalar(struct rotarr_text_edits *edits,
                                 const struct rotarr_ynode *node,
                                 const char *text, struct rotarr_error *err)
{
    struct rotarr_buf escaped = ROTARR_BUF_INIT;
    size_t off = node->end;
    int ret = -1;

    if (node->kind != ROTARR_YNODE_SCALAR || strchr(text, '\n') != NULL) {
        return rotarr_error_set(err, ROTARR_EUSAGE,
                                "cannot add text to this value");
    }
    if (node->style == ROTARR_YSTYLE_SINGLE ||
        node->style == ROTARR_YSTYLE_DOUBLE) {
        off = node->end - 1;
        if (escape_quoted(text,
                          node->style == ROTARR_YSTYLE_SINGLE ? '\'' : '"',
                          &escaped, err) < 0) {
            goto out;
        }
    } else if (strstr(text, ": ") != NULL || strstr(text, " #") != NULL) {
        rotarr_error_set(err, ROTARR_EUSAGE,
                         "%s:%zu: the text to add would end the plain "
                         "value early; quote the value",
                         rotarr_ydoc_path(node->doc), node->line);
        goto out;
    } else if (rotarr_buf_puts(&escaped, text, err) < 0) {
        goto out;
    }
    ret = rotarr_text_edits_add(edits, off, off, escaped.data, escaped.len,
                                err);

out:
    rotarr_wipe_buf_release(&escaped);
    return ret;
}

int rotarr_yaml_replace_node(struct rotarr_text_edits *edits,
                             const struct rotarr_ynode *node,
                             const char *text, struct rotarr_error *err)
{
    return rotarr_text_edits_add(edits, node->start, node->end, text,
                                 strlen(text), err);
}

/* Returns 1 for "${NAME}" or "${NAME:?message}", optionally after
 * "KEY=": text that block YAML reads as a plain scalar. */
static int is_plain_reference(const char *value)
{
    size_t n = strspn(value, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqr"
                             "stuvwxyz0123456789_");

    if (n > 0 && value[n] == '=') {
        value += n + 1;
    }
    if (strncmp(value, "${", 2) != 0 ||
        strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_",
               value[2]) == NULL ||
        value[2] == '\0') {
        return 0;
    }
    n = strspn(value + 2, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuv"
                          "wxyz0123456789_");
    value += 2 + n;
    if (strncmp(value, ":?", 2) == 0) {
        /* "${NAME:?NAME is not set}": a message of words stays plain. */
        value += 2 + strspn(value + 2, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghij"
                                       "klmnopqrstuvwxyz0123456789_ ");
    }
    return strcmp(value, "}") == 0;
}

/* Returns 1 for a command-line option such as "--requirepass", which
 * YAML reads as a plain scalar in any context. */
static int is_plain_option(const char *value)
{
    size_t n = strspn(value, "-");

    return (n == 1 || n == 2) &&
           strspn(value + n, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqr"
                             "stuvwxyz0123456789-") == strlen(value + n) &&
           value[n] != '\0' && value[n] != '-';
}

/* Appends value as a scalar for a block (flow 0) or flow context. */
static int encode_value(const char *value, int flow,
                        enum rotarr_yscalar_style style,
                        struct rotarr_buf *out, struct rotarr_error *err)
{
    if (style == ROTARR_YSTYLE_PLAIN &&
        ((!flow && is_plain_reference(value)) || is_plain_option(value))) {
        return rotarr_buf_puts(out, value, err);
    }
    if (style == ROTARR_YSTYLE_LITERAL || style == ROTARR_YSTYLE_FOLDED) {
        style = ROTARR_YSTYLE_PLAIN;
    }
    return rotarr_yaml_encode_scalar(value, strlen(value), style, out, err);
}

/* Replaces or fills the value node of an existing map entry. */
static int set_map_value(struct rotarr_text_edits *edits,
                         const struct rotarr_ynode *env,
                         const struct rotarr_ynode *value, const char *text,
                         struct rotarr_error *err)
{
    struct rotarr_buf encoded = ROTARR_BUF_INIT;
    int ret = -1;

    if (value->kind != ROTARR_YNODE_SCALAR ||
        value->style == ROTARR_YSTYLE_LITERAL ||
        value->style == ROTARR_YSTYLE_FOLDED) {
        return rotarr_error_set(err, ROTARR_EUSAGE,
                                "%s:%zu: this environment value is not a "
                                "one-line text; change it by hand",
                                rotarr_ydoc_path(value->doc), value->line);
    }
    if ((value->start == value->end &&
         rotarr_buf_puts(&encoded, " ", err) < 0) ||
        encode_value(text, env->flow, value->style, &encoded, err) < 0) {
        goto out;
    }
    ret = rotarr_text_edits_add(edits, value->start, value->end, encoded.data,
                                encoded.len, err);

out:
    rotarr_wipe_buf_release(&encoded);
    return ret;
}

static int set_in_map(struct rotarr_text_edits *edits,
                      const struct rotarr_ynode *env, const char *key,
                      const char *value, struct rotarr_error *err)
{
    const struct rotarr_ynode *const *pairs;
    struct rotarr_buf pair = ROTARR_BUF_INIT;
    size_t count = rotarr_ynode_pairs(env, &pairs);
    size_t i;
    int ret = -1;

    for (i = 0; i < count; i++) {
        if (rotarr_ynode_equals(pairs[2 * i], key)) {
            return set_map_value(edits, env, pairs[2 * i + 1], value, err);
        }
    }
    if (rotarr_buf_printf(&pair, err, "%s: ", key) < 0 ||
        encode_value(value, env->flow, ROTARR_YSTYLE_PLAIN, &pair, err) < 0) {
        goto out;
    }
    ret = rotarr_yaml_insert_pairs(edits, env, NULL, pair.data, err);

out:
    rotarr_wipe_buf_release(&pair);
    return ret;
}

/* Returns 1 when a list item "KEY" or "KEY=..." sets key. */
static int item_sets(const struct rotarr_ynode *item, const char *key)
{
    size_t n = strlen(key);

    return item->kind == ROTARR_YNODE_SCALAR && item->value_len >= n &&
           strncmp(item->value, key, n) == 0 &&
           (item->value[n] == '\0' || item->value[n] == '=');
}

static int set_in_list(struct rotarr_text_edits *edits,
                       const struct rotarr_ynode *env, const char *key,
                       const char *value, struct rotarr_error *err)
{
    struct rotarr_buf item = ROTARR_BUF_INIT;
    struct rotarr_buf encoded = ROTARR_BUF_INIT;
    const char *items[1];
    size_t i;
    int ret = -1;

    if (rotarr_buf_printf(&item, err, "%s=%s", key, value) < 0) {
        goto out;
    }
    for (i = 0; i < env->count; i++) {
        if (!item_sets(env->items[i], key)) {
            continue;
        }
        if (encode_value(item.data, env->flow, env->items[i]->style,
                         &encoded, err) < 0) {
            goto out;
        }
        ret = rotarr_text_edits_add(edits, env->items[i]->start,
                                    env->items[i]->end, encoded.data,
                                    encoded.len, err);
        goto out;
    }
    items[0] = item.data;
    ret = rotarr_yaml_append_items(edits, env, items, 1, err);

out:
    rotarr_wipe_buf_release(&item);
    rotarr_wipe_buf_release(&encoded);
    return ret;
}

int rotarr_compose_env_set(struct rotarr_text_edits *edits,
                           const struct rotarr_ynode *service,
                           const char *key, const char *value,
                           const char *after, struct rotarr_error *err)
{
    return rotarr_compose_env_set_pairs(edits, service, &key, &value, 1,
                                        after, err);
}

int rotarr_compose_env_set_pairs(struct rotarr_text_edits *edits,
                                 const struct rotarr_ynode *service,
                                 const char *const *keys,
                                 const char *const *values, size_t count,
                                 const char *after, struct rotarr_error *err)
{
    const struct rotarr_ynode *env = rotarr_ynode_get(service, "environment");
    struct rotarr_buf pairs = ROTARR_BUF_INIT;
    size_t i;
    int ret = -1;

    for (i = 0; env != NULL && i < count; i++) {
        if (env->kind == ROTARR_YNODE_MAPPING) {
            ret = set_in_map(edits, env, keys[i], values[i], err);
        } else if (env->kind == ROTARR_YNODE_SEQUENCE) {
            ret = set_in_list(edits, env, keys[i], values[i], err);
        } else {
            ret = rotarr_error_set(err, ROTARR_EUSAGE,
                                   "%s:%zu: 'environment' is neither a "
                                   "mapping nor a list; add '%s' by hand",
                                   rotarr_ydoc_path(env->doc), env->line,
                                   keys[i]);
        }
        if (ret < 0) {
            return -1;
        }
    }
    if (env != NULL || count == 0) {
        return 0;
    }
    if (rotarr_buf_puts(&pairs, "environment:\n", err) < 0) {
        goto out;
    }
    for (i = 0; i < count; i++) {
        if (rotarr_buf_printf(&pairs, err, "  %s: ", keys[i]) < 0 ||
            encode_value(values[i], 0, ROTARR_YSTYLE_PLAIN, &pairs, err) < 0 ||
            rotarr_buf_puts(&pairs, "\n", err) < 0) {
            goto out;
        }
    }
    ret = rotarr_yaml_insert_pairs(edits, service, after, pairs.data, err);

out:
    rotarr_wipe_buf_release(&pairs);
    return ret;
}
