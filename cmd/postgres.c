#include "rotarr/compat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "postgres_arr.h"
#include "rotarr/pgrot.h"

#define POSTGRES_HELP                                                        \
    "\n"                                                                     \
    "Changes a Postgres role's password on the live server, proves the new\n" \
    "one logs in over TCP, then rewrites every copy in the stack's files.\n" \
    "When Servarr apps keep their data in the service, rotates each role\n" \
    "they use (config.xml or APP__POSTGRES__PASSWORD), or the one --user\n" \
    "names.\n"                                                              \
    "\n"                                                                     \
    "  --service <name>          the Postgres service (default: the only one)\n" \
    "  --user <role>             role (default: POSTGRES_USER, else postgres)\n" \
    "  --var <name>              variable holding the password\n"           \
    "                            (default: POSTGRES_PASSWORD)\n"             \
    "  --host <host>, --port <port>\n"                                       \
    "                            where to connect (default: the service's\n" \
    "                            published port for 5432)\n"                 \
    "  --dbname <db>             database to log in to (default: POSTGRES_DB)\n" \
    "  --sslmode <mode>          libpq sslmode\n"                            \
    "  --password-stdin          read the new password from standard input\n" \
    "                            instead of generating one\n"                \
    "  --adopt                   set the live role to the file's password;\n" \
    "                            needs --admin-user and --admin-password-stdin\n" \
    "  --admin-user <role>       role that may change the password\n"       \
    "  --admin-password-stdin    read that role's password from standard input\n" \
    "  --restart                 run 'docker compose up -d --no-deps' for the\n" \
    "                            services that read the password\n"          \
    "  --show                    print the new password on standard output\n"

enum {
    OPT_SERVICE = CMD_OPT_FIRST_VERB_OPTION,
    OPT_USER,
    OPT_VAR,
    OPT_HOST,
    OPT_PORT,
    OPT_DBNAME,
    OPT_SSLMODE,
    OPT_ADMIN_USER,
    OPT_ADMIN_PASSWORD_STDIN,
    OPT_ADOPT,
    OPT_PASSWORD_STDIN,
    OPT_RESTART,
    OPT_SHOW,
    OPT_LAST,
};

static const struct option longopts[] = {
    CMD_GLOBAL_LONGOPTS,
    { "service", required_argument, NULL, OPT_SERVICE },
    { "user", required_argument, NULL, OPT_USER },
    { "var", required_argument, NULL, OPT_VAR },
    { "host", required_argument, NULL, OPT_HOST },
    { "port", required_argument, NULL, OPT_PORT },
    { "dbname", required_argument, NULL, OPT_DBNAME },
    { "sslmode", required_argument, NULL, OPT_SSLMODE },
    { "admin-user", required_argument, NULL, OPT_ADMIN_USER },
    { "admin-password-stdin", no_argument, NULL, OPT_ADMIN_PASSWORD_STDIN },
    { "adopt", no_argument, NULL, OPT_ADOPT },
    { "password-stdin", no_argument, NULL, OPT_PASSWORD_STDIN },
    { "restart", no_argument, NULL, OPT_RESTART },
    { "show", no_argument, NULL, OPT_SHOW },
    { NULL, 0, NULL, 0 },
};

struct postgres_options {
    struct rotarr_pgrot_request req;
    int seen[OPT_LAST - CMD_OPT_FIRST_VERB_OPTION];
    int adopt;
    int password_stdin;
    int admin_password_stdin;
    int restart;
    int show;
};

static int set_option(void *ctx, int opt, const char *arg)
{
    struct postgres_options *o = ctx;

    switch (opt) {
    case OPT_SERVICE: o->req.service = arg; break;
    case OPT_USER: o->req.user = arg; break;
    case OPT_VAR: o->req.var = arg; break;
    case OPT_HOST: o->req.host = arg; break;
    case OPT_PORT:
        o->req.port = cmd_parse_port(arg);
        if (o->req.port <= 0) {
            return cmd_usage_error(POSTGRES_SYNOPSIS,
                                   "invalid port '%s'; give a number from 1 "
                                   "to 65535",
                                   arg);
        }
        break;
    case OPT_DBNAME: o->req.dbname = arg; break;
    case OPT_SSLMODE: o->req.sslmode = arg; break;
    case OPT_ADMIN_USER: o->req.admin_user = arg; break;
    case OPT_ADMIN_PASSWORD_STDIN: o->admin_password_stdin = 1; break;
    case OPT_ADOPT: o->adopt = 1; break;
    case OPT_PASSWORD_STDIN: o->password_stdin = 1; break;
    case OPT_RESTART: o->restart = 1; break;
    case OPT_SHOW: o->show = 1; break;
    }
    return 0;
}

