/*
 * The age v1 file format (age-encryption.org/v1), read and written with
 * libsodium: X25519 recipients ("age1...") and identities
 * ("AGE-SECRET-KEY-1..."), scrypt passphrases, ssh-ed25519 keys as the
 * age reference implementation reads them, the ASCII armor, and the
 * STREAM payload of 64 KiB ChaCha20-Poly1305 chunks.  Files written here
 * decrypt with age 1.1.1 and rage, and the other way round.
 *
 * The payload runs on all cores through a bounded ring of chunk buffers,
 * so memory use does not grow with the input.  Output keeps the input's
 * order, and decryption releases a chunk only after its tag verifies.
 *
 * Every function returns -1 (or NULL) with err set on failure.  The code
 * is ROTARR_EDECRYPT when the data cannot be decrypted: no identity
 * matched, a wrong passphrase, a damaged or tampered file, or a file that
 * is not age.  It is ROTARR_EFILE when a file cannot be read, parsed or
 * written, and ROTARR_EUSAGE for an invalid key, recipient or request
 * given directly.  Messages never contain key material.
 *
 * libsodium must be initialised first (rotarr_secret_init).
 */
#ifndef ROTARR_AGE_H
#define ROTARR_AGE_H

#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "rotarr/compat.h"
#include "rotarr/buf.h"
#include "rotarr/error.h"
#include "rotarr/progress.h"
#include "rotarr/secret.h"

/* Plaintext bytes per STREAM chunk, and the tag that each chunk adds. */
#define ROTARR_AGE_CHUNK_SIZE 65536
#define ROTARR_AGE_TAG_SIZE 16

/*
 * scrypt work factor (log2 of N) used when encrypting, as age does, and
 * the largest one accepted when decrypting: 22 needs 4 GiB of memory and
 * is age's own limit.
 */
#define ROTARR_AGE_SCRYPT_WORK_FACTOR 18
#define ROTARR_AGE_SCRYPT_MAX_WORK_FACTOR 22

/*
 * Bounds on a header, which the format leaves open: the longest line
 * (post-quantum stanzas have arguments of about 1,500 characters), the
 * whole header and the number of stanzas.
 */
#define ROTARR_AGE_LINE_MAX 16384
#define ROTARR_AGE_HEADER_MAX ((size_t)1 << 20)
#define ROTARR_AGE_STANZA_MAX 4096

/* Largest identity or recipients file, as in age. */
#define ROTARR_AGE_KEY_FILE_MAX ((size_t)16 << 20)

/* Maximum length of a passphrase read for scrypt. */
#define ROTARR_AGE_PASSPHRASE_MAX 1024

/* Size of a buffer for an "age1..." recipient and its NUL. */
#define ROTARR_AGE_RECIPIENT_SIZE 63

/* Recipients of an encrypted stack, relative to the stack directory. */
#define ROTARR_AGE_RECIPIENTS_FILE ".rotarr/recipients"

/*
 * Input of bytes: read stores up to len bytes at buf and returns their
 * count, 0 at the end of the input, or -1 with err set.
 *
 * file_fd is optional (NULL).  When it returns the descriptor that read
 * reads from and that descriptor is a regular file, the worker threads
 * read the payload themselves with pread(), which spreads the copying
 * over all cores.  The payload then ends at the file size taken when it
 * begins, and a file that shrinks meanwhile is a read error.
 */
struct rotarr_age_source {
    ssize_t (*read)(void *ctx, void *buf, size_t len,
                    struct rotarr_error *err);
    void *ctx;
    int (*file_fd)(void *ctx);
};

/* Output of bytes: write takes all len bytes, or returns -1 with err set. */
struct rotarr_age_sink {
    int (*write)(void *ctx, const void *bytes, size_t len,
                 struct rotarr_error *err);
    void *ctx;
};

/*
 * A file descriptor as a source or sink (ctx points to it): reads and
 * writes retry after EINTR and short writes, and an error names the file
 * as name.
 */
struct rotarr_age_fd {
    int fd;
    const char *name;
};

