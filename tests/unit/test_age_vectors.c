/*
 * The age testkit (C2SP CCTV vectors, copied under tests/data/age-testkit
 * with their provenance): every file is one encrypted input, the
 * credentials to try and the expected outcome.  Each vector runs as its
 * own iteration of one loop test.  ML-KEM hybrid vectors are skipped
 * with the reason printed, because libsodium has no ML-KEM.
 */
#include "rotarr/compat.h"

#include <dirent.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_age.h"

#define MAX_VECTORS 256
#define NAME_MAX_LEN 64
/* Larger than the largest vector inflates to (16.8 MB). */
#define INFLATED_MAX ((size_t)32 << 20)

static char vector_names[MAX_VECTORS][NAME_MAX_LEN];
static int vector_count;

struct vector {
    char *text;      /* the whole file */
    size_t text_len;
    const char *expect;
    const char *payload;
    int compressed;
    int armored;
    int hybrid;
    const char *unknown_key;
    const unsigned char *body;
    size_t body_len;
};

static int compare_names(const void *a, const void *b)
{
    return strcmp(a, b);
}

/* Runs before the tests, where Check's asserts are not available. */
static void load_vector_names(void)
{
    const char *root = getenv("ROTARR_TEST_DATA");
    char path[512];
    struct dirent *entry;
    DIR *dir;
    int n;

    n = snprintf(path, sizeof(path), "%s/age-testkit",
                 root != NULL ? root : ".");
    dir = n > 0 && (size_t)n < sizeof(path) ? opendir(path) : NULL;
    if (dir == NULL) {
        return;
    }
    while ((entry = readdir(dir)) != NULL && vector_count < MAX_VECTORS) {
        if (strchr(entry->d_name, '.') == NULL &&
            strlen(entry->d_name) < NAME_MAX_LEN) {
            memcpy(vector_names[vector_count++], entry->d_name,
                   strlen(entry->d_name) + 1);
        }
    }
    closedir(dir);
    qsort(vector_names, (size_t)vector_count, NAME_MAX_LEN, compare_names);
}

static void read_vector_file(const char *name, struct vector *v)
{
    char path[512];
    FILE *f;
    long size;
    int n = snprintf(path, sizeof(path), "%s/%s",
                     test_data_path("age-testkit"), name);

    ck_assert(n > 0 && (size_t)n < sizeof(path));
    f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
    size = ftell(f);
    ck_assert_int_ge(size, 0);
    rewind(f);
    v->text = malloc((size_t)size + 1);
    ck_assert_ptr_nonnull(v->text);
    ck_assert_uint_eq(fread(v->text, 1, (size_t)size, f), (size_t)size);
    v->text[size] = '\0';
    v->text_len = (size_t)size;
    fclose(f);
}

/* Splits the header lines ("key: value") in place and adds the
 * credentials to ids. */
static void parse_header(struct vector *v, struct rotarr_age_identities *ids)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    char *end = strstr(v->text, "\n\n");
    char *line, *next, *value;

    ck_assert_msg(end != NULL, "no empty line after the header");
    end[1] = '\0';
    v->body = (const unsigned char *)end + 2;
    v->body_len = v->text_len - (size_t)(end + 2 - v->text);
    for (line = v->text; *line != '\0'; line = next) {
        next = strchr(line, '\n');
        *next++ = '\0';
        value = strstr(line, ": ");
        ck_assert_msg(value != NULL, "header line without ': '");
        *value = '\0';
        value += 2;
        if (strcmp(line, "expect") == 0) {
            v->expect = value;
        } else if (strcmp(line, "payload") == 0) {
            v->payload = value;
        } else if (strcmp(line, "armored") == 0) {
            v->armored = strcmp(value, "yes") == 0;
        } else if (strcmp(line, "compressed") == 0) {
            v->compressed = strcmp(value, "zlib") == 0;
        } else if (strcmp(line, "identity") == 0) {
            if (strncmp(value, "AGE-SECRET-KEY-PQ-", 18) == 0) {
                v->hybrid = 1;
            } else {
                ck_assert_msg(rotarr_age_identities_add_text(
                                  ids, value, strlen(value), "vector",
                                  &err) == 0, "%s", err.msg);
            }
        } else if (strcmp(line, "passphrase") == 0) {
            struct rotarr_secret *pass =
                rotarr_secret_new(value, strlen(value), &err);

            ck_assert_ptr_nonnull(pass);
            ck_assert_int_eq(rotarr_age_identities_add_passphrase(ids, pass,
                                                                  &err), 0);
            rotarr_secret_free(pass);
        } else if (strcmp(line, "file key") != 0 &&
                   strcmp(line, "comment") != 0) {
            v->unknown_key = line;
        }
    }
}

