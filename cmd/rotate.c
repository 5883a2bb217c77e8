#include "rotarr/compat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "age_util.h"
#include "cmd.h"
#include "rotarr/journal.h"
#include "rotarr/redisrot.h"
#include "rotarr/schedule.h"

#define ROTATE_HELP                                                          \
    "\n"                                                                     \
    "Rotates every managed secret that is due, for a systemd timer or cron.\n" \
    "Takes the lock '.rotarr/rotate.lock' (a second run exits at once),\n"  \
    "finishes a rotation that stopped part-way, then rotates each Postgres\n" \
    "password, and each Redis password (replaced at once, no overlap),\n"   \
    "whose last rotation is older than --max-age or was never recorded.\n"  \
    "Logs one line per action to standard error.  Exit status 0 when\n"     \
    "everything due was rotated.\n"                                          \
    "\n"                                                                     \
    "  --max-age <duration>  age at which a secret is due, such as 90d, 12h\n" \
    "                        or 2w; a bare number is days (default: 90d)\n"  \
    "  --only <kind>         rotate only postgres or only redis secrets\n"   \
    "  --restart             run 'docker compose up -d --no-deps' for the\n" \
    "                        services that read a changed password\n"

/* Maximum number of services to recreate after one run. */
#define ROTATE_RESTART_MAX 256

enum {
    OPT_MAX_AGE = CMD_OPT_FIRST_VERB_OPTION,
    OPT_ONLY,
    OPT_RESTART,
};

static const struct option longopts[] = {
    CMD_GLOBAL_LONGOPTS,
    { "max-age", required_argument, NULL, OPT_MAX_AGE },
    { "only", required_argument, NULL, OPT_ONLY },
    { "restart", no_argument, NULL, OPT_RESTART },
    { NULL, 0, NULL, 0 },
};

struct rotate_options {
    long max_age;
    unsigned only;
    int restart;
};

/* Record of one run's actions, for the summary on standard output. */
struct rotate_run {
    FILE *json;              /* the "actions" array's members */
    char *json_text;
    size_t json_len;
    size_t action_count;
    char *restart[ROTATE_RESTART_MAX];
    size_t restart_count;
    int status;              /* the first failure's exit status */
};

static int set_option(struct rotate_options *o, int opt, const char *arg)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;

    switch (opt) {
    case OPT_MAX_AGE:
        if (rotarr_parse_duration(arg, &o->max_age, &err) < 0) {
            return cmd_usage_error(ROTATE_SYNOPSIS, "%s", err.msg);
        }
        return 0;
    case OPT_ONLY:
        if (strcmp(arg, "postgres") == 0) {
            o->only = ROTARR_SCHEDULE_ONLY_POSTGRES;
        } else if (strcmp(arg, "redis") == 0) {
            o->only = ROTARR_SCHEDULE_ONLY_REDIS;
        } else {
            return cmd_usage_error(ROTATE_SYNOPSIS,
                                   "invalid kind '%s' for '--only'; give "
                                   "'postgres' or 'redis'",
                                   arg);
        }
        return 0;
    case OPT_RESTART:
        o->restart = 1;
        return 0;
    }
    return 0;
}

static int parse_options(int argc, char **argv, struct rotate_options *o)
{
    int opt;
    int handled;

    while ((opt = getopt_long(argc, argv, CMD_GLOBAL_SHORTOPTS, longopts,
                              NULL)) != -1) {
        if (opt == CMD_OPT_HELP) {
            cmd_print_usage(stdout, ROTATE_SYNOPSIS);
            fputs(ROTATE_HELP, stdout);
            return -1;
        }
        if (opt >= CMD_OPT_FIRST_VERB_OPTION) {
            if (set_option(o, opt, optarg) != 0) {
                return ROTARR_EUSAGE;
            }
            continue;
        }
        handled = cmd_global_option(opt, optarg, ROTATE_SYNOPSIS);
        if (handled < 0) {
            return ROTARR_EUSAGE;
        }
        if (handled == 0) {
            return cmd_usage_error(ROTATE_SYNOPSIS, "unknown option '%s'",
                                   argv[optind - 1]);
        }
    }
    if (optind < argc) {
        return cmd_usage_error(ROTATE_SYNOPSIS, "unexpected argument '%s'",
                               argv[optind]);
    }
    return 0;
}

