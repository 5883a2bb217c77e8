#include "rotarr/compat.h"

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <check.h>

#include "rotarr/age.h"
#include "rotarr/journal.h"
#include "rotarr/secret.h"

/*
 * A fresh stack directory for each test, inside one folder per run.  A
 * failing test exits its forked child before the checked teardown runs,
 * so the unchecked teardown, which runs in the parent, removes the
 * whole run folder.
 */
static char rundir[200];
static char stackdir[256];
static char journal_path[300];

static void make_rundir(void)
{
    const char *tmp = getenv("TMPDIR");
    int n = snprintf(rundir, sizeof(rundir), "%s/rotarr-journal-XXXXXX",
                     tmp != NULL ? tmp : "/tmp");

    ck_assert(n > 0 && (size_t)n < sizeof(rundir));
    ck_assert_ptr_nonnull(mkdtemp(rundir));
}

static void make_stackdir(void)
{
    int n = snprintf(stackdir, sizeof(stackdir), "%s/stack-XXXXXX", rundir);

    ck_assert(n > 0 && (size_t)n < sizeof(stackdir));
    ck_assert_ptr_nonnull(mkdtemp(stackdir));
    n = snprintf(journal_path, sizeof(journal_path), "%s/.rotarr/journal",
                 stackdir);
    ck_assert(n > 0 && (size_t)n < sizeof(journal_path));
}

static int remove_entry(const char *path, const struct stat *st, int flag,
                        struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void remove_stackdir(void)
{
    nftw(stackdir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void remove_rundir(void)
{
    nftw(rundir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static struct rotarr_secret *secret_from(const void *bytes, size_t len)
{
    struct rotarr_secret *secret = rotarr_secret_new(bytes, len, NULL);

    ck_assert_ptr_nonnull(secret);
    return secret;
}

/* Every byte value from 0x01 to 0xff, then a run of spaces. */
static struct rotarr_secret *every_byte_secret(void)
{
    unsigned char bytes[255 + 4];
    size_t i;

    for (i = 0; i < 255; i++) {
        bytes[i] = (unsigned char)(i + 1);
    }
    memcpy(bytes + 255, "    ", 4);
    return secret_from(bytes, sizeof(bytes));
}

static struct rotarr_journal *sample_journal(void)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_journal *j = rotarr_journal_new("postgres", &err);
    struct rotarr_secret *old_pw = secret_from(" old pass\n", 10);
    struct rotarr_secret *new_pw = every_byte_secret();

    ck_assert_ptr_nonnull(j);
    ck_assert_int_eq(rotarr_journal_set(j, "role", "app user", &err), 0);
    ck_assert_int_eq(rotarr_journal_set(j, "host", "127.0.0.1", &err), 0);
    ck_assert_int_eq(rotarr_journal_set(j, "files", ".env\tcompose.yaml%",
                                        &err), 0);
    ck_assert_int_eq(rotarr_journal_set(j, "empty", "", &err), 0);
    ck_assert_int_eq(rotarr_journal_set_secret(j, "old", old_pw, &err), 0);
    ck_assert_int_eq(rotarr_journal_set_secret(j, "new", new_pw, &err), 0);
    rotarr_journal_set_step(j, ROTARR_STEP_SET);
    rotarr_secret_free(old_pw);
    rotarr_secret_free(new_pw);
    return j;
}

static void save_sample(void)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_journal *j = sample_journal();

    ck_assert_msg(rotarr_journal_save(j, stackdir, &err) == 0, "%s",
                  err.msg);
    rotarr_journal_free(j);
}

static struct rotarr_journal *load_ok(void)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_journal *j = NULL;

    ck_assert_msg(rotarr_journal_load(stackdir, NULL, &j, &err) == 1, "%s",
                  err.msg);
    ck_assert_ptr_nonnull(j);
    return j;
}

/* Loads a journal that must be rejected, leaving the reason in err. */
static void load_fails(struct rotarr_error *err)
{
    struct rotarr_journal *j = NULL;

    ck_assert_int_eq(rotarr_journal_load(stackdir, NULL, &j, err), -1);
    ck_assert_ptr_null(j);
    ck_assert_int_eq(err->code, ROTARR_EFILE);
}

static char *read_file(const char *path, size_t *len)
{
    struct stat st;
    char *bytes;
    FILE *f = fopen(path, "rb");

    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fstat(fileno(f), &st), 0);
    bytes = malloc((size_t)st.st_size + 1);
    ck_assert_ptr_nonnull(bytes);
    *len = fread(bytes, 1, (size_t)st.st_size, f);
    ck_assert_uint_eq(*len, (size_t)st.st_size);
    bytes[*len] = '\0';
    fclose(f);
    return bytes;
}

static void write_file(const char *path, const char *bytes, size_t len)
{
    int fd = open(path, O_WRONLY | O_TRUNC | O_NOFOLLOW);

    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, bytes, len), (ssize_t)len);
    ck_assert_int_eq(close(fd), 0);
}

