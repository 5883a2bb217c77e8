#include "rotarr/compat.h"

#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include <sodium.h>

#include "rotarr/secret.h"

/* Largest secret accepted, far above any password or key. */
#define SECRET_MAX_BYTES ((size_t)1 << 30)

/* Bytes of one guarded block of a pool: a few hundred passwords. */
#define SECRET_POOL_BLOCK_BYTES ((size_t)16 * 1024)

struct rotarr_secret {
    size_t len;
    char *bytes;
    int pooled; /* bytes lie in a pool's block, which the pool frees */
};

/* One guarded block of a pool, handed out front to back. */
struct secret_block {
    struct secret_block *next;
    char *bytes;
    size_t size;
    size_t used;
};

struct rotarr_secret_pool {
    struct secret_block *blocks; /* the newest first */
};

int rotarr_secret_init(struct rotarr_error *err)
{
    struct rlimit no_core = { 0, 0 };

    if (sodium_init() < 0) {
        return rotarr_error_set(err, ROTARR_EFILE,
                                "cannot initialise libsodium");
    }
    if (setrlimit(RLIMIT_CORE, &no_core) != 0) {
        return rotarr_error_set(err, ROTARR_EFILE,
                                "cannot turn off core dumps");
    }
    /* Also keeps other processes of the same user from reading our
     * memory through ptrace or /proc/PID/mem, and makes /proc/PID/environ
     * readable by root only. */
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
        return rotarr_error_set(err, ROTARR_EFILE,
                                "cannot mark the process as not dumpable");
    }
    return 0;
}

struct rotarr_secret *rotarr_secret_alloc(size_t len,
                                          struct rotarr_error *err)
{
    struct rotarr_secret *secret;

    if (len > SECRET_MAX_BYTES) {
        rotarr_error_set(err, ROTARR_EFILE, "secret too large");
        return NULL;
    }
    /* sodium_malloc puts the end of the block against a guard page, so
     * the block is not aligned for a struct: only the bytes go there. */
    secret = malloc(sizeof(*secret));
    if (secret == NULL) {
        rotarr_error_set(err, ROTARR_EFILE, "out of memory");
        return NULL;
    }
    secret->bytes = sodium_malloc(len + 1);
    if (secret->bytes == NULL) {
        free(secret);
        rotarr_error_set(err, ROTARR_EFILE,
                         "out of locked memory for a secret; raise "
                         "'ulimit -l' or free memory");
        return NULL;
    }
    secret->len = len;
    secret->pooled = 0;
    sodium_memzero(secret->bytes, len + 1);
    return secret;
}

struct rotarr_secret *rotarr_secret_new(const void *bytes, size_t len,
                                        struct rotarr_error *err)
{
    struct rotarr_secret *secret = rotarr_secret_alloc(len, err);

    if (secret != NULL && len > 0) {
        memcpy(secret->bytes, bytes, len);
    }
    return secret;
}

char *rotarr_secret_data(const struct rotarr_secret *secret)
{
    return secret->bytes;
}

size_t rotarr_secret_len(const struct rotarr_secret *secret)
{
    return secret->len;
}

int rotarr_secret_equal(const struct rotarr_secret *a,
                        const struct rotarr_secret *b)
{
    if (a->len != b->len) {
        return 0;
    }
    return sodium_memcmp(a->bytes, b->bytes, a->len) == 0;
}

void rotarr_secret_truncate(struct rotarr_secret *secret, size_t len)
{
    if (len < secret->len) {
        sodium_memzero(secret->bytes + len, secret->len - len);
        secret->len = len;
    }
}

void rotarr_secret_free(struct rotarr_secret *secret)
{
    if (secret == NULL) {
        return;
    }
    if (secret->pooled) {
        sodium_memzero(secret->bytes, secret->len + 1);
    } else {
        sodium_free(secret->bytes);
    }
    free(secret);
}

struct rotarr_secret_pool *rotarr_secret_pool_new(struct rotarr_error *err)
{
    struct rotarr_secret_pool *pool = calloc(1, sizeof(*pool));

    if (pool == NULL) {
        rotarr_error_set(err, ROTARR_EFILE, "out of memory");
    }
    return pool;
}

/* Returns a block with room for need bytes: the newest one, or a new one
 * of at least SECRET_POOL_BLOCK_BYTES. */
static struct secret_block *pool_block(struct rotarr_secret_pool *pool,
                                       size_t need, struct rotarr_error *err)
{
    struct secret_block *block = pool->blocks;
    size_t size = need > SECRET_POOL_BLOCK_BYTES ? need
                                                 : SECRET_POOL_BLOCK_BYTES;

    if (block != NULL && block->size - block->used >= need) {
        return block;
    }
    block = malloc(sizeof(*block));
    if (block == NULL) {
        rotarr_error_set(err, ROTARR_EFILE, "out of memory");
        return NULL;
    }
    block->bytes = sodium_malloc(size);
    if (block->bytes == NULL) {
        free(block);
        rotarr_error_set(err, ROTARR_EFILE,
                         "out of locked memory for a secret; raise "
                         "'ulimit -l' or free memory");
        return NULL;
    }
    block->size = size;
    block->used = 0;
    block->next = pool->blocks;
    pool->blocks = block;
    return block;
}

struct rotarr_secret *rotarr_secret_pool_add(struct rotarr_secret_pool *pool,
                                             const void *bytes, size_t len,
                                             struct rotarr_error *err)
{
    struct rotarr_secret *secret;
    struct secret_block *block;

    if (len > SECRET_MAX_BYTES) {
        rotarr_error_set(err, ROTARR_EFILE, "secret too large");
        return NULL;
    }
    block = pool_block(pool, len + 1, err);
    if (block == NULL) {
        return NULL;
    }
    secret = malloc(sizeof(*secret));
    if (secret == NULL) {
        rotarr_error_set(err, ROTARR_EFILE, "out of memory");
        return NULL;
    }
    secret->len = len;
    secret->bytes = block->bytes + block->used;
    secret->pooled = 1;
    block->used += len + 1;
    if (len > 0) {
        memcpy(secret->bytes, bytes, len);
    }
    secret->bytes[len] = '\0';
    return secret;
}

void rotarr_secret_pool_free(struct rotarr_secret_pool *pool)
{
    struct secret_block *block;

    if (pool == NULL) {
        return;
    }
    while (pool->blocks != NULL) {
        block = pool->blocks;
        pool->blocks = block->next;
        sodium_free(block->bytes);
        free(block);
    }
    free(pool);
}
