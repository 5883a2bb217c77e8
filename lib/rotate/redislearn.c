#include "rotarr/compat.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "redis_private.h"

/* The command an image runs when the compose file sets none. */
struct default_command {
    const char *image; /* basename of the image repository */
    const char *words[3];
};

static const struct default_command default_commands[] = {
    { "redis", { "redis-server", NULL, NULL } },
    { "valkey", { "valkey-server", NULL, NULL } },
    { "keydb", { "keydb-server", "/etc/keydb/keydb.conf", NULL } },
    { "dragonfly", { "dragonfly", "--logtostderr", NULL } },
};

static int copy_name(char *dst, const char *src, struct rotarr_error *err)
{
    int n = snprintf(dst, ROTARR_NAME_MAX, "%s", src);

    if (n < 0 || n >= ROTARR_NAME_MAX) {
        return rotarr_error_set(err, ROTARR_EUSAGE,
                                "name '%.40s...' is too long", src);
    }
    return 0;
}

/*
 * Splits an image reference into its repository path without registry
 * and "library/" ("bitnami/redis") and its tag ("7-alpine", or "").
 */
static void image_parts(const char *image, char *repo, size_t repo_size,
                        char *tag, size_t tag_size)
{
    const char *start = image;
    const char *slash = strchr(image, '/');
    const char *colon;
    size_t n;

    if (slash != NULL &&
        (memchr(image, '.', (size_t)(slash - image)) != NULL ||
         memchr(image, ':', (size_t)(slash - image)) != NULL ||
         strncmp(image, "localhost/", 10) == 0)) {
        start = slash + 1;
    }
    if (strncmp(start, "library/", 8) == 0) {
        start += 8;
    }
    n = strcspn(start, "@");
    snprintf(repo, repo_size, "%.*s", (int)n, start);
    tag[0] = '\0';
    colon = strrchr(repo, ':');
    if (colon != NULL && strchr(colon, '/') == NULL) {
        snprintf(tag, tag_size, "%s", colon + 1);
        repo[colon - repo] = '\0';
    }
}

static const char *basename_of(const char *repo)
{
    const char *slash = strrchr(repo, '/');

    return slash != NULL ? slash + 1 : repo;
}

/* Reads the image name: flavour, default command, major version. */
static void learn_image(const char *image, struct redis_server *server,
                        struct rotarr_redisrot_plan *plan)
{
    char repo[ROTARR_NAME_MAX];
    char tag[64];
    const char *base;

    image_parts(image, repo, sizeof(repo), tag, sizeof(tag));
    base = basename_of(repo);
    server->cli = "redis-cli";
    server->valkey = strcmp(base, "valkey") == 0;
    server->bitnami = strncmp(repo, "bitnami", 7) == 0 &&
                      (strcmp(base, "redis") == 0 || server->valkey);
    server->bitnami_var = server->valkey ? "VALKEY_PASSWORD"
                                         : "REDIS_PASSWORD";
    server->args_env = strncmp(base, "redis-stack", 11) == 0;
    plan->major = 0;
    if (strcmp(base, "redis") == 0 || server->args_env) {
        plan->major = atoi(tag);
    }
}

int redis_split_words(const char *text, char **words, size_t max)
{
    struct rotarr_buf word = ROTARR_BUF_INIT;
    size_t count = 0;
    const char *p = text;
    char quote;
    int depth;

    while (*p != '\0') {
        p += strspn(p, " \t\r\n");
        if (*p == '\0') {
            break;
        }
        rotarr_buf_reset(&word);
        rotarr_buf_puts(&word, "", NULL);
        quote = 0;
        depth = 0;
        for (; *p != '\0'; p++) {
            if (quote == 0 && depth == 0 && strchr(" \t\r\n", *p) != NULL) {
                break;
            }
            if (quote == 0 && (*p == '"' || *p == '\'')) {
                quote = *p;
                continue;
            }
            if (quote != 0 && *p == quote) {
                quote = 0;
                continue;
            }
            if (quote != '\'' && p[0] == '$' && p[1] == '{') {
                depth++;
            } else if (depth > 0 && *p == '}') {
                depth--;
            }
            if (quote == '"' && *p == '\\' && p[1] != '\0' &&
                strchr("\"\\$`", p[1]) != NULL) {
                p++;
            }
            if (rotarr_buf_append(&word, p, 1, NULL) < 0) {
                goto fail;
            }
        }
        if (count == max) {
            goto fail;
        }
        words[count++] = rotarr_buf_detach(&word, NULL);
        if (words[count - 1] == NULL) {
            count--;
            goto fail;
        }
    }
    rotarr_buf_release(&word);
    return (int)count;

fail:
    rotarr_buf_release(&word);
    while (count > 0) {
        free(words[--count]);
    }
    return -1;
}

