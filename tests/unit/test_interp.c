/*
 * Unit tests of Compose's variable interpolation (rotarr/interp.h): the
 * template cases of compose-go from tests/data/dotenv-cases, one Check
 * loop iteration per case, then references, limits and the details that
 * come from compose-go's regular expression.
 */
#include "rotarr/compat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "rotarr/buf.h"
#include "rotarr/interp.h"
#include "rotarr/secret.h"
#include "case_json.h"

#define WANT_MAX 512
#define MAX_REFS 16

static struct json_node *inline_cases;

/* Variables of a hand-written test: a NULL-terminated list of name,
 * value pairs. */
static const char *pairs_lookup(void *ctx, const char *name)
{
    const char *const *pairs = ctx;

    for (; pairs[0] != NULL; pairs += 2) {
        if (strcmp(pairs[0], name) == 0) {
            return pairs[1];
        }
    }
    return NULL;
}

static const char *json_lookup(void *ctx, const char *name)
{
    return json_get_str(ctx, name);
}

static const struct json_node *template_case(int i)
{
    const struct json_node *list = json_get(inline_cases, "template");

    ck_assert_ptr_nonnull(list);
    ck_assert_uint_lt((size_t)i, list->count);
    return list->items[i];
}

/* Writes into want the text rotarr's error must contain for a case's
 * expected error, or "" when the case expects a result. */
static void expected_error(const struct json_node *c, char *want)
{
    const struct json_node *error = json_get(c, "error");
    const char *name = json_get_str(error, "missing_required");

    want[0] = '\0';
    if (error == NULL || error->kind != JSON_OBJECT) {
        return;
    }
    if (name != NULL) {
        snprintf(want, WANT_MAX, "required variable %s is missing a value: %s",
                 name, json_get_str(error, "reason"));
    } else {
        /* compose-go writes "Invalid template"; rotarr names the fix. */
        snprintf(want, WANT_MAX, "invalid interpolation format");
    }
}

/*
 * Returns 1 when expanding the case's template gives want_result (or,
 * when want_error is not empty, an error containing it); otherwise 0 with
 * the outcome in why.
 */
static int case_matches(const struct json_node *c, const char *want_result,
                        const char *want_error, char *why)
{
    const struct json_node *template = json_get(c, "template");
    struct rotarr_buf out = ROTARR_BUF_INIT;
    struct rotarr_error err = ROTARR_ERROR_INIT;
    int ret = rotarr_interp_expand(template->text, template->len, json_lookup,
                                   (void *)json_get(c, "vars"), &out, &err);
    int ok;

    if (ret < 0) {
        snprintf(why, WANT_MAX, "error '%s'", err.msg);
        ok = want_error[0] != '\0' && err.code == ROTARR_EFILE &&
             strstr(err.msg, want_error) != NULL;
    } else {
        snprintf(why, WANT_MAX, "result '%s'", out.data);
        ok = want_error[0] == '\0' && strcmp(out.data, want_result) == 0;
    }
    rotarr_buf_release(&out);
    return ok;
}

START_TEST(test_interp__template_case)
{
    const struct json_node *c = template_case(_i);
    const char *result = json_get_str(c, "result");
    char want[WANT_MAX];
    char why[WANT_MAX];

    expected_error(c, want);
    ck_assert_msg(
        case_matches(c, result, want, why), "%s '%s': %s, want %s '%s'",
        json_get_str(c, "test"), json_get_str(c, "template"), why,
        want[0] != '\0' ? "error" : "result", want[0] != '\0' ? want : result);
}
END_TEST

START_TEST(test_interp__template_check_rejects_spoiled_case)
{
    const struct json_node *c = template_case(_i);
    const char *result = json_get_str(c, "result");
    char want[WANT_MAX];
    char spoiled[WANT_MAX];
    char why[WANT_MAX];

    expected_error(c, want);
    if (want[0] != '\0') {
        /* An error case must not pass as a result, nor as another error. */
        ck_assert_msg(!case_matches(c, json_get_str(c, "template"), "", why),
                      "%s: an error case passes as a result",
                      json_get_str(c, "test"));
        ck_assert_msg(!case_matches(c, "", "no such error", why),
                      "%s: another error text still matches",
                      json_get_str(c, "test"));
        return;
    }
    snprintf(spoiled, sizeof(spoiled), "%sx", result);
    ck_assert_msg(!case_matches(c, spoiled, "", why),
                  "%s '%s': a spoiled result still matches",
                  json_get_str(c, "test"), json_get_str(c, "template"));
}
END_TEST

