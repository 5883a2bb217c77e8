/*
 * Unit tests of the .env reader and writer (rotarr/dotenv.h): Compose's
 * own fixtures and test cases from tests/data/dotenv-cases, one Check
 * loop iteration per case, then positions, flags, encoding and limits.
 */
#include "rotarr/compat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <check.h>

#include "rotarr/buf.h"
#include "rotarr/dotenv.h"
#include "rotarr/secret.h"
#include "case_json.h"

#define MAX_CASES 64
#define MAX_KEYS 64
#define MAX_FILES 4
#define WHY_MAX 512

/* The parse of a 16 MiB file must take less than this many seconds of
 * CPU time (not wall time, which depends on the load of the machine).
 * The sanitizers slow the code down several times. */
#if defined(__SANITIZE_ADDRESS__)
#define PARSE_SECONDS_MAX 10.0
#else
#define PARSE_SECONDS_MAX 1.0
#endif

static char case_dir[4096];
static struct json_node *manifest;
static struct json_node *inline_cases;
static struct json_node *quirks;
static const struct json_node *map_cases[MAX_CASES];
static size_t map_case_count;
static const struct json_node *error_cases[MAX_CASES];
static size_t error_case_count;
/* One manifest case per .env file, for the tests that only need a file
 * and the environment it is read with. */
static const struct json_node *file_cases[MAX_CASES];
static size_t file_case_count;

/* A key -> value map that a case expects. */
struct expect {
    size_t count;
    const char *keys[MAX_KEYS];
    const char *values[MAX_KEYS];
    size_t lens[MAX_KEYS];
    int exact;           /* no other key may be set */
    int drop_digit_keys; /* compose-go's Read() drops keys like "456" */
};

static const char *json_lookup(void *ctx, const char *name)
{
    return json_get_str(ctx, name);
}

static const struct json_node *section(const struct json_node *root,
                                       const char *name, size_t i)
{
    const struct json_node *list = json_get(root, name);

    ck_assert_ptr_nonnull(list);
    ck_assert_uint_lt(i, list->count);
    return list->items[i];
}

static size_t section_count(const struct json_node *root, const char *name)
{
    const struct json_node *list = json_get(root, name);

    return list != NULL ? list->count : 0;
}

static char *read_case_file(const char *name, size_t *len)
{
    char path[8192];
    FILE *f;
    char *bytes;
    long size;

    ck_assert_int_lt(snprintf(path, sizeof(path), "%s/%s", case_dir, name),
                     (int)sizeof(path));
    f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
    size = ftell(f);
    ck_assert_int_ge(size, 0);
    rewind(f);
    bytes = malloc((size_t)size + 1);
    ck_assert_ptr_nonnull(bytes);
    ck_assert_uint_eq(fread(bytes, 1, (size_t)size, f), (size_t)size);
    fclose(f);
    bytes[size] = '\0';
    *len = (size_t)size;
    return bytes;
}

static struct rotarr_dotenv *parse_text(const char *text, size_t len,
                                        const struct json_node *env_vars,
                                        const struct rotarr_dotenv *prior,
                                        struct rotarr_error *err)
{
    return rotarr_dotenv_parse("test.env", text, len,
                               env_vars != NULL ? json_lookup : NULL,
                               (void *)env_vars, prior, err);
}

static struct rotarr_dotenv *parse_str(const char *text,
                                       struct rotarr_error *err)
{
    return parse_text(text, strlen(text), NULL, NULL, err);
}

static void expect_init(struct expect *e, const struct json_node *map,
                        int exact, int drop_digit_keys)
{
    size_t i;

    memset(e, 0, sizeof(*e));
    ck_assert_ptr_nonnull(map);
    ck_assert_uint_le(map->count, MAX_KEYS);
    for (i = 0; i < map->count; i++) {
        e->keys[i] = map->keys[i]->text;
        e->values[i] = map->items[i]->text;
        e->lens[i] = map->items[i]->len;
    }
    e->count = map->count;
    e->exact = exact;
    e->drop_digit_keys = drop_digit_keys;
}

/* Returns the entry of the last file in envs[0..n) that sets key. */
static const struct rotarr_dotenv_entry *
merged_entry(struct rotarr_dotenv *const *envs, size_t n, const char *key)
{
    const struct rotarr_dotenv_entry *entry;

    while (n-- > 0) {
        entry = rotarr_dotenv_find(envs[n], key);
        if (entry != NULL) {
            return entry;
        }
    }
    return NULL;
}

/* Counts the keys set by envs[0..n) together. */
static size_t merged_count(struct rotarr_dotenv *const *envs, size_t n,
                           int drop_digit_keys)
{
    const struct rotarr_dotenv_entry *entry;
    size_t count = 0;
    size_t i;
    size_t j;

    for (j = 0; j < n; j++) {
        for (i = 0; i < rotarr_dotenv_count(envs[j]); i++) {
            entry = rotarr_dotenv_entry(envs[j], i);
            if (entry->value == NULL ||
                merged_entry(envs, n, entry->key) != entry ||
                (drop_digit_keys && entry->key[0] >= '0' &&
                 entry->key[0] <= '9')) {
                continue;
            }
            count++;
        }
    }
    return count;
}

/*
 * Returns 1 when the map that Compose builds from envs[0..n) (later files
 * win) contains what e expects; otherwise 0 with the reason in why.
 */
static int map_matches(struct rotarr_dotenv *const *envs, size_t n,
                       const struct expect *e, char *why)
{
    const struct rotarr_dotenv_entry *entry;
    size_t count;
    size_t i;

    for (i = 0; i < e->count; i++) {
        entry = merged_entry(envs, n, e->keys[i]);
        if (entry == NULL) {
            snprintf(why, WHY_MAX, "key '%s' is not set", e->keys[i]);
            return 0;
        }
        if (entry->value_len != e->lens[i] ||
            memcmp(entry->value, e->values[i], e->lens[i]) != 0) {
            snprintf(why, WHY_MAX, "key '%s' is '%s', want '%s'", e->keys[i],
                     entry->value, e->values[i]);
            return 0;
        }
    }
    count = merged_count(envs, n, e->drop_digit_keys);
    if (e->exact && count != e->count) {
        snprintf(why, WHY_MAX, "%zu keys set, want %zu", count, e->count);
        return 0;
    }
    return 1;
}

/* Changes the expected map so that no correct parse can match it: the
 * first value gets an extra byte, or an empty map expects an empty key. */
static void expect_spoil(struct expect *e, char *spare)
{
    size_t n;

    if (e->count == 0) {
        e->keys[0] = "VARIABLE_NOT_FOUND";
        e->values[0] = "";
        e->lens[0] = 0;
        e->count = 1;
        return;
    }
    n = e->lens[0] < WHY_MAX - 2 ? e->lens[0] : WHY_MAX - 2;
    memcpy(spare, e->values[0], n);
    spare[n] = 'x';
    spare[n + 1] = '\0';
    e->values[0] = spare;
    e->lens[0] = n + 1;
}

/*
 * Writes into want the text a rotarr error must contain for an error text
 * asserted upstream ("line N: what" becomes ":N: what").  The documented
 * differences: an invalid key character quotes the name only up to '='
 * or ':', an unterminated quote quotes no text and is checked for its
 * line elsewhere, and an invalid template is "invalid interpolation
 * format".
 */
