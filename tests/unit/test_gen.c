/*
 * Unit tests of the password generator (rotarr/gen.h).
 *
 * Uniformity is checked with Pearson's chi-square test over 1,000,000
 * symbols per charset.  The p-value is the upper tail of the chi-square
 * distribution, Q(df / 2, x / 2), computed with the regularized incomplete
 * gamma function below (a power series below a + 1, a continued fraction
 * above).  A sample passes when p > 1e-6, so a correct generator fails by
 * chance once in a million runs of each test.  Each test has a twin that
 * feeds the generator a biased random source and must fail the same test.
 */
#include "rotarr/compat.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <sodium.h>

#include "rotarr/gen.h"
#include "rotarr/secret.h"

#define SAMPLE_SIZE 1000000UL
#define P_THRESHOLD 1e-6
#define GAMMA_EPS 1e-15
#define GAMMA_MAX_ITERATIONS 100000

/* Characters that no generated password may contain. */
static const char forbidden[] = "#$'\"` \t\\%@:/,;!&*?=+()[]{}<>|~";

/* P(a, x) by its power series, for x < a + 1. */
static double gamma_p_series(double a, double x)
{
    double sum = 1.0 / a;
    double term = sum;
    int n;

    for (n = 1; n < GAMMA_MAX_ITERATIONS; n++) {
        term *= x / (a + n);
        sum += term;
        if (fabs(term) < fabs(sum) * GAMMA_EPS) {
            break;
        }
    }
    return sum * exp(-x + a * log(x) - lgamma(a));
}

/* Q(a, x) by its continued fraction (modified Lentz), for x >= a + 1. */
static double gamma_q_fraction(double a, double x)
{
    double b = x + 1.0 - a;
    double c = 1.0 / DBL_MIN;
    double d = 1.0 / b;
    double h = d;
    double an;
    double delta;
    int i;

    for (i = 1; i < GAMMA_MAX_ITERATIONS; i++) {
        an = -i * (i - a);
        b += 2.0;
        d = an * d + b;
        d = fabs(d) < DBL_MIN ? DBL_MIN : d;
        c = b + an / c;
        c = fabs(c) < DBL_MIN ? DBL_MIN : c;
        d = 1.0 / d;
        delta = d * c;
        h *= delta;
        if (fabs(delta - 1.0) < GAMMA_EPS) {
            break;
        }
    }
    return exp(-x + a * log(x) - lgamma(a)) * h;
}

/* The regularized upper incomplete gamma function Q(a, x). */
static double gamma_q(double a, double x)
{
    if (x <= 0.0) {
        return 1.0;
    }
    if (x < a + 1.0) {
        return 1.0 - gamma_p_series(a, x);
    }
    return gamma_q_fraction(a, x);
}

/* Returns the p-value of the counts against a uniform distribution. */
static double chi_square_p(const unsigned long *counts, size_t cells)
{
    unsigned long total = 0;
    double expected;
    double statistic = 0.0;
    size_t i;

    for (i = 0; i < cells; i++) {
        total += counts[i];
    }
    expected = (double)total / (double)cells;
    for (i = 0; i < cells; i++) {
        double diff = (double)counts[i] - expected;

        statistic += diff * diff / expected;
    }
    return gamma_q((double)(cells - 1) / 2.0, statistic / 2.0);
}

/* Favours 0: returns it in an extra 2% of the draws. */
static uint32_t favour_zero(uint32_t bound)
{
    if (randombytes_uniform(50) == 0) {
        return 0;
    }
    return randombytes_uniform(bound);
}

/* Reduces one random byte modulo bound: the classic modulo bias, made
 * large enough to see with a byte instead of 32 bits. */
static uint32_t byte_modulo(uint32_t bound)
{
    return (randombytes_random() & 0xff) % bound;
}

/* Reduces 16 random bits modulo bound, biased for the word list. */
static uint32_t short_modulo(uint32_t bound)
{
    return (randombytes_random() & 0xffff) % bound;
}

/* Always the last symbol. */
static uint32_t always_last(uint32_t bound)
{
    return bound - 1;
}

static uint32_t out_of_range(uint32_t bound)
{
    return bound;
}

/*
 * Generates passwords of cs until SAMPLE_SIZE characters at positions
 * from skip onwards are counted, and returns the chi-square p-value of
 * their distribution over the alphabet.
 */
