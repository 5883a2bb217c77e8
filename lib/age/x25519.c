/*
 * X25519 recipients ("age1...") and identities ("AGE-SECRET-KEY-1..."),
 * and their "-> X25519 <share>" stanzas.
 */
#include "rotarr/compat.h"

#include <sodium.h>
#include <string.h>

#include "age_private.h"

#define X25519_LABEL "age-encryption.org/v1/X25519"
#define IDENTITY_HRP "age-secret-key-"
#define RECIPIENT_HRP "age"

/* Room for a decoded Bech32 human-readable part; longer ones are not
 * ours. */
#define HRP_MAX 64

int age_x25519_parse_identity(const char *text, size_t len,
                              struct age_identity *id,
                              struct rotarr_error *err)
{
    char hrp[HRP_MAX];
    unsigned char key[AGE_KEY_SIZE + 1];
    size_t n;
    int upper, ret = -1;

    /* age accepts identities in upper case only. */
    if (rotarr_bech32_decode(text, len, hrp, sizeof(hrp), key, sizeof(key),
                             &n, &upper) < 0 ||
        !upper || strcmp(hrp, IDENTITY_HRP) != 0 || n != AGE_KEY_SIZE) {
        rotarr_error_set(err, ROTARR_EUSAGE, "invalid age identity "
                         "(AGE-SECRET-KEY-1 and 58 more characters "
                         "expected)");
        goto out;
    }
    memset(id, 0, sizeof(*id));
    id->type = AGE_ID_X25519;
    id->secret = rotarr_secret_new(key, AGE_KEY_SIZE, err);
    if (id->secret == NULL) {
        goto out;
    }
    crypto_scalarmult_base(id->public_key, key);
    ret = 0;

out:
    sodium_memzero(key, sizeof(key));
    return ret;
}

int age_x25519_parse_recipient(const char *text, size_t len,
                               struct age_recipient *rcpt,
                               struct rotarr_error *err)
{
    char hrp[HRP_MAX];
    size_t n;
    int upper;

    memset(rcpt, 0, sizeof(*rcpt));
    /* age accepts recipients in lower case only. */
    if (rotarr_bech32_decode(text, len, hrp, sizeof(hrp), rcpt->public_key,
                             sizeof(rcpt->public_key), &n, &upper) < 0 ||
        upper || strcmp(hrp, RECIPIENT_HRP) != 0 || n != AGE_KEY_SIZE) {
        return rotarr_error_set(err, ROTARR_EUSAGE, "invalid age recipient "
                                "(age1 and 58 more characters expected)");
    }
    rcpt->type = AGE_RCPT_X25519;
    return 0;
}

int age_x25519_recipient_string(const unsigned char key[AGE_KEY_SIZE],
                                char out[ROTARR_AGE_RECIPIENT_SIZE])
{
    return rotarr_bech32_encode(RECIPIENT_HRP, key, AGE_KEY_SIZE, 0, out);
}

/* Derives the wrapping key from the shared secret, the ephemeral share
 * and the recipient's public key. */
static void wrap_key(const unsigned char shared[AGE_KEY_SIZE],
                     const unsigned char share[AGE_KEY_SIZE],
                     const unsigned char recipient[AGE_KEY_SIZE],
                     unsigned char key[AGE_KEY_SIZE])
{
    unsigned char salt[2 * AGE_KEY_SIZE];

    memcpy(salt, share, AGE_KEY_SIZE);
    memcpy(salt + AGE_KEY_SIZE, recipient, AGE_KEY_SIZE);
    rotarr_hkdf_sha256(shared, AGE_KEY_SIZE, salt, sizeof(salt),
                       X25519_LABEL, strlen(X25519_LABEL), key);
}

int age_x25519_wrap(const struct age_recipient *rcpt,
                    const unsigned char file_key[AGE_FILE_KEY_SIZE],
                    struct age_header *header, struct rotarr_error *err)
{
    unsigned char ephemeral[AGE_KEY_SIZE], share[AGE_KEY_SIZE];
    unsigned char shared[AGE_KEY_SIZE], key[AGE_KEY_SIZE];
    unsigned char body[AGE_WRAPPED_SIZE];
    char share_text[44];
    const char *args[2] = { "X25519", share_text };
    int ret = -1;

    randombytes_buf(ephemeral, sizeof(ephemeral));
    crypto_scalarmult_base(share, ephemeral);
    if (crypto_scalarmult(shared, ephemeral, rcpt->public_key) != 0) {
        rotarr_error_set(err, ROTARR_EUSAGE, "invalid X25519 recipient: a "
                         "low-order point");
        goto out;
    }
    wrap_key(shared, share, rcpt->public_key, key);
    age_body_seal(key, file_key, body);
    rotarr_age_b64_encode(share, sizeof(share), 0, share_text);
    ret = age_stanza_add(header, args, 2, body, sizeof(body), err);

out:
    sodium_memzero(ephemeral, sizeof(ephemeral));
    sodium_memzero(shared, sizeof(shared));
    sodium_memzero(key, sizeof(key));
    return ret;
}

enum age_unwrap age_x25519_unwrap(const struct age_identity *id,
                                  const struct age_stanza *stanza,
                                  unsigned char file_key[AGE_FILE_KEY_SIZE],
                                  struct rotarr_error *err)
{
    unsigned char share[AGE_KEY_SIZE], shared[AGE_KEY_SIZE];
    unsigned char key[AGE_KEY_SIZE];
    enum age_unwrap ret = AGE_UNWRAP_ERROR;

    if (strcmp(stanza->args[0], "X25519") != 0) {
        return AGE_UNWRAP_SKIP;
    }
    if (stanza->argc != 2 || age_b64_arg(stanza->args[1], share,
                                         sizeof(share)) < 0 ||
        stanza->body_len != AGE_WRAPPED_SIZE) {
        rotarr_error_set(err, ROTARR_EDECRYPT, "invalid X25519 stanza: one "
                         "32-byte share and a 32-byte body expected");
        return AGE_UNWRAP_ERROR;
    }
    /* An all-zero shared secret means a low-order share.  The writer of
     * the stanza can then predict the key, so it is an error, not a
     * mismatch. */
    if (crypto_scalarmult(shared, (const unsigned char *)
                          rotarr_secret_data(id->secret), share) != 0) {
        rotarr_error_set(err, ROTARR_EDECRYPT, "invalid X25519 stanza: "
                         "the share is a low-order point");
        goto out;
    }
    wrap_key(shared, share, id->public_key, key);
    ret = age_body_open(key, stanza->body, file_key) == 0 ? AGE_UNWRAP_OK
                                                         : AGE_UNWRAP_SKIP;

out:
    sodium_memzero(shared, sizeof(shared));
    sodium_memzero(key, sizeof(key));
    return ret;
}
