/*
 * Inputs that the fuzz harnesses of tests/fuzz found to break a
 * property, one test each, with a twin that the property held for
 * before.  The harness that found each is named above its test.
 */
#include "rotarr/compat.h"

#include <check.h>

#include "rotarr/age_format.h"
#include "rotarr/buf.h"
#include "rotarr/dotenv.h"
#include "rotarr/secret.h"
#include "rotarr/yamldoc.h"

/* Replaces the value span of the first entry of text by the encoded
 * value, parses the result and returns the first entry's new value. */
static char *dotenv_rewrite_first(const char *text, const char *value)
{
    const struct rotarr_dotenv_entry *e;
    struct rotarr_buf out = ROTARR_BUF_INIT;
    struct rotarr_dotenv *env, *again;
    struct rotarr_error err;
    char *result;

    env = rotarr_dotenv_parse(".env", text, strlen(text), NULL, NULL, NULL,
                              &err);
    ck_assert_ptr_nonnull(env);
    e = rotarr_dotenv_entry(env, 0);
    ck_assert_int_eq(rotarr_buf_append(&out, text, e->value_start, &err), 0);
    ck_assert_int_eq(rotarr_dotenv_encode_value(value, strlen(value),
                                                e->quote, &out, &err), 0);
    ck_assert_int_eq(rotarr_buf_puts(&out, text + e->value_end, &err), 0);
    again = rotarr_dotenv_parse(".env", out.data, out.len, NULL, NULL, NULL,
                                &err);
    ck_assert_ptr_nonnull(again);
    result = strdup(rotarr_dotenv_entry(again, 0)->value);
    ck_assert_ptr_nonnull(result);
    rotarr_dotenv_free(again);
    rotarr_dotenv_free(env);
    rotarr_buf_release(&out);
    return result;
}

/* fuzz_dotenv: an empty bare value before " # comment" let the comment
 * become the value. */
START_TEST(test_regressions__dotenv_empty_value_before_comment)
{
    char *value = dotenv_rewrite_first("A=old # note\n", "");

    ck_assert_str_eq(value, "");
    free(value);
}
END_TEST

START_TEST(test_regressions__dotenv_bare_value_before_comment)
{
    char *value = dotenv_rewrite_first("A=old # note\n", "new");

    ck_assert_str_eq(value, "new");
    free(value);
}
END_TEST

/* Writes value as the value of "key" in the given style and returns 1
 * when it reads back as the same bytes. */
static int yaml_reads_back(const char *value, enum rotarr_yscalar_style style)
{
    const struct rotarr_ynode *node;
    struct rotarr_buf text = ROTARR_BUF_INIT;
    struct rotarr_error err;
    struct rotarr_ydoc *doc;
    int same;

    ck_assert_int_eq(rotarr_buf_puts(&text, "key: ", &err), 0);
    ck_assert_int_eq(rotarr_yaml_encode_scalar(value, strlen(value), style,
                                               &text, &err), 0);
    ck_assert_int_eq(rotarr_buf_puts(&text, "\n", &err), 0);
    doc = rotarr_ydoc_parse("t.yaml", text.data, text.len, &err);
    if (doc == NULL) {
        rotarr_buf_release(&text);
        return 0;
    }
    node = rotarr_ynode_get(rotarr_ydoc_root(doc), "key");
    same = node != NULL && strcmp(node->value, value) == 0;
    rotarr_ydoc_free(doc);
    rotarr_buf_release(&text);
    return same;
}

/* fuzz_yamldoc: U+FFFF and the C1 controls were written as they are,
 * which YAML readers refuse. */
START_TEST(test_regressions__yaml_noncharacter_reads_back)
{
    ck_assert(yaml_reads_back("a\xEF\xBF\xBF", ROTARR_YSTYLE_PLAIN));
    ck_assert(yaml_reads_back("a\xEF\xBF\xBE", ROTARR_YSTYLE_SINGLE));
}
END_TEST

START_TEST(test_regressions__yaml_c1_control_reads_back)
{
    ck_assert(yaml_reads_back("a\xC2\x80" "b", ROTARR_YSTYLE_PLAIN));
    ck_assert(yaml_reads_back("a\xC2\x9F" "b", ROTARR_YSTYLE_DOUBLE));
}
END_TEST

START_TEST(test_regressions__yaml_printable_reads_back)
{
    ck_assert(yaml_reads_back("a\xC2\xA0" "b\xEF\xBF\xBD",
                              ROTARR_YSTYLE_PLAIN));
}
END_TEST

/* fuzz_age_format: libsodium decoded bytes from 0x80 up as '/', so
 * base64 with such a byte was accepted. */
START_TEST(test_regressions__base64_rejects_high_bytes)
{
    unsigned char out[16];
    size_t n;

    ck_assert_int_eq(rotarr_age_b64_decode("c2\xAAj", 4, 1, out,
                                           sizeof(out), &n), -1);
    ck_assert_int_eq(rotarr_age_b64_decode("c2\x80j", 4, 0, out,
                                           sizeof(out), &n), -1);
}
END_TEST

START_TEST(test_regressions__base64_accepts_slash)
{
    unsigned char out[16];
    size_t n;

    ck_assert_int_eq(rotarr_age_b64_decode("c2/j", 4, 1, out, sizeof(out),
                                           &n), 0);
    ck_assert_uint_eq(n, 3);
}
END_TEST

static Suite *regressions_suite(void)
{
    Suite *s = suite_create("regressions");
    TCase *dotenv = tcase_create("dotenv");
    TCase *yaml = tcase_create("yaml");
    TCase *base64 = tcase_create("base64");

    tcase_add_test(dotenv, test_regressions__dotenv_empty_value_before_comment);
    tcase_add_test(dotenv, test_regressions__dotenv_bare_value_before_comment);
    suite_add_tcase(s, dotenv);
    tcase_add_test(yaml, test_regressions__yaml_noncharacter_reads_back);
    tcase_add_test(yaml, test_regressions__yaml_c1_control_reads_back);
    tcase_add_test(yaml, test_regressions__yaml_printable_reads_back);
    suite_add_tcase(s, yaml);
    tcase_add_test(base64, test_regressions__base64_rejects_high_bytes);
    tcase_add_test(base64, test_regressions__base64_accepts_slash);
    suite_add_tcase(s, base64);
    return s;
}

int main(void)
{
    struct rotarr_error err;
    SRunner *runner;
    int failed;

    if (rotarr_secret_init(&err) < 0) {
        fprintf(stderr, "%s\n", err.msg);
        return EXIT_FAILURE;
    }
    runner = srunner_create(regressions_suite());
    srunner_run_all(runner, CK_NORMAL);
    failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