/* Inflates a zlib body with the system's libz, loaded at run time so
 * that the library under test does not link it. */
static unsigned char *inflate_body(const struct vector *v, size_t *len)
{
    typedef int (*uncompress_fn)(unsigned char *, unsigned long *,
                                 const unsigned char *, unsigned long);
    void *zlib = dlopen("libz.so.1", RTLD_NOW);
    uncompress_fn uncompress;
    unsigned long out_len = INFLATED_MAX;
    unsigned char *out;

    ck_assert_msg(zlib != NULL, "compressed vector needs libz.so.1: %s",
                  dlerror());
    *(void **)&uncompress = dlsym(zlib, "uncompress");
    ck_assert_ptr_nonnull(uncompress);
    out = malloc(INFLATED_MAX);
    ck_assert_ptr_nonnull(out);
    ck_assert_int_eq(uncompress(out, &out_len, v->body, v->body_len), 0);
    *len = out_len;
    return out;
}

static enum rotarr_age_failure expected_failure(const char *expect)
{
    static const struct {
        const char *name;
        enum rotarr_age_failure failure;
    } table[] = {
        { "success", ROTARR_AGE_OK },
        { "no match", ROTARR_AGE_FAIL_NO_MATCH },
        { "HMAC failure", ROTARR_AGE_FAIL_HMAC },
        { "header failure", ROTARR_AGE_FAIL_HEADER },
        { "payload failure", ROTARR_AGE_FAIL_PAYLOAD },
        { "armor failure", ROTARR_AGE_FAIL_ARMOR },
    };
    size_t i;

    for (i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        if (strcmp(table[i].name, expect) == 0) {
            return table[i].failure;
        }
    }
    ck_abort_msg("unknown expect value '%s'", expect);
    return ROTARR_AGE_FAIL_IO;
}

static void check_vector(const char *name, const struct vector *v,
                         const struct rotarr_age_identities *ids)
{
    struct test_sink sink;
    unsigned char *inflated = NULL;
    const unsigned char *body = v->body;
    size_t len = v->body_len;
    enum rotarr_age_failure got, want = expected_failure(v->expect);

    if (v->compressed) {
        body = inflated = inflate_body(v, &len);
    }
    test_sink_init(&sink);
    got = test_decrypt(ids, body, len, v->armored ? ROTARR_AGE_ARMOR : 0,
                       &sink);
    ck_assert_msg(got == want, "%s: stopped at %d, expected %d (%s)", name,
                  (int)got, (int)want, v->expect);
    if (v->payload != NULL) {
        ck_assert_str_eq(test_sink_hex(&sink), v->payload);
    } else {
        ck_assert_msg(sink.bytes.len == 0, "%s: released %zu bytes", name,
                      sink.bytes.len);
    }
    test_sink_release(&sink);
    free(inflated);
}

START_TEST(test_age__testkit_vector)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_age_identities *ids = rotarr_age_identities_new(&err);
    struct vector v;
    const char *name = vector_names[_i];

    memset(&v, 0, sizeof(v));
    ck_assert_ptr_nonnull(ids);
    read_vector_file(name, &v);
    parse_header(&v, ids);
    ck_assert_msg(v.expect != NULL, "%s: no expect line", name);
    if (v.unknown_key != NULL) {
        printf("skipped %s: unknown header key '%s'\n", name, v.unknown_key);
    } else if (v.hybrid) {
        printf("skipped %s: ML-KEM-768 hybrid keys need ML-KEM, which "
               "libsodium 1.0.18 does not have\n", name);
    } else {
        check_vector(name, &v, ids);
    }
    rotarr_age_identities_free(ids);
    free(v.text);
}
END_TEST

/* The copy must hold every vector: a missing folder must fail, not pass
 * with zero iterations. */
START_TEST(test_age__testkit_is_complete)
{
    ck_assert_int_eq(vector_count, 109);
}
END_TEST

Suite *age_vector_suite(void)
{
    Suite *s = suite_create("age_vectors");
    TCase *vectors = tcase_create("testkit");

    load_vector_names();
    tcase_set_timeout(vectors, 120);
    tcase_add_test(vectors, test_age__testkit_is_complete);
    tcase_add_loop_test(vectors, test_age__testkit_vector, 0, vector_count);
    suite_add_tcase(s, vectors);
    return s;
}
