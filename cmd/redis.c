#include "rotarr/compat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "rotarr/redisrot.h"

#define REDIS_HELP                                                           \
    "\n"                                                                     \
    "Turns on authentication for an open Redis or Valkey service, or gives\n" \
    "a protected one a new password, and fixes every client: URLs,\n"      \
    "password variables, REDISCLI_AUTH and a healthcheck that proves\n"    \
    "authentication.\n"                                                    \
    "\n"                                                                     \
    "  --service <name>   the Redis service (default: the only one)\n"       \
    "  --var <name>       variable for the password (default: the one the\n" \
    "                     server reads, else REDIS_PASSWORD)\n"             \
    "  --host <host>, --port <port>\n"                                       \
    "                     where to connect (default: the service's\n"       \
    "                     published port for 6379)\n"                       \
    "  --enable           on a protected service, keep its password and\n" \
    "                     fix only the files that lack it\n"               \
    "  --overlap          keep the old password working until --finish\n"  \
    "                     (default when the server runs Redis 6 or later)\n" \
    "  --no-overlap       replace the password at once (CONFIG SET)\n"      \
    "  --finish           drop every password but the files' one\n"         \
    "  --offline          the stack is stopped: change the files only\n"    \
    "  --restart          run 'docker compose up -d --no-deps' for the\n"   \
    "                     services that read the password\n"                 \
    "  --show             print the new password on standard output\n"

enum {
    OPT_SERVICE = CMD_OPT_FIRST_VERB_OPTION,
    OPT_VAR,
    OPT_HOST,
    OPT_PORT,
    OPT_ENABLE,
    OPT_OVERLAP,
    OPT_NO_OVERLAP,
    OPT_FINISH,
    OPT_OFFLINE,
    OPT_RESTART,
    OPT_SHOW,
    OPT_LAST,
};

static const struct option longopts[] = {
    CMD_GLOBAL_LONGOPTS,
    { "service", required_argument, NULL, OPT_SERVICE },
    { "var", required_argument, NULL, OPT_VAR },
    { "host", required_argument, NULL, OPT_HOST },
    { "port", required_argument, NULL, OPT_PORT },
    { "enable", no_argument, NULL, OPT_ENABLE },
    { "overlap", no_argument, NULL, OPT_OVERLAP },
    { "no-overlap", no_argument, NULL, OPT_NO_OVERLAP },
    { "finish", no_argument, NULL, OPT_FINISH },
    { "offline", no_argument, NULL, OPT_OFFLINE },
    { "restart", no_argument, NULL, OPT_RESTART },
    { "show", no_argument, NULL, OPT_SHOW },
    { NULL, 0, NULL, 0 },
};

struct redis_options {
    struct rotarr_redisrot_request req;
    int seen[OPT_LAST - CMD_OPT_FIRST_VERB_OPTION];
    int restart;
    int show;
};

static int set_option(void *ctx, int opt, const char *arg)
{
    struct redis_options *o = ctx;

    switch (opt) {
    case OPT_SERVICE: o->req.service = arg; break;
    case OPT_VAR: o->req.var = arg; break;
    case OPT_HOST: o->req.host = arg; break;
    case OPT_PORT:
        o->req.port = cmd_parse_port(arg);
        if (o->req.port <= 0) {
            return cmd_usage_error(REDIS_SYNOPSIS,
                                   "invalid port '%s'; give a number from 1 "
                                   "to 65535",
                                   arg);
        }
        break;
    case OPT_ENABLE: o->req.enable = 1; break;
    case OPT_OVERLAP: o->req.overlap = 1; break;
    case OPT_NO_OVERLAP: o->req.overlap = 0; break;
    case OPT_FINISH: o->req.finish = 1; break;
    case OPT_OFFLINE: o->req.offline = 1; break;
    case OPT_RESTART: o->restart = 1; break;
    case OPT_SHOW: o->show = 1; break;
    }
    return 0;
}

static int check_conflicts(const struct redis_options *o)
{
    const int *seen = o->seen;

    if (seen[OPT_OVERLAP - OPT_SERVICE] &&
        seen[OPT_NO_OVERLAP - OPT_SERVICE]) {
        return cmd_usage_error(REDIS_SYNOPSIS, "'--overlap' and "
                                               "'--no-overlap' exclude each "
                                               "other");
    }
    if (o->req.finish && (o->req.enable || o->req.offline ||
                          seen[OPT_OVERLAP - OPT_SERVICE] ||
                          seen[OPT_NO_OVERLAP - OPT_SERVICE] || o->show)) {
        return cmd_usage_error(REDIS_SYNOPSIS,
                               "'--finish' talks to the live server and "
                               "changes no file; it takes none of "
                               "'--enable', '--offline', '--overlap', "
                               "'--no-overlap' or '--show'");
    }
    if (o->req.offline && o->req.overlap == 1) {
        return cmd_usage_error(REDIS_SYNOPSIS,
                               "'--offline' changes no live server, so "
                               "there is nothing to overlap");
    }
    if (o->req.finish && cmd_globals.dry_run) {
        return cmd_usage_error(REDIS_SYNOPSIS, "'--finish' has no dry run");
    }
    return 0;
}

