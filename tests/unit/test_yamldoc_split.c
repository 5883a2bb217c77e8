/*
 * Unit tests of the split parse of large YAML texts (lib/stack/
 * yamldoc_split.c).  The split must never change a result: each test
 * parses a text split at many lines and in one piece and compares every
 * node, or the error message, of the two.  The size from which texts are
 * split is lowered to 0 so that small texts are split.
 */
#include "rotarr/compat.h"

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "../../lib/stack/yamldoc_private.h"
#include "rotarr/secret.h"
#include "rotarr/yamldoc.h"

/* Nodes compared at most per pair of trees, which bounds the walk when
 * aliases make a tree much larger than its text. */
#define MAX_COMPARED 200000

/* The corpus files are split after every 13th line: every line would
 * take a minute, and the lines of one file look much alike. */
#define CORPUS_LINE_STEP 13

/* A compose file in the shape that the split is for: anchors before the
 * services, merge keys and aliases inside them, block scalars, comments
 * and blank lines between entries, and more top-level keys after. */
static const char compose_text[] =
    "# a comment\n"
    "name: demo\n"
    "x-env: &env\n"
    "  TZ: UTC\n"
    "  LANG: \"C.UTF-8\"\n"
    "\n"
    "services:\n"
    "  db:\n"
    "    <<: &base\n"
    "      restart: always\n"
    "    image: postgres:16 # trailing comment\n"
    "    environment:\n"
    "      <<: *env\n"
    "      POSTGRES_PASSWORD: ${PW}\n"
    "    command: >\n"
    "      postgres -c\n"
    "      max_connections=200\n"
    "\n"
    "# between services\n"
    "  cache:\n"
    "    <<: *base\n"
    "    image: 'redis:7'\n"
    "    entrypoint:\n"
    "    - redis-server\n"
    "    - --save\n"
    "    healthcheck: {test: [CMD, ping], interval: 10s}\n"
    "  web:\n"
    "    image: \"caf\xC3\xA9:1\"\n"
    "    labels: &labels\n"
    "      a: |\n"
    "        line one\n"
    "\n"
    "        line three\n"
    "\n"
    "  worker:\n"
    "    labels: *labels\n"
    "    environment:\n"
    "      - KEY=value\n"
    "      -   \n"
    "    empty:\n"
    "  last: ~\n"
    "volumes:\n"
    "  data: {}\n"
    "secrets:\n"
    "  pw:\n"
    "    file: ./pw.txt\n";

/* Texts with traps at line starts: each is compared split at every
 * line, whether or not the split gives up. */
static const char *const trap_texts[] = {
    /* services last, no line after them, no final line break */
    "services:\n  a:\n    x: 1\n  b:\n    y: 2\n  c: 3",
    /* a flow sequence running over lines at the mapping's indentation */
    "services:\n  a: [1,\n  b, 2]\n  c: 3\nother: 4\n",
    /* a quoted scalar running over lines */
    "services:\n  a: \"one\n  b: two\"\n  c: 3\nother: 4\n",
    /* a block scalar whose lines look like keys */
    "services:\n  a: |\n    b: 1\n    c: 2\n  d: 3\nother: 4\n",
    /* an indentless sequence as a value of the mapping */
    "services:\n  a:\n  - 1\n  - 2\n  b:\n  - 3\nother: 4\n",
    /* directives and explicit documents */
    "%YAML 1.1\n---\nservices:\n  a: 1\n  b: 2\n  c: 3\n...\n",
    "%TAG !e! tag:example.com,2000:\n---\nservices:\n  a: !e!x 1\n"
    "  b: !e!y 2\n  c: 3\n",
    "a: 1\n---\nservices:\n  a: 1\n  b: 2\n---\nc: 3\n",
    "services:\n  a: 1\n  b: 2\n---\nservices:\n  c: 1\n  d: 2\n",
    "services:\n  a: 1\n  b: 2\n...\nnext: 1\n",
    /* CRLF and lone CR line ends, and NEL inside a scalar */
    "services:\r\n  a: 1\r\n  b: 2\r\n  c: 3\r\nother: 4\r\n",
    "services:\r  a: 1\r  b: 2\n  c: 3\nother: 4\n",
    "services:\n  a: \"x\xC2\x85y\"\n  b: 2\n  c: 3\nother: 4\n",
    /* a key at a smaller indentation inside the mapping */
    "services:\n  a: 1\n b: 2\n  c: 3\nother: 4\n",
    /* tabs */
    "services:\n  a: 1\n\t\n  b: 2\nother: 4\n",
    "services:\n  a:\t1\n  b:\t2\n  c: 3\nother: 4\n",
    /* a root sequence and a root scalar */
    "- services:\n  a: 1\n  b: 2\n- c\n",
    "services\n  a\n  b\n",
    /* anchors used across the cut, and one redefined after it */
    "services:\n  a: &x 1\n  b: *x\n  c: &x 2\n  d: *x\nother: *x\n",
    /* explicit keys and a complex value, and an explicit key with no
     * value, whose empty value takes the mark of the next token */
    "services:\n  ? a\n  : 1\n  b: 2\n  ? c\n  : 3\nother: 4\n",
    "services:\n  a: 1\n  ? b: >\n      x\n  c: 3\n  ? d\nother: 4\n",
    /* the mapping with anchors and tags on it */
    "services: &s !!map\n  a: 1\n  b: 2\nother: *s\n",
    /* errors after, inside and before the cut */
    "services:\n  a: 1\n  b: 2\n  a: 3\nother: 4\n",
    "services:\n  a: 1\n  b: *missing\n  c: 3\nother: 4\n",
    "services:\n  a: 1\n  b: 2\nother: [\n",
    "services:\n  a: 1\n  b: 2\n  c: 3\nother: 4\nother: 5\n",
    "x: {a: 1, a: 2}\nservices:\n  a: 1\n  b: 2\n",
    "services:\n  a: 1\n  b: 2\n  c: 3\n    d: 4\nother: 4\n",
    NULL,
};