/* Expands text with the pairs; returns the result (to free) or NULL with
 * err set. */
static char *expand(const char *text, const char *const *pairs,
                    struct rotarr_error *err)
{
    struct rotarr_buf out = ROTARR_BUF_INIT;

    if (rotarr_interp_expand(text, strlen(text), pairs_lookup, (void *)pairs,
                             &out, err) < 0) {
        rotarr_buf_release(&out);
        return NULL;
    }
    return rotarr_buf_detach(&out, NULL);
}

static void assert_expands(const char *text, const char *const *pairs,
                           const char *want)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    char *got = expand(text, pairs, &err);

    ck_assert_msg(got != NULL, "'%s': %s", text, err.msg);
    ck_assert_msg(strcmp(got, want) == 0, "'%s' gives '%s', want '%s'", text,
                  got, want);
    free(got);
}

static void assert_invalid(const char *text, const char *const *pairs)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    char *got = expand(text, pairs, &err);

    ck_assert_msg(got == NULL, "'%s' gives '%s', want an error", text, got);
    ck_assert_int_eq(err.code, ROTARR_EFILE);
    ck_assert_msg(strstr(err.msg, "invalid interpolation format") != NULL &&
                      strstr(err.msg, "escape any $ with another $") != NULL,
                  "'%s': %s", text, err.msg);
}

static const char *const no_vars[] = {NULL};
static const char *const some_vars[] = {"A",      "a",       "E", "",
                                        "SECRET", "hunter2", NULL};

START_TEST(test_interp__literal_dollars_stay)
{
    assert_expands("$1 $ $} $-x $", no_vars, "$1 $ $} $-x $");
    assert_expands("$$A $$$A $${A}", some_vars, "$A $a ${A}");
}
END_TEST

START_TEST(test_interp__invalid_braces_raise)
{
    assert_invalid("${", no_vars);
    assert_invalid("x ${1}", no_vars);
    assert_invalid("${A:x}", some_vars);
    assert_invalid("${A:-x", some_vars);
    assert_invalid("${A:-x\n}", some_vars);
    assert_invalid("${A::-x}", some_vars);
}
END_TEST

START_TEST(test_interp__operator_text_expands_only_when_used)
{
    assert_expands("${A:-${}}", some_vars, "a");
    assert_expands("${A-${X:?no}}", some_vars, "a");
    assert_expands("${X+${}}", some_vars, "");
    assert_invalid("${X:-${}}", some_vars);
    assert_invalid("${E:-${}}", some_vars);
}
END_TEST

START_TEST(test_interp__braces_balance_as_compose_counts)
{
    /* The character after each '{' is skipped while counting. */
    assert_expands("${X:-{}}", no_vars, "{}");
    assert_expands("${X:-a}b}", no_vars, "ab}");
    assert_expands("${X:-{x}", no_vars, "{x");
    assert_expands("${X:-${A}} ${A:+y}", some_vars, "a y");
    assert_expands("${X:-${Y:-${Z:-deep}}}!", no_vars, "deep!");
}
END_TEST

START_TEST(test_interp__folded_letters_are_name_characters)
{
    /* Go's case-insensitive [a-z] matches U+017F and U+212A. */
    static const char *const vars[] = {"\xc5\xbf", "long s", "\xe2\x84\xaa",
                                       "kelvin", NULL};

    assert_expands("$\xc5\xbf/${\xe2\x84\xaa}", vars, "long s/kelvin");
    assert_expands("$\xc3\xa9", vars, "$\xc3\xa9");
}
END_TEST

START_TEST(test_interp__required_error_quotes_message_as_written)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    char *got = expand("${X:?set X, not $SECRET}", some_vars, &err);

    ck_assert_ptr_null(got);
    ck_assert_str_eq(err.msg,
                     "required variable X is missing a value: set X, not "
                     "$SECRET");
    got = expand("${E?}${E:?}", some_vars, &err);
    ck_assert_ptr_null(got);
    ck_assert_str_eq(err.msg, "required variable E is missing a value");
    assert_expands("${SECRET:?unused}", some_vars, "hunter2");
}
END_TEST

START_TEST(test_interp__null_lookup_finds_nothing)
{
    struct rotarr_buf out = ROTARR_BUF_INIT;
    struct rotarr_error err = ROTARR_ERROR_INIT;

    ck_assert_int_eq(
        rotarr_interp_expand("a$B${C:-d}", 10, NULL, NULL, &out, &err), 0);
    ck_assert_str_eq(out.data, "ad");
    rotarr_buf_release(&out);
}
END_TEST