/* Appends text with Compose's "$$" escape read as one '$'. */
static int compose_unescape(const char *text, struct rotarr_buf *out,
                            struct rotarr_error *err)
{
    for (; *text != '\0'; text++) {
        if (rotarr_buf_append(out, text, 1, err) < 0) {
            return -1;
        }
        if (text[0] == '$' && text[1] == '$') {
            text++;
        }
    }
    return rotarr_buf_puts(out, "", err);
}

static int add_arg(struct redis_server *server, const char *text,
                   struct rotarr_error *err)
{
    if (server->arg_count == REDIS_MAX_ARGS) {
        return rotarr_error_set(err, ROTARR_EUSAGE,
                                "the command of service '%s' has more than "
                                "%d words",
                                server->svc->name, REDIS_MAX_ARGS);
    }
    server->args[server->arg_count] = strdup(text);
    if (server->args[server->arg_count] == NULL) {
        return rotarr_error_set(err, ROTARR_EFILE, "out of memory");
    }
    server->arg_count++;
    return 0;
}

/* Reads "sh -c SCRIPT" as the words of SCRIPT, with "$$" unescaped. */
static int read_shell(struct redis_server *server, struct rotarr_error *err)
{
    struct rotarr_buf script = ROTARR_BUF_INIT;
    const char *shells[] = { "sh", "/bin/sh", "bash", "/bin/bash", "ash",
                             "/bin/ash" };
    size_t i;
    int count;
    int ret = -1;

    for (i = 0; i < sizeof(shells) / sizeof(shells[0]); i++) {
        if (server->arg_count == 3 &&
            strcmp(server->args[0], shells[i]) == 0 &&
            strcmp(server->args[1], "-c") == 0) {
            break;
        }
    }
    if (i == sizeof(shells) / sizeof(shells[0])) {
        return 0;
    }
    if (compose_unescape(server->args[2], &script, err) < 0) {
        goto out;
    }
    for (i = 0; i < server->arg_count; i++) {
        free(server->args[i]);
    }
    count = redis_split_words(script.data, server->args, REDIS_MAX_ARGS);
    server->arg_count = count > 0 ? (size_t)count : 0;
    server->shell = 1;
    ret = count < 0 ? rotarr_error_set(err, ROTARR_EUSAGE,
                                       "the shell command of service '%s' is "
                                       "too long",
                                       server->svc->name)
                    : 0;

out:
    rotarr_buf_release(&script);
    return ret;
}

static int read_command(struct redis_server *server, const char *image_base,
                        struct rotarr_error *err)
{
    const struct rotarr_ynode *cmd = server->svc->command;
    size_t i;
    int count;

    server->command = cmd;
    if (cmd == NULL) {
        for (i = 0; i < sizeof(default_commands) / sizeof(default_commands[0]);
             i++) {
            if (strcmp(default_commands[i].image, image_base) == 0) {
                break;
            }
        }
        for (count = 0; i < sizeof(default_commands) /
                                sizeof(default_commands[0]) &&
                        default_commands[i].words[count] != NULL;
             count++) {
            if (add_arg(server, default_commands[i].words[count], err) < 0) {
                return -1;
            }
        }
        return 0;
    }
    if (cmd->kind == ROTARR_YNODE_SCALAR) {
        count = redis_split_words(cmd->value, server->args, REDIS_MAX_ARGS);
        if (count < 0) {
            return rotarr_error_set(err, ROTARR_EUSAGE,
                                    "the command of service '%s' is too long",
                                    server->svc->name);
        }
        server->arg_count = (size_t)count;
    } else if (cmd->kind == ROTARR_YNODE_SEQUENCE) {
        for (i = 0; i < cmd->count; i++) {
            if (cmd->items[i]->kind != ROTARR_YNODE_SCALAR ||
                add_arg(server, cmd->items[i]->value, err) < 0) {
                return err != NULL && err->code != ROTARR_OK
                           ? -1
                           : rotarr_error_set(err, ROTARR_EUSAGE,
                                              "the command of service '%s' "
                                              "is not a list of words",
                                              server->svc->name);
            }
        }
    }
    return read_shell(server, err);
}

