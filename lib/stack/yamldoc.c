#include "rotarr/compat.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "rotarr/yamldoc.h"
#include "yamldoc_private.h"

#define UTF8_BOM "\xEF\xBB\xBF"
#define UTF8_BOM_LEN 3

struct rotarr_ydoc {
    char *path;
    char *bytes; /* the original bytes and a NUL */
    size_t len;
    struct yarena arena;
    struct rotarr_ynode **roots;
    size_t root_count;
    size_t root_cap;
};

/* A collection whose closing event has not arrived yet. */
struct yframe {
    struct ynode_impl *node;
    size_t first_child; /* index in ybuild.children */
    size_t last_end;    /* byte end of the last entry so far */
};

struct yanchor {
    const char *name;
    struct rotarr_ynode *node;
};

/*
 * Character index to byte offset.  libyaml events arrive in file order,
 * so the cursor moves a short way for each mark and the whole parse walks
 * the file about once.
 */
struct ycursor {
    size_t chars;
    size_t bytes;
};

struct ybuild {
    struct rotarr_ydoc *doc;
    const char *text; /* doc->bytes after the BOM: what libyaml reads */
    size_t text_len;
    size_t base;      /* bytes of BOM skipped */
    int ascii;        /* text has no multibyte character */
    struct ycursor cursor;
    struct yframe *frames;
    size_t depth;
    size_t frame_cap;
    struct rotarr_ynode **children;
    size_t child_count;
    size_t child_cap;
    struct yanchor *anchors; /* open addressing, cap a power of two */
    size_t anchor_count;
    size_t anchor_cap;
    size_t node_count; /* nodes of the current document */
    struct ykeyset keys;
    struct rotarr_error *err;
};

static size_t utf8_width(unsigned char lead)
{
    if (lead < 0x80) {
        return 1;
    }
    if (lead < 0xE0) {
        return 2;
    }
    return lead < 0xF0 ? 3 : 4;
}

/* Returns the length of the valid UTF-8 sequence at s, or 0. */
static size_t utf8_valid_at(const unsigned char *s, size_t left)
{
    size_t width = utf8_width(s[0]);
    size_t i;

    if (s[0] >= 0x80 && (s[0] < 0xC2 || s[0] > 0xF4)) {
        return 0;
    }
    if (width > left) {
        return 0;
    }
    for (i = 1; i < width; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            return 0;
        }
    }
    if ((s[0] == 0xE0 && s[1] < 0xA0) || (s[0] == 0xED && s[1] > 0x9F) ||
        (s[0] == 0xF0 && s[1] < 0x90) || (s[0] == 0xF4 && s[1] > 0x8F)) {
        return 0; /* overlong, surrogate or above U+10FFFF */
    }
    return width;
}

/* Returns the length of the ASCII run at the start of s, reading eight
 * bytes at a time. */
static size_t ascii_prefix(const unsigned char *s, size_t len)
{
    const uint64_t high_bits = 0x8080808080808080ULL;
    uint64_t word;
    size_t i = 0;

    while (len - i >= sizeof(word)) {
        memcpy(&word, s + i, sizeof(word));
        if ((word & high_bits) != 0) {
            break;
        }
        i += sizeof(word);
    }
    while (i < len && s[i] < 0x80) {
        i++;
    }
    return i;
}

size_t yutf8_invalid_offset(const char *bytes, size_t len)
{
    const unsigned char *s = (const unsigned char *)bytes;
    size_t i = 0;
    size_t width;

    while (i < len) {
        if (s[i] < 0x80) {
            i += ascii_prefix(s + i, len - i);
            continue;
        }
        width = utf8_valid_at(s + i, len - i);
        if (width == 0) {
            return i;
        }
        i += width;
    }
    return len;
}

/* Stores the 1-based line and character column of byte offset in s. */
static void line_column_of(const char *s, size_t offset, size_t *line,
                           size_t *column)
{
    size_t i;

    *line = 1;
    *column = 1;
    for (i = 0; i < offset; i++) {
        if (s[i] == '\n') {
            (*line)++;
            *column = 1;
        } else if (((unsigned char)s[i] & 0xC0) != 0x80) {
            (*column)++;
        }
    }
}

