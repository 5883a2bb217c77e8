#include "rotarr/compat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include "compose_private.h"
#include "rotarr/fileio.h"
#include "rotarr/stack.h"
#include "stack_private.h"

#define RUN_SECRETS "/run/secrets/"

size_t stack_service_index(const struct rotarr_stack *stack,
                           const struct rotarr_compose_service *svc)
{
    return compose_service_index(stack->compose, svc);
}

/*
 * Reduces an image reference to its repository path without registry,
 * "library/" prefix, tag or digest: "docker.io/library/postgres:16" gives
 * "postgres", "ghcr.io/immich-app/postgres:14" gives "immich-app/postgres".
 */
static void image_repository(const char *image, char *out, size_t size)
{
    const char *start = image;
    const char *slash = strchr(image, '/');
    size_t n;
    size_t i;

    if (slash != NULL) {
        n = (size_t)(slash - image);
        if (memchr(image, '.', n) != NULL || memchr(image, ':', n) != NULL ||
            (n == 9 && strncmp(image, "localhost", 9) == 0)) {
            start = slash + 1;
        }
    }
    if (strncmp(start, "library/", 8) == 0) {
        start += 8;
    }
    for (n = 0; start[n] != '\0' && start[n] != '@' && n + 1 < size; n++) {
        out[n] = start[n];
    }
    out[n] = '\0';
    for (i = n; i > 0; i--) {
        if (out[i - 1] == '/') {
            break;
        }
        if (out[i - 1] == ':') {
            out[i - 1] = '\0';
            break;
        }
    }
}

/* Returns the last path component of an image repository. */
static const char *image_basename(const char *repo)
{
    const char *slash = strrchr(repo, '/');

    return slash != NULL ? slash + 1 : repo;
}

static int name_in(const char *name, const char *const *names)
{
    for (; *names != NULL; names++) {
        if (strcmp(name, *names) == 0) {
            return 1;
        }
    }
    return 0;
}

int rotarr_image_is_postgres(const char *image)
{
    static const char *const names[] = {
        "postgres",   "postgresql",      "postgis",         "pgvector",
        "pgvecto-rs", "vchord-postgres", "postgresql-repmgr", NULL,
    };
    char repo[256];
    const char *base;

    image_repository(image, repo, sizeof(repo));
    base = image_basename(repo);
    return name_in(base, names) || strncmp(base, "timescaledb", 11) == 0;
}

int rotarr_image_is_redis(const char *image)
{
    static const char *const names[] = {
        "redis", "redis-stack", "redis-stack-server", "valkey",
        "keydb", "dragonfly",   NULL,
    };
    char repo[256];

    image_repository(image, repo, sizeof(repo));
    return name_in(image_basename(repo), names);
}

enum rotarr_service_kind
rotarr_stack_service_kind(const struct rotarr_stack *stack,
                          const struct rotarr_compose_service *svc)
{
    struct rotarr_buf image = ROTARR_BUF_INIT;
    enum rotarr_service_kind kind = ROTARR_SERVICE_OTHER;

    if (svc->image == NULL ||
        rotarr_stack_expand(stack, svc->image, strlen(svc->image), &image,
                            NULL) < 0) {
        goto out;
    }
    if (rotarr_image_is_postgres(image.data)) {
        kind = ROTARR_SERVICE_POSTGRES;
    } else if (rotarr_image_is_redis(image.data)) {
        kind = ROTARR_SERVICE_REDIS;
    }

out:
    rotarr_buf_release(&image);
    return kind;
}

/* Returns the env key that a text made only of $KEY or ${KEY...} names. */
static const char *sole_reference(const char *raw, size_t len, char *key,
                                  size_t size)
{
    size_t rest;
    const char *start;
    size_t n = 0;

    if (len < 2 || raw[0] != '$') {
        return NULL;
    }
    start = raw[1] == '{' ? raw + 2 : raw + 1;
    while (start + n < raw + len && n + 1 < size &&
           (start[n] == '_' || (start[n] >= 'A' && start[n] <= 'Z') ||
            (start[n] >= 'a' && start[n] <= 'z') ||
            (n > 0 && start[n] >= '0' && start[n] <= '9'))) {
        key[n] = start[n];
        n++;
    }
    key[n] = '\0';
    if (n == 0) {
        return NULL;
    }
    if (raw[1] == '{') {
        rest = (size_t)(raw + len - start - n);
        if (raw[len - 1] != '}' || memchr(start + n, '$', rest) != NULL) {
            return NULL;
        }
    } else if (start + n != raw + len) {
        return NULL;
    }
    return key;
}