static void expected_error(const char *upstream, char *want)
{
    unsigned line = 0;
    int skip = 0;
    const char *what = upstream;
    const char *name;
    size_t cut;
    char text[WHY_MAX - 32];

    if (sscanf(upstream, "line %u: %n", &line, &skip) == 1 && skip > 0) {
        what = upstream + skip;
    }
    if (strncmp(what, "unterminated quoted value", 25) == 0) {
        snprintf(want, WHY_MAX, "unterminated quoted value");
        return;
    }
    if (strncmp(what, "Invalid template", 16) == 0) {
        snprintf(want, WHY_MAX, "invalid interpolation format");
        return;
    }
    snprintf(text, sizeof(text), "%s", what);
    name = strstr(text, "in variable name \"");
    if (name != NULL) {
        name += strlen("in variable name \"");
        cut = strcspn(name, "=:");
        if (cut >= strlen(name)) {
            cut = strlen(name) - 1; /* the closing quote */
        }
        snprintf(text + (name - text) + cut,
                 sizeof(text) - (size_t)(name - text) - cut, "\"");
    }
    if (line > 0) {
        snprintf(want, WHY_MAX, ":%u: %s", line, text);
    } else {
        snprintf(want, WHY_MAX, "%s", text);
    }
}

static struct json_node *load_json(const char *name)
{
    char path[8192];
    struct json_node *root;

    snprintf(path, sizeof(path), "%s/%s", case_dir, name);
    root = json_load(path);
    if (root == NULL) {
        fprintf(stderr, "test_dotenv: cannot read %s\n", path);
    }
    return root;
}

/* Reads the case files and sorts the manifest cases; returns -1 after
 * printing the reason. */
static int load_cases(void)
{
    const char *data = getenv("ROTARR_TEST_DATA");
    const struct json_node *cases;
    const struct json_node *c;
    size_t i;

    if (data == NULL) {
        fprintf(stderr, "test_dotenv: ROTARR_TEST_DATA is not set\n");
        return -1;
    }
    snprintf(case_dir, sizeof(case_dir), "%s/dotenv-cases", data);
    manifest = load_json("MANIFEST.json");
    inline_cases = load_json("inline-cases.json");
    quirks = load_json("observed-quirks.json");
    cases = json_get(manifest, "cases");
    if (inline_cases == NULL || quirks == NULL || cases == NULL ||
        cases->count > MAX_CASES) {
        return -1;
    }
    for (i = 0; i < cases->count; i++) {
        c = cases->items[i];
        if (json_get_str(c, "expected_error") != NULL) {
            error_cases[error_case_count++] = c;
            continue;
        }
        map_cases[map_case_count++] = c;
        if (file_case_count == 0 ||
            strcmp(json_get_str(file_cases[file_case_count - 1], "file"),
                   json_get_str(c, "file")) != 0) {
            file_cases[file_case_count++] = c;
        }
    }
    return 0;
}

/* Parses the fixture of a manifest case with the case's environment. */
static struct rotarr_dotenv *parse_fixture(const struct json_node *c,
                                           struct rotarr_error *err)
{
    size_t len;
    char *bytes = read_case_file(json_get_str(c, "file"), &len);
    struct rotarr_dotenv *env =
        parse_text(bytes, len, json_get(c, "os_env"), NULL, err);

    free(bytes);
    return env;
}

/* Fills e with the expected map of a manifest case; returns the tree
 * that contains its strings, for the caller to free. */
static struct json_node *fixture_expect(const struct json_node *c,
                                        struct expect *e)
{
    const char *api = json_get_str(c, "api");
    struct json_node *map = load_json(json_get_str(c, "expected"));

    ck_assert_ptr_nonnull(map);
    expect_init(e, map, json_get_true(c, "exact"),
                strncmp(api, "Read", 4) == 0);
    return map;
}

START_TEST(test_dotenv__json_reader_decodes_escapes)
{
    static const char json[] =
        "{\"a\": \"\\r\\t\\u0000x\\u00e9\\\\\\\"\", \"b\": null}";
    char path[] = "/tmp/rotarr-json-XXXXXX";
    int fd = mkstemp(path);
    struct json_node *root;
    const struct json_node *a;

    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, json, sizeof(json) - 1), sizeof(json) - 1);
    close(fd);
    root = json_load(path);
    unlink(path);
    ck_assert_ptr_nonnull(root);
    a = json_get(root, "a");
    ck_assert_ptr_nonnull(a);
    ck_assert_uint_eq(a->len, 8);
    ck_assert_int_eq(memcmp(a->text, "\r\t\0x\xc3\xa9\\\"", 8), 0);
    ck_assert_int_eq(json_get(root, "b")->kind, JSON_NULL);
    ck_assert_ptr_null(json_get_str(root, "b"));
    json_free(root);
}
END_TEST

START_TEST(test_dotenv__fixture_gives_expected_map)
{
    const struct json_node *c = map_cases[_i];
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_dotenv *env = parse_fixture(c, &err);
    struct expect e;
    char why[WHY_MAX] = "";

    struct json_node *map;

    ck_assert_msg(env != NULL, "%s (%s): %s", json_get_str(c, "file"),
                  json_get_str(c, "test"), err.msg);
    map = fixture_expect(c, &e);
    ck_assert_msg(map_matches(&env, 1, &e, why), "%s (%s): %s",
                  json_get_str(c, "file"), json_get_str(c, "test"), why);
    json_free(map);
    rotarr_dotenv_free(env);
}
END_TEST

START_TEST(test_dotenv__fixture_check_rejects_spoiled_map)
{
    const struct json_node *c = map_cases[_i];
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_dotenv *env = parse_fixture(c, &err);
    struct expect e;
    char spare[WHY_MAX];
    char why[WHY_MAX] = "";

    struct json_node *map;

    ck_assert_ptr_nonnull(env);
    map = fixture_expect(c, &e);
    expect_spoil(&e, spare);
    ck_assert_msg(!map_matches(&env, 1, &e, why),
                  "%s (%s): a spoiled expected map still matches",
                  json_get_str(c, "file"), json_get_str(c, "test"));
    json_free(map);
    rotarr_dotenv_free(env);
}
END_TEST

START_TEST(test_dotenv__invalid_fixture_gives_expected_error)
{
    const struct json_node *c = error_cases[_i];
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_dotenv *env = parse_fixture(c, &err);
    size_t len;
    char *upstream = read_case_file(json_get_str(c, "expected_error"), &len);
    char want[WHY_MAX];

    upstream[strcspn(upstream, "\n")] = '\0';
    expected_error(upstream, want);
    ck_assert_msg(env == NULL, "%s: parsed without error",
                  json_get_str(c, "file"));
    ck_assert_int_eq(err.code, ROTARR_EFILE);
    ck_assert_msg(strstr(err.msg, want) != NULL, "%s: '%s' lacks '%s'",
                  json_get_str(c, "file"), err.msg, want);
    ck_assert_msg(strncmp(err.msg, "test.env:", 9) == 0,
                  "%s: '%s' does not start with the path",
                  json_get_str(c, "file"), err.msg);
    free(upstream);
}
END_TEST

