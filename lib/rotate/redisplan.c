#include "rotarr/compat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "redis_private.h"
#include "rotarr/gen.h"

/* Length of a generated password: 32 of [A-Za-z0-9], about 190 bits. */
#define GENERATED_LENGTH 32

static int find_endpoint(const struct rotarr_stack *stack,
                         const struct rotarr_compose_service *svc,
                         const struct rotarr_redisrot_request *req,
                         struct rotarr_redisrot_plan *plan,
                         struct rotarr_error *err)
{
    char host[ROTARR_NAME_MAX] = "";
    int port = 0;

    if (req->port == 0 || req->host == NULL) {
        port = rotarr_compose_published_port(
            rotarr_stack_compose(stack), svc, REDIS_CONTAINER_PORT,
            rotarr_stack_project_lookup, (void *)stack, host, sizeof(host));
    }
    if (req->port != 0) {
        port = req->port;
    }
    if (port <= 0 && (req->dry_run || req->offline)) {
        /* Neither a dry run nor an offline run connects. */
        plan->port = 0;
        snprintf(plan->host, sizeof(plan->host), "(no published port)");
        return 0;
    }
    if (port <= 0) {
        return rotarr_error_set(err, ROTARR_EUSAGE,
                                "service '%s' publishes no port for 6379, so "
                                "rotarr cannot reach it from this host; give "
                                "'--host' and '--port', or '--offline' for a "
                                "stopped stack",
                                plan->service);
    }
    if (req->host != NULL) {
        snprintf(host, sizeof(host), "%s", req->host);
    } else if (host[0] == '\0' || strcmp(host, "0.0.0.0") == 0 ||
               strcmp(host, "::") == 0 || strcmp(host, "[::]") == 0) {
        snprintf(host, sizeof(host), "127.0.0.1");
    }
    plan->port = port;
    snprintf(plan->host, sizeof(plan->host), "%s", host);
    return 0;
}

static struct rotarr_secret *copy_secret(const struct rotarr_secret *s,
                                         struct rotarr_error *err)
{
    return rotarr_secret_new(rotarr_secret_data(s), rotarr_secret_len(s),
                             err);
}

/* Enabling keeps a value the variable already has, so that clients
 * configured with it by hand stay right. */
static int enable_password(const struct rotarr_stack *stack,
                           struct rotarr_redisrot_plan *plan,
                           struct rotarr_error *err)
{
    const char *existing = rotarr_stack_lookup(stack, plan->var);

    if (existing != NULL && existing[0] != '\0') {
        redis_plan_notice(plan,
                          "'%s' already has a value; the server gets that "
                          "password",
                          plan->var);
        plan->next = rotarr_secret_new(existing, strlen(existing), err);
    } else {
        plan->next = rotarr_gen_password(ROTARR_CHARSET_ALNUM,
                                         GENERATED_LENGTH, NULL, err);
    }
    return plan->next != NULL ? 0 : -1;
}

static int choose_mode(const struct rotarr_stack *stack,
                       const struct rotarr_redisrot_request *req,
                       struct rotarr_redisrot_plan *plan,
                       struct rotarr_error *err)
{
    if (req->finish) {
        if (plan->current == NULL) {
            return rotarr_error_set(err, ROTARR_EUSAGE,
                                    "service '%s' has no password in the "
                                    "files, so there is no overlap to "
                                    "finish",
                                    plan->service);
        }
        plan->mode = ROTARR_REDIS_FINISH;
        plan->next = copy_secret(plan->current, err);
        return plan->next != NULL ? 0 : -1;
    }
    if (plan->current == NULL) {
        plan->mode = ROTARR_REDIS_ENABLE;
        return enable_password(stack, plan, err);
    }
    if (req->enable) {
        plan->mode = ROTARR_REDIS_FIX;
        plan->next = copy_secret(plan->current, err);
        return plan->next != NULL ? 0 : -1;
    }
    plan->mode = req->overlap == 0 || req->offline ? ROTARR_REDIS_REPLACE
                                                   : ROTARR_REDIS_OVERLAP;
    plan->next = rotarr_gen_password(ROTARR_CHARSET_ALNUM, GENERATED_LENGTH,
                                     NULL, err);
    return plan->next != NULL ? 0 : -1;
}

