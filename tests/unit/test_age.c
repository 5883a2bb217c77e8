/*
 * Unit tests of the age building blocks (rotarr/age_format.h): strict
 * base64, Bech32 and HKDF-SHA-256, checked against the test vectors of
 * their specifications.  main() also runs the suites of test_age_keys.c,
 * test_age_stream.c and test_age_vectors.c.
 */
#include "rotarr/compat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rotarr/age_format.h"
#include "rotarr/secret.h"
#include "test_age.h"

static ssize_t source_read(void *ctx, void *buf, size_t len,
                           struct rotarr_error *err)
{
    struct test_source *src = ctx;
    size_t n = len < src->left ? len : src->left;

    (void)err;
    if (src->step > 0 && n > src->step) {
        n = src->step;
    }
    memcpy(buf, src->next, n);
    src->next += n;
    src->left -= n;
    return (ssize_t)n;
}

void test_source_init(struct test_source *src, const void *bytes, size_t len,
                      size_t step)
{
    src->next = bytes;
    src->left = len;
    src->step = step;
    src->source.read = source_read;
    src->source.ctx = src;
    src->source.file_fd = NULL;
}

static int sink_write(void *ctx, const void *bytes, size_t len,
                      struct rotarr_error *err)
{
    struct test_sink *sink = ctx;

    crypto_hash_sha256_update(&sink->hash, bytes, len);
    return rotarr_buf_append(&sink->bytes, bytes, len, err);
}

void test_sink_init(struct test_sink *sink)
{
    memset(sink, 0, sizeof(*sink));
    crypto_hash_sha256_init(&sink->hash);
    sink->sink.write = sink_write;
    sink->sink.ctx = sink;
}

const char *test_sink_hex(struct test_sink *sink)
{
    static char hex[2 * crypto_hash_sha256_BYTES + 1];
    unsigned char digest[crypto_hash_sha256_BYTES];

    crypto_hash_sha256_final(&sink->hash, digest);
    sodium_bin2hex(hex, sizeof(hex), digest, sizeof(digest));
    return hex;
}

void test_sink_release(struct test_sink *sink)
{
    rotarr_buf_release(&sink->bytes);
}

const char *test_data_path(const char *name)
{
    static char path[512];
    const char *root = getenv("ROTARR_TEST_DATA");
    int n;

    ck_assert_msg(root != NULL, "ROTARR_TEST_DATA is not set; run the "
                  "tests through meson");
    n = snprintf(path, sizeof(path), "%s/%s", root, name);
    ck_assert(n > 0 && (size_t)n < sizeof(path));
    return path;
}

void test_encrypt(const struct rotarr_age_recipients *recipients,
                  const void *bytes, size_t len, unsigned flags,
                  struct rotarr_buf *out)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;

    ck_assert_msg(rotarr_age_encrypt_buf(recipients, bytes, len, flags, out,
                                         &err) == 0, "%s", err.msg);
}

enum rotarr_age_failure test_decrypt(const struct rotarr_age_identities *ids,
                                     const void *bytes, size_t len,
                                     unsigned flags, struct test_sink *sink)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct test_source src;
    enum rotarr_age_failure failure = ROTARR_AGE_FAIL_IO;
    int ret;

    test_source_init(&src, bytes, len, 0);
    ret = rotarr_age_decrypt(ids, &src.source, &sink->sink, flags, &failure,
                             &err);
    ck_assert_int_eq(ret == 0, failure == ROTARR_AGE_OK);
    ck_assert_msg(ret == 0 || err.msg[0] != '\0', "failure without message");
    return failure;
}

static void hex_decode(const char *hex, unsigned char *out, size_t len)
{
    size_t n;

    ck_assert_int_eq(sodium_hex2bin(out, len, hex, strlen(hex), NULL, &n,
                                    NULL), 0);
    ck_assert_uint_eq(n, len);
}

static const char *hex_of(const unsigned char *bytes, size_t len)
{
    static char hex[129];

    ck_assert_uint_le(len, 64);
    sodium_bin2hex(hex, sizeof(hex), bytes, len);
    return hex;
}

