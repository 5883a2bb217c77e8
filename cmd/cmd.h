/*
 * Shared by the files in cmd/: the verb entry points, the synopsis of each
 * verb, the global options and the helpers that print messages.  Only
 * cmd/ prints and chooses exit statuses.
 */
#ifndef ROTARR_CMD_H
#define ROTARR_CMD_H

#include <getopt.h>
#include <stdio.h>

#include "rotarr/error.h"
#include "rotarr/pgrot.h"
#include "rotarr/secret.h"
#include "rotarr/stack.h"

/*
 * One synopsis per verb, used by both 'rotarr --help' and
 * 'rotarr VERB --help'.
 */
#define ARR_KEY_SYNOPSIS \
    "rotarr arr-key [--service <name>] [--restart] [--show]"
#define AUDIT_SYNOPSIS \
    "rotarr audit [--json] [--severity (low | medium | high)] [--explain <id>]"
#define DECRYPT_SYNOPSIS \
    "rotarr decrypt [-o <output>] [-i <identity-file>]... [<input>]"
#define EDIT_SYNOPSIS "rotarr edit <file>"
#define ENCRYPT_SYNOPSIS \
    "rotarr encrypt [-a] [-o <output>] (-r <recipient> | -R <path> | -i <path>)...\n" \
    "                      [<input>]\n" \
    "       rotarr encrypt [-a] [-o <output>] -p [<input>]"
#define EXEC_SYNOPSIS "rotarr exec [--env-file <file>] -- <command> [<arg>...]"
#define GEN_SYNOPSIS \
    "rotarr gen [-l <length> | -b <bits>] [-c (alnum | urlsafe | hex | base64url | words)]\n" \
    "           [--weak] [<count>]"
#define HOOK_SYNOPSIS \
    "rotarr hook (install [--force] | uninstall | run |\n" \
    "             check [--all | <rev-range>])"
#define INSPECT_SYNOPSIS "rotarr inspect [--json]"
#define KEYGEN_SYNOPSIS "rotarr keygen [-o <output>] [-y [<input>]]"
#define POSTGRES_SYNOPSIS \
    "rotarr postgres [--service <name>] [--user <role>] [--var <name>]\n" \
    "                [--host <host>] [--port <port>] [--dbname <db>] [--sslmode <mode>]\n" \
    "                [--admin-user <role> --admin-password-stdin] [--adopt]\n" \
    "                [--password-stdin] [--restart] [--show]"
#define REDIS_SYNOPSIS \
    "rotarr redis [--service <name>] [--var <name>] [--host <host>] [--port <port>]\n" \
    "             [--enable] [--overlap | --no-overlap] [--finish] [--offline]\n" \
    "             [--restart] [--show]"
#define RESUME_SYNOPSIS "rotarr resume"
#define ROTATE_SYNOPSIS \
    "rotarr rotate [--max-age <duration>] [--only (postgres | redis)] [--restart]"
#define STATUS_SYNOPSIS \
    "rotarr status [--max-age <duration>] [--only (postgres | redis)] [--offline]"

#define GLOBAL_OPTIONS_HELP \
    "global options (before or after the verb):\n" \
    "  -C <dir>             stack directory (default: .)\n" \
    "  -f, --file <file>    compose file, repeatable (default: $COMPOSE_FILE,\n" \
    "                       then compose.yaml, compose.yml, docker-compose.yml,\n" \
    "                       docker-compose.yaml)\n" \
    "      --env-file <file>  env file (default: <dir>/.env)\n" \
    "      --json           one JSON document on stdout\n" \
    "  -n, --dry-run        print the plan and the changes, change nothing\n" \
    "  -q, -v               quieter, more verbose\n"

#define CMD_MAX_COMPOSE_FILES 32

/* Options that every verb accepts, set from the command line. */
struct cmd_globals {
    const char *dir;
    const char *compose_files[CMD_MAX_COMPOSE_FILES];
    size_t compose_file_count;
    const char *env_file;
    int json;
    int dry_run;
    int verbosity;
    /* Set by main for a verb that changes things with no plan to show:
     * the reason that -n gives a usage error, printed after the verb. */
    const char *verb;
    const char *no_dry_run;
};

extern struct cmd_globals cmd_globals;

/* getopt_long letters of the global options, to put in each verb's string. */
#define CMD_GLOBAL_SHORTOPTS "C:f:nqv"

/* Values of the global long options that have no short form. */
enum {
    CMD_OPT_ENV_FILE = 0x1000,
    CMD_OPT_JSON,
    CMD_OPT_HELP,
    CMD_OPT_FIRST_VERB_OPTION = 0x1100,
};