static int check_conflicts(const struct postgres_options *o)
{
    if (o->password_stdin && o->admin_password_stdin) {
        return cmd_usage_error(POSTGRES_SYNOPSIS,
                               "'--password-stdin' and "
                               "'--admin-password-stdin' cannot both read "
                               "standard input");
    }
    if (o->adopt && (o->req.admin_user == NULL || !o->admin_password_stdin)) {
        return cmd_usage_error(POSTGRES_SYNOPSIS,
                               "'--adopt' needs '--admin-user' and "
                               "'--admin-password-stdin'");
    }
    if (!o->adopt && (o->req.admin_user != NULL || o->admin_password_stdin)) {
        return cmd_usage_error(POSTGRES_SYNOPSIS,
                               "'--admin-user' and '--admin-password-stdin' "
                               "are only used with '--adopt'");
    }
    if (o->adopt && (o->password_stdin || o->show)) {
        return cmd_usage_error(POSTGRES_SYNOPSIS,
                               "'--adopt' keeps the file's password; it "
                               "takes no '--password-stdin' or '--show'");
    }
    return 0;
}

static int parse_options(int argc, char **argv, struct postgres_options *o)
{
    const struct cmd_verb_options verb = {
        longopts,  POSTGRES_SYNOPSIS, POSTGRES_HELP, OPT_LAST,
        o->seen,   set_option,   o,
    };
    int status = cmd_parse_options(argc, argv, &verb);

    return status != 0 ? status : check_conflicts(o);
}

static int read_secrets(struct postgres_options *o,
                        struct rotarr_secret **stdin_secret)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;

    if (!o->password_stdin && !o->admin_password_stdin) {
        return 0;
    }
    *stdin_secret = cmd_read_secret_stdin(&err);
    if (*stdin_secret == NULL) {
        return cmd_report(&err);
    }
    if (o->password_stdin) {
        o->req.chosen = *stdin_secret;
    } else {
        o->req.admin_password = *stdin_secret;
    }
    return 0;
}

static int report_adopt(const struct rotarr_pgrot_plan *plan)
{
    if (plan->notices.data != NULL) {
        fputs(plan->notices.data, stderr);
    }
    if (cmd_globals.json) {
        printf("{\"service\":");
        cmd_json_string(stdout, plan->service);
        printf(",\"role\":");
        cmd_json_string(stdout, plan->role);
        printf(",\"adopted\":%s,\"changed\":[],\"restart\":[]}\n",
               cmd_globals.dry_run ? "false" : "true");
        return 0;
    }
    if (cmd_globals.dry_run) {
        printf("plan: give role '%s' of service '%s' at %s:%d the password "
               "that %s holds; no file would change\n",
               plan->role, plan->service, plan->host, plan->port,
               plan->source);
        return 0;
    }
    printf("role '%s' of service '%s' at %s:%d now has the password that "
           "%s holds; no file was changed\n",
           plan->role, plan->service, plan->host, plan->port, plan->source);
    if (plan->had_md5) {
        printf("its md5 hash was replaced by a SCRAM-SHA-256 verifier\n");
    }
    return 0;
}

static int run(struct postgres_options *o)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_pgrot_plan plan = ROTARR_PGROT_PLAN_INIT;
    struct postgres_arr_options arr = { &o->req, o->password_stdin, o->show,
                                        o->restart };
    struct rotarr_stack *stack = NULL;
    int status = ROTARR_OK;

    o->req.dry_run = cmd_globals.dry_run;
    if (!o->adopt && o->req.var == NULL) {
        status = postgres_rotate_app_roles(&arr);
        if (status >= 0) {
            return status;
        }
        status = ROTARR_OK;
    }
    stack = cmd_load_stack(&err);
    if (stack == NULL || rotarr_pgrot_plan(stack, &o->req, &plan, &err) < 0) {
        status = cmd_report(&err);
        goto out;
    }
    if (o->adopt) {
        status = rotarr_pgrot_adopt(stack, &o->req, &plan, &err) < 0
                     ? cmd_report(&err)
                     : report_adopt(&plan);
        goto out;
    }
    if (rotarr_pgrot_run(stack, &o->req, &plan, &err) < 0) {
        status = cmd_report(&err);
        goto out;
    }
    status = cmd_report_rotation(stack, &plan, o->show, o->restart);

out:
    rotarr_pgrot_plan_release(&plan);
    rotarr_stack_free(stack);
    return status;
}

int cmd_postgres(int argc, char **argv)
{
    struct postgres_options o;
    struct rotarr_secret *stdin_secret = NULL;
    int status;

    memset(&o, 0, sizeof(o));
    status = parse_options(argc, argv, &o);
    if (status != 0) {
        return status < 0 ? ROTARR_OK : status;
    }
    status = read_secrets(&o, &stdin_secret);
    if (status == 0) {
        status = run(&o);
    }
    rotarr_secret_free(stdin_secret);
    return status;
}
