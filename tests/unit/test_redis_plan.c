#include "rotarr/compat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <check.h>

#include "rotarr/redisrot.h"
#include "rotarr/secret.h"
#include "rotarr/stack.h"

/*
 * Plans of 'rotarr redis' on small stacks written to a temporary folder:
 * the files each plan would write, byte for byte, without a server.
 */

static char stack_dir[64];
static struct rotarr_stack *stack;
static struct rotarr_redisrot_plan plan;

static void write_file(const char *name, const char *text)
{
    char path[256];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", stack_dir, name);
    f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    chmod(path, 0600);
}

static const char *no_shell(void *ctx, const char *name)
{
    (void)ctx;
    (void)name;
    return NULL;
}

static void setup(void)
{
    struct rotarr_redisrot_plan empty = ROTARR_REDISROT_PLAN_INIT;

    snprintf(stack_dir, sizeof(stack_dir), "/tmp/rotarr-plan.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(stack_dir));
    stack = NULL;
    plan = empty;
}

static void teardown(void)
{
    char command[128];

    rotarr_redisrot_plan_release(&plan);
    rotarr_stack_free(stack);
    snprintf(command, sizeof(command), "rm -rf '%s'", stack_dir);
    if (system(command) != 0) {
        fprintf(stderr, "could not remove %s\n", stack_dir);
    }
}

/* Loads the stack and plans, with --enable when enable is 1; returns
 * the plan call's result. */
static int plan_with(int enable, struct rotarr_error *err)
{
    struct rotarr_stack_options opts;
    struct rotarr_redisrot_request req;

    memset(&opts, 0, sizeof(opts));
    opts.dir = stack_dir;
    opts.shell_lookup = no_shell;
    stack = rotarr_stack_load(&opts, err);
    ck_assert_msg(stack != NULL, "%s", err->msg);
    memset(&req, 0, sizeof(req));
    req.enable = enable;
    req.overlap = -1;
    req.dry_run = 1;
    return rotarr_redisrot_plan(stack, &req, &plan, err);
}

static void plan_ok(int enable)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;

    ck_assert_msg(plan_with(enable, &err) == 0, "%s", err.msg);
}

/* Returns the new contents the plan has for file name, or NULL when the
 * plan leaves it alone. */
static const char *result_of(const char *name)
{
    size_t i;

    for (i = 0; i < plan.file_count; i++) {
        if (strcmp(plan.files[i].display, name) == 0 &&
            plan.files[i].edits.count > 0) {
            return plan.files[i].bytes.data;
        }
    }
    return NULL;
}

static size_t edit_count(void)
{
    size_t count = 0;
    size_t i;

    for (i = 0; i < plan.file_count; i++) {
        count += plan.files[i].edits.count;
    }
    return count;
}

static const char *const OPEN_STACK =
    "services:\n"
    "  redis:\n"
    "    image: redis:7-alpine\n"
    "    healthcheck:\n"
    "      test: [\"CMD\", \"redis-cli\", \"ping\"]\n"
    "      interval: 10s\n";

static const char *const PROTECTED_STACK =
    "services:\n"
    "  redis:\n"
    "    image: redis:7-alpine\n"
    "    command: [\"redis-server\", \"--requirepass\", "
    "\"${REDIS_PASSWORD:?REDIS_PASSWORD is not set}\"]\n"
    "    environment:\n"
    "      REDISCLI_AUTH: ${REDIS_PASSWORD}\n"
    "    healthcheck:\n"
    "      test: [\"CMD-SHELL\", \"redis-cli ping | grep -qx PONG\"]\n"
    "      interval: 10s\n";

START_TEST(test_redis_plan__open_server_gets_guarded_command)
{
    const char *env;

    write_file("compose.yaml", OPEN_STACK);
    plan_ok(0);
    ck_assert_int_eq(plan.mode, ROTARR_REDIS_ENABLE);
    ck_assert_str_eq(result_of("compose.yaml"), PROTECTED_STACK);
    env = result_of(".env");
    ck_assert_ptr_nonnull(env);
    ck_assert_int_eq(strncmp(env, "REDIS_PASSWORD=", 15), 0);
    ck_assert_uint_eq(strlen(env), 15 + 32 + 1);
}
END_TEST

START_TEST(test_redis_plan__protected_up_to_date_changes_nothing)
{
    write_file("compose.yaml", PROTECTED_STACK);
    write_file(".env", "REDIS_PASSWORD=Up2dateUp2dateUp2dateUp2date00\n");
    plan_ok(1);
    ck_assert_int_eq(plan.mode, ROTARR_REDIS_FIX);
    ck_assert_uint_eq(edit_count(), 0);
}
END_TEST

