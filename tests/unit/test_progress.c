/*
 * Unit tests of progress: the line that cmd/progress.c formats and draws
 * on a terminal, and the reports of rotarr_age_*_with_progress and of
 * the guard's scans (rotarr/progress.h).  The guard tests run git in a
 * temporary repository.
 */
#include "rotarr/compat.h"

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <sodium.h>

#include "rotarr/age.h"
#include "rotarr/buf.h"
#include "rotarr/guard.h"
#include "rotarr/secret.h"

#include "../../cmd/progress.h"
#include "test_keypair.h"

#define MIB ((uint64_t)1 << 20)
#define GIB ((uint64_t)1 << 30)

/* Reports kept by a test receiver. */
#define MAX_REPORTS 4096

struct reports {
    uint64_t done[MAX_REPORTS];
    uint64_t total[MAX_REPORTS];
    size_t count;
    int out_of_order; /* done went down, or total changed */
};

static void keep_report(void *ctx, uint64_t done, uint64_t total)
{
    struct reports *r = ctx;

    if (r->count > 0 && (done < r->done[r->count - 1] ||
                         total != r->total[r->count - 1])) {
        r->out_of_order = 1;
    }
    if (r->count < MAX_REPORTS) {
        r->done[r->count] = done;
        r->total[r->count] = total;
        r->count++;
    }
}

static uint64_t last_done(const struct reports *r)
{
    ck_assert_uint_gt(r->count, 0);
    return r->done[r->count - 1];
}

/* Formats a line 200 columns wide. */
static const char *line(const char *action, const char *name,
                        enum cmd_progress_unit unit, uint64_t done,
                        uint64_t total, int64_t elapsed_ms)
{
    static char buf[CMD_PROGRESS_LINE_MAX];

    cmd_progress_format(buf, sizeof(buf), action, name, unit, done, total,
                        elapsed_ms, 200);
    return buf;
}

static const char *size_text(uint64_t bytes)
{
    static char buf[32];

    ck_assert_int_gt(cmd_progress_format_size(buf, sizeof(buf), bytes), 0);
    return buf;
}

START_TEST(test_size__bytes_below_kib)
{
    ck_assert_str_eq(size_text(0), "0 B");
    ck_assert_str_eq(size_text(1023), "1023 B");
}
END_TEST

START_TEST(test_size__one_decimal_below_ten)
{
    ck_assert_str_eq(size_text(1024), "1.0 KiB");
    ck_assert_str_eq(size_text(9728), "9.5 KiB");
    ck_assert_str_eq(size_text(GIB), "1.0 GiB");
}
END_TEST

START_TEST(test_size__whole_units_from_ten)
{
    ck_assert_str_eq(size_text(10 * 1024), "10 KiB");
    ck_assert_str_eq(size_text(412 * MIB), "412 MiB");
    ck_assert_str_eq(size_text(UINT64_MAX), "16 EiB");
}
END_TEST

START_TEST(test_size__small_buffer_fails)
{
    char buf[6];

    ck_assert_int_eq(cmd_progress_format_size(buf, sizeof(buf), 412 * MIB),
                     -1);
    ck_assert_int_eq(cmd_progress_format_size(buf, sizeof(buf), 5), 3);
}
END_TEST

START_TEST(test_line__known_total_shows_percent_and_rate)
{
    ck_assert_str_eq(line("encrypting", "backup.tar", CMD_PROGRESS_BYTES,
                          412 * MIB, GIB, 287),
                     "encrypting backup.tar: 412 MiB / 1.0 GiB (40%), "
                     "1.4 GiB/s");
}
END_TEST

START_TEST(test_line__unknown_total_has_no_percent)
{
    ck_assert_str_eq(line("encrypting", "standard input",
                          CMD_PROGRESS_BYTES, 412 * MIB, 0, 1000),
                     "encrypting standard input: 412 MiB, 412 MiB/s");
}
END_TEST

START_TEST(test_line__no_rate_before_time_passes)
{
    ck_assert_str_eq(line("decrypting", "a.age", CMD_PROGRESS_BYTES, 0,
                          20 * MIB, 0),
                     "decrypting a.age: 0 B / 20 MiB (0%)");
}
END_TEST