/*
 * Encrypted journals.  A keyring over one identity; make_key writes the
 * identity's recipient to STACKDIR/.rotarr/recipients when asked, and
 * returns identities holding the key.
 */
static const struct rotarr_age_identities *
fixed_identities(void *ctx, struct rotarr_error *err)
{
    (void)err;
    return ctx;
}

static struct rotarr_age_identities *make_key(int write_recipients)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_age_identities *ids = rotarr_age_identities_new(&err);
    char recipient[ROTARR_AGE_RECIPIENT_SIZE];
    char path[400];
    struct rotarr_secret *key = rotarr_age_keygen(0, recipient, &err);
    FILE *f;

    ck_assert_ptr_nonnull(ids);
    ck_assert_msg(key != NULL, "%s", err.msg);
    ck_assert_int_eq(rotarr_age_identities_add_text(
                         ids, rotarr_secret_data(key), rotarr_secret_len(key),
                         "key", &err),
                     0);
    rotarr_secret_free(key);
    if (write_recipients) {
        snprintf(path, sizeof(path), "%s/.rotarr", stackdir);
        ck_assert_int_eq(mkdir(path, 0700), 0);
        snprintf(path, sizeof(path), "%s/.rotarr/recipients", stackdir);
        f = fopen(path, "w");
        ck_assert_ptr_nonnull(f);
        fprintf(f, "%s\n", recipient);
        ck_assert_int_eq(fclose(f), 0);
    }
    return ids;
}

static int save_encrypted_sample(struct rotarr_error *err)
{
    struct rotarr_journal *j = sample_journal();
    int ret;

    rotarr_journal_set_encrypted(j, 1);
    ret = rotarr_journal_save(j, stackdir, err);
    rotarr_journal_free(j);
    return ret;
}

START_TEST(test_journal__encrypted_round_trip)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_age_identities *ids = make_key(1);
    struct rotarr_age_keyring keys = { fixed_identities, ids };
    struct rotarr_journal *j = NULL;
    char *bytes;
    size_t len;

    ck_assert_msg(save_encrypted_sample(&err) == 0, "%s", err.msg);
    bytes = read_file(journal_path, &len);
    ck_assert_int_eq(rotarr_age_is_encrypted(bytes, len), 1);
    ck_assert_ptr_null(memmem(bytes, len, "app%20user", 10));
    ck_assert_ptr_null(memmem(bytes, len, " old pass", 9));
    free(bytes);
    ck_assert_msg(rotarr_journal_load(stackdir, &keys, &j, &err) == 1, "%s",
                  err.msg);
    ck_assert_int_eq(rotarr_journal_encrypted(j), 1);
    ck_assert_str_eq(rotarr_journal_get(j, "role"), "app user");
    ck_assert_mem_eq(rotarr_secret_data(rotarr_journal_secret(j, "old")),
                     " old pass\n", 10);
    rotarr_journal_free(j);
    rotarr_age_identities_free(ids);
}
END_TEST

/* Twin: a journal not marked encrypted is plain text. */
START_TEST(test_journal__unmarked_journal_is_plain_text)
{
    struct rotarr_age_identities *ids = make_key(1);
    struct rotarr_journal *j;
    char *bytes;
    size_t len;

    save_sample();
    bytes = read_file(journal_path, &len);
    ck_assert_int_eq(rotarr_age_is_encrypted(bytes, len), 0);
    ck_assert_ptr_nonnull(memmem(bytes, len, "app%20user", 10));
    free(bytes);
    j = load_ok();
    ck_assert_int_eq(rotarr_journal_encrypted(j), 0);
    rotarr_journal_free(j);
    rotarr_age_identities_free(ids);
}
END_TEST

