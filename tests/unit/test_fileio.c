/*
 * Unit tests of file reading and atomic replacement (rotarr/fileio.h).
 * Each test works in a fresh temporary directory.  The ownership tests
 * need root (CI runs as root); as another user they check only what that
 * user can do.
 */
#include "rotarr/compat.h"

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <check.h>

#include "rotarr/fileio.h"
#include "rotarr/secret.h"

/* Owner given to files in the ownership tests; no account needs it. */
#define OTHER_ID 12345

static char root[] = "/tmp/rotarr-fileio.XXXXXX";
static char path_buf[4][512];

/* Returns root/name in one of a few rotating buffers. */
static const char *in_root(const char *name)
{
    static int next;
    char *buf = path_buf[next++ % 4];
    int n = snprintf(buf, sizeof(path_buf[0]), "%s/%s", root, name);

    ck_assert(n > 0 && (size_t)n < sizeof(path_buf[0]));
    return buf;
}

static void write_file(const char *path, const char *text, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    ck_assert_int_eq(fchmod(fd, mode), 0);
    ck_assert_int_eq(close(fd), 0);
}

/* Returns the contents of path in a static buffer. */
static const char *contents(const char *path)
{
    static char buf[4096];
    ssize_t n;
    int fd = open(path, O_RDONLY);

    ck_assert_int_ge(fd, 0);
    n = read(fd, buf, sizeof(buf) - 1);
    ck_assert_int_ge(n, 0);
    buf[n] = '\0';
    close(fd);
    return buf;
}

static unsigned mode_of(const char *path)
{
    struct stat st;

    ck_assert_int_eq(lstat(path, &st), 0);
    return st.st_mode & 07777;
}

/* Returns the number of entries of dir other than "." and "..". */
static int entry_count(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *entry;
    int count = 0;

    ck_assert_ptr_nonnull(d);
    while ((entry = readdir(d)) != NULL) {
        if (strcmp(entry->d_name, ".") != 0
            && strcmp(entry->d_name, "..") != 0) {
            count++;
        }
    }
    closedir(d);
    return count;
}

static int remove_entry(const char *path, const struct stat *st, int flag,
                        struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    chmod(path, 0700);
    return remove(path);
}

static void setup(void)
{
    ck_assert_ptr_nonnull(mkdtemp(root));
}

static void teardown(void)
{
    chmod(root, 0700);
    nftw(root, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    memcpy(root + strlen(root) - 6, "XXXXXX", 6);
}

/* Replaces name in root with text and returns the modes reported. */
static int replace(const char *name, const char *text, unsigned flags,
                   unsigned *old_mode, unsigned *new_mode,
                   struct rotarr_error *err)
{
    return rotarr_file_replace(root, in_root(name), text, strlen(text),
                               flags, old_mode, new_mode, err);
}

START_TEST(test_fileio__secret_0644_becomes_0600)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    unsigned old_mode = 0;
    unsigned new_mode = 0;

    write_file(in_root(".env"), "PW=old\n", 0644);
    ck_assert_int_eq(replace(".env", "PW=new\n", ROTARR_REPLACE_SECRET,
                             &old_mode, &new_mode, &err), 0);
    ck_assert_uint_eq(mode_of(in_root(".env")), 0600);
    ck_assert_uint_eq(old_mode, 0644);
    ck_assert_uint_eq(new_mode, 0600);
    ck_assert_str_eq(contents(in_root(".env")), "PW=new\n");
}
END_TEST

START_TEST(test_fileio__plain_replace_keeps_0644)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    unsigned new_mode = 0;

    write_file(in_root("compose.yaml"), "services: {}\n", 0644);
    ck_assert_int_eq(replace("compose.yaml", "services:\n", 0, NULL,
                             &new_mode, &err), 0);
    ck_assert_uint_eq(mode_of(in_root("compose.yaml")), 0644);
    ck_assert_uint_eq(new_mode, 0644);
}
END_TEST

START_TEST(test_fileio__secret_0400_stays_0400)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;

    write_file(in_root(".env"), "PW=old\n", 0400);
    ck_assert_int_eq(replace(".env", "PW=new\n", ROTARR_REPLACE_SECRET,
                             NULL, NULL, &err), 0);
    ck_assert_uint_eq(mode_of(in_root(".env")), 0400);
    ck_assert_str_eq(contents(in_root(".env")), "PW=new\n");
}
END_TEST

