#include "rotarr/compat.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "progress.h"
#include "rotarr/guard.h"

#define HOOK_HELP \
    "\n" \
    "A git pre-commit guard that rejects plaintext env files, copies of\n" \
    "the stack's secret values (also percent-encoded) and private keys in\n" \
    "the staged files.  No file, comment or variable switches it off.\n" \
    "Env files encrypted with age or sops pass, and so do example env\n" \
    "files (.env.example, .env.sample, .env.template, .env.dist) whose\n" \
    "passwords, keys and tokens are placeholders such as '', 'changeme'\n" \
    "or '<password>'.\n" \
    "\n" \
    "  install [--force]  write the hook where git runs hooks; a hook\n" \
    "                     that was there is kept and runs first.  With\n" \
    "                     --force, also when husky or the pre-commit\n" \
    "                     framework manages the hooks\n" \
    "  uninstall          remove the hook and put back the one it\n" \
    "                     replaced\n" \
    "  run                scan the staged files (the hook runs this at\n" \
    "                     the top of the working tree)\n" \
    "  check [--all]      scan every file of HEAD (the default)\n" \
    "  check <rev-range>  scan what each commit of the range adds, for\n" \
    "                     CI and for commits made with --no-verify\n" \
    "\n" \
    "Findings go to standard output as 'path:line: what', never the\n" \
    "secret itself; the exit status is 1 when there is any.\n"

enum {
    OPT_FORCE = CMD_OPT_FIRST_VERB_OPTION,
    OPT_ALL,
};

static const struct option longopts[] = {
    CMD_GLOBAL_LONGOPTS,
    { "force", no_argument, NULL, OPT_FORCE },
    { "all", no_argument, NULL, OPT_ALL },
    { NULL, 0, NULL, 0 },
};

struct hook_options {
    const char *action;
    const char *range;
    int force;
    int all;
};

/* Parses the options of every sub-verb; returns -1 after --help, 0, or
 * an exit status. */
static int parse_options(int argc, char **argv, struct hook_options *o)
{
    int opt, handled;

    while ((opt = getopt_long(argc, argv, CMD_GLOBAL_SHORTOPTS, longopts,
                              NULL)) != -1) {
        if (opt == CMD_OPT_HELP) {
            cmd_print_usage(stdout, HOOK_SYNOPSIS);
            fputs(HOOK_HELP, stdout);
            return -1;
        }
        if (opt == OPT_FORCE || opt == OPT_ALL) {
            *(opt == OPT_FORCE ? &o->force : &o->all) = 1;
            continue;
        }
        handled = cmd_global_option(opt, optarg, HOOK_SYNOPSIS);
        if (handled < 0) {
            return ROTARR_EUSAGE;
        }
        if (handled == 0) {
            return cmd_usage_error(HOOK_SYNOPSIS, "unknown option '%s'",
                                   argv[optind - 1]);
        }
    }
    if (optind >= argc) {
        return cmd_usage_error(HOOK_SYNOPSIS,
                               "'hook' needs one of install, uninstall, run "
                               "or check");
    }
    o->action = argv[optind++];
    if (optind < argc) {
        o->range = argv[optind++];
    }
    if (optind < argc) {
        return cmd_usage_error(HOOK_SYNOPSIS, "unexpected argument '%s'",
                               argv[optind]);
    }
    return 0;
}

/* Rejects options and arguments that the sub-verb does not take. */
static int check_usage(const struct hook_options *o)
{
    int is_check = strcmp(o->action, "check") == 0;

    if (!is_check && strcmp(o->action, "install") != 0 &&
        strcmp(o->action, "uninstall") != 0 && strcmp(o->action, "run") != 0) {
        return cmd_usage_error(HOOK_SYNOPSIS,
                               "'%s' is not a hook action; use install, "
                               "uninstall, run or check",
                               o->action);
    }
    if (o->force && strcmp(o->action, "install") != 0) {
        return cmd_usage_error(HOOK_SYNOPSIS,
                               "'--force' is an option of 'hook install'");
    }
    if ((o->all || o->range != NULL) && !is_check) {
        return cmd_usage_error(HOOK_SYNOPSIS,
                               "'hook %s' takes no '--all' or revision range",
                               o->action);
    }
    if (o->all && o->range != NULL) {
        return cmd_usage_error(HOOK_SYNOPSIS,
                               "give '--all' or a revision range, not both");
    }
    return 0;
}

