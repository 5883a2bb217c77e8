#include "rotarr/compat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "rotarr/compose_edit.h"
#include "rotarr/secret.h"
#include "rotarr/yamldoc.h"

/*
 * The structural compose edits that 'rotarr redis' makes: each test parses
 * a small compose text, applies edits and compares the result byte for
 * byte, then checks that the result still parses.
 */

static struct rotarr_ydoc *parse(const char *text)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_ydoc *doc = rotarr_ydoc_parse("compose.yaml", text,
                                                strlen(text), &err);

    ck_assert_msg(doc != NULL, "%s", err.msg);
    return doc;
}

/* Returns the mapping of service name. */
static const struct rotarr_ynode *service(const struct rotarr_ydoc *doc,
                                          const char *name)
{
    const struct rotarr_ynode *node =
        rotarr_ynode_get(rotarr_ynode_get(rotarr_ydoc_root(doc), "services"),
                         name);

    ck_assert_ptr_nonnull(node);
    return node;
}

/* Applies edits to doc and checks the result against expected. */
static void expect_result(const struct rotarr_ydoc *doc,
                          struct rotarr_text_edits *edits,
                          const char *expected)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_buf out = ROTARR_BUF_INIT;
    struct rotarr_ydoc *again;
    size_t len;
    const char *bytes = rotarr_ydoc_bytes(doc, &len);

    ck_assert_msg(rotarr_text_edits_apply(edits, bytes, len, &out, &err) ==
                      0,
                  "%s", err.msg);
    ck_assert_str_eq(out.data, expected);
    again = rotarr_ydoc_parse("result.yaml", out.data, out.len, &err);
    ck_assert_msg(again != NULL, "%s", err.msg);
    rotarr_ydoc_free(again);
    rotarr_buf_release(&out);
    rotarr_text_edits_release(edits);
}

static void ok(int status, const struct rotarr_error *err)
{
    ck_assert_msg(status == 0, "%s", err->msg);
}

START_TEST(test_redis_edit__pairs_after_image)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_text_edits edits = ROTARR_TEXT_EDITS_INIT;
    struct rotarr_ydoc *doc = parse("services:\n"
                                    "  redis:\n"
                                    "    image: redis:7-alpine\n"
                                    "    healthcheck:\n"
                                    "      test: [\"CMD\"]\n");

    ok(rotarr_yaml_insert_pairs(&edits, service(doc, "redis"), "image",
                                "command: [\"redis-server\"]\n"
                                "environment:\n"
                                "  REDISCLI_AUTH: ${REDIS_PASSWORD}\n",
                                &err),
       &err);
    expect_result(doc, &edits,
                  "services:\n"
                  "  redis:\n"
                  "    image: redis:7-alpine\n"
                  "    command: [\"redis-server\"]\n"
                  "    environment:\n"
                  "      REDISCLI_AUTH: ${REDIS_PASSWORD}\n"
                  "    healthcheck:\n"
                  "      test: [\"CMD\"]\n");
    rotarr_ydoc_free(doc);
}
END_TEST

START_TEST(test_redis_edit__pairs_copy_four_space_step)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_text_edits edits = ROTARR_TEXT_EDITS_INIT;
    struct rotarr_ydoc *doc = parse("services:\n"
                                    "    redis:\n"
                                    "        image: redis\n"
                                    "        ports:\n"
                                    "            - 6379\n");

    ok(rotarr_yaml_insert_pairs(&edits, service(doc, "redis"), NULL,
                                "environment:\n  A: b\n", &err),
       &err);
    expect_result(doc, &edits,
                  "services:\n"
                  "    redis:\n"
                  "        image: redis\n"
                  "        ports:\n"
                  "            - 6379\n"
                  "        environment:\n"
                  "            A: b\n");
    rotarr_ydoc_free(doc);
}
END_TEST

START_TEST(test_redis_edit__pairs_keep_crlf)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_text_edits edits = ROTARR_TEXT_EDITS_INIT;
    struct rotarr_ydoc *doc = parse("services:\r\n"
                                    "  redis:\r\n"
                                    "    image: redis\r\n");

    ok(rotarr_yaml_insert_pairs(&edits, service(doc, "redis"), "image",
                                "command: x\n", &err),
       &err);
    expect_result(doc, &edits,
                  "services:\r\n"
                  "  redis:\r\n"
                  "    image: redis\r\n"
                  "    command: x\r\n");
    rotarr_ydoc_free(doc);
}
END_TEST

