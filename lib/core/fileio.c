#include "rotarr/compat.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "rotarr/buf.h"
#include "rotarr/failpoint.h"
#include "rotarr/fileio.h"

/* Tries at a free temporary name before giving up. */
#define TEMP_ATTEMPTS 16

/* A temporary name is "." BASE TEMP_MARK and TEMP_SUFFIX_LEN lower-case
 * hex digits, BASE being the target's name cut to TEMP_BASE_MAX bytes. */
#define TEMP_MARK ".rotarr-"
#define TEMP_SUFFIX_LEN 16
#define TEMP_BASE_MAX 64

static rotarr_file_created_fn created_hook;

void rotarr_file_set_created_hook(rotarr_file_created_fn hook)
{
    created_hook = hook;
}

static int open_error(const char *path, const char *action,
                      struct rotarr_error *err)
{
    if (errno == ENOENT) {
        return rotarr_error_set(err, ROTARR_EFILE,
                                "'%s': no such file; check the path",
                                path);
    }
    if (errno == EACCES) {
        return rotarr_error_set(err, ROTARR_EFILE,
                                "cannot %s '%s': permission denied; check "
                                "its mode and owner", action, path);
    }
    return rotarr_error_set(err, ROTARR_EFILE, "cannot %s '%s': %s",
                            action, path, strerror(errno));
}

static void free_wiped(char *bytes, size_t len)
{
    if (bytes != NULL) {
        sodium_memzero(bytes, len);
        free(bytes);
    }
}

/*
 * Moves *bytes to a buffer of cap bytes.  realloc is not used because it
 * could leave a copy of a secret behind in freed memory.
 */
static int grow_wiped(char **bytes, size_t used, size_t cap)
{
    char *bigger = malloc(cap);

    if (bigger == NULL) {
        return -1;
    }
    memcpy(bigger, *bytes, used);
    free_wiped(*bytes, used);
    *bytes = bigger;
    return 0;
}

/*
 * Reads fd to the end into *bytes, a buffer of cap bytes, and counts the
 * bytes read in *used as it goes, so that the caller can wipe them after
 * a failure.
 */
static int read_all(int fd, const char *path, char **bytes, size_t *used,
                    size_t cap, struct rotarr_error *err)
{
    ssize_t n;

    for (;;) {
        if (*used + 1 == cap) {
            if (cap > ROTARR_FILE_MAX) {
                return rotarr_error_set(err, ROTARR_EFILE,
                                        "'%s' is larger than %zu bytes",
                                        path, ROTARR_FILE_MAX);
            }
            cap = cap > ROTARR_FILE_MAX / 2 ? ROTARR_FILE_MAX + 2 : cap * 2;
            if (grow_wiped(bytes, *used, cap) < 0) {
                return rotarr_error_set(err, ROTARR_EFILE, "out of memory");
            }
        }
        n = read(fd, *bytes + *used, cap - 1 - *used);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return open_error(path, "read", err);
        }
        if (n == 0) {
            break;
        }
        *used += (size_t)n;
    }
    (*bytes)[*used] = '\0';
    return 0;
}

/*
 * Returns the offset of the first byte that does not belong to valid
 * UTF-8 (overlong forms, surrogates and code points past U+10FFFF
 * included) or is NUL, or len when there is none.
 */
static size_t utf8_invalid_at(const unsigned char *s, size_t len)
{
    size_t i = 0;
    size_t n;
    size_t k;
    unsigned char lo;
    unsigned char hi;

    while (i < len) {
        unsigned char c = s[i];

        lo = 0x80;
        hi = 0xbf;
        if (c == 0) {
            return i;
        } else if (c < 0x80) {
            n = 0;
        } else if (c >= 0xc2 && c <= 0xdf) {
            n = 1;
        } else if (c >= 0xe0 && c <= 0xef) {
            n = 2;
            lo = c == 0xe0 ? 0xa0 : 0x80;
            hi = c == 0xed ? 0x9f : 0xbf;
        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 3;
            lo = c == 0xf0 ? 0x90 : 0x80;
            hi = c == 0xf4 ? 0x8f : 0xbf;
        } else {
            return i;
        }
        for (k = 1; k <= n; k++) {
            if (i + k >= len || s[i + k] < lo || s[i + k] > hi) {
                return i;
            }
            lo = 0x80;
            hi = 0xbf;
        }
        i += n + 1;
    }
    return len;
}