START_TEST(test_redis_plan__protected_with_cli_a_is_fixed)
{
    write_file("compose.yaml",
               "services:\n"
               "  redis:\n"
               "    image: redis:7\n"
               "    command: redis-server --requirepass ${REDIS_PASSWORD}\n"
               "    healthcheck:\n"
               "      test: [\"CMD-SHELL\", \"redis-cli -a "
               "\\\"$$REDIS_PASSWORD\\\" ping\"]\n");
    write_file(".env", "REDIS_PASSWORD=KeepMeKeepMeKeepMeKeepMe\n");
    plan_ok(1);
    ck_assert_int_eq(plan.mode, ROTARR_REDIS_FIX);
    ck_assert_str_eq(result_of("compose.yaml"),
                     "services:\n"
                     "  redis:\n"
                     "    image: redis:7\n"
                     "    command: redis-server --requirepass "
                     "${REDIS_PASSWORD}\n"
                     "    environment:\n"
                     "      REDISCLI_AUTH: ${REDIS_PASSWORD}\n"
                     "    healthcheck:\n"
                     "      test: [\"CMD-SHELL\", \"redis-cli ping | grep "
                     "-qx PONG\"]\n");
    ck_assert_ptr_null(result_of(".env"));
}
END_TEST

/* Writes a stack with two servers, an app reading env, and a password
 * with characters a URL reserves. */
static void enable_with_urls(const char *image, const char *env)
{
    char compose[1024];

    snprintf(compose, sizeof(compose),
             "services:\n"
             "  redis:\n"
             "    image: %s\n"
             "  cache:\n"
             "    image: valkey/valkey:8\n"
             "  app:\n"
             "    image: app\n"
             "    env_file: app.env\n",
             image);
    write_file("compose.yaml", compose);
    write_file("app.env", env);
    write_file(".env", "REDIS_PASSWORD=p@ss/w:rd\n");
}

static void plan_service(const char *service)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_stack_options opts;
    struct rotarr_redisrot_request req;

    memset(&opts, 0, sizeof(opts));
    opts.dir = stack_dir;
    opts.shell_lookup = no_shell;
    stack = rotarr_stack_load(&opts, &err);
    ck_assert_msg(stack != NULL, "%s", err.msg);
    memset(&req, 0, sizeof(req));
    req.service = service;
    req.overlap = -1;
    req.dry_run = 1;
    ck_assert_msg(rotarr_redisrot_plan(stack, &req, &plan, &err) == 0, "%s",
                  err.msg);
}

START_TEST(test_redis_plan__url_gets_default_user)
{
    enable_with_urls("redis:7", "REDIS_URL=redis://redis:6379/0\n");
    plan_service("redis");
    ck_assert_str_eq(result_of("app.env"),
                     "REDIS_URL=redis://default:p%40ss%2Fw%3Ard@redis:6379/"
                     "0\n");
}
END_TEST

START_TEST(test_redis_plan__url_keeps_scheme_port_db_query)
{
    enable_with_urls("redis:7", "CACHE_URL=rediss://cache:6380/2?timeout=5\n");
    plan_service("cache");
    ck_assert_str_eq(result_of("app.env"),
                     "CACHE_URL=rediss://default:p%40ss%2Fw%3Ard@cache:6380/"
                     "2?timeout=5\n");
}
END_TEST

START_TEST(test_redis_plan__url_of_other_host_untouched)
{
    enable_with_urls("redis:7", "CACHE_URL=rediss://cache:6380/2\n");
    plan_service("redis");
    ck_assert_ptr_null(result_of("app.env"));
}
END_TEST

START_TEST(test_redis_plan__redis5_url_has_empty_user)
{
    enable_with_urls("redis:5.0.14-alpine",
                     "REDIS_URL=redis://redis:6379/0\n");
    plan_service("redis");
    ck_assert_str_eq(result_of("app.env"),
                     "REDIS_URL=redis://:p%40ss%2Fw%3Ard@redis:6379/0\n");
}
END_TEST

