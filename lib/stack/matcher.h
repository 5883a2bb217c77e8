/*
 * A set of secrets looked up in one pass over the stack's values: whole
 * values by a hash of their bytes, copies inside longer values by a hash
 * of their first bytes.  Each secret is also kept in its compose form,
 * with '$' written '$$'.  Not installed.
 */
#ifndef ROTARR_MATCHER_H
#define ROTARR_MATCHER_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "rotarr/error.h"
#include "rotarr/secret.h"

/*
 * Copies shorter than this inside longer values are not looked for: a
 * short password such as "postgres" also occurs in paths and names.
 * Lookups hash the first 8 bytes, so this must be at least 8.
 */
#define MATCHER_MIN_TEXT 12

/* Bits in the filter of prefix hashes: 8 KiB, so that the test made at
 * every position of every value stays in the first-level cache. */
#define MATCHER_FILTER_BITS ((size_t)1 << 16)

/* Needle lengths below this are kept in a bit set, so that a value of
 * another length is not hashed at all. */
#define MATCHER_SHORT_LENGTHS 256

/* One hash table whose entries are secret indexes chained per bucket. */
struct matcher_table {
    size_t mask;
    size_t *head; /* index + 1 of the first secret in a bucket, or 0 */
    size_t *next; /* index + 1 of the next secret in the same bucket */
};

/* What is known of the needles of one form, plain or compose. */
struct matcher_form {
    const char **needles; /* by secret index, in secret memory */
    size_t *lengths;
    struct matcher_table whole;  /* by whole value */
    struct matcher_table prefix; /* by first MATCHER_MIN_TEXT bytes */
    /* Bit h % MATCHER_FILTER_BITS is set when some needle's prefix hash
     * is h; a clear bit rules out every needle at that position. */
    uint64_t *filter;
    uint64_t short_lengths[MATCHER_SHORT_LENGTHS / 64];
    int has_long; /* a needle of MATCHER_SHORT_LENGTHS bytes or more */
};

struct matcher {
    size_t count;
    const struct rotarr_secret *const *secrets;
    struct rotarr_secret **compose; /* the secrets with '$' doubled */
    struct matcher_form forms[2];   /* plain, compose */
};

int matcher_init(struct matcher *m, const struct rotarr_secret *const *secrets,
                 size_t count, struct rotarr_error *err);
void matcher_release(struct matcher *m);

/*
 * Returns the index + 1 of the secret equal to text (in plain or compose
 * form), or 0 when none is.
 */
size_t matcher_find_whole(const struct matcher *m, const char *text,
                          size_t len, int compose);

/* The functions below run at every position of every searched value, so
 * they are inline. */

/* Hash of the first MATCHER_MIN_TEXT bytes: one load and one multiply. */
static inline uint64_t matcher_hash_prefix(const char *s)
{
    uint64_t word;

    memcpy(&word, s, sizeof(word));
    return (word * 0x9e3779b97f4a7c15ULL) >> 17;
}

/* Returns the secret's bytes as searched: plain, or compose form. */
static inline const char *matcher_needle(const struct matcher *m,
                                         size_t index, int compose,
                                         size_t *len)
{
    const struct matcher_form *form = &m->forms[compose != 0];

    *len = form->lengths[index];
    return form->needles[index];
}

/* Returns 1 when some needle of form may start with the
 * MATCHER_MIN_TEXT bytes at text. */
static inline int matcher_filter_has(const struct matcher_form *form,
                                     const char *text)
{
    size_t bit = (size_t)matcher_hash_prefix(text) % MATCHER_FILTER_BITS;

    return (form->filter[bit / 64] >> (bit % 64) & 1) != 0;
}

/*
 * Returns the first offset from at on where a needle may start in the
 * len bytes of text, or len when there is none.  This loop runs over
 * every byte of every value, so it keeps to registers.
 */
static inline size_t matcher_next_start(const struct matcher *m,
                                        const char *text, size_t at,
                                        size_t len, int compose)
{
    const struct matcher_form *form = &m->forms[compose != 0];

    for (; at + MATCHER_MIN_TEXT <= len; at++) {
        if (matcher_filter_has(form, text + at)) {
            return at;
        }
    }
    return len;
}

/*
 * Returns the index + 1 of the first candidate whose first
 * MATCHER_MIN_TEXT bytes may equal those at text, or 0 when none can;
 * continue a chain with matcher_next_prefix.  text must have
 * MATCHER_MIN_TEXT bytes.
 */
static inline size_t matcher_first_prefix(const struct matcher *m,
                                          const char *text, int compose)
{
    const struct matcher_form *form = &m->forms[compose != 0];

    if (!matcher_filter_has(form, text)) {
        return 0;
    }
    return form->prefix.head[(size_t)matcher_hash_prefix(text) &
                             form->prefix.mask];
}

static inline size_t matcher_next_prefix(const struct matcher *m,
                                         size_t candidate, int compose)
{
    return m->forms[compose != 0].prefix.next[candidate - 1];
}

#endif