/* Records an action for the JSON summary; status 0 means it worked. */
static void note_action(struct rotate_run *run, const char *action,
                        const char *kind, const char *service,
                        const char *var, int status)
{
    if (run->json != NULL) {
        fprintf(run->json, "%s{\"action\":\"%s\",\"kind\":\"%s\","
                "\"service\":",
                run->action_count > 0 ? "," : "", action, kind);
        cmd_json_string(run->json, service);
        fputs(",\"var\":", run->json);
        cmd_json_string(run->json, var);
        fprintf(run->json, ",\"exit\":%d}", status);
    }
    run->action_count++;
    if (status != 0 && run->status == 0) {
        run->status = status;
    }
}

static void add_restart(struct rotate_run *run, char *const *services,
                        size_t count)
{
    size_t i;
    size_t j;

    for (i = 0; i < count; i++) {
        for (j = 0; j < run->restart_count; j++) {
            if (strcmp(run->restart[j], services[i]) == 0) {
                break;
            }
        }
        if (j == run->restart_count && j < ROTATE_RESTART_MAX) {
            run->restart[j] = strdup(services[i]);
            run->restart_count += run->restart[j] != NULL;
        }
    }
}

static void print_notices(const struct rotarr_buf *notices)
{
    const char *line = notices->data;
    const char *end;

    while (line != NULL && *line != '\0') {
        end = strchr(line, '\n');
        if (end == NULL) {
            end = line + strlen(line);
        }
        cmd_notice("%.*s", (int)(end - line), line);
        line = *end != '\0' ? end + 1 : end;
    }
}

/* Returns the kind of the pending journal in kind, "" when none. */
static int journal_kind(char *kind, size_t size, struct rotarr_error *err)
{
    struct rotarr_journal *journal = NULL;
    int found = rotarr_journal_load(cmd_globals.dir, cmd_stack_keyring(),
                                    &journal, err);

    kind[0] = '\0';
    if (found == 1) {
        snprintf(kind, size, "%s", rotarr_journal_kind(journal));
    }
    rotarr_journal_free(journal);
    return found < 0 ? -1 : 0;
}

static int resume_redis(struct rotate_run *run,
                        const struct rotarr_stack_options *opts)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_redisrot_plan plan = ROTARR_REDISROT_PLAN_INIT;
    int status = ROTARR_OK;

    if (rotarr_redisrot_resume(opts, &plan, &err) < 0) {
        status = cmd_report(&err);
    } else {
        print_notices(&plan.notices);
        add_restart(run, plan.restart, plan.restart_count);
        cmd_notice("resumed the redis rotation of service '%s'",
                   plan.service);
    }
    note_action(run, "resume", "redis", plan.service, plan.var, status);
    rotarr_redisrot_plan_release(&plan);
    return status;
}

static int resume_postgres(struct rotate_run *run,
                           const struct rotarr_stack_options *opts)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_pgrot_plan plan = ROTARR_PGROT_PLAN_INIT;
    int status = ROTARR_OK;

    if (rotarr_pgrot_resume(opts, &plan, &err) < 0) {
        status = cmd_report(&err);
    } else {
        print_notices(&plan.notices);
        add_restart(run, plan.restart, plan.restart_count);
        cmd_notice("resumed the postgres rotation of role '%s' of service "
                   "'%s'",
                   plan.role, plan.service);
    }
    note_action(run, "resume", "postgres", plan.service, plan.var, status);
    rotarr_pgrot_plan_release(&plan);
    return status;
}