static int parse_options(int argc, char **argv, struct redis_options *o)
{
    const struct cmd_verb_options verb = {
        longopts, REDIS_SYNOPSIS,  REDIS_HELP, OPT_LAST,
        o->seen,  set_option, o,
    };
    int status = cmd_parse_options(argc, argv, &verb);

    return status != 0 ? status : check_conflicts(o);
}

static size_t line_begin(const char *bytes, size_t off)
{
    while (off > 0 && bytes[off - 1] != '\n') {
        off--;
    }
    return off;
}

static size_t line_after(const char *bytes, size_t len, size_t off)
{
    const char *nl = off < len ? memchr(bytes + off, '\n', len - off) : NULL;

    return nl != NULL ? (size_t)(nl - bytes) + 1 : len;
}

static size_t line_number(const char *bytes, size_t off)
{
    size_t line = 1;
    size_t i;

    for (i = 0; i < off; i++) {
        line += bytes[i] == '\n';
    }
    return line;
}

/*
 * Prints the lines of [from, to) of bytes, each with prefix.
 * NEEDSWORK: only the plain and percent-encoded forms of the passwords
 * are masked; a password kept from the files that YAML, Compose ("$$")
 * or a config file had to escape shows in the diff of a dry run.
 * Generated passwords never need escaping.
 */
static void print_lines(const char *prefix, const char *bytes, size_t from,
                        size_t to, const struct rotarr_redisrot_plan *plan)
{
    const struct rotarr_secret *secrets[2] = { plan->current, plan->next };
    size_t end;
    size_t len;

    while (from < to) {
        end = line_after(bytes, to, from);
        len = end - from;
        if (len > 0 && bytes[from + len - 1] == '\n') {
            len--;
        }
        if (len > 0 && bytes[from + len - 1] == '\r') {
            len--;
        }
        cmd_print_masked(prefix, bytes + from, len, secrets, 2);
        from = end;
    }
}

static int compare_edits(const void *pa, const void *pb)
{
    const struct rotarr_text_edit *a =
        *(const struct rotarr_text_edit *const *)pa;
    const struct rotarr_text_edit *b =
        *(const struct rotarr_text_edit *const *)pb;

    return a->start < b->start ? -1 : a->start > b->start;
}

/* Returns where the new file has the byte that was at off before. */
static size_t new_offset(const struct rotarr_redis_file *file, size_t off)
{
    size_t shifted = off;
    size_t i;

    for (i = 0; i < file->edits.count; i++) {
        if (file->edits.items[i].end <= off &&
            !(file->edits.items[i].start == off &&
              file->edits.items[i].end == off)) {
            shifted += file->edits.items[i].len;
            shifted -= file->edits.items[i].end - file->edits.items[i].start;
        }
    }
    return shifted;
}

/* Prints one hunk: the whole old and new lines that the edits
 * group[0..count) touch. */
static void print_hunk(const struct rotarr_redis_file *file,
                       const struct rotarr_text_edit *const *group,
                       size_t count, size_t end,
                       const struct rotarr_redisrot_plan *plan)
{
    size_t start = group[0]->start;
    size_t old_from = line_begin(file->old_bytes, start);
    size_t old_to = start == end && start == old_from
                        ? start
                        : line_after(file->old_bytes, file->old_len,
                                     end > start ? end - 1 : end);
    size_t new_from = new_offset(file, old_from);
    size_t new_to = new_from + (old_to - old_from);
    size_t i;

    for (i = 0; i < count; i++) {
        new_to += group[i]->len;
        new_to -= group[i]->end - group[i]->start;
    }
    printf("@@ line %zu @@\n", line_number(file->old_bytes, old_from));
    print_lines("-", file->old_bytes, old_from, old_to, plan);
    print_lines("+", file->bytes.data, new_from, new_to, plan);
}

