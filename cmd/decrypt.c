#include "rotarr/compat.h"

#include <stdio.h>
#include <string.h>

#include "age_util.h"
#include "cmd.h"
#include "progress.h"

/* Bound of the repeatable option -i. */
#define DECRYPT_MAX_IDENTITIES 64

#define DECRYPT_HELP                                                         \
    "\n"                                                                     \
    "Decrypts the age file <input> (default: standard input), binary or\n" \
    "armored.  A passphrase-encrypted file asks for its passphrase on the\n" \
    "terminal.\n"                                                            \
    "\n"                                                                     \
    "  -i, --identity <path>  an identity file (age keys, or an OpenSSH\n"  \
    "                         ed25519 key); repeatable (default:\n"         \
    "                         $SOPS_AGE_KEY_FILE, then\n"                   \
    "                         ~/.config/sops/age/keys.txt)\n"               \
    "  -o, --output <path>    write to <path> (created 0600 and renamed\n" \
    "                         into place only when decryption succeeds)\n"

struct decrypt_options {
    const char *output;
    const char *input;
    const char *identities[DECRYPT_MAX_IDENTITIES];
    size_t identity_count;
};

static int decrypt_option(struct decrypt_options *o, int opt, const char *arg)
{
    switch (opt) {
    case 'i':
        if (o->identity_count == DECRYPT_MAX_IDENTITIES) {
            return cmd_usage_error(DECRYPT_SYNOPSIS, "too many '-i' options "
                                   "(at most %d)", DECRYPT_MAX_IDENTITIES);
        }
        o->identities[o->identity_count++] = arg;
        return 0;
    case 'o':
        if (o->output != NULL) {
            return cmd_usage_error(DECRYPT_SYNOPSIS, "option '-o' given "
                                   "twice");
        }
        o->output = arg;
        return 0;
    }
    return cmd_usage_error(DECRYPT_SYNOPSIS, "unknown option");
}

/* Returns -1 to go on, or the exit status. */
static int decrypt_parse(int argc, char **argv, struct decrypt_options *o)
{
    static const struct option longopts[] = {
        CMD_GLOBAL_LONGOPTS,
        { "identity", required_argument, NULL, 'i' },
        { "output", required_argument, NULL, 'o' },
        { NULL, 0, NULL, 0 },
    };
    int opt, status;

    while ((opt = getopt_long(argc, argv, ":" CMD_GLOBAL_SHORTOPTS "i:o:h",
                              longopts, NULL)) != -1) {
        if (opt == 'h' || opt == CMD_OPT_HELP) {
            cmd_print_usage(stdout, DECRYPT_SYNOPSIS);
            fputs(DECRYPT_HELP, stdout);
            return 0;
        }
        if (opt == '?' || opt == ':') {
            return cmd_usage_error(DECRYPT_SYNOPSIS, "%s option '%s'",
                                   opt == ':' ? "missing value for"
                                              : "unknown", argv[optind - 1]);
        }
        status = cmd_global_option(opt, optarg, DECRYPT_SYNOPSIS);
        if (status < 0) {
            return ROTARR_EUSAGE;
        }
        if (status == 0 && decrypt_option(o, opt, optarg) != 0) {
            return ROTARR_EUSAGE;
        }
    }
    if (argc - optind > 1) {
        return cmd_usage_error(DECRYPT_SYNOPSIS, "unexpected argument '%s'",
                               argv[optind + 1]);
    }
    o->input = optind < argc ? argv[optind] : NULL;
    return -1;
}

static int decrypt_run(const struct decrypt_options *o)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct cmd_age_keys keys;
    struct rotarr_age_fd input = { -1, NULL };
    struct rotarr_age_source source = { rotarr_age_fd_read, &input,
                                        NULL };
    struct cmd_age_output output;
    struct cmd_progress progress;
    enum rotarr_age_failure failure = ROTARR_AGE_FAIL_IO;
    int ret = -1, status;

    memset(&output, 0, sizeof(output));
    if (cmd_age_keys_load(&keys, o->identities, o->identity_count,
                          &err) < 0 ||
        cmd_age_open_input(o->input, &input, &err) < 0 ||
        cmd_age_output_open(&output, o->output, &err) < 0) {
        goto out;
    }
    cmd_age_read_file_in_parallel(&source);
    cmd_progress_begin(&progress, "decrypting", input.name,
                       CMD_PROGRESS_BYTES,
                       cmd_progress_allowed(cmd_globals.verbosity < 0,
                                            o->output));
    ret = rotarr_age_decrypt_with_progress(
        keys.ids, &source, &output.sink, 0, cmd_progress_receiver(&progress),
        &failure, &err);
    cmd_progress_end(&progress);
    if (ret < 0 && failure != ROTARR_AGE_FAIL_IO) {
        rotarr_error_prefix(&err, o->input != NULL && strcmp(o->input, "-")
                            ? "cannot decrypt '%s'" : "cannot decrypt %s",
                            input.name);
    }

out:
    if (cmd_age_output_finish(&output, ret == 0, &err) < 0) {
        ret = -1;
    }
    status = ret == 0 ? ROTARR_OK : cmd_age_keys_report(&keys, &err, failure);
    cmd_age_close_input(&input);
    cmd_age_keys_release(&keys);
    return status;
}

int cmd_decrypt(int argc, char **argv)
{
    struct decrypt_options o;
    int status;

    memset(&o, 0, sizeof(o));
    status = decrypt_parse(argc, argv, &o);
    if (status >= 0) {
        return status;
    }
    return decrypt_run(&o);
}
