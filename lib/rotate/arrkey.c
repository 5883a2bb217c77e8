#include "rotarr/compat.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "rotarr/arrkey.h"
#include "rotarr/gen.h"
#include "rotarr/servarr.h"
#include "rotarr/sweep.h"

/* Finds the app that req names, or the only one. */
static int choose_app(const struct rotarr_stack *stack,
                      const struct rotarr_arrkey_request *req,
                      const struct rotarr_arr_apps *apps,
                      const struct rotarr_arr_app **chosen,
                      struct rotarr_error *err)
{
    struct rotarr_buf names = ROTARR_BUF_INIT;
    size_t i;
    int ret = -1;

    for (i = 0; i < apps->count; i++) {
        if (req->service != NULL &&
            strcmp(apps->items[i].service->name, req->service) == 0) {
            *chosen = &apps->items[i];
            ret = 0;
            goto out;
        }
        if (rotarr_buf_printf(&names, err, "%s'%s'", i > 0 ? ", " : "",
                              apps->items[i].service->name) < 0) {
            goto out;
        }
    }
    if (apps->count == 0) {
        rotarr_error_set(err, ROTARR_EUSAGE,
                         "no Servarr app (Sonarr, Radarr, Prowlarr, Lidarr, "
                         "Readarr, Whisparr) found in '%s'",
                         rotarr_stack_dir(stack));
    } else if (req->service != NULL) {
        rotarr_error_set(err, ROTARR_EUSAGE,
                         "service '%s' is not a Servarr app; the apps are %s",
                         req->service, names.data);
    } else if (apps->count > 1) {
        rotarr_error_set(err, ROTARR_EUSAGE,
                         "several Servarr apps: %s; choose one with "
                         "'--service'",
                         names.data);
    } else {
        *chosen = &apps->items[0];
        ret = 0;
    }

out:
    rotarr_buf_release(&names);
    return ret;
}

static int find_key(const struct rotarr_stack *stack,
                    const struct rotarr_arr_app *app,
                    struct rotarr_arrkey_plan *plan, struct rotarr_error *err)
{
    struct rotarr_buf key = ROTARR_BUF_INIT;
    struct rotarr_arr_origin origin;
    int found;
    int ret = -1;

    found = rotarr_arr_value(stack, app, ROTARR_ARR_API_KEY, &key, &origin,
                             err);
    if (found == 0 && app->config == (size_t)-1) {
        rotarr_error_set(err, ROTARR_EFILE,
                         "service '%s' has no config.xml below a '/config' "
                         "bind mount and no %s__AUTH__APIKEY variable, so "
                         "rotarr cannot find its API key; mount its config "
                         "directory from the stack directory",
                         app->service->name, app->prefix);
    } else if (found == 0) {
        rotarr_error_set(err, ROTARR_EFILE,
                         "'%s' has no <ApiKey> element; start the app once "
                         "so that it writes one, or set %s__AUTH__APIKEY",
                         rotarr_stack_file(stack, app->config)->display,
                         app->prefix);
    }
    if (found != 1) {
        goto out;
    }
    rotarr_arr_origin_text(stack, &origin, plan->source,
                           sizeof(plan->source));
    plan->current = rotarr_secret_new(key.data, key.len, err);
    ret = plan->current != NULL ? 0 : -1;

out:
    if (key.data != NULL) {
        sodium_memzero(key.data, key.len);
    }
    rotarr_buf_release(&key);
    return ret;
}

static int add_consumer(struct rotarr_arrkey_plan *plan, const char *service,
                        const char *place, struct rotarr_error *err)
{
    struct rotarr_arrkey_consumer *grown;
    struct rotarr_arrkey_consumer *consumer;

    grown = realloc(plan->consumers,
                    (plan->consumer_count + 1) * sizeof(*grown));
    if (grown == NULL) {
        return rotarr_error_set(err, ROTARR_EFILE, "out of memory");
    }
    plan->consumers = grown;
    consumer = &grown[plan->consumer_count++];
    snprintf(consumer->service, sizeof(consumer->service), "%s", service);
    snprintf(consumer->place, sizeof(consumer->place), "%s", place);
    return 0;
}

/* Returns the app name with its first letter in capitals ("Radarr"). */
static void display_name(const char *app, char *out, size_t size)
{
    snprintf(out, size, "%s", app);
    if (out[0] != '\0') {
        out[0] = (char)toupper((unsigned char)out[0]);
    }
}

/*
 * Lists the apps that keep the key in their own database, where rotarr
 * cannot change it: Prowlarr's application links hold each app's key,
 * and each app's Prowlarr indexers hold Prowlarr's key.
 */
static int find_consumers(const struct rotarr_arr_apps *apps,
                          const struct rotarr_arr_app *target,
                          struct rotarr_arrkey_plan *plan,
                          struct rotarr_error *err)
{
    char name[32];
    char place[ROTARR_NAME_MAX];
    size_t i;
    int is_prowlarr = strcmp(target->name, "prowlarr") == 0;

