/*
 * Unit tests of encryption and decryption through the public API.  They
 * cover round trips over chunk boundaries with one or several worker
 * threads and short reads, and the armor's line layout.  They also cover
 * each way a file can be damaged, with the plaintext released before
 * the failure.
 */
#include "rotarr/compat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test_age.h"
#include "test_keypair.h"

#define CHUNK ROTARR_AGE_CHUNK_SIZE

static unsigned char *random_bytes(size_t len)
{
    unsigned char *bytes = malloc(len > 0 ? len : 1);

    ck_assert_ptr_nonnull(bytes);
    randombytes_buf(bytes, len);
    return bytes;
}

/* Encrypts with the given reads of step bytes, decrypts, compares. */
static void round_trip(const struct keypair *k, size_t len, size_t step,
                       unsigned flags)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    unsigned char *plain = random_bytes(len);
    struct rotarr_buf cipher = ROTARR_BUF_INIT;
    struct test_source src;
    struct test_sink sink;
    struct rotarr_age_sink to_buf;

    test_sink_init(&sink);
    test_source_init(&src, plain, len, step);
    to_buf = sink.sink;
    ck_assert_msg(rotarr_age_encrypt(k->recipients, &src.source, &to_buf,
                                     flags, &err) == 0, "%s", err.msg);
    rotarr_buf_append(&cipher, sink.bytes.data, sink.bytes.len, &err);
    test_sink_release(&sink);
    test_sink_init(&sink);
    ck_assert_int_eq(test_decrypt(k->ids, cipher.data, cipher.len, 0, &sink),
                     ROTARR_AGE_OK);
    ck_assert_uint_eq(sink.bytes.len, len);
    ck_assert_int_eq(len == 0 || memcmp(sink.bytes.data, plain, len) == 0, 1);
    test_sink_release(&sink);
    rotarr_buf_release(&cipher);
    free(plain);
}

static const size_t sizes[] = {
    0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 3 * CHUNK + 17,
    20 * CHUNK + 5,
};
#define SIZE_COUNT (sizeof(sizes) / sizeof(sizes[0]))
static const unsigned workers[] = { 1, 2, 5 };

/* Iteration _i picks a size and a worker count. */
START_TEST(test_stream__round_trips_sizes_and_workers)
{
    struct keypair k;
    size_t len = sizes[_i % SIZE_COUNT];

    rotarr_age_set_workers(workers[_i / SIZE_COUNT]);
    keypair_init(&k);
    round_trip(&k, len, 0, 0);
    round_trip(&k, len, 1000, 0);
    round_trip(&k, len, 0, ROTARR_AGE_ARMOR);
    keypair_release(&k);
}
END_TEST

/* The ciphertext is the header, a 16-byte nonce and each chunk with a
 * 16-byte tag; an empty plaintext still has one empty final chunk. */
START_TEST(test_stream__sizes_follow_the_format)
{
    struct keypair k;
    struct rotarr_buf a = ROTARR_BUF_INIT, b = ROTARR_BUF_INIT;
    unsigned char *plain = random_bytes(2 * CHUNK);
    size_t header;

    keypair_init(&k);
    test_encrypt(k.recipients, plain, 0, 0, &a);
    header = a.len - 16 - 16;
    test_encrypt(k.recipients, plain, 2 * CHUNK, 0, &b);
    ck_assert_uint_eq(b.len, header + 16 + 2 * (CHUNK + 16));
    rotarr_buf_reset(&b);
    test_encrypt(k.recipients, plain, CHUNK, 0, &b);
    ck_assert_uint_eq(b.len, header + 16 + CHUNK + 16);
    rotarr_buf_release(&a);
    rotarr_buf_release(&b);
    free(plain);
    keypair_release(&k);
}
END_TEST

/* Armor: 64-column lines, the last 1 to 64 columns, never empty, for
 * every length modulo the 48 bytes of a line. */