static const struct rotarr_compose_env *
find_env(const struct rotarr_compose_service *svc, const char *key)
{
    const struct rotarr_compose_env *found = NULL;
    size_t i;

    for (i = 0; i < svc->env_count; i++) {
        if (strcmp(svc->env[i].key, key) == 0) {
            found = &svc->env[i];
        }
    }
    return found;
}

static int var_from_environment(const struct rotarr_stack *stack,
                                 const struct rotarr_compose_env *item,
                                 struct rotarr_buf *value,
                                 struct rotarr_var_origin *origin,
                                 struct rotarr_error *err)
{
    const char *inherited;

    if (item->raw == NULL) {
        inherited = rotarr_stack_lookup(stack, item->key);
        if (inherited == NULL) {
            return 0;
        }
        snprintf(origin->env_key, sizeof(origin->env_key), "%s", item->key);
        origin->file = stack->project_env_file;
        return rotarr_buf_puts(value, inherited, err) < 0 ? -1 : 1;
    }
    origin->raw = item->raw;
    origin->raw_len = item->raw_len;
    if (sole_reference(item->raw, item->raw_len, origin->env_key,
                       sizeof(origin->env_key)) == NULL) {
        origin->env_key[0] = '\0';
    }
    origin->file = origin->env_key[0] != '\0' ? stack->project_env_file
                                                : (size_t)-1;
    if (rotarr_stack_expand(stack, item->raw, item->raw_len, value, err) <
        0) {
        return -1;
    }
    return 1;
}

int rotarr_stack_service_var(const struct rotarr_stack *stack,
                             const struct rotarr_compose_service *svc,
                             const char *key, struct rotarr_buf *value,
                             struct rotarr_var_origin *origin,
                             struct rotarr_error *err)
{
    const struct rotarr_dotenv_entry *entry = NULL;
    const struct rotarr_compose_env *item;
    size_t index = stack_service_index(stack, svc);
    size_t file = 0;
    size_t i;

    memset(origin, 0, sizeof(*origin));
    item = find_env(svc, key);
    if (item != NULL) {
        return var_from_environment(stack, item, value, origin, err);
    }
    for (i = 0; index != (size_t)-1 &&
                i < stack->service_env_file_count[index]; i++) {
        const struct rotarr_dotenv_entry *e;

        file = stack->service_env_files[index][i];
        e = rotarr_dotenv_find(stack->files[file].env, key);
        if (e != NULL && e->value != NULL) {
            entry = e;
            origin->file = file;
        }
    }
    if (entry == NULL) {
        return 0;
    }
    origin->from_env_file = 1;
    snprintf(origin->env_key, sizeof(origin->env_key), "%s", entry->key);
    return rotarr_buf_append(value, entry->value, entry->value_len, err) < 0
               ? -1
               : 1;
}

static int remember_env_file(struct rotarr_stack *stack, size_t service,
                             size_t file, struct rotarr_error *err)
{
    size_t *grown;
    size_t count = stack->service_env_file_count[service];

    grown = realloc(stack->service_env_files[service],
                    (count + 1) * sizeof(*grown));
    if (grown == NULL) {
        return rotarr_error_set(err, ROTARR_EFILE, "out of memory");
    }
    grown[count] = file;
    stack->service_env_files[service] = grown;
    stack->service_env_file_count[service] = count + 1;
    return 0;
}

static int load_env_files_of(struct rotarr_stack *stack, size_t service,
                             struct rotarr_error *err)
{
    const struct rotarr_compose_service *svc =
        rotarr_compose_service(stack->compose, service);
    const struct rotarr_compose_env_file *env_file;
    struct stat st;
    long index;
    size_t i;

    for (i = 0; i < svc->env_file_count; i++) {
        env_file = &svc->env_files[i];
        if (stat(env_file->path, &st) != 0 && !env_file->required) {
            continue;
        }
        index = stack_load_env_file(stack, env_file->path,
                                    rotarr_stack_project_lookup, stack, err);
        if (index < 0) {
            return rotarr_error_prefix(err, "service '%s' env_file",
                                       svc->name);
        }
        if (remember_env_file(stack, service, (size_t)index, err) < 0) {
            return -1;
        }
    }
    return 0;
}

