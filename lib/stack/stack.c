#include "rotarr/compat.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include "rotarr/fileio.h"
#include "rotarr/stack.h"
#include "stack_private.h"

static const char *getenv_lookup(void *ctx, const char *name)
{
    (void)ctx;
    return getenv(name);
}

const char *rotarr_stack_lookup(const struct rotarr_stack *stack,
                                const char *name)
{
    const struct rotarr_dotenv_entry *entry;
    const char *value;

    value = stack->shell_lookup(stack->shell_ctx, name);
    if (value != NULL) {
        return value;
    }
    if (stack->project_env == NULL) {
        return NULL;
    }
    entry = rotarr_dotenv_find(stack->project_env, name);
    return entry != NULL ? entry->value : NULL;
}

/* The project environment as Compose builds it: shell first, env file
 * second. */
const char *rotarr_stack_project_lookup(void *ctx, const char *name)
{
    return rotarr_stack_lookup(ctx, name);
}

int rotarr_stack_expand(const struct rotarr_stack *stack, const char *text,
                        size_t len, struct rotarr_buf *out,
                        struct rotarr_error *err)
{
    return rotarr_interp_expand(text, len, rotarr_stack_project_lookup,
                                (void *)stack, out, err);
}

int stack_add_warning(struct rotarr_stack *stack, struct rotarr_error *err,
                      const char *fmt, ...)
{
    struct rotarr_buf line = ROTARR_BUF_INIT;
    char **grown;
    va_list ap;
    char text[ROTARR_ERROR_MSG_MAX];
    int n;

    va_start(ap, fmt);
    n = vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    if (n < 0) {
        return rotarr_error_set(err, ROTARR_EFILE, "invalid warning format");
    }
    grown = realloc(stack->warnings,
                    (stack->warning_count + 1) * sizeof(*grown));
    if (grown == NULL) {
        return rotarr_error_set(err, ROTARR_EFILE, "out of memory");
    }
    stack->warnings = grown;
    if (rotarr_buf_puts(&line, text, err) < 0) {
        return -1;
    }
    stack->warnings[stack->warning_count++] = rotarr_buf_detach(&line, NULL);
    return 0;
}

/* Joins dir and a relative path; an absolute path is returned as is. */
char *stack_join(const char *dir, const char *path, struct rotarr_error *err)
{
    struct rotarr_buf joined = ROTARR_BUF_INIT;

    if (path[0] == '/' || strcmp(dir, ".") == 0) {
        if (rotarr_buf_puts(&joined, path, err) < 0) {
            return NULL;
        }
        return rotarr_buf_detach(&joined, NULL);
    }
    if (rotarr_buf_printf(&joined, err, "%s/%s", dir, path) < 0) {
        rotarr_buf_release(&joined);
        return NULL;
    }
    return rotarr_buf_detach(&joined, NULL);
}

/* Returns path relative to dir when it lies inside it, else a copy. */
static char *display_name(const char *dir, const char *path)
{
    size_t n = strlen(dir);

    if (strcmp(dir, ".") != 0 && strncmp(path, dir, n) == 0 &&
        path[n] == '/') {
        return strdup(path + n + 1);
    }
    if (strncmp(path, "./", 2) == 0) {
        return strdup(path + 2);
    }
    return strdup(path);
}

static struct rotarr_stack_file *add_file(struct rotarr_stack *stack,
                                          enum rotarr_stack_file_kind kind,
                                          const char *path,
                                          struct rotarr_error *err)
{
    struct rotarr_stack_file *grown;
    struct rotarr_stack_file *file;

    grown = realloc(stack->files, (stack->file_count + 1) * sizeof(*grown));
    if (grown == NULL) {
        rotarr_error_set(err, ROTARR_EFILE, "out of memory");
        return NULL;
    }
    stack->files = grown;
    file = &stack->files[stack->file_count];
    memset(file, 0, sizeof(*file));
    file->kind = kind;
    file->path = strdup(path);
    file->display = display_name(stack->dir, path);
    if (file->path == NULL || file->display == NULL) {
        free(file->path);
        free(file->display);
        rotarr_error_set(err, ROTARR_EFILE, "out of memory");
        return NULL;
    }
    stack->file_count++;
    return file;
}