static void print_file_diff(const struct rotarr_redis_file *file,
                            const struct rotarr_redisrot_plan *plan)
{
    const struct rotarr_text_edit **sorted;
    size_t first;
    size_t i;
    size_t end;

    sorted = calloc(file->edits.count, sizeof(*sorted));
    if (sorted == NULL) {
        return;
    }
    for (i = 0; i < file->edits.count; i++) {
        sorted[i] = &file->edits.items[i];
    }
    qsort(sorted, file->edits.count, sizeof(*sorted), compare_edits);
    printf("--- %s\n+++ %s\n", file->create ? "/dev/null" : file->display,
           file->display);
    for (first = 0; first < file->edits.count; first = i) {
        end = sorted[first]->end;
        for (i = first + 1; i < file->edits.count &&
                            line_begin(file->old_bytes, sorted[i]->start) <
                                line_after(file->old_bytes, file->old_len,
                                           end);
             i++) {
            end = sorted[i]->end > end ? sorted[i]->end : end;
        }
        print_hunk(file, sorted + first, i - first, end, plan);
    }
    free(sorted);
}

static const char *mode_phrase(const struct rotarr_redisrot_plan *plan)
{
    switch (plan->mode) {
    case ROTARR_REDIS_ENABLE:
        return "turn on authentication for";
    case ROTARR_REDIS_FIX:
        return "keep the password of";
    case ROTARR_REDIS_OVERLAP:
        return "rotate, with overlap, the password of";
    case ROTARR_REDIS_REPLACE:
        return "rotate the password of";
    case ROTARR_REDIS_FINISH:
        return "end the overlap of";
    }
    return "?";
}

static void print_clients(const struct rotarr_redisrot_plan *plan)
{
    size_t i;

    printf("clients:%s\n", plan->client_count == 0 ? " none" : "");
    for (i = 0; i < plan->client_count; i++) {
        printf("  %s  %s%s\n", plan->clients[i].service,
               plan->clients[i].configured ? "" : "cannot be configured: ",
               plan->clients[i].how);
    }
}

static void print_plan(const struct rotarr_redisrot_plan *plan)
{
    size_t i;

    printf("plan: %s service '%s' (%s) at %s", mode_phrase(plan),
           plan->service, plan->image, plan->host);
    if (plan->port > 0) {
        printf(":%d", plan->port);
    }
    printf("\n");
    if (plan->var[0] != '\0') {
        printf("password: %s (%s)\n", plan->var,
               plan->source[0] != '\0' ? plan->source : "new");
    } else {
        printf("password: a literal value (%s)\n", plan->source);
    }
    print_clients(plan);
    printf("changes:%s\n", plan->change_count == 0 ? " none" : "");
    for (i = 0; i < plan->change_count; i++) {
        printf("  ");
        cmd_fputs_safe(plan->changes[i], stdout);
        printf("\n");
    }
    for (i = 0; i < plan->file_count; i++) {
        if (plan->files[i].edits.count > 0) {
            print_file_diff(&plan->files[i], plan);
        }
    }
}

static void print_json_lists(const struct rotarr_redisrot_plan *plan)
{
    const char *sep = "";
    size_t i;
    size_t j;

    printf(",\"clients\":[");
    for (i = 0; i < plan->client_count; i++) {
        printf("%s{\"service\":", i > 0 ? "," : "");
        cmd_json_string(stdout, plan->clients[i].service);
        printf(",\"how\":");
        cmd_json_string(stdout, plan->clients[i].how);
        printf(",\"configured\":%s}",
               plan->clients[i].configured ? "true" : "false");
    }
    printf("],\"changes\":[");
    for (i = 0; i < plan->change_count; i++) {
        printf("%s", i > 0 ? "," : "");
        cmd_json_string(stdout, plan->changes[i]);
    }
    printf("],\"changed\":[");
    for (i = 0; i < plan->file_count; i++) {
        for (j = 0; j < plan->files[i].changed_line_count; j++) {
            printf("%s{\"file\":", sep);
            cmd_json_string(stdout, plan->files[i].display);
            printf(",\"line\":%zu}", plan->files[i].changed_lines[j]);
            sep = ",";
        }
    }
    printf("],\"restart\":[");
    for (i = 0; i < plan->restart_count; i++) {
        printf("%s", i > 0 ? "," : "");
        cmd_json_string(stdout, plan->restart[i]);
    }
    printf("]");
}

static void print_json(const struct rotarr_redisrot_plan *plan)
{
    printf("{\"service\":");
    cmd_json_string(stdout, plan->service);
    printf(",\"mode\":\"%s\",\"var\":", rotarr_redis_mode_name(plan->mode));
    cmd_json_string(stdout, plan->var);
    printf(",\"dry_run\":%s,\"live\":%s",
           cmd_globals.dry_run ? "true" : "false",
           plan->live ? "true" : "false");
    print_json_lists(plan);
    printf("}\n");
}

static int changed_any(const struct rotarr_redisrot_plan *plan)
{
    size_t i;

    for (i = 0; i < plan->file_count; i++) {
        if (plan->files[i].edits.count > 0) {
            return 1;
        }
    }
    return 0;
}