static size_t compared;

static void compare_text(const char *a, const char *b, const char *what)
{
    if (a == NULL || b == NULL) {
        ck_assert_msg(a == b, "%s differs", what);
        return;
    }
    ck_assert_str_eq(a, b);
}

static void compare_nodes(const struct rotarr_ynode *a,
                          const struct rotarr_ynode *b, size_t depth)
{
    const struct rotarr_ynode *const *pairs_a;
    const struct rotarr_ynode *const *pairs_b;
    size_t n_a;
    size_t n_b;
    size_t i;
    size_t items;

    if (++compared > MAX_COMPARED || depth > ROTARR_YDOC_MAX_DEPTH + 1) {
        return;
    }
    ck_assert_int_eq(a->kind, b->kind);
    ck_assert_int_eq(a->style, b->style);
    ck_assert_int_eq(a->flow, b->flow);
    ck_assert_uint_eq(a->start, b->start);
    ck_assert_uint_eq(a->end, b->end);
    ck_assert_uint_eq(a->line, b->line);
    ck_assert_uint_eq(a->column, b->column);
    ck_assert_uint_eq(a->count, b->count);
    ck_assert_uint_eq(a->value_len, b->value_len);
    compare_text(a->tag, b->tag, "tag");
    compare_text(a->anchor, b->anchor, "anchor");
    if (a->kind == ROTARR_YNODE_SCALAR) {
        ck_assert_mem_eq(a->value, b->value, a->value_len + 1);
        return;
    }
    n_a = rotarr_ynode_pairs(a, &pairs_a);
    n_b = rotarr_ynode_pairs(b, &pairs_b);
    ck_assert_uint_eq(n_a, n_b);
    for (i = 0; i < 2 * n_a; i++) {
        ck_assert_uint_eq(pairs_a[i]->start, pairs_b[i]->start);
    }
    items = a->kind == ROTARR_YNODE_MAPPING ? 2 * a->count : a->count;
    for (i = 0; i < items; i++) {
        compare_nodes(a->items[i], b->items[i], depth + 1);
    }
}

static struct rotarr_ydoc *parse_with(const char *text, size_t len,
                                      size_t min_bytes, size_t target,
                                      struct rotarr_error *err)
{
    struct rotarr_ydoc *doc;

    ysplit_settings.min_bytes = min_bytes;
    ysplit_settings.target = target;
    ysplit_settings.last_result = -1;
    rotarr_error_clear(err);
    doc = rotarr_ydoc_parse("t.yaml", text, len, err);
    ysplit_settings.min_bytes = SIZE_MAX;
    ysplit_settings.target = 0;
    return doc;
}

/* Parses text split after byte target and in one piece, checks that the
 * two agree, and returns the split parse's outcome. */
