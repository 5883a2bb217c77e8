/*
 * Random passwords and passphrases.
 *
 * Every symbol is drawn with an unbiased uniform choice (libsodium's
 * randombytes_uniform, which rejects the draws that would favour low
 * values).  No alphabet contains a character that needs quoting in a
 * Compose env file, YAML, a shell or a URL: never '#', '$', quotes,
 * whitespace, '\', '%', '@', ':', '/' or ','.
 */
#ifndef ROTARR_GEN_H
#define ROTARR_GEN_H

#include <stddef.h>
#include <stdint.h>

#include "rotarr/compat.h"
#include "rotarr/error.h"
#include "rotarr/secret.h"

enum rotarr_charset {
    ROTARR_CHARSET_ALNUM,     /* A-Z a-z 0-9, 62 symbols */
    ROTARR_CHARSET_URLSAFE,   /* alnum plus '-' '_', never first */
    ROTARR_CHARSET_HEX,       /* 0-9 a-f */
    ROTARR_CHARSET_BASE64URL, /* the RFC 4648 base64url alphabet */
    ROTARR_CHARSET_WORDS,     /* words of the EFF long list joined by '-' */
};

/* Strength below which 'rotarr gen' requires --weak. */
#define ROTARR_GEN_MIN_BITS 128

/* Bound of the length (characters, or words for ROTARR_CHARSET_WORDS). */
#define ROTARR_GEN_MAX_LENGTH 4096

/* Number of words in the built-in list and the longest word's length. */
#define ROTARR_WORDLIST_SIZE 7776
#define ROTARR_WORD_MAX 9

/*
 * Source of uniform integers in [0, bound), bound >= 1.  NULL selects
 * randombytes_uniform; tests pass a biased one to show that the
 * statistical test can fail.
 */
typedef uint32_t (*rotarr_uniform_fn)(uint32_t bound);

/*
 * Returns a new password of length symbols from cs: characters, or words
 * joined by '-' for ROTARR_CHARSET_WORDS.  For ROTARR_CHARSET_URLSAFE the
 * first character is alphanumeric, so the password never looks like an
 * option or a YAML sequence entry.  Returns NULL with err set
 * (ROTARR_EUSAGE) when length is 0 or above ROTARR_GEN_MAX_LENGTH, or
 * when uniform returns a value out of range.  libsodium must be
 * initialised (rotarr_secret_init).
 */
struct rotarr_secret *rotarr_gen_password(enum rotarr_charset cs,
                                          size_t length,
                                          rotarr_uniform_fn uniform,
                                          struct rotarr_error *err)
    ROTARR_MUST_CHECK;

/* Returns the entropy in bits of a password of length symbols from cs. */
double rotarr_gen_bits(enum rotarr_charset cs, size_t length);

/*
 * Returns the smallest length whose entropy reaches bits (at least 1).
 * The result may exceed ROTARR_GEN_MAX_LENGTH, which the caller checks.
 */
size_t rotarr_gen_length_for_bits(enum rotarr_charset cs, double bits);

/*
 * Returns the characters of cs and stores their number in *size.  For
 * ROTARR_CHARSET_URLSAFE the first 62 are the ones allowed first.  For
 * ROTARR_CHARSET_WORDS returns NULL and stores ROTARR_WORDLIST_SIZE.
 */
const char *rotarr_gen_alphabet(enum rotarr_charset cs, size_t *size);

/* Returns word index of the built-in list, or NULL past the end.  The
 * list is sorted by byte value, so callers may search it. */
const char *rotarr_gen_word(size_t index);

/*
 * Stores in *cs the charset called name ("alnum", "urlsafe", "hex",
 * "base64url" or "words") and returns 0, or returns -1 for another name.
 */
int rotarr_gen_charset_parse(const char *name, enum rotarr_charset *cs)
    ROTARR_MUST_CHECK;

/* Returns the name of cs as rotarr_gen_charset_parse accepts it. */
const char *rotarr_gen_charset_name(enum rotarr_charset cs);

#endif