START_TEST(test_fileio__secret_0640_becomes_0600)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;

    write_file(in_root(".env"), "PW=old\n", 0640);
    ck_assert_int_eq(replace(".env", "PW=new\n", ROTARR_REPLACE_SECRET,
                             NULL, NULL, &err), 0);
    ck_assert_uint_eq(mode_of(in_root(".env")), 0600);
}
END_TEST

static unsigned hook_mode;
static long long hook_size;
static int hook_calls;

static int record_new_file(const char *path, int fd)
{
    struct stat st;

    (void)path;
    ck_assert_int_eq(fstat(fd, &st), 0);
    hook_mode = st.st_mode & 07777;
    hook_size = (long long)st.st_size;
    hook_calls++;
    return 0;
}

static int fail_new_file(const char *path, int fd)
{
    (void)path;
    (void)fd;
    return -1;
}

START_TEST(test_fileio__temp_file_0600_before_first_byte)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;

    umask(0);
    write_file(in_root(".env"), "PW=old\n", 0666);
    rotarr_file_set_created_hook(record_new_file);
    ck_assert_int_eq(replace(".env", "PW=new\n", 0, NULL, NULL, &err), 0);
    rotarr_file_set_created_hook(NULL);
    ck_assert_int_eq(hook_calls, 1);
    ck_assert_uint_eq(hook_mode, 0600);
    ck_assert_int_eq(hook_size, 0);
    ck_assert_uint_eq(mode_of(in_root(".env")), 0666);
}
END_TEST

START_TEST(test_fileio__failed_write_leaves_target_and_no_temp)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;

    write_file(in_root(".env"), "PW=old\n", 0644);
    rotarr_file_set_created_hook(fail_new_file);
    ck_assert_int_eq(replace(".env", "PW=new\n", ROTARR_REPLACE_SECRET,
                             NULL, NULL, &err), -1);
    rotarr_file_set_created_hook(NULL);
    ck_assert_int_eq(err.code, ROTARR_EFILE);
    ck_assert_str_eq(contents(in_root(".env")), "PW=old\n");
    ck_assert_uint_eq(mode_of(in_root(".env")), 0644);
    ck_assert_int_eq(entry_count(root), 1);
}
END_TEST

START_TEST(test_fileio__new_secret_file_is_0600)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;

    umask(0);
    rotarr_file_set_created_hook(record_new_file);
    ck_assert_int_eq(rotarr_file_create_secret(in_root("journal"), "x", 1,
                                               &err), 0);
    rotarr_file_set_created_hook(NULL);
    ck_assert_uint_eq(hook_mode, 0600);
    ck_assert_uint_eq(mode_of(in_root("journal")), 0600);
    umask(0277);
    ck_assert_int_eq(rotarr_file_create_secret(in_root("key"), "y", 1,
                                               &err), 0);
    ck_assert_uint_eq(mode_of(in_root("key")), 0600);
    ck_assert_str_eq(contents(in_root("key")), "y");
}
END_TEST

START_TEST(test_fileio__new_secret_rejects_existing_file)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;

    write_file(in_root("journal"), "keep", 0600);
    ck_assert_int_eq(rotarr_file_create_secret(in_root("journal"), "x", 1,
                                               &err), -1);
    ck_assert_int_eq(err.code, ROTARR_EFILE);
    ck_assert_ptr_nonnull(strstr(err.msg, in_root("journal")));
    ck_assert_str_eq(contents(in_root("journal")), "keep");
}
END_TEST

START_TEST(test_fileio__new_secret_rejects_symlink)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;

    ck_assert_int_eq(symlink(in_root("elsewhere"), in_root("journal")), 0);
    ck_assert_int_eq(rotarr_file_create_secret(in_root("journal"), "x", 1,
                                               &err), -1);
    ck_assert_int_eq(access(in_root("elsewhere"), F_OK), -1);
}
END_TEST

START_TEST(test_fileio__new_secret_needs_parent)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;

    ck_assert_int_eq(rotarr_file_create_secret(in_root("no/journal"), "x",
                                               1, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "directory does not exist"));
}
END_TEST

