#include "rotarr/compat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <sodium.h>

#include "redis_private.h"
#include "rotarr/fileio.h"

/* Characters a config-file argument may hold without quotes. */
#define CONF_BARE_CHARS                                                    \
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"        \
    "._~%@:/+=-"

/* Joins the project directory and a relative bind-mount source. */
static char *host_path(const struct rotarr_stack *stack, const char *source,
                       const char *rest, struct rotarr_error *err)
{
    struct rotarr_buf path = ROTARR_BUF_INIT;
    const char *dir = rotarr_compose_project_dir(rotarr_stack_compose(stack));

    if (source[0] != '/' && strncmp(source, "./", 2) == 0) {
        source += 2;
    }
    if ((source[0] != '/' &&
         rotarr_buf_printf(&path, err, "%s/", dir != NULL ? dir : ".") < 0) ||
        rotarr_buf_printf(&path, err, "%s%s", source, rest) < 0) {
        rotarr_buf_release(&path);
        return NULL;
    }
    return rotarr_buf_detach(&path, NULL);
}

/*
 * Returns the host path that a bind mount gives container_path, or NULL.
 * source and target are one volume's, source already interpolated.
 */
static char *map_mount(const struct rotarr_stack *stack, const char *source,
                       const char *target, const char *container_path,
                       struct rotarr_error *err)
{
    size_t n = strlen(target);

    while (n > 1 && target[n - 1] == '/') {
        n--;
    }
    if (source[0] != '.' && source[0] != '/') {
        return NULL; /* a named volume: not in the stack */
    }
    if (strncmp(container_path, target, n) != 0 ||
        (container_path[n] != '\0' && container_path[n] != '/')) {
        return NULL;
    }
    return host_path(stack, source, container_path + n, err);
}

/* Reads one volume entry: "SRC:DST[:MODE]" or {type, source, target}. */
static char *mount_of(const struct rotarr_stack *stack,
                      const struct rotarr_ynode *volume,
                      const char *container_path, struct rotarr_error *err)
{
    struct rotarr_buf source = ROTARR_BUF_INIT;
    const struct rotarr_ynode *src = rotarr_ynode_get(volume, "source");
    const struct rotarr_ynode *dst = rotarr_ynode_get(volume, "target");
    char target[4096];
    const char *colon;
    char *found = NULL;

    if (volume->kind == ROTARR_YNODE_SCALAR) {
        colon = strchr(volume->value, ':');
        if (colon == NULL ||
            rotarr_stack_expand(stack, volume->value,
                                (size_t)(colon - volume->value), &source,
                                err) < 0) {
            goto out;
        }
        snprintf(target, sizeof(target), "%.*s",
                 (int)strcspn(colon + 1, ":"), colon + 1);
    } else if (src != NULL && dst != NULL &&
               src->kind == ROTARR_YNODE_SCALAR &&
               dst->kind == ROTARR_YNODE_SCALAR) {
        if (rotarr_stack_expand(stack, src->value, src->value_len, &source,
                                err) < 0) {
            goto out;
        }
        snprintf(target, sizeof(target), "%s", dst->value);
    } else {
        goto out;
    }
    found = map_mount(stack, source.data != NULL ? source.data : "", target,
                      container_path, err);

out:
    rotarr_buf_release(&source);
    return found;
}

/* Decodes a double-quoted argument as redis-server does. */
static int decode_double(const char *p, const char *end,
                         struct rotarr_buf *out, struct rotarr_error *err)
{
    static const char escapes[] = "n\nr\rt\tb\ba\a";
    const char *hit;
    char c;
    unsigned value;

    for (; p < end; p++) {
        c = *p;
        if (c == '\\' && p + 3 < end && p[1] == 'x' &&
            sscanf(p + 2, "%2x", &value) == 1) {
            c = (char)value;
            p += 3;
        } else if (c == '\\' && p + 1 < end) {
            p++;
            hit = strchr(escapes, *p);
            c = hit != NULL && (hit - escapes) % 2 == 0 ? hit[1] : *p;
        }
        if (rotarr_buf_append(out, &c, 1, err) < 0) {
            return -1;
        }
    }
    return 0;
}

/* Reads the argument of a requirepass line starting at p. */
static int read_argument(struct redis_server *server, const char *bytes,
                         const char *p, const char *line_end,
                         struct rotarr_error *err)
{
    struct rotarr_buf value = ROTARR_BUF_INIT;
    const char *end = p;
    int ret = -1;