static int compare_split(const char *text, size_t len, size_t target)
{
    struct rotarr_error whole_err = ROTARR_ERROR_INIT;
    struct rotarr_error split_err = ROTARR_ERROR_INIT;
    struct rotarr_ydoc *whole;
    struct rotarr_ydoc *split;
    int outcome;
    size_t i;

    whole = parse_with(text, len, SIZE_MAX, 0, &whole_err);
    split = parse_with(text, len, 0, target, &split_err);
    outcome = ysplit_settings.last_result;
    ck_assert_msg((whole == NULL) == (split == NULL),
                  "target %zu: whole '%s', split '%s'", target,
                  whole != NULL ? "ok" : whole_err.msg,
                  split != NULL ? "ok" : split_err.msg);
    if (whole == NULL) {
        ck_assert_str_eq(split_err.msg, whole_err.msg);
        return outcome;
    }
    ck_assert_uint_eq(rotarr_ydoc_document_count(split),
                      rotarr_ydoc_document_count(whole));
    compared = 0;
    for (i = 0; i < rotarr_ydoc_document_count(whole); i++) {
        compare_nodes(rotarr_ydoc_document(split, i),
                      rotarr_ydoc_document(whole, i), 0);
    }
    rotarr_ydoc_free(whole);
    rotarr_ydoc_free(split);
    return outcome;
}

/* Compares the split parse after every step-th line of text with the
 * whole parse.  Returns how many of the splits were kept. */
static size_t compare_lines(const char *text, size_t len, size_t step)
{
    size_t kept = 0;
    size_t lines = 0;
    size_t target;

    for (target = 1; target < len; target++) {
        if (text[target - 1] == '\n' && lines++ % step == 0 &&
            compare_split(text, len, target - 1) == 0) {
            kept++;
        }
    }
    return kept;
}

START_TEST(test_yamldoc_split__compose_matches_whole_parse)
{
    size_t kept = compare_lines(compose_text, strlen(compose_text), 1);

    /* Every line from the first service's to the last one's can start
     * the tail. */
    ck_assert_uint_ge(kept, 20);
}
END_TEST

START_TEST(test_yamldoc_split__splits_compose_services)
{
    const char *cut = strstr(compose_text, "  cache:");

    ck_assert_ptr_nonnull(cut);
    ck_assert_int_eq(compare_split(compose_text, strlen(compose_text),
                                   (size_t)(cut - compose_text) - 1),
                     0);
}
END_TEST

START_TEST(test_yamldoc_split__gives_up_on_flow_across_cut)
{
    const char *text = trap_texts[1];
    const char *cut = strstr(text, "  b, 2]");

    ck_assert_ptr_nonnull(cut);
    ck_assert_int_eq(compare_split(text, strlen(text),
                                   (size_t)(cut - text) - 1),
                     YEVENTS_RETRY);
}
END_TEST

START_TEST(test_yamldoc_split__gives_up_on_directives)
{
    const char *text = trap_texts[6];
    const char *cut = strstr(text, "  b:");

    ck_assert_ptr_nonnull(cut);
    ck_assert_int_eq(compare_split(text, strlen(text),
                                   (size_t)(cut - text) - 1),
                     YEVENTS_RETRY);
}
END_TEST

START_TEST(test_yamldoc_split__traps_match_whole_parse)
{
    size_t i;

    for (i = 0; trap_texts[i] != NULL; i++) {
        (void)compare_lines(trap_texts[i], strlen(trap_texts[i]), 1);
    }
}
END_TEST

START_TEST(test_yamldoc_split__errors_match_whole_parse)
{
    static const char *const bad[] = {
        "services:\n  a: 1\n  b: 2\n  a: 3\nother: 4\n",
        "services:\n  a: 1\n  b: *missing\n  c: 3\nother: 4\n",
        "services:\n  a: 1\n  b: 2\nother: [\n",
    };
    const char *cut;
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cut = strstr(bad[i], "  b:");
        ck_assert_ptr_nonnull(cut);
        ck_assert_int_eq(compare_split(bad[i], strlen(bad[i]),
                                       (size_t)(cut - bad[i]) - 1),
                         YEVENTS_RETRY);
    }
}
END_TEST

/* A deterministic generator, so that a failure repeats. */
static uint32_t next_random(uint32_t *state)
{
    *state = *state * 1103515245u + 12345u;
    return *state >> 8;
}

