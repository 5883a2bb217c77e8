#include "rotarr/compat.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "rotarr/schedule.h"

#define STATUS_HELP                                                          \
    "\n"                                                                     \
    "Lists each managed secret (the password of a Postgres service, or of a\n" \
    "Redis service that has one), its service, age and next due date, and\n" \
    "warnings.  Exit status 1 when a secret is due or a rotation stopped\n"  \
    "part-way, 0 otherwise.\n"                                               \
    "\n"                                                                     \
    "  --max-age <duration>  age at which a secret is due, such as 90d, 12h\n" \
    "                        or 2w; a bare number is days (default: 90d)\n"  \
    "  --only <kind>         list only postgres or only redis secrets\n"     \
    "  --offline             do not log in to Postgres to look for an md5\n" \
    "                        password hash\n"

/* Room for "YYYY-MM-DDTHH:MM:SSZ" and a NUL. */
#define STATUS_TIME_TEXT_MAX 32

enum {
    OPT_MAX_AGE = CMD_OPT_FIRST_VERB_OPTION,
    OPT_ONLY,
    OPT_OFFLINE,
};

static const struct option longopts[] = {
    CMD_GLOBAL_LONGOPTS,
    { "max-age", required_argument, NULL, OPT_MAX_AGE },
    { "only", required_argument, NULL, OPT_ONLY },
    { "offline", no_argument, NULL, OPT_OFFLINE },
    { NULL, 0, NULL, 0 },
};

struct status_options {
    long max_age;
    unsigned only;
    int offline;
};

static int parse_only(const char *arg, unsigned *only)
{
    if (strcmp(arg, "postgres") == 0) {
        *only = ROTARR_SCHEDULE_ONLY_POSTGRES;
    } else if (strcmp(arg, "redis") == 0) {
        *only = ROTARR_SCHEDULE_ONLY_REDIS;
    } else {
        return cmd_usage_error(STATUS_SYNOPSIS,
                               "invalid kind '%s' for '--only'; give "
                               "'postgres' or 'redis'",
                               arg);
    }
    return 0;
}

static int set_option(struct status_options *o, int opt, const char *arg)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;

    switch (opt) {
    case OPT_MAX_AGE:
        if (rotarr_parse_duration(arg, &o->max_age, &err) < 0) {
            return cmd_usage_error(STATUS_SYNOPSIS, "%s", err.msg);
        }
        return 0;
    case OPT_ONLY:
        return parse_only(arg, &o->only);
    case OPT_OFFLINE:
        o->offline = 1;
        return 0;
    }
    return 0;
}

static int parse_options(int argc, char **argv, struct status_options *o)
{
    int opt;
    int handled;

    while ((opt = getopt_long(argc, argv, CMD_GLOBAL_SHORTOPTS, longopts,
                              NULL)) != -1) {
        if (opt == CMD_OPT_HELP) {
            cmd_print_usage(stdout, STATUS_SYNOPSIS);
            fputs(STATUS_HELP, stdout);
            return -1;
        }
        if (opt >= CMD_OPT_FIRST_VERB_OPTION) {
            if (set_option(o, opt, optarg) != 0) {
                return ROTARR_EUSAGE;
            }
            continue;
        }
        handled = cmd_global_option(opt, optarg, STATUS_SYNOPSIS);
        if (handled < 0) {
            return ROTARR_EUSAGE;
        }
        if (handled == 0) {
            return cmd_usage_error(STATUS_SYNOPSIS, "unknown option '%s'",
                                   argv[optind - 1]);
        }
    }
    if (optind < argc) {
        return cmd_usage_error(STATUS_SYNOPSIS, "unexpected argument '%s'",
                               argv[optind]);
    }
    return 0;
}

