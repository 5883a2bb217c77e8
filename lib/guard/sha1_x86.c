#include "rotarr/compat.h"

#include <cpuid.h>
#include <immintrin.h>
#include <stdint.h>

#include "guard_private.h"

/*
 * SHA-1 blocks with the x86 SHA extensions, about four times as fast as
 * the portable code.  Each sha1rnds4 does four rounds; its immediate
 * selects the round function, so every group of 20 rounds is a macro.
 * The message words are kept as four vectors of four words, and the
 * next vector is sha1msg2(sha1msg1(w[g-4], w[g-3]) ^ w[g-2], w[g-1]).
 */
#define GROUP(func, g)                                                     \
    do {                                                                   \
        if ((g) >= 4) {                                                    \
            w[(g) & 3] = _mm_sha1msg2_epu32(                               \
                _mm_xor_si128(_mm_sha1msg1_epu32(w[(g) & 3],               \
                                                 w[((g) + 1) & 3]),        \
                              w[((g) + 2) & 3]),                           \
                w[((g) + 3) & 3]);                                         \
        }                                                                  \
        e = (g) == 0 ? _mm_add_epi32(e_start, w[0])                        \
                     : _mm_sha1nexte_epu32(prev, w[(g) & 3]);              \
        prev = abcd;                                                       \
        abcd = _mm_sha1rnds4_epu32(abcd, e, func);                         \
    } while (0)

__attribute__((target("sha,sse4.1,ssse3"))) static void
compress_blocks(uint32_t state[5], const unsigned char *blocks, size_t count)
{
    const __m128i byte_order =
        _mm_set_epi64x(0x0001020304050607LL, 0x08090a0b0c0d0e0fLL);
    __m128i abcd, abcd_start, e, e_start, prev, w[4];
    int g, i;

    abcd = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)state), 0x1b);
    e_start = _mm_set_epi32((int)state[4], 0, 0, 0);
    for (; count > 0; count--, blocks += 64) {
        abcd_start = abcd;
        for (i = 0; i < 4; i++) {
            w[i] = _mm_shuffle_epi8(
                _mm_loadu_si128((const __m128i *)(blocks + 16 * i)),
                byte_order);
        }
        prev = abcd;
        for (g = 0; g < 5; g++) {
            GROUP(0, g);
        }
        for (; g < 10; g++) {
            GROUP(1, g);
        }
        for (; g < 15; g++) {
            GROUP(2, g);
        }
        for (; g < 20; g++) {
            GROUP(3, g);
        }
        e_start = _mm_sha1nexte_epu32(prev, e_start);
        abcd = _mm_add_epi32(abcd, abcd_start);
    }
    _mm_storeu_si128((__m128i *)state, _mm_shuffle_epi32(abcd, 0x1b));
    state[4] = (uint32_t)_mm_extract_epi32(e_start, 3);
}

int guard_sha1_blocks_fast(uint32_t state[5], const unsigned char *blocks,
                           size_t count)
{
    static int supported = -1;
    unsigned a, b, c, d;

    /* cpuid rather than __builtin_cpu_supports("sha"), which clang
     * before 16 does not know. */
    if (supported < 0) {
        supported = __get_cpuid(1, &a, &b, &c, &d) &&
                    (c & bit_SSE4_1) && (c & bit_SSSE3) &&
                    __get_cpuid_count(7, 0, &a, &b, &c, &d) &&
                    (b & bit_SHA);
    }
    if (!supported) {
        return 0;
    }
    compress_blocks(state, blocks, count);
    return 1;
}