START_TEST(test_redis_edit__pairs_at_end_without_newline)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_text_edits edits = ROTARR_TEXT_EDITS_INIT;
    struct rotarr_ydoc *doc = parse("services:\n  redis:\n    image: redis");

    ok(rotarr_yaml_insert_pairs(&edits, service(doc, "redis"), NULL,
                                "command: x\n", &err),
       &err);
    expect_result(doc, &edits,
                  "services:\n  redis:\n    image: redis\n    command: x\n");
    rotarr_ydoc_free(doc);
}
END_TEST

START_TEST(test_redis_edit__pairs_skip_block_value)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_text_edits edits = ROTARR_TEXT_EDITS_INIT;
    struct rotarr_ydoc *doc = parse("services:\n"
                                    "  redis:\n"
                                    "    command: >\n"
                                    "      redis-server\n"
                                    "      --save 60 1\n"
                                    "    image: redis\n");

    ok(rotarr_yaml_insert_pairs(&edits, service(doc, "redis"), "command",
                                "environment:\n  A: b\n", &err),
       &err);
    expect_result(doc, &edits,
                  "services:\n"
                  "  redis:\n"
                  "    command: >\n"
                  "      redis-server\n"
                  "      --save 60 1\n"
                  "    environment:\n"
                  "      A: b\n"
                  "    image: redis\n");
    rotarr_ydoc_free(doc);
}
END_TEST

START_TEST(test_redis_edit__pairs_reject_non_mapping)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_text_edits edits = ROTARR_TEXT_EDITS_INIT;
    struct rotarr_ydoc *doc = parse("services:\n  redis: [a]\n");

    ck_assert_int_eq(rotarr_yaml_insert_pairs(&edits, service(doc, "redis"),
                                              NULL, "a: b\n", &err),
                     -1);
    ck_assert_int_eq(err.code, ROTARR_EUSAGE);
    ck_assert_uint_eq(edits.count, 0);
    rotarr_ydoc_free(doc);
}
END_TEST

START_TEST(test_redis_edit__flow_mapping_gets_pair)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_text_edits edits = ROTARR_TEXT_EDITS_INIT;
    struct rotarr_ydoc *doc = parse("services:\n"
                                    "  app:\n"
                                    "    environment: {A: b}\n");

    ok(rotarr_compose_env_set(&edits, service(doc, "app"), "REDIS_PASSWORD",
                              "${REDIS_PASSWORD}", NULL, &err),
       &err);
    expect_result(doc, &edits,
                  "services:\n"
                  "  app:\n"
                  "    environment: {A: b, REDIS_PASSWORD: "
                  "'${REDIS_PASSWORD}'}\n");
    rotarr_ydoc_free(doc);
}
END_TEST

START_TEST(test_redis_edit__flow_mapping_rejects_block_text)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_text_edits edits = ROTARR_TEXT_EDITS_INIT;
    struct rotarr_ydoc *doc = parse("services:\n  app: {image: x}\n");

    ck_assert_int_eq(rotarr_yaml_insert_pairs(&edits, service(doc, "app"),
                                              NULL, "environment:\n  A: b\n",
                                              &err),
                     -1);
    ck_assert_int_eq(err.code, ROTARR_EUSAGE);
    rotarr_ydoc_free(doc);
}
END_TEST

START_TEST(test_redis_edit__flow_list_gets_items)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_text_edits edits = ROTARR_TEXT_EDITS_INIT;
    const char *items[] = { "--requirepass",
                            "${REDIS_PASSWORD:?REDIS_PASSWORD is not set}" };
    struct rotarr_ydoc *doc = parse("services:\n"
                                    "  redis:\n"
                                    "    command: [ \"redis-server\", "
                                    "\"--appendonly\", \"yes\" ]\n");

    ok(rotarr_yaml_append_items(&edits,
                                rotarr_ynode_get(service(doc, "redis"),
                                                 "command"),
                                items, 2, &err),
       &err);
    expect_result(doc, &edits,
                  "services:\n"
                  "  redis:\n"
                  "    command: [ \"redis-server\", \"--appendonly\", "
                  "\"yes\", \"--requirepass\", "
                  "\"${REDIS_PASSWORD:?REDIS_PASSWORD is not set}\" ]\n");
    rotarr_ydoc_free(doc);
}
END_TEST

