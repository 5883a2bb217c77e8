#include "rotarr/compat.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>

#include "age_util.h"
#include "cmd.h"
#include "rotarr/buf.h"
#include "rotarr/fileio.h"
#include "rotarr/journal.h"

#define EDIT_HELP                                                            \
    "\n"                                                                     \
    "Decrypts <file> to a private temporary file (mode 0600 in a 0700\n"    \
    "directory, in memory when /dev/shm or $XDG_RUNTIME_DIR exists), runs\n" \
    "$VISUAL or $EDITOR on it, and when the content changed encrypts it\n" \
    "again to the recipients in <dir>/.rotarr/recipients, replacing\n"     \
    "<file> atomically.  A missing <file> starts empty.  The temporary\n"  \
    "file is overwritten and removed on every exit path but SIGKILL.\n"   \
    "The stack's lock is held while the editor runs, so no rotation\n"   \
    "runs meanwhile.  When <file> changed on disk all the same, it is\n" \
    "kept, and the edit is saved next to it as <name>.edited-N.age.\n"

/* State of one edit: the paths that contain plaintext while the editor
 * runs, and the content before the edit. */
struct edit_session {
    const char *target;
    struct rotarr_buf recipients;
    struct rotarr_buf dir;
    struct rotarr_buf temp;
    struct rotarr_secret *before;
    struct rotarr_lock *lock;
    char *loaded;      /* the target's bytes before the edit, or NULL */
    size_t loaded_len;
};

/* Maximum N in the name <name>.edited-N.age of an edit kept aside. */
#define EDIT_ASIDE_MAX 100

/* Exit status of the child when /bin/sh cannot be run. */
#define EXEC_FAILED_STATUS 127

static volatile sig_atomic_t edit_signal;

static void note_signal(int sig)
{
    edit_signal = sig;
}

/* Returns -1 to go on, or the exit status. */
static int edit_parse(int argc, char **argv, const char **target)
{
    static const struct option longopts[] = {
        CMD_GLOBAL_LONGOPTS,
        { NULL, 0, NULL, 0 },
    };
    int opt, status;

    while ((opt = getopt_long(argc, argv, ":" CMD_GLOBAL_SHORTOPTS "h",
                              longopts, NULL)) != -1) {
        if (opt == 'h' || opt == CMD_OPT_HELP) {
            cmd_print_usage(stdout, EDIT_SYNOPSIS);
            fputs(EDIT_HELP, stdout);
            return 0;
        }
        if (opt == '?' || opt == ':') {
            return cmd_usage_error(EDIT_SYNOPSIS, "%s option '%s'",
                                   opt == ':' ? "missing value for"
                                              : "unknown", argv[optind - 1]);
        }
        status = cmd_global_option(opt, optarg, EDIT_SYNOPSIS);
        if (status <= 0) {
            return status < 0 ? ROTARR_EUSAGE
                              : cmd_usage_error(EDIT_SYNOPSIS, "unknown "
                                                "option '%s'",
                                                argv[optind - 1]);
        }
    }
    if (argc - optind != 1) {
        return cmd_usage_error(EDIT_SYNOPSIS, argc == optind
                               ? "no file to edit" : "only one file can be "
                               "edited at a time");
    }
    *target = argv[optind];
    return -1;
}

/* A directory in memory when the system has one, so that the plaintext
 * never reaches a disk. */
static const char *temp_base(void)
{
    const char *candidates[3];
    struct stat st;
    size_t i;

    candidates[0] = getenv("XDG_RUNTIME_DIR");
    candidates[1] = "/dev/shm";
    candidates[2] = getenv("TMPDIR");
    for (i = 0; i < 3; i++) {
        if (candidates[i] != NULL && candidates[i][0] == '/' &&
            stat(candidates[i], &st) == 0 && S_ISDIR(st.st_mode) &&
            access(candidates[i], W_OK | X_OK) == 0) {
            return candidates[i];
        }
    }
    return "/tmp";
}

/* Writes the plaintext to a new 0600 file, named like the target without
 * ".age" so that the editor picks the right syntax, in a new 0700
 * directory. */
