/*
 * Decryption in the order that decides which failure is reported.  The
 * armor and header grammar come first, then the identities, then the
 * header MAC, then the payload.  A malformed stanza addressed to one of
 * the identities is a header failure, but a wrapped key whose tag does
 * not verify only means that the stanza is for someone else.
 */
#include "rotarr/compat.h"

#include <sodium.h>
#include <string.h>

#include "age_private.h"

static enum age_unwrap unwrap(const struct age_identity *id,
                              const struct age_stanza *stanza,
                              unsigned char file_key[AGE_FILE_KEY_SIZE],
                              struct rotarr_error *err)
{
    switch (id->type) {
    case AGE_ID_X25519:
        return age_x25519_unwrap(id, stanza, file_key, err);
    case AGE_ID_SSH_ED25519:
        return age_ssh_unwrap(id, stanza, file_key, err);
    case AGE_ID_PASSPHRASE:
        if (strcmp(stanza->args[0], "scrypt") != 0) {
            return AGE_UNWRAP_SKIP;
        }
        return age_scrypt_unwrap(id->secret, stanza, file_key, err);
    }
    return AGE_UNWRAP_SKIP;
}

/*
 * Returns the passphrase stanza of the header, or NULL when it has none.
 * A passphrase stanza must be alone, as age requires, because otherwise
 * anyone with the passphrase could learn which other keys open the file.
 */
static const struct age_stanza *scrypt_stanza(const struct age_header *h,
                                              int *invalid,
                                              struct rotarr_error *err)
{
    size_t i;

    *invalid = 0;
    for (i = 0; i < h->count; i++) {
        if (strcmp(h->stanzas[i].args[0], "scrypt") != 0) {
            continue;
        }
        if (h->count > 1) {
            *invalid = 1;
            rotarr_error_set(err, ROTARR_EDECRYPT, "invalid age header: a "
                             "passphrase stanza must be the only one");
            return NULL;
        }
        *invalid = age_scrypt_check(&h->stanzas[i], err) < 0;
        return *invalid ? NULL : &h->stanzas[i];
    }
    return NULL;
}

/* Tries the passphrase that the prompt returns. */
static enum age_unwrap ask_passphrase(
    const struct rotarr_age_identities *ids, const struct age_stanza *stanza,
    unsigned char file_key[AGE_FILE_KEY_SIZE], struct rotarr_error *err)
{
    struct rotarr_secret *passphrase = ids->prompt(ids->prompt_ctx, err);
    enum age_unwrap result;

    if (passphrase == NULL) {
        return AGE_UNWRAP_ERROR;
    }
    result = age_scrypt_unwrap(passphrase, stanza, file_key, err);
    rotarr_secret_free(passphrase);
    if (result == AGE_UNWRAP_SKIP) {
        rotarr_error_set(err, ROTARR_EDECRYPT, "incorrect passphrase");
    }
    return result;
}

static int no_match(const struct rotarr_age_identities *ids,
                    const struct age_header *h,
                    const struct age_stanza *scrypt,
                    struct rotarr_error *err)
{
    if (scrypt != NULL) {
        return rotarr_error_set(err, ROTARR_EDECRYPT, ids->count > 0
                                ? "incorrect passphrase, or the file is "
                                  "not encrypted with a passphrase"
                                : "the file is encrypted with a passphrase "
                                  "and no passphrase was given");
    }
    if (ids->count == 0) {
        return rotarr_error_set(err, ROTARR_EDECRYPT, "no identity to "
                                "decrypt with");
    }
    if (ids->count == 1) {
        return rotarr_error_set(err, ROTARR_EDECRYPT, "no identity matched: "
                                "the file is encrypted to %zu recipient%s, "
                                "and the identity given is not among them; "
                                "give the matching key with -i or in "
                                "$SOPS_AGE_KEY_FILE", h->count,
                                h->count == 1 ? "" : "s");
    }
    return rotarr_error_set(err, ROTARR_EDECRYPT, "no identity matched: "
                            "the file is encrypted to %zu recipient%s, and "
                            "none of the %zu identities given is among "
                            "them; give the matching key with -i or in "
                            "$SOPS_AGE_KEY_FILE", h->count,
                            h->count == 1 ? "" : "s", ids->count);
}

/* Finds the file key; failure gets the reason when it returns -1. */
static int find_file_key(const struct rotarr_age_identities *ids,
                         const struct age_header *h,
                         unsigned char file_key[AGE_FILE_KEY_SIZE],
                         enum rotarr_age_failure *failure,
                         struct rotarr_error *err)
{
    const struct age_stanza *scrypt;
    enum age_unwrap result = AGE_UNWRAP_SKIP;
    size_t i, j;
    int invalid;

