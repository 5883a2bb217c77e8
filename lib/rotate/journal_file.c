#include "rotarr/compat.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "rotarr/age.h"
#include "rotarr/journal.h"
#include "rotarr/fileio.h"
#include "journal_private.h"

#define JOURNAL_NAME "journal"

/* Longest path put in a message. */
#define PATH_TEXT_MAX 4096

/* Room for "journal.tmp.<pid>.<8 hex digits>". */
#define TEMP_NAME_MAX 64

static int journal_path(const char *stackdir, char *path,
                        struct rotarr_error *err)
{
    int n = snprintf(path, PATH_TEXT_MAX,
                     "%s/" ROTARR_STATE_DIR "/" JOURNAL_NAME, stackdir);

    if (n < 0 || n >= PATH_TEXT_MAX) {
        return rotarr_error_set(err, ROTARR_EFILE,
                                "stack directory path '%.64s...' is too "
                                "long", stackdir);
    }
    return 0;
}

static int read_all(int fd, char *bytes, size_t len)
{
    ssize_t n;

    while (len > 0) {
        n = read(fd, bytes, len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return -1;
        }
        if (n == 0) {
            errno = EIO;
            return -1;
        }
        bytes += n;
        len -= (size_t)n;
    }
    return 0;
}

/*
 * Replaces the journal in dir with text: a new 0600 file beside it,
 * flushed, renamed over it, and the directory flushed, so that after a
 * crash the journal is either the old one or the new one in full.  It
 * works through the descriptor of .rotarr, opened with O_NOFOLLOW, so a
 * symlink swapped in for the folder cannot redirect the write, which the
 * path-based rotarr_file_replace does not promise.
 */
static int write_atomic(int dir, const char *text, size_t len,
                        const char *path, struct rotarr_error *err)
{
    char temp[TEMP_NAME_MAX];
    int renamed = 0;
    int ret = -1;
    int fd;
    int n;

    n = snprintf(temp, sizeof(temp), JOURNAL_NAME ".tmp.%ld.%08x",
                 (long)getpid(), (unsigned)randombytes_random());
    if (n < 0 || (size_t)n >= sizeof(temp)) {
        return rotarr_error_set(err, ROTARR_EFILE,
                                "cannot name a temporary file for '%s'", path);
    }
    fd = openat(dir, temp,
                O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        return rotarr_error_set(err, ROTARR_EFILE,
                                "cannot create a temporary file beside "
                                "'%s': %s", path, strerror(errno));
    }
    if (fchmod(fd, 0600) != 0 || rotarr_write_all(fd, text, len) != 0 ||
        fsync(fd) != 0) {
        rotarr_error_set(err, ROTARR_EFILE, "cannot write '%s': %s", path,
                         strerror(errno));
        goto out;
    }
    n = close(fd);
    fd = -1;
    if (n != 0 || renameat(dir, temp, dir, JOURNAL_NAME) != 0) {
        rotarr_error_set(err, ROTARR_EFILE, "cannot write '%s': %s", path,
                         strerror(errno));
        goto out;
    }
    renamed = 1;
    if (fsync(dir) != 0) {
        rotarr_error_set(err, ROTARR_EFILE,
                         "cannot flush the directory of '%s': %s", path,
                         strerror(errno));
        goto out;
    }
    ret = 0;

out:
    if (fd >= 0) {
        close(fd);
    }
    if (!renamed) {
        unlinkat(dir, temp, 0);
    }
    return ret;
}

/* Encrypts text to the stack's recipients and stores the age file in
 * out. */
static int seal(const char *stackdir, const struct rotarr_secret *text,
                struct rotarr_buf *out, struct rotarr_error *err)
{
    struct rotarr_age_recipients *recipients;
    char path[PATH_TEXT_MAX];
    int n, ret = -1;

    n = snprintf(path, sizeof(path), "%s/" ROTARR_AGE_RECIPIENTS_FILE,
                 stackdir);
    if (n < 0 || (size_t)n >= sizeof(path)) {
        return rotarr_error_set(err, ROTARR_EFILE,
                                "stack directory path '%.64s...' is too "
                                "long", stackdir);
    }
    recipients = rotarr_age_recipients_new(err);
    if (recipients != NULL &&
        rotarr_age_recipients_add_file(recipients, path, err) == 0) {
        ret = rotarr_age_encrypt_buf(recipients, rotarr_secret_data(text),
                                     rotarr_secret_len(text), 0, out, err);
    }
    rotarr_age_recipients_free(recipients);
    if (ret < 0) {
        rotarr_error_prefix(err, "cannot encrypt the journal");
    }
    return ret;
}

void rotarr_journal_set_encrypted(struct rotarr_journal *j, int encrypted)
{
    j->encrypted = encrypted != 0;
}

int rotarr_journal_encrypted(const struct rotarr_journal *j)
{
    return j->encrypted;
}

int rotarr_journal_save(const struct rotarr_journal *j, const char *stackdir,
                        struct rotarr_error *err)
{
    char path[PATH_TEXT_MAX];
    struct rotarr_secret *text = NULL;
    struct rotarr_buf sealed = ROTARR_BUF_INIT;
    int dir = -1;
    int ret = -1;

    if (journal_path(stackdir, path, err) < 0) {
        return -1;
    }
    text = rotarr_journal_encode(j, err);
    if (text == NULL) {
        goto out;
    }
    dir = rotarr_state_dir_open(stackdir, 1, err);
    if (dir < 0 ||
        (j->encrypted && seal(stackdir, text, &sealed, err) < 0)) {
        goto out;
    }
    ret = j->encrypted
              ? write_atomic(dir, sealed.data, sealed.len, path, err)
              : write_atomic(dir, rotarr_secret_data(text),
                             rotarr_secret_len(text), path, err);

out:
    if (dir >= 0) {
        close(dir);
    }
    rotarr_buf_release(&sealed);
    rotarr_secret_free(text);
    return ret;
}