START_TEST(test_redis_plan__url_user_and_old_password_replaced)
{
    write_file("compose.yaml",
               "services:\n"
               "  redis:\n"
               "    image: redis:7\n"
               "    command: [\"redis-server\", \"--requirepass\", "
               "\"${REDIS_PASSWORD}\"]\n"
               "  app:\n"
               "    image: app\n"
               "    env_file: app.env\n");
    write_file(".env", "REDIS_PASSWORD=oldPassw0rdOldPassw0rd\n");
    write_file("app.env",
               "REDIS_URL=redis://user:oldPassw0rdOldPassw0rd@redis\n");
    plan_ok(0);
    ck_assert_int_eq(plan.mode, ROTARR_REDIS_OVERLAP);
    ck_assert_int_eq(strncmp(result_of("app.env"),
                             "REDIS_URL=redis://default:", 26),
                     0);
    ck_assert_ptr_nonnull(strstr(result_of("app.env"),
                                 rotarr_secret_data(plan.next)));
    ck_assert_ptr_null(strstr(result_of("app.env"), "oldPassw0rd"));
    ck_assert_ptr_null(strstr(result_of(".env"), "oldPassw0rd"));
}
END_TEST

START_TEST(test_redis_plan__compose_url_gets_reference)
{
    write_file("compose.yaml",
               "services:\n"
               "  redis:\n"
               "    image: redis:7\n"
               "  worker:\n"
               "    image: app\n"
               "    environment:\n"
               "      BROKER: ${BROKER_URL:-redis://:@redis:6379/0}\n");
    plan_ok(0);
    ck_assert_ptr_nonnull(strstr(result_of("compose.yaml"),
                                 "      BROKER: ${BROKER_URL:-redis://default:"
                                 "${REDIS_PASSWORD}@redis:6379/0}\n"));
}
END_TEST

START_TEST(test_redis_plan__host_variable_gets_app_password)
{
    write_file("compose.yaml",
               "services:\n"
               "  redis:\n"
               "    image: redis:7\n"
               "    command: redis-server --requirepass ${REDIS_PASSWORD}\n"
               "  nextcloud:\n"
               "    image: nextcloud:29\n"
               "    environment:\n"
               "      REDIS_HOST: redis\n");
    write_file(".env", "REDIS_PASSWORD=ServerSideOnlyServerSideOnly\n");
    plan_ok(1);
    ck_assert_uint_eq(rotarr_redisrot_unconfigured(&plan), 0);
    ck_assert_ptr_nonnull(strstr(result_of("compose.yaml"),
                                 "      REDIS_HOST: redis\n"
                                 "      REDIS_HOST_PASSWORD: "
                                 "${REDIS_PASSWORD}\n"));
}
END_TEST

START_TEST(test_redis_plan__bare_dependant_is_unconfigured)
{
    write_file("compose.yaml",
               "services:\n"
               "  redis:\n"
               "    image: redis:7\n"
               "  mystery:\n"
               "    image: example/mystery\n"
               "    depends_on: [redis]\n");
    plan_ok(0);
    ck_assert_uint_eq(plan.client_count, 1);
    ck_assert_uint_eq(rotarr_redisrot_unconfigured(&plan), 1);
}
END_TEST

START_TEST(test_redis_plan__string_command_gets_flag)
{
    write_file("compose.yaml",
               "services:\n"
               "  redis:\n"
               "    image: valkey/valkey:8\n"
               "    command: valkey-server --save 30 1\n");
    plan_ok(0);
    ck_assert_ptr_nonnull(strstr(result_of("compose.yaml"),
                                 "    command: valkey-server --save 30 1 "
                                 "--requirepass ${REDIS_PASSWORD:?REDIS_"
                                 "PASSWORD is not set}\n"));
    ck_assert_ptr_nonnull(strstr(result_of("compose.yaml"),
                                 "      VALKEYCLI_AUTH: ${REDIS_PASSWORD}\n"));
}
END_TEST

START_TEST(test_redis_plan__mounted_conf_gets_requirepass)
{
    write_file("compose.yaml",
               "services:\n"
               "  redis:\n"
               "    image: redis:7\n"
               "    command: redis-server /usr/local/etc/redis/redis.conf\n"
               "    volumes:\n"
               "      - ./redis.conf:/usr/local/etc/redis/redis.conf:ro\n");
    write_file("redis.conf", "save \"\"\nappendonly no");
    plan_ok(0);
    ck_assert_ptr_nonnull(result_of("redis.conf"));
    ck_assert_int_eq(strncmp(result_of("redis.conf"),
                             "save \"\"\nappendonly no\nrequirepass ", 34),
                     0);
    ck_assert_ptr_null(strstr(result_of("compose.yaml"), "--requirepass"));
}
END_TEST