static void find_requirepass(struct redis_server *server)
{
    size_t i;

    server->requirepass = -1;
    for (i = 0; i + 1 < server->arg_count; i++) {
        if (strcmp(server->args[i], "--requirepass") == 0) {
            server->requirepass = (int)(i + 1);
        }
    }
}

/* Returns the first argument naming a .conf file after the program. */
static const char *conf_argument(const struct redis_server *server)
{
    size_t i;
    size_t len;

    for (i = 1; i < server->arg_count; i++) {
        if (strncmp(server->args[i], "--", 2) == 0) {
            return NULL;
        }
        len = strlen(server->args[i]);
        if (len > 5 && strcmp(server->args[i] + len - 5, ".conf") == 0) {
            return server->args[i];
        }
    }
    return NULL;
}

void redis_sole_variable(const char *text, size_t len, char *var,
                         size_t size)
{
    int braced = len >= 2 && text[0] == '$' && text[1] == '{';
    const char *name = len >= 1 && text[0] == '$' ? text + 1 + braced : "";
    const char *end = text + len;
    size_t n = 0;

    var[0] = '\0';
    while (name + n < end &&
           strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                  "0123456789_",
                  name[n]) != NULL &&
           name[n] != '\0') {
        n++;
    }
    if (n == 0 || n >= size || (name[0] >= '0' && name[0] <= '9')) {
        return;
    }
    if (braced && (name + n >= end || strchr("}:-?+", name[n]) == NULL ||
                   end[-1] != '}')) {
        return;
    }
    if (!braced && name + n != end) {
        return;
    }
    snprintf(var, size, "%.*s", (int)n, name);
}

static int set_current(struct rotarr_redisrot_plan *plan, const char *value,
                       size_t len, struct rotarr_error *err)
{
    if (len == 0) {
        return 0;
    }
    plan->current = rotarr_secret_new(value, len, err);
    return plan->current != NULL ? 0 : -1;
}

/* Records "file:line" of the env entry behind a service variable. */
static void note_origin(const struct rotarr_stack *stack,
                        const struct rotarr_var_origin *origin,
                        struct rotarr_redisrot_plan *plan)
{
    const struct rotarr_stack_file *file = rotarr_stack_file(stack,
                                                             origin->file);
    const struct rotarr_dotenv_entry *entry;

    if (file == NULL || file->env == NULL || origin->env_key[0] == '\0') {
        snprintf(plan->source, sizeof(plan->source), "services.%.200s",
                 plan->service);
        return;
    }
    entry = rotarr_dotenv_find(file->env, origin->env_key);
    snprintf(plan->source, sizeof(plan->source), "%s:%zu", file->display,
             entry != NULL ? entry->line : (size_t)0);
}

/* Reads a variable of the service's container environment. */
static int container_var(const struct rotarr_stack *stack,
                         const struct redis_server *server, const char *name,
                         struct rotarr_redisrot_plan *plan,
                         struct rotarr_error *err)
{
    struct rotarr_buf value = ROTARR_BUF_INIT;
    struct rotarr_var_origin origin;
    int found;
    int ret = -1;

    found = rotarr_stack_service_var(stack, server->svc, name, &value,
                                     &origin, err);
    if (found < 0) {
        goto out;
    }
    snprintf(plan->var, sizeof(plan->var), "%s",
             origin.env_key[0] != '\0' ? origin.env_key : "");
    if (origin.raw != NULL && origin.env_key[0] == '\0') {
        /* A literal in the compose file, not a variable. */
        plan->var[0] = '\0';
    }
    note_origin(stack, &origin, plan);
    ret = found == 1 ? set_current(plan, value.data, value.len, err) : 0;

out:
    if (value.data != NULL) {
        sodium_memzero(value.data, value.len);
    }
    rotarr_buf_release(&value);
    return ret;
}