START_TEST(test_line__percent_stops_at_100)
{
    ck_assert_str_eq(line("encrypting", "grown", CMD_PROGRESS_BYTES,
                          3 * MIB, 2 * MIB, 0),
                     "encrypting grown: 3.0 MiB / 2.0 MiB (100%)");
    ck_assert_str_eq(line("encrypting", "file", CMD_PROGRESS_BYTES,
                          MIB - 1, MIB, 0),
                     "encrypting file: 1024 KiB / 1.0 MiB (99%)");
}
END_TEST

START_TEST(test_line__files_count_and_percent)
{
    ck_assert_str_eq(line("scanning", "the files of HEAD",
                          CMD_PROGRESS_FILES, 3, 12, 500),
                     "scanning the files of HEAD: 3 / 12 files (25%)");
    ck_assert_str_eq(line("scanning", "the staged files",
                          CMD_PROGRESS_FILES, 7, 0, 500),
                     "scanning the staged files: 7 files");
}
END_TEST

START_TEST(test_line__single_file_is_singular)
{
    ck_assert_str_eq(line("scanning", "x", CMD_PROGRESS_FILES, 1, 1, 0),
                     "scanning x: 1 / 1 file (100%)");
    ck_assert_str_eq(line("scanning", "x", CMD_PROGRESS_FILES, 1, 2, 0),
                     "scanning x: 1 / 2 files (50%)");
}
END_TEST

START_TEST(test_line__commits_count_and_percent)
{
    ck_assert_str_eq(line("listing the changes of", "HEAD~9..HEAD",
                          CMD_PROGRESS_COMMITS, 256, 1024, 500),
                     "listing the changes of HEAD~9..HEAD: 256 / 1024 "
                     "commits (25%)");
    ck_assert_str_eq(line("listing", "x", CMD_PROGRESS_COMMITS, 1, 1, 0),
                     "listing x: 1 / 1 commit (100%)");
}
END_TEST

/* Formats the line of 600 MiB of 2 GiB after one second, width columns
 * wide. */
static const char *narrow_line(size_t width)
{
    static char buf[CMD_PROGRESS_LINE_MAX];

    ck_assert_uint_lt(cmd_progress_format(buf, sizeof(buf), "decrypting",
                                          "big.age", CMD_PROGRESS_BYTES,
                                          600 * MIB, 2048 * MIB, 1000,
                                          width),
                      width);
    return buf;
}

START_TEST(test_line__wide_terminal_keeps_every_field)
{
    ck_assert_str_eq(narrow_line(80), "decrypting big.age: 600 MiB / "
                                      "2.0 GiB (29%), 600 MiB/s");
}
END_TEST

START_TEST(test_line__narrow_terminal_drops_rate_first)
{
    ck_assert_str_eq(narrow_line(45),
                     "decrypting big.age: 600 MiB / 2.0 GiB (29%)");
}
END_TEST

START_TEST(test_line__narrow_terminal_drops_percent_next)
{
    ck_assert_str_eq(narrow_line(40),
                     "decrypting big.age: 600 MiB / 2.0 GiB");
}
END_TEST

START_TEST(test_line__long_name_shortened_from_front)
{
    char buf[CMD_PROGRESS_LINE_MAX];
    size_t len;

    len = cmd_progress_format(buf, sizeof(buf), "encrypting",
                              "/srv/backups/2026/december/nextcloud.tar",
                              CMD_PROGRESS_BYTES, MIB, 4 * MIB, 0, 50);
    ck_assert_str_eq(buf, "encrypting ...er/nextcloud.tar: 1.0 MiB / "
                          "4.0 MiB");
    ck_assert_uint_eq(len, 49);
}
END_TEST

START_TEST(test_line__short_name_kept_whole)
{
    char buf[CMD_PROGRESS_LINE_MAX];
    size_t len;

    len = cmd_progress_format(buf, sizeof(buf), "encrypting", "a.tar",
                              CMD_PROGRESS_BYTES, MIB, 4 * MIB, 0, 50);
    ck_assert_str_eq(buf, "encrypting a.tar: 1.0 MiB / 4.0 MiB (25%)");
    ck_assert_uint_eq(len, strlen(buf));
}
END_TEST

START_TEST(test_line__narrow_terminal_cuts_between_numbers)
{
    char buf[CMD_PROGRESS_LINE_MAX];

    ck_assert_uint_eq(cmd_progress_format(buf, sizeof(buf), "encrypting",
                                          "a.tar", CMD_PROGRESS_BYTES, MIB,
                                          4 * MIB, 0, 21),
                      19);
    ck_assert_str_eq(buf, "encrypting: 1.0 MiB");
}
END_TEST

