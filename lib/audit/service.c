#include "rotarr/compat.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "audit_private.h"

const struct rotarr_ynode *
audit_service_get(const struct rotarr_compose_service *svc, const char *key)
{
    const struct rotarr_ynode *value;
    size_t i;

    for (i = svc->layer_count; i > 0; i--) {
        value = rotarr_ynode_get(svc->layers[i - 1], key);
        if (value != NULL) {
            return value;
        }
    }
    return NULL;
}

const struct rotarr_ynode *
audit_service_anchor(const struct rotarr_compose_service *svc)
{
    const struct rotarr_ynode *image = audit_service_get(svc, "image");

    return image != NULL ? image : svc->node;
}

int audit_expand(struct audit_ctx *ctx, const char *text, size_t len,
                 struct rotarr_buf *out)
{
    struct rotarr_error ignored = ROTARR_ERROR_INIT;
    size_t start = out->len;

    if (rotarr_stack_expand(ctx->stack, text, len, out, &ignored) == 0) {
        return 0;
    }
    if (out->data != NULL) {
        out->len = start;
        out->data[start] = '\0';
    }
    return rotarr_buf_append(out, text, len, ctx->err);
}

int audit_name_is_secret(const char *name)
{
    static const char *const words[] = {
        "PASSWORD", "PASSWD", "_PASS", "SECRET", "TOKEN", "APIKEY",
        "API_KEY",  "PRIVATE_KEY", NULL,
    };
    static const char *const settings[] = {
        "LIMIT", "EXPIR", "LENGTH", "TIMEOUT", "_TTL", "_URL", "_PATH",
        "_HEADER", "_ENABLED", NULL,
    };
    char upper[128];
    size_t i;

    for (i = 0; name[i] != '\0' && i + 1 < sizeof(upper); i++) {
        upper[i] = (char)toupper((unsigned char)name[i]);
    }
    upper[i] = '\0';
    if (i > 5 && strcmp(upper + i - 5, "_FILE") == 0) {
        return 0;
    }
    /* Settings about a secret rather than the secret: API_KEY_RATE_LIMIT,
     * TOKEN_EXPIRY, PASSWORD_MIN_LENGTH, ... */
    for (i = 0; settings[i] != NULL; i++) {
        if (strstr(upper, settings[i]) != NULL) {
            return 0;
        }
    }
    for (i = 0; words[i] != NULL; i++) {
        if (strstr(upper, words[i]) != NULL) {
            return 1;
        }
    }
    return 0;
}

/* Finds the line of the env file entry or compose node defining key. */
static void value_place(struct audit_ctx *ctx,
                        const struct rotarr_compose_service *svc,
                        const char *key,
                        const struct rotarr_var_origin *origin,
                        const char **file, size_t *line)
{
    const struct rotarr_stack_file *sf;
    const struct rotarr_dotenv_entry *entry;
    size_t i;
    size_t f;

    *file = NULL;
    *line = 0;
    if (origin->env_key[0] != '\0' &&
        origin->file < rotarr_stack_file_count(ctx->stack)) {
        sf = rotarr_stack_file(ctx->stack, origin->file);
        entry = sf->env != NULL ? rotarr_dotenv_find(sf->env, origin->env_key)
                                : NULL;
        if (entry != NULL) {
            *file = sf->display;
            *line = entry->line;
            return;
        }
    }
    for (i = 0; i < svc->env_count; i++) {
        if (strcmp(svc->env[i].key, key) == 0 && svc->env[i].node != NULL) {
            *line = svc->env[i].node->line;
            for (f = 0; f < rotarr_stack_file_count(ctx->stack); f++) {
                sf = rotarr_stack_file(ctx->stack, f);
                if (sf->yaml == svc->env[i].node->doc) {
                    *file = sf->display;
                }
            }
            return;
        }
    }
}

int audit_service_value(struct audit_ctx *ctx, size_t i, const char *key,
                        struct rotarr_buf *value, const char **file,
                        size_t *line)
{
    const struct rotarr_compose_service *svc;
    struct rotarr_error ignored = ROTARR_ERROR_INIT;
    struct rotarr_var_origin origin;
    int found;

    svc = rotarr_compose_service(ctx->compose, i);
    memset(&origin, 0, sizeof(origin));
    rotarr_buf_reset(value);
    /* A value that cannot be interpolated (a required variable left
     * unset) is audited as unset; 'rotarr inspect' reports it. */
    found = rotarr_stack_service_var(ctx->stack, svc, key, value, &origin,
                                     &ignored);
    if (found <= 0) {
        return 0;
    }
    value_place(ctx, svc, key, &origin, file, line);
    return 1;
}

