#include "rotarr/compat.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include "redis_private.h"
#include "rotarr/failpoint.h"
#include "rotarr/fileio.h"
#include "rotarr/url.h"

static void wipe_buf(struct rotarr_buf *buf)
{
    if (buf->data != NULL) {
        sodium_memzero(buf->data, buf->cap);
    }
    rotarr_buf_release(buf);
}

static struct rotarr_redis_file *add_file(struct rotarr_redisrot_plan *plan,
                                          struct rotarr_error *err)
{
    struct rotarr_redis_file *grown;

    grown = realloc(plan->files, (plan->file_count + 1) * sizeof(*grown));
    if (grown == NULL) {
        rotarr_error_set(err, ROTARR_EFILE, "out of memory");
        return NULL;
    }
    plan->files = grown;
    memset(&grown[plan->file_count], 0, sizeof(grown[0]));
    grown[plan->file_count].stack_file = ROTARR_REDIS_NOT_IN_STACK;
    return &grown[plan->file_count++];
}

struct rotarr_redis_file *redis_plan_file(const struct rotarr_stack *stack,
                                          struct rotarr_redisrot_plan *plan,
                                          size_t index,
                                          struct rotarr_error *err)
{
    const struct rotarr_stack_file *sf = rotarr_stack_file(stack, index);
    struct rotarr_redis_file *file;
    size_t i;

    for (i = 0; i < plan->file_count; i++) {
        if (plan->files[i].stack_file == index) {
            return &plan->files[i];
        }
    }
    if (sf == NULL) {
        rotarr_error_set(err, ROTARR_EFILE, "no stack file %zu", index);
        return NULL;
    }
    file = add_file(plan, err);
    if (file == NULL) {
        return NULL;
    }
    file->stack_file = index;
    file->path = strdup(sf->path);
    file->display = strdup(sf->display);
    file->old_bytes = sf->bytes;
    file->old_len = sf->len;
    file->is_env = sf->kind == ROTARR_STACK_FILE_ENV;
    file->is_yaml = sf->kind == ROTARR_STACK_FILE_COMPOSE;
    if (file->path == NULL || file->display == NULL) {
        rotarr_error_set(err, ROTARR_EFILE, "out of memory");
        return NULL;
    }
    return file;
}

struct rotarr_redis_file *redis_plan_extra_file(
    struct rotarr_redisrot_plan *plan, const char *path, const char *display,
    const char *bytes, size_t len, int create, struct rotarr_error *err)
{
    struct rotarr_redis_file *file;
    size_t i;

    for (i = 0; i < plan->file_count; i++) {
        if (plan->files[i].stack_file == ROTARR_REDIS_NOT_IN_STACK &&
            strcmp(plan->files[i].path, path) == 0) {
            return &plan->files[i];
        }
    }
    file = add_file(plan, err);
    if (file == NULL) {
        return NULL;
    }
    file->path = strdup(path);
    file->display = strdup(display);
    file->owned = malloc(len + 1);
    if (file->path == NULL || file->display == NULL || file->owned == NULL) {
        rotarr_error_set(err, ROTARR_EFILE, "out of memory");
        return NULL;
    }
    memcpy(file->owned, bytes, len);
    file->owned[len] = '\0';
    file->old_bytes = file->owned;
    file->old_len = len;
    file->create = create;
    file->is_env = create;
    return file;
}

static int append_line(char ***lines, size_t *count, const char *text,
                       struct rotarr_error *err)
{
    char **grown = realloc(*lines, (*count + 1) * sizeof(*grown));

    if (grown == NULL) {
        return rotarr_error_set(err, ROTARR_EFILE, "out of memory");
    }
    *lines = grown;
    grown[*count] = strdup(text);
    if (grown[*count] == NULL) {
        return rotarr_error_set(err, ROTARR_EFILE, "out of memory");
    }
    (*count)++;
    return 0;
}

int redis_plan_note(struct rotarr_redisrot_plan *plan,
                    struct rotarr_error *err, const char *fmt, ...)
{
    char text[512];
    va_list ap;
    size_t i;

    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    for (i = 0; i < plan->change_count; i++) {
        if (strcmp(plan->changes[i], text) == 0) {
            return 0;
        }
    }
    return append_line(&plan->changes, &plan->change_count, text, err);
}

