#include "rotarr/compat.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