struct occurrence_sink {
    const struct rotarr_stack *stack;
    struct rotarr_redisrot_plan *plan;
};

/* Takes one replacement of the old password unless a planned edit
 * already rewrites those bytes. */
static int take_occurrence(void *ctx, size_t index, size_t start, size_t end,
                           const char *text, size_t len,
                           struct rotarr_error *err)
{
    struct occurrence_sink *sink = ctx;
    struct rotarr_redis_file *file;

    file = redis_plan_file(sink->stack, sink->plan, index, err);
    if (file == NULL) {
        return -1;
    }
    if (rotarr_text_edits_overlap(&file->edits, start, end)) {
        return 0;
    }
    return rotarr_text_edits_add(&file->edits, start, end, text, len, err);
}

static int note_occurrences(const struct rotarr_stack *stack,
                            const struct rotarr_occurrences *occs,
                            struct rotarr_redisrot_plan *plan,
                            struct rotarr_error *err)
{
    const struct rotarr_compose *compose = rotarr_stack_compose(stack);
    const struct rotarr_compose_service *svc;
    const struct rotarr_occurrence *occ;
    size_t i;

    for (i = 0; i < occs->count; i++) {
        occ = &occs->items[i];
        if (occ->kind != ROTARR_OCC_REFERENCE &&
            redis_plan_note(plan, err, "%s:%zu: %s: the old password is "
                                       "replaced",
                            rotarr_stack_file(stack, occ->file)->display,
                            occ->line, occ->where) < 0) {
            return -1;
        }
    }
    for (i = 0; i < rotarr_compose_service_count(compose); i++) {
        svc = rotarr_compose_service(compose, i);
        if (rotarr_stack_service_uses(stack, svc, occs) &&
            redis_plan_restart(plan, svc->name, err) < 0) {
            return -1;
        }
    }
    return 0;
}

int redis_plan_occurrences(const struct rotarr_stack *stack,
                           const struct rotarr_secret *old,
                           struct rotarr_redisrot_plan *plan,
                           struct rotarr_error *err)
{
    struct rotarr_occurrences occs = ROTARR_OCCURRENCES_INIT;
    struct occurrence_sink sink = { stack, plan };
    int ret = -1;

    if (rotarr_stack_find_occurrences(stack, old, &occs, err) < 0 ||
        rotarr_stack_occurrence_edits(stack, &occs, plan->next,
                                      take_occurrence, &sink, err) < 0 ||
        note_occurrences(stack, &occs, plan, err) < 0) {
        goto out;
    }
    ret = 0;

out:
    rotarr_occurrences_release(&occs);
    return ret;
}

int redis_plan_changes(const struct rotarr_stack *stack,
                       const struct redis_server *server,
                       const struct rotarr_secret *old,
                       struct rotarr_redisrot_plan *plan,
                       struct rotarr_error *err)
{
    if (redis_plan_server(stack, server, plan, err) < 0 ||
        redis_plan_clients(stack, server, plan, err) < 0 ||
        (old != NULL && redis_plan_occurrences(stack, old, plan, err) < 0)) {
        return -1;
    }
    return redis_plan_build(plan, err);
}

const struct rotarr_secret *
redis_plan_old(const struct rotarr_redisrot_plan *plan)
{
    return plan->mode == ROTARR_REDIS_OVERLAP ||
                   plan->mode == ROTARR_REDIS_REPLACE
               ? plan->current
               : NULL;
}

int rotarr_redisrot_plan(const struct rotarr_stack *stack,
                         const struct rotarr_redisrot_request *req,
                         struct rotarr_redisrot_plan *plan,
                         struct rotarr_error *err)
{
    const struct rotarr_compose_service *svc;
    struct redis_server server;
    int ret = -1;

    memset(&server, 0, sizeof(server));
    svc = rotarr_stack_choose_server(stack, ROTARR_SERVICE_REDIS, req->service,
                                     err);
    if (svc == NULL ||
        redis_server_learn(stack, svc, req, &server, plan, err) < 0 ||
        find_endpoint(stack, svc, req, plan, err) < 0 ||
        choose_mode(stack, req, plan, err) < 0) {
        goto out;
    }
    if (plan->mode == ROTARR_REDIS_FINISH) {
        ret = 0;
        goto out;
    }
    ret = redis_plan_changes(stack, &server, redis_plan_old(plan), plan, err);

out:
    redis_server_release(&server);
    return ret;
}

