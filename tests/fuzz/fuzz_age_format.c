/*
 * Bech32 and base64 as age uses them.  Text that decodes is canonical, so
 * encoding the result gives the same text back.  The first input byte
 * chooses the codec.
 */
#include "rotarr/compat.h"

#include "fuzz.h"
#include "rotarr/age_format.h"

/* Longest text tried: longer inputs only repeat the same paths. */
#define FUZZ_TEXT_MAX 4096

static void bech32_round_trip(const char *text, size_t len)
{
    unsigned char data[FUZZ_TEXT_MAX];
    char hrp[FUZZ_TEXT_MAX + 1];
    char *again;
    size_t n;
    int upper;

    if (rotarr_bech32_decode(text, len, hrp, sizeof(hrp), data,
                             sizeof(data), &n, &upper) < 0) {
        return;
    }
    again = malloc(rotarr_bech32_len(strlen(hrp), n) + 1);
    if (again == NULL) {
        abort();
    }
    if (rotarr_bech32_encode(hrp, data, n, upper, again) == 0 &&
        (strlen(again) != len || memcmp(again, text, len) != 0)) {
        abort();
    }
    free(again);
}

static void b64_round_trip(const char *text, size_t len, int padded)
{
    unsigned char data[FUZZ_TEXT_MAX];
    char *again;
    size_t n;

    if (rotarr_age_b64_decode(text, len, padded, data, sizeof(data),
                              &n) < 0) {
        return;
    }
    if (rotarr_age_b64_len(n, padded) != len) {
        abort();
    }
    again = malloc(len + 1);
    if (again == NULL) {
        abort();
    }
    rotarr_age_b64_encode(data, n, padded, again);
    if (memcmp(again, text, len) != 0 || again[len] != '\0') {
        abort();
    }
    free(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data + 1;

    if (size == 0 || size - 1 > FUZZ_TEXT_MAX) {
        return 0;
    }
    switch (data[0] % 3) {
    case 0:
        bech32_round_trip(text, size - 1);
        break;
    default:
        b64_round_trip(text, size - 1, data[0] % 3 == 2);
        break;
    }
    return 0;
}