#define CMD_GLOBAL_LONGOPTS                                      \
    { "file", required_argument, NULL, 'f' },                    \
    { "env-file", required_argument, NULL, CMD_OPT_ENV_FILE },   \
    { "json", no_argument, NULL, CMD_OPT_JSON },                 \
    { "dry-run", no_argument, NULL, 'n' },                       \
    { "help", no_argument, NULL, CMD_OPT_HELP }

/*
 * Handles one getopt_long result that belongs to the global options.
 * Returns 1 when it handled opt, 0 when opt is not a global option, and -1
 * after printing a usage error.
 */
int cmd_global_option(int opt, const char *arg, const char *synopsis);

/* Prints "usage: " and the synopsis to stdout (--help) or stderr. */
void cmd_print_usage(FILE *out, const char *synopsis);

/*
 * Prints "rotarr: <reason>" and the synopsis to stderr and returns
 * ROTARR_EUSAGE, for 'return cmd_usage_error(...)'.
 */
int cmd_usage_error(const char *synopsis, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Prints "rotarr: <message>" to stderr with control characters replaced
 * by '?', and returns the error's code (ROTARR_EFILE when it has none).
 */
int cmd_report(const struct rotarr_error *err);

/* Prints "rotarr: <message>" to stderr, control characters replaced. */
void cmd_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Like cmd_error, but skipped under -q. */
void cmd_notice(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Writes s to out with control characters replaced by '?'. */
void cmd_fputs_safe(const char *s, FILE *out);

/* A verb's option table and what to do with each of its options. */
struct cmd_verb_options {
    const struct option *longopts; /* with CMD_GLOBAL_LONGOPTS */
    const char *synopsis;
    const char *help; /* printed after the synopsis for --help */
    int last;         /* one past the verb's last option value */
    int *seen;        /* a counter per verb option, from
                         CMD_OPT_FIRST_VERB_OPTION */
    int (*set)(void *ctx, int opt, const char *arg); /* 0, or non-zero
                                                         after a message */
    void *ctx;
};

/*
 * Parses a verb's command line: its own options (each at most once),
 * the global options and --help; no operand is allowed.  Returns 0,
 * -1 after printing the help, or the exit status of a usage error.
 */
int cmd_parse_options(int argc, char **argv, const struct cmd_verb_options *v);

/* Returns a TCP port number, or -1 when text is not one. */
int cmd_parse_port(const char *text);

/*
 * Reads one password line from standard input into guarded memory; a
 * final line break is dropped.  Returns NULL with err set when the input
 * is empty, holds more than one line or is too long.
 */
struct rotarr_secret *cmd_read_secret_stdin(struct rotarr_error *err);

/* Writes s as a JSON string. */
void cmd_json_string(FILE *out, const char *s);

/* Fills opts from the global options. */
void cmd_stack_options(struct rotarr_stack_options *opts);

/* Loads the stack the global options describe. */
struct rotarr_stack *cmd_load_stack(struct rotarr_error *err);

/*
 * Prints what a rotation changed (or, under --dry-run, would change):
 * files and lines, masked diffs for a dry run, the services to recreate
 * and, with restart, runs 'docker compose up -d --no-deps' for them.
 * Returns the exit status.
 */
int cmd_report_rotation(const struct rotarr_stack *stack,
                        const struct rotarr_pgrot_plan *plan, int show,
                        int restart);

/* Prints the 'docker compose up -d --no-deps' line for the services. */
void cmd_print_compose_up(FILE *out, char *const *services, size_t count);

/* Runs that command when docker is on PATH; returns the exit status. */
int cmd_restart_services(char *const *services, size_t count);

/*
 * Prints prefix and the len bytes of line to stdout with every copy of
 * the (at most two) secrets, as they are or percent-encoded, replaced by
 * a mask, and control characters replaced by '?'.
 */
void cmd_print_masked(const char *prefix, const char *line, size_t len,
                      const struct rotarr_secret *const *secrets,
                      size_t count);

/*
 * Resumes a Redis rotation from the journal of the stack in opts and
 * prints what it changed.  Returns the exit status, or -1 when the
 * journal is missing or belongs to another kind of rotation.
 */
int cmd_resume_redis(const struct rotarr_stack_options *opts);

/* Verb entry points: each returns the process exit status. */
int cmd_arr_key(int argc, char **argv);
int cmd_audit(int argc, char **argv);
int cmd_decrypt(int argc, char **argv);
int cmd_edit(int argc, char **argv);
int cmd_encrypt(int argc, char **argv);
int cmd_exec(int argc, char **argv);
int cmd_gen(int argc, char **argv);
int cmd_hook(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_keygen(int argc, char **argv);
int cmd_postgres(int argc, char **argv);
int cmd_redis(int argc, char **argv);
int cmd_resume(int argc, char **argv);
int cmd_rotate(int argc, char **argv);
int cmd_status(int argc, char **argv);

#endif
