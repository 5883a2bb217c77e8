#include "rotarr/compat.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "rotarr/gen.h"
#include "rotarr/secret.h"

/* Bounds of COUNT and of -b. */
#define GEN_MAX_COUNT 10000
#define GEN_MAX_BITS 100000

/* Length without -l or -b: characters, or words for -c words. */
#define GEN_DEFAULT_LENGTH 32

#define GEN_OPTIONS_HELP \
    "\nPrints <count> random passwords (default 1), one per line.\n" \
    "\noptions:\n" \
    "  -l, --length <n>     length in characters, or words with -c words\n" \
    "                       (default: 32 characters, or the 10 words that\n" \
    "                       reach 128 bits)\n" \
    "  -b, --bits <n>       the shortest length with at least <n> bits\n" \
    "  -c, --charset <set>  alnum     A-Z a-z 0-9 (default)\n" \
    "                       urlsafe   alnum plus - and _, never first\n" \
    "                       hex       0-9 a-f\n" \
    "                       base64url A-Z a-z 0-9 - _\n" \
    "                       words     EFF long word list, joined by -\n" \
    "      --weak           allow passwords under 128 bits\n" \
    "  -h, --help           show this help\n\n"

enum {
    GEN_OPT_WEAK = CMD_OPT_FIRST_VERB_OPTION,
};

/* The request from the command line.  seen_* catch repeated options. */
struct gen_request {
    enum rotarr_charset charset;
    size_t length;
    unsigned long bits;
    unsigned long count;
    int weak;
    int seen_length;
    int seen_bits;
    int seen_charset;
    int seen_weak;
};

/* Parses a decimal number from 1 to max with nothing around it. */
static int parse_number(const char *arg, unsigned long max,
                        unsigned long *value)
{
    char *end;

    if (arg[0] < '0' || arg[0] > '9') {
        return -1;
    }
    errno = 0;
    *value = strtoul(arg, &end, 10);
    if (errno != 0 || *end != '\0' || *value == 0 || *value > max) {
        return -1;
    }
    return 0;
}

static int mark_seen(int *seen, const char *name)
{
    if (*seen) {
        return cmd_usage_error(GEN_SYNOPSIS, "option '%s' given twice",
                               name);
    }
    *seen = 1;
    return 0;
}

/* Handles one option of gen itself; returns 0 or an exit status. */
static int gen_option(int opt, const char *arg, struct gen_request *req)
{
    unsigned long value;

    switch (opt) {
    case 'l':
        if (mark_seen(&req->seen_length, "-l") != 0) {
            return ROTARR_EUSAGE;
        }
        if (parse_number(arg, ROTARR_GEN_MAX_LENGTH, &value) < 0) {
            return cmd_usage_error(GEN_SYNOPSIS, "invalid length '%s'; use "
                                   "a number from 1 to %d", arg,
                                   ROTARR_GEN_MAX_LENGTH);
        }
        req->length = (size_t)value;
        return 0;
    case 'b':
        if (mark_seen(&req->seen_bits, "-b") != 0) {
            return ROTARR_EUSAGE;
        }
        if (parse_number(arg, GEN_MAX_BITS, &req->bits) < 0) {
            return cmd_usage_error(GEN_SYNOPSIS, "invalid strength '%s'; "
                                   "use a number of bits from 1 to %d", arg,
                                   GEN_MAX_BITS);
        }
        return 0;
    case 'c':
        if (mark_seen(&req->seen_charset, "-c") != 0) {
            return ROTARR_EUSAGE;
        }
        if (rotarr_gen_charset_parse(arg, &req->charset) < 0) {
            return cmd_usage_error(GEN_SYNOPSIS, "unknown charset '%s'; use "
                                   "alnum, urlsafe, hex, base64url or "
                                   "words", arg);
        }
        return 0;
    case GEN_OPT_WEAK:
        req->weak = 1;
        return mark_seen(&req->seen_weak, "--weak") != 0 ? ROTARR_EUSAGE
                                                         : 0;
    default:
        return cmd_usage_error(GEN_SYNOPSIS, "unknown option");
    }
}

/* Returns -1 to go on, or the exit status: 0 after --help, 2 on error. */
static int gen_parse(int argc, char **argv, struct gen_request *req)
{
    static const struct option longopts[] = {
        CMD_GLOBAL_LONGOPTS,
        { "length", required_argument, NULL, 'l' },
        { "bits", required_argument, NULL, 'b' },
        { "charset", required_argument, NULL, 'c' },
        { "weak", no_argument, NULL, GEN_OPT_WEAK },
        { NULL, 0, NULL, 0 },
    };
    int opt;
    int status;

    while ((opt = getopt_long(argc, argv, ":" CMD_GLOBAL_SHORTOPTS "l:b:c:h",
                              longopts, NULL)) != -1) {
        if (opt == 'h' || opt == CMD_OPT_HELP) {
            cmd_print_usage(stdout, GEN_SYNOPSIS);
            fputs(GEN_OPTIONS_HELP GLOBAL_OPTIONS_HELP, stdout);
            return 0;
        }
        if (opt == '?' || opt == ':') {
            return cmd_usage_error(GEN_SYNOPSIS, "%s option '%s'",
                                   opt == ':' ? "missing value for"
                                              : "unknown",
                                   argv[optind - 1]);
        }
        status = cmd_global_option(opt, optarg, GEN_SYNOPSIS);
        if (status != 0) {
            if (status < 0) {
                return ROTARR_EUSAGE;
            }
            continue;
        }
        status = gen_option(opt, optarg, req);
        if (status != 0) {
            return status;
        }
    }
    return -1;
}

