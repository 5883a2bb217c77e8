#include "rotarr/compat.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "rotarr/journal.h"
#include "journal_private.h"

static const char *const step_names[] = {
    [ROTARR_STEP_PENDING] = "pending",
    [ROTARR_STEP_SET] = "set",
    [ROTARR_STEP_TESTED] = "tested",
    [ROTARR_STEP_COMMITTED] = "committed",
    [ROTARR_STEP_DONE] = "done",
};

#define STEP_COUNT (sizeof(step_names) / sizeof(step_names[0]))

const char *rotarr_step_name(enum rotarr_step step)
{
    if ((size_t)step >= STEP_COUNT) {
        return "unknown";
    }
    return step_names[step];
}

int journal_step_from_name(const char *name, size_t len,
                           enum rotarr_step *step)
{
    size_t i;

    for (i = 0; i < STEP_COUNT; i++) {
        if (strlen(step_names[i]) == len &&
            memcmp(step_names[i], name, len) == 0) {
            *step = (enum rotarr_step)i;
            return 0;
        }
    }
    return -1;
}

static int is_key_byte(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
}

int journal_key_valid(const char *key, size_t len)
{
    size_t i;

    if (len == 0 || len > ROTARR_JOURNAL_KEY_MAX) {
        return 0;
    }
    for (i = 0; i < len; i++) {
        if (!is_key_byte((unsigned char)key[i])) {
            return 0;
        }
    }
    return 1;
}

static int check_key(const char *what, const char *key,
                     struct rotarr_error *err)
{
    if (!journal_key_valid(key, strnlen(key, ROTARR_JOURNAL_KEY_MAX + 1))) {
        return rotarr_error_set(err, ROTARR_EUSAGE,
                                "journal %s '%.*s' is invalid; use 1 to %d "
                                "characters of a-z, 0-9, '_', '.' and '-'",
                                what, ROTARR_JOURNAL_KEY_MAX, key,
                                ROTARR_JOURNAL_KEY_MAX);
    }
    return 0;
}

static char *dup_bytes(const char *bytes, size_t len)
{
    char *copy = malloc(len + 1);

    if (copy != NULL) {
        memcpy(copy, bytes, len);
        copy[len] = '\0';
    }
    return copy;
}

static void free_text(char *text)
{
    if (text != NULL) {
        sodium_memzero(text, strlen(text));
        free(text);
    }
}

struct rotarr_journal *rotarr_journal_new(const char *kind,
                                          struct rotarr_error *err)
{
    struct rotarr_journal *j;

    if (check_key("kind", kind, err) < 0) {
        return NULL;
    }
    j = calloc(1, sizeof(*j));
    if (j != NULL) {
        j->kind = dup_bytes(kind, strlen(kind));
    }
    if (j == NULL || j->kind == NULL) {
        free(j);
        rotarr_error_set(err, ROTARR_EFILE, "out of memory");
        return NULL;
    }
    j->step = ROTARR_STEP_PENDING;
    return j;
}

void rotarr_journal_free(struct rotarr_journal *j)
{
    size_t i;

    if (j == NULL) {
        return;
    }
    for (i = 0; i < j->nfields; i++) {
        free_text(j->fields[i].key);
        free_text(j->fields[i].value);
    }
    for (i = 0; i < j->nsecrets; i++) {
        free_text(j->secrets[i].which);
        rotarr_secret_free(j->secrets[i].secret);
    }
    free_text(j->kind);
    free(j);
}

const char *rotarr_journal_kind(const struct rotarr_journal *j)
{
    return j->kind;
}

void rotarr_journal_set_step(struct rotarr_journal *j, enum rotarr_step step)
{
    j->step = step;
}

enum rotarr_step rotarr_journal_step(const struct rotarr_journal *j)
{
    return j->step;
}

/* Returns the index of key among the fields, or -1. */
static long field_index(const struct rotarr_journal *j, const char *key)
{
    size_t i;

    for (i = 0; i < j->nfields; i++) {
        if (strcmp(j->fields[i].key, key) == 0) {
            return (long)i;
        }
    }
    return -1;
}