START_TEST(test_dotenv__parse_single_case)
{
    const struct json_node *c = section(inline_cases, "parse_single", _i);
    const char *input = json_get_str(c, "input");
    const char *key = json_get_str(c, "key");
    const struct json_node *value = json_get(c, "value");
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_dotenv *env = parse_str(input, &err);
    const struct rotarr_dotenv_entry *entry;

    ck_assert_msg(env != NULL, "case %d '%s': %s", _i, input, err.msg);
    entry = rotarr_dotenv_find(env, key);
    ck_assert_msg(entry != NULL, "case %d '%s': key '%s' not set", _i, input,
                  key);
    ck_assert_msg(entry->value_len == value->len &&
                      memcmp(entry->value, value->text, value->len) == 0,
                  "case %d '%s': got '%s', want '%s'", _i, input, entry->value,
                  value->text);
    rotarr_dotenv_free(env);
}
END_TEST

START_TEST(test_dotenv__parse_single_check_rejects_spoiled_value)
{
    const struct json_node *c = section(inline_cases, "parse_single", _i);
    const char *input = json_get_str(c, "input");
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_dotenv *env = parse_str(input, &err);
    struct expect e;
    char spare[WHY_MAX];
    char why[WHY_MAX];

    ck_assert_ptr_nonnull(env);
    memset(&e, 0, sizeof(e));
    e.keys[0] = json_get_str(c, "key");
    e.values[0] = json_get(c, "value")->text;
    e.lens[0] = json_get(c, "value")->len;
    e.count = 1;
    ck_assert_msg(map_matches(&env, 1, &e, why), "case %d: %s", _i, why);
    expect_spoil(&e, spare);
    ck_assert_msg(!map_matches(&env, 1, &e, why),
                  "case %d: a spoiled value still matches", _i);
    rotarr_dotenv_free(env);
}
END_TEST

static struct rotarr_dotenv *parse_map_case(const struct json_node *c,
                                            struct expect *e,
                                            struct rotarr_error *err)
{
    const char *input = json_get_str(c, "input");

    expect_init(e, json_get(c, "expect"), json_get_true(c, "exact"), 0);
    return parse_text(input, strlen(input), json_get(c, "lookup"), NULL, err);
}

START_TEST(test_dotenv__parse_map_case)
{
    const struct json_node *c = section(inline_cases, "parse_map", _i);
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct expect e;
    struct rotarr_dotenv *env = parse_map_case(c, &e, &err);
    char why[WHY_MAX] = "";

    ck_assert_msg(env != NULL, "%s: %s", json_get_str(c, "test"), err.msg);
    ck_assert_msg(map_matches(&env, 1, &e, why), "%s: %s",
                  json_get_str(c, "test"), why);
    rotarr_dotenv_free(env);
}
END_TEST

START_TEST(test_dotenv__parse_map_check_rejects_spoiled_map)
{
    const struct json_node *c = section(inline_cases, "parse_map", _i);
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct expect e;
    struct rotarr_dotenv *env = parse_map_case(c, &e, &err);
    char spare[WHY_MAX];
    char why[WHY_MAX];

    ck_assert_ptr_nonnull(env);
    expect_spoil(&e, spare);
    ck_assert_msg(!map_matches(&env, 1, &e, why),
                  "%s: a spoiled map still matches", json_get_str(c, "test"));
    rotarr_dotenv_free(env);
}
END_TEST

/* Returns 1 when err is a parse error that contains want (any error when
 * want is NULL). */
static int error_matches(const struct rotarr_dotenv *env,
                         const struct rotarr_error *err, const char *want)
{
    return env == NULL && err->code == ROTARR_EFILE &&
           (want == NULL || strstr(err->msg, want) != NULL);
}

START_TEST(test_dotenv__parse_error_case)
{
    const struct json_node *c = section(inline_cases, "parse_error", _i);
    const char *input = json_get_str(c, "input");
    const char *upstream = json_get_str(c, "error_contains");
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_dotenv *env = parse_str(input, &err);
    char want[WHY_MAX];

    if (upstream != NULL) {
        expected_error(upstream, want);
    }
    ck_assert_msg(error_matches(env, &err, upstream != NULL ? want : NULL),
                  "case %d '%s': got '%s', want '%s'", _i, input,
                  env != NULL ? "(no error)" : err.msg,
                  upstream != NULL ? want : "(any error)");
    rotarr_dotenv_free(env);
}
END_TEST

START_TEST(test_dotenv__parse_error_check_rejects_other_text)
{
    const struct json_node *c = section(inline_cases, "parse_error", _i);
    const char *input = json_get_str(c, "input");
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_dotenv *env = parse_str(input, &err);

    ck_assert_msg(!error_matches(env, &err, "test.env:99: no such error"),
                  "case %d '%s': another error text still matches", _i, input);
    rotarr_dotenv_free(env);
}
END_TEST

/* Parses the files of a multi_file case in order, each one the prior of
 * the next; returns how many parsed. */
static size_t parse_multi(const struct json_node *c,
                          struct rotarr_dotenv **envs, struct rotarr_error *err)
{
    const struct json_node *files = json_get(c, "files");
    const struct json_node *lookup = json_get(c, "lookup");
    size_t i;

    ck_assert_ptr_nonnull(files);
    ck_assert_uint_le(files->count, MAX_FILES);
    for (i = 0; i < files->count; i++) {
        envs[i] = parse_text(files->items[i]->text, files->items[i]->len,
                             lookup, i > 0 ? envs[i - 1] : NULL, err);
        if (envs[i] == NULL) {
            break;
        }
    }
    return i;
}

static void free_multi(struct rotarr_dotenv **envs, size_t n)
{
    while (n-- > 0) {
        rotarr_dotenv_free(envs[n]);
    }
}

START_TEST(test_dotenv__multi_file_case)
{
    const struct json_node *c = section(inline_cases, "multi_file", _i);
    struct rotarr_dotenv *envs[MAX_FILES];
    struct rotarr_error err = ROTARR_ERROR_INIT;
    size_t n = parse_multi(c, envs, &err);
    struct expect e;
    char why[WHY_MAX] = "";

    ck_assert_msg(n == json_get(c, "files")->count, "case %d: %s", _i, err.msg);
    expect_init(&e, json_get(c, "expect"), json_get_true(c, "exact"), 0);
    ck_assert_msg(map_matches(envs, n, &e, why), "case %d: %s", _i, why);
    free_multi(envs, n);
}
END_TEST

START_TEST(test_dotenv__multi_file_check_rejects_spoiled_map)
{
    const struct json_node *c = section(inline_cases, "multi_file", _i);
    struct rotarr_dotenv *envs[MAX_FILES];
    struct rotarr_error err = ROTARR_ERROR_INIT;
    size_t n = parse_multi(c, envs, &err);
    struct expect e;
    char spare[WHY_MAX];
    char why[WHY_MAX];

    expect_init(&e, json_get(c, "expect"), json_get_true(c, "exact"), 0);
    expect_spoil(&e, spare);
    ck_assert_msg(!map_matches(envs, n, &e, why),
                  "case %d: a spoiled map still matches", _i);
    free_multi(envs, n);
}
END_TEST