START_TEST(test_fileio__owner_and_group_kept)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct stat st;

    write_file(in_root(".env"), "PW=old\n", 0640);
    if (geteuid() == 0) {
        ck_assert_int_eq(chown(in_root(".env"), OTHER_ID, OTHER_ID), 0);
    }
    ck_assert_int_eq(replace(".env", "PW=new\n", ROTARR_REPLACE_SECRET,
                             NULL, NULL, &err), 0);
    ck_assert_int_eq(lstat(in_root(".env"), &st), 0);
    ck_assert_uint_eq(st.st_uid, geteuid() == 0 ? OTHER_ID : geteuid());
    ck_assert_uint_eq(st.st_gid, geteuid() == 0 ? OTHER_ID : getegid());
}
END_TEST

START_TEST(test_fileio__symlink_inside_root_followed)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;

    ck_assert_int_eq(mkdir(in_root("secrets"), 0700), 0);
    write_file(in_root("secrets/db.env"), "PW=old\n", 0600);
    ck_assert_int_eq(symlink("secrets/db.env", in_root(".env")), 0);
    ck_assert_int_eq(replace(".env", "PW=new\n", ROTARR_REPLACE_SECRET,
                             NULL, NULL, &err), 0);
    ck_assert_str_eq(contents(in_root("secrets/db.env")), "PW=new\n");
    ck_assert_uint_eq(mode_of(in_root(".env")) , 0777);
    ck_assert_int_eq(entry_count(in_root("secrets")), 1);
}
END_TEST

START_TEST(test_fileio__symlink_outside_root_refused)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    char outside[] = "/tmp/rotarr-outside.XXXXXX";
    char target[600];

    ck_assert_ptr_nonnull(mkdtemp(outside));
    ck_assert_int_lt(snprintf(target, sizeof(target), "%s/db.env", outside),
                     (int)sizeof(target));
    write_file(target, "PW=old\n", 0600);
    ck_assert_int_eq(symlink(target, in_root(".env")), 0);
    ck_assert_int_eq(replace(".env", "PW=new\n", ROTARR_REPLACE_SECRET,
                             NULL, NULL, &err), -1);
    ck_assert_int_eq(err.code, ROTARR_EFILE);
    ck_assert_int_eq(err.code, 3);
    ck_assert_ptr_nonnull(strstr(err.msg, "outside the stack directory"));
    ck_assert_str_eq(contents(target), "PW=old\n");
    unlink(target);
    rmdir(outside);
}
END_TEST

START_TEST(test_fileio__check_inside_accepts_new_file)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;

    ck_assert_int_eq(rotarr_path_check_inside(root, in_root("new.env"),
                                              &err), 0);
    ck_assert_int_eq(rotarr_path_check_inside(root, root, &err), 0);
}
END_TEST

START_TEST(test_fileio__check_inside_rejects_dotdot)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;

    ck_assert_int_eq(rotarr_path_check_inside(root, in_root("../x"), &err),
                     -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "outside the stack directory"));
}
END_TEST

START_TEST(test_fileio__check_inside_rejects_dangling_symlink)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;

    ck_assert_int_eq(symlink("/nonexistent/rotarr/x", in_root(".env")), 0);
    ck_assert_int_eq(rotarr_path_check_inside(root, in_root(".env"), &err),
                     -1);
    ck_assert_int_eq(err.code, ROTARR_EFILE);
}
END_TEST

/* Runs replace in a child that cannot write to root, and returns the
 * child's exit status: the error code, or 0 on success. */
static int replace_without_write_access(void)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    pid_t pid;
    int status;

    ck_assert_int_eq(chmod(root, 0555), 0);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        if (geteuid() == 0 && (chown(root, OTHER_ID, OTHER_ID) != 0
                               || setgid(OTHER_ID) != 0
                               || setuid(OTHER_ID) != 0)) {
            _exit(100);
        }
        _exit(replace(".env", "PW=new\n", ROTARR_REPLACE_SECRET, NULL, NULL,
                      &err) == 0 ? 0 : (int)err.code);
    }
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status));
    return WEXITSTATUS(status);
}

START_TEST(test_fileio__read_only_directory_leaves_target)
{
    write_file(in_root(".env"), "PW=old\n", 0644);
    if (geteuid() == 0) {
        ck_assert_int_eq(chown(in_root(".env"), OTHER_ID, OTHER_ID), 0);
    }
    ck_assert_int_eq(replace_without_write_access(), ROTARR_EFILE);
    ck_assert_int_eq(chmod(root, 0700), 0);
    ck_assert_str_eq(contents(in_root(".env")), "PW=old\n");
    ck_assert_uint_eq(mode_of(in_root(".env")), 0644);
    ck_assert_int_eq(entry_count(root), 1);
}
END_TEST

