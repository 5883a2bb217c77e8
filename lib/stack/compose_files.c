#include "rotarr/compat.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rotarr/compose.h"
#include "compose_private.h"

/* The names Compose looks for, in its order of preference. */
static const char *const default_files[] = {
    "compose.yaml",
    "compose.yml",
    "docker-compose.yml",
    "docker-compose.yaml",
};

static const char *const override_files[] = {
    "compose.override.yml",
    "compose.override.yaml",
    "docker-compose.override.yml",
    "docker-compose.override.yaml",
};

#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

char *compose_dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');

    if (slash == NULL) {
        return strdup(".");
    }
    if (slash == path) {
        return strdup("/");
    }
    return strndup(path, (size_t)(slash - path));
}

void compose_path_list_release(struct compose_path_list *list)
{
    size_t i;

    for (i = 0; i < list->count; i++) {
        free(list->items[i]);
    }
    free(list->items);
    list->items = NULL;
    list->count = 0;
}

int compose_path_list_add(struct compose_path_list *list, const char *dir,
                          const char *rel, struct rotarr_error *err)
{
    char **grown = realloc(list->items, (list->count + 1) * sizeof(*grown));

    if (grown == NULL) {
        return rotarr_error_set(err, ROTARR_EFILE, "out of memory");
    }
    list->items = grown;
    list->items[list->count] = compose_path_join(dir, rel);
    if (list->items[list->count] == NULL) {
        return rotarr_error_set(err, ROTARR_EFILE, "out of memory");
    }
    list->count++;
    return 0;
}


/* Splits COMPOSE_FILE into paths under dir. */
static int split_compose_file(const char *value, const char *separator,
                              const char *dir, struct compose_path_list *paths,
                              struct rotarr_error *err)
{
    size_t sep_len = strlen(separator);
    const char *start = value;
    const char *end;
    char *item;
    int ret;

    while (*start != '\0') {
        end = strstr(start, separator);
        end = end != NULL ? end : start + strlen(start);
        if (end > start) {
            item = strndup(start, (size_t)(end - start));
            if (item == NULL) {
                return rotarr_error_set(err, ROTARR_EFILE, "out of memory");
            }
            ret = compose_path_list_add(paths, dir, item, err);
            free(item);
            if (ret < 0) {
                return -1;
            }
        }
        start = *end != '\0' ? end + sep_len : end;
    }
    return 0;
}

static int from_compose_file(const struct compose_vars *vars,
                             const char *dir,
                             struct compose_path_list *paths,
                             struct rotarr_error *err)
{
    const char *found = vars->lookup(vars->ctx, "COMPOSE_FILE");
    char *value;
    char *separator = NULL;
    int ret;

    if (found == NULL || found[0] == '\0') {
        return 0;
    }
    value = strdup(found);
    found = vars->lookup(vars->ctx, "COMPOSE_PATH_SEPARATOR");
    if (found != NULL && found[0] != '\0') {
        separator = strdup(found);
    }
    if (value == NULL || (found != NULL && found[0] != '\0' &&
                          separator == NULL)) {
        ret = rotarr_error_set(err, ROTARR_EFILE, "out of memory");
    } else {
        ret = split_compose_file(value, separator != NULL ? separator : ":",
                                 dir, paths, err);
    }
    free(value);
    free(separator);
    return ret;
}

/* Adds the first of names that exists in dir; returns 1 when found. */
static int find_first(const char *dir, const char *const *names,
                      size_t count, struct compose_path_list *paths,
                      struct rotarr_error *err)
{
    char *path;
    size_t i;
    int found;

    for (i = 0; i < count; i++) {
        path = compose_path_join(dir, names[i]);
        if (path == NULL) {
            return rotarr_error_set(err, ROTARR_EFILE, "out of memory");
        }
        found = access(path, F_OK) == 0;
        free(path);
        if (found) {
            return compose_path_list_add(paths, dir, names[i], err) < 0
                       ? -1
                       : 1;
        }
    }
    return 0;
}

int compose_select_files(const struct compose_vars *vars, const char *dir,
                         const char *const *files, size_t file_count,
                         struct compose_path_list *paths,
                         struct rotarr_error *err)
{
    size_t i;
    int found;

    for (i = 0; i < file_count; i++) {
        if (compose_path_list_add(paths, dir, files[i], err) < 0) {
            return -1;
        }
    }
    if (paths->count == 0 && from_compose_file(vars, dir, paths, err) < 0) {
        return -1;
    }
    if (paths->count > 0) {
        return 0;
    }
    found = find_first(dir, default_files, COUNT_OF(default_files), paths,
                       err);
    if (found == 0) {
        return rotarr_error_set(err, ROTARR_EFILE,
                                "no compose file in '%s' (looked for "
                                "compose.yaml, compose.yml, "
                                "docker-compose.yml and docker-compose.yaml); "
                                "pass one with -f", dir);
    }
    if (found < 0) {
        return -1;
    }
    return find_first(dir, override_files, COUNT_OF(override_files), paths,
                      err) < 0
               ? -1
               : 0;
}
