/*
 * Output files that appear only when complete, so that a failed
 * decryption leaves no partial plaintext and never replaces a good file.
 */
#include "rotarr/compat.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rotarr/age.h"
#include "rotarr/buf.h"
#include "rotarr/fileio.h"

#define TEMP_ATTEMPTS 16

struct rotarr_age_outfile {
    char *path;
    char *temp;
    char *dir;
    int fd;
};

static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');

    if (slash == NULL) {
        return strdup(".");
    }
    if (slash == path) {
        return strdup("/");
    }
    return strndup(path, (size_t)(slash - path));
}

static int open_temp(struct rotarr_age_outfile *file,
                     struct rotarr_error *err)
{
    struct rotarr_buf name = ROTARR_BUF_INIT;
    const char *slash = strrchr(file->path, '/');
    const char *base = slash != NULL ? slash + 1 : file->path;
    unsigned char random[8];
    char suffix[2 * sizeof(random) + 1];
    int attempt, claimed = 0;

    for (attempt = 0; attempt < TEMP_ATTEMPTS && file->fd < 0; attempt++) {
        randombytes_buf(random, sizeof(random));
        sodium_bin2hex(suffix, sizeof(suffix), random, sizeof(random));
        rotarr_buf_reset(&name);
        if (rotarr_buf_printf(&name, err, "%s/.%.64s.rotarr-%s", file->dir,
                              base, suffix) < 0) {
            break;
        }
        file->fd = open(name.data, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW
                                       | O_CLOEXEC, 0600);
        if (file->fd < 0 && errno != EEXIST) {
            rotarr_error_set(err, ROTARR_EFILE, "cannot create a temporary "
                             "file in '%s': %s", file->dir, strerror(errno));
            break;
        }
        /* The claim keeps a rotation's sweep of stale temporary files
         * (rotarr_temp_sweep) away from this one.  A file swept before
         * the claim is made again under another name. */
        claimed = file->fd < 0 ? 0
                               : rotarr_temp_claim(file->fd, name.data, err);
        if (claimed != 0) {
            close(file->fd);
            file->fd = -1;
        }
        if (claimed < 0) {
            unlink(name.data);
            break;
        }
    }
    if (file->fd < 0) {
        if (attempt == TEMP_ATTEMPTS && claimed >= 0) {
            rotarr_error_set(err, ROTARR_EFILE, "cannot create a temporary "
                             "file in '%s': every name tried exists",
                             file->dir);
        }
        rotarr_buf_release(&name);
        return -1;
    }
    file->temp = rotarr_buf_detach(&name, NULL);
    /* The umask may have taken bits off 0600. */
    return fchmod(file->fd, 0600);
}

struct rotarr_age_outfile *rotarr_age_outfile_open(const char *path,
                                                   struct rotarr_error *err)
{
    struct rotarr_age_outfile *file = calloc(1, sizeof(*file));
    struct stat st;

    if (file == NULL) {
        rotarr_error_set(err, ROTARR_EFILE, "out of memory");
        return NULL;
    }
    file->fd = -1;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        rotarr_error_set(err, ROTARR_EFILE, "'%s' is a directory", path);
        goto fail;
    }
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        /* A device or pipe such as /dev/null cannot be replaced by a
         * rename, which would put a regular file in its place: write to
         * it directly. */
        file->fd = open(path, O_WRONLY | O_CLOEXEC);
        if (file->fd < 0) {
            rotarr_error_set(err, ROTARR_EFILE, "cannot open '%s': %s", path,
                             strerror(errno));
            goto fail;
        }
        return file;
    }
    file->path = strdup(path);
    file->dir = dir_of(path);
    if (file->path == NULL || file->dir == NULL) {
        rotarr_error_set(err, ROTARR_EFILE, "out of memory");
        goto fail;
    }
    if (open_temp(file, err) < 0) {
        goto fail;
    }
    return file;

fail:
    rotarr_age_outfile_abort(file);
    return NULL;
}

int rotarr_age_outfile_fd(const struct rotarr_age_outfile *file)
{
    return file->fd;
}

const char *rotarr_age_outfile_temp_path(
    const struct rotarr_age_outfile *file)
{
    return file->temp;
}

int rotarr_age_outfile_commit(struct rotarr_age_outfile *file,
                              struct rotarr_error *err)
{
    int ret = -1;

    if (file->path == NULL) {
        ret = close(file->fd);
        file->fd = -1;
        if (ret != 0) {
            rotarr_error_set(err, ROTARR_EFILE, "cannot write the output: %s",
                             strerror(errno));
        }
        goto out;
    }
    if (fsync(file->fd) != 0) {
        rotarr_error_set(err, ROTARR_EFILE, "cannot sync '%s': %s",
                         file->temp, strerror(errno));
        goto out;
    }
    /* The descriptor stays open through the rename: closing it would
     * drop the claim, and a sweep could remove the file meanwhile. */
    ret = rename(file->temp, file->path);
    if (ret != 0) {
        rotarr_error_set(err, ROTARR_EFILE, "cannot rename '%s' to '%s': %s",
                         file->temp, file->path, strerror(errno));
        goto out;
    }
    free(file->temp);
    file->temp = NULL;
    ret = close(file->fd);
    file->fd = -1;
    if (ret != 0) {
        rotarr_error_set(err, ROTARR_EFILE, "cannot write '%s': %s",
                         file->path, strerror(errno));
        goto out;
    }
    ret = rotarr_dir_sync(file->dir, err);

out:
    rotarr_age_outfile_abort(file);
    return ret;
}

void rotarr_age_outfile_abort(struct rotarr_age_outfile *file)
{
    if (file == NULL) {
        return;
    }
    if (file->fd >= 0) {
        close(file->fd);
    }
    if (file->temp != NULL) {
        unlink(file->temp);
    }
    free(file->temp);
    free(file->path);
    free(file->dir);
    free(file);
}
