/*
 * A set of secrets looked up in one pass over the stack's values: whole
 * values by a hash of their bytes, copies inside longer values by a hash
 * of their first bytes.  Each secret is also kept in its compose form,
 * with '$' written '$$'.  Not installed.
 */
#ifndef ROTARR_MATCHER_H
#define ROTARR_MATCHER_H

#include <stddef.h>

#include "rotarr/error.h"
#include "rotarr/secret.h"

/*
 * Copies shorter than this inside longer values are not looked for: a
 * short password such as "postgres" also occurs in paths and names.
 * Lookups hash the first 8 bytes, so this must be at least 8.
 */
#define MATCHER_MIN_TEXT 12

/* One hash table whose entries are secret indexes chained per bucket. */
struct matcher_table {
    size_t mask;
    size_t *head; /* index + 1 of the first secret in a bucket, or 0 */
    size_t *next; /* index + 1 of the next secret in the same bucket */
};

struct matcher {
    size_t count;
    const struct rotarr_secret *const *secrets;
    struct rotarr_secret **compose; /* the secrets with '$' doubled */
    struct matcher_table whole[2];  /* by whole value: plain, compose */
    struct matcher_table prefix[2]; /* by first MATCHER_MIN_TEXT bytes */
};

int matcher_init(struct matcher *m, const struct rotarr_secret *const *secrets,
                 size_t count, struct rotarr_error *err);
void matcher_release(struct matcher *m);

/* Returns the secret's bytes as searched: plain, or compose form. */
const char *matcher_needle(const struct matcher *m, size_t index,
                           int compose, size_t *len);

/*
 * Returns the index + 1 of the secret equal to text (in plain or compose
 * form), or 0 when none is.
 */
size_t matcher_find_whole(const struct matcher *m, const char *text,
                          size_t len, int compose);

/*
 * Returns the index + 1 of the first candidate whose first
 * MATCHER_MIN_TEXT bytes equal those at text; continue a chain with
 * matcher_next_prefix.  text must have MATCHER_MIN_TEXT bytes.
 */
size_t matcher_first_prefix(const struct matcher *m, const char *text,
                            int compose);
size_t matcher_next_prefix(const struct matcher *m, size_t candidate,
                           int compose);

#endif
