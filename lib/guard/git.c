#include "rotarr/compat.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>

#include "guard_private.h"

extern char **environ;

/* Bytes of git's standard error kept for an error message. */
#define GIT_STDERR_KEEP 512

/* Size of the buffer blobs are read through. */
#define CAT_FILE_BUF ((size_t)256 << 10)

/* Maximum length of a header line of 'git cat-file --batch'. */
#define CAT_FILE_HEADER_MAX 256

struct git_child {
    pid_t pid;
    int in, out, err; /* our ends, or -1 */
};

static void close_fd(int *fd)
{
    if (*fd >= 0) {
        close(*fd);
        *fd = -1;
    }
}

/* Sets up the child's standard input, output and error from the pipes;
 * a missing pipe gives /dev/null for input and the caller's stderr. */
static int child_actions(posix_spawn_file_actions_t *fa, int in[2],
                         int out[2], int errp[2])
{
    int rc = 0;

    if (in[0] >= 0) {
        rc |= posix_spawn_file_actions_adddup2(fa, in[0], 0);
    } else {
        rc |= posix_spawn_file_actions_addopen(fa, 0, "/dev/null", O_RDONLY,
                                               0);
    }
    rc |= posix_spawn_file_actions_adddup2(fa, out[1], 1);
    if (errp[1] >= 0) {
        rc |= posix_spawn_file_actions_adddup2(fa, errp[1], 2);
    }
    return rc;
}

static int make_pipe(int fds[2], int wanted, struct rotarr_error *err)
{
    fds[0] = fds[1] = -1;
    if (wanted && pipe2(fds, O_CLOEXEC) != 0) {
        return rotarr_error_set(err, ROTARR_EFILE, "cannot create a pipe: %s",
                                strerror(errno));
    }
    return 0;
}

static int spawn_git(const char *const *argv, int want_in, int want_err,
                     struct git_child *child, struct rotarr_error *err)
{
    posix_spawn_file_actions_t fa;
    int in[2] = { -1, -1 }, out[2] = { -1, -1 }, errp[2] = { -1, -1 };
    int rc, ret = -1;

    if (make_pipe(in, want_in, err) < 0 || make_pipe(out, 1, err) < 0 ||
        make_pipe(errp, want_err, err) < 0) {
        goto out;
    }
    if (posix_spawn_file_actions_init(&fa) != 0) {
        rotarr_error_set(err, ROTARR_EFILE, "out of memory");
        goto out;
    }
    rc = child_actions(&fa, in, out, errp);
    if (rc == 0) {
        rc = posix_spawnp(&child->pid, "git", &fa, NULL,
                          (char *const *)argv, environ);
    }
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
        rotarr_error_set(err, ROTARR_EFILE,
                         "cannot run 'git': %s; install git or put it on "
                         "PATH",
                         strerror(rc));
        goto out;
    }
    child->in = in[1];
    child->out = out[0];
    child->err = errp[0];
    in[1] = out[0] = errp[0] = -1;
    ret = 0;

out:
    close_fd(&in[0]);
    close_fd(&in[1]);
    close_fd(&out[0]);
    close_fd(&out[1]);
    close_fd(&errp[0]);
    close_fd(&errp[1]);
    return ret;
}

static int wait_child(pid_t pid)
{
    int status;

    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            return -1;
        }
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* The input and outputs of a git child in guard_git_run. */
struct git_io {
    const char *input;
    size_t input_len, written;
    struct rotarr_buf *out;
    char stderr_text[GIT_STDERR_KEEP];
    size_t stderr_len;
};

static int pump_input(struct git_child *child, struct git_io *io,
                      struct rotarr_error *err)
{
    ssize_t n;

    n = write(child->in, io->input + io->written,
              io->input_len - io->written);
    if (n < 0 && errno != EINTR && errno != EAGAIN) {
        return rotarr_error_set(err, ROTARR_EFILE,
                                "cannot write to git: %s", strerror(errno));
    }
    if (n > 0) {
        io->written += (size_t)n;
    }
    if (io->written == io->input_len) {
        close_fd(&child->in);
    }
    return 0;
}

