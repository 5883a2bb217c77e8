/*
 * The journal's internals, shared by journal.c (the record),
 * journal_codec.c (the text format) and journal_file.c (the file).
 */
#ifndef ROTARR_JOURNAL_PRIVATE_H
#define ROTARR_JOURNAL_PRIVATE_H

#include <stddef.h>

#include "rotarr/journal.h"

struct journal_field {
    char *key;
    char *value;
};

struct journal_secret {
    char *which;
    struct rotarr_secret *secret;
};

struct rotarr_journal {
    char *kind;
    enum rotarr_step step;
    struct journal_field fields[ROTARR_JOURNAL_FIELDS_MAX];
    size_t nfields;
    struct journal_secret secrets[ROTARR_JOURNAL_SECRETS_MAX];
    size_t nsecrets;
    int encrypted; /* saved as an age file (rotarr_journal_set_encrypted) */
};

/* Returns 1 when the len bytes at key follow the key rules. */
int journal_key_valid(const char *key, size_t len);

/* Sets *step from its name; returns 0, or -1 for an unknown name. */
int journal_step_from_name(const char *name, size_t len,
                           enum rotarr_step *step);

/* Stores secret under which; the journal owns secret from then on, even
 * when this fails.  Returns 0, or -1 with err set. */
int journal_put_secret(struct rotarr_journal *j, const char *which,
                       struct rotarr_secret *secret,
                       struct rotarr_error *err);

#endif