static size_t byte_of(struct ybuild *b, size_t index)
{
    const unsigned char *s = (const unsigned char *)b->text;
    struct ycursor *c = &b->cursor;

    if (b->ascii) {
        return b->base + (index < b->text_len ? index : b->text_len);
    }
    while (c->chars < index && c->bytes < b->text_len) {
        c->bytes += utf8_width(s[c->bytes]);
        c->chars++;
    }
    while (c->chars > index && c->bytes > 0) {
        c->bytes--;
        while (c->bytes > 0 && (s[c->bytes] & 0xC0) == 0x80) {
            c->bytes--;
        }
        c->chars--;
    }
    return b->base + c->bytes;
}

static int out_of_memory(struct ybuild *b)
{
    return rotarr_error_set(b->err, ROTARR_EFILE, "out of memory");
}

static int fail_at(struct ybuild *b, size_t line, size_t column,
                   const char *problem, const char *name, const char *fix)
{
    return rotarr_error_set(b->err, ROTARR_EFILE, "%s:%zu:%zu: %s%s%s%s; %s",
                            b->doc->path, line, column, problem,
                            name != NULL ? " '" : "",
                            name != NULL ? name : "",
                            name != NULL ? "'" : "", fix);
}

static int grow(void **items, size_t *cap, size_t need, size_t size)
{
    size_t new_cap = *cap > 0 ? *cap : 16;
    void *grown;

    if (need <= *cap) {
        return 0;
    }
    while (new_cap < need) {
        if (new_cap > SIZE_MAX / 2 / size) {
            return -1;
        }
        new_cap *= 2;
    }
    grown = realloc(*items, new_cap * size);
    if (grown == NULL) {
        return -1;
    }
    *items = grown;
    *cap = new_cap;
    return 0;
}

static size_t hash_text(const char *s, size_t len)
{
    size_t h = 2166136261u;
    size_t i;

    for (i = 0; i < len; i++) {
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    }
    return h;
}

static struct yanchor *anchor_slot(struct ybuild *b, const char *name)
{
    size_t mask = b->anchor_cap - 1;
    size_t i = hash_text(name, strlen(name)) & mask;

    while (b->anchors[i].name != NULL &&
           strcmp(b->anchors[i].name, name) != 0) {
        i = (i + 1) & mask;
    }
    return &b->anchors[i];
}

static int anchors_rehash(struct ybuild *b)
{
    struct yanchor *old = b->anchors;
    size_t old_cap = b->anchor_cap;
    size_t i;

    b->anchor_cap = old_cap > 0 ? old_cap * 2 : 64;
    b->anchors = calloc(b->anchor_cap, sizeof(*b->anchors));
    if (b->anchors == NULL) {
        b->anchors = old;
        b->anchor_cap = old_cap;
        return out_of_memory(b);
    }
    for (i = 0; i < old_cap; i++) {
        if (old[i].name != NULL) {
            *anchor_slot(b, old[i].name) = old[i];
        }
    }
    free(old);
    return 0;
}

/* A later anchor of the same name replaces the earlier one, as YAML says. */
static int anchor_define(struct ybuild *b, struct rotarr_ynode *node)
{
    struct yanchor *slot;

    if ((b->anchor_count + 1) * 2 > b->anchor_cap && anchors_rehash(b) < 0) {
        return -1;
    }
    slot = anchor_slot(b, node->anchor);
    if (slot->name == NULL) {
        b->anchor_count++;
    }
    slot->name = node->anchor;
    slot->node = node;
    return 0;
}

static void anchors_clear(struct ybuild *b)
{
    if (b->anchors != NULL) {
        memset(b->anchors, 0, b->anchor_cap * sizeof(*b->anchors));
    }
    b->anchor_count = 0;
}

/* Nodes reached from node when aliases are expanded, node included. */
static size_t expanded_of(const struct rotarr_ynode *node)
{
    if (node->kind == ROTARR_YNODE_SCALAR) {
        return 1;
    }
    return ((const struct ynode_impl *)node)->expanded;
}

