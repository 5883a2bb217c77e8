#include "rotarr/compat.h"

#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "rotarr/pgrot.h"

static const struct option longopts[] = {
    CMD_GLOBAL_LONGOPTS,
    { NULL, 0, NULL, 0 },
};

static int parse_options(int argc, char **argv)
{
    int opt;
    int handled;

    while ((opt = getopt_long(argc, argv, CMD_GLOBAL_SHORTOPTS, longopts,
                              NULL)) != -1) {
        if (opt == CMD_OPT_HELP) {
            cmd_print_usage(stdout, RESUME_SYNOPSIS);
            fputs("\nFinishes a rotation that stopped part-way, from the "
                  "journal in <dir>/.rotarr:\nwhen the server already has "
                  "the new password the files are rewritten, when it\nstill "
                  "has the old one the rotation is run again.\n",
                  stdout);
            return -1;
        }
        handled = cmd_global_option(opt, optarg, RESUME_SYNOPSIS);
        if (handled < 0) {
            return ROTARR_EUSAGE;
        }
        if (handled == 0) {
            return cmd_usage_error(RESUME_SYNOPSIS, "unknown option '%s'",
                                   argv[optind - 1]);
        }
    }
    if (optind < argc) {
        return cmd_usage_error(RESUME_SYNOPSIS, "unexpected argument '%s'",
                               argv[optind]);
    }
    return 0;
}

int cmd_resume(int argc, char **argv)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_pgrot_plan plan = ROTARR_PGROT_PLAN_INIT;
    struct rotarr_stack_options opts;
    struct rotarr_stack *stack = NULL;
    int status;
    int found;

    status = parse_options(argc, argv);
    if (status != 0) {
        return status < 0 ? ROTARR_OK : status;
    }
    cmd_stack_options(&opts);
    status = cmd_resume_redis(&opts);
    if (status >= 0) {
        return status;
    }
    status = ROTARR_OK;
    found = rotarr_pgrot_resume(&opts, &plan, &err);
    if (found < 0) {
        status = cmd_report(&err);
        goto out;
    }
    if (found == 0) {
        if (plan.notices.data != NULL) {
            fputs(plan.notices.data, stderr);
        }
        cmd_notice("nothing to resume in '%s'", cmd_globals.dir);
        goto out;
    }
    stack = cmd_load_stack(&err);
    if (stack == NULL) {
        status = cmd_report(&err);
        goto out;
    }
    status = cmd_report_rotation(stack, &plan, 0, 0);

out:
    rotarr_pgrot_plan_release(&plan);
    rotarr_stack_free(stack);
    return status;
}
