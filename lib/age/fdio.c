#include "rotarr/compat.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "rotarr/age.h"

ssize_t rotarr_age_fd_read(void *ctx, void *buf, size_t len,
                           struct rotarr_error *err)
{
    const struct rotarr_age_fd *file = ctx;
    ssize_t n;

    do {
        n = read(file->fd, buf, len);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        rotarr_error_set(err, ROTARR_EFILE, "cannot read '%s': %s",
                         file->name, strerror(errno));
    }
    return n;
}

int rotarr_age_fd_file(void *ctx)
{
    const struct rotarr_age_fd *file = ctx;

    return file->fd;
}

int rotarr_age_fd_write(void *ctx, const void *bytes, size_t len,
                        struct rotarr_error *err)
{
    const struct rotarr_age_fd *file = ctx;
    const char *p = bytes;
    ssize_t n;

    while (len > 0) {
        n = write(file->fd, p, len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return rotarr_error_set(err, ROTARR_EFILE, "cannot write '%s': "
                                    "%s", file->name,
                                    n < 0 ? strerror(errno) : "no progress");
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}