START_TEST(test_journal__encrypted_needs_keys)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_age_identities *ids = make_key(1);
    struct rotarr_journal *j = NULL;

    ck_assert_msg(save_encrypted_sample(&err) == 0, "%s", err.msg);
    ck_assert_int_eq(rotarr_journal_load(stackdir, NULL, &j, &err), -1);
    ck_assert_ptr_null(j);
    ck_assert_int_eq(err.code, ROTARR_EDECRYPT);
    ck_assert_ptr_nonnull(strstr(err.msg, "journal"));
    rotarr_age_identities_free(ids);
}
END_TEST

START_TEST(test_journal__encrypted_rejects_other_key)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_age_identities *ids = make_key(1);
    struct rotarr_age_identities *other = make_key(0);
    struct rotarr_age_keyring keys = { fixed_identities, other };
    struct rotarr_journal *j = NULL;

    ck_assert_msg(save_encrypted_sample(&err) == 0, "%s", err.msg);
    ck_assert_int_eq(rotarr_journal_load(stackdir, &keys, &j, &err), -1);
    ck_assert_ptr_null(j);
    ck_assert_int_eq(err.code, ROTARR_EDECRYPT);
    rotarr_age_identities_free(ids);
    rotarr_age_identities_free(other);
}
END_TEST

/* Without a recipients file nothing is written, not even plain text. */
START_TEST(test_journal__encrypted_save_needs_recipients)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct stat st;

    ck_assert_int_eq(save_encrypted_sample(&err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "recipients"));
    ck_assert_int_ne(stat(journal_path, &st), 0);
}
END_TEST

START_TEST(test_journal__round_trip_keeps_fields)
{
    struct rotarr_journal *j;

    save_sample();
    j = load_ok();
    ck_assert_str_eq(rotarr_journal_kind(j), "postgres");
    ck_assert_int_eq(rotarr_journal_step(j), ROTARR_STEP_SET);
    ck_assert_str_eq(rotarr_journal_get(j, "role"), "app user");
    ck_assert_str_eq(rotarr_journal_get(j, "host"), "127.0.0.1");
    ck_assert_str_eq(rotarr_journal_get(j, "files"), ".env\tcompose.yaml%");
    ck_assert_str_eq(rotarr_journal_get(j, "empty"), "");
    ck_assert_ptr_null(rotarr_journal_get(j, "port"));
    rotarr_journal_free(j);
}
END_TEST

START_TEST(test_journal__round_trip_keeps_every_byte)
{
    struct rotarr_secret *expected = every_byte_secret();
    struct rotarr_secret *old_pw = secret_from(" old pass\n", 10);
    struct rotarr_journal *j;

    save_sample();
    j = load_ok();
    ck_assert_ptr_nonnull(rotarr_journal_secret(j, "new"));
    ck_assert(rotarr_secret_equal(rotarr_journal_secret(j, "new"), expected));
    ck_assert(rotarr_secret_equal(rotarr_journal_secret(j, "old"), old_pw));
    ck_assert_ptr_null(rotarr_journal_secret(j, "admin"));
    rotarr_journal_free(j);
    rotarr_secret_free(expected);
    rotarr_secret_free(old_pw);
}
END_TEST

START_TEST(test_journal__round_trip_keeps_each_step)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_journal *j;
    int step;

    for (step = ROTARR_STEP_PENDING; step <= ROTARR_STEP_DONE; step++) {
        j = sample_journal();
        rotarr_journal_set_step(j, (enum rotarr_step)step);
        ck_assert_int_eq(rotarr_journal_save(j, stackdir, &err), 0);
        rotarr_journal_free(j);
        j = load_ok();
        ck_assert_int_eq(rotarr_journal_step(j), step);
        rotarr_journal_free(j);
    }
}
END_TEST