static double char_uniformity(enum rotarr_charset cs, size_t skip,
                              rotarr_uniform_fn uniform)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    unsigned long *counts;
    unsigned long counted = 0;
    const char *alphabet;
    size_t size;
    double p;

    alphabet = rotarr_gen_alphabet(cs, &size);
    counts = calloc(size, sizeof(*counts));
    ck_assert_ptr_nonnull(counts);
    while (counted < SAMPLE_SIZE) {
        struct rotarr_secret *pw = rotarr_gen_password(cs, 1000, uniform,
                                                       &err);
        const char *s;
        size_t i;

        ck_assert_ptr_nonnull(pw);
        s = rotarr_secret_data(pw);
        for (i = skip; i < 1000 && counted < SAMPLE_SIZE; i++, counted++) {
            const char *at = memchr(alphabet, s[i], size);

            ck_assert_ptr_nonnull(at);
            counts[at - alphabet]++;
        }
        rotarr_secret_free(pw);
    }
    p = chi_square_p(counts, size);
    free(counts);
    return p;
}

static int compare_word(const void *key, const void *member)
{
    return strcmp(key, *(const char *const *)member);
}

/* Returns the index of word in the list, or -1. */
static long word_index(const char *word)
{
    static const char *sorted[ROTARR_WORDLIST_SIZE];
    const char **found;
    size_t i;

    if (sorted[0] == NULL) {
        for (i = 0; i < ROTARR_WORDLIST_SIZE; i++) {
            sorted[i] = rotarr_gen_word(i);
        }
    }
    found = bsearch(word, sorted, ROTARR_WORDLIST_SIZE, sizeof(sorted[0]),
                    compare_word);
    return found != NULL ? (long)(found - sorted) : -1;
}

/*
 * Splits a passphrase into word indices.  A piece that is not a word is
 * the first half of a word with '-' and is joined with the next piece.
 */
static size_t split_words(char *phrase, long *indices, size_t max)
{
    size_t count = 0;
    char *piece = phrase;
    char *dash;
    long index;

    while (piece != NULL && count < max) {
        dash = strchr(piece, '-');
        if (dash != NULL) {
            *dash = '\0';
        }
        index = word_index(piece);
        if (index < 0 && dash != NULL) {
            *dash = '-';
            dash = strchr(dash + 1, '-');
            if (dash != NULL) {
                *dash = '\0';
            }
            index = word_index(piece);
        }
        ck_assert_msg(index >= 0, "'%s' is not a word of the list", piece);
        indices[count++] = index;
        piece = dash != NULL ? dash + 1 : NULL;
    }
    return count;
}

/* Like char_uniformity, over the word indices of passphrases. */
static double word_uniformity(rotarr_uniform_fn uniform)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    static unsigned long counts[ROTARR_WORDLIST_SIZE];
    static long indices[500];
    unsigned long counted = 0;
    size_t n;
    size_t i;

    memset(counts, 0, sizeof(counts));
    while (counted < SAMPLE_SIZE) {
        struct rotarr_secret *pw = rotarr_gen_password(ROTARR_CHARSET_WORDS,
                                                       500, uniform, &err);

        ck_assert_ptr_nonnull(pw);
        n = split_words(rotarr_secret_data(pw), indices, 500);
        ck_assert_uint_eq(n, 500);
        for (i = 0; i < n; i++, counted++) {
            counts[indices[i]]++;
        }
        rotarr_secret_free(pw);
    }
    return chi_square_p(counts, ROTARR_WORDLIST_SIZE);
}

START_TEST(test_gen__chi_square_p_matches_known_values)
{
    /* df = 2: Q(1, x / 2) = exp(-x / 2). */
    ck_assert_double_eq_tol(gamma_q(1.0, 5.0), exp(-5.0), 1e-12);
    /* df = 1: the 5% critical value is 3.841458820694124. */
    ck_assert_double_eq_tol(gamma_q(0.5, 3.841458820694124 / 2.0), 0.05,
                            1e-9);
    /* df = 10: the 0.1% critical value is 29.58829844507442. */
    ck_assert_double_eq_tol(gamma_q(5.0, 29.58829844507442 / 2.0), 0.001,
                            1e-9);
}
END_TEST

START_TEST(test_gen__chi_square_p_small_for_far_statistic)
{
    double df = ROTARR_WORDLIST_SIZE - 1;

    ck_assert_double_gt(gamma_q(df / 2.0, df / 2.0), 0.4);
    ck_assert_double_lt(gamma_q(df / 2.0, (df + 6.0 * sqrt(2.0 * df)) / 2.0),
                        P_THRESHOLD);
}
END_TEST

