#include "rotarr/compat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "rotarr/arrkey.h"

#define ARR_KEY_HELP                                                      \
    "\n"                                                                  \
    "Rotates the API key of a Servarr app (Sonarr, Radarr, Prowlarr,\n"   \
    "Lidarr, Readarr, Whisparr): 32 lowercase hex characters, written\n"  \
    "where the app reads it (APP__AUTH__APIKEY when set, else\n"          \
    "config.xml) and over every copy rotarr finds (env files, compose,\n" \
    "Bazarr, Jellyseerr, Overseerr).  Apps that keep the key in their\n"  \
    "own database are listed with the place to update it.\n"             \
    "\n"                                                                  \
    "  --service <name>  the app's service (default: the only one)\n"    \
    "  --restart         run 'docker compose up -d --no-deps' for the\n" \
    "                    services that read the key\n"                   \
    "  --show            print the new key on standard output\n"

enum {
    OPT_SERVICE = CMD_OPT_FIRST_VERB_OPTION,
    OPT_RESTART,
    OPT_SHOW,
    OPT_LAST,
};

static const struct option longopts[] = {
    CMD_GLOBAL_LONGOPTS,
    { "service", required_argument, NULL, OPT_SERVICE },
    { "restart", no_argument, NULL, OPT_RESTART },
    { "show", no_argument, NULL, OPT_SHOW },
    { NULL, 0, NULL, 0 },
};

struct arr_key_options {
    struct rotarr_arrkey_request req;
    int seen[OPT_LAST - CMD_OPT_FIRST_VERB_OPTION];
    int restart;
    int show;
};

static int verb_option(struct arr_key_options *o, int opt, const char *arg,
                       const char *given)
{
    if (o->seen[opt - CMD_OPT_FIRST_VERB_OPTION]++) {
        return cmd_usage_error(ARR_KEY_SYNOPSIS, "option '%s' given twice",
                               given);
    }
    switch (opt) {
    case OPT_SERVICE: o->req.service = arg; break;
    case OPT_RESTART: o->restart = 1; break;
    case OPT_SHOW: o->show = 1; break;
    }
    return 0;
}

static int parse_options(int argc, char **argv, struct arr_key_options *o)
{
    int opt;
    int handled;

    while ((opt = getopt_long(argc, argv, CMD_GLOBAL_SHORTOPTS, longopts,
                              NULL)) != -1) {
        if (opt == CMD_OPT_HELP) {
            cmd_print_usage(stdout, ARR_KEY_SYNOPSIS);
            fputs(ARR_KEY_HELP, stdout);
            return -1;
        }
        if (opt >= CMD_OPT_FIRST_VERB_OPTION && opt < OPT_LAST) {
            if (verb_option(o, opt, optarg, argv[optind - 1]) != 0) {
                return ROTARR_EUSAGE;
            }
            continue;
        }
        handled = cmd_global_option(opt, optarg, ARR_KEY_SYNOPSIS);
        if (handled <= 0) {
            return handled < 0 ? ROTARR_EUSAGE
                               : cmd_usage_error(ARR_KEY_SYNOPSIS,
                                                 "unknown option '%s'",
                                                 argv[optind - 1]);
        }
    }
    if (optind < argc) {
        return cmd_usage_error(ARR_KEY_SYNOPSIS, "unexpected argument '%s'",
                               argv[optind]);
    }
    return 0;
}

/* Finds line number line (1-based) of bytes; returns its start or NULL. */
static const char *line_at(const char *bytes, size_t len, size_t line,
                           size_t *line_len)
{
    const char *p = bytes;
    const char *end = bytes + len;
    const char *nl;

    for (; line > 1; line--) {
        nl = memchr(p, '\n', (size_t)(end - p));
        if (nl == NULL) {
            return NULL;
        }
        p = nl + 1;
    }
    nl = memchr(p, '\n', (size_t)(end - p));
    *line_len = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
    return p;
}

/* Prints the changed lines before and after, both keys masked. */
static void print_diff(const struct rotarr_stack *stack,
                       const struct rotarr_arrkey_plan *plan)
{
    const struct rotarr_secret *keys[2] = { plan->current, plan->next };
    const struct rotarr_file_edit *edit;
    const struct rotarr_stack_file *file;
    const char *line;
    size_t line_len;
    size_t i;
    size_t j;

    for (i = 0; i < plan->edits.count; i++) {
        edit = &plan->edits.items[i];
        file = rotarr_stack_file(stack, edit->file);
        printf("--- %s\n+++ %s\n", file->display, file->display);
        for (j = 0; j < edit->changed_line_count; j++) {
            printf("@@ line %zu @@\n", edit->changed_lines[j]);
            line = line_at(file->bytes, file->len, edit->changed_lines[j],
                           &line_len);
            if (line != NULL) {
                cmd_print_masked("-", line, line_len, keys, 2);
            }
            line = line_at(edit->bytes.data, edit->bytes.len,
                           edit->changed_lines[j], &line_len);
            if (line != NULL) {
                cmd_print_masked("+", line, line_len, keys, 2);
            }
        }
    }
}