START_TEST(test_journal__encodes_known_text)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_journal *j = rotarr_journal_new("redis", &err);
    struct rotarr_secret *pw = secret_from("a%b c\0", 6);
    struct rotarr_secret *text;
    static const char body[] = "rotarr-journal 1\n"
                               "kind redis\n"
                               "step pending\n"
                               "field url redis://:x@db:6379/0%3Fa%26b\n"
                               "secret new a%25b%20c%00\n"
                               "sha256 ";

    ck_assert_int_eq(rotarr_journal_set(j, "url",
                                        "redis://:x@db:6379/0?a&b", &err), 0);
    ck_assert_int_eq(rotarr_journal_set_secret(j, "new", pw, &err), 0);
    text = rotarr_journal_encode(j, &err);
    ck_assert_ptr_nonnull(text);
    ck_assert_uint_eq(rotarr_secret_len(text), sizeof(body) - 1 + 65);
    ck_assert_int_eq(memcmp(rotarr_secret_data(text), body,
                            sizeof(body) - 1), 0);
    rotarr_secret_free(text);
    rotarr_secret_free(pw);
    rotarr_journal_free(j);
}
END_TEST

START_TEST(test_journal__file_is_0600_in_0700_dir)
{
    struct stat st;
    char dir[300];

    save_sample();
    ck_assert_int_eq(stat(journal_path, &st), 0);
    ck_assert_uint_eq(st.st_mode & 07777, 0600);
    snprintf(dir, sizeof(dir), "%s/.rotarr", stackdir);
    ck_assert_int_eq(stat(dir, &st), 0);
    ck_assert_uint_eq(st.st_mode & 07777, 0700);
}
END_TEST

START_TEST(test_journal__open_state_dir_is_tightened)
{
    struct stat st;
    char dir[300];

    snprintf(dir, sizeof(dir), "%s/.rotarr", stackdir);
    ck_assert_int_eq(mkdir(dir, 0755), 0);
    ck_assert_int_eq(chmod(dir, 0755), 0);
    save_sample();
    ck_assert_int_eq(stat(dir, &st), 0);
    ck_assert_uint_eq(st.st_mode & 07777, 0700);
}
END_TEST

START_TEST(test_journal__save_leaves_no_temp_file)
{
    struct dirent *entry;
    char dir[300];
    DIR *d;

    save_sample();
    save_sample();
    snprintf(dir, sizeof(dir), "%s/.rotarr", stackdir);
    d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    while ((entry = readdir(d)) != NULL) {
        ck_assert_msg(strcmp(entry->d_name, ".") == 0 ||
                          strcmp(entry->d_name, "..") == 0 ||
                          strcmp(entry->d_name, "journal") == 0,
                      "unexpected file '%s'", entry->d_name);
    }
    closedir(d);
}
END_TEST

START_TEST(test_journal__rejects_every_truncation)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_journal *j;
    size_t len;
    size_t cut;
    char *text;

    save_sample();
    text = read_file(journal_path, &len);
    for (cut = 0; cut < len; cut++) {
        j = rotarr_journal_decode(text, cut, "journal", &err);
        ck_assert_msg(j == NULL, "a journal cut at %zu bytes was accepted",
                      cut);
        ck_assert_int_eq(err.code, ROTARR_EFILE);
    }
    free(text);
}
END_TEST

START_TEST(test_journal__rejects_truncated_file)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    size_t len;
    char *text;

    save_sample();
    text = read_file(journal_path, &len);
    write_file(journal_path, text, len - 20);
    load_fails(&err);
    ck_assert_ptr_nonnull(strstr(err.msg, "is corrupt"));
    ck_assert_ptr_nonnull(strstr(err.msg, journal_path));
    ck_assert_ptr_nonnull(strstr(err.msg, "do not delete it"));
    free(text);
}
END_TEST

START_TEST(test_journal__rejects_every_edited_byte)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_journal *j;
    size_t len;
    size_t i;
    char *text;

    save_sample();
    text = read_file(journal_path, &len);
    for (i = 0; i < len; i++) {
        text[i] ^= 0x01;
        j = rotarr_journal_decode(text, len, "journal", &err);
        ck_assert_msg(j == NULL, "a change at byte %zu was accepted", i);
        text[i] ^= 0x01;
    }
    j = rotarr_journal_decode(text, len, "journal", &err);
    ck_assert_ptr_nonnull(j);
    rotarr_journal_free(j);
    free(text);
}
END_TEST

