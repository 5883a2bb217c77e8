#include "rotarr/compat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "redis_private.h"

/* Apps that read the Redis password from a fixed variable, by the end of
 * their image repository. */
static const struct {
    const char *image;
    const char *var;
} known_apps[] = {
    { "immich-server", "REDIS_PASSWORD" },
    { "nextcloud", "REDIS_HOST_PASSWORD" },
    { "mastodon", "REDIS_PASSWORD" },
    { "mastodon-streaming", "REDIS_PASSWORD" },
    { "goauthentik/server", "AUTHENTIK_REDIS__PASSWORD" },
    { "n8n", "QUEUE_BULL_REDIS_PASSWORD" },
    { "ghostfolio", "REDIS_PASSWORD" },
};

static void wipe_buf(struct rotarr_buf *buf)
{
    if (buf->data != NULL) {
        sodium_memzero(buf->data, buf->cap);
    }
    rotarr_buf_release(buf);
}

/* Evidence that one service is a client of the server. */
struct client_view {
    const struct rotarr_compose_service *svc;
    int url;       /* a value contains a URL of the server */
    int depends;   /* depends_on names the server */
    char host_var[ROTARR_NAME_MAX];  /* REDIS_HOST-style variable */
    size_t host_file; /* env file index defining it, or not in stack */
    char password_vars[4][ROTARR_NAME_MAX]; /* existing password vars */
    size_t password_var_count;
    const char *known_var; /* from the image */
};

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s);
    size_t m = strlen(suffix);

    return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

static int is_redis_name(const char *key)
{
    return strcasestr(key, "REDIS") != NULL &&
           strcasestr(key, "SENTINEL") == NULL;
}

static int is_host_var(const char *key)
{
    return is_redis_name(key) &&
           (ends_with(key, "HOST") || ends_with(key, "HOSTNAME") ||
            ends_with(key, "SERVER"));
}

static int is_password_var(const char *key)
{
    return is_redis_name(key) &&
           (ends_with(key, "PASSWORD") || ends_with(key, "_PASS"));
}

/* Looks at one variable of the client: key and its expanded value. */
static void view_variable(const struct redis_scan *scan,
                          struct client_view *view, const char *key,
                          const char *value, size_t file)
{
    struct redis_url_fixes fixes;
    struct rotarr_error ignored = ROTARR_ERROR_INIT;
    int found = 0;
    size_t i;

    fixes.count = 0;
    if (value != NULL && strstr(value, "://") != NULL &&
        redis_scan_text(scan, value, strlen(value), 0, &fixes, &found,
                        &ignored) == 0 &&
        found) {
        view->url = 1;
    }
    redis_fixes_release(&fixes);
    if (value != NULL && is_host_var(key) && view->host_var[0] == '\0' &&
        redis_names_server(scan, value, strcspn(value, ":"))) {
        snprintf(view->host_var, sizeof(view->host_var), "%s", key);
        view->host_file = file;
    }
    for (i = 0; i < view->password_var_count; i++) {
        if (strcmp(view->password_vars[i], key) == 0) {
            return;
        }
    }
    if (is_password_var(key) && view->password_var_count < 4) {
        snprintf(view->password_vars[view->password_var_count++],
                 ROTARR_NAME_MAX, "%s", key);
    }
}

static int view_env_files(const struct redis_scan *scan,
                          struct client_view *view)
{
    const struct rotarr_stack_file *sf;
    const struct rotarr_dotenv_entry *entry;
    size_t index;
    size_t i;
    size_t j;

    for (i = 0; i < rotarr_stack_file_count(scan->stack); i++) {
        sf = rotarr_stack_file(scan->stack, i);
        for (j = 0; sf->kind == ROTARR_STACK_FILE_ENV &&
                    j < rotarr_dotenv_count(sf->env);
             j++) {
            entry = rotarr_dotenv_entry(sf->env, j);
            if (entry->value != NULL &&
                redis_service_env_entry(scan->stack, view->svc, entry->key,
                                        &index) == entry) {
                view_variable(scan, view, entry->key, entry->value, i);
            }
        }
    }
    return 0;
}

