#include "rotarr/compat.h"

#include <sodium.h>
#include <string.h>

#include "age_private.h"

static int check_recipients(const struct rotarr_age_recipients *recipients,
                            struct rotarr_error *err)
{
    size_t i;

    if (recipients->count == 0) {
        return rotarr_error_set(err, ROTARR_EUSAGE, "no recipients to "
                                "encrypt to");
    }
    for (i = 0; i < recipients->count; i++) {
        if (recipients->items[i].type == AGE_RCPT_SCRYPT &&
            recipients->count > 1) {
            return rotarr_error_set(err, ROTARR_EUSAGE, "a passphrase "
                                    "cannot be combined with other "
                                    "recipients");
        }
    }
    return 0;
}

static int wrap(const struct age_recipient *rcpt,
                const unsigned char file_key[AGE_FILE_KEY_SIZE],
                struct age_header *header, struct rotarr_error *err)
{
    switch (rcpt->type) {
    case AGE_RCPT_X25519:
        return age_x25519_wrap(rcpt, file_key, header, err);
    case AGE_RCPT_SSH_ED25519:
        return age_ssh_wrap(rcpt, file_key, header, err);
    case AGE_RCPT_SCRYPT:
        return age_scrypt_wrap(rcpt, file_key, header, err);
    }
    return rotarr_error_set(err, ROTARR_EUSAGE, "unknown recipient type");
}

/* Builds the header and the payload nonce, and writes both. */
static int write_header(const struct rotarr_age_recipients *recipients,
                        const unsigned char file_key[AGE_FILE_KEY_SIZE],
                        unsigned char nonce[AGE_NONCE_SIZE],
                        struct age_output *out, struct rotarr_error *err)
{
    struct age_header header;
    struct rotarr_buf text = ROTARR_BUF_INIT;
    size_t i;
    int ret = -1;

    memset(&header, 0, sizeof(header));
    for (i = 0; i < recipients->count; i++) {
        if (wrap(&recipients->items[i], file_key, &header, err) < 0) {
            goto out;
        }
    }
    if (age_header_write(&header, file_key, &text, err) < 0) {
        goto out;
    }
    randombytes_buf(nonce, AGE_NONCE_SIZE);
    if (rotarr_buf_append(&text, nonce, AGE_NONCE_SIZE, err) < 0) {
        goto out;
    }
    ret = age_output_write(out, text.data, text.len, err);

out:
    rotarr_buf_release(&text);
    age_header_release(&header);
    return ret;
}

static int write_to_output(void *ctx, const void *bytes, size_t len,
                           struct rotarr_error *err)
{
    return age_output_write(ctx, bytes, len, err);
}

/*
 * Encrypts the payload to out.  With progress, the sealed chunks pass
 * first through a binary output whose sink counts them, and then to out,
 * because out may be armored.
 */
static int write_payload(const unsigned char key[AGE_KEY_SIZE],
                         struct age_input *in, struct age_output *out,
                         const struct rotarr_progress *progress,
                         struct rotarr_error *err)
{
    struct rotarr_age_sink to_out = { write_to_output, out };
    struct age_progress counter;
    struct age_output counted;

    if (progress == NULL) {
        return age_stream_encrypt(key, in, out, err);
    }
    age_progress_begin(&counter, progress, &to_out, 1,
                       age_input_remaining(in));
    if (age_output_begin(&counted, &counter.sink, 0, err) < 0 ||
        age_stream_encrypt(key, in, &counted, err) < 0) {
        return -1;
    }
    age_progress_report(&counter);
    return 0;
}

int rotarr_age_encrypt(const struct rotarr_age_recipients *recipients,
                       const struct rotarr_age_source *in,
                       const struct rotarr_age_sink *out, unsigned flags,
                       struct rotarr_error *err)
{
    return rotarr_age_encrypt_with_progress(recipients, in, out, flags, NULL,
                                            err);
}

int rotarr_age_encrypt_with_progress(
    const struct rotarr_age_recipients *recipients,
    const struct rotarr_age_source *in, const struct rotarr_age_sink *out,
    unsigned flags, const struct rotarr_progress *progress,
    struct rotarr_error *err)
{
    unsigned char file_key[AGE_FILE_KEY_SIZE], nonce[AGE_NONCE_SIZE];
    unsigned char payload_key[AGE_KEY_SIZE];
    struct age_output output;
    struct age_input *input = NULL;
    int ret = -1;

    if (check_recipients(recipients, err) < 0) {
        return -1;
    }
    randombytes_buf(file_key, sizeof(file_key));
    input = malloc(sizeof(*input));
    if (input == NULL) {
        rotarr_error_set(err, ROTARR_EFILE, "out of memory");
        goto out;
    }
    age_input_init(input, in);
    if (age_output_begin(&output, out, (flags & ROTARR_AGE_ARMOR) != 0,
                         err) < 0 ||
        write_header(recipients, file_key, nonce, &output, err) < 0) {
        goto out;
    }
    age_payload_key(file_key, nonce, payload_key);
    if (write_payload(payload_key, input, &output, progress, err) < 0) {
        goto out;
    }
    ret = age_output_finish(&output, err);

out:
    if (input != NULL) {
        sodium_memzero(input, sizeof(*input));
    }
    free(input);
    sodium_memzero(file_key, sizeof(file_key));
    sodium_memzero(payload_key, sizeof(payload_key));
    return ret;
}
