/*
 * Unit tests of the ChaCha20-Poly1305 that seals and opens age payload
 * chunks.  Each test runs twice, once with each keystream (the index of
 * the loop test is an enum age_chacha_impl): the RFC 8439 vectors, byte
 * for byte agreement with libsodium's
 * crypto_aead_chacha20poly1305_ietf_encrypt and _decrypt, and the
 * rejection of damaged input with no plaintext released.
 */
#include "rotarr/compat.h"

#include <check.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rotarr/error.h"
#include "rotarr/secret.h"
#include "../../lib/age/chacha.h"

#define TAG AGE_POLY1305_TAG_SIZE
#define MAX_TEXT 300
#define SHORT_LENGTHS 1100
#define SENTINEL 0xa5

/* Lengths past the short ones: a whole age chunk, lengths around the
 * 1,024-byte AVX-512 group, and a few large odd ones. */
static const size_t long_lengths[] = {
    1023, 1024, 1025, 2047, 2048, 2049, 65535, 65536, 65537, 100003,
    262147, 1048573,
};

/* RFC 8439 section 2.4.2 and 2.8.2: the plaintext. */
static const char sunscreen[] =
    "Ladies and Gentlemen of the class of '99: If I could offer you only "
    "one tip for the future, sunscreen would be it.";

/* RFC 8439 section 2.4.2: key 00..1f, counter 1. */
static const char rfc_2_4_2_nonce[] = "000000000000004a00000000";
static const char rfc_2_4_2_ciphertext[] =
    "6e2e359a2568f98041ba0728dd0d6981e97e7aec1d4360c20a27afccfd9fae0b"
    "f91b65c5524733ab8f593dabcd62b3571639d624e65152ab8f530c359f0861d8"
    "07ca0dbf500d6a6156a38e088a22b65e52bc514d16ccf806818ce91ab7793736"
    "5af90bbf74a35be6b40b8eedf2785e42874d";

/* RFC 8439 section 2.8.2: key 80..9f. */
static const char rfc_2_8_2_nonce[] = "070000004041424344454647";
static const char rfc_2_8_2_ad[] = "50515253c0c1c2c3c4c5c6c7";
static const char rfc_2_8_2_ciphertext[] =
    "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6"
    "3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36"
    "92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"
    "3ff4def08e4b7a9de576d26586cec64b6116"
    "1ae10b594f09e26a7e902ecbd0600691";

/* RFC 8439 appendix A.5: decryption, ciphertext followed by the tag. */
static const char rfc_a_5_key[] =
    "1c9240a5eb55d38af333888604f6b5f0473917c1402b80099dca5cbc207075c0";
static const char rfc_a_5_nonce[] = "000000000102030405060708";
static const char rfc_a_5_ad[] = "f33388860000000000004e91";
static const char rfc_a_5_ciphertext[] =
    "64a0861575861af460f062c79be643bd5e805cfd345cf389f108670ac76c8cb2"
    "4c6cfc18755d43eea09ee94e382d26b0bdb7b73c321b0100d4f03b7f355894cf"
    "332f830e710b97ce98c8a84abd0b948114ad176e008d33bd60f982b1ff37c855"
    "9797a06ef4f0ef61c186324e2b3506383606907b6a7c02b0f9f6157b53c867e4"
    "b9166c767b804d46a59b5216cde7a4e99040c5a40433225ee282a1b0a06c523e"
    "af4534d7f83fa1155b0047718cbc546a0d072b04b3564eea1b422273f548271a"
    "0bb2316053fa76991955ebd63159434ecebb4e466dae5a1073a6727627097a10"
    "49e617d91d361094fa68f0ff77987130305beaba2eda04df997b714d6c6f2c29"
    "a6ad5cb4022b02709b"
    "eead9d67890cbb22392336fea1851f38";