START_TEST(test_b64__encodes_unpadded_and_padded)
{
    char out[16];

    rotarr_age_b64_encode((const unsigned char *)"ab", 2, 0, out);
    ck_assert_str_eq(out, "YWI");
    rotarr_age_b64_encode((const unsigned char *)"ab", 2, 1, out);
    ck_assert_str_eq(out, "YWI=");
    ck_assert_uint_eq(rotarr_age_b64_len(32, 0), 43);
    ck_assert_uint_eq(rotarr_age_b64_len(32, 1), 44);
}
END_TEST

START_TEST(test_b64__decodes_canonical_text)
{
    unsigned char out[8];
    size_t n;

    ck_assert_int_eq(rotarr_age_b64_decode("YWI", 3, 0, out, sizeof(out),
                                           &n), 0);
    ck_assert_uint_eq(n, 2);
    ck_assert_int_eq(memcmp(out, "ab", 2), 0);
    ck_assert_int_eq(rotarr_age_b64_decode("YWI=", 4, 1, out, sizeof(out),
                                           &n), 0);
    ck_assert_uint_eq(n, 2);
}
END_TEST

START_TEST(test_b64__rejects_non_canonical_text)
{
    unsigned char out[8];
    size_t n;

    /* Padding where none belongs, and none where it must be. */
    ck_assert_int_lt(rotarr_age_b64_decode("YWI=", 4, 0, out, 8, &n), 0);
    ck_assert_int_lt(rotarr_age_b64_decode("YWI", 3, 1, out, 8, &n), 0);
    /* Unused bits that are not zero ("YWJ" also decodes to "ab"). */
    ck_assert_int_lt(rotarr_age_b64_decode("YWJ", 3, 0, out, 8, &n), 0);
    /* A lone last character, a line break, a URL-safe letter. */
    ck_assert_int_lt(rotarr_age_b64_decode("YWJjZ", 5, 0, out, 8, &n), 0);
    ck_assert_int_lt(rotarr_age_b64_decode("YWI\n", 4, 0, out, 8, &n), 0);
    ck_assert_int_lt(rotarr_age_b64_decode("YW-", 3, 0, out, 8, &n), 0);
}
END_TEST

START_TEST(test_b64__rejects_output_too_large)
{
    unsigned char out[1];
    size_t n;

    ck_assert_int_lt(rotarr_age_b64_decode("YWI", 3, 0, out, sizeof(out),
                                           &n), 0);
}
END_TEST

/* Valid strings from BIP 173 whose data part converts to whole bytes. */
START_TEST(test_bech32__accepts_bip173_vectors)
{
    static const char *valid[] = {
        "A12UEL5L",
        "a12uel5l",
        "an83characterlonghumanreadablepartthatcontainsthenumber1"
        "andtheexcludedcharactersbio1tt5tgs",
        "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw",
        "?1ezyfcl",
    };
    char hrp[100];
    unsigned char data[64];
    size_t i, n;
    int upper;

    for (i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
        ck_assert_msg(rotarr_bech32_decode(valid[i], strlen(valid[i]), hrp,
                                           sizeof(hrp), data, sizeof(data),
                                           &n, &upper) == 0, "%s", valid[i]);
    }
    ck_assert_int_eq(rotarr_bech32_decode(valid[3], strlen(valid[3]), hrp,
                                          sizeof(hrp), data, sizeof(data),
                                          &n, &upper), 0);
    ck_assert_str_eq(hrp, "abcdef");
    ck_assert_uint_eq(n, 20);
    ck_assert_str_eq(hex_of(data, n),
                     "00443214c74254b635cf84653a56d7c675be77df");
    ck_assert_int_eq(upper, 0);
}
END_TEST

/* "11" and 82 'q' and a checksum: 90 characters, the BIP 173 limit. */
START_TEST(test_bech32__accepts_longest_bip173_vector)
{
    char text[91], hrp[8];
    unsigned char data[64];
    size_t n;
    int upper;

    memcpy(text, "11", 2);
    memset(text + 2, 'q', 82);
    memcpy(text + 84, "c8247j", 7);
    ck_assert_int_eq(rotarr_bech32_decode(text, 90, hrp, sizeof(hrp), data,
                                          sizeof(data), &n, &upper), 0);
    ck_assert_str_eq(hrp, "1");
    ck_assert_uint_eq(n, 51);
}
END_TEST