static int pump_output(struct git_child *child, struct git_io *io,
                       struct rotarr_error *err)
{
    char chunk[65536];
    ssize_t n;

    n = read(child->out, chunk, sizeof(chunk));
    if (n < 0 && errno != EINTR && errno != EAGAIN) {
        return rotarr_error_set(err, ROTARR_EFILE, "cannot read from git: %s",
                                strerror(errno));
    }
    if (n == 0) {
        close_fd(&child->out);
    } else if (n > 0) {
        if ((size_t)n > GUARD_GIT_MAX_OUTPUT - io->out->len) {
            return rotarr_error_set(err, ROTARR_EFILE,
                                    "git printed more than %zu MiB",
                                    GUARD_GIT_MAX_OUTPUT >> 20);
        }
        return rotarr_buf_append(io->out, chunk, (size_t)n, err);
    }
    return 0;
}

static void pump_stderr(struct git_child *child, struct git_io *io)
{
    char chunk[4096];
    ssize_t n;
    size_t keep;

    n = read(child->err, chunk, sizeof(chunk));
    if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) {
        close_fd(&child->err);
        return;
    }
    if (n < 0) {
        return;
    }
    keep = sizeof(io->stderr_text) - 1 - io->stderr_len;
    keep = (size_t)n < keep ? (size_t)n : keep;
    memcpy(io->stderr_text + io->stderr_len, chunk, keep);
    io->stderr_len += keep;
    io->stderr_text[io->stderr_len] = '\0';
}

/* Feeds input and drains both outputs until git closes them, so that
 * neither side waits for the other with a full pipe. */
static int pump(struct git_child *child, struct git_io *io,
                struct rotarr_error *err)
{
    struct pollfd fds[3];

    if (child->in >= 0 && io->input_len == 0) {
        close_fd(&child->in);
    }
    while (child->in >= 0 || child->out >= 0 || child->err >= 0) {
        fds[0] = (struct pollfd){ child->in, POLLOUT, 0 };
        fds[1] = (struct pollfd){ child->out, POLLIN, 0 };
        fds[2] = (struct pollfd){ child->err, POLLIN, 0 };
        if (poll(fds, 3, -1) < 0) {
            if (errno == EINTR) {
                continue;
            }
            return rotarr_error_set(err, ROTARR_EFILE, "poll failed: %s",
                                    strerror(errno));
        }
        if (fds[0].revents != 0 && pump_input(child, io, err) < 0) {
            return -1;
        }
        if (fds[1].revents != 0 && pump_output(child, io, err) < 0) {
            return -1;
        }
        if (fds[2].revents != 0) {
            pump_stderr(child, io);
        }
    }
    return 0;
}

static int git_failed(const char *const *argv, struct git_io *io, int status,
                      struct rotarr_error *err)
{
    char *nl = strchr(io->stderr_text, '\n');

    if (nl != NULL) {
        *nl = '\0';
    }
    if (io->stderr_len == 0) {
        return rotarr_error_set(err, ROTARR_EFILE,
                                "'git %s' failed with exit status %d",
                                argv[1], status);
    }
    return rotarr_error_set(err, ROTARR_EFILE, "'git %s' failed: %s", argv[1],
                            io->stderr_text);
}

int guard_git_run(const char *const *argv, const char *input,
                  size_t input_len, struct rotarr_buf *out, int *ok_status,
                  struct rotarr_error *err)
{
    struct git_child child = { -1, -1, -1, -1 };
    struct git_io io;
    int status, ret;

    memset(&io, 0, sizeof(io));
    io.input = input;
    io.input_len = input_len;
    io.out = out;
    if (spawn_git(argv, input != NULL, 1, &child, err) < 0) {
        return -1;
    }
    ret = pump(&child, &io, err);
    close_fd(&child.in);
    close_fd(&child.out);
    close_fd(&child.err);
    status = wait_child(child.pid);
    if (ret < 0) {
        return -1;
    }
    if (status != 0 && ok_status != NULL && status > 0) {
        *ok_status = status;
        return 0;
    }
    if (ok_status != NULL) {
        *ok_status = 0;
    }
    return status == 0 ? 0 : git_failed(argv, &io, status, err);
}