static const char rfc_a_5_plaintext[] =
    "Internet-Drafts are draft documents valid for a maximum of six "
    "months and may be updated, replaced, or obsoleted by other documents "
    "at any time. It is inappropriate to use Internet-Drafts as reference "
    "material or to cite them other than as /\xe2\x80\x9cwork in progress."
    "/\xe2\x80\x9d";

/* Decodes hex (spaces skipped) into out and returns the byte count. */
static size_t from_hex(const char *hex, unsigned char *out, size_t max)
{
    size_t n = 0;
    const char *end;

    ck_assert_int_eq(sodium_hex2bin(out, max, hex, strlen(hex), " ", &n,
                                    &end), 0);
    ck_assert_int_eq(*end, '\0');
    return n;
}

static void counting_key(unsigned char key[AGE_CHACHA_KEY_SIZE],
                         unsigned char first)
{
    int i;

    for (i = 0; i < AGE_CHACHA_KEY_SIZE; i++) {
        key[i] = (unsigned char)(first + i);
    }
}

/*
 * Selects the keystream of loop index impl.  Returns 0 when this CPU
 * cannot run it, so that the test stops rather than test libsodium twice.
 */
static int use_impl(int impl)
{
    age_chacha_set_impl((enum age_chacha_impl)impl);
    if (age_chacha_impl_in_use() != (enum age_chacha_impl)impl) {
        fprintf(stderr, "test_chacha: the CPU reports no AVX-512F, so the "
                "AVX-512 run of this test is skipped\n");
        return 0;
    }
    return 1;
}

static void seal_with_libsodium(unsigned char *c, const unsigned char *m,
                                size_t mlen, const unsigned char *ad,
                                size_t adlen, const unsigned char *nonce,
                                const unsigned char *key)
{
    unsigned long long clen = 0;

    crypto_aead_chacha20poly1305_ietf_encrypt(c, &clen, m, mlen, ad, adlen,
                                              NULL, nonce, key);
    ck_assert_uint_eq(clen, mlen + TAG);
}

START_TEST(test_chacha__impl_switch_selects_libsodium)
{
    age_chacha_set_impl(AGE_CHACHA_GENERIC);
    ck_assert_int_eq(age_chacha_impl_in_use(), AGE_CHACHA_GENERIC);
}
END_TEST

START_TEST(test_chacha__impl_auto_selects_avx512_when_present)
{
    age_chacha_set_impl(AGE_CHACHA_AUTO);
    ck_assert_int_eq(age_chacha_impl_in_use(),
                     __builtin_cpu_supports("avx512f") ? AGE_CHACHA_AVX512
                                                       : AGE_CHACHA_GENERIC);
}
END_TEST

START_TEST(test_chacha__xor_matches_rfc_2_4_2)
{
    unsigned char key[AGE_CHACHA_KEY_SIZE], nonce[AGE_CHACHA_NONCE_SIZE];
    unsigned char expected[MAX_TEXT], out[MAX_TEXT];
    size_t len = strlen(sunscreen);

    if (!use_impl(_i)) {
        return;
    }
    counting_key(key, 0);
    from_hex(rfc_2_4_2_nonce, nonce, sizeof(nonce));
    ck_assert_uint_eq(from_hex(rfc_2_4_2_ciphertext, expected,
                               sizeof(expected)), len);

    age_chacha20_xor(out, (const unsigned char *)sunscreen, len, nonce, 1,
                     key);
    ck_assert_mem_eq(out, expected, len);
}
END_TEST

/* The vector at the start of a 2,048-byte text, so that the AVX-512 code,
 * not the libsodium tail, produces it. */
START_TEST(test_chacha__xor_matches_rfc_2_4_2_in_long_text)
{
    unsigned char key[AGE_CHACHA_KEY_SIZE], nonce[AGE_CHACHA_NONCE_SIZE];
    unsigned char expected[MAX_TEXT];
    unsigned char text[2 * AGE_CHACHA_AVX512_GROUP];
    size_t len = strlen(sunscreen);

    if (!use_impl(_i)) {
        return;
    }
    counting_key(key, 0);
    from_hex(rfc_2_4_2_nonce, nonce, sizeof(nonce));
    from_hex(rfc_2_4_2_ciphertext, expected, sizeof(expected));
    memset(text, 0, sizeof(text));
    memcpy(text, sunscreen, len);

    age_chacha20_xor(text, text, sizeof(text), nonce, 1, key);
    ck_assert_mem_eq(text, expected, len);
}
END_TEST