START_TEST(test_gen__alnum_is_uniform)
{
    ck_assert_double_gt(char_uniformity(ROTARR_CHARSET_ALNUM, 0, NULL),
                        P_THRESHOLD);
}
END_TEST

START_TEST(test_gen__alnum_detects_favoured_symbol)
{
    ck_assert_double_lt(char_uniformity(ROTARR_CHARSET_ALNUM, 0,
                                        favour_zero), P_THRESHOLD);
}
END_TEST

START_TEST(test_gen__alnum_detects_modulo_bias)
{
    ck_assert_double_lt(char_uniformity(ROTARR_CHARSET_ALNUM, 0,
                                        byte_modulo), P_THRESHOLD);
}
END_TEST

START_TEST(test_gen__urlsafe_is_uniform_after_first)
{
    ck_assert_double_gt(char_uniformity(ROTARR_CHARSET_URLSAFE, 1, NULL),
                        P_THRESHOLD);
}
END_TEST

START_TEST(test_gen__urlsafe_detects_favoured_symbol)
{
    ck_assert_double_lt(char_uniformity(ROTARR_CHARSET_URLSAFE, 1,
                                        favour_zero), P_THRESHOLD);
}
END_TEST

START_TEST(test_gen__urlsafe_first_is_uniform_alnum)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    unsigned long counts[62] = { 0 };
    const char *alphabet;
    const char *at;
    size_t size;
    unsigned long i;

    alphabet = rotarr_gen_alphabet(ROTARR_CHARSET_URLSAFE, &size);
    for (i = 0; i < 62000; i++) {
        struct rotarr_secret *pw = rotarr_gen_password(ROTARR_CHARSET_URLSAFE,
                                                       1, NULL, &err);

        ck_assert_ptr_nonnull(pw);
        at = memchr(alphabet, rotarr_secret_data(pw)[0], 62);
        ck_assert_ptr_nonnull(at);
        counts[at - alphabet]++;
        rotarr_secret_free(pw);
    }
    ck_assert_double_gt(chi_square_p(counts, 62), P_THRESHOLD);
}
END_TEST

START_TEST(test_gen__urlsafe_never_starts_with_dash_or_underscore)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_secret *pw;

    pw = rotarr_gen_password(ROTARR_CHARSET_URLSAFE, 3, always_last, &err);
    ck_assert_ptr_nonnull(pw);
    ck_assert_str_eq(rotarr_secret_data(pw), "9__");
    rotarr_secret_free(pw);
}
END_TEST

START_TEST(test_gen__base64url_may_start_with_underscore)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_secret *pw;

    pw = rotarr_gen_password(ROTARR_CHARSET_BASE64URL, 3, always_last, &err);
    ck_assert_ptr_nonnull(pw);
    ck_assert_str_eq(rotarr_secret_data(pw), "___");
    rotarr_secret_free(pw);
}
END_TEST

START_TEST(test_gen__hex_is_uniform)
{
    ck_assert_double_gt(char_uniformity(ROTARR_CHARSET_HEX, 0, NULL),
                        P_THRESHOLD);
}
END_TEST

START_TEST(test_gen__hex_detects_favoured_symbol)
{
    ck_assert_double_lt(char_uniformity(ROTARR_CHARSET_HEX, 0, favour_zero),
                        P_THRESHOLD);
}
END_TEST

START_TEST(test_gen__base64url_is_uniform)
{
    ck_assert_double_gt(char_uniformity(ROTARR_CHARSET_BASE64URL, 0, NULL),
                        P_THRESHOLD);
}
END_TEST

START_TEST(test_gen__base64url_detects_favoured_symbol)
{
    ck_assert_double_lt(char_uniformity(ROTARR_CHARSET_BASE64URL, 0,
                                        favour_zero), P_THRESHOLD);
}
END_TEST

START_TEST(test_gen__words_are_uniform)
{
    ck_assert_double_gt(word_uniformity(NULL), P_THRESHOLD);
}
END_TEST

START_TEST(test_gen__words_detect_favoured_word)
{
    ck_assert_double_lt(word_uniformity(favour_zero), P_THRESHOLD);
}
END_TEST

START_TEST(test_gen__words_detect_modulo_bias)
{
    ck_assert_double_lt(word_uniformity(short_modulo), P_THRESHOLD);
}
END_TEST

