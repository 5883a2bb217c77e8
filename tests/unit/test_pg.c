#include "rotarr/compat.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <check.h>
#include <sodium.h>

#include "rotarr/pg.h"
#include "rotarr/secret.h"

/*
 * Runs against the throw-away server of scripts/services, found through
 * ROTARR_PGHOST, ROTARR_PGPORT, ROTARR_PGUSER, ROTARR_PGPASSFILE and
 * ROTARR_PGLOG.  Every test recreates the roles it uses.
 */

#define PASSFILE_MAX 256

/* A password with every character that breaks naive quoting. */
#define TRICKY_PASSWORD "it's \\ $HOME #1 @x:y/z %41 end"

static const char *pg_host;
static int pg_port;
static const char *pg_user;
static const char *pg_log;
static struct rotarr_secret *superuser_password;

static struct rotarr_pg_target target_for(const char *user)
{
    struct rotarr_pg_target t = { pg_host, pg_port, "postgres", user, NULL,
                                  5 };

    return t;
}

static struct rotarr_secret *secret_from(const char *text)
{
    struct rotarr_secret *secret = rotarr_secret_new(text, strlen(text),
                                                     NULL);

    ck_assert_ptr_nonnull(secret);
    return secret;
}

static struct rotarr_pg *connect_ok(const char *user,
                                    const struct rotarr_secret *password)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_pg_target t = target_for(user);
    struct rotarr_pg *pg = rotarr_pg_connect(&t, password, &err);

    ck_assert_msg(pg != NULL, "%s", err.msg);
    return pg;
}

static struct rotarr_pg *connect_admin(void)
{
    return connect_ok(pg_user, superuser_password);
}

static void exec_ok(struct rotarr_pg *pg, const char *sql)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;

    ck_assert_msg(rotarr_pg_exec(pg, sql, &err) == 0, "%s: %s", sql,
                  err.msg);
}

/* Drops and creates a login role; quoted is its quoted identifier. */
static void make_role(struct rotarr_pg *admin, const char *quoted)
{
    char sql[256];

    snprintf(sql, sizeof(sql), "DROP ROLE IF EXISTS %s", quoted);
    exec_ok(admin, sql);
    snprintf(sql, sizeof(sql), "CREATE ROLE %s LOGIN", quoted);
    exec_ok(admin, sql);
}

static void set_ok(struct rotarr_pg *pg, const char *role,
                   const struct rotarr_secret *password)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;

    ck_assert_msg(rotarr_pg_set_password(pg, role, password, &err) == 0,
                  "%s", err.msg);
}

static int try_login(const char *user, const struct rotarr_secret *password,
                     struct rotarr_error *err)
{
    struct rotarr_pg_target t = target_for(user);

    return rotarr_pg_try_login(&t, password, err);
}

static int password_kind(const char *role)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_pg *admin = connect_admin();
    int kind = rotarr_pg_password_kind(admin, role, &err);

    ck_assert_msg(kind >= 0, "%s", err.msg);
    rotarr_pg_close(admin);
    return kind;
}

/* Returns a port on 127.0.0.1 that nothing listens on. */
static int closed_port(void)
{
    struct sockaddr_in addr;
    socklen_t len = sizeof(addr);
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    ck_assert_int_ge(fd, 0);
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&addr, &len), 0);
    close(fd);
    return ntohs(addr.sin_port);
}

START_TEST(test_pg__set_password_then_login)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_secret *pw = secret_from(TRICKY_PASSWORD);
    struct rotarr_pg *admin = connect_admin();

    make_role(admin, "\"app-user\"");
    set_ok(admin, "app-user", pw);
    ck_assert_msg(try_login("app-user", pw, &err) == 1, "%s", err.msg);
    rotarr_pg_close(admin);
    rotarr_secret_free(pw);
}
END_TEST

