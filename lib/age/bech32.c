/*
 * Bech32 as BIP 173 defines it, without the 90-character limit: age keys
 * are longer than that.
 */
#include "rotarr/compat.h"

#include <stdint.h>

#include "rotarr/age_format.h"

#define CHECKSUM_GROUPS 6

static const char charset[] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";

static uint32_t polymod_step(uint32_t chk, unsigned value)
{
    static const uint32_t generator[5] = {
        0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3,
    };
    uint32_t top = chk >> 25;
    int i;

    chk = ((chk & 0x1ffffff) << 5) ^ value;
    for (i = 0; i < 5; i++) {
        if ((top >> i) & 1) {
            chk ^= generator[i];
        }
    }
    return chk;
}

/* Returns the checksum state after the expanded human-readable part. */
static uint32_t polymod_hrp(const char *hrp, size_t len)
{
    uint32_t chk = 1;
    size_t i;

    for (i = 0; i < len; i++) {
        chk = polymod_step(chk, (unsigned char)hrp[i] >> 5);
    }
    chk = polymod_step(chk, 0);
    for (i = 0; i < len; i++) {
        chk = polymod_step(chk, (unsigned char)hrp[i] & 31);
    }
    return chk;
}

size_t rotarr_bech32_len(size_t hrp_len, size_t n)
{
    return hrp_len + 1 + (n * 8 + 4) / 5 + CHECKSUM_GROUPS;
}

static char encode_char(unsigned group, int upper)
{
    char c = charset[group];

    return upper && c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

static int valid_hrp(const char *hrp, size_t len)
{
    size_t i;

    if (len == 0) {
        return 0;
    }
    for (i = 0; i < len; i++) {
        if (hrp[i] < 33 || hrp[i] > 126 || (hrp[i] >= 'A' && hrp[i] <= 'Z')) {
            return 0;
        }
    }
    return 1;
}

struct encoder {
    char *out;
    size_t pos;
    uint32_t chk;
    int upper;
};

static void emit(struct encoder *enc, unsigned group)
{
    enc->chk = polymod_step(enc->chk, group);
    enc->out[enc->pos++] = encode_char(group, enc->upper);
}

int rotarr_bech32_encode(const char *hrp, const unsigned char *data,
                         size_t n, int upper, char *out)
{
    struct encoder enc = { out, 0, 0, upper };
    size_t hrp_len = strlen(hrp);
    uint32_t acc = 0, chk;
    unsigned bits = 0;
    size_t i;

    if (!valid_hrp(hrp, hrp_len)) {
        return -1;
    }
    enc.chk = polymod_hrp(hrp, hrp_len);
    for (i = 0; i < hrp_len; i++) {
        out[enc.pos++] = upper && hrp[i] >= 'a' && hrp[i] <= 'z'
                             ? (char)(hrp[i] - 'a' + 'A') : hrp[i];
    }
    out[enc.pos++] = '1';
    for (i = 0; i < n; i++) {
        acc = ((acc << 8) | data[i]) & 0xfff;
        bits += 8;
        while (bits >= 5) {
            bits -= 5;
            emit(&enc, (acc >> bits) & 31);
        }
    }
    if (bits > 0) {
        emit(&enc, (acc << (5 - bits)) & 31);
    }
    chk = enc.chk;
    for (i = 0; i < CHECKSUM_GROUPS; i++) {
        chk = polymod_step(chk, 0);
    }
    chk ^= 1;
    for (i = 0; i < CHECKSUM_GROUPS; i++) {
        out[enc.pos++] = encode_char((chk >> (5 * (5 - i))) & 31, upper);
    }
    out[enc.pos] = '\0';
    return 0;
}

/* Returns the 5-bit value of c (either case), or -1. */
static int decode_char(char c)
{
    const char *at;

    if (c >= 'A' && c <= 'Z') {
        c = (char)(c - 'A' + 'a');
    }
    at = c != '\0' ? strchr(charset, c) : NULL;
    return at != NULL ? (int)(at - charset) : -1;
}

/* Returns 1 for all lower case, 2 for all upper case, 0 for a mix. */
static int text_case(const char *text, size_t len)
{
    int lower = 0, upper = 0;
    size_t i;

    for (i = 0; i < len; i++) {
        lower |= text[i] >= 'a' && text[i] <= 'z';
        upper |= text[i] >= 'A' && text[i] <= 'Z';
    }
    if (lower && upper) {
        return 0;
    }
    return upper ? 2 : 1;
}

/* Converts the 5-bit groups of text (checksum excluded) to bytes. */
static int regroup(const char *text, size_t len, unsigned char *data,
                   size_t data_max, size_t *n)
{
    uint32_t acc = 0;
    unsigned bits = 0;
    size_t i;

    *n = 0;
    for (i = 0; i < len; i++) {
        acc = ((acc << 5) | (uint32_t)decode_char(text[i])) & 0xfff;
        bits += 5;
        if (bits >= 8) {
            bits -= 8;
            if (*n == data_max) {
                return -1;
            }
            data[(*n)++] = (unsigned char)(acc >> bits);
        }
    }
    /* Padding: fewer than 5 bits, all zero. */
    if (bits >= 5 || (acc & ((1u << bits) - 1)) != 0) {
        return -1;
    }
    return 0;
}

int rotarr_bech32_decode(const char *text, size_t len, char *hrp,
                         size_t hrp_max, unsigned char *data,
                         size_t data_max, size_t *n, int *upper)
{
    const char *sep = NULL;
    size_t hrp_len, i;
    uint32_t chk;
    int kind = text_case(text, len);

    for (i = 0; i < len; i++) {
        if (text[i] == '1') {
            sep = text + i;
        }
    }
    if (kind == 0 || sep == NULL) {
        return -1;
    }
    hrp_len = (size_t)(sep - text);
    if (hrp_len == 0 || hrp_len + 1 > hrp_max ||
        len - hrp_len - 1 < CHECKSUM_GROUPS) {
        return -1;
    }
    for (i = 0; i < hrp_len; i++) {
        hrp[i] = text[i] >= 'A' && text[i] <= 'Z' ? (char)(text[i] - 'A' + 'a')
                                                  : text[i];
    }
    hrp[hrp_len] = '\0';
    if (!valid_hrp(hrp, hrp_len)) {
        return -1;
    }
    chk = polymod_hrp(hrp, hrp_len);
    for (i = hrp_len + 1; i < len; i++) {
        int value = decode_char(text[i]);

        if (value < 0) {
            return -1;
        }
        chk = polymod_step(chk, (unsigned)value);
    }
    if (chk != 1) {
        return -1;
    }
    *upper = kind == 2;
    return regroup(sep + 1, len - hrp_len - 1 - CHECKSUM_GROUPS, data,
                   data_max, n);
}
