#include "rotarr/compat.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "guard_private.h"
#include "rotarr/fileio.h"

/* Text in the template replaced by the stack directory. */
#define STACK_DIR_TOKEN "@ROTARR_STACK_DIR@"

/* Bytes of a hook read to recognise who wrote it. */
#define HOOK_HEAD_MAX 8192

/* Name of the new hook until it is renamed into place. */
#define HOOK_TEMP_NAME "pre-commit.rotarr-new"

/* Appends s quoted for the inside of a single-quoted sh string. */
static int append_sh_quoted(struct rotarr_buf *out, const char *s)
{
    for (; *s != '\0'; s++) {
        if (*s == '\'' ? rotarr_buf_puts(out, "'\\''", NULL) < 0
                       : rotarr_buf_append(out, s, 1, NULL) < 0) {
            return -1;
        }
    }
    return 0;
}

char *rotarr_hook_script(const char *stack_rel)
{
    struct rotarr_buf out = ROTARR_BUF_INIT;
    const char *token;
    size_t head;

    token = strstr(rotarr_hook_template, STACK_DIR_TOKEN);
    if (token == NULL) {
        return NULL;
    }
    head = (size_t)(token - rotarr_hook_template);
    if (rotarr_buf_append(&out, rotarr_hook_template, head, NULL) < 0 ||
        append_sh_quoted(&out, stack_rel) < 0 ||
        rotarr_buf_puts(&out, token + strlen(STACK_DIR_TOKEN), NULL) < 0) {
        rotarr_buf_release(&out);
        return NULL;
    }
    return rotarr_buf_detach(&out, NULL);
}

/* Reads the start of a regular file (a symlink is never rotarr's) into
 * head; returns the number of bytes, or -1. */
static ssize_t read_head(const char *path, char *head, size_t size)
{
    ssize_t n;
    int fd;

    fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        return -1;
    }
    n = read(fd, head, size - 1);
    close(fd);
    if (n >= 0) {
        head[n] = '\0';
    }
    return n;
}

static int hook_contains(const char *path, const char *text)
{
    char head[HOOK_HEAD_MAX];
    ssize_t n = read_head(path, head, sizeof(head));

    return n > 0 && memmem(head, (size_t)n, text, strlen(text)) != NULL;
}

static int fill_hooks_dir(struct rotarr_hook_status *status,
                          struct rotarr_error *err)
{
    static const char *const argv[] = { "git", "rev-parse",
                                        "--path-format=absolute",
                                        "--git-path", "hooks", NULL };

    status->hooks_dir = guard_git_line(argv, NULL, err);
    if (status->hooks_dir == NULL) {
        return -1;
    }
    if (status->hooks_dir[0] == '\0') {
        return rotarr_error_set(err, ROTARR_EFILE,
                                "git did not say where its hooks are");
    }
    return 0;
}

/* Stores the scope of core.hooksPath ("global\t/path" on output). */
static int fill_hooks_path_scope(struct rotarr_hook_status *status,
                                 struct rotarr_error *err)
{
    static const char *const argv[] = { "git", "config", "--show-scope",
                                        "--get", "core.hooksPath", NULL };
    struct rotarr_buf out = ROTARR_BUF_INIT;
    int unset = 0;
    size_t len;

    if (guard_git_run(argv, NULL, 0, &out, &unset, err) < 0) {
        rotarr_buf_release(&out);
        return -1;
    }
    if (unset == 0 && out.len > 0) {
        len = strcspn(out.data, "\t\n");
        status->hooks_path_scope = strndup(out.data, len);
        if (status->hooks_path_scope == NULL) {
            rotarr_buf_release(&out);
            return rotarr_error_set(err, ROTARR_EFILE, "out of memory");
        }
    }
    rotarr_buf_release(&out);
    return 0;
}

/* Returns the stack directory relative to the working tree's top ("."
 * for the top itself) as a new string. */
static char *stack_relative(const char *stack_dir, struct rotarr_error *err)
{
    char resolved[PATH_MAX];
    char *top, *rel = NULL;
    size_t len;

    top = guard_working_tree_top(err);
    if (top == NULL) {
        return NULL;
    }
    len = strlen(top);
    if (realpath(stack_dir, resolved) == NULL) {
        rotarr_error_set(err, ROTARR_EFILE, "cannot resolve '%s': %s",
                         stack_dir, strerror(errno));
    } else if (strcmp(resolved, top) == 0) {
        rel = strdup(".");
    } else if (strncmp(resolved, top, len) == 0 && resolved[len] == '/') {
        rel = strdup(resolved + len + 1);
    } else {
        rotarr_error_set(err, ROTARR_EFILE,
                         "the stack directory '%s' is outside the git "
                         "working tree '%s'; run 'rotarr hook install' in "
                         "the stack's repository",
                         stack_dir, top);
        free(top);
        return NULL;
    }
    if (rel == NULL && err->code == ROTARR_OK) {
        rotarr_error_set(err, ROTARR_EFILE, "out of memory");
    }
    free(top);
    return rel;
}