/* Reads the password from the word after --requirepass (compose text,
 * or shell text when the command runs through sh -c). */
static int password_from_word(const struct rotarr_stack *stack,
                              const struct redis_server *server,
                              const char *word,
                              struct rotarr_redisrot_plan *plan,
                              struct rotarr_error *err)
{
    struct rotarr_buf value = ROTARR_BUF_INIT;
    struct rotarr_error ignored = ROTARR_ERROR_INIT;
    char var[ROTARR_NAME_MAX];
    int ret = -1;

    redis_sole_variable(word, strlen(word), var, sizeof(var));
    if (server->shell) {
        if (var[0] == '\0') {
            ret = set_current(plan, word, strlen(word), err);
            snprintf(plan->source, sizeof(plan->source), "services.%.200s",
                     plan->service);
            goto out;
        }
        ret = container_var(stack, server, var, plan, err);
        goto out;
    }
    snprintf(plan->var, sizeof(plan->var), "%s", var);
    snprintf(plan->source, sizeof(plan->source), "services.%.200s.command",
             plan->service);
    if (var[0] != '\0' && rotarr_stack_env_file(stack) != NULL &&
        rotarr_dotenv_find(rotarr_stack_env_file(stack)->env, var) != NULL) {
        snprintf(plan->source, sizeof(plan->source), "%s:%zu",
                 rotarr_stack_env_file(stack)->display,
                 rotarr_dotenv_find(rotarr_stack_env_file(stack)->env, var)
                     ->line);
    }
    /* A missing ${VAR:?} is an error for Compose; here it means that
     * the password is not set yet. */
    ret = 0;
    if (rotarr_stack_expand(stack, word, strlen(word), &value, &ignored) ==
        0) {
        ret = set_current(plan, value.data, value.len, err);
    }

out:
    if (value.data != NULL) {
        sodium_memzero(value.data, value.len);
    }
    rotarr_buf_release(&value);
    return ret;
}

static int learn_env_password(const struct rotarr_stack *stack,
                              struct redis_server *server,
                              struct rotarr_redisrot_plan *plan,
                              struct rotarr_error *err)
{
    const struct rotarr_compose_env *args = NULL;
    size_t i;
    int count;

    if (server->bitnami) {
        plan->auth = ROTARR_REDIS_AUTH_ENV;
        if (container_var(stack, server, server->bitnami_var, plan, err) <
            0) {
            return -1;
        }
        if (plan->current == NULL) {
            plan->auth = ROTARR_REDIS_AUTH_NONE;
            plan->source[0] = '\0';
        }
        return 0;
    }
    for (i = 0; i < server->svc->env_count; i++) {
        if (strcmp(server->svc->env[i].key, "REDIS_ARGS") == 0) {
            args = &server->svc->env[i];
        }
    }
    if (args == NULL || args->raw == NULL) {
        return 0;
    }
    count = redis_split_words(args->raw, server->args, REDIS_MAX_ARGS);
    server->arg_count = count > 0 ? (size_t)count : 0;
    find_requirepass(server);
    if (server->requirepass < 0) {
        return 0;
    }
    plan->auth = ROTARR_REDIS_AUTH_ENV;
    return password_from_word(stack, server,
                              server->args[server->requirepass], plan, err);
}

/* Returns the mapping new keys go in and stores its file's index. */
static void choose_layer(const struct rotarr_stack *stack,
                         struct redis_server *server)
{
    const struct rotarr_compose_service *svc = server->svc;
    const struct rotarr_ynode *layer;
    size_t i;
    size_t j;

    server->layer = svc->layer_count > 0 ? svc->layers[svc->layer_count - 1]
                                         : svc->node;
    for (i = svc->layer_count; i > 0; i--) {
        layer = svc->layers[i - 1];
        for (j = 0; j < layer->count; j++) {
            if (rotarr_ynode_equals(layer->items[2 * j], "image")) {
                server->layer = layer;
                i = 1;
                break;
            }
        }
    }
    server->layer_file = redis_yaml_file(stack, server->layer);
}

