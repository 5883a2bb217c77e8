/*
 * The rotation journal and the stack lock, both in STACKDIR/.rotarr/.
 *
 * A rotation writes the new secret to the journal, and makes it durable,
 * before it changes the server, so that a crash at any point leaves a
 * file that records every password the server may be using.  The
 * journal is deleted only after every file that contains the secret
 * has been rewritten.  An exclusive flock on .rotarr/lock keeps two rotarr
 * processes from working on one stack at the same time.
 *
 * File format (text, one record per line, LF endings):
 *
 *   rotarr-journal 1
 *   kind postgres
 *   step set
 *   field role app%20user
 *   secret new %41%42...
 *   sha256 <64 hex digits of SHA-256 over all preceding bytes>
 *
 * Values are percent-encoded: every byte outside [A-Za-z0-9._~/:@+,=-]
 * becomes %XX, so a value never contains a space, a newline or a NUL.
 * The checksum line detects a torn write or a hand edit; it is not a
 * MAC and does not stop a deliberate change.
 */
#ifndef ROTARR_JOURNAL_H
#define ROTARR_JOURNAL_H

#include <stddef.h>

#include "rotarr/age.h"
#include "rotarr/compat.h"
#include "rotarr/error.h"
#include "rotarr/secret.h"

/* Name of the state folder inside the stack directory. */
#define ROTARR_STATE_DIR ".rotarr"

/* Maximum size of a journal file that is read, in bytes. */
#define ROTARR_JOURNAL_FILE_MAX (1024 * 1024)

/* Maximum number of fields and of secrets in one journal. */
#define ROTARR_JOURNAL_FIELDS_MAX 64
#define ROTARR_JOURNAL_SECRETS_MAX 4

/* Maximum length of a key (field name, secret name or kind), in
 * bytes. */
#define ROTARR_JOURNAL_KEY_MAX 64

/* Maximum length of a field value, in bytes before encoding. */
#define ROTARR_JOURNAL_VALUE_MAX 16384

/* Maximum length of a secret, in bytes before encoding. */
#define ROTARR_JOURNAL_SECRET_MAX 4096

/*
 * Steps of a rotation, in order.  The journal records the last step that
 * finished.  PENDING means that the new secret is recorded and the
 * server is not yet changed.  SET means that the server was changed,
 * TESTED that a login with the new secret worked, COMMITTED that every
 * file was rewritten, and DONE that the old credential was dropped.
 */
enum rotarr_step {
    ROTARR_STEP_PENDING,
    ROTARR_STEP_SET,
    ROTARR_STEP_TESTED,
    ROTARR_STEP_COMMITTED,
    ROTARR_STEP_DONE,
};

/* Returns the name of step as written in the journal ("pending", ...). */
const char *rotarr_step_name(enum rotarr_step step);

/*
 * Opens STACKDIR/.rotarr as a directory file descriptor (O_DIRECTORY,
 * O_NOFOLLOW, close-on-exec).  With create set, makes it with mode 0700
 * when missing.  Rejects a symlink and a folder owned by another user,
 * and takes group and other permissions away from an existing one,
 * because the folder contains passwords.  Returns the descriptor, -2
 * (err untouched) when create is 0 and the folder does not exist, or -1
 * with ROTARR_EFILE.
 */
int rotarr_state_dir_open(const char *stackdir, int create,
                          struct rotarr_error *err) ROTARR_NONNULL(1);

struct rotarr_lock;

/*
 * Takes an exclusive, non-blocking flock on STACKDIR/.rotarr/lock
 * (creating the folder and the file as needed) and writes our process
 * id into the file for the message other processes show.  When another
 * open file description holds the lock, in this process or another,
 * returns NULL with ROTARR_EFILE and a message naming the holder's pid.
 * The lock file is never deleted: deleting it would let two processes
 * hold locks on two different files.
 */
struct rotarr_lock *rotarr_lock_acquire(const char *stackdir,
                                        struct rotarr_error *err)
    ROTARR_NONNULL(1);

/* Releases the lock and frees it.  Accepts NULL. */
void rotarr_lock_release(struct rotarr_lock *lock);

/* One rotation's record: its kind, step, fields and secrets. */
struct rotarr_journal;

/*
 * Returns an empty journal at ROTARR_STEP_PENDING for a rotation of the
 * given kind ("postgres", "redis", ...).  kind follows the key rules of
 * rotarr_journal_set.  Returns NULL with err set on an invalid kind or
 * when memory runs out.
 */
struct rotarr_journal *rotarr_journal_new(const char *kind,
                                          struct rotarr_error *err)
    ROTARR_NONNULL(1);

/* Returns the kind given to rotarr_journal_new or read from the file. */
const char *rotarr_journal_kind(const struct rotarr_journal *j)
    ROTARR_NONNULL(1);

