#include "rotarr/compat.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "age_util.h"
#include "cmd.h"
#include "progress.h"

/* Bound of the repeatable options -r, -R and -i. */
#define ENCRYPT_MAX_KEYS 64

#define ENCRYPT_HELP                                                         \
    "\n"                                                                     \
    "Encrypts <input> (default: standard input) to the age format, which\n" \
    "'age -d' and 'rotarr decrypt' read.\n"                                 \
    "\n"                                                                     \
    "  -r, --recipient <recipient>  an 'age1...' or 'ssh-ed25519 ...' key;\n" \
    "                               repeatable\n"                           \
    "  -R, --recipients-file <path> a file of recipients, one a line;\n"    \
    "                               repeatable\n"                           \
    "  -i, --identity <path>        encrypt to the recipients of the\n"     \
    "                               identities in a file; repeatable\n"     \
    "  -p, --passphrase             encrypt with a passphrase read from the\n"\
    "                               terminal\n"                             \
    "  -a, --armor                  write PEM-style text instead of binary\n" \
    "  -o, --output <path>          write to <path> (created 0600 and\n"    \
    "                               renamed into place when complete)\n"

struct encrypt_options {
    const char *output;
    const char *input;
    const char *recipients[ENCRYPT_MAX_KEYS];
    size_t recipient_count;
    const char *files[ENCRYPT_MAX_KEYS];
    size_t file_count;
    const char *identities[ENCRYPT_MAX_KEYS];
    size_t identity_count;
    int armor;
    int passphrase;
};

static int add_key(const char **list, size_t *count, const char *arg,
                   const char *name)
{
    if (*count == ENCRYPT_MAX_KEYS) {
        return cmd_usage_error(ENCRYPT_SYNOPSIS, "too many '%s' options (at "
                               "most %d)", name, ENCRYPT_MAX_KEYS);
    }
    list[(*count)++] = arg;
    return 0;
}

static int set_flag(int *flag, const char *name)
{
    if (*flag) {
        return cmd_usage_error(ENCRYPT_SYNOPSIS, "option '%s' given twice",
                               name);
    }
    *flag = 1;
    return 0;
}

static int encrypt_option(struct encrypt_options *o, int opt, const char *arg)
{
    int seen_output = o->output != NULL;

    switch (opt) {
    case 'r':
        return add_key(o->recipients, &o->recipient_count, arg, "-r");
    case 'R':
        return add_key(o->files, &o->file_count, arg, "-R");
    case 'i':
        return add_key(o->identities, &o->identity_count, arg, "-i");
    case 'p':
        return set_flag(&o->passphrase, "-p");
    case 'a':
        return set_flag(&o->armor, "-a");
    case 'o':
        o->output = arg;
        return set_flag(&seen_output, "-o");
    }
    return cmd_usage_error(ENCRYPT_SYNOPSIS, "unknown option");
}

static int check_options(const struct encrypt_options *o)
{
    size_t keys = o->recipient_count + o->file_count + o->identity_count;

    if (o->passphrase && keys > 0) {
        return cmd_usage_error(ENCRYPT_SYNOPSIS, "'-p' cannot be combined "
                               "with '-r', '-R' or '-i'");
    }
    if (!o->passphrase && keys == 0) {
        return cmd_usage_error(ENCRYPT_SYNOPSIS, "no recipient; give '-r', "
                               "'-R', '-i' or '-p'");
    }
    if (o->output == NULL && !o->armor && isatty(STDOUT_FILENO)) {
        return cmd_usage_error(ENCRYPT_SYNOPSIS, "refusing to write binary "
                               "data to a terminal; use '-a', '-o <path>' "
                               "or '-o -'");
    }
    return 0;
}

/* Returns -1 to go on, or the exit status. */
static int encrypt_parse(int argc, char **argv, struct encrypt_options *o)
{
    static const struct option longopts[] = {
        CMD_GLOBAL_LONGOPTS,
        { "recipient", required_argument, NULL, 'r' },
        { "recipients-file", required_argument, NULL, 'R' },
        { "identity", required_argument, NULL, 'i' },
        { "passphrase", no_argument, NULL, 'p' },
        { "armor", no_argument, NULL, 'a' },
        { "output", required_argument, NULL, 'o' },
        { NULL, 0, NULL, 0 },
    };
    int opt, status;

    while ((opt = getopt_long(argc, argv, ":" CMD_GLOBAL_SHORTOPTS
                              "r:R:i:pao:h", longopts, NULL)) != -1) {
        if (opt == 'h' || opt == CMD_OPT_HELP) {
            cmd_print_usage(stdout, ENCRYPT_SYNOPSIS);
            fputs(ENCRYPT_HELP, stdout);
            return 0;
        }
        if (opt == '?' || opt == ':') {
            return cmd_usage_error(ENCRYPT_SYNOPSIS, "%s option '%s'",
                                   opt == ':' ? "missing value for"
                                              : "unknown", argv[optind - 1]);
        }
        status = cmd_global_option(opt, optarg, ENCRYPT_SYNOPSIS);
        if (status < 0) {
            return ROTARR_EUSAGE;
        }
        if (status == 0 && encrypt_option(o, opt, optarg) != 0) {
            return ROTARR_EUSAGE;
        }
    }
    if (argc - optind > 1) {
        return cmd_usage_error(ENCRYPT_SYNOPSIS, "unexpected argument '%s'",
                               argv[optind + 1]);
    }
    o->input = optind < argc ? argv[optind] : NULL;
    return check_options(o) == 0 ? -1 : ROTARR_EUSAGE;
}