/* Formats when as an ISO 8601 UTC time, or its date alone. */
static void format_time(time_t when, int date_only,
                        char text[STATUS_TIME_TEXT_MAX])
{
    struct tm tm;

    if (gmtime_r(&when, &tm) == NULL ||
        strftime(text, STATUS_TIME_TEXT_MAX,
                 date_only ? "%Y-%m-%d" : "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
        snprintf(text, STATUS_TIME_TEXT_MAX, "?");
    }
}

static const char *const warning_names[] = {
    "md5-password", "readable-file", "cannot-plan", "cannot-log-in",
};

static void print_json_warnings(const struct rotarr_managed *item)
{
    size_t i;
    int first = 1;

    printf("\"warnings\":[");
    for (i = 0; i < sizeof(warning_names) / sizeof(warning_names[0]); i++) {
        if (item->warnings & (1u << i)) {
            printf("%s\"%s\"", first ? "" : ",", warning_names[i]);
            first = 0;
        }
    }
    printf("],\"plan_error\":");
    if (item->warnings & ROTARR_WARN_PLAN) {
        cmd_json_string(stdout, item->plan_error);
    } else {
        printf("null");
    }
    printf(",\"login_error\":");
    if (item->warnings & ROTARR_WARN_LOGIN) {
        cmd_json_string(stdout, item->login_error);
    } else {
        printf("null");
    }
}

static void print_json_item(const struct rotarr_schedule *schedule,
                            const struct rotarr_managed *item)
{
    char text[STATUS_TIME_TEXT_MAX];

    printf("{\"kind\":\"%s\",\"service\":",
           rotarr_managed_kind_name(item->kind));
    cmd_json_string(stdout, item->service);
    printf(",\"var\":");
    cmd_json_string(stdout, item->var);
    printf(",\"source\":");
    cmd_json_string(stdout, item->source);
    if (item->recorded) {
        format_time(item->rotated, 0, text);
        printf(",\"rotated\":\"%s\",\"age_days\":%lld", text,
               (long long)((schedule->now - item->rotated) / 86400));
    } else {
        printf(",\"rotated\":null,\"age_days\":null");
    }
    format_time(item->due, 0, text);
    printf(",\"due\":\"%s\",\"is_due\":%s,", text,
           item->is_due ? "true" : "false");
    print_json_warnings(item);
    printf("}");
}

static void print_json(const struct rotarr_schedule *schedule)
{
    char text[STATUS_TIME_TEXT_MAX];
    size_t i;

    format_time(schedule->now, 0, text);
    printf("{\"now\":\"%s\",\"max_age_seconds\":%ld,\"journal_pending\":%s,"
           "\"journal_kind\":",
           text, schedule->max_age,
           schedule->journal_pending ? "true" : "false");
    if (schedule->journal_kind[0] != '\0') {
        cmd_json_string(stdout, schedule->journal_kind);
    } else {
        printf("null");
    }
    printf(",\"secrets\":[");
    for (i = 0; i < schedule->count; i++) {
        printf("%s", i > 0 ? "," : "");
        print_json_item(schedule, &schedule->items[i]);
    }
    printf("]}\n");
}

static void print_text_warnings(const struct rotarr_managed *item)
{
    const char *kind = rotarr_managed_kind_name(item->kind);

    if (item->warnings & ROTARR_WARN_MD5) {
        printf("  warning: %s '%s': the role's password is an md5 hash; "
               "the next rotation stores a SCRAM verifier\n",
               kind, item->service);
    }
    if (item->warnings & ROTARR_WARN_READABLE) {
        printf("  warning: %s '%s': a file with the password is open to "
               "group or others; the next rotation makes it 0600\n",
               kind, item->service);
    }
    if (item->warnings & ROTARR_WARN_PLAN) {
        printf("  warning: %s '%s': cannot be rotated: ", kind,
               item->service);
        cmd_fputs_safe(item->plan_error, stdout);
        putchar('\n');
    }
    if (item->warnings & ROTARR_WARN_LOGIN) {
        printf("  warning: %s '%s': ", kind, item->service);
        cmd_fputs_safe(item->login_error, stdout);
        putchar('\n');
    }
}

static void print_text_item(const struct rotarr_schedule *schedule,
                            const struct rotarr_managed *item)
{
    char due[STATUS_TIME_TEXT_MAX];
    char age[32];

    if (item->recorded) {
        snprintf(age, sizeof(age), "%lldd",
                 (long long)((schedule->now - item->rotated) / 86400));
    } else {
        snprintf(age, sizeof(age), "never");
    }
    format_time(item->due, 1, due);
    printf("%-9s %-16s %-24s %-6s %-10s %s\n",
           rotarr_managed_kind_name(item->kind), item->service,
           item->var[0] != '\0' ? item->var : "-", age, due,
           item->is_due ? "due" : "ok");
    print_text_warnings(item);
}

static void print_text(const struct rotarr_schedule *schedule)
{
    size_t i;

    if (schedule->journal_pending) {
        printf("pending: a %s rotation stopped part-way; run 'rotarr "
               "resume'\n",
               schedule->journal_kind[0] != '\0' ? schedule->journal_kind
                                                 : "(unreadable)");
    }
    if (schedule->count == 0) {
        printf("no managed secrets: no Postgres service, and no Redis "
               "service with a password\n");
        return;
    }
    printf("%-9s %-16s %-24s %-6s %-10s %s\n", "KIND", "SERVICE",
           "VARIABLE", "AGE", "DUE", "STATE");
    for (i = 0; i < schedule->count; i++) {
        print_text_item(schedule, &schedule->items[i]);
    }
}

static int answer(const struct rotarr_schedule *schedule)
{
    size_t i;

    if (schedule->journal_pending) {
        return ROTARR_NO;
    }
    for (i = 0; i < schedule->count; i++) {
        if (schedule->items[i].is_due) {
            return ROTARR_NO;
        }
    }
    return ROTARR_OK;
}

int cmd_status(int argc, char **argv)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_schedule schedule = ROTARR_SCHEDULE_INIT;
    struct status_options o = { ROTARR_SCHEDULE_MAX_AGE_DEFAULT,
                                ROTARR_SCHEDULE_ALL, 0 };
    struct rotarr_stack *stack;
    size_t i;
    int status;

    status = parse_options(argc, argv, &o);
    if (status != 0) {
        return status < 0 ? ROTARR_OK : status;
    }
    stack = cmd_load_stack(&err);
    if (stack == NULL ||
        rotarr_schedule_load(stack, o.only, o.max_age, &schedule, &err) < 0) {
        status = cmd_report(&err);
        goto out;
    }
    for (i = 0; !o.offline && i < schedule.count; i++) {
        rotarr_schedule_probe(stack, &schedule.items[i]);
    }
    if (cmd_globals.json) {
        print_json(&schedule);
    } else {
        print_text(&schedule);
    }
    status = answer(&schedule);

out:
    rotarr_schedule_release(&schedule);
    rotarr_stack_free(stack);
    return status;
}
