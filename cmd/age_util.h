/*
 * Helpers shared by the age verbs (keygen, encrypt, decrypt, exec,
 * edit): the passphrase prompt, input files, identities, and output that
 * goes either to standard output or to a file renamed into place.
 */
#ifndef ROTARR_CMD_AGE_UTIL_H
#define ROTARR_CMD_AGE_UTIL_H

#include <signal.h>

#include "rotarr/age.h"
#include "rotarr/error.h"
#include "rotarr/secret.h"

/*
 * Prints prompt on the terminal (/dev/tty) and reads one line with echo
 * off.  Passphrases come only from the terminal, never from arguments or
 * standard input.  Returns NULL with err set (ROTARR_EUSAGE) when there
 * is no terminal or the line is longer than ROTARR_AGE_PASSPHRASE_MAX.
 */
struct rotarr_secret *cmd_age_read_tty(const char *prompt,
                                       struct rotarr_error *err);

/* A rotarr_age_passphrase_fn that prompts "Enter passphrase: " and sets
 * the int that ctx points to, when ctx is not NULL. */
struct rotarr_secret *cmd_age_prompt(void *ctx, struct rotarr_error *err);

/*
 * Asks for a new passphrase twice; an empty one or two that differ are
 * errors.
 */
struct rotarr_secret *cmd_age_new_passphrase(struct rotarr_error *err);

/*
 * Opens path for reading ("-" or NULL: standard input) and fills file.
 * Returns 0, or -1 with err set (ROTARR_EFILE).
 */
int cmd_age_open_input(const char *path, struct rotarr_age_fd *file,
                       struct rotarr_error *err);

/* Closes what cmd_age_open_input opened, unless it is standard input. */
void cmd_age_close_input(struct rotarr_age_fd *file);

/* Identities for decryption and what is needed to report their failure. */
struct cmd_age_keys {
    struct rotarr_age_identities *ids;
    struct rotarr_error missing; /* the default identity file is missing */
    int prompted;                /* the passphrase prompt ran */
};

/*
 * Loads the files given with -i, or else the default identity file
 * (rotarr_age_identities_add_default), and sets the terminal prompt for
 * passphrase-encrypted input.  A missing default file is not an error
 * yet, because the input may need only a passphrase: its message is kept
 * in keys->missing.  Returns 0, or -1 with err set.
 */
int cmd_age_keys_load(struct cmd_age_keys *keys, const char *const *paths,
                      size_t count, struct rotarr_error *err);

/*
 * Reports a failed decryption and returns the exit status.  When no
 * identity was there to match, the message about the missing default
 * identity file replaces the one in err.
 */
int cmd_age_keys_report(const struct cmd_age_keys *keys,
                        const struct rotarr_error *err,
                        enum rotarr_age_failure failure);

void cmd_age_keys_release(struct cmd_age_keys *keys);

/*
 * Reads the file at path into *out, decrypted with the default identities
 * (or a passphrase from the terminal) when it is an age file.  *encrypted
 * is set to 1 for an age file and 0 otherwise.  Returns 0, or the exit
 * status after printing the error.
 */
int cmd_age_load_file(const char *path, struct rotarr_secret **out,
                      int *encrypted);

/* The signals after which the age verbs clean up before they die:
 * SIGHUP, SIGINT, SIGQUIT and SIGTERM.  SIGPIPE is not among them,
 * because a temporary output file is a regular file, never a pipe. */
#define CMD_AGE_SIGNAL_COUNT 4

/*
 * Sets handler for the CMD_AGE_SIGNAL_COUNT signals, with all of them
 * blocked while it runs, and stores the previous actions in old.  A
 * signal ignored on entry stays ignored.
 */
void cmd_age_catch_signals(void (*handler)(int),
                           struct sigaction old[CMD_AGE_SIGNAL_COUNT]);

/* Puts back the actions that cmd_age_catch_signals stored in old. */
void cmd_age_restore_signals(const struct sigaction old[CMD_AGE_SIGNAL_COUNT]);

/*
 * Output to standard output, or to a file that appears at path only when
 * cmd_age_output_finish is called with success.  Only one may be open at
 * a time, because its signal handler uses one static path.
 */
struct cmd_age_output {
    struct rotarr_age_fd fd;
    struct rotarr_age_outfile *file;
    struct rotarr_age_sink sink;
    struct sigaction old_signals[CMD_AGE_SIGNAL_COUNT];
    int signals_caught;
};

/*
 * Opens path ("-" or NULL: standard output).  Until
 * cmd_age_output_finish, SIGHUP, SIGINT, SIGQUIT and SIGTERM remove the
 * temporary file and erase the progress line before the process dies of
 * the signal.  Returns 0 or -1.
 */
int cmd_age_output_open(struct cmd_age_output *out, const char *path,
                        struct rotarr_error *err);

/*
 * Renames the file into place when ok is set, else removes it.  Returns
 * 0, or -1 with err set when the rename fails.
 */
int cmd_age_output_finish(struct cmd_age_output *out, int ok,
                          struct rotarr_error *err);

/* Lets the worker threads read a regular input file themselves (see
 * rotarr_age_source). */
void cmd_age_read_file_in_parallel(struct rotarr_age_source *source);

/*
 * The keyring that stacks and journals use for their age-encrypted files:
 * the default identity file, else a passphrase from the terminal, loaded
 * when the first encrypted file is met.
 */
const struct rotarr_age_keyring *cmd_stack_keyring(void);

/* Wipes and frees what cmd_stack_keyring loaded. */
void cmd_stack_keyring_release(void);

#endif