static int is_complete(const struct rotarr_ynode *node)
{
    if (node->kind == ROTARR_YNODE_SCALAR) {
        return 1;
    }
    return ((const struct ynode_impl *)node)->complete;
}

/* Fills the fields that every node has; node is zeroed.  The event's
 * strings are already in the document's arena. */
static void node_init(struct ybuild *b, struct rotarr_ynode *node,
                      enum rotarr_ynode_kind kind, const struct yevent *event)
{
    node->kind = kind;
    node->doc = b->doc;
    node->start = byte_of(b, event->start_index);
    node->line = event->start_line + 1;
    node->column = event->start_column + 1;
    node->anchor = event->anchor;
    node->tag = event->tag;
    b->node_count++;
}

static struct rotarr_ynode *scalar_new(struct ybuild *b,
                                       const struct yevent *event)
{
    struct rotarr_ynode *node = yarena_alloc(&b->doc->arena, sizeof(*node));

    if (node == NULL) {
        return NULL;
    }
    memset(node, 0, sizeof(*node));
    node_init(b, node, ROTARR_YNODE_SCALAR, event);
    return node;
}

static struct ynode_impl *collection_new(struct ybuild *b,
                                         const struct yevent *event)
{
    int mapping = event->type == YEVENT_MAPPING_START;
    struct ynode_impl *node = yarena_alloc(&b->doc->arena, sizeof(*node));

    if (node == NULL) {
        return NULL;
    }
    memset(node, 0, sizeof(*node));
    node->expanded = 1;
    node->pub.flow = event->flow;
    node_init(b, &node->pub,
              mapping ? ROTARR_YNODE_MAPPING : ROTARR_YNODE_SEQUENCE, event);
    return node;
}