START_TEST(test_stream__armor_lines_are_64_columns)
{
    struct keypair k;
    struct rotarr_buf out = ROTARR_BUF_INIT;
    unsigned char *plain = random_bytes(200);
    char *line, *next;
    size_t len, lines;

    keypair_init(&k);
    for (len = 100; len < 148; len++) {
        rotarr_buf_reset(&out);
        test_encrypt(k.recipients, plain, len, ROTARR_AGE_ARMOR, &out);
        ck_assert_int_eq(out.data[out.len - 1], '\n');
        line = strchr(out.data, '\n') + 1;
        for (lines = 0; strncmp(line, "-----END", 8) != 0; line = next) {
            next = strchr(line, '\n') + 1;
            ck_assert_uint_gt(next - line - 1, 0);
            ck_assert_uint_le(next - line - 1, 64);
            if (strncmp(next, "-----END", 8) != 0) {
                ck_assert_uint_eq(next - line - 1, 64);
            }
            lines++;
        }
        ck_assert_str_eq(line, "-----END AGE ENCRYPTED FILE-----\n");
        ck_assert_uint_gt(lines, 0);
    }
    rotarr_buf_release(&out);
    free(plain);
    keypair_release(&k);
}
END_TEST

static void encrypt_chunks(const struct keypair *k, size_t len,
                           struct rotarr_buf *out, unsigned char **plain)
{
    *plain = random_bytes(len);
    test_encrypt(k->recipients, *plain, len, 0, out);
}

static void expect_failure(const struct keypair *k, const struct rotarr_buf *c,
                           enum rotarr_age_failure want, size_t released)
{
    struct test_sink sink;

    test_sink_init(&sink);
    ck_assert_int_eq(test_decrypt(k->ids, c->data, c->len, 0, &sink), want);
    ck_assert_uint_eq(sink.bytes.len, released);
    test_sink_release(&sink);
}

/* A damaged second chunk of three: the first is released, nothing after,
 * whatever the number of workers. */
START_TEST(test_stream__tampered_chunk_stops_release)
{
    struct keypair k;
    struct rotarr_buf c = ROTARR_BUF_INIT;
    unsigned char *plain;

    rotarr_age_set_workers(workers[_i]);
    keypair_init(&k);
    encrypt_chunks(&k, 3 * CHUNK, &c, &plain);
    c.data[c.len - (CHUNK + 16) - 100] ^= 1;
    expect_failure(&k, &c, ROTARR_AGE_FAIL_PAYLOAD, CHUNK);
    rotarr_buf_release(&c);
    free(plain);
    keypair_release(&k);
}
END_TEST

START_TEST(test_stream__untampered_file_decrypts)
{
    struct keypair k;
    struct rotarr_buf c = ROTARR_BUF_INIT;
    unsigned char *plain;

    keypair_init(&k);
    encrypt_chunks(&k, 3 * CHUNK, &c, &plain);
    expect_failure(&k, &c, ROTARR_AGE_OK, 3 * CHUNK);
    rotarr_buf_release(&c);
    free(plain);
    keypair_release(&k);
}
END_TEST

START_TEST(test_stream__truncated_file_fails)
{
    struct keypair k;
    struct rotarr_buf c = ROTARR_BUF_INIT;
    unsigned char *plain;
    size_t full;

    keypair_init(&k);
    encrypt_chunks(&k, 2 * CHUNK + 10, &c, &plain);
    full = c.len;
    /* Cut at the chunk boundary: two middle chunks, no final one. */
    c.len = full - (10 + 16);
    expect_failure(&k, &c, ROTARR_AGE_FAIL_PAYLOAD, 2 * CHUNK);
    /* Cut inside the last chunk. */
    c.len = full - 1;
    expect_failure(&k, &c, ROTARR_AGE_FAIL_PAYLOAD, 2 * CHUNK);
    /* Cut inside the nonce: a header failure, nothing released. */
    c.len = full - (10 + 16) - 2 * (CHUNK + 16) - 1;
    expect_failure(&k, &c, ROTARR_AGE_FAIL_HEADER, 0);
    rotarr_buf_release(&c);
    free(plain);
    keypair_release(&k);
}
END_TEST

