#include "rotarr/compat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "case_json.h"

static struct json_node *parse_node(yaml_parser_t *parser, yaml_event_t *event);

static struct json_node *new_node(enum json_kind kind)
{
    struct json_node *node = calloc(1, sizeof(*node));

    if (node != NULL) {
        node->kind = kind;
    }
    return node;
}

static struct json_node *scalar_node(const yaml_event_t *event)
{
    const char *text = (const char *)event->data.scalar.value;
    size_t len = event->data.scalar.length;
    enum json_kind kind = JSON_STRING;
    struct json_node *node;

    if (event->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
        if (strcmp(text, "null") == 0) {
            kind = JSON_NULL;
        } else if (strcmp(text, "true") == 0 || strcmp(text, "false") == 0) {
            kind = JSON_BOOL;
        } else {
            kind = JSON_NUMBER;
        }
    }
    node = new_node(kind);
    if (node == NULL || (node->text = malloc(len + 1)) == NULL) {
        json_free(node);
        return NULL;
    }
    memcpy(node->text, text, len);
    node->text[len] = '\0';
    node->len = len;
    return node;
}

static int next_event(yaml_parser_t *parser, yaml_event_t *event)
{
    if (!yaml_parser_parse(parser, event)) {
        fprintf(stderr, "json: %s at line %zu\n",
                parser->problem != NULL ? parser->problem : "parse error",
                parser->problem_mark.line + 1);
        return -1;
    }
    return 0;
}

static int push(struct json_node *node, struct json_node *key,
                struct json_node *item)
{
    size_t n = node->count + 1;
    struct json_node **items = realloc(node->items, n * sizeof(*items));
    struct json_node **keys;

    if (items == NULL) {
        return -1;
    }
    node->items = items;
    if (node->kind == JSON_OBJECT) {
        keys = realloc(node->keys, n * sizeof(*keys));
        if (keys == NULL) {
            return -1;
        }
        node->keys = keys;
        keys[node->count] = key;
    }
    items[node->count] = item;
    node->count = n;
    return 0;
}

/* Reads the members of a collection up to its end event. */
static struct json_node *parse_collection(yaml_parser_t *parser,
                                          enum json_kind kind,
                                          yaml_event_type_t end_type)
{
    struct json_node *node = new_node(kind);
    struct json_node *key = NULL;
    struct json_node *item;
    yaml_event_t event;

    while (node != NULL && next_event(parser, &event) == 0) {
        if (event.type == end_type) {
            yaml_event_delete(&event);
            return node;
        }
        item = parse_node(parser, &event);
        yaml_event_delete(&event);
        if (item == NULL) {
            break;
        }
        if (kind == JSON_OBJECT && key == NULL) {
            key = item;
            continue;
        }
        if (push(node, key, item) < 0) {
            json_free(item);
            break;
        }
        key = NULL;
    }
    json_free(key);
    json_free(node);
    return NULL;
}

static struct json_node *parse_node(yaml_parser_t *parser, yaml_event_t *event)
{
    switch (event->type) {
    case YAML_SCALAR_EVENT:
        return scalar_node(event);
    case YAML_SEQUENCE_START_EVENT:
        return parse_collection(parser, JSON_ARRAY, YAML_SEQUENCE_END_EVENT);
    case YAML_MAPPING_START_EVENT:
        return parse_collection(parser, JSON_OBJECT, YAML_MAPPING_END_EVENT);
    default:
        fprintf(stderr, "json: unexpected event %d\n", (int)event->type);
        return NULL;
    }
}

/* Skips the stream and document start events, reads the root node. */
static struct json_node *parse_root(yaml_parser_t *parser)
{
    yaml_event_t event;
    struct json_node *root = NULL;

    for (;;) {
        if (next_event(parser, &event) < 0) {
            return NULL;
        }
        if (event.type != YAML_STREAM_START_EVENT &&
            event.type != YAML_DOCUMENT_START_EVENT) {
            break;
        }
        yaml_event_delete(&event);
    }
    root = parse_node(parser, &event);
    yaml_event_delete(&event);
    return root;
}

struct json_node *json_load(const char *path)
{
    FILE *f = fopen(path, "rb");
    yaml_parser_t parser;
    struct json_node *root;

    if (f == NULL) {
        perror(path);
        return NULL;
    }
    yaml_parser_initialize(&parser);
    yaml_parser_set_input_file(&parser, f);
    root = parse_root(&parser);
    yaml_parser_delete(&parser);
    fclose(f);
    if (root == NULL) {
        fprintf(stderr, "json: cannot read '%s'\n", path);
    }
    return root;
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
