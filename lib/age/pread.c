/*
 * The payload of a regular file read by the worker threads themselves,
 * each chunk with pread() at its offset.  The kernel's copy then runs on
 * all cores instead of the reading thread alone, and it leaves the chunk
 * in the cache of the core that seals or opens it.
 */
#include "rotarr/compat.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "age_private.h"

/* Below this payload size, the buffered reads are as fast. */
#define PREAD_MIN_BYTES ((off_t)4 * AGE_CIPHER_CHUNK)

int age_pread_open(struct age_pread *pr, const struct age_input *in,
                   size_t chunk_size)
{
    struct stat st;
    off_t position;
    int fd;

    memset(pr, 0, sizeof(*pr));
    if (in->armored || in->source->file_fd == NULL) {
        return 0;
    }
    fd = in->source->file_fd(in->source->ctx);
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        return 0;
    }
    position = lseek(fd, 0, SEEK_CUR);
    if (position < 0) {
        return 0;
    }
    /* The input buffer has read ahead of the payload's first byte. */
    pr->start = position - (off_t)(in->raw_len - in->raw_pos);
    pr->end = st.st_size;
    if (pr->start < 0 || pr->end - pr->start < PREAD_MIN_BYTES) {
        return 0;
    }
    pr->fd = fd;
    pr->chunk_size = chunk_size;
    pr->active = 1;
    return 1;
}

void age_pread_locate(const struct age_pread *pr, uint64_t index,
                      off_t *offset, size_t *len)
{
    *offset = pr->start + (off_t)(index * pr->chunk_size);
    if (*offset >= pr->end) {
        *len = 0;
    } else if (pr->end - *offset < (off_t)pr->chunk_size) {
        *len = (size_t)(pr->end - *offset);
    } else {
        *len = pr->chunk_size;
    }
}

int age_pread_chunk(const struct age_pread *pr, unsigned char *buf,
                    size_t len, off_t offset)
{
    size_t got = 0;
    ssize_t n;

    while (got < len) {
        n = pread(pr->fd, buf + got, len - got, offset + (off_t)got);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return errno;
        }
        if (n == 0) {
            /* The file shrank since its size was taken. */
            return ENODATA;
        }
        got += (size_t)n;
    }
    return 0;
}
