/*
 * Reading and writing the files of a stack.
 *
 * Every write is an atomic replace: the new bytes go to a temporary file
 * in the target's directory, created 0600 before the first byte, which is
 * synced and renamed over the target, and then the directory is synced.
 * A reader sees the old file or the new one, never a mix, and a secret is
 * never readable by other users at any moment.  The target keeps its
 * owner and group, and a file holding secrets ends with at most 0600.
 */
#ifndef ROTARR_FILEIO_H
#define ROTARR_FILEIO_H

#include <stddef.h>

#include "rotarr/compat.h"
#include "rotarr/error.h"

/* Bound of a file that rotarr reads: env files and compose files. */
#define ROTARR_FILE_MAX ((size_t)16 << 20)

/* Flags of rotarr_file_read. */
enum {
    ROTARR_READ_UTF8 = 1 << 0, /* reject text that is not UTF-8 or has NUL */
};

/*
 * Returns 0 when the len bytes at bytes are UTF-8 text with no NUL, as
 * ROTARR_READ_UTF8 requires, or -1 with err set (ROTARR_EFILE) naming
 * path and the line of the first bad byte.
 */
int rotarr_text_check(const char *path, const char *bytes, size_t len,
                      struct rotarr_error *err);

/* Flags of rotarr_file_replace. */
enum {
    ROTARR_REPLACE_SECRET = 1 << 0, /* the new mode is old_mode & 0600 */
};

/*
 * Reads the whole regular file at path (symlinks followed) into a new
 * malloc'd buffer with a NUL after the last byte, and stores it and its
 * length in *bytes and *len.  The caller frees it, wiping it first when it
 * may hold secrets.  Returns 0, or -1 with err set (ROTARR_EFILE, the
 * message naming path) when the file is missing, unreadable, not a
 * regular file or larger than ROTARR_FILE_MAX, or, with ROTARR_READ_UTF8,
 * when it is not UTF-8 text (the message names the line).  A buffer that
 * was partly filled is wiped before it is freed.
 */
int rotarr_file_read(const char *path, unsigned flags, char **bytes,
                     size_t *len, struct rotarr_error *err)
    ROTARR_MUST_CHECK;

/*
 * Checks that path, with every symlink resolved, lies inside the
 * directory root (resolved the same way).  A missing path is checked
 * through its parent directory.  Returns 0, or -1 with err set
 * (ROTARR_EFILE) when it leads outside root, when it is a symlink whose
 * target does not exist, or when root or the parent cannot be resolved.
 */
int rotarr_path_check_inside(const char *root, const char *path,
                             struct rotarr_error *err)
    ROTARR_MUST_CHECK;

/*
 * Replaces the existing regular file at path with the len bytes at bytes,
 * atomically.  When root is not NULL, path must pass
 * rotarr_path_check_inside.  A symlink at path is followed: the file it
 * leads to is replaced and the link itself stays as it is.
 *
 * The temporary file is created with O_CREAT|O_EXCL|O_NOFOLLOW|O_CLOEXEC
 * and mode 0600 in the directory of the real target.  Before the rename it
 * gets the target's owner and group and the mode old_mode & 0600 with
 * ROTARR_REPLACE_SECRET, or old_mode without it.  When the process runs as
 * root the owner must be kept or the call fails; otherwise keeping it is
 * best effort, and a file owned by someone else may end up owned by the
 * caller.  The permission bits before and after are stored in *old_mode
 * and *new_mode when those are not NULL, so that the caller can report a
 * change ("'.env': mode 0644 -> 0600").
 *
 * Returns 0, or -1 with err set (ROTARR_EFILE).  On failure the target is
 * untouched and the temporary file removed, with one exception: when only
 * the final sync of the directory fails, the file has been replaced but
 * may not survive a crash, and the message says so.
 */
int rotarr_file_replace(const char *root, const char *path,
                        const void *bytes, size_t len, unsigned flags,
                        unsigned *old_mode, unsigned *new_mode,
                        struct rotarr_error *err)
    ROTARR_MUST_CHECK;

/*
 * Creates the new file path holding the len bytes at bytes, mode 0600
 * whatever the umask, with O_CREAT|O_EXCL|O_NOFOLLOW|O_CLOEXEC: an
 * existing file or symlink at path is an error, and so is a missing
 * parent directory.  Syncs the file and its directory.  Returns 0, or -1
 * with err set (ROTARR_EFILE); a file that was created is then removed.
 */
int rotarr_file_create_secret(const char *path, const void *bytes,
                              size_t len, struct rotarr_error *err)
    ROTARR_MUST_CHECK;

/*
 * Writes the len bytes at bytes to fd, again after a short write or
 * EINTR.  Returns 0, or -1 with errno set (EIO when write returns 0).
 * Calls only write(), so a signal handler may use it.
 */
int rotarr_write_all(int fd, const void *bytes, size_t len);

/*
 * Syncs the directory dir, so that a rename or a new entry in it survives
 * a crash.  A file system that cannot sync directories (EINVAL) counts as
 * success.  Returns 0, or -1 with err set (ROTARR_EFILE).
 */
int rotarr_dir_sync(const char *dir, struct rotarr_error *err)
    ROTARR_MUST_CHECK;

/*
 * Claims the new temporary file open at fd, named path, for its writer:
 * takes a shared flock on it, which rotarr_temp_sweep respects, and
 * checks that a sweep did not remove it between its creation and the
 * lock.  Hold the descriptor open until the file is renamed or removed.
 * On a file system without flock the file stays unclaimed and this
 * returns 0.  Returns 0, 1 when the file was removed meanwhile (close it
 * and create another), or -1 with err set (ROTARR_EFILE).
 */
int rotarr_temp_claim(int fd, const char *path, struct rotarr_error *err)
    ROTARR_MUST_CHECK;

/*
 * Returns the length of the target's name inside name when name is a
 * temporary file name of rotarr_file_replace, or 0 otherwise.  Such a
 * name is a dot, the target's name cut to 64 bytes, ".rotarr-" and 16
 * lower-case hex digits, as in ".state.rotarr-0f3a9c61d2b4e587".
 */
size_t rotarr_temp_name_base(const char *name) ROTARR_NONNULL(1);

/*
 * Removes from the directory dir the temporary files that a process
 * killed before its rename left behind, and adds their number to
 * *removed.  An entry is removed only when it has the exact temporary
 * name of one of the target_count names in targets (of any target when
 * targets is NULL).  It must also be a regular file (not a symlink),
 * owned by the caller or by the owner of the file it is named after, and
 * no writer may have claimed it (rotarr_temp_claim).  A file the sweep
 * cannot open or lock is left alone, since it may be claimed.  A missing
 * dir is not an error.  Returns 0, or -1 with err set (ROTARR_EFILE) when
 * the directory cannot be read or a file cannot be removed.
 *
 * A writer that did not claim its temporary file is not protected, so
 * call this only where no such writer can run, such as with the stack
 * lock of rotarr/journal.h held.
 */
int rotarr_temp_sweep(const char *dir, const char *const *targets,
                      size_t target_count, size_t *removed,
                      struct rotarr_error *err)
    ROTARR_MUST_CHECK;

/*
 * Called, when set, by rotarr_file_replace and rotarr_file_create_secret
 * right after the file is created and before the first byte is written,
 * with its path and descriptor.  A nonzero return makes the call fail
 * like a write error.  For tests only, to observe the new file's mode and
 * to inject a failure; NULL, the default, turns it off.  Not thread-safe.
 */
typedef int (*rotarr_file_created_fn)(const char *path, int fd);
void rotarr_file_set_created_hook(rotarr_file_created_fn hook);

#endif
