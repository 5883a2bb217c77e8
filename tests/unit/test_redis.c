#include "rotarr/compat.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <check.h>

#include "rotarr/redis.h"
#include "rotarr/secret.h"

/*
 * Each test gets its own redis-server on a free loopback port, started
 * in a temporary folder and killed in the teardown, so that tests that
 * change the password cannot disturb one another or the shared server
 * of scripts/services.
 */

static char server_dir[64];
static int server_port;
static pid_t server_pid;

/* Asks the kernel for a free loopback port. */
static int free_port(void)
{
    struct sockaddr_in addr;
    socklen_t len = sizeof(addr);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int port;

    ck_assert_int_ge(fd, 0);
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&addr, &len), 0);
    port = ntohs(addr.sin_port);
    close(fd);
    return port;
}

static struct rotarr_redis_target target(void)
{
    struct rotarr_redis_target t = { "127.0.0.1", server_port, 5 };

    return t;
}

static void wait_ready(void)
{
    struct rotarr_redis_target t = target();
    int tries;

    for (tries = 0; tries < 200; tries++) {
        if (rotarr_redis_probe(&t, NULL) >= 0) {
            return;
        }
        usleep(20000);
    }
    ck_abort_msg("redis-server on port %d did not start", server_port);
}

/* Sends the server's log lines to /dev/null. */
static void quiet_output(void)
{
    FILE *null = fopen("/dev/null", "w");

    if (null != NULL) {
        dup2(fileno(null), STDOUT_FILENO);
        dup2(fileno(null), STDERR_FILENO);
    }
}

static void start_server(void)
{
    char port[16];

    snprintf(server_dir, sizeof(server_dir), "/tmp/rotarr-redis.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(server_dir));
    server_port = free_port();
    snprintf(port, sizeof(port), "%d", server_port);
    server_pid = fork();
    ck_assert_int_ge(server_pid, 0);
    if (server_pid == 0) {
        /* A failed test ends the test process without its teardown; the
         * server must not outlive it. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        quiet_output();
        execlp("redis-server", "redis-server", "--port", port, "--bind",
               "127.0.0.1", "--save", "", "--appendonly", "no", "--dir",
               server_dir, "--logfile", "", (char *)NULL);
        _exit(127);
    }
    wait_ready();
}

static void stop_server(void)
{
    char command[128];

    if (server_pid > 0) {
        kill(server_pid, SIGKILL);
        waitpid(server_pid, NULL, 0);
        server_pid = 0;
    }
    snprintf(command, sizeof(command), "rm -rf '%s'", server_dir);
    if (system(command) != 0) {
        fprintf(stderr, "could not remove %s\n", server_dir);
    }
}

static struct rotarr_secret *secret_from(const char *text)
{
    struct rotarr_secret *s = rotarr_secret_new(text, strlen(text), NULL);

    ck_assert_ptr_nonnull(s);
    return s;
}

static struct rotarr_redis *connect_ok(const struct rotarr_secret *pw)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_redis_target t = target();
    struct rotarr_redis *r = rotarr_redis_connect(&t, pw, &err);

    ck_assert_msg(r != NULL, "%s", err.msg);
    return r;
}

/* Protects the server with pw through CONFIG SET. */
static void protect(const char *pw)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_secret *s = secret_from(pw);
    struct rotarr_redis *r = connect_ok(NULL);

    ck_assert_msg(rotarr_redis_set_requirepass(r, s, &err) == 0, "%s",
                  err.msg);
    rotarr_redis_close(r);
    rotarr_secret_free(s);
}

static int auth_works(const char *pw)
{
    struct rotarr_secret *s = secret_from(pw);
    struct rotarr_redis_target t = target();
    int ok = rotarr_redis_try_auth(&t, s, NULL);

    rotarr_secret_free(s);
    return ok;
}

START_TEST(test_redis__probe_open_server)
{
    struct rotarr_redis_target t = target();

    ck_assert_int_eq(rotarr_redis_probe(&t, NULL), ROTARR_REDIS_OPEN);
}
END_TEST

START_TEST(test_redis__probe_protected_server)
{
    struct rotarr_redis_target t = target();

    protect("probePassw0rd");
    ck_assert_int_eq(rotarr_redis_probe(&t, NULL), ROTARR_REDIS_PROTECTED);
}
END_TEST

START_TEST(test_redis__closed_port_is_unreachable)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_redis_target t = { "127.0.0.1", free_port(), 2 };

    ck_assert_int_eq(rotarr_redis_probe(&t, &err), -1);
    ck_assert_int_eq(err.code, ROTARR_EUNREACHABLE);
}
END_TEST

START_TEST(test_redis__socket_host_is_rejected)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_redis_target t = { "/tmp/redis.sock", 6379, 2 };

    ck_assert_ptr_null(rotarr_redis_connect(&t, NULL, &err));
    ck_assert_int_eq(err.code, ROTARR_EUSAGE);
}
END_TEST

