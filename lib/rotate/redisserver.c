#include "rotarr/compat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "redis_private.h"

/* Largest "${VAR:?VAR is not set}" text. */
#define GUARDED_MAX (3 * ROTARR_NAME_MAX)

/* The healthcheck probe: redis-cli exits 0 on NOAUTH, grep does not. */
#define PROBE_FORMAT "%s ping | grep -qx PONG"

static void wipe_buf(struct rotarr_buf *buf)
{
    if (buf->data != NULL) {
        sodium_memzero(buf->data, buf->cap);
    }
    rotarr_buf_release(buf);
}

/* Returns the edits of node's file. */
static struct rotarr_text_edits *edits_of(const struct rotarr_stack *stack,
                                          struct rotarr_redisrot_plan *plan,
                                          const struct rotarr_ynode *node,
                                          struct rotarr_error *err)
{
    struct rotarr_redis_file *file;

    file = redis_plan_file(stack, plan, redis_yaml_file(stack, node), err);
    return file != NULL ? &file->edits : NULL;
}

/* "${VAR:?VAR is not set}": Compose refuses to start an open server when
 * the variable is missing, instead of passing an empty password. */
static void guarded_reference(const char *var, char *out, size_t size)
{
    snprintf(out, size, "${%s:?%s is not set}", var, var);
}

/* Makes the variable the server reads hold the new password. */
static int plan_variable(const struct rotarr_stack *stack,
                         const struct redis_server *server,
                         struct rotarr_redisrot_plan *plan,
                         const struct rotarr_secret *old,
                         struct rotarr_error *err)
{
    const struct rotarr_dotenv_entry *entry;
    size_t index;

    if (plan->var[0] == '\0') {
        return 0;
    }
    if (!redis_project_var(stack, plan->var)) {
        entry = redis_service_env_entry(stack, server->svc, plan->var,
                                        &index);
        if (entry != NULL) {
            return redis_env_ensure(stack, plan, index, entry, old, err);
        }
    }
    return redis_project_ensure(stack, plan, plan->var, old, err);
}

static int add_command(const struct rotarr_stack *stack,
                       const struct redis_server *server,
                       struct rotarr_redisrot_plan *plan, const char *guarded,
                       struct rotarr_error *err)
{
    struct rotarr_buf text = ROTARR_BUF_INIT;
    struct rotarr_text_edits *edits;
    size_t i;
    int ret = -1;

    if (server->svc->entrypoint != NULL || server->arg_count == 0) {
        return rotarr_error_set(err, ROTARR_EUSAGE,
                                "service '%s' sets no command and rotarr "
                                "does not know what image '%s' runs; add "
                                "'--requirepass %s' to its command by hand",
                                plan->service, plan->image, guarded);
    }
    edits = edits_of(stack, plan, server->layer, err);
    if (edits == NULL || rotarr_buf_puts(&text, "command: [", err) < 0) {
        goto out;
    }
    for (i = 0; i < server->arg_count; i++) {
        if (rotarr_yaml_encode_scalar(server->args[i], strlen(server->args[i]),
                                      ROTARR_YSTYLE_DOUBLE, &text, err) < 0 ||
            rotarr_buf_puts(&text, ", ", err) < 0) {
            goto out;
        }
    }
    if (rotarr_buf_puts(&text, "\"--requirepass\", ", err) < 0 ||
        rotarr_yaml_encode_scalar(guarded, strlen(guarded),
                                  ROTARR_YSTYLE_DOUBLE, &text, err) < 0 ||
        rotarr_buf_puts(&text, "]\n", err) < 0 ||
        rotarr_yaml_insert_pairs(edits, server->layer, "image", text.data,
                                 err) < 0) {
        goto out;
    }
    ret = redis_plan_note(plan, err,
                          "services.%s: add a command that passes "
                          "--requirepass",
                          plan->service);

out:
    rotarr_buf_release(&text);
    return ret;
}