    if (*p == '"' || *p == '\'') {
        end = p + 1;
        while (end < line_end && *end != *p) {
            end += *end == '\\' && end + 1 < line_end ? 2 : 1;
        }
        if (end >= line_end) {
            return rotarr_error_set(err, ROTARR_EFILE,
                                    "'%s': unterminated quote in the "
                                    "requirepass line",
                                    server->conf_display);
        }
        if (*p == '"' ? decode_double(p + 1, end, &value, err)
                      : rotarr_buf_append(&value, p + 1,
                                          (size_t)(end - p - 1), err)) {
            goto out;
        }
        end++;
    } else {
        while (end < line_end && *end != ' ' && *end != '\t' && *end != '\r') {
            end++;
        }
        if (rotarr_buf_append(&value, p, (size_t)(end - p), err) < 0) {
            goto out;
        }
    }
    rotarr_secret_free(server->conf_secret);
    server->conf_secret = rotarr_secret_new(value.data != NULL ? value.data
                                                               : "",
                                            value.len, err);
    server->conf_found = value.len > 0;
    server->conf_value_start = (size_t)(p - bytes);
    server->conf_value_end = (size_t)(end - bytes);
    ret = server->conf_secret != NULL ? 0 : -1;

out:
    if (value.data != NULL) {
        sodium_memzero(value.data, value.len);
    }
    rotarr_buf_release(&value);
    return ret;
}

/* Finds the last requirepass line, and lines rotarr does not handle. */
static int parse_conf(struct redis_server *server, struct rotarr_error *err)
{
    const char *bytes = server->conf_bytes;
    const char *end = bytes + server->conf_len;
    const char *line;
    const char *next;
    size_t word;

    for (line = bytes; line < end; line = next) {
        next = memchr(line, '\n', (size_t)(end - line));
        next = next != NULL ? next + 1 : end;
        line += strspn(line, " \t");
        word = strcspn(line, " \t\r\n");
        if ((word == 4 && strncasecmp(line, "user", 4) == 0) ||
            (word == 7 && strncasecmp(line, "aclfile", 7) == 0)) {
            server->conf_refused = 1;
        }
        if (word != 11 || strncasecmp(line, "requirepass", 11) != 0) {
            continue;
        }
        line += word;
        line += strspn(line, " \t");
        if (read_argument(server, bytes, line, next, err) < 0) {
            return -1;
        }
    }
    return 0;
}

int redis_conf_load(const struct rotarr_stack *stack,
                    struct redis_server *server,
                    const char *container_path, struct rotarr_error *err)
{
    const struct rotarr_ynode *volumes = server->svc->volumes;
    const char *dir = rotarr_stack_dir(stack);
    struct stat st;
    char *path = NULL;
    size_t i;

    for (i = 0; volumes != NULL && volumes->kind == ROTARR_YNODE_SEQUENCE &&
                path == NULL && i < volumes->count;
         i++) {
        path = mount_of(stack, volumes->items[i], container_path, err);
    }
    if (path == NULL || stat(path, &st) != 0 || !S_ISREG(st.st_mode) ||
        rotarr_path_check_inside(dir, path, NULL) < 0) {
        /* Not a file of this stack: the server keeps reading it, and a
         * --requirepass on the command line takes precedence. */
        free(path);
        return 0;
    }
    server->conf_path = path;
    server->conf_display = strdup(strncmp(path, dir, strlen(dir)) == 0 &&
                                          path[strlen(dir)] == '/'
                                      ? path + strlen(dir) + 1
                                      : path);
    if (server->conf_display == NULL) {
        return rotarr_error_set(err, ROTARR_EFILE, "out of memory");
    }
    if (rotarr_file_read(path, 0, &server->conf_bytes, &server->conf_len,
                         err) < 0) {
        return -1;
    }
    return parse_conf(server, err);
}

int redis_conf_quote(const char *text, size_t len, struct rotarr_buf *out,
                     struct rotarr_error *err)
{
    char hex[5];
    size_t i;

    if (len > 0 && strspn(text, CONF_BARE_CHARS) >= len) {
        return rotarr_buf_append(out, text, len, err);
    }
    if (rotarr_buf_puts(out, "\"", err) < 0) {
        return -1;
    }
    for (i = 0; i < len; i++) {
        if (text[i] == '"' || text[i] == '\\') {
            if (rotarr_buf_puts(out, "\\", err) < 0 ||
                rotarr_buf_append(out, &text[i], 1, err) < 0) {
                return -1;
            }
        } else if ((unsigned char)text[i] < 0x20 ||
                   (unsigned char)text[i] == 0x7f) {
            snprintf(hex, sizeof(hex), "\\x%02x", (unsigned char)text[i]);
            if (rotarr_buf_puts(out, hex, err) < 0) {
                return -1;
            }
        } else if (rotarr_buf_append(out, &text[i], 1, err) < 0) {
            return -1;
        }
    }
    return rotarr_buf_puts(out, "\"", err);
}