void redis_plan_notice(struct rotarr_redisrot_plan *plan, const char *fmt,
                       ...)
{
    char text[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    /* A notice lost to a failed allocation loses no data. */
    (void)rotarr_buf_printf(&plan->notices, NULL, "%s\n", text);
}

int redis_plan_restart(struct rotarr_redisrot_plan *plan, const char *name,
                       struct rotarr_error *err)
{
    size_t i;

    for (i = 0; i < plan->restart_count; i++) {
        if (strcmp(plan->restart[i], name) == 0) {
            return 0;
        }
    }
    return append_line(&plan->restart, &plan->restart_count, name, err);
}

size_t redis_yaml_file(const struct rotarr_stack *stack,
                       const struct rotarr_ynode *node)
{
    size_t i;

    for (i = 0; i < rotarr_stack_file_count(stack); i++) {
        if (rotarr_stack_file(stack, i)->yaml == node->doc) {
            return i;
        }
    }
    return ROTARR_REDIS_NOT_IN_STACK;
}

int redis_project_var(const struct rotarr_stack *stack, const char *name)
{
    const struct rotarr_stack_file *env = rotarr_stack_env_file(stack);

    return env != NULL && rotarr_dotenv_find(env->env, name) != NULL;
}

/* Returns 1 when every byte is an RFC 3986 unreserved character. */
static int all_unreserved(const char *s, size_t len)
{
    return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                     "0123456789-._~") >= len;
}

int redis_password_text(const struct rotarr_stack *stack,
                        const struct rotarr_redisrot_plan *plan, int url,
                        struct rotarr_buf *out, int *literal,
                        struct rotarr_error *err)
{
    const char *pw = rotarr_secret_data(plan->next);
    size_t len = rotarr_secret_len(plan->next);
    size_t i;

    *literal = 0;
    if (plan->var[0] != '\0' && all_unreserved(pw, len) &&
        (redis_project_var(stack, plan->var) ||
         plan->auth == ROTARR_REDIS_AUTH_NONE ||
         plan->mode == ROTARR_REDIS_ENABLE)) {
        return rotarr_buf_printf(out, err, "${%s}", plan->var);
    }
    *literal = 1;
    if (url) {
        return rotarr_url_encode_userinfo(pw, len, out, err);
    }
    for (i = 0; i < len; i++) {
        if (rotarr_buf_append(out, &pw[i], 1, err) < 0 ||
            (pw[i] == '$' && rotarr_buf_append(out, "$", 1, err) < 0)) {
            return -1;
        }
    }
    return 0;
}

int redis_env_set(const struct rotarr_stack *stack,
                  struct rotarr_redisrot_plan *plan, size_t index,
                  const struct rotarr_dotenv_entry *entry, const char *value,
                  size_t len, struct rotarr_error *err)
{
    struct rotarr_buf text = ROTARR_BUF_INIT;
    struct rotarr_redis_file *file = redis_plan_file(stack, plan, index, err);
    int ret = -1;

    if (file == NULL) {
        return -1;
    }
    if ((entry->inherited && rotarr_buf_puts(&text, "=", err) < 0) ||
        rotarr_dotenv_encode_value(value, len, entry->quote, &text, err) < 0 ||
        rotarr_text_edits_add(&file->edits, entry->value_start,
                              entry->value_end, text.data, text.len,
                              err) < 0) {
        goto out;
    }
    file->secret = 1;
    ret = 0;

out:
    wipe_buf(&text);
    return ret;
}

/* Returns the line ending the file uses. */
static const char *eol_of(const char *bytes, size_t len)
{
    return len > 0 && memmem(bytes, len, "\r\n", 2) != NULL ? "\r\n" : "\n";
}

int redis_env_append(const struct rotarr_stack *stack,
                     struct rotarr_redisrot_plan *plan, size_t index,
                     const char *key, const char *value, size_t len,
                     struct rotarr_error *err)
{
    struct rotarr_buf text = ROTARR_BUF_INIT;
    struct rotarr_redis_file *file;
    const char *dir = rotarr_stack_dir(stack);
    char path[4096];
    const char *eol;
    int ret = -1;

    if (index != ROTARR_REDIS_NOT_IN_STACK) {
        file = redis_plan_file(stack, plan, index, err);
    } else {
        snprintf(path, sizeof(path), "%s/.env", dir);
        file = redis_plan_extra_file(plan, strcmp(dir, ".") == 0 ? ".env"
                                                                 : path,
                                     ".env", "", 0, 1, err);
    }
    if (file == NULL) {
        return -1;
    }
    eol = eol_of(file->old_bytes, file->old_len);
    if ((file->old_len > 0 && file->old_bytes[file->old_len - 1] != '\n' &&
         rotarr_buf_puts(&text, eol, err) < 0) ||
        rotarr_buf_printf(&text, err, "%s=", key) < 0 ||
        rotarr_dotenv_encode_value(value, len, ROTARR_QUOTE_NONE, &text,
                                   err) < 0 ||
        rotarr_buf_puts(&text, eol, err) < 0) {
        goto out;
    }
    file->secret = 1;
    ret = rotarr_text_edits_add(&file->edits, file->old_len, file->old_len,
                                text.data, text.len, err);

out:
    wipe_buf(&text);
    return ret;
}

