#include "rotarr/compat.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "rotarr/servarr.h"
#include "stack_private.h"

/* What each item is called in config.xml and after the variable's
 * "APP__" prefix. */
static const struct {
    const char *element;
    const char *suffix;
} arr_items[] = {
    [ROTARR_ARR_POSTGRES_USER] = { "PostgresUser", "POSTGRES__USER" },
    [ROTARR_ARR_POSTGRES_PASSWORD] = { "PostgresPassword",
                                       "POSTGRES__PASSWORD" },
    [ROTARR_ARR_POSTGRES_HOST] = { "PostgresHost", "POSTGRES__HOST" },
    [ROTARR_ARR_POSTGRES_PORT] = { "PostgresPort", "POSTGRES__PORT" },
    [ROTARR_ARR_POSTGRES_MAIN_DB] = { "PostgresMainDb", "POSTGRES__MAINDB" },
    [ROTARR_ARR_POSTGRES_LOG_DB] = { "PostgresLogDb", "POSTGRES__LOGDB" },
    [ROTARR_ARR_API_KEY] = { "ApiKey", "AUTH__APIKEY" },
};

const char *rotarr_arr_image_app(const char *image)
{
    static const char *const apps[] = {
        "sonarr", "radarr", "prowlarr", "lidarr", "readarr", "whisparr",
        NULL,
    };
    const char *base = strrchr(image, '/');
    size_t len;
    size_t i;

    base = base != NULL ? base + 1 : image;
    len = strcspn(base, ":@");
    for (i = 0; apps[i] != NULL; i++) {
        if (strlen(apps[i]) == len && strncmp(base, apps[i], len) == 0) {
            return apps[i];
        }
    }
    return NULL;
}

/* Returns the index of the service's config.xml with a <Config> root. */
static size_t config_xml_of(const struct rotarr_stack *stack, size_t service)
{
    const struct rotarr_stack_file *file;
    size_t i;

    for (i = 0; i < stack->file_count; i++) {
        file = &stack->files[i];
        if (file->kind == ROTARR_STACK_FILE_APPCONFIG &&
            file->service == service &&
            rotarr_appconfig_format(file->app) == ROTARR_APPCONFIG_XML &&
            strcmp(rotarr_appconfig_root(file->app), "Config") == 0) {
            return i;
        }
    }
    return (size_t)-1;
}

static int add_app(struct rotarr_arr_apps *apps,
                   const struct rotarr_compose_service *svc, const char *name,
                   size_t config, struct rotarr_error *err)
{
    struct rotarr_arr_app *grown;
    struct rotarr_arr_app *app;
    size_t i;

    grown = realloc(apps->items, (apps->count + 1) * sizeof(*grown));
    if (grown == NULL) {
        return rotarr_error_set(err, ROTARR_EFILE, "out of memory");
    }
    apps->items = grown;
    app = &grown[apps->count++];
    memset(app, 0, sizeof(*app));
    app->service = svc;
    app->config = config;
    snprintf(app->name, sizeof(app->name), "%s", name);
    for (i = 0; app->name[i] != '\0' && i + 1 < sizeof(app->prefix); i++) {
        app->prefix[i] = isalnum((unsigned char)app->name[i])
                             ? (char)toupper((unsigned char)app->name[i])
                             : '_';
    }
    app->prefix[i] = '\0';
    return 0;
}

int rotarr_arr_apps_find(const struct rotarr_stack *stack,
                         struct rotarr_arr_apps *apps,
                         struct rotarr_error *err)
{
    const struct rotarr_compose_service *svc;
    struct rotarr_buf image = ROTARR_BUF_INIT;
    const char *name;
    size_t config;
    size_t i;
    int ret = -1;

    for (i = 0; i < rotarr_compose_service_count(stack->compose); i++) {
        svc = rotarr_compose_service(stack->compose, i);
        rotarr_buf_reset(&image);
        if (svc->image != NULL &&
            rotarr_stack_expand(stack, svc->image, strlen(svc->image),
                                &image, err) < 0) {
            goto out;
        }
        name = image.data != NULL ? rotarr_arr_image_app(image.data) : NULL;
        config = config_xml_of(stack, i);
        if (name == NULL && config != (size_t)-1) {
            name = svc->name;
        }
        if (name != NULL && add_app(apps, svc, name, config, err) < 0) {
            goto out;
        }
    }
    ret = 0;

out:
    rotarr_buf_release(&image);
    return ret;
}

