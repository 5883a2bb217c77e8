#include "rotarr/compat.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include "guard_private.h"
#include "rotarr/fileio.h"

#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

/* The files Compose looks for when no -f and no COMPOSE_FILE is given. */
static const char *const compose_names[] = {
    "compose.yaml", "compose.yml", "docker-compose.yml",
    "docker-compose.yaml",
};

static const char *getenv_lookup(void *ctx, const char *name)
{
    (void)ctx;
    return getenv(name);
}

char *guard_path_join(const char *dir, const char *path)
{
    struct rotarr_buf text = ROTARR_BUF_INIT;
    int rc;

    if (path[0] == '/') {
        return strdup(path);
    }
    rc = rotarr_buf_printf(&text, NULL, "%s/%s", dir != NULL ? dir : ".",
                           path);
    if (rc < 0) {
        rotarr_buf_release(&text);
        return NULL;
    }
    return rotarr_buf_detach(&text, NULL);
}

/*
 * Returns path relative to the working tree's top (resolved), as a new
 * string, or NULL when it lies outside it or cannot be resolved.  A
 * missing file is resolved through its directory.
 */
static char *repo_relative(const char *top, const char *path)
{
    char resolved[PATH_MAX];
    const char *slash = strrchr(path, '/');
    char *dir = NULL, *rel = NULL;
    size_t top_len = strlen(top), used;
    int n;

    if (realpath(path, resolved) == NULL) {
        if (slash == NULL) {
            dir = strdup(".");
        } else {
            dir = strndup(path, slash == path ? 1 : (size_t)(slash - path));
        }
        if (dir == NULL || realpath(dir, resolved) == NULL) {
            goto out;
        }
        used = strlen(resolved);
        n = snprintf(resolved + used, sizeof(resolved) - used, "/%s",
                     slash != NULL ? slash + 1 : path);
        if (n < 0 || (size_t)n >= sizeof(resolved) - used) {
            goto out;
        }
    }
    if (strncmp(resolved, top, top_len) == 0 && resolved[top_len] == '/') {
        rel = strdup(resolved + top_len + 1);
    }

out:
    free(dir);
    return rel;
}

static int add_repo_path(struct rotarr_guard *guard, const char *top,
                         const char *path, struct rotarr_error *err)
{
    char *rel = repo_relative(top, path);
    int ret;

    if (rel == NULL) {
        return 0; /* outside the working tree, so never in a commit */
    }
    ret = rotarr_guard_add_env_path(guard, rel, err);
    free(rel);
    return ret;
}

/* Adds a secret file's content, without its final line break. */
static int learn_secret_file(struct rotarr_guard *guard,
                             const struct rotarr_stack_file *file,
                             struct rotarr_error *err)
{
    struct rotarr_buf origin = ROTARR_BUF_INIT;
    size_t len = file->len;
    int ret;

    while (len > 0 && (file->bytes[len - 1] == '\n' ||
                       file->bytes[len - 1] == '\r')) {
        len--;
    }
    if (rotarr_buf_printf(&origin, err, "the content of '%s'",
                          file->display) < 0) {
        return -1;
    }
    ret = rotarr_guard_add_secret(guard, file->bytes, len, origin.data, err);
    rotarr_buf_release(&origin);
    return ret;
}

/* Adds the passwords and keys of an app's settings file. */
static int learn_app_file(struct rotarr_guard *guard,
                          const struct rotarr_stack_file *file,
                          struct rotarr_error *err)
{
    const struct rotarr_appconfig_setting *setting;
    struct rotarr_buf origin = ROTARR_BUF_INIT;
    size_t i;
    int ret = 0;

    for (i = 0; i < rotarr_appconfig_count(file->app) && ret == 0; i++) {
        setting = rotarr_appconfig_setting(file->app, i);
        if (setting->value_len == 0 ||
            !rotarr_appconfig_names_secret(setting->key)) {
            continue;
        }
        rotarr_buf_reset(&origin);
        ret = rotarr_buf_printf(&origin, err, "'%s' in '%s'", setting->key,
                                file->display);
        if (ret == 0) {
            ret = rotarr_guard_add_secret(guard, setting->value,
                                          setting->value_len, origin.data,
                                          err);
        }
    }
    rotarr_buf_release(&origin);
    return ret;
}

static int learn_files(struct rotarr_guard *guard,
                       const struct rotarr_stack *stack, const char *top,
                       struct rotarr_error *err)
{
    const struct rotarr_stack_file *file;
    size_t i;

    for (i = 0; i < rotarr_stack_file_count(stack); i++) {
        file = rotarr_stack_file(stack, i);
        if (file->kind == ROTARR_STACK_FILE_SECRET &&
            learn_secret_file(guard, file, err) < 0) {
            return -1;
        }
        if (file->kind == ROTARR_STACK_FILE_APPCONFIG &&
            learn_app_file(guard, file, err) < 0) {
            return -1;
        }
        if (file->kind != ROTARR_STACK_FILE_ENV) {
            continue;
        }
        if (rotarr_guard_learn_env(guard, file->env, file->display, err) <
                0 ||
            add_repo_path(guard, top, file->path, err) < 0) {
            return -1;
        }
    }
    return 0;
}

/* Adds every env_file: path, including optional files that are missing
 * now but may be created and staged later. */