START_TEST(test_fileio__replace_rejects_missing_target)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;

    ck_assert_int_eq(replace(".env", "x", 0, NULL, NULL, &err), -1);
    ck_assert_int_eq(err.code, ROTARR_EFILE);
    ck_assert_int_eq(access(in_root(".env"), F_OK), -1);
}
END_TEST

START_TEST(test_fileio__replace_rejects_directory)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;

    ck_assert_int_eq(mkdir(in_root("sub"), 0700), 0);
    ck_assert_int_eq(replace("sub", "x", 0, NULL, NULL, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "not a regular file"));
}
END_TEST

START_TEST(test_fileio__reads_whole_file)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    char *bytes = NULL;
    size_t len = 0;

    write_file(in_root(".env"), "A=\xc3\xa9t\xc3\xa9\nB=2\n", 0600);
    ck_assert_int_eq(rotarr_file_read(in_root(".env"), ROTARR_READ_UTF8,
                                      &bytes, &len, &err), 0);
    ck_assert_uint_eq(len, 12);
    ck_assert_str_eq(bytes, "A=\xc3\xa9t\xc3\xa9\nB=2\n");
    free(bytes);
}
END_TEST

START_TEST(test_fileio__read_missing_file_names_path)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    char *bytes = NULL;
    size_t len = 0;

    ck_assert_int_eq(rotarr_file_read(in_root("missing.env"), 0, &bytes,
                                      &len, &err), -1);
    ck_assert_int_eq(err.code, ROTARR_EFILE);
    ck_assert_ptr_nonnull(strstr(err.msg, in_root("missing.env")));
    ck_assert_ptr_nonnull(strstr(err.msg, "no such file"));
    ck_assert_ptr_null(bytes);
}
END_TEST

START_TEST(test_fileio__read_rejects_too_large_file)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    char *bytes = NULL;
    size_t len = 0;

    write_file(in_root("big"), "", 0600);
    ck_assert_int_eq(truncate(in_root("big"), ROTARR_FILE_MAX + 1), 0);
    ck_assert_int_eq(rotarr_file_read(in_root("big"), 0, &bytes, &len,
                                      &err), -1);
    ck_assert_int_eq(err.code, ROTARR_EFILE);
    ck_assert_ptr_nonnull(strstr(err.msg, in_root("big")));
    ck_assert_ptr_nonnull(strstr(err.msg, "larger than"));
}
END_TEST

START_TEST(test_fileio__read_accepts_file_at_bound)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    char *bytes = NULL;
    size_t len = 0;

    write_file(in_root("big"), "", 0600);
    ck_assert_int_eq(truncate(in_root("big"), ROTARR_FILE_MAX), 0);
    ck_assert_int_eq(rotarr_file_read(in_root("big"), 0, &bytes, &len,
                                      &err), 0);
    ck_assert_uint_eq(len, ROTARR_FILE_MAX);
    free(bytes);
}
END_TEST

START_TEST(test_fileio__read_rejects_invalid_utf8_naming_line)
{
    static const char *const bad[] = {
        "A=1\nB=\xff\n", "A=1\nB=\xc0\xaf\n", "A=1\nB=\xed\xa0\x80\n",
        "A=1\nB=\xf4\x90\x80\x80\n", "A=1\nB=\xe2\x82\n",
    };
    struct rotarr_error err = ROTARR_ERROR_INIT;
    char *bytes = NULL;
    size_t len = 0;
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        write_file(in_root(".env"), bad[i], 0600);
        ck_assert_int_eq(rotarr_file_read(in_root(".env"), ROTARR_READ_UTF8,
                                          &bytes, &len, &err), -1);
        ck_assert_int_eq(err.code, ROTARR_EFILE);
        ck_assert_ptr_nonnull(strstr(err.msg, in_root(".env")));
        ck_assert_ptr_nonnull(strstr(err.msg, "line 2"));
    }
}
END_TEST