START_TEST(test_interp__appends_to_existing_text)
{
    struct rotarr_buf out = ROTARR_BUF_INIT;
    struct rotarr_error err = ROTARR_ERROR_INIT;

    ck_assert_int_eq(rotarr_buf_puts(&out, "key=", &err), 0);
    ck_assert_int_eq(rotarr_interp_expand("$A", 2, pairs_lookup,
                                          (void *)some_vars, &out, &err),
                     0);
    ck_assert_str_eq(out.data, "key=a");
    rotarr_buf_release(&out);
}
END_TEST

/* Expands n nested "${X:-" expressions around "end". */
static char *expand_nested(int n, struct rotarr_error *err)
{
    struct rotarr_buf text = ROTARR_BUF_INIT;
    char *got;
    int i;

    for (i = 0; i < n; i++) {
        ck_assert_int_eq(rotarr_buf_puts(&text, "${X:-", err), 0);
    }
    ck_assert_int_eq(rotarr_buf_puts(&text, "end", err), 0);
    for (i = 0; i < n; i++) {
        ck_assert_int_eq(rotarr_buf_puts(&text, "}", err), 0);
    }
    got = expand(text.data, no_vars, err);
    rotarr_buf_release(&text);
    return got;
}

START_TEST(test_interp__depth_is_capped)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    char *got = expand_nested(ROTARR_INTERP_MAX_DEPTH, &err);

    ck_assert_msg(got != NULL, "%d levels: %s", ROTARR_INTERP_MAX_DEPTH,
                  err.msg);
    ck_assert_str_eq(got, "end");
    free(got);
    ck_assert_ptr_null(expand_nested(ROTARR_INTERP_MAX_DEPTH + 1, &err));
    ck_assert_ptr_nonnull(strstr(err.msg, "nested deeper than 32 levels"));
}
END_TEST

START_TEST(test_interp__output_is_capped)
{
    size_t half = ROTARR_INTERP_MAX_OUTPUT / 2;
    char *big = malloc(half + 1);
    const char *vars[] = {"B", big, NULL};
    struct rotarr_error err = ROTARR_ERROR_INIT;
    char *got;

    ck_assert_ptr_nonnull(big);
    memset(big, 'b', half);
    big[half] = '\0';
    got = expand("$B$B", vars, &err);
    ck_assert_msg(got != NULL, "exactly the cap: %s", err.msg);
    ck_assert_uint_eq(strlen(got), ROTARR_INTERP_MAX_OUTPUT);
    free(got);
    ck_assert_ptr_null(expand("$B$B.", vars, &err));
    ck_assert_ptr_nonnull(strstr(err.msg, "exceeds 16 MiB"));
    free(big);
}
END_TEST

/* References collected by rotarr_interp_refs. */
struct ref_list {
    size_t count;
    struct rotarr_interp_ref refs[MAX_REFS];
    size_t stop_after; /* returns 7 at this reference when non-zero */
};

static int collect_ref(void *cbctx, const struct rotarr_interp_ref *ref)
{
    struct ref_list *list = cbctx;

    ck_assert_uint_lt(list->count, MAX_REFS);
    list->refs[list->count++] = *ref;
    return list->count == list->stop_after ? 7 : 0;
}

static void assert_ref(const struct ref_list *list, size_t i, const char *name,
                       size_t start, size_t end, int nested)
{
    const struct rotarr_interp_ref *ref = &list->refs[i];

    ck_assert_uint_lt(i, list->count);
    ck_assert_uint_eq(ref->name_len, strlen(name));
    ck_assert_int_eq(memcmp(ref->name, name, ref->name_len), 0);
    ck_assert_uint_eq(ref->start, start);
    ck_assert_uint_eq(ref->end, end);
    ck_assert_int_eq(ref->nested, nested);
}

START_TEST(test_interp__refs_lists_references_in_order)
{
    const char *text = "u=$USER p=${PW:-${DEF}x} $$HOME ${Z}";
    struct ref_list list;
    struct rotarr_error err = ROTARR_ERROR_INIT;

    memset(&list, 0, sizeof(list));
    ck_assert_int_eq(
        rotarr_interp_refs(text, strlen(text), collect_ref, &list, &err), 0);
    ck_assert_uint_eq(list.count, 4);
    assert_ref(&list, 0, "USER", 2, 7, 0);
    assert_ref(&list, 1, "PW", 10, 24, 0);
    assert_ref(&list, 2, "DEF", 16, 22, 1);
    assert_ref(&list, 3, "Z", 32, 36, 0);
}
END_TEST

