/*
 * Unit tests of the byte-range patches (rotarr/patch.h), the URL codec
 * and parser (rotarr/url.h) and the secret pool (rotarr/secret.h).
 */
#include "rotarr/compat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "rotarr/buf.h"
#include "rotarr/patch.h"
#include "rotarr/secret.h"
#include "rotarr/url.h"

/* Applies edits (start, end, text) triples to text and returns the result
 * in out, or -1 with err set. */
struct edit_case {
    size_t start;
    size_t end;
    const char *text;
};

static int apply_edits(const char *text, const struct edit_case *edits,
                       size_t count, struct rotarr_buf *out,
                       struct rotarr_error *err)
{
    struct rotarr_patch *patch = rotarr_patch_new();
    size_t i;
    int ret = -1;

    ck_assert_ptr_nonnull(patch);
    for (i = 0; i < count; i++) {
        if (rotarr_patch_add(patch, edits[i].start, edits[i].end,
                             edits[i].text, strlen(edits[i].text), err) < 0) {
            goto out;
        }
    }
    ret = rotarr_patch_apply(patch, text, strlen(text), out, err);

out:
    rotarr_patch_free(patch);
    return ret;
}

START_TEST(test_patch__applies_several_edits)
{
    const struct edit_case edits[] = {
        { 6, 11, "there" },
        { 0, 5, "HELLO" },
    };
    struct rotarr_buf out = ROTARR_BUF_INIT;
    struct rotarr_error err = ROTARR_ERROR_INIT;

    ck_assert_int_eq(apply_edits("hello world", edits, 2, &out, &err), 0);
    ck_assert_str_eq(out.data, "HELLO there");
    rotarr_buf_release(&out);
}
END_TEST

START_TEST(test_patch__edits_at_start_and_end)
{
    const struct edit_case edits[] = {
        { 0, 1, "A" },
        { 4, 5, "E-longer" },
    };
    struct rotarr_buf out = ROTARR_BUF_INIT;
    struct rotarr_error err = ROTARR_ERROR_INIT;

    ck_assert_int_eq(apply_edits("abcde", edits, 2, &out, &err), 0);
    ck_assert_str_eq(out.data, "AbcdE-longer");
    rotarr_buf_release(&out);
}
END_TEST

START_TEST(test_patch__inserts_where_start_equals_end)
{
    const struct edit_case edits[] = {
        { 5, 5, ">" },
        { 0, 0, "<" },
        { 2, 2, "|" },
    };
    struct rotarr_buf out = ROTARR_BUF_INIT;
    struct rotarr_error err = ROTARR_ERROR_INIT;

    ck_assert_int_eq(apply_edits("abcde", edits, 3, &out, &err), 0);
    ck_assert_str_eq(out.data, "<ab|cde>");
    rotarr_buf_release(&out);
}
END_TEST

START_TEST(test_patch__inserts_at_both_ends_of_a_replacement)
{
    const struct edit_case edits[] = {
        { 1, 4, "X" },
        { 4, 4, "]" },
        { 1, 1, "[" },
    };
    struct rotarr_buf out = ROTARR_BUF_INIT;
    struct rotarr_error err = ROTARR_ERROR_INIT;

    ck_assert_int_eq(apply_edits("abcde", edits, 3, &out, &err), 0);
    ck_assert_str_eq(out.data, "a[X]e");
    rotarr_buf_release(&out);
}
END_TEST

START_TEST(test_patch__rejects_overlap)
{
    const struct edit_case edits[] = {
        { 0, 5, "x" },
        { 3, 8, "y" },
    };
    struct rotarr_buf out = ROTARR_BUF_INIT;
    struct rotarr_error err = ROTARR_ERROR_INIT;

    ck_assert_int_eq(apply_edits("0123456789", edits, 2, &out, &err), -1);
    ck_assert_int_eq(err.code, ROTARR_EFILE);
    ck_assert_ptr_nonnull(strstr(err.msg, "0..5 and 3..8"));
    ck_assert_uint_eq(out.len, 0);
    rotarr_buf_release(&out);
}
END_TEST

