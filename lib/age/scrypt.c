/*
 * Passphrase stanzas: "-> scrypt <salt> <log2 N>", the file key wrapped
 * under scrypt(passphrase, label || salt, N, r = 8, p = 1).
 */
#include "rotarr/compat.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "age_private.h"

#define SCRYPT_LABEL "age-encryption.org/v1/scrypt"
#define SALT_SIZE 16
#define SCRYPT_R 8
#define SCRYPT_P 1

/*
 * Parses a work factor written as ^[1-9][0-9]*$.  Returns its value,
 * capped at 100 so that no text overflows, or -1 when text has another
 * form.
 */
static int parse_work_factor(const char *text)
{
    int value = 0;
    size_t i;

    if (text[0] < '1' || text[0] > '9') {
        return -1;
    }
    for (i = 0; text[i] != '\0'; i++) {
        if (text[i] < '0' || text[i] > '9') {
            return -1;
        }
        if (value < 100) {
            value = value * 10 + (text[i] - '0');
        }
    }
    return value < 100 ? value : 100;
}

/* Checks the shape of a scrypt stanza and stores its salt and work
 * factor. */
static int check(const struct age_stanza *stanza,
                 unsigned char salt[SALT_SIZE], int *work_factor,
                 struct rotarr_error *err)
{
    if (stanza->argc != 3 || age_b64_arg(stanza->args[1], salt,
                                         SALT_SIZE) < 0) {
        return rotarr_error_set(err, ROTARR_EDECRYPT, "invalid scrypt "
                                "stanza: a 16-byte salt and a work factor "
                                "expected");
    }
    *work_factor = parse_work_factor(stanza->args[2]);
    if (*work_factor < 0) {
        return rotarr_error_set(err, ROTARR_EDECRYPT, "invalid scrypt "
                                "stanza: the work factor is not a decimal "
                                "number from 1");
    }
    if (*work_factor > ROTARR_AGE_SCRYPT_MAX_WORK_FACTOR) {
        return rotarr_error_set(err, ROTARR_EDECRYPT, "scrypt work factor "
                                "%s is above the limit of %d: decrypting "
                                "would take too much time and memory",
                                *work_factor < 100 ? stanza->args[2]
                                                   : "(too large)",
                                ROTARR_AGE_SCRYPT_MAX_WORK_FACTOR);
    }
    if (stanza->body_len != AGE_WRAPPED_SIZE) {
        return rotarr_error_set(err, ROTARR_EDECRYPT, "invalid scrypt "
                                "stanza: the body is not 32 bytes");
    }
    return 0;
}

int age_scrypt_check(const struct age_stanza *stanza,
                     struct rotarr_error *err)
{
    unsigned char salt[SALT_SIZE];
    int work_factor;

    return check(stanza, salt, &work_factor, err);
}

static int derive(const struct rotarr_secret *passphrase,
                  const unsigned char salt[SALT_SIZE], int work_factor,
                  unsigned char key[AGE_KEY_SIZE], struct rotarr_error *err)
{
    unsigned char full_salt[sizeof(SCRYPT_LABEL) - 1 + SALT_SIZE];

    memcpy(full_salt, SCRYPT_LABEL, sizeof(SCRYPT_LABEL) - 1);
    memcpy(full_salt + sizeof(SCRYPT_LABEL) - 1, salt, SALT_SIZE);
    if (crypto_pwhash_scryptsalsa208sha256_ll(
            (const uint8_t *)rotarr_secret_data(passphrase),
            rotarr_secret_len(passphrase), full_salt, sizeof(full_salt),
            (uint64_t)1 << work_factor, SCRYPT_R, SCRYPT_P, key,
            AGE_KEY_SIZE) != 0) {
        return rotarr_error_set(err, ROTARR_EFILE, "scrypt with work "
                                "factor %d failed: out of memory (it needs "
                                "%llu MiB)", work_factor,
                                (1ULL << work_factor) / 1024);
    }
    return 0;
}

enum age_unwrap age_scrypt_unwrap(const struct rotarr_secret *passphrase,
                                  const struct age_stanza *stanza,
                                  unsigned char file_key[AGE_FILE_KEY_SIZE],
                                  struct rotarr_error *err)
{
    unsigned char salt[SALT_SIZE], key[AGE_KEY_SIZE];
    int work_factor;
    enum age_unwrap ret = AGE_UNWRAP_ERROR;

    if (check(stanza, salt, &work_factor, err) < 0 ||
        derive(passphrase, salt, work_factor, key, err) < 0) {
        goto out;
    }
    /* A wrong passphrase, or a stanza that states the wrong work
     * factor, gives a key that does not open the body. */
    ret = age_body_open(key, stanza->body, file_key) == 0 ? AGE_UNWRAP_OK
                                                         : AGE_UNWRAP_SKIP;

out:
    sodium_memzero(key, sizeof(key));
    return ret;
}

int age_scrypt_wrap(const struct age_recipient *rcpt,
                    const unsigned char file_key[AGE_FILE_KEY_SIZE],
                    struct age_header *header, struct rotarr_error *err)
{
    unsigned char salt[SALT_SIZE], key[AGE_KEY_SIZE];
    unsigned char body[AGE_WRAPPED_SIZE];
    char salt_text[24], work_factor[8];
    const char *args[3] = { "scrypt", salt_text, work_factor };
    int n, ret = -1;

    randombytes_buf(salt, sizeof(salt));
    if (derive(rcpt->passphrase, salt, rcpt->work_factor, key, err) < 0) {
        goto out;
    }
    age_body_seal(key, file_key, body);
    rotarr_age_b64_encode(salt, sizeof(salt), 0, salt_text);
    n = snprintf(work_factor, sizeof(work_factor), "%d", rcpt->work_factor);
    if (n < 0 || (size_t)n >= sizeof(work_factor)) {
        rotarr_error_set(err, ROTARR_EUSAGE, "invalid scrypt work factor");
        goto out;
    }
    ret = age_stanza_add(header, args, 3, body, sizeof(body), err);

out:
    sodium_memzero(key, sizeof(key));
    return ret;
}