/* Adds the recipients of each -i identity file. */
static int add_identity_recipients(struct rotarr_age_recipients *recipients,
                                   const char *path, struct rotarr_error *err)
{
    struct rotarr_age_identities *ids = rotarr_age_identities_new(err);
    struct rotarr_buf lines = ROTARR_BUF_INIT;
    char *line, *next;
    int ret = -1;

    if (ids == NULL || rotarr_age_identities_add_file(ids, path, err) < 0 ||
        rotarr_age_identities_recipients(ids, &lines, err) < 0) {
        goto out;
    }
    for (line = lines.data; line != NULL && *line != '\0'; line = next) {
        next = strchr(line, '\n');
        *next++ = '\0';
        if (rotarr_age_recipients_add(recipients, line, err) < 0) {
            goto out;
        }
    }
    ret = 0;

out:
    rotarr_buf_release(&lines);
    rotarr_age_identities_free(ids);
    return ret;
}

static int add_recipients(const struct encrypt_options *o,
                          struct rotarr_age_recipients *recipients,
                          struct rotarr_error *err)
{
    struct rotarr_secret *passphrase;
    size_t i;
    int ret;

    for (i = 0; i < o->recipient_count; i++) {
        if (rotarr_age_recipients_add(recipients, o->recipients[i],
                                      err) < 0) {
            return rotarr_error_prefix(err, "'-r %.80s'", o->recipients[i]);
        }
    }
    for (i = 0; i < o->file_count; i++) {
        if (rotarr_age_recipients_add_file(recipients, o->files[i],
                                           err) < 0) {
            return -1;
        }
    }
    for (i = 0; i < o->identity_count; i++) {
        if (add_identity_recipients(recipients, o->identities[i], err) < 0) {
            return -1;
        }
    }
    if (!o->passphrase) {
        return 0;
    }
    passphrase = cmd_age_new_passphrase(err);
    if (passphrase == NULL) {
        return -1;
    }
    ret = rotarr_age_recipients_add_passphrase(
        recipients, passphrase, ROTARR_AGE_SCRYPT_WORK_FACTOR, err);
    rotarr_secret_free(passphrase);
    return ret;
}

static int encrypt_run(const struct encrypt_options *o,
                       struct rotarr_error *err)
{
    struct rotarr_age_recipients *recipients;
    struct rotarr_age_fd input = { -1, NULL };
    struct rotarr_age_source source = { rotarr_age_fd_read, &input,
                                        NULL };
    struct cmd_age_output output;
    struct cmd_progress progress;
    int ret = -1;

    memset(&output, 0, sizeof(output));
    recipients = rotarr_age_recipients_new(err);
    if (recipients == NULL || add_recipients(o, recipients, err) < 0 ||
        cmd_age_open_input(o->input, &input, err) < 0 ||
        cmd_age_output_open(&output, o->output, err) < 0) {
        goto out;
    }
    cmd_age_read_file_in_parallel(&source);
    cmd_progress_begin(&progress, "encrypting", input.name,
                       CMD_PROGRESS_BYTES,
                       cmd_progress_allowed(cmd_globals.verbosity < 0,
                                            o->output));
    ret = rotarr_age_encrypt_with_progress(
        recipients, &source, &output.sink, o->armor ? ROTARR_AGE_ARMOR : 0,
        cmd_progress_receiver(&progress), err);
    cmd_progress_end(&progress);

out:
    if (cmd_age_output_finish(&output, ret == 0, err) < 0) {
        ret = -1;
    }
    cmd_age_close_input(&input);
    rotarr_age_recipients_free(recipients);
    return ret;
}

int cmd_encrypt(int argc, char **argv)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct encrypt_options o;
    int status;

    memset(&o, 0, sizeof(o));
    status = encrypt_parse(argc, argv, &o);
    if (status >= 0) {
        return status;
    }
    return encrypt_run(&o, &err) == 0 ? ROTARR_OK : cmd_report(&err);
}