/* Invalid strings from BIP 173, and a mixed-case key. */
START_TEST(test_bech32__rejects_invalid_strings)
{
    static const char *invalid[] = {
        "pzry9x0s0muk",   /* no separator */
        "1pzry9x0s0muk",  /* empty human-readable part */
        "x1b4n0q5v",      /* invalid data character */
        "li1dgmt3",       /* checksum too short */
        "A1G7SGD8",       /* checksum of the upper-case form */
        "10a06t8",        /* empty human-readable part */
        "1qzzfhee",       /* empty human-readable part */
        "a12UEL5L",       /* mixed case */
        "A12uel5l",       /* mixed case */
        "a12uel5m",       /* wrong checksum */
    };
    char hrp[100];
    unsigned char data[64];
    size_t i, n;
    int upper;

    for (i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
        ck_assert_msg(rotarr_bech32_decode(invalid[i], strlen(invalid[i]),
                                           hrp, sizeof(hrp), data,
                                           sizeof(data), &n, &upper) < 0,
                      "accepted %s", invalid[i]);
    }
}
END_TEST

START_TEST(test_bech32__round_trips_keys)
{
    unsigned char key[32], back[33];
    char text[100], hrp[32];
    size_t n;
    int upper;

    randombytes_buf(key, sizeof(key));
    ck_assert_int_eq(rotarr_bech32_encode("age", key, 32, 0, text), 0);
    ck_assert_uint_eq(strlen(text), 62);
    ck_assert_uint_eq(rotarr_bech32_len(3, 32), 62);
    ck_assert_int_eq(rotarr_bech32_decode(text, strlen(text), hrp,
                                          sizeof(hrp), back, sizeof(back),
                                          &n, &upper), 0);
    ck_assert_str_eq(hrp, "age");
    ck_assert_uint_eq(n, 32);
    ck_assert_int_eq(memcmp(key, back, 32), 0);
    ck_assert_int_eq(rotarr_bech32_encode("age-secret-key-", key, 32, 1,
                                          text), 0);
    ck_assert_int_eq(strncmp(text, "AGE-SECRET-KEY-1", 16), 0);
    ck_assert_uint_eq(strlen(text), 74);
}
END_TEST

/* BIP 173 checksum of hrp and groups, written here independently of the
 * library so that the test can build strings the encoder never makes. */
static void checksum_groups(const char *hrp, const unsigned char *groups,
                            size_t n, unsigned char out[6])
{
    static const unsigned long gen[5] = {
        0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3,
    };
    unsigned char values[128];
    unsigned long chk = 1, top;
    size_t count = 0, i, h = strlen(hrp);
    int j;

    for (i = 0; i < h; i++) {
        values[count++] = (unsigned char)(hrp[i] >> 5);
    }
    values[count++] = 0;
    for (i = 0; i < h; i++) {
        values[count++] = (unsigned char)(hrp[i] & 31);
    }
    memcpy(values + count, groups, n);
    count += n;
    memset(values + count, 0, 6);
    count += 6;
    for (i = 0; i < count; i++) {
        top = chk >> 25;
        chk = ((chk & 0x1ffffff) << 5) ^ values[i];
        for (j = 0; j < 5; j++) {
            chk ^= ((top >> j) & 1) ? gen[j] : 0;
        }
    }
    chk ^= 1;
    for (i = 0; i < 6; i++) {
        out[i] = (unsigned char)((chk >> (5 * (5 - i))) & 31);
    }
}

/* A 32-byte key takes 52 groups with 4 padding bits, which must be 0. */
START_TEST(test_bech32__rejects_nonzero_padding)
{
    static const char charset[] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
    unsigned char groups[52], check[6], back[40];
    char text[80], hrp[8];
    size_t i, n;
    int upper, padding;

    for (padding = 0; padding < 2; padding++) {
        memset(groups, 0, sizeof(groups));
        groups[51] = (unsigned char)padding;
        checksum_groups("age", groups, sizeof(groups), check);
        memcpy(text, "age1", 4);
        for (i = 0; i < 52; i++) {
            text[4 + i] = charset[groups[i]];
        }
        for (i = 0; i < 6; i++) {
            text[56 + i] = charset[check[i]];
        }
        text[62] = '\0';
        ck_assert_int_eq(rotarr_bech32_decode(text, 62, hrp, sizeof(hrp),
                                              back, sizeof(back), &n,
                                              &upper),
                         padding ? -1 : 0);
    }
}
END_TEST