int rotarr_text_check(const char *path, const char *bytes, size_t len,
                      struct rotarr_error *err)
{
    size_t bad = utf8_invalid_at((const unsigned char *)bytes, len);
    size_t line = 1;
    size_t i;

    if (bad == len) {
        return 0;
    }
    for (i = 0; i < bad; i++) {
        line += bytes[i] == '\n';
    }
    return rotarr_error_set(err, ROTARR_EFILE,
                            "'%s' line %zu is not UTF-8 text (byte %zu); "
                            "save the file as UTF-8 without NUL bytes",
                            path, line, bad + 1);
}

int rotarr_file_read(const char *path, unsigned flags, char **bytes,
                     size_t *len, struct rotarr_error *err)
{
    struct stat st;
    char *buf = NULL;
    size_t used = 0;
    int fd;
    int ret = -1;

    /* O_NONBLOCK keeps a FIFO from blocking the open. */
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        return open_error(path, "open", err);
    }
    if (fstat(fd, &st) != 0) {
        open_error(path, "stat", err);
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        rotarr_error_set(err, ROTARR_EFILE, "'%s' is not a regular file",
                         path);
        goto out;
    }
    if ((unsigned long long)st.st_size > ROTARR_FILE_MAX) {
        rotarr_error_set(err, ROTARR_EFILE, "'%s' is larger than %zu bytes",
                         path, ROTARR_FILE_MAX);
        goto out;
    }

    /* Room for a file that grew since fstat, and for the NUL. */
    buf = malloc((size_t)st.st_size + 2);
    if (buf == NULL) {
        rotarr_error_set(err, ROTARR_EFILE, "out of memory");
        goto out;
    }
    if (read_all(fd, path, &buf, &used, (size_t)st.st_size + 2, err) < 0) {
        goto out;
    }
    if ((flags & ROTARR_READ_UTF8) &&
        rotarr_text_check(path, buf, used, err) < 0) {
        goto out;
    }
    *bytes = buf;
    *len = used;
    buf = NULL;
    ret = 0;

out:
    free_wiped(buf, used);
    close(fd);
    return ret;
}

/* Returns a new string holding the directory part of path ("." if none). */
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

/*
 * Resolves path like realpath(3), except that a missing last component is
 * resolved through its parent.  Returns NULL with errno set on failure.
 */
static char *resolve(const char *path)
{
    struct rotarr_buf joined = ROTARR_BUF_INIT;
    const char *slash = strrchr(path, '/');
    const char *name = slash != NULL ? slash + 1 : path;
    char *parent_real = NULL;
    char *parent = NULL;
    char *real;
    struct stat st;

    real = realpath(path, NULL);
    if (real != NULL || errno != ENOENT) {
        return real;
    }
    if (lstat(path, &st) == 0) {
        /* A symlink whose target is missing. */
        errno = ENOENT;
        return NULL;
    }
    parent = dir_of(path);
    if (parent != NULL) {
        parent_real = realpath(parent, NULL);
    }
    if (parent_real != NULL
        && rotarr_buf_printf(&joined, NULL, "%s/%s",
                             strcmp(parent_real, "/") == 0 ? "" : parent_real,
                             name) == 0) {
        real = rotarr_buf_detach(&joined, NULL);
    }
    free(parent);
    free(parent_real);
    rotarr_buf_release(&joined);
    if (real == NULL) {
        errno = ENOENT;
    }
    return real;
}

static int is_inside(const char *root, const char *path)
{
    size_t n = strlen(root);

    if (strcmp(root, "/") == 0) {
        return 1;
    }
    return strncmp(path, root, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

static int outside_error(const char *root, const char *path,
                         const char *real, struct rotarr_error *err)
{
    struct stat st;

    if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode)) {
        return rotarr_error_set(err, ROTARR_EFILE,
                                "'%s' is a symlink that leads outside the "
                                "stack directory '%s'; replace the link "
                                "with the file it points to", path, root);
    }
    return rotarr_error_set(err, ROTARR_EFILE,
                            "'%s' leads to '%s', outside the stack "
                            "directory '%s'; keep the stack's files inside "
                            "it", path, real, root);
}

