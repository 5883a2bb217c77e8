#include "rotarr/compat.h"

#include <stdint.h>
#include <string.h>

#include "guard_private.h"

/*
 * SHA-1 as FIPS 180-4 section 6.1 defines it.  It serves only to compute
 * git object ids, which SHA-1 repositories name files by; it is not used
 * where collision resistance matters.
 */

int guard_sha1_portable_only;

/* Compresses with the CPU's instructions unless a test asked for the
 * portable code. */
static int blocks_fast(uint32_t state[5], const unsigned char *blocks,
                       size_t count)
{
    return !guard_sha1_portable_only &&
           guard_sha1_blocks_fast(state, blocks, count);
}

static uint32_t rotl(uint32_t x, unsigned n)
{
    return (x << n) | (x >> (32 - n));
}

static uint32_t load_be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
           (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* The message schedule is kept as a ring of 16 words, and each group of
 * 20 rounds has its own loop, so that no round tests which group it is
 * in. */
#define SCHEDULE(w, i)                                                     \
    ((w)[(i) & 15] = rotl((w)[((i) + 13) & 15] ^ (w)[((i) + 8) & 15] ^    \
                              (w)[((i) + 2) & 15] ^ (w)[(i) & 15],         \
                          1))

#define ROUND(f, k, wi)                                                    \
    do {                                                                   \
        t = rotl(a, 5) + (f) + e + (k) + (wi);                             \
        e = d;                                                             \
        d = c;                                                             \
        c = rotl(b, 30);                                                   \
        b = a;                                                             \
        a = t;                                                             \
    } while (0)

static void compress(uint32_t state[5], const unsigned char block[64])
{
    uint32_t w[16], a, b, c, d, e, t;
    int i;

    for (i = 0; i < 16; i++) {
        w[i] = load_be32(block + 4 * i);
    }
    a = state[0];
    b = state[1];
    c = state[2];
    d = state[3];
    e = state[4];
    for (i = 0; i < 16; i++) {
        ROUND((b & c) | (~b & d), 0x5a827999u, w[i]);
    }
    for (; i < 20; i++) {
        ROUND((b & c) | (~b & d), 0x5a827999u, SCHEDULE(w, i));
    }
    for (; i < 40; i++) {
        ROUND(b ^ c ^ d, 0x6ed9eba1u, SCHEDULE(w, i));
    }
    for (; i < 60; i++) {
        ROUND((b & c) | (b & d) | (c & d), 0x8f1bbcdcu, SCHEDULE(w, i));
    }
    for (; i < 80; i++) {
        ROUND(b ^ c ^ d, 0xca62c1d6u, SCHEDULE(w, i));
    }
    state[0] += a;
    state[1] += b;
    state[2] += c;
    state[3] += d;
    state[4] += e;
}

void guard_sha1_init(struct guard_sha1 *ctx)
{
    static const uint32_t initial[5] = { 0x67452301, 0xefcdab89, 0x98badcfe,
                                         0x10325476, 0xc3d2e1f0 };

    memcpy(ctx->state, initial, sizeof(initial));
    ctx->length = 0;
    ctx->used = 0;
}

void guard_sha1_update(struct guard_sha1 *ctx, const void *bytes, size_t len)
{
    const unsigned char *p = bytes;
    size_t take;

    ctx->length += len;
    while (len > 0) {
        if (ctx->used == 0 && len >= 64) {
            if (blocks_fast(ctx->state, p, len / 64)) {
                p += len / 64 * 64;
                len %= 64;
                continue;
            }
            compress(ctx->state, p);
            p += 64;
            len -= 64;
            continue;
        }
        take = 64 - ctx->used < len ? 64 - ctx->used : len;
        memcpy(ctx->block + ctx->used, p, take);
        ctx->used += take;
        p += take;
        len -= take;
        if (ctx->used == 64) {
            if (!blocks_fast(ctx->state, ctx->block, 1)) {
                compress(ctx->state, ctx->block);
            }
            ctx->used = 0;
        }
    }
}

void guard_sha1_final(struct guard_sha1 *ctx, unsigned char digest[20])
{
    uint64_t bits = ctx->length * 8;
    unsigned char pad[72];
    size_t pad_len;
    int i;

    pad_len = ctx->used < 56 ? 56 - ctx->used : 120 - ctx->used;
    memset(pad, 0, sizeof(pad));
    pad[0] = 0x80;
    for (i = 0; i < 8; i++) {
        pad[pad_len + (size_t)i] = (unsigned char)(bits >> (56 - 8 * i));
    }
    guard_sha1_update(ctx, pad, pad_len + 8);
    for (i = 0; i < 20; i++) {
        digest[i] = (unsigned char)(ctx->state[i / 4] >> (24 - 8 * (i % 4)));
    }
}