static int is_blank_or_break(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int ends_property(char c)
{
    return is_blank_or_break(c) || c == ',' || c == '[' || c == ']' ||
           c == '{' || c == '}';
}

/* Moves past one "&anchor" or "!tag" at s[p]. */
static size_t skip_property(const char *s, size_t p, size_t end)
{
    if (s[p] == '!' && p + 1 < end && s[p + 1] == '<') {
        while (p < end && s[p] != '>') {
            p++;
        }
        return p < end ? p + 1 : p;
    }
    while (p < end && !ends_property(s[p])) {
        p++;
    }
    return p;
}

static size_t chars_between(const char *s, size_t from, size_t to)
{
    size_t n = 0;

    for (; from < to; from++) {
        n += ((unsigned char)s[from] & 0xC0) != 0x80;
    }
    return n;
}

/*
 * Moves a scalar's start past the anchor and tag that libyaml includes in
 * its start mark, and past the blanks, line breaks and comments after
 * them, keeping line and column in step.  Never passes end, so an empty
 * scalar written as a bare tag ends up with an empty span after the tag.
 */
static void skip_properties(struct rotarr_ynode *node, const char *s,
                            size_t end)
{
    size_t p = node->start;
    size_t q;
    size_t line = node->line;
    size_t column = node->column - 1; /* 0-based while walking */

    while (p < end && (s[p] == '&' || s[p] == '!')) {
        q = skip_property(s, p, end);
        while (q < end && (is_blank_or_break(s[q]) || s[q] == '#')) {
            if (s[q] == '#') {
                while (q < end && s[q] != '\n' && s[q] != '\r') {
                    q++;
                }
                continue;
            }
            if (s[q] == '\n' || (s[q] == '\r' && s[q + 1] != '\n')) {
                line++;
                column = 0;
                p = q + 1;
            }
            q++;
        }
        column += chars_between(s, p, q);
        p = q;
    }
    node->start = p;
    node->line = line;
    node->column = column + 1;
}

/*
 * libyaml ends a block scalar where the next token starts, after its
 * trailing blank lines and the next line's indentation.  The span ends
 * instead at the end of the last line holding more than spaces, so that a
 * replacement does not swallow the line break after the scalar.
 */
static size_t block_scalar_end(const char *s, size_t start, size_t end)
{
    size_t last = start;
    size_t p;
    int content = 0;

    for (p = start; p < end; p++) {
        if (s[p] == '\n') {
            if (content) {
                last = p > start && s[p - 1] == '\r' ? p - 1 : p;
            }
            content = 0;
        } else if (s[p] != ' ' && s[p] != '\r') {
            content = 1;
        }
    }
    return content ? end : last;
}

static int attach(struct ybuild *b, struct rotarr_ynode *node, size_t end)
{
    struct yframe *parent;

    if (b->depth == 0) {
        if (grow((void **)&b->doc->roots, &b->doc->root_cap,
                 b->doc->root_count + 1, sizeof(*b->doc->roots)) < 0) {
            return out_of_memory(b);
        }
        b->doc->roots[b->doc->root_count++] = node;
        return 0;
    }
    if (grow((void **)&b->children, &b->child_cap, b->child_count + 1,
             sizeof(*b->children)) < 0) {
        return out_of_memory(b);
    }
    b->children[b->child_count++] = node;
    parent = &b->frames[b->depth - 1];
    parent->last_end = end;
    return 0;
}

static int on_scalar(struct ybuild *b, const struct yevent *event)
{
    struct rotarr_ynode *pub;

    pub = scalar_new(b, event);
    if (pub == NULL) {
        return out_of_memory(b);
    }
    pub->style = event->style;
    pub->value_len = event->length;
    pub->value = event->value;
    pub->end = byte_of(b, event->end_index);
    if (pub->anchor != NULL || pub->tag != NULL) {
        skip_properties(pub, b->doc->bytes, pub->end);
    }
    if (pub->style == ROTARR_YSTYLE_LITERAL ||
        pub->style == ROTARR_YSTYLE_FOLDED) {
        pub->end = block_scalar_end(b->doc->bytes, pub->start, pub->end);
    }
    if (pub->anchor != NULL && anchor_define(b, pub) < 0) {
        return -1;
    }
    return attach(b, pub, pub->end);
}

static int on_alias(struct ybuild *b, const struct yevent *event)
{
    const char *name = event->anchor;
    struct yanchor *slot = NULL;
    size_t line = event->start_line + 1;
    size_t column = event->start_column + 1;

    if (b->anchor_cap > 0) {
        slot = anchor_slot(b, name);
    }
    if (slot == NULL || slot->name == NULL) {
        return fail_at(b, line, column, "undefined alias", name,
                       "define the anchor with '&' before using it");
    }
    if (!is_complete(slot->node)) {
        return rotarr_error_set(b->err, ROTARR_EFILE,
                                "%s:%zu:%zu: alias '%s' refers to a node "
                                "that contains it; remove the loop",
                                b->doc->path, line, column, name);
    }
    return attach(b, slot->node, byte_of(b, event->end_index));
}

static int on_collection_start(struct ybuild *b, const struct yevent *event)
{
    struct ynode_impl *node;
    struct yframe *frame;

    if (b->depth >= ROTARR_YDOC_MAX_DEPTH) {
        return fail_at(b, event->start_line + 1, event->start_column + 1,
                       "collections nested too deep", NULL,
                       "flatten the structure");
    }
    node = collection_new(b, event);
    if (node == NULL) {
        return out_of_memory(b);
    }
    if (node->pub.anchor != NULL && anchor_define(b, &node->pub) < 0) {
        return -1;
    }
    if (grow((void **)&b->frames, &b->frame_cap, b->depth + 1,
             sizeof(*b->frames)) < 0) {
        return out_of_memory(b);
    }
    frame = &b->frames[b->depth++];
    frame->node = node;
    frame->first_child = b->child_count;
    frame->last_end = node->pub.start;
    return 0;
}

static size_t add_saturating(size_t a, size_t b)
{
    return a > SIZE_MAX - b ? SIZE_MAX : a + b;
}

static int take_children(struct ybuild *b, struct yframe *frame)
{
    struct ynode_impl *node = frame->node;
    size_t n = b->child_count - frame->first_child;
    size_t i;

    node->pub.items = yarena_alloc(&b->doc->arena,
                                   (n > 0 ? n : 1) * sizeof(*node->pub.items));
    if (node->pub.items == NULL) {
        return out_of_memory(b);
    }
    for (i = 0; i < n; i++) {
        node->pub.items[i] = b->children[frame->first_child + i];
        node->expanded = add_saturating(node->expanded,
                                        expanded_of(node->pub.items[i]));
    }
    node->pub.count = node->pub.kind == ROTARR_YNODE_MAPPING ? n / 2 : n;
    b->child_count = frame->first_child;
    if (node->expanded >
        add_saturating(b->node_count, ROTARR_YDOC_MAX_ALIAS_EXPANSION)) {
        return fail_at(b, node->pub.line, node->pub.column,
                       "aliases expand to too many nodes", NULL,
                       "use fewer nested aliases");
    }
    return 0;
}

static int on_collection_end(struct ybuild *b, const struct yevent *event)
{
    struct yframe frame = b->frames[--b->depth];
    struct ynode_impl *node = frame.node;

    if (take_children(b, &frame) < 0) {
        return -1;
    }
    node->pub.end = node->pub.flow ? byte_of(b, event->end_index)
                                   : frame.last_end;
    if (node->pub.kind == ROTARR_YNODE_MAPPING &&
        ymap_finish(node, &b->doc->arena, &b->keys, b->doc->path, b->err) <
            0) {
        return -1;
    }
    node->complete = 1;
    return attach(b, &node->pub, node->pub.end);
}

static int libyaml_error(struct ybuild *b, const struct yparse_error *error)
{
    size_t line = error->line + 1;
    size_t column = error->column + 1;
    const char *problem = error->problem != NULL ? error->problem
                                                 : "invalid YAML";

    if (error->out_of_memory) {
        return out_of_memory(b);
    }
    if (error->reader) {
        line_column_of(b->text, error->offset, &line, &column);
    }
    if (error->context != NULL) {
        return rotarr_error_set(
            b->err, ROTARR_EFILE,
            "%s:%zu:%zu: %s (%s at line %zu); check the indentation and "
            "quoting there",
            b->doc->path, line, column, problem, error->context,
            error->context_line + 1);
    }
    return rotarr_error_set(b->err, ROTARR_EFILE,
                            "%s:%zu:%zu: %s; check the indentation and "
                            "quoting there",
                            b->doc->path, line, column, problem);
}

static int on_event(void *ctx, const struct yevent *event)
{
    struct ybuild *b = ctx;

    switch (event->type) {
    case YEVENT_DOCUMENT_START:
        anchors_clear(b);
        b->node_count = 0;
        return 0;
    case YEVENT_SCALAR:
        return on_scalar(b, event);
    case YEVENT_ALIAS:
        return on_alias(b, event);
    case YEVENT_SEQUENCE_START:
    case YEVENT_MAPPING_START:
        return on_collection_start(b, event);
    case YEVENT_SEQUENCE_END:
    case YEVENT_MAPPING_END:
        return on_collection_end(b, event);
    default:
        return 0;
    }
}

/* Drops every node built so far, so that the text can be read again. */
static void build_reset(struct ybuild *b)
{
    yarena_release(&b->doc->arena);
    b->doc->root_count = 0;
    b->depth = 0;
    b->child_count = 0;
    b->node_count = 0;
    b->cursor.chars = 0;
    b->cursor.bytes = 0;
    anchors_clear(b);
}

static int build(struct ybuild *b)
{
    struct yparse_error error;
    int ret;

    ret = yevents_read(b->text, b->text_len, &b->doc->arena, 1, on_event,
                       b, &error);
    if (ret == YEVENTS_RETRY) {
        build_reset(b);
        ret = yevents_read(b->text, b->text_len, &b->doc->arena, 0,
                           on_event, b, &error);
    }
    if (ret == -2) {
        return libyaml_error(b, &error);
    }
    return ret;
}

static int check_input(struct ybuild *b)
{
    size_t bad;
    size_t line;
    size_t column;

    b->ascii = ascii_prefix((const unsigned char *)b->text, b->text_len) ==
               b->text_len;
    bad = b->ascii ? b->doc->len
                   : yutf8_invalid_offset(b->doc->bytes, b->doc->len);
    if (bad < b->doc->len) {
        line_column_of(b->doc->bytes, bad, &line, &column);
        return rotarr_error_set(b->err, ROTARR_EFILE,
                                "%s:%zu:%zu: invalid UTF-8 byte 0x%02X; "
                                "save the file as UTF-8",
                                b->doc->path, line, column,
                                (unsigned char)b->doc->bytes[bad]);
    }
    return 0;
}

static int too_large(const char *path, struct rotarr_error *err)
{
    return rotarr_error_set(err, ROTARR_EFILE,
                            "%s: larger than the 16 MiB limit for YAML "
                            "files; split it into smaller files", path);
}

static void wipe_and_free(char *bytes, size_t len)
{
    sodium_memzero(bytes, len);
    free(bytes);
}

/* Returns a document holding bytes, or NULL; bytes is freed either way. */
static struct rotarr_ydoc *doc_new(const char *path, char *bytes, size_t len)
{
    struct rotarr_ydoc *doc = calloc(1, sizeof(*doc));

    if (doc == NULL) {
        wipe_and_free(bytes, len);
        return NULL;
    }
    doc->bytes = bytes;
    doc->len = len;
    doc->path = strdup(path);
    if (doc->path == NULL) {
        rotarr_ydoc_free(doc);
        return NULL;
    }
    return doc;
}

struct rotarr_ydoc *rotarr_ydoc_parse(const char *path, const char *bytes,
                                      size_t len, struct rotarr_error *err)
{
    char *copy;

    if (len > ROTARR_YDOC_MAX_BYTES) {
        too_large(path, err);
        return NULL;
    }
    copy = malloc(len + 1);
    if (copy == NULL) {
        rotarr_error_set(err, ROTARR_EFILE, "out of memory");
        return NULL;
    }
    if (len > 0) {
        memcpy(copy, bytes, len);
    }
    copy[len] = '\0';
    return rotarr_ydoc_parse_owned(path, copy, len, err);
}

struct rotarr_ydoc *rotarr_ydoc_parse_owned(const char *path, char *bytes,
                                            size_t len,
                                            struct rotarr_error *err)
{
    struct ybuild b;
    int ok = 0;

    memset(&b, 0, sizeof(b));
    b.err = err;
    if (len > ROTARR_YDOC_MAX_BYTES) {
        wipe_and_free(bytes, len);
        too_large(path, err);
        return NULL;
    }
    b.doc = doc_new(path, bytes, len);
    if (b.doc == NULL) {
        rotarr_error_set(err, ROTARR_EFILE, "out of memory");
        return NULL;
    }
    if (len >= UTF8_BOM_LEN && memcmp(bytes, UTF8_BOM, UTF8_BOM_LEN) == 0) {
        b.base = UTF8_BOM_LEN;
    }
    b.text = b.doc->bytes + b.base;
    b.text_len = len - b.base;
    ok = check_input(&b) == 0 && build(&b) == 0;
    free(b.frames);
    free(b.children);
    free(b.anchors);
    ykeyset_release(&b.keys);
    if (!ok) {
        rotarr_ydoc_free(b.doc);
        return NULL;
    }
    return b.doc;
}

const struct rotarr_ynode *rotarr_ydoc_root(const struct rotarr_ydoc *doc)
{
    return rotarr_ydoc_document(doc, 0);
}

size_t rotarr_ydoc_document_count(const struct rotarr_ydoc *doc)
{
    return doc->root_count;
}

const struct rotarr_ynode *rotarr_ydoc_document(const struct rotarr_ydoc *doc,
                                                size_t i)
{
    return i < doc->root_count ? doc->roots[i] : NULL;
}

const char *rotarr_ydoc_path(const struct rotarr_ydoc *doc)
{
    return doc->path;
}

const char *rotarr_ydoc_bytes(const struct rotarr_ydoc *doc, size_t *len)
{
    if (len != NULL) {
        *len = doc->len;
    }
    return doc->bytes;
}

void rotarr_ydoc_free(struct rotarr_ydoc *doc)
{
    if (doc == NULL) {
        return;
    }
    yarena_release(&doc->arena);
    free(doc->roots);
    if (doc->bytes != NULL) {
        sodium_memzero(doc->bytes, doc->len);
    }
    free(doc->bytes);
    free(doc->path);
    free(doc);
}