START_TEST(test_patch__rejects_insertion_inside_replacement)
{
    const struct edit_case edits[] = {
        { 2, 6, "x" },
        { 4, 4, "y" },
    };
    struct rotarr_buf out = ROTARR_BUF_INIT;
    struct rotarr_error err = ROTARR_ERROR_INIT;

    ck_assert_int_eq(apply_edits("0123456789", edits, 2, &out, &err), -1);
    ck_assert_int_eq(err.code, ROTARR_EFILE);
    rotarr_buf_release(&out);
}
END_TEST

START_TEST(test_patch__rejects_two_insertions_at_one_offset)
{
    const struct edit_case edits[] = {
        { 3, 3, "x" },
        { 3, 3, "y" },
    };
    struct rotarr_buf out = ROTARR_BUF_INIT;
    struct rotarr_error err = ROTARR_ERROR_INIT;

    ck_assert_int_eq(apply_edits("0123456789", edits, 2, &out, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "3..3 and 3..3"));
    rotarr_buf_release(&out);
}
END_TEST

START_TEST(test_patch__merges_identical_edits)
{
    struct rotarr_patch *patch = rotarr_patch_new();
    struct rotarr_buf out = ROTARR_BUF_INIT;
    struct rotarr_error err = ROTARR_ERROR_INIT;

    ck_assert_int_eq(rotarr_patch_add(patch, 1, 3, "XY", 2, &err), 0);
    ck_assert_int_eq(rotarr_patch_add(patch, 1, 3, "XY", 2, &err), 0);
    ck_assert_uint_eq(rotarr_patch_count(patch), 1);
    ck_assert_int_eq(rotarr_patch_apply(patch, "abcd", 4, &out, &err), 0);
    ck_assert_str_eq(out.data, "aXYd");
    rotarr_patch_free(patch);
    rotarr_buf_release(&out);
}
END_TEST

START_TEST(test_patch__keeps_different_texts_apart)
{
    struct rotarr_patch *patch = rotarr_patch_new();
    struct rotarr_buf out = ROTARR_BUF_INIT;
    struct rotarr_error err = ROTARR_ERROR_INIT;

    ck_assert_int_eq(rotarr_patch_add(patch, 1, 3, "XY", 2, &err), 0);
    ck_assert_int_eq(rotarr_patch_add(patch, 1, 3, "XZ", 2, &err), 0);
    ck_assert_uint_eq(rotarr_patch_count(patch), 2);
    ck_assert_int_eq(rotarr_patch_apply(patch, "abcd", 4, &out, &err), -1);
    rotarr_patch_free(patch);
    rotarr_buf_release(&out);
}
END_TEST

START_TEST(test_patch__no_edits_give_identical_bytes)
{
    static const char text[] = "A=1\0B=2\n# comment\r\n";
    struct rotarr_patch *patch = rotarr_patch_new();
    struct rotarr_buf out = ROTARR_BUF_INIT;
    struct rotarr_error err = ROTARR_ERROR_INIT;

    ck_assert_int_eq(rotarr_patch_apply(patch, text, sizeof(text) - 1, &out,
                                        &err), 0);
    ck_assert_uint_eq(out.len, sizeof(text) - 1);
    ck_assert_mem_eq(out.data, text, sizeof(text) - 1);
    rotarr_patch_free(patch);
    rotarr_buf_release(&out);
}
END_TEST

START_TEST(test_patch__rejects_edit_past_end)
{
    const struct edit_case edits[] = { { 3, 9, "x" } };
    struct rotarr_buf out = ROTARR_BUF_INIT;
    struct rotarr_error err = ROTARR_ERROR_INIT;

    ck_assert_int_eq(apply_edits("abcd", edits, 1, &out, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "3..9"));
    rotarr_buf_release(&out);
}
END_TEST

START_TEST(test_patch__rejects_reversed_range)
{
    struct rotarr_patch *patch = rotarr_patch_new();
    struct rotarr_error err = ROTARR_ERROR_INIT;

    ck_assert_int_eq(rotarr_patch_add(patch, 4, 2, "x", 1, &err), -1);
    ck_assert_int_eq(err.code, ROTARR_EFILE);
    ck_assert_uint_eq(rotarr_patch_count(patch), 0);
    rotarr_patch_free(patch);
    rotarr_patch_free(NULL);
}
END_TEST

