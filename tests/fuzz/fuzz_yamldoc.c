/*
 * The YAML reader and scalar writer.  Any input either parses, with every
 * node's span inside the file, or fails with ROTARR_EFILE.  Any UTF-8
 * value written by rotarr_yaml_encode_scalar() as the value of a mapping
 * reads back as the same bytes.  The first input byte chooses the test.
 */
#include "rotarr/compat.h"

#include "fuzz.h"
#include "rotarr/yamldoc.h"

/* Deeper nesting is refused by the parser, so recursion is bounded. */
static void walk(const struct rotarr_ynode *node, size_t len, size_t depth)
{
    const struct rotarr_ynode *const *pairs;
    size_t i, n;

    if (node == NULL) {
        return;
    }
    if (node->start > node->end || node->end > len ||
        depth > ROTARR_YDOC_MAX_DEPTH + 1) {
        abort();
    }
    if (node->kind == ROTARR_YNODE_SCALAR) {
        if (node->value == NULL || node->value[node->value_len] != '\0') {
            abort();
        }
        return;
    }
    if (node->kind == ROTARR_YNODE_MAPPING) {
        n = rotarr_ynode_pairs(node, &pairs);
        for (i = 0; i < n; i++) {
            (void)rotarr_ynode_get(node, pairs[2 * i]->value ?
                                             pairs[2 * i]->value : "");
        }
        n = 2 * node->count;
    } else {
        n = node->count;
    }
    /* An alias points back at an anchored node, so only the items the
     * node owns are walked: a subtree is visited once per alias. */
    for (i = 0; i < n && depth < 64; i++) {
        walk(node->items[i], len, depth + 1);
    }
}

static void parse_and_walk(const char *bytes, size_t size)
{
    struct rotarr_error err;
    struct rotarr_ydoc *doc;
    size_t i;

    doc = rotarr_ydoc_parse("fuzz.yaml", bytes, size, &err);
    if (doc == NULL) {
        if (err.code != ROTARR_EFILE) {
            abort();
        }
        return;
    }
    for (i = 0; i < rotarr_ydoc_document_count(doc); i++) {
        walk(rotarr_ydoc_document(doc, i), size, 0);
    }
    rotarr_ydoc_free(doc);
}

static void encode_and_read(const char *value, size_t size, int style)
{
    struct rotarr_buf text = ROTARR_BUF_INIT;
    const struct rotarr_ynode *node;
    struct rotarr_error err;
    struct rotarr_ydoc *doc = NULL;

    if (rotarr_buf_puts(&text, "key: ", &err) < 0) {
        abort();
    }
    if (rotarr_yaml_encode_scalar(value, size, style, &text, &err) < 0) {
        if (err.code != ROTARR_EUSAGE) {
            abort();
        }
        goto out;
    }
    if (rotarr_buf_puts(&text, "\n", &err) < 0) {
        abort();
    }
    doc = rotarr_ydoc_parse("fuzz.yaml", text.data, text.len, &err);
    if (doc == NULL) {
        abort();
    }
    node = rotarr_ynode_get(rotarr_ydoc_root(doc), "key");
    if (node == NULL || node->kind != ROTARR_YNODE_SCALAR ||
        node->value_len != size || memcmp(node->value, value, size) != 0) {
        abort();
    }
out:
    rotarr_ydoc_free(doc);
    rotarr_buf_release(&text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *bytes = (const char *)data;

    if (size == 0) {
        return 0;
    }
    if (data[0] < 0xf0) {
        parse_and_walk(bytes, size);
    } else {
        encode_and_read(bytes + 1, size - 1,
                        (data[0] & 0x0f) % (ROTARR_YSTYLE_FOLDED + 1));
    }
    return 0;
}