START_TEST(test_gen__alphabets_hold_no_troublesome_character)
{
    const enum rotarr_charset sets[] = {
        ROTARR_CHARSET_ALNUM, ROTARR_CHARSET_URLSAFE, ROTARR_CHARSET_HEX,
        ROTARR_CHARSET_BASE64URL,
    };
    const char *alphabet;
    size_t size;
    size_t i;

    for (i = 0; i < sizeof(sets) / sizeof(sets[0]); i++) {
        alphabet = rotarr_gen_alphabet(sets[i], &size);
        ck_assert_uint_eq(strcspn(alphabet, forbidden) >= size, 1);
    }
    ck_assert_uint_lt(strcspn("ab#c", forbidden), 4);
}
END_TEST

START_TEST(test_gen__alphabet_sizes)
{
    size_t size;

    rotarr_gen_alphabet(ROTARR_CHARSET_ALNUM, &size);
    ck_assert_uint_eq(size, 62);
    rotarr_gen_alphabet(ROTARR_CHARSET_URLSAFE, &size);
    ck_assert_uint_eq(size, 64);
    rotarr_gen_alphabet(ROTARR_CHARSET_HEX, &size);
    ck_assert_uint_eq(size, 16);
    rotarr_gen_alphabet(ROTARR_CHARSET_BASE64URL, &size);
    ck_assert_uint_eq(size, 64);
    ck_assert_ptr_null(rotarr_gen_alphabet(ROTARR_CHARSET_WORDS, &size));
    ck_assert_uint_eq(size, ROTARR_WORDLIST_SIZE);
}
END_TEST

START_TEST(test_gen__wordlist_sorted_and_plain)
{
    size_t i;
    const char *word;

    for (i = 0; i < ROTARR_WORDLIST_SIZE; i++) {
        word = rotarr_gen_word(i);
        ck_assert_ptr_nonnull(word);
        ck_assert_uint_ge(strlen(word), 3);
        ck_assert_uint_le(strlen(word), ROTARR_WORD_MAX);
        ck_assert_uint_eq(strspn(word, "abcdefghijklmnopqrstuvwxyz-"),
                          strlen(word));
        if (i > 0) {
            ck_assert_int_lt(strcmp(rotarr_gen_word(i - 1), word), 0);
        }
    }
    ck_assert_str_eq(rotarr_gen_word(0), "abacus");
    ck_assert_str_eq(rotarr_gen_word(ROTARR_WORDLIST_SIZE - 1), "zoom");
    ck_assert_ptr_null(rotarr_gen_word(ROTARR_WORDLIST_SIZE));
}
END_TEST

START_TEST(test_gen__password_has_requested_length)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_secret *pw;
    const char *alphabet;
    size_t size;

    pw = rotarr_gen_password(ROTARR_CHARSET_ALNUM, 32, NULL, &err);
    ck_assert_ptr_nonnull(pw);
    alphabet = rotarr_gen_alphabet(ROTARR_CHARSET_ALNUM, &size);
    ck_assert_uint_eq(rotarr_secret_len(pw), 32);
    ck_assert_uint_eq(strlen(rotarr_secret_data(pw)), 32);
    ck_assert_uint_eq(strspn(rotarr_secret_data(pw), alphabet), 32);
    ck_assert_uint_eq(strspn(rotarr_secret_data(pw), "-_"), 0);
    rotarr_secret_free(pw);
}
END_TEST

START_TEST(test_gen__passphrase_has_requested_words)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_secret *pw;
    long indices[8];

    pw = rotarr_gen_password(ROTARR_CHARSET_WORDS, 6, NULL, &err);
    ck_assert_ptr_nonnull(pw);
    ck_assert_uint_eq(strlen(rotarr_secret_data(pw)), rotarr_secret_len(pw));
    ck_assert_uint_eq(split_words(rotarr_secret_data(pw), indices, 8), 6);
    rotarr_secret_free(pw);
}
END_TEST

START_TEST(test_gen__joins_words_with_dash)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_secret *pw;

    pw = rotarr_gen_password(ROTARR_CHARSET_WORDS, 3, always_last, &err);
    ck_assert_ptr_nonnull(pw);
    ck_assert_str_eq(rotarr_secret_data(pw), "zoom-zoom-zoom");
    rotarr_secret_free(pw);
}
END_TEST