/* Adds --requirepass to the command (or its arguments variable). */
static int plan_command(const struct rotarr_stack *stack,
                        const struct redis_server *server,
                        struct rotarr_redisrot_plan *plan,
                        struct rotarr_error *err)
{
    const struct rotarr_ynode *cmd = server->command;
    const char *items[2] = { "--requirepass", NULL };
    struct rotarr_text_edits *edits;
    char guarded[GUARDED_MAX];
    char text[GUARDED_MAX + 32];

    guarded_reference(plan->var, guarded, sizeof(guarded));
    if (server->shell) {
        return rotarr_error_set(err, ROTARR_EUSAGE,
                                "service '%s' starts through a shell; add "
                                "--requirepass \"$$%s\" to its script and "
                                "%s to its environment by hand",
                                plan->service, plan->var, plan->var);
    }
    if (cmd == NULL) {
        return add_command(stack, server, plan, guarded, err);
    }
    edits = edits_of(stack, plan, cmd, err);
    if (edits == NULL) {
        return -1;
    }
    if (cmd->kind == ROTARR_YNODE_SEQUENCE) {
        items[1] = guarded;
        if (rotarr_yaml_append_items(edits, cmd, items, 2, err) < 0) {
            return -1;
        }
    } else {
        snprintf(text, sizeof(text), " --requirepass %s", guarded);
        if (rotarr_yaml_append_to_scalar(edits, cmd, text, err) < 0) {
            return -1;
        }
    }
    return redis_plan_note(plan, err,
                           "services.%s.command: add --requirepass",
                           plan->service);
}

/* Most variables rotarr sets in the server's environment at once. */
#define BATCH_MAX 4

/* Variables for the server's compose environment, set together so that
 * a service without one gets a single "environment:" key. */
struct env_batch {
    const char *keys[BATCH_MAX];
    char *values[BATCH_MAX];
    size_t count;
};

static void batch_release(struct env_batch *batch)
{
    size_t i;

    for (i = 0; i < batch->count; i++) {
        if (batch->values[i] != NULL) {
            sodium_memzero(batch->values[i], strlen(batch->values[i]));
            free(batch->values[i]);
        }
    }
    batch->count = 0;
}

/* Queues a variable of the server's environment in the compose file. */
static int set_server_env(struct env_batch *batch,
                          struct rotarr_redisrot_plan *plan, const char *key,
                          const char *value, struct rotarr_error *err)
{
    if (batch->count == BATCH_MAX) {
        return rotarr_error_set(err, ROTARR_EUSAGE,
                                "too many variables for service '%s'",
                                plan->service);
    }
    batch->keys[batch->count] = key;
    batch->values[batch->count] = strdup(value);
    if (batch->values[batch->count++] == NULL) {
        return rotarr_error_set(err, ROTARR_EFILE, "out of memory");
    }
    return redis_plan_note(plan, err, "services.%s.environment: set %s",
                           plan->service, key);
}

static int flush_env(const struct rotarr_stack *stack,
                     const struct redis_server *server,
                     struct rotarr_redisrot_plan *plan,
                     struct env_batch *batch, struct rotarr_error *err)
{
    struct rotarr_text_edits *edits;

    if (batch->count == 0) {
        return 0;
    }
    edits = edits_of(stack, plan, server->layer, err);
    return edits == NULL ||
                   rotarr_compose_env_set_pairs(
                       edits, server->layer, batch->keys,
                       (const char *const *)batch->values, batch->count,
                       server->command != NULL ? "command" : "image",
                       err) < 0
               ? -1
               : 0;
}

/* Bitnami and Redis Stack images take the password in a variable. */
static int plan_env_password(const struct redis_server *server,
                             struct rotarr_redisrot_plan *plan,
                             struct env_batch *batch,
                             struct rotarr_error *err)
{
    struct rotarr_buf args = ROTARR_BUF_INIT;
    char guarded[GUARDED_MAX];
    size_t i;
    int ret = -1;

