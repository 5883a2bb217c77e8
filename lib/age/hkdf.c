#include "rotarr/compat.h"

#include <sodium.h>

#include "rotarr/age_format.h"

void rotarr_hkdf_sha256(const unsigned char *ikm, size_t ikm_len,
                        const unsigned char *salt, size_t salt_len,
                        const void *info, size_t info_len,
                        unsigned char out[32])
{
    static const unsigned char empty[1];
    crypto_auth_hmacsha256_state state;
    unsigned char prk[crypto_auth_hmacsha256_BYTES];
    const unsigned char counter = 1;

    /* libsodium declares its pointers non-null even for zero lengths. */
    salt = salt != NULL ? salt : empty;
    ikm = ikm != NULL ? ikm : empty;

    /* An absent salt is HMAC with an empty key, which HMAC pads to a
     * block of zeros like the RFC's string of HashLen zeros. */
    crypto_auth_hmacsha256_init(&state, salt, salt_len);
    crypto_auth_hmacsha256_update(&state, ikm, ikm_len);
    crypto_auth_hmacsha256_final(&state, prk);

    /* One block of output: T(1) = HMAC(PRK, info || 0x01). */
    crypto_auth_hmacsha256_init(&state, prk, sizeof(prk));
    crypto_auth_hmacsha256_update(&state, info, info_len);
    crypto_auth_hmacsha256_update(&state, &counter, 1);
    crypto_auth_hmacsha256_final(&state, out);

    sodium_memzero(prk, sizeof(prk));
    sodium_memzero(&state, sizeof(state));
}