START_TEST(test_url__encodes_reserved_characters)
{
    struct rotarr_buf out = ROTARR_BUF_INIT;
    struct rotarr_error err = ROTARR_ERROR_INIT;

    ck_assert_int_eq(rotarr_url_encode_userinfo("a/b:c@d%e", 9, &out, &err),
                     0);
    ck_assert_str_eq(out.data, "a%2Fb%3Ac%40d%25e");
    rotarr_buf_release(&out);
}
END_TEST

START_TEST(test_url__keeps_unreserved_characters)
{
    static const char unreserved[] =
        "ABCXYZabcxyz0189-._~";
    struct rotarr_buf out = ROTARR_BUF_INIT;
    struct rotarr_error err = ROTARR_ERROR_INIT;

    ck_assert_int_eq(rotarr_url_encode_userinfo(unreserved,
                                                sizeof(unreserved) - 1,
                                                &out, &err), 0);
    ck_assert_str_eq(out.data, unreserved);
    rotarr_buf_reset(&out);
    ck_assert_int_eq(rotarr_url_encode_userinfo("p w+\xc3\xa9#", 7, &out,
                                                &err), 0);
    ck_assert_str_eq(out.data, "p%20w%2B%C3%A9%23");
    rotarr_buf_release(&out);
}
END_TEST

START_TEST(test_url__decode_reverses_encode)
{
    static const char password[] = "p@ss:w/rd%?#[]!$&'()*+,;= \t\x7f\xff";
    struct rotarr_buf encoded = ROTARR_BUF_INIT;
    struct rotarr_buf decoded = ROTARR_BUF_INIT;
    struct rotarr_error err = ROTARR_ERROR_INIT;

    ck_assert_int_eq(rotarr_url_encode_userinfo(password,
                                                sizeof(password) - 1,
                                                &encoded, &err), 0);
    ck_assert_int_eq(rotarr_url_decode(encoded.data, encoded.len, &decoded,
                                       &err), 0);
    ck_assert_uint_eq(decoded.len, sizeof(password) - 1);
    ck_assert_mem_eq(decoded.data, password, sizeof(password) - 1);
    rotarr_buf_release(&encoded);
    rotarr_buf_release(&decoded);
}
END_TEST

START_TEST(test_url__decodes_lower_case_hex)
{
    struct rotarr_buf out = ROTARR_BUF_INIT;
    struct rotarr_error err = ROTARR_ERROR_INIT;

    ck_assert_int_eq(rotarr_url_decode("a%2fb%3a+", 9, &out, &err), 0);
    ck_assert_str_eq(out.data, "a/b:+");
    rotarr_buf_release(&out);
}
END_TEST

START_TEST(test_url__decode_rejects_bad_escapes)
{
    static const char *const bad[] = { "%zz", "ab%4", "%", "%g0", "x%00y" };
    struct rotarr_buf out = ROTARR_BUF_INIT;
    struct rotarr_error err = ROTARR_ERROR_INIT;
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        rotarr_error_clear(&err);
        rotarr_buf_reset(&out);
        ck_assert_msg(rotarr_url_decode(bad[i], strlen(bad[i]), &out,
                                        &err) == -1, "accepted '%s'", bad[i]);
        ck_assert_int_eq(err.code, ROTARR_EFILE);
        if (strlen(bad[i]) > 1) {
            ck_assert_ptr_null(strstr(err.msg, bad[i]));
        }
    }
    rotarr_buf_release(&out);
}
END_TEST

/* Returns the bytes of text in [start, end) as a new string. */
static char *span(const char *text, size_t start, size_t end)
{
    char *s;

    ck_assert_uint_le(start, end);
    s = strndup(text + start, end - start);
    ck_assert_ptr_nonnull(s);
    return s;
}

/* Checks the user, password, host, port and path of a parsed URL. */
static void check_url(const char *text, const char *user,
                      const char *password, const char *host, int port,
                      const char *path)
{
    struct rotarr_url_parts parts;
    char *got;

    ck_assert_msg(rotarr_url_parse(text, strlen(text), &parts) == 0,
                  "rejected '%s'", text);
    got = span(text, parts.user_start, parts.user_end);
    ck_assert_str_eq(got, user);
    free(got);
    ck_assert_int_eq(parts.has_password, password != NULL);
    got = span(text, parts.password_start, parts.password_end);
    ck_assert_str_eq(got, password != NULL ? password : "");
    free(got);
    got = span(text, parts.host_start, parts.host_end);
    ck_assert_str_eq(got, host);
    free(got);
    ck_assert_int_eq(parts.port, port);
    got = span(text, parts.path_start, parts.end);
    ck_assert_str_eq(got, path);
    free(got);
}

