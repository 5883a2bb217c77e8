/*
 * Shared by the unit tests of the age format (rotarr/age.h): the suites
 * of each file and the helpers that feed bytes in and collect them.
 */
#ifndef ROTARR_TEST_AGE_H
#define ROTARR_TEST_AGE_H

#include <stddef.h>

#include <check.h>
#include <sodium.h>

#include "rotarr/age.h"
#include "rotarr/buf.h"

Suite *age_format_suite(void);
Suite *age_keys_suite(void);
Suite *age_stream_suite(void);
Suite *age_vector_suite(void);

/* A source that reads from memory, at most step bytes per call (0 means
 * no limit), to exercise short reads. */
struct test_source {
    const unsigned char *next;
    size_t left;
    size_t step;
    struct rotarr_age_source source;
};

void test_source_init(struct test_source *src, const void *bytes, size_t len,
                      size_t step);

/* A sink that keeps every byte and their SHA-256. */
struct test_sink {
    struct rotarr_buf bytes;
    crypto_hash_sha256_state hash;
    struct rotarr_age_sink sink;
};

void test_sink_init(struct test_sink *sink);
/* Returns the lowercase hex SHA-256 of the bytes written so far. */
const char *test_sink_hex(struct test_sink *sink);
void test_sink_release(struct test_sink *sink);

/* Returns ROTARR_TEST_DATA/name in a static buffer. */
const char *test_data_path(const char *name);

/* Encrypts len bytes to recipients; returns the file in out. */
void test_encrypt(const struct rotarr_age_recipients *recipients,
                  const void *bytes, size_t len, unsigned flags,
                  struct rotarr_buf *out);

/* Decrypts len bytes with ids into sink; returns where it stopped. */
enum rotarr_age_failure test_decrypt(const struct rotarr_age_identities *ids,
                                     const void *bytes, size_t len,
                                     unsigned flags, struct test_sink *sink);

#endif