START_TEST(test_dotenv__multi_file_lookup_follows_prior_files)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_dotenv *first = parse_str("A=1\nB=2\n", &err);
    struct rotarr_dotenv *second =
        parse_text("B=3\nC=$A$B\n", 11, NULL, first, &err);

    ck_assert_ptr_nonnull(second);
    ck_assert_str_eq(rotarr_dotenv_lookup(second, "A"), "1");
    ck_assert_str_eq(rotarr_dotenv_lookup(second, "B"), "3");
    ck_assert_str_eq(rotarr_dotenv_lookup(second, "C"), "13");
    ck_assert_ptr_null(rotarr_dotenv_lookup(second, "D"));
    ck_assert_ptr_null(rotarr_dotenv_find(second, "A"));
    rotarr_dotenv_free(second);
    rotarr_dotenv_free(first);
}
END_TEST

START_TEST(test_dotenv__observed_quirk)
{
    const struct json_node *c = section(quirks, "cases", _i);
    const struct json_node *input = json_get(c, "input");
    const char *upstream = json_get_str(c, "error");
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_dotenv *env =
        parse_text(input->text, input->len, NULL, NULL, &err);
    struct expect e;
    char want[WHY_MAX];
    char why[WHY_MAX] = "";

    if (upstream != NULL) {
        expected_error(upstream, want);
        ck_assert_msg(error_matches(env, &err, want),
                      "quirk %d '%s': got '%s', want '%s'", _i, input->text,
                      env != NULL ? "(no error)" : err.msg, want);
        rotarr_dotenv_free(env);
        return;
    }
    ck_assert_msg(env != NULL, "quirk %d '%s': %s", _i, input->text, err.msg);
    expect_init(&e, json_get(c, "result"), 1, 0);
    ck_assert_msg(map_matches(&env, 1, &e, why), "quirk %d '%s': %s", _i,
                  input->text, why);
    rotarr_dotenv_free(env);
}
END_TEST

START_TEST(test_dotenv__quirk_check_rejects_spoiled_result)
{
    const struct json_node *c = section(quirks, "cases", _i);
    const struct json_node *input = json_get(c, "input");
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_dotenv *env =
        parse_text(input->text, input->len, NULL, NULL, &err);
    struct expect e;
    char spare[WHY_MAX];
    char why[WHY_MAX];

    if (json_get_str(c, "error") != NULL) {
        ck_assert_msg(!error_matches(env, &err, "test.env:99: no such error"),
                      "quirk %d: another error text still matches", _i);
        rotarr_dotenv_free(env);
        return;
    }
    expect_init(&e, json_get(c, "result"), 1, 0);
    expect_spoil(&e, spare);
    ck_assert_msg(!map_matches(&env, 1, &e, why),
                  "quirk %d: a spoiled result still matches", _i);
    rotarr_dotenv_free(env);
}
END_TEST

START_TEST(test_dotenv__fixture_bytes_are_kept)
{
    const struct json_node *c = file_cases[_i];
    struct rotarr_error err = ROTARR_ERROR_INIT;
    size_t len;
    char *bytes = read_case_file(json_get_str(c, "file"), &len);
    struct rotarr_dotenv *env =
        parse_text(bytes, len, json_get(c, "os_env"), NULL, &err);
    const char *kept;
    size_t kept_len;

    ck_assert_ptr_nonnull(env);
    kept = rotarr_dotenv_bytes(env, &kept_len);
    ck_assert_uint_eq(kept_len, len);
    ck_assert_msg(memcmp(kept, bytes, len) == 0, "%s: bytes changed",
                  json_get_str(c, "file"));
    ck_assert_str_eq(rotarr_dotenv_path(env), "test.env");
    rotarr_dotenv_free(env);
    free(bytes);
}
END_TEST

/*
 * Writes into out the text of env with value spans replaced: every span,
 * or only the span of entry `only` when it is not SIZE_MAX.  A span gets
 * the encoding of replacement, or of its own value when replacement is
 * NULL.  Inherited entries have no span to replace.
 */
static void rewrite_spans(const struct rotarr_dotenv *env, size_t only,
                          const char *replacement, struct rotarr_buf *out)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    const struct rotarr_dotenv_entry *entry;
    size_t len;
    const char *bytes = rotarr_dotenv_bytes(env, &len);
    size_t copied = 0;
    size_t i;

    for (i = 0; i < rotarr_dotenv_count(env); i++) {
        entry = rotarr_dotenv_entry(env, i);
        if (entry->inherited || (only != SIZE_MAX && i != only)) {
            continue;
        }
        ck_assert_int_eq(rotarr_buf_append(out, bytes + copied,
                                           entry->value_start - copied, &err),
                         0);
        ck_assert_int_eq(
            rotarr_dotenv_encode_value(
                replacement != NULL ? replacement : entry->value,
                replacement != NULL ? strlen(replacement) : entry->value_len,
                entry->quote, out, &err),
            0);
        copied = entry->value_end;
    }
    ck_assert_int_eq(rotarr_buf_append(out, bytes + copied, len - copied, &err),
                     0);
}

/* Returns 1 when both parses give the same map. */
static int same_map(struct rotarr_dotenv *a, struct rotarr_dotenv *b, char *why)
{
    const struct rotarr_dotenv_entry *entry;
    struct expect e;
    size_t i;

    memset(&e, 0, sizeof(e));
    e.exact = 1;
    for (i = 0; i < rotarr_dotenv_count(a); i++) {
        entry = rotarr_dotenv_entry(a, i);
        if (entry->value == NULL ||
            rotarr_dotenv_find(a, entry->key) != entry) {
            continue;
        }
        ck_assert_uint_lt(e.count, MAX_KEYS);
        e.keys[e.count] = entry->key;
        e.values[e.count] = entry->value;
        e.lens[e.count] = entry->value_len;
        e.count++;
    }
    return map_matches(&b, 1, &e, why);
}

START_TEST(test_dotenv__encoded_spans_read_back_same_map)
{
    const struct json_node *c = file_cases[_i];
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_dotenv *env = parse_fixture(c, &err);
    struct rotarr_buf text = ROTARR_BUF_INIT;
    struct rotarr_dotenv *again;
    char why[WHY_MAX] = "";

    ck_assert_ptr_nonnull(env);
    rewrite_spans(env, SIZE_MAX, NULL, &text);
    again = parse_text(text.data, text.len, json_get(c, "os_env"), NULL, &err);
    ck_assert_msg(again != NULL, "%s: rewritten text fails: %s",
                  json_get_str(c, "file"), err.msg);
    ck_assert_msg(same_map(env, again, why), "%s: %s", json_get_str(c, "file"),
                  why);
    rotarr_dotenv_free(again);
    rotarr_dotenv_free(env);
    rotarr_buf_release(&text);
}
END_TEST