START_TEST(test_pg__old_password_refused_after_set)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_secret *old_pw = secret_from("first password 1");
    struct rotarr_secret *new_pw = secret_from(TRICKY_PASSWORD);
    struct rotarr_pg *admin = connect_admin();

    make_role(admin, "\"app-user\"");
    set_ok(admin, "app-user", old_pw);
    set_ok(admin, "app-user", new_pw);
    ck_assert_int_eq(try_login("app-user", old_pw, &err), 0);
    ck_assert_int_eq(err.code, ROTARR_EAUTH);
    ck_assert_ptr_null(strstr(err.msg, "first password"));
    rotarr_pg_close(admin);
    rotarr_secret_free(old_pw);
    rotarr_secret_free(new_pw);
}
END_TEST

START_TEST(test_pg__quoted_role_name_works)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_secret *pw = secret_from(TRICKY_PASSWORD);
    struct rotarr_pg *admin = connect_admin();
    struct rotarr_pg *self;

    make_role(admin, "\"Mixed\"\"Quote\"");
    set_ok(admin, "Mixed\"Quote", pw);
    ck_assert_msg(try_login("Mixed\"Quote", pw, &err) == 1, "%s", err.msg);
    self = connect_ok("Mixed\"Quote", pw);
    ck_assert_str_eq(rotarr_pg_current_user(self), "Mixed\"Quote");
    rotarr_pg_close(self);
    rotarr_pg_close(admin);
    rotarr_secret_free(pw);
}
END_TEST

START_TEST(test_pg__quoted_role_rejects_wrong_password)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_secret *pw = secret_from(TRICKY_PASSWORD);
    struct rotarr_secret *wrong = secret_from("not the password");
    struct rotarr_pg *admin = connect_admin();

    make_role(admin, "\"Mixed\"\"Quote\"");
    set_ok(admin, "Mixed\"Quote", pw);
    ck_assert_int_eq(try_login("Mixed\"Quote", wrong, &err), 0);
    ck_assert_int_eq(err.code, ROTARR_EAUTH);
    rotarr_pg_close(admin);
    rotarr_secret_free(pw);
    rotarr_secret_free(wrong);
}
END_TEST

START_TEST(test_pg__closed_port_is_unreachable)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_pg_target t = target_for(pg_user);

    t.port = closed_port();
    ck_assert_int_eq(rotarr_pg_try_login(&t, superuser_password, &err), -1);
    ck_assert_int_eq(err.code, ROTARR_EUNREACHABLE);
    ck_assert_ptr_nonnull(strstr(err.msg, "cannot connect to '127.0.0.1:"));
    ck_assert_ptr_null(rotarr_pg_connect(&t, superuser_password, &err));
    ck_assert_int_eq(err.code, ROTARR_EUNREACHABLE);
}
END_TEST

START_TEST(test_pg__wrong_password_is_eauth)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_pg_target t = target_for(pg_user);
    struct rotarr_secret *wrong = secret_from("wrong-superuser-pass");

    ck_assert_ptr_null(rotarr_pg_connect(&t, wrong, &err));
    ck_assert_int_eq(err.code, ROTARR_EAUTH);
    ck_assert_ptr_nonnull(strstr(err.msg, "password authentication failed"));
    ck_assert_ptr_nonnull(strstr(err.msg, pg_user));
    ck_assert_ptr_null(strstr(err.msg, "wrong-superuser-pass"));
    rotarr_secret_free(wrong);
}
END_TEST

START_TEST(test_pg__missing_password_is_eauth)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_pg_target t = target_for(pg_user);

    ck_assert_ptr_null(rotarr_pg_connect(&t, NULL, &err));
    ck_assert_int_eq(err.code, ROTARR_EAUTH);
}
END_TEST

START_TEST(test_pg__missing_database_is_not_eauth)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_pg_target t = target_for(pg_user);

    t.dbname = "no_such_database";
    ck_assert_int_eq(rotarr_pg_try_login(&t, superuser_password, &err), -1);
    ck_assert_int_eq(err.code, ROTARR_EUSAGE);
    ck_assert_ptr_nonnull(strstr(err.msg, "no database 'no_such_database'"));
}
END_TEST