START_TEST(test_hkdf__matches_rfc5869_case_1)
{
    unsigned char ikm[22], salt[13], info[10], okm[32];
    size_t i;

    memset(ikm, 0x0b, sizeof(ikm));
    for (i = 0; i < sizeof(salt); i++) {
        salt[i] = (unsigned char)i;
    }
    for (i = 0; i < sizeof(info); i++) {
        info[i] = (unsigned char)(0xf0 + i);
    }
    rotarr_hkdf_sha256(ikm, sizeof(ikm), salt, sizeof(salt), info,
                       sizeof(info), okm);
    ck_assert_str_eq(hex_of(okm, 32), "3cb25f25faacd57a90434f64d0362f2a"
                                      "2d2d0a90cf1a5a4c5db02d56ecc4c5bf");
}
END_TEST

START_TEST(test_hkdf__matches_rfc5869_case_3_without_salt)
{
    unsigned char ikm[22], okm[32], other[32];

    memset(ikm, 0x0b, sizeof(ikm));
    rotarr_hkdf_sha256(ikm, sizeof(ikm), NULL, 0, "", 0, okm);
    ck_assert_str_eq(hex_of(okm, 32), "8da4e775a563c18f715f802a063c5a31"
                                      "b8a11f5c5ee1879ec3454e5f3c738d2d");
    /* The info changes the output. */
    rotarr_hkdf_sha256(ikm, sizeof(ikm), NULL, 0, "x", 1, other);
    ck_assert_int_ne(memcmp(okm, other, 32), 0);
}
END_TEST

START_TEST(test_hkdf__differs_with_salt)
{
    unsigned char ikm[16], salt[16], a[32], b[32];

    hex_decode("59454c4c4f57205355424d4152494e45", ikm, sizeof(ikm));
    memset(salt, 0, sizeof(salt));
    rotarr_hkdf_sha256(ikm, sizeof(ikm), salt, sizeof(salt), "payload", 7,
                       a);
    salt[0] = 1;
    rotarr_hkdf_sha256(ikm, sizeof(ikm), salt, sizeof(salt), "payload", 7,
                       b);
    ck_assert_int_ne(memcmp(a, b, 32), 0);
}
END_TEST

Suite *age_format_suite(void)
{
    Suite *s = suite_create("age_format");
    TCase *b64 = tcase_create("base64");
    TCase *bech32 = tcase_create("bech32");
    TCase *hkdf = tcase_create("hkdf");

    tcase_add_test(b64, test_b64__encodes_unpadded_and_padded);
    tcase_add_test(b64, test_b64__decodes_canonical_text);
    tcase_add_test(b64, test_b64__rejects_non_canonical_text);
    tcase_add_test(b64, test_b64__rejects_output_too_large);
    suite_add_tcase(s, b64);

    tcase_add_test(bech32, test_bech32__accepts_bip173_vectors);
    tcase_add_test(bech32, test_bech32__accepts_longest_bip173_vector);
    tcase_add_test(bech32, test_bech32__rejects_invalid_strings);
    tcase_add_test(bech32, test_bech32__round_trips_keys);
    tcase_add_test(bech32, test_bech32__rejects_nonzero_padding);
    suite_add_tcase(s, bech32);

    tcase_add_test(hkdf, test_hkdf__matches_rfc5869_case_1);
    tcase_add_test(hkdf, test_hkdf__matches_rfc5869_case_3_without_salt);
    tcase_add_test(hkdf, test_hkdf__differs_with_salt);
    suite_add_tcase(s, hkdf);
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
    runner = srunner_create(age_format_suite());
    srunner_add_suite(runner, age_keys_suite());
    srunner_add_suite(runner, age_stream_suite());
    srunner_add_suite(runner, age_vector_suite());
    srunner_run_all(runner, CK_NORMAL);
    failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