START_TEST(test_line__control_characters_replaced)
{
    ck_assert_str_eq(line("encrypting", "a\033[2Jb\rc\n", CMD_PROGRESS_BYTES,
                          0, 0, 0),
                     "encrypting a?[2Jb?c?: 0 B");
}
END_TEST

START_TEST(test_allowed__quiet_hides_line)
{
    ck_assert_int_eq(cmd_progress_allowed(1, "backup.tar.age"), 0);
}
END_TEST

START_TEST(test_allowed__output_file_shows_line)
{
    ck_assert_int_eq(cmd_progress_allowed(0, "backup.tar.age"), 1);
}
END_TEST

START_TEST(test_receiver__none_without_terminal)
{
    int null = open("/dev/null", O_WRONLY);
    struct cmd_progress p;

    ck_assert_int_eq(dup2(null, STDERR_FILENO), STDERR_FILENO);
    close(null);
    cmd_progress_begin(&p, "encrypting", "x", CMD_PROGRESS_BYTES, 1);
    ck_assert_ptr_null(cmd_progress_receiver(&p));
    cmd_progress_end(&p);
}
END_TEST

/* Puts standard error on a new pseudo-terminal; returns its master. */
static int stderr_to_pty(void)
{
    int master, slave;

    ck_assert_int_eq(openpty(&master, &slave, NULL, NULL, NULL), 0);
    ck_assert_int_eq(dup2(slave, STDERR_FILENO), STDERR_FILENO);
    close(slave);
    return master;
}

/* Reads what the terminal received so far. */
static const char *pty_output(int master)
{
    static char buf[4096];
    struct pollfd pfd = { master, POLLIN, 0 };
    size_t len = 0;
    ssize_t n;

    while (len + 1 < sizeof(buf) && poll(&pfd, 1, 100) == 1) {
        n = read(master, buf + len, sizeof(buf) - 1 - len);
        if (n <= 0) {
            break;
        }
        len += (size_t)n;
    }
    buf[len] = '\0';
    return buf;
}

START_TEST(test_receiver__draws_and_erases_on_terminal)
{
    int master = stderr_to_pty();
    const struct rotarr_progress *receiver;
    struct cmd_progress p;

    setenv(CMD_PROGRESS_DELAY_ENV, "0", 1);
    cmd_progress_begin(&p, "encrypting", "big.tar", CMD_PROGRESS_BYTES, 1);
    receiver = cmd_progress_receiver(&p);
    ck_assert_ptr_nonnull(receiver);
    receiver->report(receiver->ctx, 0, 8 * MIB);
    /* Within the redraw interval: not drawn. */
    receiver->report(receiver->ctx, 4 * MIB, 8 * MIB);
    cmd_progress_end(&p);
    ck_assert_str_eq(pty_output(master),
                     "\rencrypting big.tar: 0 B / 8.0 MiB (0%)\033[K"
                     "\r\033[K");
    close(master);
}
END_TEST

START_TEST(test_receiver__silent_before_delay)
{
    int master = stderr_to_pty();
    const struct rotarr_progress *receiver;
    struct cmd_progress p;

    unsetenv(CMD_PROGRESS_DELAY_ENV);
    cmd_progress_begin(&p, "encrypting", "big.tar", CMD_PROGRESS_BYTES, 1);
    receiver = cmd_progress_receiver(&p);
    ck_assert_ptr_nonnull(receiver);
    receiver->report(receiver->ctx, 0, 8 * MIB);
    receiver->report(receiver->ctx, 8 * MIB, 8 * MIB);
    cmd_progress_end(&p);
    ck_assert_str_eq(pty_output(master), "");
    close(master);
}
END_TEST

START_TEST(test_receiver__quiet_on_terminal_draws_nothing)
{
    int master = stderr_to_pty();
    struct cmd_progress p;

    setenv(CMD_PROGRESS_DELAY_ENV, "0", 1);
    cmd_progress_begin(&p, "encrypting", "big.tar", CMD_PROGRESS_BYTES, 0);
    ck_assert_ptr_null(cmd_progress_receiver(&p));
    cmd_progress_end(&p);
    ck_assert_str_eq(pty_output(master), "");
    close(master);
}
END_TEST

