#include "rotarr/compat.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"

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
{
    char msg[ROTARR_ERROR_MSG_MAX];

    vsnprintf(msg, sizeof(msg), fmt, ap);
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
