#include "rotarr/compat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include "rotarr/fileio.h"
#include "stack_private.h"

/* A settings file that an app keeps below its config directory. */
struct app_file {
    const char *target; /* the directory inside the container */
    const char *name;   /* the file below it */
    enum rotarr_appconfig_format format;
};

/*
 * LinuxServer and hotio images mount the config directory at /config;
 * the Jellyseerr and Overseerr images use /app/config.
 */
static const struct app_file app_files[] = {
    { "/config", "config.xml", ROTARR_APPCONFIG_XML },
    { "/config", "config/config.yaml", ROTARR_APPCONFIG_YAML },
    { "/config", "settings.json", ROTARR_APPCONFIG_JSON },
    { "/app/config", "settings.json", ROTARR_APPCONFIG_JSON },
};

/* One bind mount of a service, interpolated. */
struct bind_mount {
    struct rotarr_buf source;
    struct rotarr_buf target;
};

static int expand_scalar(const struct rotarr_stack *stack,
                         const struct rotarr_ynode *node,
                         struct rotarr_buf *out, struct rotarr_error *err)
{
    rotarr_buf_reset(out);
    if (node == NULL || node->kind != ROTARR_YNODE_SCALAR) {
        return 0;
    }
    return rotarr_stack_expand(stack, node->value, node->value_len, out,
                               err);
}

/* Splits "SOURCE:TARGET[:MODE]"; a source without '/', '.' or '~' at
 * its start names a volume, not a host path. */
static int read_short_syntax(const struct rotarr_stack *stack,
                             const struct rotarr_ynode *item,
                             struct bind_mount *mount,
                             struct rotarr_error *err)
{
    struct rotarr_buf text = ROTARR_BUF_INIT;
    const char *colon;
    const char *mode;
    int ret = -1;

    if (expand_scalar(stack, item, &text, err) < 0) {
        goto out;
    }
    colon = text.data != NULL ? strchr(text.data, ':') : NULL;
    if (colon == NULL || strchr("./~", text.data[0]) == NULL) {
        ret = 0;
        goto out;
    }
    mode = strchr(colon + 1, ':');
    if (rotarr_buf_append(&mount->source, text.data,
                          (size_t)(colon - text.data), err) < 0 ||
        rotarr_buf_append(&mount->target, colon + 1,
                          mode != NULL ? (size_t)(mode - colon - 1)
                                       : strlen(colon + 1),
                          err) < 0) {
        goto out;
    }
    ret = 1;

out:
    rotarr_buf_release(&text);
    return ret;
}

static int read_long_syntax(const struct rotarr_stack *stack,
                            const struct rotarr_ynode *item,
                            struct bind_mount *mount,
                            struct rotarr_error *err)
{
    if (!rotarr_ynode_equals(rotarr_ynode_get(item, "type"), "bind")) {
        return 0;
    }
    if (expand_scalar(stack, rotarr_ynode_get(item, "source"),
                      &mount->source, err) < 0 ||
        expand_scalar(stack, rotarr_ynode_get(item, "target"),
                      &mount->target, err) < 0) {
        return -1;
    }
    return mount->source.len > 0 && mount->target.len > 0;
}

/* Turns the mount's source into a host path as Compose does: '~' is the
 * home directory, a relative path starts at the project directory. */
static char *host_path(const struct rotarr_stack *stack, const char *source,
                       struct rotarr_error *err)
{
    const char *home = getenv("HOME");
    struct rotarr_buf path = ROTARR_BUF_INIT;

    if ((source[0] == '~' && (source[1] == '/' || source[1] == '\0'))) {
        if (home == NULL ||
            rotarr_buf_printf(&path, err, "%s%s", home, source + 1) < 0) {
            rotarr_buf_release(&path);
            if (home == NULL) {
                rotarr_error_set(err, ROTARR_EFILE,
                                 "HOME is not set, so the bind mount '%s' "
                                 "cannot be found; set HOME",
                                 source);
            }
            return NULL;
        }
        return rotarr_buf_detach(&path, NULL);
    }
    while (source[0] == '.' && source[1] == '/') {
        source += 2;
    }
    return stack_join(rotarr_compose_project_dir(stack->compose),
                      source[0] != '\0' ? source : ".", err);
}

