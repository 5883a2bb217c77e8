#include "rotarr/compat.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rotarr/compose.h"
#include "compose_private.h"

#define TAG_RESET "!reset"
#define TAG_OVERRIDE "!override"

int compose_fail(const struct rotarr_ynode *node, struct rotarr_error *err,
                 const char *fmt, ...)
{
    char problem[ROTARR_ERROR_MSG_MAX];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(problem, sizeof(problem), fmt, ap);
    va_end(ap);
    if (n < 0) {
        problem[0] = '\0';
    }
    return rotarr_error_set(err, ROTARR_EFILE, "%s:%zu:%zu: %s",
                            rotarr_ydoc_path(node->doc), node->line,
                            node->column, problem);
}

int compose_expand(const struct rotarr_ynode *node,
                   const struct compose_vars *vars, struct rotarr_buf *out,
                   struct rotarr_error *err)
{
    rotarr_buf_reset(out);
    if (rotarr_buf_append(out, "", 0, err) < 0) {
        return -1;
    }
    if (rotarr_interp_expand(node->value, node->value_len, vars->lookup,
                             vars->ctx, out, err) < 0) {
        return rotarr_error_prefix(err, "%s:%zu:%zu",
                                   rotarr_ydoc_path(node->doc), node->line,
                                   node->column);
    }
    return 0;
}

/*
 * Cleans path in place by its text alone, as Go's filepath.Clean does: no
 * empty or "." parts, and each ".." removes the part before it.  So
 * "link/../app.env" is "app.env" even when link is a symlink to a folder
 * elsewhere, whose parent the kernel would take.
 */
static void clean_path(char *path)
{
    int rooted = path[0] == '/';
    char *start = path + rooted; /* where the parts begin */
    char *out = start;
    const char *in = path;
    const char *part;
    size_t removable = 0; /* parts written, other than leading ".." */
    size_t len;

    while (*in != '\0') {
        part = in;
        len = strcspn(in, "/");
        in += len;
        if (*in == '/') {
            in++;
        }
        if (len == 0 || (len == 1 && part[0] == '.')) {
            continue;
        }
        if (len == 2 && part[0] == '.' && part[1] == '.') {
            if (removable > 0) {
                while (out > start && out[-1] != '/') {
                    out--;
                }
                if (out > start) {
                    out--;
                }
                removable--;
            } else if (!rooted) {
                if (out > start) {
                    *out++ = '/';
                }
                *out++ = '.';
                *out++ = '.';
            }
            continue;
        }
        if (out > start) {
            *out++ = '/';
        }
        memmove(out, part, len);
        out += len;
        removable++;
    }
    if (out == start && !rooted) {
        *out++ = '.';
    }
    *out = '\0';
}

char *compose_path_join(const char *dir, const char *rel)
{
    size_t dir_len = strlen(dir);
    size_t rel_len = strlen(rel);
    char *path;

    /* Compose opens an absolute path as written and joins a relative
     * one to the project folder with filepath.Join, which cleans it. */
    if (rel[0] == '/') {
        return strdup(rel);
    }
    if (dir_len == 0 || strcmp(dir, ".") == 0) {
        path = strdup(rel);
    } else {
        path = malloc(dir_len + 1 + rel_len + 1);
        if (path != NULL) {
            memcpy(path, dir, dir_len);
            path[dir_len] = '/';
            memcpy(path + dir_len + 1, rel, rel_len + 1);
        }
    }
    if (path != NULL) {
        clean_path(path);
    }
    return path;
}

static int has_tag(const struct rotarr_ynode *node, const char *tag)
{
    return node != NULL && node->tag != NULL && strcmp(node->tag, tag) == 0;
}