static long secret_index(const struct rotarr_journal *j, const char *which)
{
    size_t i;

    for (i = 0; i < j->nsecrets; i++) {
        if (strcmp(j->secrets[i].which, which) == 0) {
            return (long)i;
        }
    }
    return -1;
}

const char *rotarr_journal_get(const struct rotarr_journal *j,
                               const char *key)
{
    long i = field_index(j, key);

    return i >= 0 ? j->fields[i].value : NULL;
}

const struct rotarr_secret *rotarr_journal_secret(
    const struct rotarr_journal *j, const char *which)
{
    long i = secret_index(j, which);

    return i >= 0 ? j->secrets[i].secret : NULL;
}

int rotarr_journal_set(struct rotarr_journal *j, const char *key,
                       const char *value, struct rotarr_error *err)
{
    size_t len = strnlen(value, ROTARR_JOURNAL_VALUE_MAX + 1);
    struct journal_field *field = NULL;
    long i;
    char *copy;

    if (check_key("field", key, err) < 0) {
        return -1;
    }
    if (len > ROTARR_JOURNAL_VALUE_MAX) {
        return rotarr_error_set(err, ROTARR_EUSAGE,
                                "journal field '%s' is longer than %d bytes",
                                key, ROTARR_JOURNAL_VALUE_MAX);
    }
    i = field_index(j, key);
    if (i >= 0) {
        field = &j->fields[i];
    } else if (j->nfields == ROTARR_JOURNAL_FIELDS_MAX) {
        return rotarr_error_set(err, ROTARR_EUSAGE,
                                "journal already contains %d fields",
                                ROTARR_JOURNAL_FIELDS_MAX);
    }
    copy = dup_bytes(value, len);
    if (copy == NULL) {
        return rotarr_error_set(err, ROTARR_EFILE, "out of memory");
    }
    if (field == NULL) {
        field = &j->fields[j->nfields];
        field->key = dup_bytes(key, strlen(key));
        if (field->key == NULL) {
            free(copy);
            return rotarr_error_set(err, ROTARR_EFILE, "out of memory");
        }
        j->nfields++;
    }
    free_text(field->value);
    field->value = copy;
    return 0;
}

int journal_put_secret(struct rotarr_journal *j, const char *which,
                       struct rotarr_secret *secret, struct rotarr_error *err)
{
    long i = secret_index(j, which);
    struct journal_secret *entry = i >= 0 ? &j->secrets[i] : NULL;

    if (entry == NULL && j->nsecrets == ROTARR_JOURNAL_SECRETS_MAX) {
        rotarr_secret_free(secret);
        return rotarr_error_set(err, ROTARR_EUSAGE,
                                "journal already contains %d secrets",
                                ROTARR_JOURNAL_SECRETS_MAX);
    }
    if (entry == NULL) {
        entry = &j->secrets[j->nsecrets];
        entry->which = dup_bytes(which, strlen(which));
        if (entry->which == NULL) {
            rotarr_secret_free(secret);
            return rotarr_error_set(err, ROTARR_EFILE, "out of memory");
        }
        entry->secret = NULL;
        j->nsecrets++;
    }
    rotarr_secret_free(entry->secret);
    entry->secret = secret;
    return 0;
}

int rotarr_journal_set_secret(struct rotarr_journal *j, const char *which,
                              const struct rotarr_secret *s,
                              struct rotarr_error *err)
{
    struct rotarr_secret *copy;

    if (check_key("secret name", which, err) < 0) {
        return -1;
    }
    if (rotarr_secret_len(s) > ROTARR_JOURNAL_SECRET_MAX) {
        return rotarr_error_set(err, ROTARR_EUSAGE,
                                "journal secret '%s' is longer than %d bytes",
                                which, ROTARR_JOURNAL_SECRET_MAX);
    }
    copy = rotarr_secret_new(rotarr_secret_data(s), rotarr_secret_len(s),
                             err);
    if (copy == NULL) {
        return -1;
    }
    return journal_put_secret(j, which, copy, err);
}
