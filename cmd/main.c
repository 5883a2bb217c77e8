#include "rotarr/compat.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "age_util.h"
#include "cmd.h"
#include "rotarr/secret.h"

#define ROTARR_VERSION_TEXT "rotarr " ROTARR_VERSION

struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *synopsis;
    const char *summary;
    /* NULL when -n is accepted: the verb prints a plan, or changes
     * nothing anyway.  Otherwise what to do instead of -n. */
    const char *no_dry_run;
};

#define RUN_WITHOUT_N "run it without -n"

static const struct command commands[] = {
    { "arr-key", cmd_arr_key, ARR_KEY_SYNOPSIS,
      "rotate a Servarr app's API key and every copy of it", NULL },
    { "audit", cmd_audit, AUDIT_SYNOPSIS,
      "review the stack's secrets, mounts, networks and settings", NULL },
    { "decrypt", cmd_decrypt, DECRYPT_SYNOPSIS, "decrypt an age file",
      "without -o it writes to standard output only" },
    { "edit", cmd_edit, EDIT_SYNOPSIS, "edit an age-encrypted file in place",
      "'rotarr decrypt FILE' shows the file without changing it" },
    { "encrypt", cmd_encrypt, ENCRYPT_SYNOPSIS,
      "encrypt a file to age recipients or a passphrase", RUN_WITHOUT_N },
    { "exec", cmd_exec, EXEC_SYNOPSIS,
      "run a command with the variables of an encrypted env file",
      RUN_WITHOUT_N },
    { "gen", cmd_gen, GEN_SYNOPSIS, "print strong random passwords", NULL },
    { "hook", cmd_hook, HOOK_SYNOPSIS,
      "install a git pre-commit guard that refuses plaintext secrets",
      "'rotarr hook check' changes nothing" },
    { "inspect", cmd_inspect, INSPECT_SYNOPSIS,
      "show the services, secrets and occurrences rotarr found", NULL },
    { "keygen", cmd_keygen, KEYGEN_SYNOPSIS, "generate an age identity",
      RUN_WITHOUT_N },
    { "postgres", cmd_postgres, POSTGRES_SYNOPSIS,
      "change a live Postgres role's password and every copy of it", NULL },
    { "redis", cmd_redis, REDIS_SYNOPSIS,
      "protect an open Redis or rotate its password, with every client", NULL },
    { "resume", cmd_resume, RESUME_SYNOPSIS,
      "finish or roll back a rotation that stopped part-way",
      "'rotarr status' shows a pending journal" },
    { "rotate", cmd_rotate, ROTATE_SYNOPSIS,
      "rotate every managed secret that is due (for a timer)", NULL },
    { "status", cmd_status, STATUS_SYNOPSIS,
      "list managed secrets, their age and due date", NULL },
};

#define MAIN_SYNOPSIS "rotarr [<global options>] <verb> [<options>] [<args>]"

static void print_main_help(FILE *out)
{
    size_t i;

    cmd_print_usage(out, MAIN_SYNOPSIS);
    fputs("\nverbs:\n", out);
    for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    }
    fputs("\n" GLOBAL_OPTIONS_HELP, out);
    fputs("\n'rotarr <verb> --help' shows the options of one verb.\n", out);
}

static const struct command *find_command(const char *name)
{
    size_t i;

    for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (strcmp(commands[i].name, name) == 0) {
            return &commands[i];
        }
    }
    return NULL;
}

/*
 * Flushes and closes stdout, so that a full disk or a closed pipe turns
 * into a failure instead of lost output.
 */
static int finish_stdout(int status)
{
    if (fflush(stdout) != 0 || ferror(stdout) || fclose(stdout) != 0) {
        if (errno != EPIPE) {
            cmd_error("cannot write to standard output: %s",
                      strerror(errno));
        }
        return status != 0 ? status : ROTARR_EFILE;
    }
    return status;
}

/* Parses the global options that come before the verb. */
static int parse_leading_options(int argc, char **argv, int *show_help)
{
    static const struct option longopts[] = {
        CMD_GLOBAL_LONGOPTS,
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 },
    };
    int opt;

    opterr = 0;
    while ((opt = getopt_long(argc, argv, "+" CMD_GLOBAL_SHORTOPTS "h",
                              longopts, NULL)) != -1) {
        if (opt == 'V') {
            puts(ROTARR_VERSION_TEXT);
            return 0;
        }
        if (opt == 'h' || opt == CMD_OPT_HELP) {
            *show_help = 1;
            continue;
        }
        if (opt == '?' || opt == ':') {
            return cmd_usage_error(MAIN_SYNOPSIS, "unknown option '%s'",
                                   argv[optind - 1]);
        }
        if (cmd_global_option(opt, optarg, MAIN_SYNOPSIS) < 0) {
            return ROTARR_EUSAGE;
        }
    }
    return -1;
}

int main(int argc, char **argv)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    const struct command *command;
    int show_help = 0;
    int status;

    if (rotarr_secret_init(&err) < 0) {
        return cmd_report(&err);
    }
    status = parse_leading_options(argc, argv, &show_help);
    if (status >= 0) {
        return finish_stdout(status);
    }
    if (optind >= argc) {
        if (show_help) {
            print_main_help(stdout);
            return finish_stdout(0);
        }
        print_main_help(stderr);
        return ROTARR_EUSAGE;
    }
    command = find_command(argv[optind]);
    if (command == NULL) {
        return cmd_usage_error(MAIN_SYNOPSIS,
                               "'%s' is not a rotarr verb; see 'rotarr --help'",
                               argv[optind]);
    }
    if (show_help) {
        cmd_print_usage(stdout, command->synopsis);
        return finish_stdout(0);
    }
    if (command->no_dry_run != NULL && cmd_globals.dry_run) {
        return cmd_usage_error(command->synopsis, "'%s' has no dry run; %s",
                               command->name, command->no_dry_run);
    }
    cmd_globals.verb = command->name;
    cmd_globals.no_dry_run = command->no_dry_run;
    argv += optind;
    argc -= optind;
    optind = 0;
    opterr = 0;
    status = command->run(argc, argv);
    cmd_stack_keyring_release();
    return finish_stdout(status);
}
