/*
 * Key parsing: age identity files and unencrypted OpenSSH private keys
 * (rotarr_age_identities_add_text), and recipient strings, "age1..." or
 * "ssh-ed25519 AAAA..." (rotarr_age_recipients_add).  Any input is either
 * accepted or rejected with ROTARR_EUSAGE; an accepted identity gives a
 * recipient that parses.  The first input byte chooses the parser.
 */
#include "rotarr/compat.h"

#include "fuzz.h"
#include "rotarr/age.h"

static void identities(const char *text, size_t len)
{
    struct rotarr_age_recipients *rcpts = NULL;
    struct rotarr_age_identities *ids;
    struct rotarr_buf out = ROTARR_BUF_INIT;
    struct rotarr_error err;
    char *line, *next;

    ids = rotarr_age_identities_new(&err);
    if (ids == NULL) {
        abort();
    }
    if (rotarr_age_identities_add_text(ids, text, len, "fuzz", &err) < 0) {
        if (err.code != ROTARR_EUSAGE) {
            abort();
        }
        goto out;
    }
    rcpts = rotarr_age_recipients_new(&err);
    if (rcpts == NULL ||
        rotarr_age_identities_recipients(ids, &out, &err) < 0 ||
        out.data == NULL) {
        abort();
    }
    for (line = out.data; *line != '\0'; line = next + 1) {
        next = strchr(line, '\n');
        if (next == NULL) {
            abort();
        }
        *next = '\0';
        if (rotarr_age_recipients_add(rcpts, line, &err) < 0) {
            abort();
        }
    }
out:
    rotarr_buf_release(&out);
    rotarr_age_recipients_free(rcpts);
    rotarr_age_identities_free(ids);
}

static void recipient(const char *text, size_t len)
{
    struct rotarr_age_recipients *rcpts;
    struct rotarr_error err;
    char *copy;

    copy = strndup(text, len);
    rcpts = rotarr_age_recipients_new(&err);
    if (copy == NULL || rcpts == NULL) {
        abort();
    }
    if (rotarr_age_recipients_add(rcpts, copy, &err) < 0 &&
        err.code != ROTARR_EUSAGE) {
        abort();
    }
    rotarr_age_recipients_free(rcpts);
    free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data + 1;

    if (size == 0) {
        return 0;
    }
    if (data[0] & 1) {
        recipient(text, size - 1);
    } else {
        identities(text, size - 1);
    }
    return 0;
}