START_TEST(test_gen__rejects_length_out_of_range)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    struct rotarr_secret *pw;

    ck_assert_ptr_null(rotarr_gen_password(ROTARR_CHARSET_ALNUM, 0, NULL,
                                           &err));
    ck_assert_int_eq(err.code, ROTARR_EUSAGE);
    rotarr_error_clear(&err);
    ck_assert_ptr_null(rotarr_gen_password(ROTARR_CHARSET_WORDS,
                                           ROTARR_GEN_MAX_LENGTH + 1, NULL,
                                           &err));
    ck_assert_int_eq(err.code, ROTARR_EUSAGE);
    pw = rotarr_gen_password(ROTARR_CHARSET_WORDS, ROTARR_GEN_MAX_LENGTH,
                             NULL, &err);
    ck_assert_ptr_nonnull(pw);
    rotarr_secret_free(pw);
}
END_TEST

START_TEST(test_gen__rejects_out_of_range_source)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;

    ck_assert_ptr_null(rotarr_gen_password(ROTARR_CHARSET_HEX, 8,
                                           out_of_range, &err));
    ck_assert_int_eq(err.code, ROTARR_EUSAGE);
    ck_assert_ptr_null(rotarr_gen_password(ROTARR_CHARSET_WORDS, 2,
                                           out_of_range, &err));
}
END_TEST

START_TEST(test_gen__rejects_unknown_charset)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;

    ck_assert_ptr_null(rotarr_gen_password((enum rotarr_charset)99, 8, NULL,
                                           &err));
    ck_assert_int_eq(err.code, ROTARR_EUSAGE);
}
END_TEST

START_TEST(test_gen__bits_of_each_charset)
{
    ck_assert_double_eq_tol(rotarr_gen_bits(ROTARR_CHARSET_ALNUM, 32),
                            32 * log2(62), 1e-9);
    ck_assert_double_eq_tol(rotarr_gen_bits(ROTARR_CHARSET_URLSAFE, 22),
                            log2(62) + 21 * 6, 1e-9);
    ck_assert_double_eq_tol(rotarr_gen_bits(ROTARR_CHARSET_HEX, 32), 128,
                            1e-9);
    ck_assert_double_eq_tol(rotarr_gen_bits(ROTARR_CHARSET_BASE64URL, 10), 60,
                            1e-9);
    ck_assert_double_eq_tol(rotarr_gen_bits(ROTARR_CHARSET_WORDS, 6),
                            6 * log2(7776), 1e-9);
    ck_assert_double_eq_tol(rotarr_gen_bits(ROTARR_CHARSET_ALNUM, 0), 0,
                            1e-9);
}
END_TEST

START_TEST(test_gen__length_reaches_bits)
{
    ck_assert_uint_eq(rotarr_gen_length_for_bits(ROTARR_CHARSET_HEX, 128),
                      32);
    ck_assert_uint_eq(rotarr_gen_length_for_bits(ROTARR_CHARSET_HEX, 129),
                      33);
    ck_assert_uint_eq(rotarr_gen_length_for_bits(ROTARR_CHARSET_ALNUM, 128),
                      22);
    ck_assert_uint_eq(rotarr_gen_length_for_bits(ROTARR_CHARSET_URLSAFE,
                                                 128), 22);
    ck_assert_uint_eq(rotarr_gen_length_for_bits(ROTARR_CHARSET_URLSAFE,
                                                 126), 22);
    ck_assert_uint_eq(rotarr_gen_length_for_bits(ROTARR_CHARSET_BASE64URL,
                                                 126), 21);
    ck_assert_uint_eq(rotarr_gen_length_for_bits(ROTARR_CHARSET_WORDS, 128),
                      10);
    ck_assert_uint_eq(rotarr_gen_length_for_bits(ROTARR_CHARSET_WORDS, 1),
                      1);
    ck_assert_uint_eq(rotarr_gen_length_for_bits(ROTARR_CHARSET_ALNUM, 0),
                      1);
}
END_TEST

START_TEST(test_gen__length_is_the_shortest)
{
    const enum rotarr_charset sets[] = {
        ROTARR_CHARSET_ALNUM, ROTARR_CHARSET_URLSAFE, ROTARR_CHARSET_HEX,
        ROTARR_CHARSET_BASE64URL, ROTARR_CHARSET_WORDS,
    };
    size_t i;
    size_t length;
    double bits;

    for (i = 0; i < sizeof(sets) / sizeof(sets[0]); i++) {
        for (bits = 1; bits <= 512; bits += 1) {
            length = rotarr_gen_length_for_bits(sets[i], bits);
            ck_assert_double_ge(rotarr_gen_bits(sets[i], length), bits);
            ck_assert_double_lt(rotarr_gen_bits(sets[i], length - 1), bits);
        }
    }
}
END_TEST

