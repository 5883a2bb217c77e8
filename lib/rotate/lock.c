#include "rotarr/compat.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rotarr/journal.h"

#define LOCK_NAME "lock"

/* Room for a process id in decimal, a newline and a NUL. */
#define PID_TEXT_MAX 24

struct rotarr_lock {
    int fd;
};

static int state_dir_error(const char *stackdir, const char *what,
                           struct rotarr_error *err)
{
    return rotarr_error_set(err, ROTARR_EFILE,
                            "cannot %s '%s/" ROTARR_STATE_DIR "': %s", what,
                            stackdir, strerror(errno));
}

/* The folder contains journals with passwords, so it must be ours
 * alone. */
static int check_state_dir(int fd, const char *stackdir,
                           struct rotarr_error *err)
{
    struct stat st;

    if (fstat(fd, &st) != 0) {
        return state_dir_error(stackdir, "inspect", err);
    }
    if (st.st_uid != geteuid()) {
        return rotarr_error_set(err, ROTARR_EFILE,
                                "'%s/" ROTARR_STATE_DIR "' belongs to user "
                                "id %lu; run rotarr as that user",
                                stackdir, (unsigned long)st.st_uid);
    }
    if ((st.st_mode & 077) != 0 && fchmod(fd, 0700) != 0) {
        return state_dir_error(stackdir, "restrict the mode of", err);
    }
    return 0;
}

int rotarr_state_dir_open(const char *stackdir, int create,
                          struct rotarr_error *err)
{
    int stack_fd = open(stackdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int fd = -1;

    if (stack_fd < 0) {
        return rotarr_error_set(err, ROTARR_EFILE,
                                "cannot open stack directory '%s': %s",
                                stackdir, strerror(errno));
    }
    if (create && mkdirat(stack_fd, ROTARR_STATE_DIR, 0700) != 0 &&
        errno != EEXIST) {
        state_dir_error(stackdir, "create", err);
        goto out;
    }
    fd = openat(stack_fd, ROTARR_STATE_DIR,
                O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT && !create) {
        fd = -2;
    } else if (fd < 0 && (errno == ELOOP || errno == ENOTDIR)) {
        rotarr_error_set(err, ROTARR_EFILE,
                         "'%s/" ROTARR_STATE_DIR "' is a symlink or not a "
                         "directory; move it away so rotarr can make its "
                         "own", stackdir);
    } else if (fd < 0) {
        state_dir_error(stackdir, "open", err);
    } else if (check_state_dir(fd, stackdir, err) < 0) {
        close(fd);
        fd = -1;
    }

out:
    close(stack_fd);
    return fd;
}

/* Reads the holder's pid for the message; the holder may not have
 * written it yet. */
static void read_holder(int fd, char pid[PID_TEXT_MAX])
{
    ssize_t n = pread(fd, pid, PID_TEXT_MAX - 1, 0);
    size_t len = 0;

    while (n > 0 && len < (size_t)n && pid[len] >= '0' && pid[len] <= '9') {
        len++;
    }
    pid[len] = '\0';
}

static int busy_error(int fd, const char *stackdir, struct rotarr_error *err)
{
    char pid[PID_TEXT_MAX];

    read_holder(fd, pid);
    return rotarr_error_set(err, ROTARR_EFILE,
                            "another rotarr is working on '%s' (lock '"
                            ROTARR_STATE_DIR "/" LOCK_NAME "' held by %s%s); "
                            "wait for it to finish", stackdir,
                            pid[0] != '\0' ? "pid " : "another process",
                            pid);
}

static int write_pid(int fd, const char *stackdir, struct rotarr_error *err)
{
    char text[PID_TEXT_MAX];
    int n = snprintf(text, sizeof(text), "%ld\n", (long)getpid());

    if (n < 0 || (size_t)n >= sizeof(text) || ftruncate(fd, 0) != 0 ||
        pwrite(fd, text, (size_t)n, 0) != n) {
        return rotarr_error_set(err, ROTARR_EFILE,
                                "cannot write '%s/" ROTARR_STATE_DIR "/"
                                LOCK_NAME "': %s", stackdir, strerror(errno));
    }
    return 0;
}

struct rotarr_lock *rotarr_lock_acquire(const char *stackdir,
                                        struct rotarr_error *err)
{
    struct rotarr_lock *lock = NULL;
    int dir = rotarr_state_dir_open(stackdir, 1, err);
    int fd = -1;

    if (dir < 0) {
        return NULL;
    }
    fd = openat(dir, LOCK_NAME, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
                0600);
    if (fd < 0) {
        rotarr_error_set(err, ROTARR_EFILE,
                         "cannot open '%s/" ROTARR_STATE_DIR "/" LOCK_NAME
                         "': %s", stackdir, strerror(errno));
        goto out;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno == EWOULDBLOCK) {
            busy_error(fd, stackdir, err);
        } else {
            rotarr_error_set(err, ROTARR_EFILE,
                             "cannot lock '%s/" ROTARR_STATE_DIR "/"
                             LOCK_NAME "': %s", stackdir, strerror(errno));
        }
        goto out;
    }
    if (write_pid(fd, stackdir, err) < 0) {
        goto out;
    }
    lock = malloc(sizeof(*lock));
    if (lock == NULL) {
        rotarr_error_set(err, ROTARR_EFILE, "out of memory");
        goto out;
    }
    lock->fd = fd;
    fd = -1;

out:
    if (fd >= 0) {
        close(fd);
    }
    close(dir);
    return lock;
}

void rotarr_lock_release(struct rotarr_lock *lock)
{
    if (lock != NULL) {
        /* Closing the last descriptor of the open file drops the flock. */
        close(lock->fd);
        free(lock);
    }
}