START_TEST(test_pg__socket_host_is_rejected)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_pg_target t = target_for(pg_user);

    t.host = "/var/run/postgresql";
    ck_assert_ptr_null(rotarr_pg_connect(&t, superuser_password, &err));
    ck_assert_int_eq(err.code, ROTARR_EUSAGE);
    ck_assert_ptr_nonnull(strstr(err.msg, "socket path"));
}
END_TEST

START_TEST(test_pg__scram_stored_despite_md5_session)
{
    struct rotarr_secret *pw = secret_from(TRICKY_PASSWORD);
    struct rotarr_pg *admin = connect_admin();

    make_role(admin, "\"app-user\"");
    exec_ok(admin, "SET password_encryption = 'md5'");
    set_ok(admin, "app-user", pw);
    ck_assert_int_eq(password_kind("app-user"), ROTARR_PG_PASSWORD_SCRAM);
    rotarr_pg_close(admin);
    rotarr_secret_free(pw);
}
END_TEST

START_TEST(test_pg__scram_stored_despite_md5_role_setting)
{
    struct rotarr_secret *first = secret_from("first password 1");
    struct rotarr_secret *pw = secret_from(TRICKY_PASSWORD);
    struct rotarr_pg *admin = connect_admin();
    struct rotarr_pg *self;

    make_role(admin, "\"app-user\"");
    exec_ok(admin, "ALTER ROLE \"app-user\" SET password_encryption = 'md5'");
    set_ok(admin, "app-user", first);
    self = connect_ok("app-user", first);
    set_ok(self, "app-user", pw);
    ck_assert_int_eq(password_kind("app-user"), ROTARR_PG_PASSWORD_SCRAM);
    rotarr_pg_close(self);
    rotarr_pg_close(admin);
    rotarr_secret_free(first);
    rotarr_secret_free(pw);
}
END_TEST

START_TEST(test_pg__md5_password_is_detected)
{
    struct rotarr_pg *admin = connect_admin();

    make_role(admin, "\"app-user\"");
    exec_ok(admin, "SET password_encryption = 'md5'");
    exec_ok(admin, "ALTER ROLE \"app-user\" PASSWORD 'md5 test value'");
    ck_assert_int_eq(password_kind("app-user"), ROTARR_PG_PASSWORD_MD5);
    rotarr_pg_close(admin);
}
END_TEST

START_TEST(test_pg__no_password_is_other)
{
    struct rotarr_pg *admin = connect_admin();

    make_role(admin, "\"app-user\"");
    ck_assert_int_eq(password_kind("app-user"), ROTARR_PG_PASSWORD_OTHER);
    rotarr_pg_close(admin);
}
END_TEST

/* Reads the whole server log; it grows, so it is read after the act. */
static char *read_log(size_t *len)
{
    FILE *f = fopen(pg_log, "rb");
    char *text;
    long size;

    ck_assert_msg(f != NULL, "cannot open '%s'", pg_log);
    ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
    size = ftell(f);
    ck_assert_int_ge(size, 0);
    rewind(f);
    text = malloc((size_t)size + 1);
    ck_assert_ptr_nonnull(text);
    *len = fread(text, 1, (size_t)size, f);
    text[*len] = '\0';
    fclose(f);
    return text;
}

START_TEST(test_pg__server_log_lacks_plaintext)
{
    unsigned char random[12];
    char unique[64];
    char hex[sizeof(random) * 2 + 1];
    struct rotarr_secret *pw;
    struct rotarr_pg *admin = connect_admin();
    size_t len;
    char *log;

    randombytes_buf(random, sizeof(random));
    sodium_bin2hex(hex, sizeof(hex), random, sizeof(random));
    snprintf(unique, sizeof(unique), "log %s '$#", hex);
    pw = secret_from(unique);
    make_role(admin, "\"app-user\"");
    set_ok(admin, "app-user", pw);
    log = read_log(&len);
    ck_assert_ptr_nonnull(strstr(log, "ALTER ROLE \"app-user\" PASSWORD "
                                      "'SCRAM-SHA-256$4096:"));
    ck_assert_ptr_null(memmem(log, len, hex, strlen(hex)));
    free(log);
    rotarr_pg_close(admin);
    rotarr_secret_free(pw);
}
END_TEST