START_TEST(test_chacha__seal_matches_rfc_2_8_2)
{
    unsigned char key[AGE_CHACHA_KEY_SIZE], nonce[AGE_CHACHA_NONCE_SIZE];
    unsigned char ad[16], expected[MAX_TEXT + TAG], out[MAX_TEXT + TAG];
    size_t len = strlen(sunscreen);
    size_t adlen;

    if (!use_impl(_i)) {
        return;
    }
    counting_key(key, 0x80);
    from_hex(rfc_2_8_2_nonce, nonce, sizeof(nonce));
    adlen = from_hex(rfc_2_8_2_ad, ad, sizeof(ad));
    ck_assert_uint_eq(from_hex(rfc_2_8_2_ciphertext, expected,
                               sizeof(expected)), len + TAG);

    age_aead_seal(out, (const unsigned char *)sunscreen, len, ad, adlen,
                  nonce, key);
    ck_assert_mem_eq(out, expected, len);
    ck_assert_mem_eq(out + len, expected + len, TAG);
}
END_TEST

START_TEST(test_chacha__open_matches_rfc_a_5)
{
    unsigned char key[AGE_CHACHA_KEY_SIZE], nonce[AGE_CHACHA_NONCE_SIZE];
    unsigned char ad[16], c[MAX_TEXT + TAG], m[MAX_TEXT];
    size_t adlen, clen;

    if (!use_impl(_i)) {
        return;
    }
    from_hex(rfc_a_5_key, key, sizeof(key));
    from_hex(rfc_a_5_nonce, nonce, sizeof(nonce));
    adlen = from_hex(rfc_a_5_ad, ad, sizeof(ad));
    clen = from_hex(rfc_a_5_ciphertext, c, sizeof(c));
    ck_assert_uint_eq(clen, strlen(rfc_a_5_plaintext) + TAG);

    ck_assert_int_eq(age_aead_open(m, c, clen, ad, adlen, nonce, key), 0);
    ck_assert_mem_eq(m, rfc_a_5_plaintext, clen - TAG);
}
END_TEST

START_TEST(test_chacha__open_rejects_rfc_a_5_with_other_ad)
{
    unsigned char key[AGE_CHACHA_KEY_SIZE], nonce[AGE_CHACHA_NONCE_SIZE];
    unsigned char ad[16], c[MAX_TEXT + TAG], m[MAX_TEXT];
    size_t adlen, clen;

    if (!use_impl(_i)) {
        return;
    }
    from_hex(rfc_a_5_key, key, sizeof(key));
    from_hex(rfc_a_5_nonce, nonce, sizeof(nonce));
    adlen = from_hex(rfc_a_5_ad, ad, sizeof(ad));
    clen = from_hex(rfc_a_5_ciphertext, c, sizeof(c));
    ad[adlen - 1] ^= 1;

    ck_assert_int_eq(age_aead_open(m, c, clen, ad, adlen, nonce, key), -1);
}
END_TEST

/*
 * Seals len random bytes under a random key and nonce with both
 * implementations and checks that the output is the same, and that each
 * opens the other's.
 */