/*
 * Stores a non-secret field (service, role, host, port, dbname, sslmode,
 * var, files, ...), replacing an earlier value of the same key.  A key is
 * 1 to ROTARR_JOURNAL_KEY_MAX bytes of [a-z0-9_.-]; a value is any text
 * up to ROTARR_JOURNAL_VALUE_MAX bytes.  Returns 0, or -1 with err set
 * (ROTARR_EUSAGE for an invalid key or value or a full journal).
 */
int rotarr_journal_set(struct rotarr_journal *j, const char *key,
                       const char *value, struct rotarr_error *err)
    ROTARR_NONNULL(1, 2, 3) ROTARR_MUST_CHECK;

/* Returns the value stored under key, or NULL when there is none. */
const char *rotarr_journal_get(const struct rotarr_journal *j,
                               const char *key) ROTARR_NONNULL(1, 2);

/*
 * Stores a copy of secret s under which ("old", "new"; key rules as for
 * rotarr_journal_set), replacing an earlier one, which is wiped.  Any
 * bytes are allowed, NUL included, up to ROTARR_JOURNAL_SECRET_MAX.
 * Returns 0, or -1 with err set.
 */
int rotarr_journal_set_secret(struct rotarr_journal *j, const char *which,
                              const struct rotarr_secret *s,
                              struct rotarr_error *err)
    ROTARR_NONNULL(1, 2, 3) ROTARR_MUST_CHECK;

/* Returns the secret stored under which, or NULL.  The journal owns it. */
const struct rotarr_secret *rotarr_journal_secret(
    const struct rotarr_journal *j, const char *which) ROTARR_NONNULL(1, 2);

void rotarr_journal_set_step(struct rotarr_journal *j, enum rotarr_step step)
    ROTARR_NONNULL(1);
enum rotarr_step rotarr_journal_step(const struct rotarr_journal *j)
    ROTARR_NONNULL(1);

/*
 * Serialises j in the file format above into a new secret, because the
 * text contains the secrets.  Returns NULL with err set when memory runs out.
 */
struct rotarr_secret *rotarr_journal_encode(const struct rotarr_journal *j,
                                            struct rotarr_error *err)
    ROTARR_NONNULL(1);

/*
 * Parses len bytes of journal text.  name is the file name used in
 * messages.  Returns a new journal, or NULL with ROTARR_EFILE when the
 * text is torn, edited or from a newer rotarr.  The message tells the
 * user to inspect the file and not to delete it.
 */
struct rotarr_journal *rotarr_journal_decode(const char *text, size_t len,
                                             const char *name,
                                             struct rotarr_error *err)
    ROTARR_NONNULL(1, 3);

/*
 * Writes STACKDIR/.rotarr/journal atomically: a new 0600 temporary file
 * (O_EXCL, O_NOFOLLOW) in the same folder, fsync, rename over the
 * journal, fsync of the folder.  The folder is created as for
 * rotarr_state_dir_open.  An encrypted journal is written as an age file
 * for the recipients in STACKDIR/ROTARR_AGE_RECIPIENTS_FILE.  Returns 0,
 * or -1 with ROTARR_EFILE; on failure the previous journal, if any, is
 * left as it was.
 */
int rotarr_journal_save(const struct rotarr_journal *j, const char *stackdir,
                        struct rotarr_error *err)
    ROTARR_NONNULL(1, 2) ROTARR_MUST_CHECK;

/*
 * Makes rotarr_journal_save write j encrypted (encrypted set) or as
 * plain text.  A stack whose env file is age-encrypted keeps its journal
 * encrypted too, because the journal contains the same passwords.
 */
void rotarr_journal_set_encrypted(struct rotarr_journal *j, int encrypted)
    ROTARR_NONNULL(1);

/* Returns 1 when j is saved encrypted: set so, or read from an age file. */
int rotarr_journal_encrypted(const struct rotarr_journal *j)
    ROTARR_NONNULL(1);

/*
 * Reads STACKDIR/.rotarr/journal.  Returns 1 with *out set to a new
 * journal, or 0 when there is no journal.  Returns -1 with ROTARR_EFILE
 * when the file cannot be read or fails to decode, and also when it is
 * not a regular file owned by us, is open to group or others, or is
 * larger than ROTARR_JOURNAL_FILE_MAX.  An age-encrypted journal is
 * decrypted with keys; without keys, or when that fails, the code is
 * ROTARR_EDECRYPT.
 */
int rotarr_journal_load(const char *stackdir,
                        const struct rotarr_age_keyring *keys,
                        struct rotarr_journal **out, struct rotarr_error *err)
    ROTARR_NONNULL(1, 3) ROTARR_MUST_CHECK;

/*
 * Deletes STACKDIR/.rotarr/journal and fsyncs the folder.  A missing
 * journal is not an error.  Returns 0, or -1 with ROTARR_EFILE.
 */
int rotarr_journal_remove(const char *stackdir, struct rotarr_error *err)
    ROTARR_NONNULL(1) ROTARR_MUST_CHECK;

/* Wipes every field and secret and frees j.  Accepts NULL. */
void rotarr_journal_free(struct rotarr_journal *j);

#endif