static void print_findings_text(const struct rotarr_guard_findings *f)
{
    const struct rotarr_guard_finding *item;
    size_t i;

    for (i = 0; i < f->count; i++) {
        item = &f->items[i];
        cmd_fputs_safe(item->path, stdout);
        printf(":%zu: ", item->line);
        cmd_fputs_safe(item->what, stdout);
        if (item->commit[0] != '\0') {
            printf(" (commit %.12s)", item->commit);
        }
        fputc('\n', stdout);
    }
    if (f->dropped > 0) {
        printf("... and %zu more findings\n", f->dropped);
    }
}

static void print_findings_json(const struct rotarr_guard_findings *f)
{
    const struct rotarr_guard_finding *item;
    size_t i;

    fputs("{\"findings\":[", stdout);
    for (i = 0; i < f->count; i++) {
        item = &f->items[i];
        fputs(i > 0 ? ",{\"path\":" : "{\"path\":", stdout);
        cmd_json_string(stdout, item->path);
        printf(",\"line\":%zu,\"what\":", item->line);
        cmd_json_string(stdout, item->what);
        fputs(",\"commit\":", stdout);
        cmd_json_string(stdout, item->commit);
        fputc('}', stdout);
    }
    printf("],\"more\":%zu}\n", f->dropped);
}

/*
 * Returns what to do about the findings of a scan of where.  A secret in
 * a commit reaches every clone and push of it, so editing the files no
 * longer removes it.
 */
static const char *findings_advice(const char *where)
{
    if (strcmp(where, "the staged files") == 0) {
        return "remove the secrets from the index, or encrypt the env files";
    }
    if (strcmp(where, "the commits of the range") == 0) {
        return "those secrets are in the history: rotate them ('rotarr "
               "postgres' and 'rotarr redis' rotate database passwords, "
               "'rotarr arr-key' Servarr API keys), then rewrite the "
               "history, such as with 'git filter-repo'";
    }
    return "remove the secrets from those files, or encrypt the env files";
}

/* Prints the findings and returns the exit status. */
static int report_findings(const struct rotarr_guard_findings *f,
                           const char *where)
{
    size_t total = f->count + f->dropped;

    if (cmd_globals.json) {
        print_findings_json(f);
    } else {
        print_findings_text(f);
    }
    if (total == 0) {
        return 0;
    }
    cmd_error("%zu finding%s in %s; %s", total, total == 1 ? "" : "s", where,
              findings_advice(where));
    return ROTARR_NO;
}

/*
 * Moves into the stack directory, so that git works on the repository
 * that contains the stack.  'hook run' stays where git runs the hook (the
 * top of the working tree), because GIT_INDEX_FILE may be relative to it.
 */
static int enter_stack_dir(void)
{
    if (chdir(cmd_globals.dir) != 0) {
        cmd_error("cannot enter the stack directory '%s': %s",
                  cmd_globals.dir, strerror(errno));
        return ROTARR_EFILE;
    }
    cmd_globals.dir = ".";
    return 0;
}

/* Returns what a scan reads, as findings and the progress line name it. */
static const char *scan_subject(const struct hook_options *o)
{
    if (strcmp(o->action, "run") == 0) {
        return "the staged files";
    }
    return o->range != NULL ? "the commits of the range"
                            : "the files of HEAD";
}

static int scan(const struct hook_options *o)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_guard_findings findings = ROTARR_GUARD_FINDINGS_INIT;
    struct rotarr_stack_options opts;
    struct rotarr_guard *guard;
    struct cmd_progress progress, history;
    const char *where = scan_subject(o);
    int rc, status;

    guard = rotarr_guard_new(&err);
    if (guard == NULL) {
        return cmd_report(&err);
    }
    cmd_stack_options(&opts);
    rc = rotarr_guard_learn_stack(guard, &opts, &err);
    cmd_progress_begin(&progress, "scanning", where, CMD_PROGRESS_FILES,
                       cmd_globals.verbosity >= 0);
    rotarr_guard_set_progress(guard, cmd_progress_receiver(&progress));
    cmd_progress_begin(&history, "listing the changes of", o->range,
                       CMD_PROGRESS_COMMITS, cmd_globals.verbosity >= 0);
    rotarr_guard_set_history_progress(guard,
                                      cmd_progress_receiver(&history));
    if (rc == 0 && strcmp(o->action, "run") == 0) {
        rc = rotarr_guard_check_staged(guard, &findings, &err);
    } else if (rc == 0 && o->range != NULL) {
        rc = rotarr_guard_check_range(guard, o->range, &findings, &err);
    } else if (rc == 0) {
        rc = rotarr_guard_check_tree(guard, NULL, &findings, &err);
    }
    cmd_progress_end(&history);
    cmd_progress_end(&progress);
    status = rc < 0 ? cmd_report(&err) : report_findings(&findings, where);
    rotarr_guard_findings_release(&findings);
    rotarr_guard_free(guard);
    return status;
}