static int grow(void **items, size_t *cap, size_t need, size_t size)
{
    size_t new_cap = *cap > 0 ? *cap : 8;
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

static size_t hash_name(const char *s)
{
    size_t h = 2166136261u;

    for (; *s != '\0'; s++) {
        h = (h ^ (unsigned char)*s) * 16777619u;
    }
    return h;
}

static size_t *index_slot(size_t *index, size_t cap,
                          struct compose_svc *const *items, const char *name)
{
    size_t i = hash_name(name) & (cap - 1);

    while (index[i] != SIZE_MAX && strcmp(items[index[i]]->pub.name, name)) {
        i = (i + 1) & (cap - 1);
    }
    return &index[i];
}

static int reindex(struct compose_svc_list *list)
{
    size_t cap = list->index_cap > 0 ? list->index_cap * 2 : 64;
    size_t *index = malloc(cap * sizeof(*index));
    size_t i;

    if (index == NULL) {
        return -1;
    }
    memset(index, 0xFF, cap * sizeof(*index));
    for (i = 0; i < list->count; i++) {
        *index_slot(index, cap, list->items, list->items[i]->pub.name) = i;
    }
    free(list->index);
    list->index = index;
    list->index_cap = cap;
    return 0;
}

struct compose_svc *compose_svc_list_find(const struct compose_svc_list *list,
                                          const char *name)
{
    size_t slot;

    if (list->index_cap == 0) {
        return NULL;
    }
    slot = *index_slot(list->index, list->index_cap, list->items, name);
    return slot == SIZE_MAX ? NULL : list->items[slot];
}

int compose_svc_list_add(struct compose_svc_list *list,
                         struct compose_svc *svc)
{
    if (grow((void **)&list->items, &list->cap, list->count + 1,
             sizeof(*list->items)) < 0) {
        return -1;
    }
    if ((list->count + 1) * 2 > list->index_cap && reindex(list) < 0) {
        return -1;
    }
    list->items[list->count] = svc;
    *index_slot(list->index, list->index_cap, list->items, svc->pub.name) =
        list->count;
    list->count++;
    return 0;
}

void compose_svc_list_release(struct compose_svc_list *list)
{
    size_t i;

    for (i = 0; i < list->count; i++) {
        compose_svc_free(list->items[i]);
    }
    free(list->items);
    free(list->index);
    memset(list, 0, sizeof(*list));
}

struct compose_svc *compose_svc_new(const char *name,
                                    const struct rotarr_ynode *primary)
{
    struct compose_svc *svc = calloc(1, sizeof(*svc));

    if (svc != NULL) {
        svc->pub.name = name;
        svc->pub.node = primary;
    }
    return svc;
}

int compose_svc_add_layer(struct compose_svc *svc,
                          const struct rotarr_ynode *map, const char *dir)
{
    if (grow((void **)&svc->layers, &svc->layer_cap, svc->layer_count + 1,
             sizeof(*svc->layers)) < 0) {
        return -1;
    }
    svc->layers[svc->layer_count].map = map;
    svc->layers[svc->layer_count].dir = dir;
    svc->layer_count++;
    return 0;
}

/* Frees the key of entry when it owns it: a list item's key is copied
 * out of "KEY=value", a mapping key is the node's own text. */
static void release_env_key(struct rotarr_compose_env *entry)
{
    if (entry->list_form) {
        free((char *)entry->key);
    }
    entry->key = NULL;
}

static void clear_env(struct compose_svc *svc)
{
    size_t i;

    for (i = 0; i < svc->pub.env_count; i++) {
        release_env_key(&svc->pub.env[i]);
    }
    svc->pub.env_count = 0;
}

static void clear_env_files(struct compose_svc *svc)
{
    size_t i;

    for (i = 0; i < svc->pub.env_file_count; i++) {
        free(svc->pub.env_files[i].path);
    }
    svc->pub.env_file_count = 0;
}

void compose_svc_free(struct compose_svc *svc)
{
    if (svc == NULL) {
        return;
    }
    clear_env(svc);
    clear_env_files(svc);
    free(svc->pub.env);
    free(svc->pub.env_files);
    free(svc->pub.depends);
    free(svc->layers);
    free(svc->layer_maps);
    free(svc->ports);
    free(svc);
}

/*
 * The environment being merged, with an open-addressing index from key to
 * position so that services with hundreds of variables merge in linear
 * time.
 */
struct env_table {
    size_t cap;    /* of svc->pub.env */
    size_t *slots; /* positions in svc->pub.env, SIZE_MAX when free */
    size_t slot_cap;
};

static size_t *env_slot(const struct compose_svc *svc,
                        const struct env_table *table, const char *key)
{
    size_t mask = table->slot_cap - 1;
    size_t i = hash_name(key) & mask;

    while (table->slots[i] != SIZE_MAX &&
           strcmp(svc->pub.env[table->slots[i]].key, key) != 0) {
        i = (i + 1) & mask;
    }
    return &table->slots[i];
}

static int env_reindex(const struct compose_svc *svc, struct env_table *table,
                       size_t need)
{
    size_t cap = table->slot_cap > 0 ? table->slot_cap : 64;
    size_t i;

    while (cap < 2 * need) {
        cap *= 2;
    }
    if (cap != table->slot_cap) {
        free(table->slots);
        table->slots = malloc(cap * sizeof(*table->slots));
        table->slot_cap = table->slots != NULL ? cap : 0;
        if (table->slots == NULL) {
            return -1;
        }
    }
    memset(table->slots, 0xFF, table->slot_cap * sizeof(*table->slots));
    for (i = 0; i < svc->pub.env_count; i++) {
        *env_slot(svc, table, svc->pub.env[i].key) = i;
    }
    return 0;
}

/* Makes room for need entries in the environment and its index. */
static int env_reserve(struct compose_svc *svc, struct env_table *table,
                       size_t need)
{
    if ((2 * need > table->slot_cap && env_reindex(svc, table, need) < 0) ||
        grow((void **)&svc->pub.env, &table->cap, need,
             sizeof(*svc->pub.env)) < 0) {
        return -1;
    }
    return 0;
}

/* Adds entry, replacing the entry of the same key; takes entry's key. */
static int put_env(struct compose_svc *svc, struct env_table *table,
                   struct rotarr_compose_env *entry)
{
    size_t *slot;

    if (env_reserve(svc, table, svc->pub.env_count + 1) < 0) {
        release_env_key(entry);
        return -1;
    }
    slot = env_slot(svc, table, entry->key);
    if (*slot != SIZE_MAX) {
        release_env_key(&svc->pub.env[*slot]);
        svc->pub.env[*slot] = *entry;
        return 0;
    }
    *slot = svc->pub.env_count;
    svc->pub.env[svc->pub.env_count++] = *entry;
    return 0;
}

/* Drops every variable, as "!reset" and "!override" ask. */
static void clear_env_table(struct compose_svc *svc, struct env_table *table)
{
    clear_env(svc);
    if (table->slots != NULL) {
        memset(table->slots, 0xFF, table->slot_cap * sizeof(*table->slots));
    }
}

static int env_from_pair(struct rotarr_compose_env *entry,
                         const struct rotarr_ynode *key,
                         const struct rotarr_ynode *value,
                         const char *service, struct rotarr_error *err)
{
    if (key->kind != ROTARR_YNODE_SCALAR) {
        return compose_fail(key, err, "environment key of service '%s' "
                            "must be a string; write KEY: value", service);
    }
    if (!rotarr_ynode_is_null(value) &&
        value->kind != ROTARR_YNODE_SCALAR) {
        return compose_fail(value, err,
                            "environment variable '%s' of service '%s' "
                            "must be a string, number or boolean; quote it",
                            key->value, service);
    }
    memset(entry, 0, sizeof(*entry));
    if (!rotarr_ynode_is_null(value)) {
        entry->node = value;
        entry->raw = value->value;
        entry->raw_len = value->value_len;
        entry->editable = value->style == ROTARR_YSTYLE_PLAIN ||
                          value->style == ROTARR_YSTYLE_SINGLE ||
                          value->style == ROTARR_YSTYLE_DOUBLE;
        if (entry->editable) {
            entry->raw_start = value->start;
            entry->raw_end = value->end;
        }
    }
    entry->key = key->value;
    return 0;
}

/* Returns 1 when the file contains the item's decoded text as it is, so
 * that offsets into the value are offsets into the file. */
static int span_is_value(const struct rotarr_ynode *item)
{
    const char *bytes = rotarr_ydoc_bytes(item->doc, NULL);

    return item->style == ROTARR_YSTYLE_PLAIN &&
           item->end - item->start == item->value_len &&
           memcmp(bytes + item->start, item->value, item->value_len) == 0;
}

static int env_from_item(struct rotarr_compose_env *entry,
                         const struct rotarr_ynode *item,
                         const char *service, struct rotarr_error *err)
{
    const char *eq;
    size_t key_len;

    if (item->kind != ROTARR_YNODE_SCALAR || item->value_len == 0) {
        return compose_fail(item, err, "environment entry of service '%s' "
                            "must be KEY=value or KEY", service);
    }
    eq = memchr(item->value, '=', item->value_len);
    key_len = eq != NULL ? (size_t)(eq - item->value) : item->value_len;
    if (key_len == 0 || item->value[key_len - 1] == ' ' ||
        item->value[key_len - 1] == '\t') {
        return compose_fail(item, err, "environment entry of service '%s' "
                            "has an empty key or a blank before '='; write "
                            "KEY=value", service);
    }
    memset(entry, 0, sizeof(*entry));
    entry->node = item;
    entry->list_form = 1;
    if (eq != NULL) {
        entry->raw = eq + 1;
        entry->raw_len = item->value_len - key_len - 1;
        if (span_is_value(item)) {
            entry->editable = 1;
            entry->raw_start = item->start + key_len + 1;
            entry->raw_end = item->end;
        }
    }
    entry->key = strndup(item->value, key_len);
    return entry->key == NULL
               ? rotarr_error_set(err, ROTARR_EFILE, "out of memory")
               : 0;
}

static int add_environment(struct compose_svc *svc, struct env_table *table,
                           const struct rotarr_ynode *env,
                           struct rotarr_error *err)
{
    const struct rotarr_ynode *const *pairs;
    struct rotarr_compose_env entry;
    size_t count;
    size_t i;
    int rc;

    if (env->kind == ROTARR_YNODE_SEQUENCE) {
        count = env->count;
    } else if (env->kind == ROTARR_YNODE_MAPPING) {
        count = rotarr_ynode_pairs(env, &pairs);
    } else if (rotarr_ynode_is_null(env)) {
        return 0;
    } else {
        return compose_fail(env, err, "environment of service '%s' must "
                            "be a mapping or a list", svc->pub.name);
    }
    if (count > SIZE_MAX / 2 - svc->pub.env_count ||
        env_reserve(svc, table, svc->pub.env_count + count) < 0) {
        return rotarr_error_set(err, ROTARR_EFILE, "out of memory");
    }
    for (i = 0; i < count; i++) {
        rc = env->kind == ROTARR_YNODE_SEQUENCE
                 ? env_from_item(&entry, env->items[i], svc->pub.name, err)
                 : env_from_pair(&entry, pairs[2 * i], pairs[2 * i + 1],
                                 svc->pub.name, err);
        if (rc < 0) {
            return -1;
        }
        if (put_env(svc, table, &entry) < 0) {
            return rotarr_error_set(err, ROTARR_EFILE, "out of memory");
        }
    }
    return 0;
}

/* Adds an env_file entry; a later entry of the same path replaces the
 * earlier one in its place, as Compose merges them.  Takes path. */
static int put_env_file(struct compose_svc *svc, size_t *cap, char *path,
                        int required, const struct rotarr_ynode *node)
{
    struct rotarr_compose_env_file *files;
    size_t i;

    for (i = 0; i < svc->pub.env_file_count; i++) {
        if (strcmp(svc->pub.env_files[i].path, path) == 0) {
            free(svc->pub.env_files[i].path);
            svc->pub.env_files[i].path = path;
            svc->pub.env_files[i].required = required;
            svc->pub.env_files[i].node = node;
            return 0;
        }
    }
    if (grow((void **)&svc->pub.env_files, cap, svc->pub.env_file_count + 1,
             sizeof(*svc->pub.env_files)) < 0) {
        free(path);
        return -1;
    }
    files = svc->pub.env_files;
    files[svc->pub.env_file_count].path = path;
    files[svc->pub.env_file_count].required = required;
    files[svc->pub.env_file_count].node = node;
    svc->pub.env_file_count++;
    return 0;
}

static int parse_required(const struct rotarr_ynode *node,
                          const struct compose_vars *vars, int *required,
                          struct rotarr_buf *text, struct rotarr_error *err)
{
    if (node == NULL) {
        *required = 1;
        return 0;
    }
    if (node->kind != ROTARR_YNODE_SCALAR ||
        compose_expand(node, vars, text, err) < 0) {
        return node->kind != ROTARR_YNODE_SCALAR
                   ? compose_fail(node, err, "'required' must be true or "
                                  "false")
                   : -1;
    }
    if (strcasecmp(text->data, "true") == 0) {
        *required = 1;
    } else if (strcasecmp(text->data, "false") == 0) {
        *required = 0;
    } else {
        return compose_fail(node, err, "'required' must be true or false");
    }
    return 0;
}

static int add_env_file_item(struct compose_svc *svc, size_t *cap,
                             const struct compose_layer *layer,
                             const struct rotarr_ynode *item,
                             const struct compose_vars *vars,
                             struct rotarr_buf *text, struct rotarr_error *err)
{
    const struct rotarr_ynode *path = item;
    int required = 1;
    char *joined;

    if (item->kind == ROTARR_YNODE_MAPPING) {
        path = rotarr_ynode_get(item, "path");
        if (parse_required(rotarr_ynode_get(item, "required"), vars,
                           &required, text, err) < 0) {
            return -1;
        }
    }
    if (path == NULL || path->kind != ROTARR_YNODE_SCALAR ||
        rotarr_ynode_is_null(path)) {
        return compose_fail(item, err, "env_file entry of service '%s' "
                            "needs a path", svc->pub.name);
    }
    if (compose_expand(path, vars, text, err) < 0) {
        return -1;
    }
    joined = compose_path_join(layer->dir, text->data);
    if (joined == NULL || put_env_file(svc, cap, joined, required, path) < 0) {
        return rotarr_error_set(err, ROTARR_EFILE, "out of memory");
    }
    return 0;
}

static int add_env_files(struct compose_svc *svc, size_t *cap,
                         const struct compose_layer *layer,
                         const struct rotarr_ynode *node,
                         const struct compose_vars *vars,
                         struct rotarr_error *err)
{
    struct rotarr_buf text = ROTARR_BUF_INIT;
    size_t count = node->kind == ROTARR_YNODE_SEQUENCE ? node->count : 1;
    size_t i;
    int ret = -1;

    if (rotarr_ynode_is_null(node)) {
        return 0;
    }
    for (i = 0; i < count; i++) {
        if (add_env_file_item(svc, cap, layer,
                              node->kind == ROTARR_YNODE_SEQUENCE
                                  ? node->items[i]
                                  : node,
                              vars, &text, err) < 0) {
            goto out;
        }
    }
    ret = 0;

out:
    rotarr_buf_release(&text);
    return ret;
}

static int put_depend(struct compose_svc *svc, size_t *cap,
                      const struct rotarr_ynode *name,
                      struct rotarr_error *err)
{
    size_t i;

    if (name->kind != ROTARR_YNODE_SCALAR || name->value_len == 0) {
        return compose_fail(name, err, "depends_on of service '%s' must "
                            "name services", svc->pub.name);
    }
    for (i = 0; i < svc->pub.depends_count; i++) {
        if (strcmp(svc->pub.depends[i], name->value) == 0) {
            return 0;
        }
    }
    if (grow((void **)&svc->pub.depends, cap, svc->pub.depends_count + 1,
             sizeof(*svc->pub.depends)) < 0) {
        return rotarr_error_set(err, ROTARR_EFILE, "out of memory");
    }
    svc->pub.depends[svc->pub.depends_count++] = name->value;
    return 0;
}

static int add_depends(struct compose_svc *svc, size_t *cap,
                       const struct rotarr_ynode *node,
                       struct rotarr_error *err)
{
    const struct rotarr_ynode *const *pairs;
    size_t count;
    size_t i;

    if (node->kind == ROTARR_YNODE_SEQUENCE) {
        for (i = 0; i < node->count; i++) {
            if (put_depend(svc, cap, node->items[i], err) < 0) {
                return -1;
            }
        }
        return 0;
    }
    if (node->kind != ROTARR_YNODE_MAPPING) {
        return rotarr_ynode_is_null(node)
                   ? 0
                   : compose_fail(node, err, "depends_on of service '%s' "
                                  "must be a list or a mapping",
                                  svc->pub.name);
    }
    count = rotarr_ynode_pairs(node, &pairs);
    for (i = 0; i < count; i++) {
        if (put_depend(svc, cap, pairs[2 * i], err) < 0) {
            return -1;
        }
    }
    return 0;
}

static int add_ports(struct compose_svc *svc, const struct rotarr_ynode *node)
{
    const struct rotarr_ynode **grown;

    if (node->kind != ROTARR_YNODE_SEQUENCE) {
        return 0;
    }
    grown = realloc(svc->ports, (svc->port_list_count + 1) * sizeof(*grown));
    if (grown == NULL) {
        return -1;
    }
    svc->ports = grown;
    svc->ports[svc->port_list_count++] = node;
    return 0;
}

/* The service keys the model reads. */
enum svc_key {
    KEY_OTHER,
    KEY_IMAGE,
    KEY_ENVIRONMENT,
    KEY_ENV_FILE,
    KEY_DEPENDS_ON,
    KEY_PORTS,
    KEY_COMMAND,
    KEY_ENTRYPOINT,
    KEY_HEALTHCHECK,
    KEY_VOLUMES,
    KEY_SECRETS,
    KEY_PROFILES,
};

#define SVC_KEY(name, key) { name, sizeof(name) - 1, key }

static const struct {
    const char *name;
    size_t len;
    enum svc_key key;
} svc_keys[] = {
    SVC_KEY("image", KEY_IMAGE),
    SVC_KEY("environment", KEY_ENVIRONMENT),
    SVC_KEY("env_file", KEY_ENV_FILE),
    SVC_KEY("depends_on", KEY_DEPENDS_ON),
    SVC_KEY("ports", KEY_PORTS),
    SVC_KEY("command", KEY_COMMAND),
    SVC_KEY("entrypoint", KEY_ENTRYPOINT),
    SVC_KEY("healthcheck", KEY_HEALTHCHECK),
    SVC_KEY("volumes", KEY_VOLUMES),
    SVC_KEY("secrets", KEY_SECRETS),
    SVC_KEY("profiles", KEY_PROFILES),
};

static enum svc_key key_of(const struct rotarr_ynode *key)
{
    size_t i;

    if (key->kind != ROTARR_YNODE_SCALAR) {
        return KEY_OTHER;
    }
    for (i = 0; i < sizeof(svc_keys) / sizeof(svc_keys[0]); i++) {
        if (key->value_len == svc_keys[i].len &&
            memcmp(key->value, svc_keys[i].name, svc_keys[i].len) == 0) {
            return svc_keys[i].key;
        }
    }
    return KEY_OTHER;
}

/* Returns the field of a key whose node the last layer setting it
 * decides, or NULL. */
static const struct rotarr_ynode **last_wins_field(struct compose_svc *svc,
                                                   enum svc_key key)
{
    struct rotarr_compose_service *pub = &svc->pub;

    switch (key) {
    case KEY_COMMAND:
        return &pub->command;
    case KEY_ENTRYPOINT:
        return &pub->entrypoint;
    case KEY_HEALTHCHECK:
        return &pub->healthcheck;
    case KEY_PORTS:
        return &pub->ports;
    case KEY_DEPENDS_ON:
        return &pub->depends_on;
    case KEY_VOLUMES:
        return &pub->volumes;
    case KEY_SECRETS:
        return &pub->secrets;
    case KEY_PROFILES:
        return &pub->profiles;
    default:
        return NULL;
    }
}

static int set_image(struct compose_svc *svc, const struct rotarr_ynode *node,
                     struct rotarr_error *err)
{
    if (has_tag(node, TAG_RESET) || rotarr_ynode_is_null(node)) {
        svc->pub.image = NULL;
        return 0;
    }
    if (node->kind != ROTARR_YNODE_SCALAR) {
        return compose_fail(node, err, "image of service '%s' must be a "
                            "string", svc->pub.name);
    }
    svc->pub.image = node->value;
    return 0;
}

/* Capacities and the environment index while the layers are applied. */
struct merge_caps {
    struct env_table env;
    size_t env_files;
    size_t depends;
};

/* Applies one merged key of a layer.  "!reset" drops what earlier layers
 * set; "!override" replaces it instead of merging. */
static int apply_merged(struct compose_svc *svc, struct merge_caps *caps,
                        const struct compose_layer *layer, enum svc_key key,
                        const struct rotarr_ynode *value,
                        const struct compose_vars *vars,
                        struct rotarr_error *err)
{
    int replace = has_tag(value, TAG_RESET) || has_tag(value, TAG_OVERRIDE);
    int reset = has_tag(value, TAG_RESET);

    switch (key) {
    case KEY_ENVIRONMENT:
        if (replace) {
            clear_env_table(svc, &caps->env);
        }
        return reset ? 0 : add_environment(svc, &caps->env, value, err);
    case KEY_ENV_FILE:
        if (replace) {
            clear_env_files(svc);
        }
        return reset ? 0
                     : add_env_files(svc, &caps->env_files, layer, value,
                                     vars, err);
    case KEY_DEPENDS_ON:
        svc->pub.depends_count = replace ? 0 : svc->pub.depends_count;
        return reset ? 0 : add_depends(svc, &caps->depends, value, err);
    case KEY_PORTS:
        svc->port_list_count = replace ? 0 : svc->port_list_count;
        if (!reset && add_ports(svc, value) < 0) {
            return rotarr_error_set(err, ROTARR_EFILE, "out of memory");
        }
        return 0;
    case KEY_IMAGE:
        return set_image(svc, value, err);
    default:
        return 0;
    }
}

static int apply_layer(struct compose_svc *svc, struct merge_caps *caps,
                       const struct compose_layer *layer,
                       const struct compose_vars *vars,
                       struct rotarr_error *err)
{
    const struct rotarr_ynode *const *pairs;
    const struct rotarr_ynode **field;
    const struct rotarr_ynode *value;
    enum svc_key key;
    size_t count = rotarr_ynode_pairs(layer->map, &pairs);
    size_t i;

    for (i = 0; i < count; i++) {
        key = key_of(pairs[2 * i]);
        value = pairs[2 * i + 1];
        field = last_wins_field(svc, key);
        if (field != NULL) {
            *field = has_tag(value, TAG_RESET) ? NULL : value;
        }
        if (apply_merged(svc, caps, layer, key, value, vars, err) < 0) {
            return -1;
        }
    }
    return 0;
}

int compose_svc_finish(struct compose_svc *svc,
                       const struct compose_vars *vars,
                       struct rotarr_error *err)
{
    struct merge_caps caps;
    size_t i;
    int ret = -1;

    memset(&caps, 0, sizeof(caps));
    svc->layer_maps = calloc(svc->layer_count, sizeof(*svc->layer_maps));
    if (svc->layer_maps == NULL) {
        rotarr_error_set(err, ROTARR_EFILE, "out of memory");
        goto out;
    }
    for (i = 0; i < svc->layer_count; i++) {
        svc->layer_maps[i] = svc->layers[i].map;
        if (apply_layer(svc, &caps, &svc->layers[i], vars, err) < 0) {
            goto out;
        }
    }
    svc->pub.layers = svc->layer_maps;
    svc->pub.layer_count = svc->layer_count;
    ret = 0;

out:
    free(caps.env.slots);
    return ret;
}