    *failure = ROTARR_AGE_FAIL_HEADER;
    scrypt = scrypt_stanza(h, &invalid, err);
    if (invalid) {
        return -1;
    }
    for (i = 0; i < ids->count && result == AGE_UNWRAP_SKIP; i++) {
        for (j = 0; j < h->count && result == AGE_UNWRAP_SKIP; j++) {
            result = unwrap(&ids->items[i], &h->stanzas[j], file_key, err);
        }
    }
    if (result == AGE_UNWRAP_SKIP && scrypt != NULL && ids->prompt != NULL) {
        *failure = ROTARR_AGE_FAIL_NO_MATCH;
        result = ask_passphrase(ids, scrypt, file_key, err);
        return result == AGE_UNWRAP_OK ? 0 : -1;
    }
    if (result == AGE_UNWRAP_SKIP) {
        *failure = ROTARR_AGE_FAIL_NO_MATCH;
        return no_match(ids, h, scrypt, err);
    }
    return result == AGE_UNWRAP_OK ? 0 : -1;
}

static int read_header(struct age_input *in, struct age_header *header,
                       unsigned char nonce[AGE_NONCE_SIZE], int armored,
                       enum rotarr_age_failure *failure,
                       struct rotarr_error *err)
{
    size_t got;

    if (age_input_detect_armor(in, armored, err) < 0 ||
        age_header_read(in, header, err) < 0 ||
        age_input_read(in, nonce, AGE_NONCE_SIZE, &got, err) < 0) {
        *failure = in->failure != ROTARR_AGE_OK ? in->failure
                                                : ROTARR_AGE_FAIL_HEADER;
        return -1;
    }
    if (got < AGE_NONCE_SIZE) {
        *failure = ROTARR_AGE_FAIL_HEADER;
        return rotarr_error_set(err, ROTARR_EDECRYPT, "the file is "
                                "truncated: the payload nonce after the "
                                "header is missing");
    }
    return 0;
}

/* Decrypts the payload to out, through a counting sink with progress. */
static int read_payload(const unsigned char key[AGE_KEY_SIZE],
                        struct age_input *in,
                        const struct rotarr_age_sink *out,
                        const struct rotarr_progress *progress,
                        enum rotarr_age_failure *failure,
                        struct rotarr_error *err)
{
    struct age_progress counter;

    if (progress == NULL) {
        return age_stream_decrypt(key, in, out, failure, err);
    }
    age_progress_begin(&counter, progress, out, 0,
                       age_payload_plaintext_size(in));
    if (age_stream_decrypt(key, in, &counter.sink, failure, err) < 0) {
        return -1;
    }
    age_progress_report(&counter);
    return 0;
}

int rotarr_age_decrypt(const struct rotarr_age_identities *ids,
                       const struct rotarr_age_source *in,
                       const struct rotarr_age_sink *out, unsigned flags,
                       enum rotarr_age_failure *failure,
                       struct rotarr_error *err)
{
    return rotarr_age_decrypt_with_progress(ids, in, out, flags, NULL,
                                            failure, err);
}

int rotarr_age_decrypt_with_progress(
    const struct rotarr_age_identities *ids,
    const struct rotarr_age_source *in, const struct rotarr_age_sink *out,
    unsigned flags, const struct rotarr_progress *progress,
    enum rotarr_age_failure *failure, struct rotarr_error *err)
{
    struct age_input *input = malloc(sizeof(*input));
    struct age_header header;
    unsigned char nonce[AGE_NONCE_SIZE], file_key[AGE_FILE_KEY_SIZE];
    unsigned char payload_key[AGE_KEY_SIZE];
    enum rotarr_age_failure stop = ROTARR_AGE_FAIL_IO;
    int ret = -1;

    memset(&header, 0, sizeof(header));
    if (input == NULL) {
        rotarr_error_set(err, ROTARR_EFILE, "out of memory");
        goto out;
    }
    age_input_init(input, in);
    if (read_header(input, &header, nonce, (flags & ROTARR_AGE_ARMOR) != 0,
                    &stop, err) < 0 ||
        find_file_key(ids, &header, file_key, &stop, err) < 0) {
        goto out;
    }
    if (age_header_verify(&header, file_key) < 0) {
        stop = ROTARR_AGE_FAIL_HMAC;
        rotarr_error_set(err, ROTARR_EDECRYPT, "the header MAC does not "
                         "verify: the header was modified or damaged");
        goto out;
    }
    age_payload_key(file_key, nonce, payload_key);
    ret = read_payload(payload_key, input, out, progress, &stop, err);
    stop = ret == 0 ? ROTARR_AGE_OK : stop;

out:
    if (failure != NULL) {
        *failure = stop;
    }
    age_header_release(&header);
    free(input);
    sodium_memzero(file_key, sizeof(file_key));
    sodium_memzero(payload_key, sizeof(payload_key));
    return ret;
}
