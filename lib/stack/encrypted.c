/*
 * Writing back a stack's age-encrypted env files: the plaintext is
 * encrypted again to the recipients the stack lists in
 * ROTARR_AGE_RECIPIENTS_FILE, then replaces the file atomically.
 */
#include "rotarr/compat.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "rotarr/age.h"
#include "rotarr/fileio.h"
#include "stack_private.h"

const struct rotarr_age_keyring *
rotarr_stack_keys(const struct rotarr_stack *stack)
{
    return stack->keys;
}

int rotarr_stack_encrypted(const struct rotarr_stack *stack)
{
    size_t i;

    for (i = 0; i < stack->file_count; i++) {
        if (stack->files[i].encrypted) {
            return 1;
        }
    }
    return 0;
}

/* Loads DIR/ROTARR_AGE_RECIPIENTS_FILE.  The error for a missing file
 * gives the command that creates it. */
static struct rotarr_age_recipients *
load_recipients(const struct rotarr_stack *stack, struct rotarr_error *err)
{
    struct rotarr_age_recipients *recipients;
    char *path;

    path = stack_join(stack->dir, ROTARR_AGE_RECIPIENTS_FILE, err);
    if (path == NULL) {
        return NULL;
    }
    if (access(path, F_OK) != 0 && errno == ENOENT) {
        rotarr_error_set(err, ROTARR_EFILE, "'%s' is missing: the stack's "
                         "env file is age-encrypted, and rotarr encrypts it "
                         "again to the recipients listed there; create it "
                         "with 'rotarr keygen -y KEYFILE > %s'",
                         path, path);
        free(path);
        return NULL;
    }
    recipients = rotarr_age_recipients_new(err);
    if (recipients != NULL &&
        rotarr_age_recipients_add_file(recipients, path, err) < 0) {
        rotarr_age_recipients_free(recipients);
        recipients = NULL;
    }
    free(path);
    return recipients;
}

/* Returns 1 when line, a line of a recipients file, names recipient
 * ("age1..." or "ssh-ed25519 AAAA...", which a comment may follow). */
static int line_names(const char *line, size_t len, const char *recipient,
                      size_t recipient_len)
{
    while (len > 0 && (*line == ' ' || *line == '\t')) {
        line++;
        len--;
    }
    return len >= recipient_len &&
           memcmp(line, recipient, recipient_len) == 0 &&
           (len == recipient_len || line[recipient_len] == ' ' ||
            line[recipient_len] == '\t' || line[recipient_len] == '\r');
}

/* Returns 1 when one line of the recipients text names one of the
 * recipients in mine (one a line). */
static int lists_one_of(const char *text, size_t len, const char *mine)
{
    const char *line, *end, *own, *own_end;

    for (own = mine; *own != '\0'; own = *own_end ? own_end + 1 : own_end) {
        own_end = strchr(own, '\n');
        if (own_end == NULL) {
            own_end = own + strlen(own);
        }
        for (line = text; line < text + len; line = end + 1) {
            end = memchr(line, '\n', (size_t)(text + len - line));
            if (end == NULL) {
                end = text + len;
            }
            if (own_end > own &&
                line_names(line, (size_t)(end - line), own,
                           (size_t)(own_end - own))) {
                return 1;
            }
        }
    }
    return 0;
}

/*
 * Checks that the identities which opened the stack's files are among
 * the recipients, so that the user can still decrypt what rotarr writes.
 */
static int check_own_recipient(const struct rotarr_stack *stack,
                               const char *path, struct rotarr_error *err)
{
    struct rotarr_buf mine = ROTARR_BUF_INIT;
    const struct rotarr_age_identities *ids = NULL;
    struct rotarr_error why = ROTARR_ERROR_INIT;
    char *text = NULL;
    size_t len = 0;
    int ret = -1;

    /* The keyring gave these identities when the files were loaded. */
    if (stack->keys != NULL) {
        ids = stack->keys->get(stack->keys->ctx, &why);
    }
    if (ids == NULL) {
        if (why.code == ROTARR_OK) {
            rotarr_error_set(&why, ROTARR_EFILE, "no identity was given to "
                             "check the recipients of '%s'", path);
        }
        *err = why;
        goto out;
    }
    if (rotarr_age_identities_recipients(ids, &mine, err) < 0 ||
        rotarr_file_read(path, 0, &text, &len, err) < 0) {
        goto out;
    }
    if (mine.len == 0 || !lists_one_of(text, len, mine.data)) {
        rotarr_error_set(err, ROTARR_EFILE,
                         "'%s' lists none of the keys that decrypted the "
                         "stack's env file, so after this change you could "
                         "not decrypt it; add yours with 'rotarr keygen -y "
                         "KEYFILE >> %s'",
                         path, path);
        goto out;
    }
    ret = 0;

out:
    free(text);
    rotarr_buf_release(&mine);
    return ret;
}

/* Refuses to write back a file encrypted with a passphrase, which would
 * become a file for the recipients' keys without the owner knowing. */
static int check_no_passphrase(const struct rotarr_stack *stack,
                               struct rotarr_error *err)
{
    size_t i;