    guarded_reference(plan->var, guarded, sizeof(guarded));
    if (server->bitnami) {
        for (i = 0; i < server->svc->env_count; i++) {
            if (strcmp(server->svc->env[i].key, "ALLOW_EMPTY_PASSWORD") ==
                    0 &&
                set_server_env(batch, plan, "ALLOW_EMPTY_PASSWORD", "no",
                               err) < 0) {
                return -1;
            }
        }
        return set_server_env(batch, plan, server->bitnami_var, guarded,
                              err);
    }
    for (i = 0; i < server->svc->env_count; i++) {
        if (strcmp(server->svc->env[i].key, "REDIS_ARGS") == 0 &&
            server->svc->env[i].raw != NULL &&
            rotarr_buf_printf(&args, err, "%.*s ",
                              (int)server->svc->env[i].raw_len,
                              server->svc->env[i].raw) < 0) {
            goto out;
        }
    }
    if (rotarr_buf_printf(&args, err, "--requirepass %s", guarded) < 0) {
        goto out;
    }
    ret = set_server_env(batch, plan, "REDIS_ARGS", args.data, err);

out:
    rotarr_buf_release(&args);
    return ret;
}

/* A mounted config file the server starts from gets a requirepass line. */
static int plan_conf(struct rotarr_redisrot_plan *plan,
                     const struct redis_server *server,
                     struct rotarr_error *err)
{
    struct rotarr_buf line = ROTARR_BUF_INIT;
    struct rotarr_redis_file *file;
    int ret = -1;

    file = redis_plan_extra_file(plan, server->conf_path, server->conf_display,
                                 server->conf_bytes, server->conf_len, 0,
                                 err);
    if (file == NULL) {
        return -1;
    }
    file->secret = 1;
    if ((server->conf_len > 0 &&
         server->conf_bytes[server->conf_len - 1] != '\n' &&
         rotarr_buf_puts(&line, "\n", err) < 0) ||
        rotarr_buf_puts(&line, "requirepass ", err) < 0 ||
        redis_conf_quote(rotarr_secret_data(plan->next),
                         rotarr_secret_len(plan->next), &line, err) < 0 ||
        rotarr_buf_puts(&line, "\n", err) < 0 ||
        rotarr_text_edits_add(&file->edits, server->conf_len, server->conf_len,
                              line.data, line.len, err) < 0) {
        goto out;
    }
    ret = redis_plan_note(plan, err, "%s: add a requirepass line",
                          server->conf_display);

out:
    wipe_buf(&line);
    return ret;
}

/* Rewrites the requirepass line of the config file to the new password;
 * on rotation only, since the value is a literal. */
static int plan_conf_rotation(struct rotarr_redisrot_plan *plan,
                              const struct redis_server *server,
                              struct rotarr_error *err)
{
    struct rotarr_buf value = ROTARR_BUF_INIT;
    struct rotarr_redis_file *file;
    int ret = -1;

    if (redis_equals(rotarr_secret_data(server->conf_secret),
                     rotarr_secret_len(server->conf_secret), plan->next)) {
        return 0;
    }
    file = redis_plan_extra_file(plan, server->conf_path, server->conf_display,
                                 server->conf_bytes, server->conf_len, 0,
                                 err);
    if (file == NULL) {
        return -1;
    }
    file->secret = 1;
    if (redis_conf_quote(rotarr_secret_data(plan->next),
                         rotarr_secret_len(plan->next), &value, err) < 0 ||
        rotarr_text_edits_add(&file->edits, server->conf_value_start,
                              server->conf_value_end, value.data, value.len,
                              err) < 0) {
        goto out;
    }
    ret = redis_plan_note(plan, err, "%s: new requirepass value",
                          server->conf_display);

out:
    wipe_buf(&value);
    return ret;
}