static int value_from_variable(const struct rotarr_stack *stack,
                               const struct rotarr_arr_app *app,
                               enum rotarr_arr_item item,
                               struct rotarr_buf *value,
                               struct rotarr_arr_origin *origin,
                               struct rotarr_error *err)
{
    struct rotarr_var_origin var;
    int n;
    int found;

    n = snprintf(origin->variable, sizeof(origin->variable), "%s__%s",
                 app->prefix, arr_items[item].suffix);
    if (n < 0 || (size_t)n >= sizeof(origin->variable)) {
        origin->variable[0] = '\0';
        return 0;
    }
    found = rotarr_stack_service_var(stack, app->service, origin->variable,
                                     value, &var, err);
    if (found == 1 && value->len == 0) {
        found = 0;
    }
    if (found != 1) {
        origin->variable[0] = '\0';
    }
    return found;
}

int rotarr_arr_value(const struct rotarr_stack *stack,
                     const struct rotarr_arr_app *app,
                     enum rotarr_arr_item item, struct rotarr_buf *value,
                     struct rotarr_arr_origin *origin,
                     struct rotarr_error *err)
{
    const struct rotarr_appconfig_setting *setting;
    int found;

    memset(origin, 0, sizeof(*origin));
    origin->file = (size_t)-1;
    snprintf(origin->element, sizeof(origin->element), "%s",
             arr_items[item].element);
    found = value_from_variable(stack, app, item, value, origin, err);
    if (found != 0) {
        return found;
    }
    if (app->config == (size_t)-1) {
        return 0;
    }
    setting = rotarr_appconfig_find(stack->files[app->config].app,
                                    arr_items[item].element);
    if (setting == NULL || setting->value_len == 0) {
        return 0;
    }
    origin->file = app->config;
    origin->line = setting->line;
    return rotarr_buf_append(value, setting->value, setting->value_len,
                             err) < 0
               ? -1
               : 1;
}

void rotarr_arr_origin_text(const struct rotarr_stack *stack,
                            const struct rotarr_arr_origin *origin,
                            char *out, size_t size)
{
    if (origin->variable[0] != '\0') {
        snprintf(out, size, "%s", origin->variable);
    } else if (origin->file != (size_t)-1) {
        snprintf(out, size, "%s:%zu <%s>",
                 stack->files[origin->file].display, origin->line,
                 origin->element);
    } else {
        snprintf(out, size, "<%s>", origin->element);
    }
}

void rotarr_arr_apps_release(struct rotarr_arr_apps *apps)
{
    free(apps->items);
    apps->items = NULL;
    apps->count = 0;
}

/* Reads an item that names something (a host, user or database). */
static int name_value(const struct rotarr_stack *stack,
                      const struct rotarr_arr_app *app,
                      enum rotarr_arr_item item, char *out, size_t size,
                      struct rotarr_error *err)
{
    struct rotarr_buf value = ROTARR_BUF_INIT;
    struct rotarr_arr_origin origin;
    int found;

    out[0] = '\0';
    found = rotarr_arr_value(stack, app, item, &value, &origin, err);
    if (found == 1) {
        snprintf(out, size, "%s", value.data);
    }
    rotarr_buf_release(&value);
    return found;
}

static struct rotarr_arr_role *find_role(struct rotarr_arr_roles *roles,
                                         const char *service,
                                         const char *role)
{
    size_t i;

    for (i = 0; i < roles->count; i++) {
        if (strcmp(roles->items[i].service, service) == 0 &&
            strcmp(roles->items[i].role, role) == 0) {
            return &roles->items[i];
        }
    }
    return NULL;
}

static struct rotarr_arr_role *new_role(struct rotarr_arr_roles *roles,
                                        struct rotarr_error *err)
{
    struct rotarr_arr_role *grown;