static void check_against_libsodium(size_t len, size_t adlen)
{
    unsigned char key[AGE_CHACHA_KEY_SIZE], nonce[AGE_CHACHA_NONCE_SIZE];
    unsigned char ad[64];
    unsigned char *m = malloc(len + 1);
    unsigned char *expected = malloc(len + TAG);
    unsigned char *c = malloc(len + TAG);
    unsigned char *opened = malloc(len + 1);

    ck_assert_ptr_nonnull(m);
    ck_assert_ptr_nonnull(expected);
    ck_assert_ptr_nonnull(c);
    ck_assert_ptr_nonnull(opened);
    ck_assert_uint_le(adlen, sizeof(ad));
    randombytes_buf(key, sizeof(key));
    randombytes_buf(nonce, sizeof(nonce));
    randombytes_buf(ad, adlen);
    randombytes_buf(m, len);

    seal_with_libsodium(expected, m, len, ad, adlen, nonce, key);
    age_aead_seal(c, m, len, ad, adlen, nonce, key);
    ck_assert_msg(memcmp(c, expected, len + TAG) == 0,
                  "sealing %zu bytes with %zu of additional data differs "
                  "from libsodium", len, adlen);

    ck_assert_msg(age_aead_open(opened, expected, len + TAG, ad, adlen,
                                nonce, key) == 0,
                  "libsodium's sealing of %zu bytes does not open", len);
    ck_assert_msg(memcmp(opened, m, len) == 0,
                  "opening %zu bytes gives other plaintext", len);
    ck_assert_msg(crypto_aead_chacha20poly1305_ietf_decrypt(
                      opened, NULL, NULL, c, len + TAG, ad, adlen, nonce,
                      key) == 0,
                  "libsodium does not open a sealing of %zu bytes", len);
    free(m);
    free(expected);
    free(c);
    free(opened);
}

START_TEST(test_chacha__seal_matches_libsodium_short_lengths)
{
    size_t len;

    if (!use_impl(_i)) {
        return;
    }
    for (len = 0; len <= SHORT_LENGTHS; len++) {
        check_against_libsodium(len, 0);
    }
}
END_TEST

START_TEST(test_chacha__seal_matches_libsodium_long_lengths)
{
    size_t i;

    if (!use_impl(_i)) {
        return;
    }
    for (i = 0; i < sizeof(long_lengths) / sizeof(long_lengths[0]); i++) {
        check_against_libsodium(long_lengths[i], 0);
    }
}
END_TEST

START_TEST(test_chacha__seal_matches_libsodium_with_ad)
{
    size_t adlen;

    if (!use_impl(_i)) {
        return;
    }
    for (adlen = 1; adlen <= 40; adlen++) {
        check_against_libsodium(2 * AGE_CHACHA_AVX512_GROUP + adlen, adlen);
    }
}
END_TEST

/* Keystream blocks from a counter other than 1, as far as 2^32 - 1. */
START_TEST(test_chacha__xor_matches_libsodium_at_any_counter)
{
    static const uint32_t counters[] = { 0, 2, 15, 16, 0xfffff000u,
                                         0xffffff00u };
    unsigned char key[AGE_CHACHA_KEY_SIZE], nonce[AGE_CHACHA_NONCE_SIZE];
    unsigned char expected[8 * AGE_CHACHA_AVX512_GROUP + 7];
    unsigned char out[sizeof(expected)];
    size_t i;

    if (!use_impl(_i)) {
        return;
    }
    for (i = 0; i < sizeof(counters) / sizeof(counters[0]); i++) {
        randombytes_buf(key, sizeof(key));
        randombytes_buf(nonce, sizeof(nonce));
        memset(expected, 0, sizeof(expected));
        crypto_stream_chacha20_ietf_xor_ic(expected, expected,
                                           sizeof(expected), nonce,
                                           counters[i], key);
        memset(out, 0, sizeof(out));
        age_chacha20_xor(out, out, sizeof(out), nonce, counters[i], key);
        ck_assert_msg(memcmp(out, expected, sizeof(out)) == 0,
                      "keystream from counter %u differs from libsodium",
                      (unsigned)counters[i]);
    }
}
END_TEST

/*
 * Seals len random bytes into c (room for len + TAG), with key and nonce
 * random too.
 */