START_TEST(test_redis_edit__block_list_gets_items)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_text_edits edits = ROTARR_TEXT_EDITS_INIT;
    const char *items[] = { "--requirepass", "${REDIS_PASSWORD}" };
    struct rotarr_ydoc *doc = parse("services:\n"
                                    "  redis:\n"
                                    "    command:\n"
                                    "    - redis-server\n"
                                    "    - --save\n"
                                    "    image: redis\n");

    ok(rotarr_yaml_append_items(&edits,
                                rotarr_ynode_get(service(doc, "redis"),
                                                 "command"),
                                items, 2, &err),
       &err);
    expect_result(doc, &edits,
                  "services:\n"
                  "  redis:\n"
                  "    command:\n"
                  "    - redis-server\n"
                  "    - --save\n"
                  "    - --requirepass\n"
                  "    - ${REDIS_PASSWORD}\n"
                  "    image: redis\n");
    rotarr_ydoc_free(doc);
}
END_TEST

START_TEST(test_redis_edit__items_reject_mapping)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_text_edits edits = ROTARR_TEXT_EDITS_INIT;
    const char *items[] = { "x" };
    struct rotarr_ydoc *doc = parse("services:\n  redis:\n    image: r\n");

    ck_assert_int_eq(rotarr_yaml_append_items(&edits, service(doc, "redis"),
                                              items, 1, &err),
                     -1);
    ck_assert_int_eq(err.code, ROTARR_EUSAGE);
    rotarr_ydoc_free(doc);
}
END_TEST

START_TEST(test_redis_edit__plain_string_gets_text)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_text_edits edits = ROTARR_TEXT_EDITS_INIT;
    struct rotarr_ydoc *doc = parse("services:\n"
                                    "  redis:\n"
                                    "    command: redis-server --save 60 1 "
                                    "# keep\n");

    ok(rotarr_yaml_append_to_scalar(&edits,
                                    rotarr_ynode_get(service(doc, "redis"),
                                                     "command"),
                                    " --requirepass ${P:?P is not set}",
                                    &err),
       &err);
    expect_result(doc, &edits,
                  "services:\n"
                  "  redis:\n"
                  "    command: redis-server --save 60 1 --requirepass "
                  "${P:?P is not set} # keep\n");
    rotarr_ydoc_free(doc);
}
END_TEST

START_TEST(test_redis_edit__plain_string_rejects_colon_space)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_text_edits edits = ROTARR_TEXT_EDITS_INIT;
    struct rotarr_ydoc *doc = parse("services:\n"
                                    "  redis:\n"
                                    "    command: redis-server\n");

    ck_assert_int_eq(
        rotarr_yaml_append_to_scalar(&edits,
                                     rotarr_ynode_get(service(doc, "redis"),
                                                      "command"),
                                     " a: b", &err),
        -1);
    ck_assert_int_eq(err.code, ROTARR_EUSAGE);
    rotarr_ydoc_free(doc);
}
END_TEST

START_TEST(test_redis_edit__double_quoted_string_escapes)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_text_edits edits = ROTARR_TEXT_EDITS_INIT;
    struct rotarr_ydoc *doc = parse("services:\n"
                                    "  redis:\n"
                                    "    command: \"redis-server\"\n");

    ok(rotarr_yaml_append_to_scalar(&edits,
                                    rotarr_ynode_get(service(doc, "redis"),
                                                     "command"),
                                    " --x \"y\"", &err),
       &err);
    expect_result(doc, &edits,
                  "services:\n"
                  "  redis:\n"
                  "    command: \"redis-server --x \\\"y\\\"\"\n");
    rotarr_ydoc_free(doc);
}
END_TEST

