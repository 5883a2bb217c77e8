#include "rotarr/compat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "case_json.h"
#include "rotarr/fileio.h"
#include "rotarr/yamldoc.h"

static struct json_node *new_node(enum json_kind kind)
{
    struct json_node *node = calloc(1, sizeof(*node));

    if (node != NULL) {
        node->kind = kind;
    }
    return node;
}

/* A quoted scalar is a string; a plain one is null, a boolean or a
 * number, since JSON has no unquoted strings. */
static struct json_node *scalar_node(const struct rotarr_ynode *y)
{
    enum json_kind kind = JSON_STRING;
    struct json_node *node;

    if (y->style == ROTARR_YSTYLE_PLAIN) {
        if (strcmp(y->value, "null") == 0) {
            kind = JSON_NULL;
        } else if (strcmp(y->value, "true") == 0 ||
                   strcmp(y->value, "false") == 0) {
            kind = JSON_BOOL;
        } else {
            kind = JSON_NUMBER;
        }
    }
    node = new_node(kind);
    if (node == NULL || (node->text = malloc(y->value_len + 1)) == NULL) {
        json_free(node);
        return NULL;
    }
    memcpy(node->text, y->value, y->value_len);
    node->text[y->value_len] = '\0';
    node->len = y->value_len;
    return node;
}

static struct json_node *convert(const struct rotarr_ynode *y)
{
    int object = y->kind == ROTARR_YNODE_MAPPING;
    struct json_node *node;
    size_t i;

    if (y->kind == ROTARR_YNODE_SCALAR) {
        return scalar_node(y);
    }
    node = new_node(object ? JSON_OBJECT : JSON_ARRAY);
    if (node == NULL) {
        return NULL;
    }
    node->items = calloc(y->count + 1, sizeof(*node->items));
    node->keys = object ? calloc(y->count + 1, sizeof(*node->keys)) : NULL;
    if (node->items == NULL || (object && node->keys == NULL)) {
        json_free(node);
        return NULL;
    }
    for (i = 0; i < y->count; i++) {
        node->count = i + 1;
        node->items[i] = convert(y->items[object ? 2 * i + 1 : i]);
        if (object) {
            node->keys[i] = convert(y->items[2 * i]);
        }
        if (node->items[i] == NULL || (object && node->keys[i] == NULL)) {
            json_free(node);
            return NULL;
        }
    }
    return node;
}

struct json_node *json_load(const char *path)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    const struct rotarr_ynode *root;
    struct rotarr_ydoc *doc;
    struct json_node *tree = NULL;
    char *bytes;
    size_t len;

    if (rotarr_file_read(path, 0, &bytes, &len, &err) < 0) {
        fprintf(stderr, "json: %s\n", err.msg);
        return NULL;
    }
    doc = rotarr_ydoc_parse_owned(path, bytes, len, &err);
    root = doc != NULL ? rotarr_ydoc_root(doc) : NULL;
    if (root != NULL) {
        tree = convert(root);
    }
    if (tree == NULL) {
        fprintf(stderr, "json: cannot read '%s': %s\n", path, err.msg);
    }
    rotarr_ydoc_free(doc);
    return tree;
}

void json_free(struct json_node *node)
{
    size_t i;

    if (node == NULL) {
        return;
    }
    for (i = 0; i < node->count; i++) {
        json_free(node->items[i]);
        if (node->keys != NULL) {
            json_free(node->keys[i]);
        }
    }
    free(node->items);
    free(node->keys);
    free(node->text);
    free(node);
}

const struct json_node *json_get(const struct json_node *obj, const char *key)
{
    size_t i;

    if (obj == NULL || obj->kind != JSON_OBJECT) {
        return NULL;
    }
    for (i = 0; i < obj->count; i++) {
        if (strcmp(obj->keys[i]->text, key) == 0) {
            return obj->items[i];
        }
    }
    return NULL;
}

const char *json_get_str(const struct json_node *obj, const char *key)
{
    const struct json_node *node = json_get(obj, key);

    return node != NULL && node->kind == JSON_STRING ? node->text : NULL;
}

int json_get_true(const struct json_node *obj, const char *key)
{
    const struct json_node *node = json_get(obj, key);

    return node != NULL && node->kind == JSON_BOOL &&
           strcmp(node->text, "true") == 0;
}