/* Loads the file behind "/run/secrets/NAME" when the compose file
 * declares secret NAME with a file: source. */
static int load_secret_file(struct rotarr_stack *stack, const char *target,
                            struct rotarr_error *err)
{
    struct rotarr_stack_file *grown;
    struct rotarr_stack_file *file;
    const char *path;
    char *bytes = NULL;
    size_t len = 0;
    size_t i;

    if (strncmp(target, RUN_SECRETS, strlen(RUN_SECRETS)) != 0) {
        return 0;
    }
    path = rotarr_compose_secret_file(stack->compose,
                                      target + strlen(RUN_SECRETS));
    if (path == NULL) {
        return 0;
    }
    for (i = 0; i < stack->file_count; i++) {
        if (strcmp(stack->files[i].path, path) == 0) {
            return 0;
        }
    }
    if (rotarr_path_check_inside(stack->dir, path, err) < 0 ||
        rotarr_file_read(path, 0, &bytes, &len, err) < 0) {
        return -1;
    }
    grown = realloc(stack->files, (stack->file_count + 1) * sizeof(*grown));
    if (grown == NULL) {
        sodium_memzero(bytes, len);
        free(bytes);
        return rotarr_error_set(err, ROTARR_EFILE, "out of memory");
    }
    stack->files = grown;
    file = &stack->files[stack->file_count++];
    memset(file, 0, sizeof(*file));
    file->kind = ROTARR_STACK_FILE_SECRET;
    file->path = strdup(path);
    file->display = strdup(path);
    file->bytes = bytes;
    file->len = len;
    if (file->path == NULL || file->display == NULL) {
        return rotarr_error_set(err, ROTARR_EFILE, "out of memory");
    }
    return 0;
}

static int load_secret_files_of(struct rotarr_stack *stack,
                                 const struct rotarr_compose_service *svc,
                                 struct rotarr_error *err)
{
    struct rotarr_buf value = ROTARR_BUF_INIT;
    struct rotarr_var_origin origin;
    size_t len;
    size_t i;
    int ret = -1;

    for (i = 0; i < svc->env_count; i++) {
        len = strlen(svc->env[i].key);
        if (len < 6 || strcmp(svc->env[i].key + len - 5, "_FILE") != 0) {
            continue;
        }
        rotarr_buf_reset(&value);
        if (rotarr_stack_service_var(stack, svc, svc->env[i].key, &value,
                                     &origin, err) < 0) {
            goto out;
        }
        if (value.data != NULL && load_secret_file(stack, value.data, err) < 0) {
            goto out;
        }
    }
    ret = 0;

out:
    rotarr_buf_release(&value);
    return ret;
}

int stack_load_service_files(struct rotarr_stack *stack,
                             struct rotarr_error *err)
{
    size_t count = rotarr_compose_service_count(stack->compose);
    size_t i;

    stack->service_env_files = calloc(count + 1, sizeof(size_t *));
    stack->service_env_file_count = calloc(count + 1, sizeof(size_t));
    if (stack->service_env_files == NULL ||
        stack->service_env_file_count == NULL) {
        return rotarr_error_set(err, ROTARR_EFILE, "out of memory");
    }
    for (i = 0; i < count; i++) {
        if (load_env_files_of(stack, i, err) < 0 ||
            load_secret_files_of(stack,
                                 rotarr_compose_service(stack->compose, i),
                                 err) < 0) {
            return -1;
        }
    }
    return 0;
}

struct uses_scan {
    const struct rotarr_stack *stack;
    const struct rotarr_occurrences *occs;
    int found;
};

/* Returns 1 when an occurrence sits in project env file entry key. */
static int env_key_holds_secret(const struct rotarr_stack *stack,
                                const struct rotarr_occurrences *occs,
                                const char *key, size_t key_len)
{
    size_t i;

    for (i = 0; i < occs->count; i++) {
        if (occs->items[i].file == stack->project_env_file &&
            strlen(occs->items[i].where) == key_len &&
            memcmp(occs->items[i].where, key, key_len) == 0) {
            return 1;
        }
    }
    return 0;
}

static int note_reference(void *ctx, const struct rotarr_interp_ref *ref)
{
    struct uses_scan *scan = ctx;

    if (env_key_holds_secret(scan->stack, scan->occs, ref->name,
                             ref->name_len)) {
        scan->found = 1;
    }
    return 0;
}

