/*
 * An age file read to the end: armor, header, stanzas, MAC and payload.
 * The identity is the X25519 key of the age test kit, so that inputs
 * built from the kit's files get past the header.  Any input either
 * decrypts or fails with ROTARR_EDECRYPT.
 */
#include "rotarr/compat.h"

#include "fuzz.h"
#include "rotarr/age.h"

static const char identity_text[] =
    "AGE-SECRET-KEY-1EGTZVFFV20835NWYV6270LXYVK2VKNX2MMDKWYKLMGR48UAWX40Q2P2LM0\n";

static struct rotarr_age_identities *ids;

static void setup(void)
{
    struct rotarr_error err;

    if (ids != NULL) {
        return;
    }
    rotarr_age_set_workers(1);
    ids = rotarr_age_identities_new(&err);
    if (ids == NULL ||
        rotarr_age_identities_add_text(ids, identity_text,
                                       sizeof(identity_text) - 1, "kit",
                                       &err) < 0) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    enum rotarr_age_failure failure;
    struct rotarr_secret *plain;
    struct rotarr_error err;

    setup();
    plain = rotarr_age_decrypt_buf(ids, data, size, &failure, &err);
    if (plain == NULL) {
        if (err.code != ROTARR_EDECRYPT || failure == ROTARR_AGE_OK) {
            abort();
        }
        return 0;
    }
    if (failure != ROTARR_AGE_OK) {
        abort();
    }
    rotarr_secret_free(plain);
    return 0;
}
