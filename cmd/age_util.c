#include "rotarr/compat.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <sodium.h>

#include "age_util.h"
#include "cmd.h"
#include "progress.h"
#include "rotarr/fileio.h"

/* The terminal whose echo is off while a passphrase is read, so that a
 * signal handler can turn it back on. */
static int tty_fd = -1;
static struct termios tty_saved;

/* The temporary output file that a signal handler removes.  It is filled
 * before the handler is installed and emptied after it is removed. */
static char signal_temp_path[PATH_MAX];

static const int cleanup_signals[CMD_AGE_SIGNAL_COUNT] = {
    SIGHUP, SIGINT, SIGQUIT, SIGTERM,
};

/* Undoes what the process changed outside itself, then dies of sig so
 * that the exit status shows it.  Only async-signal-safe calls. */
static void clean_up_and_raise(int sig)
{
    if (tty_fd >= 0) {
        tcsetattr(tty_fd, TCSANOW, &tty_saved);
    }
    if (signal_temp_path[0] != '\0') {
        unlink(signal_temp_path);
    }
    cmd_progress_erase_in_handler();
    signal(sig, SIG_DFL);
    raise(sig);
}

void cmd_age_catch_signals(void (*handler)(int),
                           struct sigaction old[CMD_AGE_SIGNAL_COUNT])
{
    struct sigaction action, previous;
    size_t i;

    memset(&action, 0, sizeof(action));
    action.sa_handler = handler;
    sigemptyset(&action.sa_mask);
    for (i = 0; i < CMD_AGE_SIGNAL_COUNT; i++) {
        sigaddset(&action.sa_mask, cleanup_signals[i]);
    }
    for (i = 0; i < CMD_AGE_SIGNAL_COUNT; i++) {
        sigaction(cleanup_signals[i], NULL, &previous);
        /* A signal ignored on entry (nohup, a background job of a
         * shell without job control) stays ignored. */
        if (previous.sa_handler != SIG_IGN) {
            sigaction(cleanup_signals[i], &action, NULL);
        }
        old[i] = previous;
    }
}

void cmd_age_restore_signals(const struct sigaction old[CMD_AGE_SIGNAL_COUNT])
{
    size_t i;

    for (i = 0; i < CMD_AGE_SIGNAL_COUNT; i++) {
        sigaction(cleanup_signals[i], &old[i], NULL);
    }
}

static void tty_write(int fd, const char *text)
{
    (void)rotarr_write_all(fd, text, strlen(text));
}

/* Reads one line into secret; returns its length, or -1 when it is too
 * long or the read fails. */
static ssize_t read_line(int fd, struct rotarr_secret *secret)
{
    char *bytes = rotarr_secret_data(secret);
    size_t len = 0, max = rotarr_secret_len(secret);
    int too_long = 0;
    ssize_t n;
    char c;

    for (;;) {
        n = read(fd, &c, 1);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0 || c == '\n') {
            break;
        }
        if (len == max) {
            too_long = 1;
        } else {
            bytes[len++] = c;
        }
    }
    c = 0;
    if (n < 0 || too_long) {
        return -1;
    }
    if (len > 0 && bytes[len - 1] == '\r') {
        len--;
    }
    return (ssize_t)len;
}

/* Prints prompt and reads a line from the terminal fd with echo off. */
static ssize_t read_hidden(int fd, const char *prompt,
                           struct rotarr_secret *secret)
{
    struct sigaction old[CMD_AGE_SIGNAL_COUNT];
    struct termios quiet;
    ssize_t len;

    if (tcgetattr(fd, &tty_saved) != 0) {
        tty_write(fd, prompt);
        return read_line(fd, secret);
    }
    tty_fd = fd;
    cmd_age_catch_signals(clean_up_and_raise, old);
    quiet = tty_saved;
    quiet.c_lflag &= ~(tcflag_t)ECHO;
    /* Echo goes off before the prompt appears, so that nothing typed
     * after it is shown. */
    tcsetattr(fd, TCSANOW, &quiet);
    tty_write(fd, prompt);
    len = read_line(fd, secret);
    tcsetattr(fd, TCSANOW, &tty_saved);
    cmd_age_restore_signals(old);
    tty_fd = -1;
    tty_write(fd, "\n");
    return len;
}

struct rotarr_secret *cmd_age_read_tty(const char *prompt,
                                       struct rotarr_error *err)
{
    struct rotarr_secret *secret;
    ssize_t len;
    int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);

    if (fd < 0) {
        rotarr_error_set(err, ROTARR_EUSAGE, "cannot ask for a passphrase: "
                         "no terminal ('/dev/tty': %s); passphrases are "
                         "read only from a terminal", strerror(errno));
        return NULL;
    }
    secret = rotarr_secret_alloc(ROTARR_AGE_PASSPHRASE_MAX, err);
    if (secret != NULL) {
        len = read_hidden(fd, prompt, secret);
        if (len < 0) {
            rotarr_secret_free(secret);
            secret = NULL;
            rotarr_error_set(err, ROTARR_EUSAGE, "cannot read the "
                             "passphrase: longer than %d bytes, or the "
                             "terminal failed", ROTARR_AGE_PASSPHRASE_MAX);
        } else {
            rotarr_secret_truncate(secret, (size_t)len);
        }
    }
    close(fd);
    return secret;
}