START_TEST(test_redis__right_password_authenticates)
{
    protect("rightPassw0rd");
    ck_assert_int_eq(auth_works("rightPassw0rd"), 1);
}
END_TEST

START_TEST(test_redis__wrong_password_is_eauth)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_secret *s = secret_from("wrongPassw0rd");
    struct rotarr_redis_target t = target();

    protect("rightPassw0rd");
    ck_assert_ptr_null(rotarr_redis_connect(&t, s, &err));
    ck_assert_int_eq(err.code, ROTARR_EAUTH);
    ck_assert_ptr_null(strstr(err.msg, "wrongPassw0rd"));
    rotarr_secret_free(s);
}
END_TEST

START_TEST(test_redis__password_on_open_server_is_refused)
{
    ck_assert_int_eq(auth_works("anyPassw0rd"), 0);
}
END_TEST

START_TEST(test_redis__added_password_keeps_the_old)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_secret *old = secret_from("oldPassw0rd");
    struct rotarr_secret *next = secret_from("newPassw0rd");
    struct rotarr_redis *r;

    protect("oldPassw0rd");
    r = connect_ok(old);
    ck_assert_msg(rotarr_redis_add_password(r, next, &err) == 0, "%s",
                  err.msg);
    ck_assert_int_eq(auth_works("oldPassw0rd"), 1);
    ck_assert_int_eq(auth_works("newPassw0rd"), 1);
    ck_assert_int_eq(rotarr_redis_password_count(r, &err), 2);
    rotarr_redis_close(r);
    rotarr_secret_free(old);
    rotarr_secret_free(next);
}
END_TEST

START_TEST(test_redis__removed_password_stops_working)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_secret *old = secret_from("oldPassw0rd");
    struct rotarr_secret *next = secret_from("newPassw0rd");
    struct rotarr_redis *r;

    protect("oldPassw0rd");
    r = connect_ok(old);
    ck_assert_int_eq(rotarr_redis_add_password(r, next, &err), 0);
    ck_assert_msg(rotarr_redis_remove_password(r, old, &err) == 0, "%s",
                  err.msg);
    ck_assert_int_eq(auth_works("oldPassw0rd"), 0);
    ck_assert_int_eq(auth_works("newPassw0rd"), 1);
    ck_assert_int_eq(rotarr_redis_password_count(r, &err), 1);
    rotarr_redis_close(r);
    rotarr_secret_free(old);
    rotarr_secret_free(next);
}
END_TEST

START_TEST(test_redis__requirepass_drops_other_passwords)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_secret *old = secret_from("oldPassw0rd");
    struct rotarr_secret *next = secret_from("newPassw0rd");
    struct rotarr_redis *r;

    protect("oldPassw0rd");
    r = connect_ok(old);
    ck_assert_int_eq(rotarr_redis_add_password(r, next, &err), 0);
    ck_assert_int_eq(rotarr_redis_set_requirepass(r, next, &err), 0);
    ck_assert_int_eq(auth_works("oldPassw0rd"), 0);
    ck_assert_int_eq(rotarr_redis_password_count(r, &err), 1);
    rotarr_redis_close(r);
    rotarr_secret_free(old);
    rotarr_secret_free(next);
}
END_TEST

START_TEST(test_redis__empty_requirepass_opens_server)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_secret *old = secret_from("oldPassw0rd");
    struct rotarr_secret *empty = rotarr_secret_new("", 0, NULL);
    struct rotarr_redis_target t = target();
    struct rotarr_redis *r;

    protect("oldPassw0rd");
    r = connect_ok(old);
    ck_assert_int_eq(rotarr_redis_set_requirepass(r, empty, &err), 0);
    ck_assert_int_eq(rotarr_redis_probe(&t, &err), ROTARR_REDIS_OPEN);
    rotarr_redis_close(r);
    rotarr_secret_free(old);
    rotarr_secret_free(empty);
}
END_TEST