START_TEST(test_stream__trailing_data_fails_after_release)
{
    struct keypair k;
    struct rotarr_buf c = ROTARR_BUF_INIT;
    struct rotarr_error err = ROTARR_ERROR_INIT;
    unsigned char *plain;

    keypair_init(&k);
    /* A full final chunk, so the extra byte does not join its chunk. */
    encrypt_chunks(&k, 2 * CHUNK, &c, &plain);
    ck_assert_int_eq(rotarr_buf_append(&c, "x", 1, &err), 0);
    expect_failure(&k, &c, ROTARR_AGE_FAIL_PAYLOAD, 2 * CHUNK);
    /* After a short final chunk, it does: that chunk fails. */
    rotarr_buf_reset(&c);
    free(plain);
    encrypt_chunks(&k, CHUNK + 5, &c, &plain);
    ck_assert_int_eq(rotarr_buf_append(&c, "x", 1, &err), 0);
    expect_failure(&k, &c, ROTARR_AGE_FAIL_PAYLOAD, CHUNK);
    rotarr_buf_release(&c);
    free(plain);
    keypair_release(&k);
}
END_TEST

START_TEST(test_stream__tampered_header_fails_mac)
{
    struct keypair k;
    struct rotarr_buf c = ROTARR_BUF_INIT;
    unsigned char *plain;
    char *mac;

    keypair_init(&k);
    encrypt_chunks(&k, 100, &c, &plain);
    /* Another valid MAC line: the first character changed. */
    mac = strstr(c.data, "\n--- ") + 5;
    *mac = *mac == 'A' ? 'B' : 'A';
    expect_failure(&k, &c, ROTARR_AGE_FAIL_HMAC, 0);
    rotarr_buf_release(&c);
    free(plain);
    keypair_release(&k);
}
END_TEST

START_TEST(test_stream__other_key_does_not_match)
{
    struct keypair k, other;
    struct rotarr_buf c = ROTARR_BUF_INIT;
    unsigned char *plain;

    keypair_init(&k);
    keypair_init(&other);
    encrypt_chunks(&other, 100, &c, &plain);
    expect_failure(&k, &c, ROTARR_AGE_FAIL_NO_MATCH, 0);
    rotarr_buf_release(&c);
    free(plain);
    keypair_release(&k);
    keypair_release(&other);
}
END_TEST

/* Three recipients: each identity alone opens the file. */
START_TEST(test_stream__each_of_three_recipients_decrypts)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct keypair k[3];
    struct rotarr_age_recipients *all = rotarr_age_recipients_new(&err);
    struct rotarr_buf c = ROTARR_BUF_INIT, lines = ROTARR_BUF_INIT;
    unsigned char *plain = random_bytes(1000);
    size_t i;

    for (i = 0; i < 3; i++) {
        keypair_init(&k[i]);
        ck_assert_int_eq(rotarr_age_identities_recipients(k[i].ids, &lines,
                                                          &err), 0);
        lines.data[lines.len - 1] = '\0';
        ck_assert_int_eq(rotarr_age_recipients_add(all, lines.data, &err),
                         0);
        rotarr_buf_reset(&lines);
    }
    test_encrypt(all, plain, 1000, 0, &c);
    for (i = 0; i < 3; i++) {
        expect_failure(&k[i], &c, ROTARR_AGE_OK, 1000);
        keypair_release(&k[i]);
    }
    rotarr_buf_release(&c);
    rotarr_buf_release(&lines);
    rotarr_age_recipients_free(all);
    free(plain);
}
END_TEST

/* Regular files, whose payload the worker threads read with pread(). */

static int file_fd_calls;

static int counted_file_fd(void *ctx)
{
    file_fd_calls++;
    return rotarr_age_fd_file(ctx);
}

/* Returns a descriptor of an unlinked file that contains the bytes. */
static int temp_file(const void *bytes, size_t len)
{
    char path[] = "/tmp/rotarr-age-stream.XXXXXX";
    int fd = mkstemp(path);

    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(unlink(path), 0);
    ck_assert_int_eq(write(fd, bytes, len), (ssize_t)len);
    ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
    return fd;
}

/* Decrypts the file fd; returns where it stopped and keeps the output
 * in sink. */
static enum rotarr_age_failure decrypt_file(const struct keypair *k, int fd,
                                            struct test_sink *sink)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_age_fd file = { fd, "input" };
    struct rotarr_age_source src = { rotarr_age_fd_read, &file,
                                     counted_file_fd };
    enum rotarr_age_failure failure = ROTARR_AGE_FAIL_IO;

    test_sink_init(sink);
    ck_assert_int_eq(rotarr_age_decrypt(k->ids, &src, &sink->sink, 0,
                                        &failure, &err) == 0,
                     failure == ROTARR_AGE_OK);
    return failure;
}