START_TEST(test_gen__length_past_bound_for_huge_bits)
{
    ck_assert_uint_gt(rotarr_gen_length_for_bits(ROTARR_CHARSET_HEX,
                                                 4.0 * ROTARR_GEN_MAX_LENGTH
                                                     + 1),
                      ROTARR_GEN_MAX_LENGTH);
    ck_assert_uint_eq(rotarr_gen_length_for_bits(ROTARR_CHARSET_HEX,
                                                 4.0 * ROTARR_GEN_MAX_LENGTH),
                      ROTARR_GEN_MAX_LENGTH);
}
END_TEST

START_TEST(test_gen__parses_charset_names)
{
    enum rotarr_charset cs = ROTARR_CHARSET_ALNUM;

    ck_assert_int_eq(rotarr_gen_charset_parse("base64url", &cs), 0);
    ck_assert_int_eq(cs, ROTARR_CHARSET_BASE64URL);
    ck_assert_str_eq(rotarr_gen_charset_name(cs), "base64url");
    ck_assert_int_eq(rotarr_gen_charset_parse("words", &cs), 0);
    ck_assert_int_eq(cs, ROTARR_CHARSET_WORDS);
    ck_assert_int_eq(rotarr_gen_charset_parse("Alnum", &cs), -1);
    ck_assert_int_eq(rotarr_gen_charset_parse("", &cs), -1);
}
END_TEST

static Suite *gen_suite(void)
{
    Suite *s = suite_create("gen");
    TCase *stats = tcase_create("uniformity");
    TCase *shape = tcase_create("shape");

    tcase_add_test(stats, test_gen__chi_square_p_matches_known_values);
    tcase_add_test(stats, test_gen__chi_square_p_small_for_far_statistic);
    tcase_add_test(stats, test_gen__alnum_is_uniform);
    tcase_add_test(stats, test_gen__alnum_detects_favoured_symbol);
    tcase_add_test(stats, test_gen__alnum_detects_modulo_bias);
    tcase_add_test(stats, test_gen__urlsafe_is_uniform_after_first);
    tcase_add_test(stats, test_gen__urlsafe_detects_favoured_symbol);
    tcase_add_test(stats, test_gen__urlsafe_first_is_uniform_alnum);
    tcase_add_test(stats, test_gen__hex_is_uniform);
    tcase_add_test(stats, test_gen__hex_detects_favoured_symbol);
    tcase_add_test(stats, test_gen__base64url_is_uniform);
    tcase_add_test(stats, test_gen__base64url_detects_favoured_symbol);
    tcase_add_test(stats, test_gen__words_are_uniform);
    tcase_add_test(stats, test_gen__words_detect_favoured_word);
    tcase_add_test(stats, test_gen__words_detect_modulo_bias);
    suite_add_tcase(s, stats);

    tcase_add_test(shape,
                   test_gen__urlsafe_never_starts_with_dash_or_underscore);
    tcase_add_test(shape, test_gen__base64url_may_start_with_underscore);
    tcase_add_test(shape, test_gen__alphabets_hold_no_troublesome_character);
    tcase_add_test(shape, test_gen__alphabet_sizes);
    tcase_add_test(shape, test_gen__wordlist_sorted_and_plain);
    tcase_add_test(shape, test_gen__password_has_requested_length);
    tcase_add_test(shape, test_gen__passphrase_has_requested_words);
    tcase_add_test(shape, test_gen__joins_words_with_dash);
    tcase_add_test(shape, test_gen__rejects_length_out_of_range);
    tcase_add_test(shape, test_gen__rejects_out_of_range_source);
    tcase_add_test(shape, test_gen__rejects_unknown_charset);
    tcase_add_test(shape, test_gen__bits_of_each_charset);
    tcase_add_test(shape, test_gen__length_reaches_bits);
    tcase_add_test(shape, test_gen__length_is_the_shortest);
    tcase_add_test(shape, test_gen__length_past_bound_for_huge_bits);
    tcase_add_test(shape, test_gen__parses_charset_names);
    suite_add_tcase(s, shape);
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
    runner = srunner_create(gen_suite());
    srunner_run_all(runner, CK_NORMAL);
    failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