static void seal_random(unsigned char *c, size_t len,
                        unsigned char key[AGE_CHACHA_KEY_SIZE],
                        unsigned char nonce[AGE_CHACHA_NONCE_SIZE])
{
    unsigned char *m = malloc(len + 1);

    ck_assert_ptr_nonnull(m);
    randombytes_buf(key, AGE_CHACHA_KEY_SIZE);
    randombytes_buf(nonce, AGE_CHACHA_NONCE_SIZE);
    randombytes_buf(m, len);
    age_aead_seal(c, m, len, NULL, 0, nonce, key);
    free(m);
}

/* Returns 1 when all len bytes at p still are SENTINEL. */
static int untouched(const unsigned char *p, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++) {
        if (p[i] != SENTINEL) {
            return 0;
        }
    }
    return 1;
}

/*
 * Opens the clen bytes at c and expects a rejection that leaves the
 * output buffer as it was.
 */
static void check_rejected(const unsigned char *c, size_t clen,
                           const unsigned char *key,
                           const unsigned char *nonce, const char *what)
{
    unsigned char *m = malloc(clen + 1);

    ck_assert_ptr_nonnull(m);
    memset(m, SENTINEL, clen + 1);
    ck_assert_msg(age_aead_open(m, c, clen, NULL, 0, nonce, key) == -1,
                  "%s of %zu bytes was accepted", what, clen);
    ck_assert_msg(untouched(m, clen + 1),
                  "%s of %zu bytes wrote plaintext", what, clen);
    free(m);
}

START_TEST(test_chacha__open_accepts_intact_sealing)
{
    static const size_t lengths[] = { 0, 1, 63, 1024, 4099, 65536 };
    unsigned char key[AGE_CHACHA_KEY_SIZE], nonce[AGE_CHACHA_NONCE_SIZE];
    unsigned char *c = malloc(65536 + TAG), *m = malloc(65536 + TAG);
    size_t i;

    ck_assert_ptr_nonnull(c);
    ck_assert_ptr_nonnull(m);
    if (!use_impl(_i)) {
        goto out;
    }
    for (i = 0; i < sizeof(lengths) / sizeof(lengths[0]); i++) {
        seal_random(c, lengths[i], key, nonce);
        ck_assert_int_eq(age_aead_open(m, c, lengths[i] + TAG, NULL, 0,
                                       nonce, key), 0);
    }

out:
    free(c);
    free(m);
}
END_TEST

START_TEST(test_chacha__open_rejects_flipped_ciphertext_byte)
{
    static const size_t lengths[] = { 1, 63, 1024, 4099, 65536 };
    unsigned char key[AGE_CHACHA_KEY_SIZE], nonce[AGE_CHACHA_NONCE_SIZE];
    unsigned char *c = malloc(65536 + TAG);
    size_t i, len;

    ck_assert_ptr_nonnull(c);
    if (!use_impl(_i)) {
        goto out;
    }
    for (i = 0; i < sizeof(lengths) / sizeof(lengths[0]); i++) {
        len = lengths[i];
        seal_random(c, len, key, nonce);
        c[0] ^= 0x01;
        check_rejected(c, len + TAG, key, nonce, "a flipped first byte");
        c[0] ^= 0x01;
        c[len - 1] ^= 0x80;
        check_rejected(c, len + TAG, key, nonce, "a flipped last byte");
        c[len - 1] ^= 0x80;
        c[len / 2] ^= 0x10;
        check_rejected(c, len + TAG, key, nonce, "a flipped middle byte");
    }

out:
    free(c);
}
END_TEST

START_TEST(test_chacha__open_rejects_flipped_tag_byte)
{
    unsigned char key[AGE_CHACHA_KEY_SIZE], nonce[AGE_CHACHA_NONCE_SIZE];
    unsigned char *c = malloc(65536 + TAG);
    size_t len = 65536;
    int i;

    ck_assert_ptr_nonnull(c);
    if (!use_impl(_i)) {
        goto out;
    }
    seal_random(c, len, key, nonce);
    for (i = 0; i < TAG; i++) {
        c[len + i] ^= 0x04;
        check_rejected(c, len + TAG, key, nonce, "a flipped tag byte");
        c[len + i] ^= 0x04;
    }

out:
    free(c);
}
END_TEST