ssize_t rotarr_age_fd_read(void *ctx, void *buf, size_t len,
                           struct rotarr_error *err);
int rotarr_age_fd_write(void *ctx, const void *bytes, size_t len,
                        struct rotarr_error *err);
int rotarr_age_fd_file(void *ctx);

/*
 * Recipients: whom a file is encrypted to.
 */
struct rotarr_age_recipients;

/* Returns an empty list, or NULL when memory runs out. */
struct rotarr_age_recipients *rotarr_age_recipients_new(
    struct rotarr_error *err);

/*
 * Adds one recipient: an X25519 "age1..." string (lower case only, as in
 * age) or an OpenSSH public key line "ssh-ed25519 AAAA... [comment]".
 * Other kinds (ssh-rsa, post-quantum and plugin recipients) and identity
 * strings are rejected with a message that names them (ROTARR_EUSAGE).
 */
int rotarr_age_recipients_add(struct rotarr_age_recipients *recipients,
                              const char *text, struct rotarr_error *err)
    ROTARR_MUST_CHECK;

/*
 * Adds the recipients of an age recipients file: one per line, empty
 * lines and lines whose first byte is '#' skipped, one CR before each
 * line break ignored, nothing else trimmed.  A file with no recipient is
 * an error (ROTARR_EUSAGE), and so is an unreadable one (ROTARR_EFILE).
 * Messages name the file and line.
 */
int rotarr_age_recipients_add_file(struct rotarr_age_recipients *recipients,
                                   const char *path,
                                   struct rotarr_error *err)
    ROTARR_MUST_CHECK;

/*
 * Adds a passphrase recipient with the given scrypt work factor (1 to
 * ROTARR_AGE_SCRYPT_MAX_WORK_FACTOR; ROTARR_AGE_SCRYPT_WORK_FACTOR is
 * age's).  The passphrase is copied, and an empty one is rejected.  age
 * requires a passphrase to be the only recipient, so encryption fails
 * when the list contains anything else.
 */
int rotarr_age_recipients_add_passphrase(
    struct rotarr_age_recipients *recipients,
    const struct rotarr_secret *passphrase, int work_factor,
    struct rotarr_error *err)
    ROTARR_MUST_CHECK;

size_t rotarr_age_recipients_count(
    const struct rotarr_age_recipients *recipients);

/* Frees the list and wipes any passphrase.  Accepts NULL. */
void rotarr_age_recipients_free(struct rotarr_age_recipients *recipients);

/*
 * Identities: the secret keys and passphrases that decrypt a file.  Key
 * material is kept in guarded memory.
 */
struct rotarr_age_identities;

/*
 * Asks for a passphrase when a file turns out to be passphrase-encrypted.
 * Returns a new secret, or NULL with err set (for example when there is
 * no terminal to ask on).
 */
typedef struct rotarr_secret *(*rotarr_age_passphrase_fn)(
    void *ctx, struct rotarr_error *err);

struct rotarr_age_identities *rotarr_age_identities_new(
    struct rotarr_error *err);

/*
 * Adds the identities in the len bytes at text, read from name (used in
 * messages):
 *   - an age identity file: "AGE-SECRET-KEY-1..." lines (upper case only,
 *     as in age), with the same comment and line-ending rules as a
 *     recipients file;
 *   - an unencrypted OpenSSH ed25519 private key
 *     ("-----BEGIN OPENSSH PRIVATE KEY-----");
 *   - either of these encrypted with a passphrase (an age file, binary or
 *     armored), as age reads them.  The passphrase comes from the prompt
 *     set with rotarr_age_identities_set_prompt, which must be set first.
 * Post-quantum and plugin identities, encrypted or non-ed25519 SSH keys
 * and recipients given as identities are rejected with a message that
 * names the kind (ROTARR_EUSAGE).  So is a file that contains no
 * identity.
 */
int rotarr_age_identities_add_text(struct rotarr_age_identities *ids,
                                   const char *text, size_t len,
                                   const char *name,
                                   struct rotarr_error *err)
    ROTARR_MUST_CHECK;