START_TEST(test_receiver__interrupt_erases_line)
{
    int master = stderr_to_pty();
    const struct rotarr_progress *receiver;
    struct cmd_progress p;

    setenv(CMD_PROGRESS_DELAY_ENV, "0", 1);
    cmd_progress_begin(&p, "scanning", "x", CMD_PROGRESS_FILES, 1);
    receiver = cmd_progress_receiver(&p);
    receiver->report(receiver->ctx, 0, 2);
    cmd_progress_interrupt();
    /* The line was erased, so the next report draws it again. */
    receiver->report(receiver->ctx, 1, 2);
    cmd_progress_end(&p);
    ck_assert_str_eq(pty_output(master),
                     "\rscanning x: 0 / 2 files (0%)\033[K\r\033[K"
                     "\rscanning x: 1 / 2 files (50%)\033[K\r\033[K");
    close(master);
}
END_TEST

/*
 * The age reports.
 */

/* Returns a temporary file, already unlinked, that contains len bytes. */
static int temp_file(const void *bytes, size_t len)
{
    char path[] = "/tmp/rotarr-progress-XXXXXX";
    int fd = mkstemp(path);

    ck_assert_int_ge(fd, 0);
    unlink(path);
    ck_assert_int_eq(write(fd, bytes, len), (ssize_t)len);
    ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
    return fd;
}

static int buf_write(void *ctx, const void *bytes, size_t len,
                     struct rotarr_error *err)
{
    return rotarr_buf_append(ctx, bytes, len, err);
}

/* Encrypts or decrypts the file fd (a pipe-like source when as_file is
 * 0) into out with progress; returns the call's result. */
static int run_age(const struct keypair *k, int decrypt, int fd,
                   int as_file, unsigned flags, struct rotarr_buf *out,
                   struct reports *r)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_age_fd file = { fd, "input" };
    struct rotarr_age_source src = { rotarr_age_fd_read, &file,
                                     as_file ? rotarr_age_fd_file : NULL };
    struct rotarr_age_sink sink = { buf_write, out };
    struct rotarr_progress progress = { keep_report, r };

    memset(r, 0, sizeof(*r));
    if (decrypt) {
        return rotarr_age_decrypt_with_progress(k->ids, &src, &sink, flags,
                                                &progress, NULL, &err);
    }
    return rotarr_age_encrypt_with_progress(k->recipients, &src, &sink,
                                            flags, &progress, &err);
}

/* A plaintext of 20 MiB and a bit, so that there are steps and a short
 * last chunk, and its encryption. */
#define PLAIN_LEN (20 * MIB + 1000)

struct age_case {
    struct keypair k;
    unsigned char *plain;
    struct rotarr_buf cipher;
    struct reports r;
};

static void age_case_init(struct age_case *c, unsigned flags)
{
    int fd;

    memset(c, 0, sizeof(*c));
    keypair_init(&c->k);
    c->plain = malloc(PLAIN_LEN);
    ck_assert_ptr_nonnull(c->plain);
    randombytes_buf(c->plain, PLAIN_LEN);
    fd = temp_file(c->plain, PLAIN_LEN);
    ck_assert_int_eq(run_age(&c->k, 0, fd, 1, flags, &c->cipher, &c->r), 0);
    close(fd);
}

static void age_case_release(struct age_case *c)
{
    free(c->plain);
    rotarr_buf_release(&c->cipher);
    keypair_release(&c->k);
}

START_TEST(test_age__encrypt_file_reports_to_total)
{
    struct age_case c;

    age_case_init(&c, 0);
    ck_assert_uint_eq(c.r.done[0], 0);
    ck_assert_uint_eq(c.r.total[0], PLAIN_LEN);
    ck_assert_uint_eq(last_done(&c.r), PLAIN_LEN);
    ck_assert_int_eq(c.r.out_of_order, 0);
    age_case_release(&c);
}
END_TEST

START_TEST(test_age__encrypt_reports_once_per_step)
{
    struct age_case c;

    age_case_init(&c, 0);
    /* The start, one per step of 4 MiB and the end. */
    ck_assert_uint_ge(c.r.count, PLAIN_LEN / ROTARR_AGE_PROGRESS_STEP);
    ck_assert_uint_le(c.r.count, PLAIN_LEN / ROTARR_AGE_PROGRESS_STEP + 2);
    age_case_release(&c);
}
END_TEST