static void print_json(const struct rotarr_stack *stack,
                       const struct rotarr_arrkey_plan *plan)
{
    const struct rotarr_file_edit *edit;
    const char *sep = "";
    size_t i;
    size_t j;

    printf("{\"service\":");
    cmd_json_string(stdout, plan->service);
    printf(",\"app\":");
    cmd_json_string(stdout, plan->app);
    printf(",\"dry_run\":%s,\"changed\":[",
           cmd_globals.dry_run ? "true" : "false");
    for (i = 0; i < plan->edits.count; i++) {
        edit = &plan->edits.items[i];
        for (j = 0; j < edit->changed_line_count; j++) {
            printf("%s{\"file\":", sep);
            cmd_json_string(stdout,
                            rotarr_stack_file(stack, edit->file)->display);
            printf(",\"line\":%zu}", edit->changed_lines[j]);
            sep = ",";
        }
    }
    printf("],\"restart\":[");
    for (i = 0; i < plan->restart_count; i++) {
        printf("%s", i > 0 ? "," : "");
        cmd_json_string(stdout, plan->restart[i]);
    }
    printf("],\"consumers\":[");
    for (i = 0; i < plan->consumer_count; i++) {
        printf("%s{\"service\":", i > 0 ? "," : "");
        cmd_json_string(stdout, plan->consumers[i].service);
        printf(",\"place\":");
        cmd_json_string(stdout, plan->consumers[i].place);
        printf("}");
    }
    printf("]}\n");
}

static void print_text(const struct rotarr_stack *stack,
                       const struct rotarr_arrkey_plan *plan)
{
    const struct rotarr_file_edit *edit;
    size_t i;
    size_t j;

    printf("%s the API key of '%s' (read from %s)\n",
           cmd_globals.dry_run ? "plan: rotate" : "rotated", plan->service,
           plan->source);
    if (cmd_globals.dry_run) {
        print_diff(stack, plan);
    }
    for (i = 0; i < plan->edits.count && !cmd_globals.dry_run; i++) {
        edit = &plan->edits.items[i];
        for (j = 0; j < edit->changed_line_count; j++) {
            printf("changed %s:%zu\n",
                   rotarr_stack_file(stack, edit->file)->display,
                   edit->changed_lines[j]);
        }
    }
    if (plan->consumer_count > 0) {
        printf("%supdate the key where rotarr cannot, in each app's web UI:\n",
               cmd_globals.dry_run ? "then " : "");
    }
    for (i = 0; i < plan->consumer_count; i++) {
        printf("  %s: %s\n", plan->consumers[i].service,
               plan->consumers[i].place);
    }
}

static int report(const struct rotarr_stack *stack,
                  const struct rotarr_arrkey_plan *plan,
                  const struct arr_key_options *o)
{
    if (plan->notices.data != NULL) {
        fputs(plan->notices.data, stderr);
    }
    if (cmd_globals.json) {
        print_json(stack, plan);
        return ROTARR_OK;
    }
    print_text(stack, plan);
    if (o->show && !cmd_globals.dry_run) {
        printf("%s\n", rotarr_secret_data(plan->next));
    }
    if (plan->restart_count == 0) {
        return ROTARR_OK;
    }
    printf("%s", cmd_globals.dry_run
                     ? "then recreate the services that read it:\n  "
                     : "recreate the services that read it now:\n  ");
    cmd_print_compose_up(stdout, plan->restart, plan->restart_count);
    if (o->restart && !cmd_globals.dry_run) {
        return cmd_restart_services(plan->restart, plan->restart_count);
    }
    return ROTARR_OK;
}

int cmd_arr_key(int argc, char **argv)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_arrkey_plan plan = ROTARR_ARRKEY_PLAN_INIT;
    struct arr_key_options o;
    struct rotarr_stack *stack = NULL;
    int status;

    memset(&o, 0, sizeof(o));
    status = parse_options(argc, argv, &o);
    if (status != 0) {
        return status < 0 ? ROTARR_OK : status;
    }
    o.req.dry_run = cmd_globals.dry_run;
    stack = cmd_load_stack(&err);
    if (stack == NULL || rotarr_arrkey_plan(stack, &o.req, &plan, &err) < 0 ||
        rotarr_arrkey_run(stack, &o.req, &plan, &err) < 0) {
        status = cmd_report(&err);
        goto out;
    }
    status = report(stack, &plan, &o);

out:
    rotarr_arrkey_plan_release(&plan);
    rotarr_stack_free(stack);
    return status;
}
