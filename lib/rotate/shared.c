#include "rotarr/compat.h"

#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "rotarr/pgrot.h"
#include "rotarr/redisrot.h"
#include "rotarr/shared.h"

/* Room for a variable name, " from " and a "file:line". */
#define WHERE_MAX (2 * ROTARR_NAME_MAX + 8)

static int same_secret(const struct rotarr_secret *a,
                       const struct rotarr_secret *b)
{
    return a != NULL && b != NULL &&
           rotarr_secret_len(a) == rotarr_secret_len(b) &&
           sodium_memcmp(rotarr_secret_data(a), rotarr_secret_data(b),
                         rotarr_secret_len(a)) == 0;
}

/*
 * Returns 1 and copies the variable and where its value comes from into
 * var when the Postgres service name has password, 0 when it has another
 * or none can be found.
 */
static int postgres_has(const struct rotarr_stack *stack, const char *name,
                        const struct rotarr_secret *password,
                        char var[WHERE_MAX])
{
    struct rotarr_pgrot_request req;
    struct rotarr_pgrot_plan plan = ROTARR_PGROT_PLAN_INIT;
    struct rotarr_error ignored = ROTARR_ERROR_INIT;
    int same = 0;

    memset(&req, 0, sizeof(req));
    req.service = name;
    req.dry_run = 1;
    if (rotarr_pgrot_plan(stack, &req, &plan, &ignored) == 0) {
        same = same_secret(plan.current, password);
        snprintf(var, WHERE_MAX, "%s%s%s", plan.var,
                 plan.source[0] != '\0' ? " from " : "", plan.source);
    }
    rotarr_pgrot_plan_release(&plan);
    return same;
}

/* Like postgres_has, for a Redis service. */
static int redis_has(const struct rotarr_stack *stack, const char *name,
                     const struct rotarr_secret *password,
                     char var[WHERE_MAX])
{
    struct rotarr_redisrot_request req;
    struct rotarr_redisrot_plan plan = ROTARR_REDISROT_PLAN_INIT;
    struct rotarr_error ignored = ROTARR_ERROR_INIT;
    int same = 0;

    memset(&req, 0, sizeof(req));
    req.service = name;
    req.overlap = -1;
    req.offline = 1;
    req.dry_run = 1;
    if (rotarr_redisrot_plan(stack, &req, &plan, &ignored) == 0) {
        same = same_secret(plan.current, password);
        snprintf(var, WHERE_MAX, "%s%s%s",
                 plan.var[0] != '\0' ? plan.var : "requirepass",
                 plan.source[0] != '\0' ? " from " : "", plan.source);
    }
    rotarr_redisrot_plan_release(&plan);
    return same;
}

int rotarr_check_unshared(const struct rotarr_stack *stack,
                          const char *service,
                          const struct rotarr_secret *password,
                          struct rotarr_error *err)
{
    const struct rotarr_compose *compose = rotarr_stack_compose(stack);
    const struct rotarr_compose_service *svc;
    enum rotarr_service_kind kind;
    char var[WHERE_MAX];
    size_t i;
    int same;

    if (password == NULL) {
        return 0;
    }
    for (i = 0; i < rotarr_compose_service_count(compose); i++) {
        svc = rotarr_compose_service(compose, i);
        if (strcmp(svc->name, service) == 0) {
            continue;
        }
        kind = rotarr_stack_service_kind(stack, svc);
        if (kind == ROTARR_SERVICE_POSTGRES) {
            same = postgres_has(stack, svc->name, password, var);
        } else if (kind == ROTARR_SERVICE_REDIS) {
            same = redis_has(stack, svc->name, password, var);
        } else {
            continue;
        }
        if (same) {
            return rotarr_error_set(
                err, ROTARR_EUSAGE,
                "service '%s' has the same password (%s) as '%s', and a "
                "rotation of '%s' would rewrite its copies too while its "
                "server keeps the old one; give '%s' a password of its own "
                "first (see SHARED PASSWORDS in rotarr(1)); nothing was "
                "changed",
                svc->name, var, service, service, svc->name);
        }
    }
    return 0;
}