START_TEST(test_dotenv__changed_span_changes_map)
{
    const struct json_node *c = file_cases[_i];
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_dotenv *env = parse_fixture(c, &err);
    struct rotarr_buf text = ROTARR_BUF_INIT;
    struct rotarr_dotenv *again;
    size_t first = 0;
    char why[WHY_MAX];

    ck_assert_ptr_nonnull(env);
    while (first < rotarr_dotenv_count(env) &&
           rotarr_dotenv_entry(env, first)->inherited) {
        first++;
    }
    if (first == rotarr_dotenv_count(env)) {
        rotarr_dotenv_free(env);
        return; /* only inherited keys: no span to change */
    }
    rewrite_spans(env, first, "rotarr changed this", &text);
    again = parse_text(text.data, text.len, json_get(c, "os_env"), NULL, &err);
    ck_assert_ptr_nonnull(again);
    ck_assert_msg(!same_map(env, again, why), "%s: map did not change",
                  json_get_str(c, "file"));
    ck_assert_str_eq(rotarr_dotenv_entry(again, first)->value,
                     "rotarr changed this");
    rotarr_dotenv_free(again);
    rotarr_dotenv_free(env);
    rotarr_buf_release(&text);
}
END_TEST

START_TEST(test_dotenv__hash_without_space_is_data_with_warning)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_dotenv *env = parse_str("DB_PASSWORD=abc#123\n", &err);
    const struct rotarr_dotenv_entry *entry;

    ck_assert_ptr_nonnull(env);
    entry = rotarr_dotenv_find(env, "DB_PASSWORD");
    ck_assert_ptr_nonnull(entry);
    ck_assert_str_eq(entry->value, "abc#123");
    ck_assert_int_eq(entry->hash_warning, 1);
    rotarr_dotenv_free(env);
}
END_TEST

START_TEST(test_dotenv__value_without_hash_has_no_warning)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_dotenv *env = parse_str("X=abc\nY='a#b'\nZ=c #d\n", &err);

    ck_assert_ptr_nonnull(env);
    ck_assert_int_eq(rotarr_dotenv_find(env, "X")->hash_warning, 0);
    ck_assert_int_eq(rotarr_dotenv_find(env, "Y")->hash_warning, 0);
    ck_assert_str_eq(rotarr_dotenv_find(env, "Z")->value, "c");
    ck_assert_int_eq(rotarr_dotenv_find(env, "Z")->hash_warning, 0);
    rotarr_dotenv_free(env);
}
END_TEST

START_TEST(test_dotenv__dollar_in_double_quotes_is_expanded)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_dotenv *env =
        parse_str("POSTGRES_PASSWORD=\"abc$def\"\n", &err);
    const struct rotarr_dotenv_entry *entry;

    ck_assert_ptr_nonnull(env);
    entry = rotarr_dotenv_find(env, "POSTGRES_PASSWORD");
    ck_assert_str_eq(entry->value, "abc");
    ck_assert_int_eq(entry->dollar_changed, 1);
    ck_assert_int_eq(entry->quote, ROTARR_QUOTE_DOUBLE);
    rotarr_dotenv_free(env);
}
END_TEST

START_TEST(test_dotenv__dollar_in_single_quotes_is_literal)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_dotenv *env =
        parse_str("POSTGRES_PASSWORD='abc$def'\n", &err);
    const struct rotarr_dotenv_entry *entry;

    ck_assert_ptr_nonnull(env);
    entry = rotarr_dotenv_find(env, "POSTGRES_PASSWORD");
    ck_assert_str_eq(entry->value, "abc$def");
    ck_assert_int_eq(entry->dollar_changed, 0);
    ck_assert_int_eq(entry->quote, ROTARR_QUOTE_SINGLE);
    rotarr_dotenv_free(env);
}
END_TEST

START_TEST(test_dotenv__dollar_changed_tracks_each_style)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_dotenv *env = parse_str(
        "A=pa$word\nB=\"x\\$y\"\nC=\"a\\nb\"\nD=$$x\nE=\"$$x\"\nF=p@ss$1\n",
        &err);

    ck_assert_ptr_nonnull(env);
    ck_assert_int_eq(rotarr_dotenv_find(env, "A")->dollar_changed, 1);
    ck_assert_str_eq(rotarr_dotenv_find(env, "B")->value, "x$y");
    ck_assert_int_eq(rotarr_dotenv_find(env, "B")->dollar_changed, 0);
    ck_assert_int_eq(rotarr_dotenv_find(env, "C")->dollar_changed, 0);
    ck_assert_int_eq(rotarr_dotenv_find(env, "D")->dollar_changed, 1);
    ck_assert_int_eq(rotarr_dotenv_find(env, "E")->dollar_changed, 1);
    ck_assert_int_eq(rotarr_dotenv_find(env, "F")->dollar_changed, 0);
    rotarr_dotenv_free(env);
}
END_TEST

/* Values that a rotated or chosen password might hold. */
static const char *const round_trip_values[] = {
    "it's",       "back\\slash", "pa$word",    "a #b",      "p@ss",
    "a:b",        "a/b",         "50%",        "two words", "line1\nline2",
    "say \"hi\"", "ends\\",      "\\'",        "$HOME",     "$$",
    "${X:-y}",    "'",           "\"",         " lead",     "trail ",
    "#",          "tab\there",   "cr\rx",      "",          "\xc3\xa9t\xc3\xa9",
    "a\\'b",      "\\",          "x'y\"z$w#v", "\\$x",      "==",
    "'quoted'",   "\"dq\"",      "a\\nb",      "\\0123",    "p@ss:w/rd%",
    "abc#123",    "abc$def",     "-dash",      "~tilde",    "\n",
};

#define ROUND_TRIP_COUNT                                                       \
    (sizeof(round_trip_values) / sizeof(round_trip_values[0]))

/* Parses "KEY=<text>\n" and returns the value of KEY (NULL when unset);
 * the caller frees *env. */
static const struct rotarr_dotenv_entry *read_back(const char *text, size_t len,
                                                   struct rotarr_dotenv **env)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_buf line = ROTARR_BUF_INIT;

    ck_assert_int_eq(rotarr_buf_puts(&line, "KEY=", &err), 0);
    ck_assert_int_eq(rotarr_buf_append(&line, text, len, &err), 0);
    ck_assert_int_eq(rotarr_buf_puts(&line, "\n", &err), 0);
    *env = parse_text(line.data, line.len, NULL, NULL, &err);
    rotarr_buf_release(&line);
    return *env != NULL ? rotarr_dotenv_find(*env, "KEY") : NULL;
}

START_TEST(test_dotenv__encoded_value_reads_back_exactly)
{
    const char *value = round_trip_values[_i / 3];
    enum rotarr_quote style = (enum rotarr_quote)(_i % 3);
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_buf text = ROTARR_BUF_INIT;
    struct rotarr_dotenv *env;
    const struct rotarr_dotenv_entry *entry;

    ck_assert_int_eq(
        rotarr_dotenv_encode_value(value, strlen(value), style, &text, &err),
        0);
    entry = read_back(text.data, text.len, &env);
    ck_assert_msg(entry != NULL, "value %d in style %d: '%s' does not parse",
                  _i / 3, _i % 3, text.data);
    ck_assert_msg(entry->value_len == strlen(value) &&
                      memcmp(entry->value, value, strlen(value)) == 0,
                  "value %d in style %d: '%s' reads back as '%s'", _i / 3,
                  _i % 3, text.data, entry->value);
    rotarr_dotenv_free(env);
    rotarr_buf_release(&text);
}
END_TEST

/* Values that written bare do not read back. */
static const char *const raw_fails[] = {
    "pa$word", "a #b", "$HOME", "x $y #z", "'unbalanced", "two words #c",
};

