#include "rotarr/compat.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rotarr/compose.h"
#include "rotarr/fileio.h"
#include "compose_private.h"

struct loader {
    struct rotarr_compose *c;
    struct compose_vars vars;
    /* Files whose include: entries are being followed, innermost last. */
    const struct rotarr_ydoc *includes[ROTARR_COMPOSE_MAX_CHAIN];
    size_t include_depth;
    struct rotarr_error *err;
};

/* One service of an extends chain, to detect loops. */
struct extends_link {
    const struct rotarr_ynode *map;
    const struct extends_link *next;
};

static int out_of_memory(struct rotarr_error *err)
{
    return rotarr_error_set(err, ROTARR_EFILE, "out of memory");
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

/* Hands s to the project, which frees it with itself; NULL on failure. */
static char *keep_string(struct rotarr_compose *c, char *s)
{
    if (s == NULL || grow((void **)&c->strings, &c->string_cap,
                          c->string_count + 1, sizeof(*c->strings)) < 0) {
        free(s);
        return NULL;
    }
    c->strings[c->string_count++] = s;
    return s;
}

static const struct rotarr_ydoc *find_read(const struct rotarr_compose *c,
                                           const char *key)
{
    size_t i;

    for (i = 0; i < c->file_count; i++) {
        if (strcmp(c->files[i].key, key) == 0) {
            return c->files[i].doc;
        }
    }
    return NULL;
}

static int keep_doc(struct rotarr_compose *c, struct rotarr_ydoc *doc,
                    char *key)
{
    if (grow((void **)&c->files, &c->file_cap, c->file_count + 1,
             sizeof(*c->files)) < 0) {
        return -1;
    }
    c->files[c->file_count].doc = doc;
    c->files[c->file_count].key = key;
    c->file_count++;
    return 0;
}

/* Reads and parses path once; a file reached again returns the same
 * document. */
static const struct rotarr_ydoc *read_doc(struct loader *l, const char *path)
{
    const struct rotarr_ydoc *seen;
    struct rotarr_ydoc *doc;
    char *key = realpath(path, NULL);
    char *bytes = NULL;
    size_t len = 0;

    key = key != NULL ? key : strdup(path);
    if (key == NULL) {
        out_of_memory(l->err);
        return NULL;
    }
    seen = find_read(l->c, key);
    if (seen != NULL) {
        free(key);
        return seen;
    }
    if (rotarr_file_read(path, 0, &bytes, &len, l->err) < 0) {
        free(key);
        return NULL;
    }
    doc = rotarr_ydoc_parse_owned(path, bytes, len, l->err);
    if (doc != NULL && keep_doc(l->c, doc, key) < 0) {
        rotarr_ydoc_free(doc);
        doc = NULL;
        out_of_memory(l->err);
    }
    if (doc == NULL) {
        free(key);
    }
    return doc;
}

static int is_service_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

static int valid_service_name(const struct rotarr_ynode *key)
{
    size_t i;

    if (key->kind != ROTARR_YNODE_SCALAR || key->value_len == 0) {
        return 0;
    }
    for (i = 0; i < key->value_len; i++) {
        if (!is_service_name_char(key->value[i])) {
            return 0;
        }
    }
    return 1;
}

/* Returns the services mapping of a document root, or NULL when it has
 * none; fails when it is not a mapping. */
static int services_of(const struct rotarr_ynode *root,
                       const struct rotarr_ynode **services,
                       struct rotarr_error *err)
{
    *services = rotarr_ynode_get(root, "services");
    if (rotarr_ynode_is_null(*services)) {
        *services = NULL;
        return 0;
    }
    if ((*services)->kind != ROTARR_YNODE_MAPPING) {
        return compose_fail(*services, err, "'services' must be a mapping "
                            "of service names to services");
    }
    return 0;
}

static int add_layers(struct loader *l, struct compose_svc *svc,
                      const struct rotarr_ynode *services, const char *name,
                      const struct rotarr_ynode *map, const char *dir,
                      const struct extends_link *chain, size_t depth);

/* Reads the services of the file named by "extends: file:", and sets
 * dir to that file's directory. */
static int extends_file(struct loader *l, const struct rotarr_ynode *file,
                        const struct rotarr_ynode **services, const char **dir)
{
    struct rotarr_buf text = ROTARR_BUF_INIT;
    const struct rotarr_ydoc *doc = NULL;
    char *path = NULL;
    int ret = -1;

    if (file->kind != ROTARR_YNODE_SCALAR) {
        return compose_fail(file, l->err, "'extends: file' must be a path");
    }
    if (compose_expand(file, &l->vars, &text, l->err) < 0) {
        goto out;
    }
    path = compose_path_join(*dir, text.data);
    *dir = keep_string(l->c, path != NULL ? compose_dir_of(path) : NULL);
    if (path == NULL || *dir == NULL) {
        ret = out_of_memory(l->err);
        goto out;
    }
    doc = read_doc(l, path);
    if (doc == NULL) {
        goto out;
    }
    if (rotarr_ydoc_root(doc) == NULL) {
        ret = compose_fail(file, l->err, "'%s' is empty", path);
        goto out;
    }
    ret = services_of(rotarr_ydoc_root(doc), services, l->err);

out:
    free(path);
    rotarr_buf_release(&text);
    return ret;
}

/* Reads "extends:": the base service's name and where it lives. */
static int extends_base(struct loader *l, const struct rotarr_ynode *extends,
                        const char **name,
                        const struct rotarr_ynode **services,
                        const char **dir)
{
    const struct rotarr_ynode *file = NULL;
    const struct rotarr_ynode *service = extends;

    if (extends->kind == ROTARR_YNODE_MAPPING) {
        service = rotarr_ynode_get(extends, "service");
        file = rotarr_ynode_get(extends, "file");
    }
    if (service == NULL || service->kind != ROTARR_YNODE_SCALAR ||
        rotarr_ynode_is_null(service)) {
        return compose_fail(extends, l->err, "'extends' needs the name of "
                            "a service");
    }
    *name = service->value;
    return file != NULL ? extends_file(l, file, services, dir) : 0;
}

static int check_chain(struct loader *l, const struct rotarr_ynode *map,
                       const struct extends_link *chain, size_t depth,
                       const char *name)
{
    const struct extends_link *link;

    if (depth >= ROTARR_COMPOSE_MAX_CHAIN) {
        return compose_fail(map, l->err, "'extends' of service '%s' goes "
                            "deeper than %d services; shorten the chain",
                            name, ROTARR_COMPOSE_MAX_CHAIN);
    }
    for (link = chain; link != NULL; link = link->next) {
        if (link->map == map) {
            return compose_fail(map, l->err, "'extends' of service '%s' "
                                "loops back to it; remove the loop", name);
        }
    }
    return 0;
}

/*
 * Adds to svc the mappings that service name (whose mapping is map, an
 * entry of services) is built from: its extends bases first, recursively,
 * then map itself.
 */
static int add_layers(struct loader *l, struct compose_svc *svc,
                      const struct rotarr_ynode *services, const char *name,
                      const struct rotarr_ynode *map, const char *dir,
                      const struct extends_link *chain, size_t depth)
{
    const struct rotarr_ynode *extends;
    const struct rotarr_ynode *base_services = services;
    const struct rotarr_ynode *base_map;
    const char *base_dir = dir;
    const char *base = NULL;
    struct extends_link link;

    if (map->kind != ROTARR_YNODE_MAPPING) {
        return compose_fail(map, l->err, "service '%s' is not a mapping; "
                            "define it as a mapping", name);
    }
    if (check_chain(l, map, chain, depth, name) < 0) {
        return -1;
    }
    extends = rotarr_ynode_get(map, "extends");
    if (extends != NULL) {
        if (extends_base(l, extends, &base, &base_services, &base_dir) < 0) {
            return -1;
        }
        base_map = rotarr_ynode_get(base_services, base);
        if (base_map == NULL) {
            return compose_fail(extends, l->err, "service '%s' extends "
                                "'%s', which is not defined there", name,
                                base);
        }
        link.map = map;
        link.next = chain;
        if (add_layers(l, svc, base_services, base, base_map, base_dir,
                       &link, depth + 1) < 0) {
            return -1;
        }
    }
    if (compose_svc_add_layer(svc, map, dir) < 0) {
        return out_of_memory(l->err);
    }
    return 0;
}

static int add_own_services(struct loader *l,
                            const struct rotarr_ynode *services,
                            const char *dir, struct compose_svc_list *list)
{
    const struct rotarr_ynode *const *pairs;
    const struct rotarr_ynode *key;
    struct compose_svc *svc;
    size_t count = rotarr_ynode_pairs(services, &pairs);
    size_t i;

    for (i = 0; i < count; i++) {
        key = pairs[2 * i];
        if (!valid_service_name(key)) {
            return compose_fail(key, l->err, "invalid service name; use "
                                "letters, digits, '.', '_' and '-'");
        }
        svc = compose_svc_new(key->value, pairs[2 * i + 1]);
        if (svc == NULL || compose_svc_list_add(list, svc) < 0) {
            compose_svc_free(svc);
            return out_of_memory(l->err);
        }
        if (add_layers(l, svc, services, key->value, pairs[2 * i + 1], dir,
                       NULL, 0) < 0) {
            return -1;
        }
    }
    return 0;
}

static int load_project(struct loader *l,
                        const struct compose_path_list *paths,
                        const char *project_dir,
                        struct compose_svc_list *list);

/* Collects the paths of an include entry's "path" (string or list). */
static int include_paths(struct loader *l, const struct rotarr_ynode *node,
                         const char *dir, struct compose_path_list *paths)
{
    struct rotarr_buf text = ROTARR_BUF_INIT;
    size_t count = node->kind == ROTARR_YNODE_SEQUENCE ? node->count : 1;
    const struct rotarr_ynode *item;
    size_t i;
    int ret = -1;

    if (count == 0) {
        return compose_fail(node, l->err, "'include' needs a file path");
    }
    for (i = 0; i < count; i++) {
        item = node->kind == ROTARR_YNODE_SEQUENCE ? node->items[i] : node;
        if (item->kind != ROTARR_YNODE_SCALAR || rotarr_ynode_is_null(item)) {
            compose_fail(item, l->err, "'include' needs a file path");
            goto out;
        }
        if (compose_expand(item, &l->vars, &text, l->err) < 0 ||
            compose_path_list_add(paths, dir, text.data, l->err) < 0) {
            goto out;
        }
    }
    ret = 0;

out:
    rotarr_buf_release(&text);
    return ret;
}

/* Stores in *project_dir the include's project_directory, or the
 * directory of its first file; the project keeps the string. */
static int include_project_dir(struct loader *l,
                               const struct rotarr_ynode *entry,
                               const char *dir, const char *first_path,
                               const char **project_dir)
{
    struct rotarr_buf text = ROTARR_BUF_INIT;
    const struct rotarr_ynode *node = NULL;
    char *joined = NULL;
    int ret = -1;

    if (entry->kind == ROTARR_YNODE_MAPPING) {
        node = rotarr_ynode_get(entry, "project_directory");
    }
    if (node == NULL) {
        joined = compose_dir_of(first_path);
    } else if (node->kind != ROTARR_YNODE_SCALAR) {
        ret = compose_fail(node, l->err, "'project_directory' must be a "
                           "path");
        goto out;
    } else if (compose_expand(node, &l->vars, &text, l->err) < 0) {
        goto out;
    } else {
        joined = compose_path_join(dir, text.data);
    }
    *project_dir = keep_string(l->c, joined);
    ret = *project_dir != NULL ? 0 : out_of_memory(l->err);

out:
    rotarr_buf_release(&text);
    return ret;
}

/* Moves the services of an included project into list, where the
 * including file's own services already are. */
static int take_included(struct loader *l, const struct rotarr_ynode *entry,
                         struct compose_svc_list *included,
                         struct compose_svc_list *list)
{
    struct compose_svc *svc;
    struct compose_svc *existing;
    size_t i;

    for (i = 0; i < included->count; i++) {
        svc = included->items[i];
        existing = compose_svc_list_find(list, svc->pub.name);
        if (existing != NULL && existing->pub.node == svc->pub.node) {
            continue;
        }
        if (existing != NULL) {
            return compose_fail(entry, l->err, "included project defines "
                                "service '%s', which is already defined; "
                                "rename one of them", svc->pub.name);
        }
        if (compose_svc_list_add(list, svc) < 0) {
            return out_of_memory(l->err);
        }
        included->items[i] = NULL;
    }
    return 0;
}

/*
 * NEEDSWORK: an include's env_file entries are not read, so its files are
 * interpolated with the including project's variables.  Paths that use a
 * variable only that env_file defines resolve differently from Compose.
 */
static int load_include(struct loader *l, const struct rotarr_ynode *entry,
                        const char *dir, struct compose_svc_list *list)
{
    struct compose_svc_list included = { NULL, 0, 0, NULL, 0 };
    struct compose_path_list paths = { NULL, 0 };
    const struct rotarr_ynode *path = entry;
    const char *project_dir;
    size_t i;
    int ret = -1;

    if (entry->kind == ROTARR_YNODE_MAPPING) {
        path = rotarr_ynode_get(entry, "path");
    }
    if (path == NULL || rotarr_ynode_is_null(path)) {
        ret = compose_fail(entry, l->err, "'include' needs a file path");
        goto out;
    }
    if (include_paths(l, path, dir, &paths) < 0 ||
        include_project_dir(l, entry, dir, paths.items[0], &project_dir) <
            0 ||
        load_project(l, &paths, project_dir, &included) < 0 ||
        take_included(l, entry, &included, list) < 0) {
        goto out;
    }
    ret = 0;

out:
    for (i = 0; i < included.count; i++) {
        compose_svc_free(included.items[i]);
    }
    included.count = 0;
    compose_svc_list_release(&included);
    compose_path_list_release(&paths);
    return ret;
}

static int check_include_loop(struct loader *l,
                              const struct rotarr_ynode *include)
{
    size_t i;

    if (l->include_depth >= ROTARR_COMPOSE_MAX_CHAIN) {
        return compose_fail(include, l->err, "includes nest deeper than "
                            "%d files; flatten them",
                            ROTARR_COMPOSE_MAX_CHAIN);
    }
    for (i = 0; i < l->include_depth; i++) {
        if (l->includes[i] == include->doc) {
            return compose_fail(include, l->err, "include loop: the file "
                                "includes itself; remove the loop");
        }
    }
    return 0;
}

static int load_includes(struct loader *l, const struct rotarr_ynode *root,
                         const char *dir, struct compose_svc_list *list)
{
    const struct rotarr_ynode *include = rotarr_ynode_get(root, "include");
    size_t i;
    int ret = 0;

    if (rotarr_ynode_is_null(include)) {
        return 0;
    }
    if (include->kind != ROTARR_YNODE_SEQUENCE) {
        return compose_fail(include, l->err, "'include' must be a list");
    }
    if (check_include_loop(l, include) < 0) {
        return -1;
    }
    l->includes[l->include_depth++] = include->doc;
    for (i = 0; i < include->count && ret == 0; i++) {
        ret = load_include(l, include->items[i], dir, list);
    }
    l->include_depth--;
    return ret;
}

static struct compose_secret *secret_slot(struct rotarr_compose *c,
                                          const char *name)
{
    struct compose_secret *secret;
    size_t i;

    for (i = 0; i < c->secret_count; i++) {
        if (strcmp(c->secrets[i].name, name) == 0) {
            secret = &c->secrets[i];
            free(secret->file);
            free(secret->environment);
            secret->file = NULL;
            secret->environment = NULL;
            return secret;
        }
    }
    if (grow((void **)&c->secrets, &c->secret_cap, c->secret_count + 1,
             sizeof(*c->secrets)) < 0) {
        return NULL;
    }
    secret = &c->secrets[c->secret_count];
    memset(secret, 0, sizeof(*secret));
    secret->name = strdup(name);
    if (secret->name == NULL) {
        return NULL;
    }
    c->secret_count++;
    return secret;
}

static int add_secret(struct loader *l, const struct rotarr_ynode *key,
                      const struct rotarr_ynode *value, const char *dir)
{
    struct rotarr_buf text = ROTARR_BUF_INIT;
    const struct rotarr_ynode *file = rotarr_ynode_get(value, "file");
    const struct rotarr_ynode *env = rotarr_ynode_get(value, "environment");
    struct compose_secret *secret = secret_slot(l->c, key->value);
    int ret = -1;

    if (secret == NULL) {
        return out_of_memory(l->err);
    }
    if (file != NULL && file->kind == ROTARR_YNODE_SCALAR) {
        if (compose_expand(file, &l->vars, &text, l->err) < 0) {
            goto out;
        }
        secret->file = compose_path_join(dir, text.data);
    }
    if (env != NULL && env->kind == ROTARR_YNODE_SCALAR) {
        secret->environment = strdup(env->value);
    }
    if ((file != NULL && secret->file == NULL) ||
        (env != NULL && secret->environment == NULL)) {
        ret = out_of_memory(l->err);
        goto out;
    }
    ret = 0;

out:
    rotarr_buf_release(&text);
    return ret;
}

static int add_secrets(struct loader *l, const struct rotarr_ynode *root,
                       const char *dir)
{
    const struct rotarr_ynode *const *pairs;
    size_t count = rotarr_ynode_pairs(rotarr_ynode_get(root, "secrets"),
                                      &pairs);
    size_t i;

    for (i = 0; i < count; i++) {
        if (pairs[2 * i]->kind == ROTARR_YNODE_SCALAR &&
            pairs[2 * i + 1]->kind == ROTARR_YNODE_MAPPING &&
            add_secret(l, pairs[2 * i], pairs[2 * i + 1], dir) < 0) {
            return -1;
        }
    }
    return 0;
}

/* Merges the services of one file into the project's list: a service
 * already there gains the new layers, which override its earlier ones. */
static int merge_services(struct loader *l, struct compose_svc_list *from,
                          struct compose_svc_list *into)
{
    struct compose_svc *svc;
    struct compose_svc *existing;
    size_t i;
    size_t j;

    for (i = 0; i < from->count; i++) {
        svc = from->items[i];
        existing = compose_svc_list_find(into, svc->pub.name);
        if (existing == NULL) {
            if (compose_svc_list_add(into, svc) < 0) {
                return out_of_memory(l->err);
            }
            from->items[i] = NULL;
            continue;
        }
        for (j = 0; j < svc->layer_count; j++) {
            if (compose_svc_add_layer(existing, svc->layers[j].map,
                                      svc->layers[j].dir) < 0) {
                return out_of_memory(l->err);
            }
        }
    }
    return 0;
}

static int load_document(struct loader *l, const struct rotarr_ynode *root,
                         const char *dir, struct compose_svc_list *list)
{
    struct compose_svc_list own = { NULL, 0, 0, NULL, 0 };
    const struct rotarr_ynode *services;
    const struct rotarr_ynode *name;
    size_t i;
    int ret = -1;

    if (root->kind != ROTARR_YNODE_MAPPING) {
        return compose_fail(root, l->err, "a compose file must be a "
                            "mapping with 'services:' at the top");
    }
    if (services_of(root, &services, l->err) < 0 ||
        (services != NULL &&
         add_own_services(l, services, dir, &own) < 0) ||
        load_includes(l, root, dir, &own) < 0 ||
        add_secrets(l, root, dir) < 0 || merge_services(l, &own, list) < 0) {
        goto out;
    }
    name = rotarr_ynode_get(root, "name");
    if (name != NULL && name->kind == ROTARR_YNODE_SCALAR) {
        l->c->name = name->value;
    }
    ret = 0;

out:
    for (i = 0; i < own.count; i++) {
        compose_svc_free(own.items[i]);
    }
    own.count = 0;
    compose_svc_list_release(&own);
    return ret;
}

static int load_project(struct loader *l,
                        const struct compose_path_list *paths,
                        const char *project_dir,
                        struct compose_svc_list *list)
{
    const struct rotarr_ydoc *doc;
    size_t i;
    size_t j;

    for (i = 0; i < paths->count; i++) {
        doc = read_doc(l, paths->items[i]);
        if (doc == NULL) {
            return -1;
        }
        if (rotarr_ydoc_document_count(doc) == 0) {
            return rotarr_error_set(l->err, ROTARR_EFILE, "%s: the file is "
                                    "empty; add a 'services:' mapping",
                                    rotarr_ydoc_path(doc));
        }
        for (j = 0; j < rotarr_ydoc_document_count(doc); j++) {
            if (load_document(l, rotarr_ydoc_document(doc, j), project_dir,
                              list) < 0) {
                return -1;
            }
        }
    }
    return 0;
}

static const char *environ_lookup(void *ctx, const char *name)
{
    (void)ctx;
    return getenv(name);
}

struct rotarr_compose *rotarr_compose_load(const char *dir,
                                           const char *const *files,
                                           size_t file_count,
                                           rotarr_lookup_fn lookup,
                                           void *ctx,
                                           struct rotarr_error *err)
{
    struct rotarr_error ignored = ROTARR_ERROR_INIT;
    struct compose_path_list paths = { NULL, 0 };
    struct loader l;
    int ok;

    memset(&l, 0, sizeof(l));
    l.err = err != NULL ? err : &ignored;
    l.vars.lookup = lookup != NULL ? lookup : environ_lookup;
    l.vars.ctx = ctx;
    l.c = calloc(1, sizeof(*l.c));
    if (l.c == NULL) {
        out_of_memory(l.err);
        return NULL;
    }
    dir = dir != NULL ? dir : ".";
    ok = compose_select_files(&l.vars, dir, files, file_count, &paths,
                              l.err) == 0;
    if (ok) {
        l.c->project_dir = compose_dir_of(paths.items[0]);
        if (l.c->project_dir == NULL) {
            ok = out_of_memory(l.err) == 0;
        }
    }
    ok = ok && load_project(&l, &paths, l.c->project_dir,
                            &l.c->services) == 0 &&
         compose_svc_list_finish(&l.c->services, &l.vars, l.err) == 0;
    compose_path_list_release(&paths);
    if (!ok) {
        rotarr_compose_free(l.c);
        return NULL;
    }
    return l.c;
}