/* Reads the file at path (at most ROTARR_AGE_KEY_FILE_MAX bytes) and adds
 * its identities as rotarr_age_identities_add_text does. */
int rotarr_age_identities_add_file(struct rotarr_age_identities *ids,
                                   const char *path,
                                   struct rotarr_error *err)
    ROTARR_MUST_CHECK;

/*
 * Adds the identities of the file sops reads: $SOPS_AGE_KEY_FILE when it
 * is set and not empty, else $XDG_CONFIG_HOME/sops/age/keys.txt, else
 * $HOME/.config/sops/age/keys.txt.  Returns 0, 1 with err set
 * (ROTARR_EFILE) when that file does not exist (the message names the
 * path and how to give one), or -1 with err set.
 */
int rotarr_age_identities_add_default(struct rotarr_age_identities *ids,
                                      struct rotarr_error *err)
    ROTARR_MUST_CHECK;

/* Adds a passphrase for scrypt stanzas (copied). */
int rotarr_age_identities_add_passphrase(
    struct rotarr_age_identities *ids,
    const struct rotarr_secret *passphrase, struct rotarr_error *err)
    ROTARR_MUST_CHECK;

/*
 * Sets the function that supplies a passphrase when a file is encrypted
 * with one and none of the passphrases added opens it.  rotarr_age_decrypt
 * calls it at most once, and only after the header has been read and its
 * passphrase stanza checked.
 */
void rotarr_age_identities_set_prompt(struct rotarr_age_identities *ids,
                                      rotarr_age_passphrase_fn prompt,
                                      void *ctx);

/* Returns the number of keys and passphrases added (the prompt does not
 * count). */
size_t rotarr_age_identities_count(const struct rotarr_age_identities *ids);

/*
 * Appends the recipient of every key identity, one line each, in order:
 * "age1..." for X25519 keys, "ssh-ed25519 AAAA..." for SSH keys.
 * Passphrases have none and are skipped.
 */
int rotarr_age_identities_recipients(const struct rotarr_age_identities *ids,
                                     struct rotarr_buf *out,
                                     struct rotarr_error *err)
    ROTARR_MUST_CHECK;

/* Wipes and frees every key and passphrase.  Accepts NULL. */
void rotarr_age_identities_free(struct rotarr_age_identities *ids);

/*
 * Encryption and decryption of streams.
 */

/* Flags of rotarr_age_encrypt and rotarr_age_decrypt. */
enum {
    ROTARR_AGE_ARMOR = 1 << 0, /* the PEM-style ASCII armor */
};

/*
 * Encrypts everything in to recipients and writes the age file to out.
 * A fresh file key, payload nonce and ephemeral keys are drawn for every
 * call.  At least one recipient is needed, and a passphrase must be the
 * only one.  On failure out may have received part of the file.
 */
int rotarr_age_encrypt(const struct rotarr_age_recipients *recipients,
                       const struct rotarr_age_source *in,
                       const struct rotarr_age_sink *out, unsigned flags,
                       struct rotarr_error *err)
    ROTARR_MUST_CHECK;

/* Layer at which decryption stopped, from the outermost to the innermost. */
enum rotarr_age_failure {
    ROTARR_AGE_OK,
    ROTARR_AGE_FAIL_IO,       /* reading in or writing out failed */
    ROTARR_AGE_FAIL_ARMOR,    /* invalid ASCII armor */
    ROTARR_AGE_FAIL_HEADER,   /* not age, or a malformed header or stanza */
    ROTARR_AGE_FAIL_NO_MATCH, /* no identity opened any stanza */
    ROTARR_AGE_FAIL_HMAC,     /* the header MAC does not verify */
    ROTARR_AGE_FAIL_PAYLOAD,  /* a chunk failed, or the payload is cut */
};