int rotarr_path_check_inside(const char *root, const char *path,
                             struct rotarr_error *err)
{
    char *root_real;
    char *real = NULL;
    int ret = -1;

    root_real = realpath(root, NULL);
    if (root_real == NULL) {
        open_error(root, "resolve the stack directory", err);
        goto out;
    }
    real = resolve(path);
    if (real == NULL && errno == ENOENT) {
        rotarr_error_set(err, ROTARR_EFILE,
                         "'%s' is a symlink to a missing file, or its "
                         "directory does not exist", path);
        goto out;
    }
    if (real == NULL) {
        open_error(path, "resolve", err);
        goto out;
    }
    if (!is_inside(root_real, real)) {
        outside_error(root, path, real, err);
        goto out;
    }
    ret = 0;

out:
    free(root_real);
    free(real);
    return ret;
}

int rotarr_write_all(int fd, const void *bytes, size_t len)
{
    const char *p = bytes;
    ssize_t n;

    while (len > 0) {
        n = write(fd, p, len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            if (n == 0) {
                errno = EIO;
            }
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Runs the test hook, then writes the bytes to the new file at fd. */
static int fill(int fd, const char *path, const void *bytes, size_t len,
                struct rotarr_error *err)
{
    if (created_hook != NULL && created_hook(path, fd) != 0) {
        return rotarr_error_set(err, ROTARR_EFILE,
                                "cannot write '%s': stopped by the test "
                                "hook", path);
    }
    if (rotarr_write_all(fd, bytes, len) < 0) {
        return open_error(path, "write", err);
    }
    return 0;
}

/* Syncs and closes fd.  fd is closed even when the sync fails. */
static int sync_and_close(int fd, const char *path, struct rotarr_error *err)
{
    int ret = 0;

    if (fsync(fd) != 0) {
        ret = open_error(path, "sync", err);
    }
    if (close(fd) != 0 && ret == 0) {
        ret = open_error(path, "close", err);
    }
    return ret;
}

/*
 * Opens a new temporary file, mode 0600, in dir, named after the target
 * so that a leftover explains itself, and stores its path in *temp.
 */
static int temp_create(const char *dir, const char *target, char **temp,
                       struct rotarr_error *err)
{
    struct rotarr_buf name = ROTARR_BUF_INIT;
    const char *slash = strrchr(target, '/');
    unsigned char random[8];
    char suffix[2 * sizeof(random) + 1];
    int attempt;
    int claimed;
    int fd = -1;

    for (attempt = 0; attempt < TEMP_ATTEMPTS && fd < 0; attempt++) {
        randombytes_buf(random, sizeof(random));
        sodium_bin2hex(suffix, sizeof(suffix), random, sizeof(random));
        rotarr_buf_reset(&name);
        if (rotarr_buf_printf(&name, err, "%s/.%.64s.rotarr-%s", dir,
                              slash != NULL ? slash + 1 : target,
                              suffix) < 0) {
            break;
        }
        fd = open(name.data, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW
                                 | O_CLOEXEC, 0600);
        if (fd < 0 && errno != EEXIST) {
            rotarr_error_set(err, ROTARR_EFILE,
                             "cannot create a temporary file in '%s': %s; "
                             "replacing a file needs write access to its "
                             "directory", dir, strerror(errno));
            break;
        }
        claimed = fd >= 0 ? rotarr_temp_claim(fd, name.data, err) : 0;
        if (claimed != 0) {
            close(fd);
            fd = -1;
        }
        if (claimed < 0) {
            unlink(name.data);
            break;
        }
    }
    if (fd < 0) {
        if (attempt == TEMP_ATTEMPTS) {
            rotarr_error_set(err, ROTARR_EFILE, "cannot create a temporary "
                             "file in '%s': every name tried exists", dir);
        }
        rotarr_buf_release(&name);
        return -1;
    }
    *temp = rotarr_buf_detach(&name, NULL);
    return fd;
}

static int owner_error(const char *path, const struct stat *target,
                       struct rotarr_error *err)
{
    return rotarr_error_set(err, ROTARR_EFILE,
                            "cannot give '%s' the owner %u:%u of the file it "
                            "replaces: %s", path, (unsigned)target->st_uid,
                            (unsigned)target->st_gid, strerror(errno));
}

/* Gives the file open at fd the owner and group of target. */
static int keep_owner(int fd, const char *path, const struct stat *target,
                      struct rotarr_error *err)
{
    struct stat st;

    if (fstat(fd, &st) != 0) {
        return open_error(path, "stat", err);
    }
    if (st.st_uid == target->st_uid && st.st_gid == target->st_gid) {
        return 0;
    }
    if (fchown(fd, target->st_uid, target->st_gid) == 0) {
        return 0;
    }
    if (geteuid() == 0 || errno != EPERM) {
        return owner_error(path, target, err);
    }

    /* Best effort without root: the group alone may be one of ours. */
    if (fchown(fd, (uid_t)-1, target->st_gid) != 0 && errno != EPERM) {
        return owner_error(path, target, err);
    }
    return 0;
}

/* Gives the file open at fd the owner, group and mode it is to keep. */
static int set_owner_mode(int fd, const char *path,
                          const struct stat *target, mode_t mode,
                          struct rotarr_error *err)
{
    if (keep_owner(fd, path, target, err) < 0) {
        return -1;
    }

    /* After fchown, which may clear the set-user-ID and set-group-ID bits. */
    if (fchmod(fd, mode) != 0) {
        return open_error(path, "change the mode of", err);
    }
    return 0;
}

/*
 * Writes the bytes to a new temporary file beside the target, with the
 * target's owner and the given mode, synced, and stores its path in
 * *temp.  Returns the descriptor, still open so that the claim of
 * rotarr_temp_claim lasts until the rename, or -1 after removing the
 * file.
 */
static int write_temp(const char *real, const struct stat *target,
                      mode_t mode, const void *bytes, size_t len,
                      char **temp, struct rotarr_error *err)
{
    char *dir = dir_of(real);
    int fd = -1;

    *temp = NULL;
    if (dir == NULL) {
        return rotarr_error_set(err, ROTARR_EFILE, "out of memory");
    }
    fd = temp_create(dir, real, temp, err);
    if (fd < 0) {
        goto out;
    }
    if (fill(fd, *temp, bytes, len, err) < 0
        || set_owner_mode(fd, *temp, target, mode, err) < 0) {
        close(fd);
        fd = -1;
        goto out;
    }
    if (fsync(fd) != 0) {
        open_error(*temp, "sync", err);
        close(fd);
        fd = -1;
    }

out:
    if (fd < 0 && *temp != NULL) {
        unlink(*temp);
        free(*temp);
        *temp = NULL;
    }
    free(dir);
    return fd;
}

/* Returns the regular file that path leads to and its status. */
static char *resolve_target(const char *path, struct stat *target,
                            struct rotarr_error *err)
{
    char *real = realpath(path, NULL);

    if (real == NULL) {
        open_error(path, "resolve", err);
        return NULL;
    }
    if (lstat(real, target) != 0) {
        open_error(path, "stat", err);
        free(real);
        return NULL;
    }
    if (!S_ISREG(target->st_mode)) {
        rotarr_error_set(err, ROTARR_EFILE, "'%s' is not a regular file",
                         path);
        free(real);
        return NULL;
    }
    return real;
}

/*
 * Crash point "rename-BASENAME": the new contents of the file are in a
 * synced temporary file that has not yet replaced the file.
 */
static void rename_failpoint(const char *path)
{
#ifdef ROTARR_FAILPOINTS
    const char *base = strrchr(path, '/');
    char name[256];

    snprintf(name, sizeof(name), "rename-%s", base != NULL ? base + 1 : path);
    ROTARR_FAILPOINT(name);
#else
    (void)path;
#endif
}

int rotarr_file_replace(const char *root, const char *path,
                        const void *bytes, size_t len, unsigned flags,
                        unsigned *old_mode, unsigned *new_mode,
                        struct rotarr_error *err)
{
    struct stat target;
    char *real = NULL;
    char *temp = NULL;
    char *dir = NULL;
    mode_t mode;
    int fd;
    int ret = -1;

    if (root != NULL && rotarr_path_check_inside(root, path, err) < 0) {
        return -1;
    }
    real = resolve_target(path, &target, err);
    if (real == NULL) {
        goto out;
    }
    mode = target.st_mode & 07777;
    if (flags & ROTARR_REPLACE_SECRET) {
        mode &= 0600;
    }
    fd = write_temp(real, &target, mode, bytes, len, &temp, err);
    if (fd < 0) {
        goto out;
    }
    rename_failpoint(real);
    if (rename(temp, real) != 0) {
        open_error(path, "replace", err);
        unlink(temp);
        close(fd);
        goto out;
    }

    /* fsync has already reported any write error. */
    close(fd);
    if (old_mode != NULL) {
        *old_mode = target.st_mode & 07777;
    }
    if (new_mode != NULL) {
        *new_mode = mode;
    }

    dir = dir_of(real);
    if (dir == NULL || rotarr_dir_sync(dir, err) < 0) {
        rotarr_error_set(err, ROTARR_EFILE,
                         "'%s' was replaced, but its directory could not "
                         "be synced, so a crash may still bring back the "
                         "old file", path);
        goto out;
    }
    ret = 0;

out:
    free(real);
    free(temp);
    free(dir);
    return ret;
}

static int create_error(const char *path, struct rotarr_error *err)
{
    if (errno == EEXIST) {
        return rotarr_error_set(err, ROTARR_EFILE,
                                "'%s' already exists; move it away or "
                                "choose another name", path);
    }
    if (errno == ENOENT) {
        return rotarr_error_set(err, ROTARR_EFILE,
                                "cannot create '%s': its directory does "
                                "not exist", path);
    }
    return open_error(path, "create", err);
}

int rotarr_file_create_secret(const char *path, const void *bytes,
                              size_t len, struct rotarr_error *err)
{
    char *dir = NULL;
    int fd;
    int ret = -1;

    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
              0600);
    if (fd < 0) {
        return create_error(path, err);
    }

    /* The umask may have taken bits off 0600. */
    if (fchmod(fd, 0600) != 0) {
        open_error(path, "change the mode of", err);
        close(fd);
        goto out;
    }
    if (fill(fd, path, bytes, len, err) < 0) {
        close(fd);
        goto out;
    }
    if (sync_and_close(fd, path, err) < 0) {
        goto out;
    }
    dir = dir_of(path);
    if (dir == NULL) {
        rotarr_error_set(err, ROTARR_EFILE, "out of memory");
        goto out;
    }
    ret = rotarr_dir_sync(dir, err);

out:
    if (ret < 0) {
        unlink(path);
    }
    free(dir);
    return ret;
}

int rotarr_dir_sync(const char *dir, struct rotarr_error *err)
{
    int fd;
    int ret = 0;

    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        return open_error(dir, "open the directory", err);
    }
    if (fsync(fd) != 0 && errno != EINVAL) {
        ret = open_error(dir, "sync the directory", err);
    }
    close(fd);
    return ret;
}

int rotarr_temp_claim(int fd, const char *path, struct rotarr_error *err)
{
    struct stat st;

    /* A file system without flock (ENOLCK, EOPNOTSUPP, or an NFS lock
     * that needs another open mode) leaves the file unclaimed: the stack
     * lock still keeps rotations apart, and writes go on. */
    if (flock(fd, LOCK_SH) != 0 && errno != ENOLCK && errno != EOPNOTSUPP &&
        errno != EBADF && errno != EINVAL) {
        return open_error(path, "lock", err);
    }
    if (fstat(fd, &st) != 0) {
        return open_error(path, "stat", err);
    }
    return st.st_nlink == 0 ? 1 : 0;
}

static int is_lower_hex(const char *text, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++) {
        if (!((text[i] >= '0' && text[i] <= '9') ||
              (text[i] >= 'a' && text[i] <= 'f'))) {
            return 0;
        }
    }
    return 1;
}