START_TEST(test_journal__rejects_edited_file)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    char *field;
    size_t len;
    char *text;

    save_sample();
    text = read_file(journal_path, &len);
    field = strstr(text, "field role app%20user");
    ck_assert_ptr_nonnull(field);
    field[strlen("field role ")] = 'b';
    write_file(journal_path, text, len);
    load_fails(&err);
    ck_assert_ptr_nonnull(strstr(err.msg, "checksum does not match"));
    free(text);
}
END_TEST

START_TEST(test_journal__rejects_newer_format)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    static const char text[] = "rotarr-journal 2\nkind postgres\n";

    ck_assert_ptr_null(rotarr_journal_decode(text, sizeof(text) - 1,
                                             "journal", &err));
    ck_assert_int_eq(err.code, ROTARR_EFILE);
    ck_assert_ptr_nonnull(strstr(err.msg, "has format 2"));
    ck_assert_ptr_nonnull(strstr(err.msg, "newer rotarr"));
}
END_TEST

START_TEST(test_journal__rejects_group_readable_file)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;

    save_sample();
    ck_assert_int_eq(chmod(journal_path, 0640), 0);
    load_fails(&err);
    ck_assert_ptr_nonnull(strstr(err.msg, "mode 0640"));
    ck_assert_ptr_nonnull(strstr(err.msg, "chmod 600"));
}
END_TEST

START_TEST(test_journal__rejects_symlinked_journal)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    char target[320];

    save_sample();
    snprintf(target, sizeof(target), "%s.real", journal_path);
    ck_assert_int_eq(rename(journal_path, target), 0);
    ck_assert_int_eq(symlink(target, journal_path), 0);
    load_fails(&err);
    ck_assert_ptr_nonnull(strstr(err.msg, "symlink"));
}
END_TEST

START_TEST(test_journal__rejects_symlinked_state_dir)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_journal *j = sample_journal();
    char link[300];

    snprintf(link, sizeof(link), "%s/.rotarr", stackdir);
    ck_assert_int_eq(symlink("/tmp", link), 0);
    ck_assert_int_eq(rotarr_journal_save(j, stackdir, &err), -1);
    ck_assert_int_eq(err.code, ROTARR_EFILE);
    ck_assert_ptr_nonnull(strstr(err.msg, "symlink"));
    rotarr_journal_free(j);
}
END_TEST

START_TEST(test_journal__load_without_journal_returns_0)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_journal *j = NULL;
    char dir[300];

    ck_assert_int_eq(rotarr_journal_load(stackdir, NULL, &j, &err), 0);
    ck_assert_ptr_null(j);
    snprintf(dir, sizeof(dir), "%s/.rotarr", stackdir);
    ck_assert_int_eq(mkdir(dir, 0700), 0);
    ck_assert_int_eq(rotarr_journal_load(stackdir, NULL, &j, &err), 0);
    ck_assert_ptr_null(j);
}
END_TEST

START_TEST(test_journal__remove_deletes_journal)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_journal *j = NULL;

    save_sample();
    ck_assert_int_eq(rotarr_journal_remove(stackdir, &err), 0);
    ck_assert_int_eq(access(journal_path, F_OK), -1);
    ck_assert_int_eq(rotarr_journal_load(stackdir, NULL, &j, &err), 0);
    ck_assert_int_eq(rotarr_journal_remove(stackdir, &err), 0);
}
END_TEST

START_TEST(test_journal__set_accepts_valid_key)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_journal *j = rotarr_journal_new("postgres", &err);

    ck_assert_int_eq(rotarr_journal_set(j, "env_file.0-a", "x", &err), 0);
    ck_assert_int_eq(rotarr_journal_set(j, "env_file.0-a", "y", &err), 0);
    ck_assert_str_eq(rotarr_journal_get(j, "env_file.0-a"), "y");
    rotarr_journal_free(j);
}
END_TEST