static const size_t file_sizes[] = {
    4 * CHUNK, 8 * CHUNK, 8 * CHUNK + 1, 17 * CHUNK - 1, 40 * CHUNK + 5,
};
#define FILE_SIZE_COUNT (sizeof(file_sizes) / sizeof(file_sizes[0]))

/* Iteration _i picks a size and a worker count. */
START_TEST(test_stream__regular_file_round_trips)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    size_t len = file_sizes[_i % FILE_SIZE_COUNT];
    unsigned char *plain = random_bytes(len);
    int fd = temp_file(plain, len);
    struct rotarr_age_fd file = { fd, "plain" };
    struct rotarr_age_source src = { rotarr_age_fd_read, &file,
                                     counted_file_fd };
    struct test_sink cipher, back;
    struct keypair k;

    rotarr_age_set_workers(workers[_i / FILE_SIZE_COUNT]);
    keypair_init(&k);
    test_sink_init(&cipher);
    ck_assert_int_eq(rotarr_age_encrypt(k.recipients, &src, &cipher.sink, 0,
                                        &err), 0);
    ck_assert_int_eq(file_fd_calls, 1);
    close(fd);
    fd = temp_file(cipher.bytes.data, cipher.bytes.len);
    ck_assert_int_eq(decrypt_file(&k, fd, &back), ROTARR_AGE_OK);
    ck_assert_int_eq(file_fd_calls, 2);
    ck_assert_uint_eq(back.bytes.len, len);
    ck_assert_int_eq(memcmp(back.bytes.data, plain, len), 0);
    close(fd);
    test_sink_release(&cipher);
    test_sink_release(&back);
    free(plain);
    keypair_release(&k);
}
END_TEST

/* Damage in a regular file stops release as it does in a stream. */
START_TEST(test_stream__regular_file_damage_stops_release)
{
    struct keypair k;
    struct rotarr_buf c = ROTARR_BUF_INIT;
    struct test_sink sink;
    unsigned char *plain;
    size_t header;
    int fd;

    rotarr_age_set_workers(2);
    keypair_init(&k);
    encrypt_chunks(&k, 12 * CHUNK, &c, &plain);
    header = c.len - 12 * (CHUNK + 16);
    c.data[header + 9 * (CHUNK + 16) + 7] ^= 1;
    fd = temp_file(c.data, c.len);
    ck_assert_int_eq(decrypt_file(&k, fd, &sink), ROTARR_AGE_FAIL_PAYLOAD);
    ck_assert_uint_eq(sink.bytes.len, 9 * CHUNK);
    ck_assert_int_eq(memcmp(sink.bytes.data, plain, 9 * CHUNK), 0);
    test_sink_release(&sink);
    close(fd);
    /* Undamaged but cut at a chunk border: no final chunk. */
    c.data[header + 9 * (CHUNK + 16) + 7] ^= 1;
    fd = temp_file(c.data, c.len - (CHUNK + 16));
    ck_assert_int_eq(decrypt_file(&k, fd, &sink), ROTARR_AGE_FAIL_PAYLOAD);
    ck_assert_uint_eq(sink.bytes.len, 11 * CHUNK);
    test_sink_release(&sink);
    close(fd);
    rotarr_buf_release(&c);
    free(plain);
    keypair_release(&k);
}
END_TEST

static int prompt_calls;
static char correct_pass[] = "correct horse";
static char wrong_pass[] = "wrong horse";

static struct rotarr_secret *prompt_pass(void *ctx, struct rotarr_error *err)
{
    prompt_calls++;
    return rotarr_secret_new(ctx, strlen(ctx), err);
}

static void passphrase_file(const char *pass, int work_factor,
                            struct rotarr_buf *out)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_age_recipients *r = rotarr_age_recipients_new(&err);
    struct rotarr_secret *secret = rotarr_secret_new(pass, strlen(pass), &err);

    ck_assert_int_eq(rotarr_age_recipients_add_passphrase(r, secret,
                                                          work_factor, &err),
                     0);
    test_encrypt(r, "secret text", 11, 0, out);
    rotarr_secret_free(secret);
    rotarr_age_recipients_free(r);
}

