/*
 * Secret bytes (passwords, keys, decrypted payloads) in libsodium guarded
 * memory: locked so it is never swapped out, surrounded by guard pages, and
 * wiped when freed.  Call rotarr_secret_init() once before any other
 * rotarr call; it initialises libsodium and turns off core dumps.
 */
#ifndef ROTARR_SECRET_H
#define ROTARR_SECRET_H

#include <stddef.h>

#include "rotarr/error.h"

struct rotarr_secret;

/*
 * Initialises libsodium, sets RLIMIT_CORE to 0 so that a crash while a
 * secret is in memory writes no core file, and marks the process as not
 * dumpable (PR_SET_DUMPABLE), so that no other process of the same user
 * can attach to it or read its memory.  Child processes are dumpable
 * again after exec.  Returns 0, or -1 with err set.  Safe to call more
 * than once.
 */
int rotarr_secret_init(struct rotarr_error *err);

/*
 * Returns a new secret holding a copy of the len bytes at bytes, followed
 * by a NUL so that it can be passed where C strings are expected.  Returns
 * NULL with err set when guarded memory runs out.
 */
struct rotarr_secret *rotarr_secret_new(const void *bytes, size_t len,
                                        struct rotarr_error *err);

/* Returns a new zero-filled secret of len bytes (plus a NUL). */
struct rotarr_secret *rotarr_secret_alloc(size_t len,
                                          struct rotarr_error *err);

/* Returns the bytes; they stay valid until rotarr_secret_free. */
char *rotarr_secret_data(const struct rotarr_secret *secret);

/* Returns the number of bytes, the trailing NUL not counted. */
size_t rotarr_secret_len(const struct rotarr_secret *secret);

/* Returns 1 when both secrets hold the same bytes, compared in constant time
 * for equal lengths. */
int rotarr_secret_equal(const struct rotarr_secret *a,
                        const struct rotarr_secret *b);

/* Shortens the secret to len bytes (len must not exceed the current length)
 * and wipes the rest. */
void rotarr_secret_truncate(struct rotarr_secret *secret, size_t len);

/* Wipes and frees the secret.  Accepts NULL. */
void rotarr_secret_free(struct rotarr_secret *secret);

/*
 * Guarded blocks shared by many small secrets.  Each guarded allocation
 * costs several system calls and at least three pages, so a caller that
 * holds thousands of secrets at once takes them from a pool: one block
 * serves many secrets.  A pooled secret is used and freed like any other
 * (rotarr_secret_free() wipes its bytes), but its bytes stay in the pool's
 * block, so the pool must be freed after every secret taken from it.
 */
struct rotarr_secret_pool;

/* Returns an empty pool, or NULL with err set when memory runs out. */
struct rotarr_secret_pool *rotarr_secret_pool_new(struct rotarr_error *err);

/*
 * Returns a new secret in pool holding a copy of the len bytes at bytes,
 * followed by a NUL, like rotarr_secret_new().  Returns NULL with err set
 * when guarded memory runs out.
 */
struct rotarr_secret *rotarr_secret_pool_add(struct rotarr_secret_pool *pool,
                                             const void *bytes, size_t len,
                                             struct rotarr_error *err);

/* Wipes and frees the pool's blocks; free its secrets first.  Accepts
 * NULL. */
void rotarr_secret_pool_free(struct rotarr_secret_pool *pool);

#endif