static void view_known_app(const struct redis_scan *scan,
                           struct client_view *view)
{
    struct rotarr_buf image = ROTARR_BUF_INIT;
    size_t len;
    size_t n;
    size_t i;

    if (view->svc->image == NULL ||
        rotarr_stack_expand(scan->stack, view->svc->image,
                            strlen(view->svc->image), &image, NULL) < 0) {
        goto out;
    }
    len = strcspn(image.data, ":@");
    for (i = 0; i < sizeof(known_apps) / sizeof(known_apps[0]); i++) {
        n = strlen(known_apps[i].image);
        if (len >= n && strncmp(image.data + len - n, known_apps[i].image,
                                n) == 0 &&
            (len == n || image.data[len - n - 1] == '/')) {
            view->known_var = known_apps[i].var;
        }
    }

out:
    rotarr_buf_release(&image);
}

static void view_client(const struct redis_scan *scan,
                        const struct rotarr_compose_service *svc,
                        struct client_view *view)
{
    struct rotarr_buf value = ROTARR_BUF_INIT;
    const char *inherited;
    size_t i;

    memset(view, 0, sizeof(*view));
    view->svc = svc;
    view->host_file = ROTARR_REDIS_NOT_IN_STACK;
    for (i = 0; i < svc->depends_count; i++) {
        view->depends = view->depends || strcmp(svc->depends[i],
                                                scan->plan->service) == 0;
    }
    view_env_files(scan, view);
    for (i = 0; i < svc->env_count; i++) {
        rotarr_buf_reset(&value);
        if (svc->env[i].raw == NULL) {
            inherited = rotarr_stack_lookup(scan->stack, svc->env[i].key);
            view_variable(scan, view, svc->env[i].key, inherited,
                          ROTARR_REDIS_NOT_IN_STACK);
        } else if (rotarr_stack_expand(scan->stack, svc->env[i].raw,
                                       svc->env[i].raw_len, &value,
                                       NULL) == 0) {
            view_variable(scan, view, svc->env[i].key,
                          value.data != NULL ? value.data : "",
                          ROTARR_REDIS_NOT_IN_STACK);
        } else {
            /* "${X:?}" with X still empty: the name alone counts. */
            view_variable(scan, view, svc->env[i].key, NULL,
                          ROTARR_REDIS_NOT_IN_STACK);
        }
    }
    view_known_app(scan, view);
    wipe_buf(&value);
}

/* Returns the compose variable of svc called key, or NULL. */
static const struct rotarr_compose_env *
compose_var(const struct rotarr_compose_service *svc, const char *key)
{
    const struct rotarr_compose_env *found = NULL;
    size_t i;

    for (i = 0; i < svc->env_count; i++) {
        if (strcmp(svc->env[i].key, key) == 0) {
            found = &svc->env[i];
        }
    }
    return found;
}

/* Returns the mapping of svc whose environment gets new entries. */
static const struct rotarr_ynode *
env_layer(const struct rotarr_compose_service *svc)
{
    size_t i;

    for (i = svc->layer_count; i > 0; i--) {
        if (rotarr_ynode_get(svc->layers[i - 1], "environment") != NULL) {
            return svc->layers[i - 1];
        }
    }
    return svc->layer_count > 0 ? svc->layers[svc->layer_count - 1]
                                : svc->node;
}

/* Adds key to the client's compose environment, or to the env file that
 * defines its host variable. */
static int add_client_var(struct redis_scan *scan,
                          const struct client_view *view, const char *key,
                          struct rotarr_error *err)
{
    const struct rotarr_ynode *layer = env_layer(view->svc);
    struct rotarr_buf text = ROTARR_BUF_INIT;
    struct rotarr_redis_file *file;
    int literal;
    int ret = -1;

