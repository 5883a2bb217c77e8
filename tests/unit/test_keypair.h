/*
 * A fresh X25519 key for unit tests that encrypt and decrypt: the
 * identity and its recipient.
 */
#ifndef ROTARR_TEST_KEYPAIR_H
#define ROTARR_TEST_KEYPAIR_H

#include "rotarr/age.h"

struct keypair {
    struct rotarr_age_identities *ids;
    struct rotarr_age_recipients *recipients;
};

/* Generates a key and fills k; fails the running test on error. */
void keypair_init(struct keypair *k);

void keypair_release(struct keypair *k);

#endif