START_TEST(test_chacha__open_rejects_truncated_input)
{
    unsigned char key[AGE_CHACHA_KEY_SIZE], nonce[AGE_CHACHA_NONCE_SIZE];
    unsigned char *c = malloc(65536 + TAG);
    size_t len = 65536;

    ck_assert_ptr_nonnull(c);
    if (!use_impl(_i)) {
        goto out;
    }
    seal_random(c, len, key, nonce);
    check_rejected(c, len + TAG - 1, key, nonce, "a sealing less a byte");
    check_rejected(c, len, key, nonce, "a sealing less its tag");
    check_rejected(c, AGE_CHACHA_AVX512_GROUP, key, nonce,
                   "the first kilobyte of a sealing");
    check_rejected(c, TAG - 1, key, nonce, "input shorter than a tag");
    check_rejected(c, 0, key, nonce, "empty input");

out:
    free(c);
}
END_TEST

static Suite *chacha_suite(void)
{
    Suite *s = suite_create("chacha");
    TCase *vectors = tcase_create("rfc8439");
    TCase *libsodium = tcase_create("libsodium");
    TCase *reject = tcase_create("reject");
    int impls = AGE_CHACHA_AVX512 + 1;

    tcase_add_test(vectors, test_chacha__impl_switch_selects_libsodium);
    tcase_add_test(vectors,
                   test_chacha__impl_auto_selects_avx512_when_present);
    tcase_add_loop_test(vectors, test_chacha__xor_matches_rfc_2_4_2,
                        AGE_CHACHA_GENERIC, impls);
    tcase_add_loop_test(vectors,
                        test_chacha__xor_matches_rfc_2_4_2_in_long_text,
                        AGE_CHACHA_GENERIC, impls);
    tcase_add_loop_test(vectors, test_chacha__seal_matches_rfc_2_8_2,
                        AGE_CHACHA_GENERIC, impls);
    tcase_add_loop_test(vectors, test_chacha__open_matches_rfc_a_5,
                        AGE_CHACHA_GENERIC, impls);
    tcase_add_loop_test(vectors,
                        test_chacha__open_rejects_rfc_a_5_with_other_ad,
                        AGE_CHACHA_GENERIC, impls);
    suite_add_tcase(s, vectors);

    tcase_add_loop_test(libsodium,
                        test_chacha__seal_matches_libsodium_short_lengths,
                        AGE_CHACHA_GENERIC, impls);
    tcase_add_loop_test(libsodium,
                        test_chacha__seal_matches_libsodium_long_lengths,
                        AGE_CHACHA_GENERIC, impls);
    tcase_add_loop_test(libsodium,
                        test_chacha__seal_matches_libsodium_with_ad,
                        AGE_CHACHA_GENERIC, impls);
    tcase_add_loop_test(libsodium,
                        test_chacha__xor_matches_libsodium_at_any_counter,
                        AGE_CHACHA_GENERIC, impls);
    suite_add_tcase(s, libsodium);

    tcase_add_loop_test(reject, test_chacha__open_accepts_intact_sealing,
                        AGE_CHACHA_GENERIC, impls);
    tcase_add_loop_test(reject,
                        test_chacha__open_rejects_flipped_ciphertext_byte,
                        AGE_CHACHA_GENERIC, impls);
    tcase_add_loop_test(reject, test_chacha__open_rejects_flipped_tag_byte,
                        AGE_CHACHA_GENERIC, impls);
    tcase_add_loop_test(reject, test_chacha__open_rejects_truncated_input,
                        AGE_CHACHA_GENERIC, impls);
    suite_add_tcase(s, reject);
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
    runner = srunner_create(chacha_suite());
    srunner_run_all(runner, CK_NORMAL);
    failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