    if (view->host_file != ROTARR_REDIS_NOT_IN_STACK) {
        if (redis_env_append(scan->stack, scan->plan, view->host_file, key,
                             rotarr_secret_data(scan->plan->next),
                             rotarr_secret_len(scan->plan->next), err) < 0) {
            return -1;
        }
        return redis_plan_note(
            scan->plan, err, "%s: add %s for service '%s'",
            rotarr_stack_file(scan->stack, view->host_file)->display, key,
            view->svc->name);
    }
    file = redis_plan_file(scan->stack, scan->plan,
                           redis_yaml_file(scan->stack, layer), err);
    if (file == NULL ||
        redis_password_text(scan->stack, scan->plan, 0, &text, &literal,
                            err) < 0 ||
        rotarr_compose_env_set(&file->edits, layer, key, text.data, "image",
                               err) < 0) {
        goto out;
    }
    ret = redis_plan_note(scan->plan, err, "services.%s.environment: set %s",
                          view->svc->name, key);

out:
    wipe_buf(&text);
    return ret;
}

/* Returns 1 when the client reads the project env file as an env_file. */
static int reads_project_env(const struct redis_scan *scan,
                             const struct client_view *view)
{
    const struct rotarr_stack_file *env = rotarr_stack_env_file(scan->stack);
    size_t index = 0;
    size_t i;

    for (i = 0; env != NULL && i < rotarr_dotenv_count(env->env); i++) {
        if (redis_service_env_entry(scan->stack, view->svc,
                                    rotarr_dotenv_entry(env->env, i)->key,
                                    &index) != NULL &&
            rotarr_stack_file(scan->stack, index) == env) {
            return 1;
        }
    }
    return 0;
}

/* Returns 1 when a compose variable's value is the new or old password. */
static int literal_holds(const struct redis_scan *scan,
                         const struct rotarr_compose_env *var)
{
    struct rotarr_buf value = ROTARR_BUF_INIT;
    int holds = 0;

    if (rotarr_stack_expand(scan->stack, var->raw, var->raw_len, &value,
                            NULL) == 0) {
        holds = redis_equals(value.data, value.len, scan->plan->next) ||
                redis_equals(value.data, value.len, scan->old);
    }
    wipe_buf(&value);
    return holds;
}

/* Gives the client's variable key the password: "set", "added" or
 * "kept" goes in *action. */
static int ensure_client_var(struct redis_scan *scan,
                             const struct client_view *view, const char *key,
                             const char **action, struct rotarr_error *err)
{
    const struct rotarr_compose_env *var = compose_var(view->svc, key);
    const struct rotarr_dotenv_entry *entry;
    char name[ROTARR_NAME_MAX] = "";
    size_t index;

    *action = "kept";
    if (var != NULL && var->raw == NULL) {
        return strcmp(key, scan->plan->var) == 0
                   ? 0
                   : redis_project_ensure(scan->stack, scan->plan, key,
                                          scan->old, err);
    }
    if (var != NULL) {
        redis_sole_variable(var->raw, var->raw_len, name, sizeof(name));
    }
    if (var != NULL && name[0] != '\0') {
        return strcmp(name, scan->plan->var) == 0
                   ? 0
                   : redis_project_ensure(scan->stack, scan->plan, name,
                                          scan->old, err);
    }
    if (var != NULL && literal_holds(scan, var)) {
        return 0;
    }
    if (var != NULL) {
        *action = "set";
        return add_client_var(scan, view, key, err);
    }
    entry = redis_service_env_entry(scan->stack, view->svc, key, &index);
    if (entry != NULL) {
        return redis_env_ensure(scan->stack, scan->plan, index, entry,
                                scan->old, err);
    }
    if (strcmp(key, scan->plan->var) == 0 && reads_project_env(scan, view)) {
        return 0; /* the project env file gets the variable */
    }
    *action = "added";
    return add_client_var(scan, view, key, err);
}

/* Derives the password variable from the host variable's name:
 * REDIS_HOST gives REDIS_PASSWORD, AUTHENTIK_REDIS__HOST gives
 * AUTHENTIK_REDIS__PASSWORD. */
