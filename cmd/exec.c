#include "rotarr/compat.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "age_util.h"
#include "cmd.h"
#include "rotarr/buf.h"
#include "rotarr/dotenv.h"

/* Exit statuses of a command that cannot be run, as env(1) uses them. */
#define EXEC_NOT_FOUND 127
#define EXEC_CANNOT_RUN 126

#define EXEC_HELP                                                            \
    "\n"                                                                     \
    "Runs <command> with the variables of the stack's env file added to\n" \
    "the environment.  An age-encrypted env file (<dir>/.env.age, used\n"   \
    "when <dir>/.env does not exist) is decrypted in memory with the\n"     \
    "default identities; no plaintext reaches the disk.\n"                  \
    "\n"                                                                     \
    "  --env-file <file>  the env file (default: <dir>/.env.age, else\n"    \
    "                     <dir>/.env)\n"

/* Returns -1 to go on, or the exit status; *first is the command. */
static int exec_parse(int argc, char **argv, int *first)
{
    static const struct option longopts[] = {
        CMD_GLOBAL_LONGOPTS,
        { NULL, 0, NULL, 0 },
    };
    int opt, status;

    /* '+': the command's own options are not ours. */
    while ((opt = getopt_long(argc, argv, "+:" CMD_GLOBAL_SHORTOPTS "h",
                              longopts, NULL)) != -1) {
        if (opt == 'h' || opt == CMD_OPT_HELP) {
            cmd_print_usage(stdout, EXEC_SYNOPSIS);
            fputs(EXEC_HELP, stdout);
            return 0;
        }
        if (opt == '?' || opt == ':') {
            return cmd_usage_error(EXEC_SYNOPSIS, "%s option '%s'",
                                   opt == ':' ? "missing value for"
                                              : "unknown", argv[optind - 1]);
        }
        status = cmd_global_option(opt, optarg, EXEC_SYNOPSIS);
        if (status <= 0) {
            return status < 0 ? ROTARR_EUSAGE
                              : cmd_usage_error(EXEC_SYNOPSIS, "unknown "
                                                "option '%s'",
                                                argv[optind - 1]);
        }
    }
    if (optind >= argc) {
        return cmd_usage_error(EXEC_SYNOPSIS, "no command to run");
    }
    *first = optind;
    return -1;
}

/* Stores the env file to read in path: --env-file, else <dir>/.env.age
 * when <dir>/.env does not exist, else <dir>/.env. */
static int env_path(struct rotarr_buf *path, struct rotarr_error *err)
{
    if (cmd_globals.env_file != NULL) {
        return rotarr_buf_puts(path, cmd_globals.env_file, err);
    }
    if (rotarr_buf_printf(path, err, "%s/.env", cmd_globals.dir) < 0) {
        return -1;
    }
    if (access(path->data, F_OK) == 0) {
        return 0;
    }
    return rotarr_buf_puts(path, ".age", err);
}

static const char *shell_lookup(void *ctx, const char *name)
{
    (void)ctx;
    return getenv(name);
}

/* Adds every variable of the env file to the environment. */
static int export_env(const char *path, const struct rotarr_secret *text,
                      struct rotarr_error *err)
{
    struct rotarr_dotenv *env;
    const struct rotarr_dotenv_entry *entry;
    size_t i;
    int ret = 0;

    env = rotarr_dotenv_parse(path, rotarr_secret_data(text),
                              rotarr_secret_len(text), shell_lookup, NULL,
                              NULL, err);
    if (env == NULL) {
        return -1;
    }
    for (i = 0; i < rotarr_dotenv_count(env) && ret == 0; i++) {
        entry = rotarr_dotenv_entry(env, i);
        if (entry->value == NULL) {
            continue;
        }
        if (memchr(entry->value, '\0', entry->value_len) != NULL) {
            ret = rotarr_error_set(err, ROTARR_EFILE, "%s:%zu: the value of "
                                   "'%s' holds a NUL byte, which no "
                                   "environment variable can carry", path,
                                   entry->line, entry->key);
        } else if (setenv(entry->key, entry->value, 1) != 0) {
            ret = rotarr_error_set(err, ROTARR_EFILE, "%s:%zu: cannot set "
                                   "'%s': %s", path, entry->line, entry->key,
                                   strerror(errno));
        }
    }
    rotarr_dotenv_free(env);
    return ret;
}

static int load_env(void)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_buf path = ROTARR_BUF_INIT;
    struct rotarr_secret *text = NULL;
    int encrypted, status;

    if (env_path(&path, &err) < 0) {
        return cmd_report(&err);
    }
    status = cmd_age_load_file(path.data, &text, &encrypted);
    if (status == 0 && export_env(path.data, text, &err) < 0) {
        status = cmd_report(&err);
    }
    rotarr_secret_free(text);
    rotarr_buf_release(&path);
    return status;
}

int cmd_exec(int argc, char **argv)
{
    int first = 0;
    int status;

    status = exec_parse(argc, argv, &first);
    if (status >= 0) {
        return status;
    }
    status = load_env();
    if (status != 0) {
        return status;
    }
    fflush(NULL);
    execvp(argv[first], argv + first);
    status = errno == ENOENT ? EXEC_NOT_FOUND : EXEC_CANNOT_RUN;
    cmd_error("cannot run '%s': %s", argv[first], strerror(errno));
    return status;
}
