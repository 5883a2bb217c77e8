#include "rotarr/compat.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "guard_private.h"

/* Largest working-tree file read in place of its blob; larger ones come
 * from git. */
#define WORKTREE_MAX ((size_t)64 << 20)

/* Hex digits of a SHA-1 object id; SHA-256 ids have 64. */
#define SHA1_HEX 40
#define SHA256_HEX 64

/* Writes the object id of a blob holding the len bytes at bytes, as git
 * computes it: the hash of "blob LEN\0" and the bytes, in hex. */
static int blob_id(const unsigned char *bytes, size_t len, size_t hex_len,
                   char hex[ROTARR_GUARD_OID_SIZE])
{
    unsigned char digest[32];
    char header[32];
    struct guard_sha1 sha1;
    crypto_hash_sha256_state sha256;
    int n = snprintf(header, sizeof(header), "blob %zu", len);

    if (n < 0 || (size_t)n >= sizeof(header)) {
        return -1;
    }
    if (hex_len == SHA1_HEX) {
        guard_sha1_init(&sha1);
        guard_sha1_update(&sha1, header, (size_t)n + 1);
        guard_sha1_update(&sha1, bytes, len);
        guard_sha1_final(&sha1, digest);
    } else {
        crypto_hash_sha256_init(&sha256);
        crypto_hash_sha256_update(&sha256, (unsigned char *)header,
                                  (size_t)n + 1);
        crypto_hash_sha256_update(&sha256, bytes, len);
        crypto_hash_sha256_final(&sha256, digest);
    }
    sodium_bin2hex(hex, ROTARR_GUARD_OID_SIZE, digest, hex_len / 2);
    return 0;
}

static int grow(struct guard_worktree *wt, size_t len,
                struct rotarr_error *err)
{
    char *buf;

    if (len <= wt->cap) {
        return 0;
    }
    /* No realloc: the old buffer may hold secrets and is wiped. */
    buf = malloc(len);
    if (buf == NULL) {
        return rotarr_error_set(err, ROTARR_EFILE, "out of memory");
    }
    if (wt->buf != NULL) {
        sodium_memzero(wt->buf, wt->cap);
        free(wt->buf);
    }
    wt->buf = buf;
    wt->cap = len;
    return 0;
}

/* Reads exactly size bytes; returns 0, or -1 when the file changed. */
static int read_exactly(int fd, char *buf, size_t size)
{
    char extra;
    ssize_t n;
    size_t got = 0;

    while (got < size) {
        n = read(fd, buf + got, size - got);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return -1;
        }
        got += (size_t)n;
    }
    return read(fd, &extra, 1) == 0 ? 0 : -1;
}

int guard_worktree_read(struct guard_worktree *wt, const char *path,
                        const char *oid, const char **bytes, size_t *len,
                        struct rotarr_error *err)
{
    char hex[ROTARR_GUARD_OID_SIZE];
    struct stat st;
    char *full;
    size_t oid_len = strlen(oid);
    int fd, same = 0;

    if (wt->top == NULL || (oid_len != SHA1_HEX && oid_len != SHA256_HEX)) {
        return 0;
    }
    full = guard_path_join(wt->top, path);
    if (full == NULL) {
        return rotarr_error_set(err, ROTARR_EFILE, "out of memory");
    }
    fd = open(full, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
    free(full);
    if (fd < 0) {
        return 0;
    }
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
        (size_t)st.st_size <= WORKTREE_MAX) {
        if (grow(wt, (size_t)st.st_size + 1, err) < 0) {
            close(fd);
            return -1;
        }
        same = read_exactly(fd, wt->buf, (size_t)st.st_size) == 0 &&
               blob_id((unsigned char *)wt->buf, (size_t)st.st_size, oid_len,
                       hex) == 0 &&
               strcmp(hex, oid) == 0;
    }
    close(fd);
    if (same) {
        *bytes = wt->buf;
        *len = (size_t)st.st_size;
    }
    return same;
}

void guard_worktree_release(struct guard_worktree *wt)
{
    if (wt->buf != NULL) {
        sodium_memzero(wt->buf, wt->cap);
        free(wt->buf);
    }
    free(wt->top);
    memset(wt, 0, sizeof(*wt));
}