static void print_install(const struct rotarr_hook_status *st)
{
    if (st->hooks_path_scope != NULL &&
        strcmp(st->hooks_path_scope, "local") != 0 &&
        strcmp(st->hooks_path_scope, "worktree") != 0) {
        cmd_error("warning: core.hooksPath is set in the %s git config, so "
                  "the hook in '%s' runs for every repository that uses it",
                  st->hooks_path_scope, st->hooks_dir);
    }
    if (st->kept) {
        cmd_notice("kept the existing pre-commit hook as '%s/%s'; it runs "
                   "first",
                   st->hooks_dir, ROTARR_HOOK_SAVED_NAME);
    }
    cmd_notice("%s the pre-commit guard in '%s/%s'",
               st->updated ? "updated" : "installed", st->hooks_dir,
               ROTARR_HOOK_NAME);
}

/* Warns when the hook will find no stack to learn secret values from,
 * such as a repository whose stacks are in subfolders. */
static void warn_no_stack(void)
{
    struct rotarr_stack_options opts;

    cmd_stack_options(&opts);
    if (!rotarr_guard_stack_present(&opts)) {
        cmd_error("warning: '%s' has no compose file and no .env, so the "
                  "guard knows no secret values and checks only file names "
                  "and private keys; for a stack in a subfolder, install "
                  "with 'rotarr -C DIR hook install'",
                  cmd_globals.dir);
    }
}

static int install(const struct hook_options *o)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_hook_status st = ROTARR_HOOK_STATUS_INIT;
    int rc, status = 0;

    rc = rotarr_hook_install(cmd_globals.dir, o->force, &st, &err);
    if (rc < 0) {
        status = cmd_report(&err);
    } else if (rc > 0) {
        cmd_error("the git hooks in '%s' are managed by %s, so no hook was "
                  "installed; add this line to '%s' (or use '--force'):",
                  st.hooks_dir, st.manager, st.manager_file);
        cmd_fputs_safe(st.manager_line, stdout);
        fputc('\n', stdout);
        status = ROTARR_NO;
    } else {
        print_install(&st);
        warn_no_stack();
    }
    rotarr_hook_status_release(&st);
    return status;
}

static int uninstall(void)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_hook_status st = ROTARR_HOOK_STATUS_INIT;
    int status = 0;

    if (rotarr_hook_uninstall(&st, &err) < 0) {
        status = cmd_report(&err);
    } else if (st.restored) {
        cmd_notice("removed the pre-commit guard and put back the previous "
                   "hook in '%s/%s'",
                   st.hooks_dir, ROTARR_HOOK_NAME);
    } else {
        cmd_notice("removed the pre-commit guard from '%s'", st.hooks_dir);
    }
    rotarr_hook_status_release(&st);
    return status;
}

int cmd_hook(int argc, char **argv)
{
    struct hook_options o;
    int status;

    memset(&o, 0, sizeof(o));
    status = parse_options(argc, argv, &o);
    if (status != 0) {
        return status < 0 ? 0 : status;
    }
    status = check_usage(&o);
    if (status != 0) {
        return status;
    }
    /* A git child that exits early must fail a write, not kill rotarr. */
    signal(SIGPIPE, SIG_IGN);
    if (strcmp(o.action, "run") != 0) {
        status = enter_stack_dir();
        if (status != 0) {
            return status;
        }
    }
    if (strcmp(o.action, "install") == 0) {
        return install(&o);
    }
    if (strcmp(o.action, "uninstall") == 0) {
        return uninstall();
    }
    return scan(&o);
}