static void print_outcome(const struct rotarr_redisrot_plan *plan)
{
    if (plan->mode == ROTARR_REDIS_FINISH) {
        printf("service '%s' at %s:%d accepts only the files' password now\n",
               plan->service, plan->host, plan->port);
    } else if (plan->mode == ROTARR_REDIS_FIX && !changed_any(plan) &&
               !plan->live) {
        printf("service '%s' is protected and up to date; nothing changed\n",
               plan->service);
    } else if (!plan->live) {
        printf("service '%s': the files hold its password; the server "
               "takes it when it next starts\n",
               plan->service);
    } else if (plan->mode == ROTARR_REDIS_OVERLAP) {
        printf("service '%s' at %s:%d has a new password; the old one keeps "
               "working until 'rotarr redis --finish'\n",
               plan->service, plan->host, plan->port);
    } else {
        printf("service '%s' at %s:%d %s\n", plan->service, plan->host,
               plan->port,
               plan->mode == ROTARR_REDIS_ENABLE ? "now requires a password"
                                                 : "has a new password");
    }
    if (plan->config_rewritten) {
        printf("CONFIG REWRITE saved it in the server's config file\n");
    }
}

static void print_text(const struct rotarr_redisrot_plan *plan)
{
    size_t i;
    size_t j;

    print_outcome(plan);
    for (i = 0; i < plan->file_count; i++) {
        for (j = 0; j < plan->files[i].changed_line_count; j++) {
            printf("changed %s:%zu\n", plan->files[i].display,
                   plan->files[i].changed_lines[j]);
        }
    }
    if (plan->client_count > 0 && plan->mode != ROTARR_REDIS_FINISH) {
        print_clients(plan);
    }
}

static int report(const struct rotarr_redisrot_plan *plan, int show,
                  int restart)
{
    if (plan->notices.data != NULL) {
        fputs(plan->notices.data, stderr);
    }
    if (cmd_globals.json) {
        print_json(plan);
        return ROTARR_OK;
    }
    if (cmd_globals.dry_run) {
        print_plan(plan);
    } else {
        print_text(plan);
    }
    if (show && !cmd_globals.dry_run && plan->mode != ROTARR_REDIS_FINISH) {
        printf("%s\n", rotarr_secret_data(plan->next));
    }
    if (plan->restart_count == 0 || plan->mode == ROTARR_REDIS_FINISH ||
        (!changed_any(plan) && !plan->live)) {
        return ROTARR_OK;
    }
    printf(cmd_globals.dry_run ? "then recreate the services that read it:\n  "
                               : "recreate the services that read it:\n  ");
    cmd_print_compose_up(stdout, plan->restart, plan->restart_count);
    if (plan->mode == ROTARR_REDIS_OVERLAP && plan->live) {
        printf("then run 'rotarr redis --finish' to drop the old password\n");
    }
    if (restart && !cmd_globals.dry_run) {
        return cmd_restart_services(plan->restart, plan->restart_count);
    }
    return ROTARR_OK;
}

static int run(struct redis_options *o)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_redisrot_plan plan = ROTARR_REDISROT_PLAN_INIT;
    struct rotarr_stack *stack;
    int status = ROTARR_OK;

    o->req.dry_run = cmd_globals.dry_run;
    stack = cmd_load_stack(&err);
    if (stack == NULL ||
        rotarr_redisrot_plan(stack, &o->req, &plan, &err) < 0) {
        status = cmd_report(&err);
        goto out;
    }
    if (rotarr_redisrot_run(stack, &o->req, &plan, &err) < 0) {
        if (cmd_globals.dry_run && err.code == ROTARR_NO) {
            report(&plan, 0, 0);
        }
        status = cmd_report(&err);
        goto out;
    }
    status = report(&plan, o->show, o->restart);

out:
    rotarr_redisrot_plan_release(&plan);
    rotarr_stack_free(stack);
    return status;
}

int cmd_resume_redis(const struct rotarr_stack_options *opts)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_redisrot_plan plan = ROTARR_REDISROT_PLAN_INIT;
    int found;
    int status;

    found = rotarr_redisrot_resume(opts, &plan, &err);
    if (found < 0) {
        status = cmd_report(&err);
    } else if (found == 0) {
        status = -1;
    } else {
        status = report(&plan, 0, 0);
    }
    rotarr_redisrot_plan_release(&plan);
    return status;
}

int cmd_redis(int argc, char **argv)
{
    struct redis_options o;
    int status;

    memset(&o, 0, sizeof(o));
    o.req.overlap = -1;
    status = parse_options(argc, argv, &o);
    if (status != 0) {
        return status < 0 ? ROTARR_OK : status;
    }
    return run(&o);
}
