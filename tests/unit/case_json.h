/*
 * A small JSON tree for the test data in tests/data/dotenv-cases, read
 * with rotarr's YAML parser: these JSON files are valid YAML, and their
 * escapes, \u0000 included, decode into exact bytes.
 */
#ifndef ROTARR_TEST_CASE_JSON_H
#define ROTARR_TEST_CASE_JSON_H

#include <stddef.h>

enum json_kind {
    JSON_NULL,
    JSON_BOOL,
    JSON_NUMBER,
    JSON_STRING,
    JSON_ARRAY,
    JSON_OBJECT,
};

struct json_node {
    enum json_kind kind;
    char *text; /* string value or scalar text, NUL-terminated */
    size_t len;
    struct json_node **items; /* array items or object values */
    struct json_node **keys;  /* object keys (strings) */
    size_t count;
};

/* Reads the JSON file at path; returns NULL after printing the reason to
 * stderr. */
struct json_node *json_load(const char *path);

/* Frees a tree.  Accepts NULL. */
void json_free(struct json_node *node);

/* Returns the member of an object, or NULL. */
const struct json_node *json_get(const struct json_node *obj, const char *key);

/* Returns the string member of an object, or NULL when it is missing or
 * not a string. */
const char *json_get_str(const struct json_node *obj, const char *key);

/* Returns 1 for a true boolean member, else 0. */
int json_get_true(const struct json_node *obj, const char *key);

#endif