struct rotarr_stack_file *stack_add_file(struct rotarr_stack *stack,
                                         enum rotarr_stack_file_kind kind,
                                         const char *path,
                                         struct rotarr_error *err)
{
    return add_file(stack, kind, path, err);
}

/* Returns the index of an already loaded file with the same identity. */
static long find_loaded(const struct rotarr_stack *stack, const char *path)
{
    struct stat want;
    struct stat have;
    size_t i;

    if (stat(path, &want) != 0) {
        return -1;
    }
    for (i = 0; i < stack->file_count; i++) {
        if (stat(stack->files[i].path, &have) == 0 &&
            have.st_dev == want.st_dev && have.st_ino == want.st_ino) {
            return (long)i;
        }
    }
    return -1;
}

static int warn_readable(struct rotarr_stack *stack, const char *path,
                         const char *display, struct rotarr_error *err)
{
    struct stat st;

    if (stat(path, &st) != 0 || (st.st_mode & 077) == 0) {
        return 0;
    }
    return stack_add_warning(stack, err,
                             "'%s' is readable by other users (mode %04o); "
                             "run 'chmod 600 %s' (rotarr tightens it when "
                             "it rewrites the file)",
                             display, (unsigned)(st.st_mode & 07777),
                             display);
}

static int warn_env_entries(struct rotarr_stack *stack,
                            const struct rotarr_dotenv *env,
                            const char *display, struct rotarr_error *err)
{
    const struct rotarr_dotenv_entry *entry;
    size_t i;

    for (i = 0; i < rotarr_dotenv_count(env); i++) {
        entry = rotarr_dotenv_entry(env, i);
        if (entry->hash_warning &&
            stack_add_warning(stack, err,
                              "%s:%zu: the value of '%s' contains '#' with "
                              "no space before it; Compose releases before "
                              "2.24 cut the value there, so quote it "
                              "('...')",
                              display, entry->line, entry->key) < 0) {
            return -1;
        }
    }
    return 0;
}

/*
 * Reads the env file at path into *text, decrypted when it is an age file
 * (then *encrypted is set, and *armored for the armored form), and
 * checks that the text is UTF-8 with no NUL.  Returns 0, or -1.
 */
static int read_env_text(const struct rotarr_stack *stack, const char *path,
                         struct rotarr_stack_file *file,
                         struct rotarr_secret **text,
                         struct rotarr_error *err)
{
    const char *display = file->display;
    size_t name_len = strlen(display);
    char *bytes = NULL;
    size_t len = 0;

    if (rotarr_file_read(path, 0, &bytes, &len, err) < 0) {
        return -1;
    }
    file->encrypted = rotarr_age_is_encrypted(bytes, len);
    file->armored = file->encrypted &&
                    bytes[strspn(bytes, " \t\r\n")] == '-';
    file->passphrase = file->encrypted &&
                       rotarr_age_uses_passphrase(bytes, len) == 1;
    if (file->encrypted) {
        crypto_generichash(file->sealed_hash, sizeof(file->sealed_hash),
                           (const unsigned char *)bytes, len, NULL, 0);
    }
    /* A plaintext file under an encrypted name would be written back in
     * plaintext while its owner believes it encrypted. */
    if (!file->encrypted && name_len > 4 &&
        strcmp(display + name_len - 4, ".age") == 0) {
        sodium_memzero(bytes, len);
        free(bytes);
        return rotarr_error_set(err, ROTARR_EDECRYPT,
                                "'%s' is not an age file although its name "
                                "ends in '.age'; encrypt it with 'rotarr "
                                "encrypt -R %s -o %s FILE', or rename it",
                                display, ROTARR_AGE_RECIPIENTS_FILE, display);
    }
    if (file->encrypted) {
        *text = rotarr_age_keyring_decrypt(stack->keys, display, bytes, len,
                                           err);
    } else {
        *text = rotarr_secret_new(bytes, len, err);
    }
    sodium_memzero(bytes, len);
    free(bytes);
    if (*text == NULL) {
        return -1;
    }
    if (rotarr_text_check(display, rotarr_secret_data(*text),
                          rotarr_secret_len(*text), err) < 0) {
        rotarr_secret_free(*text);
        *text = NULL;
        return -1;
    }
    return 0;
}

/*
 * Reads and parses one env file.  lookup resolves ${VAR} inside it.
 * Returns the file's index, or -1.
 */
