#include "rotarr/compat.h"

#include <check.h>

#include "test_keypair.h"

void keypair_init(struct keypair *k)
{
    struct rotarr_error err = ROTARR_ERROR_INIT;
    char recipient[ROTARR_AGE_RECIPIENT_SIZE];
    struct rotarr_secret *text = rotarr_age_keygen(0, recipient, &err);

    ck_assert_ptr_nonnull(text);
    k->ids = rotarr_age_identities_new(&err);
    k->recipients = rotarr_age_recipients_new(&err);
    ck_assert_ptr_nonnull(k->ids);
    ck_assert_ptr_nonnull(k->recipients);
    ck_assert_int_eq(rotarr_age_identities_add_text(
                         k->ids, rotarr_secret_data(text),
                         rotarr_secret_len(text), "key", &err), 0);
    ck_assert_int_eq(rotarr_age_recipients_add(k->recipients, recipient,
                                               &err), 0);
    rotarr_secret_free(text);
}

void keypair_release(struct keypair *k)
{
    rotarr_age_identities_free(k->ids);
    rotarr_age_recipients_free(k->recipients);
}