char *guard_git_line(const char *const *argv, const char *input,
                     struct rotarr_error *err)
{
    struct rotarr_buf out = ROTARR_BUF_INIT;
    char *nl;

    if (guard_git_run(argv, input, input != NULL ? strlen(input) : 0, &out,
                      NULL, err) < 0 ||
        rotarr_buf_append(&out, "", 0, err) < 0) {
        rotarr_buf_release(&out);
        return NULL;
    }
    nl = strchr(out.data, '\n');
    if (nl != NULL) {
        *nl = '\0';
    }
    return rotarr_buf_detach(&out, NULL);
}

int guard_cat_file_open(struct guard_cat_file *cf, const char *requests,
                        size_t len, struct rotarr_error *err)
{
    static const char *const argv[] = { "git", "cat-file", "--batch", NULL };
    struct git_child child = { -1, -1, -1, -1 };

    memset(cf, 0, sizeof(*cf));
    cf->to_git = cf->from_git = -1;
    cf->buf = malloc(CAT_FILE_BUF);
    if (cf->buf == NULL) {
        return rotarr_error_set(err, ROTARR_EFILE, "out of memory");
    }
    cf->cap = CAT_FILE_BUF;
    if (spawn_git(argv, 1, 0, &child, err) < 0) {
        free(cf->buf);
        cf->buf = NULL;
        return -1;
    }
    cf->pid = child.pid;
    cf->to_git = child.in;
    cf->from_git = child.out;
    cf->requests = requests;
    cf->request_len = len;
    if (len == 0) {
        close_fd(&cf->to_git);
    } else if (fcntl(cf->to_git, F_SETFL, O_NONBLOCK) < 0) {
        return rotarr_error_set(err, ROTARR_EFILE, "fcntl failed: %s",
                                strerror(errno));
    }
    return 0;
}

/* Writes what git takes of the requests without waiting, and closes its
 * input after the last one so that it exits once it has written every
 * blob. */
static int send_requests(struct guard_cat_file *cf, struct rotarr_error *err)
{
    ssize_t n;

    n = write(cf->to_git, cf->requests + cf->request_sent,
              cf->request_len - cf->request_sent);
    if (n < 0 && errno != EINTR && errno != EAGAIN) {
        return rotarr_error_set(err, ROTARR_EFILE, "cannot write to git: %s",
                                strerror(errno));
    }
    if (n > 0) {
        cf->request_sent += (size_t)n;
    }
    if (cf->request_sent == cf->request_len) {
        close_fd(&cf->to_git);
    }
    return 0;
}

/* Waits until git's output can be read, sending requests meanwhile. */
static int wait_readable(struct guard_cat_file *cf, struct rotarr_error *err)
{
    struct pollfd fds[2];

    for (;;) {
        fds[0] = (struct pollfd){ cf->from_git, POLLIN, 0 };
        fds[1] = (struct pollfd){ cf->to_git, POLLOUT, 0 };
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR) {
                continue;
            }
            return rotarr_error_set(err, ROTARR_EFILE, "poll failed: %s",
                                    strerror(errno));
        }
        if (fds[1].revents != 0 && send_requests(cf, err) < 0) {
            return -1;
        }
        if (fds[0].revents != 0) {
            return 0;
        }
    }
}

/* Reads more of git's output into the buffer, moving what is left to
 * the front first.  Returns the number of bytes read, 0 at the end. */
static ssize_t fill(struct guard_cat_file *cf, struct rotarr_error *err)
{
    ssize_t n;

    if (cf->start > 0) {
        memmove(cf->buf, cf->buf + cf->start, cf->end - cf->start);
        cf->end -= cf->start;
        cf->start = 0;
    }
    do {
        if (cf->to_git >= 0 && wait_readable(cf, err) < 0) {
            return -1;
        }
        n = read(cf->from_git, cf->buf + cf->end, cf->cap - cf->end);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        rotarr_error_set(err, ROTARR_EFILE, "cannot read from git: %s",
                         strerror(errno));
        return -1;
    }
    cf->end += (size_t)n;
    return n;
}