/* Finishes a rotation that an earlier run left; returns the status. */
static int resume_pending(struct rotate_run *run)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_stack_options opts;
    char kind[ROTARR_JOURNAL_KEY_MAX + 1];

    if (journal_kind(kind, sizeof(kind), &err) < 0) {
        return cmd_report(&err);
    }
    if (kind[0] == '\0') {
        return ROTARR_OK;
    }
    cmd_notice("found a %s rotation that stopped part-way; resuming it",
               kind);
    cmd_stack_options(&opts);
    if (strcmp(kind, "redis") == 0) {
        return resume_redis(run, &opts);
    }
    return resume_postgres(run, &opts);
}

static int rotate_postgres(struct rotate_run *run,
                           const struct rotarr_stack *stack,
                           const struct rotarr_managed *item)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_pgrot_request req;
    struct rotarr_pgrot_plan plan = ROTARR_PGROT_PLAN_INIT;
    int status = ROTARR_OK;

    memset(&req, 0, sizeof(req));
    req.service = item->service;
    if (rotarr_pgrot_plan(stack, &req, &plan, &err) < 0 ||
        rotarr_pgrot_run(stack, &req, &plan, &err) < 0) {
        status = cmd_report(&err);
    } else {
        print_notices(&plan.notices);
        add_restart(run, plan.restart, plan.restart_count);
        cmd_notice("rotated the password of role '%s' of postgres service "
                   "'%s' (%s)",
                   plan.role, item->service, item->var);
    }
    rotarr_pgrot_plan_release(&plan);
    return status;
}

static int rotate_redis(struct rotate_run *run,
                        const struct rotarr_stack *stack,
                        const struct rotarr_managed *item)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_redisrot_request req;
    struct rotarr_redisrot_plan plan = ROTARR_REDISROT_PLAN_INIT;
    int status = ROTARR_OK;

    memset(&req, 0, sizeof(req));
    req.service = item->service;
    /* A scheduled run has no operator to recreate the clients and run
     * '--finish' after an overlap, so it replaces the password at once. */
    req.overlap = 0;
    if (rotarr_redisrot_plan(stack, &req, &plan, &err) < 0 ||
        rotarr_redisrot_run(stack, &req, &plan, &err) < 0) {
        status = cmd_report(&err);
    } else {
        print_notices(&plan.notices);
        add_restart(run, plan.restart, plan.restart_count);
        cmd_notice("rotated the password of redis service '%s' (%s)",
                   item->service, item->var);
    }
    rotarr_redisrot_plan_release(&plan);
    return status;
}

/*
 * Rotates one due secret.  The stack is loaded again for each secret,
 * because the previous rotation may have rewritten the same files.
 */
static int rotate_item(struct rotate_run *run,
                       const struct rotarr_managed *item)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    const char *kind = rotarr_managed_kind_name(item->kind);
    struct rotarr_stack *stack;
    int status;

    if (item->warnings & ROTARR_WARN_PLAN) {
        cmd_error("cannot rotate %s service '%s': %s", kind, item->service,
                  item->plan_error);
        status = (int)item->plan_code;
    } else if ((stack = cmd_load_stack(&err)) == NULL) {
        status = cmd_report(&err);
    } else {
        status = item->kind == ROTARR_MANAGED_POSTGRES
                     ? rotate_postgres(run, stack, item)
                     : rotate_redis(run, stack, item);
        rotarr_stack_free(stack);
    }
    note_action(run, "rotate", kind, item->service, item->var, status);
    return status;
}

static void log_skip(const struct rotarr_schedule *schedule,
                     const struct rotarr_managed *item)
{
    if (cmd_globals.verbosity > 0) {
        cmd_notice("%s service '%s' (%s) is %lld days old; not due yet",
                   rotarr_managed_kind_name(item->kind), item->service,
                   item->var,
                   (long long)((schedule->now - item->rotated) / 86400));
    }
}