long stack_load_env_file(struct rotarr_stack *stack, const char *path,
                         rotarr_lookup_fn lookup, void *ctx,
                         struct rotarr_error *err)
{
    struct rotarr_stack_file *file;
    struct rotarr_dotenv *env;
    struct rotarr_secret *text = NULL;
    long loaded;

    loaded = find_loaded(stack, path);
    if (loaded >= 0) {
        return stack->files[loaded].kind == ROTARR_STACK_FILE_ENV ? loaded
                                                                  : -1;
    }
    if (rotarr_path_check_inside(stack->dir, path, err) < 0) {
        return -1;
    }
    file = add_file(stack, ROTARR_STACK_FILE_ENV, path, err);
    if (file == NULL || read_env_text(stack, path, file, &text, err) < 0) {
        return -1;
    }
    env = rotarr_dotenv_parse(file->display, rotarr_secret_data(text),
                              rotarr_secret_len(text), lookup, ctx, NULL,
                              err);
    rotarr_secret_free(text);
    if (env == NULL) {
        return -1;
    }
    file->env = env;
    file->bytes = rotarr_dotenv_bytes(env, &file->len);
    if ((!file->encrypted &&
         warn_readable(stack, path, file->display, err) < 0) ||
        warn_env_entries(stack, env, file->display, err) < 0) {
        return -1;
    }
    return (long)(file - stack->files);
}

static int warn_shell_overrides(struct rotarr_stack *stack,
                                struct rotarr_error *err)
{
    const struct rotarr_dotenv_entry *entry;
    size_t i;

    for (i = 0; i < rotarr_dotenv_count(stack->project_env); i++) {
        entry = rotarr_dotenv_entry(stack->project_env, i);
        if (entry->inherited ||
            stack->shell_lookup(stack->shell_ctx, entry->key) == NULL) {
            continue;
        }
        if (stack_add_warning(stack, err,
                              "'%s' is set in the shell environment, which "
                              "Compose uses instead of the env file's value; "
                              "unset it before running 'docker compose'",
                              entry->key) < 0) {
            return -1;
        }
    }
    return 0;
}

/*
 * Chooses the default project env file: DIR/.env, or DIR/.env.age when
 * only that exists.  *path is DIR/.env on entry and the choice on
 * return (freed and NULL when there is none).  Returns 1 when there is
 * one, 0 when there is none, or -1 with *path unchanged.
 */
static int pick_default_env(struct rotarr_stack *stack, char **path,
                            struct rotarr_error *err)
{
    struct stat st;
    char *sealed;
    int has_plain, has_sealed;

    sealed = stack_join(stack->dir, ".env.age", err);
    if (sealed == NULL) {
        return -1;
    }
    has_plain = lstat(*path, &st) == 0;
    has_sealed = lstat(sealed, &st) == 0;
    stack->both_env_files = has_plain && has_sealed;
    if (has_plain && has_sealed &&
        stack_add_warning(stack, err,
                          "both '.env' and '.env.age' exist; rotarr reads "
                          "and rewrites '.env' only, so delete the one "
                          "that is out of date") < 0) {
        free(sealed);
        return -1;
    }
    if (has_plain) {
        free(sealed);
        return 1;
    }
    free(*path);
    *path = has_sealed ? sealed : NULL;
    if (!has_sealed) {
        free(sealed);
    }
    return has_sealed;
}

static int load_project_env(struct rotarr_stack *stack, const char *env_file,
                            struct rotarr_error *err)
{
    char *path;
    long index;
    int found;

    path = stack_join(stack->dir, env_file != NULL ? env_file : ".env", err);
    if (path == NULL) {
        return -1;
    }
    if (env_file == NULL) {
        found = pick_default_env(stack, &path, err);
        if (found <= 0) {
            free(path);
            return found;
        }
    }
    index = stack_load_env_file(stack, path, stack->shell_lookup,
                                stack->shell_ctx, err);
    free(path);
    if (index < 0) {
        return -1;
    }
    stack->project_env_file = (size_t)index;
    stack->project_env = stack->files[index].env;
    return warn_shell_overrides(stack, err);
}

static int add_compose_files(struct rotarr_stack *stack,
                             struct rotarr_error *err)
{
    const struct rotarr_ydoc *doc;
    struct rotarr_stack_file *file;
    size_t i;