static int learn_env_file_paths(struct rotarr_guard *guard,
                                const struct rotarr_stack *stack,
                                const char *top, struct rotarr_error *err)
{
    const struct rotarr_compose *compose = rotarr_stack_compose(stack);
    const struct rotarr_compose_service *svc;
    size_t i, j;

    for (i = 0; i < rotarr_compose_service_count(compose); i++) {
        svc = rotarr_compose_service(compose, i);
        for (j = 0; j < svc->env_file_count; j++) {
            if (add_repo_path(guard, top, svc->env_files[j].path, err) < 0) {
                return -1;
            }
        }
    }
    return 0;
}

static int learn_compose_stack(struct rotarr_guard *guard,
                               const struct rotarr_stack_options *opts,
                               const char *top, struct rotarr_error *err)
{
    struct rotarr_stack *stack;
    int ret;

    stack = rotarr_stack_load(opts, err);
    if (stack == NULL) {
        return rotarr_error_prefix(err, "cannot learn the stack's secrets");
    }
    ret = learn_files(guard, stack, top, err);
    if (ret == 0) {
        ret = learn_env_file_paths(guard, stack, top, err);
    }
    rotarr_stack_free(stack);
    return ret;
}

static int has_compose_file(const struct rotarr_stack_options *opts)
{
    struct stat st;
    char *path;
    size_t i;
    int found = 0;

    if (opts->compose_file_count > 0 || getenv("COMPOSE_FILE") != NULL) {
        return 1;
    }
    for (i = 0; i < COUNT_OF(compose_names) && !found; i++) {
        path = guard_path_join(opts->dir, compose_names[i]);
        found = path == NULL || stat(path, &st) == 0;
        free(path);
    }
    return found;
}

int rotarr_guard_stack_present(const struct rotarr_stack_options *opts)
{
    struct stat st;
    char *path;
    int found;

    if (has_compose_file(opts)) {
        return 1;
    }
    path = guard_path_join(opts->dir,
                           opts->env_file != NULL ? opts->env_file : ".env");
    found = path == NULL || stat(path, &st) == 0;
    free(path);
    return found;
}

/* Reads the env file of a directory without a compose file.  Sets
 * *compose when the file names compose files with COMPOSE_FILE. */
static int learn_env_only(struct rotarr_guard *guard,
                          const struct rotarr_stack_options *opts,
                          const char *top, int *compose,
                          struct rotarr_error *err)
{
    const char *display = opts->env_file != NULL ? opts->env_file : ".env";
    struct rotarr_dotenv *env = NULL;
    struct stat st;
    char *path, *bytes = NULL;
    size_t len = 0;
    int ret = -1;

    path = guard_path_join(opts->dir, display);
    if (path == NULL) {
        return rotarr_error_set(err, ROTARR_EFILE, "out of memory");
    }
    if (opts->env_file == NULL && stat(path, &st) != 0) {
        ret = 0;
        goto out;
    }
    if (rotarr_file_read(path, ROTARR_READ_UTF8, &bytes, &len, err) < 0) {
        goto out;
    }
    env = rotarr_dotenv_parse(display, bytes, len, getenv_lookup, NULL, NULL,
                              err);
    if (env == NULL) {
        goto out;
    }
    *compose = rotarr_dotenv_find(env, "COMPOSE_FILE") != NULL;
    if (*compose) {
        ret = 0;
        goto out;
    }
    ret = rotarr_guard_learn_env(guard, env, display, err);
    if (ret == 0) {
        ret = add_repo_path(guard, top, path, err);
    }

out:
    rotarr_dotenv_free(env);
    if (bytes != NULL) {
        sodium_memzero(bytes, len);
        free(bytes);
    }
    free(path);
    return ret;
}

/* NEEDSWORK: a bare repository (a server's pre-receive hook) has no
 * working tree, so the guard cannot run there yet although it needs no
 * env file to find plaintext env files and private keys. */
char *guard_working_tree_top(struct rotarr_error *err)
{
    static const char *const argv[] = { "git", "rev-parse", "--show-toplevel",
                                        NULL };
    char resolved[PATH_MAX];
    char *top;

    top = guard_git_line(argv, NULL, err);
    if (top == NULL) {
        return NULL;
    }
    if (top[0] == '\0' || realpath(top, resolved) == NULL) {
        rotarr_error_set(err, ROTARR_EFILE,
                         "cannot find the top of the git working tree; run "
                         "rotarr inside a git working tree");
        free(top);
        return NULL;
    }
    free(top);
    top = strdup(resolved);
    if (top == NULL) {
        rotarr_error_set(err, ROTARR_EFILE, "out of memory");
    }
    return top;
}

int rotarr_guard_learn_stack(struct rotarr_guard *guard,
                             const struct rotarr_stack_options *opts,
                             struct rotarr_error *err)
{
    char *top;
    int compose, ret;

    top = guard_working_tree_top(err);
    if (top == NULL) {
        return -1;
    }
    compose = has_compose_file(opts);
    ret = 0;
    if (!compose) {
        ret = learn_env_only(guard, opts, top, &compose, err);
    }
    if (ret == 0 && compose) {
        ret = learn_compose_stack(guard, opts, top, err);
    }
    free(top);
    return ret;
}