static int write_temp(struct edit_session *s, struct rotarr_error *err)
{
    const char *slash = strrchr(s->target, '/');
    const char *base = slash != NULL ? slash + 1 : s->target;
    size_t len = strlen(base);

    if (len > 4 && strcmp(base + len - 4, ".age") == 0) {
        len -= 4;
    }
    if (rotarr_buf_printf(&s->dir, err, "%s/rotarr-edit.XXXXXX",
                          temp_base()) < 0) {
        return -1;
    }
    if (mkdtemp(s->dir.data) == NULL) {
        rotarr_buf_reset(&s->dir);
        return rotarr_error_set(err, ROTARR_EFILE, "cannot create a private "
                                "directory: %s", strerror(errno));
    }
    if (rotarr_buf_printf(&s->temp, err, "%s/%.*s", s->dir.data, (int)len,
                          base) < 0) {
        return -1;
    }
    return rotarr_file_create_secret(s->temp.data,
                                     rotarr_secret_data(s->before),
                                     rotarr_secret_len(s->before), err);
}

/* Overwrites a regular file with zeros before removing it. */
static void wipe_file(const char *path)
{
    static const char zeros[4096];
    struct stat st;
    off_t left;
    ssize_t n = 1;
    int fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);

    if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
        for (left = st.st_size; left > 0 && n > 0; left -= n) {
            n = write(fd, zeros, left < (off_t)sizeof(zeros)
                                     ? (size_t)left : sizeof(zeros));
        }
        fsync(fd);
    }
    if (fd >= 0) {
        close(fd);
    }
    unlink(path);
}

/*
 * Wipes and removes everything in the private directory, editor backup
 * and swap files included, and the directory itself.
 * NEEDSWORK: a rotarr killed with SIGKILL (or a power loss) leaves the
 * directory behind; it is in memory when /dev/shm or $XDG_RUNTIME_DIR
 * exists, and readable only by its owner.
 */
static void remove_temp(struct edit_session *s)
{
    struct rotarr_buf path = ROTARR_BUF_INIT;
    struct dirent *entry;
    DIR *dir;

    if (s->dir.len == 0 || (dir = opendir(s->dir.data)) == NULL) {
        return;
    }
    while ((entry = readdir(dir)) != NULL) {
        if (strcmp(entry->d_name, ".") == 0 ||
            strcmp(entry->d_name, "..") == 0) {
            continue;
        }
        rotarr_buf_reset(&path);
        if (rotarr_buf_printf(&path, NULL, "%s/%s", s->dir.data,
                              entry->d_name) == 0) {
            wipe_file(path.data);
        }
    }
    closedir(dir);
    rotarr_buf_release(&path);
    if (rmdir(s->dir.data) != 0) {
        cmd_error("cannot remove the temporary directory '%s': %s; remove "
                  "it by hand", s->dir.data, strerror(errno));
    }
}

/* Runs the editor on the temporary file; returns 0 when it exits 0. */
static int run_editor(const struct edit_session *s, struct rotarr_error *err)
{
    struct rotarr_buf script = ROTARR_BUF_INIT;
    const char *editor = getenv("VISUAL");
    pid_t pid, waited;
    int wstatus = 0;

    if (editor == NULL || editor[0] == '\0') {
        editor = getenv("EDITOR");
    }
    if (editor == NULL || editor[0] == '\0') {
        editor = "vi";
    }
    /* The editor may carry arguments ("code --wait"), as with git. */
    if (rotarr_buf_printf(&script, err, "%s \"$@\"", editor) < 0) {
        return -1;
    }
    fflush(NULL);
    pid = fork();
    if (pid == 0) {
        /* An ignored signal stays ignored across exec, and Ctrl-C must
         * reach the editor. */
        signal(SIGINT, SIG_DFL);
        signal(SIGQUIT, SIG_DFL);
        execl("/bin/sh", "sh", "-c", script.data, editor, s->temp.data,
              (char *)NULL);
        _exit(EXEC_FAILED_STATUS);
    }
    rotarr_buf_release(&script);
    if (pid < 0) {
        return rotarr_error_set(err, ROTARR_EFILE, "cannot start the "
                                "editor: %s", strerror(errno));
    }
    /* A signal that came before the wait is passed on as well. */
    do {
        if (edit_signal != 0) {
            kill(pid, SIGTERM);
        }
        waited = waitpid(pid, &wstatus, 0);
    } while (waited < 0 && errno == EINTR);
    if (edit_signal != 0 || !WIFEXITED(wstatus) ||
        WEXITSTATUS(wstatus) != 0) {
        return rotarr_error_set(err, ROTARR_EFILE, "the editor '%s' failed "
                                "or was stopped; '%s' was not changed",
                                editor, s->target);
    }
    return 0;
}