int redis_replan(const struct rotarr_stack *stack,
                 const struct rotarr_redisrot_request *req,
                 enum rotarr_redis_mode mode,
                 const struct rotarr_secret *old,
                 const struct rotarr_secret *next,
                 struct rotarr_redisrot_plan *plan, struct rotarr_error *err)
{
    const struct rotarr_compose_service *svc;
    struct redis_server server;
    int ret = -1;

    memset(&server, 0, sizeof(server));
    svc = rotarr_stack_choose_server(stack, ROTARR_SERVICE_REDIS, req->service,
                                     err);
    if (svc == NULL ||
        redis_server_learn(stack, svc, req, &server, plan, err) < 0) {
        goto out;
    }
    rotarr_secret_free(plan->current);
    rotarr_secret_free(plan->next);
    plan->current = old != NULL ? copy_secret(old, err) : NULL;
    plan->next = copy_secret(next, err);
    plan->mode = mode;
    if ((old != NULL && plan->current == NULL) || plan->next == NULL) {
        goto out;
    }
    if (mode == ROTARR_REDIS_ENABLE) {
        /* Parts written before the stop may make the files look
         * protected already; what is missing is filled in. */
        plan->auth = ROTARR_REDIS_AUTH_NONE;
        if (server.requirepass >= 0 || server.conf_found) {
            plan->auth = ROTARR_REDIS_AUTH_COMMAND;
        }
    }
    ret = redis_plan_changes(stack, &server, redis_plan_old(plan), plan, err);

out:
    redis_server_release(&server);
    return ret;
}

size_t rotarr_redisrot_unconfigured(const struct rotarr_redisrot_plan *plan)
{
    size_t count = 0;
    size_t i;

    for (i = 0; i < plan->client_count; i++) {
        count += !plan->clients[i].configured;
    }
    return count;
}

const char *rotarr_redis_mode_name(enum rotarr_redis_mode mode)
{
    switch (mode) {
    case ROTARR_REDIS_ENABLE:
        return "enable";
    case ROTARR_REDIS_FIX:
        return "fix";
    case ROTARR_REDIS_OVERLAP:
        return "overlap";
    case ROTARR_REDIS_REPLACE:
        return "replace";
    case ROTARR_REDIS_FINISH:
        return "finish";
    }
    return "?";
}

static void free_lines(char **lines, size_t count)
{
    size_t i;

    for (i = 0; i < count; i++) {
        free(lines[i]);
    }
    free(lines);
}

static void release_file(struct rotarr_redis_file *file)
{
    free(file->path);
    free(file->display);
    if (file->owned != NULL) {
        sodium_memzero(file->owned, file->old_len);
        free(file->owned);
    }
    rotarr_text_edits_release(&file->edits);
    if (file->bytes.data != NULL) {
        sodium_memzero(file->bytes.data, file->bytes.cap);
    }
    rotarr_buf_release(&file->bytes);
}

void rotarr_redisrot_plan_release(struct rotarr_redisrot_plan *plan)
{
    size_t i;

    rotarr_secret_free(plan->current);
    rotarr_secret_free(plan->next);
    plan->current = NULL;
    plan->next = NULL;
    for (i = 0; i < plan->client_count; i++) {
        free(plan->clients[i].service);
        free(plan->clients[i].how);
    }
    free(plan->clients);
    plan->clients = NULL;
    plan->client_count = 0;
    for (i = 0; i < plan->file_count; i++) {
        release_file(&plan->files[i]);
    }
    free(plan->files);
    plan->files = NULL;
    plan->file_count = 0;
    free_lines(plan->changes, plan->change_count);
    free_lines(plan->restart, plan->restart_count);
    plan->changes = NULL;
    plan->restart = NULL;
    plan->change_count = 0;
    plan->restart_count = 0;
    rotarr_buf_release(&plan->notices);
}
