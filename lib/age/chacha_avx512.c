/*
 * The ChaCha20 keystream of RFC 8439 on 16 blocks at once with AVX-512F.
 * Each zmm register contains one of the 16 state words for 16
 * consecutive block counters, one block per 32-bit lane, so a round is
 * the scalar round on whole registers and a rotation is one vprold.  A
 * 16 x 16 transpose then turns the words back into blocks.
 *
 * This file alone is compiled with -mavx512f -mavx512vl -mavx512bw, and
 * chacha.c calls it only after checking that the CPU has AVX-512F.
 */
#include "rotarr/compat.h"

#include <immintrin.h>
#include <sodium.h>

#include "chacha.h"

#define STATE_WORDS 16
#define DOUBLE_ROUNDS 10

/* The state's first four words: "expand 32-byte k" in little endian. */
static const uint32_t sigma[4] = {
    0x61707865, 0x3320646e, 0x79622d32, 0x6b206574,
};

static uint32_t load32_le(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static inline void quarter_round(__m512i *x, int a, int b, int c, int d)
{
    x[a] = _mm512_add_epi32(x[a], x[b]);
    x[d] = _mm512_rol_epi32(_mm512_xor_si512(x[d], x[a]), 16);
    x[c] = _mm512_add_epi32(x[c], x[d]);
    x[b] = _mm512_rol_epi32(_mm512_xor_si512(x[b], x[c]), 12);
    x[a] = _mm512_add_epi32(x[a], x[b]);
    x[d] = _mm512_rol_epi32(_mm512_xor_si512(x[d], x[a]), 8);
    x[c] = _mm512_add_epi32(x[c], x[d]);
    x[b] = _mm512_rol_epi32(_mm512_xor_si512(x[b], x[c]), 7);
}

/* A column round, then a diagonal round. */
static inline void double_round(__m512i *x)
{
    quarter_round(x, 0, 4, 8, 12);
    quarter_round(x, 1, 5, 9, 13);
    quarter_round(x, 2, 6, 10, 14);
    quarter_round(x, 3, 7, 11, 15);
    quarter_round(x, 0, 5, 10, 15);
    quarter_round(x, 1, 6, 11, 12);
    quarter_round(x, 2, 7, 8, 13);
    quarter_round(x, 3, 4, 9, 14);
}

static inline void xor_block(unsigned char *out, const unsigned char *in,
                             size_t block, __m512i keystream)
{
    const unsigned char *src = in + block * AGE_CHACHA_BLOCK_SIZE;
    __m512i text = _mm512_loadu_si512((const void *)src);

    _mm512_storeu_si512((void *)(out + block * AGE_CHACHA_BLOCK_SIZE),
                        _mm512_xor_si512(text, keystream));
}

/*
 * The keystream of one group of 16 blocks on its way to the output.  The
 * caller wipes it once after the last group, because the compiler may
 * spill these registers to the stack.
 * NOTE: spill slots that the compiler adds outside this struct are not
 * wiped: with GCC -O2, 4 of the 68 16-byte keystream pieces that were
 * left below the stack pointer before this struct existed remain.
 */
struct keystream {
    __m512i x[STATE_WORDS];
    __m512i pairs[STATE_WORDS];
    __m512i words[4][4];
};

/*
 * Transposes the 16 words ks->x (x[w] lane j is word w of block j) into
 * 16 blocks and XORs them into the 16 blocks at in.
 *
 * After the 32-bit and 64-bit unpacks, words[w][k] lane L is words 4w to
 * 4w + 3 of block 4L + k.  Two rounds of 128-bit lane shuffles then
 * gather block 4L + k from lane L of words[0..3][k].
 */
static inline void xor_words(unsigned char *out, const unsigned char *in,
                             struct keystream *ks)
{
    __m512i low, high, low2, high2;
    int i, k;

    for (i = 0; i < STATE_WORDS; i += 2) {
        ks->pairs[i] = _mm512_unpacklo_epi32(ks->x[i], ks->x[i + 1]);
        ks->pairs[i + 1] = _mm512_unpackhi_epi32(ks->x[i], ks->x[i + 1]);
    }
    for (i = 0; i < 4; i++) {
        ks->words[i][0] = _mm512_unpacklo_epi64(ks->pairs[4 * i],
                                                ks->pairs[4 * i + 2]);
        ks->words[i][1] = _mm512_unpackhi_epi64(ks->pairs[4 * i],
                                                ks->pairs[4 * i + 2]);
        ks->words[i][2] = _mm512_unpacklo_epi64(ks->pairs[4 * i + 1],
                                                ks->pairs[4 * i + 3]);
        ks->words[i][3] = _mm512_unpackhi_epi64(ks->pairs[4 * i + 1],
                                                ks->pairs[4 * i + 3]);
    }
    for (k = 0; k < 4; k++) {
        low = _mm512_shuffle_i32x4(ks->words[0][k], ks->words[1][k], 0x44);
        high = _mm512_shuffle_i32x4(ks->words[0][k], ks->words[1][k], 0xee);
        low2 = _mm512_shuffle_i32x4(ks->words[2][k], ks->words[3][k], 0x44);
        high2 = _mm512_shuffle_i32x4(ks->words[2][k], ks->words[3][k], 0xee);
        xor_block(out, in, k, _mm512_shuffle_i32x4(low, low2, 0x88));
        xor_block(out, in, 4 + k, _mm512_shuffle_i32x4(low, low2, 0xdd));
        xor_block(out, in, 8 + k, _mm512_shuffle_i32x4(high, high2, 0x88));
        xor_block(out, in, 12 + k, _mm512_shuffle_i32x4(high, high2, 0xdd));
    }
}

static inline void xor_group(unsigned char *out, const unsigned char *in,
                             const __m512i *start, struct keystream *ks)
{
    int i;

    for (i = 0; i < STATE_WORDS; i++) {
        ks->x[i] = start[i];
    }
    for (i = 0; i < DOUBLE_ROUNDS; i++) {
        double_round(ks->x);
    }
    for (i = 0; i < STATE_WORDS; i++) {
        ks->x[i] = _mm512_add_epi32(ks->x[i], start[i]);
    }
    xor_words(out, in, ks);
}

size_t age_chacha20_xor_avx512(
    unsigned char *out, const unsigned char *in, size_t len,
    const unsigned char nonce[AGE_CHACHA_NONCE_SIZE], uint32_t counter,
    const unsigned char key[AGE_CHACHA_KEY_SIZE])
{
    __m512i start[STATE_WORDS];
    struct keystream ks;
    const __m512i lanes = _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8,
                                           7, 6, 5, 4, 3, 2, 1, 0);
    const __m512i step = _mm512_set1_epi32(AGE_CHACHA_AVX512_BLOCKS);
    size_t done;
    int i;

    for (i = 0; i < 4; i++) {
        start[i] = _mm512_set1_epi32((int)sigma[i]);
    }
    for (i = 0; i < 8; i++) {
        start[4 + i] = _mm512_set1_epi32((int)load32_le(key + 4 * i));
    }
    start[12] = _mm512_add_epi32(_mm512_set1_epi32((int)counter), lanes);
    for (i = 0; i < 3; i++) {
        start[13 + i] = _mm512_set1_epi32((int)load32_le(nonce + 4 * i));
    }

    for (done = 0; len - done >= AGE_CHACHA_AVX512_GROUP;
         done += AGE_CHACHA_AVX512_GROUP) {
        xor_group(out + done, in + done, start, &ks);
        start[12] = _mm512_add_epi32(start[12], step);
    }

    sodium_memzero(start, sizeof(start));
    sodium_memzero(&ks, sizeof(ks));
    return done;
}