START_TEST(test_redis_edit__folded_string_gets_text)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_text_edits edits = ROTARR_TEXT_EDITS_INIT;
    struct rotarr_ydoc *doc = parse("services:\n"
                                    "  redis:\n"
                                    "    command: >\n"
                                    "      redis-server\n"
                                    "      --appendonly no\n"
                                    "    image: redis\n");

    ok(rotarr_yaml_append_to_scalar(&edits,
                                    rotarr_ynode_get(service(doc, "redis"),
                                                     "command"),
                                    " --requirepass x", &err),
       &err);
    expect_result(doc, &edits,
                  "services:\n"
                  "  redis:\n"
                  "    command: >\n"
                  "      redis-server\n"
                  "      --appendonly no --requirepass x\n"
                  "    image: redis\n");
    rotarr_ydoc_free(doc);
}
END_TEST

START_TEST(test_redis_edit__env_map_adds_key)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_text_edits edits = ROTARR_TEXT_EDITS_INIT;
    struct rotarr_ydoc *doc = parse("services:\n"
                                    "  app:\n"
                                    "    environment:\n"
                                    "      REDIS_HOST: redis\n"
                                    "    image: app\n");

    ok(rotarr_compose_env_set(&edits, service(doc, "app"),
                              "REDIS_HOST_PASSWORD", "${REDIS_PASSWORD}",
                              NULL, &err),
       &err);
    expect_result(doc, &edits,
                  "services:\n"
                  "  app:\n"
                  "    environment:\n"
                  "      REDIS_HOST: redis\n"
                  "      REDIS_HOST_PASSWORD: ${REDIS_PASSWORD}\n"
                  "    image: app\n");
    rotarr_ydoc_free(doc);
}
END_TEST

START_TEST(test_redis_edit__env_map_replaces_value)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_text_edits edits = ROTARR_TEXT_EDITS_INIT;
    struct rotarr_ydoc *doc = parse("services:\n"
                                    "  app:\n"
                                    "    environment:\n"
                                    "      PW: 'old'\n"
                                    "      EMPTY:\n");

    ok(rotarr_compose_env_set(&edits, service(doc, "app"), "PW", "it's",
                              NULL, &err),
       &err);
    ok(rotarr_compose_env_set(&edits, service(doc, "app"), "EMPTY",
                              "${X}", NULL, &err),
       &err);
    expect_result(doc, &edits,
                  "services:\n"
                  "  app:\n"
                  "    environment:\n"
                  "      PW: 'it''s'\n"
                  "      EMPTY: ${X}\n");
    rotarr_ydoc_free(doc);
}
END_TEST

START_TEST(test_redis_edit__env_list_adds_item)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_text_edits edits = ROTARR_TEXT_EDITS_INIT;
    struct rotarr_ydoc *doc = parse("services:\n"
                                    "  app:\n"
                                    "    environment:\n"
                                    "      - QUEUE_BULL_REDIS_HOST=redis\n"
                                    "      - OLD\n");

    ok(rotarr_compose_env_set(&edits, service(doc, "app"),
                              "QUEUE_BULL_REDIS_PASSWORD", "${REDIS_PASSWORD}",
                              NULL, &err),
       &err);
    ok(rotarr_compose_env_set(&edits, service(doc, "app"), "OLD", "x y",
                              NULL, &err),
       &err);
    expect_result(doc, &edits,
                  "services:\n"
                  "  app:\n"
                  "    environment:\n"
                  "      - QUEUE_BULL_REDIS_HOST=redis\n"
                  "      - OLD=x y\n"
                  "      - QUEUE_BULL_REDIS_PASSWORD=${REDIS_PASSWORD}\n");
    rotarr_ydoc_free(doc);
}
END_TEST

START_TEST(test_redis_edit__env_created_after_key)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_text_edits edits = ROTARR_TEXT_EDITS_INIT;
    struct rotarr_ydoc *doc = parse("services:\n"
                                    "  redis:\n"
                                    "    image: redis\n"
                                    "    command: [\"redis-server\"]\n"
                                    "    ports: [\"6379\"]\n");

    ok(rotarr_compose_env_set(&edits, service(doc, "redis"), "REDISCLI_AUTH",
                              "${REDIS_PASSWORD}", "command", &err),
       &err);
    expect_result(doc, &edits,
                  "services:\n"
                  "  redis:\n"
                  "    image: redis\n"
                  "    command: [\"redis-server\"]\n"
                  "    environment:\n"
                  "      REDISCLI_AUTH: ${REDIS_PASSWORD}\n"
                  "    ports: [\"6379\"]\n");
    rotarr_ydoc_free(doc);
}
END_TEST