static int already_loaded(const struct rotarr_stack *stack, const char *path)
{
    size_t i;

    for (i = 0; i < stack->file_count; i++) {
        if (strcmp(stack->files[i].path, path) == 0) {
            return 1;
        }
    }
    return 0;
}

static int load_app_file(struct rotarr_stack *stack, size_t service,
                         const char *path,
                         enum rotarr_appconfig_format format,
                         struct rotarr_error *err)
{
    struct rotarr_stack_file *file;
    struct stat st;
    char *bytes = NULL;
    size_t len = 0;

    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) ||
        already_loaded(stack, path)) {
        return 0;
    }
    if (rotarr_path_check_inside(stack->dir, path, NULL) < 0) {
        /* NEEDSWORK: config directories outside the stack directory
         * (/opt/appdata/...) are only reported, because writes are
         * confined to the stack directory. */
        return stack_add_warning(stack, err,
                                 "'%s' is outside the stack directory, so "
                                 "rotarr neither reads nor rewrites it",
                                 path);
    }
    if (rotarr_file_read(path, ROTARR_READ_UTF8, &bytes, &len, err) < 0) {
        return -1;
    }
    file = stack_add_file(stack, ROTARR_STACK_FILE_APPCONFIG, path, err);
    if (file == NULL) {
        sodium_memzero(bytes, len);
        free(bytes);
        return -1;
    }
    file->bytes = bytes;
    file->len = len;
    file->service = service;
    file->app = rotarr_appconfig_parse(file->display, format, bytes, len,
                                       err);
    return file->app != NULL ? 0 : -1;
}

static int load_mount(struct rotarr_stack *stack, size_t service,
                      const struct bind_mount *mount,
                      struct rotarr_error *err)
{
    const char *target = mount->target.data;
    char *dir;
    char *path;
    size_t i;
    int ret = 0;

    if (target == NULL || mount->source.data == NULL) {
        return 0;
    }
    dir = host_path(stack, mount->source.data, err);
    if (dir == NULL) {
        return -1;
    }
    for (i = 0; i < sizeof(app_files) / sizeof(app_files[0]) && ret == 0;
         i++) {
        if (strcmp(target, app_files[i].target) != 0 &&
            !(strncmp(target, app_files[i].target,
                      strlen(app_files[i].target)) == 0 &&
              strcmp(target + strlen(app_files[i].target), "/") == 0)) {
            continue;
        }
        path = stack_join(dir, app_files[i].name, err);
        if (path == NULL) {
            ret = -1;
            break;
        }
        ret = load_app_file(stack, service, path, app_files[i].format, err);
        free(path);
    }
    free(dir);
    return ret;
}

static int load_service_mounts(struct rotarr_stack *stack, size_t service,
                               struct rotarr_error *err)
{
    const struct rotarr_compose_service *svc =
        rotarr_compose_service(stack->compose, service);
    struct bind_mount mount = { ROTARR_BUF_INIT, ROTARR_BUF_INIT };
    const struct rotarr_ynode *item;
    size_t i;
    int found;
    int ret = 0;

    for (i = 0; svc->volumes != NULL &&
                svc->volumes->kind == ROTARR_YNODE_SEQUENCE &&
                i < svc->volumes->count && ret == 0; i++) {
        item = svc->volumes->items[i];
        rotarr_buf_reset(&mount.source);
        rotarr_buf_reset(&mount.target);
        found = item->kind == ROTARR_YNODE_SCALAR
                    ? read_short_syntax(stack, item, &mount, err)
                    : read_long_syntax(stack, item, &mount, err);
        if (found < 0) {
            ret = rotarr_error_prefix(err, "service '%s' volumes", svc->name);
        } else if (found == 1) {
            ret = load_mount(stack, service, &mount, err);
        }
    }
    rotarr_buf_release(&mount.source);
    rotarr_buf_release(&mount.target);
    return ret;
}

int stack_load_app_files(struct rotarr_stack *stack, struct rotarr_error *err)
{
    size_t i;

    for (i = 0; i < rotarr_compose_service_count(stack->compose); i++) {
        if (load_service_mounts(stack, i, err) < 0) {
            return -1;
        }
    }
    return 0;
}