START_TEST(test_dotenv__raw_value_does_not_read_back)
{
    const char *value = raw_fails[_i];
    struct rotarr_dotenv *env;
    const struct rotarr_dotenv_entry *entry =
        read_back(value, strlen(value), &env);

    ck_assert_msg(entry == NULL || strcmp(entry->value, value) != 0,
                  "raw '%s' reads back unchanged", value);
    rotarr_dotenv_free(env);
}
END_TEST

static void assert_encoding(const char *value, enum rotarr_quote style,
                            const char *want)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_buf text = ROTARR_BUF_INIT;

    ck_assert_int_eq(
        rotarr_dotenv_encode_value(value, strlen(value), style, &text, &err),
        0);
    ck_assert_str_eq(text.data, want);
    rotarr_buf_release(&text);
}

START_TEST(test_dotenv__encode_keeps_style_when_possible)
{
    assert_encoding("s3cretPW", ROTARR_QUOTE_NONE, "s3cretPW");
    assert_encoding("u:p@h/db", ROTARR_QUOTE_NONE, "u:p@h/db");
    assert_encoding("s3cretPW", ROTARR_QUOTE_SINGLE, "'s3cretPW'");
    assert_encoding("s3cretPW", ROTARR_QUOTE_DOUBLE, "\"s3cretPW\"");
    assert_encoding("a b#c", ROTARR_QUOTE_DOUBLE, "\"a b#c\"");
    assert_encoding("", ROTARR_QUOTE_NONE, "''");
}
END_TEST

START_TEST(test_dotenv__encode_quotes_unsafe_values)
{
    assert_encoding("abc#123", ROTARR_QUOTE_NONE, "'abc#123'");
    assert_encoding("abc$def", ROTARR_QUOTE_NONE, "'abc$def'");
    assert_encoding("abc$def", ROTARR_QUOTE_DOUBLE, "'abc$def'");
    assert_encoding("it's", ROTARR_QUOTE_NONE, "'it\\'s'");
    assert_encoding("a\nb", ROTARR_QUOTE_SINGLE, "\"a\\nb\"");
    assert_encoding("ends\\", ROTARR_QUOTE_SINGLE, "\"ends\\\\\"");
    assert_encoding("x\\'$", ROTARR_QUOTE_NONE, "\"x\\\\'\\$\"");
}
END_TEST

START_TEST(test_dotenv__encode_rejects_nul)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_buf text = ROTARR_BUF_INIT;

    ck_assert_int_eq(
        rotarr_dotenv_encode_value("a\0b", 3, ROTARR_QUOTE_NONE, &text, &err),
        -1);
    ck_assert_int_eq(err.code, ROTARR_EUSAGE);
    ck_assert_int_eq(
        rotarr_dotenv_encode_value("ab", 2, ROTARR_QUOTE_NONE, &text, &err), 0);
    rotarr_buf_release(&text);
}
END_TEST

START_TEST(test_dotenv__entries_record_positions_and_flags)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    const char *text = "# c\nexport A=1\n  B = 'x y' # c\nC\nD=\n";
    struct rotarr_dotenv *env = parse_str(text, &err);
    const struct rotarr_dotenv_entry *e;

    ck_assert_ptr_nonnull(env);
    ck_assert_uint_eq(rotarr_dotenv_count(env), 4);
    e = rotarr_dotenv_entry(env, 0);
    ck_assert_str_eq(e->key, "A");
    ck_assert_uint_eq(e->line, 2);
    ck_assert_uint_eq(e->column, 8);
    ck_assert_int_eq(e->exported, 1);
    ck_assert_uint_eq(e->value_start, 13);
    ck_assert_uint_eq(e->value_end, 14);
    e = rotarr_dotenv_entry(env, 1);
    ck_assert_uint_eq(e->line, 3);
    ck_assert_uint_eq(e->column, 3);
    ck_assert_int_eq(e->exported, 0);
    ck_assert_int_eq(e->quote, ROTARR_QUOTE_SINGLE);
    ck_assert_str_eq(text + e->value_start, "'x y' # c\nC\nD=\n");
    ck_assert_uint_eq(e->value_end - e->value_start, 5);
    e = rotarr_dotenv_entry(env, 2);
    ck_assert_int_eq(e->inherited, 1);
    ck_assert_ptr_null(e->value);
    e = rotarr_dotenv_entry(env, 3);
    ck_assert_uint_eq(e->line, 5);
    ck_assert_uint_eq(e->value_start, e->value_end);
    ck_assert_uint_eq(e->value_start, strlen(text) - 1);
    ck_assert_str_eq(e->value, "");
    rotarr_dotenv_free(env);
}
END_TEST

START_TEST(test_dotenv__find_returns_last_setting_entry)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_dotenv *env = parse_str("A=1\nA=2\nA\n", &err);
    const struct rotarr_dotenv_entry *entry;

    ck_assert_ptr_nonnull(env);
    entry = rotarr_dotenv_find(env, "A");
    ck_assert_ptr_eq(entry, rotarr_dotenv_entry(env, 1));
    ck_assert_str_eq(entry->value, "2");
    ck_assert_ptr_null(rotarr_dotenv_find(env, "B"));
    rotarr_dotenv_free(env);
}
END_TEST

START_TEST(test_dotenv__inherited_key_takes_shell_value)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct json_node shell_key = {JSON_STRING, (char *)"A", 1, NULL, NULL, 0};
    struct json_node shell_value = {JSON_STRING, (char *)"9", 1, NULL, NULL, 0};
    struct json_node *keys[] = {&shell_key};
    struct json_node *values[] = {&shell_value};
    struct json_node shell = {JSON_OBJECT, NULL, 0, values, keys, 1};
    struct rotarr_dotenv *env =
        parse_text("A=1\nA\nB=$A\n", 11, &shell, NULL, &err);

    ck_assert_ptr_nonnull(env);
    ck_assert_ptr_eq(rotarr_dotenv_find(env, "A"), rotarr_dotenv_entry(env, 1));
    ck_assert_str_eq(rotarr_dotenv_find(env, "A")->value, "9");
    ck_assert_str_eq(rotarr_dotenv_find(env, "B")->value, "9");
    rotarr_dotenv_free(env);
}
END_TEST

START_TEST(test_dotenv__error_names_path_and_line)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_dotenv *env = rotarr_dotenv_parse(
        "stack/.env", "A=1\n\nB C=2\n", 11, NULL, NULL, NULL, &err);

    ck_assert_ptr_null(env);
    ck_assert_int_eq(err.code, ROTARR_EFILE);
    ck_assert_str_eq(err.msg, "stack/.env:3: key cannot contain a space");
}
END_TEST

START_TEST(test_dotenv__key_error_quotes_no_value)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_dotenv *env = parse_str("OK=1\nPASS$WORD=hunter2\n", &err);

    ck_assert_ptr_null(env);
    ck_assert_str_eq(err.msg, "test.env:2: unexpected character \"$\" in "
                              "variable name \"PASS$WORD\"");
    ck_assert_ptr_null(strstr(err.msg, "hunter2"));
}
END_TEST

