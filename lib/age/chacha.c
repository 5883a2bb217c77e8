/*
 * ChaCha20-Poly1305 built as RFC 8439 section 2.8 describes it.  The
 * Poly1305 key is the first 32 bytes of keystream block 0, and the text
 * is XORed with the keystream from block 1.  The tag covers the
 * additional data and the ciphertext, each padded with zeros to a
 * multiple of 16 bytes, then their lengths as 64-bit little-endian
 * numbers.
 */
#include "rotarr/compat.h"

#include <sodium.h>

#include "chacha.h"

#define POLY1305_KEY_SIZE 32
#define POLY1305_BLOCK_SIZE 16

static enum age_chacha_impl chosen_impl = AGE_CHACHA_AUTO;

void age_chacha_set_impl(enum age_chacha_impl impl)
{
    chosen_impl = impl;
}

/* valgrind 3.19 reports no AVX-512F to the program it runs, so there the
 * libsodium keystream runs. */
static int cpu_has_avx512(void)
{
#if defined(__x86_64__) && defined(__GNUC__)
    return __builtin_cpu_supports("avx512f");
#else
    return 0;
#endif
}

enum age_chacha_impl age_chacha_impl_in_use(void)
{
    if (chosen_impl != AGE_CHACHA_GENERIC && cpu_has_avx512()) {
        return AGE_CHACHA_AVX512;
    }
    return AGE_CHACHA_GENERIC;
}

void age_chacha20_xor(unsigned char *out, const unsigned char *in,
                      size_t len,
                      const unsigned char nonce[AGE_CHACHA_NONCE_SIZE],
                      uint32_t counter,
                      const unsigned char key[AGE_CHACHA_KEY_SIZE])
{
    size_t done = 0;

#if defined(__x86_64__) && defined(__GNUC__)
    if (age_chacha_impl_in_use() == AGE_CHACHA_AVX512) {
        done = age_chacha20_xor_avx512(out, in, len, nonce, counter, key);
    }
#endif
    if (done < len) {
        crypto_stream_chacha20_ietf_xor_ic(
            out + done, in + done, len - done, nonce,
            counter + (uint32_t)(done / AGE_CHACHA_BLOCK_SIZE), key);
    }
}

static void poly1305_update_padded(crypto_onetimeauth_poly1305_state *state,
                                   const unsigned char *text, size_t len)
{
    static const unsigned char zeros[POLY1305_BLOCK_SIZE];
    size_t partial = len % POLY1305_BLOCK_SIZE;

    crypto_onetimeauth_poly1305_update(state, text, len);
    if (partial != 0) {
        crypto_onetimeauth_poly1305_update(state, zeros,
                                           POLY1305_BLOCK_SIZE - partial);
    }
}

static void store64_le(unsigned char *p, uint64_t value)
{
    int i;

    for (i = 0; i < 8; i++) {
        p[i] = (unsigned char)(value >> (8 * i));
    }
}

/*
 * Computes the tag over the adlen bytes at ad and the clen bytes of
 * ciphertext at c, with the Poly1305 key from keystream block 0.
 */
static void compute_tag(unsigned char tag[AGE_POLY1305_TAG_SIZE],
                        const unsigned char *c, size_t clen,
                        const unsigned char *ad, size_t adlen,
                        const unsigned char nonce[AGE_CHACHA_NONCE_SIZE],
                        const unsigned char key[AGE_CHACHA_KEY_SIZE])
{
    crypto_onetimeauth_poly1305_state state;
    unsigned char poly_key[POLY1305_KEY_SIZE];
    unsigned char lengths[16];

    crypto_stream_chacha20_ietf(poly_key, sizeof(poly_key), nonce, key);
    crypto_onetimeauth_poly1305_init(&state, poly_key);
    poly1305_update_padded(&state, ad, adlen);
    poly1305_update_padded(&state, c, clen);
    store64_le(lengths, adlen);
    store64_le(lengths + 8, clen);
    crypto_onetimeauth_poly1305_update(&state, lengths, sizeof(lengths));
    crypto_onetimeauth_poly1305_final(&state, tag);

    sodium_memzero(&state, sizeof(state));
    sodium_memzero(poly_key, sizeof(poly_key));
}

void age_aead_seal(unsigned char *c, const unsigned char *m, size_t mlen,
                   const unsigned char *ad, size_t adlen,
                   const unsigned char nonce[AGE_CHACHA_NONCE_SIZE],
                   const unsigned char key[AGE_CHACHA_KEY_SIZE])
{
    age_chacha20_xor(c, m, mlen, nonce, 1, key);
    compute_tag(c + mlen, c, mlen, ad, adlen, nonce, key);
}

int age_aead_open(unsigned char *m, const unsigned char *c, size_t clen,
                  const unsigned char *ad, size_t adlen,
                  const unsigned char nonce[AGE_CHACHA_NONCE_SIZE],
                  const unsigned char key[AGE_CHACHA_KEY_SIZE])
{
    unsigned char tag[AGE_POLY1305_TAG_SIZE];
    size_t mlen;
    int ret = -1;

    if (clen < AGE_POLY1305_TAG_SIZE ||
        (uint64_t)(clen - AGE_POLY1305_TAG_SIZE) > AGE_AEAD_MAX_MESSAGE) {
        return -1;
    }
    mlen = clen - AGE_POLY1305_TAG_SIZE;
    compute_tag(tag, c, mlen, ad, adlen, nonce, key);
    if (crypto_verify_16(tag, c + mlen) != 0) {
        goto out;
    }
    age_chacha20_xor(m, c, mlen, nonce, 1, key);
    ret = 0;

out:
    sodium_memzero(tag, sizeof(tag));
    return ret;
}