/* Returns 1 when the target's bytes on disk differ from those read
 * before the edit, as when it was deleted or written meanwhile. */
static int changed_on_disk(const struct edit_session *s)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    char *bytes = NULL;
    size_t len = 0;
    int present, changed;

    present = access(s->target, F_OK) == 0 || errno != ENOENT;
    if (present && rotarr_file_read(s->target, 0, &bytes, &len, &err) < 0) {
        return 1;
    }
    changed = present != (s->loaded != NULL) ||
              (present && (len != s->loaded_len ||
                           memcmp(bytes, s->loaded, len) != 0));
    free(bytes);
    return changed;
}

/* Encrypts the edited text to a new file next to the target, named like
 * it with ".edited-N" before ".age".  Returns -1 with err naming it. */
static int keep_aside(const struct edit_session *s, const char *bytes,
                      size_t len, struct rotarr_error *err)
{
    struct rotarr_buf path = ROTARR_BUF_INIT;
    size_t stem = strlen(s->target);
    int n, ret = -1;

    if (stem > 4 && strcmp(s->target + stem - 4, ".age") == 0) {
        stem -= 4;
    }
    for (n = 1; n <= EDIT_ASIDE_MAX; n++) {
        rotarr_buf_reset(&path);
        if (rotarr_buf_printf(&path, err, "%.*s.edited-%d.age", (int)stem,
                              s->target, n) < 0) {
            goto out;
        }
        if (access(path.data, F_OK) != 0 && errno == ENOENT) {
            break;
        }
    }
    if (n > EDIT_ASIDE_MAX) {
        rotarr_error_set(err, ROTARR_EFILE, "'%s' changed while it was "
                         "edited, and the names for keeping the edit aside "
                         "up to '%s' are taken; remove old ones and edit "
                         "again", s->target, path.data);
        goto out;
    }
    if (rotarr_age_encrypt_buf_to_file(path.data, s->recipients.data, bytes,
                                       len, err) < 0) {
        goto out;
    }
    ret = rotarr_error_set(err, ROTARR_EFILE, "'%s' changed while it was "
                           "edited, so it was not overwritten; the edited "
                           "text is in '%s', encrypted to the same "
                           "recipients: merge the two with 'rotarr edit'",
                           s->target, path.data);

out:
    rotarr_buf_release(&path);
    return ret;
}

/* Encrypts the edited text when it changed, unless the target changed
 * on disk meanwhile, in which case the edit is kept aside. */
static int save(const struct edit_session *s, struct rotarr_error *err)
{
    char *bytes;
    size_t len;
    int ret;

    if (rotarr_file_read(s->temp.data, 0, &bytes, &len, err) < 0) {
        return -1;
    }
    if (len == rotarr_secret_len(s->before) &&
        (len == 0 || sodium_memcmp(bytes, rotarr_secret_data(s->before),
                                   len) == 0)) {
        cmd_notice("no change; '%s' was left as it was", s->target);
        ret = 0;
    } else if (changed_on_disk(s)) {
        ret = keep_aside(s, bytes, len, err);
    } else {
        ret = rotarr_age_encrypt_buf_to_file(s->target, s->recipients.data,
                                             bytes, len, err);
    }
    sodium_memzero(bytes, len);
    free(bytes);
    return ret;
}

/* Returns 1 when the age file at path uses a passphrase. */
static int passphrase_file(const char *path)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    char *bytes;
    size_t len;
    int ret;

    if (rotarr_file_read(path, 0, &bytes, &len, &err) < 0) {
        return 0;
    }
    ret = rotarr_age_uses_passphrase(bytes, len) == 1;
    free(bytes);
    return ret;
}

/* Decrypts the target, or starts empty when it does not exist.  Its
 * bytes are kept to find out at save time whether it changed. */