START_TEST(test_url__parses_postgres_url)
{
    struct rotarr_url_parts parts;
    const char *url = "postgresql://app:oldpass@db:5432/app";

    check_url(url, "app", "oldpass", "db", 5432, "/app");
    ck_assert_int_eq(rotarr_url_parse(url, strlen(url), &parts), 0);
    ck_assert_uint_eq(parts.scheme_end, strlen("postgresql"));
    ck_assert_int_eq(parts.has_userinfo, 1);
    ck_assert_uint_eq(parts.end, strlen(url));
}
END_TEST

START_TEST(test_url__parses_redis_url_without_user)
{
    check_url("redis://:pw@redis:6379/0", "", "pw", "redis", 6379, "/0");
}
END_TEST

START_TEST(test_url__parses_url_without_port_or_path)
{
    struct rotarr_url_parts parts;
    const char *url = "redis://default:pw@h";

    check_url(url, "default", "pw", "h", -1, "");
    ck_assert_int_eq(rotarr_url_parse(url, strlen(url), &parts), 0);
    ck_assert_uint_eq(parts.path_start, strlen(url));
}
END_TEST

START_TEST(test_url__parses_variable_as_password)
{
    check_url("postgresql://app:${POSTGRES_PASSWORD}@db:5432/app", "app",
              "${POSTGRES_PASSWORD}", "db", 5432, "/app");
}
END_TEST

START_TEST(test_url__ignores_delimiters_inside_variables)
{
    check_url("postgres://${U:-a@b}:${P:-x/y:z}@${H:-db}:${PORT}/d",
              "${U:-a@b}",
              "${P:-x/y:z}", "${H:-db}", -1, "/d");
}
END_TEST

START_TEST(test_url__splits_at_last_at_sign)
{
    check_url("postgres://u:p@ss@db/x", "u", "p@ss", "db", -1, "/x");
}
END_TEST

START_TEST(test_url__parses_url_without_password)
{
    struct rotarr_url_parts parts;
    const char *url = "http://host:8080/?q=1";

    check_url("amqp://guest@mq/vhost", "guest", NULL, "mq", -1, "/vhost");
    check_url(url, "", NULL, "host", 8080, "/?q=1");
    ck_assert_int_eq(rotarr_url_parse(url, strlen(url), &parts), 0);
    ck_assert_int_eq(parts.has_userinfo, 0);
}
END_TEST

START_TEST(test_url__parses_ipv6_host)
{
    check_url("rediss://:pw@[::1]:6380/0", "", "pw", "[::1]", 6380, "/0");
}
END_TEST

START_TEST(test_url__stops_at_end_of_url)
{
    static const char *const texts[] = {
        "mysql://u:p@h/db rest", "mysql://u:p@h/db\"", "mysql://u:p@h/db'x",
        "mysql://u:p@h/db\n",
    };
    struct rotarr_url_parts parts;
    size_t i;

    for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        ck_assert_int_eq(rotarr_url_parse(texts[i], strlen(texts[i]),
                                          &parts), 0);
        ck_assert_uint_eq(parts.end, strlen("mysql://u:p@h/db"));
    }
}
END_TEST

START_TEST(test_url__unclosed_variable_ends_at_line_break)
{
    const char *text = "redis://:${PW@h/0\nOTHER=${X}@y\n";
    struct rotarr_url_parts parts;

    ck_assert_int_eq(rotarr_url_parse(text, strlen(text), &parts), 0);
    ck_assert_uint_eq(parts.end, strlen("redis://:${PW@h/0"));
    ck_assert_int_eq(parts.has_userinfo, 0);
}
END_TEST

START_TEST(test_url__rejects_non_urls)
{
    static const char *const texts[] = {
        "not a url", "postgres:/x", "://x", "1abc://x", "postgres", "",
        "postgres://h:99999/", "postgres://h:port/", "redis://[::1/0",
        "redis://[::1]x/0", "user@host:5432",
    };
    struct rotarr_url_parts parts;
    size_t i;

    for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        ck_assert_msg(rotarr_url_parse(texts[i], strlen(texts[i]),
                                       &parts) == -1,
                      "accepted '%s'", texts[i]);
    }
}
END_TEST

