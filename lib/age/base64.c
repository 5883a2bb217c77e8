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

/* Returns 1 when every byte is in the alphabet or '='.  libsodium 1.0.18
 * decodes bytes from 0x80 up as if they were '/', so it cannot be left to
 * reject them. */
static int in_alphabet(const char *text, size_t len)
{
    size_t i;
    char c;

    for (i = 0; i < len; i++) {
        c = text[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
              (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '=')) {
            return 0;
        }
    }
    return 1;
}

int rotarr_age_b64_decode(const char *text, size_t len, int padded,
                          unsigned char *out, size_t max, size_t *n)
{
    if (!in_alphabet(text, len)) {
        return -1;
    }
    /* With b64_end NULL, libsodium rejects trailing bytes it cannot
     * decode instead of stopping there; it rejects non-zero unused bits
     * and a lone last character itself. */
    return sodium_base642bin(out, max, text, len, NULL, n, NULL,
                             variant(padded));
}
