#include "rotarr/compat.h"

#include <string.h>

#include <sodium.h>

#include "rotarr/gen.h"

/* Alphanumerics first: urlsafe draws its first character from them. */
static const char base64url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

#define ALNUM_SIZE 62
#define BASE64URL_SIZE 64

static const char hex_alphabet[] = "0123456789abcdef";

static const char *const charset_names[] = {
    [ROTARR_CHARSET_ALNUM] = "alnum",
    [ROTARR_CHARSET_URLSAFE] = "urlsafe",
    [ROTARR_CHARSET_HEX] = "hex",
    [ROTARR_CHARSET_BASE64URL] = "base64url",
    [ROTARR_CHARSET_WORDS] = "words",
};

#define CHARSET_COUNT (sizeof(charset_names) / sizeof(charset_names[0]))

const char *rotarr_gen_alphabet(enum rotarr_charset cs, size_t *size)
{
    switch (cs) {
    case ROTARR_CHARSET_ALNUM:
        *size = ALNUM_SIZE;
        return base64url_alphabet;
    case ROTARR_CHARSET_URLSAFE:
    case ROTARR_CHARSET_BASE64URL:
        *size = BASE64URL_SIZE;
        return base64url_alphabet;
    case ROTARR_CHARSET_HEX:
        *size = sizeof(hex_alphabet) - 1;
        return hex_alphabet;
    case ROTARR_CHARSET_WORDS:
    default:
        *size = ROTARR_WORDLIST_SIZE;
        return NULL;
    }
}

/*
 * log2 of the alphabet sizes, written out so that the library needs no
 * libm: log2(62), log2(64), log2(16), log2(7776).
 */
#define ALNUM_BITS 5.954196310386875
#define BASE64URL_BITS 6.0
#define HEX_BITS 4.0
#define WORD_BITS 12.92481250360578

static double symbol_bits(enum rotarr_charset cs)
{
    switch (cs) {
    case ROTARR_CHARSET_ALNUM:
        return ALNUM_BITS;
    case ROTARR_CHARSET_URLSAFE:
    case ROTARR_CHARSET_BASE64URL:
        return BASE64URL_BITS;
    case ROTARR_CHARSET_HEX:
        return HEX_BITS;
    case ROTARR_CHARSET_WORDS:
    default:
        return WORD_BITS;
    }
}

double rotarr_gen_bits(enum rotarr_charset cs, size_t length)
{
    if (length == 0) {
        return 0.0;
    }
    if (cs == ROTARR_CHARSET_URLSAFE) {
        return ALNUM_BITS + (double)(length - 1) * BASE64URL_BITS;
    }
    return (double)length * symbol_bits(cs);
}

size_t rotarr_gen_length_for_bits(enum rotarr_charset cs, double bits)
{
    size_t length;

    if (!(bits > 0.0)) {
        return 1;
    }
    if (bits > rotarr_gen_bits(cs, ROTARR_GEN_MAX_LENGTH)) {
        return ROTARR_GEN_MAX_LENGTH + 1;
    }

    /* The quotient is a first guess, which the loops correct for rounding. */
    length = (size_t)(bits / symbol_bits(cs));
    if (length == 0) {
        length = 1;
    }
    while (rotarr_gen_bits(cs, length) < bits) {
        length++;
    }
    while (length > 1 && rotarr_gen_bits(cs, length - 1) >= bits) {
        length--;
    }
    return length;
}

static uint32_t draw(rotarr_uniform_fn uniform, uint32_t bound, int *bad)
{
    uint32_t value;

    value = uniform != NULL ? uniform(bound) : randombytes_uniform(bound);
    if (value >= bound) {
        *bad = 1;
        return 0;
    }
    return value;
}

static struct rotarr_secret *gen_chars(enum rotarr_charset cs,
                                       size_t length,
                                       rotarr_uniform_fn uniform, int *bad,
                                       struct rotarr_error *err)
{
    struct rotarr_secret *secret;
    const char *alphabet;
    char *out;
    size_t size;
    size_t i;

    alphabet = rotarr_gen_alphabet(cs, &size);
    secret = rotarr_secret_alloc(length, err);
    if (secret == NULL) {
        return NULL;
    }
    out = rotarr_secret_data(secret);
    for (i = 0; i < length; i++) {
        uint32_t bound = (uint32_t)size;

        if (i == 0 && cs == ROTARR_CHARSET_URLSAFE) {
            bound = ALNUM_SIZE;
        }
        out[i] = alphabet[draw(uniform, bound, bad)];
    }
    return secret;
}

static struct rotarr_secret *gen_words(size_t count,
                                       rotarr_uniform_fn uniform, int *bad,
                                       struct rotarr_error *err)
{
    struct rotarr_secret *secret;
    char *out;
    size_t used = 0;
    size_t i;

    secret = rotarr_secret_alloc(count * (ROTARR_WORD_MAX + 1), err);
    if (secret == NULL) {
        return NULL;
    }
    out = rotarr_secret_data(secret);
    for (i = 0; i < count; i++) {
        const char *word;
        size_t word_len;

        word = rotarr_gen_word(draw(uniform, ROTARR_WORDLIST_SIZE, bad));
        word_len = strlen(word);
        if (i > 0) {
            out[used++] = '-';
        }
        memcpy(out + used, word, word_len);
        used += word_len;
    }
    rotarr_secret_truncate(secret, used);
    return secret;
}

struct rotarr_secret *rotarr_gen_password(enum rotarr_charset cs,
                                          size_t length,
                                          rotarr_uniform_fn uniform,
                                          struct rotarr_error *err)
{
    struct rotarr_secret *secret;
    int bad = 0;

    if ((size_t)cs >= CHARSET_COUNT) {
        rotarr_error_set(err, ROTARR_EUSAGE, "unknown charset %d", (int)cs);
        return NULL;
    }
    if (length == 0 || length > ROTARR_GEN_MAX_LENGTH) {
        rotarr_error_set(err, ROTARR_EUSAGE,
                         "password length %zu is out of range; "
                         "use 1 to %d", length, ROTARR_GEN_MAX_LENGTH);
        return NULL;
    }
    if (cs == ROTARR_CHARSET_WORDS) {
        secret = gen_words(length, uniform, &bad, err);
    } else {
        secret = gen_chars(cs, length, uniform, &bad, err);
    }
    if (secret != NULL && bad) {
        rotarr_secret_free(secret);
        rotarr_error_set(err, ROTARR_EUSAGE,
                         "the random source returned a value out of range");
        return NULL;
    }
    return secret;
}

int rotarr_gen_charset_parse(const char *name, enum rotarr_charset *cs)
{
    size_t i;

    for (i = 0; i < CHARSET_COUNT; i++) {
        if (strcmp(name, charset_names[i]) == 0) {
            *cs = (enum rotarr_charset)i;
            return 0;
        }
    }
    return -1;
}

const char *rotarr_gen_charset_name(enum rotarr_charset cs)
{
    if ((size_t)cs >= CHARSET_COUNT) {
        return "unknown";
    }
    return charset_names[cs];
}