START_TEST(test_dotenv__unterminated_quote_names_opening_line)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_dotenv *env =
        parse_str("A=1\nPW=\"hunter2\nB=2\nC=3\n", &err);

    ck_assert_ptr_null(env);
    ck_assert_msg(
        strncmp(err.msg, "test.env:2: unterminated quoted value", 37) == 0,
        "got '%s'", err.msg);
    ck_assert_ptr_nonnull(strstr(err.msg, "'PW'"));
    ck_assert_ptr_null(strstr(err.msg, "hunter2"));
}
END_TEST

START_TEST(test_dotenv__interpolation_error_names_line_and_key)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_dotenv *env = parse_str("A=1\nB=\"x${\"\n", &err);

    ck_assert_ptr_null(env);
    ck_assert_msg(strncmp(err.msg,
                          "test.env:2: 'B': invalid interpolation "
                          "format",
                          40) == 0,
                  "got '%s'", err.msg);
    ck_assert_ptr_nonnull(strstr(err.msg, "escape any $ with another $"));
}
END_TEST

START_TEST(test_dotenv__bom_only_at_start)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_dotenv *env = parse_str("\xEF\xBB\xBF"
                                          "A=1\n",
                                          &err);

    ck_assert_ptr_nonnull(env);
    ck_assert_str_eq(rotarr_dotenv_find(env, "A")->value, "1");
    ck_assert_uint_eq(rotarr_dotenv_entry(env, 0)->column, 1);
    rotarr_dotenv_free(env);
    env = parse_str("A=1\n\xEF\xBB\xBF"
                    "B=2\n",
                    &err);
    ck_assert_ptr_null(env);
    ck_assert_ptr_nonnull(strstr(err.msg, ":2: unexpected character"));
}
END_TEST

START_TEST(test_dotenv__export_needs_a_blank)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_dotenv *env = parse_str("exportA=1\nexport\tB=2\n", &err);

    ck_assert_ptr_nonnull(env);
    ck_assert_int_eq(rotarr_dotenv_find(env, "exportA")->exported, 0);
    ck_assert_int_eq(rotarr_dotenv_find(env, "B")->exported, 1);
    rotarr_dotenv_free(env);
    env = parse_str("A=1\nexport ", &err);
    ck_assert_ptr_null(env);
    ck_assert_str_eq(err.msg,
                     "test.env:2: missing variable name after 'export'");
}
END_TEST

/* compose-go assigns a key only at '=', ':' or a line break, so a name on
 * the last line without a line break becomes the value of the empty
 * key. */
START_TEST(test_dotenv__last_name_without_newline_sets_empty_key)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_dotenv *env = parse_str("A=1\nNAME", &err);

    ck_assert_ptr_nonnull(env);
    ck_assert_ptr_null(rotarr_dotenv_find(env, "NAME"));
    ck_assert_str_eq(rotarr_dotenv_find(env, "")->value, "NAME");
    rotarr_dotenv_free(env);
    env = parse_str("A=1\nNAME\n", &err);
    ck_assert_ptr_nonnull(env);
    ck_assert_ptr_null(rotarr_dotenv_find(env, ""));
    rotarr_dotenv_free(env);
}
END_TEST

START_TEST(test_dotenv__octal_escape_gives_code_point)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_dotenv *env =
        parse_str("A=\"\\0101\\0351\\0400\\09\\0\"\nB=\"\\0000x\"\n", &err);
    const struct rotarr_dotenv_entry *b;

    ck_assert_ptr_nonnull(env);
    ck_assert_str_eq(rotarr_dotenv_find(env, "A")->value,
                     "A\xc3\xa9\\0400\\09\\0");
    b = rotarr_dotenv_find(env, "B");
    ck_assert_uint_eq(b->value_len, 2);
    ck_assert_int_eq(memcmp(b->value, "\0x", 2), 0);
    rotarr_dotenv_free(env);
}
END_TEST

START_TEST(test_dotenv__unicode_keys_and_spaces)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_dotenv *env = parse_str(
        "\xc2\xa0\xe3\x80\x80K\xc3\xa9\xd9\xa3=v\xe2\x80\x83\n", &err);

    ck_assert_ptr_nonnull(env);
    ck_assert_str_eq(rotarr_dotenv_entry(env, 0)->key, "K\xc3\xa9\xd9\xa3");
    ck_assert_str_eq(rotarr_dotenv_entry(env, 0)->value, "v");
    rotarr_dotenv_free(env);
    env = parse_str("K\xe2\x82\xac=v\n", &err);
    ck_assert_ptr_null(env);
    ck_assert_ptr_nonnull(
        strstr(err.msg, "unexpected character \"\xe2\x82\xac\""));
}
END_TEST

START_TEST(test_dotenv__free_accepts_null)
{
    rotarr_dotenv_free(NULL);
}
END_TEST

static double seconds_since(const struct timespec *start)
{
    struct timespec now;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
    return (double)(now.tv_sec - start->tv_sec) +
           (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

/* Returns a text of exactly ROTARR_DOTENV_MAX_BYTES: prefix, copies of
 * unit, 'x' bytes to fill up, then suffix. */
static char *fill_max(const char *prefix, const char *unit, const char *suffix,
                      size_t *len)
{
    size_t n = strlen(unit);
    size_t end = ROTARR_DOTENV_MAX_BYTES - strlen(suffix);
    char *text = malloc(ROTARR_DOTENV_MAX_BYTES);
    size_t i = strlen(prefix);

    ck_assert_ptr_nonnull(text);
    memcpy(text, prefix, i);
    for (; i + n <= end; i += n) {
        memcpy(text + i, unit, n);
    }
    memset(text + i, 'x', end - i);
    memcpy(text + end, suffix, strlen(suffix));
    *len = ROTARR_DOTENV_MAX_BYTES;
    return text;
}

static void assert_parses_quickly(const char *text, size_t len,
                                  const char *what)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct timespec start;
    struct rotarr_dotenv *env;
    double seconds;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &start);
    env = parse_text(text, len, NULL, NULL, &err);
    seconds = seconds_since(&start);
    ck_assert_msg(env != NULL, "%s: %s", what, err.msg);
    ck_assert_msg(seconds < PARSE_SECONDS_MAX, "%s: %.2f s", what, seconds);
    rotarr_dotenv_free(env);
}

START_TEST(test_dotenv__max_size_file_of_short_lines_parses_quickly)
{
    char *text = malloc(ROTARR_DOTENV_MAX_BYTES);
    size_t len = 0;
    size_t i = 0;
    int n;

    ck_assert_ptr_nonnull(text);
    for (;;) {
        n = snprintf(text + len, ROTARR_DOTENV_MAX_BYTES - len,
                     "export K%07zu=\"v ${P%07zu}\" # c\nP%07zu=p@ss#%zu\n",
                     i + 1, i, i + 1, i);
        if (n < 0 || (size_t)n >= ROTARR_DOTENV_MAX_BYTES - len) {
            break;
        }
        len += (size_t)n;
        i++;
    }
    memset(text + len, '#', ROTARR_DOTENV_MAX_BYTES - len);
    assert_parses_quickly(text, ROTARR_DOTENV_MAX_BYTES, "short lines");
    free(text);
}
END_TEST

START_TEST(test_dotenv__max_size_single_value_parses_quickly)
{
    size_t len;
    char *text = fill_max("K=\"", "ab\\\\cd$$ef\\n", "\"\n", &len);

    assert_parses_quickly(text, len, "one value");
    free(text);
}
END_TEST