/* Appends the command that runs the guard for the stack directory. */
static int append_run_command(struct rotarr_buf *out, const char *stack_rel)
{
    if (strcmp(stack_rel, ".") == 0) {
        return rotarr_buf_puts(out, "rotarr hook run", NULL);
    }
    if (rotarr_buf_puts(out, "rotarr -C '", NULL) < 0 ||
        append_sh_quoted(out, stack_rel) < 0) {
        return -1;
    }
    return rotarr_buf_puts(out, "' hook run", NULL);
}

/* Fills the manager fields: the line to add is prefix, the command and
 * suffix.  Takes file.  Returns 1, or -1 when memory runs out. */
static int set_manager(struct rotarr_hook_status *status, const char *name,
                       char *file, const char *prefix, const char *suffix,
                       const char *stack_rel)
{
    struct rotarr_buf line = ROTARR_BUF_INIT;

    status->manager = name;
    status->manager_file = file;
    if (file == NULL || rotarr_buf_puts(&line, prefix, NULL) < 0 ||
        append_run_command(&line, stack_rel) < 0 ||
        rotarr_buf_puts(&line, suffix, NULL) < 0) {
        rotarr_buf_release(&line);
        return -1;
    }
    status->manager_line = rotarr_buf_detach(&line, NULL);
    return status->manager_line != NULL ? 1 : -1;
}

/* Returns the ".husky" directory that contains dir, as a new string, or
 * NULL when dir is not husky's. */
static char *husky_root(const char *dir)
{
    const char *p = dir, *found = NULL;

    while ((p = strstr(p, ".husky")) != NULL) {
        if ((p == dir || p[-1] == '/') && (p[6] == '\0' || p[6] == '/')) {
            found = p;
        }
        p += 6;
    }
    return found != NULL ? strndup(dir, (size_t)(found - dir) + 6) : NULL;
}

/*
 * Fills the manager fields and returns 1 when another tool owns the
 * hooks: husky, whose hooks directory it rewrites, or the pre-commit
 * framework, whose hook it rewrites on 'pre-commit install'.
 */
static int detect_manager(struct rotarr_hook_status *status, const char *hook,
                          const char *stack_rel, struct rotarr_error *err)
{
    char *root = husky_root(status->hooks_dir);
    int rc = 0;

    if (root != NULL) {
        rc = set_manager(status, "husky",
                         guard_path_join(root, "pre-commit"), "", "",
                         stack_rel);
    } else if (hook_contains(hook, "generated by pre-commit")) {
        rc = set_manager(status, "the pre-commit framework",
                         strdup(".pre-commit-config.yaml"),
                         "- {repo: local, hooks: [{id: rotarr, name: rotarr, "
                         "entry: \"",
                         "\", language: system, pass_filenames: false, "
                         "always_run: true}]}",
                         stack_rel);
    }
    free(root);
    if (rc < 0) {
        return rotarr_error_set(err, ROTARR_EFILE, "out of memory");
    }
    return rc;
}

/* Writes script to dir/pre-commit through a new file renamed into place,
 * mode 0755 whatever the umask. */
static int write_hook(const char *dir, const char *hook, const char *script,
                      struct rotarr_error *err)
{
    char *temp = guard_path_join(dir, HOOK_TEMP_NAME);
    int fd, ret = -1;

    if (temp == NULL) {
        return rotarr_error_set(err, ROTARR_EFILE, "out of memory");
    }
    unlink(temp); /* left over from an interrupted install */
    fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
              0700);
    if (fd < 0) {
        rotarr_error_set(err, ROTARR_EFILE, "cannot create '%s': %s", temp,
                         strerror(errno));
        goto out;
    }
    if (rotarr_write_all(fd, script, strlen(script)) < 0 || fchmod(fd, 0755) < 0 ||
        fsync(fd) < 0) {
        rotarr_error_set(err, ROTARR_EFILE, "cannot write '%s': %s", temp,
                         strerror(errno));
        close(fd);
        unlink(temp);
        goto out;
    }
    close(fd);
    if (rename(temp, hook) < 0) {
        rotarr_error_set(err, ROTARR_EFILE, "cannot rename '%s' to '%s': %s",
                         temp, hook, strerror(errno));
        unlink(temp);
        goto out;
    }
    ret = 0;

out:
    free(temp);
    return ret;
}

static int make_dirs(const char *dir, struct rotarr_error *err)
{
    char path[PATH_MAX];
    size_t i, len = strlen(dir);

    if (len >= sizeof(path)) {
        return rotarr_error_set(err, ROTARR_EFILE, "path too long: '%s'", dir);
    }
    memcpy(path, dir, len + 1);
    for (i = 1; i <= len; i++) {
        if (path[i] != '/' && path[i] != '\0') {
            continue;
        }
        path[i] = '\0';
        if (mkdir(path, 0755) < 0 && errno != EEXIST) {
            return rotarr_error_set(err, ROTARR_EFILE,
                                    "cannot create the hooks directory "
                                    "'%s': %s",
                                    path, strerror(errno));
        }
        path[i] = dir[i];
    }
    return 0;
}