/* Reads "<oid> blob <size>\n" and stores the size. */
static int read_header(struct guard_cat_file *cf, const char *oid,
                       size_t *size, struct rotarr_error *err)
{
    char header[CAT_FILE_HEADER_MAX];
    char type[16];
    char *nl;
    unsigned long long n;
    size_t len;
    ssize_t got;

    while ((nl = memchr(cf->buf + cf->start, '\n', cf->end - cf->start)) ==
           NULL) {
        if (cf->end - cf->start >= CAT_FILE_HEADER_MAX) {
            return rotarr_error_set(err, ROTARR_EFILE,
                                    "invalid output from 'git cat-file'");
        }
        got = fill(cf, err);
        if (got < 0) {
            return -1;
        }
        if (got == 0) {
            return rotarr_error_set(err, ROTARR_EFILE,
                                    "'git cat-file' stopped early");
        }
    }
    len = (size_t)(nl - (cf->buf + cf->start));
    if (len >= sizeof(header)) {
        return rotarr_error_set(err, ROTARR_EFILE,
                                "invalid output from 'git cat-file'");
    }
    memcpy(header, cf->buf + cf->start, len);
    header[len] = '\0';
    cf->start += len + 1;
    if (strncmp(header, oid, strlen(oid)) != 0 ||
        header[strlen(oid)] != ' ' ||
        sscanf(header + strlen(oid), " %15s %llu", type, &n) != 2 ||
        strcmp(type, "blob") != 0) {
        return rotarr_error_set(err, ROTARR_EFILE,
                                "git object '%s' is missing or not a blob",
                                oid);
    }
    *size = (size_t)n;
    return 0;
}

/* Feeds size bytes of the blob, then drops the line break after it. */
static int feed_blob(struct guard_cat_file *cf, size_t size,
                     struct rotarr_guard_scan *scan, struct rotarr_error *err)
{
    size_t take;
    ssize_t got;

    while (size > 0) {
        if (cf->start == cf->end) {
            cf->start = cf->end = 0;
            got = fill(cf, err);
            if (got <= 0) {
                return got < 0 ? -1
                               : rotarr_error_set(err, ROTARR_EFILE,
                                                  "'git cat-file' stopped "
                                                  "early");
            }
        }
        take = cf->end - cf->start < size ? cf->end - cf->start : size;
        if (rotarr_guard_scan_feed(scan, cf->buf + cf->start, take, err) < 0) {
            return -1;
        }
        cf->start += take;
        size -= take;
    }
    while (cf->start == cf->end) {
        got = fill(cf, err);
        if (got <= 0) {
            return got < 0 ? -1
                           : rotarr_error_set(err, ROTARR_EFILE,
                                              "'git cat-file' stopped early");
        }
    }
    cf->start++;
    return 0;
}

int guard_cat_file_scan(struct guard_cat_file *cf, const char *oid,
                        struct rotarr_guard_scan *scan,
                        struct rotarr_error *err)
{
    size_t size = 0;

    if (read_header(cf, oid, &size, err) < 0) {
        return -1;
    }
    return feed_blob(cf, size, scan, err);
}

int guard_cat_file_close(struct guard_cat_file *cf, struct rotarr_error *err)
{
    int status;

    if (cf->buf == NULL) {
        return 0;
    }
    close_fd(&cf->to_git);
    close_fd(&cf->from_git);
    status = wait_child(cf->pid);
    sodium_memzero(cf->buf, cf->cap);
    free(cf->buf);
    cf->buf = NULL;
    if (status != 0 && err != NULL) {
        return rotarr_error_set(err, ROTARR_EFILE,
                                "'git cat-file' failed with exit status %d",
                                status);
    }
    return status == 0 ? 0 : -1;
}