START_TEST(test_age__armored_encrypt_counts_plaintext)
{
    struct age_case c;

    age_case_init(&c, ROTARR_AGE_ARMOR);
    ck_assert_uint_eq(c.r.total[0], PLAIN_LEN);
    ck_assert_uint_eq(last_done(&c.r), PLAIN_LEN);
    ck_assert_int_eq(c.r.out_of_order, 0);
    age_case_release(&c);
}
END_TEST

START_TEST(test_age__encrypt_stream_total_unknown)
{
    struct keypair k;
    struct rotarr_buf out = ROTARR_BUF_INIT;
    struct reports r;
    unsigned char plain[5000];
    int fd;

    keypair_init(&k);
    randombytes_buf(plain, sizeof(plain));
    fd = temp_file(plain, sizeof(plain));
    ck_assert_int_eq(run_age(&k, 0, fd, 0, 0, &out, &r), 0);
    ck_assert_uint_eq(r.total[0], 0);
    ck_assert_uint_eq(last_done(&r), sizeof(plain));
    ck_assert_int_eq(r.out_of_order, 0);
    close(fd);
    rotarr_buf_release(&out);
    keypair_release(&k);
}
END_TEST

START_TEST(test_age__decrypt_binary_file_reports_total)
{
    struct rotarr_buf back = ROTARR_BUF_INIT;
    struct age_case c;
    int fd;

    age_case_init(&c, 0);
    fd = temp_file(c.cipher.data, c.cipher.len);
    ck_assert_int_eq(run_age(&c.k, 1, fd, 1, 0, &back, &c.r), 0);
    ck_assert_uint_eq(c.r.total[0], PLAIN_LEN);
    ck_assert_uint_eq(last_done(&c.r), PLAIN_LEN);
    ck_assert_int_eq(c.r.out_of_order, 0);
    ck_assert_int_eq(memcmp(back.data, c.plain, PLAIN_LEN), 0);
    close(fd);
    rotarr_buf_release(&back);
    age_case_release(&c);
}
END_TEST

START_TEST(test_age__decrypt_armored_total_unknown)
{
    struct rotarr_buf back = ROTARR_BUF_INIT;
    struct age_case c;
    int fd;

    age_case_init(&c, ROTARR_AGE_ARMOR);
    fd = temp_file(c.cipher.data, c.cipher.len);
    ck_assert_int_eq(run_age(&c.k, 1, fd, 1, 0, &back, &c.r), 0);
    ck_assert_uint_eq(c.r.total[0], 0);
    ck_assert_uint_eq(last_done(&c.r), PLAIN_LEN);
    close(fd);
    rotarr_buf_release(&back);
    age_case_release(&c);
}
END_TEST

START_TEST(test_age__damaged_file_has_no_final_report)
{
    struct rotarr_buf back = ROTARR_BUF_INIT;
    struct age_case c;
    int fd;

    age_case_init(&c, 0);
    c.cipher.data[c.cipher.len - 1] ^= 1;
    fd = temp_file(c.cipher.data, c.cipher.len);
    ck_assert_int_eq(run_age(&c.k, 1, fd, 1, 0, &back, &c.r), -1);
    ck_assert_uint_gt(c.r.count, 0);
    ck_assert_uint_lt(last_done(&c.r), PLAIN_LEN);
    close(fd);
    rotarr_buf_release(&back);
    age_case_release(&c);
}
END_TEST

/*
 * The guard's reports, in a repository made with git.
 */

/* The repository of the current test, removed at its end. */
static char repo_dir[] = "/tmp/rotarr-progress-git-XXXXXX";

/* Makes a repository with a.txt, b.txt and c.txt in a first commit and
 * b.txt changed in a second, and enters it. */
static void git_repo(void)
{
    ck_assert_ptr_nonnull(mkdtemp(repo_dir));
    ck_assert_int_eq(chdir(repo_dir), 0);
    setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
    setenv("GIT_CONFIG_GLOBAL", "/dev/null", 1);
    ck_assert_int_eq(system("git init -q . && "
                            "printf 'a\\n' > a.txt && "
                            "printf 'b\\n' > b.txt && "
                            "printf 'c\\n' > c.txt && git add . && "
                            "git -c user.name=t -c user.email=t@example.com "
                            "commit -q -m one && "
                            "printf 'b2\\n' > b.txt && git add b.txt && "
                            "git -c user.name=t -c user.email=t@example.com "
                            "commit -q -m two"),
                     0);
}