/* Moves a hook that rotarr did not write to the saved name, unchanged. */
static int keep_foreign_hook(const char *hook, const char *saved,
                             struct rotarr_error *err)
{
    struct stat st;

    if (lstat(saved, &st) == 0) {
        return rotarr_error_set(err, ROTARR_EFILE,
                                "'%s' already exists beside a pre-commit hook "
                                "that rotarr did not write; move one of them "
                                "away and run 'rotarr hook install' again",
                                saved);
    }
    if (rename(hook, saved) < 0) {
        return rotarr_error_set(err, ROTARR_EFILE,
                                "cannot rename '%s' to '%s': %s", hook, saved,
                                strerror(errno));
    }
    return 0;
}

static int place_hook(struct rotarr_hook_status *status, const char *hook,
                      const char *saved, const char *script, int force,
                      const char *stack_rel, struct rotarr_error *err)
{
    struct stat st;
    int rc;

    if (!force) {
        rc = detect_manager(status, hook, stack_rel, err);
        if (rc != 0) {
            return rc;
        }
    }
    if (lstat(hook, &st) == 0) {
        if (hook_contains(hook, GUARD_HOOK_MARKER)) {
            status->updated = 1;
        } else if (keep_foreign_hook(hook, saved, err) < 0) {
            return -1;
        } else {
            status->kept = 1;
        }
    } else if (errno != ENOENT) {
        return rotarr_error_set(err, ROTARR_EFILE, "cannot read '%s': %s",
                                hook, strerror(errno));
    }
    if (write_hook(status->hooks_dir, hook, script, err) < 0) {
        if (status->kept) {
            rename(saved, hook);
            status->kept = 0;
        }
        return -1;
    }
    return 0;
}

int rotarr_hook_install(const char *stack_dir, int force,
                        struct rotarr_hook_status *status,
                        struct rotarr_error *err)
{
    char *stack_rel = NULL, *script = NULL, *hook = NULL, *saved = NULL;
    int ret = -1;

    if (fill_hooks_dir(status, err) < 0 ||
        fill_hooks_path_scope(status, err) < 0) {
        goto out;
    }
    stack_rel = stack_relative(stack_dir, err);
    if (stack_rel == NULL) {
        goto out;
    }
    script = rotarr_hook_script(stack_rel);
    hook = guard_path_join(status->hooks_dir, ROTARR_HOOK_NAME);
    saved = guard_path_join(status->hooks_dir, ROTARR_HOOK_SAVED_NAME);
    if (script == NULL || hook == NULL || saved == NULL) {
        rotarr_error_set(err, ROTARR_EFILE, "out of memory");
        goto out;
    }
    if (make_dirs(status->hooks_dir, err) < 0) {
        goto out;
    }
    ret = place_hook(status, hook, saved, script, force, stack_rel, err);

out:
    free(stack_rel);
    free(script);
    free(hook);
    free(saved);
    return ret;
}

static int remove_hook(struct rotarr_hook_status *status, const char *hook,
                       const char *saved, struct rotarr_error *err)
{
    struct stat st;

    if (lstat(hook, &st) < 0) {
        return rotarr_error_set(err, ROTARR_NO,
                                "there is no pre-commit hook in '%s'; "
                                "nothing to uninstall",
                                status->hooks_dir);
    }
    if (!hook_contains(hook, GUARD_HOOK_MARKER)) {
        return rotarr_error_set(err, ROTARR_NO,
                                "the pre-commit hook '%s' was not written by "
                                "rotarr; it is left unchanged",
                                hook);
    }
    if (lstat(saved, &st) == 0) {
        if (rename(saved, hook) < 0) {
            return rotarr_error_set(err, ROTARR_EFILE,
                                    "cannot rename '%s' to '%s': %s", saved,
                                    hook, strerror(errno));
        }
        status->restored = 1;
        return 0;
    }
    if (unlink(hook) < 0) {
        return rotarr_error_set(err, ROTARR_EFILE, "cannot remove '%s': %s",
                                hook, strerror(errno));
    }
    return 0;
}

int rotarr_hook_uninstall(struct rotarr_hook_status *status,
                          struct rotarr_error *err)
{
    char *hook = NULL, *saved = NULL;
    int ret = -1;

    if (fill_hooks_dir(status, err) < 0) {
        return -1;
    }
    hook = guard_path_join(status->hooks_dir, ROTARR_HOOK_NAME);
    saved = guard_path_join(status->hooks_dir, ROTARR_HOOK_SAVED_NAME);
    if (hook == NULL || saved == NULL) {
        rotarr_error_set(err, ROTARR_EFILE, "out of memory");
    } else {
        ret = remove_hook(status, hook, saved, err);
    }
    free(hook);
    free(saved);
    return ret;
}

void rotarr_hook_status_release(struct rotarr_hook_status *status)
{
    if (status == NULL) {
        return;
    }
    free(status->hooks_dir);
    free(status->hooks_path_scope);
    free(status->manager_file);
    free(status->manager_line);
    memset(status, 0, sizeof(*status));
}