START_TEST(test_dotenv__max_size_line_of_expressions_parses_quickly)
{
    size_t len;
    char *text = fill_max("K=", "${U:-${V-x}}", "\n", &len);

    assert_parses_quickly(text, len, "one line of expressions");
    free(text);
}
END_TEST

START_TEST(test_dotenv__rejects_file_over_max_size)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    size_t len;
    char *text = fill_max("", "A=1\n", "\n", &len);
    struct rotarr_dotenv *env;

    env = rotarr_dotenv_parse("big.env", text, len, NULL, NULL, NULL, &err);
    ck_assert_ptr_nonnull(env);
    rotarr_dotenv_free(env);
    text = realloc(text, len + 1);
    ck_assert_ptr_nonnull(text);
    text[len] = '\n';
    env = rotarr_dotenv_parse("big.env", text, len + 1, NULL, NULL, NULL, &err);
    ck_assert_ptr_null(env);
    ck_assert_int_eq(err.code, ROTARR_EFILE);
    ck_assert_ptr_nonnull(strstr(err.msg, "'big.env' is larger than 16 MiB"));
    free(text);
}
END_TEST

static Suite *dotenv_suite(void)
{
    Suite *s = suite_create("dotenv");
    TCase *upstream = tcase_create("upstream");
    TCase *fields = tcase_create("fields");
    TCase *encode = tcase_create("encode");
    TCase *errors = tcase_create("errors");
    TCase *limits = tcase_create("limits");

    tcase_add_test(upstream, test_dotenv__json_reader_decodes_escapes);
    tcase_add_loop_test(upstream, test_dotenv__fixture_gives_expected_map, 0,
                        (int)map_case_count);
    tcase_add_loop_test(upstream,
                        test_dotenv__fixture_check_rejects_spoiled_map, 0,
                        (int)map_case_count);
    tcase_add_loop_test(upstream,
                        test_dotenv__invalid_fixture_gives_expected_error, 0,
                        (int)error_case_count);
    tcase_add_loop_test(upstream, test_dotenv__parse_single_case, 0,
                        (int)section_count(inline_cases, "parse_single"));
    tcase_add_loop_test(upstream,
                        test_dotenv__parse_single_check_rejects_spoiled_value,
                        0, (int)section_count(inline_cases, "parse_single"));
    tcase_add_loop_test(upstream, test_dotenv__parse_map_case, 0,
                        (int)section_count(inline_cases, "parse_map"));
    tcase_add_loop_test(upstream,
                        test_dotenv__parse_map_check_rejects_spoiled_map, 0,
                        (int)section_count(inline_cases, "parse_map"));
    tcase_add_loop_test(upstream, test_dotenv__parse_error_case, 0,
                        (int)section_count(inline_cases, "parse_error"));
    tcase_add_loop_test(upstream,
                        test_dotenv__parse_error_check_rejects_other_text, 0,
                        (int)section_count(inline_cases, "parse_error"));
    tcase_add_loop_test(upstream, test_dotenv__multi_file_case, 0,
                        (int)section_count(inline_cases, "multi_file"));
    tcase_add_loop_test(upstream,
                        test_dotenv__multi_file_check_rejects_spoiled_map, 0,
                        (int)section_count(inline_cases, "multi_file"));
    tcase_add_test(upstream,
                   test_dotenv__multi_file_lookup_follows_prior_files);
    tcase_add_loop_test(upstream, test_dotenv__observed_quirk, 0,
                        (int)section_count(quirks, "cases"));
    tcase_add_loop_test(upstream,
                        test_dotenv__quirk_check_rejects_spoiled_result, 0,
                        (int)section_count(quirks, "cases"));
    suite_add_tcase(s, upstream);

    tcase_add_loop_test(fields, test_dotenv__fixture_bytes_are_kept, 0,
                        (int)file_case_count);
    tcase_add_loop_test(fields, test_dotenv__encoded_spans_read_back_same_map,
                        0, (int)file_case_count);
    tcase_add_loop_test(fields, test_dotenv__changed_span_changes_map, 0,
                        (int)file_case_count);
    tcase_add_test(fields,
                   test_dotenv__hash_without_space_is_data_with_warning);
    tcase_add_test(fields, test_dotenv__value_without_hash_has_no_warning);
    tcase_add_test(fields, test_dotenv__dollar_in_double_quotes_is_expanded);
    tcase_add_test(fields, test_dotenv__dollar_in_single_quotes_is_literal);
    tcase_add_test(fields, test_dotenv__dollar_changed_tracks_each_style);
    tcase_add_test(fields, test_dotenv__entries_record_positions_and_flags);
    tcase_add_test(fields, test_dotenv__find_returns_last_setting_entry);
    tcase_add_test(fields, test_dotenv__inherited_key_takes_shell_value);
    tcase_add_test(fields, test_dotenv__bom_only_at_start);
    tcase_add_test(fields, test_dotenv__export_needs_a_blank);
    tcase_add_test(fields,
                   test_dotenv__last_name_without_newline_sets_empty_key);
    tcase_add_test(fields, test_dotenv__octal_escape_gives_code_point);
    tcase_add_test(fields, test_dotenv__unicode_keys_and_spaces);
    tcase_add_test(fields, test_dotenv__free_accepts_null);
    suite_add_tcase(s, fields);

    tcase_add_loop_test(encode, test_dotenv__encoded_value_reads_back_exactly,
                        0, (int)(ROUND_TRIP_COUNT * 3));
    tcase_add_loop_test(encode, test_dotenv__raw_value_does_not_read_back, 0,
                        (int)(sizeof(raw_fails) / sizeof(raw_fails[0])));
    tcase_add_test(encode, test_dotenv__encode_keeps_style_when_possible);
    tcase_add_test(encode, test_dotenv__encode_quotes_unsafe_values);
    tcase_add_test(encode, test_dotenv__encode_rejects_nul);
    suite_add_tcase(s, encode);

    tcase_add_test(errors, test_dotenv__error_names_path_and_line);
    tcase_add_test(errors, test_dotenv__key_error_quotes_no_value);
    tcase_add_test(errors, test_dotenv__unterminated_quote_names_opening_line);
    tcase_add_test(errors, test_dotenv__interpolation_error_names_line_and_key);
    suite_add_tcase(s, errors);

    tcase_add_test(limits,
                   test_dotenv__max_size_file_of_short_lines_parses_quickly);
    tcase_add_test(limits, test_dotenv__max_size_single_value_parses_quickly);
    tcase_add_test(limits,
                   test_dotenv__max_size_line_of_expressions_parses_quickly);
    tcase_add_test(limits, test_dotenv__rejects_file_over_max_size);
    suite_add_tcase(s, limits);
    return s;
}

int main(void)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    SRunner *runner;
    int failed;

    if (rotarr_secret_init(&err) < 0) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    if (load_cases() < 0) {
        return 1;
    }
    runner = srunner_create(dotenv_suite());
    srunner_run_all(runner, CK_NORMAL);
    failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    json_free(manifest);
    json_free(inline_cases);
    json_free(quirks);
    return failed == 0 ? 0 : 1;
}