struct rotarr_secret *cmd_age_prompt(void *ctx, struct rotarr_error *err)
{
    int *prompted = ctx;

    if (prompted != NULL) {
        *prompted = 1;
    }
    return cmd_age_read_tty("Enter passphrase: ", err);
}

struct rotarr_secret *cmd_age_new_passphrase(struct rotarr_error *err)
{
    struct rotarr_secret *first, *second = NULL;

    first = cmd_age_read_tty("Enter passphrase: ", err);
    if (first == NULL) {
        return NULL;
    }
    if (rotarr_secret_len(first) == 0) {
        rotarr_error_set(err, ROTARR_EUSAGE, "empty passphrase; type one, "
                         "or make one with 'rotarr gen -c words'");
        goto fail;
    }
    second = cmd_age_read_tty("Confirm passphrase: ", err);
    if (second == NULL) {
        goto fail;
    }
    if (!rotarr_secret_equal(first, second)) {
        rotarr_error_set(err, ROTARR_EUSAGE, "the passphrases do not "
                         "match");
        goto fail;
    }
    rotarr_secret_free(second);
    return first;

fail:
    rotarr_secret_free(first);
    rotarr_secret_free(second);
    return NULL;
}

int cmd_age_open_input(const char *path, struct rotarr_age_fd *file,
                       struct rotarr_error *err)
{
    struct stat st;

    if (path == NULL || strcmp(path, "-") == 0) {
        file->fd = STDIN_FILENO;
        file->name = "standard input";
        return 0;
    }
    file->name = path;
    file->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (file->fd < 0) {
        return rotarr_error_set(err, ROTARR_EFILE, "cannot open '%s': %s",
                                path, strerror(errno));
    }
    if (fstat(file->fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        close(file->fd);
        file->fd = -1;
        return rotarr_error_set(err, ROTARR_EFILE, "'%s' is a directory",
                                path);
    }
    return 0;
}

void cmd_age_close_input(struct rotarr_age_fd *file)
{
    if (file->fd > STDIN_FILENO) {
        close(file->fd);
    }
    file->fd = -1;
}

int cmd_age_keys_load(struct cmd_age_keys *keys, const char *const *paths,
                      size_t count, struct rotarr_error *err)
{
    size_t i;

    memset(keys, 0, sizeof(*keys));
    keys->ids = rotarr_age_identities_new(err);
    if (keys->ids == NULL) {
        return -1;
    }
    rotarr_age_identities_set_prompt(keys->ids, cmd_age_prompt,
                                     &keys->prompted);
    for (i = 0; i < count; i++) {
        if (rotarr_age_identities_add_file(keys->ids, paths[i], err) < 0) {
            return -1;
        }
    }
    if (count > 0) {
        return 0;
    }
    switch (rotarr_age_identities_add_default(keys->ids, &keys->missing)) {
    case -1:
        *err = keys->missing;
        return -1;
    case 1:
        return 0;
    default:
        rotarr_error_clear(&keys->missing);
        return 0;
    }
}

int cmd_age_keys_report(const struct cmd_age_keys *keys,
                        const struct rotarr_error *err,
                        enum rotarr_age_failure failure)
{
    if (failure == ROTARR_AGE_FAIL_NO_MATCH && keys->ids != NULL &&
        !keys->prompted &&
        keys->missing.code != ROTARR_OK &&
        rotarr_age_identities_count(keys->ids) == 0) {
        return cmd_report(&keys->missing);
    }
    return cmd_report(err);
}

void cmd_age_keys_release(struct cmd_age_keys *keys)
{
    rotarr_age_identities_free(keys->ids);
    keys->ids = NULL;
}

static int decrypt_bytes(const char *path, const char *bytes, size_t len,
                         struct rotarr_secret **out)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    enum rotarr_age_failure failure = ROTARR_AGE_FAIL_IO;
    struct cmd_age_keys keys;
    int status = ROTARR_OK;

    if (cmd_age_keys_load(&keys, NULL, 0, &err) < 0) {
        status = cmd_report(&err);
        goto out;
    }
    *out = rotarr_age_decrypt_buf(keys.ids, bytes, len, &failure, &err);
    if (*out == NULL) {
        rotarr_error_prefix(&err, "cannot decrypt '%s'", path);
        status = cmd_age_keys_report(&keys, &err, failure);
    }

out:
    cmd_age_keys_release(&keys);
    return status;
}

