#include "rotarr/compat.h"

#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include <sodium.h>

#include "rotarr/secret.h"

struct rotarr_secret {
    size_t len;
    char *bytes;
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

    if (len > (size_t)1 << 30) {
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
    if (secret != NULL) {
        sodium_free(secret->bytes);
        free(secret);
    }
}