/*
 * Decrypts the age file in with the first identity that opens one of its
 * stanzas, and writes the plaintext to out.  The file is read as armor
 * when it starts with "-----" after up to 1024 bytes of whitespace, and
 * always when flags has ROTARR_AGE_ARMOR.  Otherwise it is read as binary.
 *
 * Plaintext reaches out one chunk at a time, and only after that chunk's
 * tag verified.  A payload that fails part-way therefore leaves out with
 * the chunks before the failure.  A caller that must not keep a partial
 * result writes to a temporary file (rotarr_age_outfile_open) or to a
 * buffer that it drops on failure.  When failure is not NULL, it
 * receives the layer where decryption stopped (ROTARR_AGE_OK on
 * success).
 */
int rotarr_age_decrypt(const struct rotarr_age_identities *ids,
                       const struct rotarr_age_source *in,
                       const struct rotarr_age_sink *out, unsigned flags,
                       enum rotarr_age_failure *failure,
                       struct rotarr_error *err)
    ROTARR_MUST_CHECK;

/* Plaintext bytes between two progress reports of the payload. */
#define ROTARR_AGE_PROGRESS_STEP ((uint64_t)4 << 20)

/*
 * rotarr_age_encrypt and rotarr_age_decrypt with progress reports
 * (progress may be NULL).  The unit is bytes of plaintext: read so far
 * when encrypting, released to out when decrypting.  total is the
 * plaintext size when in is a regular file (file_fd set), which
 * decryption must also find to be a binary age file.  It is 0 for other
 * input.  Reports cover the payload alone: the first comes after the
 * header, so after any passphrase prompt, then one each time another
 * ROTARR_AGE_PROGRESS_STEP bytes are done, all from the calling thread.
 */
int rotarr_age_encrypt_with_progress(
    const struct rotarr_age_recipients *recipients,
    const struct rotarr_age_source *in, const struct rotarr_age_sink *out,
    unsigned flags, const struct rotarr_progress *progress,
    struct rotarr_error *err)
    ROTARR_MUST_CHECK;
int rotarr_age_decrypt_with_progress(
    const struct rotarr_age_identities *ids,
    const struct rotarr_age_source *in, const struct rotarr_age_sink *out,
    unsigned flags, const struct rotarr_progress *progress,
    enum rotarr_age_failure *failure, struct rotarr_error *err)
    ROTARR_MUST_CHECK;

/*
 * Sets the number of threads that encrypt or decrypt chunks, the calling
 * thread included; 0, the default, means one per CPU this process may
 * run on.  Not thread-safe: for tests and benchmarks.
 */
void rotarr_age_set_workers(unsigned count);

/*
 * Buffers and files: what encrypted stacks use.
 */

/*
 * The source of identities for a stack's encrypted files.  Readers call
 * get only when they meet an encrypted file.  It returns identities that
 * stay valid while the keyring does, or NULL with err set.  It may
 * return identities and also set err, to say why there are none (a
 * missing key file), for the message when no identity opens a file.
 */
struct rotarr_age_keyring {
    const struct rotarr_age_identities *(*get)(void *ctx,
                                               struct rotarr_error *err);
    void *ctx;
};

/*
 * Decrypts the len bytes of the age file at bytes, read from name (used
 * in messages), with the identities of keys, or fails with ROTARR_EDECRYPT
 * naming name when keys is NULL.  Returns a new secret, or NULL with err
 * set.
 */
struct rotarr_secret *rotarr_age_keyring_decrypt(
    const struct rotarr_age_keyring *keys, const char *name,
    const void *bytes, size_t len, struct rotarr_error *err)
    ROTARR_MUST_CHECK;

/* Returns 1 when the len bytes at bytes start like an age file, binary
 * or armored (after leading whitespace), and 0 otherwise. */
int rotarr_age_is_encrypted(const void *bytes, size_t len);

/*
 * Returns 1 when the age file in the len bytes at bytes is encrypted with
 * a passphrase (its header has a scrypt stanza), 0 when it is encrypted
 * to keys, or -1 when its header cannot be read.
 */
int rotarr_age_uses_passphrase(const void *bytes, size_t len);

