/*
 * Unit tests of the schedule helpers (rotarr/schedule.h) that need no
 * stack: durations, the lock of 'rotarr rotate' and the kind names.
 * Listing the secrets of a stack is tested end to end in
 * tests/integration/test_rotate.sh.
 */
#include "rotarr/compat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "rotarr/schedule.h"
#include "rotarr/secret.h"

static long parse_ok(const char *text)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    long seconds = -1;

    ck_assert_int_eq(rotarr_parse_duration(text, &seconds, &err), 0);
    return seconds;
}

static void parse_rejected(const char *text)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    long seconds = -1;

    ck_assert_int_eq(rotarr_parse_duration(text, &seconds, &err), -1);
    ck_assert_int_eq(err.code, ROTARR_EUSAGE);
    ck_assert_ptr_nonnull(strstr(err.msg, text));
    ck_assert_int_eq(seconds, -1);
}

START_TEST(test_schedule__duration_accepts_units)
{
    ck_assert_int_eq(parse_ok("90d"), 90L * 86400L);
    ck_assert_int_eq(parse_ok("90"), 90L * 86400L);
    ck_assert_int_eq(parse_ok("12h"), 12L * 3600L);
    ck_assert_int_eq(parse_ok("2w"), 14L * 86400L);
    ck_assert_int_eq(parse_ok("30m"), 1800L);
    ck_assert_int_eq(parse_ok("3600s"), 3600L);
    ck_assert_int_eq(parse_ok("36500d"), ROTARR_SCHEDULE_MAX_AGE_LIMIT);
}
END_TEST

START_TEST(test_schedule__duration_rejects_bad_text)
{
    parse_rejected("0d");
    parse_rejected("-5d");
    parse_rejected("d");
    parse_rejected("");
    parse_rejected("5y");
    parse_rejected("5 d");
    parse_rejected("5dd");
    parse_rejected("36501d");
    parse_rejected("99999999999999999999");
}
END_TEST

START_TEST(test_schedule__kind_names)
{
    ck_assert_str_eq(rotarr_managed_kind_name(ROTARR_MANAGED_POSTGRES),
                     "postgres");
    ck_assert_str_eq(rotarr_managed_kind_name(ROTARR_MANAGED_REDIS),
                     "redis");
}
END_TEST

static char *make_stack_dir(void)
{
    char *dir = strdup("/tmp/rotarr-schedule-test.XXXXXX");

    ck_assert_ptr_nonnull(dir);
    ck_assert_ptr_nonnull(mkdtemp(dir));
    return dir;
}

static void remove_stack_dir(char *dir)
{
    char path[256];

    snprintf(path, sizeof(path), "%s/.rotarr/rotate.lock", dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/.rotarr", dir);
    rmdir(path);
    rmdir(dir);
    free(dir);
}

START_TEST(test_schedule__lock_is_taken_once)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    char *dir = make_stack_dir();
    struct rotarr_schedule_lock *first;
    struct rotarr_schedule_lock *second;

    first = rotarr_schedule_lock_acquire(dir, &err);
    ck_assert_ptr_nonnull(first);
    second = rotarr_schedule_lock_acquire(dir, &err);
    ck_assert_ptr_null(second);
    ck_assert_int_eq(err.code, ROTARR_EFILE);
    ck_assert_ptr_nonnull(strstr(err.msg, "another 'rotarr rotate'"));
    rotarr_schedule_lock_release(first);
    remove_stack_dir(dir);
}
END_TEST

START_TEST(test_schedule__lock_is_free_after_release)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    char *dir = make_stack_dir();
    struct rotarr_schedule_lock *lock;

    lock = rotarr_schedule_lock_acquire(dir, &err);
    ck_assert_ptr_nonnull(lock);
    rotarr_schedule_lock_release(lock);
    lock = rotarr_schedule_lock_acquire(dir, &err);
    ck_assert_ptr_nonnull(lock);
    rotarr_schedule_lock_release(lock);
    rotarr_schedule_lock_release(NULL);
    remove_stack_dir(dir);
}
END_TEST

static Suite *schedule_suite(void)
{
    Suite *suite = suite_create("schedule");
    TCase *tc = tcase_create("schedule");

    tcase_add_test(tc, test_schedule__duration_accepts_units);
    tcase_add_test(tc, test_schedule__duration_rejects_bad_text);
    tcase_add_test(tc, test_schedule__kind_names);
    tcase_add_test(tc, test_schedule__lock_is_taken_once);
    tcase_add_test(tc, test_schedule__lock_is_free_after_release);
    suite_add_tcase(suite, tc);
    return suite;
}

int main(void)
{
    SRunner *runner = srunner_create(schedule_suite());
    int failed;

    if (rotarr_secret_init(NULL) != 0) {
        return 1;
    }
    srunner_run_all(runner, CK_NORMAL);
    failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? 0 : 1;
}
