/*
 * The parts of struct rotarr_dotenv shared by the .env parser, its
 * accessors and the Unicode tables.  Private to lib/stack.
 */
#ifndef ROTARR_DOTENV_INTERNAL_H
#define ROTARR_DOTENV_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <sodium.h>

#include "rotarr/buf.h"
#include "rotarr/dotenv.h"

/* An entry while the file is parsed: its key and value live in the arena,
 * which may move, so they are offsets until the parse ends. */
struct dotenv_item {
    struct rotarr_dotenv_entry pub;
    size_t key_off;
    size_t key_len;
    size_t value_off; /* SIZE_MAX when the entry has no value */
};

struct dotenv_slot {
    uint64_t hash;
    size_t entry; /* 1 + the entry's index; 0 marks a free slot */
};

struct rotarr_dotenv {
    char *path;
    char *bytes;
    size_t len;
    struct dotenv_item *items;
    size_t count;
    size_t alloc;
    struct rotarr_buf arena; /* keys and values, each NUL-terminated */
    /* Open-addressing table from key to the entry that sets it last. */
    struct dotenv_slot *slots;
    size_t slot_count; /* a power of two, or 0 */
    size_t keys_set;
    unsigned char hash_key[crypto_shorthash_KEYBYTES];
    const struct rotarr_dotenv *prior;
};

/* Allocates an empty object holding a copy of path and bytes. */
struct rotarr_dotenv *rotarr_dotenv_new(const char *path, const char *bytes,
                                        size_t len, struct rotarr_error *err);

/*
 * Appends an entry for the key of key_len bytes, with the value of
 * value_len bytes or no value (value NULL), and makes it the entry that
 * sets the key when it has a value.  pub gives the positions and flags;
 * its key and value fields are ignored.
 */
int rotarr_dotenv_add(struct rotarr_dotenv *env,
                      const struct rotarr_dotenv_entry *pub, const char *key,
                      size_t key_len, const char *value, size_t value_len,
                      struct rotarr_error *err);

/* Returns the value set last for name in this file only, or NULL. */
const char *rotarr_dotenv_own_value(const struct rotarr_dotenv *env,
                                    const char *name);

/* Points every entry's key and value into the arena; call once the parse
 * is done. */
void rotarr_dotenv_finish(struct rotarr_dotenv *env);

/* Reports whether the code point is a Unicode letter or number (general
 * category L or N, Unicode 15.0, as Go's unicode.IsLetter/IsNumber). */
int rotarr_unicode_is_alnum(uint32_t cp);

/* Reports whether the code point is white space as Go's unicode.IsSpace
 * defines it. */
int rotarr_unicode_is_space(uint32_t cp);

#endif