START_TEST(test_redis__authenticated_connection_survives_change)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_secret *old = secret_from("oldPassw0rd");
    struct rotarr_secret *next = secret_from("newPassw0rd");
    struct rotarr_redis *before;
    struct rotarr_redis *admin;

    protect("oldPassw0rd");
    before = connect_ok(old);
    admin = connect_ok(old);
    ck_assert_int_eq(rotarr_redis_set_requirepass(admin, next, &err), 0);
    ck_assert_msg(rotarr_redis_ping(before, &err) == 0, "%s", err.msg);
    rotarr_redis_close(before);
    rotarr_redis_close(admin);
    rotarr_secret_free(old);
    rotarr_secret_free(next);
}
END_TEST

START_TEST(test_redis__unauthenticated_ping_is_eauth)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_redis *r;

    protect("pingPassw0rd");
    r = connect_ok(NULL);
    ck_assert_int_eq(rotarr_redis_ping(r, &err), -1);
    ck_assert_int_eq(err.code, ROTARR_EAUTH);
    rotarr_redis_close(r);
}
END_TEST

START_TEST(test_redis__password_with_spaces_and_quotes)
{
    const char *tricky = "it's \"a\" pass word >x <y #1 %41";
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_secret *s = secret_from(tricky);
    struct rotarr_redis *r = connect_ok(NULL);

    ck_assert_msg(rotarr_redis_set_requirepass(r, s, &err) == 0, "%s",
                  err.msg);
    ck_assert_int_eq(auth_works(tricky), 1);
    ck_assert_int_eq(auth_works("it's"), 0);
    rotarr_redis_close(r);
    rotarr_secret_free(s);
}
END_TEST

START_TEST(test_redis__info_reads_version)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_redis_info info;
    struct rotarr_redis *r = connect_ok(NULL);

    ck_assert_msg(rotarr_redis_server_info(r, &info, &err) == 0, "%s",
                  err.msg);
    ck_assert_int_ge(info.major, 5);
    ck_assert_int_eq(info.has_config_file, 0);
    rotarr_redis_close(r);
}
END_TEST

START_TEST(test_redis__rewrite_without_config_file_fails)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_redis *r = connect_ok(NULL);

    ck_assert_int_eq(rotarr_redis_config_rewrite(r, &err), -1);
    ck_assert_int_eq(err.code, ROTARR_EUSAGE);
    rotarr_redis_close(r);
}
END_TEST

static Suite *redis_suite(void)
{
    Suite *s = suite_create("redis");
    TCase *tc = tcase_create("redis");

    tcase_add_checked_fixture(tc, start_server, stop_server);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_redis__probe_open_server);
    tcase_add_test(tc, test_redis__probe_protected_server);
    tcase_add_test(tc, test_redis__closed_port_is_unreachable);
    tcase_add_test(tc, test_redis__socket_host_is_rejected);
    tcase_add_test(tc, test_redis__right_password_authenticates);
    tcase_add_test(tc, test_redis__wrong_password_is_eauth);
    tcase_add_test(tc, test_redis__password_on_open_server_is_refused);
    tcase_add_test(tc, test_redis__added_password_keeps_the_old);
    tcase_add_test(tc, test_redis__removed_password_stops_working);
    tcase_add_test(tc, test_redis__requirepass_drops_other_passwords);
    tcase_add_test(tc, test_redis__empty_requirepass_opens_server);
    tcase_add_test(tc, test_redis__authenticated_connection_survives_change);
    tcase_add_test(tc, test_redis__unauthenticated_ping_is_eauth);
    tcase_add_test(tc, test_redis__password_with_spaces_and_quotes);
    tcase_add_test(tc, test_redis__info_reads_version);
    tcase_add_test(tc, test_redis__rewrite_without_config_file_fails);
    suite_add_tcase(s, tc);
    return s;
}

/* Returns 1 when redis-server can be run. */
static int have_redis_server(void)
{
    return system("redis-server --version >/dev/null 2>&1") == 0;
}

int main(void)
{
    SRunner *runner;
    int failed;

    if (rotarr_secret_init(NULL) < 0) {
        return 1;
    }
    if (!have_redis_server()) {
        const char *ci = getenv("CI");

        fprintf(stderr, "redis-server is not installed\n");
        return ci != NULL && strcmp(ci, "true") == 0 ? 1 : 77;
    }
    runner = srunner_create(redis_suite());
    srunner_run_all(runner, CK_NORMAL);
    failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? 0 : 1;
}
