/*
 * Writing back a stack's age-encrypted env files: the plaintext is
 * encrypted again to the recipients the stack lists in
 * ROTARR_AGE_RECIPIENTS_FILE, then replaces the file atomically.
 */
#include "rotarr/compat.h"
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>
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
 * tells the user how to create it. */
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

int rotarr_stack_check_recipients(const struct rotarr_stack *stack,
                                  struct rotarr_error *err)
{
    struct rotarr_age_recipients *recipients;

    if (!rotarr_stack_encrypted(stack)) {
        return 0;
    }
    recipients = load_recipients(stack, err);
    rotarr_age_recipients_free(recipients);
    return recipients == NULL ? -1 : 0;
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