static int environment_uses(const struct rotarr_stack *stack,
                            const struct rotarr_compose_service *svc,
                            const struct rotarr_occurrences *occs)
{
    struct rotarr_error ignored = ROTARR_ERROR_INIT;
    struct uses_scan scan = { stack, occs, 0 };
    size_t i;

    for (i = 0; i < svc->env_count && !scan.found; i++) {
        if (svc->env[i].raw == NULL) {
            scan.found = env_key_holds_secret(stack, occs, svc->env[i].key,
                                              strlen(svc->env[i].key));
            continue;
        }
        (void)rotarr_interp_refs(svc->env[i].raw, svc->env[i].raw_len,
                                 note_reference, &scan, &ignored);
    }
    return scan.found;
}

int rotarr_stack_service_uses(const struct rotarr_stack *stack,
                              const struct rotarr_compose_service *svc,
                              const struct rotarr_occurrences *occs)
{
    size_t index = stack_service_index(stack, svc);
    size_t prefix_len = strlen(svc->name) + strlen("services.") + 1;
    const struct rotarr_occurrence *occ;
    size_t i;
    size_t j;

    for (i = 0; i < occs->count; i++) {
        occ = &occs->items[i];
        if (stack->files[occ->file].kind == ROTARR_STACK_FILE_COMPOSE &&
            strncmp(occ->where, "services.", 9) == 0 &&
            strncmp(occ->where + 9, svc->name, strlen(svc->name)) == 0 &&
            strlen(occ->where) >= prefix_len &&
            occ->where[prefix_len - 1] == '.') {
            return 1;
        }
        if (stack->files[occ->file].kind == ROTARR_STACK_FILE_APPCONFIG &&
            stack->files[occ->file].service == index) {
            return 1;
        }
        for (j = 0; index != (size_t)-1 &&
                    j < stack->service_env_file_count[index]; j++) {
            if (stack->service_env_files[index][j] == occ->file) {
                return 1;
            }
        }
    }
    return environment_uses(stack, svc, occs);
}

static const char *kind_label(enum rotarr_service_kind kind)
{
    return kind == ROTARR_SERVICE_POSTGRES ? "Postgres" : "Redis";
}

const struct rotarr_compose_service *
rotarr_stack_choose_server(const struct rotarr_stack *stack,
                           enum rotarr_service_kind kind, const char *name,
                           struct rotarr_error *err)
{
    const struct rotarr_compose_service *only = NULL;
    const struct rotarr_compose_service *svc;
    struct rotarr_buf names = ROTARR_BUF_INIT;
    enum rotarr_service_kind found;
    size_t count = 0;
    size_t i;

    if (name != NULL) {
        svc = rotarr_compose_find_service(stack->compose, name);
        if (svc == NULL) {
            rotarr_error_set(err, ROTARR_EUSAGE,
                             "no service '%s' in the compose project; "
                             "'rotarr inspect' lists the services",
                             name);
            return NULL;
        }
        /* A service whose image rotarr does not know may be either. */
        found = rotarr_stack_service_kind(stack, svc);
        if (found != kind && found != ROTARR_SERVICE_OTHER) {
            rotarr_error_set(err, ROTARR_EUSAGE,
                             "service '%s' is a %s service, not a %s one; "
                             "'rotarr inspect' lists the services",
                             name, kind_label(found), kind_label(kind));
            return NULL;
        }
        return svc;
    }
    for (i = 0; i < rotarr_compose_service_count(stack->compose); i++) {
        svc = rotarr_compose_service(stack->compose, i);
        if (rotarr_stack_service_kind(stack, svc) != kind) {
            continue;
        }
        if (rotarr_buf_printf(&names, err, "%s'%s'", count > 0 ? ", " : "",
                              svc->name) < 0) {
            goto out;
        }
        only = svc;
        count++;
    }
    if (count == 0) {
        rotarr_error_set(err, ROTARR_EUSAGE,
                         "no %s service found in '%s'; name it with "
                         "'--service'",
                         kind_label(kind), stack->dir);
    } else if (count > 1) {
        rotarr_error_set(err, ROTARR_EUSAGE,
                         "several %s services: %s; choose one with "
                         "'--service'",
                         kind_label(kind), names.data);
    }

out:
    rotarr_buf_release(&names);
    return count == 1 ? only : NULL;
}