size_t rotarr_temp_name_base(const char *name)
{
    size_t len = strlen(name);
    size_t mark = strlen(TEMP_MARK);
    size_t base_len;

    if (name[0] != '.' || len < 2 + mark + TEMP_SUFFIX_LEN) {
        return 0;
    }
    base_len = len - 1 - mark - TEMP_SUFFIX_LEN;
    if (base_len > TEMP_BASE_MAX ||
        memcmp(name + 1 + base_len, TEMP_MARK, mark) != 0 ||
        !is_lower_hex(name + len - TEMP_SUFFIX_LEN, TEMP_SUFFIX_LEN)) {
        return 0;
    }
    return base_len;
}

/* Returns 1 when name is a temporary name for one of the targets, or for
 * any target when targets is NULL. */
static int temp_name_wanted(const char *name, const char *const *targets,
                            size_t target_count)
{
    size_t base_len = rotarr_temp_name_base(name);
    size_t i;

    if (base_len == 0) {
        return 0;
    }
    if (targets == NULL) {
        return 1;
    }
    for (i = 0; i < target_count; i++) {
        if ((strlen(targets[i]) == base_len ||
             (base_len == TEMP_BASE_MAX && strlen(targets[i]) > base_len)) &&
            memcmp(targets[i], name + 1, base_len) == 0) {
            return 1;
        }
    }
    return 0;
}