/* Records the lines of the new file that the edits wrote. */
static void note_changed_lines(struct rotarr_redis_file *file)
{
    const struct rotarr_text_edit *e;
    size_t shift = 0;
    size_t line;
    size_t i;
    size_t j;
    size_t k;
    size_t from;
    size_t to;

    file->changed_line_count = 0;
    for (i = 0; i < file->edits.count; i++) {
        e = &file->edits.items[i];
        shift = 0;
        for (j = 0; j < file->edits.count; j++) {
            if (file->edits.items[j].start < e->start) {
                shift += file->edits.items[j].len;
                shift -= file->edits.items[j].end - file->edits.items[j].start;
            }
        }
        from = e->start + shift;
        to = from + (e->len > 0 ? e->len - 1 : 0);
        if (e->len > 0 && e->text[e->len - 1] == '\n' && to > from) {
            to--;
        }
        line = 1;
        for (k = 0; k < from && k < file->bytes.len; k++) {
            line += file->bytes.data[k] == '\n';
        }
        for (; k <= to && k < file->bytes.len; k++) {
            if (k == from || file->bytes.data[k - 1] == '\n') {
                for (j = 0; j < file->changed_line_count &&
                            file->changed_lines[j] != line;
                     j++) {
                }
                if (j == file->changed_line_count &&
                    j < ROTARR_REDIS_CHANGED_LINES_MAX) {
                    file->changed_lines[file->changed_line_count++] = line;
                }
            }
            line += file->bytes.data[k] == '\n';
        }
    }
}

/* Checks that the new bytes of a file still parse. */
static int check_parses(const struct rotarr_redis_file *file,
                        struct rotarr_error *err)
{
    struct rotarr_dotenv *env;
    struct rotarr_ydoc *doc;

    if (file->is_env) {
        env = rotarr_dotenv_parse(file->display, file->bytes.data,
                                  file->bytes.len, NULL, NULL, NULL, err);
        if (env == NULL) {
            return rotarr_error_prefix(err, "rewriting would break '%s'",
                                       file->display);
        }
        rotarr_dotenv_free(env);
    } else if (file->is_yaml) {
        doc = rotarr_ydoc_parse(file->display, file->bytes.data,
                                file->bytes.len, err);
        if (doc == NULL) {
            return rotarr_error_prefix(err, "rewriting would break '%s'",
                                       file->display);
        }
        rotarr_ydoc_free(doc);
    }
    return 0;
}

/* Returns 1 when the new bytes hold the password, as is or encoded. */
static int holds_password(const struct rotarr_redis_file *file,
                          const struct rotarr_secret *pw)
{
    struct rotarr_buf encoded = ROTARR_BUF_INIT;
    int found;

    if (rotarr_secret_len(pw) == 0) {
        return 0;
    }
    found = memmem(file->bytes.data, file->bytes.len, rotarr_secret_data(pw),
                   rotarr_secret_len(pw)) != NULL;
    if (!found && rotarr_url_encode_userinfo(rotarr_secret_data(pw),
                                             rotarr_secret_len(pw), &encoded,
                                             NULL) == 0) {
        found = memmem(file->bytes.data, file->bytes.len, encoded.data,
                       encoded.len) != NULL;
    }
    wipe_buf(&encoded);
    return found;
}

int redis_plan_build(struct rotarr_redisrot_plan *plan,
                     struct rotarr_error *err)
{
    struct rotarr_redis_file *file;
    size_t i;

    for (i = 0; i < plan->file_count; i++) {
        file = &plan->files[i];
        wipe_buf(&file->bytes);
        if (rotarr_text_edits_apply(&file->edits, file->old_bytes,
                                    file->old_len, &file->bytes, err) < 0 ||
            rotarr_buf_puts(&file->bytes, "", err) < 0 ||
            check_parses(file, err) < 0) {
            return -1;
        }
        file->secret = file->secret || file->is_env || file->create ||
                       holds_password(file, plan->next);
        note_changed_lines(file);
    }
    return 0;
}

static int write_one(const struct rotarr_stack *stack,
                     struct rotarr_redisrot_plan *plan,
                     const struct rotarr_redis_file *file,
                     struct rotarr_error *err)
{
    unsigned old_mode;
    unsigned new_mode;
    unsigned flags;