START_TEST(test_redis_plan__conf_password_is_learned)
{
    char conf_dir[128];

    write_file("compose.yaml",
               "services:\n"
               "  redis:\n"
               "    image: redis:7\n"
               "    command: [\"redis-server\", \"/etc/redis.conf\"]\n"
               "    volumes:\n"
               "      - type: bind\n"
               "        source: ./conf/redis.conf\n"
               "        target: /etc/redis.conf\n");
    snprintf(conf_dir, sizeof(conf_dir), "%s/conf", stack_dir);
    ck_assert_int_eq(mkdir(conf_dir, 0700), 0);
    write_file("conf/redis.conf", "requirepass \"conf pass\"\n");
    plan_ok(1);
    ck_assert_int_eq(plan.auth, ROTARR_REDIS_AUTH_CONF);
    ck_assert_str_eq(rotarr_secret_data(plan.current), "conf pass");
}
END_TEST

START_TEST(test_redis_plan__bitnami_gets_variable)
{
    write_file("compose.yaml",
               "services:\n"
               "  redis:\n"
               "    image: bitnami/redis:7.2\n"
               "    environment:\n"
               "      - ALLOW_EMPTY_PASSWORD=yes\n");
    plan_ok(0);
    ck_assert_ptr_nonnull(strstr(result_of("compose.yaml"),
                                 "      - ALLOW_EMPTY_PASSWORD=no\n"
                                 "      - REDIS_PASSWORD=${REDIS_PASSWORD:?"
                                 "REDIS_PASSWORD is not set}\n"));
    ck_assert_ptr_null(strstr(result_of("compose.yaml"), "command"));
}
END_TEST

START_TEST(test_redis_plan__shell_command_is_refused)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;

    write_file("compose.yaml",
               "services:\n"
               "  redis:\n"
               "    image: redis:7\n"
               "    command: [\"sh\", \"-c\", "
               "\"redis-server --save 60 1\"]\n");
    ck_assert_int_eq(plan_with(0, &err), -1);
    ck_assert_int_eq(err.code, ROTARR_EUSAGE);
}
END_TEST

START_TEST(test_redis_plan__shell_command_password_is_learned)
{
    write_file("compose.yaml",
               "services:\n"
               "  redis:\n"
               "    image: redis:7\n"
               "    env_file: redis.env\n"
               "    command: [\"sh\", \"-c\", \"redis-server --requirepass "
               "\\\"$${REDIS_PASSWORD:?unset}\\\"\"]\n");
    write_file("redis.env", "REDIS_PASSWORD=fromTheEnvFile0000\n");
    plan_ok(1);
    ck_assert_int_eq(plan.auth, ROTARR_REDIS_AUTH_COMMAND);
    ck_assert_str_eq(plan.var, "REDIS_PASSWORD");
    ck_assert_str_eq(rotarr_secret_data(plan.current), "fromTheEnvFile0000");
}
END_TEST

static Suite *plan_suite(void)
{
    Suite *s = suite_create("redis_plan");
    TCase *tc = tcase_create("plan");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_redis_plan__open_server_gets_guarded_command);
    tcase_add_test(tc, test_redis_plan__protected_up_to_date_changes_nothing);
    tcase_add_test(tc, test_redis_plan__protected_with_cli_a_is_fixed);
    tcase_add_test(tc, test_redis_plan__url_gets_default_user);
    tcase_add_test(tc, test_redis_plan__url_keeps_scheme_port_db_query);
    tcase_add_test(tc, test_redis_plan__url_of_other_host_untouched);
    tcase_add_test(tc, test_redis_plan__redis5_url_has_empty_user);
    tcase_add_test(tc, test_redis_plan__url_user_and_old_password_replaced);
    tcase_add_test(tc, test_redis_plan__compose_url_gets_reference);
    tcase_add_test(tc, test_redis_plan__host_variable_gets_app_password);
    tcase_add_test(tc, test_redis_plan__bare_dependant_is_unconfigured);
    tcase_add_test(tc, test_redis_plan__string_command_gets_flag);
    tcase_add_test(tc, test_redis_plan__mounted_conf_gets_requirepass);
    tcase_add_test(tc, test_redis_plan__conf_password_is_learned);
    tcase_add_test(tc, test_redis_plan__bitnami_gets_variable);
    tcase_add_test(tc, test_redis_plan__shell_command_is_refused);
    tcase_add_test(tc, test_redis_plan__shell_command_password_is_learned);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *runner;
    int failed;

    if (rotarr_secret_init(NULL) < 0) {
        return 1;
    }
    runner = srunner_create(plan_suite());
    srunner_run_all(runner, CK_NORMAL);
    failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? 0 : 1;
}
