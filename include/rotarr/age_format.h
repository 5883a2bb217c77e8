/*
 * Encodings and key derivation under the age v1 format: strict base64,
 * Bech32 and HKDF-SHA-256.  rotarr/age.h builds the file format on these;
 * they are public so that tests can check them against known answers.
 */
#ifndef ROTARR_AGE_FORMAT_H
#define ROTARR_AGE_FORMAT_H

#include <stddef.h>

#include "rotarr/compat.h"

/* Length of the base64 text of n bytes: unpadded, or padded to 4. */
size_t rotarr_age_b64_len(size_t n, int padded);

/*
 * Writes the standard base64 text of the n bytes at bytes to out, which
 * must have room for rotarr_age_b64_len(n, padded) + 1 bytes, and ends it
 * with a NUL.  Unpadded is the form of the binary header; padded is the
 * form of the ASCII armor and of OpenSSH keys.
 */
void rotarr_age_b64_encode(const unsigned char *bytes, size_t n, int padded,
                           char *out);

/*
 * Decodes the len characters at text into out (room for max bytes) and
 * stores the byte count in *n.  Only the canonical form is accepted:
 * standard alphabet, '=' padding exactly when padded is set, zero unused
 * bits in the last character, nothing else.  Returns 0, or -1 for any
 * other text or when the result would exceed max.
 */
int rotarr_age_b64_decode(const char *text, size_t len, int padded,
                          unsigned char *out, size_t max, size_t *n)
    ROTARR_MUST_CHECK;

/*
 * Bech32 (BIP 173, checksum constant 1) with no length limit, as age
 * uses it for keys.
 */

/* Length of the Bech32 text of n bytes with a human-readable part of
 * hrp_len characters. */
size_t rotarr_bech32_len(size_t hrp_len, size_t n);

/*
 * Writes hrp, '1', the n bytes at data in 5-bit groups and the checksum
 * to out (room for rotarr_bech32_len + 1 bytes), in upper case when upper
 * is set, and ends it with a NUL.  hrp is given in lower case.  Returns
 * 0, or -1 when hrp is empty or holds a character outside 33..126 or an
 * upper-case letter.
 */
int rotarr_bech32_encode(const char *hrp, const unsigned char *data,
                         size_t n, int upper, char *out)
    ROTARR_MUST_CHECK;

/*
 * Decodes the len characters at text.  The human-readable part is
 * everything before the last '1'; it is stored lower-cased and
 * NUL-terminated in hrp (room for hrp_max bytes).  The data go to data
 * (room for data_max bytes) and their count to *n; *upper is set when
 * the text was upper case.  Returns 0, or -1 for mixed case, a character
 * outside the alphabet, a wrong checksum, padding bits that are not zero,
 * or a result that does not fit.
 */
int rotarr_bech32_decode(const char *text, size_t len, char *hrp,
                         size_t hrp_max, unsigned char *data,
                         size_t data_max, size_t *n, int *upper)
    ROTARR_MUST_CHECK;

/*
 * HKDF-SHA-256 (RFC 5869) with 32 bytes of output, which is all that age
 * derives: extract with salt (salt_len 0 means no salt), then expand with
 * the info_len bytes at info.  Built on libsodium's HMAC-SHA-256 because
 * libsodium 1.0.18 has no HKDF.
 */
void rotarr_hkdf_sha256(const unsigned char *ikm, size_t ikm_len,
                        const unsigned char *salt, size_t salt_len,
                        const void *info, size_t info_len,
                        unsigned char out[32]);

#endif