/* Turns authentication on in the place the image reads it. */
static int plan_enable(const struct rotarr_stack *stack,
                       const struct redis_server *server,
                       struct rotarr_redisrot_plan *plan,
                       struct env_batch *batch, struct rotarr_error *err)
{
    if (server->conf_refused) {
        return rotarr_error_set(err, ROTARR_EUSAGE,
                                "'%s' defines ACL users or an aclfile, "
                                "which rotarr does not manage; set the "
                                "default user's password there by hand",
                                server->conf_display);
    }
    if (server->bitnami || server->args_env) {
        return plan_env_password(server, plan, batch, err);
    }
    if (server->conf_path != NULL && server->requirepass < 0) {
        return plan_conf(plan, server, err);
    }
    if (server->requirepass >= 0) {
        return 0;
    }
    return plan_command(stack, server, plan, err);
}

/* Returns 1 when the expanded value of svc's variable key is the new
 * password, the old one, or a reference to the password variable. */
static int env_holds(const struct rotarr_stack *stack,
                     const struct rotarr_compose_service *svc,
                     const char *key, const struct rotarr_redisrot_plan *plan,
                     const struct rotarr_secret *old)
{
    struct rotarr_buf value = ROTARR_BUF_INIT;
    struct rotarr_var_origin origin;
    int holds = 0;

    if (rotarr_stack_service_var(stack, svc, key, &value, &origin, NULL) ==
        1) {
        holds = redis_equals(value.data, value.len, plan->next) ||
                redis_equals(value.data, value.len, old) ||
                (plan->var[0] != '\0' &&
                 strcmp(origin.env_key, plan->var) == 0);
    }
    if (value.data != NULL) {
        sodium_memzero(value.data, value.len);
    }
    rotarr_buf_release(&value);
    return holds;
}

/* Gives the CLI in the container the password through REDISCLI_AUTH
 * (and VALKEYCLI_AUTH for Valkey), never on its command line. */
static int plan_cli_auth(const struct rotarr_stack *stack,
                         const struct redis_server *server,
                         struct rotarr_redisrot_plan *plan,
                         const struct rotarr_secret *old, const char *key,
                         struct env_batch *batch, struct rotarr_error *err)
{
    struct rotarr_buf text = ROTARR_BUF_INIT;
    const struct rotarr_dotenv_entry *entry;
    size_t index;
    int literal;
    int ret = -1;

    if (env_holds(stack, server->svc, key, plan, old)) {
        return 0;
    }
    entry = plan->var[0] != '\0' && !redis_project_var(stack, plan->var)
                ? redis_service_env_entry(stack, server->svc, plan->var,
                                          &index)
                : NULL;
    if (entry != NULL) {
        /* The password lives in an env_file only, out of reach of
         * Compose's interpolation: put the copy beside it. */
        if (redis_env_append(stack, plan, index, key,
                             rotarr_secret_data(plan->next),
                             rotarr_secret_len(plan->next), err) < 0) {
            return -1;
        }
        return redis_plan_note(plan, err, "%s: add %s",
                               rotarr_stack_file(stack, index)->display, key);
    }
    if (redis_password_text(stack, plan, 0, &text, &literal, err) == 0) {
        ret = set_server_env(batch, plan, key, text.data, err);
    }
    wipe_buf(&text);
    return ret;
}

/* Returns the CLI a healthcheck test runs, or NULL when it runs none. */
static const char *test_cli(const struct rotarr_ynode *test)
{
    static const char *const clis[] = { "valkey-cli", "keydb-cli",
                                        "redis-cli" };
    size_t i;
    size_t j;

    for (i = 0; i < sizeof(clis) / sizeof(clis[0]); i++) {
        if (test->kind == ROTARR_YNODE_SCALAR &&
            strstr(test->value, clis[i]) != NULL) {
            return clis[i];
        }
        for (j = 0; test->kind == ROTARR_YNODE_SEQUENCE && j < test->count;
             j++) {
            if (test->items[j]->kind == ROTARR_YNODE_SCALAR &&
                strstr(test->items[j]->value, clis[i]) != NULL) {
                return clis[i];
            }
        }
    }
    return NULL;
}