/* Reads COUNT and fills in the length; returns -1 to go on, or 2. */
static int gen_check(int argc, char **argv, struct gen_request *req)
{
    if (req->seen_length && req->seen_bits) {
        return cmd_usage_error(GEN_SYNOPSIS, "options '-l' and '-b' cannot "
                               "be used together");
    }
    if (argc - optind > 1) {
        return cmd_usage_error(GEN_SYNOPSIS, "too many arguments, starting "
                               "at '%s'", argv[optind + 1]);
    }
    if (argc - optind == 1
        && parse_number(argv[optind], GEN_MAX_COUNT, &req->count) < 0) {
        return cmd_usage_error(GEN_SYNOPSIS, "invalid count '%s'; use a "
                               "number from 1 to %d", argv[optind],
                               GEN_MAX_COUNT);
    }
    if (req->seen_bits) {
        req->length = rotarr_gen_length_for_bits(req->charset,
                                                 (double)req->bits);
    } else if (!req->seen_length) {
        req->length = req->charset == ROTARR_CHARSET_WORDS
                          ? rotarr_gen_length_for_bits(req->charset,
                                                       ROTARR_GEN_MIN_BITS)
                          : GEN_DEFAULT_LENGTH;
    }
    if (req->length > ROTARR_GEN_MAX_LENGTH) {
        return cmd_usage_error(GEN_SYNOPSIS, "%lu bits need more than %d "
                               "symbols; ask for fewer bits", req->bits,
                               ROTARR_GEN_MAX_LENGTH);
    }
    return -1;
}

static int gen_check_strength(const struct gen_request *req)
{
    double bits = rotarr_gen_bits(req->charset, req->length);

    if (bits >= ROTARR_GEN_MIN_BITS || req->weak) {
        return -1;
    }
    if (req->charset == ROTARR_CHARSET_WORDS) {
        return cmd_usage_error(GEN_SYNOPSIS, "a passphrase of %zu words has "
                               "%.1f bits, under the %d-bit minimum; ask for "
                               "more words, or pass '--weak' to accept it",
                               req->length, bits, ROTARR_GEN_MIN_BITS);
    }
    return cmd_usage_error(GEN_SYNOPSIS, "a password of %zu %s characters "
                           "has %.1f bits, under the %d-bit minimum; ask "
                           "for a longer one, or pass '--weak' to accept it",
                           req->length, rotarr_gen_charset_name(req->charset),
                           bits, ROTARR_GEN_MIN_BITS);
}

static void print_password(unsigned long i,
                           const struct rotarr_secret *password)
{
    if (cmd_globals.json) {
        /* The alphabets hold nothing that JSON strings must escape. */
        printf("%s\"%s\"", i > 0 ? "," : "", rotarr_secret_data(password));
        return;
    }
    fwrite(rotarr_secret_data(password), 1, rotarr_secret_len(password),
           stdout);
    fputc('\n', stdout);
}

static int gen_print(const struct gen_request *req)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_secret *password;
    unsigned long i;

    if (cmd_globals.json) {
        printf("{\"charset\":\"%s\",\"length\":%zu,\"bits\":%.1f,"
               "\"passwords\":[", rotarr_gen_charset_name(req->charset),
               req->length, rotarr_gen_bits(req->charset, req->length));
    }
    for (i = 0; i < req->count; i++) {
        password = rotarr_gen_password(req->charset, req->length, NULL,
                                       &err);
        if (password == NULL) {
            return cmd_report(&err);
        }
        print_password(i, password);
        rotarr_secret_free(password);
    }
    if (cmd_globals.json) {
        fputs("]}\n", stdout);
    }
    return 0;
}

int cmd_gen(int argc, char **argv)
{
    struct gen_request req = { .charset = ROTARR_CHARSET_ALNUM, .count = 1 };
    int status;

    status = gen_parse(argc, argv, &req);
    if (status < 0) {
        status = gen_check(argc, argv, &req);
    }
    if (status < 0) {
        status = gen_check_strength(&req);
    }
    if (status >= 0) {
        return status;
    }
    if (cmd_globals.verbosity > 0) {
        cmd_notice("%s, %zu %s, %.1f bits each",
                   rotarr_gen_charset_name(req.charset), req.length,
                   req.charset == ROTARR_CHARSET_WORDS ? "words"
                                                       : "characters",
                   rotarr_gen_bits(req.charset, req.length));
    }
    return gen_print(&req);
}