/* Returns 1 when name occurs in text as a whole host name. */
static int names_host(const char *text, size_t len, const char *name)
{
    size_t n = strlen(name);
    const char *p = text;
    const char *end = text + len;
    int before;
    int after;

    while (n > 0 && p + n <= end) {
        p = memmem(p, (size_t)(end - p), name, n);
        if (p == NULL) {
            return 0;
        }
        before = p == text || !(isalnum((unsigned char)p[-1]) ||
                                p[-1] == '-' || p[-1] == '_');
        after = p + n == end || !(isalnum((unsigned char)p[n]) ||
                                  p[n] == '-' || p[n] == '_');
        if (before && after) {
            return 1;
        }
        p++;
    }
    return 0;
}

/* Returns 1 when a scalar or any scalar of a collection names host. */
static int node_names_host(const struct rotarr_ynode *node, const char *name,
                           int depth)
{
    size_t i;
    size_t n;

    if (node == NULL || depth > 8) {
        return 0;
    }
    if (node->kind == ROTARR_YNODE_SCALAR) {
        return names_host(node->value, node->value_len, name);
    }
    n = node->kind == ROTARR_YNODE_MAPPING ? node->count * 2 : node->count;
    for (i = 0; i < n; i++) {
        if (node_names_host(node->items[i], name, depth + 1)) {
            return 1;
        }
    }
    return 0;
}

static int env_names_host(struct audit_ctx *ctx, size_t user,
                          const char *name)
{
    const struct rotarr_compose_service *svc;
    const struct rotarr_stack_file *sf;
    const struct rotarr_dotenv_entry *entry;
    size_t i;
    size_t f;
    size_t e;
    int found = 0;

    svc = rotarr_compose_service(ctx->compose, user);
    for (i = 0; i < svc->env_count && !found; i++) {
        found = svc->env[i].raw != NULL &&
                names_host(svc->env[i].raw, svc->env[i].raw_len, name);
    }
    for (i = 0; i < svc->env_file_count && !found; i++) {
        for (f = 0; f < rotarr_stack_file_count(ctx->stack); f++) {
            sf = rotarr_stack_file(ctx->stack, f);
            if (sf->env == NULL || strcmp(sf->path, svc->env_files[i].path)) {
                continue;
            }
            for (e = 0; e < rotarr_dotenv_count(sf->env) && !found; e++) {
                entry = rotarr_dotenv_entry(sf->env, e);
                found = entry->value != NULL &&
                        names_host(entry->value, entry->value_len, name);
            }
        }
    }
    return found;
}

/* Returns 1 when user reaches the server under the host name name. */
static int uses_name(struct audit_ctx *ctx, size_t user, const char *name)
{
    const struct rotarr_compose_service *svc;
    size_t i;

    svc = rotarr_compose_service(ctx->compose, user);
    for (i = 0; i < svc->depends_count; i++) {
        if (strcmp(svc->depends[i], name) == 0) {
            return 1;
        }
    }
    return env_names_host(ctx, user, name) ||
           node_names_host(svc->command, name, 0) ||
           node_names_host(svc->entrypoint, name, 0) ||
           node_names_host(audit_service_get(svc, "links"), name, 0);
}

int audit_service_uses(struct audit_ctx *ctx, size_t user, size_t server)
{
    const struct rotarr_compose_service *svc;
    const struct rotarr_ynode *alias;
    static const char *const keys[] = { "container_name", "hostname", NULL };
    size_t k;

    svc = rotarr_compose_service(ctx->compose, server);
    if (uses_name(ctx, user, svc->name)) {
        return 1;
    }
    for (k = 0; keys[k] != NULL; k++) {
        alias = audit_service_get(svc, keys[k]);
        if (alias != NULL && alias->kind == ROTARR_YNODE_SCALAR &&
            alias->value_len > 0 && uses_name(ctx, user, alias->value)) {
            return 1;
        }
    }
    return 0;
}