START_TEST(test_scrypt__prompt_opens_passphrase_file)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_age_identities *ids = rotarr_age_identities_new(&err);
    struct rotarr_buf c = ROTARR_BUF_INIT;
    struct test_sink sink;

    passphrase_file("correct horse", 10, &c);
    ck_assert_ptr_nonnull(strstr(c.data, "\n-> scrypt "));
    ck_assert_ptr_nonnull(strstr(c.data, " 10\n"));
    rotarr_age_identities_set_prompt(ids, prompt_pass, correct_pass);
    test_sink_init(&sink);
    ck_assert_int_eq(test_decrypt(ids, c.data, c.len, 0, &sink),
                     ROTARR_AGE_OK);
    ck_assert_uint_eq(prompt_calls, 1);
    ck_assert_uint_eq(sink.bytes.len, 11);
    test_sink_release(&sink);
    rotarr_buf_release(&c);
    rotarr_age_identities_free(ids);
}
END_TEST

START_TEST(test_scrypt__wrong_passphrase_does_not_match)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_age_identities *ids = rotarr_age_identities_new(&err);
    struct rotarr_buf c = ROTARR_BUF_INIT;
    struct test_sink sink;

    passphrase_file("correct horse", 10, &c);
    rotarr_age_identities_set_prompt(ids, prompt_pass, wrong_pass);
    test_sink_init(&sink);
    ck_assert_int_eq(test_decrypt(ids, c.data, c.len, 0, &sink),
                     ROTARR_AGE_FAIL_NO_MATCH);
    ck_assert_uint_eq(sink.bytes.len, 0);
    test_sink_release(&sink);
    rotarr_buf_release(&c);
    rotarr_age_identities_free(ids);
}
END_TEST

START_TEST(test_scrypt__passphrase_file_is_detected)
{
    struct keypair k;
    struct rotarr_buf c = ROTARR_BUF_INIT, armored = ROTARR_BUF_INIT;
    unsigned char *plain;

    passphrase_file("correct horse", 10, &c);
    ck_assert_int_eq(rotarr_age_uses_passphrase(c.data, c.len), 1);
    keypair_init(&k);
    encrypt_chunks(&k, 10, &armored, &plain);
    ck_assert_int_eq(rotarr_age_uses_passphrase(armored.data, armored.len),
                     0);
    ck_assert_int_eq(rotarr_age_uses_passphrase("A=1\n", 4), -1);
    rotarr_buf_release(&c);
    rotarr_buf_release(&armored);
    free(plain);
    keypair_release(&k);
}
END_TEST

/* A key file is not passphrase-encrypted: the prompt is never called. */
START_TEST(test_scrypt__prompt_unused_for_key_files)
{
    struct keypair k;
    struct rotarr_buf c = ROTARR_BUF_INIT;
    unsigned char *plain;

    keypair_init(&k);
    rotarr_age_identities_set_prompt(k.ids, prompt_pass, wrong_pass);
    encrypt_chunks(&k, 10, &c, &plain);
    expect_failure(&k, &c, ROTARR_AGE_OK, 10);
    ck_assert_uint_eq(prompt_calls, 0);
    rotarr_buf_release(&c);
    free(plain);
    keypair_release(&k);
}
END_TEST

/* A work factor above 22 is refused before any scrypt runs. */
START_TEST(test_scrypt__rejects_work_factor_23)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_age_identities *ids = rotarr_age_identities_new(&err);
    struct rotarr_buf c = ROTARR_BUF_INIT;
    struct test_sink sink;
    char *factor;

    passphrase_file("correct horse", 10, &c);
    factor = strstr(c.data, " 10\n");
    memcpy(factor, " 23\n", 4);
    rotarr_age_identities_set_prompt(ids, prompt_pass, correct_pass);
    test_sink_init(&sink);
    ck_assert_int_eq(test_decrypt(ids, c.data, c.len, 0, &sink),
                     ROTARR_AGE_FAIL_HEADER);
    ck_assert_uint_eq(prompt_calls, 0);
    /* A factor under the limit but not the one used gives another key. */
    memcpy(factor, " 11\n", 4);
    ck_assert_int_eq(test_decrypt(ids, c.data, c.len, 0, &sink),
                     ROTARR_AGE_FAIL_NO_MATCH);
    ck_assert_uint_eq(prompt_calls, 1);
    test_sink_release(&sink);
    rotarr_buf_release(&c);
    rotarr_age_identities_free(ids);
}
END_TEST

