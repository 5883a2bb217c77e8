#include "rotarr/compat.h"

#include <sodium.h>

#include "rotarr/age_format.h"

static int variant(int padded)
{
    return padded ? sodium_base64_VARIANT_ORIGINAL
                  : sodium_base64_VARIANT_ORIGINAL_NO_PADDING;
}

size_t rotarr_age_b64_len(size_t n, int padded)
{
    /* sodium_base64_ENCODED_LEN counts the NUL. */
    return sodium_base64_ENCODED_LEN(n, variant(padded)) - 1;
}

void rotarr_age_b64_encode(const unsigned char *bytes, size_t n, int padded,
                           char *out)
{
    sodium_bin2base64(out, rotarr_age_b64_len(n, padded) + 1, bytes, n,
                      variant(padded));
}

int rotarr_age_b64_decode(const char *text, size_t len, int padded,
                          unsigned char *out, size_t max, size_t *n)
{
    /* With b64_end NULL, libsodium rejects trailing bytes it cannot
     * decode instead of stopping there; it rejects non-zero unused bits
     * and a lone last character itself. */
    return sodium_base642bin(out, max, text, len, NULL, n, NULL,
                             variant(padded));
}