int cmd_age_load_file(const char *path, struct rotarr_secret **out,
                      int *encrypted)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    char *bytes;
    size_t len;
    int status;

    *out = NULL;
    if (rotarr_file_read(path, 0, &bytes, &len, &err) < 0) {
        return cmd_report(&err);
    }
    *encrypted = rotarr_age_is_encrypted(bytes, len);
    if (*encrypted) {
        status = decrypt_bytes(path, bytes, len, out);
    } else {
        *out = rotarr_secret_new(bytes, len, &err);
        status = *out == NULL ? cmd_report(&err) : ROTARR_OK;
    }
    sodium_memzero(bytes, len);
    free(bytes);
    return status;
}

void cmd_age_read_file_in_parallel(struct rotarr_age_source *source)
{
    source->file_fd = rotarr_age_fd_file;
}

int cmd_age_output_open(struct cmd_age_output *out, const char *path,
                        struct rotarr_error *err)
{
    const char *temp;
    int n;

    memset(out, 0, sizeof(*out));
    out->sink.write = rotarr_age_fd_write;
    out->sink.ctx = &out->fd;
    if (path == NULL || strcmp(path, "-") == 0) {
        out->fd.fd = STDOUT_FILENO;
        out->fd.name = "standard output";
    } else {
        out->file = rotarr_age_outfile_open(path, err);
        if (out->file == NULL) {
            return -1;
        }
        out->fd.fd = rotarr_age_outfile_fd(out->file);
        out->fd.name = path;
        temp = rotarr_age_outfile_temp_path(out->file);
        n = snprintf(signal_temp_path, sizeof(signal_temp_path), "%s",
                     temp != NULL ? temp : "");
        if (n < 0 || (size_t)n >= sizeof(signal_temp_path)) {
            /* open() took the path, so it is below PATH_MAX. */
            signal_temp_path[0] = '\0';
        }
    }
    /* Also for standard output, so that the progress line is erased. */
    cmd_age_catch_signals(clean_up_and_raise, out->old_signals);
    out->signals_caught = 1;
    return 0;
}

int cmd_age_output_finish(struct cmd_age_output *out, int ok,
                          struct rotarr_error *err)
{
    struct rotarr_age_outfile *file = out->file;
    int ret = 0;

    out->file = NULL;
    if (file != NULL && !ok) {
        rotarr_age_outfile_abort(file);
    } else if (file != NULL) {
        ret = rotarr_age_outfile_commit(file, err);
    }
    /* After the rename, so that a signal during the sync still removes
     * the temporary file. */
    if (out->signals_caught) {
        cmd_age_restore_signals(out->old_signals);
        out->signals_caught = 0;
    }
    signal_temp_path[0] = '\0';
    return ret;
}

/* The identities of the stack's encrypted files, loaded on first use. */
static struct cmd_age_keys stack_keys;
static int stack_keys_loaded;
/* A passphrase typed at the prompt, added to stack_keys at the next use
 * so that a verb reading the stack twice prompts only once.  It cannot be
 * added from the prompt, which runs while a decryption reads the
 * identities. */
static struct rotarr_secret *stack_passphrase;

static struct rotarr_secret *stack_prompt(void *ctx, struct rotarr_error *err)
{
    struct rotarr_secret *typed = cmd_age_prompt(ctx, err);

    if (typed != NULL) {
        rotarr_secret_free(stack_passphrase);
        stack_passphrase = rotarr_secret_new(rotarr_secret_data(typed),
                                             rotarr_secret_len(typed), NULL);
    }
    return typed;
}

static const struct rotarr_age_identities *stack_identities(
    void *ctx, struct rotarr_error *err)
{
    (void)ctx;
    if (!stack_keys_loaded) {
        if (cmd_age_keys_load(&stack_keys, NULL, 0, err) < 0) {
            cmd_age_keys_release(&stack_keys);
            return NULL;
        }
        rotarr_age_identities_set_prompt(stack_keys.ids, stack_prompt,
                                         &stack_keys.prompted);
        stack_keys_loaded = 1;
    }
    if (stack_passphrase != NULL) {
        if (rotarr_age_identities_add_passphrase(stack_keys.ids,
                                                 stack_passphrase, err) < 0) {
            return NULL;
        }
        rotarr_secret_free(stack_passphrase);
        stack_passphrase = NULL;
    }
    if (stack_keys.missing.code != ROTARR_OK) {
        *err = stack_keys.missing;
    }
    return stack_keys.ids;
}

static const struct rotarr_age_keyring stack_keyring = {
    stack_identities,
    NULL,
};

const struct rotarr_age_keyring *cmd_stack_keyring(void)
{
    return &stack_keyring;
}

void cmd_stack_keyring_release(void)
{
    rotarr_secret_free(stack_passphrase);
    stack_passphrase = NULL;
    cmd_age_keys_release(&stack_keys);
    stack_keys_loaded = 0;
}
