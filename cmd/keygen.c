#include "rotarr/compat.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "age_util.h"
#include "cmd.h"
#include "rotarr/fileio.h"

#define KEYGEN_HELP                                                          \
    "\n"                                                                     \
    "Generates an age X25519 identity in the format of age-keygen.  With\n" \
    "-o, the file is created with mode 0600 and an existing file is never\n" \
    "overwritten; the public key is printed on standard error.\n"          \
    "\n"                                                                     \
    "  -o, --output <path>  write the key to <path>\n"                       \
    "  -y                   print the recipients of the identity file\n"    \
    "                       <input> (default: standard input) instead\n"

struct keygen_options {
    const char *output;
    const char *input;
    int convert;
};

/* Returns -1 to go on, or the exit status. */
static int keygen_parse(int argc, char **argv, struct keygen_options *o)
{
    static const struct option longopts[] = {
        CMD_GLOBAL_LONGOPTS,
        { "output", required_argument, NULL, 'o' },
        { NULL, 0, NULL, 0 },
    };
    int opt, status;

    while ((opt = getopt_long(argc, argv, ":" CMD_GLOBAL_SHORTOPTS "o:yh",
                              longopts, NULL)) != -1) {
        if (opt == 'h' || opt == CMD_OPT_HELP) {
            cmd_print_usage(stdout, KEYGEN_SYNOPSIS);
            fputs(KEYGEN_HELP, stdout);
            return 0;
        }
        if (opt == '?' || opt == ':') {
            return cmd_usage_error(KEYGEN_SYNOPSIS, "%s option '%s'",
                                   opt == ':' ? "missing value for"
                                              : "unknown", argv[optind - 1]);
        }
        status = cmd_global_option(opt, optarg, KEYGEN_SYNOPSIS);
        if (status < 0) {
            return ROTARR_EUSAGE;
        }
        if (status == 1) {
            continue;
        }
        if ((opt == 'o' && o->output != NULL) || (opt == 'y' && o->convert)) {
            return cmd_usage_error(KEYGEN_SYNOPSIS, "option '-%c' given "
                                   "twice", opt);
        }
        if (opt == 'o') {
            o->output = optarg;
        } else {
            o->convert = 1;
        }
    }
    if (argc - optind > (o->convert ? 1 : 0)) {
        return cmd_usage_error(KEYGEN_SYNOPSIS, "unexpected argument '%s'",
                               argv[optind + (o->convert ? 1 : 0)]);
    }
    o->input = optind < argc ? argv[optind] : NULL;
    return -1;
}

static int write_all(int fd, const char *bytes, size_t len)
{
    struct rotarr_age_fd out = { fd, "standard output" };
    struct rotarr_error err = ROTARR_ERROR_INIT;

    fflush(stdout);
    return rotarr_age_fd_write(&out, bytes, len, &err) < 0 ? cmd_report(&err)
                                                          : 0;
}

/* Warns when a secret key goes to a regular file that others can read. */
static void warn_world_readable(void)
{
    struct stat st;

    if (fstat(STDOUT_FILENO, &st) == 0 && S_ISREG(st.st_mode) &&
        (st.st_mode & S_IROTH) != 0) {
        cmd_error("warning: writing a secret key to a world-readable file");
    }
}

static int generate(const struct keygen_options *o)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_secret *text;
    char recipient[ROTARR_AGE_RECIPIENT_SIZE];
    int status;

    text = rotarr_age_keygen(time(NULL), recipient, &err);
    if (text == NULL) {
        return cmd_report(&err);
    }
    if (o->output == NULL || strcmp(o->output, "-") == 0) {
        warn_world_readable();
        status = write_all(STDOUT_FILENO, rotarr_secret_data(text),
                           rotarr_secret_len(text));
    } else if (rotarr_file_create_secret(o->output, rotarr_secret_data(text),
                                         rotarr_secret_len(text), &err) < 0) {
        status = cmd_report(&err);
    } else {
        fprintf(stderr, "Public key: %s\n", recipient);
        status = ROTARR_OK;
    }
    rotarr_secret_free(text);
    return status;
}

/* Reads all of file (at most ROTARR_AGE_KEY_FILE_MAX bytes) into secret
 * memory. */
static struct rotarr_secret *read_identities(struct rotarr_age_fd *file,
                                             struct rotarr_error *err)
{
    struct rotarr_secret *text;
    size_t len = 0;
    ssize_t n = 1;

    text = rotarr_secret_alloc(ROTARR_AGE_KEY_FILE_MAX + 1, err);
    while (text != NULL && n > 0 && len <= ROTARR_AGE_KEY_FILE_MAX) {
        n = rotarr_age_fd_read(file, rotarr_secret_data(text) + len,
                               ROTARR_AGE_KEY_FILE_MAX + 1 - len, err);
        len += n > 0 ? (size_t)n : 0;
    }
    if (text != NULL && (n < 0 || len > ROTARR_AGE_KEY_FILE_MAX)) {
        if (n >= 0) {
            rotarr_error_set(err, ROTARR_EFILE, "'%s' is larger than %zu "
                             "bytes", file->name, ROTARR_AGE_KEY_FILE_MAX);
        }
        rotarr_secret_free(text);
        return NULL;
    }
    if (text != NULL) {
        rotarr_secret_truncate(text, len);
    }
    return text;
}

static int convert(const struct keygen_options *o)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_age_identities *ids = NULL;
    struct rotarr_age_fd input = { -1, NULL };
    struct rotarr_secret *text = NULL;
    struct rotarr_buf lines = ROTARR_BUF_INIT;
    struct cmd_age_output output;
    int ret = -1;

    memset(&output, 0, sizeof(output));
    if (cmd_age_open_input(o->input, &input, &err) < 0 ||
        (text = read_identities(&input, &err)) == NULL ||
        (ids = rotarr_age_identities_new(&err)) == NULL ||
        rotarr_age_identities_add_text(ids, rotarr_secret_data(text),
                                       rotarr_secret_len(text), input.name,
                                       &err) < 0 ||
        rotarr_age_identities_recipients(ids, &lines, &err) < 0 ||
        cmd_age_output_open(&output, o->output, &err) < 0) {
        goto out;
    }
    ret = output.sink.write(output.sink.ctx, lines.data, lines.len, &err);

out:
    if (ret < 0 && err.code == ROTARR_EUSAGE) {
        err.code = ROTARR_EFILE; /* the input has no usable identity */
    }
    if (cmd_age_output_finish(&output, ret == 0, &err) < 0) {
        ret = -1;
    }
    cmd_age_close_input(&input);
    rotarr_buf_release(&lines);
    rotarr_age_identities_free(ids);
    rotarr_secret_free(text);
    return ret == 0 ? ROTARR_OK : cmd_report(&err);
}

int cmd_keygen(int argc, char **argv)
{
    struct keygen_options o;
    int status;

    memset(&o, 0, sizeof(o));
    status = keygen_parse(argc, argv, &o);
    if (status >= 0) {
        return status;
    }
    return o.convert ? convert(&o) : generate(&o);
}