static void derived_var(const char *host_var, char *out, size_t size)
{
    size_t n = strlen(host_var);

    if (ends_with(host_var, "HOSTNAME")) {
        n -= 8;
    } else {
        n -= ends_with(host_var, "HOST") ? 4 : 6;
    }
    snprintf(out, size, "%.*sPASSWORD", (int)n, host_var);
}

static int add_client(struct rotarr_redisrot_plan *plan, const char *service,
                      const char *how, int configured,
                      struct rotarr_error *err)
{
    struct rotarr_redis_client *grown;
    struct rotarr_redis_client *client;

    grown = realloc(plan->clients, (plan->client_count + 1) * sizeof(*grown));
    if (grown == NULL) {
        return rotarr_error_set(err, ROTARR_EFILE, "out of memory");
    }
    plan->clients = grown;
    client = &grown[plan->client_count];
    client->service = strdup(service);
    client->how = strdup(how);
    client->configured = configured;
    if (client->service == NULL || client->how == NULL) {
        free(client->service);
        free(client->how);
        return rotarr_error_set(err, ROTARR_EFILE, "out of memory");
    }
    plan->client_count++;
    return configured ? redis_plan_restart(plan, service, err) : 0;
}

static int configure_client(struct redis_scan *scan,
                            const struct client_view *view,
                            struct rotarr_error *err)
{
    char target[ROTARR_NAME_MAX] = "";
    char how[2 * ROTARR_NAME_MAX];
    const char *action = "kept";
    size_t i;

    for (i = 0; i < view->password_var_count; i++) {
        if (ensure_client_var(scan, view, view->password_vars[i], &action,
                              err) < 0) {
            return -1;
        }
        snprintf(target, sizeof(target), "%s", view->password_vars[i]);
    }
    if (view->url) {
        snprintf(how, sizeof(how), "Redis URL%s%s", target[0] ? ", " : "",
                 target);
        return add_client(scan->plan, view->svc->name, how, 1, err);
    }
    if (target[0] == '\0' && view->known_var != NULL) {
        snprintf(target, sizeof(target), "%s", view->known_var);
    } else if (target[0] == '\0' && view->host_var[0] != '\0') {
        derived_var(view->host_var, target, sizeof(target));
    }
    if (target[0] == '\0') {
        return add_client(scan->plan, view->svc->name,
                          "depends on the server but sets no Redis URL, "
                          "host or password variable rotarr knows",
                          0, err);
    }
    if (view->password_var_count == 0 &&
        ensure_client_var(scan, view, target, &action, err) < 0) {
        return -1;
    }
    snprintf(how, sizeof(how), "%s (%s)", target, action);
    return add_client(scan->plan, view->svc->name, how, 1, err);
}

int redis_plan_clients(const struct rotarr_stack *stack,
                       const struct redis_server *server,
                       struct rotarr_redisrot_plan *plan,
                       struct rotarr_error *err)
{
    const struct rotarr_compose *compose = rotarr_stack_compose(stack);
    const struct rotarr_compose_service *svc;
    struct redis_scan scan;
    struct client_view view;
    size_t i;

    memset(&scan, 0, sizeof(scan));
    scan.stack = stack;
    scan.plan = plan;
    scan.old = redis_plan_old(plan);
    redis_server_names(&scan, server);
    if (redis_fix_all_urls(&scan, err) < 0) {
        return -1;
    }
    for (i = 0; i < rotarr_compose_service_count(compose); i++) {
        svc = rotarr_compose_service(compose, i);
        if (svc == server->svc ||
            rotarr_stack_service_kind(stack, svc) != ROTARR_SERVICE_OTHER) {
            /* Database servers share env files with apps, not clients. */
            continue;
        }
        view_client(&scan, svc, &view);
        if ((view.url || view.depends || view.host_var[0] != '\0' ||
             view.password_var_count > 0) &&
            configure_client(&scan, &view, err) < 0) {
            return -1;
        }
    }
    if (plan->client_count == 0) {
        redis_plan_notice(plan, "no service of the stack connects to '%s' "
                                "that rotarr can see; give the password to "
                                "clients configured elsewhere by hand",
                          plan->service);
    }
    return 0;
}
