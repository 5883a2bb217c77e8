#include "rotarr/compat.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "age_util.h"
#include "cmd.h"
#include "progress.h"

struct cmd_globals cmd_globals = { .dir = "." };

static void put_safe_char(unsigned char c, FILE *out)
{
    if ((c < 0x20 && c != '\t') || c == 0x7f) {
        c = '?';
    }
    fputc(c, out);
}

void cmd_fputs_safe(const char *s, FILE *out)
{
    for (; *s != '\0'; s++) {
        put_safe_char((unsigned char)*s, out);
    }
}

static void vreport(const char *fmt, va_list ap)
    __attribute__((format(printf, 1, 0)));

static void vreport(const char *fmt, va_list ap)
{
    char msg[ROTARR_ERROR_MSG_MAX];

    vsnprintf(msg, sizeof(msg), fmt, ap);
    cmd_progress_interrupt();
    fputs("rotarr: ", stderr);
    cmd_fputs_safe(msg, stderr);
    fputc('\n', stderr);
}

void cmd_error(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vreport(fmt, ap);
    va_end(ap);
}

void cmd_notice(const char *fmt, ...)
{
    va_list ap;

    if (cmd_globals.verbosity < 0) {
        return;
    }
    va_start(ap, fmt);
    vreport(fmt, ap);
    va_end(ap);
}

int cmd_report(const struct rotarr_error *err)
{
    cmd_error("%s", err->msg[0] != '\0' ? err->msg : "unknown error");
    return err->code != ROTARR_OK ? (int)err->code : ROTARR_EFILE;
}

void cmd_print_usage(FILE *out, const char *synopsis)
{
    fprintf(out, "usage: %s\n", synopsis);
}

int cmd_usage_error(const char *synopsis, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vreport(fmt, ap);
    va_end(ap);
    cmd_print_usage(stderr, synopsis);
    return ROTARR_EUSAGE;
}

int cmd_global_option(int opt, const char *arg, const char *synopsis)
{
    switch (opt) {
    case 'C':
        cmd_globals.dir = arg;
        return 1;
    case 'f':
        if (cmd_globals.compose_file_count == CMD_MAX_COMPOSE_FILES) {
            cmd_usage_error(synopsis, "too many -f options (at most %d)",
                            CMD_MAX_COMPOSE_FILES);
            return -1;
        }
        cmd_globals.compose_files[cmd_globals.compose_file_count++] = arg;
        return 1;
    case CMD_OPT_ENV_FILE:
        cmd_globals.env_file = arg;
        return 1;
    case CMD_OPT_JSON:
        cmd_globals.json = 1;
        return 1;
    case 'n':
        if (cmd_globals.no_dry_run != NULL) {
            cmd_usage_error(synopsis, "'%s' has no dry run; %s",
                            cmd_globals.verb, cmd_globals.no_dry_run);
            return -1;
        }
        cmd_globals.dry_run = 1;
        return 1;
    case 'q':
        cmd_globals.verbosity--;
        return 1;
    case 'v':
        cmd_globals.verbosity++;
        return 1;
    default:
        return 0;
    }
}

int cmd_parse_port(const char *text)
{
    char *end;
    long port;

    port = strtol(text, &end, 10);
    if (end == text || *end != '\0' || port < 1 || port > 65535) {
        return -1;
    }
    return (int)port;
}

/* Upper bound of a password read from standard input. */
#define STDIN_SECRET_MAX 4096

struct rotarr_secret *cmd_read_secret_stdin(struct rotarr_error *err)
{
    struct rotarr_secret *secret;
    char *bytes;
    size_t len = 0;
    ssize_t n;

    secret = rotarr_secret_alloc(STDIN_SECRET_MAX, err);
    if (secret == NULL) {
        return NULL;
    }
    bytes = rotarr_secret_data(secret);
    while (len < STDIN_SECRET_MAX &&
           (n = read(STDIN_FILENO, bytes + len, STDIN_SECRET_MAX - len)) != 0) {
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            rotarr_error_set(err, ROTARR_EUSAGE,
                             "cannot read the password from standard "
                             "input: %s",
                             strerror(errno));
            goto fail;
        }
        len += (size_t)n;
    }
    if (len == STDIN_SECRET_MAX) {
        rotarr_error_set(err, ROTARR_EUSAGE,
                         "the password on standard input is longer than %d "
                         "bytes",
                         STDIN_SECRET_MAX - 1);
        goto fail;
    }
    if (len > 0 && bytes[len - 1] == '\n') {
        len--;
        if (len > 0 && bytes[len - 1] == '\r') {
            len--;
        }
    }
    if (len == 0 || memchr(bytes, '\n', len) != NULL ||
        memchr(bytes, '\0', len) != NULL) {
        rotarr_error_set(err, ROTARR_EUSAGE,
                         "standard input must hold one non-empty password "
                         "line");
        goto fail;
    }
    rotarr_secret_truncate(secret, len);
    return secret;

fail:
    rotarr_secret_free(secret);
    return NULL;
}

void cmd_json_string(FILE *out, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;

    fputc('"', out);
    for (; *p != '\0'; p++) {
        if (*p == '"' || *p == '\\') {
            fprintf(out, "\\%c", *p);
        } else if (*p < 0x20 || *p == 0x7f) {
            fprintf(out, "\\u%04x", *p);
        } else {
            fputc(*p, out);
        }
    }
    fputc('"', out);
}

struct rotarr_stack *cmd_load_stack(struct rotarr_error *err)
{
    struct rotarr_stack_options opts;

    cmd_stack_options(&opts);
    return rotarr_stack_load(&opts, err);
}

void cmd_stack_options(struct rotarr_stack_options *opts)
{
    memset(opts, 0, sizeof(*opts));
    opts->dir = cmd_globals.dir;
    opts->compose_files = cmd_globals.compose_files;
    opts->compose_file_count = cmd_globals.compose_file_count;
    opts->env_file = cmd_globals.env_file;
    opts->keys = cmd_stack_keyring();
}

/* Returns the long name of option value opt in longopts. */
static const char *option_name(const struct option *longopts, int opt)
{
    for (; longopts->name != NULL; longopts++) {
        if (longopts->val == opt) {
            return longopts->name;
        }
    }
    return "?";
}

int cmd_parse_options(int argc, char **argv, const struct cmd_verb_options *v)
{
    int opt;
    int handled;

    while ((opt = getopt_long(argc, argv, CMD_GLOBAL_SHORTOPTS, v->longopts,
                              NULL)) != -1) {
        if (opt == CMD_OPT_HELP) {
            cmd_print_usage(stdout, v->synopsis);
            fputs(v->help, stdout);
            return -1;
        }
        if (opt >= CMD_OPT_FIRST_VERB_OPTION && opt < v->last) {
            if (v->seen[opt - CMD_OPT_FIRST_VERB_OPTION]++) {
                return cmd_usage_error(v->synopsis,
                                       "option '--%s' given twice",
                                       option_name(v->longopts, opt));
            }
            if (v->set(v->ctx, opt, optarg) != 0) {
                return ROTARR_EUSAGE;
            }
            continue;
        }
        handled = cmd_global_option(opt, optarg, v->synopsis);
        if (handled < 0) {
            return ROTARR_EUSAGE;
        }
        if (handled == 0) {
            return cmd_usage_error(v->synopsis, "unknown option '%s'",
                                   argv[optind - 1]);
        }
    }
    if (optind < argc) {
        return cmd_usage_error(v->synopsis, "unexpected argument '%s'",
                               argv[optind]);
    }
    return 0;
}
