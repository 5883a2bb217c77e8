#include "rotarr/compat.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rotarr/buf.h"
#include "rotarr/fileio.h"
#include "rotarr/journal.h"
#include "rotarr/state.h"

static char *state_path(const char *stackdir, struct rotarr_error *err)
{
    struct rotarr_buf path = ROTARR_BUF_INIT;

    if (rotarr_buf_printf(&path, err, "%s/.rotarr/state", stackdir) < 0) {
        return NULL;
    }
    return rotarr_buf_detach(&path, NULL);
}

/* Reads the state file; a missing file reads as empty. */
static int read_state(const char *path, char **bytes, size_t *len,
                      struct rotarr_error *err)
{
    if (access(path, F_OK) != 0 && errno == ENOENT) {
        *bytes = calloc(1, 1);
        *len = 0;
        return *bytes != NULL ? 0
                              : rotarr_error_set(err, ROTARR_EFILE,
                                                 "out of memory");
    }
    return rotarr_file_read(path, 0, bytes, len, err);
}

/* Returns 1 when line is the record of (kind, service, var). */
static int line_matches(const char *line, size_t len, const char *key)
{
    size_t key_len = strlen(key);

    return len > key_len && memcmp(line, key, key_len) == 0 &&
           line[key_len] == ' ';
}

static int record_key(char *key, size_t size, const char *kind,
                      const char *service, const char *var,
                      struct rotarr_error *err)
{
    int n = snprintf(key, size, "%s %s %s", kind, service, var);

    if (n < 0 || (size_t)n >= size || strpbrk(service, " \n") != NULL ||
        strpbrk(var, " \n") != NULL) {
        return rotarr_error_set(err, ROTARR_EUSAGE,
                                "cannot record service '%s' variable '%s' "
                                "in the state file",
                                service, var);
    }
    return 0;
}

int rotarr_state_record(const char *stackdir, const char *kind,
                        const char *service, const char *var, time_t when,
                        struct rotarr_error *err)
{
    struct rotarr_buf out = ROTARR_BUF_INIT;
    char key[768];
    char *path = NULL;
    char *bytes = NULL;
    const char *line;
    const char *end;
    size_t len = 0;
    int dirfd;
    int ret = -1;

    if (record_key(key, sizeof(key), kind, service, var, err) < 0) {
        return -1;
    }
    dirfd = rotarr_state_dir_open(stackdir, 1, err);
    if (dirfd < 0) {
        return -1;
    }
    close(dirfd);
    path = state_path(stackdir, err);
    if (path == NULL || read_state(path, &bytes, &len, err) < 0) {
        goto out;
    }
    for (line = bytes; line < bytes + len; line = end + 1) {
        end = memchr(line, '\n', (size_t)(bytes + len - line));
        if (end == NULL) {
            end = bytes + len;
        }
        if (!line_matches(line, (size_t)(end - line), key) &&
            end > line &&
            (rotarr_buf_append(&out, line, (size_t)(end - line), err) < 0 ||
             rotarr_buf_append(&out, "\n", 1, err) < 0)) {
            goto out;
        }
    }
    if (rotarr_buf_printf(&out, err, "%s %lld\n", key, (long long)when) < 0) {
        goto out;
    }
    if (access(path, F_OK) != 0) {
        if (rotarr_file_create_secret(path, out.data, out.len, err) < 0) {
            goto out;
        }
    } else if (rotarr_file_replace(NULL, path, out.data, out.len, 0, NULL,
                                   NULL, err) < 0) {
        goto out;
    }
    ret = 0;

out:
    rotarr_buf_release(&out);
    free(bytes);
    free(path);
    return ret;
}

int rotarr_state_lookup(const char *stackdir, const char *kind,
                        const char *service, const char *var, time_t *when,
                        struct rotarr_error *err)
{
    char key[768];
    char *path;
    char *bytes = NULL;
    const char *line;
    const char *end;
    size_t len = 0;
    int ret = -1;

    if (record_key(key, sizeof(key), kind, service, var, err) < 0) {
        return -1;
    }
    path = state_path(stackdir, err);
    if (path == NULL || read_state(path, &bytes, &len, err) < 0) {
        goto out;
    }
    ret = 0;
    for (line = bytes; line < bytes + len; line = end + 1) {
        end = memchr(line, '\n', (size_t)(bytes + len - line));
        if (end == NULL) {
            end = bytes + len;
        }
        if (line_matches(line, (size_t)(end - line), key)) {
            *when = (time_t)strtoll(line + strlen(key) + 1, NULL, 10);
            ret = 1;
        }
    }

out:
    free(bytes);
    free(path);
    return ret;
}