/*
 * Returns 1 when the temporary file st, named name in dirfd, is the
 * caller's: owned by the caller, or by the owner of the file it is named
 * after, which rotarr_file_replace gives it before the rename.
 */
static int temp_owner_ok(int dirfd, const char *name, const struct stat *st)
{
    char target[TEMP_BASE_MAX + 1];
    size_t base_len = rotarr_temp_name_base(name);
    struct stat target_st;

    if (st->st_uid == geteuid()) {
        return 1;
    }
    memcpy(target, name + 1, base_len);
    target[base_len] = '\0';
    return fstatat(dirfd, target, &target_st, AT_SYMLINK_NOFOLLOW) == 0 &&
           S_ISREG(target_st.st_mode) && target_st.st_uid == st->st_uid;
}

static int sweep_error(const char *dir, const char *name,
                       struct rotarr_error *err)
{
    return rotarr_error_set(err, ROTARR_EFILE,
                            "cannot remove the temporary file '%s/%s': %s; "
                            "remove it by hand",
                            dir, name, strerror(errno));
}

/*
 * Removes name from dirfd when it is a regular file of the caller that no
 * writer has claimed.  Adds 1 to *removed when it did.
 */
static int sweep_entry(int dirfd, const char *dir, const char *name,
                       size_t *removed, struct rotarr_error *err)
{
    struct stat before;
    struct stat st;
    int fd;
    int ret = 0;

    if (fstatat(dirfd, name, &before, AT_SYMLINK_NOFOLLOW) != 0) {
        return errno == ENOENT ? 0 : sweep_error(dir, name, err);
    }
    if (!S_ISREG(before.st_mode) || !temp_owner_ok(dirfd, name, &before)) {
        return 0;
    }
    /* A file the sweep cannot open or lock may still be claimed, so it
     * is left where it is. */
    fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        return 0;
    }
    if (fstat(fd, &st) != 0 || st.st_dev != before.st_dev ||
        st.st_ino != before.st_ino) {
        goto out;
    }

    /* A writer holds a shared lock until its rename. */
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        goto out;
    }
    if (unlinkat(dirfd, name, 0) == 0) {
        (*removed)++;
    } else if (errno != ENOENT) {
        ret = sweep_error(dir, name, err);
    }

out:
    close(fd);
    return ret;
}

int rotarr_temp_sweep(const char *dir, const char *const *targets,
                      size_t target_count, size_t *removed,
                      struct rotarr_error *err)
{
    struct dirent *entry;
    DIR *stream;
    int dirfd;
    int ret = 0;

    dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0) {
        return errno == ENOENT ? 0 : open_error(dir, "open the directory",
                                                err);
    }
    stream = fdopendir(dirfd);
    if (stream == NULL) {
        close(dirfd);
        return open_error(dir, "read the directory", err);
    }
    while (ret == 0 && (entry = readdir(stream)) != NULL) {
        if (temp_name_wanted(entry->d_name, targets, target_count)) {
            ret = sweep_entry(dirfd, dir, entry->d_name, removed, err);
        }
    }
    closedir(stream);
    return ret;
}