/* The journal contains passwords, so it must be a regular file that
 * only we can read. */
static int check_journal_file(int fd, const char *path, size_t *size,
                              struct rotarr_error *err)
{
    struct stat st;

    if (fstat(fd, &st) != 0) {
        return rotarr_error_set(err, ROTARR_EFILE, "cannot inspect '%s': %s",
                                path, strerror(errno));
    }
    if (!S_ISREG(st.st_mode)) {
        return rotarr_error_set(err, ROTARR_EFILE,
                                "journal '%s' is not a regular file", path);
    }
    if (st.st_uid != geteuid()) {
        return rotarr_error_set(err, ROTARR_EFILE,
                                "journal '%s' belongs to user id %lu; run "
                                "rotarr as that user", path,
                                (unsigned long)st.st_uid);
    }
    if ((st.st_mode & 077) != 0) {
        return rotarr_error_set(err, ROTARR_EFILE,
                                "journal '%s' is open to group or others "
                                "(mode %04o) and contains passwords; check "
                                "who could read it, then run 'chmod 600 %s'",
                                path, (unsigned)(st.st_mode & 07777), path);
    }
    if (st.st_size > ROTARR_JOURNAL_FILE_MAX) {
        return rotarr_error_set(err, ROTARR_EFILE,
                                "journal '%s' is larger than %d bytes; "
                                "inspect it and do not delete it", path,
                                ROTARR_JOURNAL_FILE_MAX);
    }
    *size = (size_t)st.st_size;
    return 0;
}

static int open_journal(int dir, const char *path, struct rotarr_error *err)
{
    int fd = openat(dir, JOURNAL_NAME, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

    if (fd < 0 && errno == ENOENT) {
        return -2;
    }
    if (fd < 0 && errno == ELOOP) {
        return rotarr_error_set(err, ROTARR_EFILE,
                                "journal '%s' is a symlink; rotarr writes "
                                "a regular file there, so inspect it", path);
    }
    if (fd < 0) {
        return rotarr_error_set(err, ROTARR_EFILE, "cannot open '%s': %s",
                                path, strerror(errno));
    }
    return fd;
}

/* Reads and decodes the open journal fd, an age file opened with keys
 * or plain text. */
static struct rotarr_journal *
read_journal(int fd, const char *path, const struct rotarr_age_keyring *keys,
             struct rotarr_error *err)
{
    struct rotarr_secret *text = NULL;
    struct rotarr_secret *plain = NULL;
    struct rotarr_journal *j = NULL;
    size_t size = 0;

    if (check_journal_file(fd, path, &size, err) < 0) {
        return NULL;
    }
    text = rotarr_secret_alloc(size, err);
    if (text == NULL) {
        return NULL;
    }
    if (read_all(fd, rotarr_secret_data(text), size) != 0) {
        rotarr_error_set(err, ROTARR_EFILE, "cannot read '%s': %s", path,
                         strerror(errno));
        goto out;
    }
    if (rotarr_age_is_encrypted(rotarr_secret_data(text), size)) {
        plain = rotarr_age_keyring_decrypt(keys, path,
                                           rotarr_secret_data(text), size,
                                           err);
        if (plain == NULL) {
            goto out;
        }
        j = rotarr_journal_decode(rotarr_secret_data(plain),
                                  rotarr_secret_len(plain), path, err);
        if (j != NULL) {
            j->encrypted = 1;
        }
        goto out;
    }
    j = rotarr_journal_decode(rotarr_secret_data(text), size, path, err);

out:
    rotarr_secret_free(plain);
    rotarr_secret_free(text);
    return j;
}

int rotarr_journal_load(const char *stackdir,
                        const struct rotarr_age_keyring *keys,
                        struct rotarr_journal **out, struct rotarr_error *err)
{
    char path[PATH_TEXT_MAX];
    int dir;
    int fd;

    *out = NULL;
    if (journal_path(stackdir, path, err) < 0) {
        return -1;
    }
    dir = rotarr_state_dir_open(stackdir, 0, err);
    if (dir < 0) {
        return dir == -2 ? 0 : -1;
    }
    fd = open_journal(dir, path, err);
    close(dir);
    if (fd < 0) {
        return fd == -2 ? 0 : -1;
    }
    *out = read_journal(fd, path, keys, err);
    close(fd);
    return *out != NULL ? 1 : -1;
}

int rotarr_journal_remove(const char *stackdir, struct rotarr_error *err)
{
    char path[PATH_TEXT_MAX];
    int ret = 0;
    int dir;

    if (journal_path(stackdir, path, err) < 0) {
        return -1;
    }
    dir = rotarr_state_dir_open(stackdir, 0, err);
    if (dir < 0) {
        return dir == -2 ? 0 : -1;
    }
    if (unlinkat(dir, JOURNAL_NAME, 0) != 0 && errno != ENOENT) {
        ret = rotarr_error_set(err, ROTARR_EFILE, "cannot delete '%s': %s",
                               path, strerror(errno));
    } else if (fsync(dir) != 0) {
        ret = rotarr_error_set(err, ROTARR_EFILE,
                               "cannot flush the directory of '%s': %s",
                               path, strerror(errno));
    }
    close(dir);
    return ret;
}