    for (i = 0; i < stack->file_count; i++) {
        if (stack->files[i].passphrase) {
            return rotarr_error_set(err, ROTARR_EFILE,
                                    "'%s' is encrypted with a passphrase, "
                                    "and rotarr writes env files for the "
                                    "keys in '%s' only; encrypt it to those "
                                    "keys first ('rotarr decrypt', then "
                                    "'rotarr encrypt -R %s')",
                                    stack->files[i].display,
                                    ROTARR_AGE_RECIPIENTS_FILE,
                                    ROTARR_AGE_RECIPIENTS_FILE);
        }
    }
    return 0;
}

/* Fails for a file with more than one name: rotarr_file_replace renames
 * a new file over one name, and the others would keep the old bytes. */
static int check_single_links(const struct rotarr_stack *stack,
                              struct rotarr_error *err)
{
    struct stat st;
    size_t i;

    for (i = 0; i < stack->file_count; i++) {
        if (stat(stack->files[i].path, &st) == 0 && st.st_nlink > 1) {
            return rotarr_error_set(err, ROTARR_EFILE,
                                    "'%s' has %lu hard links, and rotarr "
                                    "replaces a file under one name only, "
                                    "so the others would keep the old "
                                    "secret; make them one file (or "
                                    "symlinks to it) first",
                                    stack->files[i].display,
                                    (unsigned long)st.st_nlink);
        }
    }
    return 0;
}

int rotarr_stack_check_writable(const struct rotarr_stack *stack,
                                struct rotarr_error *err)
{
    struct rotarr_age_recipients *recipients;
    char *path;
    int ret;

    if (stack->both_env_files) {
        return rotarr_error_set(err, ROTARR_EFILE,
                                "both '.env' and '.env.age' exist in '%s'; "
                                "rotarr would rewrite '.env' only and leave "
                                "an out-of-date password in '.env.age', so "
                                "delete the one that is out of date or name "
                                "one with '--env-file'",
                                stack->dir);
    }
    if (check_single_links(stack, err) < 0) {
        return -1;
    }
    if (!rotarr_stack_encrypted(stack)) {
        return 0;
    }
    if (check_no_passphrase(stack, err) < 0) {
        return -1;
    }
    recipients = load_recipients(stack, err);
    rotarr_age_recipients_free(recipients);
    if (recipients == NULL) {
        return -1;
    }
    path = stack_join(stack->dir, ROTARR_AGE_RECIPIENTS_FILE, err);
    if (path == NULL) {
        return -1;
    }
    ret = check_own_recipient(stack, path, err);
    free(path);
    return ret;
}

/* Returns 1 when bytes, just read from disk, match what file was loaded
 * from. */
static int same_as_loaded(const struct rotarr_stack_file *file,
                          const char *bytes, size_t len)
{
    unsigned char hash[sizeof(file->sealed_hash)];

    if (!file->encrypted) {
        return len == file->len && memcmp(bytes, file->bytes, len) == 0;
    }
    crypto_generichash(hash, sizeof(hash), (const unsigned char *)bytes, len,
                       NULL, 0);
    return sodium_memcmp(hash, file->sealed_hash, sizeof(hash)) == 0;
}

int rotarr_stack_check_unchanged(const struct rotarr_stack *stack,
                                 struct rotarr_error *err)
{
    const struct rotarr_stack_file *file;
    char *bytes;
    size_t len;
    size_t i;
    int same;

    for (i = 0; i < stack->file_count; i++) {
        file = &stack->files[i];
        if (rotarr_file_read(file->path, 0, &bytes, &len, err) < 0) {
            return rotarr_error_prefix(err, "cannot read '%s' again "
                                            "before writing it; nothing "
                                            "was written",
                                       file->display);
        }
        same = same_as_loaded(file, bytes, len);
        sodium_memzero(bytes, len);
        free(bytes);
        if (!same) {
            return rotarr_error_set(err, ROTARR_EFILE,
                                    "'%s' changed after rotarr read it, "
                                    "perhaps in another rotarr; nothing "
                                    "was written, so run the command again",
                                    file->display);
        }
    }
    return 0;
}

int rotarr_stack_replace_file(const struct rotarr_stack *stack, size_t index,
                              const void *bytes, size_t len, unsigned flags,
                              unsigned *old_mode, unsigned *new_mode,
                              struct rotarr_error *err)
{
    const struct rotarr_stack_file *file = &stack->files[index];
    struct rotarr_age_recipients *recipients;
    struct rotarr_buf sealed = ROTARR_BUF_INIT;
    int ret = -1;

    if (!file->encrypted) {
        return rotarr_file_replace(stack->dir, file->path, bytes, len, flags,
                                   old_mode, new_mode, err);
    }
    recipients = load_recipients(stack, err);
    if (recipients == NULL ||
        rotarr_age_encrypt_buf(recipients, bytes, len,
                               file->armored ? ROTARR_AGE_ARMOR : 0, &sealed,
                               err) < 0) {
        goto out;
    }
    /* Ciphertext may be read by anyone (it is what goes into git), so
     * the file keeps its mode. */
    ret = rotarr_file_replace(stack->dir, file->path, sealed.data, sealed.len,
                              flags & ~(unsigned)ROTARR_REPLACE_SECRET,
                              old_mode, new_mode, err);

out:
    if (ret < 0) {
        rotarr_error_prefix(err, "cannot write '%s'", file->display);
    }
    rotarr_buf_release(&sealed);
    rotarr_age_recipients_free(recipients);
    return ret;
}