/* Decrypts text and returns the error message. */
static const char *decrypt_message(const struct keypair *k,
                                   const struct rotarr_buf *text)
{
    static struct rotarr_error err;
    struct test_source src;
    struct test_sink sink;

    rotarr_error_clear(&err);
    test_source_init(&src, text->data, text->len, 0);
    test_sink_init(&sink);
    ck_assert_int_lt(rotarr_age_decrypt(k->ids, &src.source, &sink.sink, 0,
                                        NULL, &err), 0);
    ck_assert_uint_eq(sink.bytes.len, 0);
    test_sink_release(&sink);
    return err.msg;
}

/* A header line over the limit is refused; one at the limit is read. */
START_TEST(test_header__rejects_oversized_line)
{
    struct keypair k;
    struct rotarr_buf c = ROTARR_BUF_INIT;
    struct rotarr_error err = ROTARR_ERROR_INIT;
    char *arg = malloc(ROTARR_AGE_LINE_MAX + 1);

    keypair_init(&k);
    /* "-> " and the argument make a line of ROTARR_AGE_LINE_MAX + 1. */
    memset(arg, 'a', ROTARR_AGE_LINE_MAX - 2);
    arg[ROTARR_AGE_LINE_MAX - 2] = '\0';
    ck_assert_int_eq(rotarr_buf_printf(&c, &err, "age-encryption.org/v1\n"
                                       "-> %s\n\n--- x\n", arg), 0);
    ck_assert_ptr_nonnull(strstr(decrypt_message(&k, &c), "line 2 is longer "
                                 "than 16384 bytes"));
    rotarr_buf_reset(&c);
    arg[ROTARR_AGE_LINE_MAX - 3] = '\0';
    ck_assert_int_eq(rotarr_buf_printf(&c, &err, "age-encryption.org/v1\n"
                                       "-> %s\n\n--- x\n", arg), 0);
    ck_assert_ptr_nonnull(strstr(decrypt_message(&k, &c), "line 4: invalid "
                                 "MAC line"));
    rotarr_buf_release(&c);
    free(arg);
    keypair_release(&k);
}
END_TEST

Suite *age_stream_suite(void)
{
    Suite *s = suite_create("age_stream");
    TCase *stream = tcase_create("stream");
    TCase *scrypt = tcase_create("scrypt");
    TCase *header = tcase_create("header");

    tcase_set_timeout(stream, 120);
    tcase_add_loop_test(stream, test_stream__round_trips_sizes_and_workers, 0,
                        (int)(SIZE_COUNT * 3));
    tcase_add_loop_test(stream, test_stream__regular_file_round_trips, 0,
                        (int)(FILE_SIZE_COUNT * 3));
    tcase_add_test(stream, test_stream__regular_file_damage_stops_release);
    tcase_add_test(stream, test_stream__sizes_follow_the_format);
    tcase_add_test(stream, test_stream__armor_lines_are_64_columns);
    tcase_add_loop_test(stream, test_stream__tampered_chunk_stops_release, 0,
                        3);
    tcase_add_test(stream, test_stream__untampered_file_decrypts);
    tcase_add_test(stream, test_stream__truncated_file_fails);
    tcase_add_test(stream, test_stream__trailing_data_fails_after_release);
    tcase_add_test(stream, test_stream__tampered_header_fails_mac);
    tcase_add_test(stream, test_stream__other_key_does_not_match);
    tcase_add_test(stream, test_stream__each_of_three_recipients_decrypts);
    suite_add_tcase(s, stream);

    tcase_add_test(scrypt, test_scrypt__prompt_opens_passphrase_file);
    tcase_add_test(scrypt, test_scrypt__wrong_passphrase_does_not_match);
    tcase_add_test(scrypt, test_scrypt__prompt_unused_for_key_files);
    tcase_add_test(scrypt, test_scrypt__passphrase_file_is_detected);
    tcase_add_test(scrypt, test_scrypt__rejects_work_factor_23);
    suite_add_tcase(s, scrypt);

    tcase_add_test(header, test_header__rejects_oversized_line);
    suite_add_tcase(s, header);
    return s;
}
