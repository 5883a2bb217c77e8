/*
 * ChaCha20-Poly1305 as RFC 8439 defines it (32-byte key, 96-bit nonce,
 * 32-bit block counter), for the STREAM payload of lib/age.  The
 * keystream comes from an AVX-512 implementation, 16 blocks at a time,
 * on CPUs that have AVX-512F, and from libsodium elsewhere.  Poly1305,
 * the tag comparison and the few single blocks are libsodium's.
 */
#ifndef ROTARR_AGE_CHACHA_H
#define ROTARR_AGE_CHACHA_H

#include <stddef.h>
#include <stdint.h>

#include "rotarr/compat.h"

#define AGE_CHACHA_KEY_SIZE 32
#define AGE_CHACHA_NONCE_SIZE 12
#define AGE_CHACHA_BLOCK_SIZE 64
#define AGE_POLY1305_TAG_SIZE 16

/* Blocks that the AVX-512 code computes at once, one per 32-bit lane. */
#define AGE_CHACHA_AVX512_BLOCKS 16
#define AGE_CHACHA_AVX512_GROUP \
    (AGE_CHACHA_AVX512_BLOCKS * AGE_CHACHA_BLOCK_SIZE)

/*
 * Maximum message length of the AEAD: the counter runs from 1 to
 * 2^32 - 1, so 2^32 - 1 blocks of keystream.
 */
#define AGE_AEAD_MAX_MESSAGE ((uint64_t)0xffffffffu * AGE_CHACHA_BLOCK_SIZE)

/* Source of the keystream. */
enum age_chacha_impl {
    AGE_CHACHA_AUTO,    /* AVX-512 when the CPU has it, else libsodium */
    AGE_CHACHA_GENERIC, /* libsodium's crypto_stream_chacha20_ietf_xor_ic */
    AGE_CHACHA_AVX512,
};

/*
 * Chooses the keystream implementation for the whole process.  Tests use
 * it to check each one.  AGE_CHACHA_AVX512 falls back to libsodium on a
 * CPU without AVX-512F.  Call it before any thread encrypts, because the
 * choice is an unsynchronized global.
 */
void age_chacha_set_impl(enum age_chacha_impl impl);

/* Returns AGE_CHACHA_GENERIC or AGE_CHACHA_AVX512: the one now in use. */
enum age_chacha_impl age_chacha_impl_in_use(void);

/*
 * XORs len bytes at in with the ChaCha20 keystream that starts at block
 * counter, and writes them to out.  out may equal in; no other overlap
 * is allowed.  counter + ceil(len / 64) - 1 must not exceed 2^32 - 1.
 */
void age_chacha20_xor(unsigned char *out, const unsigned char *in,
                      size_t len,
                      const unsigned char nonce[AGE_CHACHA_NONCE_SIZE],
                      uint32_t counter,
                      const unsigned char key[AGE_CHACHA_KEY_SIZE]);

/*
 * Encrypts the mlen bytes at m (mlen at most AGE_AEAD_MAX_MESSAGE) and
 * authenticates them with the adlen bytes of additional data at ad (age
 * has none: NULL and 0).  Writes the ciphertext and then the 16-byte tag
 * to c, which has room for mlen + 16 bytes.  c may equal m.
 */
void age_aead_seal(unsigned char *c, const unsigned char *m, size_t mlen,
                   const unsigned char *ad, size_t adlen,
                   const unsigned char nonce[AGE_CHACHA_NONCE_SIZE],
                   const unsigned char key[AGE_CHACHA_KEY_SIZE]);

/*
 * Verifies the tag at the end of the clen bytes at c over them and the
 * adlen bytes at ad, and only then decrypts the clen - 16 bytes before
 * it into m.  m may equal c.  Returns 0, or -1 without writing to m when
 * the tag does not match or clen is shorter than a tag or too long.
 */
int age_aead_open(unsigned char *m, const unsigned char *c, size_t clen,
                  const unsigned char *ad, size_t adlen,
                  const unsigned char nonce[AGE_CHACHA_NONCE_SIZE],
                  const unsigned char key[AGE_CHACHA_KEY_SIZE])
    ROTARR_MUST_CHECK;

/*
 * The AVX-512 keystream (chacha_avx512.c, built with the AVX-512 flags).
 * XORs the whole 1,024-byte groups at the start of in, as
 * age_chacha20_xor does, and returns the number of bytes done: len
 * rounded down to a multiple of AGE_CHACHA_AVX512_GROUP.  Call it only
 * on a CPU that has AVX-512F.
 */
size_t age_chacha20_xor_avx512(
    unsigned char *out, const unsigned char *in, size_t len,
    const unsigned char nonce[AGE_CHACHA_NONCE_SIZE], uint32_t counter,
    const unsigned char key[AGE_CHACHA_KEY_SIZE]);

#endif