START_TEST(test_secret__pool_keeps_each_value)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_secret_pool *pool = rotarr_secret_pool_new(&err);
    struct rotarr_secret *secrets[1000];
    char *big = calloc(1, 40000);
    char value[32];
    size_t i;

    ck_assert_ptr_nonnull(pool);
    ck_assert_ptr_nonnull(big);
    memset(big, 'b', 39999);
    for (i = 0; i < 1000; i++) {
        snprintf(value, sizeof(value), "password-%zu", i);
        secrets[i] = i == 500 ? rotarr_secret_pool_add(pool, big, 39999, &err)
                              : rotarr_secret_pool_add(pool, value,
                                                       strlen(value), &err);
        ck_assert_ptr_nonnull(secrets[i]);
    }
    for (i = 0; i < 1000; i++) {
        snprintf(value, sizeof(value), "password-%zu", i);
        ck_assert_str_eq(rotarr_secret_data(secrets[i]),
                         i == 500 ? big : value);
    }
    for (i = 0; i < 1000; i++) {
        rotarr_secret_free(secrets[i]);
    }
    rotarr_secret_pool_free(pool);
    free(big);
}
END_TEST

START_TEST(test_secret__pool_rejects_oversized_value)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_secret_pool *pool = rotarr_secret_pool_new(&err);

    ck_assert_ptr_nonnull(pool);
    ck_assert_ptr_null(rotarr_secret_pool_add(pool, "", ((size_t)1 << 30) + 1,
                                              &err));
    ck_assert_str_eq(err.msg, "secret too large");
    rotarr_secret_pool_free(pool);
}
END_TEST

static Suite *core_suite(void)
{
    Suite *s = suite_create("core");
    TCase *patch = tcase_create("patch");
    TCase *url = tcase_create("url");
    TCase *secret = tcase_create("secret");

    tcase_add_test(patch, test_patch__applies_several_edits);
    tcase_add_test(patch, test_patch__edits_at_start_and_end);
    tcase_add_test(patch, test_patch__inserts_where_start_equals_end);
    tcase_add_test(patch, test_patch__inserts_at_both_ends_of_a_replacement);
    tcase_add_test(patch, test_patch__rejects_overlap);
    tcase_add_test(patch, test_patch__rejects_insertion_inside_replacement);
    tcase_add_test(patch, test_patch__rejects_two_insertions_at_one_offset);
    tcase_add_test(patch, test_patch__merges_identical_edits);
    tcase_add_test(patch, test_patch__keeps_different_texts_apart);
    tcase_add_test(patch, test_patch__no_edits_give_identical_bytes);
    tcase_add_test(patch, test_patch__rejects_edit_past_end);
    tcase_add_test(patch, test_patch__rejects_reversed_range);
    suite_add_tcase(s, patch);

    tcase_add_test(url, test_url__encodes_reserved_characters);
    tcase_add_test(url, test_url__keeps_unreserved_characters);
    tcase_add_test(url, test_url__decode_reverses_encode);
    tcase_add_test(url, test_url__decodes_lower_case_hex);
    tcase_add_test(url, test_url__decode_rejects_bad_escapes);
    tcase_add_test(url, test_url__parses_postgres_url);
    tcase_add_test(url, test_url__parses_redis_url_without_user);
    tcase_add_test(url, test_url__parses_url_without_port_or_path);
    tcase_add_test(url, test_url__parses_variable_as_password);
    tcase_add_test(url, test_url__ignores_delimiters_inside_variables);
    tcase_add_test(url, test_url__splits_at_last_at_sign);
    tcase_add_test(url, test_url__parses_url_without_password);
    tcase_add_test(url, test_url__parses_ipv6_host);
    tcase_add_test(url, test_url__stops_at_end_of_url);
    tcase_add_test(url, test_url__unclosed_variable_ends_at_line_break);
    tcase_add_test(url, test_url__rejects_non_urls);
    suite_add_tcase(s, url);

    tcase_add_test(secret, test_secret__pool_keeps_each_value);
    tcase_add_test(secret, test_secret__pool_rejects_oversized_value);
    suite_add_tcase(s, secret);
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
    runner = srunner_create(core_suite());
    srunner_run_all(runner, CK_NORMAL);
    failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