/* Makes "plain", a login role without CREATEROLE, and connects as it. */
static struct rotarr_pg *connect_plain(struct rotarr_pg *admin,
                                       const struct rotarr_secret *pw)
{
    make_role(admin, "plain");
    set_ok(admin, "plain", pw);
    return connect_ok("plain", pw);
}

START_TEST(test_pg__plain_role_cannot_change_other)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_secret *pw = secret_from(TRICKY_PASSWORD);
    struct rotarr_pg *admin = connect_admin();
    struct rotarr_pg *plain;

    make_role(admin, "\"app-user\"");
    plain = connect_plain(admin, pw);
    ck_assert_int_eq(rotarr_pg_set_password(plain, "app-user", pw, &err), -1);
    ck_assert_int_eq(err.code, ROTARR_EAUTH);
    ck_assert_ptr_nonnull(strstr(err.msg, "role 'plain' may not change the "
                                          "password of role 'app-user'"));
    rotarr_pg_close(plain);
    rotarr_pg_close(admin);
    rotarr_secret_free(pw);
}
END_TEST

START_TEST(test_pg__plain_role_changes_its_own)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_secret *pw = secret_from("plain password 1");
    struct rotarr_secret *next = secret_from(TRICKY_PASSWORD);
    struct rotarr_pg *admin = connect_admin();
    struct rotarr_pg *plain = connect_plain(admin, pw);

    set_ok(plain, "plain", next);
    ck_assert_msg(try_login("plain", next, &err) == 1, "%s", err.msg);
    rotarr_pg_close(plain);
    rotarr_pg_close(admin);
    rotarr_secret_free(pw);
    rotarr_secret_free(next);
}
END_TEST

START_TEST(test_pg__plain_role_cannot_read_kind)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_secret *pw = secret_from(TRICKY_PASSWORD);
    struct rotarr_pg *admin = connect_admin();
    struct rotarr_pg *plain = connect_plain(admin, pw);

    ck_assert_int_eq(rotarr_pg_password_kind(plain, "plain", &err), -1);
    ck_assert_int_eq(err.code, ROTARR_EAUTH);
    ck_assert_ptr_nonnull(strstr(err.msg, "may not read pg_authid"));
    rotarr_pg_close(plain);
    rotarr_pg_close(admin);
    rotarr_secret_free(pw);
}
END_TEST

START_TEST(test_pg__missing_role_is_named)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_secret *pw = secret_from(TRICKY_PASSWORD);
    struct rotarr_pg *admin = connect_admin();

    exec_ok(admin, "DROP ROLE IF EXISTS \"no-such-role\"");
    ck_assert_int_eq(rotarr_pg_set_password(admin, "no-such-role", pw, &err),
                     -1);
    ck_assert_int_eq(err.code, ROTARR_EUSAGE);
    ck_assert_ptr_nonnull(strstr(err.msg,
                                 "role 'no-such-role' does not exist"));
    ck_assert_int_eq(rotarr_pg_role_exists(admin, "no-such-role", &err), 0);
    rotarr_pg_close(admin);
    rotarr_secret_free(pw);
}
END_TEST

START_TEST(test_pg__existing_role_is_found)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_pg *admin = connect_admin();

    make_role(admin, "\"Mixed\"\"Quote\"");
    ck_assert_int_eq(rotarr_pg_role_exists(admin, "Mixed\"Quote", &err), 1);
    ck_assert_str_eq(rotarr_pg_current_user(admin), pg_user);
    rotarr_pg_close(admin);
}
END_TEST