START_TEST(test_journal__set_rejects_invalid_key)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_journal *j = rotarr_journal_new("postgres", &err);
    static const char *const keys[] = { "", "Role", "a b", "a\nb", "é" };
    size_t i;

    for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        ck_assert_int_eq(rotarr_journal_set(j, keys[i], "x", &err), -1);
        ck_assert_int_eq(err.code, ROTARR_EUSAGE);
    }
    ck_assert_ptr_null(rotarr_journal_new("Postgres SQL", &err));
    rotarr_journal_free(j);
}
END_TEST

START_TEST(test_lock__second_acquire_fails_with_pid)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_lock *first = rotarr_lock_acquire(stackdir, &err);
    struct rotarr_lock *second;
    char pid[32];

    ck_assert_msg(first != NULL, "%s", err.msg);
    second = rotarr_lock_acquire(stackdir, &err);
    ck_assert_ptr_null(second);
    ck_assert_int_eq(err.code, ROTARR_EFILE);
    ck_assert_ptr_nonnull(strstr(err.msg, "another rotarr is working on"));
    snprintf(pid, sizeof(pid), "held by pid %ld)", (long)getpid());
    ck_assert_msg(strstr(err.msg, pid) != NULL, "%s", err.msg);
    rotarr_lock_release(first);
}
END_TEST

START_TEST(test_lock__release_lets_next_acquire)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_lock *first = rotarr_lock_acquire(stackdir, &err);
    struct rotarr_lock *second;

    ck_assert_ptr_nonnull(first);
    rotarr_lock_release(first);
    second = rotarr_lock_acquire(stackdir, &err);
    ck_assert_msg(second != NULL, "%s", err.msg);
    rotarr_lock_release(second);
    rotarr_lock_release(NULL);
}
END_TEST

static Suite *journal_suite(void)
{
    Suite *s = suite_create("journal");
    TCase *tc = tcase_create("journal");

    tcase_add_unchecked_fixture(tc, make_rundir, remove_rundir);
    tcase_add_checked_fixture(tc, make_stackdir, remove_stackdir);
    tcase_add_test(tc, test_journal__round_trip_keeps_fields);
    tcase_add_test(tc, test_journal__round_trip_keeps_every_byte);
    tcase_add_test(tc, test_journal__round_trip_keeps_each_step);
    tcase_add_test(tc, test_journal__encodes_known_text);
    tcase_add_test(tc, test_journal__encrypted_round_trip);
    tcase_add_test(tc, test_journal__unmarked_journal_is_plain_text);
    tcase_add_test(tc, test_journal__encrypted_needs_keys);
    tcase_add_test(tc, test_journal__encrypted_rejects_other_key);
    tcase_add_test(tc, test_journal__encrypted_save_needs_recipients);
    tcase_add_test(tc, test_journal__file_is_0600_in_0700_dir);
    tcase_add_test(tc, test_journal__open_state_dir_is_tightened);
    tcase_add_test(tc, test_journal__save_leaves_no_temp_file);
    tcase_add_test(tc, test_journal__rejects_every_truncation);
    tcase_add_test(tc, test_journal__rejects_truncated_file);
    tcase_add_test(tc, test_journal__rejects_every_edited_byte);
    tcase_add_test(tc, test_journal__rejects_edited_file);
    tcase_add_test(tc, test_journal__rejects_newer_format);
    tcase_add_test(tc, test_journal__rejects_group_readable_file);
    tcase_add_test(tc, test_journal__rejects_symlinked_journal);
    tcase_add_test(tc, test_journal__rejects_symlinked_state_dir);
    tcase_add_test(tc, test_journal__load_without_journal_returns_0);
    tcase_add_test(tc, test_journal__remove_deletes_journal);
    tcase_add_test(tc, test_journal__set_accepts_valid_key);
    tcase_add_test(tc, test_journal__set_rejects_invalid_key);
    tcase_add_test(tc, test_lock__second_acquire_fails_with_pid);
    tcase_add_test(tc, test_lock__release_lets_next_acquire);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *runner = srunner_create(journal_suite());
    int failed;

    if (rotarr_secret_init(NULL) != 0) {
        return 1;
    }
    srunner_run_all(runner, CK_NORMAL);
    failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? 0 : 1;
}