/* Rotates what is due; stops at a rotation left part-way (exit 6). */
static void rotate_due(struct rotate_run *run,
                       const struct rotarr_schedule *schedule)
{
    const struct rotarr_managed *item;
    size_t i;
    int status;

    for (i = 0; i < schedule->count; i++) {
        item = &schedule->items[i];
        if (!item->is_due) {
            log_skip(schedule, item);
            note_action(run, "skip", rotarr_managed_kind_name(item->kind),
                        item->service, item->var, 0);
            continue;
        }
        if (cmd_globals.dry_run) {
            cmd_notice("would rotate %s service '%s' (%s)",
                       rotarr_managed_kind_name(item->kind), item->service,
                       item->var);
            note_action(run, "would-rotate",
                        rotarr_managed_kind_name(item->kind), item->service,
                        item->var, 0);
            continue;
        }
        status = rotate_item(run, item);
        if (status == ROTARR_EPARTIAL) {
            return;
        }
    }
}

static int load_schedule(const struct rotate_options *o,
                         struct rotarr_schedule *schedule)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_stack *stack = cmd_load_stack(&err);
    int status = ROTARR_OK;

    if (stack == NULL ||
        rotarr_schedule_load(stack, o->only, o->max_age, schedule, &err) <
            0) {
        status = cmd_report(&err);
    }
    rotarr_stack_free(stack);
    return status;
}

static void finish_restart(struct rotate_run *run, int restart)
{
    int status;

    if (run->restart_count == 0) {
        return;
    }
    if (!restart) {
        if (!cmd_globals.json) {
            printf("recreate the services that read a new password:\n  ");
            cmd_print_compose_up(stdout, run->restart, run->restart_count);
        }
        return;
    }
    status = cmd_restart_services(run->restart, run->restart_count);
    if (status != 0 && run->status == 0) {
        run->status = status;
    }
}

static void print_summary(struct rotate_run *run)
{
    size_t i;

    if (!cmd_globals.json) {
        return;
    }
    if (run->json != NULL) {
        fclose(run->json);
        run->json = NULL;
    }
    printf("{\"actions\":[%s],\"restart\":[",
           run->json_text != NULL ? run->json_text : "");
    for (i = 0; i < run->restart_count; i++) {
        printf("%s", i > 0 ? "," : "");
        cmd_json_string(stdout, run->restart[i]);
    }
    printf("],\"exit\":%d}\n", run->status);
}

static void run_release(struct rotate_run *run)
{
    size_t i;

    if (run->json != NULL) {
        fclose(run->json);
    }
    free(run->json_text);
    for (i = 0; i < run->restart_count; i++) {
        free(run->restart[i]);
    }
}

static int run_locked(const struct rotate_options *o, struct rotate_run *run)
{
    struct rotarr_schedule schedule = ROTARR_SCHEDULE_INIT;
    int status = ROTARR_OK;

    if (!cmd_globals.dry_run) {
        status = resume_pending(run);
    }
    if (status == ROTARR_OK) {
        status = load_schedule(o, &schedule);
    }
    if (status == ROTARR_OK) {
        rotate_due(run, &schedule);
        finish_restart(run, o->restart && !cmd_globals.dry_run);
    } else if (run->status == 0) {
        run->status = status;
    }
    rotarr_schedule_release(&schedule);
    return run->status;
}

int cmd_rotate(int argc, char **argv)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotate_options o = { ROTARR_SCHEDULE_MAX_AGE_DEFAULT,
                                ROTARR_SCHEDULE_ALL, 0 };
    struct rotate_run run;
    struct rotarr_schedule_lock *lock = NULL;
    int status;

    status = parse_options(argc, argv, &o);
    if (status != 0) {
        return status < 0 ? ROTARR_OK : status;
    }
    memset(&run, 0, sizeof(run));
    if (cmd_globals.json) {
        run.json = open_memstream(&run.json_text, &run.json_len);
    }
    if (!cmd_globals.dry_run) {
        lock = rotarr_schedule_lock_acquire(cmd_globals.dir, &err);
        if (lock == NULL) {
            run.status = cmd_report(&err);
        }
    }
    if (run.status == 0) {
        run_locked(&o, &run);
    }
    status = run.status;
    print_summary(&run);
    rotarr_schedule_lock_release(lock);
    run_release(&run);
    return status;
}