static size_t mutate(char *text, size_t len, size_t cap, uint32_t *state)
{
    static const char pieces[] = " \n:-#|>'\"[]{},&*!?%\t\r";
    size_t at = next_random(state) % (len + 1);
    char c = pieces[next_random(state) % (sizeof(pieces) - 1)];

    if (next_random(state) % 2 == 0 && len > 0 && at < len) {
        memmove(text + at, text + at + 1, len - at - 1);
        len--;
    } else if (len + 1 < cap) {
        memmove(text + at + 1, text + at, len - at);
        text[at] = c;
        len++;
    }
    text[len] = '\0';
    return len;
}

START_TEST(test_yamldoc_split__mutations_match_whole_parse)
{
    char text[sizeof(compose_text) + 64];
    uint32_t state = 1;
    size_t len;
    size_t round;
    size_t edit;
    size_t kept = 0;

    for (round = 0; round < 400; round++) {
        memcpy(text, compose_text, sizeof(compose_text));
        len = strlen(text);
        for (edit = 0; edit <= round % 4; edit++) {
            len = mutate(text, len, sizeof(text), &state);
        }
        kept += compare_split(text, len, next_random(&state) % len) == 0;
    }
    /* Most mutations leave a text that still splits. */
    ck_assert_uint_ge(kept, 40);
}
END_TEST

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *bytes;
    long size;

    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
    size = ftell(f);
    ck_assert_int_ge(size, 0);
    rewind(f);
    bytes = malloc((size_t)size + 1);
    ck_assert_ptr_nonnull(bytes);
    ck_assert_uint_eq(fread(bytes, 1, (size_t)size, f), (size_t)size);
    bytes[size] = '\0';
    fclose(f);
    *len = (size_t)size;
    return bytes;
}

static int is_compose_name(const char *name)
{
    size_t n = strlen(name);

    return (n > 5 && strcmp(name + n - 5, ".yaml") == 0) ||
           (n > 4 && strcmp(name + n - 4, ".yml") == 0);
}

/* Every YAML file of the shared corpus, split at every
 * CORPUS_LINE_STEP-th line. */
START_TEST(test_yamldoc_split__corpus_matches_whole_parse)
{
    const char *shared = getenv("ROTARR_SHARED");
    char dir_path[4096];
    char path[8192];
    struct dirent *stack;
    struct dirent *entry;
    DIR *corpus;
    DIR *dir;
    char *text;
    size_t len;
    size_t files = 0;
    size_t kept = 0;

    ck_assert_ptr_nonnull(shared);
    snprintf(dir_path, sizeof(dir_path), "%s/corpus", shared);
    corpus = opendir(dir_path);
    ck_assert_ptr_nonnull(corpus);
    while ((stack = readdir(corpus)) != NULL) {
        if (stack->d_name[0] == '.') {
            continue;
        }
        snprintf(path, sizeof(path), "%s/%s", dir_path, stack->d_name);
        dir = opendir(path);
        while (dir != NULL && (entry = readdir(dir)) != NULL) {
            if (!is_compose_name(entry->d_name)) {
                continue;
            }
            snprintf(path, sizeof(path), "%s/%s/%s", dir_path,
                     stack->d_name, entry->d_name);
            text = read_file(path, &len);
            kept += compare_lines(text, len, CORPUS_LINE_STEP);
            files++;
            free(text);
        }
        if (dir != NULL) {
            closedir(dir);
        }
    }
    closedir(corpus);
    ck_assert_uint_gt(files, 0);
    ck_assert_uint_gt(kept, 0);
}
END_TEST

static Suite *yamldoc_split_suite(void)
{
    Suite *s = suite_create("yamldoc_split");
    TCase *shape = tcase_create("shape");
    TCase *compare = tcase_create("compare");

    tcase_add_test(shape, test_yamldoc_split__splits_compose_services);
    tcase_add_test(shape, test_yamldoc_split__gives_up_on_flow_across_cut);
    tcase_add_test(shape, test_yamldoc_split__gives_up_on_directives);
    tcase_add_test(shape, test_yamldoc_split__errors_match_whole_parse);
    suite_add_tcase(s, shape);

    tcase_set_timeout(compare, 600);
    tcase_add_test(compare, test_yamldoc_split__compose_matches_whole_parse);
    tcase_add_test(compare, test_yamldoc_split__traps_match_whole_parse);
    tcase_add_test(compare,
                   test_yamldoc_split__mutations_match_whole_parse);
    tcase_add_test(compare, test_yamldoc_split__corpus_matches_whole_parse);
    suite_add_tcase(s, compare);
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
    runner = srunner_create(yamldoc_split_suite());
    srunner_run_all(runner, CK_NORMAL);
    failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