static void git_repo_remove(void)
{
    char command[64];
    int n;

    ck_assert_int_eq(chdir("/"), 0);
    n = snprintf(command, sizeof(command), "rm -rf '%s'", repo_dir);
    ck_assert(n > 0 && (size_t)n < sizeof(command));
    ck_assert_int_eq(system(command), 0);
}

/* Runs a tree scan (range NULL) or a range scan with progress. */
static void guard_scan(const char *range, int with_progress,
                       struct reports *r)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_guard_findings findings = ROTARR_GUARD_FINDINGS_INIT;
    struct rotarr_progress progress = { keep_report, r };
    struct rotarr_guard *guard = rotarr_guard_new(&err);

    ck_assert_ptr_nonnull(guard);
    memset(r, 0, sizeof(*r));
    rotarr_guard_set_progress(guard, with_progress ? &progress : NULL);
    if (range == NULL) {
        ck_assert_int_eq(rotarr_guard_check_tree(guard, NULL, &findings,
                                                 &err), 0);
    } else {
        ck_assert_int_eq(rotarr_guard_check_range(guard, range, &findings,
                                                  &err), 0);
    }
    ck_assert_uint_eq(findings.count, 0);
    rotarr_guard_findings_release(&findings);
    rotarr_guard_free(guard);
}

START_TEST(test_guard__tree_scan_counts_files)
{
    struct reports r;

    git_repo();
    guard_scan(NULL, 1, &r);
    ck_assert_uint_eq(r.count, 4);
    ck_assert_uint_eq(r.done[0], 0);
    ck_assert_uint_eq(r.total[0], 3);
    ck_assert_uint_eq(last_done(&r), 3);
    ck_assert_int_eq(r.out_of_order, 0);
    git_repo_remove();
}
END_TEST

START_TEST(test_guard__range_scan_counts_each_blob)
{
    struct reports r;

    git_repo();
    /* Three files in the first commit, one changed in the second. */
    guard_scan("HEAD", 1, &r);
    ck_assert_uint_eq(r.total[0], 4);
    ck_assert_uint_eq(last_done(&r), 4);
    git_repo_remove();
}
END_TEST

/* Adds count commits that change nothing to the current branch of the
 * repository of git_repo, with one git fast-import. */
static void add_commits(unsigned count)
{
    char command[512];
    int n;

    n = snprintf(command, sizeof(command),
                 "branch=$(git symbolic-ref HEAD) && "
                 "for i in $(seq %u); do "
                 "printf 'commit %%s\\ncommitter t <t@example.com> "
                 "%%s +0000\\ndata 1\\nx\\n' \"$branch\" \"$i\"; "
                 "[ \"$i\" = 1 ] && printf 'from %%s^0\\n' \"$branch\"; "
                 "printf '\\n'; done | git fast-import --quiet && "
                 "git reset -q --hard",
                 count);
    ck_assert(n > 0 && (size_t)n < sizeof(command));
    ck_assert_int_eq(system(command), 0);
}

/* Runs a range check with history progress and no file progress. */
static void history_scan(const char *range, struct reports *r)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_guard_findings findings = ROTARR_GUARD_FINDINGS_INIT;
    struct rotarr_progress progress = { keep_report, r };
    struct rotarr_guard *guard = rotarr_guard_new(&err);

    ck_assert_ptr_nonnull(guard);
    memset(r, 0, sizeof(*r));
    rotarr_guard_set_history_progress(guard, &progress);
    ck_assert_int_eq(rotarr_guard_check_range(guard, range, &findings, &err),
                     0);
    ck_assert_uint_eq(findings.count, 0);
    rotarr_guard_findings_release(&findings);
    rotarr_guard_free(guard);
}

START_TEST(test_guard__history_counts_commits_in_batches)
{
    unsigned batches = 2;
    unsigned commits = 2 + batches * ROTARR_GUARD_HISTORY_BATCH - 10;
    struct reports r;

    git_repo();
    add_commits(commits - 2);
    history_scan("HEAD", &r);
    /* The first report, then one per batch. */
    ck_assert_uint_eq(r.count, 1 + batches);
    ck_assert_uint_eq(r.done[0], 0);
    ck_assert_uint_eq(r.total[0], commits);
    ck_assert_uint_eq(r.done[1], ROTARR_GUARD_HISTORY_BATCH);
    ck_assert_uint_eq(last_done(&r), commits);
    ck_assert_int_eq(r.out_of_order, 0);
    git_repo_remove();
}
END_TEST