static int learn_command(const struct rotarr_stack *stack,
                         struct redis_server *server,
                         struct rotarr_redisrot_plan *plan,
                         struct rotarr_error *err)
{
    char repo[ROTARR_NAME_MAX];
    char tag[64];
    const char *conf;

    image_parts(plan->image, repo, sizeof(repo), tag, sizeof(tag));
    if (read_command(server, basename_of(repo), err) < 0) {
        return -1;
    }
    find_requirepass(server);
    if (server->requirepass >= 0) {
        plan->auth = ROTARR_REDIS_AUTH_COMMAND;
        return password_from_word(stack, server,
                                  server->args[server->requirepass], plan,
                                  err);
    }
    conf = conf_argument(server);
    if (conf != NULL && server->command != NULL &&
        redis_conf_load(stack, server, conf, err) < 0) {
        return -1;
    }
    if (server->conf_found) {
        plan->auth = ROTARR_REDIS_AUTH_CONF;
        snprintf(plan->source, sizeof(plan->source), "%s",
                 server->conf_display);
        plan->var[0] = '\0';
        return set_current(plan, rotarr_secret_data(server->conf_secret),
                           rotarr_secret_len(server->conf_secret), err);
    }
    return 0;
}

static int check_var_request(const struct rotarr_redisrot_request *req,
                             struct rotarr_redisrot_plan *plan,
                             struct rotarr_error *err)
{
    if (req->var == NULL) {
        if (plan->auth == ROTARR_REDIS_AUTH_NONE) {
            snprintf(plan->var, sizeof(plan->var), "%s", REDIS_DEFAULT_VAR);
        }
        return 0;
    }
    if (plan->auth != ROTARR_REDIS_AUTH_NONE && plan->current != NULL &&
        strcmp(plan->var, req->var) != 0) {
        return rotarr_error_set(err, ROTARR_EUSAGE,
                                "service '%s' reads its password from %s, "
                                "not from '%s'; leave out '--var'",
                                plan->service,
                                plan->var[0] != '\0' ? plan->var
                                                     : "a literal value",
                                req->var);
    }
    return copy_name(plan->var, req->var, err);
}

int redis_server_learn(const struct rotarr_stack *stack,
                       const struct rotarr_compose_service *svc,
                       const struct rotarr_redisrot_request *req,
                       struct redis_server *server,
                       struct rotarr_redisrot_plan *plan,
                       struct rotarr_error *err)
{
    struct rotarr_buf image = ROTARR_BUF_INIT;
    int ret = -1;

    server->svc = svc;
    server->requirepass = -1;
    if (copy_name(plan->service, svc->name, err) < 0 ||
        (svc->image != NULL &&
         rotarr_stack_expand(stack, svc->image, strlen(svc->image), &image,
                             err) < 0) ||
        copy_name(plan->image, image.data != NULL ? image.data : "", err) <
            0) {
        goto out;
    }
    learn_image(plan->image, server, plan);
    choose_layer(stack, server);
    plan->auth = ROTARR_REDIS_AUTH_NONE;
    if (server->bitnami || server->args_env) {
        ret = learn_env_password(stack, server, plan, err);
    } else {
        ret = learn_command(stack, server, plan, err);
    }
    if (ret == 0) {
        ret = check_var_request(req, plan, err);
    }

out:
    rotarr_buf_release(&image);
    return ret;
}

void redis_server_release(struct redis_server *server)
{
    size_t i;

    for (i = 0; i < server->arg_count; i++) {
        free(server->args[i]);
    }
    server->arg_count = 0;
    if (server->conf_bytes != NULL) {
        sodium_memzero(server->conf_bytes, server->conf_len);
        free(server->conf_bytes);
    }
    rotarr_secret_free(server->conf_secret);
    server->conf_secret = NULL;
    free(server->conf_path);
    free(server->conf_display);
    server->conf_bytes = NULL;
    server->conf_path = NULL;
    server->conf_display = NULL;
}