    display_name(target->name, name, sizeof(name));
    for (i = 0; i < apps->count; i++) {
        if (&apps->items[i] == target) {
            continue;
        }
        if (!is_prowlarr && strcmp(apps->items[i].name, "prowlarr") == 0) {
            snprintf(place, sizeof(place),
                     "Settings > Apps > %s > API Key", name);
        } else if (is_prowlarr) {
            snprintf(place, sizeof(place),
                     "Settings > Indexers > each indexer that Prowlarr "
                     "added > API Key (or Sync App Indexers in Prowlarr)");
        } else {
            continue;
        }
        if (add_consumer(plan, apps->items[i].service->name, place, err) <
            0) {
            return -1;
        }
    }
    return 0;
}

static int draw_key(struct rotarr_arrkey_plan *plan, struct rotarr_error *err)
{
    int tries;

    for (tries = 0; tries < 4; tries++) {
        rotarr_secret_free(plan->next);
        plan->next = rotarr_gen_password(ROTARR_CHARSET_HEX,
                                         ROTARR_ARRKEY_LEN, NULL, err);
        if (plan->next == NULL) {
            return -1;
        }
        if (!rotarr_secret_equal(plan->next, plan->current)) {
            return 0;
        }
    }
    return rotarr_error_set(err, ROTARR_EFILE,
                            "the random generator returned the old key "
                            "again; check the system's entropy source");
}

int rotarr_arrkey_plan(const struct rotarr_stack *stack,
                       const struct rotarr_arrkey_request *req,
                       struct rotarr_arrkey_plan *plan,
                       struct rotarr_error *err)
{
    struct rotarr_arr_apps apps = ROTARR_ARR_APPS_INIT;
    const struct rotarr_arr_app *app = NULL;
    int ret = -1;

    if (rotarr_arr_apps_find(stack, &apps, err) < 0 ||
        choose_app(stack, req, &apps, &app, err) < 0) {
        goto out;
    }
    snprintf(plan->service, sizeof(plan->service), "%s", app->service->name);
    snprintf(plan->app, sizeof(plan->app), "%s", app->name);
    if (find_key(stack, app, plan, err) < 0 ||
        find_consumers(&apps, app, plan, err) < 0 ||
        rotarr_stack_find_occurrences(stack, plan->current,
                                      &plan->occurrences, err) < 0 ||
        draw_key(plan, err) < 0) {
        goto out;
    }
    ret = 0;

out:
    rotarr_arr_apps_release(&apps);
    return ret;
}

static int collect_restart(const struct rotarr_stack *stack,
                           struct rotarr_arrkey_plan *plan,
                           struct rotarr_error *err)
{
    const struct rotarr_compose *compose = rotarr_stack_compose(stack);
    const struct rotarr_compose_service *svc;
    char **grown;
    size_t i;

    for (i = 0; i < rotarr_compose_service_count(compose); i++) {
        svc = rotarr_compose_service(compose, i);
        if (!rotarr_stack_service_uses(stack, svc, &plan->occurrences)) {
            continue;
        }
        grown = realloc(plan->restart,
                        (plan->restart_count + 1) * sizeof(*grown));
        if (grown == NULL) {
            return rotarr_error_set(err, ROTARR_EFILE, "out of memory");
        }
        plan->restart = grown;
        plan->restart[plan->restart_count] = strdup(svc->name);
        if (plan->restart[plan->restart_count] == NULL) {
            return rotarr_error_set(err, ROTARR_EFILE, "out of memory");
        }
        plan->restart_count++;
    }
    return 0;
}

int rotarr_arrkey_run(const struct rotarr_stack *stack,
                      const struct rotarr_arrkey_request *req,
                      struct rotarr_arrkey_plan *plan,
                      struct rotarr_error *err)
{
    struct rotarr_lock *lock;
    int ret;

    if (rotarr_stack_plan_edits(stack, &plan->occurrences, plan->next,
                                &plan->edits, err) < 0 ||
        collect_restart(stack, plan, err) < 0) {
        return -1;
    }
    if (req->dry_run) {
        return 0;
    }
    if (rotarr_stack_check_writable(stack, err) < 0) {
        return -1;
    }
    lock = rotarr_stack_lock_for_write(stack, &plan->notices, err);
    if (lock == NULL) {
        return -1;
    }
    ret = rotarr_stack_write_edits(stack, &plan->edits, NULL, NULL, err);
    rotarr_lock_release(lock);
    return ret;
}

void rotarr_arrkey_plan_release(struct rotarr_arrkey_plan *plan)
{
    size_t i;

    rotarr_secret_free(plan->current);
    rotarr_secret_free(plan->next);
    plan->current = NULL;
    plan->next = NULL;
    rotarr_occurrences_release(&plan->occurrences);
    rotarr_file_edits_release(&plan->edits);
    for (i = 0; i < plan->restart_count; i++) {
        free(plan->restart[i]);
    }
    free(plan->restart);
    plan->restart = NULL;
    plan->restart_count = 0;
    free(plan->consumers);
    plan->consumers = NULL;
    plan->consumer_count = 0;
    rotarr_buf_release(&plan->notices);
}