START_TEST(test_fileio__read_without_utf8_flag_accepts_bytes)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    char *bytes = NULL;
    size_t len = 0;

    write_file(in_root("blob"), "\xff\xfe", 0600);
    ck_assert_int_eq(rotarr_file_read(in_root("blob"), 0, &bytes, &len,
                                      &err), 0);
    ck_assert_uint_eq(len, 2);
    free(bytes);
}
END_TEST

START_TEST(test_fileio__read_rejects_nul_in_text)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    char *bytes = NULL;
    size_t len = 0;
    int fd = open(in_root(".env"), O_WRONLY | O_CREAT, 0600);

    ck_assert_int_eq(write(fd, "A=1\0\n", 5), 5);
    close(fd);
    ck_assert_int_eq(rotarr_file_read(in_root(".env"), ROTARR_READ_UTF8,
                                      &bytes, &len, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "line 1"));
}
END_TEST

START_TEST(test_fileio__read_rejects_directory)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    char *bytes = NULL;
    size_t len = 0;

    ck_assert_int_eq(rotarr_file_read(root, 0, &bytes, &len, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "not a regular file"));
}
END_TEST

START_TEST(test_fileio__dir_sync)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;

    ck_assert_int_eq(rotarr_dir_sync(root, &err), 0);
    ck_assert_int_eq(rotarr_dir_sync(in_root("missing"), &err), -1);
    ck_assert_int_eq(err.code, ROTARR_EFILE);
}
END_TEST

START_TEST(test_fileio__temp_name_base_accepts_exact_form)
{
    ck_assert_uint_eq(rotarr_temp_name_base("..env.rotarr-0123456789abcdef"),
                      4);
    ck_assert_uint_eq(rotarr_temp_name_base(".state.rotarr-ffffffffffffffff"),
                      5);
}
END_TEST

START_TEST(test_fileio__temp_name_base_rejects_near_forms)
{
    static const char *const names[] = {
        ".env.rotarr-notes",
        "..env.rotarr-0123456789ABCDEF",
        "..env.rotarr-0123456789abcde",
        "..env.rotarr-0123456789abcdef0",
        ".env.rotarr-0123456789abcdef.swp",
        "env.rotarr-0123456789abcdef",
        "..rotarr-0123456789abcdef",
        "..env.tmp-0123456789abcdef",
    };
    size_t i;

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        ck_assert_msg(rotarr_temp_name_base(names[i]) == 0, "%s accepted",
                      names[i]);
    }
}
END_TEST

static size_t sweep_env(void)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    const char *targets[] = { ".env" };
    size_t removed = 0;

    ck_assert_int_eq(rotarr_temp_sweep(root, targets, 1, &removed, &err), 0);
    return removed;
}

START_TEST(test_fileio__sweep_removes_stale_temp)
{
    write_file(in_root(".env"), "A=1\n", 0600);
    write_file(in_root("..env.rotarr-0123456789abcdef"), "A=2\n", 0600);
    ck_assert_uint_eq(sweep_env(), 1);
    ck_assert_int_eq(access(in_root("..env.rotarr-0123456789abcdef"), F_OK),
                     -1);
    ck_assert_int_eq(access(in_root(".env"), F_OK), 0);
}
END_TEST

START_TEST(test_fileio__sweep_keeps_other_files)
{
    write_file(in_root(".env.rotarr-notes"), "notes\n", 0600);
    write_file(in_root(".app.env.rotarr-0123456789abcdef"), "A=2\n", 0600);
    ck_assert_int_eq(symlink(".env.rotarr-notes",
                             in_root("..env.rotarr-aaaaaaaaaaaaaaaa")), 0);
    ck_assert_uint_eq(sweep_env(), 0);
    ck_assert_int_eq(entry_count(root), 3);
}
END_TEST

START_TEST(test_fileio__sweep_keeps_claimed_temp)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    const char *temp = in_root("..env.rotarr-bbbbbbbbbbbbbbbb");
    int fd = open(temp, O_WRONLY | O_CREAT | O_EXCL, 0600);

    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(rotarr_temp_claim(fd, temp, &err), 0);
    ck_assert_uint_eq(sweep_env(), 0);
    ck_assert_int_eq(access(temp, F_OK), 0);
    close(fd);
    ck_assert_uint_eq(sweep_env(), 1);
}
END_TEST