/* Encrypts the len bytes at bytes and appends the age file to out. */
int rotarr_age_encrypt_buf(const struct rotarr_age_recipients *recipients,
                           const void *bytes, size_t len, unsigned flags,
                           struct rotarr_buf *out, struct rotarr_error *err)
    ROTARR_MUST_CHECK;

/*
 * Decrypts the age file in the len bytes at bytes.  Returns the whole
 * plaintext in a new secret, or NULL with err set; no part of a file that
 * fails is returned.  failure, when not NULL, is set as by
 * rotarr_age_decrypt.
 */
struct rotarr_secret *rotarr_age_decrypt_buf(
    const struct rotarr_age_identities *ids, const void *bytes, size_t len,
    enum rotarr_age_failure *failure, struct rotarr_error *err)
    ROTARR_MUST_CHECK;

/*
 * Decrypts the age file at path (at most ROTARR_FILE_MAX bytes) with ids
 * and stores the plaintext in *out, a new secret for the caller to free.
 * Returns 0, or -1 with err set and *out NULL.  The code is ROTARR_EFILE
 * when the file cannot be read and ROTARR_EDECRYPT when it cannot be
 * decrypted, and the message names path.  For ids, use
 * rotarr_age_identities_add_default, plus a prompt for
 * passphrase-encrypted files.
 */
int rotarr_age_decrypt_file_to_buf(const char *path,
                                   const struct rotarr_age_identities *ids,
                                   struct rotarr_secret **out,
                                   struct rotarr_error *err)
    ROTARR_MUST_CHECK;

/*
 * Encrypts the len bytes at bytes to the recipients listed in the
 * recipients file at recipients_path and writes the result to path
 * atomically: an existing file is replaced with rotarr_file_replace
 * (owner and mode kept, the old content intact on failure), a new one is
 * created 0600.  The output is armored when the existing file is, binary
 * otherwise.  Returns 0, or -1 with err set.
 */
int rotarr_age_encrypt_buf_to_file(const char *path,
                                   const char *recipients_path,
                                   const void *bytes, size_t len,
                                   struct rotarr_error *err)
    ROTARR_MUST_CHECK;

/*
 * Keys.
 */

/*
 * Generates an X25519 identity and returns, in a new secret, the key file
 * text that age-keygen writes:
 *   # created: <now as RFC 3339 local time>
 *   # public key: age1...
 *   AGE-SECRET-KEY-1...
 * The recipient is also stored in recipient.
 */
struct rotarr_secret *rotarr_age_keygen(
    time_t now, char recipient[ROTARR_AGE_RECIPIENT_SIZE],
    struct rotarr_error *err)
    ROTARR_MUST_CHECK;

/*
 * An output file that appears only when complete: the bytes go to a new
 * temporary file, mode 0600, in the target's directory, which commit
 * syncs and renames over path (replacing a file there) and abort
 * removes.
 */
struct rotarr_age_outfile;

/*
 * Creates the temporary file.  A directory at path is an error.  An
 * existing path that is not a regular file (a device or a pipe) is
 * opened and written in place instead, because a rename would put a
 * regular file where the device was.
 */
struct rotarr_age_outfile *rotarr_age_outfile_open(const char *path,
                                                   struct rotarr_error *err)
    ROTARR_MUST_CHECK;

/* Returns the descriptor to write to. */
int rotarr_age_outfile_fd(const struct rotarr_age_outfile *file);

/*
 * Returns the path of the temporary file, for a caller that removes it
 * from a signal handler, or NULL when the output is written in place.
 * The string lives until commit or abort.
 */
const char *rotarr_age_outfile_temp_path(
    const struct rotarr_age_outfile *file);

/*
 * Syncs the file, renames it to path, syncs the directory and frees
 * file.  Returns 0, or -1 with err set after removing the temporary file.
 */
int rotarr_age_outfile_commit(struct rotarr_age_outfile *file,
                              struct rotarr_error *err)
    ROTARR_MUST_CHECK;

/* Removes the temporary file and frees file.  Accepts NULL. */
void rotarr_age_outfile_abort(struct rotarr_age_outfile *file);

#endif