START_TEST(test_interp__refs_skip_escaped_dollars)
{
    struct ref_list list;
    struct rotarr_error err = ROTARR_ERROR_INIT;

    memset(&list, 0, sizeof(list));
    ck_assert_int_eq(
        rotarr_interp_refs("$$A $${B} $1", 12, collect_ref, &list, &err), 0);
    ck_assert_uint_eq(list.count, 0);
    ck_assert_int_eq(rotarr_interp_refs("$$$A", 4, collect_ref, &list, &err),
                     0);
    ck_assert_uint_eq(list.count, 1);
    assert_ref(&list, 0, "A", 2, 4, 0);
}
END_TEST

START_TEST(test_interp__refs_stop_when_callback_says_so)
{
    struct ref_list list;
    struct rotarr_error err = ROTARR_ERROR_INIT;

    memset(&list, 0, sizeof(list));
    list.stop_after = 2;
    ck_assert_int_eq(
        rotarr_interp_refs("$A $B $C", 8, collect_ref, &list, &err), 7);
    ck_assert_uint_eq(list.count, 2);
}
END_TEST

START_TEST(test_interp__refs_reject_invalid_text)
{
    struct ref_list list;
    struct rotarr_error err = ROTARR_ERROR_INIT;

    memset(&list, 0, sizeof(list));
    ck_assert_int_eq(rotarr_interp_refs("$A ${B", 6, collect_ref, &list, &err),
                     -1);
    ck_assert_int_eq(err.code, ROTARR_EFILE);
    ck_assert_uint_eq(list.count, 1);
}
END_TEST

static Suite *interp_suite(void)
{
    Suite *s = suite_create("interp");
    TCase *upstream = tcase_create("upstream");
    TCase *expand_case = tcase_create("expand");
    TCase *refs = tcase_create("refs");
    int template_count = (int)json_get(inline_cases, "template")->count;

    tcase_add_loop_test(upstream, test_interp__template_case, 0,
                        template_count);
    tcase_add_loop_test(upstream,
                        test_interp__template_check_rejects_spoiled_case, 0,
                        template_count);
    suite_add_tcase(s, upstream);

    tcase_add_test(expand_case, test_interp__literal_dollars_stay);
    tcase_add_test(expand_case, test_interp__invalid_braces_raise);
    tcase_add_test(expand_case,
                   test_interp__operator_text_expands_only_when_used);
    tcase_add_test(expand_case, test_interp__braces_balance_as_compose_counts);
    tcase_add_test(expand_case,
                   test_interp__folded_letters_are_name_characters);
    tcase_add_test(expand_case,
                   test_interp__required_error_quotes_message_as_written);
    tcase_add_test(expand_case, test_interp__null_lookup_finds_nothing);
    tcase_add_test(expand_case, test_interp__appends_to_existing_text);
    tcase_add_test(expand_case, test_interp__depth_is_capped);
    tcase_add_test(expand_case, test_interp__output_is_capped);
    suite_add_tcase(s, expand_case);

    tcase_add_test(refs, test_interp__refs_lists_references_in_order);
    tcase_add_test(refs, test_interp__refs_skip_escaped_dollars);
    tcase_add_test(refs, test_interp__refs_stop_when_callback_says_so);
    tcase_add_test(refs, test_interp__refs_reject_invalid_text);
    suite_add_tcase(s, refs);
    return s;
}

int main(void)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    const char *data = getenv("ROTARR_TEST_DATA");
    char path[4096];
    SRunner *runner;
    int failed;

    if (rotarr_secret_init(&err) < 0 || data == NULL) {
        fprintf(stderr, "test_interp: %s\n",
                data == NULL ? "ROTARR_TEST_DATA is not set" : err.msg);
        return 1;
    }
    snprintf(path, sizeof(path), "%s/dotenv-cases/inline-cases.json", data);
    inline_cases = json_load(path);
    if (inline_cases == NULL || json_get(inline_cases, "template") == NULL) {
        fprintf(stderr, "test_interp: cannot read %s\n", path);
        return 1;
    }
    runner = srunner_create(interp_suite());
    srunner_run_all(runner, CK_NORMAL);
    failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    json_free(inline_cases);
    return failed == 0 ? 0 : 1;
}