    if (file->edits.count == 0) {
        return 0;
    }
    if (file->create) {
        return rotarr_file_create_secret(file->path, file->bytes.data,
                                         file->bytes.len, err);
    }
    flags = file->secret ? ROTARR_REPLACE_SECRET : 0;
    if (file->stack_file != ROTARR_REDIS_NOT_IN_STACK
            ? rotarr_stack_replace_file(stack, file->stack_file,
                                        file->bytes.data, file->bytes.len,
                                        flags, &old_mode, &new_mode, err) < 0
            : rotarr_file_replace(rotarr_stack_dir(stack), file->path,
                                  file->bytes.data, file->bytes.len, flags,
                                  &old_mode, &new_mode, err) < 0) {
        return -1;
    }
    if (old_mode != new_mode) {
        redis_plan_notice(plan, "%s: mode %04o -> %04o", file->display,
                          old_mode, new_mode);
    }
    return 0;
}

int redis_plan_write(const struct rotarr_stack *stack,
                     struct rotarr_redisrot_plan *plan,
                     struct rotarr_error *err)
{
    size_t i;

    for (i = 0; i < plan->file_count; i++) {
        if (write_one(stack, plan, &plan->files[i], err) < 0) {
            return -1;
        }
        if (i == 0) {
            ROTARR_FAILPOINT("commit-first");
        }
    }
    return 0;
}

/* Returns 1 when both paths name the same file. */
static int same_file(const char *a, const char *b)
{
    struct stat sa;
    struct stat sb;

    if (strcmp(a, b) == 0) {
        return 1;
    }
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
}

const struct rotarr_dotenv_entry *
redis_service_env_entry(const struct rotarr_stack *stack,
                        const struct rotarr_compose_service *svc,
                        const char *key, size_t *index)
{
    const struct rotarr_dotenv_entry *found = NULL;
    const struct rotarr_dotenv_entry *entry;
    const struct rotarr_stack_file *file;
    size_t i;
    size_t j;

    for (i = 0; i < svc->env_file_count; i++) {
        for (j = 0; j < rotarr_stack_file_count(stack); j++) {
            file = rotarr_stack_file(stack, j);
            if (file->kind != ROTARR_STACK_FILE_ENV ||
                !same_file(file->path, svc->env_files[i].path)) {
                continue;
            }
            entry = rotarr_dotenv_find(file->env, key);
            if (entry != NULL && entry->value != NULL) {
                found = entry;
                *index = j;
            }
            break;
        }
    }
    return found;
}

/* Returns the stack index of the project env file, or
 * ROTARR_REDIS_NOT_IN_STACK when the stack has none. */
size_t redis_project_env_index(const struct rotarr_stack *stack)
{
    const struct rotarr_stack_file *env = rotarr_stack_env_file(stack);
    size_t i;

    for (i = 0; env != NULL && i < rotarr_stack_file_count(stack); i++) {
        if (rotarr_stack_file(stack, i) == env) {
            return i;
        }
    }
    return ROTARR_REDIS_NOT_IN_STACK;
}

/* Returns 1 when the len bytes at value equal secret. */
int redis_equals(const char *value, size_t len,
                 const struct rotarr_secret *secret)
{
    return secret != NULL && value != NULL &&
           len == rotarr_secret_len(secret) &&
           (len == 0 ||
            sodium_memcmp(value, rotarr_secret_data(secret), len) == 0);
}

int redis_env_ensure(const struct rotarr_stack *stack,
                     struct rotarr_redisrot_plan *plan, size_t index,
                     const struct rotarr_dotenv_entry *entry,
                     const struct rotarr_secret *old,
                     struct rotarr_error *err)
{
    if (entry->value != NULL &&
        (redis_equals(entry->value, entry->value_len, plan->next) ||
         redis_equals(entry->value, entry->value_len, old))) {
        return 0;
    }
    if (redis_env_set(stack, plan, index, entry,
                      rotarr_secret_data(plan->next),
                      rotarr_secret_len(plan->next), err) < 0) {
        return -1;
    }
    return redis_plan_note(plan, err, "%s: set %s",
                           rotarr_stack_file(stack, index)->display,
                           entry->key);
}

int redis_project_ensure(const struct rotarr_stack *stack,
                         struct rotarr_redisrot_plan *plan, const char *key,
                         const struct rotarr_secret *old,
                         struct rotarr_error *err)
{
    size_t index = redis_project_env_index(stack);
    const struct rotarr_dotenv_entry *entry = NULL;

    if (index != ROTARR_REDIS_NOT_IN_STACK) {
        entry = rotarr_dotenv_find(rotarr_stack_file(stack, index)->env, key);
    }
    if (entry != NULL) {
        return redis_env_ensure(stack, plan, index, entry, old, err);
    }
    if (redis_env_append(stack, plan, index, key,
                         rotarr_secret_data(plan->next),
                         rotarr_secret_len(plan->next), err) < 0) {
        return -1;
    }
    return redis_plan_note(plan, err, "%s: add %s",
                           index != ROTARR_REDIS_NOT_IN_STACK
                               ? rotarr_stack_file(stack, index)->display
                               : ".env (new file)",
                           key);
}