    grown = realloc(roles->items, (roles->count + 1) * sizeof(*grown));
    if (grown == NULL) {
        rotarr_error_set(err, ROTARR_EFILE, "out of memory");
        return NULL;
    }
    roles->items = grown;
    memset(&grown[roles->count], 0, sizeof(grown[0]));
    return &grown[roles->count++];
}

/* Records the password of an app's role, or adds the app to the list
 * of a role already found. */
static int add_app_role(const struct rotarr_stack *stack,
                        const struct rotarr_arr_app *app,
                        const char *service, const char *user,
                        struct rotarr_arr_roles *roles,
                        struct rotarr_error *err)
{
    struct rotarr_buf password = ROTARR_BUF_INIT;
    struct rotarr_arr_origin origin;
    struct rotarr_arr_role *role = find_role(roles, service, user);
    size_t used;
    int found;
    int ret = -1;

    if (role != NULL) {
        used = strlen(role->apps);
        snprintf(role->apps + used, sizeof(role->apps) - used, ", %s",
                 app->name);
        return 0;
    }
    found = rotarr_arr_value(stack, app, ROTARR_ARR_POSTGRES_PASSWORD,
                             &password, &origin, err);
    if (found <= 0) {
        ret = found;
        goto out;
    }
    role = new_role(roles, err);
    if (role == NULL) {
        goto out;
    }
    snprintf(role->service, sizeof(role->service), "%s", service);
    snprintf(role->role, sizeof(role->role), "%s", user);
    snprintf(role->apps, sizeof(role->apps), "%s", app->name);
    snprintf(role->variable, sizeof(role->variable), "%s",
             origin.variable[0] != '\0' ? origin.variable
                                        : "PostgresPassword");
    rotarr_arr_origin_text(stack, &origin, role->source,
                           sizeof(role->source));
    if (name_value(stack, app, ROTARR_ARR_POSTGRES_MAIN_DB, role->main_db,
                   sizeof(role->main_db), err) < 0) {
        goto out;
    }
    if (role->main_db[0] == '\0') {
        snprintf(role->main_db, sizeof(role->main_db), "%s-main",
                 app->name);
    }
    role->password = rotarr_secret_new(password.data, password.len, err);
    ret = role->password != NULL ? 0 : -1;

out:
    if (password.data != NULL) {
        sodium_memzero(password.data, password.len);
    }
    rotarr_buf_release(&password);
    return ret;
}

int rotarr_arr_postgres_roles(const struct rotarr_stack *stack,
                              const char *pg_service,
                              struct rotarr_arr_roles *roles,
                              struct rotarr_error *err)
{
    struct rotarr_arr_apps apps = ROTARR_ARR_APPS_INIT;
    const struct rotarr_compose_service *server;
    char host[256];
    char user[256];
    size_t i;
    int ret = -1;

    if (rotarr_arr_apps_find(stack, &apps, err) < 0) {
        goto out;
    }
    for (i = 0; i < apps.count; i++) {
        if (name_value(stack, &apps.items[i], ROTARR_ARR_POSTGRES_HOST, host,
                       sizeof(host), err) < 0 ||
            name_value(stack, &apps.items[i], ROTARR_ARR_POSTGRES_USER, user,
                       sizeof(user), err) < 0) {
            goto out;
        }
        server = rotarr_compose_find_service(stack->compose, host);
        if (server == NULL || user[0] == '\0' ||
            rotarr_stack_service_kind(stack, server) !=
                ROTARR_SERVICE_POSTGRES ||
            (pg_service != NULL && strcmp(pg_service, host) != 0)) {
            continue;
        }
        if (add_app_role(stack, &apps.items[i], host, user, roles, err) < 0) {
            goto out;
        }
    }
    ret = 0;

out:
    rotarr_arr_apps_release(&apps);
    return ret;
}

void rotarr_arr_roles_release(struct rotarr_arr_roles *roles)
{
    size_t i;

    for (i = 0; i < roles->count; i++) {
        rotarr_secret_free(roles->items[i].password);
    }
    free(roles->items);
    roles->items = NULL;
    roles->count = 0;
}