START_TEST(test_fileio__claim_reports_swept_temp)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    const char *temp = in_root("..env.rotarr-cccccccccccccccc");
    int fd = open(temp, O_WRONLY | O_CREAT | O_EXCL, 0600);

    ck_assert_int_ge(fd, 0);
    ck_assert_uint_eq(sweep_env(), 1);
    ck_assert_int_eq(rotarr_temp_claim(fd, temp, &err), 1);
    close(fd);
}
END_TEST

START_TEST(test_fileio__replace_leaves_no_temp)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;

    write_file(in_root(".env"), "A=1\n", 0600);
    ck_assert_int_eq(rotarr_file_replace(NULL, in_root(".env"), "A=2\n", 4,
                                         0, NULL, NULL, &err), 0);
    ck_assert_int_eq(entry_count(root), 1);
    ck_assert_str_eq(contents(in_root(".env")), "A=2\n");
}
END_TEST

static Suite *fileio_suite(void)
{
    Suite *s = suite_create("fileio");
    TCase *write_case = tcase_create("write");
    TCase *read_case = tcase_create("read");

    tcase_add_checked_fixture(write_case, setup, teardown);
    tcase_add_test(write_case, test_fileio__secret_0644_becomes_0600);
    tcase_add_test(write_case, test_fileio__plain_replace_keeps_0644);
    tcase_add_test(write_case, test_fileio__secret_0400_stays_0400);
    tcase_add_test(write_case, test_fileio__secret_0640_becomes_0600);
    tcase_add_test(write_case, test_fileio__temp_file_0600_before_first_byte);
    tcase_add_test(write_case,
                   test_fileio__failed_write_leaves_target_and_no_temp);
    tcase_add_test(write_case, test_fileio__new_secret_file_is_0600);
    tcase_add_test(write_case, test_fileio__new_secret_rejects_existing_file);
    tcase_add_test(write_case, test_fileio__new_secret_rejects_symlink);
    tcase_add_test(write_case, test_fileio__new_secret_needs_parent);
    tcase_add_test(write_case, test_fileio__owner_and_group_kept);
    tcase_add_test(write_case, test_fileio__symlink_inside_root_followed);
    tcase_add_test(write_case, test_fileio__symlink_outside_root_refused);
    tcase_add_test(write_case, test_fileio__check_inside_accepts_new_file);
    tcase_add_test(write_case, test_fileio__check_inside_rejects_dotdot);
    tcase_add_test(write_case,
                   test_fileio__check_inside_rejects_dangling_symlink);
    tcase_add_test(write_case, test_fileio__read_only_directory_leaves_target);
    tcase_add_test(write_case, test_fileio__replace_rejects_missing_target);
    tcase_add_test(write_case, test_fileio__replace_rejects_directory);
    tcase_add_test(write_case, test_fileio__dir_sync);
    tcase_add_test(write_case,
                   test_fileio__temp_name_base_accepts_exact_form);
    tcase_add_test(write_case,
                   test_fileio__temp_name_base_rejects_near_forms);
    tcase_add_test(write_case, test_fileio__sweep_removes_stale_temp);
    tcase_add_test(write_case, test_fileio__sweep_keeps_other_files);
    tcase_add_test(write_case, test_fileio__sweep_keeps_claimed_temp);
    tcase_add_test(write_case, test_fileio__claim_reports_swept_temp);
    tcase_add_test(write_case, test_fileio__replace_leaves_no_temp);
    suite_add_tcase(s, write_case);

    tcase_add_checked_fixture(read_case, setup, teardown);
    tcase_add_test(read_case, test_fileio__reads_whole_file);
    tcase_add_test(read_case, test_fileio__read_missing_file_names_path);
    tcase_add_test(read_case, test_fileio__read_rejects_too_large_file);
    tcase_add_test(read_case, test_fileio__read_accepts_file_at_bound);
    tcase_add_test(read_case,
                   test_fileio__read_rejects_invalid_utf8_naming_line);
    tcase_add_test(read_case,
                   test_fileio__read_without_utf8_flag_accepts_bytes);
    tcase_add_test(read_case, test_fileio__read_rejects_nul_in_text);
    tcase_add_test(read_case, test_fileio__read_rejects_directory);
    suite_add_tcase(s, read_case);
    return s;
}

int main(void)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    SRunner *runner;
    int failed;

    if (rotarr_secret_init(&err) < 0) {
        return 1;
    }
    runner = srunner_create(fileio_suite());
    srunner_run_all(runner, CK_NORMAL);
    failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
