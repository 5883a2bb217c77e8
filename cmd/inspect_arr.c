#include "rotarr/compat.h"

#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "cmd.h"
#include "inspect_arr.h"
#include "rotarr/servarr.h"

int inspect_app_secrets(const struct rotarr_stack *stack, inspect_add_fn add,
                        void *ctx, struct rotarr_error *err)
{
    const struct rotarr_compose *compose = rotarr_stack_compose(stack);
    const struct rotarr_appconfig_setting *setting;
    const struct rotarr_stack_file *file;
    const char *service;
    char name[128];
    size_t i;
    size_t j;

    for (i = 0; i < rotarr_stack_file_count(stack); i++) {
        file = rotarr_stack_file(stack, i);
        if (file->kind != ROTARR_STACK_FILE_APPCONFIG) {
            continue;
        }
        service = rotarr_compose_service(compose, file->service)->name;
        for (j = 0; j < rotarr_appconfig_count(file->app); j++) {
            setting = rotarr_appconfig_setting(file->app, j);
            if (setting->value_len == 0 ||
                !rotarr_appconfig_names_secret(setting->key)) {
                continue;
            }
            snprintf(name, sizeof(name), "%s: %s", service, setting->key);
            if (add(ctx, name, service, setting->value, setting->value_len,
                    err) < 0) {
                return -1;
            }
        }
    }
    return 0;
}

/* Appends "uses role R on service S", or that the app uses no Postgres. */
static int describe_postgres(const struct rotarr_stack *stack,
                             const struct rotarr_arr_app *app,
                             struct rotarr_buf *line,
                             struct rotarr_error *err)
{
    struct rotarr_buf user = ROTARR_BUF_INIT;
    struct rotarr_buf host = ROTARR_BUF_INIT;
    struct rotarr_arr_origin origin;
    int ret = -1;

    if (rotarr_arr_value(stack, app, ROTARR_ARR_POSTGRES_USER, &user,
                         &origin, err) < 0 ||
        rotarr_arr_value(stack, app, ROTARR_ARR_POSTGRES_HOST, &host,
                         &origin, err) < 0) {
        goto out;
    }
    if (user.len > 0 && host.len > 0) {
        ret = rotarr_buf_printf(line, err, "uses role '%s' on service '%s'",
                                user.data, host.data);
    } else {
        ret = rotarr_buf_puts(line, "uses no Postgres (SQLite)", err);
    }

out:
    rotarr_buf_release(&user);
    rotarr_buf_release(&host);
    return ret;
}

static int describe_key(const struct rotarr_stack *stack,
                        const struct rotarr_arr_app *app,
                        struct rotarr_buf *line, struct rotarr_error *err)
{
    struct rotarr_buf key = ROTARR_BUF_INIT;
    struct rotarr_arr_origin origin;
    char where[512];
    int found;

    found = rotarr_arr_value(stack, app, ROTARR_ARR_API_KEY, &key, &origin,
                             err);
    if (key.data != NULL) {
        sodium_memzero(key.data, key.len);
    }
    rotarr_buf_release(&key);
    if (found < 0) {
        return -1;
    }
    if (found == 0) {
        return rotarr_buf_puts(line, "no API key found", err);
    }
    rotarr_arr_origin_text(stack, &origin, where, sizeof(where));
    return rotarr_buf_printf(line, err, "API key from %s", where);
}

int inspect_print_apps(const struct rotarr_stack *stack, int json,
                       struct rotarr_error *err)
{
    struct rotarr_arr_apps apps = ROTARR_ARR_APPS_INIT;
    struct rotarr_buf postgres = ROTARR_BUF_INIT;
    struct rotarr_buf key = ROTARR_BUF_INIT;
    size_t i;
    int ret = -1;

    if (rotarr_arr_apps_find(stack, &apps, err) < 0) {
        goto out;
    }
    if (json) {
        printf("[");
    } else if (apps.count > 0) {
        printf("apps:\n");
    }
    for (i = 0; i < apps.count; i++) {
        rotarr_buf_reset(&postgres);
        rotarr_buf_reset(&key);
        if (describe_postgres(stack, &apps.items[i], &postgres, err) < 0 ||
            describe_key(stack, &apps.items[i], &key, err) < 0) {
            goto out;
        }
        if (json) {
            printf("%s{\"service\":", i > 0 ? "," : "");
            cmd_json_string(stdout, apps.items[i].service->name);
            printf(",\"app\":");
            cmd_json_string(stdout, apps.items[i].name);
            printf(",\"postgres\":");
            cmd_json_string(stdout, postgres.data);
            printf(",\"api_key\":");
            cmd_json_string(stdout, key.data);
            printf("}");
            continue;
        }
        printf("  %s (%s) %s; %s\n", apps.items[i].service->name,
               apps.items[i].name, postgres.data, key.data);
    }
    printf("%s", json ? "]" : "");
    ret = 0;

out:
    rotarr_buf_release(&postgres);
    rotarr_buf_release(&key);
    rotarr_arr_apps_release(&apps);
    return ret;
}
