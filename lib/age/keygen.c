#include "rotarr/compat.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "age_private.h"

/* "AGE-SECRET-KEY-1" and 58 characters, and a NUL. */
#define IDENTITY_SIZE 75

/* Formats now as RFC 3339 in local time, as age-keygen writes it. */
static int format_time(time_t now, char *out, size_t size)
{
    struct tm tm;
    char offset[8];
    long minutes;
    int n;

    if (localtime_r(&now, &tm) == NULL ||
        strftime(out, size, "%Y-%m-%dT%H:%M:%S", &tm) == 0) {
        return -1;
    }
    minutes = tm.tm_gmtoff / 60;
    if (minutes == 0) {
        n = snprintf(offset, sizeof(offset), "Z");
    } else {
        n = snprintf(offset, sizeof(offset), "%c%02ld:%02ld",
                     minutes < 0 ? '-' : '+', labs(minutes) / 60,
                     labs(minutes) % 60);
    }
    if (n < 0 || (size_t)n >= sizeof(offset) ||
        strlen(out) + (size_t)n >= size) {
        return -1;
    }
    memcpy(out + strlen(out), offset, (size_t)n + 1);
    return 0;
}

struct rotarr_secret *rotarr_age_keygen(
    time_t now, char recipient[ROTARR_AGE_RECIPIENT_SIZE],
    struct rotarr_error *err)
{
    struct rotarr_secret *scalar = NULL, *text = NULL;
    unsigned char public_key[AGE_KEY_SIZE];
    char created[40];
    char *identity;
    size_t len;
    int n;

    scalar = rotarr_secret_alloc(AGE_KEY_SIZE + IDENTITY_SIZE, err);
    if (scalar == NULL) {
        return NULL;
    }
    randombytes_buf(rotarr_secret_data(scalar), AGE_KEY_SIZE);
    identity = rotarr_secret_data(scalar) + AGE_KEY_SIZE;
    crypto_scalarmult_base(public_key,
                           (unsigned char *)rotarr_secret_data(scalar));
    if (rotarr_bech32_encode("age-secret-key-", (unsigned char *)
                             rotarr_secret_data(scalar), AGE_KEY_SIZE, 1,
                             identity) < 0 ||
        rotarr_bech32_encode("age", public_key, AGE_KEY_SIZE, 0,
                             recipient) < 0 ||
        format_time(now, created, sizeof(created)) < 0) {
        rotarr_error_set(err, ROTARR_EFILE, "cannot format the new key");
        goto out;
    }
    len = strlen("# created: \n# public key: \n\n") + strlen(created) +
          strlen(recipient) + strlen(identity);
    text = rotarr_secret_alloc(len, err);
    if (text == NULL) {
        goto out;
    }
    n = snprintf(rotarr_secret_data(text), len + 1,
                 "# created: %s\n# public key: %s\n%s\n", created, recipient,
                 identity);
    if (n < 0 || (size_t)n != len) {
        rotarr_secret_free(text);
        text = NULL;
        rotarr_error_set(err, ROTARR_EFILE, "cannot format the new key");
    }

out:
    rotarr_secret_free(scalar);
    return text;
}