static int load_target(struct edit_session *s)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    int encrypted = 1, status;

    if (access(s->target, F_OK) != 0 && errno == ENOENT) {
        s->before = rotarr_secret_alloc(0, &err);
        return s->before == NULL ? cmd_report(&err) : 0;
    }
    if (rotarr_file_read(s->target, 0, &s->loaded, &s->loaded_len,
                         &err) < 0) {
        return cmd_report(&err);
    }
    if (passphrase_file(s->target)) {
        /* Saving would silently switch it from the passphrase to the
         * recipients file. */
        cmd_error("'%s' is encrypted with a passphrase, and 'rotarr edit' "
                  "encrypts to the recipients in '%s'; use 'rotarr decrypt' "
                  "and 'rotarr encrypt -p' instead", s->target,
                  s->recipients.data);
        return ROTARR_EUSAGE;
    }
    status = cmd_age_load_file(s->target, &s->before, &encrypted);
    if (status == 0 && !encrypted) {
        cmd_error("'%s' is not an age file; encrypt it first with 'rotarr "
                  "encrypt -R %s'", s->target, s->recipients.data);
        return ROTARR_EDECRYPT;
    }
    return status;
}

/* Checks the recipients file before anything is decrypted. */
static int load_recipients(struct edit_session *s)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_age_recipients *recipients;
    int ret;

    if (rotarr_buf_printf(&s->recipients, &err, "%s/%s", cmd_globals.dir,
                          ROTARR_AGE_RECIPIENTS_FILE) < 0) {
        return cmd_report(&err);
    }
    recipients = rotarr_age_recipients_new(&err);
    ret = recipients == NULL ||
          rotarr_age_recipients_add_file(recipients, s->recipients.data,
                                         &err) < 0;
    rotarr_age_recipients_free(recipients);
    if (ret) {
        cmd_report(&err);
        cmd_error("'rotarr edit' encrypts to the recipients in '%s'; create "
                  "it with one 'age1...' line per recipient",
                  s->recipients.data);
        return ROTARR_EFILE;
    }
    return 0;
}

/*
 * Checks that the target can be replaced, by creating and removing a
 * temporary file next to it as the save will, so that a read-only
 * directory fails before the editor runs and not after.
 */
static int check_writable(const struct edit_session *s)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_age_outfile *probe;

    probe = rotarr_age_outfile_open(s->target, &err);
    if (probe == NULL) {
        cmd_report(&err);
        cmd_error("'%s' could not be saved after the edit; make its "
                  "directory writable and run 'rotarr edit' again",
                  s->target);
        return ROTARR_EFILE;
    }
    rotarr_age_outfile_abort(probe);
    return 0;
}

/* Takes the stack's lock for the whole session, so that a rotation
 * cannot rewrite the target while it is edited. */
static int take_lock(struct edit_session *s)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;

    s->lock = rotarr_lock_acquire(cmd_globals.dir, &err);
    if (s->lock == NULL) {
        cmd_report(&err);
        cmd_error("'rotarr edit' does not start while the lock is held, "
                  "so that no rotation is lost");
        return err.code;
    }
    return 0;
}

/* Notes the signals that end the session and leaves Ctrl-C to the
 * editor while it runs. */
static void catch_signals(struct sigaction old[CMD_AGE_SIGNAL_COUNT])
{
    struct sigaction ignore;

    cmd_age_catch_signals(note_signal, old);
    memset(&ignore, 0, sizeof(ignore));
    sigemptyset(&ignore.sa_mask);
    ignore.sa_handler = SIG_IGN;
    sigaction(SIGINT, &ignore, NULL);
    sigaction(SIGQUIT, &ignore, NULL);
}

static int edit_run(struct edit_session *s)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct sigaction old[CMD_AGE_SIGNAL_COUNT];
    int status = load_recipients(s);

    if (status == 0) {
        status = check_writable(s);
    }
    if (status == 0) {
        status = take_lock(s);
    }
    if (status == 0) {
        status = load_target(s);
    }
    if (status != 0) {
        return status;
    }
    catch_signals(old);
    if (write_temp(s, &err) < 0 || run_editor(s, &err) < 0 ||
        save(s, &err) < 0) {
        status = cmd_report(&err);
    }
    remove_temp(s);
    cmd_age_restore_signals(old);
    if (edit_signal != 0) {
        raise(edit_signal);
    }
    return status;
}

int cmd_edit(int argc, char **argv)
{
    struct edit_session s;
    int status;

    memset(&s, 0, sizeof(s));
    status = edit_parse(argc, argv, &s.target);
    if (status >= 0) {
        return status;
    }
    status = edit_run(&s);
    rotarr_lock_release(s.lock);
    free(s.loaded);
    rotarr_secret_free(s.before);
    rotarr_buf_release(&s.recipients);
    rotarr_buf_release(&s.dir);
    rotarr_buf_release(&s.temp);
    return status;
}