    for (i = 0; i < rotarr_compose_file_count(stack->compose); i++) {
        doc = rotarr_compose_file(stack->compose, i);
        file = add_file(stack, ROTARR_STACK_FILE_COMPOSE,
                        rotarr_ydoc_path(doc), err);
        if (file == NULL) {
            return -1;
        }
        file->yaml = doc;
        file->bytes = rotarr_ydoc_bytes(doc, &file->len);
    }
    return 0;
}

struct rotarr_stack *rotarr_stack_load(const struct rotarr_stack_options *opts,
                                       struct rotarr_error *err)
{
    struct rotarr_stack *stack;

    stack = calloc(1, sizeof(*stack));
    if (stack == NULL) {
        rotarr_error_set(err, ROTARR_EFILE, "out of memory");
        return NULL;
    }
    stack->dir = strdup(opts->dir != NULL ? opts->dir : ".");
    stack->shell_lookup =
        opts->shell_lookup != NULL ? opts->shell_lookup : getenv_lookup;
    stack->shell_ctx = opts->shell_ctx;
    stack->keys = opts->keys;
    stack->project_env_file = (size_t)-1;
    if (stack->dir == NULL) {
        rotarr_error_set(err, ROTARR_EFILE, "out of memory");
        goto fail;
    }
    if (load_project_env(stack, opts->env_file, err) < 0) {
        goto fail;
    }
    stack->compose = rotarr_compose_load(stack->dir, opts->compose_files,
                                         opts->compose_file_count,
                                         rotarr_stack_project_lookup, stack, err);
    if (stack->compose == NULL || add_compose_files(stack, err) < 0 ||
        stack_load_service_files(stack, err) < 0 ||
        stack_load_app_files(stack, err) < 0) {
        goto fail;
    }
    return stack;

fail:
    rotarr_stack_free(stack);
    return NULL;
}

const char *rotarr_stack_dir(const struct rotarr_stack *stack)
{
    return stack->dir;
}

const struct rotarr_compose *
rotarr_stack_compose(const struct rotarr_stack *stack)
{
    return stack->compose;
}

size_t rotarr_stack_file_count(const struct rotarr_stack *stack)
{
    return stack->file_count;
}

const struct rotarr_stack_file *
rotarr_stack_file(const struct rotarr_stack *stack, size_t i)
{
    return i < stack->file_count ? &stack->files[i] : NULL;
}

const struct rotarr_stack_file *
rotarr_stack_env_file(const struct rotarr_stack *stack)
{
    return rotarr_stack_file(stack, stack->project_env_file);
}

size_t rotarr_stack_warning_count(const struct rotarr_stack *stack)
{
    return stack->warning_count;
}

const char *rotarr_stack_warning(const struct rotarr_stack *stack, size_t i)
{
    return i < stack->warning_count ? stack->warnings[i] : NULL;
}

static void free_file(struct rotarr_stack_file *file)
{
    if (file->kind == ROTARR_STACK_FILE_ENV) {
        rotarr_dotenv_free((struct rotarr_dotenv *)file->env);
    } else if (file->kind == ROTARR_STACK_FILE_SECRET &&
               file->bytes != NULL) {
        sodium_memzero((void *)file->bytes, file->len);
        free((void *)file->bytes);
    } else if (file->kind == ROTARR_STACK_FILE_APPCONFIG) {
        rotarr_appconfig_free((struct rotarr_appconfig *)file->app);
        sodium_memzero((void *)file->bytes, file->len);
        free((void *)file->bytes);
    }
    free(file->path);
    free(file->display);
}

void rotarr_stack_free(struct rotarr_stack *stack)
{
    size_t i;

    if (stack == NULL) {
        return;
    }
    for (i = 0; i < stack->file_count; i++) {
        free_file(&stack->files[i]);
    }
    free(stack->files);
    for (i = 0; stack->service_env_files != NULL &&
                i < rotarr_compose_service_count(stack->compose); i++) {
        free(stack->service_env_files[i]);
    }
    free(stack->service_env_files);
    free(stack->service_env_file_count);
    rotarr_compose_free(stack->compose);
    for (i = 0; i < stack->warning_count; i++) {
        free(stack->warnings[i]);
    }
    free(stack->warnings);
    free(stack->dir);
    free(stack);
}