static Suite *pg_suite(void)
{
    Suite *s = suite_create("pg");
    TCase *tc = tcase_create("pg");

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_pg__set_password_then_login);
    tcase_add_test(tc, test_pg__old_password_refused_after_set);
    tcase_add_test(tc, test_pg__quoted_role_name_works);
    tcase_add_test(tc, test_pg__quoted_role_rejects_wrong_password);
    tcase_add_test(tc, test_pg__closed_port_is_unreachable);
    tcase_add_test(tc, test_pg__wrong_password_is_eauth);
    tcase_add_test(tc, test_pg__missing_password_is_eauth);
    tcase_add_test(tc, test_pg__missing_database_is_not_eauth);
    tcase_add_test(tc, test_pg__socket_host_is_rejected);
    tcase_add_test(tc, test_pg__scram_stored_despite_md5_session);
    tcase_add_test(tc, test_pg__scram_stored_despite_md5_role_setting);
    tcase_add_test(tc, test_pg__md5_password_is_detected);
    tcase_add_test(tc, test_pg__no_password_is_other);
    tcase_add_test(tc, test_pg__server_log_lacks_plaintext);
    tcase_add_test(tc, test_pg__plain_role_cannot_change_other);
    tcase_add_test(tc, test_pg__plain_role_changes_its_own);
    tcase_add_test(tc, test_pg__plain_role_cannot_read_kind);
    tcase_add_test(tc, test_pg__missing_role_is_named);
    tcase_add_test(tc, test_pg__existing_role_is_found);
    suite_add_tcase(s, tc);
    return s;
}

/* Reads the superuser password, dropping the trailing newline. */
static int read_password(const char *path)
{
    char text[PASSFILE_MAX];
    FILE *f = fopen(path, "r");
    size_t len;

    if (f == NULL || fgets(text, sizeof(text), f) == NULL) {
        fprintf(stderr, "test_pg: cannot read '%s'\n", path);
        if (f != NULL) {
            fclose(f);
        }
        return -1;
    }
    fclose(f);
    len = strcspn(text, "\n");
    superuser_password = rotarr_secret_new(text, len, NULL);
    sodium_memzero(text, sizeof(text));
    return superuser_password != NULL ? 0 : -1;
}

/* Returns 0 when the server settings are in the environment, 77 (the
 * "skipped" status of meson test) when they are not and CI is unset,
 * 1 in CI, where a missing server is a failure. */
static int read_environment(void)
{
    const char *port = getenv("ROTARR_PGPORT");
    const char *passfile = getenv("ROTARR_PGPASSFILE");
    const char *ci = getenv("CI");

    pg_host = getenv("ROTARR_PGHOST");
    pg_user = getenv("ROTARR_PGUSER");
    pg_log = getenv("ROTARR_PGLOG");
    if (pg_host == NULL || port == NULL || pg_user == NULL ||
        passfile == NULL || pg_log == NULL) {
        fprintf(stderr, "test_pg: ROTARR_PGHOST, ROTARR_PGPORT, "
                        "ROTARR_PGUSER, ROTARR_PGPASSFILE and ROTARR_PGLOG "
                        "are not all set; start a server with "
                        "'scripts/services start DIR' and source its "
                        "output\n");
        return ci != NULL && strcmp(ci, "true") == 0 ? 1 : 77;
    }
    pg_port = atoi(port);
    return read_password(passfile) == 0 ? 0 : 1;
}

int main(void)
{
    SRunner *runner;
    int failed;
    int status;

    if (rotarr_secret_init(NULL) != 0) {
        return 1;
    }
    status = read_environment();
    if (status != 0) {
        return status;
    }
    runner = srunner_create(pg_suite());
    srunner_run_all(runner, CK_NORMAL);
    failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    rotarr_secret_free(superuser_password);
    return failed == 0 ? 0 : 1;
}