/* Returns the key node of the pair whose value is value. */
static const struct rotarr_ynode *key_of(const struct rotarr_ynode *map,
                                         const struct rotarr_ynode *value)
{
    size_t i;

    for (i = 0; i < map->count; i++) {
        if (map->items[2 * i + 1] == value) {
            return map->items[2 * i];
        }
    }
    return NULL;
}

/* Makes the healthcheck fail unless the CLI authenticates. */
static int plan_healthcheck(const struct rotarr_stack *stack,
                            const struct redis_server *server,
                            struct rotarr_redisrot_plan *plan,
                            struct rotarr_error *err)
{
    const struct rotarr_ynode *hc = server->svc->healthcheck;
    const struct rotarr_ynode *test = rotarr_ynode_get(hc, "test");
    const struct rotarr_ynode *key;
    struct rotarr_text_edits *edits;
    const char *cli;
    char probe[64];
    char text[128];

    if (test == NULL || rotarr_ynode_equals(rotarr_ynode_get(hc, "disable"),
                                            "true")) {
        return 0;
    }
    cli = test_cli(test);
    if (cli == NULL) {
        redis_plan_notice(plan,
                          "the healthcheck of service '%s' does not run "
                          "redis-cli; make sure it fails when the password "
                          "is wrong",
                          plan->service);
        return 0;
    }
    snprintf(probe, sizeof(probe), PROBE_FORMAT, cli);
    if (test->kind == ROTARR_YNODE_SEQUENCE && test->count == 2 &&
        rotarr_ynode_equals(test->items[0], "CMD-SHELL") &&
        rotarr_ynode_equals(test->items[1], probe)) {
        return 0;
    }
    edits = edits_of(stack, plan, test, err);
    key = key_of(hc, test);
    if (edits == NULL || key == NULL) {
        return edits == NULL ? -1
                             : rotarr_error_set(err, ROTARR_EUSAGE,
                                                "the healthcheck test of "
                                                "service '%s' comes through "
                                                "a merge key; change it by "
                                                "hand",
                                                plan->service);
    }
    snprintf(text, sizeof(text), ": [\"CMD-SHELL\", \"%s\"]", probe);
    if (rotarr_text_edits_add(edits, key->end, test->end, text, strlen(text),
                              err) < 0) {
        return -1;
    }
    return redis_plan_note(plan, err,
                           "services.%s.healthcheck: prove authentication "
                           "with '%s'",
                           plan->service, probe);
}

int redis_plan_server(const struct rotarr_stack *stack,
                      const struct redis_server *server,
                      struct rotarr_redisrot_plan *plan,
                      struct rotarr_error *err)
{
    const struct rotarr_secret *old = redis_plan_old(plan);
    struct env_batch batch;
    int ret = -1;

    memset(&batch, 0, sizeof(batch));
    if (plan_variable(stack, server, plan, old, err) < 0 ||
        (plan->auth == ROTARR_REDIS_AUTH_NONE &&
         plan_enable(stack, server, plan, &batch, err) < 0) ||
        (plan->auth == ROTARR_REDIS_AUTH_CONF && old != NULL &&
         plan_conf_rotation(plan, server, err) < 0)) {
        goto out;
    }
    if (plan_cli_auth(stack, server, plan, old, "REDISCLI_AUTH", &batch,
                      err) < 0 ||
        (server->valkey && plan_cli_auth(stack, server, plan, old,
                                         "VALKEYCLI_AUTH", &batch, err) < 0) ||
        flush_env(stack, server, plan, &batch, err) < 0 ||
        plan_healthcheck(stack, server, plan, err) < 0) {
        goto out;
    }
    ret = redis_plan_restart(plan, plan->service, err);

out:
    batch_release(&batch);
    return ret;
}