/* Twin: without a receiver for the history, a range check reports only
 * files. */
START_TEST(test_guard__history_silent_without_receiver)
{
    struct reports r;

    git_repo();
    add_commits(3);
    guard_scan("HEAD", 1, &r);
    ck_assert_uint_eq(r.total[0], 4);
    ck_assert_uint_eq(last_done(&r), 4);
    git_repo_remove();
}
END_TEST

START_TEST(test_guard__no_reports_without_receiver)
{
    struct reports r;

    git_repo();
    guard_scan(NULL, 0, &r);
    ck_assert_uint_eq(r.count, 0);
    git_repo_remove();
}
END_TEST

static Suite *progress_suite(void)
{
    Suite *s = suite_create("progress");
    TCase *size = tcase_create("size");
    TCase *format = tcase_create("line");
    TCase *display = tcase_create("display");
    TCase *age = tcase_create("age");
    TCase *guard = tcase_create("guard");

    tcase_add_test(size, test_size__bytes_below_kib);
    tcase_add_test(size, test_size__one_decimal_below_ten);
    tcase_add_test(size, test_size__whole_units_from_ten);
    tcase_add_test(size, test_size__small_buffer_fails);
    suite_add_tcase(s, size);

    tcase_add_test(format, test_line__known_total_shows_percent_and_rate);
    tcase_add_test(format, test_line__unknown_total_has_no_percent);
    tcase_add_test(format, test_line__no_rate_before_time_passes);
    tcase_add_test(format, test_line__percent_stops_at_100);
    tcase_add_test(format, test_line__files_count_and_percent);
    tcase_add_test(format, test_line__single_file_is_singular);
    tcase_add_test(format, test_line__commits_count_and_percent);
    tcase_add_test(format, test_line__long_name_shortened_from_front);
    tcase_add_test(format, test_line__short_name_kept_whole);
    tcase_add_test(format, test_line__narrow_terminal_cuts_between_numbers);
    tcase_add_test(format, test_line__wide_terminal_keeps_every_field);
    tcase_add_test(format, test_line__narrow_terminal_drops_rate_first);
    tcase_add_test(format, test_line__narrow_terminal_drops_percent_next);
    tcase_add_test(format, test_line__control_characters_replaced);
    suite_add_tcase(s, format);

    tcase_add_test(display, test_allowed__quiet_hides_line);
    tcase_add_test(display, test_allowed__output_file_shows_line);
    tcase_add_test(display, test_receiver__none_without_terminal);
    tcase_add_test(display, test_receiver__draws_and_erases_on_terminal);
    tcase_add_test(display, test_receiver__silent_before_delay);
    tcase_add_test(display, test_receiver__quiet_on_terminal_draws_nothing);
    tcase_add_test(display, test_receiver__interrupt_erases_line);
    suite_add_tcase(s, display);

    tcase_add_test(age, test_age__encrypt_file_reports_to_total);
    tcase_add_test(age, test_age__encrypt_reports_once_per_step);
    tcase_add_test(age, test_age__armored_encrypt_counts_plaintext);
    tcase_add_test(age, test_age__encrypt_stream_total_unknown);
    tcase_add_test(age, test_age__decrypt_binary_file_reports_total);
    tcase_add_test(age, test_age__decrypt_armored_total_unknown);
    tcase_add_test(age, test_age__damaged_file_has_no_final_report);
    suite_add_tcase(s, age);

    tcase_add_test(guard, test_guard__tree_scan_counts_files);
    tcase_add_test(guard, test_guard__range_scan_counts_each_blob);
    tcase_add_test(guard, test_guard__no_reports_without_receiver);
    tcase_add_test(guard, test_guard__history_counts_commits_in_batches);
    tcase_add_test(guard, test_guard__history_silent_without_receiver);
    suite_add_tcase(s, guard);
    return s;
}

int main(void)
{
    struct rotarr_error init_err = ROTARR_ERROR_INIT;
    SRunner *runner;
    int failed;

    if (rotarr_secret_init(&init_err) < 0) {
        return 1;
    }
    runner = srunner_create(progress_suite());
    srunner_run_all(runner, CK_NORMAL);
    failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