START_TEST(test_redis_edit__env_rejects_block_scalar)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_text_edits edits = ROTARR_TEXT_EDITS_INIT;
    struct rotarr_ydoc *doc = parse("services:\n"
                                    "  app:\n"
                                    "    environment:\n"
                                    "      PW: |\n"
                                    "        old\n");

    ck_assert_int_eq(rotarr_compose_env_set(&edits, service(doc, "app"), "PW",
                                            "new", NULL, &err),
                     -1);
    ck_assert_int_eq(err.code, ROTARR_EUSAGE);
    rotarr_ydoc_free(doc);
}
END_TEST

START_TEST(test_redis_edit__insertions_join_in_order)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_text_edits edits = ROTARR_TEXT_EDITS_INIT;
    struct rotarr_buf out = ROTARR_BUF_INIT;

    ok(rotarr_text_edits_add(&edits, 1, 1, "x", 1, &err), &err);
    ok(rotarr_text_edits_add(&edits, 1, 1, "y", 1, &err), &err);
    ok(rotarr_text_edits_apply(&edits, "ab", 2, &out, &err), &err);
    ck_assert_str_eq(out.data, "axyb");
    rotarr_buf_release(&out);
    rotarr_text_edits_release(&edits);
}
END_TEST

START_TEST(test_redis_edit__overlapping_edits_rejected)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_text_edits edits = ROTARR_TEXT_EDITS_INIT;

    ok(rotarr_text_edits_add(&edits, 2, 6, "x", 1, &err), &err);
    ck_assert_int_eq(rotarr_text_edits_add(&edits, 4, 8, "y", 1, &err), -1);
    ck_assert_int_eq(rotarr_text_edits_add(&edits, 3, 3, "y", 1, &err), -1);
    ok(rotarr_text_edits_add(&edits, 6, 6, "z", 1, &err), &err);
    ck_assert_uint_eq(edits.count, 2);
    rotarr_text_edits_release(&edits);
}
END_TEST

static Suite *edit_suite(void)
{
    Suite *s = suite_create("redis_edit");
    TCase *tc = tcase_create("compose_edit");

    tcase_add_test(tc, test_redis_edit__pairs_after_image);
    tcase_add_test(tc, test_redis_edit__pairs_copy_four_space_step);
    tcase_add_test(tc, test_redis_edit__pairs_keep_crlf);
    tcase_add_test(tc, test_redis_edit__pairs_at_end_without_newline);
    tcase_add_test(tc, test_redis_edit__pairs_skip_block_value);
    tcase_add_test(tc, test_redis_edit__pairs_reject_non_mapping);
    tcase_add_test(tc, test_redis_edit__flow_mapping_gets_pair);
    tcase_add_test(tc, test_redis_edit__flow_mapping_rejects_block_text);
    tcase_add_test(tc, test_redis_edit__flow_list_gets_items);
    tcase_add_test(tc, test_redis_edit__block_list_gets_items);
    tcase_add_test(tc, test_redis_edit__items_reject_mapping);
    tcase_add_test(tc, test_redis_edit__plain_string_gets_text);
    tcase_add_test(tc, test_redis_edit__plain_string_rejects_colon_space);
    tcase_add_test(tc, test_redis_edit__double_quoted_string_escapes);
    tcase_add_test(tc, test_redis_edit__folded_string_gets_text);
    tcase_add_test(tc, test_redis_edit__env_map_adds_key);
    tcase_add_test(tc, test_redis_edit__env_map_replaces_value);
    tcase_add_test(tc, test_redis_edit__env_list_adds_item);
    tcase_add_test(tc, test_redis_edit__env_created_after_key);
    tcase_add_test(tc, test_redis_edit__env_rejects_block_scalar);
    tcase_add_test(tc, test_redis_edit__insertions_join_in_order);
    tcase_add_test(tc, test_redis_edit__overlapping_edits_rejected);
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
    runner = srunner_create(edit_suite());
    srunner_run_all(runner, CK_NORMAL);
    failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? 0 : 1;
}
