#include "rotarr/compat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "postgres_arr.h"
#include "rotarr/servarr.h"

/* Keeps the roles that --user selects; returns how many are left. */
static size_t select_roles(struct rotarr_arr_roles *roles, const char *user)
{
    size_t kept = 0;
    size_t i;

    for (i = 0; i < roles->count; i++) {
        if (user != NULL && strcmp(roles->items[i].role, user) != 0) {
            rotarr_secret_free(roles->items[i].password);
            continue;
        }
        roles->items[kept++] = roles->items[i];
    }
    roles->count = kept;
    return kept;
}

static int check_roles(const struct postgres_arr_options *o,
                       const struct rotarr_arr_roles *roles)
{
    size_t i;

    for (i = 1; i < roles->count; i++) {
        if (strcmp(roles->items[i].service, roles->items[0].service) != 0) {
            return cmd_usage_error(POSTGRES_SYNOPSIS,
                                   "the apps use the Postgres services '%s' "
                                   "and '%s'; choose one with '--service'",
                                   roles->items[0].service,
                                   roles->items[i].service);
        }
    }
    if (o->password_stdin && roles->count > 1) {
        return cmd_usage_error(POSTGRES_SYNOPSIS,
                               "'--password-stdin' sets the password of one "
                               "role, and the apps use %zu; choose one with "
                               "'--user'",
                               roles->count);
    }
    return 0;
}

/* Rotates one role from a fresh load of the stack, so that it reads the
 * files that the rotation of the previous role rewrote. */
static int rotate_role(const struct postgres_arr_options *o,
                       const char *service, const char *role_name)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_arr_roles roles = ROTARR_ARR_ROLES_INIT;
    struct rotarr_pgrot_plan plan = ROTARR_PGROT_PLAN_INIT;
    struct rotarr_pgrot_request req = *o->req;
    const struct rotarr_arr_role *role;
    struct rotarr_stack *stack;
    int status;

    stack = cmd_load_stack(&err);
    if (stack == NULL ||
        rotarr_arr_postgres_roles(stack, service, &roles, &err) < 0) {
        status = cmd_report(&err);
        goto out;
    }
    select_roles(&roles, role_name);
    if (roles.count == 0) {
        cmd_error("role '%s' is no longer in the apps' settings; run "
                  "'rotarr inspect' and retry",
                  role_name);
        status = ROTARR_EFILE;
        goto out;
    }
    role = &roles.items[0];
    req.service = role->service;
    req.user = role->role;
    req.var = role->variable;
    req.dbname = o->req->dbname != NULL ? o->req->dbname : role->main_db;
    req.current = role->password;
    req.current_source = role->source;
    req.dry_run = cmd_globals.dry_run;
    if (!cmd_globals.json) {
        printf("%s: role '%s' on service '%s'\n", role->apps, role->role,
               role->service);
    }
    if (rotarr_pgrot_plan(stack, &req, &plan, &err) < 0 ||
        rotarr_pgrot_run(stack, &req, &plan, &err) < 0) {
        status = cmd_report(&err);
        goto out;
    }
    status = cmd_report_rotation(stack, &plan, o->show, o->restart);

out:
    rotarr_pgrot_plan_release(&plan);
    rotarr_arr_roles_release(&roles);
    rotarr_stack_free(stack);
    return status;
}

static void print_restart_advice(void)
{
    if (cmd_globals.json || cmd_globals.dry_run) {
        return;
    }
    printf("the apps read config.xml only at start and write it back when "
           "settings are saved in their web UI, so restart them now (or "
           "run with '--restart')\n");
}

int postgres_rotate_app_roles(const struct postgres_arr_options *o)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_arr_roles roles = ROTARR_ARR_ROLES_INIT;
    struct rotarr_stack *stack;
    size_t i;
    int status = -1;

    stack = cmd_load_stack(&err);
    if (stack == NULL ||
        rotarr_arr_postgres_roles(stack, o->req->service, &roles, &err) < 0) {
        status = cmd_report(&err);
        goto out;
    }
    if (select_roles(&roles, o->req->user) == 0) {
        goto out;
    }
    status = check_roles(o, &roles);
    if (status != 0) {
        goto out;
    }
    printf("%s", cmd_globals.json && roles.count > 1 ? "[\n" : "");
    for (i = 0; i < roles.count && status == 0; i++) {
        printf("%s", cmd_globals.json && i > 0 ? "," : "");
        status = rotate_role(o, roles.items[i].service, roles.items[i].role);
    }
    printf("%s", cmd_globals.json && roles.count > 1 ? "]\n" : "");
    if (status == 0 && !o->restart) {
        print_restart_advice();
    }

out:
    rotarr_arr_roles_release(&roles);
    rotarr_stack_free(stack);
    return status;
}
