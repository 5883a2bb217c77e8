#include "rotarr/compat.h"

#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "rotarr/audit.h"

enum {
    OPT_SEVERITY = CMD_OPT_FIRST_VERB_OPTION,
    OPT_EXPLAIN,
};

static const struct option longopts[] = {
    CMD_GLOBAL_LONGOPTS,
    { "severity", required_argument, NULL, OPT_SEVERITY },
    { "explain", required_argument, NULL, OPT_EXPLAIN },
    { NULL, 0, NULL, 0 },
};

struct audit_request {
    enum rotarr_audit_severity min;
    const char *explain;
    int severity_set;
};

static void print_help(void)
{
    cmd_print_usage(stdout, AUDIT_SYNOPSIS);
    fputs("\nReviews the stack's secrets, mounts, networks and container "
          "settings\nwithout a Docker engine, and prints each finding with "
          "its place and fix,\ngrouped by service, most severe first.\n"
          "\n"
          "  --severity <level>  show findings at or above low, medium "
          "(default)\n"
          "                      or high; exit 1 when there is one\n"
          "  --explain <id>      print the long reason of a check, or of "
          "'linuxserver'\n",
          stdout);
}

static int parse_option(struct audit_request *req, int opt, const char *arg)
{
    if (opt == OPT_SEVERITY) {
        if (req->severity_set) {
            return cmd_usage_error(AUDIT_SYNOPSIS,
                                   "--severity given twice; keep one");
        }
        req->severity_set = 1;
        if (rotarr_audit_severity_parse(arg, &req->min) < 0) {
            return cmd_usage_error(AUDIT_SYNOPSIS,
                                   "invalid severity '%s'; use low, medium "
                                   "or high", arg);
        }
        return 0;
    }
    if (req->explain != NULL) {
        return cmd_usage_error(AUDIT_SYNOPSIS,
                               "--explain given twice; keep one");
    }
    req->explain = arg;
    return 0;
}

static int parse_options(int argc, char **argv, struct audit_request *req)
{
    int opt;
    int handled;
    int status;

    while ((opt = getopt_long(argc, argv, CMD_GLOBAL_SHORTOPTS, longopts,
                              NULL)) != -1) {
        if (opt == CMD_OPT_HELP) {
            print_help();
            return -1;
        }
        if (opt == OPT_SEVERITY || opt == OPT_EXPLAIN) {
            status = parse_option(req, opt, optarg);
            if (status != 0) {
                return status;
            }
            continue;
        }
        handled = cmd_global_option(opt, optarg, AUDIT_SYNOPSIS);
        if (handled <= 0) {
            return handled < 0 ? ROTARR_EUSAGE
                               : cmd_usage_error(AUDIT_SYNOPSIS,
                                                 "unknown option '%s'",
                                                 argv[optind - 1]);
        }
    }
    if (optind < argc) {
        return cmd_usage_error(AUDIT_SYNOPSIS, "unexpected argument '%s'",
                               argv[optind]);
    }
    return 0;
}

static int print_explain(const char *id)
{
    const char *text = rotarr_audit_explain(id);
    size_t i;

    if (text == NULL) {
        cmd_error("unknown check '%s'; known checks:", id);
        for (i = 0; i < rotarr_audit_check_count(); i++) {
            fprintf(stderr, "  %s\n", rotarr_audit_check_id(i));
        }
        fprintf(stderr, "  linuxserver\n");
        return ROTARR_EUSAGE;
    }
    fputs(text, stdout);
    return ROTARR_OK;
}

static void print_place(const struct rotarr_finding *f, FILE *out)
{
    cmd_fputs_safe(f->file[0] != '\0' ? f->file : "-", out);
    if (f->line > 0) {
        fprintf(out, ":%zu", f->line);
    }
}

static void print_text(const struct rotarr_audit *audit,
                       enum rotarr_audit_severity min)
{
    const struct rotarr_finding *f;
    const char *group = NULL;
    size_t shown = 0;
    size_t i;

    for (i = 0; i < audit->count; i++) {
        f = &audit->items[i];
        if (f->severity < min) {
            continue;
        }
        if (group == NULL || strcmp(group, f->service) != 0) {
            group = f->service;
            printf("%s", shown > 0 ? "\n" : "");
            if (f->service[0] == '\0') {
                printf("stack\n");
            } else {
                printf("service '");
                cmd_fputs_safe(f->service, stdout);
                printf("'%s", f->image[0] != '\0' ? " (" : "");
                cmd_fputs_safe(f->image, stdout);
                printf("%s\n", f->image[0] != '\0' ? ")" : "");
            }
        }
        printf("  %-6s %s  ", rotarr_audit_severity_name(f->severity), f->id);
        print_place(f, stdout);
        printf("\n    why: ");
        cmd_fputs_safe(f->why, stdout);
        printf("\n    fix: ");
        cmd_fputs_safe(f->fix, stdout);
        printf("\n");
        shown++;
    }
    if (shown == 0) {
        printf("no findings at or above '%s'\n",
               rotarr_audit_severity_name(min));
    }
}

static void print_finding_json(const struct rotarr_finding *f)
{
    printf("{\"id\":");
    cmd_json_string(stdout, f->id);
    printf(",\"severity\":\"%s\",\"service\":",
           rotarr_audit_severity_name(f->severity));
    cmd_json_string(stdout, f->service);
    printf(",\"image\":");
    cmd_json_string(stdout, f->image);
    printf(",\"file\":");
    cmd_json_string(stdout, f->file);
    printf(",\"line\":%zu,\"why\":", f->line);
    cmd_json_string(stdout, f->why);
    printf(",\"fix\":");
    cmd_json_string(stdout, f->fix);
    printf("}");
}

static void print_json(const struct rotarr_audit *audit,
                       enum rotarr_audit_severity min)
{
    size_t counts[4] = { 0, 0, 0, 0 };
    size_t i;

    printf("{\"severity\":\"%s\",\"findings\":[",
           rotarr_audit_severity_name(min));
    for (i = 0; i < audit->count; i++) {
        if (audit->items[i].severity < min) {
            continue;
        }
        printf("%s", counts[1] + counts[2] + counts[3] > 0 ? "," : "");
        counts[audit->items[i].severity]++;
        print_finding_json(&audit->items[i]);
    }
    printf("],\"counts\":{\"high\":%zu,\"medium\":%zu,\"low\":%zu}}\n",
           counts[ROTARR_AUDIT_HIGH], counts[ROTARR_AUDIT_MEDIUM],
           counts[ROTARR_AUDIT_LOW]);
}

int cmd_audit(int argc, char **argv)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct audit_request req = { ROTARR_AUDIT_MEDIUM, NULL, 0 };
    struct rotarr_audit audit = ROTARR_AUDIT_INIT;
    struct rotarr_stack *stack;
    int status;

    status = parse_options(argc, argv, &req);
    if (status != 0) {
        return status < 0 ? ROTARR_OK : status;
    }
    if (req.explain != NULL) {
        return print_explain(req.explain);
    }
    stack = cmd_load_stack(&err);
    if (stack == NULL) {
        return cmd_report(&err);
    }
    if (rotarr_audit_run(stack, NULL, &audit, &err) < 0) {
        status = cmd_report(&err);
    } else {
        if (cmd_globals.json) {
            print_json(&audit, req.min);
        } else {
            print_text(&audit, req.min);
        }
        status = rotarr_audit_count_at_least(&audit, req.min) > 0
                     ? ROTARR_NO
                     : ROTARR_OK;
    }
    rotarr_audit_release(&audit);
    rotarr_stack_free(stack);
    return status;
}
